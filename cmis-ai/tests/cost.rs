//! Cost arithmetic: prices per model, cost per call, savings from cache hits.

mod common;

use cmis_ai::{AiGenerator, CostLedger, ModelPrice, PriceTable};
use cmis_core::{ContentGenerator, Usage};
use common::*;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn usage(input: u64, cached: u64, output: u64) -> Usage {
    let mut u = Usage::new(input, output);
    u.cached_input_tokens = cached;
    u
}

#[test]
fn cost_is_tokens_times_price() {
    let price = ModelPrice::new(2.50, 10.00).with_cached_input(1.25);
    // 1000 uncached × 2.50 + 200 cached × 1.25 + 300 output × 10.00, per million.
    let cost = price.cost(&usage(1200, 200, 300));
    assert!((cost - 0.00575).abs() < 1e-15, "{cost}");
    assert_eq!(price.cost(&Usage::default()), 0.0);
    // Cached tokens beyond the input count are clamped, never negative.
    let odd = price.cost(&usage(10, 50, 0));
    assert!((odd - 10.0 * 1.25 / 1e6).abs() < 1e-15);
}

#[test]
fn dated_model_names_match_the_longest_configured_prefix() {
    let table = PriceTable::new()
        .with_price("gpt-4o", ModelPrice::new(2.5, 10.0))
        .with_price("gpt-4o-mini", ModelPrice::new(0.15, 0.6));
    assert_eq!(
        table.price("gpt-4o-mini-2024-07-18"),
        Some(&ModelPrice::new(0.15, 0.6))
    );
    assert_eq!(
        table.price("gpt-4o-2024-08-06"),
        Some(&ModelPrice::new(2.5, 10.0))
    );
    assert_eq!(table.price("claude-haiku-4-5"), None);
    assert_eq!(table.cost("unknown", &usage(1, 0, 1)), None);
}

#[test]
fn the_ledger_adds_up() {
    let ledger = CostLedger::new();
    ledger.record_call("openai", "gpt-4o-mini", &usage(1000, 0, 500), Some(0.002));
    ledger.record_call("openai", "gpt-4o-mini", &usage(1000, 100, 500), Some(0.003));
    ledger.record_call("ollama", "llama3.2", &usage(10, 0, 10), None);
    ledger.record_hit(Some(0.002));
    ledger.record_hit(None);
    let s = ledger.snapshot();
    assert_eq!((s.calls, s.unpriced_calls, s.cache_hits), (3, 1, 2));
    assert!((s.spent_usd - 0.005).abs() < 1e-15);
    assert!((s.saved_usd - 0.002).abs() < 1e-15);
    let mini = &s.per_model["openai:gpt-4o-mini"];
    assert_eq!(mini.calls, 2);
    assert_eq!(mini.usage.input_tokens, 2000);
    assert_eq!(mini.usage.cached_input_tokens, 100);
    assert_eq!(mini.usage.output_tokens, 1000);
}

#[tokio::test]
async fn a_call_is_priced_and_a_hit_costs_nothing_and_counts_as_saved() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(fixture("openai_chat_completion.json")),
        )
        .expect(1)
        .mount(&server)
        .await;
    let generator = AiGenerator::builder()
        .provider(openai(&server))
        .prices(PriceTable::new().with_price(
            "gpt-4o-mini",
            ModelPrice::new(2.50, 10.00).with_cached_input(1.25),
        ))
        .build()
        .unwrap();
    let paid = generator.generate(&request()).await.unwrap();
    let cost = paid.provenance.cost_usd.unwrap();
    assert!((cost - 0.00575).abs() < 1e-15, "{cost}");
    let hit = generator.generate(&request()).await.unwrap();
    assert_eq!(hit.provenance.cost_usd, Some(0.0));
    assert_eq!(hit.provenance.usage, Usage::default());
    let s = generator.ledger().snapshot();
    assert!((s.spent_usd - 0.00575).abs() < 1e-15);
    assert!((s.saved_usd - 0.00575).abs() < 1e-15);
    assert_eq!(s.per_model["openai:gpt-4o-mini-2024-07-18"].calls, 1);
}

#[tokio::test]
async fn offline_answers_cost_zero() {
    let generator = AiGenerator::builder().build().unwrap();
    let out = generator.generate(&bypass()).await.unwrap();
    assert_eq!(out.provenance.provider, "offline");
    assert_eq!(out.provenance.cost_usd, Some(0.0));
    assert_eq!(generator.ledger().snapshot().unpriced_calls, 0);
}
