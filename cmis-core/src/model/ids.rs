//! Identifier newtypes.
//!
//! Platform ids are strings, always: TikTok and Meta ids exceed 2^53 and lose digits when a peer
//! parses them as floating-point numbers.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! string_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps `id` as is.
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            /// The id as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The id as an owned string.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

/// `From<&str>` and `From<String>`, for ids that a plain string cannot be mistaken for.
macro_rules! from_strings {
    ($($name:ident),*) => {$(
        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }
    )*};
}

string_id!(
    /// The tenant (customer, workspace) that owns accounts, posts and jobs. Every stored row and
    /// every store call is scoped by one.
    ///
    /// It is made only with [`TenantId::new`], never converted from a plain string, so that a
    /// tenant and an account id (both strings) cannot be swapped in a call and still compile:
    ///
    /// ```compile_fail
    /// # mod cmis { pub use cmis_core::*; }
    /// use cmis::{AccountRef, Platform};
    /// let page = AccountRef::new("1234567890", Platform::Facebook, "acme"); // swapped: refused
    /// ```
    ///
    /// ```
    /// # mod cmis { pub use cmis_core::*; }
    /// use cmis::{AccountRef, Platform, TenantId};
    /// let acme = TenantId::new("acme");
    /// let page = AccountRef::new(acme.clone(), Platform::Facebook, "1234567890");
    /// assert_eq!(page, acme.account(Platform::Facebook, "1234567890"));
    /// ```
    TenantId
);
string_id!(
    /// An account's id on its platform: a Facebook Page id, an Instagram user id, a TikTok
    /// `open_id`.
    AccountId
);
string_id!(
    /// The id a platform gave a published post (or a TikTok `publish_id` for a draft). Only a
    /// platform makes one: it is never the caller's own id for a post (that is a [`PostKey`]).
    PostId
);
string_id!(
    /// The caller's own key for a post it schedules (a row id in the embedding app, a slug): the
    /// scheduler keeps at most one active job per key and target, and lists a post's jobs by it.
    /// Not a platform's id: that is the [`PostId`] in a job's receipt.
    PostKey
);

from_strings!(AccountId, PostId, PostKey);

impl TenantId {
    /// The account `account` of this tenant on `platform`.
    pub fn account(
        &self,
        platform: crate::Platform,
        account: impl Into<AccountId>,
    ) -> crate::AccountRef {
        crate::AccountRef::new(self.clone(), platform, account)
    }
}

impl From<&TenantId> for TenantId {
    fn from(tenant: &TenantId) -> Self {
        tenant.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_ids_keep_every_digit() {
        // 2^53 + 1 cannot be represented by an f64.
        let id: PostId = serde_json::from_str("\"9007199254740993\"").unwrap();
        assert_eq!(id.as_str(), "9007199254740993");
        assert_eq!(format!("{id:?}"), "PostId(\"9007199254740993\")");
    }
}
