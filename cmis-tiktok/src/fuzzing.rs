//! Entry points for the fuzz targets in `fuzz/` and for the test that replays their corpus. Not
//! part of the API: no semver promise covers this module.
//!
//! Each function takes raw fuzzer bytes, runs them through the code a real TikTok response takes
//! (the same functions, not copies), and panics only when that code panics or breaks an
//! invariant stated here. Inputs are framed by `cmis_http::fuzzing::frame`; the selector picks
//! the HTTP status (low four bits) and read or mutation (bit 4).

use std::time::Duration;

use cmis_core::{ErrorKind, ExposeSecret, Platform};
use cmis_http::Call;
use serde::de::DeserializeOwned;
use serde_json::Value;
use time::OffsetDateTime;

use crate::error::{classify_fail_reason, parse_envelope};
use crate::oauth::{revoke_response, token_response};
use crate::publish::InitData;
use crate::upload::next_offset_from;
use crate::{CreatorInfo, PublishState, PublishStatus};

/// The statuses a selector picks from.
const STATUSES: [u16; 16] = [
    200, 201, 204, 206, 302, 400, 401, 403, 404, 416, 429, 500, 502, 503, 504, 599,
];

fn status_and_call(selector: u8) -> (u16, Call) {
    let status = STATUSES
        .get(usize::from(selector & 0x0f))
        .copied()
        .unwrap_or(200);
    let call = if selector & 0x10 == 0 {
        Call::Read
    } else {
        Call::Mutation
    };
    (status, call)
}

/// The `error.code` of a v2 envelope, read independently of the parser under test.
fn envelope_code(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let code = v.pointer("/error/code")?.as_str()?;
    (!code.is_empty() && code != "ok").then(|| code.to_owned())
}

/// Parses the envelope as `T` like `TikTokClient::call`, checking what every caller relies on.
fn envelope<T: DeserializeOwned>(
    status: u16,
    retry_after: Option<Duration>,
    body: &[u8],
    call: Call,
) -> Option<T> {
    match parse_envelope::<T>(status, retry_after, body, call) {
        Ok(t) => {
            assert!(
                (200..300).contains(&status),
                "HTTP {status} read as success"
            );
            assert_eq!(envelope_code(body), None, "an error code read as success");
            Some(t)
        }
        Err(e) => {
            assert_eq!(e.platform(), Some(&Platform::TikTok), "{e:?}");
            if let Some(code) = envelope_code(body) {
                // The body's code decides, whatever the status (TikTok sends some on HTTP 200).
                assert_eq!(e.platform_code(), Some(code.as_str()), "{e:?}");
            }
            if e.kind() == ErrorKind::RateLimited {
                assert!(e.retry_after().is_some(), "a rate limit without a wait");
            }
            if call == Call::Mutation {
                // After a mutation nothing says "it was not done" without TikTok saying so.
                assert_ne!(e.kind(), ErrorKind::Transient, "{e:?}");
            }
            None
        }
    }
}

/// A v2 API response (`{"data":…,"error":{"code","message","log_id"}}` and `Retry-After`),
/// decoded as each endpoint decodes it (creator info, init, status, cancel), plus the upload
/// `Content-Range` a chunk `PUT` answers with.
pub fn api_response(data: &[u8]) {
    let f = cmis_http::fuzzing::frame(data);
    let (status, call) = status_and_call(f.selector);
    let retry_after = cmis_http::retry_after(&f.headers);
    if let Some(info) = envelope::<CreatorInfo>(status, retry_after, f.body, call) {
        let _ = info.max_video_duration();
    }
    let _ = envelope::<InitData>(status, retry_after, f.body, call);
    let _ = envelope::<Option<Value>>(status, retry_after, f.body, call);
    if let Some(s) = envelope::<PublishStatus>(status, retry_after, f.body, call) {
        if s.status == PublishState::Failed {
            let reason = s.fail_reason.as_deref().unwrap_or("");
            let e = classify_fail_reason(reason, "p");
            assert_eq!(e.platform_code(), Some(reason));
        }
        let _ = s.public_post_id();
    }
    for total in [0, 1, 7, 50_000_123, u64::MAX] {
        if let Some(next) = next_offset_from(&f.headers, total) {
            assert!(next > 0);
        }
    }
}

/// An OAuth answer (`/v2/oauth/token/` and `/v2/oauth/revoke/`): the flat token JSON or the
/// `{"error","error_description","log_id"}` envelope, then the credential a caller makes of it.
pub fn oauth_response(data: &[u8]) {
    let f = cmis_http::fuzzing::frame(data);
    let (status, _) = status_and_call(f.selector);
    let oauth_code = serde_json::from_slice::<Value>(f.body)
        .ok()
        .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned))
        .filter(|c| !c.is_empty());
    match token_response(status, f.body) {
        Ok(grant) => {
            assert!(
                (200..300).contains(&status),
                "HTTP {status} read as a grant"
            );
            assert!(oauth_code.is_none(), "an OAuth error read as a grant");
            assert!(!grant.open_id.is_empty());
            assert!(!grant.access_token.expose_secret().is_empty());
            assert!(!grant.refresh_token.expose_secret().is_empty());
            // What a caller does with it (and `TikTokRefresher` through `RefreshedToken`).
            let now = OffsetDateTime::now_utc();
            let credential = grant.to_credential(cmis_core::TenantId::new("fuzz"), now);
            assert!(credential.access_expires_at.is_some_and(|at| at >= now));
            assert!(credential.refresh_expires_at.is_some_and(|at| at >= now));
        }
        Err(e) => {
            assert_eq!(e.platform(), Some(&Platform::TikTok), "{e:?}");
            if let Some(code) = &oauth_code {
                assert_eq!(e.platform_code(), Some(code.as_str()), "{e:?}");
            }
            if oauth_code.is_none() {
                // A token call rotates the refresh token: without TikTok's own word that it
                // failed, a lost or garbled answer may hide a rotation.
                assert_ne!(e.kind(), ErrorKind::Transient, "{e:?}");
            }
        }
    }
    if revoke_response(status, f.body).is_ok() {
        assert!(
            (200..300).contains(&status),
            "HTTP {status} read as a revocation"
        );
        assert!(oauth_code.is_none(), "an OAuth error read as a revocation");
    }
}
