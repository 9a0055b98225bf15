//! Meta tokens: long-lived exchange, Page tokens, `debug_token`, Instagram Login refresh, and
//! the re-authorisation deadline of tokens that cannot be refreshed.
//!
//! Reference: `docs/meta-graph-api.md` §3.

use std::collections::BTreeSet;
use std::time::Duration;

use async_trait::async_trait;
use cmis_core::{
    Credential, Error, ErrorKind, ExposeSecret, Notification, NotificationKind, Notifier, Platform,
    RefreshedToken, Result, SecretString, TokenRefresher,
};
use serde_json::Value;
use time::OffsetDateTime;

use crate::client::{ApiRequest, Host, MetaClient};
use crate::error::as_i64;

/// How long before a deadline [`check_reauth_deadline`] warns by default: 14 days, so that a
/// person has time to log in again before the Page goes dark.
pub const DEFAULT_REAUTH_WARNING: Duration = Duration::from_secs(14 * 24 * 60 * 60);

/// Instagram Login refuses to refresh a token younger than 24 hours (§3).
pub const INSTAGRAM_MIN_REFRESH_AGE: Duration = Duration::from_secs(24 * 60 * 60);

const TOKEN_KEY: &str = "meta:tokens";

fn app_credentials(client: &MetaClient) -> Result<(&str, &SecretString)> {
    match (client.app_id(), client.app_secret()) {
        (Some(id), Some(secret)) => Ok((id, secret)),
        _ => Err(Error::invalid_input(
            "this call needs the app id and app secret (MetaClient::builder().app_id(..).app_secret(..))",
        )),
    }
}

/// The longest token lifetime read from a response: ten years. Meta's tokens live hours to
/// about 60 days; a larger figure is garbage that would overflow the expiry instant computed
/// from it.
const MAX_LIFETIME: Duration = Duration::from_secs(10 * 365 * 24 * 60 * 60);

fn lifetime(v: &Value) -> Option<Duration> {
    v.get("expires_in")
        .and_then(as_i64)
        .and_then(|s| u64::try_from(s).ok())
        .filter(|s| *s > 0)
        .map(|s| Duration::from_secs(s).min(MAX_LIFETIME))
}

fn new_token(v: &Value, what: &str) -> Result<SecretString> {
    v.get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(|t| SecretString::from(t.to_owned()))
        .ok_or_else(|| Error::internal(format!("the {what} response holds no access_token")))
}

/// Exchanges a user token for a long-lived one (about 60 days):
/// `GET /{ver}/oauth/access_token?grant_type=fb_exchange_token&client_id&client_secret&fb_exchange_token`.
///
/// The parameters go in the query because that is the endpoint's documented form; cmis never
/// logs URLs and strips them from errors. An expired token cannot be exchanged
/// ([`ErrorKind::Auth`]).
pub async fn exchange_for_long_lived(
    client: &MetaClient,
    user_token: &SecretString,
) -> Result<RefreshedToken> {
    let (app_id, secret) = app_credentials(client)?;
    let req = ApiRequest::get(client.url(Host::Graph, "oauth/access_token"))
        .query("grant_type", "fb_exchange_token")
        .query("client_id", app_id)
        .query("client_secret", secret.expose_secret())
        .query("fb_exchange_token", user_token.expose_secret())
        .token_endpoint();
    let v = client
        .exchange(&req, None, TOKEN_KEY, Platform::Facebook)
        .await?;
    refreshed(&v, "fb_exchange_token")
}

/// Reads `{"access_token","token_type","expires_in"}` (the long-lived exchange and Instagram's
/// `ig_refresh_token`); `what` names the call in the error when the token is missing.
pub(crate) fn refreshed(v: &Value, what: &str) -> Result<RefreshedToken> {
    let mut out = RefreshedToken::new(new_token(v, what)?);
    if let Some(life) = lifetime(v) {
        out = out.with_expires_in(life);
    }
    Ok(out)
}

/// What `debug_token` says about a token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenInfo {
    /// The app the token belongs to.
    pub app_id: Option<String>,
    /// `USER`, `PAGE` or `APP`.
    pub token_type: Option<String>,
    /// Whether the token is valid now.
    pub is_valid: bool,
    /// When it expires; `None` when it never does (`expires_at: 0`).
    pub expires_at: Option<OffsetDateTime>,
    /// When the app's access to the user's data expires.
    pub data_access_expires_at: Option<OffsetDateTime>,
    /// When it was issued, if reported.
    pub issued_at: Option<OffsetDateTime>,
    /// The granted scopes.
    pub scopes: BTreeSet<String>,
    /// The user the token acts for.
    pub user_id: Option<String>,
}

impl TokenInfo {
    /// Copies the expiry instants and scopes into `credential`.
    pub fn apply_to(&self, mut credential: Credential) -> Credential {
        credential.access_expires_at = self.expires_at;
        credential.data_access_expires_at = self.data_access_expires_at;
        if self.issued_at.is_some() {
            credential.issued_at = self.issued_at;
        }
        credential.scopes = self.scopes.clone();
        credential
    }
}

fn instant(v: Option<&Value>) -> Option<OffsetDateTime> {
    v.and_then(as_i64)
        .filter(|t| *t > 0)
        .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
}

fn id_string(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Inspects `token` with `GET /debug_token?input_token=…`, authenticated with the app token
/// (`{app-id}|{secret}`) in the `Authorization` header.
pub async fn debug_token(client: &MetaClient, token: &SecretString) -> Result<TokenInfo> {
    let (app_id, secret) = app_credentials(client)?;
    let app_token = SecretString::from(format!("{app_id}|{}", secret.expose_secret()));
    let req = ApiRequest::get(client.url(Host::Graph, "debug_token"))
        .query("input_token", token.expose_secret());
    let v = client
        .exchange(&req, Some(&app_token), TOKEN_KEY, Platform::Facebook)
        .await?;
    token_info(&v)
}

/// Reads a `debug_token` answer: `{"data":{app_id, type, is_valid, expires_at, …}}`.
pub(crate) fn token_info(v: &Value) -> Result<TokenInfo> {
    let d = v
        .get("data")
        .ok_or_else(|| Error::internal("debug_token response holds no data"))?;
    Ok(TokenInfo {
        app_id: id_string(d.get("app_id")),
        token_type: d.get("type").and_then(Value::as_str).map(str::to_owned),
        is_valid: d.get("is_valid").and_then(Value::as_bool).unwrap_or(false),
        expires_at: instant(d.get("expires_at")),
        data_access_expires_at: instant(d.get("data_access_expires_at")),
        issued_at: instant(d.get("issued_at")),
        scopes: d
            .get("scopes")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        user_id: id_string(d.get("user_id")),
    })
}

/// A Page the user manages, with its Page access token.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PageToken {
    /// The Page id.
    pub id: String,
    /// The Page name.
    pub name: Option<String>,
    /// The Page access token (never expires when derived from a long-lived user token).
    pub access_token: SecretString,
    /// The user's tasks on the Page (`CREATE_CONTENT` is needed to publish).
    pub tasks: Vec<String>,
}

impl PageToken {
    /// Whether the user may publish on the Page (`CREATE_CONTENT`).
    pub fn can_publish(&self) -> bool {
        self.tasks.iter().any(|t| t == "CREATE_CONTENT")
    }
}

/// The user's Pages and their Page tokens, from `GET /me/accounts` (all pages of results).
pub async fn page_tokens(client: &MetaClient, user_token: &SecretString) -> Result<Vec<PageToken>> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    // A user with more than 100 pages of Pages is not a case worth an unbounded loop.
    for _ in 0..100 {
        let mut req = ApiRequest::get(client.url(Host::Graph, "me/accounts"))
            .query("fields", "id,name,access_token,tasks");
        if let Some(cursor) = &after {
            req = req.query("after", cursor.clone());
        }
        let v = client
            .exchange(&req, Some(user_token), TOKEN_KEY, Platform::Facebook)
            .await?;
        let (pages, next) = page_list(&v);
        out.extend(pages);
        after = next;
        if after.is_none() {
            return Ok(out);
        }
    }
    Ok(out)
}

/// Reads one page of `/me/accounts`: the Pages that carry an id and a token, and the cursor of
/// the next page when there is one.
pub(crate) fn page_list(v: &Value) -> (Vec<PageToken>, Option<String>) {
    let mut out = Vec::new();
    for page in v
        .get("data")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        // A Page without an id or a token cannot be published to: it is skipped, never stored.
        let (Some(id), Some(token)) = (
            id_string(page.get("id")).filter(|id| !id.is_empty()),
            page.get("access_token")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty()),
        ) else {
            continue;
        };
        out.push(PageToken {
            id,
            name: page.get("name").and_then(Value::as_str).map(str::to_owned),
            access_token: SecretString::from(token.to_owned()),
            tasks: page
                .get("tasks")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
        });
    }
    let next = v
        .pointer("/paging/cursors/after")
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty() && v.pointer("/paging/next").is_some())
        .map(str::to_owned);
    (out, next)
}

/// Refreshes Facebook user tokens with the long-lived exchange (`fb_exchange_token`).
///
/// Page tokens (no expiry) cannot be refreshed: for them it answers [`ErrorKind::Auth`] at once,
/// without a call, so the token provider reports re-authorisation.
#[derive(Debug, Clone)]
pub struct FacebookTokenRefresher {
    client: MetaClient,
    platform: Platform,
}

impl FacebookTokenRefresher {
    /// A refresher for Facebook accounts.
    pub fn new(client: MetaClient) -> Self {
        Self {
            client,
            platform: Platform::Facebook,
        }
    }

    /// Serves `platform` instead (Instagram accounts connected with Facebook Login).
    #[must_use]
    pub fn for_platform(mut self, platform: Platform) -> Self {
        self.platform = platform;
        self
    }
}

#[async_trait]
impl TokenRefresher for FacebookTokenRefresher {
    fn platform(&self) -> Platform {
        self.platform
    }

    async fn refresh(&self, current: &Credential) -> Result<RefreshedToken> {
        if current.access_expires_at.is_none() {
            return Err(Error::auth(
                "a Page token cannot be refreshed: the Page must be re-authorised",
            )
            .with_platform(self.platform));
        }
        exchange_for_long_lived(&self.client, &current.access_token)
            .await
            .map_err(|e| e.with_platform(self.platform))
    }
}

/// Refreshes Instagram Login tokens with `ig_refresh_token`, only once they are at least 24 hours
/// old (Meta refuses younger ones).
#[derive(Debug, Clone)]
pub struct InstagramLoginRefresher {
    client: MetaClient,
}

impl InstagramLoginRefresher {
    /// A refresher using `client`'s Instagram Graph host.
    pub fn new(client: MetaClient) -> Self {
        Self { client }
    }
}

#[async_trait]
impl TokenRefresher for InstagramLoginRefresher {
    fn platform(&self) -> Platform {
        Platform::Instagram
    }

    async fn refresh(&self, current: &Credential) -> Result<RefreshedToken> {
        let now = self.client.clock().now();
        if let Some(issued) = current.issued_at {
            let ripe = issued + INSTAGRAM_MIN_REFRESH_AGE;
            if ripe > now {
                let wait = Duration::try_from(ripe - now).unwrap_or_default();
                return Err(Error::transient(
                    "the Instagram token is less than 24 hours old and cannot be refreshed yet",
                )
                .with_platform(Platform::Instagram)
                .with_retry_after(wait));
            }
        }
        // The token travels in the Authorization header, not in the URL.
        let req = ApiRequest::get(
            self.client
                .unversioned_url(Host::InstagramGraph, "refresh_access_token"),
        )
        .query("grant_type", "ig_refresh_token")
        .token_endpoint();
        let v = self
            .client
            .exchange(
                &req,
                Some(&current.access_token),
                TOKEN_KEY,
                Platform::Instagram,
            )
            .await
            .map_err(|e| {
                // An expired or revoked token cannot be refreshed: re-authorise.
                if e.kind() == ErrorKind::Permission {
                    e.with_kind(ErrorKind::Auth)
                } else {
                    e
                }
            })?;
        refreshed(&v, "ig_refresh_token")
    }
}

/// A [`NotificationKind::ReauthRequired`] notification when `credential` stops working within
/// `warn_before` of `now` and cannot be refreshed: its data access ends
/// (`data_access_expires_at`), or, for a Facebook Page token, the token itself expires.
///
/// The scheduler's sweep calls this for every Meta credential; [`notify_reauth_deadline`]
/// delivers the result.
pub fn check_reauth_deadline(
    credential: &Credential,
    now: OffsetDateTime,
    warn_before: Duration,
) -> Option<Notification> {
    let mut deadline = credential.data_access_expires_at;
    let mut why = "the app's access to this account's data expires";
    if credential.account.platform == Platform::Facebook
        && let Some(exp) = credential.access_expires_at
        && deadline.is_none_or(|d| exp < d)
    {
        deadline = Some(exp);
        why = "the Page token expires and cannot be refreshed";
    }
    let deadline = deadline?;
    if deadline > cmis_core::after(now, warn_before) {
        return None;
    }
    let message = if deadline <= now {
        format!("{why}: it expired at {deadline}; log in again to reconnect the account")
    } else {
        format!("{why} at {deadline}; log in again before then to keep publishing")
    };
    Some(
        Notification::for_account(
            &credential.account,
            NotificationKind::ReauthRequired,
            message,
        )
        .with_deadline(deadline)
        .at(now),
    )
}

/// Runs [`check_reauth_deadline`] and delivers its notification through `notifier`; returns
/// whether one was sent.
pub async fn notify_reauth_deadline(
    notifier: &dyn Notifier,
    credential: &Credential,
    now: OffsetDateTime,
    warn_before: Duration,
) -> Result<bool> {
    match check_reauth_deadline(credential, now, warn_before) {
        Some(n) => notifier.notify(&n).await.map(|()| true),
        None => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_absurd_lifetime_is_capped_so_the_expiry_instant_exists() {
        // Crashed the fuzz target (a hand-made input): i64::MAX seconds overflowed
        // `requested_at + expires_in`.
        let v = serde_json::json!({"access_token": "EAAB", "expires_in": i64::MAX});
        let token = refreshed(&v, "test").unwrap();
        assert_eq!(token.expires_in, Some(MAX_LIFETIME));
        let account =
            cmis_core::AccountRef::new(cmis_core::TenantId::new("t"), Platform::Facebook, "1");
        let now = OffsetDateTime::now_utc();
        let next = token.apply_to(&Credential::new(account, SecretString::from("old")), now);
        assert_eq!(next.access_expires_at, Some(now + MAX_LIFETIME));
    }

    #[test]
    fn pages_without_an_id_or_a_token_are_skipped() {
        let v = serde_json::json!({
            "data": [
                {"id": "", "access_token": "EAAB-1"},
                {"id": "2", "access_token": ""},
                {"id": 3, "access_token": "EAAB-3"}
            ],
            "paging": {"cursors": {"after": ""}, "next": "https://graph.facebook.com/x"}
        });
        let (pages, next) = page_list(&v);
        assert_eq!(pages.len(), 1);
        assert_eq!(pages[0].id, "3");
        assert_eq!(next, None);
    }
}
