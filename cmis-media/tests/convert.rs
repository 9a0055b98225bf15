//! Conversion to sRGB JPEG, downscaling to a platform's maximum, thumbnails and cover frames.

mod common;

use std::time::Duration;

use cmis_core::{ErrorKind, InstagramOptions, Media, Platform, Post, Surface};
use cmis_media::{
    ConvertOptions, Format, Rules, prepare_image, probe_bytes, thumbnail, to_jpeg, validate,
    video_cover_frame,
};
use common::{Mp4, TempDir, image, rgba_image};
use image::ImageFormat;

fn instagram_image_rules() -> cmis_media::ImageRules {
    Rules::for_target(Platform::Instagram, Surface::Feed)
        .unwrap()
        .image
        .unwrap()
}

#[test]
fn png_becomes_a_jpeg_instagram_accepts() {
    let png = image(ImageFormat::Png, 2000, 1200);
    let before = Post::new().with_media(Media::bytes(Some("wide.png".into()), png.clone()));
    assert!(validate(Platform::Instagram, Surface::Feed, &before).is_err());

    let out = prepare_image(&instagram_image_rules(), "wide.png", &png).unwrap();
    assert_eq!(
        (out.format, out.width, out.height),
        (Format::Jpeg, 1440, 864)
    );
    assert_eq!(out.name, "wide.jpg");
    let info = probe_bytes(&out.name, &out.bytes).unwrap();
    assert_eq!(
        (info.format, info.width, info.height),
        (Format::Jpeg, Some(1440), Some(864))
    );
    assert_eq!(info.color, Some(cmis_media::ColorType::Rgb));
    // No ICC profile (APP2 "ICC_PROFILE") is written: the pixels are plain sRGB.
    assert!(!out.bytes.windows(11).any(|w| w == b"ICC_PROFILE"));
    let after = Post::new().with_media(Media::bytes(Some(out.name.clone()), out.bytes));
    validate(Platform::Instagram, Surface::Feed, &after).unwrap();
}

#[test]
fn webp_and_transparent_png_are_flattened_onto_white() {
    let webp = rgba_image(ImageFormat::WebP, 400, 400);
    let out = to_jpeg("a.webp", &webp, &ConvertOptions::new()).unwrap();
    assert_eq!(
        (out.format, out.width, out.height),
        (Format::Jpeg, 400, 400)
    );
    let decoded = image::load_from_memory(&out.bytes).unwrap().to_rgb8();
    // Even columns are fully transparent red: they must come out white, not black.
    let px = decoded.get_pixel(10, 10).0;
    assert!(px.iter().all(|&c| c > 200), "{px:?}");
    let png = rgba_image(ImageFormat::Png, 64, 64);
    let out = to_jpeg("a.png", &png, &ConvertOptions::new()).unwrap();
    let px = image::load_from_memory(&out.bytes)
        .unwrap()
        .to_rgb8()
        .get_pixel(0, 0)
        .0;
    assert!(px.iter().all(|&c| c > 200), "{px:?}");
}

#[test]
fn an_acceptable_jpeg_is_returned_unchanged_and_a_large_one_downscaled() {
    let jpeg = image(ImageFormat::Jpeg, 1080, 1350);
    let out = prepare_image(&instagram_image_rules(), "ok.jpg", &jpeg).unwrap();
    assert_eq!(out.bytes.as_ref(), jpeg.as_slice());
    let big = image(ImageFormat::Jpeg, 1600, 2000);
    let out = prepare_image(&instagram_image_rules(), "big.jpg", &big).unwrap();
    assert_eq!((out.width, out.height), (1440, 1800));
}

#[test]
fn downscaling_fits_both_bounds_and_never_upscales() {
    let png = image(ImageFormat::Png, 1000, 3000);
    let opts = ConvertOptions::new()
        .with_max_width(1080)
        .with_max_height(1920);
    let out = to_jpeg("tall.png", &png, &opts).unwrap();
    assert_eq!((out.width, out.height), (640, 1920));
    let small = image(ImageFormat::Png, 50, 40);
    let out = to_jpeg("small.png", &small, &opts).unwrap();
    assert_eq!((out.width, out.height), (50, 40));
}

#[test]
fn heic_video_and_garbage_are_refused_with_typed_errors() {
    let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic\0\0\0\x08free";
    let err = to_jpeg("IMG_1.HEIC", heic, &ConvertOptions::new()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.message().contains("export the image as JPEG"), "{err}");
    let err = to_jpeg("clip.mp4", &Mp4::default().bytes(), &ConvertOptions::new()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let err = to_jpeg("x.png", b"not an image", &ConvertOptions::new()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    // A valid PNG header over corrupt pixel data.
    let mut png = image(ImageFormat::Png, 64, 64);
    let n = png.len();
    png[40..n - 20].fill(0x55);
    let err = to_jpeg("broken.png", &png, &ConvertOptions::new()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.message().starts_with("broken.png"), "{err}");
}

#[test]
fn instagram_conversion_option_is_what_validate_honours() {
    let png = image(ImageFormat::Png, 1600, 1200);
    let p = Post::new()
        .with_media(Media::bytes(Some("a.png".into()), png))
        .with_instagram(InstagramOptions::new().with_convert_media(true));
    // Too wide and not JPEG, but both are fixed by the conversion, so only the aspect is checked.
    validate(Platform::Instagram, Surface::Feed, &p).unwrap();
}

#[test]
fn exif_orientation_is_applied_by_probe_and_conversion() {
    use image::ImageEncoder;
    // A 40×20 landscape JPEG whose EXIF says "rotate 90° clockwise" (orientation 6), as phones write.
    let exif = b"MM\0*\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x06\0\0\0\0\0\0".to_vec();
    let pixels = image::RgbImage::from_pixel(40, 20, image::Rgb([200, 10, 10]));
    let mut jpeg = Vec::new();
    let mut encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90);
    encoder.set_exif_metadata(exif).unwrap();
    encoder
        .write_image(pixels.as_raw(), 40, 20, image::ExtendedColorType::Rgb8)
        .unwrap();
    let info = probe_bytes("phone.jpg", &jpeg).unwrap();
    assert_eq!(
        (info.width, info.height, info.rotation),
        (Some(20), Some(40), Some(90))
    );
    let out = to_jpeg("phone.jpg", &jpeg, &ConvertOptions::new()).unwrap();
    assert_eq!((out.width, out.height), (20, 40));
    // The output carries no EXIF, so its pixels must already be upright.
    let info = probe_bytes(&out.name, &out.bytes).unwrap();
    assert_eq!(
        (info.width, info.height, info.rotation),
        (Some(20), Some(40), None)
    );
}

#[test]
fn thumbnails_fit_the_box_and_keep_the_aspect_ratio() {
    let jpg = image(ImageFormat::Jpeg, 800, 600);
    let t = thumbnail("a.jpg", &jpg, 200).unwrap();
    assert_eq!((t.format, t.width, t.height), (Format::Jpeg, 200, 150));
    let t = thumbnail("a.png", &image(ImageFormat::Png, 100, 300), 400).unwrap();
    assert_eq!((t.width, t.height), (100, 300));
    assert_eq!(
        thumbnail("a.jpg", &jpg, 0).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
}

#[cfg(not(feature = "ffmpeg"))]
#[test]
fn video_cover_frames_need_the_ffmpeg_feature() {
    let dir = TempDir::new("cover");
    let path = dir.file("clip.mp4", &Mp4::default().bytes());
    let err = video_cover_frame(&path, Duration::from_secs(1), 320).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert!(err.message().contains("`ffmpeg` feature"), "{err}");
}

#[cfg(feature = "ffmpeg")]
#[test]
fn video_cover_frames_use_ffmpeg_when_present() {
    let dir = TempDir::new("cover");
    // The test MP4 has sample tables but no coded frames, so a present ffmpeg fails to decode it.
    let path = dir.file("clip.mp4", &Mp4::default().bytes());
    let err = video_cover_frame(&path, Duration::from_secs(1), 320).unwrap_err();
    let has_ffmpeg = std::process::Command::new("ffmpeg")
        .arg("-version")
        .output()
        .is_ok();
    let expected = if has_ffmpeg {
        ErrorKind::InvalidInput
    } else {
        ErrorKind::Unsupported
    };
    assert_eq!(err.kind(), expected, "{err}");
    let past_end = video_cover_frame(&path, Duration::from_secs(60), 320).unwrap_err();
    assert_eq!(past_end.kind(), ErrorKind::InvalidInput);
    let jpg = dir.file("a.jpg", &image(ImageFormat::Jpeg, 10, 10));
    assert_eq!(
        video_cover_frame(&jpg, Duration::ZERO, 320)
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
}
