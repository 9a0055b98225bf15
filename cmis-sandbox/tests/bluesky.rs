//! The fake Bluesky PDS's sessions, tokens, `createSession` limits, handles and faults against
//! the documented wire rules (docs/bluesky-api.md, the atproto lexicons and the reference PDS),
//! driven with a plain HTTP client: no connector is involved.

mod bluesky_common;

use std::time::Duration;

use bluesky_common::*;
use cmis_core::ExposeSecret;
use cmis_sandbox::{BlueskyAccount, BlueskyEndpoint, Fault};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn create_session_takes_a_handle_or_did_and_answers_real_looking_jwts() {
    let s = sandbox().await;
    let a = login(&s, "Alice.bsky.social", APP_PASSWORD).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body["handle"], HANDLE);
    assert_eq!(a.body["did"], DID);
    assert_eq!(a.body["active"], true);
    let now = s.bluesky().unix_time();
    let (header, payload) = claims(a.body["accessJwt"].as_str().unwrap());
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(payload["scope"], "com.atproto.appPass");
    assert_eq!(payload["sub"], DID);
    assert_eq!(payload["aud"], s.bluesky().service_did().as_str());
    let iat = payload["iat"].as_i64().unwrap();
    assert!(
        (now - 2..=now).contains(&iat),
        "iat {iat} is the sandbox's now {now}"
    );
    assert_eq!(payload["exp"].as_i64().unwrap() - iat, 120 * 60);
    let (header, payload) = claims(a.body["refreshJwt"].as_str().unwrap());
    assert_eq!(header["typ"], "refresh+jwt");
    assert_eq!(payload["scope"], "com.atproto.refresh");
    assert!(payload["jti"].is_string());
    assert_eq!(
        payload["exp"].as_i64().unwrap() - payload["iat"].as_i64().unwrap(),
        90 * 86_400
    );

    assert_eq!(login(&s, DID, APP_PASSWORD).await.status, StatusCode::OK);
    for (identifier, password) in [(HANDLE, "wrong"), ("nobody.bsky.social", APP_PASSWORD)] {
        let a = login(&s, identifier, password).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            a.error(),
            ("AuthenticationRequired", "Invalid identifier or password")
        );
    }
    let a = procedure(
        &s,
        "com.atproto.server.createSession",
        None,
        Some(json!({"identifier": HANDLE})),
    )
    .await;
    assert_eq!(
        (a.status, a.error().0),
        (StatusCode::BAD_REQUEST, "InvalidRequest")
    );
    assert_eq!(s.bluesky().create_session_calls(), 5);
    assert_eq!(s.bluesky().sessions_created(), 2);
}

#[tokio::test]
async fn the_main_password_of_an_email_2fa_account_needs_the_sign_in_code() {
    let s = sandbox().await;
    let mut account = BlueskyAccount::new(
        "carol.bsky.social",
        "did:plc:carolcarolcarolcarol2345",
        "cccc-cccc-cccc-cccc",
    );
    account.main_password = Some("hunter2".into());
    account.email_auth_factor = true;
    s.bluesky().add_account(account);
    let a = login(&s, "carol.bsky.social", "hunter2").await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        a.error(),
        (
            "AuthFactorTokenRequired",
            "A sign in code has been sent to your email address"
        )
    );
    let code = s.bluesky().sign_in_code("carol.bsky.social").unwrap();
    let with_code = |token: &str| json!({"identifier": "carol.bsky.social", "password": "hunter2", "authFactorToken": token});
    let a = procedure(
        &s,
        "com.atproto.server.createSession",
        None,
        Some(with_code("WRONG-CODE1")),
    )
    .await;
    assert_eq!(a.error().0, "InvalidToken");
    let a = procedure(
        &s,
        "com.atproto.server.createSession",
        None,
        Some(with_code(&code)),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(
        claims(a.body["accessJwt"].as_str().unwrap()).1["scope"],
        "com.atproto.access"
    );
    // The app password needs no code.
    assert_eq!(
        login(&s, "carol.bsky.social", "cccc-cccc-cccc-cccc")
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn create_session_allows_30_calls_per_5_minutes_with_an_absolute_reset() {
    let s = sandbox().await;
    let first_call = s.bluesky().unix_time();
    for i in 0..30u32 {
        // Refused passwords count too.
        let password = if i % 2 == 0 { APP_PASSWORD } else { "wrong" };
        let a = login(&s, HANDLE, password).await;
        assert_ne!(a.status, StatusCode::TOO_MANY_REQUESTS, "call {i}");
        assert_eq!(a.header("ratelimit-limit"), "30");
        assert_eq!(a.header("ratelimit-remaining"), (29 - i).to_string());
    }
    let a = login(&s, DID, APP_PASSWORD).await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(a.error(), ("RateLimitExceeded", "Rate Limit Exceeded"));
    assert_eq!(a.header("ratelimit-limit"), "30");
    assert_eq!(a.header("ratelimit-remaining"), "0");
    assert_eq!(a.header("ratelimit-policy"), "30;w=300");
    let reset: i64 = a.header("ratelimit-reset").parse().unwrap();
    assert!(
        (first_call + 299..=first_call + 301).contains(&reset),
        "Reset is the window's end in Unix seconds ({reset}), not a delay"
    );
    let retry_after: i64 = a.header("retry-after").parse().unwrap();
    assert!(
        (1..=300).contains(&retry_after),
        "Retry-After is a delay: {retry_after}"
    );
    // Another account has its own budget; five minutes later this one has a new window.
    assert_eq!(
        login(&s, BOB_DID, "bbbb-bbbb-bbbb-bbbb").await.status,
        StatusCode::OK
    );
    s.bluesky().advance_clock(Duration::from_secs(300));
    assert_eq!(login(&s, HANDLE, APP_PASSWORD).await.status, StatusCode::OK);
}

#[tokio::test]
async fn refresh_rotates_and_a_used_token_lives_on_for_a_2_hour_grace_only() {
    let s = sandbox().await;
    let first = login(&s, HANDLE, APP_PASSWORD).await.body;
    let r0 = first["refreshJwt"].as_str().unwrap().to_owned();
    let a = refresh(&s, &r0).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(
        (a.body["did"].as_str(), a.body["handle"].as_str()),
        (Some(DID), Some(HANDLE))
    );
    let r1 = a.body["refreshJwt"].as_str().unwrap().to_owned();
    assert_ne!(r1, r0);
    let a1 = a.body["accessJwt"].as_str().unwrap().to_owned();
    // A lost answer: the same refresh token again, inside the grace, gets a pair with the same
    // next token id.
    s.bluesky().advance_clock(Duration::from_secs(3600));
    let again = refresh(&s, &r0).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    let r1b = again.body["refreshJwt"].as_str().unwrap().to_owned();
    assert_eq!(claims(&r1b).1["jti"], claims(&r1).1["jti"]);
    assert_eq!(s.bluesky().valid_refresh_tokens(DID).len(), 3);
    // Past the grace (2 h after the first use) the used token is revoked; the new ones work.
    s.bluesky().advance_clock(Duration::from_secs(3601));
    let a = refresh(&s, &r0).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.error(), ("ExpiredToken", "Token has been revoked"));
    assert_eq!(s.bluesky().valid_refresh_tokens(HANDLE).len(), 2);
    assert_eq!(refresh(&s, &r1b).await.status, StatusCode::OK);
    assert_eq!(s.bluesky().refresh_count(), 3);
    // The wrong kinds of token.
    let a = refresh(&s, &a1).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.error(), ("InvalidToken", "Token could not be verified"));
    assert_eq!(refresh(&s, "not.a.jwt").await.error().0, "InvalidToken");
    let a = procedure(&s, "com.atproto.server.refreshSession", None, None).await;
    assert_eq!(
        (a.status, a.error().0),
        (StatusCode::UNAUTHORIZED, "AuthMissing")
    );
}

#[tokio::test]
async fn refresh_tokens_expire_after_90_days() {
    let s = sandbox().await;
    let session = s.bluesky().issue_session(DID).unwrap();
    s.bluesky().advance_clock(Duration::from_secs(90 * 86_400));
    let a = refresh(&s, session.refresh_jwt.expose_secret()).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.error(), ("ExpiredToken", "Token has expired"));
    assert!(s.bluesky().valid_refresh_tokens(DID).is_empty());
}

#[tokio::test]
async fn access_tokens_last_120_minutes_and_are_checked() {
    let s = sandbox().await;
    let session = s.bluesky().issue_session(HANDLE).unwrap();
    let token = session.access_jwt.expose_secret();
    s.bluesky().advance_clock(Duration::from_secs(119 * 60));
    assert_eq!(
        create(&s, token, None, post_record("still fresh"))
            .await
            .status,
        StatusCode::OK
    );
    s.bluesky().advance_clock(Duration::from_secs(60));
    let a = create(&s, token, None, post_record("too late")).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.error(), ("ExpiredToken", "Token has expired"));
    let a = create(
        &s,
        "eyJ0eXAiOiJhdCtqd3QifQ.e30.c2ln",
        None,
        post_record("x"),
    )
    .await;
    assert_eq!(a.error(), ("InvalidToken", "Token could not be verified"));
    let a = create(
        &s,
        session.refresh_jwt.expose_secret(),
        None,
        post_record("x"),
    )
    .await;
    assert_eq!(a.error().0, "InvalidToken");
    let input = json!({"repo": DID, "collection": POST, "record": post_record("x")});
    let a = procedure(&s, "com.atproto.repo.createRecord", None, Some(input)).await;
    assert_eq!(
        (a.status, a.error().0),
        (StatusCode::UNAUTHORIZED, "AuthMissing")
    );
    assert_eq!(s.bluesky().posts(DID).len(), 1);
}

#[tokio::test]
async fn resolve_handle_answers_the_did_or_cannot() {
    let s = sandbox().await;
    let a = query(
        &s,
        "com.atproto.identity.resolveHandle",
        &[("handle", "bob.example.com")],
    )
    .await;
    assert_eq!(
        (a.status, &a.body),
        (StatusCode::OK, &json!({"did": BOB_DID}))
    );
    let a = query(
        &s,
        "com.atproto.identity.resolveHandle",
        &[("handle", "nobody.example.com")],
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.error(), ("InvalidRequest", "Unable to resolve handle"));
    let a = query(
        &s,
        "com.atproto.identity.resolveHandle",
        &[("handle", "nobody.bsky.social")],
    )
    .await;
    assert_eq!(a.error(), ("HandleNotFound", "Unable to resolve handle"));
    let a = query(&s, "com.atproto.identity.resolveHandle", &[]).await;
    assert_eq!(
        (a.status, a.error().0),
        (StatusCode::BAD_REQUEST, "InvalidRequest")
    );
}

#[tokio::test]
async fn a_taken_down_account_cannot_log_in_refresh_or_write() {
    let s = sandbox().await;
    let session = s.bluesky().issue_session(DID).unwrap();
    let mut account = BlueskyAccount::new(HANDLE, DID, APP_PASSWORD);
    account.main_password = Some("hunter2".into());
    account.taken_down = true;
    s.bluesky().add_account(account);
    assert_eq!(
        login(&s, HANDLE, APP_PASSWORD).await.error().0,
        "AuthenticationRequired"
    );
    let a = login(&s, HANDLE, "hunter2").await;
    assert_eq!(
        (a.status, a.error()),
        (
            StatusCode::UNAUTHORIZED,
            ("AccountTakedown", "Account has been taken down")
        )
    );
    assert_eq!(
        refresh(&s, session.refresh_jwt.expose_secret())
            .await
            .error()
            .0,
        "AccountTakedown"
    );
    let a = create(
        &s,
        session.access_jwt.expose_secret(),
        None,
        post_record("x"),
    )
    .await;
    assert_eq!(
        (a.status, a.error().0),
        (StatusCode::UNAUTHORIZED, "AccountTakedown")
    );
}

#[tokio::test]
async fn injected_faults_on_sessions_reads_and_uploads() {
    let s = sandbox().await;
    let b = s.bluesky();
    b.inject(BlueskyEndpoint::CreateSession, Fault::RateLimited, 1);
    let a = login(&s, HANDLE, APP_PASSWORD).await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(a.header("ratelimit-policy"), "30;w=300");
    assert!(a.header("ratelimit-reset").parse::<i64>().unwrap() >= b.unix_time() + 299);
    assert_eq!(b.sessions_created(), 0);
    // An expired token stays expired; refreshing gives a working one.
    let session = login(&s, HANDLE, APP_PASSWORD).await.body;
    let token = session["accessJwt"].as_str().unwrap();
    b.inject(BlueskyEndpoint::UploadBlob, Fault::ExpiredToken, 1);
    for _ in 0..2 {
        let a = upload(&s, token, "image/png", vec![1u8; 10]).await;
        assert_eq!(
            (a.status, a.error()),
            (
                StatusCode::BAD_REQUEST,
                ("ExpiredToken", "Token has expired")
            )
        );
    }
    let renewed = refresh(&s, session["refreshJwt"].as_str().unwrap())
        .await
        .body;
    let a = upload(
        &s,
        renewed["accessJwt"].as_str().unwrap(),
        "image/png",
        vec![1u8; 10],
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    // The refresh token itself can be expired by a fault.
    b.inject(BlueskyEndpoint::RefreshSession, Fault::ExpiredToken, 1);
    let refresh_jwt = renewed["refreshJwt"].as_str().unwrap();
    assert_eq!(
        refresh(&s, refresh_jwt).await.error(),
        ("ExpiredToken", "Token has expired")
    );
    assert_eq!(refresh(&s, refresh_jwt).await.error().0, "ExpiredToken");
    // Reads break too.
    b.inject(BlueskyEndpoint::GetRecord, Fault::DropConnection, 1);
    let r = http()
        .get(format!(
            "{}/xrpc/com.atproto.repo.getRecord?repo={DID}&collection={POST}&rkey=3m2zzzzzzzzzz",
            b.url()
        ))
        .send()
        .await;
    assert!(match r {
        Err(_) => true,
        Ok(resp) => resp.bytes().await.is_err(),
    });
    b.inject(BlueskyEndpoint::ResolveHandle, Fault::ServerError, 1);
    let a = query(
        &s,
        "com.atproto.identity.resolveHandle",
        &[("handle", HANDLE)],
    )
    .await;
    assert_eq!(a.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        query(
            &s,
            "com.atproto.identity.resolveHandle",
            &[("handle", HANDLE)]
        )
        .await
        .body["did"],
        DID
    );
}
