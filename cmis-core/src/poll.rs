//! How a connector waits for a platform that is still processing.

use std::time::Duration;

/// How a connector polls a platform that is still processing a post (an Instagram container, a
/// Facebook video, a TikTok publish): waits growing from `initial` by `multiplier` up to
/// `max_interval`, for at most `budget` in one call, after which the publish returns
/// [`Outcome::Pending`](crate::Outcome::Pending) with a checkpoint to resume from. Every
/// connector takes one; each has its own default, from its platform's guide.
///
/// ```
/// # mod cmis { pub use cmis_core::*; }
/// use std::time::Duration;
/// use cmis::PollPolicy;
/// let poll = PollPolicy::new(Duration::from_secs(5), Duration::from_secs(60), Duration::from_secs(300));
/// assert_eq!(poll.delay(0), Duration::from_secs(5));
/// assert_eq!(poll.delay(1), Duration::from_secs(10));
/// assert_eq!(poll.delay(9), Duration::from_secs(60));
/// let slower = poll.with_multiplier(1.5);
/// assert_eq!(slower.delay(1), Duration::from_millis(7_500));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct PollPolicy {
    /// The first wait.
    pub initial: Duration,
    /// How much each wait grows (at least 1).
    pub multiplier: f64,
    /// The longest wait between two polls.
    pub max_interval: Duration,
    /// How long one publish or resume call polls before it returns a pending checkpoint.
    pub budget: Duration,
}

impl PollPolicy {
    /// Waits from `initial`, doubling up to `max_interval`, for at most `budget`.
    pub const fn new(initial: Duration, max_interval: Duration, budget: Duration) -> Self {
        Self {
            initial,
            multiplier: 2.0,
            max_interval,
            budget,
        }
    }

    /// Sets the first wait.
    #[must_use]
    pub fn with_initial(mut self, initial: Duration) -> Self {
        self.initial = initial;
        self
    }

    /// Sets how much each wait grows: at least 1 (a multiplier below 1, or one that is not a
    /// number, keeps the waits even).
    #[must_use]
    pub fn with_multiplier(mut self, multiplier: f64) -> Self {
        self.multiplier = if multiplier.is_finite() {
            multiplier.max(1.0)
        } else {
            1.0
        };
        self
    }

    /// Sets the longest wait.
    #[must_use]
    pub fn with_max_interval(mut self, max_interval: Duration) -> Self {
        self.max_interval = max_interval;
        self
    }

    /// Sets how long one call polls.
    #[must_use]
    pub fn with_budget(mut self, budget: Duration) -> Self {
        self.budget = budget;
        self
    }

    /// The wait before poll `n` (0-based): never more than `max_interval`, never shorter than
    /// the wait before it.
    pub fn delay(&self, n: u32) -> Duration {
        let multiplier = if self.multiplier.is_finite() {
            self.multiplier.max(1.0)
        } else {
            1.0
        };
        let mut wait = self.initial.min(self.max_interval);
        for _ in 0..n.min(64) {
            if wait >= self.max_interval {
                break;
            }
            wait = Duration::try_from_secs_f64(wait.as_secs_f64() * multiplier)
                .unwrap_or(self.max_interval)
                .min(self.max_interval);
        }
        wait
    }
}

impl Default for PollPolicy {
    /// 5 s, doubling to 60 s, for 5 minutes: Meta's guide ("once per minute, for no more than 5
    /// minutes"), starting faster because most images are ready in seconds.
    fn default() -> Self {
        Self::new(
            Duration::from_secs(5),
            Duration::from_secs(60),
            Duration::from_secs(5 * 60),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_never_shrink_and_stop_at_the_cap() {
        for multiplier in [0.5, 1.0, 1.5, 2.0, 10.0, f64::NAN, f64::INFINITY] {
            let poll = PollPolicy::default().with_multiplier(multiplier);
            let mut last = Duration::ZERO;
            for n in 0..100 {
                let d = poll.delay(n);
                assert!(
                    d >= last && d <= poll.max_interval,
                    "{multiplier} {n} {d:?}"
                );
                last = d;
            }
        }
        let raw = PollPolicy {
            multiplier: f64::NAN,
            ..PollPolicy::default()
        };
        assert_eq!(raw.delay(5), Duration::from_secs(5));
    }
}
