//! What every database backend shares: input checks, errors, leases as JSON, the setting aside
//! of rows that cannot be decoded, refresh-lock names and the checkpoint size limit.

use std::collections::HashSet;

use cmis_core::{Error, Platform, PostKey, Result, Surface, Target, TenantId};

use crate::job::{JobId, Lease};

/// Checks a schedule request before anything is written.
pub(crate) fn check_targets(
    tenant: &TenantId,
    post_id: &PostKey,
    targets: &[Target],
) -> Result<()> {
    if tenant.as_str().is_empty() {
        return Err(Error::invalid_input("the tenant id is empty"));
    }
    if post_id.as_str().is_empty() {
        return Err(Error::invalid_input("the post id is empty"));
    }
    if targets.is_empty() {
        return Err(Error::invalid_input(
            "a post must be scheduled to at least one target",
        ));
    }
    let mut seen = HashSet::new();
    for t in targets {
        if &t.account.tenant != tenant {
            return Err(Error::invalid_input(format!(
                "target {t} belongs to another tenant than {tenant}"
            )));
        }
        if t.account.platform == Platform::Unknown || t.surface == Surface::Unknown {
            return Err(Error::invalid_input(format!(
                "target {t} names an unknown platform or surface"
            )));
        }
        if t.account.account.as_str().is_empty() {
            return Err(Error::invalid_input("a target's account id is empty"));
        }
        if !seen.insert(t) {
            return Err(Error::invalid_input(format!("target {t} is listed twice")));
        }
    }
    Ok(())
}

/// Leases as the JSON array the batched fenced statements read.
pub(crate) fn lease_json(leases: &[Lease]) -> String {
    serde_json::Value::from(
        leases
            .iter()
            .map(|l| serde_json::json!({"id": l.job.get(), "owner": l.owner, "token": l.token}))
            .collect::<Vec<_>>(),
    )
    .to_string()
}

/// The error of a fenced write whose lease is gone.
pub(crate) fn lost_lease(lease: &Lease) -> Error {
    Error::internal(format!(
        "job {} is no longer leased to {} with fencing token {}: another worker owns it",
        lease.job, lease.owner, lease.token
    ))
}

/// The error of a tenant asking for a job it does not have (another tenant's job looks the same).
pub(crate) fn not_found(id: JobId) -> Error {
    Error::invalid_input(format!("no job {id} for this tenant"))
}

/// Checks every post of a batch and flattens it into the rows the backends insert.
pub(crate) fn batch_rows(
    tenant: &TenantId,
    posts: &[crate::job::NewPost],
) -> Result<Vec<serde_json::Value>> {
    let mut rows = Vec::new();
    let mut seen = HashSet::new();
    for p in posts {
        check_targets(tenant, &p.post_key, &p.targets)?;
        let post = serde_json::to_string(&p.post)
            .map_err(|e| Error::invalid_input(format!("the post cannot be stored: {e}")))?;
        for t in &p.targets {
            if !seen.insert((p.post_key.clone(), t.clone())) {
                return Err(Error::invalid_input(format!(
                    "post {} to {t} is listed twice",
                    p.post_key
                )));
            }
            rows.push(serde_json::json!({
                "post_id": p.post_key.as_str(),
                "platform": t.account.platform.as_str(),
                "account": t.account.account.as_str(),
                "surface": t.surface.as_str(),
                "post": post,
                "at": crate::stored::micros(p.at),
            }));
        }
    }
    Ok(rows)
}

/// How many claims may fail to decode a job before it is quarantined as `failed`. Between
/// them it is put back with a growing delay (1, 2, 4, 8 minutes), for a process that can read
/// it: a rolling deploy's newer version, say.
pub(crate) const MAX_DECODE_FAILURES: i64 = 5;

/// The stored reason of a job quarantined because no claim could decode it.
pub(crate) fn set_aside_reason(error: &Error) -> String {
    format!(
        "quarantined: {MAX_DECODE_FAILURES} claims could not decode this job ({error}); fix or \
         reschedule it, or run a cmis version that can read it"
    )
}

/// The audit row of a claimed job put back because it could not be decoded.
pub(crate) fn set_aside_audit(
    head: &crate::rows::JobHead,
    now: i64,
    error: &Error,
) -> crate::audit_chain::AuditRow {
    let quarantined = head.state == "failed";
    if quarantined {
        tracing::error!(job = head.id, error = %error, "a job no claim can decode is quarantined as failed");
    } else {
        tracing::warn!(job = head.id, error = %error, "a claimed job cannot be decoded; put back for a process that can");
    }
    let action = if quarantined {
        "job.quarantined"
    } else {
        "job.set_aside"
    };
    let mut message = error.to_string();
    crate::stored::clip(&mut message, 1_000);
    head.audit(
        now,
        action,
        serde_json::json!({ "error": message }).to_string(),
    )
}

/// The detail of a `job.released` record.
pub(crate) fn released_detail(owner: &str) -> String {
    serde_json::json!({ "owner": owner, "why": "the claim's answer was lost" }).to_string()
}

/// The name of `account`'s refresh lock in the leaders table (length-prefixed, so no two
/// accounts share one).
pub(crate) fn refresh_lock_name(account: &cmis_core::AccountRef) -> String {
    let (t, a) = (account.tenant.as_str(), account.account.as_str());
    format!(
        "refresh:{}:{t}:{}:{}:{a}",
        t.len(),
        account.platform.as_str(),
        a.len()
    )
}
