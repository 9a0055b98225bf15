//! HTTP routes of the fake TikTok.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, put};
use serde_json::{Value, json};
use tokio::sync::oneshot;

use super::TikTokEndpoint;
use super::pull::{self, Pull};
use super::state::{ApiError, OAuthError, TikTokState, UploadReply};
use crate::fault::Fault;
use crate::http::{bearer, dropped, json as json_response, parse_form, pause, trace_id};

type Shared = State<Arc<TikTokState>>;

/// The fake TikTok's routes.
pub(crate) fn router(state: Arc<TikTokState>) -> Router {
    Router::new()
        .route("/v2/oauth/token/", post(token))
        .route("/v2/oauth/revoke/", post(revoke))
        .route("/v2/post/publish/creator_info/query/", post(creator_info))
        .route("/v2/post/publish/video/init/", post(video_init))
        .route("/v2/post/publish/inbox/video/init/", post(inbox_init))
        .route("/v2/post/publish/content/init/", post(content_init))
        .route("/v2/post/publish/status/fetch/", post(status))
        .route("/v2/post/publish/cancel/", post(cancel))
        .route("/v2/video/list/", post(video_list))
        .route("/v2/video/query/", post(video_query))
        // The documented upload_url is `https://open-upload.tiktokapis.com/video/?upload_id=…`.
        .route(
            "/video/",
            put(upload).layer(DefaultBodyLimit::max(130_000_000)),
        )
        .with_state(state)
}

fn ok(data: Value) -> Response {
    json_response(
        StatusCode::OK,
        json!({"data": data, "error": {"code": "ok", "message": "", "log_id": trace_id()}}),
    )
}

fn api_error(e: ApiError) -> Response {
    json_response(
        StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        json!({"data": {}, "error": {"code": e.code, "message": e.message, "log_id": trace_id()}}),
    )
}

fn oauth_error(e: OAuthError) -> Response {
    json_response(
        StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
        json!({"error": e.error, "error_description": e.description, "log_id": trace_id()}),
    )
}

fn server_error() -> Response {
    api_error(ApiError {
        status: 500,
        code: "internal_error",
        message: "Something went wrong. Please try again later.".into(),
    })
}

fn rate_limited() -> Response {
    api_error(ApiError {
        status: 429,
        code: "rate_limit_exceeded",
        message: "API rate limit was exceeded, please try again later.".into(),
    })
}

/// Runs `action` under the fault injected for `endpoint`, if any.
async fn faulted(
    state: &TikTokState,
    endpoint: TikTokEndpoint,
    token: Option<&str>,
    action: impl FnOnce() -> Response,
) -> Response {
    let fault = state.faults.take(endpoint);
    match fault {
        Some(Fault::ServerError) => return server_error(),
        Some(Fault::RateLimited) => return rate_limited(),
        Some(Fault::DropConnection) => return dropped(),
        // An upload PUT carries no access token (its URL holds the upload token), and TikTok
        // documents no 401 for it: there is nothing to expire, and the call goes through.
        Some(Fault::ExpiredToken) if token.is_none() => {}
        Some(Fault::ExpiredToken) => {
            if let Some(t) = token {
                state.expire_access_token(t);
            }
            return api_error(ApiError {
                status: 401,
                code: "access_token_invalid",
                message: "The access token is invalid or not found in the request.".into(),
            });
        }
        Some(Fault::Delay(d)) => pause(d).await,
        Some(Fault::SlowProcessing(d)) => state.slow_next_publish(d),
        _ => {}
    }
    let response = action();
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

/// Authorises the call, counts it against the rate limit, parses the JSON body, then acts.
async fn api_call(
    state: Arc<TikTokState>,
    endpoint: TikTokEndpoint,
    headers: HeaderMap,
    body: Bytes,
    scopes: &[&str],
    action: impl FnOnce(
        &TikTokState,
        &str,
        &std::collections::BTreeSet<String>,
        &Value,
    ) -> Result<Value, ApiError>,
) -> Response {
    let token = bearer(&headers);
    let presented = token.clone();
    let state2 = state.clone();
    faulted(&state, endpoint, presented.as_deref(), move || {
        let (open_id, granted) = match state2.authorize(token.as_deref(), scopes) {
            Ok(v) => v,
            Err(e) => return api_error(e),
        };
        if let Err(e) = state2.rate_limit(token.as_deref().unwrap_or(""), endpoint) {
            return api_error(e);
        }
        let json_ok = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().starts_with("application/json"));
        let value: Value = if body.is_empty() {
            json!({})
        } else if !json_ok {
            return api_error(ApiError {
                status: 400,
                code: "invalid_params",
                message: "Content-Type must be application/json; charset=UTF-8.".into(),
            });
        } else {
            match serde_json::from_slice(&body) {
                Ok(v) => v,
                Err(e) => {
                    return api_error(ApiError {
                        status: 400,
                        code: "invalid_params",
                        message: format!("The request body is not valid JSON: {e}"),
                    });
                }
            }
        };
        match action(&state2, &open_id, &granted, &value) {
            Ok(data) => ok(data),
            Err(e) => api_error(e),
        }
    })
    .await
}

async fn token(State(state): Shared, body: Bytes) -> Response {
    let state2 = state.clone();
    faulted(&state, TikTokEndpoint::Token, None, move || {
        let form: HashMap<String, String> = match parse_form(&body) {
            Some(f) => f,
            None => {
                return oauth_error(OAuthError {
                    status: 400,
                    error: "invalid_request",
                    description: "The body must be application/x-www-form-urlencoded.".into(),
                });
            }
        };
        match state2.token_grant(&form) {
            Ok(v) => json_response(StatusCode::OK, v),
            Err(e) => oauth_error(e),
        }
    })
    .await
}

async fn revoke(State(state): Shared, body: Bytes) -> Response {
    let state2 = state.clone();
    faulted(&state, TikTokEndpoint::Revoke, None, move || {
        let Some(form) = parse_form(&body) else {
            return oauth_error(OAuthError {
                status: 400,
                error: "invalid_request",
                description: "The body must be application/x-www-form-urlencoded.".into(),
            });
        };
        match state2.revoke(&form) {
            Ok(v) => json_response(StatusCode::OK, v),
            Err(e) => oauth_error(e),
        }
    })
    .await
}

async fn creator_info(State(state): Shared, headers: HeaderMap, body: Bytes) -> Response {
    api_call(
        state,
        TikTokEndpoint::CreatorInfo,
        headers,
        body,
        &["video.publish"],
        |s, open_id, _, _| s.creator_info(open_id),
    )
    .await
}

/// An init call, as [`api_call`]; when init creates a publish whose media must be downloaded,
/// the download task starts at once but waits until this call has answered. It waits on a
/// channel whose sender this call's future owns, so a call whose connection is lost (dropped
/// with its future, say while an injected `DelayAfterAccept` pauses) still lets the download
/// go: TikTok downloads whether or not the client heard the answer.
async fn init_call(
    state: Arc<TikTokState>,
    endpoint: TikTokEndpoint,
    headers: HeaderMap,
    body: Bytes,
    scopes: &[&str],
    init: impl FnOnce(
        &TikTokState,
        &str,
        &std::collections::BTreeSet<String>,
        &Value,
    ) -> Result<(Value, Option<Pull>), ApiError>,
) -> Response {
    let (answered, after_answer) = oneshot::channel::<()>();
    let spawner = state.clone();
    let response = api_call(
        state,
        endpoint,
        headers,
        body,
        scopes,
        move |s, open_id, granted, v| {
            let (data, pull) = init(s, open_id, granted, v)?;
            if let Some(pull) = pull {
                pull::spawn(spawner, pull, after_answer);
            }
            Ok(data)
        },
    )
    .await;
    drop(answered);
    response
}

async fn video_init(State(state): Shared, headers: HeaderMap, body: Bytes) -> Response {
    init_call(
        state,
        TikTokEndpoint::VideoInit,
        headers,
        body,
        &["video.publish"],
        |s, open_id, _, v| s.video_init(open_id, v, false),
    )
    .await
}

async fn inbox_init(State(state): Shared, headers: HeaderMap, body: Bytes) -> Response {
    init_call(
        state,
        TikTokEndpoint::InboxInit,
        headers,
        body,
        &["video.upload"],
        |s, open_id, _, v| s.video_init(open_id, v, true),
    )
    .await
}

async fn content_init(State(state): Shared, headers: HeaderMap, body: Bytes) -> Response {
    init_call(
        state,
        TikTokEndpoint::ContentInit,
        headers,
        body,
        &["video.publish", "video.upload"],
        |s, open_id, scopes, v| s.content_init(open_id, scopes, v),
    )
    .await
}

fn publish_id(v: &Value) -> Result<&str, ApiError> {
    v.get("publish_id").and_then(Value::as_str).ok_or(ApiError {
        status: 400,
        code: "invalid_params",
        message: "publish_id is required.".into(),
    })
}

async fn status(State(state): Shared, headers: HeaderMap, body: Bytes) -> Response {
    api_call(
        state,
        TikTokEndpoint::Status,
        headers,
        body,
        &["video.publish", "video.upload"],
        |s, open_id, _, v| s.status(open_id, publish_id(v)?),
    )
    .await
}

async fn cancel(State(state): Shared, headers: HeaderMap, body: Bytes) -> Response {
    api_call(
        state,
        TikTokEndpoint::Cancel,
        headers,
        body,
        &["video.publish", "video.upload"],
        |s, open_id, _, v| s.cancel(open_id, publish_id(v)?),
    )
    .await
}

/// The `fields` query parameter, decoded; `None` when absent or not decodable (then refused as
/// missing).
fn fields_param(query: Option<&str>) -> Option<String> {
    parse_form(query?.as_bytes())?.remove("fields")
}

async fn video_list(
    State(state): Shared,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fields = fields_param(query.as_deref());
    api_call(
        state,
        TikTokEndpoint::VideoList,
        headers,
        body,
        &["video.list"],
        move |s, open_id, _, v| s.video_list(open_id, fields.as_deref(), v),
    )
    .await
}

async fn video_query(
    State(state): Shared,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fields = fields_param(query.as_deref());
    api_call(
        state,
        TikTokEndpoint::VideoQuery,
        headers,
        body,
        &["video.list"],
        move |s, open_id, _, v| s.video_query(open_id, fields.as_deref(), v),
    )
    .await
}

async fn upload(
    State(state): Shared,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let state2 = state.clone();
    faulted(&state, TikTokEndpoint::Upload, None, move || {
        let header_str = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
        let declared_len = header_str(header::CONTENT_LENGTH).and_then(|v| v.parse::<u64>().ok());
        let body_len = u64::try_from(body.len()).unwrap_or(u64::MAX);
        if declared_len != Some(body_len) {
            return (
                StatusCode::BAD_REQUEST,
                "Content-Length is missing or wrong",
            )
                .into_response();
        }
        let reply = state2.upload(
            query.get("upload_id").map(String::as_str).unwrap_or(""),
            query.get("upload_token").map(String::as_str).unwrap_or(""),
            header_str(header::CONTENT_TYPE),
            header_str(header::CONTENT_RANGE),
            body_len,
        );
        match reply {
            UploadReply::Accepted { done, last, total } => (
                if done {
                    StatusCode::CREATED
                } else {
                    StatusCode::PARTIAL_CONTENT
                },
                [(header::CONTENT_RANGE, format!("bytes 0-{last}/{total}"))],
            )
                .into_response(),
            UploadReply::RangeMismatch { uploaded, total } => {
                let range = if uploaded == 0 {
                    format!("bytes */{total}")
                } else {
                    format!("bytes 0-{}/{total}", uploaded - 1)
                };
                (
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    [(header::CONTENT_RANGE, range)],
                )
                    .into_response()
            }
            UploadReply::Refused { status, message } => (
                StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
                message,
            )
                .into_response(),
        }
    })
    .await
}
