//! `TikTokInsights` against the documented Display API (`docs/insights.md` §3): `video/query`'s
//! exact request (path, fields, token, body) and response, ids above 2^53 kept exact, a
//! `publish_id` mapped to its public video id through the status endpoint, recent videos.

mod common;

use cmis_core::{ErrorKind, InsightsReader, MediaKind, MetricValue, PostId};
use cmis_tiktok::TikTokInsights;
use common::*;
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Above 2^53 (9007199254740992): a float would change its last digits.
const VIDEO: &str = "7439182734619283746";
const PUBLISH: &str = "v_pub_url~v2-1.7321889000000000001";
const QUERY_FIELDS: &str = "id,create_time,view_count,like_count,comment_count,share_count";

async fn mount_query(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/v2/video/query/"))
        .and(query_param("fields", QUERY_FIELDS))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(header("content-type", JSON_UTF8))
        .and(body_json(json!({"filters": {"video_ids": [VIDEO]}})))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("video_query.json")))
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_video_is_read_with_video_query_and_its_id_stays_exact() {
    let server = server().await;
    mount_query(&server).await;
    let env = env(&server, &["video.list"]).await;
    let m = TikTokInsights::new(client(&server))
        .post_metrics(&account(), &PostId::new(VIDEO), MediaKind::Video, &env.ctx)
        .await
        .unwrap();
    assert_eq!(m.post_id.as_str(), VIDEO);
    assert_eq!(m.views, Some(20130));
    assert_eq!(
        (m.likes, m.comments, m.shares),
        (Some(1540), Some(87), Some(33))
    );
    assert_eq!(
        (m.reach, m.saves),
        (None, None),
        "TikTok gives no reach or saves"
    );
    assert_eq!(m.raw["view_count"], MetricValue::Int(20130));
    assert!(m.refused.is_empty());
}

#[tokio::test]
async fn a_publish_id_is_mapped_to_its_public_video_first() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/status/fetch/"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(body_json(json!({"publish_id": PUBLISH})))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("status_complete.json")))
        .expect(1)
        .mount(&server)
        .await;
    mount_query(&server).await;
    let env = env(&server, &["video.list", "video.publish"]).await;
    let m = TikTokInsights::new(client(&server))
        .post_metrics(
            &account(),
            &PostId::new(PUBLISH),
            MediaKind::Video,
            &env.ctx,
        )
        .await
        .unwrap();
    assert_eq!(m.post_id.as_str(), VIDEO);
    assert_eq!(m.views, Some(20130));
}

#[tokio::test]
async fn a_publish_not_yet_public_is_not_queried() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/status/fetch/"))
        .and(body_json(json!({"publish_id": PUBLISH})))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(fixture("status_processing_upload.json")),
        )
        .expect(1)
        .mount(&server)
        .await;
    let env = env(&server, &["video.list"]).await;
    let reader = TikTokInsights::new(client(&server));
    let resolved = reader
        .resolve_publish_id(&account(), PUBLISH, &env.ctx)
        .await
        .unwrap();
    assert_eq!(resolved, None);
    server.reset().await;
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/status/fetch/"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(fixture("status_processing_upload.json")),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/video/query/"))
        .respond_with(ResponseTemplate::new(599))
        .expect(0)
        .mount(&server)
        .await;
    let err = reader
        .post_metrics(
            &account(),
            &PostId::new(PUBLISH),
            MediaKind::Video,
            &env.ctx,
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient, "{err}");
    assert!(err.message().contains("no public video id yet"), "{err}");
}

#[tokio::test]
async fn recent_videos_are_listed_back_to_a_time() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/v2/video/list/"))
        .and(query_param(
            "fields",
            "id,create_time,title,video_description,share_url",
        ))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(body_json(json!({"max_count": 20})))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("video_list_recent.json")))
        .expect(1)
        .mount(&server)
        .await;
    let env = env(&server, &["video.list"]).await;
    let since = time::OffsetDateTime::from_unix_timestamp(1_795_500_000).unwrap();
    let posts = TikTokInsights::new(client(&server))
        .recent_posts(&account(), since, 50, &env.ctx)
        .await
        .unwrap();
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert_eq!(posts[0].post_id.as_str(), VIDEO);
    assert_eq!(posts[0].kind, MediaKind::Video);
    assert_eq!(
        posts[0].published_at.unwrap().unix_timestamp(),
        1_796_000_000
    );
}

#[tokio::test]
async fn a_token_without_video_list_is_refused_before_any_call() {
    let server = server().await;
    let env = env(&server, &["user.info.basic", "video.publish"]).await;
    let err = TikTokInsights::new(client(&server))
        .post_metrics(&account(), &PostId::new(VIDEO), MediaKind::Video, &env.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Permission, "{err}");
    assert!(err.message().contains("video.list"), "{err}");
}

#[tokio::test]
async fn bad_input_and_missing_signals_fail_before_any_call() {
    let server = server().await;
    let env = env(&server, &["video.list"]).await;
    let reader = TikTokInsights::new(client(&server));
    let ig = cmis_core::TenantId::new("tenant-1").account(cmis_core::Platform::Instagram, "1");
    let err = reader
        .post_metrics(&ig, &PostId::new(VIDEO), MediaKind::Video, &env.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let story = reader
        .post_metrics(&account(), &PostId::new(VIDEO), MediaKind::Story, &env.ctx)
        .await
        .unwrap_err();
    assert_eq!(story.kind(), ErrorKind::InvalidInput);
    let zero = reader
        .recent_posts(&account(), time::OffsetDateTime::UNIX_EPOCH, 0, &env.ctx)
        .await
        .unwrap_err();
    assert_eq!(zero.kind(), ErrorKind::InvalidInput);
    let now = time::OffsetDateTime::now_utc();
    let signals = reader
        .account_signals(&account(), now - time::Duration::days(1), now, &env.ctx)
        .await
        .unwrap_err();
    assert_eq!(signals.kind(), ErrorKind::Unsupported);
}
