//! Typed events for the embedding program, in process ([`Scheduler::subscribe`](crate::Scheduler::subscribe)).
//!
//! [`Event::Scheduled`] and [`Event::Changed`] tell of the jobs scheduled, rescheduled,
//! cancelled or retried through the [`Scheduler`](crate::Scheduler)'s own methods (changes made
//! on the store directly are in its audit trail only).
//!
//! A [`JobEvent`] is sent for every outcome this process's workers *stored* (never for one the
//! store refused or could not write), after its transaction committed: published (with the
//! platform's receipt; from a reconciliation too, then [`JobEvent::phase`] is
//! [`Phase::Reconcile`]), pending, retrying with the reason, throttled, snoozed, unknown
//! outcome, awaiting re-authorisation, failed and missed. A [`TokenEvent`] is sent for each
//! token the refresh sweep renewed or failed to renew.
//!
//! The subscription is in memory and lossy by design: a receiver that falls more than
//! [`EVENT_BUFFER`] events behind skips the oldest (`RecvError::Lagged` says how many). What
//! must not be lost goes through the durable outbox to [`Notifier`](cmis_core::Notifier)s and
//! webhooks (failures, missed posts, unknown outcomes, re-authorisation, publishes), and every
//! transition, a user's changes included, is in the audit trail.
//!
//! ```no_run
//! # mod cmis { pub use cmis_core::*; pub mod scheduler { pub use cmis_scheduler::*; } }
//! # async fn demo(scheduler: cmis::scheduler::Scheduler) {
//! use cmis::scheduler::{Completion, Event};
//!
//! let mut events = scheduler.subscribe();
//! tokio::spawn(async move {
//!     while let Ok(event) = events.recv().await {
//!         if let Event::Job(e) = &event
//!             && let Completion::Published(receipt) = &e.outcome
//!         {
//!             println!("job {} is live: {}", e.job, receipt.post_id);
//!         }
//!     }
//! });
//! # }
//! ```

use cmis_core::{AccountRef, PostKey, Target, TenantId};
use time::OffsetDateTime;

use crate::job::{Completion, Job, JobId, Phase, UserAction};

/// How many events a subscriber may fall behind before it skips the oldest.
pub const EVENT_BUFFER: usize = 4_096;

/// Something that happened, as the scheduler saw it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// A job's outcome was stored.
    Job(Box<JobEvent>),
    /// A job was scheduled through [`Scheduler::schedule`](crate::Scheduler::schedule).
    Scheduled(Box<Job>),
    /// A person's change was applied through the scheduler
    /// ([`Scheduler::reschedule`](crate::Scheduler::reschedule), [`cancel`](crate::Scheduler::cancel),
    /// [`retry_now`](crate::Scheduler::retry_now)); the job as it is now.
    Changed {
        /// The job after the change.
        job: Box<Job>,
        /// What was done.
        action: UserAction,
    },
    /// The refresh sweep renewed a token, or failed to.
    Token(TokenEvent),
}

/// A job's stored outcome.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct JobEvent {
    /// The job.
    pub job: JobId,
    /// Its tenant.
    pub tenant: TenantId,
    /// The caller's key for its post.
    pub post_key: PostKey,
    /// Where it publishes.
    pub target: Target,
    /// What the worker was doing: publishing, resuming, or reconciling an unknown outcome.
    pub phase: Phase,
    /// The outcome, as stored (the job's new state is [`Completion::state`]).
    pub outcome: Completion,
    /// When it was stored (the scheduler's clock).
    pub at: OffsetDateTime,
}

/// What the refresh sweep did for one account's token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenEvent {
    /// A fresh token was stored; it expires at `expires_at` when known.
    Refreshed {
        /// The account.
        account: AccountRef,
        /// When the new token expires, if it does on a timer.
        expires_at: Option<OffsetDateTime>,
    },
    /// The refresh failed; `kind` is the error's kind (`auth`: a person must re-authorise).
    RefreshFailed {
        /// The account.
        account: AccountRef,
        /// The error's kind, as a stable name.
        kind: &'static str,
        /// What went wrong (never a secret).
        message: String,
    },
}

/// The job a worker holds, as its events name it.
#[derive(Debug, Clone)]
pub(crate) struct JobRef {
    pub(crate) tenant: TenantId,
    pub(crate) post_key: PostKey,
    pub(crate) target: Target,
    pub(crate) phase: Phase,
}

impl JobRef {
    pub(crate) fn of(job: &crate::job::ClaimedJob) -> Self {
        Self {
            tenant: job.job.tenant.clone(),
            post_key: job.job.post_key.clone(),
            target: job.job.target.clone(),
            phase: job.phase,
        }
    }
}
