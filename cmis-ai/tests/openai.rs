//! OpenAI-compatible Chat Completions: request shape, parsing, every error class and its action.

mod common;

use std::time::Duration;

use cmis_ai::{AiGenerator, FailureClass, ModelPrice, OpenAiClient, PriceTable, Provider};
use cmis_core::{ContentGenerator, ErrorKind, SecretString};
use common::*;
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn strict_schema() -> serde_json::Value {
    json!({
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
    })
}

#[tokio::test]
async fn request_shape_and_response_parsing() {
    let server = MockServer::start().await;
    let req = request().with_temperature(0.5);
    let p = prompt(&req);
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(header("authorization", "Bearer sk-test"))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "model": "gpt-4o-mini",
            "messages": [
                { "role": "system", "content": p.system },
                { "role": "user", "content": p.user },
            ],
            "max_completion_tokens": 1024,
            "temperature": 0.5,
            "response_format": {
                "type": "json_schema",
                "json_schema": { "name": "cmis_generation", "strict": true, "schema": strict_schema() }
            }
        })))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-request-id", "req_openai_1")
                .set_body_json(fixture("openai_chat_completion.json")),
        )
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;

    let generator = AiGenerator::builder()
        .provider(openai(&server))
        .prices(PriceTable::new().with_price("gpt-4o-mini", ModelPrice::new(0.15, 0.60)))
        .build()
        .unwrap();
    let out = generator.generate(&req).await.unwrap();
    assert_eq!(
        out.text,
        "Our autumn menu lands Friday: pumpkin soup and fresh sourdough."
    );
    assert_eq!(
        out.hashtags,
        vec!["#AutumnMenu", "#PumpkinSoup", "#Sourdough"]
    );
    let pv = &out.provenance;
    assert_eq!(pv.provider, "openai");
    assert_eq!(pv.model, "gpt-4o-mini-2024-07-18");
    assert_eq!(pv.request_id.as_deref(), Some("req_openai_1"));
    assert_eq!(pv.attempts, 1);
    assert!(!pv.cached);
    assert_eq!(
        (
            pv.usage.input_tokens,
            pv.usage.cached_input_tokens,
            pv.usage.output_tokens,
            pv.usage.reasoning_tokens
        ),
        (1200, 200, 300, 50)
    );
    // 1200 input at $0.15/M (no cached price set) + 300 output at $0.60/M.
    let cost = pv.cost_usd.unwrap();
    assert!(
        (cost - (1200.0 * 0.15 + 300.0 * 0.60) / 1e6).abs() < 1e-15,
        "{cost}"
    );
}

#[tokio::test]
async fn local_server_without_key_or_schema_and_custom_path() {
    let server = MockServer::start().await;
    let req = request();
    let p = prompt(&req);
    Mock::given(method("POST"))
        .and(path("/api/v1/chat"))
        .and(body_json(json!({
            "model": "llama3.2",
            "messages": [
                { "role": "system", "content": p.system },
                { "role": "user", "content": p.user },
            ],
            "max_completion_tokens": 1024,
        })))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(fixture("openai_chat_completion.json")),
        )
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let client = OpenAiClient::builder()
        .base_url(server.uri())
        .path("api/v1/chat")
        .model("llama3.2")
        .name("ollama")
        .structured_output(false)
        .build()
        .unwrap();
    let done = client.complete(&p).await.unwrap();
    assert_eq!(done.drafts.len(), 1);
    let received = server.received_requests().await.unwrap();
    assert!(received[0].headers.get("authorization").is_none());
}

#[tokio::test]
async fn every_error_class_is_recognised() {
    let cases: Vec<(ResponseTemplate, FailureClass, Option<Duration>)> = vec![
        (
            json_error(429, "openai_error_rate_limit.json").insert_header("retry-after", "20"),
            FailureClass::RateLimited,
            Some(Duration::from_secs(20)),
        ),
        (
            json_error(429, "openai_error_rate_limit.json").insert_header("retry-after-ms", "1500"),
            FailureClass::RateLimited,
            Some(Duration::from_millis(1500)),
        ),
        (
            json_error(429, "openai_error_insufficient_quota.json"),
            FailureClass::QuotaExhausted,
            None,
        ),
        (
            json_error(400, "openai_error_context_length.json"),
            FailureClass::ContextTooLong,
            None,
        ),
        (
            json_error(400, "openai_error_invalid_request.json"),
            FailureClass::InvalidRequest,
            None,
        ),
        (
            json_error(401, "openai_error_invalid_api_key.json"),
            FailureClass::Auth,
            None,
        ),
        (
            ResponseTemplate::new(200).set_body_json(fixture("openai_content_filter.json")),
            FailureClass::ContentFiltered,
            None,
        ),
        (
            ResponseTemplate::new(500).set_body_string("upstream error"),
            FailureClass::ServerError,
            None,
        ),
        (ResponseTemplate::new(503), FailureClass::Overloaded, None),
        (
            ResponseTemplate::new(200).set_body_json(
                json!({"choices":[{"message":{"content":"not json"},"finish_reason":"stop"}]}),
            ),
            FailureClass::InvalidOutput,
            None,
        ),
    ];
    for (response, class, retry_after) in cases {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(response.insert_header("x-request-id", "req_err"))
            .expect(1)
            .mount(&server)
            .await;
        let err = openai(&server)
            .complete(&prompt(&request()))
            .await
            .unwrap_err();
        assert_eq!(err.class(), class, "{err}");
        assert_eq!(err.retry_after(), retry_after, "{err}");
        assert_eq!(err.error().trace_id(), Some("req_err"));
        assert!(!err.to_string().contains("sk-test"));
    }
}

#[tokio::test]
async fn timeout_is_its_own_class() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let client = OpenAiClient::builder()
        .base_url(server.uri())
        .api_key(SecretString::from("sk-test"))
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let err = client.complete(&prompt(&request())).await.unwrap_err();
    assert_eq!(err.class(), FailureClass::Timeout, "{err}");
}

/// Runs one bypassing request through OpenAI then Anthropic, OpenAI answering `failure`.
async fn through_chain(
    failure: ResponseTemplate,
    fallback_calls: u64,
) -> (
    cmis_core::Result<cmis_core::Generated>,
    AiGenerator,
    MockServer,
    MockServer,
) {
    let primary = MockServer::start().await;
    let secondary = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(failure)
        .expect(1)
        .mount(&primary)
        .await;
    catch_all(&primary).await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(anthropic_ok())
        .expect(fallback_calls)
        .mount(&secondary)
        .await;
    catch_all(&secondary).await;
    let generator = AiGenerator::builder()
        .provider(openai(&primary))
        .provider(anthropic(&secondary))
        .build()
        .unwrap();
    let out = generator.generate(&bypass()).await;
    (out, generator, primary, secondary)
}

#[tokio::test]
async fn rate_limit_fails_over_at_once_and_cools_down_for_the_retry_after() {
    let (out, generator, _p, _s) = through_chain(
        json_error(429, "openai_error_rate_limit.json").insert_header("retry-after", "20"),
        1,
    )
    .await;
    let out = out.unwrap();
    assert_eq!(out.provenance.provider, "anthropic");
    assert_eq!(out.provenance.attempts, 2);
    assert_eq!(out.provenance.request_id.as_deref(), Some("req_fallback"));
    assert!(generator.router().is_cooling_down("openai"));
}

#[tokio::test]
async fn insufficient_quota_fails_over_and_the_provider_is_skipped_afterwards() {
    let (out, generator, _p, secondary) =
        through_chain(json_error(429, "openai_error_insufficient_quota.json"), 2).await;
    assert_eq!(out.unwrap().provenance.provider, "anthropic");
    assert!(generator.router().is_cooling_down("openai"));
    // The primary's mock expects exactly one call: this one goes straight to Anthropic.
    let again = generator.generate(&bypass()).await.unwrap();
    assert_eq!(again.provenance.provider, "anthropic");
    assert_eq!(again.provenance.attempts, 1);
    drop(secondary);
}

#[tokio::test]
async fn invalid_request_never_fails_over() {
    let (out, generator, _p, _s) =
        through_chain(json_error(400, "openai_error_invalid_request.json"), 0).await;
    let err = out.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(err.platform_code(), Some("invalid_request"));
    assert!(!generator.router().is_cooling_down("openai"));
}

#[tokio::test]
async fn context_too_long_auth_content_filter_and_5xx_fail_over() {
    for (failure, cools_down) in [
        (json_error(400, "openai_error_context_length.json"), false),
        (json_error(401, "openai_error_invalid_api_key.json"), true),
        (
            ResponseTemplate::new(200).set_body_json(fixture("openai_content_filter.json")),
            false,
        ),
        (ResponseTemplate::new(502), false),
    ] {
        let (out, generator, _p, _s) = through_chain(failure, 1).await;
        assert_eq!(out.unwrap().provenance.provider, "anthropic");
        assert_eq!(generator.router().is_cooling_down("openai"), cools_down);
    }
}
