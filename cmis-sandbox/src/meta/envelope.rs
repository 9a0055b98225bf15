//! What every answer of the fake Meta carries: the error envelope, the usage headers, the
//! version that served the call, and injected faults.
//!
//! - **Errors** (Graph API error-handling guide): `{"error": {"message", "type", "code",
//!   "error_subcode", "error_user_title", "error_user_msg", "fbtrace_id"}}`; Instagram's errors
//!   also carry `is_transient` (Instagram error-codes reference), so every error of an Instagram
//!   call has it, `true` for the codes Meta lists as temporary (1, 2, 4, 17, 80002, and the
//!   subcodes 2207001, 2207003, 2207008 and 2207032). Every error names itself in a
//!   `WWW-Authenticate: OAuth "Facebook Platform" "<error>" "<message>"` header, as Graph sends
//!   it: `invalid_token` for token errors (102, 190), `insufficient_scope` for permission errors
//!   (10, 200–299), `not_found` for objects that are not there (subcode 33), `invalid_request`
//!   otherwise. The `fbtrace_id` is the response's `x-fb-trace-id` header too.
//! - **Usage** (Rate Limiting guide): `X-App-Usage` as percentages, and
//!   `X-Business-Use-Case-Usage` keyed by the business object's id (the Page or the Instagram
//!   account) with the limit's `type` (`pages` or `instagram`).
//! - **Version**: `facebook-api-version` names the version that served the call (an expired one
//!   is served by the oldest available version).

use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::state::{GraphError, MetaState, graph_error};
use super::{MetaEndpoint, MetaThrottle};
use crate::fault::Fault;
use crate::http::{dropped, json as json_response, pause, trace_id};

/// One call, as the envelope sees it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Call<'a> {
    /// The endpoint, for fault injection.
    pub(super) endpoint: MetaEndpoint,
    /// The access token presented.
    pub(super) token: Option<&'a str>,
    /// The account the call is made on, for the usage headers.
    pub(super) owner: Option<&'a str>,
    /// The version path segment and the whole path, or `None` for unversioned calls.
    pub(super) version: Option<(&'a str, &'a str)>,
    /// Whether it is an Instagram call (its errors carry `is_transient`).
    pub(super) instagram: bool,
}

fn transient(e: &GraphError) -> bool {
    matches!(e.code, 1 | 2 | 4 | 17 | 80_002)
        || matches!(
            e.subcode,
            Some(2_207_001 | 2_207_003 | 2_207_008 | 2_207_032)
        )
}

fn www_authenticate(e: &GraphError) -> Option<HeaderValue> {
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

/// The error envelope for `e`; `instagram` adds `is_transient` when `e` does not set it.
pub(super) fn error_response(e: &GraphError, instagram: bool) -> Response {
    let trace = trace_id();
    let mut body = json!({
        "message": e.message,
        "type": e.kind,
        "code": e.code,
        "fbtrace_id": trace,
    });
    if let Some(sub) = e.subcode {
        body["error_subcode"] = json!(sub);
    }
    if let Some(title) = &e.user_title {
        body["error_user_title"] = json!(title);
    }
    if let Some(msg) = &e.user_msg {
        body["error_user_msg"] = json!(msg);
    }
    match e.is_transient {
        Some(t) => body["is_transient"] = json!(t),
        None if instagram => body["is_transient"] = json!(transient(e)),
        None => {}
    }
    let mut response = json_response(
        StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
        json!({ "error": body }),
    );
    let headers = response.headers_mut();
    if let Some(v) = www_authenticate(e) {
        headers.insert("www-authenticate", v);
    }
    if let Ok(v) = HeaderValue::from_str(&trace) {
        headers.insert("x-fb-trace-id", v);
    }
    response
}

/// Adds `X-App-Usage`, and `X-Business-Use-Case-Usage` for `owner` when there is one.
fn with_usage(
    state: &MetaState,
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
            "type": state.usage_type(owner), "call_count": account_percent,
            "total_cputime": account_percent / 2, "total_time": account_percent / 2,
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
fn throttled(state: &MetaState, call: &Call<'_>) -> Response {
    match state.config().throttle {
        MetaThrottle::Account { regain_minutes } => {
            let target = state.throttle_target(call.owner, call.token);
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
            let response = error_response(&e, call.instagram);
            with_usage(state, response, id.as_deref(), 12, 100, regain_minutes)
        }
        MetaThrottle::App => {
            let e = graph_error(403, 4, None, "(#4) Application request limit reached");
            with_usage(
                state,
                error_response(&e, call.instagram),
                call.owner,
                100,
                100,
                5,
            )
        }
    }
}

/// Runs `action` under the fault injected for the call's endpoint, in the version that serves
/// it, and adds the usage and version headers.
pub(super) async fn faulted(
    state: &MetaState,
    call: Call<'_>,
    action: impl FnOnce() -> Result<Value, GraphError>,
) -> Response {
    let fault = state.faults.take(call.endpoint);
    match fault {
        Some(Fault::ServerError) => {
            let mut e = graph_error(
                500,
                2,
                None,
                "An unexpected error has occurred. Please retry your request later.",
            );
            e.is_transient = Some(true);
            let response = error_response(&e, call.instagram);
            return with_usage(state, response, call.owner, 10, 10, 0);
        }
        Some(Fault::RateLimited) => return throttled(state, &call),
        Some(Fault::ExpiredToken) => {
            if let Some(t) = call.token {
                state.expire_token(t);
            }
        }
        Some(Fault::DropConnection) => return dropped(),
        Some(Fault::Delay(d)) => pause(d).await,
        Some(Fault::SlowProcessing(d)) => state.slow_next_container(d),
        _ => {}
    }
    let served = match call.version {
        Some((version, path)) => match state.served_version(version, path) {
            Ok(v) => Some(v),
            Err(e) => return error_response(&e, call.instagram),
        },
        None => None,
    };
    let result = action();
    let response = match &result {
        Ok(v) => json_response(StatusCode::OK, v.clone()),
        Err(e) => error_response(e, call.instagram),
    };
    let mut response = match fault {
        Some(Fault::ServerErrorAfterAccept) if result.is_ok() => {
            let mut e = graph_error(500, 1, None, "An unknown error has occurred.");
            e.is_transient = Some(true);
            error_response(&e, call.instagram)
        }
        Some(Fault::DropAfterAccept) if result.is_ok() => return dropped(),
        Some(Fault::DelayAfterAccept(d)) => {
            pause(d).await;
            response
        }
        _ => response,
    };
    if let Some(v) = served.and_then(|v| HeaderValue::from_str(&v).ok()) {
        response.headers_mut().insert("facebook-api-version", v);
    }
    with_usage(state, response, call.owner, 12, 12, 0)
}
