//! # cmis-insights
//!
//! "When should this account post?", answered from the account's own history, offline and
//! deterministically, and only as far as that history supports an answer.
//!
//! - **Each post against the account's usual**: its engagement rate (or engagement) as a log
//!   ratio to the median of the account's previous 20 posts of the same format. Size, growth
//!   and formats drop out; what is left is what timing might explain.
//! - **Local time, daylight saving included**: a post's slot is the hour of the week its
//!   account's clocks showed ([`Zone`], the IANA database bundled: [`TZDATA_VERSION`]).
//!   Estimates are made per [`Window`] of 4 hours by default, one starting at every hour.
//! - **Partial pooling**: a window's estimate is shrunk toward its time of day, its day of the
//!   week and a [`SlotPrior`] as far as its posts are few, with an 80 % interval
//!   ([`SlotEstimate`]).
//! - **A backtest that gates every claim**: rolling origins in time order, fitted only on
//!   posts matured before each origin and judged on the posts after it, with a block bootstrap
//!   over weeks ([`Backtest`]). When its interval includes zero the answer is
//!   [`Recommendation::NoReliableTimeEffect`], not a time.
//! - **Honest about thin data**: below 30 matured posts or 8 weeks the answer is
//!   [`Recommendation::NotEnoughData`], saying how many more posts and weeks it needs.
//! - **Exploration**: [`Recommender::suggest`] sends 10 % of suggested times (a setting) to
//!   other windows, from a seeded generator, so that the recommendation keeps being tested.
//! - **Synthetic accounts** with a planted best slot or no time effect ([`synthetic`]), which
//!   the tests use as positive and negative controls.
//!
//! The lift it reports is an association in the account's history, not proof that the time
//! caused it (insights.md §5.4): only randomised posting times show that.
//!
//! ```
//! use cmis_insights::{Account, PostOutcome, Recommendation, Recommender};
//! use time::Duration;
//! use time::macros::datetime;
//!
//! // An account's matured posts: when they went out, reach, likes + comments + shares + saves.
//! let account = Account::new("acme/instagram", "Europe/Paris")?;
//! let posts: Vec<PostOutcome> = (0..40)
//!     .map(|i: i32| {
//!         let at = datetime!(2026-01-05 17:30 UTC) + Duration::hours(43 * i64::from(i));
//!         PostOutcome::new(at, 120.0 + f64::from(i * 37 % 11))
//!             .with_reach(3_000.0)
//!             .with_matured(true)
//!     })
//!     .collect();
//!
//! let recommender = Recommender::builder().seed(7).build()?;
//! match recommender.recommend(&account, &posts) {
//!     Recommendation::Slots(advice) => {
//!         for line in advice.explanations() {
//!             println!("{line}"); // Tuesday 16:00: +12 % [+4 %, +20 %] over your usual, from 9 posts
//!         }
//!     }
//!     Recommendation::NoReliableTimeEffect(backtest) => println!("no reliable time effect: {backtest}"),
//!     Recommendation::NotEnoughData(needed) => println!("{} more posts needed", needed.more_posts()),
//!     other => println!("{other}"),
//! }
//! # Ok::<(), cmis_insights::Error>(())
//! ```
//!
//! ## Features
//!
//! None: the crate is pure computation on `time`, `tz-rs` (with the bundled `tzdb_data`) and
//! `fastrand`.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod backtest;
mod config;
mod error;
mod model;
mod normalize;
mod post;
mod recommend;
mod slot;
mod stats;
pub mod synthetic;
mod zone;

pub use backtest::{Backtest, Origin};
pub use config::{Baseline, Metric, Recommender, RecommenderBuilder, SlotPrior};
pub use error::{Error, ErrorKind, Result};
pub use model::{SlotEstimate, THIN_POSTS};
pub use post::{Account, PostOutcome};
pub use recommend::{Advice, DataNeeded, Recommendation, Suggestion};
pub use slot::{HOURS_PER_WEEK, Slot, Window};
pub use zone::{TZDATA_VERSION, Zone};
