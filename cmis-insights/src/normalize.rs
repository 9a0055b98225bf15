//! Each post's outcome as a log ratio to the account's usual level before it (insights.md §5.3,
//! step 2): this removes the account's size, its growth and its formats, and leaves what the
//! time of posting might explain.

use std::collections::HashMap;

use time::OffsetDateTime;

use crate::config::{Baseline, Metric, Recommender};
use crate::post::{Account, PostOutcome};
use crate::slot::Slot;
use crate::stats;

/// One matured, usable post compared with its account's usual.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Observation {
    pub(crate) at: OffsetDateTime,
    pub(crate) slot: Slot,
    /// ln(outcome) − ln(usual level before it).
    pub(crate) y: f64,
}

/// An account's posts, ready for fitting.
#[derive(Debug, Clone, Default)]
pub(crate) struct Prepared {
    /// Posts with a baseline, in time order.
    pub(crate) observations: Vec<Observation>,
    /// Matured posts with usable numbers (those only used as baseline included).
    pub(crate) usable: usize,
    /// Posts left out: not matured, unusable numbers, or an instant the zone does not cover.
    pub(crate) skipped: usize,
    /// The first and last usable matured posts.
    pub(crate) span: Option<(OffsetDateTime, OffsetDateTime)>,
}

impl Prepared {
    /// Whole weeks between the first and the last usable post.
    pub(crate) fn weeks_covered(&self) -> u32 {
        self.span.map_or(0, |(first, last)| {
            u32::try_from((last - first).whole_weeks().max(0)).unwrap_or(u32::MAX)
        })
    }
}

/// The outcome a post is measured by, or `None` when its numbers cannot be used.
fn outcome(metric: Metric, post: &PostOutcome) -> Option<f64> {
    let engagement = post.engagement;
    if !engagement.is_finite() || engagement < 0.0 {
        return None;
    }
    let value = match metric {
        Metric::EngagementRate => {
            let reach = post.reach.filter(|r| r.is_finite() && *r > 0.0)?;
            (engagement + 0.5) / (reach + 1.0)
        }
        Metric::Engagement => engagement + 1.0,
    };
    (value.is_finite() && value > 0.0).then_some(value)
}

/// The account's matured posts as observations, in time order.
pub(crate) fn prepare(rec: &Recommender, account: &Account, posts: &[PostOutcome]) -> Prepared {
    let zone = account.zone();
    let mut usable: Vec<(OffsetDateTime, Slot, f64, Option<&str>)> =
        Vec::with_capacity(posts.len());
    for post in posts.iter().filter(|p| p.matured) {
        let Some(value) = outcome(rec.metric, post) else {
            continue;
        };
        let Ok(slot) = zone.slot_of(post.published_at) else {
            continue;
        };
        usable.push((post.published_at, slot, value.ln(), post.format.as_deref()));
    }
    // Stable: posts published at the same instant keep the caller's order.
    usable.sort_by_key(|u| u.0);
    let skipped = posts.len() - usable.len();
    let span = usable.first().zip(usable.last()).map(|(a, b)| (a.0, b.0));

    let mut history: HashMap<Option<&str>, Vec<f64>> = HashMap::new();
    let mut observations = Vec::with_capacity(usable.len());
    for &(at, slot, log_value, format) in &usable {
        let earlier = history.entry(format).or_default();
        if earlier.len() >= rec.min_baseline_posts {
            let recent = &earlier[earlier.len().saturating_sub(rec.baseline_posts)..];
            let usual = match rec.baseline {
                Baseline::RollingMedian => stats::median(recent),
                Baseline::RollingMean => stats::mean(recent),
            };
            if let Some(usual) = usual {
                observations.push(Observation {
                    at,
                    slot,
                    y: log_value - usual,
                });
            }
        }
        earlier.push(log_value);
    }
    Prepared {
        observations,
        usable: usable.len(),
        skipped,
        span,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;
    use time::macros::datetime;

    fn post(day: i64, engagement: f64, reach: f64) -> PostOutcome {
        PostOutcome::new(
            datetime!(2026-01-05 12:00 UTC) + Duration::days(day),
            engagement,
        )
        .with_reach(reach)
        .with_matured(true)
    }

    #[test]
    fn growth_is_removed_and_bad_numbers_are_skipped() {
        let rec = Recommender::builder()
            .min_baseline_posts(3)
            .build()
            .unwrap();
        let account = Account::new("a", "UTC").unwrap();
        // Reach doubles every post; the rate stays at 10 %, then one post does twice as well.
        let mut posts: Vec<_> = (0..6)
            .map(|i| {
                let reach = 1000.0 * f64::powi(2.0, i32::try_from(i).unwrap());
                post(i, reach * 0.1 - 0.5, reach - 1.0)
            })
            .collect();
        let reach = 64_000.0;
        posts.push(post(6, reach * 0.2 - 0.5, reach - 1.0));
        posts.push(post(7, f64::NAN, 10.0));
        posts.push(post(8, 5.0, 0.0));
        posts.push(post(9, -1.0, 10.0));
        posts.push(post(10, 5.0, 10.0).with_matured(false));
        let prepared = prepare(&rec, &account, &posts);
        assert_eq!(prepared.usable, 7);
        assert_eq!(prepared.skipped, 4);
        let ys: Vec<f64> = prepared.observations.iter().map(|o| o.y).collect();
        assert_eq!(ys.len(), 4);
        for y in &ys[..3] {
            assert!(y.abs() < 1e-9, "{ys:?}");
        }
        assert!((ys[3] - 2f64.ln()).abs() < 1e-9, "{ys:?}");
    }

    #[test]
    fn each_format_has_its_own_usual() {
        let rec = Recommender::builder()
            .min_baseline_posts(1)
            .build()
            .unwrap();
        let account = Account::new("a", "UTC").unwrap();
        let posts = [
            post(0, 99.5, 999.0).with_format("FEED"),
            post(1, 499.5, 999.0).with_format("REELS"),
            post(2, 99.5, 999.0).with_format("FEED"),
            post(3, 499.5, 999.0).with_format("REELS"),
        ];
        let prepared = prepare(&rec, &account, &posts);
        assert_eq!(prepared.observations.len(), 2);
        assert!(prepared.observations.iter().all(|o| o.y.abs() < 1e-9));
    }
}
