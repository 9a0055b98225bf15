//! Transport behaviour against local servers: classification, no redirects, no URL in errors.

use std::time::Duration;

use cmis_core::ErrorKind;
use cmis_http::{Call, client_builder, send};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn a_refused_connection_is_transient_even_for_a_mutation() {
    // Bind then drop a listener so the port is closed.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let client = client_builder().unwrap().build().unwrap();
    let url = format!("http://127.0.0.1:{port}/feed?access_token=SECRET-TOKEN-123");
    let err = send(client.post(&url), Call::Mutation).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert!(!format!("{err} {err:?}").contains("SECRET-TOKEN-123"));
    // Where the call went is named (host and port); the path and query are not.
    assert!(
        err.to_string().starts_with(&format!(
            "transient: could not connect to 127.0.0.1:{port}:"
        )),
        "{err}"
    );
    assert!(!err.to_string().contains("/feed"), "{err}");
}

#[tokio::test]
async fn a_timeout_after_sending_a_mutation_is_an_unknown_outcome() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/feed"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/feed"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .expect(1)
        .mount(&server)
        .await;
    let client = client_builder()
        .unwrap()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let url = format!("{}/feed?access_token=SECRET-TOKEN-456", server.uri());
    let err = send(client.post(&url), Call::Mutation).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome);
    assert!(!format!("{err} {err:?}").contains("SECRET-TOKEN-456"));

    let err = send(client.get(&url), Call::Read).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient);
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let server = MockServer::start().await;
    let other = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/me"))
        .respond_with(
            ResponseTemplate::new(302).insert_header("location", format!("{}/steal", other.uri())),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&other)
        .await;
    let client = client_builder().unwrap().build().unwrap();
    let response = send(
        client
            .get(format!("{}/me", server.uri()))
            .bearer_auth("SECRET"),
        Call::Read,
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 302);
}

#[tokio::test]
async fn no_redirect_status_carries_the_authorization_header_to_another_host() {
    let server = MockServer::start().await;
    let other = MockServer::start().await;
    // Another host name for the second server, so the redirect crosses hosts and ports.
    let elsewhere = format!("http://localhost:{}/steal", other.address().port());
    for status in [301, 302, 303, 307, 308] {
        Mock::given(method("POST"))
            .and(path(format!("/r{status}")))
            .respond_with(ResponseTemplate::new(status).insert_header("location", &elsewhere))
            .expect(1)
            .mount(&server)
            .await;
    }
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&other)
        .await;
    let client = client_builder().unwrap().build().unwrap();
    for status in [301, 302, 303, 307, 308] {
        let response = send(
            client
                .post(format!("{}/r{status}", server.uri()))
                .bearer_auth("SECRET-TOKEN"),
            Call::Mutation,
        )
        .await
        .unwrap();
        // The redirect itself is the answer: each connector classifies it as an error.
        assert_eq!(response.status().as_u16(), status);
        assert_eq!(response.headers()["location"], elsewhere.as_str());
    }
    assert!(other.received_requests().await.unwrap().is_empty());
}
