//! The `publish` example's command line.

use std::ffi::OsString;

use cmis::{Error, Media, Platform, PrivacyLevel, Result, Surface, YouTubePrivacy};
use lexopt::prelude::*;

use crate::cli::usage_error;

/// The usage text.
pub const USAGE: &str = "usage: publish --platform facebook|instagram|threads|tiktok|bluesky|linkedin|youtube \
--account ID [--text TEXT] [--media PATH_OR_URL]... [--kind feed|reel|story|carousel] [--privacy LEVEL] [--draft]";

/// What to publish, from the command line.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PublishArgs {
    /// The platform.
    pub platform: Platform,
    /// The account id on the platform (Page id, Instagram user id, Threads user id, TikTok
    /// open_id, Bluesky handle or DID).
    pub account: String,
    /// The text.
    pub text: Option<String>,
    /// Media paths or URLs, in order.
    pub media: Vec<Media>,
    /// The surface.
    pub surface: Surface,
    /// Whether `--kind carousel` was asked for (a feed post with 2 or more items).
    pub carousel: bool,
    /// TikTok privacy level.
    pub privacy: Option<PrivacyLevel>,
    /// YouTube privacy status (`public`, `unlisted` or `private`).
    pub youtube_privacy: Option<YouTubePrivacy>,
    /// TikTok: send to the inbox as a draft.
    pub draft: bool,
}

impl PublishArgs {
    /// Parses `args` (without the program name). Every error is
    /// [`InvalidInput`](cmis::ErrorKind::InvalidInput).
    pub fn parse<I>(args: I) -> Result<Self>
    where
        I: IntoIterator,
        I::Item: Into<OsString>,
    {
        let mut parser = lexopt::Parser::from_args(args);
        let mut platform = None;
        let mut account = None;
        let mut text = None;
        let mut media = Vec::new();
        let mut kind = String::from("feed");
        let mut privacy = None;
        let mut draft = false;
        let bad = |e| usage_error(e, USAGE);
        while let Some(arg) = parser.next().map_err(bad)? {
            match arg {
                Long("platform") => {
                    platform = Some(string(parser.value().map_err(bad)?)?.parse::<Platform>()?);
                }
                Long("account") => account = Some(string(parser.value().map_err(bad)?)?),
                Long("text") => text = Some(string(parser.value().map_err(bad)?)?),
                Long("media") => {
                    media.push(Media::from_path_or_url(&string(
                        parser.value().map_err(bad)?,
                    )?)?);
                }
                Long("kind") => kind = string(parser.value().map_err(bad)?)?,
                Long("privacy") => privacy = Some(string(parser.value().map_err(bad)?)?),
                Long("draft") => draft = true,
                Long("help") | Short('h') => return Err(Error::invalid_input(USAGE)),
                other => return Err(bad(other.unexpected())),
            }
        }
        let platform = platform
            .ok_or_else(|| Error::invalid_input(format!("--platform is required\n{USAGE}")))?;
        let account = account
            .filter(|a| !a.trim().is_empty())
            .ok_or_else(|| Error::invalid_input(format!("--account is required\n{USAGE}")))?;
        let (surface, carousel) = match kind.to_ascii_lowercase().as_str() {
            "carousel" => (Surface::Feed, true),
            other => (other.parse::<Surface>()?, false),
        };
        if carousel && media.len() < 2 {
            return Err(Error::invalid_input(
                "--kind carousel needs at least two --media items",
            ));
        }
        if text.is_none() && media.is_empty() {
            return Err(Error::invalid_input(format!(
                "nothing to publish: give --text or --media\n{USAGE}"
            )));
        }
        if platform != Platform::TikTok && draft {
            return Err(Error::invalid_input("--draft applies to TikTok only"));
        }
        let (privacy, youtube_privacy) = match (platform, privacy) {
            (_, None) => (None, None),
            (Platform::TikTok, Some(p)) => (Some(p.parse::<PrivacyLevel>()?), None),
            (Platform::YouTube, Some(p)) => match p.parse::<YouTubePrivacy>()? {
                YouTubePrivacy::Other(other) => {
                    return Err(Error::invalid_input(format!(
                        "--privacy for YouTube is public, unlisted or private, not {other:?}"
                    )));
                }
                known => (None, Some(known)),
            },
            (_, Some(_)) => {
                return Err(Error::invalid_input(
                    "--privacy applies to TikTok and YouTube only",
                ));
            }
        };
        Ok(Self {
            platform,
            account,
            text,
            media,
            surface,
            carousel,
            privacy,
            youtube_privacy,
            draft,
        })
    }
}

fn string(value: OsString) -> Result<String> {
    value
        .into_string()
        .map_err(|v| Error::invalid_input(format!("argument {v:?} is not valid UTF-8")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_full_tiktok_command() {
        let args = PublishArgs::parse([
            "--platform",
            "tiktok",
            "--account",
            "open-1",
            "--text",
            "hi",
            "--media",
            "a.mp4",
            "--privacy",
            "SELF_ONLY",
            "--draft",
        ])
        .unwrap();
        assert_eq!(args.platform, Platform::TikTok);
        assert_eq!(args.privacy, Some(PrivacyLevel::SelfOnly));
        assert!(args.draft);
        assert_eq!(args.media.len(), 1);
    }

    #[test]
    fn carousel_is_a_feed_post_with_several_items() {
        let args = PublishArgs::parse([
            "--platform",
            "instagram",
            "--account",
            "1789",
            "--kind",
            "carousel",
            "--media",
            "https://example.com/a.jpg",
            "--media",
            "https://example.com/b.jpg",
        ])
        .unwrap();
        assert_eq!(args.surface, Surface::Feed);
        assert!(args.carousel);
    }

    #[test]
    fn bad_input_is_invalid_input() {
        for bad in [
            vec!["--platform", "myspace", "--account", "1", "--text", "x"],
            vec!["--platform", "facebook", "--text", "x"],
            vec!["--platform", "facebook", "--account", "1"],
            vec![
                "--platform",
                "facebook",
                "--account",
                "1",
                "--text",
                "x",
                "--kind",
                "live",
            ],
            vec![
                "--platform",
                "instagram",
                "--account",
                "1",
                "--kind",
                "carousel",
                "--media",
                "a.jpg",
            ],
            vec![
                "--platform",
                "facebook",
                "--account",
                "1",
                "--text",
                "x",
                "--draft",
            ],
            vec![
                "--platform",
                "facebook",
                "--account",
                "1",
                "--text",
                "x",
                "--bogus",
            ],
        ] {
            let err = PublishArgs::parse(bad.clone()).unwrap_err();
            assert_eq!(err.kind(), cmis::ErrorKind::InvalidInput, "{bad:?}");
        }
    }
}
