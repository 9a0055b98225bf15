//! The YouTube review (docs/sandbox-linkedin-youtube-review.md): multipart `videos.insert`,
//! `part` required, Google's `fields` partial response, and the daily 10 000-unit quota.

use cmis_core::ExposeSecret;
use cmis_sandbox::{Sandbox, YouTubeConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};

const ERRORS: &str = include_str!("../../cmis-youtube/tests/fixtures/errors.json");
const CHANNEL: &str = "UCcmisTestChannel0000001";

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
    body: Value,
    raw: String,
}

async fn answer(r: reqwest::RequestBuilder) -> Answer {
    let r = r.send().await.unwrap();
    let status = r.status();
    let raw = r.text().await.unwrap();
    let body = serde_json::from_str(&raw).unwrap_or(Value::Null);
    Answer { status, body, raw }
}

async fn sandbox() -> (Sandbox, String) {
    let s = Sandbox::builder()
        .youtube(YouTubeConfig::default())
        .start()
        .await
        .unwrap();
    let tokens = s.youtube().add_channel(CHANNEL, "cmis test channel");
    (s, tokens.access_token.expose_secret().to_owned())
}

/// The body of a multipart upload, as Google's client libraries send it.
fn multipart(metadata: &Value, media: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--b0undary\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{metadata}\r\n\
         --b0undary\r\nContent-Type: video/mp4\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(media);
    body.extend_from_slice(b"\r\n--b0undary--\r\n");
    body
}

fn metadata() -> Value {
    json!({"snippet": {"title": "cmis multipart", "description": "one request", "categoryId": "22"},
           "status": {"privacyStatus": "private", "selfDeclaredMadeForKids": false}})
}

async fn insert_multipart(s: &Sandbox, token: &str, query: &str) -> Answer {
    answer(
        http()
            .post(format!(
                "{}/upload/youtube/v3/videos?{query}",
                s.youtube().url()
            ))
            .bearer_auth(token)
            .header("Content-Type", "multipart/related; boundary=b0undary")
            .body(multipart(&metadata(), &[7_u8; 1000])),
    )
    .await
}

#[tokio::test]
async fn a_multipart_insert_creates_the_video_in_one_request() {
    let (s, token) = sandbox().await;
    let a = insert_multipart(&s, &token, "uploadType=multipart&part=snippet,status").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.raw);
    assert_eq!(a.body["kind"], "youtube#video");
    assert_eq!(a.body["snippet"]["title"], "cmis multipart");
    assert_eq!(a.body["status"]["uploadStatus"], "uploaded");
    let id = a.body["id"].as_str().unwrap();
    assert_eq!(s.youtube().video(id).unwrap().bytes, 1000);
    assert_eq!(s.youtube().video_count(CHANNEL), 1);
    assert_eq!(
        s.youtube().uploads_used_today(),
        1,
        "the upload bucket is charged"
    );

    // `fields` applies to the answer.
    let a = insert_multipart(
        &s,
        &token,
        "uploadType=multipart&part=snippet,status&fields=id,status(privacyStatus)",
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.raw);
    let keys: Vec<&String> = a.body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["id", "status"]);
    assert_eq!(a.body["status"], json!({"privacyStatus": "private"}));

    // An empty media part, and a body that is not multipart/related.
    let a = answer(
        http()
            .post(format!(
                "{}/upload/youtube/v3/videos?uploadType=multipart&part=snippet",
                s.youtube().url()
            ))
            .bearer_auth(&token)
            .header("Content-Type", "multipart/related; boundary=b0undary")
            .body(multipart(&metadata(), b"")),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.body["error"]["errors"][0]["reason"], "mediaBodyRequired");
    let a = answer(
        http()
            .post(format!(
                "{}/upload/youtube/v3/videos?uploadType=multipart&part=snippet",
                s.youtube().url()
            ))
            .bearer_auth(&token)
            .json(&metadata()),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.raw);
    assert_eq!(s.youtube().video_count(CHANNEL), 2);
}

#[tokio::test]
async fn part_is_required_and_metadata_less_media_uploads_are_refused() {
    let (s, token) = sandbox().await;
    let a = answer(
        http()
            .post(format!(
                "{}/upload/youtube/v3/videos?uploadType=resumable",
                s.youtube().url()
            ))
            .bearer_auth(&token)
            .header("X-Upload-Content-Length", "1000")
            .json(&metadata()),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.raw);
    let e = &a.body["error"]["errors"][0];
    assert_eq!(
        (&e["reason"], &e["location"]),
        (&json!("required"), &json!("part"))
    );
    let a = insert_multipart(&s, &token, "uploadType=media&part=snippet").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.raw);
    assert_eq!(s.youtube().video_count(CHANNEL), 0);
}

#[tokio::test]
async fn fields_select_parts_of_every_read() {
    let (s, token) = sandbox().await;
    let a = insert_multipart(&s, &token, "uploadType=multipart&part=snippet,status").await;
    let id = a.body["id"].as_str().unwrap().to_owned();
    let get = |path: &str, query: Vec<(&str, &str)>| {
        http()
            .get(format!("{}{path}", s.youtube().url()))
            .bearer_auth(&token)
            .query(&query)
    };
    let a = answer(get(
        "/youtube/v3/videos",
        vec![
            ("part", "status,processingDetails"),
            ("id", id.as_str()),
            ("fields", "items(id,status/uploadStatus)"),
        ],
    ))
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.raw);
    assert_eq!(
        a.body,
        json!({"items": [{"id": id, "status": {"uploadStatus": "uploaded"}}]})
    );
    let a = answer(get(
        "/youtube/v3/channels",
        vec![
            ("part", "contentDetails"),
            ("mine", "true"),
            ("fields", "items/contentDetails/relatedPlaylists/uploads"),
        ],
    ))
    .await;
    assert_eq!(
        a.body,
        json!({"items": [{"contentDetails": {"relatedPlaylists": {"uploads": "UUcmisTestChannel0000001"}}}]})
    );
    let a = answer(get(
        "/youtube/v3/playlistItems",
        vec![
            ("part", "snippet"),
            ("playlistId", "UUcmisTestChannel0000001"),
            (
                "fields",
                "pageInfo/totalResults,items/snippet/resourceId/videoId",
            ),
        ],
    ))
    .await;
    assert_eq!(
        a.body,
        json!({"pageInfo": {"totalResults": 1}, "items": [{"snippet": {"resourceId": {"videoId": id}}}]})
    );
    let a = answer(get(
        "/youtube/v3/videos",
        vec![
            ("part", "status"),
            ("id", id.as_str()),
            ("fields", "items(id"),
        ],
    ))
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.body["error"]["errors"][0]["reason"], "invalidParameter");
    assert_eq!(a.body["error"]["errors"][0]["location"], "fields");
}

#[tokio::test]
async fn the_daily_units_run_out_with_quota_exceeded() {
    let (s, token) = sandbox().await;
    let a = insert_multipart(&s, &token, "uploadType=multipart&part=snippet,status").await;
    let id = a.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        s.youtube().units_used_today(),
        0,
        "videos.insert has its own bucket"
    );
    let list = || {
        answer(
            http()
                .get(format!("{}/youtube/v3/videos", s.youtube().url()))
                .bearer_auth(&token)
                .query(&[("part", "status"), ("id", id.as_str())]),
        )
    };
    assert_eq!(list().await.status, StatusCode::OK);
    assert_eq!(s.youtube().units_used_today(), 1);
    // An invalid request costs too.
    let a = answer(
        http()
            .get(format!(
                "{}/youtube/v3/videos?part=status",
                s.youtube().url()
            ))
            .bearer_auth(&token),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(s.youtube().units_used_today(), 2);

    // thumbnails.set costs 50.
    s.youtube().set_units_used_today(9_950);
    let thumb = || {
        answer(
            http()
                .post(format!(
                    "{}/upload/youtube/v3/thumbnails/set?videoId={id}",
                    s.youtube().url()
                ))
                .bearer_auth(&token)
                .header("Content-Type", "image/jpeg")
                .body(vec![1_u8; 100]),
        )
    };
    assert_eq!(thumb().await.status, StatusCode::OK);
    assert_eq!(s.youtube().units_used_today(), 10_000);
    let a = list().await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert_eq!(a.body, error_body("quota_exceeded"));
    assert_eq!(thumb().await.status, StatusCode::FORBIDDEN);
    // The upload bucket is separate.
    let a = insert_multipart(&s, &token, "uploadType=multipart&part=snippet").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.raw);
    // A new Pacific day, with a fresh token (the old one lived an hour).
    s.youtube()
        .advance_clock(std::time::Duration::from_secs(86_400));
    let fresh = s.youtube().add_channel(CHANNEL, "cmis test channel");
    let a = answer(
        http()
            .get(format!("{}/youtube/v3/videos", s.youtube().url()))
            .bearer_auth(fresh.access_token.expose_secret())
            .query(&[("part", "status"), ("id", id.as_str())]),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.raw);
    assert_eq!(s.youtube().units_used_today(), 1);
}

#[tokio::test]
async fn revoking_a_token_ends_the_grant() {
    let s = Sandbox::builder()
        .youtube(YouTubeConfig::default())
        .start()
        .await
        .unwrap();
    let tokens = s.youtube().add_channel(CHANNEL, "cmis test channel");
    let access = tokens.access_token.expose_secret().to_owned();
    let revoke = |token: &str| {
        answer(
            http()
                .post(format!("{}/revoke", s.youtube().url()))
                .form(&[("token", token)]),
        )
    };
    let a = revoke(tokens.refresh_token.expose_secret()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.raw);
    // The access token of the same grant stops working too.
    let a = answer(
        http()
            .get(format!("{}/youtube/v3/channels", s.youtube().url()))
            .bearer_auth(&access)
            .query(&[("part", "id"), ("mine", "true")]),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.body, error_body("auth_error"));
    let a = revoke(&access).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.body["error"], "invalid_token");
}

#[tokio::test]
async fn a_video_is_updated_and_deleted_with_a_full_scope_only() {
    let (s, upload_token) = sandbox().await;
    let a = insert_multipart(
        &s,
        &upload_token,
        "uploadType=multipart&part=snippet,status",
    )
    .await;
    let id = a.body["id"].as_str().unwrap().to_owned();
    let full = s
        .youtube()
        .issue_tokens(CHANNEL, &["https://www.googleapis.com/auth/youtube"]);
    let full = full.access_token.expose_secret().to_owned();
    let url = format!("{}/youtube/v3/videos", s.youtube().url());
    let update = |token: &str, body: Value| {
        answer(
            http()
                .put(&url)
                .bearer_auth(token)
                .query(&[("part", "snippet,status")])
                .json(&body),
        )
    };
    let edited = json!({"id": id, "snippet": {"title": "renamed", "categoryId": "22"},
        "status": {"privacyStatus": "unlisted"}});
    // youtube.upload does not allow videos.update.
    let a = update(&upload_token, edited.clone()).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert_eq!(
        a.body["error"]["errors"][0]["reason"],
        "insufficientPermissions"
    );
    let a = update(&full, edited).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.raw);
    assert_eq!(a.body["snippet"]["title"], "renamed");
    assert_eq!(a.body["snippet"]["description"], "", "replaced, not merged");
    assert_eq!(a.body["status"]["privacyStatus"], "unlisted");
    assert_eq!(s.youtube().video(&id).unwrap().privacy_status, "unlisted");
    assert_eq!(s.youtube().units_used_today(), 50);
    let a = update(
        &full,
        json!({"id": id, "snippet": {"title": "no category"}}),
    )
    .await;
    assert_eq!(a.body["error"]["errors"][0]["reason"], "invalidCategoryId");
    let a = update(
        &full,
        json!({"id": "nope", "snippet": {"title": "t", "categoryId": "22"}}),
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.body["error"]["errors"][0]["reason"], "videoNotFound");

    let delete = || {
        answer(
            http()
                .delete(&url)
                .bearer_auth(&full)
                .query(&[("id", id.as_str())]),
        )
    };
    let a = delete().await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{}", a.raw);
    assert_eq!(s.youtube().video_count(CHANNEL), 0);
    let a = answer(
        http()
            .get(&url)
            .bearer_auth(&upload_token)
            .query(&[("part", "status"), ("id", id.as_str())]),
    )
    .await;
    assert_eq!(a.body["items"], json!([]));
    assert_eq!(delete().await.status, StatusCode::NOT_FOUND);
}
