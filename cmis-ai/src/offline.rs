//! The offline generator: no network, no key, deterministic. The last link of every chain.

use async_trait::async_trait;
use cmis_core::{
    ContentGenerator, GenerateRequest, Generated, GenerationTask, Provenance, Result, Usage,
};

use crate::failure::ProviderError;
use crate::keywords::keyphrases;
use crate::limits::Limits;
use crate::postprocess::finish;
use crate::prompt::{Completion, Draft, Prompt};
use crate::providers::Provider;
use crate::request::validate;

/// The provider name in provenance.
pub const OFFLINE_PROVIDER: &str = "offline";
/// The "model" name in provenance: the template set and the keyword extractor.
pub const OFFLINE_MODEL: &str = "offline-rake-v1";

/// Writes copy from the brief alone: the brief itself, tidied into a sentence, framed by simple
/// templates over its own keyphrases (extracted with RAKE), and hashtags from the same
/// keyphrases. It adds nothing the brief does not say, costs nothing and always answers the same.
///
/// ```
/// # mod cmis { pub use cmis_core::*; pub mod ai { pub use cmis_ai::*; } }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), cmis::Error> {
/// use cmis::ai::OfflineGenerator;
/// use cmis::{ContentGenerator, GenerateRequest, GenerationTask, Platform, TenantId};
/// let req = GenerateRequest::new(TenantId::new("acme"), GenerationTask::Caption, Platform::Instagram,
///     "our autumn menu launches friday with pumpkin soup");
/// let out = OfflineGenerator::new().generate(&req).await?;
/// assert_eq!(out.text, "Our autumn menu launches friday with pumpkin soup.");
/// assert_eq!(out.provenance.provider, "offline");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct OfflineGenerator;

impl OfflineGenerator {
    /// The offline generator.
    pub fn new() -> Self {
        Self
    }

    /// The drafts for `prompt`, deterministically.
    pub fn drafts(prompt: &Prompt) -> Vec<Draft> {
        let (body, mut tags) = match prompt.request.task {
            GenerationTask::Rewrite { .. } => split_hashtags(&prompt.request.brief),
            _ => (collapse(&prompt.request.brief), Vec::new()),
        };
        let phrases: Vec<String> = keyphrases(&body, 8).iter().map(|k| k.text()).collect();
        tags.extend(phrases.iter().cloned());
        let base = sentence(&body);
        let n = usize::try_from(prompt.drafts.max(1)).unwrap_or(1);
        (0..n)
            .map(|i| Draft::new(variant(&base, &phrases, i), tags.clone()))
            .collect()
    }
}

/// Variant `i`: the brief, then the brief framed by one of its own keyphrases or followed by a
/// generic call to action (which states no fact the brief does not).
fn variant(base: &str, phrases: &[String], i: usize) -> String {
    if i == 0 {
        return base.to_owned();
    }
    // A keyphrase the brief already starts with would only repeat it.
    let leads: Vec<String> = phrases
        .iter()
        .filter(|p| !base.to_lowercase().starts_with(&p.to_lowercase()))
        .map(|p| capitalise(p))
        .collect();
    let lead = (!leads.is_empty()).then(|| &leads[(i - 1) / 2 % leads.len()]);
    match ((i - 1) % 4, lead) {
        (0, Some(lead)) => format!("{lead}: {base}"),
        (2, Some(lead)) => format!("{lead} — {base}"),
        (0 | 1, _) => format!("{base} Tell us what you think in the comments."),
        _ => format!("{base} Save this post for later."),
    }
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Splits a caption into its text and its hashtags (wherever they stand).
fn split_hashtags(text: &str) -> (String, Vec<String>) {
    let mut words = Vec::new();
    let mut tags = Vec::new();
    for word in text.split_whitespace() {
        if word.starts_with('#') && word.len() > 1 {
            tags.push(word.to_owned());
        } else {
            words.push(word);
        }
    }
    (words.join(" "), tags)
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// The text as one tidy sentence: capitalised, ending in punctuation.
fn sentence(text: &str) -> String {
    let text = capitalise(text.trim());
    if text.is_empty()
        || text.ends_with(['.', '!', '?', '…'])
        || !text.chars().last().is_some_and(char::is_alphanumeric)
    {
        text
    } else {
        format!("{text}.")
    }
}

#[async_trait]
impl Provider for OfflineGenerator {
    fn name(&self) -> &str {
        OFFLINE_PROVIDER
    }

    fn model(&self) -> &str {
        OFFLINE_MODEL
    }

    fn is_offline(&self) -> bool {
        true
    }

    async fn complete(&self, prompt: &Prompt) -> std::result::Result<Completion, ProviderError> {
        Ok(Completion::new(
            Self::drafts(prompt),
            Usage::default(),
            OFFLINE_MODEL,
        ))
    }
}

#[async_trait]
impl ContentGenerator for OfflineGenerator {
    /// Generates under the default [`Limits`]; no cache (it costs nothing).
    async fn generate(&self, request: &GenerateRequest) -> Result<Generated> {
        let started = tokio::time::Instant::now();
        validate(request)?;
        let rules = Limits::default().rules(request.platform)?;
        let prompt = Prompt::render(request, rules);
        let (variants, hashtags) = finish(request.task, Self::drafts(&prompt), &rules);
        let mut provenance = Provenance::new(OFFLINE_PROVIDER, OFFLINE_MODEL);
        provenance.latency = started.elapsed();
        provenance.cost_usd = Some(0.0);
        let mut out = Generated::new(
            variants.first().cloned().unwrap_or_default(),
            hashtags,
            provenance,
        );
        out.variants = variants;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_are_tidied() {
        assert_eq!(sentence("hello world"), "Hello world.");
        assert_eq!(sentence("Big news!"), "Big news!");
        assert_eq!(sentence("see you 🎉"), "See you 🎉");
    }

    #[test]
    fn rewrite_keeps_existing_hashtags() {
        let (text, tags) = split_hashtags("New drop today #sneakers #fresh");
        assert_eq!(text, "New drop today");
        assert_eq!(tags, vec!["#sneakers", "#fresh"]);
    }
}
