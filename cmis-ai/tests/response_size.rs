//! Answer size caps: a provider base URL that floods (a streaming proxy, a broken corporate
//! proxy) gets a clear error, promptly, and the client stops reading at the cap.

mod common;

use cmis_ai::{FailureClass, OpenAiClient, Provider};
use cmis_core::{ErrorKind, SecretString};
use cmis_http::MAX_AI_RESPONSE_BYTES;
use cmis_http::testing::{FLOOD_SLACK_BYTES, Flood, FloodServer};
use common::{prompt, request};

fn openai(server: &FloodServer) -> OpenAiClient {
    OpenAiClient::builder()
        .base_url(server.uri())
        .api_key(SecretString::from("sk-test-secret"))
        .build()
        .unwrap()
}

fn cap(bytes: usize) -> u64 {
    u64::try_from(bytes).unwrap()
}

#[tokio::test]
async fn an_endless_completion_answer_fails_at_the_ai_cap() {
    let mut server = FloodServer::start(200, Flood::Chunked).await;
    let err = openai(&server)
        .complete(&prompt(&request()))
        .await
        .unwrap_err();
    assert_eq!(err.class(), FailureClass::ServerError);
    assert_eq!(err.error().kind(), ErrorKind::Transient);
    assert_eq!(
        err.error().message(),
        format!(
            "openai: the response to the completion call was larger than \
             {MAX_AI_RESPONSE_BYTES} bytes; it was not read"
        )
    );
    assert!(!format!("{err:?}").contains("sk-test-secret"));
    let sent = server.body_sent().await;
    assert!(
        sent <= cap(MAX_AI_RESPONSE_BYTES) + FLOOD_SLACK_BYTES,
        "the client took {sent} bytes"
    );
}

#[tokio::test]
async fn a_completion_answer_announcing_a_huge_length_fails_before_it_is_read() {
    let mut server = FloodServer::start(200, Flood::Announced(64 << 30)).await;
    let err = openai(&server)
        .complete(&prompt(&request()))
        .await
        .unwrap_err();
    assert_eq!(err.class(), FailureClass::ServerError);
    assert!(
        err.error()
            .message()
            .contains(&format!("was larger than {MAX_AI_RESPONSE_BYTES} bytes")),
        "{err:?}"
    );
    assert!(server.body_sent().await <= FLOOD_SLACK_BYTES);
}

#[tokio::test]
async fn an_endless_error_page_is_truncated_and_classified_by_its_status() {
    let mut server = FloodServer::start(503, Flood::Chunked).await;
    let err = openai(&server)
        .complete(&prompt(&request()))
        .await
        .unwrap_err();
    assert_eq!(err.class(), FailureClass::Overloaded);
    let sent = server.body_sent().await;
    assert!(
        sent <= cap(cmis_http::MAX_ERROR_BODY_BYTES) + FLOOD_SLACK_BYTES,
        "the client took {sent} bytes"
    );
}
