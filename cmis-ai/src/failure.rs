//! Provider failures, classified into the classes the router acts on.

use std::fmt;
use std::time::Duration;

use cmis_core::{Error, ErrorKind};

/// What went wrong at a provider, in the terms the router decides on.
///
/// | class | router action |
/// |---|---|
/// | `RateLimited` | fail over at once when another provider can answer; otherwise wait the Retry-After (capped) and retry; the provider cools down for the Retry-After |
/// | `Overloaded` | like `RateLimited` (Anthropic 529, 503s); counts towards the circuit breaker |
/// | `QuotaExhausted` | long cooldown, fail over (OpenAI `insufficient_quota`, Anthropic billing, Gemini daily quota) |
/// | `Auth` | long cooldown, fail over (bad or revoked key, no permission) |
/// | `ModelNotFound` | long cooldown, fail over (the configured model does not exist there) |
/// | `InvalidRequest` | **never** fail over: the request itself is wrong; the error is returned |
/// | `ContextTooLong` | fail over (another provider may have a larger context window) |
/// | `ContentFiltered` | fail over, no cooldown (the provider's moderation refused this brief) |
/// | `Timeout` | counts towards the circuit breaker, fail over |
/// | `ServerError` | counts towards the circuit breaker, fail over |
/// | `InvalidOutput` | the answer did not match the requested JSON shape: fail over |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FailureClass {
    /// Too many requests (HTTP 429 that is not a quota problem).
    RateLimited,
    /// The provider is out of capacity (Anthropic 529 `overloaded_error`, HTTP 503).
    Overloaded,
    /// Credits, budget or a daily quota are used up.
    QuotaExhausted,
    /// The key is missing, invalid, revoked or lacks permission.
    Auth,
    /// The configured model does not exist at this provider.
    ModelNotFound,
    /// The request is malformed; no provider would accept it.
    InvalidRequest,
    /// The prompt exceeds the model's context window.
    ContextTooLong,
    /// The provider's safety system blocked the prompt or the answer.
    ContentFiltered,
    /// The provider did not answer in time.
    Timeout,
    /// A 5xx or transport failure.
    ServerError,
    /// The answer did not have the requested JSON shape.
    InvalidOutput,
}

impl FailureClass {
    /// The class's stable `snake_case` name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::RateLimited => "rate_limited",
            Self::Overloaded => "overloaded",
            Self::QuotaExhausted => "quota_exhausted",
            Self::Auth => "auth",
            Self::ModelNotFound => "model_not_found",
            Self::InvalidRequest => "invalid_request",
            Self::ContextTooLong => "context_too_long",
            Self::ContentFiltered => "content_filtered",
            Self::Timeout => "timeout",
            Self::ServerError => "server_error",
            Self::InvalidOutput => "invalid_output",
        }
    }

    /// The [`ErrorKind`] a failure of this class surfaces as.
    pub const fn error_kind(self) -> ErrorKind {
        match self {
            Self::RateLimited => ErrorKind::RateLimited,
            Self::Overloaded | Self::Timeout | Self::ServerError | Self::InvalidOutput => {
                ErrorKind::Transient
            }
            Self::QuotaExhausted => ErrorKind::Quota,
            Self::Auth => ErrorKind::Auth,
            Self::ModelNotFound => ErrorKind::Unsupported,
            Self::InvalidRequest | Self::ContextTooLong => ErrorKind::InvalidInput,
            Self::ContentFiltered => ErrorKind::Rejected,
        }
    }

    /// Whether the router may move on to the next provider after this failure.
    pub const fn fails_over(self) -> bool {
        !matches!(self, Self::InvalidRequest)
    }

    /// Whether the same provider may be tried again after a wait (only when nobody else can
    /// answer).
    pub const fn retry_same(self) -> bool {
        matches!(
            self,
            Self::RateLimited | Self::Overloaded | Self::ServerError | Self::Timeout
        )
    }

    /// Whether this failure puts the provider on its long cooldown at once.
    pub const fn long_cooldown(self) -> bool {
        matches!(
            self,
            Self::QuotaExhausted | Self::Auth | Self::ModelNotFound
        )
    }

    /// Whether this failure counts towards the provider's circuit breaker.
    pub const fn counts_as_outage(self) -> bool {
        matches!(
            self,
            Self::RateLimited | Self::Overloaded | Self::Timeout | Self::ServerError
        )
    }
}

impl fmt::Display for FailureClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed provider call: its [`FailureClass`] and the [`Error`] it becomes.
#[derive(Debug)]
pub struct ProviderError {
    class: FailureClass,
    error: Error,
}

impl ProviderError {
    /// A failure of `class` at `provider`, described by `message` (which must hold no secret).
    pub fn new(provider: &str, class: FailureClass, message: impl fmt::Display) -> Self {
        Self {
            class,
            error: Error::new(class.error_kind(), format!("{provider}: {message}"))
                .with_platform_code(class.as_str()),
        }
    }

    /// Wraps an error from the transport (connection refused, timeout, body cut off).
    pub fn transport(provider: &str, error: Error) -> Self {
        let class = if error.message().contains("timed out") {
            FailureClass::Timeout
        } else if error.kind() == ErrorKind::InvalidInput {
            FailureClass::InvalidRequest
        } else {
            FailureClass::ServerError
        };
        // Generation has no side effect worth reconciling: a lost answer is simply asked again.
        let kind = class.error_kind();
        Self {
            class,
            error: Error::new(kind, format!("{provider}: {}", error.message()))
                .with_platform_code(class.as_str())
                .with_source(error),
        }
    }

    /// Adds how long the provider asked to wait.
    #[must_use]
    pub fn with_retry_after(mut self, wait: Option<Duration>) -> Self {
        if let Some(wait) = wait {
            self.error = self.error.with_retry_after(wait);
        }
        self
    }

    /// Adds the provider's request id.
    #[must_use]
    pub fn with_request_id(mut self, id: Option<String>) -> Self {
        if let Some(id) = id {
            self.error = self.error.with_trace_id(id);
        }
        self
    }

    /// The class the router acts on.
    pub fn class(&self) -> FailureClass {
        self.class
    }

    /// How long the provider asked to wait, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        self.error.retry_after()
    }

    /// The error to hand to the caller.
    pub fn error(&self) -> &Error {
        &self.error
    }

    /// The error to hand to the caller, by value.
    pub fn into_error(self) -> Error {
        self.error
    }
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.class, self.error)
    }
}

impl std::error::Error for ProviderError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}
