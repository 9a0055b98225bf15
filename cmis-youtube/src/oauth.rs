//! Google OAuth 2.0 for YouTube: the consent URL with PKCE (S256) and offline access, the code
//! exchange, and [`GoogleTokenRefresher`] for `cmis::RefreshingTokenProvider`
//! (`docs/youtube-api.md` §1).
//!
//! # Refresh tokens that die
//!
//! Google does not rotate refresh tokens: a refresh answer normally has no `refresh_token`, and
//! the stored one is kept. A refresh token dies when the user revokes access, after six months
//! unused, when an account holds more than 100 of them for one client id (the oldest is
//! dropped silently), and, **for a Google Cloud project whose OAuth consent screen is in
//! "Testing" with an external user type, after 7 days**: every YouTube account connected to
//! such a project must re-authorise weekly. Publish the consent screen ("In production") before
//! connecting real accounts. A dead refresh token answers `invalid_grant`, which this crate
//! reports as [`ErrorKind::Auth`]: re-authorise, never retry.

use std::collections::BTreeSet;
use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cmis_core::{
    AccountRef, Credential, Error, ErrorKind, ExposeSecret, Platform, RefreshedToken, Result,
    SecretString, TokenRefresher,
};
use cmis_http::Call;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use url::Url;
use url::form_urlencoded::byte_serialize;

use crate::YouTubeClient;

/// Upload videos (`videos.insert`, `thumbnails.set`).
pub const SCOPE_UPLOAD: &str = "https://www.googleapis.com/auth/youtube.upload";
/// Read the channel, its uploads and a video's processing status (`channels.list`,
/// `playlistItems.list`, `videos.list` do not accept `youtube.upload`).
pub const SCOPE_READONLY: &str = "https://www.googleapis.com/auth/youtube.readonly";
/// The scopes asked for when none are given: the least a publisher needs.
pub const DEFAULT_SCOPES: [&str; 2] = [SCOPE_UPLOAD, SCOPE_READONLY];

/// The longest lifetime read from a token answer (ten years); a larger one is garbage that
/// would overflow the expiry instant.
const MAX_LIFETIME: Duration = Duration::from_secs(10 * 365 * 24 * 60 * 60);

/// A PKCE pair (RFC 7636, S256): a random verifier and its challenge, the base64url SHA-256 of
/// the verifier without padding. `Debug` hides the verifier.
///
/// ```
/// # mod cmis { pub use cmis_core::*; pub mod youtube { pub use cmis_youtube::*; } }
/// use cmis::youtube::Pkce;
/// // RFC 7636, appendix B.
/// let pkce = Pkce::from_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")?;
/// assert_eq!(pkce.challenge(), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
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
    /// A fresh verifier of 64 unreserved characters from the operating system's RNG.
    pub fn generate() -> Result<Self> {
        Self::from_verifier(cmis_core::pkce::random_verifier()?.expose_secret())
    }

    /// A pair from an existing verifier: 43 to 128 characters of `A-Z a-z 0-9 - . _ ~`.
    pub fn from_verifier(verifier: impl Into<String>) -> Result<Self> {
        let verifier = verifier.into();
        cmis_core::pkce::check_verifier(&verifier)?;
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        Ok(Self {
            verifier: SecretString::from(verifier),
            challenge,
        })
    }

    /// The verifier, sent with the code exchange.
    pub fn verifier(&self) -> &SecretString {
        &self.verifier
    }

    /// The challenge, sent in the consent URL with `code_challenge_method=S256`.
    pub fn challenge(&self) -> &str {
        &self.challenge
    }
}

/// What Google's token endpoint returned. `Debug` shows no token.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct GoogleTokens {
    /// The access token (about an hour).
    pub access_token: SecretString,
    /// The refresh token: given on the first consent with `access_type=offline` (and on every
    /// consent with `prompt=consent`); usually absent from a refresh answer, which keeps the
    /// stored one.
    pub refresh_token: Option<SecretString>,
    /// The access token's lifetime as Google reported it (`expires_in`).
    pub expires_in: Option<Duration>,
    /// The refresh token's lifetime, when access is time-limited (`refresh_token_expires_in`).
    pub refresh_token_expires_in: Option<Duration>,
    /// The granted scopes (`scope`, space-separated), possibly fewer than asked for.
    pub scopes: BTreeSet<String>,
    /// Normally `Bearer`.
    pub token_type: String,
}

impl GoogleTokens {
    /// A credential for `account` (a YouTube channel: its id from
    /// [`YouTubeClient::channels_mine`]) holding these tokens, with expiry instants computed from
    /// `requested_at` (when the token request was sent, so lifetimes are never overestimated).
    pub fn credential(&self, account: AccountRef, requested_at: OffsetDateTime) -> Credential {
        let mut c = Credential::new(account, self.access_token.clone())
            .with_issued_at(requested_at)
            .with_scopes(self.scopes.iter().cloned());
        if let Some(rt) = &self.refresh_token {
            c = c.with_refresh_token(rt.clone());
        }
        if let Some(d) = self.expires_in {
            c = c.with_access_expires_at(cmis_core::after(requested_at, d));
        }
        if let Some(d) = self.refresh_token_expires_in {
            c = c.with_refresh_expires_at(cmis_core::after(requested_at, d));
        }
        c
    }

    /// Whether `scope` was granted.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.contains(scope)
    }
}

/// RFC 3986 percent-encoding (a space is `%20`, as in Google's examples, not `+`).
fn enc(s: &str) -> String {
    byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

impl YouTubeClient {
    fn oauth_client(&self) -> Result<(&str, &SecretString)> {
        match (&self.inner.client_id, &self.inner.client_secret) {
            (Some(id), Some(secret)) => Ok((id.as_str(), secret)),
            _ => Err(Error::invalid_input(
                "Google OAuth calls need the client id and client secret: set them on the builder",
            )),
        }
    }

    /// The consent URL to send the user to: `client_id`, `redirect_uri`, `response_type=code`,
    /// the space-separated `scope` ([`DEFAULT_SCOPES`] when `scopes` is empty),
    /// `access_type=offline` (a refresh token), `prompt=consent` (a refresh token again on a
    /// second consent), `include_granted_scopes=true`, `state`, and with PKCE `code_challenge`
    /// and `code_challenge_method=S256`.
    ///
    /// ```
    /// # mod cmis { pub use cmis_core::*; pub mod youtube { pub use cmis_youtube::*; } }
    /// # fn demo() -> cmis::Result<()> {
    /// use cmis::SecretString;
    /// use cmis::youtube::{Pkce, YouTubeClient};
    /// let client = YouTubeClient::builder()
    ///     .client_id("123-abc.apps.googleusercontent.com")
    ///     .client_secret(SecretString::from("s"))
    ///     .build()?;
    /// let pkce = Pkce::generate()?; // keep its verifier for the code exchange
    /// let url = client.authorize_url("https://app.example/yt/callback", "state-1", &[], Some(&pkce))?;
    /// assert!(url.as_str().contains("access_type=offline"));
    /// # Ok(()) }
    /// # demo().unwrap();
    /// ```
    pub fn authorize_url(
        &self,
        redirect_uri: &str,
        state: &str,
        scopes: &[&str],
        pkce: Option<&Pkce>,
    ) -> Result<Url> {
        let Some(client_id) = &self.inner.client_id else {
            return Err(Error::invalid_input(
                "the consent URL needs the client id: set it on the builder",
            ));
        };
        let redirect = Url::parse(redirect_uri).map_err(|e| {
            Error::invalid_input(format!("redirect_uri {redirect_uri:?} is not a URL: {e}"))
        })?;
        if redirect.fragment().is_some() || !matches!(redirect.scheme(), "http" | "https") {
            return Err(Error::invalid_input(format!(
                "redirect_uri {redirect_uri:?} must be an http(s) URL without a fragment"
            )));
        }
        if state.is_empty() {
            return Err(Error::invalid_input(
                "state is empty; use an unguessable value to protect the callback",
            ));
        }
        let scopes: Vec<&str> = if scopes.is_empty() {
            DEFAULT_SCOPES.to_vec()
        } else {
            scopes.to_vec()
        };
        let mut query = format!(
            "client_id={}&redirect_uri={}&response_type=code&scope={}&access_type=offline\
             &prompt=consent&include_granted_scopes=true&state={}",
            enc(client_id),
            enc(redirect_uri),
            enc(&scopes.join(" ")),
            enc(state),
        );
        if let Some(pkce) = pkce {
            query.push_str("&code_challenge=");
            query.push_str(pkce.challenge());
            query.push_str("&code_challenge_method=S256");
        }
        let mut url = self.inner.authorize.clone();
        url.set_query(Some(&query));
        Ok(url)
    }

    /// Exchanges the authorisation `code` for tokens (`grant_type=authorization_code`), with
    /// the PKCE verifier when the consent URL had a challenge. `redirect_uri` must be the one
    /// the consent URL had.
    pub async fn exchange_code(
        &self,
        code: &str,
        redirect_uri: &str,
        pkce: Option<&Pkce>,
    ) -> Result<GoogleTokens> {
        let (id, secret) = self.oauth_client()?;
        if code.trim().is_empty() {
            return Err(Error::invalid_input("the authorisation code is empty"));
        }
        let mut form = vec![
            ("code", code.trim().to_owned()),
            ("client_id", id.to_owned()),
            ("client_secret", secret.expose_secret().to_owned()),
            ("redirect_uri", redirect_uri.to_owned()),
            ("grant_type", "authorization_code".to_owned()),
        ];
        if let Some(pkce) = pkce {
            form.push(("code_verifier", pkce.verifier().expose_secret().to_owned()));
        }
        self.token_request(&form).await
    }

    /// Exchanges `refresh_token` for a new access token. The answer usually has no refresh
    /// token: keep the one you have ([`GoogleTokenRefresher`] does).
    pub async fn refresh_access_token(&self, refresh_token: &SecretString) -> Result<GoogleTokens> {
        let (id, secret) = self.oauth_client()?;
        let form = [
            ("client_id", id.to_owned()),
            ("client_secret", secret.expose_secret().to_owned()),
            ("refresh_token", refresh_token.expose_secret().to_owned()),
            ("grant_type", "refresh_token".to_owned()),
        ];
        self.token_request(&form).await
    }

    async fn token_request(&self, form: &[(&str, String)]) -> Result<GoogleTokens> {
        // Google does not rotate refresh tokens, so a refresh whose answer is lost changes
        // nothing: a read. (A lost code exchange spends the code either way.)
        let call = Call::Read;
        let request = self.http().post(self.inner.token.as_str()).form(form);
        let response = cmis_http::send(request, call).await?;
        let status = response.status().as_u16();
        let body = cmis_http::read_answer(
            response,
            call,
            "the Google token endpoint",
            cmis_http::MAX_OAUTH_RESPONSE_BYTES,
        )
        .await?;
        token_response(status, &body)
    }
}

/// Reads the token endpoint's answer.
pub(crate) fn token_response(status: u16, body: &[u8]) -> Result<GoogleTokens> {
    use serde_json::Value;
    let value: Option<Value> = serde_json::from_slice(body).ok();
    let obj = value.as_ref().and_then(Value::as_object);
    let text = |k: &str| {
        obj.and_then(|o| o.get(k))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let seconds = |k: &str| {
        let v = obj.and_then(|o| o.get(k))?;
        let secs = match v {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }?;
        Some(Duration::from_secs(secs).min(MAX_LIFETIME))
    };
    if let Some(code) = text("error") {
        return Err(oauth_error(status, &code, text("error_description")));
    }
    if !(200..300).contains(&status) {
        let msg = format!("Google's token endpoint answered HTTP {status}");
        let err = match status {
            429 => Error::rate_limited(msg),
            500..=599 => Error::transient(msg),
            _ => Error::auth(msg),
        };
        return Err(err.with_platform(Platform::YouTube));
    }
    let access = text("access_token").ok_or_else(|| {
        Error::transient("Google's token answer has no access_token")
            .with_platform(Platform::YouTube)
    })?;
    Ok(GoogleTokens {
        access_token: SecretString::from(access),
        refresh_token: text("refresh_token").map(SecretString::from),
        expires_in: seconds("expires_in"),
        refresh_token_expires_in: seconds("refresh_token_expires_in"),
        scopes: text("scope")
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        token_type: text("token_type").unwrap_or_else(|| "Bearer".to_owned()),
    })
}

/// An OAuth error answer (`{"error","error_description"}`), classified by `error` only: its
/// description varies ("Token has been expired or revoked.", "Bad Request").
fn oauth_error(status: u16, code: &str, description: Option<String>) -> Error {
    let detail = description.map(|d| format!(": {d}")).unwrap_or_default();
    let msg = format!("Google refused the token request ({code}{detail})");
    let err = match code {
        "invalid_grant" => Error::auth(msg).with_user_message(
            "the YouTube authorisation has expired or was revoked: connect the channel again",
        ),
        "invalid_client" | "unauthorized_client" => {
            Error::invalid_input(format!("{msg}; check the OAuth client id and secret"))
        }
        "invalid_request" | "unsupported_grant_type" | "invalid_scope" => Error::invalid_input(msg),
        "temporarily_unavailable" | "server_error" => Error::transient(msg),
        _ if status >= 500 => Error::transient(msg),
        _ if status == 429 => Error::rate_limited(msg),
        _ => Error::auth(msg),
    };
    err.with_platform(Platform::YouTube)
        .with_platform_code(code)
}

/// Google's [`TokenRefresher`] for `cmis::RefreshingTokenProvider`: the `refresh_token` grant,
/// the lifetime read from `expires_in`, and the stored refresh token **kept** when the answer
/// has none (Google's usual answer). `invalid_grant` is
/// [`ErrorKind::Auth`] (re-authorise; never retried); a network
/// failure is [`ErrorKind::Transient`].
///
/// A project whose consent screen is in "Testing" gets refresh tokens that die after 7 days:
/// see the [module docs](crate::oauth).
///
/// ```no_run
/// # mod cmis { pub use cmis_core::*; pub mod youtube { pub use cmis_youtube::*; } }
/// # fn demo(client: cmis::youtube::YouTubeClient, store: std::sync::Arc<cmis::MemoryCredentialStore>) {
/// use std::sync::Arc;
/// use cmis::RefreshingTokenProvider;
/// use cmis::youtube::GoogleTokenRefresher;
/// let tokens = RefreshingTokenProvider::builder(store)
///     .refresher(Arc::new(GoogleTokenRefresher::new(client)))
///     .build();
/// # let _ = tokens; }
/// ```
#[derive(Debug, Clone)]
pub struct GoogleTokenRefresher {
    client: YouTubeClient,
}

impl GoogleTokenRefresher {
    /// A refresher using `client` (which must have the client id and secret).
    pub fn new(client: YouTubeClient) -> Self {
        Self { client }
    }
}

#[async_trait]
impl TokenRefresher for GoogleTokenRefresher {
    fn platform(&self) -> Platform {
        Platform::YouTube
    }

    async fn refresh(&self, current: &Credential) -> Result<RefreshedToken> {
        let Some(refresh_token) = &current.refresh_token else {
            return Err(Error::auth(format!(
                "{} has no refresh token; the user must re-authorise",
                current.account
            ))
            .with_platform(Platform::YouTube));
        };
        let tokens = self
            .client
            .refresh_access_token(refresh_token)
            .await
            .map_err(|err| {
                if err.kind() == ErrorKind::UnknownOutcome {
                    err.with_kind(ErrorKind::Transient)
                } else {
                    err
                }
            })?;
        let mut refreshed = RefreshedToken::new(tokens.access_token);
        // No refresh token in the answer keeps the stored one (`RefreshedToken::apply_to`).
        if let Some(rt) = tokens.refresh_token {
            refreshed = refreshed.with_refresh_token(rt);
        }
        if let Some(d) = tokens.expires_in {
            refreshed = refreshed.with_expires_in(d);
        }
        if let Some(d) = tokens.refresh_token_expires_in {
            refreshed = refreshed.with_refresh_expires_in(d);
        }
        if !tokens.scopes.is_empty() {
            refreshed = refreshed.with_scopes(tokens.scopes);
        }
        Ok(refreshed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_verifiers_are_valid_and_differ() {
        let a = Pkce::generate().unwrap();
        let b = Pkce::generate().unwrap();
        assert_eq!(a.verifier().expose_secret().len(), 64);
        assert_ne!(a.challenge(), b.challenge());
        assert!(!format!("{a:?}").contains(a.verifier().expose_secret()));
        assert!(Pkce::from_verifier("short").is_err());
    }

    #[test]
    fn invalid_grant_is_auth_whatever_the_description() {
        for body in [
            r#"{"error":"invalid_grant","error_description":"Token has been expired or revoked."}"#,
            r#"{"error":"invalid_grant","error_description":"Bad Request"}"#,
            r#"{"error":"invalid_grant"}"#,
        ] {
            let err = token_response(400, body.as_bytes()).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Auth, "{body}");
            assert!(!err.is_retryable());
            assert_eq!(err.platform_code(), Some("invalid_grant"));
        }
        let err = token_response(503, b"<html>").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Transient);
    }
}
