//! The `schedule` example's command line.

use std::ffi::OsString;

use cmis::time::OffsetDateTime;
use cmis::time::format_description::well_known::Rfc3339;
use cmis::{Error, Media, Platform, PrivacyLevel, Result, Surface};
use lexopt::prelude::*;

use crate::cli::usage_error;

/// The usage text.
pub const USAGE: &str = "usage:
  schedule account --db URL --tenant T --platform facebook|instagram|threads|tiktok|bluesky|linkedin|youtube --account ID --access-token TOKEN [--refresh-token TOKEN] [--expires-in SECONDS]
  schedule add --db URL --tenant T --platform P --account ID [--text TEXT] [--media PATH_OR_URL]... [--kind feed|reel|story|carousel] [--privacy LEVEL] --at RFC3339|+SECONDS
  schedule run --db URL [--workers N] [--until-idle]
  schedule list --db URL --tenant T
  schedule cancel --db URL --tenant T --job ID
--db takes sqlite://PATH or postgres://...; the credential key comes from CMIS_SECRET_KEY (64 hex characters).";

/// A `schedule` command.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Command {
    /// Store (or replace) a credential.
    Account {
        /// The tenant.
        tenant: String,
        /// The platform.
        platform: Platform,
        /// The account id.
        account: String,
        /// The access token.
        access_token: String,
        /// The refresh token.
        refresh_token: Option<String>,
        /// The access token's lifetime in seconds.
        expires_in: Option<u64>,
    },
    /// Schedule a post.
    Add {
        /// The tenant.
        tenant: String,
        /// The platform.
        platform: Platform,
        /// The account id.
        account: String,
        /// The text.
        text: Option<String>,
        /// Media.
        media: Vec<Media>,
        /// The surface.
        surface: Surface,
        /// TikTok privacy level.
        privacy: Option<PrivacyLevel>,
        /// When.
        at: When,
    },
    /// Run the scheduler.
    Run {
        /// Concurrent publishes.
        workers: usize,
        /// Exit once nothing is due within 60 s.
        until_idle: bool,
    },
    /// List a tenant's jobs.
    List {
        /// The tenant.
        tenant: String,
    },
    /// Cancel a job.
    Cancel {
        /// The tenant.
        tenant: String,
        /// The job id.
        job: i64,
    },
}

/// When to publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// At this instant.
    At(OffsetDateTime),
    /// This many seconds from now.
    In(u64),
}

impl When {
    /// The instant, counting from `now`.
    pub fn resolve(self, now: OffsetDateTime) -> OffsetDateTime {
        match self {
            When::At(t) => t,
            When::In(s) => now + std::time::Duration::from_secs(s),
        }
    }
}

/// The whole command line: the database URL and the command.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ScheduleArgs {
    /// `sqlite://PATH` or `postgres://...`.
    pub db: String,
    /// The command.
    pub command: Command,
}

#[derive(Default)]
struct Raw {
    db: Option<String>,
    tenant: Option<String>,
    platform: Option<Platform>,
    account: Option<String>,
    access_token: Option<String>,
    refresh_token: Option<String>,
    expires_in: Option<u64>,
    text: Option<String>,
    media: Vec<Media>,
    kind: Option<String>,
    privacy: Option<PrivacyLevel>,
    at: Option<When>,
    workers: Option<usize>,
    until_idle: bool,
    job: Option<i64>,
}

fn need<T>(value: Option<T>, flag: &str) -> Result<T> {
    value.ok_or_else(|| Error::invalid_input(format!("{flag} is required\n{USAGE}")))
}

fn string(value: OsString) -> Result<String> {
    value
        .into_string()
        .map_err(|v| Error::invalid_input(format!("argument {v:?} is not valid UTF-8")))
}

fn number<T: std::str::FromStr>(value: OsString, flag: &str) -> Result<T> {
    let s = string(value)?;
    s.trim()
        .parse()
        .map_err(|_| Error::invalid_input(format!("{flag} takes a number, not {s:?}")))
}

fn parse_when(s: &str) -> Result<When> {
    if let Some(secs) = s.strip_prefix('+') {
        return secs
            .parse()
            .map(When::In)
            .map_err(|_| Error::invalid_input(format!("--at +SECONDS takes a number, not {s:?}")));
    }
    OffsetDateTime::parse(s, &Rfc3339)
        .map(When::At)
        .map_err(|e| Error::invalid_input(format!("--at {s:?} is not RFC 3339 or +SECONDS: {e}")))
}

impl ScheduleArgs {
    /// Parses `args` (without the program name). Every error is
    /// [`InvalidInput`](cmis::ErrorKind::InvalidInput).
    pub fn parse<I>(args: I) -> Result<Self>
    where
        I: IntoIterator,
        I::Item: Into<OsString>,
    {
        let mut parser = lexopt::Parser::from_args(args);
        let bad = |e| usage_error(e, USAGE);
        let mut sub = None;
        let mut r = Raw::default();
        while let Some(arg) = parser.next().map_err(bad)? {
            match arg {
                Value(v) if sub.is_none() => sub = Some(string(v)?),
                Long("db") => r.db = Some(string(parser.value().map_err(bad)?)?),
                Long("tenant") => r.tenant = Some(string(parser.value().map_err(bad)?)?),
                Long("platform") => {
                    r.platform = Some(string(parser.value().map_err(bad)?)?.parse()?);
                }
                Long("account") => r.account = Some(string(parser.value().map_err(bad)?)?),
                Long("access-token") => {
                    r.access_token = Some(string(parser.value().map_err(bad)?)?);
                }
                Long("refresh-token") => {
                    r.refresh_token = Some(string(parser.value().map_err(bad)?)?);
                }
                Long("expires-in") => {
                    r.expires_in = Some(number(parser.value().map_err(bad)?, "--expires-in")?);
                }
                Long("text") => r.text = Some(string(parser.value().map_err(bad)?)?),
                Long("media") => {
                    r.media.push(Media::from_path_or_url(&string(
                        parser.value().map_err(bad)?,
                    )?)?);
                }
                Long("kind") => r.kind = Some(string(parser.value().map_err(bad)?)?),
                Long("privacy") => {
                    r.privacy = Some(string(parser.value().map_err(bad)?)?.parse()?);
                }
                Long("at") => r.at = Some(parse_when(&string(parser.value().map_err(bad)?)?)?),
                Long("workers") => {
                    r.workers = Some(number(parser.value().map_err(bad)?, "--workers")?);
                }
                Long("until-idle") => r.until_idle = true,
                Long("job") => r.job = Some(number(parser.value().map_err(bad)?, "--job")?),
                Long("help") | Short('h') => return Err(Error::invalid_input(USAGE)),
                other => return Err(bad(other.unexpected())),
            }
        }
        let db = need(r.db, "--db")?;
        if !(db.starts_with("sqlite://")
            || db.starts_with("postgres://")
            || db.starts_with("postgresql://"))
        {
            return Err(Error::invalid_input(format!(
                "--db must be sqlite://PATH or postgres://..., not {db:?}"
            )));
        }
        let command = match sub.as_deref() {
            Some("account") => Command::Account {
                tenant: need(r.tenant, "--tenant")?,
                platform: need(r.platform, "--platform")?,
                account: need(r.account, "--account")?,
                access_token: need(r.access_token, "--access-token")?,
                refresh_token: r.refresh_token,
                expires_in: r.expires_in,
            },
            Some("add") => {
                let kind = r.kind.unwrap_or_else(|| "feed".to_owned());
                let (surface, carousel) = match kind.to_ascii_lowercase().as_str() {
                    "carousel" => (Surface::Feed, true),
                    other => (other.parse::<Surface>()?, false),
                };
                if carousel && r.media.len() < 2 {
                    return Err(Error::invalid_input(
                        "--kind carousel needs at least two --media items",
                    ));
                }
                if r.text.is_none() && r.media.is_empty() {
                    return Err(Error::invalid_input(
                        "nothing to publish: give --text or --media",
                    ));
                }
                Command::Add {
                    tenant: need(r.tenant, "--tenant")?,
                    platform: need(r.platform, "--platform")?,
                    account: need(r.account, "--account")?,
                    text: r.text,
                    media: r.media,
                    surface,
                    privacy: r.privacy,
                    at: need(r.at, "--at")?,
                }
            }
            Some("run") => Command::Run {
                workers: r.workers.unwrap_or(8).max(1),
                until_idle: r.until_idle,
            },
            Some("list") => Command::List {
                tenant: need(r.tenant, "--tenant")?,
            },
            Some("cancel") => Command::Cancel {
                tenant: need(r.tenant, "--tenant")?,
                job: need(r.job, "--job")?,
            },
            Some(other) => {
                return Err(Error::invalid_input(format!(
                    "unknown command {other:?}\n{USAGE}"
                )));
            }
            None => return Err(Error::invalid_input(USAGE)),
        };
        Ok(Self { db, command })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_command() {
        let a = ScheduleArgs::parse([
            "add",
            "--db",
            "sqlite:///tmp/x.db",
            "--tenant",
            "t",
            "--platform",
            "tiktok",
            "--account",
            "o",
            "--media",
            "a.mp4",
            "--privacy",
            "SELF_ONLY",
            "--at",
            "+30",
        ])
        .unwrap();
        assert!(matches!(
            a.command,
            Command::Add {
                at: When::In(30),
                ..
            }
        ));
        let r = ScheduleArgs::parse(["run", "--db", "postgres://h/db", "--until-idle"]).unwrap();
        assert_eq!(
            r.command,
            Command::Run {
                workers: 8,
                until_idle: true
            }
        );
        let c = ScheduleArgs::parse([
            "cancel",
            "--db",
            "sqlite://x",
            "--tenant",
            "t",
            "--job",
            "42",
        ])
        .unwrap();
        assert_eq!(
            c.command,
            Command::Cancel {
                tenant: "t".into(),
                job: 42
            }
        );
        let at = ScheduleArgs::parse([
            "add",
            "--db",
            "sqlite://x",
            "--tenant",
            "t",
            "--platform",
            "facebook",
            "--account",
            "1",
            "--text",
            "hi",
            "--at",
            "2026-12-01T10:00:00Z",
        ])
        .unwrap();
        assert!(matches!(
            at.command,
            Command::Add {
                at: When::At(_),
                ..
            }
        ));
    }

    #[test]
    fn bad_input_is_invalid_input() {
        for bad in [
            vec!["add", "--db", "mysql://x", "--tenant", "t"],
            vec![
                "add",
                "--db",
                "sqlite://x",
                "--tenant",
                "t",
                "--platform",
                "facebook",
                "--account",
                "1",
                "--text",
                "x",
            ],
            vec![
                "add",
                "--db",
                "sqlite://x",
                "--tenant",
                "t",
                "--platform",
                "facebook",
                "--account",
                "1",
                "--text",
                "x",
                "--at",
                "tomorrow",
            ],
            vec!["list", "--db", "sqlite://x"],
            vec!["explode", "--db", "sqlite://x"],
            vec![
                "cancel",
                "--db",
                "sqlite://x",
                "--tenant",
                "t",
                "--job",
                "abc",
            ],
        ] {
            let err = ScheduleArgs::parse(bad.clone()).unwrap_err();
            assert_eq!(err.kind(), cmis::ErrorKind::InvalidInput, "{bad:?}");
        }
    }
}
