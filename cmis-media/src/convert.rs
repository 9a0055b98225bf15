//! Conversion: PNG, WebP and GIF to sRGB JPEG, downscaling to a platform's maximum, and image
//! thumbnails.
//!
//! Pixels are decoded with the `image` crate under strict limits (so a decompression bomb is an
//! error, not an out-of-memory abort), EXIF orientation is applied (the re-encoded file carries no
//! EXIF, so an unapplied rotation would be lost), transparency is flattened onto white, and the
//! JPEG is written without an ICC profile, which viewers and platforms read as sRGB. Embedded ICC
//! profiles of the source are not applied: images in wide-gamut spaces (Display P3, Adobe RGB)
//! come out slightly desaturated.

use std::io::Cursor;

use bytes::Bytes;
use cmis_core::{Error, Result};
use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage};

use crate::rules::ImageRules;
use crate::{Format, probe_bytes};

/// The JPEG quality cmis encodes with by default: visually lossless for photos, and far under
/// Instagram's 8 MB at 1440 px.
pub const DEFAULT_JPEG_QUALITY: u8 = 90;

/// The largest side cmis decodes (larger images are refused rather than decoded).
const MAX_DECODE_SIDE: u32 = 20_000;
/// The most memory a decode may take.
const MAX_DECODE_ALLOC: u64 = 1024 * 1024 * 1024;

/// How to convert an image.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConvertOptions {
    /// Downscale (never upscale) so that the width is at most this.
    pub max_width: Option<u32>,
    /// Downscale (never upscale) so that the height is at most this.
    pub max_height: Option<u32>,
    /// JPEG quality, 1–100.
    pub quality: u8,
}

impl Default for ConvertOptions {
    fn default() -> Self {
        Self {
            max_width: None,
            max_height: None,
            quality: DEFAULT_JPEG_QUALITY,
        }
    }
}

impl ConvertOptions {
    /// Options with no size limit and [`DEFAULT_JPEG_QUALITY`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the largest width.
    #[must_use]
    pub fn with_max_width(mut self, max: u32) -> Self {
        self.max_width = Some(max);
        self
    }

    /// Sets the largest height.
    #[must_use]
    pub fn with_max_height(mut self, max: u32) -> Self {
        self.max_height = Some(max);
        self
    }

    /// Sets the JPEG quality (clamped to 1–100).
    #[must_use]
    pub fn with_quality(mut self, quality: u8) -> Self {
        self.quality = quality.clamp(1, 100);
        self
    }

    /// The options a platform's image rules call for: its maximum width and height.
    pub fn for_rules(rules: &ImageRules) -> Self {
        Self {
            max_width: rules.max_width,
            max_height: rules.max_height,
            quality: DEFAULT_JPEG_QUALITY,
        }
    }
}

/// An image produced by cmis.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Converted {
    /// A file name for uploads: the source name with the new extension.
    pub name: String,
    /// The encoded bytes.
    pub bytes: Bytes,
    /// The format of `bytes`.
    pub format: Format,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// Converts an image to an sRGB JPEG, downscaled to fit `options`.
///
/// HEIC and AVIF are refused with an [`InvalidInput`](cmis_core::ErrorKind::InvalidInput) error
/// that says to export the image as JPEG; video and unrecognised data are refused too.
///
/// ```
/// # mod cmis { pub use cmis_core::*; pub mod media { pub use cmis_media::*; } }
/// # let png = { let mut b = std::io::Cursor::new(Vec::new());
/// #   image::RgbImage::new(3000, 2000).write_to(&mut b, image::ImageFormat::Png).unwrap(); b.into_inner() };
/// use cmis::media::{ConvertOptions, Format, to_jpeg};
/// let jpeg = to_jpeg("poster.png", &png, &ConvertOptions::new().with_max_width(1440))?;
/// assert_eq!((jpeg.format, jpeg.width, jpeg.height), (Format::Jpeg, 1440, 960));
/// assert_eq!(jpeg.name, "poster.jpg");
/// # Ok::<(), cmis::Error>(())
/// ```
pub fn to_jpeg(name: &str, bytes: &[u8], options: &ConvertOptions) -> Result<Converted> {
    let img = decode(name, bytes)?;
    let img = fit(img, options.max_width, options.max_height);
    encode_jpeg(name, &flatten(&img), options.quality)
}

/// Makes an image acceptable under `rules`: returns the bytes unchanged when they already are
/// (an accepted format and colour within the size limits), otherwise an sRGB JPEG downscaled to
/// the maximum.
pub fn prepare_image(rules: &ImageRules, name: &str, bytes: &[u8]) -> Result<Converted> {
    let info = probe_bytes(name, bytes)?;
    let fits_width = match (rules.max_width, info.width) {
        (Some(max), Some(w)) => w <= max,
        (Some(_), None) => false,
        (None, _) => true,
    };
    let fits_height = match (rules.max_height, info.height) {
        (Some(max), Some(h)) => h <= max,
        (Some(_), None) => false,
        (None, _) => true,
    };
    let fits_bytes = rules.max_bytes.is_none_or(|max| info.size_bytes <= max);
    let fits_color = !rules.srgb || info.color != Some(crate::ColorType::Cmyk);
    if rules.formats.contains(&info.format)
        && fits_color
        && fits_width
        && fits_height
        && fits_bytes
        && let (Some(width), Some(height)) = (info.width, info.height)
    {
        return Ok(Converted {
            name: name.to_owned(),
            bytes: Bytes::copy_from_slice(bytes),
            format: info.format,
            width,
            height,
        });
    }
    if !rules.formats.contains(&Format::Jpeg) {
        return Err(Error::unsupported(format!(
            "{name}: cmis converts to JPEG only, which this platform does not accept"
        )));
    }
    let converted = to_jpeg(name, bytes, &ConvertOptions::for_rules(rules))?;
    if let Some(max) = rules.max_bytes
        && converted.bytes.len() as u64 > max
    {
        return Err(Error::invalid_input(format!(
            "{name}: {} bytes even as a JPEG at quality {DEFAULT_JPEG_QUALITY}; at most {max} are allowed",
            converted.bytes.len()
        )));
    }
    Ok(converted)
}

/// A JPEG thumbnail of an image whose longer side is at most `max_side` pixels (never upscaled).
pub fn thumbnail(name: &str, bytes: &[u8], max_side: u32) -> Result<Converted> {
    if max_side == 0 {
        return Err(Error::invalid_input("thumbnail size must be at least 1 px"));
    }
    let img = decode(name, bytes)?;
    let img = if img.width() > max_side || img.height() > max_side {
        img.thumbnail(max_side, max_side)
    } else {
        img
    };
    encode_jpeg(name, &flatten(&img), DEFAULT_JPEG_QUALITY)
}

fn decode(name: &str, bytes: &[u8]) -> Result<DynamicImage> {
    let info = probe_bytes(name, bytes)?;
    let format = match info.format {
        Format::Jpeg => ImageFormat::Jpeg,
        Format::Png => ImageFormat::Png,
        Format::Webp => ImageFormat::WebP,
        Format::Gif => ImageFormat::Gif,
        Format::Heic | Format::Avif => {
            return Err(Error::invalid_input(format!(
                "{name}: {} images cannot be converted by cmis; export the image as JPEG first",
                info.format
            )));
        }
        other if other.is_video() => {
            return Err(Error::invalid_input(format!(
                "{name}: is a {other} video, not an image"
            )));
        }
        other => {
            return Err(Error::unsupported(format!(
                "{name}: cmis does not convert {other} images; export the image as JPEG first"
            )));
        }
    };
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_DECODE_SIDE);
    limits.max_image_height = Some(MAX_DECODE_SIDE);
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    reader.limits(limits);
    let bad = |e: image::ImageError| decode_error(name, &info.format, e);
    let mut decoder = reader.into_decoder().map_err(bad)?;
    let orientation = decoder.orientation().map_err(bad)?;
    let mut img = DynamicImage::from_decoder(decoder).map_err(bad)?;
    img.apply_orientation(orientation);
    Ok(img)
}

fn decode_error(name: &str, format: &Format, e: image::ImageError) -> Error {
    let kind = match e {
        image::ImageError::Limits(_) => "is too large to decode",
        _ => "cannot be decoded",
    };
    Error::invalid_input(format!("{name}: this {format} {kind}: {e}")).with_source(e)
}

fn fit(img: DynamicImage, max_width: Option<u32>, max_height: Option<u32>) -> DynamicImage {
    let (w, h) = (img.width(), img.height());
    let mw = max_width.unwrap_or(w).max(1);
    let mh = max_height.unwrap_or(h).max(1);
    if w <= mw && h <= mh {
        return img;
    }
    // `resize` keeps the aspect ratio and fits inside the box.
    img.resize(mw.min(w), mh.min(h), FilterType::CatmullRom)
}

/// RGB pixels, with any transparency composited onto white (JPEG has no alpha).
fn flatten(img: &DynamicImage) -> RgbImage {
    if !img.color().has_alpha() {
        return img.to_rgb8();
    }
    let rgba = img.to_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let p = rgba.get_pixel(x, y).0;
        let a = u16::from(p[3]);
        let blend = |c: u8| {
            let v = (u16::from(c) * a + 255 * (255 - a) + 127) / 255;
            u8::try_from(v).unwrap_or(u8::MAX)
        };
        image::Rgb([blend(p[0]), blend(p[1]), blend(p[2])])
    })
}

fn encode_jpeg(name: &str, img: &RgbImage, quality: u8) -> Result<Converted> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality.clamp(1, 100))
        .encode_image(img)
        .map_err(|e| {
            Error::internal(format!("{name}: JPEG encoding failed: {e}")).with_source(e)
        })?;
    Ok(Converted {
        name: with_extension(name, "jpg"),
        bytes: Bytes::from(out),
        format: Format::Jpeg,
        width: img.width(),
        height: img.height(),
    })
}

fn with_extension(name: &str, ext: &str) -> String {
    match name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() && !stem.ends_with('/') => format!("{stem}.{ext}"),
        _ => format!("{name}.{ext}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_get_the_new_extension() {
        assert_eq!(with_extension("a.png", "jpg"), "a.jpg");
        assert_eq!(with_extension("archive.tar.webp", "jpg"), "archive.tar.jpg");
        assert_eq!(with_extension("noext", "jpg"), "noext.jpg");
        assert_eq!(with_extension(".hidden", "jpg"), ".hidden.jpg");
    }

    #[test]
    fn transparency_becomes_white() {
        let img = DynamicImage::ImageRgba8(image::RgbaImage::from_pixel(
            2,
            2,
            image::Rgba([0, 0, 0, 0]),
        ));
        assert_eq!(flatten(&img).get_pixel(0, 0).0, [255, 255, 255]);
        let img = DynamicImage::ImageRgba8(image::RgbaImage::from_pixel(
            1,
            1,
            image::Rgba([10, 20, 30, 255]),
        ));
        assert_eq!(flatten(&img).get_pixel(0, 0).0, [10, 20, 30]);
    }
}
