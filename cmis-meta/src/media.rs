//! What each media item is (image or video), its bytes for uploads, and the local checks made
//! before any network call.

use bytes::Bytes;
use cmis_core::{Error, Media, MediaSource, Result};

/// Image or video.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Image,
    Video,
}

/// The sniffed type of some bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sniffed {
    pub(crate) kind: Kind,
    pub(crate) mime: &'static str,
}

fn from_format(format: cmis_media::Format) -> Option<Sniffed> {
    let kind = if format.is_image() {
        Kind::Image
    } else if format.is_video() {
        Kind::Video
    } else {
        return None;
    };
    Some(Sniffed {
        kind,
        mime: format.mime(),
    })
}

/// Recognises media from its magic bytes (`cmis-media`'s sniffer; never the file name).
#[cfg(test)]
pub(crate) fn sniff(head: &[u8]) -> Option<Sniffed> {
    cmis_media::Format::sniff(head).and_then(from_format)
}

fn io(path: &std::path::Path, e: std::io::Error) -> Error {
    Error::invalid_input(format!("{} cannot be read: {e}", path.display()))
}

/// What `media` is: sniffed from the bytes for files and in-memory data, from the declared MIME
/// type or the URL's extension for URLs (Meta fetches those itself).
pub(crate) async fn sniff_media(media: &Media) -> Result<Sniffed> {
    let found = cmis_media::sniff(media).await?.and_then(from_format);
    found.ok_or_else(|| {
        Error::invalid_input(format!(
            "{} is neither a JPEG, PNG, WebP or GIF image nor an MP4 or MOV video (declare its MIME type for URLs)",
            media.display_name()
        ))
    })
}

/// The largest local file cmis-meta uploads. Uploads send the file (from the resumed offset) as
/// one request body held in memory, because Meta documents no chunked form of these uploads;
/// larger files must be given as a public URL.
pub const MAX_UPLOAD_BYTES: u64 = 1024 * 1024 * 1024;

/// Refuses a local file larger than [`MAX_UPLOAD_BYTES`], before any call.
pub(crate) async fn check_upload_size(media: &Media) -> Result<()> {
    let size = match &media.source {
        MediaSource::Path(p) => tokio::fs::metadata(p).await.map_err(|e| io(p, e))?.len(),
        MediaSource::Bytes { data, .. } => u64::try_from(data.len()).unwrap_or(u64::MAX),
        _ => return Ok(()),
    };
    if size > MAX_UPLOAD_BYTES {
        return Err(Error::unsupported(format!(
            "{} is {size} bytes; cmis-meta uploads files of at most {MAX_UPLOAD_BYTES} bytes \
             (give a larger video as a public URL)",
            media.display_name()
        )));
    }
    Ok(())
}

/// The bytes of a local media item (files are read here, at upload time).
pub(crate) async fn load(media: &Media) -> Result<Bytes> {
    check_upload_size(media).await?;
    match &media.source {
        MediaSource::Path(p) => tokio::fs::read(p)
            .await
            .map(Bytes::from)
            .map_err(|e| io(p, e)),
        MediaSource::Bytes { data, .. } => Ok(data.clone()),
        _ => Err(Error::internal(
            "only files and in-memory data have local bytes",
        )),
    }
}

/// A file name for uploads.
pub(crate) fn file_name(media: &Media, sniffed: Sniffed) -> String {
    let name = match &media.source {
        MediaSource::Path(p) => p.file_name().map(|n| n.to_string_lossy().into_owned()),
        MediaSource::Bytes { name, .. } => name.clone(),
        _ => None,
    };
    // Keep the name to safe characters: it goes into a header and a query.
    let cleaned: String = name
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        .collect();
    if cleaned.is_empty() {
        let ext = sniffed.mime.rsplit('/').next().unwrap_or("bin");
        format!("upload.{ext}")
    } else {
        cleaned
    }
}

/// When the post allows conversion, makes every local image acceptable to Instagram with
/// `cmis-media` (PNG and WebP become JPEG, oversized images are scaled down; acceptable images
/// pass unchanged). Without permission a non-JPEG image is refused.
pub(crate) async fn convert_for_instagram(
    post: &cmis_core::Post,
    surface: cmis_core::Surface,
) -> Result<cmis_core::Post> {
    let mut out = post.clone();
    let rules = cmis_media::Rules::for_target(cmis_core::Platform::Instagram, surface)?;
    for media in &mut out.media {
        if matches!(media.source, MediaSource::Url(_)) {
            continue;
        }
        let s = sniff_media(media).await?;
        if s.kind != Kind::Image {
            continue;
        }
        if !post.options.instagram.convert_media {
            if s.mime != "image/jpeg" {
                return Err(Error::invalid_input(format!(
                    "{} is {}; Instagram takes JPEG only (allow conversion with InstagramOptions::with_convert_media)",
                    media.display_name(),
                    s.mime
                )));
            }
            continue;
        }
        let Some(image_rules) = &rules.image else {
            continue;
        };
        let bytes = load(media).await?;
        let name = file_name(media, s);
        let converted = cmis_media::prepare_image(image_rules, &name, &bytes)?;
        if converted.bytes != bytes {
            let mut replacement = Media::bytes(Some(converted.name), converted.bytes);
            replacement.alt_text = media.alt_text.clone();
            *media = replacement;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_the_formats_meta_takes() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]).unwrap().mime, "image/jpeg");
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap().mime,
            "image/png"
        );
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 ").unwrap().mime, "image/webp");
        assert_eq!(sniff(b"\0\0\0\x18ftypmp42").unwrap().kind, Kind::Video);
        assert_eq!(
            sniff(b"\0\0\0\x18ftypqt  ").unwrap().mime,
            "video/quicktime"
        );
        assert_eq!(sniff(b"hello"), None);
    }
}
