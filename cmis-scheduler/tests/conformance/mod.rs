//! The store conformance suite: every backend runs these same cases (see `sqlite.rs`,
//! `postgres.rs`). Time is a manual clock, so lease expiry needs no sleep.

#![allow(dead_code, unreachable_pub)]

pub mod admin;
pub use admin::*;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cmis_core::{
    AccountRef, AuditRecord, AuditSink, CasOutcome, Checkpoint, Clock, Credential, CredentialStore,
    ErrorKind, ExposeSecret, Platform, Post, PostKey, Receipt, SecretString, Surface, Target,
    TenantId,
};
use cmis_scheduler::{
    Change, Completion, JobError, JobFilter, JobState, Lease, NewPost, Phase, ScheduleStore,
    UserAction,
};
use time::OffsetDateTime;
use time::macros::datetime;

pub const T0: OffsetDateTime = datetime!(2026-06-01 12:00 UTC);

/// A clock the test moves by hand.
#[derive(Debug)]
pub struct ManualClock(Mutex<OffsetDateTime>);

impl ManualClock {
    pub fn new() -> Arc<Self> {
        Arc::new(Self(Mutex::new(T0)))
    }
    pub fn advance(&self, d: Duration) {
        let mut t = self.0.lock().unwrap();
        *t += d;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap()
    }
}

pub trait Store: ScheduleStore + CredentialStore + AuditSink + 'static {}
impl<T: ScheduleStore + CredentialStore + AuditSink + 'static> Store for T {}

/// How a backend makes stores for the suite's job cases.
pub trait Harness {
    type S: cmis_scheduler::admin::AdminStore + 'static;
    /// A store on a new, empty database (or schema), with `clock`.
    fn fresh(&self, clock: Arc<ManualClock>) -> impl Future<Output = Arc<Self::S>>;
    /// Another store on the same database as the last `fresh` one (migrations run again).
    fn reopen(&self, clock: Arc<ManualClock>) -> impl Future<Output = Arc<Self::S>>;
}

/// A database backend: its stores also keep credentials and the audit sink, and the suite can
/// look at (and tamper with) what the database holds.
pub trait DbHarness: Harness<S: Store> {
    /// Every byte the database holds about credentials, as stored.
    fn raw_credentials(&self) -> impl Future<Output = Vec<u8>>;
    /// Runs `sql` on the last `fresh` database as someone with direct access would.
    fn raw_sql(&self, sql: &str) -> impl Future<Output = Result<(), String>>;
    /// Drops the triggers that keep the audit trail append-only (as an intruder would).
    fn drop_audit_guard(&self) -> impl Future<Output = ()>;
    /// Opens another store on the last `fresh` database, or says why it could not.
    fn try_reopen(
        &self,
        clock: Arc<ManualClock>,
    ) -> impl Future<Output = Result<Arc<Self::S>, String>>;
}

pub fn tenant(name: &str) -> TenantId {
    TenantId::new(name)
}

pub fn target(tenant: &str, account: &str) -> Target {
    Target::feed(AccountRef::new(
        TenantId::new(tenant),
        Platform::Facebook,
        account,
    ))
}

fn post() -> Post {
    Post::new().with_text("hello")
}

fn receipt(id: &str) -> Receipt {
    Receipt::new(
        Platform::Facebook,
        "page".into(),
        cmis_core::PostId::new(id),
    )
}

fn err(kind: ErrorKind) -> JobError {
    JobError::new(kind, "boom")
}

async fn schedule_n<S: ScheduleStore>(
    s: &S,
    tenant_: &str,
    n: usize,
    at: OffsetDateTime,
) -> Vec<i64> {
    let mut ids = Vec::new();
    for i in 0..n {
        let jobs = s
            .schedule(
                &tenant(tenant_),
                &PostKey::new(format!("p{i}")),
                &post(),
                &[target(tenant_, "page")],
                at,
            )
            .await
            .unwrap();
        ids.push(jobs[0].id.get());
    }
    ids
}

async fn actions<S: ScheduleStore>(s: &S, t: &str, job: cmis_scheduler::JobId) -> Vec<String> {
    s.audit_trail(&tenant(t), Some(job))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.action)
        .collect()
}

pub async fn migrations_from_empty<H: DbHarness>(h: &H) {
    let clock = ManualClock::new();
    let s = h.fresh(clock.clone()).await;
    let jobs = s
        .schedule(
            &tenant("a"),
            &PostKey::new("p"),
            &post(),
            &[target("a", "1")],
            T0,
        )
        .await
        .unwrap();
    // Opening the same database again applies nothing twice and loses nothing.
    let again = h.reopen(clock).await;
    let job = ScheduleStore::get(&*again, &tenant("a"), jobs[0].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.state, JobState::Scheduled);
    assert_eq!(job.post, post());
}

pub async fn schedule_and_uniqueness<H: Harness>(h: &H) {
    let s = h.fresh(ManualClock::new()).await;
    let t = tenant("a");
    let targets = [target("a", "1"), target("a", "2")];
    let jobs = s
        .schedule(&t, &PostKey::new("p"), &post(), &targets, T0)
        .await
        .unwrap();
    assert_eq!(jobs.len(), 2);
    assert!(
        jobs.iter()
            .all(|j| j.state == JobState::Scheduled && j.attempts == 0)
    );
    assert_eq!(jobs[0].scheduled_for, T0);
    assert_eq!(jobs[1].target, targets[1]);

    // The same post to the same target again: refused while the first is active, and the
    // whole request is refused (the new target was not created either).
    let e = s
        .schedule(
            &t,
            &PostKey::new("p"),
            &post(),
            &[target("a", "3"), target("a", "1")],
            T0,
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert_eq!(
        ScheduleStore::list(&*s, &t, &JobFilter::all())
            .await
            .unwrap()
            .len(),
        2
    );

    // Another surface of the same account is another target.
    let reel = Target::new(targets[0].account.clone(), Surface::Reel);
    s.schedule(&t, &PostKey::new("p"), &post(), &[reel], T0)
        .await
        .unwrap();

    // Once cancelled, it may be scheduled again.
    assert!(s.cancel(&t, jobs[0].id).await.unwrap().is_applied());
    s.schedule(&t, &PostKey::new("p"), &post(), &[targets[0].clone()], T0)
        .await
        .unwrap();

    // Bad input: nothing written.
    for bad in [
        vec![],
        vec![target("b", "1")],
        vec![target("a", "9"), target("a", "9")],
    ] {
        let e = s
            .schedule(&t, &PostKey::new("q"), &post(), &bad, T0)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{bad:?}");
    }
    let list = ScheduleStore::list(&*s, &t, &JobFilter::state(JobState::Scheduled))
        .await
        .unwrap();
    assert_eq!(list.len(), 3);
    let cancelled = ScheduleStore::list(&*s, &t, &JobFilter::state(JobState::Cancelled))
        .await
        .unwrap();
    assert_eq!(cancelled.len(), 1);
    let p = ScheduleStore::list(&*s, &t, &JobFilter::all().with_post(PostKey::new("q")))
        .await
        .unwrap();
    assert!(p.is_empty());
}

pub async fn schedule_many_is_all_or_nothing<H: Harness>(h: &H) {
    let s = h.fresh(ManualClock::new()).await;
    let t = tenant("a");
    let batch: Vec<_> = (0..20)
        .map(|i| {
            NewPost::new(
                PostKey::new(format!("b{i}")),
                post(),
                vec![target("a", "1"), target("a", "2")],
                T0,
            )
        })
        .collect();
    assert_eq!(s.schedule_many(&t, &batch).await.unwrap(), 40);
    // One clash (b3 to target 1 is active) refuses the whole batch.
    let clash = vec![
        NewPost::new(PostKey::new("c0"), post(), vec![target("a", "1")], T0),
        NewPost::new(PostKey::new("b3"), post(), vec![target("a", "1")], T0),
    ];
    let e = s.schedule_many(&t, &clash).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    let e = s
        .schedule_many(&tenant("b"), &clash[..1])
        .await
        .unwrap_err();
    assert_eq!(
        e.kind(),
        ErrorKind::InvalidInput,
        "targets of another tenant"
    );
    let all = ScheduleStore::list(&*s, &t, &JobFilter::all())
        .await
        .unwrap();
    assert_eq!(all.len(), 40);
    assert!(
        all.iter()
            .all(|j| j.state == JobState::Scheduled && j.run_at == Some(T0))
    );
    let trail = s.audit_trail(&t, Some(all[7].id)).await.unwrap();
    assert_eq!(trail.len(), 1);
    assert_eq!(trail[0].action, "job.scheduled");
    assert_eq!(
        s.claim("w", 100, Duration::from_secs(5))
            .await
            .unwrap()
            .len(),
        40
    );
}

pub async fn tenancy_isolation<H: Harness>(h: &H) {
    let s = h.fresh(ManualClock::new()).await;
    let a = tenant("a");
    let b = tenant("b");
    let job = &s
        .schedule(&a, &PostKey::new("p"), &post(), &[target("a", "1")], T0)
        .await
        .unwrap()[0];
    assert!(ScheduleStore::get(&*s, &b, job.id).await.unwrap().is_none());
    assert!(
        ScheduleStore::list(&*s, &b, &JobFilter::all())
            .await
            .unwrap()
            .is_empty()
    );
    assert!(s.audit_trail(&b, None).await.unwrap().is_empty());
    assert!(s.audit_trail(&b, Some(job.id)).await.unwrap().is_empty());
    for r in [
        s.cancel(&b, job.id).await,
        s.reschedule(&b, job.id, T0).await,
        s.retry_now(&b, job.id).await,
    ] {
        assert_eq!(r.unwrap_err().kind(), ErrorKind::InvalidInput);
    }
    let still = ScheduleStore::get(&*s, &a, job.id).await.unwrap().unwrap();
    assert_eq!(still.state, JobState::Scheduled);
    assert_eq!(s.audit_trail(&a, Some(job.id)).await.unwrap().len(), 1);
}

pub async fn claim_exclusivity_under_concurrency<H: Harness>(h: &H) {
    let s = h.fresh(ManualClock::new()).await;
    let ids = schedule_n(&*s, "a", 300, T0).await;
    // Not yet due a microsecond early? They are due at T0 exactly, which is now.
    let mut tasks = Vec::new();
    for w in 0..8 {
        let s = Arc::clone(&s);
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let batch = s
                    .claim(&format!("w{w}"), 7, Duration::from_secs(60))
                    .await
                    .unwrap();
                if batch.is_empty() {
                    break;
                }
                for c in batch {
                    assert_eq!(c.lease.owner, format!("w{w}"));
                    assert_eq!(c.lease.token, 1);
                    assert_eq!(c.phase, Phase::Publish);
                    assert_eq!(c.claimed_from, JobState::Scheduled);
                    assert_eq!(c.job.state, JobState::Publishing);
                    assert_eq!(c.job.attempts, 1);
                    mine.push(c.job.id.get());
                }
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let unique: HashSet<_> = all.iter().copied().collect();
    assert_eq!(all.len(), 300, "every job claimed once");
    assert_eq!(unique, ids.into_iter().collect::<HashSet<_>>());
    let trail = s.audit_trail(&tenant("a"), None).await.unwrap();
    assert_eq!(
        trail.iter().filter(|r| r.action == "job.claimed").count(),
        300
    );
}

/// `claim_started`: exclusive under concurrency like `claim`, recorded as started in the same
/// write (an expired lease means `unknown_outcome`), no `job.claimed` record, fenced as usual.
pub async fn claim_started_marks_the_call_started<H: Harness>(h: &H) {
    let clock = ManualClock::new();
    let s = h.fresh(clock.clone()).await;
    let ids = schedule_n(&*s, "a", 120, T0).await;
    let mut tasks = Vec::new();
    for w in 0..6 {
        let s = Arc::clone(&s);
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let batch = s
                    .claim_started(&format!("w{w}"), 5, Duration::from_secs(30))
                    .await
                    .unwrap();
                if batch.is_empty() {
                    break;
                }
                for c in batch {
                    assert_eq!(c.lease.owner, format!("w{w}"));
                    assert_eq!(c.phase, Phase::Publish);
                    assert_eq!(c.job.state, JobState::Publishing);
                    assert_eq!(c.job.attempts, 1);
                    mine.push(c);
                }
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let unique: HashSet<_> = all.iter().map(|c| c.job.id.get()).collect();
    assert_eq!(all.len(), 120, "every job claimed once");
    assert_eq!(unique, ids.into_iter().collect::<HashSet<_>>());
    let trail = s.audit_trail(&tenant("a"), None).await.unwrap();
    assert_eq!(
        trail.iter().filter(|r| r.action == "job.claimed").count(),
        0,
        "the completion or rescue record names the owner instead"
    );
    // One completes; a stale owner cannot; the rest expire and go to reconciliation.
    all.sort_by_key(|c| c.job.id);
    let first = all[0].clone();
    assert!(
        s.complete(&[(first.lease.clone(), Completion::Published(receipt("p-1")))])
            .await
            .unwrap()
            .is_empty()
    );
    let forged = Lease::new(all[1].lease.job, "someone-else", all[1].lease.token);
    assert_eq!(
        s.complete(&[(forged, Completion::Published(receipt("p-x")))])
            .await
            .unwrap()
            .len(),
        1
    );
    clock.advance(Duration::from_secs(31));
    let rescued = s.rescue_expired(1_000).await.unwrap();
    assert_eq!(rescued.len(), 119);
    assert!(
        rescued
            .iter()
            .all(|j| j.state == JobState::UnknownOutcome && j.attempts == 1),
        "a started call is never returned to `scheduled`"
    );
    let again = s
        .claim_started("B", 200, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(again.len(), 119);
    assert!(again.iter().all(|c| c.phase == Phase::Reconcile));
}

pub async fn future_jobs_are_not_claimed<H: Harness>(h: &H) {
    let clock = ManualClock::new();
    let s = h.fresh(clock.clone()).await;
    schedule_n(&*s, "a", 3, T0 + Duration::from_secs(10)).await;
    assert!(
        s.claim("w", 10, Duration::from_secs(60))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.next_due().await.unwrap(),
        Some(T0 + Duration::from_secs(10))
    );
    clock.advance(Duration::from_secs(10));
    assert_eq!(
        s.claim("w", 10, Duration::from_secs(60))
            .await
            .unwrap()
            .len(),
        3
    );
    assert_eq!(s.next_due().await.unwrap(), None);
}

pub async fn fencing_rejects_a_stale_owner<H: Harness>(h: &H) {
    let clock = ManualClock::new();
    let s = h.fresh(clock.clone()).await;
    schedule_n(&*s, "a", 1, T0).await;
    let a = s
        .claim("A", 10, Duration::from_secs(30))
        .await
        .unwrap()
        .remove(0);
    // A stalls past its lease; its call had not started, so the job returns to `scheduled`
    // with the attempt given back, and B claims it with a new token.
    clock.advance(Duration::from_secs(31));
    let rescued = s.rescue_expired(100).await.unwrap();
    assert_eq!(rescued.len(), 1);
    assert_eq!(rescued[0].state, JobState::Scheduled);
    assert_eq!(rescued[0].attempts, 0);
    let b = s
        .claim("B", 10, Duration::from_secs(30))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(b.lease.token, a.lease.token + 1);

    // Every write A tries is rejected and changes nothing.
    let rejected = s
        .complete(&[(a.lease.clone(), Completion::Published(receipt("dup")))])
        .await
        .unwrap();
    assert_eq!(rejected.len(), 1);
    assert!(
        s.mark_started(std::slice::from_ref(&a.lease))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.heartbeat(std::slice::from_ref(&a.lease), Duration::from_secs(30))
            .await
            .unwrap()
            .is_empty()
    );
    let cp = Checkpoint::new(Platform::Facebook, "x", &1).unwrap();
    assert!(s.save_checkpoint(&a.lease, &cp).await.is_err());
    // Same owner, old token: rejected too.
    let forged = Lease::new(b.lease.job, "B", a.lease.token);
    assert_eq!(
        s.complete(&[(
            forged,
            Completion::Missed {
                error: err(ErrorKind::Internal)
            }
        )])
        .await
        .unwrap()
        .len(),
        1
    );

    // B's writes go through.
    assert_eq!(
        s.mark_started(std::slice::from_ref(&b.lease))
            .await
            .unwrap(),
        vec![b.lease.clone()]
    );
    s.save_checkpoint(&b.lease, &cp).await.unwrap();
    assert!(
        s.complete(&[(b.lease.clone(), Completion::Published(receipt("p-1")))])
            .await
            .unwrap()
            .is_empty()
    );
    let job = ScheduleStore::get(&*s, &tenant("a"), b.job.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.state, JobState::Published);
    assert_eq!(job.receipt.unwrap().post_id.as_str(), "p-1");
    assert_eq!(job.checkpoint, Some(cp));
    assert_eq!(job.lease_owner, None);
    // A completion after the job finished is rejected as well.
    assert_eq!(
        s.complete(&[(b.lease.clone(), Completion::Published(receipt("p-2")))])
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        actions(&*s, "a", job.id).await,
        [
            "job.scheduled",
            "job.claimed",
            "job.rescued",
            "job.claimed",
            "job.checkpoint",
            "job.published"
        ]
    );
}

pub async fn lease_expiry<H: Harness>(h: &H) {
    let clock = ManualClock::new();
    let s = h.fresh(clock.clone()).await;
    schedule_n(&*s, "a", 2, T0).await;
    let claimed = s.claim("A", 10, Duration::from_secs(30)).await.unwrap();
    // Only the first one's platform call starts.
    s.mark_started(&[claimed[0].lease.clone()]).await.unwrap();
    // A heartbeat keeps both alive past the first lease.
    clock.advance(Duration::from_secs(20));
    let leases: Vec<_> = claimed.iter().map(|c| c.lease.clone()).collect();
    assert_eq!(
        s.heartbeat(&leases, Duration::from_secs(30))
            .await
            .unwrap()
            .len(),
        2
    );
    clock.advance(Duration::from_secs(20));
    assert!(s.rescue_expired(100).await.unwrap().is_empty());
    clock.advance(Duration::from_secs(11));
    let mut rescued = s.rescue_expired(100).await.unwrap();
    rescued.sort_by_key(|j| j.id);
    // Started: never back to `scheduled`, but `unknown_outcome`, to be reconciled now.
    assert_eq!(rescued[0].state, JobState::UnknownOutcome);
    assert_eq!(rescued[0].run_at, Some(clock.now()));
    assert_eq!(rescued[0].attempts, 1);
    assert_eq!(
        rescued[0].last_error.as_ref().unwrap().kind,
        ErrorKind::UnknownOutcome
    );
    assert_eq!(rescued[1].state, JobState::Scheduled);
    assert_eq!(rescued[1].attempts, 0);
    // Claimed again: one to reconcile, one to publish.
    let mut again = s.claim("B", 10, Duration::from_secs(30)).await.unwrap();
    again.sort_by_key(|c| c.job.id);
    assert_eq!(again[0].phase, Phase::Reconcile);
    assert_eq!(again[0].job.attempts, 1);
    assert_eq!(again[1].phase, Phase::Publish);
    assert_eq!(again[1].job.attempts, 1);
}

pub async fn cancel_and_reschedule_races<H: Harness>(h: &H) {
    let s = h.fresh(ManualClock::new()).await;
    let t = tenant("a");
    let ids = schedule_n(&*s, "a", 60, T0).await;
    let claimer = {
        let s = Arc::clone(&s);
        tokio::spawn(async move {
            let mut got = Vec::new();
            for _ in 0..60 {
                for c in s.claim("w", 1, Duration::from_secs(60)).await.unwrap() {
                    got.push(c.job.id.get());
                }
            }
            got
        })
    };
    let canceller = {
        let s = Arc::clone(&s);
        let ids = ids.clone();
        tokio::spawn(async move {
            let mut cancelled = Vec::new();
            for id in ids.into_iter().rev() {
                match s
                    .cancel(&tenant("a"), cmis_scheduler::JobId::new(id))
                    .await
                    .unwrap()
                {
                    Change::Applied(j) => {
                        assert_eq!(j.state, JobState::Cancelled);
                        cancelled.push(id);
                    }
                    Change::Refused(j) => assert_eq!(j.state, JobState::Publishing),
                    _ => unreachable!(),
                }
            }
            cancelled
        })
    };
    let claimed: HashSet<_> = claimer.await.unwrap().into_iter().collect();
    let cancelled: HashSet<_> = canceller.await.unwrap().into_iter().collect();
    assert!(
        claimed.is_disjoint(&cancelled),
        "a job was both cancelled and claimed"
    );
    assert_eq!(claimed.len() + cancelled.len(), 60);
    // A cancelled job can never be claimed or published.
    assert!(
        s.claim("w2", 100, Duration::from_secs(60))
            .await
            .unwrap()
            .is_empty()
    );

    // Reschedule: moves a waiting job; refused while publishing.
    let ids = s
        .schedule(
            &t,
            &PostKey::new("r"),
            &post(),
            &[target("a", "1"), target("a", "2")],
            T0,
        )
        .await
        .unwrap();
    let later = T0 + Duration::from_secs(3600);
    let moved = s.reschedule(&t, ids[0].id, later).await.unwrap();
    assert!(moved.is_applied());
    assert_eq!(moved.job().run_at, Some(later));
    assert_eq!(moved.job().scheduled_for, later);
    let c = s.claim("w", 10, Duration::from_secs(60)).await.unwrap();
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].job.id, ids[1].id);
    let refused = s.reschedule(&t, ids[1].id, later).await.unwrap();
    assert!(!refused.is_applied());
    assert_eq!(refused.job().state, JobState::Publishing);
    assert!(!s.cancel(&t, ids[1].id).await.unwrap().is_applied());
    // Concurrent reschedules of one job: each applies, in some order, none is lost.
    let mut tasks = Vec::new();
    for k in 1..=5u64 {
        let s = Arc::clone(&s);
        let id = ids[0].id;
        tasks.push(tokio::spawn(async move {
            s.reschedule(&tenant("a"), id, T0 + Duration::from_secs(k))
                .await
                .unwrap()
                .is_applied()
        }));
    }
    for task in tasks {
        assert!(task.await.unwrap());
    }
    let j = ScheduleStore::get(&*s, &t, ids[0].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(j.state, JobState::Scheduled);
    assert_eq!(
        actions(&*s, "a", ids[0].id)
            .await
            .iter()
            .filter(|a| *a == "job.rescheduled")
            .count(),
        6
    );
}

pub async fn completions_follow_the_state_machine<H: Harness>(h: &H) {
    let clock = ManualClock::new();
    let s = h.fresh(clock.clone()).await;
    let t = tenant("a");
    schedule_n(&*s, "a", 5, T0).await;
    let c = s.claim("w", 10, Duration::from_secs(60)).await.unwrap();
    let cp = Checkpoint::new(Platform::Facebook, "container_created", &"c-1").unwrap();
    let later = T0 + Duration::from_secs(30);
    let done = s
        .complete(&[
            (
                c[0].lease.clone(),
                Completion::Pending {
                    checkpoint: cp.clone(),
                    resume_at: later,
                },
            ),
            (
                c[1].lease.clone(),
                Completion::Retry {
                    at: later,
                    error: err(ErrorKind::Transient),
                },
            ),
            (
                c[2].lease.clone(),
                Completion::AwaitingReauth {
                    error: err(ErrorKind::Auth),
                },
            ),
            (
                c[3].lease.clone(),
                Completion::Failed {
                    error: err(ErrorKind::Rejected),
                },
            ),
            (
                c[4].lease.clone(),
                Completion::UnknownOutcome {
                    error: err(ErrorKind::UnknownOutcome),
                    reconcile_at: None,
                    checkpoint: None,
                },
            ),
        ])
        .await
        .unwrap();
    assert!(done.is_empty());
    let get = |i: usize| {
        let s = Arc::clone(&s);
        let id = c[i].job.id;
        async move {
            ScheduleStore::get(&*s, &tenant("a"), id)
                .await
                .unwrap()
                .unwrap()
        }
    };
    let pending = get(0).await;
    assert_eq!(
        (pending.state, pending.run_at, pending.checkpoint.clone()),
        (JobState::Pending, Some(later), Some(cp.clone()))
    );
    let retry = get(1).await;
    assert_eq!((retry.state, retry.attempts), (JobState::RetryScheduled, 1));
    assert_eq!(retry.last_error, Some(err(ErrorKind::Transient)));
    let reauth = get(2).await;
    assert_eq!(
        (reauth.state, reauth.attempts, reauth.run_at),
        (JobState::AwaitingReauth, 0, None)
    );
    let failed = get(3).await;
    assert_eq!(
        (failed.state, failed.last_error.clone()),
        (JobState::Failed, Some(err(ErrorKind::Rejected)))
    );
    let unknown = get(4).await;
    assert_eq!(
        (unknown.state, unknown.run_at),
        (JobState::UnknownOutcome, None)
    );

    // Nothing is due until `later`; parked jobs never are.
    assert!(
        s.claim("w", 10, Duration::from_secs(60))
            .await
            .unwrap()
            .is_empty()
    );
    clock.advance(Duration::from_secs(30));
    let mut again = s.claim("w", 10, Duration::from_secs(60)).await.unwrap();
    again.sort_by_key(|c| c.job.id);
    assert_eq!(again.len(), 2);
    assert_eq!((again[0].phase, again[0].job.attempts), (Phase::Resume, 1));
    assert_eq!(again[0].job.checkpoint, Some(cp));
    assert_eq!((again[1].phase, again[1].job.attempts), (Phase::Publish, 2));

    // retry_now: dead jobs run again with fresh attempts; an unknown outcome is reconciled,
    // never re-published; other states refuse.
    let f = s.retry_now(&t, c[3].job.id).await.unwrap();
    assert!(f.is_applied());
    assert_eq!(
        (f.job().state, f.job().attempts, f.job().run_at),
        (JobState::Scheduled, 0, Some(clock.now()))
    );
    let u = s.retry_now(&t, c[4].job.id).await.unwrap();
    assert_eq!(
        (u.job().state, u.job().run_at),
        (JobState::UnknownOutcome, Some(clock.now()))
    );
    assert!(!s.retry_now(&t, c[0].job.id).await.unwrap().is_applied());
    let r = s.retry_now(&t, c[2].job.id).await.unwrap();
    assert_eq!(r.job().state, JobState::Scheduled);
    let mut phases: Vec<_> = s
        .claim("w", 10, Duration::from_secs(60))
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.job.id, c.phase))
        .collect();
    phases.sort_by_key(|(id, _)| *id);
    assert_eq!(
        phases,
        vec![
            (c[2].job.id, Phase::Publish),
            (c[3].job.id, Phase::Publish),
            (c[4].job.id, Phase::Reconcile)
        ]
    );
    assert_eq!(
        actions(&*s, "a", c[4].job.id).await,
        [
            "job.scheduled",
            "job.claimed",
            "job.unknown_outcome",
            "job.reconcile_now",
            "job.claimed"
        ]
    );
}

/// One row of the user-operation table: from `from`, `op` is applied or refused, and leaves the
/// job in `to` with `attempts` spent, due now (`Some(true)`), due at the new time of a
/// reschedule (`Some(false)`), or not due (`None`).
struct Row {
    from: JobState,
    op: UserAction,
    applied: bool,
    to: JobState,
    attempts: u32,
    due: Option<bool>,
}

const fn row(
    from: JobState,
    op: UserAction,
    applied: bool,
    to: JobState,
    attempts: u32,
    due: Option<bool>,
) -> Row {
    Row {
        from,
        op,
        applied,
        to,
        attempts,
        due,
    }
}

/// Puts a new job of post `key` into `state`, the way the scheduler would get it there.
async fn job_in<S: ScheduleStore>(s: &S, key: &str, state: JobState) -> cmis_scheduler::JobId {
    let jobs = s
        .schedule(
            &tenant("a"),
            &PostKey::new(key),
            &post(),
            &[target("a", key)],
            T0,
        )
        .await
        .unwrap();
    let id = jobs[0].id;
    if state == JobState::Scheduled {
        return id;
    }
    if state == JobState::Cancelled {
        assert!(s.cancel(&tenant("a"), id).await.unwrap().is_applied());
        return id;
    }
    let claimed = s.claim("w", 1, Duration::from_secs(60)).await.unwrap();
    assert_eq!(claimed.len(), 1, "one due job at a time");
    let lease = claimed[0].lease.clone();
    let later = T0 + Duration::from_secs(600);
    let completion = match state {
        JobState::Publishing => {
            assert_eq!(s.mark_started(&[lease]).await.unwrap().len(), 1);
            return id;
        }
        JobState::Pending => Completion::Pending {
            checkpoint: Checkpoint::new(Platform::Facebook, "container_created", &"c").unwrap(),
            resume_at: later,
        },
        JobState::RetryScheduled => Completion::Retry {
            at: later,
            error: err(ErrorKind::Transient),
        },
        JobState::Published => Completion::Published(receipt(key)),
        JobState::Failed => Completion::Failed {
            error: err(ErrorKind::Rejected),
        },
        JobState::UnknownOutcome => Completion::UnknownOutcome {
            error: err(ErrorKind::UnknownOutcome),
            reconcile_at: Some(later),
            checkpoint: None,
        },
        JobState::Missed => Completion::Missed {
            error: err(ErrorKind::Transient),
        },
        JobState::AwaitingReauth => Completion::AwaitingReauth {
            error: err(ErrorKind::Auth),
        },
        other => panic!("no recipe for {other}"),
    };
    assert!(s.complete(&[(lease, completion)]).await.unwrap().is_empty());
    id
}

/// The user operations (reschedule, cancel, retry now) from every state, as one table that every
/// store must follow exactly: a store that drifts from the others fails here on the row where
/// it does.
pub async fn user_operations_follow_one_table<H: Harness>(h: &H) {
    use JobState::*;
    const A: bool = true;
    const R: bool = false;
    const RESCHEDULE: UserAction = UserAction::Reschedule;
    const CANCEL: UserAction = UserAction::Cancel;
    const RETRY_NOW: UserAction = UserAction::RetryNow;
    #[rustfmt::skip]
    let table = [
        row(Scheduled,      RESCHEDULE, A, Scheduled,      0, Some(false)),
        row(Scheduled,      CANCEL,     A, Cancelled,      0, None),
        row(Scheduled,      RETRY_NOW,  R, Scheduled,      0, Some(true)),
        row(Publishing,     RESCHEDULE, R, Publishing,     1, Some(true)),
        row(Publishing,     CANCEL,     R, Publishing,     1, Some(true)),
        row(Publishing,     RETRY_NOW,  R, Publishing,     1, Some(true)),
        row(Pending,        RESCHEDULE, R, Pending,        1, Some(false)),
        row(Pending,        CANCEL,     A, Cancelled,      1, None),
        row(Pending,        RETRY_NOW,  R, Pending,        1, Some(false)),
        row(RetryScheduled, RESCHEDULE, A, Scheduled,      0, Some(false)),
        row(RetryScheduled, CANCEL,     A, Cancelled,      1, None),
        row(RetryScheduled, RETRY_NOW,  R, RetryScheduled, 1, Some(false)),
        row(Published,      RESCHEDULE, R, Published,      1, None),
        row(Published,      CANCEL,     R, Published,      1, None),
        row(Published,      RETRY_NOW,  R, Published,      1, None),
        row(Failed,         RESCHEDULE, A, Scheduled,      0, Some(false)),
        row(Failed,         CANCEL,     R, Failed,         1, None),
        row(Failed,         RETRY_NOW,  A, Scheduled,      0, Some(true)),
        row(UnknownOutcome, RESCHEDULE, R, UnknownOutcome, 1, Some(false)),
        row(UnknownOutcome, CANCEL,     A, Cancelled,      1, None),
        row(UnknownOutcome, RETRY_NOW,  A, UnknownOutcome, 1, Some(true)),
        row(Missed,         RESCHEDULE, A, Scheduled,      0, Some(false)),
        row(Missed,         CANCEL,     R, Missed,         1, None),
        row(Missed,         RETRY_NOW,  A, Scheduled,      0, Some(true)),
        row(AwaitingReauth, RESCHEDULE, A, Scheduled,      0, Some(false)),
        row(AwaitingReauth, CANCEL,     A, Cancelled,      0, None),
        row(AwaitingReauth, RETRY_NOW,  A, Scheduled,      0, Some(true)),
        row(Cancelled,      RESCHEDULE, R, Cancelled,      0, None),
        row(Cancelled,      CANCEL,     R, Cancelled,      0, None),
        row(Cancelled,      RETRY_NOW,  R, Cancelled,      0, None),
    ];
    // The table is the crate's own (`JobState::accepts`, which the stores run): a row that
    // disagrees with it is a mistake in one or the other.
    for r in &table {
        assert_eq!(
            r.applied,
            r.from.accepts(r.op),
            "the table and JobState::accepts disagree on {:?} from {}",
            r.op,
            r.from
        );
    }
    let covered: HashSet<(JobState, UserAction)> = table.iter().map(|r| (r.from, r.op)).collect();
    for state in JobState::ALL {
        for op in UserAction::ALL {
            assert!(
                covered.contains(&(state, op)),
                "the table has no row for {op:?} from {state}"
            );
        }
    }
    let t = tenant("a");
    let new_time = T0 + Duration::from_secs(3600);
    let mut differences = Vec::new();
    for (i, r) in table.iter().enumerate() {
        // A store of its own for each row, so that no job left due by an earlier row is claimed.
        let clock = ManualClock::new();
        let s = h.fresh(clock.clone()).await;
        let id = job_in(&*s, &format!("k{i}"), r.from).await;
        let before = ScheduleStore::get(&*s, &t, id).await.unwrap().unwrap();
        assert_eq!(before.state, r.from, "the recipe for {}", r.from);
        let change = match r.op {
            UserAction::Reschedule => s.reschedule(&t, id, new_time).await,
            UserAction::Cancel => s.cancel(&t, id).await,
            _ => s.retry_now(&t, id).await,
        }
        .unwrap();
        let job = ScheduleStore::get(&*s, &t, id).await.unwrap().unwrap();
        let due = job.run_at.map(|at| at == clock.now());
        let got = (change.is_applied(), job.state, job.attempts, due);
        let want = (r.applied, r.to, r.attempts, r.due);
        if got != want {
            differences.push(format!(
                "{:?} from {}: (applied, state, attempts, due now) is {got:?}, the table says {want:?}",
                r.op, r.from
            ));
        }
        assert_eq!(change.job(), &job, "the change returns the job as stored");
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

pub async fn snooze_gives_the_attempt_back<H: Harness>(h: &H) {
    let clock = ManualClock::new();
    let s = h.fresh(clock.clone()).await;
    let ids = schedule_n(&*s, "a", 1, T0).await;
    let c = s
        .claim("w", 1, Duration::from_secs(60))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(c.job.attempts, 1);
    let at = T0 + Duration::from_secs(20);
    assert!(
        s.complete(&[(c.lease, Completion::Snooze { at })])
            .await
            .unwrap()
            .is_empty()
    );
    let j = ScheduleStore::get(&*s, &tenant("a"), c.job.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (j.state, j.attempts, j.run_at),
        (JobState::RetryScheduled, 0, Some(at))
    );
    assert!(
        s.claim("w", 1, Duration::from_secs(60))
            .await
            .unwrap()
            .is_empty()
    );
    clock.advance(Duration::from_secs(20));
    let again = s.claim("w", 1, Duration::from_secs(60)).await.unwrap();
    assert_eq!((again[0].job.attempts, again[0].phase), (1, Phase::Publish));
    assert_eq!(
        actions(&*s, "a", cmis_scheduler::JobId::new(ids[0])).await,
        ["job.scheduled", "job.claimed", "job.snoozed", "job.claimed"]
    );
}

/// A rate-limited publish gives its attempt back, keeps the platform's error, and runs again
/// at the time it was given: a throttled account never exhausts a post's attempts.
pub async fn a_throttled_job_gets_its_attempt_back<H: Harness>(h: &H) {
    let clock = ManualClock::new();
    let s = h.fresh(clock.clone()).await;
    let ids = schedule_n(&*s, "a", 1, T0).await;
    let id = cmis_scheduler::JobId::new(ids[0]);
    for round in 1..=3 {
        let c = s
            .claim("w", 1, Duration::from_secs(60))
            .await
            .unwrap()
            .remove(0);
        assert_eq!(
            c.job.attempts, 1,
            "round {round}: one attempt, however often throttled"
        );
        let at = clock.now() + Duration::from_secs(120);
        let done = s
            .complete(&[(
                c.lease,
                Completion::Throttled {
                    at,
                    error: err(ErrorKind::RateLimited),
                },
            )])
            .await
            .unwrap();
        assert!(done.is_empty());
        let j = ScheduleStore::get(&*s, &tenant("a"), id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (j.state, j.attempts, j.run_at),
            (JobState::RetryScheduled, 0, Some(at)),
            "round {round}"
        );
        assert_eq!(j.last_error.map(|e| e.kind), Some(ErrorKind::RateLimited));
        assert!(
            s.claim("w", 1, Duration::from_secs(60))
                .await
                .unwrap()
                .is_empty()
        );
        clock.advance(Duration::from_secs(120));
    }
    assert_eq!(
        actions(&*s, "a", id).await,
        [
            "job.scheduled",
            "job.claimed",
            "job.throttled",
            "job.claimed",
            "job.throttled",
            "job.claimed",
            "job.throttled"
        ]
    );
}

pub async fn leader_election<H: Harness>(h: &H) {
    let clock = ManualClock::new();
    let s = h.fresh(clock.clone()).await;
    let ttl = Duration::from_secs(10);
    assert!(s.try_lead("maint", "A", ttl).await.unwrap());
    assert!(!s.try_lead("maint", "B", ttl).await.unwrap());
    assert!(s.try_lead("other", "B", ttl).await.unwrap());
    clock.advance(Duration::from_secs(5));
    assert!(s.try_lead("maint", "A", ttl).await.unwrap(), "renewal");
    clock.advance(Duration::from_secs(9));
    assert!(
        !s.try_lead("maint", "B", ttl).await.unwrap(),
        "renewed lease still held"
    );
    clock.advance(Duration::from_secs(2));
    assert!(
        s.try_lead("maint", "B", ttl).await.unwrap(),
        "expired lease taken over"
    );
    assert!(!s.try_lead("maint", "A", ttl).await.unwrap());
    s.resign("maint", "B").await.unwrap();
    assert!(s.try_lead("maint", "A", ttl).await.unwrap());
}

pub async fn cleanup_moves_finished_jobs_to_history<H: Harness>(h: &H) {
    let clock = ManualClock::new();
    let s = h.fresh(clock.clone()).await;
    let t = tenant("a");
    let ids = schedule_n(&*s, "a", 3, T0).await;
    let c = s.claim("w", 2, Duration::from_secs(60)).await.unwrap();
    s.complete(&[(c[0].lease.clone(), Completion::Published(receipt("x")))])
        .await
        .unwrap();
    clock.advance(Duration::from_secs(3600));
    assert_eq!(s.cleanup(clock.now(), 100).await.unwrap(), 1);
    assert_eq!(s.cleanup(clock.now(), 100).await.unwrap(), 0);
    let j = ScheduleStore::get(&*s, &t, c[0].job.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(j.state, JobState::Published);
    assert_eq!(
        ScheduleStore::list(&*s, &t, &JobFilter::all())
            .await
            .unwrap()
            .len(),
        3
    );
    assert_eq!(ids.len(), 3);
    // A history row keeps its id: new jobs never reuse it.
    let new = s
        .schedule(
            &t,
            &PostKey::new("new"),
            &post(),
            &[target("a", "page")],
            T0,
        )
        .await
        .unwrap();
    assert!(new[0].id.get() > *ids.iter().max().unwrap());
}

pub async fn credentials_are_encrypted_and_versioned<H: DbHarness>(h: &H) {
    let s = h.fresh(ManualClock::new()).await;
    let acct = AccountRef::new(TenantId::new("a"), Platform::TikTok, "open-1");
    let cred = Credential::new(acct.clone(), SecretString::from("act.CLEAR-ACCESS-TOKEN"))
        .with_refresh_token(SecretString::from("rft.CLEAR-REFRESH-TOKEN"))
        .with_access_expires_at(T0 + Duration::from_secs(3600))
        .with_scopes(["video.publish"]);
    let v1 = s.put_credential(cred.clone()).await.unwrap();
    assert_eq!(v1.version, 1);
    let got = CredentialStore::credential(&*s, &acct)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.access_token.expose_secret(), "act.CLEAR-ACCESS-TOKEN");
    assert_eq!(
        got.refresh_token.as_ref().unwrap().expose_secret(),
        "rft.CLEAR-REFRESH-TOKEN"
    );
    assert_eq!(got.access_expires_at, Some(T0 + Duration::from_secs(3600)));
    assert!(got.has_scope("video.publish"));

    let raw = h.raw_credentials().await;
    assert!(!raw.is_empty());
    for needle in ["CLEAR-ACCESS-TOKEN", "CLEAR-REFRESH-TOKEN", "video.publish"] {
        assert!(
            !raw.windows(needle.len()).any(|w| w == needle.as_bytes()),
            "{needle} is stored in clear"
        );
    }

    // Compare-and-set: a stale version loses and sees the current credential.
    let rotated = Credential::new(acct.clone(), SecretString::from("act.2"));
    let CasOutcome::Stored(v2) = s.compare_and_swap(1, rotated.clone()).await.unwrap() else {
        panic!("expected stored")
    };
    assert_eq!(v2.version, 2);
    let CasOutcome::Conflict(Some(now)) = s.compare_and_swap(1, rotated).await.unwrap() else {
        panic!("expected conflict")
    };
    assert_eq!(now.version, 2);
    assert_eq!(now.access_token.expose_secret(), "act.2");
    let fresh = AccountRef::new(TenantId::new("a"), Platform::TikTok, "open-2");
    assert!(matches!(
        s.compare_and_swap(0, Credential::new(fresh.clone(), SecretString::from("x")))
            .await
            .unwrap(),
        CasOutcome::Stored(_)
    ));

    // Tenancy and the sweep query.
    assert!(
        CredentialStore::credential(
            &*s,
            &AccountRef::new(TenantId::new("b"), Platform::TikTok, "open-1")
        )
        .await
        .unwrap()
        .is_none()
    );
    assert_eq!(
        CredentialStore::accounts(&*s, &tenant("a")).await.unwrap(),
        vec![acct.clone(), fresh.clone()]
    );
    assert!(
        CredentialStore::accounts(&*s, &tenant("b"))
            .await
            .unwrap()
            .is_empty()
    );
    s.put_credential(
        Credential::new(
            AccountRef::new(TenantId::new("b"), Platform::Facebook, "9"),
            SecretString::from("y"),
        )
        .with_access_expires_at(T0 + Duration::from_secs(60)),
    )
    .await
    .unwrap();
    assert_eq!(
        s.expiring_before(T0 + Duration::from_secs(120))
            .await
            .unwrap(),
        vec![AccountRef::new(TenantId::new("b"), Platform::Facebook, "9")]
    );
    assert!(s.delete_credential(&fresh).await.unwrap());
    assert!(!s.delete_credential(&fresh).await.unwrap());
}

pub async fn reauthorisation_releases_parked_jobs<H: DbHarness>(h: &H) {
    let s = h.fresh(ManualClock::new()).await;
    let t = tenant("a");
    let jobs = s
        .schedule(&t, &PostKey::new("p"), &post(), &[target("a", "page")], T0)
        .await
        .unwrap();
    let c = s
        .claim("w", 1, Duration::from_secs(60))
        .await
        .unwrap()
        .remove(0);
    s.complete(&[(
        c.lease,
        Completion::AwaitingReauth {
            error: err(ErrorKind::Auth),
        },
    )])
    .await
    .unwrap();
    assert!(
        s.claim("w", 1, Duration::from_secs(60))
            .await
            .unwrap()
            .is_empty()
    );
    s.put_credential(Credential::new(
        jobs[0].target.account.clone(),
        SecretString::from("new"),
    ))
    .await
    .unwrap();
    let again = s.claim("w", 1, Duration::from_secs(60)).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(
        again[0].job.attempts, 1,
        "the refused attempt was not spent"
    );
}

pub async fn audit_sink_records_are_tenant_scoped<H: DbHarness>(h: &H) {
    let s = h.fresh(ManualClock::new()).await;
    let acct = AccountRef::new(TenantId::new("a"), Platform::Instagram, "17841");
    s.record(
        &AuditRecord::for_account(&acct, "token.refreshed")
            .at(T0)
            .with_detail("version", "3"),
    )
    .await
    .unwrap();
    let trail = s.audit_trail(&tenant("a"), None).await.unwrap();
    assert_eq!(trail.len(), 1);
    assert_eq!(trail[0].action, "token.refreshed");
    assert_eq!(trail[0].account, Some(acct));
    assert_eq!(
        trail[0].detail.get("version").map(String::as_str),
        Some("3")
    );
    assert_eq!(trail[0].at, T0);
    assert!(s.audit_trail(&tenant("b"), None).await.unwrap().is_empty());
}

/// The audit trail is append-only in the database, hash-chained per tenant, and
/// `verify_audit` finds an edited, a deleted, a reordered record and a truncated end.
pub async fn audit_chain_finds_tampering<H: DbHarness>(h: &H) {
    use cmis_scheduler::AuditProblem;
    let clock = ManualClock::new();
    let s = h.fresh(clock.clone()).await;
    schedule_n(&*s, "a", 3, T0).await; // a: 1-3
    schedule_n(&*s, "b", 2, T0).await; // b: 1-2
    let claimed = s
        .claim_started("w", 1, Duration::from_secs(30))
        .await
        .unwrap();
    s.complete(&[(
        claimed[0].lease.clone(),
        Completion::Published(receipt("p-1")),
    )])
    .await
    .unwrap(); // a: 4
    AuditSink::record(&*s, &AuditRecord::new(tenant("a"), "custom.note").at(T0))
        .await
        .unwrap(); // a: 5
    for i in 10..12 {
        s.schedule(
            &tenant("a"),
            &PostKey::new(format!("q{i}")),
            &post(),
            &[target("a", "page")],
            T0,
        )
        .await
        .unwrap(); // a: 6, 7
    }
    let a = s.verify_audit(&tenant("a")).await.unwrap();
    assert!(a.is_intact(), "{:?}", a.problems);
    assert_eq!(a.records, 7);
    assert!(s.verify_audit(&tenant("b")).await.unwrap().is_intact());
    assert!(s.verify_audit(&tenant("nobody")).await.unwrap().is_intact());

    // Through the database itself, the trail cannot be changed.
    let edit = "UPDATE audit SET detail = '{\"at\":\"0\"}' WHERE tenant = 'a' AND seq = 2";
    assert!(h.raw_sql(edit).await.is_err(), "an update is refused");
    assert!(
        h.raw_sql("DELETE FROM audit WHERE tenant = 'a' AND seq = 4")
            .await
            .is_err(),
        "a delete is refused"
    );
    assert!(s.verify_audit(&tenant("a")).await.unwrap().is_intact());

    // Someone who removes the guard is still found out.
    h.drop_audit_guard().await;
    h.raw_sql(edit).await.unwrap();
    assert_eq!(
        s.verify_audit(&tenant("a")).await.unwrap().problems,
        [AuditProblem::Edited { seq: 2 }]
    );
    h.raw_sql("DELETE FROM audit WHERE tenant = 'a' AND seq = 4")
        .await
        .unwrap();
    let problems = s.verify_audit(&tenant("a")).await.unwrap().problems;
    assert!(
        problems.contains(&AuditProblem::Missing {
            seq: 5,
            expected: 4
        }),
        "{problems:?}"
    );
    h.raw_sql(
        "UPDATE audit SET seq = CASE seq WHEN 6 THEN 7 ELSE 6 END \
         WHERE tenant = 'a' AND seq IN (6, 7)",
    )
    .await
    .unwrap();
    let problems = s.verify_audit(&tenant("a")).await.unwrap().problems;
    assert!(
        problems.contains(&AuditProblem::Reordered { seq: 6 }),
        "{problems:?}"
    );
    // b is untouched by all of this; then its newest record goes.
    assert!(s.verify_audit(&tenant("b")).await.unwrap().is_intact());
    h.raw_sql("DELETE FROM audit WHERE tenant = 'b' AND seq = 2")
        .await
        .unwrap();
    assert_eq!(
        s.verify_audit(&tenant("b")).await.unwrap().problems,
        [AuditProblem::HeadMismatch {
            last_seq: 1,
            head_seq: 2
        }]
    );
}

/// Review K1: an attempt is given back by the state the job was claimed from, not by its
/// phase: a resume claimed from `retry_scheduled` counted one, so its snooze gives it back; a
/// resume claimed from `pending` counted none, so nothing is given back.
pub async fn refunds_follow_the_claimed_from_state<H: Harness>(h: &H) {
    let clock = ManualClock::new();
    let s = h.fresh(clock.clone()).await;
    let ids = schedule_n(&*s, "a", 2, T0).await;
    let lease = Duration::from_secs(60);
    let cp = Checkpoint::new(Platform::Facebook, "uploading", &1).unwrap();
    let claimed = s.claim_started("w", 2, lease).await.unwrap();
    let (a, b) = (&claimed[0], &claimed[1]);
    s.save_checkpoint(&a.lease, &cp).await.unwrap();
    s.save_checkpoint(&b.lease, &cp).await.unwrap();
    let at = T0 + Duration::from_secs(1);
    let retry = Completion::Retry {
        at,
        error: err(ErrorKind::Transient),
    };
    let pending = Completion::Pending {
        checkpoint: cp.clone(),
        resume_at: at,
    };
    assert!(
        s.complete(&[(a.lease.clone(), retry), (b.lease.clone(), pending)])
            .await
            .unwrap()
            .is_empty()
    );
    clock.advance(Duration::from_secs(1));
    let again = s.claim_started("w", 2, lease).await.unwrap();
    let a2 = again.iter().find(|c| c.job.id == a.job.id).unwrap();
    let b2 = again.iter().find(|c| c.job.id == b.job.id).unwrap();
    assert_eq!((a2.phase, a2.job.attempts), (Phase::Resume, 2));
    assert_eq!((b2.phase, b2.job.attempts), (Phase::Resume, 1));
    let later = T0 + Duration::from_secs(30);
    let reauth = Completion::AwaitingReauth {
        error: err(ErrorKind::Auth),
    };
    assert!(
        s.complete(&[
            (a2.lease.clone(), Completion::Snooze { at: later }),
            (b2.lease.clone(), reauth),
        ])
        .await
        .unwrap()
        .is_empty()
    );
    let t = tenant("a");
    let get = |id| ScheduleStore::get(&*s, &t, cmis_scheduler::JobId::new(id));
    let a3 = get(ids[0]).await.unwrap().unwrap();
    let b3 = get(ids[1]).await.unwrap().unwrap();
    assert_eq!((a3.state, a3.attempts), (JobState::RetryScheduled, 1));
    assert_eq!((b3.state, b3.attempts), (JobState::AwaitingReauth, 1));
    assert_eq!(a3.checkpoint, Some(cp), "a snooze keeps the checkpoint");
}

/// Review K4: of two leases of one job in one batch, only the one holding the job applies;
/// the stale one is reported rejected and leaves no audit record.
pub async fn two_leases_of_one_job_in_one_batch<H: Harness>(h: &H) {
    let clock = ManualClock::new();
    let s = h.fresh(clock.clone()).await;
    schedule_n(&*s, "a", 1, T0).await;
    let lease = Duration::from_secs(30);
    let old = s.claim("A", 1, lease).await.unwrap().remove(0);
    clock.advance(Duration::from_secs(31));
    assert_eq!(s.rescue_expired(10).await.unwrap().len(), 1);
    let new = s.claim("B", 1, lease).await.unwrap().remove(0);
    let before = actions(&*s, "a", new.job.id).await.len();
    let rejected = s
        .complete(&[
            (
                old.lease.clone(),
                Completion::Failed {
                    error: err(ErrorKind::Rejected),
                },
            ),
            (new.lease.clone(), Completion::Published(receipt("p-1"))),
        ])
        .await
        .unwrap();
    let rejected: Vec<Lease> = rejected.into_iter().map(|r| r.lease).collect();
    assert_eq!(rejected, std::slice::from_ref(&old.lease));
    let trail = actions(&*s, "a", new.job.id).await;
    assert_eq!(trail.len(), before + 1, "{trail:?}");
    assert_eq!(trail.last().map(String::as_str), Some("job.published"));
    let job = ScheduleStore::get(&*s, &tenant("a"), new.job.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.state, JobState::Published);
}

/// An unknown outcome may carry a checkpoint the publisher could not save during the call: it
/// is stored with the outcome, and one without keeps the job's stored checkpoint.
pub async fn an_unknown_outcome_stores_the_unsaved_checkpoint<H: Harness>(h: &H) {
    let clock = ManualClock::new();
    let s = h.fresh(clock.clone()).await;
    schedule_n(&*s, "a", 2, T0).await;
    let lease = Duration::from_secs(60);
    let c = s.claim_started("w", 2, lease).await.unwrap();
    let stored = Checkpoint::new(Platform::TikTok, "uploading", &1).unwrap();
    s.save_checkpoint(&c[1].lease, &stored).await.unwrap();
    let unsaved = Checkpoint::new(Platform::TikTok, "initiating", &2).unwrap();
    let unknown = |checkpoint| Completion::UnknownOutcome {
        error: err(ErrorKind::UnknownOutcome),
        reconcile_at: Some(T0),
        checkpoint,
    };
    let done = [
        (c[0].lease.clone(), unknown(Some(unsaved.clone()))),
        (c[1].lease.clone(), unknown(None)),
    ];
    assert!(s.complete(&done).await.unwrap().is_empty());
    for (cj, expected) in [(&c[0], unsaved), (&c[1], stored)] {
        let job = ScheduleStore::get(&*s, &tenant("a"), cj.job.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(job.state, JobState::UnknownOutcome);
        assert_eq!(job.checkpoint, Some(expected));
    }
}

/// Review N2: an error that says the platform's object is dead drops the checkpoint, so the
/// next claim publishes from the start instead of resuming a dead upload.
pub async fn a_dead_checkpoint_is_discarded<H: Harness>(h: &H) {
    let clock = ManualClock::new();
    let s = h.fresh(clock.clone()).await;
    schedule_n(&*s, "a", 1, T0).await;
    let lease = Duration::from_secs(60);
    let c = s.claim_started("w", 1, lease).await.unwrap().remove(0);
    let cp = Checkpoint::new(Platform::Facebook, "uploading", &1).unwrap();
    s.save_checkpoint(&c.lease, &cp).await.unwrap();
    let dead = Completion::Retry {
        at: T0,
        error: err(ErrorKind::Transient).discarding_checkpoint(),
    };
    assert!(s.complete(&[(c.lease, dead)]).await.unwrap().is_empty());
    let job = ScheduleStore::get(&*s, &tenant("a"), c.job.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.checkpoint, None);
    let again = s.claim_started("w", 1, lease).await.unwrap().remove(0);
    assert_eq!(again.phase, Phase::Publish);
    // A plain retry keeps the checkpoint: the next run resumes.
    s.save_checkpoint(&again.lease, &cp).await.unwrap();
    let retry = Completion::Retry {
        at: T0,
        error: err(ErrorKind::Transient),
    };
    assert!(
        s.complete(&[(again.lease, retry)])
            .await
            .unwrap()
            .is_empty()
    );
    let third = s.claim_started("w", 1, lease).await.unwrap().remove(0);
    assert_eq!(third.phase, Phase::Resume);
    // Checkpoints are bounded (issue 16 item 9): an oversized one is refused, nothing written.
    let huge = "x".repeat(cmis_scheduler::MAX_CHECKPOINT_BYTES);
    let huge = Checkpoint::new(Platform::Facebook, "huge", &huge).unwrap();
    let refused = s.save_checkpoint(&third.lease, &huge).await.unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::InvalidInput);
    let job = ScheduleStore::get(&*s, &tenant("a"), third.job.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        job.checkpoint.map(|c| c.stage),
        Some("uploading".to_owned())
    );
}

/// Review N6 and N8: a worker claims only its platforms' jobs, and releases the jobs a claim
/// leased to it without its knowing (the answer was lost) as if never claimed.
pub async fn claims_by_platform_and_release_of_a_lost_claim<H: Harness>(h: &H) {
    let clock = ManualClock::new();
    let s = h.fresh(clock.clone()).await;
    schedule_n(&*s, "a", 3, T0).await;
    let lease = Duration::from_secs(60);
    let none = s
        .claim_started_on("w", 10, lease, &[Platform::Instagram, Platform::TikTok])
        .await
        .unwrap();
    assert!(
        none.is_empty(),
        "Facebook jobs are not claimed without its publisher"
    );
    let got = s
        .claim_started_on("w", 10, lease, &[Platform::Facebook])
        .await
        .unwrap();
    assert_eq!(got.len(), 3);
    // The worker only ever saw the first one: the other two are released.
    let released = s
        .release_unheld("w", std::slice::from_ref(&got[0].lease))
        .await
        .unwrap();
    assert_eq!(released, 2);
    for c in &got[1..] {
        let j = ScheduleStore::get(&*s, &tenant("a"), c.job.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (j.state, j.attempts, j.started_at),
            (JobState::Scheduled, 0, None)
        );
        assert_eq!(
            actions(&*s, "a", c.job.id).await.last().map(String::as_str),
            Some("job.released")
        );
    }
    let held = ScheduleStore::get(&*s, &tenant("a"), got[0].job.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(held.state, JobState::Publishing);
    assert_eq!(s.release_unheld("other", &[]).await.unwrap(), 0);
    // Released jobs are claimed again at once, as fresh publishes.
    let again = s.claim_started("v", 10, lease).await.unwrap();
    assert_eq!(again.len(), 2);
    assert!(
        again
            .iter()
            .all(|c| c.phase == Phase::Publish && c.job.attempts == 1)
    );
}

/// Review K3: error text the database cannot store as is (a NUL byte from a platform's
/// message, an endless message) is stored sanitised, never failing the batch.
pub async fn unstorable_error_text_is_sanitised<H: Harness>(h: &H) {
    let clock = ManualClock::new();
    let s = h.fresh(clock.clone()).await;
    schedule_n(&*s, "a", 2, T0).await;
    let c = s
        .claim_started("w", 2, Duration::from_secs(60))
        .await
        .unwrap();
    let failed = Completion::Failed {
        error: JobError::new(
            ErrorKind::Rejected,
            format!("bad\0byte {}", "x".repeat(100_000)),
        ),
    };
    assert!(
        s.complete(&[
            (c[0].lease.clone(), failed),
            (c[1].lease.clone(), Completion::Published(receipt("ok")))
        ])
        .await
        .unwrap()
        .is_empty()
    );
    let j = ScheduleStore::get(&*s, &tenant("a"), c[0].job.id)
        .await
        .unwrap()
        .unwrap();
    let message = j.last_error.unwrap().message;
    assert!(message.starts_with("bad\u{FFFD}byte"), "{message:.40}");
    assert!(message.len() <= 4_096, "{}", message.len());
    let ok = ScheduleStore::get(&*s, &tenant("a"), c[1].job.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ok.state, JobState::Published);
}

/// The notification outbox: written with the outcome it tells of (never for a rejected one),
/// claimed for delivery with a stable delivery id, tried again after a failure, claimed again
/// when a delivery's lease runs out (at least once), and gone once delivered.
pub async fn outbox_delivers_at_least_once<H: Harness>(h: &H) {
    use cmis_core::{Notification, NotificationKind};
    use cmis_scheduler::Delivered;
    let clock = ManualClock::new();
    let s = h.fresh(clock.clone()).await;
    schedule_n(&*s, "a", 2, T0).await;
    let lease = Duration::from_secs(60);
    let c = s.claim_started("w", 2, lease).await.unwrap();
    let stale = Lease::new(c[1].lease.job, "w", c[1].lease.token + 7);
    let note = |subject: &str| {
        Notification::new(tenant("a"), NotificationKind::Published, "out").with_subject(subject)
    };
    let rejected = s
        .complete_notifying(&[
            (
                c[0].lease.clone(),
                Completion::Published(receipt("p")),
                Some(note("applied")),
            ),
            (
                stale,
                Completion::Published(receipt("q")),
                Some(note("rejected")),
            ),
        ])
        .await
        .unwrap();
    assert_eq!(rejected.len(), 1);
    s.enqueue(&[note("enqueued")]).await.unwrap();
    assert_eq!(s.undelivered().await.unwrap(), 2);

    let first = s.claim_deliveries("d1", 10, lease).await.unwrap();
    let subjects: Vec<_> = first
        .iter()
        .map(|d| d.notification.subject.clone().unwrap())
        .collect();
    assert_eq!(subjects, ["applied", "enqueued"]);
    assert!(first.iter().all(|d| d.attempts == 1));
    let id = first[0].notification.id.clone().expect("a delivery id");
    assert!(
        s.claim_deliveries("d2", 10, lease)
            .await
            .unwrap()
            .is_empty(),
        "leased"
    );

    // The first fails and is tried again later; the second's deliverer vanishes.
    let retry_at = T0 + Duration::from_secs(10);
    s.settle_deliveries(
        "d1",
        &[(
            first[0].seq,
            Delivered::RetryAt {
                at: retry_at,
                error: "503".into(),
            },
        )],
    )
    .await
    .unwrap();
    clock.advance(Duration::from_secs(5));
    assert!(
        s.claim_deliveries("d2", 10, lease)
            .await
            .unwrap()
            .is_empty()
    );
    clock.advance(Duration::from_secs(60));
    let second = s.claim_deliveries("d2", 10, lease).await.unwrap();
    assert_eq!(
        second.len(),
        2,
        "retried, and the vanished one's lease ran out"
    );
    let again = second.iter().find(|d| d.seq == first[0].seq).unwrap();
    assert_eq!(
        again.notification.id.as_deref(),
        Some(id.as_str()),
        "same delivery id"
    );
    assert_eq!(again.attempts, 2);
    let done: Vec<_> = second.iter().map(|d| (d.seq, Delivered::Yes)).collect();
    s.settle_deliveries("d2", &done).await.unwrap();
    assert_eq!(s.undelivered().await.unwrap(), 0);
    clock.advance(Duration::from_secs(3600));
    assert!(
        s.claim_deliveries("d3", 10, lease)
            .await
            .unwrap()
            .is_empty()
    );
}

/// A large completion batch's notifications (a store may keep them as one batch until they
/// are claimed) are each delivered once, in completion order, with distinct delivery ids, to
/// deliverers claiming a few at a time; none is claimed by two of them at once.
pub async fn a_large_completion_batch_is_delivered_whole<H: Harness>(h: &H) {
    use cmis_core::{Notification, NotificationKind};
    use cmis_scheduler::Delivered;
    let clock = ManualClock::new();
    let s = h.fresh(clock.clone()).await;
    schedule_n(&*s, "a", 100, T0).await;
    let lease = Duration::from_secs(60);
    let c = s.claim_started("w", 100, lease).await.unwrap();
    assert_eq!(c.len(), 100);
    let completions: Vec<_> = c
        .iter()
        .enumerate()
        .map(|(i, cj)| {
            let n = Notification::new(tenant("a"), NotificationKind::Published, "out")
                .with_subject(format!("s{i:03}"));
            (
                cj.lease.clone(),
                Completion::Published(receipt(&format!("p{i}"))),
                Some(n),
            )
        })
        .collect();
    assert!(s.complete_notifying(&completions).await.unwrap().is_empty());
    assert_eq!(s.undelivered().await.unwrap(), 100);

    let mut seen = Vec::new();
    let mut ids = std::collections::BTreeSet::new();
    for round in 0..20 {
        let a = s.claim_deliveries("d1", 16, lease).await.unwrap();
        let b = s.claim_deliveries("d2", 16, lease).await.unwrap();
        if a.is_empty() && b.is_empty() {
            break;
        }
        assert!(round < 19, "the outbox never drained");
        for (owner, claimed) in [("d1", &a), ("d2", &b)] {
            for d in claimed.iter() {
                seen.push(d.notification.subject.clone().unwrap());
                assert!(ids.insert(d.notification.id.clone().expect("a delivery id")));
            }
            let done: Vec<_> = claimed.iter().map(|d| (d.seq, Delivered::Yes)).collect();
            s.settle_deliveries(owner, &done).await.unwrap();
        }
    }
    let expected: Vec<_> = (0..100).map(|i| format!("s{i:03}")).collect();
    assert_eq!(seen, expected, "each once, in completion order");
    assert_eq!(s.undelivered().await.unwrap(), 0);
}

/// Review N16: a trail longer than a page (10 000 records) is verified page by page: intact
/// as written, and an edit or a deletion in a later page is found.
pub async fn a_long_audit_trail_is_verified_in_pages<H: DbHarness>(h: &H) {
    use cmis_scheduler::AuditProblem;
    const N: usize = 21_000;
    let s = h.fresh(ManualClock::new()).await;
    let batch: Vec<_> = (0..N)
        .map(|i| {
            NewPost::new(
                PostKey::new(format!("long{i}")),
                post(),
                vec![target("a", "page")],
                T0,
            )
        })
        .collect();
    assert_eq!(
        s.schedule_many(&tenant("a"), &batch).await.unwrap(),
        N as u64
    );
    let v = s.verify_audit(&tenant("a")).await.unwrap();
    assert!(v.is_intact(), "{:?}", v.problems);
    let records = v.records;
    assert!(records >= N as u64, "{records}");
    h.drop_audit_guard().await;
    h.raw_sql("UPDATE audit SET detail = '{}' WHERE tenant = 'a' AND seq = 15000")
        .await
        .unwrap();
    assert_eq!(
        s.verify_audit(&tenant("a")).await.unwrap().problems,
        [AuditProblem::Edited { seq: 15_000 }]
    );
    h.raw_sql("DELETE FROM audit WHERE tenant = 'a' AND seq = 20500")
        .await
        .unwrap();
    let v = s.verify_audit(&tenant("a")).await.unwrap();
    assert_eq!(v.records, records - 1);
    assert_eq!(
        v.problems,
        [
            AuditProblem::Edited { seq: 15_000 },
            AuditProblem::Missing {
                seq: 20_501,
                expected: 20_500
            },
            AuditProblem::Edited { seq: 20_501 }
        ]
    );
}

/// Review N1: a row this version cannot decode (a newer cmis wrote it, or a hand edit) never
/// blocks claims, the rescuer or a tenant's list: it is put back for a process that can read
/// it and quarantined after a few claims, and rows of unknown platforms are never claimed.
pub async fn undecodable_rows_never_block_the_queue<H: DbHarness>(h: &H) {
    let clock = ManualClock::new();
    let s = h.fresh(clock.clone()).await;
    let ids = schedule_n(&*s, "a", 6, T0).await;
    h.raw_sql(&format!(
        "UPDATE jobs SET post = '{{\"text\": 1' WHERE id = {}",
        ids[0]
    ))
    .await
    .unwrap();
    h.raw_sql(&format!(
        "UPDATE jobs SET platform = 'mastodon' WHERE id = {}",
        ids[1]
    ))
    .await
    .unwrap();
    h.raw_sql(&format!(
        "UPDATE jobs SET surface = 'carousel' WHERE id = {}",
        ids[2]
    ))
    .await
    .unwrap();
    let lease = Duration::from_secs(60);
    let got = s.claim_started("w", 10, lease).await.unwrap();
    let got_ids: HashSet<i64> = got.iter().map(|c| c.job.id.get()).collect();
    assert_eq!(got_ids, ids[3..].iter().copied().collect());
    let listed = ScheduleStore::list(&*s, &tenant("a"), &JobFilter::all())
        .await
        .unwrap();
    assert_eq!(
        listed.len(),
        5,
        "the undecodable row is skipped, the others listed"
    );
    // Put back, not leased: claimed again after its delay, until quarantined.
    for round in 1..5 {
        assert!(s.claim_started("w", 10, lease).await.unwrap().is_empty());
        clock.advance(Duration::from_secs(60 << (round - 1)) + Duration::from_secs(1));
        assert!(
            s.claim_started("w", 10, lease).await.unwrap().is_empty(),
            "round {round}"
        );
    }
    clock.advance(Duration::from_secs(3600));
    assert!(s.claim_started("w", 10, lease).await.unwrap().is_empty());
    let trail = actions(&*s, "a", cmis_scheduler::JobId::new(ids[0])).await;
    assert_eq!(
        trail.iter().filter(|a| *a == "job.set_aside").count(),
        4,
        "{trail:?}"
    );
    assert_eq!(trail.last().map(String::as_str), Some("job.quarantined"));
    // A row that turns undecodable while leased is rescued all the same.
    h.raw_sql(&format!(
        "UPDATE jobs SET post = 'not json' WHERE id = {}",
        ids[3]
    ))
    .await
    .unwrap();
    clock.advance(Duration::from_secs(61));
    let rescued = s.rescue_expired(100).await.unwrap();
    assert_eq!(rescued.len(), 2, "the two others, decoded");
    let trail = actions(&*s, "a", cmis_scheduler::JobId::new(ids[3])).await;
    assert_eq!(trail.last().map(String::as_str), Some("job.rescued"));
    assert!(
        s.rescue_expired(100).await.unwrap().is_empty(),
        "nothing left leased"
    );
}

/// Item 7: processes register with their versions; a schema newer than this binary
/// understands is refused when a store opens, and by a running store at its next
/// registration, after which it claims nothing.
pub async fn processes_register_and_newer_schemas_are_refused<H: DbHarness>(h: &H) {
    let clock = ManualClock::new();
    let s = h.fresh(clock.clone()).await;
    s.register_process("worker-1").await.unwrap();
    clock.advance(Duration::from_secs(5));
    s.register_process("worker-1").await.unwrap();
    let procs = s.processes().await.unwrap();
    assert_eq!(procs.len(), 1);
    assert_eq!(procs[0].id, "worker-1");
    assert_eq!(procs[0].cmis_version, cmis_scheduler::CMIS_VERSION);
    assert!(procs[0].schema_version >= 7);
    // A newer cmis migrates the database.
    let newer = "INSERT INTO cmis_migrations (version, applied_at) VALUES (999, 0)";
    if h.raw_sql(newer).await.is_err() {
        h.raw_sql("INSERT INTO cmis_migrations (version) VALUES (999)")
            .await
            .unwrap();
    }
    let refused = s.register_process("worker-1").await.unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Unsupported);
    assert!(refused.to_string().contains("version 999"), "{refused}");
    schedule_n(&*s, "a", 1, T0).await;
    let claim = s
        .claim_started("worker-1", 10, Duration::from_secs(60))
        .await;
    assert!(
        claim.is_err(),
        "a process that cannot read the schema claims nothing"
    );
    let reopened = h.try_reopen(clock).await.unwrap_err();
    assert!(reopened.contains("version 999"), "{reopened}");
}

/// Review N12: a user who re-authorises while the refused call is still being written does not
/// leave the job parked; review N14: an unknown outcome parked because the check itself was
/// refused a token is checked again (never published blindly) once a credential is stored.
pub async fn reauthorisation_during_a_call_and_a_refused_check<H: DbHarness>(h: &H) {
    let clock = ManualClock::new();
    let s = h.fresh(clock.clone()).await;
    let t = tenant("a");
    let page = target("a", "page");
    s.schedule(
        &t,
        &PostKey::new("p"),
        &post(),
        std::slice::from_ref(&page),
        T0,
    )
    .await
    .unwrap();
    let lease = Duration::from_secs(60);
    let c = s.claim_started("w", 1, lease).await.unwrap().remove(0);
    // The call is refused; meanwhile the user re-authorises.
    clock.advance(Duration::from_secs(1));
    s.put_credential(Credential::new(
        page.account.clone(),
        SecretString::from("new"),
    ))
    .await
    .unwrap();
    let reauth = Completion::AwaitingReauth {
        error: err(ErrorKind::Auth),
    };
    assert!(s.complete(&[(c.lease, reauth)]).await.unwrap().is_empty());
    let j = ScheduleStore::get(&*s, &t, c.job.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        j.state,
        JobState::RetryScheduled,
        "not parked: the token is already back"
    );
    let again = s.claim_started("w", 1, lease).await.unwrap().remove(0);
    // Now the outcome is unknown, and checking it is refused a token: parked for a person...
    let unknown = Completion::UnknownOutcome {
        error: err(ErrorKind::UnknownOutcome),
        reconcile_at: Some(T0),
        checkpoint: None,
    };
    assert!(
        s.complete(&[(again.lease, unknown)])
            .await
            .unwrap()
            .is_empty()
    );
    let check = s.claim_started("w", 1, lease).await.unwrap().remove(0);
    assert_eq!(check.phase, Phase::Reconcile);
    let parked = Completion::UnknownOutcome {
        error: err(ErrorKind::Auth),
        reconcile_at: None,
        checkpoint: None,
    };
    assert!(
        s.complete(&[(check.lease, parked)])
            .await
            .unwrap()
            .is_empty()
    );
    assert!(s.claim_started("w", 1, lease).await.unwrap().is_empty());
    // ...until the account is re-authorised: then it is checked again, not published.
    clock.advance(Duration::from_secs(1));
    s.put_credential(Credential::new(
        page.account.clone(),
        SecretString::from("newer"),
    ))
    .await
    .unwrap();
    let released = s.claim_started("w", 1, lease).await.unwrap();
    assert_eq!(released.len(), 1);
    assert_eq!(released[0].phase, Phase::Reconcile);
}

/// Review N16: a tenant's list comes in pages (a keyset cursor, stable while jobs are added),
/// never more than `JobFilter::MAX_LIMIT` at once.
pub async fn lists_come_in_pages<H: Harness>(h: &H) {
    let s = h.fresh(ManualClock::new()).await;
    let ids = schedule_n(&*s, "a", 5, T0).await;
    let first = ScheduleStore::list(&*s, &tenant("a"), &JobFilter::all().with_limit(2))
        .await
        .unwrap();
    assert_eq!(
        first.iter().map(|j| j.id.get()).collect::<Vec<_>>(),
        ids[..2]
    );
    // A job added meanwhile does not shift the pages.
    schedule_n(&*s, "b", 1, T0).await;
    let next = JobFilter::all().with_limit(2).after(first[1].id);
    let second = ScheduleStore::list(&*s, &tenant("a"), &next).await.unwrap();
    assert_eq!(
        second.iter().map(|j| j.id.get()).collect::<Vec<_>>(),
        ids[2..4]
    );
    let huge = JobFilter::all().with_limit(u32::MAX);
    assert_eq!(
        ScheduleStore::list(&*s, &tenant("a"), &huge)
            .await
            .unwrap()
            .len(),
        5
    );
}

/// Review N16: the audit trail is read in pages that stay stable while records are added, for
/// a tenant and for one job, and a page never holds more than `AuditPage::MAX_LIMIT` records.
pub async fn audit_trail_comes_in_pages<H: Harness>(h: &H) {
    let s = h.fresh(ManualClock::new()).await;
    let ids = schedule_n(&*s, "a", 5, T0).await;
    let whole = s.audit_trail(&tenant("a"), None).await.unwrap();
    assert!(
        whole.len() >= 5,
        "a record per scheduled job at least: {whole:?}"
    );
    let mut paged = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let page = s.audit_page(&tenant("a"), None, after, 2).await.unwrap();
        assert!(page.records.len() <= 2);
        paged.extend(page.records);
        pages += 1;
        if pages == 1 {
            // Records added meanwhile (another tenant's, and this one's) do not shift pages.
            schedule_n(&*s, "b", 1, T0).await;
        }
        match page.next {
            Some(c) => after = Some(c),
            None => break,
        }
        assert!(pages < 10, "the pages never end");
    }
    assert_eq!(paged, whole);
    // One job's trail.
    let id = cmis_scheduler::JobId::new(ids[3]);
    let one = s
        .audit_page(&tenant("a"), Some(id), None, 10)
        .await
        .unwrap();
    assert_eq!(
        one.records,
        s.audit_trail(&tenant("a"), Some(id)).await.unwrap()
    );
    assert_eq!(one.next, None);
    // A limit of 0 still makes progress; an enormous one is capped.
    let tiny = s.audit_page(&tenant("a"), None, None, 0).await.unwrap();
    assert_eq!(tiny.records.len(), 1);
    assert!(tiny.next.is_some());
    let huge = s
        .audit_page(&tenant("a"), None, None, u32::MAX)
        .await
        .unwrap();
    assert_eq!(huge.records, whole);
    assert_eq!(huge.next, None);
}

/// One `#[tokio::test]` per case for a harness expression.
#[macro_export]
macro_rules! conformance_tests {
    // Every case, for a database backend (a `DbHarness`).
    ($harness:expr) => {
        $crate::conformance_tests!(@jobs $harness);
        $crate::conformance_tests!(@each $harness;
            migrations_from_empty, credentials_are_encrypted_and_versioned,
            reauthorisation_releases_parked_jobs, audit_sink_records_are_tenant_scoped,
            audit_chain_finds_tampering, a_long_audit_trail_is_verified_in_pages,
            undecodable_rows_never_block_the_queue,
            processes_register_and_newer_schemas_are_refused,
            reauthorisation_during_a_call_and_a_refused_check);
    };
    // The job cases only: what every `ScheduleStore` must do, the in-memory one included.
    (@jobs $harness:expr) => {
        $crate::conformance_tests!(@each $harness;
            schedule_and_uniqueness, schedule_many_is_all_or_nothing, tenancy_isolation,
            claim_exclusivity_under_concurrency, claim_started_marks_the_call_started,
            future_jobs_are_not_claimed,
            fencing_rejects_a_stale_owner, lease_expiry, cancel_and_reschedule_races,
            completions_follow_the_state_machine, user_operations_follow_one_table,
            snooze_gives_the_attempt_back, a_throttled_job_gets_its_attempt_back, leader_election,
            cleanup_moves_finished_jobs_to_history, refunds_follow_the_claimed_from_state,
            two_leases_of_one_job_in_one_batch, a_dead_checkpoint_is_discarded,
            an_unknown_outcome_stores_the_unsaved_checkpoint,
            claims_by_platform_and_release_of_a_lost_claim, unstorable_error_text_is_sanitised,
            outbox_delivers_at_least_once, a_large_completion_batch_is_delivered_whole,
            lists_come_in_pages, audit_trail_comes_in_pages,
            admin_filters_follow_the_querys_rules, admin_pages_stay_stable_while_jobs_are_added,
            admin_counts_and_account_activity, admin_bulk_changes_are_capped_scoped_and_audited);
    };
    (@each $harness:expr; $($name:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                if let Some(h) = $harness {
                    conformance::$name(&h).await;
                }
            }
        )*
    };
}
