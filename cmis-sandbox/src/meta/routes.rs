//! HTTP routes of the fake Meta.

use std::sync::Arc;

use axum::Router;
use axum::body::{Bytes, to_bytes};
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use axum::routing::{get, post};

use super::MetaEndpoint;
use super::envelope::{Call, error_response, faulted};
use super::state::{Edge, MetaState, ObjectKind, Params, RuploadBody, graph_error, unsupported};
use super::wire::{self, Incoming};
use crate::http::bearer;

type Shared = State<Arc<MetaState>>;

/// The largest body taken (a video or Reel upload).
const BODY_LIMIT: usize = 512 * 1024 * 1024;

/// The fake Meta's routes: graph, graph-video, rupload and graph.instagram.com on one server.
pub(crate) fn router(state: Arc<MetaState>) -> Router {
    Router::new()
        .route("/refresh_access_token", get(ig_refresh))
        .route(
            "/{ver}/{id}",
            get(get_object).post(post_object).delete(delete_object),
        )
        .route("/{ver}/{id}/{edge}", get(get_edge).post(post_edge))
        .route("/video-upload/{ver}/{id}", post(rupload_reel))
        .route("/ig-api-upload/{ver}/{id}", post(rupload_ig))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

fn token_of(headers: &HeaderMap, params: &Params) -> Option<String> {
    bearer(headers).or_else(|| params.get("access_token").cloned())
}

/// The request's path and parameters, or the error envelope for a body Graph would refuse.
async fn incoming(request: Request) -> Result<(String, Incoming), Response> {
    let path = request.uri().path().to_owned();
    wire::read(request)
        .await
        .map(|i| (path, i))
        .map_err(|e| error_response(&e, false))
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
    request: Request,
) -> Response {
    let (
        path,
        Incoming {
            headers,
            params: mut p,
            source,
        },
    ) = match incoming(request).await {
        Ok(i) => i,
        Err(response) => return response,
    };
    let token = token_of(&headers, &p);
    p.insert("__version".into(), ver.clone());
    let call = Call {
        endpoint: endpoint_for(&edge),
        token: token.as_deref(),
        owner: Some(id.as_str()),
        version: Some((ver.as_str(), path.as_str())),
        instagram: matches!(edge.as_str(), "media" | "media_publish") || state.is_instagram(&id),
    };
    let s = state.clone();
    faulted(&state, call, || {
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
    request: Request,
) -> Response {
    let (
        path,
        Incoming {
            headers, params: p, ..
        },
    ) = match incoming(request).await {
        Ok(i) => i,
        Err(response) => return response,
    };
    let token = token_of(&headers, &p);
    // A GET on `media` lists published media; the POST creates containers. A Page's `feed`
    // and `posts` are read as its `published_posts` (every post here is the Page's own).
    let endpoint = match edge.as_str() {
        "published_posts" | "feed" | "posts" => MetaEndpoint::PublishedPosts,
        "media" => MetaEndpoint::MediaList,
        "insights" | "video_insights" => MetaEndpoint::Insights,
        other => endpoint_for(other),
    };
    let owner = matches!(
        edge.as_str(),
        "content_publishing_limit" | "published_posts" | "feed" | "posts" | "media"
    )
    .then_some(id.as_str());
    let call = Call {
        endpoint,
        token: token.as_deref(),
        owner,
        version: Some((ver.as_str(), path.as_str())),
        instagram: matches!(edge.as_str(), "content_publishing_limit" | "media")
            || state.is_instagram(&id)
            || (edge == "insights" && state.object_kind(&id) == ObjectKind::Media),
    };
    let s = state.clone();
    faulted(&state, call, || {
        let at = Edge {
            version: &ver,
            node: &id,
            edge: &edge,
        };
        match (id.as_str(), edge.as_str()) {
            ("me", "accounts") => s.me_accounts(token.as_deref()),
            ("oauth", "access_token") => s.exchange(&p),
            (_, "content_publishing_limit") => s.publishing_limit(token.as_deref(), &id),
            (_, "published_posts" | "feed" | "posts") => {
                s.published_posts(token.as_deref(), &at, &p)
            }
            (_, "media") => s.ig_media(token.as_deref(), &at, &p),
            (_, "insights") => s.insights(token.as_deref(), &id, &p),
            (_, "video_insights") => s.video_insights(token.as_deref(), &id, &p),
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

/// The fault-injection endpoint and whether it is Instagram's, for a call on object `id`.
fn object_endpoint(state: &MetaState, id: &str, p: &Params) -> (MetaEndpoint, bool) {
    if id == "debug_token" {
        return (MetaEndpoint::Tokens, false);
    }
    match state.object_kind(id) {
        ObjectKind::Upload => (MetaEndpoint::Uploads, false),
        ObjectKind::Video => (MetaEndpoint::VideoStatus, false),
        ObjectKind::Media => (MetaEndpoint::Permalink, true),
        ObjectKind::Container => (MetaEndpoint::ContainerStatus, true),
        ObjectKind::PagePost | ObjectKind::Photo => (MetaEndpoint::Object, false),
        ObjectKind::Unknown => {
            let permalink = p.get("fields").is_some_and(|f| f.contains("permalink"));
            let endpoint = if permalink {
                MetaEndpoint::Permalink
            } else {
                MetaEndpoint::ContainerStatus
            };
            (endpoint, false)
        }
    }
}

async fn get_object(
    State(state): Shared,
    Path((ver, id)): Path<(String, String)>,
    request: Request,
) -> Response {
    let (
        path,
        Incoming {
            headers, params: p, ..
        },
    ) = match incoming(request).await {
        Ok(i) => i,
        Err(response) => return response,
    };
    let token = token_of(&headers, &p);
    let (endpoint, instagram) = object_endpoint(&state, &id, &p);
    let call = Call {
        endpoint,
        token: token.as_deref(),
        owner: None,
        version: Some((ver.as_str(), path.as_str())),
        instagram,
    };
    let s = state.clone();
    faulted(&state, call, || {
        if id == "debug_token" {
            s.debug_token(token.as_deref(), &p)
        } else {
            s.get_object(token.as_deref(), &id, &p)
        }
    })
    .await
}

async fn delete_object(
    State(state): Shared,
    Path((ver, id)): Path<(String, String)>,
    request: Request,
) -> Response {
    let (
        path,
        Incoming {
            headers, params: p, ..
        },
    ) = match incoming(request).await {
        Ok(i) => i,
        Err(response) => return response,
    };
    let token = token_of(&headers, &p);
    let (endpoint, instagram) = object_endpoint(&state, &id, &p);
    let call = Call {
        endpoint,
        token: token.as_deref(),
        owner: None,
        version: Some((ver.as_str(), path.as_str())),
        instagram,
    };
    let s = state.clone();
    faulted(&state, call, || {
        if instagram || endpoint != MetaEndpoint::Object {
            return Err(unsupported("delete", &id));
        }
        s.delete_object(token.as_deref(), &id)
    })
    .await
}

/// `POST /{id}`: bytes for an upload session, or an edit of a Page post.
async fn post_object(
    State(state): Shared,
    Path((ver, id)): Path<(String, String)>,
    request: Request,
) -> Response {
    if id.starts_with("upload:") {
        let path = request.uri().path().to_owned();
        let headers = request.headers().clone();
        let Ok(body) = to_bytes(request.into_body(), BODY_LIMIT).await else {
            let e = graph_error(400, 100, None, "(#100) The request body could not be read");
            return error_response(&e, false);
        };
        return upload_bytes(&state, &ver, &path, &id, &headers, &body).await;
    }
    let (
        path,
        Incoming {
            headers, params: p, ..
        },
    ) = match incoming(request).await {
        Ok(i) => i,
        Err(response) => return response,
    };
    let token = token_of(&headers, &p);
    let (endpoint, instagram) = object_endpoint(&state, &id, &p);
    let call = Call {
        endpoint,
        token: token.as_deref(),
        owner: None,
        version: Some((ver.as_str(), path.as_str())),
        instagram,
    };
    let s = state.clone();
    faulted(&state, call, || {
        if instagram || endpoint != MetaEndpoint::Object {
            return Err(unsupported("post", &id));
        }
        s.edit_object(token.as_deref(), &id, &p)
    })
    .await
}

/// `POST /upload:<session>` with `Authorization: OAuth` and `file_offset`: the upload's bytes.
async fn upload_bytes(
    state: &Arc<MetaState>,
    ver: &str,
    path: &str,
    id: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Response {
    let token = bearer(headers);
    let offset = header_u64(headers, "file_offset");
    let call = Call {
        endpoint: MetaEndpoint::Uploads,
        token: token.as_deref(),
        owner: None,
        version: Some((ver, path)),
        instagram: false,
    };
    faulted(state, call, || {
        if !oauth_scheme(headers) {
            return Err(graph_error(
                400,
                190,
                None,
                "Upload calls need 'Authorization: OAuth <token>'",
            ));
        }
        state.upload_bytes(
            token.as_deref(),
            id,
            offset,
            u64::try_from(body.len()).unwrap_or(u64::MAX),
        )
    })
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
    (ver, id): (String, String),
    path: String,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let token = bearer(&headers);
    let endpoint = if kind == "video-upload" {
        MetaEndpoint::Reels
    } else {
        MetaEndpoint::Media
    };
    let call = Call {
        endpoint,
        token: token.as_deref(),
        owner: None,
        version: Some((ver.as_str(), path.as_str())),
        instagram: kind != "video-upload",
    };
    let s = state.clone();
    faulted(&state, call, || {
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
    Path(at): Path<(String, String)>,
    request: Request,
) -> Response {
    let path = request.uri().path().to_owned();
    let headers = request.headers().clone();
    let body = to_bytes(request.into_body(), BODY_LIMIT)
        .await
        .unwrap_or_default();
    rupload(state, "video-upload", at, path, headers, body).await
}

async fn rupload_ig(
    State(state): Shared,
    Path(at): Path<(String, String)>,
    request: Request,
) -> Response {
    let path = request.uri().path().to_owned();
    let headers = request.headers().clone();
    let body = to_bytes(request.into_body(), BODY_LIMIT)
        .await
        .unwrap_or_default();
    rupload(state, "ig-api-upload", at, path, headers, body).await
}

async fn ig_refresh(State(state): Shared, request: Request) -> Response {
    let (_, Incoming { params: p, .. }) = match incoming(request).await {
        Ok(i) => i,
        Err(response) => return response,
    };
    let call = Call {
        endpoint: MetaEndpoint::Tokens,
        token: p.get("access_token").map(String::as_str),
        owner: None,
        version: None,
        instagram: true,
    };
    let s = state.clone();
    faulted(&state, call, || s.ig_refresh(&p)).await
}
