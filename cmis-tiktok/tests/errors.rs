//! TikTok's error envelope on every call, the documented init errors, and the expired-token path:
//! one refresh through `RefreshingTokenProvider` + `TikTokRefresher`, then one retry.

mod common;

use std::time::Duration;

use cmis_core::{
    CredentialStore, ErrorKind, ExposeSecret, Media, Post, PrivacyLevel, Publisher, TikTokOptions,
};
use common::*;
use serde_json::json;
use time::OffsetDateTime;
use wiremock::matchers::{bearer_token, body_string, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn pull_post() -> Post {
    Post::new()
        .with_media(Media::url(
            "https://verified.example.com/x.mp4".parse().unwrap(),
        ))
        .with_tiktok(TikTokOptions::new().with_privacy_level(PrivacyLevel::SelfOnly))
}

async fn mount_creator_info(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/creator_info/query/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("creator_info.json")))
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn every_documented_init_error_maps_to_its_kind_with_code_and_log_id() {
    let cases = fixture("init_errors.json");
    for case in cases.as_array().unwrap() {
        let code = case["code"].as_str().unwrap();
        let http = u16::try_from(case["http"].as_u64().unwrap()).unwrap();
        let kind = case["kind"].as_str().unwrap();
        let server = server().await;
        mount_creator_info(&server).await;
        let log_id = format!("log-{code}");
        Mock::given(method("POST"))
            .and(path("/v2/post/publish/video/init/"))
            .respond_with(ResponseTemplate::new(http).set_body_json(json!({
                "data": {},
                "error": {"code": code, "message": "documented", "log_id": log_id}
            })))
            .expect(1)
            .mount(&server)
            .await;
        let env = env(&server, &[]).await;
        let err = publisher(&server, 100)
            .publish(&target(), &pull_post(), &env.ctx)
            .await
            .unwrap_err();
        assert_eq!(err.kind().as_str(), kind, "{code}: {err}");
        assert_eq!(err.platform_code(), Some(code));
        assert_eq!(err.trace_id(), Some(log_id.as_str()));
        // Only the checkpoints before init were saved (before any call, then with init's
        // window); TikTok's answer proves no publish was created, so they are dead (an
        // unknown outcome keeps them for reconciliation).
        let stages: Vec<String> = env
            .checkpoints
            .checkpoints()
            .into_iter()
            .map(|c| c.stage)
            .collect();
        assert_eq!(stages, ["initiating", "initiating"], "{code}");
        assert_eq!(
            err.discards_checkpoint(),
            kind != "unknown_outcome",
            "{code}"
        );
        if kind == "rate_limited" {
            assert!(err.retry_after().is_some());
        }
        if matches!(
            code,
            "unaudited_client_can_only_post_to_private_accounts"
                | "url_ownership_unverified"
                | "privacy_level_option_mismatch"
        ) {
            // The message says what to do.
            assert!(
                err.message().contains("private")
                    || err.message().contains("URL properties")
                    || err.message().contains("privacy_level_options"),
                "{err}"
            );
        }
    }
}

#[tokio::test]
async fn an_error_code_on_http_200_is_not_a_success() {
    let server = server().await;
    mount_creator_info(&server).await;
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/video/init/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": {"publish_id": "v_pub_url~v2.9"},
            "error": {"code": "spam_risk_text", "message": "", "log_id": "L200"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let env = env(&server, &[]).await;
    let err = publisher(&server, 100)
        .publish(&target(), &pull_post(), &env.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Rejected);
    assert_eq!(err.trace_id(), Some("L200"));
}

#[tokio::test]
async fn an_expired_token_leads_to_exactly_one_refresh_and_one_retry_with_the_new_token() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/creator_info/query/"))
        .and(bearer_token(TOKEN))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "data": {},
            "error": {"code": "access_token_invalid", "message": "expired", "log_id": "L401"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/oauth/token/"))
        .and(body_string(
            "client_key=awclientkey&client_secret=client-secret-value\
             &grant_type=refresh_token&refresh_token=rft.old-refresh",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("token.json")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/creator_info/query/"))
        .and(bearer_token("act.new-access"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("creator_info.json")))
        .expect(1)
        .mount(&server)
        .await;
    let env = env(&server, &[]).await;
    let before = OffsetDateTime::now_utc();
    let info = publisher(&server, 100)
        .creator_info(&account(), env.ctx.tokens().as_ref())
        .await
        .unwrap();
    assert_eq!(info.creator_nickname, "TikTok Official");
    // The rotated refresh token was stored, with expiry from `expires_in` (7200 s).
    let stored = env.store.credential(&account()).await.unwrap().unwrap();
    assert_eq!(stored.access_token.expose_secret(), "act.new-access");
    assert_eq!(
        stored.refresh_token.as_ref().unwrap().expose_secret(),
        "rft.new-refresh"
    );
    let expires = stored.access_expires_at.unwrap();
    assert!(expires >= before + Duration::from_secs(7190));
    assert!(expires <= OffsetDateTime::now_utc() + Duration::from_secs(7200));
}

#[tokio::test]
async fn a_token_rejected_twice_is_not_refreshed_again() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/creator_info/query/"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "data": {},
            "error": {"code": "access_token_invalid", "message": "", "log_id": "L401"}
        })))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/oauth/token/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("token.json")))
        .expect(1)
        .mount(&server)
        .await;
    let env = env(&server, &[]).await;
    let err = publisher(&server, 100)
        .creator_info(&account(), env.ctx.tokens().as_ref())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(err.trace_id(), Some("L401"));
}

#[tokio::test]
async fn a_refused_refresh_surfaces_as_auth() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/creator_info/query/"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "data": {},
            "error": {"code": "access_token_invalid", "message": "", "log_id": "L401"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/oauth/token/"))
        .respond_with(ResponseTemplate::new(400).set_body_json(fixture("oauth_invalid_grant.json")))
        .expect(1)
        .mount(&server)
        .await;
    let env = env(&server, &[]).await;
    let err = publisher(&server, 100)
        .creator_info(&account(), env.ctx.tokens().as_ref())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(err.platform_code(), Some("invalid_grant"));
}

#[tokio::test]
async fn a_body_that_is_not_tiktoks_envelope_is_classified_by_status() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/status/fetch/"))
        .respond_with(ResponseTemplate::new(502).set_body_string("<html>bad gateway</html>"))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .fetch_status(&cmis_core::SecretString::from(TOKEN), "p")
        .await
        .unwrap_err();
    // A read: safe to retry.
    assert_eq!(err.kind(), ErrorKind::Transient);
}

#[tokio::test]
async fn errors_never_contain_the_token() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/creator_info/query/"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "data": {},
            "error": {"code": "scope_not_authorized", "message": "", "log_id": "L"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .creator_info(&cmis_core::SecretString::from(TOKEN))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Permission);
    assert!(!format!("{err} {err:?}").contains(TOKEN));
}
