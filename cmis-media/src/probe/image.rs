//! Image headers: dimensions, colour type and bit depth, read without decoding pixels.

use cmis_core::{Error, Result};

use super::source::{ReadAt, read_exact, read_up_to};
use crate::{ColorType, Format};

/// What an image header says.
#[derive(Debug, Default)]
pub(crate) struct ImageHeader {
    pub(crate) width: Option<u32>,
    pub(crate) height: Option<u32>,
    pub(crate) color: Option<ColorType>,
    pub(crate) bit_depth: Option<u8>,
    pub(crate) animated: Option<bool>,
    /// The EXIF orientation (1–8) of a JPEG, when it has one.
    pub(crate) exif_orientation: Option<u16>,
}

/// How many JPEG segments are walked before giving up: real files have a few dozen.
const MAX_JPEG_SEGMENTS: u32 = 10_000;

pub(crate) fn read_header(format: Format, src: &mut dyn ReadAt) -> Result<ImageHeader> {
    let header = match format {
        Format::Jpeg => jpeg(src)?,
        Format::Png => png(src)?,
        Format::Webp => webp(src)?,
        Format::Gif => gif(src)?,
        Format::Bmp => bmp(src)?,
        // TIFF, HEIC and AVIF dimensions need a deeper walk; no platform rule needs them yet.
        _ => ImageHeader::default(),
    };
    if header.width == Some(0) || header.height == Some(0) {
        return Err(Error::invalid_input(format!(
            "corrupt {format}: the header gives a zero dimension"
        )));
    }
    Ok(header)
}

fn be16(b: &[u8], i: usize) -> u32 {
    b.get(i..i + 2)
        .map_or(0, |s| u32::from(u16::from_be_bytes([s[0], s[1]])))
}

fn le16(b: &[u8], i: usize) -> u32 {
    b.get(i..i + 2)
        .map_or(0, |s| u32::from(u16::from_le_bytes([s[0], s[1]])))
}

fn le24(b: &[u8], i: usize) -> u32 {
    b.get(i..i + 3)
        .map_or(0, |s| u32::from_le_bytes([s[0], s[1], s[2], 0]))
}

fn be32(b: &[u8], i: usize) -> u32 {
    b.get(i..i + 4)
        .map_or(0, |s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

fn le32(b: &[u8], i: usize) -> u32 {
    b.get(i..i + 4)
        .map_or(0, |s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn jpeg(src: &mut dyn ReadAt) -> Result<ImageHeader> {
    let mut pos: u64 = 2;
    let mut orientation = None;
    for _ in 0..MAX_JPEG_SEGMENTS {
        let head = read_exact(src, pos, 4, "a JPEG marker")?;
        if head[0] != 0xFF {
            return Err(Error::invalid_input(format!(
                "corrupt JPEG: expected a marker at offset {pos}"
            )));
        }
        let marker = head[1];
        match marker {
            // Fill byte before a marker.
            0xFF => {
                pos += 1;
                continue;
            }
            // Markers without a length.
            0x01 | 0xD0..=0xD7 => {
                pos += 2;
                continue;
            }
            0xD9 | 0xDA => {
                return Err(Error::invalid_input(
                    "corrupt JPEG: no frame header (SOF) before the image data",
                ));
            }
            _ => {}
        }
        let len = be16(&head, 2);
        if len < 2 {
            return Err(Error::invalid_input(format!(
                "corrupt JPEG: segment length {len} at offset {pos}"
            )));
        }
        if marker == 0xE1 && orientation.is_none() {
            // APP1 may hold Exif; IFD0 (where the orientation lives) is near its start.
            let app1 = read_up_to(src, pos + 4, u64::from(len - 2).min(64 * 1024))?;
            orientation = exif_orientation(&app1);
        }
        let is_sof = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if is_sof {
            let sof = read_exact(src, pos + 4, 6, "a JPEG frame header")?;
            let components = sof[5];
            return Ok(ImageHeader {
                width: Some(be16(&sof, 3)),
                height: Some(be16(&sof, 1)),
                color: match components {
                    1 => Some(ColorType::Gray),
                    3 => Some(ColorType::Rgb),
                    4 => Some(ColorType::Cmyk),
                    _ => None,
                },
                bit_depth: Some(sof[0]),
                animated: Some(false),
                exif_orientation: orientation,
            });
        }
        pos += 2 + u64::from(len);
    }
    Err(Error::invalid_input(
        "corrupt JPEG: too many segments before the frame header",
    ))
}

fn png(src: &mut dyn ReadAt) -> Result<ImageHeader> {
    let b = read_exact(src, 0, 29, "the PNG header")?;
    if &b[12..16] != b"IHDR" {
        return Err(Error::invalid_input(
            "corrupt PNG: the first chunk is not IHDR",
        ));
    }
    let color = match b[25] {
        0 => Some(ColorType::Gray),
        2 => Some(ColorType::Rgb),
        3 => Some(ColorType::Indexed),
        4 => Some(ColorType::GrayAlpha),
        6 => Some(ColorType::Rgba),
        other => {
            return Err(Error::invalid_input(format!(
                "corrupt PNG: colour type {other} does not exist"
            )));
        }
    };
    // An animated PNG has an `acTL` chunk before the first IDAT; it usually follows IHDR.
    let next = read_up_to(src, 33, 8)?;
    Ok(ImageHeader {
        width: Some(be32(&b, 16)),
        height: Some(be32(&b, 20)),
        color,
        bit_depth: Some(b[24]),
        animated: Some(next.get(4..8) == Some(b"acTL")),
        exif_orientation: None,
    })
}

fn webp(src: &mut dyn ReadAt) -> Result<ImageHeader> {
    let b = read_exact(src, 0, 30, "the WebP header")?;
    match &b[12..16] {
        b"VP8 " => {
            if b[23..26] != [0x9D, 0x01, 0x2A] {
                return Err(Error::invalid_input(
                    "corrupt WebP: bad VP8 frame start code",
                ));
            }
            Ok(ImageHeader {
                width: Some(le16(&b, 26) & 0x3FFF),
                height: Some(le16(&b, 28) & 0x3FFF),
                color: Some(ColorType::Rgb),
                bit_depth: Some(8),
                animated: Some(false),
                exif_orientation: None,
            })
        }
        b"VP8L" => {
            if b[20] != 0x2F {
                return Err(Error::invalid_input("corrupt WebP: bad VP8L signature"));
            }
            let bits = le32(&b, 21);
            let alpha = (bits >> 28) & 1 == 1;
            Ok(ImageHeader {
                width: Some((bits & 0x3FFF) + 1),
                height: Some(((bits >> 14) & 0x3FFF) + 1),
                color: Some(if alpha {
                    ColorType::Rgba
                } else {
                    ColorType::Rgb
                }),
                bit_depth: Some(8),
                animated: Some(false),
                exif_orientation: None,
            })
        }
        b"VP8X" => {
            let flags = b[20];
            Ok(ImageHeader {
                width: Some(le24(&b, 24) + 1),
                height: Some(le24(&b, 27) + 1),
                color: Some(if flags & 0x10 != 0 {
                    ColorType::Rgba
                } else {
                    ColorType::Rgb
                }),
                bit_depth: Some(8),
                animated: Some(flags & 0x02 != 0),
                exif_orientation: None,
            })
        }
        _ => Err(Error::invalid_input(
            "corrupt WebP: unknown first chunk (expected VP8, VP8L or VP8X)",
        )),
    }
}

fn gif(src: &mut dyn ReadAt) -> Result<ImageHeader> {
    let b = read_exact(src, 0, 10, "the GIF header")?;
    Ok(ImageHeader {
        width: Some(le16(&b, 6)),
        height: Some(le16(&b, 8)),
        color: Some(ColorType::Indexed),
        bit_depth: Some(8),
        animated: None,
        exif_orientation: None,
    })
}

fn bmp(src: &mut dyn ReadAt) -> Result<ImageHeader> {
    let b = read_exact(src, 0, 26, "the BMP header")?;
    let (w, h) = if le32(&b, 14) == 12 {
        (le16(&b, 18), le16(&b, 20))
    } else {
        // Signed; a negative height means rows are stored top-down.
        let w = i32::from_le_bytes([b[18], b[19], b[20], b[21]]);
        let h = i32::from_le_bytes([b[22], b[23], b[24], b[25]]);
        (w.unsigned_abs(), h.unsigned_abs())
    };
    Ok(ImageHeader {
        width: Some(w),
        height: Some(h),
        color: None,
        bit_depth: None,
        animated: Some(false),
        exif_orientation: None,
    })
}

/// The orientation tag (0x0112) of IFD0 in an APP1 Exif payload, if present and valid.
fn exif_orientation(app1: &[u8]) -> Option<u16> {
    let tiff = app1.strip_prefix(b"Exif\0\0")?;
    let big = match tiff.get(0..4)? {
        b"MM\0*" => true,
        b"II*\0" => false,
        _ => return None,
    };
    let u16_at = |i: usize| {
        let b = tiff.get(i..i.checked_add(2)?)?;
        Some(if big {
            u16::from_be_bytes([b[0], b[1]])
        } else {
            u16::from_le_bytes([b[0], b[1]])
        })
    };
    let u32_at = |i: usize| {
        let b = tiff.get(i..i.checked_add(4)?)?;
        Some(if big {
            u32::from_be_bytes([b[0], b[1], b[2], b[3]])
        } else {
            u32::from_le_bytes([b[0], b[1], b[2], b[3]])
        })
    };
    let ifd = usize::try_from(u32_at(4)?).ok()?;
    let count = usize::from(u16_at(ifd)?);
    (0..count.min(512)).find_map(|n| {
        let entry = ifd.checked_add(2)?.checked_add(n.checked_mul(12)?)?;
        (u16_at(entry)? == 0x0112)
            .then(|| u16_at(entry + 8))
            .flatten()
            .filter(|o| (1..=8).contains(o))
    })
}
