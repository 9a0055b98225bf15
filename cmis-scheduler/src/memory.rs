//! `MemoryScheduleStore`: the store contract in memory, for tests (it follows tokio's paused
//! clock exactly, since it never leaves the runtime) and for programs that need no durability.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use cmis_core::{
    AuditRecord, Checkpoint, Clock, Error, Notification, Platform, Post, PostKey, Result, Surface,
    SystemClock, Target, TenantId,
};
use time::OffsetDateTime;

use crate::backend::{batch_rows, check_targets, lost_lease, not_found};
use crate::job::{
    Change, ClaimedJob, Completion, Job, JobError, JobFilter, JobId, JobState, Lease, NewPost,
    Phase,
};
use crate::outbox::{Delivered, Delivery};
use crate::store::{Rejected, ScheduleStore};
use crate::transitions::{UserOp, plan_user_op};

/// A [`ScheduleStore`] in memory. Nothing survives a restart: for tests, and for trying the
/// scheduler before choosing SQLite or PostgreSQL. It runs the same contract as the database
/// stores (the conformance suite checks all three alike).
///
/// ```
/// # mod cmis { pub use cmis_core::*; pub mod scheduler { pub use cmis_scheduler::*; } }
/// use cmis::scheduler::{JobFilter, MemoryScheduleStore, ScheduleStore};
/// use cmis::TenantId;
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> cmis::Result<()> {
/// let store = MemoryScheduleStore::new();
/// let jobs = store.list(&TenantId::new("acme"), &JobFilter::default()).await?;
/// assert!(jobs.is_empty());
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct MemoryScheduleStore {
    state: Mutex<State>,
    clock: Arc<dyn Clock>,
    wake: Arc<tokio::sync::Notify>,
}

#[derive(Debug, Default)]
struct State {
    next_id: i64,
    jobs: BTreeMap<JobId, Job>,
    audit: Vec<AuditRecord>,
    leaders: BTreeMap<String, (String, OffsetDateTime)>,
    /// The state each publishing job was claimed from, to return to if its lease expires
    /// before its call starts.
    claimed_from: BTreeMap<JobId, JobState>,
    /// Finished jobs moved "to history" by `cleanup`: still readable, never changed again (as
    /// in the database backends, whose history table takes no writes).
    history: HashSet<JobId>,
    /// The notification outbox, by sequence number.
    outbox: BTreeMap<i64, OutboxEntry>,
}

#[derive(Debug, Clone)]
struct OutboxEntry {
    notification: Notification,
    created_at: OffsetDateTime,
    run_at: OffsetDateTime,
    attempts: u32,
    lease: Option<(String, OffsetDateTime)>,
    done: bool,
}

fn push_outbox(st: &mut State, n: &Notification, now: OffsetDateTime) {
    let seq = i64::try_from(st.outbox.len()).unwrap_or(i64::MAX) + 1;
    let n = match &n.id {
        Some(_) => n.clone(),
        None => n.clone().with_id(crate::outbox::new_delivery_id()),
    };
    st.outbox.insert(
        seq,
        OutboxEntry {
            notification: n,
            created_at: now,
            run_at: now,
            attempts: 0,
            lease: None,
            done: false,
        },
    );
}

impl Default for MemoryScheduleStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryScheduleStore {
    /// An empty store on the system clock.
    pub fn new() -> Self {
        Self::with_clock(Arc::new(SystemClock))
    }

    /// An empty store on `clock` (use [`TokioClock`](cmis_core::TokioClock) under a paused tokio clock).
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        Self {
            state: Mutex::new(State::default()),
            clock,
            wake: Arc::new(tokio::sync::Notify::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every change below is applied whole before the guard drops, so a poisoned lock still
        // holds consistent data.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn wake(&self) {
        self.wake.notify_waiters();
        self.wake.notify_one();
    }

    /// Reads the jobs and the audit trail at once (the admin queries).
    pub(crate) fn admin_view<R>(
        &self,
        f: impl FnOnce(&BTreeMap<JobId, Job>, &[AuditRecord]) -> R,
    ) -> R {
        let st = self.lock();
        f(&st.jobs, &st.audit)
    }

    /// Appends an operator's record to the audit trail, on the store's clock.
    pub(crate) fn admin_record(&self, record: &AuditRecord) {
        let record = record.clone().at(self.clock.now());
        self.lock().audit.push(record);
    }
}

fn audit(job: &Job, at: OffsetDateTime, action: &str) -> AuditRecord {
    AuditRecord::for_account(&job.target.account, action)
        .at(at)
        .with_subject(job.id.to_string())
}

fn held<'a>(state: &'a mut State, lease: &Lease) -> Option<&'a mut Job> {
    state.jobs.get_mut(&lease.job).filter(|j| {
        j.state == JobState::Publishing
            && j.lease_owner.as_deref() == Some(lease.owner.as_str())
            && j.fencing_token == lease.token
    })
}

fn is_due(j: &Job, now: OffsetDateTime) -> bool {
    j.state.is_claimable() && j.run_at.is_some_and(|t| t <= now)
}

fn refuse_clash(
    st: &State,
    tenant: &TenantId,
    post_id: &PostKey,
    targets: &[Target],
) -> Result<()> {
    let clash = st.jobs.values().any(|j| {
        j.state.is_active()
            && &j.tenant == tenant
            && &j.post_key == post_id
            && targets.contains(&j.target)
    });
    if clash {
        return Err(Error::invalid_input(
            "an active job already exists for this post and target (one per post and target)",
        ));
    }
    Ok(())
}

fn insert_job(
    st: &mut State,
    tenant: &TenantId,
    post_id: &PostKey,
    post: &Post,
    target: &Target,
    at: OffsetDateTime,
    now: OffsetDateTime,
) -> Job {
    st.next_id += 1;
    let job = Job::scheduled(
        JobId::new(st.next_id),
        tenant.clone(),
        post_id.clone(),
        target.clone(),
        post.clone(),
        at,
        now,
    );
    st.audit.push(audit(&job, now, "job.scheduled"));
    st.jobs.insert(job.id, job.clone());
    job
}

#[async_trait]
impl ScheduleStore for MemoryScheduleStore {
    async fn schedule(
        &self,
        tenant: &TenantId,
        post_id: &PostKey,
        post: &Post,
        targets: &[Target],
        at: OffsetDateTime,
    ) -> Result<Vec<Job>> {
        check_targets(tenant, post_id, targets)?;
        let now = self.clock.now();
        let mut st = self.lock();
        refuse_clash(&st, tenant, post_id, targets)?;
        let out = targets
            .iter()
            .map(|target| insert_job(&mut st, tenant, post_id, post, target, at, now))
            .collect();
        drop(st);
        self.wake();
        Ok(out)
    }

    async fn schedule_many(&self, tenant: &TenantId, posts: &[NewPost]) -> Result<u64> {
        // All or nothing: every post is checked (and the batch for duplicates) before any job
        // is inserted, all under one lock.
        batch_rows(tenant, posts)?;
        let now = self.clock.now();
        let mut st = self.lock();
        for p in posts {
            refuse_clash(&st, tenant, &p.post_key, &p.targets)?;
        }
        let mut n = 0;
        for p in posts {
            for target in &p.targets {
                insert_job(&mut st, tenant, &p.post_key, &p.post, target, p.at, now);
                n += 1;
            }
        }
        drop(st);
        self.wake();
        Ok(n)
    }

    async fn get(&self, tenant: &TenantId, id: JobId) -> Result<Option<Job>> {
        Ok(self
            .lock()
            .jobs
            .get(&id)
            .filter(|j| &j.tenant == tenant)
            .cloned())
    }

    async fn list(&self, tenant: &TenantId, filter: &JobFilter) -> Result<Vec<Job>> {
        let limit = usize::try_from(filter.page()).unwrap_or(usize::MAX);
        let after = filter.after;
        Ok(self
            .lock()
            .jobs
            .values()
            .filter(|j| &j.tenant == tenant)
            .filter(|j| filter.states.is_empty() || filter.states.contains(&j.state))
            .filter(|j| filter.post_key.as_ref().is_none_or(|p| p == &j.post_key))
            .filter(|j| after.is_none_or(|a| j.id > a))
            .take(limit)
            .cloned()
            .collect())
    }

    async fn reschedule(&self, tenant: &TenantId, id: JobId, at: OffsetDateTime) -> Result<Change> {
        self.user_change(tenant, id, UserOp::Reschedule(at))
    }

    async fn cancel(&self, tenant: &TenantId, id: JobId) -> Result<Change> {
        self.user_change(tenant, id, UserOp::Cancel)
    }

    async fn retry_now(&self, tenant: &TenantId, id: JobId) -> Result<Change> {
        self.user_change(tenant, id, UserOp::RetryNow)
    }

    async fn audit_trail(&self, tenant: &TenantId, job: Option<JobId>) -> Result<Vec<AuditRecord>> {
        let subject = job.map(|j| j.to_string());
        Ok(self
            .lock()
            .audit
            .iter()
            .filter(|r| &r.tenant == tenant)
            .filter(|r| subject.is_none() || r.subject == subject)
            .cloned()
            .collect())
    }

    async fn claim(&self, owner: &str, limit: usize, lease: Duration) -> Result<Vec<ClaimedJob>> {
        Ok(self.claim_inner(owner, limit, lease, false, &Platform::ALL))
    }

    async fn claim_started(
        &self,
        owner: &str,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<ClaimedJob>> {
        Ok(self.claim_inner(owner, limit, lease, true, &Platform::ALL))
    }

    async fn claim_started_on(
        &self,
        owner: &str,
        limit: usize,
        lease: Duration,
        platforms: &[Platform],
    ) -> Result<Vec<ClaimedJob>> {
        Ok(self.claim_inner(owner, limit, lease, true, platforms))
    }

    async fn release_unheld(&self, owner: &str, held: &[Lease]) -> Result<u64> {
        let now = self.clock.now();
        let mut st = self.lock();
        let keep: HashSet<JobId> = held
            .iter()
            .filter(|l| l.owner == owner)
            .map(|l| l.job)
            .collect();
        let lost: Vec<JobId> = st
            .jobs
            .values()
            .filter(|j| {
                j.state == JobState::Publishing
                    && j.lease_owner.as_deref() == Some(owner)
                    && !keep.contains(&j.id)
            })
            .map(|j| j.id)
            .collect();
        for id in &lost {
            let from = st.claimed_from.get(id).copied();
            let Some(j) = st.jobs.get_mut(id) else {
                continue;
            };
            let from = from.unwrap_or(JobState::RetryScheduled);
            if from.claim_spends_attempt() {
                j.attempts = j.attempts.saturating_sub(1);
            }
            j.state = from;
            j.lease_owner = None;
            j.lease_expires_at = None;
            j.phase = None;
            j.started_at = None;
            j.updated_at = now;
            let record = audit(j, now, "job.released").with_detail("owner", owner);
            st.audit.push(record);
        }
        drop(st);
        if !lost.is_empty() {
            self.wake();
        }
        Ok(lost.len() as u64)
    }

    async fn mark_started(&self, leases: &[Lease]) -> Result<Vec<Lease>> {
        let now = self.clock.now();
        let mut st = self.lock();
        Ok(leases
            .iter()
            .filter(|l| held(&mut st, l).map(|j| j.started_at = Some(now)).is_some())
            .cloned()
            .collect())
    }

    async fn heartbeat(&self, leases: &[Lease], lease: Duration) -> Result<Vec<Lease>> {
        let until = self.clock.now() + lease;
        let mut st = self.lock();
        Ok(leases
            .iter()
            .filter(|l| {
                held(&mut st, l)
                    .map(|j| j.lease_expires_at = Some(until))
                    .is_some()
            })
            .cloned()
            .collect())
    }

    async fn save_checkpoint(&self, lease: &Lease, checkpoint: &Checkpoint) -> Result<()> {
        let now = self.clock.now();
        let mut st = self.lock();
        let size = serde_json::to_string(checkpoint).map_or(0, |c| c.len());
        crate::stored::check_checkpoint_size(size)?;
        let job = held(&mut st, lease).ok_or_else(|| lost_lease(lease))?;
        job.checkpoint = Some(checkpoint.clone());
        job.updated_at = now;
        let record = audit(job, now, "job.checkpoint").with_detail("stage", &checkpoint.stage);
        st.audit.push(record);
        Ok(())
    }

    async fn complete_notifying(
        &self,
        completions: &[(Lease, Completion, Option<Notification>)],
    ) -> Result<Vec<Rejected>> {
        let now = self.clock.now();
        let mut st = self.lock();
        let mut rejected = Vec::new();
        for (lease, c, notify) in completions {
            let counted = st
                .claimed_from
                .get(&lease.job)
                .is_some_and(|f| f.claim_spends_attempt());
            let Some(j) = held(&mut st, lease) else {
                rejected.push(Rejected {
                    lease: lease.clone(),
                });
                continue;
            };
            // Stored as the databases store it: no NUL, at most 4 KiB.
            let set_err = |j: &mut Job, e: &JobError| {
                let mut e = e.clone();
                e.message = crate::stored::storable(&e.message, crate::stored::MAX_ERROR_MESSAGE);
                e.discard_checkpoint = false;
                j.last_error = Some(e);
            };
            j.run_at = None;
            match c {
                Completion::Published(r) => j.receipt = Some(r.clone()),
                Completion::Pending {
                    checkpoint,
                    resume_at,
                } => {
                    j.checkpoint = Some(checkpoint.clone());
                    j.run_at = Some(*resume_at);
                }
                Completion::Retry { at, error } => {
                    set_err(j, error);
                    j.run_at = Some(*at);
                }
                Completion::Throttled { at, error } => {
                    set_err(j, error);
                    j.run_at = Some(*at);
                    if counted {
                        j.attempts = j.attempts.saturating_sub(1);
                    }
                }
                Completion::UnknownOutcome {
                    error,
                    reconcile_at,
                    checkpoint,
                } => {
                    set_err(j, error);
                    j.run_at = *reconcile_at;
                    if let Some(cp) = checkpoint {
                        j.checkpoint = Some(cp.clone());
                    }
                }
                Completion::Snooze { at } => {
                    j.run_at = Some(*at);
                    if counted {
                        j.attempts = j.attempts.saturating_sub(1);
                    }
                }
                Completion::AwaitingReauth { error } => {
                    set_err(j, error);
                    if counted {
                        j.attempts = j.attempts.saturating_sub(1);
                    }
                }
                Completion::Failed { error } | Completion::Missed { error } => set_err(j, error),
            }
            if crate::transitions::completion_row(lease, c, 0).discard {
                j.checkpoint = None;
            }
            j.state = c.state();
            j.lease_owner = None;
            j.lease_expires_at = None;
            j.phase = None;
            j.started_at = None;
            j.updated_at = now;
            let action = match c {
                Completion::Snooze { .. } => "job.snoozed".to_owned(),
                Completion::Throttled { .. } => "job.throttled".to_owned(),
                _ => format!("job.{}", j.state.as_str()),
            };
            let record =
                audit(j, now, &action).with_detail("fencing_token", lease.token.to_string());
            st.audit.push(record);
            if let Some(n) = notify {
                push_outbox(&mut st, n, now);
            }
        }
        Ok(rejected)
    }

    async fn enqueue(&self, notifications: &[Notification]) -> Result<()> {
        let now = self.clock.now();
        let mut st = self.lock();
        for n in notifications {
            push_outbox(&mut st, n, now);
        }
        Ok(())
    }

    async fn claim_deliveries(
        &self,
        owner: &str,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<Delivery>> {
        let now = self.clock.now();
        let mut st = self.lock();
        let mut out = Vec::new();
        for (seq, e) in &mut st.outbox {
            if out.len() >= limit {
                break;
            }
            let free = e.lease.as_ref().is_none_or(|(_, until)| *until < now);
            if e.done || e.run_at > now || !free {
                continue;
            }
            e.attempts += 1;
            e.lease = Some((owner.to_owned(), now + lease));
            out.push(Delivery {
                seq: *seq,
                attempts: e.attempts,
                created_at: e.created_at,
                notification: e.notification.clone(),
            });
        }
        Ok(out)
    }

    async fn settle_deliveries(&self, owner: &str, results: &[(i64, Delivered)]) -> Result<()> {
        let mut st = self.lock();
        for (seq, r) in results {
            let Some(e) = st.outbox.get_mut(seq) else {
                continue;
            };
            let ours = e.lease.as_ref().is_some_and(|(o, _)| o == owner);
            match r {
                Delivered::Yes => e.done = true,
                Delivered::RetryAt { at, .. } if ours => e.run_at = *at,
                Delivered::GaveUp { .. } if ours => e.done = true,
                _ => continue,
            }
            e.lease = None;
        }
        Ok(())
    }

    async fn undelivered(&self) -> Result<u64> {
        Ok(self.lock().outbox.values().filter(|e| !e.done).count() as u64)
    }

    async fn rescue_expired(&self, limit: usize) -> Result<Vec<Job>> {
        let now = self.clock.now();
        let mut st = self.lock();
        let expired: Vec<JobId> = st
            .jobs
            .values()
            .filter(|j| {
                j.state == JobState::Publishing && j.lease_expires_at.is_some_and(|t| t < now)
            })
            .map(|j| j.id)
            .take(limit)
            .collect();
        let mut out = Vec::new();
        for id in expired {
            let from = st.claimed_from.get(&id).copied();
            let Some(j) = st.jobs.get_mut(&id) else {
                continue;
            };
            if j.started_at.is_some() {
                j.state = JobState::UnknownOutcome;
                j.run_at = Some(now);
                j.last_error = Some(JobError::new(
                    cmis_core::ErrorKind::UnknownOutcome,
                    "the worker's lease expired while its platform call was in flight",
                ));
            } else {
                let from = from.unwrap_or(JobState::RetryScheduled);
                if from.claim_spends_attempt() {
                    j.attempts = j.attempts.saturating_sub(1);
                }
                j.state = from;
            }
            j.lease_owner = None;
            j.lease_expires_at = None;
            j.phase = None;
            j.started_at = None;
            j.updated_at = now;
            let job = j.clone();
            st.audit
                .push(audit(&job, now, "job.rescued").with_detail("to", job.state.as_str()));
            out.push(job);
        }
        drop(st);
        if !out.is_empty() {
            self.wake();
        }
        Ok(out)
    }

    async fn next_due_on(&self, platforms: &[Platform]) -> Result<Option<OffsetDateTime>> {
        Ok(self
            .lock()
            .jobs
            .values()
            .filter(|j| {
                platforms.contains(&j.target.account.platform)
                    && j.target.surface != Surface::Unknown
            })
            .filter(|j| j.state.is_claimable())
            .filter_map(|j| j.run_at)
            .min())
    }

    async fn try_lead(&self, name: &str, owner: &str, ttl: Duration) -> Result<bool> {
        let now = self.clock.now();
        let mut st = self.lock();
        let free = st
            .leaders
            .get(name)
            .is_none_or(|(o, until)| o == owner || *until < now);
        if free {
            st.leaders
                .insert(name.to_owned(), (owner.to_owned(), now + ttl));
        }
        Ok(free)
    }

    async fn resign(&self, name: &str, owner: &str) -> Result<()> {
        let mut st = self.lock();
        if st.leaders.get(name).is_some_and(|(o, _)| o == owner) {
            st.leaders.remove(name);
        }
        Ok(())
    }

    async fn cleanup(&self, before: OffsetDateTime, limit: usize) -> Result<u64> {
        // Nothing is copied (memory has no hot table to keep small), but the moved jobs behave
        // as in the database backends: counted once, readable, refused any further change.
        let mut st = self.lock();
        let mut finished: Vec<(OffsetDateTime, JobId)> = st
            .jobs
            .values()
            .filter(|j| {
                matches!(
                    j.state,
                    JobState::Published | JobState::Failed | JobState::Missed | JobState::Cancelled
                ) && j.updated_at < before
                    && !st.history.contains(&j.id)
            })
            .map(|j| (j.updated_at, j.id))
            .collect();
        finished.sort_unstable();
        finished.truncate(limit);
        let moved = finished.len() as u64;
        st.history.extend(finished.into_iter().map(|(_, id)| id));
        Ok(moved)
    }

    fn wake_signal(&self) -> Arc<tokio::sync::Notify> {
        Arc::clone(&self.wake)
    }
}

impl MemoryScheduleStore {
    fn user_change(&self, tenant: &TenantId, id: JobId, op: UserOp) -> Result<Change> {
        let now = self.clock.now();
        let mut st = self.lock();
        let Some(job) = st.jobs.get(&id).filter(|j| &j.tenant == tenant).cloned() else {
            return Err(not_found(id));
        };
        if st.history.contains(&id) {
            // Finished jobs moved to history can no longer change.
            return Ok(Change::Refused(job));
        }
        let Some(w) = plan_user_op(&job, op, now) else {
            return Ok(Change::Refused(job));
        };
        if w.state.is_active() && !job.state.is_active() {
            let clash: HashSet<_> = st
                .jobs
                .values()
                .filter(|j| j.id != id && j.state.is_active() && j.post_key == job.post_key)
                .map(|j| (&j.tenant, &j.target))
                .collect();
            if clash.contains(&(&job.tenant, &job.target)) {
                return Err(Error::invalid_input(
                    "an active job already exists for this post and target (one per post and target)",
                ));
            }
        }
        let j = st.jobs.get_mut(&id).ok_or_else(|| not_found(id))?;
        j.state = w.state;
        j.scheduled_for = crate::stored::from_micros(w.scheduled_for)?;
        j.run_at = w.run_at.map(crate::stored::from_micros).transpose()?;
        if w.reset_attempts {
            j.attempts = 0;
        }
        j.updated_at = now;
        let updated = j.clone();
        st.audit.push(audit(&updated, now, w.action));
        drop(st);
        if w.run_at.is_some() {
            self.wake();
        }
        Ok(Change::Applied(updated))
    }
}

impl MemoryScheduleStore {
    /// Claims due jobs; `started` records their platform calls as started (and writes no
    /// `job.claimed` record), as [`ScheduleStore::claim_started`] does.
    fn claim_inner(
        &self,
        owner: &str,
        limit: usize,
        lease: Duration,
        started: bool,
        platforms: &[Platform],
    ) -> Vec<ClaimedJob> {
        let now = self.clock.now();
        let mut st = self.lock();
        let mut due: Vec<_> = st
            .jobs
            .values()
            .filter(|j| is_due(j, now))
            .filter(|j| {
                platforms.contains(&j.target.account.platform)
                    && j.target.surface != Surface::Unknown
            })
            .map(|j| (j.run_at, j.id))
            .collect();
        due.sort();
        due.truncate(limit);
        let mut out = Vec::new();
        for (_, id) in due {
            let Some(j) = st.jobs.get_mut(&id) else {
                continue;
            };
            let from = j.state;
            let phase = if from == JobState::UnknownOutcome {
                Phase::Reconcile
            } else if j.checkpoint.is_some() {
                Phase::Resume
            } else {
                Phase::Publish
            };
            if from.claim_spends_attempt() {
                j.attempts += 1;
            }
            j.state = JobState::Publishing;
            j.lease_owner = Some(owner.to_owned());
            j.lease_expires_at = Some(now + lease);
            j.fencing_token += 1;
            j.phase = Some(phase);
            j.started_at = started.then_some(now);
            j.updated_at = now;
            let job = j.clone();
            st.claimed_from.insert(id, from);
            let lease = Lease::new(id, owner, job.fencing_token);
            if !started {
                st.audit.push(
                    audit(&job, now, "job.claimed")
                        .with_detail("from", from.as_str())
                        .with_detail("fencing_token", job.fencing_token.to_string()),
                );
            }
            out.push(ClaimedJob {
                job,
                lease,
                phase,
                claimed_from: from,
            });
        }
        out
    }
}
