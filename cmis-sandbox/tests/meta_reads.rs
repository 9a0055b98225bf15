//! The fake Meta's reads that reconcile lost publishes, against Meta's documented shapes, driven
//! with a plain HTTP client: a Page's `published_posts`, an Instagram account's `media`, and a
//! video's or Reel's `status`.
//!
//! Sources: Page Published Posts and Page Feed references
//! (https://developers.facebook.com/docs/graph-api/reference/page/published_posts/,
//! https://developers.facebook.com/docs/graph-api/reference/page/feed), Paginated Results
//! (https://developers.facebook.com/docs/graph-api/results/), IG User Media
//! (https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media)
//! and the Reels Publishing guide
//! (https://developers.facebook.com/docs/video-api/guides/reels-publishing/).

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cmis_core::ExposeSecret;
use cmis_sandbox::{Fault, InstagramLogin, MetaConfig, MetaEndpoint, MetaThrottle, Sandbox};
use reqwest::StatusCode;
use serde_json::{Value, json};

const V: &str = "v25.0";
const PAGE: &str = "1111";
const IG: &str = "1789";
const POST_FIELDS: &str =
    "id,message,created_time,permalink_url,attachments{media_type,target,subattachments}";
const MEDIA_FIELDS: &str = "id,caption,timestamp,media_type,permalink";

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
    let body = r.bytes().await.unwrap();
    let value = serde_json::from_slice(&body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&body)));
    (status, headers, value)
}

fn now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

/// Graph's time format: `2019-05-17T16:24:04+0000`.
fn is_graph_time(v: &Value) -> bool {
    let Some(s) = v.as_str() else { return false };
    let b = s.as_bytes();
    s.len() == 24
        && s.ends_with("+0000")
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && s.bytes()
            .enumerate()
            .all(|(i, c)| matches!(i, 4 | 7 | 10 | 13 | 16 | 19) || c.is_ascii_digit())
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

fn ids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect()
}

fn err(v: &Value) -> (i64, Option<i64>) {
    (
        v["error"]["code"].as_i64().unwrap(),
        v["error"]["error_subcode"].as_i64(),
    )
}

/// Publishes to the Page's feed, returning the post id.
async fn feed(s: &Sandbox, token: &str, form: &[(&str, &str)]) -> String {
    let (status, _, body) = send(
        http()
            .post(format!("{}/{V}/{PAGE}/feed", s.meta().url()))
            .bearer_auth(token)
            .form(form),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

/// Uploads a photo by URL, returning the answer (`id`, and `post_id` when published).
async fn photo(s: &Sandbox, token: &str, url: &str, published: bool) -> Value {
    let (status, _, body) = send(
        http()
            .post(format!("{}/{V}/{PAGE}/photos", s.meta().url()))
            .bearer_auth(token)
            .form(&[
                ("url", url),
                ("message", "a photo"),
                ("published", if published { "true" } else { "false" }),
            ]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// Starts a Reel, uploads it and, when `state` is given, finishes it; returns the video id.
async fn reel(s: &Sandbox, token: &str, state: Option<&str>) -> String {
    let url = s.meta().url();
    let (_, _, body) = send(
        http()
            .post(format!("{url}/{V}/{PAGE}/video_reels"))
            .bearer_auth(token)
            .form(&[("upload_phase", "start")]),
    )
    .await;
    let video_id = body["video_id"].as_str().unwrap().to_owned();
    let (status, _, body) = send(
        http()
            .post(body["upload_url"].as_str().unwrap())
            .header("authorization", format!("OAuth {token}"))
            .header("offset", "0")
            .header("file_size", "5")
            .body(vec![0u8; 5]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    if let Some(state) = state {
        let (status, _, body) = send(
            http()
                .post(format!("{url}/{V}/{PAGE}/video_reels"))
                .bearer_auth(token)
                .form(&[
                    ("upload_phase", "finish"),
                    ("video_id", video_id.as_str()),
                    ("video_state", state),
                    ("description", "a reel"),
                ]),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    video_id
}

fn published_posts(s: &Sandbox, token: &str, query: &[(&str, &str)]) -> reqwest::RequestBuilder {
    http()
        .get(format!("{}/{V}/{PAGE}/published_posts", s.meta().url()))
        .bearer_auth(token)
        .query(query)
}

fn media(s: &Sandbox, token: &str, query: &[(&str, &str)]) -> reqwest::RequestBuilder {
    http()
        .get(format!("{}/{V}/{IG}/media", s.meta().url()))
        .bearer_auth(token)
        .query(query)
}

#[tokio::test]
async fn published_posts_lists_only_live_posts_newest_first_with_the_fields_asked_for() {
    let s = sandbox().await;
    let m = s.meta();
    let page = m.add_page(PAGE, "Cafe");
    let t = page.expose_secret();
    let text = feed(&s, t, &[("message", "Doors open at 9")]).await;
    let link = feed(
        &s,
        t,
        &[("message", "Read this"), ("link", "https://example.com/a")],
    )
    .await;
    let single = photo(&s, t, "https://cdn.example.com/1.jpg", true).await;
    let a = photo(&s, t, "https://cdn.example.com/a.jpg", false).await;
    let b = photo(&s, t, "https://cdn.example.com/b.jpg", false).await;
    let (a, b) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    let attached = json!([{ "media_fbid": a }, { "media_fbid": b }]).to_string();
    let album = feed(
        &s,
        t,
        &[("message", "Two photos"), ("attached_media", &attached)],
    )
    .await;
    let reel_id = reel(&s, t, Some("PUBLISHED")).await;
    let draft = reel(&s, t, Some("DRAFT")).await;
    let later = (now() + 86_400).to_string();
    let scheduled = feed(
        &s,
        t,
        &[
            ("message", "Tomorrow"),
            ("published", "false"),
            ("scheduled_publish_time", &later),
        ],
    )
    .await;
    // Distinct creation times, oldest first in the order made.
    let live = [
        text.clone(),
        link.clone(),
        single["id"].as_str().unwrap().to_owned(),
        album.clone(),
        reel_id.clone(),
    ];
    for (i, id) in live.iter().enumerate() {
        m.age_post(id, Duration::from_secs(600 - 60 * i as u64));
    }

    let (status, headers, body) = send(published_posts(&s, t, &[("fields", POST_FIELDS)])).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(headers.contains_key("x-app-usage"));
    let listed = ids(&body);
    let single_post = single["post_id"].as_str().unwrap();
    assert_eq!(
        listed,
        vec![
            format!("{PAGE}_{reel_id}"),
            album.clone(),
            single_post.to_owned(),
            link.clone(),
            text.clone(),
        ],
        "newest first; the unpublished photos, the draft Reel and the scheduled post are not listed"
    );
    assert!(listed.iter().all(|id| id.starts_with(&format!("{PAGE}_"))));
    assert!(!listed.contains(&scheduled));
    assert!(!listed.iter().any(|id| id.ends_with(&draft)));
    let data = body["data"].as_array().unwrap();
    for p in data {
        assert!(is_graph_time(&p["created_time"]), "{p}");
        assert_eq!(
            p["permalink_url"],
            format!("https://www.facebook.com/{}", p["id"].as_str().unwrap())
        );
        assert!(
            keys(p).is_subset(
                &[
                    "id",
                    "message",
                    "created_time",
                    "permalink_url",
                    "attachments"
                ]
                .map(str::to_owned)
                .into()
            ),
            "only the fields asked for: {p}"
        );
    }
    let by_id = |id: &str| data.iter().find(|p| p["id"] == id).unwrap();
    assert_eq!(by_id(&text)["message"], "Doors open at 9");
    assert!(by_id(&text).get("attachments").is_none());
    assert_eq!(by_id(&link)["attachments"]["data"][0]["media_type"], "link");
    let photo_att = &by_id(single_post)["attachments"]["data"][0];
    assert_eq!(photo_att["media_type"], "photo");
    assert_eq!(photo_att["target"]["id"], single["id"]);
    let album_att = &by_id(&album)["attachments"]["data"][0];
    assert_eq!(album_att["media_type"], "album");
    let subs: Vec<&Value> = album_att["subattachments"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| &x["target"]["id"])
        .collect();
    assert_eq!(subs, vec![a, b]);
    let reel_att = &by_id(&format!("{PAGE}_{reel_id}"))["attachments"]["data"][0];
    assert_eq!(reel_att["media_type"], "video");
    assert_eq!(reel_att["target"]["id"], reel_id.as_str());
    // The posts carry the time they went live; the scheduled one has none yet.
    let posts = m.posts();
    let created = |id: &str| posts.iter().find(|p| p.id == id).unwrap().created_time;
    assert!(created(&text).is_some_and(|t| (now() - 600 - t).abs() <= 2));
    assert_eq!(created(&scheduled), None);
    assert_eq!(created(a), None, "an unpublished photo was never live");
}

#[tokio::test]
async fn without_fields_a_post_has_its_id_message_and_created_time() {
    let s = sandbox().await;
    let page = s.meta().add_page(PAGE, "Cafe");
    let t = page.expose_secret();
    feed(&s, t, &[("message", "hello")]).await;
    let (status, _, body) = send(published_posts(&s, t, &[])).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let p = &body["data"][0];
    assert_eq!(
        keys(p),
        ["created_time", "id", "message"].map(str::to_owned).into()
    );
    // The id comes back even when not asked for.
    let (_, _, body) = send(published_posts(&s, t, &[("fields", "message")])).await;
    assert_eq!(
        keys(&body["data"][0]),
        ["id", "message"].map(str::to_owned).into()
    );
    let (status, _, body) = send(published_posts(&s, t, &[("fields", "id,nonsense")])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err(&body).0, 100);
}

#[tokio::test]
async fn published_posts_pages_with_cursors_and_next_links_until_none_remain() {
    let s = sandbox().await;
    let m = s.meta();
    let page = m.add_page(PAGE, "Cafe");
    let t = page.expose_secret();
    let mut made = Vec::new();
    for i in 0..5u64 {
        let id = feed(&s, t, &[("message", &format!("post {i}"))]).await;
        m.age_post(&id, Duration::from_secs(100 - 10 * i));
        made.push(id);
    }
    made.reverse();
    let (_, _, first) = send(published_posts(&s, t, &[("limit", "2")])).await;
    assert_eq!(ids(&first), made[..2]);
    let after = first["paging"]["cursors"]["after"].as_str().unwrap();
    assert!(first["paging"]["cursors"]["before"].is_string());
    assert!(first["paging"].get("previous").is_none(), "the first page");
    let next = first["paging"]["next"].as_str().unwrap();
    assert!(next.starts_with(&format!("{}/{V}/{PAGE}/published_posts?", m.url())));
    assert!(
        !next.contains(t),
        "a token sent in the header is not put in links"
    );
    // The next link, followed as given, and the after cursor reach the same page.
    let (_, _, second) = send(http().get(next).bearer_auth(t)).await;
    assert_eq!(ids(&second), made[2..4]);
    let (_, _, by_cursor) = send(published_posts(&s, t, &[("limit", "2"), ("after", after)])).await;
    assert_eq!(ids(&by_cursor), made[2..4]);
    assert!(second["paging"]["previous"].is_string());
    let (_, _, back) = send(published_posts(
        &s,
        t,
        &[
            ("limit", "2"),
            (
                "before",
                second["paging"]["cursors"]["before"].as_str().unwrap(),
            ),
        ],
    ))
    .await;
    assert_eq!(ids(&back), made[..2]);
    let (_, _, last) = send(
        http()
            .get(second["paging"]["next"].as_str().unwrap())
            .bearer_auth(t),
    )
    .await;
    assert_eq!(ids(&last), made[4..]);
    assert!(last["paging"].get("next").is_none(), "nothing remains");
    assert!(last["paging"]["cursors"]["after"].is_string());
    // Nothing after the last post: no data, no paging.
    let end = last["paging"]["cursors"]["after"].as_str().unwrap();
    let (status, _, empty) = send(published_posts(&s, t, &[("after", end)])).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(empty, json!({ "data": [] }));
    // A token given as a parameter is carried in the links, as Graph does.
    let (_, _, body) = send(
        http()
            .get(format!("{}/{V}/{PAGE}/published_posts", m.url()))
            .query(&[("limit", "4"), ("access_token", t)]),
    )
    .await;
    let (status, _, rest) = send(http().get(body["paging"]["next"].as_str().unwrap())).await;
    assert_eq!(status, StatusCode::OK, "{rest}");
    assert_eq!(ids(&rest), made[4..]);
}

#[tokio::test]
async fn since_and_until_bound_the_creation_time_and_limit_is_at_most_100() {
    let s = sandbox().await;
    let m = s.meta();
    let page = m.add_page(PAGE, "Cafe");
    let t = page.expose_secret();
    let mut made = Vec::new();
    for h in [3u64, 2, 1, 0] {
        let id = feed(&s, t, &[("message", &format!("{h} hours ago"))]).await;
        m.age_post(&id, Duration::from_secs(h * 3600));
        made.push(id);
    }
    let cut = (now() - 90 * 60).to_string();
    let (_, _, body) = send(published_posts(&s, t, &[("since", &cut)])).await;
    assert_eq!(ids(&body), vec![made[3].clone(), made[2].clone()]);
    let (_, _, body) = send(published_posts(&s, t, &[("until", &cut)])).await;
    assert_eq!(ids(&body), vec![made[1].clone(), made[0].clone()]);
    let from = (now() - 150 * 60).to_string();
    let (_, _, body) = send(published_posts(&s, t, &[("since", &from), ("until", &cut)])).await;
    assert_eq!(ids(&body), vec![made[1].clone()]);
    // since pages with cursors like any listing.
    let (_, _, body) = send(published_posts(&s, t, &[("since", &from), ("limit", "1")])).await;
    assert_eq!(ids(&body), vec![made[3].clone()]);
    let (_, _, body) = send(
        http()
            .get(body["paging"]["next"].as_str().unwrap())
            .bearer_auth(t),
    )
    .await;
    assert_eq!(ids(&body), vec![made[2].clone()]);
    assert!(body["paging"]["next"].is_string());
    // An ISO 8601 time is a strtotime value too.
    let (_, _, body) = send(published_posts(
        &s,
        t,
        &[("since", "2000-01-01T00:00:00+0000")],
    ))
    .await;
    assert_eq!(ids(&body).len(), 4);
    let (status, _, body) = send(published_posts(&s, t, &[("since", "soon")])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err(&body).0, 100);
    let (status, _, _) = send(published_posts(&s, t, &[("limit", "100")])).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, body) = send(published_posts(&s, t, &[("limit", "101")])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err(&body).0, 100);
    assert_eq!(body["error"]["type"], "OAuthException");
}

#[tokio::test]
async fn published_posts_needs_this_pages_token() {
    let s = sandbox().await;
    let m = s.meta();
    m.add_page(PAGE, "Cafe");
    let other = m.add_page("2222", "Bakery");
    let user = m.issue_user_token("u1", Duration::from_secs(3600));
    let ig = m.add_instagram_account(IG, InstagramLogin::Facebook);
    for token in [user.expose_secret(), ig.expose_secret()] {
        let (status, _, body) = send(published_posts(&s, token, &[])).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(err(&body), (190, None));
        assert_eq!(
            body["error"]["message"],
            "(#190) This method must be called with a Page Access Token"
        );
        assert_eq!(body["error"]["type"], "OAuthException");
        assert!(body["error"]["fbtrace_id"].is_string());
    }
    let (status, _, body) = send(published_posts(&s, other.expose_secret(), &[])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err(&body).0, 10);
    let (status, _, body) = send(
        http()
            .get(format!("{}/{V}/{PAGE}/published_posts", m.url()))
            .bearer_auth("EAABnot-a-token"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err(&body), (190, Some(467)));
    let page = m.add_page("3333", "Deli");
    let (status, headers, body) = send(
        http()
            .get(format!("{}/v20.0/3333/published_posts", m.url()))
            .bearer_auth(page.expose_secret()),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "expired versions are served as the oldest: {body}"
    );
    assert_eq!(headers["facebook-api-version"], "v21.0");
    let (status, _, body) = send(
        http()
            .get(format!("{}/v99.0/3333/published_posts", m.url()))
            .bearer_auth(page.expose_secret()),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        err(&body).0,
        2500,
        "a version Graph never had is an unknown path"
    );
}

/// Creates and publishes one container, returning the media id.
async fn ig_publish(s: &Sandbox, token: &str, form: &[(&str, &str)]) -> String {
    let url = s.meta().url();
    let (status, _, body) = send(
        http()
            .post(format!("{url}/{V}/{IG}/media"))
            .bearer_auth(token)
            .form(form),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, body) = send(
        http()
            .post(format!("{url}/{V}/{IG}/media_publish"))
            .bearer_auth(token)
            .query(&[("creation_id", body["id"].as_str().unwrap())]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

async fn ig_child(s: &Sandbox, token: &str, url: &str) -> String {
    let (status, _, body) = send(
        http()
            .post(format!("{}/{V}/{IG}/media", s.meta().url()))
            .bearer_auth(token)
            .form(&[("image_url", url), ("is_carousel_item", "true")]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn ig_media_lists_published_media_newest_first_without_stories() {
    for login in [InstagramLogin::Facebook, InstagramLogin::Instagram] {
        let s = sandbox().await;
        let m = s.meta();
        let token = m.add_instagram_account(IG, login);
        let t = token.expose_secret();
        let image = ig_publish(
            &s,
            t,
            &[
                ("image_url", "https://cdn.example.com/a.jpg"),
                ("caption", "an image"),
            ],
        )
        .await;
        let children = [
            ig_child(&s, t, "https://cdn.example.com/1.jpg").await,
            ig_child(&s, t, "https://cdn.example.com/2.jpg").await,
        ]
        .join(",");
        let carousel = ig_publish(
            &s,
            t,
            &[
                ("media_type", "CAROUSEL"),
                ("children", &children),
                ("caption", "two"),
            ],
        )
        .await;
        let reel = ig_publish(
            &s,
            t,
            &[
                ("media_type", "REELS"),
                ("video_url", "https://cdn.example.com/r.mp4"),
                ("caption", "a reel"),
            ],
        )
        .await;
        let story = ig_publish(
            &s,
            t,
            &[
                ("media_type", "STORIES"),
                ("image_url", "https://cdn.example.com/s.jpg"),
            ],
        )
        .await;
        for (i, id) in [&image, &carousel, &reel, &story].into_iter().enumerate() {
            m.age_post(id, Duration::from_secs(400 - 100 * i as u64));
        }
        let (status, _, body) = send(media(&s, t, &[("fields", MEDIA_FIELDS)])).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            ids(&body),
            vec![reel.clone(), carousel.clone(), image.clone()],
            "newest first, no story"
        );
        let data = body["data"].as_array().unwrap();
        let types: Vec<&str> = data
            .iter()
            .map(|x| x["media_type"].as_str().unwrap())
            .collect();
        assert_eq!(types, ["VIDEO", "CAROUSEL_ALBUM", "IMAGE"]);
        for x in data {
            assert_eq!(
                keys(x),
                MEDIA_FIELDS.split(',').map(str::to_owned).collect()
            );
            assert!(is_graph_time(&x["timestamp"]), "{x}");
            assert!(
                x["permalink"]
                    .as_str()
                    .unwrap()
                    .starts_with("https://www.instagram.com/")
            );
        }
        assert_eq!(data[2]["caption"], "an image");
        // The permalink is the one the media object reports.
        let (_, _, node) = send(
            http()
                .get(format!("{}/{V}/{image}", m.url()))
                .bearer_auth(t)
                .query(&[("fields", "permalink")]),
        )
        .await;
        assert_eq!(node["permalink"], data[2]["permalink"]);
        // Without fields, only ids.
        let (_, _, body) = send(media(&s, t, &[])).await;
        assert_eq!(keys(&body["data"][0]), ["id"].map(str::to_owned).into());
        // One at a time, with since.
        let since = (now() - 350).to_string();
        let (_, _, body) = send(media(&s, t, &[("since", &since), ("limit", "1")])).await;
        assert_eq!(ids(&body), vec![reel.clone()]);
        let (_, _, body) = send(
            http()
                .get(body["paging"]["next"].as_str().unwrap())
                .bearer_auth(t),
        )
        .await;
        assert_eq!(ids(&body), vec![carousel.clone()]);
        assert!(body["paging"].get("next").is_none());
    }
}

#[tokio::test]
async fn ig_media_needs_the_accounts_token() {
    let s = sandbox().await;
    let m = s.meta();
    let page = m.add_page(PAGE, "Cafe");
    m.add_instagram_account(IG, InstagramLogin::Facebook);
    let (status, _, body) = send(media(&s, page.expose_secret(), &[])).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(err(&body).0, 10);
    assert_eq!(body["error"]["type"], "OAuthException");
    let other = m.add_instagram_account("1790", InstagramLogin::Instagram);
    let (status, _, _) = send(media(&s, other.expose_secret(), &[])).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn status_of(s: &Sandbox, token: &str, video_id: &str) -> Value {
    let (status, _, body) = send(
        http()
            .get(format!("{}/{V}/{video_id}", s.meta().url()))
            .bearer_auth(token)
            .query(&[("fields", "status")]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["id"], video_id);
    body["status"].clone()
}

#[tokio::test]
async fn a_reels_status_goes_from_upload_to_publishing_complete() {
    let s = sandbox().await;
    let m = s.meta();
    let page = m.add_page(PAGE, "Cafe");
    let t = page.expose_secret();
    let (_, _, body) = send(
        http()
            .post(format!("{}/{V}/{PAGE}/video_reels", m.url()))
            .bearer_auth(t)
            .form(&[("upload_phase", "start")]),
    )
    .await;
    let started = body["video_id"].as_str().unwrap().to_owned();
    let st = status_of(&s, t, &started).await;
    assert_eq!(st["uploading_phase"]["status"], "not_started");
    assert_eq!(st["publishing_phase"]["status"], "not_started");

    let uploaded = reel(&s, t, None).await;
    let st = status_of(&s, t, &uploaded).await;
    assert_eq!(st["video_status"], "upload_complete");
    assert_eq!(st["uploading_phase"]["status"], "complete");
    assert_eq!(st["uploading_phase"]["bytes_transferred"], 5);
    assert_eq!(st["processing_phase"]["status"], "not_started");
    assert_eq!(st["publishing_phase"]["status"], "not_started");

    let published = reel(&s, t, Some("PUBLISHED")).await;
    let st = status_of(&s, t, &published).await;
    assert_eq!(st["video_status"], "ready");
    assert_eq!(st["uploading_phase"]["status"], "complete");
    assert_eq!(st["processing_phase"]["status"], "complete");
    assert_eq!(st["publishing_phase"]["status"], "complete");
    assert_eq!(st["publishing_phase"]["publish_status"], "published");
    assert!((st["publishing_phase"]["publish_time"].as_i64().unwrap() - now()).abs() <= 2);

    let draft = reel(&s, t, Some("DRAFT")).await;
    let st = status_of(&s, t, &draft).await;
    assert_eq!(st["video_status"], "ready");
    assert_ne!(st["publishing_phase"]["status"], "complete", "{st}");

    // Not a video of this sandbox: Graph's missing-object error.
    let (status, _, body) = send(
        http()
            .get(format!("{}/{V}/999999", m.url()))
            .bearer_auth(t)
            .query(&[("fields", "status")]),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err(&body), (100, Some(33)));
}

#[tokio::test]
async fn faults_apply_to_the_reads_and_to_them_only() {
    let mut config = MetaConfig::default();
    config.container_processing_time = Duration::ZERO;
    config.throttle = MetaThrottle::Account { regain_minutes: 2 };
    let s = sandbox_with(config).await;
    let m = s.meta();
    let page = m.add_page(PAGE, "Cafe");
    let ig = m.add_instagram_account(IG, InstagramLogin::Facebook);
    let t = page.expose_secret();
    feed(&s, t, &[("message", "x")]).await;

    m.inject(MetaEndpoint::PublishedPosts, Fault::ServerError, 1);
    let (status, _, body) = send(published_posts(&s, t, &[])).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body["error"]["is_transient"], true);
    m.inject(MetaEndpoint::PublishedPosts, Fault::RateLimited, 1);
    let (status, headers, body) = send(published_posts(&s, t, &[])).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(err(&body).0, 80_001);
    let buc: Value =
        serde_json::from_str(headers["x-business-use-case-usage"].to_str().unwrap()).unwrap();
    assert_eq!(buc[PAGE][0]["estimated_time_to_regain_access"], 2);
    let (status, _, _) = send(published_posts(&s, t, &[])).await;
    assert_eq!(status, StatusCode::OK, "the faults were used up");

    // A fault on creating containers leaves the media listing alone, and the reverse.
    m.inject(MetaEndpoint::Media, Fault::ServerError, 1);
    let (status, _, _) = send(media(&s, ig.expose_secret(), &[])).await;
    assert_eq!(status, StatusCode::OK);
    m.clear_faults();
    m.inject(MetaEndpoint::MediaList, Fault::RateLimited, 1);
    let (status, _, body) = send(media(&s, ig.expose_secret(), &[])).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(err(&body).0, 80_002);

    let video = reel(&s, t, Some("PUBLISHED")).await;
    m.inject(MetaEndpoint::VideoStatus, Fault::ServerError, 1);
    let (status, _, _) = send(
        http()
            .get(format!("{}/{V}/{video}", m.url()))
            .bearer_auth(t)
            .query(&[("fields", "status")]),
    )
    .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        status_of(&s, t, &video).await["publishing_phase"]["status"],
        "complete"
    );
}
