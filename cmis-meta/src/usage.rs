//! The usage headers Meta sends with every response, and how far they slow an account down.
//!
//! Reference: `docs/meta-graph-api.md` §4 "Rate-limit headers": `X-App-Usage` (app-wide),
//! `X-Business-Use-Case-Usage` and `X-Page-Usage` (per Page or Instagram account), percentages
//! with throttling at 100, and `estimated_time_to_regain_access` in minutes. Meta's advice once
//! limited is to stop calling, because further calls extend the block.

use std::time::Duration;

use http::HeaderMap;
use serde_json::Value;

use crate::error::as_i64;

/// The highest usage percentages and the regain time found in one response's headers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Usage {
    /// The highest metric of `X-App-Usage`, in percent.
    pub(crate) app_percent: Option<u64>,
    /// The highest metric of `X-Business-Use-Case-Usage` and `X-Page-Usage`, in percent.
    pub(crate) account_percent: Option<u64>,
    /// The longest `estimated_time_to_regain_access`.
    pub(crate) regain: Option<Duration>,
}

const METRICS: [&str; 3] = ["call_count", "total_time", "total_cputime"];

fn max_metric(obj: &Value) -> Option<u64> {
    METRICS
        .iter()
        .filter_map(|m| obj.get(*m).and_then(as_i64))
        .map(|v| u64::try_from(v).unwrap_or(0))
        .max()
}

fn header_json(headers: &HeaderMap, name: &str) -> Option<Value> {
    let raw = headers.get(name)?.to_str().ok()?;
    serde_json::from_str(raw).ok()
}

impl Usage {
    /// Parses the three usage headers; absent or malformed headers count as nothing reported.
    pub(crate) fn parse(headers: &HeaderMap) -> Self {
        let mut usage = Usage {
            app_percent: header_json(headers, "x-app-usage")
                .as_ref()
                .and_then(max_metric),
            ..Usage::default()
        };
        let mut account = header_json(headers, "x-page-usage")
            .as_ref()
            .and_then(max_metric);
        let mut regain_minutes: Option<u64> = None;
        if let Some(Value::Object(buc)) = header_json(headers, "x-business-use-case-usage") {
            for entries in buc.values() {
                let Some(list) = entries.as_array() else {
                    continue;
                };
                for entry in list {
                    account = account.max(max_metric(entry));
                    let regain = entry
                        .get("estimated_time_to_regain_access")
                        .and_then(as_i64)
                        .and_then(|m| u64::try_from(m).ok())
                        .filter(|m| *m > 0);
                    regain_minutes = regain_minutes.max(regain);
                }
            }
        }
        usage.account_percent = account;
        // Capped: the pause is added to the clock, and an absurd figure must not overflow it.
        usage.regain = regain_minutes
            .map(|m| Duration::from_secs(m.saturating_mul(60)).min(cmis_http::MAX_RETRY_AFTER));
        usage
    }

    /// How long the app as a whole should pause before its next call.
    pub(crate) fn app_pause(&self) -> Option<Duration> {
        self.app_percent.and_then(pause_for_percent)
    }

    /// How long this account should pause before its next call: the regain time when Meta gave
    /// one, else a pause that grows as usage nears 100 %.
    pub(crate) fn account_pause(&self) -> Option<Duration> {
        self.regain
            .or_else(|| self.account_percent.and_then(pause_for_percent))
    }
}

/// How long to wait after throttling with no regain time given: one hour, as Mixpost waits at
/// app level (`docs/meta-graph-api.md` §5, `ManagesRateLimit.php`).
pub(crate) const DEFAULT_THROTTLE_WAIT: Duration = Duration::from_secs(60 * 60);

/// Slows down *before* 100 %: Mixpost backs off above 90 %; cmis starts gently at 80 %.
pub(crate) fn pause_for_percent(percent: u64) -> Option<Duration> {
    match percent {
        0..80 => None,
        80..90 => Some(Duration::from_secs(10)),
        90..95 => Some(Duration::from_secs(60)),
        95..100 => Some(Duration::from_secs(5 * 60)),
        _ => Some(DEFAULT_THROTTLE_WAIT),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn pauses_never_shrink_as_usage_grows(a in 0u64..200, b in 0u64..200) {
            let (lo, hi) = (a.min(b), a.max(b));
            prop_assert!(pause_for_percent(lo) <= pause_for_percent(hi));
        }

        #[test]
        fn any_header_value_parses_without_panicking(v in ".{0,200}") {
            let mut h = HeaderMap::new();
            if let Ok(value) = v.parse() {
                h.insert("x-business-use-case-usage", value);
                let _ = Usage::parse(&h);
            }
        }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn parses_the_documented_headers() {
        let h = headers(&[
            (
                "x-app-usage",
                r#"{"call_count":28,"total_time":25,"total_cputime":25}"#,
            ),
            (
                "x-business-use-case-usage",
                r#"{"1234":[{"type":"pages","call_count":97,"total_cputime":23,"total_time":23,"estimated_time_to_regain_access":0}]}"#,
            ),
        ]);
        let u = Usage::parse(&h);
        assert_eq!(u.app_percent, Some(28));
        assert_eq!(u.account_percent, Some(97));
        assert_eq!(u.regain, None);
        assert_eq!(u.app_pause(), None);
        assert_eq!(u.account_pause(), Some(Duration::from_secs(300)));
    }

    #[test]
    fn regain_time_is_in_minutes_and_wins() {
        let h = headers(&[(
            "x-business-use-case-usage",
            r#"{"1":[{"type":"instagram","call_count":100,"estimated_time_to_regain_access":7}]}"#,
        )]);
        let u = Usage::parse(&h);
        assert_eq!(u.account_pause(), Some(Duration::from_secs(420)));
    }

    #[test]
    fn an_absurd_regain_time_is_capped() {
        // Crashed the fuzz target (a hand-made input): i64::MAX minutes overflowed
        // `Instant::now() + pause`.
        let h = headers(&[(
            "x-business-use-case-usage",
            r#"{"1":[{"call_count":100,"estimated_time_to_regain_access":9223372036854775807}]}"#,
        )]);
        let u = Usage::parse(&h);
        assert_eq!(u.account_pause(), Some(cmis_http::MAX_RETRY_AFTER));
    }

    #[test]
    fn page_usage_counts_for_the_account_and_garbage_is_ignored() {
        let h = headers(&[
            ("x-page-usage", r#"{"call_count":"85","total_time":1}"#),
            ("x-app-usage", "not json"),
        ]);
        let u = Usage::parse(&h);
        assert_eq!(u.account_percent, Some(85));
        assert_eq!(u.app_percent, None);
        assert_eq!(u.account_pause(), Some(Duration::from_secs(10)));
    }
}
