//! The fake TikTok's Display API reads — `POST /v2/video/list/` and `POST /v2/video/query/` —
//! against TikTok's documented shapes, driven with a plain HTTP client: no connector is involved.
//!
//! Sources: List Videos (https://developers.tiktok.com/doc/tiktok-api-v2-video-list/), Query
//! Videos (https://developers.tiktok.com/doc/tiktok-api-v2-video-query/), Video Object
//! (https://developers.tiktok.com/doc/tiktok-api-v2-video-object), Error Handling
//! (https://developers.tiktok.com/doc/tiktok-api-v2-error-handling/), Rate Limits
//! (https://developers.tiktok.com/docs/en/tiktok-api-v2-rate-limit), and the project's
//! docs/insights.md §3 and docs/tiktok-api.md §6–7.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cmis_core::ExposeSecret;
use cmis_sandbox::{Creator, Fault, Sandbox, TikTokConfig, TikTokEndpoint};
use reqwest::StatusCode;
use serde_json::{Value, json};

const ALL_FIELDS: &str = "id,create_time,cover_image_url,share_url,video_description,duration,\
                          height,width,title,embed_html,embed_link,like_count,comment_count,\
                          share_count,view_count,is_aigc";
const CAPTION: &str = "funny #cat video @tiktok";

fn http() -> reqwest::Client {
    cmis_http::client_builder().unwrap().build().unwrap()
}

async fn sandbox_with(config: TikTokConfig) -> Sandbox {
    let sandbox = Sandbox::builder().tiktok(config).start().await.unwrap();
    sandbox.tiktok().add_creator(Creator::public("open-1"));
    sandbox
}

fn config() -> TikTokConfig {
    let mut config = TikTokConfig::default();
    config.processing_time = Duration::ZERO;
    config.verified_url_prefixes = vec!["https://cdn.example.com/".into()];
    config
}

async fn sandbox() -> Sandbox {
    sandbox_with(config()).await
}

fn token(s: &Sandbox, open_id: &str, scopes: &[&str]) -> String {
    let t = s.tiktok().issue_tokens(open_id, scopes);
    t.access_token.expose_secret().to_owned()
}

/// A token that may read the creator's videos.
fn reader(s: &Sandbox) -> String {
    token(s, "open-1", &["user.info.basic", "video.list"])
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
    let bytes = r.bytes().await.unwrap();
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)));
    (status, value)
}

async fn list(s: &Sandbox, token: &str, fields: &str, body: Value) -> (StatusCode, Value) {
    post_json(s, token, &format!("/v2/video/list/?fields={fields}"), body).await
}

async fn query(s: &Sandbox, token: &str, fields: &str, ids: &[&str]) -> (StatusCode, Value) {
    post_json(
        s,
        token,
        &format!("/v2/video/query/?fields={fields}"),
        json!({"filters": {"video_ids": ids}}),
    )
    .await
}

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap()
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

fn ids(page: &Value) -> Vec<String> {
    page["data"]["videos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect()
}

fn now_secs() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

/// Asserts TikTok's error envelope: `{"data":{},"error":{"code","message","log_id"}}`.
fn assert_error(status: StatusCode, body: &Value, want_status: StatusCode, want_code: &str) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(keys(body), set(&["data", "error"]), "{body}");
    assert_eq!(body["data"], json!({}));
    assert_eq!(keys(&body["error"]), set(&["code", "message", "log_id"]));
    assert_eq!(code(body), want_code, "{body}");
    assert!(!body["error"]["message"].as_str().unwrap().is_empty());
    assert!(!body["error"]["log_id"].as_str().unwrap().is_empty());
}

/// Publishes a video by URL for `open_id` with `privacy` and `caption`; returns the publish id.
/// A fresh token per publish keeps clear of the 6-per-minute init limit.
async fn publish_video(s: &Sandbox, open_id: &str, privacy: &str, caption: &str) -> String {
    let t = token(s, open_id, &["video.publish"]);
    let (status, reply) = post_json(
        s,
        &t,
        "/v2/post/publish/video/init/",
        json!({
            "post_info": {"title": caption, "privacy_level": privacy,
                          "brand_content_toggle": false, "brand_organic_toggle": false},
            "source_info": {"source": "PULL_FROM_URL", "video_url": "https://cdn.example.com/v.mp4"}
        }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    reply["data"]["publish_id"].as_str().unwrap().to_owned()
}

async fn publish_public(s: &Sandbox, caption: &str) -> String {
    publish_video(s, "open-1", "PUBLIC_TO_EVERYONE", caption).await
}

/// The public post id the sandbox gave `publish_id`, as the string `video/list` uses.
fn public_id(s: &Sandbox, publish_id: &str) -> String {
    let p = s
        .tiktok()
        .publishes()
        .into_iter()
        .find(|p| p.publish_id == publish_id)
        .unwrap();
    assert_eq!(p.post_ids.len(), 1, "{p:?}");
    p.post_ids[0].to_string()
}

#[tokio::test]
async fn the_display_endpoints_need_a_valid_token_with_video_list() {
    let s = sandbox().await;
    publish_public(&s, CAPTION).await;
    for path in ["/v2/video/list/?fields=id", "/v2/video/query/?fields=id"] {
        let body = json!({"max_count": 20, "filters": {"video_ids": ["1"]}});
        // No token at all.
        let r = http()
            .post(format!("{}{path}", s.tiktok().url()))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = r.status();
        let reply: Value = r.json().await.unwrap();
        assert_error(
            status,
            &reply,
            StatusCode::UNAUTHORIZED,
            "access_token_invalid",
        );
        // A token TikTok never issued.
        let (status, reply) = post_json(&s, "act.not-a-token", path, body.clone()).await;
        assert_error(
            status,
            &reply,
            StatusCode::UNAUTHORIZED,
            "access_token_invalid",
        );
        // An expired token.
        let expired = reader(&s);
        s.tiktok().expire_access_token(&expired);
        let (status, reply) = post_json(&s, &expired, path, body.clone()).await;
        assert_error(
            status,
            &reply,
            StatusCode::UNAUTHORIZED,
            "access_token_invalid",
        );
        // Every scope but video.list.
        let publisher = token(
            &s,
            "open-1",
            &[
                "user.info.basic",
                "user.info.stats",
                "video.publish",
                "video.upload",
            ],
        );
        let (status, reply) = post_json(&s, &publisher, path, body.clone()).await;
        assert_error(
            status,
            &reply,
            StatusCode::UNAUTHORIZED,
            "scope_not_authorized",
        );
        // video.list alone is enough.
        let only_list = token(&s, "open-1", &["video.list"]);
        let (status, reply) = post_json(&s, &only_list, path, body).await;
        assert_eq!(status, StatusCode::OK, "{reply}");
        assert_eq!(code(&reply), "ok");
    }
}

#[tokio::test]
async fn fields_select_the_video_object_fields_and_only_those() {
    let s = sandbox().await;
    let before = now_secs();
    let publish_id = publish_public(&s, CAPTION).await;
    let id = public_id(&s, &publish_id);
    let t = reader(&s);

    let (status, page) = list(&s, &t, "id,title", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(keys(&page), set(&["data", "error"]));
    assert_eq!(keys(&page["data"]), set(&["videos", "cursor", "has_more"]));
    assert_eq!(code(&page), "ok");
    assert_eq!(page["error"]["message"], "");
    assert!(!page["error"]["log_id"].as_str().unwrap().is_empty());
    assert_eq!(
        page["data"]["videos"],
        json!([{"id": id, "title": CAPTION}])
    );
    assert_eq!(page["data"]["has_more"], false);

    let (status, page) = list(&s, &t, ALL_FIELDS, json!({"max_count": 20})).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let video = &page["data"]["videos"][0];
    let all: Vec<&str> = ALL_FIELDS.split(',').collect();
    assert_eq!(keys(video), set(&all));
    assert_eq!(video["id"], json!(id), "ids are strings");
    assert_eq!(video["title"], CAPTION);
    assert_eq!(video["video_description"], CAPTION);
    let share = format!(
        "https://www.tiktok.com/@user_open-1/video/{id}?utm_campaign=tt4d_open_api&utm_source=sandbox-client-key"
    );
    assert_eq!(video["share_url"], json!(share));
    assert_eq!(
        video["embed_link"],
        json!(format!(
            "https://www.tiktok.com/player/v1/{id}?utm_campaign=tt4d_open_api&utm_source=sandbox-client-key"
        ))
    );
    assert!(
        video["embed_html"]
            .as_str()
            .unwrap()
            .contains(&format!("data-video-id=\"{id}\""))
    );
    for zero in [
        "duration",
        "height",
        "width",
        "like_count",
        "comment_count",
        "share_count",
        "view_count",
    ] {
        assert_eq!(video[zero], 0, "{zero}");
    }
    assert_eq!(video["is_aigc"], false);
    // create_time: Unix seconds (not milliseconds), when the post went live.
    let created = video["create_time"].as_i64().unwrap();
    assert!(
        (before - 1..=now_secs() + 1).contains(&created),
        "{created}"
    );
    // The cover URL lives six hours.
    let cover = video["cover_image_url"].as_str().unwrap();
    let prefix = format!("{}/cover/{id}.jpeg?x-expires=", s.tiktok().url());
    let expires: i64 = cover.strip_prefix(&prefix).unwrap().parse().unwrap();
    assert!((expires - now_secs() - 6 * 3600).abs() <= 2, "{cover}");

    // video/query selects fields the same way.
    let (status, found) = query(&s, &t, "create_time,id", &[&id]).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(keys(&found["data"]), set(&["videos"]));
    assert_eq!(
        found["data"]["videos"],
        json!([{"id": id, "create_time": created}])
    );

    // Names that are not the video object's fields, and a missing or empty `fields`.
    for path in [
        "/v2/video/list/?fields=id,fps",
        "/v2/video/list/?fields=id,caption",
        "/v2/video/list/",
        "/v2/video/list/?fields=",
        "/v2/video/query/?fields=id,views",
        "/v2/video/query/",
    ] {
        let (status, reply) = post_json(
            &s,
            &t,
            path,
            json!({"filters": {"video_ids": [id.clone()]}}),
        )
        .await;
        assert_error(status, &reply, StatusCode::BAD_REQUEST, "invalid_params");
    }
}

#[tokio::test]
async fn captions_come_back_cut_to_the_documented_150_characters() {
    let s = sandbox().await;
    let long = format!("{} #cat", "a".repeat(200));
    let publish_id = publish_public(&s, &long).await;
    let (_, page) = list(&s, &reader(&s), "id,title,video_description", json!({})).await;
    let video = &page["data"]["videos"][0];
    assert_eq!(video["id"], json!(public_id(&s, &publish_id)));
    assert_eq!(video["title"], json!(&long[..150]));
    assert_eq!(video["video_description"], json!(&long[..150]));
}

#[tokio::test]
async fn videos_come_newest_first_and_the_cursor_pages_back_in_milliseconds() {
    let s = sandbox().await;
    // Published in this order, then aged so that posting order differs from publish order.
    let ages = [300u64, 100, 500, 200, 400];
    let mut by_age = Vec::new();
    for (i, age) in ages.iter().enumerate() {
        let publish_id = publish_public(&s, &format!("video {i}")).await;
        s.tiktok()
            .age_publish(&publish_id, Duration::from_secs(*age));
        by_age.push((*age, public_id(&s, &publish_id)));
    }
    by_age.sort();
    let newest_first: Vec<String> = by_age.iter().map(|(_, id)| id.clone()).collect();
    let t = reader(&s);

    let mut seen = Vec::new();
    let mut cursor: Option<i64> = None;
    let mut pages = Vec::new();
    loop {
        let mut body = json!({"max_count": 2});
        if let Some(c) = cursor {
            body["cursor"] = json!(c);
        }
        let (status, page) = list(&s, &t, "id,create_time", body).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let videos = page["data"]["videos"].as_array().unwrap().clone();
        let next = page["data"]["cursor"].as_i64().unwrap();
        // The cursor is the last video's posting time in milliseconds.
        let last = videos.last().unwrap()["create_time"].as_i64().unwrap();
        assert_eq!(next.div_euclid(1000), last, "{page}");
        // Newest first within the page, and older than the cursor passed.
        let times: Vec<i64> = videos
            .iter()
            .map(|v| v["create_time"].as_i64().unwrap())
            .collect();
        assert!(times.windows(2).all(|w| w[0] > w[1]), "{times:?}");
        if let Some(c) = cursor {
            assert!(times.iter().all(|t| t * 1000 < c));
        }
        seen.extend(ids(&page));
        pages.push(videos.len());
        if page["data"]["has_more"] == false {
            break;
        }
        cursor = Some(next);
        assert!(pages.len() < 5, "paging does not end");
    }
    assert_eq!(pages, vec![2, 2, 1]);
    assert_eq!(seen, newest_first);

    // create_time is about now minus the age, in seconds.
    let (_, page) = list(&s, &t, "id,create_time", json!({"max_count": 20})).await;
    for (video, (age, _)) in page["data"]["videos"]
        .as_array()
        .unwrap()
        .iter()
        .zip(&by_age)
    {
        let expected = now_secs() - i64::try_from(*age).unwrap();
        assert!(
            (video["create_time"].as_i64().unwrap() - expected).abs() <= 2,
            "{video} age {age}"
        );
    }

    // Any timestamp works as a cursor: videos posted before it, newest first.
    let third = page["data"]["videos"][2]["create_time"].as_i64().unwrap();
    let (_, older) = list(
        &s,
        &t,
        "id",
        json!({"max_count": 20, "cursor": (third + 1) * 1000}),
    )
    .await;
    assert_eq!(ids(&older), newest_first[2..].to_vec());
    assert_eq!(older["data"]["has_more"], false);
    // A cursor older than every video: nothing, and no more.
    let (status, none) = list(&s, &t, "id", json!({"cursor": 1_643_332_803_000i64})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(none["data"]["videos"], json!([]));
    assert_eq!(none["data"]["has_more"], false);
    assert_eq!(none["data"]["cursor"], 1_643_332_803_000i64);
}

#[tokio::test]
async fn max_count_defaults_to_10_and_is_at_most_20() {
    let s = sandbox().await;
    for i in 0..12 {
        publish_public(&s, &format!("video {i}")).await;
    }
    let t = reader(&s);
    let (status, page) = list(&s, &t, "id", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(ids(&page).len(), 10);
    assert_eq!(page["data"]["has_more"], true);
    let (_, page) = list(&s, &t, "id", json!({"max_count": 20})).await;
    assert_eq!(ids(&page).len(), 12);
    assert_eq!(page["data"]["has_more"], false);
    let (_, page) = list(&s, &t, "id", json!({"max_count": 1})).await;
    assert_eq!(ids(&page).len(), 1);
    assert_eq!(page["data"]["has_more"], true);
    // An empty body is the defaults too.
    let r = http()
        .post(format!("{}/v2/video/list/?fields=id", s.tiktok().url()))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(ids(&r.json().await.unwrap()).len(), 10);

    for bad in [
        json!({"max_count": 21}),
        json!({"max_count": 100}),
        json!({"max_count": 0}),
        json!({"max_count": -1}),
        json!({"max_count": "10"}),
        json!({"max_count": 2.5}),
        json!({"cursor": -1}),
        json!({"cursor": "1643332803000"}),
        json!([]),
    ] {
        let (status, reply) = list(&s, &t, "id", bad.clone()).await;
        assert_error(status, &reply, StatusCode::BAD_REQUEST, "invalid_params");
        assert!(
            reply["error"]["message"].as_str().unwrap().len() > 10,
            "{bad}: {reply}"
        );
    }
}

#[tokio::test]
async fn only_public_complete_videos_of_the_caller_are_listed() {
    let s = sandbox().await;
    s.tiktok().add_creator(Creator::public("open-2"));
    let listed = publish_public(&s, "public").await;
    publish_video(&s, "open-1", "SELF_ONLY", "private").await;
    publish_video(&s, "open-1", "MUTUAL_FOLLOW_FRIENDS", "friends").await;
    let elsewhere = publish_video(&s, "open-2", "PUBLIC_TO_EVERYONE", "another creator").await;
    // An inbox draft: it ends in the inbox, never public.
    let upload = token(&s, "open-1", &["video.upload"]);
    let (status, _) = post_json(
        &s,
        &upload,
        "/v2/post/publish/inbox/video/init/",
        json!({"source_info": {"source": "PULL_FROM_URL", "video_url": "https://cdn.example.com/d.mp4"}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // A public photo post: complete with a public id, but video/list lists video posts.
    let photo_token = token(&s, "open-1", &["video.publish"]);
    let (status, reply) = post_json(
        &s,
        &photo_token,
        "/v2/post/publish/content/init/",
        json!({"media_type": "PHOTO", "post_mode": "DIRECT_POST",
               "post_info": {"title": "photo", "description": "#photo", "privacy_level": "PUBLIC_TO_EVERYONE"},
               "source_info": {"source": "PULL_FROM_URL", "photo_cover_index": 0,
                               "photo_images": ["https://cdn.example.com/1.jpg"]}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let photo = reply["data"]["publish_id"].as_str().unwrap().to_owned();
    // A public FILE_UPLOAD whose bytes never arrived.
    let file_token = token(&s, "open-1", &["video.publish"]);
    let (status, _) = post_json(
        &s,
        &file_token,
        "/v2/post/publish/video/init/",
        json!({"post_info": {"title": "never uploaded", "privacy_level": "PUBLIC_TO_EVERYONE"},
               "source_info": {"source": "FILE_UPLOAD", "video_size": 1000, "chunk_size": 1000, "total_chunk_count": 1}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    let statuses: Vec<(String, String)> = s
        .tiktok()
        .publishes()
        .into_iter()
        .map(|p| (p.publish_id, p.status))
        .collect();
    assert_eq!(statuses.len(), 7, "{statuses:?}");

    let t = reader(&s);
    let (_, page) = list(&s, &t, "id,title", json!({"max_count": 20})).await;
    assert_eq!(
        page["data"]["videos"],
        json!([{"id": public_id(&s, &listed), "title": "public"}]),
        "{statuses:?}"
    );
    assert_eq!(page["data"]["has_more"], false);
    // video/query returns only the caller's public videos among the ids asked.
    let photo_id = public_id(&s, &photo);
    let other_id = public_id(&s, &elsewhere);
    let listed_id = public_id(&s, &listed);
    let (status, found) = query(
        &s,
        &t,
        "id",
        &[&photo_id, &other_id, "7439182734619283000", &listed_id],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(found["data"]["videos"], json!([{"id": listed_id}]));
    // The other creator sees their own video only.
    let t2 = token(&s, "open-2", &["video.list"]);
    let (_, page) = list(&s, &t2, "id", json!({})).await;
    assert_eq!(ids(&page), vec![other_id]);
}

#[tokio::test]
async fn a_publish_still_processing_is_listed_only_once_complete() {
    let mut config = config();
    config.processing_time = Duration::from_millis(1500);
    let s = sandbox_with(config).await;
    let publish_id = publish_public(&s, "processing").await;
    let t = reader(&s);
    let status_token = token(&s, "open-1", &["video.publish"]);
    let (_, status) = post_json(
        &s,
        &status_token,
        "/v2/post/publish/status/fetch/",
        json!({"publish_id": publish_id}),
    )
    .await;
    assert_eq!(status["data"]["status"], "PROCESSING_DOWNLOAD");
    let (status, page) = list(&s, &t, "id", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["data"]["videos"], json!([]));
    assert_eq!(page["data"]["has_more"], false);
    assert!(s.tiktok().publishes()[0].post_ids.is_empty());

    tokio::time::sleep(Duration::from_millis(1700)).await;
    let (_, status) = post_json(
        &s,
        &status_token,
        "/v2/post/publish/status/fetch/",
        json!({"publish_id": publish_id}),
    )
    .await;
    assert_eq!(status["data"]["status"], "PUBLISH_COMPLETE");
    let post_id = status["data"]["publicaly_available_post_id"][0]
        .as_u64()
        .unwrap();
    let (_, page) = list(&s, &t, "id", json!({})).await;
    assert_eq!(
        ids(&page),
        vec![post_id.to_string()],
        "same id as the status"
    );
    let (_, found) = query(&s, &t, "id", &[&post_id.to_string()]).await;
    assert_eq!(ids(&found), vec![post_id.to_string()]);

    // A publish slowed down by a fault stays unlisted while the first one is listed.
    s.tiktok().inject(
        TikTokEndpoint::VideoInit,
        Fault::SlowProcessing(Duration::from_secs(3600)),
        1,
    );
    let slow = publish_public(&s, "slow").await;
    let (_, page) = list(&s, &t, "id", json!({})).await;
    assert_eq!(ids(&page), vec![post_id.to_string()]);
    assert!(
        s.tiktok()
            .publishes()
            .iter()
            .any(|p| p.publish_id == slow && p.status == "PROCESSING_DOWNLOAD")
    );
}

#[tokio::test]
async fn video_query_takes_1_to_20_string_ids_and_answers_in_the_order_asked() {
    let s = sandbox().await;
    let first = publish_public(&s, "first").await;
    let second = publish_public(&s, "second").await;
    let (first, second) = (public_id(&s, &first), public_id(&s, &second));
    let t = reader(&s);
    let (status, found) = query(&s, &t, "id,title", &[&first, &second, &first]).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(keys(&found), set(&["data", "error"]));
    assert_eq!(code(&found), "ok");
    assert_eq!(
        found["data"]["videos"],
        json!([{"id": first, "title": "first"}, {"id": second, "title": "second"}])
    );
    let (_, found) = query(&s, &t, "id", &[&second, &first]).await;
    assert_eq!(
        found["data"]["videos"],
        json!([{"id": second}, {"id": first}])
    );
    // 20 ids is the most.
    let twenty: Vec<String> = (0..20).map(|i| format!("{}", 1_000 + i)).collect();
    let mut ids20: Vec<&str> = twenty.iter().map(String::as_str).collect();
    ids20[19] = &first;
    let (status, found) = query(&s, &t, "id", &ids20).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(found["data"]["videos"], json!([{"id": first}]));
    let mut ids21 = ids20.clone();
    ids21.push("2000");
    let (status, reply) = query(&s, &t, "id", &ids21).await;
    assert_error(status, &reply, StatusCode::BAD_REQUEST, "invalid_params");
    for bad in [
        json!({"filters": {"video_ids": []}}),
        json!({"filters": {}}),
        json!({}),
        json!({"filters": {"video_ids": [7_439_182_734_619_283_747u64]}}),
        json!({"filters": {"video_ids": first}}),
    ] {
        let (status, reply) = post_json(&s, &t, "/v2/video/query/?fields=id", bad.clone()).await;
        assert_error(status, &reply, StatusCode::BAD_REQUEST, "invalid_params");
    }
}

#[tokio::test]
async fn reading_videos_changes_nothing() {
    let s = sandbox().await;
    let public = publish_public(&s, "public").await;
    publish_video(&s, "open-1", "SELF_ONLY", "private").await;
    let before = s.tiktok().publishes();
    let id = public_id(&s, &public);
    let t = reader(&s);
    for _ in 0..3 {
        let (status, _) = list(&s, &t, ALL_FIELDS, json!({"max_count": 20})).await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = query(&s, &t, ALL_FIELDS, &[&id]).await;
        assert_eq!(status, StatusCode::OK);
    }
    assert_eq!(s.tiktok().publishes(), before);
    assert_eq!(s.tiktok().refresh_count(), 0);
    // The status still reports the id the list showed, and the next publish gets a new one.
    let (_, status) = post_json(
        &s,
        &token(&s, "open-1", &["video.publish"]),
        "/v2/post/publish/status/fetch/",
        json!({"publish_id": public}),
    )
    .await;
    assert_eq!(
        status["data"]["publicaly_available_post_id"][0]
            .as_u64()
            .unwrap()
            .to_string(),
        id
    );
    let next = publish_public(&s, "next").await;
    assert_ne!(public_id(&s, &next), id);
}

#[tokio::test]
async fn faults_can_be_injected_into_the_display_endpoints() {
    assert!(TikTokEndpoint::ALL.contains(&TikTokEndpoint::VideoList));
    assert!(TikTokEndpoint::ALL.contains(&TikTokEndpoint::VideoQuery));
    let s = sandbox().await;
    let publish_id = publish_public(&s, CAPTION).await;
    let id = public_id(&s, &publish_id);
    let t = reader(&s);
    let tiktok = s.tiktok();

    tiktok.inject(TikTokEndpoint::VideoList, Fault::RateLimited, 1);
    let (status, reply) = list(&s, &t, "id", json!({})).await;
    assert_error(
        status,
        &reply,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limit_exceeded",
    );
    let (status, reply) = list(&s, &t, "id", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids(&reply), vec![id.clone()]);

    tiktok.inject(TikTokEndpoint::VideoQuery, Fault::ServerError, 1);
    let (status, reply) = query(&s, &t, "id", &[&id]).await;
    assert_error(
        status,
        &reply,
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal_error",
    );
    // A fault on one endpoint leaves the other alone.
    tiktok.inject(TikTokEndpoint::VideoQuery, Fault::RateLimited, 1);
    let (status, _) = list(&s, &t, "id", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = query(&s, &t, "id", &[&id]).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);

    // A dropped connection is a transport error for the client.
    tiktok.inject(TikTokEndpoint::VideoList, Fault::DropConnection, 1);
    let r = http()
        .post(format!("{}/v2/video/list/?fields=id", tiktok.url()))
        .bearer_auth(&t)
        .send()
        .await;
    let failed = match r {
        Err(_) => true,
        Ok(resp) => resp.bytes().await.is_err(),
    };
    assert!(failed, "the connection must break");

    // An expired token stays expired.
    tiktok.inject(TikTokEndpoint::VideoList, Fault::ExpiredToken, 1);
    for _ in 0..2 {
        let (status, reply) = list(&s, &t, "id", json!({})).await;
        assert_error(
            status,
            &reply,
            StatusCode::UNAUTHORIZED,
            "access_token_invalid",
        );
    }
    let (status, reply) = query(&s, &t, "id", &[&id]).await;
    assert_error(
        status,
        &reply,
        StatusCode::UNAUTHORIZED,
        "access_token_invalid",
    );
}

#[tokio::test]
async fn video_list_allows_600_calls_a_minute_per_token() {
    let s = sandbox().await;
    let t = reader(&s);
    let client = http();
    let url = format!("{}/v2/video/list/?fields=id", s.tiktok().url());
    for i in 0..600 {
        let r = client.post(&url).bearer_auth(&t).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "call {i}");
    }
    let (status, reply) = list(&s, &t, "id", json!({})).await;
    assert_error(
        status,
        &reply,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limit_exceeded",
    );
    // Counted per endpoint and per token.
    let (status, _) = query(&s, &t, "id", &["1"]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = list(&s, &reader(&s), "id", json!({})).await;
    assert_eq!(status, StatusCode::OK);
}
