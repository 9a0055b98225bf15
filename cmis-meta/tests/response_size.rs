//! Answer size caps: a Graph server (or a proxy in front of it) that floods gets a clear error
//! naming the call, promptly, and the client stops reading at the cap.

use cmis_core::{ErrorKind, RetryPolicy, SecretString};
use cmis_http::testing::{FLOOD_SLACK_BYTES, Flood, FloodServer};
use cmis_http::{MAX_API_RESPONSE_BYTES, MAX_OAUTH_RESPONSE_BYTES};
use cmis_meta::{MetaClient, exchange_for_long_lived, page_tokens};

const TOKEN: &str = "EAAB-USER-TOKEN-SECRET";

fn client(server: &FloodServer) -> MetaClient {
    MetaClient::builder()
        .graph_url(server.uri())
        .app_id("555000111")
        .app_secret(SecretString::from("APP-SECRET"))
        .read_retry(RetryPolicy::no_retry())
        .build()
        .unwrap()
}

fn cap(bytes: usize) -> u64 {
    u64::try_from(bytes).unwrap()
}

#[tokio::test]
async fn an_endless_graph_answer_fails_at_the_api_cap() {
    let mut server = FloodServer::start(200, Flood::Chunked).await;
    let err = page_tokens(&client(&server), &SecretString::from(TOKEN))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert_eq!(
        err.message(),
        format!(
            "the response to the Graph API call GET …/accounts was larger than \
             {MAX_API_RESPONSE_BYTES} bytes; it was not read"
        )
    );
    assert!(!format!("{err} {err:?}").contains(TOKEN));
    let sent = server.body_sent().await;
    assert!(
        sent <= cap(MAX_API_RESPONSE_BYTES) + FLOOD_SLACK_BYTES,
        "the client took {sent} bytes"
    );
    assert_eq!(server.ended_connections(), 0, "the read was retried");
}

#[tokio::test]
async fn a_token_answer_announcing_a_huge_length_fails_at_the_oauth_cap() {
    let mut server = FloodServer::start(200, Flood::Announced(64 << 30)).await;
    let err = exchange_for_long_lived(&client(&server), &SecretString::from(TOKEN))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert_eq!(
        err.message(),
        format!(
            "the response to the Graph API call GET …/access_token was larger than \
             {MAX_OAUTH_RESPONSE_BYTES} bytes; it was not read"
        )
    );
    let rendered = format!("{err} {err:?}");
    assert!(!rendered.contains(TOKEN) && !rendered.contains("APP-SECRET"));
    assert!(server.body_sent().await <= FLOOD_SLACK_BYTES);
}
