//! Threads publishing against the documented requests and answers (fixtures in
//! `fixtures/threads/`, provenance in its README): the quota read, containers, status polling,
//! `threads_publish` once and only after a fresh read of the container, permalink best effort,
//! and every check made before any call.

mod common;

use std::sync::Arc;
use std::time::Duration;

use cmis_core::{
    AccountRef, ErrorKind, Media, MemoryCheckpointSink, Outcome, Platform, Post, PublishContext,
    Publisher, ReplyControl, SecretString, Target, TenantId, ThreadsOptions, url::Url,
};
use cmis_meta::{ThreadsClient, ThreadsPublisher};
use common::*;
use wiremock::matchers::{body_string_contains, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const USER: &str = "17841405793187218";
const CONTAINER: &str = "17889615691921648";
const MEDIA: &str = "1234567";

struct Th {
    server: MockServer,
    client: ThreadsClient,
    checkpoints: Arc<MemoryCheckpointSink>,
    ctx: PublishContext,
}

async fn th() -> Th {
    th_with(|b| b).await
}

async fn th_with(
    f: impl FnOnce(cmis_meta::ThreadsClientBuilder) -> cmis_meta::ThreadsClientBuilder,
) -> Th {
    let server = MockServer::start().await;
    catch_all(&server).await;
    let client = f(ThreadsClient::builder()
        .url(server.uri())
        .app_id("threads-app-1")
        .app_secret(SecretString::from("THREADS-APP-SECRET"))
        .poll_policy(fast_poll()))
    .build()
    .unwrap();
    let checkpoints = Arc::new(MemoryCheckpointSink::new());
    let ctx = PublishContext::new(Arc::new(CountingTokens::default()))
        .with_checkpoint_sink(checkpoints.clone());
    Th {
        server,
        client,
        checkpoints,
        ctx,
    }
}

fn profile() -> Target {
    Target::feed(AccountRef::new(
        TenantId::new("acme"),
        Platform::Threads,
        USER,
    ))
}

fn url(u: &str) -> Media {
    Media::url(Url::parse(u).unwrap())
}

fn th_json(status: u16, name: &str) -> ResponseTemplate {
    json(status, &format!("threads/{name}"))
}

/// The documented error case `name` from `errors.json`, as its HTTP answer.
fn documented_error(name: &str) -> ResponseTemplate {
    let cases = fixture("threads/errors.json");
    let case = cases
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no error case {name}"));
    let status = u16::try_from(case["status"].as_u64().unwrap()).unwrap();
    ResponseTemplate::new(status).set_body_json(case["body"].clone())
}

fn stages(t: &Th) -> Vec<String> {
    t.checkpoints
        .checkpoints()
        .iter()
        .map(|c| c.stage.clone())
        .collect()
}

async fn mount_limit(server: &MockServer, fixture_name: &str, times: u64) {
    Mock::given(method("GET"))
        .and(path(format!("/v1.0/{USER}/threads_publishing_limit")))
        .and(query_param("fields", "quota_usage,config"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(NoTokenInUrl)
        .respond_with(th_json(200, fixture_name))
        .expect(times)
        .mount(server)
        .await;
}

async fn mount_status(server: &MockServer, id: &str, fixture_name: &str, times: u64) {
    Mock::given(method("GET"))
        .and(path(format!("/v1.0/{id}")))
        .and(query_param("fields", "status,error_message"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(th_json(200, fixture_name))
        .expect(times)
        .mount(server)
        .await;
}

async fn mount_publish(server: &MockServer, answer: ResponseTemplate, times: u64) {
    Mock::given(method("POST"))
        .and(path(format!("/v1.0/{USER}/threads_publish")))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(NoTokenInUrl)
        .and(form(&[("creation_id", CONTAINER)]))
        .respond_with(answer)
        .expect(times)
        .mount(server)
        .await;
}

async fn mount_permalink(server: &MockServer, fixture_name: &str) {
    Mock::given(method("GET"))
        .and(path(format!("/v1.0/{MEDIA}")))
        .and(query_param("fields", "id,permalink"))
        .respond_with(th_json(200, fixture_name))
        .expect(1)
        .mount(server)
        .await;
}

/// The documented text request (`create_container_text_request.txt`), parsed into pairs.
fn documented_text_request() -> Vec<(String, String)> {
    let raw = std::fs::read_to_string(format!(
        "{}/tests/fixtures/threads/create_container_text_request.txt",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    url::form_urlencoded::parse(raw.as_bytes())
        .into_owned()
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_text_post_waits_for_its_container_then_publishes_once() {
    let _ticker = keep_clock_ticking();
    let t = th().await;
    mount_limit(&t.server, "publishing_limit.json", 1).await;
    Mock::given(method("POST"))
        .and(path(format!("/v1.0/{USER}/threads")))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(NoTokenInUrl)
        .and(Form(documented_text_request()))
        .respond_with(th_json(200, "create_container.json"))
        .expect(1)
        .mount(&t.server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v1.0/{CONTAINER}")))
        .and(query_param("fields", "status,error_message"))
        .respond_with(th_json(200, "container_status_in_progress.json"))
        .up_to_n_times(1)
        .expect(1)
        .with_priority(1)
        .mount(&t.server)
        .await;
    mount_status(&t.server, CONTAINER, "container_status_finished.json", 1).await;
    mount_publish(&t.server, th_json(200, "publish.json"), 1).await;
    mount_permalink(&t.server, "permalink.json").await;

    let post = Post::new().with_text("Hello World").with_threads(
        ThreadsOptions::new()
            .with_reply_control(ReplyControl::Everyone)
            .with_topic_tag("rustlang"),
    );
    let started = tokio::time::Instant::now();
    let out = ThreadsPublisher::new(t.client.clone())
        .publish(&profile(), &post, &t.ctx)
        .await
        .unwrap();
    let Outcome::Published(r) = out else {
        panic!("not published: {out:?}")
    };
    // The media id from threads_publish, never the container id.
    assert_eq!(r.post_id.as_str(), MEDIA);
    assert_eq!(r.platform, Platform::Threads);
    assert_eq!(
        r.permalink.as_ref().map(Url::as_str),
        Some("https://www.threads.net/@threadsapitestuser/post/abcdefg")
    );
    // The container was left at least 30 s before publishing (virtual time).
    assert!(started.elapsed() >= Duration::from_secs(30));
    assert_eq!(stages(&t), ["container_created", "publishing", "published"]);
}

#[tokio::test]
async fn a_text_of_500_characters_but_more_than_500_bytes_is_refused_before_any_call() {
    let t = th().await;
    let publisher = ThreadsPublisher::new(t.client.clone());
    // 500 characters, 1 000 bytes.
    let accented = "é".repeat(500);
    let err = publisher
        .publish(&profile(), &Post::new().with_text(accented), &t.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(err.message().contains("500"), "{err}");
    // 498 characters with three curly apostrophes: 504 bytes (docs/threads-api.md §3).
    let curly = format!("{}’’’", "a".repeat(495));
    assert_eq!(curly.chars().count(), 498);
    let err = publisher
        .validate(&profile(), &Post::new().with_text(curly))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    // 500 ASCII bytes pass.
    publisher
        .validate(&profile(), &Post::new().with_text("a".repeat(500)))
        .await
        .unwrap();
    // The catch-all fails the test on any request.
}

#[tokio::test]
async fn every_rule_is_checked_before_any_call() {
    let t = th().await;
    let p = ThreadsPublisher::new(t.client.clone());
    let target = profile();
    let six: Vec<String> = (1..=6).map(|i| format!("https://l{i}.example/")).collect();
    let five = six[..5].join(" ");
    p.validate(&target, &Post::new().with_text(&five))
        .await
        .unwrap();
    let cases: Vec<(Post, ErrorKind, &str)> = vec![
        (
            Post::new().with_text(six.join(" ")),
            ErrorKind::InvalidInput,
            "threads.text.links",
        ),
        (
            // Five in the text, a sixth as the link attachment.
            Post::new()
                .with_text(&five)
                .with_link(Url::parse(&six[5]).unwrap()),
            ErrorKind::InvalidInput,
            "threads.text.links",
        ),
        (
            Post::new()
                .with_text("hi")
                .with_media(url("https://cdn.example.com/a.jpg"))
                .with_link(Url::parse("https://example.com/").unwrap()),
            ErrorKind::InvalidInput,
            "threads.link_attachment.text_only",
        ),
        (
            Post::new()
                .with_text("hi")
                .with_threads(ThreadsOptions::new().with_topic_tag("rust.lang")),
            ErrorKind::InvalidInput,
            "threads.topic_tag",
        ),
        (
            Post::new()
                .with_text("hi")
                .with_threads(ThreadsOptions::new().with_topic_tag("x".repeat(51))),
            ErrorKind::InvalidInput,
            "threads.topic_tag",
        ),
        (
            Post::new(),
            ErrorKind::InvalidInput,
            "threads.text.required",
        ),
        (
            Post::new()
                .with_text("hi")
                .with_media(url("https://cdn.example.com/a.gif")),
            ErrorKind::InvalidInput,
            "threads.image.format",
        ),
        (
            (0..21).fold(Post::new(), |p, i| {
                p.with_media(url(&format!("https://cdn.example.com/{i}.jpg")))
            }),
            ErrorKind::InvalidInput,
            "threads.carousel.items",
        ),
        (
            Post::new()
                .with_text("hi")
                .with_media(Media::bytes(Some("a.jpg".into()), JPEG.to_vec())),
            ErrorKind::Unsupported,
            "public URLs",
        ),
    ];
    for (post, kind, rule) in cases {
        let err = p.publish(&target, &post, &t.ctx).await.unwrap_err();
        assert_eq!(err.kind(), kind, "{rule}: {err}");
        let shown = format!("{err} {:?}", err.violation_list());
        assert!(shown.contains(rule), "{rule} not in {shown}");
    }
    let facebook = Target::feed(AccountRef::new(
        TenantId::new("acme"),
        Platform::Facebook,
        USER,
    ));
    let err = p
        .publish(&facebook, &Post::new().with_text("hi"), &t.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn a_publish_retried_after_a_timeout_reads_the_container_and_never_publishes_twice() {
    let t = th_with(|b| b.timeout(Duration::from_millis(300))).await;
    mount_limit(&t.server, "publishing_limit.json", 1).await;
    Mock::given(method("POST"))
        .and(path(format!("/v1.0/{USER}/threads")))
        .respond_with(th_json(200, "create_container.json"))
        .expect(1)
        .mount(&t.server)
        .await;
    // FINISHED before the publish; PUBLISHED on every read after it.
    Mock::given(method("GET"))
        .and(path(format!("/v1.0/{CONTAINER}")))
        .and(query_param("fields", "status,error_message"))
        .respond_with(th_json(200, "container_status_finished.json"))
        .up_to_n_times(1)
        .expect(1)
        .with_priority(1)
        .mount(&t.server)
        .await;
    mount_status(&t.server, CONTAINER, "container_status_published.json", 2).await;
    // Threads publishes, but the answer comes too late for the client.
    mount_publish(
        &t.server,
        th_json(200, "publish.json").set_delay(Duration::from_secs(5)),
        1,
    )
    .await;
    let publisher = ThreadsPublisher::new(t.client.clone()).with_publish_delay(Duration::ZERO);
    let post = Post::new().with_text("Hello World");
    let err = publisher
        .publish(&profile(), &post, &t.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome, "{err}");
    let cp = t.checkpoints.checkpoints().last().cloned().unwrap();
    assert_eq!(cp.stage, "publishing");

    // A retry resumes from the checkpoint: the container is read first and is PUBLISHED.
    let err = publisher.resume(&profile(), &cp, &t.ctx).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome, "{err}");
    assert!(err.message().contains("not published again"), "{err}");

    // Reconciling finds the post among the profile's threads, by text and time.
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]+0000");
    let stamp = cp.created_at.format(&format).unwrap();
    Mock::given(method("GET"))
        .and(path(format!("/v1.0/{USER}/threads")))
        .and(query_param(
            "fields",
            "id,text,timestamp,permalink,media_type",
        ))
        .and(NoTokenInUrl)
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "data": [
                {"id": "18028954791215307", "text": "Hello World", "timestamp": stamp,
                 "permalink": "https://www.threads.net/@threadsapitestuser/post/hijklmn",
                 "media_type": "TEXT_POST"},
                {"id": "1234500", "text": "Hello World", "timestamp": "2023-10-02T05:42:03+0000",
                 "media_type": "TEXT_POST"}
            ]
        })))
        .expect(1)
        .mount(&t.server)
        .await;
    let settled = publisher
        .reconcile(&profile(), &post, Some(&cp), &t.ctx)
        .await
        .unwrap();
    let cmis_core::Reconciliation::Published(r) = settled else {
        panic!("not found: {settled:?}")
    };
    // An id above 2^53 with every digit kept.
    assert_eq!(r.post_id.as_str(), "18028954791215307");
}

#[tokio::test(start_paused = true)]
async fn media_not_found_at_publish_is_pending_and_the_resume_publishes() {
    let _ticker = keep_clock_ticking();
    let t = th().await;
    // Read at the start, and again by the resume before it publishes.
    mount_limit(&t.server, "publishing_limit.json", 2).await;
    Mock::given(method("POST"))
        .and(path(format!("/v1.0/{USER}/threads")))
        .respond_with(th_json(200, "create_container.json"))
        .expect(1)
        .mount(&t.server)
        .await;
    mount_status(&t.server, CONTAINER, "container_status_finished.json", 2).await;
    Mock::given(method("POST"))
        .and(path(format!("/v1.0/{USER}/threads_publish")))
        .respond_with(documented_error("media_not_found_yet"))
        .up_to_n_times(1)
        .expect(1)
        .with_priority(1)
        .mount(&t.server)
        .await;
    mount_publish(&t.server, th_json(200, "publish.json"), 1).await;
    mount_permalink(&t.server, "permalink_omitted.json").await;
    let publisher = ThreadsPublisher::new(t.client.clone());
    let out = publisher
        .publish(&profile(), &Post::new().with_text("Hello World"), &t.ctx)
        .await
        .unwrap();
    let Outcome::Pending(cp) = out else {
        panic!("expected pending: {out:?}")
    };
    assert_eq!(cp.stage, "container_processing");
    assert!(cp.resume_after.is_some());
    let Outcome::Published(r) = publisher.resume(&profile(), &cp, &t.ctx).await.unwrap() else {
        panic!("not published")
    };
    assert_eq!(r.post_id.as_str(), MEDIA);
    // The permalink is omitted for copyrighted media: the post is published without one.
    assert!(r.permalink.is_none());
}

#[tokio::test]
async fn an_exhausted_quota_creates_nothing() {
    let t = th().await;
    mount_limit(&t.server, "publishing_limit_exhausted.json", 1).await;
    let err = ThreadsPublisher::new(t.client.clone())
        .publish(&profile(), &Post::new().with_text("Hello World"), &t.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Quota, "{err}");
    assert!(err.message().contains("250"), "{err}");
    assert!(t.checkpoints.checkpoints().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_reply_reads_the_reply_quota_and_carries_reply_to_id() {
    let _ticker = keep_clock_ticking();
    let t = th().await;
    Mock::given(method("GET"))
        .and(path(format!("/v1.0/{USER}/threads_publishing_limit")))
        .and(query_param("fields", "reply_quota_usage,reply_config"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "data": [{"reply_quota_usage": 12, "reply_config": {"quota_total": 1000, "quota_duration": 86400}}]
        })))
        .expect(1)
        .mount(&t.server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/v1.0/{USER}/threads")))
        .and(form(&[
            ("media_type", "TEXT"),
            ("text", "Agreed 👍"),
            ("reply_to_id", "18028954791215307"),
        ]))
        .respond_with(th_json(200, "create_container.json"))
        .expect(1)
        .mount(&t.server)
        .await;
    mount_status(&t.server, CONTAINER, "container_status_finished.json", 1).await;
    mount_publish(&t.server, th_json(200, "publish.json"), 1).await;
    mount_permalink(&t.server, "permalink.json").await;
    let post = Post::new()
        .with_text("Agreed 👍")
        .with_threads(ThreadsOptions::new().with_reply_to("18028954791215307"));
    let out = ThreadsPublisher::new(t.client.clone())
        .publish(&profile(), &post, &t.ctx)
        .await
        .unwrap();
    assert!(matches!(out, Outcome::Published(_)), "{out:?}");
}

#[tokio::test(start_paused = true)]
async fn a_carousel_creates_children_then_the_parent_then_publishes() {
    let _ticker = keep_clock_ticking();
    let t = th().await;
    mount_limit(&t.server, "publishing_limit.json", 1).await;
    for (id, fields) in [
        (
            "17890000000000001",
            vec![
                ("media_type", "IMAGE"),
                ("image_url", "https://cdn.example.com/a.jpg"),
                ("alt_text", "A cake"),
                ("is_carousel_item", "true"),
            ],
        ),
        (
            "17890000000000002",
            vec![
                ("media_type", "VIDEO"),
                ("video_url", "https://cdn.example.com/b.mp4"),
                ("is_carousel_item", "true"),
            ],
        ),
    ] {
        Mock::given(method("POST"))
            .and(path(format!("/v1.0/{USER}/threads")))
            .and(form(&fields))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"id": id})))
            .expect(1)
            .mount(&t.server)
            .await;
        Mock::given(method("GET"))
            .and(path(format!("/v1.0/{id}")))
            .and(query_param("fields", "status,error_message"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(serde_json::json!({"status": "FINISHED", "id": id})),
            )
            .expect(1)
            .mount(&t.server)
            .await;
    }
    Mock::given(method("POST"))
        .and(path(format!("/v1.0/{USER}/threads")))
        .and(form(&[
            ("media_type", "CAROUSEL"),
            ("children", "17890000000000001,17890000000000002"),
            ("text", "Two things"),
        ]))
        .respond_with(th_json(200, "create_container.json"))
        .expect(1)
        .mount(&t.server)
        .await;
    mount_status(&t.server, CONTAINER, "container_status_finished.json", 1).await;
    mount_publish(&t.server, th_json(200, "publish.json"), 1).await;
    mount_permalink(&t.server, "permalink.json").await;
    let post = Post::new()
        .with_text("Two things")
        .with_media(url("https://cdn.example.com/a.jpg").with_alt_text("A cake"))
        .with_media(url("https://cdn.example.com/b.mp4"));
    let out = ThreadsPublisher::new(t.client.clone())
        .publish(&profile(), &post, &t.ctx)
        .await
        .unwrap();
    assert!(matches!(out, Outcome::Published(_)), "{out:?}");
    assert_eq!(
        stages(&t),
        [
            "child_created",
            "child_created",
            "container_created",
            "publishing",
            "published"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_container_in_error_is_refused_and_never_published() {
    let _ticker = keep_clock_ticking();
    let t = th().await;
    mount_limit(&t.server, "publishing_limit.json", 1).await;
    Mock::given(method("POST"))
        .and(path(format!("/v1.0/{USER}/threads")))
        .and(form(&[
            ("media_type", "VIDEO"),
            ("video_url", "https://cdn.example.com/b.mov"),
        ]))
        .respond_with(th_json(200, "create_container.json"))
        .expect(1)
        .mount(&t.server)
        .await;
    mount_status(&t.server, CONTAINER, "container_status_error.json", 1).await;
    let post = Post::new().with_media(url("https://cdn.example.com/b.mov"));
    let err = ThreadsPublisher::new(t.client.clone())
        .publish(&profile(), &post, &t.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Rejected, "{err}");
    assert_eq!(err.platform_subcode(), Some("FAILED_DOWNLOADING_VIDEO"));
}

#[tokio::test]
async fn documented_errors_map_to_kinds_and_keep_their_details() {
    let cases = [
        ("text_too_long", ErrorKind::Rejected),
        ("token_expired", ErrorKind::Auth),
        ("link_limit_exceeded", ErrorKind::Rejected),
        ("media_fetch_failed", ErrorKind::Rejected),
        ("user_restricted", ErrorKind::Rejected),
    ];
    for (name, kind) in cases {
        let t = th().await;
        mount_limit(&t.server, "publishing_limit.json", 1).await;
        Mock::given(method("POST"))
            .and(path(format!("/v1.0/{USER}/threads")))
            .respond_with(documented_error(name))
            .mount(&t.server)
            .await;
        let err = ThreadsPublisher::new(t.client.clone())
            .publish(&profile(), &Post::new().with_text("Hello World"), &t.ctx)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{name}: {err}");
        assert_eq!(err.platform(), Some(&Platform::Threads), "{name}");
        assert!(err.trace_id().is_some(), "{name}: fbtrace_id kept");
    }
    // Code 4 with 2207051 is a restriction, not throttling: never retried as a rate limit.
    let t = th().await;
    mount_limit(&t.server, "publishing_limit.json", 1).await;
    Mock::given(method("POST"))
        .and(path(format!("/v1.0/{USER}/threads")))
        .respond_with(th_json(200, "create_container.json"))
        .mount(&t.server)
        .await;
    // Read before the publish, and once more after the refusal.
    mount_status(&t.server, CONTAINER, "container_status_finished.json", 2).await;
    Mock::given(method("POST"))
        .and(path(format!("/v1.0/{USER}/threads_publish")))
        .respond_with(documented_error("restricted_activity"))
        .expect(1)
        .mount(&t.server)
        .await;
    let err = ThreadsPublisher::new(t.client.clone())
        .with_publish_delay(Duration::ZERO)
        .publish(&profile(), &Post::new().with_text("Hello World"), &t.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Rejected, "{err}");
    assert!(err.retry_after().is_none());
}

#[tokio::test]
async fn the_token_never_travels_in_a_url_or_a_body() {
    let t = th().await;
    Mock::given(body_string_contains(TOKEN))
        .respond_with(ResponseTemplate::new(599))
        .expect(0)
        .with_priority(1)
        .mount(&t.server)
        .await;
    mount_limit(&t.server, "publishing_limit_exhausted.json", 1).await;
    let err = ThreadsPublisher::new(t.client.clone())
        .publish(&profile(), &Post::new().with_text("Hello World"), &t.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Quota);
    assert!(!err.to_string().contains(TOKEN));
}

#[tokio::test]
async fn a_refused_publish_whose_container_reads_published_is_an_unknown_outcome() {
    let t = th().await;
    mount_limit(&t.server, "publishing_limit.json", 1).await;
    Mock::given(method("POST"))
        .and(path(format!("/v1.0/{USER}/threads")))
        .respond_with(th_json(200, "create_container.json"))
        .expect(1)
        .mount(&t.server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v1.0/{CONTAINER}")))
        .and(query_param("fields", "status,error_message"))
        .respond_with(th_json(200, "container_status_finished.json"))
        .up_to_n_times(1)
        .expect(1)
        .with_priority(1)
        .mount(&t.server)
        .await;
    mount_status(&t.server, CONTAINER, "container_status_published.json", 1).await;
    mount_publish(&t.server, documented_error("restricted_activity"), 1).await;
    let err = ThreadsPublisher::new(t.client.clone())
        .with_publish_delay(Duration::ZERO)
        .publish(&profile(), &Post::new().with_text("Hello World"), &t.ctx)
        .await
        .unwrap_err();
    // Refused, yet live: the job is reconciled, not failed.
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome, "{err}");
}

#[tokio::test]
async fn a_lost_publish_whose_container_still_reads_finished_is_looked_for_before_sending_again() {
    let t = th().await;
    mount_limit(&t.server, "publishing_limit.json", 1).await;
    Mock::given(method("POST"))
        .and(path(format!("/v1.0/{USER}/threads")))
        .respond_with(th_json(200, "create_container.json"))
        .expect(1)
        .mount(&t.server)
        .await;
    // The status lags: FINISHED on every read, before and after the publish.
    mount_status(&t.server, CONTAINER, "container_status_finished.json", 2).await;
    mount_publish(&t.server, ResponseTemplate::new(502), 1).await;
    // Nothing listed yet, and the window has not settled: no second publish.
    Mock::given(method("GET"))
        .and(path(format!("/v1.0/{USER}/threads")))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"data": []})))
        .expect(1)
        .mount(&t.server)
        .await;
    let publisher = ThreadsPublisher::new(t.client.clone()).with_publish_delay(Duration::ZERO);
    let post = Post::new().with_text("Hello World");
    let err = publisher
        .publish(&profile(), &post, &t.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome, "{err}");
    let cp = t.checkpoints.checkpoints().last().cloned().unwrap();
    let err = publisher.resume(&profile(), &cp, &t.ctx).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome, "{err}");
    assert!(
        err.retry_after().is_some(),
        "asked again once the window settles: {err}"
    );
}

#[tokio::test]
async fn media_not_found_ten_times_fails_the_post() {
    let t = th().await;
    mount_limit(&t.server, "publishing_limit.json", 1).await;
    mount_status(&t.server, CONTAINER, "container_status_finished.json", 1).await;
    mount_publish(&t.server, documented_error("media_not_found_yet"), 1).await;
    let data = serde_json::json!({
        "post": Post::new().with_text("Hello World"), "kind": "text",
        "container": CONTAINER, "not_found": 9,
    });
    let cp = cmis_core::Checkpoint::new(Platform::Threads, "container_processing", &data).unwrap();
    let err = ThreadsPublisher::new(t.client.clone())
        .with_publish_delay(Duration::ZERO)
        .resume(&profile(), &cp, &t.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Rejected, "{err}");
    assert!(err.message().contains("10 times"), "{err}");
}
