//! A fake of the Meta Graph API for Facebook Pages and Instagram professional accounts: Page feed,
//! photo, multi-photo, resumable video upload, reels, native scheduling; Instagram containers
//! that process before they can be published, carousels, the publishing quota and permalinks;
//! the reads of what was published (`published_posts`, IG `media`, a video's `status`) and of
//! any created object by id with `fields`, edits and deletes of Page posts; token exchange, Page
//! tokens, `debug_token` and Instagram-Login refresh; the version policy; the error envelope and
//! the usage headers; post, video, media and account insights (see [`InsightsConfig`]). Parameters come in the query string, or a form, multipart or JSON body,
//! with list parameters in any documented form.
//!
//! Written from Meta's documentation (see the project's `docs/meta-graph-api.md` notes), not from
//! any connector.

mod envelope;
mod routes;
mod state;
mod wire;

use std::sync::Arc;
use std::time::Duration;

use cmis_core::SecretString;

use crate::fault::Fault;
use crate::insights::InsightsConfig;

pub(crate) use routes::router;
pub(crate) use state::MetaState;
// Graph's `fields` and time conventions, shared with the Threads fake (graph.threads.net).
pub(crate) use state::{Field, graph_time, parse_fields, parse_time, project};

/// The Meta endpoints, for fault injection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MetaEndpoint {
    /// `POST /{page-id}/feed`.
    Feed,
    /// `POST /{page-id}/photos`.
    Photos,
    /// `POST /{app-id}/uploads` and the upload session's `POST`/`GET`.
    Uploads,
    /// `POST /{page-id}/videos`.
    Videos,
    /// `POST /{page-id}/video_reels` and the rupload `POST`.
    Reels,
    /// `POST /{ig-user-id}/media`.
    Media,
    /// `GET /{container-id}?fields=status_code`.
    ContainerStatus,
    /// `POST /{ig-user-id}/media_publish`.
    MediaPublish,
    /// `GET /{media-id}?fields=permalink`.
    Permalink,
    /// `GET /{ig-user-id}/content_publishing_limit`.
    PublishingLimit,
    /// `GET /{page-id}/published_posts`.
    PublishedPosts,
    /// `GET /{ig-user-id}/media` (the account's published media, not container creation).
    MediaList,
    /// `GET /{video-id}?fields=status` for a Page video or Reel.
    VideoStatus,
    /// Token calls: `oauth/access_token`, `refresh_access_token`, `debug_token`, `me/accounts`.
    Tokens,
    /// `GET`, `POST` (edit) and `DELETE /{id}` of a Page post or photo.
    Object,
    /// `GET /{id}/insights` (a Page post, an Instagram media or account) and
    /// `GET /{video-id}/video_insights`.
    Insights,
}

/// How the fake Meta behaves.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MetaConfig {
    /// The app id.
    pub app_id: String,
    /// The app secret.
    pub app_secret: String,
    /// The oldest Graph version still served, as a number (versions before it have expired:
    /// v20.0 expired on 24 September 2026). Calls to an expired version are served by this one,
    /// as Graph serves them, and say so in their `facebook-api-version` header.
    pub oldest_version: u32,
    /// The newest Graph version released, as a number (v27.0 came out on 4 November 2026): a
    /// version after it does not exist, and a call to it is refused as an unknown path (code
    /// 2500).
    pub latest_version: u32,
    /// How long an Instagram container stays `IN_PROGRESS`.
    pub container_processing_time: Duration,
    /// Instagram's publishing quota per 24 hours (`quota_total`).
    pub publishing_quota: u32,
    /// Long-lived user token lifetime (`expires_in` of the exchange: about 60 days).
    pub long_lived_lifetime: Duration,
    /// Which limit an injected [`Fault::RateLimited`] reports.
    pub throttle: MetaThrottle,
    /// How the Page post, video, Instagram media and account insights behave (the planted
    /// engagement curve, the delay before data, the seed).
    pub insights: InsightsConfig,
}

/// Which limit an injected [`Fault::RateLimited`] reports on the fake Meta (Meta's rate-limiting
/// page: code 4 is the app's limit, 80001 a Page's and 80002 an Instagram account's business use
/// case limit; `estimated_time_to_regain_access` is in minutes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum MetaThrottle {
    /// The app's limit: code 4, `X-App-Usage` at 100 %, and the Page's
    /// `X-Business-Use-Case-Usage` at 100 % with 5 minutes to regain access.
    #[default]
    App,
    /// One account's business use case limit: code 80001 for a Page, 80002 for an Instagram
    /// account (17 for a user token), `X-Business-Use-Case-Usage` at 100 % for that account with
    /// `estimated_time_to_regain_access` set to `regain_minutes`, while `X-App-Usage` stays low.
    /// The account is the one the call is made on, or else the one the token belongs to.
    Account {
        /// `estimated_time_to_regain_access`, in minutes.
        regain_minutes: u32,
    },
}

impl Default for MetaConfig {
    fn default() -> Self {
        Self {
            app_id: "1234567890123456".into(),
            app_secret: "sandbox-app-secret".into(),
            oldest_version: 21,
            latest_version: 27,
            container_processing_time: Duration::from_millis(300),
            publishing_quota: 50,
            long_lived_lifetime: Duration::from_secs(5_183_944),
            throttle: MetaThrottle::App,
            insights: InsightsConfig::default(),
        }
    }
}

/// Which login an Instagram account's token comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InstagramLogin {
    /// Facebook Login: a Page token, on graph.facebook.com.
    Facebook,
    /// Instagram Login: an Instagram user token, on graph.instagram.com, refreshable.
    Instagram,
}

/// Something published on the fake Meta.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MetaPost {
    /// The id Meta returned.
    pub id: String,
    /// The Page or Instagram user it was published as.
    pub owner: String,
    /// What it is: `feed`, `photo`, `video`, `reel`, `ig_image`, `ig_carousel`, `ig_reel`,
    /// `ig_story`.
    pub kind: String,
    /// The message or caption.
    pub message: Option<String>,
    /// Whether it is live (false for unpublished photos and natively scheduled posts).
    pub published: bool,
    /// For natively scheduled posts, the Unix time it goes live.
    pub scheduled_publish_time: Option<i64>,
    /// Media: photo ids attached, children, URLs, or bytes received.
    pub media: Vec<String>,
    /// When it went live, in Unix seconds (Graph's `created_time`, Instagram's `timestamp`);
    /// `None` while it is not live (unpublished photos, natively scheduled posts, draft Reels).
    pub created_time: Option<i64>,
}

/// A handle on the fake Meta: add Pages and Instagram accounts, inspect posts, inject faults.
#[derive(Debug, Clone)]
pub struct MetaSandbox {
    pub(crate) state: Arc<MetaState>,
}

impl MetaSandbox {
    /// The base URL for graph.facebook.com, graph-video.facebook.com, rupload.facebook.com and
    /// graph.instagram.com alike.
    pub fn url(&self) -> String {
        self.state.base_url()
    }

    /// The app id.
    pub fn app_id(&self) -> String {
        self.state.config().app_id
    }

    /// The app secret.
    pub fn app_secret(&self) -> SecretString {
        SecretString::from(self.state.config().app_secret)
    }

    /// Adds a Facebook Page with the publishing permissions, returning its Page token (which,
    /// derived from a long-lived user token, does not expire).
    pub fn add_page(&self, page_id: &str, name: &str) -> SecretString {
        SecretString::from(self.state.add_page(page_id, name))
    }

    /// Adds an Instagram professional account, returning its token.
    pub fn add_instagram_account(&self, ig_user_id: &str, login: InstagramLogin) -> SecretString {
        SecretString::from(self.state.add_instagram(ig_user_id, login))
    }

    /// Issues a user token for `user_id` that manages every Page added so far, lasting `lifetime`.
    pub fn issue_user_token(&self, user_id: &str, lifetime: Duration) -> SecretString {
        SecretString::from(self.state.issue_user_token(user_id, lifetime))
    }

    /// Makes a token look `age` old (Instagram Login refreshes only tokens at least 24 h old).
    pub fn age_token(&self, token: &str, age: Duration) {
        self.state.age_token(token, age);
    }

    /// Everything published, oldest first.
    pub fn posts(&self) -> Vec<MetaPost> {
        self.state.posts()
    }

    /// Makes the post or media with Meta's id `id` look `age` older: its creation time moves
    /// back, so listings order and filter it as an older post.
    pub fn age_post(&self, id: &str, age: Duration) {
        self.state.age_post(id, age);
    }

    /// How many times `media_publish` was called for a container already published.
    pub fn duplicate_publish_attempts(&self) -> u64 {
        self.state.duplicate_publish_attempts()
    }

    /// Makes the next `times` calls to `endpoint` fail with `fault`.
    pub fn inject(&self, endpoint: MetaEndpoint, fault: Fault, times: u32) {
        self.state.faults.push(endpoint, fault, times);
    }

    /// Makes a fraction `rate` of calls to `endpoints` fail with one of `faults` (seeded).
    pub fn set_fault_rate(
        &self,
        rate: f64,
        seed: u64,
        faults: Vec<Fault>,
        endpoints: Vec<MetaEndpoint>,
    ) {
        self.state.faults.set_random(rate, seed, faults, endpoints);
    }

    /// Makes the next Instagram container created fail processing: once its processing time
    /// has passed, its `status_code` is `ERROR` and its `status` "Error: Media upload has
    /// failed with error code {subcode}" (IG Container reference), and `media_publish` of it
    /// answers that subcode's error (for instance 2207026, an unsupported video format, code
    /// 352; 2207052, a URL Meta could not fetch, code 9004).
    pub fn fail_next_container(&self, subcode: u32) {
        self.state.fail_next_container(i64::from(subcode));
    }

    /// Takes `scope` away from `token` (for instance `read_insights` or
    /// `instagram_manage_insights`, which the tokens of [`MetaSandbox::add_page`] and
    /// [`MetaSandbox::add_instagram_account`] hold): insights reads then fail with code 200.
    pub fn revoke_permission(&self, token: &str, scope: &str) {
        self.state.revoke_scope(token, scope);
    }

    /// Removes every queued and random fault.
    pub fn clear_faults(&self) {
        self.state.faults.clear();
    }
}
