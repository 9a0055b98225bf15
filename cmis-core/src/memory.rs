//! In-memory and `tracing` implementations of the store, audit, notification and checkpoint
//! traits, for tests and small programs. Nothing here survives a restart: use `cmis-scheduler`'s
//! stores for that.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::{
    AccountRef, AuditRecord, AuditSink, CasOutcome, Checkpoint, CheckpointSink, Credential,
    CredentialStore, Error, Notification, Notifier, Result, TenantId,
};

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding one of these locks cannot leave the data half-written (every update
    // is a single insert or push), so a poisoned lock is still safe to use.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A [`CredentialStore`] in memory.
#[derive(Debug, Default)]
pub struct MemoryCredentialStore {
    credentials: Mutex<HashMap<AccountRef, Credential>>,
}

impl MemoryCredentialStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl CredentialStore for MemoryCredentialStore {
    async fn credential(&self, account: &AccountRef) -> Result<Option<Credential>> {
        Ok(lock(&self.credentials).get(account).cloned())
    }

    async fn put_credential(&self, mut credential: Credential) -> Result<Credential> {
        let mut map = lock(&self.credentials);
        let previous = map.get(&credential.account).map_or(0, |c| c.version);
        credential.version = previous + 1;
        map.insert(credential.account.clone(), credential.clone());
        Ok(credential)
    }

    async fn compare_and_swap(
        &self,
        expected_version: u64,
        mut credential: Credential,
    ) -> Result<CasOutcome> {
        let mut map = lock(&self.credentials);
        let current = map.get(&credential.account);
        if current.map_or(0, |c| c.version) != expected_version {
            return Ok(CasOutcome::Conflict(current.cloned()));
        }
        credential.version = expected_version + 1;
        map.insert(credential.account.clone(), credential.clone());
        Ok(CasOutcome::Stored(credential))
    }

    async fn delete_credential(&self, account: &AccountRef) -> Result<bool> {
        Ok(lock(&self.credentials).remove(account).is_some())
    }

    async fn accounts(&self, tenant: &TenantId) -> Result<Vec<AccountRef>> {
        let mut out: Vec<_> = lock(&self.credentials)
            .keys()
            .filter(|a| &a.tenant == tenant)
            .cloned()
            .collect();
        out.sort();
        Ok(out)
    }

    async fn expiring_before(&self, before: OffsetDateTime) -> Result<Vec<AccountRef>> {
        let mut out: Vec<_> = lock(&self.credentials)
            .values()
            .filter(|c| c.expires_before(before))
            .map(|c| c.account.clone())
            .collect();
        out.sort();
        Ok(out)
    }
}

/// An [`AuditSink`] that keeps records in memory.
#[derive(Debug, Default)]
pub struct MemoryAuditSink {
    records: Mutex<Vec<AuditRecord>>,
}

impl MemoryAuditSink {
    /// An empty trail.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every record so far, oldest first.
    pub fn records(&self) -> Vec<AuditRecord> {
        lock(&self.records).clone()
    }

    /// The records of `tenant`, oldest first.
    pub fn records_for(&self, tenant: &TenantId) -> Vec<AuditRecord> {
        lock(&self.records)
            .iter()
            .filter(|r| &r.tenant == tenant)
            .cloned()
            .collect()
    }
}

#[async_trait]
impl AuditSink for MemoryAuditSink {
    async fn record(&self, record: &AuditRecord) -> Result<()> {
        lock(&self.records).push(record.clone());
        Ok(())
    }
}

/// An [`AuditSink`] that writes each record as a `tracing` event at `INFO` level, target
/// `cmis::audit`.
#[derive(Debug, Clone, Copy, Default)]
pub struct TracingAuditSink;

#[async_trait]
impl AuditSink for TracingAuditSink {
    async fn record(&self, record: &AuditRecord) -> Result<()> {
        let detail = serde_json::to_string(&record.detail)
            .map_err(|e| Error::internal(format!("audit detail cannot be serialised: {e}")))?;
        tracing::info!(
            target: "cmis::audit",
            tenant = %record.tenant,
            action = %record.action,
            account = record.account.as_ref().map(|a| a.to_string()),
            subject = record.subject.as_deref(),
            detail = %detail,
            "audit"
        );
        Ok(())
    }
}

/// A [`Notifier`] that keeps notifications in memory.
#[derive(Debug, Default)]
pub struct MemoryNotifier {
    sent: Mutex<Vec<Notification>>,
}

impl MemoryNotifier {
    /// An empty notifier.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every notification so far, oldest first.
    pub fn notifications(&self) -> Vec<Notification> {
        lock(&self.sent).clone()
    }
}

#[async_trait]
impl Notifier for MemoryNotifier {
    async fn notify(&self, notification: &Notification) -> Result<()> {
        lock(&self.sent).push(notification.clone());
        Ok(())
    }
}

/// A [`Notifier`] that writes each notification as a `tracing` event at `WARN` level, target
/// `cmis::notify`.
#[derive(Debug, Clone, Copy, Default)]
pub struct TracingNotifier;

#[async_trait]
impl Notifier for TracingNotifier {
    async fn notify(&self, n: &Notification) -> Result<()> {
        tracing::warn!(
            target: "cmis::notify",
            tenant = %n.tenant,
            kind = n.kind.as_str(),
            account = n.account.as_ref().map(|a| a.to_string()),
            subject = n.subject.as_deref(),
            "{}",
            n.message
        );
        Ok(())
    }
}

/// A [`CheckpointSink`] that keeps checkpoints in memory, for tests and direct publishing.
#[derive(Debug, Default)]
pub struct MemoryCheckpointSink {
    saved: Mutex<Vec<Checkpoint>>,
}

impl MemoryCheckpointSink {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every checkpoint so far, oldest first.
    pub fn checkpoints(&self) -> Vec<Checkpoint> {
        lock(&self.saved).clone()
    }

    /// The latest checkpoint, if any.
    pub fn latest(&self) -> Option<Checkpoint> {
        lock(&self.saved).last().cloned()
    }
}

#[async_trait]
impl CheckpointSink for MemoryCheckpointSink {
    async fn save(&self, checkpoint: &Checkpoint) -> Result<()> {
        lock(&self.saved).push(checkpoint.clone());
        Ok(())
    }
}
