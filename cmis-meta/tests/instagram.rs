//! Instagram content publishing: `content_publishing_limit`, containers, polling,
//! `media_publish` once, permalink, checkpoints and resume, on both hosts.

mod common;

use std::time::Duration;

use cmis_core::PollPolicy;
use cmis_core::{
    Checkpoint, ErrorKind, InstagramOptions, Media, Outcome, Platform, Post, Publisher,
    Reconciliation, Surface, Target, url::Url,
};
use cmis_meta::{InstagramLogin, InstagramPublisher};
use common::*;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const CONTAINER: &str = "17889455560051444";
const MEDIA: &str = "17920238422030506";

fn url(u: &str) -> Media {
    Media::url(Url::parse(u).unwrap())
}

async fn mount_limit(server: &MockServer, fixture_name: &str) {
    Mock::given(method("GET"))
        .and(path(format!("/v25.0/{IG}/content_publishing_limit")))
        .and(query_param("fields", "quota_usage,config"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(NoTokenInUrl)
        .respond_with(json(200, fixture_name))
        .expect(1)
        .mount(server)
        .await;
}

async fn mount_status(server: &MockServer, id: &str, fixture_name: &str, times: u64) {
    Mock::given(method("GET"))
        .and(path(format!("/v25.0/{id}")))
        .and(query_param("fields", "status_code,status"))
        .respond_with(json(200, fixture_name))
        .expect(times)
        .mount(server)
        .await;
}

async fn mount_publish(server: &MockServer, times: u64) {
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{IG}/media_publish")))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(form(&[("creation_id", CONTAINER)]))
        .respond_with(json(200, "ig_media_publish.json"))
        .expect(times)
        .mount(server)
        .await;
}

async fn mount_permalink(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path(format!("/v25.0/{MEDIA}")))
        .and(query_param("fields", "permalink"))
        .respond_with(json(200, "ig_permalink.json"))
        .expect(1)
        .mount(server)
        .await;
}

fn stages(h: &Harness) -> Vec<String> {
    h.checkpoints
        .checkpoints()
        .iter()
        .map(|c| c.stage.clone())
        .collect()
}

#[tokio::test(start_paused = true)]
async fn image_polls_in_progress_then_publishes_once() {
    let _ticker = keep_clock_ticking();
    let h = harness().await;
    mount_limit(&h.server, "ig_publishing_limit.json").await;
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{IG}/media")))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(form(&[
            ("image_url", "https://cdn.example.com/cake.jpg"),
            ("caption", "Fresh cake #bakery"),
            ("alt_text", "A chocolate cake"),
        ]))
        .respond_with(json(200, "ig_container.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    // Two IN_PROGRESS answers, then FINISHED.
    Mock::given(method("GET"))
        .and(path(format!("/v25.0/{CONTAINER}")))
        .and(query_param("fields", "status_code,status"))
        .respond_with(json(200, "ig_status_in_progress.json"))
        .up_to_n_times(2)
        .expect(2)
        .with_priority(1)
        .mount(&h.server)
        .await;
    mount_status(&h.server, CONTAINER, "ig_status_finished.json", 1).await;
    mount_publish(&h.server, 1).await;
    mount_permalink(&h.server).await;

    let post = Post::new()
        .with_text("Fresh cake #bakery")
        .with_media(url("https://cdn.example.com/cake.jpg").with_alt_text("A chocolate cake"));
    let started = tokio::time::Instant::now();
    let out = InstagramPublisher::new(h.client.clone())
        .publish(&Target::feed(ig()), &post, &h.ctx)
        .await
        .unwrap();
    let waited = started.elapsed();
    let Outcome::Published(r) = out else {
        panic!("not published")
    };
    assert_eq!(r.post_id.as_str(), MEDIA);
    assert_eq!(r.platform, Platform::Instagram);
    assert_eq!(
        r.permalink.unwrap().as_str(),
        "https://www.instagram.com/p/C1a2b3c4d5e/"
    );
    // Backoff 5 s then 10 s before the third poll (plus at most a few ms of ticking).
    assert!(waited >= Duration::from_secs(15), "{waited:?}");
    assert!(waited < Duration::from_secs(25), "{waited:?}");
    assert_eq!(stages(&h), ["container_created", "publishing", "published"]);
}

#[tokio::test]
async fn carousel_creates_children_then_the_carousel_container() {
    let h = harness().await;
    mount_limit(&h.server, "ig_publishing_limit.json").await;
    for (u, fixture_name) in [
        ("https://cdn.example.com/a.jpg", "ig_child_1.json"),
        ("https://cdn.example.com/b.jpg", "ig_child_2.json"),
    ] {
        Mock::given(method("POST"))
            .and(path(format!("/v25.0/{IG}/media")))
            .and(form(&[("is_carousel_item", "true"), ("image_url", u)]))
            .respond_with(json(200, fixture_name))
            .expect(1)
            .mount(&h.server)
            .await;
    }
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{IG}/media")))
        .and(form(&[
            ("media_type", "CAROUSEL"),
            ("children", "17889455560051445,17889455560051446"),
            ("caption", "Two cakes"),
        ]))
        .respond_with(json(200, "ig_container.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    mount_status(&h.server, "17889455560051445", "ig_status_finished.json", 1).await;
    mount_status(&h.server, "17889455560051446", "ig_status_finished.json", 1).await;
    mount_status(&h.server, CONTAINER, "ig_status_finished.json", 1).await;
    mount_publish(&h.server, 1).await;
    mount_permalink(&h.server).await;
    let post = Post::new()
        .with_text("Two cakes")
        .with_media(url("https://cdn.example.com/a.jpg"))
        .with_media(url("https://cdn.example.com/b.jpg"));
    let out = InstagramPublisher::new(h.client.clone())
        .publish(&Target::feed(ig()), &post, &h.ctx)
        .await
        .unwrap();
    assert_eq!(out.receipt().unwrap().post_id.as_str(), MEDIA);
    assert_eq!(
        stages(&h),
        [
            "child_created",
            "child_created",
            "container_created",
            "publishing",
            "published"
        ]
    );
}

#[tokio::test]
async fn reel_by_url_uses_media_type_reels() {
    let h = harness().await;
    mount_limit(&h.server, "ig_publishing_limit.json").await;
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{IG}/media")))
        .and(form(&[
            ("media_type", "REELS"),
            ("video_url", "https://cdn.example.com/clip.mp4"),
            ("caption", "Behind the counter"),
            ("share_to_feed", "true"),
        ]))
        .respond_with(json(200, "ig_container.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    mount_status(&h.server, CONTAINER, "ig_status_finished.json", 1).await;
    mount_publish(&h.server, 1).await;
    mount_permalink(&h.server).await;
    let mut opts = InstagramOptions::new();
    opts.share_to_feed = Some(true);
    let post = Post::new()
        .with_text("Behind the counter")
        .with_media(url("https://cdn.example.com/clip.mp4"))
        .with_instagram(opts);
    let out = InstagramPublisher::new(h.client.clone())
        .publish(&Target::new(ig(), Surface::Reel), &post, &h.ctx)
        .await
        .unwrap();
    assert!(out.receipt().is_some());
}

#[tokio::test]
async fn a_local_reel_is_uploaded_through_rupload_with_oauth() {
    let rupload = MockServer::start().await;
    catch_all(&rupload).await;
    let uri = rupload.uri();
    let h = harness_with(move |b| b.rupload_url(uri)).await;
    let file = temp_file("clip.mp4", &MP4);
    mount_limit(&h.server, "ig_publishing_limit.json").await;
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{IG}/media")))
        .and(form(&[
            ("media_type", "REELS"),
            ("upload_type", "resumable"),
            ("caption", "Local clip"),
        ]))
        .respond_with(json(200, "ig_container.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/ig-api-upload/v25.0/{CONTAINER}")))
        .and(header("authorization", format!("OAuth {TOKEN}").as_str()))
        .and(header("offset", "0"))
        .and(header("file_size", MP4.len().to_string().as_str()))
        .and(RawBody(MP4.to_vec()))
        .respond_with(json(200, "ig_upload_success.json"))
        .expect(1)
        .mount(&rupload)
        .await;
    mount_status(&h.server, CONTAINER, "ig_status_finished.json", 1).await;
    mount_publish(&h.server, 1).await;
    mount_permalink(&h.server).await;
    let post = Post::new()
        .with_text("Local clip")
        .with_media(Media::path(&file));
    let out = InstagramPublisher::new(h.client.clone())
        .publish(&Target::new(ig(), Surface::Reel), &post, &h.ctx)
        .await
        .unwrap();
    assert!(out.receipt().is_some());
    assert_eq!(
        stages(&h),
        [
            "container_created",
            "container_uploaded",
            "publishing",
            "published"
        ]
    );
}

#[tokio::test]
async fn story_uses_media_type_stories() {
    let h = harness().await;
    mount_limit(&h.server, "ig_publishing_limit.json").await;
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{IG}/media")))
        .and(form(&[
            ("media_type", "STORIES"),
            ("image_url", "https://cdn.example.com/story.jpg"),
        ]))
        .respond_with(json(200, "ig_container.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    mount_status(&h.server, CONTAINER, "ig_status_finished.json", 1).await;
    mount_publish(&h.server, 1).await;
    mount_permalink(&h.server).await;
    let post = Post::new().with_media(url("https://cdn.example.com/story.jpg"));
    let out = InstagramPublisher::new(h.client.clone())
        .publish(&Target::new(ig(), Surface::Story), &post, &h.ctx)
        .await
        .unwrap();
    assert!(out.receipt().is_some());
}

#[tokio::test]
async fn a_used_up_publishing_limit_is_refused_before_any_container() {
    let h = harness().await;
    mount_limit(&h.server, "ig_publishing_limit_used.json").await;
    let post = Post::new().with_media(url("https://cdn.example.com/cake.jpg"));
    let err = InstagramPublisher::new(h.client.clone())
        .publish(&Target::feed(ig()), &post, &h.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Quota);
    assert!(stages(&h).is_empty());
}

async fn publish_with_status(fixture_name: &str) -> cmis_core::Error {
    let h = harness().await;
    mount_limit(&h.server, "ig_publishing_limit.json").await;
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{IG}/media")))
        .respond_with(json(200, "ig_container.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    mount_status(&h.server, CONTAINER, fixture_name, 1).await;
    mount_publish(&h.server, 0).await;
    let post = Post::new().with_media(url("https://cdn.example.com/cake.jpg"));
    InstagramPublisher::new(h.client.clone())
        .publish(&Target::feed(ig()), &post, &h.ctx)
        .await
        .unwrap_err()
}

#[tokio::test]
async fn an_error_container_is_rejected_with_its_subcode() {
    let err = publish_with_status("ig_status_error.json").await;
    assert_eq!(err.kind(), ErrorKind::Rejected);
    assert_eq!(err.platform_subcode(), Some("2207026"));
}

#[tokio::test]
async fn an_expired_container_is_rejected() {
    let err = publish_with_status("ig_status_expired.json").await;
    assert_eq!(err.kind(), ErrorKind::Rejected);
    assert!(err.message().contains("expired"), "{err}");
}

fn checkpoint(stage: &str, media_id: Option<&str>) -> Checkpoint {
    let data = serde_json::json!({
        "post": Post::new().with_media(url("https://cdn.example.com/cake.jpg")),
        "kind": "image",
        "children": [],
        "container": CONTAINER,
        "uploaded": [CONTAINER],
        "media_id": media_id,
    });
    Checkpoint::new(Platform::Instagram, stage, &data).unwrap()
}

#[tokio::test]
async fn resume_with_a_published_container_never_publishes_again() {
    let h = harness().await;
    mount_status(&h.server, CONTAINER, "ig_status_published.json", 1).await;
    mount_publish(&h.server, 0).await;
    let err = InstagramPublisher::new(h.client.clone())
        .resume(&Target::feed(ig()), &checkpoint("publishing", None), &h.ctx)
        .await
        .unwrap_err();
    // Published, but the id was lost with the response: not re-published, not faked.
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome);
}

#[tokio::test]
async fn resume_after_publish_returns_the_recorded_media_without_publishing() {
    let h = harness().await;
    mount_publish(&h.server, 0).await;
    mount_permalink(&h.server).await;
    let out = InstagramPublisher::new(h.client.clone())
        .resume(
            &Target::feed(ig()),
            &checkpoint("published", Some(MEDIA)),
            &h.ctx,
        )
        .await
        .unwrap();
    assert_eq!(out.receipt().unwrap().post_id.as_str(), MEDIA);
}

#[tokio::test]
async fn resume_from_a_finished_container_publishes_it() {
    let h = harness().await;
    mount_status(&h.server, CONTAINER, "ig_status_finished.json", 1).await;
    mount_publish(&h.server, 1).await;
    mount_permalink(&h.server).await;
    let out = InstagramPublisher::new(h.client.clone())
        .resume(
            &Target::feed(ig()),
            &checkpoint("container_created", None),
            &h.ctx,
        )
        .await
        .unwrap();
    assert_eq!(out.receipt().unwrap().post_id.as_str(), MEDIA);
}

#[tokio::test]
async fn a_failed_permalink_lookup_never_fails_the_post() {
    let h = harness().await;
    mount_status(&h.server, CONTAINER, "ig_status_finished.json", 1).await;
    mount_publish(&h.server, 1).await;
    Mock::given(method("GET"))
        .and(path(format!("/v25.0/{MEDIA}")))
        .respond_with(json(500, "error_1.json"))
        .mount(&h.server)
        .await;
    let out = InstagramPublisher::new(h.client.clone())
        .resume(
            &Target::feed(ig()),
            &checkpoint("container_created", None),
            &h.ctx,
        )
        .await
        .unwrap();
    let r = out.receipt().unwrap();
    assert_eq!(r.post_id.as_str(), MEDIA);
    assert_eq!(r.permalink, None);
}

#[tokio::test]
async fn a_5xx_on_media_publish_is_unknown_sent_once_and_reconciled_read_only() {
    let h = harness().await;
    mount_status(&h.server, CONTAINER, "ig_status_finished.json", 1).await;
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{IG}/media_publish")))
        .respond_with(json(500, "error_2.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    let publisher = InstagramPublisher::new(h.client.clone());
    let err = publisher
        .resume(
            &Target::feed(ig()),
            &checkpoint("container_created", None),
            &h.ctx,
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome);
    let cp = h.checkpoints.latest().unwrap();
    assert_eq!(cp.stage, "publishing");
    // Reconcile reads the container: PUBLISHED means it went live (id unknown) …
    let server = &h.server;
    // Exactly one media_publish was sent (verified before the mocks are replaced).
    server.verify().await;
    server.reset().await;
    catch_all(server).await;
    mount_status(server, CONTAINER, "ig_status_published.json", 1).await;
    // (the post has no caption to find it by among the account's media:
    // tests/reconcile_instagram.rs covers the listing)
    Mock::given(method("GET"))
        .and(path(format!("/v25.0/{IG}/media")))
        .respond_with(json(200, "ig_media_list.json"))
        .expect(1)
        .mount(server)
        .await;
    let err = publisher
        .reconcile(&Target::feed(ig()), &Post::new(), Some(&cp), &h.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome);
    // … and ERROR proves nothing was published.
    server.reset().await;
    catch_all(server).await;
    mount_status(server, CONTAINER, "ig_status_error.json", 1).await;
    let rec = publisher
        .reconcile(&Target::feed(ig()), &Post::new(), Some(&cp), &h.ctx)
        .await
        .unwrap();
    assert_eq!(rec, Reconciliation::NotPublished);
}

#[tokio::test]
async fn not_ready_on_media_publish_comes_back_pending() {
    let h = harness().await;
    mount_status(&h.server, CONTAINER, "ig_status_finished.json", 1).await;
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{IG}/media_publish")))
        .respond_with(json(400, "error_2207027.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    let out = InstagramPublisher::new(h.client.clone())
        .resume(
            &Target::feed(ig()),
            &checkpoint("container_created", None),
            &h.ctx,
        )
        .await
        .unwrap();
    assert!(matches!(out, Outcome::Pending(_)));
}

#[tokio::test(start_paused = true)]
async fn polling_is_bounded_and_comes_back_pending() {
    let _ticker = keep_clock_ticking();
    let h = harness_with(|b| {
        b.poll_policy(PollPolicy::new(
            Duration::from_secs(5),
            Duration::from_secs(20),
            Duration::from_secs(60),
        ))
    })
    .await;
    // 5 + 10 + 20 + 20 = 55 s of waiting: five polls, then the budget is spent.
    mount_status(&h.server, CONTAINER, "ig_status_in_progress.json", 5).await;
    mount_publish(&h.server, 0).await;
    let out = InstagramPublisher::new(h.client.clone())
        .resume(
            &Target::feed(ig()),
            &checkpoint("container_created", None),
            &h.ctx,
        )
        .await
        .unwrap();
    let Outcome::Pending(cp) = out else {
        panic!("expected pending")
    };
    assert_eq!(cp.stage, "container_processing");
    assert_eq!(cp.resume_after, Some(Duration::from_secs(20)));
}

#[tokio::test]
async fn instagram_login_accounts_use_graph_instagram_com() {
    let ig_host = MockServer::start().await;
    catch_all(&ig_host).await;
    let uri = ig_host.uri();
    let h = harness_with(move |b| b.instagram_graph_url(uri)).await;
    mount_limit(&ig_host, "ig_publishing_limit.json").await;
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{IG}/media")))
        .and(form(&[("image_url", "https://cdn.example.com/cake.jpg")]))
        .respond_with(json(200, "ig_container.json"))
        .expect(1)
        .mount(&ig_host)
        .await;
    mount_status(&ig_host, CONTAINER, "ig_status_finished.json", 1).await;
    mount_publish(&ig_host, 1).await;
    mount_permalink(&ig_host).await;
    let post = Post::new().with_media(url("https://cdn.example.com/cake.jpg"));
    let out = InstagramPublisher::new(h.client.clone())
        .with_login(InstagramLogin::Instagram)
        .publish(&Target::feed(ig()), &post, &h.ctx)
        .await
        .unwrap();
    assert!(out.receipt().is_some());
    // Nothing went to graph.facebook.com's stand-in (its catch-all expects no request).
}

#[tokio::test]
async fn bad_media_is_refused_before_any_call() {
    let h = harness().await;
    let publisher = InstagramPublisher::new(h.client.clone());
    let png = temp_file("logo.png", &PNG);
    let cases: Vec<(Post, Surface, ErrorKind)> = vec![
        // A PNG without permission to convert.
        (
            Post::new().with_media(Media::path(&png)),
            Surface::Feed,
            ErrorKind::InvalidInput,
        ),
        // A PNG URL cannot be converted at all.
        (
            Post::new()
                .with_media(url("https://cdn.example.com/logo.png"))
                .with_instagram(InstagramOptions::new().with_convert_media(true)),
            Surface::Feed,
            ErrorKind::InvalidInput,
        ),
        // 11 carousel items.
        (
            (0..11).fold(Post::new(), |p, i| {
                p.with_media(url(&format!("https://cdn.example.com/{i}.jpg")))
            }),
            Surface::Feed,
            ErrorKind::InvalidInput,
        ),
        // No media.
        (
            Post::new().with_text("hi"),
            Surface::Feed,
            ErrorKind::InvalidInput,
        ),
        // A reel that is an image.
        (
            Post::new().with_media(url("https://cdn.example.com/a.jpg")),
            Surface::Reel,
            ErrorKind::InvalidInput,
        ),
        // A caption over 2200 characters.
        (
            Post::new()
                .with_text("x".repeat(2201))
                .with_media(url("https://cdn.example.com/a.jpg")),
            Surface::Feed,
            ErrorKind::InvalidInput,
        ),
    ];
    for (post, surface, kind) in cases {
        let err = publisher
            .publish(&Target::new(ig(), surface), &post, &h.ctx)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{err}");
    }
    // Instagram Login cannot upload files.
    let jpg = temp_file("a.jpg", &JPEG);
    let err = publisher
        .clone()
        .with_login(InstagramLogin::Instagram)
        .publish(
            &Target::feed(ig()),
            &Post::new().with_media(Media::path(&jpg)),
            &h.ctx,
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    let _ = ResponseTemplate::new(200);
}

struct JpegBody;

impl wiremock::Match for JpegBody {
    fn matches(&self, request: &wiremock::Request) -> bool {
        request.body.starts_with(&[0xFF, 0xD8, 0xFF])
    }
}

#[tokio::test]
async fn a_local_png_is_converted_to_jpeg_when_allowed() {
    let rupload = MockServer::start().await;
    catch_all(&rupload).await;
    let uri = rupload.uri();
    let h = harness_with(move |b| b.rupload_url(uri)).await;
    let png = temp_file("menu.png", &PNG);
    mount_limit(&h.server, "ig_publishing_limit.json").await;
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{IG}/media")))
        .and(form(&[
            ("upload_type", "resumable"),
            ("caption", "New menu"),
        ]))
        .respond_with(json(200, "ig_container.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/ig-api-upload/v25.0/{CONTAINER}")))
        .and(header("authorization", format!("OAuth {TOKEN}").as_str()))
        .and(JpegBody)
        .respond_with(json(200, "ig_upload_success.json"))
        .expect(1)
        .mount(&rupload)
        .await;
    mount_status(&h.server, CONTAINER, "ig_status_finished.json", 1).await;
    mount_publish(&h.server, 1).await;
    mount_permalink(&h.server).await;
    let post = Post::new()
        .with_text("New menu")
        .with_media(Media::path(&png))
        .with_instagram(InstagramOptions::new().with_convert_media(true));
    let out = InstagramPublisher::new(h.client.clone())
        .publish(&Target::feed(ig()), &post, &h.ctx)
        .await
        .unwrap();
    assert!(out.receipt().is_some());
}

/// A checkpoint sink that always fails.
struct BrokenSink;

#[async_trait::async_trait]
impl cmis_core::CheckpointSink for BrokenSink {
    async fn save(&self, _checkpoint: &Checkpoint) -> cmis_core::Result<()> {
        Err(cmis_core::Error::internal("disk full"))
    }
}

#[tokio::test]
async fn a_failing_checkpoint_sink_stops_before_the_next_mutating_call() {
    let h = harness().await;
    mount_limit(&h.server, "ig_publishing_limit.json").await;
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{IG}/media")))
        .respond_with(json(200, "ig_container.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    // No status poll and no media_publish may follow (the catch-all fails them).
    let ctx = h
        .ctx
        .clone()
        .with_checkpoint_sink(std::sync::Arc::new(BrokenSink));
    let post = Post::new().with_media(url("https://cdn.example.com/cake.jpg"));
    let err = InstagramPublisher::new(h.client.clone())
        .publish(&Target::feed(ig()), &post, &ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Internal);
}

/// A checkpoint sink that fails only on `stage`.
struct FailingOn(&'static str);

#[async_trait::async_trait]
impl cmis_core::CheckpointSink for FailingOn {
    async fn save(&self, checkpoint: &Checkpoint) -> cmis_core::Result<()> {
        if checkpoint.stage == self.0 {
            return Err(cmis_core::Error::internal("connection reset"));
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_checkpoint_that_fails_after_media_publish_never_fails_the_live_post() {
    let h = harness().await;
    mount_limit(&h.server, "ig_publishing_limit.json").await;
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{IG}/media")))
        .respond_with(json(200, "ig_container.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    mount_status(&h.server, CONTAINER, "ig_status_finished.json", 1).await;
    mount_publish(&h.server, 1).await;
    mount_permalink(&h.server).await;
    let ctx = h
        .ctx
        .clone()
        .with_checkpoint_sink(std::sync::Arc::new(FailingOn("published")));
    let post = Post::new().with_media(url("https://cdn.example.com/cake.jpg"));
    let out = InstagramPublisher::new(h.client.clone())
        .publish(&Target::feed(ig()), &post, &ctx)
        .await
        .unwrap();
    assert_eq!(out.receipt().unwrap().post_id.as_str(), MEDIA);
}
