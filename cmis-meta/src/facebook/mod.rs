//! [`FacebookPagePublisher`]: Page posts, photos, videos and Reels over the Graph API.
//!
//! Reference: `docs/meta-graph-api.md` §1. Every call uses the Page access token the context's
//! token provider holds for the target account (a Page id).

mod feed;
mod photo;
mod reconcile;
mod video;

use std::time::Duration;

use async_trait::async_trait;
use cmis_core::{
    Capabilities, Checkpoint, Error, Outcome, Platform, Post, PostId, PublishContext, Receipt,
    ReceiptState, Reconciliation, Result, Surface, Target, TokenSession, Violation,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use url::Url;

use crate::client::{MetaClient, Session, segment};
use crate::media::{Kind, sniff_media};
use crate::reconcile::ReconcilePolicy;
use feed::scheduling;
// The response shapes, for `crate::fuzzing`.
pub(crate) use photo::PhotoResponse;
pub(crate) use video::{Handle, ReelStart, Success};

/// The earliest a native scheduled post may be published (`docs/meta-graph-api.md` §1: "between
/// 10 minutes and 30 days from the time of the API request").
pub const SCHEDULE_MIN_LEAD: Duration = Duration::from_secs(10 * 60);
/// The latest a native scheduled post may be published.
pub const SCHEDULE_MAX_LEAD: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// Photos in one multi-photo post, at most (cmis's own bound; Meta documents none).
const MAX_PHOTOS: usize = 10;

/// Publishes to a Facebook Page: text and link posts, photos (by URL or file), multi-photo posts,
/// videos (resumable upload) and Reels, now or natively scheduled.
///
/// ```no_run
/// # mod cmis { pub use cmis_core::*; pub mod media { pub use cmis_media::*; } pub mod meta { pub use cmis_meta::*; } }
/// # async fn demo(ctx: cmis::PublishContext) -> cmis::Result<()> {
/// use cmis::{AccountRef, Platform, Post, Publisher, Target, TenantId};
/// use cmis::meta::{FacebookPagePublisher, MetaClient};
/// let publisher = FacebookPagePublisher::new(MetaClient::builder().build()?);
/// let page = AccountRef::new(TenantId::new("acme"), Platform::Facebook, "1234567890");
/// let outcome = publisher
///     .publish(&Target::feed(page), &Post::new().with_text("Hello"), &ctx)
///     .await?;
/// # let _ = outcome; Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct FacebookPagePublisher {
    client: MetaClient,
    reconcile: ReconcilePolicy,
}

impl FacebookPagePublisher {
    /// A publisher using `client`.
    pub fn new(client: MetaClient) -> Self {
        Self {
            client,
            reconcile: ReconcilePolicy::default(),
        }
    }

    /// Sets how [`reconcile`](cmis_core::Publisher::reconcile) matches a lost call to the
    /// Page's posts.
    #[must_use]
    pub fn with_reconcile_policy(mut self, policy: ReconcilePolicy) -> Self {
        self.reconcile = policy;
        self
    }
}

/// What a Facebook publish will do, decided from the target and the post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    Text,
    Photo,
    MultiPhoto,
    Video,
    Reel,
}

/// Resumable state, stored as checkpoint data. It carries the post so that `resume` needs
/// nothing else.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "flow", rename_all = "snake_case")]
enum FbState {
    /// Unpublished photos uploaded so far, for a multi-photo post.
    MultiPhoto { post: Post, photo_ids: Vec<String> },
    /// A resumable upload session, and its handle once the bytes are in.
    Video {
        post: Post,
        session: String,
        handle: Option<String>,
    },
    /// A Reel whose `video_id` exists; `uploaded` once the bytes are in.
    Reel {
        post: Post,
        video_id: String,
        uploaded: bool,
    },
    /// Nothing that creates a post was sent yet, or it was refused: publish `post` afresh.
    Ready { post: Post },
    /// A creating call (`/feed`, `/photos`, `/videos`, Reels `finish`) was sent; its outcome is
    /// unknown until reconciled.
    Sending {
        endpoint: String,
        /// When the call started, on the client's clock: the start of its window.
        #[serde(default, with = "time::serde::rfc3339::option")]
        started_at: Option<OffsetDateTime>,
        /// What the call creates (absent in checkpoints written before reconciling existed).
        #[serde(default)]
        creates: Option<Creates>,
        /// Ids the created post points at: the photos of a multi-photo post, a Reel's video id.
        #[serde(default)]
        ids: Vec<String>,
        /// Where to resume when reconciling proves that nothing was created.
        #[serde(default)]
        retry: Option<Box<FbState>>,
    },
}

/// The kind of post a creating call makes, for reconciling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Creates {
    /// A text or link post (`/feed`).
    Feed,
    /// A single photo post (`/photos`).
    Photo,
    /// A multi-photo post (`/feed` with `attached_media`).
    Photos,
    /// A Page video (`/videos`).
    Video,
    /// A Reel (`video_reels` finish).
    Reel,
}

const STAGE_SENDING: &str = "sending";
const STAGE_READY: &str = "ready";

impl FbState {
    /// The stage a resumable state is saved under.
    fn stage(&self) -> &'static str {
        match self {
            Self::Ready { .. } => STAGE_READY,
            Self::MultiPhoto { .. } => "photos",
            Self::Video { handle: None, .. } => "upload_session",
            Self::Video { .. } => "video_uploaded",
            Self::Reel {
                uploaded: false, ..
            } => "reel_started",
            Self::Reel { .. } => "reel_uploaded",
            Self::Sending { .. } => STAGE_SENDING,
        }
    }
}

fn checkpoint(stage: &str, state: &FbState) -> Result<Checkpoint> {
    Checkpoint::new(Platform::Facebook, stage, state)
}

impl FacebookPagePublisher {
    fn tokens<'a>(target: &'a Target, ctx: &'a PublishContext) -> TokenSession<'a> {
        TokenSession::new(ctx.tokens().as_ref(), &target.account)
    }

    fn receipt(&self, target: &Target, post_id: String, scheduled: bool) -> Receipt {
        let permalink = Url::parse(&format!("https://www.facebook.com/{post_id}")).ok();
        let mut r = Receipt::new(
            Platform::Facebook,
            target.account.account.clone(),
            PostId::new(post_id),
        )
        .with_published_at(self.client.clock().now());
        if let Some(p) = permalink {
            r = r.with_permalink(p);
        }
        if scheduled {
            r = r.with_state(ReceiptState::ScheduledOnPlatform);
        }
        r
    }

    /// Checks the post and decides the plan, without any network call.
    async fn plan(&self, target: &Target, post: &Post) -> Result<Plan> {
        if target.platform() != Platform::Facebook {
            return Err(Error::invalid_input(format!(
                "target {target} is not a Facebook Page"
            )));
        }
        segment(target.account.account.as_str(), "Page id")?;
        let mut violations = Vec::new();
        let mut kinds = Vec::with_capacity(post.media.len());
        for (i, m) in post.media.iter().enumerate() {
            match sniff_media(m).await {
                Ok(s) => kinds.push(s.kind),
                Err(e) => violations.push(Violation::new(
                    format!("media[{i}]"),
                    "facebook.media.type",
                    e.message().to_owned(),
                    "a JPEG, PNG, WebP or GIF image, or an MP4 or MOV video",
                )),
            }
        }
        if let Some(at) = post.options.facebook.scheduled_publish_time {
            check_schedule_window(at, self.client.clock().now(), &mut violations);
        }
        let videos = kinds.iter().filter(|k| **k == Kind::Video).count();
        let plan = match target.surface {
            Surface::Feed => match (post.media.len(), videos) {
                (0, _) => {
                    if post.text.as_deref().is_none_or(|t| t.trim().is_empty())
                        && post.link.is_none()
                    {
                        violations.push(Violation::new(
                            "post",
                            "facebook.feed.content",
                            "no text, link or media",
                            "text, a link or media",
                        ));
                    }
                    Plan::Text
                }
                (1, 1) => Plan::Video,
                (1, 0) => Plan::Photo,
                (n, 0) if n <= MAX_PHOTOS => Plan::MultiPhoto,
                (n, 0) => {
                    violations.push(Violation::new(
                        "media",
                        "facebook.photos.max_count",
                        n.to_string(),
                        format!("at most {MAX_PHOTOS}"),
                    ));
                    Plan::MultiPhoto
                }
                (n, _) => {
                    violations.push(Violation::new(
                        "media",
                        "facebook.video.single",
                        format!("{n} items including {videos} video(s)"),
                        "one video alone, or photos only",
                    ));
                    Plan::Video
                }
            },
            Surface::Reel => {
                if post.media.len() != 1 || videos != 1 {
                    violations.push(Violation::new(
                        "media",
                        "facebook.reel.one_video",
                        format!("{} item(s), {videos} video(s)", post.media.len()),
                        "exactly one video",
                    ));
                }
                Plan::Reel
            }
            other => {
                return Err(Error::unsupported(format!(
                    "cmis-meta does not publish to the Facebook {other} surface"
                )));
            }
        };
        if !violations.is_empty() {
            return Err(Error::violations(violations));
        }
        cmis_media::validate_async(Platform::Facebook, target.surface, post).await?;
        for m in &post.media {
            crate::media::check_upload_size(m).await?;
        }
        Ok(plan)
    }
}

/// Adds a violation when `at` is outside Facebook's 10 minute – 30 day scheduling window.
fn check_schedule_window(at: OffsetDateTime, now: OffsetDateTime, out: &mut Vec<Violation>) {
    let earliest = now + SCHEDULE_MIN_LEAD;
    let latest = now + SCHEDULE_MAX_LEAD;
    if at < earliest || at > latest {
        out.push(Violation::new(
            "options.facebook.scheduled_publish_time",
            "facebook.schedule.window",
            at.to_string(),
            "between 10 minutes and 30 days from now",
        ));
    }
}

/// Unix seconds of a scheduled time, as the Graph API takes it.
pub(crate) fn unix(at: OffsetDateTime) -> String {
    at.unix_timestamp().to_string()
}

#[async_trait]
impl cmis_core::Publisher for FacebookPagePublisher {
    fn platform(&self) -> Platform {
        Platform::Facebook
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::new(vec![Surface::Feed, Surface::Reel], MAX_PHOTOS, true)
    }

    async fn validate(&self, target: &Target, post: &Post) -> Result<()> {
        self.plan(target, post).await.map(|_| ())
    }

    #[tracing::instrument(skip_all, fields(platform = "facebook", account = %target.account.account))]
    async fn publish(&self, target: &Target, post: &Post, ctx: &PublishContext) -> Result<Outcome> {
        let plan = self.plan(target, post).await?;
        let tokens = Self::tokens(target, ctx);
        let s = Session::new(&tokens);
        match plan {
            Plan::Text => self.text_post(s, target, post, ctx).await,
            Plan::Photo => self.photo_post(s, target, post, ctx).await,
            Plan::MultiPhoto => {
                self.multi_photo(s, target, post.clone(), Vec::new(), ctx)
                    .await
            }
            Plan::Video => self.video(s, target, post, ctx).await,
            Plan::Reel => self.reel(s, target, post, ctx).await,
        }
        .map(Outcome::Published)
    }

    #[tracing::instrument(skip_all, fields(platform = "facebook", account = %target.account.account))]
    async fn resume(
        &self,
        target: &Target,
        checkpoint: &Checkpoint,
        ctx: &PublishContext,
    ) -> Result<Outcome> {
        let state: FbState = checkpoint.decode()?;
        let tokens = Self::tokens(target, ctx);
        let s = Session::new(&tokens);
        match state {
            FbState::Ready { post } => {
                return cmis_core::Publisher::publish(self, target, &post, ctx).await;
            }
            FbState::MultiPhoto { post, photo_ids } => {
                self.multi_photo(s, target, post, photo_ids, ctx).await
            }
            FbState::Video {
                post,
                session,
                handle,
            } => {
                self.video_from(s, target, &post, session, handle, ctx)
                    .await
            }
            FbState::Reel {
                post,
                video_id,
                uploaded,
            } => {
                self.reel_from(s, target, &post, video_id, uploaded, ctx)
                    .await
            }
            FbState::Sending { endpoint, .. } => Err(Error::unknown_outcome(format!(
                "the POST to {endpoint} was sent before the checkpoint was left; it may have \
                 created the post, so it is not sent again: reconcile instead"
            ))
            .with_platform(Platform::Facebook)),
        }
        .map(Outcome::Published)
    }

    /// Reads the Page's posts (`published_posts`) created within the lost call's window and
    /// matches them by exact text and kind, or by the stored photo ids of a multi-photo post; a
    /// Reel is looked up by its stored video id. Anything it cannot settle is an
    /// [`ErrorKind::UnknownOutcome`](cmis_core::ErrorKind::UnknownOutcome) error whose message
    /// says why.
    #[tracing::instrument(skip_all, fields(platform = "facebook", account = %target.account.account))]
    async fn reconcile(
        &self,
        target: &Target,
        post: &Post,
        checkpoint: Option<&Checkpoint>,
        ctx: &PublishContext,
    ) -> Result<Reconciliation> {
        self.find_lost(target, post, checkpoint, ctx).await
    }
}
