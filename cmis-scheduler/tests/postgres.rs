//! The store conformance suite on PostgreSQL, from `CMIS_TEST_POSTGRES_URL` (skipped with a
//! message when unset). Every test gets its own schema, dropped afterwards.
#![cfg(feature = "postgres")]

mod conformance;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use cmis_scheduler::{PgStore, TokenKey};
use conformance::{DbHarness, Harness, ManualClock};

struct Pg {
    url: String,
    schema: Mutex<Option<String>>,
}

fn harness() -> Option<Pg> {
    match std::env::var("CMIS_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(Pg {
            url,
            schema: Mutex::new(None),
        }),
        _ => {
            eprintln!("skipping: CMIS_TEST_POSTGRES_URL is not set");
            None
        }
    }
}

fn unique_schema() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
        % 1_000_000_000_000;
    format!(
        "cmis_t_{}_{nanos}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

impl Pg {
    async fn open(&self, schema: &str, clock: Arc<ManualClock>) -> Arc<PgStore> {
        Arc::new(
            PgStore::builder(&self.url)
                .schema(schema)
                .max_connections(8)
                .clock(clock)
                .database_clock(false)
                .encryption_key(TokenKey::from_bytes([42; 32]))
                .build()
                .await
                .unwrap(),
        )
    }
}

impl Harness for Pg {
    type S = PgStore;

    async fn fresh(&self, clock: Arc<ManualClock>) -> Arc<PgStore> {
        let schema = unique_schema();
        *self.schema.lock().unwrap() = Some(schema.clone());
        self.open(&schema, clock).await
    }

    async fn reopen(&self, clock: Arc<ManualClock>) -> Arc<PgStore> {
        let schema = self.schema.lock().unwrap().clone().unwrap();
        self.open(&schema, clock).await
    }
}

impl DbHarness for Pg {
    async fn raw_credentials(&self) -> Vec<u8> {
        let schema = self.schema.lock().unwrap().clone().unwrap();
        let pool = sqlx::PgPool::connect(&self.url).await.unwrap();
        let sql = format!(
            "SELECT string_agg(tenant || platform || account || encode(sealed, 'escape'), '') \
             FROM \"{schema}\".credentials"
        );
        let text: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(&pool)
            .await
            .unwrap();
        text.unwrap_or_default().into_bytes()
    }

    async fn raw_sql(&self, sql: &str) -> Result<(), String> {
        let schema = self.schema.lock().unwrap().clone().unwrap();
        let pool = sqlx::PgPool::connect(&self.url)
            .await
            .map_err(|e| e.to_string())?;
        let sql = format!("SET search_path TO \"{schema}\"; {sql}");
        let r = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&pool)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string());
        pool.close().await;
        r
    }

    async fn drop_audit_guard(&self) {
        self.raw_sql(
            "DROP TRIGGER audit_no_change ON audit; DROP TRIGGER audit_no_truncate ON audit;",
        )
        .await
        .unwrap();
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        let Some(schema) = self.schema.lock().unwrap().take() else {
            return;
        };
        let url = self.url.clone();
        // Drop runs inside the test's runtime; clean up on a thread with its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                if let Ok(pool) = sqlx::PgPool::connect(&url).await {
                    let sql = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&pool).await;
                }
            });
        })
        .join();
    }
}

conformance_tests!(harness());
