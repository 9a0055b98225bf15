//! The `LinkedIn-Version` every `/rest/` call carries (`docs/linkedin-api.md` §0).
//!
//! LinkedIn publishes a version every month or so and serves each "for a minimum of one year
//! before sunset"; a call with a version past its sunset fails with HTTP 426
//! `NONEXISTENT_VERSION`, and LinkedIn sends no `Sunset` header beforehand. So the version is a
//! setting ([`LinkedInClientBuilder::version`](crate::LinkedInClientBuilder::version)), its
//! earliest possible sunset is known ([`ApiVersion::earliest_sunset`]), and
//! [`ApiVersion::sunset_warning`] says when to move on.

use std::fmt;
use std::str::FromStr;

use cmis_core::{Error, Result};
use time::{Date, Duration, Month, OffsetDateTime};

/// The version cmis sends unless told otherwise: April 2026 (`202604`).
///
/// LinkedIn's migrations table gives each version's sunset; versions so far were sunset in the
/// middle of the month a year and a little after their release (202601 on 15 January 2027,
/// 202603 on 16 March 2027), so 202604 is served until **mid-April 2027** at the earliest.
/// Check <https://learn.microsoft.com/en-us/linkedin/marketing/integrations/migrations> and
/// set a newer version with [`LinkedInClientBuilder::version`](crate::LinkedInClientBuilder::version)
/// (the examples read `CMIS_LINKEDIN_VERSION`) before then.
pub const DEFAULT_VERSION: ApiVersion = ApiVersion {
    year: 2026,
    month: 4,
};

/// How long before the earliest sunset [`ApiVersion::sunset_warning`] starts warning: 60 days.
pub const SUNSET_WARNING: Duration = Duration::days(60);

/// A LinkedIn API version, `YYYYMM`.
///
/// ```
/// # mod cmis { pub use cmis_core::*; pub mod linkedin { pub use cmis_linkedin::*; } }
/// use cmis::linkedin::ApiVersion;
/// let v: ApiVersion = "202604".parse()?;
/// assert_eq!(v.to_string(), "202604");
/// assert!("2026-04".parse::<ApiVersion>().is_err());
/// # Ok::<(), cmis::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApiVersion {
    year: u16,
    month: u8,
}

impl ApiVersion {
    /// The version `year`/`month`, or `InvalidInput` for a month outside 1–12 or a year before
    /// the versioned API (2022).
    pub fn new(year: u16, month: u8) -> Result<Self> {
        if !(1..=12).contains(&month) || !(2022..=9999).contains(&year) {
            return Err(Error::invalid_input(format!(
                "LinkedIn API version {year:04}{month:02} is not a YYYYMM version from 202201 on"
            )));
        }
        Ok(Self { year, month })
    }

    /// The earliest day LinkedIn may stop serving this version: one year after its month, on
    /// the 15th (LinkedIn's sunsets so far fell mid-month, a year and a bit after release).
    pub fn earliest_sunset(&self) -> Date {
        let month = Month::try_from(self.month).unwrap_or(Month::January);
        Date::from_calendar_date(i32::from(self.year) + 1, month, 15).unwrap_or(Date::MAX)
    }

    /// A warning to show operators when `now` is within [`SUNSET_WARNING`] of
    /// [`earliest_sunset`](Self::earliest_sunset), or past it; `None` otherwise.
    pub fn sunset_warning(&self, now: OffsetDateTime) -> Option<String> {
        let sunset = self.earliest_sunset();
        let left = sunset - now.date();
        if left > SUNSET_WARNING {
            return None;
        }
        Some(if left.is_negative() {
            format!(
                "LinkedIn API version {self} may already be sunset (earliest sunset {sunset}); \
                 calls will fail with 426 once it is: set a newer LinkedIn-Version"
            )
        } else {
            format!(
                "LinkedIn API version {self} may be sunset from {sunset} ({} days): set a newer \
                 LinkedIn-Version before then",
                left.whole_days()
            )
        })
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}{:02}", self.year, self.month)
    }
}

impl FromStr for ApiVersion {
    type Err = Error;

    /// Parses `YYYYMM` (six digits).
    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim();
        if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::invalid_input(format!(
                "LinkedIn API version {s:?} is not YYYYMM (for example 202604)"
            )));
        }
        let year = s[..4].parse().unwrap_or(0);
        let month = s[4..].parse().unwrap_or(0);
        Self::new(year, month)
    }
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;

    #[test]
    fn the_default_is_served_until_mid_april_2027_at_least() {
        assert_eq!(DEFAULT_VERSION.to_string(), "202604");
        assert_eq!(DEFAULT_VERSION.earliest_sunset(), date!(2027 - 04 - 15));
        assert_eq!(
            DEFAULT_VERSION.sunset_warning(datetime!(2026-12-07 0:00 UTC)),
            None
        );
        let soon = DEFAULT_VERSION
            .sunset_warning(datetime!(2027-03-01 0:00 UTC))
            .unwrap();
        assert!(soon.contains("45 days"), "{soon}");
        let past = DEFAULT_VERSION
            .sunset_warning(datetime!(2027-05-01 0:00 UTC))
            .unwrap();
        assert!(past.contains("may already be sunset"), "{past}");
    }

    #[test]
    fn versions_are_six_digits_with_a_real_month() {
        for bad in [
            "", "2026", "202613", "202600", "20260401", "2026-4", "abcdef",
        ] {
            assert!(bad.parse::<ApiVersion>().is_err(), "{bad}");
        }
        assert!("202601".parse::<ApiVersion>().unwrap() < DEFAULT_VERSION);
    }
}
