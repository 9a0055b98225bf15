//! The Graph API error envelope and its mapping to [`ErrorKind`].
//!
//! Reference: `docs/meta-graph-api.md` §4 (error envelope, Graph codes, code-190 subcodes,
//! throttle codes, Instagram subcodes). The body's code decides first, the HTTP status second.

use std::time::Duration;

use cmis_core::{Error, ErrorKind, Platform};
use cmis_http::Call;
use serde_json::Value;

/// What a failed Graph call said, parsed from `{"error":{…}}`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct GraphError {
    pub(crate) message: Option<String>,
    pub(crate) code: Option<i64>,
    pub(crate) subcode: Option<i64>,
    pub(crate) user_title: Option<String>,
    pub(crate) user_msg: Option<String>,
    pub(crate) trace_id: Option<String>,
    pub(crate) is_transient: bool,
    /// The Instagram-style OAuth body (`{"error_type":"OAuthException","code":400,
    /// "error_message":…}`) of the Instagram and Threads token endpoints: its `code` is an HTTP
    /// status, not a Graph code, so it is not kept as one.
    pub(crate) oauth_body: bool,
}

impl GraphError {
    /// Parses the Instagram-style OAuth body of a token endpoint's 4xx answer; `None` when the
    /// body is not one. Both keys are needed: a Threads container status carries
    /// `error_message` alone.
    fn parse_oauth(body: &[u8]) -> Option<Self> {
        let value: Value = serde_json::from_slice(body).ok()?;
        value.get("error_type")?.as_str()?;
        let message = value.get("error_message")?.as_str()?.to_owned();
        Some(Self {
            message: Some(message),
            oauth_body: true,
            ..Self::default()
        })
    }

    /// Parses the Graph envelope from a response body; `None` when the body is not one.
    pub(crate) fn parse(body: &[u8]) -> Option<Self> {
        let value: Value = serde_json::from_slice(body).ok()?;
        let err = value.get("error")?;
        if !err.is_object() {
            return None;
        }
        let text = |k: &str| err.get(k).and_then(Value::as_str).map(str::to_owned);
        Some(Self {
            message: text("message"),
            code: err.get("code").and_then(as_i64),
            subcode: err.get("error_subcode").and_then(as_i64),
            user_title: text("error_user_title"),
            user_msg: text("error_user_msg"),
            trace_id: text("fbtrace_id"),
            is_transient: err
                .get("is_transient")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            oauth_body: false,
        })
    }
}

/// Reads a code that Meta may send as a number or a string.
pub(crate) fn as_i64(v: &Value) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

/// A transient failure is [`ErrorKind::Transient`] only for a read: after a mutation it may
/// have been acted on (koala#699: a retry after code 2 duplicated photos and reels).
fn transient(call: Call) -> ErrorKind {
    match call {
        Call::Read => ErrorKind::Transient,
        Call::Mutation => ErrorKind::UnknownOutcome,
    }
}

/// Instagram subcodes whose action is "retry" (§4 Instagram subcodes).
const IG_RETRY_SUBCODES: [i64; 4] = [2_207_001, 2_207_003, 2_207_032, 2_207_008];

/// The kind for a Graph error envelope returned with HTTP `status` for a `call`.
pub(crate) fn kind_for(e: &GraphError, status: u16, call: Call) -> ErrorKind {
    let code = e.code.unwrap_or(0);
    let sub = e.subcode.unwrap_or(0);
    let impersonation = e
        .message
        .as_deref()
        .is_some_and(|m| m.contains("impersonat"));
    let link_limit = e
        .message
        .as_deref()
        .is_some_and(|m| m.contains("THREADS_API__LINK_LIMIT_EXCEEDED"));
    if e.oauth_body {
        // A code, token or secret the OAuth endpoint refused (only 4xx answers are read this
        // way): authorise again.
        return ErrorKind::Auth;
    }
    match (code, sub) {
        // 492: the user lacks a role on the Page; the token itself is fine.
        (_, 492) => ErrorKind::Permission,
        // Some code-190 bodies are permission problems (postiz-app#1912).
        (190, _) if impersonation => ErrorKind::Permission,
        (190 | 102, _) => ErrorKind::Auth,
        (9, _) | (_, 2_207_042) => ErrorKind::Quota,
        // Blocked: spam, policy, app limit. Never retried: postiz-app#1681 shows such posts
        // sometimes went live, so a retry duplicates them.
        (368, _) | (_, 2_207_051) => ErrorKind::Rejected,
        // Threads: more than 5 links; the profile is restricted (docs/threads-api.md §4).
        _ if link_limit => ErrorKind::Rejected,
        (_, 4_279_013) => ErrorKind::Rejected,
        // Threads "Media Not Found": threads_publish cannot see the container yet; nothing was
        // published (§2.2, postiz-app#2047).
        (_, 4_279_009) => ErrorKind::Transient,
        // "Not ready": media_publish refused the container; nothing was published.
        (_, 2_207_027) => ErrorKind::Transient,
        (4 | 17 | 32 | 341 | 613 | 80_000..=80_014, _) => ErrorKind::RateLimited,
        (10 | 200..=299, _) => ErrorKind::Permission,
        (1 | 2, _) => transient(call),
        _ if e.is_transient || IG_RETRY_SUBCODES.contains(&sub) => transient(call),
        (_, 2_207_000..=2_207_999) => ErrorKind::Rejected,
        // Meta bug on container and permalink reads (postiz-app#1562).
        (100, 33) if call == Call::Read => ErrorKind::Transient,
        _ if status >= 500 => transient(call),
        _ if code == 0 => kind_for_status(status, call),
        _ => ErrorKind::Rejected,
    }
}

/// The kind for a response without a Graph envelope.
pub(crate) fn kind_for_status(status: u16, call: Call) -> ErrorKind {
    match status {
        401 => ErrorKind::Auth,
        403 => ErrorKind::Permission,
        429 => ErrorKind::RateLimited,
        s if s >= 500 => transient(call),
        _ => ErrorKind::Internal,
    }
}

/// Builds the [`Error`] for a failed response. `retry_after` is what the usage headers or
/// `Retry-After` said; it is attached to rate-limit errors.
pub(crate) fn classify(
    status: u16,
    body: &[u8],
    call: Call,
    platform: Platform,
    retry_after: Option<Duration>,
) -> Error {
    let parsed = GraphError::parse(body).or_else(|| {
        (400..500)
            .contains(&status)
            .then(|| GraphError::parse_oauth(body))
            .flatten()
    });
    let Some(e) = parsed else {
        let kind = kind_for_status(status, call);
        let mut err = Error::new(
            kind,
            format!("the Graph API answered HTTP {status} without an error body"),
        )
        .with_platform(platform);
        if kind == ErrorKind::UnknownOutcome {
            err = Error::unknown_outcome(format!(
                "the Graph API answered HTTP {status} to a mutating call; it may have acted on it"
            ))
            .with_platform(platform);
        }
        if let (ErrorKind::RateLimited, Some(after)) = (kind, retry_after) {
            err = err.with_retry_after(after);
        }
        if kind == ErrorKind::Auth {
            err = err.token_rejected();
        }
        return err;
    };
    let kind = kind_for(&e, status, call);
    let mut message = e
        .message
        .clone()
        .unwrap_or_else(|| format!("the Graph API answered HTTP {status}"));
    if kind == ErrorKind::UnknownOutcome {
        message.push_str(" (after a mutating call: it may have been acted on; reconcile first)");
    }
    let mut err = Error::new(kind, message).with_platform(platform);
    if let Some(code) = e.code {
        err = err.with_platform_code(code.to_string());
    }
    if let Some(sub) = e.subcode {
        err = err.with_platform_subcode(sub.to_string());
    }
    if let Some(trace) = e.trace_id {
        err = err.with_trace_id(trace);
    }
    if let Some(user) = e.user_msg.or(e.user_title) {
        err = err.with_user_message(user);
    }
    if let (ErrorKind::RateLimited, Some(after)) = (kind, retry_after) {
        err = err.with_retry_after(after);
    }
    // Every `Auth` here is the token itself refused (190, 102, a bare 401); a missing role or
    // permission is `Permission`.
    if kind == ErrorKind::Auth {
        err = err.token_rejected();
    }
    err
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(code: i64, sub: Option<i64>) -> GraphError {
        GraphError {
            code: Some(code),
            subcode: sub,
            ..GraphError::default()
        }
    }

    #[test]
    fn codes_map_to_kinds() {
        use ErrorKind::*;
        let m = Call::Mutation;
        let r = Call::Read;
        let cases = [
            (env(190, Some(463)), 400, m, Auth),
            (env(190, Some(460)), 400, r, Auth),
            (env(190, Some(492)), 400, m, Permission),
            (env(4, None), 403, m, RateLimited),
            (env(17, None), 403, m, RateLimited),
            (env(32, None), 403, m, RateLimited),
            (env(613, None), 403, m, RateLimited),
            (env(80_001, None), 403, m, RateLimited),
            (env(80_014, None), 403, r, RateLimited),
            (env(1, None), 500, r, Transient),
            (env(1, None), 500, m, UnknownOutcome),
            (env(2, None), 503, m, UnknownOutcome),
            (env(368, None), 400, m, Rejected),
            (env(4, Some(2_207_051)), 400, m, Rejected),
            (env(36_001, Some(2_207_005)), 400, m, Rejected),
            (env(9, Some(2_207_042)), 400, m, Quota),
            (env(9007, Some(2_207_027)), 400, m, Transient),
            (env(10, None), 400, m, Permission),
            (env(200, None), 400, m, Permission),
            (env(506, None), 400, m, Rejected),
            (env(100, Some(33)), 400, r, Transient),
            (env(24, Some(4_279_009)), 400, m, Transient),
            (env(25, Some(4_279_013)), 400, m, Rejected),
        ];
        for (e, status, call, kind) in cases {
            assert_eq!(kind_for(&e, status, call), kind, "{e:?} {call:?}");
        }
        let transient = GraphError {
            is_transient: true,
            ..env(-1, Some(2_207_001))
        };
        assert_eq!(kind_for(&transient, 400, Call::Read), Transient);
        assert_eq!(kind_for(&transient, 400, Call::Mutation), UnknownOutcome);
    }

    #[test]
    fn envelope_details_are_kept() {
        let body = br#"{"error":{"message":"Error validating access token","type":"OAuthException","code":190,"error_subcode":463,"error_user_msg":"Session expired","fbtrace_id":"AbC"}}"#;
        let err = classify(400, body, Call::Read, Platform::Facebook, None);
        assert_eq!(err.kind(), ErrorKind::Auth);
        assert_eq!(err.platform_code(), Some("190"));
        assert_eq!(err.platform_subcode(), Some("463"));
        assert_eq!(err.trace_id(), Some("AbC"));
        assert_eq!(err.user_message(), Some("Session expired"));
    }

    #[test]
    fn the_oauth_body_is_read_on_4xx_answers_only() {
        let body = br#"{"error_type":"OAuthException","code":400,"error_message":"Matching code was not found or was already used"}"#;
        let err = classify(400, body, Call::Mutation, Platform::Threads, None);
        assert_eq!(err.kind(), ErrorKind::Auth);
        assert_eq!(err.platform_code(), None, "its code is an HTTP status");
        // After a mutation, a 5xx stays an unknown outcome whatever its body says.
        let err = classify(502, body, Call::Mutation, Platform::Threads, None);
        assert_eq!(err.kind(), ErrorKind::UnknownOutcome);
        // A success that happens to carry the keys is a success.
        assert!(
            crate::client::read_response(200, body, Call::Read, Platform::Threads, None).is_ok()
        );
    }

    #[test]
    fn bare_5xx_after_a_mutation_is_unknown() {
        let err = classify(
            502,
            b"bad gateway",
            Call::Mutation,
            Platform::Facebook,
            None,
        );
        assert_eq!(err.kind(), ErrorKind::UnknownOutcome);
        let err = classify(502, b"bad gateway", Call::Read, Platform::Facebook, None);
        assert_eq!(err.kind(), ErrorKind::Transient);
    }
}
