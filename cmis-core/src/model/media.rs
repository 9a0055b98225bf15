//! Media attached to a post.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use mime::Mime;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::{Error, Result};

/// Where a media item's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MediaSource {
    /// A local file, streamed from disk when uploaded.
    Path(PathBuf),
    /// Bytes in memory, with an optional file name for messages and uploads.
    Bytes {
        /// A file name for messages and multipart uploads.
        name: Option<String>,
        /// The content.
        data: Bytes,
    },
    /// A public URL that the platform fetches itself (Instagram, TikTok `PULL_FROM_URL`).
    Url(Url),
}

/// One photo or video attached to a [`Post`](crate::Post).
///
/// The declared MIME type is optional and never trusted: `cmis-media` sniffs the real type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Media {
    /// Where the bytes come from.
    pub source: MediaSource,
    /// The MIME type the caller declared, if any.
    #[serde(default, with = "mime_serde")]
    pub mime: Option<Mime>,
    /// Alternative text for accessibility, where the platform supports it.
    #[serde(default)]
    pub alt_text: Option<String>,
}

impl Media {
    /// A media item from `source`.
    pub fn new(source: MediaSource) -> Self {
        Self {
            source,
            mime: None,
            alt_text: None,
        }
    }

    /// A local file.
    pub fn path(path: impl Into<PathBuf>) -> Self {
        Self::new(MediaSource::Path(path.into()))
    }

    /// A public URL.
    pub fn url(url: Url) -> Self {
        Self::new(MediaSource::Url(url))
    }

    /// Bytes in memory.
    pub fn bytes(name: Option<String>, data: impl Into<Bytes>) -> Self {
        Self::new(MediaSource::Bytes {
            name,
            data: data.into(),
        })
    }

    /// Parses a command-line style `PATH_OR_URL`: `http://` and `https://` values are URLs,
    /// anything else is a local path.
    ///
    /// ```
    /// use cmis_core::{Media, MediaSource};
    /// assert!(matches!(Media::from_path_or_url("https://example.com/a.jpg")?.source, MediaSource::Url(_)));
    /// assert!(matches!(Media::from_path_or_url("./a.jpg")?.source, MediaSource::Path(_)));
    /// # Ok::<(), cmis_core::Error>(())
    /// ```
    pub fn from_path_or_url(value: &str) -> Result<Self> {
        let trimmed = value.trim();
        if trimmed.is_empty() {
            return Err(Error::invalid_input("media path or URL is empty"));
        }
        let lower = trimmed.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            let url = Url::parse(trimmed).map_err(|e| {
                Error::invalid_input(format!("media URL {trimmed:?} is not a valid URL: {e}"))
            })?;
            Ok(Self::url(url))
        } else {
            Ok(Self::path(trimmed))
        }
    }

    /// Sets the declared MIME type.
    #[must_use]
    pub fn with_mime(mut self, mime: Mime) -> Self {
        self.mime = Some(mime);
        self
    }

    /// Sets the alternative text.
    #[must_use]
    pub fn with_alt_text(mut self, alt: impl Into<String>) -> Self {
        self.alt_text = Some(alt.into());
        self
    }

    /// A short name for messages: the file name, the URL, or `<bytes>`.
    pub fn display_name(&self) -> String {
        match &self.source {
            MediaSource::Path(p) => file_name(p),
            MediaSource::Bytes { name, .. } => name.clone().unwrap_or_else(|| "<bytes>".into()),
            MediaSource::Url(u) => u.to_string(),
        }
    }
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}

mod mime_serde {
    use mime::Mime;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(m: &Option<Mime>, s: S) -> Result<S::Ok, S::Error> {
        match m {
            Some(m) => s.serialize_some(m.as_ref()),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Mime>, D::Error> {
        let raw = Option::<String>::deserialize(d)?;
        raw.map(|s| s.parse().map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_round_trips_through_json() {
        let m = Media::path("/tmp/a.jpg")
            .with_mime(mime::IMAGE_JPEG)
            .with_alt_text("a cat");
        let json = serde_json::to_string(&m).unwrap();
        let back: Media = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn bad_url_is_invalid_input() {
        let err = Media::from_path_or_url("https://exa mple.com/a.jpg").unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
        assert!(Media::from_path_or_url("  ").is_err());
    }
}
