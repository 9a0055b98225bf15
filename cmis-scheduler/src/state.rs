//! A job's states and the state machine's rules: which states are claimed when due, which
//! claims spend an attempt, which are finished or settled, and which user changes apply where.
//! Every store follows them (see `transitions.rs`).

use std::fmt;
use std::str::FromStr;

use cmis_core::{Error, Result};
use serde::{Deserialize, Serialize};

/// Where a job is in its life. See the state machine in the crate documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum JobState {
    /// Waiting for its time.
    Scheduled,
    /// Claimed by a worker, which holds its lease.
    Publishing,
    /// The platform is still processing; the job resumes from its checkpoint later.
    Pending,
    /// A retryable error happened; the job runs again at `run_at`.
    RetryScheduled,
    /// Done: the platform returned an id (see [`Job::receipt`](crate::Job::receipt)).
    Published,
    /// Dead: a permanent error, or attempts ran out (see [`Job::last_error`](crate::Job::last_error)).
    Failed,
    /// A publish call was sent and its result is unknown; it is reconciled with read-only calls,
    /// never resent blindly.
    UnknownOutcome,
    /// Not published because it was too late (beyond the staleness deadline).
    Missed,
    /// The account's token was refused; the job waits for re-authorisation without spending
    /// attempts.
    AwaitingReauth,
    /// Cancelled by the user; it can never publish.
    Cancelled,
}

impl JobState {
    /// Every state.
    pub const ALL: [JobState; 10] = [
        Self::Scheduled,
        Self::Publishing,
        Self::Pending,
        Self::RetryScheduled,
        Self::Published,
        Self::Failed,
        Self::UnknownOutcome,
        Self::Missed,
        Self::AwaitingReauth,
        Self::Cancelled,
    ];

    /// The stable `snake_case` name, as stored.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::Publishing => "publishing",
            Self::Pending => "pending",
            Self::RetryScheduled => "retry_scheduled",
            Self::Published => "published",
            Self::Failed => "failed",
            Self::UnknownOutcome => "unknown_outcome",
            Self::Missed => "missed",
            Self::AwaitingReauth => "awaiting_reauth",
            Self::Cancelled => "cancelled",
        }
    }

    /// Whether the job is still active: at most one active job exists per (post, target).
    pub const fn is_active(self) -> bool {
        !self.is_finished()
    }

    /// Whether the job is finished (published, failed, missed or cancelled); finished jobs are
    /// moved to history by the cleanup.
    pub const fn is_finished(self) -> bool {
        matches!(
            self,
            Self::Published | Self::Failed | Self::Missed | Self::Cancelled
        )
    }

    /// Whether the job has settled: it is finished, or parked until someone acts
    /// (`awaiting_reauth`: re-authorise the account; `unknown_outcome`: reconciliation runs on
    /// its own and a person may have to look). Every other state moves on by itself.
    /// [`Scheduler::settled`](crate::Scheduler::settled) waits for it.
    pub const fn is_settled(self) -> bool {
        self.is_finished() || matches!(self, Self::AwaitingReauth | Self::UnknownOutcome)
    }

    /// Whether a worker claims a job in this state once it is due (`scheduled`,
    /// `retry_scheduled`: publish; `pending`: resume; `unknown_outcome`: reconcile).
    pub const fn is_claimable(self) -> bool {
        matches!(
            self,
            Self::Scheduled | Self::RetryScheduled | Self::Pending | Self::UnknownOutcome
        )
    }

    /// Whether a claim of a job in this state spends one of its attempts: only a publish from
    /// the start does; resuming, reconciling and a claim that is given back do not.
    pub const fn claim_spends_attempt(self) -> bool {
        matches!(self, Self::Scheduled | Self::RetryScheduled)
    }

    /// Whether a job in this state accepts `action`: what a dashboard should offer. Every store
    /// follows this table (the conformance suite checks it on all three).
    ///
    /// | state | reschedule | cancel | retry now |
    /// |---|---|---|---|
    /// | scheduled, retry_scheduled | yes | yes | no (it is already due or waiting) |
    /// | pending | no | yes | no |
    /// | unknown_outcome | no | yes | yes: reconcile now, never publish again blindly |
    /// | awaiting_reauth | yes | yes | yes |
    /// | failed, missed | yes | no | yes |
    /// | publishing, published, cancelled | no | no | no |
    ///
    /// ```
    /// # mod cmis { pub use cmis_core::*; pub mod scheduler { pub use cmis_scheduler::*; } }
    /// use cmis::scheduler::{JobState, UserAction};
    /// assert!(JobState::Failed.accepts(UserAction::RetryNow));
    /// assert!(!JobState::Publishing.accepts(UserAction::Cancel));
    /// ```
    pub const fn accepts(self, action: UserAction) -> bool {
        use JobState::*;
        match action {
            UserAction::Reschedule => matches!(
                self,
                Scheduled | RetryScheduled | AwaitingReauth | Failed | Missed
            ),
            UserAction::Cancel => matches!(
                self,
                Scheduled | RetryScheduled | Pending | AwaitingReauth | UnknownOutcome
            ),
            UserAction::RetryNow => {
                matches!(self, Failed | Missed | AwaitingReauth | UnknownOutcome)
            }
        }
    }
}

/// A change a user asks for on one job ([`JobState::accepts`] says where it applies).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UserAction {
    /// Move it to another time ([`ScheduleStore::reschedule`](crate::ScheduleStore::reschedule)).
    Reschedule,
    /// Stop it for good ([`ScheduleStore::cancel`](crate::ScheduleStore::cancel)).
    Cancel,
    /// Run it now ([`ScheduleStore::retry_now`](crate::ScheduleStore::retry_now)); an unknown
    /// outcome is reconciled now instead.
    RetryNow,
}

impl UserAction {
    /// Every action, in a stable order.
    pub const ALL: [UserAction; 3] = [Self::Reschedule, Self::Cancel, Self::RetryNow];
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobState {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| Error::internal(format!("unknown job state {s:?} in the store")))
    }
}
