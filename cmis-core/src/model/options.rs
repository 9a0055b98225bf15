//! LinkedIn and YouTube options (`docs/linkedin-api.md` §2, `docs/youtube-api.md` §4).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;

use crate::Error;

/// A value an API names with a string, of which this version knows some: unknown values parse to
/// `Other` with the raw value kept, so a stored post written by a newer cmis still loads.
macro_rules! api_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $what:literal {
            $($(#[$vmeta:meta])* $variant:ident => $api:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
            /// A value this version does not know, kept verbatim.
            Other(String),
        }

        impl $name {
            /// The API's name for the value.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $api,)+
                    Self::Other(s) => s,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = Error;

            /// Parses the API's name (ASCII case-insensitive). Unknown non-empty values become
            /// `Other`.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let s = s.trim();
                if s.is_empty() {
                    return Err(Error::invalid_input(concat!($what, " is empty")));
                }
                $(if s.eq_ignore_ascii_case($api) {
                    return Ok(Self::$variant);
                })+
                Ok(Self::Other(s.to_owned()))
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            /// Never fails on a string: whatever was stored loads (an empty value as
            /// `Other("")`, which publishing refuses).
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                Ok(raw.parse().unwrap_or(Self::Other(raw)))
            }
        }
    };
}

api_enum! {
    /// Who sees a LinkedIn post (`visibility`).
    LinkedInVisibility, "LinkedIn visibility" {
        /// `PUBLIC`: anyone (the default).
        Public => "PUBLIC",
        /// `CONNECTIONS`: a member's connections only (member posts).
        Connections => "CONNECTIONS",
        /// `LOGGED_IN`: members signed in to LinkedIn.
        LoggedIn => "LOGGED_IN",
    }
}

api_enum! {
    /// A YouTube video's `status.privacyStatus`.
    YouTubePrivacy, "YouTube privacy status" {
        /// `public`.
        Public => "public",
        /// `unlisted`: anyone with the link.
        Unlisted => "unlisted",
        /// `private`: the only status allowed with a `publishAt` time.
        Private => "private",
    }
}

/// LinkedIn options (`docs/linkedin-api.md` §2). A post's [`link`](crate::Post::link) becomes an
/// article (link card): LinkedIn scrapes nothing, so its title and description come from here
/// and its thumbnail from the post's one image, if any.
///
/// ```
/// # mod cmis { pub use cmis_core::*; }
/// use cmis::{LinkedInOptions, LinkedInVisibility, Post};
/// let post = Post::new()
///     .with_text("Our Q4 report")
///     .with_linkedin(
///         LinkedInOptions::new()
///             .with_visibility(LinkedInVisibility::Connections)
///             .with_media_title("Q4 report.pdf"),
///     );
/// assert_eq!(post.options.linkedin.visibility, Some(LinkedInVisibility::Connections));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LinkedInOptions {
    /// Who sees the post (LinkedIn's default for cmis: `PUBLIC`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<LinkedInVisibility>,
    /// The title of a video or document (a document needs one; the file name when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_title: Option<String>,
    /// The article's title (the link card), the link itself when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub article_title: Option<String>,
    /// The article's description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub article_description: Option<String>,
    /// Stops others from resharing the post.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disable_reshare: bool,
}

impl LinkedInOptions {
    /// Default options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether every option is unset.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Sets who sees the post.
    #[must_use]
    pub fn with_visibility(mut self, visibility: LinkedInVisibility) -> Self {
        self.visibility = Some(visibility);
        self
    }

    /// Sets the video's or document's title.
    #[must_use]
    pub fn with_media_title(mut self, title: impl Into<String>) -> Self {
        self.media_title = Some(title.into());
        self
    }

    /// Sets the article card's title and description.
    #[must_use]
    pub fn with_article(
        mut self,
        title: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        self.article_title = Some(title.into());
        self.article_description = Some(description.into());
        self
    }
}

/// YouTube options (`docs/youtube-api.md` §4). The title is [`title`](Self::title), else the
/// first line of the post's text; the rest of the text is the description. A post's second
/// medium, an image, is the custom thumbnail (set after the upload, best effort).
///
/// ```
/// # mod cmis { pub use cmis_core::*; }
/// use cmis::{Post, YouTubeOptions, YouTubePrivacy};
/// use cmis::time::macros::datetime;
/// let post = Post::new()
///     .with_text("Launch day\nEverything we shipped this year.")
///     .with_youtube(
///         YouTubeOptions::new()
///             .with_privacy(YouTubePrivacy::Private)
///             .with_publish_at(datetime!(2026-12-24 15:00 UTC))
///             .with_tags(["rust", "launch"]),
///     );
/// assert_eq!(post.options.youtube.tags.len(), 2);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct YouTubeOptions {
    /// The title (≤ 100 characters); the text's first line when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The privacy status: `public` when unset, `private` when [`publish_at`](Self::publish_at)
    /// is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privacy: Option<YouTubePrivacy>,
    /// When YouTube makes the (private) video public.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub publish_at: Option<OffsetDateTime>,
    /// The category id, a string of digits (`"22"`, People & Blogs, when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_id: Option<String>,
    /// Tags (500 characters in all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Whether the video is made for children (COPPA); sent as `false` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub made_for_kids: Option<bool>,
    /// Declares altered or synthetic (AI-made) content.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub contains_synthetic_media: bool,
    /// Whether subscribers are notified (YouTube's default: yes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_subscribers: Option<bool>,
}

impl YouTubeOptions {
    /// Default options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether every option is unset.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Sets the title.
    #[must_use]
    pub fn with_title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Sets the privacy status.
    #[must_use]
    pub fn with_privacy(mut self, privacy: YouTubePrivacy) -> Self {
        self.privacy = Some(privacy);
        self
    }

    /// Has YouTube publish the private video at `at`.
    #[must_use]
    pub fn with_publish_at(mut self, at: OffsetDateTime) -> Self {
        self.publish_at = Some(at);
        self
    }

    /// Sets the tags.
    #[must_use]
    pub fn with_tags<I, S>(mut self, tags: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.tags = tags.into_iter().map(Into::into).collect();
        self
    }

    /// Declares whether the video is made for children.
    #[must_use]
    pub fn with_made_for_kids(mut self, made_for_kids: bool) -> Self {
        self.made_for_kids = Some(made_for_kids);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_values_load_and_round_trip() {
        let v: LinkedInVisibility = serde_json::from_str("\"CONTAINER\"").unwrap();
        assert_eq!(v, LinkedInVisibility::Other("CONTAINER".into()));
        assert_eq!(serde_json::to_string(&v).unwrap(), "\"CONTAINER\"");
        let p: YouTubePrivacy = "Unlisted".parse().unwrap();
        assert_eq!(p, YouTubePrivacy::Unlisted);
        assert!("".parse::<YouTubePrivacy>().is_err());
        let empty: YouTubePrivacy = serde_json::from_str("\"\"").unwrap();
        assert_eq!(empty, YouTubePrivacy::Other(String::new()));
    }

    #[test]
    fn empty_options_are_not_written() {
        let o = YouTubeOptions::new();
        assert_eq!(serde_json::to_string(&o).unwrap(), "{}");
        let l = LinkedInOptions::new();
        assert_eq!(serde_json::to_string(&l).unwrap(), "{}");
        let back: YouTubeOptions = serde_json::from_str(
            r#"{"publish_at":"2026-12-24T15:00:00Z","privacy":"private","tags":["a"]}"#,
        )
        .unwrap();
        assert_eq!(back.privacy, Some(YouTubePrivacy::Private));
        assert!(back.publish_at.is_some());
    }
}
