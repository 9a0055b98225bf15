//! `MetaInsights` against the documented requests and responses (`docs/insights.md` §0–§2):
//! exact paths, metric lists, periods and tokens; integer and object values; a retired metric
//! refused with code 100 and the per-metric retry that keeps the others; code 200 raised as a
//! permission error without asking metric by metric; `online_followers`; recent media.

mod common;

use std::sync::Arc;

use cmis_core::{ErrorKind, InsightsReader, MediaKind, MetricValue, PostId, TokioClock};
use cmis_meta::MetaInsights;
use common::*;
use time::OffsetDateTime;
use time::macros::datetime;
use wiremock::matchers::{header, method, path};
use wiremock::{Match, Mock, Request, ResponseTemplate};

const NOW: OffsetDateTime = datetime!(2026-12-08 04:00 UTC);
const FB_POST: &str = "1234567890_111222333";
const FB_REEL: &str = "987654321098765";
const IG_MEDIA: &str = "17900000000000001";
/// What cmis asks a Page post for on 2026-12-08 (no retired metric).
const FB_POST_METRICS: &str =
    "post_media_view,post_total_media_view_unique,post_clicks,post_reactions_by_type_total";

/// The request's query is exactly these pairs, in any order.
struct QueryIs(Vec<(String, String)>);

fn query_is(pairs: &[(&str, &str)]) -> QueryIs {
    QueryIs(
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect(),
    )
}

impl Match for QueryIs {
    fn matches(&self, request: &Request) -> bool {
        let mut got: Vec<(String, String)> = request.url.query_pairs().into_owned().collect();
        let mut want = self.0.clone();
        got.sort();
        want.sort();
        got == want
    }
}

async fn reader() -> (Harness, MetaInsights) {
    let h = harness_with(|b| b.clock(Arc::new(TokioClock::starting_at(NOW)))).await;
    let r = MetaInsights::new(h.client.clone());
    (h, r)
}

fn metric(name: &str, value: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(serde_json::json!({"data":[
        {"name": name, "period": "lifetime", "values": [{"value": value}]}]}))
}

async fn mount_counts(h: &Harness) {
    Mock::given(method("GET"))
        .and(path(format!("/v25.0/{FB_POST}")))
        .and(query_is(&[(
            "fields",
            "shares,comments.limit(0).summary(true),reactions.limit(0).summary(true)",
        )]))
        .and(header(bearer().0, bearer().1.as_str()))
        .respond_with(json(200, "fb_post_counts.json"))
        .expect(1)
        .mount(&h.server)
        .await;
}

#[tokio::test]
async fn a_page_post_is_read_for_its_lifetime_with_integer_and_object_values() {
    let (h, r) = reader().await;
    Mock::given(method("GET"))
        .and(path(format!("/v25.0/{FB_POST}/insights")))
        .and(query_is(&[
            ("metric", FB_POST_METRICS),
            ("period", "lifetime"),
        ]))
        .and(header(bearer().0, bearer().1.as_str()))
        .and(NoTokenInUrl)
        .respond_with(json(200, "insights_fb_post.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    mount_counts(&h).await;
    let m = r
        .post_metrics(&page(), &PostId::new(FB_POST), MediaKind::Post, &h.ctx)
        .await
        .unwrap();
    assert_eq!(m.post_id.as_str(), FB_POST);
    // The client's clock, which started at NOW.
    assert!(m.collected_at >= NOW && m.collected_at - NOW < time::Duration::minutes(1));
    assert_eq!(
        m.raw["post_total_media_view_unique"],
        MetricValue::Int(21105)
    );
    let MetricValue::Breakdown(by_type) = &m.raw["post_reactions_by_type_total"] else {
        panic!("{:?}", m.raw)
    };
    assert_eq!(by_type["like"], MetricValue::Int(330));
    assert_eq!(by_type["love"], MetricValue::Int(2));
    assert_eq!(m.reach, Some(21105));
    assert_eq!(
        m.views, None,
        "post_media_view was not given: unknown, not 0"
    );
    assert_eq!(
        (m.likes, m.comments, m.shares),
        (Some(332), Some(41), Some(12))
    );
    assert_eq!(m.saves, None);
    assert!(m.refused.is_empty());
}

#[tokio::test]
async fn a_refused_metric_is_asked_for_alone_and_the_others_are_kept() {
    let (h, r) = reader().await;
    let insights = || path(format!("/v25.0/{FB_POST}/insights"));
    // The whole list: Meta refuses it for one metric and returns none of the others.
    Mock::given(method("GET"))
        .and(insights())
        .and(query_is(&[
            ("metric", FB_POST_METRICS),
            ("period", "lifetime"),
        ]))
        .respond_with(json(400, "error_100_insights_metric.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    // Then each metric alone, with the same period and token.
    let alone = [
        ("post_media_view", metric("post_media_view", 50000.into())),
        (
            "post_total_media_view_unique",
            json(200, "insights_fb_post.json"),
        ),
        ("post_clicks", json(400, "error_100_metric_one_of.json")),
        (
            "post_reactions_by_type_total",
            metric(
                "post_reactions_by_type_total",
                serde_json::json!({"like": 7}),
            ),
        ),
    ];
    for (name, answer) in alone {
        Mock::given(method("GET"))
            .and(insights())
            .and(query_is(&[("metric", name), ("period", "lifetime")]))
            .and(header(bearer().0, bearer().1.as_str()))
            .respond_with(answer)
            .expect(1)
            .named(name)
            .mount(&h.server)
            .await;
    }
    mount_counts(&h).await;
    let m = r
        .post_metrics(&page(), &PostId::new(FB_POST), MediaKind::Post, &h.ctx)
        .await
        .unwrap();
    assert_eq!(m.refused.len(), 1, "{:?}", m.refused);
    assert_eq!(m.refused[0].name, "post_clicks");
    assert!(
        m.refused[0].reason.contains("metric[0] must be one of"),
        "{:?}",
        m.refused
    );
    assert_eq!(m.views, Some(50000));
    assert_eq!(m.reach, Some(21105));
    assert!(!m.raw.contains_key("post_clicks"));
    assert_eq!(m.raw["post_reactions_by_type_total"].total(), Some(7));
}

#[tokio::test]
async fn a_permission_error_is_raised_and_never_asked_metric_by_metric() {
    let (h, r) = reader().await;
    Mock::given(method("GET"))
        .and(path(format!("/v25.0/{FB_POST}/insights")))
        .and(query_is(&[
            ("metric", FB_POST_METRICS),
            ("period", "lifetime"),
        ]))
        .respond_with(json(403, "error_200_read_insights.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    // Any per-metric call or the counts call would hit the catch-all (expect 0).
    let err = r
        .post_metrics(&page(), &PostId::new(FB_POST), MediaKind::Post, &h.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Permission, "{err}");
    assert_eq!(err.platform_code(), Some("200"));
    assert!(err.message().contains("read_insights"), "{err}");
}

#[tokio::test]
async fn a_facebook_reel_is_read_from_video_insights() {
    let (h, r) = reader().await;
    Mock::given(method("GET"))
        .and(path(format!("/v25.0/{FB_REEL}/video_insights")))
        .and(query_is(&[(
            "metric",
            "blue_reels_play_count,post_video_avg_time_watched,post_video_likes_by_reaction_type",
        )]))
        .and(header(bearer().0, bearer().1.as_str()))
        .respond_with(json(200, "fb_reel_video_insights.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    let m = r
        .post_metrics(&page(), &PostId::new(FB_REEL), MediaKind::Reel, &h.ctx)
        .await
        .unwrap();
    assert_eq!(m.views, Some(9120));
    assert_eq!(m.likes, Some(224), "reactions by type, summed");
    assert_eq!(
        m.raw["post_video_avg_time_watched"],
        MetricValue::Float(6530.5)
    );
    assert_eq!((m.reach, m.comments), (None, None));
}

#[tokio::test]
async fn an_instagram_reel_is_asked_for_the_reels_metric_set() {
    let (h, r) = reader().await;
    Mock::given(method("GET"))
        .and(path(format!("/v25.0/{IG_MEDIA}/insights")))
        .and(query_is(&[(
            "metric",
            "reach,views,likes,comments,saved,shares,total_interactions,ig_reels_avg_watch_time,\
             ig_reels_video_view_total_time,reels_skip_rate,reposts",
        )]))
        .and(header(bearer().0, bearer().1.as_str()))
        .and(NoTokenInUrl)
        .respond_with(json(200, "ig_insights_views.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    let m = r
        .post_metrics(&ig(), &PostId::new(IG_MEDIA), MediaKind::Reel, &h.ctx)
        .await
        .unwrap();
    assert_eq!(m.views, Some(18540));
    assert_eq!((m.reach, m.likes, m.saves), (None, None, None));
}

#[tokio::test]
async fn an_instagram_story_is_asked_for_the_story_metric_set() {
    let (h, r) = reader().await;
    Mock::given(method("GET"))
        .and(path(format!("/v25.0/{IG_MEDIA}/insights")))
        .and(query_is(&[(
            "metric",
            "reach,views,shares,replies,navigation,follows,profile_visits,profile_activity,\
             total_interactions",
        )]))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"data": []})))
        .expect(1)
        .mount(&h.server)
        .await;
    let m = r
        .post_metrics(&ig(), &PostId::new(IG_MEDIA), MediaKind::Story, &h.ctx)
        .await
        .unwrap();
    // "Not yet available" is an empty data set: every counter unknown, none zero.
    assert_eq!((m.views, m.reach, m.shares), (None, None, None));
    assert!(m.raw.is_empty());
}

#[tokio::test]
async fn a_story_with_too_few_viewers_has_every_metric_refused_not_zero() {
    let (h, r) = reader().await;
    Mock::given(method("GET"))
        .and(path(format!("/v25.0/{IG_MEDIA}/insights")))
        .respond_with(json(400, "error_10_not_enough_viewers.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    let m = r
        .post_metrics(&ig(), &PostId::new(IG_MEDIA), MediaKind::Story, &h.ctx)
        .await
        .unwrap();
    assert_eq!(m.refused.len(), 9, "{:?}", m.refused);
    assert!(
        m.refused
            .iter()
            .all(|x| x.reason.contains("Not enough viewers"))
    );
    assert_eq!((m.views, m.reach), (None, None));
}

#[tokio::test]
async fn online_followers_keep_empty_days_apart_from_zero() {
    let (h, r) = reader().await;
    let since = datetime!(2026-09-01 00:00 UTC);
    let until = datetime!(2026-09-03 00:00 UTC);
    Mock::given(method("GET"))
        .and(path(format!("/v25.0/{IG}/insights")))
        .and(query_is(&[
            ("metric", "online_followers"),
            ("period", "lifetime"),
            ("since", &since.unix_timestamp().to_string()),
            ("until", &until.unix_timestamp().to_string()),
        ]))
        .and(header(bearer().0, bearer().1.as_str()))
        .respond_with(json(200, "ig_online_followers.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    let s = r
        .account_signals(&ig(), since, until, &h.ctx)
        .await
        .unwrap();
    assert_eq!(s.online_followers.len(), 2);
    assert_eq!(s.online_followers[0].by_hour, None);
    let day = s.online_followers[1].by_hour.as_ref().unwrap();
    assert_eq!((day[&9], day[&12], day[&13]), (20, 100, 80));
    assert_eq!(
        s.online_followers[1].end_time,
        datetime!(2026-09-02 07:00 UTC)
    );
    let fb = r
        .account_signals(&page(), since, until, &h.ctx)
        .await
        .unwrap_err();
    assert_eq!(fb.kind(), ErrorKind::Unsupported);
}

#[tokio::test]
async fn recent_instagram_media_are_listed_since_a_time_with_their_kinds() {
    let (h, r) = reader().await;
    let since = datetime!(2026-12-01 00:00 UTC);
    Mock::given(method("GET"))
        .and(path(format!("/v25.0/{IG}/media")))
        .and(query_is(&[
            ("fields", "id,media_type,media_product_type,timestamp"),
            ("limit", "10"),
            ("since", &since.unix_timestamp().to_string()),
        ]))
        .and(header(bearer().0, bearer().1.as_str()))
        .respond_with(json(200, "ig_media_recent.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    let posts = r.recent_posts(&ig(), since, 10, &h.ctx).await.unwrap();
    let got: Vec<(&str, MediaKind)> = posts.iter().map(|p| (p.post_id.as_str(), p.kind)).collect();
    assert_eq!(
        got,
        [
            ("17900000000000003", MediaKind::Reel),
            ("17900000000000002", MediaKind::Carousel)
        ]
    );
    assert_eq!(posts[0].published_at, Some(datetime!(2026-12-07 09:00 UTC)));
}

#[tokio::test]
async fn recent_page_posts_are_filtered_by_creation_time_here() {
    let (h, r) = reader().await;
    // `since` on a post list filters `updated_time`, so it is not sent: cmis filters
    // `created_time` itself.
    Mock::given(method("GET"))
        .and(path(format!("/v25.0/{PAGE}/published_posts")))
        .and(query_is(&[("fields", "id,created_time"), ("limit", "5")]))
        .and(header(bearer().0, bearer().1.as_str()))
        .respond_with(json(200, "published_posts.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    let since = datetime!(2026-12-06 09:45 UTC);
    let posts = r.recent_posts(&page(), since, 5, &h.ctx).await.unwrap();
    let ids: Vec<&str> = posts.iter().map(|p| p.post_id.as_str()).collect();
    assert_eq!(ids, ["1234567890_9876543210", "1234567890_9876543100"]);
    assert!(posts.iter().all(|p| p.kind == MediaKind::Post));
}

#[tokio::test]
async fn instagram_login_accounts_are_read_on_graph_instagram_com() {
    let h = harness().await;
    let ig_host = wiremock::MockServer::start().await;
    let client = cmis_meta::MetaClient::builder()
        .graph_url(h.server.uri())
        .instagram_graph_url(ig_host.uri())
        .clock(Arc::new(TokioClock::starting_at(NOW)))
        .build()
        .unwrap();
    Mock::given(method("GET"))
        .and(path(format!("/v25.0/{IG_MEDIA}/insights")))
        .and(query_is(&[(
            "metric",
            "reach,views,likes,comments,saved,shares,total_interactions,profile_visits,\
             profile_activity,follows",
        )]))
        .and(header(bearer().0, bearer().1.as_str()))
        .respond_with(json(200, "ig_insights_views.json"))
        .expect(1)
        .mount(&ig_host)
        .await;
    let m = MetaInsights::new(client)
        .with_instagram_login(cmis_meta::InstagramLogin::Instagram)
        .post_metrics(&ig(), &PostId::new(IG_MEDIA), MediaKind::Image, &h.ctx)
        .await
        .unwrap();
    assert_eq!(m.views, Some(18540));
    // The Graph host's catch-all (expect 0) proves nothing went to graph.facebook.com.
}

#[tokio::test]
async fn bad_input_fails_before_any_call() {
    let (h, r) = reader().await;
    let post = PostId::new(FB_POST);
    let bad_id = r
        .post_metrics(
            &page(),
            &PostId::new("1/insights?x"),
            MediaKind::Post,
            &h.ctx,
        )
        .await
        .unwrap_err();
    assert_eq!(bad_id.kind(), ErrorKind::InvalidInput);
    let fb_story = r
        .post_metrics(&page(), &post, MediaKind::Story, &h.ctx)
        .await
        .unwrap_err();
    assert_eq!(fb_story.kind(), ErrorKind::Unsupported);
    let tiktok = cmis_core::TenantId::new("acme").account(cmis_core::Platform::TikTok, "x");
    let other = r
        .post_metrics(&tiktok, &post, MediaKind::Video, &h.ctx)
        .await
        .unwrap_err();
    assert_eq!(other.kind(), ErrorKind::InvalidInput);
    let none = r.recent_posts(&ig(), NOW, 0, &h.ctx).await.unwrap_err();
    assert_eq!(none.kind(), ErrorKind::InvalidInput);
    let backwards = r
        .account_signals(&ig(), NOW, NOW, &h.ctx)
        .await
        .unwrap_err();
    assert_eq!(backwards.kind(), ErrorKind::InvalidInput);
    // The catch-all (expect 0) proves no request was made.
}
