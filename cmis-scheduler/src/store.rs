//! The `ScheduleStore` trait: what the scheduler needs from a database.

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use cmis_core::{
    AuditRecord, Checkpoint, Notification, Platform, Post, PostKey, Result, Target, TenantId,
};
use time::OffsetDateTime;

use crate::audit_chain::AuditVerification;
use crate::job::{Change, ClaimedJob, Completion, Job, JobFilter, JobId, Lease, NewPost};
use crate::outbox::{Delivered, Delivery};

/// A fenced completion that was rejected: the worker no longer holds the job's lease.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Rejected {
    /// The lease that was presented.
    pub lease: Lease,
}

/// Durable storage of scheduled jobs.
///
/// Two kinds of callers use it:
/// - **Tenants** (through the embedding program): [`schedule`](Self::schedule),
///   [`get`](Self::get), [`list`](Self::list), [`reschedule`](Self::reschedule),
///   [`cancel`](Self::cancel), [`retry_now`](Self::retry_now), [`audit_trail`](Self::audit_trail).
///   Every one of these takes a [`TenantId`] and never reads or changes another tenant's job: a
///   job of another tenant is reported exactly as a job that does not exist.
/// - **Workers** : claims in batches with a lease, an owner
///   and a fencing token, and fenced writes that a worker whose lease was lost cannot make.
///
/// Every state transition writes an audit record in the same transaction. No method holds a
/// transaction open after it returns, so no transaction ever spans a platform call.
#[async_trait]
pub trait ScheduleStore: Send + Sync + Debug {
    /// Schedules `post` (the caller's `post_id`) to every one of `targets` at `at`: one job per
    /// target, created together or not at all. Every target's account must belong to `tenant`,
    /// and no active job may exist for the same post and target
    /// ([`ErrorKind::InvalidInput`](cmis_core::ErrorKind::InvalidInput) otherwise).
    async fn schedule(
        &self,
        tenant: &TenantId,
        post_id: &PostKey,
        post: &Post,
        targets: &[Target],
        at: OffsetDateTime,
    ) -> Result<Vec<Job>>;

    /// Schedules many posts at once, all or nothing (one transaction, multi-row statements on
    /// the database backends). Returns how many jobs were created.
    async fn schedule_many(&self, tenant: &TenantId, posts: &[NewPost]) -> Result<u64> {
        let mut n = 0;
        for p in posts {
            n += self
                .schedule(tenant, &p.post_key, &p.post, &p.targets, p.at)
                .await?
                .len() as u64;
        }
        Ok(n)
    }

    /// The job `id` of `tenant`, including finished jobs moved to history.
    async fn get(&self, tenant: &TenantId, id: JobId) -> Result<Option<Job>>;

    /// The jobs of `tenant` that match `filter`, oldest first.
    async fn list(&self, tenant: &TenantId, filter: &JobFilter) -> Result<Vec<Job>>;

    /// Moves a job that has not started (scheduled, retry scheduled, awaiting re-authorisation,
    /// failed or missed) to `at`, as a fresh `scheduled` job with no attempts spent. Refused in
    /// any other state: a job whose publish may have happened is never re-run by a reschedule.
    async fn reschedule(&self, tenant: &TenantId, id: JobId, at: OffsetDateTime) -> Result<Change>;

    /// Cancels a job atomically: once this returns `Applied`, no worker can claim it or record a
    /// publish for it. Refused while a publish call is in flight (`publishing`) and for finished
    /// jobs. A `pending` job is cancelled too, but a platform may finish processing on its own.
    async fn cancel(&self, tenant: &TenantId, id: JobId) -> Result<Change>;

    /// Runs a dead job again now: `failed`, `missed` and `awaiting_reauth` jobs become
    /// `scheduled` with no attempts spent; an `unknown_outcome` job is reconciled now (never
    /// re-published blindly). Refused in any other state.
    async fn retry_now(&self, tenant: &TenantId, id: JobId) -> Result<Change>;

    /// The audit trail of `tenant` (of one job when `job` is given), oldest first.
    ///
    /// A tenant's whole trail grows with every job (about two records each): read it in pages
    /// with [`audit_page`](Self::audit_page).
    async fn audit_trail(&self, tenant: &TenantId, job: Option<JobId>) -> Result<Vec<AuditRecord>>;

    /// One page of [`audit_trail`](Self::audit_trail): at most `limit` records (at most
    /// [`AuditPage::MAX_LIMIT`]) after the cursor `after` (`None` for the first page), oldest
    /// first, with the cursor of the next page when there is one. Pages stay stable while
    /// records are added.
    ///
    /// ```
    /// # mod cmis { pub use cmis_core::*; pub mod scheduler { pub use cmis_scheduler::*; } }
    /// # async fn demo(store: &dyn cmis::scheduler::ScheduleStore, tenant: &cmis::TenantId)
    /// # -> cmis::Result<()> {
    /// let mut after = None;
    /// loop {
    ///     let page = store.audit_page(tenant, None, after, 500).await?;
    ///     for record in &page.records {
    ///         println!("{} {}", record.at, record.action);
    ///     }
    ///     match page.next {
    ///         Some(cursor) => after = Some(cursor),
    ///         None => break,
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// The default reads the whole trail and cuts it; the stores of this crate read one page.
    async fn audit_page(
        &self,
        tenant: &TenantId,
        job: Option<JobId>,
        after: Option<u64>,
        limit: u32,
    ) -> Result<AuditPage> {
        let all = self.audit_trail(tenant, job).await?;
        let start = usize::try_from(after.unwrap_or(0)).unwrap_or(usize::MAX);
        let take = AuditPage::clamp(limit);
        let records: Vec<AuditRecord> = all.iter().skip(start).take(take).cloned().collect();
        let end = start.saturating_add(records.len());
        let next = (end < all.len()).then(|| u64::try_from(end).unwrap_or(u64::MAX));
        Ok(AuditPage { records, next })
    }

    /// Checks `tenant`'s audit trail against its hash chain: finds records edited, deleted,
    /// inserted or reordered behind the store's back (the trail is append-only through the
    /// store; the database refuses updates and deletes of audit rows).
    ///
    /// The default answers [`ErrorKind::Unsupported`](cmis_core::ErrorKind::Unsupported).
    async fn verify_audit(&self, tenant: &TenantId) -> Result<AuditVerification> {
        let _ = tenant;
        Err(cmis_core::Error::unsupported(
            "this store keeps no hash-chained audit trail",
        ))
    }

    /// Claims up to `limit` due jobs for `owner`, with a lease of `lease` and a new fencing
    /// token each. Concurrent claimers never get the same job.
    async fn claim(&self, owner: &str, limit: usize, lease: Duration) -> Result<Vec<ClaimedJob>>;

    /// Records that the platform call of each job is about to start, so that a crash from here
    /// on leaves the job in `unknown_outcome` rather than `scheduled`. Returns the leases that
    /// are still held; call the platform only for those.
    async fn mark_started(&self, leases: &[Lease]) -> Result<Vec<Lease>>;

    /// Claims like [`claim`](Self::claim) and records the claimed jobs as started in the same
    /// write, for a worker that calls the platform for every claimed job at once (the
    /// [`Scheduler`](crate::Scheduler) does): one write per batch instead of two. A crash from
    /// the claim on leaves the jobs in `unknown_outcome`, to be reconciled. No `job.claimed`
    /// audit record is written: the job's completion or rescue record names the owner and the
    /// fencing token.
    ///
    /// The default claims, then marks the claimed jobs started.
    async fn claim_started(
        &self,
        owner: &str,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<ClaimedJob>> {
        let claimed = self.claim(owner, limit, lease).await?;
        let leases: Vec<Lease> = claimed.iter().map(|c| c.lease.clone()).collect();
        let held: std::collections::HashSet<JobId> = self
            .mark_started(&leases)
            .await?
            .into_iter()
            .map(|l| l.job)
            .collect();
        Ok(claimed
            .into_iter()
            .filter(|c| held.contains(&c.job.id))
            .collect())
    }

    /// Claims like [`claim_started`](Self::claim_started), only jobs of `platforms` (those a
    /// worker can publish to): a job of another platform stays queued for a process that has
    /// its publisher. Jobs whose platform or surface this version of cmis does not know are
    /// never claimed, and a claimed row that cannot be decoded (a newer version wrote it, or
    /// it was edited by hand) is never handed out: it is put back with a growing delay for a
    /// process that can read it, and quarantined as `failed` after a few claims.
    ///
    /// The default ignores `platforms` (a worker then defers the jobs it cannot publish).
    async fn claim_started_on(
        &self,
        owner: &str,
        limit: usize,
        lease: Duration,
        platforms: &[Platform],
    ) -> Result<Vec<ClaimedJob>> {
        let _ = platforms;
        self.claim_started(owner, limit, lease).await
    }

    /// Returns the jobs leased to `owner` whose leases are not in `held` to the state they
    /// were claimed from, with their attempts given back, as if never claimed. A worker calls
    /// it after a claim failed: the database may have committed a claim whose answer never
    /// reached the worker, so no call was made for those jobs, and they must not wait for
    /// their lease to expire and then be reconciled as if a call had been made. Returns how
    /// many jobs were released.
    ///
    /// The default releases nothing (those jobs are then rescued when their lease expires).
    async fn release_unheld(&self, owner: &str, held: &[Lease]) -> Result<u64> {
        let _ = (owner, held);
        Ok(0)
    }

    /// Extends still-held leases to `lease` from now; returns those still held.
    async fn heartbeat(&self, leases: &[Lease], lease: Duration) -> Result<Vec<Lease>>;

    /// Stores the connector's checkpoint for a job, fenced on its lease. An error (including a
    /// lost lease) must stop the connector before its next mutating call.
    async fn save_checkpoint(&self, lease: &Lease, checkpoint: &Checkpoint) -> Result<()>;

    /// Applies completions in one transaction, each fenced on its lease; returns those rejected
    /// because the lease was lost (they changed nothing).
    async fn complete(&self, completions: &[(Lease, Completion)]) -> Result<Vec<Rejected>> {
        let with: Vec<_> = completions
            .iter()
            .map(|(l, c)| (l.clone(), c.clone(), None))
            .collect();
        self.complete_notifying(&with).await
    }

    /// Applies completions like [`complete`](Self::complete), and writes the notification of
    /// each *applied* completion into the outbox in the same transaction: an outcome is never
    /// stored without its notification, nor a notification sent for an outcome that was not.
    async fn complete_notifying(
        &self,
        completions: &[(Lease, Completion, Option<Notification>)],
    ) -> Result<Vec<Rejected>>;

    /// Writes notifications into the outbox (for events outside a job's completion, such as a
    /// failed token refresh). Each gets a delivery id unless it has one.
    async fn enqueue(&self, notifications: &[Notification]) -> Result<()>;

    /// Claims up to `limit` notifications due for delivery for `owner`, each for `lease` (a
    /// delivery not settled by then is claimed again: at least once).
    async fn claim_deliveries(
        &self,
        owner: &str,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<Delivery>>;

    /// Records what became of deliveries `owner` attempted (by [`Delivery::seq`]).
    async fn settle_deliveries(&self, owner: &str, results: &[(i64, Delivered)]) -> Result<()>;

    /// How many notifications wait for delivery (neither delivered nor given up).
    async fn undelivered(&self) -> Result<u64>;

    /// Rescues up to `limit` jobs whose lease expired: a job whose platform call had started
    /// becomes `unknown_outcome` (to be reconciled, never blindly re-published); one whose call
    /// had not started returns to the state it was claimed from. Returns the rescued jobs.
    async fn rescue_expired(&self, limit: usize) -> Result<Vec<Job>>;

    /// When the next job becomes due, if any is waiting.
    async fn next_due(&self) -> Result<Option<OffsetDateTime>> {
        self.next_due_on(&Platform::ALL).await
    }

    /// When the next job of `platforms` that [`claim_started_on`](Self::claim_started_on)
    /// could claim becomes due, if any is waiting: a job of another platform, or of a surface
    /// this version does not know, is no reason to wake up.
    async fn next_due_on(&self, platforms: &[Platform]) -> Result<Option<OffsetDateTime>>;

    /// Takes or renews the leadership named `name` for `owner` for `ttl`; `true` when `owner`
    /// is the leader. One leader per database and name.
    async fn try_lead(&self, name: &str, owner: &str, ttl: Duration) -> Result<bool>;

    /// Gives up a leadership `owner` holds, so another process can take it at once.
    async fn resign(&self, name: &str, owner: &str) -> Result<()>;

    /// Moves up to `limit` finished jobs last changed before `before` into history, so that the
    /// hot table stays small. Returns how many moved.
    async fn cleanup(&self, before: OffsetDateTime, limit: usize) -> Result<u64>;

    /// Registers the process `id` (a scheduler's worker id) as alive, with this binary's
    /// version and the newest schema it understands, or renews its heartbeat. A schema newer
    /// than this binary understands is an error ([`ErrorKind::Unsupported`](cmis_core::ErrorKind::Unsupported),
    /// naming both versions), and from then on the store claims nothing.
    ///
    /// The default registers nothing.
    async fn register_process(&self, id: &str) -> Result<()> {
        let _ = id;
        Ok(())
    }

    /// The processes registered in the store, newest heartbeat first (those silent for more
    /// than [`PROCESS_STALE_AFTER`](crate::PROCESS_STALE_AFTER) are probably dead).
    async fn processes(&self) -> Result<Vec<crate::ProcessRecord>> {
        Ok(Vec::new())
    }

    /// How far the database's clock is ahead of this process's clock (zero for a store that
    /// judges time by this process's clock). The [`Scheduler`](crate::Scheduler) adds it to its
    /// own clock, so that its waits and deadlines agree with the store's.
    fn clock_offset(&self) -> time::Duration {
        time::Duration::ZERO
    }

    /// A signal notified when new work may be due (a job scheduled, rescheduled or retried; on
    /// PostgreSQL, by any process through `LISTEN/NOTIFY`).
    fn wake_signal(&self) -> Arc<tokio::sync::Notify>;
}

/// One page of an audit trail ([`ScheduleStore::audit_page`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct AuditPage {
    /// The records, oldest first.
    pub records: Vec<AuditRecord>,
    /// The cursor of the next page (`after`), or `None` when this page is the last.
    pub next: Option<u64>,
}

impl AuditPage {
    /// The most records one page holds.
    pub const MAX_LIMIT: u32 = 10_000;

    /// `limit` between 1 and [`Self::MAX_LIMIT`].
    pub(crate) fn clamp(limit: u32) -> usize {
        usize::try_from(limit.clamp(1, Self::MAX_LIMIT)).unwrap_or(1)
    }
}
