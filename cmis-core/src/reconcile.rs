//! The rules every connector follows when it reconciles a creating call whose answer was lost
//! ([`Publisher::reconcile`](crate::Publisher::reconcile)): the window in which the call may
//! have made its post, how a post's text is compared, how the posts a listing shows are sorted
//! against that window, and the error that says "cannot tell".
//!
//! A connector of your own can use them too:
//!
//! ```
//! # mod cmis { pub use cmis_core::*; }
//! use std::time::Duration;
//! use cmis::reconcile::{CallWindow, Candidates, candidates, normalise_text};
//! use cmis::time::macros::datetime;
//!
//! struct Listed { id: &'static str, text: &'static str, created: cmis::time::OffsetDateTime }
//!
//! let sent_at = datetime!(2026-12-07 10:00 UTC);
//! let window = CallWindow::around(sent_at, Duration::from_secs(5), Duration::from_secs(600));
//! let listing = [
//!     Listed { id: "1", text: "Doors open at 9\r\n", created: datetime!(2026-12-07 10:00:02 UTC) },
//!     Listed { id: "2", text: "Doors open at 9", created: datetime!(2026-12-06 10:00 UTC) },
//! ];
//! let ours = normalise_text("Doors open at 9");
//! let found = candidates(
//!     &listing,
//!     |p| normalise_text(p.text) == ours,
//!     |p| window.contains(p.created),
//! );
//! // Yesterday's post with the same text is not taken for this call's.
//! assert!(matches!(found, Candidates::One(p) if p.id == "1"));
//! ```

use std::time::Duration;

use time::OffsetDateTime;

use crate::{Error, Platform};

/// When a creating call whose answer was lost may have made its post: from a little before it
/// was sent (the platform's clock may differ from ours) to the longest the platform may take
/// to act on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallWindow {
    /// The earliest creation time that can be the call's.
    pub start: OffsetDateTime,
    /// The latest.
    pub end: OffsetDateTime,
}

impl CallWindow {
    /// The window of a call sent at `sent_at`: from `clock_skew` before it to `call_span` after.
    pub fn around(sent_at: OffsetDateTime, clock_skew: Duration, call_span: Duration) -> Self {
        Self {
            start: time::Duration::try_from(clock_skew)
                .ok()
                .and_then(|d| sent_at.checked_sub(d))
                .unwrap_or_else(|| time::PrimitiveDateTime::MIN.assume_offset(sent_at.offset())),
            end: crate::after(sent_at, call_span),
        }
    }

    /// Whether `at` falls inside the window (both ends included).
    pub fn contains(&self, at: OffsetDateTime) -> bool {
        self.start <= at && at <= self.end
    }
}

/// A post's text as the platforms keep it, for comparing: the ends trimmed, line breaks as LF.
pub fn normalise_text(text: &str) -> String {
    text.trim().replace("\r\n", "\n")
}

/// How the posts of a listing that carry the call's text fall against its window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Candidates<'a, T> {
    /// Exactly one post has the text and fits the window: the call's post.
    One(&'a T),
    /// Several do: which one is the call's cannot be told.
    Many(Vec<&'a T>),
    /// Posts have the text, none inside the window (the first is given): they are older or
    /// newer posts, never taken for the call's, and their existence means publishing again
    /// could duplicate one.
    OnlyOutside(&'a T),
    /// No post in the listing has the text.
    None,
}

/// Sorts `listed` for a lost call: the posts whose text is the call's (`same_text`), and of
/// those, the ones that could be the call's (`fits`: created inside its [`CallWindow`], of the
/// kind of post the call creates).
pub fn candidates<'a, T>(
    listed: &'a [T],
    same_text: impl Fn(&T) -> bool,
    fits: impl Fn(&T) -> bool,
) -> Candidates<'a, T> {
    let same: Vec<&T> = listed.iter().filter(|p| same_text(p)).collect();
    let mut inside: Vec<&T> = same.iter().copied().filter(|p| fits(p)).collect();
    match (inside.len(), same.first()) {
        (1, _) => Candidates::One(inside.remove(0)),
        (0, Some(first)) => Candidates::OnlyOutside(first),
        (0, None) => Candidates::None,
        _ => Candidates::Many(inside),
    }
}

/// A reconciliation that cannot tell: an [`ErrorKind::UnknownOutcome`](crate::ErrorKind)
/// error from `platform` carrying the reason. The scheduler keeps it with the job and checks
/// again later; it never publishes again on it.
pub fn undecided(platform: Platform, reason: impl Into<String>) -> Error {
    Error::unknown_outcome(format!("reconcile could not tell: {}", reason.into()))
        .with_platform(platform)
}

/// A reconciliation that cannot tell *yet*: [`undecided`], asking to be checked again at `at`
/// (as its retry-after, at least a second from `now`), when the listing will tell.
pub fn undecided_until(
    platform: Platform,
    reason: impl Into<String>,
    at: OffsetDateTime,
    now: OffsetDateTime,
) -> Error {
    let wait = Duration::try_from(at - now).unwrap_or(Duration::ZERO);
    undecided(platform, reason).with_retry_after(wait.max(Duration::from_secs(1)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const AT: OffsetDateTime = datetime!(2026-12-07 10:00 UTC);

    #[test]
    fn the_window_runs_from_the_skew_before_to_the_span_after() {
        let w = CallWindow::around(AT, Duration::from_secs(5), Duration::from_secs(600));
        assert!(w.contains(AT - Duration::from_secs(5)));
        assert!(w.contains(AT + Duration::from_secs(600)));
        assert!(!w.contains(AT - Duration::from_secs(6)));
        assert!(!w.contains(AT + Duration::from_secs(601)));
    }

    #[test]
    fn candidates_are_one_many_outside_or_none() {
        let listed = [
            (1, "a", true),
            (2, "a", false),
            (3, "b", true),
            (4, "a", true),
        ];
        let text_a = |p: &(i32, &str, bool)| p.1 == "a";
        let inside = |p: &(i32, &str, bool)| p.2;
        assert_eq!(
            candidates(&listed[..3], text_a, inside),
            Candidates::One(&listed[0])
        );
        assert_eq!(
            candidates(&listed, text_a, inside),
            Candidates::Many(vec![&listed[0], &listed[3]])
        );
        assert_eq!(
            candidates(&listed[1..3], text_a, inside),
            Candidates::OnlyOutside(&listed[1])
        );
        assert_eq!(candidates(&listed[2..3], text_a, inside), Candidates::None);
    }

    #[test]
    fn undecided_until_asks_for_at_least_a_second() {
        let e = undecided_until(
            Platform::Facebook,
            "not yet",
            AT,
            AT + Duration::from_secs(9),
        );
        assert_eq!(e.kind(), crate::ErrorKind::UnknownOutcome);
        assert_eq!(e.retry_after(), Some(Duration::from_secs(1)));
        assert_eq!(e.message(), "reconcile could not tell: not yet");
    }
}
