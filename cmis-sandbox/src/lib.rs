//! # cmis-sandbox
//!
//! Local stand-ins for the platforms cmis publishes to, speaking their real wire protocols on
//! `127.0.0.1` with random ports, so that examples, integration tests and your own tests run
//! offline. The fakes are written from the platforms' documentation — never from cmis's
//! connectors — so they catch a connector's mistakes instead of repeating them: they refuse what
//! the platform refuses, with the platform's own error envelope.
//!
//! - **TikTok** ([`TikTokSandbox`]): the OAuth token endpoint with rotating refresh tokens (a
//!   rotated refresh token stops working), creator info, Direct Post and inbox video init with
//!   TikTok's chunk rules, chunk `PUT`s with `Content-Range` checks (206/201/416), `PULL_FROM_URL`
//!   with verified URL prefixes (optionally downloaded for real, from loopback hosts only:
//!   [`TikTokConfig::fetch_pulled_media`]), photo posts, status progression
//!   (`PROCESSING_UPLOAD` or `PROCESSING_DOWNLOAD` → `PUBLISH_COMPLETE` with a 64-bit post id,
//!   `SEND_TO_USER_INBOX`, or `FAILED` when a pull fails), cancel, the per-token
//!   rate limits (init 6/min, creator info 20/min, status 30/min, Display API 600/min); and the
//!   Display API's reads of a creator's public videos (`video/list`, newest first with `fields`
//!   and a millisecond cursor, and `video/query`), under the same ids as the publishes'
//!   `publicaly_available_post_id`, with `view_count`, `like_count`, `comment_count` and
//!   `share_count` that grow after publishing ([`InsightsConfig`]).
//! - **Meta Graph** ([`MetaSandbox`]): Page feed, link, photo (URL or multipart `source`),
//!   multi-photo (`attached_media` of unpublished photos), the Resumable Upload API
//!   (`Authorization: OAuth`, `file_offset`), Page videos, reels (start, rupload, finish), native
//!   scheduling (10 minutes to 30 days); Instagram containers that stay `IN_PROGRESS` before
//!   `FINISHED` (publishing early fails with 9007/2207027), carousels of 2–10 items, reels,
//!   stories, the publishing quota (9/2207042), permalinks; the reads that reconcile a lost
//!   publish: a Page's `published_posts` and an account's `media`, newest first with `fields`,
//!   `since`/`until` and cursor paging, and a video's or Reel's `status` phases;
//!   `fb_exchange_token`, `/me/accounts`,
//!   `debug_token`, `ig_refresh_token` (tokens at least 24 h old); reads, edits and deletes of
//!   created objects by id with `fields`; bodies as form, multipart or JSON (what Meta's SDKs
//!   send) and list parameters in every documented form; expired Graph versions served as the
//!   oldest available one, unknown ones refused; the error envelope with `fbtrace_id`,
//!   `is_transient` on Instagram errors and `WWW-Authenticate`; `X-App-Usage` and
//!   `X-Business-Use-Case-Usage` on every answer. Insights ([`InsightsConfig`]): a Page post's
//!   `insights` (`period=lifetime`, integer or by-type values), a video's or Reel's
//!   `video_insights`, an Instagram media's `insights` with the metric sets of its media
//!   product type (stories for 24 hours), an account's `online_followers`; values only after a
//!   delay, drawn from a seeded engagement curve with a planted best hour of the week; retired
//!   metrics refused with code 100, failing the whole call, and a missing `read_insights` or
//!   `instagram_manage_insights` with code 200.
//! - **Bluesky** ([`BlueskySandbox`]): a PDS over XRPC. `createSession` with app passwords (the
//!   main password of an email-2FA account gets `AuthFactorTokenRequired`), JWTs with `exp`
//!   (access 120 minutes, refresh 90 days), `refreshSession` rotation where a used refresh token
//!   keeps working for a 2-hour grace only; `createRecord` with the `app.bsky.feed.post` lexicon
//!   (≤ 300 graphemes and ≤ 3 000 UTF-8 bytes, facets in byte offsets inside the text, ≤ 4
//!   images with `alt` and blobs this account uploaded, images over 976.56 KB refused with
//!   `BlobTooLarge`; replies, link cards with a ≤ 1 MB thumb, quotes and quotes with media, whose
//!   strong refs to records of this PDS must match their CIDs), client-chosen TID record keys and a generic 500 for a key that exists;
//!   `getRecord`, `uploadBlob` (content-addressed `bafkrei…` CIDs, a 50 MB cap),
//!   `resolveHandle`, `describeServer`, `getServiceAuth` (tokens bound to an `aud` and an `lxm`,
//!   60 s by default, at most an hour, `BadExpiration` otherwise); `createSession`'s 30 per 5
//!   minutes and the 5 000 write points per hour, with `RateLimit-*` headers whose `Reset` is a
//!   Unix time. Its clock can be moved forward ([`BlueskySandbox::advance_clock`]). Beside it,
//!   on its own port, Bluesky's video service ([`BlueskyVideoSandbox`]): `uploadVideo` with a
//!   service token the PDS issued (`aud` the PDS, `lxm` `com.atproto.repo.uploadBlob`; others
//!   get a 401), MP4 only, 100 MB; jobs that go `JOB_STATE_CREATED` → `JOB_STATE_ENCODING` with
//!   `progress` → `JOB_STATE_COMPLETED` after a processing time on the PDS's clock, and then hold
//!   a `video/mp4` blob stored in the account's repository, which a post's
//!   `app.bsky.embed.video` can reference; the same bytes again answer `already_exists` with the
//!   earlier blob; failures with the documented `failureCode`s
//!   ([`BlueskyVideoSandbox::fail_next_video`]); public `getJobStatus`; `getUploadLimits` with
//!   daily caps.
//! - **Threads** ([`ThreadsSandbox`]): Meta's Threads API (`graph.threads.net/v1.0`). The code
//!   exchange with the Threads app id (an Instagram-style `error_message` body otherwise), 1-hour
//!   short-lived and 60-day long-lived tokens, `th_refresh_token` for tokens at least 24 h old;
//!   containers (`TEXT`, `IMAGE`, `VIDEO`, `CAROUSEL` of 2–20 finished items) validated as
//!   Threads does (500 UTF-8 bytes, at most 5 links with `THREADS_API__LINK_LIMIT_EXCEEDED`,
//!   topic tags, reply controls), which stay `IN_PROGRESS` before `FINISHED` (publishing early
//!   fails with 24/4279009 "Media Not Found"), fail to `ERROR` on chosen media URLs and expire
//!   after 24 h; `threads_publish` with the 250 posts and 1 000 replies per rolling 24 h, the
//!   publishing limit, permalinks; the user's `threads` newest first with `fields`,
//!   `since`/`until` and cursors; the Graph error envelope with `fbtrace_id`. Its clock can be
//!   moved forward ([`ThreadsSandbox::advance_clock`]).
//! - **LinkedIn** ([`LinkedInSandbox`]): `/oauth/v2/accessToken` (codes; refresh tokens whose
//!   365-day lifetime a refresh does not reset; `invalid_grant` for dead ones) and the versioned
//!   `/rest/` API behind `LinkedIn-Version` (400 `VERSION_MISSING`; 426 `NONEXISTENT_VERSION`
//!   for sunset versions, [`LinkedInConfig::oldest_active_version`]) and
//!   `X-Restli-Protocol-Version: 2.0.0`, with the 401 bodies of expired, revoked and invalid
//!   tokens; posts whose little-text commentary is **silently cut at the first unescaped
//!   reserved character**, as LinkedIn does ([`LinkedInPost::text`]), 422 `DUPLICATE_POST`
//!   naming the first post, media that must be `AVAILABLE` (`MEDIA_ASSET_WAITING_UPLOAD`),
//!   the author finder (organizations; members need `r_member_social`), delete; images and
//!   documents (initialize, one `PUT`, status); videos in 4 MiB parts whose ETags finalize
//!   must list in order, then `PROCESSING` for a few reads; 429s without `Retry-After`.
//! - **YouTube** ([`YouTubeSandbox`]): Google's `/token` (S256 PKCE, refresh answers without
//!   `refresh_token`) and the Data API v3: resumable `videos.insert` with metadata checks, the
//!   project's uploads-per-day budget (403 `quotaExceeded`) and a channel cap (400
//!   `uploadLimitExceeded`), chunk `PUT`s in 256 KiB multiples from the stored offset, `308`
//!   with `Range`, probes with `bytes */N` that answer the `201` video again once the last
//!   byte arrived; `videos.list` with processing, `channels.list`, `playlistItems.list` newest
//!   first, `thumbnails.set` (403 on unverified channels). Counts for tests:
//!   [`YouTubeSandbox::video_count`], [`YouTubeSandbox::sessions_started`].
//!
//! Every endpoint takes injected [`Fault`]s: 5xx before or after the action, 429, expired
//! tokens, delays (for client timeouts), dropped connections and slow processing.
//!
//! ```no_run
//! # mod cmis { pub use cmis_core::*; pub mod sandbox { pub use cmis_sandbox::*; } }
//! # async fn demo() -> Result<(), cmis::Error> {
//! use cmis::sandbox::{Creator, Fault, Sandbox, TikTokEndpoint};
//!
//! let sandbox = Sandbox::start().await?;
//! let tiktok = sandbox.tiktok();
//! tiktok.add_creator(Creator::public("open-1"));
//! let tokens = tiktok.issue_tokens("open-1", &["user.info.basic", "video.publish"]);
//! // Point a TikTok client at `tiktok.url()`, publish, then look:
//! tiktok.inject(TikTokEndpoint::Upload, Fault::ServerError, 1);
//! let published = tiktok.published();
//! # let _ = (tokens, published);
//! # Ok(()) }
//! ```
//!
//! Run it as a program with `cargo run -p cmis-sandbox`: it prints its URLs and a seeded
//! account's tokens as one JSON line and serves until interrupted. Tests in any language drive
//! it through its [control API](control) over HTTP: faults, what was published (with the
//! requests behind it), accounts, the clock and reset (`--port`, `--seed`, `--state FILE`: see
//! the program's `--help`).

#![cfg_attr(docsrs, feature(doc_cfg))]
mod bluesky;
mod clock;
pub mod control;
mod fault;
mod http;
mod insights;
mod linkedin;
mod meta;
mod pkce;
mod threads;
mod tiktok;
mod youtube;

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use cmis_core::{Error, Result};
use tokio::sync::oneshot;

pub use bluesky::{
    BlueskyAccount, BlueskyBlob, BlueskyConfig, BlueskyEndpoint, BlueskyRecord, BlueskySandbox,
    BlueskySession, BlueskyStrongRef, BlueskyVideoConfig, BlueskyVideoEndpoint,
    BlueskyVideoFailure, BlueskyVideoJob, BlueskyVideoSandbox,
};
pub use fault::Fault;
pub use insights::InsightsConfig;
pub use linkedin::{
    LinkedInConfig, LinkedInEndpoint, LinkedInPost, LinkedInSandbox, LinkedInTokens,
};
pub use meta::{InstagramLogin, MetaConfig, MetaEndpoint, MetaPost, MetaSandbox, MetaThrottle};
pub use threads::{ThreadsConfig, ThreadsContainer, ThreadsEndpoint, ThreadsPost, ThreadsSandbox};
pub use tiktok::{
    Creator, IssuedTokens, PublishKind, TikTokConfig, TikTokEndpoint, TikTokPublish, TikTokSandbox,
};
pub use youtube::{
    YouTubeConfig, YouTubeEndpoint, YouTubeSandbox, YouTubeSession, YouTubeTokens, YouTubeVideo,
};

/// Running fake platforms. They stop when this value is dropped.
///
/// Any HTTP client can talk to them, not only cmis's connectors: here a plain `reqwest` call
/// posts to a fake Facebook Page, and the sandbox shows what Meta would now hold.
///
/// ```
/// # mod cmis { pub use cmis_core::*; pub mod sandbox { pub use cmis_sandbox::*; } }
/// use cmis::ExposeSecret;
/// use cmis::sandbox::Sandbox;
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let sandbox = Sandbox::start().await?;
/// let meta = sandbox.meta();
/// let page_token = meta.add_page("1234567890", "Cafe");
/// # let http = cmis_http::client_builder()?.build()?;
/// // `http` is a `reqwest::Client`; any HTTP client will do.
/// let answer = http
///     .post(format!("{}/v25.0/1234567890/feed", meta.url()))
///     .bearer_auth(page_token.expose_secret())
///     .form(&[("message", "Doors open at 9")])
///     .send()
///     .await?
///     .text()
///     .await?;
/// let posts = meta.posts();
/// assert_eq!(posts.len(), 1);
/// assert_eq!(posts[0].message.as_deref(), Some("Doors open at 9"));
/// assert!(answer.contains(&posts[0].id), "Meta answers with the post's id: {answer}");
/// # Ok(()) }
/// ```
pub struct Sandbox {
    tiktok: TikTokSandbox,
    tiktok_addr: SocketAddr,
    meta: MetaSandbox,
    meta_addr: SocketAddr,
    bluesky: BlueskySandbox,
    bluesky_addr: SocketAddr,
    bluesky_video: BlueskyVideoSandbox,
    bluesky_video_addr: SocketAddr,
    threads: ThreadsSandbox,
    threads_addr: SocketAddr,
    linkedin: LinkedInSandbox,
    linkedin_addr: SocketAddr,
    youtube: YouTubeSandbox,
    youtube_addr: SocketAddr,
    control: control::Wiring,
    control_addr: Option<SocketAddr>,
    _shutdown: Vec<oneshot::Sender<()>>,
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sandbox")
            .field("tiktok", &self.tiktok_addr)
            .field("meta", &self.meta_addr)
            .field("bluesky", &self.bluesky_addr)
            .field("bluesky_video", &self.bluesky_video_addr)
            .field("threads", &self.threads_addr)
            .field("linkedin", &self.linkedin_addr)
            .field("youtube", &self.youtube_addr)
            .field("control", &self.control_addr)
            .finish_non_exhaustive()
    }
}

/// Configures a [`Sandbox`].
#[derive(Debug, Default)]
pub struct SandboxBuilder {
    tiktok: TikTokConfig,
    meta: MetaConfig,
    bluesky: BlueskyConfig,
    bluesky_video: BlueskyVideoConfig,
    threads: ThreadsConfig,
    linkedin: LinkedInConfig,
    youtube: YouTubeConfig,
    control: bool,
    listen: Option<IpAddr>,
    allow_remote: bool,
    first_port: Option<u16>,
}

impl SandboxBuilder {
    /// Also starts the [control API](control), whose address is [`Sandbox::control_url`].
    #[must_use]
    pub fn control_api(mut self, on: bool) -> Self {
        self.control = on;
        self
    }

    /// Listens on `ip` instead of `127.0.0.1` (every fake and the control API). Starting fails
    /// for an address that is not a loopback one unless [`SandboxBuilder::allow_remote`] is set.
    #[must_use]
    pub fn listen(mut self, ip: IpAddr) -> Self {
        self.listen = Some(ip);
        self
    }

    /// Allows [`SandboxBuilder::listen`] to name a non-loopback address: whoever reaches it can
    /// publish, read every token and drive the control API.
    #[must_use]
    pub fn allow_remote(mut self, allow: bool) -> Self {
        self.allow_remote = allow;
        self
    }

    /// Fixed ports instead of random ones: the control API on `first` (even when it is off), then
    /// TikTok, Meta, Bluesky, Bluesky video, Threads, LinkedIn and YouTube on `first + 1` to
    /// `first + 7`.
    #[must_use]
    pub fn ports(mut self, first: u16) -> Self {
        self.first_port = Some(first);
        self
    }

    /// Sets how the fake TikTok behaves.
    #[must_use]
    pub fn tiktok(mut self, config: TikTokConfig) -> Self {
        self.tiktok = config;
        self
    }

    /// Sets how the fake Meta behaves.
    #[must_use]
    pub fn meta(mut self, config: MetaConfig) -> Self {
        self.meta = config;
        self
    }

    /// Sets how the fake Bluesky PDS behaves.
    #[must_use]
    pub fn bluesky(mut self, config: BlueskyConfig) -> Self {
        self.bluesky = config;
        self
    }

    /// Sets how the fake Bluesky video service behaves.
    #[must_use]
    pub fn bluesky_video(mut self, config: BlueskyVideoConfig) -> Self {
        self.bluesky_video = config;
        self
    }

    /// Sets how the fake Threads API behaves.
    #[must_use]
    pub fn threads(mut self, config: ThreadsConfig) -> Self {
        self.threads = config;
        self
    }

    /// Sets how the fake LinkedIn behaves.
    #[must_use]
    pub fn linkedin(mut self, config: LinkedInConfig) -> Self {
        self.linkedin = config;
        self
    }

    /// Sets how the fake YouTube behaves.
    #[must_use]
    pub fn youtube(mut self, config: YouTubeConfig) -> Self {
        self.youtube = config;
        self
    }

    /// Starts the servers on `127.0.0.1` with random ports (unless [`SandboxBuilder::listen`]
    /// or [`SandboxBuilder::ports`] say otherwise).
    pub async fn start(self) -> Result<Sandbox> {
        use control::Platform as P;
        let net = control::Net::new(self.listen, self.allow_remote, self.first_port)?;
        let wiring = control::Wiring::new(self.control);
        let wrap = |p, router| wiring.wrap(p, router);
        let mut shutdown = Vec::new();
        let state = Arc::new(tiktok::TikTokState::new(self.tiktok));
        let (addr, stop) =
            serve(wrap(P::TikTok, tiktok::router(state.clone())), net.addr(1)).await?;
        state.set_base_url(format!("http://{addr}"));
        shutdown.push(stop);
        let meta_state = Arc::new(meta::MetaState::new(self.meta));
        let (meta_addr, stop) =
            serve(wrap(P::Meta, meta::router(meta_state.clone())), net.addr(2)).await?;
        meta_state.set_base_url(format!("http://{meta_addr}"));
        shutdown.push(stop);
        let bluesky_state = Arc::new(bluesky::BlueskyState::new(self.bluesky));
        let (bluesky_addr, stop) = serve(
            wrap(P::Bluesky, bluesky::router(bluesky_state.clone())),
            net.addr(3),
        )
        .await?;
        bluesky_state.set_base_url(format!("http://{bluesky_addr}"));
        shutdown.push(stop);
        let video_state = Arc::new(bluesky::VideoState::new(
            self.bluesky_video,
            bluesky_state.clone(),
        ));
        let (bluesky_video_addr, stop) = serve(
            wrap(P::BlueskyVideo, bluesky::video_router(video_state.clone())),
            net.addr(4),
        )
        .await?;
        video_state.set_base_url(format!("http://{bluesky_video_addr}"));
        shutdown.push(stop);
        let threads_state = Arc::new(threads::ThreadsState::new(self.threads));
        let (threads_addr, stop) = serve(
            wrap(P::Threads, threads::router(threads_state.clone())),
            net.addr(5),
        )
        .await?;
        threads_state.set_base_url(format!("http://{threads_addr}"));
        shutdown.push(stop);
        let linkedin_state = Arc::new(linkedin::LinkedInState::new(self.linkedin));
        let (linkedin_addr, stop) = serve(
            wrap(P::LinkedIn, linkedin::router(linkedin_state.clone())),
            net.addr(6),
        )
        .await?;
        linkedin_state.set_base_url(format!("http://{linkedin_addr}"));
        shutdown.push(stop);
        let youtube_state = Arc::new(youtube::YouTubeState::new(self.youtube));
        let (youtube_addr, stop) = serve(
            wrap(P::YouTube, youtube::router(youtube_state.clone())),
            net.addr(7),
        )
        .await?;
        youtube_state.set_base_url(format!("http://{youtube_addr}"));
        shutdown.push(stop);
        let mut sandbox = Sandbox {
            tiktok: TikTokSandbox { state },
            tiktok_addr: addr,
            meta: MetaSandbox { state: meta_state },
            meta_addr,
            bluesky: BlueskySandbox {
                state: bluesky_state,
            },
            bluesky_addr,
            bluesky_video: BlueskyVideoSandbox { state: video_state },
            bluesky_video_addr,
            threads: ThreadsSandbox {
                state: threads_state,
            },
            threads_addr,
            linkedin: LinkedInSandbox {
                state: linkedin_state,
            },
            linkedin_addr,
            youtube: YouTubeSandbox {
                state: youtube_state,
            },
            youtube_addr,
            control: wiring.clone(),
            control_addr: None,
            _shutdown: shutdown,
        };
        if let Some((addr, stop)) = wiring.start(&sandbox, net.addr(0)).await? {
            sandbox.control_addr = Some(addr);
            sandbox._shutdown.push(stop);
        }
        Ok(sandbox)
    }
}

async fn serve(
    router: axum::Router,
    addr: SocketAddr,
) -> Result<(SocketAddr, oneshot::Sender<()>)> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Error::internal(format!("sandbox cannot listen on {addr}: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::internal(format!("sandbox has no local address: {e}")))?;
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let server = axum::serve(listener, router).with_graceful_shutdown(async {
            let _ = rx.await;
        });
        if let Err(e) = server.await {
            tracing::warn!("sandbox server stopped: {e}");
        }
    });
    Ok((addr, tx))
}

impl Sandbox {
    /// Starts the fake platforms with default settings.
    pub async fn start() -> Result<Sandbox> {
        Self::builder().start().await
    }

    /// Configures the fake platforms before starting them.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }

    /// The fake TikTok.
    pub fn tiktok(&self) -> &TikTokSandbox {
        &self.tiktok
    }

    /// The fake Meta Graph API (Facebook Pages and Instagram).
    pub fn meta(&self) -> &MetaSandbox {
        &self.meta
    }

    /// The fake Bluesky PDS.
    pub fn bluesky(&self) -> &BlueskySandbox {
        &self.bluesky
    }

    /// The fake Bluesky video service (`video.bsky.app`), which shares the fake PDS's accounts,
    /// service tokens, clock and repositories.
    pub fn bluesky_video(&self) -> &BlueskyVideoSandbox {
        &self.bluesky_video
    }

    /// The fake Threads API.
    pub fn threads(&self) -> &ThreadsSandbox {
        &self.threads
    }

    /// The fake LinkedIn (OAuth and the versioned REST API).
    pub fn linkedin(&self) -> &LinkedInSandbox {
        &self.linkedin
    }

    /// The fake YouTube (Google's token endpoint and the Data API v3).
    pub fn youtube(&self) -> &YouTubeSandbox {
        &self.youtube
    }

    /// The [control API](control)'s base URL, when [`SandboxBuilder::control_api`] started it.
    pub fn control_url(&self) -> Option<String> {
        self.control_addr.map(|a| format!("http://{a}"))
    }

    /// Forgets everything published or in flight, every fault, clock moves and the control
    /// API's request log; accounts and their tokens stay (the control API's `POST /reset`).
    pub fn reset(&self) {
        control::Fakes::of(self).reset();
        self.control.reset();
    }

    /// Adds the accounts of a state document (the JSON of the control API's `POST /seed` and
    /// the program's `--state FILE`, described in [`control`]) and answers their tokens as JSON
    /// text. Nothing is added when the document is invalid.
    pub fn seed(&self, state: &str) -> Result<String> {
        control::seed(&control::Fakes::of(self), state.as_bytes())
            .map(|v| v.to_string())
            .map_err(Error::invalid_input)
    }
}
