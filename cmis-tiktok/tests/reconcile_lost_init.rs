//! Init's answer lost (a 5xx, a timeout, a dropped connection): there is no `publish_id` to ask
//! TikTok about. The checkpoint saved right before init records when it was sent and the
//! caption; reconcile looks for a public video with that caption created in init's window
//! among the creator's videos (Display API `video/list`), and never claims absence.

mod common;

use cmis_core::{
    Checkpoint, ErrorKind, Media, Post, PrivacyLevel, Publisher, Reconciliation, TikTokOptions,
};
use common::*;
use serde_json::{Value, json};
use time::OffsetDateTime;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const CAPTION: &str = "Launch day 🚀 #news";
const FIELDS: &str = "id,create_time,title,video_description,share_url";

fn public_post() -> Post {
    Post::new()
        .with_text(CAPTION)
        .with_media(Media::url(
            "https://verified.example.com/launch.mp4".parse().unwrap(),
        ))
        .with_tiktok(TikTokOptions::new().with_privacy_level(PrivacyLevel::PublicToEveryone))
}

/// Publishes `post` against an init that answers 500 (TikTok may have created the publish)
/// and returns the checkpoint left for the reconcile.
async fn lost_init(server: &MockServer, post: &Post, scopes: &[&str]) -> (Env, Checkpoint) {
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/creator_info/query/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("creator_info.json")))
        .expect(1)
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/video/init/"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({
            "data": {},
            "error": {"code": "internal_error", "message": "", "log_id": "L500"}
        })))
        .expect(1)
        .mount(server)
        .await;
    let env = env(server, scopes).await;
    let err = publisher(server, 100)
        .publish(&target(), post, &env.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome, "{err}");
    let cp = env
        .checkpoints
        .latest()
        .expect("the checkpoint before init");
    assert_eq!(cp.stage, "initiating");
    (env, cp)
}

/// When init was sent, as the checkpoint records it (Unix seconds).
fn started(cp: &Checkpoint) -> i64 {
    let data: Value = cp.decode().unwrap();
    let at = data["started_at"].as_str().unwrap();
    OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
        .unwrap()
        .unix_timestamp()
}

/// Reconciles `cp` and expects an unknown outcome, which it returns.
async fn undecided(
    server: &MockServer,
    post: &Post,
    cp: &Checkpoint,
    env: &Env,
) -> cmis_core::Error {
    let err = publisher(server, 100)
        .reconcile(&target(), post, Some(cp), &env.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome, "{err}");
    err
}

async fn mount_list(server: &MockServer, videos: Value) {
    Mock::given(method("POST"))
        .and(path("/v2/video/list/"))
        .and(query_param("fields", FIELDS))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(body_json(json!({"max_count": 20})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": {"videos": videos, "cursor": 1_700_000_000_000_i64, "has_more": false},
            "error": {"code": "ok", "message": "", "log_id": "LIST"}
        })))
        .expect(1)
        .named("video/list")
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_public_video_with_the_caption_in_inits_window_is_found() {
    let server = server().await;
    let post = public_post();
    let (env, cp) = lost_init(&server, &post, &[]).await;
    let t = started(&cp);
    mount_list(
        &server,
        json!([
            {"id": "7439182734619283999", "create_time": t + 4, "title": CAPTION,
             "video_description": CAPTION,
             "share_url": "https://www.tiktok.com/@tiktok/video/7439182734619283999"},
            {"id": "7439182734619280001", "create_time": t - 7200, "title": CAPTION,
             "video_description": CAPTION},
            {"id": "7439182734619280002", "create_time": t + 2, "title": "something else"}
        ]),
    )
    .await;
    let found = publisher(&server, 100)
        .reconcile(&target(), &post, Some(&cp), &env.ctx)
        .await
        .unwrap();
    let Reconciliation::Published(receipt) = found else {
        panic!("not found: {found:?}");
    };
    // The 19-digit id stays exact (never read through a float).
    assert_eq!(receipt.post_id.as_str(), "7439182734619283999");
    assert_eq!(
        receipt.permalink.unwrap().as_str(),
        "https://www.tiktok.com/@tiktok/video/7439182734619283999"
    );
}

#[tokio::test]
async fn an_earlier_video_with_the_same_caption_is_never_taken_for_ours() {
    let server = server().await;
    let post = public_post();
    let (env, cp) = lost_init(&server, &post, &[]).await;
    let t = started(&cp);
    mount_list(
        &server,
        json!([{"id": "1", "create_time": t - 600, "title": CAPTION,
                "video_description": CAPTION}]),
    )
    .await;
    let err = undecided(&server, &post, &cp, &env).await;
    assert!(err.to_string().contains("not taken"), "{err}");
}

#[tokio::test]
async fn absence_is_never_claimed() {
    let server = server().await;
    let post = public_post();
    let (env, cp) = lost_init(&server, &post, &[]).await;
    mount_list(&server, json!([])).await;
    let err = undecided(&server, &post, &cp, &env).await;
    assert!(err.to_string().contains("absence is not proven"), "{err}");
    // Right after the call TikTok may not list it yet: ask again once it would.
    assert!(err.retry_after().is_some());
}

#[tokio::test]
async fn without_the_video_list_scope_nothing_is_read() {
    let server = server().await;
    let post = public_post();
    let (env, cp) = lost_init(&server, &post, &["video.publish"]).await;
    let err = undecided(&server, &post, &cp, &env).await;
    assert!(err.to_string().contains("video.list"), "{err}");
}

#[tokio::test]
async fn a_resume_of_a_lost_init_never_sends_init_again() {
    let server = server().await;
    let post = public_post();
    let (env, cp) = lost_init(&server, &post, &[]).await;
    let err = publisher(&server, 100)
        .resume(&target(), &cp, &env.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome);
}
