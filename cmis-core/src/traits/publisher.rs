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
/// - A checkpoint saved after the platform may already hold the post (or will publish it
///   without another call) goes through [`PublishContext::save_checkpoint_after_mutation`]:
///   its failure is an [`ErrorKind::UnknownOutcome`](crate::ErrorKind::UnknownOutcome), never
///   a failure that would invite publishing again.
/// - [`resume`](Self::resume) continues from a checkpoint and never creates a second post.
/// - A mutating call whose outcome is unknown returns
///   [`ErrorKind::UnknownOutcome`](crate::ErrorKind::UnknownOutcome); [`reconcile`](Self::reconcile)
///   then finds out, with read-only calls, what happened.
///
/// # Example: a publisher of your own
///
/// A test double for code that schedules posts: it "publishes" into memory and answers with
/// the id its pretend platform assigned, so a test sees real receipts without a network. (For
/// the real platforms, use `cmis::meta` and `cmis::tiktok`, or their fakes in
/// `cmis::sandbox`.)
///
/// ```
/// # mod cmis { pub use cmis_core::*; }
/// use std::sync::Mutex;
/// use cmis::async_trait;
/// use cmis::{
///     Capabilities, Checkpoint, Error, Outcome, Platform, Post, PostId, PublishContext,
///     Publisher, Receipt, Result, Surface, Target, TenantId,
/// };
///
/// #[derive(Debug, Default)]
/// struct InMemory {
///     posted: Mutex<Vec<String>>,
/// }
///
/// #[async_trait]
/// impl Publisher for InMemory {
///     fn platform(&self) -> Platform {
///         Platform::Facebook
///     }
///
///     fn capabilities(&self) -> Capabilities {
///         Capabilities::new(vec![Surface::Feed], 0, true)
///     }
///
///     async fn validate(&self, _target: &Target, post: &Post) -> Result<()> {
///         if post.text_or_empty().is_empty() {
///             return Err(Error::invalid_input("a post needs text"));
///         }
///         Ok(())
///     }
///
///     async fn publish(&self, target: &Target, post: &Post, _ctx: &PublishContext) -> Result<Outcome> {
///         self.validate(target, post).await?;
///         let mut posted = self.posted.lock().unwrap();
///         posted.push(post.text_or_empty().to_owned());
///         // The id the (pretend) platform assigned: never one made up by the caller.
///         let id = PostId::new(format!("{}_{}", target.account.account, posted.len()));
///         Ok(Outcome::Published(Receipt::new(self.platform(), target.account.account.clone(), id)))
///     }
///
///     async fn resume(&self, _: &Target, _: &Checkpoint, _: &PublishContext) -> Result<Outcome> {
///         Err(Error::unsupported("nothing to resume: publishing is one call"))
///     }
///     // `reconcile` keeps its default: `Unsupported`, never a guess.
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<()> {
/// let publisher = InMemory::default();
/// let target = Target::feed(TenantId::new("acme").account(Platform::Facebook, "page-1"));
/// let ctx = PublishContext::with_token(cmis::SecretString::from("unused"));
/// let Outcome::Published(receipt) =
///     publisher.publish(&target, &Post::new().with_text("Doors open at 9"), &ctx).await?
/// else {
///     unreachable!()
/// };
/// assert_eq!(receipt.post_id.as_str(), "page-1_1");
/// let err = publisher.validate(&target, &Post::new()).await.unwrap_err();
/// assert_eq!(err.kind(), cmis::ErrorKind::InvalidInput);
/// # Ok(()) }
/// ```
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
/// # mod cmis { pub use cmis_core::*; }
/// use std::sync::Arc;
/// use cmis::{MemoryCredentialStore, PublishContext, RefreshingTokenProvider};
///
/// let tokens = RefreshingTokenProvider::builder(Arc::new(MemoryCredentialStore::new())).build();
/// let ctx = PublishContext::new(Arc::new(tokens))
///     .with_progress(Arc::new(|p: &cmis::Progress| eprintln!("{}/{}", p.bytes_sent, p.total_bytes)));
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

    /// A context that hands out `token`, a token the caller already holds, for every account
    /// ([`StaticTokenProvider`](crate::StaticTokenProvider)): the shortest way to one publish.
    pub fn with_token(token: secrecy::SecretString) -> Self {
        Self::new(Arc::new(crate::StaticTokenProvider::new(token)))
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

    /// Hands `checkpoint` to the checkpoint sink after a mutating call has succeeded, when the
    /// platform may already hold the post or go on to publish it without another call (a
    /// publish created from a URL, the last byte of an upload sent).
    ///
    /// If saving fails, the post may still appear, and a caller that took the sink's error
    /// (often [`ErrorKind::Internal`](crate::ErrorKind::Internal) from a database) for a
    /// failure would tell the user so and then publish a second time. The error is therefore
    /// [`unsaved_after_mutation`]: kind
    /// [`ErrorKind::UnknownOutcome`](crate::ErrorKind::UnknownOutcome), the sink's error as its
    /// source, so the caller reconciles with read-only calls from its last stored checkpoint.
    pub async fn save_checkpoint_after_mutation(&self, checkpoint: &Checkpoint) -> Result<()> {
        self.checkpoints
            .save(checkpoint)
            .await
            .map_err(|err| unsaved_after_mutation(checkpoint, err))
    }

    /// Reports upload progress.
    pub fn report_progress(&self, progress: Progress) {
        if let Some(sink) = &self.progress {
            sink.progress(&progress);
        }
    }
}

/// The error for a checkpoint that could not be saved after the platform acted: an
/// [`ErrorKind::UnknownOutcome`](crate::ErrorKind::UnknownOutcome) naming the platform and
/// stage, with `err` (the sink's failure) as its source.
///
/// [`PublishContext::save_checkpoint_after_mutation`] applies it; a caller that stores
/// checkpoints outside a connector after a platform call (for example with a job's completion)
/// can use it for the same rule.
///
/// ```
/// # mod cmis { pub use cmis_core::*; }
/// use cmis::{Checkpoint, Error, ErrorKind, Platform, unsaved_after_mutation};
///
/// let cp = Checkpoint::new(Platform::TikTok, "processing", &"publish-1").unwrap();
/// let err = unsaved_after_mutation(&cp, Error::internal("connection reset"));
/// assert_eq!(err.kind(), ErrorKind::UnknownOutcome);
/// assert_eq!(err.platform(), Some(&Platform::TikTok));
/// ```
pub fn unsaved_after_mutation(checkpoint: &Checkpoint, err: Error) -> Error {
    Error::unknown_outcome(format!(
        "{} may have the post (checkpoint stage {}), but the checkpoint could not be saved \
         ({err}): reconcile before publishing again",
        checkpoint.platform, checkpoint.stage
    ))
    .with_platform(checkpoint.platform)
    .with_source(err)
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;
    use crate::{ErrorKind, MemoryCredentialStore, RefreshingTokenProvider};

    struct Failing;

    #[async_trait]
    impl CheckpointSink for Failing {
        async fn save(&self, _checkpoint: &Checkpoint) -> Result<()> {
            Err(Error::internal("database is down"))
        }
    }

    fn ctx(sink: Arc<dyn CheckpointSink>) -> PublishContext {
        let tokens =
            RefreshingTokenProvider::builder(Arc::new(MemoryCredentialStore::new())).build();
        PublishContext::new(Arc::new(tokens)).with_checkpoint_sink(sink)
    }

    #[tokio::test]
    async fn a_save_after_a_mutation_fails_as_an_unknown_outcome_with_the_sink_error() {
        let cp = Checkpoint::new(Platform::TikTok, "processing", &"p1").unwrap();
        let ctx = ctx(Arc::new(Failing));
        let plain = ctx.save_checkpoint(&cp).await.unwrap_err();
        assert_eq!(plain.kind(), ErrorKind::Internal);
        let after = ctx.save_checkpoint_after_mutation(&cp).await.unwrap_err();
        assert_eq!(after.kind(), ErrorKind::UnknownOutcome);
        assert_eq!(after.platform(), Some(&Platform::TikTok));
        assert!(after.message().contains("processing"), "{after}");
        assert_eq!(
            after.source().map(ToString::to_string).as_deref(),
            Some("internal: database is down")
        );
    }

    #[tokio::test]
    async fn a_save_after_a_mutation_that_works_is_ok() {
        let cp = Checkpoint::new(Platform::TikTok, "processing", &"p1").unwrap();
        let sink = Arc::new(crate::MemoryCheckpointSink::new());
        ctx(sink.clone())
            .save_checkpoint_after_mutation(&cp)
            .await
            .unwrap();
        assert_eq!(sink.latest().unwrap().stage, "processing");
    }
}
