//! TikTok rules, each with a file that passes and one that breaks it, naming the expected
//! violation.

mod common;

use std::time::Duration;

use cmis_core::{Media, Platform, Post, Surface, TikTokOptions};
use cmis_media::Rules;
use common::validate::*;
use common::{Fragmented, Mp4, TempDir};

use Platform::TikTok;
use Surface::Feed;

// ---- TikTok ----

#[test]
fn tiktok_video_titles_count_utf16_units() {
    let ok = Post::new()
        .with_text("🎉".repeat(1100))
        .with_media(mp4(video(10)));
    assert_eq!(broken(TikTok, Feed, &ok), r(&[]));
    // 1101 characters, but 2202 UTF-16 units.
    let long = Post::new()
        .with_text("🎉".repeat(1101))
        .with_media(mp4(video(10)));
    assert_eq!(
        broken(TikTok, Feed, &long),
        r(&["tiktok.feed.caption.max_len"])
    );
}

#[test]
fn tiktok_photo_posts_have_a_4000_unit_description_and_a_90_unit_title() {
    let desc = |n: usize| {
        Post::new()
            .with_text("a".repeat(n))
            .with_media(jpeg(400, 400))
    };
    assert_eq!(broken(TikTok, Feed, &desc(4000)), r(&[]));
    assert_eq!(
        broken(TikTok, Feed, &desc(4001)),
        r(&["tiktok.feed.caption.max_len"])
    );
    let titled = |n: usize| {
        let mut options = TikTokOptions::new();
        options.photo_title = Some("t".repeat(n));
        desc(10).with_tiktok(options)
    };
    assert_eq!(broken(TikTok, Feed, &titled(90)), r(&[]));
    assert_eq!(
        broken(TikTok, Feed, &titled(91)),
        r(&["tiktok.feed.photo_title.max_len"])
    );
}

#[test]
fn tiktok_photos_are_jpeg_or_webp_at_most_1080p_and_20_mb() {
    assert_eq!(
        broken(
            TikTok,
            Feed,
            &post(vec![jpeg(1080, 1920), webp(1080, 1080)])
        ),
        r(&[])
    );
    assert_eq!(
        broken(TikTok, Feed, &post(vec![png(400, 400)])),
        r(&["tiktok.feed.image.format"])
    );
    // The 1086×1448 image that failed a whole carousel for Postiz (PR #1875).
    assert_eq!(
        broken(TikTok, Feed, &post(vec![jpeg(1086, 1448)])),
        r(&["tiktok.feed.image.max_width"])
    );
    assert_eq!(
        broken(TikTok, Feed, &post(vec![jpeg(1000, 1921)])),
        r(&["tiktok.feed.image.max_height"])
    );
    assert_eq!(
        broken(TikTok, Feed, &post(vec![padded_jpeg(400, 400, 20_000_000)])),
        r(&[])
    );
    assert_eq!(
        broken(TikTok, Feed, &post(vec![padded_jpeg(400, 400, 20_000_001)])),
        r(&["tiktok.feed.image.max_bytes"])
    );
}

#[test]
fn tiktok_posts_are_one_video_or_up_to_35_photos() {
    let photos = |n: usize| post((0..n).map(|_| jpeg(100, 100)).collect());
    assert_eq!(broken(TikTok, Feed, &photos(35)), r(&[]));
    assert_eq!(
        broken(TikTok, Feed, &photos(36)),
        r(&["tiktok.feed.media.max_items"])
    );
    assert_eq!(
        broken(TikTok, Feed, &post(vec![mp4(video(10)), mp4(video(10))])),
        r(&["tiktok.feed.media.max_videos"])
    );
    assert_eq!(
        broken(TikTok, Feed, &post(vec![jpeg(100, 100), mp4(video(10))])),
        r(&["tiktok.feed.media.mixed"])
    );
    assert_eq!(
        broken(TikTok, Feed, &Post::new().with_text("just words")),
        r(&["tiktok.feed.media.min_items"])
    );
}

#[test]
fn tiktok_videos_are_mp4_mov_or_webm_with_tiktok_codecs() {
    assert_eq!(broken(TikTok, Feed, &post(vec![webm()])), r(&[]));
    let vp9 = Mp4 {
        codec: *b"vp09",
        ..video(10)
    };
    assert_eq!(broken(TikTok, Feed, &post(vec![mp4(vp9)])), r(&[]));
    let av1 = Mp4 {
        codec: *b"av01",
        ..video(10)
    };
    assert_eq!(
        broken(TikTok, Feed, &post(vec![mp4(av1)])),
        r(&["tiktok.feed.video.codec"])
    );
    let mkv = Media::bytes(
        Some("a.mkv".into()),
        common::webm("matroska", "V_VP9", 1080, 1920, 10_000.0, 30),
    );
    let av1_webm = Media::bytes(
        Some("av1.webm".into()),
        common::webm("webm", "V_AV1", 1080, 1920, 10_000.0, 30),
    );
    assert_eq!(
        broken(TikTok, Feed, &post(vec![av1_webm])),
        r(&["tiktok.feed.video.codec"])
    );
    assert_eq!(
        broken(TikTok, Feed, &post(vec![mkv])),
        r(&["tiktok.feed.video.format"])
    );
}

#[test]
fn tiktok_videos_are_23_to_60_fps_and_360_to_4096_px() {
    let fps = |fps: u32| Mp4 {
        fps,
        frames: fps * 10,
        ..Mp4::default()
    };
    assert_eq!(broken(TikTok, Feed, &post(vec![mp4(fps(23))])), r(&[]));
    assert_eq!(
        broken(TikTok, Feed, &post(vec![mp4(fps(22))])),
        r(&["tiktok.feed.video.min_fps"])
    );
    assert_eq!(
        broken(TikTok, Feed, &post(vec![mp4(fps(61))])),
        r(&["tiktok.feed.video.max_fps"])
    );
    let size = |width, height| Mp4 {
        width,
        height,
        ..video(10)
    };
    assert_eq!(
        broken(TikTok, Feed, &post(vec![mp4(size(360, 4096))])),
        r(&[])
    );
    assert_eq!(
        broken(TikTok, Feed, &post(vec![mp4(size(359, 640))])),
        r(&["tiktok.feed.video.min_side"])
    );
    assert_eq!(
        broken(TikTok, Feed, &post(vec![mp4(size(2160, 4097))])),
        r(&["tiktok.feed.video.max_side"])
    );
}

#[test]
fn tiktok_duration_is_capped_by_the_creator() {
    let p = post(vec![mp4(video(200))]);
    assert_eq!(broken(TikTok, Feed, &p), r(&[]));
    let creator = Rules::for_target(TikTok, Feed)
        .unwrap()
        .with_max_video_duration(Duration::from_secs(180));
    assert_eq!(
        broken_with(&creator, &p),
        r(&["tiktok.feed.video.max_duration"])
    );
    assert_eq!(broken_with(&creator, &post(vec![mp4(video(180))])), r(&[]));
    // The creator's value never widens the API's 10 minutes.
    let generous = Rules::for_target(TikTok, Feed)
        .unwrap()
        .with_max_video_duration(Duration::from_secs(3600));
    assert_eq!(
        broken_with(&generous, &post(vec![mp4(video(601))])),
        r(&["tiktok.feed.video.max_duration"])
    );
}

/// A fragmented recording longer than TikTok's 10 minutes is refused like any other: its
/// length is read from its fragments (before, it reported none and passed).
#[test]
fn a_fragmented_recording_too_long_for_tiktok_is_refused() {
    let fragmented = |secs: u32| Mp4 {
        fragments: Some(Fragmented {
            count: 20,
            mehd: false,
            durations_in_trun: true,
        }),
        ..video(secs)
    };
    assert_eq!(
        broken(TikTok, Feed, &post(vec![mp4(fragmented(60))])),
        r(&[])
    );
    assert_eq!(
        broken(TikTok, Feed, &post(vec![mp4(fragmented(660))])),
        r(&["tiktok.feed.video.max_duration"])
    );
    // A file that does not say how long it is (here: the header of a recording whose
    // fragments never came) is refused where a duration limit applies, never waved through.
    let headless = Mp4 {
        fragments: Some(Fragmented {
            count: 0,
            mehd: false,
            durations_in_trun: true,
        }),
        ..video(60)
    };
    let err = cmis_media::validate(TikTok, Feed, &post(vec![mp4(headless)])).unwrap_err();
    let v = &err.violation_list()[0];
    assert_eq!(v.rule, "tiktok.feed.video.duration");
    assert!(v.actual.contains("unknown"), "{v:?}");
}

#[test]
fn tiktok_videos_are_at_most_4_gb() {
    let dir = TempDir::new("val-tt-size");
    let ok = sparse_mp4(&dir, "ok.mp4", &video(10), 4_000_000_000);
    assert_eq!(broken(TikTok, Feed, &post(vec![ok])), r(&[]));
    let big = sparse_mp4(&dir, "big.mp4", &video(10), 4_000_000_001);
    assert_eq!(
        broken(TikTok, Feed, &post(vec![big])),
        r(&["tiktok.feed.video.max_bytes"])
    );
}
