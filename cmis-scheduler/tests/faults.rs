//! Database faults around the scheduler (issue 16), on a real SQLite file.
#![cfg(feature = "sqlite")]

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use cmis_core::{
    AccessToken, AccountRef, Capabilities, Checkpoint, Error, Outcome, Platform, Post, PostId,
    PublishContext, Publisher, Receipt, Reconciliation, Result, Surface, Target, TenantId,
    TokenProvider,
};
use cmis_scheduler::{JobState, ScheduleStore, Scheduler, SqliteStore};
use sqlx::Connection;

/// Publishes every post but the one whose text is `poison`, which the platform refuses with a
/// message the database will refuse to store.
#[derive(Debug)]
struct Platform1;

#[async_trait]
impl Publisher for Platform1 {
    fn platform(&self) -> Platform {
        Platform::Facebook
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::new(vec![Surface::Feed], 10, true)
    }
    async fn validate(&self, _: &Target, _: &Post) -> Result<()> {
        Ok(())
    }
    async fn publish(&self, _: &Target, post: &Post, _: &PublishContext) -> Result<Outcome> {
        let text = post.text.clone().unwrap_or_default();
        if text == "poison" {
            return Err(Error::rejected("(#368) poison: refused by the platform"));
        }
        Ok(Outcome::Published(Receipt::new(
            Platform::Facebook,
            "page".into(),
            PostId::new(format!("fb-{text}")),
        )))
    }
    async fn resume(&self, _: &Target, _: &Checkpoint, _: &PublishContext) -> Result<Outcome> {
        Err(Error::unsupported("no resume here"))
    }
    async fn reconcile(
        &self,
        _: &Target,
        _: &Post,
        _: Option<&Checkpoint>,
        _: &PublishContext,
    ) -> Result<Reconciliation> {
        Ok(Reconciliation::Unknown)
    }
}

struct NoTokens;

#[async_trait]
impl TokenProvider for NoTokens {
    async fn access_token(&self, _: &AccountRef) -> Result<AccessToken> {
        Err(Error::unsupported("no tokens in this test"))
    }
    async fn invalidate(&self, _: &AccountRef, _: &AccessToken) {}
}

/// Review K3: an outcome the database refuses to store (here a trigger refuses it, as
/// PostgreSQL refuses a NUL byte) is isolated from its batch: the other outcomes are stored,
/// the refused one is stored in a plain form, and the scheduler stops when told.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outcome_the_database_refuses_never_holds_back_the_others() {
    let path = std::env::temp_dir().join(format!(
        "cmis-faults-{}-{}.db",
        std::process::id(),
        fastrand::u64(..)
    ));
    let store = Arc::new(SqliteStore::builder().path(&path).build().await.unwrap());
    let mut raw = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    sqlx::raw_sql(
        "CREATE TRIGGER refuse_poison BEFORE UPDATE ON jobs \
         WHEN NEW.last_error LIKE '%poison%' \
         BEGIN SELECT RAISE(ABORT, 'this value cannot be stored'); END;",
    )
    .execute(&mut raw)
    .await
    .unwrap();
    let tenant = TenantId::new("acme");
    let target = Target::feed(AccountRef::new("acme", Platform::Facebook, "page"));
    let now = time::OffsetDateTime::now_utc();
    let mut ids = Vec::new();
    for text in ["a", "b", "poison", "c", "d"] {
        let post = Post::new().with_text(text);
        let job = store
            .schedule(
                &tenant,
                &PostId::new(text),
                &post,
                std::slice::from_ref(&target),
                now,
            )
            .await
            .unwrap();
        ids.push((text, job[0].id));
    }
    let scheduler = Scheduler::builder(store.clone())
        .publisher(Arc::new(Platform1))
        .tokens(Arc::new(NoTokens))
        .concurrency(8)
        .batch_size(8)
        .poll_interval(Duration::from_millis(20))
        .build()
        .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(async move {
        scheduler
            .run(async {
                let _ = stopped.await;
            })
            .await
    });
    let give_up = tokio::time::Instant::now() + Duration::from_secs(30);
    for (text, id) in &ids {
        loop {
            let job = store.get(&tenant, *id).await.unwrap().unwrap();
            if job.state.is_finished() {
                if *text == "poison" {
                    assert_eq!(job.state, JobState::Failed);
                    let message = job.last_error.unwrap().message;
                    assert!(message.contains("could not be stored"), "{message}");
                } else {
                    assert_eq!(job.state, JobState::Published, "{text}");
                }
                break;
            }
            assert!(
                tokio::time::Instant::now() < give_up,
                "{text} is still {:?}",
                job.state
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .expect("the scheduler stops")
        .unwrap()
        .unwrap();
    let _ = std::fs::remove_file(&path);
}
