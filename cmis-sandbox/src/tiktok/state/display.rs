//! The Display API's reads of a creator's public videos: `POST /v2/video/list/` and
//! `POST /v2/video/query/`, both under the `video.list` scope ("Read a user's public videos").
//!
//! Sources: List Videos (<https://developers.tiktok.com/doc/tiktok-api-v2-video-list/>), Query
//! Videos (<https://developers.tiktok.com/doc/tiktok-api-v2-video-query/>), Video Object
//! (<https://developers.tiktok.com/doc/tiktok-api-v2-video-object>), Error Handling
//! (<https://developers.tiktok.com/doc/tiktok-api-v2-error-handling/>) and Rate Limits
//! (<https://developers.tiktok.com/docs/en/tiktok-api-v2-rate-limit>).
//!
//! - **What is listed**: "the given user's public TikTok video posts, sorted by `create_time` in
//!   descending order". Here: Direct Post videos posted `PUBLIC_TO_EVERYONE` that reached
//!   `PUBLISH_COMPLETE`, under the same id as their `publicaly_available_post_id`. `SELF_ONLY`,
//!   friends-only and follower-only posts, inbox drafts, failed, cancelled and still-processing
//!   publishes are never listed. **Photo posts are not listed**: the pages speak only of video
//!   posts and say nothing of photos.
//! - **Fields**: the `fields` query parameter names the video object's fields to return, and only
//!   those are returned. Query Videos marks it required; List Videos' example sends it too. A
//!   missing or empty `fields`, or a name not among the video object's fields, is refused with
//!   `invalid_params` ("One or more fields in request is invalid"). The pages do not say what
//!   TikTok does with an unknown name (Query Videos' own example lists `id,title,fps`); the
//!   sandbox refuses it so that a misspelt field fails loudly instead of silently missing.
//! - **Values**: `id` is a string; `create_time` is Unix **seconds**, the moment the post reached
//!   `PUBLISH_COMPLETE` on the sandbox's clock (moved back by [`TikTokState::age_publish`]);
//!   `title` and `video_description` are the caption the video was posted with (`post_info.title`),
//!   cut to the documented "Max length: 150" (UTF-16 units); `cover_image_url` carries an
//!   `x-expires` six hours ahead (the documented TTL); `share_url` and `embed_link` follow the
//!   shapes TikTok's examples show. The sandbox does not decode media, so `duration`, `height` and
//!   `width` are 0. The counters (`view_count`, `like_count`, `comment_count`, `share_count`)
//!   are current lifetime counts ("no history"): 0 until [`InsightsConfig::delay`] after the
//!   video went live, then growing with its age from the planted curve of
//!   [`InsightsConfig`](crate::InsightsConfig); they never decrease.
//!
//! [`InsightsConfig::delay`]: crate::InsightsConfig::delay
//! - **Paging**: `max_count` defaults to 10, at most 20; anything outside 1–20 is refused with
//!   `invalid_params`. `cursor` is a UTC Unix time in **milliseconds**: only videos posted before
//!   it are returned. A missing, `null` or `0` cursor starts from the newest video (TikTok's v1
//!   example sends `0` for the first page). The answer's `cursor` is the posting time in
//!   milliseconds of the last video returned (or the cursor given, when none is); `has_more` says
//!   whether older videos remain. Videos posted in the same millisecond share one cursor
//!   position, as with any timestamp cursor.
//! - **Query**: `filters.video_ids` holds 1 to 20 ids (strings, as in the example); more, none or
//!   non-strings are `invalid_params`. Only the caller's own listable videos come back, in the
//!   order asked, each once; other ids are left out without an error.
//!
//! Both reads are read-only: they change no state.

use serde_json::{Map, Value, json};
use tokio::time::Instant;

use super::{ApiError, Inner, PublishRecord, TikTokState, api, public_post_id};
use crate::tiktok::PublishKind;

/// The video object's fields (Video Object page, plus `is_aigc`, newer than most copies of it).
const VIDEO_FIELDS: &[&str] = &[
    "id",
    "create_time",
    "cover_image_url",
    "share_url",
    "video_description",
    "duration",
    "height",
    "width",
    "title",
    "embed_html",
    "embed_link",
    "like_count",
    "comment_count",
    "share_count",
    "view_count",
    "is_aigc",
];
/// "Default is 10. Maximum is 20."
const DEFAULT_MAX_COUNT: usize = 10;
const MAX_MAX_COUNT: i64 = 20;
/// "Up to 20 video IDs can be included per request."
const MAX_QUERY_IDS: usize = 20;
/// `title` and `video_description`: "Max length: 150".
const MAX_TEXT_UTF16: usize = 150;
/// `cover_image_url`: "the link has a TTL of 6 hours".
const COVER_TTL_SECS: i64 = 6 * 3600;

fn invalid(message: impl Into<String>) -> ApiError {
    api(400, "invalid_params", message)
}

/// Parses the `fields` query parameter: comma-separated names of the video object's fields, in
/// the order given, each once.
pub(super) fn parse_fields(raw: Option<&str>) -> Result<Vec<&'static str>, ApiError> {
    let mut fields = Vec::new();
    for name in raw.unwrap_or("").split(',').map(str::trim) {
        if name.is_empty() {
            continue;
        }
        let Some(known) = VIDEO_FIELDS.iter().find(|f| **f == name) else {
            return Err(invalid(format!(
                "Invalid field \"{name}\": fields must be among {}.",
                VIDEO_FIELDS.join(",")
            )));
        };
        if !fields.contains(known) {
            fields.push(*known);
        }
    }
    if fields.is_empty() {
        return Err(invalid(
            "fields is required: the video object's fields to return, comma-separated.",
        ));
    }
    Ok(fields)
}

/// `s` cut to at most `max` UTF-16 units, never inside a surrogate pair.
fn truncate_utf16(s: &str, max: usize) -> &str {
    let mut units = 0;
    for (i, c) in s.char_indices() {
        units += c.len_utf16();
        if units > max {
            return &s[..i];
        }
    }
    s
}

/// The body as a JSON object (an empty body is `{}`).
fn object(body: &Value) -> Result<&Map<String, Value>, ApiError> {
    body.as_object()
        .ok_or_else(|| invalid("The request body must be a JSON object."))
}

/// `max_count`: 1 to 20, 10 when absent.
fn max_count(body: &Map<String, Value>) -> Result<usize, ApiError> {
    match body.get("max_count") {
        None | Some(Value::Null) => Ok(DEFAULT_MAX_COUNT),
        Some(v) => v
            .as_i64()
            .filter(|n| (1..=MAX_MAX_COUNT).contains(n))
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| {
                invalid(format!(
                    "max_count must be an integer from 1 to 20, not {v}."
                ))
            }),
    }
}

/// `cursor`: a Unix time in milliseconds; `None` (newest first) when absent, `null` or 0.
fn cursor(body: &Map<String, Value>) -> Result<Option<i64>, ApiError> {
    match body.get("cursor") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_i64() {
            Some(0) => Ok(None),
            Some(ms) if ms > 0 => Ok(Some(ms)),
            _ => Err(invalid(format!(
                "cursor must be a UTC Unix timestamp in milliseconds (int64), not {v}."
            ))),
        },
    }
}

/// A video `video/list` shows: a public, complete Direct Post video.
struct Listed<'a> {
    record: &'a PublishRecord,
    id: u64,
    /// When it was posted, Unix milliseconds.
    posted_ms: i64,
}

impl TikTokState {
    /// `open_id`'s listable videos, newest first (by posting time, then by publish order).
    fn listable<'a>(&self, inner: &'a Inner, open_id: &str, now: Instant) -> Vec<Listed<'a>> {
        let processing = self.config().processing_time;
        let mut videos: Vec<Listed<'a>> = inner
            .publishes
            .iter()
            .filter(|r| r.open_id == open_id && r.kind == PublishKind::DirectVideo)
            .filter_map(|r| {
                let id = public_post_id(r, processing, now)?;
                // Complete implies the media arrived; the post went live when processing ended.
                let live = r.media_complete_at? + processing + r.extra_processing;
                let aged = i64::try_from(r.aged.as_millis()).unwrap_or(i64::MAX);
                Some(Listed {
                    record: r,
                    id,
                    posted_ms: self.unix_ms(live).saturating_sub(aged),
                })
            })
            .collect();
        videos.sort_by_key(|v| std::cmp::Reverse((v.posted_ms, v.record.seq)));
        videos
    }

    /// The video object of `v` with only `fields`.
    fn video_object(&self, inner: &Inner, v: &Listed<'_>, fields: &[&str], now_ms: i64) -> Value {
        let client_key = self.config().client_key;
        let username = inner
            .creators
            .get(&v.record.open_id)
            .map_or(v.record.open_id.as_str(), |c| c.username.as_str());
        let id = v.id;
        let page = format!("https://www.tiktok.com/@{username}/video/{id}");
        let tracking = format!("utm_campaign=tt4d_open_api&utm_source={client_key}");
        let caption = truncate_utf16(v.record.title.as_deref().unwrap_or(""), MAX_TEXT_UTF16);
        let is_aigc = v.record.request["post_info"]["is_aigc"]
            .as_bool()
            .unwrap_or(false);
        let mut out = Map::new();
        for &field in fields {
            let value = match field {
                "id" => json!(id.to_string()),
                "create_time" => json!(v.posted_ms.div_euclid(1000)),
                "cover_image_url" => json!(format!(
                    "{}/cover/{id}.jpeg?x-expires={}",
                    self.base_url(),
                    now_ms.div_euclid(1000) + COVER_TTL_SECS
                )),
                "share_url" => json!(format!("{page}?{tracking}")),
                "title" | "video_description" => json!(caption),
                "embed_link" => json!(format!("https://www.tiktok.com/player/v1/{id}?{tracking}")),
                "embed_html" => json!(format!(
                    "<blockquote class=\"tiktok-embed\" cite=\"{page}\" data-video-id=\"{id}\" \
                     style=\"max-width: 605px;min-width: 325px;\"><section></section></blockquote> \
                     <script async src=\"https://www.tiktok.com/embed.js\"></script>"
                )),
                "is_aigc" => json!(is_aigc),
                "view_count" | "like_count" | "comment_count" | "share_count" => {
                    json!(self.counter(&v.record.open_id, id, v.posted_ms, now_ms, field))
                }
                // duration, height and width.
                _ => json!(0),
            };
            out.insert(field.to_owned(), value);
        }
        Value::Object(out)
    }

    /// A lifetime counter of video `id`, posted at `posted_ms`, read at `now_ms`.
    fn counter(&self, open_id: &str, id: u64, posted_ms: i64, now_ms: i64, field: &str) -> u64 {
        let config = self.config().insights;
        let (posted, now) = (posted_ms.div_euclid(1000), now_ms.div_euclid(1000));
        if !config.available(posted, now) {
            return 0;
        }
        let c = config.counters(open_id, &id.to_string(), posted, now);
        match field {
            "view_count" => c.views,
            "like_count" => c.likes,
            "comment_count" => c.comments,
            _ => c.shares,
        }
    }

    /// `POST /v2/video/list/`: a page of `open_id`'s public videos, newest first.
    pub(crate) fn video_list(
        &self,
        open_id: &str,
        fields: Option<&str>,
        body: &Value,
    ) -> Result<Value, ApiError> {
        let fields = parse_fields(fields)?;
        let body = object(body)?;
        let max_count = max_count(body)?;
        let before = cursor(body)?;
        let now = Instant::now();
        let now_ms = self.unix_ms(now);
        let inner = self.lock();
        let mut older = self
            .listable(&inner, open_id, now)
            .into_iter()
            .filter(|v| before.is_none_or(|c| v.posted_ms < c))
            .peekable();
        let mut page = Vec::with_capacity(max_count);
        let mut next_cursor = before.unwrap_or(now_ms);
        while page.len() < max_count {
            let Some(v) = older.next() else { break };
            next_cursor = v.posted_ms;
            page.push(self.video_object(&inner, &v, &fields, now_ms));
        }
        let has_more = older.peek().is_some();
        Ok(json!({ "videos": page, "cursor": next_cursor, "has_more": has_more }))
    }

    /// `POST /v2/video/query/`: those of `filters.video_ids` that are `open_id`'s public videos.
    pub(crate) fn video_query(
        &self,
        open_id: &str,
        fields: Option<&str>,
        body: &Value,
    ) -> Result<Value, ApiError> {
        let fields = parse_fields(fields)?;
        let body = object(body)?;
        let ids = body
            .get("filters")
            .and_then(|f| f.get("video_ids"))
            .and_then(Value::as_array)
            .ok_or_else(|| invalid("filters.video_ids is required."))?;
        if ids.is_empty() || ids.len() > MAX_QUERY_IDS {
            return Err(invalid(format!(
                "filters.video_ids must hold 1 to 20 ids, not {}.",
                ids.len()
            )));
        }
        let mut wanted: Vec<&str> = Vec::with_capacity(ids.len());
        for id in ids {
            let id = id
                .as_str()
                .ok_or_else(|| invalid(format!("video_ids must be strings, not {id}.")))?;
            if !wanted.contains(&id) {
                wanted.push(id);
            }
        }
        let now = Instant::now();
        let now_ms = self.unix_ms(now);
        let inner = self.lock();
        let own = self.listable(&inner, open_id, now);
        let videos: Vec<Value> = wanted
            .iter()
            .filter_map(|w| own.iter().find(|v| v.id.to_string() == *w))
            .map(|v| self.video_object(&inner, v, &fields, now_ms))
            .collect();
        Ok(json!({ "videos": videos }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_the_video_objects_and_required() {
        assert_eq!(
            parse_fields(Some("id, title,id,,create_time")).unwrap(),
            vec!["id", "title", "create_time"]
        );
        for bad in [None, Some(""), Some(" , "), Some("id,fps"), Some("ID")] {
            let e = parse_fields(bad).unwrap_err();
            assert_eq!((e.status, e.code), (400, "invalid_params"), "{bad:?}");
        }
    }

    #[test]
    fn captions_are_cut_at_150_utf16_units_between_characters() {
        let long = "a".repeat(151);
        assert_eq!(truncate_utf16(&long, 150).len(), 150);
        assert_eq!(truncate_utf16("short", 150), "short");
        // 😀 is two UTF-16 units: 149 'a's and one emoji make 151, so the emoji goes whole.
        let edge = format!("{}😀", "a".repeat(149));
        assert_eq!(truncate_utf16(&edge, 150), "a".repeat(149));
        let fits = format!("{}😀", "a".repeat(148));
        assert_eq!(truncate_utf16(&fits, 150), fits);
    }

    #[test]
    fn max_count_and_cursor_follow_the_list_page() {
        let body = |v: Value| v.as_object().unwrap().clone();
        assert_eq!(max_count(&body(json!({}))).unwrap(), 10);
        assert_eq!(max_count(&body(json!({"max_count": 20}))).unwrap(), 20);
        assert_eq!(max_count(&body(json!({"max_count": 1}))).unwrap(), 1);
        for bad in [json!(0), json!(21), json!(-1), json!("5"), json!(2.5)] {
            assert!(
                max_count(&body(json!({ "max_count": bad }))).is_err(),
                "{bad}"
            );
        }
        assert_eq!(cursor(&body(json!({}))).unwrap(), None);
        assert_eq!(cursor(&body(json!({"cursor": 0}))).unwrap(), None);
        assert_eq!(
            cursor(&body(json!({"cursor": 1_643_332_803_000i64}))).unwrap(),
            Some(1_643_332_803_000)
        );
        for bad in [json!(-1), json!("1643332803000"), json!(1.5)] {
            assert!(cursor(&body(json!({ "cursor": bad }))).is_err(), "{bad}");
        }
    }
}
