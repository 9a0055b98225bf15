//! `CredentialStore` and `AuditSink`, once for both SQL stores.
//!
//! Every write is one conditional statement that returns the version it wrote: an upsert that
//! moves the version on from whatever is stored, or a compare-and-set that writes only over the
//! expected version (or over nothing). No version is read first and written later, so the rule
//! holds on any isolation level and any number of processes.

use cmis_core::{AccountRef, AuditRecord, CasOutcome, Credential, Error, Result, TenantId};
use time::OffsetDateTime;

use super::{Dialect, Engine, args, commit_waking};
use crate::audit_chain::AuditRow;
use crate::credential_codec::{open, seal};
use crate::stored::micros;

const GET: &str = "SELECT version, access_expires_at, sealed FROM credentials \
     WHERE tenant = $1 AND platform = $2 AND account = $3";

/// Unconditional write: the version moves on from whatever is stored.
const PUT: &str = "INSERT INTO credentials \
     (tenant, platform, account, version, access_expires_at, sealed, updated_at) \
     VALUES ($1, $2, $3, 1, $4, $5, $6) \
     ON CONFLICT (tenant, platform, account) DO UPDATE SET version = credentials.version + 1, \
     access_expires_at = excluded.access_expires_at, sealed = excluded.sealed, \
     updated_at = excluded.updated_at RETURNING version";

/// Compare-and-set from "nothing stored".
const CAS_INSERT: &str = "INSERT INTO credentials \
     (tenant, platform, account, version, access_expires_at, sealed, updated_at) \
     VALUES ($1, $2, $3, 1, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING version";

/// Compare-and-set on the stored version `$7`.
const CAS_UPDATE: &str = "UPDATE credentials SET version = version + 1, access_expires_at = $4, \
     sealed = $5, updated_at = $6 WHERE tenant = $1 AND platform = $2 AND account = $3 \
     AND version = $7 RETURNING version";

/// Releases the account's jobs waiting for re-authorisation, and its unknown outcomes parked
/// because the check itself was refused a token (review N14): those are checked again, never
/// published blindly.
const RELEASE_REAUTH: &str = "UPDATE jobs SET \
     state = CASE WHEN state = 'awaiting_reauth' THEN 'retry_scheduled' ELSE state END, \
     run_at = $4, updated_at = $4 WHERE tenant = $1 AND platform = $2 AND account = $3 \
     AND (state = 'awaiting_reauth' OR (state = 'unknown_outcome' AND run_at IS NULL \
        AND last_error_kind IN ('auth', 'permission'))) RETURNING id";

const DELETE: &str = "DELETE FROM credentials WHERE tenant = $1 AND platform = $2 AND account = $3";

const ACCOUNTS: &str =
    "SELECT platform, account FROM credentials WHERE tenant = $1 ORDER BY platform, account";

const EXPIRING: &str = "SELECT tenant, platform, account FROM credentials \
     WHERE access_expires_at <= $1 ORDER BY tenant, platform, account";

/// The three statements that write a credential.
#[derive(Debug, Clone, Copy)]
enum Write {
    Put,
    /// Only where nothing is stored.
    Create,
    /// Only over this stored version.
    Over(i64),
}

async fn read<D: Dialect>(
    store: &D,
    conn: &mut <D::Db as sqlx::Database>::Connection,
    account: &AccountRef,
) -> Result<Option<Credential>> {
    let row = D::Db::fetch_optional(
        conn,
        GET,
        args![
            account.tenant.as_str(),
            account.platform.as_str(),
            account.account.as_str()
        ],
    )
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(open(
        store.key()?,
        account.clone(),
        D::Db::int(&row, "version")?,
        D::Db::opt_int(&row, "access_expires_at")?,
        &D::Db::bytes(&row, "sealed")?,
    )?))
}

/// Writes `credential` with `how` and releases the account's parked jobs, all in one
/// transaction; `None` when a compare-and-set found another version.
async fn write<D: Dialect>(
    store: &D,
    how: Write,
    mut credential: Credential,
    action: &str,
) -> Result<Option<Credential>> {
    let sealed = seal(store.key()?, &credential)?;
    let now = store.now();
    let at = micros(now);
    let a = credential.account.clone();
    let (tenant, platform, account) = (a.tenant.as_str(), a.platform.as_str(), a.account.as_str());
    let expires = credential.access_expires_at.map(micros);
    let (sql, args) = match how {
        Write::Put => (PUT, args![tenant, platform, account, expires, sealed, at]),
        Write::Create => (
            CAS_INSERT,
            args![tenant, platform, account, expires, sealed, at],
        ),
        Write::Over(v) => (
            CAS_UPDATE,
            args![tenant, platform, account, expires, sealed, at, v],
        ),
    };
    let mut tx = store.write_tx().await?;
    let Some(row) = D::Db::fetch_optional(&mut tx, sql, args).await? else {
        tx.rollback().await.map_err(crate::stored::db_err)?;
        return Ok(None);
    };
    let version = D::Db::int(&row, "version")?;
    let released = D::Db::fetch_all(
        &mut tx,
        RELEASE_REAUTH,
        args![tenant, platform, account, at],
    )
    .await?;
    let mut audit = vec![AuditRow::from_record(
        &AuditRecord::for_account(&a, action)
            .at(now)
            .with_detail("version", version.to_string()),
    )?];
    for row in &released {
        let id = D::Db::int(row, "id")?;
        audit.push(AuditRow::job(
            tenant,
            at,
            "job.reauthorised",
            platform,
            account,
            id,
            "{}".to_owned(),
        ));
    }
    D::append_audit(&mut tx, audit).await?;
    commit_waking(store, tx).await?;
    credential.version = u64::try_from(version).unwrap_or(0);
    Ok(Some(credential))
}

/// [`CredentialStore::credential`](cmis_core::CredentialStore::credential).
pub(crate) async fn get<D: Dialect>(store: &D, account: &AccountRef) -> Result<Option<Credential>> {
    let mut conn = store.read().await?;
    read(store, &mut conn, account).await
}

/// [`CredentialStore::put_credential`](cmis_core::CredentialStore::put_credential).
pub(crate) async fn put<D: Dialect>(store: &D, credential: Credential) -> Result<Credential> {
    write(store, Write::Put, credential, "credential.stored")
        .await?
        .ok_or_else(|| Error::internal("an unconditional credential write lost"))
}

/// [`CredentialStore::compare_and_swap`](cmis_core::CredentialStore::compare_and_swap).
pub(crate) async fn compare_and_swap<D: Dialect>(
    store: &D,
    expected_version: u64,
    credential: Credential,
) -> Result<CasOutcome> {
    let account = credential.account.clone();
    let how = match expected_version {
        0 => Write::Create,
        v => Write::Over(i64::try_from(v).unwrap_or(i64::MAX)),
    };
    match write(store, how, credential, "credential.rotated").await? {
        Some(c) => Ok(CasOutcome::Stored(c)),
        None => Ok(CasOutcome::Conflict(get(store, &account).await?)),
    }
}

/// [`CredentialStore::delete_credential`](cmis_core::CredentialStore::delete_credential).
pub(crate) async fn delete<D: Dialect>(store: &D, account: &AccountRef) -> Result<bool> {
    let mut tx = store.write_tx().await?;
    let n = D::Db::execute(
        &mut tx,
        DELETE,
        args![
            account.tenant.as_str(),
            account.platform.as_str(),
            account.account.as_str()
        ],
    )
    .await?;
    if n > 0 {
        let record = AuditRecord::for_account(account, "credential.deleted").at(store.now());
        D::append_audit(&mut tx, vec![AuditRow::from_record(&record)?]).await?;
    }
    tx.commit().await.map_err(crate::stored::db_err)?;
    Ok(n > 0)
}

/// [`CredentialStore::accounts`](cmis_core::CredentialStore::accounts).
pub(crate) async fn accounts<D: Dialect>(store: &D, tenant: &TenantId) -> Result<Vec<AccountRef>> {
    let mut conn = store.read().await?;
    let rows = D::Db::fetch_all(&mut conn, ACCOUNTS, args![tenant.as_str()]).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        // A credential of a platform a newer cmis added is not this version's to use.
        if let Some(platform) = crate::rows::known_platform(&D::Db::text(r, "platform")?) {
            out.push(AccountRef::new(
                tenant.clone(),
                platform,
                D::Db::text(r, "account")?,
            ));
        }
    }
    Ok(out)
}

/// [`CredentialStore::expiring_before`](cmis_core::CredentialStore::expiring_before).
pub(crate) async fn expiring_before<D: Dialect>(
    store: &D,
    before: OffsetDateTime,
) -> Result<Vec<AccountRef>> {
    let mut conn = store.read().await?;
    let rows = D::Db::fetch_all(&mut conn, EXPIRING, args![micros(before)]).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        // One credential of a platform a newer cmis added never stops the whole sweep.
        if let Some(platform) = crate::rows::known_platform(&D::Db::text(r, "platform")?) {
            out.push(AccountRef::new(
                TenantId::new(D::Db::text(r, "tenant")?),
                platform,
                D::Db::text(r, "account")?,
            ));
        }
    }
    Ok(out)
}

/// [`AuditSink::record`](cmis_core::AuditSink::record).
pub(crate) async fn record<D: Dialect>(store: &D, record: &AuditRecord) -> Result<()> {
    let mut tx = store.write_tx().await?;
    D::append_audit(&mut tx, vec![AuditRow::from_record(record)?]).await?;
    tx.commit().await.map_err(crate::stored::db_err)
}

#[cfg(test)]
pub(super) const STATEMENTS: &[(&str, &str)] = &[
    ("GET", GET),
    ("PUT", PUT),
    ("CAS_INSERT", CAS_INSERT),
    ("CAS_UPDATE", CAS_UPDATE),
    ("RELEASE_REAUTH", RELEASE_REAUTH),
    ("DELETE", DELETE),
    ("ACCOUNTS", ACCOUNTS),
    ("EXPIRING", EXPIRING),
];
