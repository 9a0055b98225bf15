//! A fake of TikTok's Content Posting API (v2): OAuth with rotating refresh tokens, creator info,
//! Direct Post and inbox video with `FILE_UPLOAD` chunk checks and `PULL_FROM_URL`, photo posts,
//! status progression, cancel, per-token rate limits, and TikTok's error envelopes; plus the
//! Display API's reads of a creator's public videos (`video/list`, `video/query`).
//!
//! Written from TikTok's documentation (see the project's `docs/tiktok-api.md` notes), not from
//! any connector: it refuses what TikTok refuses.
//!
//! By default a `PULL_FROM_URL` publish has its media at once. With
//! [`TikTokConfig::fetch_pulled_media`] the fake downloads the URLs itself after init has
//! answered, from loopback hosts only, and a failed download fails the publish with
//! `video_pull_failed` or `photo_pull_failed`.

mod pull;
mod routes;
mod state;

use std::sync::Arc;
use std::time::Duration;

use cmis_core::SecretString;

use crate::fault::Fault;
use crate::insights::InsightsConfig;

pub(crate) use routes::router;
pub(crate) use state::TikTokState;

/// The TikTok endpoints, for fault injection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TikTokEndpoint {
    /// `POST /v2/oauth/token/`.
    Token,
    /// `POST /v2/oauth/revoke/`.
    Revoke,
    /// `POST /v2/post/publish/creator_info/query/`.
    CreatorInfo,
    /// `POST /v2/post/publish/video/init/`.
    VideoInit,
    /// `POST /v2/post/publish/inbox/video/init/`.
    InboxInit,
    /// `POST /v2/post/publish/content/init/`.
    ContentInit,
    /// `PUT` of an upload chunk.
    Upload,
    /// `POST /v2/post/publish/status/fetch/`.
    Status,
    /// `POST /v2/post/publish/cancel/`.
    Cancel,
    /// `POST /v2/video/list/` (Display API).
    VideoList,
    /// `POST /v2/video/query/` (Display API).
    VideoQuery,
}

impl TikTokEndpoint {
    /// Every endpoint.
    pub const ALL: [TikTokEndpoint; 11] = [
        Self::Token,
        Self::Revoke,
        Self::CreatorInfo,
        Self::VideoInit,
        Self::InboxInit,
        Self::ContentInit,
        Self::Upload,
        Self::Status,
        Self::Cancel,
        Self::VideoList,
        Self::VideoQuery,
    ];
}

/// How the fake TikTok behaves.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TikTokConfig {
    /// The app's client key.
    pub client_key: String,
    /// The app's client secret.
    pub client_secret: String,
    /// Whether the app passed TikTok's audit. Unaudited apps may post only `SELF_ONLY`, and only
    /// to private accounts.
    pub audited: bool,
    /// URL prefixes verified for `PULL_FROM_URL` (a domain prefix such as `https://cdn.example.com/`).
    pub verified_url_prefixes: Vec<String>,
    /// Access token lifetime (`expires_in`); TikTok's newer pages say 2 hours.
    pub access_token_lifetime: Duration,
    /// Refresh token lifetime (`refresh_expires_in`); TikTok's newer pages say 180 days.
    pub refresh_token_lifetime: Duration,
    /// How long a post stays in processing after its media arrived.
    pub processing_time: Duration,
    /// How long an `upload_url` stays valid (one hour).
    pub upload_url_lifetime: Duration,
    /// Whether `PULL_FROM_URL` media is really downloaded. Off (the default), a pull init's media
    /// counts as arrived at once and nothing is fetched. On, the publish stays
    /// `PROCESSING_DOWNLOAD` while the fake GETs each URL in order, [`pull_delay`] after init
    /// answered (or lost its answer to an injected fault that acts first), with a 30 s timeout and
    /// a 256 MiB cap per URL; `processing_time` starts once every URL answered 2xx with its
    /// body. Any other outcome (no connection, a non-2xx status including redirects, a timeout,
    /// a longer body) fails the publish with `video_pull_failed` (photos: `photo_pull_failed`).
    /// Cancelling the publish stops its download.
    ///
    /// Only loopback hosts (`localhost`, `127.0.0.0/8`, `::1`) are contacted: a URL on any other
    /// host fails its download without a connection, so nothing reaches the network. In this
    /// mode init also accepts `http://` URLs on loopback hosts (still under a verified prefix),
    /// for a local media server without TLS; `https://` URLs are fetched without checking the
    /// certificate. The timers run on tokio's clock: with a paused clock, the 30 s timeout can
    /// pass while a download waits on the network.
    ///
    /// [`pull_delay`]: TikTokConfig::pull_delay
    pub fetch_pulled_media: bool,
    /// With [`fetch_pulled_media`](TikTokConfig::fetch_pulled_media) on, how long after init's
    /// answer the download starts (200 ms).
    pub pull_delay: Duration,
    /// The per-creator posting cap: at most this many Direct Posts (video or photo) in any 24
    /// hours, failed ones not counted. Past it, init answers 403 `spam_risk_too_many_posts` and
    /// creator_info answers that code with HTTP 200. TikTok says only "typically around 15 posts
    /// per day", so the cap is off (`None`) unless set.
    pub daily_post_cap: Option<u32>,
    /// The client's cap of active posting creators: at most this many creators may Direct Post
    /// in any 24 hours; another is refused with 403 `reached_active_user_cap` (HTTP 200 on
    /// creator_info). An audited client's cap comes from its audit, so it is off (`None`) unless
    /// set; an unaudited client ([`audited`](TikTokConfig::audited) false) never has more than
    /// TikTok's documented 5.
    pub active_creator_cap: Option<u32>,
    /// How the Display API's counters (`view_count`, `like_count`, `comment_count`,
    /// `share_count`) behave: zeros until `delay` after the video went live, then lifetime
    /// counts that grow with its age, drawn from a planted curve over the creator's local hour
    /// of the week (the creator's `open_id` is the account of
    /// [`InsightsConfig::best_slot`]).
    pub insights: InsightsConfig,
}

impl Default for TikTokConfig {
    fn default() -> Self {
        Self {
            client_key: "sandbox-client-key".into(),
            client_secret: "sandbox-client-secret".into(),
            audited: true,
            verified_url_prefixes: Vec::new(),
            access_token_lifetime: Duration::from_secs(2 * 3600),
            refresh_token_lifetime: Duration::from_secs(180 * 86_400),
            processing_time: Duration::from_millis(300),
            upload_url_lifetime: Duration::from_secs(3600),
            fetch_pulled_media: false,
            pull_delay: Duration::from_millis(200),
            insights: InsightsConfig::default(),
            daily_post_cap: None,
            active_creator_cap: None,
        }
    }
}

/// A creator account on the fake TikTok.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Creator {
    /// The creator's `open_id`.
    pub open_id: String,
    /// `creator_username`.
    pub username: String,
    /// `creator_nickname`.
    pub nickname: String,
    /// Whether the account is private (its privacy options differ).
    pub private_account: bool,
    /// `privacy_level_options`.
    pub privacy_level_options: Vec<String>,
    /// `comment_disabled`.
    pub comment_disabled: bool,
    /// `duet_disabled`.
    pub duet_disabled: bool,
    /// `stitch_disabled`.
    pub stitch_disabled: bool,
    /// `max_video_post_duration_sec`.
    pub max_video_post_duration_sec: u32,
    /// Whether TikTok has banned the creator from posting: creator_info answers
    /// `spam_risk_user_banned_from_posting` with HTTP 200, and init refuses it with 403.
    pub banned_from_posting: bool,
}

impl Creator {
    /// A public account: privacy options `PUBLIC_TO_EVERYONE`, `MUTUAL_FOLLOW_FRIENDS`,
    /// `SELF_ONLY`; 300 s videos.
    pub fn public(open_id: impl Into<String>) -> Self {
        let open_id = open_id.into();
        Self {
            username: format!("user_{open_id}"),
            nickname: format!("Creator {open_id}"),
            open_id,
            private_account: false,
            privacy_level_options: vec![
                "PUBLIC_TO_EVERYONE".into(),
                "MUTUAL_FOLLOW_FRIENDS".into(),
                "SELF_ONLY".into(),
            ],
            comment_disabled: false,
            duet_disabled: false,
            stitch_disabled: false,
            max_video_post_duration_sec: 300,
            banned_from_posting: false,
        }
    }

    /// A private account: privacy options `FOLLOWER_OF_CREATOR`, `MUTUAL_FOLLOW_FRIENDS`,
    /// `SELF_ONLY`; duets and stitches disabled.
    pub fn private(open_id: impl Into<String>) -> Self {
        let mut c = Self::public(open_id);
        c.private_account = true;
        c.privacy_level_options = vec![
            "FOLLOWER_OF_CREATOR".into(),
            "MUTUAL_FOLLOW_FRIENDS".into(),
            "SELF_ONLY".into(),
        ];
        c.duet_disabled = true;
        c.stitch_disabled = true;
        c
    }
}

/// Tokens the fake TikTok issued.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct IssuedTokens {
    /// The creator's `open_id`.
    pub open_id: String,
    /// The access token.
    pub access_token: SecretString,
    /// The refresh token.
    pub refresh_token: SecretString,
    /// The access token's lifetime.
    pub expires_in: Duration,
    /// The refresh token's lifetime.
    pub refresh_expires_in: Duration,
    /// The granted scopes.
    pub scopes: Vec<String>,
}

/// The kind of a publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PublishKind {
    /// Direct Post video.
    DirectVideo,
    /// Inbox (draft) video.
    InboxVideo,
    /// Photo post, direct.
    DirectPhoto,
    /// Photo post to the inbox (`MEDIA_UPLOAD`).
    InboxPhoto,
}

/// What the fake TikTok knows about one publish.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TikTokPublish {
    /// The `publish_id` returned by init.
    pub publish_id: String,
    /// The creator.
    pub open_id: String,
    /// The kind.
    pub kind: PublishKind,
    /// The status as `status/fetch` would report it now.
    pub status: String,
    /// The `fail_reason` when failed.
    pub fail_reason: Option<String>,
    /// The privacy level asked for.
    pub privacy_level: Option<String>,
    /// The title.
    pub title: Option<String>,
    /// The photo description.
    pub description: Option<String>,
    /// Bytes received by `FILE_UPLOAD`.
    pub uploaded_bytes: u64,
    /// The declared video size (`FILE_UPLOAD`).
    pub video_size: Option<u64>,
    /// The media URLs (`PULL_FROM_URL`).
    pub urls: Vec<String>,
    /// Bytes downloaded from `urls` so far; always 0 unless
    /// [`TikTokConfig::fetch_pulled_media`] is on.
    pub downloaded_bytes: u64,
    /// `publicaly_available_post_id`: the post's public id once it is `PUBLIC_TO_EVERYONE` and
    /// `PUBLISH_COMPLETE` (whether or not anyone fetched the status). A public video lists under
    /// this id on `video/list`.
    pub post_ids: Vec<u64>,
    /// The request body (`post_info` and `source_info`) as JSON text, as received.
    pub request: String,
}

impl TikTokPublish {
    /// Whether TikTok would count it as done: `PUBLISH_COMPLETE` or `SEND_TO_USER_INBOX`.
    pub fn is_done(&self) -> bool {
        self.status == "PUBLISH_COMPLETE" || self.status == "SEND_TO_USER_INBOX"
    }
}

/// A handle on the fake TikTok: add creators, issue tokens, inspect publishes, inject faults.
#[derive(Debug, Clone)]
pub struct TikTokSandbox {
    pub(crate) state: Arc<TikTokState>,
}

impl TikTokSandbox {
    /// The base URL of the API and token endpoint, such as `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        self.state.base_url()
    }

    /// The app's client key.
    pub fn client_key(&self) -> String {
        self.state.config().client_key
    }

    /// The app's client secret.
    pub fn client_secret(&self) -> SecretString {
        SecretString::from(self.state.config().client_secret)
    }

    /// Adds (or replaces) a creator.
    pub fn add_creator(&self, creator: Creator) {
        self.state.add_creator(creator);
    }

    /// Issues a token pair for `open_id` with `scopes`, as a completed OAuth flow would.
    pub fn issue_tokens(&self, open_id: &str, scopes: &[&str]) -> IssuedTokens {
        self.state.issue_tokens(open_id, scopes)
    }

    /// An authorization code for `open_id`, as TikTok's consent page would redirect with.
    /// `code_challenge` is TikTok's hex SHA-256 of the PKCE verifier, if PKCE is used.
    pub fn authorization_code(
        &self,
        open_id: &str,
        scopes: &[&str],
        redirect_uri: &str,
        code_challenge: Option<&str>,
    ) -> String {
        self.state
            .authorization_code(open_id, scopes, redirect_uri, code_challenge)
    }

    /// Every publish, oldest first, with its status as of now.
    pub fn publishes(&self) -> Vec<TikTokPublish> {
        self.state.publishes()
    }

    /// The publishes that are done (`PUBLISH_COMPLETE` or `SEND_TO_USER_INBOX`).
    pub fn published(&self) -> Vec<TikTokPublish> {
        self.publishes()
            .into_iter()
            .filter(|p| p.is_done())
            .collect()
    }

    /// How many refresh-token grants succeeded.
    pub fn refresh_count(&self) -> u64 {
        self.state.refresh_count()
    }

    /// Makes the next `times` calls to `endpoint` fail with `fault`.
    pub fn inject(&self, endpoint: TikTokEndpoint, fault: Fault, times: u32) {
        self.state.faults.push(endpoint, fault, times);
    }

    /// Makes a fraction `rate` of calls to `endpoints` fail with one of `faults`, chosen by a
    /// generator seeded with `seed` (reproducible).
    pub fn set_fault_rate(
        &self,
        rate: f64,
        seed: u64,
        faults: Vec<Fault>,
        endpoints: Vec<TikTokEndpoint>,
    ) {
        self.state.faults.set_random(rate, seed, faults, endpoints);
    }

    /// Removes every queued and random fault.
    pub fn clear_faults(&self) {
        self.state.faults.clear();
    }

    /// Expires an access token now, as if its lifetime had passed.
    pub fn expire_access_token(&self, access_token: &str) {
        self.state.expire_access_token(access_token);
    }

    /// Makes the next publish fail once its media has arrived and processed: `status/fetch`
    /// answers `FAILED` with `fail_reason` (one of TikTok's documented reasons, such as
    /// `file_format_check_failed`, `duration_check_failed`, `frame_rate_check_failed`,
    /// `picture_size_check_failed`, `internal`, `spam_risk_text` or `spam_risk`), since the
    /// sandbox does not inspect media itself.
    pub fn fail_next_publish(&self, fail_reason: &str) {
        self.state.fail_next_publish(fail_reason);
    }

    /// Makes the publish `publish_id` look posted `age` earlier: its `create_time` on
    /// `video/list` and `video/query` moves back, so listings order and page it as an older
    /// video. Its processing status does not change. Unknown ids are ignored.
    pub fn age_publish(&self, publish_id: &str, age: Duration) {
        self.state.age_publish(publish_id, age);
    }
}
