//! Sessions: createSession from an app password, refreshSession with the refresh token, the
//! rotated refresh token stored before the new access token is used, and lifetimes read from
//! the tokens.

mod common;

use std::time::Duration;

use cmis_bluesky::BlueskyRefresher;
use cmis_core::{
    CredentialStore, ErrorKind, ExposeSecret, Outcome, Post, Publisher, SecretString, TenantId,
    TokenRefresher,
};
use common::*;
use serde_json::json;
use time::OffsetDateTime;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, Request, ResponseTemplate};

#[tokio::test]
async fn create_session_sends_the_identifier_and_reads_lifetimes_from_the_tokens() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.server.createSession"))
        .and(body_json(
            json!({"identifier": "alice.bsky.social", "password": "abcd-efgh-ijkl-mnop"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("create_session.json")))
        .expect(1)
        .mount(&server)
        .await;
    let session = client(&server)
        .create_session(
            "alice.bsky.social",
            &SecretString::from("abcd-efgh-ijkl-mnop"),
        )
        .await
        .unwrap();
    let doc = fixture("create_session.json");
    assert_eq!(session.did, doc["did"]);
    assert_eq!(session.access_jwt.expose_secret(), doc["accessJwt"]);
    // 120 minutes and 90 days, as the tokens' own claims say.
    let iat = OffsetDateTime::from_unix_timestamp(1_796_371_200).unwrap();
    assert_eq!(session.issued_at, Some(iat));
    assert_eq!(
        session.access_expires_at,
        Some(iat + Duration::from_secs(7200))
    );
    assert_eq!(
        session.refresh_expires_at,
        Some(iat + Duration::from_secs(7_776_000))
    );
    let credential = session.credential(&TenantId::new("t"));
    assert_eq!(credential.account.account.as_str(), doc["did"]);
    assert!(!format!("{session:?}").contains(doc["accessJwt"].as_str().unwrap()));
}

#[tokio::test]
async fn a_main_password_on_a_two_factor_account_says_to_use_an_app_password() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.server.createSession"))
        .respond_with(error_case("auth_factor_required"))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .create_session("alice.bsky.social", &SecretString::from("main-password"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert!(err.user_message().unwrap().contains("app password"));
    assert!(!err.to_string().contains("main-password"));
}

#[tokio::test]
async fn refresh_sends_the_refresh_token_and_rotates_it() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.server.refreshSession"))
        .and(header(
            "authorization",
            format!("Bearer {REFRESH}").as_str(),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("refresh_session.json")))
        .expect(1)
        .mount(&server)
        .await;
    let env = env(&server, Duration::from_secs(3600)).await;
    let current = env.store.credential(&account()).await.unwrap().unwrap();
    let refreshed = BlueskyRefresher::new(client(&server))
        .refresh(&current)
        .await
        .unwrap();
    let doc = fixture("refresh_session.json");
    assert_eq!(refreshed.access_token.expose_secret(), doc["accessJwt"]);
    assert_eq!(
        refreshed.refresh_token.unwrap().expose_secret(),
        doc["refreshJwt"]
    );
    assert_eq!(refreshed.expires_in, Some(Duration::from_secs(7200)));
    assert_eq!(
        refreshed.refresh_expires_in,
        Some(Duration::from_secs(7_776_000))
    );
}

#[tokio::test]
async fn an_expired_access_token_is_refreshed_once_and_the_rotation_stored_before_use() {
    let server = server().await;
    let env = env(&server, Duration::from_secs(3600)).await;
    let doc = fixture("refresh_session.json");
    let new_access = doc["accessJwt"].as_str().unwrap().to_owned();
    let new_refresh = doc["refreshJwt"].as_str().unwrap().to_owned();
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.repo.createRecord"))
        .and(header("authorization", format!("Bearer {ACCESS}").as_str()))
        .respond_with(error_case("expired_token"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.server.refreshSession"))
        .respond_with(ResponseTemplate::new(200).set_body_json(doc.clone()))
        .expect(1)
        .mount(&server)
        .await;
    // When the new access token is first used, the rotated refresh token is already stored.
    let store = env.store.clone();
    let seen_refresh = std::sync::Arc::new(std::sync::Mutex::new(None));
    let seen = seen_refresh.clone();
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.repo.createRecord"))
        .and(header(
            "authorization",
            format!("Bearer {new_access}").as_str(),
        ))
        .respond_with(move |r: &Request| {
            let stored = futures_lite_block(store.credential(&account()));
            *seen.lock().unwrap() = stored
                .ok()
                .flatten()
                .and_then(|c| c.refresh_token)
                .map(|t| t.expose_secret().to_owned());
            let rkey = serde_json::from_slice::<serde_json::Value>(&r.body).unwrap()["rkey"]
                .as_str()
                .unwrap()
                .to_owned();
            ResponseTemplate::new(200).set_body_json(created(&rkey))
        })
        .expect(1)
        .mount(&server)
        .await;
    let outcome = publisher(&server)
        .publish(&target(), &Post::new().with_text("hello"), &env.ctx)
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Published(_)));
    assert_eq!(
        seen_refresh.lock().unwrap().as_deref(),
        Some(new_refresh.as_str())
    );
}

/// Runs a store read from inside a mock responder (a synchronous callback on the mock
/// server's runtime), on a runtime of its own in a thread of its own.
fn futures_lite_block<F: std::future::Future + Send>(f: F) -> F::Output
where
    F::Output: Send,
{
    std::thread::scope(|s| {
        s.spawn(|| {
            tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap()
                .block_on(f)
        })
        .join()
        .unwrap()
    })
}

#[tokio::test]
async fn a_refused_refresh_token_is_an_auth_error_with_the_platform_code() {
    for case in ["refresh_expired", "refresh_revoked"] {
        let server = server().await;
        Mock::given(method("POST"))
            .and(path("/xrpc/com.atproto.server.refreshSession"))
            .respond_with(error_case(case))
            .expect(1)
            .mount(&server)
            .await;
        let env = env(&server, Duration::from_secs(3600)).await;
        let current = env.store.credential(&account()).await.unwrap().unwrap();
        let err = BlueskyRefresher::new(client(&server))
            .refresh(&current)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Auth, "{case}");
        assert_eq!(err.platform_code(), Some("ExpiredToken"), "{case}");
    }
}
