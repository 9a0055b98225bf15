//! Shared test helpers: a mock server that fails unexpected requests, fixtures, a publish
//! context over an in-memory credential store, and test videos on disk.
#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use cmis_core::{
    AccountRef, Checkpoint, CheckpointSink, Credential, CredentialStore, MemoryCheckpointSink,
    MemoryCredentialStore, Platform, PublishContext, RefreshingTokenProvider, RetryPolicy,
    SecretString, Target,
};
use cmis_tiktok::{TikTokClient, TikTokPublisher, TikTokRefresher, default_poll};
use serde_json::Value;
use time::OffsetDateTime;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

pub const OPEN_ID: &str = "723f24d7-e717-40f8-a2b6-cb8464cd23b4";
pub const TOKEN: &str = "act.old-access";
pub const REFRESH: &str = "rft.old-refresh";
pub const JSON_UTF8: &str = "application/json; charset=UTF-8";
pub const MIB5: u64 = 5 * 1024 * 1024;

pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// An init fixture whose `upload_url` points at `server` (path and query as documented).
pub fn init_fixture(name: &str, server: &MockServer) -> Value {
    let mut v = fixture(name);
    let url = v["data"]["upload_url"]
        .as_str()
        .unwrap()
        .replace("https://open-upload.tiktokapis.com", &server.uri());
    v["data"]["upload_url"] = Value::String(url);
    v
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

pub fn client(server: &MockServer) -> TikTokClient {
    TikTokClient::builder()
        .client_key("awclientkey")
        .client_secret(SecretString::from("client-secret-value"))
        .api_base_url(server.uri())
        .build()
        .unwrap()
}

/// A publisher that polls every few milliseconds for at most `horizon_ms`, and retries a chunk
/// after at most a millisecond.
pub fn publisher(server: &MockServer, horizon_ms: u64) -> TikTokPublisher {
    TikTokPublisher::new(client(server))
        .with_poll(
            default_poll()
                .with_initial(Duration::from_millis(5))
                .with_max_interval(Duration::from_millis(10))
                .with_budget(Duration::from_millis(horizon_ms)),
        )
        .with_upload_retry(
            RetryPolicy::default()
                .with_base(Duration::from_millis(1))
                .with_cap(Duration::from_millis(1)),
        )
}

pub fn account() -> AccountRef {
    AccountRef::new(
        cmis_core::TenantId::new("tenant-1"),
        Platform::TikTok,
        OPEN_ID,
    )
}

pub fn target() -> Target {
    Target::feed(account())
}

pub struct Env {
    pub store: Arc<MemoryCredentialStore>,
    pub checkpoints: Arc<MemoryCheckpointSink>,
    pub ctx: PublishContext,
}

/// A context whose token is valid for an hour, with `scopes` granted (empty: unknown).
pub async fn env(server: &MockServer, scopes: &[&str]) -> Env {
    let store = Arc::new(MemoryCredentialStore::new());
    store
        .put_credential(
            Credential::new(account(), SecretString::from(TOKEN))
                .with_refresh_token(SecretString::from(REFRESH))
                .with_access_expires_at(OffsetDateTime::now_utc() + Duration::from_secs(3600))
                .with_scopes(scopes.iter().copied()),
        )
        .await
        .unwrap();
    let tokens = RefreshingTokenProvider::builder(store.clone())
        .refresher(Arc::new(TikTokRefresher::new(client(server))))
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

/// A minimal valid MP4 of `size` bytes lasting 10 s, in a fresh temporary directory.
pub fn mp4_file(name: &str, size: u64) -> PathBuf {
    mp4_with_duration(name, 10, size)
}

/// The publish_id recorded in a checkpoint.
pub fn publish_id_of(cp: &Checkpoint) -> String {
    let v: Value = serde_json::from_str(&cp.data_json()).unwrap();
    v["publish_id"].as_str().unwrap().to_owned()
}

/// A minimal MP4 of `size` bytes whose `mvhd` says it lasts `seconds`: `ftyp`, `moov`/`mvhd`,
/// then an `mdat` box filling the rest.
pub fn mp4_with_duration(name: &str, seconds: u32, size: u64) -> PathBuf {
    let mut data = Vec::new();
    data.extend_from_slice(&24u32.to_be_bytes());
    data.extend_from_slice(b"ftypisom\0\0\x02\0isommp41");
    let mut mvhd = vec![0u8; 100];
    mvhd[12..16].copy_from_slice(&1000u32.to_be_bytes());
    mvhd[16..20].copy_from_slice(&(seconds * 1000).to_be_bytes());
    let moov_len = 8 + 8 + mvhd.len();
    data.extend_from_slice(&u32::try_from(moov_len).unwrap().to_be_bytes());
    data.extend_from_slice(b"moov");
    data.extend_from_slice(&u32::try_from(8 + mvhd.len()).unwrap().to_be_bytes());
    data.extend_from_slice(b"mvhd");
    data.extend_from_slice(&mvhd);
    let rest = size - u64::try_from(data.len()).unwrap();
    data.extend_from_slice(&u32::try_from(rest).unwrap().to_be_bytes());
    data.extend_from_slice(b"mdat");
    // Varied bytes, so a chunk sent from the wrong offset cannot match.
    let start = data.len();
    data.extend((start..usize::try_from(size).unwrap()).map(|i| u8::try_from(i % 251).unwrap()));
    let dir = std::env::temp_dir().join(format!("cmis-tiktok-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.mp4"));
    std::fs::write(&path, &data).unwrap();
    path
}
