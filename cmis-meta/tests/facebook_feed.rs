//! `POST /{page-id}/feed`: text and link posts, native scheduling, and the 5xx case.

mod common;

use std::time::Duration;

use cmis_core::{
    Checkpoint, ErrorKind, FacebookOptions, Outcome, Platform, Post, Publisher, ReceiptState,
    Target, TokioClock, url::Url,
};
use cmis_meta::{FacebookPagePublisher, MetaClient};
use common::*;
use wiremock::Mock;
use wiremock::matchers::{header, method, path};

#[tokio::test]
async fn text_and_link_post_sends_one_exact_request() {
    let h = harness().await;
    let (k, v) = bearer();
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{PAGE}/feed")))
        .and(header(k, v.as_str()))
        .and(NoTokenInUrl)
        .and(form(&[
            ("message", "Doors open at 9 🎉"),
            ("link", "https://example.com/menu"),
        ]))
        .respond_with(json(200, "feed_post.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    let post = Post::new()
        .with_text("Doors open at 9 🎉")
        .with_link(Url::parse("https://example.com/menu").unwrap());
    let out = FacebookPagePublisher::new(h.client.clone())
        .publish(&Target::feed(page()), &post, &h.ctx)
        .await
        .unwrap();
    let Outcome::Published(r) = out else {
        panic!("not published")
    };
    assert_eq!(r.post_id.as_str(), "1234567890_9876543210");
    assert_eq!(r.platform, Platform::Facebook);
    assert_eq!(
        r.permalink.unwrap().as_str(),
        "https://www.facebook.com/1234567890_9876543210"
    );
    assert_eq!(r.state, ReceiptState::Published);
}

#[tokio::test]
async fn a_native_scheduled_post_sends_published_false_and_the_unix_time() {
    let now = time::macros::datetime!(2026-11-25 22:00 UTC);
    let h = harness_with(|b| b.clock(std::sync::Arc::new(TokioClock::starting_at(now)))).await;
    let at = now + Duration::from_secs(2 * 24 * 3600);
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{PAGE}/feed")))
        .and(form(&[
            ("message", "Sale starts Friday"),
            ("published", "false"),
            ("scheduled_publish_time", &at.unix_timestamp().to_string()),
        ]))
        .respond_with(json(200, "feed_post.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    let post = Post::new()
        .with_text("Sale starts Friday")
        .with_facebook(FacebookOptions::new().with_scheduled_publish_time(at));
    let out = FacebookPagePublisher::new(h.client.clone())
        .publish(&Target::feed(page()), &post, &h.ctx)
        .await
        .unwrap();
    assert_eq!(
        out.receipt().unwrap().state,
        ReceiptState::ScheduledOnPlatform
    );
}

#[tokio::test]
async fn schedules_outside_10_minutes_to_30_days_are_refused_before_any_call() {
    let now = time::macros::datetime!(2026-11-25 22:00 UTC);
    let h = harness_with(|b| b.clock(std::sync::Arc::new(TokioClock::starting_at(now)))).await;
    let publisher = FacebookPagePublisher::new(h.client.clone());
    for at in [
        now + Duration::from_secs(9 * 60),
        now + Duration::from_secs(31 * 24 * 3600),
        now - Duration::from_secs(60),
    ] {
        let post = Post::new()
            .with_text("x")
            .with_facebook(FacebookOptions::new().with_scheduled_publish_time(at));
        let err = publisher
            .publish(&Target::feed(page()), &post, &h.ctx)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert_eq!(
            err.violation_list()[0].rule,
            "facebook.schedule.window",
            "{err}"
        );
    }
    assert_eq!(
        h.tokens.requests.load(std::sync::atomic::Ordering::SeqCst),
        0
    );
}

#[tokio::test]
async fn a_5xx_on_feed_is_an_unknown_outcome_and_is_never_sent_twice() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{PAGE}/feed")))
        .respond_with(json(500, "error_2.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    let publisher = FacebookPagePublisher::new(h.client.clone());
    let err = publisher
        .publish(&Target::feed(page()), &Post::new().with_text("hi"), &h.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome);
    assert!(!err.is_retryable());
    assert_eq!(err.trace_id(), Some("A9xTr1Ace2"));
    // The call is recorded before it is sent, for reconcile (tests/reconcile_facebook.rs).
    assert_eq!(h.checkpoints.latest().unwrap().stage, "sending");
}

#[tokio::test]
async fn a_bare_502_on_feed_is_also_unknown() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{PAGE}/feed")))
        .respond_with(wiremock::ResponseTemplate::new(502).set_body_string("Bad Gateway"))
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
async fn resuming_after_a_sent_feed_call_refuses_to_send_it_again() {
    let h = harness().await;
    #[derive(serde::Serialize)]
    struct Sending {
        flow: &'static str,
        endpoint: &'static str,
    }
    let cp = Checkpoint::new(
        Platform::Facebook,
        "sending",
        &Sending {
            flow: "sending",
            endpoint: "/feed",
        },
    )
    .unwrap();
    let err = FacebookPagePublisher::new(h.client.clone())
        .resume(&Target::feed(page()), &cp, &h.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome);
}

#[tokio::test]
async fn an_empty_post_and_a_bad_page_id_are_invalid_input() {
    let h = harness().await;
    let publisher = FacebookPagePublisher::new(h.client.clone());
    let err = publisher
        .validate(&Target::feed(page()), &Post::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let bad = cmis_core::AccountRef::new(
        cmis_core::TenantId::new("acme"),
        Platform::Facebook,
        "123/../me?x=1",
    );
    let err = publisher
        .validate(&Target::feed(bad), &Post::new().with_text("x"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[test]
fn the_default_version_is_current_and_debug_hides_the_secret() {
    let client = MetaClient::builder()
        .app_id("1")
        .app_secret(cmis_core::SecretString::from("TOP-SECRET"))
        .build()
        .unwrap();
    assert_eq!(client.graph_version(), cmis_meta::DEFAULT_GRAPH_VERSION);
    assert_eq!(cmis_meta::DEFAULT_GRAPH_VERSION, "v25.0");
    let dbg = format!("{client:?}");
    assert!(!dbg.contains("TOP-SECRET"), "{dbg}");
    assert!(dbg.contains("graph-video.facebook.com"), "{dbg}");
    assert!(MetaClient::builder().graph_version("25").build().is_err());
}

#[tokio::test]
async fn a_timeout_on_feed_is_an_unknown_outcome_and_is_never_sent_twice() {
    let h = harness_with(|b| b.timeout(Duration::from_millis(300))).await;
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{PAGE}/feed")))
        .respond_with(json(200, "feed_post.json").set_delay(Duration::from_secs(3)))
        .expect(1)
        .mount(&h.server)
        .await;
    let err = FacebookPagePublisher::new(h.client.clone())
        .publish(&Target::feed(page()), &Post::new().with_text("hi"), &h.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome);
    assert!(!err.to_string().contains(TOKEN));
}
