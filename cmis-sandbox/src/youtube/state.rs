//! The fake YouTube's state apart from HTTP: channels, tokens, the token endpoint, bearer
//! checks, the daily budgets and Google's error bodies. Sessions and uploads are in
//! `upload.rs`, reads and thumbnails in `reads.rs`.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use cmis_core::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::upload::{Session, Video};
use super::{YouTubeConfig, YouTubeEndpoint, YouTubeTokens};
use crate::clock::{Clock, millis};
use crate::fault::Faults;
use crate::http::token;

pub(crate) const UPLOAD_SCOPE: &str = "https://www.googleapis.com/auth/youtube.upload";
pub(crate) const READONLY_SCOPE: &str = "https://www.googleapis.com/auth/youtube.readonly";
/// Scopes that allow everything the fake serves.
const FULL_SCOPES: &[&str] = &[
    "https://www.googleapis.com/auth/youtube",
    "https://www.googleapis.com/auth/youtube.force-ssl",
    "https://www.googleapis.com/auth/youtubepartner",
];
/// What [`super::YouTubeSandbox::add_channel`] and codes grant (fixture
/// `oauth_authorize_url.txt`).
pub(crate) const DEFAULT_SCOPES: &[&str] = &[UPLOAD_SCOPE, READONLY_SCOPE];

const CODE_LIFETIME: Duration = Duration::from_secs(600);
const DAY_MS: i64 = 86_400_000;
/// Pacific standard time, for the daily quota's midnight.
const PT_OFFSET_MS: i64 = -8 * 3_600_000;

/// What a YouTube error carries: a Google JSON envelope, Google's OAuth body, or plain text
/// (the upload server's 400s and its HTML 404 for a dead session).
#[derive(Debug, Clone)]
pub(crate) enum YtBody {
    Json(Value),
    Text(&'static str, String),
}

#[derive(Debug, Clone)]
pub(crate) struct YtError {
    pub(crate) status: u16,
    pub(crate) body: YtBody,
    /// Add `WWW-Authenticate` (fixture `api_error_401_expired_token.json`).
    pub(crate) www_authenticate: bool,
}

/// Google's envelope: `{"error":{"code","message","errors":[{"message","domain","reason",…}]}}`.
pub(crate) fn google(
    status: u16,
    domain: &str,
    reason: &str,
    message: &str,
    location: Option<(&str, &str)>,
) -> YtError {
    let mut item = json!({"message": message, "domain": domain, "reason": reason});
    if let Some((loc, kind)) = location {
        item["location"] = json!(loc);
        item["locationType"] = json!(kind);
    }
    YtError {
        status,
        body: YtBody::Json(
            json!({"error": {"code": status, "message": message, "errors": [item]}}),
        ),
        www_authenticate: false,
    }
}

/// A 400 with a constructed `badRequest` reason, for parameters no source documents.
pub(crate) fn bad_request(message: &str) -> YtError {
    google(400, "global", "badRequest", message, None)
}

/// Plain text, as the upload server answers a bad `Content-Range` (brief §3).
pub(crate) fn text(status: u16, message: impl Into<String>) -> YtError {
    YtError {
        status,
        body: YtBody::Text("text/plain; charset=utf-8", message.into()),
        www_authenticate: false,
    }
}

pub(crate) fn oauth(status: u16, error: &str, description: &str) -> YtError {
    YtError {
        status,
        body: YtBody::Json(json!({"error": error, "error_description": description})),
        www_authenticate: false,
    }
}

/// `errors.json` → `auth_error`, with `WWW-Authenticate`.
fn auth_error() -> YtError {
    let message = "Request had invalid authentication credentials. Expected OAuth 2 access \
                   token, login cookie or other valid authentication credential. See \
                   https://developers.google.com/identity/sign-in/web/devconsole-project.";
    YtError {
        status: 401,
        body: YtBody::Json(json!({"error": {
            "code": 401,
            "message": message,
            "errors": [{"message": "Invalid Credentials", "domain": "global", "reason": "authError", "location": "Authorization", "locationType": "header"}],
            "status": "UNAUTHENTICATED",
        }})),
        www_authenticate: true,
    }
}

/// `errors.json` → `insufficient_permissions`.
fn insufficient(method: &str) -> YtError {
    YtError {
        status: 403,
        body: YtBody::Json(json!({"error": {
            "code": 403,
            "message": "Request had insufficient authentication scopes.",
            "errors": [{"message": "Insufficient Permission", "domain": "global", "reason": "insufficientPermissions"}],
            "status": "PERMISSION_DENIED",
            "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT", "domain": "googleapis.com", "metadata": {"service": "youtube.googleapis.com", "method": method}}],
        }})),
        www_authenticate: false,
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Channel {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) thumbnails_allowed: bool,
    pub(crate) created_ms: i64,
}

impl Channel {
    /// `UC…` → `UU…` (brief §2).
    pub(crate) fn uploads_playlist(&self) -> String {
        format!("UU{}", self.id.get(2..).unwrap_or_default())
    }
}

#[derive(Debug)]
struct Tok {
    channel: String,
    scopes: Vec<String>,
    expires_ms: Option<i64>,
    revoked: bool,
    refresh: bool,
}

#[derive(Debug)]
struct Code {
    channel: String,
    redirect_uri: String,
    challenge: Option<String>,
    expires_ms: i64,
}

#[derive(Debug, Default)]
pub(crate) struct Inner {
    pub(crate) channels: Vec<Channel>,
    tokens: HashMap<String, Tok>,
    codes: HashMap<String, Code>,
    pub(crate) sessions: Vec<Session>,
    pub(crate) videos: Vec<Video>,
    /// The times of today's and earlier `videos.insert` calls (Unix ms).
    pub(crate) insert_calls: Vec<i64>,
    /// Units charged per quota day (`quota.rs`).
    pub(crate) units: HashMap<i64, u32>,
    refreshes: u64,
    pub(crate) pending_slow_reads: u32,
}

impl Inner {
    pub(crate) fn channel(&self, id: &str) -> Option<&Channel> {
        self.channels.iter().find(|c| c.id == id)
    }
}

/// The fake YouTube's state.
#[derive(Debug)]
pub(crate) struct YouTubeState {
    config: YouTubeConfig,
    base_url: OnceLock<String>,
    inner: Mutex<Inner>,
    pub(crate) faults: Faults<YouTubeEndpoint>,
    clock: Clock,
}

impl YouTubeState {
    pub(crate) fn new(config: YouTubeConfig) -> Self {
        Self {
            config,
            base_url: OnceLock::new(),
            inner: Mutex::new(Inner::default()),
            faults: Faults::new(),
            clock: Clock::new(),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn config(&self) -> &YouTubeConfig {
        &self.config
    }

    pub(crate) fn set_base_url(&self, url: String) {
        let _ = self.base_url.set(url);
    }

    pub(crate) fn base_url(&self) -> String {
        self.base_url.get().cloned().unwrap_or_default()
    }

    pub(crate) fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    pub(crate) fn advance_clock(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// The quota day (midnight Pacific standard time) of `ms`.
    pub(crate) fn quota_day(ms: i64) -> i64 {
        (ms + PT_OFFSET_MS).div_euclid(DAY_MS)
    }

    pub(crate) fn uploads_used_today(&self) -> u32 {
        let today = Self::quota_day(self.now_ms());
        let n = self
            .lock()
            .insert_calls
            .iter()
            .filter(|&&t| Self::quota_day(t) == today)
            .count();
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    pub(crate) fn set_uploads_used_today(&self, n: u32) {
        let now = self.now_ms();
        let today = Self::quota_day(now);
        let mut inner = self.lock();
        inner.insert_calls.retain(|&t| Self::quota_day(t) != today);
        inner.insert_calls.extend((0..n).map(|_| now));
    }

    fn ensure_channel(&self, inner: &mut Inner, id: &str, title: Option<&str>) {
        let now = self.now_ms();
        match inner.channels.iter_mut().find(|c| c.id == id) {
            Some(c) => {
                if let Some(t) = title {
                    t.clone_into(&mut c.title);
                }
            }
            None => inner.channels.push(Channel {
                id: id.to_owned(),
                title: title.unwrap_or(id).to_owned(),
                thumbnails_allowed: true,
                created_ms: now,
            }),
        }
    }

    pub(crate) fn add_channel(&self, id: &str, title: &str) {
        let mut inner = self.lock();
        self.ensure_channel(&mut inner, id, Some(title));
    }

    pub(crate) fn set_thumbnails_allowed(&self, id: &str, allowed: bool) {
        let mut inner = self.lock();
        self.ensure_channel(&mut inner, id, None);
        if let Some(c) = inner.channels.iter_mut().find(|c| c.id == id) {
            c.thumbnails_allowed = allowed;
        }
    }

    fn insert_token(
        &self,
        inner: &mut Inner,
        channel: &str,
        scopes: &[String],
        refresh: bool,
    ) -> String {
        let now = self.now_ms();
        let expires_ms = if refresh {
            self.config
                .refresh_token_lifetime
                .map(|d| now.saturating_add(millis(d)))
        } else {
            Some(now.saturating_add(millis(self.config.access_token_lifetime)))
        };
        let t = token(if refresh { "1//0" } else { "ya29.a0" });
        inner.tokens.insert(
            t.clone(),
            Tok {
                channel: channel.to_owned(),
                scopes: scopes.to_vec(),
                expires_ms,
                revoked: false,
                refresh,
            },
        );
        t
    }

    pub(crate) fn issue_tokens(&self, channel: &str, scopes: &[&str]) -> YouTubeTokens {
        let mut ordered: Vec<String> = Vec::new();
        for s in scopes {
            if !ordered.iter().any(|o| o == s) {
                ordered.push((*s).to_owned());
            }
        }
        let scopes = ordered;
        let mut inner = self.lock();
        self.ensure_channel(&mut inner, channel, None);
        let access = self.insert_token(&mut inner, channel, &scopes, false);
        let refresh = self.insert_token(&mut inner, channel, &scopes, true);
        YouTubeTokens {
            access_token: SecretString::from(access),
            refresh_token: SecretString::from(refresh),
            channel_id: channel.to_owned(),
        }
    }

    pub(crate) fn issue_code(
        &self,
        channel: &str,
        redirect_uri: &str,
        challenge: Option<&str>,
    ) -> String {
        let code = token("4/0");
        let expires_ms = self.now_ms().saturating_add(millis(CODE_LIFETIME));
        let mut inner = self.lock();
        self.ensure_channel(&mut inner, channel, None);
        inner.codes.insert(
            code.clone(),
            Code {
                channel: channel.to_owned(),
                redirect_uri: redirect_uri.to_owned(),
                challenge: challenge.map(str::to_owned),
                expires_ms,
            },
        );
        code
    }

    pub(crate) fn expire_token(&self, t: &str) {
        let now = self.now_ms();
        if let Some(tok) = self.lock().tokens.get_mut(t) {
            tok.expires_ms = Some(tok.expires_ms.map_or(now, |e| e.min(now)));
        }
    }

    pub(crate) fn revoke_token(&self, t: &str) {
        if let Some(tok) = self.lock().tokens.get_mut(t) {
            tok.revoked = true;
        }
    }

    pub(crate) fn refresh_count(&self) -> u64 {
        self.lock().refreshes
    }

    /// `POST /token` (brief §1): the client checked first (401 `invalid_client`,
    /// constructed), then the grant.
    ///
    /// - `authorization_code`: an unknown, used or expired code, or a PKCE verifier whose S256
    ///   does not match the challenge, gets 400 `invalid_grant` / `Bad Request` (fixture
    ///   `oauth_invalid_grant_bad_request.json`); another `redirect_uri` 400
    ///   `redirect_uri_mismatch` (constructed). The answer has the fields of
    ///   `oauth_token_exchange.json`, plus `refresh_token_expires_in` when refresh tokens are
    ///   time-limited.
    /// - `refresh_token`: an unknown, expired or revoked token gets 400 `invalid_grant`
    ///   "Token has been expired or revoked." (`oauth_invalid_grant.json`). The answer
    ///   **omits `refresh_token`** (`oauth_token_refresh.json`).
    pub(crate) fn token_grant(&self, form: &HashMap<String, String>) -> Result<Value, YtError> {
        let field = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
        if field("client_id") != self.config.client_id
            || field("client_secret") != self.config.client_secret.expose_secret()
        {
            return Err(oauth(401, "invalid_client", "Unauthorized"));
        }
        let now = self.now_ms();
        let mut inner = self.lock();
        let scope_line = |s: &[String]| s.join(" ");
        match field("grant_type") {
            "authorization_code" => {
                let bad = || oauth(400, "invalid_grant", "Bad Request");
                let code = inner.codes.remove(field("code")).ok_or_else(bad)?;
                if code.expires_ms <= now {
                    return Err(bad());
                }
                if code.redirect_uri != field("redirect_uri") {
                    return Err(oauth(400, "redirect_uri_mismatch", "Bad Request"));
                }
                if let Some(challenge) = &code.challenge {
                    let verifier = form
                        .get("code_verifier")
                        .ok_or_else(|| oauth(400, "invalid_request", "Missing code verifier."))?;
                    if crate::pkce::s256(verifier) != *challenge {
                        return Err(bad());
                    }
                }
                let scopes: Vec<String> = DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect();
                let access = self.insert_token(&mut inner, &code.channel, &scopes, false);
                let refresh = self.insert_token(&mut inner, &code.channel, &scopes, true);
                let mut body = json!({
                    "access_token": access,
                    "expires_in": self.config.access_token_lifetime.as_secs(),
                    "token_type": "Bearer",
                    "scope": scope_line(&scopes),
                    "refresh_token": refresh,
                });
                if let Some(d) = self.config.refresh_token_lifetime {
                    body["refresh_token_expires_in"] = json!(d.as_secs());
                }
                Ok(body)
            }
            "refresh_token" => {
                let dead = || oauth(400, "invalid_grant", "Token has been expired or revoked.");
                let tok = inner.tokens.get(field("refresh_token")).ok_or_else(dead)?;
                if !tok.refresh || tok.revoked || tok.expires_ms.is_some_and(|e| e <= now) {
                    return Err(dead());
                }
                let (channel, scopes) = (tok.channel.clone(), tok.scopes.clone());
                let access = self.insert_token(&mut inner, &channel, &scopes, false);
                inner.refreshes += 1;
                Ok(json!({
                    "access_token": access,
                    "expires_in": self.config.access_token_lifetime.as_secs(),
                    "scope": scope_line(&scopes),
                    "token_type": "Bearer",
                }))
            }
            "" => Err(oauth(
                400,
                "invalid_request",
                "Missing required parameter: grant_type",
            )),
            _ => Err(oauth(400, "unsupported_grant_type", "Invalid grant_type: ")),
        }
    }

    /// The channel a bearer token acts for, if it holds `scope` (or a full YouTube scope).
    /// No, unknown, expired or revoked token: 401 `auth_error`; a missing scope: 403
    /// `insufficient_permissions` naming `method`.
    pub(crate) fn authorize(
        &self,
        bearer: Option<&str>,
        scopes_any: &[&str],
        method: &str,
    ) -> Result<String, YtError> {
        let now = self.now_ms();
        let inner = self.lock();
        let tok = bearer
            .and_then(|t| inner.tokens.get(t))
            .filter(|k| !k.refresh && !k.revoked && k.expires_ms.is_none_or(|e| e > now))
            .ok_or_else(auth_error)?;
        let allowed = scopes_any
            .iter()
            .chain(FULL_SCOPES)
            .any(|s| tok.scopes.iter().any(|t| t == s));
        if !allowed {
            return Err(insufficient(method));
        }
        Ok(tok.channel.clone())
    }

    /// `POST /revoke` (brief §1; Google's web-server guide, "Revoking a token": revoking an
    /// access token revokes its refresh token too). The grant ends: every token of the channel
    /// stops working. Answers whether `t` was a live token.
    pub(crate) fn revoke_grant(&self, t: &str) -> bool {
        let now = self.now_ms();
        let mut inner = self.lock();
        let channel = inner
            .tokens
            .get(t)
            .filter(|k| !k.revoked && k.expires_ms.is_none_or(|e| e > now))
            .map(|k| k.channel.clone());
        let Some(channel) = channel else {
            return false;
        };
        for k in inner.tokens.values_mut().filter(|k| k.channel == channel) {
            k.revoked = true;
        }
        true
    }

    pub(crate) fn expire_token_now(&self, t: &str) -> YtError {
        self.expire_token(t);
        auth_error()
    }

    pub(crate) fn slow_next_video(&self, reads: u32) {
        let mut inner = self.lock();
        inner.pending_slow_reads = inner.pending_slow_reads.saturating_add(reads);
    }
}

/// The control API's hooks.
impl YouTubeState {
    /// Forgets sessions, videos, the day's budget, counters, faults and clock moves; keeps
    /// channels and tokens.
    pub(crate) fn reset(&self) {
        let mut inner = self.lock();
        let old = std::mem::take(&mut *inner);
        *inner = Inner {
            channels: old.channels,
            tokens: old.tokens,
            codes: old.codes,
            ..Inner::default()
        };
        drop(inner);
        self.faults.clear();
        self.clock.reset();
    }

    /// The fake's clock, for the control API (freeze, reset).
    pub(crate) fn clock(&self) -> &Clock {
        &self.clock
    }
}
