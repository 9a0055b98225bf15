//! The error taxonomy shared by every cmis crate.
//!
//! Every failure is one [`Error`] with an [`ErrorKind`] that says what the caller should *do*:
//! fix the input, re-authorise, wait, reconcile, or give up. Connectors classify the platform's
//! own error body into a kind and keep the platform's code, sub-code, trace id and user-facing
//! message so that support tickets can be filed with the platform.
//!
//! No dependency's error type appears in the public API: underlying errors are kept as an opaque
//! [`std::error::Error::source`].

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use crate::Platform;

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What kind of failure an [`Error`] is, and therefore what to do about it.
///
/// | kind | meaning | what to do |
/// |---|---|---|
/// | `InvalidInput` | the request can never succeed as written | fix the input |
/// | `Auth` | the token is invalid, expired or revoked | re-authorise the account |
/// | `Permission` | the token lacks a scope or role | grant the permission |
/// | `RateLimited` | too many calls; see [`Error::retry_after`] | wait, then retry |
/// | `Quota` | a daily or account quota is used up | wait for the window to reset |
/// | `Transient` | a temporary failure; nothing was done | retry with backoff |
/// | `Rejected` | the platform refused the content | change the content |
/// | `UnknownOutcome` | the request was sent but its result is unknown | reconcile, never resend blindly |
/// | `Unsupported` | cmis (or the platform) cannot do this | use another path |
/// | `Internal` | a bug or broken invariant, in cmis or a store | report it |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request can never succeed as written; nothing was sent.
    InvalidInput,
    /// The credential is invalid, expired or revoked: the account must be re-authorised.
    Auth,
    /// The credential is valid but lacks a permission (scope, page role, app review).
    Permission,
    /// Too many requests; [`Error::retry_after`] says how long to wait when the platform said.
    RateLimited,
    /// A quota (for example Instagram's 24-hour publishing limit) is used up.
    Quota,
    /// A temporary failure where the platform is known not to have acted.
    Transient,
    /// The platform refused the content itself (policy, format, duplicate, spam).
    Rejected,
    /// A mutating request was sent and its outcome is unknown (timeout, 5xx after sending).
    /// It must be reconciled with a read-only check and never be repeated blindly.
    UnknownOutcome,
    /// The operation is not supported by cmis or by the platform.
    Unsupported,
    /// A bug, a broken invariant or a failing dependency such as a store.
    Internal,
}

impl ErrorKind {
    /// The kind's stable `snake_case` name, as used in logs, audit records and JSON output.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidInput => "invalid_input",
            Self::Auth => "auth",
            Self::Permission => "permission",
            Self::RateLimited => "rate_limited",
            Self::Quota => "quota",
            Self::Transient => "transient",
            Self::Rejected => "rejected",
            Self::UnknownOutcome => "unknown_outcome",
            Self::Unsupported => "unsupported",
            Self::Internal => "internal",
        }
    }

    /// Whether an error of this kind may be retried automatically after a delay.
    ///
    /// Only [`RateLimited`](Self::RateLimited) and [`Transient`](Self::Transient) are: in both
    /// cases the platform is known not to have acted. [`UnknownOutcome`](Self::UnknownOutcome)
    /// is never retryable.
    pub const fn is_retryable(self) -> bool {
        matches!(self, Self::RateLimited | Self::Transient)
    }

    /// Every kind, in the order of the table above.
    pub const ALL: [ErrorKind; 10] = [
        Self::InvalidInput,
        Self::Auth,
        Self::Permission,
        Self::RateLimited,
        Self::Quota,
        Self::Transient,
        Self::Rejected,
        Self::UnknownOutcome,
        Self::Unsupported,
        Self::Internal,
    ];
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not one of [`ErrorKind`]'s [`as_str`](ErrorKind::as_str) names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownErrorKind(String);

impl UnknownErrorKind {
    /// The name that was not recognised.
    pub fn name(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UnknownErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown error kind {:?}", self.0)
    }
}

impl StdError for UnknownErrorKind {}

/// Parses the stable name written by [`ErrorKind::as_str`] (and by `Display`):
///
/// ```
/// # mod cmis { pub use cmis_core::*; }
/// use cmis::ErrorKind;
/// assert_eq!("rate_limited".parse::<ErrorKind>(), Ok(ErrorKind::RateLimited));
/// assert!("sideways".parse::<ErrorKind>().is_err());
/// ```
impl std::str::FromStr for ErrorKind {
    type Err = UnknownErrorKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownErrorKind(s.to_owned()))
    }
}

impl serde::Serialize for ErrorKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for ErrorKind {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// One rule that an input breaks, reported by validation before any network call.
///
/// Validation reports every violation at once, so a user can fix a post in one go.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct Violation {
    /// What breaks the rule: a file name, `media[2]`, or a field such as `text`.
    pub subject: String,
    /// The rule's stable name, such as `instagram.image.max_bytes`.
    pub rule: String,
    /// The value found, such as `9 437 184 bytes`.
    pub actual: String,
    /// What is allowed, such as `at most 8 388 608 bytes`.
    pub allowed: String,
}

impl Violation {
    /// A violation of `rule` by `subject`.
    pub fn new(
        subject: impl Into<String>,
        rule: impl Into<String>,
        actual: impl Into<String>,
        allowed: impl Into<String>,
    ) -> Self {
        Self {
            subject: subject.into(),
            rule: rule.into(),
            actual: actual.into(),
            allowed: allowed.into(),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} is {}, allowed {}",
            self.subject, self.rule, self.actual, self.allowed
        )
    }
}

/// The error type of every cmis crate.
///
/// Build one with a constructor named after its kind ([`Error::invalid_input`],
/// [`Error::transient`], …) and add what the platform said with the `with_*` methods.
///
/// The message must never contain a secret: connectors build it from the platform's error
/// code and message, never from request URLs or headers.
///
/// ```
/// # mod cmis { pub use cmis_core::*; }
/// use std::time::Duration;
/// use cmis::{Error, ErrorKind, Platform};
///
/// let err = Error::rate_limited("application request limit reached")
///     .with_platform(Platform::Facebook)
///     .with_platform_code("4")
///     .with_trace_id("AbCdEf")
///     .with_retry_after(Duration::from_secs(300));
/// assert_eq!(err.kind(), ErrorKind::RateLimited);
/// assert!(err.is_retryable());
/// assert_eq!(err.retry_after(), Some(Duration::from_secs(300)));
/// assert_eq!(err.platform_code(), Some("4"));
/// ```
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    message: String,
    platform: Option<Platform>,
    platform_code: Option<String>,
    platform_subcode: Option<String>,
    trace_id: Option<String>,
    user_message: Option<String>,
    retry_after: Option<Duration>,
    discards_checkpoint: bool,
    token_rejected: bool,
    violations: Vec<Violation>,
    source: Option<Box<dyn StdError + Send + Sync + 'static>>,
}

impl Error {
    /// A new error of `kind` with a human-readable `message` (which must hold no secret).
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            inner: Box::new(Inner {
                kind,
                message: message.into(),
                platform: None,
                platform_code: None,
                platform_subcode: None,
                trace_id: None,
                user_message: None,
                retry_after: None,
                discards_checkpoint: false,
                token_rejected: false,
                violations: Vec::new(),
                source: None,
            }),
        }
    }

    /// An [`ErrorKind::InvalidInput`] error.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }

    /// An [`ErrorKind::InvalidInput`] error listing every violated rule.
    ///
    /// The message names each violation, so printing the error is enough for a user.
    pub fn violations(violations: Vec<Violation>) -> Self {
        let mut message = format!("{} rule(s) violated", violations.len());
        for v in &violations {
            message.push_str("; ");
            message.push_str(&v.to_string());
        }
        let mut err = Self::new(ErrorKind::InvalidInput, message);
        err.inner.violations = violations;
        err
    }

    /// An [`ErrorKind::Auth`] error: the account must be re-authorised.
    pub fn auth(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Auth, message)
    }

    /// An [`ErrorKind::Permission`] error.
    pub fn permission(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Permission, message)
    }

    /// An [`ErrorKind::RateLimited`] error; add the wait with [`Error::with_retry_after`].
    pub fn rate_limited(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::RateLimited, message)
    }

    /// An [`ErrorKind::Quota`] error.
    pub fn quota(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Quota, message)
    }

    /// An [`ErrorKind::Transient`] error: retryable, nothing was done.
    pub fn transient(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Transient, message)
    }

    /// An [`ErrorKind::Rejected`] error: the platform refused the content.
    pub fn rejected(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Rejected, message)
    }

    /// An [`ErrorKind::UnknownOutcome`] error: reconcile before doing anything else.
    pub fn unknown_outcome(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::UnknownOutcome, message)
    }

    /// An [`ErrorKind::Unsupported`] error.
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unsupported, message)
    }

    /// An [`ErrorKind::Internal`] error.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    /// Sets the platform that returned the error.
    #[must_use]
    pub fn with_platform(mut self, platform: Platform) -> Self {
        self.inner.platform = Some(platform);
        self
    }

    /// Sets the platform's own error code (Meta `code`, TikTok `error.code`, …).
    #[must_use]
    pub fn with_platform_code(mut self, code: impl Into<String>) -> Self {
        self.inner.platform_code = Some(code.into());
        self
    }

    /// Sets the platform's error sub-code (Meta `error_subcode`).
    #[must_use]
    pub fn with_platform_subcode(mut self, subcode: impl Into<String>) -> Self {
        self.inner.platform_subcode = Some(subcode.into());
        self
    }

    /// Sets the platform's trace id (Meta `fbtrace_id`, TikTok `log_id`, a provider request id).
    #[must_use]
    pub fn with_trace_id(mut self, trace_id: impl Into<String>) -> Self {
        self.inner.trace_id = Some(trace_id.into());
        self
    }

    /// Sets the message the platform meant for the end user (Meta `error_user_msg`).
    #[must_use]
    pub fn with_user_message(mut self, message: impl Into<String>) -> Self {
        self.inner.user_message = Some(message.into());
        self
    }

    /// Sets how long to wait before trying again, as the platform said.
    #[must_use]
    pub fn with_retry_after(mut self, retry_after: Duration) -> Self {
        self.inner.retry_after = Some(retry_after);
        self
    }

    /// Marks that the platform no longer has what the publish's checkpoint points to (the
    /// upload expired, the platform's publish failed for good, the container expired): running
    /// the post again must publish it from the start, not resume the checkpoint. A connector
    /// sets it only when the platform *says* its object is dead; an error about the call
    /// itself (a timeout, a 503 while polling) must keep the checkpoint, or a retry could
    /// publish twice.
    #[must_use]
    pub fn discarding_checkpoint(mut self) -> Self {
        self.inner.discards_checkpoint = true;
        self
    }

    /// Marks that the platform refused the access token itself (expired, revoked, malformed),
    /// as opposed to a missing permission or any other failure: a
    /// [`TokenSession`](crate::TokenSession) then renews the token once and repeats the call.
    /// A connector sets it only on the platform's own "invalid token" answers.
    #[must_use]
    pub fn token_rejected(mut self) -> Self {
        self.inner.token_rejected = true;
        self
    }

    /// Sets the underlying cause. It must not print a secret in its `Display` or `Debug`.
    #[must_use]
    pub fn with_source(mut self, source: impl StdError + Send + Sync + 'static) -> Self {
        self.inner.source = Some(Box::new(source));
        self
    }

    /// Changes the kind, keeping everything else (for example a transport error that turns
    /// out to be an [`ErrorKind::UnknownOutcome`] because the request was a mutation).
    #[must_use]
    pub fn with_kind(mut self, kind: ErrorKind) -> Self {
        self.inner.kind = kind;
        self
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The human-readable message, without the platform details.
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// Whether retrying after a delay may succeed; see [`ErrorKind::is_retryable`].
    pub fn is_retryable(&self) -> bool {
        self.inner.kind.is_retryable()
    }

    /// How long the platform asked to wait, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        self.inner.retry_after
    }

    /// Whether the publish's checkpoint is dead (see [`discarding_checkpoint`](Self::discarding_checkpoint)).
    pub fn discards_checkpoint(&self) -> bool {
        self.inner.discards_checkpoint
    }

    /// Whether the platform refused the access token (see [`token_rejected`](Self::token_rejected)).
    pub fn is_token_rejected(&self) -> bool {
        self.inner.token_rejected
    }

    /// The platform that returned the error, if any.
    pub fn platform(&self) -> Option<&Platform> {
        self.inner.platform.as_ref()
    }

    /// The platform's own error code, if any.
    pub fn platform_code(&self) -> Option<&str> {
        self.inner.platform_code.as_deref()
    }

    /// The platform's error sub-code, if any.
    pub fn platform_subcode(&self) -> Option<&str> {
        self.inner.platform_subcode.as_deref()
    }

    /// The platform's trace id for support requests, if any.
    pub fn trace_id(&self) -> Option<&str> {
        self.inner.trace_id.as_deref()
    }

    /// The message the platform meant for the end user, if any.
    pub fn user_message(&self) -> Option<&str> {
        self.inner.user_message.as_deref()
    }

    /// The rules an input broke, for [`ErrorKind::InvalidInput`] errors from validation.
    pub fn violation_list(&self) -> &[Violation] {
        &self.inner.violations
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        write!(f, "{}", i.kind)?;
        if let Some(p) = &i.platform {
            write!(f, " ({p}")?;
            if let Some(code) = &i.platform_code {
                write!(f, " code {code}")?;
                if let Some(sub) = &i.platform_subcode {
                    write!(f, "/{sub}")?;
                }
            }
            f.write_str(")")?;
        } else if let Some(code) = &i.platform_code {
            write!(f, " (code {code})")?;
        }
        write!(f, ": {}", i.message)?;
        if let Some(user) = &i.user_message {
            write!(f, " — {user}")?;
        }
        if let Some(after) = i.retry_after {
            write!(f, " (retry after {}s)", after.as_secs())?;
        }
        if let Some(trace) = &i.trace_id {
            write!(f, " [trace {trace}]")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        let mut d = f.debug_struct("Error");
        d.field("kind", &i.kind).field("message", &i.message);
        if let Some(p) = &i.platform {
            d.field("platform", p);
        }
        if let Some(c) = &i.platform_code {
            d.field("platform_code", c);
        }
        if let Some(c) = &i.platform_subcode {
            d.field("platform_subcode", c);
        }
        if let Some(t) = &i.trace_id {
            d.field("trace_id", t);
        }
        if let Some(u) = &i.user_message {
            d.field("user_message", u);
        }
        if let Some(r) = &i.retry_after {
            d.field("retry_after", r);
        }
        if i.token_rejected {
            d.field("token_rejected", &true);
        }
        if i.discards_checkpoint {
            d.field("discards_checkpoint", &true);
        }
        if !i.violations.is_empty() {
            d.field("violations", &i.violations);
        }
        if let Some(s) = &i.source {
            d.field("source", s);
        }
        d.finish()
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|s| s as &(dyn StdError + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_rate_limited_and_transient_are_retryable() {
        use ErrorKind::*;
        let retryable: Vec<_> = ErrorKind::ALL
            .into_iter()
            .filter(|k| k.is_retryable())
            .collect();
        assert_eq!(retryable, vec![RateLimited, Transient]);
    }

    #[test]
    fn every_kind_parses_back_from_its_name_and_is_listed_once() {
        // An exhaustive match: a new kind does not compile until it is placed here, and then the
        // assertion below fails until it is in `ALL` too.
        let position = |k: ErrorKind| match k {
            ErrorKind::InvalidInput => 0,
            ErrorKind::Auth => 1,
            ErrorKind::Permission => 2,
            ErrorKind::RateLimited => 3,
            ErrorKind::Quota => 4,
            ErrorKind::Transient => 5,
            ErrorKind::Rejected => 6,
            ErrorKind::UnknownOutcome => 7,
            ErrorKind::Unsupported => 8,
            ErrorKind::Internal => 9,
        };
        for (i, kind) in ErrorKind::ALL.into_iter().enumerate() {
            assert_eq!(position(kind), i);
            assert_eq!(kind.as_str().parse::<ErrorKind>(), Ok(kind));
            assert_eq!(kind.to_string().parse::<ErrorKind>(), Ok(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert_eq!(serde_json::from_str::<ErrorKind>(&json).unwrap(), kind);
        }
        let err = "Auth".parse::<ErrorKind>().unwrap_err();
        assert_eq!(err.name(), "Auth");
        assert!(serde_json::from_str::<ErrorKind>("\"sideways\"").is_err());
    }

    #[test]
    fn display_carries_platform_details() {
        let err = Error::auth("Error validating access token")
            .with_platform(Platform::Facebook)
            .with_platform_code("190")
            .with_platform_subcode("463")
            .with_trace_id("A1b2")
            .with_user_message("Session expired");
        let text = err.to_string();
        assert_eq!(
            text,
            "auth (facebook code 190/463): Error validating access token — Session expired [trace A1b2]"
        );
    }

    #[test]
    fn violations_are_all_listed() {
        let err = Error::violations(vec![
            Violation::new("a.png", "instagram.image.format", "PNG", "JPEG"),
            Violation::new(
                "text",
                "instagram.caption.max_chars",
                "2300",
                "at most 2200",
            ),
        ]);
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert_eq!(err.violation_list().len(), 2);
        assert!(
            err.to_string()
                .contains("a.png: instagram.image.format is PNG")
        );
        assert!(
            err.to_string()
                .contains("text: instagram.caption.max_chars")
        );
    }

    #[test]
    fn source_is_kept() {
        let io = std::io::Error::other("disk on fire");
        let err = Error::internal("store failed").with_source(io);
        assert_eq!(
            err.source().map(|s| s.to_string()).as_deref(),
            Some("disk on fire")
        );
    }
}
