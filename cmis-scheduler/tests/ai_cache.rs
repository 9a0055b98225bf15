//! The database stores as cmis-ai's `CacheStore`: the same cases on SQLite (a fresh file per
//! test) and PostgreSQL (from `CMIS_TEST_POSTGRES_URL`, skipped with a message when it is unset;
//! a fresh schema per test, dropped afterwards). Time is a manual clock, so expiry needs no
//! sleep; the generator case counts provider calls on a wiremock server.
#![cfg(all(feature = "ai", feature = "sqlite"))]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cmis_ai::{AiGenerator, CacheKey, CacheStore, Limits, OpenAiClient};
use cmis_core::{
    Clock, ContentGenerator, ErrorKind, GenerateRequest, Generated, GenerationTask, Platform,
    Provenance, SecretString,
};
use cmis_scheduler::{MAX_AI_CACHE_ENTRY_BYTES, SqliteStore};
use time::OffsetDateTime;
use time::macros::datetime;
use wiremock::matchers::{any, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const T0: OffsetDateTime = datetime!(2026-06-01 12:00 UTC);
const TTL: Duration = Duration::from_secs(3600);

#[derive(Debug)]
struct ManualClock(Mutex<OffsetDateTime>);

impl ManualClock {
    fn new() -> Arc<Self> {
        Arc::new(Self(Mutex::new(T0)))
    }
    fn advance(&self, d: Duration) {
        *self.0.lock().unwrap() += d;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap()
    }
}

// ---------------------------------------------------------------------------------------------
// Backends.

fn unique(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
        % 1_000_000_000_000;
    format!(
        "{prefix}_{}_{nanos}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// One database (an SQLite file or a PostgreSQL schema) that stores are opened on, and
/// removed when the test ends.
enum Db {
    Sqlite(PathBuf),
    #[cfg(feature = "postgres")]
    Pg {
        url: String,
        schema: String,
    },
}

/// A store on a [`Db`].
#[derive(Clone)]
enum Store {
    Sqlite(Arc<SqliteStore>),
    #[cfg(feature = "postgres")]
    Pg(Arc<cmis_scheduler::PgStore>),
}

/// One row of `ai_cache`, as stored: key, value, size, created_at, expires_at.
type Row = (String, String, i64, i64, i64);

const ROWS: &str = "SELECT key, value, size, created_at, expires_at FROM ai_cache ORDER BY key";

impl Db {
    fn sqlite() -> Option<Self> {
        Some(Self::Sqlite(
            std::env::temp_dir().join(format!("{}.db", unique("cmis-ai-cache"))),
        ))
    }

    #[cfg(feature = "postgres")]
    fn postgres() -> Option<Self> {
        match std::env::var("CMIS_TEST_POSTGRES_URL") {
            Ok(url) if !url.is_empty() => Some(Self::Pg {
                url,
                schema: unique("cmis_ai"),
            }),
            _ => {
                eprintln!("skipping: CMIS_TEST_POSTGRES_URL is not set");
                None
            }
        }
    }

    /// A store on this database (migrations run on every open).
    async fn open(&self, clock: Arc<ManualClock>, ttl: Duration) -> Store {
        match self {
            Self::Sqlite(path) => Store::Sqlite(Arc::new(
                SqliteStore::builder()
                    .path(path)
                    .clock(clock)
                    .database_clock(false)
                    .ai_cache_ttl(ttl)
                    .build()
                    .await
                    .unwrap(),
            )),
            #[cfg(feature = "postgres")]
            Self::Pg { url, schema } => Store::Pg(Arc::new(
                cmis_scheduler::PgStore::builder(url)
                    .schema(schema)
                    .max_connections(4)
                    .listen(false)
                    .clock(clock)
                    .database_clock(false)
                    .ai_cache_ttl(ttl)
                    .build()
                    .await
                    .unwrap(),
            )),
        }
    }

    /// Every row of `ai_cache`, read past the store.
    async fn rows(&self) -> Vec<Row> {
        match self {
            Self::Sqlite(path) => {
                let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
                    .await
                    .unwrap();
                let rows = sqlx::query_as(ROWS).fetch_all(&pool).await.unwrap();
                pool.close().await;
                rows
            }
            #[cfg(feature = "postgres")]
            Self::Pg { url, schema } => {
                let pool = sqlx::PgPool::connect(url).await.unwrap();
                let sql = ROWS.replace("ai_cache", &format!("\"{schema}\".ai_cache"));
                let rows = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .fetch_all(&pool)
                    .await
                    .unwrap();
                pool.close().await;
                rows
            }
        }
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        match self {
            Self::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut f = path.clone().into_os_string();
                    f.push(suffix);
                    let _ = std::fs::remove_file(f);
                }
            }
            #[cfg(feature = "postgres")]
            Self::Pg { url, schema } => {
                let (url, schema) = (url.clone(), schema.clone());
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
    }
}

impl Store {
    fn cache(&self) -> Arc<dyn CacheStore> {
        match self {
            Self::Sqlite(s) => s.clone(),
            #[cfg(feature = "postgres")]
            Self::Pg(s) => s.clone(),
        }
    }

    async fn purge(&self) -> u64 {
        match self {
            Self::Sqlite(s) => s.purge_expired_ai_cache().await.unwrap(),
            #[cfg(feature = "postgres")]
            Self::Pg(s) => s.purge_expired_ai_cache().await.unwrap(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers.

fn request(tenant: &str, brief: &str) -> GenerateRequest {
    GenerateRequest::new(
        cmis_core::TenantId::new(tenant),
        GenerationTask::Caption,
        Platform::Instagram,
        brief,
    )
}

fn key(tenant: &str, brief: &str) -> CacheKey {
    let rules = Limits::default().rules(Platform::Instagram).unwrap();
    CacheKey::new(&request(tenant, brief), "default", &rules)
}

fn answer(text: &str) -> Generated {
    let mut provenance = Provenance::new("openai", "gpt-4o-mini");
    provenance.request_id = Some("req_1".into());
    provenance.cost_usd = Some(0.0018);
    Generated::new(text, vec!["#Bakery".into()], provenance)
}

fn micros(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000).unwrap()
}

// ---------------------------------------------------------------------------------------------
// The cases, each run on every backend.

async fn a_miss_then_a_hit_then_an_overwrite(db: Db) {
    let store = db.open(ManualClock::new(), TTL).await.cache();
    let k = key("acme", "fresh bread");
    assert_eq!(store.lookup(&k).await.unwrap(), None);
    store.insert(&k, &answer("first")).await.unwrap();
    assert_eq!(store.lookup(&k).await.unwrap(), Some(answer("first")));
    store.insert(&k, &answer("second")).await.unwrap();
    assert_eq!(store.lookup(&k).await.unwrap(), Some(answer("second")));
    assert_eq!(store.lookup(&key("acme", "other")).await.unwrap(), None);
    assert_eq!(db.rows().await.len(), 1);
}

async fn a_row_holds_key_value_size_and_times(db: Db) {
    let store = db.open(ManualClock::new(), TTL).await.cache();
    let k = key("acme", "fresh bread");
    let value = answer("Fresh bread today");
    store.insert(&k, &value).await.unwrap();
    let rows = db.rows().await;
    let [(stored_key, text, size, created, expires)] = rows.as_slice() else {
        panic!("one row expected, got {rows:?}");
    };
    assert_eq!(stored_key, k.as_str());
    assert_eq!(stored_key.len(), 64);
    assert_eq!(serde_json::from_str::<Generated>(text).unwrap(), value);
    assert_eq!(*size, i64::try_from(text.len()).unwrap());
    assert_eq!(*created, micros(T0));
    assert_eq!(*expires, micros(T0 + TTL));
}

async fn entries_expire_after_the_ttl_and_a_rewrite_renews_them(db: Db) {
    let clock = ManualClock::new();
    let store = db.open(clock.clone(), TTL).await.cache();
    let k = key("acme", "fresh bread");
    store.insert(&k, &answer("first")).await.unwrap();
    clock.advance(TTL - Duration::from_secs(1));
    assert!(store.lookup(&k).await.unwrap().is_some(), "one second left");
    clock.advance(Duration::from_secs(1));
    assert_eq!(
        store.lookup(&k).await.unwrap(),
        None,
        "expired at created + ttl"
    );
    // Written again, it lives a whole TTL from the new write.
    store.insert(&k, &answer("again")).await.unwrap();
    clock.advance(TTL - Duration::from_secs(1));
    assert_eq!(store.lookup(&k).await.unwrap(), Some(answer("again")));
    clock.advance(Duration::from_secs(1));
    assert_eq!(store.lookup(&k).await.unwrap(), None);
}

async fn a_zero_ttl_stores_nothing_that_serves(db: Db) {
    let store = db.open(ManualClock::new(), Duration::ZERO).await.cache();
    let k = key("acme", "fresh bread");
    store.insert(&k, &answer("first")).await.unwrap();
    assert_eq!(store.lookup(&k).await.unwrap(), None);
}

async fn tenants_never_share_an_entry(db: Db) {
    let store = db.open(ManualClock::new(), TTL).await.cache();
    let (a, b) = (
        key("tenant-a", "fresh bread"),
        key("tenant-b", "fresh bread"),
    );
    assert_ne!(a, b);
    store.insert(&a, &answer("for a")).await.unwrap();
    assert_eq!(store.lookup(&b).await.unwrap(), None);
    store.insert(&b, &answer("for b")).await.unwrap();
    assert_eq!(store.lookup(&a).await.unwrap(), Some(answer("for a")));
    assert_eq!(store.lookup(&b).await.unwrap(), Some(answer("for b")));
}

async fn expired_rows_are_deleted_by_later_writes_and_by_purge(db: Db) {
    let clock = ManualClock::new();
    let opened = db.open(clock.clone(), TTL).await;
    let store = opened.cache();
    for i in 0..3 {
        store
            .insert(&key("acme", &format!("old {i}")), &answer("old"))
            .await
            .unwrap();
    }
    clock.advance(TTL);
    // A write deletes expired rows (never its own key, which it replaces).
    store
        .insert(&key("acme", "old 0"), &answer("renewed"))
        .await
        .unwrap();
    let rows = db.rows().await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].0, key("acme", "old 0").as_str());
    assert_eq!(opened.purge().await, 0);
    clock.advance(TTL);
    assert_eq!(opened.purge().await, 1);
    assert!(db.rows().await.is_empty());
}

async fn an_oversized_answer_is_refused_and_not_stored(db: Db) {
    let store = db.open(ManualClock::new(), TTL).await.cache();
    let k = key("acme", "fresh bread");
    let big = answer(&"x".repeat(MAX_AI_CACHE_ENTRY_BYTES));
    let err = store.insert(&k, &big).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(db.rows().await.is_empty());
}

async fn concurrent_writers_on_two_stores_agree(db: Db) {
    let clock = ManualClock::new();
    let (one, two) = (
        db.open(clock.clone(), TTL).await.cache(),
        db.open(clock.clone(), TTL).await.cache(),
    );
    // Expired rows for every writer to purge at once.
    for i in 0..20 {
        one.insert(&key("acme", &format!("old {i}")), &answer("old"))
            .await
            .unwrap();
    }
    clock.advance(TTL);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..40 {
        let store = if i % 2 == 0 { one.clone() } else { two.clone() };
        tasks.spawn(async move {
            store
                .insert(&key("acme", "shared"), &answer(&format!("writer {i}")))
                .await
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap().unwrap();
    }
    let seen = one.lookup(&key("acme", "shared")).await.unwrap().unwrap();
    assert!(seen.text.starts_with("writer "), "{seen:?}");
    assert_eq!(
        two.lookup(&key("acme", "shared")).await.unwrap(),
        Some(seen)
    );
    assert_eq!(db.rows().await.len(), 1);
}

/// The generator's second level across a restart: the first process pays one provider call and
/// writes the store; a new process (a new store on the same database, a new generator with an
/// empty memory cache) is served from the store without calling the provider.
async fn a_generator_is_served_from_the_store_after_a_restart(db: Db) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(header("authorization", "Bearer sk-test"))
        .respond_with(ResponseTemplate::new(200).set_body_json(chat_completion()))
        .expect(1)
        .named("the one provider call")
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(599))
        .with_priority(u8::MAX)
        .expect(0)
        .named("unexpected request")
        .mount(&server)
        .await;
    let generator = |store: Arc<dyn CacheStore>| {
        AiGenerator::builder()
            .provider(
                OpenAiClient::builder()
                    .base_url(server.uri())
                    .api_key(SecretString::from("sk-test"))
                    .timeout(Duration::from_secs(5))
                    .build()
                    .unwrap(),
            )
            .cache_store(store)
            .build()
            .unwrap()
    };
    let req = request("acme", "our autumn menu launches friday with pumpkin soup");

    let first_store = db.open(ManualClock::new(), TTL).await;
    let first = generator(first_store.cache()).generate(&req).await.unwrap();
    assert!(!first.provenance.cached);
    assert_eq!(first.provenance.provider, "openai");
    drop(first_store);
    assert_eq!(db.rows().await.len(), 1);

    let second_store = db.open(ManualClock::new(), TTL).await;
    let second = generator(second_store.cache())
        .generate(&req)
        .await
        .unwrap();
    assert!(second.provenance.cached);
    assert_eq!(second.provenance.attempts, 0);
    assert_eq!(second.text, first.text);
    assert_eq!(second.hashtags, first.hashtags);
    assert_eq!(second.provenance.request_id, first.provenance.request_id);
    // `expect(1)` is checked here: exactly one call reached the provider.
    server.verify().await;
}

fn chat_completion() -> serde_json::Value {
    serde_json::json!({
        "id": "chatcmpl-cache-1",
        "object": "chat.completion",
        "created": 1_741_570_283,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "{\"variants\":[{\"text\":\"Our autumn menu lands Friday: pumpkin soup.\",\"hashtags\":[\"autumn menu\",\"PumpkinSoup\"]}]}",
                "refusal": null
            },
            "finish_reason": "stop"
        }],
        "usage": {"prompt_tokens": 1200, "completion_tokens": 300, "total_tokens": 1500}
    })
}

macro_rules! on_every_backend {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    if let Some(db) = super::Db::sqlite() {
                        super::$case(db).await;
                    }
                }
            )*
        }
        #[cfg(feature = "postgres")]
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    if let Some(db) = super::Db::postgres() {
                        super::$case(db).await;
                    }
                }
            )*
        }
    };
}

on_every_backend!(
    a_miss_then_a_hit_then_an_overwrite,
    a_row_holds_key_value_size_and_times,
    entries_expire_after_the_ttl_and_a_rewrite_renews_them,
    a_zero_ttl_stores_nothing_that_serves,
    tenants_never_share_an_entry,
    expired_rows_are_deleted_by_later_writes_and_by_purge,
    an_oversized_answer_is_refused_and_not_stored,
    concurrent_writers_on_two_stores_agree,
    a_generator_is_served_from_the_store_after_a_restart,
);
