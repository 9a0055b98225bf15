//! One refresh per account across processes (issue 16 item 6): four token providers (as four
//! processes would have) share one database; twenty accounts expire at once; the token
//! endpoint records every refresh token it is given. None may be presented twice: TikTok
//! rotates the refresh token on every refresh, and many OAuth servers revoke the whole grant
//! when an old one comes back. (PostgreSQL from `CMIS_TEST_POSTGRES_URL`, skipped when unset.)

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use cmis_core::{
    AccountRef, Credential, CredentialStore, Error, ExposeSecret, Platform, RefreshedToken,
    RefreshingTokenProvider, Result, SecretString, TokenProvider, TokenRefresher,
};
use cmis_scheduler::TokenKey;
use time::OffsetDateTime;

/// A token endpoint that rotates the refresh token on every refresh and refuses a used one.
#[derive(Default)]
struct Endpoint {
    /// Every refresh token presented, in order.
    given: Mutex<Vec<String>>,
    /// The refresh token each account may present now.
    valid: Mutex<HashMap<String, String>>,
}

#[async_trait]
impl TokenRefresher for Endpoint {
    fn platform(&self) -> Platform {
        Platform::TikTok
    }

    async fn refresh(&self, current: &Credential) -> Result<RefreshedToken> {
        let presented = current
            .refresh_token
            .as_ref()
            .map(|t| t.expose_secret().to_owned())
            .unwrap_or_default();
        self.given.lock().unwrap().push(presented.clone());
        // The call takes a while, so that concurrent refreshes overlap.
        tokio::time::sleep(Duration::from_millis(30)).await;
        let account = current.account.account.as_str().to_owned();
        let mut valid = self.valid.lock().unwrap();
        if valid.get(&account) != Some(&presented) {
            return Err(Error::auth(
                "invalid_grant: the refresh token was already used",
            ));
        }
        let next = format!("{presented}+");
        valid.insert(account, next.clone());
        Ok(
            RefreshedToken::new(SecretString::from(format!("access-{next}")))
                .with_refresh_token(SecretString::from(next))
                .with_expires_in(Duration::from_secs(86_400)),
        )
    }
}

async fn exercise(store: Arc<dyn CredentialStore>) {
    let endpoint = Arc::new(Endpoint::default());
    let accounts: Vec<AccountRef> = (0..20)
        .map(|i| {
            AccountRef::new(
                cmis_core::TenantId::new("acme"),
                Platform::TikTok,
                format!("creator-{i}"),
            )
        })
        .collect();
    for a in &accounts {
        let rt = format!("rt-{}", a.account.as_str());
        endpoint
            .valid
            .lock()
            .unwrap()
            .insert(a.account.as_str().to_owned(), rt.clone());
        store
            .put_credential(
                Credential::new(a.clone(), SecretString::from("expired"))
                    .with_refresh_token(SecretString::from(rt))
                    .with_access_expires_at(OffsetDateTime::now_utc() - Duration::from_secs(1)),
            )
            .await
            .unwrap();
    }
    let providers: Vec<RefreshingTokenProvider> = (0..4)
        .map(|_| {
            RefreshingTokenProvider::builder(Arc::clone(&store))
                .refresher(endpoint.clone())
                .build()
        })
        .collect();
    let mut calls = tokio::task::JoinSet::new();
    for p in &providers {
        for a in &accounts {
            let (p, a) = (p.clone(), a.clone());
            calls.spawn(async move { p.access_token(&a).await });
        }
    }
    while let Some(r) = calls.join_next().await {
        let token = r.unwrap().unwrap();
        assert!(token.secret.expose_secret().starts_with("access-rt-"));
    }
    let given = endpoint.given.lock().unwrap().clone();
    let mut seen = std::collections::HashSet::new();
    let twice: Vec<&String> = given.iter().filter(|t| !seen.insert(*t)).collect();
    assert!(
        twice.is_empty(),
        "refresh tokens presented twice: {twice:?}"
    );
    assert_eq!(given.len(), 20, "one refresh per account: {given:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_one_refresh_per_account_across_processes() {
    let path = std::env::temp_dir().join(format!(
        "cmis-refresh-{}-{}.db",
        std::process::id(),
        fastrand::u64(..)
    ));
    let store = cmis_scheduler::SqliteStore::builder()
        .path(&path)
        .encryption_key(TokenKey::from_bytes([7; 32]))
        .build()
        .await
        .unwrap();
    exercise(Arc::new(store)).await;
    let _ = std::fs::remove_file(&path);
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_one_refresh_per_account_across_processes() {
    let Ok(url) = std::env::var("CMIS_TEST_POSTGRES_URL") else {
        eprintln!("skipping: CMIS_TEST_POSTGRES_URL is not set");
        return;
    };
    let schema = format!("cmis_refresh_{}_{}", std::process::id(), fastrand::u32(..));
    let store = cmis_scheduler::PgStore::builder(url)
        .schema(schema)
        .encryption_key(TokenKey::from_bytes([7; 32]))
        .build()
        .await
        .unwrap();
    exercise(Arc::new(store.clone())).await;
    store.drop_schema().await.unwrap();
}
