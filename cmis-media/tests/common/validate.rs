//! Helpers for the validation tests: posts of generated media, and the rule names they break.

use cmis_core::{ErrorKind, Media, Platform, Post, Surface};
use cmis_media::{Rules, validate_with};
use image::ImageFormat;

use super::{Mp4, TempDir, image};

/// The rule names `post` breaks on `platform`/`surface`; empty when it passes.
pub fn broken(platform: Platform, surface: Surface, post: &Post) -> Vec<String> {
    broken_with(&Rules::for_target(platform, surface).unwrap(), post)
}

pub fn broken_with(rules: &Rules, post: &Post) -> Vec<String> {
    match validate_with(rules, post) {
        Ok(()) => Vec::new(),
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
            e.violation_list().iter().map(|v| v.rule.clone()).collect()
        }
    }
}

pub fn jpeg(w: u32, h: u32) -> Media {
    Media::bytes(Some(format!("{w}x{h}.jpg")), image(ImageFormat::Jpeg, w, h))
}

pub fn png(w: u32, h: u32) -> Media {
    Media::bytes(Some(format!("{w}x{h}.png")), image(ImageFormat::Png, w, h))
}

pub fn webp(w: u32, h: u32) -> Media {
    Media::bytes(
        Some(format!("{w}x{h}.webp")),
        image(ImageFormat::WebP, w, h),
    )
}

/// A real JPEG followed by `total - len` bytes of padding: the header is real, the size is big.
pub fn padded_jpeg(w: u32, h: u32, total: usize) -> Media {
    let mut bytes = image(ImageFormat::Jpeg, w, h);
    bytes.resize(total, 0);
    Media::bytes(Some("big.jpg".into()), bytes)
}

pub fn mp4(spec: Mp4) -> Media {
    Media::bytes(Some("clip.mp4".into()), spec.bytes())
}

/// A 9:16 1080×1920 H.264 video at 30 fps lasting `secs`.
pub fn video(secs: u32) -> Mp4 {
    Mp4 {
        frames: secs * 30,
        ..Mp4::default()
    }
}

/// A 9:16 VP9 WebM at 30 fps lasting 10 s.
pub fn webm() -> Media {
    Media::bytes(
        Some("clip.webm".into()),
        super::webm("webm", "V_VP9", 1080, 1920, 10_000.0, 30),
    )
}

pub fn post(media: Vec<Media>) -> Post {
    media
        .into_iter()
        .fold(Post::new().with_text("hello"), Post::with_media)
}

pub fn r(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

/// A sparse MP4 file of at least `size` bytes: real header boxes, then an mdat that fills it.
pub fn sparse_mp4(dir: &TempDir, name: &str, spec: &Mp4, size: u64) -> Media {
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
