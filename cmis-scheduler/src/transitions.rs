//! The transition rules shared by every backend, as pure functions: backends lock the row, ask
//! here what to write, and write it with its audit record in the same transaction.

use std::collections::BTreeMap;

use serde_json::json;
use time::OffsetDateTime;

use crate::job::{Completion, Job, JobError, JobState, Lease, UserAction};
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

impl UserOp {
    fn action(self) -> UserAction {
        match self {
            Self::Reschedule(_) => UserAction::Reschedule,
            Self::Cancel => UserAction::Cancel,
            Self::RetryNow => UserAction::RetryNow,
        }
    }
}

/// What `op` does to `job` at `now`; `None` when the job's state refuses it
/// ([`JobState::accepts`], the one table every store follows).
pub(crate) fn plan_user_op(job: &Job, op: UserOp, now: OffsetDateTime) -> Option<UserWrite> {
    if !job.state.accepts(op.action()) {
        return None;
    }
    let sched = micros(job.scheduled_for);
    Some(match op {
        UserOp::Reschedule(at) => UserWrite {
            state: JobState::Scheduled,
            scheduled_for: micros(at),
            run_at: Some(micros(at)),
            reset_attempts: true,
            action: "job.rescheduled",
        },
        UserOp::Cancel => UserWrite {
            state: JobState::Cancelled,
            scheduled_for: sched,
            run_at: None,
            reset_attempts: false,
            action: "job.cancelled",
        },
        // Never re-publish an unknown outcome blindly: reconcile it now instead.
        UserOp::RetryNow if job.state == JobState::UnknownOutcome => UserWrite {
            state: JobState::UnknownOutcome,
            scheduled_for: sched,
            run_at: Some(micros(now)),
            reset_attempts: false,
            action: "job.reconcile_now",
        },
        UserOp::RetryNow => UserWrite {
            state: JobState::Scheduled,
            // The user asked for now: the staleness deadline counts from now.
            scheduled_for: micros(now),
            run_at: Some(micros(now)),
            reset_attempts: true,
            action: "job.retry_now",
        },
    })
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
        Completion::Throttled { at, error } => (Some(micros(*at)), Some(error), None, None, true),
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
            Completion::Throttled { .. } => "job.throttled".to_owned(),
            _ => format!("job.{}", state.as_str()),
        },
        detail: serde_json::to_string(&detail).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// The SQL of both stores, the flows they share, and their schemas' partial indexes.
    const SQL_SOURCES: [(&str, &str); 7] = [
        ("admin/sql.rs", include_str!("admin/sql.rs")),
        ("sqlite/jobs.rs", include_str!("sqlite/jobs.rs")),
        ("sqlite/schema.rs", include_str!("sqlite/schema.rs")),
        ("postgres/jobs.rs", include_str!("postgres/jobs.rs")),
        ("postgres/schema.rs", include_str!("postgres/schema.rs")),
        ("sql/credentials.rs", include_str!("sql/credentials.rs")),
        ("sql/jobs.rs", include_str!("sql/jobs.rs")),
    ];

    fn states(keep: fn(JobState) -> bool) -> BTreeSet<String> {
        JobState::ALL
            .into_iter()
            .filter(|s| keep(*s))
            .map(|s| s.as_str().to_owned())
            .collect()
    }

    /// Every `state IN (…)` and `claimed_from IN (…)` list in `sql`, with the column it tests.
    fn state_lists(sql: &str) -> Vec<(String, BTreeSet<String>)> {
        let mut found = Vec::new();
        let mut rest = sql;
        while let Some(at) = rest.find(" IN (") {
            let before = &rest[..at];
            let column = before
                .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
                .next()
                .unwrap_or_default()
                .rsplit('.')
                .next()
                .unwrap_or_default()
                .to_owned();
            let after = &rest[at + 5..];
            let list = &after[..after.find(')').unwrap_or(after.len())];
            // Literal lists only (`IN (SELECT …)` takes its states from a parameter).
            let literal = list
                .split(',')
                .map(str::trim)
                .all(|v| v.len() > 2 && v.starts_with('\'') && v.ends_with('\''));
            if literal && (column == "state" || column == "claimed_from") {
                let values = list
                    .split(',')
                    .map(|v| v.trim().trim_matches('\'').to_owned())
                    .collect();
                found.push((column, values));
            }
            rest = after;
        }
        found
    }

    /// The due states, the attempt rule and the finished states live in `JobState`
    /// (`is_claimable`, `claim_spends_attempt`, `is_finished`), and the memory store calls
    /// them; every list of states in the SQL stores' statements must be one of those sets, so
    /// that the SQL cannot drift from the state machine unseen.
    #[test]
    fn the_sql_stores_name_only_the_state_machines_sets() {
        let claimable = states(JobState::is_claimable);
        let spends = states(JobState::claim_spends_attempt);
        let finished = states(JobState::is_finished);
        let set = |s: &[JobState]| s.iter().map(|s| s.as_str().to_owned()).collect();
        let attention: BTreeSet<String> = set(&crate::admin::ATTENTION);
        let unpublished: BTreeSet<String> = set(&crate::admin::UNPUBLISHED);
        let mut seen = BTreeSet::new();
        for (file, sql) in SQL_SOURCES {
            for (column, list) in state_lists(sql) {
                let named = if list == claimable && column == "state" {
                    "claimable"
                } else if list == spends {
                    "spends an attempt"
                } else if list == finished && column == "state" {
                    "finished"
                } else if list == attention && column == "state" {
                    "needs attention (admin)"
                } else if list == unpublished && column == "state" {
                    "ended unpublished (admin)"
                } else {
                    panic!(
                        "{file}: `{column} IN {list:?}` is none of the state machine's sets \
                         (claimable {claimable:?}, spends an attempt {spends:?}, finished {finished:?})"
                    )
                };
                seen.insert((file, named));
            }
        }
        for file in ["sqlite/jobs.rs", "postgres/jobs.rs"] {
            for named in ["claimable", "spends an attempt", "finished"] {
                assert!(
                    seen.contains(&(file, named)),
                    "{file} never names the {named} states"
                );
            }
        }
    }

    #[test]
    fn user_operations_follow_job_state_accepts() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let tenant = cmis_core::TenantId::new("t");
        let job = |state| Job {
            state,
            attempts: 1,
            ..Job::scheduled(
                crate::JobId::new(1),
                tenant.clone(),
                cmis_core::PostKey::new("p"),
                cmis_core::Target::feed(tenant.account(cmis_core::Platform::Facebook, "a")),
                cmis_core::Post::new().with_text("x"),
                now,
                now,
            )
        };
        for state in JobState::ALL {
            for (op, action) in [
                (UserOp::Reschedule(now), UserAction::Reschedule),
                (UserOp::Cancel, UserAction::Cancel),
                (UserOp::RetryNow, UserAction::RetryNow),
            ] {
                assert_eq!(
                    plan_user_op(&job(state), op, now).is_some(),
                    state.accepts(action),
                    "{action:?} from {state}"
                );
            }
        }
    }
}
