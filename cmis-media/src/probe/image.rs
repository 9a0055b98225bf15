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
    })
}
