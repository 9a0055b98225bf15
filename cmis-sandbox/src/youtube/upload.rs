//! The resumable `videos.insert` (brief §3, §4, §5): session start with metadata validation
//! and the two budgets, chunk `PUT`s and probes, and the video the last byte creates.

use serde_json::{Value, json};

use super::state::{Inner, YouTubeState, YtError, bad_request, google, text};
use super::{YouTubeSession, YouTubeVideo};
use crate::clock::millis;

/// Chunks other than the last are multiples of this (brief §3).
pub(crate) const CHUNK_UNIT: u64 = 262_144;
const DAY_MS: i64 = 86_400_000;

/// An upload session.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub(crate) id: String,
    channel: String,
    total: Option<u64>,
    received: u64,
    metadata: Value,
    part: String,
    created_ms: i64,
    expired: bool,
    video_id: Option<String>,
    /// The 201 body the last byte got, answered again to later `PUT`s (brief §3 step 3).
    completion: Option<Value>,
}

/// A video.
#[derive(Debug, Clone)]
pub(crate) struct Video {
    pub(crate) id: String,
    pub(crate) channel: String,
    upload_id: String,
    pub(crate) metadata: Value,
    pub(crate) privacy: String,
    pub(crate) created_ms: i64,
    bytes: u64,
    pub(crate) reads_left: u32,
    pub(crate) failure: Option<String>,
    pub(crate) thumbnail_bytes: Option<usize>,
}

/// What a chunk `PUT` or a probe gets.
#[derive(Debug)]
pub(crate) enum ChunkReply {
    /// 308; `Range: bytes=0-{received-1}` when something is stored.
    Incomplete(u64),
    /// 201 with the video resource.
    Complete(Value),
}

fn random_id(n: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    (0..n)
        .map(|_| char::from(ALPHABET[fastrand::usize(..ALPHABET.len())]))
        .collect()
}

pub(crate) fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

fn invalid_title() -> YtError {
    google(
        400,
        "youtube.video",
        "invalidTitle",
        "The request metadata specifies an invalid or empty video title.",
        Some(("body.snippet.title", "other")),
    )
}

/// Checks the metadata (brief §4; `errors.json` → `invalid_title`, `invalid_description`,
/// `invalid_publish_at`, `invalid_video_metadata`; `invalidTags` is constructed).
pub(crate) fn validate(meta: &Value) -> Result<(), YtError> {
    let snippet = meta.get("snippet").unwrap_or(&Value::Null);
    let title = snippet.get("title").and_then(Value::as_str).unwrap_or("");
    if title.trim().is_empty() || title.chars().count() > 100 || title.contains(['<', '>']) {
        return Err(invalid_title());
    }
    let description = snippet.get("description").map_or(Some(""), Value::as_str);
    let Some(description) = description else {
        return Err(invalid_metadata());
    };
    if description.len() > 5000 || description.contains(['<', '>']) {
        return Err(google(
            400,
            "youtube.video",
            "invalidDescription",
            "The request metadata specifies an invalid video description.",
            Some(("body.snippet.description", "other")),
        ));
    }
    if let Some(tags) = snippet.get("tags") {
        let tags = tags.as_array().ok_or_else(invalid_metadata)?;
        let chars: usize = tags
            .iter()
            .map(|t| t.as_str().map_or(usize::MAX / 1024, |s| s.chars().count()))
            .sum::<usize>()
            + tags.len().saturating_sub(1);
        if chars > 500 {
            return Err(google(
                400,
                "youtube.video",
                "invalidTags",
                "The request metadata specifies invalid video keywords.",
                Some(("body.snippet.tags", "other")),
            ));
        }
    }
    let status = meta.get("status").unwrap_or(&Value::Null);
    let privacy = status
        .get("privacyStatus")
        .map_or(Some("public"), Value::as_str);
    if !matches!(privacy, Some("public" | "unlisted" | "private")) {
        return Err(invalid_metadata());
    }
    if let Some(at) = status.get("publishAt").filter(|v| !v.is_null()) {
        let parses = at.as_str().is_some_and(|s| {
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).is_ok()
        });
        // "publishAt can be set only if the privacy status of the video is private" (brief §4).
        if !parses || privacy != Some("private") {
            return Err(google(
                400,
                "youtube.video",
                "invalidPublishAt",
                "The request metadata specifies an invalid scheduled publishing time.",
                Some(("body.status.publishAt", "other")),
            ));
        }
    }
    Ok(())
}

fn invalid_metadata() -> YtError {
    google(
        400,
        "youtube.video",
        "invalidVideoMetadata",
        "The request metadata is invalid.",
        None,
    )
}

/// A parsed `Content-Range`: the inclusive byte range (none for a probe) and the total.
type Range = (Option<(u64, u64)>, Option<u64>);

/// Parses `bytes a-b/N`, `bytes a-b/*` or `bytes */N`.
fn parse_range(v: &str) -> Option<Range> {
    let rest = v.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let total = if total == "*" {
        None
    } else {
        Some(total.parse().ok()?)
    };
    if range == "*" {
        return Some((None, Some(total?)));
    }
    let (a, b) = range.split_once('-')?;
    let (a, b): (u64, u64) = (a.parse().ok()?, b.parse().ok()?);
    (b >= a).then_some((Some((a, b)), total))
}

impl YouTubeState {
    /// Starts a session: counts the call against `uploads_per_day` (403 `quotaExceeded`
    /// beyond it), validates the metadata, checks the channel's 24-hour cap (400
    /// `uploadLimitExceeded`), and returns the `upload_id`.
    pub(crate) fn start_session(
        &self,
        channel: &str,
        part: &str,
        declared: Option<u64>,
        body: &[u8],
    ) -> Result<String, YtError> {
        let now = self.now_ms();
        let today = Self::quota_day(now);
        let mut inner = self.lock();
        inner.insert_calls.push(now);
        let used = inner
            .insert_calls
            .iter()
            .filter(|&&t| Self::quota_day(t) == today)
            .count();
        if used > usize::try_from(self.config().uploads_per_day).unwrap_or(usize::MAX) {
            // `errors.json` → `quota_exceeded`, verbatim.
            return Err(google(
                403,
                "youtube.quota",
                "quotaExceeded",
                "The request cannot be completed because you have exceeded your <a href=\"/youtube/v3/getting-started#quota\">quota</a>.",
                None,
            ));
        }
        let meta: Value = if body.is_empty() {
            json!({})
        } else {
            serde_json::from_slice(body)
                .map_err(|_| google(400, "global", "parseError", "Parse Error", None))?
        };
        validate(&meta)?;
        let recent = inner
            .videos
            .iter()
            .filter(|v| v.channel == channel && v.created_ms > now - DAY_MS)
            .count();
        if recent >= usize::try_from(self.config().channel_uploads_per_day).unwrap_or(usize::MAX) {
            // `errors.json` → `upload_limit_exceeded`, verbatim.
            return Err(google(
                400,
                "youtube.video",
                "uploadLimitExceeded",
                "The user has exceeded the number of videos they may upload.",
                None,
            ));
        }
        let id = format!("AB{}", random_id(30));
        inner.sessions.push(Session {
            id: id.clone(),
            channel: channel.to_owned(),
            total: declared,
            received: 0,
            metadata: meta,
            part: part.to_owned(),
            created_ms: now,
            expired: false,
            video_id: None,
            completion: None,
        });
        Ok(id)
    }

    /// A `PUT` on a session: a chunk (`bytes a-b/N`), a probe (`bytes */N`, empty body) or, with
    /// no `Content-Range`, the whole file at once.
    ///
    /// Unknown or expired sessions get 404 (fixture `upload_session_expired.json`). A
    /// completed session answers its 201 again. A total that differs from the session's, a
    /// body whose length is not the range's, a chunk that does not start at the stored offset
    /// or a non-final chunk that is no multiple of 262 144 bytes gets 400 in plain text.
    pub(crate) fn put_chunk(
        &self,
        upload_id: &str,
        content_range: Option<&str>,
        body_len: u64,
    ) -> Result<ChunkReply, YtError> {
        let now = self.now_ms();
        let lifetime = millis(self.config().session_lifetime);
        let mut inner = self.lock();
        let i = inner
            .sessions
            .iter()
            .position(|s| s.id == upload_id && !s.expired && now < s.created_ms + lifetime)
            .ok_or_else(|| YtError {
                status: 404,
                body: super::state::YtBody::Text("text/html; charset=UTF-8", "Not Found".into()),
                www_authenticate: false,
            })?;
        if let Some(done) = &inner.sessions[i].completion {
            return Ok(ChunkReply::Complete(done.clone()));
        }
        let s = &inner.sessions[i];
        let unparsable = || text(400, "Failed to parse Content-Range header.");
        let (range, total) = match content_range {
            Some(v) => parse_range(v).ok_or_else(unparsable)?,
            None if body_len > 0 => (Some((0, body_len - 1)), Some(body_len)),
            None => return Err(unparsable()),
        };
        if let (Some(t), Some(known)) = (total, s.total)
            && t != known
        {
            return Err(unparsable());
        }
        let total = total.or(s.total);
        let Some((a, b)) = range else {
            if body_len != 0 {
                return Err(text(
                    400,
                    "A status query (bytes */N) must have an empty body.",
                ));
            }
            return Ok(ChunkReply::Incomplete(s.received));
        };
        let len = b - a + 1;
        if body_len != len {
            return Err(text(
                400,
                format!("Content-Range covers {len} bytes but the body has {body_len}."),
            ));
        }
        if a != s.received {
            return Err(text(
                400,
                format!(
                    "The chunk starts at byte {a}; the next byte expected is {}.",
                    s.received
                ),
            ));
        }
        let last = total.is_some_and(|t| b + 1 == t);
        if total.is_some_and(|t| b + 1 > t) {
            return Err(unparsable());
        }
        if !last && len % CHUNK_UNIT != 0 {
            return Err(text(
                400,
                format!(
                    "Chunks other than the last must be multiples of {CHUNK_UNIT} bytes; this one has {len}."
                ),
            ));
        }
        let s = &mut inner.sessions[i];
        s.total = total;
        s.received = b + 1;
        if !last {
            return Ok(ChunkReply::Incomplete(s.received));
        }
        let body = self.create_video(&mut inner, i, now);
        Ok(ChunkReply::Complete(body))
    }

    /// The last byte arrived: the video exists from now on (brief §3, "Idempotency property").
    fn create_video(&self, inner: &mut Inner, i: usize, now: i64) -> Value {
        let slow = std::mem::take(&mut inner.pending_slow_reads);
        let s = inner.sessions[i].clone();
        let mut metadata = s.metadata.clone();
        let requested = metadata
            .pointer("/status/privacyStatus")
            .and_then(Value::as_str)
            .unwrap_or("public")
            .to_owned();
        let privacy = if self.config().audited_project {
            requested
        } else {
            // Unverified projects: "restricted to private viewing mode" (brief §1).
            if let Some(st) = metadata.get_mut("status").and_then(Value::as_object_mut) {
                st.remove("publishAt");
            }
            "private".to_owned()
        };
        let video = Video {
            id: random_id(11),
            channel: s.channel.clone(),
            upload_id: s.id.clone(),
            metadata,
            privacy,
            created_ms: now,
            bytes: s.received,
            reads_left: self.config().processing_reads.saturating_add(slow),
            failure: None,
            thumbnail_bytes: None,
        };
        let parts: Vec<&str> = s.part.split(',').map(str::trim).collect();
        let body = self.video_json(inner, &video, &parts, false);
        inner.sessions[i].video_id = Some(video.id.clone());
        inner.sessions[i].completion = Some(body.clone());
        inner.videos.push(video);
        body
    }

    /// A `youtube#video` resource with the parts asked for (fixture `upload_complete.json`,
    /// `videos_list_*.json`). `reads` says whether processing has been seen finished.
    pub(crate) fn video_json(
        &self,
        inner: &Inner,
        v: &Video,
        parts: &[&str],
        listed: bool,
    ) -> Value {
        let snippet = v.metadata.get("snippet").cloned().unwrap_or(json!({}));
        let status_in = v.metadata.get("status").cloned().unwrap_or(json!({}));
        let channel_title = inner.channel(&v.channel).map_or("", |c| c.title.as_str());
        let mut out = json!({"kind": "youtube#video", "etag": format!("cmisEtag{}", random_id(20)), "id": v.id});
        let processed = v.reads_left == 0;
        if parts.contains(&"snippet") {
            let title = snippet.get("title").cloned().unwrap_or(json!(""));
            let description = snippet.get("description").cloned().unwrap_or(json!(""));
            let thumb = |name: &str, w: u32, h: u32| json!({"url": format!("https://i.ytimg.com/vi/{}/{name}.jpg", v.id), "width": w, "height": h});
            let mut sn = json!({
                "publishedAt": rfc3339(v.created_ms),
                "channelId": v.channel,
                "title": title,
                "description": description,
                "thumbnails": {"default": thumb("default", 120, 90), "medium": thumb("mqdefault", 320, 180), "high": thumb("hqdefault", 480, 360)},
                "channelTitle": channel_title,
                "categoryId": snippet.get("categoryId").cloned().unwrap_or(json!("22")),
                "liveBroadcastContent": "none",
                "localized": {"title": title, "description": description},
            });
            if let Some(tags) = snippet.get("tags") {
                sn["tags"] = tags.clone();
            }
            out["snippet"] = sn;
        }
        if parts.contains(&"status") {
            let upload_status = match (&v.failure, listed && processed) {
                (Some(_), _) => "failed",
                (None, true) => "processed",
                (None, false) => "uploaded",
            };
            let kids = status_in
                .get("selfDeclaredMadeForKids")
                .and_then(Value::as_bool);
            let mut st = json!({
                "uploadStatus": upload_status,
                "privacyStatus": v.privacy,
                "license": status_in.get("license").cloned().unwrap_or(json!("youtube")),
                "embeddable": status_in.get("embeddable").cloned().unwrap_or(json!(true)),
                "publicStatsViewable": true,
                "madeForKids": kids.unwrap_or(false),
            });
            if let Some(k) = kids {
                st["selfDeclaredMadeForKids"] = json!(k);
            }
            if let Some(at) = status_in.get("publishAt").filter(|a| !a.is_null()) {
                st["publishAt"] = at.clone();
            }
            if let Some(reason) = &v.failure {
                st["failureReason"] = json!(reason);
            }
            out["status"] = st;
        }
        if parts.contains(&"processingDetails") {
            out["processingDetails"] = match (&v.failure, processed) {
                (Some(_), _) => {
                    json!({"processingStatus": "failed", "processingFailureReason": "other"})
                }
                (None, true) => json!({
                    "processingStatus": "succeeded",
                    "fileDetailsAvailability": "available",
                    "processingIssuesAvailability": "available",
                    "tagSuggestionsAvailability": "available",
                    "editorSuggestionsAvailability": "available",
                    "thumbnailsAvailability": "available",
                }),
                (None, false) => json!({
                    "processingStatus": "processing",
                    "processingProgress": {"partsTotal": "1000", "partsProcessed": "370", "timeLeftMs": "60000"},
                }),
            };
        }
        out
    }

    pub(crate) fn expire_session(&self, id_or_uri: &str) {
        let id = id_or_uri
            .split_once("upload_id=")
            .map_or(id_or_uri, |(_, rest)| {
                rest.split('&').next().unwrap_or(rest)
            });
        if let Some(s) = self.lock().sessions.iter_mut().find(|s| s.id == id) {
            s.expired = true;
        }
    }

    pub(crate) fn fail_video(&self, id: &str, reason: &str) {
        if let Some(v) = self.lock().videos.iter_mut().find(|v| v.id == id) {
            v.failure = Some(reason.to_owned());
        }
    }

    pub(crate) fn sessions(&self) -> Vec<YouTubeSession> {
        self.lock()
            .sessions
            .iter()
            .map(|s| YouTubeSession {
                upload_id: s.id.clone(),
                channel_id: s.channel.clone(),
                total: s.total,
                received: s.received,
                video_id: s.video_id.clone(),
            })
            .collect()
    }

    pub(crate) fn videos(&self) -> Vec<YouTubeVideo> {
        let inner = self.lock();
        inner
            .videos
            .iter()
            .map(|v| {
                let sn = v.metadata.get("snippet").unwrap_or(&Value::Null);
                let s = |k: &str| sn.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
                YouTubeVideo {
                    id: v.id.clone(),
                    channel_id: v.channel.clone(),
                    upload_id: v.upload_id.clone(),
                    title: s("title"),
                    description: s("description"),
                    tags: sn
                        .get("tags")
                        .and_then(Value::as_array)
                        .map(|t| {
                            t.iter()
                                .filter_map(|x| x.as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default(),
                    privacy_status: v.privacy.clone(),
                    publish_at: v
                        .metadata
                        .pointer("/status/publishAt")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    upload_status: match (&v.failure, v.reads_left) {
                        (Some(_), _) => "failed",
                        (None, 0) => "processed",
                        _ => "uploaded",
                    }
                    .to_owned(),
                    bytes: v.bytes,
                    thumbnail_bytes: v.thumbnail_bytes,
                    published_at: rfc3339(v.created_ms),
                }
            })
            .collect()
    }
}

/// A missing or other `uploadType` (constructed: the fake serves resumable and multipart
/// uploads; `media`, which sends no metadata, is not served).
pub(crate) fn not_resumable() -> YtError {
    bad_request("The fake serves uploadType=resumable and uploadType=multipart only.")
}
