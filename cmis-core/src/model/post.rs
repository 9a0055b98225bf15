//! A post, composed once and published to many targets.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use url::Url;

use crate::{Error, LinkedInOptions, Media, YouTubeOptions};

/// A post: text, media, an optional link, and per-platform options.
///
/// ```
/// # mod cmis { pub use cmis_core::*; }
/// use cmis::{Media, Post, PrivacyLevel, TikTokOptions};
///
/// let post = Post::new()
///     .with_text("Our autumn menu is here 🍂 #food")
///     .with_media(Media::path("menu.jpg"))
///     .with_tiktok(TikTokOptions::new().with_privacy_level(PrivacyLevel::PublicToEveryone));
/// assert_eq!(post.media.len(), 1);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Post {
    /// The caption or message.
    #[serde(default)]
    pub text: Option<String>,
    /// Photos and videos, in order.
    #[serde(default)]
    pub media: Vec<Media>,
    /// A link to share: a Facebook link post, a Threads text post's link attachment, or a
    /// Bluesky link card.
    #[serde(default)]
    pub link: Option<Url>,
    /// Options that only some platforms understand.
    #[serde(default)]
    pub options: PlatformOptions,
}

impl Post {
    /// An empty post.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the caption or message.
    #[must_use]
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        self.text = Some(text.into());
        self
    }

    /// Appends a media item.
    #[must_use]
    pub fn with_media(mut self, media: Media) -> Self {
        self.media.push(media);
        self
    }

    /// Sets the link.
    #[must_use]
    pub fn with_link(mut self, link: Url) -> Self {
        self.link = Some(link);
        self
    }

    /// Sets the Facebook options.
    #[must_use]
    pub fn with_facebook(mut self, options: FacebookOptions) -> Self {
        self.options.facebook = options;
        self
    }

    /// Sets the Instagram options.
    #[must_use]
    pub fn with_instagram(mut self, options: InstagramOptions) -> Self {
        self.options.instagram = options;
        self
    }

    /// Sets the TikTok options.
    #[must_use]
    pub fn with_tiktok(mut self, options: TikTokOptions) -> Self {
        self.options.tiktok = options;
        self
    }

    /// Sets the Threads options.
    #[must_use]
    pub fn with_threads(mut self, options: ThreadsOptions) -> Self {
        self.options.threads = options;
        self
    }

    /// Sets the Bluesky options.
    #[must_use]
    pub fn with_bluesky(mut self, options: BlueskyOptions) -> Self {
        self.options.bluesky = options;
        self
    }

    /// Sets the LinkedIn options.
    #[must_use]
    pub fn with_linkedin(mut self, options: LinkedInOptions) -> Self {
        self.options.linkedin = options;
        self
    }

    /// Sets the YouTube options.
    #[must_use]
    pub fn with_youtube(mut self, options: YouTubeOptions) -> Self {
        self.options.youtube = options;
        self
    }

    /// The text, or `""` when there is none.
    pub fn text_or_empty(&self) -> &str {
        self.text.as_deref().unwrap_or("")
    }
}

/// Options that only some platforms understand. Each platform reads its own part.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PlatformOptions {
    /// Facebook Page options.
    #[serde(default)]
    pub facebook: FacebookOptions,
    /// Instagram options.
    #[serde(default)]
    pub instagram: InstagramOptions,
    /// TikTok options.
    #[serde(default)]
    pub tiktok: TikTokOptions,
    /// Threads options.
    #[serde(default, skip_serializing_if = "ThreadsOptions::is_empty")]
    pub threads: ThreadsOptions,
    /// Bluesky options.
    #[serde(default, skip_serializing_if = "BlueskyOptions::is_empty")]
    pub bluesky: BlueskyOptions,
    /// LinkedIn options.
    #[serde(default, skip_serializing_if = "LinkedInOptions::is_empty")]
    pub linkedin: LinkedInOptions,
    /// YouTube options.
    #[serde(default, skip_serializing_if = "YouTubeOptions::is_empty")]
    pub youtube: YouTubeOptions,
}

/// Bluesky options (`docs/bluesky-api.md` §3, §5.2). A post's [`link`](Post::link) becomes a
/// link card (`app.bsky.embed.external`) with the title and description given here.
///
/// ```
/// # mod cmis { pub use cmis_core::*; }
/// use cmis::{BlueskyOptions, Post};
/// let post = Post::new().with_text("Agreed!").with_bluesky(
///     BlueskyOptions::new().with_reply_to("at://did:plc:abc/app.bsky.feed.post/3l2s5xxv2ze2c"),
/// );
/// assert!(post.options.bluesky.reply_to.is_some());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BlueskyOptions {
    /// Publish as a reply to this post (`at://` URI); the thread's root is found from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// Quote this post (`at://` URI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<String>,
    /// The link card's title (empty when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_title: Option<String>,
    /// The link card's description (empty when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_description: Option<String>,
}

impl BlueskyOptions {
    /// Default options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether every option is unset.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Publishes the post as a reply to `uri` (`at://…/app.bsky.feed.post/…`).
    #[must_use]
    pub fn with_reply_to(mut self, uri: impl Into<String>) -> Self {
        self.reply_to = Some(uri.into());
        self
    }

    /// Quotes the post at `uri`.
    #[must_use]
    pub fn with_quote(mut self, uri: impl Into<String>) -> Self {
        self.quote = Some(uri.into());
        self
    }

    /// Sets the link card's title and description.
    #[must_use]
    pub fn with_link_card(
        mut self,
        title: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        self.link_title = Some(title.into());
        self.link_description = Some(description.into());
        self
    }
}

/// Threads options (`docs/threads-api.md` §2.1). A post's [`link`](Post::link) becomes a text
/// post's `link_attachment`.
///
/// ```
/// # mod cmis { pub use cmis_core::*; }
/// use cmis::{Post, ReplyControl, ThreadsOptions};
/// let post = Post::new().with_text("Shipping today").with_threads(
///     ThreadsOptions::new()
///         .with_reply_control(ReplyControl::AccountsYouFollow)
///         .with_topic_tag("rustlang"),
/// );
/// assert_eq!(post.options.threads.topic_tag.as_deref(), Some("rustlang"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ThreadsOptions {
    /// Who may reply (Threads' default: everyone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_control: Option<ReplyControl>,
    /// One topic: 1 to 50 characters, without `.` or `&`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic_tag: Option<String>,
    /// Publish as a reply to this Threads media id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to_id: Option<String>,
    /// Quote this Threads media id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote_post_id: Option<String>,
}

impl ThreadsOptions {
    /// Default options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether every option is unset.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Sets who may reply.
    #[must_use]
    pub fn with_reply_control(mut self, control: ReplyControl) -> Self {
        self.reply_control = Some(control);
        self
    }

    /// Sets the topic tag.
    #[must_use]
    pub fn with_topic_tag(mut self, tag: impl Into<String>) -> Self {
        self.topic_tag = Some(tag.into());
        self
    }

    /// Publishes the post as a reply to `media_id`.
    #[must_use]
    pub fn with_reply_to(mut self, media_id: impl Into<String>) -> Self {
        self.reply_to_id = Some(media_id.into());
        self
    }

    /// Quotes `media_id`.
    #[must_use]
    pub fn with_quote(mut self, media_id: impl Into<String>) -> Self {
        self.quote_post_id = Some(media_id.into());
        self
    }
}

/// Who may reply to a Threads post, as named by the API (`reply_control`).
///
/// Values Threads adds later parse to [`ReplyControl::Other`] with the raw value kept, so a
/// stored post written by a newer cmis still loads.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReplyControl {
    /// `everyone`.
    Everyone,
    /// `accounts_you_follow`.
    AccountsYouFollow,
    /// `mentioned_only`.
    MentionedOnly,
    /// `parent_post_author_only`.
    ParentPostAuthorOnly,
    /// `followers_only`.
    FollowersOnly,
    /// A value this version does not know, kept verbatim.
    Other(String),
}

impl ReplyControl {
    /// The API's name for the value.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Everyone => "everyone",
            Self::AccountsYouFollow => "accounts_you_follow",
            Self::MentionedOnly => "mentioned_only",
            Self::ParentPostAuthorOnly => "parent_post_author_only",
            Self::FollowersOnly => "followers_only",
            Self::Other(s) => s,
        }
    }
}

impl fmt::Display for ReplyControl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ReplyControl {
    type Err = Error;

    /// Parses an API name such as `accounts_you_follow` (ASCII case-insensitive). Unknown
    /// non-empty values become [`ReplyControl::Other`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() {
            return Err(Error::invalid_input("reply control is empty"));
        }
        Ok(match s.to_ascii_lowercase().as_str() {
            "everyone" => Self::Everyone,
            "accounts_you_follow" => Self::AccountsYouFollow,
            "mentioned_only" => Self::MentionedOnly,
            "parent_post_author_only" => Self::ParentPostAuthorOnly,
            "followers_only" => Self::FollowersOnly,
            _ => Self::Other(s.to_owned()),
        })
    }
}

impl Serialize for ReplyControl {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ReplyControl {
    /// Never fails on a string: whatever was stored loads (an empty value as `Other("")`,
    /// which publishing refuses), so one odd value cannot make a stored post unreadable.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Ok(raw.parse().unwrap_or(Self::Other(raw)))
    }
}

/// Facebook Page options.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FacebookOptions {
    /// Let Facebook publish the post itself at this time (10 minutes to 30 days ahead), instead of
    /// publishing now.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub scheduled_publish_time: Option<OffsetDateTime>,
    /// A title for video posts.
    #[serde(default)]
    pub video_title: Option<String>,
}

impl FacebookOptions {
    /// Default options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Schedules the post natively on Facebook.
    #[must_use]
    pub fn with_scheduled_publish_time(mut self, at: OffsetDateTime) -> Self {
        self.scheduled_publish_time = Some(at);
        self
    }
}

/// Instagram options.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InstagramOptions {
    /// Convert images Instagram does not accept (PNG, WebP) to JPEG instead of refusing them.
    #[serde(default)]
    pub convert_media: bool,
    /// For reels: whether the reel also appears in the feed.
    #[serde(default)]
    pub share_to_feed: Option<bool>,
    /// For reels: a cover image URL.
    #[serde(default)]
    pub cover_url: Option<Url>,
    /// For reels: the cover frame's offset in milliseconds.
    #[serde(default)]
    pub thumb_offset_ms: Option<u64>,
    /// Instagram usernames invited as collaborators.
    #[serde(default)]
    pub collaborators: Vec<String>,
    /// A Facebook Page id used as the location.
    #[serde(default)]
    pub location_id: Option<String>,
}

impl InstagramOptions {
    /// Default options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Allows converting PNG and WebP images to JPEG.
    #[must_use]
    pub fn with_convert_media(mut self, allow: bool) -> Self {
        self.convert_media = allow;
        self
    }
}

/// TikTok options. TikTok's rules require the user to choose the privacy level: there is no
/// default, and the connector refuses a post without one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TikTokOptions {
    /// Who can see the post; must be one of the creator's `privacy_level_options`.
    #[serde(default)]
    pub privacy_level: Option<PrivacyLevel>,
    /// Turn comments off.
    #[serde(default)]
    pub disable_comment: bool,
    /// Turn duets off (video only).
    #[serde(default)]
    pub disable_duet: bool,
    /// Turn stitches off (video only).
    #[serde(default)]
    pub disable_stitch: bool,
    /// "Branded content": a paid partnership. Never allowed with `SELF_ONLY`.
    #[serde(default)]
    pub brand_content_toggle: bool,
    /// "Your brand": promotional content for the creator's own business.
    #[serde(default)]
    pub brand_organic_toggle: bool,
    /// Label the content as AI-generated.
    #[serde(default)]
    pub is_aigc: bool,
    /// Send to the creator's inbox as a draft instead of posting directly.
    #[serde(default)]
    pub draft: bool,
    /// Video cover frame, in milliseconds from the start.
    #[serde(default)]
    pub video_cover_timestamp_ms: Option<u64>,
    /// Photo posts: which image is the cover (0-based).
    #[serde(default)]
    pub photo_cover_index: Option<u32>,
    /// Photo posts: let TikTok add music.
    #[serde(default)]
    pub auto_add_music: bool,
    /// Photo posts: the title (at most 90 UTF-16 units); the post text is the description.
    #[serde(default)]
    pub photo_title: Option<String>,
}

impl TikTokOptions {
    /// Default options (no privacy level chosen).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the privacy level.
    #[must_use]
    pub fn with_privacy_level(mut self, level: PrivacyLevel) -> Self {
        self.privacy_level = Some(level);
        self
    }

    /// Sends the post to the creator's inbox as a draft.
    #[must_use]
    pub fn with_draft(mut self, draft: bool) -> Self {
        self.draft = draft;
        self
    }
}

/// A TikTok privacy level, as named by the API.
///
/// Values TikTok adds later parse to [`PrivacyLevel::Other`] with the raw value kept.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PrivacyLevel {
    /// `PUBLIC_TO_EVERYONE`.
    PublicToEveryone,
    /// `MUTUAL_FOLLOW_FRIENDS`.
    MutualFollowFriends,
    /// `FOLLOWER_OF_CREATOR`.
    FollowerOfCreator,
    /// `SELF_ONLY`.
    SelfOnly,
    /// A value this version does not know, kept verbatim.
    Other(String),
}

impl PrivacyLevel {
    /// The API's name for the level.
    pub fn as_str(&self) -> &str {
        match self {
            Self::PublicToEveryone => "PUBLIC_TO_EVERYONE",
            Self::MutualFollowFriends => "MUTUAL_FOLLOW_FRIENDS",
            Self::FollowerOfCreator => "FOLLOWER_OF_CREATOR",
            Self::SelfOnly => "SELF_ONLY",
            Self::Other(s) => s,
        }
    }
}

impl fmt::Display for PrivacyLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PrivacyLevel {
    type Err = Error;

    /// Parses an API name such as `SELF_ONLY` (ASCII case-insensitive). Unknown non-empty values
    /// become [`PrivacyLevel::Other`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() {
            return Err(Error::invalid_input("privacy level is empty"));
        }
        Ok(match s.to_ascii_uppercase().as_str() {
            "PUBLIC_TO_EVERYONE" => Self::PublicToEveryone,
            "MUTUAL_FOLLOW_FRIENDS" => Self::MutualFollowFriends,
            "FOLLOWER_OF_CREATOR" => Self::FollowerOfCreator,
            "SELF_ONLY" => Self::SelfOnly,
            _ => Self::Other(s.to_owned()),
        })
    }
}

impl Serialize for PrivacyLevel {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for PrivacyLevel {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        raw.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn privacy_levels_round_trip_and_keep_unknown_values() {
        let levels: Vec<PrivacyLevel> =
            serde_json::from_str(r#"["PUBLIC_TO_EVERYONE","SELF_ONLY","FRIENDS_OF_FRIENDS"]"#)
                .unwrap();
        assert_eq!(levels[0], PrivacyLevel::PublicToEveryone);
        assert_eq!(levels[1], PrivacyLevel::SelfOnly);
        assert_eq!(levels[2], PrivacyLevel::Other("FRIENDS_OF_FRIENDS".into()));
        assert_eq!(
            serde_json::to_string(&levels).unwrap(),
            r#"["PUBLIC_TO_EVERYONE","SELF_ONLY","FRIENDS_OF_FRIENDS"]"#
        );
    }

    #[test]
    fn threads_options_round_trip_and_stay_out_of_older_documents() {
        let bare = serde_json::to_value(Post::new().with_text("x")).unwrap();
        assert!(bare["options"].get("threads").is_none(), "{bare}");
        let post = Post::new().with_threads(
            ThreadsOptions::new()
                .with_reply_control(ReplyControl::MentionedOnly)
                .with_topic_tag("rust"),
        );
        let json = serde_json::to_string(&post).unwrap();
        assert!(
            json.contains(r#""reply_control":"mentioned_only""#),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<Post>(&json).unwrap(), post);
        let newer: ReplyControl = serde_json::from_str(r#""verified_only""#).unwrap();
        let empty: ReplyControl = serde_json::from_str(r#""""#).unwrap();
        assert_eq!(empty, ReplyControl::Other(String::new()));
        assert_eq!(newer, ReplyControl::Other("verified_only".into()));
    }

    #[test]
    fn a_post_has_no_default_privacy_level() {
        assert_eq!(Post::new().options.tiktok.privacy_level, None);
    }

    #[test]
    fn post_round_trips_through_json() {
        let post = Post::new()
            .with_text("hi")
            .with_link(Url::parse("https://example.com/").unwrap())
            .with_facebook(
                FacebookOptions::new()
                    .with_scheduled_publish_time(time::macros::datetime!(2026-12-01 10:00 UTC)),
            );
        let json = serde_json::to_string(&post).unwrap();
        let back: Post = serde_json::from_str(&json).unwrap();
        assert_eq!(back, post);
        // Older or partial documents load with defaults.
        let minimal: Post = serde_json::from_str(r#"{"text":"x"}"#).unwrap();
        assert_eq!(minimal.text.as_deref(), Some("x"));
    }
}
