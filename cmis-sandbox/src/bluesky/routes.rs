//! HTTP routes of the fake PDS: XRPC under `/xrpc/<nsid>`, the `{"error","message"}` envelope and
//! the `RateLimit-*` headers.

mod records;
mod service_auth;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::Response;
use axum::routing::{get, post};
use futures_util::StreamExt;
use serde_json::{Value, json};

use super::BlueskyEndpoint;
use super::limits::RateStatus;
use super::state::{BlobUpload, BlueskyState, Reply, XrpcError, invalid, xrpc};
use crate::fault::Fault;
use crate::http::{dropped, json as json_response, parse_form, pause};

type Shared = State<Arc<BlueskyState>>;

/// The fake PDS's routes.
pub(crate) fn router(state: Arc<BlueskyState>) -> Router {
    Router::new()
        .route(
            "/xrpc/com.atproto.server.createSession",
            post(create_session),
        )
        .route(
            "/xrpc/com.atproto.server.refreshSession",
            post(refresh_session),
        )
        .route("/xrpc/com.atproto.repo.createRecord", post(create_record))
        .route("/xrpc/com.atproto.repo.getRecord", get(get_record))
        .route(
            "/xrpc/com.atproto.repo.deleteRecord",
            post(records::delete_record),
        )
        .route(
            "/xrpc/com.atproto.repo.putRecord",
            post(records::put_record),
        )
        .route(
            "/xrpc/com.atproto.repo.listRecords",
            get(records::list_records),
        )
        .route(
            "/xrpc/com.atproto.repo.uploadBlob",
            post(upload_blob).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/xrpc/com.atproto.identity.resolveHandle",
            get(resolve_handle),
        )
        .route(
            "/xrpc/com.atproto.server.describeServer",
            get(service_auth::describe_server),
        )
        .route(
            "/xrpc/com.atproto.server.getServiceAuth",
            get(service_auth::get_service_auth),
        )
        .fallback(not_implemented)
        .method_not_allowed_fallback(records::wrong_method)
        .with_state(state)
}

fn with_rate(mut response: Response, rate: Option<RateStatus>) -> Response {
    if let Some(r) = rate {
        let headers = response.headers_mut();
        for (name, value) in [
            ("ratelimit-limit", r.limit.to_string()),
            ("ratelimit-remaining", r.remaining.to_string()),
            ("ratelimit-reset", r.reset.to_string()),
            (
                "ratelimit-policy",
                format!("{};w={}", r.limit, r.window_secs),
            ),
        ] {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        }
    }
    response
}

fn error(e: XrpcError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = json_response(status, json!({"error": e.error, "message": e.message}));
    // The PDS adds `Retry-After` (a delay, unlike `RateLimit-Reset`) to its 429s.
    if let Some(r) = e.rate.filter(|_| status == StatusCode::TOO_MANY_REQUESTS) {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(r.retry_after.max(0)));
    }
    with_rate(response, e.rate)
}

fn reply(result: Result<Reply, XrpcError>) -> Response {
    match result {
        Ok(r) => with_rate(json_response(StatusCode::OK, r.body), r.rate),
        Err(e) => error(e),
    }
}

fn plain(result: Result<Value, XrpcError>) -> Response {
    reply(result.map(|body| Reply { body, rate: None }))
}

fn server_error() -> Response {
    error(xrpc(500, "InternalServerError", "Internal Server Error"))
}

async fn not_implemented(uri: Uri) -> Response {
    if uri.path().starts_with("/xrpc/") {
        error(xrpc(501, "MethodNotImplemented", "Method Not Implemented"))
    } else {
        error(xrpc(404, "NotFound", "Not Found"))
    }
}

/// Runs `action` under the PDS's global per-IP limit and the fault injected for `endpoint`, if
/// any. `token` is the JWT the call presented, which an injected `ExpiredToken` expires; calls
/// without one go through.
///
/// The global limiter runs before every method (as `xrpc-server`'s does) and its `RateLimit-*`
/// headers go on every answer that has none of its own method's (a method's own limiter sets them
/// later, so they win): real 4xx answers carry them too (fixture README, MarshalX/atproto#158).
async fn faulted(
    state: &BlueskyState,
    endpoint: BlueskyEndpoint,
    token: Option<&str>,
    action: impl Future<Output = Response>,
) -> Response {
    let global = match state.consume_global() {
        Ok(status) => status,
        Err(status) => {
            return error(XrpcError {
                rate: Some(status),
                ..xrpc(429, "RateLimitExceeded", "Rate Limit Exceeded")
            });
        }
    };
    let response = faulted_method(state, endpoint, token, action).await;
    if response.headers().contains_key("ratelimit-limit") {
        response
    } else {
        with_rate(response, Some(global))
    }
}

async fn faulted_method(
    state: &BlueskyState,
    endpoint: BlueskyEndpoint,
    token: Option<&str>,
    action: impl Future<Output = Response>,
) -> Response {
    let fault = state.faults.take(endpoint);
    match fault {
        Some(Fault::ServerError) => return server_error(),
        Some(Fault::RateLimited) => {
            // The shortest window: the limit a burst of calls meets first.
            let rules = state.rules(endpoint);
            let rule = rules.iter().min_by_key(|r| r.window_secs);
            let status = rule.map(|&r| RateStatus::exhausted(r, state.now_ms()));
            return error(XrpcError {
                rate: status,
                ..xrpc(429, "RateLimitExceeded", "Rate Limit Exceeded")
            });
        }
        Some(Fault::DropConnection) => return dropped(),
        Some(Fault::ExpiredToken) => {
            if let Some(t) = token {
                state.expire_token(t);
                return error(xrpc(400, "ExpiredToken", "Token has expired"));
            }
        }
        Some(Fault::Delay(d)) => pause(d).await,
        _ => {}
    }
    let response = action.await;
    match fault {
        Some(Fault::ServerErrorAfterAccept) if response.status().is_success() => server_error(),
        Some(Fault::DropAfterAccept) if response.status().is_success() => dropped(),
        Some(Fault::DelayAfterAccept(d)) => {
            pause(d).await;
            response
        }
        _ => response,
    }
}

/// The token of `Authorization: Bearer <jwt>`; `None` without the header.
fn bearer(headers: &HeaderMap) -> Result<Option<String>, XrpcError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().unwrap_or("");
    let parts: Vec<&str> = value.split(' ').collect();
    let [scheme, token] = parts[..] else {
        return Err(xrpc(400, "InvalidToken", "Malformed authorization header"));
    };
    match scheme.to_ascii_uppercase().as_str() {
        "BEARER" => Ok(Some(token.to_owned())),
        "BASIC" | "DPOP" => Err(xrpc(400, "InvalidToken", "Unexpected authorization type")),
        _ => Err(xrpc(
            400,
            "InvalidToken",
            format!("Unsupported authorization type: {scheme}"),
        )),
    }
}

/// A JSON procedure input: `Content-Type: application/json` and an object.
fn json_input(headers: &HeaderMap, body: &[u8]) -> Result<Value, XrpcError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let Some(content_type) = content_type else {
        return Err(invalid(
            "Request encoding (Content-Type) required but not provided",
        ));
    };
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("application/json") {
        return Err(invalid(format!(
            "Wrong request encoding (Content-Type): {essence}"
        )));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(v) if v.is_object() => Ok(v),
        Ok(_) => Err(invalid("Input must be an object")),
        Err(e) => Err(invalid(format!("Invalid JSON input: {e}"))),
    }
}

fn query(raw: Option<&str>) -> Result<HashMap<String, String>, XrpcError> {
    parse_form(raw.unwrap_or("").as_bytes()).ok_or_else(|| invalid("Malformed query string"))
}

async fn create_session(State(state): Shared, headers: HeaderMap, body: Bytes) -> Response {
    let s = state.clone();
    faulted(&state, BlueskyEndpoint::CreateSession, None, async move {
        match json_input(&headers, &body) {
            Ok(input) => reply(s.create_session(&input)),
            Err(e) => error(e),
        }
    })
    .await
}

async fn refresh_session(State(state): Shared, headers: HeaderMap) -> Response {
    let token = bearer(&headers);
    let presented = token.as_ref().ok().cloned().flatten();
    let s = state.clone();
    faulted(
        &state,
        BlueskyEndpoint::RefreshSession,
        presented.as_deref(),
        async move {
            match token {
                Ok(t) => reply(s.refresh_session(t.as_deref())),
                Err(e) => error(e),
            }
        },
    )
    .await
}

async fn create_record(State(state): Shared, headers: HeaderMap, body: Bytes) -> Response {
    let token = bearer(&headers);
    let presented = token.as_ref().ok().cloned().flatten();
    let s = state.clone();
    faulted(
        &state,
        BlueskyEndpoint::CreateRecord,
        presented.as_deref(),
        async move {
            let did = match token.and_then(|t| s.authorize(t.as_deref())) {
                Ok(did) => did,
                Err(e) => return error(e),
            };
            match json_input(&headers, &body) {
                Ok(input) => reply(s.create_record(&did, &input)),
                Err(e) => error(e),
            }
        },
    )
    .await
}

/// Reads an upload up to `limit` bytes; a longer body is read to its end (so the client gets
/// the answer rather than a reset connection) and refused.
async fn read_upload(body: Body, limit: u64) -> Result<Vec<u8>, XrpcError> {
    let too_large = || xrpc(413, "PayloadTooLarge", "request entity too large");
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    let mut over = false;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| invalid(format!("Could not read the body: {e}")))?;
        if over || bytes.len() + chunk.len() > limit {
            over = true;
            bytes = Vec::new();
        } else {
            bytes.extend_from_slice(&chunk);
        }
    }
    if over { Err(too_large()) } else { Ok(bytes) }
}

async fn upload_blob(State(state): Shared, headers: HeaderMap, body: Body) -> Response {
    let token = bearer(&headers);
    let presented = token.as_ref().ok().cloned().flatten();
    let s = state.clone();
    faulted(
        &state,
        BlueskyEndpoint::UploadBlob,
        presented.as_deref(),
        async move {
            let did = match token.and_then(|t| s.authorize(t.as_deref())) {
                Ok(did) => did,
                Err(e) => return error(e),
            };
            let bytes = match read_upload(body, s.config().blob_upload_limit).await {
                Ok(b) => b,
                Err(e) => return error(e),
            };
            let mime_type = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.split(';').next().unwrap_or("").trim());
            plain(s.upload_blob(
                &did,
                BlobUpload {
                    mime_type,
                    bytes: &bytes,
                },
            ))
        },
    )
    .await
}

async fn get_record(State(state): Shared, RawQuery(raw): RawQuery) -> Response {
    let s = state.clone();
    // The PDS reads records without authentication: a token sent along is not checked.
    faulted(&state, BlueskyEndpoint::GetRecord, None, async move {
        plain(query(raw.as_deref()).and_then(|q| s.get_record(&q)))
    })
    .await
}

async fn resolve_handle(State(state): Shared, RawQuery(raw): RawQuery) -> Response {
    let s = state.clone();
    faulted(&state, BlueskyEndpoint::ResolveHandle, None, async move {
        plain(query(raw.as_deref()).and_then(|q| s.resolve_handle(&q)))
    })
    .await
}
