//! Platform media and caption rules, as versioned data.
//!
//! Figures come from the platforms' documentation as collected in cmis's reference notes
//! (`docs/meta-graph-api.md`, `docs/tiktok-api.md`, `docs/threads-api.md`, `docs/bluesky-api.md`,
//! `docs/linkedin-api.md`, `docs/youtube-api.md`, `docs/ai-providers.md` §6). Where a page says
//! "MB" without saying which, cmis reads it as decimal megabytes (10^6 bytes): the smaller
//! reading, so a file cmis passes is never over the limit whichever the platform meant.

use std::time::Duration;

use cmis_core::{Error, Platform, Result, Surface};

use crate::{Format, VideoCodec};

/// The version of the rule set: the date the figures were last checked against the sources.
pub const RULES_VERSION: &str = "2026-12-07";

/// Instagram's default hashtag cap. The Graph API reference said "Maximum 2200 characters, 30
/// hashtags, and 20 @ tags"; in December 2025 Adam Mosseri announced a cap of 5 hashtags
/// (docs/ai-providers.md §6), so cmis defaults to 5. Override it with [`Rules::with_max_hashtags`].
pub const INSTAGRAM_DEFAULT_MAX_HASHTAGS: usize = 5;

const MB: u64 = 1_000_000;

/// How a platform counts the length of a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LengthUnit {
    /// Unicode scalar values ("characters"): Instagram and Facebook.
    Chars,
    /// UTF-16 code units: TikTok ("runes"), where an emoji outside the BMP counts 2.
    Utf16,
    /// Extended grapheme clusters, what a reader sees as one character: Bluesky, where a flag
    /// or a family emoji counts 1.
    Graphemes,
    /// UTF-8 bytes: Threads, where an accented letter counts 2 and most emoji 4.
    Utf8Bytes,
}

impl LengthUnit {
    /// The length of `text` in this unit.
    ///
    /// ```
    /// # mod cmis { pub use cmis_core::*; pub mod media { pub use cmis_media::*; } }
    /// use cmis::media::LengthUnit;
    /// assert_eq!(LengthUnit::Chars.count("🎉a"), 2);
    /// assert_eq!(LengthUnit::Utf16.count("🎉a"), 3);
    /// assert_eq!(LengthUnit::Graphemes.count("👩‍👩‍👧a"), 2);
    /// assert_eq!(LengthUnit::Utf8Bytes.count("🎉a"), 5);
    /// ```
    pub fn count(&self, text: &str) -> usize {
        match self {
            Self::Chars => text.chars().count(),
            Self::Utf16 => text.encode_utf16().count(),
            Self::Graphemes => {
                unicode_segmentation::UnicodeSegmentation::graphemes(text, true).count()
            }
            Self::Utf8Bytes => text.len(),
        }
    }

    /// The unit's name for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Chars => "characters",
            Self::Utf16 => "UTF-16 units",
            Self::Graphemes => "graphemes",
            Self::Utf8Bytes => "bytes",
        }
    }
}

/// Limits on a text field.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TextRules {
    /// The longest text allowed, in `unit`.
    pub max_len: usize,
    /// How the length is counted.
    pub unit: LengthUnit,
    /// The most `#hashtags`, if capped.
    pub max_hashtags: Option<usize>,
    /// The most `@mentions`, if capped.
    pub max_mentions: Option<usize>,
    /// The most UTF-8 bytes, where the platform caps the bytes besides `max_len` (Bluesky).
    pub max_bytes: Option<usize>,
}

impl TextRules {
    /// A length limit with no hashtag or mention cap.
    pub fn new(max_len: usize, unit: LengthUnit) -> Self {
        Self {
            max_len,
            unit,
            max_hashtags: None,
            max_mentions: None,
            max_bytes: None,
        }
    }

    /// Caps the text's UTF-8 bytes as well as its length.
    #[must_use]
    pub fn with_max_bytes(mut self, max: usize) -> Self {
        self.max_bytes = Some(max);
        self
    }
}

/// How many media items a post may have, and of which kind.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ItemRules {
    /// The fewest items (0 where a text-only post is allowed).
    pub min: usize,
    /// The most items.
    pub max: usize,
    /// The most images.
    pub max_images: usize,
    /// The most videos.
    pub max_videos: usize,
    /// Whether images and videos may be mixed in one post.
    pub mixed: bool,
}

/// Rules for images.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ImageRules {
    /// Formats the platform accepts.
    pub formats: Vec<Format>,
    /// Formats cmis converts to the first accepted format when the caller allows conversion.
    pub convertible: Vec<Format>,
    /// The largest file.
    pub max_bytes: Option<u64>,
    /// The narrowest image.
    pub min_width: Option<u32>,
    /// The widest image (cmis downscales to it when converting).
    pub max_width: Option<u32>,
    /// The tallest image.
    pub max_height: Option<u32>,
    /// The smallest width / height.
    pub min_aspect: Option<f64>,
    /// The largest width / height.
    pub max_aspect: Option<f64>,
    /// Whether the platform wants sRGB: CMYK images are refused (converting them fixes it).
    pub srgb: bool,
}

/// Rules for videos.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct VideoRules {
    /// Containers the platform accepts.
    pub formats: Vec<Format>,
    /// Codecs the platform accepts; empty means any.
    pub codecs: Vec<VideoCodec>,
    /// The largest file.
    pub max_bytes: Option<u64>,
    /// The shortest video.
    pub min_duration: Option<Duration>,
    /// The longest video.
    pub max_duration: Option<Duration>,
    /// The lowest frame rate.
    pub min_fps: Option<f64>,
    /// The highest frame rate.
    pub max_fps: Option<f64>,
    /// The smallest width and height (each side).
    pub min_side: Option<u32>,
    /// The largest width and height (each side).
    pub max_side: Option<u32>,
    /// The narrowest video.
    pub min_width: Option<u32>,
    /// The shortest video in pixels.
    pub min_height: Option<u32>,
    /// The widest video.
    pub max_width: Option<u32>,
    /// The smallest width / height.
    pub min_aspect: Option<f64>,
    /// The largest width / height.
    pub max_aspect: Option<f64>,
    /// Whether the `moov` box must come before `mdat` ("fast start").
    pub moov_first: bool,
}

/// Everything a platform surface requires of a post, checked by
/// [`validate_with`](crate::validate_with) before any network call.
///
/// ```
/// # mod cmis { pub use cmis_core::*; pub mod media { pub use cmis_media::*; } }
/// use std::time::Duration;
/// use cmis::{Platform, Surface};
/// use cmis::media::Rules;
/// // The TikTok connector narrows the duration to the creator's `max_video_post_duration_sec`.
/// let rules = Rules::for_target(Platform::TikTok, Surface::Feed)?
///     .with_max_video_duration(Duration::from_secs(180));
/// assert_eq!(rules.video.unwrap().max_duration, Some(Duration::from_secs(180)));
/// # Ok::<(), cmis::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Rules {
    /// The rule set's version ([`RULES_VERSION`] for built-in rules).
    pub version: &'static str,
    /// The platform.
    pub platform: Platform,
    /// The surface.
    pub surface: Surface,
    /// The post text (the caption; TikTok's video title).
    pub caption: TextRules,
    /// The post text when the post is photos, if it differs (TikTok's photo description).
    pub photo_caption: Option<TextRules>,
    /// A photo post's separate title, if the platform has one (TikTok: 90 UTF-16 units).
    pub photo_title: Option<TextRules>,
    /// How many items of which kind.
    pub items: ItemRules,
    /// Image rules; `None` when the surface takes no image.
    pub image: Option<ImageRules>,
    /// Video rules; `None` when the surface takes no video.
    pub video: Option<VideoRules>,
}

impl Rules {
    /// The built-in rules for `platform` and `surface`, or an
    /// [`Unsupported`](cmis_core::ErrorKind::Unsupported) error for a surface the platform lacks.
    pub fn for_target(platform: Platform, surface: Surface) -> Result<Self> {
        let (caption, photo_caption, photo_title, items, image, video) = match (platform, surface) {
            (Platform::Instagram, Surface::Feed) => (
                instagram_caption(),
                None,
                None,
                items(1, 10, 10, 10, true),
                Some(instagram_image()),
                Some(instagram_reel_video()),
            ),
            (Platform::Instagram, Surface::Reel) => (
                instagram_caption(),
                None,
                None,
                items(1, 1, 0, 1, false),
                None,
                Some(instagram_reel_video()),
            ),
            (Platform::Instagram, Surface::Story) => (
                instagram_caption(),
                None,
                None,
                items(1, 1, 1, 1, false),
                Some(ImageRules {
                    min_aspect: None,
                    max_aspect: None,
                    ..instagram_image()
                }),
                // IG User Media reference, story video: 3–60 s, at most 100 MB.
                Some(VideoRules {
                    max_bytes: Some(100 * MB),
                    max_duration: Some(Duration::from_secs(60)),
                    min_aspect: None,
                    max_aspect: None,
                    ..instagram_reel_video()
                }),
            ),
            (Platform::Facebook, Surface::Feed) => (
                facebook_caption(),
                None,
                None,
                // Text and link posts need no media; a post is photos or one video.
                items(0, usize::MAX, usize::MAX, 1, false),
                Some(facebook_image()),
                Some(facebook_video()),
            ),
            (Platform::Facebook, Surface::Reel) => (
                facebook_caption(),
                None,
                None,
                items(1, 1, 0, 1, false),
                None,
                Some(facebook_reel_video(Duration::from_secs(90))),
            ),
            (Platform::Facebook, Surface::Story) => (
                facebook_caption(),
                None,
                None,
                items(1, 1, 1, 1, false),
                Some(facebook_image()),
                Some(facebook_reel_video(Duration::from_secs(60))),
            ),
            (Platform::TikTok, Surface::Feed) => (
                // docs/tiktok-api.md §3: video `title` up to 2200 UTF-16 units.
                TextRules::new(2200, LengthUnit::Utf16),
                // §5: photo `description` at most 4000, `title` at most 90 UTF-16 units.
                Some(TextRules::new(4000, LengthUnit::Utf16)),
                Some(TextRules::new(90, LengthUnit::Utf16)),
                items(1, 35, 35, 1, false),
                Some(tiktok_image()),
                Some(tiktok_video()),
            ),
            (Platform::Bluesky, Surface::Feed) => (
                // docs/bluesky-api.md §3 (`app.bsky.feed.post`): at most 300 graphemes and
                // 3 000 UTF-8 bytes; empty when there is an embed.
                TextRules::new(300, LengthUnit::Graphemes).with_max_bytes(3000),
                None,
                None,
                // §5.2: `app.bsky.embed.images` holds at most 4 images; §5.3: one video.
                items(0, 4, 4, 1, false),
                Some(bluesky_image()),
                Some(bluesky_video()),
            ),
            (Platform::Threads, Surface::Feed) => (
                // docs/threads-api.md §3: 500, counted in UTF-8 bytes (what Threads enforces:
                // a 498-character text of 504 bytes was refused).
                TextRules::new(500, LengthUnit::Utf8Bytes),
                None,
                None,
                // §2.1: a text post, one image or video, or a carousel of 2–20 mixed items.
                items(0, 20, 20, 20, true),
                Some(threads_image()),
                Some(threads_video()),
            ),
            (Platform::LinkedIn, Surface::Feed) => (
                // docs/linkedin-api.md §3: 3 000, counted in UTF-16 units (the connector counts
                // the escaped commentary, which is what LinkedIn receives).
                TextRules::new(3000, LengthUnit::Utf16),
                None,
                None,
                // §2: text, one image, 2–20 images (multiImage), or one video. A document
                // (PDF) is checked by the connector: it is neither image nor video.
                items(0, 20, 20, 1, false),
                Some(linkedin_image()),
                Some(linkedin_video()),
            ),
            (Platform::YouTube, Surface::Feed) => (
                // docs/youtube-api.md §4: the description, at most 5 000 UTF-8 bytes (the
                // connector checks the title, the text's first line, on its own).
                TextRules::new(5000, LengthUnit::Utf8Bytes),
                None,
                None,
                // One video, and optionally one image: its custom thumbnail.
                items(1, 2, 1, 1, true),
                Some(youtube_thumbnail()),
                Some(youtube_video()),
            ),
            (Platform::YouTube, Surface::Reel) => (
                TextRules::new(5000, LengthUnit::Utf8Bytes),
                None,
                None,
                items(1, 2, 1, 1, true),
                Some(youtube_thumbnail()),
                // §4 "Shorts": YouTube has no Shorts flag; a vertical or square video of at most
                // 3 minutes is classified as a Short. This surface checks that it will be one.
                Some(VideoRules {
                    max_duration: Some(Duration::from_secs(180)),
                    max_aspect: Some(1.0),
                    ..youtube_video()
                }),
            ),
            _ => {
                return Err(Error::unsupported(format!(
                    "cmis has no media rules for {platform} {surface}"
                )));
            }
        };
        Ok(Self {
            version: RULES_VERSION,
            platform,
            surface,
            caption,
            photo_caption,
            photo_title,
            items,
            image,
            video,
        })
    }

    /// Narrows the longest video (TikTok: the creator's `max_video_post_duration_sec` from
    /// creator_info). Never widens a platform's own maximum.
    #[must_use]
    pub fn with_max_video_duration(mut self, max: Duration) -> Self {
        if let Some(video) = &mut self.video {
            video.max_duration = Some(video.max_duration.map_or(max, |m| m.min(max)));
        }
        self
    }

    /// Sets the hashtag cap of the post text (and of a photo caption, if any).
    #[must_use]
    pub fn with_max_hashtags(mut self, max: Option<usize>) -> Self {
        self.caption.max_hashtags = max;
        if let Some(photo) = &mut self.photo_caption {
            photo.max_hashtags = max;
        }
        self
    }

    /// The prefix of this rule set's rule names, such as `instagram.feed`.
    pub fn rule_prefix(&self) -> String {
        format!("{}.{}", self.platform, self.surface)
    }
}

fn items(min: usize, max: usize, max_images: usize, max_videos: usize, mixed: bool) -> ItemRules {
    ItemRules {
        min,
        max,
        max_images,
        max_videos,
        mixed,
    }
}

/// docs/ai-providers.md §6: 2200 characters, 20 @-mentions, hashtags capped (see
/// [`INSTAGRAM_DEFAULT_MAX_HASHTAGS`]).
fn instagram_caption() -> TextRules {
    TextRules {
        max_len: 2200,
        unit: LengthUnit::Chars,
        max_hashtags: Some(INSTAGRAM_DEFAULT_MAX_HASHTAGS),
        max_mentions: Some(20),
        max_bytes: None,
    }
}

/// docs/meta-graph-api.md §2 "Media specs": JPEG only, at most 8 MB, aspect 4:5–1.91:1, width
/// 320–1440 px, sRGB.
fn instagram_image() -> ImageRules {
    ImageRules {
        formats: vec![Format::Jpeg],
        convertible: vec![Format::Png, Format::Webp],
        max_bytes: Some(8 * MB),
        min_width: Some(320),
        max_width: Some(1440),
        max_height: None,
        min_aspect: Some(0.8),
        max_aspect: Some(1.91),
        srgb: true,
    }
}

/// docs/meta-graph-api.md §2 "Reels": MOV or MP4, moov atom first, H.264 or HEVC, 23–60 fps, at
/// most 1920 px wide, aspect 0.01:1–10:1, 3 s–15 min, at most 300 MB.
fn instagram_reel_video() -> VideoRules {
    VideoRules {
        formats: vec![Format::Mp4, Format::Mov],
        codecs: vec![VideoCodec::H264, VideoCodec::Hevc],
        max_bytes: Some(300 * MB),
        min_duration: Some(Duration::from_secs(3)),
        max_duration: Some(Duration::from_secs(15 * 60)),
        min_fps: Some(23.0),
        max_fps: Some(60.0),
        min_side: None,
        max_side: None,
        min_width: None,
        min_height: None,
        max_width: Some(1920),
        min_aspect: Some(0.01),
        max_aspect: Some(10.0),
        moov_first: true,
    }
}

/// docs/bluesky-api.md §5.2: the lexicon allows 2 MB per image, but the documentation and
/// real errors still say 976.56 KB ("This file is too large … maximum size is 976.56KB"), so
/// cmis holds images to 976 560 bytes. Blobs take any image type; JPEG, PNG and WebP are what
/// clients render everywhere, and GIF is converted.
fn bluesky_image() -> ImageRules {
    ImageRules {
        formats: vec![Format::Jpeg, Format::Png, Format::Webp],
        convertible: vec![Format::Gif, Format::Bmp, Format::Tiff],
        max_bytes: Some(976_560),
        min_width: None,
        max_width: None,
        max_height: None,
        min_aspect: None,
        max_aspect: None,
        srgb: false,
    }
}

/// docs/bluesky-api.md §5.3: MP4. The lexicon allows 300 MB and Bluesky announced 10-minute
/// videos in September 2026, but older services and SDKs enforce 100 MB and 3 minutes: cmis
/// takes the smaller figures, so a video it passes is accepted by either.
fn bluesky_video() -> VideoRules {
    VideoRules {
        formats: vec![Format::Mp4],
        codecs: Vec::new(),
        max_bytes: Some(100 * MB),
        min_duration: None,
        max_duration: Some(Duration::from_secs(180)),
        min_fps: None,
        max_fps: None,
        min_side: None,
        max_side: None,
        min_width: None,
        min_height: None,
        max_width: None,
        min_aspect: None,
        max_aspect: None,
        moov_first: false,
    }
}

/// docs/threads-api.md §3 (Meta's spec as mirrored by Ayrshare): JPEG or PNG, at most 8 MB,
/// aspect at most 10:1, sRGB. Meta scales widths outside 320–1440 px, so width is not refused.
fn threads_image() -> ImageRules {
    ImageRules {
        formats: vec![Format::Jpeg, Format::Png],
        convertible: Vec::new(),
        max_bytes: Some(8 * MB),
        min_width: None,
        max_width: None,
        max_height: None,
        min_aspect: Some(0.1),
        max_aspect: Some(10.0),
        srgb: true,
    }
}

/// docs/threads-api.md §3: MOV or MP4 with the moov atom first, H.264 or HEVC, 23–60 fps, at
/// most 1920 px wide, aspect 0.01:1–10:1, at most 300 s and 1 GB.
fn threads_video() -> VideoRules {
    VideoRules {
        formats: vec![Format::Mp4, Format::Mov],
        codecs: vec![VideoCodec::H264, VideoCodec::Hevc],
        max_bytes: Some(1000 * MB),
        min_duration: None,
        max_duration: Some(Duration::from_secs(300)),
        min_fps: Some(23.0),
        max_fps: Some(60.0),
        min_side: None,
        max_side: None,
        min_width: None,
        min_height: None,
        max_width: Some(1920),
        min_aspect: Some(0.01),
        max_aspect: Some(10.0),
        moov_first: true,
    }
}

/// docs/ai-providers.md §6: 63 206 characters.
fn facebook_caption() -> TextRules {
    TextRules::new(63_206, LengthUnit::Chars)
}

/// Facebook Pages photos: the formats Facebook documents for photo uploads (JPEG, PNG, GIF, BMP,
/// TIFF); no size figure is documented in the reference notes, so none is enforced.
fn facebook_image() -> ImageRules {
    ImageRules {
        formats: vec![
            Format::Jpeg,
            Format::Png,
            Format::Gif,
            Format::Bmp,
            Format::Tiff,
        ],
        convertible: vec![Format::Webp],
        max_bytes: None,
        min_width: None,
        max_width: None,
        max_height: None,
        min_aspect: None,
        max_aspect: None,
        srgb: false,
    }
}

/// Facebook Page videos: MP4 or MOV (the Resumable Upload API's `file_type=video/mp4`).
fn facebook_video() -> VideoRules {
    VideoRules {
        formats: vec![Format::Mp4, Format::Mov],
        codecs: Vec::new(),
        max_bytes: None,
        min_duration: None,
        max_duration: None,
        min_fps: None,
        max_fps: None,
        min_side: None,
        max_side: None,
        min_width: None,
        min_height: None,
        max_width: None,
        min_aspect: None,
        max_aspect: None,
        moov_first: false,
    }
}

/// docs/meta-graph-api.md §1 "Reels": 3–90 s, 9:16, at least 540×960, 24–60 fps.
fn facebook_reel_video(max: Duration) -> VideoRules {
    VideoRules {
        min_duration: Some(Duration::from_secs(3)),
        max_duration: Some(max),
        min_fps: Some(24.0),
        max_fps: Some(60.0),
        min_width: Some(540),
        min_height: Some(960),
        min_aspect: Some(9.0 / 16.0),
        max_aspect: Some(9.0 / 16.0),
        ..facebook_video()
    }
}

/// docs/tiktok-api.md §5: WebP or JPEG (no PNG), at most 1080p, at most 20 MB. "1080p" is read as
/// at most 1080 px wide (a 1086 px wide image failed, Postiz PR #1875) and 1920 px tall.
fn tiktok_image() -> ImageRules {
    ImageRules {
        formats: vec![Format::Jpeg, Format::Webp],
        convertible: vec![Format::Png],
        max_bytes: Some(20 * MB),
        min_width: None,
        max_width: Some(1080),
        max_height: Some(1920),
        min_aspect: None,
        max_aspect: None,
        srgb: false,
    }
}

/// docs/tiktok-api.md §3 "Video constraints": MP4, WebM or MOV; H.264, H.265, VP8 or VP9;
/// 23–60 fps; each side 360–4096 px; at most 4 GB; at most 10 minutes (the API maximum; the
/// creator's own cap is narrower, see [`Rules::with_max_video_duration`]).
fn tiktok_video() -> VideoRules {
    VideoRules {
        formats: vec![Format::Mp4, Format::Mov, Format::Webm],
        codecs: vec![
            VideoCodec::H264,
            VideoCodec::Hevc,
            VideoCodec::Vp8,
            VideoCodec::Vp9,
        ],
        max_bytes: Some(4_000 * MB),
        min_duration: None,
        max_duration: Some(Duration::from_secs(10 * 60)),
        min_fps: Some(23.0),
        max_fps: Some(60.0),
        min_side: Some(360),
        max_side: Some(4096),
        min_width: None,
        min_height: None,
        max_width: None,
        min_aspect: None,
        max_aspect: None,
        moov_first: false,
    }
}

/// docs/linkedin-api.md §4.1: JPEG, GIF (animated too) or PNG, at most 5 MB (WebP is refused;
/// converting makes it a JPEG). The < 36 152 320 pixel cap is checked by the connector.
fn linkedin_image() -> ImageRules {
    ImageRules {
        formats: vec![Format::Jpeg, Format::Png, Format::Gif],
        convertible: vec![Format::Webp],
        max_bytes: Some(5 * MB),
        min_width: None,
        max_width: None,
        max_height: None,
        min_aspect: None,
        max_aspect: None,
        srgb: false,
    }
}

/// docs/linkedin-api.md §4.2: MP4, 3 s–30 min, aspect 1:2.4–2.4:1, at most 200 MB (one source
/// says 500 MB; the smaller is enforced until tested).
fn linkedin_video() -> VideoRules {
    VideoRules {
        formats: vec![Format::Mp4],
        codecs: Vec::new(),
        max_bytes: Some(200 * MB),
        min_duration: Some(Duration::from_secs(3)),
        max_duration: Some(Duration::from_secs(30 * 60)),
        min_fps: None,
        max_fps: None,
        min_side: None,
        max_side: None,
        min_width: None,
        min_height: None,
        max_width: None,
        min_aspect: Some(1.0 / 2.4),
        max_aspect: Some(2.4),
        moov_first: false,
    }
}

/// docs/youtube-api.md §4 "Thumbnails": JPEG or PNG, at most 2 MB (a newer page says 50 MB; the
/// smaller is enforced).
fn youtube_thumbnail() -> ImageRules {
    ImageRules {
        formats: vec![Format::Jpeg, Format::Png],
        convertible: vec![Format::Webp],
        max_bytes: Some(2 * MB),
        min_width: None,
        max_width: None,
        max_height: None,
        min_aspect: None,
        max_aspect: None,
        srgb: false,
    }
}

/// docs/youtube-api.md §3: `video/*` up to 256 GB; at most 12 hours (a channel that is not
/// phone-verified is held to 15 minutes by YouTube, which cmis cannot see).
fn youtube_video() -> VideoRules {
    VideoRules {
        formats: vec![Format::Mp4, Format::Mov, Format::Webm, Format::Matroska],
        codecs: Vec::new(),
        max_bytes: Some(256_000 * MB),
        min_duration: None,
        max_duration: Some(Duration::from_secs(12 * 60 * 60)),
        min_fps: None,
        max_fps: None,
        min_side: None,
        max_side: None,
        min_width: None,
        min_height: None,
        max_width: None,
        min_aspect: None,
        max_aspect: None,
        moov_first: false,
    }
}
