//! A keyed rate limiter, one budget per key (typically `(platform, account)` or an access token).

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::{Error, Result};

/// A rate: `permits` calls per `per`, with bursts of up to `permits`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimit {
    /// Calls allowed per period (and the largest burst).
    pub permits: u32,
    /// The period.
    pub per: Duration,
}

impl RateLimit {
    /// `permits` calls per `per`. Refuses a zero rate or a zero period.
    pub fn new(permits: u32, per: Duration) -> Result<Self> {
        if permits == 0 || per.is_zero() {
            return Err(Error::invalid_input(format!(
                "rate limit of {permits} per {per:?} allows nothing"
            )));
        }
        Ok(Self { permits, per })
    }

    /// `permits` calls per minute.
    pub fn per_minute(permits: u32) -> Result<Self> {
        Self::new(permits, Duration::from_secs(60))
    }

    /// `permits` calls per second.
    pub fn per_second(permits: u32) -> Result<Self> {
        Self::new(permits, Duration::from_secs(1))
    }

    fn interval(&self) -> Duration {
        self.per / self.permits
    }
}

#[derive(Debug, Clone, Copy)]
struct KeyState {
    /// The generic cell rate algorithm's "theoretical arrival time".
    tat: Instant,
    /// A pause imposed from outside (Retry-After, usage headers near 100 %).
    paused_until: Option<Instant>,
}

/// A rate limiter with one budget per key, using the generic cell rate algorithm (GCRA, as the
/// `governor` crate does) on tokio's clock.
///
/// It runs on tokio's clock rather than a monotonic clock of its own, so tests can drive it with
/// a paused runtime, and it can be told to pause a key ([`pause`](Self::pause)) when a platform
/// reports usage close to its limit or answers with a Retry-After.
///
/// ```
/// # mod cmis { pub use cmis_core::*; }
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), cmis::Error> {
/// use cmis::{KeyedRateLimiter, RateLimit};
/// let limiter = KeyedRateLimiter::new(RateLimit::per_minute(6)?);
/// for _ in 0..6 {
///     limiter.until_ready(&"token-a").await;
/// }
/// assert!(limiter.check(&"token-a").is_err()); // the seventh call in a minute must wait
/// assert!(limiter.check(&"token-b").is_ok()); // other keys are independent
/// # Ok(()) }
/// ```
pub struct KeyedRateLimiter<K> {
    rate: RateLimit,
    keys: Mutex<HashMap<K, KeyState>>,
}

impl<K> fmt::Debug for KeyedRateLimiter<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyedRateLimiter")
            .field("rate", &self.rate)
            .finish_non_exhaustive()
    }
}

/// Above this many keys, idle ones are dropped on the next insert.
const PRUNE_ABOVE: usize = 4096;

impl<K: Hash + Eq + Clone> KeyedRateLimiter<K> {
    /// A limiter allowing `rate` per key.
    pub fn new(rate: RateLimit) -> Self {
        Self {
            rate,
            keys: Mutex::new(HashMap::new()),
        }
    }

    /// The rate per key.
    pub fn rate(&self) -> RateLimit {
        self.rate
    }

    /// Takes one permit for `key` if one is free now; otherwise returns how long to wait.
    pub fn check(&self, key: &K) -> std::result::Result<(), Duration> {
        let now = Instant::now();
        let interval = self.rate.interval();
        let tolerance = self.rate.per.saturating_sub(interval);
        let mut keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        if keys.len() > PRUNE_ABOVE && !keys.contains_key(key) {
            keys.retain(|_, s| s.tat > now || s.paused_until.is_some_and(|p| p > now));
        }
        let state = keys.entry(key.clone()).or_insert(KeyState {
            tat: now,
            paused_until: None,
        });
        if let Some(until) = state.paused_until {
            if until > now {
                return Err(until - now);
            }
            state.paused_until = None;
        }
        let tat = state.tat.max(now);
        let allowed_at = tat.checked_sub(tolerance).unwrap_or(now);
        if allowed_at > now {
            return Err(allowed_at - now);
        }
        state.tat = tat + interval;
        Ok(())
    }

    /// Waits until a permit for `key` is free, then takes it.
    pub async fn until_ready(&self, key: &K) {
        while let Err(wait) = self.check(key) {
            tokio::time::sleep(wait).await;
        }
    }

    /// Pauses `key` for `duration`: no permit is given before then. A longer pause already in
    /// place is kept.
    pub fn pause(&self, key: &K, duration: Duration) {
        // An absurd pause saturates at about a century rather than overflowing.
        let now = Instant::now();
        let until = now
            .checked_add(duration)
            .or_else(|| now.checked_add(Duration::from_secs(100 * 365 * 86_400)))
            .unwrap_or(now);
        let mut keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        let state = keys.entry(key.clone()).or_insert(KeyState {
            tat: Instant::now(),
            paused_until: None,
        });
        state.paused_until = Some(state.paused_until.map_or(until, |p| p.max(until)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn bursts_then_spaces_calls_evenly() {
        let limiter = KeyedRateLimiter::new(RateLimit::per_minute(6).unwrap());
        for _ in 0..6 {
            assert!(limiter.check(&1).is_ok());
        }
        assert_eq!(limiter.check(&1), Err(Duration::from_secs(10)));
        tokio::time::advance(Duration::from_secs(10)).await;
        assert!(limiter.check(&1).is_ok());
        assert!(limiter.check(&1).is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn until_ready_waits_exactly_the_interval() {
        let limiter = KeyedRateLimiter::new(RateLimit::per_second(2).unwrap());
        let start = Instant::now();
        for _ in 0..4 {
            limiter.until_ready(&"k").await;
        }
        // Two in the burst, then one every 500 ms.
        assert_eq!(start.elapsed(), Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn pause_blocks_only_that_key() {
        let limiter = KeyedRateLimiter::new(RateLimit::per_second(100).unwrap());
        limiter.pause(&"a", Duration::from_secs(30));
        assert_eq!(limiter.check(&"a"), Err(Duration::from_secs(30)));
        assert!(limiter.check(&"b").is_ok());
        // A shorter pause does not shorten the longer one.
        limiter.pause(&"a", Duration::from_secs(1));
        assert_eq!(limiter.check(&"a"), Err(Duration::from_secs(30)));
        tokio::time::advance(Duration::from_secs(30)).await;
        assert!(limiter.check(&"a").is_ok());
    }

    #[test]
    fn zero_rate_is_refused() {
        assert!(RateLimit::new(0, Duration::from_secs(1)).is_err());
        assert!(RateLimit::new(1, Duration::ZERO).is_err());
    }
}
