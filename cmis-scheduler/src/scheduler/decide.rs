//! What a job's result means for its next state: pure functions of the result, the job and the
//! policy, so every rule is tested without a database or a clock.

use std::time::Duration;

use cmis_core::{
    Error, ErrorKind, Notification, NotificationKind, Outcome, Reconciliation, Result, RetryPolicy,
};
use time::OffsetDateTime;

use crate::job::{ClaimedJob, Completion, JobError, Phase};

/// The scheduler's timing rules.
#[derive(Debug, Clone)]
pub(crate) struct Rules {
    pub(crate) retry: RetryPolicy,
    pub(crate) staleness: Duration,
    pub(crate) pending_interval: Duration,
    pub(crate) reconcile_interval: Duration,
    pub(crate) reconcile_window: Duration,
}

/// A completion to write, and who to tell once it is written.
#[derive(Debug, Clone)]
pub(crate) struct Decision {
    pub(crate) completion: Completion,
    pub(crate) notify: Option<Notification>,
}

impl Decision {
    fn quiet(completion: Completion) -> Self {
        Self {
            completion,
            notify: None,
        }
    }
}

fn notice(
    job: &ClaimedJob,
    kind: NotificationKind,
    message: String,
    now: OffsetDateTime,
) -> Notification {
    Notification::for_account(&job.job.target.account, kind, message)
        .with_subject(job.job.id.to_string())
        .at(now)
}

/// The notification of an outcome that has none of its own (a retry, a throttle, a snooze, a
/// pending job), for a scheduler asked to tell every outcome
/// ([`SchedulerBuilder::notify_every_outcome`](crate::SchedulerBuilder::notify_every_outcome)).
pub(crate) fn progress_notice(
    job: &ClaimedJob,
    completion: &Completion,
    now: OffsetDateTime,
) -> Option<Notification> {
    let (kind, message) = match completion {
        Completion::Retry { at, error } | Completion::Throttled { at, error } => (
            NotificationKind::Retrying,
            format!(
                "post {} to {} is tried again at {at} ({}: {})",
                job.job.post_key,
                job.job.target,
                error.kind.as_str(),
                error.message
            ),
        ),
        Completion::Snooze { at } => (
            NotificationKind::Retrying,
            format!(
                "post {} to {} waits for the account's rate limit until {at}",
                job.job.post_key, job.job.target
            ),
        ),
        Completion::Pending { resume_at, .. } => (
            NotificationKind::Pending,
            format!(
                "post {} to {} is still being processed by the platform; checked again at {resume_at}",
                job.job.post_key, job.job.target
            ),
        ),
        _ => return None,
    };
    let deadline = match completion {
        Completion::Retry { at, .. }
        | Completion::Throttled { at, .. }
        | Completion::Snooze { at } => Some(*at),
        Completion::Pending { resume_at, .. } => Some(*resume_at),
        _ => None,
    };
    let n = notice(job, kind, message, now);
    Some(match deadline {
        Some(d) => n.with_deadline(d),
        None => n,
    })
}

/// A published post, and its event (with the platform's receipt) for the embedding program.
fn published(job: &ClaimedJob, receipt: cmis_core::Receipt, now: OffsetDateTime) -> Decision {
    let message = format!(
        "post {} to {} was published as {}",
        job.job.post_key, job.job.target, receipt.post_id
    );
    let notify =
        notice(job, NotificationKind::Published, message, now).with_receipt(receipt.clone());
    Decision {
        completion: Completion::Published(receipt),
        notify: Some(notify),
    }
}

/// `Missed` when a job that has not reached the platform yet is later than the staleness
/// deadline; a job already in the platform's hands (resume, reconcile) is never missed.
pub(crate) fn too_late(job: &ClaimedJob, now: OffsetDateTime, rules: &Rules) -> Option<Decision> {
    if job.phase != Phase::Publish
        || now <= cmis_core::after(job.job.scheduled_for, rules.staleness)
    {
        return None;
    }
    let late = now - job.job.scheduled_for;
    let message = format!(
        "post {} to {} was not published: it was due {} ago, beyond the {} s staleness deadline",
        job.job.post_key,
        job.job.target,
        fmt_duration(late),
        rules.staleness.as_secs()
    );
    Some(Decision {
        completion: Completion::Missed {
            error: JobError {
                // Nothing reached the platform and a later run could publish: transient, though
                // the scheduler does not retry it by itself (the state says missed).
                kind: cmis_core::ErrorKind::Transient,
                message: message.clone(),
                discard_checkpoint: false,
            },
        },
        notify: Some(notice(job, NotificationKind::PublishMissed, message, now)),
    })
}

fn fmt_duration(d: time::Duration) -> String {
    format!("{} s", d.whole_seconds())
}

/// The next state after `publish` or `resume` returned `result`.
pub(crate) fn after_publish(
    job: &ClaimedJob,
    result: Result<Outcome>,
    now: OffsetDateTime,
    rules: &Rules,
) -> Decision {
    match result {
        Ok(Outcome::Published(receipt)) => published(job, receipt, now),
        Ok(Outcome::Pending(checkpoint)) => {
            let wait = checkpoint.resume_after.unwrap_or(rules.pending_interval);
            Decision::quiet(Completion::Pending {
                checkpoint,
                resume_at: cmis_core::after(now, wait),
            })
        }
        Err(e) => after_error(job, &e, now, rules),
    }
}

fn after_error(job: &ClaimedJob, e: &Error, now: OffsetDateTime, rules: &Rules) -> Decision {
    let error = JobError::from_error(e);
    match e.kind() {
        // Sent, result unknown: find out with read-only calls, never send again blindly.
        ErrorKind::UnknownOutcome => Decision::quiet(Completion::UnknownOutcome {
            error,
            reconcile_at: Some(cmis_core::after(now, rules.reconcile_interval)),
            checkpoint: None,
        }),
        ErrorKind::Auth => {
            let message = format!(
                "post {} to {} waits for the account to be re-authorised: {e}",
                job.job.post_key, job.job.target
            );
            Decision {
                completion: Completion::AwaitingReauth { error },
                notify: Some(notice(job, NotificationKind::ReauthRequired, message, now)),
            }
        }
        // The platform said "not now": the post did nothing wrong, so the attempt is given
        // back and only the staleness deadline ends the wait (a post that is too late is
        // missed, not failed). Without a Retry-After, the backoff of the attempts spent so far.
        ErrorKind::RateLimited => {
            let wait = e
                .retry_after()
                .unwrap_or_else(|| rules.retry.backoff(job.job.attempts.saturating_sub(1)));
            Decision::quiet(Completion::Throttled {
                at: cmis_core::after(now, wait),
                error,
            })
        }
        ErrorKind::Transient | ErrorKind::Quota if job.job.attempts < rules.retry.max_attempts => {
            // Attempt-based backoff with full jitter; the platform's Retry-After wins.
            let retry = job.job.attempts.saturating_sub(1);
            let wait = e
                .retry_after()
                .unwrap_or_else(|| rules.retry.backoff(retry));
            Decision::quiet(Completion::Retry {
                at: cmis_core::after(now, wait),
                error,
            })
        }
        kind => {
            let why = if kind.is_retryable() || kind == ErrorKind::Quota {
                format!("gave up after {} attempts", job.job.attempts)
            } else {
                "permanent error".to_owned()
            };
            let message = format!(
                "post {} to {} failed ({why}): {e}",
                job.job.post_key, job.job.target
            );
            Decision {
                completion: Completion::Failed { error },
                notify: Some(notice(job, NotificationKind::PublishFailed, message, now)),
            }
        }
    }
}

/// The next state after `reconcile` returned `result`.
pub(crate) fn after_reconcile(
    job: &ClaimedJob,
    result: Result<Reconciliation>,
    now: OffsetDateTime,
    rules: &Rules,
) -> Decision {
    let park = |error: JobError, why: String| {
        let message = format!(
            "post {} to {}: the outcome of the publish is unknown and {why}; check the account",
            job.job.post_key, job.job.target
        );
        Decision {
            completion: Completion::UnknownOutcome {
                error,
                reconcile_at: None,
                checkpoint: None,
            },
            notify: Some(notice(job, NotificationKind::UnknownOutcome, message, now)),
        }
    };
    // `until`: the connector can tell from that long on (a listing that proves absence only
    // once the platform would list a late post). Past the window such a job is still checked
    // once more then, as long as that is before the latest time a publish of it can have
    // started plus a window; otherwise it is parked for a person.
    let again = |error: JobError, until: Option<Duration>| {
        if now < job.job.scheduled_for + rules.reconcile_window {
            return Decision::quiet(Completion::UnknownOutcome {
                error,
                reconcile_at: Some(cmis_core::after(now, rules.reconcile_interval)),
                checkpoint: None,
            });
        }
        let last_start = cmis_core::after(job.job.scheduled_for, rules.staleness);
        let limit = cmis_core::after(last_start, rules.reconcile_window.saturating_mul(2));
        match until {
            Some(wait) if cmis_core::after(now, wait) <= limit => {
                Decision::quiet(Completion::UnknownOutcome {
                    error,
                    reconcile_at: Some(cmis_core::after(now, wait.max(rules.reconcile_interval))),
                    checkpoint: None,
                })
            }
            _ => park(error, "checks did not settle it in time".to_owned()),
        }
    };
    match result {
        Ok(Reconciliation::Published(receipt)) => published(job, receipt, now),
        Ok(Reconciliation::Pending(checkpoint)) => {
            let wait = checkpoint.resume_after.unwrap_or(rules.pending_interval);
            Decision::quiet(Completion::Pending {
                checkpoint,
                resume_at: cmis_core::after(now, wait),
            })
        }
        // The platform says nothing was published: publishing now cannot duplicate.
        // The checkpoint (an upload, a container, a publish id the platform says failed) is
        // dropped with it, so the next run publishes from the start instead of resuming it.
        Ok(Reconciliation::NotPublished) => Decision::quiet(Completion::Retry {
            at: now,
            error: JobError::new(
                ErrorKind::Transient,
                "reconciled: the platform has no such post; publishing again",
            )
            .discarding_checkpoint(),
        }),
        Ok(_) => again(
            JobError::new(
                ErrorKind::UnknownOutcome,
                "reconciliation could not tell yet",
            ),
            None,
        ),
        Err(e) if e.kind() == ErrorKind::UnknownOutcome => {
            again(JobError::from_error(&e), e.retry_after())
        }
        Err(e) if e.is_retryable() => again(JobError::from_error(&e), None),
        Err(e) => {
            let why = if e.kind() == ErrorKind::Unsupported {
                "this platform cannot check it automatically".to_owned()
            } else {
                format!("checking failed: {e}")
            };
            park(JobError::from_error(&e), why)
        }
    }
}
