//! The router's actions and cooldowns, on tokio's paused clock: virtual time, no sleeps.

mod common;

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use cmis_ai::{
    AiGenerator, Completion, Draft, FailureClass, Prompt, Provider, ProviderError, Router,
    RouterConfig,
};
use cmis_core::{ContentGenerator, ErrorKind, Usage};
use common::*;
use tokio::time::{Instant, advance};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer};

/// A provider that answers from a script (then succeeds), counting its calls.
#[derive(Debug)]
struct Scripted {
    name: &'static str,
    script: Mutex<VecDeque<(FailureClass, Option<Duration>)>>,
    calls: AtomicU32,
}

impl Scripted {
    fn new(name: &'static str, script: &[(FailureClass, Option<Duration>)]) -> Arc<Self> {
        Arc::new(Self {
            name,
            script: Mutex::new(script.iter().copied().collect()),
            calls: AtomicU32::new(0),
        })
    }
    fn calls(&self) -> u32 {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Provider for Scripted {
    fn name(&self) -> &str {
        self.name
    }
    fn model(&self) -> &str {
        "scripted"
    }
    async fn complete(&self, _prompt: &Prompt) -> Result<Completion, ProviderError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let next = self.script.lock().unwrap().pop_front();
        match next {
            Some((class, wait)) => {
                Err(ProviderError::new(self.name, class, "scripted failure").with_retry_after(wait))
            }
            None => Ok(Completion::new(
                vec![Draft::new(format!("from {}", self.name), vec![])],
                Usage::new(10, 5),
                "scripted",
            )),
        }
    }
}

fn router(links: &[Arc<Scripted>]) -> Router {
    Router::new(
        links
            .iter()
            .map(|l| l.clone() as Arc<dyn Provider>)
            .collect(),
        RouterConfig::default(),
    )
}

#[tokio::test(start_paused = true)]
async fn rate_limit_fails_over_at_once_when_another_provider_can_answer() {
    let a = Scripted::new(
        "a",
        &[(FailureClass::RateLimited, Some(Duration::from_secs(20)))],
    );
    let b = Scripted::new("b", &[]);
    let r = router(&[a.clone(), b.clone()]);
    let start = Instant::now();
    let routed = r.complete(&prompt(&request())).await.unwrap();
    assert_eq!(routed.provider, "b");
    assert_eq!(
        start.elapsed(),
        Duration::ZERO,
        "no wait before failing over"
    );
    // `a` cools down for the 20 s it asked for, then is tried again.
    advance(Duration::from_secs(19)).await;
    r.complete(&prompt(&request())).await.unwrap();
    assert_eq!(a.calls(), 1);
    advance(Duration::from_secs(2)).await;
    assert_eq!(r.complete(&prompt(&request())).await.unwrap().provider, "a");
    assert_eq!(a.calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_honoured_when_only_offline_is_left() {
    let a = Scripted::new(
        "a",
        &[(FailureClass::RateLimited, Some(Duration::from_secs(10)))],
    );
    let r = router(std::slice::from_ref(&a));
    let start = Instant::now();
    let routed = r.complete(&prompt(&request())).await.unwrap();
    assert_eq!(routed.provider, "a");
    assert_eq!(routed.attempts, 2);
    assert_eq!(start.elapsed(), Duration::from_secs(10));
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_beyond_the_cap_goes_offline_at_once_and_cools_down() {
    let a = Scripted::new(
        "a",
        &[(FailureClass::RateLimited, Some(Duration::from_secs(120)))],
    );
    let r = router(std::slice::from_ref(&a));
    let start = Instant::now();
    let routed = r.complete(&prompt(&request())).await.unwrap();
    assert_eq!(routed.provider, "offline");
    assert_eq!(start.elapsed(), Duration::ZERO, "30 s cap: no 120 s stall");
    advance(Duration::from_secs(119)).await;
    assert!(r.is_cooling_down("a"));
    assert_eq!(
        r.complete(&prompt(&request())).await.unwrap().provider,
        "offline"
    );
    advance(Duration::from_secs(2)).await;
    assert_eq!(r.complete(&prompt(&request())).await.unwrap().provider, "a");
    assert_eq!(a.calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn breaker_opens_after_three_outages_for_five_seconds_then_half_opens() {
    let outage = (FailureClass::ServerError, None);
    let a = Scripted::new("a", &[outage, outage, outage, outage]);
    let b = Scripted::new("b", &[]);
    let r = router(&[a.clone(), b.clone()]);
    for _ in 0..3 {
        assert_eq!(r.complete(&prompt(&request())).await.unwrap().provider, "b");
    }
    assert_eq!(a.calls(), 3);
    assert!(r.is_cooling_down("a"));
    advance(Duration::from_millis(4900)).await;
    r.complete(&prompt(&request())).await.unwrap();
    assert_eq!(a.calls(), 3, "skipped while open");
    advance(Duration::from_millis(200)).await;
    // Half-open: one trial call, which fails and re-opens the breaker at once.
    r.complete(&prompt(&request())).await.unwrap();
    assert_eq!(a.calls(), 4);
    assert!(r.is_cooling_down("a"));
    advance(Duration::from_secs(6)).await;
    assert_eq!(r.complete(&prompt(&request())).await.unwrap().provider, "a");
    assert!(!r.is_cooling_down("a"));
}

#[tokio::test(start_paused = true)]
async fn quota_and_auth_cool_down_for_an_hour() {
    for class in [
        FailureClass::QuotaExhausted,
        FailureClass::Auth,
        FailureClass::ModelNotFound,
    ] {
        let a = Scripted::new("a", &[(class, None)]);
        let b = Scripted::new("b", &[]);
        let r = router(&[a.clone(), b.clone()]);
        assert_eq!(r.complete(&prompt(&request())).await.unwrap().provider, "b");
        advance(Duration::from_secs(59 * 60)).await;
        assert_eq!(r.complete(&prompt(&request())).await.unwrap().provider, "b");
        assert_eq!(a.calls(), 1, "{class}: skipped for the hour");
        advance(Duration::from_secs(2 * 60)).await;
        assert_eq!(r.complete(&prompt(&request())).await.unwrap().provider, "a");
    }
}

#[tokio::test(start_paused = true)]
async fn invalid_request_stops_the_chain() {
    let a = Scripted::new("a", &[(FailureClass::InvalidRequest, None)]);
    let b = Scripted::new("b", &[]);
    let r = router(&[a.clone(), b.clone()]);
    let err = r.complete(&prompt(&request())).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(b.calls(), 0, "never fails over, not even to offline");
    assert!(!r.is_cooling_down("a"));
}

#[tokio::test(start_paused = true)]
async fn content_filter_and_context_fail_over_without_cooldown() {
    for class in [
        FailureClass::ContentFiltered,
        FailureClass::ContextTooLong,
        FailureClass::InvalidOutput,
    ] {
        let a = Scripted::new("a", &[(class, None)]);
        let b = Scripted::new("b", &[]);
        let r = router(&[a.clone(), b.clone()]);
        assert_eq!(r.complete(&prompt(&request())).await.unwrap().provider, "b");
        assert!(!r.is_cooling_down("a"), "{class}");
    }
}

#[tokio::test(start_paused = true)]
async fn overload_with_nobody_else_backs_off_within_the_policy_bound() {
    let a = Scripted::new("a", &[(FailureClass::Overloaded, None)]);
    let r = router(std::slice::from_ref(&a));
    let start = Instant::now();
    assert_eq!(r.complete(&prompt(&request())).await.unwrap().provider, "a");
    assert!(
        start.elapsed() <= Duration::from_millis(500),
        "full jitter under the 500 ms base"
    );
}

/// The same cooldown through a real HTTP provider: the clock is paused only between calls
/// (reqwest's own timers must run on real time while a request is in flight).
#[tokio::test]
async fn an_http_quota_failure_is_skipped_until_the_cooldown_ends() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json_error(429, "openai_error_insufficient_quota.json"))
        .up_to_n_times(1)
        .expect(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(
            wiremock::ResponseTemplate::new(200)
                .set_body_json(fixture("openai_chat_completion.json")),
        )
        .expect(1)
        .mount(&server)
        .await;
    let generator = AiGenerator::builder()
        .provider(openai(&server))
        .build()
        .unwrap();
    assert_eq!(
        generator
            .generate(&bypass())
            .await
            .unwrap()
            .provenance
            .provider,
        "offline"
    );
    tokio::time::pause();
    advance(Duration::from_secs(3599)).await;
    tokio::time::resume();
    assert_eq!(
        generator
            .generate(&bypass())
            .await
            .unwrap()
            .provenance
            .provider,
        "offline"
    );
    tokio::time::pause();
    advance(Duration::from_secs(2)).await;
    tokio::time::resume();
    assert_eq!(
        generator
            .generate(&bypass())
            .await
            .unwrap()
            .provenance
            .provider,
        "openai"
    );
}
