//! Validation across platforms: every violation at once, URL media, files probed by content,
//! and surfaces a platform lacks.

mod common;

use cmis_core::{ErrorKind, Media, Platform, Post, Surface, url::Url};
use cmis_media::{Rules, validate};
use common::validate::*;
use common::{TempDir, image};
use image::ImageFormat;

use Platform::{Instagram, TikTok};
use Surface::{Feed, Reel, Story};

// ---- Across platforms ----

#[test]
fn every_violation_is_reported_at_once_with_file_and_values() {
    let p = Post::new()
        .with_text(format!("{} #a #b #c #d #e #f", "x".repeat(2200)))
        .with_media(png(200, 400))
        .with_media(Media::bytes(
            Some("notes.mp4".into()),
            b"plain text".to_vec(),
        ));
    let err = validate(Instagram, Feed, &p).unwrap_err();
    let rules: Vec<_> = err
        .violation_list()
        .iter()
        .map(|v| v.rule.as_str())
        .collect();
    assert_eq!(
        rules,
        [
            "instagram.feed.caption.max_len",
            "instagram.feed.caption.max_hashtags",
            "instagram.feed.image.format",
            "instagram.feed.image.min_width",
            "instagram.feed.image.aspect_ratio",
            "instagram.feed.media.readable",
        ]
    );
    let readable = &err.violation_list()[5];
    assert_eq!(readable.subject, "notes.mp4");
    assert!(
        readable.actual.contains("not a recognised image or video"),
        "{readable:?}"
    );
    let width = &err.violation_list()[3];
    assert_eq!(
        (width.actual.as_str(), width.allowed.as_str()),
        ("200 px", "at least 320 px")
    );
    assert!(
        err.to_string()
            .contains("200x400.png: instagram.feed.image.min_width is 200 px")
    );
}

#[test]
fn url_media_is_checked_by_count_and_extension_only() {
    let url = |s: &str| Media::url(Url::parse(s).unwrap());
    let ok = post(vec![url("https://cdn.example.com/a.jpg?sig=1")]);
    assert_eq!(broken(Instagram, Feed, &ok), r(&[]));
    let png_url = post(vec![url("https://cdn.example.com/a.png")]);
    let err = validate(Instagram, Feed, &png_url).unwrap_err();
    assert_eq!(err.violation_list()[0].rule, "instagram.feed.image.format");
    assert!(err.violation_list()[0].actual.contains("URL's extension"));
    let unknown = post(vec![url("https://cdn.example.com/media/12345")]);
    assert_eq!(broken(TikTok, Feed, &unknown), r(&[]));
    let two = post(vec![
        url("https://x.example/a.mp4"),
        url("https://x.example/b.mp4"),
    ]);
    assert_eq!(
        broken(Instagram, Reel, &two),
        r(&["instagram.reel.media.max_items"])
    );
}

#[test]
fn local_files_are_probed_by_content_not_name() {
    let dir = TempDir::new("val-files");
    let png_named_jpg = dir.file("photo.jpg", &image(ImageFormat::Png, 400, 400));
    assert_eq!(
        broken(Instagram, Feed, &post(vec![Media::path(png_named_jpg)])),
        r(&["instagram.feed.image.format"])
    );
    let missing = Media::path(dir.0.join("gone.jpg"));
    assert_eq!(
        broken(Instagram, Feed, &post(vec![missing])),
        r(&["instagram.feed.media.readable"])
    );
}

#[test]
fn surfaces_a_platform_lacks_are_unsupported() {
    let err = validate(TikTok, Story, &Post::new()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert_eq!(
        validate(Platform::Unknown, Feed, &Post::new())
            .unwrap_err()
            .kind(),
        ErrorKind::Unsupported
    );
    assert_eq!(
        Rules::for_target(TikTok, Feed).unwrap().version,
        cmis_media::RULES_VERSION
    );
}
