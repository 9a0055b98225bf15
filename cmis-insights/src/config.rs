//! The recommender's settings: [`Recommender`], its builder and the choices it takes.

use time::Duration;

use crate::error::{Error, Result};
use crate::slot::{HOURS_PER_WEEK, Slot, Window};

/// What a post's outcome is measured as, before it is compared with the account's usual.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Metric {
    /// Engagement ÷ reach (or views), as Buffer computes it: `(engagement + 0.5) ÷ (reach + 1)`,
    /// so a post nobody engaged with still has a finite logarithm. Posts without a reach, or
    /// with a reach of zero, are left out. The default.
    #[default]
    EngagementRate,
    /// Engagement alone, as `engagement + 1`: for platforms without reach (TikTok gives views,
    /// which a caller may pass as reach instead).
    Engagement,
}

/// How the account's usual level is taken from its previous posts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Baseline {
    /// The median of the previous posts' outcomes: one viral post does not move it. The
    /// default, as insights.md §5.3 recommends.
    #[default]
    RollingMedian,
    /// The geometric mean of the previous posts' outcomes.
    RollingMean,
}

/// What the recommender expects before it has seen an account's posts: a relative lift per
/// local hour of the week, for instance a platform-wide curve or an account's rescaled
/// "followers online" curve. Slots with few posts are pulled toward it.
///
/// ```
/// use cmis_insights::{Slot, SlotPrior};
///
/// // Evenings 10 % better, nights 20 % worse, the rest as usual.
/// let lifts: Vec<f64> = Slot::all()
///     .map(|s| match s.hour() {
///         18..=21 => 0.10,
///         0..=5 => -0.20,
///         _ => 0.0,
///     })
///     .collect();
/// let prior = SlotPrior::from_lifts(&lifts)?;
/// assert!((prior.lift(Slot::new(19).unwrap()) - 0.10).abs() < 1e-12);
/// # Ok::<(), cmis_insights::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SlotPrior {
    /// Natural logarithm of 1 + lift, per slot.
    log_lift: Vec<f64>,
}

impl SlotPrior {
    /// No slot expected to differ: every window is pulled toward the account's usual. The
    /// default.
    pub fn flat() -> Self {
        Self {
            log_lift: vec![0.0; HOURS_PER_WEEK],
        }
    }

    /// From 168 relative lifts, one per [`Slot`] from Monday 00:00 (0.10 is +10 %, −0.20 is
    /// −20 %).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidSetting`](crate::ErrorKind::InvalidSetting) unless there are exactly
    /// 168 finite lifts, each above −1 (−100 %).
    pub fn from_lifts(lifts: &[f64]) -> Result<Self> {
        if lifts.len() != HOURS_PER_WEEK {
            return Err(Error::invalid_setting(
                "prior",
                format!(
                    "{} lifts given, one per hour of the week (168) needed",
                    lifts.len()
                ),
            ));
        }
        if let Some(bad) = lifts.iter().find(|l| !l.is_finite() || **l <= -1.0) {
            return Err(Error::invalid_setting(
                "prior",
                format!("lift {bad} is not a finite number above -1"),
            ));
        }
        Ok(Self {
            log_lift: lifts.iter().map(|l| l.ln_1p()).collect(),
        })
    }

    /// The lift expected at `slot` (0.10 is +10 %).
    pub fn lift(&self, slot: Slot) -> f64 {
        self.log_lift[slot.index()].exp_m1()
    }

    /// The mean log lift over a window's hours.
    pub(crate) fn window_log_lift(&self, window: Window) -> f64 {
        let sum: f64 = window.slots().map(|s| self.log_lift[s.index()]).sum();
        sum / f64::from(window.hours())
    }
}

impl Default for SlotPrior {
    fn default() -> Self {
        Self::flat()
    }
}

/// The best-time-to-post recommender: normalises each post against the account's own recent
/// posts, estimates every window of the week with partial pooling toward a prior, backtests
/// itself on the account's history and answers only what the backtest supports.
///
/// Built with [`Recommender::builder`]; [`Recommender::new`] takes every default. The methods
/// are [`recommend`](Recommender::recommend), [`backtest`](Recommender::backtest),
/// [`rank`](Recommender::rank) and [`suggest`](Recommender::suggest).
#[derive(Debug, Clone, PartialEq)]
pub struct Recommender {
    pub(crate) metric: Metric,
    pub(crate) baseline: Baseline,
    pub(crate) baseline_posts: usize,
    pub(crate) min_baseline_posts: usize,
    pub(crate) window_hours: u8,
    pub(crate) top_k: usize,
    pub(crate) min_posts: usize,
    pub(crate) min_weeks: u32,
    pub(crate) maturity: Duration,
    pub(crate) origin_step: Duration,
    pub(crate) min_train_posts: usize,
    pub(crate) resamples: usize,
    pub(crate) confidence: f64,
    pub(crate) slot_confidence: f64,
    pub(crate) min_checked_posts: usize,
    pub(crate) min_spread: f64,
    pub(crate) explore_share: f64,
    pub(crate) explore_hours: (u8, u8),
    pub(crate) seed: u64,
    pub(crate) prior: SlotPrior,
}

impl Default for Recommender {
    fn default() -> Self {
        Self {
            metric: Metric::EngagementRate,
            baseline: Baseline::RollingMedian,
            baseline_posts: 20,
            min_baseline_posts: 5,
            window_hours: 4,
            top_k: 3,
            min_posts: 30,
            min_weeks: 8,
            maturity: Duration::days(7),
            origin_step: Duration::days(28),
            min_train_posts: 20,
            resamples: 1000,
            confidence: 0.95,
            slot_confidence: 0.80,
            min_checked_posts: 5,
            min_spread: 0.05,
            explore_share: 0.10,
            explore_hours: (7, 23),
            seed: 0x5eed_2026,
            prior: SlotPrior::flat(),
        }
    }
}

impl Recommender {
    /// A recommender with every default (see [`RecommenderBuilder`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder starting from the defaults.
    pub fn builder() -> RecommenderBuilder {
        RecommenderBuilder {
            inner: Self::default(),
        }
    }

    /// The share of suggestions that explore (0.10 by default).
    pub fn explore_share(&self) -> f64 {
        self.explore_share
    }

    /// The width of the windows estimated and recommended, in hours (4 by default).
    pub fn window_hours(&self) -> u8 {
        self.window_hours
    }

    /// How many windows a recommendation names at most (3 by default).
    pub fn top_k(&self) -> usize {
        self.top_k
    }
}

/// Settings for a [`Recommender`]; every method documents its default.
///
/// ```
/// use cmis_insights::{Metric, Recommender};
///
/// let recommender = Recommender::builder()
///     .metric(Metric::Engagement)
///     .top_k(2)
///     .explore_share(0.2)
///     .seed(7)
///     .build()?;
/// assert_eq!(recommender.explore_share(), 0.2);
/// assert!(Recommender::builder().window_hours(5).build().is_err());
/// # Ok::<(), cmis_insights::Error>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct RecommenderBuilder {
    inner: Recommender,
}

impl RecommenderBuilder {
    /// What a post's outcome is measured as. Default [`Metric::EngagementRate`].
    pub fn metric(mut self, metric: Metric) -> Self {
        self.inner.metric = metric;
        self
    }

    /// How the account's usual level is taken. Default [`Baseline::RollingMedian`].
    pub fn baseline(mut self, baseline: Baseline) -> Self {
        self.inner.baseline = baseline;
        self
    }

    /// How many previous posts (of the same format) make the account's usual level. Default 20.
    pub fn baseline_posts(mut self, posts: usize) -> Self {
        self.inner.baseline_posts = posts;
        self
    }

    /// How many previous posts a post needs before it is compared with them; the first posts
    /// of an account (or a format) only serve as the baseline. Default 5.
    pub fn min_baseline_posts(mut self, posts: usize) -> Self {
        self.inner.min_baseline_posts = posts;
        self
    }

    /// The width of the windows, in hours; must divide 24, so that the windows aligned to
    /// midnight that measure the spread between windows tile a day. Default 4 (insights.md
    /// §5.3: 42 four-hour blocks a week; 168 hourly slots are too sparse). Recommended windows
    /// may start at any hour.
    pub fn window_hours(mut self, hours: u8) -> Self {
        self.inner.window_hours = hours;
        self
    }

    /// How many windows a recommendation names at most. Default 3.
    pub fn top_k(mut self, k: usize) -> Self {
        self.inner.top_k = k;
        self
    }

    /// The matured posts needed before the answer can be anything but
    /// [`Recommendation::NotEnoughData`](crate::Recommendation::NotEnoughData). Default 30.
    pub fn min_posts(mut self, posts: usize) -> Self {
        self.inner.min_posts = posts;
        self
    }

    /// The weeks of history (first to last matured post) needed likewise. Default 8.
    pub fn min_weeks(mut self, weeks: u32) -> Self {
        self.inner.min_weeks = weeks;
        self
    }

    /// The age at which posts are compared: in the backtest a post trains the model only once
    /// it was this old at the origin. Default 7 days.
    pub fn maturity(mut self, age: Duration) -> Self {
        self.inner.maturity = age;
        self
    }

    /// The distance between backtest origins, and the length of each test window. Default 28
    /// days.
    pub fn origin_step(mut self, step: Duration) -> Self {
        self.inner.origin_step = step;
        self
    }

    /// The posts the first backtest origin trains on. Default 20.
    pub fn min_train_posts(mut self, posts: usize) -> Self {
        self.inner.min_train_posts = posts;
        self
    }

    /// The backtest's bootstrap resamples. Default 1000.
    pub fn resamples(mut self, resamples: usize) -> Self {
        self.inner.resamples = resamples;
        self
    }

    /// The confidence of the backtest's lift interval (0.5..1). Default 0.95.
    pub fn confidence(mut self, confidence: f64) -> Self {
        self.inner.confidence = confidence;
        self
    }

    /// The confidence of each window's interval (0.5..1). Default 0.80, as insights.md §5.3.
    pub fn slot_confidence(mut self, confidence: f64) -> Self {
        self.inner.slot_confidence = confidence;
        self
    }

    /// The held-out posts in recommended windows the backtest needs before it can say
    /// anything; with fewer its interval is `None`. Default 5.
    pub fn min_checked_posts(mut self, posts: usize) -> Self {
        self.inner.min_checked_posts = posts;
        self
    }

    /// The least spread assumed between windows, as a log ratio: the shrinkage never pulls a
    /// window entirely onto the prior. Default 0.05 (about ±5 %).
    pub fn min_spread(mut self, spread: f64) -> Self {
        self.inner.min_spread = spread;
        self
    }

    /// The share of [`suggest`](Recommender::suggest)ed times that explore a window outside
    /// the recommendation (0..=1): without them, windows never posted in stay unknown. Default
    /// 0.10.
    pub fn explore_share(mut self, share: f64) -> Self {
        self.inner.explore_share = share;
        self
    }

    /// The local hours exploration may use, `start..end` (0..=24). Default 7..23.
    pub fn explore_hours(mut self, start: u8, end: u8) -> Self {
        self.inner.explore_hours = (start, end);
        self
    }

    /// The seed of the bootstrap and of exploration (mixed with each account's id), so that
    /// results are reproducible. Default `0x5eed_2026`.
    pub fn seed(mut self, seed: u64) -> Self {
        self.inner.seed = seed;
        self
    }

    /// What windows are expected to do before the account's posts say otherwise. Default
    /// [`SlotPrior::flat`].
    pub fn prior(mut self, prior: SlotPrior) -> Self {
        self.inner.prior = prior;
        self
    }

    /// The recommender.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidSetting`](crate::ErrorKind::InvalidSetting) naming the first setting
    /// out of range.
    pub fn build(self) -> Result<Recommender> {
        let r = self.inner;
        let check = |ok: bool, name: &str, why: &str| {
            if ok {
                Ok(())
            } else {
                Err(Error::invalid_setting(name, why))
            }
        };
        check(
            r.window_hours > 0 && 24 % r.window_hours == 0,
            "window_hours",
            "must divide 24 (1, 2, 3, 4, 6, 8, 12 or 24)",
        )?;
        check(r.top_k > 0, "top_k", "must be at least 1")?;
        check(r.baseline_posts > 0, "baseline_posts", "must be at least 1")?;
        check(
            (1..=r.baseline_posts).contains(&r.min_baseline_posts),
            "min_baseline_posts",
            "must be between 1 and baseline_posts",
        )?;
        check(
            r.min_train_posts > 0,
            "min_train_posts",
            "must be at least 1",
        )?;
        check(
            r.maturity >= Duration::ZERO && r.maturity <= Duration::days(366),
            "maturity",
            "must lie between 0 and 366 days",
        )?;
        check(
            r.origin_step >= Duration::days(1) && r.origin_step <= Duration::days(366),
            "origin_step",
            "must lie between 1 and 366 days",
        )?;
        check(
            (1..=100_000).contains(&r.resamples),
            "resamples",
            "must be between 1 and 100000",
        )?;
        check(
            r.confidence > 0.5 && r.confidence < 1.0,
            "confidence",
            "must lie between 0.5 and 1",
        )?;
        check(
            r.slot_confidence > 0.5 && r.slot_confidence < 1.0,
            "slot_confidence",
            "must lie between 0.5 and 1",
        )?;
        check(
            r.min_checked_posts > 0,
            "min_checked_posts",
            "must be at least 1",
        )?;
        check(
            r.min_spread.is_finite() && r.min_spread > 0.0,
            "min_spread",
            "must be a positive number",
        )?;
        check(
            (0.0..=1.0).contains(&r.explore_share),
            "explore_share",
            "must lie between 0 and 1",
        )?;
        check(
            r.explore_hours.0 < r.explore_hours.1 && r.explore_hours.1 <= 24,
            "explore_hours",
            "must be start..end with start < end <= 24",
        )?;
        Ok(r)
    }
}
