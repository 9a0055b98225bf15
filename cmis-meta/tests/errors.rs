//! The Graph error envelope mapped to error kinds, usage headers, and no retry storms.

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use cmis_core::{ErrorKind, ExposeSecret, Media, Post, Publisher, Target, url::Url};
use cmis_meta::{FacebookPagePublisher, InstagramPublisher};
use common::*;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

/// Publishes a text post whose `/feed` call answers `status` with `fixture_name`, and returns
/// the error; the `/feed` mock expects exactly one call.
async fn feed_error(status: u16, fixture_name: &str) -> (cmis_core::Error, Harness) {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{PAGE}/feed")))
        .respond_with(json(status, fixture_name))
        .expect(1)
        .mount(&h.server)
        .await;
    let err = FacebookPagePublisher::new(h.client.clone())
        .publish(&Target::feed(page()), &Post::new().with_text("hi"), &h.ctx)
        .await
        .unwrap_err();
    (err, h)
}

#[tokio::test]
async fn expired_token_190_463_is_auth_with_one_call_and_one_invalidation() {
    let (err, h) = feed_error(400, "error_190_463.json").await;
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(err.platform_code(), Some("190"));
    assert_eq!(err.platform_subcode(), Some("463"));
    assert_eq!(err.trace_id(), Some("A9xTr1Ace190"));
    assert_eq!(h.tokens.invalidations.load(Ordering::SeqCst), 1);
    // The provider was asked once more after the rejection, handed out the same token, and so
    // the post was not sent again.
    assert_eq!(h.tokens.requests.load(Ordering::SeqCst), 2);
    assert!(err.is_token_rejected());
    assert!(!err.to_string().contains(TOKEN));
}

/// The connector kit's rule, as TikTok follows it too: a rejected token that the platform can
/// refresh is refreshed once and the call repeated once with the new token.
#[tokio::test]
async fn a_rejected_user_token_is_refreshed_once_and_the_post_sent_again() {
    use cmis_core::{
        Credential, CredentialStore, MemoryCredentialStore, PublishContext,
        RefreshingTokenProvider, SecretString,
    };
    use cmis_meta::FacebookTokenRefresher;
    use wiremock::matchers::header;

    let h = harness().await;
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{PAGE}/feed")))
        .and(header("authorization", "Bearer EAAB-user-old"))
        .respond_with(json(400, "error_190_463.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v25.0/oauth/access_token"))
        .and(query_param("grant_type", "fb_exchange_token"))
        .and(query_param("fb_exchange_token", "EAAB-user-old"))
        .respond_with(json(200, "long_lived.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{PAGE}/feed")))
        .and(header("authorization", "Bearer EAAB-long-lived"))
        .respond_with(json(200, "feed_post.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    let store = Arc::new(MemoryCredentialStore::new());
    let in_30_days = time::OffsetDateTime::now_utc() + Duration::from_secs(30 * 24 * 3600);
    store
        .put_credential(
            Credential::new(page(), SecretString::from("EAAB-user-old"))
                .with_access_expires_at(in_30_days),
        )
        .await
        .unwrap();
    let tokens = RefreshingTokenProvider::builder(store.clone())
        .refresher(Arc::new(FacebookTokenRefresher::new(h.client.clone())))
        .build();
    let ctx = PublishContext::new(Arc::new(tokens));
    let out = FacebookPagePublisher::new(h.client.clone())
        .publish(&Target::feed(page()), &Post::new().with_text("hi"), &ctx)
        .await
        .unwrap();
    let cmis_core::Outcome::Published(receipt) = out else {
        panic!("not published: {out:?}")
    };
    assert_eq!(receipt.post_id.as_str(), "1234567890_9876543210");
    let stored = store.credential(&page()).await.unwrap().unwrap();
    assert_eq!(stored.access_token.expose_secret(), "EAAB-long-lived");
}

#[tokio::test]
async fn expired_token_on_a_read_is_not_retried_either() {
    let h = harness().await;
    Mock::given(method("GET"))
        .and(path(format!("/v25.0/{IG}/content_publishing_limit")))
        .respond_with(json(400, "error_190_463.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    let post = Post::new().with_media(Media::url(
        Url::parse("https://cdn.example.com/a.jpg").unwrap(),
    ));
    let err = InstagramPublisher::new(h.client.clone())
        .publish(&Target::feed(ig()), &post, &h.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(h.tokens.invalidations.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn missing_page_role_492_is_permission() {
    let (err, h) = feed_error(400, "error_492.json").await;
    assert_eq!(err.kind(), ErrorKind::Permission);
    assert_eq!(err.platform_subcode(), Some("492"));
    assert_eq!(h.tokens.invalidations.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn permission_code_10_is_permission() {
    let (err, _h) = feed_error(403, "error_10.json").await;
    assert_eq!(err.kind(), ErrorKind::Permission);
}

#[tokio::test]
async fn code_4_with_usage_headers_is_rate_limited_with_a_retry_after() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{PAGE}/feed")))
        .respond_with(
            json(403, "error_4.json")
                .insert_header(
                    "x-app-usage",
                    r#"{"call_count":100,"total_time":40,"total_cputime":35}"#,
                )
                .insert_header(
                    "x-business-use-case-usage",
                    r#"{"1234567890":[{"type":"pages","call_count":100,"total_cputime":23,"total_time":23,"estimated_time_to_regain_access":12}]}"#,
                ),
        )
        .expect(1)
        .mount(&h.server)
        .await;
    let publisher = FacebookPagePublisher::new(h.client.clone());
    let err = publisher
        .publish(&Target::feed(page()), &Post::new().with_text("hi"), &h.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.platform_code(), Some("4"));
    assert_eq!(err.retry_after(), Some(Duration::from_secs(12 * 60)));
    // Meta: calls while limited extend the block. The next publish is refused without a call.
    let err = publisher
        .publish(
            &Target::feed(page()),
            &Post::new().with_text("again"),
            &h.ctx,
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert!(err.retry_after().unwrap() > Duration::from_secs(60 * 59));
}

#[tokio::test]
async fn every_throttle_code_is_rate_limited() {
    for f in [
        "error_4.json",
        "error_17.json",
        "error_32.json",
        "error_613.json",
        "error_80001.json",
    ] {
        let (err, _h) = feed_error(403, f).await;
        assert_eq!(err.kind(), ErrorKind::RateLimited, "{f}");
        assert!(err.retry_after().is_some(), "{f}");
    }
}

#[tokio::test(start_paused = true)]
async fn usage_near_the_limit_slows_the_account_down_before_100_percent() {
    let _ticker = keep_clock_ticking();
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{PAGE}/feed")))
        .respond_with(json(200, "feed_post.json").insert_header(
            "x-page-usage",
            r#"{"call_count":92,"total_time":10,"total_cputime":10}"#,
        ))
        .expect(2)
        .mount(&h.server)
        .await;
    let publisher = FacebookPagePublisher::new(h.client.clone());
    let target = Target::feed(page());
    publisher
        .publish(&target, &Post::new().with_text("one"), &h.ctx)
        .await
        .unwrap();
    let started = tokio::time::Instant::now();
    publisher
        .publish(&target, &Post::new().with_text("two"), &h.ctx)
        .await
        .unwrap();
    // 92 % pauses the account for 60 s before its next call.
    assert!(
        started.elapsed() >= Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn usage_at_97_percent_refuses_the_next_call_with_a_retry_after() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{PAGE}/feed")))
        .respond_with(json(200, "feed_post.json").insert_header(
            "x-business-use-case-usage",
            r#"{"1234567890":[{"type":"pages","call_count":97,"total_cputime":23,"total_time":23,"estimated_time_to_regain_access":0}]}"#,
        ))
        .expect(1)
        .mount(&h.server)
        .await;
    let publisher = FacebookPagePublisher::new(h.client.clone());
    publisher
        .publish(&Target::feed(page()), &Post::new().with_text("one"), &h.ctx)
        .await
        .unwrap();
    let err = publisher
        .publish(&Target::feed(page()), &Post::new().with_text("two"), &h.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert!(err.retry_after().unwrap() > Duration::from_secs(60));
}

#[tokio::test]
async fn transient_codes_are_retried_on_reads_only() {
    // A read: code 2 once, then the real answer.
    let h = harness().await;
    Mock::given(method("GET"))
        .and(path(format!("/v25.0/{IG}/content_publishing_limit")))
        .respond_with(json(500, "error_2.json"))
        .up_to_n_times(1)
        .expect(1)
        .with_priority(1)
        .mount(&h.server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v25.0/{IG}/content_publishing_limit")))
        .and(query_param("fields", "quota_usage,config"))
        .respond_with(json(200, "ig_publishing_limit_used.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    let post = Post::new().with_media(Media::url(
        Url::parse("https://cdn.example.com/a.jpg").unwrap(),
    ));
    let err = InstagramPublisher::new(h.client.clone())
        .publish(&Target::feed(ig()), &post, &h.ctx)
        .await
        .unwrap_err();
    // The retried read got through and found the quota used up.
    assert_eq!(err.kind(), ErrorKind::Quota);

    // A mutation: code 1 is an unknown outcome, sent once.
    let (err, _h) = feed_error(500, "error_1.json").await;
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome);
}

#[tokio::test]
async fn policy_blocks_are_rejected_and_keep_the_user_message() {
    let (err, _h) = feed_error(400, "error_368.json").await;
    assert_eq!(err.kind(), ErrorKind::Rejected);
    assert_eq!(err.platform_code(), Some("368"));
    assert_eq!(
        err.user_message(),
        Some("You have been temporarily blocked from performing this action.")
    );
    assert_eq!(err.trace_id(), Some("A9xTr1Ace368"));

    let (err, _h) = feed_error(400, "error_2207051.json").await;
    assert_eq!(err.kind(), ErrorKind::Rejected);
    assert_eq!(err.platform_subcode(), Some("2207051"));
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn content_errors_are_rejected_with_the_platform_message() {
    let (err, _h) = feed_error(400, "error_2207005.json").await;
    assert_eq!(err.kind(), ErrorKind::Rejected);
    assert_eq!(err.message(), "The image format is not supported.");
    assert_eq!(err.platform_code(), Some("36001"));
    assert_eq!(err.platform_subcode(), Some("2207005"));
    assert_eq!(
        err.user_message(),
        Some("The image format is not supported. Supported formats are: JPEG")
    );
    let (err, _h) = feed_error(400, "error_506.json").await;
    assert_eq!(err.kind(), ErrorKind::Rejected);
}

#[tokio::test]
async fn the_daily_limit_is_quota() {
    let (err, _h) = feed_error(400, "error_2207042.json").await;
    assert_eq!(err.kind(), ErrorKind::Quota);
    assert_eq!(err.platform_code(), Some("9"));
    assert_eq!(err.trace_id(), Some("A9xTr1Ace2207042"));
}

#[tokio::test]
async fn a_success_status_with_a_garbled_body_after_a_mutation_is_unknown() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{PAGE}/feed")))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>"))
        .expect(1)
        .mount(&h.server)
        .await;
    let err = FacebookPagePublisher::new(h.client.clone())
        .publish(&Target::feed(page()), &Post::new().with_text("hi"), &h.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome);
}

#[tokio::test]
async fn large_ids_keep_every_digit() {
    let h = harness().await;
    // A number above 2^53: parsed as a float it would lose its last digits.
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{PAGE}/feed")))
        .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"id":9007199254740993}"#))
        .expect(1)
        .mount(&h.server)
        .await;
    let out = FacebookPagePublisher::new(h.client.clone())
        .publish(&Target::feed(page()), &Post::new().with_text("hi"), &h.ctx)
        .await
        .unwrap();
    assert_eq!(out.receipt().unwrap().post_id.as_str(), "9007199254740993");
}
