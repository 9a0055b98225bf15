//! The fake YouTube driven with raw HTTP built from cmis-youtube's documented fixtures
//! (cmis-youtube/tests/fixtures): OAuth, the resumable upload with failures and probes,
//! metadata checks, budgets, reads and thumbnails.

use cmis_core::ExposeSecret;
use cmis_sandbox::{Fault, Sandbox, YouTubeConfig, YouTubeEndpoint};
use reqwest::StatusCode;
use serde_json::{Value, json};

const ERRORS: &str = include_str!("../../cmis-youtube/tests/fixtures/errors.json");
const CHANNEL: &str = "UCcmisTestChannel0000001";
const TOTAL: usize = 1_000_000;
const CHUNK: usize = 262_144;
const REDIRECT: &str = "https://cmis.example/oauth/youtube/callback";

macro_rules! fixture {
    ($name:literal) => {
        serde_json::from_str::<Value>(include_str!(concat!(
            "../../cmis-youtube/tests/fixtures/",
            $name
        )))
        .unwrap()
    };
}

fn error_body(name: &str) -> Value {
    let all: Vec<Value> = serde_json::from_str(ERRORS).unwrap();
    all.into_iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in errors.json"))["body"]
        .clone()
}

fn http() -> reqwest::Client {
    cmis_http::client_builder().unwrap().build().unwrap()
}

#[derive(Debug)]
struct Answer {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Value,
    raw: String,
}

async fn answer(r: reqwest::RequestBuilder) -> Answer {
    let r = r.send().await.unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    let raw = r.text().await.unwrap();
    let body = serde_json::from_str(&raw).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        body,
        raw,
    }
}

async fn sandbox_with(config: YouTubeConfig) -> (Sandbox, String) {
    let s = Sandbox::builder().youtube(config).start().await.unwrap();
    let tokens = s.youtube().add_channel(CHANNEL, "cmis test channel");
    (s, tokens.access_token.expose_secret().to_owned())
}

async fn sandbox() -> (Sandbox, String) {
    sandbox_with(YouTubeConfig::default()).await
}

/// Step 1 with the body of `upload_init_request.json`; returns the session URI.
async fn start_with(s: &Sandbox, token: &str, metadata: &Value) -> Answer {
    answer(
        http()
            .post(format!("{}/upload/youtube/v3/videos", s.youtube().url()))
            .query(&[("uploadType", "resumable"), ("part", "snippet,status")])
            .bearer_auth(token)
            .header("X-Upload-Content-Length", TOTAL.to_string())
            .header("X-Upload-Content-Type", "video/mp4")
            .json(metadata),
    )
    .await
}

async fn start(s: &Sandbox, token: &str) -> String {
    let a = start_with(s, token, &fixture!("upload_init_request.json")["body"]).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.raw);
    assert!(a.raw.is_empty());
    let location = a.headers["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&format!(
            "{}/upload/youtube/v3/videos?uploadType=resumable&upload_id=",
            s.youtube().url()
        )),
        "{location}"
    );
    location
}

/// `PUT` bytes `a..=b` of the file.
async fn chunk(session: &str, token: &str, a: usize, b: usize) -> Answer {
    answer(
        http()
            .put(session)
            .bearer_auth(token)
            .header("Content-Type", "video/mp4")
            .header("Content-Range", format!("bytes {a}-{b}/{TOTAL}"))
            .body(vec![7_u8; b - a + 1]),
    )
    .await
}

async fn probe(session: &str) -> Answer {
    answer(
        http()
            .put(session)
            .header("Content-Range", format!("bytes */{TOTAL}"))
            .header("Content-Length", "0"),
    )
    .await
}

fn range(a: &Answer) -> Option<String> {
    a.headers
        .get("range")
        .map(|v| v.to_str().unwrap().to_owned())
}

/// The chunks of the fixtures' upload.
const CHUNKS: [(usize, usize); 4] = [
    (0, 262_143),
    (262_144, 524_287),
    (524_288, 786_431),
    (786_432, 999_999),
];

#[tokio::test]
async fn a_chunked_upload_creates_one_video_that_processes_and_lists() {
    let (s, token) = sandbox().await;
    let yt = s.youtube();
    let session = start(&s, &token).await;
    assert_eq!(range(&probe(&session).await), None, "nothing stored yet");
    for (a, b) in &CHUNKS[..3] {
        let r = chunk(&session, &token, *a, *b).await;
        assert_eq!(r.status, StatusCode::PERMANENT_REDIRECT, "{}", r.raw);
        assert_eq!(range(&r), Some(format!("bytes=0-{b}")));
        assert_eq!(yt.video_count(CHANNEL), 0, "no video before the last byte");
    }
    let done = chunk(&session, &token, 786_432, 999_999).await;
    assert_eq!(done.status, StatusCode::CREATED, "{}", done.raw);
    // The fields of `upload_complete.json`; ids, etags and times differ.
    let fx = fixture!("upload_complete.json")["response"]["body"].clone();
    let id = done.body["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 11);
    let mut expected = fx.clone();
    expected["id"] = json!(id);
    expected["etag"] = done.body["etag"].clone();
    expected["snippet"]["publishedAt"] = done.body["snippet"]["publishedAt"].clone();
    expected["snippet"]["channelTitle"] = json!("cmis test channel");
    for size in ["default", "medium", "high"] {
        let url = fx["snippet"]["thumbnails"][size]["url"].as_str().unwrap();
        expected["snippet"]["thumbnails"][size]["url"] = json!(url.replace("cmisTest001", &id));
    }
    assert_eq!(done.body, expected);
    assert_eq!(yt.video_count(CHANNEL), 1);
    assert_eq!(yt.sessions_started(), 1);

    let list = || {
        answer(
            http()
                .get(format!("{}/youtube/v3/videos", yt.url()))
                .query(&[("part", "status,processingDetails"), ("id", id.as_str())])
                .bearer_auth(&token),
        )
    };
    let first = list().await;
    assert_eq!(
        first.body["items"][0]["processingDetails"]["processingStatus"],
        "processing"
    );
    assert_eq!(first.body["items"][0]["status"]["uploadStatus"], "uploaded");
    let second = list().await;
    let mut expected = fixture!("videos_list_succeeded.json");
    expected["etag"] = second.body["etag"].clone();
    expected["items"][0]["etag"] = second.body["items"][0]["etag"].clone();
    expected["items"][0]["id"] = json!(id);
    assert_eq!(second.body, expected);

    let channels = answer(
        http()
            .get(format!("{}/youtube/v3/channels", yt.url()))
            .query(&[("part", "snippet,contentDetails"), ("mine", "true")])
            .bearer_auth(&token),
    )
    .await;
    let item = &channels.body["items"][0];
    assert_eq!(item["id"], CHANNEL);
    let uploads = item["contentDetails"]["relatedPlaylists"]["uploads"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(uploads, "UUcmisTestChannel0000001");
    let items = answer(
        http()
            .get(format!("{}/youtube/v3/playlistItems", yt.url()))
            .query(&[
                ("part", "snippet"),
                ("playlistId", uploads.as_str()),
                ("maxResults", "10"),
            ])
            .bearer_auth(&token),
    )
    .await;
    let snippet = &items.body["items"][0]["snippet"];
    assert_eq!(snippet["resourceId"]["videoId"], json!(id));
    assert_eq!(snippet["title"], "cmis fixture upload");
    assert_eq!(snippet["publishedAt"], done.body["snippet"]["publishedAt"]);
}

#[tokio::test]
async fn a_failed_chunk_is_resumed_from_the_probes_offset_into_one_video() {
    let (s, token) = sandbox().await;
    let yt = s.youtube();
    let session = start(&s, &token).await;
    assert_eq!(
        chunk(&session, &token, 0, 262_143).await.status,
        StatusCode::PERMANENT_REDIRECT
    );
    // A 503 that stored nothing, then one that stored the chunk: the client must probe.
    yt.inject(YouTubeEndpoint::UploadChunk, Fault::ServerError, 1);
    let failed = chunk(&session, &token, 262_144, 524_287).await;
    assert_eq!(failed.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(failed.body, error_body("backend_error_503"));
    assert_eq!(range(&probe(&session).await), Some("bytes=0-262143".into()));
    yt.inject(
        YouTubeEndpoint::UploadChunk,
        Fault::ServerErrorAfterAccept,
        1,
    );
    let failed = chunk(&session, &token, 262_144, 524_287).await;
    assert_eq!(failed.status, StatusCode::SERVICE_UNAVAILABLE);
    let p = probe(&session).await;
    assert_eq!(p.status, StatusCode::PERMANENT_REDIRECT);
    // As fixture `upload_status_query_partial.json`: resume at 524288.
    assert_eq!(
        range(&p).as_deref(),
        fixture!("upload_status_query_partial.json")["response"]["headers"]["Range"].as_str()
    );
    // Re-sending the stored chunk does not fit the offset.
    assert_eq!(
        chunk(&session, &token, 262_144, 524_287).await.status,
        StatusCode::BAD_REQUEST
    );
    for (a, b) in &CHUNKS[2..] {
        assert!(
            chunk(&session, &token, *a, *b)
                .await
                .status
                .is_redirection()
                || *b == TOTAL - 1
        );
    }
    assert_eq!(yt.video_count(CHANNEL), 1);
    assert_eq!(yt.sessions_started(), 1);
    assert_eq!(yt.videos()[0].bytes, TOTAL as u64);
}

#[tokio::test]
async fn a_probe_after_a_lost_final_answer_returns_the_201_again() {
    let (s, token) = sandbox().await;
    let yt = s.youtube();
    let session = start(&s, &token).await;
    for (a, b) in &CHUNKS[..3] {
        chunk(&session, &token, *a, *b).await;
    }
    yt.inject(YouTubeEndpoint::UploadChunk, Fault::DropAfterAccept, 1);
    let lost = http()
        .put(&session)
        .header("Content-Range", format!("bytes 786432-999999/{TOTAL}"))
        .body(vec![7_u8; TOTAL - 786_432])
        .send()
        .await;
    if let Ok(r) = lost {
        assert!(r.text().await.is_err(), "the answer is lost");
    }
    assert_eq!(yt.video_count(CHANNEL), 1, "the video exists all the same");
    let p = probe(&session).await;
    assert_eq!(p.status, StatusCode::CREATED, "{}", p.raw);
    assert_eq!(p.body["kind"], "youtube#video");
    assert_eq!(p.body["id"], json!(yt.videos()[0].id));
    let again = probe(&session).await;
    assert_eq!(again.body, p.body, "the same response every time");
    assert_eq!(yt.video_count(CHANNEL), 1);
}

#[tokio::test]
async fn chunks_follow_the_256_kib_rule_and_dead_sessions_are_404() {
    let (s, token) = sandbox().await;
    let session = start(&s, &token).await;
    let odd = chunk(&session, &token, 0, 99_999).await;
    assert_eq!(
        odd.status,
        StatusCode::BAD_REQUEST,
        "a non-final chunk of 100 000 bytes"
    );
    let skip = chunk(&session, &token, CHUNK, 2 * CHUNK - 1).await;
    assert_eq!(
        skip.status,
        StatusCode::BAD_REQUEST,
        "a chunk past the stored offset"
    );
    let other_total = answer(
        http()
            .put(&session)
            .header("Content-Range", "bytes 0-262143/2000000")
            .body(vec![0_u8; CHUNK]),
    )
    .await;
    assert_eq!(other_total.status, StatusCode::BAD_REQUEST);
    assert_eq!(other_total.raw, "Failed to parse Content-Range header.");
    s.youtube().expire_session(&session);
    let gone = chunk(&session, &token, 0, CHUNK - 1).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(probe(&session).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn metadata_and_budgets_are_checked_when_the_session_starts() {
    let mut config = YouTubeConfig::default();
    config.channel_uploads_per_day = 1;
    let (s, token) = sandbox_with(config).await;
    let yt = s.youtube();
    let good = fixture!("upload_init_request.json")["body"].clone();
    let cases = [
        ("/snippet/title", json!("x".repeat(101)), "invalid_title"),
        ("/snippet/title", json!("a <b> title"), "invalid_title"),
        (
            "/snippet/description",
            json!("é".repeat(2501)),
            "invalid_description",
        ),
        (
            "/status/privacyStatus",
            json!("public"),
            "invalid_publish_at",
        ),
    ];
    for (pointer, value, name) in cases {
        let mut meta = good.clone();
        *meta.pointer_mut(pointer).unwrap() = value;
        let a = start_with(&s, &token, &meta).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{name}");
        assert_eq!(a.body, error_body(name), "{name}");
    }
    assert_eq!(yt.sessions_started(), 0);

    // One video, then the channel's cap.
    let session = start(&s, &token).await;
    for (a, b) in CHUNKS {
        chunk(&session, &token, a, b).await;
    }
    let capped = start_with(&s, &token, &good).await;
    assert_eq!(capped.status, StatusCode::BAD_REQUEST);
    assert_eq!(capped.body, error_body("upload_limit_exceeded"));

    // The project's daily budget: every call counts, refused ones too.
    assert_eq!(yt.uploads_used_today(), 6);
    yt.set_uploads_used_today(100);
    let quota = start_with(&s, &token, &good).await;
    assert_eq!(quota.status, StatusCode::FORBIDDEN);
    assert_eq!(quota.body, error_body("quota_exceeded"));

    let unauthorized = start_with(&s, "ya29.nonsense", &good).await;
    assert_eq!(unauthorized.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unauthorized.body, error_body("auth_error"));
    assert!(unauthorized.headers.contains_key("www-authenticate"));
}

#[tokio::test]
async fn the_code_exchange_checks_pkce_and_refresh_answers_omit_the_refresh_token() {
    let (s, _) = sandbox().await;
    let yt = s.youtube();
    let url = format!("{}/token", yt.url());
    let (id, secret) = (yt.client_id(), yt.client_secret());
    let secret = secret.expose_secret();
    // The RFC 7636 pair of fixture `oauth_authorize_url.txt`.
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let exchange = |code: String, verifier: &'static str| {
        http().post(&url).form(&[
            ("grant_type", "authorization_code".to_owned()),
            ("code", code),
            ("redirect_uri", REDIRECT.to_owned()),
            ("client_id", id.clone()),
            ("client_secret", secret.to_owned()),
            ("code_verifier", verifier.to_owned()),
        ])
    };
    let wrong = answer(exchange(
        yt.issue_code(CHANNEL, REDIRECT, Some(challenge)),
        "not-the-verifier",
    ))
    .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert_eq!(wrong.body, fixture!("oauth_invalid_grant_bad_request.json"));
    let ok = answer(exchange(
        yt.issue_code(CHANNEL, REDIRECT, Some(challenge)),
        verifier,
    ))
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.raw);
    let keys = |v: &Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&ok.body), keys(&fixture!("oauth_token_exchange.json")));
    assert_eq!(
        ok.body["scope"],
        fixture!("oauth_token_exchange.json")["scope"]
    );
    let refresh = ok.body["refresh_token"].as_str().unwrap().to_owned();

    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
        ("client_id", id.as_str()),
        ("client_secret", secret),
    ];
    let refreshed = answer(http().post(&url).form(&form)).await;
    assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.raw);
    assert!(
        refreshed.body.get("refresh_token").is_none(),
        "Google keeps the old one"
    );
    assert_eq!(
        keys(&refreshed.body),
        keys(&fixture!("oauth_token_refresh.json"))
    );
    assert_ne!(refreshed.body["access_token"], ok.body["access_token"]);
    assert_eq!(yt.refresh_count(), 1);

    yt.revoke_token(&refresh);
    let dead = answer(http().post(&url).form(&form)).await;
    assert_eq!(dead.status, StatusCode::BAD_REQUEST);
    assert_eq!(dead.body, fixture!("oauth_invalid_grant.json"));
}

#[tokio::test]
async fn thumbnails_are_set_unless_the_channel_is_unverified() {
    let (s, token) = sandbox().await;
    let yt = s.youtube();
    let session = start(&s, &token).await;
    let mut id = String::new();
    for (a, b) in CHUNKS {
        id = chunk(&session, &token, a, b).await.body["id"]
            .as_str()
            .unwrap_or("")
            .to_owned();
    }
    let set = |video: &str| {
        http()
            .post(format!("{}/upload/youtube/v3/thumbnails/set", yt.url()))
            .query(&[("videoId", video)])
            .bearer_auth(&token)
            .header("Content-Type", "image/jpeg")
            .body(vec![0xD8_u8; 48_213])
    };
    let ok = answer(set(&id)).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.raw);
    let fx = fixture!("thumbnails_set_response.json");
    assert_eq!(ok.body["kind"], fx["kind"]);
    assert_eq!(
        ok.body["items"][0]["maxres"]["url"],
        json!(
            fx["items"][0]["maxres"]["url"]
                .as_str()
                .unwrap()
                .replace("cmisTest001", &id)
        )
    );
    assert_eq!(yt.video(&id).unwrap().thumbnail_bytes, Some(48_213));

    let missing = answer(set("nosuchvideo")).await;
    assert_eq!(missing.body, error_body("video_not_found"));
    yt.set_thumbnails_allowed(CHANNEL, false);
    let forbidden = answer(set(&id)).await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    assert_eq!(forbidden.body, fixture!("thumbnails_set_forbidden.json"));
}
