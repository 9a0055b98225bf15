//! Which jobs an admin call reads: [`JobQuery`], its [`TimeRange`]s and the [`JobPage`] it
//! answers with.

use cmis_core::{Error, ErrorKind, Platform, PostKey, Result};
use time::OffsetDateTime;

use crate::job::{Job, JobId, JobState};

/// A range of instants: from `from` (included) to `to` (excluded); either end may be open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TimeRange {
    /// The first instant in the range, if bounded.
    pub from: Option<OffsetDateTime>,
    /// The first instant after the range, if bounded.
    pub to: Option<OffsetDateTime>,
}

impl TimeRange {
    /// From `from` (included) to `to` (excluded).
    pub fn between(from: OffsetDateTime, to: OffsetDateTime) -> Self {
        Self {
            from: Some(from),
            to: Some(to),
        }
    }

    /// From `from` on.
    pub fn since(from: OffsetDateTime) -> Self {
        Self {
            from: Some(from),
            to: None,
        }
    }

    /// Before `to`.
    pub fn until(to: OffsetDateTime) -> Self {
        Self {
            from: None,
            to: Some(to),
        }
    }

    /// Whether no end is set (every instant matches).
    pub fn is_open(&self) -> bool {
        self.from.is_none() && self.to.is_none()
    }

    /// Whether `t` is in the range.
    pub fn contains(&self, t: OffsetDateTime) -> bool {
        self.from.is_none_or(|f| t >= f) && self.to.is_none_or(|e| t < e)
    }
}

/// Which jobs [`AdminStore::find_jobs`](super::AdminStore::find_jobs) returns: every condition set must hold. Newest first
/// (by id), in pages of [`limit`](Self::limit) after the cursor [`before`](Self::before).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct JobQuery {
    /// Only jobs in one of these states (every state when empty).
    pub states: Vec<JobState>,
    /// Only jobs to one of these platforms (every platform when empty).
    pub platforms: Vec<Platform>,
    /// Only jobs to one of these accounts, by the platform's account id (every account when
    /// empty).
    pub accounts: Vec<String>,
    /// Only jobs of this post.
    pub post_key: Option<PostKey>,
    /// Only jobs scheduled (the time the user asked for) in this range.
    pub scheduled: TimeRange,
    /// Only jobs created in this range.
    pub created: TimeRange,
    /// Only finished jobs (published, failed, missed, cancelled) that finished in this range.
    pub finished: TimeRange,
    /// Only jobs whose last error is of this kind.
    pub error_kind: Option<ErrorKind>,
    /// Only jobs whose last error's message contains this text (ASCII letters in any case).
    pub error_text: Option<String>,
    /// At most this many ([`JobQuery::DEFAULT_LIMIT`] when `None`, never more than
    /// [`JobQuery::MAX_LIMIT`]).
    pub limit: Option<u32>,
    /// Only jobs older than this one (the cursor of the next page: [`JobPage::next`]). Pages
    /// stay stable while jobs are added.
    pub before: Option<JobId>,
}

impl JobQuery {
    /// The page size when none is given.
    pub const DEFAULT_LIMIT: u32 = 50;
    /// The most jobs one page holds.
    pub const MAX_LIMIT: u32 = 500;
    /// The longest error text searched for.
    pub const MAX_TEXT: usize = 200;

    /// Every job.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `state` to the states matched.
    #[must_use]
    pub fn state(mut self, state: JobState) -> Self {
        self.states.push(state);
        self
    }

    /// Adds `platform` to the platforms matched.
    #[must_use]
    pub fn platform(mut self, platform: Platform) -> Self {
        self.platforms.push(platform);
        self
    }

    /// Adds `account` (the platform's account id) to the accounts matched.
    #[must_use]
    pub fn account(mut self, account: impl Into<String>) -> Self {
        self.accounts.push(account.into());
        self
    }

    /// Only jobs of `post_key`.
    #[must_use]
    pub fn post(mut self, post_key: PostKey) -> Self {
        self.post_key = Some(post_key);
        self
    }

    /// Only jobs scheduled in `range`.
    #[must_use]
    pub fn scheduled(mut self, range: TimeRange) -> Self {
        self.scheduled = range;
        self
    }

    /// Only jobs created in `range`.
    #[must_use]
    pub fn created(mut self, range: TimeRange) -> Self {
        self.created = range;
        self
    }

    /// Only jobs finished in `range`.
    #[must_use]
    pub fn finished(mut self, range: TimeRange) -> Self {
        self.finished = range;
        self
    }

    /// Only jobs whose last error is of `kind`.
    #[must_use]
    pub fn error_kind(mut self, kind: ErrorKind) -> Self {
        self.error_kind = Some(kind);
        self
    }

    /// Only jobs whose last error's message contains `text`.
    #[must_use]
    pub fn error_text(mut self, text: impl Into<String>) -> Self {
        self.error_text = Some(text.into());
        self
    }

    /// At most `limit` jobs per page.
    #[must_use]
    pub fn with_limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// The page after the one that ended with `cursor` ([`JobPage::next`]).
    #[must_use]
    pub fn before(mut self, cursor: JobId) -> Self {
        self.before = Some(cursor);
        self
    }

    /// The page size to use.
    pub fn page_size(&self) -> u32 {
        self.limit
            .unwrap_or(Self::DEFAULT_LIMIT)
            .clamp(1, Self::MAX_LIMIT)
    }

    /// Checks the query before it reaches a store: an error text longer than
    /// [`JobQuery::MAX_TEXT`] or holding a control character is refused
    /// ([`ErrorKind::InvalidInput`]).
    pub fn check(&self) -> Result<()> {
        if let Some(text) = &self.error_text {
            if text.chars().count() > Self::MAX_TEXT {
                return Err(Error::invalid_input(format!(
                    "the error text searched for is longer than {} characters",
                    Self::MAX_TEXT
                )));
            }
            if text.chars().any(char::is_control) {
                return Err(Error::invalid_input(
                    "the error text searched for holds a control character",
                ));
            }
        }
        Ok(())
    }

    /// Whether `job` matches every condition (paging aside). The stores' SQL follows the same
    /// rules; the conformance tests compare them.
    pub fn matches(&self, job: &Job) -> bool {
        let error = job.last_error.as_ref();
        (self.states.is_empty() || self.states.contains(&job.state))
            && (self.platforms.is_empty() || self.platforms.contains(&job.target.account.platform))
            && (self.accounts.is_empty()
                || self
                    .accounts
                    .iter()
                    .any(|a| a == job.target.account.account.as_str()))
            && self.post_key.as_ref().is_none_or(|p| p == &job.post_key)
            && self.scheduled.contains(job.scheduled_for)
            && self.created.contains(job.created_at)
            && (self.finished.is_open()
                || (job.state.is_finished() && self.finished.contains(job.updated_at)))
            && self
                .error_kind
                .is_none_or(|k| error.is_some_and(|e| e.kind == k))
            && self.error_text.as_ref().is_none_or(|t| {
                error.is_some_and(|e| {
                    e.message
                        .to_ascii_lowercase()
                        .contains(&t.to_ascii_lowercase())
                })
            })
    }
}

/// One page of [`AdminStore::find_jobs`](super::AdminStore::find_jobs).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct JobPage {
    /// The jobs, newest first.
    pub jobs: Vec<Job>,
    /// The cursor of the next page ([`JobQuery::before`]), or `None` when this page is the last.
    pub next: Option<JobId>,
}

impl JobPage {
    /// A page of `jobs` (up to `size` of them kept; one more says there is a next page).
    pub(crate) fn cut(mut jobs: Vec<Job>, size: u32) -> Self {
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        let more = jobs.len() > size;
        jobs.truncate(size);
        let next = if more {
            jobs.last().map(|j| j.id)
        } else {
            None
        };
        Self { jobs, next }
    }
}
