//! The refreshing token provider: single flight, rotation persisted before use, invalidation,
//! failures and notifications. Every test runs on a paused tokio clock.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use cmis_core::{
    AccountRef, CasOutcome, Credential, CredentialStore, Error, ErrorKind, ExposeSecret,
    MemoryAuditSink, MemoryCredentialStore, MemoryNotifier, NotificationKind, Platform,
    RefreshedToken, RefreshingTokenProvider, Result, SecretString, TenantId, TokenProvider,
    TokenRefresher, TokioClock,
};
use time::OffsetDateTime;
use time::macros::datetime;

const T0: OffsetDateTime = datetime!(2026-11-25 12:00 UTC);

fn account() -> AccountRef {
    AccountRef::new(TenantId::new("tenant-a"), Platform::TikTok, "open-id-1")
}

/// A refresher that returns `act.N`/`rft.N` on the N-th call, after a simulated network delay,
/// and logs every call.
struct CountingRefresher {
    calls: AtomicU32,
    delay: Duration,
    lifetime: Duration,
    log: Arc<Mutex<Vec<String>>>,
    fail_with: Mutex<Option<fn() -> Error>>,
    /// The refresh token each call was given.
    given: Mutex<Vec<String>>,
}

impl CountingRefresher {
    fn new(log: Arc<Mutex<Vec<String>>>) -> Self {
        Self {
            calls: AtomicU32::new(0),
            delay: Duration::from_millis(250),
            lifetime: Duration::from_secs(86_400),
            log,
            fail_with: Mutex::new(None),
            given: Mutex::default(),
        }
    }

    fn calls(&self) -> u32 {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl TokenRefresher for CountingRefresher {
    fn platform(&self) -> Platform {
        Platform::TikTok
    }

    async fn refresh(&self, current: &Credential) -> Result<RefreshedToken> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some(rt) = &current.refresh_token {
            self.given
                .lock()
                .unwrap()
                .push(rt.expose_secret().to_owned());
        }
        tokio::time::sleep(self.delay).await;
        let fail = *self.fail_with.lock().unwrap();
        if let Some(make) = fail {
            self.log.lock().unwrap().push("refresh-failed".into());
            return Err(make());
        }
        assert!(
            current.refresh_token.is_some(),
            "refresh needs the stored refresh token"
        );
        self.log.lock().unwrap().push(format!("refresh {n}"));
        Ok(RefreshedToken::new(SecretString::from(format!("act.{n}")))
            .with_refresh_token(SecretString::from(format!("rft.{n}")))
            .with_expires_in(self.lifetime)
            .with_refresh_expires_in(Duration::from_secs(365 * 86_400)))
    }
}

/// A store that logs compare-and-swap calls and can be told to fail the next ones.
struct LoggingStore {
    inner: MemoryCredentialStore,
    log: Arc<Mutex<Vec<String>>>,
    /// How many of the next compare-and-swap calls fail.
    fail_cas: AtomicU32,
}

#[async_trait]
impl CredentialStore for LoggingStore {
    async fn credential(&self, a: &AccountRef) -> Result<Option<Credential>> {
        self.inner.credential(a).await
    }
    async fn put_credential(&self, c: Credential) -> Result<Credential> {
        self.inner.put_credential(c).await
    }
    async fn compare_and_swap(&self, v: u64, c: Credential) -> Result<CasOutcome> {
        let failing = self
            .fail_cas
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if failing {
            self.log.lock().unwrap().push("cas-failed".into());
            return Err(Error::internal("database is locked"));
        }
        let rt = c
            .refresh_token
            .as_ref()
            .map(|s| s.expose_secret().to_owned());
        self.log
            .lock()
            .unwrap()
            .push(format!("cas {}", rt.unwrap_or_default()));
        self.inner.compare_and_swap(v, c).await
    }
    async fn delete_credential(&self, a: &AccountRef) -> Result<bool> {
        self.inner.delete_credential(a).await
    }
    async fn accounts(&self, t: &TenantId) -> Result<Vec<AccountRef>> {
        self.inner.accounts(t).await
    }
    async fn expiring_before(&self, b: OffsetDateTime) -> Result<Vec<AccountRef>> {
        self.inner.expiring_before(b).await
    }
}

struct Fixture {
    store: Arc<LoggingStore>,
    refresher: Arc<CountingRefresher>,
    notifier: Arc<MemoryNotifier>,
    audit: Arc<MemoryAuditSink>,
    provider: RefreshingTokenProvider,
    log: Arc<Mutex<Vec<String>>>,
}

/// A provider whose credential expires `expires_in` after T0, with a 5-minute margin.
async fn fixture(expires_in: Duration, fail_cas: bool) -> Fixture {
    fixture_failing_cas(expires_in, if fail_cas { u32::MAX } else { 0 }).await
}

/// A [`fixture`] whose store fails its next `failing` compare-and-swap calls.
async fn fixture_failing_cas(expires_in: Duration, failing: u32) -> Fixture {
    let log = Arc::new(Mutex::new(Vec::new()));
    let store = Arc::new(LoggingStore {
        inner: MemoryCredentialStore::new(),
        log: log.clone(),
        fail_cas: AtomicU32::new(failing),
    });
    store
        .put_credential(
            Credential::new(account(), SecretString::from("act.0"))
                .with_refresh_token(SecretString::from("rft.0"))
                .with_access_expires_at(T0 + expires_in)
                .with_scopes(["video.publish"]),
        )
        .await
        .unwrap();
    let refresher = Arc::new(CountingRefresher::new(log.clone()));
    let notifier = Arc::new(MemoryNotifier::new());
    let audit = Arc::new(MemoryAuditSink::new());
    let provider = RefreshingTokenProvider::builder(store.clone())
        .refresher(refresher.clone())
        .notifier(notifier.clone())
        .audit(audit.clone())
        .clock(Arc::new(TokioClock::starting_at(T0)))
        .margin(Duration::from_secs(300))
        .build();
    Fixture {
        store,
        refresher,
        notifier,
        audit,
        provider,
        log,
    }
}

#[tokio::test(start_paused = true)]
async fn a_fresh_token_is_not_refreshed() {
    let f = fixture(Duration::from_secs(3600), false).await;
    for _ in 0..10 {
        let t = f.provider.access_token(&account()).await.unwrap();
        assert_eq!(t.secret.expose_secret(), "act.0");
        assert!(t.has_scope("video.publish"));
    }
    assert_eq!(f.refresher.calls(), 0);
}

#[tokio::test(start_paused = true)]
async fn one_hundred_concurrent_callers_cause_exactly_one_refresh() {
    // Expires in 60 s, inside the 5-minute margin.
    let f = fixture(Duration::from_secs(60), false).await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..100 {
        let p = f.provider.clone();
        tasks.spawn(async move { p.access_token(&account()).await });
    }
    let mut tokens = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        tokens.push(joined.unwrap().unwrap());
    }
    assert_eq!(f.refresher.calls(), 1, "single flight");
    assert_eq!(tokens.len(), 100);
    for t in &tokens {
        assert_eq!(t.secret.expose_secret(), "act.1");
        assert_eq!(t.version, 2);
    }
    // Lifetime from the platform's expires_in, counted from when the request was sent.
    assert_eq!(tokens[0].expires_at, Some(T0 + Duration::from_secs(86_400)));
}

#[tokio::test(start_paused = true)]
async fn the_rotated_refresh_token_is_stored_before_the_access_token_is_used() {
    let f = fixture(Duration::from_secs(10), false).await;
    let token = f.provider.access_token(&account()).await.unwrap();
    f.log
        .lock()
        .unwrap()
        .push(format!("use {}", token.secret.expose_secret()));
    assert_eq!(
        *f.log.lock().unwrap(),
        vec![
            "refresh 1".to_owned(),
            "cas rft.1".into(),
            "use act.1".into()
        ]
    );
    let stored = f.store.credential(&account()).await.unwrap().unwrap();
    assert_eq!(stored.refresh_token.unwrap().expose_secret(), "rft.1");
    assert_eq!(stored.access_token.expose_secret(), "act.1");
    assert_eq!(stored.version, 2);
    assert_eq!(
        f.audit
            .records()
            .iter()
            .map(|r| r.action.as_str())
            .collect::<Vec<_>>(),
        vec!["token.refreshed"]
    );
}

async fn stored_refresh_token(f: &Fixture) -> String {
    let stored = f.store.credential(&account()).await.unwrap().unwrap();
    stored.refresh_token.unwrap().expose_secret().to_owned()
}

#[tokio::test(start_paused = true)]
async fn a_store_error_on_the_rotated_credential_is_retried_until_it_is_stored() {
    let f = fixture_failing_cas(Duration::from_secs(10), 2).await;
    let token = f.provider.access_token(&account()).await.unwrap();
    assert_eq!(token.secret.expose_secret(), "act.1");
    assert_eq!(
        *f.log.lock().unwrap(),
        vec![
            "refresh 1".to_owned(),
            "cas-failed".into(),
            "cas-failed".into(),
            "cas rft.1".into()
        ]
    );
    assert_eq!(stored_refresh_token(&f).await, "rft.1");
    let second = f.provider.access_token(&account()).await.unwrap();
    assert_eq!(second.secret.expose_secret(), "act.1");
    assert_eq!(f.refresher.calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_rotated_credential_the_store_refuses_is_kept_in_memory_and_stored_later() {
    // Every try after the refresh fails, and the first retry after it too.
    let f = fixture_failing_cas(Duration::from_secs(10), 4).await;
    // The platform has revoked rft.0: the new pair is the only one that works, so it is used.
    let token = f.provider.access_token(&account()).await.unwrap();
    assert_eq!(token.secret.expose_secret(), "act.1");
    assert_eq!(stored_refresh_token(&f).await, "rft.0");
    // Served from memory without touching the store until the retry interval has passed.
    let cas_calls = |f: &Fixture| {
        f.log
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.starts_with("cas"))
            .count()
    };
    assert_eq!(cas_calls(&f), 3);
    f.provider.access_token(&account()).await.unwrap();
    assert_eq!(cas_calls(&f), 3);
    tokio::time::advance(Duration::from_secs(31)).await;
    // The store still fails: the token in memory is used all the same.
    let again = f.provider.access_token(&account()).await.unwrap();
    assert_eq!(again.secret.expose_secret(), "act.1");
    assert_eq!(cas_calls(&f), 4);
    assert_eq!(stored_refresh_token(&f).await, "rft.0");
    // The store is back: the next chance stores the rotated pair, with no second refresh.
    tokio::time::advance(Duration::from_secs(31)).await;
    let later = f.provider.access_token(&account()).await.unwrap();
    assert_eq!(later.secret.expose_secret(), "act.1");
    assert_eq!(stored_refresh_token(&f).await, "rft.1");
    let stored = f.store.credential(&account()).await.unwrap().unwrap();
    assert_eq!(stored.access_token.expose_secret(), "act.1");
    assert_eq!(stored.version, 2);
    assert_eq!(f.refresher.calls(), 1);
    assert_eq!(
        f.audit
            .records()
            .iter()
            .map(|r| r.action.as_str())
            .collect::<Vec<_>>(),
        vec!["token.refreshed"]
    );
}

#[tokio::test(start_paused = true)]
async fn the_next_refresh_uses_the_rotated_token_kept_in_memory_not_the_stored_one() {
    let f = fixture(Duration::from_secs(10), true).await;
    let first = f.provider.access_token(&account()).await.unwrap();
    assert_eq!(first.secret.expose_secret(), "act.1");
    // A day later act.1 expires too, and the store still refuses every write.
    tokio::time::advance(Duration::from_secs(86_400)).await;
    let second = f.provider.access_token(&account()).await.unwrap();
    assert_eq!(second.secret.expose_secret(), "act.2");
    assert_eq!(*f.refresher.given.lock().unwrap(), vec!["rft.0", "rft.1"]);
    assert_eq!(stored_refresh_token(&f).await, "rft.0");
}

#[tokio::test(start_paused = true)]
async fn refresh_happens_ahead_of_expiry_as_the_clock_moves() {
    let f = fixture(Duration::from_secs(3600), false).await;
    f.provider.access_token(&account()).await.unwrap();
    assert_eq!(f.refresher.calls(), 0);
    // 54 minutes later the token has 6 minutes left: still outside the margin.
    tokio::time::advance(Duration::from_secs(54 * 60)).await;
    f.provider.access_token(&account()).await.unwrap();
    assert_eq!(f.refresher.calls(), 0);
    // One more minute and it is inside the 5-minute margin.
    tokio::time::advance(Duration::from_secs(61)).await;
    let t = f.provider.access_token(&account()).await.unwrap();
    assert_eq!(f.refresher.calls(), 1);
    assert_eq!(t.secret.expose_secret(), "act.1");
}

#[tokio::test(start_paused = true)]
async fn invalidate_forces_exactly_one_refresh() {
    let f = fixture(Duration::from_secs(3600), false).await;
    let rejected = f.provider.access_token(&account()).await.unwrap();
    // Ten requests all saw the same 401 and all invalidate the same token.
    for _ in 0..10 {
        f.provider.invalidate(&account(), &rejected).await;
    }
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let p = f.provider.clone();
        tasks.spawn(async move { p.access_token(&account()).await.unwrap() });
    }
    while let Some(t) = tasks.join_next().await {
        assert_eq!(t.unwrap().secret.expose_secret(), "act.1");
    }
    assert_eq!(f.refresher.calls(), 1);
    // Invalidating the old token again does nothing: the store has moved on.
    f.provider.invalidate(&account(), &rejected).await;
    let t = f.provider.access_token(&account()).await.unwrap();
    assert_eq!(t.secret.expose_secret(), "act.1");
    assert_eq!(f.refresher.calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_refresh_the_platform_refuses_is_auth_and_notifies() {
    let f = fixture(Duration::from_secs(10), false).await;
    *f.refresher.fail_with.lock().unwrap() =
        Some(|| Error::auth("invalid_grant").with_platform_code("invalid_grant"));
    let err = f.provider.access_token(&account()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    let sent = f.notifier.notifications();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].kind, NotificationKind::ReauthRequired);
    assert_eq!(sent[0].account.as_ref(), Some(&account()));
    assert_eq!(sent[0].tenant.as_str(), "tenant-a");
    assert_eq!(sent[0].deadline, Some(T0 + Duration::from_secs(10)));
}

#[tokio::test(start_paused = true)]
async fn a_transient_refresh_failure_keeps_using_a_still_valid_token() {
    let f = fixture(Duration::from_secs(120), false).await;
    *f.refresher.fail_with.lock().unwrap() = Some(|| Error::transient("connection reset"));
    let t = f.provider.access_token(&account()).await.unwrap();
    assert_eq!(t.secret.expose_secret(), "act.0");
    assert!(f.notifier.notifications().is_empty());
    // Once the token has expired, the same failure is an error and a notification.
    tokio::time::advance(Duration::from_secs(121)).await;
    let err = f.provider.access_token(&account()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient);
    let sent = f.notifier.notifications();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].kind, NotificationKind::TokenRefreshFailed);
}

#[tokio::test(start_paused = true)]
async fn an_expired_token_without_a_refresher_needs_reauthorisation() {
    let store = Arc::new(MemoryCredentialStore::new());
    let page = AccountRef::new(TenantId::new("tenant-a"), Platform::Facebook, "page-1");
    store
        .put_credential(
            Credential::new(page.clone(), SecretString::from("page-token"))
                .with_access_expires_at(T0 - Duration::from_secs(1)),
        )
        .await
        .unwrap();
    let notifier = Arc::new(MemoryNotifier::new());
    let provider = RefreshingTokenProvider::builder(store)
        .notifier(notifier.clone())
        .clock(Arc::new(TokioClock::starting_at(T0)))
        .build();
    let err = provider.access_token(&page).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(
        notifier.notifications()[0].kind,
        NotificationKind::ReauthRequired
    );
}

#[tokio::test(start_paused = true)]
async fn expired_data_access_needs_reauthorisation_even_with_a_valid_token() {
    let store = Arc::new(MemoryCredentialStore::new());
    let page = AccountRef::new(TenantId::new("tenant-a"), Platform::Facebook, "page-1");
    store
        .put_credential(
            Credential::new(page.clone(), SecretString::from("page-token"))
                .with_data_access_expires_at(T0 + Duration::from_secs(60)),
        )
        .await
        .unwrap();
    let provider = RefreshingTokenProvider::builder(store)
        .clock(Arc::new(TokioClock::starting_at(T0)))
        .build();
    assert!(provider.access_token(&page).await.is_ok());
    tokio::time::advance(Duration::from_secs(61)).await;
    assert_eq!(
        provider.access_token(&page).await.unwrap_err().kind(),
        ErrorKind::Auth
    );
}

#[tokio::test(start_paused = true)]
async fn an_unknown_account_is_an_auth_error() {
    let f = fixture(Duration::from_secs(3600), false).await;
    let other_tenant = AccountRef::new(TenantId::new("tenant-b"), Platform::TikTok, "open-id-1");
    let err = f.provider.access_token(&other_tenant).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
}

#[tokio::test(start_paused = true)]
async fn the_sweep_refreshes_tokens_expiring_within_its_window() {
    let f = fixture(Duration::from_secs(3 * 86_400), false).await;
    // Valid for three days: access_token does not refresh...
    f.provider.access_token(&account()).await.unwrap();
    assert_eq!(f.refresher.calls(), 0);
    // ...but a sweep with a 7-day window does, once.
    let t = f
        .provider
        .refresh_if_expiring_within(&account(), Duration::from_secs(7 * 86_400))
        .await
        .unwrap();
    assert_eq!(t.secret.expose_secret(), "act.1");
    assert_eq!(f.refresher.calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_concurrent_rotation_by_another_process_wins() {
    let f = fixture(Duration::from_secs(10), false).await;
    // Another process refreshes and stores while our refresh is in flight.
    let store = f.store.clone();
    let racer = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut theirs = store.credential(&account()).await.unwrap().unwrap();
        theirs.access_token = SecretString::from("act.other");
        theirs.refresh_token = Some(SecretString::from("rft.other"));
        theirs.access_expires_at = Some(T0 + Duration::from_secs(86_400));
        let v = theirs.version;
        assert!(matches!(
            store.compare_and_swap(v, theirs).await.unwrap(),
            CasOutcome::Stored(_)
        ));
    });
    let t = f.provider.access_token(&account()).await.unwrap();
    racer.await.unwrap();
    assert_eq!(t.secret.expose_secret(), "act.other");
    let stored = f.store.credential(&account()).await.unwrap().unwrap();
    assert_eq!(stored.refresh_token.unwrap().expose_secret(), "rft.other");
}

#[tokio::test(start_paused = true)]
async fn a_refresh_refused_because_another_process_rotated_first_uses_its_token() {
    let f = fixture(Duration::from_secs(10), false).await;
    // The other process rotates while our refresh is in flight, so the platform refuses our
    // (now spent) refresh token with invalid_grant.
    *f.refresher.fail_with.lock().unwrap() =
        Some(|| Error::auth("invalid_grant").with_platform_code("invalid_grant"));
    let store = f.store.clone();
    let racer = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut theirs = store.credential(&account()).await.unwrap().unwrap();
        theirs.access_token = SecretString::from("act.other");
        theirs.refresh_token = Some(SecretString::from("rft.other"));
        theirs.access_expires_at = Some(T0 + Duration::from_secs(86_400));
        let v = theirs.version;
        assert!(matches!(
            store.compare_and_swap(v, theirs).await.unwrap(),
            CasOutcome::Stored(_)
        ));
    });
    let t = f.provider.access_token(&account()).await.unwrap();
    racer.await.unwrap();
    assert_eq!(t.secret.expose_secret(), "act.other");
    assert!(
        f.notifier.notifications().is_empty(),
        "no re-authorisation is asked for: {:?}",
        f.notifier.notifications()
    );
    // Without a rotation elsewhere, the same refusal still asks for re-authorisation.
    let g = fixture(Duration::from_secs(10), false).await;
    *g.refresher.fail_with.lock().unwrap() =
        Some(|| Error::auth("invalid_grant").with_platform_code("invalid_grant"));
    assert_eq!(
        g.provider
            .access_token(&account())
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Auth
    );
    assert_eq!(g.notifier.notifications().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn the_sweep_reports_a_failed_refresh_even_while_the_token_is_still_valid() {
    let f = fixture(Duration::from_secs(3 * 86_400), false).await;
    *f.refresher.fail_with.lock().unwrap() = Some(|| Error::transient("connection reset"));
    // A call now still gets the valid token...
    let t = f.provider.access_token(&account()).await.unwrap();
    assert_eq!(t.secret.expose_secret(), "act.0");
    // ...but the sweep says the refresh failed, and a person is told before the token dies.
    let err = f
        .provider
        .refresh_if_expiring_within(&account(), Duration::from_secs(7 * 86_400))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient);
    let sent = f.notifier.notifications();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].kind, NotificationKind::TokenRefreshFailed);
    assert_eq!(sent[0].deadline, Some(T0 + Duration::from_secs(3 * 86_400)));
}
