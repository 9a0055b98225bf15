//! The LinkedIn review (docs/sandbox-linkedin-youtube-review.md): Rest.li 2.0 batch gets,
//! partial updates, `/v2/userinfo`, token revocation, the daily throttle, and the read of an
//! available video.

use std::time::Duration;

use cmis_core::ExposeSecret;
use cmis_sandbox::{LinkedInConfig, Sandbox};
use reqwest::StatusCode;
use serde_json::{Value, json};

const ERRORS: &str = include_str!("../../cmis-linkedin/tests/fixtures/errors.json");
const ORG: &str = "urn:li:organization:2414183";

fn error_case(name: &str) -> Value {
    let all: Vec<Value> = serde_json::from_str(ERRORS).unwrap();
    all.into_iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in errors.json"))
}

fn http() -> reqwest::Client {
    cmis_http::client_builder().unwrap().build().unwrap()
}

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

async fn sandbox_with(config: LinkedInConfig) -> (Sandbox, String) {
    let s = Sandbox::builder().linkedin(config).start().await.unwrap();
    let tokens = s.linkedin().add_member("8675309");
    s.linkedin().add_organization("2414183", "8675309");
    (s, tokens.access_token.expose_secret().to_owned())
}

fn rest(s: &Sandbox, token: &str, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
    http()
        .request(method, format!("{}{path}", s.linkedin().url()))
        .bearer_auth(token)
        .header("Linkedin-Version", "202604")
        .header("X-Restli-Protocol-Version", "2.0.0")
}

async fn create(s: &Sandbox, token: &str, commentary: &str) -> Answer {
    let body = json!({"author": ORG, "commentary": commentary, "visibility": "PUBLIC",
        "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": []},
        "lifecycleState": "PUBLISHED", "isReshareDisabledByAuthor": false});
    answer(rest(s, token, reqwest::Method::POST, "/rest/posts").json(&body)).await
}

async fn post(s: &Sandbox, token: &str, commentary: &str) -> String {
    let a = create(s, token, commentary).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.raw);
    a.headers["x-restli-id"].to_str().unwrap().to_owned()
}

fn encode(urn: &str) -> String {
    urn.replace(':', "%3A")
}

#[tokio::test]
async fn posts_are_batch_read_with_rest_li_lists_in_either_encoding() {
    let (s, token) = sandbox_with(LinkedInConfig::default()).await;
    let one = post(&s, &token, "first").await;
    let two = post(&s, &token, "second").await;
    let ghost = "urn:li:share:7000000000000000001";
    let list = format!("List({},{},{})", encode(&one), encode(&two), encode(ghost));
    for query in [
        list.clone(),
        list.replace('(', "%28")
            .replace(')', "%29")
            .replace(',', "%2C"),
    ] {
        let a = answer(rest(
            &s,
            &token,
            reqwest::Method::GET,
            &format!("/rest/posts?ids={query}"),
        ))
        .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.raw);
        assert_eq!(a.body["results"][&one]["commentary"], "first");
        assert_eq!(a.body["results"][&two]["id"], two.as_str());
        assert_eq!(a.body["statuses"][&one], 200);
        assert_eq!(a.body["statuses"][&two], 200);
        assert_eq!(a.body["statuses"][ghost], 404);
        assert_eq!(a.body["errors"][ghost]["status"], 404);
    }
    let a = answer(rest(
        &s,
        &token,
        reqwest::Method::GET,
        "/rest/posts?ids=urn%3Ali%3Ashare%3A1",
    ))
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.raw);
}

#[tokio::test]
async fn a_post_is_edited_with_a_partial_update() {
    let (s, token) = sandbox_with(LinkedInConfig::default()).await;
    let urn = post(&s, &token, "Before").await;
    let path = format!("/rest/posts/{}", encode(&urn));
    let patch = |body: Value, method: Option<&str>| {
        let r = rest(&s, &token, reqwest::Method::POST, &path).json(&body);
        answer(match method {
            Some(m) => r.header("X-RestLi-Method", m),
            None => r,
        })
    };
    let edit = json!({"patch": {"$set": {"commentary": "After \\(edited\\)"}}});
    let a = patch(edit.clone(), Some("PARTIAL_UPDATE")).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{}", a.raw);
    let a = answer(rest(&s, &token, reqwest::Method::GET, &path)).await;
    assert_eq!(a.body["commentary"], "After \\(edited\\)");
    assert_eq!(a.body["lifecycleStateInfo"]["isEditedByAuthor"], true);
    assert!(a.body["lastModifiedAt"].as_i64() > a.body["createdAt"].as_i64());
    assert_eq!(s.linkedin().stored_text(&urn).unwrap(), "After (edited)");

    assert_eq!(
        patch(edit.clone(), None).await.status,
        StatusCode::BAD_REQUEST
    );
    let a = patch(
        json!({"patch": {"$set": {"author": ORG}}}),
        Some("PARTIAL_UPDATE"),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let gone = "/rest/posts/urn%3Ali%3Ashare%3A7000000000000000001";
    let a = answer(
        rest(&s, &token, reqwest::Method::POST, gone)
            .header("X-RestLi-Method", "PARTIAL_UPDATE")
            .json(&edit),
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn userinfo_names_the_member_and_a_revoked_token_gets_its_401() {
    let (s, token) = sandbox_with(LinkedInConfig::default()).await;
    let a = answer(
        http()
            .get(format!("{}/v2/userinfo", s.linkedin().url()))
            .bearer_auth(&token),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.raw);
    assert_eq!(a.body["sub"], "8675309");
    assert_eq!(a.body["email_verified"], true);
    let narrow = s.linkedin().issue_tokens("8675309", &["w_member_social"]);
    let a = answer(
        http()
            .get(format!("{}/v2/userinfo", s.linkedin().url()))
            .bearer_auth(narrow.access_token.expose_secret()),
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);

    let revoke = |secret: &str| {
        answer(
            http()
                .post(format!("{}/oauth/v2/revoke", s.linkedin().url()))
                .form(&[
                    ("client_id", s.linkedin().client_id()),
                    ("client_secret", secret.to_owned()),
                    ("token", token.clone()),
                ]),
        )
    };
    assert_eq!(revoke("wrong").await.status, StatusCode::UNAUTHORIZED);
    let secret = s.linkedin().client_secret().expose_secret().to_owned();
    let a = revoke(&secret).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.raw);
    assert!(a.raw.is_empty());
    let a = create(&s, &token, "after revoke").await;
    let case = error_case("token_revoked");
    assert_eq!(a.status.as_u16(), case["status"]);
    assert_eq!(a.body, case["body"]);
}

#[tokio::test]
async fn the_apps_daily_post_budget_ends_in_the_documented_429() {
    let mut config = LinkedInConfig::default();
    config.daily_post_limit = Some(2);
    let (s, token) = sandbox_with(config).await;
    post(&s, &token, "one").await;
    post(&s, &token, "two").await;
    let a = create(&s, &token, "three").await;
    let case = error_case("throttled_application_day");
    assert_eq!(a.status.as_u16(), case["status"]);
    assert_eq!(a.body, case["body"]);
    assert!(a.headers.get("retry-after").is_none());
    assert_eq!(a.headers["x-restli-error-response"], "true");
    s.linkedin().advance_clock(Duration::from_secs(86_400));
    post(&s, &token, "three").await;
}

#[tokio::test]
async fn an_available_video_reads_with_the_fixtures_fields_and_media_batch_gets() {
    let mut config = LinkedInConfig::default();
    config.video_processing_reads = 0;
    let (s, token) = sandbox_with(config).await;
    let init = json!({"initializeUploadRequest": {"owner": ORG, "fileSizeBytes": 10, "uploadCaptions": false, "uploadThumbnail": false}});
    let a = answer(
        rest(
            &s,
            &token,
            reqwest::Method::POST,
            "/rest/videos?action=initializeUpload",
        )
        .json(&init),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.raw);
    let video = a.body["value"]["video"].as_str().unwrap().to_owned();
    let url = a.body["value"]["uploadInstructions"][0]["uploadUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let a = answer(
        http()
            .put(url)
            .header("Content-Type", "application/octet-stream")
            .body(vec![1_u8; 10]),
    )
    .await;
    let etag = a.headers["etag"].to_str().unwrap().to_owned();
    let fin = json!({"finalizeUploadRequest": {"video": video, "uploadToken": "", "uploadedPartIds": [etag]}});
    let a = answer(
        rest(
            &s,
            &token,
            reqwest::Method::POST,
            "/rest/videos?action=finalizeUpload",
        )
        .json(&fin),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.raw);
    let a = answer(rest(
        &s,
        &token,
        reqwest::Method::GET,
        &format!("/rest/videos/{}", encode(&video)),
    ))
    .await;
    assert_eq!(a.body["status"], "AVAILABLE", "{}", a.raw);
    let fixture: Value = serde_json::from_str(include_str!(
        "../../cmis-linkedin/tests/fixtures/video_status_available.json"
    ))
    .unwrap();
    let mut want: Vec<&String> = fixture.as_object().unwrap().keys().collect();
    let mut got: Vec<&String> = a.body.as_object().unwrap().keys().collect();
    want.sort();
    got.sort();
    assert_eq!(got, want);

    let a = answer(rest(
        &s,
        &token,
        reqwest::Method::GET,
        &format!(
            "/rest/videos?ids=List({},urn%3Ali%3Avideo%3Anope)",
            encode(&video)
        ),
    ))
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.raw);
    assert_eq!(a.body["results"][&video]["status"], "AVAILABLE");
    assert_eq!(a.body["statuses"]["urn:li:video:nope"], 404);
}
