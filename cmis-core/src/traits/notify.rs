//! Notifications: what a person must know about (re-authorise, a post failed, a post was missed).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{AccountRef, Receipt, Result, TenantId};

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum NotificationKind {
    /// An account must be re-authorised: its token was refused, or will soon stop working and
    /// cannot be refreshed.
    ReauthRequired,
    /// A token refresh failed for a reason other than the platform refusing it.
    TokenRefreshFailed,
    /// A post failed permanently or ran out of attempts.
    PublishFailed,
    /// A post was not published because it was too late.
    PublishMissed,
    /// A post's outcome is unknown and needs a look.
    UnknownOutcome,
    /// A post was published: the platform returned an id (see [`Notification::receipt`]).
    Published,
    /// A post will be tried again later: a retryable error, or the platform's limit (sent only
    /// when the scheduler is asked for every outcome).
    Retrying,
    /// The platform is still processing a post; it is checked again later (sent only when the
    /// scheduler is asked for every outcome).
    Pending,
}

impl NotificationKind {
    /// The stable `snake_case` name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ReauthRequired => "reauth_required",
            Self::TokenRefreshFailed => "token_refresh_failed",
            Self::PublishFailed => "publish_failed",
            Self::PublishMissed => "publish_missed",
            Self::UnknownOutcome => "unknown_outcome",
            Self::Published => "published",
            Self::Retrying => "retrying",
            Self::Pending => "pending",
        }
    }
}

/// A notification for a person, or for the program embedding cmis. It never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Notification {
    /// The delivery id, when the notification comes from a durable outbox: the same for every
    /// attempt to deliver it, so a receiver drops repeats by it (at-least-once delivery).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The tenant to notify.
    pub tenant: TenantId,
    /// What it is about.
    pub kind: NotificationKind,
    /// The account concerned, if any.
    #[serde(default)]
    pub account: Option<AccountRef>,
    /// The object concerned (a job id), if any.
    #[serde(default)]
    pub subject: Option<String>,
    /// A human-readable explanation.
    pub message: String,
    /// By when something must be done, if there is a deadline.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub deadline: Option<OffsetDateTime>,
    /// When the notification was raised.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// What the platform returned, for [`NotificationKind::Published`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<Receipt>,
}

impl Notification {
    /// A notification of `kind` for `tenant`, now.
    pub fn new(tenant: TenantId, kind: NotificationKind, message: impl Into<String>) -> Self {
        Self {
            id: None,
            tenant,
            kind,
            account: None,
            subject: None,
            message: message.into(),
            deadline: None,
            at: OffsetDateTime::now_utc(),
            receipt: None,
        }
    }

    /// A notification of `kind` about `account`.
    pub fn for_account(
        account: &AccountRef,
        kind: NotificationKind,
        message: impl Into<String>,
    ) -> Self {
        let mut n = Self::new(account.tenant.clone(), kind, message);
        n.account = Some(account.clone());
        n
    }

    /// Sets the subject.
    #[must_use]
    pub fn with_subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    /// Sets the deadline.
    #[must_use]
    pub fn with_deadline(mut self, deadline: OffsetDateTime) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Sets the receipt (of a published post).
    #[must_use]
    pub fn with_receipt(mut self, receipt: Receipt) -> Self {
        self.receipt = Some(receipt);
        self
    }

    /// Sets the delivery id.
    #[must_use]
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Sets when it was raised.
    #[must_use]
    pub fn at(mut self, at: OffsetDateTime) -> Self {
        self.at = at;
        self
    }
}

/// Delivers notifications: in memory, to `tracing`, to a webhook (`cmis-scheduler`), or anywhere
/// a program wants.
#[async_trait]
pub trait Notifier: Send + Sync {
    /// Delivers `notification`.
    async fn notify(&self, notification: &Notification) -> Result<()>;
}
