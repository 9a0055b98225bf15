//! OAuth v2: authorize URL, code exchange, refresh grant with rotation, invalid_grant, revoke.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use cmis_core::{Credential, ErrorKind, ExposeSecret, Platform, SecretString, TokenRefresher};
use cmis_tiktok::{AuthorizeRequest, Pkce, TikTokClient, TikTokRefresher};
use common::*;
use wiremock::matchers::{body_string, header, method, path};
use wiremock::{Mock, ResponseTemplate};

const FORM: &str = "application/x-www-form-urlencoded";

#[test]
fn the_authorize_url_uses_client_key_comma_scopes_and_a_hex_challenge() {
    let client = TikTokClient::builder()
        .client_key("awclientkey")
        .build()
        .unwrap();
    let pkce = Pkce::from_verifier("a".repeat(43)).unwrap();
    let url = client
        .authorize_url(
            &AuthorizeRequest::new(
                "https://app.example.com/tiktok/callback",
                ["user.info.basic", "video.publish", "video.upload"],
                "st4te",
            )
            .with_pkce(pkce),
        )
        .unwrap();
    assert_eq!(
        url.as_str(),
        "https://www.tiktok.com/v2/auth/authorize/?client_key=awclientkey&response_type=code\
         &scope=user.info.basic,video.publish,video.upload\
         &redirect_uri=https%3A%2F%2Fapp.example.com%2Ftiktok%2Fcallback&state=st4te\
         &code_challenge=66d34fba71f8f450f7e45598853e53bfc23bbd129027cbb131a2f4ffd7878cd0\
         &code_challenge_method=S256"
    );
}

#[test]
fn bad_authorize_requests_are_invalid_input() {
    let client = TikTokClient::builder().client_key("k").build().unwrap();
    for (uri, state) in [
        ("https://app.example.com/cb?x=1", "s"),
        ("http://app.example.com/cb", "s"),
        ("https://app.example.com/cb", ""),
    ] {
        let err = client
            .authorize_url(&AuthorizeRequest::new(uri, ["video.publish"], state))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{uri}");
    }
    let no_key = TikTokClient::builder().build().unwrap();
    assert!(
        no_key
            .authorize_url(&AuthorizeRequest::new("https://a.example/cb", ["x"], "s"))
            .is_err()
    );
}

#[tokio::test]
async fn the_code_exchange_posts_the_documented_form_and_reads_the_flat_token() {
    let server = server().await;
    let verifier = "v".repeat(50);
    Mock::given(method("POST"))
        .and(path("/v2/oauth/token/"))
        .and(header("content-type", FORM))
        .and(body_string(format!(
            "client_key=awclientkey&client_secret=client-secret-value&code=code*123%21\
             &grant_type=authorization_code\
             &redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb&code_verifier={verifier}"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("token.json")))
        .expect(1)
        .mount(&server)
        .await;
    let pkce = Pkce::from_verifier(verifier).unwrap();
    // The code arrives URL-encoded in the callback; TikTok wants it decoded.
    let grant = client(&server)
        .exchange_code("code%2A123%21", "https://app.example.com/cb", Some(&pkce))
        .await
        .unwrap();
    assert_eq!(grant.open_id, OPEN_ID);
    assert_eq!(grant.access_token.expose_secret(), "act.new-access");
    assert_eq!(grant.refresh_token.expose_secret(), "rft.new-refresh");
    assert_eq!(grant.expires_in, Duration::from_secs(7200));
    assert_eq!(grant.refresh_expires_in, Duration::from_secs(15_552_000));
    assert_eq!(
        grant.scopes,
        BTreeSet::from(["user.info.basic", "video.publish", "video.upload"].map(String::from))
    );
    let dbg = format!("{grant:?}");
    assert!(!dbg.contains("act.new-access") && !dbg.contains("rft.new-refresh"));
}

#[tokio::test]
async fn the_refresher_uses_the_refresh_grant_and_returns_the_rotated_token_and_lifetimes() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/v2/oauth/token/"))
        .and(header("content-type", FORM))
        .and(body_string(
            "client_key=awclientkey&client_secret=client-secret-value\
             &grant_type=refresh_token&refresh_token=rft.old-refresh",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("token.json")))
        .expect(1)
        .mount(&server)
        .await;
    let refresher = TikTokRefresher::new(client(&server));
    assert_eq!(refresher.platform(), Platform::TikTok);
    let current = Credential::new(account(), SecretString::from(TOKEN))
        .with_refresh_token(SecretString::from(REFRESH));
    let refreshed = refresher.refresh(&current).await.unwrap();
    assert_eq!(refreshed.access_token.expose_secret(), "act.new-access");
    assert_eq!(
        refreshed.refresh_token.unwrap().expose_secret(),
        "rft.new-refresh"
    );
    // From the response, not a hard-coded 24 h.
    assert_eq!(refreshed.expires_in, Some(Duration::from_secs(7200)));
    assert_eq!(
        refreshed.refresh_expires_in,
        Some(Duration::from_secs(15_552_000))
    );
}

#[tokio::test]
async fn invalid_grant_is_an_auth_error_with_the_log_id() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/v2/oauth/token/"))
        .respond_with(ResponseTemplate::new(400).set_body_json(fixture("oauth_invalid_grant.json")))
        .expect(1)
        .mount(&server)
        .await;
    let refresher = TikTokRefresher::new(client(&server));
    let current = Credential::new(account(), SecretString::from(TOKEN))
        .with_refresh_token(SecretString::from(REFRESH));
    let err = refresher.refresh(&current).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(err.platform_code(), Some("invalid_grant"));
    assert_eq!(err.trace_id(), Some("202206221854370101130062072500FFA2"));
    assert!(!err.to_string().contains(REFRESH));
}

#[tokio::test]
async fn invalid_grant_on_http_200_is_still_an_error() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/v2/oauth/token/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("oauth_invalid_grant.json")))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .refresh_token(&SecretString::from(REFRESH))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
}

#[tokio::test]
async fn a_credential_without_refresh_token_needs_reauthorisation() {
    let server = server().await;
    let refresher = TikTokRefresher::new(client(&server));
    let err = refresher
        .refresh(&Credential::new(account(), SecretString::from(TOKEN)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
}

#[tokio::test]
async fn revoke_posts_the_form_and_accepts_an_empty_object() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/v2/oauth/revoke/"))
        .and(header("content-type", FORM))
        .and(body_string(
            "client_key=awclientkey&client_secret=client-secret-value&token=act.old-access",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("revoke.json")))
        .expect(1)
        .mount(&server)
        .await;
    client(&server)
        .revoke(&SecretString::from(TOKEN))
        .await
        .unwrap();
}

#[tokio::test]
async fn oauth_calls_without_client_credentials_are_refused_before_sending() {
    let server = server().await;
    let client = TikTokClient::builder()
        .api_base_url(server.uri())
        .build()
        .unwrap();
    let err = client
        .refresh_token(&SecretString::from(REFRESH))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let dbg = format!(
        "{:?}",
        TikTokClient::builder()
            .client_secret(SecretString::from("client-secret-value"))
            .build()
            .unwrap()
    );
    assert!(!dbg.contains("client-secret-value"), "{dbg}");
}

#[tokio::test]
async fn a_refresh_lost_to_a_server_error_is_transient_for_the_provider() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/v2/oauth/token/"))
        .respond_with(ResponseTemplate::new(503).set_body_string("upstream unavailable"))
        .expect(1)
        .mount(&server)
        .await;
    let current = Credential::new(account(), SecretString::from(TOKEN))
        .with_refresh_token(SecretString::from(REFRESH));
    let err = TikTokRefresher::new(client(&server))
        .refresh(&current)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient);
}
