//! The fake Threads API's publishing quota and the reads that reconcile a lost publish: the
//! publishing limit, the user's threads with `since`, `until` and cursors, media reads.

mod threads_common;

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use threads_common::*;

#[tokio::test]
async fn the_quota_is_250_posts_per_rolling_day_and_replies_count_apart() {
    let (s, token) = sandbox().await;
    let limit_path = format!("{USER}/threads_publishing_limit");
    let fields = [("fields", "quota_usage,config")];
    let limit = get(&s, &token, &limit_path, &fields).await;
    assert_eq!(
        limit.body,
        json!({"data": [{"quota_usage": 0, "config": {"quota_total": 250, "quota_duration": 86400}}]})
    );

    s.threads().set_publish_quota_used(USER, 249);
    let root = post_text(&s, &token, "the 250th").await;
    // Fixture `publishing_limit_exhausted.json`.
    let limit = get(&s, &token, &limit_path, &fields).await;
    let fixture =
        r#"{"data":[{"quota_usage":250,"config":{"quota_total":250,"quota_duration":86400}}]}"#;
    assert_eq!(limit.body, serde_json::from_str::<Value>(fixture).unwrap());

    let container = create(
        &s,
        &token,
        &[("media_type", "TEXT"), ("text", "one too many")],
    )
    .await
    .id();
    s.threads().advance_clock(READY);
    let refused = publish(&s, &token, &container).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    // Fixture `quota_exceeded` (Instagram's body; Threads documents none).
    assert_eq!(
        refused.envelope(),
        json!({"error": {
            "message": "You reached maximum number of posts that is allowed to be published by Content Publishing API.",
            "type": "OAuthException", "code": 9, "error_subcode": 2207042}})
    );
    assert_eq!(
        status(&s, &token, &container).await.body["status"],
        "FINISHED"
    );

    // A reply counts against the reply quota.
    let reply = create(
        &s,
        &token,
        &[
            ("media_type", "TEXT"),
            ("text", "a reply"),
            ("reply_to_id", &root),
        ],
    )
    .await
    .id();
    s.threads().advance_clock(READY);
    assert_eq!(publish(&s, &token, &reply).await.status, StatusCode::OK);
    let all = get(
        &s,
        &token,
        &limit_path,
        &[("fields", "quota_usage,reply_quota_usage,reply_config")],
    )
    .await;
    assert_eq!(
        all.body,
        json!({"data": [{"quota_usage": 250, "reply_quota_usage": 1,
                         "reply_config": {"quota_total": 1000, "quota_duration": 86400}}]})
    );
    s.threads().set_reply_quota_used(USER, 1000);
    let reply = create(
        &s,
        &token,
        &[
            ("media_type", "TEXT"),
            ("text", "too chatty"),
            ("reply_to_id", &root),
        ],
    )
    .await
    .id();
    s.threads().advance_clock(READY);
    let refused = publish(&s, &token, &reply).await;
    assert_eq!(refused.error().1, Some(2207042));
    assert!(refused.error().2.contains("replies"), "{}", refused.raw);

    // The window rolls: a day later the quota is free again.
    s.threads().advance_clock(Duration::from_secs(86_400));
    let fresh = create(&s, &token, &[("media_type", "TEXT"), ("text", "tomorrow")])
        .await
        .id();
    s.threads().advance_clock(READY);
    assert_eq!(publish(&s, &token, &fresh).await.status, StatusCode::OK);
    let limit = get(&s, &token, &limit_path, &[]).await;
    assert_eq!(limit.body["data"][0]["quota_usage"], 1);
}

fn ids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_users_threads_list_newest_first_with_since_until_and_cursors() {
    let (s, token) = sandbox().await;
    let mut posted = Vec::new();
    for text in ["first", "second", "third"] {
        posted.push(post_text(&s, &token, text).await);
        s.threads().advance_clock(Duration::from_secs(600));
    }
    let times: Vec<i64> = s.threads().posts().iter().map(|p| p.created_time).collect();
    // A reply is no thread of its own.
    let reply = create(
        &s,
        &token,
        &[
            ("media_type", "TEXT"),
            ("text", "reply"),
            ("reply_to_id", &posted[0]),
        ],
    )
    .await
    .id();
    s.threads().advance_clock(READY);
    publish(&s, &token, &reply).await.id();
    let path = format!("{USER}/threads");

    let page = get(&s, &token, &path, &[("fields", "id,text"), ("limit", "2")]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.raw);
    assert_eq!(ids(&page.body), [posted[2].clone(), posted[1].clone()]);
    assert_eq!(page.body["data"][0]["text"], "third");
    let paging = &page.body["paging"];
    assert!(paging["cursors"]["before"].is_string() && paging["cursors"]["after"].is_string());
    assert!(
        paging.get("previous").is_none(),
        "the first page: {}",
        page.raw
    );
    let next = paging["next"].as_str().expect("a next link").to_owned();
    assert!(next.starts_with(&format!("{}/v1.0/{USER}/threads?", s.threads().url())));
    assert!(
        !next.contains(&token),
        "a header token is not copied into links"
    );

    let last = answer(http().get(&next).bearer_auth(&token)).await;
    assert_eq!(ids(&last.body), [posted[0].clone()]);
    assert!(last.body["paging"].get("next").is_none(), "{}", last.raw);
    assert!(last.body["paging"]["previous"].is_string());
    let after = paging["cursors"]["after"].as_str().unwrap();
    let query = [("fields", "id,text"), ("limit", "2"), ("after", after)];
    let same = get(&s, &token, &path, &query).await;
    assert_eq!(same.body["data"], last.body["data"]);

    // `since` and `until` bound the publish time, both inclusive.
    let since = times[1].to_string();
    let recent = get(&s, &token, &path, &[("since", since.as_str())]).await;
    assert_eq!(ids(&recent.body), [posted[2].clone(), posted[1].clone()]);
    assert_eq!(
        recent.body["data"][0],
        json!({"id": posted[2]}),
        "id only by default"
    );
    let until = times[0].to_string();
    let old = get(&s, &token, &path, &[("until", until.as_str())]).await;
    assert_eq!(ids(&old.body), [posted[0].clone()]);
    let future = (times[2] + 3600).to_string();
    let none = get(&s, &token, &path, &[("since", future.as_str())]).await;
    assert_eq!(none.body, json!({"data": []}));

    let bad = get(&s, &token, &path, &[("after", "not-a-cursor")]).await;
    assert_eq!(bad.error().0, 100);
    let unknown = get(&s, &token, &path, &[("fields", "id,status_code")]).await;
    assert_eq!(unknown.error().0, 100, "{}", unknown.raw);
}

#[tokio::test]
async fn a_reply_and_a_quote_read_back_their_targets() {
    let (s, token) = sandbox().await;
    let root = post_text(&s, &token, "root").await;
    let reply = create(
        &s,
        &token,
        &[
            ("media_type", "TEXT"),
            ("text", "reply"),
            ("reply_to_id", &root),
        ],
    )
    .await
    .id();
    s.threads().advance_clock(READY);
    let reply = publish(&s, &token, &reply).await.id();
    let quote = create(
        &s,
        &token,
        &[
            ("media_type", "TEXT"),
            ("text", "quote"),
            ("quote_post_id", &reply),
        ],
    )
    .await
    .id();
    s.threads().advance_clock(READY);
    let quote = publish(&s, &token, &quote).await.id();
    let fields = [(
        "fields",
        "is_reply,replied_to,root_post,is_quote_post,quoted_post",
    )];
    let r = get(&s, &token, &reply, &fields).await;
    assert_eq!(
        r.body,
        json!({"id": reply, "is_reply": true, "replied_to": {"id": root},
               "root_post": {"id": root}, "is_quote_post": false})
    );
    let q = get(&s, &token, &quote, &fields).await;
    assert_eq!(
        q.body,
        json!({"id": quote, "is_reply": false, "is_quote_post": true, "quoted_post": {"id": reply}})
    );
    let posts = s.threads().posts();
    assert_eq!(posts[1].reply_to_id.as_deref(), Some(root.as_str()));
    assert_eq!(posts[2].quote_post_id.as_deref(), Some(reply.as_str()));
}
