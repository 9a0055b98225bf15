//! The fake TikTok's state and rules, apart from HTTP.

mod display;

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
) -> (&'static str, Option<&'static str>) {
    if r.cancelled {
        return ("FAILED", Some("publish_cancelled"));
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

    /// The token endpoint: both grants, with the client checked first.
    pub(crate) fn token_grant(&self, form: &HashMap<String, String>) -> Result<Value, OAuthError> {
        let config = self.config();
        let field = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
        if field("client_key") != config.client_key
            || field("client_secret") != config.client_secret
        {
            return Err(oauth(
                401,
                "invalid_client",
                "Client key or secret is invalid.",
            ));
        }
        let mut inner = self.lock();
        let now = Instant::now();
        let (open_id, scopes) = match field("grant_type") {
            "refresh_token" => {
                let presented = field("refresh_token");
                let Some(info) = inner.refresh.get_mut(presented) else {
                    return Err(oauth(
                        400,
                        "invalid_grant",
                        "Refresh token is invalid or expired.",
                    ));
                };
                if info.replaced || info.expires_at <= now {
                    return Err(oauth(
                        400,
                        "invalid_grant",
                        "Refresh token is invalid or expired.",
                    ));
                }
                info.replaced = true;
                inner.refreshes += 1;
                let info = &inner.refresh[presented];
                (info.open_id.clone(), info.scopes.clone())
            }
            "authorization_code" => {
                let Some(code) = inner.codes.remove(field("code")) else {
                    return Err(oauth(
                        400,
                        "invalid_grant",
                        "Authorization code is invalid or expired.",
                    ));
                };
                if code.expires_at <= now {
                    return Err(oauth(
                        400,
                        "invalid_grant",
                        "Authorization code is invalid or expired.",
                    ));
                }
                if code.redirect_uri != field("redirect_uri") {
                    return Err(oauth(
                        400,
                        "invalid_request",
                        "Redirect URI does not match.",
                    ));
                }
                if let Some(challenge) = &code.challenge
                    && crate::pkce::hex_sha256(field("code_verifier")) != *challenge
                {
                    return Err(oauth(
                        400,
                        "invalid_request",
                        "Code verifier or code challenge is invalid.",
                    ));
                }
                (code.open_id, code.scopes)
            }
            "" => return Err(oauth(400, "invalid_request", "grant_type is required.")),
            _ => {
                return Err(oauth(
                    400,
                    "unsupported_grant_type",
                    "Grant type is not supported.",
                ));
            }
        };
        let issued = self.issue_locked(&mut inner, &open_id, scopes);
        use cmis_core::ExposeSecret;
        Ok(json!({
            "open_id": issued.open_id,
            "scope": issued.scopes.join(","),
            "access_token": issued.access_token.expose_secret(),
            "expires_in": issued.expires_in.as_secs(),
            "refresh_token": issued.refresh_token.expose_secret(),
            "refresh_expires_in": issued.refresh_expires_in.as_secs(),
            "token_type": "Bearer",
        }))
    }

    pub(crate) fn revoke(&self, form: &HashMap<String, String>) -> Result<Value, OAuthError> {
        let config = self.config();
        let field = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
        if field("client_key") != config.client_key
            || field("client_secret") != config.client_secret
        {
            return Err(oauth(
                401,
                "invalid_client",
                "Client key or secret is invalid.",
            ));
        }
        let mut inner = self.lock();
        if let Some(a) = inner.access.get_mut(field("token")) {
            a.revoked = true;
        }
        Ok(json!({}))
    }

    /// Checks the bearer token and scope; returns the `open_id`.
    pub(crate) fn authorize(
        &self,
        bearer: Option<&str>,
        scope_any: &[&str],
    ) -> Result<(String, BTreeSet<String>), ApiError> {
        let inner = self.lock();
        let Some(info) = bearer.and_then(|t| inner.access.get(t)) else {
            return Err(api(
                401,
                "access_token_invalid",
                "The access token is invalid or not found in the request.",
            ));
        };
        if info.revoked || info.expires_at <= Instant::now() {
            return Err(api(
                401,
                "access_token_invalid",
                "The access token is invalid or not found in the request.",
            ));
        }
        if !scope_any.iter().any(|s| info.scopes.contains(*s)) {
            return Err(api(
                401,
                "scope_not_authorized",
                "The user did not authorize the scope required for completing this request.",
            ));
        }
        Ok((info.open_id.clone(), info.scopes.clone()))
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
        let Some(c) = inner.creators.get(open_id) else {
            return Err(api(
                403,
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

    /// Checks `post_info` for a Direct Post against the creator and the app's audit status.
    fn check_post_info(
        &self,
        inner: &Inner,
        open_id: &str,
        info: &Value,
    ) -> Result<Option<String>, ApiError> {
        let config = self.config();
        let creator = inner.creators.get(open_id).ok_or_else(|| {
            api(
                403,
                "spam_risk_user_banned_from_posting",
                "The user cannot post.",
            )
        })?;
        let privacy = info.get("privacy_level").and_then(Value::as_str);
        let Some(privacy) =
            privacy.filter(|p| creator.privacy_level_options.iter().any(|o| o == p))
        else {
            return Err(api(
                403,
                "privacy_level_option_mismatch",
                "privacy_level is missing or is not one of the creator's privacy_level_options.",
            ));
        };
        if !config.audited && (privacy != "SELF_ONLY" || !creator.private_account) {
            return Err(api(
                403,
                "unaudited_client_can_only_post_to_private_accounts",
                "Unaudited clients can only post to private accounts.",
            ));
        }
        if privacy == "SELF_ONLY"
            && info.get("brand_content_toggle").and_then(Value::as_bool) == Some(true)
        {
            return Err(api(
                400,
                "invalid_param",
                "Branded content cannot be private (SELF_ONLY).",
            ));
        }
        Ok(Some(privacy.to_owned()))
    }

    /// Checks a `PULL_FROM_URL` URL: HTTPS under a verified prefix; with
    /// [`TikTokConfig::fetch_pulled_media`], plain HTTP on a loopback host too.
    fn check_url(&self, url: &str) -> Result<(), ApiError> {
        let config = self.config();
        let scheme_ok = url.starts_with("https://")
            || (config.fetch_pulled_media
                && url.starts_with("http://")
                && cmis_core::url::Url::parse(url).is_ok_and(|u| pull::is_loopback(&u)));
        let verified = config.verified_url_prefixes;
        if !scheme_ok || !verified.iter().any(|p| url.starts_with(p.as_str())) {
            return Err(api(
                403,
                "url_ownership_unverified",
                "The domain or URL prefix of the media is not verified.",
            ));
        }
        Ok(())
    }

    fn new_record(
        &self,
        inner: &mut Inner,
        prefix: &str,
        open_id: &str,
        kind: PublishKind,
        request: Value,
    ) -> usize {
        let id = inner.next_id;
        inner.next_id += 1;
        let publish_id = format!("{prefix}~v2-1.{}", 7_300_000_000_000_000_000u64 + id);
        let extra = std::mem::take(&mut inner.pending_slowdown);
        inner.publishes.push(PublishRecord {
            publish_id: publish_id.clone(),
            open_id: open_id.to_owned(),
            kind,
            privacy_level: None,
            title: None,
            description: None,
            urls: Vec::new(),
            upload: None,
            media_complete_at: None,
            downloaded: 0,
            pull_failed: false,
            extra_processing: extra,
            cancelled: false,
            seq: id,
            aged: Duration::ZERO,
            request,
        });
        let index = inner.publishes.len() - 1;
        inner.by_publish_id.insert(publish_id, index);
        index
    }

    /// Marks a pull init's media: arrived now, or (with [`TikTokConfig::fetch_pulled_media`]) to
    /// be downloaded by the returned [`Pull`].
    fn pull_or_arrive(&self, record: &mut PublishRecord) -> Option<Pull> {
        if self.config().fetch_pulled_media {
            Some(Pull {
                publish_id: record.publish_id.clone(),
                urls: record.urls.clone(),
            })
        } else {
            record.media_complete_at = Some(Instant::now());
            None
        }
    }

    /// Counts `bytes` downloaded for `publish_id`; false when the download should stop (the
    /// publish was cancelled or is unknown).
    pub(crate) fn pull_progress(&self, publish_id: &str, bytes: u64) -> bool {
        let mut inner = self.lock();
        let Some(&index) = inner.by_publish_id.get(publish_id) else {
            return false;
        };
        let record = &mut inner.publishes[index];
        record.downloaded = record.downloaded.saturating_add(bytes);
        !record.cancelled
    }

    /// Records how `publish_id`'s download ended.
    pub(crate) fn finish_pull(&self, publish_id: &str, outcome: PullOutcome) {
        let mut inner = self.lock();
        let Some(&index) = inner.by_publish_id.get(publish_id) else {
            return;
        };
        let record = &mut inner.publishes[index];
        match outcome {
            PullOutcome::Complete => record.media_complete_at = Some(Instant::now()),
            PullOutcome::Failed => record.pull_failed = true,
            PullOutcome::Abandoned => {}
        }
    }

    /// Video init, Direct Post (`inbox == false`) or inbox; with the download to start, if any.
    pub(crate) fn video_init(
        &self,
        open_id: &str,
        body: &Value,
        inbox: bool,
    ) -> Result<(Value, Option<Pull>), ApiError> {
        let mut inner = self.lock();
        let (privacy, title) = if inbox {
            (None, None)
        } else {
            let info = body
                .get("post_info")
                .ok_or_else(|| api(400, "invalid_param", "post_info is required."))?;
            let privacy = self.check_post_info(&inner, open_id, info)?;
            let title = info.get("title").and_then(Value::as_str).map(str::to_owned);
            if title
                .as_deref()
                .is_some_and(|t| utf16_len(t) > MAX_VIDEO_TITLE_UTF16)
            {
                return Err(api(
                    400,
                    "invalid_param",
                    "title is longer than 2200 UTF-16 units.",
                ));
            }
            (privacy, title)
        };
        let source = body
            .get("source_info")
            .ok_or_else(|| api(400, "invalid_param", "source_info is required."))?;
        let kind = if inbox {
            PublishKind::InboxVideo
        } else {
            PublishKind::DirectVideo
        };
        match source.get("source").and_then(Value::as_str) {
            Some("FILE_UPLOAD") => {
                let get = |k: &str| source.get(k).and_then(Value::as_u64);
                let (Some(size), Some(chunk), Some(count)) = (
                    get("video_size"),
                    get("chunk_size"),
                    get("total_chunk_count"),
                ) else {
                    return Err(api(
                        400,
                        "invalid_params",
                        "video_size, chunk_size and total_chunk_count are required.",
                    ));
                };
                check_chunk_plan(size, chunk, count)?;
                let prefix = if inbox { "v_inbox_file" } else { "v_pub_file" };
                let index = self.new_record(&mut inner, prefix, open_id, kind, body.clone());
                let upload_id = format!("{}", 67_890 + index);
                let upload_token = crate::http::token("");
                let lifetime = self.config().upload_url_lifetime;
                let record = &mut inner.publishes[index];
                record.privacy_level = privacy;
                record.title = title;
                record.upload = Some(Upload {
                    video_size: size,
                    chunk_size: chunk,
                    chunk_count: count,
                    received: 0,
                    token: upload_token.clone(),
                    expires_at: Instant::now() + lifetime,
                    content_type: None,
                });
                let publish_id = record.publish_id.clone();
                inner.by_upload_id.insert(upload_id.clone(), index);
                let data = json!({
                    "publish_id": publish_id,
                    "upload_url": format!("{}/upload/?upload_id={upload_id}&upload_token={upload_token}", self.base_url()),
                });
                Ok((data, None))
            }
            Some("PULL_FROM_URL") => {
                let url = source
                    .get("video_url")
                    .and_then(Value::as_str)
                    .ok_or_else(|| api(400, "invalid_param", "video_url is required."))?;
                self.check_url(url)?;
                let prefix = if inbox { "v_inbox_url" } else { "v_pub_url" };
                let index = self.new_record(&mut inner, prefix, open_id, kind, body.clone());
                let record = &mut inner.publishes[index];
                record.privacy_level = privacy;
                record.title = title;
                record.urls = vec![url.to_owned()];
                let pull = self.pull_or_arrive(record);
                Ok((json!({ "publish_id": record.publish_id }), pull))
            }
            _ => Err(api(
                400,
                "invalid_param",
                "source_info.source must be FILE_UPLOAD or PULL_FROM_URL.",
            )),
        }
    }

    /// Photo init (`content/init`); with the download to start, if any.
    pub(crate) fn content_init(
        &self,
        open_id: &str,
        scopes: &BTreeSet<String>,
        body: &Value,
    ) -> Result<(Value, Option<Pull>), ApiError> {
        let mut inner = self.lock();
        if body.get("media_type").and_then(Value::as_str) != Some("PHOTO") {
            return Err(api(400, "invalid_param", "media_type must be PHOTO."));
        }
        let direct = match body.get("post_mode").and_then(Value::as_str) {
            Some("DIRECT_POST") => true,
            Some("MEDIA_UPLOAD") => false,
            _ => {
                return Err(api(
                    400,
                    "invalid_param",
                    "post_mode must be DIRECT_POST or MEDIA_UPLOAD.",
                ));
            }
        };
        if direct && !scopes.contains("video.publish") {
            return Err(api(
                401,
                "scope_not_authorized",
                "DIRECT_POST needs video.publish.",
            ));
        }
        let info = body.get("post_info").cloned().unwrap_or(Value::Null);
        let privacy = if direct {
            self.check_post_info(&inner, open_id, &info)?
        } else {
            None
        };
        let title = info.get("title").and_then(Value::as_str).map(str::to_owned);
        let description = info
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if title
            .as_deref()
            .is_some_and(|t| utf16_len(t) > MAX_PHOTO_TITLE_UTF16)
        {
            return Err(api(
                400,
                "invalid_param",
                "title is longer than 90 UTF-16 units.",
            ));
        }
        if description
            .as_deref()
            .is_some_and(|d| utf16_len(d) > MAX_PHOTO_DESCRIPTION_UTF16)
        {
            return Err(api(
                400,
                "invalid_param",
                "description is longer than 4000 UTF-16 units.",
            ));
        }
        let source = body.get("source_info").cloned().unwrap_or(Value::Null);
        if source.get("source").and_then(Value::as_str) != Some("PULL_FROM_URL") {
            return Err(api(
                400,
                "invalid_param",
                "Photo posts support PULL_FROM_URL only.",
            ));
        }
        let images: Vec<String> = source
            .get("photo_images")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        if images.is_empty() || images.len() > MAX_PHOTOS {
            return Err(api(
                400,
                "invalid_param",
                "photo_images must hold 1 to 35 URLs.",
            ));
        }
        let cover = source
            .get("photo_cover_index")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        if usize::try_from(cover).map_or(true, |c| c >= images.len()) {
            return Err(api(
                400,
                "invalid_param",
                "photo_cover_index is out of range.",
            ));
        }
        for url in &images {
            self.check_url(url)?;
        }
        let kind = if direct {
            PublishKind::DirectPhoto
        } else {
            PublishKind::InboxPhoto
        };
        let index = self.new_record(&mut inner, "p_pub_url", open_id, kind, body.clone());
        let record = &mut inner.publishes[index];
        record.privacy_level = privacy;
        record.title = title;
        record.description = description;
        record.urls = images;
        let pull = self.pull_or_arrive(record);
        Ok((json!({ "publish_id": record.publish_id }), pull))
    }

    /// One chunk `PUT`.
    pub(crate) fn upload(
        &self,
        upload_id: &str,
        upload_token: &str,
        content_type: Option<&str>,
        content_range: Option<&str>,
        body_len: u64,
    ) -> UploadReply {
        let refused = |status, message: &str| UploadReply::Refused {
            status,
            message: message.to_owned(),
        };
        let mut inner = self.lock();
        let Some(&index) = inner.by_upload_id.get(upload_id) else {
            return refused(404, "no upload task");
        };
        let record = &mut inner.publishes[index];
        let Some(up) = record.upload.as_mut().filter(|u| u.token == upload_token) else {
            return refused(404, "no upload task");
        };
        if Instant::now() >= up.expires_at {
            return refused(403, "upload_url expired");
        }
        if !matches!(
            content_type,
            Some("video/mp4" | "video/quicktime" | "video/webm")
        ) {
            return refused(
                400,
                "Content-Type must be video/mp4, video/quicktime or video/webm",
            );
        }
        if up
            .content_type
            .as_deref()
            .is_some_and(|c| Some(c) != content_type)
        {
            return refused(400, "Content-Type changed between chunks");
        }
        let Some((first, last, total)) = content_range.and_then(parse_content_range) else {
            return refused(400, "Content-Range must be bytes {first}-{last}/{total}");
        };
        if total != up.video_size {
            return refused(400, "Content-Range total does not match video_size");
        }
        if first != up.received {
            return UploadReply::RangeMismatch {
                uploaded: up.received,
                total,
            };
        }
        let index_of_chunk = first / up.chunk_size;
        let expected = if index_of_chunk + 1 >= up.chunk_count {
            up.video_size - first
        } else {
            up.chunk_size
        };
        if index_of_chunk >= up.chunk_count || last + 1 - first != expected || body_len != expected
        {
            return refused(
                400,
                "chunk length does not match the chunk plan or Content-Length",
            );
        }
        up.content_type = content_type.map(str::to_owned);
        up.received += expected;
        let done = up.received == up.video_size;
        let reply = UploadReply::Accepted {
            done,
            last: up.received - 1,
            total,
        };
        if done {
            record.media_complete_at = Some(Instant::now());
        }
        reply
    }

    pub(crate) fn status(&self, open_id: &str, publish_id: &str) -> Result<Value, ApiError> {
        let processing = self.config().processing_time;
        let inner = self.lock();
        let Some(&index) = inner.by_publish_id.get(publish_id) else {
            return Err(api(
                400,
                "invalid_publish_id",
                "The publish_id does not exist.",
            ));
        };
        let record = &inner.publishes[index];
        if record.open_id != open_id {
            return Err(api(
                400,
                "token_not_authorized_for_specified_publish_id",
                "The token does not own this publish_id.",
            ));
        }
        let now = Instant::now();
        let (status, fail_reason) = status_of(record, processing, now);
        let post_id = public_post_id(record, processing, now);
        let mut data = json!({
            "status": status,
            "publicaly_available_post_id": post_id.map(|id| vec![id]).unwrap_or_default(),
        });
        if let Some(up) = &record.upload {
            data["uploaded_bytes"] = json!(up.received);
        } else {
            data["downloaded_bytes"] = json!(record.downloaded);
        }
        if let Some(reason) = fail_reason {
            data["fail_reason"] = json!(reason);
        }
        Ok(data)
    }

    pub(crate) fn cancel(&self, open_id: &str, publish_id: &str) -> Result<Value, ApiError> {
        let processing = self.config().processing_time;
        let mut inner = self.lock();
        let Some(&index) = inner.by_publish_id.get(publish_id) else {
            return Err(api(
                400,
                "invalid_publish_id",
                "The publish_id does not exist.",
            ));
        };
        let record = &mut inner.publishes[index];
        if record.open_id != open_id {
            return Err(api(
                400,
                "token_not_authorized_for_specified_publish_id",
                "The token does not own this publish_id.",
            ));
        }
        let (status, _) = status_of(record, processing, Instant::now());
        if !status.starts_with("PROCESSING") {
            return Err(api(
                400,
                "publish_not_cancellable",
                "The publish can no longer be cancelled.",
            ));
        }
        record.cancelled = true;
        Ok(json!({}))
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
                    request: r.request.clone(),
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
