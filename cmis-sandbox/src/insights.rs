//! The post performance the fakes serve as insights: lifetime counters drawn from a planted
//! engagement curve over each account's local hour of the week, plus seeded noise.
//!
//! Every number is a pure function of the seed, the account, the post, when it was published
//! and how old it is now, so the same seed gives the same answers whatever the order of the
//! requests, and a counter read later is never smaller than one read earlier.

use std::time::Duration;

/// Hours in a week: the slots of the planted curve.
const HOURS_PER_WEEK: u32 = 168;

/// How the fakes' insights (Meta's post and media insights, TikTok's video counters) behave.
///
/// Each account (a Page, an Instagram account, a TikTok creator) has one planted best slot, an
/// hour of the week in its local time ([`InsightsConfig::best_slot`]). A post published in that
/// hour gets `1 + lift` times the engagement rate of a post published at a time without effect;
/// the lift falls off as a Gaussian (standard deviation 2 hours) of the distance in hours of
/// the day, and is a quarter as strong on the other days of the week. On top of that, each post
/// gets log-normal noise on its reach and on its rate (what content and luck do). Counters then
/// grow towards their final values as `1 − e^(−age / growth)`, so they never decrease.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct InsightsConfig {
    /// The seed of every draw (the program's `--seed`). Default 0.
    pub seed: u64,
    /// How long after publishing insights become available. Before that, Instagram answers an
    /// empty `data` ("an empty data set instead of 0"), Facebook and TikTok zeros. Default 10
    /// minutes (Instagram documents "up to 48 hours").
    pub delay: Duration,
    /// The time constant of the counters' growth: at this age a post has about 63 % of its
    /// final counts. Default 24 hours.
    pub growth: Duration,
    /// The accounts' local time, as minutes east of UTC, in which the hour of the week is
    /// counted. Default 0 (UTC).
    pub utc_offset_minutes: i32,
    /// The engagement lift at the best slot: 0.5 is +50 %. Default 0.5; 0 plants no effect.
    pub lift: f64,
}

impl Default for InsightsConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            delay: Duration::from_secs(600),
            growth: Duration::from_secs(24 * 3600),
            utc_offset_minutes: 0,
            lift: 0.5,
        }
    }
}

/// A 64-bit mix (splitmix64's finaliser).
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A hash of the seed and some words.
fn hash(seed: u64, words: &[&str]) -> u64 {
    let mut h = mix(seed);
    for w in words {
        for b in w.bytes() {
            h = mix(h ^ u64::from(b));
        }
        h = mix(h ^ 0xFF);
    }
    h
}

/// A uniform draw in (0, 1).
#[allow(clippy::cast_precision_loss)]
fn uniform(h: u64) -> f64 {
    ((h >> 11) as f64 + 0.5) / (1u64 << 53) as f64
}

/// A uniform draw in (0, 1) from the seed and some words.
pub(crate) fn unit(seed: u64, words: &[&str]) -> f64 {
    uniform(hash(seed, words))
}

/// A standard normal draw (Box–Muller).
fn normal(seed: u64, words: &[&str]) -> f64 {
    let h = hash(seed, words);
    let (u1, u2) = (uniform(h), uniform(mix(h)));
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

impl InsightsConfig {
    /// The planted best slot of `account`: an hour of the week in its local time, 0 being
    /// Monday 00:00–00:59 and 167 Sunday 23:00–23:59. Always a daytime hour (08:00 to 20:59).
    pub fn best_slot(&self, account: &str) -> u32 {
        let h = hash(self.seed, &["best", account]);
        let day = u32::try_from((h >> 32) % 7).unwrap_or(0);
        let hour = 8 + u32::try_from(h % 13).unwrap_or(0);
        day * 24 + hour
    }

    /// The local hour of the week of Unix time `unix` (0 = Monday 00:00).
    pub(crate) fn hour_of_week(&self, unix: i64) -> u32 {
        let local = unix + i64::from(self.utc_offset_minutes) * 60;
        // 1970-01-01 was a Thursday (Monday = 0).
        let day = (local.div_euclid(86_400) + 3).rem_euclid(7);
        let hour = local.rem_euclid(86_400) / 3600;
        u32::try_from(day * 24 + hour).unwrap_or(0) % HOURS_PER_WEEK
    }

    /// The planted effect at `slot` for `account`: the rate is multiplied by `1 + effect`.
    pub(crate) fn effect(&self, account: &str, slot: u32) -> f64 {
        let best = self.best_slot(account);
        let (a, b) = (slot % 24, best % 24);
        let d = f64::from(a.abs_diff(b).min(24 - a.abs_diff(b)));
        let same_day = slot / 24 == best / 24;
        let day = if same_day { 1.0 } else { 0.25 };
        self.lift.max(-0.99) * day * (-d * d / 8.0).exp()
    }

    /// Whether a post published at `published` (Unix seconds) has insights at `now`.
    pub(crate) fn available(&self, published: i64, now: i64) -> bool {
        now.saturating_sub(published) >= i64::try_from(self.delay.as_secs()).unwrap_or(i64::MAX)
    }

    /// The counters of `post` by `account`, published at `published`, as they read at `now`
    /// (all Unix seconds).
    pub(crate) fn counters(&self, account: &str, post: &str, published: i64, now: i64) -> Counters {
        let s = self.seed;
        let size = 2_000.0 * (0.8 * normal(s, &["size", account])).exp();
        let reach = size * (0.25 * normal(s, &["reach", account, post])).exp();
        let effect = self.effect(account, self.hour_of_week(published));
        let rate = 0.04 * (1.0 + effect) * (0.3 * normal(s, &["rate", account, post])).exp();
        let engaged = reach * rate;
        #[allow(clippy::cast_precision_loss)]
        let age = now.saturating_sub(published).max(0) as f64;
        let tau = self.growth.as_secs_f64().max(1.0);
        let grown = 1.0 - (-age / tau).exp();
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let count = |final_value: f64| (final_value * grown).floor().max(0.0) as u64;
        Counters {
            reach: count(reach),
            views: count(reach * 1.6),
            likes: count(engaged * 0.7),
            comments: count(engaged * 0.1),
            shares: count(engaged * 0.08),
            saves: count(engaged * 0.12),
            clicks: count(reach * 0.02),
            follows: count(engaged * 0.01),
            profile_visits: count(engaged * 0.05),
            watch_ms: count(reach * 1.6 * 9_000.0),
        }
    }

    /// How many of `account`'s `followers` are online in local hour of the week `slot`: the
    /// planted curve, scaled, with a little noise per day.
    pub(crate) fn online(&self, account: &str, slot: u32, day: i64) -> u64 {
        let hour = f64::from(slot % 24);
        // A few more people online by day than at night (gently, so that the planted bump
        // stays the peak), plus the planted bump.
        let daily = 0.3 + 0.05 * (-(hour - 14.0) * (hour - 14.0) / 50.0).exp();
        let noise = (0.05 * normal(self.seed, &["online", account, &day.to_string()])).exp();
        let size = 2_000.0 * (0.8 * normal(self.seed, &["size", account])).exp();
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let n = (size * daily * (1.0 + self.effect(account, slot)) * noise).round() as u64;
        n
    }
}

/// A post's lifetime counters at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counters {
    pub(crate) reach: u64,
    pub(crate) views: u64,
    pub(crate) likes: u64,
    pub(crate) comments: u64,
    pub(crate) shares: u64,
    pub(crate) saves: u64,
    pub(crate) clicks: u64,
    pub(crate) follows: u64,
    pub(crate) profile_visits: u64,
    /// Total watch time, in milliseconds.
    pub(crate) watch_ms: u64,
}

impl Counters {
    /// Likes, comments, shares and saves.
    pub(crate) fn interactions(&self) -> u64 {
        self.likes + self.comments + self.shares + self.saves
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_grow_and_the_best_slot_wins() {
        let c = InsightsConfig::default();
        let best = c.best_slot("acct");
        assert!((8..=20).contains(&(best % 24)));
        assert!((c.effect("acct", best) - 0.5).abs() < 1e-9);
        let mut last = c.counters("acct", "p", 0, 0);
        for age in (0..30).map(|d| d * 7_200) {
            let now = c.counters("acct", "p", 0, age);
            assert!(now.views >= last.views && now.likes >= last.likes);
            last = now;
        }
        // 2024-01-01 was a Monday.
        assert_eq!(c.hour_of_week(1_704_067_200), 0);
        assert_eq!(c.hour_of_week(1_704_067_200 + 86_400 * 6 + 3600 * 23), 167);
    }

    #[test]
    fn the_planted_slot_is_found_from_the_posts_engagement_rates() {
        for seed in 0..5 {
            let c = InsightsConfig {
                seed,
                ..InsightsConfig::default()
            };
            let best = c.best_slot("acct");
            // 40 posts in every hour of a week (Monday 2024-01-01, UTC), read 30 days later.
            let monday = 1_704_067_200;
            let mean_rate = |slot: u32| {
                let sum: f64 = (0..40)
                    .map(|k| {
                        let at = monday + i64::from(slot) * 3600 + k * 7 * 86_400;
                        let n = c.counters("acct", &format!("{slot}-{k}"), at, at + 30 * 86_400);
                        #[allow(clippy::cast_precision_loss)]
                        let rate = n.interactions() as f64 / n.reach.max(1) as f64;
                        rate
                    })
                    .sum();
                sum / 40.0
            };
            let rates: Vec<f64> = (0..168).map(mean_rate).collect();
            let found = (0..168u32)
                .max_by(|&a, &b| rates[a as usize].total_cmp(&rates[b as usize]))
                .unwrap();
            assert!(found.abs_diff(best) <= 1, "seed {seed}: {found} vs {best}");
        }
    }
}
