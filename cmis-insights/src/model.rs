//! Per-window estimates with partial pooling (insights.md §5.3, step 4).
//!
//! A window's posts are few, so its own average is mostly luck. Each window (one starting at
//! every hour of the week) is estimated in three layers, each shrunk toward the one above it
//! by how much the data say that layer varies:
//!
//! 1. its hours of the day on every day together, toward the prior;
//! 2. its day of the week, toward the prior;
//! 3. the window itself, toward 1 + 2.
//!
//! How much each layer varies is estimated by the method of moments of one-way
//! random-effects ANOVA, on windows aligned to midnight (insights.md §5.3: k = within-slot
//! variance ÷ between-slot variance). A window nobody posted in gets the prior plus its time
//! of day and its day; a window with many posts gets mostly its own average. All of it is on
//! the log scale, relative to the account's average post, so `+0.1` is about +10 % over the
//! usual. Windows are ranked best first, each sharing no hour with a better one.

use std::fmt;

use crate::config::Recommender;
use crate::normalize::Observation;
use crate::slot::{HOURS_PER_WEEK, Slot, Window};
use crate::stats;

/// Below this many posts a window is marked thin (insights.md §5.3, step 5).
pub const THIN_POSTS: usize = 3;

/// What the model says about one window of the week.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct SlotEstimate {
    /// The window.
    pub window: Window,
    /// The estimated log ratio of a post in this window to the account's usual post.
    pub log_lift: f64,
    /// The interval of `log_lift` at the recommender's slot confidence (80 % by default).
    pub log_interval: (f64, f64),
    /// How many of the account's posts went out in this window.
    pub posts: usize,
}

impl SlotEstimate {
    /// The estimated lift over the account's usual post: 0.12 is +12 %.
    pub fn lift(&self) -> f64 {
        self.log_lift.exp_m1()
    }

    /// The interval of [`lift`](SlotEstimate::lift).
    pub fn interval(&self) -> (f64, f64) {
        (self.log_interval.0.exp_m1(), self.log_interval.1.exp_m1())
    }

    /// Whether fewer than [`THIN_POSTS`] posts went out in the window, so that its estimate is
    /// mostly the pooled one.
    pub fn is_thin(&self) -> bool {
        self.posts < THIN_POSTS
    }

    /// One line for a person, in the form
    /// `Tuesday 16:00: +12 % [+4 %, +20 %] over your usual, from 31 posts`: the window's start,
    /// the lift, its interval and the posts in the window.
    pub fn explanation(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for SlotEstimate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (low, high) = self.interval();
        let noun = if self.posts == 1 { "post" } else { "posts" };
        write!(
            f,
            "{}: {} [{}, {}] over your usual, from {} {noun}",
            self.window.start(),
            Percent(self.lift()),
            Percent(low),
            Percent(high),
            self.posts
        )
    }
}

/// A relative change as a signed whole percentage: `+12 %`, `-3 %`, `+0 %`.
struct Percent(f64);

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pct = (self.0 * 100.0).round();
        if !pct.is_finite() {
            return f.write_str("? %");
        }
        // `+ 0.0` turns a negative zero into a positive one.
        let pct = pct + 0.0;
        if pct < 0.0 {
            write!(f, "-{} %", -pct)
        } else {
            write!(f, "+{pct} %")
        }
    }
}

/// Sums of one group's residuals.
#[derive(Debug, Clone, Copy, Default)]
struct Group {
    n: usize,
    sum: f64,
}

impl Group {
    fn plus(self, other: Self) -> Self {
        Self {
            n: self.n + other.n,
            sum: self.sum + other.sum,
        }
    }

    fn mean(self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            self.sum / stats::count(self.n)
        }
    }
}

/// A group effect's posterior: mean and variance.
#[derive(Debug, Clone, Copy)]
struct Effect {
    mean: f64,
    var: f64,
}

/// Groups the residuals `r[i]` by `key(i)` (0..groups).
fn group(r: &[f64], key: impl Fn(usize) -> usize, groups: usize) -> Vec<Group> {
    let mut out = vec![Group::default(); groups];
    for (i, &v) in r.iter().enumerate() {
        let g = &mut out[key(i)];
        g.n += 1;
        g.sum += v;
    }
    out
}

/// The between-group variance by the method of moments for an unbalanced one-way layout:
/// E[SSB] = (G − 1)·σ² + τ²·(N − Σnᵢ²/N).
fn between_variance(groups: &[Group], sigma2: f64, floor: f64) -> f64 {
    let n: usize = groups.iter().map(|g| g.n).sum();
    let nonempty = groups.iter().filter(|g| g.n > 0).count();
    if n == 0 || nonempty < 2 {
        return floor;
    }
    let total = stats::count(n);
    let grand = groups.iter().map(|g| g.sum).sum::<f64>() / total;
    let ssb: f64 = groups
        .iter()
        .filter(|g| g.n > 0)
        .map(|g| stats::count(g.n) * (g.mean() - grand).powi(2))
        .sum();
    let sum_sq: f64 = groups.iter().map(|g| stats::count(g.n).powi(2)).sum();
    let denom = total - sum_sq / total;
    if denom <= 0.0 {
        return floor;
    }
    ((ssb - stats::count(nonempty - 1) * sigma2) / denom).max(floor)
}

/// Each group's effect, shrunk toward zero: precision-weighted (normal prior N(0, τ²)).
fn shrink(groups: &[Group], sigma2: f64, tau2: f64) -> Vec<Effect> {
    groups
        .iter()
        .map(|g| {
            let precision = stats::count(g.n) / sigma2 + 1.0 / tau2;
            Effect {
                mean: g.sum / sigma2 / precision,
                var: 1.0 / precision,
            }
        })
        .collect()
}

/// The within-window variance of `y` (pooled over windows with two or more posts), or the
/// plain variance when that leaves too few degrees of freedom; 0.25 (a spread of ±0.5) with
/// fewer than three posts.
fn noise_variance(ys: &[f64], cells: &[usize], windows: usize) -> f64 {
    const FALLBACK: f64 = 0.25;
    const MIN: f64 = 1e-4;
    let mut sums = vec![(0usize, 0.0f64); windows];
    for (&y, &c) in ys.iter().zip(cells) {
        sums[c].0 += 1;
        sums[c].1 += y;
    }
    let mut ss = 0.0;
    for (&y, &c) in ys.iter().zip(cells) {
        let (n, s) = sums[c];
        ss += (y - s / stats::count(n)).powi(2);
    }
    let nonempty = sums.iter().filter(|(n, _)| *n > 0).count();
    let df = ys.len().saturating_sub(nonempty);
    if df >= 5 {
        return (ss / stats::count(df)).max(MIN);
    }
    if ys.len() >= 3 {
        let mean = stats::mean(ys).unwrap_or(0.0);
        let var = ys.iter().map(|y| (y - mean).powi(2)).sum::<f64>() / stats::count(ys.len() - 1);
        return var.max(MIN);
    }
    FALLBACK
}

/// The estimate of every window of the recommender's width, one starting at each hour of the
/// week (indexed by [`Slot::index`] of the start).
pub(crate) fn fit(rec: &Recommender, observations: &[Observation]) -> Vec<SlotEstimate> {
    let hours = rec.window_hours;
    let width = usize::from(hours);
    let per_day = Window::per_day(hours);
    let aligned = Window::per_week(hours);
    let cells: Vec<usize> = observations
        .iter()
        .map(|o| o.slot.index() / width)
        .collect();
    let ys: Vec<f64> = observations.iter().map(|o| o.y).collect();
    let n = ys.len();

    let sigma2 = noise_variance(&ys, &cells, aligned);
    let floor = rec.min_spread * rec.min_spread;
    // The account's average post, net of the prior: the zero every lift is measured from.
    let prior_at = |o: &Observation| rec.prior.window_log_lift(Window::single(o.slot));
    let grand = if n == 0 {
        0.0
    } else {
        observations.iter().map(|o| o.y - prior_at(o)).sum::<f64>() / stats::count(n)
    };
    let grand_var = if n == 0 {
        0.0
    } else {
        sigma2 / stats::count(n)
    };
    let r: Vec<f64> = observations
        .iter()
        .map(|o| o.y - grand - prior_at(o))
        .collect();

    // How much each layer varies, from the windows aligned to midnight (a one-way layout
    // each): the time of day, the day on what the time of day leaves, the window on what both
    // leave.
    let tod_groups = group(&r, |i| cells[i] % per_day, per_day);
    let tau2_tod = between_variance(&tod_groups, sigma2, floor);
    let tod = shrink(&tod_groups, sigma2, tau2_tod);
    let after_tod: Vec<f64> = r
        .iter()
        .zip(&cells)
        .map(|(v, &c)| v - tod[c % per_day].mean)
        .collect();
    let day_groups = group(&after_tod, |i| cells[i] / per_day, 7);
    let day = shrink(
        &day_groups,
        sigma2,
        between_variance(&day_groups, sigma2, floor),
    );
    let after_day: Vec<f64> = after_tod
        .iter()
        .zip(&cells)
        .map(|(v, &c)| v - day[c / per_day].mean)
        .collect();
    let tau2_cell = between_variance(&group(&after_day, |i| cells[i], aligned), sigma2, floor);

    // Residuals summed per slot and per hour of the day, so that each window costs its width.
    let mut by_slot = vec![Group::default(); HOURS_PER_WEEK];
    let mut by_hour = vec![Group::default(); 24];
    for (o, &v) in observations.iter().zip(&r) {
        for g in [
            &mut by_slot[o.slot.index()],
            &mut by_hour[usize::from(o.slot.hour())],
        ] {
            g.n += 1;
            g.sum += v;
        }
    }
    let z = stats::normal_quantile(0.5 + rec.slot_confidence / 2.0);
    Slot::all()
        .filter_map(|start| Window::starting(start, hours))
        .map(|window| {
            let own = window
                .slots()
                .fold(Group::default(), |acc, s| acc.plus(by_slot[s.index()]));
            let first_hour = usize::from(window.start().hour());
            let tod_hours = (0..width).map(|k| by_hour[(first_hour + k) % 24]);
            let at_this_time = tod_hours.fold(Group::default(), Group::plus);
            let t = shrink(&[at_this_time], sigma2, tau2_tod)[0];
            let (day_mean, day_var) = window.slots().fold((0.0, 0.0), |(m, v), s| {
                let d = day[usize::from(s.weekday().number_days_from_monday())];
                (
                    m + d.mean / stats::count(width),
                    v + d.var / stats::count(width),
                )
            });
            let prior_mean = t.mean + day_mean;
            let prior_var = tau2_cell + t.var + day_var;
            let precision = stats::count(own.n) / sigma2 + 1.0 / prior_var;
            let mean = (own.sum / sigma2 + prior_mean / prior_var) / precision;
            let sd = (1.0 / precision + grand_var).sqrt();
            let log_lift = rec.prior.window_log_lift(window) + mean;
            SlotEstimate {
                window,
                log_lift,
                log_interval: (log_lift - z * sd, log_lift + z * sd),
                posts: own.n,
            }
        })
        .collect()
}

/// `estimates` best first, skipping any window that shares an hour with a better one (ties
/// go to the earlier start, so the order is reproducible).
pub(crate) fn ranked(mut estimates: Vec<SlotEstimate>) -> Vec<SlotEstimate> {
    estimates.sort_by(|a, b| {
        b.log_lift
            .total_cmp(&a.log_lift)
            .then(a.window.start().cmp(&b.window.start()))
    });
    let mut kept: Vec<SlotEstimate> = Vec::new();
    for e in estimates {
        if !kept.iter().any(|k| k.window.overlaps(e.window)) {
            kept.push(e);
        }
    }
    kept
}

/// The windows a recommendation names: the best `top_k` that beat the account's usual.
pub(crate) fn select(rec: &Recommender, estimates: Vec<SlotEstimate>) -> Vec<SlotEstimate> {
    ranked(estimates)
        .into_iter()
        .filter(|e| e.log_lift > 0.0)
        .take(rec.top_k)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Weekday;
    use time::macros::datetime;

    fn obs(slot: Slot, y: f64) -> Observation {
        Observation {
            at: datetime!(2026-01-05 00:00 UTC),
            slot,
            y,
        }
    }

    #[test]
    fn no_posts_gives_the_prior_everywhere() {
        let rec = Recommender::new();
        let fit = fit(&rec, &[]);
        assert_eq!(fit.len(), 168);
        assert!(fit.iter().all(|e| e.log_lift == 0.0 && e.posts == 0));
        assert!(
            fit.iter()
                .all(|e| e.log_interval.0 < 0.0 && e.log_interval.1 > 0.0)
        );
    }

    #[test]
    fn a_strong_window_is_found_and_a_lucky_single_post_is_shrunk() {
        let rec = Recommender::new();
        let good = Slot::at(Weekday::Tuesday, 17).unwrap();
        let mut data = Vec::new();
        for (i, slot) in Slot::all()
            .filter(|s| (8..22).contains(&s.hour()))
            .enumerate()
        {
            let wobble = if i % 2 == 0 { 0.5 } else { -0.5 };
            data.push(obs(slot, wobble));
        }
        for i in 0..8 {
            data.push(obs(good, 0.9 + if i % 2 == 0 { 0.1 } else { -0.1 }));
        }
        // One post on a Sunday night, well above the rest: mostly luck until shown otherwise.
        data.push(obs(Slot::at(Weekday::Sunday, 2).unwrap(), 1.2));
        let ranked = ranked(fit(&rec, &data));
        assert!(ranked[0].window.contains(good), "{:?}", ranked[0]);
        let lucky = ranked
            .iter()
            .find(|e| e.window.contains(Slot::at(Weekday::Sunday, 2).unwrap()))
            .unwrap();
        assert!(lucky.log_lift < 0.6, "{lucky:?}");
        assert!(lucky.is_thin() && !ranked[0].is_thin());
        assert!(ranked[0].log_interval.0 > 0.0);
    }

    #[test]
    fn percentages_are_signed_and_rounded() {
        assert_eq!(Percent(0.123).to_string(), "+12 %");
        assert_eq!(Percent(-0.034).to_string(), "-3 %");
        assert_eq!(Percent(-0.001).to_string(), "+0 %");
        assert_eq!(Percent(0.0).to_string(), "+0 %");
        assert_eq!(Percent(f64::NAN).to_string(), "? %");
    }
}
