//! The fake PDS's state and rules, apart from HTTP: accounts, the clock, sessions and their
//! tokens. Repository writes and reads are in `state/repo.rs`, service tokens in
//! `state/service_auth.rs`.

mod repo;
mod service_auth;

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use cmis_core::SecretString;
use serde_json::{Value, json};

use super::ids::{jwt, refresh_token_id};
use super::limits::{Limiter, RateStatus, Rule};
use super::{BlueskyAccount, BlueskyConfig, BlueskyEndpoint, BlueskySession};
use crate::clock::Clock;
use crate::fault::Faults;

pub(crate) use repo::BlobUpload;

/// The PDS's global limit: 3 000 requests per IP per 5 minutes across every method (rate-limits
/// doc, brief §6).
const GLOBAL_RULE: Rule = Rule {
    name: "global-ip",
    points: 3000,
    window_secs: 300,
};

/// An XRPC error: HTTP status, `error`, `message`, and the rate-limit status to report in the
/// `RateLimit-*` headers (the PDS sets them on every answer of a rate-limited method).
#[derive(Debug)]
pub(crate) struct XrpcError {
    pub(crate) status: u16,
    pub(crate) error: &'static str,
    pub(crate) message: String,
    pub(crate) rate: Option<RateStatus>,
}

pub(crate) fn xrpc(status: u16, error: &'static str, message: impl Into<String>) -> XrpcError {
    XrpcError {
        status,
        error,
        message: message.into(),
        rate: None,
    }
}

/// `400 InvalidRequest`.
pub(crate) fn invalid(message: impl Into<String>) -> XrpcError {
    xrpc(400, "InvalidRequest", message)
}

fn rate_limited(status: RateStatus) -> XrpcError {
    XrpcError {
        rate: Some(status),
        ..xrpc(429, "RateLimitExceeded", "Rate Limit Exceeded")
    }
}

fn invalid_token() -> XrpcError {
    xrpc(400, "InvalidToken", "Token could not be verified")
}

fn expired_token() -> XrpcError {
    xrpc(400, "ExpiredToken", "Token has expired")
}

fn taken_down() -> XrpcError {
    xrpc(401, "AccountTakedown", "Account has been taken down")
}

/// A successful answer's body and rate-limit status.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) body: Value,
    pub(crate) rate: Option<RateStatus>,
}

/// The access JWT's claims the fake checks.
#[derive(Debug)]
struct AccessToken {
    did: String,
    /// `exp`, Unix seconds.
    exp: i64,
}

/// A refresh JWT: its `jti` names the row that rotation updates.
#[derive(Debug)]
struct RefreshJwt {
    did: String,
    jti: String,
    exp: i64,
}

/// The PDS's `refresh_token` row (`account-manager.ts` `rotateRefreshToken`).
#[derive(Debug)]
struct RefreshRow {
    expires_at_ms: i64,
    /// Set on first use: every reuse inside the grace gets a token with this same id.
    next_id: Option<String>,
    app_password: bool,
}

#[derive(Debug, Default)]
struct Inner {
    accounts: Vec<BlueskyAccount>,
    access: HashMap<String, AccessToken>,
    refresh_jwts: HashMap<String, RefreshJwt>,
    refresh_rows: HashMap<String, RefreshRow>,
    sign_in_codes: HashMap<String, String>,
    repo: repo::Repos,
    service_tokens: HashMap<String, service_auth::ServiceToken>,
    limiter: Limiter,
    last_tid_micros: u64,
    create_session_calls: u64,
    sessions_created: u64,
    refreshes: u64,
}

impl Inner {
    /// The account with this DID, or this handle (case-insensitive).
    fn account(&self, identifier: &str) -> Option<&BlueskyAccount> {
        if identifier.starts_with("did:") {
            self.accounts.iter().find(|a| a.did == identifier)
        } else {
            let handle = identifier.to_ascii_lowercase();
            self.accounts
                .iter()
                .find(|a| a.handle.to_ascii_lowercase() == handle)
        }
    }

    fn did_of(&self, identifier: &str) -> String {
        self.account(identifier)
            .map_or_else(|| identifier.to_owned(), |a| a.did.clone())
    }
}

/// The fake PDS's state.
#[derive(Debug)]
pub(crate) struct BlueskyState {
    config: BlueskyConfig,
    base_url: OnceLock<String>,
    inner: Mutex<Inner>,
    pub(crate) faults: Faults<BlueskyEndpoint>,
    /// tokio's (pausable) clock as Unix time, plus how far [`BlueskyState::advance_clock`] moved it.
    clock: Clock,
    /// The TID clock id of this PDS.
    clock_id: u16,
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 2000)
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2)
}

impl BlueskyState {
    pub(crate) fn new(config: BlueskyConfig) -> Self {
        Self {
            config,
            base_url: OnceLock::new(),
            inner: Mutex::new(Inner::default()),
            faults: Faults::new(),
            clock: Clock::new(),
            clock_id: fastrand::u16(..1024),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn config(&self) -> BlueskyConfig {
        self.config.clone()
    }

    pub(crate) fn set_base_url(&self, url: String) {
        let _ = self.base_url.set(url);
    }

    pub(crate) fn base_url(&self) -> String {
        self.base_url.get().cloned().unwrap_or_default()
    }

    /// Now, in Unix milliseconds, on the fake's clock.
    pub(crate) fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    pub(crate) fn advance_clock(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// The fake's clock, for the control API (freeze, reset).
    pub(crate) fn clock(&self) -> &Clock {
        &self.clock
    }

    /// A fresh TID, later than every earlier one of this PDS.
    fn next_tid(&self, inner: &mut Inner) -> String {
        let now = u64::try_from(self.now_ms()).unwrap_or(0) * 1000;
        let micros = now.max(inner.last_tid_micros + 1);
        inner.last_tid_micros = micros;
        super::ids::tid(micros, self.clock_id)
    }

    pub(crate) fn add_account(&self, account: BlueskyAccount) {
        let mut inner = self.lock();
        inner.accounts.retain(|a| a.did != account.did);
        inner.accounts.push(account);
    }

    pub(crate) fn counters(&self) -> (u64, u64, u64) {
        let inner = self.lock();
        (
            inner.create_session_calls,
            inner.sessions_created,
            inner.refreshes,
        )
    }

    pub(crate) fn sign_in_code(&self, identifier: &str) -> Option<String> {
        let inner = self.lock();
        inner.sign_in_codes.get(&inner.did_of(identifier)).cloned()
    }

    /// The limits of an endpoint, for the headers of an injected 429: the PDS's own for the
    /// methods that have one, else the global per-IP limit (3 000 per 5 minutes).
    pub(crate) fn rules(&self, endpoint: BlueskyEndpoint) -> Vec<Rule> {
        let c = &self.config;
        match endpoint {
            BlueskyEndpoint::CreateSession => vec![
                Rule {
                    name: "create-session-day",
                    points: c.create_session_per_day,
                    window_secs: 86_400,
                },
                Rule {
                    name: "create-session-5m",
                    points: c.create_session_per_5_minutes,
                    window_secs: 300,
                },
            ],
            BlueskyEndpoint::CreateRecord => vec![
                Rule {
                    name: "repo-write-hour",
                    points: c.write_points_per_hour,
                    window_secs: 3600,
                },
                Rule {
                    name: "repo-write-day",
                    points: c.write_points_per_day,
                    window_secs: 86_400,
                },
            ],
            BlueskyEndpoint::UploadBlob => vec![Rule {
                name: "upload-blob-day",
                points: 1000,
                window_secs: 86_400,
            }],
            _ => vec![GLOBAL_RULE],
        }
    }

    /// Counts a request against the PDS's global per-IP limit. Every caller of the fake is
    /// 127.0.0.1, so there is one key.
    pub(crate) fn consume_global(&self) -> Result<RateStatus, RateStatus> {
        let now = self.now_ms();
        self.lock()
            .limiter
            .consume(now, "127.0.0.1", &[GLOBAL_RULE], 1)
    }

    /// Signs a session for `did`: an access JWT and a refresh JWT with id `jti` (fresh if
    /// `None`), both recorded so that later calls can be checked against them.
    fn issue_locked(
        &self,
        inner: &mut Inner,
        did: &str,
        app_password: bool,
        jti: Option<String>,
    ) -> (String, String) {
        let iat = self.now_ms() / 1000;
        let aud = &self.config.service_did;
        let scope = if app_password {
            "com.atproto.appPass"
        } else {
            "com.atproto.access"
        };
        let access_exp = iat + secs(self.config.access_token_lifetime);
        let access = jwt(
            &json!({"typ": "at+jwt", "alg": "HS256"}),
            &json!({"scope": scope, "aud": aud, "sub": did, "iat": iat, "exp": access_exp}),
        );
        let jti = jti.unwrap_or_else(refresh_token_id);
        let refresh_exp = iat + secs(self.config.refresh_token_lifetime);
        let refresh = jwt(
            &json!({"typ": "refresh+jwt", "alg": "HS256"}),
            &json!({"scope": "com.atproto.refresh", "aud": aud, "sub": did, "jti": jti,
                    "iat": iat, "exp": refresh_exp}),
        );
        inner.access.insert(
            access.clone(),
            AccessToken {
                did: did.to_owned(),
                exp: access_exp,
            },
        );
        inner.refresh_jwts.insert(
            refresh.clone(),
            RefreshJwt {
                did: did.to_owned(),
                jti: jti.clone(),
                exp: refresh_exp,
            },
        );
        // As the PDS's insert does on a conflict: a reused id keeps its row (and its rotation).
        inner.refresh_rows.entry(jti).or_insert(RefreshRow {
            expires_at_ms: refresh_exp.saturating_mul(1000),
            next_id: None,
            app_password,
        });
        (access, refresh)
    }

    fn session_body(account: &BlueskyAccount, access: String, refresh: String) -> Value {
        json!({
            "accessJwt": access,
            "refreshJwt": refresh,
            "handle": account.handle,
            "did": account.did,
            "active": true,
        })
    }

    pub(crate) fn issue_session(&self, identifier: &str) -> Option<BlueskySession> {
        let mut inner = self.lock();
        let account = inner.account(identifier)?.clone();
        let (access, refresh) = self.issue_locked(&mut inner, &account.did, true, None);
        Some(BlueskySession {
            did: account.did,
            handle: account.handle,
            access_jwt: SecretString::from(access),
            refresh_jwt: SecretString::from(refresh),
        })
    }

    /// `com.atproto.server.createSession`.
    pub(crate) fn create_session(&self, input: &Value) -> Result<Reply, XrpcError> {
        let mut inner = self.lock();
        inner.create_session_calls += 1;
        let field = |k: &str| {
            input
                .get(k)
                .and_then(Value::as_str)
                .ok_or_else(|| invalid(format!("Input must have the property \"{k}\"")))
        };
        let identifier = field("identifier")?;
        let password = field("password")?;
        // Keyed per account (the PDS keys `${identifier}-${ip}`, and every caller here is
        // 127.0.0.1); an unknown identifier is its own key.
        let key = inner.did_of(&identifier.to_ascii_lowercase());
        let now = self.now_ms();
        let rules = self.rules(BlueskyEndpoint::CreateSession);
        let rate = inner
            .limiter
            .consume(now, &key, &rules, 1)
            .map_err(rate_limited)?;
        let with_rate = |e: XrpcError| XrpcError {
            rate: Some(rate),
            ..e
        };
        let wrong = || {
            with_rate(xrpc(
                401,
                "AuthenticationRequired",
                "Invalid identifier or password",
            ))
        };
        let account = inner
            .account(&identifier.to_ascii_lowercase())
            .cloned()
            .ok_or_else(wrong)?;
        let app_password = if account.main_password.as_deref() == Some(password) {
            if account.taken_down {
                return Err(with_rate(taken_down()));
            }
            if account.email_auth_factor {
                let presented = input
                    .get("authFactorToken")
                    .and_then(Value::as_str)
                    .filter(|t| !t.is_empty());
                let Some(presented) = presented else {
                    let code = sign_in_code();
                    inner.sign_in_codes.insert(account.did, code);
                    return Err(with_rate(xrpc(
                        401,
                        "AuthFactorTokenRequired",
                        "A sign in code has been sent to your email address",
                    )));
                };
                if inner.sign_in_codes.get(&account.did).map(String::as_str) != Some(presented) {
                    return Err(with_rate(xrpc(400, "InvalidToken", "Token is invalid")));
                }
                inner.sign_in_codes.remove(&account.did);
            }
            false
        } else if account.app_password == password && !account.taken_down {
            // A taken-down account cannot log in with an app password: it reads as a wrong one.
            true
        } else {
            return Err(wrong());
        };
        let (access, refresh) = self.issue_locked(&mut inner, &account.did, app_password, None);
        inner.sessions_created += 1;
        Ok(Reply {
            body: Self::session_body(&account, access, refresh),
            rate: Some(rate),
        })
    }

    /// `com.atproto.server.refreshSession`: rotation with the reference PDS's grace period.
    pub(crate) fn refresh_session(&self, token: Option<&str>) -> Result<Reply, XrpcError> {
        let mut inner = self.lock();
        let token = token.ok_or_else(auth_missing)?;
        // An access JWT fails the `typ: refresh+jwt` check before anything else.
        let Some(jwt) = inner.refresh_jwts.get(token) else {
            return Err(invalid_token());
        };
        let now = self.now_ms();
        if now / 1000 >= jwt.exp {
            return Err(expired_token());
        }
        let (did, jti) = (jwt.did.clone(), jwt.jti.clone());
        let account = inner
            .account(&did)
            .cloned()
            .ok_or_else(|| invalid(format!("Could not find user info for account: {did}")))?;
        if account.taken_down {
            return Err(taken_down());
        }
        let revoked = || xrpc(400, "ExpiredToken", "Token has been revoked");
        let grace = millis(self.config.refresh_grace);
        let Some(row) = inner.refresh_rows.get_mut(&jti) else {
            return Err(revoked());
        };
        let expires_at_ms = row.expires_at_ms.min(now.saturating_add(grace));
        if expires_at_ms <= now {
            inner.refresh_rows.remove(&jti);
            return Err(revoked());
        }
        row.expires_at_ms = expires_at_ms;
        let next = row.next_id.get_or_insert_with(refresh_token_id).clone();
        let app_password = row.app_password;
        let (access, refresh) = self.issue_locked(&mut inner, &did, app_password, Some(next));
        inner.refreshes += 1;
        Ok(Reply {
            body: Self::session_body(&account, access, refresh),
            rate: None,
        })
    }

    /// Checks an access JWT; returns its DID.
    pub(crate) fn authorize(&self, token: Option<&str>) -> Result<String, XrpcError> {
        let inner = self.lock();
        let token = token.ok_or_else(auth_missing)?;
        // A refresh JWT fails the `typ: at+jwt` check, as an unknown token fails the signature.
        let Some(access) = inner.access.get(token) else {
            return Err(invalid_token());
        };
        if self.now_ms() / 1000 >= access.exp {
            return Err(expired_token());
        }
        Ok(access.did.clone())
    }

    pub(crate) fn expire_token(&self, token: &str) {
        let now = self.now_ms() / 1000;
        let mut inner = self.lock();
        if let Some(a) = inner.access.get_mut(token) {
            a.exp = a.exp.min(now);
        }
        if let Some(r) = inner.refresh_jwts.get_mut(token) {
            r.exp = r.exp.min(now);
        }
    }

    pub(crate) fn valid_refresh_tokens(&self, identifier: &str) -> Vec<SecretString> {
        let now = self.now_ms();
        let inner = self.lock();
        let did = inner.did_of(identifier);
        let mut tokens: Vec<(&String, &RefreshJwt)> = inner
            .refresh_jwts
            .iter()
            .filter(|(_, j)| {
                j.did == did
                    && now / 1000 < j.exp
                    && inner
                        .refresh_rows
                        .get(&j.jti)
                        .is_some_and(|r| r.expires_at_ms > now)
            })
            .collect();
        tokens.sort_by_key(|(t, _)| t.as_str());
        tokens
            .into_iter()
            .map(|(t, _)| SecretString::from(t.clone()))
            .collect()
    }
}

/// An email sign-in code such as `K7RQ2-M4XWP`.
fn sign_in_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let part = || -> String {
        (0..5)
            .map(|_| char::from(ALPHABET[fastrand::usize(..ALPHABET.len())]))
            .collect()
    };
    format!("{}-{}", part(), part())
}

fn auth_missing() -> XrpcError {
    xrpc(401, "AuthMissing", "Authentication Required")
}

/// The control API's hooks.
impl BlueskyState {
    /// Forgets records, blobs, rate-limit windows, counters, faults and clock moves; keeps
    /// accounts and their tokens.
    pub(crate) fn reset(&self) {
        let mut inner = self.lock();
        let old = std::mem::take(&mut *inner);
        *inner = Inner {
            accounts: old.accounts,
            access: old.access,
            refresh_jwts: old.refresh_jwts,
            refresh_rows: old.refresh_rows,
            sign_in_codes: old.sign_in_codes,
            service_tokens: old.service_tokens,
            last_tid_micros: old.last_tid_micros,
            ..Inner::default()
        };
        drop(inner);
        self.faults.clear();
        self.clock.reset();
    }

    /// The DIDs of every account, in the order they were added.
    pub(crate) fn dids(&self) -> Vec<String> {
        self.lock().accounts.iter().map(|a| a.did.clone()).collect()
    }
}
