//! Media files made by the tests themselves: images encoded with `image`, and a minimal MP4
//! written box by box (ISO/IEC 14496-12 layouts), so no binary fixture is needed.
#![allow(
    dead_code,
    unreachable_pub,
    unused_imports,
    clippy::cast_possible_truncation
)]

pub mod validate;

use std::io::Cursor;
use std::path::PathBuf;

use image::{ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};

/// Encodes a `w`×`h` RGB gradient in `format` (JPEG, PNG or lossless WebP).
pub fn image(format: ImageFormat, w: u32, h: u32) -> Vec<u8> {
    let img = RgbImage::from_fn(w, h, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, 128]));
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).expect("encode test image");
    out.into_inner()
}

/// Encodes a `w`×`h` half-transparent RGBA image in `format`.
pub fn rgba_image(format: ImageFormat, w: u32, h: u32) -> Vec<u8> {
    let img = RgbaImage::from_fn(w, h, |x, _| {
        Rgba([255, 0, 0, if x % 2 == 0 { 0 } else { 255 }])
    });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).expect("encode test image");
    out.into_inner()
}

/// What the test MP4 says about itself.
#[derive(Clone, Debug)]
pub struct Mp4 {
    pub brand: [u8; 4],
    pub codec: [u8; 4],
    pub width: u16,
    pub height: u16,
    /// Frames in the video track.
    pub frames: u32,
    /// Frames per second, as a timescale of `fps * 1000` and a sample delta of 1000.
    pub fps: u32,
    pub moov_first: bool,
    pub rotate_90: bool,
    pub audio: bool,
    /// Extra bytes of `mdat` payload.
    pub mdat_len: usize,
    /// Fragmented, as browsers and screen recorders write it: `mvhd`, `mdhd` and `stts` say
    /// nothing, the frames are in this many `moof` fragments, and `mvex/mehd` gives the length
    /// when `mehd` is set.
    pub fragments: Option<Fragmented>,
}

/// How a fragmented test MP4 is laid out.
#[derive(Clone, Copy, Debug)]
pub struct Fragmented {
    pub count: u32,
    pub mehd: bool,
    /// Sample durations in `trun` (else the `trex` default).
    pub durations_in_trun: bool,
}

impl Default for Mp4 {
    fn default() -> Self {
        Self {
            brand: *b"isom",
            codec: *b"avc1",
            width: 1080,
            height: 1920,
            frames: 300,
            fps: 30,
            moov_first: true,
            rotate_90: false,
            audio: false,
            mdat_len: 64,
            fragments: None,
        }
    }
}

fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(body);
    out
}

fn full(kind: &[u8; 4], version: u8, body: &[u8]) -> Vec<u8> {
    let mut b = vec![version, 0, 0, 0];
    b.extend_from_slice(body);
    bx(kind, &b)
}

fn be32(v: u32) -> [u8; 4] {
    v.to_be_bytes()
}

fn matrix(rotate_90: bool) -> Vec<u8> {
    let one = 0x0001_0000u32;
    let m: [u32; 9] = if rotate_90 {
        [0, one, 0, 0u32.wrapping_sub(one), 0, 0, 0, 0, 0x4000_0000]
    } else {
        [one, 0, 0, 0, one, 0, 0, 0, 0x4000_0000]
    };
    m.iter().flat_map(|v| v.to_be_bytes()).collect()
}

impl Mp4 {
    /// The movie duration in milliseconds.
    pub fn duration_ms(&self) -> u32 {
        self.frames * 1000 / self.fps
    }

    fn tkhd(&self, id: u32, w: u16, h: u16) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend(be32(0)); // creation
        b.extend(be32(0)); // modification
        b.extend(be32(id));
        b.extend(be32(0)); // reserved
        b.extend(be32(self.duration_ms()));
        b.extend([0u8; 8]); // reserved
        b.extend([0u8; 8]); // layer, alternate group, volume, reserved
        b.extend(matrix(self.rotate_90 && w > 0));
        b.extend(be32(u32::from(w) << 16));
        b.extend(be32(u32::from(h) << 16));
        full(b"tkhd", 0, &b)
    }

    fn mdhd(timescale: u32, duration: u32) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend(be32(0));
        b.extend(be32(0));
        b.extend(be32(timescale));
        b.extend(be32(duration));
        b.extend([0x55, 0xC4, 0, 0]); // language "und", pre_defined
        full(b"mdhd", 0, &b)
    }

    fn hdlr(kind: &[u8; 4]) -> Vec<u8> {
        let mut b = be32(0).to_vec();
        b.extend(kind);
        b.extend([0u8; 12]);
        b.extend(b"handler\0");
        full(b"hdlr", 0, &b)
    }

    fn stbl(entry: Vec<u8>, samples: u32, delta: u32) -> Vec<u8> {
        let mut stsd = be32(1).to_vec();
        stsd.extend(entry);
        let mut stts = be32(1).to_vec();
        stts.extend(be32(samples));
        stts.extend(be32(delta));
        let mut body = full(b"stsd", 0, &stsd);
        body.extend(full(b"stts", 0, &stts));
        body.extend(full(b"stsc", 0, &be32(0)));
        let mut stsz = be32(0).to_vec();
        stsz.extend(be32(0));
        body.extend(full(b"stsz", 0, &stsz));
        body.extend(full(b"stco", 0, &be32(0)));
        bx(b"stbl", &body)
    }

    fn video_trak(&self) -> Vec<u8> {
        let mut entry = Vec::new();
        entry.extend([0u8; 6]);
        entry.extend(1u16.to_be_bytes()); // data reference index
        entry.extend([0u8; 16]); // pre_defined, reserved
        entry.extend(self.width.to_be_bytes());
        entry.extend(self.height.to_be_bytes());
        entry.extend(be32(0x0048_0000)); // 72 dpi
        entry.extend(be32(0x0048_0000));
        entry.extend(be32(0));
        entry.extend(1u16.to_be_bytes()); // frame count
        entry.extend([0u8; 32]); // compressor name
        entry.extend(0x18u16.to_be_bytes());
        entry.extend(0xFFFFu16.to_be_bytes());
        let entry = bx(&self.codec, &entry);
        let timescale = self.fps * 1000;
        let fragmented = self.fragments.is_some();
        let stbl = if fragmented {
            Self::stbl(entry, 0, 0)
        } else {
            Self::stbl(entry, self.frames, 1000)
        };
        let mut minf = full(b"vmhd", 0, &[0u8; 8]);
        minf.extend(stbl);
        let mut mdia = Self::mdhd(timescale, if fragmented { 0 } else { self.frames * 1000 });
        mdia.extend(Self::hdlr(b"vide"));
        mdia.extend(bx(b"minf", &minf));
        let mut trak = self.tkhd(1, self.width, self.height);
        trak.extend(bx(b"mdia", &mdia));
        bx(b"trak", &trak)
    }

    fn audio_trak(&self) -> Vec<u8> {
        let mut entry = vec![0u8; 6];
        entry.extend(1u16.to_be_bytes());
        entry.extend([0u8; 8]);
        entry.extend(2u16.to_be_bytes()); // channels
        entry.extend(16u16.to_be_bytes()); // sample size
        entry.extend([0u8; 4]);
        entry.extend(be32(48_000 << 16));
        let entry = bx(b"mp4a", &entry);
        let samples = self.duration_ms() * 48 / 1024;
        let mut minf = full(b"smhd", 0, &[0u8; 4]);
        minf.extend(Self::stbl(entry, samples, 1024));
        let mut mdia = Self::mdhd(48_000, self.duration_ms() * 48);
        mdia.extend(Self::hdlr(b"soun"));
        mdia.extend(bx(b"minf", &minf));
        let mut trak = self.tkhd(2, 0, 0);
        trak.extend(bx(b"mdia", &mdia));
        bx(b"trak", &trak)
    }

    /// The file's bytes.
    pub fn bytes(&self) -> Vec<u8> {
        let mut ftyp = self.brand.to_vec();
        ftyp.extend(be32(0x200));
        ftyp.extend(self.brand);
        ftyp.extend(b"mp41");
        let ftyp = bx(b"ftyp", &ftyp);
        let mut mvhd = Vec::new();
        mvhd.extend(be32(0));
        mvhd.extend(be32(0));
        mvhd.extend(be32(1000)); // timescale
        mvhd.extend(be32(if self.fragments.is_some() {
            0
        } else {
            self.duration_ms()
        }));
        mvhd.extend(be32(0x0001_0000)); // rate 1.0
        mvhd.extend([1u8, 0]); // volume 1.0
        mvhd.extend([0u8; 10]);
        mvhd.extend(matrix(false));
        mvhd.extend([0u8; 24]);
        mvhd.extend(be32(3)); // next track id
        let mut moov = full(b"mvhd", 0, &mvhd);
        moov.extend(self.video_trak());
        if self.audio {
            moov.extend(self.audio_trak());
        }
        let mut fragments = Vec::new();
        if let Some(f) = self.fragments {
            let mut mvex = Vec::new();
            if f.mehd {
                mvex.extend(full(b"mehd", 0, &be32(self.duration_ms())));
            }
            let mut trex = be32(1).to_vec(); // track 1
            trex.extend(be32(1)); // sample description
            trex.extend(be32(1000)); // default sample duration
            trex.extend(be32(0));
            trex.extend(be32(0));
            mvex.extend(full(b"trex", 0, &trex));
            moov.extend(bx(b"mvex", &mvex));
            let per = self.frames / f.count.max(1);
            for i in 0..f.count {
                let n = if i + 1 == f.count {
                    self.frames - per * (f.count - 1)
                } else {
                    per
                };
                let mut moof = full(b"mfhd", 0, &be32(i + 1));
                let mut traf = full(b"tfhd", 0, &be32(1)); // no defaults: trex's
                let mut trun = be32(n).to_vec();
                // data_offset, then per sample: duration and size (or size alone).
                trun.extend(be32(0));
                for _ in 0..n {
                    if f.durations_in_trun {
                        trun.extend(be32(1000));
                    }
                    trun.extend(be32(100));
                }
                let trun_flags: u32 = 0x001 | 0x200 | if f.durations_in_trun { 0x100 } else { 0 };
                let mut trun_box = vec![0u8];
                trun_box.extend(&trun_flags.to_be_bytes()[1..]);
                trun_box.extend(trun);
                traf.extend(bx(b"trun", &trun_box));
                // An audio track's fragment, which must not count.
                let mut audio_tfhd = vec![0u8, 0, 0, 0x08];
                audio_tfhd.extend(be32(2));
                audio_tfhd.extend(be32(1024));
                let mut audio_traf = bx(b"tfhd", &audio_tfhd);
                let mut audio_trun = vec![0u8, 0, 0, 0];
                audio_trun.extend(be32(500));
                audio_traf.extend(bx(b"trun", &audio_trun));
                moof.extend(bx(b"traf", &traf));
                moof.extend(bx(b"traf", &audio_traf));
                fragments.extend(bx(b"moof", &moof));
                fragments.extend(bx(b"mdat", &[0u8; 16]));
            }
        }
        let moov = bx(b"moov", &moov);
        let mdat = bx(b"mdat", &vec![0u8; self.mdat_len]);
        let mut out = ftyp;
        if self.fragments.is_some() {
            out.extend(moov);
            out.extend(fragments);
        } else if self.moov_first {
            out.extend(moov);
            out.extend(mdat);
        } else {
            out.extend(mdat);
            out.extend(moov);
        }
        out
    }
}

/// A fresh temporary directory for one test, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "cmis-media-{tag}-{}-{}",
            std::process::id(),
            fastrand_suffix()
        ));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        Self(dir)
    }

    /// Writes `bytes` to `name` in the directory and returns its path.
    pub fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, bytes).expect("write temp file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn fastrand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// An EBML element: id bytes, an 8-byte size, the body.
fn ebml(id: &[u8], body: &[u8]) -> Vec<u8> {
    let mut out = id.to_vec();
    out.push(0x01); // 8-byte size
    out.extend(&(body.len() as u64).to_be_bytes()[1..]);
    out.extend(body);
    out
}

fn ebml_uint(id: &[u8], v: u64) -> Vec<u8> {
    ebml(id, &v.to_be_bytes())
}

/// A WebM (or Matroska, with `doctype = "matroska"`) file with one video track: EBML header,
/// Segment with Info (duration), Tracks (codec, size, frame duration) and one empty Cluster.
pub fn webm(
    doctype: &str,
    codec: &str,
    width: u64,
    height: u64,
    duration_ms: f64,
    fps: u64,
) -> Vec<u8> {
    let mut header = ebml(&[0x42, 0x86], &[1]);
    header.extend(ebml(&[0x42, 0x82], doctype.as_bytes()));
    let mut out = ebml(&[0x1A, 0x45, 0xDF, 0xA3], &header);
    let mut info = ebml_uint(&[0x2A, 0xD7, 0xB1], 1_000_000);
    info.extend(ebml(&[0x44, 0x89], &duration_ms.to_be_bytes()));
    let mut video = ebml_uint(&[0xB0], width);
    video.extend(ebml_uint(&[0xBA], height));
    let mut entry = ebml_uint(&[0xD7], 1);
    entry.extend(ebml_uint(&[0x83], 1));
    entry.extend(ebml(&[0x86], codec.as_bytes()));
    entry.extend(ebml_uint(&[0x23, 0xE3, 0x83], 1_000_000_000 / fps));
    entry.extend(ebml(&[0xE0], &video));
    let mut audio = ebml_uint(&[0xD7], 2);
    audio.extend(ebml_uint(&[0x83], 2));
    audio.extend(ebml(&[0x86], b"A_OPUS"));
    let mut tracks = ebml(&[0xAE], &entry);
    tracks.extend(ebml(&[0xAE], &audio));
    let mut segment = ebml(&[0x15, 0x49, 0xA9, 0x66], &info);
    segment.extend(ebml(&[0x16, 0x54, 0xAE, 0x6B], &tracks));
    segment.extend(ebml(&[0x1F, 0x43, 0xB6, 0x75], &[0xE7, 0x81, 0x00]));
    out.extend(ebml(&[0x18, 0x53, 0x80, 0x67], &segment));
    out
}
