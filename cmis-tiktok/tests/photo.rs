//! Photo posts: `content/init` with `PULL_FROM_URL`, Direct Post and draft (`MEDIA_UPLOAD`).

mod common;

use cmis_core::{
    ErrorKind, Media, Outcome, Post, PrivacyLevel, Publisher, ReceiptState, TikTokOptions,
};
use common::*;
use serde_json::json;
use wiremock::matchers::{bearer_token, body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn image(n: usize) -> Media {
    Media::url(
        format!("https://verified.example.com/x{n}.webp")
            .parse()
            .unwrap(),
    )
}

async fn mount_content_init(server: &MockServer, body: serde_json::Value) {
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/content/init/"))
        .and(bearer_token(TOKEN))
        .and(header("content-type", JSON_UTF8))
        .and(body_json(body))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("photo_init.json")))
        .expect(1)
        .mount(server)
        .await;
}

async fn mount_status(server: &MockServer, fixture_name: &str) {
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/status/fetch/"))
        .and(body_json(json!({"publish_id": "p_pub_url~v2.123456789"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture(fixture_name)))
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_photo_direct_post_sends_the_documented_body() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/creator_info/query/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("creator_info.json")))
        .expect(1)
        .mount(&server)
        .await;
    mount_content_init(
        &server,
        json!({
            "media_type": "PHOTO",
            "post_mode": "DIRECT_POST",
            "post_info": {
                "title": "funny cat",
                "description": "#funny photomode",
                "disable_comment": true,
                "privacy_level": "PUBLIC_TO_EVERYONE",
                "auto_add_music": true,
                "brand_content_toggle": false,
                "brand_organic_toggle": false
            },
            "source_info": {
                "source": "PULL_FROM_URL",
                "photo_cover_index": 1,
                "photo_images": ["https://verified.example.com/x1.webp", "https://verified.example.com/x2.webp"]
            }
        }),
    )
    .await;
    mount_status(&server, "status_complete.json").await;
    let mut opts = TikTokOptions::new().with_privacy_level(PrivacyLevel::PublicToEveryone);
    opts.disable_comment = true;
    opts.auto_add_music = true;
    opts.photo_cover_index = Some(1);
    opts.photo_title = Some("funny cat".into());
    let post = Post::new()
        .with_text("#funny photomode")
        .with_media(image(1))
        .with_media(image(2))
        .with_tiktok(opts);
    let env = env(&server, &["video.publish"]).await;
    let outcome = publisher(&server, 1_000)
        .publish(&target(), &post, &env.ctx)
        .await
        .unwrap();
    let receipt = outcome.receipt().unwrap();
    assert_eq!(receipt.post_id.as_str(), "7439182734619283746");
    assert_eq!(
        receipt.permalink.as_ref().unwrap().as_str(),
        "https://www.tiktok.com/@tiktok/photo/7439182734619283746"
    );
}

#[tokio::test]
async fn a_photo_draft_uses_media_upload_without_creator_info() {
    let server = server().await;
    mount_content_init(
        &server,
        json!({
            "media_type": "PHOTO",
            "post_mode": "MEDIA_UPLOAD",
            "post_info": {"description": "draft"},
            "source_info": {
                "source": "PULL_FROM_URL",
                "photo_cover_index": 0,
                "photo_images": ["https://verified.example.com/x1.webp"]
            }
        }),
    )
    .await;
    mount_status(&server, "status_inbox.json").await;
    let post = Post::new()
        .with_text("draft")
        .with_media(image(1))
        .with_tiktok(TikTokOptions::new().with_draft(true));
    let env = env(&server, &["video.upload"]).await;
    let outcome = publisher(&server, 1_000)
        .publish(&target(), &post, &env.ctx)
        .await
        .unwrap();
    let Outcome::Published(receipt) = outcome else {
        panic!("expected a receipt");
    };
    assert_eq!(receipt.state, ReceiptState::SentToInbox);
    assert_eq!(receipt.post_id.as_str(), "p_pub_url~v2.123456789");
}

#[tokio::test]
async fn a_failed_photo_post_is_a_permanent_rejection() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/content/init/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("photo_init.json")))
        .expect(1)
        .mount(&server)
        .await;
    mount_status(&server, "status_failed.json").await;
    let post = Post::new()
        .with_media(image(1))
        .with_tiktok(TikTokOptions::new().with_draft(true));
    let env = env(&server, &[]).await;
    let err = publisher(&server, 1_000)
        .publish(&target(), &post, &env.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Rejected);
    assert!(!err.is_retryable());
    assert_eq!(err.platform_code(), Some("picture_size_check_failed"));
}

#[tokio::test]
async fn photo_rules_are_checked_before_any_call() {
    let server = server().await;
    let env = env(&server, &[]).await;
    let publisher = publisher(&server, 100);
    let opts = TikTokOptions::new().with_privacy_level(PrivacyLevel::SelfOnly);
    let too_many = (0..36).fold(Post::new().with_tiktok(opts.clone()), |p, i| {
        p.with_media(image(i))
    });
    let local = Post::new()
        .with_media(Media::path("cat.jpg"))
        .with_media(image(2))
        .with_tiktok(opts.clone());
    let png = Post::new()
        .with_media(Media::url(
            "https://verified.example.com/x.png".parse().unwrap(),
        ))
        .with_tiktok(opts.clone());
    let mut bad_cover = opts.clone();
    bad_cover.photo_cover_index = Some(2);
    let cover = Post::new()
        .with_media(image(1))
        .with_media(image(2))
        .with_tiktok(bad_cover);
    let ip = Post::new()
        .with_media(Media::url("https://127.0.0.1/x.jpg".parse().unwrap()))
        .with_tiktok(opts);
    for (post, rule) in [
        (too_many, "tiktok.photo.max_count"),
        (local, "tiktok.photo.source"),
        (png, "tiktok.photo.format"),
        (cover, "tiktok.photo.cover_index"),
        (ip, "tiktok.pull_url.domain"),
    ] {
        let err = publisher
            .publish(&target(), &post, &env.ctx)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(
            err.violation_list().iter().any(|v| v.rule == rule),
            "{rule}: {err}"
        );
    }
}
