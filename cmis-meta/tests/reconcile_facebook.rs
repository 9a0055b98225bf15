//! `reconcile` for Facebook: the Page's `published_posts` read over the lost call's window and
//! matched by exact text and kind, by stored photo ids, or a Reel's status by its video id.

mod common;

use std::sync::Arc;
use std::time::Duration;

use cmis_core::{
    Checkpoint, ErrorKind, FacebookOptions, Media, Platform, Post, Publisher, Reconciliation,
    Target, TokioClock, url::Url,
};
use cmis_meta::{FacebookPagePublisher, MetaClient, ReconcilePolicy};
use common::*;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer};

/// When the lost call started.
const START: OffsetDateTime = datetime!(2026-12-06 10:00:00 UTC);
const TEXT: &str = "Doors open at 9 🎉";
const FIELDS: &str =
    "id,message,created_time,permalink_url,attachments{media_type,target,subattachments}";

/// Long after the call's window (10 min) and the settling time (10 min) passed.
fn late() -> OffsetDateTime {
    START + Duration::from_secs(3600)
}

/// The listing starts an hour (the lookback) before the window, which opens 5 s before the call.
fn since_of_window() -> String {
    (START - Duration::from_secs(3605))
        .unix_timestamp()
        .to_string()
}

fn publisher_at(server: &MockServer, now: OffsetDateTime) -> FacebookPagePublisher {
    let client = MetaClient::builder()
        .graph_url(server.uri())
        .clock(Arc::new(TokioClock::starting_at(now)))
        .build()
        .unwrap();
    FacebookPagePublisher::new(client)
}

fn sending(creates: &str, ids: &[&str], retry: Value) -> Checkpoint {
    Checkpoint::new(
        Platform::Facebook,
        "sending",
        &json!({
            "flow": "sending",
            "endpoint": "/feed",
            "started_at": "2026-12-06T10:00:00Z",
            "creates": creates,
            "ids": ids,
            "retry": retry,
        }),
    )
    .unwrap()
}

fn text_post() -> Post {
    Post::new().with_text(TEXT)
}

fn ready(post: &Post) -> Value {
    json!({ "flow": "ready", "post": post })
}

async fn mount_posts(server: &MockServer, since: &str, fixture_name: &str, times: u64) {
    let (k, v) = bearer();
    Mock::given(method("GET"))
        .and(path(format!("/v25.0/{PAGE}/published_posts")))
        .and(query_param("fields", FIELDS))
        .and(query_param("since", since))
        .and(query_param("limit", "100"))
        .and(query_param_is_missing("after"))
        .and(header(k, v.as_str()))
        .and(NoTokenInUrl)
        .respond_with(json(200, fixture_name))
        .expect(times)
        .mount(server)
        .await;
}

async fn reconcile(
    publisher: &FacebookPagePublisher,
    post: &Post,
    cp: Option<&Checkpoint>,
    h: &Harness,
) -> cmis_core::Result<Reconciliation> {
    publisher
        .reconcile(&Target::feed(page()), post, cp, &h.ctx)
        .await
}

#[tokio::test]
async fn a_lost_text_post_is_found_by_its_text_inside_the_call_window() {
    let h = harness_with(|b| b.clock(Arc::new(TokioClock::starting_at(START)))).await;
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{PAGE}/feed")))
        .respond_with(json(500, "error_2.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    let publisher = FacebookPagePublisher::new(h.client.clone());
    let err = publisher
        .publish(&Target::feed(page()), &text_post(), &h.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome);
    // The checkpoint saved before the call records when it started.
    let cp = h.checkpoints.latest().unwrap();
    assert_eq!(cp.stage, "sending");
    assert!(
        cp.data_json()
            .contains("\"started_at\":\"2026-12-06T10:00:00")
    );
    // The fixture holds our post (10:00:02) and the same text published at 09:50 by someone
    // else: only ours is inside the window.
    mount_posts(&h.server, &since_of_window(), "published_posts.json", 1).await;
    let rec = reconcile(&publisher, &text_post(), Some(&cp), &h)
        .await
        .unwrap();
    let Reconciliation::Published(r) = rec else {
        panic!("not found: {rec:?}")
    };
    assert_eq!(r.post_id.as_str(), "1234567890_9876543210");
    assert_eq!(
        r.permalink.unwrap().as_str(),
        "https://www.facebook.com/1234567890/posts/9876543210"
    );
    assert_eq!(r.published_at, datetime!(2026-12-06 10:00:02 UTC));
}

#[tokio::test]
async fn an_earlier_post_with_the_same_text_is_never_taken_for_ours() {
    let h = harness().await;
    mount_posts(
        &h.server,
        &since_of_window(),
        "published_posts_earlier_only.json",
        1,
    )
    .await;
    let cp = sending("feed", &[], ready(&text_post()));
    let err = reconcile(
        &publisher_at(&h.server, late()),
        &text_post(),
        Some(&cp),
        &h,
    )
    .await
    .unwrap_err();
    // Neither ours nor "not published": publishing again would duplicate the earlier post.
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome);
    assert!(err.to_string().contains("not taken"), "{err}");
    assert!(err.to_string().contains("1234567890_9876543100"), "{err}");
}

#[tokio::test]
async fn two_posts_with_the_same_text_in_the_window_are_ambiguous() {
    let h = harness().await;
    mount_posts(
        &h.server,
        &since_of_window(),
        "published_posts_twins.json",
        1,
    )
    .await;
    let cp = sending("feed", &[], ready(&text_post()));
    let err = reconcile(
        &publisher_at(&h.server, late()),
        &text_post(),
        Some(&cp),
        &h,
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome);
    assert!(err.to_string().contains("ambiguous"), "{err}");
}

#[tokio::test]
async fn absence_is_claimed_only_once_the_window_settled_and_then_publishing_starts_afresh() {
    let h = harness().await;
    mount_posts(
        &h.server,
        &since_of_window(),
        "published_posts_other.json",
        2,
    )
    .await;
    let cp = sending("feed", &[], ready(&text_post()));
    // Two minutes after the call, Meta may not list the post yet.
    let early = publisher_at(&h.server, START + Duration::from_secs(120));
    let err = reconcile(&early, &text_post(), Some(&cp), &h)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome);
    assert!(err.to_string().contains("only after"), "{err}");
    // ... and says when it can: the window (10 min from the call) plus the settling time (10
    // min), 18 minutes from now, so a scheduler checks again then instead of giving up.
    let wait = err.retry_after().expect("a time to check again");
    assert!(
        wait <= Duration::from_secs(18 * 60) && wait > Duration::from_secs(18 * 60 - 10),
        "{wait:?}"
    );
    // Long after, the whole window is listed and holds no such post.
    let publisher = publisher_at(&h.server, late());
    let rec = reconcile(&publisher, &text_post(), Some(&cp), &h)
        .await
        .unwrap();
    assert_eq!(rec, Reconciliation::NotPublished);
    // The checkpoint goes back to before the call, so resuming publishes instead of refusing.
    let back = h.checkpoints.latest().unwrap();
    assert_eq!(back.stage, "ready");
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{PAGE}/feed")))
        .and(form(&[("message", TEXT)]))
        .respond_with(json(200, "feed_post.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    let out = publisher
        .resume(&Target::feed(page()), &back, &h.ctx)
        .await
        .unwrap();
    assert_eq!(
        out.receipt().unwrap().post_id.as_str(),
        "1234567890_9876543210"
    );
}

#[tokio::test]
async fn a_listing_cut_short_proves_nothing() {
    let h = harness().await;
    mount_posts(
        &h.server,
        &since_of_window(),
        "published_posts_page1.json",
        1,
    )
    .await;
    let mut policy = ReconcilePolicy::default();
    policy.max_pages = 1;
    let publisher = publisher_at(&h.server, late()).with_reconcile_policy(policy);
    let cp = sending("feed", &[], ready(&text_post()));
    let err = reconcile(&publisher, &text_post(), Some(&cp), &h)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome);
    assert!(err.to_string().contains("cut short"), "{err}");
}

#[tokio::test]
async fn the_next_page_is_read_with_the_after_cursor() {
    let h = harness().await;
    mount_posts(
        &h.server,
        &since_of_window(),
        "published_posts_page1.json",
        1,
    )
    .await;
    Mock::given(method("GET"))
        .and(path(format!("/v25.0/{PAGE}/published_posts")))
        .and(query_param("fields", FIELDS))
        .and(query_param("since", since_of_window().as_str()))
        .and(query_param("limit", "100"))
        .and(query_param("after", "QVFIUlBfdGhl"))
        .respond_with(json(200, "published_posts.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    let cp = sending("feed", &[], ready(&text_post()));
    let rec = reconcile(
        &publisher_at(&h.server, late()),
        &text_post(),
        Some(&cp),
        &h,
    )
    .await
    .unwrap();
    assert!(
        matches!(&rec, Reconciliation::Published(r) if r.post_id.as_str() == "1234567890_9876543210"),
        "{rec:?}"
    );
}

#[tokio::test]
async fn a_photo_without_text_stays_unknown_without_a_stored_id() {
    let h = harness().await;
    mount_posts(
        &h.server,
        &since_of_window(),
        "published_posts_photo.json",
        1,
    )
    .await;
    let post = Post::new().with_media(Media::url(
        Url::parse("https://cdn.example.com/a.jpg").unwrap(),
    ));
    let cp = sending("photo", &[], ready(&post));
    let err = reconcile(&publisher_at(&h.server, late()), &post, Some(&cp), &h)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome);
    assert!(err.to_string().contains("no text"), "{err}");
}

#[tokio::test]
async fn a_multi_photo_post_is_found_by_its_stored_photo_ids() {
    let h = harness().await;
    mount_posts(
        &h.server,
        &since_of_window(),
        "published_posts_album.json",
        1,
    )
    .await;
    let post = Post::new()
        .with_media(Media::url(
            Url::parse("https://cdn.example.com/a.jpg").unwrap(),
        ))
        .with_media(Media::url(
            Url::parse("https://cdn.example.com/b.jpg").unwrap(),
        ));
    let retry = json!({
        "flow": "multi_photo",
        "post": post,
        "photo_ids": ["200000000000001", "200000000000002"],
    });
    let cp = sending("photos", &["200000000000001", "200000000000002"], retry);
    let rec = reconcile(&publisher_at(&h.server, late()), &post, Some(&cp), &h)
        .await
        .unwrap();
    assert!(
        matches!(&rec, Reconciliation::Published(r) if r.post_id.as_str() == "1234567890_9876544444"),
        "{rec:?}"
    );
}

#[tokio::test]
async fn a_reel_is_looked_up_by_its_stored_video_id() {
    let h = harness().await;
    let (k, v) = bearer();
    Mock::given(method("GET"))
        .and(path("/v25.0/40000000000000001"))
        .and(query_param("fields", "status"))
        .and(header(k, v.as_str()))
        .respond_with(json(200, "reel_status_published.json"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&h.server)
        .await;
    let post = Post::new().with_text("Reel");
    let retry = json!({
        "flow": "reel", "post": post, "video_id": "40000000000000001", "uploaded": true,
    });
    let cp = sending("reel", &["40000000000000001"], retry);
    let publisher = publisher_at(&h.server, late());
    let target = Target::new(page(), cmis_core::Surface::Reel);
    let rec = publisher
        .reconcile(&target, &post, Some(&cp), &h.ctx)
        .await
        .unwrap();
    assert!(
        matches!(&rec, Reconciliation::Published(r) if r.post_id.as_str() == "40000000000000001"),
        "{rec:?}"
    );
    Mock::given(method("GET"))
        .and(path("/v25.0/40000000000000001"))
        .and(query_param("fields", "status"))
        .respond_with(json(200, "reel_status_processing.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    let err = publisher
        .reconcile(&target, &post, Some(&cp), &h.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome);
    assert!(err.to_string().contains("not published yet"), "{err}");
}

#[tokio::test]
async fn a_listing_error_is_the_platforms_error() {
    let h = harness().await;
    Mock::given(method("GET"))
        .and(path(format!("/v25.0/{PAGE}/published_posts")))
        .respond_with(json(400, "error_190_463.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    let cp = sending("feed", &[], ready(&text_post()));
    let err = reconcile(
        &publisher_at(&h.server, late()),
        &text_post(),
        Some(&cp),
        &h,
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(err.trace_id(), Some("A9xTr1Ace190"));
}

#[tokio::test]
async fn without_a_checkpoint_a_same_text_post_of_the_last_day_stops_not_published() {
    let h = harness().await;
    let since = (late() - Duration::from_secs(24 * 3600))
        .unix_timestamp()
        .to_string();
    mount_posts(&h.server, &since, "published_posts_earlier_only.json", 1).await;
    let publisher = publisher_at(&h.server, late());
    let err = reconcile(&publisher, &text_post(), None, &h)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome);
    h.server.reset().await;
    catch_all(&h.server).await;
    mount_posts(&h.server, &since, "published_posts_other.json", 1).await;
    let rec = reconcile(&publisher, &text_post(), None, &h).await.unwrap();
    assert_eq!(rec, Reconciliation::NotPublished);
}

#[tokio::test]
async fn a_state_before_the_creating_call_is_not_published_without_any_call() {
    let h = harness().await;
    let post = text_post();
    let cp = Checkpoint::new(Platform::Facebook, "ready", &ready(&post)).unwrap();
    let rec = reconcile(&publisher_at(&h.server, late()), &post, Some(&cp), &h)
        .await
        .unwrap();
    assert_eq!(rec, Reconciliation::NotPublished);
}

#[tokio::test]
async fn a_natively_scheduled_post_stays_unknown() {
    let h = harness().await;
    let post =
        text_post().with_facebook(FacebookOptions::new().with_scheduled_publish_time(late()));
    let cp = sending("feed", &[], ready(&post));
    let err = reconcile(&publisher_at(&h.server, late()), &post, Some(&cp), &h)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome);
    assert!(err.to_string().contains("scheduled"), "{err}");
}

#[tokio::test]
async fn a_refused_text_post_goes_back_to_ready() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{PAGE}/feed")))
        .respond_with(json(400, "error_506.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    let err = FacebookPagePublisher::new(h.client.clone())
        .publish(&Target::feed(page()), &text_post(), &h.ctx)
        .await
        .unwrap_err();
    assert_ne!(err.kind(), ErrorKind::UnknownOutcome);
    let stages: Vec<String> = h
        .checkpoints
        .checkpoints()
        .into_iter()
        .map(|c| c.stage)
        .collect();
    assert_eq!(stages, ["sending", "ready"]);
}
