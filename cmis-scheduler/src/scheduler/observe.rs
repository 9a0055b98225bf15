//! What the scheduler tells an operator's monitoring and the embedding program: a `tracing`
//! span per job attempt, typed events for subscribers ([`crate::Event`]), and
//! metrics through the [`metrics`] facade (a no-op until the program installs a recorder, such
//! as a Prometheus exporter).
//!
//! | metric | kind | labels | what |
//! |---|---|---|---|
//! | `cmis_job_outcomes_total` | counter | `platform`, `outcome` | outcomes written for claimed jobs: `published`, `pending`, `retry`, `throttled`, `snoozed`, `unknown_outcome`, `awaiting_reauth`, `failed`, `missed` |
//! | `cmis_publish_call_seconds` | histogram | `platform` | how long a publish, resume or reconcile call took |
//! | `cmis_publish_lateness_seconds` | histogram | `platform` | from the time a post was scheduled for to the platform's confirmation |
//!
//! Queue depth, accounts to re-authorise and the age of the oldest due job are gauges that
//! [`Admin::record_gauges`](crate::admin::Admin::record_gauges) sets when called.

use std::time::Duration;

use crate::job::{ClaimedJob, Completion};

/// The span of one attempt: the job, its tenant, platform, account, attempt, fencing token and
/// phase (never the post's text or a token).
pub(crate) fn attempt_span(job: &ClaimedJob) -> tracing::Span {
    tracing::info_span!(
        "cmis.job",
        job = job.job.id.get(),
        tenant = %job.job.tenant,
        platform = job.job.target.platform().as_str(),
        account = %job.job.target.account.account,
        attempt = job.job.attempts,
        fencing_token = job.lease.token,
        phase = job.phase.as_str(),
    )
}

/// The outcome's name, as the `outcome` label reads it.
fn outcome(completion: &Completion) -> &'static str {
    match completion {
        Completion::Published(_) => "published",
        Completion::Pending { .. } => "pending",
        Completion::Retry { .. } => "retry",
        Completion::Throttled { .. } => "throttled",
        Completion::Snooze { .. } => "snoozed",
        Completion::UnknownOutcome { .. } => "unknown_outcome",
        Completion::AwaitingReauth { .. } => "awaiting_reauth",
        Completion::Failed { .. } => "failed",
        Completion::Missed { .. } => "missed",
    }
}

/// Records a claimed job's outcome, and the platform call's duration when one was made.
pub(crate) fn record(job: &ClaimedJob, completion: &Completion, call: Option<Duration>) {
    let platform = job.job.target.platform().as_str();
    metrics::counter!("cmis_job_outcomes_total", "platform" => platform, "outcome" => outcome(completion))
        .increment(1);
    if let Some(took) = call {
        metrics::histogram!("cmis_publish_call_seconds", "platform" => platform)
            .record(took.as_secs_f64());
    }
    if let Completion::Published(receipt) = completion {
        let late = (receipt.published_at - job.job.scheduled_for).as_seconds_f64();
        metrics::histogram!("cmis_publish_lateness_seconds", "platform" => platform)
            .record(late.max(0.0));
    }
}

/// Notes `jobs` for their outcome events, if anyone subscribed.
pub(crate) fn watch_jobs(shared: &super::Shared, jobs: &[crate::ClaimedJob]) {
    if shared.events.receiver_count() == 0 || jobs.is_empty() {
        return;
    }
    let mut w = shared.watched.lock().unwrap_or_else(|p| p.into_inner());
    for j in jobs {
        w.insert(j.lease.clone(), crate::events::JobRef::of(j));
    }
}

/// The job of `lease`, if its outcome is to be told (and forgets it either way).
pub(crate) fn events_for(
    shared: &super::Shared,
    lease: &crate::Lease,
) -> Option<crate::events::JobRef> {
    let mut w = shared.watched.lock().unwrap_or_else(|p| p.into_inner());
    if w.is_empty() {
        return None;
    }
    w.remove(lease)
}

/// Tells subscribers of a stored outcome.
pub(crate) fn emit_job(
    shared: &super::Shared,
    lease: &crate::Lease,
    job: crate::events::JobRef,
    outcome: crate::Completion,
) {
    let _ = shared
        .events
        .send(crate::Event::Job(Box::new(crate::JobEvent {
            job: lease.job,
            tenant: job.tenant,
            post_key: job.post_key,
            target: job.target,
            phase: job.phase,
            outcome,
            at: shared.now(),
        })));
}
