//! What the command-line examples share: exit codes, error reporting, environment variables.

use std::process::ExitCode;

use cmis::{Error, ErrorKind, Platform, SecretString};

/// Exit code: published (or, for other commands, done).
pub const EXIT_OK: u8 = 0;
/// Exit code: anything not listed below.
pub const EXIT_OTHER: u8 = 1;
/// Exit code: invalid input, refused before any network call.
pub const EXIT_INVALID_INPUT: u8 = 2;
/// Exit code: the account must be re-authorised (token invalid, or a permission missing).
pub const EXIT_REAUTH: u8 = 3;
/// Exit code: rate limited, or a quota is used up.
pub const EXIT_RATE_LIMITED: u8 = 4;
/// Exit code: the platform rejected the content.
pub const EXIT_REJECTED: u8 = 5;
/// Exit code: the outcome is unknown; check the platform before trying again.
pub const EXIT_UNKNOWN_OUTCOME: u8 = 6;

/// The exit code for an error of `kind`.
pub fn exit_code(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::InvalidInput => EXIT_INVALID_INPUT,
        ErrorKind::Auth | ErrorKind::Permission => EXIT_REAUTH,
        ErrorKind::RateLimited | ErrorKind::Quota => EXIT_RATE_LIMITED,
        ErrorKind::Rejected => EXIT_REJECTED,
        ErrorKind::UnknownOutcome => EXIT_UNKNOWN_OUTCOME,
        _ => EXIT_OTHER,
    }
}

/// Prints `err` for a person on stderr, with its kind first, and returns the matching exit code.
/// Broken rules, when there are several, go one per line.
pub fn fail(err: &Error) -> ExitCode {
    match err.violation_list() {
        [] | [_] => eprintln!("error [{}]: {err}", err.kind()),
        many => {
            eprintln!("error [{}]: {} rules are broken:", err.kind(), many.len());
            for v in many {
                eprintln!("  - {v}");
            }
        }
    }
    ExitCode::from(exit_code(err.kind()))
}

/// The value of environment variable `name`, if set and not empty.
pub fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The value of environment variable `name` as a secret, if set and not empty.
pub fn env_secret(name: &str) -> Option<SecretString> {
    env(name).map(SecretString::from)
}

/// The app credentials for `platform`: `CMIS_META_APP_ID`/`CMIS_META_APP_SECRET` for Facebook and
/// Instagram, `CMIS_TIKTOK_CLIENT_KEY`/`CMIS_TIKTOK_CLIENT_SECRET` for TikTok,
/// `CMIS_THREADS_APP_ID`/`CMIS_THREADS_APP_SECRET` for Threads,
/// `CMIS_LINKEDIN_CLIENT_ID`/`CMIS_LINKEDIN_CLIENT_SECRET` for LinkedIn and
/// `CMIS_GOOGLE_CLIENT_ID`/`CMIS_GOOGLE_CLIENT_SECRET` for YouTube, each falling back to
/// `CMIS_CLIENT_ID`/`CMIS_CLIENT_SECRET` when the platform's own pair is unset.
pub fn app_credentials(platform: Platform) -> (Option<String>, Option<SecretString>) {
    let (id, secret) = match platform {
        Platform::TikTok => ("CMIS_TIKTOK_CLIENT_KEY", "CMIS_TIKTOK_CLIENT_SECRET"),
        Platform::Threads => ("CMIS_THREADS_APP_ID", "CMIS_THREADS_APP_SECRET"),
        Platform::LinkedIn => ("CMIS_LINKEDIN_CLIENT_ID", "CMIS_LINKEDIN_CLIENT_SECRET"),
        Platform::YouTube => ("CMIS_GOOGLE_CLIENT_ID", "CMIS_GOOGLE_CLIENT_SECRET"),
        _ => ("CMIS_META_APP_ID", "CMIS_META_APP_SECRET"),
    };
    if env(id).is_some() || env(secret).is_some() {
        (env(id), env_secret(secret))
    } else {
        (env("CMIS_CLIENT_ID"), env_secret("CMIS_CLIENT_SECRET"))
    }
}

/// Converts a `lexopt` error into an invalid-input error.
pub fn usage_error(err: lexopt::Error, usage: &str) -> Error {
    Error::invalid_input(format!("{err}\n{usage}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_contract() {
        assert_eq!(exit_code(ErrorKind::InvalidInput), 2);
        assert_eq!(exit_code(ErrorKind::Auth), 3);
        assert_eq!(exit_code(ErrorKind::RateLimited), 4);
        assert_eq!(exit_code(ErrorKind::Quota), 4);
        assert_eq!(exit_code(ErrorKind::Rejected), 5);
        assert_eq!(exit_code(ErrorKind::UnknownOutcome), 6);
        assert_eq!(exit_code(ErrorKind::Transient), 1);
        assert_eq!(exit_code(ErrorKind::Internal), 1);
    }
}
