//! Where credentials live.

use std::time::Duration;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::{AccountRef, Credential, Result, TenantId};

/// The result of [`CredentialStore::compare_and_swap`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum CasOutcome {
    /// Stored; the credential as stored, with its new version.
    Stored(Credential),
    /// Someone else wrote first; the credential as it is now (`None` if it was deleted).
    Conflict(Option<Credential>),
}

/// Stores credentials, one per account, with a version for compare-and-set.
///
/// Every call is scoped by the [`AccountRef`]'s tenant: an implementation must never return or
/// change another tenant's credential. Implementations: [`MemoryCredentialStore`](crate::MemoryCredentialStore)
/// here, SQLite and PostgreSQL (encrypted at rest) in `cmis-scheduler`.
///
/// A user who connects an account puts its credential; a
/// [`RefreshingTokenProvider`](crate::RefreshingTokenProvider) over the store hands out its
/// token and keeps it fresh:
///
/// ```
/// # mod cmis { pub use cmis_core::*; }
/// use std::sync::Arc;
/// use cmis::{Credential, CredentialStore, MemoryCredentialStore, Platform, SecretString};
/// use cmis::{RefreshingTokenProvider, TenantId, TokenProvider};
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> cmis::Result<()> {
/// let store = Arc::new(MemoryCredentialStore::new());
/// let acme = TenantId::new("acme");
/// let page = acme.account(Platform::Facebook, "page-1");
/// let stored = store
///     .put_credential(Credential::new(page.clone(), SecretString::from("EAAB-page")))
///     .await?;
/// assert_eq!(stored.version, 1);
/// assert_eq!(store.accounts(&acme).await?, [page.clone()]);
/// // Another tenant sees nothing of acme's.
/// assert!(store.accounts(&TenantId::new("globex")).await?.is_empty());
///
/// let tokens = RefreshingTokenProvider::builder(store.clone()).build();
/// let token = tokens.access_token(&page).await?;
/// assert_eq!(token.version, 1);
///
/// assert!(store.delete_credential(&page).await?);
/// assert!(store.credential(&page).await?.is_none());
/// # Ok(()) }
/// ```
#[async_trait]
pub trait CredentialStore: Send + Sync {
    /// The credential of `account`, if any.
    async fn credential(&self, account: &AccountRef) -> Result<Option<Credential>>;

    /// Inserts or replaces the credential of `credential.account` unconditionally (a user
    /// (re-)authorised). Returns it as stored, with its new version.
    async fn put_credential(&self, credential: Credential) -> Result<Credential>;

    /// Replaces the credential only if its stored version is still `expected_version`.
    /// This is how a rotated refresh token is persisted without losing a concurrent rotation.
    async fn compare_and_swap(
        &self,
        expected_version: u64,
        credential: Credential,
    ) -> Result<CasOutcome>;

    /// Deletes the credential of `account`; `true` if there was one.
    async fn delete_credential(&self, account: &AccountRef) -> Result<bool>;

    /// The accounts of `tenant` that have a credential.
    async fn accounts(&self, tenant: &TenantId) -> Result<Vec<AccountRef>>;

    /// Every account, across tenants, whose access token expires before `before`, for the
    /// refresh sweep (an operator's call, not a tenant's).
    async fn expiring_before(&self, before: OffsetDateTime) -> Result<Vec<AccountRef>>;

    /// Takes (or renews) the right to refresh `account`'s token for `owner`, for `ttl`; `true`
    /// when `owner` holds it. A store shared by several processes makes it exclusive across
    /// them, so that two processes never refresh one account at once: a rotating refresh
    /// token (TikTok's) presented twice is refused, and many OAuth servers then revoke the
    /// whole grant.
    ///
    /// The default grants it at once (a store of one process: the provider's own single
    /// flight is enough).
    async fn lock_refresh(&self, account: &AccountRef, owner: &str, ttl: Duration) -> Result<bool> {
        let _ = (account, owner, ttl);
        Ok(true)
    }

    /// Gives up the right [`lock_refresh`](Self::lock_refresh) granted.
    async fn unlock_refresh(&self, account: &AccountRef, owner: &str) -> Result<()> {
        let _ = (account, owner);
        Ok(())
    }
}
