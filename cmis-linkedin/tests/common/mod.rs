//! Shared test helpers: a mock LinkedIn that fails unexpected requests, the documented fixtures,
//! and a publish context over an in-memory credential store with the LinkedIn refresher.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::time::Duration;

use cmis_core::{
    AccountRef, CheckpointSink, Credential, CredentialStore, MemoryCheckpointSink,
    MemoryCredentialStore, Platform, PollPolicy, PublishContext, RefreshingTokenProvider,
    SecretString, Target, TenantId,
};
use cmis_linkedin::{LinkedInClient, LinkedInPublisher, LinkedInRefresher};
use serde_json::Value;
use time::OffsetDateTime;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

pub const MEMBER: &str = "urn:li:person:8675309";
pub const ORG: &str = "urn:li:organization:2414183";
pub const ACCESS: &str = "access-old";
pub const REFRESH: &str = "refresh-old";
pub const POST_URN: &str = "urn:li:share:6844785523593134080";

pub fn fixture_text(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn fixture(name: &str) -> Value {
    serde_json::from_str(&fixture_text(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A fixture with LinkedIn's hosts replaced by the mock server's.
pub fn fixture_at(name: &str, server: &MockServer) -> Value {
    let text = fixture_text(name).replace("https://www.linkedin.com", &server.uri());
    serde_json::from_str(&text).unwrap()
}

/// One named case of `errors.json`.
pub fn error_json(name: &str) -> Value {
    fixture("errors.json")
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no error case {name}"))
        .clone()
}

/// One named case of `errors.json` as a response.
pub fn error_case(name: &str) -> ResponseTemplate {
    let case = error_json(name);
    let mut t = ResponseTemplate::new(u16::try_from(case["status"].as_u64().unwrap()).unwrap())
        .set_body_json(case["body"].clone());
    for (k, v) in case["headers"].as_object().unwrap() {
        t = t.insert_header(k.as_str(), v.as_str().unwrap());
    }
    t
}

/// A server whose fallback fails the test on any request no mock expects.
pub async fn server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(599))
        .with_priority(u8::MAX)
        .expect(0)
        .named("unexpected request")
        .mount(&server)
        .await;
    server
}

pub fn client(server: &MockServer) -> LinkedInClient {
    LinkedInClient::builder()
        .api_url(server.uri())
        .token_url(format!("{}/oauth/v2/accessToken", server.uri()))
        .client_id("861hhm46p48to2")
        .client_secret(SecretString::from("app-secret"))
        .version("202604".parse().unwrap())
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap()
}

/// A publisher polling media without waiting.
pub fn publisher(server: &MockServer) -> LinkedInPublisher {
    LinkedInPublisher::new(client(server)).with_media_poll(PollPolicy::new(
        Duration::from_millis(1),
        Duration::from_millis(1),
        Duration::from_millis(200),
    ))
}

pub fn account(author: &str) -> AccountRef {
    AccountRef::new(TenantId::new("tenant-1"), Platform::LinkedIn, author)
}

pub fn target(author: &str) -> Target {
    Target::feed(account(author))
}

pub struct Env {
    pub store: Arc<MemoryCredentialStore>,
    pub checkpoints: Arc<MemoryCheckpointSink>,
    pub ctx: PublishContext,
}

/// A context for `author` whose stored token is valid for a day.
pub async fn env(server: &MockServer, author: &str) -> Env {
    let store = Arc::new(MemoryCredentialStore::new());
    store
        .put_credential(
            Credential::new(account(author), SecretString::from(ACCESS))
                .with_refresh_token(SecretString::from(REFRESH))
                .with_access_expires_at(OffsetDateTime::now_utc() + Duration::from_secs(86_400)),
        )
        .await
        .unwrap();
    let tokens = RefreshingTokenProvider::builder(store.clone())
        .refresher(Arc::new(LinkedInRefresher::new(client(server))))
        .build();
    let checkpoints = Arc::new(MemoryCheckpointSink::new());
    let ctx = PublishContext::new(Arc::new(tokens))
        .with_checkpoint_sink(checkpoints.clone() as Arc<dyn CheckpointSink>);
    Env {
        store,
        checkpoints,
        ctx,
    }
}

/// The documented 201 for a create: no body, the id in `x-restli-id`.
pub fn created(urn: &str) -> ResponseTemplate {
    ResponseTemplate::new(201).insert_header("x-restli-id", urn)
}

/// Every request's body to `path`, as JSON.
pub async fn bodies(server: &MockServer, method: &str, path: &str) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.method.as_str() == method && r.url.path() == path)
        .map(|r| serde_json::from_slice(&r.body).unwrap_or(Value::Null))
        .collect()
}
