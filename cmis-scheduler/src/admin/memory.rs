//! [`AdminStore`] for the memory store: the query's own rules ([`JobQuery::matches`]) over
//! every job.

use std::collections::BTreeMap;

use async_trait::async_trait;
use cmis_core::{AccountRef, AuditRecord, ErrorKind, Result, TenantId};
use time::OffsetDateTime;

use super::{
    ATTENTION, AccountActivity, AdminStore, Hold, JobCounts, JobPage, JobQuery, RefreshRecord,
    Scope, UNPUBLISHED,
};
use crate::job::{Job, JobId, JobState};
use crate::memory::MemoryScheduleStore;

#[async_trait]
impl AdminStore for MemoryScheduleStore {
    async fn find_jobs(&self, scope: &Scope, query: &JobQuery) -> Result<JobPage> {
        let size = query.page_size();
        let take = usize::try_from(size)
            .unwrap_or(usize::MAX)
            .saturating_add(1);
        let jobs = self.admin_view(|jobs, _| {
            jobs.values()
                .rev()
                .filter(|j| query.before.is_none_or(|b| j.id < b))
                .filter(|j| scope.allows(&j.tenant) && query.matches(j))
                .take(take)
                .cloned()
                .collect()
        });
        Ok(JobPage::cut(jobs, size))
    }

    async fn find_job(&self, scope: &Scope, id: JobId) -> Result<Option<Job>> {
        Ok(self.admin_view(|jobs, _| jobs.get(&id).filter(|j| scope.allows(&j.tenant)).cloned()))
    }

    async fn count_jobs(&self, scope: &Scope) -> Result<JobCounts> {
        Ok(self.admin_view(|jobs, _| {
            let mut counts = JobCounts::default();
            for j in jobs.values().filter(|j| scope.allows(&j.tenant)) {
                counts.add(j.target.account.platform, j.state, 1);
            }
            counts
        }))
    }

    async fn account_activity(
        &self,
        scope: &Scope,
        since: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> Result<Vec<AccountActivity>> {
        Ok(self.admin_view(|jobs, audit| {
            let mut by: BTreeMap<AccountRef, AccountActivity> = BTreeMap::new();
            // Without a window, only the jobs that need attention, as the SQL stores read them.
            let read = |j: &&Job| since.is_some() || ATTENTION.contains(&j.state);
            for j in jobs
                .values()
                .filter(|j| scope.allows(&j.tenant))
                .filter(read)
            {
                let a = by
                    .entry(j.target.account.clone())
                    .or_insert_with(|| AccountActivity::none(j.target.account.clone()));
                activity_of(a, j, since, now);
            }
            for r in audit.iter().filter(|r| scope.allows(&r.tenant)) {
                let (Some(account), Some(refresh)) = (&r.account, refresh_of(r)) else {
                    continue;
                };
                by.entry(account.clone())
                    .or_insert_with(|| AccountActivity::none(account.clone()))
                    .last_refresh = Some(refresh);
            }
            by.into_values().collect()
        }))
    }

    async fn tenants(&self) -> Result<Vec<TenantId>> {
        Ok(self.admin_view(|jobs, _| {
            let mut t: Vec<TenantId> = jobs.values().map(|j| j.tenant.clone()).collect();
            t.sort();
            t.dedup();
            t
        }))
    }

    async fn record_admin(&self, record: &AuditRecord) -> Result<()> {
        self.admin_record(record);
        Ok(())
    }
}

/// Adds job `j` to its account's activity.
fn activity_of(
    a: &mut AccountActivity,
    j: &Job,
    since: Option<OffsetDateTime>,
    now: OffsetDateTime,
) {
    let counted = |at: OffsetDateTime| since.is_some_and(|s| at >= s);
    match j.state {
        JobState::Published if since.is_none() => {}
        JobState::Published => {
            a.last_published_at = a.last_published_at.max(Some(j.updated_at));
            if counted(j.updated_at) {
                a.published += 1;
            }
        }
        s if UNPUBLISHED.contains(&s) && counted(j.updated_at) => a.failed += 1,
        JobState::AwaitingReauth => a.awaiting_reauth += 1,
        JobState::RetryScheduled => {
            let kind = j.last_error.as_ref().map(|e| e.kind);
            if let (Some(kind @ (ErrorKind::RateLimited | ErrorKind::Quota)), Some(until)) =
                (kind, j.run_at)
                && until > now
                && a.hold.is_none_or(|h| h.until < until)
            {
                a.hold = Some(Hold { kind, until });
            }
        }
        _ => {}
    }
}

/// A token refresh record, as the refresher writes it (`token.refreshed`,
/// `token.refresh_failed` with its `error_kind`).
pub(crate) fn refresh_of(r: &AuditRecord) -> Option<RefreshRecord> {
    let ok = match r.action.as_str() {
        "token.refreshed" => true,
        "token.refresh_failed" => false,
        _ => return None,
    };
    Some(RefreshRecord {
        at: r.at,
        ok,
        error_kind: r.detail.get("error_kind").cloned(),
    })
}
