//! Safe upgrades: processes register in the store with their versions; a binary refuses a
//! schema newer than it understands, and a migration that changes how jobs are claimed refuses
//! to run while a process that claims the old way is alive.

use std::time::Duration;

use cmis_core::{Error, Result};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// This crate's version, as processes register it.
pub const CMIS_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Migrations after which jobs are claimed differently: an older process claiming beside a
/// newer one could publish a job twice (5: a claimed job keeps its stored state on
/// PostgreSQL, and older claims do not see its lease).
#[cfg(feature = "postgres")]
pub(crate) const CLAIM_CHANGES: &[i64] = &[5];

/// A registered process whose heartbeat is older than this is taken for dead.
pub const PROCESS_STALE_AFTER: Duration = Duration::from_secs(60);

/// A process that uses the store, as it registered itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ProcessRecord {
    /// Its id (a scheduler's worker id).
    pub id: String,
    /// The cmis-scheduler version it runs.
    pub cmis_version: String,
    /// The newest schema version it understands.
    pub schema_version: i64,
    /// When it registered first.
    pub started_at: OffsetDateTime,
    /// When it last said it is alive.
    pub heartbeat_at: OffsetDateTime,
}

/// The error of a binary that finds the database's schema newer than it understands.
pub(crate) fn schema_too_new(applied: i64, known: usize) -> Error {
    Error::unsupported(format!(
        "the database's schema is version {applied}, newer than this cmis-scheduler \
         {CMIS_VERSION} understands (version {known}): run cmis-scheduler of the version that \
         migrated it or newer; this process claims nothing"
    ))
}

/// The migration that changes how jobs are claimed, among those from `applied` to `known`.
#[cfg(feature = "postgres")]
pub(crate) fn claim_change(applied: i64, known: usize) -> Option<i64> {
    let known = i64::try_from(known).unwrap_or(i64::MAX);
    CLAIM_CHANGES
        .iter()
        .copied()
        .find(|v| *v > applied && *v <= known)
}

/// The error of a migration refused because processes that claim the old way are alive.
#[cfg(feature = "postgres")]
pub(crate) fn upgrade_refused(applied: i64, change: i64, alive: &[String]) -> Error {
    Error::unsupported(format!(
        "migrating the schema from version {applied} past version {change} changes how jobs \
         are claimed, and processes that claim the old way are alive ({}): stop every older \
         process first (see the CHANGELOG's upgrade notes), then start this one",
        alive.join(", ")
    ))
}

/// A row of the registry as `(id, version, schema, started, heartbeat)` in microseconds.
pub(crate) type ProcessRow = (String, String, i64, i64, i64);

pub(crate) fn process_from(row: ProcessRow) -> Result<ProcessRecord> {
    Ok(ProcessRecord {
        id: row.0,
        cmis_version: row.1,
        schema_version: row.2,
        started_at: crate::stored::from_micros(row.3)?,
        heartbeat_at: crate::stored::from_micros(row.4)?,
    })
}
