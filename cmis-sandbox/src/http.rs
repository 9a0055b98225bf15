//! Response helpers shared by the fake platforms.

use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

/// A JSON response with `status`.
pub(crate) fn json(status: StatusCode, value: serde_json::Value) -> Response {
    (status, axum::Json(value)).into_response()
}

/// A response whose connection breaks before the body: the client sees a transport error.
pub(crate) fn dropped() -> Response {
    let stream = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other("sandbox dropped the connection"))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// The bearer token of a request, if any.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("oauth"))
        .then(|| token.trim().to_owned())
        .filter(|t| !t.is_empty())
}

/// Sleeps on tokio's clock (pausable in tests).
pub(crate) async fn pause(d: Duration) {
    tokio::time::sleep(d).await;
}

/// A log id in TikTok's style, or a trace id in Meta's.
pub(crate) fn trace_id() -> String {
    let mut s = String::with_capacity(24);
    for _ in 0..24 {
        s.push(fastrand::alphanumeric());
    }
    s
}

/// A random token with `prefix`.
pub(crate) fn token(prefix: &str) -> String {
    let mut s = String::from(prefix);
    for _ in 0..40 {
        s.push(fastrand::alphanumeric());
    }
    s
}

/// Parses an `application/x-www-form-urlencoded` body; `None` when it is not valid UTF-8 or
/// holds a malformed escape.
pub(crate) fn parse_form(body: &[u8]) -> Option<std::collections::HashMap<String, String>> {
    let text = std::str::from_utf8(body).ok()?;
    let mut map = std::collections::HashMap::new();
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        map.insert(decode_component(k)?, decode_component(v)?);
    }
    Some(map)
}

/// Decodes one form component: `+` is a space, `%XX` a byte.
fn decode_component(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                out.push(u8::from_str_radix(s.get(i + 1..i + 3)?, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}
