//! A fake platform's clock: tokio's (pausable in tests) plus an offset that tests move forward,
//! which the control API can also freeze.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

/// Milliseconds of `d`, saturating.
pub(crate) fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

/// Marks a clock that is running.
const RUNNING: i64 = i64::MIN;

/// Unix time in milliseconds that follows tokio's clock from its creation, plus an offset.
#[derive(Debug)]
pub(crate) struct Clock {
    /// One of tokio's instants and the Unix time in milliseconds then.
    epoch: (Instant, i64),
    offset_ms: AtomicI64,
    /// The running clock's reading (without the offset) when it was frozen, or [`RUNNING`].
    frozen_at: AtomicI64,
}

impl Clock {
    pub(crate) fn new() -> Self {
        let unix_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, millis);
        Self {
            epoch: (Instant::now(), unix_ms),
            offset_ms: AtomicI64::new(0),
            frozen_at: AtomicI64::new(RUNNING),
        }
    }

    /// tokio's clock as a Unix time, without the offset.
    fn running_ms(&self) -> i64 {
        let (epoch, epoch_ms) = self.epoch;
        epoch_ms.saturating_add(millis(Instant::now().saturating_duration_since(epoch)))
    }

    /// Now, in Unix milliseconds.
    pub(crate) fn now_ms(&self) -> i64 {
        let frozen = self.frozen_at.load(Ordering::Relaxed);
        let base = if frozen == RUNNING {
            self.running_ms()
        } else {
            frozen
        };
        base.saturating_add(self.offset_ms.load(Ordering::Relaxed))
    }

    pub(crate) fn advance(&self, by: Duration) {
        self.offset_ms.fetch_add(millis(by), Ordering::Relaxed);
    }

    /// Stops the clock where it is; [`Clock::advance`] still moves it.
    pub(crate) fn freeze(&self) {
        let _ = self.frozen_at.compare_exchange(
            RUNNING,
            self.running_ms(),
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
    }

    /// Starts a frozen clock again from the time it shows: it does not jump.
    pub(crate) fn unfreeze(&self) {
        let frozen = self.frozen_at.swap(RUNNING, Ordering::Relaxed);
        if frozen != RUNNING {
            let stopped = self.running_ms().saturating_sub(frozen);
            self.offset_ms.fetch_sub(stopped, Ordering::Relaxed);
        }
    }

    /// Whether the clock is frozen.
    pub(crate) fn is_frozen(&self) -> bool {
        self.frozen_at.load(Ordering::Relaxed) != RUNNING
    }

    /// Back to following tokio's clock, without offset.
    pub(crate) fn reset(&self) {
        self.frozen_at.store(RUNNING, Ordering::Relaxed);
        self.offset_ms.store(0, Ordering::Relaxed);
    }
}
