//! Answer size caps: a TikTok API or OAuth server (or a proxy in front of it) that floods gets a
//! clear error naming the call, promptly, and the client stops reading at the cap.

use cmis_core::{ErrorKind, SecretString};
use cmis_http::testing::{FLOOD_SLACK_BYTES, Flood, FloodServer};
use cmis_http::{MAX_API_RESPONSE_BYTES, MAX_OAUTH_RESPONSE_BYTES};
use cmis_tiktok::TikTokClient;

const TOKEN: &str = "act.access-token-secret";
const REFRESH: &str = "rft.refresh-token-secret";

fn client(server: &FloodServer) -> TikTokClient {
    TikTokClient::builder()
        .client_key("awclientkey")
        .client_secret(SecretString::from("client-secret-value"))
        .api_base_url(server.uri())
        .build()
        .unwrap()
}

fn cap(bytes: usize) -> u64 {
    u64::try_from(bytes).unwrap()
}

fn assert_no_secret(err: &cmis_core::Error) {
    let rendered = format!("{err} {err:?}");
    for secret in [TOKEN, REFRESH, "client-secret-value"] {
        assert!(!rendered.contains(secret), "{rendered}");
    }
}

#[tokio::test]
async fn an_endless_api_answer_fails_at_the_api_cap() {
    let mut server = FloodServer::start(200, Flood::Chunked).await;
    let err = client(&server)
        .creator_info(&SecretString::from(TOKEN))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert_eq!(
        err.message(),
        format!(
            "the response to the TikTok call /v2/post/publish/creator_info/query/ was larger \
             than {MAX_API_RESPONSE_BYTES} bytes; it was not read"
        )
    );
    assert_no_secret(&err);
    let sent = server.body_sent().await;
    assert!(
        sent <= cap(MAX_API_RESPONSE_BYTES) + FLOOD_SLACK_BYTES,
        "the client took {sent} bytes"
    );
}

#[tokio::test]
async fn an_endless_token_answer_fails_at_the_oauth_cap() {
    let mut server = FloodServer::start(200, Flood::Chunked).await;
    let err = client(&server)
        .refresh_token(&SecretString::from(REFRESH))
        .await
        .unwrap_err();
    // The refresh token may have been rotated already: the outcome is unknown.
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome);
    assert!(
        err.message().starts_with(&format!(
            "the response to the TikTok OAuth call /v2/oauth/token/ was larger than \
             {MAX_OAUTH_RESPONSE_BYTES} bytes"
        )),
        "{err}"
    );
    assert_no_secret(&err);
    let sent = server.body_sent().await;
    assert!(
        sent <= cap(MAX_OAUTH_RESPONSE_BYTES) + FLOOD_SLACK_BYTES,
        "the client took {sent} bytes"
    );
}

#[tokio::test]
async fn a_token_answer_announcing_a_huge_length_fails_before_it_is_read() {
    let mut server = FloodServer::start(200, Flood::Announced(64 << 30)).await;
    let err = client(&server)
        .refresh_token(&SecretString::from(REFRESH))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome);
    assert!(
        err.message().contains("was larger than 65536 bytes"),
        "{err}"
    );
    assert_no_secret(&err);
    assert!(server.body_sent().await <= FLOOD_SLACK_BYTES);
}
