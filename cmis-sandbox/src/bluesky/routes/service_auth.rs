//! The routes of `com.atproto.server.describeServer` (public) and
//! `com.atproto.server.getServiceAuth` (the account's access JWT).

use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::{Shared, bearer, error, faulted, plain, query};
use crate::bluesky::BlueskyEndpoint;

pub(super) async fn describe_server(State(state): Shared) -> Response {
    let s = state.clone();
    faulted(&state, BlueskyEndpoint::DescribeServer, None, async move {
        plain(Ok(s.describe_server()))
    })
    .await
}

pub(super) async fn get_service_auth(
    State(state): Shared,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let token = bearer(&headers);
    let presented = token.as_ref().ok().cloned().flatten();
    let s = state.clone();
    faulted(
        &state,
        BlueskyEndpoint::GetServiceAuth,
        presented.as_deref(),
        async move {
            let did = match token.and_then(|t| s.authorize(t.as_deref())) {
                Ok(did) => did,
                Err(e) => return error(e),
            };
            plain(query(raw.as_deref()).and_then(|q| s.get_service_auth(&did, &q)))
        },
    )
    .await
}
