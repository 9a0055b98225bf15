//! The database the soak runs on, opened the same way by the parent and by every worker.

use std::sync::Arc;

use cmis_core::{AuditSink, Clock, CredentialStore, Error, Result, SystemClock};
use cmis_scheduler::{PgStore, ScheduleStore, SqliteStore, TokenKey};

/// Which backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StoreKind {
    Sqlite,
    Postgres,
}

impl StoreKind {
    pub(crate) fn parse(s: &str) -> Result<Self> {
        match s {
            "sqlite" => Ok(Self::Sqlite),
            "postgres" | "postgresql" => Ok(Self::Postgres),
            other => Err(Error::invalid_input(format!(
                "--store must be sqlite or postgres, not {other:?}"
            ))),
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// Where the database is: a SQLite file, or a PostgreSQL URL and a schema of its own.
#[derive(Debug, Clone)]
pub(crate) struct Location {
    pub(crate) kind: StoreKind,
    pub(crate) url: String,
    pub(crate) schema: String,
}

/// An open database: jobs, credentials and audit records are one store.
#[derive(Clone)]
pub(crate) struct Db {
    pub(crate) jobs: Arc<dyn ScheduleStore>,
    pub(crate) credentials: Arc<dyn CredentialStore>,
    pub(crate) audit: Arc<dyn AuditSink>,
    pub(crate) pg: Option<Arc<PgStore>>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("jobs", &self.jobs)
            .finish_non_exhaustive()
    }
}

pub(crate) async fn open(at: &Location, key: &[u8; 32]) -> Result<Db> {
    open_with_clock(at, key, Arc::new(SystemClock)).await
}

/// Opens the database with the store judging time by `clock` (a worker's, maybe skewed).
pub(crate) async fn open_with_clock(
    at: &Location,
    key: &[u8; 32],
    clock: Arc<dyn Clock>,
) -> Result<Db> {
    match at.kind {
        StoreKind::Sqlite => {
            let path = at.url.strip_prefix("sqlite://").unwrap_or(&at.url);
            let store = Arc::new(
                SqliteStore::builder()
                    .path(path)
                    .clock(clock)
                    .encryption_key(TokenKey::from_bytes(*key))
                    .build()
                    .await?,
            );
            Ok(Db {
                jobs: store.clone(),
                credentials: store.clone(),
                audit: store,
                pg: None,
            })
        }
        StoreKind::Postgres => {
            let store = Arc::new(
                PgStore::builder(&at.url)
                    .schema(&at.schema)
                    .max_connections(8)
                    .clock(clock)
                    .encryption_key(TokenKey::from_bytes(*key))
                    .build()
                    .await?,
            );
            Ok(Db {
                jobs: store.clone(),
                credentials: store.clone(),
                audit: store.clone(),
                pg: Some(store),
            })
        }
    }
}
