//! TikTok's error codes, mapped to [`ErrorKind`]s.
//!
//! Every v2 response carries `{"error":{"code","message","log_id"}}`, and TikTok answers some
//! failures (the `spam_risk_*` family on creator info) with HTTP 200, so the body's code is read
//! first and the HTTP status only when the body says nothing. The `log_id` is kept as the error's
//! trace id for support requests.

use std::time::Duration;

use cmis_core::{Error, ErrorKind, Platform};
use cmis_http::Call;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The code TikTok sends when the access token is invalid or expired; the caller refreshes once
/// and retries once.
pub(crate) const ACCESS_TOKEN_INVALID: &str = "access_token_invalid";

/// TikTok documents a one-minute sliding window and no retry header, so after a 429 waiting one
/// window is the shortest wait known to clear it.
const RATE_LIMIT_WINDOW: Duration = Duration::from_secs(60);

/// The `error` object of a v2 API response.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct ApiErrorBody {
    #[serde(default)]
    pub(crate) code: String,
    #[serde(default)]
    pub(crate) message: String,
    #[serde(default)]
    pub(crate) log_id: Option<String>,
}

impl ApiErrorBody {
    /// Reads an `error` object leniently: a `message` or `log_id` of an unexpected type must not
    /// hide the code (fuzzing found a repeated `error` key making the whole envelope unreadable;
    /// `"message": null` did the same, and a refusal on HTTP 200 became "no error object").
    /// `None` when it is not an object or its
    /// `code` is not a string: then it is not TikTok's envelope.
    pub(crate) fn from_value(v: &Value) -> Option<Self> {
        let obj = v.as_object()?;
        let code = match obj.get("code") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(c)) => c.clone(),
            Some(_) => return None,
        };
        let message = obj
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let log_id = match obj.get("log_id") {
            Some(Value::String(id)) => Some(id.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        Some(Self {
            code,
            message,
            log_id,
        })
    }
}

/// Reads a v2 envelope: the error code first (even on HTTP 200), then `data` as `T`.
///
/// The body is read as a JSON value first (a repeated key keeps its last value, as in any JSON
/// reader that does not refuse them), so that one odd field cannot hide the code.
pub(crate) fn parse_envelope<T: DeserializeOwned>(
    status: u16,
    retry_after: Option<Duration>,
    body: &[u8],
    call: Call,
) -> Result<T, Error> {
    let mut value = serde_json::from_slice::<Value>(body).ok();
    let error = value
        .as_ref()
        .and_then(|v| v.get("error"))
        .and_then(ApiErrorBody::from_value);
    let log_id = match error {
        Some(e) if !e.code.is_empty() && e.code != "ok" => {
            return Err(classify_code(status, &e, retry_after, call));
        }
        Some(e) => e.log_id,
        None => {
            return Err(classify_status(
                status,
                retry_after,
                call,
                "no error object",
            ));
        }
    };
    if !(200..300).contains(&status) {
        // An HTTP error with `code: ok` is not something TikTok documents; trust the status.
        return Err(classify_status(status, retry_after, call, "code ok"));
    }
    // A missing `data` reads as `null`: fine for an `Option`, an error for anything else.
    let data = value
        .as_mut()
        .and_then(|v| v.get_mut("data"))
        .map(Value::take)
        .unwrap_or(Value::Null);
    serde_json::from_value::<T>(data).map_err(|e| {
        let what = format!("TikTok's response could not be read: {e}");
        match call {
            // The platform acted (it said ok) but we cannot tell what it returned.
            Call::Mutation => Error::unknown_outcome(what),
            Call::Read => Error::internal(what),
        }
        .with_platform(Platform::TikTok)
        .with_trace_id_opt(log_id)
    })
}

trait WithTraceOpt {
    fn with_trace_id_opt(self, id: Option<String>) -> Self;
}

impl WithTraceOpt for Error {
    fn with_trace_id_opt(self, id: Option<String>) -> Self {
        match id {
            Some(id) if !id.is_empty() => self.with_trace_id(id),
            _ => self,
        }
    }
}

/// Maps an HTTP status with no usable TikTok code.
pub(crate) fn classify_status(
    status: u16,
    retry_after: Option<Duration>,
    call: Call,
    detail: &str,
) -> Error {
    let msg = format!("TikTok answered HTTP {status} ({detail})");
    let err = match status {
        429 => Error::rate_limited(msg).with_retry_after(retry_after.unwrap_or(RATE_LIMIT_WINDOW)),
        401 => Error::auth(msg).token_rejected(),
        403 => Error::permission(msg),
        400..=499 => Error::invalid_input(msg),
        _ if status >= 500 => server_error(msg, call),
        // A 2xx without an error object: TikTok always sends one, so this is not TikTok speaking.
        _ => match call {
            Call::Mutation => Error::unknown_outcome(msg),
            Call::Read => Error::internal(msg),
        },
    };
    err.with_platform(Platform::TikTok)
}

fn server_error(msg: String, call: Call) -> Error {
    match call {
        Call::Read => Error::transient(msg),
        // `video/init` and friends create a publish: after a 5xx it may exist, so never resend.
        Call::Mutation => Error::unknown_outcome(format!(
            "{msg}; the request may have been acted on, so it is not repeated"
        )),
    }
}

/// Maps a TikTok `error.code` (with its HTTP status) to an [`Error`].
pub(crate) fn classify_code(
    status: u16,
    e: &ApiErrorBody,
    retry_after: Option<Duration>,
    call: Call,
) -> Error {
    let code = e.code.as_str();
    let said = if e.message.is_empty() {
        code.to_owned()
    } else {
        format!("{code}: {}", e.message)
    };
    let err = match code {
        ACCESS_TOKEN_INVALID => {
            Error::auth(format!("the access token is invalid or expired ({said})")).token_rejected()
        }
        "scope_not_authorized" | "scope_permission_missed" => Error::permission(format!(
            "the user did not grant the scope this call needs; ask them to re-authorise with \
             video.publish (direct posts) or video.upload (drafts) ({said})"
        )),
        "rate_limit_exceeded" => Error::rate_limited(format!("TikTok rate limit hit ({said})"))
            .with_retry_after(retry_after.unwrap_or(RATE_LIMIT_WINDOW)),
        "spam_risk_too_many_posts" => Error::quota(format!(
            "the creator reached TikTok's daily post cap; try again tomorrow ({said})"
        )),
        "spam_risk_too_many_pending_share" => Error::quota(format!(
            "the creator has 5 pending drafts in 24 hours; they must open their TikTok inbox \
             notifications first ({said})"
        )),
        "reached_active_user_cap" => Error::quota(format!(
            "this app reached TikTok's daily cap of active posting creators ({said})"
        )),
        "spam_risk_user_banned_from_posting" => Error::rejected(format!(
            "TikTok has banned this creator from posting ({said})"
        )),
        c if c.starts_with("spam_risk") => {
            Error::rejected(format!("TikTok refused the post as spam risk ({said})"))
        }
        "app_version_check_failed" => Error::rejected(format!(
            "drafts of photos need TikTok app 31.8 or newer on the creator's phone ({said})"
        )),
        c if c.ends_with("_check_failed") => {
            Error::rejected(format!("TikTok refused the media ({said})"))
        }
        "unaudited_client_can_only_post_to_private_accounts" => Error::permission(format!(
            "this TikTok app is not audited yet: it may only post to private accounts, so make \
             the TikTok account private or get the app audited ({said})"
        )),
        "url_ownership_unverified" => Error::permission(format!(
            "the media URL's domain or prefix is not verified for this app: add it under \"URL \
             properties\" in the TikTok developer portal, or upload the file instead ({said})"
        )),
        "privacy_level_option_mismatch" => Error::invalid_input(format!(
            "the privacy level is missing or not one of the creator's privacy_level_options; \
             query creator info and let the user pick one of them ({said})"
        )),
        "invalid_param" | "invalid_params" | "invalid_file_upload" => {
            Error::invalid_input(format!("TikTok refused the request's parameters ({said})"))
        }
        "invalid_publish_id" | "token_not_authorized_for_specified_publish_id" => {
            Error::invalid_input(format!(
                "TikTok does not know this publish_id for this token ({said})"
            ))
        }
        "publish_not_cancellable" => {
            Error::invalid_input(format!("the publish can no longer be cancelled ({said})"))
        }
        "internal_error" => server_error(format!("TikTok internal error ({said})"), call),
        _ => {
            let fallback = classify_status(status, retry_after, call, &said);
            if (200..300).contains(&status) {
                // An unknown code on HTTP 200 is still a refusal: TikTok said it failed.
                Error::rejected(format!("TikTok refused the request ({said})"))
            } else {
                fallback
            }
        }
    };
    err.with_platform(Platform::TikTok)
        .with_platform_code(code)
        .with_trace_id_opt(e.log_id.clone())
}

/// Maps a `FAILED` status's `fail_reason` to an error that says whether publishing again may help.
pub(crate) fn classify_fail_reason(reason: &str, publish_id: &str) -> Error {
    let msg = |what: &str| format!("TikTok failed publish {publish_id}: {what} ({reason})");
    let err = match reason {
        "internal" => Error::transient(msg("a TikTok internal error; publishing again may work")),
        "video_pull_failed" | "photo_pull_failed" => Error::transient(msg(
            "TikTok could not download the media; publishing again may work if the URL is \
             reachable over HTTPS without redirects for an hour",
        )),
        "publish_cancelled" => Error::rejected(msg("the publish was cancelled")),
        "auth_removed" => Error::auth(msg("the creator removed this app's access")),
        "spam_risk_too_many_posts" => Error::quota(msg("the creator's daily post cap is reached")),
        r if r.ends_with("_check_failed") => {
            Error::rejected(msg("the media does not meet TikTok's requirements"))
        }
        r if r.starts_with("spam_risk") => Error::rejected(msg("TikTok refused it as spam risk")),
        _ => Error::rejected(msg("TikTok gave a reason cmis does not know")),
    };
    err.with_platform(Platform::TikTok)
        .with_platform_code(reason)
}

/// The OAuth error envelope (`{"error","error_description","log_id"}`), mapped to an [`Error`].
pub(crate) fn classify_oauth(
    status: u16,
    code: &str,
    description: &str,
    log_id: Option<String>,
) -> Error {
    let said = if description.is_empty() {
        code.to_owned()
    } else {
        format!("{code}: {description}")
    };
    let kind = match code {
        "invalid_grant" | "access_denied" => ErrorKind::Auth,
        "invalid_scope" | "unauthorized_client" => ErrorKind::Permission,
        "invalid_client" | "invalid_request" | "unsupported_grant_type" => ErrorKind::InvalidInput,
        "rate_limit_exceeded" => ErrorKind::RateLimited,
        _ if status >= 500 => ErrorKind::Transient,
        _ => ErrorKind::Auth,
    };
    let msg = match kind {
        ErrorKind::Auth => format!("TikTok refused the grant; the user must re-authorise ({said})"),
        ErrorKind::InvalidInput => {
            format!(
                "TikTok refused the OAuth request; check client_key, client_secret, redirect_uri and code ({said})"
            )
        }
        _ => format!("TikTok OAuth error ({said})"),
    };
    let mut err = Error::new(kind, msg)
        .with_platform(Platform::TikTok)
        .with_platform_code(code)
        .with_trace_id_opt(log_id);
    if kind == ErrorKind::RateLimited {
        err = err.with_retry_after(RATE_LIMIT_WINDOW);
    }
    err
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_odd_field_does_not_hide_the_code() {
        // The fuzzer found the repeated key; the others are its neighbours. Each lost its code
        // and read as "no error object".
        for body in [
            r#"{"data":{},"error":{"code":"spam_risk_too_many_posts","message":null,"log_id":"L"}}"#,
            r#"{"data":{},"error":{"code":"spam_risk_too_many_posts","message":"m","log_id":42}}"#,
            r#"{"error":{"code":"ok"},"error":{"code":"spam_risk_too_many_posts"}}"#,
        ] {
            let err = parse_envelope::<Option<Value>>(200, None, body.as_bytes(), Call::Mutation)
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Quota, "{body}");
            assert_eq!(err.platform_code(), Some("spam_risk_too_many_posts"));
        }
        let err =
            parse_envelope::<Option<Value>>(200, None, br#"{"error":{"code":5}}"#, Call::Read)
                .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Internal);
        assert!(err.message().contains("no error object"), "{err}");
    }

    fn body(code: &str) -> ApiErrorBody {
        ApiErrorBody {
            code: code.into(),
            message: "m".into(),
            log_id: Some("L1".into()),
        }
    }

    #[test]
    fn codes_map_to_kinds() {
        let cases = [
            ("access_token_invalid", 401, ErrorKind::Auth),
            ("scope_not_authorized", 401, ErrorKind::Permission),
            ("rate_limit_exceeded", 429, ErrorKind::RateLimited),
            ("spam_risk_too_many_posts", 403, ErrorKind::Quota),
            (
                "spam_risk_user_banned_from_posting",
                403,
                ErrorKind::Rejected,
            ),
            ("reached_active_user_cap", 200, ErrorKind::Quota),
            ("picture_size_check_failed", 400, ErrorKind::Rejected),
            (
                "unaudited_client_can_only_post_to_private_accounts",
                403,
                ErrorKind::Permission,
            ),
            ("url_ownership_unverified", 403, ErrorKind::Permission),
            (
                "privacy_level_option_mismatch",
                403,
                ErrorKind::InvalidInput,
            ),
            ("invalid_param", 400, ErrorKind::InvalidInput),
            ("invalid_params", 400, ErrorKind::InvalidInput),
            ("something_new", 200, ErrorKind::Rejected),
            ("something_new", 503, ErrorKind::UnknownOutcome),
        ];
        for (code, status, kind) in cases {
            let err = classify_code(status, &body(code), None, Call::Mutation);
            assert_eq!(err.kind(), kind, "{code}");
            assert_eq!(err.platform_code(), Some(code));
            assert_eq!(err.trace_id(), Some("L1"));
        }
        let err = classify_code(500, &body("internal_error"), None, Call::Read);
        assert_eq!(err.kind(), ErrorKind::Transient);
    }

    #[test]
    fn fail_reasons_split_into_retryable_and_permanent() {
        for r in ["internal", "video_pull_failed", "photo_pull_failed"] {
            assert!(classify_fail_reason(r, "p").is_retryable(), "{r}");
        }
        for r in [
            "file_format_check_failed",
            "duration_check_failed",
            "frame_rate_check_failed",
            "picture_size_check_failed",
            "publish_cancelled",
            "auth_removed",
            "spam_risk_too_many_posts",
            "spam_risk_text",
            "spam_risk",
            "spam_risk_user_banned_from_posting",
        ] {
            assert!(!classify_fail_reason(r, "p").is_retryable(), "{r}");
        }
        assert_eq!(
            classify_fail_reason("auth_removed", "p").kind(),
            ErrorKind::Auth
        );
    }
}
