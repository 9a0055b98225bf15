//! Threads tokens against the documented requests (`docs/threads-api.md` §1): the authorize
//! URL with the Threads app id, code → short-lived → long-lived, and `th_refresh_token` only
//! for tokens at least 24 hours old and not expired.

mod common;

use std::sync::Arc;
use std::time::Duration;

use cmis_core::{
    AccountRef, Credential, ErrorKind, ExposeSecret, Platform, SecretString, TenantId,
    TokenRefresher, TokioClock,
};
use cmis_meta::ThreadsClient;
use cmis_meta::threads::{self, ThreadsTokenRefresher};
use common::*;
use time::OffsetDateTime;
use time::macros::datetime;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const APP: &str = "threads-app-1";
const SECRET: &str = "THREADS-APP-SECRET";
const NOW: OffsetDateTime = datetime!(2026-12-07 12:00 UTC);
const LONG_LIVED: &str = "THQVJ-long-lived";

async fn server_and_client() -> (MockServer, ThreadsClient) {
    let server = MockServer::start().await;
    catch_all(&server).await;
    let client = ThreadsClient::builder()
        .url(server.uri())
        .app_id(APP)
        .app_secret(SecretString::from(SECRET))
        .clock(Arc::new(TokioClock::starting_at(NOW)))
        .build()
        .unwrap();
    (server, client)
}

fn credential(issued: OffsetDateTime, expires: OffsetDateTime) -> Credential {
    let account = AccountRef::new(
        TenantId::new("acme"),
        Platform::Threads,
        "17841405793187218",
    );
    let mut c = Credential::new(account, SecretString::from(LONG_LIVED));
    c.issued_at = Some(issued);
    c.access_expires_at = Some(expires);
    c
}

#[test]
fn the_authorize_url_carries_the_threads_app_id_and_comma_separated_scopes() {
    let client = ThreadsClient::builder().app_id(APP).build().unwrap();
    let url = threads::authorize_url(
        &client,
        "https://app.example/callback/",
        &["threads_basic", "threads_content_publish"],
        "st4te",
    )
    .unwrap();
    assert_eq!(
        url.as_str(),
        "https://threads.com/oauth/authorize?client_id=threads-app-1\
         &redirect_uri=https%3A%2F%2Fapp.example%2Fcallback%2F\
         &scope=threads_basic%2Cthreads_content_publish&response_type=code&state=st4te"
    );
    let no_app = ThreadsClient::builder().build().unwrap();
    let err =
        threads::authorize_url(&no_app, "https://a.example/", &["threads_basic"], "s").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn a_code_becomes_a_short_lived_token_and_a_user_id_with_every_digit() {
    let (server, client) = server_and_client().await;
    Mock::given(method("POST"))
        .and(path("/oauth/access_token"))
        .and(form(&[
            ("client_id", APP),
            ("client_secret", SECRET),
            ("code", "AQBx-code"),
            ("grant_type", "authorization_code"),
            ("redirect_uri", "https://app.example/callback/"),
        ]))
        .respond_with(json(200, "threads/oauth_access_token.json"))
        .expect(1)
        .mount(&server)
        .await;
    let short = threads::exchange_code(
        &client,
        &SecretString::from("AQBx-code"),
        "https://app.example/callback/",
    )
    .await
    .unwrap();
    assert_eq!(short.user_id, "17841405793187218");
    assert_eq!(short.access_token.expose_secret(), "THQVJ...");
    assert_eq!(short.expires_in, Duration::from_secs(3600));
}

#[tokio::test]
async fn a_used_code_is_an_auth_error_that_shows_no_secret() {
    let (server, client) = server_and_client().await;
    Mock::given(method("POST"))
        .and(path("/oauth/access_token"))
        .respond_with(json(400, "threads/oauth_error.json"))
        .expect(1)
        .mount(&server)
        .await;
    let err = threads::exchange_code(
        &client,
        &SecretString::from("AQBx-code"),
        "https://a.example/",
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
    assert!(
        err.message().contains("Matching code was not found"),
        "{err}"
    );
    let shown = format!("{err} {err:?}");
    assert!(
        !shown.contains(SECRET) && !shown.contains("AQBx-code"),
        "{shown}"
    );
}

#[tokio::test]
async fn a_short_lived_token_is_exchanged_for_a_long_lived_one() {
    let (server, client) = server_and_client().await;
    Mock::given(method("GET"))
        .and(path("/access_token"))
        .and(query_param("grant_type", "th_exchange_token"))
        .and(query_param("client_secret", SECRET))
        .and(header("authorization", "Bearer THQVJ-short"))
        .respond_with(json(200, "threads/long_lived_token.json"))
        .expect(1)
        .mount(&server)
        .await;
    let long = threads::exchange_for_long_lived(&client, &SecretString::from("THQVJ-short"))
        .await
        .unwrap();
    assert_eq!(long.access_token.expose_secret(), LONG_LIVED);
    // The lifetime Threads reports, never a hard-coded 60 days.
    assert_eq!(long.expires_in, Some(Duration::from_secs(5_183_944)));
}

#[tokio::test]
async fn a_token_older_than_a_day_is_refreshed_with_itself() {
    let (server, client) = server_and_client().await;
    Mock::given(method("GET"))
        .and(path("/refresh_access_token"))
        .and(query_param("grant_type", "th_refresh_token"))
        .and(header(
            "authorization",
            format!("Bearer {LONG_LIVED}").as_str(),
        ))
        .and(NoTokenInUrl)
        .respond_with(json(200, "threads/refresh_token.json"))
        .expect(1)
        .mount(&server)
        .await;
    let refresher = ThreadsTokenRefresher::new(client);
    assert_eq!(refresher.platform(), Platform::Threads);
    let current = credential(
        NOW - Duration::from_secs(25 * 3600),
        NOW + Duration::from_secs(30 * 86_400),
    );
    let fresh = refresher.refresh(&current).await.unwrap();
    assert_eq!(fresh.access_token.expose_secret(), "THQVJ-refreshed");
    assert_eq!(fresh.expires_in, Some(Duration::from_secs(5_183_944)));
    // No separate refresh token: the credential keeps none.
    assert!(fresh.refresh_token.is_none());
}

#[tokio::test(start_paused = true)]
async fn a_token_younger_than_a_day_or_expired_is_not_sent() {
    let (_server, client) = server_and_client().await;
    let refresher = ThreadsTokenRefresher::new(client);
    let young = credential(
        NOW - Duration::from_secs(3600),
        NOW + Duration::from_secs(59 * 86_400),
    );
    // Never due on a first day: a young token asked to refresh was rejected, and Threads will
    // not refresh it, so the profile must be authorised again.
    let err = refresher.refresh(&young).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
    assert!(err.message().contains("24 hours"), "{err}");
    let expired = credential(
        NOW - Duration::from_secs(61 * 86_400),
        NOW - Duration::from_secs(86_400),
    );
    let err = refresher.refresh(&expired).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
    // The catch-all fails the test on any request.
}

#[tokio::test]
async fn a_refresh_threads_refuses_means_authorising_again() {
    let (server, client) = server_and_client().await;
    let cases = fixture("threads/errors.json");
    let case = cases
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "token_expired_refresh")
        .unwrap()
        .clone();
    Mock::given(method("GET"))
        .and(path("/refresh_access_token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(case["body"].clone()))
        .expect(1)
        .mount(&server)
        .await;
    let current = credential(
        NOW - Duration::from_secs(30 * 86_400),
        NOW + Duration::from_secs(86_400),
    );
    let err = ThreadsTokenRefresher::new(client)
        .refresh(&current)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
    assert!(!format!("{err:?}").contains(LONG_LIVED));
}
