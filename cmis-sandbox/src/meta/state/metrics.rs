//! The insights metrics the fake Meta knows, with the dates they arrived and were retired
//! (Pages API changelog and deprecated-metrics page; IG Media Insights reference; Graph v18
//! changelog; Instagram API updates of 2025-12-03), and the refusal of a request naming one
//! that is not valid at the fake's clock: code 100, and none of the other metrics come back.

use super::params::list_param;
use super::{GraphError, Params, invalid_param};

/// 2023-12-11 (Graph v18's Instagram removals), Unix seconds.
const V18_IG: i64 = 1_702_252_800;
/// 2025-01-01: Instagram `video_views` removed.
const IG_VIDEO_VIEWS: i64 = 1_735_689_600;
/// 2025-04-21: Instagram `impressions`, `plays`, … removed on every version.
const IG_VIEWS_SWITCH: i64 = 1_745_193_600;
/// 2025-11-15: the first wave of Page metric removals (`post_impressions`, paid/organic/fan).
const FB_WAVE_1: i64 = 1_763_164_800;
/// 2025-12-03: `reels_skip_rate` and `reposts` arrive.
const IG_2025_12: i64 = 1_764_720_000;
/// 2026-06-15: the second wave (`post_impressions_unique*`). The deprecated-metrics page says
/// June 15, 2025; the insights reference and peers say 2026, which is taken here.
const FB_WAVE_2: i64 = 1_781_481_600;

/// A metric: its name, title, and the Unix times it is valid from and until.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Metric {
    pub(crate) name: &'static str,
    pub(crate) title: &'static str,
    pub(crate) from: i64,
    pub(crate) until: i64,
}

const fn m(name: &'static str, title: &'static str) -> Metric {
    Metric {
        name,
        title,
        from: i64::MIN,
        until: i64::MAX,
    }
}

const fn retired(name: &'static str, until: i64) -> Metric {
    Metric {
        name,
        title: "",
        from: i64::MIN,
        until,
    }
}

const fn since(name: &'static str, title: &'static str, from: i64) -> Metric {
    Metric {
        name,
        title,
        from,
        until: i64::MAX,
    }
}

/// Facebook Page post metrics (`GET /{page-post-id}/insights`).
pub(crate) const FB_POST: &[Metric] = &[
    m("post_media_view", "Lifetime Post Media Views"),
    m(
        "post_total_media_view_unique",
        "Lifetime Post Total Media Viewers",
    ),
    m("post_clicks", "Lifetime Post Clicks"),
    m(
        "post_reactions_by_type_total",
        "Lifetime Total post Reactions by Type.",
    ),
    m("post_reactions_like_total", "Lifetime Total Like Reactions"),
    retired("post_impressions", FB_WAVE_1),
    retired("post_impressions_paid", FB_WAVE_1),
    retired("post_impressions_organic", FB_WAVE_1),
    retired("post_impressions_fan", FB_WAVE_1),
    retired("post_impressions_unique", FB_WAVE_2),
    retired("post_impressions_paid_unique", FB_WAVE_2),
    retired("post_impressions_organic_unique", FB_WAVE_2),
    retired("post_impressions_fan_unique", FB_WAVE_2),
];

/// Facebook video and Reel metrics (`GET /{video-id}/video_insights`); the first six are the
/// edge's default set.
pub(crate) const FB_VIDEO: &[Metric] = &[
    m("blue_reels_play_count", "Reel plays"),
    m("fb_reels_total_plays", "Lifetime Reel total plays"),
    m("fb_reels_replay_count", "Lifetime Reel replays"),
    m(
        "post_video_avg_time_watched",
        "Lifetime Average time video viewed",
    ),
    m("post_video_view_time", "Lifetime Total video view time"),
    m("post_video_reactions", "Lifetime Reactions by type"),
    retired("post_impressions", FB_WAVE_1),
    retired("post_impressions_unique", FB_WAVE_2),
];

/// How many of [`FB_VIDEO`] a `video_insights` call without `metric` returns.
pub(crate) const FB_VIDEO_DEFAULT: usize = 6;

/// Every Instagram media metric, with the sets per `media_product_type` in
/// [`ig_supports`].
pub(crate) const IG_MEDIA: &[Metric] = &[
    m("reach", "Accounts reached"),
    m("views", "Views"),
    m("likes", "Likes"),
    m("comments", "Comments"),
    m("saved", "Saved"),
    m("shares", "Shares"),
    m("total_interactions", "Interactions"),
    m("profile_visits", "Profile visits"),
    m("profile_activity", "Profile activity"),
    m("follows", "Follows"),
    m("replies", "Replies"),
    m("navigation", "Navigation"),
    m("ig_reels_avg_watch_time", "Average watch time"),
    m("ig_reels_video_view_total_time", "Watch time"),
    since("reels_skip_rate", "Skip rate", IG_2025_12),
    since("reposts", "Reposts", IG_2025_12),
    retired("carousel_album_impressions", V18_IG),
    retired("carousel_album_reach", V18_IG),
    retired("carousel_album_engagement", V18_IG),
    retired("carousel_album_saved", V18_IG),
    retired("carousel_album_video_views", V18_IG),
    retired("taps_forward", V18_IG),
    retired("taps_back", V18_IG),
    retired("exits", V18_IG),
    retired("engagement", V18_IG),
    retired("video_views", IG_VIDEO_VIEWS),
    retired("impressions", IG_VIEWS_SWITCH),
    retired("plays", IG_VIEWS_SWITCH),
    retired("clips_replays_count", IG_VIEWS_SWITCH),
    retired("ig_reels_aggregated_all_plays_count", IG_VIEWS_SWITCH),
];

/// Whether a media of `product` (`FEED`, `REELS`, `STORY`) supports metric `name` (the IG
/// Media Insights reference's sets).
pub(crate) fn ig_supports(product: &str, name: &str) -> bool {
    const COMMON: &[&str] = &["reach", "views", "shares", "total_interactions"];
    const FEED: &[&str] = &[
        "likes",
        "comments",
        "saved",
        "profile_visits",
        "profile_activity",
        "follows",
    ];
    const REELS: &[&str] = &[
        "likes",
        "comments",
        "saved",
        "ig_reels_avg_watch_time",
        "ig_reels_video_view_total_time",
        "reels_skip_rate",
        "reposts",
    ];
    const STORY: &[&str] = &[
        "replies",
        "navigation",
        "follows",
        "profile_visits",
        "profile_activity",
    ];
    let set = match product {
        "REELS" => REELS,
        "STORY" => STORY,
        _ => FEED,
    };
    COMMON.contains(&name) || set.contains(&name)
}

impl Metric {
    pub(crate) fn valid_at(&self, now: i64) -> bool {
        self.from <= now && now < self.until
    }
}

/// The metrics the request names, in order and without repeats; `None` when it names none.
pub(crate) fn requested(p: &Params) -> Result<Option<Vec<String>>, GraphError> {
    let Some(items) = list_param(p, "metric")? else {
        return Ok(None);
    };
    let mut out: Vec<String> = Vec::new();
    for item in items {
        let name = item.as_str().map(str::trim).unwrap_or_default().to_owned();
        if !out.contains(&name) {
            out.push(name);
        }
    }
    Ok(Some(out).filter(|o| !o.is_empty()))
}

/// The refusal of a metric that is not valid: "(#100) metric[i] must be one of the following
/// values: …", listing what is valid now.
pub(crate) fn not_a_metric(index: usize, valid: &[&str]) -> GraphError {
    invalid_param(format!(
        "metric[{index}] must be one of the following values: {}",
        valid.join(", ")
    ))
}

/// Checks every name against `registry` at `now` (and `extra`, a further rule returning its
/// own refusal): the first one that fails fails the whole call.
pub(crate) fn check<'a>(
    registry: &'a [Metric],
    names: &[String],
    now: i64,
    extra: impl Fn(&str) -> Option<GraphError>,
) -> Result<Vec<&'a Metric>, GraphError> {
    let valid: Vec<&str> = registry
        .iter()
        .filter(|x| x.valid_at(now))
        .map(|x| x.name)
        .collect();
    let mut out = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        match registry.iter().find(|x| x.name == name && x.valid_at(now)) {
            Some(metric) => {
                if let Some(e) = extra(name) {
                    return Err(e);
                }
                out.push(metric);
            }
            None => return Err(not_a_metric(i, &valid)),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retirement_follows_the_clock() {
        let names = vec!["post_media_view".to_owned(), "post_impressions".to_owned()];
        // Before the first wave, post_impressions is still a metric.
        assert!(check(FB_POST, &names, FB_WAVE_1 - 1, |_| None).is_ok());
        let e = check(FB_POST, &names, FB_WAVE_1, |_| None).unwrap_err();
        assert_eq!(e.code, 100);
        assert!(e.message.starts_with("(#100) metric[1] must be one of"));
        let skip = vec!["reels_skip_rate".to_owned()];
        assert!(check(IG_MEDIA, &skip, IG_2025_12 - 1, |_| None).is_err());
        assert!(check(IG_MEDIA, &skip, IG_2025_12, |_| None).is_ok());
    }
}
