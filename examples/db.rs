//! The database the `schedule` and `refresh-tokens` examples open: the job store and the
//! credential store (tokens encrypted with `CMIS_SECRET_KEY`) are one object.

use std::sync::Arc;

use cmis::scheduler::{PgStore, ScheduleStore, SqliteStore, TokenKey};
use cmis::{CredentialStore, Error, Result};

use crate::cli::env;

/// An open database.
#[derive(Clone)]
pub struct Db {
    /// The job store.
    pub jobs: Arc<dyn ScheduleStore>,
    /// The credential store (the same database).
    pub credentials: Arc<dyn CredentialStore>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").finish_non_exhaustive()
    }
}

/// The credential key from `CMIS_SECRET_KEY` (64 hex characters).
pub fn secret_key() -> Result<TokenKey> {
    let raw = env("CMIS_SECRET_KEY").ok_or_else(|| {
        Error::invalid_input("CMIS_SECRET_KEY is not set: give 64 hex characters (32 random bytes)")
    })?;
    let bytes = hex::decode(raw.trim())
        .ok()
        .filter(|b| b.len() == 32)
        .ok_or_else(|| Error::invalid_input("CMIS_SECRET_KEY must be 64 hex characters"))?;
    TokenKey::from_slice(&bytes)
}

/// Opens `url` (`sqlite://PATH` or `postgres://...`) with the key from `CMIS_SECRET_KEY`,
/// running the store's migrations.
pub async fn open(url: &str) -> Result<Db> {
    let key = secret_key()?;
    if let Some(path) = url.strip_prefix("sqlite://") {
        let store = Arc::new(
            SqliteStore::builder()
                .path(path)
                .encryption_key(key)
                .build()
                .await?,
        );
        return Ok(Db {
            jobs: store.clone(),
            credentials: store,
        });
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store = Arc::new(PgStore::builder(url).encryption_key(key).build().await?);
        return Ok(Db {
            jobs: store.clone(),
            credentials: store,
        });
    }
    Err(Error::invalid_input(format!(
        "--db must be sqlite://PATH or postgres://..., not {url:?}"
    )))
}
