//! The audit trail: who did what, to which account, with what result.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{AccountRef, Result, TenantId};

/// One audit record. It never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuditRecord {
    /// The tenant the record belongs to.
    pub tenant: TenantId,
    /// When it happened.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// What happened, as a stable dotted name such as `token.refreshed` or `job.published`.
    pub action: String,
    /// The account concerned, if any.
    #[serde(default)]
    pub account: Option<AccountRef>,
    /// The object concerned (a job id, a post id), if any.
    #[serde(default)]
    pub subject: Option<String>,
    /// Further facts, such as the error kind or the platform post id.
    #[serde(default)]
    pub detail: BTreeMap<String, String>,
}

impl AuditRecord {
    /// A record of `action` for `tenant`, now.
    pub fn new(tenant: TenantId, action: impl Into<String>) -> Self {
        Self {
            tenant,
            at: OffsetDateTime::now_utc(),
            action: action.into(),
            account: None,
            subject: None,
            detail: BTreeMap::new(),
        }
    }

    /// A record of `action` concerning `account` (its tenant becomes the record's).
    pub fn for_account(account: &AccountRef, action: impl Into<String>) -> Self {
        let mut record = Self::new(account.tenant.clone(), action);
        record.account = Some(account.clone());
        record
    }

    /// Sets when it happened.
    #[must_use]
    pub fn at(mut self, at: OffsetDateTime) -> Self {
        self.at = at;
        self
    }

    /// Sets the subject.
    #[must_use]
    pub fn with_subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    /// Adds a fact.
    #[must_use]
    pub fn with_detail(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.detail.insert(key.into(), value.into());
        self
    }
}

/// Receives audit records.
#[async_trait]
pub trait AuditSink: Send + Sync {
    /// Appends `record` to the trail.
    async fn record(&self, record: &AuditRecord) -> Result<()>;
}
