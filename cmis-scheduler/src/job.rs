//! The job model: one job per (post, target), its leases and outcomes (its states are in
//! `state.rs`).

use std::fmt;

use cmis_core::{Checkpoint, Error, ErrorKind, Post, PostKey, Receipt, Result, Target, TenantId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub use crate::state::{JobState, UserAction};

/// A job's id, unique in its database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(i64);

impl JobId {
    /// The id with this number.
    pub const fn new(id: i64) -> Self {
        Self(id)
    }

    /// The number.
    pub const fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What a worker must do with a job it claimed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Phase {
    /// Call [`Publisher::publish`](cmis_core::Publisher::publish).
    Publish,
    /// Call [`Publisher::resume`](cmis_core::Publisher::resume) with the stored checkpoint.
    Resume,
    /// Call [`Publisher::reconcile`](cmis_core::Publisher::reconcile): the outcome of an earlier
    /// call is unknown.
    Reconcile,
}

impl Phase {
    /// The stable name, as stored.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Publish => "publish",
            Self::Resume => "resume",
            Self::Reconcile => "reconcile",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Self> {
        match s {
            "publish" => Ok(Self::Publish),
            "resume" => Ok(Self::Resume),
            "reconcile" => Ok(Self::Reconcile),
            other => Err(Error::internal(format!(
                "unknown job phase {other:?} in the store"
            ))),
        }
    }
}

/// The last error a job met, as stored (never a secret: errors carry none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct JobError {
    /// The error's kind. A kind this version does not know (written by a newer cmis) reads as
    /// [`ErrorKind::Internal`]; the message is kept as written.
    #[serde(deserialize_with = "lenient_kind")]
    pub kind: ErrorKind,
    /// The error's message.
    pub message: String,
    /// Whether the platform no longer has what the job's checkpoint points to, so the job's
    /// next run publishes from the start ([`Error::discards_checkpoint`]). Not stored: the
    /// completion that carries it drops the checkpoint.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub discard_checkpoint: bool,
}

/// A stored kind as an [`ErrorKind`]: one this version does not know is `Internal`, so that a
/// row written by a newer process never becomes unreadable.
/// Jobs missed before 0.2 stored the kind `missed`, now `transient`.
pub(crate) fn parse_kind(name: &str) -> ErrorKind {
    match name {
        "missed" => ErrorKind::Transient,
        _ => name.parse().unwrap_or(ErrorKind::Internal),
    }
}

fn lenient_kind<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<ErrorKind, D::Error> {
    let name = <std::borrow::Cow<'de, str>>::deserialize(d)?;
    Ok(parse_kind(&name))
}

impl JobError {
    /// The stored form of `error`.
    pub fn from_error(error: &Error) -> Self {
        Self {
            kind: error.kind(),
            message: error.to_string(),
            discard_checkpoint: error.discards_checkpoint(),
        }
    }

    /// A stored error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            discard_checkpoint: false,
        }
    }

    /// This error, marked as leaving the checkpoint dead: the job's next run publishes from
    /// the start.
    #[must_use]
    pub fn discarding_checkpoint(mut self) -> Self {
        self.discard_checkpoint = true;
        self
    }
}

/// A lease on a claimed job: who holds it and with which fencing token. Every write a worker
/// makes about the job is fenced on both, so a worker whose lease expired (and whose job was
/// rescued or claimed again) can change nothing.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Lease {
    /// The job.
    pub job: JobId,
    /// The worker holding the lease.
    pub owner: String,
    /// The fencing token, incremented by every claim.
    pub token: i64,
}

impl Lease {
    /// A lease on `job` held by `owner` with `token`.
    pub fn new(job: JobId, owner: impl Into<String>, token: i64) -> Self {
        Self {
            job,
            owner: owner.into(),
            token,
        }
    }
}

/// One job: a post to publish to one target at a time.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Job {
    /// Its id.
    pub id: JobId,
    /// The tenant it belongs to.
    pub tenant: TenantId,
    /// The caller's key for the post.
    pub post_key: PostKey,
    /// Where to publish.
    pub target: Target,
    /// What to publish.
    pub post: Post,
    /// Its state.
    pub state: JobState,
    /// When the user wants it published (the staleness deadline counts from here).
    pub scheduled_for: OffsetDateTime,
    /// When it next runs; `None` while it waits for a person (re-authorisation, an unresolved
    /// unknown outcome) or is finished.
    pub run_at: Option<OffsetDateTime>,
    /// Publish attempts spent.
    pub attempts: u32,
    /// The last error, if any.
    pub last_error: Option<JobError>,
    /// The connector's last checkpoint, if any.
    pub checkpoint: Option<Checkpoint>,
    /// What the platform returned, once published.
    pub receipt: Option<Receipt>,
    /// The worker holding the lease, while publishing.
    pub lease_owner: Option<String>,
    /// When the lease expires, while publishing.
    pub lease_expires_at: Option<OffsetDateTime>,
    /// The fencing token of the latest claim.
    pub fencing_token: i64,
    /// What the worker holding it must do, while publishing.
    pub phase: Option<Phase>,
    /// When the current lease's platform call started, if it did.
    pub started_at: Option<OffsetDateTime>,
    /// When the job was created.
    pub created_at: OffsetDateTime,
    /// When the job last changed.
    pub updated_at: OffsetDateTime,
}

impl Job {
    /// A new job, scheduled for `at`, created at `now`.
    pub(crate) fn scheduled(
        id: JobId,
        tenant: TenantId,
        post_key: PostKey,
        target: Target,
        post: Post,
        at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            id,
            tenant,
            post_key,
            target,
            post,
            state: JobState::Scheduled,
            scheduled_for: at,
            run_at: Some(at),
            attempts: 0,
            last_error: None,
            checkpoint: None,
            receipt: None,
            lease_owner: None,
            lease_expires_at: None,
            fencing_token: 0,
            phase: None,
            started_at: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// The lease of this job, while it is publishing.
    pub fn lease(&self) -> Option<Lease> {
        match (&self.lease_owner, self.state) {
            (Some(owner), JobState::Publishing) => {
                Some(Lease::new(self.id, owner.clone(), self.fencing_token))
            }
            _ => None,
        }
    }
}

/// A job a worker claimed, with its lease and what to do.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ClaimedJob {
    /// The job, now `publishing`.
    pub job: Job,
    /// The lease the worker holds.
    pub lease: Lease,
    /// What to do.
    pub phase: Phase,
    /// The state it was claimed from.
    pub claimed_from: JobState,
}

/// How a worker finished with a claimed job.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Completion {
    /// The platform returned an id.
    Published(Receipt),
    /// The platform is still processing; resume from `checkpoint` at `resume_at`.
    Pending {
        /// Where to resume from.
        checkpoint: Checkpoint,
        /// When.
        resume_at: OffsetDateTime,
    },
    /// A retryable error; run again at `at`.
    Retry {
        /// When to run again.
        at: OffsetDateTime,
        /// What happened.
        error: JobError,
    },
    /// The platform refused for now (a rate limit); run again at `at`. Nothing is wrong with
    /// the post, so the attempt is given back: a throttled account never fails a post. The
    /// staleness deadline still bounds the wait (a post too late to publish is `missed`).
    Throttled {
        /// When to run again.
        at: OffsetDateTime,
        /// What the platform said.
        error: JobError,
    },
    /// The outcome is unknown; reconcile at `reconcile_at`, or wait for a person when `None`.
    UnknownOutcome {
        /// What happened.
        error: JobError,
        /// When to reconcile (read-only calls), if the publisher can.
        reconcile_at: Option<OffsetDateTime>,
        /// A checkpoint the publisher could not save during the call (the store failed), stored
        /// with the outcome so that reconciliation reads where the call got to; `None` keeps
        /// the job's stored checkpoint.
        checkpoint: Option<Checkpoint>,
    },
    /// The token was refused: wait for re-authorisation. The attempt is given back.
    AwaitingReauth {
        /// What happened.
        error: JobError,
    },
    /// A permanent error, or attempts ran out.
    Failed {
        /// What happened.
        error: JobError,
    },
    /// Not run now (for example the account's rate limit is used up); run at `at`. The attempt
    /// is given back.
    Snooze {
        /// When to run.
        at: OffsetDateTime,
    },
    /// Too late to publish.
    Missed {
        /// Why.
        error: JobError,
    },
}

impl Completion {
    /// The state the job moves to.
    pub fn state(&self) -> JobState {
        match self {
            Self::Published(_) => JobState::Published,
            Self::Pending { .. } => JobState::Pending,
            Self::Retry { .. } | Self::Throttled { .. } | Self::Snooze { .. } => {
                JobState::RetryScheduled
            }
            Self::UnknownOutcome { .. } => JobState::UnknownOutcome,
            Self::AwaitingReauth { .. } => JobState::AwaitingReauth,
            Self::Failed { .. } => JobState::Failed,
            Self::Missed { .. } => JobState::Missed,
        }
    }
}

/// The result of a user's change ([`reschedule`](crate::ScheduleStore::reschedule),
/// [`cancel`](crate::ScheduleStore::cancel), [`retry_now`](crate::ScheduleStore::retry_now)).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Change {
    /// Done; the job as it is now.
    Applied(Job),
    /// Not possible in the job's current state (for example cancelling a job whose publish call
    /// is in flight); the job as it is now.
    Refused(Job),
}

impl Change {
    /// The job, whichever the result.
    pub fn job(&self) -> &Job {
        match self {
            Self::Applied(j) | Self::Refused(j) => j,
        }
    }

    /// Whether the change was applied.
    pub fn is_applied(&self) -> bool {
        matches!(self, Self::Applied(_))
    }
}

/// One post to schedule with [`schedule_many`](crate::ScheduleStore::schedule_many).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct NewPost {
    /// The caller's key for the post.
    pub post_key: PostKey,
    /// What to publish.
    pub post: Post,
    /// Where (one job per target).
    pub targets: Vec<Target>,
    /// When.
    pub at: OffsetDateTime,
}

impl NewPost {
    /// `post` (under the caller's `post_key`) to `targets` at `at`.
    pub fn new(post_key: PostKey, post: Post, targets: Vec<Target>, at: OffsetDateTime) -> Self {
        Self {
            post_key,
            post,
            targets,
            at,
        }
    }

    /// The tenant of the targets' accounts, which must all be the same one
    /// ([`ErrorKind::InvalidInput`] when they are not, or when there is no target).
    pub fn tenant(&self) -> Result<&TenantId> {
        let Some(first) = self.targets.first() else {
            return Err(Error::invalid_input(format!(
                "post {} has no target to publish to",
                self.post_key
            )));
        };
        let tenant = &first.account.tenant;
        if let Some(other) = self.targets.iter().find(|t| &t.account.tenant != tenant) {
            return Err(Error::invalid_input(format!(
                "post {} goes to accounts of two tenants ({} and {}): schedule it once per tenant",
                self.post_key, tenant, other.account.tenant
            )));
        }
        Ok(tenant)
    }
}

/// Which jobs [`list`](crate::ScheduleStore::list) returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct JobFilter {
    /// Only jobs in one of these states (every state when empty).
    pub states: Vec<JobState>,
    /// Only jobs of this post.
    pub post_key: Option<PostKey>,
    /// At most this many (1 000 when `None`, and never more than [`JobFilter::MAX_LIMIT`]).
    pub limit: Option<u32>,
    /// Only jobs after this one (a keyset cursor: pass the last id of the previous page; stable
    /// while jobs are added).
    pub after: Option<JobId>,
}

impl JobFilter {
    /// The most jobs one page holds.
    pub const MAX_LIMIT: u32 = 10_000;

    /// The page size to use.
    pub(crate) fn page(&self) -> i64 {
        i64::from(self.limit.unwrap_or(1_000).min(Self::MAX_LIMIT))
    }

    /// The cursor, as stored (`0`: from the start).
    pub(crate) fn cursor(&self) -> i64 {
        self.after.map_or(0, JobId::get)
    }

    /// Only jobs after `job` (the next page).
    #[must_use]
    pub fn after(mut self, job: JobId) -> Self {
        self.after = Some(job);
        self
    }

    /// Every job of the tenant.
    pub fn all() -> Self {
        Self::default()
    }

    /// Jobs in `state`.
    pub fn state(state: JobState) -> Self {
        Self {
            states: vec![state],
            ..Self::default()
        }
    }

    /// Only jobs of `post_key`.
    #[must_use]
    pub fn with_post(mut self, post_key: PostKey) -> Self {
        self.post_key = Some(post_key);
        self
    }

    /// At most `limit` jobs (capped at [`JobFilter::MAX_LIMIT`]).
    #[must_use]
    pub fn with_limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_error_of_a_kind_from_a_newer_version_reads_as_internal() {
        let known: JobError =
            serde_json::from_str(r#"{"kind":"rate_limited","message":"slow down"}"#).unwrap();
        assert_eq!(known.kind, ErrorKind::RateLimited);
        let newer: JobError =
            serde_json::from_str(r#"{"kind":"moderated","message":"held for review"}"#).unwrap();
        assert_eq!(newer.kind, ErrorKind::Internal);
        assert_eq!(newer.message, "held for review");
        assert_eq!(parse_kind("quota"), ErrorKind::Quota);
        assert_eq!(parse_kind("missed"), ErrorKind::Transient);
    }

    #[test]
    fn states_round_trip_through_their_names() {
        for st in JobState::ALL {
            assert_eq!(st.as_str().parse::<JobState>().unwrap(), st);
        }
        assert_eq!(
            "bogus".parse::<JobState>().unwrap_err().kind(),
            ErrorKind::Internal
        );
        let finished: Vec<_> = JobState::ALL
            .into_iter()
            .filter(|s| s.is_finished())
            .collect();
        assert_eq!(
            finished,
            [
                JobState::Published,
                JobState::Failed,
                JobState::Missed,
                JobState::Cancelled
            ]
        );
    }
}
