//! Benchmarks of cmis, as criterion benches and as binaries that print one final `key=value`
//! line. Run them with `cargo bench -p cmis-benches` or `cargo run --release -p cmis-benches --bin NAME`.
//!
//! This library holds what the scheduler benchmarks share: opening a fresh store from
//! `--store`/`--url`, and a token provider for publishers that need none.

use std::sync::Arc;

use async_trait::async_trait;
use cmis_core::{AccessToken, AccountRef, Error, Result, TokenProvider};
use cmis_scheduler::{PgStore, ScheduleStore, SqliteStore};

/// A fresh store for one benchmark run; [`BenchStore::close`] removes what it created.
#[derive(Debug)]
pub struct BenchStore {
    /// The store.
    pub store: Arc<dyn ScheduleStore>,
    pg: Option<(Arc<PgStore>, String)>,
}

impl BenchStore {
    /// Opens `kind` (`sqlite` or `postgres`) at `url`: for SQLite a path (or `sqlite://path`)
    /// that must not exist yet; for PostgreSQL a database URL, in which a new schema is made.
    pub async fn open(kind: &str, url: &str, connections: u32) -> Result<Self> {
        match kind {
            "sqlite" => {
                let path = url.strip_prefix("sqlite://").unwrap_or(url);
                if path.is_empty() || std::path::Path::new(path).exists() {
                    return Err(Error::invalid_input(
                        "--url must name a new SQLite file (it is not overwritten)",
                    ));
                }
                let store = SqliteStore::builder().path(path).build().await?;
                Ok(Self {
                    store: Arc::new(store),
                    pg: None,
                })
            }
            "postgres" => {
                if url.is_empty() {
                    return Err(Error::invalid_input(
                        "--url must name a PostgreSQL database",
                    ));
                }
                let schema = format!("cmis_bench_{}", std::process::id());
                let store = Arc::new(
                    PgStore::builder(url)
                        .schema(&schema)
                        .max_connections(connections)
                        .build()
                        .await?,
                );
                Ok(Self {
                    store: store.clone(),
                    pg: Some((store, schema)),
                })
            }
            other => Err(Error::invalid_input(format!(
                "--store {other:?}: expected sqlite or postgres"
            ))),
        }
    }

    /// Drops the PostgreSQL schema made by [`open`](Self::open) (the SQLite file is kept).
    pub async fn close(self) {
        if let Some((store, schema)) = self.pg
            && let Err(e) = store.drop_schema().await
        {
            eprintln!("could not drop schema {schema}: {e}");
        }
    }
}

/// Runs a scheduler benchmark's `main`: parses its arguments with `parse` (printing `usage` on
/// an error), runs `body` on a single-threaded tokio runtime and prints the line it returns as
/// the final `key=value` line on standard output.
pub fn run_bench<A, P, B, F>(name: &str, usage: &str, parse: P, body: B) -> std::process::ExitCode
where
    P: FnOnce() -> std::result::Result<A, lexopt::Error>,
    B: FnOnce(A) -> F,
    F: std::future::Future<Output = Result<String>>,
{
    use std::io::Write;
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{name}: {e}\nusage: {usage}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start tokio: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(body(args)) {
        Ok(line) => {
            let _ = writeln!(std::io::stdout().lock(), "{line}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{name} failed: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// For publishers that need no token.
#[derive(Debug, Clone, Copy)]
pub struct NoTokens;

#[async_trait]
impl TokenProvider for NoTokens {
    async fn access_token(&self, _: &AccountRef) -> Result<AccessToken> {
        Err(Error::unsupported(
            "this benchmark's publisher needs no token",
        ))
    }
    async fn invalidate(&self, _: &AccountRef, _: &AccessToken) {}
}
