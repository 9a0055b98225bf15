//! Entry points for the fuzz targets in `fuzz/` and for the test that replays their corpus. Not
//! part of the API: no semver promise covers this module.
//!
//! Each function takes raw fuzzer bytes, runs them through the code a real Graph response takes
//! (the same functions, not copies), and panics only when that code panics or breaks an
//! invariant stated here.
//!
//! Inputs are framed by `cmis_http::fuzzing::frame`; the selector picks the HTTP status (low
//! four bits), read or mutation (bit 4) and Facebook or Instagram (bit 5).

use std::sync::OnceLock;

use cmis_core::{Credential, ErrorKind, ExposeSecret, Platform, SecretString};
use cmis_http::Call;
use http::HeaderMap;
use serde::de::DeserializeOwned;
use serde_json::Value;
use time::OffsetDateTime;

use crate::MetaClient;
use crate::client::{IdResponse, decode};
use crate::error::GraphError;
use crate::facebook::{Handle, PhotoResponse, ReelStart, Success};
use crate::instagram::{Status, subcode_in};
use crate::tokens::{page_list, refreshed, token_info};
use crate::usage::Usage;

/// The statuses a selector picks from.
const STATUSES: [u16; 16] = [
    200, 201, 204, 206, 301, 302, 400, 401, 403, 404, 429, 500, 502, 503, 504, 599,
];

/// The throttle key fuzzed responses are recorded under.
const KEY: &str = "fuzz";

/// One framed response.
struct Framed<'a> {
    status: u16,
    call: Call,
    platform: Platform,
    headers: HeaderMap,
    body: &'a [u8],
}

fn frame(data: &[u8]) -> Framed<'_> {
    let f = cmis_http::fuzzing::frame(data);
    let status = STATUSES
        .get(usize::from(f.selector & 0x0f))
        .copied()
        .unwrap_or(200);
    let call = if f.selector & 0x10 == 0 {
        Call::Read
    } else {
        Call::Mutation
    };
    let platform = if f.selector & 0x20 == 0 {
        Platform::Facebook
    } else {
        Platform::Instagram
    };
    Framed {
        status,
        call,
        platform,
        headers: f.headers,
        body: f.body,
    }
}

/// One client for every input: building one loads the root store, too slow per input.
fn client() -> &'static MetaClient {
    static CLIENT: OnceLock<MetaClient> = OnceLock::new();
    CLIENT.get_or_init(|| {
        MetaClient::builder()
            .build()
            .unwrap_or_else(|e| panic!("the default client must build: {e}"))
    })
}

/// Runs a framed response through the path of `MetaClient::exchange` after the bytes arrived:
/// usage headers (applied to the throttles), `Retry-After`, then the body.
fn answer(f: &Framed<'_>) -> cmis_core::Result<Value> {
    let client = client();
    let usage = Usage::parse(&f.headers);
    client.apply_usage(KEY, &usage);
    // The pauses must stay usable as deadlines (`Instant::now() + pause`).
    for pause in [usage.app_pause(), usage.account_pause()]
        .into_iter()
        .flatten()
    {
        assert!(
            pause <= cmis_http::MAX_RETRY_AFTER,
            "usage pause {pause:?} exceeds the cap"
        );
    }
    let retry_after = usage.regain.or(cmis_http::retry_after(&f.headers));
    let result = client.finish(KEY, f.status, f.body, f.call, f.platform, retry_after);
    match &result {
        Ok(_) => {
            assert!(
                (200..300).contains(&f.status),
                "HTTP {} was read as a success",
                f.status
            );
            assert!(
                GraphError::parse(f.body).is_none(),
                "an error envelope was read as a success"
            );
        }
        Err(e) => {
            assert_eq!(e.platform(), Some(&f.platform), "{e:?}");
            if let Some(code) = GraphError::parse(f.body).and_then(|g| g.code) {
                assert_eq!(e.platform_code(), Some(code.to_string().as_str()), "{e:?}");
            }
            if e.kind() == ErrorKind::RateLimited {
                assert!(e.retry_after().is_some(), "a rate limit without a wait");
            }
            if f.call == Call::Mutation && e.kind() == ErrorKind::Transient {
                // After a mutation, "nothing happened" is said only when Meta said so: the
                // container was not ready (2207027).
                let sub = GraphError::parse(f.body).and_then(|g| g.subcode);
                assert_eq!(sub, Some(2_207_027), "{e:?}");
            }
        }
    }
    result
}

/// Decodes `v` as `T` like the publishers do; a shape error must be the "unreadable" kind.
fn shaped<T: DeserializeOwned>(v: &Value, call: Call, platform: Platform) -> Option<T> {
    match decode::<T>(v.clone(), call, platform) {
        Ok(t) => Some(t),
        Err(e) => {
            let expected = match call {
                Call::Read => ErrorKind::Transient,
                Call::Mutation => ErrorKind::UnknownOutcome,
            };
            assert_eq!(e.kind(), expected, "{e:?}");
            None
        }
    }
}

/// A Graph API response (success bodies, the `{"error":{…}}` envelope, the usage and
/// `Retry-After` headers), then every typed response shape the publishers decode.
pub fn graph_response(data: &[u8]) {
    let f = frame(data);
    let Ok(v) = answer(&f) else {
        return;
    };
    let (call, platform) = (f.call, f.platform);
    if let Some(r) = shaped::<IdResponse>(&v, call, platform) {
        assert!(!r.id.is_empty());
    }
    if let Some(r) = shaped::<PhotoResponse>(&v, call, platform) {
        assert!(!r.id.is_empty());
        assert!(r.post_id.is_none_or(|p| !p.is_empty()));
    }
    if let Some(r) = shaped::<ReelStart>(&v, call, platform) {
        assert!(!r.video_id.is_empty());
    }
    let _ = shaped::<Handle>(&v, call, platform);
    let _ = shaped::<Success>(&v, call, platform);
    if let Some(s) = shaped::<Status>(&v, call, platform)
        && let Some(text) = s.status.as_deref()
        && let Some(sub) = subcode_in(text)
    {
        assert!(
            sub.len() == 7 && sub.starts_with("2207") && sub.bytes().all(|b| b.is_ascii_digit())
        );
    }
}

/// A token response: the long-lived exchange and Instagram's refresh (`access_token`,
/// `expires_in`), `debug_token` (`data{…}`) and `/me/accounts` (Page tokens), each applied the
/// way its caller applies it.
pub fn token_response(data: &[u8]) {
    let f = frame(data);
    let Ok(v) = answer(&f) else {
        return;
    };
    let now = OffsetDateTime::now_utc();
    let account = cmis_core::AccountRef::new(cmis_core::TenantId::new("fuzz"), f.platform, "1");
    let current = Credential::new(account, SecretString::from("old"));
    if let Ok(token) = refreshed(&v, "fuzz") {
        assert!(!token.access_token.expose_secret().is_empty());
        assert!(token.expires_in.is_none_or(|d| !d.is_zero()));
        // What `RefreshingTokenProvider` does with it.
        let next = token.apply_to(&current, now);
        assert!(next.access_expires_at.is_none_or(|at| at > now));
    }
    if let Ok(info) = token_info(&v) {
        let _ = info.apply_to(current);
    }
    let (pages, next) = page_list(&v);
    for page in &pages {
        assert!(!page.id.is_empty());
        assert!(!page.access_token.expose_secret().is_empty());
    }
    assert!(next.is_none_or(|c| !c.is_empty()));
}
