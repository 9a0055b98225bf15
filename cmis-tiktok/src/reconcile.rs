//! Finding a publish whose init answer was lost. Without a `publish_id` TikTok's status cannot
//! be asked; what can be read is the creator's **public** videos (Display API `video/list`,
//! scope `video.list`). A public Direct Post is matched by its exact caption and by a creation
//! time inside init's window.
//!
//! A wrong match is worse than none, so the rules only narrow: the caption must be equal (ends
//! trimmed, CRLF read as LF), the video must have been created inside the window, a second such
//! video makes the answer ambiguous, and a video with this caption created before the window is
//! never taken for ours. Absence is never claimed: TikTok lists a post only once it has been
//! processed and moderated, never a private post, a draft or a failed publish, so a post that is
//! not listed may still exist.

use std::time::Duration;

use cmis_core::reconcile::{CallWindow, Candidates, candidates};
use cmis_core::{Error, Platform, PostId, Receipt, Result, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use url::Url;

use crate::TikTokClient;
use crate::checkpoint::{Initiating, MediaType, Mode};
use crate::client::Endpoint;

/// The scope `video/list` needs.
pub(crate) const SCOPE_VIDEO_LIST: &str = "video.list";

/// How far TikTok's clock may be behind ours (its times are whole seconds).
const CLOCK_SKEW: Duration = Duration::from_secs(5);
/// How long after init was sent TikTok may still have created the post from it: the client's
/// timeout and the time TikTok keeps working on a request whose client left.
const CALL_SPAN: Duration = Duration::from_secs(10 * 60);
/// How far before the window the listing reaches, so that an older video with the same caption
/// is seen (it is never ours, and it makes a match ambiguous to a person).
const LOOKBACK: Duration = Duration::from_secs(60 * 60);
/// Pages read at most (20 videos each).
const MAX_PAGES: usize = 5;
/// Videos per page: TikTok's maximum.
const PAGE_SIZE: u32 = 20;

/// One page of `video/list`.
#[derive(Debug, Deserialize)]
pub(crate) struct VideoPage {
    #[serde(default)]
    pub(crate) videos: Vec<Value>,
    #[serde(default)]
    pub(crate) cursor: Option<i64>,
    #[serde(default)]
    pub(crate) has_more: bool,
}

/// One listed video, reduced to what matching reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Listed {
    pub(crate) id: String,
    pub(crate) created: Option<OffsetDateTime>,
    pub(crate) captions: Vec<String>,
    pub(crate) share_url: Option<String>,
}

fn listed(v: &Value) -> Option<Listed> {
    // Ids are 19-digit integers: read as text, never as a float.
    let id = match v.get("id")? {
        Value::String(s) if !s.is_empty() => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let created = v
        .get("create_time")
        .and_then(Value::as_i64)
        .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok());
    let captions = ["title", "video_description"]
        .iter()
        .filter_map(|k| v.get(*k).and_then(Value::as_str))
        .map(normalise)
        .collect();
    let share_url = v
        .get("share_url")
        .and_then(Value::as_str)
        .map(str::to_owned);
    Some(Listed {
        id,
        created,
        captions,
        share_url,
    })
}

/// How much of a caption the video object carries (`title` and `video_description`).
const LISTED_CAPTION_UNITS: usize = 150;

/// `text` cut to at most `units` UTF-16 code units, between characters.
fn cut_utf16(text: &str, units: usize) -> String {
    let mut used = 0;
    let mut out = String::new();
    for ch in text.chars() {
        used += ch.len_utf16();
        if used > units {
            break;
        }
        out.push(ch);
    }
    out
}

use cmis_core::reconcile::normalise_text as normalise;

impl TikTokClient {
    /// One page of the creator's public videos, newest first, created before `cursor` (Unix
    /// milliseconds) when given.
    pub(crate) async fn list_videos(
        &self,
        access_token: &SecretString,
        cursor: Option<i64>,
    ) -> Result<VideoPage> {
        let mut body = json!({ "max_count": PAGE_SIZE });
        if let Some(c) = cursor {
            body["cursor"] = json!(c);
        }
        self.call(Endpoint::VideoList, access_token, Some(&body))
            .await
    }
}

/// A reconcile that cannot tell, with the reason.
pub(crate) fn undecided(reason: impl Into<String>) -> Error {
    cmis_core::reconcile::undecided(Platform::TikTok, reason)
}

/// Why an initiating checkpoint cannot be looked for among public videos, if it cannot.
pub(crate) fn unlisted_reason(init: &Initiating) -> Option<String> {
    if init.mode != Mode::Direct {
        return Some(
            "init's answer was lost and a draft (inbox) upload is never listed: check the \
             creator's TikTok inbox"
                .into(),
        );
    }
    if init.privacy_level != Some(cmis_core::PrivacyLevel::PublicToEveryone) {
        return Some(
            "init's answer was lost and a post that is not public is never listed: check the \
             creator's profile"
                .into(),
        );
    }
    if init.media == MediaType::Photo {
        return Some(
            "init's answer was lost and TikTok's video listing does not list photo posts: check \
             the creator's profile"
                .into(),
        );
    }
    if normalise(&init.caption).is_empty() {
        return Some(
            "init's answer was lost and the post has no caption to look for among the \
             creator's videos"
                .into(),
        );
    }
    None
}

/// Reads the creator's public videos back to before init's window and decides.
pub(crate) async fn find(
    client: &TikTokClient,
    token: &SecretString,
    init: &Initiating,
    now: OffsetDateTime,
    settle: Duration,
) -> Result<Listed> {
    let window = CallWindow::around(init.started_at, CLOCK_SKEW, CALL_SPAN);
    let since = window.start - LOOKBACK;
    let mut videos = Vec::new();
    let mut cursor = None;
    let mut complete = false;
    for _ in 0..MAX_PAGES {
        let page = client.list_videos(token, cursor).await?;
        for v in &page.videos {
            let Some(l) = listed(v) else {
                return Err(
                    Error::transient(format!("a listed video could not be read: {v}"))
                        .with_platform(Platform::TikTok),
                );
            };
            videos.push(l);
        }
        let reached = videos.iter().any(|l| l.created.is_some_and(|t| t < since));
        match page.cursor {
            _ if reached || !page.has_more => {
                complete = true;
                break;
            }
            Some(c) if Some(c) != cursor => cursor = Some(c),
            _ => break,
        }
    }
    decide(&videos, complete, init, window, now, settle)
}

fn decide(
    videos: &[Listed],
    complete: bool,
    init: &Initiating,
    window: CallWindow,
    now: OffsetDateTime,
    settle: Duration,
) -> Result<Listed> {
    let ours = normalise(&init.caption);
    // The listing gives at most 150 characters of a caption (UTF-16 units, as TikTok counts).
    let shown = cut_utf16(&ours, LISTED_CAPTION_UNITS);
    let found = candidates(
        videos,
        |v| v.captions.iter().any(|c| *c == ours || *c == shown),
        |v| v.created.is_some_and(|t| window.contains(t)),
    );
    match found {
        Candidates::One(one) => return Ok(one.clone()),
        Candidates::Many(inside) => {
            let ids: Vec<&str> = inside.iter().map(|v| v.id.as_str()).collect();
            return Err(undecided(format!(
                "ambiguous: {} public videos with this caption were created between {} and {}: \
                 {}",
                inside.len(),
                window.start,
                window.end,
                ids.join(", ")
            )));
        }
        Candidates::OnlyOutside(other) => {
            return Err(undecided(format!(
                "init's answer was lost; video {} has this caption but was not created in \
                 init's window ({} to {}), so it is not taken for this publish",
                other.id, window.start, window.end
            )));
        }
        Candidates::None => {}
    }
    let listed_from = init.started_at + settle;
    let why = if complete {
        "no public video with this caption is listed"
    } else {
        "no public video with this caption among those read (the listing was cut short)"
    };
    let err = undecided(format!(
        "init's answer was lost and {why}; TikTok lists a post only once it is processed and \
         moderated, and never a failed one, so absence is not proven: check the creator's \
         profile"
    ));
    if now < listed_from {
        let wait = Duration::try_from(listed_from - now).unwrap_or(Duration::ZERO);
        return Err(err.with_retry_after(wait.max(Duration::from_secs(1))));
    }
    Err(err)
}

/// The receipt of a video found in the listing.
pub(crate) fn receipt(target: &cmis_core::Target, init: &Initiating, video: &Listed) -> Receipt {
    let mut r = Receipt::new(
        Platform::TikTok,
        target.account.account.clone(),
        PostId::new(video.id.clone()),
    )
    .with_published_at(video.created.unwrap_or(init.started_at));
    let link = video.share_url.clone().or_else(|| {
        init.creator_username
            .as_deref()
            .filter(|u| !u.is_empty())
            .map(|u| format!("https://www.tiktok.com/@{u}/video/{}", video.id))
    });
    if let Some(url) = link.and_then(|l| Url::parse(&l).ok()) {
        r = r.with_permalink(url);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const START: OffsetDateTime = datetime!(2026-12-06 10:00:00 UTC);

    fn init(caption: &str) -> Initiating {
        Initiating {
            started_at: START,
            mode: Mode::Direct,
            media: MediaType::Video,
            privacy_level: Some(cmis_core::PrivacyLevel::PublicToEveryone),
            creator_username: Some("maker".into()),
            caption: caption.into(),
            file_upload: false,
            pulled: Vec::new(),
        }
    }

    fn video(id: &str, caption: &str, at: OffsetDateTime) -> Listed {
        Listed {
            id: id.into(),
            created: Some(at),
            captions: vec![normalise(caption)],
            share_url: None,
        }
    }

    fn window() -> CallWindow {
        CallWindow::around(START, CLOCK_SKEW, CALL_SPAN)
    }

    fn run(videos: &[Listed], complete: bool) -> Result<Listed> {
        decide(
            videos,
            complete,
            &init("Hi\r\n"),
            window(),
            START + Duration::from_secs(3600),
            Duration::from_secs(60),
        )
    }

    #[test]
    fn one_video_with_the_caption_in_the_window_is_ours() {
        let v = video("7300000000000000001", "Hi", START + Duration::from_secs(20));
        assert_eq!(run(std::slice::from_ref(&v), true).unwrap(), v);
    }

    #[test]
    fn an_earlier_video_with_the_same_caption_is_never_taken() {
        let earlier = video("1", "Hi", START - Duration::from_secs(600));
        let err = run(&[earlier], true).unwrap_err();
        assert!(err.to_string().contains("not taken"), "{err}");
    }

    #[test]
    fn two_videos_in_the_window_are_ambiguous() {
        let a = video("1", "Hi", START + Duration::from_secs(1));
        let b = video("2", "Hi", START + Duration::from_secs(2));
        let err = run(&[a, b], true).unwrap_err();
        assert!(err.to_string().contains("ambiguous"), "{err}");
    }

    #[test]
    fn absence_is_never_claimed_and_asks_again_only_before_the_settling_time() {
        let other = video("1", "Other", START + Duration::from_secs(1));
        let late = run(std::slice::from_ref(&other), true).unwrap_err();
        assert_eq!(late.kind(), cmis_core::ErrorKind::UnknownOutcome);
        assert_eq!(late.retry_after(), None);
        let early = decide(
            &[other],
            true,
            &init("Hi"),
            window(),
            START + Duration::from_secs(10),
            Duration::from_secs(60),
        )
        .unwrap_err();
        assert_eq!(early.retry_after(), Some(Duration::from_secs(50)));
    }

    #[test]
    fn a_long_caption_matches_its_listed_first_150_utf16_units() {
        let long = "🚀".repeat(100);
        let shown = "🚀".repeat(75);
        assert_eq!(cut_utf16(&long, 150), shown);
        let v = video("1", &shown, START + Duration::from_secs(2));
        let found = decide(
            std::slice::from_ref(&v),
            true,
            &init(&long),
            window(),
            START + Duration::from_secs(3600),
            Duration::from_secs(60),
        );
        assert_eq!(found.unwrap(), v);
    }

    #[test]
    fn ids_stay_exact_and_unreadable_entries_are_refused() {
        let v = serde_json::json!({"id": 7300000000000000123_u64, "create_time": 1_796_000_000});
        assert_eq!(listed(&v).unwrap().id, "7300000000000000123");
        assert!(listed(&serde_json::json!({"title": "x"})).is_none());
    }

    #[test]
    fn drafts_private_and_photo_posts_are_not_looked_for() {
        let mut i = init("Hi");
        assert!(unlisted_reason(&i).is_none());
        i.privacy_level = Some(cmis_core::PrivacyLevel::SelfOnly);
        assert!(unlisted_reason(&i).unwrap().contains("not public"));
        let mut d = init("Hi");
        d.mode = Mode::Inbox;
        assert!(unlisted_reason(&d).unwrap().contains("inbox"));
    }
}
