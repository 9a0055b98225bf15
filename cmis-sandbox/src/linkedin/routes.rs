//! HTTP routes of the fake LinkedIn: the token endpoint, `/rest/...` behind the version and
//! token gate, the upload URLs under `/dms-uploads/`, and fault injection.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde_json::{Value, json};

use super::LinkedInEndpoint;
use super::edits::batch_ids;
use super::media::{Kind, Uploaded};
use super::state::{Caller, LiError, LinkedInState, invalid, not_found, token_expired};
use crate::fault::Fault;
use crate::http::{bearer, dropped, parse_form, pause};

type Shared = State<Arc<LinkedInState>>;
type QueryMap = Query<HashMap<String, String>>;

/// The fake LinkedIn's routes.
pub(crate) fn router(state: Arc<LinkedInState>) -> Router {
    Router::new()
        .route("/oauth/v2/accessToken", post(token))
        .route("/oauth/v2/revoke", post(revoke))
        .route("/v2/userinfo", get(userinfo))
        .route("/rest/posts", post(create_post).get(list_posts))
        .route(
            "/rest/posts/{urn}",
            get(get_post).delete(delete_post).post(update_post),
        )
        .route("/rest/{resource}", post(media_action).get(media_batch))
        .route("/rest/{resource}/{urn}", get(media_status))
        .route(
            "/dms-uploads/{*rest}",
            put(upload).layer(DefaultBodyLimit::disable()),
        )
        .fallback(|| async { error_response(not_found()) })
        .with_state(state)
}

pub(crate) fn error_response(e: LiError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = (status, axum::Json(e.body)).into_response();
    let h = response.headers_mut();
    if !e.oauth {
        h.insert(
            "x-restli-protocol-version",
            HeaderValue::from_static("2.0.0"),
        );
        h.insert("x-restli-error-response", HeaderValue::from_static("true"));
    }
    if e.gateway {
        h.insert("x-restli-gateway-error", HeaderValue::from_static("true"));
    }
    response
}

fn json_ok(v: Value) -> Response {
    (StatusCode::OK, axum::Json(v)).into_response()
}

/// `errors.json` → `server_error` (constructed there), with `x-li-uuid` and `x-li-fabric`.
fn server_error() -> Response {
    let mut r = error_response(super::state::rest(
        500,
        json!({"message":"Internal Server Error","status":500}),
    ));
    let uuid = format!(
        "{}==",
        crate::http::trace_id().get(..22).unwrap_or_default()
    );
    if let Ok(v) = HeaderValue::from_str(&uuid) {
        r.headers_mut().insert("x-li-uuid", v);
    }
    r.headers_mut()
        .insert("x-li-fabric", HeaderValue::from_static("prod-ltx1"));
    r
}

/// `errors.json` → `throttled_application_day`: no `Retry-After`, no rate-limit headers.
fn throttled() -> Response {
    error_response(super::state::rest(
        429,
        json!({"status":429,"serviceErrorCode":101,"code":"TOO_MANY_REQUESTS","message":"Resource level throttle APPLICATION DAY limit for calls to this resource is reached."}),
    ))
}

/// Runs `action` under the fault injected for `endpoint`, if any.
async fn faulted(
    state: &LinkedInState,
    endpoint: LinkedInEndpoint,
    token: Option<&str>,
    action: impl FnOnce() -> Response,
) -> Response {
    let fault = state.faults.take(endpoint);
    match fault {
        Some(Fault::ServerError) => return server_error(),
        Some(Fault::RateLimited) => return throttled(),
        Some(Fault::DropConnection) => return dropped(),
        Some(Fault::ExpiredToken) => {
            if let Some(t) = token {
                state.expire_token(t);
                return error_response(token_expired());
            }
        }
        Some(Fault::Delay(d)) => pause(d).await,
        Some(Fault::SlowProcessing(d)) => {
            state.slow_next_video(u32::try_from(d.as_secs().max(1)).unwrap_or(u32::MAX));
        }
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

/// Runs a `/rest/` call: faults first, then the gate, then `action`.
async fn rest_call(
    state: Arc<LinkedInState>,
    endpoint: LinkedInEndpoint,
    headers: HeaderMap,
    action: impl FnOnce(&LinkedInState, &Caller) -> Result<Response, LiError>,
) -> Response {
    let token = bearer(&headers);
    let presented = token.clone();
    let s = state.clone();
    faulted(&state, endpoint, presented.as_deref(), move || {
        let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let caller = match s.gate(
            h("linkedin-version"),
            h("x-restli-protocol-version"),
            token.as_deref(),
        ) {
            Ok(c) => c,
            Err(e) => return error_response(e),
        };
        action(&s, &caller).unwrap_or_else(error_response)
    })
    .await
}

fn json_body(body: &Bytes) -> Result<Value, LiError> {
    serde_json::from_slice(body).map_err(|e| invalid("", &format!("The body is not JSON: {e}")))
}

async fn token(State(state): Shared, body: Bytes) -> Response {
    let s = state.clone();
    faulted(&state, LinkedInEndpoint::Token, None, move || {
        let Some(form) = parse_form(&body) else {
            return error_response(invalid("", "The form body is malformed"));
        };
        match s.token_grant(&form) {
            Ok(v) => json_ok(v),
            Err(e) => error_response(e),
        }
    })
    .await
}

/// 201, empty body, `x-restli-id: urn:li:share:…` (fixture `post_created_response.json`).
async fn create_post(State(state): Shared, headers: HeaderMap, body: Bytes) -> Response {
    rest_call(state, LinkedInEndpoint::CreatePost, headers, move |s, c| {
        let urn = s.create_post(c, &json_body(&body)?)?;
        let mut r = StatusCode::CREATED.into_response();
        if let Ok(v) = HeaderValue::from_str(&urn) {
            r.headers_mut().insert("x-restli-id", v);
        }
        Ok(r)
    })
    .await
}

/// The author finder (`q=author`), or a `BATCH_GET` (`ids=List(…)`, `edits.rs`).
async fn list_posts(
    State(state): Shared,
    Query(q): QueryMap,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let Some(ids) = batch_ids(raw.as_deref()) else {
        return rest_call(state, LinkedInEndpoint::ListPosts, headers, move |s, c| {
            s.list_posts(c, &q).map(json_ok)
        })
        .await;
    };
    rest_call(state, LinkedInEndpoint::GetPost, headers, move |s, c| {
        Ok(json_ok(s.batch_get_posts(c, ids?)))
    })
    .await
}

/// `PARTIAL_UPDATE` (`edits.rs`): 204. Faults for it are injected as `DeletePost`'s, the
/// other write on `/rest/posts/{urn}`.
async fn update_post(
    State(state): Shared,
    Path(urn): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let method = headers
        .get("x-restli-method")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    rest_call(state, LinkedInEndpoint::DeletePost, headers, move |s, c| {
        s.update_post(c, &urn, method.as_deref(), &json_body(&body)?)?;
        Ok(StatusCode::NO_CONTENT.into_response())
    })
    .await
}

/// `GET /rest/{images|documents|videos}?ids=List(…)` (`edits.rs`).
async fn media_batch(
    State(state): Shared,
    Path(resource): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    rest_call(
        state,
        LinkedInEndpoint::MediaStatus,
        headers,
        move |s, c| {
            let kind = Kind::from_path(&resource).ok_or_else(not_found)?;
            let ids = batch_ids(raw.as_deref())
                .unwrap_or_else(|| Err(invalid("ids", "Batch get needs ids=List(…)")))?;
            Ok(json_ok(s.batch_get_media(c, kind, ids)))
        },
    )
    .await
}

/// `POST /oauth/v2/revoke` (`edits.rs`): 200, empty body. Faults as `Token`'s.
async fn revoke(State(state): Shared, body: Bytes) -> Response {
    let s = state.clone();
    faulted(&state, LinkedInEndpoint::Token, None, move || {
        let Some(form) = parse_form(&body) else {
            return error_response(super::state::oauth(
                400,
                "invalid_request",
                "The form body is malformed",
            ));
        };
        match s.revoke(&form) {
            Ok(()) => StatusCode::OK.into_response(),
            Err(e) => error_response(e),
        }
    })
    .await
}

/// `GET /v2/userinfo` (`edits.rs`): no `LinkedIn-Version` (it is not under `/rest/`). Faults
/// as `Token`'s.
async fn userinfo(State(state): Shared, headers: HeaderMap) -> Response {
    let token = bearer(&headers);
    let presented = token.clone();
    let s = state.clone();
    faulted(
        &state,
        LinkedInEndpoint::Token,
        presented.as_deref(),
        move || {
            s.userinfo(token.as_deref())
                .map_or_else(error_response, json_ok)
        },
    )
    .await
}

async fn get_post(State(state): Shared, Path(urn): Path<String>, headers: HeaderMap) -> Response {
    rest_call(state, LinkedInEndpoint::GetPost, headers, move |s, c| {
        s.get_post(c, &urn).map(json_ok)
    })
    .await
}

async fn delete_post(
    State(state): Shared,
    Path(urn): Path<String>,
    headers: HeaderMap,
) -> Response {
    rest_call(state, LinkedInEndpoint::DeletePost, headers, move |s, c| {
        s.delete_post(c, &urn)?;
        Ok(StatusCode::NO_CONTENT.into_response())
    })
    .await
}

/// `POST /rest/{images|documents|videos}?action=initializeUpload` and
/// `POST /rest/videos?action=finalizeUpload` (200, empty body).
async fn media_action(
    State(state): Shared,
    Path(resource): Path<String>,
    Query(q): QueryMap,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let kind = Kind::from_path(&resource);
    let action = q.get("action").cloned().unwrap_or_default();
    let endpoint = if action == "finalizeUpload" {
        LinkedInEndpoint::FinalizeVideo
    } else {
        LinkedInEndpoint::InitializeUpload
    };
    rest_call(state, endpoint, headers, move |s, c| {
        let kind = kind.ok_or_else(not_found)?;
        match (action.as_str(), kind) {
            ("initializeUpload", _) => s.initialize(c, kind, &json_body(&body)?).map(json_ok),
            ("finalizeUpload", Kind::Video) => {
                s.finalize(c, &json_body(&body)?)?;
                Ok(StatusCode::OK.into_response())
            }
            _ => Err(invalid("action", &format!("Unsupported action {action:?}"))),
        }
    })
    .await
}

async fn media_status(
    State(state): Shared,
    Path((resource, urn)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    rest_call(
        state,
        LinkedInEndpoint::MediaStatus,
        headers,
        move |s, c| {
            let kind = Kind::from_path(&resource).ok_or_else(not_found)?;
            s.media_read(c, kind, &urn).map(json_ok)
        },
    )
    .await
}

/// `PUT` of an upload URL. Pre-signed: no `Authorization` or `LinkedIn-Version` is needed
/// (brief §4.2, brightbean). Video parts answer 200 with an `ETag`; images and documents 201.
async fn upload(State(state): Shared, Query(q): QueryMap, body: Bytes) -> Response {
    let s = state.clone();
    faulted(&state, LinkedInEndpoint::Upload, None, move || {
        let key = q
            .get("sau")
            .or_else(|| q.get("ut"))
            .map_or("", String::as_str);
        let len = u64::try_from(body.len()).unwrap_or(u64::MAX);
        match s.upload(key, len) {
            Ok(Uploaded::Whole) => StatusCode::CREATED.into_response(),
            Ok(Uploaded::Part(etag)) => {
                let mut r = StatusCode::OK.into_response();
                if let Ok(v) = HeaderValue::from_str(&etag) {
                    r.headers_mut().insert(header::ETAG, v);
                }
                r
            }
            Err(e) => error_response(e),
        }
    })
    .await
}
