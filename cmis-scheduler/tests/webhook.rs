//! The webhook notifier against a local server: the exact request, the signature computed here
//! independently, retries of transient failures, no retry of a refusal.

use std::sync::Arc;
use std::time::Duration;

use cmis_core::{
    AccountRef, Clock, ErrorKind, Notification, NotificationKind, Notifier, Platform, RetryPolicy,
    SecretString,
};
use cmis_scheduler::WebhookNotifier;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use time::OffsetDateTime;
use time::macros::datetime;
use wiremock::matchers::{body_partial_json, header, header_exists, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const SECRET: &str = "whsec-0123456789abcdef";
const NOW: OffsetDateTime = datetime!(2026-06-01 12:00 UTC);

#[derive(Debug)]
struct Fixed;

impl Clock for Fixed {
    fn now(&self) -> OffsetDateTime {
        NOW
    }
}

/// Matches requests whose signature header is the HMAC-SHA256 of `"{timestamp}.{body}"`.
struct SignedWith(&'static str);

impl wiremock::Match for SignedWith {
    fn matches(&self, req: &Request) -> bool {
        let (Some(ts), Some(sig)) = (
            req.headers.get("x-cmis-timestamp"),
            req.headers.get("x-cmis-signature"),
        ) else {
            return false;
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(self.0.as_bytes()).unwrap();
        mac.update(ts.as_bytes());
        mac.update(b".");
        mac.update(&req.body);
        let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        sig.as_bytes() == expected.as_bytes()
    }
}

fn notification() -> Notification {
    Notification::for_account(
        &AccountRef::new("acme", Platform::Instagram, "17841"),
        NotificationKind::PublishFailed,
        "post p-1 failed: (#9004) media could not be fetched",
    )
    .with_subject("42")
    .at(NOW)
}

async fn server() -> MockServer {
    let server = MockServer::start().await;
    // Anything not matched by a test's mock fails the test on drop.
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(599))
        .with_priority(u8::MAX)
        .expect(0)
        .mount(&server)
        .await;
    server
}

fn notifier(server: &MockServer, secret: &str) -> WebhookNotifier {
    WebhookNotifier::builder(
        format!("{}/hooks/cmis", server.uri()).parse().unwrap(),
        SecretString::from(secret),
    )
    .clock(Arc::new(Fixed))
    .retry_policy(
        RetryPolicy::default()
            .with_max_attempts(3)
            .with_base(Duration::from_millis(1)),
    )
    .build()
    .unwrap()
}

#[tokio::test]
async fn posts_signed_json_with_a_timestamp() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/hooks/cmis"))
        .and(header("content-type", "application/json"))
        .and(header(
            "x-cmis-timestamp",
            NOW.unix_timestamp().to_string().as_str(),
        ))
        .and(header_exists("x-cmis-delivery"))
        .and(SignedWith(SECRET))
        .and(body_partial_json(serde_json::json!({
            "tenant": "acme",
            "kind": "publish_failed",
            "subject": "42",
            "account": {"tenant": "acme", "platform": "instagram", "account": "17841"},
            "message": "post p-1 failed: (#9004) media could not be fetched",
            "at": "2026-06-01T12:00:00Z",
        })))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    notifier(&server, SECRET)
        .notify(&notification())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_wrong_secret_does_not_verify() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(SignedWith("another-secret-entirely"))
        .respond_with(ResponseTemplate::new(204))
        .expect(0)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(SignedWith(SECRET))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    notifier(&server, SECRET)
        .notify(&notification())
        .await
        .unwrap();
}

#[tokio::test]
async fn transient_failures_are_retried_with_the_same_delivery_id() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/hooks/cmis"))
        .and(SignedWith(SECRET))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .expect(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/hooks/cmis"))
        .and(SignedWith(SECRET))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .with_priority(2)
        .mount(&server)
        .await;
    notifier(&server, SECRET)
        .notify(&notification())
        .await
        .unwrap();
    let requests = server.received_requests().await.unwrap();
    let ids: std::collections::HashSet<_> = requests
        .iter()
        .map(|r| {
            r.headers
                .get("x-cmis-delivery")
                .unwrap()
                .as_bytes()
                .to_vec()
        })
        .collect();
    assert_eq!(requests.len(), 3);
    assert_eq!(ids.len(), 1);
}

#[tokio::test]
async fn a_refusal_is_not_retried() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/hooks/cmis"))
        .respond_with(ResponseTemplate::new(400))
        .expect(1)
        .mount(&server)
        .await;
    let err = notifier(&server, SECRET)
        .notify(&notification())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Rejected);
}

#[test]
fn bad_configuration_is_refused_before_any_request() {
    for (url, secret) in [
        ("ftp://example.com/hook", SECRET),
        ("https://example.com/hook", "short"),
    ] {
        let err = WebhookNotifier::builder(url.parse().unwrap(), SecretString::from(secret))
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    }
}
