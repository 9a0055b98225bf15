//! HTTP routes of the fake video service: XRPC under `/xrpc/<nsid>` with the
//! `{"error","message"}` envelope.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::Response;
use axum::routing::{get, post};
use futures_util::StreamExt;
use serde_json::{Value, json};

use super::BlueskyVideoEndpoint;
use super::state::VideoState;
use crate::bluesky::state::{XrpcError, invalid, xrpc};
use crate::fault::Fault;
use crate::http::{bearer, dropped, json as json_response, parse_form, pause};

type Shared = State<Arc<VideoState>>;

/// The fake video service's routes.
pub(crate) fn router(state: Arc<VideoState>) -> Router {
    Router::new()
        .route(
            "/xrpc/app.bsky.video.uploadVideo",
            post(upload_video).layer(DefaultBodyLimit::disable()),
        )
        .route("/xrpc/app.bsky.video.getJobStatus", get(get_job_status))
        .route(
            "/xrpc/app.bsky.video.getUploadLimits",
            get(get_upload_limits),
        )
        .fallback(not_implemented)
        .with_state(state)
}

fn error(e: XrpcError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    json_response(status, json!({"error": e.error, "message": e.message}))
}

fn plain(result: Result<Value, XrpcError>) -> Response {
    match result {
        Ok(body) => json_response(StatusCode::OK, body),
        Err(e) => error(e),
    }
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

fn query(raw: Option<&str>) -> Result<HashMap<String, String>, XrpcError> {
    parse_form(raw.unwrap_or("").as_bytes()).ok_or_else(|| invalid("Malformed query string"))
}

/// Runs `action` under the fault injected for `endpoint`, if any. `action` gets the extra
/// processing time of an injected [`Fault::SlowProcessing`]. `token` is the service token the
/// call presented, which an injected `ExpiredToken` expires; calls without one go through.
async fn faulted<F, Fut>(
    state: &VideoState,
    endpoint: BlueskyVideoEndpoint,
    token: Option<&str>,
    action: F,
) -> Response
where
    F: FnOnce(Duration) -> Fut,
    Fut: Future<Output = Response>,
{
    let fault = state.faults.take(endpoint);
    match fault {
        Some(Fault::ServerError) => return server_error(),
        Some(Fault::RateLimited) => {
            return error(xrpc(429, "RateLimitExceeded", "Rate Limit Exceeded"));
        }
        Some(Fault::DropConnection) => return dropped(),
        Some(Fault::ExpiredToken) => {
            if let Some(t) = token {
                state.pds().expire_service_token(t);
                return error(xrpc(401, "JwtExpired", "jwt expired"));
            }
        }
        Some(Fault::Delay(d)) => pause(d).await,
        _ => {}
    }
    let slow = match fault {
        Some(Fault::SlowProcessing(d)) => d,
        _ => Duration::ZERO,
    };
    let response = action(slow).await;
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

/// Reads an upload up to `limit` bytes; a longer body is read to its end (so the client gets
/// the answer rather than a reset connection) and refused with `VideoTooLarge`.
async fn read_upload(body: Body, limit: u64) -> Result<Vec<u8>, XrpcError> {
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    let mut total: u64 = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| invalid(format!("Could not read the body: {e}")))?;
        total = total.saturating_add(u64::try_from(chunk.len()).unwrap_or(u64::MAX));
        if total > limit {
            bytes = Vec::new();
        } else {
            bytes.extend_from_slice(&chunk);
        }
    }
    if total > limit {
        Err(xrpc(
            400,
            "VideoTooLarge",
            format!("Video is too large: {total} bytes, the maximum is {limit} bytes"),
        ))
    } else {
        Ok(bytes)
    }
}

/// The input encoding `uploadVideo` declares: `video/mp4`.
fn mp4_encoding(headers: &HeaderMap) -> Result<(), XrpcError> {
    let Some(content_type) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return Err(invalid(
            "Request encoding (Content-Type) required but not provided",
        ));
    };
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if essence.eq_ignore_ascii_case("video/mp4") {
        Ok(())
    } else {
        Err(invalid(format!(
            "Wrong request encoding (Content-Type): {essence}"
        )))
    }
}

async fn upload_video(
    State(state): Shared,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: Body,
) -> Response {
    let token = bearer(&headers);
    let presented = token.clone();
    let s = state.clone();
    faulted(
        &state,
        BlueskyVideoEndpoint::UploadVideo,
        presented.as_deref(),
        |slow| async move {
            let params = match query(raw.as_deref()) {
                Ok(p) => p,
                Err(e) => return error(e),
            };
            let did = match s.authorize_upload(token.as_deref(), &params) {
                Ok(did) => did,
                Err(e) => return error(e),
            };
            if let Err(e) = mp4_encoding(&headers) {
                return error(e);
            }
            let bytes = match read_upload(body, s.config().max_video_bytes).await {
                Ok(b) => b,
                Err(e) => return error(e),
            };
            let name = params.get("name").cloned();
            plain(s.upload(&did, name, &bytes, slow))
        },
    )
    .await
}

async fn get_job_status(State(state): Shared, RawQuery(raw): RawQuery) -> Response {
    let s = state.clone();
    // Public: a token sent along is not checked.
    faulted(
        &state,
        BlueskyVideoEndpoint::GetJobStatus,
        None,
        |_| async move { plain(query(raw.as_deref()).and_then(|q| s.job_status(&q))) },
    )
    .await
}

async fn get_upload_limits(State(state): Shared, headers: HeaderMap) -> Response {
    let token = bearer(&headers);
    let presented = token.clone();
    let s = state.clone();
    faulted(
        &state,
        BlueskyVideoEndpoint::GetUploadLimits,
        presented.as_deref(),
        |_| async move { plain(s.upload_limits(token.as_deref())) },
    )
    .await
}
