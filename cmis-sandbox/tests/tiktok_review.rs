//! The fake TikTok against the rules found in the second review of TikTok's documentation
//! (docs/sandbox-tiktok-review.md), driven with raw HTTP built from the documented requests: no
//! connector is involved.

use std::time::Duration;

use cmis_core::ExposeSecret;
use cmis_sandbox::{Creator, Sandbox, TikTokConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};

const SCOPES: &[&str] = &["user.info.basic", "video.publish", "video.upload"];
const CDN: &str = "https://cdn.example.com/";

fn http() -> reqwest::Client {
    cmis_http::client_builder().unwrap().build().unwrap()
}

fn config() -> TikTokConfig {
    let mut config = TikTokConfig::default();
    config.processing_time = Duration::ZERO;
    config.verified_url_prefixes = vec![CDN.into()];
    config
}

async fn start(config: TikTokConfig, creators: &[Creator]) -> Sandbox {
    let sandbox = Sandbox::builder().tiktok(config).start().await.unwrap();
    for c in creators {
        sandbox.tiktok().add_creator(c.clone());
    }
    sandbox
}

fn token(s: &Sandbox, open_id: &str) -> String {
    let issued = s.tiktok().issue_tokens(open_id, SCOPES);
    issued.access_token.expose_secret().to_owned()
}

/// A documented API call: `POST` with a bearer token and a JSON body.
async fn call(s: &Sandbox, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
    let r = http()
        .post(format!("{}{path}", s.tiktok().url()))
        .header("Authorization", format!("Bearer {token}"))
        .header("Content-Type", "application/json; charset=UTF-8")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap())
}

async fn creator_info(s: &Sandbox, token: &str) -> (StatusCode, Value) {
    call(s, token, "/v2/post/publish/creator_info/query/", json!({})).await
}

/// A Direct Post video init pulling from a verified URL.
async fn direct_pull(s: &Sandbox, token: &str, privacy: &str) -> (StatusCode, Value) {
    let body = json!({
        "post_info": {"title": "funny #cat video", "privacy_level": privacy,
                      "brand_content_toggle": false},
        "source_info": {"source": "PULL_FROM_URL", "video_url": format!("{CDN}cat.mp4")}
    });
    call(s, token, "/v2/post/publish/video/init/", body).await
}

async fn inbox_pull(s: &Sandbox, token: &str) -> (StatusCode, Value) {
    let body =
        json!({"source_info": {"source": "PULL_FROM_URL", "video_url": format!("{CDN}cat.mp4")}});
    call(s, token, "/v2/post/publish/inbox/video/init/", body).await
}

async fn status(s: &Sandbox, token: &str, publish_id: &str) -> (StatusCode, Value) {
    let body = json!({ "publish_id": publish_id });
    call(s, token, "/v2/post/publish/status/fetch/", body).await
}

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap()
}

fn form(s: &Sandbox, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut form = vec![
        ("client_key".to_owned(), s.tiktok().client_key()),
        (
            "client_secret".to_owned(),
            s.tiktok().client_secret().expose_secret().to_owned(),
        ),
    ];
    form.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    form
}

async fn post_form(s: &Sandbox, path: &str, form: &[(String, String)]) -> (StatusCode, Value) {
    let r = http()
        .post(format!("{}{path}", s.tiktok().url()))
        .header("Cache-Control", "no-cache")
        .form(form)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap())
}

#[tokio::test]
async fn a_banned_creator_gets_its_error_with_http_200_from_creator_info_and_403_from_init() {
    let mut banned = Creator::public("open-1");
    banned.banned_from_posting = true;
    let s = start(config(), &[banned]).await;
    let token = token(&s, "open-1");
    let (http_status, body) = creator_info(&s, &token).await;
    // "Errors returned with HTTP 200 (intentional)": check error.code, never only the status.
    assert_eq!(http_status, StatusCode::OK);
    assert_eq!(code(&body), "spam_risk_user_banned_from_posting");
    assert!(body["error"]["log_id"].is_string());
    let (http_status, body) = direct_pull(&s, &token, "PUBLIC_TO_EVERYONE").await;
    assert_eq!(http_status, StatusCode::FORBIDDEN);
    assert_eq!(code(&body), "spam_risk_user_banned_from_posting");
    assert!(s.tiktok().publishes().is_empty());
}

#[tokio::test]
async fn an_unknown_creator_is_refused_by_creator_info_with_http_200() {
    let s = start(config(), &[]).await;
    let token = token(&s, "nobody");
    let (http_status, body) = creator_info(&s, &token).await;
    assert_eq!(http_status, StatusCode::OK);
    assert_eq!(code(&body), "spam_risk_user_banned_from_posting");
}

#[tokio::test]
async fn the_daily_post_cap_refuses_further_direct_posts_but_not_drafts() {
    let mut config = config();
    config.daily_post_cap = Some(2);
    let s = start(config, &[Creator::public("open-1")]).await;
    let token = token(&s, "open-1");
    for _ in 0..2 {
        let (http_status, body) = direct_pull(&s, &token, "SELF_ONLY").await;
        assert_eq!((http_status, code(&body)), (StatusCode::OK, "ok"), "{body}");
    }
    let (http_status, body) = direct_pull(&s, &token, "SELF_ONLY").await;
    assert_eq!(http_status, StatusCode::FORBIDDEN);
    assert_eq!(code(&body), "spam_risk_too_many_posts");
    let (http_status, body) = creator_info(&s, &token).await;
    assert_eq!(http_status, StatusCode::OK);
    assert_eq!(code(&body), "spam_risk_too_many_posts");
    // Drafts are not posts.
    let (http_status, body) = inbox_pull(&s, &token).await;
    assert_eq!((http_status, code(&body)), (StatusCode::OK, "ok"), "{body}");
    assert_eq!(s.tiktok().publishes().len(), 3);
}

#[tokio::test]
async fn failed_posts_do_not_count_against_the_daily_cap() {
    let mut config = config();
    config.daily_post_cap = Some(1);
    let s = start(config, &[Creator::public("open-1")]).await;
    let token = token(&s, "open-1");
    s.tiktok().fail_next_publish("frame_rate_check_failed");
    let (_, body) = direct_pull(&s, &token, "SELF_ONLY").await;
    assert_eq!(code(&body), "ok");
    let (_, body) = direct_pull(&s, &token, "SELF_ONLY").await;
    assert_eq!(code(&body), "ok", "{body}");
}

#[tokio::test]
async fn an_unaudited_client_may_have_at_most_five_posting_creators_a_day() {
    let mut config = config();
    config.audited = false;
    let creators: Vec<Creator> = (1..=6)
        .map(|i| Creator::private(format!("open-{i}")))
        .collect();
    let s = start(config, &creators).await;
    let tokens: Vec<String> = (1..=6).map(|i| token(&s, &format!("open-{i}"))).collect();
    for t in &tokens[..5] {
        let (http_status, body) = direct_pull(&s, t, "SELF_ONLY").await;
        assert_eq!((http_status, code(&body)), (StatusCode::OK, "ok"), "{body}");
    }
    let (http_status, body) = direct_pull(&s, &tokens[5], "SELF_ONLY").await;
    assert_eq!(http_status, StatusCode::FORBIDDEN);
    assert_eq!(code(&body), "reached_active_user_cap");
    let (http_status, body) = creator_info(&s, &tokens[5]).await;
    assert_eq!(http_status, StatusCode::OK);
    assert_eq!(code(&body), "reached_active_user_cap");
    // A creator already active today may post again.
    let (_, body) = direct_pull(&s, &tokens[0], "SELF_ONLY").await;
    assert_eq!(code(&body), "ok", "{body}");
}

#[tokio::test]
async fn an_audited_clients_creator_cap_is_set_from_its_audit() {
    let mut config = config();
    config.active_creator_cap = Some(1);
    let s = start(config, &[Creator::public("a"), Creator::public("b")]).await;
    let (_, body) = direct_pull(&s, &token(&s, "a"), "PUBLIC_TO_EVERYONE").await;
    assert_eq!(code(&body), "ok");
    let (http_status, body) = direct_pull(&s, &token(&s, "b"), "PUBLIC_TO_EVERYONE").await;
    assert_eq!(http_status, StatusCode::FORBIDDEN);
    assert_eq!(code(&body), "reached_active_user_cap");
}

#[tokio::test]
async fn at_most_five_pending_inbox_shares_in_24_hours() {
    let s = start(config(), &[Creator::public("open-1")]).await;
    let token = token(&s, "open-1");
    for _ in 0..5 {
        let (http_status, body) = inbox_pull(&s, &token).await;
        assert_eq!((http_status, code(&body)), (StatusCode::OK, "ok"), "{body}");
    }
    let (http_status, body) = inbox_pull(&s, &token).await;
    assert_eq!(http_status, StatusCode::FORBIDDEN);
    assert_eq!(code(&body), "spam_risk_too_many_pending_share");
    // A photo draft (MEDIA_UPLOAD) is a share too; another token, so as not to meet the
    // per-token rate limit.
    let other = self::token(&s, "open-1");
    let photo = json!({
        "media_type": "PHOTO", "post_mode": "MEDIA_UPLOAD",
        "post_info": {"title": "cats"},
        "source_info": {"source": "PULL_FROM_URL", "photo_cover_index": 0,
                        "photo_images": [format!("{CDN}a.jpeg")]}
    });
    let (http_status, body) = call(&s, &other, "/v2/post/publish/content/init/", photo).await;
    assert_eq!(http_status, StatusCode::FORBIDDEN);
    assert_eq!(code(&body), "spam_risk_too_many_pending_share");
    // Direct Posts are not shares.
    let (_, body) = direct_pull(&s, &other, "SELF_ONLY").await;
    assert_eq!(code(&body), "ok", "{body}");
}

#[tokio::test]
async fn revoke_disconnects_the_user_every_token_and_fails_processing_posts_with_auth_removed() {
    let s = start(config(), &[Creator::public("open-1")]).await;
    let first = s.tiktok().issue_tokens("open-1", SCOPES);
    let second = s.tiktok().issue_tokens("open-1", SCOPES);
    let second_token = second.access_token.expose_secret().to_owned();
    // A FILE_UPLOAD publish whose chunks never come stays PROCESSING_UPLOAD.
    let body = json!({
        "post_info": {"title": "t", "privacy_level": "SELF_ONLY"},
        "source_info": {"source": "FILE_UPLOAD", "video_size": 1000, "chunk_size": 1000,
                        "total_chunk_count": 1}
    });
    let (_, reply) = call(&s, &second_token, "/v2/post/publish/video/init/", body).await;
    let publish_id = reply["data"]["publish_id"].as_str().unwrap().to_owned();
    // A complete one stays complete.
    let (_, reply) = direct_pull(&s, &second_token, "SELF_ONLY").await;
    let done_id = reply["data"]["publish_id"].as_str().unwrap().to_owned();

    let token = first.access_token.expose_secret().to_owned();
    let (http_status, body) =
        post_form(&s, "/v2/oauth/revoke/", &form(&s, &[("token", &token)])).await;
    assert_eq!((http_status, body), (StatusCode::OK, json!({})));

    // "Disconnects your app from the user's TikTok account": the other pair stops working too.
    let (http_status, body) = creator_info(&s, &second_token).await;
    assert_eq!(http_status, StatusCode::UNAUTHORIZED);
    assert_eq!(code(&body), "access_token_invalid");
    let refresh = second.refresh_token.expose_secret().to_owned();
    let grant = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
    ];
    let (http_status, body) = post_form(&s, "/v2/oauth/token/", &form(&s, &grant)).await;
    assert_eq!(http_status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");

    // Reconnected, the app sees the interrupted publish failed with auth_removed.
    let fresh = token_after_reconnect(&s);
    let (_, body) = status(&s, &fresh, &publish_id).await;
    assert_eq!(body["data"]["status"], "FAILED");
    assert_eq!(body["data"]["fail_reason"], "auth_removed");
    let (_, body) = status(&s, &fresh, &done_id).await;
    assert_eq!(body["data"]["status"], "PUBLISH_COMPLETE");
}

fn token_after_reconnect(s: &Sandbox) -> String {
    token(s, "open-1")
}

#[tokio::test]
async fn a_code_exchanged_with_another_redirect_uri_is_invalid_grant() {
    let s = start(config(), &[Creator::public("open-1")]).await;
    let code = s
        .tiktok()
        .authorization_code("open-1", SCOPES, "https://app.example.com/cb", None);
    let grant = [
        ("code", code.as_str()),
        ("grant_type", "authorization_code"),
        ("redirect_uri", "https://app.example.com/other"),
    ];
    let (http_status, body) = post_form(&s, "/v2/oauth/token/", &form(&s, &grant)).await;
    assert_eq!(http_status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    assert!(body["error_description"].is_string());
    assert!(body["log_id"].is_string());
}

#[tokio::test]
async fn the_upload_url_has_the_documented_shape_and_takes_the_chunk() {
    let s = start(config(), &[Creator::public("open-1")]).await;
    let token = token(&s, "open-1");
    let body = json!({
        "post_info": {"title": "t", "privacy_level": "SELF_ONLY"},
        "source_info": {"source": "FILE_UPLOAD", "video_size": 10, "chunk_size": 10,
                        "total_chunk_count": 1}
    });
    let (_, reply) = call(&s, &token, "/v2/post/publish/video/init/", body).await;
    let publish_id = reply["data"]["publish_id"].as_str().unwrap();
    assert!(publish_id.len() <= 64);
    let upload_url = reply["data"]["upload_url"].as_str().unwrap();
    assert!(upload_url.len() <= 256, "{upload_url}");
    let path_and_query = upload_url.strip_prefix(&s.tiktok().url()).unwrap();
    assert!(
        path_and_query.starts_with("/video/?upload_id="),
        "{upload_url}"
    );
    assert!(path_and_query.contains("&upload_token="), "{upload_url}");
    let r = http()
        .put(upload_url)
        .header("Content-Type", "video/mp4")
        .header("Content-Range", "bytes 0-9/10")
        .body(vec![0u8; 10])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(r.headers()["content-range"], "bytes 0-9/10");
}

#[tokio::test]
async fn a_failure_asked_for_ends_the_post_failed_with_that_reason_and_no_public_id() {
    let s = start(config(), &[Creator::public("open-1")]).await;
    let token = token(&s, "open-1");
    s.tiktok().fail_next_publish("duration_check_failed");
    let (_, reply) = direct_pull(&s, &token, "PUBLIC_TO_EVERYONE").await;
    let failed = reply["data"]["publish_id"].as_str().unwrap().to_owned();
    let (_, reply) = direct_pull(&s, &token, "PUBLIC_TO_EVERYONE").await;
    let fine = reply["data"]["publish_id"].as_str().unwrap().to_owned();
    let (http_status, body) = status(&s, &token, &failed).await;
    assert_eq!((http_status, code(&body)), (StatusCode::OK, "ok"));
    assert_eq!(body["data"]["status"], "FAILED");
    assert_eq!(body["data"]["fail_reason"], "duration_check_failed");
    assert_eq!(body["data"]["publicaly_available_post_id"], json!([]));
    let (_, body) = status(&s, &token, &fine).await;
    assert_eq!(body["data"]["status"], "PUBLISH_COMPLETE");
    assert!(body["data"].get("fail_reason").is_none());
    assert_eq!(s.tiktok().published().len(), 1);
}
