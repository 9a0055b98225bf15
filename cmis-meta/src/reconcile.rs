//! Finding, with reads only, the post a creating call made when its response was lost: the
//! account's recent posts, matched to the call by exact text and by creation time inside the
//! call's window.
//!
//! A wrong match is worse than none, so the rules only narrow: the text must be equal (only the
//! ends trimmed and CRLF read as LF), the post must have been created inside the window, and a
//! second such post makes the answer "ambiguous". Absence is claimed only when the listing
//! covers the window completely, the window closed long enough ago for Meta to list late posts,
//! and no post with the same text exists anywhere in the listing (not even one before our call,
//! which is not ours but would be duplicated by publishing again).

use std::time::Duration;

use cmis_core::reconcile::{Candidates, candidates};
use cmis_core::{Error, Result};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::client::{ApiRequest, MetaClient, Session};

/// How [`reconcile`](cmis_core::Publisher::reconcile) matches a lost call to the account's
/// recent posts. The defaults suit Meta; a sandbox that lists posts at once may shorten
/// `settle`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReconcilePolicy {
    /// How far Meta's clock may be behind ours: the window opens this long before the call
    /// started (Meta's times have one-second resolution).
    pub clock_skew: Duration,
    /// How long after the call started Meta may still have created the post: the client's
    /// timeout and the time Meta keeps working on a request whose client left.
    pub call_span: Duration,
    /// How long after the window closed a post may still be missing from the listing (Meta's
    /// reads are eventually consistent). Absence is claimed only after it.
    pub settle: Duration,
    /// How far before the window the listing reaches, so that an older post with the same text
    /// stops a "not published" answer.
    pub lookback: Duration,
    /// Pages of posts read at most; a listing cut short proves nothing.
    pub max_pages: usize,
    /// Posts per page (`limit`; Meta allows at most 100).
    pub page_size: usize,
}

impl Default for ReconcilePolicy {
    fn default() -> Self {
        Self {
            clock_skew: Duration::from_secs(5),
            call_span: Duration::from_secs(10 * 60),
            settle: Duration::from_secs(10 * 60),
            lookback: Duration::from_secs(60 * 60),
            max_pages: 5,
            page_size: 100,
        }
    }
}

impl ReconcilePolicy {
    /// The default policy.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets how long after the window closed absence may be claimed.
    #[must_use]
    pub fn with_settle(mut self, settle: Duration) -> Self {
        self.settle = settle;
        self
    }

    /// Sets how long after the call started Meta may still have created the post.
    #[must_use]
    pub fn with_call_span(mut self, span: Duration) -> Self {
        self.call_span = span;
        self
    }

    /// The window of a call that started at `started_at`.
    pub(crate) fn window(&self, started_at: OffsetDateTime) -> Window {
        Window::around(started_at, self.clock_skew, self.call_span)
    }
}

/// When a lost call may have created its post.
pub(crate) type Window = cmis_core::reconcile::CallWindow;

/// One post of a listing, reduced to what matching reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Listed {
    pub(crate) id: String,
    pub(crate) text: Option<String>,
    /// `None` when Meta's time could not be read: such a post is never taken as ours.
    pub(crate) created: Option<OffsetDateTime>,
    pub(crate) media_type: Option<String>,
    /// Ids the post's attachments point at (photos of a multi-photo post).
    pub(crate) attached: Vec<String>,
    pub(crate) permalink: Option<String>,
}

/// What a listing says about a lost call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Found {
    /// Exactly one post matches.
    Ours(Listed),
    /// The platform proves there is none.
    Absent,
    /// Cannot tell; the reason says why.
    Unknown(String),
    /// Not in the listing yet, and absence can be claimed from `at` on: ask again then.
    NotYet {
        /// Why it cannot tell now.
        reason: String,
        /// When the listing proves absence.
        at: OffsetDateTime,
    },
}

/// A Graph id given as a string or a number.
pub(crate) fn id_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub(crate) use cmis_core::reconcile::{normalise_text as normalise, undecided, undecided_until};

/// Meta's times: `2026-12-06T10:00:05+0000` (Graph) or RFC 3339.
pub(crate) fn parse_time(raw: &str) -> Option<OffsetDateTime> {
    if let Ok(t) = OffsetDateTime::parse(raw, &Rfc3339) {
        return Some(t);
    }
    let split = raw.len().checked_sub(5)?;
    let (head, offset) = (raw.get(..split)?, raw.get(split..)?);
    let digits = offset.get(1..)?;
    if !(offset.starts_with('+') || offset.starts_with('-'))
        || !digits.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let fixed = format!("{head}{}:{}", offset.get(..3)?, offset.get(3..)?);
    OffsetDateTime::parse(&fixed, &Rfc3339).ok()
}

fn describe(p: &Listed) -> String {
    match p.created {
        Some(t) => format!("{} created {t}", p.id),
        None => format!("{} (creation time unreadable)", p.id),
    }
}

/// Decides from `listed` (complete or not) whether the call in `window` made a post with
/// `text` that `fits` the kind of post it creates.
pub(crate) fn decide(
    listed: &[Listed],
    complete: bool,
    text: &str,
    window: Window,
    now: OffsetDateTime,
    settle: Duration,
    fits: impl Fn(&Listed) -> bool,
) -> Found {
    let ours = normalise(text);
    if ours.is_empty() {
        return Found::Unknown(
            "the post has no text to match and no id of it was stored: it cannot be told apart \
             from the account's other posts"
                .into(),
        );
    }
    let found = candidates(
        listed,
        |p| p.text.as_deref().map(normalise).as_deref() == Some(ours.as_str()),
        |p| p.created.is_some_and(|t| window.contains(t)) && fits(p),
    );
    match found {
        Candidates::One(one) => return Found::Ours(one.clone()),
        Candidates::Many(inside) => {
            let ids: Vec<String> = inside.iter().map(|p| describe(p)).collect();
            return Found::Unknown(format!(
                "ambiguous: {} posts with this text were created between {} and {}: {}",
                inside.len(),
                window.start,
                window.end,
                ids.join(", ")
            ));
        }
        Candidates::OnlyOutside(other) => {
            return Found::Unknown(format!(
                "a post with this text exists ({}) but not as the kind of post this call \
                 creates between {} and {}: it is not taken as this call's, and publishing \
                 again could duplicate it",
                describe(other),
                window.start,
                window.end
            ));
        }
        Candidates::None => {}
    }
    if !complete {
        return Found::Unknown(
            "no matching post among the posts read, but the listing was cut short: absence is \
             not proven"
                .into(),
        );
    }
    let settled_at = window.end + settle;
    if now < settled_at {
        return Found::NotYet {
            reason: format!(
                "no matching post yet; Meta may list a new post late, so absence is claimed \
                 only after {settled_at}"
            ),
            at: settled_at,
        };
    }
    Found::Absent
}

/// Reads the account's posts created since `since` from the edge at `url`, newest first,
/// following the `after` cursor for at most `policy.max_pages` pages. The flag says whether the
/// listing reached `since` (complete).
pub(crate) async fn list_since(
    client: &MetaClient,
    s: Session<'_>,
    url: &str,
    fields: &str,
    since: OffsetDateTime,
    policy: &ReconcilePolicy,
    parse: impl Fn(&Value) -> Option<Listed>,
) -> Result<(Vec<Listed>, bool)> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..policy.max_pages.max(1) {
        let mut req = ApiRequest::get(url.to_owned())
            .query("fields", fields)
            .query("since", since.unix_timestamp().to_string())
            .query("limit", policy.page_size.to_string());
        if let Some(cursor) = &after {
            req = req.query("after", cursor.clone());
        }
        let page = client.read(s, &req).await?;
        let Some(data) = page.get("data").and_then(Value::as_array) else {
            return Err(Error::transient("the post listing has no data array")
                .with_platform(s.account().platform));
        };
        let mut reached_since = false;
        for item in data {
            let Some(p) = parse(item) else {
                return Err(
                    Error::transient(format!("a listed post could not be read: {item}"))
                        .with_platform(s.account().platform),
                );
            };
            if p.created.is_some_and(|t| t < since) {
                reached_since = true;
            }
            out.push(p);
        }
        let next = page.pointer("/paging/next").and_then(Value::as_str);
        let cursor = page
            .pointer("/paging/cursors/after")
            .and_then(Value::as_str);
        match (next, cursor) {
            (None, _) => return Ok((out, true)),
            _ if reached_since => return Ok((out, true)),
            (Some(_), Some(c)) => after = Some(c.to_owned()),
            (Some(_), None) => return Ok((out, false)),
        }
    }
    Ok((out, false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn post(id: &str, text: &str, at: OffsetDateTime) -> Listed {
        Listed {
            id: id.into(),
            text: Some(text.into()),
            created: Some(at),
            media_type: None,
            attached: Vec::new(),
            permalink: None,
        }
    }

    #[test]
    fn meta_times_parse_with_and_without_the_colon() {
        let want = datetime!(2026-12-06 10:00:05 UTC);
        assert_eq!(parse_time("2026-12-06T10:00:05+0000"), Some(want));
        assert_eq!(parse_time("2026-12-06T11:00:05+0100"), Some(want));
        assert_eq!(parse_time("2026-12-06T10:00:05Z"), Some(want));
        assert_eq!(parse_time("2026-12-06T10:00:05"), None);
        assert_eq!(parse_time("é"), None);
    }

    #[test]
    fn only_one_post_inside_the_window_with_the_same_text_is_ours() {
        let policy = ReconcilePolicy::default();
        let start = datetime!(2026-12-06 10:00:00 UTC);
        let w = policy.window(start);
        let now = start + Duration::from_secs(3600);
        let earlier = post("1_1", "Hi", start - Duration::from_secs(600));
        let later = post("1_2", "Hi ", start + Duration::from_secs(2));
        let found = decide(
            &[later.clone(), earlier.clone()],
            true,
            "Hi",
            w,
            now,
            policy.settle,
            |_| true,
        );
        assert_eq!(found, Found::Ours(later.clone()));
        // Only the earlier one: not ours, and not absent either.
        let found = decide(&[earlier], true, "Hi", w, now, policy.settle, |_| true);
        assert!(matches!(found, Found::Unknown(r) if r.contains("not taken")));
        let twin = post("1_3", "Hi", start + Duration::from_secs(30));
        let found = decide(&[later, twin], true, "Hi", w, now, policy.settle, |_| true);
        assert!(matches!(found, Found::Unknown(r) if r.starts_with("ambiguous")));
    }

    #[test]
    fn absence_needs_a_complete_listing_and_a_settled_window() {
        let policy = ReconcilePolicy::default();
        let start = datetime!(2026-12-06 10:00:00 UTC);
        let w = policy.window(start);
        let other = post("1_9", "Something else", start + Duration::from_secs(1));
        let early = start + Duration::from_secs(60);
        let late = w.end + policy.settle;
        let d = |complete, now| {
            decide(
                std::slice::from_ref(&other),
                complete,
                "Hi",
                w,
                now,
                policy.settle,
                |_| true,
            )
        };
        // Not settled yet: ask again once Meta would list it.
        assert!(matches!(d(true, early), Found::NotYet { at, .. } if at == w.end + policy.settle));
        assert!(matches!(d(false, late), Found::Unknown(_)));
        assert_eq!(d(true, late), Found::Absent);
        let empty = decide(&[], true, "  ", w, late, policy.settle, |_| true);
        assert!(matches!(empty, Found::Unknown(_)));
    }
}
