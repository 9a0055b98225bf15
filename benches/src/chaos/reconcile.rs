//! The end of the soak: the sandbox's own record of what reached each platform, read by the
//! marker in each post's text, against what the store says of each job.

use std::collections::{BTreeMap, HashMap};

use cmis_core::Result;
use cmis_sandbox::Sandbox;
use cmis_scheduler::{Job, JobFilter, JobState};

use super::db::Db;
use super::operator::Operator;
use super::receiver::{Expected, Record, lost_notifications};
use super::world::{World, marker_of};

/// How much earlier than its scheduled time a publish call may start before it counts as
/// early: the scheduler's own rounding, not a clock's skew.
pub(crate) const EARLY_TOLERANCE_MS: i128 = 1_000;

/// The figures of the final line.
#[derive(Debug, Default)]
pub(crate) struct Report {
    pub(crate) posts: usize,
    pub(crate) published: usize,
    pub(crate) failed: usize,
    pub(crate) unknown: usize,
    pub(crate) missed: usize,
    pub(crate) lost: usize,
    pub(crate) duplicated: usize,
}

/// How many times each post reached a platform, by marker: published Facebook and Instagram
/// objects, TikTok publishes that are done or will finish on their own (media complete),
/// published threads, and the posts in the world's Bluesky repositories.
pub(crate) fn platform_counts(sandbox: &Sandbox, world: &World) -> HashMap<usize, Vec<String>> {
    let mut seen: HashMap<usize, Vec<String>> = HashMap::new();
    for p in sandbox.meta().posts() {
        if !p.published {
            continue;
        }
        if let Some(i) = p.message.as_deref().and_then(marker_of) {
            seen.entry(i)
                .or_default()
                .push(format!("meta {} {} as {}", p.kind, p.id, p.owner));
        }
    }
    for p in sandbox.tiktok().publishes() {
        let complete_media = p.video_size.is_none_or(|size| p.uploaded_bytes >= size);
        let reached = p.is_done() || (p.status.starts_with("PROCESSING") && complete_media);
        if !reached {
            continue;
        }
        let text = [p.title.as_deref(), p.description.as_deref()];
        if let Some(i) = text.into_iter().flatten().find_map(marker_of) {
            seen.entry(i).or_default().push(format!(
                "tiktok {} ({}) by {}",
                p.publish_id, p.status, p.open_id
            ));
        }
    }
    for p in sandbox.threads().posts() {
        if let Some(i) = p.text.as_deref().and_then(marker_of) {
            seen.entry(i).or_default().push(format!(
                "threads {} ({}) by {}",
                p.id, p.media_type, p.user_id
            ));
        }
    }
    for p in sandbox.linkedin().posts() {
        if p.deleted {
            continue;
        }
        // The text members see: a post LinkedIn cut short loses its marker only if the cut came
        // before it, so a cut is reported on its own.
        if p.truncated {
            eprintln!("chaos: LinkedIn cut post {} short: {:?}", p.urn, p.text);
        }
        if let Some(i) = marker_of(&p.text) {
            seen.entry(i)
                .or_default()
                .push(format!("linkedin {} by {}", p.urn, p.author));
        }
    }
    for v in sandbox.youtube().videos() {
        if let Some(i) = marker_of(&v.title) {
            seen.entry(i)
                .or_default()
                .push(format!("youtube {} on {}", v.id, v.channel_id));
        }
    }
    for account in world
        .accounts
        .iter()
        .filter(|a| a.platform == cmis_core::Platform::Bluesky)
    {
        for p in sandbox.bluesky().posts(account.account.as_str()) {
            let text = serde_json::from_str::<serde_json::Value>(&p.record)
                .ok()
                .and_then(|v| v["text"].as_str().map(str::to_owned));
            if let Some(i) = text.as_deref().and_then(marker_of) {
                seen.entry(i)
                    .or_default()
                    .push(format!("bluesky {}", p.uri));
            }
        }
    }
    seen
}

/// Every job of every tenant.
pub(crate) async fn all_jobs(db: &Db, world: &World) -> Result<Vec<Job>> {
    let limit = u32::try_from(world.posts.len() + 10).unwrap_or(u32::MAX);
    let mut jobs = Vec::new();
    for tenant in &world.tenants {
        jobs.extend(
            db.jobs
                .list(tenant, &JobFilter::all().with_limit(limit))
                .await?,
        );
    }
    Ok(jobs)
}

fn describe(job: &Job) -> String {
    let err = job
        .last_error
        .as_ref()
        .map(|e| format!("{}: {}", e.kind, e.message))
        .unwrap_or_else(|| "no error recorded".to_owned());
    format!(
        "job {} ({} {}, {}, attempts {}): {err}",
        job.id, job.post_key, job.target.account, job.state, job.attempts
    )
}

async fn print_trail(db: &Db, job: &Job) {
    match db.jobs.audit_trail(&job.tenant, Some(job.id)).await {
        Ok(trail) => {
            for r in trail {
                let detail: Vec<String> =
                    r.detail.iter().map(|(k, v)| format!("{k}={v}")).collect();
                eprintln!("    audit {} {} {}", r.at, r.action, detail.join(" "));
            }
        }
        Err(e) => eprintln!("    audit trail unavailable: {e}"),
    }
}

/// Reconciles and prints every unknown, lost and duplicated post on stderr, with its reason.
pub(crate) async fn reconcile(
    db: &Db,
    world: &World,
    sandbox: &Sandbox,
    operator: &Operator,
) -> Result<Report> {
    let jobs = all_jobs(db, world).await?;
    let seen = platform_counts(sandbox, world);
    let mut by_post: HashMap<usize, Vec<&Job>> = HashMap::new();
    for job in &jobs {
        if let Some(i) = World::index_of(&job.post_key) {
            by_post.entry(i).or_default().push(job);
        }
    }
    let mut report = Report {
        posts: world.posts.len(),
        ..Report::default()
    };
    let mut failures: BTreeMap<String, usize> = BTreeMap::new();
    let mut unknown_reasons: BTreeMap<String, usize> = BTreeMap::new();
    for planned in &world.posts {
        let i = planned.index;
        let reached = seen.get(&i).map_or(&[][..], Vec::as_slice);
        if reached.len() > 1 {
            report.duplicated += 1;
            eprintln!(
                "DUPLICATED post-{i:06} ({}) reached the platform {} times: {}",
                planned.kind,
                reached.len(),
                reached.join("; ")
            );
            for job in by_post.get(&i).into_iter().flatten() {
                eprintln!("  {}", describe(job));
                print_trail(db, job).await;
            }
        }
        let Some([job]) = by_post.get(&i).map(Vec::as_slice) else {
            report.lost += 1;
            eprintln!(
                "LOST post-{i:06} ({}): expected one job in the store, found {}",
                planned.kind,
                by_post.get(&i).map_or(0, Vec::len)
            );
            continue;
        };
        match job.state {
            JobState::Published if !reached.is_empty() => report.published += 1,
            JobState::Published => {
                report.lost += 1;
                eprintln!(
                    "LOST post-{i:06} ({}): the store says published as {:?}, but the platform has no such post; {}",
                    planned.kind,
                    job.receipt.as_ref().map(|r| r.post_id.to_string()),
                    describe(job)
                );
                print_trail(db, job).await;
            }
            JobState::Failed | JobState::Missed | JobState::Cancelled => {
                if job.state == JobState::Missed {
                    report.missed += 1;
                } else {
                    report.failed += 1;
                }
                let kind = job.last_error.as_ref().map_or("none", |e| e.kind.as_str());
                *failures
                    .entry(format!("{} {} ({kind})", planned.kind, job.state))
                    .or_default() += 1;
                eprintln!(
                    "{} post-{i:06} ({}): {}",
                    job.state.as_str().to_uppercase(),
                    planned.kind,
                    describe(job)
                );
                if !reached.is_empty() {
                    eprintln!(
                        "WARNING post-{i:06}: the store says {} but the platform has it: {}",
                        job.state,
                        reached.join("; ")
                    );
                }
            }
            JobState::UnknownOutcome if job.run_at.is_none() => {
                report.unknown += 1;
                let on_platform = if reached.is_empty() {
                    "the sandbox has no such post (publishing it again would have been safe)"
                        .to_owned()
                } else {
                    format!("the sandbox has it once: {}", reached.join("; "))
                };
                let operator_did = operator
                    .touched
                    .get(&job.id)
                    .map(|v| format!("; the operator {}", v.join(", then ")))
                    .unwrap_or_default();
                let reason = job
                    .last_error
                    .as_ref()
                    .map_or_else(String::new, |e| e.message.clone());
                *unknown_reasons
                    .entry(format!(
                        "{} {}",
                        planned.kind,
                        if reached.is_empty() {
                            "absent"
                        } else {
                            "present"
                        }
                    ))
                    .or_default() += 1;
                eprintln!(
                    "UNKNOWN post-{i:06} ({}) job {} on {}: not reconciled: {reason}; {on_platform}{operator_did}",
                    planned.kind, job.id, job.target.account
                );
            }
            _ => {
                report.lost += 1;
                eprintln!(
                    "LOST post-{i:06} ({}): never settled: {}; on the platform {} time(s)",
                    planned.kind,
                    describe(job),
                    reached.len()
                );
                print_trail(db, job).await;
            }
        }
    }
    for (what, n) in &failures {
        eprintln!("failed/missed by kind: {what}: {n}");
    }
    for (what, n) in &unknown_reasons {
        eprintln!("unknown by kind and platform record: {what}: {n}");
    }
    Ok(report)
}

/// The notification kind that tells of a job's terminal state, if it is terminal.
fn told_by(state: JobState) -> Option<&'static str> {
    match state {
        JobState::Published => Some("published"),
        JobState::Failed => Some("publish_failed"),
        JobState::Missed => Some("publish_missed"),
        _ => None,
    }
}

/// Checks that the receiver acknowledged a notification of every terminal outcome; prints
/// each one it did not. Returns (notifications acknowledged, terminal outcomes untold).
pub(crate) fn notifications(jobs: &[Job], record: &Record) -> (usize, usize) {
    let expected: Vec<Expected> = jobs
        .iter()
        .filter_map(|j| {
            Some(Expected {
                job: j.id.to_string(),
                kind: told_by(j.state)?,
                label: format!("{} job {} ({})", j.post_key, j.id, j.target.account),
            })
        })
        .collect();
    let lost = lost_notifications(&expected, record);
    for e in &lost {
        let heard: Vec<String> = record
            .by_id
            .iter()
            .filter(|(_, h)| h.subject.as_deref() == Some(e.job.as_str()))
            .map(|(id, h)| {
                format!(
                    "{id} {} ({} attempts, {})",
                    h.kind,
                    h.attempts,
                    if h.acked {
                        "acknowledged"
                    } else {
                        "unanswered"
                    }
                )
            })
            .collect();
        eprintln!(
            "NOTIFY_LOST {}: {} never acknowledged; the receiver heard: {}",
            e.label,
            e.kind,
            if heard.is_empty() {
                "nothing about this job".to_owned()
            } else {
                heard.join("; ")
            }
        );
    }
    (record.notified(), lost.len())
}

/// Counts (and prints) the posts whose first publish call started before their scheduled
/// time (`due`, as first scheduled), by `starts` (the earliest call of each post index, Unix
/// milliseconds, true clock).
pub(crate) fn early_publishes(
    due: &HashMap<usize, cmis_core::time::OffsetDateTime>,
    starts: &HashMap<usize, i128>,
) -> usize {
    let mut early: Vec<(usize, i128)> = due
        .iter()
        .filter_map(|(i, at)| {
            let started = *starts.get(i)?;
            let due = at.unix_timestamp_nanos() / 1_000_000;
            (started < due - EARLY_TOLERANCE_MS).then_some((*i, due - started))
        })
        .collect();
    early.sort_unstable();
    for (i, by) in &early {
        eprintln!(
            "EARLY post-{i:06}: the publish call started {by} ms before its time ({})",
            due[i]
        );
    }
    early.len()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use cmis_core::time::OffsetDateTime;
    use cmis_core::{PublishContext, Publisher, RefreshingTokenProvider};
    use cmis_meta::{FacebookPagePublisher, MetaClient};

    use super::*;
    use crate::chaos::db::{Location, StoreKind, open};
    use crate::chaos::run::start_sandbox;

    /// The soak must be able to fail: a post that reaches the platform twice counts as
    /// duplicated, and jobs the scheduler never finished count as lost.
    #[tokio::test(flavor = "multi_thread")]
    async fn a_post_published_twice_is_duplicated_and_unfinished_jobs_are_lost() {
        let dir = std::env::temp_dir().join(format!(
            "cmis-chaos-test-{}-{}",
            std::process::id(),
            fastrand::u64(..)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let sandbox = start_sandbox(None).await.unwrap();
        let location = Location {
            kind: StoreKind::Sqlite,
            url: dir.join("test.db").display().to_string(),
            schema: String::new(),
        };
        let db = open(&location, &[3; 32]).await.unwrap();
        let mut rng = fastrand::Rng::with_seed(7);
        let world = World::plan(3, &mut rng, &dir).unwrap();
        world.seed(&sandbox, &db, &mut rng).await.unwrap();
        let now = OffsetDateTime::now_utc();
        let (created, due) = world
            .schedule(&db, now, Duration::ZERO, &mut rng)
            .await
            .unwrap();
        assert_eq!((created, due.len()), (3, 3));
        // A call 5 s before a post's time is early; one within the tolerance or after is not.
        let ms = now.unix_timestamp_nanos() / 1_000_000;
        let starts = HashMap::from([(0, ms - 5_000), (1, ms - 500), (2, ms + 10)]);
        assert_eq!(early_publishes(&due, &starts), 1);

        // Post 0 (Facebook) published twice through the connector, behind the scheduler's back.
        let meta = MetaClient::builder()
            .graph_url(sandbox.meta().url())
            .build()
            .unwrap();
        let tokens = RefreshingTokenProvider::builder(db.credentials.clone()).build();
        let ctx = PublishContext::new(Arc::new(tokens));
        let facebook = FacebookPagePublisher::new(meta);
        let first = &world.posts[0];
        for _ in 0..2 {
            facebook
                .publish(&first.target, &first.post, &ctx)
                .await
                .unwrap();
        }
        assert_eq!(
            platform_counts(&sandbox, &world).get(&0).map(Vec::len),
            Some(2)
        );

        let report = reconcile(&db, &world, &sandbox, &Operator::default())
            .await
            .unwrap();
        assert_eq!(report.posts, 3);
        assert_eq!(report.duplicated, 1);
        assert_eq!(report.lost, 3, "no job was ever run by a scheduler");
        assert_eq!(report.published, 0);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
