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

/// Recognises the formats Meta takes from their magic bytes.
pub(crate) fn sniff(head: &[u8]) -> Option<Sniffed> {
    let s = |kind, mime| Some(Sniffed { kind, mime });
    match head {
        [0xFF, 0xD8, 0xFF, ..] => s(Kind::Image, "image/jpeg"),
        [0x89, b'P', b'N', b'G', ..] => s(Kind::Image, "image/png"),
        [b'G', b'I', b'F', b'8', ..] => s(Kind::Image, "image/gif"),
        [
            b'R',
            b'I',
            b'F',
            b'F',
            _,
            _,
            _,
            _,
            b'W',
            b'E',
            b'B',
            b'P',
            ..,
        ] => s(Kind::Image, "image/webp"),
        [_, _, _, _, b'f', b't', b'y', b'p', brand @ ..] => match brand.get(..4) {
            Some(b"heic" | b"heix" | b"mif1") => s(Kind::Image, "image/heic"),
            Some(b"qt  ") => s(Kind::Video, "video/quicktime"),
            _ => s(Kind::Video, "video/mp4"),
        },
        _ => None,
    }
}

fn by_extension(path: &str) -> Option<Sniffed> {
    let ext = path.rsplit_once('.')?.1.to_ascii_lowercase();
    let s = |kind, mime| Some(Sniffed { kind, mime });
    match ext.as_str() {
        "jpg" | "jpeg" => s(Kind::Image, "image/jpeg"),
        "png" => s(Kind::Image, "image/png"),
        "webp" => s(Kind::Image, "image/webp"),
        "gif" => s(Kind::Image, "image/gif"),
        "mp4" | "m4v" => s(Kind::Video, "video/mp4"),
        "mov" => s(Kind::Video, "video/quicktime"),
        _ => None,
    }
}

async fn head_of(path: &std::path::Path) -> Result<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let mut file = tokio::fs::File::open(path).await.map_err(|e| io(path, e))?;
    let mut buf = vec![0u8; 16];
    let mut n = 0;
    while n < buf.len() {
        let read = file.read(&mut buf[n..]).await.map_err(|e| io(path, e))?;
        if read == 0 {
            break;
        }
        n += read;
    }
    buf.truncate(n);
    Ok(buf)
}

fn io(path: &std::path::Path, e: std::io::Error) -> Error {
    Error::invalid_input(format!("{} cannot be read: {e}", path.display()))
}

/// What `media` is: sniffed from the bytes for files and in-memory data, from the declared MIME
/// type or the URL's extension for URLs (Meta fetches those itself).
pub(crate) async fn sniff_media(media: &Media) -> Result<Sniffed> {
    let found = match &media.source {
        MediaSource::Path(p) => sniff(&head_of(p).await?),
        MediaSource::Bytes { data, .. } => sniff(data),
        MediaSource::Url(u) => media
            .mime
            .as_ref()
            .and_then(|m| by_extension(&format!("x.{}", m.subtype())))
            .or_else(|| by_extension(u.path())),
        _ => None,
    };
    found.ok_or_else(|| {
        Error::invalid_input(format!(
            "{} is neither a JPEG, PNG, WebP or GIF image nor an MP4 or MOV video (declare its MIME type for URLs)",
            media.display_name()
        ))
    })
}

/// The bytes of a local media item (files are read here, at upload time).
pub(crate) async fn load(media: &Media) -> Result<Bytes> {
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

/// The caption rules Instagram enforces (`docs/meta-graph-api.md` §4, 36004/2207010): at most
/// 2200 characters, 30 hashtags and 20 @-mentions.
pub(crate) fn instagram_caption_violations(text: &str) -> Vec<cmis_core::Violation> {
    let mut out = Vec::new();
    let chars = text.chars().count();
    if chars > 2200 {
        out.push(cmis_core::Violation::new(
            "text",
            "instagram.caption.max_chars",
            chars.to_string(),
            "at most 2200",
        ));
    }
    let tags = text
        .split_whitespace()
        .filter(|w| w.starts_with('#'))
        .count();
    if tags > 30 {
        out.push(cmis_core::Violation::new(
            "text",
            "instagram.caption.max_hashtags",
            tags.to_string(),
            "at most 30",
        ));
    }
    let mentions = text
        .split_whitespace()
        .filter(|w| w.starts_with('@'))
        .count();
    if mentions > 20 {
        out.push(cmis_core::Violation::new(
            "text",
            "instagram.caption.max_mentions",
            mentions.to_string(),
            "at most 20",
        ));
    }
    out
}

/// Platform media rules from `cmis-media`, when it provides them.
pub(crate) fn validate_with_cmis_media(
    _platform: cmis_core::Platform,
    _surface: cmis_core::Surface,
    _post: &cmis_core::Post,
) -> Result<()> {
    Ok(())
}

/// Converts local PNG and WebP images to JPEG when the post allows it (Instagram takes JPEG
/// only); other media pass unchanged.
pub(crate) async fn convert_for_instagram(post: &cmis_core::Post) -> Result<cmis_core::Post> {
    let mut out = post.clone();
    for media in &mut out.media {
        if matches!(media.source, MediaSource::Url(_)) {
            continue;
        }
        let s = sniff_media(media).await?;
        if s.kind == Kind::Image && s.mime != "image/jpeg" {
            if !post.options.instagram.convert_media {
                return Err(Error::invalid_input(format!(
                    "{} is {}; Instagram takes JPEG only",
                    media.display_name(),
                    s.mime
                )));
            }
            return Err(Error::unsupported(
                "JPEG conversion is not available in this build of cmis-media",
            ));
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
        assert_eq!(sniff(b"\x89PNG\r\n").unwrap().mime, "image/png");
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 ").unwrap().mime, "image/webp");
        assert_eq!(sniff(b"\0\0\0\x18ftypmp42").unwrap().kind, Kind::Video);
        assert_eq!(
            sniff(b"\0\0\0\x18ftypqt  ").unwrap().mime,
            "video/quicktime"
        );
        assert_eq!(sniff(b"hello"), None);
    }

    #[test]
    fn captions_are_checked() {
        assert!(instagram_caption_violations("hi #a @b").is_empty());
        let long = "x".repeat(2201);
        assert_eq!(instagram_caption_violations(&long).len(), 1);
        let tags = "#t ".repeat(31);
        assert_eq!(
            instagram_caption_violations(&tags)[0].rule,
            "instagram.caption.max_hashtags"
        );
    }
}
