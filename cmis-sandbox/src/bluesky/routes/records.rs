//! The routes of `com.atproto.repo.deleteRecord`, `putRecord` (procedures, the account's access
//! JWT) and `listRecords` (a query without auth), and the answer to a method called with the
//! wrong HTTP verb.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use serde_json::Value;

use super::{Shared, bearer, error, faulted, json_input, plain, query, reply};
use crate::bluesky::BlueskyEndpoint;
use crate::bluesky::state::{BlueskyState, Reply, XrpcError, invalid};

/// The procedures (HTTP POST) of the fake PDS; every other method is a query (HTTP GET).
const PROCEDURES: [&str; 6] = [
    "com.atproto.server.createSession",
    "com.atproto.server.refreshSession",
    "com.atproto.repo.createRecord",
    "com.atproto.repo.uploadBlob",
    "com.atproto.repo.deleteRecord",
    "com.atproto.repo.putRecord",
];

/// A known method called with the other verb. XRPC maps queries to GET and procedures to POST
/// (atproto HTTP API spec); the reference `xrpc-server` answers the mismatch with
/// `400 InvalidRequest` "Incorrect HTTP method (GET) expected POST" (its catch-all handler;
/// the wording is recalled from that code, not found in a stored copy).
pub(super) async fn wrong_method(method: Method, uri: Uri) -> Response {
    let nsid = uri.path().trim_start_matches("/xrpc/");
    let expected = if PROCEDURES.contains(&nsid) {
        "POST"
    } else {
        "GET"
    };
    error(invalid(format!(
        "Incorrect HTTP method ({method}) expected {expected}"
    )))
}

/// A repository write: the access JWT, then the JSON input, then `action`.
async fn write(
    state: std::sync::Arc<BlueskyState>,
    headers: HeaderMap,
    body: Bytes,
    action: fn(&BlueskyState, &str, &Value) -> Result<Reply, XrpcError>,
) -> Response {
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
                Ok(input) => reply(action(&s, &did, &input)),
                Err(e) => error(e),
            }
        },
    )
    .await
}

pub(super) async fn delete_record(
    State(state): Shared,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    write(state, headers, body, BlueskyState::delete_record).await
}

pub(super) async fn put_record(State(state): Shared, headers: HeaderMap, body: Bytes) -> Response {
    write(state, headers, body, BlueskyState::put_record).await
}

pub(super) async fn list_records(State(state): Shared, RawQuery(raw): RawQuery) -> Response {
    let s = state.clone();
    faulted(&state, BlueskyEndpoint::GetRecord, None, async move {
        plain(query(raw.as_deref()).and_then(|q| s.list_records(&q)))
    })
    .await
}
