//! Platforms and the surfaces a post can go to.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Error;

/// A social platform cmis can publish to.
///
/// Parsing is forward-compatible: a value this version does not know deserialises to
/// [`Platform::Unknown`] instead of failing, so stored jobs written by a newer cmis still load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Platform {
    /// Facebook Pages, through the Graph API.
    Facebook,
    /// Instagram professional accounts, through the Graph API.
    Instagram,
    /// TikTok creator accounts, through the Content Posting API.
    #[serde(rename = "tiktok")]
    TikTok,
    /// Bluesky accounts, through the AT Protocol (the account's own PDS).
    Bluesky,
    /// Threads profiles, through the Threads API (`graph.threads.net`).
    Threads,
    /// LinkedIn members and organization pages, through the Posts API.
    #[serde(rename = "linkedin")]
    LinkedIn,
    /// YouTube channels, through the YouTube Data API v3.
    #[serde(rename = "youtube")]
    YouTube,
    /// A platform this version of cmis does not know.
    #[serde(other)]
    Unknown,
}

impl Platform {
    /// The platforms this version of cmis knows, in a stable order.
    pub const ALL: [Platform; 7] = [
        Platform::Facebook,
        Platform::Instagram,
        Platform::TikTok,
        Platform::Bluesky,
        Platform::Threads,
        Platform::LinkedIn,
        Platform::YouTube,
    ];

    /// The stable lowercase name: `facebook`, `instagram`, `tiktok`, `bluesky`, `threads`,
    /// `linkedin`, `youtube` or `unknown`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Facebook => "facebook",
            Self::Instagram => "instagram",
            Self::TikTok => "tiktok",
            Self::Bluesky => "bluesky",
            Self::Threads => "threads",
            Self::LinkedIn => "linkedin",
            Self::YouTube => "youtube",
            Self::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Platform {
    type Err = Error;

    /// Parses `facebook`, `instagram`, `tiktok`, `bluesky`, `threads`, `linkedin` or `youtube`
    /// (ASCII case-insensitive).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Platform::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                Error::invalid_input(format!(
                    "unknown platform {s:?}: expected facebook, instagram, tiktok, bluesky, threads, linkedin or youtube"
                ))
            })
    }
}

/// Where on a platform a post goes.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Surface {
    /// The main feed: a Page post, an Instagram feed post or carousel, a TikTok video or photo post.
    #[default]
    Feed,
    /// Short vertical video: Facebook and Instagram Reels.
    Reel,
    /// A 24-hour story.
    Story,
    /// A surface this version of cmis does not know.
    #[serde(other)]
    Unknown,
}

impl Surface {
    /// The surfaces this version of cmis knows, in a stable order.
    pub const ALL: [Surface; 3] = [Surface::Feed, Surface::Reel, Surface::Story];

    /// The stable lowercase name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Feed => "feed",
            Self::Reel => "reel",
            Self::Story => "story",
            Self::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Surface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Surface {
    type Err = Error;

    /// Parses `feed`, `reel` or `story` (ASCII case-insensitive).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                Error::invalid_input(format!(
                    "unknown surface {s:?}: expected feed, reel or story"
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_platform_deserialises_to_unknown() {
        let p: Platform = serde_json::from_str("\"mastodon\"").unwrap();
        assert_eq!(p, Platform::Unknown);
        let p: Platform = serde_json::from_str("\"tiktok\"").unwrap();
        assert_eq!(p, Platform::TikTok);
        assert_eq!(
            serde_json::to_string(&Platform::TikTok).unwrap(),
            "\"tiktok\""
        );
    }

    #[test]
    fn parse_is_strict_but_case_insensitive() {
        assert_eq!(
            "Instagram".parse::<Platform>().unwrap(),
            Platform::Instagram
        );
        let err = "unknown".parse::<Platform>().unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
        assert_eq!("REEL".parse::<Surface>().unwrap(), Surface::Reel);
        assert!("carousel".parse::<Surface>().is_err());
    }
}
