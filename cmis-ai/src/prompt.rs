//! The one internal request and answer shape every provider translates to and from.

use std::fmt::Write as _;

use cmis_core::{GenerateRequest, GenerationTask, Usage};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::failure::{FailureClass, ProviderError};
use crate::limits::{LengthUnit, PlatformRules};

/// The version of the prompt templates and output schema; part of every cache key, so changing
/// the prompt never serves answers written for the old one.
pub const TEMPLATE_VERSION: &str = "cmis-ai/prompt-v1";

/// A rendered prompt: what every provider sends, in its own wire format.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Prompt {
    /// The request it was rendered from.
    pub request: GenerateRequest,
    /// The rules of the target platform.
    pub rules: PlatformRules,
    /// The system instruction.
    pub system: String,
    /// The user message.
    pub user: String,
    /// How many drafts to ask for.
    pub drafts: u32,
}

impl Prompt {
    /// Renders the prompt for `request` under `rules`.
    pub fn render(request: &GenerateRequest, rules: PlatformRules) -> Self {
        let drafts = request.variants.max(1);
        let platform = request.platform;
        let unit = match rules.unit {
            LengthUnit::Chars => "characters",
            LengthUnit::Utf16 => "UTF-16 code units",
            LengthUnit::Utf8Bytes => "UTF-8 bytes (an emoji counts 4)",
        };
        let system = format!(
            "You write social media copy for {platform}. Answer only with JSON matching the given \
             schema: {{\"variants\":[{{\"text\":string,\"hashtags\":[string]}}]}}. Each text must \
             stay under {max} {unit} including its hashtags; hashtags are single words in \
             CamelCase without spaces, at most {tags} per variant. Never invent facts, prices, \
             dates or offers that the brief does not state.",
            max = rules.max_caption,
            tags = rules.max_hashtags,
        );
        let mut user = match request.task {
            GenerationTask::Caption => "Write a caption for this brief.".to_owned(),
            GenerationTask::Hashtags => {
                "Suggest hashtags for this brief; put a one-line summary in text.".to_owned()
            }
            GenerationTask::Variants => {
                format!("Write {drafts} different captions for this brief.")
            }
            GenerationTask::Rewrite { from } => {
                format!("Rewrite this caption, written for {from}, for {platform}.")
            }
            _ => "Write a caption for this brief.".to_owned(),
        };
        let _ = write!(user, "\nReturn exactly {drafts} variant(s).");
        if let Some(tone) = &request.tone {
            let _ = write!(user, "\nTone: {tone}.");
        }
        if let Some(lang) = &request.language {
            let _ = write!(user, "\nLanguage: {lang}.");
        }
        let _ = write!(user, "\nBrief:\n{}", request.brief.trim());
        Self {
            request: request.clone(),
            rules,
            system,
            user,
            drafts,
        }
    }

    /// The JSON Schema of the answer, in strict form (every property required, no extras), as
    /// JSON text: what a provider of your own sends as its structured-output schema.
    ///
    /// ```
    /// # mod cmis { pub mod ai { pub use cmis_ai::*; } }
    /// let schema = cmis::ai::Prompt::output_schema();
    /// assert!(schema.contains(r#""required":["variants"]"#));
    /// ```
    pub fn output_schema() -> String {
        Self::output_schema_value().to_string()
    }

    /// [`Prompt::output_schema`] as a JSON value, for the built-in providers' request bodies.
    pub(crate) fn output_schema_value() -> Value {
        json!({
            "type": "object",
            "properties": {
                "variants": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "text": { "type": "string" },
                            "hashtags": { "type": "array", "items": { "type": "string" } }
                        },
                        "required": ["text", "hashtags"],
                        "additionalProperties": false
                    }
                }
            },
            "required": ["variants"],
            "additionalProperties": false
        })
    }
}

/// One generated draft, before post-processing.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Draft {
    /// The caption text.
    pub text: String,
    /// The hashtags the model suggested, in any spelling.
    #[serde(default)]
    pub hashtags: Vec<String>,
}

impl Draft {
    /// A draft of `text` with `hashtags`.
    pub fn new(text: impl Into<String>, hashtags: Vec<String>) -> Self {
        Self {
            text: text.into(),
            hashtags,
        }
    }
}

/// A provider's answer, normalised.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Completion {
    /// The drafts, as many as the prompt asked for.
    pub drafts: Vec<Draft>,
    /// Tokens used.
    pub usage: Usage,
    /// The model that answered (as the provider reports it).
    pub model: String,
    /// The provider's request id.
    pub request_id: Option<String>,
}

impl Completion {
    /// A completion of `drafts` by `model`.
    pub fn new(drafts: Vec<Draft>, usage: Usage, model: impl Into<String>) -> Self {
        Self {
            drafts,
            usage,
            model: model.into(),
            request_id: None,
        }
    }
}

#[derive(Deserialize)]
struct Output {
    variants: Vec<Draft>,
}

/// Validates a model's JSON answer locally against [`Prompt::output_schema`]: it must parse,
/// hold at least `wanted` variants, and every text must be non-empty. One repair is made first:
/// a Markdown code fence around the JSON is removed.
pub fn parse_output(provider: &str, raw: &str, wanted: u32) -> Result<Vec<Draft>, ProviderError> {
    let trimmed = raw.trim();
    let unfenced = trimmed
        .strip_prefix("```json")
        .or_else(|| trimmed.strip_prefix("```"))
        .and_then(|s| s.trim_end().strip_suffix("```"))
        .unwrap_or(trimmed);
    let output: Output = serde_json::from_str(unfenced).map_err(|e| {
        ProviderError::new(
            provider,
            FailureClass::InvalidOutput,
            format!("the answer is not the requested JSON: {e}"),
        )
    })?;
    let wanted = usize::try_from(wanted).unwrap_or(usize::MAX);
    if output.variants.len() < wanted {
        return Err(ProviderError::new(
            provider,
            FailureClass::InvalidOutput,
            format!(
                "asked for {wanted} variant(s), got {}",
                output.variants.len()
            ),
        ));
    }
    if output.variants.iter().any(|d| d.text.trim().is_empty()) {
        return Err(ProviderError::new(
            provider,
            FailureClass::InvalidOutput,
            "a variant has an empty text",
        ));
    }
    Ok(output.variants.into_iter().take(wanted).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_validated() {
        let ok = parse_output(
            "t",
            "```json\n{\"variants\":[{\"text\":\"Hi\",\"hashtags\":[\"a\"]}]}\n```",
            1,
        )
        .unwrap();
        assert_eq!(ok, vec![Draft::new("Hi", vec!["a".into()])]);
        for bad in [
            "not json",
            "{\"variants\":[]}",
            "{\"variants\":[{\"text\":\"  \",\"hashtags\":[]}]}",
            "{\"variants\":[{\"hashtags\":[]}]}",
        ] {
            let err = parse_output("t", bad, 1).unwrap_err();
            assert_eq!(err.class(), FailureClass::InvalidOutput, "{bad}");
        }
    }
}
