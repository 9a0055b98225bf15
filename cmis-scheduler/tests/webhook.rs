//! Webhooks in the Standard Webhooks format: the specification's reference libraries' test
//! vectors, the exact request against a local server (its signature computed here
//! independently), secret rotation, tampered and replayed deliveries, one attempt per call with
//! the receiver's status in the error, and secrets kept out of errors and `Debug`.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cmis_core::{
    AccountRef, Clock, ErrorKind, Notification, NotificationKind, Notifier, Platform, Result,
    RetryPolicy, SecretString,
};
use cmis_scheduler::{
    WEBHOOK_ID_HEADER, WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TIMESTAMP_HEADER, WebhookNotifier,
    WebhookNotifierBuilder, WebhookSecret, verify_webhook,
};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use time::OffsetDateTime;
use time::macros::datetime;
use wiremock::matchers::{body_string, header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// The reference libraries' secret (see [`VECTORS`]).
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// The Rust reference library's secret, here the one being rotated out.
const OLD_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const NOW: OffsetDateTime = datetime!(2026-06-01 12:00 UTC);
const TOLERANCE: Duration = Duration::from_secs(300);

/// A signing test vector of the Standard Webhooks reference libraries.
struct Vector {
    source: &'static str,
    secret: &'static str,
    id: &'static str,
    timestamp: i64,
    payload: &'static str,
    signature: &'static str,
}

/// From github.com/standard-webhooks/standard-webhooks at b2fa7b8.
const VECTORS: [Vector; 2] = [
    Vector {
        // Also `libraries/javascript/src/webhook.test.ts` and `libraries/go/webhook_test.go`.
        source: "libraries/python/tests/test_webhooks.py: test_sign_function",
        secret: SECRET,
        id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
        timestamp: 1_614_265_330,
        payload: r#"{"test": 2432232314}"#,
        signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    },
    Vector {
        source: "libraries/rust/src/lib.rs: test_sign",
        secret: OLD_SECRET,
        id: "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
        timestamp: 1_649_367_553,
        payload: r#"{"email":"test@example.com","username":"test_user"}"#,
        signature: "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=",
    },
];

/// Signatures the reference libraries' tests expect to fail for the first vector.
const WRONG: [&str; 4] = [
    // Python: the genuine one with its last character changed.
    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=",
    // JavaScript and Go: another message's.
    "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
    // Rust: a bare version, and the first bytes only.
    "v1,",
    "v1,g0hM9",
];

#[derive(Debug)]
struct Fixed;

impl Clock for Fixed {
    fn now(&self) -> OffsetDateTime {
        NOW
    }
}

fn secret(s: &str) -> WebhookSecret {
    WebhookSecret::new(SecretString::from(s)).unwrap()
}

fn at(t: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(t).unwrap()
}

/// The signature computed here from the specification, not with the crate's code.
fn expected_signature(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> String {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

#[test]
fn the_reference_libraries_test_vectors_sign_and_verify() {
    for v in &VECTORS {
        assert_eq!(
            expected_signature(v.secret, v.id, v.timestamp, v.payload.as_bytes()),
            v.signature,
            "{}",
            v.source
        );
        let bare = v.secret.strip_prefix("whsec_").unwrap();
        for written in [v.secret, bare] {
            let s = secret(written);
            assert_eq!(s.sign(v.id, v.timestamp, v.payload.as_bytes()), v.signature);
            let ts = v.timestamp.to_string();
            for now in [v.timestamp, v.timestamp - 300, v.timestamp + 300] {
                verify_webhook(
                    &s,
                    v.id,
                    &ts,
                    v.signature,
                    v.payload.as_bytes(),
                    at(now),
                    TOLERANCE,
                )
                .unwrap_or_else(|e| panic!("{}: {e}", v.source));
            }
        }
    }
}

#[test]
fn the_reference_libraries_failing_cases_fail() {
    let v = &VECTORS[0];
    let s = secret(v.secret);
    let ts = v.timestamp.to_string();
    let check = |sig: &str, now: i64| {
        verify_webhook(&s, v.id, &ts, sig, v.payload.as_bytes(), at(now), TOLERANCE)
    };
    for wrong in WRONG {
        assert_eq!(
            check(wrong, v.timestamp).unwrap_err().kind(),
            ErrorKind::Auth
        );
    }
    // Several signatures: any `v1` one that matches (Python's test_multi_sig_payload_is_valid).
    let others = [
        WRONG[1],
        "v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
        WRONG[0],
    ];
    let with_genuine = format!("{} {} {} {}", others[0], others[1], v.signature, others[2]);
    check(&with_genuine, v.timestamp).unwrap();
    let without = others.join(" ");
    assert_eq!(
        check(&without, v.timestamp).unwrap_err().kind(),
        ErrorKind::Auth
    );
    // Five minutes and a second either way (test_old_timestamp_fails, test_new_timestamp_fails).
    for now in [v.timestamp + 301, v.timestamp - 301] {
        assert_eq!(check(v.signature, now).unwrap_err().kind(), ErrorKind::Auth);
    }
    // No id (test_missing_id_raises_error).
    let no_id = verify_webhook(&s, "", &ts, v.signature, b"{}", at(v.timestamp), TOLERANCE);
    assert_eq!(no_id.unwrap_err().kind(), ErrorKind::InvalidInput);
}

#[test]
fn secrets_are_read_padded_or_not_as_the_libraries_read_them() {
    // Python's test_signature_verification_with_unpadded_secret.
    let v = &VECTORS[0];
    for (unpadded, padded) in [
        (
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS",
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS=",
        ),
        (
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwBr",
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwBr==",
        ),
    ] {
        let sign = |s: &str| secret(s).sign(v.id, v.timestamp, v.payload.as_bytes());
        assert_eq!(sign(unpadded), sign(padded));
        assert_eq!(sign(&format!("whsec_{unpadded}")), sign(padded));
    }
}

fn notification() -> Notification {
    Notification::for_account(
        &AccountRef::new(
            cmis_core::TenantId::new("acme"),
            Platform::Instagram,
            "17841",
        ),
        NotificationKind::PublishFailed,
        "post p-1 failed: (#9004) media could not be fetched",
    )
    .with_subject("42")
    .at(NOW)
}

/// The notification above with the id `evt_42`, exactly as it goes on the wire.
const EXPECTED_BODY: &str = concat!(
    r#"{"id":"evt_42","tenant":"acme","kind":"publish_failed","#,
    r#""account":{"tenant":"acme","platform":"instagram","account":"17841"},"#,
    r#""subject":"42","message":"post p-1 failed: (#9004) media could not be fetched","#,
    r#""deadline":null,"at":"2026-06-01T12:00:00Z"}"#,
);

/// Matches a header's whole value (wiremock's `header` splits values at commas, and a
/// signature has one).
struct Exactly(&'static str, String);

impl wiremock::Match for Exactly {
    fn matches(&self, req: &Request) -> bool {
        req.headers
            .get(self.0)
            .is_some_and(|v| v.as_bytes() == self.1.as_bytes())
    }
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

fn builder(server: &MockServer) -> WebhookNotifierBuilder {
    WebhookNotifier::builder(
        format!("{}/hooks/cmis", server.uri()).parse().unwrap(),
        SecretString::from(SECRET),
    )
    .clock(Arc::new(Fixed))
}

async fn accept(server: &MockServer, n: u64) {
    Mock::given(method("POST"))
        .and(path("/hooks/cmis"))
        .respond_with(ResponseTemplate::new(204))
        .expect(n)
        .mount(server)
        .await;
}

/// What a receiver reads off a request: id, timestamp, signature header and body.
fn delivery(req: &Request) -> (String, String, String, Vec<u8>) {
    let h = |name: &str| req.headers.get(name).unwrap().to_str().unwrap().to_owned();
    (
        h(WEBHOOK_ID_HEADER),
        h(WEBHOOK_TIMESTAMP_HEADER),
        h(WEBHOOK_SIGNATURE_HEADER),
        req.body.clone(),
    )
}

async fn one_delivery(server: &MockServer) -> (String, String, String, Vec<u8>) {
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    delivery(&requests[0])
}

#[tokio::test]
async fn posts_the_notification_with_standard_webhooks_headers() {
    let server = server().await;
    let ts = NOW.unix_timestamp();
    Mock::given(method("POST"))
        .and(path("/hooks/cmis"))
        .and(header("content-type", "application/json"))
        .and(header("webhook-id", "evt_42"))
        .and(header("webhook-timestamp", ts.to_string().as_str()))
        .and(Exactly(
            "webhook-signature",
            expected_signature(SECRET, "evt_42", ts, EXPECTED_BODY.as_bytes()),
        ))
        .and(body_string(EXPECTED_BODY))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let notifier = builder(&server).build().unwrap();
    let r = notifier.notify(&notification().with_id("evt_42")).await;
    let requests0 = server.received_requests().await.unwrap();
    eprintln!(
        "DBG {:?} {}",
        requests0[0].headers,
        String::from_utf8_lossy(&requests0[0].body)
    );
    r.unwrap();
    let requests = server.received_requests().await.unwrap();
    let names: Vec<_> = requests[0].headers.keys().map(|k| k.as_str()).collect();
    assert!(!names.iter().any(|n| n.starts_with("x-cmis")), "{names:?}");
}

#[tokio::test]
async fn without_an_id_each_call_gets_a_new_msg_id_that_verifies() {
    let server = server().await;
    accept(&server, 2).await;
    let notifier = builder(&server).build().unwrap();
    notifier.notify(&notification()).await.unwrap();
    notifier.notify(&notification()).await.unwrap();
    let requests = server.received_requests().await.unwrap();
    let mut ids = Vec::new();
    for req in &requests {
        let (id, ts, sig, body) = delivery(req);
        assert!(id.starts_with("msg_") && id.len() > 20, "{id}");
        verify_webhook(&secret(SECRET), &id, &ts, &sig, &body, NOW, TOLERANCE).unwrap();
        ids.push(id);
    }
    assert_eq!(requests.len(), 2);
    assert_ne!(ids[0], ids[1]);
}

#[tokio::test]
async fn during_a_rotation_both_secrets_sign_and_either_verifies() {
    let server = server().await;
    accept(&server, 1).await;
    let notifier = builder(&server)
        .previous_secret(SecretString::from(OLD_SECRET))
        .build()
        .unwrap();
    notifier
        .notify(&notification().with_id("evt_42"))
        .await
        .unwrap();
    let (id, ts, sig, body) = one_delivery(&server).await;
    let t = NOW.unix_timestamp();
    assert_eq!(
        sig,
        format!(
            "{} {}",
            expected_signature(SECRET, &id, t, &body),
            expected_signature(OLD_SECRET, &id, t, &body)
        )
    );
    for s in [SECRET, OLD_SECRET] {
        verify_webhook(&secret(s), &id, &ts, &sig, &body, NOW, TOLERANCE).unwrap();
    }
    let third = secret("whsec_dGhpcmQtc2VjcmV0LW5vdC1pbi1yb3RhdGlvbg==");
    let err = verify_webhook(&third, &id, &ts, &sig, &body, NOW, TOLERANCE).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
}

#[tokio::test]
async fn a_tampered_body_id_timestamp_or_signature_is_refused() {
    let server = server().await;
    accept(&server, 1).await;
    builder(&server)
        .build()
        .unwrap()
        .notify(&notification().with_id("evt_42"))
        .await
        .unwrap();
    let (id, ts, sig, body) = one_delivery(&server).await;
    let s = secret(SECRET);
    let check = |id: &str, ts: &str, sig: &str, body: &[u8]| -> Result<()> {
        verify_webhook(&s, id, ts, sig, body, NOW, TOLERANCE)
    };
    check(&id, &ts, &sig, &body).unwrap();
    let body_text = String::from_utf8(body.clone()).unwrap();
    let other_body = body_text.replace("publish_failed", "published");
    let other_ts = (NOW.unix_timestamp() - 1).to_string();
    let mut other_sig = sig.clone().into_bytes();
    other_sig[5] = if other_sig[5] == b'A' { b'B' } else { b'A' };
    let other_sig = String::from_utf8(other_sig).unwrap();
    for (what, r) in [
        ("body", check(&id, &ts, &sig, other_body.as_bytes())),
        ("id", check("evt_43", &ts, &sig, &body)),
        ("timestamp", check(&id, &other_ts, &sig, &body)),
        ("signature", check(&id, &ts, &other_sig, &body)),
    ] {
        assert_eq!(r.unwrap_err().kind(), ErrorKind::Auth, "{what}");
    }
}

#[tokio::test]
async fn an_old_or_future_delivery_is_refused() {
    let server = server().await;
    accept(&server, 1).await;
    builder(&server)
        .build()
        .unwrap()
        .notify(&notification())
        .await
        .unwrap();
    let (id, ts, sig, body) = one_delivery(&server).await;
    let s = secret(SECRET);
    let verify_at = |offset: i64| {
        let now = NOW + time::Duration::seconds(offset);
        verify_webhook(&s, &id, &ts, &sig, &body, now, TOLERANCE)
    };
    for ok in [-300, 300] {
        verify_at(ok).unwrap();
    }
    for late in [-301, 301, 86_400] {
        let err = verify_at(late).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Auth);
        assert!(err.message().contains("tolerance"), "{err}");
    }
}

#[tokio::test]
async fn one_attempt_per_call_and_the_error_holds_the_status() {
    for (status, kind) in [
        (503, ErrorKind::Transient),
        (500, ErrorKind::Transient),
        (429, ErrorKind::RateLimited),
        (400, ErrorKind::Rejected),
        (410, ErrorKind::Rejected),
        (301, ErrorKind::Rejected),
    ] {
        let server = server().await;
        Mock::given(method("POST"))
            .and(path("/hooks/cmis"))
            .respond_with(ResponseTemplate::new(status).insert_header("retry-after", "7"))
            .expect(1)
            .mount(&server)
            .await;
        let err = builder(&server)
            .build()
            .unwrap()
            .notify(&notification())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{status}");
        assert_eq!(err.platform_code(), Some(status.to_string().as_str()));
        assert!(err.message().contains(&format!("HTTP {status}")), "{err}");
        let wait = err.is_retryable().then_some(Duration::from_secs(7));
        assert_eq!(err.retry_after(), wait, "{status}");
    }
}

#[tokio::test]
async fn a_receiver_that_does_not_answer_in_time_is_a_timeout() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/hooks/cmis"))
        .respond_with(ResponseTemplate::new(204).set_delay(Duration::from_secs(5)))
        .expect(1)
        .mount(&server)
        .await;
    let err = builder(&server)
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap()
        .notify(&notification())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert!(
        err.message().contains("did not answer within 200ms"),
        "{err}"
    );
    assert_eq!(err.platform_code(), None);
}

#[tokio::test]
async fn an_opted_in_retry_policy_keeps_the_id_and_each_attempt_verifies() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/hooks/cmis"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .expect(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/hooks/cmis"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .with_priority(2)
        .mount(&server)
        .await;
    builder(&server)
        .retry_policy(
            RetryPolicy::default()
                .with_max_attempts(3)
                .with_base(Duration::from_millis(1)),
        )
        .build()
        .unwrap()
        .notify(&notification())
        .await
        .unwrap();
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 3);
    let deliveries: Vec<_> = requests.iter().map(delivery).collect();
    for (id, ts, sig, body) in &deliveries {
        assert_eq!(id, &deliveries[0].0);
        verify_webhook(&secret(SECRET), id, ts, sig, body, NOW, TOLERANCE).unwrap();
    }
}

#[tokio::test]
async fn an_id_the_header_cannot_carry_is_refused_before_sending() {
    let server = server().await;
    let notifier = builder(&server).build().unwrap();
    for id in ["evt.42", "evt 42", ""] {
        let err = notifier
            .notify(&notification().with_id(id))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{id:?}");
    }
}

#[test]
fn bad_configuration_is_refused_before_any_request() {
    let short = format!("whsec_{}", STANDARD.encode([7u8; 16]));
    for (url, secret) in [
        ("ftp://example.com/hook", SECRET),
        ("https://example.com/hook", ""),
        ("https://example.com/hook", "whsec_"),
        ("https://example.com/hook", "whsec_not base64 at all!"),
        ("https://example.com/hook", short.as_str()),
    ] {
        let err = WebhookNotifier::builder(url.parse().unwrap(), SecretString::from(secret))
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{secret:?}");
        let shown = format!("{err} {err:?}");
        assert!(
            secret.len() <= 6 || !shown.contains(&secret[6..]),
            "{shown}"
        );
    }
    let err = WebhookNotifier::builder(
        "https://example.com/hook".parse().unwrap(),
        SecretString::from(SECRET),
    )
    .previous_secret(SecretString::from("whsec_%%%"))
    .build()
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[test]
fn no_secret_in_debug_output() {
    let key = STANDARD
        .decode(SECRET.strip_prefix("whsec_").unwrap())
        .unwrap();
    let builder = WebhookNotifier::builder(
        "https://app.example.com/hooks/cmis".parse().unwrap(),
        SecretString::from(SECRET),
    )
    .previous_secret(SecretString::from(OLD_SECRET));
    let builder_shown = format!("{builder:?}");
    let notifier = builder.build().unwrap();
    let shown = format!("{builder_shown} {notifier:?} {:?}", secret(SECRET));
    for needle in [
        "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "C2FVsBQIhrscChlQIMV",
        "whsec_",
    ] {
        assert!(!shown.contains(needle), "{shown}");
    }
    assert!(!shown.contains(&format!("{key:?}")[1..20]), "{shown}");
    assert!(shown.contains("app.example.com"), "{shown}");
}
