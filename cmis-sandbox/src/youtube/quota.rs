//! The project's daily quota of units for everything but `videos.insert` (quota page: "10,000
//! units per day combined for all other endpoints … All API requests, including invalid
//! requests, incur a quota cost of at least one point"; brief §0). Days end at midnight Pacific
//! standard time, as the upload bucket's.

use super::state::{YouTubeState, YtError, google};

/// `errors.json` → `quota_exceeded`, verbatim.
pub(crate) fn quota_exceeded() -> YtError {
    google(
        403,
        "youtube.quota",
        "quotaExceeded",
        "The request cannot be completed because you have exceeded your <a href=\"/youtube/v3/getting-started#quota\">quota</a>.",
        None,
    )
}

impl YouTubeState {
    /// Charges `cost` units to today's budget: 403 `quotaExceeded` when it would go beyond
    /// `units_per_day` (the refused call is not charged).
    pub(crate) fn charge_units(&self, cost: u32) -> Result<(), YtError> {
        let today = Self::quota_day(self.now_ms());
        let limit = self.config().units_per_day;
        let mut inner = self.lock();
        let used = inner.units.entry(today).or_insert(0);
        if used.saturating_add(cost) > limit {
            return Err(quota_exceeded());
        }
        *used += cost;
        Ok(())
    }

    /// Units charged today.
    pub(crate) fn units_used_today(&self) -> u32 {
        let today = Self::quota_day(self.now_ms());
        self.lock().units.get(&today).copied().unwrap_or(0)
    }

    /// Sets today's charged units (to reach the limit in a test).
    pub(crate) fn set_units_used_today(&self, n: u32) {
        let today = Self::quota_day(self.now_ms());
        self.lock().units.insert(today, n);
    }
}
