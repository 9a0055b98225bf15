//! LinkedIn's error answers (`docs/linkedin-api.md` §6): the Rest.li envelope
//! `{"status","serviceErrorCode","code","message"}`, validation details in
//! `errorDetails.inputErrors[].code`, and OAuth's `{"error","error_description"}`. LinkedIn
//! sends no rate-limit headers and no `Retry-After`.

use std::time::Duration;

use cmis_core::{Error, Platform};
use cmis_http::Call;
use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;

use crate::ApiVersion;

/// How long a 429 without a daily quota in its message waits: 5 minutes.
pub(crate) const THROTTLE_FALLBACK: Duration = Duration::from_secs(300);

/// The error body, every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Envelope {
    #[serde(default)]
    pub(crate) code: Option<String>,
    #[serde(default)]
    pub(crate) service_error_code: Option<i64>,
    #[serde(default)]
    pub(crate) message: Option<String>,
    #[serde(default)]
    pub(crate) error_details: Option<Value>,
    /// OAuth's error name.
    #[serde(default)]
    pub(crate) error: Option<String>,
    /// OAuth's description.
    #[serde(default)]
    pub(crate) error_description: Option<String>,
}

impl Envelope {
    pub(crate) fn parse(body: &[u8]) -> Self {
        serde_json::from_slice(body).unwrap_or_default()
    }

    /// The first `errorDetails.inputErrors[].code`, where validation errors put their name.
    pub(crate) fn input_code(&self) -> Option<&str> {
        self.error_details
            .as_ref()?
            .get("inputErrors")?
            .as_array()?
            .iter()
            .find_map(|e| e.get("code")?.as_str())
    }

    /// The error's name: the input error's code, else `code`, else the OAuth error.
    pub(crate) fn name(&self) -> Option<&str> {
        self.input_code()
            .or(self.code.as_deref())
            .or(self.error.as_deref())
    }

    fn said(&self, status: u16) -> String {
        let text = self
            .message
            .as_deref()
            .or(self.error_description.as_deref());
        match (self.name(), text) {
            (Some(n), Some(m)) => format!("{n}: {m}"),
            (Some(n), None) => n.to_owned(),
            (None, Some(m)) => m.to_owned(),
            (None, None) => format!("HTTP {status}"),
        }
    }

    /// The post a `DUPLICATE_POST` refusal names: the URN at the end of its message.
    pub(crate) fn duplicate_of(&self) -> Option<String> {
        if self.name() != Some("DUPLICATE_POST") {
            return None;
        }
        let last = self.message.as_deref()?.split_whitespace().last()?;
        let urn = last.trim_end_matches(['.', ',', ';', '"', '\'']);
        (urn.starts_with("urn:li:share:") || urn.starts_with("urn:li:ugcPost:"))
            .then(|| urn.to_owned())
    }
}

/// The next midnight UTC after `now`, when LinkedIn's daily limits reset.
pub(crate) fn until_midnight_utc(now: OffsetDateTime) -> Duration {
    let next = now
        .date()
        .next_day()
        .map(|d| d.midnight().assume_utc())
        .unwrap_or(now);
    Duration::try_from(next - now).unwrap_or(THROTTLE_FALLBACK)
}

/// Classifies a non-2xx answer to `call` (`what` names the endpoint, never a URL or a token).
pub(crate) fn classify(
    status: u16,
    envelope: &Envelope,
    version: ApiVersion,
    call: Call,
    what: &str,
    now: OffsetDateTime,
) -> Error {
    let said = envelope.said(status);
    let msg = format!("LinkedIn {what} failed: {said}");
    let name = envelope.name().unwrap_or("");
    let err = match (status, name) {
        (426, _) | (_, "NONEXISTENT_VERSION") => Error::unsupported(format!(
            "{msg}. LinkedIn no longer serves API version {version}: set a current version \
             with LinkedInClientBuilder::version (the examples read CMIS_LINKEDIN_VERSION); \
             versions and their sunset dates are listed at \
             https://learn.microsoft.com/en-us/linkedin/marketing/integrations/migrations"
        ))
        .with_user_message(format!(
            "the LinkedIn API version {version} is retired: the operator must configure a newer one"
        )),
        (_, "VERSION_MISSING") => Error::internal(msg),
        (_, "invalid_grant" | "invalid_request" | "invalid_redirect_uri") => {
            Error::auth(msg).with_user_message("reconnect the LinkedIn account")
        }
        (_, "MEDIA_ASSET_WAITING_UPLOAD") => Error::transient(msg),
        (_, "DUPLICATE_POST" | "MEDIA_ASSET_PROCESSING_FAILED" | "FIELD_LENGTH_TOO_LONG") => {
            Error::rejected(msg)
        }
        (401, _) => Error::auth(msg).token_rejected(),
        (403, _) => Error::permission(msg).with_user_message(
            "LinkedIn refused: posting as a member needs the w_member_social scope; as a page, \
             w_organization_social and the ADMINISTRATOR, DIRECT_SPONSORED_CONTENT_POSTER or \
             CONTENT_ADMIN role on the page",
        ),
        (429, _) => {
            let daily = said.contains(" DAY ");
            let wait = if daily {
                until_midnight_utc(now)
            } else {
                THROTTLE_FALLBACK
            };
            Error::rate_limited(msg).with_retry_after(wait)
        }
        // A server error after a create was sent: the post may exist.
        (500..=599, _) if call == Call::Mutation => Error::unknown_outcome(msg),
        (500..=599 | 408, _) => Error::transient(msg),
        // A definite refusal: nothing was created.
        _ => Error::rejected(msg),
    };
    let err = err.with_platform(Platform::LinkedIn);
    let err = match envelope.service_error_code {
        Some(code) => err.with_platform_subcode(code.to_string()),
        None => err,
    };
    match name {
        "" => err,
        name => err.with_platform_code(name),
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn the_duplicate_urn_is_the_last_word_of_the_message() {
        let e = Envelope::parse(
            br#"{"message":"x: Content is a duplicate of urn:li:share:7141138937766391808","errorDetails":{"inputErrors":[{"code":"DUPLICATE_POST"}]},"status":422}"#,
        );
        assert_eq!(
            e.duplicate_of().as_deref(),
            Some("urn:li:share:7141138937766391808")
        );
        let other = Envelope::parse(br#"{"message":"urn:li:share:1","status":400}"#);
        assert_eq!(other.duplicate_of(), None);
    }

    #[test]
    fn a_daily_limit_waits_until_midnight_utc() {
        assert_eq!(
            until_midnight_utc(datetime!(2026-12-07 23:00 UTC)),
            Duration::from_secs(3600)
        );
    }
}
