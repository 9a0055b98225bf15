//! `CredentialStore` and `AuditSink` on PostgreSQL.

use async_trait::async_trait;
use cmis_core::{
    AccountRef, AuditRecord, AuditSink, CasOutcome, Credential, CredentialStore, Result, TenantId,
};
use sqlx::Row;
use time::OffsetDateTime;

use super::PgStore;
use super::jobs::insert_audit;
use crate::audit_chain::AuditRow;
use crate::backend::refresh_lock_name;
use crate::credential_codec::{open, seal};
use crate::stored::db_err;
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

/// Compare-and-set on the stored version.
const CAS_UPDATE: &str = "UPDATE credentials SET version = version + 1, access_expires_at = $4, \
     sealed = $5, updated_at = $6 WHERE tenant = $1 AND platform = $2 AND account = $3 \
     AND version = $7 RETURNING version";

/// Jobs parked for re-authorisation run again once the account has a new credential.
/// Releases the account's jobs waiting for re-authorisation, and its unknown outcomes parked
/// because the check itself was refused a token (review N14): those are checked again, never
/// published blindly.
const RELEASE_REAUTH: &str = "UPDATE jobs SET \
     state = CASE WHEN state = 'awaiting_reauth' THEN 'retry_scheduled' ELSE state END, \
     run_at = $4, updated_at = $4 WHERE tenant = $1 AND platform = $2 AND account = $3 \
     AND (state = 'awaiting_reauth' OR (state = 'unknown_outcome' AND run_at IS NULL \
        AND last_error_kind IN ('auth', 'permission'))) RETURNING id";

impl PgStore {
    async fn read_credential(
        &self,
        conn: &mut sqlx::PgConnection,
        account: &AccountRef,
    ) -> Result<Option<Credential>> {
        let row = sqlx::query(GET)
            .bind(account.tenant.as_str())
            .bind(account.platform.as_str())
            .bind(account.account.as_str())
            .fetch_optional(conn)
            .await
            .map_err(db_err)?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(open(
            self.key()?,
            account.clone(),
            row.try_get("version").map_err(db_err)?,
            row.try_get("access_expires_at").map_err(db_err)?,
            &row.try_get::<Vec<u8>, _>("sealed").map_err(db_err)?,
        )?))
    }

    /// Writes with `sql` (PUT or a CAS); `None` when the CAS lost.
    async fn write_credential(
        &self,
        sql: &'static str,
        expected: Option<i64>,
        mut credential: Credential,
        action: &str,
    ) -> Result<Option<Credential>> {
        let sealed = seal(self.key()?, &credential)?;
        let now = self.now();
        let a = credential.account.clone();
        let mut tx = self.pool().begin().await.map_err(db_err)?;
        let mut q = sqlx::query_scalar::<_, i64>(sql)
            .bind(a.tenant.as_str())
            .bind(a.platform.as_str())
            .bind(a.account.as_str())
            .bind(credential.access_expires_at.map(micros))
            .bind(sealed)
            .bind(micros(now));
        if let Some(v) = expected {
            q = q.bind(v);
        }
        let Some(version) = q.fetch_optional(&mut *tx).await.map_err(db_err)? else {
            return Ok(None);
        };
        let released: Vec<i64> = sqlx::query_scalar(RELEASE_REAUTH)
            .bind(a.tenant.as_str())
            .bind(a.platform.as_str())
            .bind(a.account.as_str())
            .bind(micros(now))
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
        let audit = released
            .into_iter()
            .map(|id| {
                AuditRow::job(
                    a.tenant.as_str(),
                    micros(now),
                    "job.reauthorised",
                    a.platform.as_str(),
                    a.account.as_str(),
                    id,
                    "{}".to_owned(),
                )
            })
            .collect();
        super::audit::append(&mut tx, audit).await?;
        let record = AuditRecord::for_account(&a, action)
            .at(now)
            .with_detail("version", version.to_string());
        insert_audit(&mut tx, &record).await?;
        self.notify(&mut tx).await?;
        tx.commit().await.map_err(db_err)?;
        self.wake_local();
        credential.version = u64::try_from(version).unwrap_or(0);
        Ok(Some(credential))
    }
}

#[async_trait]
impl CredentialStore for PgStore {
    async fn lock_refresh(
        &self,
        account: &AccountRef,
        owner: &str,
        ttl: std::time::Duration,
    ) -> Result<bool> {
        // A leadership of its own per account: exclusive across every process of the database.
        crate::ScheduleStore::try_lead(self, &refresh_lock_name(account), owner, ttl).await
    }

    async fn unlock_refresh(&self, account: &AccountRef, owner: &str) -> Result<()> {
        crate::ScheduleStore::resign(self, &refresh_lock_name(account), owner).await
    }

    async fn credential(&self, account: &AccountRef) -> Result<Option<Credential>> {
        let mut conn = self.pool().acquire().await.map_err(db_err)?;
        self.read_credential(&mut conn, account).await
    }

    async fn put_credential(&self, credential: Credential) -> Result<Credential> {
        self.write_credential(PUT, None, credential, "credential.stored")
            .await?
            .ok_or_else(|| cmis_core::Error::internal("an unconditional credential write lost"))
    }

    async fn compare_and_swap(
        &self,
        expected_version: u64,
        credential: Credential,
    ) -> Result<CasOutcome> {
        let account = credential.account.clone();
        let stored = if expected_version == 0 {
            self.write_credential(CAS_INSERT, None, credential, "credential.rotated")
                .await?
        } else {
            let v = i64::try_from(expected_version).unwrap_or(i64::MAX);
            self.write_credential(CAS_UPDATE, Some(v), credential, "credential.rotated")
                .await?
        };
        match stored {
            Some(c) => Ok(CasOutcome::Stored(c)),
            None => {
                let mut conn = self.pool().acquire().await.map_err(db_err)?;
                Ok(CasOutcome::Conflict(
                    self.read_credential(&mut conn, &account).await?,
                ))
            }
        }
    }

    async fn delete_credential(&self, account: &AccountRef) -> Result<bool> {
        let mut tx = self.pool().begin().await.map_err(db_err)?;
        let n = sqlx::query(
            "DELETE FROM credentials WHERE tenant = $1 AND platform = $2 AND account = $3",
        )
        .bind(account.tenant.as_str())
        .bind(account.platform.as_str())
        .bind(account.account.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
        if n > 0 {
            let record = AuditRecord::for_account(account, "credential.deleted").at(self.now());
            insert_audit(&mut tx, &record).await?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(n > 0)
    }

    async fn accounts(&self, tenant: &TenantId) -> Result<Vec<AccountRef>> {
        let rows = sqlx::query(
            "SELECT platform, account FROM credentials WHERE tenant = $1 ORDER BY platform, account",
        )
        .bind(tenant.as_str())
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let platform: String = r.try_get("platform").map_err(db_err)?;
            let account: String = r.try_get("account").map_err(db_err)?;
            // A credential of a platform a newer cmis added is not this version's to use.
            if let Some(platform) = crate::rows::known_platform(&platform) {
                out.push(AccountRef::new(tenant.clone(), platform, account));
            }
        }
        Ok(out)
    }

    async fn expiring_before(&self, before: OffsetDateTime) -> Result<Vec<AccountRef>> {
        let rows = sqlx::query(
            "SELECT tenant, platform, account FROM credentials WHERE access_expires_at <= $1 \
             ORDER BY tenant, platform, account",
        )
        .bind(micros(before))
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let tenant: String = r.try_get("tenant").map_err(db_err)?;
            let platform: String = r.try_get("platform").map_err(db_err)?;
            let account: String = r.try_get("account").map_err(db_err)?;
            // One credential of a platform a newer cmis added never stops the whole sweep.
            if let Some(platform) = crate::rows::known_platform(&platform) {
                out.push(AccountRef::new(TenantId::new(tenant), platform, account));
            }
        }
        Ok(out)
    }
}

#[async_trait]
impl AuditSink for PgStore {
    async fn record(&self, record: &AuditRecord) -> Result<()> {
        let mut tx = self.pool().begin().await.map_err(db_err)?;
        insert_audit(&mut tx, record).await?;
        tx.commit().await.map_err(db_err)
    }
}
