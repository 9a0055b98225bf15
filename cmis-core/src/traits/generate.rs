//! Content generation: the trait `cmis-ai` implements.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{Platform, Result, TenantId};

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "task")]
#[non_exhaustive]
pub enum GenerationTask {
    /// A caption for the brief.
    Caption,
    /// Hashtag suggestions for the brief.
    Hashtags,
    /// Several alternative captions.
    Variants,
    /// The brief is an existing caption written for `from`; rewrite it for the request's platform.
    Rewrite {
        /// The platform the input was written for.
        from: Platform,
    },
}

/// Whether to use the cache for one request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CacheMode {
    /// Answer from the cache when possible, and store the answer.
    #[default]
    Use,
    /// Neither read nor write the cache.
    Bypass,
    /// Do not read the cache, but store the new answer.
    Refresh,
}

/// A request for generated content.
///
/// ```
/// # mod cmis { pub use cmis_core::*; }
/// use cmis::{GenerateRequest, GenerationTask, Platform, TenantId};
/// let req = GenerateRequest::new(TenantId::new("acme"), GenerationTask::Caption, Platform::Instagram, "autumn menu launch")
///     .with_tone("warm")
///     .with_variants(3);
/// assert_eq!(req.variants, 3);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GenerateRequest {
    /// The tenant asking (cache entries are never shared across tenants).
    pub tenant: TenantId,
    /// What to generate.
    pub task: GenerationTask,
    /// The platform the text is for (its limits apply).
    pub platform: Platform,
    /// The brief: a topic, or the text to rewrite.
    pub brief: String,
    /// The tone, such as `friendly` or `formal`.
    #[serde(default)]
    pub tone: Option<String>,
    /// A BCP 47 language tag, such as `en` or `pt-BR`.
    #[serde(default)]
    pub language: Option<String>,
    /// How many variants (at least 1).
    #[serde(default = "one")]
    pub variants: u32,
    /// Sampling temperature, when the caller wants to set it.
    #[serde(default)]
    pub temperature: Option<f32>,
    /// Cache use for this request.
    #[serde(default)]
    pub cache: CacheMode,
}

fn one() -> u32 {
    1
}

impl GenerateRequest {
    /// A request for `task` on `platform` about `brief`.
    pub fn new(
        tenant: impl Into<TenantId>,
        task: GenerationTask,
        platform: Platform,
        brief: impl Into<String>,
    ) -> Self {
        Self {
            tenant: tenant.into(),
            task,
            platform,
            brief: brief.into(),
            tone: None,
            language: None,
            variants: 1,
            temperature: None,
            cache: CacheMode::Use,
        }
    }

    /// Sets the tone.
    #[must_use]
    pub fn with_tone(mut self, tone: impl Into<String>) -> Self {
        self.tone = Some(tone.into());
        self
    }

    /// Sets the language.
    #[must_use]
    pub fn with_language(mut self, language: impl Into<String>) -> Self {
        self.language = Some(language.into());
        self
    }

    /// Sets the number of variants (at least 1).
    #[must_use]
    pub fn with_variants(mut self, n: u32) -> Self {
        self.variants = n.max(1);
        self
    }

    /// Sets the temperature.
    #[must_use]
    pub fn with_temperature(mut self, t: f32) -> Self {
        self.temperature = Some(t);
        self
    }

    /// Sets the cache mode.
    #[must_use]
    pub fn with_cache(mut self, mode: CacheMode) -> Self {
        self.cache = mode;
        self
    }
}

/// Token usage, normalised across providers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Usage {
    /// Input (prompt) tokens, cached ones included.
    pub input_tokens: u64,
    /// Input tokens served from the provider's prompt cache.
    pub cached_input_tokens: u64,
    /// Output tokens, reasoning included.
    pub output_tokens: u64,
    /// Reasoning ("thinking") tokens.
    pub reasoning_tokens: u64,
}

impl Usage {
    /// Usage of `input` and `output` tokens.
    pub fn new(input_tokens: u64, output_tokens: u64) -> Self {
        Self {
            input_tokens,
            output_tokens,
            ..Self::default()
        }
    }
}

/// Where a generated result came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Provenance {
    /// The provider: `openai`, `anthropic`, `gemini` or `offline`.
    pub provider: String,
    /// The model that answered.
    pub model: String,
    /// Calls made for this result, across providers.
    pub attempts: u32,
    /// Time taken.
    pub latency: Duration,
    /// Whether the result came from the cache.
    pub cached: bool,
    /// The provider's request id, if any.
    #[serde(default)]
    pub request_id: Option<String>,
    /// Tokens used.
    #[serde(default)]
    pub usage: Usage,
    /// Cost in US dollars, when a price is configured for the model.
    #[serde(default)]
    pub cost_usd: Option<f64>,
}

impl Provenance {
    /// Provenance for an answer of `model` from `provider`.
    pub fn new(provider: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            provider: provider.into(),
            model: model.into(),
            attempts: 1,
            latency: Duration::ZERO,
            cached: false,
            request_id: None,
            usage: Usage::default(),
            cost_usd: None,
        }
    }
}

/// Generated content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Generated {
    /// The main text (the first variant).
    pub text: String,
    /// Hashtags, each with its leading `#`.
    #[serde(default)]
    pub hashtags: Vec<String>,
    /// Every variant, the main text first.
    #[serde(default)]
    pub variants: Vec<String>,
    /// Where it came from.
    pub provenance: Provenance,
}

impl Generated {
    /// A result with `text` and `hashtags`, from `provenance`.
    pub fn new(text: impl Into<String>, hashtags: Vec<String>, provenance: Provenance) -> Self {
        let text = text.into();
        Self {
            variants: vec![text.clone()],
            text,
            hashtags,
            provenance,
        }
    }
}

/// Writes post copy. Implemented by `cmis-ai`'s providers, router and offline generator.
///
/// # Example: copy from your own service
///
/// A generator of your own (an in-house model, a template service) fits wherever cmis takes a
/// `ContentGenerator`. Its [`Provenance`] says where the text came from: never claim a model
/// that did not write it.
///
/// ```
/// # mod cmis { pub use cmis_core::*; }
/// use cmis::async_trait;
/// use cmis::{ContentGenerator, GenerateRequest, Generated, GenerationTask, Platform};
/// use cmis::{Provenance, Result, TenantId};
///
/// /// The brand team's approved templates.
/// struct Templates;
///
/// #[async_trait]
/// impl ContentGenerator for Templates {
///     async fn generate(&self, request: &GenerateRequest) -> Result<Generated> {
///         let text = format!("{} (from the Acme team)", request.brief.trim());
///         Ok(Generated::new(text, vec!["#acme".into()], Provenance::new("acme-templates", "v3")))
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<()> {
/// let request = GenerateRequest::new(
///     TenantId::new("acme"),
///     GenerationTask::Caption,
///     Platform::Instagram,
///     "New menu on Friday",
/// );
/// let generated = Templates.generate(&request).await?;
/// assert_eq!(generated.text, "New menu on Friday (from the Acme team)");
/// assert_eq!(generated.provenance.provider, "acme-templates");
/// # Ok(()) }
/// ```
#[async_trait]
pub trait ContentGenerator: Send + Sync {
    /// Generates content for `request`.
    async fn generate(&self, request: &GenerateRequest) -> Result<Generated>;
}
