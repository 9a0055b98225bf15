//! The answer: windows to post in, "no reliable time effect", or "not enough data", and the
//! suggestions that keep some posts exploring.

use std::fmt;

use crate::backtest::Backtest;
use crate::config::Recommender;
use crate::model::{self, SlotEstimate};
use crate::normalize;
use crate::post::{Account, PostOutcome};
use crate::slot::{Slot, Window};
use crate::stats;

/// How far an account is from a recommendation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DataNeeded {
    /// Matured posts with usable numbers so far.
    pub matured_posts: usize,
    /// Matured posts needed in all.
    pub needed_posts: usize,
    /// Whole weeks between the first and last of them.
    pub weeks_covered: u32,
    /// Weeks needed in all.
    pub needed_weeks: u32,
}

impl DataNeeded {
    /// How many more matured posts are needed (0 when only weeks are missing).
    pub fn more_posts(&self) -> usize {
        self.needed_posts.saturating_sub(self.matured_posts)
    }

    /// How many more weeks of history are needed (0 when only posts are missing).
    pub fn more_weeks(&self) -> u32 {
        self.needed_weeks.saturating_sub(self.weeks_covered)
    }
}

impl fmt::Display for DataNeeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "not enough data: {} matured posts over {} weeks; needs {} more posts and {} more weeks",
            self.matured_posts,
            self.weeks_covered,
            self.more_posts(),
            self.more_weeks()
        )
    }
}

/// Windows worth posting in, with the backtest that supports them. The backtest judged the
/// procedure that chose them, at earlier origins on less history; the windows themselves are
/// fitted on every matured post.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Advice {
    /// The recommended windows, best first (at most `top_k`), each better than the account's
    /// usual.
    pub slots: Vec<SlotEstimate>,
    /// The backtest that found their lift reliable.
    pub backtest: Backtest,
}

impl Advice {
    /// One line per window, as [`SlotEstimate::explanation`].
    pub fn explanations(&self) -> Vec<String> {
        self.slots.iter().map(SlotEstimate::explanation).collect()
    }
}

/// What the recommender answers for an account.
///
/// ```
/// use cmis_insights::{Recommendation, Recommender};
/// use cmis_insights::synthetic::{SyntheticConfig, TimeEffect};
///
/// let recommender = Recommender::new();
/// let young = SyntheticConfig::new().posts(12).account(7, 0);
/// match recommender.recommend(&young.account, &young.posts) {
///     Recommendation::NotEnoughData(needed) => assert_eq!(needed.more_posts(), 30 - 12),
///     other => panic!("{other}"),
/// }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Recommendation {
    /// Too few matured posts, or too short a history, to say anything of the account's own.
    NotEnoughData(DataNeeded),
    /// The backtest's interval includes zero (or it could not be computed): posting time made
    /// no difference that the account's history can show. Keep posting when suits you.
    NoReliableTimeEffect(Backtest),
    /// Windows that did better in the account's history, and in the backtest.
    Slots(Advice),
}

impl fmt::Display for Recommendation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotEnoughData(needed) => needed.fmt(f),
            Self::NoReliableTimeEffect(backtest) => {
                write!(f, "no reliable time effect ({backtest})")
            }
            Self::Slots(advice) => {
                for (i, line) in advice.explanations().iter().enumerate() {
                    if i > 0 {
                        f.write_str("\n")?;
                    }
                    f.write_str(line)?;
                }
                Ok(())
            }
        }
    }
}

/// One suggested window for an upcoming post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Suggestion {
    /// A recommended window.
    Recommended(Window),
    /// A window outside the recommendation, to keep learning about it.
    Explore(Window),
}

impl Suggestion {
    /// The suggested window, whichever kind.
    pub fn window(self) -> Window {
        match self {
            Self::Recommended(w) | Self::Explore(w) => w,
        }
    }
}

impl Recommender {
    /// The answer for an account: [`Recommendation::NotEnoughData`] below `min_posts` matured
    /// posts or `min_weeks` weeks; else the [backtest](Recommender::backtest), and
    /// [`Recommendation::NoReliableTimeEffect`] unless its interval lies above zero; else the
    /// best windows fitted on all matured posts.
    pub fn recommend(&self, account: &Account, posts: &[PostOutcome]) -> Recommendation {
        let prepared = normalize::prepare(self, account, posts);
        let needed = DataNeeded {
            matured_posts: prepared.usable,
            needed_posts: self.min_posts,
            weeks_covered: prepared.weeks_covered(),
            needed_weeks: self.min_weeks,
        };
        if needed.more_posts() > 0 || needed.more_weeks() > 0 {
            return Recommendation::NotEnoughData(needed);
        }
        let backtest = self.backtest(account, posts);
        if !backtest.is_reliable() {
            return Recommendation::NoReliableTimeEffect(backtest);
        }
        let slots = model::select(self, model::fit(self, &prepared.observations));
        if slots.is_empty() {
            return Recommendation::NoReliableTimeEffect(backtest);
        }
        Recommendation::Slots(Advice { slots, backtest })
    }

    /// The week's windows best first, each sharing no hour with a better one (42 or a few
    /// fewer with 4-hour windows), fitted on all matured posts: the ranking behind a
    /// recommendation, without the backtest's judgement. For inspection and tests; show a
    /// person [`recommend`](Recommender::recommend)'s answer instead.
    pub fn rank(&self, account: &Account, posts: &[PostOutcome]) -> Vec<SlotEstimate> {
        let prepared = normalize::prepare(self, account, posts);
        model::ranked(model::fit(self, &prepared.observations))
    }

    /// `count` windows for the account's next posts. Each explores with probability
    /// `explore_share` (10 % by default): a window drawn evenly from those aligned to local
    /// midnight that start within `explore_hours` (7:00 to 23:00 by default) and share no hour
    /// with a recommended one. The others go round the recommended windows, best first. Draws come from a generator seeded by the
    /// recommender's seed and the account's id, so the same inputs give the same suggestions.
    ///
    /// Without [`Recommendation::Slots`] there is nothing to exploit, and the list is empty.
    pub fn suggest(
        &self,
        account: &Account,
        recommendation: &Recommendation,
        count: usize,
    ) -> Vec<Suggestion> {
        let Recommendation::Slots(advice) = recommendation else {
            return Vec::new();
        };
        let chosen: Vec<Window> = advice.slots.iter().map(|s| s.window).collect();
        let (start, end) = self.explore_hours;
        let others: Vec<Window> = Slot::all()
            .filter(|s| s.index() % usize::from(self.window_hours) == 0)
            .filter_map(|s| Window::starting(s, self.window_hours))
            .filter(|w| (start..end).contains(&w.start().hour()))
            .filter(|w| !chosen.iter().any(|c| c.overlaps(*w)))
            .collect();
        if chosen.is_empty() {
            return Vec::new();
        }
        let mut rng = fastrand::Rng::with_seed(stats::mix_seed(self.seed, account.id(), "explore"));
        let mut next = 0;
        (0..count)
            .map(|_| {
                if !others.is_empty() && rng.f64() < self.explore_share {
                    Suggestion::Explore(others[rng.usize(0..others.len())])
                } else {
                    let w = chosen[next % chosen.len()];
                    next += 1;
                    Suggestion::Recommended(w)
                }
            })
            .collect()
    }
}
