//! The transition rules shared by every backend, as pure functions: backends lock the row, ask
//! here what to write, and write it with its audit record in the same transaction.

use std::collections::BTreeMap;

use serde_json::json;
use time::OffsetDateTime;

use crate::job::{Completion, Job, JobError, JobState, Lease};
use crate::stored::{MAX_ERROR_MESSAGE, from_micros, micros, storable};

/// A user's change to one job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UserOp {
    Reschedule(OffsetDateTime),
    Cancel,
    RetryNow,
}

/// What to write for a user's change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UserWrite {
    pub(crate) state: JobState,
    pub(crate) scheduled_for: i64,
    pub(crate) run_at: Option<i64>,
    pub(crate) reset_attempts: bool,
    pub(crate) action: &'static str,
}

/// What `op` does to `job` at `now`; `None` when the job's state refuses it.
pub(crate) fn plan_user_op(job: &Job, op: UserOp, now: OffsetDateTime) -> Option<UserWrite> {
    use JobState::*;
    let sched = micros(job.scheduled_for);
    match op {
        UserOp::Reschedule(at) => matches!(
            job.state,
            Scheduled | RetryScheduled | AwaitingReauth | Failed | Missed
        )
        .then(|| UserWrite {
            state: Scheduled,
            scheduled_for: micros(at),
            run_at: Some(micros(at)),
            reset_attempts: true,
            action: "job.rescheduled",
        }),
        UserOp::Cancel => matches!(
            job.state,
            Scheduled | RetryScheduled | Pending | AwaitingReauth | UnknownOutcome
        )
        .then_some(UserWrite {
            state: Cancelled,
            scheduled_for: sched,
            run_at: None,
            reset_attempts: false,
            action: "job.cancelled",
        }),
        UserOp::RetryNow => match job.state {
            Failed | Missed | AwaitingReauth => Some(UserWrite {
                state: Scheduled,
                // The user asked for now: the staleness deadline counts from now.
                scheduled_for: micros(now),
                run_at: Some(micros(now)),
                reset_attempts: true,
                action: "job.retry_now",
            }),
            // Never re-publish an unknown outcome blindly: reconcile it now instead.
            UnknownOutcome => Some(UserWrite {
                state: UnknownOutcome,
                scheduled_for: sched,
                run_at: Some(micros(now)),
                reset_attempts: false,
                action: "job.reconcile_now",
            }),
            _ => None,
        },
    }
}

/// One fenced completion as the backends apply it: the write and its audit record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CompletionRow {
    pub(crate) id: i64,
    pub(crate) owner: String,
    pub(crate) token: i64,
    pub(crate) state: &'static str,
    pub(crate) run_at: Option<i64>,
    pub(crate) err_kind: Option<&'static str>,
    pub(crate) err: Option<String>,
    pub(crate) checkpoint: Option<String>,
    pub(crate) receipt: Option<String>,
    /// Whether the claim's attempt is given back (a snooze, a wait for re-authorisation).
    pub(crate) refund: bool,
    /// Whether the stored checkpoint is dropped (the platform's object is dead).
    pub(crate) discard: bool,
    pub(crate) action: String,
    pub(crate) detail: String,
}

impl CompletionRow {
    /// The row as a JSON object (SQLite reads a batch with `json_each`).
    pub(crate) fn to_json(&self) -> serde_json::Value {
        json!({
            "id": self.id,
            "owner": self.owner,
            "token": self.token,
            "state": self.state,
            "run_at": self.run_at,
            "err_kind": self.err_kind,
            "err": self.err,
            "cp": self.checkpoint,
            "receipt": self.receipt,
            "refund": i64::from(self.refund),
            "discard": i64::from(self.discard),
        })
    }
}

/// What the backends write for `completion` of the job held by `lease`, at `now`
/// (microseconds). A checkpoint or receipt that cannot be encoded (a third-party connector's
/// date out of range, say) is never silently dropped: the job goes to reconciliation now.
pub(crate) fn completion_row(lease: &Lease, completion: &Completion, now: i64) -> CompletionRow {
    let encoded = match completion {
        Completion::Published(r) => serde_json::to_string(r).map(Some),
        Completion::Pending { checkpoint, .. } => serde_json::to_string(checkpoint).map(Some),
        // A checkpoint the publisher could not save: an extra for reconciliation, left out
        // (the stored one stays) if it cannot be stored.
        Completion::UnknownOutcome {
            checkpoint: Some(cp),
            ..
        } => Ok(serde_json::to_string(cp)
            .ok()
            .filter(|cp| crate::stored::check_checkpoint_size(cp.len()).is_ok())),
        _ => Ok(None),
    };
    let encoded = match encoded {
        Ok(e) => e,
        Err(e) => {
            let error = JobError::new(
                cmis_core::ErrorKind::UnknownOutcome,
                format!("the platform's answer cannot be stored ({e}); checking the platform"),
            );
            let fallback = Completion::UnknownOutcome {
                error,
                reconcile_at: Some(from_micros(now).unwrap_or(OffsetDateTime::UNIX_EPOCH)),
                checkpoint: None,
            };
            return completion_row(lease, &fallback, now);
        }
    };
    let (run_at, error, checkpoint, receipt, refund) = match completion {
        Completion::Published(receipt) => (None, None, None, Some(receipt), false),
        Completion::Pending {
            checkpoint,
            resume_at,
        } => (
            Some(micros(*resume_at)),
            None,
            Some(checkpoint),
            None,
            false,
        ),
        Completion::Retry { at, error } => (Some(micros(*at)), Some(error), None, None, false),
        Completion::Snooze { at } => (Some(micros(*at)), None, None, None, true),
        Completion::UnknownOutcome {
            error,
            reconcile_at,
            checkpoint,
        } => (
            reconcile_at.map(micros),
            Some(error),
            checkpoint.as_ref(),
            None,
            false,
        ),
        Completion::AwaitingReauth { error } => (None, Some(error), None, None, true),
        Completion::Failed { error } | Completion::Missed { error } => {
            (None, Some(error), None, None, false)
        }
    };
    let state = completion.state();
    let mut detail = BTreeMap::new();
    detail.insert("fencing_token", lease.token.to_string());
    detail.insert("owner", lease.owner.clone());
    if let Some(e) = error {
        detail.insert("error_kind", e.kind.as_str().to_owned());
    }
    if let Some(r) = receipt {
        detail.insert("platform_post_id", r.post_id.to_string());
    }
    CompletionRow {
        id: lease.job.get(),
        owner: lease.owner.clone(),
        token: lease.token,
        state: state.as_str(),
        run_at,
        err_kind: error.map(|e| e.kind.as_str()),
        err: error.map(|e| storable(&e.message, MAX_ERROR_MESSAGE)),
        checkpoint: checkpoint.and(encoded.clone()),
        receipt: receipt.and(encoded),
        refund,
        discard: error.is_some_and(|e| e.discard_checkpoint)
            && matches!(
                completion,
                Completion::Retry { .. }
                    | Completion::AwaitingReauth { .. }
                    | Completion::Failed { .. }
            ),
        action: match completion {
            Completion::Snooze { .. } => "job.snoozed".to_owned(),
            _ => format!("job.{}", state.as_str()),
        },
        detail: serde_json::to_string(&detail).unwrap_or_default(),
    }
}
