//! Shared test helpers: a mock Google that fails unexpected requests, the fixtures, the
//! fixtures' 1 000 000-byte video, and a publish context over an in-memory credential store.
#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cmis_core::{
    AccountRef, CheckpointSink, Clock, Credential, CredentialStore, Media, MemoryCheckpointSink,
    MemoryCredentialStore, Platform, PollPolicy, Post, Progress, PublishContext,
    RefreshingTokenProvider, RetryPolicy, SecretString, Target, TenantId, YouTubeOptions,
    YouTubePrivacy,
};
use cmis_youtube::{GoogleTokenRefresher, YouTubeClient, YouTubePublisher};
use serde_json::Value;
use time::OffsetDateTime;
use time::macros::datetime;
use wiremock::matchers::{any, header, method, path};
use wiremock::{Mock, MockBuilder, MockServer, Request, ResponseTemplate};

pub const CHANNEL: &str = "UCcmisTestChannel0000001";
pub const VIDEO: &str = "cmisTest001";
pub const ACCESS: &str = "ya29.a0AfB_cmis-access-1";
pub const REFRESH: &str = "1//0cmis-refresh-1";
pub const TOTAL: usize = 1_000_000;
pub const CHUNK: u64 = 262_144;
/// The session path and query of `upload_init_response.json`'s `Location`.
pub const SESSION: &str =
    "/upload/youtube/v3/videos?uploadType=resumable&upload_id=xa298sd_f&part=snippet,status";
/// When the fixtures' upload happens: just before its `publishedAt` (2026-11-20T09:30:12Z).
pub const NOW: OffsetDateTime = datetime!(2026-11-20 09:30 UTC);

pub fn fixture_text(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn fixture(name: &str) -> Value {
    serde_json::from_str(&fixture_text(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// One named case of `errors.json` as a response.
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

/// The response of an exchange fixture (`{request, response}`) or a response fixture
/// (`{status, headers, body}`).
pub fn response_of(name: &str) -> ResponseTemplate {
    let v = fixture(name);
    let r = if v.get("response").is_some() {
        v["response"].clone()
    } else {
        v
    };
    let status = u16::try_from(r["status"].as_u64().unwrap()).unwrap();
    let mut t = ResponseTemplate::new(status);
    for (k, val) in r["headers"].as_object().unwrap() {
        if k.eq_ignore_ascii_case("content-length") {
            continue;
        }
        t = t.insert_header(k.as_str(), val.as_str().unwrap());
    }
    match &r["body"] {
        Value::String(s) if s.is_empty() => t,
        Value::String(s) => t.set_body_string(s.clone()),
        other => t.set_body_json(other.clone()),
    }
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

pub fn client(server: &MockServer) -> YouTubeClient {
    YouTubeClient::builder()
        .api_url(server.uri())
        .token_url(format!("{}/token", server.uri()))
        .client_id("1234567890-cmisfixture.apps.googleusercontent.com")
        .client_secret(SecretString::from("cmis-client-secret"))
        .build()
        .unwrap()
}

#[derive(Debug)]
pub struct Fixed(pub OffsetDateTime);

impl Clock for Fixed {
    fn now(&self) -> OffsetDateTime {
        self.0
    }
}

/// A publisher in 256 KiB chunks, retrying at once, polling once per call, at [`NOW`].
pub fn publisher(server: &MockServer) -> YouTubePublisher {
    YouTubePublisher::new(client(server))
        .with_chunk_size(CHUNK)
        .unwrap()
        .with_upload_retry(
            RetryPolicy::default()
                .with_max_attempts(3)
                .with_base(Duration::ZERO)
                .with_cap(Duration::ZERO),
        )
        .with_poll(PollPolicy::new(
            Duration::ZERO,
            Duration::ZERO,
            Duration::ZERO,
        ))
        .with_clock(Arc::new(Fixed(NOW)))
}

pub fn account() -> AccountRef {
    AccountRef::new(TenantId::new("tenant-1"), Platform::YouTube, CHANNEL)
}

pub fn target() -> Target {
    Target::feed(account())
}

/// The fixtures' video: a valid MP4 of exactly 1 000 000 bytes (a probe-able header, then an
/// `mdat` box filled with a pattern that makes every range distinct).
pub fn video_bytes() -> Vec<u8> {
    let mut v = cmis_media::sample::mp4(1920, 1080, 10, 30);
    // The sample ends with an 8 + 64 byte `mdat`; replace it with one filling the file.
    v.truncate(v.len() - 72);
    let size = u32::try_from(TOTAL - v.len()).unwrap();
    v.extend(size.to_be_bytes());
    v.extend(b"mdat");
    let mut i: u32 = 0;
    while v.len() < TOTAL {
        v.push(u8::try_from(i % 251).unwrap());
        i += 1;
    }
    v
}

/// Writes the video to a temporary file named after `test`.
pub fn video_file(test: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("cmis-youtube-{}-{test}.mp4", std::process::id()));
    std::fs::write(&path, video_bytes()).unwrap();
    path
}

/// The post `upload_init_request.json` describes.
pub fn fixture_post(video: Media) -> Post {
    Post::new()
        .with_text("cmis fixture upload\nUploaded by the cmis YouTube connector test suite.")
        .with_media(video)
        .with_youtube(
            YouTubeOptions::new()
                .with_privacy(YouTubePrivacy::Private)
                .with_publish_at(datetime!(2026-12-01 15:00 UTC))
                .with_tags(["rust", "cmis"]),
        )
}

pub struct Env {
    pub store: Arc<MemoryCredentialStore>,
    pub checkpoints: Arc<MemoryCheckpointSink>,
    pub progress: Arc<Mutex<Vec<(u64, u64)>>>,
    pub ctx: PublishContext,
}

/// A context whose stored token is valid for an hour, with the Google refresher.
pub async fn env(server: &MockServer) -> Env {
    let store = Arc::new(MemoryCredentialStore::new());
    store
        .put_credential(
            Credential::new(account(), SecretString::from(ACCESS))
                .with_refresh_token(SecretString::from(REFRESH))
                .with_access_expires_at(OffsetDateTime::now_utc() + Duration::from_secs(3600)),
        )
        .await
        .unwrap();
    let tokens = RefreshingTokenProvider::builder(store.clone())
        .refresher(Arc::new(GoogleTokenRefresher::new(client(server))))
        .build();
    let checkpoints = Arc::new(MemoryCheckpointSink::new());
    let progress = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&progress);
    let ctx = PublishContext::new(Arc::new(tokens))
        .with_checkpoint_sink(checkpoints.clone() as Arc<dyn CheckpointSink>)
        .with_progress(Arc::new(move |p: &Progress| {
            seen.lock().unwrap().push((p.bytes_sent, p.total_bytes));
        }));
    Env {
        store,
        checkpoints,
        progress,
        ctx,
    }
}

/// Matches a request whose query pairs are exactly `pairs` (in any order).
pub fn query_is(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&Request) -> bool {
    move |req: &Request| {
        let got: BTreeSet<(String, String)> = req.url.query_pairs().into_owned().collect();
        let want: BTreeSet<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        got == want
    }
}

pub const SESSION_QUERY: &[(&str, &str)] = &[
    ("uploadType", "resumable"),
    ("upload_id", "xa298sd_f"),
    ("part", "snippet,status"),
];

/// The session start of `upload_init_request.json`, answered by `upload_init_response.json`
/// with a `Location` on the mock server.
pub async fn mount_init(server: &MockServer, times: u64) {
    let request = fixture("upload_init_request.json");
    Mock::given(method("POST"))
        .and(path("/upload/youtube/v3/videos"))
        .and(query_is(&[
            ("uploadType", "resumable"),
            ("part", "snippet,status"),
        ]))
        .and(header("authorization", format!("Bearer {ACCESS}").as_str()))
        .and(header("content-type", "application/json; charset=UTF-8"))
        .and(header("x-upload-content-length", "1000000"))
        .and(header("x-upload-content-type", "video/mp4"))
        .and(wiremock::matchers::body_json(request["body"].clone()))
        .respond_with(
            response_of("upload_init_response.json")
                .insert_header("Location", format!("{}{SESSION}", server.uri()).as_str()),
        )
        .expect(times)
        .named("session start")
        .mount(server)
        .await;
}

/// A PUT to the session carrying bytes `first..=last` of the video, exactly.
pub fn chunk(first: u64, last: u64) -> MockBuilder {
    let bytes = video_bytes();
    let want = bytes[usize::try_from(first).unwrap()..=usize::try_from(last).unwrap()].to_vec();
    let len = want.len().to_string();
    Mock::given(method("PUT"))
        .and(path("/upload/youtube/v3/videos"))
        .and(query_is(SESSION_QUERY))
        .and(header("authorization", format!("Bearer {ACCESS}").as_str()))
        .and(header("content-type", "video/mp4"))
        .and(header(
            "content-range",
            format!("bytes {first}-{last}/1000000").as_str(),
        ))
        .and(header("content-length", len.as_str()))
        .and(move |req: &Request| req.body == want)
}

/// A probe of the session (`Content-Range: bytes */1000000`, no body).
pub fn probe() -> MockBuilder {
    Mock::given(method("PUT"))
        .and(path("/upload/youtube/v3/videos"))
        .and(query_is(SESSION_QUERY))
        .and(header("authorization", format!("Bearer {ACCESS}").as_str()))
        .and(header("content-range", "bytes */1000000"))
        .and(header("content-length", "0"))
        .and(|req: &Request| req.body.is_empty())
}

/// A 308 holding bytes `0..=last`.
pub fn incomplete(last: u64) -> ResponseTemplate {
    ResponseTemplate::new(308).insert_header("Range", format!("bytes=0-{last}").as_str())
}

/// `videos.list?part=status,processingDetails&id=cmisTest001` answered with `fixture`.
pub fn videos_list(fixture_name: &str) -> Mock {
    Mock::given(method("GET"))
        .and(path("/youtube/v3/videos"))
        .and(query_is(&[
            ("part", "status,processingDetails"),
            ("id", VIDEO),
        ]))
        .and(header("authorization", format!("Bearer {ACCESS}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture(fixture_name)))
}

/// The channel (`channels.list?mine=true`), its uploads playlist `UUcmisTestChannel0000001`.
pub fn channels_mine() -> Mock {
    Mock::given(method("GET"))
        .and(path("/youtube/v3/channels"))
        .and(query_is(&[("part", "snippet,contentDetails"), ("mine", "true")]))
        .and(header("authorization", format!("Bearer {ACCESS}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "kind": "youtube#channelListResponse",
            "items": [{
                "kind": "youtube#channel",
                "id": CHANNEL,
                "snippet": {"title": "cmis test channel"},
                "contentDetails": {"relatedPlaylists": {"likes": "", "uploads": "UUcmisTestChannel0000001"}}
            }]
        })))
}

/// The uploads playlist's ten latest items, answered with `items`.
pub fn uploads(items: Value) -> Mock {
    Mock::given(method("GET"))
        .and(path("/youtube/v3/playlistItems"))
        .and(query_is(&[
            ("part", "snippet"),
            ("playlistId", "UUcmisTestChannel0000001"),
            ("maxResults", "10"),
        ]))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "kind": "youtube#playlistItemListResponse",
            "items": items
        })))
}

/// A playlist item for the video `id` titled `title`, uploaded at `at`.
pub fn upload_item(id: &str, title: &str, at: &str) -> Value {
    serde_json::json!({
        "kind": "youtube#playlistItem",
        "snippet": {
            "publishedAt": at,
            "channelId": CHANNEL,
            "title": title,
            "resourceId": {"kind": "youtube#video", "videoId": id}
        }
    })
}
