//! The `ScheduleStore` operations whose flow is the same on both SQL stores: reading jobs and
//! the audit trail, a user's change to a job, checkpoints, leadership and the audit walk.

use std::time::Duration;

use cmis_core::{AuditRecord, Checkpoint, Error, Post, PostKey, Result, Target, TenantId};
use serde_json::json;
use time::OffsetDateTime;

use super::{Dialect, Engine, args, commit_waking};
use crate::audit_chain::{self, AuditRow, AuditVerification};
use crate::backend::{check_targets, lost_lease, not_found};
use crate::job::{Change, Job, JobFilter, JobId, Lease};
use crate::stored::{db_err, duration_micros, micros};
use crate::transitions::{UserOp, plan_user_op};

const AUDIT_TRAIL: &str = "SELECT tenant, at, action, platform, account, subject, detail FROM audit \
     WHERE tenant = $1 AND (CAST($2 AS TEXT) IS NULL OR subject = $2) ORDER BY id";

const AUDIT_PAGE: &str = "SELECT id, tenant, at, action, platform, account, subject, detail \
     FROM audit WHERE tenant = $1 AND (CAST($2 AS TEXT) IS NULL OR subject = $2) AND id > $3 \
     ORDER BY id LIMIT $4";

/// Fenced on the lease alone: a job holds a lease only while it is publishing (every way out of
/// publishing clears it), and PostgreSQL keeps a leased row's stored state (see its store).
const SAVE_CHECKPOINT: &str = "UPDATE jobs SET checkpoint = $4, updated_at = $5 \
     WHERE id = $1 AND lease_owner = $2 AND fencing_token = $3 \
     RETURNING tenant, platform, account";

/// Takes the leadership `$1` for `$2` until `$3` if it is free, expired (before `$4`) or already
/// `$2`'s.
const TRY_LEAD: &str = "INSERT INTO leaders (name, owner, expires_at) VALUES ($1, $2, $3) \
     ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at \
     WHERE leaders.owner = excluded.owner OR leaders.expires_at < $4 RETURNING owner";

const RESIGN: &str = "DELETE FROM leaders WHERE name = $1 AND owner = $2";

const VERIFY_WALK: &str = "SELECT id, tenant, at, action, platform, account, subject, detail, \
     seq, hash FROM audit WHERE tenant = $1 AND id > $2 ORDER BY id LIMIT $3";

const VERIFY_HEAD: &str = "SELECT seq, hash FROM audit_heads WHERE tenant = $1";

/// Records read per page when a trail is verified.
const VERIFY_PAGE: i64 = 10_000;

/// [`ScheduleStore::schedule`](crate::ScheduleStore::schedule): one job per target, each with
/// its `job.scheduled` record, in one transaction.
pub(crate) async fn schedule<D: Dialect>(
    store: &D,
    tenant: &TenantId,
    post_id: &PostKey,
    post: &Post,
    targets: &[Target],
    at: OffsetDateTime,
) -> Result<Vec<Job>> {
    check_targets(tenant, post_id, targets)?;
    let post_json = serde_json::to_string(post)
        .map_err(|e| Error::invalid_input(format!("the post cannot be stored: {e}")))?;
    let now = micros(store.now());
    let at = micros(at);
    let detail = json!({"at": at.to_string()}).to_string();
    let mut tx = store.write_tx().await?;
    let mut jobs = Vec::with_capacity(targets.len());
    let mut audit = Vec::with_capacity(targets.len());
    for target in targets {
        let row = D::Db::fetch_optional(
            &mut tx,
            D::SQL.insert_job,
            args![
                tenant.as_str(),
                post_id.as_str(),
                target.account.platform.as_str(),
                target.account.account.as_str(),
                target.surface.as_str(),
                post_json.as_str(),
                at,
                now
            ],
        )
        .await?
        .ok_or_else(|| Error::internal("an inserted job returned no row"))?;
        let job = D::Db::job(&row)?;
        audit.push(AuditRow::for_job(
            &job,
            now,
            "job.scheduled",
            detail.clone(),
        ));
        jobs.push(job);
    }
    D::append_audit(&mut tx, audit).await?;
    commit_waking(store, tx).await?;
    Ok(jobs)
}

/// [`ScheduleStore::get`](crate::ScheduleStore::get).
pub(crate) async fn get<D: Dialect>(
    store: &D,
    tenant: &TenantId,
    id: JobId,
) -> Result<Option<Job>> {
    let mut conn = store.read().await?;
    D::Db::fetch_optional(&mut conn, D::SQL.get_job, args![id.get(), tenant.as_str()])
        .await?
        .map(|r| D::Db::job(&r))
        .transpose()
}

/// [`ScheduleStore::list`](crate::ScheduleStore::list).
pub(crate) async fn list<D: Dialect>(
    store: &D,
    tenant: &TenantId,
    filter: &JobFilter,
) -> Result<Vec<Job>> {
    let states = (!filter.states.is_empty()).then(|| {
        serde_json::Value::from(filter.states.iter().map(|s| s.as_str()).collect::<Vec<_>>())
            .to_string()
    });
    let mut conn = store.read().await?;
    let rows = D::Db::fetch_all(
        &mut conn,
        D::SQL.list_jobs,
        args![
            tenant.as_str(),
            filter.post_key.as_ref().map(PostKey::as_str),
            states.as_deref(),
            filter.page(),
            filter.cursor()
        ],
    )
    .await?;
    Ok(D::Db::jobs(&rows))
}

/// A user's change to one job (reschedule, cancel, retry now), by the state machine's rules.
pub(crate) async fn user_change<D: Dialect>(
    store: &D,
    tenant: &TenantId,
    id: JobId,
    op: UserOp,
) -> Result<Change> {
    let now = store.now();
    let mut tx = store.write_tx().await?;
    let row = D::Db::fetch_optional(
        &mut tx,
        D::SQL.lock_active,
        args![id.get(), tenant.as_str()],
    )
    .await?;
    let Some(row) = row else {
        // Finished jobs moved to history can no longer change.
        drop(tx);
        return match get(store, tenant, id).await? {
            Some(job) => Ok(Change::Refused(job)),
            None => Err(not_found(id)),
        };
    };
    let job = D::Db::job(&row)?;
    let Some(write) = plan_user_op(&job, op, now) else {
        return Ok(Change::Refused(job));
    };
    let row = D::Db::fetch_optional(
        &mut tx,
        D::SQL.user_write,
        args![
            id.get(),
            write.state.as_str(),
            write.scheduled_for,
            write.run_at,
            write.reset_attempts,
            micros(now)
        ],
    )
    .await?
    .ok_or_else(|| Error::internal(format!("job {id} vanished inside its own transaction")))?;
    let updated = D::Db::job(&row)?;
    let detail = json!({"from": job.state.as_str(), "to": write.state.as_str()}).to_string();
    D::append_audit(
        &mut tx,
        vec![AuditRow::for_job(
            &updated,
            micros(now),
            write.action,
            detail,
        )],
    )
    .await?;
    if write.run_at.is_some() {
        commit_waking(store, tx).await?;
    } else {
        tx.commit().await.map_err(db_err)?;
    }
    Ok(Change::Applied(updated))
}

/// [`ScheduleStore::audit_trail`](crate::ScheduleStore::audit_trail).
pub(crate) async fn audit_trail<D: Dialect>(
    store: &D,
    tenant: &TenantId,
    job: Option<JobId>,
) -> Result<Vec<AuditRecord>> {
    let subject = job.map(|j| j.to_string());
    let mut conn = store.read().await?;
    D::Db::fetch_all(
        &mut conn,
        AUDIT_TRAIL,
        args![tenant.as_str(), subject.as_deref()],
    )
    .await?
    .iter()
    .map(D::Db::audit)
    .collect()
}

/// [`ScheduleStore::audit_page`](crate::ScheduleStore::audit_page).
pub(crate) async fn audit_page<D: Dialect>(
    store: &D,
    tenant: &TenantId,
    job: Option<JobId>,
    after: Option<u64>,
    limit: u32,
) -> Result<crate::AuditPage> {
    let take = crate::AuditPage::clamp(limit);
    let subject = job.map(|j| j.to_string());
    let mut conn = store.read().await?;
    let rows = D::Db::fetch_all(
        &mut conn,
        AUDIT_PAGE,
        args![
            tenant.as_str(),
            subject.as_deref(),
            after.map_or(0, |a| i64::try_from(a).unwrap_or(i64::MAX)),
            i64::try_from(take + 1).unwrap_or(i64::MAX)
        ],
    )
    .await?;
    D::Db::audit_page(&rows, take)
}

/// [`ScheduleStore::save_checkpoint`](crate::ScheduleStore::save_checkpoint).
pub(crate) async fn save_checkpoint<D: Dialect>(
    store: &D,
    lease: &Lease,
    checkpoint: &Checkpoint,
) -> Result<()> {
    let cp = serde_json::to_string(checkpoint)
        .map_err(|e| Error::internal(format!("checkpoint cannot be encoded: {e}")))?;
    crate::stored::check_checkpoint_size(cp.len())?;
    let detail = json!({"stage": checkpoint.stage, "fencing_token": lease.token.to_string()});
    let now = micros(store.now());
    let mut tx = store.write_tx().await?;
    let row = D::Db::fetch_optional(
        &mut tx,
        SAVE_CHECKPOINT,
        args![
            lease.job.get(),
            lease.owner.as_str(),
            lease.token,
            cp.as_str(),
            now
        ],
    )
    .await?;
    let Some(row) = row else {
        return Err(lost_lease(lease));
    };
    let audit = AuditRow::job(
        D::Db::text(&row, "tenant")?,
        now,
        "job.checkpoint",
        D::Db::text(&row, "platform")?,
        D::Db::text(&row, "account")?,
        lease.job.get(),
        detail.to_string(),
    );
    D::append_audit(&mut tx, vec![audit]).await?;
    tx.commit().await.map_err(db_err)
}

/// [`ScheduleStore::try_lead`](crate::ScheduleStore::try_lead).
pub(crate) async fn try_lead<D: Dialect>(
    store: &D,
    name: &str,
    owner: &str,
    ttl: Duration,
) -> Result<bool> {
    let now = micros(store.now());
    let mut tx = store.write_tx().await?;
    let row = D::Db::fetch_optional(
        &mut tx,
        TRY_LEAD,
        args![name, owner, now.saturating_add(duration_micros(ttl)), now],
    )
    .await?;
    let got = row.map(|r| D::Db::text(&r, "owner")).transpose()?;
    tx.commit().await.map_err(db_err)?;
    Ok(got.as_deref() == Some(owner))
}

/// [`ScheduleStore::resign`](crate::ScheduleStore::resign).
pub(crate) async fn resign<D: Dialect>(store: &D, name: &str, owner: &str) -> Result<()> {
    let mut tx = store.write_tx().await?;
    D::Db::execute(&mut tx, RESIGN, args![name, owner]).await?;
    tx.commit().await.map_err(db_err)
}

/// [`ScheduleStore::verify_audit`](crate::ScheduleStore::verify_audit): reads `tenant`'s trail
/// page by page and its head in one read-only snapshot (records appended meanwhile are neither
/// half-seen nor ahead of the head), and checks the chain in bounded memory (review N16).
pub(crate) async fn verify_audit<D: Dialect>(
    store: &D,
    tenant: &TenantId,
) -> Result<AuditVerification> {
    let mut tx = store.snapshot().await?;
    let mut chain = audit_chain::ChainWalk::default();
    let mut after = 0_i64;
    loop {
        let rows = D::Db::fetch_all(
            &mut tx,
            VERIFY_WALK,
            args![tenant.as_str(), after, VERIFY_PAGE],
        )
        .await?;
        for r in &rows {
            after = D::Db::int(r, "id")?;
            let (row, place) = D::Db::chained_audit(r)?;
            chain.push(row, place);
        }
        if (rows.len() as i64) < VERIFY_PAGE {
            break;
        }
    }
    let head = D::Db::fetch_optional(&mut tx, VERIFY_HEAD, args![tenant.as_str()])
        .await?
        .as_ref()
        .map(D::Db::head)
        .transpose()?;
    tx.rollback().await.map_err(db_err)?;
    Ok(chain.finish(head))
}

#[cfg(test)]
pub(super) const STATEMENTS: &[(&str, &str)] = &[
    ("AUDIT_TRAIL", AUDIT_TRAIL),
    ("AUDIT_PAGE", AUDIT_PAGE),
    ("SAVE_CHECKPOINT", SAVE_CHECKPOINT),
    ("TRY_LEAD", TRY_LEAD),
    ("RESIGN", RESIGN),
    ("VERIFY_WALK", VERIFY_WALK),
    ("VERIFY_HEAD", VERIFY_HEAD),
];
