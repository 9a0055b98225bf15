//! Instagram and Facebook rules, each with a file that passes and one that breaks it, naming
//! the expected violation. Images are encoded by `image`, videos written box by box (tests/common).

mod common;

use cmis_core::{InstagramOptions, Media, Platform, Post, Surface};
use cmis_media::{Rules, validate};
use common::validate::*;
use common::{Mp4, TempDir};
use image::ImageFormat;

use Platform::{Facebook, Instagram};
use Surface::{Feed, Reel, Story};

// ---- Instagram ----

#[test]
fn instagram_caption_length_counts_characters() {
    let ok = Post::new()
        .with_text("🎉".repeat(2200))
        .with_media(jpeg(400, 400));
    assert_eq!(broken(Instagram, Feed, &ok), r(&[]));
    let long = Post::new()
        .with_text("a".repeat(2201))
        .with_media(jpeg(400, 400));
    assert_eq!(
        broken(Instagram, Feed, &long),
        r(&["instagram.feed.caption.max_len"])
    );
}

#[test]
fn instagram_hashtags_default_to_five_and_are_configurable() {
    let five = Post::new()
        .with_text("#a #b #c #d #e")
        .with_media(jpeg(400, 400));
    assert_eq!(broken(Instagram, Feed, &five), r(&[]));
    let six = Post::new()
        .with_text("#a #b #c #d #e #f")
        .with_media(jpeg(400, 400));
    assert_eq!(
        broken(Instagram, Feed, &six),
        r(&["instagram.feed.caption.max_hashtags"])
    );
    let thirty = Rules::for_target(Instagram, Feed)
        .unwrap()
        .with_max_hashtags(Some(30));
    assert_eq!(broken_with(&thirty, &six), r(&[]));
}

#[test]
fn instagram_mentions_are_capped_at_twenty() {
    let names = |n: usize| {
        (0..n)
            .map(|i| format!("@user{i}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let ok = Post::new().with_text(names(20)).with_media(jpeg(400, 400));
    assert_eq!(broken(Instagram, Feed, &ok), r(&[]));
    let bad = Post::new().with_text(names(21)).with_media(jpeg(400, 400));
    assert_eq!(
        broken(Instagram, Feed, &bad),
        r(&["instagram.feed.caption.max_mentions"])
    );
}

#[test]
fn instagram_carousels_take_up_to_ten_items_and_need_one() {
    let ten = post((0..10).map(|_| jpeg(400, 400)).collect());
    assert_eq!(broken(Instagram, Feed, &ten), r(&[]));
    let mixed = post(vec![jpeg(400, 400), mp4(video(10))]);
    assert_eq!(broken(Instagram, Feed, &mixed), r(&[]));
    let eleven = post((0..11).map(|_| jpeg(400, 400)).collect());
    assert_eq!(
        broken(Instagram, Feed, &eleven),
        r(&["instagram.feed.media.max_items"])
    );
    assert_eq!(
        broken(Instagram, Feed, &post(vec![])),
        r(&["instagram.feed.media.min_items"])
    );
}

#[test]
fn instagram_takes_jpeg_only_unless_conversion_is_allowed() {
    assert_eq!(broken(Instagram, Feed, &post(vec![jpeg(400, 500)])), r(&[]));
    let png_post = post(vec![png(400, 500)]);
    let err = validate(Instagram, Feed, &png_post).unwrap_err();
    let v = &err.violation_list()[0];
    assert_eq!(v.rule, "instagram.feed.image.format");
    assert_eq!(v.subject, "400x500.png");
    assert_eq!(v.allowed, "JPEG");
    assert!(v.actual.starts_with("PNG"), "{v:?}");
    let converting = png_post.with_instagram(InstagramOptions::new().with_convert_media(true));
    assert_eq!(broken(Instagram, Feed, &converting), r(&[]));
    let webp_post = post(vec![webp(400, 500)]);
    assert_eq!(
        broken(Instagram, Feed, &webp_post),
        r(&["instagram.feed.image.format"])
    );
}

#[test]
fn heic_is_refused_with_a_clear_message_even_when_converting() {
    let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic\0\0\0\x08free".to_vec();
    let p = post(vec![Media::bytes(Some("IMG_0001.HEIC".into()), heic)])
        .with_instagram(InstagramOptions::new().with_convert_media(true));
    let err = validate(Instagram, Feed, &p).unwrap_err();
    let v = &err.violation_list()[0];
    assert_eq!(v.rule, "instagram.feed.image.format");
    assert!(v.actual.contains("cannot convert HEIC"), "{v:?}");
}

#[test]
fn instagram_refuses_cmyk_unless_converting() {
    // A JPEG header with a 4-component (CMYK) frame: the rule reads the header only.
    let mut cmyk = b"\xff\xd8\xff\xc0\x00\x14\x08\x01\x90\x01\x90\x04".to_vec();
    cmyk.extend([1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0, 4, 0x11, 0, 0xFF, 0xD9]);
    let p = post(vec![Media::bytes(Some("print.jpg".into()), cmyk)]);
    assert_eq!(
        broken(Instagram, Feed, &p),
        r(&["instagram.feed.image.color"])
    );
    let converting = p.with_instagram(InstagramOptions::new().with_convert_media(true));
    assert_eq!(broken(Instagram, Feed, &converting), r(&[]));
    // Grayscale is fine.
    let gray = {
        let img = image::GrayImage::from_pixel(400, 400, image::Luma([90]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Jpeg).unwrap();
        Media::bytes(Some("gray.jpg".into()), out.into_inner())
    };
    assert_eq!(broken(Instagram, Feed, &post(vec![gray])), r(&[]));
}

#[test]
fn instagram_images_are_at_most_8_mb() {
    let ok = post(vec![padded_jpeg(400, 400, 8_000_000)]);
    assert_eq!(broken(Instagram, Feed, &ok), r(&[]));
    let big = post(vec![padded_jpeg(400, 400, 8_000_001)]);
    assert_eq!(
        broken(Instagram, Feed, &big),
        r(&["instagram.feed.image.max_bytes"])
    );
}

#[test]
fn instagram_image_width_is_320_to_1440() {
    assert_eq!(broken(Instagram, Feed, &post(vec![jpeg(320, 320)])), r(&[]));
    assert_eq!(
        broken(Instagram, Feed, &post(vec![jpeg(1440, 1440)])),
        r(&[])
    );
    assert_eq!(
        broken(Instagram, Feed, &post(vec![jpeg(319, 319)])),
        r(&["instagram.feed.image.min_width"])
    );
    assert_eq!(
        broken(Instagram, Feed, &post(vec![jpeg(1441, 1441)])),
        r(&["instagram.feed.image.max_width"])
    );
}

#[test]
fn instagram_image_aspect_is_4_5_to_1_91() {
    assert_eq!(broken(Instagram, Feed, &post(vec![jpeg(400, 500)])), r(&[]));
    assert_eq!(broken(Instagram, Feed, &post(vec![jpeg(955, 500)])), r(&[]));
    assert_eq!(
        broken(Instagram, Feed, &post(vec![jpeg(400, 520)])),
        r(&["instagram.feed.image.aspect_ratio"])
    );
    assert_eq!(
        broken(Instagram, Feed, &post(vec![jpeg(1000, 500)])),
        r(&["instagram.feed.image.aspect_ratio"])
    );
    // Stories take any aspect ratio.
    assert_eq!(
        broken(Instagram, Story, &post(vec![jpeg(360, 640)])),
        r(&[])
    );
}

#[test]
fn instagram_reels_are_one_video_h264_or_hevc_in_mp4_or_mov() {
    assert_eq!(broken(Instagram, Reel, &post(vec![mp4(video(10))])), r(&[]));
    let hevc = Mp4 {
        codec: *b"hvc1",
        brand: *b"qt  ",
        ..video(10)
    };
    assert_eq!(broken(Instagram, Reel, &post(vec![mp4(hevc)])), r(&[]));
    let vp9 = Mp4 {
        codec: *b"vp09",
        ..video(10)
    };
    assert_eq!(
        broken(Instagram, Reel, &post(vec![mp4(vp9)])),
        r(&["instagram.reel.video.codec"])
    );
    assert_eq!(
        broken(Instagram, Reel, &post(vec![webm()])),
        // A VP9 WebM breaks both the container and the codec rule, and both are reported.
        r(&["instagram.reel.video.format", "instagram.reel.video.codec"])
    );
    assert_eq!(
        broken(Instagram, Reel, &post(vec![jpeg(400, 400)])),
        r(&["instagram.reel.media.max_images"])
    );
    assert_eq!(
        broken(Instagram, Reel, &post(vec![mp4(video(10)), mp4(video(10))])),
        r(&["instagram.reel.media.max_items"])
    );
}

#[test]
fn instagram_reels_last_3_s_to_15_min() {
    assert_eq!(broken(Instagram, Reel, &post(vec![mp4(video(3))])), r(&[]));
    assert_eq!(
        broken(Instagram, Reel, &post(vec![mp4(video(900))])),
        r(&[])
    );
    assert_eq!(
        broken(Instagram, Reel, &post(vec![mp4(video(2))])),
        r(&["instagram.reel.video.min_duration"])
    );
    assert_eq!(
        broken(Instagram, Reel, &post(vec![mp4(video(901))])),
        r(&["instagram.reel.video.max_duration"])
    );
    // Stories stop at 60 s.
    assert_eq!(
        broken(Instagram, Story, &post(vec![mp4(video(60))])),
        r(&[])
    );
    assert_eq!(
        broken(Instagram, Story, &post(vec![mp4(video(61))])),
        r(&["instagram.story.video.max_duration"])
    );
}

#[test]
fn instagram_reels_are_23_to_60_fps_at_most_1920_wide_and_fast_start() {
    let fps = |fps: u32| Mp4 {
        fps,
        frames: fps * 10,
        ..Mp4::default()
    };
    assert_eq!(broken(Instagram, Reel, &post(vec![mp4(fps(60))])), r(&[]));
    assert_eq!(broken(Instagram, Reel, &post(vec![mp4(fps(23))])), r(&[]));
    assert_eq!(
        broken(Instagram, Reel, &post(vec![mp4(fps(20))])),
        r(&["instagram.reel.video.min_fps"])
    );
    assert_eq!(
        broken(Instagram, Reel, &post(vec![mp4(fps(120))])),
        r(&["instagram.reel.video.max_fps"])
    );
    let wide = Mp4 {
        width: 2560,
        height: 1440,
        ..video(10)
    };
    assert_eq!(
        broken(Instagram, Reel, &post(vec![mp4(wide)])),
        r(&["instagram.reel.video.max_width"])
    );
    let sliver = Mp4 {
        width: 1900,
        height: 100,
        ..video(10)
    };
    assert_eq!(
        broken(Instagram, Reel, &post(vec![mp4(sliver)])),
        r(&["instagram.reel.video.aspect_ratio"])
    );
    let late = Mp4 {
        moov_first: false,
        ..video(10)
    };
    assert_eq!(
        broken(Instagram, Reel, &post(vec![mp4(late)])),
        r(&["instagram.reel.video.moov_first"])
    );
}

#[test]
fn instagram_reels_are_at_most_300_mb() {
    let dir = TempDir::new("val-ig-size");
    let ok = sparse_mp4(&dir, "ok.mp4", &video(10), 300_000_000);
    assert_eq!(broken(Instagram, Reel, &post(vec![ok])), r(&[]));
    let big = sparse_mp4(&dir, "big.mp4", &video(10), 300_000_001);
    assert_eq!(
        broken(Instagram, Reel, &post(vec![big])),
        r(&["instagram.reel.video.max_bytes"])
    );
}

// ---- Facebook ----

#[test]
fn facebook_allows_63_206_characters_and_text_only_posts() {
    let ok = Post::new().with_text("é".repeat(63_206));
    assert_eq!(broken(Facebook, Feed, &ok), r(&[]));
    let long = Post::new().with_text("é".repeat(63_207));
    assert_eq!(
        broken(Facebook, Feed, &long),
        r(&["facebook.feed.caption.max_len"])
    );
}

#[test]
fn facebook_posts_are_photos_or_one_video() {
    let photos = post(vec![jpeg(400, 400), png(300, 200)]);
    assert_eq!(broken(Facebook, Feed, &photos), r(&[]));
    assert_eq!(broken(Facebook, Feed, &post(vec![mp4(video(10))])), r(&[]));
    assert_eq!(
        broken(Facebook, Feed, &post(vec![jpeg(400, 400), mp4(video(10))])),
        r(&["facebook.feed.media.mixed"])
    );
    assert_eq!(
        broken(Facebook, Feed, &post(vec![mp4(video(10)), mp4(video(10))])),
        r(&["facebook.feed.media.max_videos"])
    );
    assert_eq!(
        broken(Facebook, Feed, &post(vec![webp(100, 100)])),
        r(&["facebook.feed.image.format"])
    );
    assert_eq!(
        broken(Facebook, Feed, &post(vec![webm()])),
        r(&["facebook.feed.video.format"])
    );
}

#[test]
fn facebook_reels_are_3_to_90_s_9_16_at_least_540x960_24_to_60_fps() {
    assert_eq!(broken(Facebook, Reel, &post(vec![mp4(video(90))])), r(&[]));
    assert_eq!(
        broken(Facebook, Reel, &post(vec![mp4(video(91))])),
        r(&["facebook.reel.video.max_duration"])
    );
    assert_eq!(
        broken(Facebook, Reel, &post(vec![mp4(video(2))])),
        r(&["facebook.reel.video.min_duration"])
    );
    let landscape = Mp4 {
        width: 1920,
        height: 1080,
        ..video(10)
    };
    assert_eq!(
        broken(Facebook, Reel, &post(vec![mp4(landscape)])),
        r(&["facebook.reel.video.aspect_ratio"])
    );
    let small = Mp4 {
        width: 360,
        height: 640,
        ..video(10)
    };
    assert_eq!(
        broken(Facebook, Reel, &post(vec![mp4(small)])),
        r(&[
            "facebook.reel.video.min_width",
            "facebook.reel.video.min_height"
        ])
    );
    let slow = Mp4 {
        fps: 23,
        frames: 230,
        ..Mp4::default()
    };
    assert_eq!(
        broken(Facebook, Reel, &post(vec![mp4(slow)])),
        r(&["facebook.reel.video.min_fps"])
    );
}
