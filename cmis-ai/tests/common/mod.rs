//! Shared test helpers: fixtures, a catch-all mock, requests.
#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;
use std::time::Duration;

use cmis_ai::{AnthropicClient, GeminiClient, Limits, OpenAiClient, Prompt};
use cmis_core::{CacheMode, GenerateRequest, GenerationTask, Platform, SecretString};
use serde_json::Value;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

pub fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// Fails the test (at drop of the server) when any request matched no other mock.
pub async fn catch_all(server: &MockServer) {
    Mock::given(any())
        .respond_with(ResponseTemplate::new(599))
        .with_priority(u8::MAX)
        .expect(0)
        .named("unexpected request")
        .mount(server)
        .await;
}

pub fn request() -> GenerateRequest {
    GenerateRequest::new(
        cmis_core::TenantId::new("acme"),
        GenerationTask::Caption,
        Platform::Instagram,
        "our autumn menu launches friday with pumpkin soup and fresh sourdough",
    )
}

pub fn bypass() -> GenerateRequest {
    request().with_cache(CacheMode::Bypass)
}

pub fn prompt(req: &GenerateRequest) -> Prompt {
    Prompt::render(req, Limits::default().rules(req.platform).unwrap())
}

pub fn openai(server: &MockServer) -> OpenAiClient {
    OpenAiClient::builder()
        .base_url(server.uri())
        .api_key(SecretString::from("sk-test"))
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

pub fn anthropic(server: &MockServer) -> AnthropicClient {
    AnthropicClient::builder(SecretString::from("sk-ant-test"))
        .base_url(server.uri())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

pub fn gemini(server: &MockServer) -> GeminiClient {
    GeminiClient::builder(SecretString::from("AIza-test"))
        .base_url(server.uri())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

/// A valid Anthropic answer, used as the healthy fallback in fail-over tests.
pub fn anthropic_ok() -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("request-id", "req_fallback")
        .set_body_json(fixture("anthropic_message.json"))
}

pub fn json_error(status: u16, name: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(fixture(name))
}
