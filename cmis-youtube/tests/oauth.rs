//! Google OAuth: the consent URL, the code exchange, the refresh that keeps the refresh token,
//! and `invalid_grant`.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use cmis_core::{
    Credential, CredentialStore, ErrorKind, ExposeSecret, MemoryCredentialStore,
    RefreshingTokenProvider, SecretString, TokenProvider, TokenRefresher,
};
use cmis_youtube::{GoogleTokenRefresher, Pkce, YouTubeClient};
use common::*;
use time::OffsetDateTime;
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, Request, ResponseTemplate};

const REDIRECT: &str = "https://cmis.example/oauth/youtube/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

fn form(req: &Request) -> BTreeSet<(String, String)> {
    url::form_urlencoded::parse(&req.body)
        .into_owned()
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn the_consent_url_matches_the_fixture() {
    let client = YouTubeClient::builder()
        .client_id("1234567890-cmisfixture.apps.googleusercontent.com")
        .client_secret(SecretString::from("s"))
        .build()
        .unwrap();
    let pkce = Pkce::from_verifier(VERIFIER).unwrap();
    let url = client
        .authorize_url(REDIRECT, "cmis-state-7f3a9c", &[], Some(&pkce))
        .unwrap();
    let want = url::Url::parse(fixture_text("oauth_authorize_url.txt").trim()).unwrap();
    assert_eq!(
        (url.scheme(), url.host_str(), url.path()),
        (want.scheme(), want.host_str(), want.path())
    );
    let got: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let expected: Vec<(String, String)> = want.query_pairs().into_owned().collect();
    assert_eq!(got, expected);
    // Byte for byte, too: RFC 3986 encoding, a space as %20.
    assert_eq!(url.as_str(), want.as_str());
}

#[tokio::test]
async fn a_code_is_exchanged_for_tokens_with_the_pkce_verifier() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(|req: &Request| {
            form(req)
                == pairs(&[
                    ("code", "4/0cmis-code"),
                    (
                        "client_id",
                        "1234567890-cmisfixture.apps.googleusercontent.com",
                    ),
                    ("client_secret", "cmis-client-secret"),
                    ("redirect_uri", REDIRECT),
                    ("grant_type", "authorization_code"),
                    ("code_verifier", VERIFIER),
                ])
        })
        .respond_with(
            ResponseTemplate::new(200).set_body_json(fixture("oauth_token_exchange.json")),
        )
        .expect(1)
        .mount(&server)
        .await;
    let pkce = Pkce::from_verifier(VERIFIER).unwrap();
    let at = OffsetDateTime::now_utc();
    let tokens = client(&server)
        .exchange_code("4/0cmis-code", REDIRECT, Some(&pkce))
        .await
        .unwrap();
    assert_eq!(tokens.access_token.expose_secret(), ACCESS);
    assert_eq!(
        tokens.refresh_token.as_ref().unwrap().expose_secret(),
        REFRESH
    );
    assert_eq!(tokens.expires_in, Some(Duration::from_secs(3599)));
    assert!(tokens.has_scope(cmis_youtube::SCOPE_UPLOAD));
    assert!(tokens.has_scope(cmis_youtube::SCOPE_READONLY));
    let credential = tokens.credential(account(), at);
    assert_eq!(
        credential.access_expires_at,
        Some(at + Duration::from_secs(3599))
    );
    assert_eq!(credential.refresh_expires_at, None);
    assert!(!format!("{tokens:?} {credential:?}").contains("cmis-access"));
}

#[tokio::test]
async fn a_time_limited_grant_sets_the_refresh_tokens_expiry() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(fixture("oauth_token_exchange_time_limited.json")),
        )
        .expect(1)
        .mount(&server)
        .await;
    let at = OffsetDateTime::now_utc();
    let tokens = client(&server)
        .exchange_code("4/0cmis-code", REDIRECT, None)
        .await
        .unwrap();
    assert_eq!(
        tokens.refresh_token_expires_in,
        Some(Duration::from_secs(604_799))
    );
    let credential = tokens.credential(account(), at);
    assert_eq!(
        credential.refresh_expires_at,
        Some(at + Duration::from_secs(604_799))
    );
}

#[tokio::test]
async fn a_refresh_without_a_refresh_token_keeps_the_stored_one() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("grant_type=refresh_token"))
        .and(|req: &Request| {
            form(req)
                == pairs(&[
                    (
                        "client_id",
                        "1234567890-cmisfixture.apps.googleusercontent.com",
                    ),
                    ("client_secret", "cmis-client-secret"),
                    ("refresh_token", REFRESH),
                    ("grant_type", "refresh_token"),
                ])
        })
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("oauth_token_refresh.json")))
        .expect(1)
        .mount(&server)
        .await;
    // A stored credential whose access token has expired.
    let store = Arc::new(MemoryCredentialStore::new());
    store
        .put_credential(
            Credential::new(account(), SecretString::from(ACCESS))
                .with_refresh_token(SecretString::from(REFRESH))
                .with_access_expires_at(OffsetDateTime::now_utc() - Duration::from_secs(60)),
        )
        .await
        .unwrap();
    let provider = RefreshingTokenProvider::builder(store.clone())
        .refresher(Arc::new(GoogleTokenRefresher::new(client(&server))))
        .build();

    let token = provider.access_token(&account()).await.unwrap();

    assert_eq!(token.secret.expose_secret(), "ya29.a0AfB_cmis-access-2");
    let stored = store.credential(&account()).await.unwrap().unwrap();
    assert_eq!(
        stored.access_token.expose_secret(),
        "ya29.a0AfB_cmis-access-2"
    );
    assert_eq!(
        stored
            .refresh_token
            .as_ref()
            .map(|t| t.expose_secret().to_owned()),
        Some(REFRESH.to_owned()),
        "the refresh token Google did not resend must be kept"
    );
    assert!(
        stored.access_expires_at.unwrap() > OffsetDateTime::now_utc() + Duration::from_secs(3500)
    );
}

#[tokio::test]
async fn invalid_grant_means_reauthorise_whatever_its_description() {
    for name in [
        "oauth_invalid_grant.json",
        "oauth_invalid_grant_bad_request.json",
    ] {
        let server = server().await;
        Mock::given(method("POST"))
            .and(path("/token"))
            .respond_with(
                ResponseTemplate::new(400)
                    .insert_header("content-type", "application/json; charset=utf-8")
                    .set_body_json(fixture(name)),
            )
            .expect(1)
            .mount(&server)
            .await;
        let refresher = GoogleTokenRefresher::new(client(&server));
        let current = Credential::new(account(), SecretString::from(ACCESS))
            .with_refresh_token(SecretString::from(REFRESH));
        let err = refresher.refresh(&current).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Auth, "{name}");
        assert!(!err.is_retryable());
        assert_eq!(err.platform_code(), Some("invalid_grant"));
        assert!(!err.to_string().contains(REFRESH));
    }
}

#[tokio::test]
async fn a_token_endpoint_out_of_reach_is_transient() {
    // Nothing listens on port 1.
    let client = YouTubeClient::builder()
        .token_url("http://127.0.0.1:1/token")
        .client_id("id")
        .client_secret(SecretString::from("s"))
        .build()
        .unwrap();
    let current = Credential::new(account(), SecretString::from(ACCESS))
        .with_refresh_token(SecretString::from(REFRESH));
    let err = GoogleTokenRefresher::new(client)
        .refresh(&current)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient, "{err}");
}

#[tokio::test]
async fn the_channel_gives_the_account_id_and_uploads_playlist() {
    let server = server().await;
    channels_mine().expect(1).mount(&server).await;
    let channel = client(&server)
        .channels_mine(&SecretString::from(ACCESS))
        .await
        .unwrap();
    assert_eq!(channel.id, CHANNEL);
    assert_eq!(channel.title, "cmis test channel");
    assert_eq!(
        channel.uploads_playlist_id.as_deref(),
        Some("UUcmisTestChannel0000001")
    );
}

#[tokio::test]
async fn an_account_without_a_channel_is_told_to_create_one_without_a_refresh() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/youtube/v3/channels"))
        .respond_with(error_case("youtube_signup_required"))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .channels_mine(&SecretString::from(ACCESS))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert!(!err.is_token_rejected());
    assert_eq!(
        err.user_message(),
        Some("the Google account has no YouTube channel: create one")
    );
}

#[test]
fn bad_urls_are_invalid_input_and_debug_shows_no_secret() {
    for bad in ["not a url", "ftp://example.com", "mailto:a@b"] {
        let err = YouTubeClient::builder().api_url(bad).build().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad}");
    }
    let err = YouTubeClient::builder()
        .token_url("::")
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let builder = YouTubeClient::builder().client_secret(SecretString::from("GOCSPX-secret"));
    assert!(!format!("{builder:?}").contains("GOCSPX"));
    let client = builder.build().unwrap();
    assert!(!format!("{client:?}").contains("GOCSPX"));
}
