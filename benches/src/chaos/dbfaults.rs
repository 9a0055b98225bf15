//! Database faults from outside the workers (`--db-faults RATE`), run by the parent beside the
//! statement faults each worker injects itself ([`FaultyStore`](super::faulty::FaultyStore)):
//!
//! - PostgreSQL: every [`EVERY`], each of the workers' connections (found by their
//!   `application_name`, which only the workers use) is terminated with probability RATE
//!   (`pg_terminate_backend`): a statement in flight fails, an idle connection is found dead
//!   on its next use, and the `LISTEN` connection must come back.
//! - SQLite: every [`EVERY`], with probability 4 × RATE, a connection of the parent holds the
//!   write lock (`BEGIN IMMEDIATE`) for 100 ms to 1 s, so that the workers' writes really meet
//!   `SQLITE_BUSY` and wait in the busy handler (at 0.05: the lock is held ~10 % of the time).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use cmis_core::{Error, Result};
use sqlx::ConnectOptions as _;

use super::db::{Location, StoreKind};

/// How often the parent strikes.
pub(crate) const EVERY: Duration = Duration::from_secs(1);

/// The faults running; they stop when this is dropped.
#[derive(Debug)]
pub(crate) struct DbChaos {
    task: tokio::task::JoinHandle<()>,
    /// Connections terminated (PostgreSQL) or write locks held (SQLite).
    pub(crate) strikes: Arc<AtomicU64>,
}

impl Drop for DbChaos {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn err(what: &str, e: &sqlx::Error) -> Error {
    Error::internal(format!("db faults: {what}: {e}"))
}

/// The `application_name` of the workers' connections.
pub(crate) fn app_name(schema_or_suffix: &str) -> String {
    format!("chaosw_{schema_or_suffix}")
}

/// `url` with the workers' `application_name` set.
pub(crate) fn worker_url(url: &str, app: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}application_name={app}")
}

/// Starts the faults at `rate`; `None` when the rate is 0.
pub(crate) async fn start(
    at: &Location,
    app: &str,
    rate: f64,
    seed: u64,
) -> Result<Option<DbChaos>> {
    if rate <= 0.0 {
        return Ok(None);
    }
    let strikes = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&strikes);
    let mut rng = fastrand::Rng::with_seed(seed);
    let task = match at.kind {
        StoreKind::Postgres => {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect(&at.url)
                .await
                .map_err(|e| err("cannot connect", &e))?;
            let app = app.to_owned();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(EVERY).await;
                    let pids: Vec<i32> = match sqlx::query_scalar(
                        "SELECT pid FROM pg_stat_activity WHERE application_name = $1",
                    )
                    .bind(&app)
                    .fetch_all(&pool)
                    .await
                    {
                        Ok(p) => p,
                        Err(e) => {
                            eprintln!("chaos: db faults: listing connections failed: {e}");
                            continue;
                        }
                    };
                    for pid in pids {
                        if rng.f64() < rate
                            && sqlx::query("SELECT pg_terminate_backend($1)")
                                .bind(pid)
                                .execute(&pool)
                                .await
                                .is_ok()
                        {
                            counter.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
        }
        StoreKind::Sqlite => {
            let path = at.url.strip_prefix("sqlite://").unwrap_or(&at.url);
            let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(path)
                .busy_timeout(Duration::from_secs(30))
                .connect()
                .await
                .map_err(|e| err("cannot open the database", &e))?;
            let chance = (rate * 4.0).min(1.0);
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(EVERY).await;
                    if rng.f64() >= chance {
                        continue;
                    }
                    let hold = Duration::from_millis(rng.u64(100..1000));
                    if let Err(e) = sqlx::raw_sql("BEGIN IMMEDIATE").execute(&mut conn).await {
                        eprintln!("chaos: db faults: BEGIN IMMEDIATE failed: {e}");
                        continue;
                    }
                    counter.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(hold).await;
                    if let Err(e) = sqlx::raw_sql("ROLLBACK").execute(&mut conn).await {
                        eprintln!("chaos: db faults: ROLLBACK failed: {e}");
                    }
                }
            })
        }
    };
    Ok(Some(DbChaos { task, strikes }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workers_url_names_them() {
        assert_eq!(
            worker_url("postgres://u@h/db", "chaosw_x"),
            "postgres://u@h/db?application_name=chaosw_x"
        );
        assert_eq!(
            worker_url("postgres://u@h/db?sslmode=disable", "a"),
            "postgres://u@h/db?sslmode=disable&application_name=a"
        );
    }
}
