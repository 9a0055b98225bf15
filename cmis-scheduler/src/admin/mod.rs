//! The admin API: what an operator's dashboard reads and changes (issue 17).
//!
//! Every call takes a [`Scope`]: one tenant, or an explicit all-tenants scope that only an
//! operator's own tools should hold. A job of another tenant is reported exactly as a job that
//! does not exist.
//!
//! - [`AdminStore`]: the queries a store answers itself ([`find_jobs`](AdminStore::find_jobs)
//!   with filters and keyset paging, [`count_jobs`](AdminStore::count_jobs), one job by id,
//!   per-account activity). Implemented by [`SqliteStore`](crate::SqliteStore), `PgStore` and
//!   [`MemoryScheduleStore`](crate::MemoryScheduleStore).
//! - [`Admin`]: the operator's view on top of a store and its credentials: a job's
//!   [`Timeline`], [`AccountHealth`] (token expiry, refreshes, holds, failures), and bulk
//!   retry, cancel and reschedule by filter, capped and audited.
//!
//! ```
//! # mod cmis { pub use cmis_core::*; pub mod scheduler { pub use cmis_scheduler::*; } }
//! use cmis::scheduler::admin::{Admin, JobQuery, Scope};
//! use cmis::scheduler::{JobState, MemoryScheduleStore};
//! use cmis::TenantId;
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> cmis::Result<()> {
//! let admin = Admin::new(std::sync::Arc::new(MemoryScheduleStore::new()));
//! let scope = Scope::tenant(TenantId::new("acme"));
//! let failed = admin.jobs(&scope, &JobQuery::new().state(JobState::Failed)).await?;
//! for job in &failed.jobs {
//!     println!("{} {}", job.id, job.last_error.as_ref().map_or("", |e| e.message.as_str()));
//! }
//! let counts = admin.counts(&scope).await?;
//! println!("{} jobs, {} failed", counts.total(), counts.state(JobState::Failed));
//! # Ok(()) }
//! ```

mod health;
mod memory;
mod query;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) mod sql;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use async_trait::async_trait;
use cmis_core::{AccountRef, AuditRecord, CredentialStore, ErrorKind, Platform, Result, TenantId};
use time::OffsetDateTime;

use crate::job::{Change, Job, JobId, JobState};
use crate::store::ScheduleStore;

pub use health::{AccountHealth, Hold, RefreshRecord, TokenHealth, advice};
pub use query::{JobPage, JobQuery, TimeRange};

/// The states of jobs waiting on a person or on a platform's hold: what an account's health
/// reads ([`AdminStore::account_activity`] without a window), through an index of its own.
pub(crate) const ATTENTION: [JobState; 2] = [JobState::AwaitingReauth, JobState::RetryScheduled];

/// The states of jobs that ended without publishing, other than cancelled: an account's
/// failures.
pub(crate) const UNPUBLISHED: [JobState; 2] = [JobState::Failed, JobState::Missed];

/// Whose jobs an admin call may read and change.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scope {
    /// One tenant's jobs and accounts only.
    Tenant(TenantId),
    /// Every tenant's: an explicit grant for the operator's own staff, never a default.
    AllTenants,
}

impl Scope {
    /// One tenant's scope.
    pub fn tenant(tenant: impl Into<TenantId>) -> Self {
        Self::Tenant(tenant.into())
    }

    /// The all-tenants scope.
    pub fn all_tenants() -> Self {
        Self::AllTenants
    }

    /// Whether a job or account of `tenant` is visible in this scope.
    pub fn allows(&self, tenant: &TenantId) -> bool {
        match self {
            Self::Tenant(t) => t == tenant,
            Self::AllTenants => true,
        }
    }

    /// The tenant, for a one-tenant scope.
    pub fn tenant_id(&self) -> Option<&TenantId> {
        match self {
            Self::Tenant(t) => Some(t),
            Self::AllTenants => None,
        }
    }
}

/// How many jobs are in each state, on each platform ([`AdminStore::count_jobs`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct JobCounts {
    /// `(platform, state, count)`, one entry per pair with at least one job.
    pub by_platform_state: Vec<(Platform, JobState, u64)>,
}

impl JobCounts {
    /// Adds `n` jobs of `platform` in `state`.
    pub(crate) fn add(&mut self, platform: Platform, state: JobState, n: u64) {
        match self
            .by_platform_state
            .iter_mut()
            .find(|(p, s, _)| *p == platform && *s == state)
        {
            Some(e) => e.2 += n,
            None => self.by_platform_state.push((platform, state, n)),
        }
    }

    /// Every job counted.
    pub fn total(&self) -> u64 {
        self.by_platform_state.iter().map(|e| e.2).sum()
    }

    /// The jobs in `state`.
    pub fn state(&self, state: JobState) -> u64 {
        self.by_platform_state
            .iter()
            .filter(|e| e.1 == state)
            .map(|e| e.2)
            .sum()
    }

    /// The jobs of `platform`.
    pub fn platform(&self, platform: Platform) -> u64 {
        self.by_platform_state
            .iter()
            .filter(|e| e.0 == platform)
            .map(|e| e.2)
            .sum()
    }

    /// The platforms counted, in order.
    pub fn platforms(&self) -> Vec<Platform> {
        let mut p: Vec<Platform> = self.by_platform_state.iter().map(|e| e.0).collect();
        p.sort();
        p.dedup();
        p
    }
}

/// What the jobs of one account did ([`AdminStore::account_activity`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct AccountActivity {
    /// The account.
    pub account: AccountRef,
    /// When a job to it last published, if one did.
    pub last_published_at: Option<OffsetDateTime>,
    /// Jobs published since the activity's start.
    pub published: u64,
    /// Jobs failed or missed since the activity's start.
    pub failed: u64,
    /// Jobs waiting for the account to be re-authorised.
    pub awaiting_reauth: u64,
    /// The latest hold a platform put on the account (a rate limit or a quota) that a waiting
    /// job still serves.
    pub hold: Option<Hold>,
    /// The latest token refresh recorded for it.
    pub last_refresh: Option<RefreshRecord>,
}

impl AccountActivity {
    /// An account with no activity.
    pub(crate) fn none(account: AccountRef) -> Self {
        Self {
            account,
            last_published_at: None,
            published: 0,
            failed: 0,
            awaiting_reauth: 0,
            hold: None,
            last_refresh: None,
        }
    }
}

/// The queries of the admin API a store answers itself.
#[async_trait]
pub trait AdminStore: ScheduleStore {
    /// The jobs in `scope` that match `query`, newest first, one page at a time (active and
    /// finished jobs alike, those moved to history included).
    async fn find_jobs(&self, scope: &Scope, query: &JobQuery) -> Result<JobPage>;

    /// The job `id` if it is in `scope`.
    async fn find_job(&self, scope: &Scope, id: JobId) -> Result<Option<Job>>;

    /// How many jobs of `scope` are in each state, on each platform.
    async fn count_jobs(&self, scope: &Scope) -> Result<JobCounts>;

    /// What each account of `scope` with jobs or a token refresh did: publishes and failures
    /// since `since`, jobs waiting for re-authorisation, holds still served at `now`, the last
    /// token refresh. With `since` `None`, only what needs a person is read (jobs waiting for
    /// re-authorisation, holds, refreshes; no publish or failure is counted), which stays cheap
    /// however many jobs the accounts have.
    async fn account_activity(
        &self,
        scope: &Scope,
        since: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> Result<Vec<AccountActivity>>;

    /// The tenants with jobs or credentials in the store (for an all-tenants scope).
    async fn tenants(&self) -> Result<Vec<TenantId>>;

    /// Appends an operator's action to the audit trail (a bulk change's `job.admin` record).
    async fn record_admin(&self, record: &AuditRecord) -> Result<()>;
}

/// A job with everything known about it ([`Admin::timeline`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Timeline {
    /// The job as it is now (its receipt, once published; its last error).
    pub job: Job,
    /// Every audit record of the job, oldest first: scheduled, each claim and attempt with its
    /// worker and fencing token, each outcome with its error kind, each user change.
    pub records: Vec<AuditRecord>,
    /// What to do about the job's last error, if it needs a person.
    pub advice: Option<&'static str>,
}

impl Timeline {
    /// The platform calls made for the job: records of an outcome (published, retrying,
    /// pending, unknown, failed, ...), oldest first.
    pub fn attempts(&self) -> impl Iterator<Item = &AuditRecord> {
        self.records.iter().filter(|r| {
            r.action.starts_with("job.")
                && !matches!(
                    r.action.as_str(),
                    "job.scheduled"
                        | "job.claimed"
                        | "job.checkpoint"
                        | "job.rescheduled"
                        | "job.cancelled"
                        | "job.retry_now"
                        | "job.reconcile_now"
                        | "job.admin"
                )
        })
    }
}

/// A change applied to every job a filter selects ([`Admin::bulk`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BulkAction {
    /// [`retry_now`](ScheduleStore::retry_now) each job.
    Retry,
    /// [`cancel`](ScheduleStore::cancel) each job.
    Cancel,
    /// [`reschedule`](ScheduleStore::reschedule) each job to this instant.
    Reschedule(OffsetDateTime),
}

impl BulkAction {
    /// The action's stable name, as audited.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Retry => "retry",
            Self::Cancel => "cancel",
            Self::Reschedule(_) => "reschedule",
        }
    }
}

/// What a bulk change did.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct BulkOutcome {
    /// The jobs changed.
    pub applied: Vec<JobId>,
    /// The jobs whose state refused the change (for example a job whose publish call is in
    /// flight cannot be cancelled), and those that no longer existed.
    pub refused: Vec<JobId>,
    /// Whether more jobs matched than the cap allowed: run it again for the rest.
    pub more: bool,
}

/// The operator's view: a store's admin queries, its credentials and bulk changes.
#[derive(Clone)]
pub struct Admin {
    store: Arc<dyn AdminStore>,
    credentials: Option<Arc<dyn CredentialStore>>,
}

impl std::fmt::Debug for Admin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admin")
            .field("store", &self.store)
            .field("credentials", &self.credentials.is_some())
            .finish()
    }
}

impl Admin {
    /// The most jobs one bulk change touches.
    pub const MAX_BULK: u32 = 1_000;
    /// How far back [`accounts`](Self::accounts) counts publishes and failures.
    pub const FAILURE_WINDOW: time::Duration = time::Duration::days(7);

    /// The admin view of `store`, without token health (see
    /// [`with_credentials`](Self::with_credentials)).
    pub fn new(store: Arc<dyn AdminStore>) -> Self {
        Self {
            store,
            credentials: None,
        }
    }

    /// Reads token health from `credentials` (usually the same database store).
    #[must_use]
    pub fn with_credentials(mut self, credentials: Arc<dyn CredentialStore>) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn AdminStore> {
        &self.store
    }

    /// The jobs of `scope` matching `query`, newest first, one page.
    pub async fn jobs(&self, scope: &Scope, query: &JobQuery) -> Result<JobPage> {
        query.check()?;
        self.store.find_jobs(scope, query).await
    }

    /// How many jobs of `scope` are in each state, on each platform.
    pub async fn counts(&self, scope: &Scope) -> Result<JobCounts> {
        self.store.count_jobs(scope).await
    }

    /// The job `id` with its audit records and what to do about its error; `None` when it does
    /// not exist in `scope`.
    pub async fn timeline(&self, scope: &Scope, id: JobId) -> Result<Option<Timeline>> {
        let Some(job) = self.store.find_job(scope, id).await? else {
            return Ok(None);
        };
        let records = self.store.audit_trail(&job.tenant, Some(job.id)).await?;
        let advice = job
            .last_error
            .as_ref()
            .filter(|_| !matches!(job.state, JobState::Published | JobState::Cancelled))
            .map(|e| advice(e.kind, job.state));
        Ok(Some(Timeline {
            job,
            records,
            advice,
        }))
    }

    /// The health of every account of `scope` with a credential or a job, those that need a
    /// person first, at `now`, with publishes and failures over [`Admin::FAILURE_WINDOW`].
    pub async fn accounts(&self, scope: &Scope, now: OffsetDateTime) -> Result<Vec<AccountHealth>> {
        health::accounts(self, scope, now, true).await
    }

    /// Like [`accounts`](Self::accounts) without counting publishes and failures: what an
    /// overview needs to list the accounts at risk, cheap on a large store.
    pub async fn accounts_at_risk(
        &self,
        scope: &Scope,
        now: OffsetDateTime,
    ) -> Result<Vec<AccountHealth>> {
        health::accounts(self, scope, now, false).await
    }

    /// Sets the scheduler's gauges through the [`metrics`] facade, over every tenant:
    /// `cmis_jobs{state}` (jobs in each state), `cmis_accounts_needing_reauth` and
    /// `cmis_oldest_due_seconds` (how long the oldest due job has waited; 0 when none is due).
    /// Call it every few seconds from one process (a metrics endpoint's handler, or a timer).
    pub async fn record_gauges(&self, now: OffsetDateTime) -> Result<()> {
        let counts = self.store.count_jobs(&Scope::AllTenants).await?;
        for state in JobState::ALL {
            #[allow(clippy::cast_precision_loss)]
            metrics::gauge!("cmis_jobs", "state" => state.as_str()).set(counts.state(state) as f64);
        }
        let reauth = self
            .accounts_at_risk(&Scope::AllTenants, now)
            .await?
            .iter()
            .filter(|h| h.needs_reauth())
            .count();
        #[allow(clippy::cast_precision_loss)]
        metrics::gauge!("cmis_accounts_needing_reauth").set(reauth as f64);
        let waited = match self.store.next_due().await? {
            Some(due) if due < now => (now - due).as_seconds_f64(),
            _ => 0.0,
        };
        metrics::gauge!("cmis_oldest_due_seconds").set(waited);
        Ok(())
    }

    /// Applies `action` to the jobs of `scope` that match `query`, newest first, at most `cap`
    /// of them (at most [`Admin::MAX_BULK`]). Each change goes through the store's own
    /// operation (audited per job, refused where the job's state does not allow it), and one
    /// `job.admin` record per job names `actor` and the bulk action.
    pub async fn bulk(
        &self,
        scope: &Scope,
        query: &JobQuery,
        action: BulkAction,
        cap: u32,
        actor: &str,
    ) -> Result<BulkOutcome> {
        query.check()?;
        let cap = cap.clamp(1, Self::MAX_BULK);
        let mut out = BulkOutcome::default();
        let mut q = query.clone();
        q.limit = Some(cap.min(JobQuery::MAX_LIMIT));
        let mut seen = 0u32;
        loop {
            let page = self.store.find_jobs(scope, &q).await?;
            for job in &page.jobs {
                if seen == cap {
                    out.more = true;
                    return Ok(out);
                }
                seen += 1;
                if self.change(job, action, actor).await? {
                    out.applied.push(job.id);
                } else {
                    out.refused.push(job.id);
                }
            }
            match page.next {
                Some(next) => q.before = Some(next),
                None => return Ok(out),
            }
        }
    }

    /// Applies `action` to `job` (found in the caller's scope) through the store's own
    /// operation, and audits it as `actor`'s with a `job.admin` record. `true` when applied;
    /// `false` when the job's state refused it or the job no longer exists.
    pub async fn change(&self, job: &Job, action: BulkAction, actor: &str) -> Result<bool> {
        let store = &self.store;
        let change = match action {
            BulkAction::Retry => store.retry_now(&job.tenant, job.id).await,
            BulkAction::Cancel => store.cancel(&job.tenant, job.id).await,
            BulkAction::Reschedule(at) => store.reschedule(&job.tenant, job.id, at).await,
        };
        let change = match change {
            Ok(c) => c,
            Err(e) if e.kind() == ErrorKind::InvalidInput => return Ok(false),
            Err(e) => return Err(e),
        };
        let applied = matches!(change, Change::Applied(_));
        if applied {
            let record = AuditRecord::for_account(&job.target.account, "job.admin")
                .with_subject(job.id.to_string())
                .with_detail("action", action.as_str())
                .with_detail("actor", actor);
            let record = match action {
                BulkAction::Reschedule(at) => record.with_detail("at", at.to_string()),
                _ => record,
            };
            self.store.record_admin(&record).await?;
        }
        Ok(applied)
    }
}
