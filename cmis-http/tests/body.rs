//! Body caps against a local server that floods: an endless body, a huge announced length, an
//! endless error page. The call fails (or truncates) at the cap, and the server could only get
//! rid of the cap plus what the sockets buffer before the client hung up.

use cmis_core::ErrorKind;
use cmis_http::testing::{FLOOD_GUARD_BYTES, FLOOD_SLACK_BYTES, Flood, FloodServer};
use cmis_http::{Call, MAX_ERROR_BODY_BYTES, client_builder, read_answer, read_body, send};

const CAP: usize = 1 << 20;

fn as_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap()
}

async fn flood_response(server: &FloodServer, call: Call) -> cmis_http::reqwest::Response {
    let client = client_builder().unwrap().build().unwrap();
    let url = format!("{}/feed?access_token=SECRET-TOKEN-789", server.uri());
    let request = match call {
        Call::Read => client.get(url),
        Call::Mutation => client.post(url).body("{}"),
    };
    send(request, call).await.unwrap()
}

#[tokio::test]
async fn an_endless_body_fails_at_the_cap_and_the_server_is_cut_off() {
    let mut server = FloodServer::start(200, Flood::Chunked).await;
    let response = flood_response(&server, Call::Read).await;
    let err = read_body(response, Call::Read, "the test call GET /feed", CAP)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert_eq!(
        err.message(),
        "the response to the test call GET /feed was larger than 1048576 bytes; it was not read"
    );
    assert!(!format!("{err} {err:?}").contains("SECRET-TOKEN-789"));
    let sent = server.body_sent().await;
    assert!(sent > as_u64(CAP), "only {sent} bytes were sent");
    assert!(
        sent <= as_u64(CAP) + FLOOD_SLACK_BYTES,
        "the client took {sent} bytes (guard {FLOOD_GUARD_BYTES}) against a cap of {CAP}"
    );
}

#[tokio::test]
async fn a_huge_content_length_fails_before_the_body_is_read() {
    let mut server = FloodServer::start(200, Flood::Announced(64 << 30)).await;
    let response = flood_response(&server, Call::Mutation).await;
    let err = read_body(response, Call::Mutation, "the test call POST /feed", CAP)
        .await
        .unwrap_err();
    // The platform answered a mutation: it may have acted on it.
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome);
    assert!(
        err.message()
            .starts_with("the response to the test call POST /feed was larger than 1048576 bytes"),
        "{err}"
    );
    assert!(!format!("{err} {err:?}").contains("SECRET-TOKEN-789"));
    // Nothing of the body was read: the server got rid of what the sockets hold, no more.
    assert!(server.body_sent().await <= FLOOD_SLACK_BYTES);
}

#[tokio::test]
async fn a_body_within_the_cap_is_read_whole() {
    let mut server = FloodServer::start(200, Flood::Announced(as_u64(CAP))).await;
    let body = read_body(
        flood_response(&server, Call::Read).await,
        Call::Read,
        "the test call",
        CAP,
    )
    .await
    .unwrap();
    assert_eq!(body.len(), CAP);
    assert_eq!(server.body_sent().await, as_u64(CAP));
}

#[tokio::test]
async fn an_endless_error_page_is_truncated_and_classified_by_its_status() {
    let mut server = FloodServer::start(503, Flood::Chunked).await;
    let response = flood_response(&server, Call::Read).await;
    assert_eq!(response.status(), 503);
    let body = read_answer(response, Call::Read, "the test call", CAP)
        .await
        .unwrap();
    assert_eq!(body.len(), MAX_ERROR_BODY_BYTES);
    assert!(body.starts_with(b"\"xxx"));
    assert!(server.body_sent().await <= as_u64(MAX_ERROR_BODY_BYTES) + FLOOD_SLACK_BYTES);
}
