//! A fake of Google's OAuth token endpoint and the YouTube Data API v3 as a publisher uses it:
//! the resumable `videos.insert` (session start with metadata validation and the two upload
//! budgets, chunk `PUT`s with `Content-Range` and 256 KiB rules, `308` with `Range`, probes
//! with `bytes */N`, the `201` video resource when the last byte arrives and again to later
//! probes, 404 for unknown or expired sessions); `videos.list` with processing,
//! `channels.list` (`mine=true`), `playlistItems.list` on the uploads playlist (newest first),
//! `thumbnails.set` (403 on an unverified channel); `videos.update` and `videos.delete`; multipart `videos.insert`; the `fields`
//! partial response; the daily 10 000-unit quota; Google's error envelope.
//!
//! Written from the project's `docs/youtube-api.md` brief (cited as "brief §n") and the
//! fixtures in `cmis-youtube/tests/fixtures/` (cited by file or by `errors.json` case name),
//! not from any connector. Bodies that no source shows are marked constructed.

mod edits;
mod fields;
mod multipart;
mod quota;
mod reads;
mod routes;
mod state;
mod upload;

use std::sync::Arc;
use std::time::Duration;

use cmis_core::SecretString;

use crate::fault::Fault;

pub(crate) use routes::router;
pub(crate) use state::YouTubeState;

/// The YouTube endpoints, for fault injection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum YouTubeEndpoint {
    /// `POST /token` (both grants).
    Token,
    /// `POST /upload/youtube/v3/videos?uploadType=resumable`: start a session.
    StartUpload,
    /// `PUT <session URI>`: a chunk or a probe.
    UploadChunk,
    /// `GET /youtube/v3/videos`.
    ListVideos,
    /// `GET /youtube/v3/channels`.
    ListChannels,
    /// `GET /youtube/v3/playlistItems`.
    ListPlaylistItems,
    /// `POST /upload/youtube/v3/thumbnails/set`.
    SetThumbnail,
}

impl YouTubeEndpoint {
    /// Every endpoint.
    pub const ALL: [YouTubeEndpoint; 7] = [
        Self::Token,
        Self::StartUpload,
        Self::UploadChunk,
        Self::ListVideos,
        Self::ListChannels,
        Self::ListPlaylistItems,
        Self::SetThumbnail,
    ];
}

/// How the fake YouTube behaves. The defaults are the documented values where there are any.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct YouTubeConfig {
    /// The OAuth client id.
    pub client_id: String,
    /// The OAuth client secret.
    pub client_secret: SecretString,
    /// An access token's lifetime (3 599 s, fixture `oauth_token_exchange.json`).
    pub access_token_lifetime: Duration,
    /// A refresh token's lifetime: `None` (the default) lives until revoked; `Some` is
    /// time-based access or a Testing-mode project (7 days, brief §1), and the code exchange
    /// then answers `refresh_token_expires_in`.
    pub refresh_token_lifetime: Option<Duration>,
    /// The project's `videos.insert` budget per day (100, brief §0): every session start counts,
    /// refused ones too; beyond it, 403 `quotaExceeded`. Days end at midnight Pacific standard
    /// time (UTC−8; daylight saving is ignored).
    pub uploads_per_day: u32,
    /// How many videos one channel may create per rolling 24 hours before session starts get
    /// 400 `uploadLimitExceeded` (chosen: 50; YouTube publishes no number).
    pub channel_uploads_per_day: u32,
    /// How many `videos.list` reads (with `status` or `processingDetails`) of a new video
    /// answer it still processing before it is `processed` (1).
    pub processing_reads: u32,
    /// How long an upload session lives (chosen: 7 days, as Google's other resumable
    /// sessions; brief §3). Later `PUT`s get 404.
    pub session_lifetime: Duration,
    /// Whether the API project passed YouTube's audit. Off, every upload is locked private
    /// (brief §1, fixture `videos_list_locked_private.json`). On by default.
    pub audited_project: bool,
    /// The largest thumbnail (2 MB, brief §4).
    pub max_thumbnail_bytes: usize,
    /// The project's daily units for every call but `videos.insert` (10 000, brief §0):
    /// `videos.list`, `channels.list` and `playlistItems.list` cost 1, `thumbnails.set` 50;
    /// beyond it, 403 `quotaExceeded`.
    pub units_per_day: u32,
}

impl Default for YouTubeConfig {
    fn default() -> Self {
        Self {
            client_id: "1234567890-cmisfixture.apps.googleusercontent.com".into(),
            client_secret: SecretString::from("sandbox-youtube-client-secret"),
            access_token_lifetime: Duration::from_secs(3599),
            refresh_token_lifetime: None,
            uploads_per_day: 100,
            channel_uploads_per_day: 50,
            processing_reads: 1,
            session_lifetime: Duration::from_secs(7 * 86_400),
            audited_project: true,
            max_thumbnail_bytes: 2 * 1024 * 1024,
            units_per_day: 10_000,
        }
    }
}

/// Tokens the fake YouTube issued.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct YouTubeTokens {
    /// The access token (`ya29.…`).
    pub access_token: SecretString,
    /// The refresh token (`1//…`).
    pub refresh_token: SecretString,
    /// The channel the tokens act for.
    pub channel_id: String,
}

/// A video on the fake YouTube.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct YouTubeVideo {
    /// The video id (11 characters of `[A-Za-z0-9_-]`).
    pub id: String,
    /// Its channel.
    pub channel_id: String,
    /// The upload session that created it.
    pub upload_id: String,
    /// `snippet.title`.
    pub title: String,
    /// `snippet.description`.
    pub description: String,
    /// `snippet.tags`.
    pub tags: Vec<String>,
    /// `status.privacyStatus` as stored (`private` when the project is unaudited).
    pub privacy_status: String,
    /// `status.publishAt`.
    pub publish_at: Option<String>,
    /// `status.uploadStatus` now: `uploaded`, `processed` or `failed`.
    pub upload_status: String,
    /// How many bytes were uploaded.
    pub bytes: u64,
    /// The size of the custom thumbnail set, if any.
    pub thumbnail_bytes: Option<usize>,
    /// `snippet.publishedAt` (RFC 3339).
    pub published_at: String,
}

/// An upload session on the fake YouTube.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct YouTubeSession {
    /// The `upload_id` of its URI.
    pub upload_id: String,
    /// Its channel.
    pub channel_id: String,
    /// The declared size (`X-Upload-Content-Length`, or the `Content-Range` total).
    pub total: Option<u64>,
    /// Bytes stored so far (the next byte expected).
    pub received: u64,
    /// The video it created, once the last byte arrived.
    pub video_id: Option<String>,
}

/// A handle on the fake YouTube: add channels, issue tokens and codes, inspect sessions and
/// videos, set budgets, inject faults.
///
/// ```no_run
/// # mod cmis { pub use cmis_core::*; pub mod sandbox { pub use cmis_sandbox::*; } }
/// # async fn demo() -> Result<(), cmis::Error> {
/// use cmis::sandbox::{Fault, Sandbox, YouTubeEndpoint};
///
/// let sandbox = Sandbox::start().await?;
/// let youtube = sandbox.youtube();
/// let tokens = youtube.add_channel("UCcmisTestChannel0000001", "cmis test channel");
/// // The last chunk creates the video, but its 201 is lost: a careful client probes the
/// // session (`Content-Range: bytes */N`) and gets the same 201 back.
/// youtube.inject(YouTubeEndpoint::UploadChunk, Fault::DropAfterAccept, 1);
/// // ... upload, then look:
/// assert!(youtube.video_count("UCcmisTestChannel0000001") <= 1);
/// # let _ = tokens;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct YouTubeSandbox {
    pub(crate) state: Arc<YouTubeState>,
}

impl YouTubeSandbox {
    /// The base URL, such as `http://127.0.0.1:41234`. It stands for `oauth2.googleapis.com`
    /// (`/token`) and `www.googleapis.com` (`/youtube/v3/...`, `/upload/youtube/v3/...`).
    pub fn url(&self) -> String {
        self.state.base_url()
    }

    /// The OAuth client id.
    pub fn client_id(&self) -> String {
        self.state.config().client_id.clone()
    }

    /// The OAuth client secret.
    pub fn client_secret(&self) -> SecretString {
        self.state.config().client_secret.clone()
    }

    /// Adds (or renames) a channel (`UC…`; its uploads playlist is `UU…`) and issues tokens
    /// with `youtube.upload` and `youtube.readonly`.
    pub fn add_channel(&self, channel_id: &str, title: &str) -> YouTubeTokens {
        self.state.add_channel(channel_id, title);
        self.issue_tokens(channel_id, state::DEFAULT_SCOPES)
    }

    /// Issues tokens for `channel_id` with `scopes` (full URLs, such as
    /// `https://www.googleapis.com/auth/youtube.upload`). An unknown channel is added.
    pub fn issue_tokens(&self, channel_id: &str, scopes: &[&str]) -> YouTubeTokens {
        self.state.issue_tokens(channel_id, scopes)
    }

    /// An authorization code for `channel_id`, as Google's consent page would redirect with to
    /// `redirect_uri`, with `youtube.upload` and `youtube.readonly`. With `code_challenge`
    /// (S256: base64url of the verifier's SHA-256), the exchange needs the matching
    /// `code_verifier`. The code works once, within 10 minutes.
    pub fn issue_code(
        &self,
        channel_id: &str,
        redirect_uri: &str,
        code_challenge: Option<&str>,
    ) -> String {
        self.state
            .issue_code(channel_id, redirect_uri, code_challenge)
    }

    /// Expires an access or refresh token now.
    pub fn expire_token(&self, token: &str) {
        self.state.expire_token(token);
    }

    /// Revokes an access or refresh token.
    pub fn revoke_token(&self, token: &str) {
        self.state.revoke_token(token);
    }

    /// How many refresh-token grants succeeded.
    pub fn refresh_count(&self) -> u64 {
        self.state.refresh_count()
    }

    /// Every video, oldest first, with its status now.
    pub fn videos(&self) -> Vec<YouTubeVideo> {
        self.state.videos()
    }

    /// The video `id`.
    pub fn video(&self, id: &str) -> Option<YouTubeVideo> {
        self.videos().into_iter().find(|v| v.id == id)
    }

    /// How many videos `channel_id` has.
    pub fn video_count(&self, channel_id: &str) -> usize {
        self.videos()
            .iter()
            .filter(|v| v.channel_id == channel_id)
            .count()
    }

    /// Every upload session, in start order.
    pub fn sessions(&self) -> Vec<YouTubeSession> {
        self.state.sessions()
    }

    /// How many upload sessions were started (successful `videos.insert` calls).
    pub fn sessions_started(&self) -> usize {
        self.sessions().len()
    }

    /// Expires a session now: later `PUT`s get 404. Takes the `upload_id` or the whole
    /// session URI.
    pub fn expire_session(&self, upload_id_or_uri: &str) {
        self.state.expire_session(upload_id_or_uri);
    }

    /// How many `videos.insert` calls today counted against `uploads_per_day`.
    pub fn uploads_used_today(&self) -> u32 {
        self.state.uploads_used_today()
    }

    /// Sets how many `videos.insert` calls were made today, as if `n` were made just now.
    pub fn set_uploads_used_today(&self, n: u32) {
        self.state.set_uploads_used_today(n);
    }

    /// The units charged today to the project's 10 000-unit bucket (every call but
    /// `videos.insert`; see [`YouTubeConfig::units_per_day`]).
    pub fn units_used_today(&self) -> u32 {
        self.state.units_used_today()
    }

    /// Sets today's charged units, for example to the limit to see `quotaExceeded`.
    pub fn set_units_used_today(&self, n: u32) {
        self.state.set_units_used_today(n);
    }

    /// Whether `channel_id` may set custom thumbnails (a phone-verified channel). Off,
    /// `thumbnails.set` gets 403 `forbidden` in domain `youtube.thumbnail`.
    pub fn set_thumbnails_allowed(&self, channel_id: &str, allowed: bool) {
        self.state.set_thumbnails_allowed(channel_id, allowed);
    }

    /// Makes video `id` fail processing: `uploadStatus` `failed` with `failureReason`
    /// `reason` (such as `conversion`), `processingStatus` `failed`.
    pub fn fail_video(&self, id: &str, reason: &str) {
        self.state.fail_video(id, reason);
    }

    /// Moves the fake's clock forward (tokens, sessions, the daily budgets).
    pub fn advance_clock(&self, by: Duration) {
        self.state.advance_clock(by);
    }

    /// Makes the next `times` calls to `endpoint` fail with `fault`. On
    /// [`YouTubeEndpoint::UploadChunk`], [`Fault::ServerError`] stores nothing of the chunk,
    /// [`Fault::ServerErrorAfterAccept`] stores it and answers 503, and
    /// [`Fault::DropAfterAccept`] on the last chunk creates the video and loses the 201: a
    /// client must probe. [`Fault::SlowProcessing`] adds reads (one per second, at least one)
    /// before the next video is processed.
    pub fn inject(&self, endpoint: YouTubeEndpoint, fault: Fault, times: u32) {
        self.state.faults.push(endpoint, fault, times);
    }

    /// Makes a fraction `rate` of calls to `endpoints` fail with one of `faults`, chosen by a
    /// generator seeded with `seed` (reproducible).
    pub fn set_fault_rate(
        &self,
        rate: f64,
        seed: u64,
        faults: Vec<Fault>,
        endpoints: Vec<YouTubeEndpoint>,
    ) {
        self.state.faults.set_random(rate, seed, faults, endpoints);
    }

    /// Removes every queued and random fault.
    pub fn clear_faults(&self) {
        self.state.faults.clear();
    }
}
