//! A dashboard to test: a SQLite store seeded with jobs of two tenants in every state (through
//! the store's own worker calls, as the scheduler makes them), credentials whose tokens are
//! recognisable secrets, and the router served on 127.0.0.1.
#![allow(dead_code, unreachable_pub, clippy::too_many_arguments)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use cmis_admin::{AdminRouter, Principal};
use cmis_core::{
    AccountRef, AuditRecord, AuditSink, Credential, CredentialStore, ErrorKind, Platform, Post,
    PostId, PostKey, Receipt, SecretString, Surface, Target, TenantId,
};
use cmis_scheduler::admin::Admin;
use cmis_scheduler::{Completion, JobError, JobId, ScheduleStore, SqliteStore, TokenKey};
use time::OffsetDateTime;

/// The secrets stored as tokens: no page may ever show them.
pub const ACCESS_SECRET: &str = "EAAG-secret-access-token-4c1d";
pub const REFRESH_SECRET: &str = "rt-secret-refresh-token-77e0";

/// What the seeded store holds.
pub struct Seeded {
    pub store: Arc<SqliteStore>,
    /// Tenant `acme`'s failed job (rejected by the platform).
    pub failed: JobId,
    /// Tenant `acme`'s published job.
    pub published: JobId,
    /// Tenant `acme`'s job waiting for re-authorisation.
    pub reauth: JobId,
    /// Tenant `globex`'s failed job (never visible to `acme`).
    pub other_tenant: JobId,
    _dir: TempDir,
}

/// A directory removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn target(tenant: &str, platform: Platform, account: &str) -> Target {
    Target::new(
        AccountRef::new(TenantId::new(tenant), platform, account),
        Surface::Feed,
    )
}

async fn put(
    s: &SqliteStore,
    tenant: &str,
    platform: Platform,
    account: &str,
    key: &str,
    text: &str,
    at: OffsetDateTime,
    then: Option<Completion>,
) -> JobId {
    let job = s
        .schedule(
            &TenantId::new(tenant),
            &PostKey::new(key),
            &Post::new().with_text(text),
            &[target(tenant, platform, account)],
            at,
        )
        .await
        .unwrap()
        .remove(0);
    if let Some(c) = then {
        let claimed = s
            .claim("seed-worker", 1, Duration::from_secs(60))
            .await
            .unwrap();
        assert_eq!(claimed[0].lease.job, job.id, "the seed claims its own job");
        let lease = claimed[0].lease.clone();
        s.mark_started(std::slice::from_ref(&lease)).await.unwrap();
        assert!(s.complete(&[(lease, c)]).await.unwrap().is_empty());
    }
    job.id
}

/// Seeds a store in a fresh temporary directory.
pub async fn seeded() -> Seeded {
    let dir = std::env::temp_dir().join(format!(
        "cmis-admin-{}-{}",
        std::process::id(),
        OffsetDateTime::now_utc().unix_timestamp_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let store = Arc::new(
        SqliteStore::builder()
            .path(dir.join("cmis.db"))
            .encryption_key(TokenKey::generate())
            .build()
            .await
            .unwrap(),
    );
    let s = &*store;
    let now = OffsetDateTime::now_utc();
    let past = now - time::Duration::minutes(30);
    let tomorrow = now + time::Duration::days(1);
    let fb = Platform::Facebook;
    let ig = Platform::Instagram;
    let tt = Platform::TikTok;
    // Tokens first: storing a credential counts as re-authorising the account, which releases
    // its jobs waiting for one. Facebook healthy, TikTok refused on its last refresh, Instagram's data access
    // ends in 3 days.
    let mut fb_cred = Credential::new(
        AccountRef::new(TenantId::new("acme"), fb, "1001"),
        SecretString::from(ACCESS_SECRET),
    );
    fb_cred.refresh_token = Some(SecretString::from(REFRESH_SECRET));
    fb_cred.access_expires_at = Some(now + time::Duration::days(50));
    fb_cred.refresh_expires_at = Some(now + time::Duration::days(300));
    s.put_credential(fb_cred).await.unwrap();
    let mut ig_cred = Credential::new(
        AccountRef::new(TenantId::new("acme"), ig, "17841400001"),
        SecretString::from(ACCESS_SECRET),
    );
    ig_cred.data_access_expires_at = Some(now + time::Duration::days(3) + time::Duration::hours(1));
    s.put_credential(ig_cred).await.unwrap();
    let tt_account = AccountRef::new(TenantId::new("acme"), tt, "tt-acme");
    let mut tt_cred = Credential::new(tt_account.clone(), SecretString::from(ACCESS_SECRET));
    tt_cred.refresh_token = Some(SecretString::from(REFRESH_SECRET));
    tt_cred.access_expires_at = Some(now - time::Duration::hours(2));
    s.put_credential(tt_cred).await.unwrap();
    s.record(
        &AuditRecord::for_account(&tt_account, "token.refresh_failed")
            .at(now - time::Duration::hours(1))
            .with_detail("error_kind", "auth"),
    )
    .await
    .unwrap();
    let receipt = Receipt::new(fb, "1001".into(), PostId::new("1001_42"))
        .with_permalink("https://www.facebook.com/1001/posts/42".parse().unwrap());
    let published = put(
        s,
        "acme",
        fb,
        "1001",
        "launch",
        "We launched!",
        past,
        Some(Completion::Published(receipt)),
    )
    .await;
    let failed = put(
        s,
        "acme",
        ig,
        "17841400001",
        "carousel",
        "Ten photos from the summit",
        past,
        Some(Completion::Failed {
            error: JobError::new(
                ErrorKind::Rejected,
                "(#36003) The aspect ratio is not supported",
            ),
        }),
    )
    .await;
    put(
        s,
        "acme",
        ig,
        "17841400001",
        "teaser",
        "Teaser",
        past,
        Some(Completion::Throttled {
            at: now + time::Duration::hours(3),
            error: JobError::new(ErrorKind::Quota, "(#9) 25 posts in 24 hours"),
        }),
    )
    .await;
    let reauth = put(
        s,
        "acme",
        tt,
        "tt-acme",
        "dance",
        "Dance video",
        past,
        Some(Completion::AwaitingReauth {
            error: JobError::new(
                ErrorKind::Auth,
                "access_token_invalid: the token was revoked",
            ),
        }),
    )
    .await;
    put(
        s,
        "acme",
        fb,
        "1001",
        "maybe",
        "A post whose answer was lost",
        past,
        Some(Completion::UnknownOutcome {
            error: JobError::new(ErrorKind::UnknownOutcome, "timed out after sending"),
            reconcile_at: None,
            checkpoint: None,
        }),
    )
    .await;
    put(
        s,
        "acme",
        fb,
        "1001",
        "later",
        "Next week's post",
        tomorrow,
        None,
    )
    .await;
    let other_tenant = put(
        s,
        "globex",
        fb,
        "2002",
        "secret-plan",
        "Globex's private post",
        past,
        Some(Completion::Failed {
            error: JobError::new(ErrorKind::Rejected, "globex failure"),
        }),
    )
    .await;

    Seeded {
        store,
        failed,
        published,
        reauth,
        other_tenant,
        _dir: TempDir(dir),
    }
}

/// Who the test browser is: `acme`'s operator, or whoever the `x-test-user` header names
/// (`globex`, `ops` for all tenants, `viewer` read-only, `nobody` refused).
pub fn principal(parts: &axum::http::request::Parts) -> Option<Principal> {
    let who = parts
        .headers
        .get("x-test-user")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("alice");
    match who {
        "alice" => Some(Principal::tenant("alice@acme", TenantId::new("acme"))),
        "viewer" => Some(Principal::tenant("viewer@acme", TenantId::new("acme")).read_only()),
        "globex" => Some(Principal::tenant("bob@globex", TenantId::new("globex"))),
        "ops" => Some(Principal::all_tenants("ops@operator")),
        _ => None,
    }
}

/// The dashboard of `seeded`, mounted under `/admin` of an app, served on 127.0.0.1.
pub async fn serve(seeded: &Seeded) -> SocketAddr {
    let store = seeded.store.clone();
    let admin = Admin::new(store.clone()).with_credentials(store);
    let dashboard = AdminRouter::builder(admin)
        .authorizer(principal)
        .title("Acme Social")
        .build()
        .unwrap();
    let app = axum::Router::new().nest("/admin", dashboard);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    addr
}
