//! Wall-clock time, injectable so that expiry logic can be tested on a paused tokio clock.

use std::fmt::Debug;

use time::OffsetDateTime;

/// A source of the current wall-clock time.
///
/// Token expiry, staleness deadlines and schedules compare against wall-clock instants. Tests use
/// [`TokioClock`], which follows tokio's (pausable) clock, so no test has to sleep.
pub trait Clock: Send + Sync + Debug {
    /// The current time, in UTC.
    fn now(&self) -> OffsetDateTime;
}

/// The system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that starts at a given wall-clock instant and advances with tokio's clock.
///
/// Under `#[tokio::test(start_paused = true)]` it moves only when tokio's time does
/// (`tokio::time::advance`, or auto-advance while every task sleeps).
///
/// ```
/// # mod cmis { pub use cmis_core::*; }
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// use cmis::{Clock, TokioClock};
/// let clock = TokioClock::starting_at(time::macros::datetime!(2026-01-01 00:00 UTC));
/// tokio::time::sleep(std::time::Duration::from_secs(90)).await;
/// assert_eq!(clock.now(), time::macros::datetime!(2026-01-01 00:01:30 UTC));
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    wall: OffsetDateTime,
    origin: tokio::time::Instant,
}

impl TokioClock {
    /// A clock reading `wall` now, advancing with tokio's clock from here on.
    pub fn starting_at(wall: OffsetDateTime) -> Self {
        Self {
            wall,
            origin: tokio::time::Instant::now(),
        }
    }

    /// A clock reading the system time now, advancing with tokio's clock from here on.
    pub fn new() -> Self {
        Self::starting_at(OffsetDateTime::now_utc())
    }
}

impl Default for TokioClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for TokioClock {
    fn now(&self) -> OffsetDateTime {
        self.wall + self.origin.elapsed()
    }
}

/// `at` plus `d`, saturating at the largest instant the `time` crate holds instead of
/// panicking: a platform's absurd `expires_in` or `Retry-After` must never crash the caller.
///
/// ```
/// # mod cmis { pub use cmis_core::*; }
/// use std::time::Duration;
/// use cmis::after;
/// use time::macros::datetime;
///
/// let t = datetime!(2026-06-01 12:00 UTC);
/// assert_eq!(after(t, Duration::from_secs(60)), datetime!(2026-06-01 12:01 UTC));
/// assert!(after(t, Duration::MAX) > datetime!(9999-01-01 0:00 UTC));
/// ```
pub fn after(at: OffsetDateTime, d: std::time::Duration) -> OffsetDateTime {
    time::Duration::try_from(d)
        .ok()
        .and_then(|d| at.checked_add(d))
        .unwrap_or_else(|| time::PrimitiveDateTime::MAX.assume_offset(at.offset()))
}
