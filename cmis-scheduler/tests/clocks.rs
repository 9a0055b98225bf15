//! One clock (review N5): due times, leases, the rescue cutoff and leadership are judged by the
//! database's clock, so workers whose clocks are minutes fast or slow still agree. Each case
//! runs two stores on one database, one process's clock 5 minutes fast and the other's 5
//! minutes slow (PostgreSQL from `CMIS_TEST_POSTGRES_URL`, skipped when unset).

use std::sync::Arc;
use std::time::Duration;

use cmis_core::{AccountRef, Clock, Platform, Post, PostKey, SystemClock, Target, TenantId};
use cmis_scheduler::{JobState, ScheduleStore};
use time::OffsetDateTime;

/// The system clock, off by `skew`.
#[derive(Debug)]
struct Skewed(time::Duration);

impl Clock for Skewed {
    fn now(&self) -> OffsetDateTime {
        SystemClock.now() + self.0
    }
}

fn fast() -> Arc<dyn Clock> {
    Arc::new(Skewed(time::Duration::minutes(5)))
}

fn slow() -> Arc<dyn Clock> {
    Arc::new(Skewed(time::Duration::minutes(-5)))
}

async fn schedule(s: &dyn ScheduleStore, post: &str, at: OffsetDateTime) {
    let target = Target::feed(AccountRef::new(
        TenantId::new("acme"),
        Platform::Facebook,
        "page",
    ));
    s.schedule(
        &TenantId::new("acme"),
        &PostKey::new(post),
        &Post::new().with_text(post),
        &[target],
        at,
    )
    .await
    .unwrap();
}

/// The cases, for two stores on one database: `a` with a fast clock, `b` with a slow one.
async fn agree(a: Arc<dyn ScheduleStore>, b: Arc<dyn ScheduleStore>) {
    let lease = Duration::from_secs(60);
    // A job due in two minutes is not due for the fast worker.
    schedule(
        &*a,
        "later",
        OffsetDateTime::now_utc() + Duration::from_secs(120),
    )
    .await;
    assert!(
        a.claim_started("a", 10, lease).await.unwrap().is_empty(),
        "published early"
    );
    // A live lease taken by the slow worker is not rescued by the fast one.
    schedule(
        &*b,
        "now",
        OffsetDateTime::now_utc() - Duration::from_secs(1),
    )
    .await;
    let claimed = b.claim_started("b", 10, lease).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert!(
        a.rescue_expired(100).await.unwrap().is_empty(),
        "a live lease was rescued"
    );
    let job = a
        .get(&TenantId::new("acme"), claimed[0].job.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.state, JobState::Publishing);
    // Leadership: the fast worker's lapses when its time-to-live has passed for the database.
    let ttl = Duration::from_millis(300);
    assert!(a.try_lead("skew", "a", ttl).await.unwrap());
    assert!(!b.try_lead("skew", "b", ttl).await.unwrap());
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(
        b.try_lead("skew", "b", ttl).await.unwrap(),
        "the fast clock kept leadership"
    );
}

#[tokio::test]
async fn sqlite_stores_with_skewed_clocks_agree() {
    let path = std::env::temp_dir().join(format!(
        "cmis-clocks-{}-{}.db",
        std::process::id(),
        fastrand::u64(..)
    ));
    let open = |clock| {
        let path = path.clone();
        async move {
            Arc::new(
                cmis_scheduler::SqliteStore::builder()
                    .path(path)
                    .clock(clock)
                    .build()
                    .await
                    .unwrap(),
            ) as Arc<dyn ScheduleStore>
        }
    };
    let (a, b) = (open(fast()).await, open(slow()).await);
    agree(a, b).await;
    let _ = std::fs::remove_file(&path);
}

#[cfg(feature = "postgres")]
#[tokio::test]
async fn postgres_stores_with_skewed_clocks_agree() {
    let Ok(url) = std::env::var("CMIS_TEST_POSTGRES_URL") else {
        eprintln!("skipping: CMIS_TEST_POSTGRES_URL is not set");
        return;
    };
    let schema = format!("cmis_clocks_{}_{}", std::process::id(), fastrand::u32(..));
    let open = |clock| {
        let (url, schema) = (url.clone(), schema.clone());
        async move {
            Arc::new(
                cmis_scheduler::PgStore::builder(url)
                    .schema(schema)
                    .clock(clock)
                    .build()
                    .await
                    .unwrap(),
            )
        }
    };
    let (a, b) = (open(fast()).await, open(slow()).await);
    agree(a.clone(), b).await;
    a.drop_schema().await.unwrap();
}
