//! Anthropic Messages: request shape, parsing, every error class and its action.

mod common;

use std::time::Duration;

use cmis_ai::{AiGenerator, FailureClass, Provider};
use cmis_core::{CacheMode, ContentGenerator, GenerateRequest, GenerationTask, Platform};
use common::*;
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn request_shape_and_response_parsing() {
    let server = MockServer::start().await;
    let req = GenerateRequest::new(
        cmis_core::TenantId::new("acme"),
        GenerationTask::Variants,
        Platform::Facebook,
        "autumn menu from friday",
    )
    .with_variants(2)
    .with_tone("warm");
    let p = prompt(&req);
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .and(header("x-api-key", "sk-ant-test"))
        .and(header("anthropic-version", "2023-06-01"))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "model": "claude-haiku-4-5",
            "max_tokens": 1024,
            "system": p.system,
            "messages": [ { "role": "user", "content": p.user } ],
            "output_config": {
                "format": {
                    "type": "json_schema",
                    "schema": {
                        "type": "object",
                        "properties": {
                            "variants": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "properties": {
                                        "text": { "type": "string" },
                                        "hashtags": { "type": "array", "items": { "type": "string" } }
                                    },
                                    "required": ["text", "hashtags"],
                                    "additionalProperties": false
                                }
                            }
                        },
                        "required": ["variants"],
                        "additionalProperties": false
                    }
                }
            }
        })))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("request-id", "req_anthropic_1")
                .set_body_json(fixture("anthropic_message.json")),
        )
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;
    assert!(p.user.contains("Tone: warm."));

    let generator = AiGenerator::builder()
        .provider(anthropic(&server))
        .build()
        .unwrap();
    let out = generator.generate(&req).await.unwrap();
    assert_eq!(
        out.variants,
        vec![
            "Autumn is on the menu from Friday.",
            "Pumpkin soup is back this Friday."
        ]
    );
    assert_eq!(out.text, out.variants[0]);
    assert_eq!(out.hashtags, vec!["#AutumnMenu", "#PumpkinSoup"]);
    let pv = &out.provenance;
    assert_eq!(pv.provider, "anthropic");
    assert_eq!(pv.model, "claude-haiku-4-5-20251001");
    assert_eq!(pv.request_id.as_deref(), Some("req_anthropic_1"));
    // input_tokens excludes the cache: 1000 + 100 written + 400 read.
    assert_eq!(pv.usage.input_tokens, 1500);
    assert_eq!(pv.usage.cached_input_tokens, 400);
    assert_eq!(pv.usage.output_tokens, 200);
    assert_eq!(pv.cost_usd, None, "no price configured");
}

#[tokio::test]
async fn every_error_class_is_recognised() {
    let cases = [
        (
            529,
            "anthropic_error_overloaded.json",
            FailureClass::Overloaded,
        ),
        (
            429,
            "anthropic_error_rate_limit.json",
            FailureClass::RateLimited,
        ),
        (
            400,
            "anthropic_error_invalid_request.json",
            FailureClass::InvalidRequest,
        ),
        (
            401,
            "anthropic_error_authentication.json",
            FailureClass::Auth,
        ),
        (
            402,
            "anthropic_error_billing.json",
            FailureClass::QuotaExhausted,
        ),
        (
            400,
            "anthropic_error_usage_limits.json",
            FailureClass::QuotaExhausted,
        ),
        (
            400,
            "anthropic_error_prompt_too_long.json",
            FailureClass::ContextTooLong,
        ),
        (504, "anthropic_error_timeout.json", FailureClass::Timeout),
    ];
    for (status, name, class) in cases {
        let server = MockServer::start().await;
        let body = fixture(name);
        Mock::given(method("POST"))
            .and(path("/v1/messages"))
            .respond_with(
                ResponseTemplate::new(status)
                    .insert_header("retry-after", "7")
                    .set_body_json(&body),
            )
            .expect(1)
            .mount(&server)
            .await;
        let err = anthropic(&server)
            .complete(&prompt(&request()))
            .await
            .unwrap_err();
        assert_eq!(err.class(), class, "{name}: {err}");
        assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
        // No request-id header: the body's request_id is the trace id.
        assert_eq!(
            err.error().trace_id(),
            body["request_id"].as_str(),
            "{name}"
        );
        assert!(!err.to_string().contains("sk-ant-test"));
    }
    // A refusal in a 200 answer.
    let server = MockServer::start().await;
    let mut refused = fixture("anthropic_message.json");
    refused["stop_reason"] = json!("refusal");
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(refused))
        .mount(&server)
        .await;
    let err = anthropic(&server)
        .complete(&prompt(&request()))
        .await
        .unwrap_err();
    assert_eq!(err.class(), FailureClass::ContentFiltered);
}

#[tokio::test]
async fn overloaded_with_nobody_else_is_retried_once_then_offline_answers() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(json_error(529, "anthropic_error_overloaded.json"))
        .expect(2)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let generator = AiGenerator::builder()
        .provider(anthropic(&server))
        .build()
        .unwrap();
    let out = generator
        .generate(&request().with_cache(CacheMode::Bypass))
        .await
        .unwrap();
    assert_eq!(out.provenance.provider, "offline");
    assert_eq!(out.provenance.attempts, 3);
    assert_eq!(
        out.text,
        "Our autumn menu launches friday with pumpkin soup and fresh sourdough."
    );
}

#[tokio::test]
async fn billing_failure_skips_the_wait_and_cools_down() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json_error(402, "anthropic_error_billing.json"))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let generator = AiGenerator::builder()
        .provider(anthropic(&server))
        .build()
        .unwrap();
    let first = generator.generate(&bypass()).await.unwrap();
    assert_eq!(first.provenance.provider, "offline");
    assert_eq!(first.provenance.attempts, 2);
    assert!(generator.router().is_cooling_down("anthropic"));
    let second = generator.generate(&bypass()).await.unwrap();
    assert_eq!(second.provenance.attempts, 1, "anthropic is skipped");
}
