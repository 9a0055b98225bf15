//! Rate limits as the reference PDS counts them (`rate-limiter-flexible` in `xrpc-server`): fixed
//! windows that open at a key's first call, several limits per route, and the `RateLimit-*`
//! status of the tightest one.

use std::collections::HashMap;

/// One limit: `points` per `window_secs`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rule {
    pub(crate) name: &'static str,
    pub(crate) points: u32,
    pub(crate) window_secs: u64,
}

/// What the `RateLimit-*` headers report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RateStatus {
    pub(crate) limit: u32,
    pub(crate) remaining: u32,
    pub(crate) window_secs: u64,
    /// `RateLimit-Reset`: when the window closes, in Unix seconds (an absolute time, not a delay).
    pub(crate) reset: i64,
    /// `Retry-After` on a 429: seconds until the window closes, rounded up.
    pub(crate) retry_after: i64,
}

impl RateStatus {
    /// The status of a limit that is used up, for an injected 429.
    pub(crate) fn exhausted(rule: Rule, now_ms: i64) -> Self {
        Self {
            limit: rule.points,
            remaining: 0,
            window_secs: rule.window_secs,
            reset: (now_ms + window_ms(rule)) / 1000,
            retry_after: (window_ms(rule) + 999) / 1000,
        }
    }
}

fn window_ms(rule: Rule) -> i64 {
    i64::try_from(rule.window_secs)
        .unwrap_or(i64::MAX / 1000)
        .saturating_mul(1000)
}

#[derive(Debug)]
struct Window {
    opened_ms: i64,
    used: u32,
}

/// The windows of every (limit, key) pair.
#[derive(Debug, Default)]
pub(crate) struct Limiter {
    windows: HashMap<(&'static str, String), Window>,
}

impl Limiter {
    /// Counts `points` against every rule for `key`. Every rule is charged, as the PDS's combined
    /// limiter does; the answer is the first exceeded rule's status, or else the tightest one's
    /// (fewest points remaining).
    pub(crate) fn consume(
        &mut self,
        now_ms: i64,
        key: &str,
        rules: &[Rule],
        points: u32,
    ) -> Result<RateStatus, RateStatus> {
        let mut exceeded = None;
        let mut tightest: Option<RateStatus> = None;
        for &rule in rules {
            let window = self
                .windows
                .entry((rule.name, key.to_owned()))
                .or_insert(Window {
                    opened_ms: now_ms,
                    used: 0,
                });
            if now_ms >= window.opened_ms + window_ms(rule) {
                *window = Window {
                    opened_ms: now_ms,
                    used: 0,
                };
            }
            window.used = window.used.saturating_add(points);
            let closes_ms = window.opened_ms + window_ms(rule);
            let status = RateStatus {
                limit: rule.points,
                remaining: rule.points.saturating_sub(window.used),
                window_secs: rule.window_secs,
                reset: closes_ms / 1000,
                retry_after: (closes_ms - now_ms + 999) / 1000,
            };
            if window.used > rule.points && exceeded.is_none() {
                exceeded = Some(status);
            }
            if tightest.is_none_or(|t| status.remaining < t.remaining) {
                tightest = Some(status);
            }
        }
        match (exceeded, tightest) {
            (Some(status), _) => Err(status),
            (None, Some(status)) => Ok(status),
            (None, None) => Ok(RateStatus {
                limit: 0,
                remaining: 0,
                window_secs: 0,
                reset: now_ms / 1000,
                retry_after: 0,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIVE_MIN: Rule = Rule {
        name: "five",
        points: 3,
        window_secs: 300,
    };
    const DAY: Rule = Rule {
        name: "day",
        points: 5,
        window_secs: 86_400,
    };

    #[test]
    fn fixed_windows_open_at_the_first_call_and_report_the_tightest_limit() {
        let mut l = Limiter::default();
        let t0 = 1_796_371_200_500;
        let first = l.consume(t0, "k", &[DAY, FIVE_MIN], 1).unwrap();
        assert_eq!((first.limit, first.remaining), (3, 2));
        assert_eq!(first.reset, 1_796_371_500);
        l.consume(t0 + 1000, "k", &[DAY, FIVE_MIN], 1).unwrap();
        l.consume(t0 + 2000, "k", &[DAY, FIVE_MIN], 1).unwrap();
        let refused = l.consume(t0 + 3000, "k", &[DAY, FIVE_MIN], 1).unwrap_err();
        assert_eq!((refused.limit, refused.remaining), (3, 0));
        assert_eq!(
            refused.reset, 1_796_371_500,
            "the window's end, not now + 300"
        );
        assert_eq!(refused.retry_after, 297);
        // Another key has its own windows.
        assert!(l.consume(t0, "other", &[DAY, FIVE_MIN], 1).is_ok());
        // Five minutes later the short window reopens, but the day has one point left.
        let later = l.consume(t0 + 300_000, "k", &[DAY, FIVE_MIN], 1).unwrap();
        assert_eq!((later.limit, later.remaining), (5, 0));
        let refused = l
            .consume(t0 + 301_000, "k", &[DAY, FIVE_MIN], 1)
            .unwrap_err();
        assert_eq!(refused.limit, 5);
    }
}
