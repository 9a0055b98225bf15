//! Database faults inside a worker: a [`ScheduleStore`] that delegates every method to the real
//! store and, at a rate, fails a call either *before* it reaches the database (nothing
//! happened) or *after* (the write happened, but the caller sees an error: a lost
//! acknowledgement, as when a connection drops between `COMMIT` and its answer). It never
//! changes what is written or what is read: a fault is an error, never corrupt data.
//!
//! The errors read like the ones the stores raise from the driver: on SQLite `database is
//! locked` (`SQLITE_BUSY`) and `database table is locked` (`SQLITE_LOCKED`); on PostgreSQL a
//! connection terminated or reset mid-statement.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use cmis_core::time::OffsetDateTime;
use cmis_core::{
    AuditRecord, Checkpoint, Error, Notification, Platform, Post, PostKey, Result, Target, TenantId,
};
use cmis_scheduler::{
    AuditVerification, Change, ClaimedJob, Completion, Delivered, Delivery, Job, JobFilter, JobId,
    Lease, NewPost, ProcessRecord, Rejected, ScheduleStore,
};

use super::db::StoreKind;

/// Where an injected fault strikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strike {
    /// The call fails without reaching the database.
    Before,
    /// The call runs; its result is replaced by an error.
    After,
}

/// Decides, per call, whether and where a fault strikes: `rate` of the calls, half before and
/// half after.
pub(crate) fn roll(rate: f64, rng: &mut fastrand::Rng) -> Option<Strike> {
    if rate <= 0.0 || rng.f64() >= rate {
        return None;
    }
    Some(if rng.bool() {
        Strike::Before
    } else {
        Strike::After
    })
}

/// A [`ScheduleStore`] that fails a fraction of its calls.
#[derive(Debug)]
pub(crate) struct FaultyStore {
    inner: Arc<dyn ScheduleStore>,
    kind: StoreKind,
    rate: f64,
    rng: std::sync::Mutex<fastrand::Rng>,
    pub(crate) before: AtomicU64,
    pub(crate) after: AtomicU64,
}

impl FaultyStore {
    pub(crate) fn new(inner: Arc<dyn ScheduleStore>, kind: StoreKind, rate: f64) -> Self {
        Self {
            inner,
            kind,
            rate,
            rng: std::sync::Mutex::new(fastrand::Rng::new()),
            before: AtomicU64::new(0),
            after: AtomicU64::new(0),
        }
    }

    fn strike(&self) -> Option<(Strike, bool)> {
        let mut rng = self
            .rng
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        roll(self.rate, &mut rng).map(|s| (s, rng.bool()))
    }

    fn error(&self, op: &str, strike: Strike, variant: bool) -> Error {
        let what = match (self.kind, variant) {
            (StoreKind::Sqlite, false) => {
                "error returned from database: (code: 5) database is locked"
            }
            (StoreKind::Sqlite, true) => {
                "error returned from database: (code: 6) database table is locked"
            }
            (StoreKind::Postgres, false) => {
                "error returned from database: terminating connection due to administrator command"
            }
            (StoreKind::Postgres, true) => {
                "error communicating with database: Connection reset by peer (os error 104)"
            }
        };
        let when = match strike {
            Strike::Before => "before",
            Strike::After => "after",
        };
        // The stores read these failures as passing ones: transient.
        Error::transient(format!(
            "schedule store: {what} [chaos: injected {when} {op}]"
        ))
    }

    async fn call<T>(&self, op: &'static str, f: impl Future<Output = Result<T>>) -> Result<T> {
        match self.strike() {
            None => f.await,
            Some((Strike::Before, variant)) => {
                self.before.fetch_add(1, Ordering::Relaxed);
                Err(self.error(op, Strike::Before, variant))
            }
            Some((Strike::After, variant)) => {
                self.after.fetch_add(1, Ordering::Relaxed);
                let _ = f.await;
                Err(self.error(op, Strike::After, variant))
            }
        }
    }
}

#[async_trait]
impl ScheduleStore for FaultyStore {
    async fn schedule(
        &self,
        tenant: &TenantId,
        post_id: &PostKey,
        post: &Post,
        targets: &[Target],
        at: OffsetDateTime,
    ) -> Result<Vec<Job>> {
        self.call(
            "schedule",
            self.inner.schedule(tenant, post_id, post, targets, at),
        )
        .await
    }

    async fn schedule_many(&self, tenant: &TenantId, posts: &[NewPost]) -> Result<u64> {
        self.call("schedule_many", self.inner.schedule_many(tenant, posts))
            .await
    }

    async fn get(&self, tenant: &TenantId, id: JobId) -> Result<Option<Job>> {
        self.call("get", self.inner.get(tenant, id)).await
    }

    async fn list(&self, tenant: &TenantId, filter: &JobFilter) -> Result<Vec<Job>> {
        self.call("list", self.inner.list(tenant, filter)).await
    }

    async fn reschedule(&self, tenant: &TenantId, id: JobId, at: OffsetDateTime) -> Result<Change> {
        self.call("reschedule", self.inner.reschedule(tenant, id, at))
            .await
    }

    async fn cancel(&self, tenant: &TenantId, id: JobId) -> Result<Change> {
        self.call("cancel", self.inner.cancel(tenant, id)).await
    }

    async fn retry_now(&self, tenant: &TenantId, id: JobId) -> Result<Change> {
        self.call("retry_now", self.inner.retry_now(tenant, id))
            .await
    }

    async fn audit_trail(&self, tenant: &TenantId, job: Option<JobId>) -> Result<Vec<AuditRecord>> {
        self.call("audit_trail", self.inner.audit_trail(tenant, job))
            .await
    }

    async fn verify_audit(&self, tenant: &TenantId) -> Result<AuditVerification> {
        self.call("verify_audit", self.inner.verify_audit(tenant))
            .await
    }

    async fn claim(&self, owner: &str, limit: usize, lease: Duration) -> Result<Vec<ClaimedJob>> {
        self.call("claim", self.inner.claim(owner, limit, lease))
            .await
    }

    async fn mark_started(&self, leases: &[Lease]) -> Result<Vec<Lease>> {
        self.call("mark_started", self.inner.mark_started(leases))
            .await
    }

    async fn claim_started(
        &self,
        owner: &str,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<ClaimedJob>> {
        self.call(
            "claim_started",
            self.inner.claim_started(owner, limit, lease),
        )
        .await
    }

    async fn claim_started_on(
        &self,
        owner: &str,
        limit: usize,
        lease: Duration,
        platforms: &[Platform],
    ) -> Result<Vec<ClaimedJob>> {
        self.call(
            "claim_started_on",
            self.inner.claim_started_on(owner, limit, lease, platforms),
        )
        .await
    }

    async fn release_unheld(&self, owner: &str, held: &[Lease]) -> Result<u64> {
        self.call("release_unheld", self.inner.release_unheld(owner, held))
            .await
    }

    async fn heartbeat(&self, leases: &[Lease], lease: Duration) -> Result<Vec<Lease>> {
        self.call("heartbeat", self.inner.heartbeat(leases, lease))
            .await
    }

    async fn save_checkpoint(&self, lease: &Lease, checkpoint: &Checkpoint) -> Result<()> {
        self.call(
            "save_checkpoint",
            self.inner.save_checkpoint(lease, checkpoint),
        )
        .await
    }

    async fn complete(&self, completions: &[(Lease, Completion)]) -> Result<Vec<Rejected>> {
        self.call("complete", self.inner.complete(completions))
            .await
    }

    async fn complete_notifying(
        &self,
        completions: &[(Lease, Completion, Option<Notification>)],
    ) -> Result<Vec<Rejected>> {
        self.call(
            "complete_notifying",
            self.inner.complete_notifying(completions),
        )
        .await
    }

    async fn enqueue(&self, notifications: &[Notification]) -> Result<()> {
        self.call("enqueue", self.inner.enqueue(notifications))
            .await
    }

    async fn claim_deliveries(
        &self,
        owner: &str,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<Delivery>> {
        self.call(
            "claim_deliveries",
            self.inner.claim_deliveries(owner, limit, lease),
        )
        .await
    }

    async fn settle_deliveries(&self, owner: &str, results: &[(i64, Delivered)]) -> Result<()> {
        self.call(
            "settle_deliveries",
            self.inner.settle_deliveries(owner, results),
        )
        .await
    }

    async fn undelivered(&self) -> Result<u64> {
        self.call("undelivered", self.inner.undelivered()).await
    }

    async fn rescue_expired(&self, limit: usize) -> Result<Vec<Job>> {
        self.call("rescue_expired", self.inner.rescue_expired(limit))
            .await
    }

    async fn next_due(&self) -> Result<Option<OffsetDateTime>> {
        self.call("next_due", self.inner.next_due()).await
    }

    async fn next_due_on(&self, platforms: &[Platform]) -> Result<Option<OffsetDateTime>> {
        self.call("next_due_on", self.inner.next_due_on(platforms))
            .await
    }

    async fn try_lead(&self, name: &str, owner: &str, ttl: Duration) -> Result<bool> {
        self.call("try_lead", self.inner.try_lead(name, owner, ttl))
            .await
    }

    async fn resign(&self, name: &str, owner: &str) -> Result<()> {
        self.call("resign", self.inner.resign(name, owner)).await
    }

    async fn cleanup(&self, before: OffsetDateTime, limit: usize) -> Result<u64> {
        self.call("cleanup", self.inner.cleanup(before, limit))
            .await
    }

    async fn register_process(&self, id: &str) -> Result<()> {
        self.call("register_process", self.inner.register_process(id))
            .await
    }

    async fn processes(&self) -> Result<Vec<ProcessRecord>> {
        self.call("processes", self.inner.processes()).await
    }

    fn clock_offset(&self) -> cmis_core::time::Duration {
        self.inner.clock_offset()
    }

    fn wake_signal(&self) -> Arc<tokio::sync::Notify> {
        self.inner.wake_signal()
    }
}

#[cfg(test)]
mod tests {
    use cmis_scheduler::MemoryScheduleStore;

    use super::*;

    #[test]
    fn faults_strike_at_the_rate_half_before_half_after() {
        let mut rng = fastrand::Rng::with_seed(1);
        let n = 100_000;
        let strikes: Vec<Strike> = (0..n).filter_map(|_| roll(0.05, &mut rng)).collect();
        let before = strikes.iter().filter(|s| **s == Strike::Before).count();
        assert!((4_500..5_500).contains(&strikes.len()), "{}", strikes.len());
        assert!(before * 10 > strikes.len() * 4 && before * 10 < strikes.len() * 6);
        assert!(roll(0.0, &mut rng).is_none());
    }

    /// A fault after the call is a lost acknowledgement: the write is there.
    #[tokio::test]
    async fn a_fault_after_the_call_keeps_the_write() {
        let inner: Arc<dyn ScheduleStore> = Arc::new(MemoryScheduleStore::new());
        let store = FaultyStore::new(inner.clone(), StoreKind::Postgres, 1.0);
        let tenant = TenantId::new("t");
        let target = Target::feed(cmis_core::AccountRef::new(
            TenantId::new("t"),
            Platform::Facebook,
            "p",
        ));
        let mut written = 0;
        for i in 0..40 {
            let post = Post::new().with_text("x");
            let r = store
                .schedule(
                    &tenant,
                    &PostKey::new(format!("p{i}")),
                    &post,
                    std::slice::from_ref(&target),
                    OffsetDateTime::now_utc(),
                )
                .await;
            let err = r.expect_err("every call fails at rate 1");
            assert!(err.to_string().contains("injected"), "{err}");
            if err.to_string().contains("after") {
                written += 1;
            }
        }
        let jobs = inner.list(&tenant, &JobFilter::all()).await.unwrap();
        assert_eq!(jobs.len(), written);
        assert!(written > 0 && written < 40);
        assert_eq!(
            store.before.load(Ordering::Relaxed) + store.after.load(Ordering::Relaxed),
            40
        );
    }
}
