//! Account health: tokens, refreshes, holds and failures, and what to do about a job's error.

use std::collections::BTreeMap;

use cmis_core::{AccountRef, Credential, ErrorKind, Result};
use time::{Duration, OffsetDateTime};

use super::{AccountActivity, Admin, Scope};
use crate::job::JobState;

/// What is known of an account's token, without the token ([`AccountHealth::token`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenHealth {
    /// When the access token expires, if it does on a timer.
    pub access_expires_at: Option<OffsetDateTime>,
    /// Whether a refresh token is stored.
    pub refreshable: bool,
    /// When the refresh token expires, if known.
    pub refresh_expires_at: Option<OffsetDateTime>,
    /// When the app's access to the user's data expires (Meta's `data_access_expires_at`).
    pub data_access_expires_at: Option<OffsetDateTime>,
    /// The scopes granted.
    pub scopes: Vec<String>,
}

impl TokenHealth {
    fn of(c: &Credential) -> Self {
        Self {
            access_expires_at: c.access_expires_at,
            refreshable: c.refresh_token.is_some(),
            refresh_expires_at: c.refresh_expires_at,
            data_access_expires_at: c.data_access_expires_at,
            scopes: c.scopes.iter().cloned().collect(),
        }
    }

    /// The last instant the account works without a person re-authorising it: the earliest of
    /// the data-access expiry, the refresh token's expiry, and the access token's expiry when
    /// it cannot be refreshed. `None` when nothing forces a re-authorisation.
    pub fn reauthorise_by(&self) -> Option<OffsetDateTime> {
        let access = if self.refreshable {
            None
        } else {
            self.access_expires_at
        };
        let refresh = if self.refreshable {
            self.refresh_expires_at
        } else {
            None
        };
        [self.data_access_expires_at, refresh, access]
            .into_iter()
            .flatten()
            .min()
    }
}

/// A platform's hold on an account: nothing is published to it before `until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Hold {
    /// Why: [`ErrorKind::RateLimited`] or [`ErrorKind::Quota`].
    pub kind: ErrorKind,
    /// When it ends.
    pub until: OffsetDateTime,
}

/// A token refresh, as audited.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefreshRecord {
    /// When it happened.
    pub at: OffsetDateTime,
    /// Whether it succeeded.
    pub ok: bool,
    /// The error kind of a failed refresh, as recorded.
    pub error_kind: Option<String>,
}

/// One account's health ([`Admin::accounts`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct AccountHealth {
    /// The account.
    pub account: AccountRef,
    /// Its token, when a credential is stored (`None`: none is, or no credential store was
    /// given to the [`Admin`]).
    pub token: Option<TokenHealth>,
    /// Its jobs' activity.
    pub activity: AccountActivity,
    /// Why a person must re-authorise it now, if one must.
    pub reauth_reason: Option<String>,
    /// By when a person must re-authorise it (now or later), if a deadline is known.
    pub reauthorise_by: Option<OffsetDateTime>,
}

impl AccountHealth {
    /// Whether a person must re-authorise the account now.
    pub fn needs_reauth(&self) -> bool {
        self.reauth_reason.is_some()
    }

    /// Whether a person must act within `within` of `now` (re-authorise now, or before a known
    /// deadline that falls in the window).
    pub fn at_risk(&self, now: OffsetDateTime, within: Duration) -> bool {
        self.needs_reauth() || self.reauthorise_by.is_some_and(|t| t <= now + within)
    }

    /// Failed and missed jobs over all finished ones in the window (`None`: none finished).
    pub fn failure_rate(&self) -> Option<f64> {
        let a = &self.activity;
        let all = a.published + a.failed;
        #[allow(clippy::cast_precision_loss)]
        (all > 0).then(|| a.failed as f64 / all as f64)
    }
}

/// What a person should do about a job's last error of `kind`, in `state`.
pub fn advice(kind: ErrorKind, state: JobState) -> &'static str {
    match (kind, state) {
        (_, JobState::AwaitingReauth) | (ErrorKind::Auth, _) => {
            "Re-authorise the account; the job then runs again by itself."
        }
        (_, JobState::UnknownOutcome) | (ErrorKind::UnknownOutcome, _) => {
            "The platform may have published it: check the account's page, then retry (it is \
             reconciled first, never sent twice) or cancel."
        }
        (ErrorKind::Permission, _) => {
            "Grant the missing permission (scope, page role or app review) and retry."
        }
        (ErrorKind::InvalidInput | ErrorKind::Rejected, _) => {
            "Fix the post (the error says what the platform refused), then schedule it again."
        }
        (ErrorKind::RateLimited | ErrorKind::Quota, JobState::Missed) => {
            "The platform's limit held it past its deadline: reschedule it."
        }
        (ErrorKind::RateLimited | ErrorKind::Quota, _) => {
            "The platform's limit holds the account; the job waits for it by itself."
        }
        (ErrorKind::Unsupported, _) => {
            "This kind of post cannot be published to this target: change the post or target."
        }
        (_, JobState::Missed) => "It was too late to publish: reschedule it.",
        (_, JobState::Failed) => "Retry it once the cause is fixed.",
        _ => "It is retried by itself.",
    }
}

/// [`Admin::accounts`].
pub(super) async fn accounts(
    admin: &Admin,
    scope: &Scope,
    now: OffsetDateTime,
    counted: bool,
) -> Result<Vec<AccountHealth>> {
    let since = counted.then(|| now - Admin::FAILURE_WINDOW);
    let mut by_account: BTreeMap<String, AccountActivity> = BTreeMap::new();
    for a in admin.store.account_activity(scope, since, now).await? {
        by_account.insert(key(&a.account), a);
    }
    let mut tokens = BTreeMap::new();
    if let Some(creds) = &admin.credentials {
        let tenants = match scope {
            Scope::Tenant(t) => vec![t.clone()],
            Scope::AllTenants => admin.store.tenants().await?,
        };
        for tenant in tenants {
            for account in creds.accounts(&tenant).await? {
                if let Some(c) = creds.credential(&account).await? {
                    tokens.insert(key(&account), TokenHealth::of(&c));
                }
                by_account
                    .entry(key(&account))
                    .or_insert_with(|| AccountActivity::none(account));
            }
        }
    }
    let mut out: Vec<AccountHealth> = by_account
        .into_iter()
        .map(|(k, activity)| health(activity, tokens.remove(&k), now))
        .collect();
    out.sort_by_key(|h| {
        (
            !h.needs_reauth(),
            h.reauthorise_by.is_none(),
            h.reauthorise_by,
        )
    });
    Ok(out)
}

fn key(a: &AccountRef) -> String {
    format!("{}\u{0}{}\u{0}{}", a.tenant, a.platform, a.account)
}

fn health(
    activity: AccountActivity,
    token: Option<TokenHealth>,
    now: OffsetDateTime,
) -> AccountHealth {
    let reauthorise_by = token.as_ref().and_then(TokenHealth::reauthorise_by);
    let refused_refresh = activity
        .last_refresh
        .as_ref()
        .is_some_and(|r| !r.ok && r.error_kind.as_deref() == Some(ErrorKind::Auth.as_str()));
    let reauth_reason = if activity.awaiting_reauth > 0 {
        Some(format!(
            "{} job(s) wait: the platform refused the token",
            activity.awaiting_reauth
        ))
    } else if refused_refresh {
        Some("the platform refused the last token refresh".to_owned())
    } else if reauthorise_by.is_some_and(|t| t <= now) {
        Some("its authorisation has expired".to_owned())
    } else {
        None
    };
    AccountHealth {
        account: activity.account.clone(),
        token,
        activity,
        reauth_reason,
        reauthorise_by,
    }
}
