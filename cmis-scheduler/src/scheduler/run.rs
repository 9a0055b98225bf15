//! The worker loop: claim in batches, publish concurrently, complete in batches.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cmis_core::{Error, Notification, Outcome, PublishContext, Result};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use super::checkpoint::JobCheckpointSink;
use super::decide::{Decision, after_publish, after_reconcile, too_late};
use super::{Scheduler, Shared, maintenance};
use crate::job::{ClaimedJob, Completion, JobError, Lease, Phase};

/// Leases whose completion is not written yet, with the task running the job's call if any:
/// the heartbeat keeps them alive, and stops the task of a lease it finds lost. Keyed by lease,
/// not by job: a process may hold an old task of a job (its lease rescued) and a new lease of
/// the same job at once, and the old task's completion must not drop the new lease.
type InFlight = Arc<Mutex<HashMap<Lease, Option<tokio::task::AbortHandle>>>>;

type Done = (Lease, Completion, Option<Notification>);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Each critical section is one insert or remove, so a poisoned map is still consistent.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Scheduler {
    /// Runs until `shutdown` completes, then stops claiming, lets every platform call in flight
    /// finish, writes their outcomes and returns.
    ///
    /// The process registers itself in the store first (see
    /// [`ScheduleStore::register_process`](crate::ScheduleStore::register_process)) and renews
    /// that with every heartbeat; a store whose schema is newer than this binary understands
    /// is an error, returned at once.
    pub async fn run(&self, shutdown: impl Future<Output = ()> + Send) -> Result<()> {
        let shared = &self.shared;
        match shared.store.register_process(&shared.worker_id).await {
            Err(e) if e.kind() == cmis_core::ErrorKind::Unsupported => return Err(e),
            Err(e) => {
                tracing::warn!(error = %e, "registering this process failed; retrying with the heartbeat")
            }
            Ok(()) => {}
        }
        let in_flight: InFlight = Arc::default();
        // Signalled whenever written outcomes free slots.
        let freed = Arc::new(tokio::sync::Notify::new());
        let (done_tx, done_rx) = mpsc::unbounded_channel::<Done>();
        let (stop_tx, stop_rx) = watch::channel(false);
        let completer = tokio::spawn(complete_loop(
            Arc::clone(shared),
            done_rx,
            Arc::clone(&in_flight),
            Arc::clone(&freed),
        ));
        let heartbeat = tokio::spawn(heartbeat_loop(
            Arc::clone(shared),
            Arc::clone(&in_flight),
            stop_rx.clone(),
        ));
        let delivery = shared.durable_notify.then(|| {
            tokio::spawn(super::deliver::run(
                Arc::clone(shared),
                Arc::clone(&shared.outbox_wake),
                stop_rx.clone(),
            ))
        });
        let maint = shared
            .cfg
            .maintenance
            .then(|| tokio::spawn(maintenance::run(Arc::clone(shared), stop_rx)));

        let mut tasks = JoinSet::new();
        let wake = shared.store.wake_signal();
        let concurrency = shared.cfg.concurrency;
        // Claim again once this many slots are free, so that claims stay batched under load.
        let low_water = (concurrency / 4).clamp(1, shared.cfg.batch_size);
        // A job holds its slot until its outcome is written, not only while its platform call
        // runs: claims never outrun the writes, and a lease is never held for a job that waits
        // for nothing but a database write.
        let busy = || lock(&in_flight).len();
        // After a failed claim: how long to wait before the next, and whether jobs the
        // database may have leased to this process without its knowing must be released first.
        let mut claim_failures = 0u32;
        let mut claim_again_at: Option<tokio::time::Instant> = None;
        let mut release_first = false;
        tokio::pin!(shutdown);
        loop {
            while let Some(r) = tasks.try_join_next() {
                log_join(r);
            }
            let held = busy();
            let free = concurrency.saturating_sub(held);
            let mut more_due = false;
            if release_first {
                let leases: Vec<Lease> = lock(&in_flight).keys().cloned().collect();
                match shared
                    .store
                    .release_unheld(&shared.worker_id, &leases)
                    .await
                {
                    Ok(n) => {
                        release_first = false;
                        if n > 0 {
                            tracing::warn!(jobs = n, "released jobs whose claim's answer was lost");
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "releasing jobs of a lost claim failed; retrying")
                    }
                }
            }
            let may_claim = claim_again_at.is_none_or(|t| tokio::time::Instant::now() >= t);
            if !release_first && may_claim && (free >= low_water || held == 0) {
                let want = free.min(shared.cfg.batch_size);
                match shared
                    .store
                    .claim_started_on(&shared.worker_id, want, shared.cfg.lease, &shared.platforms)
                    .await
                {
                    Ok(batch) => {
                        claim_failures = 0;
                        claim_again_at = None;
                        more_due = batch.len() == want;
                        dispatch(shared, batch, &mut tasks, &done_tx, &in_flight).await;
                    }
                    Err(e) => {
                        // The claim may have been applied with its answer lost: those jobs are
                        // released before the next claim. Meanwhile nothing spins.
                        tracing::warn!(error = %e, "claiming jobs failed; retrying");
                        release_first = true;
                        claim_failures = claim_failures.saturating_add(1);
                        claim_again_at =
                            Some(tokio::time::Instant::now() + claim_backoff(claim_failures));
                    }
                }
            }
            if more_due && concurrency > busy() {
                continue;
            }
            let sleep = if let Some(at) = claim_again_at {
                at.saturating_duration_since(tokio::time::Instant::now())
            } else if busy() >= concurrency || more_due {
                shared.cfg.poll_interval
            } else {
                until_next_due(shared).await
            };
            tokio::select! {
                () = &mut shutdown => break,
                () = wake.notified() => {}
                () = freed.notified() => {}
                Some(r) = tasks.join_next(), if !tasks.is_empty() => log_join(r),
                () = tokio::time::sleep(sleep) => {}
            }
        }

        // Graceful stop: no new claims; calls in flight finish and their outcomes are written.
        while let Some(r) = tasks.join_next().await {
            log_join(r);
        }
        drop(done_tx);
        log_join(completer.await);
        let _ = stop_tx.send(true);
        log_join(heartbeat.await);
        if let Some(m) = maint {
            log_join(m.await);
        }
        if let Some(d) = delivery {
            log_join(d.await);
        }
        Ok(())
    }
}

fn log_join(r: std::result::Result<(), tokio::task::JoinError>) {
    if let Err(e) = r {
        // A panicking publisher loses only its own job: `Settle` sends it to reconciliation.
        tracing::error!(error = %e, "a scheduler task failed");
    }
}

/// How long to wait before claiming again after `failures` claims in a row failed: 100 ms,
/// doubling, at most 5 s.
fn claim_backoff(failures: u32) -> Duration {
    Duration::from_millis(100)
        .saturating_mul(1 << failures.saturating_sub(1).min(6))
        .min(Duration::from_secs(5))
}

/// How long to sleep when nothing is due: until the next job, at most the poll interval.
async fn until_next_due(shared: &Shared) -> Duration {
    let poll = shared.cfg.poll_interval;
    match shared.store.next_due_on(&shared.platforms).await {
        Ok(Some(at)) => {
            let wait = at - shared.now();
            if wait <= time::Duration::ZERO {
                Duration::ZERO
            } else {
                Duration::try_from(wait).map_or(poll, |d| d.min(poll))
            }
        }
        Ok(None) => poll,
        Err(e) => {
            tracing::warn!(error = %e, "reading the next due time failed");
            poll
        }
    }
}

async fn dispatch(
    shared: &Arc<Shared>,
    batch: Vec<ClaimedJob>,
    tasks: &mut JoinSet<()>,
    done: &mpsc::UnboundedSender<Done>,
    in_flight: &InFlight,
) {
    if batch.is_empty() {
        return;
    }
    let now = shared.now();
    let mut go = Vec::with_capacity(batch.len());
    {
        let mut held = lock(in_flight);
        for job in batch {
            held.insert(job.lease.clone(), None);
            if let Some(d) = too_late(&job, now, &shared.rules) {
                super::observe::record(&job, &d.completion, None);
                super::observe::watch_jobs(shared, std::slice::from_ref(&job));
                let _ = done.send((job.lease, d.completion, d.notify));
            } else if let Some(wait) = over_budget(shared, &job, now) {
                let at = cmis_core::after(now, wait);
                let deferred = defer(&job, at);
                let _ = done.send((job.lease, deferred, None));
            } else {
                go.push(job);
            }
        }
    }
    super::observe::watch_jobs(shared, &go);
    // The claim recorded every job as started: a crash from here on means `unknown_outcome`.
    for job in go {
        let shared = Arc::clone(shared);
        let mut outcome = Settle {
            lease: Some(job.lease.clone()),
            done: done.clone(),
            shared: Arc::clone(&shared),
        };
        let lease = job.lease.clone();
        let span = super::observe::attempt_span(&job);
        let task = tasks.spawn(tracing::Instrument::instrument(
            async move {
                let started = std::time::Instant::now();
                let mut d = execute(&shared, &job).await;
                super::observe::record(&job, &d.completion, Some(started.elapsed()));
                if shared.cfg.notify_every_outcome && d.notify.is_none() {
                    d.notify = super::decide::progress_notice(&job, &d.completion, shared.now());
                }
                outcome.send(d.completion, d.notify);
            },
            span,
        ));
        if let Some(slot) = lock(in_flight).get_mut(&lease) {
            *slot = Some(task);
        }
    }
}

/// Sends a job's outcome to the writer exactly once. If the task ends without one (the
/// publisher panicked, or the task was aborted), the call may have reached the platform:
/// the job goes to reconciliation, and its slot and lease are released.
struct Settle {
    lease: Option<Lease>,
    done: mpsc::UnboundedSender<Done>,
    shared: Arc<Shared>,
}

impl Settle {
    fn send(&mut self, completion: Completion, notify: Option<Notification>) {
        if let Some(lease) = self.lease.take() {
            let _ = self.done.send((lease, completion, notify));
        }
    }
}

impl Drop for Settle {
    fn drop(&mut self) {
        if self.lease.is_some() {
            let now = self.shared.now();
            let error = JobError::new(
                cmis_core::ErrorKind::UnknownOutcome,
                "the publisher stopped without an answer (it panicked); the platform is checked \
                 before anything is sent again",
            );
            self.send(
                Completion::UnknownOutcome {
                    error,
                    reconcile_at: Some(cmis_core::after(now, self.shared.rules.reconcile_interval)),
                    checkpoint: None,
                },
                None,
            );
        }
    }
}

/// Puts back a job whose account is over its budget until `at`. A reconcile stays
/// `unknown_outcome`: snoozed, it would become `retry_scheduled` and be published again.
fn defer(job: &ClaimedJob, at: time::OffsetDateTime) -> Completion {
    if job.phase == Phase::Reconcile {
        let error = job.job.last_error.clone().unwrap_or_else(|| {
            JobError::new(
                cmis_core::ErrorKind::UnknownOutcome,
                "the outcome is unknown; it is checked once the account's rate budget allows",
            )
        });
        return Completion::UnknownOutcome {
            error,
            reconcile_at: Some(at),
            checkpoint: None,
        };
    }
    // A pending job stays pending: snoozed, it would become `retry_scheduled`, and every later
    // claim of it would count an attempt.
    if job.claimed_from == crate::JobState::Pending
        && let Some(checkpoint) = &job.job.checkpoint
    {
        return Completion::Pending {
            checkpoint: checkpoint.clone(),
            resume_at: at,
        };
    }
    Completion::Snooze { at }
}

/// How long the job's account must wait: for the end of a pause the platform asked for, or for
/// a permit of its platform's rate limit. A paused account takes no permit.
fn over_budget(shared: &Shared, job: &ClaimedJob, now: time::OffsetDateTime) -> Option<Duration> {
    let account = &job.job.target.account;
    if let Some(wait) = shared.pauses.remaining(account, now) {
        return Some(wait);
    }
    shared
        .limits
        .get(&account.platform)
        .and_then(|l| l.check(account).err())
}

/// Whether `result` is a limit on the account rather than on this one call.
fn account_limited<T>(result: &Result<T>) -> bool {
    result.as_ref().is_err_and(|e| {
        matches!(
            e.kind(),
            cmis_core::ErrorKind::RateLimited | cmis_core::ErrorKind::Quota
        )
    })
}

/// Keeps the whole account away from the platform until `until`.
fn hold_account(shared: &Shared, job: &ClaimedJob, until: time::OffsetDateTime) {
    let now = shared.now();
    shared.pauses.pause(&job.job.target.account, until, now);
}

/// The decision after a publish or resume call. A rate limit or quota belongs to the account,
/// so the account's other jobs wait as long as this one (the platform's Retry-After, or the
/// backoff when it gave none) instead of each asking the platform again and spending an attempt.
fn after_call(shared: &Shared, job: &ClaimedJob, result: Result<Outcome>) -> Decision {
    let limited = account_limited(&result);
    let decision = after_publish(job, result, shared.now(), &shared.rules);
    if limited
        && let Completion::Retry { at, .. } | Completion::Throttled { at, .. } =
            &decision.completion
    {
        hold_account(shared, job, *at);
    }
    decision
}

/// A publish or resume that failed after one of its checkpoints could not be saved may have
/// failed *because* of it, after a creating call went out (TikTok's `init`, the last chunk):
/// only the platform can tell, so it is reconciled, never marked failed or sent again blindly.
/// An error that discards the checkpoint is taken as it is: the connector says nothing of the
/// attempt is live on the platform (it said so, or nothing was sent).
fn unsaved(sink: &JobCheckpointSink, result: Result<Outcome>) -> Result<Outcome> {
    match result {
        Err(e)
            if sink.failed()
                && e.kind() != cmis_core::ErrorKind::UnknownOutcome
                && !e.discards_checkpoint() =>
        {
            Err(Error::unknown_outcome(format!(
                "a checkpoint could not be saved during the publish, which then failed ({e}); \
                 the platform is checked before anything is sent again"
            ))
            .with_source(e))
        }
        other => other,
    }
}

/// Runs one job's platform call. No database transaction is open meanwhile.
async fn execute(shared: &Arc<Shared>, job: &ClaimedJob) -> Decision {
    let target = &job.job.target;
    let Some(publisher) = shared.publishers.get(&target.platform()) else {
        // Only a store that cannot filter claims by platform hands out such a job: it is put
        // back, without spending an attempt, for a process that has the platform's publisher.
        tracing::warn!(job = %job.job.id, platform = %target.platform(), "no publisher for this job's platform here; deferred");
        let at = cmis_core::after(shared.now(), NO_PUBLISHER_DEFER);
        return Decision {
            completion: defer(job, at),
            notify: None,
        };
    };
    let sink = Arc::new(JobCheckpointSink::new(
        Arc::clone(&shared.store),
        job.lease.clone(),
    ));
    let mut ctx = PublishContext::new(Arc::clone(&shared.tokens))
        .with_checkpoint_sink(Arc::clone(&sink) as Arc<dyn cmis_core::CheckpointSink>);
    if let Some(progress) = &shared.progress {
        let progress = Arc::clone(progress);
        let job_for_progress = job.job.clone();
        ctx = ctx.with_progress(Arc::new(move |p: &cmis_core::Progress| {
            progress.progress(&job_for_progress, p);
        }));
    }
    let rules = &shared.rules;
    match (job.phase, &job.job.checkpoint) {
        (Phase::Reconcile, cp) => {
            let r = publisher
                .reconcile(target, &job.job.post, cp.as_ref(), &ctx)
                .await;
            if account_limited(&r)
                && let Some(wait) = r.as_ref().err().and_then(Error::retry_after)
            {
                hold_account(shared, job, cmis_core::after(shared.now(), wait));
            }
            after_reconcile(job, r, shared.now(), rules)
        }
        (Phase::Resume, Some(cp)) => {
            let r = publisher.resume(target, cp, &ctx).await;
            with_unsaved(&sink, after_call(shared, job, unsaved(&sink, r)))
        }
        _ => {
            let r = publisher.publish(target, &job.job.post, &ctx).await;
            with_unsaved(&sink, after_call(shared, job, unsaved(&sink, r)))
        }
    }
}

/// An unknown outcome carries the checkpoint the connector could not save, if any, so that it
/// is stored with the outcome and reconciliation starts from where the call got to.
fn with_unsaved(sink: &JobCheckpointSink, mut decision: Decision) -> Decision {
    if let Completion::UnknownOutcome { checkpoint, .. } = &mut decision.completion
        && checkpoint.is_none()
    {
        *checkpoint = sink.unsaved();
    }
    decision
}

/// Writes outcomes in batches as they come; a failed write is retried (the write, never the
/// publish). Notifications go out once the outcome is stored.
async fn complete_loop(
    shared: Arc<Shared>,
    mut rx: mpsc::UnboundedReceiver<Done>,
    in_flight: InFlight,
    freed: Arc<tokio::sync::Notify>,
) {
    let max = shared.cfg.batch_size.max(64);
    // Two batches may be written at once, so that one's round trips overlap the other's.
    // Batches hold different jobs, and every write is fenced, so their order does not matter.
    let writers = Arc::new(tokio::sync::Semaphore::new(COMPLETION_WRITERS));
    let mut writes = JoinSet::new();
    loop {
        let mut buf = Vec::with_capacity(max);
        if rx.recv_many(&mut buf, max).await == 0 {
            break;
        }
        let Ok(permit) = Arc::clone(&writers).acquire_owned().await else {
            break;
        };
        let shared = Arc::clone(&shared);
        let in_flight = Arc::clone(&in_flight);
        let freed = Arc::clone(&freed);
        writes.spawn(async move {
            write_batch(&shared, buf, &in_flight, &freed).await;
            drop(permit);
        });
        while let Some(r) = writes.try_join_next() {
            log_join(r);
        }
    }
    while let Some(r) = writes.join_next().await {
        log_join(r);
    }
}

/// How long a job this process has no publisher for is put back.
const NO_PUBLISHER_DEFER: Duration = Duration::from_secs(60);

/// Completion batches written at the same time, at most.
const COMPLETION_WRITERS: usize = 2;

/// How long a completion write is retried while the database fails (not refuses) it. After
/// that its jobs are let go: their leases are no longer renewed, so they expire, and the
/// rescuer sends each to reconciliation. The worker's slots and its shutdown never wait longer.
const WRITE_PATIENCE: Duration = Duration::from_secs(60);

/// What became of one completion of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Written {
    /// Stored.
    Applied,
    /// Refused by its fence: another worker holds the job now.
    Rejected,
    /// Not stored: the database failed for longer than [`WRITE_PATIENCE`], or refused even the
    /// plain form of the outcome. The lease expires and the job is reconciled.
    Abandoned,
}

/// Writes one batch of outcomes (retrying the write, never the publish), then releases the
/// leases from the heartbeat and hands the notifications of the stored outcomes to the
/// notification loop.
async fn write_batch(
    shared: &Shared,
    buf: Vec<Done>,
    in_flight: &InFlight,
    freed: &tokio::sync::Notify,
) {
    // With a notifier configured, notifications go into the outbox in the outcome's own
    // transaction; otherwise the failures go to `tracing` once stored, and successes nowhere.
    let durable = shared.durable_notify;
    let batch: Vec<Done> = buf
        .iter()
        .map(|(l, c, n)| {
            (
                l.clone(),
                c.clone(),
                n.as_ref().filter(|_| durable).cloned(),
            )
        })
        .collect();
    let deadline = tokio::time::Instant::now() + WRITE_PATIENCE;
    let written = store_outcomes(shared, batch, deadline).await;
    {
        let mut held = lock(in_flight);
        for (l, _, _) in &buf {
            held.remove(l);
        }
    }
    freed.notify_one();
    shared.outcomes_written.notify_waiters();
    let mut notices = Vec::new();
    for (lease, completion, notify) in buf {
        let watched = super::observe::events_for(shared, &lease);
        match written.get(&lease).copied().unwrap_or(Written::Abandoned) {
            Written::Applied => {
                notices.extend(notify);
                if let Some(job) = watched {
                    super::observe::emit_job(shared, &lease, job, completion);
                }
            }
            Written::Rejected => {
                tracing::warn!(job = %lease.job, "outcome rejected: the lease was lost to another worker");
            }
            Written::Abandoned => {
                tracing::error!(job = %lease.job, "outcome could not be stored; the job is reconciled once its lease expires");
            }
        }
    }
    if durable {
        if !notices.is_empty() {
            shared.outbox_wake.notify_one();
        }
    } else {
        for n in notices {
            if n.kind != cmis_core::NotificationKind::Published {
                tracing::warn!(kind = n.kind.as_str(), subject = ?n.subject, "{}", n.message);
            }
        }
    }
}

/// Writes `batch` and says what became of each completion. A database that fails the write
/// is retried with backoff until `deadline`; a batch the database *refuses* (a value it
/// cannot store) is split until the refused completion is alone, which is then stored in its
/// plain form ([`plain`]), so that one bad outcome never holds back the others.
fn store_outcomes(
    shared: &Shared,
    batch: Vec<Done>,
    deadline: tokio::time::Instant,
) -> std::pin::Pin<Box<dyn Future<Output = HashMap<Lease, Written>> + Send + '_>> {
    Box::pin(async move {
        let mut wait = Duration::from_millis(50);
        loop {
            let error = match shared.store.complete_notifying(&batch).await {
                Ok(rejected) => {
                    let rejected: HashSet<Lease> = rejected.into_iter().map(|r| r.lease).collect();
                    return batch
                        .into_iter()
                        .map(|(l, _, _)| {
                            let w = if rejected.contains(&l) {
                                Written::Rejected
                            } else {
                                Written::Applied
                            };
                            (l, w)
                        })
                        .collect();
                }
                Err(e) => e,
            };
            if crate::stored::refused_by_database(&error) {
                if batch.len() > 1 {
                    tracing::warn!(error = %error, jobs = batch.len(), "the database refused a batch of outcomes; writing its halves apart");
                    let mut first = batch;
                    let second = first.split_off(first.len() / 2);
                    let mut out = store_outcomes(shared, first, deadline).await;
                    out.extend(store_outcomes(shared, second, deadline).await);
                    return out;
                }
                let Some((lease, completion, notify)) = batch.into_iter().next() else {
                    return HashMap::new();
                };
                tracing::warn!(error = %error, job = %lease.job, "the database refused an outcome; storing its plain form");
                let fallback = plain(shared, &completion, &error);
                let notify = notify.map(|mut n| {
                    n.message =
                        crate::stored::storable(&n.message, crate::stored::MAX_ERROR_MESSAGE);
                    n
                });
                let written = match shared
                    .store
                    .complete_notifying(&[(lease.clone(), fallback, notify)])
                    .await
                {
                    Ok(rejected) if rejected.is_empty() => Written::Applied,
                    Ok(_) => Written::Rejected,
                    Err(e) => {
                        tracing::error!(error = %e, job = %lease.job, "the database refused even the plain outcome");
                        Written::Abandoned
                    }
                };
                return HashMap::from([(lease, written)]);
            }
            if tokio::time::Instant::now() + wait > deadline {
                tracing::error!(error = %error, jobs = batch.len(), "recording outcomes failed for too long; letting their leases expire");
                return batch
                    .into_iter()
                    .map(|(l, _, _)| (l, Written::Abandoned))
                    .collect();
            }
            tracing::warn!(error = %error, jobs = batch.len(), "recording outcomes failed; retrying the write");
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(5));
        }
    })
}

/// The outcome `completion` in a form any database stores: a short error message, and no
/// receipt or checkpoint (a publish that may have happened is reconciled instead).
fn plain(shared: &Shared, completion: &Completion, refusal: &Error) -> Completion {
    let mut why = refusal.to_string();
    crate::stored::clip(&mut why, 300);
    let error = |kind: cmis_core::ErrorKind| JobError {
        kind,
        message: format!("the outcome's details could not be stored ({why})"),
        discard_checkpoint: false,
    };
    let reconcile = || Completion::UnknownOutcome {
        error: error(cmis_core::ErrorKind::UnknownOutcome),
        reconcile_at: Some(cmis_core::after(
            shared.now(),
            shared.rules.reconcile_interval,
        )),
        checkpoint: None,
    };
    match completion {
        Completion::Published(_) | Completion::Pending { .. } => reconcile(),
        Completion::UnknownOutcome {
            error: e,
            reconcile_at,
            ..
        } => Completion::UnknownOutcome {
            error: error(e.kind),
            reconcile_at: *reconcile_at,
            checkpoint: None,
        },
        Completion::Retry { at, error: e } => Completion::Retry {
            at: *at,
            error: error(e.kind),
        },
        Completion::Throttled { at, error: e } => Completion::Throttled {
            at: *at,
            error: error(e.kind),
        },
        Completion::AwaitingReauth { error: e } => Completion::AwaitingReauth {
            error: error(e.kind),
        },
        Completion::Failed { error: e } => Completion::Failed {
            error: error(e.kind),
        },
        Completion::Missed { error: e } => Completion::Missed {
            error: error(e.kind),
        },
        Completion::Snooze { at } => Completion::Snooze { at: *at },
    }
}

/// Renews the leases of jobs in flight every third of the lease.
async fn heartbeat_loop(shared: Arc<Shared>, in_flight: InFlight, mut stop: watch::Receiver<bool>) {
    let every = shared.cfg.lease / 3;
    let mut renewed = tokio::time::Instant::now();
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            () = tokio::time::sleep(every) => {}
        }
        if let Err(e) = shared.store.register_process(&shared.worker_id).await {
            tracing::warn!(error = %e, "renewing this process's registration failed");
        }
        let leases: Vec<Lease> = lock(&in_flight).keys().cloned().collect();
        if leases.is_empty() {
            renewed = tokio::time::Instant::now();
            continue;
        }
        // A lost lease (rescued by the leader, given to another worker) stops its task before
        // the connector's next call: the new holder reconciles, and two workers never drive
        // one publish at once. Its outcome is then written as unknown, and rejected.
        // A failed renewal is tried again soon (a dropped connection is replaced at once),
        // not a third of a lease later.
        let mut renewal = shared.store.heartbeat(&leases, shared.cfg.lease).await;
        for wait in [200, 400, 800] {
            if renewal.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(wait)).await;
            renewal = shared.store.heartbeat(&leases, shared.cfg.lease).await;
        }
        let lost: Vec<Lease> = match renewal {
            Ok(kept) => {
                renewed = tokio::time::Instant::now();
                let kept: HashSet<Lease> = kept.into_iter().collect();
                leases.into_iter().filter(|l| !kept.contains(l)).collect()
            }
            Err(e) if renewed.elapsed() >= shared.cfg.lease => {
                tracing::error!(error = %e, "leases could not be renewed for a whole lease; stopping their calls");
                leases
            }
            Err(e) => {
                tracing::warn!(error = %e, "renewing leases failed");
                Vec::new()
            }
        };
        if !lost.is_empty() {
            tracing::warn!(
                lost = lost.len(),
                "leases lost while publishing; stopping their calls"
            );
            let held = lock(&in_flight);
            for l in &lost {
                if let Some(Some(task)) = held.get(l) {
                    task.abort();
                }
            }
        }
    }
}
