//! Per-platform caption limits and hashtag caps.

use cmis_core::{Error, Platform, Result};

/// How a platform counts caption length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LengthUnit {
    /// Unicode scalar values (Instagram, Facebook).
    Chars,
    /// UTF-16 code units (TikTok counts "runes" this way: an emoji outside the BMP costs 2).
    Utf16,
    /// UTF-8 bytes (Threads: its 500 is counted in bytes, so an emoji costs 4).
    Utf8Bytes,
}

impl LengthUnit {
    /// The length of `text` in this unit.
    pub fn len(self, text: &str) -> usize {
        match self {
            Self::Chars => text.chars().count(),
            Self::Utf16 => text.encode_utf16().count(),
            Self::Utf8Bytes => text.len(),
        }
    }

    /// The length of one character in this unit.
    pub fn char_len(self, c: char) -> usize {
        match self {
            Self::Chars => 1,
            Self::Utf16 => c.len_utf16(),
            Self::Utf8Bytes => c.len_utf8(),
        }
    }
}

/// The rules generated text must fit for one platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct PlatformRules {
    /// The longest caption, hashtags included, in [`unit`](Self::unit)s.
    pub max_caption: usize,
    /// How the platform counts length.
    pub unit: LengthUnit,
    /// The most hashtags to suggest.
    pub max_hashtags: usize,
}

/// Caption limits and hashtag caps for every platform; configurable because platforms change
/// them (Instagram went from 30 hashtags to 5).
///
/// Defaults, from `docs/ai-providers.md` §6:
/// - Instagram: 2,200 characters; **5 hashtags** (Mosseri's December announcement, reported at
///   <https://en.shiftdelete.net/an-era-is-ending-on-instagram-hashtag-limit-imposed>; the Graph
///   API still documents 30).
/// - Facebook: 63,206 characters (<https://docs.upload-post.com/resources/character-limits/>).
/// - TikTok: 2,200 UTF-16 code units for a video caption (<https://docs.zernio.com/platforms/tiktok>).
///
/// - Bluesky: 300 graphemes and 3,000 bytes (`app.bsky.feed.post`, docs/bluesky-api.md §3).
///   cmis-ai counts 300 characters: a character is never less than a grapheme, and 300
///   characters are at most 1,200 bytes, so what fits the character count fits both limits.
/// - Threads: 500 UTF-8 bytes (docs/threads-api.md §3: Threads refuses a 498-character text of
///   504 bytes).
///
/// Facebook, TikTok and Bluesky document no hashtag cap; cmis suggests at most 5 there too, so that the
/// suggestions stay focused. Change any of them with the `with_*` methods.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Limits {
    /// Instagram's rules.
    pub instagram: PlatformRules,
    /// Facebook's rules.
    pub facebook: PlatformRules,
    /// TikTok's rules.
    pub tiktok: PlatformRules,
    /// Bluesky's rules.
    pub bluesky: PlatformRules,
    /// Threads' rules.
    pub threads: PlatformRules,
    /// LinkedIn: 3 000, counted in UTF-16 units (`docs/linkedin-api.md` §3). The connector counts
    /// the escaped text, which may be longer; a caption near the limit is checked there again.
    pub linkedin: PlatformRules,
    /// YouTube's description: 5 000 UTF-8 bytes (`docs/youtube-api.md` §4). The title is the
    /// first line, at most 100 characters, checked by the connector.
    pub youtube: PlatformRules,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            instagram: PlatformRules {
                max_caption: 2200,
                unit: LengthUnit::Chars,
                max_hashtags: 5,
            },
            facebook: PlatformRules {
                max_caption: 63_206,
                unit: LengthUnit::Chars,
                max_hashtags: 5,
            },
            tiktok: PlatformRules {
                max_caption: 2200,
                unit: LengthUnit::Utf16,
                max_hashtags: 5,
            },
            bluesky: PlatformRules {
                max_caption: 300,
                unit: LengthUnit::Chars,
                max_hashtags: 5,
            },
            threads: PlatformRules {
                max_caption: 500,
                unit: LengthUnit::Utf8Bytes,
                max_hashtags: 5,
            },
            linkedin: PlatformRules {
                max_caption: 3000,
                unit: LengthUnit::Utf16,
                max_hashtags: 5,
            },
            youtube: PlatformRules {
                max_caption: 5000,
                unit: LengthUnit::Utf8Bytes,
                max_hashtags: 15,
            },
        }
    }
}

impl Limits {
    /// Sets Instagram's hashtag cap.
    #[must_use]
    pub fn with_instagram_hashtags(mut self, cap: usize) -> Self {
        self.instagram.max_hashtags = cap;
        self
    }

    /// Sets Facebook's hashtag cap.
    #[must_use]
    pub fn with_facebook_hashtags(mut self, cap: usize) -> Self {
        self.facebook.max_hashtags = cap;
        self
    }

    /// Sets TikTok's hashtag cap.
    #[must_use]
    pub fn with_tiktok_hashtags(mut self, cap: usize) -> Self {
        self.tiktok.max_hashtags = cap;
        self
    }

    /// Replaces one platform's rules.
    #[must_use]
    pub fn with_rules(mut self, platform: Platform, rules: PlatformRules) -> Self {
        match platform {
            Platform::Instagram => self.instagram = rules,
            Platform::Facebook => self.facebook = rules,
            Platform::TikTok => self.tiktok = rules,
            Platform::Bluesky => self.bluesky = rules,
            Platform::Threads => self.threads = rules,
            Platform::LinkedIn => self.linkedin = rules,
            Platform::YouTube => self.youtube = rules,
            _ => {}
        }
        self
    }

    /// The rules for `platform`; an unknown platform is [`ErrorKind::InvalidInput`](cmis_core::ErrorKind::InvalidInput).
    pub fn rules(&self, platform: Platform) -> Result<PlatformRules> {
        match platform {
            Platform::Instagram => Ok(self.instagram),
            Platform::Facebook => Ok(self.facebook),
            Platform::TikTok => Ok(self.tiktok),
            Platform::Bluesky => Ok(self.bluesky),
            Platform::Threads => Ok(self.threads),
            Platform::LinkedIn => Ok(self.linkedin),
            Platform::YouTube => Ok(self.youtube),
            other => Err(Error::invalid_input(format!(
                "cmis-ai has no caption rules for platform {other}"
            ))),
        }
    }
}

impl PlatformRules {
    /// Rules of `max_caption` in `unit` with at most `max_hashtags` hashtags.
    pub fn new(max_caption: usize, unit: LengthUnit, max_hashtags: usize) -> Self {
        Self {
            max_caption,
            unit,
            max_hashtags,
        }
    }
}
