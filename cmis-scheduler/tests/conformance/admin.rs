//! The admin API's cases (issue 17): filters, keyset pages, scopes, counts, account activity
//! and bulk changes, the same on every store.

use std::collections::BTreeSet;
use std::time::Duration;

use cmis_core::{AccountRef, AuditRecord, ErrorKind, Platform, PostKey, Surface, Target};
use cmis_scheduler::admin::{Admin, AdminStore, BulkAction, JobQuery, Scope, TimeRange};
use cmis_scheduler::{Completion, JobError, JobId, JobState, ScheduleStore};

use super::{Harness, ManualClock, T0, post, receipt, tenant};

/// What to do with a job once it is scheduled.
enum Then {
    Stay,
    Publishing,
    Complete(Completion),
    Cancel,
}

async fn put<S: ScheduleStore>(
    s: &S,
    t: &str,
    platform: Platform,
    account: &str,
    key: &str,
    then: Then,
) -> JobId {
    let target = Target::new(AccountRef::new(tenant(t), platform, account), Surface::Feed);
    // A job left waiting is due tomorrow, so that the next claims take the jobs meant for them.
    let at = match then {
        Then::Stay => T0 + Duration::from_secs(86_400),
        _ => T0,
    };
    let job = s
        .schedule(&tenant(t), &PostKey::new(key), &post(), &[target], at)
        .await
        .unwrap()
        .remove(0);
    match then {
        Then::Stay => {}
        Then::Cancel => assert!(s.cancel(&tenant(t), job.id).await.unwrap().is_applied()),
        Then::Publishing | Then::Complete(_) => {
            let claimed = s.claim("w", 1, Duration::from_secs(60)).await.unwrap();
            assert_eq!(claimed.len(), 1);
            let lease = claimed[0].lease.clone();
            assert_eq!(lease.job, job.id);
            match then {
                Then::Complete(c) => {
                    assert!(s.complete(&[(lease, c)]).await.unwrap().is_empty());
                }
                _ => assert_eq!(s.mark_started(&[lease]).await.unwrap().len(), 1),
            }
        }
    }
    job.id
}

fn failed(kind: ErrorKind, message: &str) -> Then {
    Then::Complete(Completion::Failed {
        error: JobError::new(kind, message),
    })
}

/// A store with jobs of two tenants in many states: returns the ids of tenant `a`'s jobs by
/// name.
async fn seeded<S: AdminStore>(s: &S, clock: &ManualClock) -> Vec<(&'static str, JobId)> {
    let later = T0 + Duration::from_secs(3600);
    let mut ids = Vec::new();
    ids.push((
        "published",
        put(
            s,
            "a",
            Platform::Facebook,
            "page1",
            "p1",
            Then::Complete(Completion::Published(receipt("fb1"))),
        )
        .await,
    ));
    ids.push((
        "failed_rejected",
        put(
            s,
            "a",
            Platform::Instagram,
            "ig1",
            "p2",
            failed(ErrorKind::Rejected, "Media ID is not available (100%)"),
        )
        .await,
    ));
    ids.push((
        "failed_permission",
        put(
            s,
            "a",
            Platform::Facebook,
            "page2",
            "p3",
            failed(ErrorKind::Permission, "missing pages_manage_posts"),
        )
        .await,
    ));
    ids.push((
        "throttled",
        put(
            s,
            "a",
            Platform::Instagram,
            "ig1",
            "p4",
            Then::Complete(Completion::Throttled {
                at: later,
                error: JobError::new(ErrorKind::RateLimited, "application request limit reached"),
            }),
        )
        .await,
    ));
    ids.push((
        "reauth",
        put(
            s,
            "a",
            Platform::TikTok,
            "tt1",
            "p5",
            Then::Complete(Completion::AwaitingReauth {
                error: JobError::new(ErrorKind::Auth, "access_token_invalid"),
            }),
        )
        .await,
    ));
    ids.push((
        "cancelled",
        put(s, "a", Platform::Facebook, "page1", "p6", Then::Cancel).await,
    ));
    ids.push((
        "publishing",
        put(s, "a", Platform::Facebook, "page1", "p7", Then::Publishing).await,
    ));
    ids.push((
        "scheduled",
        put(s, "a", Platform::Facebook, "page1", "p8", Then::Stay).await,
    ));
    // Tenant b: one failed job whose error would match a's filters too.
    put(
        s,
        "b",
        Platform::Instagram,
        "ig1",
        "p2",
        failed(ErrorKind::Rejected, "Media ID is not available"),
    )
    .await;
    // The finished jobs so far move to history; later ones stay in the active table.
    clock.advance(Duration::from_secs(60));
    s.cleanup(T0 + Duration::from_secs(3600 * 24), 100)
        .await
        .unwrap();
    ids.push((
        "failed_late",
        put(
            s,
            "a",
            Platform::Facebook,
            "page2",
            "p9",
            failed(ErrorKind::Rejected, "duplicate post"),
        )
        .await,
    ));
    ids
}

fn id(ids: &[(&str, JobId)], name: &str) -> JobId {
    ids.iter().find(|(n, _)| *n == name).unwrap().1
}

fn names(ids: &[(&str, JobId)], page: &[cmis_scheduler::Job]) -> BTreeSet<String> {
    page.iter()
        .map(|j| {
            ids.iter()
                .find(|(_, i)| *i == j.id)
                .map_or_else(|| format!("other:{}", j.tenant), |(n, _)| (*n).to_owned())
        })
        .collect()
}

pub async fn admin_filters_follow_the_querys_rules<H: Harness>(h: &H)
where
    H::S: AdminStore,
{
    let clock = ManualClock::new();
    let s = h.fresh(clock.clone()).await;
    let ids = seeded(&*s, &clock).await;
    let a = Scope::tenant(tenant("a"));
    let every = s
        .find_jobs(&Scope::AllTenants, &JobQuery::new().with_limit(500))
        .await
        .unwrap();
    assert_eq!(every.jobs.len(), ids.len() + 1, "both tables, both tenants");
    assert!(
        every.jobs.windows(2).all(|w| w[0].id > w[1].id),
        "newest first"
    );

    let set = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<BTreeSet<_>>();
    let cases: Vec<(JobQuery, BTreeSet<String>)> = vec![
        (
            JobQuery::new().state(JobState::Failed),
            set(&["failed_rejected", "failed_permission", "failed_late"]),
        ),
        (
            JobQuery::new().state(JobState::Publishing),
            set(&["publishing"]),
        ),
        (
            JobQuery::new()
                .state(JobState::Scheduled)
                .state(JobState::Publishing),
            set(&["publishing", "scheduled"]),
        ),
        (
            JobQuery::new().platform(Platform::Instagram),
            set(&["failed_rejected", "throttled"]),
        ),
        (
            JobQuery::new().account("page2"),
            set(&["failed_permission", "failed_late"]),
        ),
        (
            JobQuery::new().error_kind(ErrorKind::RateLimited),
            set(&["throttled"]),
        ),
        (
            JobQuery::new().error_text("MEDIA id"),
            set(&["failed_rejected"]),
        ),
        // `%` and `_` are taken literally.
        (
            JobQuery::new().error_text("(100%)"),
            set(&["failed_rejected"]),
        ),
        (
            JobQuery::new().error_text("pages_manage"),
            set(&["failed_permission"]),
        ),
        (JobQuery::new().error_text("%"), set(&["failed_rejected"])),
        (
            JobQuery::new().error_text("_"),
            set(&["failed_permission", "reauth"]),
        ),
        (
            JobQuery::new().post(PostKey::new("p4")),
            set(&["throttled"]),
        ),
        (
            JobQuery::new().finished(TimeRange::since(T0 + Duration::from_secs(30))),
            set(&["failed_late"]),
        ),
        (
            JobQuery::new().finished(TimeRange::until(T0 + Duration::from_secs(30))),
            set(&[
                "published",
                "failed_rejected",
                "failed_permission",
                "cancelled",
            ]),
        ),
        (
            JobQuery::new().created(TimeRange::since(T0 + Duration::from_secs(30))),
            set(&["failed_late"]),
        ),
        (JobQuery::new().scheduled(TimeRange::until(T0)), set(&[])),
        (
            JobQuery::new()
                .platform(Platform::Facebook)
                .state(JobState::Failed)
                .error_kind(ErrorKind::Rejected),
            set(&["failed_late"]),
        ),
    ];
    for (q, want) in cases {
        let got = s.find_jobs(&a, &q).await.unwrap();
        assert_eq!(names(&ids, &got.jobs), want, "{q:?}");
        // The store's SQL and the query's own rules agree.
        let by_rules: BTreeSet<JobId> = every
            .jobs
            .iter()
            .filter(|j| j.tenant == tenant("a") && q.matches(j))
            .map(|j| j.id)
            .collect();
        assert_eq!(
            got.jobs.iter().map(|j| j.id).collect::<BTreeSet<_>>(),
            by_rules,
            "{q:?}"
        );
    }
    // The other tenant's look-alike failed job is found only in its own or the all scope.
    let b_failed = s
        .find_jobs(
            &Scope::tenant(tenant("b")),
            &JobQuery::new().state(JobState::Failed),
        )
        .await
        .unwrap();
    assert_eq!(b_failed.jobs.len(), 1);
    assert!(s.find_job(&a, b_failed.jobs[0].id).await.unwrap().is_none());
    assert!(
        s.find_job(&Scope::AllTenants, b_failed.jobs[0].id)
            .await
            .unwrap()
            .is_some()
    );
    let moved = id(&ids, "published");
    assert_eq!(
        s.find_job(&a, moved).await.unwrap().unwrap().state,
        JobState::Published,
        "history too"
    );

    // Bad input is refused before the store.
    let long = JobQuery::new().error_text("x".repeat(JobQuery::MAX_TEXT + 1));
    let admin = Admin::new(s.clone());
    assert_eq!(
        admin.jobs(&a, &long).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    let ctl = JobQuery::new().error_text("a\u{0}b");
    assert_eq!(
        admin.jobs(&a, &ctl).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
}

pub async fn admin_pages_stay_stable_while_jobs_are_added<H: Harness>(h: &H)
where
    H::S: AdminStore,
{
    let s = h.fresh(ManualClock::new()).await;
    let a = Scope::tenant(tenant("a"));
    let mut made = Vec::new();
    for i in 0..7 {
        made.push(
            put(
                &*s,
                "a",
                Platform::Facebook,
                "page",
                &format!("k{i}"),
                Then::Stay,
            )
            .await,
        );
    }
    let q = JobQuery::new().with_limit(3);
    let first = s.find_jobs(&a, &q).await.unwrap();
    assert_eq!(
        first.jobs.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![made[6], made[5], made[4]]
    );
    // New jobs arrive between pages: they are newer than the cursor and change nothing.
    for i in 7..10 {
        put(
            &*s,
            "a",
            Platform::Facebook,
            "page",
            &format!("k{i}"),
            Then::Stay,
        )
        .await;
    }
    let second = s
        .find_jobs(&a, &q.clone().before(first.next.unwrap()))
        .await
        .unwrap();
    assert_eq!(
        second.jobs.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![made[3], made[2], made[1]]
    );
    let third = s
        .find_jobs(&a, &q.clone().before(second.next.unwrap()))
        .await
        .unwrap();
    assert_eq!(
        third.jobs.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![made[0]]
    );
    assert_eq!(third.next, None, "the last page says so");
    let exact = s
        .find_jobs(&a, &JobQuery::new().with_limit(10))
        .await
        .unwrap();
    assert_eq!(
        (exact.jobs.len(), exact.next),
        (10, None),
        "a full last page has no next"
    );
}

pub async fn admin_counts_and_account_activity<H: Harness>(h: &H)
where
    H::S: AdminStore,
{
    let clock = ManualClock::new();
    let s = h.fresh(clock.clone()).await;
    seeded(&*s, &clock).await;
    let a = Scope::tenant(tenant("a"));
    let counts = s.count_jobs(&a).await.unwrap();
    assert_eq!(counts.total(), 9);
    assert_eq!(counts.state(JobState::Failed), 3);
    assert_eq!(counts.state(JobState::Publishing), 1);
    assert_eq!(counts.state(JobState::Scheduled), 1);
    assert_eq!(counts.platform(Platform::Instagram), 2);
    assert_eq!(counts.platform(Platform::TikTok), 1);
    assert_eq!(s.count_jobs(&Scope::AllTenants).await.unwrap().total(), 10);

    let tok = AccountRef::new(tenant("a"), Platform::TikTok, "tt1");
    s.record_admin(&AuditRecord::for_account(&tok, "token.refreshed").at(T0))
        .await
        .unwrap();
    s.record_admin(
        &AuditRecord::for_account(&tok, "token.refresh_failed")
            .at(T0 + Duration::from_secs(5))
            .with_detail("error_kind", "auth"),
    )
    .await
    .unwrap();
    let now = T0 + Duration::from_secs(120);
    let activity = s
        .account_activity(&a, Some(T0 - Duration::from_secs(3600)), now)
        .await
        .unwrap();
    let of = |p: Platform, acc: &str| {
        activity
            .iter()
            .find(|x| x.account.platform == p && x.account.account.as_str() == acc)
            .unwrap_or_else(|| panic!("no activity for {acc}"))
            .clone()
    };
    let page1 = of(Platform::Facebook, "page1");
    assert_eq!((page1.published, page1.failed), (1, 0));
    assert!(page1.last_published_at.is_some());
    let ig = of(Platform::Instagram, "ig1");
    assert_eq!(ig.failed, 1);
    let hold = ig.hold.expect("the throttled job holds the account");
    assert_eq!(hold.kind, ErrorKind::RateLimited);
    assert_eq!(hold.until, T0 + Duration::from_secs(3600));
    let tt = of(Platform::TikTok, "tt1");
    assert_eq!(tt.awaiting_reauth, 1);
    let refresh = tt
        .last_refresh
        .expect("the last refresh is read from the audit trail");
    assert!(!refresh.ok, "the newest record wins");
    assert_eq!(refresh.error_kind.as_deref(), Some("auth"));
    assert!(
        activity.iter().all(|x| x.account.tenant == tenant("a")),
        "scoped"
    );
    // Without a window, only what needs a person is read.
    let light = s.account_activity(&a, None, now).await.unwrap();
    let find = |p: Platform, acc: &str| {
        light
            .iter()
            .find(|x| x.account.platform == p && x.account.account.as_str() == acc)
            .cloned()
    };
    let tt = find(Platform::TikTok, "tt1").expect("waiting for re-authorisation");
    assert_eq!(tt.awaiting_reauth, 1);
    assert!(tt.last_refresh.is_some());
    assert!(
        find(Platform::Instagram, "ig1")
            .expect("held")
            .hold
            .is_some()
    );
    assert!(
        light.iter().all(|x| x.published == 0 && x.failed == 0),
        "nothing counted"
    );
    // Past the hold's end, the account is free.
    let later = s
        .account_activity(&a, Some(T0), T0 + Duration::from_secs(7200))
        .await
        .unwrap();
    assert!(later.iter().all(|x| x.hold.is_none()));
}

pub async fn admin_bulk_changes_are_capped_scoped_and_audited<H: Harness>(h: &H)
where
    H::S: AdminStore,
{
    let clock = ManualClock::new();
    let s = h.fresh(clock.clone()).await;
    let a = Scope::tenant(tenant("a"));
    let mut failed_ids = Vec::new();
    for i in 0..3 {
        failed_ids.push(
            put(
                &*s,
                "a",
                Platform::Facebook,
                "page",
                &format!("f{i}"),
                failed(ErrorKind::Transient, "timeout"),
            )
            .await,
        );
    }
    let other = put(
        &*s,
        "b",
        Platform::Facebook,
        "page",
        "f0",
        failed(ErrorKind::Transient, "timeout"),
    )
    .await;
    let publishing = put(
        &*s,
        "a",
        Platform::Facebook,
        "page",
        "live",
        Then::Publishing,
    )
    .await;
    let admin = Admin::new(s.clone());
    let q = JobQuery::new().state(JobState::Failed);
    let out = admin
        .bulk(&a, &q, BulkAction::Retry, 2, "ops@example")
        .await
        .unwrap();
    assert_eq!(
        out.applied,
        vec![failed_ids[2], failed_ids[1]],
        "newest first, capped"
    );
    assert!(out.more);
    let rest = admin
        .bulk(&a, &q, BulkAction::Retry, 2, "ops@example")
        .await
        .unwrap();
    assert_eq!((rest.applied, rest.more), (vec![failed_ids[0]], false));
    let b = ScheduleStore::get(&*s, &tenant("b"), other)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        b.state,
        JobState::Failed,
        "another tenant's job is never touched"
    );
    let retried = ScheduleStore::get(&*s, &tenant("a"), failed_ids[0])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(retried.state, JobState::Scheduled);
    let trail = s
        .audit_trail(&tenant("a"), Some(failed_ids[0]))
        .await
        .unwrap();
    let admin_rec = trail
        .iter()
        .find(|r| r.action == "job.admin")
        .expect("audited");
    assert_eq!(
        admin_rec.detail.get("actor").map(String::as_str),
        Some("ops@example")
    );
    assert_eq!(
        admin_rec.detail.get("action").map(String::as_str),
        Some("retry")
    );
    assert!(trail.iter().any(|r| r.action == "job.retry_now"));

    // A job whose call is in flight refuses a cancel; the others are cancelled.
    let all = JobQuery::new()
        .state(JobState::Scheduled)
        .state(JobState::Publishing);
    let out = admin
        .bulk(&a, &all, BulkAction::Cancel, 100, "ops")
        .await
        .unwrap();
    assert_eq!(out.refused, vec![publishing]);
    assert_eq!(out.applied.len(), 3);
    // Reschedule moves what has not started.
    let at = T0 + Duration::from_secs(86_400);
    let q = JobQuery::new().state(JobState::Cancelled);
    let out = admin
        .bulk(&a, &q, BulkAction::Reschedule(at), 100, "ops")
        .await
        .unwrap();
    assert_eq!(out.applied.len(), 0, "a cancelled job is never rescheduled");
    let timeline = admin.timeline(&a, failed_ids[0]).await.unwrap().unwrap();
    assert!(timeline.attempts().any(|r| r.action == "job.failed"));
    assert!(timeline.records.iter().any(|r| r.action == "job.admin"));
    assert!(
        admin.timeline(&a, other).await.unwrap().is_none(),
        "404 for another tenant"
    );
}
