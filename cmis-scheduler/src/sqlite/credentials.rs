//! `CredentialStore` and `AuditSink` on SQLite.

use async_trait::async_trait;
use cmis_core::{
    AccountRef, AuditRecord, AuditSink, CasOutcome, Credential, CredentialStore, Result, TenantId,
};
use sqlx::Row;
use time::OffsetDateTime;

use super::SqliteStore;
use super::jobs::insert_audit;
use crate::backend::refresh_lock_name;
use crate::credential_codec::{open, seal};
use crate::stored::db_err;
use crate::stored::micros;

const GET: &str = "SELECT version, access_expires_at, sealed FROM credentials \
     WHERE tenant = ?1 AND platform = ?2 AND account = ?3";

const UPSERT: &str = "INSERT INTO credentials \
     (tenant, platform, account, version, access_expires_at, sealed, updated_at) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
     ON CONFLICT (tenant, platform, account) DO UPDATE SET version = excluded.version, \
     access_expires_at = excluded.access_expires_at, sealed = excluded.sealed, \
     updated_at = excluded.updated_at";

/// Jobs parked for re-authorisation run again once the account has a new credential.
/// Releases the account's jobs waiting for re-authorisation, and its unknown outcomes parked
/// because the check itself was refused a token (review N14): those are checked again, never
/// published blindly.
const RELEASE_REAUTH: &str = "UPDATE jobs SET \
     state = CASE WHEN state = 'awaiting_reauth' THEN 'retry_scheduled' ELSE state END, \
     run_at = ?4, updated_at = ?4 WHERE tenant = ?1 AND platform = ?2 AND account = ?3 \
     AND (state = 'awaiting_reauth' OR (state = 'unknown_outcome' AND run_at IS NULL \
        AND last_error_kind IN ('auth', 'permission'))) RETURNING id";

impl SqliteStore {
    async fn read_credential(
        &self,
        conn: &mut sqlx::SqliteConnection,
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
        let key = self.key()?;
        Ok(Some(open(
            key,
            account.clone(),
            row.try_get("version").map_err(db_err)?,
            row.try_get("access_expires_at").map_err(db_err)?,
            &row.try_get::<Vec<u8>, _>("sealed").map_err(db_err)?,
        )?))
    }

    /// Writes `credential` at `version` and releases the account's parked jobs, in `tx`.
    async fn write_credential(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
        mut credential: Credential,
        version: i64,
        action: &str,
    ) -> Result<Credential> {
        let sealed = seal(self.key()?, &credential)?;
        let now = self.now();
        let a = &credential.account;
        sqlx::query(UPSERT)
            .bind(a.tenant.as_str())
            .bind(a.platform.as_str())
            .bind(a.account.as_str())
            .bind(version)
            .bind(credential.access_expires_at.map(micros))
            .bind(sealed)
            .bind(micros(now))
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
        let released: Vec<i64> = sqlx::query_scalar(RELEASE_REAUTH)
            .bind(a.tenant.as_str())
            .bind(a.platform.as_str())
            .bind(a.account.as_str())
            .bind(micros(now))
            .fetch_all(&mut **tx)
            .await
            .map_err(db_err)?;
        let record = AuditRecord::for_account(a, action)
            .at(now)
            .with_detail("version", version.to_string());
        insert_audit(tx, &record).await?;
        for id in released {
            let record = AuditRecord::for_account(a, "job.reauthorised")
                .at(now)
                .with_subject(id.to_string());
            insert_audit(tx, &record).await?;
        }
        credential.version = u64::try_from(version).unwrap_or(0);
        Ok(credential)
    }
}

#[async_trait]
impl CredentialStore for SqliteStore {
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
        let mut conn = self.inner.reader.acquire().await.map_err(db_err)?;
        self.read_credential(&mut conn, account).await
    }

    async fn put_credential(&self, credential: Credential) -> Result<Credential> {
        self.key()?;
        let mut tx = self.write_tx().await?;
        let current: Option<i64> = sqlx::query_scalar(
            "SELECT version FROM credentials WHERE tenant = ?1 AND platform = ?2 AND account = ?3",
        )
        .bind(credential.account.tenant.as_str())
        .bind(credential.account.platform.as_str())
        .bind(credential.account.account.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        let version = current.unwrap_or(0).saturating_add(1);
        let stored = self
            .write_credential(&mut tx, credential, version, "credential.stored")
            .await?;
        tx.commit().await.map_err(db_err)?;
        self.wake();
        Ok(stored)
    }

    async fn compare_and_swap(
        &self,
        expected_version: u64,
        credential: Credential,
    ) -> Result<CasOutcome> {
        self.key()?;
        let mut tx = self.write_tx().await?;
        let current = self.read_credential(&mut tx, &credential.account).await?;
        let current_version = current.as_ref().map_or(0, |c| c.version);
        if current_version != expected_version {
            tx.rollback().await.map_err(db_err)?;
            return Ok(CasOutcome::Conflict(current));
        }
        let version = i64::try_from(expected_version)
            .unwrap_or(i64::MAX)
            .saturating_add(1);
        let stored = self
            .write_credential(&mut tx, credential, version, "credential.rotated")
            .await?;
        tx.commit().await.map_err(db_err)?;
        self.wake();
        Ok(CasOutcome::Stored(stored))
    }

    async fn delete_credential(&self, account: &AccountRef) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let n = sqlx::query(
            "DELETE FROM credentials WHERE tenant = ?1 AND platform = ?2 AND account = ?3",
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
            "SELECT platform, account FROM credentials WHERE tenant = ?1 ORDER BY platform, account",
        )
        .bind(tenant.as_str())
        .fetch_all(&self.inner.reader)
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
            "SELECT tenant, platform, account FROM credentials WHERE access_expires_at <= ?1 \
             ORDER BY tenant, platform, account",
        )
        .bind(micros(before))
        .fetch_all(&self.inner.reader)
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
impl AuditSink for SqliteStore {
    async fn record(&self, record: &AuditRecord) -> Result<()> {
        let mut tx = self.write_tx().await?;
        insert_audit(&mut tx, record).await?;
        tx.commit().await.map_err(db_err)
    }
}
