//! Every documented error, classified; a retired version that says what to change; and the
//! create that must never make two posts: a lost answer is re-sent inside the duplicate window,
//! where `DUPLICATE_POST` names the first post.

mod common;

use std::time::Duration;

use cmis_core::{Checkpoint, ErrorKind, Outcome, Platform, Post, Publisher, Reconciliation};
use common::*;
use serde_json::json;
use time::OffsetDateTime;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

#[tokio::test]
async fn every_documented_rest_error_on_a_create_is_classified() {
    let want = [
        ("token_revoked", ErrorKind::Auth),
        ("token_invalid", ErrorKind::Auth),
        ("token_empty", ErrorKind::Auth),
        ("token_expired", ErrorKind::Auth),
        ("access_denied_create", ErrorKind::Permission),
        ("forbidden_bare", ErrorKind::Permission),
        ("member_author_needs_member_permission", ErrorKind::Rejected),
        ("version_missing", ErrorKind::Internal),
        ("version_sunset", ErrorKind::Unsupported),
        ("field_length_too_long", ErrorKind::Rejected),
        ("media_asset_waiting_upload", ErrorKind::Transient),
        ("media_asset_processing_failed", ErrorKind::Rejected),
        ("duplicate_post", ErrorKind::Rejected),
        ("throttled_application_day", ErrorKind::RateLimited),
        ("throttled_docs_text", ErrorKind::RateLimited),
        ("server_error", ErrorKind::UnknownOutcome),
    ];
    for (case, kind) in want {
        let server = server().await;
        Mock::given(method("POST"))
            .and(path("/rest/posts"))
            .respond_with(error_case(case))
            .mount(&server)
            .await;
        // A rejected token is refreshed once, and the refresh is refused here.
        Mock::given(method("POST"))
            .and(path("/oauth/v2/accessToken"))
            .respond_with(error_case("oauth_refresh_invalid_grant"))
            .mount(&server)
            .await;
        let env = env(&server, ORG).await;
        let err = publisher(&server)
            .publish(&target(ORG), &Post::new().with_text("hello"), &env.ctx)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{case}: {err}");
        assert_eq!(err.platform(), Some(&Platform::LinkedIn), "{case}");
        assert!(
            !err.message().contains("access-old"),
            "{case}: token in {err}"
        );
    }
}

#[tokio::test]
async fn a_daily_throttle_waits_until_midnight_utc_and_another_a_few_minutes() {
    for (case, long) in [
        ("throttled_application_day", true),
        ("throttled_docs_text", false),
    ] {
        let server = server().await;
        Mock::given(method("POST"))
            .and(path("/rest/posts"))
            .respond_with(error_case(case))
            .mount(&server)
            .await;
        let env = env(&server, ORG).await;
        let err = publisher(&server)
            .publish(&target(ORG), &Post::new().with_text("hello"), &env.ctx)
            .await
            .unwrap_err();
        let wait = err.retry_after().unwrap();
        let now = OffsetDateTime::now_utc();
        let midnight = now.date().next_day().unwrap().midnight().assume_utc();
        if long {
            let want = Duration::try_from(midnight - now).unwrap();
            assert!(
                wait.abs_diff(want) < Duration::from_secs(5),
                "{wait:?} vs {want:?}"
            );
        } else {
            assert_eq!(wait, Duration::from_secs(300));
        }
    }
}

#[tokio::test]
async fn a_retired_version_says_what_to_change() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/rest/posts"))
        .respond_with(error_case("version_sunset"))
        .expect(1)
        .mount(&server)
        .await;
    let env = env(&server, ORG).await;
    let err = publisher(&server)
        .publish(&target(ORG), &Post::new().with_text("hello"), &env.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert!(!err.is_retryable());
    let m = err.message();
    for needed in [
        "202604",
        "LinkedInClientBuilder::version",
        "CMIS_LINKEDIN_VERSION",
        "migrations",
    ] {
        assert!(m.contains(needed), "{needed} missing from: {m}");
    }
    assert_eq!(err.platform_code(), Some("NONEXISTENT_VERSION"));
}

#[tokio::test]
async fn bad_input_is_refused_before_any_call() {
    let server = server().await;
    let env = env(&server, ORG).await;
    let p = publisher(&server);
    let cases: Vec<(cmis_core::Target, Post)> = vec![
        (target("urn:li:company:1"), Post::new().with_text("x")),
        (target("urn:li:person:"), Post::new().with_text("x")),
        (target(ORG), Post::new()),
        // 1 600 parentheses are 3 200 UTF-16 units once escaped.
        (target(ORG), Post::new().with_text("(".repeat(1600))),
        (
            target(ORG),
            Post::new().with_text("x").with_linkedin(
                cmis_core::LinkedInOptions::new()
                    .with_visibility(cmis_core::LinkedInVisibility::Connections),
            ),
        ),
        (
            target(ORG),
            Post::new().with_text("x").with_media(cmis_core::Media::url(
                url::Url::parse("https://e.com/a.jpg").unwrap(),
            )),
        ),
        (
            target(ORG),
            Post::new()
                .with_media(cmis_core::Media::bytes(
                    Some("a.pdf".into()),
                    b"%PDF-1.4".to_vec(),
                ))
                .with_media(cmis_core::Media::bytes(
                    Some("b.jpg".into()),
                    cmis_media::sample::jpeg(8, 8),
                )),
        ),
    ];
    for (target, post) in cases {
        let err = p.publish(&target, &post, &env.ctx).await.unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::InvalidInput | ErrorKind::Unsupported),
            "{err}"
        );
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

const FIRST: &str = "urn:li:share:7141138937766391808";

/// A create LinkedIn made whose answer never came (the client times out), then a duplicate
/// refusal naming it, and the post readable.
async fn lost_then_duplicate(server: &wiremock::MockServer) {
    Mock::given(method("POST"))
        .and(path("/rest/posts"))
        .respond_with(created(FIRST).set_delay(Duration::from_secs(5)))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/rest/posts"))
        .respond_with(error_case("duplicate_post"))
        .expect(1)
        .mount(server)
        .await;
    let mut stored = fixture("post_get_response.json");
    stored["id"] = json!(FIRST);
    stored["createdAt"] = json!(OffsetDateTime::now_utc().unix_timestamp() * 1000);
    Mock::given(method("GET"))
        .and(path("/rest/posts/urn%3Ali%3Ashare%3A7141138937766391808"))
        .respond_with(ResponseTemplate::new(200).set_body_json(stored))
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_create_retried_after_a_timeout_reports_the_first_post_never_two() {
    let server = server().await;
    lost_then_duplicate(&server).await;
    let env = env(&server, ORG).await;
    let p = publisher(&server);
    let post = Post::new().with_text("Doors open at 9 (bring a friend)");
    let err = p.publish(&target(ORG), &post, &env.ctx).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome, "{err}");
    let cp = env.checkpoints.latest().unwrap();
    // The scheduler asks first. The listing does not show the post yet; inside the window the
    // answer is "resume it", which re-sends.
    Mock::given(method("GET"))
        .and(path("/rest/posts"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"elements": []})))
        .expect(1)
        .mount(&server)
        .await;
    let rec = p
        .reconcile(&target(ORG), &post, Some(&cp), &env.ctx)
        .await
        .unwrap();
    assert!(matches!(rec, Reconciliation::Pending(_)));
    let outcome = p.resume(&target(ORG), &cp, &env.ctx).await.unwrap();
    let Outcome::Published(receipt) = outcome else {
        panic!("not published")
    };
    assert_eq!(receipt.post_id.as_str(), FIRST);
    let creates = bodies(&server, "POST", "/rest/posts").await;
    assert_eq!(creates.len(), 2);
    assert_eq!(
        creates[0], creates[1],
        "the same post was sent again, unchanged"
    );
}

#[tokio::test]
async fn a_duplicate_on_a_first_send_is_refused_not_claimed() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/rest/posts"))
        .respond_with(error_case("duplicate_post"))
        .expect(1)
        .mount(&server)
        .await;
    let env = env(&server, MEMBER).await;
    let err = publisher(&server)
        .publish(
            &target(MEMBER),
            &Post::new().with_text("same again"),
            &env.ctx,
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Rejected);
    assert_eq!(err.platform_code(), Some("DUPLICATE_POST"));
    assert!(err.message().contains(FIRST), "{err}");
}

fn sent_checkpoint(author: &str, ago: Duration) -> Checkpoint {
    let mut body = fixture("post_text_organization_request.json");
    body["author"] = json!(author);
    let sent_at = OffsetDateTime::now_utc() - ago;
    Checkpoint::new(
        Platform::LinkedIn,
        cmis_linkedin::POST_READY,
        &json!({"author": author, "body": body,
                "sent_at": sent_at.format(&time::format_description::well_known::Rfc3339).unwrap()}),
    )
    .unwrap()
}

#[tokio::test]
async fn a_duplicate_naming_a_deleted_post_is_not_taken_for_ours() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/rest/posts"))
        .respond_with(error_case("duplicate_post_ghost"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/rest/posts/urn%3Ali%3Ashare%3A7431329065766260736"))
        .respond_with(error_case("post_not_found"))
        .mount(&server)
        .await;
    let env = env(&server, ORG).await;
    let cp = sent_checkpoint(ORG, Duration::from_secs(10));
    let err = publisher(&server)
        .resume(&target(ORG), &cp, &env.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Rejected, "{err}");
    assert!(err.message().contains("does not exist"), "{err}");
}

#[tokio::test]
async fn after_the_window_a_page_post_is_found_in_the_listing_not_sent_again() {
    let server = server().await;
    let mut page = fixture("posts_by_author_response.json");
    page["elements"][1]["createdAt"] =
        json!((OffsetDateTime::now_utc() - Duration::from_secs(600)).unix_timestamp() * 1000);
    Mock::given(method("GET"))
        .and(path("/rest/posts"))
        .and(wiremock::matchers::query_param("author", ORG))
        .and(wiremock::matchers::query_param("q", "author"))
        .and(wiremock::matchers::query_param("sortBy", "LAST_MODIFIED"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page))
        .expect(2)
        .mount(&server)
        .await;
    let env = env(&server, ORG).await;
    let cp = sent_checkpoint(ORG, Duration::from_secs(601));
    let p = publisher(&server);
    let post = Post::new().with_text("Sample text Post");
    let rec = p
        .reconcile(&target(ORG), &post, Some(&cp), &env.ctx)
        .await
        .unwrap();
    assert!(matches!(rec, Reconciliation::Published(ref r) if r.post_id.as_str() == POST_URN));
    let outcome = p.resume(&target(ORG), &cp, &env.ctx).await.unwrap();
    assert_eq!(outcome.receipt().unwrap().post_id.as_str(), POST_URN);
}

#[tokio::test]
async fn after_the_window_a_member_post_is_undecided_never_resent() {
    let server = server().await;
    let env = env(&server, MEMBER).await;
    let cp = sent_checkpoint(MEMBER, Duration::from_secs(3600));
    let p = publisher(&server);
    let err = p.resume(&target(MEMBER), &cp, &env.ctx).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome);
    let err = p
        .reconcile(&target(MEMBER), &Post::new(), Some(&cp), &env.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome);
    // Inside the window the post is handed back to be re-sent.
    let fresh = sent_checkpoint(MEMBER, Duration::from_secs(30));
    let rec = p
        .reconcile(&target(MEMBER), &Post::new(), Some(&fresh), &env.ctx)
        .await
        .unwrap();
    assert!(matches!(rec, Reconciliation::Pending(_)));
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_refused_create_clears_the_send_time_so_a_retry_may_send() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/rest/posts"))
        .respond_with(error_case("media_asset_waiting_upload"))
        .mount(&server)
        .await;
    let env = env(&server, MEMBER).await;
    let err = publisher(&server)
        .publish(&target(MEMBER), &Post::new().with_text("x"), &env.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient);
    let cp = env.checkpoints.latest().unwrap();
    let data: serde_json::Value = cp.decode().unwrap();
    assert!(data["sent_at"].is_null(), "{data}");
}
