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
        self.try_open(schema, clock).await.unwrap()
    }

    async fn try_open(
        &self,
        schema: &str,
        clock: Arc<ManualClock>,
    ) -> Result<Arc<PgStore>, String> {
        PgStore::builder(&self.url)
            .schema(schema)
            .max_connections(8)
            .clock(clock)
            .database_clock(false)
            .encryption_key(TokenKey::from_bytes([42; 32]))
            .build()
            .await
            .map(Arc::new)
            .map_err(|e| e.to_string())
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
    async fn try_reopen(&self, clock: Arc<ManualClock>) -> Result<Arc<PgStore>, String> {
        let schema = self.schema.lock().unwrap().clone().unwrap();
        self.try_open(&schema, clock).await
    }

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

/// Review K2 and item 7: a migration that changes how jobs are claimed (5) refuses to run while
/// a process that claims the old way holds a lease, naming it; and rows an older binary leased
/// after that migration (stored state `publishing`) are rescued, never left publishing forever.
#[tokio::test]
async fn claim_changing_migrations_wait_for_older_processes() {
    use cmis_core::{AccountRef, Platform, Post, PostKey, Target, TenantId};
    use cmis_scheduler::{JobState, ScheduleStore};
    use std::time::Duration;
    let Some(h) = harness() else { return };
    let clock = ManualClock::new();
    let s = h.fresh(clock.clone()).await;
    let tenant = TenantId::new("a");
    let target = Target::feed(AccountRef::new(
        cmis_core::TenantId::new("a"),
        Platform::Facebook,
        "page",
    ));
    let mut ids = Vec::new();
    for p in ["p1", "p2"] {
        let job = s
            .schedule(
                &tenant,
                &PostKey::new(p),
                &Post::new().with_text(p),
                std::slice::from_ref(&target),
                conformance::T0,
            )
            .await
            .unwrap();
        ids.push(job[0].id.get());
    }
    // An old binary (before migration 5) leased p1 after the migration: it stored 'publishing'.
    let far = i64::MAX / 2;
    h.raw_sql(&format!(
        "UPDATE jobs SET state = 'publishing', lease_owner = 'old-worker', \
         lease_expires_at = {far}, started_at = 1, claimed_from = 'scheduled', \
         fencing_token = fencing_token + 1 WHERE id = {}",
        ids[0]
    ))
    .await
    .unwrap();
    // A database still at version 4 would now migrate past 5: refused, naming the process.
    h.raw_sql("DELETE FROM cmis_migrations WHERE version > 4")
        .await
        .unwrap();
    let refused = h.try_reopen(clock.clone()).await.unwrap_err();
    assert!(refused.contains("old-worker"), "{refused}");
    assert!(
        refused.contains("version 4") && refused.contains("version 5"),
        "{refused}"
    );
    h.raw_sql("INSERT INTO cmis_migrations (version) VALUES (5), (6), (7)")
        .await
        .unwrap();
    // Once the old process's lease has run out, its job is rescued into reconciliation.
    h.raw_sql(&format!(
        "UPDATE jobs SET lease_expires_at = 0 WHERE id = {}",
        ids[0]
    ))
    .await
    .unwrap();
    clock.advance(Duration::from_secs(1));
    let rescued = s.rescue_expired(100).await.unwrap();
    assert_eq!(rescued.len(), 1);
    assert_eq!(rescued[0].state, JobState::UnknownOutcome);
}
