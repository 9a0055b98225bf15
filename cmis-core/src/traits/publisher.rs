//! The `Publisher` trait and the context a publish runs in.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

use crate::{
    Checkpoint, Error, Outcome, Platform, Post, Reconciliation, Result, Surface, Target,
    TokenProvider,
};

/// Publishes posts to one platform. Implemented by each connector (`cmis-meta`, `cmis-tiktok`);
/// the scheduler knows platforms only through this trait.
///
/// The contract:
/// - [`validate`](Self::validate) has no side effects and makes no network call; it reports every
///   broken rule at once as an [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) error.
/// - [`publish`](Self::publish) returns [`Outcome::Published`] only when the platform returned an
///   id for the post, or [`Outcome::Pending`] when the platform is still processing.
/// - Before every mutating call after the first, the connector hands its progress to
///   [`PublishContext::save_checkpoint`]; if saving fails, it stops.
/// - [`resume`](Self::resume) continues from a checkpoint and never creates a second post.
/// - A mutating call whose outcome is unknown returns
///   [`ErrorKind::UnknownOutcome`](crate::ErrorKind::UnknownOutcome); [`reconcile`](Self::reconcile)
///   then finds out, with read-only calls, what happened.
#[async_trait]
pub trait Publisher: Send + Sync + fmt::Debug {
    /// The platform this publisher speaks to.
    fn platform(&self) -> Platform;

    /// What the publisher can do.
    fn capabilities(&self) -> Capabilities;

    /// Checks `post` against the platform's rules for `target`, without side effects and without
    /// any network call.
    async fn validate(&self, target: &Target, post: &Post) -> Result<()>;

    /// Publishes `post` to `target`.
    async fn publish(&self, target: &Target, post: &Post, ctx: &PublishContext) -> Result<Outcome>;

    /// Continues a publish from `checkpoint`, without creating a second post.
    async fn resume(
        &self,
        target: &Target,
        checkpoint: &Checkpoint,
        ctx: &PublishContext,
    ) -> Result<Outcome>;

    /// Finds out, with read-only calls only, what happened to a publish whose outcome is unknown.
    ///
    /// The default answers [`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported): a
    /// publisher that cannot check must not pretend to know.
    async fn reconcile(
        &self,
        target: &Target,
        post: &Post,
        checkpoint: Option<&Checkpoint>,
        ctx: &PublishContext,
    ) -> Result<Reconciliation> {
        let _ = (target, post, checkpoint, ctx);
        Err(Error::unsupported(format!(
            "{} publisher cannot reconcile an unknown outcome",
            self.platform()
        )))
    }
}

/// What a [`Publisher`] can do, for user interfaces and early checks.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// The surfaces it can publish to.
    pub surfaces: Vec<Surface>,
    /// Media items per post, at most.
    pub max_media: usize,
    /// Whether a post without media is allowed.
    pub text_only: bool,
}

impl Capabilities {
    /// Capabilities for `surfaces`, at most `max_media` items, text-only posts allowed or not.
    pub fn new(surfaces: Vec<Surface>, max_media: usize, text_only: bool) -> Self {
        Self {
            surfaces,
            max_media,
            text_only,
        }
    }
}

/// Upload progress of one media item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// The media item's index in [`Post::media`].
    pub media_index: usize,
    /// Bytes sent so far.
    pub bytes_sent: u64,
    /// Bytes in all.
    pub total_bytes: u64,
}

impl Progress {
    /// Progress of item `media_index`: `bytes_sent` of `total_bytes`.
    pub fn new(media_index: usize, bytes_sent: u64, total_bytes: u64) -> Self {
        Self {
            media_index,
            bytes_sent,
            total_bytes,
        }
    }
}

/// Receives upload progress. Implemented for any `Fn(&Progress) + Send + Sync`.
pub trait ProgressSink: Send + Sync {
    /// Called after each chunk is accepted.
    fn progress(&self, progress: &Progress);
}

impl<F: Fn(&Progress) + Send + Sync> ProgressSink for F {
    fn progress(&self, progress: &Progress) {
        self(progress);
    }
}

/// Persists checkpoints so that a crashed publish can resume. The scheduler stores them with the
/// job; a program publishing directly may keep them in memory or discard them.
#[async_trait]
pub trait CheckpointSink: Send + Sync {
    /// Stores `checkpoint` durably. An error stops the publish before its next mutating call.
    async fn save(&self, checkpoint: &Checkpoint) -> Result<()>;
}

/// A [`CheckpointSink`] that keeps nothing, for one-shot publishing without resume.
#[derive(Debug, Clone, Copy, Default)]
pub struct DiscardCheckpoints;

#[async_trait]
impl CheckpointSink for DiscardCheckpoints {
    async fn save(&self, _checkpoint: &Checkpoint) -> Result<()> {
        Ok(())
    }
}

/// Everything a publish needs besides the post: tokens, and where to report checkpoints and
/// progress. Cheap to clone.
///
/// ```
/// use std::sync::Arc;
/// use cmis_core::{MemoryCredentialStore, PublishContext, RefreshingTokenProvider};
///
/// let tokens = RefreshingTokenProvider::builder(Arc::new(MemoryCredentialStore::new())).build();
/// let ctx = PublishContext::new(Arc::new(tokens))
///     .with_progress(Arc::new(|p: &cmis_core::Progress| eprintln!("{}/{}", p.bytes_sent, p.total_bytes)));
/// # let _ = ctx;
/// ```
#[derive(Clone)]
pub struct PublishContext {
    tokens: Arc<dyn TokenProvider>,
    checkpoints: Arc<dyn CheckpointSink>,
    progress: Option<Arc<dyn ProgressSink>>,
}

impl fmt::Debug for PublishContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublishContext")
            .field("progress", &self.progress.is_some())
            .finish_non_exhaustive()
    }
}

impl PublishContext {
    /// A context using `tokens`, discarding checkpoints and progress.
    pub fn new(tokens: Arc<dyn TokenProvider>) -> Self {
        Self {
            tokens,
            checkpoints: Arc::new(DiscardCheckpoints),
            progress: None,
        }
    }

    /// Sets where checkpoints go.
    #[must_use]
    pub fn with_checkpoint_sink(mut self, sink: Arc<dyn CheckpointSink>) -> Self {
        self.checkpoints = sink;
        self
    }

    /// Sets where progress goes.
    #[must_use]
    pub fn with_progress(mut self, sink: Arc<dyn ProgressSink>) -> Self {
        self.progress = Some(sink);
        self
    }

    /// The token provider.
    pub fn tokens(&self) -> &Arc<dyn TokenProvider> {
        &self.tokens
    }

    /// Hands `checkpoint` to the checkpoint sink. Connectors call this before each next mutating
    /// call and stop if it fails.
    pub async fn save_checkpoint(&self, checkpoint: &Checkpoint) -> Result<()> {
        self.checkpoints.save(checkpoint).await
    }

    /// Reports upload progress.
    pub fn report_progress(&self, progress: Progress) {
        if let Some(sink) = &self.progress {
            sink.progress(&progress);
        }
    }
}
