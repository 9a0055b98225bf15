//! The operator: what the person running the SaaS does when the scheduler asks for one, and
//! nothing more.
//!
//! - A job `awaiting_reauth` means an account's token was refused and could not be refreshed
//!   (a Page token cannot be; a TikTok refresh token dies if its rotation is lost). The
//!   operator reconnects the account (the sandbox issues new tokens, as a completed login
//!   would), stores the credential and runs the account's waiting jobs again (`retry_now`).
//! - A job parked in `unknown_outcome` because its read-only checks *failed* (an error, not an
//!   answer) is checked again with `retry_now`, at most [`RECHECKS`] times; `retry_now` on an
//!   unknown outcome only ever reconciles, it never publishes. A job parked because the
//!   platform cannot tell (a Facebook post whose response was lost) is left for the report.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use cmis_core::time::OffsetDateTime;
use cmis_core::{AccountRef, Result};
use cmis_sandbox::Sandbox;
use cmis_scheduler::{Job, JobId, JobState};

use super::db::Db;
use super::world::issue;

/// How often a parked job whose checks failed is checked again.
pub(crate) const RECHECKS: u32 = 4;

/// How long a parked job waits before it is checked again: an account throttled for a minute
/// must not use up every check at once.
const RECHECK_AFTER: Duration = Duration::from_secs(20);

/// An account reconnected this recently is not reconnected again: workers that still hold the
/// old token see it refused once, then read the new one.
const REAUTH_QUIET: Duration = Duration::from_secs(2);

/// What the operator did, and to which jobs.
#[derive(Debug, Default)]
pub(crate) struct Operator {
    reauthorised: HashMap<AccountRef, Instant>,
    rechecks: HashMap<JobId, u32>,
    pub(crate) reauths: usize,
    pub(crate) reauth_retries: usize,
    pub(crate) recheck_count: usize,
    /// Jobs the operator touched, with what it did (for the report).
    pub(crate) touched: HashMap<JobId, Vec<String>>,
    /// Accounts reconnected, with the error that asked for it.
    pub(crate) reauth_reasons: Vec<String>,
}

fn parked(job: &Job) -> bool {
    job.state == JobState::UnknownOutcome && job.run_at.is_none()
}

fn parked_long_enough(job: &Job) -> bool {
    OffsetDateTime::now_utc() - job.updated_at >= RECHECK_AFTER
}

fn error_kind(job: &Job) -> &str {
    job.last_error.as_ref().map_or("", |e| e.kind.as_str())
}

impl Operator {
    /// Whether `job` will not change any more without the operator, who is done with it too.
    pub(crate) fn settled(&self, job: &Job) -> bool {
        job.state.is_finished() || (parked(job) && !self.wants_recheck(job))
    }

    fn wants_recheck(&self, job: &Job) -> bool {
        error_kind(job) != "unknown_outcome"
            && self.rechecks.get(&job.id).copied().unwrap_or(0) < RECHECKS
    }

    /// Acts on the active jobs of one look at the store.
    pub(crate) async fn tend(&mut self, active: &[Job], db: &Db, sandbox: &Sandbox) -> Result<()> {
        let mut reconnect: HashSet<AccountRef> = HashSet::new();
        let mut again: Vec<&Job> = Vec::new();
        for job in active {
            if job.state == JobState::AwaitingReauth {
                reconnect.insert(job.target.account.clone());
                again.push(job);
            } else if parked(job) && self.wants_recheck(job) && parked_long_enough(job) {
                if error_kind(job) == "auth" {
                    reconnect.insert(job.target.account.clone());
                }
                *self.rechecks.entry(job.id).or_default() += 1;
                self.recheck_count += 1;
                again.push(job);
            }
        }
        for account in reconnect {
            let recent = self
                .reauthorised
                .get(&account)
                .is_some_and(|t| t.elapsed() < REAUTH_QUIET);
            if recent {
                continue;
            }
            let why = active
                .iter()
                .find(|j| j.target.account == account)
                .and_then(|j| j.last_error.as_ref())
                .map(|e| format!("{}: {}", e.kind, e.message))
                .unwrap_or_default();
            db.credentials
                .put_credential(issue(sandbox, &account, false)?)
                .await?;
            self.reauthorised.insert(account.clone(), Instant::now());
            self.reauths += 1;
            self.reauth_reasons.push(format!("{account}: {why}"));
        }
        for job in again {
            let what = if job.state == JobState::AwaitingReauth {
                self.reauth_retries += 1;
                "reconnected the account and ran the job again".to_owned()
            } else {
                format!(
                    "checked the unknown outcome again ({})",
                    job.last_error
                        .as_ref()
                        .map(|e| e.message.as_str())
                        .unwrap_or("")
                )
            };
            let change = db.jobs.retry_now(&job.tenant, job.id).await?;
            let verdict = if change.is_applied() {
                ""
            } else {
                " (refused)"
            };
            self.touched
                .entry(job.id)
                .or_default()
                .push(format!("{what}{verdict}"));
        }
        Ok(())
    }
}
