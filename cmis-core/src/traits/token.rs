//! Access tokens: the provider connectors ask, and the per-platform refresher behind it.

use std::collections::BTreeSet;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::SecretString;
use time::OffsetDateTime;

use crate::{AccountRef, Credential, Platform, Result};

/// An access token that is valid now, with the store version it came from.
///
/// `Debug` shows no secret.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AccessToken {
    /// The token. Read it with [`secrecy::ExposeSecret`] only where it is sent.
    pub secret: SecretString,
    /// The credential version it belongs to; pass the token back to
    /// [`TokenProvider::invalidate`] when the platform rejects it.
    pub version: u64,
    /// When it expires, if known.
    pub expires_at: Option<OffsetDateTime>,
    /// The scopes granted with it.
    pub scopes: BTreeSet<String>,
}

impl AccessToken {
    /// The token and metadata of `credential`.
    pub fn from_credential(credential: &Credential) -> Self {
        Self {
            secret: credential.access_token.clone(),
            version: credential.version,
            expires_at: credential.access_expires_at,
            scopes: credential.scopes.clone(),
        }
    }

    /// Whether `scope` was granted.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.contains(scope)
    }
}

/// Hands out access tokens that are valid now.
///
/// Connectors call [`access_token`](Self::access_token) before each call, and
/// [`invalidate`](Self::invalidate) once when the platform says the token is invalid; the next
/// `access_token` then refreshes once (however many callers saw the rejection) and the connector
/// retries once. Every cmis connector does this through a [`TokenSession`](crate::TokenSession);
/// a connector of your own can too.
///
/// Use [`RefreshingTokenProvider`](crate::RefreshingTokenProvider) over a
/// [`CredentialStore`](crate::CredentialStore) for tokens that expire, and
/// [`StaticTokenProvider`] for one token held by the caller.
///
/// # Example: tokens that live in another system
///
/// An app whose tokens are kept by its own secret service hands them out through this trait;
/// a rejected token is reported back, so the next request can fetch a fresh one.
///
/// ```
/// # mod cmis { pub use cmis_core::*; }
/// use std::collections::HashMap;
/// use std::sync::Mutex;
/// use cmis::async_trait;
/// use cmis::{AccessToken, AccountRef, Credential, Error, Platform, Result, SecretString};
/// use cmis::{TenantId, TokenProvider};
///
/// #[derive(Default)]
/// struct Vault {
///     tokens: Mutex<HashMap<AccountRef, String>>,
/// }
///
/// #[async_trait]
/// impl TokenProvider for Vault {
///     async fn access_token(&self, account: &AccountRef) -> Result<AccessToken> {
///         let tokens = self.tokens.lock().unwrap();
///         let token = tokens
///             .get(account)
///             .ok_or_else(|| Error::auth(format!("{account} has no token; connect it first")))?;
///         let credential = Credential::new(account.clone(), SecretString::from(token.clone()));
///         Ok(AccessToken::from_credential(&credential))
///     }
///
///     async fn invalidate(&self, account: &AccountRef, _rejected: &AccessToken) {
///         // The platform refused it: forget it, so the account is asked to connect again.
///         self.tokens.lock().unwrap().remove(account);
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<()> {
/// let vault = Vault::default();
/// let page = TenantId::new("acme").account(Platform::Facebook, "page-1");
/// vault.tokens.lock().unwrap().insert(page.clone(), "EAAB-page".into());
/// let token = vault.access_token(&page).await?;
/// vault.invalidate(&page, &token).await;
/// assert_eq!(vault.access_token(&page).await.unwrap_err().kind(), cmis::ErrorKind::Auth);
/// # Ok(()) }
/// ```
#[async_trait]
pub trait TokenProvider: Send + Sync {
    /// A token for `account` that is valid now, refreshed ahead of expiry if needed.
    async fn access_token(&self, account: &AccountRef) -> Result<AccessToken>;

    /// Marks `rejected` as refused by the platform, so the next
    /// [`access_token`](Self::access_token) refreshes. Does nothing when the stored credential has
    /// already moved past `rejected.version`.
    async fn invalidate(&self, account: &AccountRef, rejected: &AccessToken);
}

/// A token the caller already holds, handed out as is for every account: the simplest
/// [`TokenProvider`], for a one-off publish or a script.
///
/// It never refreshes: when the platform refuses the token, the publish fails with
/// [`ErrorKind::Auth`](crate::ErrorKind::Auth). Keep tokens fresh with a
/// [`RefreshingTokenProvider`](crate::RefreshingTokenProvider) over a
/// [`CredentialStore`](crate::CredentialStore) instead wherever a program runs for longer than a
/// token lives.
///
/// ```
/// # mod cmis { pub use cmis_core::*; }
/// use std::sync::Arc;
/// use cmis::{PublishContext, SecretString, StaticTokenProvider};
/// let ctx = PublishContext::new(Arc::new(StaticTokenProvider::new(SecretString::from("page-token"))));
/// // the same, shorter:
/// let ctx = PublishContext::with_token(SecretString::from("page-token"));
/// # let _ = ctx;
/// ```
#[derive(Debug, Clone)]
pub struct StaticTokenProvider {
    token: AccessToken,
}

impl StaticTokenProvider {
    /// Hands out `token` (of unknown expiry and scopes).
    pub fn new(token: SecretString) -> Self {
        Self {
            token: AccessToken {
                secret: token,
                version: 0,
                expires_at: None,
                scopes: BTreeSet::new(),
            },
        }
    }

    /// Says which scopes the token was granted, for connectors that check a scope before a call
    /// (TikTok's `video.list` for reconciliation, for example).
    #[must_use]
    pub fn with_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.token.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }
}

#[async_trait]
impl TokenProvider for StaticTokenProvider {
    async fn access_token(&self, _account: &AccountRef) -> Result<AccessToken> {
        Ok(self.token.clone())
    }

    async fn invalidate(&self, _account: &AccountRef, _rejected: &AccessToken) {}
}

/// What a platform returned for a refresh.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RefreshedToken {
    /// The new access token.
    pub access_token: SecretString,
    /// The new refresh token when the platform rotated it; `None` keeps the current one.
    pub refresh_token: Option<SecretString>,
    /// The access token's lifetime as the platform reported it (`expires_in`); `None` when the
    /// platform said nothing, which means "does not expire on a timer".
    pub expires_in: Option<Duration>,
    /// The refresh token's lifetime (`refresh_expires_in`), if reported.
    pub refresh_expires_in: Option<Duration>,
    /// The granted scopes when the platform reported them; `None` keeps the current ones.
    pub scopes: Option<BTreeSet<String>>,
    /// When data access expires, if reported.
    pub data_access_expires_at: Option<OffsetDateTime>,
}

impl RefreshedToken {
    /// A refresh result holding `access_token`, with nothing else reported.
    pub fn new(access_token: SecretString) -> Self {
        Self {
            access_token,
            refresh_token: None,
            expires_in: None,
            refresh_expires_in: None,
            scopes: None,
            data_access_expires_at: None,
        }
    }

    /// Sets the rotated refresh token.
    #[must_use]
    pub fn with_refresh_token(mut self, token: SecretString) -> Self {
        self.refresh_token = Some(token);
        self
    }

    /// Sets the access token's lifetime.
    #[must_use]
    pub fn with_expires_in(mut self, lifetime: Duration) -> Self {
        self.expires_in = Some(lifetime);
        self
    }

    /// Sets the refresh token's lifetime.
    #[must_use]
    pub fn with_refresh_expires_in(mut self, lifetime: Duration) -> Self {
        self.refresh_expires_in = Some(lifetime);
        self
    }

    /// Sets the granted scopes.
    #[must_use]
    pub fn with_scopes(mut self, scopes: BTreeSet<String>) -> Self {
        self.scopes = Some(scopes);
        self
    }

    /// Applies this result to `current`, computing expiry instants from `requested_at` (the time
    /// the refresh request was sent, so lifetimes are never overestimated).
    pub fn apply_to(&self, current: &Credential, requested_at: OffsetDateTime) -> Credential {
        let mut next = current.clone();
        next.access_token = self.access_token.clone();
        if let Some(rt) = &self.refresh_token {
            next.refresh_token = Some(rt.clone());
        }
        next.access_expires_at = self.expires_in.map(|d| crate::after(requested_at, d));
        if let Some(d) = self.refresh_expires_in {
            next.refresh_expires_at = Some(crate::after(requested_at, d));
        }
        if let Some(scopes) = &self.scopes {
            next.scopes = scopes.clone();
        }
        if let Some(at) = self.data_access_expires_at {
            next.data_access_expires_at = Some(at);
        }
        next.issued_at = Some(requested_at);
        next
    }
}

/// Refreshes one platform's credentials: TikTok's `refresh_token` grant, Instagram Login's
/// `ig_refresh_token`, Facebook's long-lived token exchange.
///
/// A refresh the platform refuses (revoked, expired refresh token, `invalid_grant`) must return
/// [`ErrorKind::Auth`](crate::ErrorKind::Auth); a network failure returns
/// [`ErrorKind::Transient`](crate::ErrorKind::Transient).
#[async_trait]
pub trait TokenRefresher: Send + Sync {
    /// The platform this refresher serves.
    fn platform(&self) -> Platform;

    /// Exchanges `current` for a fresh token.
    async fn refresh(&self, current: &Credential) -> Result<RefreshedToken>;
}
