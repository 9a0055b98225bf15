//! A fake of LinkedIn's OAuth token endpoint and its versioned REST API (`/rest/...`): posts
//! with little-text commentary (silently cut at the first unescaped reserved character, as
//! LinkedIn does), duplicate detection (422 `DUPLICATE_POST` naming the first post), the
//! author finder, batch get (`ids=List(…)`), partial update, delete; images and documents (initialize, one `PUT`, status); videos in
//! 4 MiB parts with ETags, finalize with the part ids in order, and processing; the
//! `LinkedIn-Version` gate (400 `VERSION_MISSING`, 426 `NONEXISTENT_VERSION`); the 401 bodies of
//! expired, revoked and invalid tokens; 429s without `Retry-After`; OpenID `/v2/userinfo` and
//! token revocation.
//!
//! Written from the project's `docs/linkedin-api.md` brief (cited as "brief §n") and the
//! fixtures in `cmis-linkedin/tests/fixtures/` (cited by file or by `errors.json` case name),
//! not from any connector. Bodies that no source shows are marked constructed.
//!
//! The fake's clock is tokio's (pausable in tests) plus an offset that
//! [`LinkedInSandbox::advance_clock`] moves forward, for token lifetimes.

mod edits;
mod little_text;
mod media;
mod posts;
mod routes;
mod state;

use std::sync::Arc;
use std::time::Duration;

use cmis_core::SecretString;

use crate::fault::Fault;

pub(crate) use routes::router;
pub(crate) use state::LinkedInState;

/// The LinkedIn endpoints, for fault injection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LinkedInEndpoint {
    /// `POST /oauth/v2/accessToken` (both grants).
    Token,
    /// `POST /rest/posts`.
    CreatePost,
    /// `GET /rest/posts/{urn}`.
    GetPost,
    /// `GET /rest/posts?q=author`.
    ListPosts,
    /// `DELETE /rest/posts/{urn}`.
    DeletePost,
    /// `POST /rest/{images|documents|videos}?action=initializeUpload`.
    InitializeUpload,
    /// `PUT` of an image's or document's upload URL, or of one video part.
    Upload,
    /// `POST /rest/videos?action=finalizeUpload`.
    FinalizeVideo,
    /// `GET /rest/{images|documents|videos}/{urn}`.
    MediaStatus,
}

impl LinkedInEndpoint {
    /// Every endpoint.
    pub const ALL: [LinkedInEndpoint; 9] = [
        Self::Token,
        Self::CreatePost,
        Self::GetPost,
        Self::ListPosts,
        Self::DeletePost,
        Self::InitializeUpload,
        Self::Upload,
        Self::FinalizeVideo,
        Self::MediaStatus,
    ];
}

/// How the fake LinkedIn behaves. The defaults are LinkedIn's documented values.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LinkedInConfig {
    /// The app's client id (`861hhm46p48to2`, fixture `oauth_authorize_url.txt`).
    pub client_id: String,
    /// The app's client secret (`sandbox-linkedin-client-secret`).
    pub client_secret: SecretString,
    /// Versions older than this (`YYYYMM`) are sunset: 426 `NONEXISTENT_VERSION` (202511).
    pub oldest_active_version: u32,
    /// More sunset versions (`YYYYMM`), newer than `oldest_active_version` (none by default).
    pub sunset_versions: Vec<u32>,
    /// Whether the app is approved for programmatic refresh (brief §1). Off, the code
    /// exchange answers no `refresh_token`, as self-serve apps get. On by default.
    pub programmatic_refresh: bool,
    /// An access token's lifetime (60 days, brief §1).
    pub access_token_lifetime: Duration,
    /// A refresh token's lifetime (365 days), which refreshing does not reset (brief §1).
    pub refresh_token_lifetime: Duration,
    /// The longest commentary, in UTF-16 units of the little text as sent (3 000, brief §3):
    /// longer gets 400 `FIELD_LENGTH_TOO_LONG`.
    pub max_commentary_len: usize,
    /// How many status reads of an uploaded image or document answer `PROCESSING` before
    /// `AVAILABLE` (0: available as soon as its `PUT` is done).
    pub image_processing_reads: u32,
    /// How many status reads of a finalized video answer `PROCESSING` before `AVAILABLE` (2).
    pub video_processing_reads: u32,
    /// The video part size (4 MiB = 4 194 304 bytes, brief §4.2).
    pub video_part_size: u64,
    /// Whether a deleted post still counts for duplicate detection, as LinkedIn kept answering
    /// `DUPLICATE_POST` with the deleted ("ghost") URN for 24–48 h (brief §7). Off by default.
    pub duplicate_ghosts: bool,
    /// How many posts the app may create per UTC day before creates get 429
    /// `TOO_MANY_REQUESTS` ("APPLICATION DAY limit", `errors.json` →
    /// `throttled_application_day`). LinkedIn publishes no number (brief §5): `None`, the
    /// default, sets no limit.
    pub daily_post_limit: Option<u32>,
}

impl Default for LinkedInConfig {
    fn default() -> Self {
        Self {
            client_id: "861hhm46p48to2".into(),
            client_secret: SecretString::from("sandbox-linkedin-client-secret"),
            oldest_active_version: 202_511,
            sunset_versions: Vec::new(),
            programmatic_refresh: true,
            access_token_lifetime: Duration::from_secs(60 * 86_400),
            refresh_token_lifetime: Duration::from_secs(365 * 86_400),
            max_commentary_len: 3000,
            image_processing_reads: 0,
            video_processing_reads: 2,
            video_part_size: 4_194_304,
            duplicate_ghosts: false,
            daily_post_limit: None,
        }
    }
}

/// Tokens the fake LinkedIn issued.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LinkedInTokens {
    /// The access token.
    pub access_token: SecretString,
    /// The refresh token, when the app has programmatic refresh.
    pub refresh_token: Option<SecretString>,
    /// The member the tokens act for, `urn:li:person:…`.
    pub person: String,
    /// The granted scopes.
    pub scopes: Vec<String>,
}

/// A post the fake LinkedIn holds.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LinkedInPost {
    /// `urn:li:share:` and 19 digits (the `x-restli-id` header of the create).
    pub urn: String,
    /// `urn:li:person:…` or `urn:li:organization:…`.
    pub author: String,
    /// The commentary as sent, before LinkedIn's parser cut it.
    pub sent_commentary: String,
    /// The little text LinkedIn kept (what `GET` returns): the sent commentary up to the first
    /// unescaped reserved character outside an element.
    pub commentary: String,
    /// What members see: escapes decoded, mentions as their names, hashtags as `#word`.
    pub text: String,
    /// Whether LinkedIn cut the commentary (silently: the create still answered 201).
    pub truncated: bool,
    /// `visibility`, as sent.
    pub visibility: String,
    /// The media the post carries: `content.media.id`, the `multiImage` images in order, or an
    /// article's thumbnail.
    pub media: Vec<String>,
    /// `content.article.source`, for an article post.
    pub article_source: Option<String>,
    /// When it was created, in epoch milliseconds.
    pub created_at: i64,
    /// Whether it was deleted.
    pub deleted: bool,
}

/// A handle on the fake LinkedIn: add members and organizations, issue tokens and codes,
/// inspect posts and media, inject faults, move the clock.
///
/// ```no_run
/// # mod cmis { pub use cmis_core::*; pub mod sandbox { pub use cmis_sandbox::*; } }
/// # async fn demo() -> Result<(), cmis::Error> {
/// use cmis::sandbox::{Fault, LinkedInEndpoint, Sandbox};
///
/// let sandbox = Sandbox::start().await?;
/// let linkedin = sandbox.linkedin();
/// let tokens = linkedin.add_member("8675309");
/// linkedin.add_organization("2414183", "8675309");
/// // The next post is stored, but its answer is lost: a careful client re-sends it and reads
/// // the 422 DUPLICATE_POST, which names the first post.
/// linkedin.inject(LinkedInEndpoint::CreatePost, Fault::DropAfterAccept, 1);
/// // ... point a LinkedIn client at `linkedin.url()`, post, then look:
/// assert!(linkedin.post_count("urn:li:organization:2414183") <= 1);
/// # let _ = tokens;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct LinkedInSandbox {
    pub(crate) state: Arc<LinkedInState>,
}

impl LinkedInSandbox {
    /// The base URL, such as `http://127.0.0.1:41234`. It stands for both
    /// `https://www.linkedin.com` (`/oauth/v2/accessToken`) and `https://api.linkedin.com`
    /// (`/rest/...`); upload URLs are under `/dms-uploads/`.
    pub fn url(&self) -> String {
        self.state.base_url()
    }

    /// The app's client id.
    pub fn client_id(&self) -> String {
        self.state.config().client_id.clone()
    }

    /// The app's client secret.
    pub fn client_secret(&self) -> SecretString {
        self.state.config().client_secret.clone()
    }

    /// Adds a member (`urn:li:person:{person_id}`) and issues tokens with every scope the
    /// connectors ask for: `openid profile email w_member_social r_organization_social
    /// w_organization_social`.
    pub fn add_member(&self, person_id: &str) -> LinkedInTokens {
        self.issue_tokens(person_id, state::ALL_SCOPES)
    }

    /// Adds an organization (`urn:li:organization:{org_id}`) whose Page `admin_person_id`
    /// administers: that member's tokens may post as it (brief §1, "Scopes").
    pub fn add_organization(&self, org_id: &str, admin_person_id: &str) {
        self.state.add_organization(org_id, admin_person_id);
    }

    /// Issues tokens for `person_id` with `scopes`, as a completed authorization would: a
    /// 60-day access token and, with programmatic refresh, a 365-day refresh token.
    pub fn issue_tokens(&self, person_id: &str, scopes: &[&str]) -> LinkedInTokens {
        self.state.issue_tokens(person_id, scopes)
    }

    /// An authorization code for `person_id` with `scopes`, as the consent page would redirect
    /// with to `redirect_uri`. The token endpoint takes it once, with the same `redirect_uri`,
    /// within 30 minutes.
    pub fn issue_code(&self, person_id: &str, scopes: &[&str], redirect_uri: &str) -> String {
        self.state.issue_code(person_id, scopes, redirect_uri)
    }

    /// Expires an access or refresh token now, as if its lifetime had passed.
    pub fn expire_token(&self, token: &str) {
        self.state.expire_token(token);
    }

    /// Revokes an access or refresh token (LinkedIn "may revoke either token at any time").
    pub fn revoke_token(&self, token: &str) {
        self.state.revoke_token(token);
    }

    /// How many refresh-token grants succeeded.
    pub fn refresh_count(&self) -> u64 {
        self.state.refresh_count()
    }

    /// Every post, oldest first, deleted ones included (see [`LinkedInPost::deleted`]).
    pub fn posts(&self) -> Vec<LinkedInPost> {
        self.state.posts()
    }

    /// The post `urn`, if it was ever created.
    pub fn post(&self, urn: &str) -> Option<LinkedInPost> {
        self.posts().into_iter().find(|p| p.urn == urn)
    }

    /// How many live (not deleted) posts `author` (`urn:li:…`) has.
    pub fn post_count(&self, author: &str) -> usize {
        self.posts()
            .iter()
            .filter(|p| p.author == author && !p.deleted)
            .count()
    }

    /// What members see of post `urn`: the commentary as LinkedIn kept and rendered it.
    pub fn stored_text(&self, urn: &str) -> Option<String> {
        self.post(urn).map(|p| p.text)
    }

    /// How many creates were refused as duplicates (422 `DUPLICATE_POST`).
    pub fn duplicate_attempts(&self) -> u64 {
        self.state.duplicate_attempts()
    }

    /// The status a read of media `urn` (`urn:li:image:…`, `urn:li:document:…`,
    /// `urn:li:video:…`) would report now, without counting as a read: `WAITING_UPLOAD`,
    /// `PROCESSING`, `AVAILABLE` or `PROCESSING_FAILED`.
    pub fn media_status(&self, urn: &str) -> Option<String> {
        self.state.media_status(urn)
    }

    /// Makes media `urn` fail processing: its status becomes `PROCESSING_FAILED` with
    /// `processingFailureReason` `reason`, and posts naming it get 400
    /// `MEDIA_ASSET_PROCESSING_FAILED`.
    pub fn fail_media(&self, urn: &str, reason: &str) {
        self.state.fail_media(urn, reason);
    }

    /// Moves the fake's clock forward (token lifetimes). It also follows tokio's clock.
    pub fn advance_clock(&self, by: Duration) {
        self.state.advance_clock(by);
    }

    /// Makes the next `times` calls to `endpoint` fail with `fault`. Faults that act first
    /// ([`Fault::acts_first`]) carry out the call (store the post, accept the part) before
    /// failing; [`Fault::SlowProcessing`] adds status reads before the next finalized video is
    /// `AVAILABLE` (one per second of the duration, at least one).
    pub fn inject(&self, endpoint: LinkedInEndpoint, fault: Fault, times: u32) {
        self.state.faults.push(endpoint, fault, times);
    }

    /// Makes a fraction `rate` of calls to `endpoints` fail with one of `faults`, chosen by a
    /// generator seeded with `seed` (reproducible).
    pub fn set_fault_rate(
        &self,
        rate: f64,
        seed: u64,
        faults: Vec<Fault>,
        endpoints: Vec<LinkedInEndpoint>,
    ) {
        self.state.faults.set_random(rate, seed, faults, endpoints);
    }

    /// Removes every queued and random fault.
    pub fn clear_faults(&self) {
        self.state.faults.clear();
    }
}
