//! `status/fetch`: polling, the horizon, resume, reconcile and cancel.

mod common;

use cmis_core::{
    Checkpoint, ErrorKind, Outcome, Platform, Post, Publisher, Reconciliation, SecretString,
};
use cmis_tiktok::PublishState;
use common::*;
use serde_json::json;
use wiremock::matchers::{bearer_token, body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PUBLISH_ID: &str = "v_pub_url~v2.77";

fn processing_checkpoint(privacy: &str) -> Checkpoint {
    Checkpoint::new(
        Platform::TikTok,
        "processing",
        &json!({
            "publish_id": PUBLISH_ID,
            "mode": "direct",
            "media": "video",
            "privacy_level": privacy,
            "creator_username": "tiktok"
        }),
    )
    .unwrap()
}

fn status_mock() -> wiremock::MockBuilder {
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/status/fetch/"))
        .and(bearer_token(TOKEN))
        .and(header("content-type", JSON_UTF8))
        .and(body_json(json!({"publish_id": PUBLISH_ID})))
}

async fn no_init(server: &MockServer) {
    for p in [
        "/v2/post/publish/video/init/",
        "/v2/post/publish/inbox/video/init/",
        "/v2/post/publish/content/init/",
        "/v2/post/publish/creator_info/query/",
    ] {
        Mock::given(path(p))
            .respond_with(ResponseTemplate::new(500))
            .expect(0)
            .mount(server)
            .await;
    }
}

#[tokio::test]
async fn fetch_status_keeps_ids_above_2_pow_53_exact() {
    let server = server().await;
    status_mock()
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("status_complete.json")))
        .expect(1)
        .mount(&server)
        .await;
    let status = client(&server)
        .fetch_status(&SecretString::from(TOKEN), PUBLISH_ID)
        .await
        .unwrap();
    assert_eq!(status.status, PublishState::PublishComplete);
    assert_eq!(status.public_post_id(), Some("7439182734619283746"));
    assert_eq!(status.uploaded_bytes, Some(15_728_763));
}

#[tokio::test]
async fn resume_polls_through_processing_to_complete_without_calling_init() {
    let server = server().await;
    no_init(&server).await;
    status_mock()
        .respond_with(
            ResponseTemplate::new(200).set_body_json(fixture("status_processing_download.json")),
        )
        .up_to_n_times(2)
        .with_priority(1)
        .expect(2)
        .mount(&server)
        .await;
    status_mock()
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("status_complete.json")))
        .expect(1)
        .mount(&server)
        .await;
    let env = env(&server, &[]).await;
    let outcome = publisher(&server, 5_000)
        .resume(
            &target(),
            &processing_checkpoint("PUBLIC_TO_EVERYONE"),
            &env.ctx,
        )
        .await
        .unwrap();
    assert_eq!(
        outcome.receipt().unwrap().post_id.as_str(),
        "7439182734619283746"
    );
}

#[tokio::test]
async fn past_the_horizon_the_outcome_is_pending_with_the_publish_id() {
    let server = server().await;
    no_init(&server).await;
    status_mock()
        .respond_with(
            ResponseTemplate::new(200).set_body_json(fixture("status_processing_download.json")),
        )
        .expect(1..)
        .mount(&server)
        .await;
    let env = env(&server, &[]).await;
    let outcome = publisher(&server, 50)
        .resume(&target(), &processing_checkpoint("SELF_ONLY"), &env.ctx)
        .await
        .unwrap();
    let Outcome::Pending(cp) = outcome else {
        panic!("expected pending, got {outcome:?}");
    };
    assert_eq!(cp.platform, Platform::TikTok);
    assert_eq!(cp.stage, "processing");
    assert_eq!(publish_id_of(&cp), PUBLISH_ID);
    assert!(cp.resume_after.is_some());
}

#[tokio::test]
async fn a_public_post_waits_for_its_public_id_within_the_horizon() {
    let server = server().await;
    status_mock()
        .respond_with(
            ResponseTemplate::new(200).set_body_json(fixture("status_complete_no_id.json")),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    status_mock()
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("status_complete.json")))
        .expect(1)
        .mount(&server)
        .await;
    let env = env(&server, &[]).await;
    let outcome = publisher(&server, 5_000)
        .resume(
            &target(),
            &processing_checkpoint("PUBLIC_TO_EVERYONE"),
            &env.ctx,
        )
        .await
        .unwrap();
    assert_eq!(
        outcome.receipt().unwrap().post_id.as_str(),
        "7439182734619283746"
    );
}

#[tokio::test]
async fn failed_with_a_retryable_reason_is_transient() {
    let server = server().await;
    status_mock()
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": {"status": "FAILED", "fail_reason": "video_pull_failed", "publicaly_available_post_id": []},
            "error": {"code": "ok", "message": "", "log_id": "L"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let env = env(&server, &[]).await;
    let err = publisher(&server, 1_000)
        .resume(&target(), &processing_checkpoint("SELF_ONLY"), &env.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert!(err.message().contains(PUBLISH_ID), "{err}");
}

#[tokio::test]
async fn reconcile_reads_status_only() {
    let server = server().await;
    no_init(&server).await;
    status_mock()
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("status_failed.json")))
        .expect(1)
        .mount(&server)
        .await;
    let env = env(&server, &[]).await;
    let publisher = publisher(&server, 1_000);
    let cp = processing_checkpoint("SELF_ONLY");
    let found = publisher
        .reconcile(&target(), &Post::new(), Some(&cp), &env.ctx)
        .await
        .unwrap();
    assert_eq!(found, Reconciliation::NotPublished);
    // Without a publish_id TikTok has nothing to look up.
    let found = publisher
        .reconcile(&target(), &Post::new(), None, &env.ctx)
        .await
        .unwrap();
    assert_eq!(found, Reconciliation::Unknown);
}

#[tokio::test]
async fn cancel_posts_the_publish_id() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/cancel/"))
        .and(bearer_token(TOKEN))
        .and(header("content-type", JSON_UTF8))
        .and(body_json(json!({"publish_id": PUBLISH_ID})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "error": {"code": "ok", "message": "", "log_id": "L"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let env = env(&server, &[]).await;
    publisher(&server, 100)
        .cancel(&target(), &processing_checkpoint("SELF_ONLY"), &env.ctx)
        .await
        .unwrap();
}

#[tokio::test]
async fn cancel_too_late_is_reported() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/cancel/"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "data": {},
            "error": {"code": "publish_not_cancellable", "message": "", "log_id": "LC"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .cancel(&SecretString::from(TOKEN), PUBLISH_ID)
        .await
        .unwrap_err();
    assert_eq!(err.platform_code(), Some("publish_not_cancellable"));
    assert_eq!(err.trace_id(), Some("LC"));
}

#[tokio::test]
async fn an_unknown_publish_id_is_invalid_input_with_the_log_id() {
    let server = server().await;
    status_mock()
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "data": {},
            "error": {"code": "invalid_publish_id", "message": "publish_id is invalid", "log_id": "LS400"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let env = env(&server, &[]).await;
    let err = publisher(&server, 1_000)
        .resume(&target(), &processing_checkpoint("SELF_ONLY"), &env.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(err.platform_code(), Some("invalid_publish_id"));
    assert_eq!(err.trace_id(), Some("LS400"));
}

#[tokio::test]
async fn a_429_while_polling_hands_back_a_checkpoint_to_resume_after_the_window() {
    let server = server().await;
    status_mock()
        .respond_with(ResponseTemplate::new(429).set_body_json(json!({
            "data": {},
            "error": {"code": "rate_limit_exceeded", "message": "", "log_id": "L429"}
        })))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    status_mock()
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("status_complete.json")))
        .expect(0)
        .mount(&server)
        .await;
    let env = env(&server, &[]).await;
    // TikTok documents no retry header, so a 429 waits out the one-minute window: far beyond
    // this call's horizon, so the publish is handed back as pending.
    let outcome = publisher(&server, 1_000)
        .resume(&target(), &processing_checkpoint("SELF_ONLY"), &env.ctx)
        .await
        .unwrap();
    let Outcome::Pending(cp) = outcome else {
        panic!("expected pending, got {outcome:?}");
    };
    assert_eq!(cp.resume_after, Some(std::time::Duration::from_secs(60)));
}
