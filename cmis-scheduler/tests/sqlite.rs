//! The store conformance suite on SQLite (a fresh WAL file per test).
#![cfg(feature = "sqlite")]

mod conformance;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use cmis_scheduler::{SqliteStore, TokenKey};
use conformance::{DbHarness, Harness, ManualClock};

struct Sqlite {
    path: Mutex<Option<PathBuf>>,
}

fn harness() -> Option<Sqlite> {
    Some(Sqlite {
        path: Mutex::new(None),
    })
}

fn unique_path() -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    std::env::temp_dir().join(format!(
        "cmis-sched-test-{}-{nanos}-{}.db",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ))
}

async fn open(path: &PathBuf, clock: Arc<ManualClock>) -> Arc<SqliteStore> {
    try_open(path, clock).await.unwrap()
}

async fn try_open(path: &PathBuf, clock: Arc<ManualClock>) -> Result<Arc<SqliteStore>, String> {
    SqliteStore::builder()
        .path(path)
        .clock(clock)
        .database_clock(false)
        .encryption_key(TokenKey::from_bytes([42; 32]))
        .build()
        .await
        .map(Arc::new)
        .map_err(|e| e.to_string())
}

impl Harness for Sqlite {
    type S = SqliteStore;

    async fn fresh(&self, clock: Arc<ManualClock>) -> Arc<SqliteStore> {
        let path = unique_path();
        *self.path.lock().unwrap() = Some(path.clone());
        open(&path, clock).await
    }

    async fn reopen(&self, clock: Arc<ManualClock>) -> Arc<SqliteStore> {
        let path = self.path.lock().unwrap().clone().unwrap();
        open(&path, clock).await
    }
}

impl DbHarness for Sqlite {
    async fn try_reopen(&self, clock: Arc<ManualClock>) -> Result<Arc<SqliteStore>, String> {
        let path = self.path.lock().unwrap().clone().unwrap();
        try_open(&path, clock).await
    }

    async fn raw_credentials(&self) -> Vec<u8> {
        // The main file and its write-ahead log: every byte on disk.
        let path = self.path.lock().unwrap().clone().unwrap();
        let mut bytes = std::fs::read(&path).unwrap_or_default();
        let mut wal = path.into_os_string();
        wal.push("-wal");
        bytes.extend(std::fs::read(wal).unwrap_or_default());
        bytes
    }

    async fn raw_sql(&self, sql: &str) -> Result<(), String> {
        use sqlx::Connection;
        let path = self.path.lock().unwrap().clone().unwrap();
        let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
            .await
            .map_err(|e| e.to_string())?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&mut conn)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    async fn drop_audit_guard(&self) {
        self.raw_sql("DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;")
            .await
            .unwrap();
    }
}

impl Drop for Sqlite {
    fn drop(&mut self) {
        if let Some(p) = self.path.lock().unwrap().take() {
            for suffix in ["", "-wal", "-shm"] {
                let mut f = p.clone().into_os_string();
                f.push(suffix);
                let _ = std::fs::remove_file(f);
            }
        }
    }
}

conformance_tests!(harness());

#[tokio::test]
async fn in_memory_store_works() {
    use cmis_core::{AccountRef, Platform, Post, PostKey, Target, TenantId};
    use cmis_scheduler::ScheduleStore;
    let s = SqliteStore::builder().in_memory().build().await.unwrap();
    let t = TenantId::new("a");
    let jobs = s
        .schedule(
            &t,
            &PostKey::new("p"),
            &Post::new(),
            &[Target::feed(AccountRef::new(
                cmis_core::TenantId::new("a"),
                Platform::Facebook,
                "1",
            ))],
            time::OffsetDateTime::now_utc(),
        )
        .await
        .unwrap();
    let claimed = s
        .claim("w", 5, std::time::Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].job.id, jobs[0].id);
}
