//! HTTP routes of the fake Meta.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::state::{Edge, GraphError, MetaState, Params, RuploadBody, graph_error};
use super::{MetaEndpoint, MetaThrottle};
use crate::fault::Fault;
use crate::http::{bearer, dropped, json as json_response, parse_form, pause, trace_id};

type Shared = State<Arc<MetaState>>;

/// The fake Meta's routes: graph, graph-video, rupload and graph.instagram.com on one server.
pub(crate) fn router(state: Arc<MetaState>) -> Router {
    Router::new()
        .route("/refresh_access_token", get(ig_refresh))
        .route("/{ver}/{id}", get(get_object).post(post_object))
        .route("/{ver}/{id}/{edge}", get(get_edge).post(post_edge))
        .route("/video-upload/{ver}/{id}", post(rupload_reel))
        .route("/ig-api-upload/{ver}/{id}", post(rupload_ig))
        .layer(DefaultBodyLimit::max(512 * 1024 * 1024))
        .with_state(state)
}

fn error_response(e: &GraphError) -> Response {
    let mut body = json!({
        "message": e.message,
        "type": "OAuthException",
        "code": e.code,
        "fbtrace_id": trace_id(),
    });
    if let Some(sub) = e.subcode {
        body["error_subcode"] = json!(sub);
    }
    if let Some(msg) = &e.user_msg {
        body["error_user_title"] = json!("Error");
        body["error_user_msg"] = json!(msg);
    }
    if let Some(t) = e.is_transient {
        body["is_transient"] = json!(t);
    }
    json_response(
        StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
        json!({ "error": body }),
    )
}

fn with_usage(
    mut response: Response,
    owner: Option<&str>,
    app_percent: u32,
    account_percent: u32,
    regain_minutes: u32,
) -> Response {
    let usage = json!({"call_count": app_percent, "total_time": app_percent / 2, "total_cputime": app_percent / 2})
        .to_string();
    if let Ok(v) = HeaderValue::from_str(&usage) {
        response.headers_mut().insert("x-app-usage", v);
    }
    if let Some(owner) = owner {
        let buc = json!({ owner: [{
            "type": "pages", "call_count": account_percent, "total_cputime": account_percent / 2,
            "total_time": account_percent / 2,
            "estimated_time_to_regain_access": regain_minutes,
        }]})
        .to_string();
        if let Ok(v) = HeaderValue::from_str(&buc) {
            response
                .headers_mut()
                .insert("x-business-use-case-usage", v);
        }
    }
    response
}

/// The answer to an injected rate limit, as configured by [`MetaConfig::throttle`].
///
/// [`MetaConfig::throttle`]: super::MetaConfig::throttle
fn throttled(state: &MetaState, token: Option<&str>, owner: Option<&str>) -> Response {
    match state.config().throttle {
        MetaThrottle::Account { regain_minutes } => {
            let target = state.throttle_target(owner, token);
            let code = target.as_ref().map_or(4, |(_, code)| *code);
            let message = match code {
                80_001 => {
                    "(#80001) There have been too many calls to this Page account. Wait a bit and try again."
                }
                80_002 => {
                    "(#80002) There have been too many calls to this Instagram account. Wait a bit and try again."
                }
                17 => "(#17) User request limit reached",
                _ => "(#4) Application request limit reached",
            };
            let e = graph_error(403, code, None, message);
            let id = target.map(|(id, _)| id);
            with_usage(error_response(&e), id.as_deref(), 12, 100, regain_minutes)
        }
        MetaThrottle::App => {
            let e = graph_error(403, 4, None, "(#4) Application request limit reached");
            with_usage(error_response(&e), owner, 100, 100, 5)
        }
    }
}

/// Runs `action` under the fault injected for `endpoint`, and adds the usage headers.
async fn faulted(
    state: &MetaState,
    endpoint: MetaEndpoint,
    token: Option<&str>,
    owner: Option<&str>,
    action: impl FnOnce() -> Result<Value, GraphError>,
) -> Response {
    let fault = state.faults.take(endpoint);
    match fault {
        Some(Fault::ServerError) => {
            let mut e = graph_error(
                500,
                2,
                None,
                "An unexpected error has occurred. Please retry your request later.",
            );
            e.is_transient = Some(true);
            return with_usage(error_response(&e), owner, 10, 10, 0);
        }
        Some(Fault::RateLimited) => return throttled(state, token, owner),
        Some(Fault::ExpiredToken) => {
            if let Some(t) = token {
                state.expire_token(t);
            }
        }
        Some(Fault::DropConnection) => return dropped(),
        Some(Fault::Delay(d)) => pause(d).await,
        Some(Fault::SlowProcessing(d)) => state.slow_next_container(d),
        _ => {}
    }
    let result = action();
    let response = match &result {
        Ok(v) => json_response(StatusCode::OK, v.clone()),
        Err(e) => error_response(e),
    };
    let response = match fault {
        Some(Fault::ServerErrorAfterAccept) if result.is_ok() => {
            let mut e = graph_error(500, 1, None, "An unknown error has occurred.");
            e.is_transient = Some(true);
            error_response(&e)
        }
        Some(Fault::DropAfterAccept) if result.is_ok() => return dropped(),
        Some(Fault::DelayAfterAccept(d)) => {
            pause(d).await;
            response
        }
        _ => response,
    };
    with_usage(response, owner, 12, 12, 0)
}

fn token_of(headers: &HeaderMap, params: &Params) -> Option<String> {
    bearer(headers).or_else(|| params.get("access_token").cloned())
}

/// Query parameters merged with a form or multipart body. Returns the size of a multipart
/// `source` file field, if any.
async fn params(
    query: HashMap<String, String>,
    request: Request,
) -> (HeaderMap, Params, Option<usize>) {
    let headers = request.headers().clone();
    let mut params = query;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut source = None;
    if content_type.starts_with("multipart/form-data") {
        if let Ok(mut multipart) = Multipart::from_request(request, &()).await {
            while let Ok(Some(field)) = multipart.next_field().await {
                let name = field.name().unwrap_or("").to_owned();
                let is_file = field.file_name().is_some();
                let Ok(data) = field.bytes().await else { break };
                if name == "source" && is_file {
                    source = Some(data.len());
                } else if let Ok(text) = String::from_utf8(data.to_vec()) {
                    params.insert(name, text);
                }
            }
        }
    } else if let Ok(body) = Bytes::from_request(request, &()).await {
        params.extend(parse_form(&body).unwrap_or_default());
    }
    (headers, params, source)
}

fn endpoint_for(edge: &str) -> MetaEndpoint {
    match edge {
        "feed" => MetaEndpoint::Feed,
        "photos" => MetaEndpoint::Photos,
        "uploads" => MetaEndpoint::Uploads,
        "videos" => MetaEndpoint::Videos,
        "video_reels" => MetaEndpoint::Reels,
        "media" => MetaEndpoint::Media,
        "media_publish" => MetaEndpoint::MediaPublish,
        "content_publishing_limit" => MetaEndpoint::PublishingLimit,
        _ => MetaEndpoint::Tokens,
    }
}

async fn post_edge(
    State(state): Shared,
    Path((ver, id, edge)): Path<(String, String, String)>,
    Query(query): Query<HashMap<String, String>>,
    request: Request,
) -> Response {
    let (headers, mut p, source) = params(query, request).await;
    let token = token_of(&headers, &p);
    p.insert("__version".into(), ver.clone());
    let endpoint = endpoint_for(&edge);
    let s = state.clone();
    faulted(&state, endpoint, token.as_deref(), Some(&id), || {
        s.check_version(&ver)?;
        let t = token.as_deref();
        match edge.as_str() {
            "feed" => s.feed(t, &id, &p),
            "photos" => s.photos(t, &id, &p, source),
            "uploads" => s.start_upload(t, &id, &p),
            "videos" => s.videos(t, &id, &p),
            "video_reels" => s.reels(t, &id, &p),
            "media" => s.create_container(t, &id, &p),
            "media_publish" => s.media_publish(t, &id, &p),
            _ => Err(graph_error(
                400,
                100,
                None,
                format!("(#100) Unknown edge {edge}"),
            )),
        }
    })
    .await
}

async fn get_edge(
    State(state): Shared,
    Path((ver, id, edge)): Path<(String, String, String)>,
    Query(p): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let token = token_of(&headers, &p);
    // A GET on `media` lists published media; the POST creates containers.
    let endpoint = match edge.as_str() {
        "published_posts" => MetaEndpoint::PublishedPosts,
        "media" => MetaEndpoint::MediaList,
        other => endpoint_for(other),
    };
    let s = state.clone();
    let owner = matches!(
        edge.as_str(),
        "content_publishing_limit" | "published_posts" | "media"
    )
    .then_some(id.as_str());
    faulted(&state, endpoint, token.as_deref(), owner, || {
        s.check_version(&ver)?;
        let at = Edge {
            version: &ver,
            node: &id,
            edge: &edge,
        };
        match (id.as_str(), edge.as_str()) {
            ("me", "accounts") => s.me_accounts(token.as_deref()),
            ("oauth", "access_token") => s.exchange(&p),
            (_, "content_publishing_limit") => s.publishing_limit(token.as_deref(), &id),
            (_, "published_posts") => s.published_posts(token.as_deref(), &at, &p),
            (_, "media") => s.ig_media(token.as_deref(), &at, &p),
            _ => Err(graph_error(
                400,
                100,
                None,
                format!("(#100) Unknown edge {edge}"),
            )),
        }
    })
    .await
}

async fn get_object(
    State(state): Shared,
    Path((ver, id)): Path<(String, String)>,
    Query(p): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let token = token_of(&headers, &p);
    let fields = p.get("fields").cloned().unwrap_or_default();
    let endpoint = if id == "debug_token" {
        MetaEndpoint::Tokens
    } else if state.is_video(&id) {
        MetaEndpoint::VideoStatus
    } else if fields.contains("permalink") {
        MetaEndpoint::Permalink
    } else if id.starts_with("upload:") {
        MetaEndpoint::Uploads
    } else {
        MetaEndpoint::ContainerStatus
    };
    let s = state.clone();
    faulted(&state, endpoint, token.as_deref(), None, || {
        s.check_version(&ver)?;
        if id == "debug_token" {
            s.debug_token(&p)
        } else if id.starts_with("upload:") {
            s.upload_status(token.as_deref(), &id)
        } else {
            s.get_object(token.as_deref(), &id, &fields)
        }
    })
    .await
}

async fn post_object(
    State(state): Shared,
    Path((ver, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let token = bearer(&headers);
    let offset = header_u64(&headers, "file_offset");
    let s = state.clone();
    faulted(
        &state,
        MetaEndpoint::Uploads,
        token.as_deref(),
        None,
        || {
            s.check_version(&ver)?;
            if !id.starts_with("upload:") {
                return Err(graph_error(
                    400,
                    100,
                    None,
                    "(#100) Unsupported post request",
                ));
            }
            if !oauth_scheme(&headers) {
                return Err(graph_error(
                    400,
                    190,
                    None,
                    "Upload calls need 'Authorization: OAuth <token>'",
                ));
            }
            s.upload_bytes(
                token.as_deref(),
                &id,
                offset,
                u64::try_from(body.len()).unwrap_or(u64::MAX),
            )
        },
    )
    .await
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

fn oauth_scheme(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.len() > 6 && v[..6].eq_ignore_ascii_case("oauth "))
}

async fn rupload(
    state: Arc<MetaState>,
    kind: &'static str,
    ver: String,
    id: String,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let token = bearer(&headers);
    let endpoint = if kind == "video-upload" {
        MetaEndpoint::Reels
    } else {
        MetaEndpoint::Media
    };
    let s = state.clone();
    faulted(&state, endpoint, token.as_deref(), None, || {
        s.check_version(&ver)?;
        if !oauth_scheme(&headers) {
            return Err(graph_error(
                400,
                190,
                None,
                "Upload calls need 'Authorization: OAuth <token>'",
            ));
        }
        let file_url = headers.get("file_url").and_then(|v| v.to_str().ok());
        let upload = RuploadBody {
            offset: header_u64(&headers, "offset"),
            file_size: header_u64(&headers, "file_size"),
            len: u64::try_from(body.len()).unwrap_or(u64::MAX),
            file_url,
        };
        s.rupload(token.as_deref(), kind, &id, &upload)
    })
    .await
}

async fn rupload_reel(
    State(state): Shared,
    Path((ver, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    rupload(state, "video-upload", ver, id, headers, body).await
}

async fn rupload_ig(
    State(state): Shared,
    Path((ver, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    rupload(state, "ig-api-upload", ver, id, headers, body).await
}

async fn ig_refresh(State(state): Shared, Query(p): Query<HashMap<String, String>>) -> Response {
    let s = state.clone();
    faulted(
        &state,
        MetaEndpoint::Tokens,
        p.get("access_token").map(String::as_str),
        None,
        || s.ig_refresh(&p),
    )
    .await
}
