//! Tenancy through every public API: tenant A cannot read, cancel, reschedule, retry, audit or
//! publish tenant B's jobs, and cannot use B's credentials — on the in-memory store, SQLite and
//! PostgreSQL (from `CMIS_TEST_POSTGRES_URL`, skipped with a message when it is unset; a fresh
//! schema per test, dropped afterwards).
//!
//! Every case snapshots B's state before A acts and compares it exactly afterwards, and checks
//! that the same call made by the owner works, so a refusal cannot pass for the wrong reason.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use cmis_core::{
    AccountRef, Capabilities, CasOutcome, Checkpoint, Credential, CredentialStore, Error,
    ErrorKind, ExposeSecret, MemoryCredentialStore, Outcome, Platform, Post, PostKey,
    PublishContext, Publisher, Receipt, RefreshingTokenProvider, Result, SecretString, Surface,
    Target, TenantId, TokenProvider,
};
use cmis_scheduler::{
    Change, Completion, Job, JobError, JobFilter, JobId, JobState, MemoryScheduleStore, NewPost,
    ScheduleStore, Scheduler,
};
use time::OffsetDateTime;

const A: &str = "tenant-a";
const B: &str = "tenant-b";
const C: &str = "tenant-c";
/// The same platform account id in every tenant: ids are only unique within a tenant.
const PAGE: &str = "page-1";

// ---------------------------------------------------------------------------------------------
// Backends.

#[derive(Debug, Clone, Copy)]
enum Backend {
    Memory,
    #[cfg(feature = "sqlite")]
    Sqlite,
    #[cfg(feature = "postgres")]
    Postgres,
}

/// A store under test, with raw access to its database for the at-rest checks.
struct Db {
    schedule: Arc<dyn ScheduleStore>,
    credentials: Arc<dyn CredentialStore>,
    raw: Raw,
}

enum Raw {
    /// The in-memory store has no database to tamper with.
    None,
    #[cfg(feature = "sqlite")]
    Sqlite(TempDb),
    #[cfg(feature = "postgres")]
    Postgres(TempSchema),
}

fn unique(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
        % 1_000_000_000_000;
    format!(
        "{prefix}_{}_{nanos}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn key() -> cmis_scheduler::TokenKey {
    cmis_scheduler::TokenKey::from_bytes([9; 32])
}

/// A SQLite file removed (with its WAL) when the test ends, however it ends.
#[cfg(feature = "sqlite")]
struct TempDb(std::path::PathBuf);

#[cfg(feature = "sqlite")]
impl Drop for TempDb {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut p = self.0.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }
}

/// A PostgreSQL schema dropped when the test ends, however it ends.
#[cfg(feature = "postgres")]
struct TempSchema {
    url: String,
    schema: String,
}

#[cfg(feature = "postgres")]
impl Drop for TempSchema {
    fn drop(&mut self) {
        let (url, schema) = (self.url.clone(), self.schema.clone());
        // Drop runs inside the test's runtime; clean up on a thread with its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                if let Ok(pool) = sqlx::PgPool::connect(&url).await {
                    let sql = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&pool).await;
                }
            });
        })
        .join();
    }
}

async fn open(backend: Backend) -> Option<Db> {
    match backend {
        Backend::Memory => Some(Db {
            schedule: Arc::new(MemoryScheduleStore::new()),
            credentials: Arc::new(MemoryCredentialStore::new()),
            raw: Raw::None,
        }),
        #[cfg(feature = "sqlite")]
        Backend::Sqlite => {
            let path = std::env::temp_dir().join(format!("{}.db", unique("cmis-tenancy")));
            let temp = TempDb(path.clone());
            let store = Arc::new(
                cmis_scheduler::SqliteStore::builder()
                    .path(&path)
                    .encryption_key(key())
                    .build()
                    .await
                    .unwrap(),
            );
            Some(Db {
                schedule: store.clone(),
                credentials: store,
                raw: Raw::Sqlite(temp),
            })
        }
        #[cfg(feature = "postgres")]
        Backend::Postgres => {
            let url = match std::env::var("CMIS_TEST_POSTGRES_URL") {
                Ok(url) if !url.is_empty() => url,
                _ => {
                    eprintln!("skipping: CMIS_TEST_POSTGRES_URL is not set");
                    return None;
                }
            };
            let schema = unique("cmis_tenancy");
            let temp = TempSchema {
                url: url.clone(),
                schema: schema.clone(),
            };
            let store = Arc::new(
                cmis_scheduler::PgStore::builder(&url)
                    .schema(&schema)
                    .max_connections(4)
                    .encryption_key(key())
                    .build()
                    .await
                    .unwrap(),
            );
            Some(Db {
                schedule: store.clone(),
                credentials: store,
                raw: Raw::Postgres(temp),
            })
        }
    }
}

impl Db {
    /// Copies the sealed credential of `from` over the one of `to`, as someone with write
    /// access to the database could. `false` when the backend has no database.
    async fn copy_sealed(&self, from: &AccountRef, to: &AccountRef) -> bool {
        match &self.raw {
            Raw::None => false,
            #[cfg(feature = "sqlite")]
            Raw::Sqlite(db) => {
                let pool = sqlx::SqlitePool::connect_with(
                    sqlx::sqlite::SqliteConnectOptions::new().filename(&db.0),
                )
                .await
                .unwrap();
                let n = sqlx::query(
                    "UPDATE credentials SET sealed = (SELECT sealed FROM credentials \
                     WHERE tenant = ?1 AND platform = ?2 AND account = ?3) \
                     WHERE tenant = ?4 AND platform = ?5 AND account = ?6",
                )
                .bind(from.tenant.as_str())
                .bind(from.platform.as_str())
                .bind(from.account.as_str())
                .bind(to.tenant.as_str())
                .bind(to.platform.as_str())
                .bind(to.account.as_str())
                .execute(&pool)
                .await
                .unwrap()
                .rows_affected();
                pool.close().await;
                assert_eq!(n, 1, "the row to overwrite exists");
                true
            }
            #[cfg(feature = "postgres")]
            Raw::Postgres(s) => {
                let pool = sqlx::PgPool::connect(&s.url).await.unwrap();
                let sql = format!(
                    "UPDATE \"{0}\".credentials SET sealed = (SELECT sealed FROM \"{0}\".credentials \
                     WHERE tenant = $1 AND platform = $2 AND account = $3) \
                     WHERE tenant = $4 AND platform = $5 AND account = $6",
                    s.schema
                );
                let n = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(from.tenant.as_str())
                    .bind(from.platform.as_str())
                    .bind(from.account.as_str())
                    .bind(to.tenant.as_str())
                    .bind(to.platform.as_str())
                    .bind(to.account.as_str())
                    .execute(&pool)
                    .await
                    .unwrap()
                    .rows_affected();
                pool.close().await;
                assert_eq!(n, 1, "the row to overwrite exists");
                true
            }
        }
    }

    fn is_database(&self) -> bool {
        !matches!(self.raw, Raw::None)
    }
}

/// One test per case and backend.
macro_rules! per_backend {
    ($($case:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    if let Some(db) = super::open(super::Backend::Memory).await {
                        super::$case(db).await;
                    }
                }
            )*
        }
        #[cfg(feature = "sqlite")]
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    if let Some(db) = super::open(super::Backend::Sqlite).await {
                        super::$case(db).await;
                    }
                }
            )*
        }
        #[cfg(feature = "postgres")]
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    if let Some(db) = super::open(super::Backend::Postgres).await {
                        super::$case(db).await;
                    }
                }
            )*
        }
    };
}

per_backend!(
    foreign_jobs_look_exactly_like_missing_ones,
    no_job_for_another_tenants_account,
    credentials_are_per_tenant,
    the_scheduler_hands_each_publisher_its_own_tenants_token,
);

// ---------------------------------------------------------------------------------------------
// Helpers.

fn tenant(t: &str) -> TenantId {
    TenantId::new(t)
}

fn account(t: &str) -> AccountRef {
    AccountRef::new(TenantId::new(t), Platform::Facebook, PAGE)
}

fn target(t: &str) -> Target {
    Target::feed(account(t))
}

fn post(text: &str) -> Post {
    Post::new().with_text(text)
}

/// A token no test could produce by accident.
fn random_token(prefix: &str) -> String {
    let mut s = format!("{prefix}-");
    for _ in 0..32 {
        s.push(fastrand::alphanumeric());
    }
    s
}

fn job_error(kind: ErrorKind) -> JobError {
    JobError::new(kind, "as recorded by the owner's worker")
}

/// Schedules a post of `t` to its own page at `at`.
async fn schedule(s: &dyn ScheduleStore, t: &str, post_id: &str, at: OffsetDateTime) -> Job {
    let mut jobs = s
        .schedule(
            &tenant(t),
            &PostKey::new(post_id),
            &post(&format!("{t}: {post_id}")),
            &[target(t)],
            at,
        )
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1);
    jobs.remove(0)
}

/// Schedules a due post of `t`, claims it as the only due job, and completes it with `c`.
async fn claimed_then(s: &dyn ScheduleStore, t: &str, post_id: &str, c: Completion) -> JobId {
    let id = schedule(s, t, post_id, now() - Duration::from_secs(60))
        .await
        .id;
    let mut claimed = s
        .claim(&format!("worker-{t}"), 10, Duration::from_secs(300))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1, "exactly the new job is due");
    let claimed = claimed.remove(0);
    assert_eq!(claimed.job.id, id);
    assert!(s.complete(&[(claimed.lease, c)]).await.unwrap().is_empty());
    id
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// What a caller learns from an error, with the job id it named blanked out.
fn observed(e: &Error, id: JobId) -> (ErrorKind, bool, Option<String>, String) {
    (
        e.kind(),
        e.is_retryable(),
        e.platform_code().map(str::to_owned),
        e.to_string().replacen(&id.to_string(), "<id>", 1),
    )
}

type Observation = Vec<(&'static str, String)>;

/// Everything tenant `t` can learn about job `id` through the tenant-facing calls, and the
/// changes it attempts on it.
async fn probe(s: &dyn ScheduleStore, t: &TenantId, id: JobId) -> Observation {
    let mut out = Vec::new();
    out.push((
        "get",
        format!("{:?}", s.get(t, id).await.map_err(|e| observed(&e, id))),
    ));
    out.push((
        "audit_trail",
        format!(
            "{:?}",
            s.audit_trail(t, Some(id))
                .await
                .map_err(|e| observed(&e, id))
        ),
    ));
    let at = now() + Duration::from_secs(3 * 86_400);
    let changes: [(&str, Result<Change>); 3] = [
        ("reschedule", s.reschedule(t, id, at).await),
        ("cancel", s.cancel(t, id).await),
        ("retry_now", s.retry_now(t, id).await),
    ];
    for (name, r) in changes {
        out.push((name, format!("{:?}", r.map_err(|e| observed(&e, id)))));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Cases.

/// A's reads and changes of B's jobs, in every state a tenant can act on, answer exactly what
/// they answer for an id that does not exist, and change nothing of B's.
async fn foreign_jobs_look_exactly_like_missing_ones(db: Db) {
    let s = &*db.schedule;
    let (a, b) = (tenant(A), tenant(B));
    let later = now() + Duration::from_secs(86_400);

    // B's published job first, so the cleanup moves only it to history.
    let published = claimed_then(
        s,
        B,
        "published",
        Completion::Published(Receipt::new(
            Platform::Facebook,
            PAGE.into(),
            cmis_core::PostId::new("fb-1"),
        )),
    )
    .await;
    let moved = s
        .cleanup(now() + Duration::from_secs(3600), 100)
        .await
        .unwrap();
    assert_eq!(moved, 1, "published job in history");

    // A's own job: same post id, same platform account id as B's jobs below.
    let a_job = schedule(s, A, "launch", later).await;
    let scheduled = schedule(s, B, "launch", later).await.id;
    let failed = claimed_then(
        s,
        B,
        "failed",
        Completion::Failed {
            error: job_error(ErrorKind::Rejected),
        },
    )
    .await;
    let reauth = claimed_then(
        s,
        B,
        "reauth",
        Completion::AwaitingReauth {
            error: job_error(ErrorKind::Auth),
        },
    )
    .await;
    let unknown = claimed_then(
        s,
        B,
        "unknown",
        Completion::UnknownOutcome {
            error: job_error(ErrorKind::UnknownOutcome),
            reconcile_at: None,
            checkpoint: None,
        },
    )
    .await;
    let retrying = claimed_then(
        s,
        B,
        "retrying",
        Completion::Retry {
            at: later,
            error: job_error(ErrorKind::Transient),
        },
    )
    .await;
    let publishing_id = schedule(s, B, "publishing", now() - Duration::from_secs(60))
        .await
        .id;
    let mut claimed = s
        .claim("worker-b", 10, Duration::from_secs(300))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    let publishing = claimed.remove(0);
    assert_eq!(publishing.job.id, publishing_id);
    let cancelled = schedule(s, B, "cancelled", later).await.id;
    assert!(s.cancel(&b, cancelled).await.unwrap().is_applied());

    let b_ids = [
        published,
        scheduled,
        failed,
        reauth,
        unknown,
        retrying,
        publishing_id,
        cancelled,
    ];
    let b_jobs = s.list(&b, &JobFilter::all()).await.unwrap();
    let mut listed: Vec<_> = b_jobs.iter().map(|j| j.id).collect();
    listed.sort();
    let mut expected = b_ids.to_vec();
    expected.sort();
    assert_eq!(listed, expected, "B sees all its jobs, history included");
    let states: BTreeMap<JobId, JobState> = b_jobs.iter().map(|j| (j.id, j.state)).collect();
    assert_eq!(states[&published], JobState::Published);
    assert_eq!(states[&failed], JobState::Failed);
    assert_eq!(states[&reauth], JobState::AwaitingReauth);
    assert_eq!(states[&unknown], JobState::UnknownOutcome);
    assert_eq!(states[&retrying], JobState::RetryScheduled);
    assert_eq!(states[&publishing_id], JobState::Publishing);
    assert_eq!(states[&cancelled], JobState::Cancelled);
    let b_trail = s.audit_trail(&b, None).await.unwrap();
    assert!(b_trail.len() >= 2 * b_ids.len(), "B's jobs are audited");
    let a_trail = s.audit_trail(&a, None).await.unwrap();
    assert_eq!(a_trail.len(), 1);
    assert_eq!(a_trail[0].action, "job.scheduled");

    // An id that exists for nobody.
    let missing = JobId::new(b_ids.iter().map(|i| i.get()).max().unwrap() + 1_000);
    let nothing = probe(s, &a, missing).await;
    assert_eq!(nothing[0].1, "Ok(None)");
    assert_eq!(nothing[1].1, "Ok([])");
    for (name, seen) in &nothing[2..] {
        assert!(
            seen.starts_with("Err((InvalidInput, false, None, "),
            "{name} of a missing job: {seen}"
        );
    }
    for id in b_ids {
        assert_eq!(
            probe(s, &a, id).await,
            nothing,
            "tenant A on B's job {id} ({:?}) learns exactly what it learns about a missing id",
            states[&id]
        );
    }

    // A's listings never include B's jobs, whatever the filter.
    assert_eq!(
        s.list(&a, &JobFilter::all()).await.unwrap(),
        vec![a_job.clone()]
    );
    assert_eq!(
        s.list(&a, &JobFilter::all().with_post(PostKey::new("launch")))
            .await
            .unwrap(),
        vec![a_job.clone()]
    );
    for st in JobState::ALL {
        let ids: Vec<_> = s
            .list(&a, &JobFilter::state(st))
            .await
            .unwrap()
            .into_iter()
            .map(|j| j.id)
            .collect();
        let own = if st == JobState::Scheduled {
            vec![a_job.id]
        } else {
            vec![]
        };
        assert_eq!(ids, own, "A's {st} jobs");
    }

    // Nothing of B's changed, and A's failed attempts left no trace anywhere.
    assert_eq!(s.list(&b, &JobFilter::all()).await.unwrap(), b_jobs);
    assert_eq!(s.audit_trail(&b, None).await.unwrap(), b_trail);
    assert_eq!(s.audit_trail(&a, None).await.unwrap(), a_trail);
    assert_eq!(s.get(&a, a_job.id).await.unwrap(), Some(a_job));

    // The owner can make each of these changes, so A was refused for being A. B's worker still
    // holds its lease: the in-flight job completes.
    assert!(s.reschedule(&b, failed, later).await.unwrap().is_applied());
    assert!(s.retry_now(&b, reauth).await.unwrap().is_applied());
    assert!(s.retry_now(&b, unknown).await.unwrap().is_applied());
    assert!(s.cancel(&b, scheduled).await.unwrap().is_applied());
    assert!(s.cancel(&b, retrying).await.unwrap().is_applied());
    assert!(
        s.complete(&[(
            publishing.lease,
            Completion::Published(Receipt::new(
                Platform::Facebook,
                PAGE.into(),
                cmis_core::PostId::new("fb-2"),
            )),
        )])
        .await
        .unwrap()
        .is_empty()
    );
    assert_eq!(
        s.get(&b, publishing_id).await.unwrap().unwrap().state,
        JobState::Published
    );
    assert!(s.audit_trail(&b, Some(failed)).await.unwrap().len() >= 4);
}

/// A cannot schedule to an account of B's, alone, beside one of its own, or in a batch; the
/// request is refused before anything is written.
async fn no_job_for_another_tenants_account(db: Db) {
    let s = &*db.schedule;
    let (a, b) = (tenant(A), tenant(B));
    let due = now() - Duration::from_secs(60);
    let id = PostKey::new("p");
    let attempts: [(&str, Result<u64>); 4] = [
        (
            "B's target",
            s.schedule(&a, &id, &post("x"), &[target(B)], due)
                .await
                .map(|j| j.len() as u64),
        ),
        (
            "A's and B's targets",
            s.schedule(&a, &id, &post("x"), &[target(A), target(B)], due)
                .await
                .map(|j| j.len() as u64),
        ),
        (
            "B's story",
            s.schedule(
                &a,
                &id,
                &post("x"),
                &[Target::new(account(B), Surface::Story)],
                due,
            )
            .await
            .map(|j| j.len() as u64),
        ),
        (
            "a batch with one of B's targets",
            s.schedule_many(
                &a,
                &[
                    NewPost::new(PostKey::new("ok"), post("x"), vec![target(A)], due),
                    NewPost::new(id.clone(), post("x"), vec![target(B)], due),
                ],
            )
            .await,
        ),
    ];
    for (what, r) in attempts {
        let e = r.expect_err(what);
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{what}: {e}");
        assert!(e.to_string().contains("another tenant"), "{what}: {e}");
    }
    // Nothing was written for anyone: no job, no audit record, nothing to claim.
    for t in [&a, &b] {
        assert!(s.list(t, &JobFilter::all()).await.unwrap().is_empty());
        assert!(s.audit_trail(t, None).await.unwrap().is_empty());
    }
    assert_eq!(s.next_due().await.unwrap(), None);
    assert!(
        s.claim("w", 100, Duration::from_secs(60))
            .await
            .unwrap()
            .is_empty()
    );

    // The same request to A's own account is fine, so the tenant was the only problem.
    let jobs = s
        .schedule(&a, &id, &post("x"), &[target(A)], due)
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].tenant, a);
    assert_eq!(jobs[0].target.account.tenant, a);
    assert!(s.list(&b, &JobFilter::all()).await.unwrap().is_empty());
}

/// A credential is keyed by tenant too: the same platform and account id under A never reads,
/// replaces, deletes or lists B's, and B's sealed token moved into A's row does not open.
async fn credentials_are_per_tenant(db: Db) {
    let cs = &*db.credentials;
    let (a_ref, b_ref, c_ref) = (account(A), account(B), account(C));
    let b_token = random_token("b-access");
    let b_refresh = random_token("b-refresh");
    let secrets = |c: &Credential| {
        (
            c.account.clone(),
            c.access_token.expose_secret().to_owned(),
            c.refresh_token
                .as_ref()
                .map(|t| t.expose_secret().to_owned()),
            c.version,
        )
    };
    let b_stored = cs
        .put_credential(
            Credential::new(b_ref.clone(), SecretString::from(b_token.clone()))
                .with_refresh_token(SecretString::from(b_refresh.clone())),
        )
        .await
        .unwrap();
    let b_expected = (b_ref.clone(), b_token.clone(), Some(b_refresh.clone()), 1);
    assert_eq!(secrets(&b_stored), b_expected);
    let b_now = || async { secrets(&cs.credential(&b_ref).await.unwrap().unwrap()) };

    // A, with B's platform and account id, finds nothing and changes nothing.
    assert!(cs.credential(&a_ref).await.unwrap().is_none());
    assert!(cs.accounts(&tenant(A)).await.unwrap().is_empty());
    assert_eq!(cs.accounts(&tenant(B)).await.unwrap(), vec![b_ref.clone()]);
    assert!(!cs.delete_credential(&a_ref).await.unwrap());
    let evil = random_token("a-evil");
    let CasOutcome::Conflict(None) = cs
        .compare_and_swap(1, Credential::new(a_ref.clone(), SecretString::from(evil)))
        .await
        .unwrap()
    else {
        panic!("A's compare-and-set at B's version must see A's (absent) credential")
    };
    assert!(cs.credential(&a_ref).await.unwrap().is_none());
    assert_eq!(b_now().await, b_expected);

    // A's own credential for the same account id lives beside B's, with its own versions.
    let a_token = random_token("a-access");
    let a1 = cs
        .put_credential(Credential::new(a_ref.clone(), SecretString::from(a_token)))
        .await
        .unwrap();
    assert_eq!(a1.version, 1);
    let a_token = random_token("a-access-2");
    let CasOutcome::Stored(a2) = cs
        .compare_and_swap(
            1,
            Credential::new(a_ref.clone(), SecretString::from(a_token.clone())),
        )
        .await
        .unwrap()
    else {
        panic!("A's compare-and-set on A's own version stores")
    };
    assert_eq!(a2.version, 2);
    assert_eq!(b_now().await, b_expected, "B's version did not move");
    assert_eq!(
        secrets(&cs.credential(&a_ref).await.unwrap().unwrap()),
        (a_ref.clone(), a_token.clone(), None, 2)
    );
    assert_eq!(cs.accounts(&tenant(A)).await.unwrap(), vec![a_ref.clone()]);

    // The token provider is keyed the same way; a tenant with no credential gets an error that
    // names no one's token.
    let provider = RefreshingTokenProvider::builder(Arc::clone(&db.credentials)).build();
    let got = provider.access_token(&a_ref).await.unwrap();
    assert_eq!(got.secret.expose_secret(), a_token);
    let got = provider.access_token(&b_ref).await.unwrap();
    assert_eq!(got.secret.expose_secret(), b_token);
    let e = provider.access_token(&c_ref).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    for text in [e.to_string(), format!("{e:?}")] {
        assert!(
            !text.contains(&b_token) && !text.contains(&a_token),
            "{text}"
        );
    }

    // Deleting A's leaves B's.
    assert!(cs.delete_credential(&a_ref).await.unwrap());
    assert_eq!(b_now().await, b_expected);

    // At rest, a token is bound to its row: B's sealed token copied into A's row does not open
    // as A's (it fails; it never yields B's token).
    if db.is_database() {
        cs.put_credential(Credential::new(
            a_ref.clone(),
            SecretString::from(random_token("a-access-3")),
        ))
        .await
        .unwrap();
        assert!(db.copy_sealed(&b_ref, &a_ref).await);
        let e = cs
            .credential(&a_ref)
            .await
            .expect_err("a moved token must not open");
        assert_eq!(e.kind(), ErrorKind::Internal);
        assert!(!format!("{e} {e:?}").contains(&b_token));
        let fresh = RefreshingTokenProvider::builder(Arc::clone(&db.credentials)).build();
        let e = fresh.access_token(&a_ref).await.unwrap_err();
        assert!(!format!("{e} {e:?}").contains(&b_token));
        assert_eq!(b_now().await, b_expected);
    }
}

/// One scheduler runs the jobs of three tenants whose accounts share a platform account id:
/// each publisher call gets the token of the job's own tenant, and the tenant without a
/// credential gets none (its job waits for re-authorisation).
async fn the_scheduler_hands_each_publisher_its_own_tenants_token(db: Db) {
    let s = &db.schedule;
    let tokens: BTreeMap<&str, String> = [(A, random_token("a")), (B, random_token("b"))].into();
    for (t, token) in &tokens {
        db.credentials
            .put_credential(Credential::new(
                account(t),
                SecretString::from(token.clone()),
            ))
            .await
            .unwrap();
    }
    let due = now() - Duration::from_secs(1);
    let mut ids: BTreeMap<&str, Vec<JobId>> = BTreeMap::new();
    for i in 0..5 {
        for t in [A, B] {
            ids.entry(t)
                .or_default()
                .push(schedule(&**s, t, &format!("post-{i}"), due).await.id);
        }
    }
    ids.entry(C)
        .or_default()
        .push(schedule(&**s, C, "post-0", due).await.id);

    let recorder = Arc::new(Recorder::default());
    let provider = RefreshingTokenProvider::builder(Arc::clone(&db.credentials)).build();
    let scheduler = Scheduler::builder(Arc::clone(s))
        .publisher(recorder.clone())
        .tokens(Arc::new(provider))
        .concurrency(4)
        .batch_size(3)
        .poll_interval(Duration::from_millis(50))
        .maintenance(false)
        .build()
        .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(async move {
        scheduler
            .run(async {
                let _ = stopped.await;
            })
            .await
    });
    // Wait for every job to settle; the deadline only bounds a failing run.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let mut settled = true;
        for (t, job_ids) in &ids {
            for id in job_ids {
                let st = s.get(&tenant(t), *id).await.unwrap().unwrap().state;
                settled &= matches!(st, JobState::Published | JobState::AwaitingReauth);
            }
        }
        if settled {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "jobs did not settle; calls so far: {:?}",
            recorder.calls().len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = stop.send(());
    running.await.unwrap().unwrap();

    // Every call saw the token of the job's own tenant, and only that.
    let calls = recorder.calls();
    assert_eq!(calls.len(), 11, "one publish per job");
    for t in [A, B] {
        let mine: Vec<_> = calls.iter().filter(|c| c.tenant == t).collect();
        assert_eq!(mine.len(), 5, "{t}'s calls");
        for c in mine {
            assert_eq!(c.token.as_deref(), Ok(tokens[t].as_str()), "{t}'s token");
            assert!(
                c.text.starts_with(&format!("{t}: ")),
                "{t}'s post: {}",
                c.text
            );
        }
        for id in &ids[t] {
            let job = s.get(&tenant(t), *id).await.unwrap().unwrap();
            assert_eq!(job.state, JobState::Published);
        }
    }
    let c_calls: Vec<_> = calls.iter().filter(|c| c.tenant == C).collect();
    assert_eq!(c_calls.len(), 1);
    assert_eq!(c_calls[0].token, Err(ErrorKind::Auth));
    let c_job = s.get(&tenant(C), ids[C][0]).await.unwrap().unwrap();
    assert_eq!(c_job.state, JobState::AwaitingReauth);
    let stored = format!("{c_job:?}");
    for token in tokens.values() {
        assert!(
            !stored.contains(token.as_str()),
            "C's job holds a token: {stored}"
        );
    }
}

/// What one publish call saw.
#[derive(Debug, Clone)]
struct Call {
    tenant: String,
    /// The token the provider handed out for the job's account, or the error kind.
    token: std::result::Result<String, ErrorKind>,
    text: String,
}

/// A Facebook publisher that asks for the target account's token the way a connector does and
/// records what it got.
#[derive(Debug, Default)]
struct Recorder {
    calls: Mutex<Vec<Call>>,
}

impl Recorder {
    fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }
}

#[async_trait]
impl Publisher for Recorder {
    fn platform(&self) -> Platform {
        Platform::Facebook
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::new(vec![Surface::Feed], 10, true)
    }
    async fn validate(&self, _: &Target, _: &Post) -> Result<()> {
        Ok(())
    }
    async fn publish(&self, target: &Target, post: &Post, ctx: &PublishContext) -> Result<Outcome> {
        let token = ctx.tokens().access_token(&target.account).await;
        self.calls.lock().unwrap().push(Call {
            tenant: target.account.tenant.to_string(),
            token: token
                .as_ref()
                .map(|t| t.secret.expose_secret().to_owned())
                .map_err(Error::kind),
            text: post.text_or_empty().to_owned(),
        });
        token?;
        let n = self.calls.lock().unwrap().len();
        Ok(Outcome::Published(Receipt::new(
            Platform::Facebook,
            target.account.account.clone(),
            cmis_core::PostId::new(format!("fb-{n}")),
        )))
    }
    async fn resume(&self, _: &Target, _: &Checkpoint, _: &PublishContext) -> Result<Outcome> {
        Err(Error::unsupported("nothing to resume in this test"))
    }
}
