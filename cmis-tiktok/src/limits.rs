//! TikTok's per-access-token rate limits, enforced before a request is sent.

use std::fmt;
use std::sync::Arc;

use cmis_core::{ExposeSecret, KeyedRateLimiter, RateLimit, Result, SecretString};
use sha2::{Digest, Sha256};

/// The per-access-token rate limits the client keeps to. TikTok counts them per user access
/// token over a sliding minute and answers `429 rate_limit_exceeded` beyond them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimits {
    /// `video/init`, `inbox/video/init` and `content/init` together: 6 per minute. They share
    /// one budget, which can only keep the client further under TikTok's limit.
    pub init: RateLimit,
    /// `creator_info/query`: 20 per minute.
    pub creator_info: RateLimit,
    /// `status/fetch`: 30 per minute.
    pub status: RateLimit,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            init: per_minute_or_one(6),
            creator_info: per_minute_or_one(20),
            status: per_minute_or_one(30),
        }
    }
}

fn per_minute_or_one(n: u32) -> RateLimit {
    match RateLimit::per_minute(n) {
        Ok(rate) => rate,
        // Only called with the non-zero literals above.
        Err(_) => unreachable!("{n} per minute is a valid rate"),
    }
}

impl RateLimits {
    /// Sets the init budget.
    #[must_use]
    pub fn with_init(mut self, rate: RateLimit) -> Self {
        self.init = rate;
        self
    }

    /// Sets the creator-info budget.
    #[must_use]
    pub fn with_creator_info(mut self, rate: RateLimit) -> Self {
        self.creator_info = rate;
        self
    }

    /// Sets the status budget.
    #[must_use]
    pub fn with_status(mut self, rate: RateLimit) -> Self {
        self.status = rate;
        self
    }
}

/// Which budget a call spends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Budget {
    Init,
    CreatorInfo,
    Status,
    None,
}

/// The limiters, keyed by a SHA-256 of the access token so that no token is kept as a key.
#[derive(Clone)]
pub(crate) struct Limiters {
    init: Arc<KeyedRateLimiter<[u8; 32]>>,
    creator_info: Arc<KeyedRateLimiter<[u8; 32]>>,
    status: Arc<KeyedRateLimiter<[u8; 32]>>,
}

impl fmt::Debug for Limiters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Limiters")
            .field("init", &self.init.rate())
            .field("creator_info", &self.creator_info.rate())
            .field("status", &self.status.rate())
            .finish()
    }
}

impl Limiters {
    pub(crate) fn new(limits: RateLimits) -> Self {
        Self {
            init: Arc::new(KeyedRateLimiter::new(limits.init)),
            creator_info: Arc::new(KeyedRateLimiter::new(limits.creator_info)),
            status: Arc::new(KeyedRateLimiter::new(limits.status)),
        }
    }

    /// Waits until `budget` has a permit for `token`, then takes it.
    pub(crate) async fn acquire(&self, budget: Budget, token: &SecretString) -> Result<()> {
        let limiter = match budget {
            Budget::Init => &self.init,
            Budget::CreatorInfo => &self.creator_info,
            Budget::Status => &self.status,
            Budget::None => return Ok(()),
        };
        let key: [u8; 32] = Sha256::digest(token.expose_secret().as_bytes()).into();
        limiter.until_ready(&key).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::time::Instant;

    use super::*;

    async fn time_for(limiters: &Limiters, budget: Budget, token: &str, calls: u32) -> Duration {
        let token = SecretString::from(token);
        let start = Instant::now();
        for _ in 0..calls {
            limiters.acquire(budget, &token).await.unwrap();
        }
        start.elapsed()
    }

    #[tokio::test(start_paused = true)]
    async fn documented_limits_apply_per_token() {
        let l = Limiters::new(RateLimits::default());
        // Six inits go at once; the seventh waits for the minute's spacing (60 s / 6).
        assert_eq!(time_for(&l, Budget::Init, "a", 6).await, Duration::ZERO);
        assert_eq!(
            time_for(&l, Budget::Init, "a", 1).await,
            Duration::from_secs(10)
        );
        // Another token has its own budget.
        assert_eq!(time_for(&l, Budget::Init, "b", 6).await, Duration::ZERO);
        assert_eq!(
            time_for(&l, Budget::CreatorInfo, "a", 20).await,
            Duration::ZERO
        );
        assert_eq!(
            time_for(&l, Budget::CreatorInfo, "a", 1).await,
            Duration::from_secs(3)
        );
        assert_eq!(time_for(&l, Budget::Status, "a", 30).await, Duration::ZERO);
        assert_eq!(
            time_for(&l, Budget::Status, "a", 1).await,
            Duration::from_secs(2)
        );
        assert_eq!(time_for(&l, Budget::None, "a", 100).await, Duration::ZERO);
    }
}
