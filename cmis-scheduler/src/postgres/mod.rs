//! The PostgreSQL backend: claims with `FOR UPDATE SKIP LOCKED` in one CTE statement, batched
//! fenced completions with their hash-chained audit records in the same transaction,
//! `LISTEN/NOTIFY` wake-ups, migrations applied on connect under an advisory lock.

mod audit;
#[cfg(feature = "ai")]
mod cache;
mod dialect;
mod jobs;
mod outbox;
mod registry;
mod schema;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use cmis_core::{Clock, Error, Result, SystemClock};
use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions};

use crate::crypto::TokenKey;
use crate::stored::db_err;
use crate::upgrade;

/// A [`ScheduleStore`](crate::ScheduleStore), [`CredentialStore`](cmis_core::CredentialStore)
/// and [`AuditSink`](cmis_core::AuditSink) on PostgreSQL, for many workers on many machines.
///
/// ```no_run
/// # mod cmis { pub use cmis_core::*; pub mod scheduler { pub use cmis_scheduler::*; } }
/// # async fn f() -> cmis::Result<()> {
/// use cmis::scheduler::PgStore;
/// let store = PgStore::builder("postgres://cmis@db.internal/cmis").schema("cmis").build().await?;
/// # let _ = store; Ok(()) }
/// ```
#[derive(Clone)]
pub struct PgStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: PgPool,
    clock: Arc<dyn Clock>,
    /// How far the database's clock is ahead of `clock`, in microseconds, when the database
    /// clock is on (measured at build, then every [`CLOCK_EVERY`]).
    offset: Option<Arc<AtomicI64>>,
    /// The schema version found newer than this binary understands (0: none).
    too_new: AtomicI64,
    key: Option<TokenKey>,
    wake: Arc<tokio::sync::Notify>,
    channel: String,
    schema: String,
    listener: Option<tokio::task::JoinHandle<()>>,
    clock_task: Option<tokio::task::JoinHandle<()>>,
    #[cfg(feature = "ai")]
    ai_cache_ttl: Duration,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(h) = &self.listener {
            h.abort();
        }
        if let Some(h) = &self.clock_task {
            h.abort();
        }
    }
}

impl fmt::Debug for PgStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgStore")
            .field("schema", &self.inner.schema)
            .field("encryption_key", &self.inner.key.as_ref().map(|_| "<set>"))
            .finish_non_exhaustive()
    }
}

/// Builds a [`PgStore`].
#[must_use]
pub struct PgStoreBuilder {
    url: String,
    schema: String,
    max_connections: u32,
    listen: bool,
    clock: Arc<dyn Clock>,
    database_clock: bool,
    key: Option<TokenKey>,
    #[cfg(feature = "ai")]
    ai_cache_ttl: Duration,
}

impl fmt::Debug for PgStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may hold a password.
        f.debug_struct("PgStoreBuilder")
            .field("schema", &self.schema)
            .field("max_connections", &self.max_connections)
            .finish_non_exhaustive()
    }
}

impl PgStore {
    /// A builder for the database at `url` (`postgres://user@host:5432/db`).
    pub fn builder(url: impl Into<String>) -> PgStoreBuilder {
        PgStoreBuilder {
            url: url.into(),
            schema: "public".to_owned(),
            max_connections: 10,
            listen: true,
            clock: Arc::new(SystemClock),
            database_clock: true,
            key: None,
            #[cfg(feature = "ai")]
            ai_cache_ttl: crate::DEFAULT_AI_CACHE_TTL,
        }
    }

    /// Drops this store's schema with every table in it, for tests and benchmarks that create
    /// a schema of their own. Refuses `public`.
    pub async fn drop_schema(&self) -> Result<()> {
        let schema = &self.inner.schema;
        if schema == "public" {
            return Err(Error::invalid_input("refusing to drop the public schema"));
        }
        // The name was checked to be [a-z0-9_]+ when the store was built.
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"
        )))
        .execute(&self.inner.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    /// The time every transition is judged and stamped by: the database's clock (this
    /// process's clock corrected by the measured offset), so that processes whose clocks
    /// disagree still agree on what is due, which lease has expired and who leads.
    pub(crate) fn now(&self) -> time::OffsetDateTime {
        let local = self.inner.clock.now();
        match &self.inner.offset {
            Some(o) => local + time::Duration::microseconds(o.load(Ordering::Relaxed)),
            None => local,
        }
    }

    /// How far the database's clock is ahead of this process's.
    pub(crate) fn offset(&self) -> time::Duration {
        self.inner
            .offset
            .as_ref()
            .map_or(time::Duration::ZERO, |o| {
                time::Duration::microseconds(o.load(Ordering::Relaxed))
            })
    }

    pub(crate) fn pool(&self) -> &PgPool {
        &self.inner.pool
    }

    pub(crate) fn channel(&self) -> &str {
        &self.inner.channel
    }

    pub(crate) fn wake_local(&self) {
        self.inner.wake.notify_waiters();
        self.inner.wake.notify_one();
    }
}

impl PgStoreBuilder {
    /// The schema the tables live in (`public` by default; created if missing). Separate
    /// schemas are separate queues.
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = schema.into();
        self
    }

    /// The most connections this process opens for statements (10 by default); the `LISTEN`
    /// connection, when [listening](Self::listen), is one more.
    pub fn max_connections(mut self, n: u32) -> Self {
        self.max_connections = n.max(1);
        self
    }

    /// Whether to `LISTEN` for other processes' wake-ups (on by default; one more connection).
    pub fn listen(mut self, on: bool) -> Self {
        self.listen = on;
        self
    }

    /// This process's clock (the system clock by default). With the
    /// [database clock](Self::database_clock) on, as by default, it is corrected by its
    /// measured distance to the database's clock; turn that off to stamp transitions with this
    /// clock alone (tests that move time by hand).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Whether due times, leases, the rescue cutoff and leadership are judged by the
    /// database's clock (on by default), measured against [`clock`](Self::clock) when the
    /// store is built and every 10 s after, so that a machine whose clock is minutes fast or
    /// slow never publishes early, never rescues a live lease and never keeps leadership.
    pub fn database_clock(mut self, on: bool) -> Self {
        self.database_clock = on;
        self
    }

    /// The key credentials are encrypted with; without it the credential store refuses to work.
    pub fn encryption_key(mut self, key: TokenKey) -> Self {
        self.key = Some(key);
        self
    }

    /// Connects, creates the schema if needed and applies missing migrations.
    pub async fn build(self) -> Result<PgStore> {
        let schema = self.schema;
        if schema.is_empty()
            || schema.len() > 50
            || !schema
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return Err(Error::invalid_input(
                "a schema name is 1 to 50 characters of a-z, 0-9 and _",
            ));
        }
        let options = PgConnectOptions::from_str(&self.url)
            .map_err(|_| Error::invalid_input("the PostgreSQL URL cannot be parsed"))?
            // Queue scans must walk `jobs_due` in order and stop after the batch. Right after a
            // burst of scheduling the statistics are stale, and with them PostgreSQL prefers a
            // bitmap scan that reads and sorts every due row for each claim (seen: 120-210 ms
            // per claim of 2 000 in a queue of 100 000 instead of a few). No query of this
            // store needs a bitmap scan, so its connections do without.
            .options([
                ("search_path", schema.as_str()),
                ("enable_bitmapscan", "off"),
            ]);
        let pool = PgPoolOptions::new()
            // The listener keeps one pooled connection for itself; statements get the rest.
            .max_connections(self.max_connections.saturating_add(u32::from(self.listen)))
            .connect_with(options)
            .await
            .map_err(db_err)?;
        let channel = format!("cmis_jobs_{schema}");
        migrate(&pool, &schema).await?;
        let wake = Arc::new(tokio::sync::Notify::new());
        let listener = if self.listen {
            let mut listener = PgListener::connect_with(&pool).await.map_err(db_err)?;
            listener.listen(&channel).await.map_err(db_err)?;
            let wake = Arc::clone(&wake);
            Some(tokio::spawn(async move {
                loop {
                    match listener.recv().await {
                        Ok(_) => {
                            wake.notify_waiters();
                            wake.notify_one();
                        }
                        // The listener reconnects by itself on the next recv; meanwhile
                        // workers fall back to polling.
                        Err(e) => {
                            tracing::warn!(error = %e, "LISTEN connection lost; retrying");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                    }
                }
            }))
        } else {
            None
        };
        let (offset, clock_task) = if self.database_clock {
            let offset = Arc::new(AtomicI64::new(measure_offset(&pool, &*self.clock).await?));
            let (pool, clock, shared) =
                (pool.clone(), Arc::clone(&self.clock), Arc::clone(&offset));
            let task = tokio::spawn(async move {
                loop {
                    tokio::time::sleep(CLOCK_EVERY).await;
                    match measure_offset(&pool, &*clock).await {
                        Ok(o) => shared.store(o, Ordering::Relaxed),
                        Err(e) => {
                            tracing::warn!(error = %e, "reading the database's clock failed; keeping the last offset")
                        }
                    }
                }
            });
            (Some(offset), Some(task))
        } else {
            (None, None)
        };
        Ok(PgStore {
            inner: Arc::new(Inner {
                pool,
                clock: self.clock,
                offset,
                too_new: AtomicI64::new(0),
                clock_task,
                key: self.key,
                wake,
                channel,
                schema,
                listener,
                #[cfg(feature = "ai")]
                ai_cache_ttl: self.ai_cache_ttl,
            }),
        })
    }
}

/// How often the distance to the database's clock is measured again.
const CLOCK_EVERY: Duration = Duration::from_secs(10);

/// The database's clock minus `clock`, in microseconds, from one round trip (its midpoint).
async fn measure_offset(pool: &PgPool, clock: &dyn Clock) -> Result<i64> {
    let before = crate::stored::micros(clock.now());
    let db: i64 =
        sqlx::query_scalar("SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint")
            .fetch_one(pool)
            .await
            .map_err(db_err)?;
    let after = crate::stored::micros(clock.now());
    Ok(db.saturating_sub(before / 2 + after / 2))
}

/// The database's clock in microseconds, as SQL.
pub(super) const DB_NOW: &str = "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint";

/// Processes that may be alive and claim as schema `applied` does: registered ones of an older
/// schema than `change`, and unregistered holders of a live lease or of the leadership (a
/// process older than the registry).
async fn alive_elsewhere(
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    applied: i64,
    change: i64,
) -> Result<Vec<String>> {
    let stale = crate::stored::duration_micros(upgrade::PROCESS_STALE_AFTER);
    let registered = if applied >= 7 {
        format!("SELECT id FROM processes WHERE heartbeat_at > {DB_NOW} - {stale}")
    } else {
        "SELECT NULL::text WHERE false".to_owned()
    };
    let sql = format!(
        "SELECT lease_owner AS who FROM jobs WHERE lease_owner IS NOT NULL \
            AND lease_expires_at > {DB_NOW} AND lease_owner NOT IN ({registered}) \
         UNION SELECT owner FROM leaders WHERE expires_at > {DB_NOW} \
            AND owner NOT IN ({registered})"
    );
    let mut alive: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .fetch_all(&mut **tx)
        .await
        .map_err(db_err)?;
    if applied >= 7 {
        let old: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT id || ' (cmis ' || cmis_version || ', schema ' || schema_version || ')' \
             FROM processes WHERE heartbeat_at > {DB_NOW} - {stale} AND schema_version < $1"
        )))
        .bind(change)
        .fetch_all(&mut **tx)
        .await
        .map_err(db_err)?;
        alive.extend(old);
    }
    alive.sort();
    alive.dedup();
    Ok(alive)
}

/// Applies missing migrations, serialised across processes by a transaction-level advisory
/// lock, each in the same transaction as its version row.
async fn migrate(pool: &PgPool, schema: &str) -> Result<()> {
    let mut tx = pool.begin().await.map_err(db_err)?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('cmis_scheduler_migrations'))")
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    // The name was checked to be [a-z0-9_]+, so quoting it is enough.
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "CREATE SCHEMA IF NOT EXISTS \"{schema}\"; \
         CREATE TABLE IF NOT EXISTS \"{schema}\".cmis_migrations \
         (version BIGINT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
    )))
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    let applied: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(version), 0)::BIGINT FROM cmis_migrations")
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
    let known = schema::MIGRATIONS.len();
    if applied > i64::try_from(known).unwrap_or(i64::MAX) {
        return Err(upgrade::schema_too_new(applied, known));
    }
    if applied > 0
        && let Some(change) = upgrade::claim_change(applied, known)
    {
        let alive = alive_elsewhere(&mut tx, applied, change).await?;
        if !alive.is_empty() {
            return Err(upgrade::upgrade_refused(applied, change, &alive));
        }
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
        sqlx::query("INSERT INTO cmis_migrations (version) VALUES ($1)")
            .bind(version)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
    }
    tx.commit().await.map_err(db_err)
}
