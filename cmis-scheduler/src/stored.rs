//! How values are stored and how the databases' errors come back: instants as microseconds,
//! text made storable and clipped, the checkpoint size limit, and database errors mapped to
//! kinds. A leaf: it uses no other module of this crate.

use cmis_core::{Error, Result};
use time::OffsetDateTime;

/// The longest error message stored with a job (longer ones are cut, with a mark).
pub(crate) const MAX_ERROR_MESSAGE: usize = 4_096;

/// `text` as every backend can store it: no NUL (PostgreSQL's `text` refuses it; it comes from
/// platform-controlled error text) and at most `max` bytes, cut on a character boundary.
pub(crate) fn storable(text: &str, max: usize) -> String {
    let mut out = text.replace('\0', "\u{FFFD}");
    clip(&mut out, max);
    out
}

/// Cuts `text` to at most `max` bytes on a character boundary, marking the cut.
pub(crate) fn clip(text: &mut String, max: usize) {
    const MARK: &str = " [cut]";
    if text.len() <= max {
        return;
    }
    let mut end = max.saturating_sub(MARK.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push_str(MARK);
}

/// Microseconds since the Unix epoch: how every instant is stored.
pub(crate) fn micros(at: OffsetDateTime) -> i64 {
    // Instants stored here are within ±292 000 years of 1970, where this never saturates.
    i64::try_from(at.unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX)
}

/// The instant `us` microseconds after the Unix epoch.
pub(crate) fn from_micros(us: i64) -> Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1_000)
        .map_err(|e| Error::internal(format!("stored instant {us} is out of range: {e}")))
}

/// A duration in microseconds, saturating.
pub(crate) fn duration_micros(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

/// The largest checkpoint a job stores (its JSON), so that a connector cannot grow a row, and
/// every claim and read of it, without bound.
pub const MAX_CHECKPOINT_BYTES: usize = 64 << 20;

/// Refuses a checkpoint larger than [`MAX_CHECKPOINT_BYTES`] before anything is written.
pub(crate) fn check_checkpoint_size(len: usize) -> cmis_core::Result<()> {
    if len > MAX_CHECKPOINT_BYTES {
        return Err(Error::invalid_input(format!(
            "a checkpoint of {len} bytes is larger than the {MAX_CHECKPOINT_BYTES} bytes a job \
             stores; keep media out of checkpoints"
        )));
    }
    Ok(())
}

/// Whether `e` is a statement the database itself refused (a value it cannot store, a
/// constraint), as opposed to a connection, pool or protocol failure: retrying the same
/// statement cannot help, but writing its rows apart may.
pub(crate) fn refused_by_database(e: &Error) -> bool {
    std::error::Error::source(e)
        .and_then(|s| s.downcast_ref::<sqlx::Error>())
        .is_some_and(|s| s.as_database_error().is_some() && !passing(s))
}

/// Whether `e` says nothing about the statement, only that the database could not run it now:
/// the connection broke or was terminated, the pool had none, the server is shutting down or
/// overloaded, a serialisation failure or deadlock (PostgreSQL), a busy or locked database
/// (SQLite). Trying again later can succeed.
fn passing(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(d) => d.code().is_some_and(|code| passing_code(&code)),
        _ => false,
    }
}

/// PostgreSQL SQLSTATEs of a passing failure (class 08 connection exceptions, 57P0x shutdowns,
/// class 53 insufficient resources, 40001 serialisation failure, 40P01 deadlock), and SQLite's
/// primary codes 5 (`SQLITE_BUSY`) and 6 (`SQLITE_LOCKED`) with their extended forms.
fn passing_code(code: &str) -> bool {
    // A SQLSTATE has five characters; SQLite's (extended) result codes at most four digits.
    if code.len() < 5
        && let Ok(n) = code.parse::<u32>()
    {
        return matches!(n & 0xff, 5 | 6);
    }
    code.starts_with("08")
        || code.starts_with("57P0")
        || code.starts_with("53")
        || code == "40001"
        || code == "40P01"
}

/// Maps a database error: a unique violation is the caller's (an active job already exists), a
/// passing failure (see [`passing`]) is transient, anything else is internal. The database's
/// error stays an opaque source.
pub(crate) fn db_err(e: sqlx::Error) -> Error {
    if e.as_database_error()
        .is_some_and(|d| d.is_unique_violation())
    {
        return Error::invalid_input(
            "an active job already exists for this post and target (one per post and target)",
        );
    }
    if passing(&e) {
        return Error::transient(format!("schedule store: {e}")).with_source(e);
    }
    Error::internal(format!("schedule store: {e}")).with_source(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passing_failures_are_transient_and_never_a_refusal() {
        for code in [
            "08006", "08003", "57P01", "57P03", "53300", "40001", "40P01", "5", "6", "517", "262",
        ] {
            assert!(passing_code(code), "{code}");
        }
        for code in ["22021", "23505", "42P01", "54000", "1", "19"] {
            assert!(!passing_code(code), "{code}");
        }
        let broken = db_err(sqlx::Error::Io(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "connection reset by peer",
        )));
        assert_eq!(broken.kind(), cmis_core::ErrorKind::Transient);
        assert!(!refused_by_database(&broken));
        assert_eq!(
            db_err(sqlx::Error::PoolTimedOut).kind(),
            cmis_core::ErrorKind::Transient
        );
        assert_eq!(
            db_err(sqlx::Error::RowNotFound).kind(),
            cmis_core::ErrorKind::Internal
        );
    }
}
