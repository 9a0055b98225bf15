//! OpenAI-compatible Chat Completions: OpenAI itself, Ollama's `/v1`, vLLM, llama.cpp server.

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

const NAME: &str = "openai";

/// A client of an OpenAI-compatible Chat Completions endpoint.
///
/// ```no_run
/// # mod cmis { pub use cmis_core::*; pub mod ai { pub use cmis_ai::*; } }
/// use cmis::ai::OpenAiClient;
/// use cmis::SecretString;
/// let openai = OpenAiClient::builder()
///     .api_key(SecretString::from("sk-..."))
///     .model("gpt-4o-mini")
///     .build()?;
/// // Ollama: no key, another base URL and model.
/// let ollama = OpenAiClient::builder()
///     .base_url("http://localhost:11434")
///     .model("llama3.2")
///     .name("ollama")
///     .build()?;
/// # Ok::<(), cmis::Error>(())
/// ```
#[derive(Clone)]
pub struct OpenAiClient {
    http: reqwest::Client,
    endpoint: String,
    api_key: Option<SecretString>,
    model: String,
    name: String,
    max_output_tokens: u32,
    structured_output: bool,
}

impl fmt::Debug for OpenAiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiClient")
            .field("endpoint", &self.endpoint)
            .field("model", &self.model)
            .field("name", &self.name)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

/// Builds an [`OpenAiClient`].
#[derive(Clone)]
#[must_use]
pub struct OpenAiClientBuilder {
    base_url: String,
    path: String,
    api_key: Option<SecretString>,
    model: String,
    name: String,
    timeout: Duration,
    max_output_tokens: u32,
    structured_output: bool,
}

impl fmt::Debug for OpenAiClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiClientBuilder")
            .field("base_url", &self.base_url)
            .field("path", &self.path)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

impl OpenAiClient {
    /// A builder for `https://api.openai.com`, model `gpt-4o-mini`, no key, 60 s timeout.
    pub fn builder() -> OpenAiClientBuilder {
        OpenAiClientBuilder {
            base_url: "https://api.openai.com".to_owned(),
            path: "/v1/chat/completions".to_owned(),
            api_key: None,
            model: "gpt-4o-mini".to_owned(),
            name: NAME.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            max_output_tokens: DEFAULT_MAX_OUTPUT_TOKENS,
            structured_output: true,
        }
    }

    fn body(&self, prompt: &Prompt) -> Value {
        let mut body = json!({
            "model": self.model,
            "messages": [
                { "role": "system", "content": prompt.system },
                { "role": "user", "content": prompt.user },
            ],
            "max_completion_tokens": self.max_output_tokens,
        });
        if let Some(t) = prompt.request.temperature {
            body["temperature"] = json!(t);
        }
        if self.structured_output {
            body["response_format"] = json!({
                "type": "json_schema",
                "json_schema": {
                    "name": "cmis_generation",
                    "schema": Prompt::output_schema_value(),
                    "strict": true,
                },
            });
        }
        body
    }
}

impl OpenAiClientBuilder {
    /// The server's base URL, without `/v1` (default `https://api.openai.com`).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// The path of the Chat Completions endpoint (default `/v1/chat/completions`).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// The API key, sent as `Authorization: Bearer`. Local servers may need none.
    pub fn api_key(mut self, key: SecretString) -> Self {
        self.api_key = Some(key);
        self
    }

    /// The model (default `gpt-4o-mini`).
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = model.into();
        self
    }

    /// The provider name in provenance and prices (default `openai`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The timeout of one call (default 60 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The `max_completion_tokens` sent (default 1024).
    pub fn max_output_tokens(mut self, tokens: u32) -> Self {
        self.max_output_tokens = tokens;
        self
    }

    /// Whether to send `response_format: json_schema` (default true). Turn it off for servers
    /// that reject it; the answer is still validated locally.
    pub fn structured_output(mut self, on: bool) -> Self {
        self.structured_output = on;
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<OpenAiClient> {
        let path = if self.path.starts_with('/') {
            self.path
        } else {
            format!("/{}", self.path)
        };
        Ok(OpenAiClient {
            http: http_client(self.timeout)?,
            endpoint: format!("{}{path}", base_url(&self.base_url)?),
            api_key: self.api_key,
            model: self.model,
            name: self.name,
            max_output_tokens: self.max_output_tokens,
            structured_output: self.structured_output,
        })
    }
}

#[derive(Deserialize)]
struct ChatResponse {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct Choice {
    message: Message,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    refusal: Option<String>,
}

#[derive(Deserialize, Default)]
struct WireUsage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
    #[serde(default)]
    prompt_tokens_details: Option<PromptDetails>,
    #[serde(default)]
    completion_tokens_details: Option<CompletionDetails>,
}

#[derive(Deserialize)]
struct PromptDetails {
    #[serde(default)]
    cached_tokens: u64,
}

#[derive(Deserialize)]
struct CompletionDetails {
    #[serde(default)]
    reasoning_tokens: u64,
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: WireError,
}

#[derive(Deserialize)]
struct WireError {
    #[serde(default)]
    message: String,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    code: Option<Value>,
}

/// OpenAI's body code first, the HTTP status second. A 429 is two different things:
/// `rate_limit_exceeded` (wait) and `insufficient_quota` (out of credit: go elsewhere).
fn classify(status: reqwest::StatusCode, error: Option<&WireError>) -> FailureClass {
    let code = error
        .and_then(|e| e.code.as_ref())
        .and_then(Value::as_str)
        .unwrap_or_default();
    let kind = error.and_then(|e| e.kind.as_deref()).unwrap_or_default();
    match (code, kind) {
        ("insufficient_quota", _) | (_, "insufficient_quota") => FailureClass::QuotaExhausted,
        ("context_length_exceeded" | "string_above_max_length", _) => FailureClass::ContextTooLong,
        ("content_filter" | "content_policy_violation", _) => FailureClass::ContentFiltered,
        ("invalid_api_key", _) | (_, "authentication_error") => FailureClass::Auth,
        ("model_not_found", _) => FailureClass::ModelNotFound,
        ("rate_limit_exceeded", _) => FailureClass::RateLimited,
        _ => class_of_status(status),
    }
}

fn failure(name: &str, raw: &RawResponse, key: Option<&SecretString>) -> ProviderError {
    let envelope: Option<ErrorEnvelope> = serde_json::from_slice(&raw.body).ok();
    let error = envelope.as_ref().map(|e| &e.error);
    let class = classify(raw.status, error);
    let message = error.map_or_else(
        || "no error body".to_owned(),
        |e| excerpt(&redact(&e.message, key)),
    );
    ProviderError::new(
        name,
        class,
        format!("HTTP {}: {message}", raw.status.as_u16()),
    )
    .with_retry_after(raw.retry_after())
    .with_request_id(raw.header("x-request-id"))
}

#[async_trait]
impl Provider for OpenAiClient {
    fn name(&self) -> &str {
        &self.name
    }

    fn model(&self) -> &str {
        &self.model
    }

    async fn complete(&self, prompt: &Prompt) -> Result<Completion, ProviderError> {
        let mut request = self.http.post(&self.endpoint).json(&self.body(prompt));
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key.expose_secret());
        }
        let raw = execute(&self.name, request).await?;
        if !raw.status.is_success() {
            return Err(failure(&self.name, &raw, self.api_key.as_ref()));
        }
        let request_id = raw.header("x-request-id");
        let response: ChatResponse = raw.json(&self.name)?;
        let choice = response.choices.into_iter().next().ok_or_else(|| {
            ProviderError::new(&self.name, FailureClass::InvalidOutput, "no choices")
        })?;
        if choice.finish_reason.as_deref() == Some("content_filter")
            || choice.message.refusal.is_some()
        {
            return Err(ProviderError::new(
                &self.name,
                FailureClass::ContentFiltered,
                choice
                    .message
                    .refusal
                    .map_or_else(|| "content filtered".to_owned(), |r| excerpt(&r)),
            )
            .with_request_id(request_id));
        }
        let content = choice.message.content.unwrap_or_default();
        let drafts = parse_output(&self.name, &content, prompt.drafts)
            .map_err(|e| e.with_request_id(request_id.clone()))?;
        let wire = response.usage.unwrap_or_default();
        let mut usage = Usage::new(wire.prompt_tokens, wire.completion_tokens);
        usage.cached_input_tokens = wire.prompt_tokens_details.map_or(0, |d| d.cached_tokens);
        usage.reasoning_tokens = wire
            .completion_tokens_details
            .map_or(0, |d| d.reasoning_tokens);
        let mut completion = Completion::new(
            drafts,
            usage,
            response.model.unwrap_or_else(|| self.model.clone()),
        );
        completion.request_id = request_id.or(response.id);
        Ok(completion)
    }
}
