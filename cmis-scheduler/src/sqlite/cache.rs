//! cmis-ai's `CacheStore` on SQLite: the `ai_cache` table.

use std::time::Duration;

use async_trait::async_trait;
use cmis_ai::{CacheKey, CacheStore};
use cmis_core::{Generated, Result};

use super::{SqliteStore, SqliteStoreBuilder};
use crate::ai_cache::{PURGE_BATCH, decode, encode, expires_at};
use crate::stored::db_err;
use crate::stored::micros;

const GET: &str = "SELECT value FROM ai_cache WHERE key = ?1 AND expires_at > ?2";

const UPSERT: &str = "INSERT INTO ai_cache (key, value, size, created_at, expires_at) \
     VALUES (?1, ?2, ?3, ?4, ?5) \
     ON CONFLICT (key) DO UPDATE SET value = excluded.value, size = excluded.size, \
     created_at = excluded.created_at, expires_at = excluded.expires_at";

const PURGE: &str = "DELETE FROM ai_cache WHERE key IN \
     (SELECT key FROM ai_cache WHERE expires_at <= ?1 ORDER BY expires_at LIMIT ?2)";

const PURGE_ALL: &str = "DELETE FROM ai_cache WHERE expires_at <= ?1";

impl SqliteStoreBuilder {
    /// How long an answer stored through [`CacheStore`] serves lookups
    /// ([`DEFAULT_AI_CACHE_TTL`](crate::DEFAULT_AI_CACHE_TTL), 24 h, by default). The lifetime
    /// is fixed when the answer is written, by the store's clock.
    pub fn ai_cache_ttl(mut self, ttl: Duration) -> Self {
        self.ai_cache_ttl = ttl;
        self
    }
}

impl SqliteStore {
    /// Deletes every expired AI cache entry and returns how many there were. Writes already
    /// delete a few expired entries each; this is for a maintenance job that wants the table
    /// small at once.
    pub async fn purge_expired_ai_cache(&self) -> Result<u64> {
        let done = sqlx::query(PURGE_ALL)
            .bind(micros(self.now()))
            .execute(&self.inner.writer)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected())
    }
}

/// The AI generator's persistent cache on this database: an answer lives
/// [`ai_cache_ttl`](SqliteStoreBuilder::ai_cache_ttl) from when it was written, a later write of
/// the same key replaces it (and its lifetime), and expired entries are never served. The key
/// carries the tenant inside its hash, so tenants never share an entry.
#[async_trait]
impl CacheStore for SqliteStore {
    async fn lookup(&self, key: &CacheKey) -> Result<Option<Generated>> {
        let text: Option<String> = sqlx::query_scalar(GET)
            .bind(key.as_str())
            .bind(micros(self.now()))
            .fetch_optional(&self.inner.reader)
            .await
            .map_err(db_err)?;
        text.as_deref().map(decode).transpose()
    }

    async fn insert(&self, key: &CacheKey, value: &Generated) -> Result<()> {
        let (text, size) = encode(value)?;
        let now = self.now();
        let mut tx = self
            .inner
            .writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db_err)?;
        sqlx::query(PURGE)
            .bind(micros(now))
            .bind(PURGE_BATCH)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        sqlx::query(UPSERT)
            .bind(key.as_str())
            .bind(text)
            .bind(size)
            .bind(micros(now))
            .bind(expires_at(now, self.inner.ai_cache_ttl))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }
}
