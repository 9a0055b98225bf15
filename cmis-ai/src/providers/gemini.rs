//! Gemini `generateContent`.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use cmis_core::{Error, ExposeSecret, Result, SecretString, Usage};
use cmis_http::reqwest;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    DEFAULT_MAX_OUTPUT_TOKENS, DEFAULT_TIMEOUT, Provider, RawResponse, base_url, class_of_status,
    excerpt, execute, http_client, redact,
};
use crate::failure::{FailureClass, ProviderError};
use crate::prompt::{Completion, Prompt, parse_output};

const NAME: &str = "gemini";

/// A client of the Gemini API's `generateContent`. The key travels in the `x-goog-api-key`
/// header, never in the URL.
///
/// ```no_run
/// # mod cmis { pub use cmis_core::*; pub mod ai { pub use cmis_ai::*; } }
/// use cmis::ai::GeminiClient;
/// use cmis::SecretString;
/// let gemini = GeminiClient::builder(SecretString::from("AIza..."))
///     .model("gemini-2.5-flash")
///     .build()?;
/// # Ok::<(), cmis::Error>(())
/// ```
#[derive(Clone)]
pub struct GeminiClient {
    http: reqwest::Client,
    endpoint: String,
    api_key: SecretString,
    model: String,
    max_output_tokens: u32,
    structured_output: bool,
}

impl fmt::Debug for GeminiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeminiClient")
            .field("endpoint", &self.endpoint)
            .field("model", &self.model)
            .field("api_key", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// Builds a [`GeminiClient`].
#[derive(Clone)]
#[must_use]
pub struct GeminiClientBuilder {
    base_url: String,
    api_key: SecretString,
    model: String,
    timeout: Duration,
    max_output_tokens: u32,
    structured_output: bool,
}

impl fmt::Debug for GeminiClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeminiClientBuilder")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl GeminiClient {
    /// A builder for `https://generativelanguage.googleapis.com` with `api_key`, model
    /// `gemini-2.5-flash`.
    pub fn builder(api_key: SecretString) -> GeminiClientBuilder {
        GeminiClientBuilder {
            base_url: "https://generativelanguage.googleapis.com".to_owned(),
            api_key,
            model: "gemini-2.5-flash".to_owned(),
            timeout: DEFAULT_TIMEOUT,
            max_output_tokens: DEFAULT_MAX_OUTPUT_TOKENS,
            structured_output: true,
        }
    }

    /// The answer schema in Gemini's `Schema` dialect (upper-case types, no
    /// `additionalProperties`).
    fn response_schema() -> Value {
        json!({
            "type": "OBJECT",
            "properties": {
                "variants": {
                    "type": "ARRAY",
                    "items": {
                        "type": "OBJECT",
                        "properties": {
                            "text": { "type": "STRING" },
                            "hashtags": { "type": "ARRAY", "items": { "type": "STRING" } }
                        },
                        "required": ["text", "hashtags"]
                    }
                }
            },
            "required": ["variants"]
        })
    }

    fn body(&self, prompt: &Prompt) -> Value {
        let mut config = json!({ "maxOutputTokens": self.max_output_tokens });
        if let Some(t) = prompt.request.temperature {
            config["temperature"] = json!(t);
        }
        if self.structured_output {
            config["responseMimeType"] = json!("application/json");
            config["responseSchema"] = Self::response_schema();
        }
        json!({
            "systemInstruction": { "parts": [ { "text": prompt.system } ] },
            "contents": [ { "role": "user", "parts": [ { "text": prompt.user } ] } ],
            "generationConfig": config,
        })
    }
}

impl GeminiClientBuilder {
    /// The base URL, without `/v1beta` (default `https://generativelanguage.googleapis.com`).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// The model (default `gemini-2.5-flash`).
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = model.into();
        self
    }

    /// The timeout of one call (default 60 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The `maxOutputTokens` sent (default 1024).
    pub fn max_output_tokens(mut self, tokens: u32) -> Self {
        self.max_output_tokens = tokens;
        self
    }

    /// Whether to send `responseMimeType` and `responseSchema` (default true).
    pub fn structured_output(mut self, on: bool) -> Self {
        self.structured_output = on;
        self
    }

    /// Builds the client; a model name that is not a plain path segment is
    /// [`ErrorKind::InvalidInput`](cmis_core::ErrorKind::InvalidInput).
    pub fn build(self) -> Result<GeminiClient> {
        let plain = !self.model.is_empty()
            && self
                .model
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'));
        if !plain {
            return Err(Error::invalid_input(format!(
                "invalid Gemini model name {:?}",
                self.model
            )));
        }
        Ok(GeminiClient {
            http: http_client(self.timeout)?,
            endpoint: format!(
                "{}/v1beta/models/{}:generateContent",
                base_url(&self.base_url)?,
                self.model
            ),
            api_key: self.api_key,
            model: self.model,
            max_output_tokens: self.max_output_tokens,
            structured_output: self.structured_output,
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GenerateResponse {
    #[serde(default)]
    candidates: Vec<Candidate>,
    #[serde(default)]
    prompt_feedback: Option<PromptFeedback>,
    #[serde(default)]
    usage_metadata: WireUsage,
    #[serde(default)]
    model_version: Option<String>,
    #[serde(default)]
    response_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Candidate {
    #[serde(default)]
    content: Option<Content>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Content {
    #[serde(default)]
    parts: Vec<Part>,
}

#[derive(Deserialize)]
struct Part {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    thought: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PromptFeedback {
    #[serde(default)]
    block_reason: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct WireUsage {
    #[serde(default)]
    prompt_token_count: u64,
    #[serde(default)]
    candidates_token_count: u64,
    #[serde(default)]
    cached_content_token_count: u64,
    #[serde(default)]
    thoughts_token_count: u64,
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: WireError,
}

#[derive(Deserialize)]
struct WireError {
    #[serde(default)]
    message: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    details: Vec<Value>,
}

impl WireError {
    fn detail(&self, type_suffix: &str) -> impl Iterator<Item = &Value> {
        self.details.iter().filter(move |d| {
            d.get("@type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.ends_with(type_suffix))
        })
    }

    /// `RetryInfo.retryDelay`, a protobuf duration such as `"22s"` or `"1.5s"`.
    fn retry_delay(&self) -> Option<Duration> {
        let raw = self
            .detail("google.rpc.RetryInfo")
            .find_map(|d| d.get("retryDelay")?.as_str())?;
        let secs: f64 = raw.trim().strip_suffix('s')?.parse().ok()?;
        (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(86_400.0)))
    }

    /// Whether a `QuotaFailure` names a per-day quota: retrying today is pointless.
    fn daily_quota(&self) -> bool {
        self.detail("google.rpc.QuotaFailure")
            .filter_map(|d| d.get("violations")?.as_array())
            .flatten()
            .filter_map(|v| v.get("quotaId")?.as_str())
            .any(|id| id.contains("PerDay"))
    }

    fn reason(&self) -> Option<&str> {
        self.detail("google.rpc.ErrorInfo")
            .find_map(|d| d.get("reason")?.as_str())
    }
}

/// The google.rpc `status` and details first, the HTTP status second.
fn classify(status: reqwest::StatusCode, error: Option<&WireError>) -> FailureClass {
    let Some(error) = error else {
        return class_of_status(status);
    };
    if matches!(error.reason(), Some("API_KEY_INVALID" | "API_KEY_EXPIRED")) {
        return FailureClass::Auth;
    }
    let message = error.message.to_lowercase();
    match error.status.as_str() {
        "RESOURCE_EXHAUSTED" if error.daily_quota() => FailureClass::QuotaExhausted,
        "RESOURCE_EXHAUSTED" => FailureClass::RateLimited,
        "INVALID_ARGUMENT" if message.contains("token") && message.contains("exceed") => {
            FailureClass::ContextTooLong
        }
        "INVALID_ARGUMENT" => FailureClass::InvalidRequest,
        // Billing not enabled, or the API unavailable where the key's project is.
        "FAILED_PRECONDITION" => FailureClass::QuotaExhausted,
        "UNAUTHENTICATED" | "PERMISSION_DENIED" => FailureClass::Auth,
        "NOT_FOUND" => FailureClass::ModelNotFound,
        "UNAVAILABLE" => FailureClass::Overloaded,
        "DEADLINE_EXCEEDED" => FailureClass::Timeout,
        "INTERNAL" => FailureClass::ServerError,
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
    let retry_after = error.and_then(WireError::retry_delay).or(raw.retry_after());
    ProviderError::new(
        NAME,
        class,
        format!("HTTP {}: {message}", raw.status.as_u16()),
    )
    .with_retry_after(retry_after)
}

/// Finish reasons that mean the safety system stopped the answer.
const BLOCKED: &[&str] = &[
    "SAFETY",
    "RECITATION",
    "BLOCKLIST",
    "PROHIBITED_CONTENT",
    "SPII",
    "IMAGE_SAFETY",
];

#[async_trait]
impl Provider for GeminiClient {
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
            .header("x-goog-api-key", self.api_key.expose_secret())
            .json(&self.body(prompt));
        let raw = execute(NAME, request).await?;
        if !raw.status.is_success() {
            return Err(failure(&raw, &self.api_key));
        }
        let response: GenerateResponse = raw.json(NAME)?;
        let request_id = response.response_id.clone();
        // Google returns all candidates or none; none means the prompt itself was blocked.
        let Some(candidate) = response.candidates.into_iter().next() else {
            let reason = response
                .prompt_feedback
                .and_then(|f| f.block_reason)
                .unwrap_or_else(|| "no candidates".to_owned());
            return Err(ProviderError::new(
                NAME,
                FailureClass::ContentFiltered,
                format!("prompt blocked: {reason}"),
            )
            .with_request_id(request_id));
        };
        if let Some(reason) = candidate.finish_reason.as_deref()
            && BLOCKED.contains(&reason)
        {
            return Err(ProviderError::new(
                NAME,
                FailureClass::ContentFiltered,
                format!("answer blocked: {reason}"),
            )
            .with_request_id(request_id));
        }
        let text: String = candidate
            .content
            .map(|c| c.parts)
            .unwrap_or_default()
            .into_iter()
            .filter(|p| p.thought != Some(true))
            .filter_map(|p| p.text)
            .collect();
        let drafts = parse_output(NAME, &text, prompt.drafts)
            .map_err(|e| e.with_request_id(request_id.clone()))?;
        let wire = response.usage_metadata;
        // Thought tokens are billed as output.
        let mut usage = Usage::new(
            wire.prompt_token_count,
            wire.candidates_token_count + wire.thoughts_token_count,
        );
        usage.cached_input_tokens = wire.cached_content_token_count;
        usage.reasoning_tokens = wire.thoughts_token_count;
        let mut completion = Completion::new(
            drafts,
            usage,
            response.model_version.unwrap_or_else(|| self.model.clone()),
        );
        completion.request_id = request_id;
        Ok(completion)
    }
}
