//! A worker's clock, off by a fixed offset: what a host whose clock drifted gives its
//! scheduler and store.

use std::time::Duration;

use cmis_core::Clock;
use cmis_core::time::OffsetDateTime;

/// The system clock plus `offset_secs` (negative: behind).
#[derive(Debug, Clone, Copy)]
pub(crate) struct SkewedClock {
    pub(crate) offset_secs: i64,
}

impl Clock for SkewedClock {
    fn now(&self) -> OffsetDateTime {
        let now = OffsetDateTime::now_utc();
        let by = Duration::from_secs(self.offset_secs.unsigned_abs());
        if self.offset_secs >= 0 {
            now + by
        } else {
            now - by
        }
    }
}

/// The skew of worker `slot`: `+seconds`, `-seconds`, `+seconds`, ... so that workers disagree
/// with each other by twice the skew.
pub(crate) fn skew_of(slot: usize, seconds: u64) -> i64 {
    let s = i64::try_from(seconds).unwrap_or(i64::MAX);
    if slot.is_multiple_of(2) { s } else { -s }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sign_alternates_and_the_clock_is_off_by_it() {
        assert_eq!(
            (0..4).map(|i| skew_of(i, 300)).collect::<Vec<_>>(),
            [300, -300, 300, -300]
        );
        for offset in [300, -300] {
            let off = SkewedClock {
                offset_secs: offset,
            }
            .now()
                - OffsetDateTime::now_utc();
            assert!((off.whole_seconds() - offset).abs() <= 1, "{off}");
        }
    }
}
