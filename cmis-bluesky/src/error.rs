//! XRPC errors: the `{"error","message"}` envelope and the `RateLimit-*` headers, classified by
//! the error's name first (the same name comes with 400 or 401 depending on the server), then
//! by the HTTP status (docs/bluesky-api.md §6).

use std::time::Duration;

use cmis_core::{Error, Platform};
use cmis_http::{Call, MAX_RETRY_AFTER};
use serde::Deserialize;
use time::OffsetDateTime;

/// How long a rate-limited call waits when the answer says nothing about when to come back.
pub(crate) const RATE_LIMIT_FALLBACK: Duration = Duration::from_secs(300);

/// The error envelope.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Envelope {
    #[serde(default)]
    pub(crate) error: Option<String>,
    #[serde(default)]
    pub(crate) message: Option<String>,
}

impl Envelope {
    pub(crate) fn parse(body: &[u8]) -> Self {
        serde_json::from_slice(body).unwrap_or_default()
    }

    pub(crate) fn name(&self) -> &str {
        self.error.as_deref().unwrap_or("")
    }

    fn said(&self, status: u16) -> String {
        match (&self.error, &self.message) {
            (Some(e), Some(m)) => format!("{e}: {m}"),
            (Some(e), None) => e.clone(),
            (None, Some(m)) => m.clone(),
            (None, None) => format!("HTTP {status}"),
        }
    }
}

/// When to come back after a rate limit: `RateLimit-Reset` is an absolute Unix time in seconds
/// (not a wait: reading it as one gives 55 years), else `Retry-After` in seconds. Capped at
/// [`MAX_RETRY_AFTER`]; a reset already past means "now".
pub(crate) fn rate_limit_wait(
    reset: Option<&str>,
    retry_after: Option<Duration>,
    now: OffsetDateTime,
) -> Option<Duration> {
    let from_reset = reset.and_then(|r| r.trim().parse::<i64>().ok()).map(|at| {
        let secs = at.saturating_sub(now.unix_timestamp()).max(0);
        Duration::from_secs(secs.unsigned_abs()).min(MAX_RETRY_AFTER)
    });
    from_reset.or(retry_after)
}

/// Classifies a non-2xx answer to `call` (`what` names the endpoint, never a URL or a token).
pub(crate) fn classify(
    status: u16,
    envelope: &Envelope,
    wait: Option<Duration>,
    call: Call,
    what: &str,
) -> Error {
    let said = envelope.said(status);
    let msg = format!("Bluesky {what} failed: {said}");
    let err = match envelope.name() {
        "ExpiredToken" | "InvalidToken" => Error::auth(msg).token_rejected(),
        "AuthFactorTokenRequired" => Error::auth(msg).with_user_message(
            "Bluesky asked for an email sign-in code: connect the account with an app password \
             (Settings → Privacy and security → App passwords), not the account password",
        ),
        "AuthenticationRequired" => Error::auth(msg).token_rejected(),
        "AccountTakedown" | "AccountDeactivated" | "AccountSuspended" => Error::permission(msg)
            .with_user_message("the Bluesky account is taken down or deactivated"),
        "RateLimitExceeded" => {
            Error::rate_limited(msg).with_retry_after(wait.unwrap_or(RATE_LIMIT_FALLBACK))
        }
        "InvalidRequest" | "InvalidSwap" | "BlobTooLarge" | "RecordNotFound" | "InvalidHandle" => {
            Error::rejected(msg)
        }
        _ => match status {
            429 => Error::rate_limited(msg).with_retry_after(wait.unwrap_or(RATE_LIMIT_FALLBACK)),
            401 => Error::auth(msg).token_rejected(),
            403 => Error::permission(msg),
            // A server error after a write was sent: the record may exist.
            500..=599 if call == Call::Mutation => Error::unknown_outcome(msg),
            500..=599 | 408 => Error::transient(msg),
            // A definite refusal: nothing was written.
            _ => Error::rejected(msg),
        },
    };
    let err = err.with_platform(Platform::Bluesky);
    match envelope.error.as_deref() {
        Some(name) if !name.is_empty() => err.with_platform_code(name),
        _ => err,
    }
}

#[cfg(test)]
mod tests {
    use cmis_core::ErrorKind;

    use super::*;

    fn env(name: &str) -> Envelope {
        Envelope {
            error: Some(name.to_owned()),
            message: Some("m".to_owned()),
        }
    }

    #[test]
    fn the_name_decides_before_the_status() {
        for (name, status, kind, rejected) in [
            ("ExpiredToken", 400, ErrorKind::Auth, true),
            ("InvalidToken", 400, ErrorKind::Auth, true),
            ("InvalidToken", 401, ErrorKind::Auth, true),
            ("AuthFactorTokenRequired", 401, ErrorKind::Auth, false),
            ("AccountTakedown", 401, ErrorKind::Permission, false),
            ("RateLimitExceeded", 429, ErrorKind::RateLimited, false),
            ("InvalidRequest", 400, ErrorKind::Rejected, false),
            ("BlobTooLarge", 400, ErrorKind::Rejected, false),
            ("InternalServerError", 500, ErrorKind::UnknownOutcome, false),
            ("", 502, ErrorKind::UnknownOutcome, false),
            ("Whatever", 404, ErrorKind::Rejected, false),
        ] {
            let e = classify(status, &env(name), None, Call::Mutation, "createRecord");
            assert_eq!(e.kind(), kind, "{name} {status}");
            assert_eq!(e.is_token_rejected(), rejected, "{name} {status}");
        }
        let read = classify(
            500,
            &env("InternalServerError"),
            None,
            Call::Read,
            "getRecord",
        );
        assert_eq!(read.kind(), ErrorKind::Transient);
    }

    #[test]
    fn rate_limit_reset_is_an_epoch_time_not_a_wait() {
        let now = OffsetDateTime::from_unix_timestamp(1_796_371_200).unwrap();
        assert_eq!(
            rate_limit_wait(Some("1796374800"), None, now),
            Some(Duration::from_secs(3600))
        );
        // Past resets mean now; absurd ones are capped; garbage falls back to Retry-After.
        assert_eq!(rate_limit_wait(Some("1"), None, now), Some(Duration::ZERO));
        assert_eq!(
            rate_limit_wait(Some("99999999999"), None, now),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(
            rate_limit_wait(Some("soon"), Some(Duration::from_secs(7)), now),
            Some(Duration::from_secs(7))
        );
    }
}
