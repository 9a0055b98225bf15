//! `POST /{page-id}/photos` by URL and by file, and multi-photo posts (`attached_media`).

mod common;

use cmis_core::{
    Checkpoint, ErrorKind, Media, Outcome, Platform, Post, Publisher, Target, url::Url,
};
use cmis_meta::FacebookPagePublisher;
use common::*;
use wiremock::Mock;
use wiremock::matchers::{header, method, path};

#[tokio::test]
async fn photo_by_url_sends_url_and_message() {
    let h = harness().await;
    let (k, v) = bearer();
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{PAGE}/photos")))
        .and(header(k, v.as_str()))
        .and(NoTokenInUrl)
        .and(form(&[
            ("url", "https://cdn.example.com/cake.jpg"),
            ("message", "Fresh cake"),
        ]))
        .respond_with(json(200, "photo.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    let post = Post::new().with_text("Fresh cake").with_media(Media::url(
        Url::parse("https://cdn.example.com/cake.jpg").unwrap(),
    ));
    let out = FacebookPagePublisher::new(h.client.clone())
        .publish(&Target::feed(page()), &post, &h.ctx)
        .await
        .unwrap();
    // The post id, not the photo id, identifies the post.
    assert_eq!(
        out.receipt().unwrap().post_id.as_str(),
        "1234567890_11223344556677"
    );
}

#[tokio::test]
async fn photo_by_file_is_a_multipart_source_upload() {
    let h = harness().await;
    let file = temp_file("cake.jpg", &JPEG);
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{PAGE}/photos")))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(Multipart {
            fields: vec![("message".into(), "Fresh cake".into())],
            file_field: "source".into(),
            data: JPEG.to_vec(),
        })
        .respond_with(json(200, "photo.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    let post = Post::new()
        .with_text("Fresh cake")
        .with_media(Media::path(&file));
    let out = FacebookPagePublisher::new(h.client.clone())
        .publish(&Target::feed(page()), &post, &h.ctx)
        .await
        .unwrap();
    assert!(out.receipt().is_some());
}

async fn mount_unpublished(h: &Harness, url: &str, fixture_name: &str, times: u64) {
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{PAGE}/photos")))
        .and(form(&[("url", url), ("published", "false")]))
        .respond_with(json(200, fixture_name))
        .expect(times)
        .mount(&h.server)
        .await;
}

fn two_photo_post() -> Post {
    Post::new()
        .with_text("Two cakes")
        .with_media(Media::url(
            Url::parse("https://cdn.example.com/a.jpg").unwrap(),
        ))
        .with_media(Media::url(
            Url::parse("https://cdn.example.com/b.jpg").unwrap(),
        ))
}

#[tokio::test]
async fn multi_photo_uploads_unpublished_photos_then_one_feed_post() {
    let h = harness().await;
    mount_unpublished(
        &h,
        "https://cdn.example.com/a.jpg",
        "photo_unpublished_1.json",
        1,
    )
    .await;
    mount_unpublished(
        &h,
        "https://cdn.example.com/b.jpg",
        "photo_unpublished_2.json",
        1,
    )
    .await;
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{PAGE}/feed")))
        .and(form(&[
            ("message", "Two cakes"),
            (
                "attached_media",
                r#"[{"media_fbid":"20000000000000001"},{"media_fbid":"20000000000000002"}]"#,
            ),
        ]))
        .respond_with(json(200, "feed_post.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    let out = FacebookPagePublisher::new(h.client.clone())
        .publish(&Target::feed(page()), &two_photo_post(), &h.ctx)
        .await
        .unwrap();
    assert_eq!(
        out.receipt().unwrap().post_id.as_str(),
        "1234567890_9876543210"
    );
    // Each photo id was checkpointed before the next mutating call, then "sending" before /feed.
    let stages: Vec<String> = h
        .checkpoints
        .checkpoints()
        .iter()
        .map(|c| c.stage.clone())
        .collect();
    assert_eq!(stages, ["photos", "photos", "sending"]);
}

#[tokio::test]
async fn multi_photo_resumes_after_the_photos_already_uploaded() {
    let h = harness().await;
    mount_unpublished(
        &h,
        "https://cdn.example.com/a.jpg",
        "photo_unpublished_1.json",
        0,
    )
    .await;
    mount_unpublished(
        &h,
        "https://cdn.example.com/b.jpg",
        "photo_unpublished_2.json",
        1,
    )
    .await;
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{PAGE}/feed")))
        .respond_with(json(200, "feed_post.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    #[derive(serde::Serialize)]
    struct State {
        flow: &'static str,
        post: Post,
        photo_ids: Vec<String>,
    }
    let cp = Checkpoint::new(
        Platform::Facebook,
        "photos",
        &State {
            flow: "multi_photo",
            post: two_photo_post(),
            photo_ids: vec!["20000000000000001".into()],
        },
    )
    .unwrap();
    let out = FacebookPagePublisher::new(h.client.clone())
        .resume(&Target::feed(page()), &cp, &h.ctx)
        .await
        .unwrap();
    assert!(matches!(out, Outcome::Published(_)));
}

#[tokio::test]
async fn a_5xx_on_photos_is_unknown_and_not_repeated() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{PAGE}/photos")))
        .respond_with(json(500, "error_1.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    let post = Post::new().with_media(Media::url(
        Url::parse("https://cdn.example.com/a.jpg").unwrap(),
    ));
    let err = FacebookPagePublisher::new(h.client.clone())
        .publish(&Target::feed(page()), &post, &h.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome);
}

#[tokio::test]
async fn mixing_photos_and_a_video_is_refused_before_any_call() {
    let h = harness().await;
    let post = Post::new()
        .with_media(Media::url(
            Url::parse("https://cdn.example.com/a.jpg").unwrap(),
        ))
        .with_media(Media::url(
            Url::parse("https://cdn.example.com/b.mp4").unwrap(),
        ));
    let err = FacebookPagePublisher::new(h.client.clone())
        .publish(&Target::feed(page()), &post, &h.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(err.violation_list()[0].rule, "facebook.video.single");
}
