//! The control API over HTTP: faults, what was published (with its requests), seeding, the
//! clock, token expiry, reset, and clear 4xx answers for bad requests.

use std::net::{IpAddr, Ipv4Addr};

use cmis_core::ExposeSecret;
use cmis_sandbox::Sandbox;
use reqwest::StatusCode;
use serde_json::{Value, json};

const PAGE: &str = "100000000000001";

fn http() -> reqwest::Client {
    cmis_http::client_builder().unwrap().build().unwrap()
}

async fn sandbox() -> (Sandbox, String) {
    let sandbox = Sandbox::builder().control_api(true).start().await.unwrap();
    let url = sandbox.control_url().unwrap();
    (sandbox, url)
}

async fn send(r: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let r = r.send().await.unwrap();
    let status = r.status();
    let bytes = r.bytes().await.unwrap();
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)));
    (status, value)
}

async fn post_json(url: String, body: Value) -> (StatusCode, Value) {
    send(http().post(url).json(&body)).await
}

async fn feed_post(sandbox: &Sandbox, token: &str, text: &str) -> StatusCode {
    http()
        .post(format!("{}/v25.0/{PAGE}/feed", sandbox.meta().url()))
        .bearer_auth(token)
        .form(&[("message", text)])
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn a_fault_injected_over_http_shows_with_the_post_it_left_behind() {
    let (sandbox, control) = sandbox().await;
    let token = sandbox.meta().add_page(PAGE, "Cafe");
    let (status, answer) = post_json(
        format!("{control}/faults"),
        json!({"platform": "meta", "endpoint": "feed", "fault": "server_error_after_accept"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["endpoint"], "Feed");
    assert_eq!(answer["fault"], "ServerErrorAfterAccept");
    assert_eq!(answer["count"], 1);

    let first = feed_post(&sandbox, token.expose_secret(), "Doors open at 9").await;
    assert_eq!(first, StatusCode::INTERNAL_SERVER_ERROR);
    let (status, published) = send(http().get(format!("{control}/published/meta"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(published["count"], 1, "{published}");
    let post = &published["items"][0];
    assert_eq!(post["message"], "Doors open at 9");
    assert_eq!(post["owner"], PAGE);
    let requests = post["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 1, "{post}");
    assert_eq!(requests[0]["method"], "POST");
    assert_eq!(requests[0]["path"], format!("/v25.0/{PAGE}/feed"));
    assert_eq!(requests[0]["status"], 500);
    assert!(requests[0]["at"].as_str().unwrap().contains('T'));

    // The fault was used up; every platform is listed under its name.
    assert_eq!(
        feed_post(&sandbox, token.expose_secret(), "Again").await,
        StatusCode::OK
    );
    let (_, all) = send(http().get(format!("{control}/published"))).await;
    assert_eq!(all["meta"]["count"], 2);
    for p in [
        "tiktok",
        "bluesky",
        "bluesky_video",
        "threads",
        "linkedin",
        "youtube",
    ] {
        assert_eq!(all[p]["count"], 0, "{p}");
    }
    let (_, log) = send(http().get(format!("{control}/requests?platform=meta"))).await;
    assert_eq!(log["count"], 2);
}

#[tokio::test]
async fn random_faults_and_clearing_them() {
    let (sandbox, control) = sandbox().await;
    let token = sandbox.meta().add_page(PAGE, "Cafe");
    let (status, answer) = post_json(
        format!("{control}/faults"),
        json!({"platform": "meta", "rate": 1.0, "faults": ["ServerError"], "endpoints": ["Feed"]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["endpoints"], json!(["Feed"]));
    let status = feed_post(&sandbox, token.expose_secret(), "x").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let (status, cleared) = send(http().delete(format!("{control}/faults/meta"))).await;
    assert_eq!(
        (status, cleared),
        (StatusCode::OK, json!({"cleared": ["meta"]}))
    );
    assert_eq!(
        feed_post(&sandbox, token.expose_secret(), "x").await,
        StatusCode::OK
    );
    let (status, _) = send(http().delete(format!("{control}/faults"))).await;
    assert_eq!(status, StatusCode::OK);
    let (_, catalog) = send(http().get(format!("{control}/faults"))).await;
    assert!(
        catalog["platforms"]["youtube"]
            .as_array()
            .unwrap()
            .contains(&json!("StartUpload"))
    );
}

#[tokio::test]
async fn bad_requests_get_a_4xx_with_a_message() {
    let (_sandbox, control) = sandbox().await;
    let faults = format!("{control}/faults");
    let cases = [
        (
            json!({"platform": "myspace", "endpoint": "Feed", "fault": "ServerError"}),
            "myspace",
        ),
        (
            json!({"platform": "meta", "endpoint": "Tweet", "fault": "ServerError"}),
            "Tweet",
        ),
        (
            json!({"platform": "meta", "endpoint": "Feed", "fault": "Explode"}),
            "Explode",
        ),
        (
            json!({"platform": "meta", "endpoint": "Feed", "fault": "Delay"}),
            "duration_ms",
        ),
        (
            json!({"platform": "meta", "endpoint": "Feed", "fault": "ServerError", "count": 0}),
            "count",
        ),
        (
            json!({"platform": "meta", "rate": 2.0, "faults": ["ServerError"]}),
            "rate",
        ),
        (json!({"platform": "meta"}), "endpoint"),
        (
            json!({"platform": "meta", "endpoint": "Feed", "fault": "ServerError", "x": 1}),
            "x",
        ),
    ];
    for (body, needle) in cases {
        let (status, answer) = post_json(faults.clone(), body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let message = answer["error"].as_str().unwrap();
        assert!(message.contains(needle), "{body}: {message}");
    }
    let (status, answer) = send(http().post(&faults).body("{not json")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(answer["error"].as_str().unwrap().contains("invalid JSON"));
    let (status, answer) = send(http().get(format!("{control}/nowhere"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(answer["error"].as_str().unwrap().contains("POST /reset"));
    let (status, _) = send(http().get(format!("{control}/reset"))).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let (status, _) = send(http().get(format!("{control}/published/myspace"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = send(http().get(format!("{control}/requests?colour=red"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, answer) = post_json(
        format!("{control}/tokens/expire"),
        json!({"platform": "meta", "token": "t"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(answer["error"].as_str().unwrap().contains("ExpiredToken"));
}

#[tokio::test]
async fn seeded_accounts_answer_tokens_that_work() {
    let (sandbox, control) = sandbox().await;
    let state = json!({
        "facebook_pages": [{"id": PAGE, "name": "Cafe"}],
        "instagram_accounts": [{"id": "17841400000000002", "login": "instagram"}],
        "tiktok_creators": [{"open_id": "creator-2"}],
        "bluesky_accounts": [{"handle": "two.bsky.social", "did": "did:plc:two",
                              "app_password": "aaaa-bbbb-cccc-dddd"}],
        "threads_users": [{"id": "17841400000000102", "username": "two"}],
        "linkedin_members": [{"id": "1234567"}],
        "linkedin_organizations": [{"id": "7654321", "admin": "1234567"}],
        "youtube_channels": [{"id": "UCsecondChannel000000001"}],
    });
    let (status, seeded) = post_json(format!("{control}/seed"), state).await;
    assert_eq!(status, StatusCode::OK, "{seeded}");
    let token = seeded["facebook_pages"][0]["token"].as_str().unwrap();
    assert_eq!(feed_post(&sandbox, token, "Seeded").await, StatusCode::OK);
    assert_eq!(seeded["tiktok_creators"][0]["open_id"], "creator-2");
    assert!(
        seeded["bluesky_accounts"][0]["access_jwt"]
            .as_str()
            .unwrap()
            .len()
            > 20
    );
    assert_eq!(
        seeded["linkedin_organizations"][0]["organization_urn"],
        "urn:li:organization:7654321"
    );
    assert_eq!(
        seeded["linkedin_members"][0]["person_urn"],
        "urn:li:person:1234567"
    );
    assert!(seeded["youtube_channels"][0]["access_token"].is_string());

    // An invalid document adds nothing.
    let bad = json!({"threads_users": [{"id": "1", "username": "one"}],
                     "bluesky_accounts": [{"handle": "h", "did": "nope", "app_password": "p"}]});
    let (status, answer) = post_json(format!("{control}/seed"), bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("bluesky_accounts[0].did")
    );
    let (status, _) = post_json(format!("{control}/seed"), json!({"pages": []})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // The same document from Rust.
    let answer = sandbox
        .seed(r#"{"threads_users":[{"id":"5","username":"five"}]}"#)
        .unwrap();
    assert!(answer.contains("\"threads_users\""));
    assert!(sandbox.seed("[]").is_err());
}

#[tokio::test]
async fn clocks_advance_freeze_and_unfreeze() {
    let (sandbox, control) = sandbox().await;
    let (status, before) = send(http().get(format!("{control}/clock"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(before["real_time_only"], json!(["meta", "tiktok"]));
    let threads_before = sandbox.threads().unix_time();
    let (status, after) =
        post_json(format!("{control}/clock/advance"), json!({"seconds": 7200})).await;
    assert_eq!(status, StatusCode::OK, "{after}");
    assert!(sandbox.threads().unix_time() >= threads_before + 7200);
    assert!(sandbox.bluesky().unix_time() >= threads_before + 7200);
    let ms = |v: &Value, p: &str| v["clocks"][p]["unix_ms"].as_i64().unwrap();
    assert!(ms(&after, "youtube") - ms(&before, "youtube") >= 7_200_000);

    let (_, frozen) = send(http().post(format!("{control}/clock/freeze"))).await;
    assert_eq!(frozen["clocks"]["linkedin"]["frozen"], true);
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    let (_, still) = send(http().get(format!("{control}/clock"))).await;
    assert_eq!(ms(&frozen, "linkedin"), ms(&still, "linkedin"));
    let (_, moved) = post_json(
        format!("{control}/clock/advance"),
        json!({"seconds": 1, "platform": "linkedin"}),
    )
    .await;
    assert_eq!(ms(&moved, "linkedin"), ms(&still, "linkedin") + 1000);
    let (_, running) = send(http().post(format!("{control}/clock/unfreeze"))).await;
    assert_eq!(running["clocks"]["linkedin"]["frozen"], false);
    assert!(ms(&running, "linkedin") >= ms(&moved, "linkedin"));

    for body in [
        json!({"seconds": -1}),
        json!({"seconds": 1, "platform": "meta"}),
    ] {
        let (status, _) = post_json(format!("{control}/clock/advance"), body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }
}

#[tokio::test]
async fn reset_forgets_posts_and_faults_but_keeps_tokens() {
    let (sandbox, control) = sandbox().await;
    let token = sandbox.meta().add_page(PAGE, "Cafe");
    assert_eq!(
        feed_post(&sandbox, token.expose_secret(), "one").await,
        StatusCode::OK
    );
    post_json(
        format!("{control}/faults"),
        json!({"platform": "meta", "endpoint": "Feed", "fault": "ServerError", "count": 5}),
    )
    .await;
    post_json(format!("{control}/clock/advance"), json!({"seconds": 3600})).await;
    let (status, answer) = send(http().post(format!("{control}/reset"))).await;
    assert_eq!((status, answer), (StatusCode::OK, json!({"reset": true})));
    assert!(sandbox.meta().posts().is_empty());
    let (_, log) = send(http().get(format!("{control}/requests"))).await;
    assert_eq!(log["count"], 0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        sandbox
            .threads()
            .unix_time()
            .abs_diff(i64::try_from(now).unwrap())
            < 60
    );
    assert_eq!(
        feed_post(&sandbox, token.expose_secret(), "two").await,
        StatusCode::OK
    );
    sandbox.reset();
    assert!(sandbox.meta().posts().is_empty());
}

#[tokio::test]
async fn tokens_expire_on_request() {
    let (sandbox, control) = sandbox().await;
    let token = sandbox.threads().add_user("17841400000000101", "cafe");
    let (status, _) = post_json(
        format!("{control}/tokens/expire"),
        json!({"platform": "threads", "token": token.expose_secret()}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let answer = http()
        .get(format!(
            "{}/v1.0/17841400000000101/threads",
            sandbox.threads().url()
        ))
        .query(&[("access_token", token.expose_secret())])
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_client_error(), "{}", answer.status());
}

#[tokio::test]
async fn only_loopback_unless_asked() {
    let remote = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
    let err = Sandbox::builder().listen(remote).start().await.unwrap_err();
    assert!(err.to_string().contains("allow_remote"), "{err}");
    let err = Sandbox::builder().ports(65_530).start().await.unwrap_err();
    assert!(err.to_string().contains("65530"), "{err}");
    let sandbox = Sandbox::builder()
        .listen(IpAddr::V4(Ipv4Addr::LOCALHOST))
        .start()
        .await
        .unwrap();
    assert!(sandbox.control_url().is_none());
    assert!(sandbox.meta().url().starts_with("http://127.0.0.1:"));
}

#[tokio::test]
async fn fail_next_sets_a_platform_failure_and_refuses_what_it_cannot() {
    let (_sandbox, c) = sandbox().await;
    let (status, body) = post_json(
        format!("{c}/fail-next"),
        json!({"platform": "meta", "subcode": 2_207_026}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["next_container"], "ERROR");
    let (status, body) = post_json(
        format!("{c}/fail-next"),
        json!({"platform": "tiktok", "reason": "duration_check_failed"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["fail_reason"], "duration_check_failed");
    for bad in [
        json!({"platform": "meta", "reason": "x"}),
        json!({"platform": "tiktok"}),
        json!({"platform": "youtube", "reason": "x"}),
        json!({"platform": "nowhere", "subcode": 1}),
    ] {
        let (status, body) = post_json(format!("{c}/fail-next"), bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad} -> {body}");
        assert!(body["error"].is_string(), "{body}");
    }
}
