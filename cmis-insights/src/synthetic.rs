//! Synthetic accounts with a known answer: a planted best slot, or no time effect at all.
//!
//! They are how the recommender is tested (a planted slot must be found, an account without a
//! time effect must get "no reliable time effect") and what the sandbox serves as post
//! insights. Everything is drawn from a generator seeded by `(seed, index)`, so an account is
//! the same on every machine and every run.
//!
//! # The model
//!
//! For each account:
//!
//! - **Time zone**: one of [`ZONES`], evenly (most of them change clocks twice a year).
//! - **History**: `posts` posts over `posts ÷ posts_per_week` weeks from a start date in
//!   2025. Each post's local day is even over the span, with weekends at 0.8 the weight of a
//!   weekday; its local hour follows [`HOUR_WEIGHTS`] (daytime-heavy: 09:00 to 20:59 weigh 1,
//!   the small hours 0.15); its minute is even.
//! - **Level**: the engagement rate starts at 4 % × e^(0.3·Z) and wanders as a random walk of
//!   `drift` per √week (growth and decline, which the rolling baseline must absorb). Reach is
//!   5 000 × e^(0.8·Z) per account, times e^(0.25·Z) per post.
//! - **Time effect**: [`TimeEffect::Planted`] multiplies the rate by `1 + curve(slot)`: `lift`
//!   at the best slot (placed as [`BestSlot`] says), falling off as a Gaussian of the distance
//!   in hours of the day (`spread_hours`), on the log scale, and scaled by `other_days` on the
//!   other days of the week. [`TimeEffect::None`] leaves the curve at zero.
//! - **Noise**: the rate of each post is multiplied by e^(`noise`·Z): what content, luck and
//!   the feed do, independent of time.
//! - **Engagement** = round(reach × rate); every post is marked matured.
//!
//! Z is a fresh standard normal draw each time.
//!
//! ```
//! use cmis_insights::synthetic::{PlantedEffect, SyntheticConfig, TimeEffect};
//!
//! let config = SyntheticConfig::new()
//!     .posts(60)
//!     .effect(TimeEffect::Planted(PlantedEffect::new().lift(0.5)));
//! let account = config.account(42, 0);
//! assert_eq!(account.posts.len(), 60);
//! let best = account.planted.unwrap();
//! assert!((account.curve[best.index()] - 0.5).abs() < 1e-9);
//! // Same seed and index, same account.
//! assert_eq!(config.account(42, 0), account);
//! ```

use time::{Date, Duration, Month, OffsetDateTime, PrimitiveDateTime, Time};

use crate::post::{Account, PostOutcome};
use crate::slot::{HOURS_PER_WEEK, Slot};
use crate::stats;
use crate::zone::Zone;

/// The time zones synthetic accounts live in.
pub const ZONES: [&str; 8] = [
    "Europe/Paris",
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Tokyo",
    "Australia/Sydney",
    "UTC",
];

/// The relative weight of each local hour (0 to 23) when a synthetic post's time is drawn.
pub const HOUR_WEIGHTS: [f64; 24] = [
    0.15, 0.15, 0.15, 0.15, 0.15, 0.15, // 00–05: a few night owls
    0.4, 0.7, 0.9, // 06–08: mornings
    1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, // 09–20: the day
    0.8, 0.6, 0.3, // 21–23: evenings
];

/// A planted time effect: one best slot, and a curve around it.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct PlantedEffect {
    /// The lift at the best slot: 0.5 is +50 %. Default 0.5. Values at or below −1 are taken
    /// as −0.99.
    pub lift: f64,
    /// How far the effect reaches into neighbouring hours: the standard deviation, in hours, of
    /// the Gaussian it falls off as. Default 2.0 (half the lift 2.4 hours away). Taken as at
    /// least 0.1.
    pub spread_hours: f64,
    /// The share of the effect the same hours get on the other days of the week (0..=1).
    /// Default 0.5: evenings are good, Tuesday evenings best.
    pub other_days: f64,
    /// Where the best slot is. Default [`BestSlot::Daytime`].
    pub best: BestSlot,
}

impl PlantedEffect {
    /// The defaults: +50 % at a random daytime slot, spread 2 hours, half as strong on other
    /// days.
    pub fn new() -> Self {
        Self::default()
    }

    /// With this lift at the best slot.
    pub fn lift(mut self, lift: f64) -> Self {
        self.lift = lift;
        self
    }

    /// With this spread in hours.
    pub fn spread_hours(mut self, hours: f64) -> Self {
        self.spread_hours = hours;
        self
    }

    /// With this share of the effect on the other days.
    pub fn other_days(mut self, share: f64) -> Self {
        self.other_days = share;
        self
    }

    /// With the best slot placed so.
    pub fn best(mut self, best: BestSlot) -> Self {
        self.best = best;
        self
    }
}

impl Default for PlantedEffect {
    fn default() -> Self {
        Self {
            lift: 0.5,
            spread_hours: 2.0,
            other_days: 0.5,
            best: BestSlot::Daytime,
        }
    }
}

/// Where a planted best slot is put.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BestSlot {
    /// This slot, for every account.
    Fixed(Slot),
    /// Drawn evenly per account: any day, a local hour from 09:00 to 21:59. Independent of
    /// when the account posts, so in a short history the account may have posted near it
    /// once or never (at 60 posts, about one account in four posts at most once within two
    /// hours of it), and no method can then find it from the history.
    Daytime,
    /// The slot of one of the account's own posts between 09:00 and 21:59, drawn evenly: the
    /// account posted in its best slot at least once. This is what a history can show at all;
    /// a best slot an account never uses is found by exploring, not by estimating.
    Posted,
}

/// Whether posting time matters in a synthetic account.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum TimeEffect {
    /// It does not: every slot is the same.
    None,
    /// It does, as planted.
    Planted(PlantedEffect),
}

/// How synthetic accounts are drawn; see the [module docs](self) for the model.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SyntheticConfig {
    /// Posts per account. Default 60.
    pub posts: usize,
    /// Posts per week, which sets the length of the history. Default 3.5 (60 posts span about
    /// 17 weeks). Taken as at least 0.1.
    pub posts_per_week: f64,
    /// The standard deviation of a post's log engagement rate around its expected value.
    /// Default 0.35 (two posts in three land between 0.7× and 1.4× their expected rate, a
    /// steady account's spread). Taken as at least 0.
    pub noise: f64,
    /// The random walk of the account's level, per √week. Default 0.05. Taken as at least 0.
    pub drift: f64,
    /// The time effect. Default [`TimeEffect::Planted`] with [`PlantedEffect::default`].
    pub effect: TimeEffect,
}

impl Default for SyntheticConfig {
    fn default() -> Self {
        Self {
            posts: 60,
            posts_per_week: 3.5,
            noise: 0.35,
            drift: 0.05,
            effect: TimeEffect::Planted(PlantedEffect::default()),
        }
    }
}

/// One synthetic account, with the truth it was drawn from.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SyntheticAccount {
    /// The account: id `synthetic-{seed}-{index}`, in one of [`ZONES`].
    pub account: Account,
    /// Its posts, in time order, all matured.
    pub posts: Vec<PostOutcome>,
    /// The planted best slot, or `None` without a time effect.
    pub planted: Option<Slot>,
    /// The planted lift of each slot (0.5 is +50 %), indexed by [`Slot::index`]; all zero
    /// without a time effect.
    pub curve: Vec<f64>,
}

impl SyntheticConfig {
    /// The defaults (see each field).
    pub fn new() -> Self {
        Self::default()
    }

    /// With `posts` posts per account.
    pub fn posts(mut self, posts: usize) -> Self {
        self.posts = posts;
        self
    }

    /// With this posting rate.
    pub fn posts_per_week(mut self, rate: f64) -> Self {
        self.posts_per_week = rate;
        self
    }

    /// With this noise.
    pub fn noise(mut self, noise: f64) -> Self {
        self.noise = noise;
        self
    }

    /// With this drift.
    pub fn drift(mut self, drift: f64) -> Self {
        self.drift = drift;
        self
    }

    /// With this time effect.
    pub fn effect(mut self, effect: TimeEffect) -> Self {
        self.effect = effect;
        self
    }

    /// Accounts `0..count` of `seed`.
    pub fn accounts(&self, seed: u64, count: usize) -> Vec<SyntheticAccount> {
        (0..count).map(|i| self.account(seed, i)).collect()
    }

    /// Account `index` of `seed`: the same for the same configuration, seed and index.
    pub fn account(&self, seed: u64, index: usize) -> SyntheticAccount {
        let id = format!("synthetic-{seed}-{index}");
        let mut rng = fastrand::Rng::with_seed(stats::mix_seed(seed, &id, "synthetic"));
        let zone = Zone::named(ZONES[rng.usize(0..ZONES.len())]).unwrap_or_else(|_| utc());

        let first_day = Date::from_calendar_date(2025, Month::January, 6)
            .unwrap_or(Date::MIN)
            .saturating_add(Duration::days(rng.i64(0..365)));
        let rate = self.posts_per_week.max(0.1);
        // Whole days: the float is small and positive.
        #[allow(clippy::cast_possible_truncation)]
        let span_days = ((stats::count(self.posts) / rate * 7.0).ceil() as i64).max(7);
        let mut times: Vec<OffsetDateTime> = (0..self.posts)
            .map(|_| local_instant(&zone, draw_local(&mut rng, first_day, span_days)))
            .collect();
        times.sort();
        let slots: Vec<Slot> = times
            .iter()
            .map(|t| zone.slot_of(*t).unwrap_or(Slot::wrapping(0)))
            .collect();
        let (planted, curve) = self.curve(&mut rng, &slots);

        let noise = self.noise.max(0.0);
        let drift = self.drift.max(0.0);
        let mut level = 0.04f64.ln() + 0.3 * stats::standard_normal(&mut rng);
        let size = 5000.0 * (0.8 * stats::standard_normal(&mut rng)).exp();
        let mut previous: Option<OffsetDateTime> = None;
        let posts = times
            .into_iter()
            .zip(&slots)
            .map(|(at, slot)| {
                if let Some(prev) = previous {
                    let weeks = (at - prev).as_seconds_f64() / (7.0 * 86_400.0);
                    level += drift * weeks.max(0.0).sqrt() * stats::standard_normal(&mut rng);
                }
                previous = Some(at);
                let slot = slot.index();
                let reach = (size * (0.25 * stats::standard_normal(&mut rng)).exp())
                    .round()
                    .max(1.0);
                let rate =
                    (level + curve[slot].ln_1p() + noise * stats::standard_normal(&mut rng)).exp();
                PostOutcome::new(at, (reach * rate).round())
                    .with_reach(reach)
                    .with_matured(true)
            })
            .collect();
        SyntheticAccount {
            account: Account::with_zone(id, zone),
            posts,
            planted,
            curve,
        }
    }

    /// The planted best slot and each slot's lift, given the slots the account posted in.
    fn curve(&self, rng: &mut fastrand::Rng, posted: &[Slot]) -> (Option<Slot>, Vec<f64>) {
        let TimeEffect::Planted(effect) = self.effect else {
            return (None, vec![0.0; HOURS_PER_WEEK]);
        };
        let daytime =
            |rng: &mut fastrand::Rng| Slot::wrapping(rng.usize(0..7) * 24 + rng.usize(9..22));
        let best = match effect.best {
            BestSlot::Fixed(slot) => slot,
            BestSlot::Daytime => daytime(rng),
            BestSlot::Posted => {
                let day: Vec<Slot> = posted
                    .iter()
                    .copied()
                    .filter(|s| (9..22).contains(&s.hour()))
                    .collect();
                if day.is_empty() {
                    daytime(rng)
                } else {
                    day[rng.usize(0..day.len())]
                }
            }
        };
        let peak = effect.lift.max(-0.99).ln_1p();
        let spread = effect.spread_hours.max(0.1);
        let other_days = effect.other_days.clamp(0.0, 1.0);
        let curve = Slot::all()
            .map(|slot| {
                let d = f64::from(slot.hour().abs_diff(best.hour()));
                let d = d.min(24.0 - d);
                let day = if slot.weekday() == best.weekday() {
                    1.0
                } else {
                    other_days
                };
                (peak * day * (-d * d / (2.0 * spread * spread)).exp()).exp_m1()
            })
            .collect();
        (Some(best), curve)
    }
}

fn utc() -> Zone {
    // "UTC" is in every IANA database.
    Zone::named("UTC").unwrap_or_else(|_| unreachable!("UTC is always in the database"))
}

/// A local date and time within the span: days even (weekends at 0.8), hours by
/// [`HOUR_WEIGHTS`], minutes even.
fn draw_local(rng: &mut fastrand::Rng, first_day: Date, span_days: i64) -> PrimitiveDateTime {
    let date = loop {
        let date = first_day.saturating_add(Duration::days(rng.i64(0..span_days)));
        let weekend = date.weekday().number_days_from_monday() >= 5;
        if !weekend || rng.f64() < 0.8 {
            break date;
        }
    };
    let total: f64 = HOUR_WEIGHTS.iter().sum();
    let mut pick = rng.f64() * total;
    let mut hour = 23u8;
    for (h, w) in (0u8..).zip(HOUR_WEIGHTS) {
        if pick < w {
            hour = h;
            break;
        }
        pick -= w;
    }
    let time = Time::from_hms(hour, rng.u8(0..60), rng.u8(0..60)).unwrap_or(Time::MIDNIGHT);
    PrimitiveDateTime::new(date, time)
}

/// The instant the zone's clocks show `local` (for a skipped local time, an instant near it).
fn local_instant(zone: &Zone, local: PrimitiveDateTime) -> OffsetDateTime {
    let guess = local.assume_utc();
    let first = zone.offset_at(guess).unwrap_or(time::UtcOffset::UTC);
    let instant = local.assume_offset(first);
    let second = zone.offset_at(instant).unwrap_or(first);
    local.assume_offset(second)
}
