//! Credentials: tokens with their lifetimes and scopes.

use std::collections::BTreeSet;

use secrecy::SecretString;
use time::OffsetDateTime;

use crate::AccountRef;

/// An account's tokens, their expiry instants and granted scopes.
///
/// `Debug` never shows a token: they are [`SecretString`]s. The `version` is managed by the
/// [`CredentialStore`](crate::CredentialStore) and used for compare-and-set, so that two processes
/// refreshing at once cannot lose a rotated refresh token.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Credential {
    /// Whose credential this is.
    pub account: AccountRef,
    /// The access token sent with API calls.
    pub access_token: SecretString,
    /// The refresh token, if the platform issues one (TikTok rotates it on every refresh).
    pub refresh_token: Option<SecretString>,
    /// When the access token expires, if known. `None` means it does not expire on a timer
    /// (for example a Facebook Page token derived from a long-lived user token).
    pub access_expires_at: Option<OffsetDateTime>,
    /// When the refresh token expires, if known.
    pub refresh_expires_at: Option<OffsetDateTime>,
    /// When the app's access to the user's data expires (Meta `data_access_expires_at`); past it,
    /// the user must re-authorise even if the token itself is valid.
    pub data_access_expires_at: Option<OffsetDateTime>,
    /// When the access token was issued (Instagram Login refreshes only tokens ≥ 24 h old).
    pub issued_at: Option<OffsetDateTime>,
    /// The scopes (permissions) granted.
    pub scopes: BTreeSet<String>,
    /// The store's version of this record, for compare-and-set. `0` for a record never stored.
    pub version: u64,
}

impl Credential {
    /// A credential for `account` holding `access_token`, with nothing else known.
    pub fn new(account: AccountRef, access_token: SecretString) -> Self {
        Self {
            account,
            access_token,
            refresh_token: None,
            access_expires_at: None,
            refresh_expires_at: None,
            data_access_expires_at: None,
            issued_at: None,
            scopes: BTreeSet::new(),
            version: 0,
        }
    }

    /// Sets the refresh token.
    #[must_use]
    pub fn with_refresh_token(mut self, token: SecretString) -> Self {
        self.refresh_token = Some(token);
        self
    }

    /// Sets when the access token expires.
    #[must_use]
    pub fn with_access_expires_at(mut self, at: OffsetDateTime) -> Self {
        self.access_expires_at = Some(at);
        self
    }

    /// Sets when the refresh token expires.
    #[must_use]
    pub fn with_refresh_expires_at(mut self, at: OffsetDateTime) -> Self {
        self.refresh_expires_at = Some(at);
        self
    }

    /// Sets when data access expires.
    #[must_use]
    pub fn with_data_access_expires_at(mut self, at: OffsetDateTime) -> Self {
        self.data_access_expires_at = Some(at);
        self
    }

    /// Sets when the access token was issued.
    #[must_use]
    pub fn with_issued_at(mut self, at: OffsetDateTime) -> Self {
        self.issued_at = Some(at);
        self
    }

    /// Sets the granted scopes.
    #[must_use]
    pub fn with_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Whether `scope` was granted.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.contains(scope)
    }

    /// Whether the access token expires before `at`.
    pub fn expires_before(&self, at: OffsetDateTime) -> bool {
        self.access_expires_at.is_some_and(|exp| exp <= at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Platform;

    #[test]
    fn debug_hides_tokens() {
        let c = Credential::new(
            AccountRef::new(crate::TenantId::new("t1"), Platform::TikTok, "open-1"),
            SecretString::from("act.SECRET-ACCESS"),
        )
        .with_refresh_token(SecretString::from("rft.SECRET-REFRESH"));
        let dbg = format!("{c:?} {c:#?}");
        assert!(!dbg.contains("SECRET-ACCESS"), "{dbg}");
        assert!(!dbg.contains("SECRET-REFRESH"), "{dbg}");
        assert!(dbg.contains("open-1"));
    }
}
