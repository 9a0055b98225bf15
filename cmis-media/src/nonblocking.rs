//! The async entry points: what a media item is (sniffed without trusting names) and whether a
//! post passes a platform's rules, both without blocking the runtime on the disk.

use std::path::Path;

use cmis_core::{Error, Media, MediaSource, Platform, Post, Result, Surface};
use tokio::io::AsyncReadExt;

use crate::{Format, Rules, validate_with};

/// How many leading bytes decide a format (WebM needs up to 64 to be told from Matroska).
const HEAD_BYTES: usize = 64;

/// The format of `media`, without trusting its name: a local file is sniffed from its first
/// bytes (read with `tokio::fs`, never blocking the runtime), in-memory bytes from their first
/// bytes; media at a URL, which the platform fetches itself, from its declared MIME type, else
/// its URL's extension. `None` when nothing known matches.
///
/// A file that cannot be opened or read is [`InvalidInput`](cmis_core::ErrorKind::InvalidInput),
/// naming the file.
///
/// ```
/// # mod cmis { pub use cmis_core::*; pub mod media { pub use cmis_media::*; } }
/// use cmis::Media;
/// use cmis::media::Format;
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> cmis::Result<()> {
/// // The name says PNG; the bytes say JPEG, and the bytes win.
/// let photo = Media::bytes(Some("photo.png".into()), vec![0xFF, 0xD8, 0xFF, 0xE0]);
/// assert_eq!(cmis::media::sniff(&photo).await?, Some(Format::Jpeg));
/// let clip = Media::url("https://cdn.example.com/clip.mp4".parse().unwrap());
/// assert_eq!(cmis::media::sniff(&clip).await?, Some(Format::Mp4));
/// # Ok(()) }
/// ```
pub async fn sniff(media: &Media) -> Result<Option<Format>> {
    Ok(match &media.source {
        MediaSource::Path(path) => sniff_file(path).await?,
        MediaSource::Bytes { data, .. } => Format::sniff(data),
        MediaSource::Url(url) => media
            .mime
            .as_ref()
            .and_then(|mime| Format::from_mime(mime.essence_str()))
            .or_else(|| {
                let (_, ext) = url.path().rsplit_once('.')?;
                Format::from_extension(ext)
            }),
        // A source added after this version: nothing known to sniff.
        _ => None,
    })
}

/// The format of the file at `path`, from its first bytes (read with `tokio::fs`). `None` when
/// no known signature matches; an unreadable file is `InvalidInput`, naming it.
pub async fn sniff_file(path: &Path) -> Result<Option<Format>> {
    let unreadable =
        |e: std::io::Error| Error::invalid_input(format!("{} cannot be read: {e}", path.display()));
    let mut file = tokio::fs::File::open(path).await.map_err(unreadable)?;
    let mut head = [0u8; HEAD_BYTES];
    let mut filled = 0;
    while filled < HEAD_BYTES {
        let read = file
            .read(head.get_mut(filled..).unwrap_or_default())
            .await
            .map_err(unreadable)?;
        if read == 0 {
            break;
        }
        filled += read;
    }
    Ok(Format::sniff(head.get(..filled).unwrap_or_default()))
}

/// [`validate`](crate::validate) for async code: local files are probed on a blocking thread
/// (`tokio::task::spawn_blocking`), so the runtime's workers never wait on the disk. A post
/// with no local file is checked in place.
///
/// ```
/// # mod cmis { pub use cmis_core::*; pub mod media { pub use cmis_media::*; } }
/// use cmis::{Platform, Post, Surface};
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let post = Post::new().with_text("a".repeat(2_300));
/// let err = cmis::media::validate_async(Platform::Instagram, Surface::Feed, &post).await.unwrap_err();
/// assert_eq!(err.violation_list()[0].rule, "instagram.feed.caption.max_len");
/// # }
/// ```
pub async fn validate_async(platform: Platform, surface: Surface, post: &Post) -> Result<()> {
    validate_with_async(&Rules::for_target(platform, surface)?, post).await
}

/// [`validate_with`](crate::validate_with) for async code, probing local files on a blocking thread; see
/// [`validate_async`].
pub async fn validate_with_async(rules: &Rules, post: &Post) -> Result<()> {
    if !post
        .media
        .iter()
        .any(|m| matches!(m.source, MediaSource::Path(_)))
    {
        return validate_with(rules, post);
    }
    let (rules, post) = (rules.clone(), post.clone());
    tokio::task::spawn_blocking(move || validate_with(&rules, &post))
        .await
        .map_err(|e| Error::internal(format!("the media check could not run: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_file_is_sniffed_from_its_bytes_not_its_name() {
        let dir = std::env::temp_dir().join(format!("cmis-sniff-{}", std::process::id()));
        tokio::fs::create_dir_all(&dir).await.unwrap();
        let path = dir.join("looks-like.jpg");
        let mut webm = vec![0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x82, 0x84];
        webm.extend_from_slice(b"webm");
        tokio::fs::write(&path, &webm).await.unwrap();
        assert_eq!(
            sniff(&Media::path(&path)).await.unwrap(),
            Some(Format::Webm)
        );
        let text = dir.join("notes.mp4");
        tokio::fs::write(&text, b"hello").await.unwrap();
        assert_eq!(sniff(&Media::path(&text)).await.unwrap(), None);
        tokio::fs::remove_dir_all(&dir).await.unwrap();
    }

    #[tokio::test]
    async fn a_missing_file_is_invalid_input_naming_it() {
        let err = sniff(&Media::path("/nonexistent/cmis/clip.mp4"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), cmis_core::ErrorKind::InvalidInput);
        assert!(
            err.message().contains("/nonexistent/cmis/clip.mp4"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_url_goes_by_its_declared_type_then_its_extension() {
        let url = |s: &str| Media::url(s.parse().unwrap());
        let declared = url("https://cdn.example.com/v?id=1").with_mime(cmis_core::mime::IMAGE_PNG);
        assert_eq!(sniff(&declared).await.unwrap(), Some(Format::Png));
        assert_eq!(
            sniff(&url("https://cdn.example.com/a/clip.MOV"))
                .await
                .unwrap(),
            Some(Format::Mov)
        );
        assert_eq!(
            sniff(&url("https://cdn.example.com/v?id=1")).await.unwrap(),
            None
        );
    }
}
