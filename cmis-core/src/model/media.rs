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
    ///
    /// In JSON (a stored job, a checkpoint) the content is one base64 string (standard
    /// alphabet, padded); the array of numbers that earlier versions wrote is still read.
    Bytes {
        /// A file name for messages and multipart uploads.
        name: Option<String>,
        /// The content.
        #[serde(with = "base64_bytes")]
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
    /// # mod cmis { pub use cmis_core::*; }
    /// use cmis::{Media, MediaSource};
    /// assert!(matches!(Media::from_path_or_url("https://example.com/a.jpg")?.source, MediaSource::Url(_)));
    /// assert!(matches!(Media::from_path_or_url("./a.jpg")?.source, MediaSource::Path(_)));
    /// # Ok::<(), cmis::Error>(())
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

/// In-memory media as one base64 string in human-readable formats (JSON: about 1.33 bytes per
/// byte, where the default array of numbers takes 3.5 to 4), raw bytes in binary ones.
mod base64_bytes {
    use std::fmt;

    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use bytes::Bytes;
    use serde::de::{self, SeqAccess, Visitor};
    use serde::{Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(data: &Bytes, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&STANDARD.encode(data))
        } else {
            s.serialize_bytes(data)
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Bytes, D::Error> {
        if d.is_human_readable() {
            d.deserialize_any(BytesVisitor)
        } else {
            d.deserialize_byte_buf(BytesVisitor)
        }
    }

    struct BytesVisitor;

    impl<'de> Visitor<'de> for BytesVisitor {
        type Value = Bytes;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a base64 string or an array of bytes")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Bytes, E> {
            STANDARD
                .decode(v)
                .map(Bytes::from)
                .map_err(|e| E::custom(format_args!("media bytes are not valid base64: {e}")))
        }

        fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Bytes, E> {
            Ok(Bytes::copy_from_slice(v))
        }

        fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Bytes, E> {
            Ok(Bytes::from(v))
        }

        /// The array of numbers written before the base64 form.
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Bytes, A::Error> {
            // The hint comes from the input: trust it only up to a bound.
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 20));
            while let Some(b) = seq.next_element::<u8>()? {
                out.push(b);
            }
            Ok(Bytes::from(out))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes_post() -> crate::Post {
        crate::Post::new()
            .with_text("in memory")
            .with_media(Media::bytes(None, vec![0u8; 1 << 20]))
    }

    #[test]
    fn in_memory_media_is_stored_as_base64_and_round_trips() {
        let post = bytes_post();
        let json = serde_json::to_string(&post).unwrap();
        // Base64 is 4/3 of the payload; the old array of numbers was about twice this limit.
        assert!(json.len() < 1400 * 1024, "{} bytes of JSON", json.len());
        let back: crate::Post = serde_json::from_str(&json).unwrap();
        assert_eq!(back, post);

        let small = Media::bytes(Some("a.jpg".into()), &b"\xff\xd8\xffcat"[..]);
        assert_eq!(
            serde_json::to_value(&small).unwrap()["source"],
            serde_json::json!({"bytes": {"name": "a.jpg", "data": "/9j/Y2F0"}})
        );
    }

    #[test]
    fn in_memory_media_written_as_an_array_of_numbers_still_loads() {
        // The form earlier versions stored.
        let old =
            r#"{"source":{"bytes":{"name":"a.jpg","data":[255,216,255,99,97,116]}},"mime":null}"#;
        let media: Media = serde_json::from_str(old).unwrap();
        assert_eq!(
            media,
            Media::bytes(Some("a.jpg".into()), &b"\xff\xd8\xffcat"[..])
        );
        let mut value = serde_json::to_value(bytes_post()).unwrap();
        let array: Vec<u8> = vec![0u8; 1 << 20];
        value["media"][0]["source"]["bytes"]["data"] = serde_json::json!(array);
        let back: crate::Post = serde_json::from_value(value).unwrap();
        assert_eq!(back, bytes_post());
    }

    #[test]
    fn media_bytes_that_are_not_base64_are_refused() {
        let bad = r#"{"source":{"bytes":{"name":null,"data":"not base64!"}}}"#;
        let err = serde_json::from_str::<Media>(bad).unwrap_err();
        assert!(err.to_string().contains("not valid base64"), "{err}");
    }

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
