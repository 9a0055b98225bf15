//! `ScheduleStore` on PostgreSQL. Worker-side calls are each one statement (one round trip):
//! the CTE claims, fences, transitions and writes the audit records together.
//!
//! A claim changes no indexed column (see migration 5): the row keeps its stored `state`
//! (`scheduled`, `retry_scheduled`, `pending` or `unknown_outcome`) and is *publishing* while
//! it holds a lease (`lease_owner IS NOT NULL`), so PostgreSQL rewrites it in place (a HOT
//! update, no index entry) instead of writing a new version into every index. Reads show the
//! model's state through [`pg_job_columns!`]; every worker-side write is fenced on the lease.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use cmis_core::{
    AuditRecord, Checkpoint, Error, Notification, Platform, Post, PostKey, Result, Surface, Target,
    TenantId,
};
use serde_json::json;
use sqlx::postgres::PgRow;
use sqlx::{Postgres, Row, Transaction};
use time::OffsetDateTime;

use super::PgStore;
use crate::audit_chain::{AuditRow, AuditVerification};
use crate::backend::{
    MAX_DECODE_FAILURES, batch_rows, lease_json, released_detail, set_aside_audit, set_aside_reason,
};
use crate::job::{Change, ClaimedJob, Completion, Job, JobFilter, JobId, Lease, NewPost};
use crate::outbox::{Delivered, Delivery};
use crate::rows::{JobHead, claimed_from_row, completed, job_columns, rescued};
use crate::store::{Rejected, ScheduleStore};
use crate::stored::db_err;
use crate::stored::{duration_micros, micros};
use crate::transitions::{CompletionRow, UserOp, completion_row};

/// [`job_columns!`] as the model sees a row: a job holding a lease is `publishing`, and was last
/// changed when it was claimed if that is later than its stored `updated_at`.
macro_rules! pg_job_columns {
    () => {
        "id, tenant, post_id, platform, account, surface, post, \
         CASE WHEN lease_owner IS NULL THEN state ELSE 'publishing' END AS state, scheduled_for, \
         run_at, attempts, last_error_kind, last_error, checkpoint, receipt, lease_owner, \
         lease_expires_at, fencing_token, phase, started_at, created_at, \
         GREATEST(updated_at, claimed_at) AS updated_at, claimed_from"
    };
}

/// [`pg_job_columns!`], for the statements built at run time.
pub(super) const PG_JOB_COLUMNS: &str = pg_job_columns!();

pub(super) const INSERT_JOB: &str = concat!(
    "INSERT INTO jobs (tenant, post_id, platform, account, surface, post, state, scheduled_for, \
     run_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'scheduled', $7, $7, $8, $8) \
     RETURNING ",
    pg_job_columns!()
);

const INSERT_MANY: &str = "WITH v AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS v(post_id text, \
        platform text, account text, surface text, post text, at bigint)), \
     ins AS (INSERT INTO jobs (tenant, post_id, platform, account, surface, post, state, \
        scheduled_for, run_at, created_at, updated_at) \
        SELECT $2, post_id, platform, account, surface, post, 'scheduled', at, at, $3, $3 FROM v \
        RETURNING id, platform, account, scheduled_for) \
     SELECT id, platform, account, scheduled_for FROM ins ORDER BY id";

pub(super) const GET_JOB: &str = concat!(
    "SELECT ",
    pg_job_columns!(),
    " FROM jobs WHERE id = $1 AND tenant = $2 UNION ALL SELECT ",
    pg_job_columns!(),
    " FROM jobs_history WHERE id = $1 AND tenant = $2"
);

pub(super) const LOCK_ACTIVE: &str = concat!(
    "SELECT ",
    pg_job_columns!(),
    " FROM jobs WHERE id = $1 AND tenant = $2 FOR UPDATE"
);

pub(super) const LIST_JOBS: &str = concat!(
    "SELECT * FROM (SELECT ",
    pg_job_columns!(),
    " FROM jobs WHERE tenant = $1 UNION ALL SELECT ",
    pg_job_columns!(),
    " FROM jobs_history WHERE tenant = $1) AS u WHERE ($2::text IS NULL OR post_id = $2) \
     AND ($3::jsonb IS NULL OR state IN (SELECT jsonb_array_elements_text($3::jsonb))) \
     AND id > $5 ORDER BY id LIMIT $4"
);

pub(super) const USER_WRITE: &str = concat!(
    "UPDATE jobs SET state = $2, scheduled_for = $3, run_at = $4, \
     attempts = CASE WHEN $5 THEN 0 ELSE attempts END, updated_at = $6 WHERE id = $1 RETURNING ",
    pg_job_columns!()
);

/// Claims due jobs of the platforms `$6` on the surfaces `$7`; `$5` is the start time to record
/// (`NULL`: not started). Only columns outside every index change, so the update is in place;
/// `claimed_from` keeps the stored state.
const CLAIM: &str = concat!(
    "WITH due AS (SELECT id FROM jobs \
        WHERE state IN ('scheduled', 'retry_scheduled', 'pending', 'unknown_outcome') \
        AND run_at <= $3 AND lease_owner IS NULL AND array_position($6::text[], platform) IS NOT NULL \
        AND array_position($7::text[], surface) IS NOT NULL ORDER BY run_at, id LIMIT $4 \
        FOR UPDATE SKIP LOCKED) \
     UPDATE jobs AS j SET lease_owner = $1, lease_expires_at = $2, \
        fencing_token = j.fencing_token + 1, \
        phase = CASE WHEN j.state = 'unknown_outcome' THEN 'reconcile' \
                     WHEN j.checkpoint IS NOT NULL THEN 'resume' ELSE 'publish' END, \
        attempts = j.attempts + CASE WHEN j.state IN ('scheduled', 'retry_scheduled') THEN 1 ELSE 0 END, \
        claimed_from = j.state, started_at = $5, claimed_at = $3 \
        WHERE j.id = ANY(ARRAY(SELECT id FROM due)) RETURNING ",
    pg_job_columns!()
);

/// Puts back a claimed job this process cannot decode (`$4`: the failures after which it is
/// quarantined as `failed` with the reason `$6`; `$5`: now). It is due again after a backoff,
/// for a process that can read it; its attempt is given back.
const SET_ASIDE: &str = "UPDATE jobs AS j SET lease_owner = NULL, lease_expires_at = NULL, \
        phase = NULL, started_at = NULL, claimed_at = NULL, decode_failures = j.decode_failures + 1, \
        attempts = j.attempts - CASE WHEN j.claimed_from IN ('scheduled', 'retry_scheduled') THEN 1 ELSE 0 END, \
        state = CASE WHEN j.decode_failures + 1 >= $4 THEN 'failed' ELSE j.state END, \
        run_at = CASE WHEN j.decode_failures + 1 >= $4 THEN NULL \
            ELSE $5 + LEAST(60000000::bigint << LEAST(j.decode_failures, 10)::int, 3600000000) END, \
        last_error_kind = CASE WHEN j.decode_failures + 1 >= $4 THEN 'internal' ELSE j.last_error_kind END, \
        last_error = CASE WHEN j.decode_failures + 1 >= $4 THEN $6 ELSE j.last_error END, \
        updated_at = $5 \
     WHERE j.id = $1 AND j.lease_owner = $2 AND j.fencing_token = $3 \
     RETURNING j.id, j.tenant, j.platform, j.account, j.state";

/// Returns the jobs leased to `$1` whose leases are not among `$2` (ids) to the state they were
/// claimed from, as if never claimed: their claim's answer never reached the process, so no
/// call was made for them.
const RELEASE_UNHELD: &str = "UPDATE jobs AS j SET lease_owner = NULL, lease_expires_at = NULL, \
        phase = NULL, started_at = NULL, claimed_at = NULL, \
        attempts = j.attempts - CASE WHEN j.claimed_from IN ('scheduled', 'retry_scheduled') THEN 1 ELSE 0 END, \
        updated_at = $3 \
     WHERE j.state IN ('scheduled', 'retry_scheduled', 'pending', 'unknown_outcome') \
        AND j.lease_owner = $1 AND NOT (j.id = ANY($2::bigint[])) \
     RETURNING j.id, j.tenant, j.platform, j.account, j.state";

const MARK_STARTED: &str = concat!(
    "UPDATE jobs AS j SET started_at = $2 FROM ",
    "jsonb_to_recordset($1::jsonb) AS v(id bigint, owner text, token bigint)",
    " WHERE j.id = v.id AND j.lease_owner = v.owner AND j.fencing_token = v.token \
     RETURNING j.id, j.lease_owner, j.fencing_token"
);

const HEARTBEAT: &str = concat!(
    "UPDATE jobs AS j SET lease_expires_at = $2 FROM ",
    "jsonb_to_recordset($1::jsonb) AS v(id bigint, owner text, token bigint)",
    " WHERE j.id = v.id AND j.lease_owner = v.owner AND j.fencing_token = v.token \
     RETURNING j.id, j.lease_owner, j.fencing_token"
);

/// Applies a batch of fenced completions, bound as one array per column (no JSON to parse).
/// A wait for re-authorisation becomes a retry at once when the account's credential was
/// written since the call started (the user re-authorised meanwhile: review N12).
const COMPLETE: &str = "UPDATE jobs AS j SET \
        state = CASE WHEN v.state = 'awaiting_reauth' AND EXISTS (SELECT 1 FROM credentials c \
            WHERE c.tenant = j.tenant AND c.platform = j.platform AND c.account = j.account \
            AND c.updated_at >= j.started_at) THEN 'retry_scheduled' ELSE v.state END, \
        run_at = CASE WHEN v.state = 'awaiting_reauth' AND EXISTS (SELECT 1 FROM credentials c \
            WHERE c.tenant = j.tenant AND c.platform = j.platform AND c.account = j.account \
            AND c.updated_at >= j.started_at) THEN $11 ELSE v.run_at END, \
        last_error_kind = COALESCE(v.err_kind, j.last_error_kind), \
        last_error = COALESCE(v.err, j.last_error), \
        checkpoint = CASE WHEN v.discard THEN NULL ELSE COALESCE(v.cp, j.checkpoint) END, \
        receipt = COALESCE(v.receipt, j.receipt), \
        attempts = j.attempts - CASE WHEN v.refund \
            AND j.claimed_from IN ('scheduled', 'retry_scheduled') THEN 1 ELSE 0 END, \
        lease_owner = NULL, lease_expires_at = NULL, phase = NULL, started_at = NULL, \
        claimed_at = NULL, updated_at = $11 \
     FROM UNNEST($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::bigint[], $6::text[], \
        $7::text[], $8::text[], $9::text[], $10::bool[], $12::bool[]) \
        AS v(id, owner, token, state, run_at, err_kind, err, cp, receipt, refund, discard) \
     WHERE j.id = v.id AND j.lease_owner = v.owner AND j.fencing_token = v.token \
     RETURNING j.id, j.fencing_token, j.tenant, j.platform, j.account";

/// Rescues expired leases: those of this version (found through `jobs_due`) and rows an older
/// binary leased after migration 5, whose stored state is `publishing` (review K2).
const RESCUE: &str = concat!(
    "WITH x AS (SELECT id FROM jobs \
        WHERE state IN ('scheduled', 'retry_scheduled', 'pending', 'unknown_outcome') \
        AND run_at <= $1 AND lease_owner IS NOT NULL AND lease_expires_at < $1 \
        ORDER BY run_at, id LIMIT $2 FOR UPDATE SKIP LOCKED), \
     legacy AS (SELECT id FROM jobs WHERE state = 'publishing' AND lease_expires_at < $1 \
        ORDER BY lease_expires_at LIMIT $2 FOR UPDATE SKIP LOCKED), \
     r AS (UPDATE jobs AS j SET \
        state = CASE WHEN j.started_at IS NOT NULL THEN 'unknown_outcome' \
            WHEN j.state = 'publishing' THEN COALESCE(j.claimed_from, 'scheduled') \
            ELSE j.state END, \
        run_at = CASE WHEN j.started_at IS NOT NULL THEN $1 ELSE j.run_at END, \
        attempts = j.attempts - CASE WHEN j.started_at IS NULL \
            AND j.claimed_from IN ('scheduled', 'retry_scheduled') THEN 1 ELSE 0 END, \
        last_error_kind = CASE WHEN j.started_at IS NOT NULL THEN 'unknown_outcome' ELSE j.last_error_kind END, \
        last_error = CASE WHEN j.started_at IS NOT NULL \
           THEN 'the worker''s lease expired while its platform call was in flight' ELSE j.last_error END, \
        lease_owner = NULL, lease_expires_at = NULL, phase = NULL, started_at = NULL, \
        claimed_at = NULL, updated_at = $1 \
        WHERE j.id = ANY(ARRAY(SELECT id FROM x UNION ALL SELECT id FROM legacy)) \
        RETURNING j.*) \
     SELECT ",
    pg_job_columns!(),
    " FROM r ORDER BY id"
);

const NEXT_DUE: &str = "SELECT MIN(run_at) FROM jobs \
     WHERE state IN ('scheduled', 'retry_scheduled', 'pending', 'unknown_outcome') \
     AND lease_owner IS NULL AND array_position($1::text[], platform) IS NOT NULL \
     AND array_position($2::text[], surface) IS NOT NULL";

const CLEANUP: &str = concat!(
    "WITH moved AS (DELETE FROM jobs WHERE id IN (SELECT id FROM jobs \
        WHERE state IN ('published', 'failed', 'missed', 'cancelled') AND updated_at < $1 \
        ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING *), \
     counted AS (INSERT INTO jobs_history_counts (tenant, platform, state, n) \
        SELECT tenant, platform, state, COUNT(*) FROM moved GROUP BY tenant, platform, state \
        ON CONFLICT (tenant, platform, state) DO UPDATE SET n = jobs_history_counts.n + excluded.n) \
     INSERT INTO jobs_history (",
    job_columns!(),
    ") SELECT ",
    job_columns!(),
    " FROM moved"
);

fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn leases_from_rows(rows: &[PgRow]) -> Result<Vec<Lease>> {
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

impl PgStore {
    /// Claims due jobs of `platforms` for `owner`; `started` records their calls as started and
    /// writes no `job.claimed` records (one statement), otherwise the records go in the same
    /// transaction. A claimed row this process cannot decode is put back (see [`SET_ASIDE`]),
    /// never handed out and never left leased.
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
        let query = sqlx::query(CLAIM)
            .bind(owner)
            .bind(now.saturating_add(duration_micros(lease)))
            .bind(now)
            .bind(limit(limit_))
            .bind(started.then_some(now))
            .bind(platforms.iter().map(|p| p.as_str()).collect::<Vec<_>>())
            .bind(Surface::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>());
        // A started claim is one statement, committed alone (the hot path: one round trip).
        let mut tx = None;
        let rows = if started {
            query.fetch_all(self.pool()).await
        } else {
            let t = tx.insert(self.pool().begin().await.map_err(db_err)?);
            query.fetch_all(&mut **t).await
        }
        .map_err(db_err)?;
        let mut claimed = Vec::with_capacity(rows.len());
        let mut undecodable = Vec::new();
        for row in &rows {
            match claimed_from_row(row) {
                Ok(c) => claimed.push(c),
                Err(e) => undecodable.push((
                    JobHead::from_row(row)?,
                    row.try_get::<String, _>("lease_owner").map_err(db_err)?,
                    row.try_get::<i64, _>("fencing_token").map_err(db_err)?,
                    e,
                )),
            }
        }
        claimed.sort_by_key(|c| (c.job.run_at, c.job.id));
        if let Some(mut tx) = tx {
            super::audit::append(&mut tx, AuditRow::claimed(&claimed, now)).await?;
            tx.commit().await.map_err(db_err)?;
        }
        if !undecodable.is_empty() {
            self.set_aside(undecodable, now).await?;
        }
        Ok(claimed)
    }

    /// Puts back claimed rows that cannot be decoded, each with its audit record.
    async fn set_aside(&self, rows: Vec<(JobHead, String, i64, Error)>, now: i64) -> Result<()> {
        let mut tx = self.pool().begin().await.map_err(db_err)?;
        let mut audit = Vec::with_capacity(rows.len());
        for (head, owner, token, error) in rows {
            let reason = set_aside_reason(&error);
            let row = sqlx::query(SET_ASIDE)
                .bind(head.id)
                .bind(owner.as_str())
                .bind(token)
                .bind(MAX_DECODE_FAILURES)
                .bind(now)
                .bind(reason.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
            if let Some(row) = row {
                let head = JobHead::from_row(&row)?;
                audit.push(set_aside_audit(&head, now, &error));
            }
        }
        super::audit::append(&mut tx, audit).await?;
        tx.commit().await.map_err(db_err)
    }

    /// Wakes workers in every process (delivered when `tx` commits) and in this one.
    pub(super) async fn notify(&self, tx: &mut Transaction<'static, Postgres>) -> Result<()> {
        sqlx::query("SELECT pg_notify($1, '')")
            .bind(self.channel())
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
        Ok(())
    }
}

#[async_trait]
impl ScheduleStore for PgStore {
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
        let mut tx = self.pool().begin().await.map_err(db_err)?;
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
            let audit = inserted
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
            super::audit::append(&mut tx, audit).await?;
        }
        self.notify(&mut tx).await?;
        tx.commit().await.map_err(db_err)?;
        self.wake_local();
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
        let mut tx = self.pool().begin().await.map_err(db_err)?;
        let rows = sqlx::query(RELEASE_UNHELD)
            .bind(owner)
            .bind(keep)
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
            self.wake_local();
        }
        Ok(rows.len() as u64)
    }

    async fn mark_started(&self, leases: &[Lease]) -> Result<Vec<Lease>> {
        if leases.is_empty() {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(MARK_STARTED)
            .bind(lease_json(leases))
            .bind(micros(self.now()))
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        leases_from_rows(&rows)
    }

    async fn heartbeat(&self, leases: &[Lease], lease: Duration) -> Result<Vec<Lease>> {
        if leases.is_empty() {
            return Ok(Vec::new());
        }
        let until = micros(self.now()).saturating_add(duration_micros(lease));
        let rows = sqlx::query(HEARTBEAT)
            .bind(lease_json(leases))
            .bind(until)
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
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
        let column = |f: &dyn Fn(&CompletionRow) -> Option<String>| -> Vec<Option<String>> {
            rows.iter().map(f).collect()
        };
        // Encoded before the transaction, which holds the jobs' row locks until COMMIT.
        let encoded = crate::rows::encode_notifications(completions)?;
        let mut tx = self.pool().begin().await.map_err(db_err)?;
        let done = sqlx::query(COMPLETE)
            .bind(rows.iter().map(|r| r.id).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.owner.as_str()).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.token).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.state).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.run_at).collect::<Vec<_>>())
            .bind(column(&|r| r.err_kind.map(str::to_owned)))
            .bind(column(&|r| r.err.clone()))
            .bind(column(&|r| r.checkpoint.clone()))
            .bind(column(&|r| r.receipt.clone()))
            .bind(rows.iter().map(|r| r.refund).collect::<Vec<_>>())
            .bind(now)
            .bind(rows.iter().map(|r| r.discard).collect::<Vec<_>>())
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
        let done = completed(&done, &rows, completions, encoded, now)?;
        // The outbox rows go in before the audit rows: appending to the audit chain locks the
        // tenants' heads until COMMIT, and every completion of a tenant waits for that lock, so
        // nothing else belongs between the two.
        super::outbox::insert_completed(&mut tx, &done.outbox, now).await?;
        super::audit::append(&mut tx, done.audit).await?;
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
        let mut tx = self.pool().begin().await.map_err(db_err)?;
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
        let mut tx = self.pool().begin().await.map_err(db_err)?;
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
            self.wake_local();
        }
        Ok(jobs)
    }

    async fn next_due_on(&self, platforms: &[Platform]) -> Result<Option<OffsetDateTime>> {
        let next: Option<i64> = sqlx::query_scalar(NEXT_DUE)
            .bind(platforms.iter().map(|p| p.as_str()).collect::<Vec<_>>())
            .bind(Surface::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>())
            .fetch_one(self.pool())
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
        // Delivered notifications older than the cutoff go too.
        sqlx::query(
            "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE delivered_at < $1 \
             ORDER BY delivered_at LIMIT $2)",
        )
        .bind(micros(before))
        .bind(limit(limit_))
        .execute(self.pool())
        .await
        .map_err(db_err)?;
        Ok(sqlx::query(CLEANUP)
            .bind(micros(before))
            .bind(limit(limit_))
            .execute(self.pool())
            .await
            .map_err(db_err)?
            .rows_affected())
    }

    async fn verify_audit(&self, tenant: &TenantId) -> Result<AuditVerification> {
        crate::sql::jobs::verify_audit(self, tenant).await
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
