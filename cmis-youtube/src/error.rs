//! Google API errors: the envelope `{"error":{"code","message","errors":[{"domain","reason",
//! "message"}],"status"}}`, every field optional, classified by `errors[0].reason` (and its
//! domain where a reason repeats), then by the HTTP status; never by the message
//! (`docs/youtube-api.md` §5).

use std::time::Duration;

use cmis_core::{Error, Platform, Result};
use cmis_http::{Call, MAX_RETRY_AFTER};
use serde::Deserialize;
use time::{OffsetDateTime, UtcOffset};

/// How long a rate-limited call waits when Google says nothing about when to come back.
pub(crate) const RATE_LIMIT_FALLBACK: Duration = Duration::from_secs(60);

/// The per-channel upload cap is over 24 hours ("try again in 24 hours").
pub(crate) const UPLOAD_LIMIT_WAIT: Duration = Duration::from_secs(24 * 60 * 60);

/// The user message of an account without a channel.
pub(crate) const NO_CHANNEL: &str = "the Google account has no YouTube channel: create one";

/// The zone whose midnight resets the project's daily quota.
const QUOTA_ZONE: &str = "America/Los_Angeles";

/// The error envelope. Every field is optional: YouTube-domain errors carry no `status`, older
/// bodies put `errors` first, proxies answer with HTML.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Envelope {
    #[serde(default)]
    error: Option<ErrorBody>,
}

#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    errors: Vec<ErrorItem>,
}

#[derive(Debug, Default, Deserialize)]
struct ErrorItem {
    #[serde(default)]
    domain: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

impl Envelope {
    pub(crate) fn parse(body: &[u8]) -> Self {
        serde_json::from_slice(body).unwrap_or_default()
    }

    fn first(&self) -> Option<&ErrorItem> {
        self.error.as_ref()?.errors.first()
    }

    /// `errors[0].reason`, or `""`.
    pub(crate) fn reason(&self) -> &str {
        self.first().and_then(|e| e.reason.as_deref()).unwrap_or("")
    }

    /// `errors[0].domain`, or `""`.
    pub(crate) fn domain(&self) -> &str {
        self.first().and_then(|e| e.domain.as_deref()).unwrap_or("")
    }

    /// What Google said, for the error message (never parsed).
    fn said(&self, status: u16) -> String {
        let body = self.error.as_ref();
        let message = body
            .and_then(|b| b.message.as_deref())
            .or_else(|| self.first().and_then(|e| e.message.as_deref()));
        let mut out = match message {
            Some(m) => m.to_owned(),
            None => format!("HTTP {status}"),
        };
        if !self.reason().is_empty() {
            out = format!("{} ({out})", self.reason());
        }
        if let Some(s) = body.and_then(|b| b.status.as_deref()) {
            out.push_str(&format!(" [{s}]"));
        }
        out
    }
}

/// The next midnight in `America/Los_Angeles` after `now`: when Google resets the project's
/// daily quota. Daylight saving time is followed (midnight is 08:00 UTC in winter, 07:00 UTC in
/// summer).
///
/// ```
/// # mod cmis { pub use cmis_core::*; pub mod youtube { pub use cmis_youtube::*; } }
/// use cmis::time::macros::datetime;
/// use cmis::youtube::quota_reset_after;
/// // 23:58 UTC on 7 December is 15:58 in Los Angeles (PST, UTC-8).
/// let reset = quota_reset_after(datetime!(2026-12-07 23:58 UTC))?;
/// assert_eq!(reset, datetime!(2026-12-08 08:00 UTC));
/// # Ok::<(), cmis::Error>(())
/// ```
pub fn quota_reset_after(now: OffsetDateTime) -> Result<OffsetDateTime> {
    let offset_at = |at: OffsetDateTime| -> Result<UtcOffset> {
        let tz = tzdb_data::find_tz(QUOTA_ZONE.as_bytes())
            .ok_or_else(|| Error::internal("the time zone America/Los_Angeles is missing"))?;
        let kind = tz
            .find_local_time_type(at.unix_timestamp())
            .map_err(|e| Error::internal(format!("no Pacific time for {at}: {e}")))?;
        UtcOffset::from_whole_seconds(kind.ut_offset())
            .map_err(|e| Error::internal(format!("bad Pacific offset: {e}")))
    };
    let local = now.to_offset(offset_at(now)?);
    let next_day = local
        .date()
        .next_day()
        .ok_or_else(|| Error::internal("no day after the quota day"))?;
    // Midnight is never skipped or repeated in Los Angeles (the clocks change at 02:00), so the
    // offset in force just before it is the right one; it is re-read at the candidate instant
    // to be sure.
    let mut offset = local.offset();
    for _ in 0..2 {
        let candidate = next_day.midnight().assume_offset(offset);
        offset = offset_at(candidate)?;
    }
    Ok(next_day
        .midnight()
        .assume_offset(offset)
        .to_offset(UtcOffset::UTC))
}

fn until_quota_reset(now: OffsetDateTime) -> Duration {
    quota_reset_after(now)
        .ok()
        .and_then(|at| Duration::try_from(at - now).ok())
        .unwrap_or(UPLOAD_LIMIT_WAIT)
        .min(MAX_RETRY_AFTER)
}

/// Classifies a non-2xx answer to `call` (`what` names the endpoint, never a URL or token).
/// `now` decides how long a spent daily quota lasts.
///
/// A 5xx is [`UnknownOutcome`](cmis_core::ErrorKind::UnknownOutcome) only for a
/// [`Call::Mutation`], which this crate uses only where a video may have been created.
pub(crate) fn classify(
    status: u16,
    body: &[u8],
    retry_after: Option<Duration>,
    call: Call,
    what: &str,
    now: OffsetDateTime,
) -> Error {
    let envelope = Envelope::parse(body);
    let msg = format!("YouTube {what} failed: {}", envelope.said(status));
    let reason = envelope.reason();
    let rate_limited = || {
        Error::rate_limited(msg.clone())
            .with_retry_after(retry_after.unwrap_or(RATE_LIMIT_FALLBACK))
    };
    let err = match reason {
        "quotaExceeded" | "dailyLimitExceeded" => Error::quota(msg.clone())
            .with_retry_after(until_quota_reset(now))
            .with_user_message(
                "the Google project's daily YouTube quota is spent; it resets at midnight \
                 Pacific time",
            ),
        "uploadLimitExceeded" => Error::quota(msg.clone())
            .with_retry_after(UPLOAD_LIMIT_WAIT)
            .with_user_message(
                "the YouTube channel has reached its daily upload limit: try again in 24 hours",
            ),
        "rateLimitExceeded" | "userRateLimitExceeded" | "uploadRateLimitExceeded" => rate_limited(),
        "authError" | "invalidCredentials" | "expiredToken" => {
            Error::auth(msg.clone()).token_rejected()
        }
        "youtubeSignupRequired" => Error::auth(msg.clone()).with_user_message(NO_CHANNEL),
        "forbidden" if envelope.domain() == "youtube.thumbnail" => Error::permission(msg.clone())
            .with_user_message(
                "the channel may not set custom thumbnails until it is verified \
                 (https://www.youtube.com/verify)",
            ),
        "forbidden"
        | "insufficientPermissions"
        | "authenticatedUserAccountSuspended"
        | "authenticatedUserAccountClosed"
        | "authenticatedUserNotChannel"
        | "channelClosed"
        | "channelSuspended"
        | "accountDelegationForbidden" => Error::permission(msg.clone()),
        "invalidTitle"
        | "invalidDescription"
        | "invalidPublishAt"
        | "invalidVideoMetadata"
        | "invalidTags"
        | "invalidCategoryId"
        | "invalidFilename"
        | "invalidRecordingDetails"
        | "invalidVideoGameRating"
        | "mediaBodyRequired"
        | "defaultLanguageNotSet"
        | "invalidImage"
        | "imageTooTall"
        | "imageTooShort"
        | "videoNotFound"
        | "invalidValue"
        | "required" => Error::rejected(msg.clone()),
        _ => match status {
            429 => rate_limited(),
            401 => Error::auth(msg.clone()).token_rejected(),
            403 => Error::permission(msg.clone()),
            500..=599 if call == Call::Mutation => Error::unknown_outcome(msg.clone()),
            500..=599 | 408 => Error::transient(msg.clone()),
            _ => Error::rejected(msg.clone()),
        },
    };
    let err = err.with_platform(Platform::YouTube);
    if reason.is_empty() {
        err
    } else {
        err.with_platform_code(reason)
    }
}

#[cfg(test)]
mod tests {
    use cmis_core::ErrorKind;
    use serde_json::Value;
    use time::macros::datetime;

    use super::*;

    const NOW: OffsetDateTime = datetime!(2026-12-07 23:58 UTC);

    /// Every case of `tests/fixtures/errors.json`: its kind, whether the token is rejected, and
    /// the platform code.
    #[test]
    fn every_fixture_error_is_classified() {
        let cases: Vec<Value> =
            serde_json::from_str(include_str!("../tests/fixtures/errors.json")).unwrap();
        let expected = |name: &str| -> (ErrorKind, bool) {
            match name {
                "quota_exceeded" | "upload_limit_exceeded" => (ErrorKind::Quota, false),
                "rate_limit_exceeded" | "thumbnail_upload_rate_limit" => {
                    (ErrorKind::RateLimited, false)
                }
                "forbidden"
                | "insufficient_permissions"
                | "thumbnail_forbidden_unverified_channel" => (ErrorKind::Permission, false),
                "invalid_title"
                | "invalid_description"
                | "invalid_video_metadata"
                | "invalid_publish_at"
                | "video_not_found" => (ErrorKind::Rejected, false),
                "backend_error_503" | "backend_error_500" => (ErrorKind::Transient, false),
                "auth_error" => (ErrorKind::Auth, true),
                "youtube_signup_required" => (ErrorKind::Auth, false),
                other => panic!("errors.json has a case this test does not know: {other}"),
            }
        };
        assert_eq!(cases.len(), 16);
        for case in &cases {
            let name = case["name"].as_str().unwrap();
            let status = u16::try_from(case["status"].as_u64().unwrap()).unwrap();
            let body = serde_json::to_vec(&case["body"]).unwrap();
            let err = classify(status, &body, None, Call::Read, "call", NOW);
            let (kind, rejected) = expected(name);
            assert_eq!(err.kind(), kind, "{name}: {err}");
            assert_eq!(err.is_token_rejected(), rejected, "{name}");
            let reason = case["body"]["error"]["errors"][0]["reason"]
                .as_str()
                .unwrap();
            assert_eq!(err.platform_code(), Some(reason), "{name}");
            assert_eq!(err.platform(), Some(&Platform::YouTube));
        }
    }

    #[test]
    fn quota_exceeded_waits_for_pacific_midnight_and_upload_limit_for_a_day() {
        let quota = br#"{"error":{"code":403,"errors":[{"domain":"youtube.quota","reason":"quotaExceeded"}]}}"#;
        let limit = br#"{"error":{"code":400,"errors":[{"domain":"youtube.video","reason":"uploadLimitExceeded"}]}}"#;
        let q = classify(403, quota, None, Call::Read, "insert", NOW);
        let l = classify(400, limit, None, Call::Read, "insert", NOW);
        // 23:58 UTC = 15:58 PST; midnight PST is 08:00 UTC: 8 h 2 min away.
        assert_eq!(
            q.retry_after(),
            Some(Duration::from_secs(8 * 3600 + 2 * 60))
        );
        assert_eq!(l.retry_after(), Some(UPLOAD_LIMIT_WAIT));
        assert_ne!(q.retry_after(), l.retry_after());
    }

    #[test]
    fn the_quota_reset_follows_daylight_saving_time() {
        // Summer (PDT, UTC-7): midnight is 07:00 UTC.
        assert_eq!(
            quota_reset_after(datetime!(2026-07-01 12:00 UTC)).unwrap(),
            datetime!(2026-07-02 07:00 UTC)
        );
        // The day the clocks go forward (8 March 2026): that night's midnight is still PST...
        assert_eq!(
            quota_reset_after(datetime!(2026-03-07 20:00 UTC)).unwrap(),
            datetime!(2026-03-08 08:00 UTC)
        );
        // ...and the next one PDT.
        assert_eq!(
            quota_reset_after(datetime!(2026-03-08 12:00 UTC)).unwrap(),
            datetime!(2026-03-09 07:00 UTC)
        );
        // The day they go back (1 November 2026).
        assert_eq!(
            quota_reset_after(datetime!(2026-11-01 12:00 UTC)).unwrap(),
            datetime!(2026-11-02 08:00 UTC)
        );
        // Just before and at midnight.
        assert_eq!(
            quota_reset_after(datetime!(2026-12-08 07:59:59 UTC)).unwrap(),
            datetime!(2026-12-08 08:00 UTC)
        );
        assert_eq!(
            quota_reset_after(datetime!(2026-12-08 08:00 UTC)).unwrap(),
            datetime!(2026-12-09 08:00 UTC)
        );
    }

    #[test]
    fn the_status_decides_when_there_is_no_reason() {
        let html = b"<html>Not Found</html>";
        for (status, call, kind) in [
            (503, Call::Read, ErrorKind::Transient),
            (503, Call::Mutation, ErrorKind::UnknownOutcome),
            (429, Call::Read, ErrorKind::RateLimited),
            (401, Call::Read, ErrorKind::Auth),
            (403, Call::Read, ErrorKind::Permission),
            (400, Call::Read, ErrorKind::Rejected),
        ] {
            let err = classify(status, html, None, call, "x", NOW);
            assert_eq!(err.kind(), kind, "{status}");
            assert_eq!(err.platform_code(), None);
        }
        let e = classify(429, b"", Some(Duration::from_secs(7)), Call::Read, "x", NOW);
        assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
    }
}
