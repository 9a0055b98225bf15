//! Small, valid sample media made in memory, for demos, examples and tests: no binary fixture
//! has to be shipped, and every file passes the probe.
//!
//! ```
//! # mod cmis { pub use cmis_core::*; pub mod media { pub use cmis_media::*; } }
//! let video = cmis::media::sample::mp4(1080, 1920, 5, 30);
//! let info = cmis::media::probe_bytes("clip.mp4", &video)?;
//! assert_eq!(info.duration, Some(std::time::Duration::from_secs(5)));
//! # Ok::<(), cmis::Error>(())
//! ```

use std::io::Cursor;

use image::{ImageFormat, Rgb, RgbImage};

/// An H.264 MP4 (`avc1`, brand `isom`) of `width`×`height` pixels, `seconds` long at `fps`
/// frames per second, with `moov` before `mdat`. The frames hold no picture data: the file
/// is for probing and upload paths, not for playback.
pub fn mp4(width: u16, height: u16, seconds: u32, fps: u32) -> Vec<u8> {
    let fps = fps.max(1);
    let frames = seconds.saturating_mul(fps);
    let duration_ms = seconds.saturating_mul(1000);
    let ftyp = bx(
        b"ftyp",
        &[b"isom".as_slice(), &be32(0x200), b"isom", b"mp41"].concat(),
    );

    let mut mvhd = Vec::new();
    mvhd.extend(be32(0));
    mvhd.extend(be32(0));
    mvhd.extend(be32(1000)); // timescale: milliseconds
    mvhd.extend(be32(duration_ms));
    mvhd.extend(be32(0x0001_0000)); // rate 1.0
    mvhd.extend([1u8, 0]); // volume 1.0
    mvhd.extend([0u8; 10]);
    mvhd.extend(identity_matrix());
    mvhd.extend([0u8; 24]);
    mvhd.extend(be32(2)); // next track id

    let mut moov = full(b"mvhd", &mvhd);
    moov.extend(video_trak(width, height, frames, fps, duration_ms));
    let mut out = ftyp;
    out.extend(bx(b"moov", &moov));
    out.extend(bx(b"mdat", &[0u8; 64]));
    out
}

/// A `width`×`height` JPEG (an RGB gradient), or an empty vector if encoding fails.
pub fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let img = RgbImage::from_fn(width, height, |x, y| Rgb([low_byte(x), low_byte(y), 128]));
    let mut out = Cursor::new(Vec::new());
    match img.write_to(&mut out, ImageFormat::Jpeg) {
        Ok(()) => out.into_inner(),
        Err(_) => Vec::new(),
    }
}

fn low_byte(v: u32) -> u8 {
    v.to_be_bytes()[3]
}

fn be32(v: u32) -> [u8; 4] {
    v.to_be_bytes()
}

/// A box: 32-bit size, type, body.
fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let size = u32::try_from(body.len() + 8).unwrap_or(u32::MAX);
    let mut out = size.to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(body);
    out
}

/// A full box (version 0, no flags).
fn full(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8; 4];
    b.extend_from_slice(body);
    bx(kind, &b)
}

fn identity_matrix() -> Vec<u8> {
    let one = 0x0001_0000u32;
    [one, 0, 0, 0, one, 0, 0, 0, 0x4000_0000]
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .collect()
}

fn video_trak(width: u16, height: u16, frames: u32, fps: u32, duration_ms: u32) -> Vec<u8> {
    let mut tkhd = Vec::new();
    tkhd.extend(be32(0)); // creation
    tkhd.extend(be32(0)); // modification
    tkhd.extend(be32(1)); // track id
    tkhd.extend(be32(0));
    tkhd.extend(be32(duration_ms));
    tkhd.extend([0u8; 16]);
    tkhd.extend(identity_matrix());
    tkhd.extend(be32(u32::from(width) << 16));
    tkhd.extend(be32(u32::from(height) << 16));

    let mut entry = vec![0u8; 6];
    entry.extend(1u16.to_be_bytes()); // data reference index
    entry.extend([0u8; 16]);
    entry.extend(width.to_be_bytes());
    entry.extend(height.to_be_bytes());
    entry.extend(be32(0x0048_0000)); // 72 dpi
    entry.extend(be32(0x0048_0000));
    entry.extend(be32(0));
    entry.extend(1u16.to_be_bytes()); // frames per sample
    entry.extend([0u8; 32]); // compressor name
    entry.extend(0x18u16.to_be_bytes()); // depth
    entry.extend(0xFFFFu16.to_be_bytes());
    let mut stsd = be32(1).to_vec();
    stsd.extend(bx(b"avc1", &entry));
    let mut stts = be32(1).to_vec();
    stts.extend(be32(frames));
    stts.extend(be32(1000));
    let mut stbl = full(b"stsd", &stsd);
    stbl.extend(full(b"stts", &stts));
    stbl.extend(full(b"stsc", &be32(0)));
    stbl.extend(full(b"stsz", &[be32(0), be32(0)].concat()));
    stbl.extend(full(b"stco", &be32(0)));

    let mut minf = full(b"vmhd", &[0u8; 8]);
    minf.extend(bx(b"stbl", &stbl));
    let mut mdhd = Vec::new();
    mdhd.extend(be32(0));
    mdhd.extend(be32(0));
    mdhd.extend(be32(fps.saturating_mul(1000))); // timescale
    mdhd.extend(be32(frames.saturating_mul(1000)));
    mdhd.extend([0x55, 0xC4, 0, 0]); // language "und"
    let mut hdlr = be32(0).to_vec();
    hdlr.extend(b"vide");
    hdlr.extend([0u8; 12]);
    hdlr.extend(b"video\0");
    let mut mdia = full(b"mdhd", &mdhd);
    mdia.extend(full(b"hdlr", &hdlr));
    mdia.extend(bx(b"minf", &minf));
    let mut trak = full(b"tkhd", &tkhd);
    trak.extend(bx(b"mdia", &mdia));
    bx(b"trak", &trak)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Format, VideoCodec, probe_bytes};

    #[test]
    fn the_sample_mp4_probes_as_what_it_says() {
        let info = probe_bytes("s.mp4", &mp4(720, 1280, 4, 25)).unwrap();
        assert_eq!(info.format, Format::Mp4);
        assert_eq!((info.width, info.height), (Some(720), Some(1280)));
        assert_eq!(info.duration, Some(std::time::Duration::from_secs(4)));
        assert_eq!(info.video_codec, Some(VideoCodec::H264));
        assert_eq!(info.frame_rate.map(|f| f.round()), Some(25.0));
        assert_eq!(info.moov_before_mdat, Some(true));
    }

    #[test]
    fn the_sample_jpeg_probes_as_jpeg() {
        let info = probe_bytes("s.jpg", &jpeg(64, 48)).unwrap();
        assert_eq!(info.format, Format::Jpeg);
        assert_eq!((info.width, info.height), (Some(64), Some(48)));
    }
}
