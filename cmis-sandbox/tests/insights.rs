//! The fakes' insights, driven with a plain HTTP client against the documented shapes: a Page
//! post's `insights`, a Reel's `video_insights`, an Instagram media's `insights` per media
//! product type, an Instagram account's `online_followers`, and TikTok's `video/query`
//! counters.
//!
//! Sources: the project's insights brief (`insights.md`: Page post insights, IG Media Insights,
//! IG User Insights, TikTok Display API) and Meta's error envelope (`meta-graph-api.md` §3).

use std::collections::BTreeSet;
use std::time::Duration;

use cmis_core::ExposeSecret;
use cmis_sandbox::{Creator, InsightsConfig, InstagramLogin, MetaConfig, Sandbox, TikTokConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};

const V: &str = "v25.0";
const PAGE: &str = "1111";
const IG: &str = "1789";
const DAY: Duration = Duration::from_secs(86_400);

fn http() -> reqwest::Client {
    cmis_http::client_builder().unwrap().build().unwrap()
}

fn meta_config(seed: u64) -> MetaConfig {
    let mut config = MetaConfig::default();
    config.container_processing_time = Duration::ZERO;
    config.insights.seed = seed;
    config
}

async fn sandbox(seed: u64) -> Sandbox {
    Sandbox::builder()
        .meta(meta_config(seed))
        .start()
        .await
        .unwrap()
}

async fn get(s: &Sandbox, token: &str, path: &str, query: &[(&str, &str)]) -> (StatusCode, Value) {
    let r = http()
        .get(format!("{}/{V}/{path}", s.meta().url()))
        .bearer_auth(token)
        .query(query)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap())
}

async fn post(s: &Sandbox, token: &str, path: &str, form: &[(&str, &str)]) -> Value {
    let r = http()
        .post(format!("{}/{V}/{path}", s.meta().url()))
        .bearer_auth(token)
        .form(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

async fn feed(s: &Sandbox, token: &str) -> String {
    let body = post(s, token, &format!("{PAGE}/feed"), &[("message", "hi")]).await;
    body["id"].as_str().unwrap().to_owned()
}

async fn ig_publish(s: &Sandbox, token: &str, form: &[(&str, &str)]) -> String {
    let c = post(s, token, &format!("{IG}/media"), form).await;
    let id = c["id"].as_str().unwrap();
    let m = post(
        s,
        token,
        &format!("{IG}/media_publish"),
        &[("creation_id", id)],
    )
    .await;
    m["id"].as_str().unwrap().to_owned()
}

async fn insights(s: &Sandbox, token: &str, id: &str, metric: &str) -> (StatusCode, Value) {
    let q = [("metric", metric), ("period", "lifetime")];
    get(s, token, &format!("{id}/insights"), &q).await
}

fn value(body: &Value, name: &str) -> Value {
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {body}"))["values"][0]["value"]
        .clone()
}

fn keys(v: &Value) -> BTreeSet<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

/// Meta's error envelope with `code`; the answer has no `data` at all.
fn assert_graph_error(status: StatusCode, body: &Value, code: i64) -> String {
    assert!(status.is_client_error(), "{status} {body}");
    assert_eq!(keys(body), BTreeSet::from(["error"]), "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["fbtrace_id"].is_string(), "{body}");
    body["error"]["message"].as_str().unwrap().to_owned()
}

const FB_METRICS: &str =
    "post_media_view,post_total_media_view_unique,post_clicks,post_reactions_by_type_total";

#[tokio::test]
async fn page_post_insights_have_the_documented_shape_after_the_delay() {
    let s = sandbox(7).await;
    let token = s.meta().add_page(PAGE, "Cafe");
    let t = token.expose_secret();
    let id = feed(&s, t).await;
    // Inside the delay: the metrics come back, at zero.
    let (status, body) = insights(&s, t, &id, FB_METRICS).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(value(&body, "post_media_view"), json!(0));
    assert_eq!(value(&body, "post_reactions_by_type_total"), json!({}));
    s.meta().age_post(&id, 3 * DAY);
    let (status, body) = insights(&s, t, &id, FB_METRICS).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let data = body["data"].as_array().unwrap();
    assert_eq!(data.len(), 4, "{body}");
    for m in data {
        assert!(
            keys(m).is_superset(&BTreeSet::from(["name", "period", "values", "title", "id"])),
            "{m}"
        );
        assert_eq!(m["period"], "lifetime");
        let name = m["name"].as_str().unwrap();
        assert_eq!(m["id"], format!("{id}/insights/{name}/lifetime"));
    }
    assert!(value(&body, "post_media_view").as_u64().unwrap() > 0);
    let views = value(&body, "post_media_view").as_u64().unwrap();
    let reach = value(&body, "post_total_media_view_unique")
        .as_u64()
        .unwrap();
    assert!(reach <= views, "{body}");
    let reactions = value(&body, "post_reactions_by_type_total");
    assert!(
        reactions["like"].as_u64().unwrap() > 0,
        "an object by type: {body}"
    );
    // Without `period=lifetime`, a counter also comes back per day.
    let (_, body) = get(
        &s,
        t,
        &format!("{id}/insights"),
        &[("metric", "post_media_view")],
    )
    .await;
    let periods: Vec<&str> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["period"].as_str().unwrap())
        .collect();
    assert_eq!(periods, ["lifetime", "day"], "{body}");
}

#[tokio::test]
async fn one_retired_metric_fails_the_whole_call_with_code_100() {
    let s = sandbox(7).await;
    let token = s.meta().add_page(PAGE, "Cafe");
    let t = token.expose_secret();
    let id = feed(&s, t).await;
    s.meta().age_post(&id, 3 * DAY);
    // Retired on 2025-11-15 and 2026-06-15; the sandbox's clock is past both.
    for retired in [
        "post_impressions",
        "post_impressions_unique",
        "no_such_metric",
    ] {
        let metric = format!("post_media_view,{retired}");
        let (status, body) = insights(&s, t, &id, &metric).await;
        let message = assert_graph_error(status, &body, 100);
        assert!(
            message.starts_with("(#100) metric[1] must be one of the following values: "),
            "{message}"
        );
        assert!(!message.contains(retired), "{message}");
    }
    // Instagram: `impressions` (gone 2025-04-21), and a metric of another product type.
    let ig = s.meta().add_instagram_account(IG, InstagramLogin::Facebook);
    let it = ig.expose_secret();
    let media = ig_publish(&s, it, &[("image_url", "https://cdn.example.com/a.jpg")]).await;
    let (status, body) = insights(&s, it, &media, "impressions,reach").await;
    let message = assert_graph_error(status, &body, 100);
    assert!(
        message.starts_with("(#100) metric[0] must be one of"),
        "{message}"
    );
    let (status, body) = insights(&s, it, &media, "reach,ig_reels_avg_watch_time").await;
    let message = assert_graph_error(status, &body, 100);
    assert!(message.contains("does not support the ig_reels_avg_watch_time metric"));
}

#[tokio::test]
async fn a_missing_permission_is_code_200() {
    let s = sandbox(7).await;
    let token = s.meta().add_page(PAGE, "Cafe");
    let t = token.expose_secret();
    let id = feed(&s, t).await;
    s.meta().revoke_permission(t, "read_insights");
    let (status, body) = insights(&s, t, &id, "post_media_view").await;
    let message = assert_graph_error(status, &body, 200);
    assert!(message.contains("read_insights"), "{message}");
    let ig = s
        .meta()
        .add_instagram_account(IG, InstagramLogin::Instagram);
    let it = ig.expose_secret();
    let media = ig_publish(&s, it, &[("image_url", "https://cdn.example.com/a.jpg")]).await;
    s.meta()
        .revoke_permission(it, "instagram_business_manage_insights");
    let (status, body) = insights(&s, it, &media, "reach").await;
    assert_graph_error(status, &body, 200);
}

#[tokio::test]
async fn reels_answer_on_video_insights_only() {
    let s = sandbox(7).await;
    let token = s.meta().add_page(PAGE, "Cafe");
    let t = token.expose_secret();
    let url = s.meta().url();
    let start = post(
        &s,
        t,
        &format!("{PAGE}/video_reels"),
        &[("upload_phase", "start")],
    )
    .await;
    let video = start["video_id"].as_str().unwrap().to_owned();
    let r = http()
        .post(start["upload_url"].as_str().unwrap())
        .header("authorization", format!("OAuth {t}"))
        .header("offset", "0")
        .header("file_size", "5")
        .body(vec![0u8; 5])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let form = [
        ("upload_phase", "finish"),
        ("video_id", video.as_str()),
        ("video_state", "PUBLISHED"),
    ];
    post(&s, t, &format!("{PAGE}/video_reels"), &form).await;
    s.meta().age_post(&video, 2 * DAY);
    let (status, body) = get(&s, t, &format!("{video}/video_insights"), &[]).await;
    assert_eq!(status, StatusCode::OK, "{url} {body}");
    let names: Vec<&str> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"blue_reels_play_count"), "{body}");
    assert!(names.contains(&"post_video_avg_time_watched"), "{body}");
    assert!(value(&body, "post_video_reactions").is_object(), "{body}");
    assert!(value(&body, "blue_reels_play_count").as_u64().unwrap() > 0);
    let (status, body) = insights(&s, t, &format!("{PAGE}_{video}"), "post_media_view").await;
    assert_graph_error(status, &body, 100);
}

#[tokio::test]
async fn instagram_media_insights_follow_the_product_type_delay_and_story_lifetime() {
    let s = sandbox(7).await;
    let ig = s.meta().add_instagram_account(IG, InstagramLogin::Facebook);
    let t = ig.expose_secret();
    let feed_set = "reach,views,likes,comments,saved,shares,total_interactions,profile_visits,profile_activity,follows";
    let reels_set = "reach,views,likes,comments,saved,shares,total_interactions,ig_reels_avg_watch_time,ig_reels_video_view_total_time,reels_skip_rate,reposts";
    let story_set = "reach,views,shares,replies,navigation,follows,profile_visits,profile_activity,total_interactions";
    let image = ig_publish(&s, t, &[("image_url", "https://cdn.example.com/a.jpg")]).await;
    let reel = ig_publish(
        &s,
        t,
        &[
            ("media_type", "REELS"),
            ("video_url", "https://cdn.example.com/v.mp4"),
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
    // Not yet available: "an empty data set instead of 0".
    let (status, body) = insights(&s, t, &image, feed_set).await;
    assert_eq!((status, &body), (StatusCode::OK, &json!({"data": []})));
    for (id, set) in [(&image, feed_set), (&reel, reels_set), (&story, story_set)] {
        s.meta().age_post(id, Duration::from_secs(6 * 3600));
        let (status, body) = insights(&s, t, id, set).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            body["data"].as_array().unwrap().len(),
            set.split(',').count()
        );
        let total = value(&body, "total_interactions").as_u64().unwrap();
        assert!(value(&body, "views").as_u64().unwrap() > 0, "{body}");
        if set != story_set {
            let parts: u64 = ["likes", "comments", "saved", "shares"]
                .iter()
                .map(|m| value(&body, m).as_u64().unwrap())
                .sum();
            assert_eq!(total, parts, "{body}");
        }
    }
    // The media's `like_count` and `comments_count` are the same organic counts.
    let (_, body) = insights(&s, t, &image, "likes,comments").await;
    let q = [("fields", "like_count,comments_count")];
    let (status, node) = get(&s, t, &image, &q).await;
    assert_eq!(status, StatusCode::OK, "{node}");
    assert_eq!(node["like_count"], value(&body, "likes"), "{node}");
    assert_eq!(node["comments_count"], value(&body, "comments"), "{node}");
    // A story's insights last 24 hours.
    s.meta().age_post(&story, DAY);
    let (status, body) = insights(&s, t, &story, story_set).await;
    assert_eq!((status, &body), (StatusCode::OK, &json!({"data": []})));
}

async fn online(s: &Sandbox, t: &str, since: &str) -> Value {
    let q = [
        ("metric", "online_followers"),
        ("period", "lifetime"),
        ("since", since),
    ];
    let (status, body) = get(s, t, &format!("{IG}/insights"), &q).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn online_followers_is_an_hour_map_per_day_peaking_at_the_planted_slot() {
    let s = sandbox(11).await;
    let ig = s.meta().add_instagram_account(IG, InstagramLogin::Facebook);
    let t = ig.expose_secret();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let since = (now - 29 * 86_400).to_string();
    let body = online(&s, t, &since).await;
    let m = &body["data"][0];
    assert_eq!(m["name"], "online_followers");
    assert_eq!(m["period"], "lifetime");
    let values = m["values"].as_array().unwrap();
    assert!((29..=31).contains(&values.len()), "{}", values.len());
    // The latest days are still empty.
    assert_eq!(values.last().unwrap()["value"], json!({}));
    // Per local hour of the week, summed over the weeks: the planted best slot wins.
    let config = InsightsConfig::default();
    let mut week = [0u64; 168];
    let mut seen = [0u64; 168];
    for v in values {
        let end = v["end_time"].as_str().unwrap();
        assert!(end.ends_with("T07:00:00+0000"), "{end}");
        let hours = v["value"].as_object().unwrap();
        if hours.is_empty() {
            continue;
        }
        assert_eq!(hours.len(), 24);
        // The day runs from 07:00 UTC the day before; hour keys are the account's (UTC) hours.
        let days = days_since_epoch(end) - 1;
        for (h, n) in hours {
            let h: i64 = h.parse().unwrap();
            let at = days * 86_400 + if h >= 7 { h * 3600 } else { 86_400 + h * 3600 };
            let weekday = (at.div_euclid(86_400) + 3).rem_euclid(7);
            let slot = usize::try_from(weekday * 24 + h).unwrap();
            week[slot] += n.as_u64().unwrap();
            seen[slot] += 1;
        }
    }
    // The mean per slot (some weekdays occur once more than others in the window).
    let best = (0..168)
        .max_by_key(|&i| week[i] * 1000 / seen[i].max(1))
        .unwrap();
    let mut seeded = config;
    seeded.seed = 11;
    assert_eq!(u32::try_from(best).unwrap(), seeded.best_slot(IG));
    // The same seed gives the same curve; another seed another one.
    let again = sandbox(11).await;
    let ig2 = again
        .meta()
        .add_instagram_account(IG, InstagramLogin::Facebook);
    assert_eq!(online(&again, ig2.expose_secret(), &since).await, body);
    let other = sandbox(12).await;
    let ig3 = other
        .meta()
        .add_instagram_account(IG, InstagramLogin::Facebook);
    assert_ne!(online(&other, ig3.expose_secret(), &since).await, body);
}

/// Days since 1970-01-01 of a Graph time `YYYY-MM-DDT…`.
fn days_since_epoch(t: &str) -> i64 {
    let (y, m, d): (i64, i64, i64) = (
        t[0..4].parse().unwrap(),
        t[5..7].parse().unwrap(),
        t[8..10].parse().unwrap(),
    );
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[tokio::test]
async fn lifetime_counters_never_decrease_and_are_the_same_for_a_seed() {
    let s = sandbox(3).await;
    let token = s.meta().add_page(PAGE, "Cafe");
    let t = token.expose_secret();
    let id = feed(&s, t).await;
    let mut last = 0;
    for _ in 0..40 {
        s.meta().age_post(&id, Duration::from_secs(3 * 3600));
        let (_, body) = insights(&s, t, &id, "post_media_view").await;
        let views = value(&body, "post_media_view").as_u64().unwrap();
        assert!(views >= last, "{views} after {last}");
        last = views;
    }
    assert!(last > 0);
    // A twin sandbox with the same seed, the post as old: the same counts.
    let twin = sandbox(3).await;
    let token2 = twin.meta().add_page(PAGE, "Cafe");
    let id2 = feed(&twin, token2.expose_secret()).await;
    assert_eq!(id, id2);
    // Old enough that the counters have stopped growing.
    s.meta().age_post(&id, 400 * DAY);
    twin.meta().age_post(&id2, 400 * DAY);
    let (_, a) = insights(&s, t, &id, FB_METRICS).await;
    let (_, b) = insights(&twin, token2.expose_secret(), &id2, FB_METRICS).await;
    assert_eq!(a, b);
}

#[tokio::test]
async fn tiktok_video_query_counters_wait_for_the_delay_then_grow() {
    let mut config = TikTokConfig::default();
    config.processing_time = Duration::ZERO;
    config.verified_url_prefixes = vec!["https://cdn.example.com/".into()];
    let s = Sandbox::builder().tiktok(config).start().await.unwrap();
    let tt = s.tiktok();
    tt.add_creator(Creator::public("open-1"));
    let publisher = tt.issue_tokens("open-1", &["video.publish"]);
    let reader = tt.issue_tokens("open-1", &["user.info.basic", "video.list"]);
    let send = |path: &str, token: &str, body: Value| {
        http()
            .post(format!("{}{path}", tt.url()))
            .bearer_auth(token)
            .header("content-type", "application/json; charset=UTF-8")
            .body(body.to_string())
            .send()
    };
    let init = send(
        "/v2/post/publish/video/init/",
        publisher.access_token.expose_secret(),
        json!({
            "post_info": {"title": "hi", "privacy_level": "PUBLIC_TO_EVERYONE"},
            "source_info": {"source": "PULL_FROM_URL", "video_url": "https://cdn.example.com/v.mp4"}
        }),
    )
    .await
    .unwrap();
    let init: Value = init.json().await.unwrap();
    let publish_id = init["data"]["publish_id"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let video = tt
        .publishes()
        .into_iter()
        .find(|p| p.publish_id == publish_id)
        .unwrap()
        .post_ids[0]
        .to_string();
    let fields = "/v2/video/query/?fields=id,view_count,like_count,comment_count,share_count";
    let body = json!({"filters": {"video_ids": [video]}});
    let read = || async {
        let r = send(fields, reader.access_token.expose_secret(), body.clone())
            .await
            .unwrap();
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], "ok", "{v}");
        v["data"]["videos"][0].clone()
    };
    let fresh = read().await;
    assert_eq!(fresh["view_count"], 0, "zeros inside the delay: {fresh}");
    let mut last = 0;
    for _ in 0..10 {
        tt.age_publish(&publish_id, Duration::from_secs(6 * 3600));
        let v = read().await;
        let views = v["view_count"].as_u64().unwrap();
        assert!(views >= last && views > 0, "{v}");
        assert!(v["like_count"].as_u64().unwrap() <= views);
        last = views;
    }
}

#[tokio::test]
async fn published_posts_carry_counts_with_summaries_only_when_asked() {
    let s = sandbox(5).await;
    let token = s.meta().add_page(PAGE, "Cafe");
    let t = token.expose_secret();
    let id = feed(&s, t).await;
    s.meta().age_post(&id, 5 * DAY);
    let fields = "id,created_time,message,permalink_url,shares,comments.limit(0).summary(true),reactions.limit(0).summary(true)";
    let (status, body) = get(
        &s,
        t,
        &format!("{PAGE}/published_posts"),
        &[("fields", fields)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let p = &body["data"][0];
    assert_eq!(p["id"], id.as_str());
    assert!(p["shares"]["count"].as_u64().unwrap() > 0, "{p}");
    assert_eq!(p["comments"]["data"], json!([]));
    assert!(p["comments"]["summary"]["total_count"].is_u64(), "{p}");
    // The same total as the post's insights give for likes.
    let (_, insights_body) = insights(&s, t, &id, "post_reactions_by_type_total").await;
    let by_type = value(&insights_body, "post_reactions_by_type_total");
    let sum: u64 = by_type
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(p["reactions"]["summary"]["total_count"], sum, "{p}");
    // Without `.summary(true)`, no summary.
    let (_, body) = get(
        &s,
        t,
        &format!("{PAGE}/published_posts"),
        &[("fields", "id,reactions.limit(0)")],
    )
    .await;
    assert_eq!(body["data"][0]["reactions"], json!({"data": []}), "{body}");
}

#[tokio::test]
async fn faults_can_be_injected_into_insights() {
    let s = sandbox(1).await;
    let token = s.meta().add_page(PAGE, "Cafe");
    let t = token.expose_secret();
    let id = feed(&s, t).await;
    s.meta().inject(
        cmis_sandbox::MetaEndpoint::Insights,
        cmis_sandbox::Fault::ServerError,
        1,
    );
    let (status, body) = insights(&s, t, &id, "post_media_view").await;
    assert!(status.is_server_error(), "{status} {body}");
    let (status, _) = insights(&s, t, &id, "post_media_view").await;
    assert_eq!(status, StatusCode::OK);
}
