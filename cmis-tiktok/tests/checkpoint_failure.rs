//! A checkpoint sink that fails after init: once TikTok can publish without another call, the
//! failure is an unknown outcome (reconciled from the last saved checkpoint), never a failure
//! that would lead to a second init and a duplicate post.

mod common;

use std::error::Error as _;
use std::sync::Arc;

use async_trait::async_trait;
use cmis_core::{
    Checkpoint, CheckpointSink, Error, ErrorKind, Media, MemoryCheckpointSink, Post, PrivacyLevel,
    Publisher, Reconciliation, TikTokOptions,
};
use common::*;
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Keeps every checkpoint like a store, except those of `stage`, which fail like a database
/// that has just lost its connection.
struct FailingOn {
    stage: &'static str,
    kept: MemoryCheckpointSink,
}

impl FailingOn {
    fn stage(stage: &'static str) -> Arc<Self> {
        Arc::new(Self {
            stage,
            kept: MemoryCheckpointSink::new(),
        })
    }
}

#[async_trait]
impl CheckpointSink for FailingOn {
    async fn save(&self, checkpoint: &Checkpoint) -> cmis_core::Result<()> {
        if checkpoint.stage == self.stage {
            return Err(Error::internal(
                "pool timed out while acquiring a connection",
            ));
        }
        self.kept.save(checkpoint).await
    }
}

fn private(media: Media) -> Post {
    Post::new()
        .with_media(media)
        .with_tiktok(TikTokOptions::new().with_privacy_level(PrivacyLevel::SelfOnly))
}

async fn mount_creator_info(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/creator_info/query/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("creator_info.json")))
        .expect(1)
        .mount(server)
        .await;
}

async fn mount_status(server: &MockServer, publish_id: &str, fixture_name: &str, expect: u64) {
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/status/fetch/"))
        .and(body_json(json!({ "publish_id": publish_id })))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture(fixture_name)))
        .expect(expect)
        .named("status/fetch")
        .mount(server)
        .await;
}

fn assert_unknown_outcome(err: &Error) {
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome, "{err}");
    assert!(err.message().contains("may have the post"), "{err}");
    let source = err
        .source()
        .expect("the sink's error is kept as the source");
    assert!(source.to_string().contains("pool timed out"), "{source}");
}

#[tokio::test]
async fn a_pulled_video_whose_processing_checkpoint_fails_is_an_unknown_outcome() {
    let server = server().await;
    mount_creator_info(&server).await;
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/video/init/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": {"publish_id": "v_pub_url~v2.1"},
            "error": {"code": "ok", "message": "", "log_id": "L"}
        })))
        .expect(1)
        .named("video/init")
        .mount(&server)
        .await;
    let env = env(&server, &[]).await;
    let sink = FailingOn::stage("processing");
    let ctx = env.ctx.clone().with_checkpoint_sink(sink.clone());
    let post = private(Media::url(
        "https://verified.example.com/x.mp4".parse().unwrap(),
    ));
    let publisher = publisher(&server, 1_000);

    let err = publisher.publish(&target(), &post, &ctx).await.unwrap_err();

    assert_unknown_outcome(&err);
    // Only the checkpoint saved right before init is stored, and TikTok has no read-only
    // lookup without the publish_id; a private post is not among the creator's public videos
    // either. The reconcile says so (and calls neither init nor status nor the listing: the
    // catch-all would fail it).
    let kept = sink.kept.latest().expect("the checkpoint before init");
    assert_eq!(kept.stage, "initiating");
    let found = publisher
        .reconcile(&target(), &post, Some(&kept), &ctx)
        .await
        .unwrap_err();
    assert_eq!(found.kind(), ErrorKind::UnknownOutcome);
    assert!(found.to_string().contains("not public"), "{found}");
    let found = publisher
        .reconcile(&target(), &post, None, &ctx)
        .await
        .unwrap();
    assert_eq!(found, Reconciliation::Unknown);
}

#[tokio::test]
async fn a_pulled_photo_post_whose_processing_checkpoint_fails_is_an_unknown_outcome() {
    let server = server().await;
    mount_creator_info(&server).await;
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/content/init/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("photo_init.json")))
        .expect(1)
        .named("content/init")
        .mount(&server)
        .await;
    let env = env(&server, &[]).await;
    let ctx = env
        .ctx
        .clone()
        .with_checkpoint_sink(FailingOn::stage("processing"));
    let post = private(Media::url(
        "https://verified.example.com/x1.webp".parse().unwrap(),
    ));

    let err = publisher(&server, 1_000)
        .publish(&target(), &post, &ctx)
        .await
        .unwrap_err();

    assert_unknown_outcome(&err);
}

#[tokio::test]
async fn an_upload_whose_checkpoint_after_the_last_chunk_fails_is_reconciled_from_the_last_saved_one()
 {
    const SIZE: u64 = 2 * MIB5 + 7;
    let server = server().await;
    let file = mp4_file("last-chunk-checkpoint", SIZE);
    mount_creator_info(&server).await;
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/video/init/"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(init_fixture("video_init.json", &server)),
        )
        .expect(1)
        .named("video/init")
        .mount(&server)
        .await;
    for (range, status) in [
        (format!("bytes 0-{}/{SIZE}", MIB5 - 1), 206),
        (format!("bytes {MIB5}-{}/{SIZE}", SIZE - 1), 201),
    ] {
        Mock::given(method("PUT"))
            .and(path("/video/"))
            .and(header("content-range", range.as_str()))
            .respond_with(ResponseTemplate::new(status))
            .expect(1)
            .mount(&server)
            .await;
    }
    // Only the reconcile reads the status: the publish stops at the failed save.
    mount_status(
        &server,
        "v_pub_file~v2-1.123456789",
        "status_complete.json",
        1,
    )
    .await;
    let env = env(&server, &[]).await;
    let sink = FailingOn::stage("processing");
    let ctx = env.ctx.clone().with_checkpoint_sink(sink.clone());
    let post = private(Media::path(&file));
    let publisher = publisher(&server, 1_000).with_chunk_size(MIB5);

    let err = publisher.publish(&target(), &post, &ctx).await.unwrap_err();

    assert_unknown_outcome(&err);
    // The last checkpoint that was stored says "uploading"; reconciling from it finds the post.
    let last = sink.kept.latest().unwrap();
    assert_eq!(last.stage, "uploading");
    let found = publisher
        .reconcile(&target(), &post, Some(&last), &ctx)
        .await
        .unwrap();
    let Reconciliation::Published(receipt) = found else {
        panic!("expected the post to be found, got {found:?}");
    };
    assert_eq!(receipt.post_id.as_str(), "7439182734619283746");
}

#[tokio::test]
async fn an_upload_whose_first_checkpoint_fails_sends_nothing_and_keeps_the_sink_error() {
    let server = server().await;
    let file = mp4_file("first-checkpoint", MIB5 + 7);
    mount_creator_info(&server).await;
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/video/init/"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(init_fixture("video_init.json", &server)),
        )
        .expect(1)
        .mount(&server)
        .await;
    // No chunk may be sent (the catch-all fails any PUT): without its bytes TikTok cannot
    // publish, so the sink's own error stands and publishing again cannot duplicate.
    let env = env(&server, &[]).await;
    let ctx = env
        .ctx
        .clone()
        .with_checkpoint_sink(FailingOn::stage("uploading"));

    let err = publisher(&server, 1_000)
        .publish(&target(), &private(Media::path(&file)), &ctx)
        .await
        .unwrap_err();

    assert_eq!(err.kind(), ErrorKind::Internal, "{err}");
}
