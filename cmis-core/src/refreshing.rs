//! [`RefreshingTokenProvider`]: tokens refreshed ahead of expiry, once per account however many
//! callers ask, with rotated refresh tokens persisted before they are used.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::{
    AccessToken, AccountRef, AuditRecord, AuditSink, CasOutcome, Clock, Credential,
    CredentialStore, Error, ErrorKind, Notification, NotificationKind, Notifier, Platform, Result,
    RetryPolicy, SystemClock, TokenProvider, TokenRefresher,
};

/// The default refresh margin: tokens are refreshed when they expire within 5 minutes.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// Tries at storing a refreshed credential before it is kept in memory only.
const STORE_ATTEMPTS: u32 = 3;

/// How long a credential kept in memory is served from the cache before storing it is tried
/// again.
const UNSAVED_RETRY_INTERVAL: Duration = Duration::from_secs(30);

/// The backoff between tries at storing a refreshed credential (any error kind is retried:
/// a store's failures are `Internal`).
fn store_backoff() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(STORE_ATTEMPTS)
        .with_base(Duration::from_millis(200))
        .with_cap(Duration::from_secs(2))
}

/// A [`TokenProvider`] over a [`CredentialStore`] and one [`TokenRefresher`] per platform.
///
/// - A token is refreshed when it expires within the margin (5 minutes by default), or after
///   [`invalidate`](TokenProvider::invalidate).
/// - Refreshes are single-flight per account: concurrent callers wait for one refresh and share
///   its result.
/// - The refreshed credential (with a rotated refresh token, if the platform rotated it) is
///   written to the store with compare-and-set **before** the new access token is handed out.
///   If another process stored first, its credential wins.
/// - A store error on that write is retried a few times with backoff. If the store still
///   fails, the platform has already revoked the old refresh token, so the new credential is
///   the only copy: it is kept in memory and used, storing it is tried again (every 30 s while
///   it is in use), and an error is logged (without the token): a process that stops before
///   it is stored leaves the account needing re-authorisation.
/// - A refresh the platform refuses yields [`ErrorKind::Auth`] and a
///   [`NotificationKind::ReauthRequired`] notification. A refresh that fails for another reason
///   while the current token is still valid is logged and the current token is used.
/// - Expiry instants come from the lifetimes the platform reports, never from a hard-coded one.
///
/// ```
/// # mod cmis { pub use cmis_core::*; }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), cmis::Error> {
/// use std::sync::Arc;
/// use cmis::{
///     AccountRef, Credential, CredentialStore, MemoryCredentialStore, Platform,
///     RefreshingTokenProvider, SecretString, TokenProvider, TenantId,
/// };
///
/// let store = Arc::new(MemoryCredentialStore::new());
/// let account = AccountRef::new(TenantId::new("acme"), Platform::Facebook, "1234567890");
/// store.put_credential(Credential::new(account.clone(), SecretString::from("page-token"))).await?;
///
/// let tokens = RefreshingTokenProvider::builder(store).build();
/// let token = tokens.access_token(&account).await?;
/// assert_eq!(token.version, 1);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RefreshingTokenProvider {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn CredentialStore>,
    refreshers: HashMap<Platform, Arc<dyn TokenRefresher>>,
    notifier: Option<Arc<dyn Notifier>>,
    audit: Option<Arc<dyn AuditSink>>,
    clock: Arc<dyn Clock>,
    margin: Duration,
    cache: Mutex<HashMap<AccountRef, Credential>>,
    rejected: Mutex<HashMap<AccountRef, u64>>,
    flights: Mutex<HashMap<AccountRef, Arc<tokio::sync::Mutex<()>>>>,
    unsaved: Mutex<HashMap<AccountRef, Unsaved>>,
    /// This provider's name in the store's refresh locks.
    owner: String,
}

/// How long one process may hold an account's refresh lock (a refresh is one OAuth call).
const REFRESH_LOCK_TTL: Duration = Duration::from_secs(120);

/// How often a process waiting for another's refresh looks again.
const REFRESH_LOCK_POLL: Duration = Duration::from_millis(200);

/// A refreshed credential the store has not accepted yet. Its `version` is the stored version
/// it replaces, the one compare-and-set expects.
struct Unsaved {
    credential: Credential,
    retry_at: OffsetDateTime,
}

impl fmt::Debug for RefreshingTokenProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut platforms: Vec<_> = self.inner.refreshers.keys().copied().collect();
        platforms.sort();
        f.debug_struct("RefreshingTokenProvider")
            .field("refreshers", &platforms)
            .field("margin", &self.inner.margin)
            .field("clock", &self.inner.clock)
            .finish_non_exhaustive()
    }
}

/// Builds a [`RefreshingTokenProvider`].
pub struct RefreshingTokenProviderBuilder {
    store: Arc<dyn CredentialStore>,
    refreshers: HashMap<Platform, Arc<dyn TokenRefresher>>,
    notifier: Option<Arc<dyn Notifier>>,
    audit: Option<Arc<dyn AuditSink>>,
    clock: Arc<dyn Clock>,
    margin: Duration,
}

impl fmt::Debug for RefreshingTokenProviderBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshingTokenProviderBuilder")
            .field("margin", &self.margin)
            .finish_non_exhaustive()
    }
}

impl RefreshingTokenProviderBuilder {
    /// Adds the refresher for its platform (replacing any earlier one for that platform).
    #[must_use]
    pub fn refresher(mut self, refresher: Arc<dyn TokenRefresher>) -> Self {
        self.refreshers.insert(refresher.platform(), refresher);
        self
    }

    /// Where re-authorisation and refresh-failure notifications go.
    #[must_use]
    pub fn notifier(mut self, notifier: Arc<dyn Notifier>) -> Self {
        self.notifier = Some(notifier);
        self
    }

    /// Where `token.refreshed` and `token.refresh_failed` audit records go.
    #[must_use]
    pub fn audit(mut self, audit: Arc<dyn AuditSink>) -> Self {
        self.audit = Some(audit);
        self
    }

    /// The clock (the system clock by default; [`TokioClock`](crate::TokioClock) in tests).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Refresh tokens expiring within `margin` (5 minutes by default).
    #[must_use]
    pub fn margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    /// Builds the provider.
    pub fn build(self) -> RefreshingTokenProvider {
        RefreshingTokenProvider {
            inner: Arc::new(Inner {
                store: self.store,
                refreshers: self.refreshers,
                notifier: self.notifier,
                audit: self.audit,
                clock: self.clock,
                margin: self.margin,
                cache: Mutex::default(),
                rejected: Mutex::default(),
                flights: Mutex::default(),
                unsaved: Mutex::default(),
                owner: format!("refresh-{}-{:016x}", std::process::id(), fastrand::u64(..)),
            }),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Every update under these locks is a single map operation, so a poisoned lock holds
    // consistent data.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl RefreshingTokenProvider {
    /// Starts building a provider over `store`.
    pub fn builder(store: Arc<dyn CredentialStore>) -> RefreshingTokenProviderBuilder {
        RefreshingTokenProviderBuilder {
            store,
            refreshers: HashMap::new(),
            notifier: None,
            audit: None,
            clock: Arc::new(SystemClock),
            margin: DEFAULT_REFRESH_MARGIN,
        }
    }

    /// The credential store.
    pub fn store(&self) -> &Arc<dyn CredentialStore> {
        &self.inner.store
    }

    /// Refreshes the token of `account` if it expires within `window` (the scheduler's daily
    /// sweep uses 7 days), single-flight with every other caller. Returns the token valid now.
    ///
    /// Unlike [`access_token`](TokenProvider::access_token), a refresh that fails while the
    /// current token is still valid is an error here (and a
    /// [`NotificationKind::TokenRefreshFailed`] notification with the expiry as deadline): a sweep
    /// exists to find such failures days before the token dies.
    pub async fn refresh_if_expiring_within(
        &self,
        account: &AccountRef,
        window: Duration,
    ) -> Result<AccessToken> {
        self.token(account, window.max(self.inner.margin), Mode::Sweep)
            .await
    }

    /// A token for `account` valid for at least `valid_for`, refreshing it if needed.
    async fn token(
        &self,
        account: &AccountRef,
        valid_for: Duration,
        mode: Mode,
    ) -> Result<AccessToken> {
        let inner = &self.inner;
        let store_due = lock(&inner.unsaved)
            .get(account)
            .is_some_and(|u| u.retry_at <= inner.clock.now());
        if !store_due
            && !lock(&inner.rejected).contains_key(account)
            && let Some(cached) = lock(&inner.cache).get(account)
            && usable(cached, inner.clock.now(), valid_for)
        {
            return Ok(AccessToken::from_credential(cached));
        }

        let flight = Arc::clone(lock(&inner.flights).entry(account.clone()).or_default());
        let _guard = flight.lock().await;

        let unsaved = lock(&inner.unsaved)
            .get(account)
            .map(|u| u.credential.clone());
        let current = match unsaved {
            Some(unsaved) => self.store_unsaved(account, unsaved).await,
            None => inner.store.credential(account).await?,
        };
        let Some(current) = current else {
            lock(&inner.cache).remove(account);
            return Err(self
                .reauth(account, None, "no credential is stored for this account")
                .await);
        };
        let forced = {
            let mut rejected = lock(&inner.rejected);
            match rejected.get(account) {
                Some(&v) if v == current.version => true,
                Some(_) => {
                    rejected.remove(account);
                    false
                }
                None => false,
            }
        };
        let now = inner.clock.now();
        if let Some(deadline) = current.data_access_expires_at
            && deadline <= now
        {
            lock(&inner.cache).remove(account);
            return Err(self
                .reauth(
                    account,
                    Some(deadline),
                    "the app's data access for this account has expired",
                )
                .await);
        }
        if !forced && usable(&current, now, valid_for) {
            lock(&inner.cache).insert(account.clone(), current.clone());
            return Ok(AccessToken::from_credential(&current));
        }

        let expired = current.expires_before(now);
        let Some(refresher) = inner.refreshers.get(&account.platform) else {
            if forced || expired {
                lock(&inner.cache).remove(account);
                let why = if forced {
                    "the platform rejected the token and it cannot be refreshed"
                } else {
                    "the token has expired and cannot be refreshed"
                };
                return Err(self.reauth(account, current.access_expires_at, why).await);
            }
            // Still valid, only inside the margin: use it while it lasts.
            return Ok(AccessToken::from_credential(&current));
        };

        // Across processes: one refresh of an account at a time, and always of the newest
        // credential, so that a rotated refresh token is never presented twice.
        let current = match self
            .refresh_lock(account, current, valid_for, mode, forced, expired)
            .await?
        {
            Locked::Refresh(current) => current,
            Locked::Use(credential) => return Ok(AccessToken::from_credential(&credential)),
        };
        let refreshed = self
            .refresh_locked(
                account, refresher, current, valid_for, mode, forced, expired, now,
            )
            .await;
        if let Err(e) = inner.store.unlock_refresh(account, &inner.owner).await {
            tracing::debug!(account = %account, error = %e, "releasing the refresh lock failed; it expires");
        }
        refreshed
    }

    /// Takes the store's refresh lock of `account` (waiting while another process refreshes
    /// it), then reads the credential again: another process may have refreshed it meanwhile.
    async fn refresh_lock(
        &self,
        account: &AccountRef,
        current: Credential,
        valid_for: Duration,
        mode: Mode,
        forced: bool,
        expired: bool,
    ) -> Result<Locked> {
        let inner = &self.inner;
        let give_up = tokio::time::Instant::now() + REFRESH_LOCK_TTL + Duration::from_secs(5);
        loop {
            match inner
                .store
                .lock_refresh(account, &inner.owner, REFRESH_LOCK_TTL)
                .await
            {
                Ok(true) => break,
                Ok(false) => {
                    // A token still valid serves while another process refreshes it.
                    if !forced && !expired && mode == Mode::Use {
                        return Ok(Locked::Use(current));
                    }
                    if tokio::time::Instant::now() >= give_up {
                        return Err(Error::transient(
                            "another process has been refreshing this account's token for too long",
                        ));
                    }
                    tokio::time::sleep(REFRESH_LOCK_POLL).await;
                }
                Err(e) => {
                    tracing::warn!(account = %account, error = %e, "the store's refresh lock failed; refreshing without it");
                    break;
                }
            }
        }
        // Unchanged in the store, the credential in hand is the newest (it may be a rotated
        // one the store has not accepted yet, kept in memory).
        let latest = match inner.store.credential(account).await {
            Ok(Some(latest)) if latest.version != current.version => latest,
            Ok(_) | Err(_) => return Ok(Locked::Refresh(current)),
        };
        if usable(&latest, inner.clock.now(), valid_for) {
            tracing::debug!(account = %account, "another process refreshed the token first");
            let _ = inner.store.unlock_refresh(account, &inner.owner).await;
            lock(&inner.cache).insert(account.clone(), latest.clone());
            return Ok(Locked::Use(latest));
        }
        Ok(Locked::Refresh(latest))
    }

    #[allow(clippy::too_many_arguments)]
    async fn refresh_locked(
        &self,
        account: &AccountRef,
        refresher: &Arc<dyn TokenRefresher>,
        current: Credential,
        valid_for: Duration,
        mode: Mode,
        forced: bool,
        expired: bool,
        now: OffsetDateTime,
    ) -> Result<AccessToken> {
        let inner = &self.inner;
        tracing::debug!(account = %account, forced, "refreshing token");
        match refresher.refresh(&current).await {
            Ok(refreshed) => {
                let next = refreshed.apply_to(&current, now);
                self.store_refreshed(account, current.version, next).await
            }
            Err(err) if err.kind() == ErrorKind::Auth => {
                // Another process may have rotated the refresh token while ours was in flight
                // (the platform then refuses the old one): its credential wins, no re-auth.
                if let Ok(Some(newer)) = inner.store.credential(account).await
                    && newer.version != current.version
                    && usable(&newer, inner.clock.now(), valid_for)
                {
                    tracing::debug!(account = %account, "another process rotated the token first");
                    lock(&inner.cache).insert(account.clone(), newer.clone());
                    return Ok(AccessToken::from_credential(&newer));
                }
                lock(&inner.cache).remove(account);
                lock(&inner.unsaved).remove(account);
                self.audit_failure(account, &err).await;
                self.notify(
                    Notification::for_account(
                        account,
                        NotificationKind::ReauthRequired,
                        format!("the platform refused to refresh the token: {err}"),
                    )
                    .at(now),
                    current.access_expires_at,
                )
                .await;
                Err(err)
            }
            Err(err) if !forced && !expired && mode == Mode::Use => {
                tracing::warn!(
                    account = %account,
                    kind = %err.kind(),
                    "token refresh failed; the current token is still valid and is used"
                );
                self.audit_failure(account, &err).await;
                Ok(AccessToken::from_credential(&current))
            }
            Err(err) => {
                self.audit_failure(account, &err).await;
                self.notify(
                    Notification::for_account(
                        account,
                        NotificationKind::TokenRefreshFailed,
                        format!("the token could not be refreshed: {err}"),
                    )
                    .at(now),
                    current.access_expires_at,
                )
                .await;
                Err(err)
            }
        }
    }

    async fn store_refreshed(
        &self,
        account: &AccountRef,
        expected_version: u64,
        next: Credential,
    ) -> Result<AccessToken> {
        let inner = &self.inner;
        let stored = match self
            .swap_with_retries(account, expected_version, &next)
            .await
        {
            Ok(CasOutcome::Stored(stored)) => {
                self.audit_refreshed(account, &stored).await;
                stored
            }
            Ok(CasOutcome::Conflict(Some(theirs))) => {
                tracing::debug!(account = %account, "another process refreshed first; using its token");
                theirs
            }
            Ok(CasOutcome::Conflict(None)) => {
                return Err(Error::auth(format!(
                    "the credential of {account} was deleted while it was being refreshed"
                )));
            }
            Err(err) => {
                // The platform has already revoked the refresh token this one replaces: this is
                // the only copy, so it is used and stored at the next chance.
                tracing::error!(
                    account = %account,
                    kind = %err.kind(),
                    attempts = STORE_ATTEMPTS,
                    "the refreshed credential could not be stored; it is kept in memory and \
                     stored at the next chance (if this process stops first, the account must \
                     be re-authorised): {err}"
                );
                lock(&inner.unsaved).insert(
                    account.clone(),
                    Unsaved {
                        credential: next.clone(),
                        retry_at: inner.clock.now() + UNSAVED_RETRY_INTERVAL,
                    },
                );
                next
            }
        };
        lock(&inner.rejected).remove(account);
        lock(&inner.cache).insert(account.clone(), stored.clone());
        Ok(AccessToken::from_credential(&stored))
    }

    /// Compare-and-set of `next`, retried with backoff after a store error.
    async fn swap_with_retries(
        &self,
        account: &AccountRef,
        expected_version: u64,
        next: &Credential,
    ) -> Result<CasOutcome> {
        let policy = store_backoff();
        let mut attempt = 1;
        loop {
            match self
                .inner
                .store
                .compare_and_swap(expected_version, next.clone())
                .await
            {
                Err(err) if attempt < STORE_ATTEMPTS => {
                    tracing::warn!(
                        account = %account,
                        attempt,
                        kind = %err.kind(),
                        "the refreshed credential could not be stored; trying again: {err}"
                    );
                    tokio::time::sleep(policy.backoff(attempt - 1)).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// Tries again to store a refreshed credential kept in memory. Returns the credential to
    /// go on with: the stored one, one stored since by someone else (a re-authorisation or
    /// another process, which wins), the one in memory while the store still fails, or `None`
    /// when the account's credential was deleted.
    async fn store_unsaved(&self, account: &AccountRef, unsaved: Credential) -> Option<Credential> {
        let inner = &self.inner;
        let outcome = inner
            .store
            .compare_and_swap(unsaved.version, unsaved.clone())
            .await;
        let next = match outcome {
            Ok(CasOutcome::Stored(stored)) => {
                tracing::info!(account = %account, "the refreshed credential kept in memory is stored");
                self.audit_refreshed(account, &stored).await;
                Some(stored)
            }
            Ok(CasOutcome::Conflict(theirs)) => {
                tracing::warn!(
                    account = %account,
                    "the credential was replaced or deleted since the refresh kept in memory; \
                     the stored one wins"
                );
                theirs
            }
            Err(err) => {
                tracing::error!(
                    account = %account,
                    kind = %err.kind(),
                    "the refreshed credential kept in memory still cannot be stored: {err}"
                );
                if let Some(u) = lock(&inner.unsaved).get_mut(account) {
                    u.retry_at = inner.clock.now() + UNSAVED_RETRY_INTERVAL;
                }
                return Some(unsaved);
            }
        };
        lock(&inner.unsaved).remove(account);
        next
    }

    async fn reauth(
        &self,
        account: &AccountRef,
        deadline: Option<OffsetDateTime>,
        why: &str,
    ) -> Error {
        let err = Error::auth(format!("{account} must be re-authorised: {why}"))
            .with_platform(account.platform);
        self.audit_failure(account, &err).await;
        self.notify(
            Notification::for_account(account, NotificationKind::ReauthRequired, why)
                .at(self.inner.clock.now()),
            deadline,
        )
        .await;
        err
    }

    async fn notify(&self, notification: Notification, deadline: Option<OffsetDateTime>) {
        let Some(notifier) = &self.inner.notifier else {
            return;
        };
        let notification = match deadline {
            Some(d) => notification.with_deadline(d),
            None => notification,
        };
        if let Err(err) = notifier.notify(&notification).await {
            tracing::warn!(kind = %err.kind(), "notification could not be delivered: {err}");
        }
    }

    async fn audit_refreshed(&self, account: &AccountRef, stored: &Credential) {
        metrics::counter!(
            "cmis_token_refreshes_total",
            "platform" => account.platform.as_str(),
            "outcome" => "refreshed"
        )
        .increment(1);
        self.audit(
            AuditRecord::for_account(account, "token.refreshed").with_detail(
                "expires_at",
                stored
                    .access_expires_at
                    .map_or_else(|| "never".to_owned(), |t| t.to_string()),
            ),
        )
        .await;
    }

    async fn audit_failure(&self, account: &AccountRef, err: &Error) {
        metrics::counter!(
            "cmis_token_refreshes_total",
            "platform" => account.platform.as_str(),
            "outcome" => err.kind().as_str()
        )
        .increment(1);
        self.audit(
            AuditRecord::for_account(account, "token.refresh_failed")
                .with_detail("error_kind", err.kind().as_str()),
        )
        .await;
    }

    async fn audit(&self, record: AuditRecord) {
        let Some(audit) = &self.inner.audit else {
            return;
        };
        let record = record.at(self.inner.clock.now());
        if let Err(err) = audit.record(&record).await {
            tracing::warn!(kind = %err.kind(), "audit record could not be written: {err}");
        }
    }
}

/// Why a token is wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// To make a call now: a still-valid token is good enough when a refresh fails.
    Use,
    /// For the refresh sweep: a failed refresh is reported even while the token is still valid.
    Sweep,
}

/// Whether `credential` is valid for at least `valid_for` from `now`.
/// What the refresh lock says to do.
enum Locked {
    /// Refresh this credential (the newest stored).
    Refresh(Credential),
    /// Use this credential: it is still valid, or another process has just refreshed it.
    Use(Credential),
}

fn usable(credential: &Credential, now: OffsetDateTime, valid_for: Duration) -> bool {
    let token_ok = !credential.expires_before(now + valid_for);
    let data_ok = credential.data_access_expires_at.is_none_or(|d| d > now);
    token_ok && data_ok
}

#[async_trait]
impl TokenProvider for RefreshingTokenProvider {
    #[tracing::instrument(level = "debug", skip_all, fields(account = %account))]
    async fn access_token(&self, account: &AccountRef) -> Result<AccessToken> {
        self.token(account, self.inner.margin, Mode::Use).await
    }

    async fn invalidate(&self, account: &AccountRef, rejected: &AccessToken) {
        tracing::debug!(account = %account, version = rejected.version, "token invalidated");
        lock(&self.inner.rejected).insert(account.clone(), rejected.version);
        lock(&self.inner.cache).remove(account);
    }
}
