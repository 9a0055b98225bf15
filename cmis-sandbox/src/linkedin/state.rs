//! The fake LinkedIn's state apart from HTTP: members, organizations, tokens, the token
//! endpoint, the `/rest/` gate (version, protocol, bearer) and the error bodies. Posts are in
//! `posts.rs`, media in `media.rs`.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use cmis_core::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::media::Media;
use super::posts::Stored;
use super::{LinkedInConfig, LinkedInEndpoint, LinkedInTokens};
use crate::clock::{Clock, millis};
use crate::fault::Faults;
use crate::http::token;

/// The scopes [`super::LinkedInSandbox::add_member`] grants.
pub(crate) const ALL_SCOPES: &[&str] = &[
    "openid",
    "profile",
    "email",
    "w_member_social",
    "r_organization_social",
    "w_organization_social",
];

/// How long an authorization code lives: the docs say codes expire fast; 30 minutes is the
/// auth-code page's figure (an assumption for the fake).
const CODE_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// A LinkedIn error: its status and body. `oauth` errors (the token endpoint) carry only
/// `content-type`; REST errors add `x-restli-protocol-version: 2.0.0` and
/// `x-restli-error-response: true` (fixture `errors.json`); `gateway` adds
/// `x-restli-gateway-error: true` (`version_missing`).
#[derive(Debug, Clone)]
pub(crate) struct LiError {
    pub(crate) status: u16,
    pub(crate) body: Value,
    pub(crate) oauth: bool,
    pub(crate) gateway: bool,
}

pub(crate) fn rest(status: u16, body: Value) -> LiError {
    LiError {
        status,
        body,
        oauth: false,
        gateway: false,
    }
}

pub(crate) fn oauth(status: u16, error: &str, description: &str) -> LiError {
    LiError {
        oauth: true,
        ..rest(
            status,
            json!({ "error": error, "error_description": description }),
        )
    }
}

/// `errors.json` → `token_expired`.
pub(crate) fn token_expired() -> LiError {
    rest(
        401,
        json!({"status":401,"serviceErrorCode":65602,"code":"EXPIRED_ACCESS_TOKEN","message":"The token used in the request has expired"}),
    )
}

/// `errors.json` → `access_denied_*`: 403 `ACCESS_DENIED` naming the resource and method.
pub(crate) fn access_denied(what: &str) -> LiError {
    rest(
        403,
        json!({"status":403,"serviceErrorCode":100,"code":"ACCESS_DENIED","message":format!("Not enough permissions to access: {what}")}),
    )
}

/// The `errorDetails.inputErrors` envelope (`field_length_too_long`, `media_asset_*`,
/// `duplicate_post`).
pub(crate) fn input_error(status: u16, message: &str, field: Option<&str>, code: &str) -> LiError {
    let input = field.map_or_else(|| json!({}), |f| json!({"inputPath": {"fieldPath": f}}));
    rest(
        status,
        json!({
            "errorDetailType": "com.linkedin.common.error.BadRequest",
            "message": message,
            "errorDetails": {"inputErrors": [{"description": message, "input": input, "code": code}]},
            "status": status,
        }),
    )
}

/// A request LinkedIn would refuse whose body no source shows (constructed, in the
/// `inputErrors` envelope with code `PARAM_INVALID`).
pub(crate) fn invalid(field: &str, message: &str) -> LiError {
    input_error(400, message, Some(field), "PARAM_INVALID")
}

/// `errors.json` → `post_not_found` (constructed there).
pub(crate) fn not_found() -> LiError {
    rest(
        404,
        json!({"status":404,"code":"NOT_FOUND","message":"Not Found"}),
    )
}

/// A token the fake issued (access or refresh).
#[derive(Debug)]
struct Tok {
    person: String,
    scopes: BTreeSet<String>,
    expires_ms: i64,
    revoked: bool,
    refresh: bool,
}

#[derive(Debug)]
struct Code {
    person: String,
    scopes: BTreeSet<String>,
    redirect_uri: String,
    expires_ms: i64,
}

/// Who a `/rest/` call acts for.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    /// `urn:li:person:…`.
    pub(crate) person: String,
    pub(crate) scopes: BTreeSet<String>,
    /// The `LinkedIn-Version` it sent, `YYYYMM`.
    pub(crate) version: u32,
}

impl Caller {
    pub(crate) fn has(&self, scope: &str) -> bool {
        self.scopes.contains(scope)
    }
}

#[derive(Debug, Default)]
pub(crate) struct Inner {
    tokens: HashMap<String, Tok>,
    codes: HashMap<String, Code>,
    /// Organization URN → its administrators' person URNs.
    pub(crate) orgs: HashMap<String, BTreeSet<String>>,
    pub(crate) posts: Vec<Stored>,
    pub(crate) media: HashMap<String, Media>,
    /// Upload token (`ut`/`sau` query value) → media URN and video part index.
    pub(crate) uploads: HashMap<String, (String, Option<usize>)>,
    pub(crate) next_post: u64,
    pub(crate) duplicates: u64,
    refreshes: u64,
    /// Extra status reads for the next finalized video ([`crate::Fault::SlowProcessing`]).
    pub(crate) pending_slow_reads: u32,
}

/// The fake LinkedIn's state.
#[derive(Debug)]
pub(crate) struct LinkedInState {
    config: LinkedInConfig,
    base_url: OnceLock<String>,
    inner: Mutex<Inner>,
    pub(crate) faults: Faults<LinkedInEndpoint>,
    clock: Clock,
}

pub(crate) fn person_urn(id: &str) -> String {
    if id.starts_with("urn:li:person:") {
        id.to_owned()
    } else {
        format!("urn:li:person:{id}")
    }
}

impl LinkedInState {
    pub(crate) fn new(config: LinkedInConfig) -> Self {
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

    pub(crate) fn config(&self) -> &LinkedInConfig {
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

    pub(crate) fn add_organization(&self, org_id: &str, admin: &str) {
        let org = if org_id.starts_with("urn:li:organization:") {
            org_id.to_owned()
        } else {
            format!("urn:li:organization:{org_id}")
        };
        self.lock()
            .orgs
            .entry(org)
            .or_default()
            .insert(person_urn(admin));
    }

    fn insert(
        &self,
        inner: &mut Inner,
        person: &str,
        scopes: &BTreeSet<String>,
        refresh: bool,
    ) -> String {
        let lifetime = if refresh {
            self.config.refresh_token_lifetime
        } else {
            self.config.access_token_lifetime
        };
        let t = token(if refresh { "AQW" } else { "AQX" });
        inner.tokens.insert(
            t.clone(),
            Tok {
                person: person.to_owned(),
                scopes: scopes.clone(),
                expires_ms: self.now_ms().saturating_add(millis(lifetime)),
                revoked: false,
                refresh,
            },
        );
        t
    }

    pub(crate) fn issue_tokens(&self, person_id: &str, scopes: &[&str]) -> LinkedInTokens {
        let person = person_urn(person_id);
        let scopes: BTreeSet<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
        let mut inner = self.lock();
        let access = self.insert(&mut inner, &person, &scopes, false);
        let refresh = self
            .config
            .programmatic_refresh
            .then(|| SecretString::from(self.insert(&mut inner, &person, &scopes, true)));
        LinkedInTokens {
            access_token: SecretString::from(access),
            refresh_token: refresh,
            person,
            scopes: scopes.into_iter().collect(),
        }
    }

    pub(crate) fn issue_code(
        &self,
        person_id: &str,
        scopes: &[&str],
        redirect_uri: &str,
    ) -> String {
        let code = token("AQT");
        let expires_ms = self.now_ms().saturating_add(millis(CODE_LIFETIME));
        self.lock().codes.insert(
            code.clone(),
            Code {
                person: person_urn(person_id),
                scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
                redirect_uri: redirect_uri.to_owned(),
                expires_ms,
            },
        );
        code
    }

    pub(crate) fn expire_token(&self, t: &str) {
        let now = self.now_ms();
        if let Some(tok) = self.lock().tokens.get_mut(t) {
            tok.expires_ms = tok.expires_ms.min(now);
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

    pub(crate) fn duplicate_attempts(&self) -> u64 {
        self.lock().duplicates
    }

    /// `POST /oauth/v2/accessToken` (brief §1): both grants, form-encoded, the client checked
    /// first.
    ///
    /// Errors: a wrong client gets 401 `invalid_client` (constructed); an unknown code 401
    /// `oauth_code_not_found_docs`; an expired code or another `redirect_uri` 400
    /// `oauth_code_expired_docs`; an unknown, expired or revoked refresh token 400
    /// `invalid_grant` (`oauth_error_invalid_grant.json`).
    pub(crate) fn token_grant(&self, form: &HashMap<String, String>) -> Result<Value, LiError> {
        let field = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
        if field("client_id") != self.config.client_id
            || field("client_secret") != self.config.client_secret.expose_secret()
        {
            return Err(oauth(401, "invalid_client", "Client authentication failed"));
        }
        let now = self.now_ms();
        let mut inner = self.lock();
        match field("grant_type") {
            "authorization_code" => {
                let Some(code) = inner.codes.remove(field("code")) else {
                    return Err(oauth(
                        401,
                        "invalid_request",
                        "Unable to retrieve access token: authorization code not found",
                    ));
                };
                if code.expires_ms <= now || code.redirect_uri != field("redirect_uri") {
                    return Err(oauth(
                        400,
                        "invalid_redirect_uri",
                        "Unable to retrieve access token: appid/redirect uri/code verifier does \
                         not match authorization code. Or authorization code expired. Or \
                         external member binding exists",
                    ));
                }
                let access = self.insert(&mut inner, &code.person, &code.scopes, false);
                let mut body = json!({
                    "access_token": access,
                    "expires_in": self.config.access_token_lifetime.as_secs(),
                });
                if self.config.programmatic_refresh {
                    let refresh = self.insert(&mut inner, &code.person, &code.scopes, true);
                    body["refresh_token"] = json!(refresh);
                    body["refresh_token_expires_in"] =
                        json!(self.config.refresh_token_lifetime.as_secs());
                }
                body["scope"] = json!(code.scopes.iter().cloned().collect::<Vec<_>>().join(","));
                Ok(body)
            }
            "refresh_token" => {
                let presented = field("refresh_token");
                let dead = || oauth(400, "invalid_grant", "Token has been expired or revoked.");
                let tok = inner.tokens.get(presented).ok_or_else(dead)?;
                if !tok.refresh || tok.revoked || tok.expires_ms <= now {
                    return Err(dead());
                }
                // The refresh token's TTL does not reset (brief §1): the same token comes back
                // with what is left of its lifetime.
                let (person, scopes, left_ms) =
                    (tok.person.clone(), tok.scopes.clone(), tok.expires_ms - now);
                let access = self.insert(&mut inner, &person, &scopes, false);
                inner.refreshes += 1;
                Ok(json!({
                    "access_token": access,
                    "expires_in": self.config.access_token_lifetime.as_secs(),
                    "refresh_token": presented,
                    "refresh_token_expires_in": left_ms / 1000,
                    "scope": scopes.into_iter().collect::<Vec<_>>().join(","),
                }))
            }
            "" => Err(oauth(
                400,
                "invalid_request",
                "A required parameter \"grant_type\" is missing",
            )),
            other => Err(oauth(
                400,
                "unsupported_grant_type",
                &format!("The grant type {other} is not supported"),
            )),
        }
    }

    /// The `/rest/` gate: `LinkedIn-Version`, `X-Restli-Protocol-Version`, then the bearer
    /// token (brief §0, §1).
    pub(crate) fn gate(
        &self,
        version: Option<&str>,
        protocol: Option<&str>,
        bearer: Option<&str>,
    ) -> Result<Caller, LiError> {
        let version = self.check_version(version)?;
        if protocol != Some("2.0.0") {
            // Constructed: LinkedIn's answer to a missing protocol header is not documented.
            return Err(rest(
                400,
                json!({"status":400,"code":"PROTOCOL_VERSION_MISSING","message":"The X-Restli-Protocol-Version header must be 2.0.0"}),
            ));
        }
        self.caller(bearer, version)
    }

    /// The member a bearer token acts for (`/rest/` calls after the version checks, and
    /// `/v2/userinfo`): `token_empty`, `token_invalid`, `token_revoked` or `token_expired`.
    pub(crate) fn caller(&self, bearer: Option<&str>, version: u32) -> Result<Caller, LiError> {
        let Some(t) = bearer else {
            // `errors.json` → `token_empty` (error-handling, verbatim).
            return Err(rest(
                401,
                json!({"message":"Empty oauth2_access_token","serviceErrorCode":401,"status":401}),
            ));
        };
        let inner = self.lock();
        let tok = inner.tokens.get(t).filter(|k| !k.refresh).ok_or_else(|| {
            rest(
                401,
                json!({"serviceErrorCode":65600,"message":"Invalid access token","status":401}),
            )
        })?;
        if tok.revoked {
            return Err(rest(
                401,
                json!({"status":401,"serviceErrorCode":65601,"code":"REVOKED_ACCESS_TOKEN","message":"The token used in the request has been revoked by the user"}),
            ));
        }
        if tok.expires_ms <= self.now_ms() {
            return Err(token_expired());
        }
        Ok(Caller {
            person: tok.person.clone(),
            scopes: tok.scopes.clone(),
            version,
        })
    }

    /// A missing version: `errors.json` → `version_missing`. A sunset one (older than
    /// `oldest_active_version`, or listed in `sunset_versions`), one not released yet (after
    /// the current month) or a malformed one: `version_sunset`, the version echoed as
    /// `YYYYMM01`.
    fn check_version(&self, version: Option<&str>) -> Result<u32, LiError> {
        let Some(v) = version.map(str::trim) else {
            return Err(LiError {
                gateway: true,
                ..rest(
                    400,
                    json!({"status":400,"code":"VERSION_MISSING","message":"A version must be present. Please specify a version by adding the LinkedIn-Version header."}),
                )
            });
        };
        let sunset = |shown: String| {
            rest(
                426,
                json!({"status":426,"code":"NONEXISTENT_VERSION","message":format!("Requested version {shown} is not active")}),
            )
        };
        let parsed = (v.len() == 6 && v.bytes().all(|b| b.is_ascii_digit()))
            .then(|| v.parse::<u32>().ok())
            .flatten()
            .filter(|n| (1..=12).contains(&(n % 100)));
        let Some(n) = parsed else {
            return Err(sunset(v.to_owned()));
        };
        if n < self.config.oldest_active_version
            || self.config.sunset_versions.contains(&n)
            || n > self.current_month()
        {
            return Err(sunset(format!("{n}01")));
        }
        Ok(n)
    }

    /// The current month on the fake's clock, as `YYYYMM`.
    fn current_month(&self) -> u32 {
        let date = time::OffsetDateTime::from_unix_timestamp(self.now_ms() / 1000)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        u32::try_from(date.year()).unwrap_or(0) * 100 + u32::from(u8::from(date.month()))
    }

    /// Whether `person` may act as `author` (itself, or an organization it administers).
    pub(crate) fn may_act_as(inner: &Inner, person: &str, author: &str) -> bool {
        author == person || inner.orgs.get(author).is_some_and(|a| a.contains(person))
    }
}

/// The control API's hooks.
impl LinkedInState {
    /// Forgets posts, media, uploads, counters, faults and clock moves; keeps tokens,
    /// organizations and the post counter.
    pub(crate) fn reset(&self) {
        let mut inner = self.lock();
        let old = std::mem::take(&mut *inner);
        *inner = Inner {
            tokens: old.tokens,
            codes: old.codes,
            orgs: old.orgs,
            next_post: old.next_post,
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
