//! The [`Publisher`] implementation: validate, publish, resume and reconcile.

use std::time::Duration;

use async_trait::async_trait;
use cmis_core::{
    Capabilities, Checkpoint, Error, MediaSource, Outcome, Platform, Post, PostId, PublishContext,
    Publisher, Receipt, ReceiptState, Reconciliation, Result, Surface, Target, TokenSession,
};
use cmis_media::ChunkedFile;
use url::Url;

use crate::checkpoint::{Processing, Stage, UploadSession, decode};
use crate::metadata::prepare;
use crate::publisher::YouTubePublisher;
use crate::status::{Listed, Processed, Thumbnail, cannot_read};
use crate::upload::{Answer, Source, UploadEnd};

/// How long a pending (still processing) publish waits before it is resumed.
const PROCESSING_RESUME_AFTER: Duration = Duration::from_secs(30);

/// The public web site, where permalinks point.
const WATCH_URL: &str = "https://www.youtube.com";

/// The error for an upload whose session expired without making a video: nothing of this
/// attempt is on YouTube, so the next attempt starts a new session.
fn session_expired() -> Error {
    Error::transient(
        "the YouTube upload session expired before the video was complete; the next attempt \
         starts a new session",
    )
    .with_platform(Platform::YouTube)
    .discarding_checkpoint()
}

fn permalink(video_id: &str, short: bool) -> Option<Url> {
    let path = if short { "shorts/" } else { "watch?v=" };
    Url::parse(&format!("{WATCH_URL}/{path}{video_id}")).ok()
}

impl YouTubePublisher {
    fn receipt(&self, target: &Target, p: &Processing) -> Receipt {
        let mut receipt = Receipt::new(
            Platform::YouTube,
            target.account.account.clone(),
            PostId::new(p.video_id.as_str()),
        )
        .with_published_at(self.clock.now())
        .with_state(if p.publish_at.is_some() {
            ReceiptState::ScheduledOnPlatform
        } else {
            ReceiptState::Published
        });
        if let Some(link) = permalink(&p.video_id, p.short) {
            receipt = receipt.with_permalink(link);
        }
        receipt
    }

    /// The video of a completed upload: checkpointed (`processing`), its thumbnail set (best
    /// effort), then polled.
    async fn uploaded(
        &self,
        target: &Target,
        tokens: &TokenSession<'_>,
        up: &UploadSession,
        video_id: String,
        thumbnail: Option<Thumbnail>,
        ctx: &PublishContext,
    ) -> Result<Outcome> {
        let p = Processing {
            video_id,
            privacy: up.meta.privacy.clone(),
            publish_at: up.meta.publish_at,
            short: up.short,
            uploaded_at: self.clock.now(),
        };
        ctx.save_checkpoint_after_mutation(&p.checkpoint()?).await?;
        tracing::info!(video = %p.video_id, "YouTube has the video");
        if let Some(image) = thumbnail {
            self.set_thumbnail(tokens, &p.video_id, image).await;
        }
        self.poll_outcome(target, tokens, &p).await
    }

    /// Polls the video: processed is published, still working is pending.
    async fn poll_outcome(
        &self,
        target: &Target,
        tokens: &TokenSession<'_>,
        p: &Processing,
    ) -> Result<Outcome> {
        match self.wait_processed(tokens, p).await {
            Ok(Some(video)) => {
                warn_if_locked_private(p, &video);
                Ok(Outcome::Published(self.receipt(target, p)))
            }
            Ok(None) => Ok(Outcome::Pending(
                p.checkpoint()?.with_resume_after(PROCESSING_RESUME_AFTER),
            )),
            Err(err) if cannot_read(&err) => {
                // A token holding youtube.upload only cannot read the video; it exists, and
                // its id is YouTube's.
                tracing::warn!(
                    video = %p.video_id,
                    error = %err,
                    "cannot read the video's processing status (grant youtube.readonly); \
                     reporting it published"
                );
                Ok(Outcome::Published(self.receipt(target, p)))
            }
            Err(err) => Err(err),
        }
    }

    /// What an upload ended with: the video, or an expired session settled by the channel's
    /// uploads when its last byte may have gone out.
    async fn after_upload(
        &self,
        target: &Target,
        tokens: &TokenSession<'_>,
        up: &UploadSession,
        end: UploadEnd,
        thumbnail: Option<Thumbnail>,
        ctx: &PublishContext,
    ) -> Result<Outcome> {
        match end {
            UploadEnd::Video(video) => {
                self.uploaded(target, tokens, up, video.id, thumbnail, ctx)
                    .await
            }
            UploadEnd::Gone {
                last_byte_maybe_sent: false,
            } => Err(session_expired()),
            UploadEnd::Gone {
                last_byte_maybe_sent: true,
            } => match self.find_in_uploads(tokens, up).await? {
                Listed::One(id) => {
                    tracing::info!(video = %id, "the expired session's video is in the channel's uploads");
                    self.uploaded(target, tokens, up, id, thumbnail, ctx).await
                }
                Listed::None => Err(session_expired()),
                Listed::Many(n) => Err(cmis_core::reconcile::undecided(
                    Platform::YouTube,
                    format!(
                        "the upload session expired after its last byte was sent, and {n} recent \
                         uploads have its title: a person must check the channel"
                    ),
                )),
            },
        }
    }

    /// Continues an upload session from a checkpoint: probe first, then send what is missing.
    async fn resume_upload(
        &self,
        target: &Target,
        up: &UploadSession,
        ctx: &PublishContext,
    ) -> Result<Outcome> {
        let tokens = TokenSession::new(ctx.tokens().as_ref(), &target.account);
        let mut source = match &up.path {
            Some(path) => match ChunkedFile::open(path).await {
                Ok(file) if file.size() == up.total_size => Source::File(file),
                Ok(file) => Source::Missing {
                    total: up.total_size,
                    why: format!(
                        "{} is now {} bytes, not the {} its upload started with",
                        path.display(),
                        file.size(),
                        up.total_size
                    ),
                },
                Err(err) => Source::Missing {
                    total: up.total_size,
                    why: err.message().to_owned(),
                },
            },
            None => Source::Missing {
                total: up.total_size,
                why: "the video's bytes were held in memory by the process that started the \
                      upload"
                    .to_owned(),
            },
        };
        let end = self
            .send_chunks(&tokens, up, &mut source, None, ctx)
            .await?;
        drop(source);
        let thumbnail = up.thumbnail.clone().map(Thumbnail::Path);
        self.after_upload(target, &tokens, up, end, thumbnail, ctx)
            .await
    }

    /// A reconciliation's view of a video that exists.
    async fn reconciled_video(
        &self,
        target: &Target,
        tokens: &TokenSession<'_>,
        up: &UploadSession,
        video_id: String,
    ) -> Result<Reconciliation> {
        let p = Processing {
            video_id,
            privacy: up.meta.privacy.clone(),
            publish_at: up.meta.publish_at,
            short: up.short,
            uploaded_at: self.clock.now(),
        };
        match self.video(tokens, &p.video_id).await? {
            Some(video) => match video.settle()? {
                Processed::Done(_) => Ok(Reconciliation::Published(self.receipt(target, &p))),
                Processed::Working => Ok(Reconciliation::Pending(p.checkpoint()?)),
            },
            None => Ok(Reconciliation::Pending(p.checkpoint()?)),
        }
    }
}

/// Google locks every upload of an unaudited project to private, and says so nowhere but in
/// the video's privacy: a video asked to be public or unlisted that comes back private without
/// a `publishAt` is one.
fn warn_if_locked_private(p: &Processing, video: &crate::status::VideoResource) {
    let status = video.status.clone().unwrap_or_default();
    if p.privacy != "private"
        && status.privacy_status.as_deref() == Some("private")
        && status.publish_at.is_none()
    {
        tracing::warn!(
            video = %p.video_id,
            asked = %p.privacy,
            "YouTube made the video private although it was asked to be {}: the Google Cloud \
             project has likely not passed the YouTube API audit, and every upload it makes is \
             locked private until it does",
            p.privacy
        );
    }
}

#[async_trait]
impl Publisher for YouTubePublisher {
    fn platform(&self) -> Platform {
        Platform::YouTube
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::new(vec![Surface::Feed, Surface::Reel], 2, false)
    }

    async fn validate(&self, target: &Target, post: &Post) -> Result<()> {
        prepare(target, post, self.clock.now()).await.map(|_| ())
    }

    async fn publish(&self, target: &Target, post: &Post, ctx: &PublishContext) -> Result<Outcome> {
        let prepared = prepare(target, post, self.clock.now()).await?;
        let (mut source, path) = match &prepared.video.source {
            MediaSource::Path(path) => (
                Source::File(ChunkedFile::open(path).await?),
                Some(path.clone()),
            ),
            MediaSource::Bytes { data, .. } => (Source::Memory(data.clone()), None),
            _ => {
                return Err(Error::unsupported(
                    "YouTube does not fetch media from a URL: give the video as a file or bytes",
                ));
            }
        };
        let total = source.size();
        if total == 0 {
            return Err(Error::invalid_input("the video is empty (0 bytes)"));
        }
        let tokens = TokenSession::new(ctx.tokens().as_ref(), &target.account);
        let started_at = self.clock.now();
        let session_uri = self
            .start_session(&tokens, &prepared.meta, total, prepared.video_mime)
            .await?;
        let thumbnail = prepared.thumbnail.and_then(Thumbnail::of);
        let up = UploadSession {
            session_uri,
            total_size: total,
            path,
            content_type: prepared.video_mime.to_owned(),
            media_index: prepared.video_index,
            thumbnail: match &thumbnail {
                Some(Thumbnail::Path(p)) => Some(p.clone()),
                _ => None,
            },
            meta: prepared.meta,
            short: target.surface == Surface::Reel,
            started_at,
        };
        // The session is the resume and reconciliation handle: stored before any byte.
        ctx.save_checkpoint(&up.checkpoint()?).await?;
        let end = self
            .send_chunks(&tokens, &up, &mut source, Some(0), ctx)
            .await?;
        drop(source);
        self.after_upload(target, &tokens, &up, end, thumbnail, ctx)
            .await
    }

    async fn resume(
        &self,
        target: &Target,
        checkpoint: &Checkpoint,
        ctx: &PublishContext,
    ) -> Result<Outcome> {
        match decode(checkpoint)? {
            Stage::Upload(up) => self.resume_upload(target, &up, ctx).await,
            Stage::Processing(p) => {
                let tokens = TokenSession::new(ctx.tokens().as_ref(), &target.account);
                self.poll_outcome(target, &tokens, &p).await
            }
        }
    }

    /// Read-only: no checkpoint means no video (a video exists only once a checkpointed
    /// session received its last byte). A session is probed: its video, bytes still missing
    /// (pending: resume continues it), or expired, when the channel's recent uploads decide.
    async fn reconcile(
        &self,
        target: &Target,
        _post: &Post,
        checkpoint: Option<&Checkpoint>,
        ctx: &PublishContext,
    ) -> Result<Reconciliation> {
        let Some(checkpoint) = checkpoint else {
            return Ok(Reconciliation::NotPublished);
        };
        let tokens = TokenSession::new(ctx.tokens().as_ref(), &target.account);
        match decode(checkpoint)? {
            Stage::Processing(_) => Ok(Reconciliation::Pending(checkpoint.clone())),
            Stage::Upload(up) => match self.probe(&tokens, &up).await? {
                Answer::Done(video) => self.reconciled_video(target, &tokens, &up, video.id).await,
                Answer::Incomplete(_) => Ok(Reconciliation::Pending(checkpoint.clone())),
                Answer::Gone => match self.find_in_uploads(&tokens, &up).await? {
                    Listed::One(id) => self.reconciled_video(target, &tokens, &up, id).await,
                    Listed::None => Ok(Reconciliation::NotPublished),
                    Listed::Many(n) => Err(cmis_core::reconcile::undecided(
                        Platform::YouTube,
                        format!("the upload session expired and {n} recent uploads have its title"),
                    )),
                },
            },
        }
    }
}
