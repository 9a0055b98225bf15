//! One database store implements several traits (`CredentialStore`, `ScheduleStore`, the AI
//! generator's `CacheStore`, `AuditSink`). With all of them imported, every method is called
//! with method syntax: a name two of them shared would not compile here (E0034), which is what
//! a newcomer who imports the traits the docs name used to meet at the first call.

use std::sync::Arc;

use cmis::ai::{CacheKey, CacheStore, Limits};
use cmis::scheduler::{JobFilter, ScheduleStore, SqliteStore, TokenKey};
use cmis::{
    AccountRef, AuditSink, Credential, CredentialStore, GenerateRequest, GenerationTask, Platform,
    SecretString, TenantId,
};

#[tokio::test]
async fn every_trait_of_the_sqlite_store_is_usable_at_once() {
    let store = Arc::new(
        SqliteStore::builder()
            .in_memory()
            .encryption_key(TokenKey::generate())
            .build()
            .await
            .unwrap(),
    );
    let tenant = TenantId::new("acme");
    let page = AccountRef::new(TenantId::new("acme"), Platform::Facebook, "1234567890");

    store
        .put_credential(Credential::new(
            page.clone(),
            SecretString::from("page-token"),
        ))
        .await
        .unwrap();
    assert!(store.credential(&page).await.unwrap().is_some());
    assert_eq!(store.accounts(&tenant).await.unwrap(), vec![page.clone()]);

    assert!(
        store
            .list(&tenant, &JobFilter::all())
            .await
            .unwrap()
            .is_empty()
    );

    let request = GenerateRequest::new(
        TenantId::new("acme"),
        GenerationTask::Caption,
        Platform::Instagram,
        "menu",
    );
    let rules = Limits::default().rules(Platform::Instagram).unwrap();
    let key = CacheKey::new(&request, "default", &rules);
    assert!(store.lookup(&key).await.unwrap().is_none());

    assert!(store.delete_credential(&page).await.unwrap());
}

/// Compiled, not run: `AuditSink::record` with every other trait in scope too.
#[allow(dead_code)]
async fn audit_record(store: &SqliteStore, record: &cmis::AuditRecord) -> cmis::Result<()> {
    store.record(record).await
}
