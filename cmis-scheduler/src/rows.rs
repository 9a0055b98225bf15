//! Decoding stored rows into the model, for every backend, and mapping database errors.

use std::collections::BTreeMap;

use cmis_core::{
    AccountRef, AuditRecord, Error, Platform, Post, PostId, Result, Surface, Target, TenantId,
};
use sqlx::{ColumnIndex, Decode, Row, Type};

use crate::job::{ClaimedJob, Job, JobError, JobId, JobState, Phase};
use crate::plan::from_micros;

/// The job columns every `SELECT`/`RETURNING` lists, in this order.
macro_rules! job_columns {
    () => {
        "id, tenant, post_id, platform, account, surface, post, state, scheduled_for, run_at, \
         attempts, last_error_kind, last_error, checkpoint, receipt, lease_owner, lease_expires_at, \
         fencing_token, phase, started_at, created_at, updated_at, claimed_from"
    };
}
pub(crate) use job_columns;

fn get<'r, R, T>(row: &'r R, col: &'static str) -> Result<T>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    T: Decode<'r, R::Database> + Type<R::Database>,
{
    row.try_get(col)
        .map_err(|e| Error::internal(format!("cannot read column {col}: {e}")))
}

fn json<T: serde::de::DeserializeOwned>(text: Option<String>, what: &str) -> Result<Option<T>> {
    text.map(|t| {
        serde_json::from_str(&t)
            .map_err(|e| Error::internal(format!("stored {what} cannot be decoded: {e}")))
    })
    .transpose()
}

/// Decodes a row listing [`job_columns!`].
pub(crate) fn job_from_row<'r, R>(row: &'r R) -> Result<Job>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
{
    let tenant = TenantId::new(get::<_, String>(row, "tenant")?);
    let platform: Platform = get::<_, String>(row, "platform")?.parse()?;
    let surface: Surface = get::<_, String>(row, "surface")?.parse()?;
    let account = AccountRef::new(tenant.clone(), platform, get::<_, String>(row, "account")?);
    let post: Post = json(Some(get::<_, String>(row, "post")?), "post")?
        .ok_or_else(|| Error::internal("stored post is missing"))?;
    let err_kind: Option<String> = get(row, "last_error_kind")?;
    let err_msg: Option<String> = get(row, "last_error")?;
    let opt_time = |col| -> Result<_> {
        get::<_, Option<i64>>(row, col)?
            .map(from_micros)
            .transpose()
    };
    Ok(Job {
        id: JobId::new(get(row, "id")?),
        tenant,
        post_id: PostId::new(get::<_, String>(row, "post_id")?),
        target: Target::new(account, surface),
        post,
        state: get::<_, String>(row, "state")?.parse()?,
        scheduled_for: from_micros(get(row, "scheduled_for")?)?,
        run_at: opt_time("run_at")?,
        attempts: u32::try_from(get::<_, i64>(row, "attempts")?).unwrap_or(0),
        last_error: err_kind.map(|kind| JobError {
            kind,
            message: err_msg.unwrap_or_default(),
        }),
        checkpoint: json(get(row, "checkpoint")?, "checkpoint")?,
        receipt: json(get(row, "receipt")?, "receipt")?,
        lease_owner: get(row, "lease_owner")?,
        lease_expires_at: opt_time("lease_expires_at")?,
        fencing_token: get(row, "fencing_token")?,
        phase: get::<_, Option<String>>(row, "phase")?
            .map(|p| Phase::parse(&p))
            .transpose()?,
        started_at: opt_time("started_at")?,
        created_at: from_micros(get(row, "created_at")?)?,
        updated_at: from_micros(get(row, "updated_at")?)?,
    })
}

/// Decodes a claimed row (a job row whose `claimed_from` and `phase` are set).
pub(crate) fn claimed_from_row<'r, R>(row: &'r R) -> Result<ClaimedJob>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
{
    let job = job_from_row(row)?;
    let claimed_from: JobState = get::<_, String>(row, "claimed_from")?.parse()?;
    let lease = job
        .lease()
        .ok_or_else(|| Error::internal("a claimed job has no lease"))?;
    let phase = job
        .phase
        .ok_or_else(|| Error::internal("a claimed job has no phase"))?;
    Ok(ClaimedJob {
        job,
        lease,
        phase,
        claimed_from,
    })
}

/// Decodes an audit row (`tenant, at, action, platform, account, subject, detail`).
pub(crate) fn audit_from_row<'r, R>(row: &'r R) -> Result<AuditRecord>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
{
    let tenant = TenantId::new(get::<_, String>(row, "tenant")?);
    let mut record = AuditRecord::new(tenant.clone(), get::<_, String>(row, "action")?)
        .at(from_micros(get(row, "at")?)?);
    let platform: Option<String> = get(row, "platform")?;
    let account: Option<String> = get(row, "account")?;
    if let (Some(p), Some(a)) = (platform, account) {
        record.account = Some(AccountRef::new(tenant, p.parse()?, a));
    }
    record.subject = get(row, "subject")?;
    let detail: Option<BTreeMap<String, String>> = json(get(row, "detail")?, "audit detail")?;
    record.detail = detail.unwrap_or_default();
    Ok(record)
}

/// Decodes a stored audit row with its place in the chain (`tenant, at, action, platform,
/// account, subject, detail, seq, hash`), for `verify_audit`.
pub(crate) fn chained_audit_from_row<'r, R>(row: &'r R) -> Result<crate::audit_chain::Stored>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
{
    let audit = crate::audit_chain::AuditRow {
        tenant: get(row, "tenant")?,
        at: get(row, "at")?,
        action: get(row, "action")?,
        platform: get(row, "platform")?,
        account: get(row, "account")?,
        subject: get(row, "subject")?,
        detail: get(row, "detail")?,
    };
    let seq: Option<i64> = get(row, "seq")?;
    let hash: Option<Vec<u8>> = get(row, "hash")?;
    Ok((
        audit,
        seq.zip(hash)
            .map(|(s, h)| (s, crate::audit_chain::hash_from(&h))),
    ))
}

/// Decodes a tenant's chain head (`seq, hash`).
pub(crate) fn head_from_row<'r, R>(row: &'r R) -> Result<(i64, crate::audit_chain::Hash)>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
{
    let hash: Vec<u8> = get(row, "hash")?;
    Ok((get(row, "seq")?, crate::audit_chain::hash_from(&hash)))
}

/// Maps a database error: a unique violation is the caller's (an active job already exists),
/// anything else is internal. The database's error stays an opaque source.
pub(crate) fn db_err(e: sqlx::Error) -> Error {
    if e.as_database_error()
        .is_some_and(|d| d.is_unique_violation())
    {
        return Error::invalid_input(
            "an active job already exists for this post and target (one per post and target)",
        );
    }
    Error::internal(format!("schedule store: {e}")).with_source(e)
}
