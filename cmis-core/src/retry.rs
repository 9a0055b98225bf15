//! Retry as a value: exponential backoff with full jitter, honouring the platform's Retry-After.

use std::future::Future;
use std::time::Duration;

use crate::{Error, ErrorKind, Result};

/// How to retry an operation: attempts, exponential backoff with full jitter, and how long a
/// platform's Retry-After may make us wait in-process.
///
/// The policy decides from the error's kind alone:
/// - only [`ErrorKind::RateLimited`] and [`ErrorKind::Transient`] are retried;
/// - [`ErrorKind::UnknownOutcome`] is **never** retried: the request may have been acted on, and a
///   second one could publish twice;
/// - a Retry-After is honoured exactly when it is at most [`max_retry_after`](Self::max_retry_after);
///   a longer one ends the retry loop at once and returns the error, whose
///   [`Error::retry_after`] tells the caller (a scheduler) when to come back. Waiting less than
///   the platform asked would only earn another rate-limit error.
///
/// Without a Retry-After, retry `n` (0-based) waits a uniformly random duration in
/// `[0, min(cap, base × 2ⁿ)]` ("full jitter", as in the AWS architecture blog).
///
/// ```
/// # mod cmis { pub use cmis_core::*; }
/// use std::time::Duration;
/// use cmis::RetryPolicy;
///
/// let policy = RetryPolicy::default()
///     .with_max_attempts(5)
///     .with_base(Duration::from_millis(200))
///     .with_cap(Duration::from_secs(10));
/// assert!(policy.backoff(3) <= Duration::from_millis(1600));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, the first included. `1` means no retry.
    pub max_attempts: u32,
    /// The backoff ceiling of the first retry.
    pub base: Duration,
    /// The largest backoff ceiling.
    pub cap: Duration,
    /// The longest Retry-After honoured in-process; a longer one ends the loop.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    /// 4 attempts, 500 ms base, 30 s cap, Retry-After honoured up to 60 s.
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base: Duration::from_millis(500),
            cap: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn no_retry() -> Self {
        Self::default().with_max_attempts(1)
    }

    /// Sets the number of attempts (at least 1).
    #[must_use]
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets the first retry's backoff ceiling.
    #[must_use]
    pub fn with_base(mut self, base: Duration) -> Self {
        self.base = base;
        self
    }

    /// Sets the largest backoff ceiling.
    #[must_use]
    pub fn with_cap(mut self, cap: Duration) -> Self {
        self.cap = cap;
        self
    }

    /// Sets the longest Retry-After honoured in-process.
    #[must_use]
    pub fn with_max_retry_after(mut self, max: Duration) -> Self {
        self.max_retry_after = max;
        self
    }

    /// The backoff ceiling of retry `retry` (0-based): `min(cap, base × 2^retry)`.
    pub fn max_backoff(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// A random backoff for retry `retry` (0-based), uniform in `[0, max_backoff(retry)]`.
    pub fn backoff(&self, retry: u32) -> Duration {
        self.max_backoff(retry).mul_f64(fastrand::f64())
    }

    /// How long to wait before the next attempt, after attempt number `attempt` (1-based) failed
    /// with `error`; `None` when the loop must stop and return the error.
    pub fn delay_after(&self, attempt: u32, error: &Error) -> Option<Duration> {
        if error.kind() == ErrorKind::UnknownOutcome || !error.is_retryable() {
            return None;
        }
        if attempt >= self.max_attempts {
            return None;
        }
        match error.retry_after() {
            Some(wait) if wait > self.max_retry_after => None,
            Some(wait) => Some(wait),
            None => Some(self.backoff(attempt.saturating_sub(1))),
        }
    }

    /// Runs `op` until it succeeds, fails with an error the policy does not retry, or runs out
    /// of attempts. `op` receives the attempt number, starting at 1.
    ///
    /// Use it only around operations that are safe to repeat: reads, and mutations whose errors
    /// prove nothing was done. The last error is returned unchanged.
    ///
    /// ```
    /// # mod cmis { pub use cmis_core::*; }
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// use cmis::{Error, RetryPolicy};
    /// let result = RetryPolicy::default()
    ///     .run(|attempt| async move {
    ///         if attempt < 3 { Err(Error::transient("connection reset")) } else { Ok(attempt) }
    ///     })
    ///     .await;
    /// assert_eq!(result.unwrap(), 3);
    /// # }
    /// ```
    pub async fn run<T, F, Fut>(&self, mut op: F) -> Result<T>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let mut attempt = 1;
        loop {
            match op(attempt).await {
                Ok(value) => return Ok(value),
                Err(error) => match self.delay_after(attempt, &error) {
                    Some(delay) => {
                        tracing::debug!(
                            attempt,
                            kind = %error.kind(),
                            delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                            "retrying after error"
                        );
                        tokio::time::sleep(delay).await;
                        attempt += 1;
                    }
                    None => return Err(error),
                },
            }
        }
    }
}
