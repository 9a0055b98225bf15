//! Accounts and publish targets.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{AccountId, Platform, Surface, TenantId};

/// One account on one platform, owned by one tenant.
///
/// This is the key for credentials, rate limits and audit records.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AccountRef {
    /// The tenant that owns the account.
    pub tenant: TenantId,
    /// The platform the account lives on.
    pub platform: Platform,
    /// The account's id on the platform.
    pub account: AccountId,
}

impl AccountRef {
    /// The account `account` of `tenant` on `platform`.
    pub fn new(
        tenant: impl Into<TenantId>,
        platform: Platform,
        account: impl Into<AccountId>,
    ) -> Self {
        Self {
            tenant: tenant.into(),
            platform,
            account: account.into(),
        }
    }
}

impl fmt::Display for AccountRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.tenant, self.platform, self.account)
    }
}

/// Where one post goes: an account and a surface on it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Target {
    /// The account to publish as.
    pub account: AccountRef,
    /// The surface: feed, reel or story.
    pub surface: Surface,
}

impl Target {
    /// The `surface` of `account`.
    pub fn new(account: AccountRef, surface: Surface) -> Self {
        Self { account, surface }
    }

    /// The feed of `account`.
    pub fn feed(account: AccountRef) -> Self {
        Self::new(account, Surface::Feed)
    }

    /// The platform the target is on.
    pub fn platform(&self) -> Platform {
        self.account.platform
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.account, self.surface)
    }
}
