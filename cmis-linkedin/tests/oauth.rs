//! OAuth from the documented requests and answers: the authorization URL, the code exchange,
//! programmatic refresh (the refresh token's clock is never reset) and refusals.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use cmis_core::{CredentialStore, ErrorKind, ExposeSecret, SecretString};
use common::*;
use time::OffsetDateTime;
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, ResponseTemplate};

fn pairs(url: &str) -> BTreeMap<String, String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[tokio::test]
async fn the_authorize_url_matches_the_documented_one() {
    let server = server().await;
    let client = cmis_linkedin::LinkedInClient::builder()
        .client_id("861hhm46p48to2")
        .build()
        .unwrap();
    let url = client
        .authorize_url(
            "https://dev.example.com/auth/linkedin/callback",
            "DCEeFWf45A53sdfKef424",
            cmis_linkedin::DEFAULT_SCOPES,
        )
        .unwrap();
    let want = fixture_text("oauth_authorize_url.txt");
    assert_eq!(pairs(url.as_str()), pairs(&want));
    assert!(
        url.as_str()
            .starts_with("https://www.linkedin.com/oauth/v2/authorization?")
    );
    assert!(client.authorize_url("https://x", "", &["openid"]).is_err());
    drop(server);
}

#[tokio::test]
async fn a_code_exchange_reads_every_lifetime_from_the_answer() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/oauth/v2/accessToken"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string_contains("grant_type=authorization_code"))
        .and(body_string_contains("code=AQTQmah11lalyH65DAIivsjsAQV5P"))
        .and(body_string_contains("client_id=861hhm46p48to2"))
        .and(body_string_contains("client_secret=app-secret"))
        .and(body_string_contains(
            "redirect_uri=https%3A%2F%2Fdev.example.com%2Fauth%2Flinkedin%2Fcallback",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("oauth_access_token.json")))
        .expect(1)
        .mount(&server)
        .await;
    let before = OffsetDateTime::now_utc();
    let tokens = client(&server)
        .exchange_code(
            "AQTQmah11lalyH65DAIivsjsAQV5P",
            "https://dev.example.com/auth/linkedin/callback",
        )
        .await
        .unwrap();
    assert_eq!(tokens.expires_in, Duration::from_secs(5_184_000));
    assert_eq!(
        tokens.refresh_expires_in,
        Some(Duration::from_secs(31_536_000))
    );
    assert!(tokens.scopes.contains("w_member_social"));
    assert!(tokens.scopes.contains("w_organization_social"));
    assert_eq!(tokens.scopes.len(), 6, "comma-separated scopes are split");
    let cred = tokens.credential(account(MEMBER));
    let access = cred.access_expires_at.unwrap();
    assert!(access >= before + Duration::from_secs(5_184_000));
    assert!(cred.refresh_expires_at.unwrap() > access);
    // No secret in Debug.
    let shown = format!("{tokens:?}");
    assert!(!shown.contains("AQXNnd2k"), "{shown}");
}

#[tokio::test]
async fn a_refresh_stores_the_returned_refresh_token_and_its_remaining_life() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/oauth/v2/accessToken"))
        .and(body_string_contains("grant_type=refresh_token"))
        .and(body_string_contains("refresh_token=refresh-old"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("oauth_refresh.json")))
        .expect(1)
        .mount(&server)
        .await;
    let env = env(&server, MEMBER).await;
    // An expired access token makes the provider refresh.
    let mut cred = env
        .store
        .credential(&account(MEMBER))
        .await
        .unwrap()
        .unwrap();
    cred.access_expires_at = Some(OffsetDateTime::now_utc() - Duration::from_secs(1));
    env.store.put_credential(cred).await.unwrap();
    let token = env
        .ctx
        .tokens()
        .access_token(&account(MEMBER))
        .await
        .unwrap();
    assert!(token.secret.expose_secret().starts_with("BBBB2k"));
    let stored = env
        .store
        .credential(&account(MEMBER))
        .await
        .unwrap()
        .unwrap();
    let want = fixture("oauth_refresh.json");
    assert_eq!(
        stored.refresh_token.unwrap().expose_secret(),
        want["refresh_token"].as_str().unwrap()
    );
    // 26 438 400 s = 306 days left: the refresh token's clock was not reset to 365 days.
    let left = stored.refresh_expires_at.unwrap() - OffsetDateTime::now_utc();
    assert!(left <= time::Duration::days(306), "{left}");
    assert!(left > time::Duration::days(305), "{left}");
}

#[tokio::test]
async fn a_refused_refresh_means_authorise_again() {
    for case in [
        "oauth_refresh_invalid_grant",
        "oauth_refresh_invalid_request_docs",
    ] {
        let server = server().await;
        Mock::given(method("POST"))
            .and(path("/oauth/v2/accessToken"))
            .respond_with(error_case(case))
            .expect(1)
            .mount(&server)
            .await;
        let err = client(&server)
            .refresh(&SecretString::from("dead"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Auth, "{case}: {err}");
    }
}

#[tokio::test]
async fn a_credential_without_a_refresh_token_cannot_be_refreshed() {
    use cmis_core::{Credential, TokenRefresher};
    let server = server().await;
    let refresher = cmis_linkedin::LinkedInRefresher::new(client(&server));
    let cred = Credential::new(account(MEMBER), SecretString::from("a"));
    let err = refresher.refresh(&cred).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert!(err.message().contains("approved"), "{err}");
}
