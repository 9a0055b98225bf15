//! A fake of Meta's Threads API (`graph.threads.net`, version `v1.0`): the OAuth code exchange,
//! short- and long-lived tokens and their refresh; media containers (text, image, video,
//! carousel) that process before they can be published, with Threads' validation (500 UTF-8
//! bytes, at most 5 links, topic tags, reply controls, 2–20 carousel items); container status
//! (`IN_PROGRESS`, `FINISHED`, `PUBLISHED`, `ERROR`, `EXPIRED`); `threads_publish` with the
//! "Media Not Found" error of an early publish and the 250-posts-per-24-hours quota; the
//! publishing limit; the user's threads listing and media reads with `fields` and cursors;
//! deletes (100 per day) and `debug_token`; the Graph error envelope with `fbtrace_id`.
//!
//! Written from the project's `docs/threads-api.md` brief (cited below as "brief §n") and the
//! recorded fixtures in `cmis-meta/tests/fixtures/threads/`, not from any connector. Where a body
//! is undocumented the doc comment says it is constructed.
//!
//! The fake's clock is tokio's (pausable in tests) plus an offset that
//! [`ThreadsSandbox::advance_clock`] moves forward, so container processing, container expiry,
//! token lifetimes and the rolling quota windows can be crossed without waiting.

mod routes;
mod state;

use std::sync::Arc;
use std::time::Duration;

use cmis_core::SecretString;

use crate::fault::Fault;

pub(crate) use routes::router;
pub(crate) use state::ThreadsState;

/// The Threads endpoints, for fault injection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ThreadsEndpoint {
    /// `POST /oauth/access_token`: an authorization code for a short-lived token.
    ExchangeCode,
    /// `GET /access_token?grant_type=th_exchange_token`: short-lived for long-lived.
    ExchangeToken,
    /// `GET /refresh_access_token?grant_type=th_refresh_token`.
    RefreshToken,
    /// `POST /v1.0/{user-id}/threads`: create a media container.
    CreateContainer,
    /// `GET /v1.0/{container-id}`: a container's `status`.
    ContainerStatus,
    /// `POST /v1.0/{user-id}/threads_publish`.
    Publish,
    /// `GET /v1.0/{user-id}/threads_publishing_limit`.
    PublishingLimit,
    /// `GET /v1.0/{user-id}/threads`: the user's published threads.
    ListThreads,
    /// `GET /v1.0/{media-id}` (and other object reads that are not containers, such as `me` and
    /// `debug_token`), and `DELETE /v1.0/{media-id}`.
    GetMedia,
}

impl ThreadsEndpoint {
    /// Every endpoint.
    pub const ALL: [ThreadsEndpoint; 9] = [
        Self::ExchangeCode,
        Self::ExchangeToken,
        Self::RefreshToken,
        Self::CreateContainer,
        Self::ContainerStatus,
        Self::Publish,
        Self::PublishingLimit,
        Self::ListThreads,
        Self::GetMedia,
    ];
}

/// How the fake Threads API behaves. The defaults are Threads' documented values.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ThreadsConfig {
    /// The Threads app id (`client_id`; `9876543210987654`). An app with the Threads use case
    /// has its own id, apart from the Facebook app id (brief §1 "App identity"): any other
    /// `client_id` is refused.
    pub app_id: String,
    /// The Threads app secret (`sandbox-threads-app-secret`).
    pub app_secret: SecretString,
    /// How long a new container stays `IN_PROGRESS` before it is `FINISHED` (or `ERROR`), on the
    /// fake's clock: 2 seconds for every media type. Text containers need the wait too: a
    /// publish ~7 s after creation failed with 4279009 in production (brief §2.2).
    pub container_ready_after: Duration,
    /// How long an unpublished container lives before it is `EXPIRED` (24 hours, brief §2.2).
    pub container_lifetime: Duration,
    /// Posts that may be published per profile per rolling 24 hours (250; a carousel counts
    /// once; replies do not count here; brief §3).
    pub publish_quota: u32,
    /// Replies that may be published per profile per rolling 24 hours (1 000, brief §3).
    pub reply_quota: u32,
    /// A long-lived token's lifetime: 5 183 944 seconds (60 days less 56 seconds), the
    /// `expires_in` Meta documents for the exchange and the refresh (brief §1). `expires_in` is
    /// this lifetime in whole seconds.
    pub token_lifetime: Duration,
    /// A short-lived token's lifetime (1 hour, brief §1).
    pub short_lived_lifetime: Duration,
    /// How old a long-lived token must be before it can be refreshed (24 hours, brief §1).
    pub refresh_min_age: Duration,
    /// Media URLs that fail processing: a container whose `image_url` or `video_url` contains
    /// the first string ends in `ERROR` with the second as `error_message`, such as
    /// `("broken.mp4", "FAILED_DOWNLOADING_VIDEO")`. Empty by default. A URL holding
    /// `cmis_sandbox_error=<ERROR_MESSAGE>` fails the same way without configuration, and
    /// [`ThreadsSandbox::fail_media_url`] adds entries while running.
    pub failing_media_urls: Vec<(String, String)>,
}

impl Default for ThreadsConfig {
    fn default() -> Self {
        Self {
            app_id: "9876543210987654".into(),
            app_secret: SecretString::from("sandbox-threads-app-secret"),
            container_ready_after: Duration::from_secs(2),
            container_lifetime: Duration::from_secs(24 * 3600),
            publish_quota: 250,
            reply_quota: 1000,
            token_lifetime: Duration::from_secs(5_183_944),
            short_lived_lifetime: Duration::from_secs(3600),
            refresh_min_age: Duration::from_secs(24 * 3600),
            failing_media_urls: Vec::new(),
        }
    }
}

/// A post published on the fake Threads.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ThreadsPost {
    /// The Threads media id `threads_publish` answered (digits, above 2^53).
    pub id: String,
    /// The container it was published from.
    pub container_id: String,
    /// The Threads user who published it.
    pub user_id: String,
    /// As the reads report it: `TEXT_POST`, `IMAGE`, `VIDEO` or `CAROUSEL_ALBUM` (the create
    /// call's `TEXT` reads back as `TEXT_POST`).
    pub media_type: String,
    /// The post's text.
    pub text: Option<String>,
    /// The media URLs: one for an image or video, the children's in order for a carousel.
    pub media_urls: Vec<String>,
    /// The `alt_text` of each medium, in the order of `media_urls`.
    pub alt_texts: Vec<Option<String>>,
    /// `reply_control`, as sent.
    pub reply_control: Option<String>,
    /// `topic_tag`, as sent.
    pub topic_tag: Option<String>,
    /// `link_attachment` (text posts only).
    pub link_attachment: Option<String>,
    /// The post this replies to.
    pub reply_to_id: Option<String>,
    /// The post this quotes.
    pub quote_post_id: Option<String>,
    /// `https://www.threads.net/@{username}/post/{shortcode}`.
    pub permalink: String,
    /// When it was published, in Graph's format: `2023-10-09T23:18:27+0000`.
    pub timestamp: String,
    /// When it was published, in Unix seconds.
    pub created_time: i64,
}

/// A media container on the fake Threads.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ThreadsContainer {
    /// The container id (digits, in another range than media ids).
    pub id: String,
    /// Its owner.
    pub user_id: String,
    /// The `media_type` it was created with: `TEXT`, `IMAGE`, `VIDEO` or `CAROUSEL`.
    pub media_type: String,
    /// Whether it is a carousel child (`is_carousel_item=true`).
    pub is_carousel_item: bool,
    /// A carousel's children (container ids, in order).
    pub children: Vec<String>,
    /// Its status now: `IN_PROGRESS`, `FINISHED`, `PUBLISHED`, `ERROR` or `EXPIRED`.
    pub status: String,
    /// Why it failed, when `status` is `ERROR`.
    pub error_message: Option<String>,
    /// The media id it was published as.
    pub published_id: Option<String>,
}

/// A handle on the fake Threads API: add users, issue tokens and codes, inspect posts and
/// containers, inject faults, move the clock.
///
/// ```no_run
/// # mod cmis { pub use cmis_core::*; pub mod sandbox { pub use cmis_sandbox::*; } }
/// # async fn demo() -> Result<(), cmis::Error> {
/// use std::time::Duration;
///
/// use cmis::sandbox::{Fault, Sandbox, ThreadsEndpoint};
///
/// let sandbox = Sandbox::start().await?;
/// let threads = sandbox.threads();
/// let token = threads.add_user("17841405793187218", "threadsapitestuser");
/// // Point a Threads client at `threads.url()` with that token. The next publish goes live,
/// // but is answered with a 500: a careful client reads the container before retrying.
/// threads.inject(ThreadsEndpoint::Publish, Fault::ServerErrorAfterAccept, 1);
/// // ... create a container, then let it finish processing:
/// threads.advance_clock(Duration::from_secs(3));
/// // ... publish, then look:
/// assert!(threads.posts().len() <= 1, "never posted twice");
/// # let _ = token;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ThreadsSandbox {
    pub(crate) state: Arc<ThreadsState>,
}

impl ThreadsSandbox {
    /// The base URL, such as `http://127.0.0.1:41234`, standing for `https://graph.threads.net`:
    /// the API is under `/v1.0/`, the token endpoints are unversioned.
    pub fn url(&self) -> String {
        self.state.base_url()
    }

    /// The Threads app id (`client_id`).
    pub fn app_id(&self) -> String {
        self.state.config().app_id.clone()
    }

    /// The Threads app secret.
    pub fn app_secret(&self) -> SecretString {
        self.state.config().app_secret.clone()
    }

    /// Adds (or renames) a Threads user and returns a fresh long-lived token issued now.
    ///
    /// `user_id` should be digits, as Threads user ids are: the code exchange answers it as a
    /// JSON number (any other id is answered as a string).
    pub fn add_user(&self, user_id: &str, username: &str) -> SecretString {
        self.state.add_user(user_id, username);
        self.issue_token(user_id)
    }

    /// Another long-lived token (60 days) for `user_id`, issued now. An unknown user is added
    /// with its id as username.
    pub fn issue_token(&self, user_id: &str) -> SecretString {
        SecretString::from(self.state.issue_token(user_id, true))
    }

    /// A short-lived token (1 hour) for `user_id`, issued now, as the code exchange gives.
    pub fn issue_short_lived(&self, user_id: &str) -> SecretString {
        SecretString::from(self.state.issue_token(user_id, false))
    }

    /// An authorization code for `user_id`, as the authorization window would redirect with to
    /// `redirect_uri`. `POST /oauth/access_token` takes it once, with exactly this
    /// `redirect_uri`, within an hour.
    pub fn issue_code(&self, user_id: &str, redirect_uri: &str) -> String {
        self.state.issue_code(user_id, redirect_uri)
    }

    /// Expires a token now, as if its lifetime had passed.
    pub fn expire_token(&self, token: &str) {
        self.state.expire_token(token);
    }

    /// Everything published, oldest first.
    pub fn posts(&self) -> Vec<ThreadsPost> {
        self.state.posts()
    }

    /// Every container, in creation order, with its status now.
    pub fn containers(&self) -> Vec<ThreadsContainer> {
        self.state.containers()
    }

    /// How many times `threads_publish` was called for a container already published.
    pub fn duplicate_publish_attempts(&self) -> u64 {
        self.state.duplicate_publish_attempts()
    }

    /// Makes containers created from now on whose `image_url` or `video_url` contains `pattern`
    /// end in `ERROR` with `error_message` (such as `FAILED_DOWNLOADING_VIDEO` or `UNKNOWN`).
    pub fn fail_media_url(&self, pattern: &str, error_message: &str) {
        self.state.fail_media_url(pattern, error_message);
    }

    /// Sets how many posts `user_id` has published in the last 24 hours, as if `n` had been
    /// published just now (replies are counted apart: [`Self::set_reply_quota_used`]).
    pub fn set_publish_quota_used(&self, user_id: &str, n: u32) {
        self.state.set_quota_used(user_id, n, false);
    }

    /// Sets how many replies `user_id` has published in the last 24 hours, as if `n` had been
    /// published just now.
    pub fn set_reply_quota_used(&self, user_id: &str, n: u32) {
        self.state.set_quota_used(user_id, n, true);
    }

    /// Moves the fake's clock forward: container processing and expiry, tokens, codes and the
    /// quota windows see the time pass. The clock also follows tokio's (pausable) clock.
    pub fn advance_clock(&self, by: Duration) {
        self.state.advance_clock(by);
    }

    /// The fake's current time, in Unix seconds (what `timestamp`, `since` and `until` use).
    pub fn unix_time(&self) -> i64 {
        self.state.now_ms() / 1000
    }

    /// Makes the next `times` calls to `endpoint` fail with `fault`. The faults that act first
    /// ([`Fault::acts_first`]) carry out the call before failing; [`Fault::SlowProcessing`]
    /// makes the next container take that much longer.
    pub fn inject(&self, endpoint: ThreadsEndpoint, fault: Fault, times: u32) {
        self.state.faults.push(endpoint, fault, times);
    }

    /// Makes a fraction `rate` of calls to `endpoints` fail with one of `faults`, chosen by a
    /// generator seeded with `seed` (reproducible).
    pub fn set_fault_rate(
        &self,
        rate: f64,
        seed: u64,
        faults: Vec<Fault>,
        endpoints: Vec<ThreadsEndpoint>,
    ) {
        self.state.faults.set_random(rate, seed, faults, endpoints);
    }

    /// Removes every queued and random fault.
    pub fn clear_faults(&self) {
        self.state.faults.clear();
    }
}
