//! What a platform says about a published post: [`PostMetrics`], normalised and raw.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{AccountId, Platform, PostId};

/// What kind of post metrics are read for: a platform's metric set depends on it (Instagram
/// refuses a whole call that names a metric its media type lacks; Facebook Reels have their own
/// edge).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MediaKind {
    /// A Facebook Page post (text, link or photos), or a post whose kind is not known.
    Post,
    /// A single image (Instagram feed).
    Image,
    /// A video that is not a Reel (Instagram feed video, Facebook Page video, TikTok video).
    Video,
    /// A carousel (album) parent; its children have no insights.
    Carousel,
    /// A Reel (Facebook or Instagram).
    Reel,
    /// A story: its metrics exist for 24 hours only.
    Story,
    /// A kind this version of cmis does not know.
    #[serde(other)]
    Unknown,
}

/// One metric's value as the platform gave it: a number, or a breakdown such as reactions by
/// type (`{"like":330,"love":2}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MetricValue {
    /// A whole number.
    Int(u64),
    /// A number with a fraction (average watch time, skip rate).
    Float(f64),
    /// Named parts: reactions by type, paid and organic, hours of a day.
    Breakdown(BTreeMap<String, MetricValue>),
}

impl MetricValue {
    /// The value as a whole number: an integer as is, a float rounded down when it is not
    /// negative, a breakdown as the sum of its whole-number parts (`None` if it has none).
    ///
    /// ```
    /// # mod cmis { pub use cmis_core::*; }
    /// use cmis::MetricValue;
    /// let reactions: MetricValue = serde_json::from_str(r#"{"like":330,"love":2}"#).unwrap();
    /// assert_eq!(reactions.total(), Some(332));
    /// assert_eq!(MetricValue::Int(7).total(), Some(7));
    /// ```
    pub fn total(&self) -> Option<u64> {
        match self {
            Self::Int(n) => Some(*n),
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            Self::Float(f) if f.is_finite() && *f >= 0.0 => Some(f.floor() as u64),
            Self::Float(_) => None,
            Self::Breakdown(parts) => {
                let mut sum = None;
                for v in parts.values() {
                    if let Some(n) = v.total() {
                        sum = Some(sum.unwrap_or(0u64).saturating_add(n));
                    }
                }
                sum
            }
        }
    }
}

/// A metric the platform refused to give for a post, and why (its own message): a retired
/// metric, one its media type does not have, too few viewers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RefusedMetric {
    /// The platform's metric name, such as `post_impressions`.
    pub name: String,
    /// Why, in the platform's words where it gave any.
    pub reason: String,
}

impl RefusedMetric {
    /// `name` refused for `reason`.
    pub fn new(name: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            reason: reason.into(),
        }
    }
}

/// A post's performance as read at `collected_at`: lifetime counters, normalised across
/// platforms, with the platform's own names and values beside them.
///
/// Every normalised counter is `None` when the platform did not give it (not available for the
/// media type, not computed yet, refused): never a `0` made up for it.
///
/// ```
/// # mod cmis { pub use cmis_core::*; }
/// use cmis::{MetricValue, Platform, PostMetrics};
/// let mut m = PostMetrics::new(Platform::Instagram, "17841400000000001", "17900000000000001",
///     cmis::time::OffsetDateTime::UNIX_EPOCH);
/// m.raw.insert("views".into(), MetricValue::Int(18540));
/// m.views = Some(18540);
/// assert_eq!(m.likes, None); // not given: unknown, not zero
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PostMetrics {
    /// The platform the post is on.
    pub platform: Platform,
    /// The account (Page, Instagram user, TikTok `open_id`) the post belongs to.
    pub account: AccountId,
    /// The platform's id of the post (a string: ids exceed 2^53).
    pub post_id: PostId,
    /// When the metrics were read.
    #[serde(with = "time::serde::rfc3339")]
    pub collected_at: OffsetDateTime,
    /// Views (plays, media views).
    pub views: Option<u64>,
    /// Unique accounts reached.
    pub reach: Option<u64>,
    /// Likes, or reactions of every type.
    pub likes: Option<u64>,
    /// Comments.
    pub comments: Option<u64>,
    /// Shares.
    pub shares: Option<u64>,
    /// Saves.
    pub saves: Option<u64>,
    /// The platform's own metric names and values, as it gave them.
    pub raw: BTreeMap<String, MetricValue>,
    /// The metrics the platform refused, with its reasons.
    pub refused: Vec<RefusedMetric>,
}

impl PostMetrics {
    /// Empty metrics (every counter `None`) for `post_id` of `account` on `platform`.
    pub fn new(
        platform: Platform,
        account: impl Into<AccountId>,
        post_id: impl Into<PostId>,
        collected_at: OffsetDateTime,
    ) -> Self {
        Self {
            platform,
            account: account.into(),
            post_id: post_id.into(),
            collected_at,
            views: None,
            reach: None,
            likes: None,
            comments: None,
            shares: None,
            saves: None,
            raw: BTreeMap::new(),
            refused: Vec::new(),
        }
    }

    /// The whole-number value of raw metric `name`, if the platform gave it.
    pub fn raw_total(&self, name: &str) -> Option<u64> {
        self.raw.get(name).and_then(MetricValue::total)
    }
}

/// A post found on an account, to back-fill the metrics of earlier posts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RecentPost {
    /// The platform's id of the post.
    pub post_id: PostId,
    /// When it was published, when the platform says.
    #[serde(with = "time::serde::rfc3339::option")]
    pub published_at: Option<OffsetDateTime>,
    /// What kind of post it is, as far as the listing tells.
    pub kind: MediaKind,
}

impl RecentPost {
    /// Post `post_id` of `kind`, published at `published_at`.
    pub fn new(
        post_id: impl Into<PostId>,
        published_at: Option<OffsetDateTime>,
        kind: MediaKind,
    ) -> Self {
        Self {
            post_id: post_id.into(),
            published_at,
            kind,
        }
    }
}

/// One day of an audience's online hours (Instagram `online_followers`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OnlineDay {
    /// The end of the day the counts cover, as the platform gives it.
    #[serde(with = "time::serde::rfc3339")]
    pub end_time: OffsetDateTime,
    /// Followers online by hour key (`0`–`23`; the platform does not document the hours' time
    /// zone). `None` when the platform has no data for the day yet (`{}`): not zero.
    pub by_hour: Option<BTreeMap<u8, u64>>,
}

impl OnlineDay {
    /// The counts `by_hour` for the day ending at `end_time`.
    pub fn new(end_time: OffsetDateTime, by_hour: Option<BTreeMap<u8, u64>>) -> Self {
        Self { end_time, by_hour }
    }
}

/// When an account's audience is online, as the platform reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AccountSignals {
    /// The account.
    pub account: AccountId,
    /// When the signals were read.
    #[serde(with = "time::serde::rfc3339")]
    pub collected_at: OffsetDateTime,
    /// One entry per day the platform returned, oldest first as given.
    pub online_followers: Vec<OnlineDay>,
}

impl AccountSignals {
    /// Signals of `account` read at `collected_at`.
    pub fn new(
        account: impl Into<AccountId>,
        collected_at: OffsetDateTime,
        online_followers: Vec<OnlineDay>,
    ) -> Self {
        Self {
            account: account.into(),
            collected_at,
            online_followers,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_integers_floats_or_breakdowns() {
        let v: MetricValue = serde_json::from_str("21105").unwrap();
        assert_eq!(v, MetricValue::Int(21105));
        let v: MetricValue = serde_json::from_str("1234.5").unwrap();
        assert_eq!(v, MetricValue::Float(1234.5));
        let v: MetricValue = serde_json::from_str(r#"{"like":330,"love":2}"#).unwrap();
        let MetricValue::Breakdown(parts) = &v else {
            panic!("{v:?}")
        };
        assert_eq!(parts["like"], MetricValue::Int(330));
        assert_eq!(v.total(), Some(332));
        let empty: MetricValue = serde_json::from_str("{}").unwrap();
        assert_eq!(
            empty.total(),
            None,
            "an empty breakdown is no data, not zero"
        );
    }

    #[test]
    fn a_counter_not_given_is_none() {
        let m = PostMetrics::new(
            Platform::TikTok,
            "a",
            "7300000000000000123",
            OffsetDateTime::UNIX_EPOCH,
        );
        assert_eq!((m.views, m.likes, m.raw_total("views")), (None, None, None));
        assert_eq!(m.post_id.as_str(), "7300000000000000123");
    }
}
