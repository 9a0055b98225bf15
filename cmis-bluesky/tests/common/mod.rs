//! Shared test helpers: a mock PDS that fails unexpected requests, the fixtures, and a publish
//! context over an in-memory credential store with the Bluesky refresher.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::time::Duration;

use cmis_bluesky::{BlueskyClient, BlueskyPublisher, BlueskyRefresher};
use cmis_core::{
    AccountRef, CheckpointSink, Credential, CredentialStore, MemoryCheckpointSink,
    MemoryCredentialStore, Platform, PublishContext, RefreshingTokenProvider, SecretString, Target,
    TenantId,
};
use serde_json::Value;
use time::OffsetDateTime;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

pub const DID: &str = "did:plc:ewvi7nxzyoun6zhxrhs64oiz";
pub const ACCESS: &str = "access-old";
pub const REFRESH: &str = "refresh-old";

pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// One named case of `errors.json`: its status, headers and body.
pub fn error_case(name: &str) -> ResponseTemplate {
    let cases = fixture("errors.json");
    let case = cases
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no error case {name}"));
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

pub fn client(server: &MockServer) -> BlueskyClient {
    BlueskyClient::builder()
        .pds_url(server.uri())
        .build()
        .unwrap()
}

pub fn publisher(server: &MockServer) -> BlueskyPublisher {
    BlueskyPublisher::new(client(server))
}

pub fn account() -> AccountRef {
    AccountRef::new(TenantId::new("tenant-1"), Platform::Bluesky, DID)
}

pub fn target() -> Target {
    Target::feed(account())
}

pub struct Env {
    pub store: Arc<MemoryCredentialStore>,
    pub checkpoints: Arc<MemoryCheckpointSink>,
    pub ctx: PublishContext,
}

/// A context whose stored token is valid for `valid_for`.
pub async fn env(server: &MockServer, valid_for: Duration) -> Env {
    let store = Arc::new(MemoryCredentialStore::new());
    store
        .put_credential(
            Credential::new(account(), SecretString::from(ACCESS))
                .with_refresh_token(SecretString::from(REFRESH))
                .with_access_expires_at(OffsetDateTime::now_utc() + valid_for),
        )
        .await
        .unwrap();
    let tokens = RefreshingTokenProvider::builder(store.clone())
        .refresher(Arc::new(BlueskyRefresher::new(client(server))))
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

/// The `createRecord` answer for the record key `rkey`.
pub fn created(rkey: &str) -> Value {
    let mut v = fixture("create_record.json");
    v["uri"] = Value::String(format!("at://{DID}/app.bsky.feed.post/{rkey}"));
    v
}
