//! Every rule is checked before any call: the server fails the test on any request.

mod common;

use cmis_core::{
    ErrorKind, Media, Platform, Post, Publisher, Target, TenantId, YouTubeOptions, YouTubePrivacy,
};
use common::*;
use time::macros::datetime;

fn video() -> Media {
    Media::bytes(Some("v.mp4".into()), video_bytes())
}

async fn refused(post: &Post) -> cmis_core::Error {
    let server = server().await;
    let env = env(&server).await;
    let publisher = publisher(&server);
    let err = publisher.validate(&target(), post).await.unwrap_err();
    let published = publisher
        .publish(&target(), post, &env.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), published.kind());
    assert!(env.checkpoints.checkpoints().is_empty());
    err
}

fn rules(err: &cmis_core::Error) -> Vec<String> {
    err.violation_list()
        .iter()
        .map(|v| v.rule.clone())
        .collect()
}

#[tokio::test]
async fn a_title_over_100_characters_is_refused() {
    let post = Post::new()
        .with_text(format!("{}\nbody", "t".repeat(101)))
        .with_media(video());
    let err = refused(&post).await;
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(rules(&err), ["youtube.title.max_chars"]);
}

#[tokio::test]
async fn a_description_over_5000_bytes_is_refused() {
    // 2 501 two-byte characters: 5 002 bytes, 2 501 characters.
    let post = Post::new()
        .with_text(format!("Title\n{}", "é".repeat(2501)))
        .with_media(video());
    let err = refused(&post).await;
    assert_eq!(rules(&err), ["youtube.description.max_bytes"]);
}

#[tokio::test]
async fn angle_brackets_in_the_title_are_refused() {
    let post = Post::new()
        .with_text("a <b> title\nbody")
        .with_media(video());
    assert_eq!(
        rules(&refused(&post).await),
        ["youtube.title.angle_brackets"]
    );
}

#[tokio::test]
async fn publish_at_with_public_privacy_is_refused() {
    let post = Post::new()
        .with_text("Title")
        .with_media(video())
        .with_youtube(
            YouTubeOptions::new()
                .with_privacy(YouTubePrivacy::Public)
                .with_publish_at(datetime!(2026-12-01 15:00 UTC)),
        );
    assert_eq!(
        rules(&refused(&post).await),
        ["youtube.publish_at.private_only"]
    );
}

#[tokio::test]
async fn a_media_url_is_unsupported() {
    let post = Post::new()
        .with_text("Title")
        .with_media(Media::url("https://example.com/v.mp4".parse().unwrap()));
    let err = refused(&post).await;
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert!(
        err.message()
            .contains("YouTube does not fetch media from a URL")
    );
}

#[tokio::test]
async fn a_post_without_a_video_or_for_another_platform_is_refused() {
    let err = refused(&Post::new().with_text("Title")).await;
    assert!(rules(&err).contains(&"youtube.media.video".to_owned()));
    let jpeg = Media::bytes(Some("a.jpg".into()), cmis_media::sample::jpeg(64, 64));
    let err = refused(&Post::new().with_text("Title").with_media(jpeg)).await;
    assert!(rules(&err).contains(&"youtube.media.video".to_owned()));

    let server = server().await;
    let tiktok = Target::feed(TenantId::new("t").account(Platform::TikTok, "x"));
    let err = publisher(&server)
        .validate(&tiktok, &Post::new().with_text("Title").with_media(video()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn every_broken_rule_is_reported_at_once() {
    let post = Post::new()
        .with_text(format!("{}<\n{}>", "t".repeat(100), "d".repeat(5000)))
        .with_media(video())
        .with_youtube(YouTubeOptions::new().with_tags(vec!["x".repeat(501)]));
    assert_eq!(
        rules(&refused(&post).await),
        [
            "youtube.title.max_chars",
            "youtube.title.angle_brackets",
            "youtube.description.max_bytes",
            "youtube.description.angle_brackets",
            "youtube.tags.max_chars",
        ]
    );
}

#[test]
fn a_chunk_size_must_be_a_multiple_of_256_kib() {
    let client = cmis_youtube::YouTubeClient::builder().build().unwrap();
    let p = cmis_youtube::YouTubePublisher::new(client);
    for bad in [0, 1, 262_145, 8_000_000] {
        let err = p.clone().with_chunk_size(bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad}");
    }
    assert_eq!(p.with_chunk_size(524_288).unwrap().chunk_size(), 524_288);
}
