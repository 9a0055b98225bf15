//! OAuth v2 (Login Kit): the authorize URL, hex PKCE, code exchange, refresh and revoke, and the
//! [`TikTokRefresher`] that lets `cmis::RefreshingTokenProvider` rotate tokens safely.

use std::collections::BTreeSet;
use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use cmis_core::{
    AccountRef, Credential, Error, ExposeSecret, Platform, RefreshedToken, Result, SecretString,
    TenantId, TokenRefresher,
};
use cmis_http::Call;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use url::Url;
use url::form_urlencoded::byte_serialize;

use crate::TikTokClient;
use crate::error::{ApiErrorBody, classify_code, classify_oauth, classify_status};

const TOKEN_PATH: &str = "/v2/oauth/token/";
const REVOKE_PATH: &str = "/v2/oauth/revoke/";

/// A PKCE pair with TikTok's challenge: the **hex** SHA-256 of the verifier (not RFC 7636's
/// base64url, which TikTok refuses with "Code verifier or code challenge is invalid").
///
/// PKCE is required for mobile and desktop apps and optional for web apps. `Debug` hides the
/// verifier.
///
/// ```
/// # mod cmis { pub use cmis_core::*; pub mod media { pub use cmis_media::*; } pub mod tiktok { pub use cmis_tiktok::*; } }
/// use cmis::tiktok::Pkce;
/// let pkce = Pkce::from_verifier("a".repeat(43))?;
/// assert_eq!(pkce.challenge().len(), 64); // 32 bytes, hex
/// # Ok::<(), cmis::Error>(())
/// ```
#[derive(Clone)]
pub struct Pkce {
    verifier: SecretString,
    challenge: String,
}

impl fmt::Debug for Pkce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkce")
            .field("challenge", &self.challenge)
            .finish_non_exhaustive()
    }
}

impl Pkce {
    /// A fresh random verifier of 64 unreserved characters from the operating system's RNG.
    pub fn generate() -> Result<Self> {
        Self::from_verifier(cmis_core::pkce::random_verifier()?.expose_secret())
    }

    /// A pair from an existing verifier: 43 to 128 characters of `A-Z a-z 0-9 - . _ ~`.
    pub fn from_verifier(verifier: impl Into<String>) -> Result<Self> {
        let verifier = verifier.into();
        cmis_core::pkce::check_verifier(&verifier)?;
        let challenge = hex::encode(Sha256::digest(verifier.as_bytes()));
        Ok(Self {
            verifier: SecretString::from(verifier),
            challenge,
        })
    }

    /// The verifier, sent with the code exchange.
    pub fn verifier(&self) -> &SecretString {
        &self.verifier
    }

    /// The challenge: lowercase hex of SHA-256(verifier), sent with `code_challenge_method=S256`.
    pub fn challenge(&self) -> &str {
        &self.challenge
    }
}

/// What to put in the authorize URL.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AuthorizeRequest {
    /// Where TikTok sends the user back: absolute `https` without query or fragment (web), or
    /// `http://localhost:PORT` / `http://127.0.0.1:PORT` (desktop).
    pub redirect_uri: String,
    /// The scopes to ask for, such as `user.info.basic`, `video.publish`, `video.upload`.
    pub scopes: Vec<String>,
    /// An unguessable value checked when the user comes back (CSRF protection).
    pub state: String,
    /// The PKCE challenge's pair, if used.
    pub pkce: Option<Pkce>,
}

impl AuthorizeRequest {
    /// A request for `scopes`, coming back to `redirect_uri` with `state`.
    pub fn new<I, S>(redirect_uri: impl Into<String>, scopes: I, state: impl Into<String>) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            redirect_uri: redirect_uri.into(),
            scopes: scopes.into_iter().map(Into::into).collect(),
            state: state.into(),
            pkce: None,
        }
    }

    /// Adds PKCE.
    #[must_use]
    pub fn with_pkce(mut self, pkce: Pkce) -> Self {
        self.pkce = Some(pkce);
        self
    }
}

/// The flat token JSON from `/v2/oauth/token/` (TikTok wraps it in no `data` object).
///
/// `Debug` shows no token.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TokenGrant {
    /// The user's id for this app.
    pub open_id: String,
    /// The scopes the user actually granted (possibly fewer than asked for).
    pub scopes: BTreeSet<String>,
    /// The access token.
    pub access_token: SecretString,
    /// The access token's lifetime as TikTok reported it (2 h or 24 h depending on TikTok's
    /// current policy: never assume).
    pub expires_in: Duration,
    /// The refresh token. TikTok rotates it: the previous one stops working.
    pub refresh_token: SecretString,
    /// The refresh token's lifetime as reported.
    pub refresh_expires_in: Duration,
    /// Normally `Bearer`.
    pub token_type: String,
}

impl TokenGrant {
    /// A credential for `tenant` holding this grant, with expiry instants computed from
    /// `requested_at` (when the token request was sent, so lifetimes are never overestimated).
    pub fn to_credential(
        &self,
        tenant: impl Into<TenantId>,
        requested_at: OffsetDateTime,
    ) -> Credential {
        let account = AccountRef::new(tenant, Platform::TikTok, self.open_id.as_str());
        Credential::new(account, self.access_token.clone())
            .with_refresh_token(self.refresh_token.clone())
            .with_access_expires_at(cmis_core::after(requested_at, self.expires_in))
            .with_refresh_expires_at(cmis_core::after(requested_at, self.refresh_expires_in))
            .with_issued_at(requested_at)
            .with_scopes(self.scopes.iter().cloned())
    }
}

/// The fields of an OAuth answer, read leniently from a JSON value: a field of an unexpected
/// type counts as absent instead of making the whole answer unreadable (found by fuzzing: a
/// repeated or odd field hid the OAuth error code).
#[derive(Default)]
struct RawToken {
    error: Option<serde_json::Value>,
    error_description: Option<String>,
    log_id: Option<String>,
    open_id: Option<String>,
    scope: Option<String>,
    access_token: Option<String>,
    expires_in: Option<u64>,
    refresh_token: Option<String>,
    refresh_expires_in: Option<u64>,
    token_type: Option<String>,
}

impl RawToken {
    /// `None` when `v` is not a JSON object.
    fn from_value(v: &serde_json::Value) -> Option<Self> {
        use serde_json::Value;
        let obj = v.as_object()?;
        let text = |k: &str| obj.get(k).and_then(Value::as_str).map(str::to_owned);
        let seconds = |k: &str| match obj.get(k)? {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        Some(Self {
            error: obj.get("error").filter(|e| !e.is_null()).cloned(),
            error_description: text("error_description"),
            log_id: match obj.get("log_id") {
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => text("log_id"),
            },
            open_id: text("open_id"),
            scope: text("scope"),
            access_token: text("access_token"),
            expires_in: seconds("expires_in"),
            refresh_token: text("refresh_token"),
            refresh_expires_in: seconds("refresh_expires_in"),
            token_type: text("token_type"),
        })
    }
}

/// Parses the comma-separated scope list TikTok returns.
pub(crate) fn parse_scopes(raw: &str) -> BTreeSet<String> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Reads a body from the OAuth endpoints: the OAuth error envelope, the v2 error envelope, or
/// (when neither says error) the raw value.
fn oauth_error(status: u16, raw: &RawToken, call: Call) -> Option<Error> {
    match &raw.error {
        Some(serde_json::Value::String(code)) if !code.is_empty() => Some(classify_oauth(
            status,
            code,
            raw.error_description.as_deref().unwrap_or(""),
            raw.log_id.clone(),
        )),
        Some(obj @ serde_json::Value::Object(_)) => {
            let body = ApiErrorBody::from_value(obj).unwrap_or_default();
            (!body.code.is_empty() && body.code != "ok")
                .then(|| classify_code(status, &body, None, call))
        }
        _ => None,
    }
}

fn validate_redirect_uri(uri: &str) -> Result<()> {
    let bad = |why: &str| Err(Error::invalid_input(format!("redirect_uri {uri:?} {why}")));
    if uri.len() >= 512 {
        return bad("must be under 512 characters");
    }
    let Ok(url) = Url::parse(uri) else {
        return bad("is not an absolute URL");
    };
    if url.query().is_some() || url.fragment().is_some() || uri.contains('#') {
        return bad("must be static: no query string and no fragment");
    }
    match url.scheme() {
        "https" => Ok(()),
        "http"
            if matches!(url.host_str(), Some("localhost" | "127.0.0.1"))
                && url.port().is_some() =>
        {
            Ok(())
        }
        _ => {
            bad("must be https (or http://localhost:PORT / http://127.0.0.1:PORT for desktop apps)")
        }
    }
}

/// Percent-decodes `%XX` sequences (TikTok wants the code URL-decoded); anything else is kept.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%'
            && let (Some(h), Some(l)) = (bytes.get(i + 1), bytes.get(i + 2))
            && let (Some(h), Some(l)) = (hex_val(*h), hex_val(*l))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_owned())
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

impl TikTokClient {
    fn credentials(&self) -> Result<(&str, &SecretString)> {
        match (&self.inner.client_key, &self.inner.client_secret) {
            (Some(k), Some(s)) => Ok((k.as_str(), s)),
            _ => Err(Error::invalid_input(
                "TikTok OAuth calls need the client key and client secret: set them on the builder",
            )),
        }
    }

    /// The URL to send the user to: `client_key` (not `client_id`), `response_type=code`,
    /// comma-separated `scope`, `redirect_uri`, `state`, and with PKCE
    /// `code_challenge` + `code_challenge_method=S256`.
    ///
    /// ```
    /// # mod cmis { pub use cmis_core::*; pub mod media { pub use cmis_media::*; } pub mod tiktok { pub use cmis_tiktok::*; } }
    /// # fn demo() -> cmis::Result<()> {
    /// use cmis::SecretString;
    /// use cmis::tiktok::{AuthorizeRequest, TikTokClient};
    /// let client = TikTokClient::builder()
    ///     .client_key("awkey")
    ///     .client_secret(SecretString::from("s"))
    ///     .build()?;
    /// let url = client.authorize_url(&AuthorizeRequest::new(
    ///     "https://app.example.com/tiktok/callback",
    ///     ["user.info.basic", "video.publish"],
    ///     "state123",
    /// ))?;
    /// assert!(url.as_str().contains("scope=user.info.basic,video.publish"));
    /// # Ok(()) }
    /// ```
    pub fn authorize_url(&self, request: &AuthorizeRequest) -> Result<Url> {
        let Some(key) = &self.inner.client_key else {
            return Err(Error::invalid_input(
                "the authorize URL needs the client key: set it on the builder",
            ));
        };
        validate_redirect_uri(&request.redirect_uri)?;
        if request.scopes.is_empty() {
            return Err(Error::invalid_input("ask for at least one scope"));
        }
        if request.state.is_empty() {
            return Err(Error::invalid_input(
                "state is empty; use an unguessable value to protect the callback",
            ));
        }
        let enc = |s: &str| byte_serialize(s.as_bytes()).collect::<String>();
        // Scopes are joined with literal commas, as TikTok's own examples do.
        let scope = request
            .scopes
            .iter()
            .map(|s| enc(s))
            .collect::<Vec<_>>()
            .join(",");
        let mut query = format!(
            "client_key={}&response_type=code&scope={scope}&redirect_uri={}&state={}",
            enc(key),
            enc(&request.redirect_uri),
            enc(&request.state),
        );
        if let Some(pkce) = &request.pkce {
            query.push_str("&code_challenge=");
            query.push_str(pkce.challenge());
            query.push_str("&code_challenge_method=S256");
        }
        let mut url = self.inner.authorize_url.clone();
        url.set_query(Some(&query));
        Ok(url)
    }

    /// Exchanges an authorisation `code` for tokens (`grant_type=authorization_code`), with the
    /// PKCE verifier when the authorize URL had a challenge. `redirect_uri` must match exactly.
    pub async fn exchange_code(
        &self,
        code: &str,
        redirect_uri: &str,
        pkce: Option<&Pkce>,
    ) -> Result<TokenGrant> {
        let (key, secret) = self.credentials()?;
        if code.trim().is_empty() {
            return Err(Error::invalid_input("the authorisation code is empty"));
        }
        let code = percent_decode(code.trim());
        let mut form = vec![
            ("client_key", key.to_owned()),
            ("client_secret", secret.expose_secret().to_owned()),
            ("code", code),
            ("grant_type", "authorization_code".to_owned()),
            ("redirect_uri", redirect_uri.to_owned()),
        ];
        if let Some(pkce) = pkce {
            form.push(("code_verifier", pkce.verifier().expose_secret().to_owned()));
        }
        self.token_request(&form).await
    }

    /// Exchanges a refresh token for a new access token **and a new refresh token** (the old one
    /// stops working). Prefer [`TikTokRefresher`] with `RefreshingTokenProvider`, which persists
    /// the rotated token before using it.
    pub async fn refresh_token(&self, refresh_token: &SecretString) -> Result<TokenGrant> {
        let (key, secret) = self.credentials()?;
        let form = [
            ("client_key", key.to_owned()),
            ("client_secret", secret.expose_secret().to_owned()),
            ("grant_type", "refresh_token".to_owned()),
            ("refresh_token", refresh_token.expose_secret().to_owned()),
        ];
        self.token_request(&form).await
    }

    /// Revokes `token` (an access token), ending the app's access for that user.
    pub async fn revoke(&self, token: &SecretString) -> Result<()> {
        let (key, secret) = self.credentials()?;
        let form = [
            ("client_key", key.to_owned()),
            ("client_secret", secret.expose_secret().to_owned()),
            ("token", token.expose_secret().to_owned()),
        ];
        let (status, body) = self.form_post(REVOKE_PATH, &form).await?;
        revoke_response(status, &body)
    }

    /// Posts an OAuth form and reads the whole answer.
    async fn form_post(&self, path: &str, form: &[(&str, String)]) -> Result<(u16, Vec<u8>)> {
        // A token request rotates the refresh token: if it is sent and the answer is lost, the
        // old refresh token may already be dead, so a lost answer is an unknown outcome.
        let call = Call::Mutation;
        let request = self.http().post(self.url(path)).form(form);
        let response = cmis_http::send(request, call).await?;
        let status = response.status().as_u16();
        let what = format!("the TikTok OAuth call {path}");
        let body =
            cmis_http::read_answer(response, call, &what, cmis_http::MAX_OAUTH_RESPONSE_BYTES)
                .await?;
        Ok((status, body))
    }

    async fn token_request(&self, form: &[(&str, String)]) -> Result<TokenGrant> {
        let (status, body) = self.form_post(TOKEN_PATH, form).await?;
        token_response(status, &body)
    }
}

/// Reads an OAuth endpoint's answer: unreadable JSON, either error envelope, or an HTTP error
/// status are errors (`what` names the endpoint); anything else is the raw fields.
fn read_oauth(status: u16, body: &[u8], what: &str) -> Result<RawToken> {
    let call = Call::Mutation;
    let raw = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| RawToken::from_value(&v));
    let Some(raw) = raw else {
        return Err(classify_status(
            status,
            None,
            call,
            "unreadable OAuth response",
        ));
    };
    if let Some(err) = oauth_error(status, &raw, call) {
        return Err(err);
    }
    if !(200..300).contains(&status) {
        return Err(classify_status(status, None, call, what));
    }
    Ok(raw)
}

/// The answer of `/v2/oauth/revoke/`: `{}` on success.
pub(crate) fn revoke_response(status: u16, body: &[u8]) -> Result<()> {
    read_oauth(status, body, "revoke").map(|_| ())
}

/// The longest lifetime read from a token response: ten years. TikTok's tokens live hours
/// (access) and months (refresh); a larger figure is garbage that would overflow the expiry
/// instant computed from it.
const MAX_LIFETIME: Duration = Duration::from_secs(10 * 365 * 24 * 60 * 60);

/// The flat token JSON of `/v2/oauth/token/` (code exchange and refresh). An empty id or token
/// counts as missing: storing one would only fail later, far from the cause.
pub(crate) fn token_response(status: u16, body: &[u8]) -> Result<TokenGrant> {
    let raw = read_oauth(status, body, "token endpoint")?;
    let missing = |field: &str| {
        Error::internal(format!("TikTok's token response has no {field}"))
            .with_platform(Platform::TikTok)
    };
    let text =
        |v: Option<String>, field: &str| v.filter(|s| !s.is_empty()).ok_or_else(|| missing(field));
    let lifetime = |v: Option<u64>, field: &str| {
        v.map(|s| Duration::from_secs(s).min(MAX_LIFETIME))
            .ok_or_else(|| missing(field))
    };
    Ok(TokenGrant {
        open_id: text(raw.open_id, "open_id")?,
        scopes: parse_scopes(raw.scope.as_deref().unwrap_or("")),
        access_token: SecretString::from(text(raw.access_token, "access_token")?),
        expires_in: lifetime(raw.expires_in, "expires_in")?,
        refresh_token: SecretString::from(text(raw.refresh_token, "refresh_token")?),
        refresh_expires_in: lifetime(raw.refresh_expires_in, "refresh_expires_in")?,
        token_type: raw.token_type.unwrap_or_else(|| "Bearer".to_owned()),
    })
}

/// TikTok's [`TokenRefresher`]: the `refresh_token` grant, with lifetimes from `expires_in` and
/// `refresh_expires_in` and the rotated refresh token returned for the provider to persist
/// before use. `invalid_grant` (refresh token expired or revoked) is
/// [`ErrorKind::Auth`](cmis_core::ErrorKind::Auth).
///
/// ```no_run
/// # mod cmis { pub use cmis_core::*; pub mod media { pub use cmis_media::*; } pub mod tiktok { pub use cmis_tiktok::*; } }
/// # fn demo(client: cmis::tiktok::TikTokClient, store: std::sync::Arc<cmis::MemoryCredentialStore>) {
/// use std::sync::Arc;
/// use cmis::RefreshingTokenProvider;
/// use cmis::tiktok::TikTokRefresher;
/// let tokens = RefreshingTokenProvider::builder(store)
///     .refresher(Arc::new(TikTokRefresher::new(client)))
///     .build();
/// # let _ = tokens; }
/// ```
#[derive(Debug, Clone)]
pub struct TikTokRefresher {
    client: TikTokClient,
}

impl TikTokRefresher {
    /// A refresher using `client` (which must have the client key and secret).
    pub fn new(client: TikTokClient) -> Self {
        Self { client }
    }
}

#[async_trait]
impl TokenRefresher for TikTokRefresher {
    fn platform(&self) -> Platform {
        Platform::TikTok
    }

    async fn refresh(&self, current: &Credential) -> Result<RefreshedToken> {
        let Some(refresh_token) = &current.refresh_token else {
            return Err(Error::auth(format!(
                "{} has no refresh token; the user must re-authorise",
                current.account
            ))
            .with_platform(Platform::TikTok));
        };
        let grant = self
            .client
            .refresh_token(refresh_token)
            .await
            .map_err(|err| {
                // The refresher contract: a failure that is not TikTok refusing the grant is
                // transient. If the answer was lost, TikTok may already have rotated the refresh
                // token, and the next refresh will say `invalid_grant` (re-authorise).
                if err.kind() == cmis_core::ErrorKind::UnknownOutcome {
                    err.with_kind(cmis_core::ErrorKind::Transient)
                } else {
                    err
                }
            })?;
        let mut refreshed = RefreshedToken::new(grant.access_token)
            .with_refresh_token(grant.refresh_token)
            .with_expires_in(grant.expires_in)
            .with_refresh_expires_in(grant.refresh_expires_in);
        if !grant.scopes.is_empty() {
            refreshed = refreshed.with_scopes(grant.scopes);
        }
        Ok(refreshed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_odd_field_does_not_hide_the_oauth_error() {
        // The fuzzer found the repeated key; a numeric log_id did the same: the body was
        // unreadable and `invalid_grant` (re-authorise) became a bare HTTP 400.
        for body in [
            r#"{"error":"invalid_grant","error_description":"a","error_description":"b"}"#,
            r#"{"error":"invalid_grant","error_description":null,"log_id":20220622}"#,
        ] {
            let err = token_response(400, body.as_bytes()).err().unwrap();
            assert_eq!(err.kind(), cmis_core::ErrorKind::Auth, "{body}");
            assert_eq!(err.platform_code(), Some("invalid_grant"));
        }
    }

    #[test]
    fn empty_tokens_and_absurd_lifetimes_are_not_a_grant() {
        let body = |access: &str, life: &str| {
            format!(
                r#"{{"open_id":"o","scope":"video.publish","access_token":"{access}","expires_in":{life},"refresh_token":"r","refresh_expires_in":86400}}"#
            )
        };
        let err = token_response(200, body("", "7200").as_bytes())
            .err()
            .unwrap();
        assert!(err.message().contains("access_token"), "{err}");
        let grant = token_response(200, body("a", "18446744073709551615").as_bytes()).unwrap();
        assert_eq!(grant.expires_in, MAX_LIFETIME);
        let grant = token_response(200, body("a", "\"7200\"").as_bytes()).unwrap();
        assert_eq!(grant.expires_in, Duration::from_secs(7200));
    }

    #[test]
    fn challenge_is_hex_sha256() {
        // SHA-256 of 43 'a's, computed independently with `printf 'a%.0s' {1..43} | sha256sum`.
        let pkce = Pkce::from_verifier("a".repeat(43)).unwrap();
        assert_eq!(
            pkce.challenge(),
            "66d34fba71f8f450f7e45598853e53bfc23bbd129027cbb131a2f4ffd7878cd0"
        );
        assert!(!format!("{pkce:?}").contains("aaaa"));
        assert!(Pkce::from_verifier("short").is_err());
        assert!(Pkce::from_verifier(format!("{}!", "a".repeat(43))).is_err());
    }

    #[test]
    fn generated_verifiers_are_valid_and_differ() {
        let a = Pkce::generate().unwrap();
        let b = Pkce::generate().unwrap();
        assert_eq!(a.verifier().expose_secret().len(), 64);
        assert_ne!(a.challenge(), b.challenge());
    }

    #[test]
    fn percent_decoding_only_touches_escapes() {
        assert_eq!(percent_decode("abc%2A%21x"), "abc*!x");
        assert_eq!(percent_decode("a%zz+b"), "a%zz+b");
    }

    #[test]
    fn redirect_uris_follow_tiktoks_rules() {
        assert!(validate_redirect_uri("https://a.example/cb").is_ok());
        assert!(validate_redirect_uri("http://127.0.0.1:8080/cb").is_ok());
        assert!(validate_redirect_uri("http://localhost/cb").is_err());
        assert!(validate_redirect_uri("http://a.example/cb").is_err());
        assert!(validate_redirect_uri("https://a.example/cb?x=1").is_err());
        assert!(validate_redirect_uri("https://a.example/cb#f").is_err());
    }
}
