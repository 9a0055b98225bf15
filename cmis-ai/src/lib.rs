//! # cmis-ai
//!
//! Writes post copy with real AI providers behind a cache, a fallback router and a cost ledger,
//! ending in a deterministic offline generator that needs no network and no key.
//!
//! - **Providers** ([`OpenAiClient`], [`AnthropicClient`], [`GeminiClient`]): thin clients of
//!   OpenAI-compatible Chat Completions (OpenAI, Ollama `/v1`, vLLM, llama.cpp), Anthropic
//!   Messages and Gemini `generateContent`. Structured JSON output is requested where the
//!   provider supports it and always validated locally; usage is normalised (input, cached
//!   input, output, reasoning tokens). They never retry on their own.
//! - **Failures** are classified ([`FailureClass`]) into fixed actions: rate limits honour
//!   Retry-After (capped at 30 s) or fail over at once when another provider can answer;
//!   quota, billing and auth failures cool the provider down for an hour; an invalid request
//!   never fails over.
//! - **The [`Router`]**: an ordered chain, a circuit breaker per provider, one retry loop, the
//!   [`OfflineGenerator`] as the last link.
//! - **The cache**: an exact-match [`CacheKey`] (SHA-256 over the normalised request, not over
//!   the concrete provider), an in-memory moka cache that coalesces concurrent identical
//!   requests into one provider call, errors never cached, per-request bypass and refresh
//!   ([`CacheMode`](cmis_core::CacheMode)), and a [`CacheStore`] trait for a persistent second level.
//! - **The [`CostLedger`]**: prices per model as configuration ([`PriceTable`]), cost per call,
//!   savings from cache hits.
//! - **Post-processing**: captions fitted to the platform limit at a sentence or word boundary
//!   (UTF-16 units for TikTok), hashtags as `#CamelCase`, de-duplicated and capped ([`Limits`]).
//!
//! ## Example
//!
//! ```no_run
//! # mod cmis { pub use cmis_core::*; pub mod ai { pub use cmis_ai::*; } }
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), cmis::Error> {
//! use cmis::ai::{AiGenerator, AnthropicClient, ModelPrice, OpenAiClient, PriceTable};
//! use cmis::{ContentGenerator, GenerateRequest, GenerationTask, Platform, SecretString, TenantId};
//!
//! let generator = AiGenerator::builder()
//!     .provider(OpenAiClient::builder().api_key(SecretString::from("sk-...")).build()?)
//!     .provider(AnthropicClient::builder(SecretString::from("sk-ant-...")).build()?)
//!     .prices(PriceTable::new().with_price("gpt-4o-mini", ModelPrice::new(0.15, 0.60)))
//!     .build()?; // the offline generator is always appended
//! let request = GenerateRequest::new(TenantId::new("acme"), GenerationTask::Caption, Platform::Instagram,
//!     "our autumn menu launches on Friday");
//! let out = generator.generate(&request).await?;
//! println!("{} {:?} via {}", out.text, out.hashtags, out.provenance.provider);
//! # Ok(()) }
//! ```
//!
//! ## Features
//!
//! `cmis-ai` has no optional features.

#![cfg_attr(docsrs, feature(doc_cfg))]
mod breaker;
mod cache;
mod cost;
mod failure;
mod generator;
mod keywords;
mod limits;
mod offline;
mod postprocess;
mod prompt;
mod providers;
mod request;
mod router;

pub use cache::{CacheKey, CacheStore};
pub use cost::{CostLedger, LedgerSnapshot, ModelPrice, ModelTotals, PriceTable};
pub use failure::{FailureClass, ProviderError};
pub use generator::{AiGenerator, AiGeneratorBuilder};
pub use keywords::{Keyphrase, keyphrases};
pub use limits::{LengthUnit, Limits, PlatformRules};
pub use offline::{OFFLINE_MODEL, OFFLINE_PROVIDER, OfflineGenerator};
pub use postprocess::{fit_caption, normalize_hashtag, normalize_hashtags};
pub use prompt::{Completion, Draft, Prompt, TEMPLATE_VERSION, parse_output};
pub use providers::{
    AnthropicClient, AnthropicClientBuilder, DEFAULT_MAX_OUTPUT_TOKENS, DEFAULT_TIMEOUT,
    GeminiClient, GeminiClientBuilder, OpenAiClient, OpenAiClientBuilder, Provider,
};
pub use request::{MAX_BRIEF_CHARS, MAX_VARIANTS};
pub use router::{Routed, Router, RouterConfig};
