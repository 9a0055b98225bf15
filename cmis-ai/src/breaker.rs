//! A per-provider circuit breaker on tokio's clock (so cooldowns are testable on a paused clock).

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug, Default)]
struct State {
    consecutive_failures: u32,
    open_until: Option<Instant>,
}

/// Opens after `threshold` consecutive outage-like failures for `cooldown`; can also be opened
/// for a given time (quota, auth, Retry-After). After the cooldown one trial call goes through;
/// its failure re-opens the breaker at once ("half-open"), its success closes it.
#[derive(Debug)]
pub(crate) struct Breaker {
    threshold: u32,
    cooldown: Duration,
    state: Mutex<State>,
}

impl Breaker {
    pub(crate) fn new(threshold: u32, cooldown: Duration) -> Self {
        Self {
            threshold: threshold.max(1),
            cooldown,
            state: Mutex::new(State::default()),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        // A panic while holding this lock cannot leave the counters inconsistent.
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut state)
    }

    /// Whether calls are refused at `now`.
    pub(crate) fn is_open(&self, now: Instant) -> bool {
        self.with(|s| s.open_until.is_some_and(|until| now < until))
    }

    pub(crate) fn record_success(&self) {
        self.with(|s| *s = State::default());
    }

    pub(crate) fn record_failure(&self, now: Instant) {
        let (threshold, cooldown) = (self.threshold, self.cooldown);
        self.with(|s| {
            s.consecutive_failures = s.consecutive_failures.saturating_add(1);
            if s.consecutive_failures >= threshold {
                s.open_until = Some(later(s.open_until, now + cooldown));
            }
        });
    }

    /// Opens the breaker for at least `duration` from `now`.
    pub(crate) fn open_for(&self, now: Instant, duration: Duration) {
        self.with(|s| s.open_until = Some(later(s.open_until, now + duration)));
    }
}

fn later(current: Option<Instant>, candidate: Instant) -> Instant {
    current.map_or(candidate, |c| c.max(candidate))
}
