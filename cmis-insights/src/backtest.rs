//! The recommender checked against the account's own history (insights.md §5.4): rolling
//! origins, time order, held-out posts, and a block bootstrap over weeks.
//!
//! At each origin the model is fitted only on posts that had matured before it, recommends its
//! windows, and is judged on the posts of the next `origin_step` (4 weeks by default), which it
//! never saw. The lift is how much better held-out posts in the recommended windows did than
//! all held-out posts, as a ratio of geometric means (a log difference, so one viral post does
//! not decide it). Its interval resamples whole weeks, so that a good or bad week counts once.

use std::collections::BTreeMap;
use std::fmt;

use time::OffsetDateTime;

use crate::config::Recommender;
use crate::model;
use crate::normalize::{self, Observation};
use crate::post::{Account, PostOutcome};
use crate::slot::Window;
use crate::stats;

/// One backtest origin.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Origin {
    /// The instant the model pretended was "now".
    pub at: OffsetDateTime,
    /// Posts the model was fitted on (matured before `at`).
    pub train_posts: usize,
    /// Posts of the test window that followed.
    pub held_out_posts: usize,
    /// Of those, posts in the windows the model recommended.
    pub in_recommended: usize,
    /// The windows recommended at this origin (none when no window beat the usual).
    pub recommended: Vec<Window>,
}

/// What the backtest found: the lift of held-out posts in recommended windows, and whether it
/// is reliable.
///
/// ```
/// use cmis_insights::Recommender;
/// use cmis_insights::synthetic::{SyntheticConfig, TimeEffect};
///
/// let account = SyntheticConfig::new().effect(TimeEffect::None).posts(120).account(1, 0);
/// let backtest = Recommender::new().backtest(&account.account, &account.posts);
/// assert!(backtest.origins.len() >= 3);
/// println!("{backtest}");
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Backtest {
    /// Every origin with posts to judge, in time order (origins are `origin_step` apart from
    /// the first; one whose test window holds no post is left out).
    pub origins: Vec<Origin>,
    /// Held-out posts over all origins.
    pub held_out_posts: usize,
    /// Held-out posts that fell in recommended windows.
    pub in_recommended: usize,
    /// `in_recommended ÷ held_out_posts` (0 without held-out posts). Under about 10 % the
    /// result says little.
    pub coverage: f64,
    /// The observed lift (0.12 is +12 %), when any held-out post fell in a recommended window.
    pub lift: Option<f64>,
    /// The lift's interval at the recommender's confidence (95 % by default), when at least
    /// `min_checked_posts` held-out posts (5 by default) fell in recommended windows, in two
    /// weeks or more.
    pub interval: Option<(f64, f64)>,
    /// The interval's confidence.
    pub confidence: f64,
    /// Matured posts with usable numbers.
    pub matured_posts: usize,
    /// Posts left out: not matured, or numbers that cannot be used (NaN, negative, no reach).
    pub skipped_posts: usize,
}

impl Backtest {
    /// Whether the interval lies entirely above zero: posts in the recommended windows did
    /// better, beyond what chance explains. Anything else is "no reliable time effect".
    pub fn is_reliable(&self) -> bool {
        self.interval.is_some_and(|(low, _)| low > 0.0)
    }
}

impl fmt::Display for Backtest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} origins, {} held-out posts, {} in recommended windows ({:.0} %)",
            self.origins.len(),
            self.held_out_posts,
            self.in_recommended,
            self.coverage * 100.0
        )?;
        if let Some(lift) = self.lift {
            write!(f, ", lift {:+.1} %", lift * 100.0)?;
        }
        if let Some((low, high)) = self.interval {
            write!(
                f,
                " [{:+.1} %, {:+.1} %] at {:.0} %",
                low * 100.0,
                high * 100.0,
                self.confidence * 100.0
            )?;
        }
        Ok(())
    }
}

/// Per week: (sum, count) over recommended held-out posts, and over all held-out posts.
type WeekSums = ((f64, usize), (f64, usize));

impl Recommender {
    /// Backtests the recommender on an account's history: rolling origins every
    /// `origin_step`, each fitted on the posts matured before it and judged on the posts after
    /// it. Posts that are not matured, or whose numbers cannot be used, are left out and
    /// counted; nothing here fails or panics on bad input.
    pub fn backtest(&self, account: &Account, posts: &[PostOutcome]) -> Backtest {
        let prepared = normalize::prepare(self, account, posts);
        let obs = &prepared.observations;
        let mut origins = Vec::new();
        let mut weeks: BTreeMap<i64, WeekSums> = BTreeMap::new();
        if let (Some(first_ready), Some(last)) =
            (obs.get(self.min_train_posts.saturating_sub(1)), obs.last())
        {
            // Saturating: a post stamped near the end of time must not overflow the arithmetic.
            let start = first_ready.at.saturating_add(self.maturity);
            let mut at = start;
            while at <= last.at {
                let end = at.saturating_add(self.origin_step);
                if end <= at {
                    break;
                }
                let test: Vec<&Observation> =
                    obs.iter().filter(|o| o.at >= at && o.at < end).collect();
                if test.is_empty() {
                    // Nothing to judge until the next post: jump to the origin before it, so
                    // that a history with long gaps costs no more than one without.
                    let Some(next) = obs.iter().find(|o| o.at >= end) else {
                        break;
                    };
                    let steps =
                        (next.at - start).whole_seconds() / self.origin_step.whole_seconds().max(1);
                    let jump = self
                        .origin_step
                        .saturating_mul(i32::try_from(steps).unwrap_or(i32::MAX));
                    at = start.saturating_add(jump).max(end);
                    continue;
                }
                let train: Vec<Observation> = obs
                    .iter()
                    .filter(|o| o.at.saturating_add(self.maturity) <= at)
                    .copied()
                    .collect();
                let recommended: Vec<Window> = model::select(self, model::fit(self, &train))
                    .into_iter()
                    .map(|e| e.window)
                    .collect();
                let mut in_recommended = 0;
                for o in &test {
                    let week = (o.at - start).whole_weeks();
                    let sums = weeks.entry(week).or_default();
                    sums.1.0 += o.y;
                    sums.1.1 += 1;
                    if recommended.iter().any(|w| w.contains(o.slot)) {
                        sums.0.0 += o.y;
                        sums.0.1 += 1;
                        in_recommended += 1;
                    }
                }
                origins.push(Origin {
                    at,
                    train_posts: train.len(),
                    held_out_posts: test.len(),
                    in_recommended,
                    recommended,
                });
                at = end;
            }
        }
        let weeks: Vec<WeekSums> = weeks.into_values().collect();
        let held_out_posts: usize = origins.iter().map(|o| o.held_out_posts).sum();
        let in_recommended: usize = origins.iter().map(|o| o.in_recommended).sum();
        let lift = difference(weeks.iter());
        let checked_weeks = weeks.iter().filter(|w| w.0.1 > 0).count();
        let interval = if in_recommended >= self.min_checked_posts && checked_weeks >= 2 {
            let seed = stats::mix_seed(self.seed, account.id(), "backtest");
            self.bootstrap(&weeks, checked_weeks, seed)
        } else {
            None
        };
        Backtest {
            origins,
            held_out_posts,
            in_recommended,
            coverage: if held_out_posts == 0 {
                0.0
            } else {
                stats::count(in_recommended) / stats::count(held_out_posts)
            },
            lift: lift.map(f64::exp_m1),
            interval: interval.map(|(low, high)| (low.exp_m1(), high.exp_m1())),
            confidence: self.confidence,
            matured_posts: prepared.usable,
            skipped_posts: prepared.skipped,
        }
    }

    /// The interval of the log lift by resampling weeks, as Hesterberg's expanded percentile
    /// interval: the percentile interval is too narrow with few blocks, so its tail
    /// probability is taken from a Student t with n − 1 degrees of freedom, widened by
    /// √(n / (n − 1)) (T. Hesterberg, "What teachers should know about the bootstrap", 2015).
    /// n is the number of weeks with a post in a recommended window: the weeks that carry the
    /// comparison.
    fn bootstrap(&self, weeks: &[WeekSums], checked_weeks: usize, seed: u64) -> Option<(f64, f64)> {
        let mut rng = fastrand::Rng::with_seed(seed);
        let n = weeks.len();
        let mut draws = Vec::with_capacity(self.resamples);
        let mut sample = Vec::with_capacity(n);
        for _ in 0..self.resamples {
            sample.clear();
            sample.extend((0..n).map(|_| &weeks[rng.usize(0..n)]));
            if let Some(d) = difference(sample.iter().copied()) {
                draws.push(d);
            }
        }
        if draws.len() * 2 < self.resamples {
            return None;
        }
        draws.sort_by(f64::total_cmp);
        let nf = stats::count(checked_weeks);
        let t = stats::t_quantile(0.5 + self.confidence / 2.0, checked_weeks - 1);
        let tail = stats::normal_cdf(-(nf / (nf - 1.0)).sqrt() * t);
        Some((
            stats::quantile_sorted(&draws, tail),
            stats::quantile_sorted(&draws, 1.0 - tail),
        ))
    }
}

/// Mean log outcome of recommended posts minus that of all posts, or `None` without any
/// recommended post.
fn difference<'a>(weeks: impl Iterator<Item = &'a WeekSums>) -> Option<f64> {
    let (mut rec, mut all) = ((0.0, 0usize), (0.0, 0usize));
    for ((rs, rn), (s, n)) in weeks {
        rec.0 += rs;
        rec.1 += rn;
        all.0 += s;
        all.1 += n;
    }
    (rec.1 > 0).then(|| rec.0 / stats::count(rec.1) - all.0 / stats::count(all.1))
}
