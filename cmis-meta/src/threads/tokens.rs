//! Threads tokens (`docs/threads-api.md` §1): the authorize URL, code → short-lived (1 h) →
//! long-lived (60 days), and `th_refresh_token`, allowed once a token is 24 hours old and
//! before it expires. There is no separate refresh token: the long-lived token refreshes itself.

use std::time::Duration;

use async_trait::async_trait;
use cmis_core::{
    Credential, Error, ErrorKind, ExposeSecret, Platform, RefreshedToken, Result, SecretString,
    TokenRefresher,
};
use serde_json::Value;
use url::Url;

use super::ThreadsClient;
use crate::client::ApiRequest;
use crate::tokens::refreshed;

/// Where a person grants the Threads app access (doc updated Aug 12, 2026).
pub const AUTHORIZE_URL: &str = "https://threads.com/oauth/authorize";

/// Threads refuses to refresh a token younger than 24 hours (§1).
pub const MIN_REFRESH_AGE: Duration = Duration::from_secs(24 * 60 * 60);

/// A short-lived token's lifetime when the answer does not say: 1 hour (§1).
const SHORT_LIVED: Duration = Duration::from_secs(60 * 60);

const TOKEN_KEY: &str = "threads:tokens";

/// The URL that asks a person to grant `scopes` (comma-separated, as Threads expects) to the
/// Threads app `client`'s id, coming back to `redirect_uri` with `state`.
///
/// ```
/// # mod cmis { pub use cmis_core::*; pub mod meta { pub use cmis_meta::*; } }
/// # fn demo() -> cmis::Result<()> {
/// use cmis::meta::{ThreadsClient, threads};
/// let client = ThreadsClient::builder().app_id("990602627938098").build()?;
/// let url = threads::authorize_url(
///     &client,
///     "https://app.example/callback",
///     &["threads_basic", "threads_content_publish"],
///     "xyz",
/// )?;
/// assert!(url.as_str().starts_with("https://threads.com/oauth/authorize?client_id=990602627938098"));
/// assert!(url.as_str().contains("scope=threads_basic%2Cthreads_content_publish"));
/// # Ok(()) }
/// # demo().unwrap();
/// ```
pub fn authorize_url(
    client: &ThreadsClient,
    redirect_uri: &str,
    scopes: &[&str],
    state: &str,
) -> Result<Url> {
    let app_id = client.app_id().ok_or_else(|| {
        Error::invalid_input(
            "the authorize URL needs the Threads app id (ThreadsClient::builder().app_id(..))",
        )
    })?;
    Url::parse(redirect_uri).map_err(|e| {
        Error::invalid_input(format!("redirect_uri {redirect_uri:?} is not a URL: {e}"))
    })?;
    if scopes.is_empty() {
        return Err(Error::invalid_input(
            "the authorize URL needs at least one scope",
        ));
    }
    let mut url = Url::parse(AUTHORIZE_URL)
        .map_err(|e| Error::internal(format!("the authorize URL does not parse: {e}")))?;
    url.query_pairs_mut()
        .append_pair("client_id", app_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", &scopes.join(","))
        .append_pair("response_type", "code")
        .append_pair("state", state);
    Ok(url)
}

/// What the code exchange gives: a short-lived token and the Threads user id it belongs to.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ShortLivedToken {
    /// The token, valid about an hour: exchange it with [`exchange_for_long_lived`] at once.
    pub access_token: SecretString,
    /// The Threads user id, every digit kept (it exceeds 2^53).
    pub user_id: String,
    /// How long the token lives.
    pub expires_in: Duration,
}

fn app_credentials(client: &ThreadsClient) -> Result<(&str, &SecretString)> {
    match (client.app_id(), client.meta().app_secret()) {
        (Some(id), Some(secret)) => Ok((id, secret)),
        _ => Err(Error::invalid_input(
            "this call needs the Threads app id and secret (ThreadsClient::builder().app_id(..).app_secret(..)); \
             the Facebook app's pair fails with error 4476002",
        )),
    }
}

fn user_id(v: &Value) -> Option<String> {
    match v.get("user_id")? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        // Read from the number's text, never through a float.
        Value::Number(n) if n.is_u64() => Some(n.to_string()),
        _ => None,
    }
}

/// Exchanges an authorization `code` for a short-lived token:
/// `POST /oauth/access_token` with the app id and secret, `grant_type=authorization_code` and
/// the same `redirect_uri` as the authorize URL. A used or unknown code is
/// [`ErrorKind::Auth`].
pub async fn exchange_code(
    client: &ThreadsClient,
    code: &SecretString,
    redirect_uri: &str,
) -> Result<ShortLivedToken> {
    let (app_id, secret) = app_credentials(client)?;
    let form = vec![
        ("client_id".to_owned(), app_id.to_owned()),
        (
            "client_secret".to_owned(),
            secret.expose_secret().to_owned(),
        ),
        ("code".to_owned(), code.expose_secret().to_owned()),
        ("grant_type".to_owned(), "authorization_code".to_owned()),
        ("redirect_uri".to_owned(), redirect_uri.to_owned()),
    ];
    let req = ApiRequest::post(client.unversioned_url("oauth/access_token"))
        .form(form)
        .idempotent()
        .token_endpoint();
    let v = client
        .meta()
        .exchange(&req, None, TOKEN_KEY, Platform::Threads)
        .await?;
    let token = refreshed(&v, "oauth/access_token")?;
    let user_id = user_id(&v).ok_or_else(|| {
        Error::internal("the code exchange answered without a Threads user id")
            .with_platform(Platform::Threads)
    })?;
    Ok(ShortLivedToken {
        access_token: token.access_token,
        user_id,
        expires_in: token.expires_in.unwrap_or(SHORT_LIVED),
    })
}

/// Exchanges a short-lived token for a long-lived one (60 days):
/// `GET /access_token?grant_type=th_exchange_token&client_secret=…`, the token in the
/// `Authorization` header. Must run server-side: it needs the app secret.
pub async fn exchange_for_long_lived(
    client: &ThreadsClient,
    short_lived: &SecretString,
) -> Result<RefreshedToken> {
    let (_, secret) = app_credentials(client)?;
    let req = ApiRequest::get(client.unversioned_url("access_token"))
        .query("grant_type", "th_exchange_token")
        .query("client_secret", secret.expose_secret())
        .token_endpoint();
    let v = client
        .meta()
        .exchange(&req, Some(short_lived), TOKEN_KEY, Platform::Threads)
        .await
        .map_err(reauth)?;
    refreshed(&v, "th_exchange_token")
}

/// A token Threads will not take or renew means a person must authorise again.
fn reauth(e: Error) -> Error {
    if e.kind() == ErrorKind::Permission {
        e.with_kind(ErrorKind::Auth)
    } else {
        e
    }
}

/// Refreshes Threads long-lived tokens with `th_refresh_token`, only once they are at least 24
/// hours old (Threads refuses younger ones). A token past its 60 days cannot be refreshed: the
/// refresh fails with [`ErrorKind::Auth`] and the profile must be authorised again.
///
/// The access token is its own refresh credential: a stored credential needs no refresh token.
#[derive(Debug, Clone)]
pub struct ThreadsTokenRefresher {
    client: ThreadsClient,
}

impl ThreadsTokenRefresher {
    /// A refresher using `client`'s host.
    pub fn new(client: ThreadsClient) -> Self {
        Self { client }
    }
}

#[async_trait]
impl TokenRefresher for ThreadsTokenRefresher {
    fn platform(&self) -> Platform {
        Platform::Threads
    }

    async fn refresh(&self, current: &Credential) -> Result<RefreshedToken> {
        let now = self.client.meta().clock().now();
        if let Some(expires) = current.access_expires_at
            && expires <= now
        {
            return Err(Error::auth(
                "the Threads token expired (tokens not refreshed within 60 days cannot be \
                 refreshed): authorise the profile again",
            )
            .with_platform(Platform::Threads));
        }
        // A long-lived token lives 60 days, so a refresh is never due on its first day: one
        // asked for then is for a token Threads rejected, or a short-lived one near its end.
        // Neither can be refreshed (Threads refuses tokens under 24 hours), so waiting would
        // only hold the posts: the profile must be authorised again.
        if let Some(issued) = current.issued_at
            && issued + MIN_REFRESH_AGE > now
        {
            return Err(Error::auth(
                "the Threads token is less than 24 hours old, and Threads refreshes only older \
                 tokens: authorise the profile again (or exchange a short-lived token with \
                 exchange_for_long_lived)",
            )
            .with_platform(Platform::Threads));
        }
        let req = ApiRequest::get(self.client.unversioned_url("refresh_access_token"))
            .query("grant_type", "th_refresh_token")
            .token_endpoint();
        let v = self
            .client
            .meta()
            .exchange(
                &req,
                Some(&current.access_token),
                TOKEN_KEY,
                Platform::Threads,
            )
            .await
            .map_err(reauth)?;
        refreshed(&v, "th_refresh_token")
    }
}
