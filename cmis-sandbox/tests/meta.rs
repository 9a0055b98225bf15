//! The fake Meta Graph API against Meta's documented wire rules (docs/meta-graph-api.md), driven
//! with a plain HTTP client: no connector is involved.

use std::time::Duration;

use cmis_core::ExposeSecret;
use cmis_sandbox::{Fault, InstagramLogin, MetaConfig, MetaEndpoint, MetaThrottle, Sandbox};
use reqwest::StatusCode;
use serde_json::{Value, json};

const V: &str = "v25.0";

fn http() -> reqwest::Client {
    cmis_http::client_builder().unwrap().build().unwrap()
}

async fn sandbox_with(config: MetaConfig) -> Sandbox {
    Sandbox::builder().meta(config).start().await.unwrap()
}

async fn sandbox() -> Sandbox {
    let mut config = MetaConfig::default();
    config.container_processing_time = Duration::ZERO;
    sandbox_with(config).await
}

async fn send(r: reqwest::RequestBuilder) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let r = r.send().await.unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    (
        status,
        headers,
        serde_json::from_slice(&r.bytes().await.unwrap()).unwrap(),
    )
}

fn err_code(v: &Value) -> (i64, Option<i64>) {
    (
        v["error"]["code"].as_i64().unwrap(),
        v["error"]["error_subcode"].as_i64(),
    )
}

#[tokio::test]
async fn a_page_feed_post_returns_its_id_with_usage_headers() {
    let s = sandbox().await;
    let page = s.meta().add_page("1111", "Cafe");
    let (status, headers, body) = send(
        http()
            .post(format!("{}/{V}/1111/feed", s.meta().url()))
            .bearer_auth(page.expose_secret())
            .form(&[
                ("message", "Doors open at 9"),
                ("link", "https://example.com/"),
            ]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = body["id"].as_str().unwrap();
    assert!(id.starts_with("1111_"));
    let usage: Value = serde_json::from_str(headers["x-app-usage"].to_str().unwrap()).unwrap();
    assert!(usage["call_count"].is_number());
    assert!(headers.contains_key("x-business-use-case-usage"));
    let posts = s.meta().posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].message.as_deref(), Some("Doors open at 9"));
}

#[tokio::test]
async fn a_user_token_cannot_post_as_the_page_and_expired_versions_serve_as_the_oldest() {
    let s = sandbox().await;
    s.meta().add_page("1111", "Cafe");
    let user = s.meta().issue_user_token("u1", Duration::from_secs(3600));
    let (status, _, body) = send(
        http()
            .post(format!("{}/{V}/1111/feed", s.meta().url()))
            .bearer_auth(user.expose_secret())
            .form(&[("message", "x")]),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(err_code(&body).0, 200);
    assert!(body["error"]["fbtrace_id"].is_string());

    // "Once a version is no longer usable, any calls made to it will be defaulted to the next
    // oldest usable version" (Platform Versioning): v20.0 expired, so v21.0 serves the call.
    let page = s.meta().add_page("2222", "Bakery");
    let (status, headers, body) = send(
        http()
            .post(format!("{}/v20.0/2222/feed", s.meta().url()))
            .bearer_auth(page.expose_secret())
            .form(&[("message", "x")]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers["facebook-api-version"], "v21.0");
}

#[tokio::test]
async fn native_scheduling_needs_ten_minutes_to_thirty_days_and_published_false() {
    let s = sandbox().await;
    let page = s.meta().add_page("1111", "Cafe");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let post = |at: u64, published: &'static str| {
        http()
            .post(format!("{}/{V}/1111/feed", s.meta().url()))
            .bearer_auth(page.expose_secret())
            .form(&[
                ("message", "later".to_owned()),
                ("published", published.to_owned()),
                ("scheduled_publish_time", at.to_string()),
            ])
    };
    let (status, _, body) = send(post(now + 300, "false")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err_code(&body).0, 100);
    let (status, _, _) = send(post(now + 31 * 86_400, "false")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = send(post(now + 86_400, "true")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, body) = send(post(now + 86_400, "false")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let posts = s.meta().posts();
    assert!(!posts[0].published);
    assert!(posts[0].scheduled_publish_time.is_some());
}

#[tokio::test]
async fn multi_photo_posts_attach_unpublished_photos() {
    let s = sandbox().await;
    let page = s.meta().add_page("1111", "Cafe");
    let url = s.meta().url();
    let mut ids = Vec::new();
    for i in 0..2 {
        let form = reqwest::multipart::Form::new()
            .text("published", "false")
            .part(
                "source",
                reqwest::multipart::Part::bytes(vec![0xFF, 0xD8, i]).file_name("a.jpg"),
            );
        let (status, _, body) = send(
            http()
                .post(format!("{url}/{V}/1111/photos"))
                .bearer_auth(page.expose_secret())
                .multipart(form),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(
            body.get("post_id").is_none(),
            "unpublished photos have no post"
        );
        ids.push(body["id"].as_str().unwrap().to_owned());
    }
    let attached = json!([{"media_fbid": ids[0]}, {"media_fbid": ids[1]}]).to_string();
    let (status, _, body) = send(
        http()
            .post(format!("{url}/{V}/1111/feed"))
            .bearer_auth(page.expose_secret())
            .form(&[
                ("message", "two photos"),
                ("attached_media", attached.as_str()),
            ]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A photo by URL, published, has a post id.
    let (_, _, body) = send(
        http()
            .post(format!("{url}/{V}/1111/photos"))
            .bearer_auth(page.expose_secret())
            .form(&[("url", "https://cdn.example.com/a.jpg")]),
    )
    .await;
    assert!(body["post_id"].as_str().unwrap().starts_with("1111_"));
    // A published photo cannot be attached.
    let bad = json!([{"media_fbid": body["id"]}]).to_string();
    let (status, _, _) = send(
        http()
            .post(format!("{url}/{V}/1111/feed"))
            .bearer_auth(page.expose_secret())
            .form(&[("attached_media", bad.as_str())]),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn resumable_upload_needs_oauth_and_the_right_offset_then_publishes_a_video() {
    let s = sandbox().await;
    let m = s.meta();
    let page = m.add_page("1111", "Cafe");
    let url = m.url();
    let (status, _, body) = send(
        http()
            .post(format!("{url}/{V}/{}/uploads", m.app_id()))
            .bearer_auth(page.expose_secret())
            .query(&[
                ("file_name", "a.mp4"),
                ("file_length", "10"),
                ("file_type", "video/mp4"),
            ]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let session = body["id"].as_str().unwrap().to_owned();
    assert!(session.starts_with("upload:"));
    let oauth = format!("OAuth {}", page.expose_secret());
    // Bearer is refused: uploads take OAuth.
    let (status, _, _) = send(
        http()
            .post(format!("{url}/{V}/{session}"))
            .bearer_auth(page.expose_secret())
            .header("file_offset", "0")
            .body(vec![1u8; 4]),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, body) = send(
        http()
            .post(format!("{url}/{V}/{session}"))
            .header("authorization", &oauth)
            .header("file_offset", "0")
            .body(vec![1u8; 4]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Interrupted: ask where to resume.
    let (_, _, body) = send(
        http()
            .get(format!("{url}/{V}/{session}"))
            .header("authorization", &oauth),
    )
    .await;
    assert_eq!(body["file_offset"], 4);
    let (status, _, _) = send(
        http()
            .post(format!("{url}/{V}/{session}"))
            .header("authorization", &oauth)
            .header("file_offset", "0")
            .body(vec![1u8; 6]),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a wrong offset is refused");
    let (_, _, body) = send(
        http()
            .post(format!("{url}/{V}/{session}"))
            .header("authorization", &oauth)
            .header("file_offset", "4")
            .body(vec![1u8; 6]),
    )
    .await;
    let handle = body["h"].as_str().unwrap().to_owned();
    let (status, _, body) = send(
        http()
            .post(format!("{url}/{V}/1111/videos"))
            .bearer_auth(page.expose_secret())
            .form(&[
                ("title", "t"),
                ("description", "d"),
                ("fbuploader_video_file_chunk", handle.as_str()),
            ]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(m.posts()[0].kind, "video");
}

#[tokio::test]
async fn reels_start_upload_finish() {
    let s = sandbox().await;
    let m = s.meta();
    let page = m.add_page("1111", "Cafe");
    let url = m.url();
    let (_, _, body) = send(
        http()
            .post(format!("{url}/{V}/1111/video_reels"))
            .bearer_auth(page.expose_secret())
            .form(&[("upload_phase", "start")]),
    )
    .await;
    let video_id = body["video_id"].as_str().unwrap().to_owned();
    let upload_url = body["upload_url"].as_str().unwrap().to_owned();
    assert_eq!(upload_url, format!("{url}/video-upload/{V}/{video_id}"));
    let finish = || {
        http()
            .post(format!("{url}/{V}/1111/video_reels"))
            .bearer_auth(page.expose_secret())
            .form(&[
                ("upload_phase", "finish"),
                ("video_id", video_id.as_str()),
                ("video_state", "PUBLISHED"),
                ("description", "reel"),
            ])
    };
    let (status, _, _) = send(finish()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "finish before upload");
    let (status, _, body) = send(
        http()
            .post(&upload_url)
            .header("authorization", format!("OAuth {}", page.expose_secret()))
            .header("offset", "0")
            .header("file_size", "5")
            .body(vec![0u8; 5]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["success"], true);
    let (status, _, body) = send(finish()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(m.posts()[0].kind, "reel");
}

async fn container(
    s: &Sandbox,
    token: &str,
    ig: &str,
    form: &[(&str, &str)],
) -> (StatusCode, Value) {
    let (status, _, body) = send(
        http()
            .post(format!("{}/{V}/{ig}/media", s.meta().url()))
            .bearer_auth(token)
            .form(form),
    )
    .await;
    (status, body)
}

async fn publish(s: &Sandbox, token: &str, ig: &str, creation_id: &str) -> (StatusCode, Value) {
    let (status, _, body) = send(
        http()
            .post(format!("{}/{V}/{ig}/media_publish", s.meta().url()))
            .bearer_auth(token)
            .query(&[("creation_id", creation_id)]),
    )
    .await;
    (status, body)
}

#[tokio::test]
async fn publishing_a_container_before_finished_fails_with_9007() {
    let mut config = MetaConfig::default();
    config.container_processing_time = Duration::from_secs(3600);
    let s = sandbox_with(config).await;
    let token = s
        .meta()
        .add_instagram_account("1789", InstagramLogin::Facebook);
    let t = token.expose_secret();
    let (_, body) = container(
        &s,
        t,
        "1789",
        &[
            ("image_url", "https://cdn.example.com/a.jpg"),
            ("caption", "hi"),
        ],
    )
    .await;
    let id = body["id"].as_str().unwrap().to_owned();
    let (_, _, status) = send(
        http()
            .get(format!("{}/{V}/{id}", s.meta().url()))
            .bearer_auth(t)
            .query(&[("fields", "status_code,status")]),
    )
    .await;
    assert_eq!(status["status_code"], "IN_PROGRESS");
    let (code, body) = publish(&s, t, "1789", &id).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert_eq!(err_code(&body), (9007, Some(2_207_027)));
    assert!(s.meta().posts().is_empty());
}

#[tokio::test]
async fn slow_processing_keeps_the_next_container_in_progress() {
    let s = sandbox().await;
    let token = s
        .meta()
        .add_instagram_account("1789", InstagramLogin::Facebook);
    let t = token.expose_secret();
    s.meta().inject(
        MetaEndpoint::Media,
        Fault::SlowProcessing(Duration::from_secs(3600)),
        1,
    );
    let (_, body) = container(
        &s,
        t,
        "1789",
        &[("image_url", "https://cdn.example.com/a.jpg")],
    )
    .await;
    let id = body["id"].as_str().unwrap().to_owned();
    let (_, _, status) = send(
        http()
            .get(format!("{}/{V}/{id}", s.meta().url()))
            .bearer_auth(t)
            .query(&[("fields", "status_code")]),
    )
    .await;
    assert_eq!(status["status_code"], "IN_PROGRESS");
    let (code, body) = publish(&s, t, "1789", &id).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert_eq!(err_code(&body), (9007, Some(2_207_027)));
}

#[tokio::test]
async fn containers_publish_once_with_a_permalink_within_the_quota() {
    let mut config = MetaConfig::default();
    config.container_processing_time = Duration::ZERO;
    config.publishing_quota = 1;
    let s = sandbox_with(config).await;
    let token = s
        .meta()
        .add_instagram_account("1789", InstagramLogin::Instagram);
    let t = token.expose_secret();
    let (_, body) = container(
        &s,
        t,
        "1789",
        &[
            ("image_url", "https://cdn.example.com/a.jpg"),
            ("caption", "hi"),
        ],
    )
    .await;
    let id = body["id"].as_str().unwrap().to_owned();
    let (_, _, status) = send(
        http()
            .get(format!("{}/{V}/{id}", s.meta().url()))
            .bearer_auth(t)
            .query(&[("fields", "status_code")]),
    )
    .await;
    assert_eq!(status["status_code"], "FINISHED");
    let (code, body) = publish(&s, t, "1789", &id).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let media_id = body["id"].as_str().unwrap().to_owned();
    let (_, _, link) = send(
        http()
            .get(format!("{}/{V}/{media_id}", s.meta().url()))
            .bearer_auth(t)
            .query(&[("fields", "permalink")]),
    )
    .await;
    assert!(
        link["permalink"]
            .as_str()
            .unwrap()
            .starts_with("https://www.instagram.com/p/")
    );
    // The container is now PUBLISHED; publishing it again is refused and counted.
    let (_, _, status) = send(
        http()
            .get(format!("{}/{V}/{id}", s.meta().url()))
            .bearer_auth(t)
            .query(&[("fields", "status_code")]),
    )
    .await;
    assert_eq!(status["status_code"], "PUBLISHED");
    let (code, _) = publish(&s, t, "1789", &id).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert_eq!(s.meta().duplicate_publish_attempts(), 1);
    // The quota (1 here) is used up.
    let (_, _, limit) = send(
        http()
            .get(format!(
                "{}/{V}/1789/content_publishing_limit",
                s.meta().url()
            ))
            .bearer_auth(t)
            .query(&[("fields", "quota_usage,config")]),
    )
    .await;
    assert_eq!(limit["data"][0]["quota_usage"], 1);
    assert_eq!(limit["data"][0]["config"]["quota_total"], 1);
    let (_, body) = container(
        &s,
        t,
        "1789",
        &[("image_url", "https://cdn.example.com/b.jpg")],
    )
    .await;
    let (code, body) = publish(&s, t, "1789", body["id"].as_str().unwrap()).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert_eq!(err_code(&body), (9, Some(2_207_042)));
    assert_eq!(s.meta().posts().len(), 1);
}

#[tokio::test]
async fn carousels_need_two_to_ten_items_and_captions_fit_2200_characters() {
    let s = sandbox().await;
    let token = s
        .meta()
        .add_instagram_account("1789", InstagramLogin::Facebook);
    let t = token.expose_secret();
    let mut children = Vec::new();
    for i in 0..2 {
        let url = format!("https://cdn.example.com/{i}.jpg");
        let (_, body) = container(
            &s,
            t,
            "1789",
            &[("image_url", url.as_str()), ("is_carousel_item", "true")],
        )
        .await;
        children.push(body["id"].as_str().unwrap().to_owned());
    }
    let (code, body) = container(
        &s,
        t,
        "1789",
        &[
            ("media_type", "CAROUSEL"),
            ("children", children[0].as_str()),
        ],
    )
    .await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert_eq!(err_code(&body), (100, Some(2_207_028)));
    let joined = children.join(",");
    let (code, body) = container(
        &s,
        t,
        "1789",
        &[
            ("media_type", "CAROUSEL"),
            ("children", joined.as_str()),
            ("caption", "two"),
        ],
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let (code, _) = publish(&s, t, "1789", body["id"].as_str().unwrap()).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(s.meta().posts()[0].kind, "ig_carousel");
    let long = "é".repeat(2201);
    let (code, body) = container(
        &s,
        t,
        "1789",
        &[
            ("image_url", "https://cdn.example.com/a.jpg"),
            ("caption", long.as_str()),
        ],
    )
    .await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert_eq!(err_code(&body), (36004, Some(2_207_010)));
    assert!(body["error"]["error_user_msg"].is_string());
}

#[tokio::test]
async fn tokens_exchange_page_tokens_debug_and_instagram_refresh() {
    let s = sandbox().await;
    let m = s.meta();
    m.add_page("1111", "Cafe");
    let short = m.issue_user_token("u1", Duration::from_secs(3600));
    let url = m.url();
    let exchange = |secret: String| {
        http().get(format!("{url}/{V}/oauth/access_token")).query(&[
            ("grant_type", "fb_exchange_token".to_owned()),
            ("client_id", m.app_id()),
            ("client_secret", secret),
            ("fb_exchange_token", short.expose_secret().to_owned()),
        ])
    };
    let (status, _, body) = send(exchange("wrong".into())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err_code(&body).0, 1, "a wrong secret is code 1: {body}");
    assert_eq!(body["error"]["message"], "Error validating client secret.");
    let (_, _, body) = send(exchange(m.app_secret().expose_secret().to_owned())).await;
    assert_eq!(body["expires_in"], 5_183_944);
    let long = body["access_token"].as_str().unwrap().to_owned();
    let (_, _, accounts) = send(
        http()
            .get(format!("{url}/{V}/me/accounts"))
            .bearer_auth(&long),
    )
    .await;
    assert_eq!(accounts["data"][0]["id"], "1111");
    let page_token = accounts["data"][0]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let app_token = format!("{}|{}", m.app_id(), m.app_secret().expose_secret());
    let (_, _, debug) = send(http().get(format!("{url}/{V}/debug_token")).query(&[
        ("input_token", page_token.as_str()),
        ("access_token", app_token.as_str()),
    ]))
    .await;
    assert_eq!(debug["data"]["type"], "PAGE");
    assert_eq!(
        debug["data"]["expires_at"], 0,
        "Page tokens from long-lived user tokens never expire"
    );
    assert!(debug["data"]["data_access_expires_at"].as_i64().unwrap() > 0);
    assert_eq!(debug["data"]["is_valid"], true);

    let ig = m.add_instagram_account("1789", InstagramLogin::Instagram);
    let refresh = || {
        http().get(format!("{url}/refresh_access_token")).query(&[
            ("grant_type", "ig_refresh_token"),
            ("access_token", ig.expose_secret()),
        ])
    };
    let (status, _, _) = send(refresh()).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "tokens under 24 h old cannot be refreshed"
    );
    m.age_token(ig.expose_secret(), Duration::from_secs(25 * 3600));
    let (status, _, body) = send(refresh()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["expires_in"], 5_183_944);
}

#[tokio::test]
async fn injected_faults_look_like_meta() {
    let s = sandbox().await;
    let m = s.meta();
    let page = m.add_page("1111", "Cafe");
    let feed = || {
        http()
            .post(format!("{}/{V}/1111/feed", m.url()))
            .bearer_auth(page.expose_secret())
            .form(&[("message", "x")])
    };
    m.inject(MetaEndpoint::Feed, Fault::RateLimited, 1);
    let (status, headers, body) = send(feed()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(err_code(&body).0, 4);
    let usage: Value = serde_json::from_str(headers["x-app-usage"].to_str().unwrap()).unwrap();
    assert_eq!(usage["call_count"], 100);
    let buc: Value =
        serde_json::from_str(headers["x-business-use-case-usage"].to_str().unwrap()).unwrap();
    assert_eq!(buc["1111"][0]["estimated_time_to_regain_access"], 5);
    assert!(m.posts().is_empty());

    m.inject(MetaEndpoint::Feed, Fault::ServerErrorAfterAccept, 1);
    let (status, _, body) = send(feed()).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body["error"]["is_transient"], true);
    assert_eq!(
        m.posts().len(),
        1,
        "the post exists although the caller saw a 500"
    );

    m.inject(MetaEndpoint::Feed, Fault::ExpiredToken, 1);
    for _ in 0..2 {
        let (status, _, body) = send(feed()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(err_code(&body), (190, Some(463)));
    }
}

#[tokio::test]
async fn an_account_throttle_reports_business_use_case_usage_for_that_account() {
    let mut config = MetaConfig::default();
    config.container_processing_time = Duration::ZERO;
    config.throttle = MetaThrottle::Account { regain_minutes: 1 };
    let s = sandbox_with(config).await;
    let m = s.meta();
    let page = m.add_page("1111", "Cafe");
    let ig = m.add_instagram_account("1789", InstagramLogin::Facebook);

    m.inject(MetaEndpoint::Feed, Fault::RateLimited, 1);
    let (status, headers, body) = send(
        http()
            .post(format!("{}/{V}/1111/feed", m.url()))
            .bearer_auth(page.expose_secret())
            .form(&[("message", "x")]),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(err_code(&body), (80_001, None));
    let app: Value = serde_json::from_str(headers["x-app-usage"].to_str().unwrap()).unwrap();
    assert!(app["call_count"].as_u64().unwrap() < 80, "{app}");
    let buc: Value =
        serde_json::from_str(headers["x-business-use-case-usage"].to_str().unwrap()).unwrap();
    assert_eq!(buc["1111"][0]["call_count"], 100);
    assert_eq!(buc["1111"][0]["estimated_time_to_regain_access"], 1);
    assert!(m.posts().is_empty());

    // A read names no account in its path: the limit is the token's Instagram account's.
    let (status, _, body) = send(
        http()
            .post(format!("{}/{V}/1789/media", m.url()))
            .bearer_auth(ig.expose_secret())
            .form(&[("image_url", "https://cdn.example.com/a.jpg")]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let container = body["id"].as_str().unwrap().to_owned();
    m.inject(MetaEndpoint::ContainerStatus, Fault::RateLimited, 1);
    let (status, headers, body) = send(
        http()
            .get(format!("{}/{V}/{container}", m.url()))
            .bearer_auth(ig.expose_secret())
            .query(&[("fields", "status_code")]),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(err_code(&body), (80_002, None));
    let buc: Value =
        serde_json::from_str(headers["x-business-use-case-usage"].to_str().unwrap()).unwrap();
    assert_eq!(buc["1789"][0]["estimated_time_to_regain_access"], 1);
}
