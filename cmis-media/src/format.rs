//! Media formats, codecs and colour types, and sniffing a format from its magic bytes.

use std::fmt;

/// A media container or image format, as sniffed from the file's bytes (never its name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// JPEG (JFIF or Exif).
    Jpeg,
    /// PNG.
    Png,
    /// WebP (lossy, lossless or extended).
    Webp,
    /// GIF.
    Gif,
    /// BMP.
    Bmp,
    /// TIFF.
    Tiff,
    /// HEIC/HEIF (an ISO base media file with an image brand).
    Heic,
    /// AVIF.
    Avif,
    /// MP4 (ISO base media file format).
    Mp4,
    /// QuickTime MOV.
    Mov,
    /// WebM (a Matroska profile).
    Webm,
    /// Matroska (MKV) other than WebM.
    Matroska,
}

impl Format {
    /// The format's MIME type, as sent in `Content-Type` headers.
    pub fn mime(&self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
            Self::Gif => "image/gif",
            Self::Bmp => "image/bmp",
            Self::Tiff => "image/tiff",
            Self::Heic => "image/heic",
            Self::Avif => "image/avif",
            Self::Mp4 => "video/mp4",
            Self::Mov => "video/quicktime",
            Self::Webm => "video/webm",
            Self::Matroska => "video/x-matroska",
        }
    }

    /// A short upper-case name for messages, such as `JPEG` or `MP4`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Jpeg => "JPEG",
            Self::Png => "PNG",
            Self::Webp => "WebP",
            Self::Gif => "GIF",
            Self::Bmp => "BMP",
            Self::Tiff => "TIFF",
            Self::Heic => "HEIC",
            Self::Avif => "AVIF",
            Self::Mp4 => "MP4",
            Self::Mov => "MOV",
            Self::Webm => "WebM",
            Self::Matroska => "Matroska",
        }
    }

    /// The usual file extension, without the dot.
    pub fn extension(&self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::Webp => "webp",
            Self::Gif => "gif",
            Self::Bmp => "bmp",
            Self::Tiff => "tiff",
            Self::Heic => "heic",
            Self::Avif => "avif",
            Self::Mp4 => "mp4",
            Self::Mov => "mov",
            Self::Webm => "webm",
            Self::Matroska => "mkv",
        }
    }

    /// Whether this is a still-image format.
    pub fn is_image(&self) -> bool {
        matches!(
            self,
            Self::Jpeg
                | Self::Png
                | Self::Webp
                | Self::Gif
                | Self::Bmp
                | Self::Tiff
                | Self::Heic
                | Self::Avif
        )
    }

    /// Whether this is a video container.
    pub fn is_video(&self) -> bool {
        matches!(self, Self::Mp4 | Self::Mov | Self::Webm | Self::Matroska)
    }

    /// The format a MIME type names (its essence, such as `video/mp4`; ASCII case-insensitive),
    /// the inverse of [`mime`](Self::mime), which also reads `image/jpg` and `video/mov`. Only
    /// for media that cannot be sniffed, such as a URL that is not downloaded.
    pub fn from_mime(mime: &str) -> Option<Self> {
        let mime = mime.trim().to_ascii_lowercase();
        Some(match mime.as_str() {
            "image/jpeg" | "image/jpg" | "image/pjpeg" => Self::Jpeg,
            "image/png" => Self::Png,
            "image/webp" => Self::Webp,
            "image/gif" => Self::Gif,
            "image/bmp" => Self::Bmp,
            "image/tiff" => Self::Tiff,
            "image/heic" | "image/heif" => Self::Heic,
            "image/avif" => Self::Avif,
            "video/mp4" => Self::Mp4,
            "video/quicktime" | "video/mov" => Self::Mov,
            "video/webm" => Self::Webm,
            "video/x-matroska" | "video/matroska" => Self::Matroska,
            _ => return None,
        })
    }

    /// The format a file extension usually means (ASCII case-insensitive, with or without the
    /// dot). Only for media that cannot be sniffed, such as a URL that is not downloaded.
    pub fn from_extension(ext: &str) -> Option<Self> {
        let ext = ext.trim_start_matches('.').to_ascii_lowercase();
        Some(match ext.as_str() {
            "jpg" | "jpeg" | "jpe" | "jfif" => Self::Jpeg,
            "png" => Self::Png,
            "webp" => Self::Webp,
            "gif" => Self::Gif,
            "bmp" => Self::Bmp,
            "tif" | "tiff" => Self::Tiff,
            "heic" | "heif" => Self::Heic,
            "avif" => Self::Avif,
            "mp4" | "m4v" => Self::Mp4,
            "mov" | "qt" => Self::Mov,
            "webm" => Self::Webm,
            "mkv" => Self::Matroska,
            _ => return None,
        })
    }

    /// Sniffs the format from the first bytes of a file (32 are enough for every format;
    /// WebM needs up to 64 to tell it from Matroska). `None` when no known signature matches.
    ///
    /// ```
    /// # mod cmis { pub use cmis_core::*; pub mod media { pub use cmis_media::*; } }
    /// use cmis::media::Format;
    /// assert_eq!(Format::sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some(Format::Png));
    /// assert_eq!(Format::sniff(b"hello, world"), None);
    /// ```
    pub fn sniff(head: &[u8]) -> Option<Self> {
        let at = |i: usize, sig: &[u8]| head.get(i..i + sig.len()) == Some(sig);
        if at(0, &[0xFF, 0xD8, 0xFF]) {
            return Some(Self::Jpeg);
        }
        if at(0, b"\x89PNG\r\n\x1a\n") {
            return Some(Self::Png);
        }
        if at(0, b"RIFF") && at(8, b"WEBP") {
            return Some(Self::Webp);
        }
        if at(0, b"GIF87a") || at(0, b"GIF89a") {
            return Some(Self::Gif);
        }
        if at(0, b"II*\0") || at(0, b"MM\0*") {
            return Some(Self::Tiff);
        }
        if at(0, b"BM") {
            // "BM" alone is too weak (text can start with it): require a known DIB header size.
            let dib = head
                .get(14..18)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
            if matches!(dib, Some(12 | 40 | 52 | 56 | 64 | 108 | 124)) {
                return Some(Self::Bmp);
            }
        }
        if at(0, &[0x1A, 0x45, 0xDF, 0xA3]) {
            let window = &head[..head.len().min(64)];
            if window.windows(4).any(|w| w == b"webm") {
                return Some(Self::Webm);
            }
            return Some(Self::Matroska);
        }
        if at(4, b"ftyp") {
            return Some(match head.get(8..12) {
                Some(b"qt  ") => Self::Mov,
                Some(
                    b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx" | b"mif1" | b"msf1",
                ) => {
                    if compatible_brands(head).any(|b| b == b"avif") {
                        Self::Avif
                    } else {
                        Self::Heic
                    }
                }
                Some(b"avif" | b"avis") => Self::Avif,
                _ => Self::Mp4,
            });
        }
        // Old QuickTime files have no `ftyp`: they start with one of these atoms.
        if at(4, b"moov") || at(4, b"mdat") || at(4, b"wide") || at(4, b"pnot") {
            return Some(Self::Mov);
        }
        None
    }
}

fn compatible_brands(head: &[u8]) -> impl Iterator<Item = &[u8]> {
    let size = head
        .get(0..4)
        .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize);
    let end = size.min(head.len());
    head.get(16..end).unwrap_or(&[]).chunks_exact(4)
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A video codec, from the sample description of the video track.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VideoCodec {
    /// H.264 / AVC (`avc1`, `avc3`).
    H264,
    /// H.265 / HEVC (`hvc1`, `hev1`).
    Hevc,
    /// VP8.
    Vp8,
    /// VP9.
    Vp9,
    /// AV1.
    Av1,
    /// Another codec, by its four-character code (such as `apcn` for ProRes).
    Other(String),
}

impl VideoCodec {
    /// The codec a sample-entry four-character code names.
    pub fn from_fourcc(code: &[u8]) -> Self {
        match code {
            b"avc1" | b"avc3" => Self::H264,
            b"hvc1" | b"hev1" => Self::Hevc,
            b"vp08" => Self::Vp8,
            b"vp09" => Self::Vp9,
            b"av01" => Self::Av1,
            other => Self::Other(String::from_utf8_lossy(other).trim().to_owned()),
        }
    }

    /// A short name for messages, such as `H.264`.
    pub fn name(&self) -> &str {
        match self {
            Self::H264 => "H.264",
            Self::Hevc => "HEVC",
            Self::Vp8 => "VP8",
            Self::Vp9 => "VP9",
            Self::Av1 => "AV1",
            Self::Other(code) => code,
        }
    }
}

impl fmt::Display for VideoCodec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How an image stores colour, as its header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ColorType {
    /// Greyscale.
    Gray,
    /// Greyscale with alpha.
    GrayAlpha,
    /// RGB (or YCbCr, which decodes to RGB).
    Rgb,
    /// RGB with alpha.
    Rgba,
    /// A palette of colours.
    Indexed,
    /// CMYK (print JPEGs), which platforms render badly.
    Cmyk,
}

impl ColorType {
    /// Whether the image has an alpha channel (a palette may still have transparency).
    pub fn has_alpha(&self) -> bool {
        matches!(self, Self::GrayAlpha | Self::Rgba)
    }
}

impl fmt::Display for ColorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Gray => "grayscale",
            Self::GrayAlpha => "grayscale+alpha",
            Self::Rgb => "RGB",
            Self::Rgba => "RGBA",
            Self::Indexed => "indexed",
            Self::Cmyk => "CMYK",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_iso_brands() {
        let mut mp4 = b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2".to_vec();
        assert_eq!(Format::sniff(&mp4), Some(Format::Mp4));
        mp4[8..12].copy_from_slice(b"qt  ");
        assert_eq!(Format::sniff(&mp4), Some(Format::Mov));
        mp4[8..12].copy_from_slice(b"heic");
        assert_eq!(Format::sniff(&mp4), Some(Format::Heic));
        mp4[8..12].copy_from_slice(b"avif");
        assert_eq!(Format::sniff(&mp4), Some(Format::Avif));
    }

    #[test]
    fn sniffs_webm_apart_from_matroska() {
        let webm = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm";
        assert_eq!(Format::sniff(webm), Some(Format::Webm));
        let mkv = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x88matroska";
        assert_eq!(Format::sniff(mkv), Some(Format::Matroska));
    }

    #[test]
    fn short_and_unknown_inputs_are_none() {
        assert_eq!(Format::sniff(b""), None);
        assert_eq!(Format::sniff(b"\xff"), None);
        assert_eq!(Format::sniff(b"BM hello there, not a bitmap"), None);
        assert_eq!(Format::from_extension(".JPG"), Some(Format::Jpeg));
        assert_eq!(Format::from_extension("txt"), None);
    }
}
