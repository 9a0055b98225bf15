//! Accounts a platform asked to leave alone for a while (a Retry-After on a rate-limit or quota
//! error). Kept whether or not a rate limit is configured for the platform: a daily publishing
//! cap reached on one job must hold back the account's other jobs too.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use cmis_core::AccountRef;
use time::OffsetDateTime;

/// Past this many entries, expired ones are dropped when a new account is paused.
const PRUNE_ABOVE: usize = 1024;

/// Accounts paused until an instant of the scheduler's clock.
#[derive(Debug, Default)]
pub(crate) struct AccountPauses {
    until: Mutex<HashMap<AccountRef, OffsetDateTime>>,
}

impl AccountPauses {
    /// Keeps `account` away until `until` (a later pause already recorded wins).
    pub(crate) fn pause(&self, account: &AccountRef, until: OffsetDateTime, now: OffsetDateTime) {
        let mut map = self.until.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= PRUNE_ABOVE && !map.contains_key(account) {
            map.retain(|_, t| *t > now);
        }
        let entry = map.entry(account.clone()).or_insert(until);
        if *entry < until {
            *entry = until;
        }
    }

    /// How long `account` must still wait at `now`, if it is paused.
    pub(crate) fn remaining(&self, account: &AccountRef, now: OffsetDateTime) -> Option<Duration> {
        let mut map = self.until.lock().unwrap_or_else(|p| p.into_inner());
        let until = *map.get(account)?;
        if until <= now {
            map.remove(account);
            return None;
        }
        Duration::try_from(until - now).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cmis_core::Platform;
    use time::macros::datetime;

    #[test]
    fn a_pause_holds_until_its_end_and_the_later_end_wins() {
        let now = datetime!(2026-06-01 12:00 UTC);
        let a = AccountRef::new(cmis_core::TenantId::new("t"), Platform::Instagram, "1");
        let b = AccountRef::new(cmis_core::TenantId::new("t"), Platform::Instagram, "2");
        let p = AccountPauses::default();
        assert_eq!(p.remaining(&a, now), None);
        p.pause(&a, now + Duration::from_secs(60), now);
        p.pause(&a, now + Duration::from_secs(30), now);
        assert_eq!(p.remaining(&a, now), Some(Duration::from_secs(60)));
        assert_eq!(p.remaining(&b, now), None, "other accounts are not paused");
        let later = now + Duration::from_secs(60);
        assert_eq!(p.remaining(&a, later), None, "over at its end");
        assert_eq!(p.remaining(&a, now), None, "and forgotten");
    }

    #[test]
    fn expired_pauses_are_pruned() {
        let now = datetime!(2026-06-01 12:00 UTC);
        let p = AccountPauses::default();
        for i in 0..PRUNE_ABOVE {
            let account = AccountRef::new(
                cmis_core::TenantId::new("t"),
                Platform::TikTok,
                i.to_string(),
            );
            p.pause(&account, now + Duration::from_secs(1), now);
        }
        let later = now + Duration::from_secs(2);
        let fresh = AccountRef::new(cmis_core::TenantId::new("t"), Platform::TikTok, "fresh");
        p.pause(&fresh, later + Duration::from_secs(1), later);
        let len = p.until.lock().unwrap().len();
        assert_eq!(len, 1, "only the live pause is kept");
    }
}
