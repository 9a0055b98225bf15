//! Drains N jobs due now through the full scheduler path (batched claim with lease and fencing
//! token, start record, a no-op publisher, batched fenced completion with its audit record) and
//! prints `jobs=N seconds=S jobs_per_sec=R`. The clock stops when the last completion is
//! written.
//!
//! ```text
//! cargo run --release -p cmis-benches --bin queue-drain -- \
//!     --store sqlite|postgres --url URL --jobs N --workers W [--batch B] [--schedulers L] \
//!     [--notifier none|hang]
//! ```
//! SQLite: `--url` is a path to a new file. PostgreSQL: a fresh schema is created in the
//! database and dropped afterwards.
//!
//! `--notifier hang` gives the schedulers a `WebhookNotifier` to a local receiver that accepts
//! connections and never answers: every completion also writes its notification into the
//! outbox, and every delivery attempt times out (after 5 s; retries back off to at most 5 s).
//! The drain must not slow down for it.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use cmis_benches::{BenchStore, NoTokens, run_bench};
use cmis_core::{
    AccountRef, Capabilities, Checkpoint, Error, Outcome, Platform, Post, PostKey, PublishContext,
    Publisher, Receipt, Result, Surface, Target, TenantId,
};
use cmis_core::{AuditRecord, Notification, SecretString, TenantId as Tenant};
use cmis_scheduler::{
    AuditVerification, Change, ClaimedJob, Completion, Delivered, Delivery, DeliveryPolicy, Job,
    JobId, Lease, Rejected, WebhookNotifier,
};
use cmis_scheduler::{JobFilter, NewPost, ScheduleStore, Scheduler};

struct Args {
    store: String,
    url: String,
    jobs: u64,
    workers: usize,
    batch: usize,
    schedulers: usize,
    hang: bool,
}

fn parse() -> std::result::Result<Args, lexopt::Error> {
    use lexopt::prelude::*;
    let mut args = Args {
        store: "sqlite".into(),
        url: String::new(),
        jobs: 100_000,
        workers: 256,
        batch: 512,
        schedulers: 1,
        hang: false,
    };
    let mut p = lexopt::Parser::from_env();
    while let Some(arg) = p.next()? {
        match arg {
            Long("store") => args.store = p.value()?.string()?,
            Long("url") => args.url = p.value()?.string()?,
            Long("jobs") => args.jobs = p.value()?.parse()?,
            Long("workers") => args.workers = p.value()?.parse()?,
            Long("batch") => args.batch = p.value()?.parse()?,
            Long("schedulers") => args.schedulers = p.value()?.parse()?,
            Long("notifier") => {
                args.hang = match p.value()?.string()?.as_str() {
                    "none" => false,
                    "hang" => true,
                    other => {
                        return Err(
                            format!("--notifier must be none or hang, not {other:?}").into()
                        );
                    }
                };
            }
            _ => return Err(arg.unexpected()),
        }
    }
    Ok(args)
}

/// Publishes nothing and answers at once, counting calls.
#[derive(Debug, Default)]
struct Noop {
    calls: AtomicU64,
}

#[async_trait]
impl Publisher for Noop {
    fn platform(&self) -> Platform {
        Platform::Facebook
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::new(vec![Surface::Feed], 10, true)
    }
    async fn validate(&self, _: &Target, _: &Post) -> Result<()> {
        Ok(())
    }
    async fn publish(&self, target: &Target, _: &Post, _: &PublishContext) -> Result<Outcome> {
        let n = self.calls.fetch_add(1, Ordering::Relaxed);
        Ok(Outcome::Published(Receipt::new(
            Platform::Facebook,
            target.account.account.clone(),
            cmis_core::PostId::new(format!("noop-{n}")),
        )))
    }
    async fn resume(&self, _: &Target, _: &Checkpoint, _: &PublishContext) -> Result<Outcome> {
        Err(Error::unsupported(
            "the no-op publisher never leaves a job pending",
        ))
    }
}

/// A receiver that accepts connections and never answers: each is read until its client gives
/// up. Returns its URL.
async fn hanging_receiver() -> Result<cmis_core::url::Url> {
    use tokio::io::AsyncReadExt as _;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(|e| Error::internal(format!("cannot bind the receiver: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::internal(format!("no receiver address: {e}")))?;
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                while matches!(socket.read(&mut buf).await, Ok(n) if n > 0) {}
            });
        }
    });
    cmis_core::url::Url::parse(&format!("http://{addr}/hooks"))
        .map_err(|e| Error::internal(format!("bad receiver URL: {e}")))
}

/// The store, counting applied completions and noting when the last one was written.
#[derive(Debug)]
struct Counted {
    inner: Arc<dyn ScheduleStore>,
    target: u64,
    applied: AtomicU64,
    done: std::sync::OnceLock<Instant>,
}

impl Counted {
    fn count(&self, r: &Result<Vec<Rejected>>, n: usize) {
        if let Ok(rejected) = r {
            let applied = (n - rejected.len()) as u64;
            if self.applied.fetch_add(applied, Ordering::Relaxed) + applied >= self.target {
                let _ = self.done.set(Instant::now());
            }
        }
    }
}

#[async_trait]
impl ScheduleStore for Counted {
    async fn schedule(
        &self,
        tenant: &Tenant,
        post_id: &PostKey,
        post: &Post,
        targets: &[Target],
        at: time::OffsetDateTime,
    ) -> Result<Vec<Job>> {
        self.inner
            .schedule(tenant, post_id, post, targets, at)
            .await
    }
    async fn schedule_many(&self, tenant: &Tenant, posts: &[NewPost]) -> Result<u64> {
        self.inner.schedule_many(tenant, posts).await
    }
    async fn get(&self, tenant: &Tenant, id: JobId) -> Result<Option<Job>> {
        self.inner.get(tenant, id).await
    }
    async fn list(&self, tenant: &Tenant, filter: &JobFilter) -> Result<Vec<Job>> {
        self.inner.list(tenant, filter).await
    }
    async fn reschedule(&self, t: &Tenant, id: JobId, at: time::OffsetDateTime) -> Result<Change> {
        self.inner.reschedule(t, id, at).await
    }
    async fn cancel(&self, tenant: &Tenant, id: JobId) -> Result<Change> {
        self.inner.cancel(tenant, id).await
    }
    async fn retry_now(&self, tenant: &Tenant, id: JobId) -> Result<Change> {
        self.inner.retry_now(tenant, id).await
    }
    async fn audit_trail(&self, tenant: &Tenant, job: Option<JobId>) -> Result<Vec<AuditRecord>> {
        self.inner.audit_trail(tenant, job).await
    }
    async fn verify_audit(&self, tenant: &Tenant) -> Result<AuditVerification> {
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
        self.inner
            .claim_started_on(owner, limit, lease, platforms)
            .await
    }
    async fn release_unheld(&self, owner: &str, held: &[Lease]) -> Result<u64> {
        self.inner.release_unheld(owner, held).await
    }
    async fn heartbeat(&self, leases: &[Lease], lease: Duration) -> Result<Vec<Lease>> {
        self.inner.heartbeat(leases, lease).await
    }
    async fn save_checkpoint(&self, lease: &Lease, checkpoint: &Checkpoint) -> Result<()> {
        self.inner.save_checkpoint(lease, checkpoint).await
    }
    async fn complete(&self, completions: &[(Lease, Completion)]) -> Result<Vec<Rejected>> {
        let r = self.inner.complete(completions).await;
        self.count(&r, completions.len());
        r
    }
    async fn complete_notifying(
        &self,
        completions: &[(Lease, Completion, Option<Notification>)],
    ) -> Result<Vec<Rejected>> {
        let r = self.inner.complete_notifying(completions).await;
        self.count(&r, completions.len());
        r
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
    async fn next_due(&self) -> Result<Option<time::OffsetDateTime>> {
        self.inner.next_due().await
    }
    async fn next_due_on(&self, platforms: &[Platform]) -> Result<Option<time::OffsetDateTime>> {
        self.inner.next_due_on(platforms).await
    }
    async fn try_lead(&self, name: &str, owner: &str, ttl: Duration) -> Result<bool> {
        self.inner.try_lead(name, owner, ttl).await
    }
    async fn resign(&self, name: &str, owner: &str) -> Result<()> {
        self.inner.resign(name, owner).await
    }
    async fn cleanup(&self, before: time::OffsetDateTime, limit: usize) -> Result<u64> {
        self.inner.cleanup(before, limit).await
    }
    async fn register_process(&self, id: &str) -> Result<()> {
        self.inner.register_process(id).await
    }
    async fn processes(&self) -> Result<Vec<cmis_scheduler::ProcessRecord>> {
        self.inner.processes().await
    }
    fn clock_offset(&self) -> time::Duration {
        self.inner.clock_offset()
    }
    fn wake_signal(&self) -> Arc<tokio::sync::Notify> {
        self.inner.wake_signal()
    }
}

async fn drain(args: &Args, store: Arc<dyn ScheduleStore>) -> Result<f64> {
    let tenant = TenantId::new("bench");
    let target = Target::feed(AccountRef::new(
        TenantId::new("bench"),
        Platform::Facebook,
        "page",
    ));
    let now = time::OffsetDateTime::now_utc();
    let mut next = 0u64;
    while next < args.jobs {
        let end = (next + 10_000).min(args.jobs);
        let posts: Vec<_> = (next..end)
            .map(|i| {
                NewPost::new(
                    PostKey::new(format!("p{i}")),
                    Post::new().with_text("bench"),
                    vec![target.clone()],
                    now,
                )
            })
            .collect();
        store.schedule_many(&tenant, &posts).await?;
        next = end;
    }
    eprintln!("enqueued {} jobs", args.jobs);

    let counted = Arc::new(Counted {
        inner: Arc::clone(&store),
        target: args.jobs,
        applied: AtomicU64::new(0),
        done: std::sync::OnceLock::new(),
    });
    let notifier = if args.hang {
        let url = hanging_receiver().await?;
        let secret = format!(
            "whsec_{}",
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [7u8; 32])
        );
        let timeout = Duration::from_secs(5);
        let webhook = WebhookNotifier::builder(url, SecretString::from(secret))
            .timeout(timeout)
            .build()?;
        let mut policy = DeliveryPolicy::default();
        policy.timeout = timeout;
        policy.cap = Duration::from_secs(5);
        Some((Arc::new(webhook), policy))
    } else {
        None
    };
    let noop = Arc::new(Noop::default());
    // `--schedulers` scheduler loops share the workers, so claims and completions of one loop
    // overlap another's round trips (every loop is a worker of its own, as separate processes
    // would be).
    let loops = args.schedulers.max(1);
    let mut schedulers = Vec::with_capacity(loops);
    for _ in 0..loops {
        let mut builder = Scheduler::builder(Arc::clone(&counted) as Arc<dyn ScheduleStore>)
            .publisher(noop.clone())
            .tokens(Arc::new(NoTokens))
            .concurrency((args.workers / loops).max(1))
            .batch_size(args.batch)
            .poll_interval(Duration::from_millis(50))
            .maintenance(false);
        if let Some((webhook, policy)) = &notifier {
            builder = builder.notifier(webhook.clone()).delivery(*policy);
        }
        schedulers.push(builder.build()?);
    }
    let jobs = args.jobs;
    let started = Instant::now();
    let mut runs = tokio::task::JoinSet::new();
    for scheduler in schedulers {
        let watched = Arc::clone(&noop);
        runs.spawn(async move {
            scheduler
                .run(async move {
                    // Stop once every job was handed to the publisher; `run` then writes every
                    // outstanding completion before it returns, so the clock covers all of them.
                    while watched.calls.load(Ordering::Relaxed) < jobs {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                })
                .await
        });
    }
    while let Some(result) = runs.join_next().await {
        result.map_err(|e| Error::internal(format!("a scheduler task failed: {e}")))??;
    }
    let stopped = started.elapsed().as_secs_f64();
    // Until the last completion was written: a stopping scheduler also gives the deliveries in
    // flight a few seconds, which is not part of the drain.
    let seconds = counted
        .done
        .get()
        .map_or(stopped, |at| at.duration_since(started).as_secs_f64());
    eprintln!(
        "last completion written after {seconds:.3} s; schedulers stopped after {stopped:.3} s; {} notifications wait in the outbox",
        store.undelivered().await?
    );

    // Counted from the completions the store applied (a listing is capped below 100 000 rows).
    let published = counted.applied.load(Ordering::Relaxed);
    let calls = noop.calls.load(Ordering::Relaxed);
    if published != jobs || calls != jobs {
        return Err(Error::internal(format!(
            "{published} jobs published and {calls} publisher calls for {jobs} jobs"
        )));
    }
    Ok(seconds)
}

async fn main_async(args: Args) -> Result<String> {
    let bench = BenchStore::open(&args.store, &args.url, 8).await?;
    let result = drain(&args, Arc::clone(&bench.store)).await;
    bench.close().await;
    let seconds = result?;
    let jobs = args.jobs;
    let rate = jobs as f64 / seconds;
    Ok(format!(
        "jobs={jobs} seconds={seconds:.3} jobs_per_sec={rate:.0}"
    ))
}

fn main() -> ExitCode {
    run_bench(
        "queue-drain",
        "queue-drain --store sqlite|postgres --url URL --jobs N --workers W [--batch B] [--schedulers L]",
        parse,
        main_async,
    )
}
