//! Decoding stored rows into the model, for every backend, and mapping database errors.

use std::collections::BTreeMap;

use cmis_core::{
    AccountRef, AuditRecord, Error, Platform, Post, PostKey, Result, Surface, Target, TenantId,
};
use sqlx::{ColumnIndex, Decode, Row, Type};

use crate::audit_chain::AuditRow;
use crate::job::{ClaimedJob, Job, JobError, JobId, JobState, Phase};
use crate::stored::from_micros;

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
    let id: i64 = get(row, "id")?;
    decode_job(row, id).map_err(|e| {
        Error::internal(format!(
            "job {id} cannot be decoded by cmis-scheduler {}: {e}",
            env!("CARGO_PKG_VERSION")
        ))
    })
}

fn decode_job<'r, R>(row: &'r R, id: i64) -> Result<Job>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
{
    let tenant = TenantId::new(get::<_, String>(row, "tenant")?);
    // Lenient, as the model's serde is: a platform or surface written by a newer cmis reads as
    // `Unknown` (such a job is never claimed by this version: claims name the platforms).
    let platform = get::<_, String>(row, "platform")?
        .parse()
        .unwrap_or(Platform::Unknown);
    let surface = get::<_, String>(row, "surface")?
        .parse()
        .unwrap_or(Surface::Unknown);
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
        id: JobId::new(id),
        tenant,
        post_key: PostKey::new(get::<_, String>(row, "post_id")?),
        target: Target::new(account, surface),
        post,
        state: get::<_, String>(row, "state")?.parse()?,
        scheduled_for: from_micros(get(row, "scheduled_for")?)?,
        run_at: opt_time("run_at")?,
        attempts: u32::try_from(get::<_, i64>(row, "attempts")?).unwrap_or(0),
        last_error: err_kind.map(|kind| JobError {
            kind: crate::job::parse_kind(&kind),
            message: err_msg.unwrap_or_default(),
            discard_checkpoint: false,
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

/// The columns of a job row that every version can read, whatever the rest holds: enough to
/// write its audit record and to settle it when the row cannot be decoded whole.
#[derive(Debug, Clone)]
pub(crate) struct JobHead {
    pub(crate) id: i64,
    pub(crate) tenant: String,
    pub(crate) platform: String,
    pub(crate) account: String,
    pub(crate) state: String,
}

impl JobHead {
    /// Reads the head of a row listing [`job_columns!`].
    pub(crate) fn from_row<'r, R>(row: &'r R) -> Result<Self>
    where
        R: Row,
        &'static str: ColumnIndex<R>,
        String: Decode<'r, R::Database> + Type<R::Database>,
        i64: Decode<'r, R::Database> + Type<R::Database>,
    {
        Ok(Self {
            id: get(row, "id")?,
            tenant: get(row, "tenant")?,
            platform: get(row, "platform")?,
            account: get(row, "account")?,
            state: get(row, "state")?,
        })
    }

    /// The audit row of `action` on this job.
    pub(crate) fn audit(&self, at: i64, action: &str, detail: String) -> AuditRow {
        AuditRow::job(
            self.tenant.as_str(),
            at,
            action,
            self.platform.as_str(),
            self.account.as_str(),
            self.id,
            detail,
        )
    }
}

/// The jobs of `rows` this process can decode; a row it cannot is skipped with a warning, so
/// one bad row never hides the others from a tenant.
pub(crate) fn jobs_from_rows<'r, R>(rows: &'r [R]) -> Vec<Job>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
{
    rows.iter()
        .filter_map(|r| {
            job_from_row(r)
                .inspect_err(
                    |e| tracing::warn!(error = %e, "skipping a job this process cannot decode"),
                )
                .ok()
        })
        .collect()
}

/// The rescued jobs of `rows` this process can decode, and every rescued row's audit record:
/// a row it cannot decode is rescued all the same (the statement did it) and left for a
/// process that can.
pub(crate) fn rescued<'r, R>(rows: &'r [R], now: i64) -> Result<(Vec<Job>, Vec<AuditRow>)>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
{
    let mut jobs = Vec::with_capacity(rows.len());
    let mut audit = Vec::with_capacity(rows.len());
    for row in rows {
        let head = JobHead::from_row(row)?;
        let detail = serde_json::json!({ "to": head.state }).to_string();
        audit.push(head.audit(now, "job.rescued", detail));
        match job_from_row(row) {
            Ok(job) => jobs.push(job),
            Err(e) => {
                tracing::warn!(job = head.id, error = %e, "rescued a job this process cannot decode")
            }
        }
    }
    Ok((jobs, audit))
}

/// What a completion batch wrote, from the rows its statement returned (`id, fencing_token,
/// tenant, platform, account` of each job changed): the audit record and the notification of
/// each applied completion, and the leases rejected. Both are decided per lease, not per job: of two
/// leases of one job in one batch (a rescued lease and its successor), only the one that
/// still held the job applied.
pub(crate) fn completed<'r, R>(
    done: &'r [R],
    rows: &[crate::transitions::CompletionRow],
    completions: &[(
        crate::Lease,
        crate::Completion,
        Option<cmis_core::Notification>,
    )],
    encoded: Vec<Option<crate::outbox::OutboxRow>>,
    now: i64,
) -> Result<Completed>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
{
    let mut applied = std::collections::HashMap::with_capacity(done.len());
    for r in done {
        let head: (String, String, String) =
            (get(r, "tenant")?, get(r, "platform")?, get(r, "account")?);
        applied.insert(
            (get::<_, i64>(r, "id")?, get::<_, i64>(r, "fencing_token")?),
            head,
        );
    }
    let audit = rows
        .iter()
        .filter_map(|r| {
            let (tenant, platform, account) = applied.get(&(r.id, r.token))?;
            Some(AuditRow::job(
                tenant.as_str(),
                now,
                r.action.as_str(),
                platform.as_str(),
                account.as_str(),
                r.id,
                r.detail.clone(),
            ))
        })
        .collect();
    let mut rejected = Vec::new();
    let mut outbox = Vec::new();
    for ((l, _, _), row) in completions.iter().zip(encoded) {
        if applied.contains_key(&(l.job.get(), l.token)) {
            outbox.extend(row);
        } else {
            rejected.push(crate::Rejected { lease: l.clone() });
        }
    }
    Ok(Completed {
        audit,
        outbox,
        rejected,
    })
}

/// The outbox row of each completion's notification, encoded before the completion's
/// transaction begins (encoding inside it would hold its locks longer); [`completed`] keeps
/// those of the applied completions.
pub(crate) fn encode_notifications(
    completions: &[(
        crate::Lease,
        crate::Completion,
        Option<cmis_core::Notification>,
    )],
) -> Result<Vec<Option<crate::outbox::OutboxRow>>> {
    completions
        .iter()
        .map(|(_, _, n)| n.as_ref().map(crate::outbox::OutboxRow::new).transpose())
        .collect()
}

/// What a completion batch wrote: see [`completed`].
pub(crate) struct Completed {
    pub(crate) audit: Vec<AuditRow>,
    pub(crate) outbox: Vec<crate::outbox::OutboxRow>,
    pub(crate) rejected: Vec<crate::Rejected>,
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
        record.account = Some(AccountRef::new(
            tenant,
            p.parse().unwrap_or(Platform::Unknown),
            a,
        ));
    }
    record.subject = get(row, "subject")?;
    let detail: Option<BTreeMap<String, String>> = json(get(row, "detail")?, "audit detail")?;
    record.detail = detail.unwrap_or_default();
    Ok(record)
}

/// A page of audit rows (`id` first, then as [`audit_from_row`]) read with one row more than
/// `take`: that row only tells that another page follows.
pub(crate) fn audit_page<'r, R>(rows: &'r [R], take: usize) -> Result<crate::AuditPage>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
{
    let page = &rows[..rows.len().min(take)];
    let records = page
        .iter()
        .map(audit_from_row)
        .collect::<Result<Vec<_>>>()?;
    let next = match (rows.len() > take, page.last()) {
        (true, Some(last)) => Some(u64::try_from(get::<_, i64>(last, "id")?).unwrap_or(0)),
        _ => None,
    };
    Ok(crate::AuditPage { records, next })
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

/// The platform stored as `name`, when this version knows it.
pub(crate) fn known_platform(name: &str) -> Option<Platform> {
    let platform = name.parse().ok();
    if platform.is_none() {
        tracing::debug!(
            platform = name,
            "skipping a row of a platform this version does not know"
        );
    }
    platform
}
