//! Regression tests for fixes of the reliability review (December 2026) that had none: each
//! fails with its fix reverted. N10 (leadership renewed during a long sweep), N15 (cleanup
//! loops while batches are full), N18 (an outcome that cannot be encoded is reconciled, not
//! stored as NULL), the checkpoint sink's and the heartbeat's retries of a database blip, and
//! N6 (a failing claim backs off; a claim whose answer was lost is released, not reconciled).
//!
//! Everything runs on a paused tokio clock over the in-memory store, but N18, which needs a
//! database backend (the memory store keeps outcomes as values and never encodes them): it
//! runs on an in-memory SQLite database, with no timing in it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use cmis_core::{
    AccessToken, AccountRef, AuditRecord, Capabilities, Checkpoint, CheckpointSink, Credential,
    CredentialStore, Error, ErrorKind, MemoryCredentialStore, Notification, Outcome, Platform,
    Post, PostKey, PublishContext, Publisher, Receipt, Reconciliation, RefreshedToken,
    RefreshingTokenProvider, Result, SecretString, Surface, Target, TenantId, TokenProvider,
    TokenRefresher, TokioClock,
};
use cmis_scheduler::{
    AuditVerification, Change, ClaimedJob, Completion, Delivered, Delivery, Job, JobCheckpointSink,
    JobFilter, JobId, JobState, Lease, MemoryScheduleStore, NewPost, Phase, ProcessRecord,
    Rejected, ScheduleStore, Scheduler, SchedulerBuilder,
};
use time::OffsetDateTime;
use time::macros::datetime;

const T0: OffsetDateTime = datetime!(2026-06-01 12:00 UTC);

fn tenant() -> TenantId {
    TenantId::new("acme")
}

fn target() -> Target {
    Target::feed(AccountRef::new(
        TenantId::new("acme"),
        Platform::Facebook,
        "page",
    ))
}

fn receipt(id: &str) -> Receipt {
    Receipt::new(
        Platform::Facebook,
        "page".into(),
        cmis_core::PostId::new(id),
    )
}

fn blip(op: &str) -> Error {
    Error::internal(format!(
        "schedule store: error communicating with database: Connection reset by peer \
         (os error 104) [test: injected into {op}]"
    ))
}

/// A store that delegates everything to a [`MemoryScheduleStore`] and fails some calls on
/// demand, counting the calls it sees.
#[derive(Debug)]
struct Flaky {
    inner: Arc<MemoryScheduleStore>,
    /// The next this many `save_checkpoint` calls fail.
    fail_saves: AtomicUsize,
    /// Every `save_checkpoint` is refused as too large while set.
    refuse_saves: AtomicBool,
    saves: AtomicUsize,
    /// The next this many `heartbeat` calls fail.
    fail_heartbeats: AtomicUsize,
    heartbeats: AtomicUsize,
    /// Every `claim_started_on` fails while set.
    fail_claims: AtomicBool,
    /// The next this many claims that lease jobs are applied, and answer with an error.
    lose_claim_answers: AtomicUsize,
    /// When each `claim_started_on` call came.
    claims: Mutex<Vec<tokio::time::Instant>>,
    /// Notified when the claims become a flood (a busy loop).
    flood: tokio::sync::Notify,
    cleanups: Mutex<Vec<u64>>,
    /// Every owner that ever held a leadership.
    led: Mutex<std::collections::BTreeSet<String>>,
}

/// Claims that show a busy loop: far more than any backoff allows in the tests' stretches.
const FLOOD: usize = 1_000;

impl Flaky {
    fn new(inner: Arc<MemoryScheduleStore>) -> Arc<Self> {
        Arc::new(Self {
            inner,
            fail_saves: AtomicUsize::new(0),
            refuse_saves: AtomicBool::new(false),
            saves: AtomicUsize::new(0),
            fail_heartbeats: AtomicUsize::new(0),
            heartbeats: AtomicUsize::new(0),
            fail_claims: AtomicBool::new(false),
            lose_claim_answers: AtomicUsize::new(0),
            claims: Mutex::new(Vec::new()),
            flood: tokio::sync::Notify::new(),
            cleanups: Mutex::new(Vec::new()),
            led: Mutex::new(std::collections::BTreeSet::new()),
        })
    }

    /// Takes one from `counter` if it is above zero: whether this call fails.
    fn take(counter: &AtomicUsize) -> bool {
        counter
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }

    fn claims(&self) -> Vec<tokio::time::Instant> {
        self.claims.lock().unwrap().clone()
    }
}

#[async_trait]
impl ScheduleStore for Flaky {
    async fn schedule(
        &self,
        tenant: &TenantId,
        post_id: &PostKey,
        post: &Post,
        targets: &[Target],
        at: OffsetDateTime,
    ) -> Result<Vec<Job>> {
        self.inner
            .schedule(tenant, post_id, post, targets, at)
            .await
    }

    async fn schedule_many(&self, tenant: &TenantId, posts: &[NewPost]) -> Result<u64> {
        self.inner.schedule_many(tenant, posts).await
    }

    async fn get(&self, tenant: &TenantId, id: JobId) -> Result<Option<Job>> {
        self.inner.get(tenant, id).await
    }

    async fn list(&self, tenant: &TenantId, filter: &JobFilter) -> Result<Vec<Job>> {
        self.inner.list(tenant, filter).await
    }

    async fn reschedule(&self, tenant: &TenantId, id: JobId, at: OffsetDateTime) -> Result<Change> {
        self.inner.reschedule(tenant, id, at).await
    }

    async fn cancel(&self, tenant: &TenantId, id: JobId) -> Result<Change> {
        self.inner.cancel(tenant, id).await
    }

    async fn retry_now(&self, tenant: &TenantId, id: JobId) -> Result<Change> {
        self.inner.retry_now(tenant, id).await
    }

    async fn audit_trail(&self, tenant: &TenantId, job: Option<JobId>) -> Result<Vec<AuditRecord>> {
        self.inner.audit_trail(tenant, job).await
    }

    async fn verify_audit(&self, tenant: &TenantId) -> Result<AuditVerification> {
        self.inner.verify_audit(tenant).await
    }

    async fn claim(&self, owner: &str, limit: usize, lease: Duration) -> Result<Vec<ClaimedJob>> {
        self.inner.claim(owner, limit, lease).await
    }

    async fn mark_started(&self, leases: &[Lease]) -> Result<Vec<Lease>> {
        self.inner.mark_started(leases).await
    }

    async fn claim_started(
        &self,
        owner: &str,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<ClaimedJob>> {
        self.inner.claim_started(owner, limit, lease).await
    }

    async fn claim_started_on(
        &self,
        owner: &str,
        limit: usize,
        lease: Duration,
        platforms: &[Platform],
    ) -> Result<Vec<ClaimedJob>> {
        let calls = {
            let mut claims = self.claims.lock().unwrap();
            claims.push(tokio::time::Instant::now());
            claims.len()
        };
        if calls >= FLOOD {
            self.flood.notify_one();
        }
        if self.fail_claims.load(Ordering::SeqCst) {
            return Err(blip("claim_started_on"));
        }
        let claimed = self
            .inner
            .claim_started_on(owner, limit, lease, platforms)
            .await?;
        if !claimed.is_empty() && Self::take(&self.lose_claim_answers) {
            // Committed, but the answer never reaches the worker.
            return Err(blip("the answer of claim_started_on"));
        }
        Ok(claimed)
    }

    async fn release_unheld(&self, owner: &str, held: &[Lease]) -> Result<u64> {
        self.inner.release_unheld(owner, held).await
    }

    async fn heartbeat(&self, leases: &[Lease], lease: Duration) -> Result<Vec<Lease>> {
        self.heartbeats.fetch_add(1, Ordering::SeqCst);
        if Self::take(&self.fail_heartbeats) {
            return Err(blip("heartbeat"));
        }
        self.inner.heartbeat(leases, lease).await
    }

    async fn save_checkpoint(&self, lease: &Lease, checkpoint: &Checkpoint) -> Result<()> {
        self.saves.fetch_add(1, Ordering::SeqCst);
        if Self::take(&self.fail_saves) {
            return Err(blip("save_checkpoint"));
        }
        if self.refuse_saves.load(Ordering::SeqCst) {
            // As the stores refuse a checkpoint over MAX_CHECKPOINT_BYTES, before writing.
            return Err(Error::invalid_input(
                "the checkpoint is too large to store [test: injected]",
            ));
        }
        self.inner.save_checkpoint(lease, checkpoint).await
    }

    async fn complete(&self, completions: &[(Lease, Completion)]) -> Result<Vec<Rejected>> {
        self.inner.complete(completions).await
    }

    async fn complete_notifying(
        &self,
        completions: &[(Lease, Completion, Option<Notification>)],
    ) -> Result<Vec<Rejected>> {
        self.inner.complete_notifying(completions).await
    }

    async fn enqueue(&self, notifications: &[Notification]) -> Result<()> {
        self.inner.enqueue(notifications).await
    }

    async fn claim_deliveries(
        &self,
        owner: &str,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<Delivery>> {
        self.inner.claim_deliveries(owner, limit, lease).await
    }

    async fn settle_deliveries(&self, owner: &str, results: &[(i64, Delivered)]) -> Result<()> {
        self.inner.settle_deliveries(owner, results).await
    }

    async fn undelivered(&self) -> Result<u64> {
        self.inner.undelivered().await
    }

    async fn rescue_expired(&self, limit: usize) -> Result<Vec<Job>> {
        self.inner.rescue_expired(limit).await
    }

    async fn next_due(&self) -> Result<Option<OffsetDateTime>> {
        self.inner.next_due().await
    }

    async fn next_due_on(&self, platforms: &[Platform]) -> Result<Option<OffsetDateTime>> {
        self.inner.next_due_on(platforms).await
    }

    async fn try_lead(&self, name: &str, owner: &str, ttl: Duration) -> Result<bool> {
        let leads = self.inner.try_lead(name, owner, ttl).await?;
        if leads {
            self.led.lock().unwrap().insert(owner.to_owned());
        }
        Ok(leads)
    }

    async fn resign(&self, name: &str, owner: &str) -> Result<()> {
        self.inner.resign(name, owner).await
    }

    async fn cleanup(&self, before: OffsetDateTime, limit: usize) -> Result<u64> {
        let moved = self.inner.cleanup(before, limit).await?;
        self.cleanups.lock().unwrap().push(moved);
        Ok(moved)
    }

    async fn register_process(&self, id: &str) -> Result<()> {
        self.inner.register_process(id).await
    }

    async fn processes(&self) -> Result<Vec<ProcessRecord>> {
        self.inner.processes().await
    }

    fn clock_offset(&self) -> time::Duration {
        self.inner.clock_offset()
    }

    fn wake_signal(&self) -> Arc<tokio::sync::Notify> {
        self.inner.wake_signal()
    }
}

type OnPublish = Box<dyn Fn() + Send + Sync>;

/// A Facebook publisher whose publish takes `delay` and publishes; it records every call.
struct Fake {
    delay: Duration,
    ops: Mutex<Vec<&'static str>>,
    /// Runs as each publish starts.
    on_publish: OnPublish,
}

impl std::fmt::Debug for Fake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Fake")
    }
}

impl Fake {
    fn new(delay: Duration, on_publish: OnPublish) -> Arc<Self> {
        Arc::new(Self {
            delay,
            ops: Mutex::new(Vec::new()),
            on_publish,
        })
    }

    fn ops(&self) -> Vec<&'static str> {
        self.ops.lock().unwrap().clone()
    }
}

#[async_trait]
impl Publisher for Fake {
    fn platform(&self) -> Platform {
        Platform::Facebook
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::new(vec![Surface::Feed], 10, true)
    }
    async fn validate(&self, _: &Target, _: &Post) -> Result<()> {
        Ok(())
    }
    async fn publish(&self, _: &Target, _: &Post, _: &PublishContext) -> Result<Outcome> {
        self.ops.lock().unwrap().push("publish");
        (self.on_publish)();
        tokio::time::sleep(self.delay).await;
        Ok(Outcome::Published(receipt("fb-1")))
    }
    async fn resume(&self, _: &Target, _: &Checkpoint, _: &PublishContext) -> Result<Outcome> {
        self.ops.lock().unwrap().push("resume");
        Ok(Outcome::Published(receipt("fb-resumed")))
    }
    async fn reconcile(
        &self,
        _: &Target,
        _: &Post,
        _: Option<&Checkpoint>,
        _: &PublishContext,
    ) -> Result<Reconciliation> {
        self.ops.lock().unwrap().push("reconcile");
        Ok(Reconciliation::Unknown)
    }
}

/// Tokens are never needed by the fake publisher.
struct NoTokens;

#[async_trait]
impl TokenProvider for NoTokens {
    async fn access_token(&self, _: &AccountRef) -> Result<AccessToken> {
        Err(Error::unsupported("no tokens in this test"))
    }
    async fn invalidate(&self, _: &AccountRef, _: &AccessToken) {}
}

/// A running scheduler, stopped (and awaited) by [`Running::stop`].
struct Running {
    stop: tokio::sync::oneshot::Sender<()>,
    handle: tokio::task::JoinHandle<Result<()>>,
}

impl Running {
    async fn stop(self) {
        let _ = self.stop.send(());
        self.handle.await.unwrap().unwrap();
    }
}

/// A scheduler's builder over `store`, with `fake` for Facebook, on `clock`.
fn builder(
    store: Arc<dyn ScheduleStore>,
    fake: Arc<Fake>,
    clock: Arc<TokioClock>,
) -> SchedulerBuilder {
    Scheduler::builder(store)
        .publisher(fake)
        .tokens(Arc::new(NoTokens))
        .clock(clock)
        .poll_interval(Duration::from_millis(100))
}

fn run(scheduler: Scheduler) -> Running {
    let (stop, rx) = tokio::sync::oneshot::channel();
    let handle = tokio::spawn(async move {
        scheduler
            .run(async {
                let _ = rx.await;
            })
            .await
    });
    Running { stop, handle }
}

async fn schedule(store: &dyn ScheduleStore, post: &str, at: OffsetDateTime) -> JobId {
    store
        .schedule(
            &tenant(),
            &PostKey::new(post),
            &Post::new().with_text(post),
            &[target()],
            at,
        )
        .await
        .unwrap()[0]
        .id
}

async fn job(store: &dyn ScheduleStore, id: JobId) -> Job {
    store.get(&tenant(), id).await.unwrap().unwrap()
}

async fn actions(store: &dyn ScheduleStore, id: JobId) -> Vec<String> {
    store
        .audit_trail(&tenant(), Some(id))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.action)
        .collect()
}

/// Lets (virtual) time pass until job `id` is `state`, at most `within`.
async fn wait_for(store: &dyn ScheduleStore, id: JobId, state: JobState, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let now = job(store, id).await;
        if now.state == state {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "job {id} is {:?}, not {state:?}, after {within:?}; audit {:?}",
            now.state,
            actions(store, id).await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// N10: leadership is renewed during a long refresh sweep.

/// A TikTok token endpoint that takes `per_call` per refresh and counts refreshes per account.
/// Its tokens live 24 h, inside the 7-day refresh window: a second sweep would refresh (and,
/// on TikTok, rotate) every one of them again.
struct SlowEndpoint {
    per_call: Duration,
    refreshes: Mutex<HashMap<String, usize>>,
}

#[async_trait]
impl TokenRefresher for SlowEndpoint {
    fn platform(&self) -> Platform {
        Platform::TikTok
    }
    async fn refresh(&self, current: &Credential) -> Result<RefreshedToken> {
        *self
            .refreshes
            .lock()
            .unwrap()
            .entry(current.account.account.to_string())
            .or_default() += 1;
        tokio::time::sleep(self.per_call).await;
        Ok(RefreshedToken::new(SecretString::from("act.new"))
            .with_refresh_token(SecretString::from("rft.new"))
            .with_expires_in(Duration::from_secs(24 * 3600)))
    }
}

/// Credentials for `accounts`, all expiring in a day, in one shared store.
async fn expiring_credentials(accounts: &[&str]) -> Arc<MemoryCredentialStore> {
    let creds = Arc::new(MemoryCredentialStore::new());
    for a in accounts {
        creds
            .put_credential(
                Credential::new(
                    AccountRef::new(TenantId::new("acme"), Platform::TikTok, *a),
                    SecretString::from("act.old"),
                )
                .with_refresh_token(SecretString::from("rft.old"))
                .with_access_expires_at(T0 + Duration::from_secs(24 * 3600)),
            )
            .await
            .unwrap();
    }
    creds
}

/// A process `id` on `store` whose leader sweeps `creds` through `endpoint` (1 s maintenance
/// interval, so a 3 s leadership TTL), with a token provider of its own.
fn sweeping_process(
    id: &str,
    store: Arc<dyn ScheduleStore>,
    creds: &Arc<MemoryCredentialStore>,
    endpoint: &Arc<SlowEndpoint>,
    clock: &Arc<TokioClock>,
) -> Running {
    let tokens = RefreshingTokenProvider::builder(creds.clone() as Arc<dyn CredentialStore>)
        .refresher(endpoint.clone())
        .clock(clock.clone())
        .build();
    let scheduler = builder(
        store,
        Fake::new(Duration::ZERO, Box::new(|| {})),
        clock.clone(),
    )
    .worker_id(id)
    .refreshing_tokens(tokens)
    .maintenance_interval(Duration::from_secs(1))
    .sweep_interval(Duration::from_secs(24 * 3600))
    .build()
    .unwrap();
    run(scheduler)
}

/// Review N10: two processes share one database; the leader's sweep of 20 accounts (2 s each,
/// 40 s in all) outlasts the leadership's TTL (3 × the 1 s maintenance interval) many times
/// over. The leader renews its leadership as it goes, so the other process never takes over
/// mid-sweep and sweeps the same accounts again: every account is refreshed once. (One memory
/// store stands for the shared database, leadership included: SQLite's I/O, on threads of its
/// own, would let the paused clock jump while a statement runs.)
#[tokio::test(start_paused = true)]
async fn a_long_refresh_sweep_keeps_its_leadership_and_refreshes_each_account_once() {
    let clock = Arc::new(TokioClock::starting_at(T0));
    // One database (jobs, leadership and credentials) for both processes.
    let store = Arc::new(MemoryScheduleStore::with_clock(clock.clone()));
    let accounts: Vec<String> = (0..20).map(|i| format!("creator-{i}")).collect();
    let names: Vec<&str> = accounts.iter().map(String::as_str).collect();
    let creds = expiring_credentials(&names).await;
    let endpoint = Arc::new(SlowEndpoint {
        per_call: Duration::from_secs(2),
        refreshes: Mutex::new(HashMap::new()),
    });
    // Each process has its own token provider, as separate processes would.
    let a = sweeping_process("process-a", store.clone(), &creds, &endpoint, &clock);
    let b = sweeping_process("process-b", store.clone(), &creds, &endpoint, &clock);
    // Time for the sweep (40 s) twice over, and more.
    tokio::time::sleep(Duration::from_secs(120)).await;
    a.stop().await;
    b.stop().await;
    let refreshes = endpoint.refreshes.lock().unwrap().clone();
    let twice: Vec<(&String, &usize)> = refreshes.iter().filter(|(_, n)| **n != 1).collect();
    assert!(
        twice.is_empty(),
        "accounts not refreshed exactly once (sweeps overlapped): {twice:?}"
    );
    assert_eq!(
        refreshes.len(),
        accounts.len(),
        "every account is refreshed: {refreshes:?}"
    );
}

/// Review N10, the rest: one refresh (12 s: OAuth calls may take up to two minutes) outlasts
/// the leadership's TTL (3 s) by itself. The leader renews its leadership while the call runs,
/// so the other process never takes over in the middle of it.
#[tokio::test(start_paused = true)]
async fn one_refresh_longer_than_the_leadership_ttl_keeps_the_leadership() {
    let clock = Arc::new(TokioClock::starting_at(T0));
    let inner = Arc::new(MemoryScheduleStore::with_clock(clock.clone()));
    let store = Flaky::new(inner);
    let creds = expiring_credentials(&["creator-0", "creator-1"]).await;
    let endpoint = Arc::new(SlowEndpoint {
        per_call: Duration::from_secs(12),
        refreshes: Mutex::new(HashMap::new()),
    });
    let a = sweeping_process("process-a", store.clone(), &creds, &endpoint, &clock);
    let b = sweeping_process("process-b", store.clone(), &creds, &endpoint, &clock);
    tokio::time::sleep(Duration::from_secs(60)).await;
    a.stop().await;
    b.stop().await;
    let led = store.led.lock().unwrap().clone();
    assert_eq!(
        led.len(),
        1,
        "leadership changed hands mid-refresh: {led:?}"
    );
    let refreshes = endpoint.refreshes.lock().unwrap().clone();
    assert_eq!(refreshes.len(), 2, "{refreshes:?}");
    assert!(refreshes.values().all(|n| *n == 1), "{refreshes:?}");
}

// ---------------------------------------------------------------------------------------------
// N15: cleanup moves every finished job in one round, batch after batch.

/// Review N15: 2 500 finished jobs, more than two cleanup batches (1 000 each). One
/// maintenance round moves them all to history, in three statements, instead of one batch
/// per round.
#[tokio::test(start_paused = true)]
async fn one_maintenance_round_moves_every_finished_job_to_history() {
    const FINISHED: usize = 2_500;
    let clock = Arc::new(TokioClock::starting_at(T0));
    let inner = Arc::new(MemoryScheduleStore::with_clock(clock.clone()));
    let store = Flaky::new(inner.clone());
    let posts: Vec<NewPost> = (0..FINISHED)
        .map(|i| {
            NewPost::new(
                PostKey::new(format!("p{i}")),
                Post::new().with_text("x"),
                vec![target()],
                T0,
            )
        })
        .collect();
    assert_eq!(
        inner.schedule_many(&tenant(), &posts).await.unwrap(),
        FINISHED as u64
    );
    let claimed = inner
        .claim_started("gone", FINISHED, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(claimed.len(), FINISHED);
    let failed: Vec<(Lease, Completion)> = claimed
        .iter()
        .map(|c| {
            let error = cmis_scheduler::JobError::new(ErrorKind::Rejected, "refused");
            (c.lease.clone(), Completion::Failed { error })
        })
        .collect();
    assert!(inner.complete(&failed).await.unwrap().is_empty());
    // The jobs age past the history cutoff.
    tokio::time::sleep(Duration::from_secs(2 * 3600)).await;

    let fake = Fake::new(Duration::ZERO, Box::new(|| {}));
    let scheduler = builder(store.clone(), fake, clock)
        .history_after(Duration::from_secs(3600))
        // One round in the stretch below: the first, at start.
        .maintenance_interval(Duration::from_secs(3600))
        .build()
        .unwrap();
    let running = run(scheduler);
    tokio::time::sleep(Duration::from_secs(10)).await;
    running.stop().await;

    // Every job is in history: a finished job there refuses any change (a failed job in the
    // hot table could be retried).
    let mut movable = 0;
    for c in &claimed {
        if inner
            .retry_now(&tenant(), c.job.id)
            .await
            .unwrap()
            .is_applied()
        {
            movable += 1;
        }
    }
    assert_eq!(
        movable, 0,
        "finished jobs still in the hot table after one round"
    );
    let cleanups = store.cleanups.lock().unwrap().clone();
    assert_eq!(
        cleanups,
        [1_000, 1_000, 500],
        "one round, batches while they come back full"
    );
}

// ---------------------------------------------------------------------------------------------
// N18: an outcome whose receipt or checkpoint cannot be encoded is reconciled, never stored as
// NULL.

/// Review N18 on SQLite (the memory store keeps outcomes as values; the database stores encode
/// them with `plan::completion_row`). A third-party connector's receipt or checkpoint whose
/// time RFC 3339 cannot write (a UTC offset with seconds) cannot be encoded. Stored without it,
/// a publish would read as published with no receipt, and a pending publish would lose its
/// checkpoint, so that the next claim publishes it again from the start. Both become unknown
/// outcomes, checked with the platform at once.
#[cfg(feature = "sqlite")]
#[tokio::test]
async fn an_outcome_that_cannot_be_encoded_is_reconciled_not_dropped() {
    let store = cmis_scheduler::SqliteStore::builder()
        .in_memory()
        .encryption_key(cmis_scheduler::TokenKey::from_bytes([7; 32]))
        .build()
        .await
        .unwrap();
    let odd =
        datetime!(2026-06-01 12:00 UTC).to_offset(time::UtcOffset::from_hms(1, 0, 30).unwrap());
    let mut bad_receipt = receipt("fb-odd");
    bad_receipt.published_at = odd;
    assert!(serde_json::to_string(&bad_receipt).is_err());
    let mut bad_checkpoint = Checkpoint::new(Platform::Facebook, "uploading", &"s-1").unwrap();
    bad_checkpoint.created_at = odd;
    assert!(serde_json::to_string(&bad_checkpoint).is_err());

    let due = OffsetDateTime::now_utc() - Duration::from_secs(60);
    let published = schedule(&store, "published", due).await;
    let pending = schedule(&store, "pending", due).await;
    let claimed = store
        .claim_started("w", 10, Duration::from_secs(300))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 2);
    let lease = |id: JobId| {
        claimed
            .iter()
            .find(|c| c.job.id == id)
            .unwrap()
            .lease
            .clone()
    };
    let rejected = store
        .complete(&[
            (lease(published), Completion::Published(bad_receipt)),
            (
                lease(pending),
                Completion::Pending {
                    checkpoint: bad_checkpoint,
                    resume_at: due,
                },
            ),
        ])
        .await
        .unwrap();
    assert!(rejected.is_empty());
    let mut stored = Vec::new();
    for id in [published, pending] {
        let j = job(&store, id).await;
        stored.push((
            j.state,
            j.receipt.is_some(),
            j.checkpoint.is_some(),
            j.run_at.is_some(),
            j.last_error
                .map(|e| (e.kind, e.message.contains("cannot be stored"))),
        ));
    }
    let unknown = (
        JobState::UnknownOutcome,
        false,
        false,
        true,
        Some((ErrorKind::UnknownOutcome, true)),
    );
    assert_eq!(
        stored,
        [unknown, unknown],
        "(state, receipt?, checkpoint?, run_at?, error) of the published and the pending job"
    );
    // The next claim checks the platform; it never publishes again blindly.
    let again = store
        .claim_started("w", 10, Duration::from_secs(300))
        .await
        .unwrap();
    let phases: Vec<Phase> = again.iter().map(|c| c.phase).collect();
    assert_eq!(phases, [Phase::Reconcile, Phase::Reconcile]);
}

// ---------------------------------------------------------------------------------------------
// The checkpoint sink rides out a database blip.

async fn claimed_job(store: &MemoryScheduleStore) -> (JobId, Lease) {
    let id = schedule(store, "p", T0).await;
    let claimed = store
        .claim_started("w", 1, Duration::from_secs(30))
        .await
        .unwrap();
    (id, claimed[0].lease.clone())
}

/// A checkpoint save that fails twice (a database blip: dropped connections) is tried again
/// within a second and succeeds; the sink does not report a failed save (which would send the
/// publish to reconciliation). A save that keeps failing gives up within a second.
#[tokio::test(start_paused = true)]
async fn a_checkpoint_save_rides_out_a_database_blip() {
    let clock = Arc::new(TokioClock::starting_at(T0));
    let inner = Arc::new(MemoryScheduleStore::with_clock(clock));
    let (id, lease) = claimed_job(&inner).await;
    let store = Flaky::new(inner.clone());
    store.fail_saves.store(2, Ordering::SeqCst);
    let sink = JobCheckpointSink::new(store.clone(), lease.clone());
    let checkpoint = Checkpoint::new(Platform::Facebook, "uploading", &"s-1").unwrap();
    let started = tokio::time::Instant::now();
    sink.save(&checkpoint)
        .await
        .expect("a blip does not fail the save");
    assert!(!sink.failed(), "a save that succeeded is no failed save");
    assert_eq!(store.saves.load(Ordering::SeqCst), 3);
    assert!(started.elapsed() < Duration::from_secs(1));
    let stored = job(&*inner, id).await.checkpoint.map(|c| c.stage);
    assert_eq!(stored.as_deref(), Some("uploading"));

    // A database that stays down: the sink gives up, briefly, and says so.
    store.saves.store(0, Ordering::SeqCst);
    store.fail_saves.store(usize::MAX, Ordering::SeqCst);
    let sink = JobCheckpointSink::new(store.clone(), lease);
    let started = tokio::time::Instant::now();
    assert!(sink.save(&checkpoint).await.is_err());
    assert!(sink.failed());
    assert_eq!(store.saves.load(Ordering::SeqCst), 5);
    assert!(started.elapsed() < Duration::from_secs(1));
}

/// A checkpoint the store refuses for what it is (too large: `InvalidInput`) is not tried
/// again, and is the connector's to report: the sink does not mark a failed save.
#[tokio::test(start_paused = true)]
async fn a_checkpoint_refused_as_too_large_is_not_tried_again() {
    let clock = Arc::new(TokioClock::starting_at(T0));
    let inner = Arc::new(MemoryScheduleStore::with_clock(clock));
    let (id, lease) = claimed_job(&inner).await;
    let store = Flaky::new(inner.clone());
    store.refuse_saves.store(true, Ordering::SeqCst);
    let sink = JobCheckpointSink::new(store.clone(), lease);
    let checkpoint = Checkpoint::new(Platform::Facebook, "huge", &"s-1").unwrap();
    let started = tokio::time::Instant::now();
    let refused = sink.save(&checkpoint).await.unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::InvalidInput);
    assert_eq!(store.saves.load(Ordering::SeqCst), 1, "not tried again");
    assert_eq!(started.elapsed(), Duration::ZERO);
    assert!(!sink.failed());
    assert!(job(&*inner, id).await.checkpoint.is_none());
}

// ---------------------------------------------------------------------------------------------
// The heartbeat rides out a database blip.

/// A lease renewal that fails on three calls in a row (a pool handing out its dropped
/// connections one by one) is tried again within the same heartbeat, so the lease is kept:
/// the publish, which takes two leases, finishes and is stored once, never stopped and sent to
/// reconciliation.
#[tokio::test(start_paused = true)]
async fn a_lease_renewal_that_fails_briefly_keeps_the_lease() {
    let clock = Arc::new(TokioClock::starting_at(T0));
    let inner = Arc::new(MemoryScheduleStore::with_clock(clock.clone()));
    let store = Flaky::new(inner.clone());
    let arm = Arc::clone(&store);
    let fake = Fake::new(
        Duration::from_secs(60),
        Box::new(move || arm.fail_heartbeats.store(3, Ordering::SeqCst)),
    );
    let scheduler = builder(store.clone(), fake.clone(), clock)
        .lease(Duration::from_secs(30))
        .build()
        .unwrap();
    let running = run(scheduler);
    let id = schedule(&*store, "p", T0).await;
    wait_for(&*store, id, JobState::Published, Duration::from_secs(120)).await;
    running.stop().await;
    assert_eq!(
        store.fail_heartbeats.load(Ordering::SeqCst),
        0,
        "the failures were seen"
    );
    assert_eq!(fake.ops(), ["publish"]);
    assert_eq!(
        actions(&*store, id).await,
        ["job.scheduled", "job.published"]
    );
}

// ---------------------------------------------------------------------------------------------
// N6: claims back off while they fail; a claim whose answer was lost is released.

/// Review N6: a claim that keeps failing while a job is due does not spin. Over a minute the
/// claims come 100 ms apart, then ever further apart, at most 5 s; once the database is back
/// the job is published (once) within the backoff.
#[tokio::test(start_paused = true)]
async fn a_failing_claim_backs_off_and_recovers() {
    let clock = Arc::new(TokioClock::starting_at(T0));
    let inner = Arc::new(MemoryScheduleStore::with_clock(clock.clone()));
    let store = Flaky::new(inner.clone());
    store.fail_claims.store(true, Ordering::SeqCst);
    let id = schedule(&*store, "p", T0).await;
    let fake = Fake::new(Duration::ZERO, Box::new(|| {}));
    let scheduler = builder(store.clone(), fake.clone(), clock)
        .maintenance(false)
        .build()
        .unwrap();
    let started = tokio::time::Instant::now();
    let running = run(scheduler);
    tokio::select! {
        () = tokio::time::sleep(Duration::from_secs(60)) => {}
        () = store.flood.notified() => panic!(
            "{FLOOD} claims after {:?} of a minute: the failing claim is retried in a busy loop",
            started.elapsed()
        ),
    }
    let claims = store.claims();
    // 100, 200, 400 ... 3 200 ms, then every 5 s: 17 claims in the minute.
    assert!(
        (10..=20).contains(&claims.len()),
        "{} claims in a minute",
        claims.len()
    );
    let gaps: Vec<Duration> = claims.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        gaps.iter().all(|g| *g >= Duration::from_millis(100)),
        "{gaps:?}"
    );
    assert!(
        gaps.windows(2).all(|w| w[1] >= w[0]),
        "the waits grow: {gaps:?}"
    );
    assert!(
        gaps.iter().all(|g| *g <= Duration::from_millis(5_010)),
        "at most 5 s: {gaps:?}"
    );
    assert_eq!(job(&*store, id).await.state, JobState::Scheduled);

    // The database is back: the job is published within the backoff.
    store.fail_claims.store(false, Ordering::SeqCst);
    wait_for(&*store, id, JobState::Published, Duration::from_secs(6)).await;
    running.stop().await;
    assert_eq!(fake.ops(), ["publish"]);
}

/// Review N6: the database applied a claim (the job is leased to this worker and marked
/// started) but its answer was lost. The worker releases the job before it claims again, so
/// it is published at once, once, instead of waiting for its lease to run out and then being
/// reconciled as a call that may have been made.
#[tokio::test(start_paused = true)]
async fn a_claim_whose_answer_was_lost_is_released_and_published_once() {
    let clock = Arc::new(TokioClock::starting_at(T0));
    let inner = Arc::new(MemoryScheduleStore::with_clock(clock.clone()));
    let store = Flaky::new(inner.clone());
    store.lose_claim_answers.store(1, Ordering::SeqCst);
    let id = schedule(&*store, "p", T0).await;
    let fake = Fake::new(Duration::ZERO, Box::new(|| {}));
    let scheduler = builder(store.clone(), fake.clone(), clock)
        .lease(Duration::from_secs(30))
        .maintenance_interval(Duration::from_secs(1))
        .build()
        .unwrap();
    let running = run(scheduler);
    // Well within the lease: not rescued, released.
    wait_for(&*store, id, JobState::Published, Duration::from_secs(5)).await;
    running.stop().await;
    assert_eq!(store.lose_claim_answers.load(Ordering::SeqCst), 0);
    assert_eq!(fake.ops(), ["publish"]);
    let j = job(&*store, id).await;
    assert_eq!(j.attempts, 1, "the lost claim's attempt was given back");
    assert_eq!(
        actions(&*store, id).await,
        ["job.scheduled", "job.released", "job.published"]
    );
}
