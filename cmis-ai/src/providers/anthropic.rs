//! Anthropic Messages.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use cmis_core::{ExposeSecret, Result, SecretString, Usage};
use cmis_http::reqwest;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    DEFAULT_MAX_OUTPUT_TOKENS, DEFAULT_TIMEOUT, Provider, RawResponse, base_url, class_of_status,
    excerpt, execute, http_client, redact,
};
use crate::failure::{FailureClass, ProviderError};
use crate::prompt::{Completion, Prompt, parse_output};

const NAME: &str = "anthropic";
/// The API version cmis speaks.
const API_VERSION: &str = "2023-06-01";

/// A client of Anthropic's Messages API.
///
/// ```no_run
/// # mod cmis { pub use cmis_core::*; pub mod ai { pub use cmis_ai::*; } }
/// use cmis::ai::AnthropicClient;
/// use cmis::SecretString;
/// let claude = AnthropicClient::builder(SecretString::from("sk-ant-..."))
///     .model("claude-haiku-4-5")
///     .build()?;
/// # Ok::<(), cmis::Error>(())
/// ```
#[derive(Clone)]
pub struct AnthropicClient {
    http: reqwest::Client,
    endpoint: String,
    api_key: SecretString,
    model: String,
    max_output_tokens: u32,
    structured_output: bool,
}

impl fmt::Debug for AnthropicClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnthropicClient")
            .field("endpoint", &self.endpoint)
            .field("model", &self.model)
            .field("api_key", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// Builds an [`AnthropicClient`].
#[derive(Clone)]
#[must_use]
pub struct AnthropicClientBuilder {
    base_url: String,
    api_key: SecretString,
    model: String,
    timeout: Duration,
    max_output_tokens: u32,
    structured_output: bool,
}

impl fmt::Debug for AnthropicClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnthropicClientBuilder")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl AnthropicClient {
    /// A builder for `https://api.anthropic.com` with `api_key`, model `claude-haiku-4-5`.
    pub fn builder(api_key: SecretString) -> AnthropicClientBuilder {
        AnthropicClientBuilder {
            base_url: "https://api.anthropic.com".to_owned(),
            api_key,
            model: "claude-haiku-4-5".to_owned(),
            timeout: DEFAULT_TIMEOUT,
            max_output_tokens: DEFAULT_MAX_OUTPUT_TOKENS,
            structured_output: true,
        }
    }

    fn body(&self, prompt: &Prompt) -> Value {
        let mut body = json!({
            "model": self.model,
            "max_tokens": self.max_output_tokens,
            "system": prompt.system,
            "messages": [ { "role": "user", "content": prompt.user } ],
        });
        if let Some(t) = prompt.request.temperature {
            body["temperature"] = json!(t);
        }
        if self.structured_output {
            body["output_config"] = json!({
                "format": { "type": "json_schema", "schema": Prompt::output_schema_value() }
            });
        }
        body
    }
}

impl AnthropicClientBuilder {
    /// The base URL, without `/v1` (default `https://api.anthropic.com`).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// The model (default `claude-haiku-4-5`).
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = model.into();
        self
    }

    /// The timeout of one call (default 60 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The `max_tokens` sent (default 1024).
    pub fn max_output_tokens(mut self, tokens: u32) -> Self {
        self.max_output_tokens = tokens;
        self
    }

    /// Whether to send `output_config.format` (JSON schema; Claude 4.5 and later, default true).
    /// Turn it off for older models; the answer is still validated locally.
    pub fn structured_output(mut self, on: bool) -> Self {
        self.structured_output = on;
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<AnthropicClient> {
        Ok(AnthropicClient {
            http: http_client(self.timeout)?,
            endpoint: format!("{}/v1/messages", base_url(&self.base_url)?),
            api_key: self.api_key,
            model: self.model,
            max_output_tokens: self.max_output_tokens,
            structured_output: self.structured_output,
        })
    }
}

#[derive(Deserialize)]
struct MessageResponse {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    content: Vec<Block>,
    #[serde(default)]
    stop_reason: Option<String>,
    #[serde(default)]
    usage: WireUsage,
}

#[derive(Deserialize)]
struct Block {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    text: Option<String>,
}

#[derive(Deserialize, Default)]
struct WireUsage {
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
    #[serde(default)]
    cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    cache_read_input_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: WireError,
    #[serde(default)]
    request_id: Option<String>,
}

#[derive(Deserialize)]
struct WireError {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    message: String,
}

/// Anthropic's `error.type` first, the HTTP status second. Budget exhaustion comes as a 400
/// `invalid_request_error` whose message names the usage limit (litellm#37592), and a too-long
/// prompt as a 400 "prompt is too long".
fn classify(status: reqwest::StatusCode, error: Option<&WireError>) -> FailureClass {
    let Some(error) = error else {
        return class_of_status(status);
    };
    let message = error.message.to_lowercase();
    match error.kind.as_str() {
        "invalid_request_error"
            if message.contains("usage limit") || message.contains("credit balance") =>
        {
            FailureClass::QuotaExhausted
        }
        "invalid_request_error"
            if message.contains("prompt is too long") || message.contains("context window") =>
        {
            FailureClass::ContextTooLong
        }
        "invalid_request_error" => FailureClass::InvalidRequest,
        "authentication_error" | "permission_error" => FailureClass::Auth,
        "billing_error" => FailureClass::QuotaExhausted,
        "not_found_error" => FailureClass::ModelNotFound,
        "request_too_large" => FailureClass::ContextTooLong,
        "rate_limit_error" => FailureClass::RateLimited,
        "overloaded_error" => FailureClass::Overloaded,
        "timeout_error" => FailureClass::Timeout,
        "api_error" => FailureClass::ServerError,
        _ => class_of_status(status),
    }
}

fn failure(raw: &RawResponse, key: &SecretString) -> ProviderError {
    let envelope: Option<ErrorEnvelope> = serde_json::from_slice(&raw.body).ok();
    let error = envelope.as_ref().map(|e| &e.error);
    let class = classify(raw.status, error);
    let message = error.map_or_else(
        || "no error body".to_owned(),
        |e| excerpt(&redact(&e.message, Some(key))),
    );
    let request_id = raw
        .header("request-id")
        .or_else(|| envelope.as_ref().and_then(|e| e.request_id.clone()));
    ProviderError::new(
        NAME,
        class,
        format!("HTTP {}: {message}", raw.status.as_u16()),
    )
    .with_retry_after(raw.retry_after())
    .with_request_id(request_id)
}

#[async_trait]
impl Provider for AnthropicClient {
    fn name(&self) -> &str {
        NAME
    }

    fn model(&self) -> &str {
        &self.model
    }

    async fn complete(&self, prompt: &Prompt) -> Result<Completion, ProviderError> {
        let request = self
            .http
            .post(&self.endpoint)
            .header("x-api-key", self.api_key.expose_secret())
            .header("anthropic-version", API_VERSION)
            .json(&self.body(prompt));
        let raw = execute(NAME, request).await?;
        if !raw.status.is_success() {
            return Err(failure(&raw, &self.api_key));
        }
        let request_id = raw.header("request-id");
        let response: MessageResponse = raw.json(NAME)?;
        if response.stop_reason.as_deref() == Some("refusal") {
            return Err(ProviderError::new(
                NAME,
                FailureClass::ContentFiltered,
                "the model refused the request",
            )
            .with_request_id(request_id));
        }
        let text: String = response
            .content
            .iter()
            .filter(|b| b.kind == "text")
            .filter_map(|b| b.text.as_deref())
            .collect();
        let drafts = parse_output(NAME, &text, prompt.drafts)
            .map_err(|e| e.with_request_id(request_id.clone()))?;
        let wire = response.usage;
        let cache_read = wire.cache_read_input_tokens.unwrap_or(0);
        // Anthropic's input_tokens excludes cache reads and writes; cmis counts all input.
        let input = wire.input_tokens + wire.cache_creation_input_tokens.unwrap_or(0) + cache_read;
        let mut usage = Usage::new(input, wire.output_tokens);
        usage.cached_input_tokens = cache_read;
        let mut completion = Completion::new(
            drafts,
            usage,
            response.model.unwrap_or_else(|| self.model.clone()),
        );
        completion.request_id = request_id.or(response.id);
        Ok(completion)
    }
}
