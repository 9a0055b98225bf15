//! The provider clients: thin, hand-written, with no retries of their own (the router owns the
//! one retry loop).

mod anthropic;
mod gemini;
mod openai;

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use cmis_core::{Error, Result, url::Url};
use cmis_http::reqwest::{self, StatusCode, header::HeaderMap};
use cmis_http::{Call, MAX_AI_RESPONSE_BYTES, read_answer, send};
use serde::de::DeserializeOwned;

use crate::failure::{FailureClass, ProviderError};
use crate::prompt::{Completion, Prompt};

pub use anthropic::{AnthropicClient, AnthropicClientBuilder};
pub use gemini::{GeminiClient, GeminiClientBuilder};
pub use openai::{OpenAiClient, OpenAiClientBuilder};

/// One model at one provider. The router calls [`complete`](Provider::complete) once per
/// attempt; implementations must not retry on their own.
#[async_trait]
pub trait Provider: Send + Sync + fmt::Debug {
    /// The provider's name in provenance: `openai`, `anthropic`, `gemini`, `offline`, …
    fn name(&self) -> &str;
    /// The configured model.
    fn model(&self) -> &str;
    /// Whether this provider works without the network and never fails for an outage (the
    /// offline generator). The router does not count it as "another provider that can answer"
    /// when deciding to wait for a rate limit instead of failing over.
    fn is_offline(&self) -> bool {
        false
    }
    /// Asks the model once.
    async fn complete(&self, prompt: &Prompt) -> Result<Completion, ProviderError>;
}

/// The default timeout of one provider call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// The default output token budget.
pub const DEFAULT_MAX_OUTPUT_TOKENS: u32 = 1024;

/// Validates a base URL and removes its trailing slash.
pub(crate) fn base_url(raw: &str) -> Result<String> {
    let url = Url::parse(raw)
        .map_err(|e| Error::invalid_input(format!("invalid provider base URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.query().is_some() {
        return Err(Error::invalid_input(
            "a provider base URL must be http(s) without a query",
        ));
    }
    Ok(raw.trim_end_matches('/').to_owned())
}

/// Builds the HTTP client with cmis's transport settings and `timeout`.
pub(crate) fn http_client(timeout: Duration) -> Result<reqwest::Client> {
    cmis_http::client_builder()?
        .timeout(timeout)
        .build()
        .map_err(cmis_http::build_error)
}

/// A raw HTTP answer.
pub(crate) struct RawResponse {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

impl RawResponse {
    pub(crate) fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)?
            .to_str()
            .ok()
            .map(|s| s.trim().to_owned())
    }

    /// Parses the body of a successful answer.
    pub(crate) fn json<T: DeserializeOwned>(&self, provider: &str) -> Result<T, ProviderError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            ProviderError::new(
                provider,
                FailureClass::InvalidOutput,
                format!("unexpected response body: {e}"),
            )
        })
    }

    /// The wait the provider asked for: `retry-after-ms` (OpenAI) or `retry-after` in seconds.
    pub(crate) fn retry_after(&self) -> Option<Duration> {
        self.header("retry-after-ms")
            .and_then(|v| v.parse::<u64>().ok())
            .map(Duration::from_millis)
            .or_else(|| cmis_http::retry_after(&self.headers))
    }
}

/// Sends one request. Generation changes nothing at the provider, so a lost answer is a plain
/// failure that may be asked again, never an unknown outcome.
pub(crate) async fn execute(
    provider: &str,
    request: reqwest::RequestBuilder,
) -> Result<RawResponse, ProviderError> {
    let response = send(request, Call::Read)
        .await
        .map_err(|e| ProviderError::transport(provider, e))?;
    let status = response.status();
    let headers = response.headers().clone();
    // The provider's name prefixes the message already.
    let body = read_answer(
        response,
        Call::Read,
        "the completion call",
        MAX_AI_RESPONSE_BYTES,
    )
    .await
    .map_err(|e| ProviderError::transport(provider, e))?;
    Ok(RawResponse {
        status,
        headers,
        body,
    })
}

/// The class of an HTTP status when the body says nothing more specific.
pub(crate) fn class_of_status(status: StatusCode) -> FailureClass {
    match status.as_u16() {
        400 | 405 | 415 | 422 => FailureClass::InvalidRequest,
        401 | 403 => FailureClass::Auth,
        402 => FailureClass::QuotaExhausted,
        404 => FailureClass::ModelNotFound,
        408 | 504 => FailureClass::Timeout,
        413 => FailureClass::ContextTooLong,
        429 => FailureClass::RateLimited,
        503 | 529 => FailureClass::Overloaded,
        _ => FailureClass::ServerError,
    }
}

/// A provider's error message with the API key removed, should the provider echo it.
pub(crate) fn redact(message: &str, key: Option<&cmis_core::SecretString>) -> String {
    use cmis_core::ExposeSecret;
    match key.map(ExposeSecret::expose_secret) {
        Some(k) if !k.is_empty() => message.replace(k, "<redacted>"),
        _ => message.to_owned(),
    }
}

/// A short, secret-free excerpt of an error message for error texts.
pub(crate) fn excerpt(message: &str) -> String {
    const MAX: usize = 300;
    if message.chars().count() <= MAX {
        message.to_owned()
    } else {
        let head: String = message.chars().take(MAX).collect();
        format!("{head}…")
    }
}
