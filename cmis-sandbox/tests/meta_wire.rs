//! The fake Meta's wire fidelity (issue 22): request bodies as form, multipart and JSON, list
//! parameters in every documented form, reads of created objects with `fields`, edits and
//! deletes, the version policy, the error details, the container `ERROR` state, ISO 8601 and
//! Unix scheduled times, and the usage headers' keys. Driven with a plain HTTP client.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cmis_core::ExposeSecret;
use cmis_sandbox::{InstagramLogin, MetaConfig, Sandbox};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

const V: &str = "v25.0";
const PAGE: &str = "1111";
const IG: &str = "1789";

fn http() -> reqwest::Client {
    cmis_http::client_builder().unwrap().build().unwrap()
}

struct Fixture {
    s: Sandbox,
    page: String,
    ig: String,
}

impl Fixture {
    fn url(&self, path: &str) -> String {
        format!("{}/{V}/{path}", self.s.meta().url())
    }
}

async fn fixture() -> Fixture {
    let mut config = MetaConfig::default();
    config.container_processing_time = Duration::ZERO;
    let s = Sandbox::builder().meta(config).start().await.unwrap();
    let page = s.meta().add_page(PAGE, "Cafe").expose_secret().to_owned();
    let ig = s
        .meta()
        .add_instagram_account(IG, InstagramLogin::Facebook)
        .expose_secret()
        .to_owned();
    Fixture { s, page, ig }
}

async fn send(r: reqwest::RequestBuilder) -> (StatusCode, HeaderMap, Value) {
    let r = r.send().await.unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    let body = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    (status, headers, body)
}

fn err(v: &Value) -> (i64, Option<i64>) {
    (
        v["error"]["code"].as_i64().unwrap_or_default(),
        v["error"]["error_subcode"].as_i64(),
    )
}

fn unix_now() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    i64::try_from(secs).unwrap()
}

/// An ISO 8601 UTC time, `2026-12-08T01:00:00Z` (H. Hinnant's `civil_from_days`).
fn iso(unix: i64) -> String {
    let (days, secs) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let (h, min, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}Z")
}

#[tokio::test]
async fn json_bodies_are_read_as_the_sdks_send_them() {
    let f = fixture().await;
    let at = unix_now() + 3600;
    // Meta's Node SDK: the token in the query string, every other parameter in a JSON body,
    // booleans and numbers as JSON values.
    let (status, _, body) = send(
        http()
            .post(f.url(&format!("{PAGE}/feed")))
            .query(&[("access_token", &f.page)])
            .json(&json!({ "message": "json", "published": false, "scheduled_publish_time": at })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let posts = f.s.meta().posts();
    assert_eq!(posts[0].message.as_deref(), Some("json"));
    assert_eq!(posts[0].scheduled_publish_time, Some(at));
    assert!(!posts[0].published);
    // A body that says JSON but is not an object is refused with code 100.
    let (status, _, body) = send(
        http()
            .post(f.url(&format!("{PAGE}/feed")))
            .bearer_auth(&f.page)
            .header("content-type", "application/json")
            .body("[1,2]"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err(&body).0, 100);
}

#[tokio::test]
async fn scheduled_times_are_unix_or_iso_8601() {
    let f = fixture().await;
    let at = unix_now() + 2 * 3600;
    let (status, _, body) = send(
        http()
            .post(f.url(&format!("{PAGE}/feed")))
            .bearer_auth(&f.page)
            .form(&[
                ("message", "iso"),
                ("published", "false"),
                ("scheduled_publish_time", &iso(at)),
            ]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(f.s.meta().posts()[0].scheduled_publish_time, Some(at));
    let (status, _, body) = send(
        http()
            .post(f.url(&format!("{PAGE}/feed")))
            .bearer_auth(&f.page)
            .form(&[
                ("message", "x"),
                ("published", "false"),
                ("scheduled_publish_time", "next tuesday-ish"),
            ]),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err(&body).0, 100);
}

async fn item(f: &Fixture, name: &str) -> String {
    let (status, _, body) = send(
        http()
            .post(f.url(&format!("{IG}/media")))
            .bearer_auth(&f.ig)
            .form(&[
                ("image_url", format!("https://cdn.example.com/{name}.jpg")),
                ("is_carousel_item", "true".to_owned()),
            ]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn carousel_children_come_in_every_documented_form() {
    let f = fixture().await;
    let (a, b) = (item(&f, "a").await, item(&f, "b").await);
    let forms: Vec<reqwest::RequestBuilder> = vec![
        http()
            .post(f.url(&format!("{IG}/media")))
            .bearer_auth(&f.ig)
            .form(&[
                ("media_type", "CAROUSEL"),
                ("children", &format!("{a},{b}")),
            ]),
        http()
            .post(f.url(&format!("{IG}/media")))
            .bearer_auth(&f.ig)
            .form(&[
                ("media_type", "CAROUSEL"),
                ("children", &format!("[\"{a}\",\"{b}\"]")),
            ]),
        http()
            .post(f.url(&format!("{IG}/media")))
            .bearer_auth(&f.ig)
            .form(&[
                ("media_type", "CAROUSEL"),
                ("children[0]", &a),
                ("children[1]", &b),
            ]),
        http()
            .post(f.url(&format!("{IG}/media")))
            .bearer_auth(&f.ig)
            .json(&json!({ "media_type": "CAROUSEL", "children": [a, b] })),
        http().post(f.url(&format!("{IG}/media"))).query(&[
            ("access_token", f.ig.as_str()),
            ("media_type", "CAROUSEL"),
            ("children", &format!("[{a},{b}]")),
        ]),
    ];
    for (i, request) in forms.into_iter().enumerate() {
        let (status, _, body) = send(request).await;
        assert_eq!(status, StatusCode::OK, "form {i}: {body}");
    }
}

#[tokio::test]
async fn attached_media_comes_as_json_or_indexed_keys() {
    let f = fixture().await;
    let mut photos = Vec::new();
    for n in 0..2 {
        let (_, _, body) = send(
            http()
                .post(f.url(&format!("{PAGE}/photos")))
                .bearer_auth(&f.page)
                .form(&[
                    ("url", format!("https://cdn.example.com/{n}.jpg")),
                    ("published", "false".to_owned()),
                ]),
        )
        .await;
        photos.push(body["id"].as_str().unwrap().to_owned());
    }
    // The Page Posts guide's own example: attached_media[0]={"media_fbid":"…"}.
    let (status, _, body) = send(
        http()
            .post(f.url(&format!("{PAGE}/feed")))
            .bearer_auth(&f.page)
            .form(&[
                ("message", "two photos".to_owned()),
                (
                    "attached_media[0]",
                    format!("{{\"media_fbid\":\"{}\"}}", photos[0]),
                ),
                (
                    "attached_media[1]",
                    format!("{{\"media_fbid\":\"{}\"}}", photos[1]),
                ),
            ]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, body) = send(
        http()
            .post(f.url(&format!("{PAGE}/feed")))
            .bearer_auth(&f.page)
            .json(&json!({ "message": "again", "attached_media": [{ "media_fbid": photos[0] }] })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let post =
        f.s.meta()
            .posts()
            .into_iter()
            .find(|p| p.kind == "feed")
            .unwrap();
    assert_eq!(post.media, photos);
}

#[tokio::test]
async fn created_objects_read_back_with_fields_edit_and_delete() {
    let f = fixture().await;
    let (_, _, body) = send(
        http()
            .post(f.url(&format!("{PAGE}/feed")))
            .bearer_auth(&f.page)
            .form(&[("message", "first")]),
    )
    .await;
    let id = body["id"].as_str().unwrap().to_owned();
    let read = |fields: &'static str| {
        http()
            .get(f.url(&id))
            .bearer_auth(&f.page)
            .query(&[("fields", fields)])
    };
    let (status, _, post) = send(read("message")).await;
    assert_eq!(status, StatusCode::OK, "{post}");
    assert_eq!(
        post,
        json!({ "id": id, "message": "first" }),
        "only what was asked, and id"
    );
    let (status, _, body) = send(read("message,nonsense")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err(&body).0, 100);
    // Edit: POST /{post-id} answers {"success": true}; the read shows the new message.
    let (status, _, body) = send(
        http()
            .post(f.url(&id))
            .bearer_auth(&f.page)
            .json(&json!({ "message": "edited" })),
    )
    .await;
    assert_eq!((status, body), (StatusCode::OK, json!({ "success": true })));
    let (_, _, post) = send(read("message,updated_time,permalink_url")).await;
    assert_eq!(post["message"], "edited");
    assert_eq!(
        post["permalink_url"],
        format!("https://www.facebook.com/{id}")
    );
    // The Page's feed edge lists it with the fields asked for.
    let (_, _, feed) = send(
        http()
            .get(f.url(&format!("{PAGE}/feed")))
            .bearer_auth(&f.page)
            .query(&[("fields", "id,message")]),
    )
    .await;
    assert_eq!(feed["data"][0], json!({ "id": id, "message": "edited" }));
    // Delete, then the post is gone: code 100, subcode 33, GraphMethodException.
    let (status, _, body) = send(http().delete(f.url(&id)).bearer_auth(&f.page)).await;
    assert_eq!((status, body), (StatusCode::OK, json!({ "success": true })));
    let (status, headers, body) = send(read("id")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err(&body), (100, Some(33)));
    assert_eq!(body["error"]["type"], "GraphMethodException");
    assert!(
        headers["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("not_found")
    );
    assert!(f.s.meta().posts().is_empty());
}

#[tokio::test]
async fn photos_and_instagram_media_read_back_with_fields() {
    let f = fixture().await;
    let (_, _, photo) = send(
        http()
            .post(f.url(&format!("{PAGE}/photos")))
            .bearer_auth(&f.page)
            .form(&[
                ("url", "https://cdn.example.com/cat.jpg"),
                ("caption", "A cat"),
            ]),
    )
    .await;
    let photo_id = photo["id"].as_str().unwrap();
    let (status, _, read) = send(
        http()
            .get(f.url(photo_id))
            .bearer_auth(&f.page)
            .query(&[("fields", "name,page_story_id")]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_eq!(read["name"], "A cat");
    assert_eq!(read["page_story_id"], photo["post_id"]);
    // The photo's post reads as a Page post.
    let (_, _, post) = send(
        http()
            .get(f.url(photo["post_id"].as_str().unwrap()))
            .bearer_auth(&f.page)
            .query(&[("fields", "attachments{media_type}")]),
    )
    .await;
    assert_eq!(post["attachments"]["data"][0]["media_type"], "photo");

    let (_, _, container) = send(
        http()
            .post(f.url(&format!("{IG}/media")))
            .bearer_auth(&f.ig)
            .form(&[
                ("image_url", "https://cdn.example.com/a.jpg"),
                ("caption", "hi"),
            ]),
    )
    .await;
    let container = container["id"].as_str().unwrap();
    // A container without `fields` answers its id only.
    let (_, _, bare) = send(http().get(f.url(container)).bearer_auth(&f.ig)).await;
    assert_eq!(bare, json!({ "id": container }));
    let (_, _, media) = send(
        http()
            .post(f.url(&format!("{IG}/media_publish")))
            .bearer_auth(&f.ig)
            .form(&[("creation_id", container)]),
    )
    .await;
    let media = media["id"].as_str().unwrap();
    let (_, _, read) = send(
        http()
            .get(f.url(media))
            .bearer_auth(&f.ig)
            .query(&[("fields", "caption,media_type,media_product_type")]),
    )
    .await;
    assert_eq!(
        read,
        json!({ "id": media, "caption": "hi", "media_type": "IMAGE", "media_product_type": "FEED" })
    );
    // Instagram media cannot be deleted through the API.
    let (status, _, body) = send(http().delete(f.url(media)).bearer_auth(&f.ig)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err(&body), (100, Some(33)));
}

#[tokio::test]
async fn versions_follow_the_platform_versioning_policy() {
    let f = fixture().await;
    for (version, served) in [("v25.0", "v25.0"), ("v20.0", "v21.0"), ("v2.12", "v21.0")] {
        let (status, headers, body) = send(
            http()
                .get(format!(
                    "{}/{version}/{IG}/content_publishing_limit",
                    f.s.meta().url()
                ))
                .bearer_auth(&f.ig),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{version}: {body}");
        assert_eq!(headers["facebook-api-version"], served, "{version}");
    }
    for version in ["v99.0", "v28.0", "v25.1", "25.0", "v2.13"] {
        let (status, _, body) = send(
            http()
                .get(format!(
                    "{}/{version}/{IG}/content_publishing_limit",
                    f.s.meta().url()
                ))
                .bearer_auth(&f.ig),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{version}");
        assert_eq!(err(&body).0, 2500, "{version}: {body}");
    }
}

#[tokio::test]
async fn errors_carry_meta_details_and_headers() {
    let f = fixture().await;
    let (status, headers, body) = send(
        http()
            .post(f.url(&format!("{PAGE}/feed")))
            .bearer_auth("EAABnot-a-token")
            .form(&[("message", "x")]),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err(&body), (190, Some(467)));
    assert_eq!(body["error"]["type"], "OAuthException");
    assert!(
        body["error"].get("is_transient").is_none(),
        "a Page call: {body}"
    );
    let challenge = headers["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.starts_with("OAuth \"Facebook Platform\" \"invalid_token\""),
        "{challenge}"
    );
    assert_eq!(
        headers["x-fb-trace-id"],
        body["error"]["fbtrace_id"].as_str().unwrap()
    );
    // Instagram errors carry is_transient.
    let (_, _, body) = send(
        http()
            .get(f.url(&format!("{IG}/content_publishing_limit")))
            .bearer_auth("EAABnot-a-token"),
    )
    .await;
    assert_eq!(err(&body).0, 190);
    assert_eq!(body["error"]["is_transient"], false);
    let long = "x".repeat(2201);
    let (_, _, body) = send(
        http()
            .post(f.url(&format!("{IG}/media")))
            .bearer_auth(&f.ig)
            .form(&[
                ("image_url", "https://cdn.example.com/a.jpg"),
                ("caption", long.as_str()),
            ]),
    )
    .await;
    assert_eq!(err(&body), (36_004, Some(2_207_010)));
    assert_eq!(body["error"]["is_transient"], false);
    assert!(body["error"]["error_user_title"].is_string());
    assert!(body["error"]["error_user_msg"].is_string());
}

#[tokio::test]
async fn containers_can_fail_processing_with_status_error() {
    let f = fixture().await;
    f.s.meta().fail_next_container(2_207_026);
    let (_, _, body) = send(
        http()
            .post(f.url(&format!("{IG}/media")))
            .bearer_auth(&f.ig)
            .form(&[
                ("media_type", "REELS"),
                ("video_url", "https://cdn.example.com/a.avi"),
            ]),
    )
    .await;
    let id = body["id"].as_str().unwrap();
    let (_, _, status) = send(
        http()
            .get(f.url(id))
            .bearer_auth(&f.ig)
            .query(&[("fields", "status_code,status")]),
    )
    .await;
    assert_eq!(status["status_code"], "ERROR");
    assert_eq!(
        status["status"],
        "Error: Media upload has failed with error code 2207026"
    );
    let (status, _, body) = send(
        http()
            .post(f.url(&format!("{IG}/media_publish")))
            .bearer_auth(&f.ig)
            .form(&[("creation_id", id)]),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err(&body), (352, Some(2_207_026)));
    assert!(f.s.meta().posts().is_empty());
}

#[tokio::test]
async fn tokens_client_secrets_and_debug_token() {
    let f = fixture().await;
    let m = f.s.meta();
    let user = m.issue_user_token("u1", Duration::from_secs(3600));
    let exchange = |id: String, secret: String| {
        http().get(f.url("oauth/access_token")).query(&[
            ("grant_type", "fb_exchange_token".to_owned()),
            ("client_id", id),
            ("client_secret", secret),
            ("fb_exchange_token", user.expose_secret().to_owned()),
        ])
    };
    let (_, _, body) = send(exchange("42".into(), "wrong".into())).await;
    assert_eq!(err(&body).0, 101, "an unknown app is 101");
    let (_, _, body) = send(exchange(m.app_id(), "wrong".into())).await;
    assert_eq!(err(&body).0, 1, "the right app with a wrong secret is 1");
    // debug_token takes the app token, or a token of the app inspecting itself (as Meta's SDKs
    // do to find their app id), with `fields` selecting within `data`.
    let (status, _, body) = send(http().get(f.url("debug_token")).query(&[
        ("input_token", f.page.as_str()),
        ("access_token", f.page.as_str()),
        ("fields", "app_id"),
    ]))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({ "data": { "app_id": m.app_id() } }));
    let (status, _, body) = send(http().get(f.url("debug_token")).query(&[
        ("input_token", f.page.as_str()),
        ("access_token", &format!("{}|not-the-secret", m.app_id())),
    ]))
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err(&body).0, 190);
}

#[tokio::test]
async fn business_use_case_usage_is_keyed_by_the_account_with_its_type() {
    let f = fixture().await;
    let (_, headers, _) = send(
        http()
            .get(f.url(&format!("{IG}/content_publishing_limit")))
            .bearer_auth(&f.ig),
    )
    .await;
    let buc: Value =
        serde_json::from_str(headers["x-business-use-case-usage"].to_str().unwrap()).unwrap();
    assert_eq!(buc[IG][0]["type"], "instagram");
    let (_, headers, _) = send(
        http()
            .post(f.url(&format!("{PAGE}/feed")))
            .bearer_auth(&f.page)
            .form(&[("message", "x")]),
    )
    .await;
    let buc: Value =
        serde_json::from_str(headers["x-business-use-case-usage"].to_str().unwrap()).unwrap();
    assert_eq!(buc[PAGE][0]["type"], "pages");
}
