//! The documented limits on who may post: a creator banned from posting, the per-creator
//! posting cap (`spam_risk_too_many_posts`), the client's cap of active posting creators
//! (`reached_active_user_cap`, at most 5 for an unaudited client) and the 5 pending inbox shares
//! in any 24 hours (`spam_risk_too_many_pending_share`); and the failures a test can ask for.
//!
//! Init refuses these with HTTP 403; creator_info answers the first three with HTTP 200, as its
//! page says ("Errors returned with HTTP 200").

use super::*;

/// The 24-hour window every cap counts in.
const DAY: Duration = Duration::from_secs(24 * 3600);
/// "At most 5 pending shares within any 24-hour period" (Upload Video page).
const MAX_PENDING_SHARES: usize = 5;
/// Unaudited clients: "at most 5 users may post in a 24 h window".
const UNAUDITED_ACTIVE_CREATORS: u32 = 5;

fn is_direct(kind: PublishKind) -> bool {
    matches!(kind, PublishKind::DirectVideo | PublishKind::DirectPhoto)
}

impl TikTokState {
    /// Why `open_id` may not make a publish of `kind` now, if it may not: the 403 init answers.
    pub(super) fn posting_refusal(
        &self,
        inner: &Inner,
        open_id: &str,
        kind: PublishKind,
    ) -> Option<ApiError> {
        if inner
            .creators
            .get(open_id)
            .is_some_and(|c| c.banned_from_posting)
        {
            return Some(api(
                403,
                "spam_risk_user_banned_from_posting",
                "The user is banned from making new posts.",
            ));
        }
        let config = self.config();
        let processing = config.processing_time;
        let now = Instant::now();
        // Publishes of the last 24 hours that have not failed.
        let recent = || {
            inner.publishes.iter().filter(move |r| {
                now.duration_since(r.created_at) < DAY
                    && status_of(r, processing, now).0 != "FAILED"
            })
        };
        if is_direct(kind) {
            if let Some(cap) = config.daily_post_cap {
                let posts = recent()
                    .filter(|r| r.open_id == open_id && is_direct(r.kind))
                    .count();
                if posts >= usize::try_from(cap).unwrap_or(usize::MAX) {
                    return Some(api(
                        403,
                        "spam_risk_too_many_posts",
                        "The user has reached the daily post cap.",
                    ));
                }
            }
            let cap = match (config.audited, config.active_creator_cap) {
                (true, cap) => cap,
                (false, cap) => Some(cap.map_or(UNAUDITED_ACTIVE_CREATORS, |c| {
                    c.min(UNAUDITED_ACTIVE_CREATORS)
                })),
            };
            if let Some(cap) = cap {
                let mut active: Vec<&str> = recent()
                    .filter(|r| is_direct(r.kind))
                    .map(|r| r.open_id.as_str())
                    .collect();
                active.sort_unstable();
                active.dedup();
                if !active.contains(&open_id)
                    && active.len() >= usize::try_from(cap).unwrap_or(usize::MAX)
                {
                    return Some(api(
                        403,
                        "reached_active_user_cap",
                        "The client has reached its daily quota of active posting users.",
                    ));
                }
            }
        } else {
            // The fake's users never open their inbox notifications: every share stays pending.
            let pending = recent()
                .filter(|r| r.open_id == open_id && !is_direct(r.kind))
                .count();
            if pending >= MAX_PENDING_SHARES {
                return Some(api(
                    403,
                    "spam_risk_too_many_pending_share",
                    "The user has reached the limit of 5 pending shares in 24 hours.",
                ));
            }
        }
        None
    }

    /// The next publish ends `FAILED` with `fail_reason` once processed.
    pub(crate) fn fail_next_publish(&self, fail_reason: &str) {
        self.lock().pending_failure = Some(fail_reason.to_owned());
    }
}
