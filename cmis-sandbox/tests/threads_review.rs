//! The fake Threads API against Meta's delete-posts page (review of issue 22, Build item 5; see
//! `docs/sandbox-threads-bluesky-review.md`).

mod threads_common;

use cmis_core::ExposeSecret;
use reqwest::StatusCode;
use serde_json::json;
use threads_common::*;

async fn delete(s: &cmis_sandbox::Sandbox, token: &str, id: &str) -> Answer {
    answer(http().delete(api(s, id)).bearer_auth(token)).await
}

#[tokio::test]
async fn a_post_is_deleted_as_meta_documents_and_is_gone_from_the_reads() {
    let (s, token) = sandbox().await;
    let id = post_text(&s, &token, "Hello World").await;
    let kept = post_text(&s, &token, "Today Is Monday").await;

    // Delete-posts page: `DELETE /{threads-media-id}` → `{"success": true, "deleted_id": …}`.
    let deleted = delete(&s, &token, &id).await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.raw);
    assert_eq!(deleted.body, json!({"success": true, "deleted_id": id}));

    let read = get(&s, &token, &id, &[("fields", "id,text")]).await;
    assert_eq!(read.status, StatusCode::BAD_REQUEST);
    assert_eq!(read.error().0, 100);
    assert_eq!(read.error().1, Some(33));
    let list = get(&s, &token, &format!("{USER}/threads"), &[("fields", "id")]).await;
    assert_eq!(list.body["data"], json!([{"id": kept}]));
    assert!(s.threads().posts().iter().all(|p| p.id != id));

    // A second delete finds nothing.
    let again = delete(&s, &token, &id).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert_eq!((again.error().0, again.error().1), (100, Some(33)));

    // The delete quota of the publishing limit counts it (100 per day).
    let limit = get(
        &s,
        &token,
        &format!("{USER}/threads_publishing_limit"),
        &[("fields", "delete_quota_usage,delete_config")],
    )
    .await;
    assert_eq!(
        limit.body,
        json!({"data": [{"delete_quota_usage": 1,
                         "delete_config": {"quota_total": 100, "quota_duration": 86400}}]})
    );
}

#[tokio::test]
async fn the_token_may_come_as_the_access_token_parameter_of_metas_curl_example() {
    let (s, token) = sandbox().await;
    let id = post_text(&s, &token, "to delete").await;
    let deleted = answer(
        http()
            .delete(api(&s, &id))
            .query(&[("access_token", token.as_str())]),
    )
    .await;
    assert_eq!(deleted.body, json!({"success": true, "deleted_id": id}));
}

#[tokio::test]
async fn another_users_post_cannot_be_deleted() {
    let (s, token) = sandbox().await;
    let id = post_text(&s, &token, "mine").await;
    let other = s.threads().issue_token(OTHER);
    let refused = delete(&s, other.expose_secret(), &id).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(refused.error().0, 10);
    assert_eq!(s.threads().posts().len(), 1);
}

#[tokio::test]
async fn at_most_100_deletes_per_account_per_day() {
    let (s, token) = sandbox().await;
    let mut ids = Vec::new();
    for i in 0..101 {
        ids.push(post_text(&s, &token, &format!("post {i}")).await);
    }
    for id in &ids[..100] {
        assert_eq!(delete(&s, &token, id).await.status, StatusCode::OK);
    }
    let refused = delete(&s, &token, &ids[100]).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.raw);
    assert_eq!(refused.error().0, 9);
    // A day later the window has moved on.
    s.threads()
        .advance_clock(std::time::Duration::from_secs(86_401));
    assert_eq!(delete(&s, &token, &ids[100]).await.status, StatusCode::OK);
}

#[tokio::test]
async fn debug_token_describes_a_token_as_the_debug_access_token_page_shows() {
    let (s, token) = sandbox().await;
    let other = s.threads().issue_token(OTHER);
    let other = other.expose_secret().to_owned();
    let read = get(
        &s,
        &token,
        "debug_token",
        &[("input_token", other.as_str())],
    )
    .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.raw);
    let data = &read.body["data"];
    assert_eq!(data["type"], "USER");
    assert_eq!(data["is_valid"], true);
    assert_eq!(data["user_id"], OTHER);
    let issued = data["issued_at"].as_i64().unwrap();
    assert_eq!(data["expires_at"].as_i64().unwrap() - issued, 5_183_944);
    assert_eq!(
        data["data_access_expires_at"].as_i64().unwrap() - issued,
        90 * 86_400
    );
    assert!(
        data["scopes"]
            .as_array()
            .unwrap()
            .contains(&json!("threads_basic"))
    );

    s.threads().expire_token(&other);
    let expired = get(
        &s,
        &token,
        "debug_token",
        &[("input_token", other.as_str())],
    )
    .await;
    assert_eq!(expired.body["data"]["is_valid"], false);
    let unknown = get(&s, &token, "debug_token", &[("input_token", "THnope")]).await;
    assert_eq!(unknown.body["data"]["is_valid"], false);
    assert_eq!(unknown.body["data"]["error"]["code"], 190);
}

#[tokio::test]
async fn graph_errors_name_themselves_in_www_authenticate_and_x_fb_trace_id() {
    let (s, token) = sandbox().await;
    let r = http()
        .get(api(&s, "me"))
        .bearer_auth("THnot-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        r.headers()["www-authenticate"],
        "OAuth \"Facebook Platform\" \"invalid_token\" \"Invalid OAuth access token - Cannot \
         parse access token\""
    );
    let trace = r.headers()["x-fb-trace-id"].to_str().unwrap().to_owned();
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["fbtrace_id"], trace);

    let missing = http()
        .get(api(&s, "1234567"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let value = missing.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        value.starts_with("OAuth \"Facebook Platform\" \"not_found\""),
        "{value}"
    );
}

#[tokio::test]
async fn a_path_called_with_another_method_answers_in_the_graph_envelope() {
    let (s, token) = sandbox().await;
    let refused = answer(
        http()
            .post(format!("{}/refresh_access_token", s.threads().url()))
            .form(&[
                ("grant_type", "th_refresh_token"),
                ("access_token", token.as_str()),
            ]),
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.raw);
    let (code, subcode, message, _) = refused.error();
    assert_eq!((code, subcode), (100, Some(33)));
    assert!(
        message.starts_with("Unsupported post request."),
        "{message}"
    );
}
