//! Turns a [`Post`] into what will be sent to TikTok, checking every rule that can be checked
//! without a network call.

use std::net::IpAddr;

use bytes::Bytes;
use cmis_core::{
    Error, Media, MediaSource, Platform, Post, PrivacyLevel, Result, Surface, Target, Violation,
};
use url::{Host, Url};

/// At most this many images in one photo post.
pub(crate) const MAX_PHOTOS: usize = 35;
/// Video titles: at most this many UTF-16 code units.
pub(crate) const MAX_VIDEO_TITLE: usize = 2200;
/// Photo titles: at most this many UTF-16 code units.
pub(crate) const MAX_PHOTO_TITLE: usize = 90;
/// Photo descriptions: at most this many UTF-16 code units.
pub(crate) const MAX_PHOTO_DESCRIPTION: usize = 4000;
/// TikTok's largest video.
pub(crate) const MAX_VIDEO_BYTES: u64 = 4 * 1024 * 1024 * 1024;

/// Where a video's bytes come from.
#[derive(Debug, Clone)]
pub(crate) enum VideoSource {
    File(std::path::PathBuf),
    Memory(Bytes),
    Pull(Url),
}

/// What a post becomes on TikTok.
#[derive(Debug, Clone)]
pub(crate) enum Plan {
    Video {
        source: VideoSource,
        declared_mime: Option<String>,
    },
    Photos {
        urls: Vec<Url>,
        cover_index: u32,
    },
}

impl Plan {
    pub(crate) fn is_video(&self) -> bool {
        matches!(self, Self::Video { .. })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Video,
    Image,
    Png,
    Unknown,
}

fn kind_of(media: &Media) -> Kind {
    if let Some(m) = &media.mime {
        match (m.type_().as_str(), m.subtype().as_str()) {
            ("video", _) => return Kind::Video,
            ("image", "png") => return Kind::Png,
            ("image", _) => return Kind::Image,
            _ => {}
        }
    }
    let name = match &media.source {
        MediaSource::Path(p) => p.to_string_lossy().into_owned(),
        MediaSource::Bytes { name, .. } => name.clone().unwrap_or_default(),
        MediaSource::Url(u) => u.path().to_owned(),
        _ => String::new(),
    };
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("mp4" | "m4v" | "mov" | "webm") => Kind::Video,
        Some("jpg" | "jpeg" | "webp") => Kind::Image,
        Some("png") => Kind::Png,
        _ => Kind::Unknown,
    }
}

/// UTF-16 code units, TikTok's unit for text limits ("runes").
pub(crate) fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// A `PULL_FROM_URL` URL: HTTPS on a domain name (TikTok refuses IP hosts and redirects).
fn check_pull_url(subject: &str, url: &Url, violations: &mut Vec<Violation>) {
    if url.scheme() != "https" {
        violations.push(Violation::new(
            subject,
            "tiktok.pull_url.https",
            url.scheme(),
            "https (on a domain verified for the app)",
        ));
    }
    let ip_host = match url.host() {
        Some(Host::Domain(d)) => d.parse::<IpAddr>().is_ok(),
        Some(Host::Ipv4(_) | Host::Ipv6(_)) => true,
        None => true,
    };
    if ip_host {
        violations.push(Violation::new(
            subject,
            "tiktok.pull_url.domain",
            url.host_str().unwrap_or("no host"),
            "a verified domain name, not an IP address",
        ));
    }
}

/// Checks `post` for `target` and plans it. Reports every broken rule at once.
pub(crate) fn plan(target: &Target, post: &Post) -> Result<Plan> {
    let mut v = Vec::new();
    if target.platform() != Platform::TikTok {
        v.push(Violation::new(
            "target",
            "tiktok.target.platform",
            target.platform().as_str(),
            "tiktok",
        ));
    }
    if target.surface != Surface::Feed {
        v.push(Violation::new(
            "target",
            "tiktok.target.surface",
            target.surface.to_string(),
            "feed",
        ));
    }
    let opts = &post.options.tiktok;
    let draft = opts.draft;
    if !draft && opts.privacy_level.is_none() {
        v.push(Violation::new(
            "tiktok.privacy_level",
            "tiktok.privacy_level.required",
            "none chosen",
            "a level the user picked from creator info's privacy_level_options (TikTok allows no default)",
        ));
    }
    if !draft && opts.brand_content_toggle && opts.privacy_level == Some(PrivacyLevel::SelfOnly) {
        v.push(Violation::new(
            "tiktok.privacy_level",
            "tiktok.branded_content.visibility",
            "SELF_ONLY with branded content",
            "branded content cannot be private (SELF_ONLY)",
        ));
    }
    let kinds: Vec<Kind> = post.media.iter().map(kind_of).collect();
    for (i, k) in kinds.iter().enumerate() {
        let name = post
            .media
            .get(i)
            .map(Media::display_name)
            .unwrap_or_default();
        match k {
            Kind::Png => v.push(Violation::new(
                format!("media[{i}] {name}"),
                "tiktok.photo.format",
                "PNG",
                "JPEG or WebP",
            )),
            Kind::Unknown => v.push(Violation::new(
                format!("media[{i}] {name}"),
                "tiktok.media.type",
                "unknown type",
                "an .mp4/.mov/.webm video or a .jpg/.webp image (or a declared MIME type)",
            )),
            _ => {}
        }
    }
    let plan = match post.media.as_slice() {
        [] => {
            v.push(Violation::new(
                "media",
                "tiktok.media.required",
                "no media",
                "one video, or 1 to 35 images",
            ));
            None
        }
        [one] if kinds.first() == Some(&Kind::Video) => {
            let text = post.text_or_empty();
            if utf16_len(text) > MAX_VIDEO_TITLE {
                v.push(Violation::new(
                    "text",
                    "tiktok.video.title.max_length",
                    format!("{} UTF-16 units", utf16_len(text)),
                    format!("at most {MAX_VIDEO_TITLE}"),
                ));
            }
            let source = match &one.source {
                MediaSource::Path(p) => Some(VideoSource::File(p.clone())),
                MediaSource::Bytes { data, .. } => {
                    if data.is_empty() {
                        v.push(Violation::new(
                            "media[0]",
                            "tiktok.video.empty",
                            "0 bytes",
                            "a video",
                        ));
                    }
                    Some(VideoSource::Memory(data.clone()))
                }
                MediaSource::Url(u) => {
                    check_pull_url("media[0]", u, &mut v);
                    Some(VideoSource::Pull(u.clone()))
                }
                _ => {
                    v.push(Violation::new(
                        "media[0]",
                        "tiktok.media.source",
                        "unknown source",
                        "a file, bytes or an https URL",
                    ));
                    None
                }
            };
            source.map(|source| Plan::Video {
                source,
                declared_mime: one.mime.as_ref().map(|m| m.essence_str().to_owned()),
            })
        }
        media => {
            if kinds.contains(&Kind::Video) {
                v.push(Violation::new(
                    "media",
                    "tiktok.media.mixed",
                    format!("{} items including a video", media.len()),
                    "one video alone, or 1 to 35 images",
                ));
            }
            if media.len() > MAX_PHOTOS {
                v.push(Violation::new(
                    "media",
                    "tiktok.photo.max_count",
                    media.len().to_string(),
                    format!("at most {MAX_PHOTOS} images"),
                ));
            }
            let mut urls = Vec::new();
            for (i, m) in media.iter().enumerate() {
                match &m.source {
                    MediaSource::Url(u) => {
                        check_pull_url(&format!("media[{i}]"), u, &mut v);
                        urls.push(u.clone());
                    }
                    _ => v.push(Violation::new(
                        format!("media[{i}] {}", m.display_name()),
                        "tiktok.photo.source",
                        "a local file or bytes",
                        "an https URL on a domain verified for the app (TikTok only pulls photos)",
                    )),
                }
            }
            let cover_index = opts.photo_cover_index.unwrap_or(0);
            if usize::try_from(cover_index).map_or(true, |c| c >= media.len()) {
                v.push(Violation::new(
                    "tiktok.photo_cover_index",
                    "tiktok.photo.cover_index",
                    cover_index.to_string(),
                    format!("0 to {}", media.len().saturating_sub(1)),
                ));
            }
            let title = opts.photo_title.as_deref().unwrap_or("");
            if utf16_len(title) > MAX_PHOTO_TITLE {
                v.push(Violation::new(
                    "tiktok.photo_title",
                    "tiktok.photo.title.max_length",
                    format!("{} UTF-16 units", utf16_len(title)),
                    format!("at most {MAX_PHOTO_TITLE}"),
                ));
            }
            let description = post.text_or_empty();
            if utf16_len(description) > MAX_PHOTO_DESCRIPTION {
                v.push(Violation::new(
                    "text",
                    "tiktok.photo.description.max_length",
                    format!("{} UTF-16 units", utf16_len(description)),
                    format!("at most {MAX_PHOTO_DESCRIPTION}"),
                ));
            }
            Some(Plan::Photos { urls, cover_index })
        }
    };
    match plan {
        Some(plan) if v.is_empty() => Ok(plan),
        _ => Err(Error::violations(v)),
    }
}

/// TikTok's media rules from `cmis-media` (containers, codecs, frame rate, dimensions, size,
/// the API's 10-minute maximum; JPEG/WebP photos), checked on the files' headers. Files are read
/// on a blocking thread; URLs are checked by their extension only.
pub(crate) async fn media_preflight(post: &Post) -> Result<()> {
    cmis_media::validate_async(Platform::TikTok, Surface::Feed, post).await
}
