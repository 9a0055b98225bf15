//! The fake LinkedIn driven with raw HTTP built from cmis-linkedin's documented fixtures
//! (cmis-linkedin/tests/fixtures): OAuth, the version gate, posts and little text, duplicates,
//! images and videos.

use std::time::Duration;

use cmis_core::ExposeSecret;
use cmis_sandbox::{Fault, LinkedInConfig, LinkedInEndpoint, Sandbox};
use reqwest::StatusCode;
use serde_json::{Value, json};

const ERRORS: &str = include_str!("../../cmis-linkedin/tests/fixtures/errors.json");
const ORG: &str = "urn:li:organization:2414183";
const PERSON: &str = "urn:li:person:8675309";
const VERSION: &str = "202604";
const REDIRECT: &str = "https://dev.example.com/auth/linkedin/callback";

macro_rules! fixture {
    ($name:literal) => {
        serde_json::from_str::<Value>(include_str!(concat!(
            "../../cmis-linkedin/tests/fixtures/",
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

/// A sandbox with the fixtures' member, who administers the fixtures' organization.
async fn sandbox_with(config: LinkedInConfig) -> (Sandbox, String) {
    let s = Sandbox::builder().linkedin(config).start().await.unwrap();
    let tokens = s.linkedin().add_member("8675309");
    s.linkedin().add_organization("2414183", "8675309");
    (s, tokens.access_token.expose_secret().to_owned())
}

async fn sandbox() -> (Sandbox, String) {
    sandbox_with(LinkedInConfig::default()).await
}

fn rest(s: &Sandbox, token: &str, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
    http()
        .request(method, format!("{}{path}", s.linkedin().url()))
        .bearer_auth(token)
        .header("LinkedIn-Version", VERSION)
        .header("X-Restli-Protocol-Version", "2.0.0")
}

async fn create(s: &Sandbox, token: &str, body: &Value) -> Answer {
    answer(rest(s, token, reqwest::Method::POST, "/rest/posts").json(body)).await
}

fn created_urn(a: &Answer) -> String {
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.raw);
    assert!(a.raw.is_empty(), "the create answers an empty body");
    let urn = a.headers["x-restli-id"].to_str().unwrap().to_owned();
    let digits = urn.strip_prefix("urn:li:share:").unwrap();
    assert_eq!(digits.len(), 19, "{urn}");
    assert!(digits.bytes().all(|b| b.is_ascii_digit()), "{urn}");
    urn
}

fn encode(urn: &str) -> String {
    urn.replace(':', "%3A")
}

#[tokio::test]
async fn a_text_post_is_created_read_listed_and_deleted() {
    let (s, token) = sandbox().await;
    let urn =
        created_urn(&create(&s, &token, &fixture!("post_text_organization_request.json")).await);
    let read = answer(rest(
        &s,
        &token,
        reqwest::Method::GET,
        &format!("/rest/posts/{}", encode(&urn)),
    ))
    .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.raw);
    // Same fields as fixture `post_get_response.json`; only ids and times differ.
    let mut expected = fixture!("post_get_response.json");
    for k in ["id", "createdAt", "lastModifiedAt", "publishedAt"] {
        expected[k] = read.body[k].clone();
    }
    assert_eq!(read.body, expected);
    assert_eq!(read.body["id"], json!(urn));

    let second = created_urn(
        &create(
            &s,
            &token,
            &json!({"author": ORG, "commentary": "a second post", "visibility": "PUBLIC",
                    "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": []},
                    "lifecycleState": "PUBLISHED", "isReshareDisabledByAuthor": false}),
        )
        .await,
    );
    let list = answer(
        rest(&s, &token, reqwest::Method::GET, "/rest/posts").query(&[
            ("author", ORG),
            ("q", "author"),
            ("count", "1"),
            ("sortBy", "LAST_MODIFIED"),
        ]),
    )
    .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.raw);
    assert_eq!(
        list.body["elements"][0]["id"],
        json!(second),
        "newest first"
    );
    assert_eq!(list.body["paging"]["links"][0]["rel"], json!("next"));
    assert!(list.body["paging"].get("total").is_none());
    assert_eq!(s.linkedin().post_count(ORG), 2);

    let deleted = answer(rest(
        &s,
        &token,
        reqwest::Method::DELETE,
        &format!("/rest/posts/{}", encode(&urn)),
    ))
    .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let gone = answer(rest(
        &s,
        &token,
        reqwest::Method::GET,
        &format!("/rest/posts/{}", encode(&urn)),
    ))
    .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.body, error_body("post_not_found"));
    assert_eq!(s.linkedin().post_count(ORG), 1);
}

#[tokio::test]
async fn an_unescaped_parenthesis_silently_cuts_the_post_and_an_escaped_one_does_not() {
    let (s, token) = sandbox().await;
    let escaped = fixture!("post_text_member_request.json");
    let urn = created_urn(&create(&s, &token, &escaped).await);
    let post = s.linkedin().post(&urn).unwrap();
    assert!(!post.truncated);
    assert_eq!(post.text, "Escaped little text (see §3)");
    assert_eq!(s.linkedin().stored_text(&urn).unwrap(), post.text);

    let mut raw = escaped.clone();
    raw["commentary"] = json!("Va al repo (durable)");
    let urn = created_urn(&create(&s, &token, &raw).await);
    let post = s.linkedin().post(&urn).unwrap();
    assert!(post.truncated, "LinkedIn answered 201 all the same");
    assert_eq!(post.text, "Va al repo ");
    assert_eq!(post.sent_commentary, "Va al repo (durable)");
}

#[tokio::test]
async fn every_escaped_little_text_case_survives_whole() {
    let (s, token) = sandbox().await;
    let cases: Vec<Value> = serde_json::from_str(include_str!(
        "../../cmis-linkedin/tests/fixtures/little_text_cases.json"
    ))
    .unwrap();
    for case in cases {
        let (name, input, escaped) = (
            case["name"].as_str().unwrap(),
            case["input"].as_str().unwrap(),
            case["escaped"].as_str().unwrap(),
        );
        let body = json!({"author": PERSON, "commentary": escaped, "visibility": "PUBLIC",
            "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": []},
            "lifecycleState": "PUBLISHED"});
        let urn = created_urn(&create(&s, &token, &body).await);
        let post = s.linkedin().post(&urn).unwrap();
        assert!(
            !post.truncated,
            "{name}: {escaped:?} was cut to {:?}",
            post.text
        );
        assert_eq!(post.commentary, escaped, "{name}");
        if !matches!(
            case["kind"].as_str(),
            Some("mention" | "template" | "mixed")
        ) {
            assert_eq!(post.text, input, "{name}");
        }
    }
}

#[tokio::test]
async fn a_repost_gets_duplicate_post_naming_the_first_urn() {
    let (s, token) = sandbox().await;
    let body = fixture!("post_text_organization_request.json");
    // The first create is stored, but its answer is lost.
    s.linkedin()
        .inject(LinkedInEndpoint::CreatePost, Fault::DropAfterAccept, 1);
    let lost = rest(&s, &token, reqwest::Method::POST, "/rest/posts")
        .json(&body)
        .send()
        .await;
    if let Ok(r) = lost {
        assert!(r.text().await.is_err(), "the answer is lost");
    }
    let first = s.linkedin().posts()[0].urn.clone();
    let again = create(&s, &token, &body).await;
    assert_eq!(
        again.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        again.raw
    );
    let mut expected = error_body("duplicate_post");
    expected["message"] = json!(format!(
        "com.linkedin.content.common.exception.BadRequestResponseException: Content is a duplicate of {first}"
    ));
    assert_eq!(again.body, expected);
    assert!(again.body["message"].as_str().unwrap().ends_with(&first));
    assert!(again.headers.get("retry-after").is_none());
    assert_eq!(s.linkedin().post_count(ORG), 1);
    assert_eq!(s.linkedin().duplicate_attempts(), 1);
}

#[tokio::test]
async fn the_version_gate_refuses_missing_and_sunset_versions() {
    let mut config = LinkedInConfig::default();
    config.sunset_versions = vec![202_603];
    let (s, token) = sandbox_with(config).await;
    let body = fixture!("post_text_organization_request.json");
    let url = format!("{}/rest/posts", s.linkedin().url());

    let missing = answer(
        http()
            .post(&url)
            .bearer_auth(&token)
            .header("X-Restli-Protocol-Version", "2.0.0")
            .json(&body),
    )
    .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(missing.body, error_body("version_missing"));
    assert_eq!(missing.headers["x-restli-gateway-error"], "true");

    for (version, shown) in [("202504", "20250401"), ("202603", "20260301")] {
        let sunset = answer(
            http()
                .post(&url)
                .bearer_auth(&token)
                .header("linkedin-version", version)
                .header("X-Restli-Protocol-Version", "2.0.0")
                .json(&body),
        )
        .await;
        assert_eq!(sunset.status, StatusCode::UPGRADE_REQUIRED);
        let mut expected = error_body("version_sunset");
        expected["message"] = json!(format!("Requested version {shown} is not active"));
        assert_eq!(sunset.body, expected);
    }
    assert_eq!(
        error_body("version_sunset")["message"],
        "Requested version 20250401 is not active"
    );
    assert!(s.linkedin().posts().is_empty());
}

#[tokio::test]
async fn tokens_refresh_without_resetting_the_refresh_lifetime() {
    let (s, _) = sandbox().await;
    let li = s.linkedin();
    let code = li.issue_code("8675309", &["openid", "w_member_social"], REDIRECT);
    let url = format!("{}/oauth/v2/accessToken", li.url());
    let secret = li.client_secret().expose_secret().to_owned();
    let id = li.client_id();
    let exchange = answer(http().post(&url).form(&[
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("client_id", id.as_str()),
        ("client_secret", secret.as_str()),
    ]))
    .await;
    assert_eq!(exchange.status, StatusCode::OK, "{}", exchange.raw);
    let fx = fixture!("oauth_access_token.json");
    assert_eq!(exchange.body["expires_in"], fx["expires_in"]);
    assert_eq!(
        exchange.body["refresh_token_expires_in"],
        fx["refresh_token_expires_in"]
    );
    let refresh = exchange.body["refresh_token"].as_str().unwrap().to_owned();

    // Day 59: 306 days left (fixture `oauth_refresh.json`).
    li.advance_clock(Duration::from_secs(59 * 86_400));
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
        ("client_id", id.as_str()),
        ("client_secret", secret.as_str()),
    ];
    let refreshed = answer(http().post(&url).form(&form)).await;
    assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.raw);
    let fx = fixture!("oauth_refresh.json");
    assert_eq!(refreshed.body["expires_in"], fx["expires_in"]);
    let left = refreshed.body["refresh_token_expires_in"].as_i64().unwrap();
    assert!(
        (fx["refresh_token_expires_in"].as_i64().unwrap() - left).abs() <= 1,
        "{left}"
    );
    assert_eq!(li.refresh_count(), 1);

    li.revoke_token(&refresh);
    let dead = answer(http().post(&url).form(&form)).await;
    assert_eq!(dead.status, StatusCode::BAD_REQUEST);
    assert_eq!(dead.body, fixture!("oauth_error_invalid_grant.json"));
}

#[tokio::test]
async fn expired_and_revoked_tokens_get_their_401_bodies() {
    let (s, token) = sandbox().await;
    let path = "/rest/posts?q=author&author=urn%3Ali%3Aorganization%3A2414183";
    s.linkedin().expire_token(&token);
    let expired = answer(rest(&s, &token, reqwest::Method::GET, path)).await;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
    assert_eq!(expired.body, error_body("token_expired"));
    let other = s.linkedin().add_member("8675309").access_token;
    s.linkedin().revoke_token(other.expose_secret());
    let revoked = answer(rest(&s, other.expose_secret(), reqwest::Method::GET, path)).await;
    assert_eq!(revoked.body, error_body("token_revoked"));
    let invalid = answer(rest(&s, "nonsense", reqwest::Method::GET, path)).await;
    assert_eq!(invalid.body, error_body("token_invalid"));
    s.linkedin()
        .inject(LinkedInEndpoint::ListPosts, Fault::RateLimited, 1);
    let fresh = s.linkedin().add_member("8675309").access_token;
    let throttled = answer(rest(&s, fresh.expose_secret(), reqwest::Method::GET, path)).await;
    assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(throttled.headers.get("retry-after").is_none());
    assert_eq!(throttled.body, error_body("throttled_application_day"));
}

#[tokio::test]
async fn an_image_is_uploaded_whole_then_posted() {
    let (s, token) = sandbox().await;
    let init = answer(
        rest(&s, &token, reqwest::Method::POST, "/rest/images")
            .query(&[("action", "initializeUpload")])
            .json(&fixture!("image_initialize_request.json")),
    )
    .await;
    assert_eq!(init.status, StatusCode::OK, "{}", init.raw);
    let value = &init.body["value"];
    let image = value["image"].as_str().unwrap().to_owned();
    assert!(image.starts_with("urn:li:image:"));
    assert!(value["uploadUrlExpiresAt"].is_i64());
    let mut post = fixture!("post_image_request.json");
    post["content"]["media"]["id"] = json!(image);
    let early = create(&s, &token, &post).await;
    assert_eq!(early.status, StatusCode::BAD_REQUEST);
    assert_eq!(early.body, error_body("media_asset_waiting_upload"));

    let put = http()
        .put(value["uploadUrl"].as_str().unwrap())
        .bearer_auth(&token)
        .body(vec![0xFF_u8; 2048])
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success(), "{}", put.status());
    let status = answer(rest(
        &s,
        &token,
        reqwest::Method::GET,
        &format!("/rest/images/{}", encode(&image)),
    ))
    .await;
    assert_eq!(status.body["status"], "AVAILABLE", "{}", status.raw);
    let urn = created_urn(&create(&s, &token, &post).await);
    assert_eq!(s.linkedin().post(&urn).unwrap().media, vec![image]);
}

#[tokio::test]
async fn a_video_goes_up_in_parts_finalizes_with_etags_in_order_and_processes() {
    let (s, token) = sandbox().await;
    let init = answer(
        rest(&s, &token, reqwest::Method::POST, "/rest/videos")
            .query(&[("action", "initializeUpload")])
            .json(&fixture!("video_initialize_request.json")),
    )
    .await;
    assert_eq!(init.status, StatusCode::OK, "{}", init.raw);
    let value = init.body["value"].clone();
    let video = value["video"].as_str().unwrap().to_owned();
    assert_eq!(value["uploadToken"], "");
    // The parts of fixture `video_initialize_response.json`: 4 MiB, the last shorter.
    let fx = fixture!("video_initialize_response.json");
    let ranges = |v: &Value| -> Vec<(u64, u64)> {
        v["uploadInstructions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["firstByte"].as_u64().unwrap(),
                    i["lastByte"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(ranges(&value), ranges(&fx["value"]));

    let mut post = fixture!("post_video_request.json");
    post["content"]["media"]["id"] = json!(video);
    let mut etags = Vec::new();
    for (first, last) in ranges(&value) {
        let i = etags.len();
        let url = value["uploadInstructions"][i]["uploadUrl"]
            .as_str()
            .unwrap();
        let size = usize::try_from(last - first + 1).unwrap();
        // A part of the wrong size is refused.
        let short = http()
            .put(url)
            .body(vec![1_u8; size - 1])
            .send()
            .await
            .unwrap();
        assert_eq!(short.status(), StatusCode::BAD_REQUEST);
        // No Authorization: the URL is pre-signed.
        let r = http()
            .put(url)
            .header("Content-Type", "application/octet-stream")
            .body(vec![1_u8; size])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        etags.push(r.headers()["etag"].to_str().unwrap().to_owned());
    }
    let finalize = |ids: Vec<String>| {
        rest(&s, &token, reqwest::Method::POST, "/rest/videos")
            .query(&[("action", "finalizeUpload")])
            .json(&json!({"finalizeUploadRequest": {"video": video, "uploadToken": "", "uploadedPartIds": ids}}))
    };
    let mut swapped = etags.clone();
    swapped.swap(0, 1);
    assert_eq!(
        answer(finalize(swapped)).await.status,
        StatusCode::BAD_REQUEST
    );
    let done = answer(finalize(etags)).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.raw);

    let early = create(&s, &token, &post).await;
    assert_eq!(early.body, error_body("media_asset_waiting_upload"));
    let path = format!("/rest/videos/{}", encode(&video));
    for expected in ["PROCESSING", "PROCESSING", "AVAILABLE"] {
        let st = answer(rest(&s, &token, reqwest::Method::GET, &path)).await;
        assert_eq!(st.body["status"], expected, "{}", st.raw);
    }
    created_urn(&create(&s, &token, &post).await);
}
