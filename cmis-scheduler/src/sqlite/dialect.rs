//! What the shared SQL flows need of SQLite: one writer taking its lock up front, readers
//! beside it (WAL), audit appends inside the writer's transaction, wake-ups in this process.

use std::future::Future;

use cmis_core::Result;
use sqlx::{Sqlite, SqliteConnection, Transaction};
use time::OffsetDateTime;

use super::SqliteStore;
use crate::audit_chain::AuditRow;
use crate::crypto::TokenKey;
use crate::sql::{Dialect, Statements};
use crate::stored::db_err;

impl Dialect for SqliteStore {
    type Db = Sqlite;

    const SQL: Statements = Statements {
        insert_job: super::jobs::INSERT_JOB,
        get_job: super::jobs::GET_JOB,
        lock_active: super::jobs::GET_ACTIVE,
        list_jobs: super::jobs::LIST_JOBS,
        user_write: super::jobs::USER_WRITE,
        job_columns: crate::rows::job_columns!(),
        lease_keeps_state: false,
    };

    fn key_slot(&self) -> Option<&TokenKey> {
        self.inner.key.as_ref()
    }

    fn now(&self) -> OffsetDateTime {
        SqliteStore::now(self)
    }

    /// `BEGIN IMMEDIATE`: the write lock is taken at once, so a transaction that reads before
    /// it writes never fails half-way on a lock another writer took meanwhile.
    async fn write_tx(&self) -> Result<Transaction<'static, Sqlite>> {
        self.inner
            .writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db_err)
    }

    /// A deferred read transaction: in WAL mode it sees one snapshot from its first read.
    async fn snapshot(&self) -> Result<Transaction<'static, Sqlite>> {
        self.inner.reader.begin().await.map_err(db_err)
    }

    async fn read(&self) -> Result<sqlx::pool::PoolConnection<Sqlite>> {
        self.inner.reader.acquire().await.map_err(db_err)
    }

    fn append_audit<'e>(
        conn: &'e mut SqliteConnection,
        rows: Vec<AuditRow>,
    ) -> impl Future<Output = Result<()>> + Send + 'e {
        super::audit::append(conn, rows)
    }

    /// Every worker of a SQLite database is in this process: nothing to announce.
    async fn announce(&self, _tx: &mut Transaction<'static, Sqlite>) -> Result<()> {
        Ok(())
    }

    fn wake_here(&self) {
        self.wake();
    }
}

crate::sql::credential_store!(SqliteStore);
crate::admin::sql::admin_store!(SqliteStore);
