//! HTTP routes of the fake Threads API: `/v1.0/...` and the unversioned token endpoints, the
//! error envelopes, fault injection, and parameters from the query string and a form, JSON or
//! multipart body alike (Meta's curl examples put every parameter in the query; Mixpost sends
//! JSON; Postiz multipart; brief §6).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::ThreadsEndpoint;
use super::state::{Params, Shape, ThreadsError, ThreadsState, error, param};
use crate::fault::Fault;
use crate::http::{bearer, dropped, json as json_response, parse_form, pause, trace_id};

type Shared = State<Arc<ThreadsState>>;

/// The one version Threads serves (brief §0).
const VERSION: &str = "v1.0";

/// The fake Threads API's routes.
pub(crate) fn router(state: Arc<ThreadsState>) -> Router {
    Router::new()
        .route("/oauth/access_token", post(exchange_code))
        .route("/access_token", get(exchange_token))
        .route("/refresh_access_token", get(refresh_token))
        .route("/{ver}/{id}", get(get_object).delete(delete_object))
        .route("/{ver}/{id}/{edge}", get(get_edge).post(post_edge))
        .fallback(unknown_path)
        .method_not_allowed_fallback(wrong_method)
        .with_state(state)
}

fn error_response(e: &ThreadsError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    if e.shape == Shape::Instagram {
        return json_response(
            status,
            json!({ "error_type": e.kind, "code": e.code, "error_message": e.message }),
        );
    }
    let mut body = json!({ "message": e.message, "type": e.kind, "code": e.code });
    if let Some(sub) = e.subcode {
        body["error_subcode"] = json!(sub);
    }
    if let Some(t) = e.is_transient {
        body["is_transient"] = json!(t);
    }
    if let Some(title) = &e.user_title {
        body["error_user_title"] = json!(title);
    }
    if let Some(msg) = &e.user_msg {
        body["error_user_msg"] = json!(msg);
    }
    let trace = trace_id();
    body["fbtrace_id"] = json!(trace);
    let mut response = json_response(status, json!({ "error": body }));
    let headers = response.headers_mut();
    if let Some(v) = www_authenticate(e) {
        headers.insert(header::WWW_AUTHENTICATE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&trace) {
        headers.insert("x-fb-trace-id", v);
    }
    response
}

/// Graph names every error in `WWW-Authenticate: OAuth "Facebook Platform" "<error>"
/// "<message>"` (as the Meta fake sends it, `src/meta/envelope.rs`; graph.threads.net is a Graph
/// host and the brief points to Graph's envelope, brief §4): `invalid_token` for token errors
/// (102, 190), `insufficient_scope` for permission errors (10, 200–299), `not_found` for objects
/// that are not there (subcode 33), `invalid_request` otherwise.
fn www_authenticate(e: &ThreadsError) -> Option<HeaderValue> {
    let kind = match e.code {
        102 | 190 => "invalid_token",
        10 | 200..=299 => "insufficient_scope",
        _ if e.subcode == Some(33) => "not_found",
        _ => "invalid_request",
    };
    let message: String = e
        .message
        .chars()
        .map(|c| {
            if c == '"' || !c.is_ascii() || c.is_ascii_control() {
                '\''
            } else {
                c
            }
        })
        .collect();
    HeaderValue::from_str(&format!(
        "OAuth \"Facebook Platform\" \"{kind}\" \"{message}\""
    ))
    .ok()
}

/// Graph's transient server errors: code 2 before acting, code 1 after (as the Meta fake).
fn server_error(code: i64) -> Response {
    let message = if code == 2 {
        "An unexpected error has occurred. Please retry your request later."
    } else {
        "An unknown error has occurred."
    };
    error_response(&ThreadsError {
        status: 500,
        is_transient: Some(true),
        ..error(code, None, "OAuthException", message)
    })
}

/// Runs `action` under the fault injected for `endpoint`, if any. `token` is the token the call
/// presented, which an injected `ExpiredToken` expires.
async fn faulted(
    state: &ThreadsState,
    endpoint: ThreadsEndpoint,
    token: Option<&str>,
    action: impl FnOnce() -> Result<Value, ThreadsError>,
) -> Response {
    let fault = state.faults.take(endpoint);
    match fault {
        Some(Fault::ServerError) => return server_error(2),
        Some(Fault::RateLimited) => {
            // Graph's app throttle, fixture `rate_limited`; peers saw it with HTTP 403 (fixture
            // README), as the Meta fake answers it. Threads sends no usage headers (brief §3).
            return error_response(&ThreadsError {
                status: 403,
                ..error(
                    4,
                    None,
                    "OAuthException",
                    "(#4) Application request limit reached",
                )
            });
        }
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
    match fault {
        Some(Fault::ServerErrorAfterAccept) if result.is_ok() => server_error(1),
        Some(Fault::DropAfterAccept) if result.is_ok() => dropped(),
        Some(Fault::DelayAfterAccept(d)) => {
            pause(d).await;
            response
        }
        _ => response,
    }
}

/// The token: `Authorization: Bearer` first, else the `access_token` parameter (brief §2.1).
fn token_of(headers: &HeaderMap, params: &Params) -> Option<String> {
    bearer(headers).or_else(|| params.get("access_token").cloned())
}

/// A JSON value as a parameter: strings as they are, lists as comma lists (`children`).
fn json_param(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(json_param)
                .collect::<Vec<_>>()
                .join(","),
        ),
        other => Some(other.to_string()),
    }
}

/// The query string merged with the body's parameters (the body wins).
async fn params(
    raw_query: Option<String>,
    request: Request,
) -> Result<(HeaderMap, Params), ThreadsError> {
    let headers = request.headers().clone();
    let mut p: Params = parse_form(raw_query.unwrap_or_default().as_bytes())
        .ok_or_else(|| param("The query string is malformed."))?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        let mut multipart = Multipart::from_request(request, &())
            .await
            .map_err(|e| param(format!("The multipart body is malformed: {e}")))?;
        while let Some(field) = multipart
            .next_field()
            .await
            .map_err(|e| param(format!("The multipart body is malformed: {e}")))?
        {
            let name = field.name().unwrap_or("").to_owned();
            let text = field
                .text()
                .await
                .map_err(|e| param(format!("The multipart field {name} is not text: {e}")))?;
            p.insert(name, text);
        }
        return Ok((headers, p));
    }
    let body = Bytes::from_request(request, &())
        .await
        .map_err(|e| param(format!("The body could not be read: {e}")))?;
    if body.is_empty() {
        return Ok((headers, p));
    }
    if content_type.starts_with("application/json") {
        let value: Value = serde_json::from_slice(&body)
            .map_err(|e| param(format!("The JSON body is malformed: {e}")))?;
        let Value::Object(map) = value else {
            return Err(param("The JSON body must be an object."));
        };
        p.extend(
            map.iter()
                .filter_map(|(k, v)| Some((k.clone(), json_param(v)?))),
        );
    } else {
        p.extend(parse_form(&body).ok_or_else(|| param("The form body is malformed."))?);
    }
    Ok((headers, p))
}

/// Only `v1.0` exists (brief §0). Other versions get Graph's unknown-path code 2500 with a
/// message naming the version (constructed: Threads documents no such error).
fn check_version(ver: &str) -> Result<(), ThreadsError> {
    if ver == VERSION {
        Ok(())
    } else {
        Err(error(
            2500,
            None,
            "OAuthException",
            format!("Unknown path components: /{ver}: the Threads API serves {VERSION} only"),
        ))
    }
}

fn unknown_edge(edge: &str) -> ThreadsError {
    error(
        2500,
        None,
        "OAuthException",
        format!("Unknown path components: /{edge}"),
    )
}

/// A path served with another HTTP method: Graph's "Unsupported <method> request" (code 100,
/// subcode 33, as `no_such_object` words it for GET; constructed for Threads). Mixpost POSTs the
/// refresh call the docs give as GET (brief §1); whether Threads takes that is not documented.
async fn wrong_method(method: Method, uri: Uri) -> Response {
    let id = uri.path().rsplit('/').next().unwrap_or("");
    let method = method.as_str().to_ascii_lowercase();
    error_response(&error(
        100,
        Some(33),
        "THApiException",
        format!(
            "Unsupported {method} request. Object with ID '{id}' does not exist, cannot be \
             loaded due to missing permissions, or does not support this operation."
        ),
    ))
}

async fn unknown_path(uri: Uri) -> Response {
    error_response(&error(
        2500,
        None,
        "OAuthException",
        format!("Unknown path components: {}", uri.path()),
    ))
}

/// Runs a call whose parameters are read first: a malformed body is answered at once.
async fn with_params(
    state: Arc<ThreadsState>,
    endpoint: ThreadsEndpoint,
    raw: Option<String>,
    request: Request,
    action: impl FnOnce(&ThreadsState, Option<&str>, &Params) -> Result<Value, ThreadsError>,
) -> Response {
    let (headers, p) = match params(raw, request).await {
        Ok(x) => x,
        Err(e) => return error_response(&e),
    };
    let token = token_of(&headers, &p);
    let s = state.clone();
    faulted(&state, endpoint, token.as_deref(), || {
        action(&s, token.as_deref(), &p)
    })
    .await
}

async fn exchange_code(
    State(state): Shared,
    RawQuery(raw): RawQuery,
    request: Request,
) -> Response {
    with_params(
        state,
        ThreadsEndpoint::ExchangeCode,
        raw,
        request,
        |s, _, p| s.exchange_code(p),
    )
    .await
}

async fn exchange_token(
    State(state): Shared,
    RawQuery(raw): RawQuery,
    request: Request,
) -> Response {
    with_params(
        state,
        ThreadsEndpoint::ExchangeToken,
        raw,
        request,
        |s, t, p| s.exchange_token(p, t),
    )
    .await
}

async fn refresh_token(
    State(state): Shared,
    RawQuery(raw): RawQuery,
    request: Request,
) -> Response {
    with_params(
        state,
        ThreadsEndpoint::RefreshToken,
        raw,
        request,
        |s, t, p| s.refresh_token(p, t),
    )
    .await
}

/// `GET /v1.0/{id}`. The token endpoints are unversioned in Meta's docs, but brightbean calls
/// `/v1.0/refresh_access_token` (brief §0), so the versioned paths are served too.
async fn get_object(
    State(state): Shared,
    Path((ver, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    request: Request,
) -> Response {
    let endpoint = match id.as_str() {
        "access_token" => ThreadsEndpoint::ExchangeToken,
        "refresh_access_token" => ThreadsEndpoint::RefreshToken,
        _ if state.is_container(&id) => ThreadsEndpoint::ContainerStatus,
        _ => ThreadsEndpoint::GetMedia,
    };
    with_params(state, endpoint, raw, request, move |s, t, p| {
        check_version(&ver)?;
        match id.as_str() {
            "access_token" => s.exchange_token(p, t),
            "refresh_access_token" => s.refresh_token(p, t),
            "debug_token" => s.debug_token(t, p),
            _ => s.get_object(t, &id, p),
        }
    })
    .await
}

/// `DELETE /v1.0/{threads-media-id}` (delete-posts page). Faults are those injected for
/// [`ThreadsEndpoint::GetMedia`], the endpoint of the same path.
async fn delete_object(
    State(state): Shared,
    Path((ver, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    request: Request,
) -> Response {
    with_params(
        state,
        ThreadsEndpoint::GetMedia,
        raw,
        request,
        move |s, t, _| {
            check_version(&ver)?;
            s.delete_media(t, &id)
        },
    )
    .await
}

async fn get_edge(
    State(state): Shared,
    Path((ver, id, edge)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
    request: Request,
) -> Response {
    let endpoint = match edge.as_str() {
        "threads_publishing_limit" => ThreadsEndpoint::PublishingLimit,
        _ => ThreadsEndpoint::ListThreads,
    };
    with_params(state, endpoint, raw, request, move |s, t, p| {
        check_version(&ver)?;
        match edge.as_str() {
            "threads" => s.list_threads(t, &id, &ver, p),
            "threads_publishing_limit" => s.publishing_limit(t, &id, p),
            _ => Err(unknown_edge(&edge)),
        }
    })
    .await
}

async fn post_edge(
    State(state): Shared,
    Path((ver, id, edge)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
    request: Request,
) -> Response {
    let endpoint = match (id.as_str(), edge.as_str()) {
        ("oauth", "access_token") => ThreadsEndpoint::ExchangeCode,
        (_, "threads_publish") => ThreadsEndpoint::Publish,
        _ => ThreadsEndpoint::CreateContainer,
    };
    with_params(state, endpoint, raw, request, move |s, t, p| {
        check_version(&ver)?;
        match (id.as_str(), edge.as_str()) {
            ("oauth", "access_token") => s.exchange_code(p),
            (_, "threads") => s.create_container(t, &id, p),
            (_, "threads_publish") => s.publish(t, &id, p),
            _ => Err(unknown_edge(&edge)),
        }
    })
    .await
}
