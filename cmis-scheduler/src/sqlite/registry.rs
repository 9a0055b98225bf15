//! The process registry on SQLite.

use std::sync::atomic::Ordering;

use cmis_core::Result;

use super::{SqliteStore, schema};
use crate::sql::Dialect as _;
use crate::stored::db_err;
use crate::stored::micros;
use crate::upgrade::{self, CMIS_VERSION, ProcessRecord, ProcessRow};

impl SqliteStore {
    pub(super) async fn register(&self, id: &str) -> Result<()> {
        let applied: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM cmis_migrations")
                .fetch_one(&self.inner.reader)
                .await
                .map_err(db_err)?;
        let known = schema::MIGRATIONS.len();
        if applied > i64::try_from(known).unwrap_or(i64::MAX) {
            self.inner.too_new.store(applied, Ordering::Relaxed);
            return Err(upgrade::schema_too_new(applied, known));
        }
        let now = micros(self.now());
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO processes (id, cmis_version, schema_version, started_at, heartbeat_at) \
             VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (id) DO UPDATE SET \
             cmis_version = excluded.cmis_version, schema_version = excluded.schema_version, \
             heartbeat_at = excluded.heartbeat_at",
        )
        .bind(id)
        .bind(CMIS_VERSION)
        .bind(i64::try_from(known).unwrap_or(i64::MAX))
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        sqlx::query("DELETE FROM processes WHERE heartbeat_at < ?1 - 86400000000")
            .bind(now)
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
        .fetch_all(&self.inner.reader)
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
