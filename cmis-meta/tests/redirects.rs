//! A Graph answer that redirects is an error, never followed: the Page token cannot reach the
//! other host, which sees no request at all.

mod common;

use cmis_core::{ErrorKind, Post, Publisher, Target};
use cmis_meta::FacebookPagePublisher;
use common::*;
use wiremock::matchers::{any, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn a_redirect_is_an_error_and_the_token_does_not_follow_it() {
    for status in [302, 307] {
        let h = harness().await;
        let elsewhere = MockServer::start().await;
        Mock::given(any())
            .respond_with(ResponseTemplate::new(200))
            .expect(0)
            .mount(&elsewhere)
            .await;
        // Another host name and port than the Graph server's 127.0.0.1.
        let location = format!("http://localhost:{}/steal", elsewhere.address().port());
        Mock::given(method("POST"))
            .and(path(format!("/v25.0/{PAGE}/feed")))
            .respond_with(ResponseTemplate::new(status).insert_header("location", location))
            .expect(1)
            .mount(&h.server)
            .await;
        let err = FacebookPagePublisher::new(h.client.clone())
            .publish(&Target::feed(page()), &Post::new().with_text("hi"), &h.ctx)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Internal, "{err:?}");
        assert!(err.message().contains(&format!("HTTP {status}")), "{err}");
        assert!(!format!("{err} {err:?}").contains(TOKEN));
        assert!(elsewhere.received_requests().await.unwrap().is_empty());
    }
}
