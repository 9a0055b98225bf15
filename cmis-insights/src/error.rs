//! The crate's one error type.

use std::fmt;

/// Longest caller-supplied text echoed back in an error.
const MAX_ECHOED: usize = 64;

/// What went wrong, for callers that branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The time zone name is not in the bundled IANA database.
    UnknownTimeZone,
    /// A [`RecommenderBuilder`](crate::RecommenderBuilder) or [`SlotPrior`](crate::SlotPrior)
    /// setting is out of its range.
    InvalidSetting,
    /// An instant lies outside the range the time zone rules or the `time` crate cover.
    OutOfRange,
}

impl ErrorKind {
    /// The kind's stable `snake_case` name, for logs and JSON output.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::UnknownTimeZone => "unknown_time_zone",
            Self::InvalidSetting => "invalid_setting",
            Self::OutOfRange => "out_of_range",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error from `cmis-insights`: a bad time zone name, a setting out of range, or an instant
/// the time zone rules do not cover. Nothing here is retryable; the input must change.
///
/// ```
/// use cmis_insights::{Account, ErrorKind};
///
/// let err = Account::new("acme", "Europe/Parsi").unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::UnknownTimeZone);
/// assert!(err.to_string().contains("Europe/Parsi"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub(crate) fn unknown_time_zone(name: &str) -> Self {
        let shown: String = name.chars().take(MAX_ECHOED).collect();
        Self {
            kind: ErrorKind::UnknownTimeZone,
            message: format!(
                "unknown time zone {shown:?}: use an IANA name such as \"Europe/Paris\" or \"America/New_York\""
            ),
        }
    }

    pub(crate) fn invalid_setting(setting: &str, reason: impl fmt::Display) -> Self {
        Self {
            kind: ErrorKind::InvalidSetting,
            message: format!("invalid setting `{setting}`: {reason}"),
        }
    }

    pub(crate) fn out_of_range(zone: &str) -> Self {
        Self {
            kind: ErrorKind::OutOfRange,
            message: format!("instant outside the range the rules of {zone} cover"),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
