//! The token endpoints (brief §1): the code exchange, short-lived for long-lived, and the
//! refresh.
//!
//! Errors: the code exchange answers in the Instagram-style body Meta documents for it
//! (`{"error_type":"OAuthException","code":400,"error_message":…}`, fixture `oauth_error.json`;
//! only "Matching code was not found or was already used" is documented, the other messages are
//! constructed). No Meta page shows what `/access_token` or `/refresh_access_token` return on
//! failure; the fake answers them in the Graph envelope (fixture `token_expired_refresh`, itself
//! constructed), with code 190 for token problems, 101 for a wrong app secret (Graph's code) and
//! 100 for parameters.

use std::time::Duration;

use serde_json::{Value, json};

use super::{Code, Params, Shape, ThreadsError, ThreadsState, error, millis};
use crate::http::token;

/// How long an authorization code stays usable. The brief gives no lifetime; an hour is what
/// Meta documents for Instagram Login's codes (an assumption).
const CODE_LIFETIME: Duration = Duration::from_secs(3600);

/// An Instagram-style OAuth error (HTTP 400; `code` repeats the HTTP status, not a Graph code).
fn oauth(message: impl Into<String>) -> ThreadsError {
    ThreadsError {
        shape: Shape::Instagram,
        ..error(400, None, "OAuthException", message)
    }
}

/// A parameter error on a token endpoint, in the Graph envelope (constructed).
fn token_param(message: impl Into<String>) -> ThreadsError {
    error(100, None, "OAuthException", message)
}

fn secs(d: Duration) -> u64 {
    d.as_secs()
}

impl ThreadsState {
    pub(crate) fn issue_code(&self, user_id: &str, redirect_uri: &str) -> String {
        let now = self.now_ms();
        let mut inner = self.lock();
        inner
            .users
            .entry(user_id.to_owned())
            .or_insert_with(|| super::User {
                username: user_id.to_owned(),
            });
        let code = token("AQ");
        inner.codes.insert(
            code.clone(),
            Code {
                user_id: user_id.to_owned(),
                redirect_uri: redirect_uri.to_owned(),
                expires_ms: now.saturating_add(millis(CODE_LIFETIME)),
            },
        );
        code
    }

    /// `POST /oauth/access_token`: `client_id`, `client_secret`, `code`,
    /// `grant_type=authorization_code`, `redirect_uri` → `{"access_token","user_id"}`, a
    /// short-lived token (fixture `oauth_access_token.json`: `user_id` is a JSON number). A code
    /// works once; a refused call does not use it up.
    pub(crate) fn exchange_code(&self, p: &Params) -> Result<Value, ThreadsError> {
        let get = |k: &str| p.get(k).map(String::as_str);
        if get("client_id") != Some(self.config.app_id.as_str()) {
            // The Threads app id, not the Facebook one (brief §1 "App identity").
            return Err(oauth("Invalid platform app"));
        }
        if get("client_secret") != Some(expose(&self.config.app_secret)) {
            return Err(oauth("Error validating client secret."));
        }
        if get("grant_type") != Some("authorization_code") {
            return Err(oauth(format!(
                "Unsupported grant_type: \"{}\"; use authorization_code.",
                get("grant_type").unwrap_or("")
            )));
        }
        let now = self.now_ms();
        let mut inner = self.lock();
        let not_found = || oauth("Matching code was not found or was already used");
        let code = get("code").ok_or_else(not_found)?;
        let found = inner.codes.get(code).ok_or_else(not_found)?;
        if now >= found.expires_ms {
            return Err(not_found());
        }
        // "`redirect_uri` must exactly match" (brief §1), trailing slash included.
        if get("redirect_uri") != Some(found.redirect_uri.as_str()) {
            return Err(oauth(
                "Error validating verification code. Please make sure your redirect_uri is \
                 identical to the one you used in the OAuth dialog request",
            ));
        }
        let user_id = found.user_id.clone();
        inner.codes.remove(code);
        let t = self.insert_token(&mut inner, &user_id, false);
        let user = user_id
            .parse::<u64>()
            .map_or_else(|_| json!(user_id), |n| json!(n));
        Ok(json!({ "access_token": t, "user_id": user }))
    }

    /// `GET /access_token?grant_type=th_exchange_token&client_secret=…&access_token=<short>`
    /// → `{"access_token","token_type":"bearer","expires_in"}` (fixture `long_lived_token.json`).
    /// `expires_in` is [`ThreadsConfig::token_lifetime`] in seconds (5 183 944 by default). A
    /// long-lived token cannot be exchanged again (constructed refusal); the short-lived token
    /// keeps working until its own expiry (undocumented).
    ///
    /// [`ThreadsConfig::token_lifetime`]: crate::ThreadsConfig::token_lifetime
    pub(crate) fn exchange_token(
        &self,
        p: &Params,
        t: Option<&str>,
    ) -> Result<Value, ThreadsError> {
        if p.get("grant_type").map(String::as_str) != Some("th_exchange_token") {
            return Err(token_param("Param grant_type must be th_exchange_token."));
        }
        if p.get("client_secret").map(String::as_str) != Some(expose(&self.config.app_secret)) {
            return Err(error(
                101,
                None,
                "OAuthException",
                "Error validating application. Invalid application ID or secret.",
            ));
        }
        let mut inner = self.lock();
        let user = self.user_of(&inner, t)?;
        if t.and_then(|t| inner.tokens.get(t))
            .is_some_and(|k| k.long_lived)
        {
            return Err(token_param(
                "Param access_token must be a short-lived token: this one is already long-lived.",
            ));
        }
        let fresh = self.insert_token(&mut inner, &user, true);
        Ok(json!({
            "access_token": fresh,
            "token_type": "bearer",
            "expires_in": secs(self.config.token_lifetime),
        }))
    }

    /// `GET /refresh_access_token?grant_type=th_refresh_token&access_token=<long-lived>`: a new
    /// long-lived token valid `token_lifetime` from now (fixture `refresh_token.json`), for a
    /// token at least `refresh_min_age` old and not expired (brief §1).
    ///
    /// An expired token gets code 190, subcode 463 (fixture `token_expired_refresh`,
    /// constructed). A token too young or short-lived gets code 100 (constructed: it is a
    /// timing problem, not a dead token, so it is no 190). The refreshed token keeps working
    /// until its own expiry: the brief does not say it is revoked.
    pub(crate) fn refresh_token(&self, p: &Params, t: Option<&str>) -> Result<Value, ThreadsError> {
        if p.get("grant_type").map(String::as_str) != Some("th_refresh_token") {
            return Err(token_param("Param grant_type must be th_refresh_token."));
        }
        let mut inner = self.lock();
        let user = self.user_of(&inner, t)?;
        let Some(old) = t.and_then(|t| inner.tokens.get(t)) else {
            return Err(token_param("Param access_token is required."));
        };
        if !old.long_lived {
            return Err(token_param(
                "Param access_token must be a long-lived token: exchange the short-lived one \
                 first.",
            ));
        }
        let age_ms = self.now_ms() - old.issued_ms;
        let min_age = self.config.refresh_min_age;
        if age_ms < millis(min_age) {
            return Err(token_param(format!(
                "The access token must be at least {} hours old to be refreshed.",
                min_age.as_secs() / 3600
            )));
        }
        let fresh = self.insert_token(&mut inner, &user, true);
        Ok(json!({
            "access_token": fresh,
            "token_type": "bearer",
            "expires_in": secs(self.config.token_lifetime),
        }))
    }
}

/// The scopes a token of the fake holds: every Threads permission (scopes are not modelled, so
/// every token may do everything).
const SCOPES: [&str; 6] = [
    "threads_basic",
    "threads_content_publish",
    "threads_manage_replies",
    "threads_manage_insights",
    "threads_read_replies",
    "threads_delete",
];
/// How long the app's access to the user's data lasts: 90 days, the gap between `issued_at` and
/// `data_access_expires_at` in the debug-access-token page's example.
const DATA_ACCESS_SECS: i64 = 90 * 86_400;

impl ThreadsState {
    /// `GET /v1.0/debug_token?input_token=…` (debug-access-token page; the caller's token is the
    /// `access_token`): `{"data": {type, application, data_access_expires_at, expires_at,
    /// is_valid, issued_at, scopes, user_id}}`. An expired input token reads `is_valid: false`.
    /// An unknown one answers `{"data": {"is_valid": false, "scopes": [], "error": {code 190}}}`
    /// (constructed in Graph's style: the page shows only a valid token).
    pub(crate) fn debug_token(&self, t: Option<&str>, p: &Params) -> Result<Value, ThreadsError> {
        let inner = self.lock();
        self.user_of(&inner, t)?;
        let Some(input) = p.get("input_token").filter(|v| !v.is_empty()) else {
            return Err(token_param("The parameter input_token is required."));
        };
        let Some(tok) = inner.tokens.get(input.as_str()) else {
            return Ok(json!({ "data": {
                "is_valid": false,
                "scopes": [],
                "error": { "code": 190, "message": "Invalid OAuth access token." },
            }}));
        };
        let issued_at = tok.issued_ms / 1000;
        Ok(json!({ "data": {
            "type": "USER",
            "application": "Threads API Test App",
            "data_access_expires_at": issued_at + DATA_ACCESS_SECS,
            "expires_at": tok.expires_ms / 1000,
            "is_valid": self.now_ms() < tok.expires_ms,
            "issued_at": issued_at,
            "scopes": SCOPES,
            "user_id": tok.user_id,
        }}))
    }
}

fn expose(s: &cmis_core::SecretString) -> &str {
    use cmis_core::ExposeSecret;
    s.expose_secret()
}
