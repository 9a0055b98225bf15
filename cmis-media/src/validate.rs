//! Checking a post against a platform's rules, reporting every violation at once.

use std::path::Path;
use std::time::Duration;

use cmis_core::{Error, Media, MediaSource, Platform, Post, Result, Surface, Violation};

use crate::rules::{ImageRules, Rules, TextRules, VideoRules};
use crate::{ColorType, Format, MediaInfo, probe_bytes, probe_file};

/// Aspect ratios are compared with this slack, so that 1080×1350 is 4:5 and 1080×1916 is 9:16.
const ASPECT_SLACK: f64 = 0.01;

/// Checks `post` against the built-in rules of `platform` and `surface`, before any network call.
///
/// Local files and bytes are probed (headers only); media at a URL is checked for what can be
/// known without downloading it (count, and format by the URL's extension). The error lists every
/// violation ([`Error::violation_list`](cmis_core::Error::violation_list)), each naming the file, the rule, the value
/// found and what is allowed.
///
/// ```
/// # mod cmis { pub use cmis_core::*; pub mod media { pub use cmis_media::*; } }
/// use cmis::{Media, Platform, Post, Surface};
/// let post = Post::new().with_text("#a #b #c #d #e #f").with_media(Media::bytes(Some("x.txt".into()), "text"));
/// let err = cmis::media::validate(Platform::Instagram, Surface::Feed, &post).unwrap_err();
/// let rules: Vec<_> = err.violation_list().iter().map(|v| v.rule.as_str()).collect();
/// assert_eq!(rules, ["instagram.feed.caption.max_hashtags", "instagram.feed.media.readable"]);
/// ```
pub fn validate(platform: Platform, surface: Surface, post: &Post) -> Result<()> {
    validate_with(&Rules::for_target(platform, surface)?, post)
}

/// Checks `post` against `rules` (for example TikTok's rules narrowed to the creator's
/// `max_video_post_duration_sec`). See [`validate`].
pub fn validate_with(rules: &Rules, post: &Post) -> Result<()> {
    let violations = violations(rules, post);
    if violations.is_empty() {
        Ok(())
    } else {
        Err(Error::violations(violations))
    }
}

/// Every rule of `rules` that `post` breaks; empty when it passes.
pub fn violations(rules: &Rules, post: &Post) -> Vec<Violation> {
    let mut v = Checker {
        prefix: rules.rule_prefix(),
        out: Vec::new(),
    };
    let items: Vec<Item> = post.media.iter().map(Item::from_media).collect();
    let images = items
        .iter()
        .filter(|i| i.kind() == Some(Kind::Image))
        .count();
    let videos = items
        .iter()
        .filter(|i| i.kind() == Some(Kind::Video))
        .count();
    let photo_post = images > 0 && videos == 0;

    let caption = match (&rules.photo_caption, photo_post) {
        (Some(photo), true) => photo,
        _ => &rules.caption,
    };
    v.text("text", "caption", post.text_or_empty(), caption);
    if let (Some(title_rules), true, Some(title)) = (
        &rules.photo_title,
        photo_post,
        post.options.tiktok.photo_title.as_deref(),
    ) {
        v.text("photo_title", "photo_title", title, title_rules);
    }

    v.items(rules, post.media.len(), images, videos);

    let convert = rules.platform == Platform::Instagram && post.options.instagram.convert_media;
    for item in &items {
        match &item.state {
            State::Probed(info) if info.format.is_image() => {
                if let Some(image) = &rules.image {
                    v.image(&item.name, info, image, convert);
                }
            }
            State::Probed(info) => {
                if let Some(video) = &rules.video {
                    v.video(&item.name, info, video);
                }
            }
            State::Unreadable(err) => v.push(
                &item.name,
                "media.readable",
                err.clone(),
                "a readable image or video",
            ),
            State::Remote(Some(format)) => v.remote(&item.name, *format, rules, convert),
            State::Remote(None) => {}
        }
    }
    v.out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Image,
    Video,
}

enum State {
    Probed(MediaInfo),
    Unreadable(String),
    /// A URL, with the format its extension suggests.
    Remote(Option<Format>),
}

struct Item {
    name: String,
    state: State,
}

impl Item {
    fn from_media(media: &Media) -> Self {
        let name = media.display_name();
        let probed = match &media.source {
            MediaSource::Path(path) => probe_file(path),
            MediaSource::Bytes { data, .. } => probe_bytes(&name, data),
            MediaSource::Url(url) => {
                let ext = Path::new(url.path())
                    .extension()
                    .and_then(|e| Format::from_extension(&e.to_string_lossy()));
                return Self {
                    name,
                    state: State::Remote(ext),
                };
            }
            _ => Err(Error::unsupported("unknown media source")),
        };
        let state = match probed {
            Ok(info) => State::Probed(info),
            Err(e) => State::Unreadable(e.message().to_owned()),
        };
        Self { name, state }
    }

    fn kind(&self) -> Option<Kind> {
        let format = match &self.state {
            State::Probed(info) => Some(info.format),
            State::Remote(f) => *f,
            State::Unreadable(_) => None,
        }?;
        if format.is_image() {
            Some(Kind::Image)
        } else if format.is_video() {
            Some(Kind::Video)
        } else {
            None
        }
    }
}

struct Checker {
    prefix: String,
    out: Vec<Violation>,
}

fn mb(bytes: u64) -> String {
    format!("{bytes} bytes")
}

fn secs(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

fn allowed_formats(formats: &[Format]) -> String {
    let names: Vec<&str> = formats.iter().map(Format::name).collect();
    names.join(" or ")
}

impl Checker {
    fn push(
        &mut self,
        subject: &str,
        rule: &str,
        actual: impl Into<String>,
        allowed: impl Into<String>,
    ) {
        self.out.push(Violation::new(
            subject,
            format!("{}.{rule}", self.prefix),
            actual,
            allowed,
        ));
    }

    fn text(&mut self, subject: &str, rule: &str, text: &str, rules: &TextRules) {
        let len = rules.unit.count(text);
        if len > rules.max_len {
            let unit = rules.unit.name();
            self.push(
                subject,
                &format!("{rule}.max_len"),
                format!("{len} {unit}"),
                format!("at most {} {unit}", rules.max_len),
            );
        }
        if let Some(max) = rules.max_bytes.filter(|max| text.len() > *max) {
            self.push(
                subject,
                &format!("{rule}.max_bytes"),
                format!("{} bytes", text.len()),
                format!("at most {max} bytes"),
            );
        }
        if let Some(max) = rules.max_hashtags {
            let n = count_tags(text, '#');
            if n > max {
                self.push(
                    subject,
                    &format!("{rule}.max_hashtags"),
                    format!("{n} hashtags"),
                    format!("at most {max}"),
                );
            }
        }
        if let Some(max) = rules.max_mentions {
            let n = count_tags(text, '@');
            if n > max {
                self.push(
                    subject,
                    &format!("{rule}.max_mentions"),
                    format!("{n} mentions"),
                    format!("at most {max}"),
                );
            }
        }
    }

    fn items(&mut self, rules: &Rules, total: usize, images: usize, videos: usize) {
        let r = &rules.items;
        if total < r.min {
            self.push(
                "media",
                "media.min_items",
                format!("{total} items"),
                format!("at least {}", r.min),
            );
        }
        if total > r.max {
            self.push(
                "media",
                "media.max_items",
                format!("{total} items"),
                format!("at most {}", r.max),
            );
        }
        // A per-kind cap equal to the total cap would only repeat `max_items`.
        if images > r.max_images && r.max_images < r.max {
            let allowed = if r.max_images == 0 {
                "no images (videos only)".to_owned()
            } else {
                format!("at most {}", r.max_images)
            };
            self.push(
                "media",
                "media.max_images",
                format!("{images} images"),
                allowed,
            );
        }
        if videos > r.max_videos && r.max_videos < r.max {
            let allowed = if r.max_videos == 0 {
                "no videos".to_owned()
            } else {
                format!("at most {}", r.max_videos)
            };
            self.push(
                "media",
                "media.max_videos",
                format!("{videos} videos"),
                allowed,
            );
        }
        if !r.mixed && images > 0 && videos > 0 {
            self.push(
                "media",
                "media.mixed",
                format!("{images} images and {videos} videos"),
                "images or videos, not both",
            );
        }
    }

    fn remote(&mut self, name: &str, format: Format, rules: &Rules, convert: bool) {
        let accepted = if format.is_image() {
            rules.image.as_ref().map(|r| {
                (
                    "image.format",
                    r.formats.contains(&format) || (convert && r.convertible.contains(&format)),
                    allowed_formats(&r.formats),
                )
            })
        } else {
            rules.video.as_ref().map(|r| {
                (
                    "video.format",
                    r.formats.contains(&format),
                    allowed_formats(&r.formats),
                )
            })
        };
        if let Some((rule, false, allowed)) = accepted {
            self.push(
                name,
                rule,
                format!("{format} (by the URL's extension)"),
                allowed,
            );
        }
    }

    fn image(&mut self, name: &str, info: &MediaInfo, r: &ImageRules, convert: bool) {
        let cmyk = r.srgb && info.color == Some(ColorType::Cmyk);
        let converting = convert
            && (r.convertible.contains(&info.format) || (cmyk && r.formats.contains(&info.format)));
        if !r.formats.contains(&info.format) && !converting {
            let actual = if info.format == Format::Heic {
                "HEIC (cmis cannot convert HEIC: export it as JPEG)".to_owned()
            } else if r.convertible.contains(&info.format) {
                format!("{} (allow conversion to convert it)", info.format)
            } else {
                info.format.name().to_owned()
            };
            self.push(name, "image.format", actual, allowed_formats(&r.formats));
        }
        if cmyk && !converting {
            self.push(
                name,
                "image.color",
                "CMYK (allow conversion to convert it)",
                "sRGB (RGB or grayscale)",
            );
        }
        // A converted image is re-encoded and downscaled to the maximum, so its size and width
        // are checked after conversion, not here.
        if let Some(max) = r.max_bytes
            && !converting
            && info.size_bytes > max
        {
            self.push(
                name,
                "image.max_bytes",
                mb(info.size_bytes),
                format!("at most {}", mb(max)),
            );
        }
        if let Some(w) = info.width {
            if let Some(min) = r.min_width
                && w < min
            {
                self.push(
                    name,
                    "image.min_width",
                    format!("{w} px"),
                    format!("at least {min} px"),
                );
            }
            if let Some(max) = r.max_width
                && w > max
                && !converting
            {
                self.push(
                    name,
                    "image.max_width",
                    format!("{w} px"),
                    format!("at most {max} px"),
                );
            }
        }
        if let (Some(h), Some(max)) = (info.height, r.max_height)
            && h > max
            && !converting
        {
            self.push(
                name,
                "image.max_height",
                format!("{h} px"),
                format!("at most {max} px"),
            );
        }
        self.aspect(name, "image", info, r.min_aspect, r.max_aspect);
    }

    fn aspect(
        &mut self,
        name: &str,
        what: &str,
        info: &MediaInfo,
        min: Option<f64>,
        max: Option<f64>,
    ) {
        let Some(ratio) = info.aspect_ratio() else {
            return;
        };
        let too_narrow = min.is_some_and(|m| ratio < m - ASPECT_SLACK);
        let too_wide = max.is_some_and(|m| ratio > m + ASPECT_SLACK);
        if too_narrow || too_wide {
            let allowed = match (min, max) {
                (Some(a), Some(b)) if (a - b).abs() < f64::EPSILON => format!("{a:.4}:1"),
                (Some(a), Some(b)) => format!("{a:.4}:1 to {b:.4}:1"),
                (Some(a), None) => format!("at least {a:.4}:1"),
                (None, Some(b)) => format!("at most {b:.4}:1"),
                (None, None) => String::new(),
            };
            let (w, h) = (info.width.unwrap_or(0), info.height.unwrap_or(0));
            self.push(
                name,
                &format!("{what}.aspect_ratio"),
                format!("{ratio:.4}:1 ({w}×{h})"),
                allowed,
            );
        }
    }

    fn video(&mut self, name: &str, info: &MediaInfo, r: &VideoRules) {
        if !r.formats.contains(&info.format) {
            self.push(
                name,
                "video.format",
                info.format.name(),
                allowed_formats(&r.formats),
            );
        }
        if let Some(codec) = &info.video_codec
            && !r.codecs.is_empty()
            && !r.codecs.contains(codec)
        {
            let names: Vec<&str> = r.codecs.iter().map(|c| c.name()).collect();
            self.push(name, "video.codec", codec.name(), names.join(" or "));
        }
        if let Some(max) = r.max_bytes
            && info.size_bytes > max
        {
            self.push(
                name,
                "video.max_bytes",
                mb(info.size_bytes),
                format!("at most {}", mb(max)),
            );
        }
        if info.duration.is_none() && (r.min_duration.is_some() || r.max_duration.is_some()) {
            // A length that cannot be read would pass every duration rule unseen.
            self.push(
                name,
                "video.duration",
                "unknown (the file does not say how long it is)",
                "a video whose length can be read (MP4/MOV with a movie header or fragments, \
                 WebM with a duration)",
            );
        }
        if let Some(d) = info.duration {
            if let Some(min) = r.min_duration
                && d < min
            {
                self.push(
                    name,
                    "video.min_duration",
                    secs(d),
                    format!("at least {}", secs(min)),
                );
            }
            if let Some(max) = r.max_duration
                && d > max
            {
                self.push(
                    name,
                    "video.max_duration",
                    secs(d),
                    format!("at most {}", secs(max)),
                );
            }
        }
        if let Some(fps) = info.frame_rate {
            // Encoders write 29.97 as 30000/1001 and 23.976 as 24000/1001: a small slack.
            if let Some(min) = r.min_fps
                && fps < min - 0.05
            {
                self.push(
                    name,
                    "video.min_fps",
                    format!("{fps:.3} fps"),
                    format!("at least {min} fps"),
                );
            }
            if let Some(max) = r.max_fps
                && fps > max + 0.05
            {
                self.push(
                    name,
                    "video.max_fps",
                    format!("{fps:.3} fps"),
                    format!("at most {max} fps"),
                );
            }
        }
        if let (Some(w), Some(h)) = (info.width, info.height) {
            let dims = format!("{w}×{h}");
            if let Some(min) = r.min_side
                && w.min(h) < min
            {
                self.push(
                    name,
                    "video.min_side",
                    dims.clone(),
                    format!("each side at least {min} px"),
                );
            }
            if let Some(max) = r.max_side
                && w.max(h) > max
            {
                self.push(
                    name,
                    "video.max_side",
                    dims.clone(),
                    format!("each side at most {max} px"),
                );
            }
            if let Some(min) = r.min_width
                && w < min
            {
                self.push(
                    name,
                    "video.min_width",
                    dims.clone(),
                    format!("at least {min} px wide"),
                );
            }
            if let Some(min) = r.min_height
                && h < min
            {
                self.push(
                    name,
                    "video.min_height",
                    dims.clone(),
                    format!("at least {min} px high"),
                );
            }
            if let Some(max) = r.max_width
                && w > max
            {
                self.push(
                    name,
                    "video.max_width",
                    dims,
                    format!("at most {max} px wide"),
                );
            }
        }
        self.aspect(name, "video", info, r.min_aspect, r.max_aspect);
        if r.moov_first && info.moov_before_mdat == Some(false) {
            self.push(
                name,
                "video.moov_first",
                "moov after mdat",
                "moov before mdat (re-mux with `-movflags +faststart`)",
            );
        }
    }
}

/// Counts `#tags` or `@mentions`: the sigil at the start or after whitespace, followed by a word
/// character.
pub(crate) fn count_tags(text: &str, sigil: char) -> usize {
    let mut count = 0;
    let mut prev: Option<char> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == sigil
            && prev.is_none_or(char::is_whitespace)
            && chars
                .peek()
                .is_some_and(|n| n.is_alphanumeric() || *n == '_')
        {
            count += 1;
        }
        prev = Some(c);
    }
    count
}

#[cfg(test)]
mod tests {
    use super::count_tags;

    #[test]
    fn tags_need_a_word_after_the_sigil_and_space_before() {
        assert_eq!(count_tags("#a #b c#d # e #_f", '#'), 3);
        assert_eq!(count_tags("mail me@example.com @cmis", '@'), 1);
        assert_eq!(count_tags("", '#'), 0);
    }
}
