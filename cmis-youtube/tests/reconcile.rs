//! Reconciliation with read-only calls, and checkpoints that are not YouTube's.

mod common;

use cmis_core::{Checkpoint, ErrorKind, Media, Platform, Post, Publisher, Reconciliation};
use common::*;
use wiremock::ResponseTemplate;

/// An `upload_session` checkpoint, as a publish whose chunks all failed leaves it.
async fn session_checkpoint(server: &wiremock::MockServer, env: &Env) -> Checkpoint {
    mount_init(server, 1).await;
    chunk(0, 262_143)
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(server)
        .await;
    probe()
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(server)
        .await;
    let post = fixture_post(Media::bytes(Some("v.mp4".into()), video_bytes()));
    publisher(server)
        .publish(&target(), &post, &env.ctx)
        .await
        .unwrap_err();
    let cp = env.checkpoints.latest().unwrap();
    assert_eq!(cp.stage, "upload_session");
    cp
}

fn post() -> Post {
    fixture_post(Media::bytes(Some("v.mp4".into()), video_bytes()))
}

#[tokio::test]
async fn no_checkpoint_means_no_video() {
    let server = server().await;
    let env = env(&server).await;
    let r = publisher(&server)
        .reconcile(&target(), &post(), None, &env.ctx)
        .await
        .unwrap();
    assert_eq!(r, Reconciliation::NotPublished);
}

#[tokio::test]
async fn a_completed_session_is_the_video() {
    let server = server().await;
    let env = env(&server).await;
    let cp = session_checkpoint(&server, &env).await;
    probe()
        .respond_with(response_of("upload_status_query_complete.json"))
        .expect(1)
        .mount(&server)
        .await;
    videos_list("videos_list_succeeded.json")
        .expect(1)
        .mount(&server)
        .await;
    let r = publisher(&server)
        .reconcile(&target(), &post(), Some(&cp), &env.ctx)
        .await
        .unwrap();
    let Reconciliation::Published(receipt) = r else {
        panic!("{r:?}")
    };
    assert_eq!(receipt.post_id.as_str(), VIDEO);
}

#[tokio::test]
async fn a_session_still_missing_bytes_is_pending_on_the_same_checkpoint() {
    let server = server().await;
    let env = env(&server).await;
    let cp = session_checkpoint(&server, &env).await;
    probe()
        .respond_with(response_of("upload_status_query_partial.json"))
        .expect(1)
        .mount(&server)
        .await;
    let r = publisher(&server)
        .reconcile(&target(), &post(), Some(&cp), &env.ctx)
        .await
        .unwrap();
    assert_eq!(r, Reconciliation::Pending(cp));
}

#[tokio::test]
async fn an_expired_session_is_settled_by_the_uploads_listing() {
    // Nothing listed: not published.
    let server = server().await;
    let env = env(&server).await;
    let cp = session_checkpoint(&server, &env).await;
    probe()
        .respond_with(response_of("upload_session_expired.json"))
        .mount(&server)
        .await;
    channels_mine().mount(&server).await;
    uploads(serde_json::json!([]))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    let publisher = publisher(&server);
    let r = publisher
        .reconcile(&target(), &post(), Some(&cp), &env.ctx)
        .await
        .unwrap();
    assert_eq!(r, Reconciliation::NotPublished);

    // Two videos with the title in the window: cannot tell.
    uploads(serde_json::json!([
        upload_item("a0000000001", "cmis fixture upload", "2026-11-20T09:31:00Z"),
        upload_item("a0000000002", "cmis fixture upload", "2026-11-20T09:32:00Z"),
    ]))
    .up_to_n_times(1)
    .with_priority(2)
    .mount(&server)
    .await;
    let err = publisher
        .reconcile(&target(), &post(), Some(&cp), &env.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome);

    // One: that video, still processing.
    uploads(serde_json::json!([upload_item(
        VIDEO,
        "cmis fixture upload",
        "2026-11-20T09:30:12Z"
    )]))
    .mount(&server)
    .await;
    videos_list("videos_list_processing.json")
        .mount(&server)
        .await;
    let r = publisher
        .reconcile(&target(), &post(), Some(&cp), &env.ctx)
        .await
        .unwrap();
    let Reconciliation::Pending(p) = r else {
        panic!("{r:?}")
    };
    assert_eq!(p.stage, "processing");
}

#[tokio::test]
async fn checkpoints_of_another_platform_or_stage_are_invalid_input() {
    let server = server().await;
    let env = env(&server).await;
    let publisher = publisher(&server);
    let tiktok = Checkpoint::new(Platform::TikTok, "processing", &"x").unwrap();
    let unknown = Checkpoint::new(Platform::YouTube, "somewhere", &"x").unwrap();
    let broken = Checkpoint::new(Platform::YouTube, "upload_session", &42).unwrap();
    for cp in [tiktok, unknown, broken] {
        let err = publisher
            .resume(&target(), &cp, &env.ctx)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{cp:?}");
        let err = publisher
            .reconcile(&target(), &post(), Some(&cp), &env.ctx)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{cp:?}");
    }
}
