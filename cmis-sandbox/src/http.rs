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
