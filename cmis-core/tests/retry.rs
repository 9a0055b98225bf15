//! The retry helper: what it retries, how long it waits, and what it never repeats.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use cmis_core::{Error, ErrorKind, RetryPolicy};
use proptest::prelude::*;
use tokio::time::Instant;

fn policy() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(5)
        .with_base(Duration::from_millis(100))
        .with_cap(Duration::from_secs(2))
        .with_max_retry_after(Duration::from_secs(60))
}

/// Runs `policy` around an operation that fails with `make_error` every time; returns the error
/// and how many calls were made.
async fn always_failing(policy: &RetryPolicy, make_error: fn() -> Error) -> (Error, u32) {
    let calls = Arc::new(AtomicU32::new(0));
    let c = calls.clone();
    let err = policy
        .run(|_| {
            c.fetch_add(1, Ordering::SeqCst);
            async move { Err::<(), _>(make_error()) }
        })
        .await
        .unwrap_err();
    (err, calls.load(Ordering::SeqCst))
}

#[tokio::test(start_paused = true)]
async fn retryable_kinds_are_retried_until_attempts_run_out() {
    let (err, calls) = always_failing(&policy(), || Error::transient("503")).await;
    assert_eq!(calls, 5);
    assert_eq!(err.kind(), ErrorKind::Transient);

    let (err, calls) = always_failing(&policy(), || Error::rate_limited("slow down")).await;
    assert_eq!(calls, 5);
    assert_eq!(err.kind(), ErrorKind::RateLimited);
}

#[tokio::test(start_paused = true)]
async fn non_retryable_kinds_are_tried_once() {
    let cases: [fn() -> Error; 8] = [
        || Error::invalid_input("bad"),
        || Error::auth("expired"),
        || Error::permission("scope"),
        || Error::quota("used up"),
        || Error::rejected("policy"),
        || Error::unknown_outcome("timeout after send"),
        || Error::unsupported("no"),
        || Error::internal("bug"),
    ];
    for make in cases {
        let start = Instant::now();
        let (err, calls) = always_failing(&policy(), make).await;
        assert_eq!(calls, 1, "{:?} was retried", err.kind());
        assert_eq!(start.elapsed(), Duration::ZERO);
    }
}

#[tokio::test(start_paused = true)]
async fn unknown_outcome_is_never_retried_even_with_retry_after() {
    // Even if a connector attached a Retry-After, an unknown outcome must not be resent.
    let (err, calls) = always_failing(&policy(), || {
        Error::unknown_outcome("502 after the request was sent")
            .with_retry_after(Duration::from_secs(1))
    })
    .await;
    assert_eq!(calls, 1);
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome);
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_honoured_exactly() {
    let calls = Arc::new(AtomicU32::new(0));
    let c = calls.clone();
    let start = Instant::now();
    let value = policy()
        .run(|attempt| {
            c.fetch_add(1, Ordering::SeqCst);
            async move {
                if attempt == 1 {
                    Err(Error::rate_limited("429").with_retry_after(Duration::from_secs(42)))
                } else {
                    Ok("done")
                }
            }
        })
        .await
        .unwrap();
    assert_eq!(value, "done");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(start.elapsed(), Duration::from_secs(42));
}

#[tokio::test(start_paused = true)]
async fn retry_after_beyond_the_cap_returns_at_once_with_the_wait() {
    let start = Instant::now();
    let (err, calls) = always_failing(&policy(), || {
        Error::rate_limited("come back in an hour").with_retry_after(Duration::from_secs(3600))
    })
    .await;
    assert_eq!(calls, 1);
    assert_eq!(
        start.elapsed(),
        Duration::ZERO,
        "must not sleep a capped wait"
    );
    assert_eq!(err.retry_after(), Some(Duration::from_secs(3600)));
}

#[tokio::test(start_paused = true)]
async fn backoff_waits_stay_within_the_ceilings() {
    let policy = policy();
    let start = Instant::now();
    let (_, calls) = always_failing(&policy, || Error::transient("reset")).await;
    assert_eq!(calls, 5);
    let ceiling: Duration = (0..4).map(|n| policy.max_backoff(n)).sum();
    assert!(
        start.elapsed() <= ceiling,
        "{:?} > {ceiling:?}",
        start.elapsed()
    );
}

#[test]
fn max_backoff_doubles_then_caps() {
    let p = policy();
    assert_eq!(p.max_backoff(0), Duration::from_millis(100));
    assert_eq!(p.max_backoff(1), Duration::from_millis(200));
    assert_eq!(p.max_backoff(4), Duration::from_millis(1600));
    assert_eq!(p.max_backoff(5), Duration::from_secs(2));
    assert_eq!(p.max_backoff(200), Duration::from_secs(2));
}

#[test]
fn jitter_actually_varies() {
    let p = policy();
    let samples: std::collections::HashSet<_> = (0..64).map(|_| p.backoff(3)).collect();
    assert!(samples.len() > 1, "full jitter must not be a constant");
}

proptest! {
    #[test]
    fn jittered_backoff_is_within_zero_and_the_capped_ceiling(
        base_ms in 1u64..10_000,
        cap_ms in 1u64..600_000,
        retry in 0u32..100,
    ) {
        let p = RetryPolicy::default()
            .with_base(Duration::from_millis(base_ms))
            .with_cap(Duration::from_millis(cap_ms));
        let ceiling = p.max_backoff(retry);
        prop_assert!(ceiling <= Duration::from_millis(cap_ms));
        let expected = Duration::from_millis(base_ms)
            .saturating_mul(2u32.saturating_pow(retry.min(31)))
            .min(Duration::from_millis(cap_ms));
        prop_assert_eq!(ceiling, expected);
        for _ in 0..16 {
            let d = p.backoff(retry);
            prop_assert!(d <= ceiling, "{:?} > {:?}", d, ceiling);
        }
    }

    #[test]
    fn delay_after_never_exceeds_the_retry_after_cap_and_stops_at_max_attempts(
        attempt in 1u32..10,
        max_attempts in 1u32..10,
        retry_after_s in proptest::option::of(0u64..7200),
    ) {
        let p = policy().with_max_attempts(max_attempts);
        let mut err = Error::rate_limited("429");
        if let Some(s) = retry_after_s {
            err = err.with_retry_after(Duration::from_secs(s));
        }
        match p.delay_after(attempt, &err) {
            None => prop_assert!(
                attempt >= max_attempts || retry_after_s.is_some_and(|s| s > 60)
            ),
            Some(d) => {
                prop_assert!(attempt < max_attempts);
                match retry_after_s {
                    Some(s) => prop_assert_eq!(d, Duration::from_secs(s)),
                    None => prop_assert!(d <= p.cap),
                }
            }
        }
    }
}
