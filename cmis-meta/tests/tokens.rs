//! Tokens: long-lived exchange, `debug_token`, Page tokens, refreshers, re-authorisation
//! deadlines.

mod common;

use std::sync::Arc;
use std::time::Duration;

use cmis_core::{
    AccountRef, Credential, CredentialStore, ErrorKind, MemoryCredentialStore, MemoryNotifier,
    NotificationKind, Platform, RefreshingTokenProvider, SecretString, TokenProvider,
    TokenRefresher, TokioClock,
};
use cmis_meta::{
    FacebookTokenRefresher, InstagramLoginRefresher, check_reauth_deadline, debug_token,
    exchange_for_long_lived, notify_reauth_deadline, page_tokens,
};
use common::*;
use secrecy::ExposeSecret;
use time::OffsetDateTime;
use time::macros::datetime;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Match, Mock, Request};

const NOW: OffsetDateTime = datetime!(2026-11-25 22:00 UTC);

struct NoAuthorization;

impl Match for NoAuthorization {
    fn matches(&self, request: &Request) -> bool {
        !request.headers.contains_key("authorization")
    }
}

#[tokio::test]
async fn long_lived_exchange_sends_the_documented_query() {
    let h = harness().await;
    Mock::given(method("GET"))
        .and(path("/v25.0/oauth/access_token"))
        .and(query_param("grant_type", "fb_exchange_token"))
        .and(query_param("client_id", APP_ID))
        .and(query_param("client_secret", "APP-SECRET"))
        .and(query_param("fb_exchange_token", "EAAB-short"))
        .and(NoAuthorization)
        .respond_with(json(200, "long_lived.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    let t = exchange_for_long_lived(&h.client, &SecretString::from("EAAB-short"))
        .await
        .unwrap();
    assert_eq!(t.access_token.expose_secret(), "EAAB-long-lived");
    assert_eq!(t.expires_in, Some(Duration::from_secs(5_183_944)));
}

#[tokio::test]
async fn debug_token_uses_the_app_token_header_and_reads_the_deadlines() {
    let h = harness().await;
    Mock::given(method("GET"))
        .and(path("/v25.0/debug_token"))
        .and(query_param("input_token", "EAAB-page-1"))
        .and(header(
            "authorization",
            format!("Bearer {APP_ID}|APP-SECRET").as_str(),
        ))
        .respond_with(json(200, "debug_token.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    let info = debug_token(&h.client, &SecretString::from("EAAB-page-1"))
        .await
        .unwrap();
    assert!(info.is_valid);
    assert_eq!(info.token_type.as_deref(), Some("PAGE"));
    assert_eq!(info.expires_at, None, "expires_at 0 means never");
    assert_eq!(
        info.data_access_expires_at,
        Some(OffsetDateTime::from_unix_timestamp(1_795_000_000).unwrap())
    );
    assert!(info.scopes.contains("pages_manage_posts"));
    assert_eq!(info.user_id.as_deref(), Some("10000000000000001"));
    let cred = info.apply_to(Credential::new(page(), SecretString::from("EAAB-page-1")));
    assert_eq!(cred.data_access_expires_at, info.data_access_expires_at);
    assert!(cred.has_scope("pages_show_list"));
}

#[tokio::test]
async fn page_tokens_follow_the_cursor() {
    let h = harness().await;
    Mock::given(method("GET"))
        .and(path("/v25.0/me/accounts"))
        .and(query_param("fields", "id,name,access_token,tasks"))
        .and(query_param("after", "QVFIUk2"))
        .and(header("authorization", "Bearer EAAB-user"))
        .respond_with(json(200, "me_accounts_2.json"))
        .expect(1)
        .with_priority(1)
        .mount(&h.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v25.0/me/accounts"))
        .and(query_param("fields", "id,name,access_token,tasks"))
        .and(header("authorization", "Bearer EAAB-user"))
        .respond_with(json(200, "me_accounts_1.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    let pages = page_tokens(&h.client, &SecretString::from("EAAB-user"))
        .await
        .unwrap();
    assert_eq!(pages.len(), 2);
    assert_eq!(pages[0].id, "1234567890");
    assert_eq!(pages[0].access_token.expose_secret(), "EAAB-page-1");
    assert!(pages[0].can_publish());
    assert!(!pages[1].can_publish());
    assert!(!format!("{pages:?}").contains("EAAB-page"));
}

#[tokio::test]
async fn a_page_token_cannot_be_refreshed_and_the_provider_asks_for_reauthorisation() {
    let h = harness().await;
    let refresher = FacebookTokenRefresher::new(h.client.clone());
    let page_cred = Credential::new(page(), SecretString::from("EAAB-page-1"));
    let err = refresher.refresh(&page_cred).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);

    // Through the core provider: the platform rejected the token (190), it is invalidated, and
    // the forced refresh turns into a re-authorisation notification, without any HTTP call.
    let store = Arc::new(MemoryCredentialStore::new());
    store.put_credential(page_cred).await.unwrap();
    let notifier = Arc::new(MemoryNotifier::new());
    let provider = RefreshingTokenProvider::builder(store)
        .refresher(Arc::new(refresher))
        .notifier(notifier.clone())
        .build();
    let token = provider.access_token(&page()).await.unwrap();
    provider.invalidate(&page(), &token).await;
    let err = provider.access_token(&page()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    let sent = notifier.notifications();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].kind, NotificationKind::ReauthRequired);
}

#[tokio::test]
async fn a_long_lived_user_token_is_refreshed_by_exchange() {
    let h = harness().await;
    Mock::given(method("GET"))
        .and(path("/v25.0/oauth/access_token"))
        .and(query_param("grant_type", "fb_exchange_token"))
        .and(query_param("fb_exchange_token", "EAAB-user-old"))
        .respond_with(json(200, "long_lived.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    let cred = Credential::new(page(), SecretString::from("EAAB-user-old"))
        .with_access_expires_at(NOW + Duration::from_secs(3600));
    let t = FacebookTokenRefresher::new(h.client.clone())
        .refresh(&cred)
        .await
        .unwrap();
    assert_eq!(t.access_token.expose_secret(), "EAAB-long-lived");
}

fn ig_login() -> AccountRef {
    AccountRef::new(cmis_core::TenantId::new("acme"), Platform::Instagram, IG)
}

#[tokio::test(start_paused = true)]
async fn instagram_login_tokens_younger_than_24_hours_are_not_refreshed() {
    let h = harness_with(|b| b.clock(Arc::new(TokioClock::starting_at(NOW)))).await;
    let cred = Credential::new(ig_login(), SecretString::from("IGQW-young"))
        .with_issued_at(NOW - Duration::from_secs(2 * 3600));
    let err = InstagramLoginRefresher::new(h.client.clone())
        .refresh(&cred)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(22 * 3600)));
}

#[tokio::test]
async fn instagram_login_refresh_sends_the_token_in_the_header() {
    let ig_host = wiremock::MockServer::start().await;
    catch_all(&ig_host).await;
    let uri = ig_host.uri();
    let h = harness_with(move |b| {
        b.instagram_graph_url(uri)
            .clock(Arc::new(TokioClock::starting_at(NOW)))
    })
    .await;
    Mock::given(method("GET"))
        .and(path("/refresh_access_token"))
        .and(query_param("grant_type", "ig_refresh_token"))
        .and(header("authorization", "Bearer IGQW-old"))
        .and(NoTokenInUrl)
        .respond_with(json(200, "ig_refresh.json"))
        .expect(1)
        .mount(&ig_host)
        .await;
    let store = Arc::new(MemoryCredentialStore::new());
    store
        .put_credential(
            Credential::new(ig_login(), SecretString::from("IGQW-old"))
                .with_issued_at(NOW - Duration::from_secs(50 * 24 * 3600))
                .with_access_expires_at(NOW + Duration::from_secs(60)),
        )
        .await
        .unwrap();
    let provider = RefreshingTokenProvider::builder(store.clone())
        .refresher(Arc::new(InstagramLoginRefresher::new(h.client.clone())))
        .build();
    let token = provider.access_token(&ig_login()).await.unwrap();
    assert_eq!(token.secret.expose_secret(), "IGQW-refreshed");
    let stored = store.credential(&ig_login()).await.unwrap().unwrap();
    assert!(stored.access_expires_at.is_some());
}

#[tokio::test]
async fn a_refused_instagram_refresh_is_auth() {
    let ig_host = wiremock::MockServer::start().await;
    catch_all(&ig_host).await;
    let uri = ig_host.uri();
    let h = harness_with(move |b| b.instagram_graph_url(uri)).await;
    Mock::given(method("GET"))
        .and(path("/refresh_access_token"))
        .respond_with(json(400, "error_190_463.json"))
        .expect(1)
        .mount(&ig_host)
        .await;
    let cred = Credential::new(ig_login(), SecretString::from("IGQW-dead"));
    let err = InstagramLoginRefresher::new(h.client.clone())
        .refresh(&cred)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
}

#[tokio::test]
async fn reauthorisation_is_reported_days_before_data_access_expires() {
    let warn = Duration::from_secs(14 * 24 * 3600);
    let soon = Credential::new(page(), SecretString::from("EAAB-page-1"))
        .with_data_access_expires_at(NOW + Duration::from_secs(5 * 24 * 3600));
    let n = check_reauth_deadline(&soon, NOW, warn).unwrap();
    assert_eq!(n.kind, NotificationKind::ReauthRequired);
    assert_eq!(n.deadline, soon.data_access_expires_at);
    assert_eq!(n.account.as_ref(), Some(&page()));
    assert!(!n.message.contains("EAAB"));

    let later = Credential::new(page(), SecretString::from("t"))
        .with_data_access_expires_at(NOW + Duration::from_secs(40 * 24 * 3600));
    assert!(check_reauth_deadline(&later, NOW, warn).is_none());

    // A Page token that itself expires (derived from a short-lived token) counts too.
    let expiring = Credential::new(page(), SecretString::from("t"))
        .with_access_expires_at(NOW + Duration::from_secs(3600));
    assert!(check_reauth_deadline(&expiring, NOW, warn).is_some());
    // An Instagram Login token is refreshable: its expiry alone is not a re-auth deadline.
    let ig = Credential::new(ig_login(), SecretString::from("t"))
        .with_access_expires_at(NOW + Duration::from_secs(3600));
    assert!(check_reauth_deadline(&ig, NOW, warn).is_none());

    let notifier = MemoryNotifier::new();
    assert!(
        notify_reauth_deadline(&notifier, &soon, NOW, warn)
            .await
            .unwrap()
    );
    assert!(
        !notify_reauth_deadline(&notifier, &later, NOW, warn)
            .await
            .unwrap()
    );
    assert_eq!(notifier.notifications().len(), 1);
}
