//! `creator_info/query` and the gate it imposes before any upload.

mod common;

use cmis_core::{ErrorKind, Media, Post, PrivacyLevel, Publisher, TikTokOptions};
use common::*;
use serde_json::json;
use wiremock::matchers::{bearer_token, body_partial_json, body_string, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn mount_creator_info(server: &MockServer, fixture_name: &str, status: u16) {
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/creator_info/query/"))
        .and(bearer_token(TOKEN))
        .and(header("content-type", JSON_UTF8))
        .and(body_string(""))
        .respond_with(ResponseTemplate::new(status).set_body_json(fixture(fixture_name)))
        .expect(1)
        .mount(server)
        .await;
}

async fn mount_no_init(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/video/init/"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(server)
        .await;
}

fn pull_video(opts: TikTokOptions) -> Post {
    Post::new()
        .with_media(Media::url(
            "https://verified.example.com/x.mp4".parse().unwrap(),
        ))
        .with_tiktok(opts)
}

#[tokio::test]
async fn creator_info_is_an_exact_empty_post_and_parses_the_documented_response() {
    let server = server().await;
    mount_creator_info(&server, "creator_info.json", 200).await;
    let env = env(&server, &[]).await;
    let info = publisher(&server, 100)
        .creator_info(&account(), env.ctx.tokens().as_ref())
        .await
        .unwrap();
    assert_eq!(info.creator_nickname, "TikTok Official");
    assert_eq!(info.creator_username, "tiktok");
    assert_eq!(
        info.privacy_level_options,
        [
            PrivacyLevel::PublicToEveryone,
            PrivacyLevel::MutualFollowFriends,
            PrivacyLevel::SelfOnly
        ]
    );
    assert!(!info.comment_disabled && !info.duet_disabled && info.stitch_disabled);
    assert_eq!(info.max_video_post_duration_sec, Some(300));
}

#[tokio::test]
async fn spam_risk_sent_with_http_200_is_an_error() {
    let server = server().await;
    mount_creator_info(&server, "creator_info_spam_risk.json", 200).await;
    let err = client(&server)
        .creator_info(&cmis_core::SecretString::from(TOKEN))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Quota);
    assert_eq!(err.platform_code(), Some("spam_risk_too_many_posts"));
    assert_eq!(err.trace_id(), Some("202210271914SPAM"));
}

#[tokio::test]
async fn a_privacy_mismatch_sends_nothing_but_the_creator_info_query() {
    let server = server().await;
    // A private account is not offered PUBLIC_TO_EVERYONE.
    mount_creator_info(&server, "creator_info_private.json", 200).await;
    mount_no_init(&server).await;
    let env = env(&server, &[]).await;
    let file = mp4_file("privacy-mismatch", 4_000);
    let post = Post::new()
        .with_media(Media::path(&file))
        .with_tiktok(TikTokOptions::new().with_privacy_level(PrivacyLevel::PublicToEveryone));
    let err = publisher(&server, 100)
        .publish(&target(), &post, &env.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(err.violation_list()[0].rule, "tiktok.privacy_level.option");
    assert!(
        err.to_string()
            .contains("FOLLOWER_OF_CREATOR, MUTUAL_FOLLOW_FRIENDS, SELF_ONLY"),
        "{err}"
    );
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].url.path(),
        "/v2/post/publish/creator_info/query/"
    );
    // Only the checkpoint saved before any call, which the error drops: nothing was created.
    let stages: Vec<_> = env
        .checkpoints
        .checkpoints()
        .into_iter()
        .map(|c| c.stage)
        .collect();
    assert_eq!(stages, ["initiating"]);
    assert!(err.discards_checkpoint());
}

#[tokio::test]
async fn interactions_the_creator_disabled_are_disabled_on_the_post() {
    let server = server().await;
    mount_creator_info(&server, "creator_info_private.json", 200).await;
    // The post leaves everything on; the private creator has comments, duets and stitches off.
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/video/init/"))
        .and(body_partial_json(json!({"post_info": {
            "privacy_level": "FOLLOWER_OF_CREATOR",
            "disable_comment": true,
            "disable_duet": true,
            "disable_stitch": true
        }})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": {"publish_id": "v_pub_url~v2.2"},
            "error": {"code": "ok", "message": "", "log_id": "L"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/status/fetch/"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(fixture("status_complete_no_id.json")),
        )
        .expect(1)
        .mount(&server)
        .await;
    let env = env(&server, &[]).await;
    let post = pull_video(TikTokOptions::new().with_privacy_level(PrivacyLevel::FollowerOfCreator));
    let outcome = publisher(&server, 1_000)
        .publish(&target(), &post, &env.ctx)
        .await
        .unwrap();
    assert_eq!(
        outcome.receipt().unwrap().post_id.as_str(),
        "v_pub_url~v2.2"
    );
}

#[tokio::test]
async fn no_privacy_level_is_refused_before_any_call() {
    let server = server().await;
    let env = env(&server, &[]).await;
    let err = publisher(&server, 100)
        .publish(&target(), &pull_video(TikTokOptions::new()), &env.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(
        err.violation_list()[0].rule,
        "tiktok.privacy_level.required"
    );
}

#[tokio::test]
async fn branded_content_is_never_self_only() {
    let server = server().await;
    let env = env(&server, &[]).await;
    let mut opts = TikTokOptions::new().with_privacy_level(PrivacyLevel::SelfOnly);
    opts.brand_content_toggle = true;
    let publisher = publisher(&server, 100);
    let err = publisher
        .validate(&target(), &pull_video(opts.clone()))
        .await
        .unwrap_err();
    assert_eq!(
        err.violation_list()[0].rule,
        "tiktok.branded_content.visibility"
    );
    let err = publisher
        .publish(&target(), &pull_video(opts), &env.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn a_direct_post_without_video_publish_is_refused_before_any_call() {
    let server = server().await;
    let env = env(&server, &["user.info.basic", "video.upload"]).await;
    let err = publisher(&server, 100)
        .publish(
            &target(),
            &pull_video(TikTokOptions::new().with_privacy_level(PrivacyLevel::SelfOnly)),
            &env.ctx,
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Permission);
    assert!(err.message().contains("video.publish"), "{err}");
}

#[tokio::test]
async fn the_client_keeps_to_20_creator_info_queries_a_minute_per_token() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/creator_info/query/"))
        .and(bearer_token(TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("creator_info.json")))
        .expect(21)
        .mount(&server)
        .await;
    let client = client(&server);
    let token = cmis_core::SecretString::from(TOKEN);
    for _ in 0..20 {
        client.creator_info(&token).await.unwrap();
    }
    // The 21st query must wait for the minute's spacing (60 s / 20 = 3 s). Time is paused only
    // while nothing is on the wire, so no HTTP timer can fire early.
    tokio::time::pause();
    let waiting = tokio::spawn({
        let client = client.clone();
        let token = token.clone();
        async move { client.creator_info(&token).await }
    });
    tokio::task::yield_now().await;
    tokio::time::advance(std::time::Duration::from_millis(2_900)).await;
    tokio::task::yield_now().await;
    assert!(!waiting.is_finished());
    assert_eq!(server.received_requests().await.unwrap().len(), 20);
    tokio::time::advance(std::time::Duration::from_millis(100)).await;
    tokio::time::resume();
    waiting.await.unwrap().unwrap();
    assert_eq!(server.received_requests().await.unwrap().len(), 21);
}

#[tokio::test]
async fn a_video_longer_than_the_creator_may_post_is_refused_before_upload() {
    let server = server().await;
    // The private creator may post 180 s; this video lasts 181 s.
    mount_creator_info(&server, "creator_info_private.json", 200).await;
    mount_no_init(&server).await;
    let file = mp4_with_duration("too-long", 181, 4_000);
    assert_eq!(
        cmis_media::probe_file(&file).unwrap().duration,
        Some(std::time::Duration::from_secs(181))
    );
    let post = Post::new()
        .with_media(Media::path(&file))
        .with_tiktok(TikTokOptions::new().with_privacy_level(PrivacyLevel::SelfOnly));
    let env = env(&server, &[]).await;
    let err = publisher(&server, 100)
        .publish(&target(), &post, &env.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(err.violation_list()[0].rule, "tiktok.video.max_duration");
    assert!(err.to_string().contains("at most 180 s"), "{err}");
}
