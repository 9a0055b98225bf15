//! Every platform rule, with a file that passes it and one that breaks it, naming the expected
//! violation. Images are encoded by `image`, videos are MP4s written box by box (tests/common).

mod common;

use std::time::Duration;

use cmis_core::{
    ErrorKind, InstagramOptions, Media, Platform, Post, Surface, TikTokOptions, url::Url,
};
use cmis_media::{Rules, validate, validate_with};
use common::{Mp4, TempDir, image};
use image::ImageFormat;

use Platform::{Facebook, Instagram, TikTok};
use Surface::{Feed, Reel, Story};

/// The rule names `post` breaks on `platform`/`surface`; empty when it passes.
fn broken(platform: Platform, surface: Surface, post: &Post) -> Vec<String> {
    broken_with(&Rules::for_target(platform, surface).unwrap(), post)
}

fn broken_with(rules: &Rules, post: &Post) -> Vec<String> {
    match validate_with(rules, post) {
        Ok(()) => Vec::new(),
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
            e.violation_list().iter().map(|v| v.rule.clone()).collect()
        }
    }
}

fn jpeg(w: u32, h: u32) -> Media {
    Media::bytes(Some(format!("{w}x{h}.jpg")), image(ImageFormat::Jpeg, w, h))
}

fn png(w: u32, h: u32) -> Media {
    Media::bytes(Some(format!("{w}x{h}.png")), image(ImageFormat::Png, w, h))
}

fn webp(w: u32, h: u32) -> Media {
    Media::bytes(
        Some(format!("{w}x{h}.webp")),
        image(ImageFormat::WebP, w, h),
    )
}

/// A real JPEG followed by `total - len` bytes of padding: the header is real, the size is big.
fn padded_jpeg(w: u32, h: u32, total: usize) -> Media {
    let mut bytes = image(ImageFormat::Jpeg, w, h);
    bytes.resize(total, 0);
    Media::bytes(Some("big.jpg".into()), bytes)
}

fn mp4(spec: Mp4) -> Media {
    Media::bytes(Some("clip.mp4".into()), spec.bytes())
}

/// A 9:16 1080×1920 H.264 video at 30 fps lasting `secs`.
fn video(secs: u32) -> Mp4 {
    Mp4 {
        frames: secs * 30,
        ..Mp4::default()
    }
}

/// A 9:16 VP9 WebM at 30 fps lasting 10 s.
fn webm() -> Media {
    Media::bytes(
        Some("clip.webm".into()),
        common::webm("webm", "V_VP9", 1080, 1920, 10_000.0, 30),
    )
}

fn post(media: Vec<Media>) -> Post {
    media
        .into_iter()
        .fold(Post::new().with_text("hello"), Post::with_media)
}

fn r(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

/// A sparse MP4 file of at least `size` bytes: real header boxes, then an mdat that fills it.
fn sparse_mp4(dir: &TempDir, name: &str, spec: &Mp4, size: u64) -> Media {
    use std::io::Write;
    let head = Mp4 {
        mdat_len: 0,
        moov_first: true,
        ..spec.clone()
    }
    .bytes();
    let head = &head[..head.len() - 8]; // drop the empty mdat box
    let path = dir.0.join(name);
    let mut f = std::fs::File::create(&path).unwrap();
    f.write_all(head).unwrap();
    f.write_all(&1u32.to_be_bytes()).unwrap(); // 64-bit size follows
    f.write_all(b"mdat").unwrap();
    let mdat_len = size - head.len() as u64;
    f.write_all(&mdat_len.to_be_bytes()).unwrap();
    f.set_len(size).unwrap();
    Media::path(path)
}

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
