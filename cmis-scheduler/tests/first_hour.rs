//! What a newcomer reaches for first: `Scheduler::schedule`, which checks a post with the
//! platform's publisher before storing it, and `Scheduler::settled`, which waits for a job until
//! it is finished or parked, whichever state that is.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use cmis_core::{
    AccountRef, Capabilities, Checkpoint, Error, ErrorKind, Outcome, Platform, Post, PostId,
    PostKey, PublishContext, Publisher, Receipt, Reconciliation, Result, SecretString,
    StaticTokenProvider, Surface, Target, TenantId, TokioClock, Violation,
};
use cmis_scheduler::{JobFilter, JobState, MemoryScheduleStore, NewPost, ScheduleStore, Scheduler};
use time::OffsetDateTime;
use time::macros::datetime;

const T0: OffsetDateTime = datetime!(2026-06-01 12:00 UTC);

/// Publishes text that starts with "ok", refuses the token for "auth", loses the answer for
/// "lost"; a post without text breaks its one rule.
#[derive(Debug)]
struct Scripted;

#[async_trait]
impl Publisher for Scripted {
    fn platform(&self) -> Platform {
        Platform::Facebook
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::new(vec![Surface::Feed], 10, true)
    }
    async fn validate(&self, _: &Target, post: &Post) -> Result<()> {
        if post.text.as_deref().unwrap_or("").is_empty() {
            return Err(Error::violations(vec![Violation::new(
                "text",
                "facebook.feed.text",
                "none",
                "some text",
            )]));
        }
        Ok(())
    }
    async fn publish(&self, target: &Target, post: &Post, _: &PublishContext) -> Result<Outcome> {
        match post.text.as_deref().unwrap_or("") {
            t if t.starts_with("ok") => Ok(Outcome::Published(Receipt::new(
                Platform::Facebook,
                target.account.account.clone(),
                PostId::new("123_456"),
            ))),
            "auth" => Err(Error::auth("Error validating access token")),
            _ => Err(Error::unknown_outcome("the answer was lost")),
        }
    }
    async fn resume(&self, _: &Target, _: &Checkpoint, _: &PublishContext) -> Result<Outcome> {
        Err(Error::unsupported("never pending"))
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

fn page(tenant: &str) -> Target {
    Target::feed(AccountRef::new(
        TenantId::new(tenant),
        Platform::Facebook,
        "page",
    ))
}

fn setup() -> (Arc<MemoryScheduleStore>, Scheduler) {
    let clock = Arc::new(TokioClock::starting_at(T0));
    let store = Arc::new(MemoryScheduleStore::with_clock(clock.clone()));
    let scheduler = Scheduler::builder(store.clone())
        .publisher(Arc::new(Scripted))
        // The scripted publisher never asks for a token.
        .tokens(Arc::new(StaticTokenProvider::new(SecretString::from(
            "unused",
        ))))
        .clock(clock)
        .poll_interval(Duration::from_millis(100))
        .build()
        .unwrap();
    (store, scheduler)
}

fn new_post(key: &str, text: Option<&str>, targets: Vec<Target>) -> NewPost {
    let mut post = Post::new();
    if let Some(t) = text {
        post = post.with_text(t);
    }
    NewPost::new(
        PostKey::new(key),
        post,
        targets,
        T0 + Duration::from_secs(60),
    )
}

#[tokio::test(start_paused = true)]
async fn a_post_that_can_never_publish_is_refused_before_anything_is_stored() {
    let (store, scheduler) = setup();
    let acme = TenantId::new("acme");

    let invalid = scheduler
        .schedule(new_post("no-text", None, vec![page("acme")]))
        .await
        .unwrap_err();
    assert_eq!(invalid.kind(), ErrorKind::InvalidInput);
    assert_eq!(invalid.violation_list()[0].rule, "facebook.feed.text");

    let tiktok = Target::feed(AccountRef::new(
        TenantId::new("acme"),
        Platform::TikTok,
        "creator",
    ));
    let unpublishable = scheduler
        .schedule(new_post("tiktok", Some("ok"), vec![tiktok]))
        .await
        .unwrap_err();
    assert_eq!(unpublishable.kind(), ErrorKind::InvalidInput);
    assert!(
        unpublishable.to_string().contains("no tiktok publisher"),
        "{unpublishable}"
    );

    let two_tenants = scheduler
        .schedule(new_post(
            "mixed",
            Some("ok"),
            vec![page("acme"), page("other")],
        ))
        .await
        .unwrap_err();
    assert_eq!(two_tenants.kind(), ErrorKind::InvalidInput);
    let nowhere = scheduler
        .schedule(new_post("nowhere", Some("ok"), vec![]))
        .await;
    assert_eq!(nowhere.unwrap_err().kind(), ErrorKind::InvalidInput);

    assert!(
        store
            .list(&acme, &JobFilter::all())
            .await
            .unwrap()
            .is_empty()
    );

    let jobs = scheduler
        .schedule(new_post("fine", Some("ok then"), vec![page("acme")]))
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].tenant, acme);
    assert_eq!(jobs[0].post_key, PostKey::new("fine"));
}

#[tokio::test(start_paused = true)]
async fn settled_ends_for_a_published_a_parked_and_an_unknown_job() {
    let (_store, scheduler) = setup();
    let mut ids = Vec::new();
    for text in ["ok go", "auth", "lost"] {
        let jobs = scheduler
            .schedule(new_post(text, Some(text), vec![page("acme")]))
            .await
            .unwrap();
        ids.push(jobs[0].id);
    }
    let acme = TenantId::new("acme");
    let other = TenantId::new("other");
    assert_eq!(
        scheduler.settled(&other, ids[0]).await.unwrap_err().kind(),
        ErrorKind::InvalidInput,
        "another tenant's job is as good as missing"
    );

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let runner = scheduler.clone();
    let run = tokio::spawn(async move {
        runner
            .run(async {
                let _ = stopped.await;
            })
            .await
    });
    let mut states = Vec::new();
    for id in &ids {
        let job = tokio::time::timeout(Duration::from_secs(600), scheduler.settled(&acme, *id))
            .await
            .expect("settles within ten minutes")
            .unwrap();
        assert!(job.state.is_settled());
        states.push(job.state);
    }
    assert_eq!(
        states,
        [
            JobState::Published,
            JobState::AwaitingReauth,
            JobState::UnknownOutcome
        ]
    );
    stop.send(()).unwrap();
    run.await.unwrap().unwrap();
}

#[test]
fn settled_states_are_the_finished_and_the_parked_ones() {
    let settled: Vec<_> = JobState::ALL
        .into_iter()
        .filter(|s| s.is_settled())
        .collect();
    assert_eq!(
        settled,
        [
            JobState::Published,
            JobState::Failed,
            JobState::UnknownOutcome,
            JobState::Missed,
            JobState::AwaitingReauth,
            JobState::Cancelled,
        ]
    );
}
