//! [`InstagramPublisher`]: images, carousels, Reels and stories through Instagram content
//! publishing (containers, polling, `media_publish`).
//!
//! Reference: `docs/meta-graph-api.md` §2. Both hosts are supported: Facebook Login
//! (`graph.facebook.com`) and Instagram Login (`graph.instagram.com`).

mod container;
mod publish;
mod reconcile;

use std::collections::BTreeSet;

use async_trait::async_trait;
use cmis_core::{
    Capabilities, Checkpoint, Error, Media, MediaSource, Outcome, Platform, Post, PublishContext,
    Reconciliation, Result, Surface, Target, TokenSession, Violation,
};
use serde::{Deserialize, Serialize};

use crate::client::{Host, MetaClient, Session, segment};
use crate::media::{Kind, sniff_media};
use crate::reconcile::ReconcilePolicy;
// The container status and its parser, for `crate::fuzzing`.
pub(crate) use container::{Status, subcode_in};

/// Items in a carousel: 2 to 10 (`docs/meta-graph-api.md` §2 and error 100/2207028).
const CAROUSEL_MIN: usize = 2;
const CAROUSEL_MAX: usize = 10;

/// How the Instagram account is connected, which decides the host.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum InstagramLogin {
    /// Facebook Login: `graph.facebook.com`, Page-linked account; local files can be uploaded
    /// through rupload.
    #[default]
    Facebook,
    /// Instagram Login: `graph.instagram.com`; media must be public URLs (no resumable upload).
    Instagram,
}

/// Publishes to an Instagram professional account: an image, a carousel (2–10 items), a Reel
/// or a story.
///
/// ```no_run
/// # mod cmis { pub use cmis_core::*; pub mod media { pub use cmis_media::*; } pub mod meta { pub use cmis_meta::*; } }
/// # async fn demo(ctx: cmis::PublishContext) -> cmis::Result<()> {
/// use cmis::{AccountRef, Media, Platform, Post, Publisher, Target, url::Url, TenantId};
/// use cmis::meta::{InstagramLogin, InstagramPublisher, MetaClient};
/// let publisher = InstagramPublisher::new(MetaClient::builder().build()?)
///     .with_login(InstagramLogin::Instagram);
/// let account = AccountRef::new(TenantId::new("acme"), Platform::Instagram, "17841400000000000");
/// let image = Media::url(Url::parse("https://example.com/a.jpg").unwrap());
/// let post = Post::new().with_text("Hello").with_media(image);
/// let outcome = publisher.publish(&Target::feed(account), &post, &ctx).await?;
/// # let _ = outcome; Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct InstagramPublisher {
    client: MetaClient,
    login: InstagramLogin,
    reconcile: ReconcilePolicy,
}

impl InstagramPublisher {
    /// A publisher using `client`, for accounts connected with Facebook Login.
    pub fn new(client: MetaClient) -> Self {
        Self {
            client,
            login: InstagramLogin::Facebook,
            reconcile: ReconcilePolicy::default(),
        }
    }

    /// Sets how [`reconcile`](cmis_core::Publisher::reconcile) matches a lost `media_publish`
    /// to the account's media.
    #[must_use]
    pub fn with_reconcile_policy(mut self, policy: ReconcilePolicy) -> Self {
        self.reconcile = policy;
        self
    }

    /// Sets how accounts are connected (and so which host is used).
    #[must_use]
    pub fn with_login(mut self, login: InstagramLogin) -> Self {
        self.login = login;
        self
    }

    fn host(&self) -> Host {
        match self.login {
            InstagramLogin::Facebook => Host::Graph,
            InstagramLogin::Instagram => Host::InstagramGraph,
        }
    }
}

/// What is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum IgKind {
    Image,
    Carousel,
    Reel,
    Story,
}

/// Resumable state, stored as checkpoint data.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct IgState {
    post: Post,
    kind: IgKind,
    /// Carousel children created so far, in order.
    #[serde(default)]
    children: Vec<String>,
    /// The container to publish (the single item, or the carousel).
    #[serde(default)]
    container: Option<String>,
    /// Containers created with `upload_type=resumable` whose bytes are in.
    #[serde(default)]
    uploaded: BTreeSet<String>,
    /// The published media id, once `media_publish` returned it.
    #[serde(default)]
    media_id: Option<String>,
}

impl IgState {
    fn checkpoint(&self, stage: &str) -> Result<Checkpoint> {
        Checkpoint::new(Platform::Instagram, stage, self)
    }
}

fn is_local(m: &Media) -> bool {
    !matches!(m.source, MediaSource::Url(_))
}

impl InstagramPublisher {
    fn tokens<'a>(target: &'a Target, ctx: &'a PublishContext) -> TokenSession<'a> {
        TokenSession::new(ctx.tokens().as_ref(), &target.account)
    }

    /// Checks the post and decides what to publish, without any network call.
    async fn plan(&self, target: &Target, post: &Post) -> Result<IgKind> {
        if target.platform() != Platform::Instagram {
            return Err(Error::invalid_input(format!(
                "target {target} is not an Instagram account"
            )));
        }
        segment(target.account.account.as_str(), "Instagram user id")?;
        if self.login == InstagramLogin::Instagram && post.media.iter().any(is_local) {
            return Err(Error::unsupported(
                "Instagram Login accounts cannot upload files (rupload is for Facebook Login \
                 apps only): give the media as public URLs",
            ));
        }
        let mut violations = Vec::new();
        let mut kinds = Vec::with_capacity(post.media.len());
        for (i, m) in post.media.iter().enumerate() {
            let subject = format!("media[{i}]");
            match sniff_media(m).await {
                Ok(s) => {
                    kinds.push(s.kind);
                    let convertible = matches!(s.mime, "image/png" | "image/webp");
                    if s.kind == Kind::Image && s.mime != "image/jpeg" {
                        let allowed =
                            convertible && post.options.instagram.convert_media && is_local(m);
                        if !allowed {
                            violations.push(Violation::new(
                                subject,
                                "instagram.image.format",
                                s.mime,
                                if convertible && is_local(m) {
                                    "image/jpeg (or allow conversion with InstagramOptions::with_convert_media)"
                                } else {
                                    "image/jpeg"
                                },
                            ));
                        }
                    }
                }
                Err(e) => violations.push(Violation::new(
                    subject,
                    "instagram.media.type",
                    e.message().to_owned(),
                    "a JPEG image or an MP4/MOV video",
                )),
            }
        }
        let n = post.media.len();
        let videos = kinds.iter().filter(|k| **k == Kind::Video).count();
        let kind = match target.surface {
            Surface::Feed => match n {
                0 => {
                    violations.push(Violation::new(
                        "media",
                        "instagram.media.required",
                        "none",
                        "1 to 10 items",
                    ));
                    IgKind::Image
                }
                1 if videos == 1 => IgKind::Reel,
                1 => IgKind::Image,
                n if (CAROUSEL_MIN..=CAROUSEL_MAX).contains(&n) => IgKind::Carousel,
                n => {
                    violations.push(Violation::new(
                        "media",
                        "instagram.carousel.items",
                        n.to_string(),
                        "2 to 10",
                    ));
                    IgKind::Carousel
                }
            },
            Surface::Reel => {
                if n != 1 || videos != 1 {
                    violations.push(Violation::new(
                        "media",
                        "instagram.reel.one_video",
                        format!("{n} item(s), {videos} video(s)"),
                        "exactly one video",
                    ));
                }
                IgKind::Reel
            }
            Surface::Story => {
                if n != 1 {
                    violations.push(Violation::new(
                        "media",
                        "instagram.story.one_item",
                        n.to_string(),
                        "exactly one image or video",
                    ));
                }
                IgKind::Story
            }
            other => {
                return Err(Error::unsupported(format!(
                    "cmis-meta does not publish to the Instagram {other} surface"
                )));
            }
        };
        if !violations.is_empty() {
            return Err(Error::violations(violations));
        }
        cmis_media::validate_async(Platform::Instagram, target.surface, post).await?;
        for m in &post.media {
            crate::media::check_upload_size(m).await?;
        }
        Ok(kind)
    }
}

#[async_trait]
impl cmis_core::Publisher for InstagramPublisher {
    fn platform(&self) -> Platform {
        Platform::Instagram
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::new(
            vec![Surface::Feed, Surface::Reel, Surface::Story],
            CAROUSEL_MAX,
            false,
        )
    }

    async fn validate(&self, target: &Target, post: &Post) -> Result<()> {
        self.plan(target, post).await.map(|_| ())
    }

    #[tracing::instrument(skip_all, fields(platform = "instagram", account = %target.account.account))]
    async fn publish(&self, target: &Target, post: &Post, ctx: &PublishContext) -> Result<Outcome> {
        let kind = self.plan(target, post).await?;
        let post = crate::media::convert_for_instagram(post, target.surface).await?;
        let tokens = Self::tokens(target, ctx);
        let s = Session::new(&tokens);
        self.check_publishing_limit(s, target).await?;
        let state = IgState {
            post,
            kind,
            children: Vec::new(),
            container: None,
            uploaded: BTreeSet::new(),
            media_id: None,
        };
        self.run(s, target, state, ctx).await
    }

    #[tracing::instrument(skip_all, fields(platform = "instagram", account = %target.account.account))]
    async fn resume(
        &self,
        target: &Target,
        checkpoint: &Checkpoint,
        ctx: &PublishContext,
    ) -> Result<Outcome> {
        let state: IgState = checkpoint.decode()?;
        let tokens = Self::tokens(target, ctx);
        let s = Session::new(&tokens);
        self.run(s, target, state, ctx).await
    }

    /// Settles a lost publish from the checkpoint: no checkpoint or no container means
    /// `media_publish` never ran; a stored media id is the post; otherwise the container's
    /// `status_code` decides, and a `PUBLISHED` container whose media id was lost is found among
    /// the account's media by exact caption and time. Anything it cannot settle is an
    /// [`ErrorKind::UnknownOutcome`](cmis_core::ErrorKind::UnknownOutcome) error whose message
    /// says why.
    #[tracing::instrument(skip_all, fields(platform = "instagram", account = %target.account.account))]
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
