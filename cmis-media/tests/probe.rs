//! Probing real files made by the test: images encoded with `image`, MP4s written box by box,
//! and broken, truncated, empty and mislabelled files, which must give typed errors.
#![allow(clippy::cast_possible_truncation)] // test data sizes are small and known

mod common;

use std::time::Duration;

use cmis_core::{ErrorKind, Media};
use cmis_media::{ColorType, Format, VideoCodec, probe, probe_bytes, probe_file};
use common::{Fragmented, Mp4, TempDir, image, rgba_image, webm};
use image::ImageFormat;

#[test]
fn jpeg_png_and_webp_headers_give_size_and_colour() {
    let dir = TempDir::new("probe-img");
    let jpg = dir.file("a.jpg", &image(ImageFormat::Jpeg, 640, 800));
    let info = probe_file(&jpg).unwrap();
    assert_eq!(info.format, Format::Jpeg);
    assert_eq!((info.width, info.height), (Some(640), Some(800)));
    assert_eq!(info.color, Some(ColorType::Rgb));
    assert_eq!(info.bit_depth, Some(8));
    assert_eq!(info.size_bytes, std::fs::metadata(&jpg).unwrap().len());
    assert_eq!(info.name, "a.jpg");
    assert!((info.aspect_ratio().unwrap() - 0.8).abs() < 1e-9);

    let png = probe_bytes("b.png", &rgba_image(ImageFormat::Png, 33, 17)).unwrap();
    assert_eq!(png.format, Format::Png);
    assert_eq!((png.width, png.height), (Some(33), Some(17)));
    assert_eq!(png.color, Some(ColorType::Rgba));
    assert_eq!(png.format.mime(), "image/png");

    let webp = probe_bytes("c.webp", &rgba_image(ImageFormat::WebP, 300, 200)).unwrap();
    assert_eq!(webp.format, Format::Webp);
    assert_eq!((webp.width, webp.height), (Some(300), Some(200)));
    assert!(webp.format.is_image() && !webp.format.is_video());

    let gif = probe_bytes("d.gif", &image(ImageFormat::Gif, 12, 34)).unwrap();
    assert_eq!(
        (gif.format, gif.width, gif.height),
        (Format::Gif, Some(12), Some(34))
    );
}

#[test]
fn lossy_and_extended_webp_headers_are_read() {
    // VP8 (lossy): RIFF header, "VP8 " chunk, frame tag, start code, 14-bit sizes.
    let mut vp8 = b"RIFF\0\0\0\0WEBPVP8 \0\0\0\0".to_vec();
    vp8.extend([0x30, 0x01, 0x00, 0x9D, 0x01, 0x2A]);
    vp8.extend(1080u16.to_le_bytes());
    vp8.extend(1350u16.to_le_bytes());
    let info = probe_bytes("lossy.webp", &vp8).unwrap();
    assert_eq!((info.width, info.height), (Some(1080), Some(1350)));
    // VP8X (extended) with the alpha and animation flags; sizes are 24-bit minus one.
    let mut vp8x = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0".to_vec();
    vp8x.extend([0x12, 0, 0, 0]);
    vp8x.extend(&1919u32.to_le_bytes()[..3]);
    vp8x.extend(&1079u32.to_le_bytes()[..3]);
    let info = probe_bytes("ext.webp", &vp8x).unwrap();
    assert_eq!((info.width, info.height), (Some(1920), Some(1080)));
    assert_eq!(info.animated, Some(true));
    assert_eq!(info.color, Some(ColorType::Rgba));
}

/// A fragmented MP4 (browsers' MediaRecorder, screen recorders) says 0 in `mvhd` and `mdhd`:
/// its length comes from `mvex/mehd`, or from the video track's samples over every `moof`
/// (with `trun` durations or `trex` defaults; other tracks' fragments do not count).
#[test]
fn a_fragmented_mp4_reports_its_real_duration_and_frame_rate() {
    let dir = TempDir::new("probe-fmp4");
    for (mehd, durations_in_trun) in [(true, true), (false, true), (false, false)] {
        let spec = Mp4 {
            frames: 1_800,
            fps: 30,
            fragments: Some(Fragmented {
                count: 30,
                mehd,
                durations_in_trun,
            }),
            ..Mp4::default()
        };
        let path = dir.file("rec.mp4", &spec.bytes());
        let info = probe_file(&path).unwrap();
        let case = format!("mehd {mehd}, durations in trun {durations_in_trun}");
        assert_eq!(info.duration, Some(Duration::from_secs(60)), "{case}");
        assert!((info.frame_rate.unwrap() - 30.0).abs() < 1e-9, "{case}");
        assert_eq!(info.video_codec, Some(VideoCodec::H264), "{case}");
    }
}

#[test]
fn mp4_gives_duration_codec_size_fps_and_moov_position() {
    let dir = TempDir::new("probe-mp4");
    let spec = Mp4 {
        audio: true,
        ..Mp4::default()
    };
    let path = dir.file("clip.mp4", &spec.bytes());
    let info = probe_file(&path).unwrap();
    assert_eq!(info.format, Format::Mp4);
    assert_eq!(info.format.mime(), "video/mp4");
    assert_eq!(info.duration, Some(Duration::from_secs(10)));
    assert_eq!(info.video_codec, Some(VideoCodec::H264));
    assert_eq!((info.width, info.height), (Some(1080), Some(1920)));
    assert!((info.frame_rate.unwrap() - 30.0).abs() < 1e-9);
    assert_eq!(info.moov_before_mdat, Some(true));
    assert_eq!(info.has_audio, Some(true));
    assert_eq!(info.rotation, Some(0));

    let late = Mp4 {
        moov_first: false,
        codec: *b"hvc1",
        fps: 25,
        frames: 100,
        ..Mp4::default()
    };
    let info = probe_bytes("late.mp4", &late.bytes()).unwrap();
    assert_eq!(info.moov_before_mdat, Some(false));
    assert_eq!(info.video_codec, Some(VideoCodec::Hevc));
    assert_eq!(info.duration, Some(Duration::from_secs(4)));
    assert!((info.frame_rate.unwrap() - 25.0).abs() < 1e-9);
    assert_eq!(info.has_audio, Some(false));
}

#[test]
fn quicktime_brand_and_rotation_are_honoured() {
    let mov = Mp4 {
        brand: *b"qt  ",
        width: 1920,
        height: 1080,
        rotate_90: true,
        codec: *b"apcn",
        ..Mp4::default()
    };
    let info = probe_bytes("phone.mov", &mov.bytes()).unwrap();
    assert_eq!(info.format, Format::Mov);
    assert_eq!(info.format.mime(), "video/quicktime");
    // Stored landscape, displayed portrait.
    assert_eq!((info.width, info.height), (Some(1080), Some(1920)));
    assert_eq!(info.rotation, Some(90));
    assert_eq!(info.video_codec, Some(VideoCodec::Other("apcn".into())));
}

#[test]
fn a_large_mdat_is_skipped_not_read() {
    // 256 MiB of sparse mdat: the probe must only read box headers.
    let dir = TempDir::new("probe-big");
    let spec = Mp4 {
        moov_first: false,
        mdat_len: 0,
        ..Mp4::default()
    };
    let mut bytes = spec.bytes();
    // Rewrite: ftyp, then a big mdat, then moov.
    let ftyp_len = u32::from_be_bytes(bytes[0..4].try_into().unwrap()) as usize;
    let mdat_at = ftyp_len;
    let big: u64 = 256 * 1024 * 1024;
    let moov = bytes.split_off(mdat_at + 8);
    bytes.truncate(mdat_at);
    let path = dir.0.join("big.mp4");
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut f = std::fs::File::create(&path).unwrap();
        f.write_all(&bytes).unwrap();
        f.write_all(&(big as u32 + 8).to_be_bytes()).unwrap();
        f.write_all(b"mdat").unwrap();
        f.seek(SeekFrom::Current(big as i64)).unwrap();
        f.write_all(&moov).unwrap();
    }
    let info = probe_file(&path).unwrap();
    assert_eq!(info.moov_before_mdat, Some(false));
    assert_eq!(info.duration, Some(Duration::from_secs(10)));
    assert!(info.size_bytes > big);
}

#[test]
fn webm_gives_duration_codec_size_and_frame_rate() {
    let info = probe_bytes("v.webm", &webm("webm", "V_VP9", 720, 1280, 12_500.0, 25)).unwrap();
    assert_eq!(info.format, Format::Webm);
    assert!(info.format.is_video());
    assert_eq!(info.format.mime(), "video/webm");
    assert_eq!(info.duration, Some(Duration::from_millis(12_500)));
    assert_eq!(info.video_codec, Some(VideoCodec::Vp9));
    assert_eq!((info.width, info.height), (Some(720), Some(1280)));
    assert!((info.frame_rate.unwrap() - 25.0).abs() < 1e-9);
    assert_eq!(info.has_audio, Some(true));
    let mkv = probe_bytes(
        "v.mkv",
        &webm("matroska", "V_MPEG4/ISO/AVC", 64, 48, 1000.0, 30),
    )
    .unwrap();
    assert_eq!(
        (mkv.format, mkv.video_codec),
        (Format::Matroska, Some(VideoCodec::H264))
    );
    // Only the EBML magic: a typed error, not a guess.
    let err = probe_bytes("cut.webm", b"\x1a\x45\xdf\xa3\x84\x42\x82\x84webm").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[test]
fn mislabelled_files_report_their_real_format() {
    let dir = TempDir::new("probe-label");
    let png_as_jpg = dir.file("photo.jpg", &image(ImageFormat::Png, 10, 10));
    assert_eq!(probe_file(&png_as_jpg).unwrap().format, Format::Png);

    let text_as_mp4 = dir.file("clip.mp4", b"this is not a video, just text\n");
    let err = probe_file(&text_as_mp4).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.message().starts_with("clip.mp4:"), "{err}");
    assert!(err.message().contains("the name says MP4"), "{err}");
}

#[test]
fn empty_missing_and_directory_inputs_are_invalid_input() {
    let dir = TempDir::new("probe-empty");
    let empty = dir.file("empty.jpg", b"");
    let err = probe_file(&empty).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.message().contains("empty"), "{err}");
    assert_eq!(
        probe_bytes("x", b"").unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    let missing = probe_file(&dir.0.join("nope.png")).unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::InvalidInput);
    assert_eq!(
        probe_file(&dir.0).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
}

#[test]
fn every_truncation_of_every_format_is_a_typed_error_or_a_result() {
    let files = [
        ("a.jpg", image(ImageFormat::Jpeg, 40, 30)),
        ("a.png", image(ImageFormat::Png, 40, 30)),
        ("a.webp", image(ImageFormat::WebP, 40, 30)),
        ("a.gif", image(ImageFormat::Gif, 40, 30)),
        ("a.mp4", Mp4::default().bytes()),
        (
            "b.mp4",
            Mp4 {
                moov_first: false,
                ..Mp4::default()
            }
            .bytes(),
        ),
    ];
    for (name, bytes) in &files {
        for cut in 0..bytes.len() {
            if let Err(e) = probe_bytes(name, &bytes[..cut]) {
                assert_eq!(
                    e.kind(),
                    ErrorKind::InvalidInput,
                    "{name} cut at {cut}: {e}"
                );
            }
        }
    }
    // Headers cut short are refused.
    let mp4 = Mp4 {
        moov_first: false,
        ..Mp4::default()
    }
    .bytes();
    let err = probe_bytes("cut.mp4", &mp4[..mp4.len() - 10]).unwrap_err();
    assert!(err.message().contains("truncated"), "{err}");
    let jpg = image(ImageFormat::Jpeg, 40, 30);
    assert!(probe_bytes("cut.jpg", &jpg[..4]).is_err());
}

#[test]
fn corrupt_headers_are_typed_errors() {
    let mut png = image(ImageFormat::Png, 8, 8);
    png[25] = 9; // no such colour type
    assert_eq!(
        probe_bytes("bad.png", &png).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    let mut mp4 = Mp4::default().bytes();
    mp4[24..28].copy_from_slice(&3u32.to_be_bytes()); // a box smaller than its header
    assert_eq!(
        probe_bytes("bad.mp4", &mp4).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    let zero = b"\xff\xd8\xff\xc0\x00\x11\x08\x00\x00\x00\x10\x03\x01\x22\x00";
    assert_eq!(
        probe_bytes("zero.jpg", zero).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
}

#[tokio::test]
async fn probe_takes_paths_and_bytes_but_not_urls() {
    let dir = TempDir::new("probe-async");
    let path = dir.file("a.png", &image(ImageFormat::Png, 5, 6));
    let info = probe(&Media::path(&path)).await.unwrap();
    assert_eq!(info.format, Format::Png);
    let info = probe(&Media::bytes(
        Some("b.jpg".into()),
        image(ImageFormat::Jpeg, 7, 8),
    ))
    .await
    .unwrap();
    assert_eq!((info.name.as_str(), info.width), ("b.jpg", Some(7)));
    let url = cmis_core::url::Url::parse("https://example.com/a.jpg").unwrap();
    let err = probe(&Media::url(url)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert!(err.message().contains("not downloaded for probing"));
}
