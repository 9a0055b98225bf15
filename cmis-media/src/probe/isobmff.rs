//! MP4 and MOV: a small box walker. The top level is walked by reading box headers only (an
//! `mdat` of gigabytes is skipped, never read); the `moov` box alone is read into memory and
//! parsed for the movie duration and the video track's size, codec and frame rate. A
//! fragmented file's duration and frame rate come from `mvex/mehd` or its `moof` boxes.

use std::time::Duration;

use cmis_core::{Error, Result};

use super::source::{ReadAt, read_exact, read_up_to};
use crate::VideoCodec;

/// What an MP4/MOV file says about itself.
#[derive(Debug, Default)]
pub(crate) struct MovieInfo {
    pub(crate) duration: Option<Duration>,
    pub(crate) width: Option<u32>,
    pub(crate) height: Option<u32>,
    pub(crate) rotation: Option<u16>,
    pub(crate) frame_rate: Option<f64>,
    pub(crate) video_codec: Option<VideoCodec>,
    pub(crate) has_audio: bool,
    pub(crate) moov_before_mdat: Option<bool>,
    pub(crate) has_ftyp: bool,
}

/// Top-level boxes walked before giving up: real files have a handful.
const MAX_TOP_BOXES: u32 = 100_000;
/// Nesting depth and boxes per level inside `moov`.
const MAX_CHILDREN: usize = 100_000;

pub(crate) fn probe(src: &mut dyn ReadAt) -> Result<MovieInfo> {
    let size = src.size();
    let mut pos = 0u64;
    let mut moov: Option<(u64, u64)> = None;
    let mut mdat_seen = false;
    let mut moofs: Vec<(u64, u64)> = Vec::new();
    let mut info = MovieInfo::default();
    for _ in 0..MAX_TOP_BOXES {
        if pos >= size {
            break;
        }
        let head = read_exact(src, pos, 8, "a box header")?;
        let kind = [head[4], head[5], head[6], head[7]];
        let (len, header_len) = match u32::from_be_bytes([head[0], head[1], head[2], head[3]]) {
            0 => (size - pos, 8),
            1 => {
                let large = read_exact(src, pos + 8, 8, "a 64-bit box size")?;
                let mut b = [0u8; 8];
                b.copy_from_slice(&large);
                (u64::from_be_bytes(b), 16)
            }
            n => (u64::from(n), 8),
        };
        if len < header_len {
            return Err(Error::invalid_input(format!(
                "corrupt MP4: box '{}' at offset {pos} has an impossible size {len}",
                fourcc(&kind)
            )));
        }
        let end = pos.checked_add(len).ok_or_else(|| {
            Error::invalid_input(format!("corrupt MP4: box size {len} overflows"))
        })?;
        if end > size {
            return Err(Error::invalid_input(format!(
                "truncated: box '{}' at offset {pos} needs {len} bytes but the file ends at {size}",
                fourcc(&kind)
            )));
        }
        match &kind {
            b"ftyp" => info.has_ftyp = true,
            b"moov" if moov.is_none() => {
                moov = Some((pos + header_len, len - header_len));
                info.moov_before_mdat = Some(!mdat_seen);
            }
            b"mdat" => mdat_seen = true,
            b"moof" if moofs.len() < MAX_FRAGMENTS => {
                moofs.push((pos + header_len, len - header_len))
            }
            _ => {}
        }
        pos = end;
    }
    let Some((moov_at, moov_len)) = moov else {
        return Err(Error::invalid_input(
            "no 'moov' box: the file is truncated, still being written, or not an MP4/MOV",
        ));
    };
    let body = read_up_to(src, moov_at, moov_len)?;
    let fragments = parse_moov(&body, &mut info)?;
    if (info.duration.is_none() || info.frame_rate.is_none()) && !moofs.is_empty() {
        fragmented(src, &moofs, &fragments, &mut info)?;
    }
    Ok(info)
}

/// Fragments (`moof` boxes) read at most, and their bytes in all: a fragmented file of hours
/// has a few thousand, of kilobytes each.
const MAX_FRAGMENTS: usize = 100_000;
const MAX_FRAGMENT_BYTES: u64 = 64 * 1024 * 1024;

/// What `moov` says about fragments: the movie's timescale, `mvex/mehd`'s fragment duration,
/// the video track's id and timescale, and `trex`'s default sample duration per track.
#[derive(Debug, Default)]
struct Fragments {
    movie_timescale: Option<u32>,
    mehd: Option<u64>,
    video_track: Option<(u32, u32)>,
    trex_durations: Vec<(u32, u32)>,
}

/// A fragmented MP4 (as browsers and screen recorders write it) says 0 in `mvhd` and `mdhd`:
/// its length is `mvex/mehd`'s fragment duration, or else the sum of the video track's sample
/// durations over every fragment (`moof/traf/trun`, with `tfhd` and `trex` defaults).
fn fragmented(
    src: &mut dyn ReadAt,
    moofs: &[(u64, u64)],
    f: &Fragments,
    info: &mut MovieInfo,
) -> Result<()> {
    let Some((track, timescale)) = f.video_track else {
        if info.duration.is_none()
            && let (Some(ts), Some(d)) = (f.movie_timescale, f.mehd)
        {
            info.duration = to_duration(ts, d);
        }
        return Ok(());
    };
    let trex = f
        .trex_durations
        .iter()
        .find(|(id, _)| *id == track)
        .map_or(0, |(_, d)| *d);
    let (mut samples, mut units, mut read) = (0u64, 0u64, 0u64);
    for &(at, len) in moofs {
        read = read.saturating_add(len);
        if read > MAX_FRAGMENT_BYTES {
            return Err(Error::invalid_input(
                "fragmented MP4 with more than 64 MiB of fragment headers",
            ));
        }
        let moof = read_up_to(src, at, len)?;
        for (_, traf) in children(&moof)?.into_iter().filter(|(k, _)| k == b"traf") {
            let (s, u) = track_fragment(traf, track, trex)?;
            samples = samples.saturating_add(s);
            units = units.saturating_add(u);
        }
    }
    if info.duration.is_none() {
        info.duration = match (f.movie_timescale, f.mehd) {
            (Some(ts), Some(d)) => to_duration(ts, d),
            _ => None,
        }
        .or_else(|| to_duration(timescale, units));
    }
    if info.frame_rate.is_none() && samples > 0 && units > 0 && timescale > 0 {
        #[allow(clippy::cast_precision_loss)] // frame counts and timescales fit f64 well
        let fps = samples as f64 * f64::from(timescale) / units as f64;
        if fps.is_finite() {
            info.frame_rate = Some(fps);
        }
    }
    Ok(())
}

/// `(samples, duration units)` of one `traf` if it belongs to `track`.
fn track_fragment(traf: &[u8], track: u32, trex_duration: u32) -> Result<(u64, u64)> {
    let Some(tfhd) = child(traf, b"tfhd")? else {
        return Ok((0, 0));
    };
    if be_u32(tfhd, 4) != track {
        return Ok((0, 0));
    }
    let tf_flags = be_u32(tfhd, 0) & 0x00FF_FFFF;
    let mut at = 8;
    if tf_flags & 0x01 != 0 {
        at += 8; // base_data_offset
    }
    if tf_flags & 0x02 != 0 {
        at += 4; // sample_description_index
    }
    let default_duration = if tf_flags & 0x08 != 0 {
        be_u32(tfhd, at)
    } else {
        trex_duration
    };
    let (mut samples, mut units) = (0u64, 0u64);
    for (_, trun) in children(traf)?.into_iter().filter(|(k, _)| k == b"trun") {
        let flags = be_u32(trun, 0) & 0x00FF_FFFF;
        let count = u64::from(be_u32(trun, 4));
        let mut at = 8usize;
        if flags & 0x001 != 0 {
            at += 4; // data_offset
        }
        if flags & 0x004 != 0 {
            at += 4; // first_sample_flags
        }
        samples = samples.saturating_add(count);
        if flags & 0x100 == 0 {
            units = units.saturating_add(count.saturating_mul(u64::from(default_duration)));
            continue;
        }
        let per_sample = 4 * [0x100, 0x200, 0x400, 0x800]
            .iter()
            .filter(|bit| flags & *bit != 0)
            .count();
        let entries = trun.get(at..).unwrap_or(&[]);
        let listed = entries
            .chunks_exact(per_sample)
            .take(usize::try_from(count).map_err(|_| Error::invalid_input("corrupt MP4: 'trun'"))?);
        for entry in listed {
            units = units.saturating_add(u64::from(be_u32(entry, 0)));
        }
    }
    Ok((samples, units))
}

fn fourcc(kind: &[u8]) -> String {
    kind.iter()
        .map(|&c| {
            if c.is_ascii_graphic() || c == b' ' {
                c as char
            } else {
                '?'
            }
        })
        .collect()
}

/// The child boxes of a box body: `(type, body)`.
fn children(data: &[u8]) -> Result<Vec<([u8; 4], &[u8])>> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos + 8 <= data.len() {
        if out.len() >= MAX_CHILDREN {
            return Err(Error::invalid_input("corrupt MP4: too many boxes"));
        }
        let size32 = be_u32(data, pos);
        let kind = [data[pos + 4], data[pos + 5], data[pos + 6], data[pos + 7]];
        let (len, header_len) = match size32 {
            0 => (data.len() - pos, 8),
            1 => {
                let large = be_u64(data, pos + 8)
                    .ok_or_else(|| Error::invalid_input("truncated: 64-bit box size"))?;
                let len = usize::try_from(large)
                    .map_err(|_| Error::invalid_input("corrupt MP4: box too large"))?;
                (len, 16)
            }
            n => (n as usize, 8),
        };
        let end = pos.checked_add(len).filter(|&e| e <= data.len());
        let (Some(end), true) = (end, len >= header_len) else {
            return Err(Error::invalid_input(format!(
                "corrupt MP4: box '{}' inside 'moov' has an impossible size {len}",
                fourcc(&kind)
            )));
        };
        out.push((kind, &data[pos + header_len..end]));
        pos = end;
    }
    Ok(out)
}

fn child<'a>(data: &'a [u8], kind: &[u8; 4]) -> Result<Option<&'a [u8]>> {
    Ok(children(data)?
        .into_iter()
        .find(|(k, _)| k == kind)
        .map(|(_, body)| body))
}

fn be_u32(b: &[u8], i: usize) -> u32 {
    b.get(i..i.saturating_add(4))
        .map_or(0, |s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

fn be_u16(b: &[u8], i: usize) -> u16 {
    b.get(i..i.saturating_add(2))
        .map_or(0, |s| u16::from_be_bytes([s[0], s[1]]))
}

fn be_u64(b: &[u8], i: usize) -> Option<u64> {
    let s = b.get(i..i.checked_add(8)?)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Some(u64::from_be_bytes(a))
}

/// `(timescale, duration)` of an `mvhd` or `mdhd` body (same layout up to the duration).
fn timescale_and_duration(body: &[u8]) -> Option<(u32, u64)> {
    match body.first()? {
        0 => Some((be_u32(body, 12), u64::from(be_u32(body, 16)))).filter(|_| body.len() >= 20),
        1 => Some((be_u32(body, 20), be_u64(body, 24)?)),
        _ => None,
    }
}

fn to_duration(timescale: u32, units: u64) -> Option<Duration> {
    if timescale == 0 || units == 0 || units == u64::MAX || units == u64::from(u32::MAX) {
        // 0 and all-ones mean "unknown" (fragmented files put the length elsewhere).
        return None;
    }
    let ts = u64::from(timescale);
    let secs = units / ts;
    let rem = u128::from(units % ts);
    let nanos = u32::try_from(rem * 1_000_000_000 / u128::from(ts)).ok()?;
    Some(Duration::new(secs, nanos))
}

fn parse_moov(moov: &[u8], info: &mut MovieInfo) -> Result<Fragments> {
    let mut fragments = Fragments::default();
    let boxes = children(moov)?;
    if let Some((_, mvhd)) = boxes.iter().find(|(k, _)| k == b"mvhd")
        && let Some((ts, dur)) = timescale_and_duration(mvhd)
    {
        info.duration = to_duration(ts, dur);
        fragments.movie_timescale = Some(ts).filter(|ts| *ts > 0);
    }
    for (_, trak) in boxes.iter().filter(|(k, _)| k == b"trak") {
        let Some(mdia) = child(trak, b"mdia")? else {
            continue;
        };
        let handler = child(mdia, b"hdlr")?.and_then(|h| h.get(8..12));
        match handler {
            Some(b"soun") => info.has_audio = true,
            Some(b"vide") if info.video_codec.is_none() => {
                video_track(trak, mdia, info)?;
                let id = child(trak, b"tkhd")?.map(|t| {
                    if t.first() == Some(&1) {
                        be_u32(t, 4 + 16)
                    } else {
                        be_u32(t, 4 + 8)
                    }
                });
                let ts = child(mdia, b"mdhd")?
                    .and_then(timescale_and_duration)
                    .map(|(ts, _)| ts);
                if let (Some(id), Some(ts)) = (id, ts) {
                    fragments.video_track = Some((id, ts));
                }
            }
            _ => {}
        }
    }
    if let Some((_, mvex)) = boxes.iter().find(|(k, _)| k == b"mvex") {
        for (kind, body) in children(mvex)? {
            match &kind {
                b"mehd" => {
                    fragments.mehd = match body.first() {
                        Some(1) => be_u64(body, 4),
                        Some(0) => Some(u64::from(be_u32(body, 4))).filter(|_| body.len() >= 8),
                        _ => None,
                    }
                    .filter(|d| *d > 0);
                }
                b"trex" => fragments
                    .trex_durations
                    .push((be_u32(body, 4), be_u32(body, 12))),
                _ => {}
            }
        }
    }
    Ok(fragments)
}

fn video_track(trak: &[u8], mdia: &[u8], info: &mut MovieInfo) -> Result<()> {
    let mut rotated = false;
    if let Some(tkhd) = child(trak, b"tkhd")? {
        // Version 0 and 1 differ only in the widths of the time fields before the matrix.
        let base = if tkhd.first() == Some(&1) {
            4 + 32
        } else {
            4 + 20
        };
        let matrix = base + 16;
        let (a, b) = (be_u32(tkhd, matrix), be_u32(tkhd, matrix + 4));
        let (c, d) = (be_u32(tkhd, matrix + 12), be_u32(tkhd, matrix + 16));
        let w = be_u32(tkhd, matrix + 36) >> 16;
        let h = be_u32(tkhd, matrix + 40) >> 16;
        if a == 0 && d == 0 && b != 0 && c != 0 {
            rotated = true;
            // b = +1.0 (0x00010000) is a 90° rotation, b = -1.0 is 270°.
            info.rotation = Some(if b == 0x0001_0000 { 90 } else { 270 });
        } else if a == 0xFFFF_0000 && d == 0xFFFF_0000 {
            info.rotation = Some(180);
        } else {
            info.rotation = Some(0);
        }
        if w > 0 && h > 0 {
            (info.width, info.height) = if rotated {
                (Some(h), Some(w))
            } else {
                (Some(w), Some(h))
            };
        }
    }
    let mdhd = child(mdia, b"mdhd")?.and_then(timescale_and_duration);
    let stbl = match child(mdia, b"minf")? {
        Some(minf) => child(minf, b"stbl")?,
        None => None,
    };
    let Some(stbl) = stbl else {
        return Ok(());
    };
    if let Some(stsd) = child(stbl, b"stsd")?
        && let Some(entry) = stsd.get(8..)
        && entry.len() >= 36
    {
        info.video_codec = Some(VideoCodec::from_fourcc(&entry[4..8]));
        if info.width.is_none() {
            let (w, h) = (u32::from(be_u16(entry, 32)), u32::from(be_u16(entry, 34)));
            if w > 0 && h > 0 {
                (info.width, info.height) = if rotated {
                    (Some(h), Some(w))
                } else {
                    (Some(w), Some(h))
                };
            }
        }
    }
    if let (Some(stts), Some((ts, dur))) = (child(stbl, b"stts")?, mdhd) {
        let count = usize::try_from(be_u32(stts, 4)).unwrap_or(usize::MAX);
        let samples: u64 = stts
            .get(8..)
            .unwrap_or(&[])
            .chunks_exact(8)
            .take(count)
            .map(|e| u64::from(be_u32(e, 0)))
            .sum();
        if samples > 0 && ts > 0 && dur > 0 {
            #[allow(clippy::cast_precision_loss)] // frame counts and timescales fit f64 well
            let fps = samples as f64 * f64::from(ts) / dur as f64;
            if fps.is_finite() {
                info.frame_rate = Some(fps);
            }
        }
        if info.duration.is_none() {
            info.duration = to_duration(ts, dur);
        }
    }
    Ok(())
}
