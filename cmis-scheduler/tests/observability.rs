//! What the scheduler tells monitoring (issue 17, item 3): a `tracing` span per job attempt
//! with the job, tenant, platform, account, attempt and fencing token (and never the post's
//! text), and metrics through the `metrics` facade: outcomes per platform, call durations,
//! lateness, and the admin API's gauges.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use cmis_core::{
    AccessToken, AccountRef, Capabilities, Checkpoint, Error, Outcome, Platform, Post, PostKey,
    PublishContext, Publisher, Receipt, Reconciliation, Result, Surface, Target, TenantId,
    TokenProvider,
};
use cmis_scheduler::admin::Admin;
use cmis_scheduler::{Event, JobState, MemoryScheduleStore, ScheduleStore, Scheduler};
use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use tracing_subscriber::layer::{Context, SubscriberExt};

/// Every metric recorded, by name and sorted labels.
#[derive(Default)]
struct Captured {
    values: Mutex<BTreeMap<String, f64>>,
}

impl Captured {
    fn key(key: &Key) -> String {
        let mut labels: Vec<String> = key
            .labels()
            .map(|l| format!("{}={}", l.key(), l.value()))
            .collect();
        labels.sort();
        format!("{}{{{}}}", key.name(), labels.join(","))
    }
    fn get(&self, key: &str) -> Option<f64> {
        self.values.lock().unwrap().get(key).copied()
    }
}

struct Handle(Arc<Captured>, String, bool);

impl metrics::CounterFn for Handle {
    fn increment(&self, value: u64) {
        #[allow(clippy::cast_precision_loss)]
        let v = value as f64;
        *self
            .0
            .values
            .lock()
            .unwrap()
            .entry(self.1.clone())
            .or_default() += v;
    }
    fn absolute(&self, value: u64) {
        #[allow(clippy::cast_precision_loss)]
        self.0
            .values
            .lock()
            .unwrap()
            .insert(self.1.clone(), value as f64);
    }
}

impl metrics::GaugeFn for Handle {
    fn increment(&self, value: f64) {
        *self
            .0
            .values
            .lock()
            .unwrap()
            .entry(self.1.clone())
            .or_default() += value;
    }
    fn decrement(&self, value: f64) {
        *self
            .0
            .values
            .lock()
            .unwrap()
            .entry(self.1.clone())
            .or_default() -= value;
    }
    fn set(&self, value: f64) {
        self.0.values.lock().unwrap().insert(self.1.clone(), value);
    }
}

impl metrics::HistogramFn for Handle {
    fn record(&self, value: f64) {
        // A histogram is captured as its sample count (`count`) and its last sample.
        let mut v = self.0.values.lock().unwrap();
        *v.entry(format!("{}:count", self.1)).or_default() += 1.0;
        if self.2 {
            v.insert(format!("{}:last", self.1), value);
        }
    }
}

struct Capture(Arc<Captured>);

impl Recorder for Capture {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        Counter::from_arc(Arc::new(Handle(self.0.clone(), Captured::key(key), false)))
    }
    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::from_arc(Arc::new(Handle(self.0.clone(), Captured::key(key), false)))
    }
    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::from_arc(Arc::new(Handle(self.0.clone(), Captured::key(key), true)))
    }
}

/// The fields of every `cmis.job` span opened.
#[derive(Default, Clone)]
struct Spans(Arc<Mutex<Vec<BTreeMap<String, String>>>>);

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Spans {
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        _: &tracing::span::Id,
        _: Context<'_, S>,
    ) {
        if attrs.metadata().name() == "cmis.job" {
            let mut fields = BTreeMap::new();
            attrs.record(&mut Fields(&mut fields));
            self.0.lock().unwrap().push(fields);
        }
    }
}

/// Publishes `ok-*` posts, refuses `bad-*` ones.
#[derive(Debug)]
struct Fake(AtomicU64);

#[async_trait]
impl Publisher for Fake {
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
        let n = self.0.fetch_add(1, Ordering::SeqCst);
        if post.text_or_empty().starts_with("bad") {
            return Err(Error::rejected("the platform refused the content"));
        }
        Ok(Outcome::Published(Receipt::new(
            Platform::Facebook,
            "page".into(),
            cmis_core::PostId::new(format!("fb-{n}")),
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_attempt_has_a_span_every_outcome_a_metric_and_an_event() {
    let captured = Arc::new(Captured::default());
    metrics::set_global_recorder(Capture(captured.clone())).unwrap();
    let spans = Spans::default();
    let subscriber = tracing_subscriber::registry().with(spans.clone());
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let store = Arc::new(MemoryScheduleStore::new());
    let tenant = TenantId::new("acme");
    let target = Target::feed(AccountRef::new(
        tenant.clone(),
        Platform::Facebook,
        "page-1",
    ));
    let now = time::OffsetDateTime::now_utc();
    let mut ids = Vec::new();
    for key in ["ok-1", "ok-2", "bad-1"] {
        let post = Post::new().with_text(format!("{key} secret text"));
        let jobs = store
            .schedule(
                &tenant,
                &PostKey::new(key),
                &post,
                std::slice::from_ref(&target),
                now,
            )
            .await
            .unwrap();
        ids.push(jobs[0].id);
    }
    let scheduler = Scheduler::builder(store.clone())
        .publisher(Arc::new(Fake(AtomicU64::new(0))))
        .tokens(Arc::new(NoTokens))
        .poll_interval(Duration::from_millis(20))
        .build()
        .unwrap();
    let mut events = scheduler.subscribe();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(async move {
        scheduler
            .run(async {
                let _ = stopped.await;
            })
            .await
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let mut done = 0;
        for id in &ids {
            let job = store.get(&tenant, *id).await.unwrap().unwrap();
            done += usize::from(job.state.is_finished());
        }
        if done == ids.len() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the jobs did not finish"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop.send(());
    run.await.unwrap().unwrap();

    let outcomes = |o: &str| {
        captured.get(&format!(
            "cmis_job_outcomes_total{{outcome={o},platform=facebook}}"
        ))
    };
    assert_eq!(outcomes("published"), Some(2.0));
    assert_eq!(outcomes("failed"), Some(1.0));
    assert_eq!(
        captured.get("cmis_publish_call_seconds{platform=facebook}:count"),
        Some(3.0)
    );
    assert_eq!(
        captured.get("cmis_publish_lateness_seconds{platform=facebook}:count"),
        Some(2.0)
    );
    let late = captured
        .get("cmis_publish_lateness_seconds{platform=facebook}:last")
        .unwrap();
    assert!((0.0..20.0).contains(&late), "lateness {late}");

    let spans = spans.0.lock().unwrap().clone();
    assert_eq!(spans.len(), 3, "one span per attempt: {spans:?}");
    let ids: Vec<String> = ids.iter().map(|i| i.get().to_string()).collect();
    for span in &spans {
        assert!(ids.contains(&span["job"]), "{span:?}");
        assert_eq!(span["tenant"], "acme");
        assert_eq!(span["platform"], "facebook");
        assert_eq!(span["account"], "page-1");
        assert_eq!(span["attempt"], "1");
        assert!(
            span.contains_key("fencing_token") && span["phase"] == "publish",
            "{span:?}"
        );
        assert!(
            !span.values().any(|v| v.contains("secret")),
            "no post text in a span"
        );
    }

    // The typed events: one per stored outcome, naming the job, its tenant and post.
    let mut outcomes = Vec::new();
    while let Ok(event) = events.try_recv() {
        let Event::Job(e) = event else { continue };
        assert_eq!(e.tenant, tenant);
        assert_eq!(e.target, target);
        assert_eq!(e.phase, cmis_scheduler::Phase::Publish);
        outcomes.push((e.post_key.as_str().to_owned(), e.outcome.state()));
    }
    outcomes.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        outcomes,
        vec![
            ("bad-1".to_owned(), JobState::Failed),
            ("ok-1".to_owned(), JobState::Published),
            ("ok-2".to_owned(), JobState::Published),
        ]
    );

    // The admin API's gauges.
    Admin::new(store.clone())
        .record_gauges(time::OffsetDateTime::now_utc())
        .await
        .unwrap();
    assert_eq!(captured.get("cmis_jobs{state=published}"), Some(2.0));
    assert_eq!(captured.get("cmis_jobs{state=failed}"), Some(1.0));
    assert_eq!(captured.get("cmis_jobs{state=scheduled}"), Some(0.0));
    assert_eq!(captured.get("cmis_accounts_needing_reauth{}"), Some(0.0));
    assert_eq!(captured.get("cmis_oldest_due_seconds{}"), Some(0.0));
}

#[tokio::test]
async fn changes_made_through_the_scheduler_are_told_to_subscribers() {
    let store = Arc::new(MemoryScheduleStore::new());
    let scheduler = Scheduler::builder(store.clone())
        .publisher(Arc::new(Fake(AtomicU64::new(0))))
        .tokens(Arc::new(NoTokens))
        .build()
        .unwrap();
    let mut events = scheduler.subscribe();
    let tenant = TenantId::new("acme");
    let target = Target::feed(AccountRef::new(
        tenant.clone(),
        Platform::Facebook,
        "page-1",
    ));
    let tomorrow = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    let jobs = scheduler
        .schedule(cmis_scheduler::NewPost::new(
            PostKey::new("later"),
            Post::new().with_text("tomorrow"),
            vec![target],
            tomorrow,
        ))
        .await
        .unwrap();
    let id = jobs[0].id;
    assert!(scheduler.cancel(&tenant, id).await.unwrap().is_applied());
    // A change the job's state refuses is no event.
    assert!(!scheduler.cancel(&tenant, id).await.unwrap().is_applied());
    match events.try_recv().unwrap() {
        Event::Scheduled(job) => assert_eq!((job.id, job.state), (id, JobState::Scheduled)),
        other => panic!("{other:?}"),
    }
    match events.try_recv().unwrap() {
        Event::Changed { job, action } => {
            assert_eq!((job.id, job.state), (id, JobState::Cancelled));
            assert_eq!(action, cmis_scheduler::UserAction::Cancel);
        }
        other => panic!("{other:?}"),
    }
    assert!(events.try_recv().is_err(), "nothing for the refused change");
}
