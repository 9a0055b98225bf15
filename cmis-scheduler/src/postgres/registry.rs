//! The process registry on PostgreSQL.

use std::sync::atomic::Ordering;

use cmis_core::Result;

use super::{DB_NOW, PgStore, schema};
use crate::stored::db_err;
use crate::upgrade::{self, CMIS_VERSION, ProcessRecord, ProcessRow};

impl PgStore {
    pub(super) async fn register(&self, id: &str) -> Result<()> {
        let applied: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(version), 0)::BIGINT FROM cmis_migrations")
                .fetch_one(self.pool())
                .await
                .map_err(db_err)?;
        let known = schema::MIGRATIONS.len();
        if applied > i64::try_from(known).unwrap_or(i64::MAX) {
            self.inner.too_new.store(applied, Ordering::Relaxed);
            return Err(upgrade::schema_too_new(applied, known));
        }
        let mut tx = self.pool().begin().await.map_err(db_err)?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO processes (id, cmis_version, schema_version, started_at, heartbeat_at) \
             VALUES ($1, $2, $3, {DB_NOW}, {DB_NOW}) ON CONFLICT (id) DO UPDATE SET \
             cmis_version = excluded.cmis_version, schema_version = excluded.schema_version, \
             heartbeat_at = excluded.heartbeat_at"
        )))
        .bind(id)
        .bind(CMIS_VERSION)
        .bind(i64::try_from(known).unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        // Processes silent for a day are gone for good.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM processes WHERE heartbeat_at < {DB_NOW} - 86400000000"
        )))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    pub(super) async fn registered(&self) -> Result<Vec<ProcessRecord>> {
        let rows: Vec<ProcessRow> = sqlx::query_as(
            "SELECT id, cmis_version, schema_version, started_at, heartbeat_at FROM processes \
             ORDER BY heartbeat_at DESC, id",
        )
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        rows.into_iter().map(upgrade::process_from).collect()
    }

    /// Refuses to claim from a schema newer than this binary understands.
    pub(super) fn check_schema(&self) -> Result<()> {
        match self.inner.too_new.load(Ordering::Relaxed) {
            0 => Ok(()),
            applied => Err(upgrade::schema_too_new(applied, schema::MIGRATIONS.len())),
        }
    }
}
