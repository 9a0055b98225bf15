//! Shared test helpers: a mock Graph server with a catch-all that fails unexpected requests,
//! a counting token provider, form-body matching and fixtures.

#![allow(dead_code, unreachable_pub, missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use cmis_core::PollPolicy;
use cmis_core::{
    AccessToken, AccountRef, Credential, MemoryCheckpointSink, Platform, PublishContext, Result,
    SecretString, TokenProvider,
};
use cmis_meta::MetaClient;
use wiremock::matchers::any;
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};

pub mod media;
#[allow(unused_imports)]
pub use media::{JPEG, MP4, PNG};

pub const PAGE: &str = "1234567890";
pub const IG: &str = "17841400000000001";
pub const TOKEN: &str = "EAAB-PAGE-TOKEN-SECRET";
pub const APP_ID: &str = "555000111";

pub fn fixture(name: &str) -> serde_json::Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

pub fn json(status: u16, name: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(fixture(name))
}

/// Any request no other mock matched is answered 599 and fails verification.
pub async fn catch_all(server: &MockServer) {
    Mock::given(any())
        .respond_with(ResponseTemplate::new(599))
        .with_priority(u8::MAX)
        .expect(0)
        .named("unexpected request")
        .mount(server)
        .await;
}

/// A token provider handing out one fixed token and counting invalidations.
#[derive(Debug, Default)]
pub struct CountingTokens {
    pub invalidations: AtomicUsize,
    pub requests: AtomicUsize,
}

#[async_trait]
impl TokenProvider for CountingTokens {
    async fn access_token(&self, account: &AccountRef) -> Result<AccessToken> {
        self.requests.fetch_add(1, Ordering::SeqCst);
        Ok(AccessToken::from_credential(&Credential::new(
            account.clone(),
            SecretString::from(TOKEN),
        )))
    }

    async fn invalidate(&self, _account: &AccountRef, _rejected: &AccessToken) {
        self.invalidations.fetch_add(1, Ordering::SeqCst);
    }
}

pub struct Harness {
    pub server: MockServer,
    pub client: MetaClient,
    pub tokens: Arc<CountingTokens>,
    pub checkpoints: Arc<MemoryCheckpointSink>,
    pub ctx: PublishContext,
}

pub fn fast_poll() -> PollPolicy {
    PollPolicy::new(
        Duration::from_secs(5),
        Duration::from_secs(60),
        Duration::from_secs(300),
    )
}

pub async fn harness() -> Harness {
    harness_with(|b| b).await
}

pub async fn harness_with(
    f: impl FnOnce(cmis_meta::MetaClientBuilder) -> cmis_meta::MetaClientBuilder,
) -> Harness {
    let server = MockServer::start().await;
    catch_all(&server).await;
    let client = f(MetaClient::builder()
        .graph_url(server.uri())
        .app_id(APP_ID)
        .app_secret(SecretString::from("APP-SECRET"))
        .poll_policy(fast_poll()))
    .build()
    .unwrap();
    let tokens = Arc::new(CountingTokens::default());
    let checkpoints = Arc::new(MemoryCheckpointSink::new());
    let ctx = PublishContext::new(tokens.clone()).with_checkpoint_sink(checkpoints.clone());
    Harness {
        server,
        client,
        tokens,
        checkpoints,
        ctx,
    }
}

pub fn page() -> AccountRef {
    AccountRef::new(cmis_core::TenantId::new("acme"), Platform::Facebook, PAGE)
}

pub fn ig() -> AccountRef {
    AccountRef::new(cmis_core::TenantId::new("acme"), Platform::Instagram, IG)
}

pub fn bearer() -> (&'static str, String) {
    ("authorization", format!("Bearer {TOKEN}"))
}

pub fn oauth() -> (&'static str, String) {
    ("authorization", format!("OAuth {TOKEN}"))
}

/// Matches an `application/x-www-form-urlencoded` body holding exactly these fields.
pub struct Form(pub Vec<(String, String)>);

pub fn form(pairs: &[(&str, &str)]) -> Form {
    Form(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    )
}

impl Match for Form {
    fn matches(&self, request: &Request) -> bool {
        let is_form = request
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        let mut got: Vec<(String, String)> = url::form_urlencoded::parse(&request.body)
            .into_owned()
            .collect();
        let mut want = self.0.clone();
        got.sort();
        want.sort();
        is_form && got == want
    }
}

/// Matches a request whose URL carries no access token.
pub struct NoTokenInUrl;

impl Match for NoTokenInUrl {
    fn matches(&self, request: &Request) -> bool {
        !request.url.as_str().contains(TOKEN)
            && !request.url.query_pairs().any(|(k, _)| k == "access_token")
    }
}

/// Matches a multipart body with these text fields and a file part named `file_field` holding
/// `data`.
pub struct Multipart {
    pub fields: Vec<(String, String)>,
    pub file_field: String,
    pub data: Vec<u8>,
}

impl Match for Multipart {
    fn matches(&self, request: &Request) -> bool {
        let Some(ct) = request
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
        else {
            return false;
        };
        let Some(boundary) = ct
            .strip_prefix("multipart/form-data; boundary=")
            .map(str::to_owned)
        else {
            return false;
        };
        let body = &request.body;
        let delimiter = format!("--{boundary}").into_bytes();
        let parts = split_bytes(body, &delimiter);
        // preamble, N parts, the closing "--\r\n"
        if parts.len() < 3 || parts.last().map(|p| p.as_slice()) != Some(b"--\r\n".as_slice()) {
            return false;
        }
        let mut seen_fields = Vec::new();
        let mut file_ok = false;
        for part in &parts[1..parts.len() - 1] {
            let Some(split) = find(part, b"\r\n\r\n") else {
                return false;
            };
            let head = String::from_utf8_lossy(&part[..split]).into_owned();
            let content = &part[split + 4..];
            let content = content.strip_suffix(b"\r\n").unwrap_or(content);
            let name = head
                .split("name=\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .unwrap_or("")
                .to_owned();
            if name == self.file_field {
                file_ok = head.contains("filename=\"") && content == self.data.as_slice();
            } else {
                seen_fields.push((name, String::from_utf8_lossy(content).into_owned()));
            }
        }
        let mut want = self.fields.clone();
        want.sort();
        seen_fields.sort();
        file_ok && seen_fields == want
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn split_bytes(hay: &[u8], delim: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = hay;
    while let Some(i) = find(rest, delim) {
        out.push(rest[..i].to_vec());
        rest = &rest[i + delim.len()..];
    }
    out.push(rest.to_vec());
    out
}

/// Matches an exact raw body.
pub struct RawBody(pub Vec<u8>);

impl Match for RawBody {
    fn matches(&self, request: &Request) -> bool {
        request.body == self.0
    }
}

/// A file in a fresh temporary directory, removed (with the directory) when dropped.
#[derive(Debug)]
pub struct TempFile(std::path::PathBuf);

impl std::ops::Deref for TempFile {
    type Target = std::path::PathBuf;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl AsRef<std::path::Path> for TempFile {
    fn as_ref(&self) -> &std::path::Path {
        &self.0
    }
}

impl From<&TempFile> for std::path::PathBuf {
    fn from(f: &TempFile) -> Self {
        f.0.clone()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(dir) = self.0.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Writes `bytes` to `name` in a fresh temporary directory.
pub fn temp_file(name: &str, bytes: &[u8]) -> TempFile {
    // Unique per process, test binary and call.
    let dir = std::env::temp_dir().join(format!(
        "cmis-meta-{}-{}-{}",
        std::process::id(),
        env!("CARGO_CRATE_NAME"),
        fastrand_suffix()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    TempFile(path)
}

fn fastrand_suffix() -> usize {
    static N: AtomicUsize = AtomicUsize::new(0);
    N.fetch_add(1, Ordering::SeqCst)
}

/// On a paused clock, tokio jumps to the next timer whenever the runtime is idle. wiremock
/// answers from its own thread, so while a request is in flight the only timer would be
/// reqwest's 120 s timeout, and the clock would jump straight to it. This task advances virtual
/// time in 10 ms steps and gives each step 100 µs of real time, so a response arriving within
/// 100 ms of real time moves the clock by at most 10 s: only the code's own sleeps move it far.
pub fn keep_clock_ticking() -> tokio::task::JoinHandle<()> {
    tokio::spawn(async {
        loop {
            std::thread::sleep(Duration::from_micros(100));
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
}
