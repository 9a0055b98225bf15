//! Gemini generateContent: request shape (key in a header, never in the URL), parsing, every
//! error class and its action.

mod common;

use std::time::Duration;

use cmis_ai::{AiGenerator, FailureClass, Provider};
use cmis_core::ContentGenerator;
use common::*;
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn request_shape_and_response_parsing() {
    let server = MockServer::start().await;
    let req = request().with_temperature(0.25);
    let p = prompt(&req);
    Mock::given(method("POST"))
        .and(path("/v1beta/models/gemini-2.5-flash:generateContent"))
        .and(header("x-goog-api-key", "AIza-test"))
        .and(header("content-type", "application/json"))
        .and(query_param_is_missing("key"))
        .and(body_json(json!({
            "systemInstruction": { "parts": [ { "text": p.system } ] },
            "contents": [ { "role": "user", "parts": [ { "text": p.user } ] } ],
            "generationConfig": {
                "maxOutputTokens": 1024,
                "temperature": 0.25,
                "responseMimeType": "application/json",
                "responseSchema": {
                    "type": "OBJECT",
                    "properties": {
                        "variants": {
                            "type": "ARRAY",
                            "items": {
                                "type": "OBJECT",
                                "properties": {
                                    "text": { "type": "STRING" },
                                    "hashtags": { "type": "ARRAY", "items": { "type": "STRING" } }
                                },
                                "required": ["text", "hashtags"]
                            }
                        }
                    },
                    "required": ["variants"]
                }
            }
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("gemini_generate.json")))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;

    let generator = AiGenerator::builder()
        .provider(gemini(&server))
        .build()
        .unwrap();
    let out = generator.generate(&req).await.unwrap();
    assert_eq!(out.text, "Pumpkin soup and sourdough, from Friday.");
    assert_eq!(out.hashtags, vec!["#AutumnMenu", "#Sourdough"]);
    let pv = &out.provenance;
    assert_eq!(pv.provider, "gemini");
    assert_eq!(pv.model, "gemini-2.5-flash");
    assert_eq!(pv.request_id.as_deref(), Some("mNXUaJ2XLfGsqtsPycv8oA0"));
    assert_eq!(pv.usage.input_tokens, 800);
    assert_eq!(pv.usage.cached_input_tokens, 300);
    // Thought tokens are billed as output.
    assert_eq!(pv.usage.output_tokens, 220);
    assert_eq!(pv.usage.reasoning_tokens, 100);
    let received = server.received_requests().await.unwrap();
    assert!(!received[0].url.as_str().contains("AIza"));
}

#[tokio::test]
async fn every_error_class_is_recognised() {
    let cases = [
        (
            429,
            "gemini_error_rate_limit.json",
            FailureClass::RateLimited,
            Some(Duration::from_secs(22)),
        ),
        (
            429,
            "gemini_error_daily_quota.json",
            FailureClass::QuotaExhausted,
            Some(Duration::from_secs(3)),
        ),
        (
            400,
            "gemini_error_api_key_invalid.json",
            FailureClass::Auth,
            None,
        ),
        (
            400,
            "gemini_error_invalid_argument.json",
            FailureClass::InvalidRequest,
            None,
        ),
        (
            503,
            "gemini_error_unavailable.json",
            FailureClass::Overloaded,
            None,
        ),
        (
            200,
            "gemini_prompt_blocked.json",
            FailureClass::ContentFiltered,
            None,
        ),
    ];
    for (status, name, class, retry_after) in cases {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(json_error(status, name))
            .expect(1)
            .mount(&server)
            .await;
        let err = gemini(&server)
            .complete(&prompt(&request()))
            .await
            .unwrap_err();
        assert_eq!(err.class(), class, "{name}: {err}");
        assert_eq!(err.retry_after(), retry_after, "{name}");
    }
    // A candidate stopped by the safety system.
    let server = MockServer::start().await;
    let mut blocked = fixture("gemini_generate.json");
    blocked["candidates"][0]["finishReason"] = json!("SAFETY");
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(blocked))
        .mount(&server)
        .await;
    let err = gemini(&server)
        .complete(&prompt(&request()))
        .await
        .unwrap_err();
    assert_eq!(err.class(), FailureClass::ContentFiltered);
}

#[tokio::test]
async fn daily_quota_fails_over_at_once_instead_of_waiting() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json_error(429, "gemini_error_daily_quota.json"))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let generator = AiGenerator::builder()
        .provider(gemini(&server))
        .build()
        .unwrap();
    let out = generator.generate(&bypass()).await.unwrap();
    assert_eq!(out.provenance.provider, "offline");
    assert_eq!(out.provenance.attempts, 2);
    assert!(generator.router().is_cooling_down("gemini"));
}

#[tokio::test]
async fn invalid_model_names_are_refused_before_any_call() {
    let err = cmis_ai::GeminiClient::builder(cmis_core::SecretString::from("k"))
        .model("../../v1/files")
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), cmis_core::ErrorKind::InvalidInput);
}
