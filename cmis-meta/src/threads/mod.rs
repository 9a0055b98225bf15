//! Threads: [`ThreadsPublisher`] for text posts, images, videos and carousels through the Threads API
//! (`graph.threads.net`, v1.0): a container, polled until ready, then `threads_publish` sent once.
//!
//! Reference: `docs/threads-api.md`. Threads is its own Meta product (own app id and secret,
//! own host, own tokens), but it speaks the Graph wire protocol: the same error envelope, the
//! same container model as Instagram. So it lives here, on a [`MetaClient`](crate::MetaClient) pointed at the
//! Threads host, and shares the call path (throttle, token renewal, usage headers, error
//! classification, reconciliation by listing) instead of copying it.

mod client;
mod publish;
mod reconcile;
mod tokens;
mod validate;

use std::time::Duration;

use async_trait::async_trait;
use cmis_core::{
    Capabilities, Checkpoint, Outcome, Platform, Post, PublishContext, Reconciliation, Result,
    Surface, Target, TokenSession,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::client::Session;
use crate::reconcile::ReconcilePolicy;

pub use client::{
    DEFAULT_THREADS_URL, DEFAULT_THREADS_VERSION, ThreadsClient, ThreadsClientBuilder,
};
pub use tokens::{
    AUTHORIZE_URL, MIN_REFRESH_AGE, ShortLivedToken, ThreadsTokenRefresher, authorize_url,
    exchange_code, exchange_for_long_lived,
};
pub(crate) use validate::{CAROUSEL_MAX, Plan};

/// How long a new container is left before `threads_publish` by default: 30 s. Meta: "wait on
/// average 30 seconds before publishing"; publishing a text container about 7 s after creating
/// it fails with subcode 4279009, which was 210 of 584 of one peer's Threads failures
/// (`docs/threads-api.md` §2.2).
pub const DEFAULT_PUBLISH_DELAY: Duration = Duration::from_secs(30);

/// Publishes to a Threads profile: a text post (with an optional link attachment), one image or
/// video, or a carousel of 2–20 items; replies, quotes, reply control and a topic tag through
/// [`ThreadsOptions`](cmis_core::ThreadsOptions).
///
/// Media are given as public URLs: Threads fetches them itself and has no upload endpoint.
/// The publishing quota (`threads_publishing_limit`) is read before anything is created.
///
/// ```no_run
/// # mod cmis { pub use cmis_core::*; pub mod meta { pub use cmis_meta::*; } }
/// # async fn demo(ctx: cmis::PublishContext) -> cmis::Result<()> {
/// use cmis::{AccountRef, Platform, Post, Publisher, SecretString, Target, TenantId};
/// use cmis::meta::{ThreadsClient, ThreadsPublisher};
/// let client = ThreadsClient::builder()
///     .app_id("threads-app-id")
///     .app_secret(SecretString::from("threads-app-secret"))
///     .build()?;
/// let profile = AccountRef::new(TenantId::new("acme"), Platform::Threads, "17841405793187218");
/// let post = Post::new().with_text("Doors open at 9 ☕");
/// let outcome = ThreadsPublisher::new(client)
///     .publish(&Target::feed(profile), &post, &ctx)
///     .await?;
/// # let _ = outcome; Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ThreadsPublisher {
    client: ThreadsClient,
    reconcile: ReconcilePolicy,
    publish_delay: Duration,
}

impl ThreadsPublisher {
    /// A publisher using `client`.
    pub fn new(client: ThreadsClient) -> Self {
        Self {
            client,
            reconcile: ReconcilePolicy::default(),
            publish_delay: DEFAULT_PUBLISH_DELAY,
        }
    }

    /// Sets how long a new container is left before it is published (default
    /// [`DEFAULT_PUBLISH_DELAY`]). The container's status is read either way; the delay only
    /// avoids the "Media Not Found" answer Threads gives to a container published too early.
    #[must_use]
    pub fn with_publish_delay(mut self, delay: Duration) -> Self {
        self.publish_delay = delay;
        self
    }

    /// Sets how [`reconcile`](cmis_core::Publisher::reconcile) matches a lost `threads_publish`
    /// to the profile's posts.
    #[must_use]
    pub fn with_reconcile_policy(mut self, policy: ReconcilePolicy) -> Self {
        self.reconcile = policy;
        self
    }

    fn tokens<'a>(target: &'a Target, ctx: &'a PublishContext) -> TokenSession<'a> {
        TokenSession::new(ctx.tokens().as_ref(), &target.account)
    }
}

/// What a container is, as `media_type` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ThKind {
    Text,
    Image,
    Video,
    Carousel,
}

impl ThKind {
    /// The `media_type` sent when creating the container.
    pub(crate) fn create_name(self) -> &'static str {
        match self {
            Self::Text => "TEXT",
            Self::Image => "IMAGE",
            Self::Video => "VIDEO",
            Self::Carousel => "CAROUSEL",
        }
    }

    /// The `media_type` Threads lists the published post under (a text post is `TEXT_POST`).
    pub(crate) fn listed_name(self) -> &'static str {
        match self {
            Self::Text => "TEXT_POST",
            Self::Image => "IMAGE",
            Self::Video => "VIDEO",
            Self::Carousel => "CAROUSEL_ALBUM",
        }
    }
}

/// Resumable state, stored as checkpoint data.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ThState {
    pub(crate) post: Post,
    pub(crate) kind: ThKind,
    /// The kind of each carousel child, in order.
    #[serde(default)]
    pub(crate) child_kinds: Vec<ThKind>,
    /// Carousel children created so far, in order.
    #[serde(default)]
    pub(crate) children: Vec<String>,
    /// The container to publish.
    #[serde(default)]
    pub(crate) container: Option<String>,
    /// When that container was created (for the publish delay).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub(crate) container_created_at: Option<OffsetDateTime>,
    /// When `threads_publish` was last sent without a definite answer: a container that still
    /// reads `FINISHED` after it is looked for among the profile's posts before it is sent
    /// again (the status may lag behind the publish).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub(crate) publish_sent_at: Option<OffsetDateTime>,
    /// How many times `threads_publish` answered "Media Not Found" (24/4279009).
    #[serde(default)]
    pub(crate) not_found: u32,
    /// The published media id, once `threads_publish` returned it.
    #[serde(default)]
    pub(crate) media_id: Option<String>,
}

impl ThState {
    pub(crate) fn checkpoint(&self, stage: &str) -> Result<Checkpoint> {
        Checkpoint::new(Platform::Threads, stage, self)
    }
}

#[async_trait]
impl cmis_core::Publisher for ThreadsPublisher {
    fn platform(&self) -> Platform {
        Platform::Threads
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::new(vec![Surface::Feed], CAROUSEL_MAX, false)
    }

    async fn validate(&self, target: &Target, post: &Post) -> Result<()> {
        Plan::check(target, post).await.map(|_| ())
    }

    #[tracing::instrument(skip_all, fields(platform = "threads", account = %target.account.account))]
    async fn publish(&self, target: &Target, post: &Post, ctx: &PublishContext) -> Result<Outcome> {
        let plan = Plan::check(target, post).await?;
        let tokens = Self::tokens(target, ctx);
        let s = Session::new(&tokens);
        self.check_publishing_limit(s, target, post).await?;
        let state = ThState {
            post: post.clone(),
            kind: plan.kind,
            child_kinds: plan.child_kinds,
            children: Vec::new(),
            container: None,
            container_created_at: None,
            publish_sent_at: None,
            not_found: 0,
            media_id: None,
        };
        self.run(s, target, state, ctx).await
    }

    #[tracing::instrument(skip_all, fields(platform = "threads", account = %target.account.account))]
    async fn resume(
        &self,
        target: &Target,
        checkpoint: &Checkpoint,
        ctx: &PublishContext,
    ) -> Result<Outcome> {
        let state: ThState = checkpoint.decode()?;
        let tokens = Self::tokens(target, ctx);
        let s = Session::new(&tokens);
        self.run(s, target, state, ctx).await
    }

    /// Settles a lost publish by reading only: no checkpoint or no container means
    /// `threads_publish` never ran; a stored media id is the post; otherwise the container's
    /// `status` decides, and a `PUBLISHED` container whose media id was lost is found among the
    /// profile's posts by exact text and time. Anything it cannot settle is an
    /// [`ErrorKind::UnknownOutcome`](cmis_core::ErrorKind::UnknownOutcome) error whose message
    /// says why.
    #[tracing::instrument(skip_all, fields(platform = "threads", account = %target.account.account))]
    async fn reconcile(
        &self,
        target: &Target,
        _post: &Post,
        checkpoint: Option<&Checkpoint>,
        ctx: &PublishContext,
    ) -> Result<Reconciliation> {
        self.find_lost(target, checkpoint, ctx).await
    }
}
