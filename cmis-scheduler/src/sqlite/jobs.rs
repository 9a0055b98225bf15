//! `ScheduleStore` on SQLite.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use cmis_core::{
    AuditRecord, Checkpoint, Notification, Platform, Post, PostKey, Result, Surface, Target,
    TenantId,
};
use serde_json::json;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use time::OffsetDateTime;

use super::SqliteStore;
use crate::audit_chain::{AuditRow, AuditVerification};
use crate::backend::{
    MAX_DECODE_FAILURES, batch_rows, lease_json, released_detail, set_aside_audit, set_aside_reason,
};
use crate::job::{Change, ClaimedJob, Completion, Job, JobFilter, JobId, Lease, NewPost};
use crate::outbox::{Delivered, Delivery};
use crate::rows::{JobHead, claimed_from_row, completed, job_columns, rescued};
use crate::sql::Dialect as _;
use crate::store::{Rejected, ScheduleStore};
use crate::stored::db_err;
use crate::stored::{duration_micros, micros};
use crate::transitions::{CompletionRow, UserOp, completion_row};

pub(super) const INSERT_JOB: &str = concat!(
    "INSERT INTO jobs (tenant, post_id, platform, account, surface, post, state, scheduled_for, \
     run_at, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'scheduled', ?7, ?7, ?8, ?8) \
     RETURNING ",
    job_columns!()
);

const INSERT_MANY: &str = "INSERT INTO jobs (tenant, post_id, platform, account, surface, post, \
     state, scheduled_for, run_at, created_at, updated_at) \
     SELECT ?2, json_extract(value, '$.post_id'), json_extract(value, '$.platform'), \
        json_extract(value, '$.account'), json_extract(value, '$.surface'), \
        json_extract(value, '$.post'), 'scheduled', json_extract(value, '$.at'), \
        json_extract(value, '$.at'), ?3, ?3 FROM json_each(?1) \
     RETURNING id, platform, account, scheduled_for";

pub(super) const GET_JOB: &str = concat!(
    "SELECT ",
    job_columns!(),
    " FROM jobs WHERE id = ?1 AND tenant = ?2 UNION ALL SELECT ",
    job_columns!(),
    " FROM jobs_history WHERE id = ?1 AND tenant = ?2"
);

pub(super) const GET_ACTIVE: &str = concat!(
    "SELECT ",
    job_columns!(),
    " FROM jobs WHERE id = ?1 AND tenant = ?2"
);

pub(super) const LIST_JOBS: &str = concat!(
    "SELECT * FROM (SELECT ",
    job_columns!(),
    " FROM jobs WHERE tenant = ?1 UNION ALL SELECT ",
    job_columns!(),
    " FROM jobs_history WHERE tenant = ?1) WHERE (?2 IS NULL OR post_id = ?2) \
     AND (?3 IS NULL OR state IN (SELECT value FROM json_each(?3))) AND id > ?5 \
     ORDER BY id LIMIT ?4"
);

pub(super) const USER_WRITE: &str = concat!(
    "UPDATE jobs SET state = ?2, scheduled_for = ?3, run_at = ?4, \
     attempts = CASE WHEN ?5 THEN 0 ELSE attempts END, updated_at = ?6 WHERE id = ?1 RETURNING ",
    job_columns!()
);

/// Claims due jobs of the platforms `?6` on the surfaces `?7` (JSON arrays); `?5` is the start
/// time to record (`NULL`: not started).
const CLAIM: &str = concat!(
    "UPDATE jobs SET state = 'publishing', lease_owner = ?1, lease_expires_at = ?2, \
     fencing_token = fencing_token + 1, \
     phase = CASE WHEN state = 'unknown_outcome' THEN 'reconcile' \
                  WHEN checkpoint IS NOT NULL THEN 'resume' ELSE 'publish' END, \
     attempts = attempts + (CASE WHEN state IN ('scheduled', 'retry_scheduled') THEN 1 ELSE 0 END), \
     claimed_from = state, started_at = ?5, updated_at = ?3 \
     WHERE id IN (SELECT id FROM jobs \
        WHERE state IN ('scheduled', 'retry_scheduled', 'pending', 'unknown_outcome') \
        AND run_at <= ?3 AND platform IN (SELECT value FROM json_each(?6)) \
        AND surface IN (SELECT value FROM json_each(?7)) ORDER BY run_at, id LIMIT ?4) \
     RETURNING ",
    job_columns!()
);

/// Puts back a claimed job this process cannot decode (`?4`: the failures after which it is
/// quarantined as `failed` with the reason `?6`; `?5`: now). It is due again after a backoff,
/// for a process that can read it; its attempt is given back.
const SET_ASIDE: &str = "UPDATE jobs SET lease_owner = NULL, lease_expires_at = NULL, \
     phase = NULL, started_at = NULL, decode_failures = decode_failures + 1, \
     attempts = attempts - (CASE WHEN claimed_from IN ('scheduled', 'retry_scheduled') THEN 1 ELSE 0 END), \
     state = CASE WHEN decode_failures + 1 >= ?4 THEN 'failed' ELSE claimed_from END, \
     run_at = CASE WHEN decode_failures + 1 >= ?4 THEN NULL \
        ELSE ?5 + min(60000000 << min(decode_failures, 10), 3600000000) END, \
     last_error_kind = CASE WHEN decode_failures + 1 >= ?4 THEN 'internal' ELSE last_error_kind END, \
     last_error = CASE WHEN decode_failures + 1 >= ?4 THEN ?6 ELSE last_error END, \
     updated_at = ?5 \
     WHERE id = ?1 AND lease_owner = ?2 AND fencing_token = ?3 AND state = 'publishing' \
     RETURNING id, tenant, platform, account, state";

/// Returns the jobs leased to `?1` whose ids are not among `?2` (a JSON array) to the state they
/// were claimed from, as if never claimed: their claim's answer never reached the process, so no
/// call was made for them.
const RELEASE_UNHELD: &str = "UPDATE jobs SET state = claimed_from, lease_owner = NULL, \
     lease_expires_at = NULL, phase = NULL, started_at = NULL, \
     attempts = attempts - (CASE WHEN claimed_from IN ('scheduled', 'retry_scheduled') THEN 1 ELSE 0 END), \
     updated_at = ?3 \
     WHERE state = 'publishing' AND lease_owner = ?1 \
        AND id NOT IN (SELECT value FROM json_each(?2)) \
     RETURNING id, tenant, platform, account, state";

const MARK_STARTED: &str = concat!(
    "UPDATE jobs SET started_at = ?2 FROM (",
    "SELECT json_extract(value, '$.id') AS id, json_extract(value, '$.owner') AS owner, \
     json_extract(value, '$.token') AS token FROM json_each(?1)",
    ") AS v WHERE jobs.id = v.id AND jobs.lease_owner = v.owner AND jobs.fencing_token = v.token \
     AND jobs.state = 'publishing' RETURNING jobs.id, jobs.lease_owner, jobs.fencing_token"
);

const HEARTBEAT: &str = concat!(
    "UPDATE jobs SET lease_expires_at = ?2 FROM (",
    "SELECT json_extract(value, '$.id') AS id, json_extract(value, '$.owner') AS owner, \
     json_extract(value, '$.token') AS token FROM json_each(?1)",
    ") AS v WHERE jobs.id = v.id AND jobs.lease_owner = v.owner AND jobs.fencing_token = v.token \
     AND jobs.state = 'publishing' RETURNING jobs.id, jobs.lease_owner, jobs.fencing_token"
);

/// A wait for re-authorisation becomes a retry at once when the account's credential was
/// written since the call started (the user re-authorised meanwhile: review N12).
const COMPLETE: &str = "UPDATE jobs SET \
     state = CASE WHEN v.state = 'awaiting_reauth' AND EXISTS (SELECT 1 FROM credentials c \
        WHERE c.tenant = jobs.tenant AND c.platform = jobs.platform AND c.account = jobs.account \
        AND c.updated_at >= jobs.started_at) THEN 'retry_scheduled' ELSE v.state END, \
     run_at = CASE WHEN v.state = 'awaiting_reauth' AND EXISTS (SELECT 1 FROM credentials c \
        WHERE c.tenant = jobs.tenant AND c.platform = jobs.platform AND c.account = jobs.account \
        AND c.updated_at >= jobs.started_at) THEN ?2 ELSE v.run_at END, \
     last_error_kind = COALESCE(v.err_kind, jobs.last_error_kind), \
     last_error = COALESCE(v.err, jobs.last_error), \
     checkpoint = CASE WHEN v.discard = 1 THEN NULL ELSE COALESCE(v.cp, jobs.checkpoint) END, \
     receipt = COALESCE(v.receipt, jobs.receipt), \
     attempts = jobs.attempts - (CASE WHEN v.refund = 1 \
        AND jobs.claimed_from IN ('scheduled', 'retry_scheduled') THEN 1 ELSE 0 END), \
     lease_owner = NULL, lease_expires_at = NULL, phase = NULL, started_at = NULL, updated_at = ?2 \
     FROM (SELECT json_extract(value, '$.id') AS id, json_extract(value, '$.owner') AS owner, \
        json_extract(value, '$.token') AS token, json_extract(value, '$.state') AS state, \
        json_extract(value, '$.run_at') AS run_at, json_extract(value, '$.err_kind') AS err_kind, \
        json_extract(value, '$.err') AS err, json_extract(value, '$.cp') AS cp, \
        json_extract(value, '$.receipt') AS receipt, json_extract(value, '$.refund') AS refund, \
        json_extract(value, '$.discard') AS discard FROM json_each(?1)) AS v \
     WHERE jobs.id = v.id AND jobs.lease_owner = v.owner AND jobs.fencing_token = v.token \
     AND jobs.state = 'publishing' \
     RETURNING jobs.id, jobs.fencing_token, jobs.tenant, jobs.platform, jobs.account";

const RESCUE: &str = concat!(
    "UPDATE jobs SET \
     state = CASE WHEN started_at IS NOT NULL THEN 'unknown_outcome' ELSE claimed_from END, \
     run_at = CASE WHEN started_at IS NOT NULL THEN ?1 ELSE run_at END, \
     attempts = attempts - (CASE WHEN started_at IS NULL \
        AND claimed_from IN ('scheduled', 'retry_scheduled') THEN 1 ELSE 0 END), \
     last_error_kind = CASE WHEN started_at IS NOT NULL THEN 'unknown_outcome' ELSE last_error_kind END, \
     last_error = CASE WHEN started_at IS NOT NULL \
        THEN 'the worker''s lease expired while its platform call was in flight' ELSE last_error END, \
     lease_owner = NULL, lease_expires_at = NULL, phase = NULL, started_at = NULL, updated_at = ?1 \
     WHERE id IN (SELECT id FROM jobs WHERE state = 'publishing' AND lease_expires_at < ?1 \
        ORDER BY lease_expires_at LIMIT ?2) RETURNING ",
    job_columns!()
);

const NEXT_DUE: &str = "SELECT MIN(run_at) FROM jobs \
     WHERE state IN ('scheduled', 'retry_scheduled', 'pending', 'unknown_outcome') \
     AND platform IN (SELECT value FROM json_each(?1)) \
     AND surface IN (SELECT value FROM json_each(?2))";

const FINISHED: &str = "SELECT id FROM jobs \
     WHERE state IN ('published', 'failed', 'missed', 'cancelled') AND updated_at < ?1 \
     ORDER BY updated_at LIMIT ?2";

const TO_HISTORY: &str = concat!(
    "INSERT INTO jobs_history (",
    job_columns!(),
    ") SELECT ",
    job_columns!(),
    " FROM jobs WHERE id IN (SELECT value FROM json_each(?1))"
);

fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl SqliteStore {
    /// Claims due jobs of `platforms` for `owner`; `started` records their calls as started and
    /// writes no `job.claimed` records, otherwise the records go in the same transaction. A
    /// claimed row this process cannot decode is put back in the same transaction (see
    /// [`SET_ASIDE`]), never handed out and never left leased.
    async fn claim_jobs(
        &self,
        owner: &str,
        limit_: usize,
        lease: Duration,
        started: bool,
        platforms: &[Platform],
    ) -> Result<Vec<ClaimedJob>> {
        self.check_schema()?;
        if limit_ == 0 || platforms.is_empty() {
            return Ok(Vec::new());
        }
        let now = micros(self.now());
        let names = |v: Vec<&str>| serde_json::Value::from(v).to_string();
        let mut tx = self.write_tx().await?;
        let rows = sqlx::query(CLAIM)
            .bind(owner)
            .bind(now.saturating_add(duration_micros(lease)))
            .bind(now)
            .bind(limit(limit_))
            .bind(started.then_some(now))
            .bind(names(platforms.iter().map(|p| p.as_str()).collect()))
            .bind(names(Surface::ALL.iter().map(|s| s.as_str()).collect()))
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
        if rows.is_empty() {
            tx.rollback().await.map_err(db_err)?;
            return Ok(Vec::new());
        }
        let mut claimed = Vec::with_capacity(rows.len());
        let mut audit = Vec::new();
        for row in &rows {
            let error = match claimed_from_row(row) {
                Ok(c) => {
                    claimed.push(c);
                    continue;
                }
                Err(e) => e,
            };
            let head = JobHead::from_row(row)?;
            let put_back = sqlx::query(SET_ASIDE)
                .bind(head.id)
                .bind(owner)
                .bind(row.try_get::<i64, _>("fencing_token").map_err(db_err)?)
                .bind(MAX_DECODE_FAILURES)
                .bind(now)
                .bind(set_aside_reason(&error))
                .fetch_one(&mut *tx)
                .await
                .map_err(db_err)?;
            audit.push(set_aside_audit(&JobHead::from_row(&put_back)?, now, &error));
        }
        claimed.sort_by_key(|c| (c.job.run_at, c.job.id));
        if !started {
            audit.extend(AuditRow::claimed(&claimed, now));
        }
        if !audit.is_empty() {
            audit.sort_by_key(AuditRow::subject_id);
            super::audit::append(&mut tx, audit).await?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(claimed)
    }
}

fn leases_from_rows(rows: &[SqliteRow]) -> Result<Vec<Lease>> {
    rows.iter()
        .map(|r| {
            Ok(Lease::new(
                JobId::new(r.try_get("id").map_err(db_err)?),
                r.try_get::<String, _>("lease_owner").map_err(db_err)?,
                r.try_get("fencing_token").map_err(db_err)?,
            ))
        })
        .collect()
}

#[async_trait]
impl ScheduleStore for SqliteStore {
    async fn schedule(
        &self,
        tenant: &TenantId,
        post_id: &PostKey,
        post: &Post,
        targets: &[Target],
        at: OffsetDateTime,
    ) -> Result<Vec<Job>> {
        crate::sql::jobs::schedule(self, tenant, post_id, post, targets, at).await
    }

    async fn schedule_many(&self, tenant: &TenantId, posts: &[NewPost]) -> Result<u64> {
        let rows = batch_rows(tenant, posts)?;
        let now = micros(self.now());
        let mut tx = self.write_tx().await?;
        let mut n = 0u64;
        for chunk in rows.chunks(5_000) {
            let inserted = sqlx::query(INSERT_MANY)
                .bind(serde_json::Value::from(chunk.to_vec()).to_string())
                .bind(tenant.as_str())
                .bind(now)
                .fetch_all(&mut *tx)
                .await
                .map_err(db_err)?;
            n += inserted.len() as u64;
            let mut audit = inserted
                .iter()
                .map(|r| {
                    let at: i64 = r.try_get("scheduled_for").map_err(db_err)?;
                    Ok(AuditRow::job(
                        tenant.as_str(),
                        now,
                        "job.scheduled",
                        r.try_get::<String, _>("platform").map_err(db_err)?,
                        r.try_get::<String, _>("account").map_err(db_err)?,
                        r.try_get("id").map_err(db_err)?,
                        json!({"at": at.to_string()}).to_string(),
                    ))
                })
                .collect::<Result<Vec<_>>>()?;
            audit.sort_by_key(AuditRow::subject_id);
            super::audit::append(&mut tx, audit).await?;
        }
        tx.commit().await.map_err(db_err)?;
        self.wake();
        Ok(n)
    }

    async fn get(&self, tenant: &TenantId, id: JobId) -> Result<Option<Job>> {
        crate::sql::jobs::get(self, tenant, id).await
    }

    async fn list(&self, tenant: &TenantId, filter: &JobFilter) -> Result<Vec<Job>> {
        crate::sql::jobs::list(self, tenant, filter).await
    }

    async fn reschedule(&self, tenant: &TenantId, id: JobId, at: OffsetDateTime) -> Result<Change> {
        crate::sql::jobs::user_change(self, tenant, id, UserOp::Reschedule(at)).await
    }

    async fn cancel(&self, tenant: &TenantId, id: JobId) -> Result<Change> {
        crate::sql::jobs::user_change(self, tenant, id, UserOp::Cancel).await
    }

    async fn retry_now(&self, tenant: &TenantId, id: JobId) -> Result<Change> {
        crate::sql::jobs::user_change(self, tenant, id, UserOp::RetryNow).await
    }

    async fn audit_trail(&self, tenant: &TenantId, job: Option<JobId>) -> Result<Vec<AuditRecord>> {
        crate::sql::jobs::audit_trail(self, tenant, job).await
    }

    async fn audit_page(
        &self,
        tenant: &TenantId,
        job: Option<JobId>,
        after: Option<u64>,
        limit: u32,
    ) -> Result<crate::AuditPage> {
        crate::sql::jobs::audit_page(self, tenant, job, after, limit).await
    }

    async fn claim(&self, owner: &str, limit_: usize, lease: Duration) -> Result<Vec<ClaimedJob>> {
        self.claim_jobs(owner, limit_, lease, false, &Platform::ALL)
            .await
    }

    async fn claim_started(
        &self,
        owner: &str,
        limit_: usize,
        lease: Duration,
    ) -> Result<Vec<ClaimedJob>> {
        self.claim_jobs(owner, limit_, lease, true, &Platform::ALL)
            .await
    }

    async fn claim_started_on(
        &self,
        owner: &str,
        limit_: usize,
        lease: Duration,
        platforms: &[Platform],
    ) -> Result<Vec<ClaimedJob>> {
        self.claim_jobs(owner, limit_, lease, true, platforms).await
    }

    async fn release_unheld(&self, owner: &str, held: &[Lease]) -> Result<u64> {
        let now = micros(self.now());
        let keep: Vec<i64> = held
            .iter()
            .filter(|l| l.owner == owner)
            .map(|l| l.job.get())
            .collect();
        let mut tx = self.write_tx().await?;
        let rows = sqlx::query(RELEASE_UNHELD)
            .bind(owner)
            .bind(serde_json::Value::from(keep).to_string())
            .bind(now)
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
        let audit = rows
            .iter()
            .map(|r| Ok(JobHead::from_row(r)?.audit(now, "job.released", released_detail(owner))))
            .collect::<Result<Vec<_>>>()?;
        super::audit::append(&mut tx, audit).await?;
        tx.commit().await.map_err(db_err)?;
        if !rows.is_empty() {
            self.wake();
        }
        Ok(rows.len() as u64)
    }

    async fn mark_started(&self, leases: &[Lease]) -> Result<Vec<Lease>> {
        if leases.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.write_tx().await?;
        let rows = sqlx::query(MARK_STARTED)
            .bind(lease_json(leases))
            .bind(micros(self.now()))
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        leases_from_rows(&rows)
    }

    async fn heartbeat(&self, leases: &[Lease], lease: Duration) -> Result<Vec<Lease>> {
        if leases.is_empty() {
            return Ok(Vec::new());
        }
        let until = micros(self.now()).saturating_add(duration_micros(lease));
        let mut tx = self.write_tx().await?;
        let rows = sqlx::query(HEARTBEAT)
            .bind(lease_json(leases))
            .bind(until)
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        leases_from_rows(&rows)
    }

    async fn save_checkpoint(&self, lease: &Lease, checkpoint: &Checkpoint) -> Result<()> {
        crate::sql::jobs::save_checkpoint(self, lease, checkpoint).await
    }

    async fn complete_notifying(
        &self,
        completions: &[(Lease, Completion, Option<Notification>)],
    ) -> Result<Vec<Rejected>> {
        if completions.is_empty() {
            return Ok(Vec::new());
        }
        let now = micros(self.now());
        let rows: Vec<_> = completions
            .iter()
            .map(|(l, c, _)| completion_row(l, c, now))
            .collect();
        // Encoded before the write transaction, which holds the database's one write lock.
        let document =
            serde_json::Value::from(rows.iter().map(CompletionRow::to_json).collect::<Vec<_>>())
                .to_string();
        let encoded = crate::rows::encode_notifications(completions)?;
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(COMPLETE)
            .bind(document)
            .bind(now)
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
        let done = completed(&done, &rows, completions, encoded, now)?;
        super::audit::append(&mut tx, done.audit).await?;
        super::outbox::insert(&mut tx, &done.outbox, now).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(done.rejected)
    }

    async fn enqueue(&self, notifications: &[Notification]) -> Result<()> {
        let rows = notifications
            .iter()
            .map(crate::outbox::OutboxRow::new)
            .collect::<Result<Vec<_>>>()?;
        if rows.is_empty() {
            return Ok(());
        }
        let mut tx = self.write_tx().await?;
        super::outbox::insert(&mut tx, &rows, micros(self.now())).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn claim_deliveries(
        &self,
        owner: &str,
        limit_: usize,
        lease: Duration,
    ) -> Result<Vec<Delivery>> {
        self.claim_outbox(owner, limit_, lease).await
    }

    async fn settle_deliveries(&self, owner: &str, results: &[(i64, Delivered)]) -> Result<()> {
        self.settle_outbox(owner, results).await
    }

    async fn undelivered(&self) -> Result<u64> {
        self.outbox_waiting().await
    }

    async fn rescue_expired(&self, limit_: usize) -> Result<Vec<Job>> {
        let now = micros(self.now());
        let mut tx = self.write_tx().await?;
        let rows = sqlx::query(RESCUE)
            .bind(now)
            .bind(limit(limit_))
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
        let (jobs, audit) = rescued(&rows, now)?;
        super::audit::append(&mut tx, audit).await?;
        tx.commit().await.map_err(db_err)?;
        if !rows.is_empty() {
            self.wake();
        }
        Ok(jobs)
    }

    async fn verify_audit(&self, tenant: &TenantId) -> Result<AuditVerification> {
        crate::sql::jobs::verify_audit(self, tenant).await
    }

    async fn next_due_on(&self, platforms: &[Platform]) -> Result<Option<OffsetDateTime>> {
        let names = |v: Vec<&str>| serde_json::Value::from(v).to_string();
        let next: Option<i64> = sqlx::query_scalar(NEXT_DUE)
            .bind(names(platforms.iter().map(|p| p.as_str()).collect()))
            .bind(names(Surface::ALL.iter().map(|s| s.as_str()).collect()))
            .fetch_one(&self.inner.reader)
            .await
            .map_err(db_err)?;
        next.map(crate::stored::from_micros).transpose()
    }

    async fn try_lead(&self, name: &str, owner: &str, ttl: Duration) -> Result<bool> {
        crate::sql::jobs::try_lead(self, name, owner, ttl).await
    }

    async fn resign(&self, name: &str, owner: &str) -> Result<()> {
        crate::sql::jobs::resign(self, name, owner).await
    }

    async fn cleanup(&self, before: OffsetDateTime, limit_: usize) -> Result<u64> {
        let mut tx = self.write_tx().await?;
        // Delivered notifications older than the cutoff go too.
        sqlx::query(
            "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE delivered_at < ?1 \
             ORDER BY delivered_at LIMIT ?2)",
        )
        .bind(micros(before))
        .bind(limit(limit_))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        let ids: Vec<i64> = sqlx::query_scalar(FINISHED)
            .bind(micros(before))
            .bind(limit(limit_))
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
        if ids.is_empty() {
            tx.commit().await.map_err(db_err)?;
            return Ok(0);
        }
        let ids_json = serde_json::Value::from(ids.clone()).to_string();
        sqlx::query(TO_HISTORY)
            .bind(ids_json.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        // History's counts for the admin API, in the same transaction (history never changes).
        sqlx::query(
            "INSERT INTO jobs_history_counts (tenant, platform, state, n) \
             SELECT tenant, platform, state, COUNT(*) FROM jobs \
             WHERE id IN (SELECT value FROM json_each(?1)) GROUP BY tenant, platform, state \
             ON CONFLICT (tenant, platform, state) DO UPDATE SET n = n + excluded.n",
        )
        .bind(ids_json.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        let moved = sqlx::query("DELETE FROM jobs WHERE id IN (SELECT value FROM json_each(?1))")
            .bind(ids_json.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        tx.commit().await.map_err(db_err)?;
        Ok(moved)
    }

    async fn register_process(&self, id: &str) -> Result<()> {
        self.register(id).await
    }

    async fn processes(&self) -> Result<Vec<crate::ProcessRecord>> {
        self.registered().await
    }

    fn clock_offset(&self) -> time::Duration {
        self.offset()
    }

    fn wake_signal(&self) -> Arc<tokio::sync::Notify> {
        Arc::clone(&self.inner.wake)
    }
}
