//! A fake platform's clock: tokio's (pausable in tests) plus an offset that tests move forward.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

/// Milliseconds of `d`, saturating.
pub(crate) fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

/// Unix time in milliseconds that follows tokio's clock from its creation, plus an offset.
#[derive(Debug)]
pub(crate) struct Clock {
    /// One of tokio's instants and the Unix time in milliseconds then.
    epoch: (Instant, i64),
    offset_ms: AtomicI64,
}

impl Clock {
    pub(crate) fn new() -> Self {
        let unix_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, millis);
        Self {
            epoch: (Instant::now(), unix_ms),
            offset_ms: AtomicI64::new(0),
        }
    }

    /// Now, in Unix milliseconds.
    pub(crate) fn now_ms(&self) -> i64 {
        let (epoch, epoch_ms) = self.epoch;
        epoch_ms
            .saturating_add(millis(Instant::now().saturating_duration_since(epoch)))
            .saturating_add(self.offset_ms.load(Ordering::Relaxed))
    }

    pub(crate) fn advance(&self, by: Duration) {
        self.offset_ms.fetch_add(millis(by), Ordering::Relaxed);
    }
}
