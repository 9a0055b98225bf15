//! The metric registry: which insights metrics each kind of Meta object is asked for, and when
//! Meta retired each one. Data, versioned, each date beside its source
//! (`docs/insights.md` §1 and §2), like `cmis-media`'s rules.
//!
//! One retired metric fails a whole `/insights` call (`(#100) … must be a valid insights
//! metric`), so a metric whose retirement date has passed is never sent. Where sources give two
//! dates, the earlier is kept.

use time::macros::date;
use time::{Date, OffsetDateTime};

/// The registry's version: the date its content was last checked against the sources.
pub const METRIC_REGISTRY_VERSION: &str = "2026-12-08";

/// What an insights call reads: the object and, for Instagram, its `media_product_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MetricSurface {
    /// A Facebook Page post: `GET /{post-id}/insights?period=lifetime`.
    FacebookPost,
    /// A Facebook Reel or Page video: `GET /{video-id}/video_insights`.
    FacebookVideo,
    /// A Facebook Page itself (`GET /{page-id}/insights`); listed so that its retired metrics
    /// are on record, not read by cmis yet.
    FacebookPage,
    /// An Instagram feed image or video (`media_product_type` FEED).
    InstagramFeed,
    /// An Instagram carousel parent (FEED; its children have no insights).
    InstagramCarousel,
    /// An Instagram Reel (REELS).
    InstagramReel,
    /// An Instagram story (STORY), readable for 24 hours.
    InstagramStory,
}

/// One metric of one surface, with the date Meta retired it, if it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct MetricRule {
    /// Where the metric is read.
    pub surface: MetricSurface,
    /// Meta's metric name.
    pub name: &'static str,
    /// The first day it no longer works, if Meta retired it.
    pub retired: Option<Date>,
}

impl MetricRule {
    /// Whether the metric may still be asked for at `now`.
    pub fn live_at(&self, now: OffsetDateTime) -> bool {
        self.retired.is_none_or(|d| now.date() < d)
    }
}

use MetricSurface::*;

const fn live(surface: MetricSurface, name: &'static str) -> MetricRule {
    MetricRule {
        surface,
        name,
        retired: None,
    }
}

const fn gone(surface: MetricSurface, name: &'static str, on: Date) -> MetricRule {
    MetricRule {
        surface,
        name,
        retired: Some(on),
    }
}

/// Pages changelog and deprecated-metrics page: the first wave (announced 2025-08-15).
const NOV_2025: Date = date!(2025 - 11 - 15);
/// The second wave: the deprecated-metrics page says "By June 15, 2025"; the insights
/// reference, Airbyte #80740 and Postiz say 2026-06-15. The earlier date is kept.
const JUN_2025: Date = date!(2025 - 06 - 15);
/// Instagram: `impressions`, `plays` and the reels play counts, all versions (media insights
/// reference).
const APR_2025: Date = date!(2025 - 04 - 21);
/// Instagram v18 (changelog version18.0).
const DEC_2023: Date = date!(2023 - 12 - 11);

/// Every metric cmis knows, retired ones included, in the order they are requested.
pub const METRICS: &[MetricRule] = &[
    // Facebook post (`docs/insights.md` §1 "Still in use on v23–v25 by peers").
    live(FacebookPost, "post_media_view"),
    live(FacebookPost, "post_total_media_view_unique"),
    // Conflict: postiz-app#1609 says removed in v13; brightbean and TryPost still request them
    // on v25. Kept: a refusal costs one metric, not the call (per-metric retry).
    live(FacebookPost, "post_clicks"),
    live(FacebookPost, "post_reactions_by_type_total"),
    gone(FacebookPost, "post_impressions", NOV_2025),
    gone(FacebookPost, "post_impressions_unique", JUN_2025),
    gone(FacebookPost, "post_impressions_organic", NOV_2025),
    gone(FacebookPost, "post_impressions_paid", NOV_2025),
    // Facebook Reels (`/video_insights`, TryPost #320: `blue_reels_play_count`,
    // `post_video_avg_time_watched`, reactions as an object keyed by type).
    live(FacebookVideo, "blue_reels_play_count"),
    live(FacebookVideo, "post_video_avg_time_watched"),
    live(FacebookVideo, "post_video_likes_by_reaction_type"),
    gone(FacebookVideo, "post_impressions_unique", JUN_2025),
    // Facebook Page.
    live(FacebookPage, "page_media_view"),
    live(FacebookPage, "page_total_media_view_unique"),
    live(FacebookPage, "page_post_engagements"),
    live(FacebookPage, "page_follows"),
    // 2023-11-01 / 2024-03-14: the earlier is kept.
    gone(FacebookPage, "page_engaged_users", date!(2023 - 11 - 01)),
    gone(FacebookPage, "page_fans", NOV_2025),
    gone(FacebookPage, "page_fan_adds", NOV_2025),
    gone(FacebookPage, "page_fan_removes", NOV_2025),
    gone(FacebookPage, "page_impressions", NOV_2025),
    gone(FacebookPage, "page_impressions_unique", JUN_2025),
    gone(FacebookPage, "page_posts_impressions", JUN_2025),
    // Conflict: Airbyte added it as live (June 2026); Postiz calls it deprecated 2026-06-15.
    gone(FacebookPage, "page_video_views", date!(2026 - 06 - 15)),
    // Instagram FEED (media insights reference, updated 2026-06-18).
    live(InstagramFeed, "reach"),
    live(InstagramFeed, "views"),
    live(InstagramFeed, "likes"),
    live(InstagramFeed, "comments"),
    live(InstagramFeed, "saved"),
    live(InstagramFeed, "shares"),
    live(InstagramFeed, "total_interactions"),
    live(InstagramFeed, "profile_visits"),
    live(InstagramFeed, "profile_activity"),
    live(InstagramFeed, "follows"),
    gone(InstagramFeed, "impressions", APR_2025),
    gone(InstagramFeed, "plays", APR_2025),
    gone(InstagramFeed, "engagement", DEC_2023),
    // Airbyte #51018 says "2025-01" without a day: the first day of the month is kept.
    gone(InstagramFeed, "video_views", date!(2025 - 01 - 01)),
    // Carousel parent: the FEED set; `carousel_album_*` went in v18.
    live(InstagramCarousel, "reach"),
    live(InstagramCarousel, "views"),
    live(InstagramCarousel, "likes"),
    live(InstagramCarousel, "comments"),
    live(InstagramCarousel, "saved"),
    live(InstagramCarousel, "shares"),
    live(InstagramCarousel, "total_interactions"),
    live(InstagramCarousel, "profile_visits"),
    live(InstagramCarousel, "profile_activity"),
    live(InstagramCarousel, "follows"),
    gone(InstagramCarousel, "impressions", APR_2025),
    gone(InstagramCarousel, "carousel_album_impressions", DEC_2023),
    gone(InstagramCarousel, "carousel_album_reach", DEC_2023),
    // REELS (a peer spec drops `profile_*`/`follows` here, as the reference does).
    live(InstagramReel, "reach"),
    live(InstagramReel, "views"),
    live(InstagramReel, "likes"),
    live(InstagramReel, "comments"),
    live(InstagramReel, "saved"),
    live(InstagramReel, "shares"),
    live(InstagramReel, "total_interactions"),
    live(InstagramReel, "ig_reels_avg_watch_time"),
    live(InstagramReel, "ig_reels_video_view_total_time"),
    live(InstagramReel, "reels_skip_rate"),
    live(InstagramReel, "reposts"),
    gone(InstagramReel, "plays", APR_2025),
    gone(InstagramReel, "clips_replays_count", APR_2025),
    gone(
        InstagramReel,
        "ig_reels_aggregated_all_plays_count",
        APR_2025,
    ),
    gone(InstagramReel, "impressions", APR_2025),
    // STORY.
    live(InstagramStory, "reach"),
    live(InstagramStory, "views"),
    live(InstagramStory, "shares"),
    live(InstagramStory, "replies"),
    live(InstagramStory, "navigation"),
    live(InstagramStory, "follows"),
    live(InstagramStory, "profile_visits"),
    live(InstagramStory, "profile_activity"),
    live(InstagramStory, "total_interactions"),
    gone(InstagramStory, "impressions", APR_2025),
    gone(InstagramStory, "exits", DEC_2023),
    gone(InstagramStory, "taps_forward", DEC_2023),
    gone(InstagramStory, "taps_back", DEC_2023),
];

/// The metrics to request for `surface` at `now`: never one retired on or before `now`'s date.
pub fn metrics_for(surface: MetricSurface, now: OffsetDateTime) -> Vec<&'static str> {
    METRICS
        .iter()
        .filter(|m| m.surface == surface && m.live_at(now))
        .map(|m| m.name)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const ALL: [MetricSurface; 7] = [
        FacebookPost,
        FacebookVideo,
        FacebookPage,
        InstagramFeed,
        InstagramCarousel,
        InstagramReel,
        InstagramStory,
    ];

    #[test]
    fn retired_metrics_are_never_requested_at_2026_12_08() {
        let now = datetime!(2026-12-08 04:00 UTC);
        let never = [
            "post_impressions",
            "post_impressions_unique",
            "page_impressions",
            "page_impressions_unique",
            "page_posts_impressions",
            "page_fans",
            "page_engaged_users",
            "page_video_views",
            "impressions",
            "plays",
            "clips_replays_count",
            "ig_reels_aggregated_all_plays_count",
            "video_views",
            "engagement",
            "exits",
        ];
        for s in ALL {
            let asked = metrics_for(s, now);
            for name in never {
                assert!(!asked.contains(&name), "{name} requested for {s:?}");
            }
        }
        assert_eq!(
            metrics_for(FacebookPost, now),
            [
                "post_media_view",
                "post_total_media_view_unique",
                "post_clicks",
                "post_reactions_by_type_total"
            ]
        );
        assert_eq!(metrics_for(InstagramStory, now).len(), 9);
    }

    #[test]
    fn a_metric_is_asked_for_until_the_day_it_is_retired() {
        let before = datetime!(2025-06-14 23:59 UTC);
        let on = datetime!(2025-06-15 00:00 UTC);
        assert!(metrics_for(FacebookPost, before).contains(&"post_impressions_unique"));
        assert!(!metrics_for(FacebookPost, on).contains(&"post_impressions_unique"));
        // The earlier of two conflicting dates wins (2025-06-15, not 2026-06-15).
        assert!(
            !metrics_for(FacebookPage, datetime!(2025-12-01 0:00 UTC))
                .contains(&"page_impressions_unique")
        );
    }

    #[test]
    fn every_surface_has_live_metrics_and_no_duplicates() {
        let now = datetime!(2026-12-08 04:00 UTC);
        for s in ALL {
            let asked = metrics_for(s, now);
            assert!(!asked.is_empty(), "{s:?}");
            let mut sorted = asked.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), asked.len(), "{s:?}");
        }
    }
}
