//! The fake TikTok's state and rules, apart from HTTP.

mod caps;
mod display;
mod init;
mod oauth;
mod transfer;

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cmis_core::SecretString;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::pull::{self, Pull, PullOutcome};
use super::{Creator, IssuedTokens, PublishKind, TikTokConfig, TikTokEndpoint, TikTokPublish};
use crate::fault::Faults;
use crate::http::token;

/// TikTok's chunk rules (media transfer guide), read in the window that holds under either reading
/// of "MB": chunks of 5 MiB to 64 000 000 bytes, the last up to 128 000 000, 1 to 1000 chunks.
const MIN_CHUNK: u64 = 5 * 1024 * 1024;
const MAX_CHUNK: u64 = 64_000_000;
const MAX_LAST_CHUNK: u64 = 128_000_000;
const MAX_CHUNKS: u64 = 1000;
const MAX_VIDEO_TITLE_UTF16: usize = 2200;
const MAX_PHOTO_TITLE_UTF16: usize = 90;
const MAX_PHOTO_DESCRIPTION_UTF16: usize = 4000;
const MAX_PHOTOS: usize = 35;
/// The first public post id; a publish's id is this plus its sequence number, so ids exceed 2^53
/// as TikTok's 19-digit ids do.
const POST_ID_BASE: u64 = 7_439_182_734_619_283_746;

/// An API error: HTTP status, `error.code`, `error.message`.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub(crate) status: u16,
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

fn api(status: u16, code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError {
        status,
        code,
        message: message.into(),
    }
}

/// An OAuth error: HTTP status, `error`, `error_description`.
#[derive(Debug)]
pub(crate) struct OAuthError {
    pub(crate) status: u16,
    pub(crate) error: &'static str,
    pub(crate) description: String,
}

fn oauth(status: u16, error: &'static str, description: impl Into<String>) -> OAuthError {
    OAuthError {
        status,
        error,
        description: description.into(),
    }
}

/// An upload chunk's answer.
#[derive(Debug)]
pub(crate) enum UploadReply {
    /// 206 or 201 with `Content-Range: bytes 0-{last}/{total}`.
    Accepted { done: bool, last: u64, total: u64 },
    /// 416 with the progress so far.
    RangeMismatch { uploaded: u64, total: u64 },
    /// 400, 403 or 404 with a message.
    Refused { status: u16, message: String },
}

#[derive(Debug)]
struct AccessInfo {
    open_id: String,
    scopes: BTreeSet<String>,
    expires_at: Instant,
    revoked: bool,
}

#[derive(Debug)]
struct RefreshInfo {
    open_id: String,
    scopes: BTreeSet<String>,
    expires_at: Instant,
    /// Rotated away: "the previous refresh token stops working once a new one is issued".
    replaced: bool,
}

#[derive(Debug)]
struct CodeInfo {
    open_id: String,
    scopes: BTreeSet<String>,
    redirect_uri: String,
    challenge: Option<String>,
    expires_at: Instant,
}

#[derive(Debug)]
struct Upload {
    video_size: u64,
    chunk_size: u64,
    chunk_count: u64,
    received: u64,
    token: String,
    expires_at: Instant,
    content_type: Option<String>,
}

#[derive(Debug)]
struct PublishRecord {
    publish_id: String,
    open_id: String,
    kind: PublishKind,
    privacy_level: Option<String>,
    title: Option<String>,
    description: Option<String>,
    urls: Vec<String>,
    upload: Option<Upload>,
    /// When the media arrived in full; processing ends `processing_time` later.
    media_complete_at: Option<Instant>,
    /// Bytes downloaded for `PULL_FROM_URL` ([`TikTokConfig::fetch_pulled_media`]).
    downloaded: u64,
    /// A `PULL_FROM_URL` download failed: the publish is `FAILED`.
    pull_failed: bool,
    extra_processing: Duration,
    cancelled: bool,
    /// The user disconnected the app (revoke) while it processed: `FAILED`, `auth_removed`.
    auth_removed: bool,
    /// `FAILED` with this reason once processed ([`TikTokState::fail_next_publish`]).
    forced_failure: Option<String>,
    /// When init created it, for the 24-hour caps.
    created_at: Instant,
    /// The publish's sequence number, which fixes its public post id.
    seq: u64,
    /// How much earlier than its completion the post claims to have been posted
    /// ([`TikTokState::age_publish`]).
    aged: Duration,
    request: Value,
}

#[derive(Debug, Default)]
struct Inner {
    creators: HashMap<String, Creator>,
    access: HashMap<String, AccessInfo>,
    refresh: HashMap<String, RefreshInfo>,
    codes: HashMap<String, CodeInfo>,
    publishes: Vec<PublishRecord>,
    by_publish_id: HashMap<String, usize>,
    by_upload_id: HashMap<String, usize>,
    calls: HashMap<(String, TikTokEndpoint), VecDeque<Instant>>,
    refreshes: u64,
    next_id: u64,
    pending_slowdown: Duration,
    /// The `fail_reason` the next publish ends with, if set.
    pending_failure: Option<String>,
}

/// The fake TikTok's state.
#[derive(Debug)]
pub(crate) struct TikTokState {
    config: Mutex<TikTokConfig>,
    base_url: OnceLock<String>,
    inner: Mutex<Inner>,
    pub(crate) faults: Faults<TikTokEndpoint>,
    /// The sandbox's clock is tokio's [`Instant`] (pausable in tests); this pairs one of its
    /// instants with the Unix time in milliseconds, to turn instants into TikTok's Unix times.
    epoch: (Instant, i64),
}

/// The status `status/fetch` reports for a record at `now`.
fn status_of(
    r: &PublishRecord,
    processing: Duration,
    now: Instant,
) -> (&'static str, Option<&str>) {
    if r.cancelled {
        return ("FAILED", Some("publish_cancelled"));
    }
    if r.auth_removed {
        return ("FAILED", Some("auth_removed"));
    }
    if r.pull_failed {
        let reason = match r.kind {
            PublishKind::DirectVideo | PublishKind::InboxVideo => "video_pull_failed",
            PublishKind::DirectPhoto | PublishKind::InboxPhoto => "photo_pull_failed",
        };
        return ("FAILED", Some(reason));
    }
    let processing_status = if r.upload.is_some() {
        "PROCESSING_UPLOAD"
    } else {
        "PROCESSING_DOWNLOAD"
    };
    match r.media_complete_at {
        Some(at) if now >= at + processing + r.extra_processing => match r.kind {
            _ if r.forced_failure.is_some() => ("FAILED", r.forced_failure.as_deref()),
            PublishKind::DirectVideo | PublishKind::DirectPhoto => ("PUBLISH_COMPLETE", None),
            PublishKind::InboxVideo | PublishKind::InboxPhoto => ("SEND_TO_USER_INBOX", None),
        },
        _ => (processing_status, None),
    }
}

/// The post's public id (`publicaly_available_post_id`): only a `PUBLIC_TO_EVERYONE` post that
/// reached `PUBLISH_COMPLETE` has one; `SELF_ONLY` and friends-only posts never do, nor drafts.
fn public_post_id(r: &PublishRecord, processing: Duration, now: Instant) -> Option<u64> {
    let (status, _) = status_of(r, processing, now);
    (status == "PUBLISH_COMPLETE" && r.privacy_level.as_deref() == Some("PUBLIC_TO_EVERYONE"))
        .then(|| POST_ID_BASE + r.seq)
}

fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

impl TikTokState {
    pub(crate) fn new(config: TikTokConfig) -> Self {
        Self {
            config: Mutex::new(config),
            base_url: OnceLock::new(),
            inner: Mutex::new(Inner {
                next_id: 1,
                ..Inner::default()
            }),
            faults: Faults::new(),
            epoch: (Instant::now(), system_unix_ms()),
        }
    }

    /// `at` on the sandbox's clock as a Unix time in milliseconds.
    fn unix_ms(&self, at: Instant) -> i64 {
        let (epoch, epoch_ms) = self.epoch;
        let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        if at >= epoch {
            epoch_ms.saturating_add(ms(at - epoch))
        } else {
            epoch_ms.saturating_sub(ms(epoch - at))
        }
    }

    pub(crate) fn age_publish(&self, publish_id: &str, age: Duration) {
        let mut inner = self.lock();
        if let Some(&index) = inner.by_publish_id.get(publish_id) {
            inner.publishes[index].aged += age;
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn config(&self) -> TikTokConfig {
        self.config
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub(crate) fn set_base_url(&self, url: String) {
        let _ = self.base_url.set(url);
    }

    pub(crate) fn base_url(&self) -> String {
        self.base_url.get().cloned().unwrap_or_default()
    }

    pub(crate) fn add_creator(&self, creator: Creator) {
        self.lock()
            .creators
            .insert(creator.open_id.clone(), creator);
    }

    fn issue_locked(
        &self,
        inner: &mut Inner,
        open_id: &str,
        scopes: BTreeSet<String>,
    ) -> IssuedTokens {
        let config = self.config();
        let now = Instant::now();
        let access = token("act.");
        let refresh = token("rft.");
        inner.access.insert(
            access.clone(),
            AccessInfo {
                open_id: open_id.to_owned(),
                scopes: scopes.clone(),
                expires_at: now + config.access_token_lifetime,
                revoked: false,
            },
        );
        inner.refresh.insert(
            refresh.clone(),
            RefreshInfo {
                open_id: open_id.to_owned(),
                scopes: scopes.clone(),
                expires_at: now + config.refresh_token_lifetime,
                replaced: false,
            },
        );
        IssuedTokens {
            open_id: open_id.to_owned(),
            access_token: SecretString::from(access),
            refresh_token: SecretString::from(refresh),
            expires_in: config.access_token_lifetime,
            refresh_expires_in: config.refresh_token_lifetime,
            scopes: scopes.into_iter().collect(),
        }
    }

    pub(crate) fn issue_tokens(&self, open_id: &str, scopes: &[&str]) -> IssuedTokens {
        let scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
        let mut inner = self.lock();
        self.issue_locked(&mut inner, open_id, scopes)
    }

    pub(crate) fn authorization_code(
        &self,
        open_id: &str,
        scopes: &[&str],
        redirect_uri: &str,
        challenge: Option<&str>,
    ) -> String {
        let code = token("code.");
        self.lock().codes.insert(
            code.clone(),
            CodeInfo {
                open_id: open_id.to_owned(),
                scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
                redirect_uri: redirect_uri.to_owned(),
                challenge: challenge.map(str::to_owned),
                expires_at: Instant::now() + Duration::from_secs(600),
            },
        );
        code
    }

    pub(crate) fn refresh_count(&self) -> u64 {
        self.lock().refreshes
    }

    pub(crate) fn expire_access_token(&self, access_token: &str) {
        if let Some(a) = self.lock().access.get_mut(access_token) {
            a.expires_at = Instant::now();
        }
    }

    pub(crate) fn slow_next_publish(&self, extra: Duration) {
        self.lock().pending_slowdown += extra;
    }

    /// Counts a call against the per-token sliding one-minute window.
    pub(crate) fn rate_limit(&self, token: &str, endpoint: TikTokEndpoint) -> Result<(), ApiError> {
        let limit = match endpoint {
            TikTokEndpoint::VideoInit | TikTokEndpoint::InboxInit | TikTokEndpoint::ContentInit => {
                6
            }
            TikTokEndpoint::CreatorInfo => 20,
            TikTokEndpoint::Status => 30,
            // "/v2/video/list/ 600", "/v2/video/query/ 600" (Rate Limits page). The page does not
            // say per what; counted per access token like the others.
            TikTokEndpoint::VideoList | TikTokEndpoint::VideoQuery => 600,
            _ => return Ok(()),
        };
        let now = Instant::now();
        let mut inner = self.lock();
        let window = inner.calls.entry((token.to_owned(), endpoint)).or_default();
        while window
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(60))
        {
            window.pop_front();
        }
        if window.len() >= limit {
            return Err(api(
                429,
                "rate_limit_exceeded",
                "API rate limit was exceeded, please try again later.",
            ));
        }
        window.push_back(now);
        Ok(())
    }

    pub(crate) fn creator_info(&self, open_id: &str) -> Result<Value, ApiError> {
        let inner = self.lock();
        // "Errors returned with HTTP 200": the creator cannot post now.
        if let Some(mut refusal) = self.posting_refusal(&inner, open_id, PublishKind::DirectVideo) {
            refusal.status = 200;
            return Err(refusal);
        }
        let Some(c) = inner.creators.get(open_id) else {
            return Err(api(
                200,
                "spam_risk_user_banned_from_posting",
                "The user cannot post.",
            ));
        };
        Ok(json!({
            "creator_avatar_url": format!("{}/avatar/{}.png", self.base_url(), c.open_id),
            "creator_username": c.username,
            "creator_nickname": c.nickname,
            "privacy_level_options": c.privacy_level_options,
            "comment_disabled": c.comment_disabled,
            "duet_disabled": c.duet_disabled,
            "stitch_disabled": c.stitch_disabled,
            "max_video_post_duration_sec": c.max_video_post_duration_sec,
        }))
    }

    pub(crate) fn publishes(&self) -> Vec<TikTokPublish> {
        let processing = self.config().processing_time;
        let now = Instant::now();
        self.lock()
            .publishes
            .iter()
            .map(|r| {
                let (status, reason) = status_of(r, processing, now);
                TikTokPublish {
                    publish_id: r.publish_id.clone(),
                    open_id: r.open_id.clone(),
                    kind: r.kind,
                    status: status.to_owned(),
                    fail_reason: reason.map(str::to_owned),
                    privacy_level: r.privacy_level.clone(),
                    title: r.title.clone(),
                    description: r.description.clone(),
                    uploaded_bytes: r.upload.as_ref().map_or(0, |u| u.received),
                    video_size: r.upload.as_ref().map(|u| u.video_size),
                    urls: r.urls.clone(),
                    downloaded_bytes: r.downloaded,
                    post_ids: public_post_id(r, processing, now).into_iter().collect(),
                    request: r.request.to_string(),
                }
            })
            .collect()
    }
}

/// The system's Unix time in milliseconds.
fn system_unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// TikTok's chunk rules for an init's `source_info`.
fn check_chunk_plan(size: u64, chunk: u64, count: u64) -> Result<(), ApiError> {
    let invalid = |m: &str| {
        Err(api(
            400,
            "invalid_params",
            format!("The chunk size is invalid: {m}"),
        ))
    };
    if size == 0 {
        return invalid("video_size is 0");
    }
    if size < MIN_CHUNK {
        if chunk != size || count != 1 {
            return invalid(
                "a video under 5 MB is uploaded as one chunk with chunk_size = video_size",
            );
        }
        return Ok(());
    }
    if !(MIN_CHUNK..=MAX_CHUNK).contains(&chunk) {
        return invalid("chunk_size must be between 5 MB and 64 MB");
    }
    if chunk > size || count != size / chunk {
        return invalid("total_chunk_count must be floor(video_size / chunk_size)");
    }
    if count == 0 || count > MAX_CHUNKS {
        return invalid("total_chunk_count must be 1 to 1000");
    }
    if size - (count - 1) * chunk > MAX_LAST_CHUNK {
        return invalid("the last chunk is over 128 MB");
    }
    Ok(())
}

/// Parses `bytes {first}-{last}/{total}`.
fn parse_content_range(value: &str) -> Option<(u64, u64, u64)> {
    let rest = value.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (first, last) = range.split_once('-')?;
    let (first, last, total) = (first.parse().ok()?, last.parse().ok()?, total.parse().ok()?);
    (first <= last && last < total).then_some((first, last, total))
}

/// The control API's hooks.
impl TikTokState {
    /// Forgets publishes, uploads, rate-limit windows and faults; keeps creators, tokens and
    /// the id counter.
    pub(crate) fn reset(&self) {
        let mut inner = self.lock();
        let old = std::mem::take(&mut *inner);
        *inner = Inner {
            creators: old.creators,
            access: old.access,
            refresh: old.refresh,
            codes: old.codes,
            next_id: old.next_id,
            ..Inner::default()
        };
        drop(inner);
        self.faults.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_rules_follow_the_media_transfer_guide() {
        // TikTok's own example: 50 000 123 bytes in 5 chunks of 10 000 000.
        assert!(check_chunk_plan(50_000_123, 10_000_000, 5).is_ok());
        assert!(check_chunk_plan(50_000_123, 10_000_000, 6).is_err());
        // Under 5 MB: one chunk of the whole file.
        assert!(check_chunk_plan(1000, 1000, 1).is_ok());
        assert!(check_chunk_plan(1000, 500, 2).is_err());
        // Chunks below 5 MiB or above 64 000 000 are refused.
        assert!(check_chunk_plan(100_000_000, 4_000_000, 25).is_err());
        assert!(check_chunk_plan(100_000_000, 64_000_001, 1).is_err());
        // Over 1000 chunks.
        assert!(check_chunk_plan(MIN_CHUNK * 1001, MIN_CHUNK, 1001).is_err());
    }

    #[test]
    fn content_range_parses_strictly() {
        assert_eq!(parse_content_range("bytes 0-9/10"), Some((0, 9, 10)));
        assert_eq!(parse_content_range("bytes 5-4/10"), None);
        assert_eq!(parse_content_range("bytes 0-10/10"), None);
        assert_eq!(parse_content_range("0-9/10"), None);
    }
}
