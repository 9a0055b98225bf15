//! The cache: coalescing, errors never cached, bypass and refresh, keys, the persistent store.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use cmis_ai::{AiGenerator, CacheKey, CacheStore, ModelPrice, PriceTable};
use cmis_core::{CacheMode, ContentGenerator, ErrorKind, Generated, Result};
use common::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn openai_ok(server: &MockServer, calls: u64, delay: Duration) {
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_delay(delay)
                .set_body_json(fixture("openai_chat_completion.json")),
        )
        .expect(calls)
        .mount(server)
        .await;
    catch_all(server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_concurrent_identical_requests_reach_the_provider_once() {
    let server = MockServer::start().await;
    openai_ok(&server, 1, Duration::from_millis(300)).await;
    let generator = AiGenerator::builder()
        .provider(openai(&server))
        .prices(PriceTable::new().with_price("gpt-4o-mini", ModelPrice::new(1.0, 2.0)))
        .build()
        .unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..100 {
        let generator = generator.clone();
        tasks.spawn(async move { generator.generate(&request()).await });
    }
    let mut results = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        results.push(joined.unwrap().unwrap());
    }
    assert_eq!(results.len(), 100);
    let paid: Vec<_> = results.iter().filter(|g| !g.provenance.cached).collect();
    assert_eq!(paid.len(), 1, "exactly one caller paid");
    assert!(results.iter().all(|g| g.text == paid[0].text));
    assert!(
        results
            .iter()
            .filter(|g| g.provenance.cached)
            .all(|g| g.provenance.attempts == 0 && g.provenance.cost_usd == Some(0.0))
    );
    let ledger = generator.ledger().snapshot();
    assert_eq!((ledger.calls, ledger.cache_hits), (1, 99));
    // One call: 1200 input at $1/M + 300 output at $2/M = $0.0018; 99 hits saved 99 times that.
    assert!((ledger.spent_usd - 0.0018).abs() < 1e-12);
    assert!((ledger.saved_usd - 99.0 * 0.0018).abs() < 1e-9);
}

#[tokio::test]
async fn errors_are_never_cached() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json_error(400, "openai_error_invalid_request.json"))
        .expect(2)
        .mount(&server)
        .await;
    let generator = AiGenerator::builder()
        .provider(openai(&server))
        .build()
        .unwrap();
    for _ in 0..2 {
        let err = generator.generate(&request()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    }
    assert_eq!(generator.ledger().snapshot().cache_hits, 0);
}

#[tokio::test]
async fn bypass_skips_the_cache_and_refresh_rewrites_it() {
    let server = MockServer::start().await;
    openai_ok(&server, 3, Duration::ZERO).await;
    let generator = AiGenerator::builder()
        .provider(openai(&server))
        .build()
        .unwrap();
    let first = generator.generate(&request()).await.unwrap(); // call 1
    assert!(!first.provenance.cached);
    let hit = generator.generate(&request()).await.unwrap();
    assert!(hit.provenance.cached);
    assert_eq!(hit.provenance.provider, "openai");
    let bypass = generator
        .generate(&request().with_cache(CacheMode::Bypass))
        .await
        .unwrap(); // call 2
    assert!(!bypass.provenance.cached);
    let refresh = generator
        .generate(&request().with_cache(CacheMode::Refresh))
        .await
        .unwrap(); // call 3
    assert!(!refresh.provenance.cached);
    assert!(
        generator
            .generate(&request())
            .await
            .unwrap()
            .provenance
            .cached
    );
}

#[tokio::test]
async fn a_fallback_answer_is_reused_because_the_key_has_no_provider() {
    let primary = MockServer::start().await;
    let secondary = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json_error(429, "openai_error_insufficient_quota.json"))
        .expect(1)
        .mount(&primary)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(anthropic_ok())
        .expect(1)
        .mount(&secondary)
        .await;
    catch_all(&secondary).await;
    let generator = AiGenerator::builder()
        .provider(openai(&primary))
        .provider(anthropic(&secondary))
        .build()
        .unwrap();
    let first = generator.generate(&request()).await.unwrap();
    assert_eq!(first.provenance.provider, "anthropic");
    let second = generator.generate(&request()).await.unwrap();
    assert!(second.provenance.cached);
    assert_eq!(second.provenance.provider, "anthropic");
    assert_eq!(
        second.provenance.request_id.as_deref(),
        Some("req_fallback")
    );
}

#[tokio::test]
async fn tenants_and_platforms_never_share_entries() {
    let server = MockServer::start().await;
    openai_ok(&server, 3, Duration::ZERO).await;
    let generator = AiGenerator::builder()
        .provider(openai(&server))
        .build()
        .unwrap();
    let mut other_tenant = request();
    other_tenant.tenant = cmis_core::TenantId::new("globex");
    let mut other_platform = request();
    other_platform.platform = cmis_core::Platform::TikTok;
    for req in [request(), other_tenant, other_platform] {
        assert!(!generator.generate(&req).await.unwrap().provenance.cached);
    }
}

#[test]
fn the_key_covers_every_field_that_changes_the_answer() {
    let rules = cmis_ai::Limits::default()
        .rules(cmis_core::Platform::Instagram)
        .unwrap();
    let base = request();
    let key = |r: &cmis_core::GenerateRequest, group: &str| CacheKey::new(r, group, &rules);
    let k = key(&base, "default");
    assert_eq!(k.as_str().len(), 64);
    assert_eq!(
        k,
        key(&base.clone().with_cache(CacheMode::Refresh), "default")
    );
    assert_ne!(k, key(&base, "premium"));
    assert_ne!(k, key(&base.clone().with_tone("formal"), "default"));
    assert_ne!(k, key(&base.clone().with_language("pt-BR"), "default"));
    assert_ne!(k, key(&base.clone().with_temperature(0.7), "default"));
    assert_ne!(k, key(&base.clone().with_variants(2), "default"));
    let mut task = base.clone();
    task.task = cmis_core::GenerationTask::Hashtags;
    assert_ne!(k, key(&task, "default"));
    let other_rules = cmis_ai::Limits::default()
        .with_instagram_hashtags(3)
        .rules(cmis_core::Platform::Instagram)
        .unwrap();
    assert_ne!(k, CacheKey::new(&base, "default", &other_rules));
}

#[derive(Debug, Default)]
struct MapStore(Mutex<HashMap<CacheKey, Generated>>);

#[async_trait]
impl CacheStore for MapStore {
    async fn lookup(&self, key: &CacheKey) -> Result<Option<Generated>> {
        Ok(self.0.lock().unwrap().get(key).cloned())
    }
    async fn insert(&self, key: &CacheKey, value: &Generated) -> Result<()> {
        self.0.lock().unwrap().insert(key.clone(), value.clone());
        Ok(())
    }
}

#[tokio::test]
async fn a_persistent_store_serves_a_new_process() {
    let server = MockServer::start().await;
    openai_ok(&server, 1, Duration::ZERO).await;
    let store = Arc::new(MapStore::default());
    let build = || {
        AiGenerator::builder()
            .provider(openai(&server))
            .cache_store(store.clone())
            .build()
            .unwrap()
    };
    let first = build().generate(&request()).await.unwrap();
    assert!(!first.provenance.cached);
    assert_eq!(store.0.lock().unwrap().len(), 1);
    // A new generator has an empty memory cache: the answer comes from the store.
    let second = build().generate(&request()).await.unwrap();
    assert!(second.provenance.cached);
    assert_eq!(second.text, first.text);
}

#[tokio::test]
async fn offline_answers_are_cached_in_memory_but_never_persisted() {
    let store = Arc::new(MapStore::default());
    let generator = AiGenerator::builder()
        .cache_store(store.clone())
        .build()
        .unwrap();
    let first = generator.generate(&request()).await.unwrap();
    assert_eq!(first.provenance.provider, "offline");
    assert!(
        generator
            .generate(&request())
            .await
            .unwrap()
            .provenance
            .cached
    );
    assert!(store.0.lock().unwrap().is_empty());
}
