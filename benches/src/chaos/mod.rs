//! The chaos soak: a world of tenants and accounts on the sandbox, scheduler processes that are
//! killed and restarted, an operator who does what a person would, and the final reconciliation
//! of the sandbox's own record against the store; with `--db-faults`, `--notifier` and
//! `--clock-skew`, a database that fails, a webhook receiver that hangs and clocks that
//! disagree.

pub(crate) mod db;
pub(crate) mod dbfaults;
pub(crate) mod faulty;
pub(crate) mod media;
pub(crate) mod operator;
pub(crate) mod receiver;
pub(crate) mod reconcile;
pub(crate) mod run;
pub(crate) mod skew;
pub(crate) mod watch;
pub(crate) mod worker;
pub(crate) mod workers;
pub(crate) mod world;

use std::time::Duration;

/// How long a worker's claim lasts without a heartbeat: short, so that the jobs of a killed
/// worker are rescued within seconds.
pub(crate) const LEASE: Duration = Duration::from_secs(5);

/// The HTTP timeout of the connectors' clients in the workers.
pub(crate) const HTTP_TIMEOUT: Duration = Duration::from_secs(4);

/// Longer than [`HTTP_TIMEOUT`]: an injected delay of this length is a timeout.
pub(crate) const TIMEOUT_DELAY: Duration = Duration::from_secs(5);

/// How much longer a post stays in processing after a slow-processing fault: longer than the
/// connectors poll in one go, so the job goes `pending` and is resumed later.
pub(crate) const SLOW_PROCESSING: Duration = Duration::from_secs(6);
