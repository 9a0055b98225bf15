//! The fake TikTok against TikTok's documented wire rules (docs/tiktok-api.md), driven with a
//! plain HTTP client: no connector is involved.

use std::time::Duration;

use cmis_core::ExposeSecret;
use cmis_sandbox::{Creator, Fault, Sandbox, TikTokConfig, TikTokEndpoint};
use reqwest::StatusCode;
use serde_json::{Value, json};

const SCOPES: &[&str] = &["user.info.basic", "video.publish", "video.upload"];

fn http() -> reqwest::Client {
    cmis_http::client_builder().unwrap().build().unwrap()
}

async fn sandbox_with(config: TikTokConfig) -> (Sandbox, String) {
    let sandbox = Sandbox::builder().tiktok(config).start().await.unwrap();
    sandbox.tiktok().add_creator(Creator::public("open-1"));
    let token = sandbox.tiktok().issue_tokens("open-1", SCOPES);
    let token = token.access_token.expose_secret().to_owned();
    (sandbox, token)
}

async fn sandbox() -> (Sandbox, String) {
    let mut config = TikTokConfig::default();
    config.processing_time = Duration::ZERO;
    config.verified_url_prefixes = vec!["https://cdn.example.com/".into()];
    sandbox_with(config).await
}

async fn post_json(s: &Sandbox, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
    let r = http()
        .post(format!("{}{path}", s.tiktok().url()))
        .bearer_auth(token)
        .header("content-type", "application/json; charset=UTF-8")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status();
    (
        status,
        serde_json::from_slice(&r.bytes().await.unwrap()).unwrap(),
    )
}

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap()
}

fn video_init_body(privacy: &str, size: u64, chunk: u64, count: u64) -> Value {
    json!({
        "post_info": {"title": "funny #cat video", "privacy_level": privacy, "disable_comment": true,
                       "brand_content_toggle": false, "brand_organic_toggle": false},
        "source_info": {"source": "FILE_UPLOAD", "video_size": size, "chunk_size": chunk, "total_chunk_count": count}
    })
}

async fn put_chunk(url: &str, range: &str, data: Vec<u8>, content_type: &str) -> reqwest::Response {
    http()
        .put(url)
        .header("content-type", content_type)
        .header("content-range", range)
        .body(data)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn refresh_rotates_and_the_old_refresh_token_stops_working() {
    let (s, _) = sandbox().await;
    let issued = s.tiktok().issue_tokens("open-1", SCOPES);
    let form = |rt: &str| {
        vec![
            ("client_key", s.tiktok().client_key()),
            (
                "client_secret",
                s.tiktok().client_secret().expose_secret().to_owned(),
            ),
            ("grant_type", "refresh_token".to_owned()),
            ("refresh_token", rt.to_owned()),
        ]
    };
    let url = format!("{}/v2/oauth/token/", s.tiktok().url());
    let r = http()
        .post(&url)
        .form(&form(issued.refresh_token.expose_secret()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    // Flat body, no data wrapper; lifetimes as configured (2 h / 180 days by default).
    assert_eq!(body["open_id"], "open-1");
    assert_eq!(body["expires_in"], 7200);
    assert_eq!(body["refresh_expires_in"], 180 * 86_400);
    assert_eq!(body["scope"], "user.info.basic,video.publish,video.upload");
    assert_ne!(
        body["refresh_token"].as_str().unwrap(),
        issued.refresh_token.expose_secret()
    );
    // The previous refresh token stops working once a new one is issued.
    let r = http()
        .post(&url)
        .form(&form(issued.refresh_token.expose_secret()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let err: Value = r.json().await.unwrap();
    assert_eq!(err["error"], "invalid_grant");
    assert!(err["log_id"].is_string());
    assert_eq!(s.tiktok().refresh_count(), 1);
    // Wrong client secret.
    let mut bad = form(body["refresh_token"].as_str().unwrap());
    bad[1].1 = "nope".into();
    let r = http().post(&url).form(&bad).send().await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_client");
}

#[tokio::test]
async fn code_exchange_checks_tiktoks_hex_pkce() {
    let (s, _) = sandbox().await;
    let verifier = "a".repeat(50);
    // hex SHA-256 of 50 'a's, as TikTok wants (not base64url).
    let challenge = "160b4e433e384e05e537dc59b467f7cb2403f0214db15c5db58862a3f1156d2e";
    let code = s.tiktok().authorization_code(
        "open-1",
        SCOPES,
        "https://app.example.com/cb",
        Some(challenge),
    );
    let url = format!("{}/v2/oauth/token/", s.tiktok().url());
    let form = |verifier: &str, code: &str| {
        vec![
            ("client_key", s.tiktok().client_key()),
            (
                "client_secret",
                s.tiktok().client_secret().expose_secret().to_owned(),
            ),
            ("code", code.to_owned()),
            ("grant_type", "authorization_code".to_owned()),
            ("redirect_uri", "https://app.example.com/cb".to_owned()),
            ("code_verifier", verifier.to_owned()),
        ]
    };
    let r = http()
        .post(&url)
        .form(&form("wrong", &code))
        .send()
        .await
        .unwrap();
    let err: Value = r.json().await.unwrap();
    assert_eq!(err["error"], "invalid_request");
    assert_eq!(
        err["error_description"],
        "Code verifier or code challenge is invalid."
    );
    let code = s.tiktok().authorization_code(
        "open-1",
        SCOPES,
        "https://app.example.com/cb",
        Some(challenge),
    );
    let r = http()
        .post(&url)
        .form(&form(&verifier, &code))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.json::<Value>().await.unwrap()["access_token"].is_string());
}

#[tokio::test]
async fn creator_info_has_the_documented_shape_and_needs_a_token() {
    let (s, token) = sandbox().await;
    let (status, body) = post_json(
        &s,
        &token,
        "/v2/post/publish/creator_info/query/",
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(code(&body), "ok");
    assert_eq!(
        body["data"]["privacy_level_options"],
        json!(["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"])
    );
    assert_eq!(body["data"]["max_video_post_duration_sec"], 300);
    let (status, body) = post_json(
        &s,
        "not-a-token",
        "/v2/post/publish/creator_info/query/",
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(code(&body), "access_token_invalid");
    // A token without video.publish.
    let weak = s.tiktok().issue_tokens("open-1", &["user.info.basic"]);
    let (status, body) = post_json(
        &s,
        weak.access_token.expose_secret(),
        "/v2/post/publish/creator_info/query/",
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(code(&body), "scope_not_authorized");
}

#[tokio::test]
async fn privacy_must_be_one_of_the_creator_options_and_has_no_default() {
    let (s, token) = sandbox().await;
    let mut body = video_init_body("FOLLOWER_OF_CREATOR", 1000, 1000, 1);
    let (status, reply) = post_json(&s, &token, "/v2/post/publish/video/init/", body.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(code(&reply), "privacy_level_option_mismatch");
    body["post_info"]
        .as_object_mut()
        .unwrap()
        .remove("privacy_level");
    let (_, reply) = post_json(&s, &token, "/v2/post/publish/video/init/", body).await;
    assert_eq!(code(&reply), "privacy_level_option_mismatch");
    assert!(s.tiktok().publishes().is_empty());
}

#[tokio::test]
async fn an_illegal_chunk_plan_is_refused() {
    let (s, token) = sandbox().await;
    for (size, chunk, count) in [
        (50_000_123, 4_000_000, 12),   // chunk below 5 MB
        (50_000_123, 10_000_000, 6),   // count is not floor(size / chunk)
        (4_000_000, 2_000_000, 2),     // under 5 MB must be one chunk
        (200_000_000, 100_000_000, 2), // chunk above 64 MB
    ] {
        let (status, reply) = post_json(
            &s,
            &token,
            "/v2/post/publish/video/init/",
            video_init_body("SELF_ONLY", size, chunk, count),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{size}/{chunk}/{count}");
        assert_eq!(code(&reply), "invalid_params");
    }
}

#[tokio::test]
async fn chunks_are_checked_in_order_and_the_post_completes_with_a_64_bit_id() {
    let (s, token) = sandbox().await;
    let size: u64 = 12_000_000;
    let chunk: u64 = 5 * 1024 * 1024;
    let (status, reply) = post_json(
        &s,
        &token,
        "/v2/post/publish/video/init/",
        video_init_body("PUBLIC_TO_EVERYONE", size, chunk, size / chunk),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let upload_url = reply["data"]["upload_url"].as_str().unwrap().to_owned();
    let publish_id = reply["data"]["publish_id"].as_str().unwrap().to_owned();
    assert!(publish_id.len() <= 64);

    let second = vec![2u8; usize::try_from(size - chunk).unwrap()];
    let first = vec![1u8; usize::try_from(chunk).unwrap()];
    // Out of order: 416 with the progress so far.
    let r = put_chunk(
        &upload_url,
        &format!("bytes {chunk}-{}/{size}", size - 1),
        second.clone(),
        "video/mp4",
    )
    .await;
    assert_eq!(r.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        r.headers()["content-range"],
        format!("bytes */{size}").as_str()
    );
    // A wrong Content-Type is refused.
    let r = put_chunk(
        &upload_url,
        &format!("bytes 0-{}/{size}", chunk - 1),
        first.clone(),
        "application/octet-stream",
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // In order: 206 then 201.
    let r = put_chunk(
        &upload_url,
        &format!("bytes 0-{}/{size}", chunk - 1),
        first.clone(),
        "video/mp4",
    )
    .await;
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        r.headers()["content-range"],
        format!("bytes 0-{}/{size}", chunk - 1).as_str()
    );
    // Sending the first chunk again: 416, the server says how far it got.
    let r = put_chunk(
        &upload_url,
        &format!("bytes 0-{}/{size}", chunk - 1),
        first,
        "video/mp4",
    )
    .await;
    assert_eq!(r.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        r.headers()["content-range"],
        format!("bytes 0-{}/{size}", chunk - 1).as_str()
    );
    let r = put_chunk(
        &upload_url,
        &format!("bytes {chunk}-{}/{size}", size - 1),
        second,
        "video/mp4",
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);

    let (_, status) = post_json(
        &s,
        &token,
        "/v2/post/publish/status/fetch/",
        json!({"publish_id": publish_id}),
    )
    .await;
    assert_eq!(code(&status), "ok");
    assert_eq!(status["data"]["status"], "PUBLISH_COMPLETE");
    assert_eq!(status["data"]["uploaded_bytes"], size);
    let id = status["data"]["publicaly_available_post_id"][0]
        .as_u64()
        .unwrap();
    assert!(id > 1 << 53, "ids exceed 2^53: {id}");
    let published = s.tiktok().published();
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].post_ids, vec![id]);
}

#[tokio::test]
async fn posts_stay_in_processing_until_the_processing_time_passes() {
    let mut config = TikTokConfig::default();
    config.processing_time = Duration::from_secs(3600);
    let (s, token) = sandbox_with(config).await;
    let (_, reply) = post_json(
        &s,
        &token,
        "/v2/post/publish/video/init/",
        video_init_body("SELF_ONLY", 1000, 1000, 1),
    )
    .await;
    let url = reply["data"]["upload_url"].as_str().unwrap().to_owned();
    let publish_id = reply["data"]["publish_id"].as_str().unwrap().to_owned();
    let r = put_chunk(&url, "bytes 0-999/1000", vec![0; 1000], "video/mp4").await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let (_, status) = post_json(
        &s,
        &token,
        "/v2/post/publish/status/fetch/",
        json!({"publish_id": publish_id}),
    )
    .await;
    assert_eq!(status["data"]["status"], "PROCESSING_UPLOAD");
    assert!(s.tiktok().published().is_empty());
    // Cancel while processing.
    let (_, reply) = post_json(
        &s,
        &token,
        "/v2/post/publish/cancel/",
        json!({"publish_id": publish_id}),
    )
    .await;
    assert_eq!(code(&reply), "ok");
    let (_, status) = post_json(
        &s,
        &token,
        "/v2/post/publish/status/fetch/",
        json!({"publish_id": publish_id}),
    )
    .await;
    assert_eq!(status["data"]["status"], "FAILED");
    assert_eq!(status["data"]["fail_reason"], "publish_cancelled");
}

#[tokio::test]
async fn inbox_uploads_need_video_upload_and_end_in_the_inbox() {
    let (s, _) = sandbox().await;
    let publish_only = s.tiktok().issue_tokens("open-1", &["video.publish"]);
    let body = json!({"source_info": {"source": "FILE_UPLOAD", "video_size": 1000, "chunk_size": 1000, "total_chunk_count": 1}});
    let (status, reply) = post_json(
        &s,
        publish_only.access_token.expose_secret(),
        "/v2/post/publish/inbox/video/init/",
        body.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(code(&reply), "scope_not_authorized");
    let upload = s.tiktok().issue_tokens("open-1", &["video.upload"]);
    let token = upload.access_token.expose_secret();
    let (_, reply) = post_json(&s, token, "/v2/post/publish/inbox/video/init/", body).await;
    let url = reply["data"]["upload_url"].as_str().unwrap().to_owned();
    let publish_id = reply["data"]["publish_id"].as_str().unwrap().to_owned();
    assert!(publish_id.starts_with("v_inbox_file"));
    put_chunk(&url, "bytes 0-999/1000", vec![0; 1000], "video/quicktime").await;
    let (_, status) = post_json(
        &s,
        token,
        "/v2/post/publish/status/fetch/",
        json!({"publish_id": publish_id}),
    )
    .await;
    assert_eq!(status["data"]["status"], "SEND_TO_USER_INBOX");
    assert_eq!(status["data"]["publicaly_available_post_id"], json!([]));
}

#[tokio::test]
async fn pull_from_url_and_photos_need_verified_https_urls() {
    let (s, token) = sandbox().await;
    let body = |url: &str| json!({"post_info": {"privacy_level": "SELF_ONLY"}, "source_info": {"source": "PULL_FROM_URL", "video_url": url}});
    let (status, reply) = post_json(
        &s,
        &token,
        "/v2/post/publish/video/init/",
        body("https://evil.example.net/a.mp4"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(code(&reply), "url_ownership_unverified");
    let (status, _) = post_json(
        &s,
        &token,
        "/v2/post/publish/video/init/",
        body("https://cdn.example.com/a.mp4"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    let photos = |n: usize| {
        let images: Vec<String> = (0..n)
            .map(|i| format!("https://cdn.example.com/{i}.jpg"))
            .collect();
        json!({"media_type": "PHOTO", "post_mode": "DIRECT_POST",
               "post_info": {"title": "t", "description": "#d", "privacy_level": "PUBLIC_TO_EVERYONE"},
               "source_info": {"source": "PULL_FROM_URL", "photo_cover_index": 0, "photo_images": images}})
    };
    let (status, reply) = post_json(&s, &token, "/v2/post/publish/content/init/", photos(36)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&reply), "invalid_param");
    let (status, reply) = post_json(&s, &token, "/v2/post/publish/content/init/", photos(35)).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let mut long_title = photos(2);
    long_title["post_info"]["title"] = json!("x".repeat(91));
    let (status, _) = post_json(&s, &token, "/v2/post/publish/content/init/", long_title).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn unaudited_clients_may_post_only_self_only_to_private_accounts() {
    let mut config = TikTokConfig::default();
    config.audited = false;
    let (s, token) = sandbox_with(config).await;
    let (status, reply) = post_json(
        &s,
        &token,
        "/v2/post/publish/video/init/",
        video_init_body("SELF_ONLY", 1000, 1000, 1),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        code(&reply),
        "unaudited_client_can_only_post_to_private_accounts"
    );
    s.tiktok().add_creator(Creator::private("open-2"));
    let private = s.tiktok().issue_tokens("open-2", SCOPES);
    let (status, _) = post_json(
        &s,
        private.access_token.expose_secret(),
        "/v2/post/publish/video/init/",
        video_init_body("SELF_ONLY", 1000, 1000, 1),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn per_token_rate_limits_answer_429() {
    let (s, token) = sandbox().await;
    for _ in 0..6 {
        let (status, _) = post_json(
            &s,
            &token,
            "/v2/post/publish/video/init/",
            video_init_body("SELF_ONLY", 1000, 1000, 1),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, reply) = post_json(
        &s,
        &token,
        "/v2/post/publish/video/init/",
        video_init_body("SELF_ONLY", 1000, 1000, 1),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(code(&reply), "rate_limit_exceeded");
}

#[tokio::test]
async fn injected_faults_behave_as_documented() {
    let (s, token) = sandbox().await;
    let t = s.tiktok();
    // A 500 after the platform acted: the publish exists although the caller saw an error.
    t.inject(TikTokEndpoint::VideoInit, Fault::ServerErrorAfterAccept, 1);
    let (status, reply) = post_json(
        &s,
        &token,
        "/v2/post/publish/video/init/",
        video_init_body("SELF_ONLY", 1000, 1000, 1),
    )
    .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(code(&reply), "internal_error");
    assert_eq!(t.publishes().len(), 1);
    // A 500 before: nothing happens.
    t.inject(TikTokEndpoint::VideoInit, Fault::ServerError, 1);
    post_json(
        &s,
        &token,
        "/v2/post/publish/video/init/",
        video_init_body("SELF_ONLY", 1000, 1000, 1),
    )
    .await;
    assert_eq!(t.publishes().len(), 1);
    // An expired token stays expired.
    t.inject(TikTokEndpoint::CreatorInfo, Fault::ExpiredToken, 1);
    for _ in 0..2 {
        let (status, reply) = post_json(
            &s,
            &token,
            "/v2/post/publish/creator_info/query/",
            json!({}),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(code(&reply), "access_token_invalid");
    }
    // A dropped connection is a transport error for the client.
    t.inject(TikTokEndpoint::Status, Fault::DropConnection, 1);
    let r = http()
        .post(format!("{}/v2/post/publish/status/fetch/", t.url()))
        .bearer_auth(&token)
        .send()
        .await;
    let failed = match r {
        Err(_) => true,
        Ok(resp) => resp.bytes().await.is_err(),
    };
    assert!(failed, "the connection must break");
}

/// An upload PUT carries no access token, and TikTok documents no 401 for it: an injected
/// expired token has nothing to expire there, and the chunk is taken.
#[tokio::test]
async fn an_expired_token_fault_on_an_upload_has_nothing_to_expire() {
    let (s, token) = sandbox().await;
    let (status, reply) = post_json(
        &s,
        &token,
        "/v2/post/publish/video/init/",
        video_init_body("SELF_ONLY", 1000, 1000, 1),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let upload_url = reply["data"]["upload_url"].as_str().unwrap().to_owned();
    s.tiktok()
        .inject(TikTokEndpoint::Upload, Fault::ExpiredToken, 1);
    let r = put_chunk(
        &upload_url,
        "bytes 0-999/1000",
        vec![0u8; 1000],
        "video/mp4",
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
}
