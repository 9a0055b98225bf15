//! Direct Post and inbox videos: `video/init` and `inbox/video/init`, `FILE_UPLOAD` chunk PUTs,
//! `PULL_FROM_URL`, checkpoints and resume.

mod common;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use cmis_core::{
    Checkpoint, CheckpointSink, Clock, ErrorKind, Media, Outcome, Platform, Post, PrivacyLevel,
    Publisher, ReceiptState, TikTokOptions,
};
use cmis_media::ChunkPlan;
use common::*;
use proptest::prelude::*;
use serde_json::json;
use time::OffsetDateTime;
use wiremock::matchers::{bearer_token, body_bytes, body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const TOTAL: u64 = 3 * MIB5 + 123;

fn direct_post(media: Media) -> Post {
    let mut opts = TikTokOptions::new().with_privacy_level(PrivacyLevel::MutualFollowFriends);
    opts.disable_comment = true;
    opts.video_cover_timestamp_ms = Some(1000);
    Post::new()
        .with_text("funny #cat video @tiktok")
        .with_media(media)
        .with_tiktok(opts)
}

fn no_authorization(req: &Request) -> bool {
    !req.headers.contains_key("authorization")
}

async fn mount_creator_info(server: &MockServer, fixture_name: &str) {
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/creator_info/query/"))
        .and(bearer_token(TOKEN))
        .and(header("content-type", JSON_UTF8))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture(fixture_name)))
        .expect(1)
        .mount(server)
        .await;
}

/// The documented init body for the 3-chunk test file.
fn init_body() -> serde_json::Value {
    json!({
        "post_info": {
            "title": "funny #cat video @tiktok",
            "privacy_level": "MUTUAL_FOLLOW_FRIENDS",
            "disable_duet": false,
            "disable_comment": true,
            // The creator disabled stitches (fixture), so the post cannot enable them.
            "disable_stitch": true,
            "video_cover_timestamp_ms": 1000,
            "brand_content_toggle": false,
            "brand_organic_toggle": false,
            "is_aigc": false
        },
        "source_info": {
            "source": "FILE_UPLOAD",
            "video_size": TOTAL,
            "chunk_size": MIB5,
            "total_chunk_count": 3
        }
    })
}

async fn mount_init(server: &MockServer, expect: u64) {
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/video/init/"))
        .and(bearer_token(TOKEN))
        .and(header("content-type", JSON_UTF8))
        .and(body_json(init_body()))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(init_fixture("video_init.json", server)),
        )
        .expect(expect)
        .named("video/init")
        .mount(server)
        .await;
}

/// A PUT of chunk `[first, last]` with its exact headers and bytes.
fn chunk_mock(data: &[u8], first: u64, last: u64, content_type: &str) -> wiremock::MockBuilder {
    let slice = data[usize::try_from(first).unwrap()..=usize::try_from(last).unwrap()].to_vec();
    Mock::given(method("PUT"))
        .and(path("/video/"))
        .and(query_param("upload_id", "67890"))
        .and(query_param("upload_token", "Xza123"))
        .and(header("content-type", content_type))
        .and(header(
            "content-range",
            format!("bytes {first}-{last}/{}", data.len()).as_str(),
        ))
        .and(header(
            "content-length",
            (last - first + 1).to_string().as_str(),
        ))
        .and(no_authorization)
        .and(body_bytes(slice))
}

async fn mount_status(server: &MockServer, publish_id: &str, fixture_name: &str, expect: u64) {
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/status/fetch/"))
        .and(bearer_token(TOKEN))
        .and(header("content-type", JSON_UTF8))
        .and(body_json(json!({ "publish_id": publish_id })))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture(fixture_name)))
        .expect(expect)
        .mount(server)
        .await;
}

/// Records how many requests the server had seen when each checkpoint was saved.
struct RecordingSink {
    server: Arc<MockServer>,
    seen: Mutex<Vec<(usize, Checkpoint)>>,
}

#[async_trait]
impl CheckpointSink for RecordingSink {
    async fn save(&self, checkpoint: &Checkpoint) -> cmis_core::Result<()> {
        let n = self
            .server
            .received_requests()
            .await
            .unwrap_or_default()
            .len();
        self.seen.lock().unwrap().push((n, checkpoint.clone()));
        Ok(())
    }
}

#[tokio::test]
async fn file_upload_sends_exact_chunks_after_checkpointing_the_publish_id() {
    let server = Arc::new(server().await);
    let file = mp4_file("three-chunks", TOTAL);
    let data = std::fs::read(&file).unwrap();
    mount_creator_info(&server, "creator_info.json").await;
    mount_init(&server, 1).await;
    let (c0, c1, c2) = ((0, MIB5 - 1), (MIB5, 2 * MIB5 - 1), (2 * MIB5, TOTAL - 1));
    for ((first, last), status) in [(c0, 206), (c1, 206), (c2, 201)] {
        chunk_mock(&data, first, last, "video/mp4")
            .respond_with(ResponseTemplate::new(status))
            .expect(1)
            .mount(&server)
            .await;
    }
    mount_status(
        &server,
        "v_pub_file~v2-1.123456789",
        "status_complete.json",
        1,
    )
    .await;

    let env = env(&server, &["user.info.basic", "video.publish"]).await;
    let sink = Arc::new(RecordingSink {
        server: server.clone(),
        seen: Mutex::default(),
    });
    let ctx = env.ctx.clone().with_checkpoint_sink(sink.clone());
    let publisher = publisher(&server, 2_000).with_chunk_size(MIB5);
    let outcome = publisher
        .publish(&target(), &direct_post(Media::path(&file)), &ctx)
        .await
        .unwrap();

    let Outcome::Published(receipt) = outcome else {
        panic!("expected a receipt, got {outcome:?}");
    };
    // Above 2^53: every digit kept.
    assert_eq!(receipt.post_id.as_str(), "7439182734619283746");
    assert_eq!(receipt.state, ReceiptState::Published);
    assert_eq!(
        receipt.permalink.unwrap().as_str(),
        "https://www.tiktok.com/@tiktok/video/7439182734619283746"
    );
    let seen = sink.seen.lock().unwrap().clone();
    // The first checkpoint was saved before any call (a process stopped during creator info
    // leaves it for reconcile), the second after creator info and before init: when init was
    // sent and the caption, for a reconcile if init's answer is lost.
    let (requests_before, early) = &seen[0];
    assert_eq!(*requests_before, 0);
    assert_eq!(early.stage, "initiating");
    let (requests_before, initiating) = &seen[1];
    assert_eq!(*requests_before, 1);
    assert_eq!(initiating.stage, "initiating");
    // The next after init, before any PUT.
    let (requests_before, first) = &seen[2];
    assert_eq!(*requests_before, 2);
    assert_eq!(first.platform, Platform::TikTok);
    assert_eq!(first.stage, "uploading");
    assert_eq!(publish_id_of(first), "v_pub_file~v2-1.123456789");
    assert_eq!(seen.last().unwrap().1.stage, "processing");
}

#[tokio::test]
async fn a_5xx_on_one_chunk_retries_only_that_chunk() {
    let server = server().await;
    let file = mp4_file("retry-chunk", TOTAL);
    let data = std::fs::read(&file).unwrap();
    mount_creator_info(&server, "creator_info.json").await;
    mount_init(&server, 1).await;
    chunk_mock(&data, 0, MIB5 - 1, "video/mp4")
        .respond_with(ResponseTemplate::new(206))
        .expect(1)
        .mount(&server)
        .await;
    // The second chunk fails once with a 503, then succeeds: two PUTs of the same bytes.
    chunk_mock(&data, MIB5, 2 * MIB5 - 1, "video/mp4")
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    chunk_mock(&data, MIB5, 2 * MIB5 - 1, "video/mp4")
        .respond_with(ResponseTemplate::new(206))
        .expect(1)
        .mount(&server)
        .await;
    chunk_mock(&data, 2 * MIB5, TOTAL - 1, "video/mp4")
        .respond_with(ResponseTemplate::new(201))
        .expect(1)
        .mount(&server)
        .await;
    mount_status(
        &server,
        "v_pub_file~v2-1.123456789",
        "status_complete.json",
        1,
    )
    .await;

    let env = env(&server, &[]).await;
    let outcome = publisher(&server, 2_000)
        .with_chunk_size(MIB5)
        .publish(&target(), &direct_post(Media::path(&file)), &env.ctx)
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Published(_)));
}

#[tokio::test]
async fn a_416_resumes_from_the_range_tiktok_reports() {
    let server = server().await;
    let file = mp4_file("range-416", TOTAL);
    let data = std::fs::read(&file).unwrap();
    mount_creator_info(&server, "creator_info.json").await;
    mount_init(&server, 1).await;
    chunk_mock(&data, 0, MIB5 - 1, "video/mp4")
        .respond_with(ResponseTemplate::new(206))
        .expect(1)
        .mount(&server)
        .await;
    // TikTok already has the first two chunks (an earlier answer was lost): it says so.
    chunk_mock(&data, MIB5, 2 * MIB5 - 1, "video/mp4")
        .respond_with(
            ResponseTemplate::new(416)
                .insert_header("content-range", format!("bytes 0-{}/{TOTAL}", 2 * MIB5 - 1)),
        )
        .expect(1)
        .mount(&server)
        .await;
    chunk_mock(&data, 2 * MIB5, TOTAL - 1, "video/mp4")
        .respond_with(ResponseTemplate::new(201))
        .expect(1)
        .mount(&server)
        .await;
    mount_status(
        &server,
        "v_pub_file~v2-1.123456789",
        "status_complete.json",
        1,
    )
    .await;

    let env = env(&server, &[]).await;
    let outcome = publisher(&server, 2_000)
        .with_chunk_size(MIB5)
        .publish(&target(), &direct_post(Media::path(&file)), &env.ctx)
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Published(_)));
}

#[tokio::test]
async fn a_5xx_on_init_is_an_unknown_outcome_and_nothing_is_uploaded() {
    let server = server().await;
    let file = mp4_file("init-5xx", 4_000);
    mount_creator_info(&server, "creator_info.json").await;
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/video/init/"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({
            "data": {},
            "error": {"code": "internal_error", "message": "", "log_id": "L500"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let env = env(&server, &[]).await;
    let err = publisher(&server, 2_000)
        .publish(&target(), &direct_post(Media::path(&file)), &env.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome);
    assert_eq!(err.trace_id(), Some("L500"));
    // The checkpoints before init stay, for the reconcile.
    let stages: Vec<String> = env
        .checkpoints
        .checkpoints()
        .into_iter()
        .map(|c| c.stage)
        .collect();
    assert_eq!(stages, ["initiating", "initiating"]);
    assert!(!err.discards_checkpoint());
    // No byte went out, and TikTok publishes an upload only once it has them all: whatever
    // init created can never go live, so reconcile says so without a call (the catch-all mock
    // fails any request) and publishing again is safe.
    let cp = env.checkpoints.latest().unwrap();
    let found = publisher(&server, 2_000)
        .reconcile(
            &target(),
            &direct_post(Media::path(&file)),
            Some(&cp),
            &env.ctx,
        )
        .await
        .unwrap();
    assert_eq!(found, cmis_core::Reconciliation::NotPublished);
}

#[tokio::test]
async fn a_timeout_on_init_is_an_unknown_outcome() {
    let server = server().await;
    let file = mp4_file("init-timeout", 4_000);
    mount_creator_info(&server, "creator_info.json").await;
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/video/init/"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(init_fixture("video_init.json", &server))
                .set_delay(Duration::from_secs(5)),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = cmis_tiktok::TikTokClient::builder()
        .api_base_url(server.uri())
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let env = env(&server, &[]).await;
    let err = cmis_tiktok::TikTokPublisher::new(client)
        .publish(&target(), &direct_post(Media::path(&file)), &env.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome, "{err}");
}

#[tokio::test]
async fn resume_finishes_the_upload_and_never_calls_init_again() {
    let server = server().await;
    let file = mp4_file("resume-upload", TOTAL);
    let data = std::fs::read(&file).unwrap();
    mount_init(&server, 0).await;
    chunk_mock(&data, MIB5, 2 * MIB5 - 1, "video/mp4")
        .respond_with(ResponseTemplate::new(206))
        .expect(1)
        .mount(&server)
        .await;
    chunk_mock(&data, 2 * MIB5, TOTAL - 1, "video/mp4")
        .respond_with(ResponseTemplate::new(201))
        .expect(1)
        .mount(&server)
        .await;
    mount_status(
        &server,
        "v_pub_file~v2-1.123456789",
        "status_complete.json",
        1,
    )
    .await;
    let upload_url = init_fixture("video_init.json", &server)["data"]["upload_url"].clone();
    let checkpoint = Checkpoint::new(
        Platform::TikTok,
        "uploading",
        &json!({
            "publish_id": "v_pub_file~v2-1.123456789",
            "mode": "direct",
            "media": "video",
            "privacy_level": "MUTUAL_FOLLOW_FRIENDS",
            "creator_username": "tiktok",
            "upload": {
                "upload_url": upload_url,
                "expires_at": "2999-01-01T00:00:00Z",
                "path": file,
                "total_size": TOTAL,
                "chunk_size": MIB5,
                "chunk_count": 3,
                "content_type": "video/mp4",
                "next_offset": MIB5
            }
        }),
    )
    .unwrap();
    let env = env(&server, &[]).await;
    let outcome = publisher(&server, 2_000)
        .resume(&target(), &checkpoint, &env.ctx)
        .await
        .unwrap();
    assert_eq!(
        outcome.receipt().unwrap().post_id.as_str(),
        "7439182734619283746"
    );
}

/// A wall clock that a mock can move forward, to cross the upload URL's one-hour deadline.
#[derive(Debug, Clone, Default)]
struct JumpClock(Arc<AtomicI64>);

impl Clock for JumpClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + time::Duration::seconds(self.0.load(Ordering::SeqCst))
    }
}

struct JumpThenRespond(JumpClock, u16);

impl Respond for JumpThenRespond {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        self.0.0.fetch_add(2 * 3600, Ordering::SeqCst);
        ResponseTemplate::new(self.1)
    }
}

#[tokio::test]
async fn an_expired_upload_url_stops_the_upload_with_a_clear_error() {
    let server = server().await;
    let file = mp4_file("expired-url", TOTAL);
    let data = std::fs::read(&file).unwrap();
    mount_creator_info(&server, "creator_info.json").await;
    mount_init(&server, 1).await;
    let clock = JumpClock::default();
    // Two hours pass while the first chunk is sent: the URL is dead before the second.
    chunk_mock(&data, 0, MIB5 - 1, "video/mp4")
        .respond_with(JumpThenRespond(clock.clone(), 206))
        .expect(1)
        .mount(&server)
        .await;
    let env = env(&server, &[]).await;
    let err = publisher(&server, 2_000)
        .with_chunk_size(MIB5)
        .with_clock(Arc::new(clock))
        .publish(&target(), &direct_post(Media::path(&file)), &env.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert!(err.message().contains("v_pub_file~v2-1.123456789"), "{err}");
    assert!(err.message().contains("expired"), "{err}");
    // The publish_id is kept for cancel or inspection.
    assert_eq!(
        publish_id_of(&env.checkpoints.latest().unwrap()),
        "v_pub_file~v2-1.123456789"
    );
}

#[tokio::test]
async fn resume_after_the_deadline_checks_status_before_giving_up() {
    let server = server().await;
    mount_init(&server, 0).await;
    mount_status(
        &server,
        "v_pub_file~v2-1.123456789",
        "status_processing_upload.json",
        1,
    )
    .await;
    let checkpoint = Checkpoint::new(
        Platform::TikTok,
        "uploading",
        &json!({
            "publish_id": "v_pub_file~v2-1.123456789",
            "mode": "direct",
            "media": "video",
            "upload": {
                "upload_url": format!("{}/video/?upload_id=67890&upload_token=Xza123", server.uri()),
                "expires_at": "2020-01-01T00:00:00Z",
                "path": "/nonexistent/video.mp4",
                "total_size": TOTAL,
                "chunk_size": MIB5,
                "chunk_count": 3,
                "content_type": "video/mp4",
                "next_offset": MIB5
            }
        }),
    )
    .unwrap();
    let env = env(&server, &[]).await;
    let err = publisher(&server, 2_000)
        .resume(&target(), &checkpoint, &env.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
}

#[tokio::test]
async fn pull_from_url_video_sends_the_url_and_polls() {
    let server = server().await;
    mount_creator_info(&server, "creator_info.json").await;
    let mut opts = TikTokOptions::new().with_privacy_level(PrivacyLevel::SelfOnly);
    opts.is_aigc = true;
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/video/init/"))
        .and(bearer_token(TOKEN))
        .and(header("content-type", JSON_UTF8))
        .and(body_json(json!({
            "post_info": {
                "title": "",
                "privacy_level": "SELF_ONLY",
                "disable_duet": false,
                "disable_comment": false,
                "disable_stitch": true,
                "brand_content_toggle": false,
                "brand_organic_toggle": false,
                "is_aigc": true
            },
            "source_info": {"source": "PULL_FROM_URL", "video_url": "https://verified.example.com/x.mp4"}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": {"publish_id": "v_pub_url~v2.1"},
            "error": {"code": "ok", "message": "", "log_id": "L"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/status/fetch/"))
        .and(body_json(json!({"publish_id": "v_pub_url~v2.1"})))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(fixture("status_processing_download.json")),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    mount_status(&server, "v_pub_url~v2.1", "status_complete_no_id.json", 1).await;
    let post = Post::new()
        .with_media(Media::url(
            "https://verified.example.com/x.mp4".parse().unwrap(),
        ))
        .with_tiktok(opts);
    let env = env(&server, &[]).await;
    let outcome = publisher(&server, 2_000)
        .publish(&target(), &post, &env.ctx)
        .await
        .unwrap();
    // A private post never gets a public id: the publish_id is TikTok's proof.
    let receipt = outcome.receipt().unwrap();
    assert_eq!(receipt.post_id.as_str(), "v_pub_url~v2.1");
    assert_eq!(receipt.permalink, None);
    assert_eq!(
        publish_id_of(&env.checkpoints.latest().unwrap()),
        "v_pub_url~v2.1"
    );
}

#[tokio::test]
async fn an_inbox_draft_uploads_without_creator_info_and_succeeds_at_send_to_user_inbox() {
    let server = server().await;
    let file = mp4_file("inbox", 4_000);
    let data = std::fs::read(&file).unwrap();
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/inbox/video/init/"))
        .and(bearer_token(TOKEN))
        .and(header("content-type", JSON_UTF8))
        .and(body_json(json!({
            "source_info": {
                "source": "FILE_UPLOAD",
                "video_size": 4000,
                "chunk_size": 4000,
                "total_chunk_count": 1
            }
        })))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(init_fixture("inbox_init.json", &server)),
        )
        .expect(1)
        .mount(&server)
        .await;
    chunk_mock(&data, 0, 3999, "video/mp4")
        .respond_with(ResponseTemplate::new(201))
        .expect(1)
        .mount(&server)
        .await;
    mount_status(&server, "v_inbox_file~v2.123456789", "status_inbox.json", 1).await;
    let post = Post::new()
        .with_text("ignored by TikTok for drafts")
        .with_media(Media::path(&file))
        .with_tiktok(TikTokOptions::new().with_draft(true));
    let env = env(&server, &["user.info.basic", "video.upload"]).await;
    let outcome = publisher(&server, 2_000)
        .publish(&target(), &post, &env.ctx)
        .await
        .unwrap();
    let receipt = outcome.receipt().unwrap();
    assert_eq!(receipt.state, ReceiptState::SentToInbox);
    assert_eq!(receipt.post_id.as_str(), "v_inbox_file~v2.123456789");
}

#[tokio::test]
async fn a_draft_without_the_upload_scope_is_refused_before_any_call() {
    let server = server().await;
    let file = mp4_file("inbox-scope", 4_000);
    let post = Post::new()
        .with_media(Media::path(&file))
        .with_tiktok(TikTokOptions::new().with_draft(true));
    let env = env(&server, &["user.info.basic", "video.publish"]).await;
    let err = publisher(&server, 2_000)
        .publish(&target(), &post, &env.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Permission);
    assert!(err.message().contains("video.upload"), "{err}");
}

#[tokio::test]
async fn a_file_that_is_not_a_video_is_refused_before_any_call() {
    let server = server().await;
    let dir = std::env::temp_dir().join(format!("cmis-tiktok-notvideo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("notes.mp4");
    std::fs::write(&file, b"these are not video bytes").unwrap();
    let env = env(&server, &[]).await;
    let err = publisher(&server, 2_000)
        .publish(&target(), &direct_post(Media::path(&file)), &env.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(err.violation_list()[0].rule, "tiktok.feed.media.readable");
}

#[tokio::test]
async fn resume_of_a_foreign_checkpoint_is_invalid_input() {
    let server = server().await;
    let env = env(&server, &[]).await;
    let cp = Checkpoint::new(
        Platform::Instagram,
        "container_created",
        &json!({"id": "1"}),
    )
    .unwrap();
    let err = publisher(&server, 2_000)
        .resume(&target(), &cp, &env.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

proptest! {
    /// The plan the uploader follows covers every byte once, in order, within TikTok's rules.
    #[test]
    fn chunk_plans_cover_the_file_within_tiktoks_rules(size in 1u64..8_000_000_000) {
        let plan = ChunkPlan::tiktok(size).unwrap();
        let mut next = 0;
        for (i, chunk) in plan.chunks().enumerate() {
            prop_assert_eq!(chunk.index, i as u64);
            prop_assert_eq!(chunk.offset, next);
            prop_assert!(chunk.len > 0);
            let last = chunk.index + 1 == plan.chunk_count();
            if !last {
                prop_assert!((5 * 1024 * 1024..=64_000_000).contains(&chunk.len));
            } else {
                prop_assert!(chunk.len <= 128_000_000);
            }
            prop_assert_eq!(
                chunk.content_range(),
                format!("bytes {}-{}/{}", chunk.offset, chunk.offset + chunk.len - 1, size)
            );
            next += chunk.len;
        }
        prop_assert_eq!(next, size);
        prop_assert!(plan.chunk_count() >= 1 && plan.chunk_count() <= 1000);
        prop_assert_eq!(plan.chunk_count(), (size / plan.chunk_size()).max(1));
    }
}

#[tokio::test]
async fn an_upload_that_keeps_failing_after_init_is_pending_not_an_error() {
    let server = server().await;
    let file = mp4_file("keeps-failing", TOTAL);
    let data = std::fs::read(&file).unwrap();
    mount_creator_info(&server, "creator_info.json").await;
    mount_init(&server, 1).await;
    chunk_mock(&data, 0, MIB5 - 1, "video/mp4")
        .respond_with(ResponseTemplate::new(206))
        .expect(1)
        .mount(&server)
        .await;
    // Every attempt at the second chunk fails: the default policy makes 4 attempts.
    chunk_mock(&data, MIB5, 2 * MIB5 - 1, "video/mp4")
        .respond_with(ResponseTemplate::new(502))
        .expect(4)
        .mount(&server)
        .await;
    let env = env(&server, &[]).await;
    let outcome = publisher(&server, 2_000)
        .with_chunk_size(MIB5)
        .publish(&target(), &direct_post(Media::path(&file)), &env.ctx)
        .await
        .unwrap();
    // The publish exists: resume it later instead of publishing again.
    let Outcome::Pending(cp) = outcome else {
        panic!("expected pending, got {outcome:?}");
    };
    assert_eq!(cp.stage, "uploading");
    assert_eq!(publish_id_of(&cp), "v_pub_file~v2-1.123456789");
    let data: serde_json::Value = serde_json::from_str(&cp.data_json()).unwrap();
    assert_eq!(data["upload"]["next_offset"], MIB5);
    assert!(cp.resume_after.is_some());
}

#[tokio::test]
async fn an_inbox_draft_can_be_pulled_from_a_url() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/inbox/video/init/"))
        .and(bearer_token(TOKEN))
        .and(header("content-type", JSON_UTF8))
        .and(body_json(json!({
            "source_info": {"source": "PULL_FROM_URL", "video_url": "https://verified.example.com/d.mp4"}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": {"publish_id": "v_inbox_url~v2.5"},
            "error": {"code": "ok", "message": "", "log_id": "L"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    mount_status(&server, "v_inbox_url~v2.5", "status_inbox.json", 1).await;
    let post = Post::new()
        .with_media(Media::url(
            "https://verified.example.com/d.mp4".parse().unwrap(),
        ))
        .with_tiktok(TikTokOptions::new().with_draft(true));
    let env = env(&server, &["video.upload"]).await;
    let receipt = publisher(&server, 1_000)
        .publish(&target(), &post, &env.ctx)
        .await
        .unwrap();
    let receipt = receipt.receipt().unwrap();
    assert_eq!(receipt.state, ReceiptState::SentToInbox);
    assert_eq!(receipt.post_id.as_str(), "v_inbox_url~v2.5");
}
