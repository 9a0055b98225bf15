//! The fake Threads API's tokens: the code exchange, short-lived for long-lived, the refresh,
//! expiry, and the errors of each.

mod threads_common;

use std::time::Duration;

use cmis_core::ExposeSecret;
use cmis_sandbox::{Fault, ThreadsEndpoint};
use reqwest::StatusCode;
use serde_json::json;
use threads_common::*;

const REDIRECT: &str = "https://app.example.com/threads/callback";

async fn exchange_code(s: &cmis_sandbox::Sandbox, form: &[(&str, &str)]) -> Answer {
    answer(
        http()
            .post(format!("{}/oauth/access_token", s.threads().url()))
            .form(form),
    )
    .await
}

async fn to_long_lived(s: &cmis_sandbox::Sandbox, short: &str, secret: &str) -> Answer {
    answer(
        http()
            .get(format!("{}/access_token", s.threads().url()))
            .query(&[
                ("grant_type", "th_exchange_token"),
                ("client_secret", secret),
                ("access_token", short),
            ]),
    )
    .await
}

async fn refresh(s: &cmis_sandbox::Sandbox, long: &str) -> Answer {
    answer(
        http()
            .get(format!("{}/refresh_access_token", s.threads().url()))
            .query(&[("grant_type", "th_refresh_token"), ("access_token", long)]),
    )
    .await
}

#[tokio::test]
async fn a_code_becomes_a_short_then_a_long_lived_token_that_refreshes_after_a_day() {
    let (s, _) = sandbox().await;
    let threads = s.threads();
    let (app_id, secret) = (threads.app_id(), threads.app_secret());
    let secret = secret.expose_secret();
    let code = threads.issue_code(USER, REDIRECT);
    let form = [
        ("client_id", app_id.as_str()),
        ("client_secret", secret),
        ("code", code.as_str()),
        ("grant_type", "authorization_code"),
        ("redirect_uri", REDIRECT),
    ];
    let short = exchange_code(&s, &form).await;
    assert_eq!(short.status, StatusCode::OK, "{}", short.raw);
    // Fixture `oauth_access_token.json`: `user_id` is a JSON number, exactly the user's id.
    assert!(
        short.raw.contains(&format!("\"user_id\":{USER}")),
        "{}",
        short.raw
    );
    let short_token = short.body["access_token"].as_str().unwrap().to_owned();
    assert!(short_token.starts_with("TH"));
    assert_eq!(
        get(&s, &short_token, "me", &[]).await.body,
        json!({"id": USER})
    );

    // A code works once: fixture `oauth_error.json`, verbatim.
    let again = exchange_code(&s, &form).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        again.body,
        json!({"error_type": "OAuthException", "code": 400,
               "error_message": "Matching code was not found or was already used"})
    );

    let long = to_long_lived(&s, &short_token, secret).await;
    assert_eq!(long.status, StatusCode::OK, "{}", long.raw);
    assert_eq!(long.body["token_type"], "bearer");
    assert_eq!(long.body["expires_in"], 5_183_944);
    let long_token = long.body["access_token"].as_str().unwrap().to_owned();
    let twice = to_long_lived(&s, &long_token, secret).await;
    assert_eq!(
        twice.error().0,
        100,
        "a long-lived token is not exchanged again"
    );
    let wrong = to_long_lived(&s, &short_token, "not-the-secret").await;
    assert_eq!(wrong.error().0, 101);

    // Under 24 hours old: refused, and the token keeps working.
    let young = refresh(&s, &long_token).await;
    assert_eq!(young.status, StatusCode::BAD_REQUEST);
    assert_eq!(young.error().0, 100, "{}", young.raw);
    assert_eq!(
        refresh(&s, &short_token).await.error().0,
        100,
        "short-lived"
    );
    threads.advance_clock(Duration::from_secs(25 * 3600));
    // The short-lived token is long gone (1 hour).
    let expired = get(&s, &short_token, "me", &[]).await;
    assert_eq!((expired.error().0, expired.error().1), (190, Some(463)));
    let refreshed = refresh(&s, &long_token).await;
    assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.raw);
    assert_eq!(refreshed.body["token_type"], "bearer");
    assert_eq!(refreshed.body["expires_in"], 5_183_944);
    let new_token = refreshed.body["access_token"].as_str().unwrap().to_owned();
    assert_ne!(new_token, long_token);
    assert_eq!(get(&s, &new_token, "me", &[]).await.status, StatusCode::OK);
    assert_eq!(get(&s, &long_token, "me", &[]).await.status, StatusCode::OK);

    // The old token dies 60 days after its issue; the refreshed one lives 60 days from the
    // refresh.
    threads.advance_clock(Duration::from_secs(5_183_944 - 25 * 3600));
    let dead = get(&s, &long_token, "me", &[]).await;
    let (code, sub, message, kind) = dead.error();
    assert_eq!((code, sub, kind), (190, Some(463), "OAuthException"));
    assert!(
        message.starts_with("Error validating access token: Session has expired"),
        "{message}"
    );
    let too_late = refresh(&s, &long_token).await;
    assert_eq!((too_late.error().0, too_late.error().1), (190, Some(463)));
    assert_eq!(get(&s, &new_token, "me", &[]).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_code_exchange_refuses_a_wrong_app_secret_or_redirect() {
    let (s, _) = sandbox().await;
    let threads = s.threads();
    let app_id = threads.app_id();
    let secret = threads.app_secret().expose_secret().to_owned();
    let code = threads.issue_code(USER, REDIRECT);
    let with = |client_id: &str, secret: &str, redirect: &str| {
        [
            ("client_id", client_id.to_owned()),
            ("client_secret", secret.to_owned()),
            ("code", code.clone()),
            ("grant_type", "authorization_code".to_owned()),
            ("redirect_uri", redirect.to_owned()),
        ]
    };
    let slash = format!("{REDIRECT}/");
    let cases = [
        // The Facebook app id of the same app (the Meta fake's default), not the Threads one.
        (
            with("1234567890123456", &secret, REDIRECT),
            "Invalid platform app",
        ),
        (
            with(&app_id, "wrong-secret", REDIRECT),
            "Error validating client secret.",
        ),
        // The dashboard's trailing slash is not the same URI.
        (
            with(&app_id, &secret, &slash),
            "Error validating verification code",
        ),
    ];
    for (form, message) in cases {
        let a = answer(
            http()
                .post(format!("{}/oauth/access_token", threads.url()))
                .form(&form),
        )
        .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.raw);
        assert_eq!(a.body["error_type"], "OAuthException");
        assert_eq!(a.body["code"], 400);
        let got = a.body["error_message"].as_str().unwrap();
        assert!(got.starts_with(message), "{got}");
        assert!(a.body.get("error").is_none(), "not the Graph envelope");
    }
    // None of those used the code up.
    let form = with(&app_id, &secret, REDIRECT);
    let ok = answer(
        http()
            .post(format!("{}/oauth/access_token", threads.url()))
            .form(&form),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.raw);
}

#[tokio::test]
async fn missing_unknown_and_expired_tokens_are_refused() {
    let (s, token) = sandbox().await;
    let none = answer(http().get(api(&s, "me"))).await;
    assert_eq!(
        (none.status, none.error().0),
        (StatusCode::BAD_REQUEST, 104)
    );
    let unknown = get(&s, "THnot-a-token", "me", &[]).await;
    assert_eq!((unknown.error().0, unknown.error().1), (190, None));
    // The token may ride in the query too.
    let query = answer(http().get(api(&s, "me")).query(&[("access_token", &token)])).await;
    assert_eq!(query.body, json!({"id": USER}));

    s.threads()
        .inject(ThreadsEndpoint::CreateContainer, Fault::ExpiredToken, 1);
    let a = create(&s, &token, &[("media_type", "TEXT"), ("text", "hi")]).await;
    assert_eq!((a.error().0, a.error().1), (190, Some(463)));
    let b = create(&s, &token, &[("media_type", "TEXT"), ("text", "hi")]).await;
    assert_eq!(b.error().0, 190, "the token stays expired");
    let fresh = s.threads().issue_token(USER);
    let c = create(
        &s,
        fresh.expose_secret(),
        &[("media_type", "TEXT"), ("text", "hi")],
    )
    .await;
    assert_eq!(c.status, StatusCode::OK);
}

#[tokio::test]
async fn token_calls_take_injected_faults_and_the_versioned_paths() {
    let (s, token) = sandbox().await;
    s.threads().advance_clock(Duration::from_secs(25 * 3600));
    s.threads()
        .inject(ThreadsEndpoint::RefreshToken, Fault::ServerError, 1);
    let failed = refresh(&s, &token).await;
    assert_eq!(failed.status, StatusCode::INTERNAL_SERVER_ERROR);
    // brightbean calls the versioned path (brief §0); it is served too.
    let ok = answer(
        http()
            .get(api(&s, "refresh_access_token"))
            .query(&[("grant_type", "th_refresh_token"), ("access_token", &token)]),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.raw);
    let wrong = answer(
        http()
            .get(format!("{}/refresh_access_token", s.threads().url()))
            .query(&[("grant_type", "ig_refresh_token"), ("access_token", &token)]),
    )
    .await;
    assert_eq!(wrong.error().0, 100);
}

#[tokio::test]
async fn tokens_act_for_their_own_user_and_only_v1_0_is_served() {
    let (s, token) = sandbox().await;
    let theirs = answer(
        http()
            .post(api(&s, &format!("{OTHER}/threads")))
            .bearer_auth(&token)
            .form(&[("media_type", "TEXT"), ("text", "not mine")]),
    )
    .await;
    assert_eq!(
        (theirs.status, theirs.error().0),
        (StatusCode::BAD_REQUEST, 10)
    );
    let missing = get(&s, &token, "1234567", &[("fields", "id,permalink")]).await;
    let (code, sub, message, _) = missing.error();
    assert_eq!((code, sub), (100, Some(33)));
    assert!(message.contains("'1234567' does not exist"), "{message}");
    let old = answer(
        http()
            .get(format!("{}/v2.0/{USER}/threads", s.threads().url()))
            .bearer_auth(&token),
    )
    .await;
    assert_eq!((old.status, old.error().0), (StatusCode::BAD_REQUEST, 2500));
    let me = get(&s, &token, "me", &[("fields", "id,username")]).await;
    assert_eq!(me.body, json!({"id": USER, "username": USERNAME}));
}
