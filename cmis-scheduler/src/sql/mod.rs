//! One flow over a small dialect: the store operations whose logic is the same on SQLite and
//! PostgreSQL, written once (issue 21, item 4).
//!
//! Two layers keep the flows free of sqlx's trait bounds and of either engine:
//!
//! - [`Engine`] is implemented once, for every sqlx database that can run the flows, by a
//!   blanket impl whose `where` clause gathers every bound the flows need (executors, encoders,
//!   decoders). A flow asks for `D::Db: Engine` and nothing else.
//! - [`Dialect`] is what differs between the two stores: how a write transaction starts
//!   (`BEGIN IMMEDIATE` on SQLite's single writer, a pooled transaction on PostgreSQL), how a
//!   read-only snapshot starts, how audit records are appended, how other processes are woken,
//!   and the few statement texts that differ ([`Statements`]).
//!
//! Statements are written with numbered placeholders (`$1`): PostgreSQL reads them natively,
//! and sqlx binds SQLite's `$N` parameters by their number, so one text serves both. What the
//! engines really do differently stays per store: claims (`FOR UPDATE SKIP LOCKED` against
//! SQLite's single writer), batched completions and scheduling (JSON arrays against PostgreSQL
//! arrays), the audit append, the clock-reading process registry and the AI cache's purge.

pub(crate) mod credentials;
pub(crate) mod jobs;
#[cfg(test)]
mod tests;

use std::future::Future;

use cmis_core::{AuditRecord, Error, Result};
use sqlx::{
    ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Row, Transaction, Type,
};
use time::OffsetDateTime;

use crate::audit_chain::AuditRow;
use crate::crypto::TokenKey;
use crate::job::Job;
use crate::stored::db_err;

/// One bound argument of a statement, in the few types the stores use.
#[derive(Debug)]
pub(crate) enum Arg<'a> {
    Text(&'a str),
    OptText(Option<&'a str>),
    Int(i64),
    OptInt(Option<i64>),
    Bool(bool),
    Bytes(Vec<u8>),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(v: &'a str) -> Self {
        Arg::Text(v)
    }
}

impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Arg::OptText(v)
    }
}

impl From<i64> for Arg<'_> {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}

impl From<Option<i64>> for Arg<'_> {
    fn from(v: Option<i64>) -> Self {
        Arg::OptInt(v)
    }
}

impl From<bool> for Arg<'_> {
    fn from(v: bool) -> Self {
        Arg::Bool(v)
    }
}

impl From<Vec<u8>> for Arg<'_> {
    fn from(v: Vec<u8>) -> Self {
        Arg::Bytes(v)
    }
}

/// A statement's arguments, in placeholder order: `args![a, b, c]`.
macro_rules! args {
    ($($a:expr),* $(,)?) => { vec![$($crate::sql::Arg::from($a)),*] };
}
pub(crate) use args;

/// Runs statements and reads columns on a sqlx database; implemented once, for both engines.
pub(crate) trait Engine: Database {
    /// Runs `sql` and returns its first row, if any.
    fn fetch_optional<'e>(
        conn: &'e mut Self::Connection,
        sql: &'static str,
        args: Vec<Arg<'e>>,
    ) -> impl Future<Output = Result<Option<Self::Row>>> + Send + 'e;

    /// Runs `sql` and returns every row.
    fn fetch_all<'e>(
        conn: &'e mut Self::Connection,
        sql: &'static str,
        args: Vec<Arg<'e>>,
    ) -> impl Future<Output = Result<Vec<Self::Row>>> + Send + 'e;

    /// Runs a statement built at run time (the admin queries' filters) and returns every row.
    /// Every value in it must be a bound argument, never spliced into the text.
    fn fetch_all_built<'e>(
        conn: &'e mut Self::Connection,
        sql: String,
        args: Vec<Arg<'e>>,
    ) -> impl Future<Output = Result<Vec<Self::Row>>> + Send + 'e;

    /// Runs `sql` and returns how many rows it changed.
    fn execute<'e>(
        conn: &'e mut Self::Connection,
        sql: &'static str,
        args: Vec<Arg<'e>>,
    ) -> impl Future<Output = Result<u64>> + Send + 'e;

    fn int(row: &Self::Row, col: &'static str) -> Result<i64>;
    fn opt_int(row: &Self::Row, col: &'static str) -> Result<Option<i64>>;
    fn text(row: &Self::Row, col: &'static str) -> Result<String>;
    fn opt_text(row: &Self::Row, col: &'static str) -> Result<Option<String>>;
    fn bytes(row: &Self::Row, col: &'static str) -> Result<Vec<u8>>;

    /// A row listing the store's job columns, as a job.
    fn job(row: &Self::Row) -> Result<Job>;
    /// Rows of jobs; one that cannot be decoded is left out (and logged), never the whole list.
    fn jobs(rows: &[Self::Row]) -> Vec<Job>;
    /// A row of the audit table, as the record a caller wrote.
    fn audit(row: &Self::Row) -> Result<AuditRecord>;
    /// Up to `take` rows of the audit table (one more says there is a next page).
    fn audit_page(rows: &[Self::Row], take: usize) -> Result<crate::AuditPage>;
    /// A row of the audit table with its place in the chain.
    fn chained_audit(row: &Self::Row) -> Result<crate::audit_chain::Stored>;
    /// A row of `audit_heads`.
    fn head(row: &Self::Row) -> Result<(i64, crate::audit_chain::Hash)>;
}

fn bind<'q, DB>(
    q: sqlx::query::Query<'q, DB, DB::Arguments>,
    arg: Arg<'_>,
) -> sqlx::query::Query<'q, DB, DB::Arguments>
where
    DB: Database,
    for<'a> &'a str: Encode<'a, DB> + Type<DB>,
    for<'a> Option<&'a str>: Encode<'a, DB> + Type<DB>,
    for<'a> i64: Encode<'a, DB> + Type<DB>,
    for<'a> Option<i64>: Encode<'a, DB> + Type<DB>,
    for<'a> bool: Encode<'a, DB> + Type<DB>,
    for<'a> Vec<u8>: Encode<'a, DB> + Type<DB>,
{
    match arg {
        Arg::Text(v) => q.bind(v),
        Arg::OptText(v) => q.bind(v),
        Arg::Int(v) => q.bind(v),
        Arg::OptInt(v) => q.bind(v),
        Arg::Bool(v) => q.bind(v),
        Arg::Bytes(v) => q.bind(v),
    }
}

fn column<'r, R, T>(row: &'r R, col: &'static str) -> Result<T>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    T: Decode<'r, R::Database> + Type<R::Database>,
{
    row.try_get(col).map_err(db_err)
}

/// Every bound the flows need, in one place.
impl<DB> Engine for DB
where
    DB: Database + sqlx::database::HasStatementCache,
    DB::Arguments: IntoArguments<DB>,
    DB::QueryResult: RowsAffected,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'a> &'a str: Encode<'a, DB> + Type<DB>,
    for<'a> Option<&'a str>: Encode<'a, DB> + Type<DB>,
    for<'a> i64: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
    for<'a> Option<i64>: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
    for<'a> bool: Encode<'a, DB> + Type<DB>,
    for<'a> Vec<u8>: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
    for<'a> String: Decode<'a, DB> + Type<DB>,
    &'static str: ColumnIndex<DB::Row>,
{
    fn fetch_optional<'e>(
        conn: &'e mut DB::Connection,
        sql: &'static str,
        args: Vec<Arg<'e>>,
    ) -> impl Future<Output = Result<Option<DB::Row>>> + Send + 'e {
        let q = args.into_iter().fold(sqlx::query::<DB>(sql), bind);
        async move { q.fetch_optional(&mut *conn).await.map_err(db_err) }
    }

    fn fetch_all<'e>(
        conn: &'e mut DB::Connection,
        sql: &'static str,
        args: Vec<Arg<'e>>,
    ) -> impl Future<Output = Result<Vec<DB::Row>>> + Send + 'e {
        let q = args.into_iter().fold(sqlx::query::<DB>(sql), bind);
        async move { q.fetch_all(&mut *conn).await.map_err(db_err) }
    }

    fn fetch_all_built<'e>(
        conn: &'e mut DB::Connection,
        sql: String,
        args: Vec<Arg<'e>>,
    ) -> impl Future<Output = Result<Vec<DB::Row>>> + Send + 'e {
        // Not kept as a prepared statement: these statements differ by filter, and a plan made
        // for one set of values (PostgreSQL's generic plan after five runs) can be far worse for
        // another (a time range that holds nothing against one that holds everything).
        let q = args
            .into_iter()
            .fold(sqlx::query::<DB>(sqlx::AssertSqlSafe(sql)), bind)
            .persistent(false);
        async move { q.fetch_all(&mut *conn).await.map_err(db_err) }
    }

    fn execute<'e>(
        conn: &'e mut DB::Connection,
        sql: &'static str,
        args: Vec<Arg<'e>>,
    ) -> impl Future<Output = Result<u64>> + Send + 'e {
        let q = args.into_iter().fold(sqlx::query::<DB>(sql), bind);
        async move {
            let done = q.execute(&mut *conn).await.map_err(db_err)?;
            Ok(done.rows_affected())
        }
    }

    fn int(row: &DB::Row, col: &'static str) -> Result<i64> {
        column(row, col)
    }

    fn opt_int(row: &DB::Row, col: &'static str) -> Result<Option<i64>> {
        column(row, col)
    }

    fn text(row: &DB::Row, col: &'static str) -> Result<String> {
        column(row, col)
    }

    fn bytes(row: &DB::Row, col: &'static str) -> Result<Vec<u8>> {
        column(row, col)
    }

    fn opt_text(row: &DB::Row, col: &'static str) -> Result<Option<String>> {
        column(row, col)
    }

    fn job(row: &DB::Row) -> Result<Job> {
        crate::rows::job_from_row(row)
    }

    fn jobs(rows: &[DB::Row]) -> Vec<Job> {
        crate::rows::jobs_from_rows(rows)
    }

    fn audit(row: &DB::Row) -> Result<AuditRecord> {
        crate::rows::audit_from_row(row)
    }

    fn audit_page(rows: &[DB::Row], take: usize) -> Result<crate::AuditPage> {
        crate::rows::audit_page(rows, take)
    }

    fn chained_audit(row: &DB::Row) -> Result<crate::audit_chain::Stored> {
        crate::rows::chained_audit_from_row(row)
    }

    fn head(row: &DB::Row) -> Result<(i64, crate::audit_chain::Hash)> {
        crate::rows::head_from_row(row)
    }
}

/// How many rows a statement changed: sqlx keeps the count on each engine's own result type.
pub(crate) trait RowsAffected {
    fn rows_affected(&self) -> u64;
}

#[cfg(feature = "sqlite")]
impl RowsAffected for sqlx::sqlite::SqliteQueryResult {
    fn rows_affected(&self) -> u64 {
        sqlx::sqlite::SqliteQueryResult::rows_affected(self)
    }
}

#[cfg(feature = "postgres")]
impl RowsAffected for sqlx::postgres::PgQueryResult {
    fn rows_affected(&self) -> u64 {
        sqlx::postgres::PgQueryResult::rows_affected(self)
    }
}

/// The statement texts that differ between the two stores (the job columns PostgreSQL reads
/// through its lease, and its row locks); every other statement is shared.
pub(crate) struct Statements {
    /// A new job: `$1` tenant, `$2` post key, `$3` platform, `$4` account, `$5` surface, `$6`
    /// post (JSON), `$7` when, `$8` now; returns the job's columns.
    pub insert_job: &'static str,
    /// A job by id and tenant, active or finished: `$1` id, `$2` tenant.
    pub get_job: &'static str,
    /// An active job by id and tenant, locked for the transaction where the engine can.
    pub lock_active: &'static str,
    /// A tenant's jobs: `$1` tenant, `$2` post key or NULL, `$3` states (JSON array) or NULL,
    /// `$4` page size, `$5` id cursor.
    pub list_jobs: &'static str,
    /// A user's change to a job: `$1` id, `$2` state, `$3` scheduled for, `$4` run at, `$5`
    /// reset attempts, `$6` now; returns the job's columns.
    pub user_write: &'static str,
    /// The job columns as the model reads them (the admin queries select them).
    pub job_columns: &'static str,
    /// Whether a job holding a lease keeps its stored state (PostgreSQL: it is `publishing`
    /// while `lease_owner` is set) rather than storing `publishing` (SQLite).
    pub lease_keeps_state: bool,
}

/// What differs between the SQLite and PostgreSQL stores under the shared flows.
pub(crate) trait Dialect: Send + Sync {
    /// The sqlx database.
    type Db: Engine;

    /// The statement texts of this store.
    const SQL: Statements;

    /// The key credentials are sealed with, if the store was given one.
    fn key_slot(&self) -> Option<&TokenKey>;

    /// The store's clock (the database's, where it was asked to follow it).
    fn now(&self) -> OffsetDateTime;

    /// Starts a write transaction.
    fn write_tx(&self) -> impl Future<Output = Result<Transaction<'static, Self::Db>>> + Send;

    /// Starts a read-only transaction that sees one snapshot of the database.
    fn snapshot(&self) -> impl Future<Output = Result<Transaction<'static, Self::Db>>> + Send;

    /// A connection for a single read.
    fn read(&self) -> impl Future<Output = Result<sqlx::pool::PoolConnection<Self::Db>>> + Send;

    /// Appends `rows` to their tenants' audit chains, inside the write transaction `conn`.
    fn append_audit<'e>(
        conn: &'e mut <Self::Db as Database>::Connection,
        rows: Vec<AuditRow>,
    ) -> impl Future<Output = Result<()>> + Send + 'e;

    /// Wakes workers in other processes once `tx` commits (nothing where there are none).
    fn announce<'e>(
        &'e self,
        tx: &'e mut Transaction<'static, Self::Db>,
    ) -> impl Future<Output = Result<()>> + Send + 'e;

    /// Wakes this process's workers.
    fn wake_here(&self);

    /// The sealing key, or why credentials cannot be stored.
    fn key(&self) -> Result<&TokenKey> {
        self.key_slot().ok_or_else(|| {
            Error::invalid_input(
                "this store has no encryption key: set one with the builder's encryption_key to store credentials",
            )
        })
    }
}

/// Commits `tx` and wakes the workers of every process, which may have new due work.
pub(crate) async fn commit_waking<D: Dialect>(
    store: &D,
    mut tx: Transaction<'static, D::Db>,
) -> Result<()> {
    store.announce(&mut tx).await?;
    tx.commit().await.map_err(db_err)?;
    store.wake_here();
    Ok(())
}

/// `CredentialStore` and `AuditSink` for a store with a [`Dialect`], by the shared flows.
macro_rules! credential_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl cmis_core::CredentialStore for $store {
            async fn lock_refresh(
                &self,
                account: &cmis_core::AccountRef,
                owner: &str,
                ttl: std::time::Duration,
            ) -> cmis_core::Result<bool> {
                // A leadership of its own per account: exclusive across every process of the
                // database.
                let name = crate::backend::refresh_lock_name(account);
                crate::sql::jobs::try_lead(self, &name, owner, ttl).await
            }

            async fn unlock_refresh(
                &self,
                account: &cmis_core::AccountRef,
                owner: &str,
            ) -> cmis_core::Result<()> {
                let name = crate::backend::refresh_lock_name(account);
                crate::sql::jobs::resign(self, &name, owner).await
            }

            async fn credential(
                &self,
                account: &cmis_core::AccountRef,
            ) -> cmis_core::Result<Option<cmis_core::Credential>> {
                crate::sql::credentials::get(self, account).await
            }

            async fn put_credential(
                &self,
                credential: cmis_core::Credential,
            ) -> cmis_core::Result<cmis_core::Credential> {
                crate::sql::credentials::put(self, credential).await
            }

            async fn compare_and_swap(
                &self,
                expected_version: u64,
                credential: cmis_core::Credential,
            ) -> cmis_core::Result<cmis_core::CasOutcome> {
                crate::sql::credentials::compare_and_swap(self, expected_version, credential).await
            }

            async fn delete_credential(
                &self,
                account: &cmis_core::AccountRef,
            ) -> cmis_core::Result<bool> {
                crate::sql::credentials::delete(self, account).await
            }

            async fn accounts(
                &self,
                tenant: &cmis_core::TenantId,
            ) -> cmis_core::Result<Vec<cmis_core::AccountRef>> {
                crate::sql::credentials::accounts(self, tenant).await
            }

            async fn expiring_before(
                &self,
                before: time::OffsetDateTime,
            ) -> cmis_core::Result<Vec<cmis_core::AccountRef>> {
                crate::sql::credentials::expiring_before(self, before).await
            }
        }

        #[async_trait::async_trait]
        impl cmis_core::AuditSink for $store {
            async fn record(&self, record: &cmis_core::AuditRecord) -> cmis_core::Result<()> {
                crate::sql::credentials::record(self, record).await
            }
        }
    };
}
pub(crate) use credential_store;
