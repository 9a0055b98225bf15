//! The scheduler's state machine on a paused tokio clock, with a fake publisher that records
//! every call. The in-memory store keeps everything inside the runtime, so time only moves when
//! every task waits.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use cmis_core::{
    AccessToken, AccountRef, Capabilities, Checkpoint, Clock, Credential, CredentialStore, Error,
    MemoryCredentialStore, MemoryNotifier, NotificationKind, Outcome, Platform, Post, PostKey,
    PublishContext, Publisher, RateLimit, Receipt, Reconciliation, RefreshedToken,
    RefreshingTokenProvider, Result, RetryPolicy, SecretString, Surface, Target, TenantId,
    TokenProvider, TokenRefresher, TokioClock,
};
use cmis_scheduler::{JobFilter, JobState, MemoryScheduleStore, ScheduleStore, Scheduler};
use time::OffsetDateTime;
use time::macros::datetime;

const T0: OffsetDateTime = datetime!(2026-06-01 12:00 UTC);

type PublishFn = dyn Fn(usize) -> Result<Outcome> + Send + Sync;
type ReconcileFn = dyn Fn(usize) -> Result<Reconciliation> + Send + Sync;

/// A publisher that answers from scripts and records (operation, time) of every call.
struct Fake {
    clock: Arc<dyn Clock>,
    calls: Mutex<Vec<(&'static str, OffsetDateTime)>>,
    publishes: AtomicUsize,
    reconciles: AtomicUsize,
    on_publish: Box<PublishFn>,
    on_resume: Box<PublishFn>,
    on_reconcile: Box<ReconcileFn>,
    checkpoint: Option<Checkpoint>,
    delay: Duration,
}

impl std::fmt::Debug for Fake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Fake")
    }
}

fn receipt(id: &str) -> Receipt {
    Receipt::new(
        Platform::Facebook,
        "page".into(),
        cmis_core::PostId::new(id),
    )
}

impl Fake {
    fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            calls: Mutex::new(Vec::new()),
            publishes: AtomicUsize::new(0),
            reconciles: AtomicUsize::new(0),
            on_publish: Box::new(|n| Ok(Outcome::Published(receipt(&format!("fb-{n}"))))),
            on_resume: Box::new(|_| Ok(Outcome::Published(receipt("fb-resumed")))),
            on_reconcile: Box::new(|_| Ok(Reconciliation::Unknown)),
            checkpoint: None,
            delay: Duration::ZERO,
        }
    }
    fn calls(&self) -> Vec<(&'static str, OffsetDateTime)> {
        self.calls.lock().unwrap().clone()
    }
    fn ops(&self) -> Vec<&'static str> {
        self.calls().into_iter().map(|c| c.0).collect()
    }
    fn record(&self, op: &'static str) {
        self.calls.lock().unwrap().push((op, self.clock.now()));
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
    async fn publish(&self, _: &Target, _: &Post, ctx: &PublishContext) -> Result<Outcome> {
        self.record("publish");
        let n = self.publishes.fetch_add(1, Ordering::SeqCst);
        if let Some(cp) = &self.checkpoint {
            ctx.save_checkpoint(cp).await?;
        }
        tokio::time::sleep(self.delay).await;
        (self.on_publish)(n)
    }
    async fn resume(&self, _: &Target, _: &Checkpoint, _: &PublishContext) -> Result<Outcome> {
        self.record("resume");
        (self.on_resume)(0)
    }
    async fn reconcile(
        &self,
        _: &Target,
        _: &Post,
        _: Option<&Checkpoint>,
        _: &PublishContext,
    ) -> Result<Reconciliation> {
        self.record("reconcile");
        (self.on_reconcile)(self.reconciles.fetch_add(1, Ordering::SeqCst))
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

/// A publish script that answers the first call with `error()` and publishes every later one.
fn refuse_first(error: fn() -> Error) -> Box<PublishFn> {
    Box::new(move |n| {
        if n == 0 {
            Err(error())
        } else {
            Ok(Outcome::Published(receipt(&format!("fb-{n}"))))
        }
    })
}

struct Rig {
    store: Arc<MemoryScheduleStore>,
    fake: Arc<Fake>,
    notifier: Arc<MemoryNotifier>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<Result<()>>>,
}

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

fn rig(
    configure: impl FnOnce(&mut Fake),
) -> (Arc<MemoryScheduleStore>, Arc<Fake>, Arc<TokioClock>) {
    let clock = Arc::new(TokioClock::starting_at(T0));
    let store = Arc::new(MemoryScheduleStore::with_clock(clock.clone()));
    let mut fake = Fake::new(clock.clone());
    configure(&mut fake);
    (store, Arc::new(fake), clock)
}

fn start(
    store: Arc<MemoryScheduleStore>,
    fake: Arc<Fake>,
    clock: Arc<TokioClock>,
    tune: impl FnOnce(cmis_scheduler::SchedulerBuilder) -> cmis_scheduler::SchedulerBuilder,
) -> Rig {
    let notifier = Arc::new(MemoryNotifier::new());
    let builder = Scheduler::builder(store.clone())
        .publisher(fake.clone())
        .tokens(Arc::new(NoTokens))
        .notifier(notifier.clone())
        .clock(clock)
        .retry_policy(
            RetryPolicy::default()
                .with_max_attempts(4)
                .with_base(Duration::from_secs(10))
                .with_cap(Duration::from_secs(3600)),
        )
        .poll_interval(Duration::from_millis(100));
    let scheduler = tune(builder).build().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let handle = tokio::spawn(async move {
        scheduler
            .run(async {
                let _ = rx.await;
            })
            .await
    });
    Rig {
        store,
        fake,
        notifier,
        stop: Some(tx),
        handle: Some(handle),
    }
}

impl Rig {
    async fn schedule(&self, post: &str, at: OffsetDateTime) -> cmis_scheduler::JobId {
        self.store
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

    async fn state(&self, id: cmis_scheduler::JobId) -> cmis_scheduler::Job {
        self.store.get(&tenant(), id).await.unwrap().unwrap()
    }

    /// Lets (virtual) time pass until `id` reaches `state`, at most `within`.
    async fn wait_for(&self, id: cmis_scheduler::JobId, state: JobState, within: Duration) {
        let deadline = tokio::time::Instant::now() + within;
        while self.state(id).await.state != state {
            assert!(
                tokio::time::Instant::now() < deadline,
                "job {id} is {:?}, not {state:?}, after {within:?}; calls {:?}",
                self.state(id).await.state,
                self.fake.ops()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.handle.take().unwrap().await.unwrap().unwrap();
    }

    /// The notifications delivered once the outbox has drained, but for the `published`
    /// events (see `every_outcome_is_notified_through_the_outbox`).
    async fn notified(&self) -> Vec<NotificationKind> {
        self.drained().await;
        self.notifier
            .notifications()
            .into_iter()
            .map(|n| n.kind)
            .filter(|k| *k != NotificationKind::Published)
            .collect()
    }

    /// Lets (virtual) time pass until the outbox has delivered everything.
    async fn drained(&self) {
        for _ in 0..200 {
            if self.store.undelivered().await.unwrap() == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the outbox did not drain");
    }
}

#[tokio::test(start_paused = true)]
async fn publishes_every_due_job_exactly_once() {
    let (store, fake, clock) = rig(|_| {});
    let rig = start(store, fake, clock, |b| b.concurrency(8).batch_size(5));
    let mut ids = Vec::new();
    for i in 0..40 {
        ids.push(
            rig.schedule(&format!("p{i}"), T0 + Duration::from_secs(i % 3))
                .await,
        );
    }
    for id in &ids {
        rig.wait_for(*id, JobState::Published, Duration::from_secs(30))
            .await;
    }
    assert_eq!(rig.fake.ops().len(), 40);
    let job = rig.state(ids[0]).await;
    assert!(job.receipt.unwrap().post_id.as_str().starts_with("fb-"));
    assert_eq!(job.attempts, 1);
    // Nobody published early.
    assert!(rig.fake.calls().iter().all(|(_, at)| *at >= T0));
    let trail = rig
        .store
        .audit_trail(&tenant(), Some(ids[0]))
        .await
        .unwrap();
    let actions: Vec<_> = trail.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(actions, ["job.scheduled", "job.published"]);
    rig.stop().await;
}

#[tokio::test(start_paused = true)]
async fn retryable_errors_back_off_by_attempt_with_jitter() {
    let (store, fake, clock) = rig(|f| {
        f.on_publish = Box::new(|n| {
            if n < 3 {
                Err(Error::transient("503 before the request was accepted"))
            } else {
                Ok(Outcome::Published(receipt("fb-1")))
            }
        });
    });
    let rig = start(store, fake, clock, |b| b);
    let id = rig.schedule("p", T0).await;
    rig.wait_for(id, JobState::Published, Duration::from_secs(600))
        .await;
    let times: Vec<_> = rig.fake.calls().into_iter().map(|c| c.1).collect();
    assert_eq!(times.len(), 4);
    // Full jitter: the n-th retry waits at most base × 2^n (10 s, 20 s, 40 s), plus one poll.
    let slack = time::Duration::milliseconds(200);
    for (n, w) in times.windows(2).enumerate() {
        let ceiling = time::Duration::seconds(10 * (1 << n));
        assert!(
            w[1] - w[0] <= ceiling + slack,
            "retry {n}: {:?}",
            w[1] - w[0]
        );
        assert!(w[1] >= w[0]);
    }
    let job = rig.state(id).await;
    assert_eq!(job.attempts, 4);
    assert_eq!(
        job.last_error.unwrap().kind,
        cmis_core::ErrorKind::Transient
    );
    rig.stop().await;
}

#[tokio::test(start_paused = true)]
async fn asked_for_every_outcome_the_notifier_hears_of_retries_too() {
    let (store, fake, clock) = rig(|f| {
        f.on_publish = refuse_first(|| Error::transient("503 before the request was accepted"));
    });
    // By default a retry is no one's business: only what a person must know is notified.
    let quiet = start(store, fake, clock, |b| b);
    let id = quiet.schedule("quiet", T0).await;
    quiet
        .wait_for(id, JobState::Published, Duration::from_secs(600))
        .await;
    assert_eq!(quiet.notified().await, []);
    quiet.stop().await;

    let (store, fake, clock) = rig(|f| {
        f.on_publish = refuse_first(|| Error::transient("503 before the request was accepted"));
    });
    let rig = start(store, fake, clock, |b| b.notify_every_outcome(true));
    let id = rig.schedule("told", T0).await;
    rig.wait_for(id, JobState::Published, Duration::from_secs(600))
        .await;
    assert_eq!(rig.notified().await, [NotificationKind::Retrying]);
    let retry = rig
        .notifier
        .notifications()
        .into_iter()
        .find(|n| n.kind == NotificationKind::Retrying)
        .unwrap();
    assert!(
        retry.message.contains("transient: 503"),
        "{}",
        retry.message
    );
    assert!(retry.deadline.is_some(), "when it is tried again");
    assert_eq!(retry.subject, Some(id.to_string()));
    rig.stop().await;
}

#[tokio::test(start_paused = true)]
async fn rate_limits_honour_retry_after_spend_no_attempt_and_end_missed_not_failed() {
    let (store, fake, clock) = rig(|f| {
        f.on_publish = Box::new(|_| {
            Err(Error::rate_limited("too many calls").with_retry_after(Duration::from_secs(120)))
        });
    });
    // Four attempts allowed, a ten-minute staleness deadline: a throttled post is tried every
    // two minutes until the deadline, more often than its attempts would allow, and is then
    // missed. It never fails for being throttled.
    let rig = start(store, fake, clock, |b| {
        b.staleness(Duration::from_secs(600))
    });
    let id = rig.schedule("p", T0).await;
    rig.wait_for(id, JobState::Missed, Duration::from_secs(3600))
        .await;
    let times: Vec<_> = rig.fake.calls().into_iter().map(|c| c.1).collect();
    assert_eq!(
        times.len(),
        6,
        "calls at 0, 2, 4, 6, 8 and 10 minutes: {times:?}"
    );
    for w in times.windows(2) {
        let gap = w[1] - w[0];
        assert!(gap >= time::Duration::seconds(120), "{gap:?}");
        assert!(gap <= time::Duration::milliseconds(120_200), "{gap:?}");
    }
    let job = rig.state(id).await;
    assert_eq!(
        job.attempts, 1,
        "only the claim that found it too late counted"
    );
    assert_eq!(rig.notified().await, [NotificationKind::PublishMissed]);
    rig.stop().await;
}

#[tokio::test(start_paused = true)]
async fn late_jobs_beyond_the_staleness_deadline_are_missed_not_published() {
    let (store, fake, clock) = rig(|_| {});
    let rig = start(store, fake, clock, |b| {
        b.staleness(Duration::from_secs(3 * 3600))
    });
    let stale = rig
        .schedule("stale", T0 - Duration::from_secs(3 * 3600 + 1))
        .await;
    let late_but_ok = rig
        .schedule("late", T0 - Duration::from_secs(3 * 3600 - 60))
        .await;
    rig.wait_for(stale, JobState::Missed, Duration::from_secs(5))
        .await;
    rig.wait_for(late_but_ok, JobState::Published, Duration::from_secs(5))
        .await;
    assert_eq!(
        rig.fake.ops(),
        ["publish"],
        "only the job within the deadline was sent"
    );
    assert_eq!(rig.notified().await, [NotificationKind::PublishMissed]);
    // A job scheduled in the future misses nothing: it waits, then publishes on time.
    let future = rig
        .schedule("future", T0 + Duration::from_secs(4 * 3600))
        .await;
    rig.wait_for(
        future,
        JobState::Published,
        Duration::from_secs(4 * 3600 + 5),
    )
    .await;
    let at = rig.fake.calls()[1].1;
    assert!(at >= T0 + Duration::from_secs(4 * 3600));
    assert!(at <= T0 + Duration::from_secs(4 * 3600) + Duration::from_millis(200));
    rig.stop().await;
}

#[tokio::test(start_paused = true)]
async fn auth_errors_park_the_job_without_spending_an_attempt() {
    let (store, fake, clock) = rig(|f| {
        f.on_publish = Box::new(|_| Err(Error::auth("Error validating access token (190)")));
    });
    let rig = start(store, fake, clock, |b| b);
    let id = rig.schedule("p", T0).await;
    rig.wait_for(id, JobState::AwaitingReauth, Duration::from_secs(5))
        .await;
    tokio::time::sleep(Duration::from_secs(600)).await;
    assert_eq!(rig.fake.ops(), ["publish"], "parked jobs are not retried");
    let job = rig.state(id).await;
    assert_eq!(job.attempts, 0);
    assert_eq!(rig.notified().await, [NotificationKind::ReauthRequired]);
    rig.stop().await;
}

#[tokio::test(start_paused = true)]
async fn unknown_outcomes_are_reconciled_never_resent() {
    let (store, fake, clock) = rig(|f| {
        f.on_publish =
            Box::new(|_| Err(Error::unknown_outcome("timeout after the request was sent")));
        f.on_reconcile = Box::new(|n| {
            if n == 0 {
                Ok(Reconciliation::Unknown)
            } else {
                Ok(Reconciliation::Published(receipt("fb-found")))
            }
        });
    });
    let rig = start(store, fake, clock, |b| {
        b.reconcile(Duration::from_secs(60), Duration::from_secs(3600))
    });
    let id = rig.schedule("p", T0).await;
    rig.wait_for(id, JobState::Published, Duration::from_secs(600))
        .await;
    assert_eq!(rig.fake.ops(), ["publish", "reconcile", "reconcile"]);
    let calls = rig.fake.calls();
    assert!(calls[1].1 - calls[0].1 >= time::Duration::seconds(60));
    assert_eq!(
        rig.state(id).await.receipt.unwrap().post_id.as_str(),
        "fb-found"
    );
    rig.stop().await;
}

/// A listing that proves absence only some time after the call (Meta lists new posts late):
/// past the reconcile window the job is still checked once the connector says it can tell,
/// instead of being parked for a person; an answer without such a time is parked.
#[tokio::test(start_paused = true)]
async fn a_reconcile_that_can_tell_later_is_checked_again_past_the_window() {
    let (store, fake, clock) = rig(|f| {
        f.on_publish = refuse_first(|| Error::unknown_outcome("timeout"));
        f.on_reconcile = Box::new(|n| match n {
            0 => Err(
                Error::unknown_outcome("not listed yet; absence is proven in 5 min")
                    .with_retry_after(Duration::from_secs(300)),
            ),
            _ => Ok(Reconciliation::NotPublished),
        });
    });
    let first = start(store, fake, clock, |b| {
        b.reconcile(Duration::from_secs(60), Duration::from_secs(60))
            .staleness(Duration::from_secs(600))
    });
    let id = first.schedule("p", T0).await;
    first
        .wait_for(id, JobState::Published, Duration::from_secs(3600))
        .await;
    assert_eq!(
        first.fake.ops(),
        ["publish", "reconcile", "reconcile", "publish"]
    );
    let calls = first.fake.calls();
    assert!(calls[2].1 - calls[1].1 >= time::Duration::seconds(300));
    first.stop().await;

    // The same answer with a time beyond what the job's window allows is parked at once.
    let (store, fake, clock) = rig(|f| {
        f.on_publish = Box::new(|_| Err(Error::unknown_outcome("timeout")));
        f.on_reconcile = Box::new(|_| {
            Err(Error::unknown_outcome("not listed yet")
                .with_retry_after(Duration::from_secs(24 * 3600)))
        });
    });
    let rig = start(store, fake, clock, |b| {
        b.reconcile(Duration::from_secs(60), Duration::from_secs(60))
            .staleness(Duration::from_secs(600))
    });
    let id = rig.schedule("p", T0).await;
    tokio::time::sleep(Duration::from_secs(3600)).await;
    let job = rig.state(id).await;
    assert_eq!((job.state, job.run_at), (JobState::UnknownOutcome, None));
    assert_eq!(rig.fake.ops(), ["publish", "reconcile"]);
    rig.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_publisher_that_cannot_reconcile_leaves_the_job_to_a_person() {
    let (store, fake, clock) = rig(|f| {
        f.on_publish = Box::new(|_| Err(Error::unknown_outcome("timeout")));
        f.on_reconcile = Box::new(|_| Err(Error::unsupported("cannot check")));
    });
    let rig = start(store, fake, clock, |b| b);
    let id = rig.schedule("p", T0).await;
    tokio::time::sleep(Duration::from_secs(3600)).await;
    let job = rig.state(id).await;
    assert_eq!((job.state, job.run_at), (JobState::UnknownOutcome, None));
    assert_eq!(rig.fake.ops(), ["publish", "reconcile"]);
    assert_eq!(rig.notified().await, [NotificationKind::UnknownOutcome]);
    rig.stop().await;
}

#[tokio::test(start_paused = true)]
async fn pending_publishes_resume_from_the_stored_checkpoint() {
    let cp = Checkpoint::new(Platform::Facebook, "container_created", &"c-17")
        .unwrap()
        .with_resume_after(Duration::from_secs(30));
    let pending = cp.clone();
    let (store, fake, clock) = rig(move |f| {
        f.checkpoint = Some(cp);
        f.on_publish = Box::new(move |_| Ok(Outcome::Pending(pending.clone())));
    });
    let rig = start(store, fake, clock, |b| b);
    let id = rig.schedule("p", T0).await;
    rig.wait_for(id, JobState::Published, Duration::from_secs(60))
        .await;
    assert_eq!(rig.fake.ops(), ["publish", "resume"]);
    let calls = rig.fake.calls();
    assert!(calls[1].1 - calls[0].1 >= time::Duration::seconds(30));
    let job = rig.state(id).await;
    assert_eq!(job.checkpoint.unwrap().stage, "container_created");
    assert_eq!(job.attempts, 1, "resuming spends no attempt");
    rig.stop().await;
}

#[tokio::test(start_paused = true)]
async fn permanent_errors_fail_at_once_and_notify() {
    let (store, fake, clock) = rig(|f| {
        f.on_publish = Box::new(|_| Err(Error::rejected("(#368) blocked as abusive")));
    });
    let rig = start(store, fake, clock, |b| b);
    let id = rig.schedule("p", T0).await;
    rig.wait_for(id, JobState::Failed, Duration::from_secs(5))
        .await;
    assert_eq!(rig.fake.ops(), ["publish"]);
    assert_eq!(
        rig.state(id).await.last_error.unwrap().kind,
        cmis_core::ErrorKind::Rejected
    );
    assert_eq!(rig.notified().await, [NotificationKind::PublishFailed]);
    rig.stop().await;
}

#[tokio::test(start_paused = true)]
async fn shutdown_lets_calls_in_flight_finish() {
    let (store, fake, clock) = rig(|f| f.delay = Duration::from_secs(10));
    let rig = start(store, fake, clock, |b| b);
    let id = rig.schedule("p", T0).await;
    while rig.fake.ops().is_empty() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let store = rig.store.clone();
    rig.stop().await;
    let job = store.get(&tenant(), id).await.unwrap().unwrap();
    assert_eq!(job.state, JobState::Published);
}

#[tokio::test(start_paused = true)]
async fn the_leader_rescues_a_dead_workers_job_into_reconciliation() {
    let (store, fake, clock) = rig(|f| {
        f.on_reconcile = Box::new(|_| Ok(Reconciliation::NotPublished));
    });
    let id = store
        .schedule(&tenant(), &PostKey::new("p"), &Post::new(), &[target()], T0)
        .await
        .unwrap()[0]
        .id;
    // A worker claims it, starts the call, and dies.
    let claimed = store
        .claim("dead", 10, Duration::from_secs(30))
        .await
        .unwrap();
    store
        .mark_started(&[claimed[0].lease.clone()])
        .await
        .unwrap();
    let rig = start(store, fake, clock, |b| {
        b.maintenance_interval(Duration::from_secs(1))
    });
    rig.wait_for(id, JobState::Published, Duration::from_secs(120))
        .await;
    // Not resent blindly: reconciled first, and only the platform's "not published" allowed
    // the publish.
    assert_eq!(rig.fake.ops(), ["reconcile", "publish"]);
    assert!(rig.fake.calls()[0].1 >= T0 + Duration::from_secs(30));
    let actions: Vec<_> = rig
        .store
        .audit_trail(&tenant(), Some(id))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.action)
        .collect();
    assert!(actions.contains(&"job.rescued".to_owned()), "{actions:?}");
    rig.stop().await;
}

/// A refresher that records which accounts it refreshed.
#[derive(Default)]
struct CountingRefresher(Mutex<Vec<String>>);

#[async_trait]
impl TokenRefresher for CountingRefresher {
    fn platform(&self) -> Platform {
        Platform::TikTok
    }
    async fn refresh(&self, current: &Credential) -> Result<RefreshedToken> {
        self.0
            .lock()
            .unwrap()
            .push(current.account.account.to_string());
        Ok(RefreshedToken::new(SecretString::from("act.new"))
            .with_expires_in(Duration::from_secs(30 * 24 * 3600)))
    }
}

#[tokio::test(start_paused = true)]
async fn the_refresh_sweep_refreshes_only_credentials_inside_the_window() {
    let (store, fake, clock) = rig(|_| {});
    let creds = Arc::new(MemoryCredentialStore::new());
    let day = Duration::from_secs(24 * 3600);
    for (account, expires_in) in [("soon", day * 6), ("later", day * 8), ("never", day * 90)] {
        creds
            .put_credential(
                Credential::new(
                    AccountRef::new(TenantId::new("acme"), Platform::TikTok, account),
                    SecretString::from("act.old"),
                )
                .with_access_expires_at(T0 + expires_in),
            )
            .await
            .unwrap();
    }
    let refresher = Arc::new(CountingRefresher::default());
    let tokens = RefreshingTokenProvider::builder(creds.clone())
        .refresher(refresher.clone())
        .clock(clock.clone())
        .build();
    let rig = start(store, fake, clock, |b| {
        b.refreshing_tokens(tokens)
            .poll_interval(Duration::from_secs(60))
            .maintenance_interval(Duration::from_secs(60))
            .sweep_interval(day)
    });
    tokio::time::sleep(Duration::from_secs(120)).await;
    assert_eq!(*refresher.0.lock().unwrap(), ["soon"]);
    // A day later "later" expires within 7 days; "soon" was refreshed for 30 days.
    tokio::time::sleep(day).await;
    assert_eq!(*refresher.0.lock().unwrap(), ["soon", "later"]);
    let got = creds
        .credential(&AccountRef::new(
            TenantId::new("acme"),
            Platform::TikTok,
            "later",
        ))
        .await
        .unwrap()
        .unwrap();
    assert!(got.access_expires_at.unwrap() > T0 + day * 29);
    let listed = rig.store.list(&tenant(), &JobFilter::all()).await.unwrap();
    assert!(listed.is_empty());
    rig.stop().await;
}

/// Review N10: a new leader (a restart, a deploy, a failover) sweeps at once, and a sweep cut
/// short runs again; neither refreshes (and rotates) a token issued within the last half
/// sweep interval, such as one the previous leader has just refreshed.
#[tokio::test(start_paused = true)]
async fn the_refresh_sweep_skips_tokens_issued_recently() {
    let (store, fake, clock) = rig(|_| {});
    let creds = Arc::new(MemoryCredentialStore::new());
    let hour = Duration::from_secs(3600);
    // TikTok-like 24 h tokens: always inside the 7-day window.
    for (account, issued_ago) in [("fresh", hour), ("stale", hour * 20)] {
        creds
            .put_credential(
                Credential::new(
                    AccountRef::new(TenantId::new("acme"), Platform::TikTok, account),
                    SecretString::from("act.old"),
                )
                .with_issued_at(T0 - issued_ago)
                .with_access_expires_at(T0 - issued_ago + hour * 24),
            )
            .await
            .unwrap();
    }
    let refresher = Arc::new(CountingRefresher::default());
    let tokens = RefreshingTokenProvider::builder(creds.clone())
        .refresher(refresher.clone())
        .clock(clock.clone())
        .build();
    let rig = start(store, fake, clock, |b| {
        b.refreshing_tokens(tokens)
            .poll_interval(Duration::from_secs(60))
            .maintenance_interval(Duration::from_secs(60))
            .sweep_interval(hour * 24)
    });
    tokio::time::sleep(Duration::from_secs(120)).await;
    assert_eq!(*refresher.0.lock().unwrap(), ["stale"]);
    rig.stop().await;
}

#[tokio::test(start_paused = true)]
async fn per_account_rate_limits_snooze_jobs_without_spending_attempts() {
    let (store, fake, clock) = rig(|_| {});
    let rig = start(store, fake, clock, |b| {
        b.rate_limit(Platform::Facebook, RateLimit::per_minute(2).unwrap())
    });
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(rig.schedule(&format!("p{i}"), T0).await);
    }
    for id in &ids {
        rig.wait_for(*id, JobState::Published, Duration::from_secs(300))
            .await;
    }
    let times: Vec<_> = rig.fake.calls().into_iter().map(|c| c.1).collect();
    assert_eq!(times.len(), 5, "each job published once");
    // A bucket of 2 per minute: a burst of 2 at once, then one permit every 30 s.
    for (k, at) in times.iter().enumerate() {
        let earliest = T0 + Duration::from_secs(30 * (k as u64).saturating_sub(1));
        assert!(*at >= earliest, "call {k} at {at}: {times:?}");
        assert!(
            *at <= earliest + Duration::from_millis(200),
            "call {k} at {at}: {times:?}"
        );
    }
    for id in &ids {
        assert_eq!(rig.state(*id).await.attempts, 1, "snoozes spend no attempt");
    }
    rig.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_quota_answer_pauses_the_whole_account_even_without_a_rate_limit() {
    // The platform's daily cap is reached on the first publish: the account's other jobs wait
    // for the platform's time instead of each asking again; other accounts go on.
    let (store, fake, clock) = rig(|f| {
        f.on_publish = refuse_first(|| {
            Error::quota("the daily publishing limit is reached")
                .with_retry_after(Duration::from_secs(3600))
        });
    });
    let rig = start(store, fake, clock, |b| b);
    let first = rig.schedule("p0", T0).await;
    rig.wait_for(first, JobState::RetryScheduled, Duration::from_secs(5))
        .await;
    let second = rig.schedule("p1", T0 + Duration::from_secs(10)).await;
    let elsewhere = AccountRef::new(TenantId::new("acme"), Platform::Facebook, "other-page");
    let other = rig
        .store
        .schedule(
            &tenant(),
            &PostKey::new("q"),
            &Post::new().with_text("q"),
            &[Target::feed(elsewhere)],
            T0 + Duration::from_secs(10),
        )
        .await
        .unwrap()[0]
        .id;
    rig.wait_for(other, JobState::Published, Duration::from_secs(60))
        .await;
    tokio::time::sleep(Duration::from_secs(600)).await;
    assert_ne!(rig.state(second).await.state, JobState::Published);
    assert_eq!(
        rig.fake.ops().len(),
        2,
        "only p0 and the other account's job were sent"
    );

    for id in [first, second] {
        rig.wait_for(id, JobState::Published, Duration::from_secs(3600))
            .await;
    }
    let calls = rig.fake.calls();
    assert_eq!(calls.len(), 4, "{calls:?}");
    for (_, at) in &calls[2..] {
        assert!(*at >= T0 + Duration::from_secs(3600), "{calls:?}");
    }
    assert_eq!(
        rig.state(second).await.attempts,
        1,
        "the wait spent no attempt"
    );
    rig.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_quota_without_retry_after_holds_the_account_until_the_refused_jobs_retry() {
    // Instagram's publishing limit, read before a publish, answers Quota with no time: the
    // account's other jobs wait for the refused job's retry instead of each being refused in
    // turn and spending an attempt.
    let (store, fake, clock) = rig(|f| {
        f.on_publish = refuse_first(|| Error::quota("50 of 50 API posts in the last 24 hours"));
    });
    let rig = start(store, fake, clock, |b| {
        b.retry_policy(
            RetryPolicy::default()
                .with_max_attempts(4)
                .with_base(Duration::from_secs(3600))
                .with_cap(Duration::from_secs(3600)),
        )
    });
    let first = rig.schedule("p0", T0).await;
    rig.wait_for(first, JobState::RetryScheduled, Duration::from_secs(5))
        .await;
    let retry_at = rig.state(first).await.run_at.expect("a retry time");
    let second = rig.schedule("p1", rig.fake.clock.now()).await;
    for id in [first, second] {
        rig.wait_for(id, JobState::Published, Duration::from_secs(7200))
            .await;
    }
    let calls = rig.fake.calls();
    assert_eq!(calls.len(), 3, "{calls:?}");
    for (_, at) in &calls[1..] {
        assert!(
            *at >= retry_at,
            "called at {at}, before {retry_at}: {calls:?}"
        );
    }
    assert_eq!(
        rig.state(second).await.attempts,
        1,
        "the wait spent no attempt"
    );
    rig.stop().await;
}

#[tokio::test(start_paused = true)]
async fn an_unknown_outcome_over_the_rate_budget_is_reconciled_later_never_published_again() {
    // Found by the chaos soak: the reconcile of an unknown outcome, claimed while the account
    // was over its budget, was snoozed into `retry_scheduled` and then published again.
    let (store, fake, clock) = rig(|f| {
        f.on_publish = Box::new(|_| Err(Error::unknown_outcome("the response was lost")));
    });
    let rig = start(store, fake, clock, |b| {
        b.rate_limit(Platform::Facebook, RateLimit::per_minute(1).unwrap())
            .reconcile(Duration::from_secs(5), Duration::from_secs(3600))
    });
    let id = rig.schedule("p0", T0).await;
    // The publish takes the minute's only permit; the reconcile due 5 s later is over budget.
    rig.wait_for(id, JobState::UnknownOutcome, Duration::from_secs(2))
        .await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    let job = rig.state(id).await;
    assert_eq!(job.state, JobState::UnknownOutcome, "{:?}", rig.fake.ops());
    assert!(job.run_at.is_some(), "still to be reconciled");
    // Once a permit is free, the job is reconciled, never published again.
    tokio::time::sleep(Duration::from_secs(300)).await;
    let ops = rig.fake.ops();
    assert_eq!(
        ops.iter().filter(|o| **o == "publish").count(),
        1,
        "{ops:?}"
    );
    assert!(ops.contains(&"reconcile"), "{ops:?}");
    rig.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_panicking_publisher_sends_its_job_to_reconciliation_and_frees_its_slot() {
    let (store, fake, clock) = rig(|f| {
        f.on_publish = Box::new(|n| {
            assert!(n != 0, "the publisher panics on its first call");
            Ok(Outcome::Published(receipt(&format!("fb-{n}"))))
        });
        f.on_reconcile = Box::new(|_| Ok(Reconciliation::NotPublished));
    });
    // One slot: the second job runs only if the panicked one gave its slot back.
    let rig = start(store, fake, clock, |b| {
        b.concurrency(1)
            .reconcile(Duration::from_secs(60), Duration::from_secs(3600))
    });
    let first = rig.schedule("p1", T0).await;
    rig.wait_for(first, JobState::UnknownOutcome, Duration::from_secs(5))
        .await;
    let job = rig.state(first).await;
    assert_eq!(job.lease_owner, None, "the lease is released, not renewed");
    assert_eq!(
        job.last_error.as_ref().map(|e| e.kind.as_str()),
        Some("unknown_outcome")
    );
    let second = rig.schedule("p2", T0).await;
    rig.wait_for(second, JobState::Published, Duration::from_secs(5))
        .await;
    // The platform says the first was not published: only then is it sent again.
    rig.wait_for(first, JobState::Published, Duration::from_secs(600))
        .await;
    assert_eq!(
        rig.fake.ops(),
        ["publish", "publish", "reconcile", "publish"]
    );
    rig.stop().await;
}

/// A receiver that never answers.
struct Hang;

#[async_trait]
impl cmis_core::Notifier for Hang {
    async fn notify(&self, _: &cmis_core::Notification) -> Result<()> {
        std::future::pending().await
    }
}

/// One delivery attempt: its delivery id, kind and receipt's post id.
type Attempt = (Option<String>, NotificationKind, Option<String>);

/// A receiver that records every attempt and refuses the first one.
#[derive(Default)]
struct Flaky {
    attempts: Mutex<Vec<Attempt>>,
}

#[async_trait]
impl cmis_core::Notifier for Flaky {
    async fn notify(&self, n: &cmis_core::Notification) -> Result<()> {
        let mut a = self.attempts.lock().unwrap();
        let receipt = n.receipt.as_ref().map(|r| r.post_id.to_string());
        a.push((n.id.clone(), n.kind, receipt));
        if a.len() == 1 {
            return Err(Error::transient("503 from the receiver"));
        }
        Ok(())
    }
}

/// Review N3: notifications used to be sent inline by the completion writer, so a receiver
/// that hangs stopped every completion, then every claim. Now they wait in the outbox.
#[tokio::test(start_paused = true)]
async fn a_receiver_that_hangs_never_holds_back_publishing() {
    let (store, fake, clock) = rig(|f| {
        f.on_publish = Box::new(|n| {
            if n < 4 {
                Err(Error::rejected("refused"))
            } else {
                Ok(Outcome::Published(receipt(&format!("fb-{n}"))))
            }
        });
    });
    let rig = start(store, fake, clock, |b| {
        b.concurrency(4)
            .batch_size(2)
            .notifier(Arc::new(Hang))
            .delivery(cmis_scheduler::DeliveryPolicy::default())
    });
    let mut ids = Vec::new();
    for i in 0..12 {
        ids.push(rig.schedule(&format!("p{i}"), T0).await);
    }
    let started = tokio::time::Instant::now();
    for id in &ids {
        while !rig.state(*id).await.state.is_finished() {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "publishing waited for the receiver"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    assert_eq!(rig.fake.ops().len(), 12);
    // Every outcome's notification is kept until the receiver takes it.
    assert_eq!(rig.store.undelivered().await.unwrap(), 12);
    let stopping = tokio::time::Instant::now();
    rig.stop().await;
    assert!(
        stopping.elapsed() <= Duration::from_secs(6),
        "shutdown waited for the receiver"
    );
}

/// Item 2: every outcome is told, successes too (with the platform's receipt), through the
/// outbox: a refused attempt is tried again later with the same delivery id.
#[tokio::test(start_paused = true)]
async fn every_outcome_is_notified_through_the_outbox() {
    let (store, fake, clock) = rig(|_| {});
    let flaky = Arc::new(Flaky::default());
    let policy = cmis_scheduler::DeliveryPolicy::default();
    let rig = start(store, fake, clock, |b| {
        b.notifier(flaky.clone()).delivery(policy)
    });
    let id = rig.schedule("p", T0).await;
    rig.wait_for(id, JobState::Published, Duration::from_secs(5))
        .await;
    rig.drained().await;
    let attempts = flaky.attempts.lock().unwrap().clone();
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    let (first, second) = (&attempts[0], &attempts[1]);
    assert_eq!(first.1, NotificationKind::Published);
    assert_eq!(first.2.as_deref(), Some("fb-0"), "the receipt goes with it");
    assert!(first.0.as_deref().is_some_and(|id| id.starts_with("msg_")));
    assert_eq!(first, second, "the retry has the same delivery id");
    rig.stop().await;
}

/// Review N2: a reconciliation that finds nothing published drops the dead checkpoint, so the
/// job is published anew instead of resuming the dead upload forever.
#[tokio::test(start_paused = true)]
async fn nothing_published_is_published_anew_not_resumed() {
    let cp = Checkpoint::new(Platform::Facebook, "uploading", &"u-1").unwrap();
    let (store, fake, clock) = rig(move |f| {
        let pending = cp.clone();
        f.checkpoint = Some(cp);
        f.on_publish = Box::new(move |n| {
            if n == 0 {
                Ok(Outcome::Pending(pending.clone()))
            } else {
                Ok(Outcome::Published(receipt("fb-again")))
            }
        });
        f.on_resume = Box::new(|_| Err(Error::unknown_outcome("the status call timed out")));
        f.on_reconcile = Box::new(|_| Ok(Reconciliation::NotPublished));
    });
    let rig = start(store, fake, clock, |b| b);
    let id = rig.schedule("p", T0).await;
    rig.wait_for(id, JobState::Published, Duration::from_secs(600))
        .await;
    assert_eq!(
        rig.fake.ops(),
        ["publish", "resume", "reconcile", "publish"]
    );
    rig.stop().await;
}

/// Review N8: a job of a platform this process has no publisher for is not claimed (it waits
/// for a process that has one) instead of failing silently.
#[tokio::test(start_paused = true)]
async fn jobs_of_a_platform_without_a_publisher_wait_for_one() {
    let (store, fake, clock) = rig(|_| {});
    let rig = start(store, fake, clock, |b| b);
    let tiktok = Target::feed(AccountRef::new(
        TenantId::new("acme"),
        Platform::TikTok,
        "creator",
    ));
    let id = rig
        .store
        .schedule(
            &tenant(),
            &PostKey::new("t"),
            &Post::new().with_text("t"),
            &[tiktok],
            T0,
        )
        .await
        .unwrap()[0]
        .id;
    tokio::time::sleep(Duration::from_secs(30)).await;
    let job = rig.state(id).await;
    assert_eq!((job.state, job.attempts), (JobState::Scheduled, 0));
    assert!(rig.fake.ops().is_empty());
    assert!(rig.notified().await.is_empty());
    rig.stop().await;
}

/// Review N5/N7: a worker whose lease was lost (rescued, given to another worker) stops its
/// call before the connector's next step, instead of driving the publish beside the new holder.
#[tokio::test(start_paused = true)]
async fn a_lost_lease_stops_its_call() {
    let (store, fake, clock) = rig(|f| f.delay = Duration::from_secs(3600));
    let rig = start(store, fake, clock, |b| b.lease(Duration::from_secs(30)));
    let id = rig.schedule("p", T0).await;
    while rig.fake.ops().is_empty() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Someone else settles the job behind the worker's back (as a rescue and a new claim do).
    let lease = rig.state(id).await.lease().unwrap();
    let gone = cmis_scheduler::Completion::Snooze {
        at: T0 + Duration::from_secs(7200),
    };
    assert!(
        rig.store
            .complete(&[(lease, gone)])
            .await
            .unwrap()
            .is_empty()
    );
    // Within a heartbeat the call is stopped: its slot is free and it never answers.
    tokio::time::sleep(Duration::from_secs(11)).await;
    let stopping = tokio::time::Instant::now();
    rig.stop().await;
    assert!(
        stopping.elapsed() < Duration::from_secs(60),
        "shutdown waited for the stopped call"
    );
}
