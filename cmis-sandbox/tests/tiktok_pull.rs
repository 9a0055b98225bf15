//! The fake TikTok's `PULL_FROM_URL` downloads ([`TikTokConfig::fetch_pulled_media`]): TikTok
//! fetches the media itself after init (`PROCESSING_DOWNLOAD`), and a failed download fails the
//! publish with `video_pull_failed` or `photo_pull_failed` (docs/tiktok-api.md §3, §5, §6).
//! A local media server on 127.0.0.1 records what the sandbox fetched.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode as AxumStatus;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::{Listener, ListenerExt};
use cmis_core::ExposeSecret;
use cmis_sandbox::{Creator, Fault, Sandbox, TikTokConfig, TikTokEndpoint, TikTokPublish};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::watch;

const SCOPES: &[&str] = &[
    "user.info.basic",
    "video.publish",
    "video.upload",
    "video.list",
];
/// The body every successful media URL answers.
const MEDIA: &[u8] = b"not really an mp4, but bytes all the same";

/// One GET the media server saw.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Hit {
    path: String,
    /// Whether the test had read init's answer when the GET arrived.
    after_answer: bool,
}

#[derive(Debug)]
struct Media {
    hits: Mutex<Vec<Hit>>,
    connections: AtomicUsize,
    answered: AtomicBool,
    release: watch::Sender<bool>,
}

/// A media server on 127.0.0.1. Paths starting `ok` answer 200 with [`MEDIA`], `held` the same
/// once [`MediaServer::release`] was called, `gone` 410, and anything else 404.
struct MediaServer {
    addr: SocketAddr,
    media: Arc<Media>,
}

impl MediaServer {
    async fn start() -> Self {
        let (release, _) = watch::channel(false);
        let media = Arc::new(Media {
            hits: Mutex::new(Vec::new()),
            connections: AtomicUsize::new(0),
            answered: AtomicBool::new(false),
            release,
        });
        let counter = media.clone();
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap()
            .tap_io(move |_| {
                counter.connections.fetch_add(1, Ordering::SeqCst);
            });
        let addr = listener.local_addr().unwrap();
        let router = Router::new()
            .route("/{name}", get(serve_media))
            .with_state(media.clone());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        MediaServer { addr, media }
    }

    /// The verified prefix for this server.
    fn prefix(&self) -> String {
        format!("http://{}/", self.addr)
    }

    fn url(&self, name: &str) -> String {
        format!("{}{name}", self.prefix())
    }

    fn hits(&self) -> Vec<Hit> {
        self.media.hits.lock().unwrap().clone()
    }

    fn paths(&self) -> Vec<String> {
        self.hits().into_iter().map(|h| h.path).collect()
    }

    fn connections(&self) -> usize {
        self.media.connections.load(Ordering::SeqCst)
    }

    /// Notes that the test has read init's answer.
    fn mark_answered(&self) {
        self.media.answered.store(true, Ordering::SeqCst);
    }

    /// Lets the `held` paths answer.
    fn release(&self) {
        self.media.release.send_replace(true);
    }
}

async fn serve_media(State(media): State<Arc<Media>>, Path(name): Path<String>) -> Response {
    media.hits.lock().unwrap().push(Hit {
        path: format!("/{name}"),
        after_answer: media.answered.load(Ordering::SeqCst),
    });
    if name.starts_with("held") {
        let mut release = media.release.subscribe();
        release.wait_for(|go| *go).await.unwrap();
    }
    if name.starts_with("ok") || name.starts_with("held") {
        (AxumStatus::OK, [("content-type", "video/mp4")], MEDIA).into_response()
    } else if name.starts_with("gone") {
        AxumStatus::GONE.into_response()
    } else {
        AxumStatus::NOT_FOUND.into_response()
    }
}

fn http() -> reqwest::Client {
    cmis_http::client_builder().unwrap().build().unwrap()
}

fn config(media: &MediaServer, fetch: bool) -> TikTokConfig {
    let mut config = TikTokConfig::default();
    config.processing_time = Duration::ZERO;
    config.verified_url_prefixes = vec![media.prefix(), "https://cdn.example.com/".into()];
    config.fetch_pulled_media = fetch;
    config
}

async fn sandbox(config: TikTokConfig) -> Sandbox {
    let sandbox = Sandbox::builder().tiktok(config).start().await.unwrap();
    sandbox.tiktok().add_creator(Creator::public("open-1"));
    sandbox
}

/// A fresh token per call keeps clear of the per-token rate limits.
fn token(s: &Sandbox) -> String {
    let t = s.tiktok().issue_tokens("open-1", SCOPES);
    t.access_token.expose_secret().to_owned()
}

async fn post_json(s: &Sandbox, path: &str, body: Value) -> (StatusCode, Value) {
    let r = http()
        .post(format!("{}{path}", s.tiktok().url()))
        .bearer_auth(token(s))
        .header("content-type", "application/json; charset=UTF-8")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap())
}

fn video_body(url: &str) -> Value {
    json!({
        "post_info": {"title": "pulled #video", "privacy_level": "PUBLIC_TO_EVERYONE"},
        "source_info": {"source": "PULL_FROM_URL", "video_url": url}
    })
}

fn photo_body(urls: &[String]) -> Value {
    json!({
        "media_type": "PHOTO", "post_mode": "DIRECT_POST",
        "post_info": {"title": "pulled photos", "privacy_level": "PUBLIC_TO_EVERYONE"},
        "source_info": {"source": "PULL_FROM_URL", "photo_cover_index": 0, "photo_images": urls}
    })
}

/// Inits at `path` with `body`, expecting success; returns the publish id.
async fn init(s: &Sandbox, path: &str, body: Value) -> String {
    let (status, reply) = post_json(s, path, body).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    reply["data"]["publish_id"].as_str().unwrap().to_owned()
}

async fn status(s: &Sandbox, publish_id: &str) -> Value {
    let (status, reply) = post_json(
        s,
        "/v2/post/publish/status/fetch/",
        json!({"publish_id": publish_id}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    reply["data"].clone()
}

fn publish(s: &Sandbox, publish_id: &str) -> TikTokPublish {
    s.tiktok()
        .publishes()
        .into_iter()
        .find(|p| p.publish_id == publish_id)
        .unwrap()
}

/// Polls (up to 10 s, every 20 ms) until `done` holds; panics with `what` otherwise.
async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..500 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("not within 10 s: {what}");
}

/// Waits until `publish_id` leaves processing; returns it.
async fn settled(s: &Sandbox, publish_id: &str) -> TikTokPublish {
    eventually("the publish left processing", || {
        !publish(s, publish_id).status.starts_with("PROCESSING")
    })
    .await;
    publish(s, publish_id)
}

/// The public video ids `video/list` shows.
async fn listed(s: &Sandbox) -> Vec<String> {
    let (status, reply) = post_json(s, "/v2/video/list/?fields=id", json!({"max_count": 20})).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    reply["data"]["videos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_pulled_video_is_downloaded_after_init_answered_then_published() {
    let media = MediaServer::start().await;
    let s = sandbox(config(&media, true)).await;
    let id = init(
        &s,
        "/v2/post/publish/video/init/",
        video_body(&media.url("held.mp4")),
    )
    .await;
    media.mark_answered();
    let data = status(&s, &id).await;
    assert_eq!(data["status"], "PROCESSING_DOWNLOAD", "{data}");
    assert_eq!(data["downloaded_bytes"], 0);

    // The GET is in flight, its answer held: the media has not arrived.
    eventually("the sandbox fetched the URL", || !media.hits().is_empty()).await;
    let p = publish(&s, &id);
    assert_eq!(p.status, "PROCESSING_DOWNLOAD");
    assert!(p.post_ids.is_empty());
    assert!(listed(&s).await.is_empty());

    media.release();
    let p = settled(&s, &id).await;
    assert_eq!(p.status, "PUBLISH_COMPLETE", "{p:?}");
    assert_eq!(p.downloaded_bytes, MEDIA.len() as u64);
    let data = status(&s, &id).await;
    assert_eq!(data["status"], "PUBLISH_COMPLETE", "{data}");
    assert_eq!(data["downloaded_bytes"], MEDIA.len());
    assert_eq!(listed(&s).await, vec![p.post_ids[0].to_string()]);
    assert_eq!(
        media.hits(),
        vec![Hit {
            path: "/held.mp4".into(),
            after_answer: true
        }]
    );
}

#[tokio::test]
async fn the_download_waits_for_a_delayed_answer() {
    let media = MediaServer::start().await;
    let s = sandbox(config(&media, true)).await;
    // Init acts, then holds its answer for a while: the download starts only after it.
    s.tiktok().inject(
        TikTokEndpoint::VideoInit,
        Fault::DelayAfterAccept(Duration::from_millis(600)),
        1,
    );
    let id = init(
        &s,
        "/v2/post/publish/video/init/",
        video_body(&media.url("ok.mp4")),
    )
    .await;
    media.mark_answered();
    let p = settled(&s, &id).await;
    assert_eq!(p.status, "PUBLISH_COMPLETE", "{p:?}");
    assert_eq!(
        media.hits(),
        vec![Hit {
            path: "/ok.mp4".into(),
            after_answer: true
        }]
    );
}

#[tokio::test]
async fn a_url_answering_404_or_410_fails_the_video_with_video_pull_failed() {
    let media = MediaServer::start().await;
    let mut config = config(&media, true);
    config.pull_delay = Duration::ZERO;
    let s = sandbox(config).await;
    let missing = init(
        &s,
        "/v2/post/publish/video/init/",
        video_body(&media.url("missing.mp4")),
    )
    .await;
    let gone = init(
        &s,
        "/v2/post/publish/inbox/video/init/",
        json!({"source_info": {"source": "PULL_FROM_URL", "video_url": media.url("gone.mp4")}}),
    )
    .await;
    for id in [&missing, &gone] {
        let p = settled(&s, id).await;
        assert_eq!(p.status, "FAILED", "{p:?}");
        assert_eq!(p.fail_reason.as_deref(), Some("video_pull_failed"));
        assert!(p.post_ids.is_empty());
        let data = status(&s, id).await;
        assert_eq!(data["status"], "FAILED", "{data}");
        assert_eq!(data["fail_reason"], "video_pull_failed");
        assert_eq!(data["publicaly_available_post_id"], json!([]));
    }
    assert!(listed(&s).await.is_empty());
    assert!(s.tiktok().published().is_empty());
    let mut paths = media.paths();
    paths.sort();
    assert_eq!(paths, vec!["/gone.mp4", "/missing.mp4"]);
    // A failed publish can no longer be cancelled.
    let (status, reply) = post_json(
        &s,
        "/v2/post/publish/cancel/",
        json!({"publish_id": missing}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(reply["error"]["code"], "publish_not_cancellable");
}

#[tokio::test]
async fn photos_are_fetched_in_order_and_one_failing_image_fails_the_post() {
    let media = MediaServer::start().await;
    let mut config = config(&media, true);
    config.pull_delay = Duration::ZERO;
    let s = sandbox(config).await;
    let good = init(
        &s,
        "/v2/post/publish/content/init/",
        photo_body(&[media.url("ok-1.jpg"), media.url("ok-2.jpg")]),
    )
    .await;
    let p = settled(&s, &good).await;
    assert_eq!(p.status, "PUBLISH_COMPLETE", "{p:?}");
    assert_eq!(p.downloaded_bytes, 2 * MEDIA.len() as u64);
    assert_eq!(media.paths(), vec!["/ok-1.jpg", "/ok-2.jpg"]);

    let bad = init(
        &s,
        "/v2/post/publish/content/init/",
        photo_body(&[media.url("ok-3.jpg"), media.url("missing-4.jpg")]),
    )
    .await;
    let p = settled(&s, &bad).await;
    assert_eq!(p.status, "FAILED", "{p:?}");
    assert_eq!(p.fail_reason.as_deref(), Some("photo_pull_failed"));
    assert!(p.post_ids.is_empty());
    let data = status(&s, &bad).await;
    assert_eq!(data["fail_reason"], "photo_pull_failed", "{data}");
    assert_eq!(
        media.paths(),
        vec!["/ok-1.jpg", "/ok-2.jpg", "/ok-3.jpg", "/missing-4.jpg"]
    );
    let done: Vec<String> = s
        .tiktok()
        .published()
        .into_iter()
        .map(|p| p.publish_id)
        .collect();
    assert_eq!(done, vec![good]);
}

#[tokio::test]
async fn a_url_on_another_host_fails_without_a_connection() {
    let media = MediaServer::start().await;
    let mut config = config(&media, true);
    config.pull_delay = Duration::ZERO;
    let s = sandbox(config).await;
    let video = init(
        &s,
        "/v2/post/publish/video/init/",
        video_body("https://cdn.example.com/x.mp4"),
    )
    .await;
    let photo = init(
        &s,
        "/v2/post/publish/content/init/",
        photo_body(&[
            "https://cdn.example.com/1.jpg".to_owned(),
            media.url("ok.jpg"),
        ]),
    )
    .await;
    let p = settled(&s, &video).await;
    assert_eq!(p.status, "FAILED", "{p:?}");
    assert_eq!(p.fail_reason.as_deref(), Some("video_pull_failed"));
    let p = settled(&s, &photo).await;
    assert_eq!(p.fail_reason.as_deref(), Some("photo_pull_failed"), "{p:?}");
    // The photo post stopped at its first image: the local one was never asked for.
    assert!(media.hits().is_empty());
    assert!(listed(&s).await.is_empty());
}

#[tokio::test]
async fn with_the_mode_off_nothing_is_fetched_and_plain_http_is_refused() {
    let media = MediaServer::start().await;
    let mut config = config(&media, false);
    let https = format!("https://{}/", media.addr);
    config.verified_url_prefixes.push(https.clone());
    let s = sandbox(config).await;
    // Plain HTTP stays refused, as TikTok refuses it.
    let (status, reply) = post_json(
        &s,
        "/v2/post/publish/video/init/",
        video_body(&media.url("ok.mp4")),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(reply["error"]["code"], "url_ownership_unverified");
    // HTTPS URLs are taken as arrived at once, even on a loopback host.
    let id = init(
        &s,
        "/v2/post/publish/video/init/",
        video_body(&format!("{https}ok.mp4")),
    )
    .await;
    let p = publish(&s, &id);
    assert_eq!(p.status, "PUBLISH_COMPLETE", "{p:?}");
    assert_eq!(p.downloaded_bytes, 0);
    let id = init(
        &s,
        "/v2/post/publish/content/init/",
        photo_body(&["https://cdn.example.com/1.jpg".to_owned()]),
    )
    .await;
    assert_eq!(publish(&s, &id).status, "PUBLISH_COMPLETE");
    assert_eq!(media.connections(), 0);
}

#[tokio::test]
async fn init_faults_decide_whether_the_download_starts() {
    let media = MediaServer::start().await;
    let mut config = config(&media, true);
    config.pull_delay = Duration::ZERO;
    let s = sandbox(config).await;
    let tiktok = s.tiktok();
    let count = |s: &Sandbox| s.tiktok().publishes().len();

    // Faults that act before doing anything: no publish, nothing to download.
    for fault in [
        Fault::ServerError,
        Fault::DropConnection,
        Fault::RateLimited,
    ] {
        tiktok.inject(TikTokEndpoint::VideoInit, fault, 1);
        let r = http()
            .post(format!("{}/v2/post/publish/video/init/", tiktok.url()))
            .bearer_auth(token(&s))
            .header("content-type", "application/json; charset=UTF-8")
            .body(video_body(&media.url("ok-before.mp4")).to_string())
            .send()
            .await;
        if let Ok(r) = r {
            assert!(!r.status().is_success());
        }
    }
    assert_eq!(count(&s), 0);

    // Faults that act first, then lose the answer: the download goes ahead.
    let mut expected = Vec::new();
    for (i, fault) in [
        Fault::ServerErrorAfterAccept,
        Fault::DropAfterAccept,
        Fault::DelayAfterAccept(Duration::from_secs(60)),
    ]
    .into_iter()
    .enumerate()
    {
        tiktok.inject(TikTokEndpoint::ContentInit, fault, 1);
        let name = format!("ok-after-{i}.jpg");
        // The client gives up long before a `DelayAfterAccept` would answer.
        let r = http()
            .post(format!("{}/v2/post/publish/content/init/", tiktok.url()))
            .bearer_auth(token(&s))
            .header("content-type", "application/json; charset=UTF-8")
            .timeout(Duration::from_millis(300))
            .body(photo_body(&[media.url(&name)]).to_string())
            .send()
            .await;
        if let Ok(r) = r {
            assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR, "{fault:?}");
        }
        expected.push(format!("/{name}"));
    }
    let ids: Vec<String> = tiktok
        .publishes()
        .into_iter()
        .map(|p| p.publish_id)
        .collect();
    assert_eq!(ids.len(), 3);
    for id in &ids {
        let p = settled(&s, id).await;
        assert_eq!(p.status, "PUBLISH_COMPLETE", "{p:?}");
    }
    let mut paths = media.paths();
    paths.sort();
    assert_eq!(paths, expected);
}

#[tokio::test]
async fn a_publish_cancelled_while_downloading_stays_cancelled() {
    let media = MediaServer::start().await;
    let mut config = config(&media, true);
    config.pull_delay = Duration::ZERO;
    let s = sandbox(config).await;
    let id = init(
        &s,
        "/v2/post/publish/video/init/",
        video_body(&media.url("held.mp4")),
    )
    .await;
    eventually("the sandbox fetched the URL", || !media.hits().is_empty()).await;
    let (status, reply) =
        post_json(&s, "/v2/post/publish/cancel/", json!({"publish_id": id})).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    media.release();
    let p = settled(&s, &id).await;
    assert_eq!(p.status, "FAILED");
    assert_eq!(p.fail_reason.as_deref(), Some("publish_cancelled"));
    // Still cancelled once the download had its chance to finish.
    eventually("the download ended", || {
        publish(&s, &id).downloaded_bytes > 0
    })
    .await;
    assert_eq!(
        publish(&s, &id).fail_reason.as_deref(),
        Some("publish_cancelled")
    );
}

#[test]
fn the_mode_is_off_by_default() {
    let config = TikTokConfig::default();
    assert!(!config.fetch_pulled_media);
    assert_eq!(config.pull_delay, Duration::from_millis(200));
}
