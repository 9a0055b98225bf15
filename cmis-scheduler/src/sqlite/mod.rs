//! The SQLite backend: one file (or memory), WAL, `BEGIN IMMEDIATE` for every write, a busy
//! timeout so that several processes can share the file, migrations applied on open.

mod audit;
#[cfg(feature = "ai")]
mod cache;
mod dialect;
mod jobs;
mod outbox;
mod registry;
mod schema;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use cmis_core::{Clock, Result, SystemClock};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::crypto::TokenKey;
use crate::stored::db_err;

/// A [`ScheduleStore`](crate::ScheduleStore), [`CredentialStore`](cmis_core::CredentialStore)
/// and [`AuditSink`](cmis_core::AuditSink) on SQLite.
///
/// Writes go through one connection per process and each is a `BEGIN IMMEDIATE` transaction, so
/// they never fail half-way with `SQLITE_BUSY`; other processes on the same file wait up to the
/// busy timeout. Reads use a small pool of their own (WAL lets them run beside the writer).
///
/// ```no_run
/// # mod cmis { pub use cmis_core::*; pub mod scheduler { pub use cmis_scheduler::*; } }
/// # async fn f() -> cmis::Result<()> {
/// use cmis::scheduler::SqliteStore;
/// let store = SqliteStore::builder().path("cmis.db").build().await?;
/// # let _ = store; Ok(()) }
/// ```
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    writer: SqlitePool,
    reader: SqlitePool,
    clock: Arc<dyn Clock>,
    database_clock: bool,
    /// The schema version found newer than this binary understands (0: none).
    too_new: std::sync::atomic::AtomicI64,
    key: Option<TokenKey>,
    wake: Arc<tokio::sync::Notify>,
    location: String,
    #[cfg(feature = "ai")]
    ai_cache_ttl: Duration,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("location", &self.inner.location)
            .field("encryption_key", &self.inner.key.as_ref().map(|_| "<set>"))
            .finish_non_exhaustive()
    }
}

/// Builds a [`SqliteStore`].
#[derive(Debug)]
#[must_use]
pub struct SqliteStoreBuilder {
    path: Option<PathBuf>,
    busy_timeout: Duration,
    readers: u32,
    durable: bool,
    clock: Arc<dyn Clock>,
    database_clock: bool,
    key: Option<TokenKey>,
    #[cfg(feature = "ai")]
    ai_cache_ttl: Duration,
}

impl SqliteStore {
    /// A builder; without [`path`](SqliteStoreBuilder::path) the database lives in memory.
    pub fn builder() -> SqliteStoreBuilder {
        SqliteStoreBuilder {
            path: None,
            busy_timeout: Duration::from_secs(10),
            readers: 4,
            durable: true,
            clock: Arc::new(SystemClock),
            database_clock: true,
            key: None,
            #[cfg(feature = "ai")]
            ai_cache_ttl: crate::DEFAULT_AI_CACHE_TTL,
        }
    }

    /// The time every transition is judged and stamped by: the database's, which for SQLite
    /// is this machine's system clock (every process that opens the file runs here), unless
    /// [`database_clock`](SqliteStoreBuilder::database_clock) was turned off.
    pub(crate) fn now(&self) -> time::OffsetDateTime {
        if self.inner.database_clock {
            time::OffsetDateTime::now_utc()
        } else {
            self.inner.clock.now()
        }
    }

    /// How far the database's clock is ahead of this process's.
    pub(crate) fn offset(&self) -> time::Duration {
        if self.inner.database_clock {
            time::OffsetDateTime::now_utc() - self.inner.clock.now()
        } else {
            time::Duration::ZERO
        }
    }

    pub(crate) fn wake(&self) {
        // Wakes every worker waiting now, and leaves a permit for one that is about to wait.
        self.inner.wake.notify_waiters();
        self.inner.wake.notify_one();
    }
}

impl SqliteStoreBuilder {
    /// Stores in the file at `path` (created if missing).
    pub fn path(mut self, path: impl Into<PathBuf>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// Keeps the database in memory (the default; lost when the store is dropped).
    pub fn in_memory(mut self) -> Self {
        self.path = None;
        self
    }

    /// How long a write waits for another process's write to finish (10 s by default).
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// `synchronous=FULL` (the default: a committed transition survives a power loss) or
    /// `NORMAL` (it survives a crash of the process, and commits are faster).
    pub fn durable(mut self, full: bool) -> Self {
        self.durable = full;
        self
    }

    /// This process's clock (the system clock by default). With the
    /// [database clock](Self::database_clock) on, as by default, time is the machine's system
    /// clock whatever this one says; turn it off to stamp transitions with this clock alone
    /// (tests that move time by hand).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Whether due times, leases, the rescue cutoff and leadership are judged by the
    /// database's clock (on by default; for SQLite, the machine's system clock) rather than
    /// by [`clock`](Self::clock).
    pub fn database_clock(mut self, on: bool) -> Self {
        self.database_clock = on;
        self
    }

    /// The key credentials are encrypted with; without it the credential store refuses to work.
    pub fn encryption_key(mut self, key: TokenKey) -> Self {
        self.key = Some(key);
        self
    }

    /// Opens the database and applies missing migrations.
    pub async fn build(self) -> Result<SqliteStore> {
        let (options, location) = match &self.path {
            Some(p) => (
                SqliteConnectOptions::new()
                    .filename(p)
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal),
                p.display().to_string(),
            ),
            None => (
                SqliteConnectOptions::from_str("sqlite::memory:").map_err(db_err)?,
                ":memory:".to_owned(),
            ),
        };
        let options = options
            .busy_timeout(self.busy_timeout)
            .synchronous(if self.durable {
                SqliteSynchronous::Full
            } else {
                SqliteSynchronous::Normal
            })
            .foreign_keys(true);
        // One writer connection: writes queue in-process instead of fighting over the lock.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options.clone())
            .await
            .map_err(db_err)?;
        // An in-memory database exists only in its one connection, so readers share it.
        let reader = if self.path.is_some() {
            SqlitePoolOptions::new()
                .max_connections(self.readers.max(1))
                .connect_with(options)
                .await
                .map_err(db_err)?
        } else {
            writer.clone()
        };
        let store = SqliteStore {
            inner: Arc::new(Inner {
                writer,
                reader,
                clock: self.clock,
                database_clock: self.database_clock,
                too_new: std::sync::atomic::AtomicI64::new(0),
                key: self.key,
                wake: Arc::new(tokio::sync::Notify::new()),
                location,
                #[cfg(feature = "ai")]
                ai_cache_ttl: self.ai_cache_ttl,
            }),
        };
        store.migrate().await?;
        Ok(store)
    }
}

impl SqliteStore {
    /// Applies every migration not yet applied, in one `BEGIN IMMEDIATE` transaction, so that
    /// processes opening the same file at once apply each migration exactly once.
    async fn migrate(&self) -> Result<()> {
        let mut tx = self
            .inner
            .writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db_err)?;
        sqlx::raw_sql(
            "CREATE TABLE IF NOT EXISTS cmis_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
        )
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        let applied: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM cmis_migrations")
                .fetch_one(&mut *tx)
                .await
                .map_err(db_err)?;
        // No SQLite migration so far changes how jobs are claimed (see upgrade::CLAIM_CHANGES
        // for PostgreSQL's); a schema newer than this binary's is refused.
        let known = schema::MIGRATIONS.len();
        if applied > i64::try_from(known).unwrap_or(i64::MAX) {
            return Err(crate::upgrade::schema_too_new(applied, known));
        }
        for (i, sql) in schema::MIGRATIONS.iter().enumerate() {
            let version = i64::try_from(i + 1).unwrap_or(i64::MAX);
            if version <= applied {
                continue;
            }
            sqlx::raw_sql(*sql)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            sqlx::query("INSERT INTO cmis_migrations (version, applied_at) VALUES (?1, ?2)")
                .bind(version)
                .bind(crate::stored::micros(self.now()))
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }
}
