//! The `Scheduler`: claims due jobs in batches, publishes them through the platform's
//! [`Publisher`], and records each outcome with a fenced write.

mod checkpoint;
mod decide;
mod deliver;
mod maintenance;
mod observe;
mod pauses;
mod run;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use cmis_core::{
    AccountRef, Clock, Error, KeyedRateLimiter, Notifier, Platform, Publisher, RateLimit,
    RefreshingTokenProvider, Result, RetryPolicy, SystemClock, TenantId, TokenProvider,
    TracingNotifier,
};

use crate::job::{JobId, NewPost};

pub use checkpoint::JobCheckpointSink;
pub use deliver::OutboxNotifier;

/// Receives the upload progress of the jobs a [`Scheduler`] runs (for progress bars).
/// Implemented for any `Fn(&Job, &Progress) + Send + Sync`.
pub trait JobProgress: Send + Sync {
    /// Called by the connector after each accepted chunk of `job`'s media.
    fn progress(&self, job: &crate::Job, progress: &cmis_core::Progress);
}

impl<F: Fn(&crate::Job, &cmis_core::Progress) + Send + Sync> JobProgress for F {
    fn progress(&self, job: &crate::Job, progress: &cmis_core::Progress) {
        self(job, progress);
    }
}

use crate::outbox::DeliveryPolicy;
use crate::store::ScheduleStore;
use decide::Rules;

/// The name of the maintenance leadership in the store (one leader per database).
pub const MAINTENANCE_LEADER: &str = "cmis-scheduler-maintenance";

/// Publishes scheduled jobs until told to stop. Build it with [`Scheduler::builder`].
///
/// Every process may run one (or several); they share the work through the store's leases, and
/// one of them at a time (the elected leader) also rescues expired leases, sweeps token refreshes
/// and moves finished jobs to history. A process may be killed at any moment: a job whose
/// platform call was in flight becomes `unknown_outcome` and is reconciled, never resent blindly.
///
/// ```no_run
/// # mod cmis { pub use cmis_core::*; pub mod scheduler { pub use cmis_scheduler::*; } }
/// # async fn f(facebook: std::sync::Arc<dyn cmis::Publisher>,
/// #            tokens: std::sync::Arc<dyn cmis::TokenProvider>,
/// #            stop: tokio::sync::oneshot::Receiver<()>) -> cmis::Result<()> {
/// use std::sync::Arc;
/// use cmis::scheduler::{Scheduler, SqliteStore};
///
/// let store = Arc::new(SqliteStore::builder().path("cmis.db").build().await?);
/// let scheduler = Scheduler::builder(store)
///     .publisher(facebook)
///     .tokens(tokens)
///     .concurrency(16)
///     .build()?;
/// // Runs until `stop` fires (for example on SIGTERM), then finishes the calls in flight.
/// scheduler.run(async { let _ = stop.await; }).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Scheduler {
    shared: Arc<Shared>,
}

pub(crate) struct Shared {
    pub(crate) store: Arc<dyn ScheduleStore>,
    pub(crate) publishers: HashMap<Platform, Arc<dyn Publisher>>,
    /// The platforms of `publishers`: the only jobs this scheduler claims.
    pub(crate) platforms: Vec<Platform>,
    pub(crate) limits: HashMap<Platform, KeyedRateLimiter<AccountRef>>,
    pub(crate) pauses: pauses::AccountPauses,
    pub(crate) tokens: Arc<dyn TokenProvider>,
    pub(crate) refresher: Option<RefreshingTokenProvider>,
    pub(crate) notifier: Arc<dyn Notifier>,
    /// Whether notifications go through the store's outbox (a notifier was configured).
    pub(crate) durable_notify: bool,
    /// Signalled when this process wrote notifications into the outbox.
    pub(crate) outbox_wake: Arc<tokio::sync::Notify>,
    /// Signalled (to every waiter) after this process wrote a batch of outcomes, so that
    /// [`Scheduler::settled`] need not wait for its next poll.
    pub(crate) outcomes_written: tokio::sync::Notify,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) worker_id: String,
    pub(crate) rules: Rules,
    pub(crate) cfg: Config,
    pub(crate) progress: Option<Arc<dyn JobProgress>>,
    /// Typed events for subscribers ([`Scheduler::subscribe`]).
    pub(crate) events: tokio::sync::broadcast::Sender<crate::Event>,
    /// The jobs in flight whose outcomes subscribers will hear of, by lease.
    pub(crate) watched: std::sync::Mutex<HashMap<crate::Lease, crate::events::JobRef>>,
}

#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) concurrency: usize,
    pub(crate) batch_size: usize,
    pub(crate) lease: Duration,
    pub(crate) poll_interval: Duration,
    pub(crate) maintenance_interval: Duration,
    pub(crate) sweep_interval: Duration,
    pub(crate) refresh_window: Duration,
    pub(crate) history_after: Duration,
    pub(crate) maintenance: bool,
    pub(crate) delivery: DeliveryPolicy,
    pub(crate) notify_every_outcome: bool,
}

impl Shared {
    /// Now, as the store judges time: this process's clock corrected by the store's measured
    /// distance to the database's clock.
    pub(crate) fn now(&self) -> time::OffsetDateTime {
        self.clock.now() + self.store.clock_offset()
    }
}

impl fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut platforms: Vec<_> = self.shared.publishers.keys().collect();
        platforms.sort();
        f.debug_struct("Scheduler")
            .field("worker_id", &self.shared.worker_id)
            .field("store", &self.shared.store)
            .field("platforms", &platforms)
            .field("config", &self.shared.cfg)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Scheduler`]: a store, one publisher per platform, the tokens, and optional
/// settings (concurrency, retries, staleness, notifiers); [`Scheduler`] shows a whole setup.
/// What cannot work is refused when it is built, not when the first job runs:
///
/// ```
/// # mod cmis { pub use cmis_core::*; pub mod scheduler { pub use cmis_scheduler::*; } }
/// use std::sync::Arc;
/// use cmis::scheduler::{MemoryScheduleStore, Scheduler};
/// use cmis::{ErrorKind, SecretString, StaticTokenProvider};
///
/// let store = Arc::new(MemoryScheduleStore::new());
/// let tokens = Arc::new(StaticTokenProvider::new(SecretString::from("page-token")));
/// // Add `.publisher(…)` for each platform you publish to (`cmis::meta`, `cmis::tiktok`).
/// let err = Scheduler::builder(store).tokens(tokens).concurrency(4).build().unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::InvalidInput);
/// assert!(err.message().contains("at least one publisher"));
/// ```
#[must_use]
pub struct SchedulerBuilder {
    store: Arc<dyn ScheduleStore>,
    publishers: HashMap<Platform, Arc<dyn Publisher>>,
    limits: HashMap<Platform, KeyedRateLimiter<AccountRef>>,
    tokens: Option<Arc<dyn TokenProvider>>,
    refresher: Option<RefreshingTokenProvider>,
    notifier: Option<Arc<dyn Notifier>>,
    clock: Arc<dyn Clock>,
    worker_id: Option<String>,
    rules: Rules,
    cfg: Config,
    progress: Option<Arc<dyn JobProgress>>,
}

impl fmt::Debug for SchedulerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SchedulerBuilder")
            .field("store", &self.store)
            .field("config", &self.cfg)
            .finish_non_exhaustive()
    }
}

impl Scheduler {
    /// A builder around `store`.
    pub fn builder(store: Arc<dyn ScheduleStore>) -> SchedulerBuilder {
        SchedulerBuilder {
            store,
            publishers: HashMap::new(),
            limits: HashMap::new(),
            tokens: None,
            refresher: None,
            notifier: None,
            clock: Arc::new(SystemClock),
            worker_id: None,
            rules: Rules {
                retry: RetryPolicy::default()
                    .with_max_attempts(5)
                    .with_base(Duration::from_secs(30))
                    .with_cap(Duration::from_secs(30 * 60)),
                staleness: Duration::from_secs(3 * 3600),
                pending_interval: Duration::from_secs(10),
                reconcile_interval: Duration::from_secs(60),
                reconcile_window: Duration::from_secs(24 * 3600),
            },
            cfg: Config {
                concurrency: 32,
                batch_size: 256,
                lease: Duration::from_secs(30),
                poll_interval: Duration::from_secs(1),
                maintenance_interval: Duration::from_secs(5),
                sweep_interval: Duration::from_secs(24 * 3600),
                refresh_window: Duration::from_secs(7 * 24 * 3600),
                history_after: Duration::from_secs(7 * 24 * 3600),
                maintenance: true,
                delivery: DeliveryPolicy::default(),
                notify_every_outcome: false,
            },
            progress: None,
        }
    }

    /// This worker's id, as written in leases.
    pub fn worker_id(&self) -> &str {
        &self.shared.worker_id
    }

    /// The store this scheduler works on.
    pub fn store(&self) -> &Arc<dyn ScheduleStore> {
        &self.shared.store
    }

    /// Checks `new` with the publisher of each target's platform, then schedules it: one job
    /// per target, all in the targets' tenant.
    ///
    /// A post that can never publish (no TikTok privacy level, a missing or oversized file, a
    /// caption over the limit) is refused here, before anything is stored, with the error
    /// [`Publisher::validate`] gives ([`ErrorKind::InvalidInput`](cmis_core::ErrorKind) with
    /// every broken rule). A target whose platform has no publisher in this scheduler is
    /// refused too, as `InvalidInput`: nothing could check it, and no process built like this
    /// one would ever publish it. (The store's own [`ScheduleStore::schedule`] checks nothing
    /// of the post, for a process that schedules without publishers.)
    ///
    /// ```no_run
    /// # mod cmis { pub use cmis_core::*; pub mod scheduler { pub use cmis_scheduler::*; } }
    /// # async fn f(scheduler: cmis::scheduler::Scheduler) -> cmis::Result<()> {
    /// use cmis::{AccountRef, Platform, Post, PostKey, Target, TenantId};
    /// use cmis::scheduler::NewPost;
    ///
    /// let page = AccountRef::new(TenantId::new("acme"), Platform::Facebook, "1234567890");
    /// let at = time::OffsetDateTime::now_utc() + time::Duration::hours(2);
    /// let post = Post::new().with_text("Doors open at 9");
    /// let jobs = scheduler
    ///     .schedule(NewPost::new(PostKey::new("launch-1"), post, vec![Target::feed(page)], at))
    ///     .await?;
    /// let job = scheduler.settled(&jobs[0].tenant, jobs[0].id).await?;
    /// println!("{}: {}", job.id, job.state);
    /// # Ok(()) }
    /// ```
    pub async fn schedule(&self, new: NewPost) -> Result<Vec<crate::Job>> {
        let tenant = new.tenant()?.clone();
        for target in &new.targets {
            let platform = target.account.platform;
            let publisher = self.shared.publishers.get(&platform).ok_or_else(|| {
                Error::invalid_input(format!(
                    "no {platform} publisher in this scheduler to check or publish {target}: \
                     add one with SchedulerBuilder::publisher"
                ))
            })?;
            publisher.validate(target, &new.post).await?;
        }
        let jobs = self
            .shared
            .store
            .schedule(&tenant, &new.post_key, &new.post, &new.targets, new.at)
            .await?;
        if self.shared.events.receiver_count() > 0 {
            for job in &jobs {
                let _ = self
                    .shared
                    .events
                    .send(crate::Event::Scheduled(Box::new(job.clone())));
            }
        }
        Ok(jobs)
    }

    /// [`ScheduleStore::reschedule`], telling subscribers ([`Event::Changed`](crate::Event::Changed))
    /// when it applied.
    pub async fn reschedule(
        &self,
        tenant: &TenantId,
        id: JobId,
        at: time::OffsetDateTime,
    ) -> Result<crate::Change> {
        let change = self.shared.store.reschedule(tenant, id, at).await?;
        self.changed(&change, crate::UserAction::Reschedule);
        Ok(change)
    }

    /// [`ScheduleStore::cancel`], telling subscribers when it applied.
    pub async fn cancel(&self, tenant: &TenantId, id: JobId) -> Result<crate::Change> {
        let change = self.shared.store.cancel(tenant, id).await?;
        self.changed(&change, crate::UserAction::Cancel);
        Ok(change)
    }

    /// [`ScheduleStore::retry_now`], telling subscribers when it applied (an unknown outcome is
    /// reconciled now, never re-published blindly).
    pub async fn retry_now(&self, tenant: &TenantId, id: JobId) -> Result<crate::Change> {
        let change = self.shared.store.retry_now(tenant, id).await?;
        self.changed(&change, crate::UserAction::RetryNow);
        Ok(change)
    }

    fn changed(&self, change: &crate::Change, action: crate::UserAction) {
        if let crate::Change::Applied(job) = change {
            let _ = self.shared.events.send(crate::Event::Changed {
                job: Box::new(job.clone()),
                action,
            });
        }
    }

    /// Typed events of what this scheduler does from now on: every job outcome it stores and
    /// every token its refresh sweep renews or fails to (see [`Event`](crate::Event); in
    /// memory, lossy for a receiver that falls far behind, while the outbox and the audit
    /// trail are durable).
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<crate::Event> {
        self.shared.events.subscribe()
    }

    /// Waits until job `id` of `tenant` is settled ([`JobState::is_settled`](crate::JobState::is_settled)): published,
    /// failed, missed or cancelled, or parked for someone to act (awaiting re-authorisation,
    /// unknown outcome). Returns the job as it is then.
    ///
    /// It reads the store, so it also sees jobs that another process publishes; it checks again
    /// whenever this scheduler writes outcomes, and at least every poll interval
    /// ([`SchedulerBuilder::poll_interval`]). Put a timeout around it (`tokio::time::timeout`)
    /// to bound the wait: a job due next week settles next week. A job that does not exist, or
    /// belongs to another tenant, is an [`ErrorKind::InvalidInput`](cmis_core::ErrorKind) error.
    pub async fn settled(&self, tenant: &TenantId, id: JobId) -> Result<crate::Job> {
        loop {
            // Registered before the read, so an outcome written between the read and the wait
            // is not missed.
            let written = self.shared.outcomes_written.notified();
            tokio::pin!(written);
            written.as_mut().enable();
            let job =
                self.shared.store.get(tenant, id).await?.ok_or_else(|| {
                    Error::invalid_input(format!("tenant {tenant} has no job {id}"))
                })?;
            if job.state.is_settled() {
                return Ok(job);
            }
            tokio::select! {
                () = written => {}
                () = tokio::time::sleep(self.shared.cfg.poll_interval) => {}
            }
        }
    }
}

impl SchedulerBuilder {
    /// Publishes jobs of `publisher.platform()` with it (replacing an earlier one).
    pub fn publisher(mut self, publisher: Arc<dyn Publisher>) -> Self {
        self.publishers.insert(publisher.platform(), publisher);
        self
    }

    /// Dispatches at most `limit` platform calls per account of `platform`; a job over the
    /// budget is snoozed until a permit is free, without spending an attempt.
    ///
    /// Whether or not a limit is set, a rate-limit or quota error (Instagram's publishing limit
    /// read before a publish, TikTok's daily post cap, Meta's regain time) holds back the whole
    /// account in this scheduler: its other jobs are snoozed the same way, without spending an
    /// attempt, until the refused job's retry (the platform's Retry-After when it gave one, the
    /// retry policy's backoff otherwise).
    pub fn rate_limit(mut self, platform: Platform, limit: RateLimit) -> Self {
        self.limits.insert(platform, KeyedRateLimiter::new(limit));
        self
    }

    /// The token provider handed to publishers.
    pub fn tokens(mut self, tokens: Arc<dyn TokenProvider>) -> Self {
        self.tokens = Some(tokens);
        self
    }

    /// A refreshing token provider: handed to publishers, and used by the leader's daily sweep
    /// that refreshes every credential expiring within the [refresh window](Self::refresh_window).
    /// Build it with the same notifier, so that failed refreshes are reported.
    pub fn refreshing_tokens(mut self, tokens: RefreshingTokenProvider) -> Self {
        self.tokens = Some(Arc::new(tokens.clone()));
        self.refresher = Some(tokens);
        self
    }

    /// Where notifications go: published posts (with their receipts), failures, missed posts,
    /// unknown outcomes and re-authorisation requests.
    ///
    /// Each notification is written into the store's outbox in the same transaction as the
    /// outcome it tells of, and delivered by a loop of its own ([`delivery`](Self::delivery)):
    /// at least once, with a delivery id that stays the same across attempts, a timeout per
    /// attempt and retries with backoff. A receiver that hangs or fails never slows claims or
    /// completions, and a crash loses no notification. Without a notifier, failures are logged
    /// with `tracing` and nothing is written to the outbox.
    pub fn notifier(mut self, notifier: Arc<dyn Notifier>) -> Self {
        self.notifier = Some(notifier);
        self
    }

    /// Tells the notifier of every outcome, not only those a person must know of: a post that
    /// will be retried (with the reason and when) and one the platform is still processing
    /// also go through the outbox ([`NotificationKind::Retrying`](cmis_core::NotificationKind::Retrying),
    /// [`NotificationKind::Pending`](cmis_core::NotificationKind::Pending)). Off by default:
    /// each is one more outbox row.
    pub fn notify_every_outcome(mut self, on: bool) -> Self {
        self.cfg.notify_every_outcome = on;
        self
    }

    /// How notifications are delivered: the timeout per attempt (30 s), the backoff between
    /// attempts (2 s doubling to 10 min), how long one is tried (3 days) and how many are in
    /// flight at once (16).
    pub fn delivery(mut self, policy: DeliveryPolicy) -> Self {
        self.cfg.delivery = policy;
        self
    }

    /// The wall clock (the system's by default; [`TokioClock`](cmis_core::TokioClock) in tests).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The id written in leases (default: process id and a random suffix). Unique per process.
    pub fn worker_id(mut self, id: impl Into<String>) -> Self {
        self.worker_id = Some(id.into());
        self
    }

    /// Platform calls in flight at most (32 by default).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.cfg.concurrency = n.max(1);
        self
    }

    /// Jobs claimed per statement at most (256 by default).
    pub fn batch_size(mut self, n: usize) -> Self {
        self.cfg.batch_size = n.max(1);
        self
    }

    /// Attempts and backoff of retryable failures (5 attempts, 30 s base, 30 min cap, full
    /// jitter by default; a platform's Retry-After always wins).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.rules.retry = policy;
        self
    }

    /// How long a claim is held without a heartbeat (30 s by default; renewed every third, so
    /// a killed worker's jobs are rescued and reconciled within about 35 s). A worker that
    /// finds a lease lost, or cannot renew its leases for a whole lease, stops those calls.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.cfg.lease = lease.max(Duration::from_millis(300));
        self
    }

    /// How late a post may still be published (3 h by default); later, it is `missed`.
    pub fn staleness(mut self, deadline: Duration) -> Self {
        self.rules.staleness = deadline;
        self
    }

    /// The longest sleep without a wake-up (1 s by default).
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.cfg.poll_interval = interval.max(Duration::from_millis(1));
        self
    }

    /// When a platform gives no hint, how long to wait before resuming a pending publish (10 s).
    pub fn pending_interval(mut self, interval: Duration) -> Self {
        self.rules.pending_interval = interval;
        self
    }

    /// How often an unknown outcome is re-checked (1 min), and for how long after the post's
    /// time before it is left to a person (24 h).
    pub fn reconcile(mut self, interval: Duration, window: Duration) -> Self {
        self.rules.reconcile_interval = interval;
        self.rules.reconcile_window = window;
        self
    }

    /// Credentials expiring within this window are refreshed by the sweep (7 days).
    pub fn refresh_window(mut self, window: Duration) -> Self {
        self.cfg.refresh_window = window;
        self
    }

    /// How often the sweep runs (daily).
    pub fn sweep_interval(mut self, interval: Duration) -> Self {
        self.cfg.sweep_interval = interval;
        self
    }

    /// How often the leader runs the rescuer and cleanup (5 s).
    pub fn maintenance_interval(mut self, interval: Duration) -> Self {
        self.cfg.maintenance_interval = interval.max(Duration::from_millis(10));
        self
    }

    /// Finished jobs older than this move to history (7 days).
    pub fn history_after(mut self, age: Duration) -> Self {
        self.cfg.history_after = age;
        self
    }

    /// Whether this process may become the maintenance leader (yes by default).
    pub fn maintenance(mut self, on: bool) -> Self {
        self.cfg.maintenance = on;
        self
    }

    /// Where upload progress of running jobs goes (none by default).
    pub fn progress(mut self, sink: Arc<dyn JobProgress>) -> Self {
        self.progress = Some(sink);
        self
    }

    /// Checks the configuration.
    pub fn build(self) -> Result<Scheduler> {
        let tokens = self.tokens.ok_or_else(|| {
            Error::invalid_input("a scheduler needs a token provider: call tokens(..)")
        })?;
        if self.publishers.is_empty() {
            return Err(Error::invalid_input(
                "a scheduler needs at least one publisher: call publisher(..)",
            ));
        }
        let worker_id = self
            .worker_id
            .unwrap_or_else(|| format!("{}-{:016x}", std::process::id(), fastrand::u64(..)));
        if worker_id.is_empty() {
            return Err(Error::invalid_input("the worker id is empty"));
        }
        let mut platforms: Vec<Platform> = self.publishers.keys().copied().collect();
        platforms.sort();
        Ok(Scheduler {
            shared: Arc::new(Shared {
                platforms,
                store: self.store,
                publishers: self.publishers,
                limits: self.limits,
                pauses: pauses::AccountPauses::default(),
                tokens,
                refresher: self.refresher,
                durable_notify: self.notifier.is_some(),
                notifier: self.notifier.unwrap_or_else(|| Arc::new(TracingNotifier)),
                outbox_wake: Arc::new(tokio::sync::Notify::new()),
                outcomes_written: tokio::sync::Notify::new(),
                events: tokio::sync::broadcast::channel(crate::EVENT_BUFFER).0,
                watched: std::sync::Mutex::new(HashMap::new()),
                clock: self.clock,
                worker_id,
                rules: self.rules,
                cfg: self.cfg,
                progress: self.progress,
            }),
        })
    }
}
