//! WebM and Matroska: an EBML walker over the Segment's `Info` and `Tracks` elements for the
//! duration, and the first video track's codec, size and (when the file states it) frame rate.
//! Clusters (the media data) are skipped by their size, never read.

use std::time::Duration;

use cmis_core::{Error, Result};

use super::source::{ReadAt, read_exact, read_up_to};
use crate::VideoCodec;

const EBML_HEADER: u32 = 0x1A45_DFA3;
const SEGMENT: u32 = 0x1853_8067;
const INFO: u32 = 0x1549_A966;
const TRACKS: u32 = 0x1654_AE6B;
const CLUSTER: u32 = 0x1F43_B675;
const TIMECODE_SCALE: u32 = 0x2A_D7B1;
const DURATION: u32 = 0x4489;
const TRACK_ENTRY: u32 = 0xAE;
const TRACK_TYPE: u32 = 0x83;
const CODEC_ID: u32 = 0x86;
const DEFAULT_DURATION: u32 = 0x23_E383;
const VIDEO: u32 = 0xE0;
const PIXEL_WIDTH: u32 = 0xB0;
const PIXEL_HEIGHT: u32 = 0xBA;

/// `Info` and `Tracks` larger than this are refused (real ones are a few kilobytes).
const MAX_HEADER_ELEMENT: u64 = 16 * 1024 * 1024;
/// Top-level elements walked before giving up.
const MAX_ELEMENTS: u32 = 100_000;

/// What a WebM/Matroska file says about itself.
#[derive(Debug, Default)]
pub(crate) struct WebmInfo {
    pub(crate) duration: Option<Duration>,
    pub(crate) width: Option<u32>,
    pub(crate) height: Option<u32>,
    pub(crate) frame_rate: Option<f64>,
    pub(crate) video_codec: Option<VideoCodec>,
    pub(crate) has_audio: bool,
}

/// A variable-length integer: `(value, length)`. With `keep_marker` (element ids) the length
/// marker bit stays in the value. An all-ones size ("unknown") is `u64::MAX`.
fn vint(bytes: &[u8], keep_marker: bool) -> Option<(u64, usize)> {
    let first = *bytes.first()?;
    let len = usize::try_from(first.leading_zeros()).ok()? + 1;
    if len > 8 || bytes.len() < len {
        return None;
    }
    let mut value = if keep_marker {
        u64::from(first)
    } else {
        u64::from(first) & ((1u64 << (8 - len)) - 1)
    };
    for &b in &bytes[1..len] {
        value = (value << 8) | u64::from(b);
    }
    let all_ones = (1u64 << (7 * len)) - 1;
    if !keep_marker && value == all_ones {
        value = u64::MAX;
    }
    Some((value, len))
}

/// An element header: `(id, body size, header length)`.
fn header(bytes: &[u8]) -> Option<(u32, u64, usize)> {
    let (id, id_len) = vint(bytes, true)?;
    if id_len > 4 {
        return None;
    }
    let (size, size_len) = vint(bytes.get(id_len..)?, false)?;
    Some((u32::try_from(id).ok()?, size, id_len + size_len))
}

/// The elements of an in-memory body: `(id, body)`.
fn elements(mut data: &[u8]) -> Vec<(u32, &[u8])> {
    let mut out = Vec::new();
    while let Some((id, size, head)) = header(data) {
        let rest = &data[head..];
        let len = usize::try_from(size).unwrap_or(usize::MAX).min(rest.len());
        out.push((id, &rest[..len]));
        data = &rest[len..];
        if out.len() > 100_000 {
            break;
        }
    }
    out
}

fn uint(body: &[u8]) -> Option<u64> {
    if body.is_empty() || body.len() > 8 {
        return None;
    }
    Some(body.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
}

fn float(body: &[u8]) -> Option<f64> {
    match body.len() {
        4 => Some(f64::from(f32::from_be_bytes(body.try_into().ok()?))),
        8 => Some(f64::from_be_bytes(body.try_into().ok()?)),
        _ => None,
    }
}

pub(crate) fn probe(src: &mut dyn ReadAt) -> Result<WebmInfo> {
    let size = src.size();
    let head = read_exact(src, 0, 12, "the EBML header")?;
    let (id, ebml_len, ebml_head) =
        header(&head).ok_or_else(|| Error::invalid_input("corrupt WebM: bad EBML header"))?;
    if id != EBML_HEADER || ebml_len == u64::MAX {
        return Err(Error::invalid_input("corrupt WebM: bad EBML header"));
    }
    let mut pos = (ebml_head as u64).saturating_add(ebml_len);
    // Find the Segment.
    let seg = read_exact(src, pos, 12, "the Segment header")?;
    let (id, seg_len, seg_head) =
        header(&seg).ok_or_else(|| Error::invalid_input("corrupt WebM: bad Segment header"))?;
    if id != SEGMENT {
        return Err(Error::invalid_input(
            "corrupt WebM: no Segment after the header",
        ));
    }
    pos += seg_head as u64;
    let end = if seg_len == u64::MAX {
        size
    } else {
        pos.saturating_add(seg_len).min(size)
    };
    let mut info = WebmInfo::default();
    let (mut scale, mut raw_duration) = (1_000_000u64, None);
    let (mut seen_info, mut seen_tracks) = (false, false);
    for _ in 0..MAX_ELEMENTS {
        if pos >= end || (seen_info && seen_tracks) {
            break;
        }
        let h = read_up_to(src, pos, 12)?;
        let Some((id, len, head_len)) = header(&h) else {
            return Err(Error::invalid_input(format!(
                "corrupt WebM: bad element header at offset {pos}"
            )));
        };
        let body_at = pos + head_len as u64;
        if id == CLUSTER && len == u64::MAX {
            break; // A live stream: the headers we need come before the first cluster.
        }
        if id == INFO || id == TRACKS {
            if len > MAX_HEADER_ELEMENT {
                return Err(Error::invalid_input(
                    "corrupt WebM: oversized header element",
                ));
            }
            let body = read_exact(src, body_at, len, "a WebM header element")?;
            if id == INFO {
                seen_info = true;
                for (cid, cbody) in elements(&body) {
                    match cid {
                        TIMECODE_SCALE => scale = uint(cbody).unwrap_or(scale),
                        DURATION => raw_duration = float(cbody),
                        _ => {}
                    }
                }
            } else {
                seen_tracks = true;
                tracks(&body, &mut info);
            }
        }
        if len == u64::MAX {
            break;
        }
        pos = body_at.saturating_add(len);
    }
    if let Some(d) = raw_duration {
        #[allow(clippy::cast_precision_loss)] // the scale is a small integer (1 000 000 by default)
        let secs = d * scale as f64 / 1e9;
        info.duration = Duration::try_from_secs_f64(secs).ok();
    }
    Ok(info)
}

fn tracks(body: &[u8], info: &mut WebmInfo) {
    for (_, entry) in elements(body)
        .into_iter()
        .filter(|(id, _)| *id == TRACK_ENTRY)
    {
        let children = elements(entry);
        let kind = children
            .iter()
            .find(|(id, _)| *id == TRACK_TYPE)
            .and_then(|(_, b)| uint(b));
        match kind {
            Some(2) => info.has_audio = true,
            Some(1) if info.video_codec.is_none() => {
                for (id, b) in &children {
                    match *id {
                        CODEC_ID => info.video_codec = Some(codec(b)),
                        DEFAULT_DURATION => {
                            #[allow(clippy::cast_precision_loss)] // nanoseconds per frame
                            let fps = uint(b).filter(|&ns| ns > 0).map(|ns| 1e9 / ns as f64);
                            info.frame_rate = fps;
                        }
                        VIDEO => {
                            for (vid, vb) in elements(b) {
                                let v = uint(vb).and_then(|v| u32::try_from(v).ok());
                                match vid {
                                    PIXEL_WIDTH => info.width = v.filter(|&v| v > 0),
                                    PIXEL_HEIGHT => info.height = v.filter(|&v| v > 0),
                                    _ => {}
                                }
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
}

fn codec(id: &[u8]) -> VideoCodec {
    let id = String::from_utf8_lossy(id);
    let id = id.trim_end_matches('\0');
    match id {
        "V_VP8" => VideoCodec::Vp8,
        "V_VP9" => VideoCodec::Vp9,
        "V_AV1" => VideoCodec::Av1,
        "V_MPEG4/ISO/AVC" => VideoCodec::H264,
        "V_MPEGH/ISO/HEVC" => VideoCodec::Hevc,
        other => VideoCodec::Other(other.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vints_decode_with_and_without_marker() {
        assert_eq!(vint(&[0x81], false), Some((1, 1)));
        assert_eq!(vint(&[0x40, 0x02], false), Some((2, 2)));
        assert_eq!(vint(&[0xFF], false), Some((u64::MAX, 1)));
        assert_eq!(
            vint(&[0x1A, 0x45, 0xDF, 0xA3], true),
            Some((0x1A45_DFA3, 4))
        );
        assert_eq!(vint(&[0x00], false), None);
        assert_eq!(vint(&[], false), None);
    }
}
