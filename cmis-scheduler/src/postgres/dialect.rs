//! What the shared SQL flows need of PostgreSQL: pooled transactions, snapshots at repeatable
//! read, batched audit appends, and wake-ups through `NOTIFY` for every process.

use std::future::Future;

use cmis_core::Result;
use sqlx::{PgConnection, Postgres, Transaction};
use time::OffsetDateTime;

use super::PgStore;
use crate::audit_chain::AuditRow;
use crate::crypto::TokenKey;
use crate::sql::{Dialect, Statements};
use crate::stored::db_err;

impl Dialect for PgStore {
    type Db = Postgres;

    const SQL: Statements = Statements {
        insert_job: super::jobs::INSERT_JOB,
        get_job: super::jobs::GET_JOB,
        lock_active: super::jobs::LOCK_ACTIVE,
        list_jobs: super::jobs::LIST_JOBS,
        user_write: super::jobs::USER_WRITE,
        job_columns: super::jobs::PG_JOB_COLUMNS,
        lease_keeps_state: true,
    };

    fn key_slot(&self) -> Option<&TokenKey> {
        self.inner.key.as_ref()
    }

    fn now(&self) -> OffsetDateTime {
        PgStore::now(self)
    }

    async fn write_tx(&self) -> Result<Transaction<'static, Postgres>> {
        self.pool().begin().await.map_err(db_err)
    }

    async fn snapshot(&self) -> Result<Transaction<'static, Postgres>> {
        self.pool()
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await
            .map_err(db_err)
    }

    async fn read(&self) -> Result<sqlx::pool::PoolConnection<Postgres>> {
        self.pool().acquire().await.map_err(db_err)
    }

    fn append_audit<'e>(
        conn: &'e mut PgConnection,
        rows: Vec<AuditRow>,
    ) -> impl Future<Output = Result<()>> + Send + 'e {
        super::audit::append(conn, rows)
    }

    /// `NOTIFY`, delivered to every listening process when the transaction commits.
    async fn announce(&self, tx: &mut Transaction<'static, Postgres>) -> Result<()> {
        self.notify(tx).await
    }

    fn wake_here(&self) {
        self.wake_local();
    }
}

crate::sql::credential_store!(PgStore);
crate::admin::sql::admin_store!(PgStore);
