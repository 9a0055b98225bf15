//! What a cmis-ai cache hit costs next to a provider round trip.
//!
//! ```text
//! cargo bench -p cmis-benches --bench ai_cache
//! ```
//!
//! The provider is a local wiremock fake speaking OpenAI's Chat Completions with the documented
//! response, and no artificial delay: the round trip measured here (HTTP on loopback, JSON,
//! validation, post-processing) is the floor under a real provider, which adds hundreds of
//! milliseconds of network and inference. A cache hit is a moka lookup and a clone. Criterion
//! reports both; the last line prints p50/p99 from separately timed samples:
//! `cache_hit_p50_us=.. cache_hit_p99_us=.. provider_p50_us=.. provider_p99_us=..`.

#![allow(clippy::print_stdout)]

use std::time::{Duration, Instant};

use cmis_ai::{AiGenerator, OpenAiClient};
use cmis_core::{
    CacheMode, ContentGenerator, GenerateRequest, GenerationTask, Platform, SecretString,
};
use criterion::Criterion;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const FIXTURE: &str = include_str!("../../cmis-ai/tests/fixtures/openai_chat_completion.json");

fn request(mode: CacheMode) -> GenerateRequest {
    GenerateRequest::new(
        cmis_core::TenantId::new("bench"),
        GenerationTask::Caption,
        Platform::Instagram,
        "our autumn menu launches friday with pumpkin soup and fresh sourdough",
    )
    .with_cache(mode)
}

/// The `pct`-th percentile of `samples` (sorted in place), in microseconds.
fn percentile_us(samples: &mut [Duration], pct: usize) -> u128 {
    samples.sort_unstable();
    let index = (samples.len() * pct / 100).min(samples.len().saturating_sub(1));
    samples.get(index).map_or(0, Duration::as_micros)
}

async fn timed(generator: &AiGenerator, mode: CacheMode, n: usize) -> Vec<Duration> {
    let req = request(mode);
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        let out = generator.generate(&req).await.expect("generation failed");
        samples.push(start.elapsed());
        assert_eq!(out.provenance.cached, mode == CacheMode::Use);
    }
    samples
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let (server, generator) = rt.block_on(async {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(
                ResponseTemplate::new(200).set_body_raw(FIXTURE.as_bytes(), "application/json"),
            )
            .mount(&server)
            .await;
        let generator = AiGenerator::builder()
            .provider(
                OpenAiClient::builder()
                    .base_url(server.uri())
                    .api_key(SecretString::from("sk-bench"))
                    .build()
                    .expect("client"),
            )
            .build()
            .expect("generator");
        // Fill the cache entry the hits read.
        let first = generator
            .generate(&request(CacheMode::Use))
            .await
            .expect("first generation");
        assert_eq!(first.provenance.provider, "openai");
        (server, generator)
    });

    let mut c = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    let mut group = c.benchmark_group("ai_cache");
    group.bench_function("cache_hit", |b| {
        let req = request(CacheMode::Use);
        b.to_async(&rt).iter(|| generator.generate(&req));
    });
    group.bench_function("provider_round_trip", |b| {
        let req = request(CacheMode::Bypass);
        b.to_async(&rt).iter(|| generator.generate(&req));
    });
    group.finish();
    c.final_summary();

    let (mut hits, mut calls) = rt.block_on(async {
        (
            timed(&generator, CacheMode::Use, 2000).await,
            timed(&generator, CacheMode::Bypass, 300).await,
        )
    });
    println!(
        "cache_hit_p50_us={} cache_hit_p99_us={} provider_p50_us={} provider_p99_us={}",
        percentile_us(&mut hits, 50),
        percentile_us(&mut hits, 99),
        percentile_us(&mut calls, 50),
        percentile_us(&mut calls, 99),
    );
    drop(server);
}
