//! HTTP routes of the fake YouTube: `/token`, `/youtube/v3/...`, `/upload/youtube/v3/...`,
//! and fault injection.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::YouTubeEndpoint;
use super::fields::select;
use super::state::{READONLY_SCOPE, UPLOAD_SCOPE, YouTubeState, YtBody, YtError, bad_request};
use super::upload::{ChunkReply, not_resumable};
use crate::fault::Fault;
use crate::http::{bearer, dropped, parse_form, pause};

type Shared = State<Arc<YouTubeState>>;
type QueryMap = Query<HashMap<String, String>>;

/// The fake YouTube's routes.
pub(crate) fn router(state: Arc<YouTubeState>) -> Router {
    Router::new()
        .route("/token", post(token))
        .route("/revoke", post(revoke))
        .route(
            "/upload/youtube/v3/videos",
            post(start_upload)
                .put(put_chunk)
                .layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/upload/youtube/v3/thumbnails/set",
            post(set_thumbnail).layer(DefaultBodyLimit::max(64 * 1024 * 1024)),
        )
        .route(
            "/youtube/v3/videos",
            get(list_videos).put(update_video).delete(delete_video),
        )
        .route("/youtube/v3/channels", get(list_channels))
        .route("/youtube/v3/playlistItems", get(list_playlist_items))
        .fallback(|| async {
            error_response(super::state::google(
                404,
                "global",
                "notFound",
                "Not Found",
                None,
            ))
        })
        .with_state(state)
}

fn error_response(e: YtError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut r = match e.body {
        YtBody::Json(v) => json_with(status, v),
        YtBody::Text(content_type, text) => {
            (status, [(header::CONTENT_TYPE, content_type)], text).into_response()
        }
    };
    if e.www_authenticate {
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(
                "Bearer realm=\"https://accounts.google.com/\", error=\"invalid_token\"",
            ),
        );
    }
    r
}

/// JSON with Google's `Content-Type: application/json; charset=UTF-8`.
fn json_with(status: StatusCode, v: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=UTF-8")],
        v.to_string(),
    )
        .into_response()
}

/// `errors.json` → `backend_error_503` on a chunk, `backend_error_500` elsewhere.
fn backend_error(status: u16) -> Response {
    error_response(YtError {
        status,
        body: YtBody::Json(json!({"error": {
            "errors": [{"domain": "global", "reason": "backendError", "message": "Backend Error"}],
            "code": status,
            "message": "Backend Error",
        }})),
        www_authenticate: false,
    })
}

/// Runs `action` under the fault injected for `endpoint`, if any.
async fn faulted(
    state: &YouTubeState,
    endpoint: YouTubeEndpoint,
    token: Option<&str>,
    action: impl FnOnce() -> Response,
) -> Response {
    let failure = if endpoint == YouTubeEndpoint::UploadChunk {
        503
    } else {
        500
    };
    let fault = state.faults.take(endpoint);
    match fault {
        Some(Fault::ServerError) => return backend_error(failure),
        Some(Fault::RateLimited) => {
            // `errors.json` → `rate_limit_exceeded` (constructed there).
            return error_response(super::state::google(
                403,
                "usageLimits",
                "rateLimitExceeded",
                "Rate Limit Exceeded",
                None,
            ));
        }
        Some(Fault::DropConnection) => return dropped(),
        // A session URI needs no token: nothing to expire, and the call goes through.
        Some(Fault::ExpiredToken) => {
            if let Some(t) = token.filter(|_| endpoint != YouTubeEndpoint::UploadChunk) {
                return error_response(state.expire_token_now(t));
            }
        }
        Some(Fault::Delay(d)) => pause(d).await,
        Some(Fault::SlowProcessing(d)) => {
            state.slow_next_video(u32::try_from(d.as_secs().max(1)).unwrap_or(u32::MAX));
        }
        _ => {}
    }
    let response = action();
    // A chunk's 308 is success too: the bytes were stored.
    let accepted =
        response.status().is_success() || response.status() == StatusCode::PERMANENT_REDIRECT;
    match fault {
        Some(Fault::ServerErrorAfterAccept) if accepted => backend_error(failure),
        Some(Fault::DropAfterAccept) if accepted => dropped(),
        Some(Fault::DelayAfterAccept(d)) => {
            pause(d).await;
            response
        }
        _ => response,
    }
}

/// Runs an authorized API call.
async fn api_call(
    state: Arc<YouTubeState>,
    endpoint: YouTubeEndpoint,
    headers: &HeaderMap,
    scopes: &'static [&'static str],
    method: &'static str,
    cost: u32,
    action: impl FnOnce(&YouTubeState, &str) -> Result<Response, YtError>,
) -> Response {
    let token = bearer(headers);
    let presented = token.clone();
    let s = state.clone();
    faulted(&state, endpoint, presented.as_deref(), move || {
        // Every authorized call costs its units, refused ones too (`quota.rs`).
        let result = s
            .authorize(token.as_deref(), scopes, method)
            .and_then(|channel| {
                if cost > 0 {
                    s.charge_units(cost)?;
                }
                Ok(channel)
            })
            .and_then(|channel| action(&s, &channel));
        result.unwrap_or_else(error_response)
    })
    .await
}

const READ: &[&str] = &[READONLY_SCOPE];
const WRITE: &[&str] = &[UPLOAD_SCOPE];
/// Only the full scopes (`youtube`, `youtube.force-ssl`, `youtubepartner`), which
/// `YouTubeState::authorize` always allows.
const FULL: &[&str] = &[];

async fn token(State(state): Shared, body: Bytes) -> Response {
    let s = state.clone();
    faulted(&state, YouTubeEndpoint::Token, None, move || {
        let Some(form) = parse_form(&body) else {
            return error_response(bad_request("The form body is malformed."));
        };
        match s.token_grant(&form) {
            Ok(v) => json_with(StatusCode::OK, v),
            Err(e) => error_response(e),
        }
    })
    .await
}

/// `POST /revoke` with `token` in the form body or the query: 200 with an empty body; a token
/// that is unknown, expired or already revoked gets 400 `invalid_token` "Token expired or
/// revoked" (Google's revoke answer). Faults as `Token`'s.
async fn revoke(State(state): Shared, Query(q): QueryMap, body: Bytes) -> Response {
    let s = state.clone();
    faulted(&state, YouTubeEndpoint::Token, None, move || {
        let form = parse_form(&body).unwrap_or_default();
        let token = form
            .get("token")
            .or_else(|| q.get("token"))
            .map_or("", String::as_str);
        if s.revoke_grant(token) {
            StatusCode::OK.into_response()
        } else {
            error_response(super::state::oauth(
                400,
                "invalid_token",
                "Token expired or revoked",
            ))
        }
    })
    .await
}

/// Step 1 (brief §3): 200, empty body, `Location` (the session URI) and
/// `X-GUploader-UploadID` (fixture `upload_init_response.json`). `part` is required
/// (videos.insert reference). `uploadType=multipart` uploads in one request (`multipart.rs`).
async fn start_upload(
    State(state): Shared,
    Query(q): QueryMap,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let declared = headers
        .get("x-upload-content-length")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().parse::<u64>());
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let method = "youtube.api.v3.V3DataVideoService.Insert";
    api_call(
        state,
        YouTubeEndpoint::StartUpload,
        &headers,
        WRITE,
        method,
        0,
        move |s, channel| {
            let part = q
                .get("part")
                .map(String::as_str)
                .filter(|p| !p.trim().is_empty())
                .ok_or_else(|| {
                    super::state::google(
                        400,
                        "global",
                        "required",
                        "Required parameter: part",
                        Some(("part", "parameter")),
                    )
                })?;
            match q.get("uploadType").map(String::as_str) {
                Some("resumable") => {}
                Some("multipart") => {
                    let v = s.multipart_insert(channel, part, &ctype, &body)?;
                    return Ok(json_with(StatusCode::OK, select(&q, v)?));
                }
                _ => return Err(not_resumable()),
            }
            let declared = declared
                .transpose()
                .map_err(|_| bad_request("X-Upload-Content-Length must be a number."))?;
            let id = s.start_session(channel, part, declared, &body)?;
            let location = format!(
                "{}/upload/youtube/v3/videos?uploadType=resumable&upload_id={id}&part={part}",
                s.base_url()
            );
            let mut r = StatusCode::OK.into_response();
            if let (Ok(loc), Ok(uid)) =
                (HeaderValue::from_str(&location), HeaderValue::from_str(&id))
            {
                r.headers_mut().insert(header::LOCATION, loc);
                r.headers_mut().insert("x-guploader-uploadid", uid);
            }
            Ok(r)
        },
    )
    .await
}

/// Steps 2 and 3 (brief §3): a chunk or a probe on the session URI.
async fn put_chunk(
    State(state): Shared,
    Query(q): QueryMap,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let token = bearer(&headers);
    let s = state.clone();
    faulted(
        &state,
        YouTubeEndpoint::UploadChunk,
        token.as_deref(),
        move || {
            let range = headers
                .get(header::CONTENT_RANGE)
                .and_then(|v| v.to_str().ok());
            let id = q.get("upload_id").map_or("", String::as_str);
            let len = u64::try_from(body.len()).unwrap_or(u64::MAX);
            match s.put_chunk(id, range, len) {
                Ok(ChunkReply::Incomplete(received)) => {
                    let mut r = StatusCode::PERMANENT_REDIRECT.into_response();
                    if received > 0
                        && let Ok(v) = HeaderValue::from_str(&format!("bytes=0-{}", received - 1))
                    {
                        r.headers_mut().insert(header::RANGE, v);
                    }
                    r
                }
                Ok(ChunkReply::Complete(v)) => json_with(StatusCode::CREATED, v),
                Err(e) => error_response(e),
            }
        },
    )
    .await
}

async fn list_videos(State(state): Shared, Query(q): QueryMap, headers: HeaderMap) -> Response {
    let method = "youtube.api.v3.V3DataVideoService.List";
    api_call(
        state,
        YouTubeEndpoint::ListVideos,
        &headers,
        READ,
        method,
        1,
        move |s, c| {
            let v = select(&q, s.list_videos(c, &q)?)?;
            Ok(json_with(StatusCode::OK, v))
        },
    )
    .await
}

/// `videos.update` and `videos.delete` (`edits.rs`): 50 units each, a full YouTube scope.
/// Faults as `ListVideos`'s.
async fn update_video(
    State(state): Shared,
    Query(q): QueryMap,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let method = "youtube.api.v3.V3DataVideoService.Update";
    api_call(
        state,
        YouTubeEndpoint::ListVideos,
        &headers,
        FULL,
        method,
        50,
        move |s, c| {
            let v = select(&q, s.update_video(c, &q, &body)?)?;
            Ok(json_with(StatusCode::OK, v))
        },
    )
    .await
}

async fn delete_video(State(state): Shared, Query(q): QueryMap, headers: HeaderMap) -> Response {
    let method = "youtube.api.v3.V3DataVideoService.Delete";
    api_call(
        state,
        YouTubeEndpoint::ListVideos,
        &headers,
        FULL,
        method,
        50,
        move |s, c| {
            s.delete_video(c, &q)?;
            Ok(StatusCode::NO_CONTENT.into_response())
        },
    )
    .await
}

async fn list_channels(State(state): Shared, Query(q): QueryMap, headers: HeaderMap) -> Response {
    let method = "youtube.api.v3.V3DataChannelService.List";
    api_call(
        state,
        YouTubeEndpoint::ListChannels,
        &headers,
        READ,
        method,
        1,
        move |s, c| {
            let v = select(&q, s.list_channels(c, &q)?)?;
            Ok(json_with(StatusCode::OK, v))
        },
    )
    .await
}

async fn list_playlist_items(
    State(state): Shared,
    Query(q): QueryMap,
    headers: HeaderMap,
) -> Response {
    let method = "youtube.api.v3.V3DataPlaylistItemService.List";
    api_call(
        state,
        YouTubeEndpoint::ListPlaylistItems,
        &headers,
        READ,
        method,
        1,
        move |s, c| {
            let v = select(&q, s.list_playlist_items(c, &q)?)?;
            Ok(json_with(StatusCode::OK, v))
        },
    )
    .await
}

async fn set_thumbnail(
    State(state): Shared,
    Query(q): QueryMap,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let method = "youtube.api.v3.V3DataThumbnailService.Set";
    api_call(
        state,
        YouTubeEndpoint::SetThumbnail,
        &headers,
        WRITE,
        method,
        50,
        move |s, c| {
            let id = q.get("videoId").map_or("", String::as_str);
            let v = select(&q, s.set_thumbnail(c, id, body.len())?)?;
            Ok(json_with(StatusCode::OK, v))
        },
    )
    .await
}
