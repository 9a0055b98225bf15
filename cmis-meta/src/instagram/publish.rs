//! The Instagram publish state machine: containers → poll → `media_publish` once → permalink.

use cmis_core::{Error, MediaSource, Outcome, Platform, PublishContext, Receipt, Result, Target};

use super::container::Polled;
use super::{IgKind, IgState, InstagramPublisher};
use crate::client::{ApiRequest, IdResponse, Session};
use crate::error::as_i64;

impl InstagramPublisher {
    /// Reads `content_publishing_limit` and refuses with [`ErrorKind::Quota`] when the 24-hour
    /// allowance is used up (Meta's pages say 50 or 100: the live value decides).
    ///
    /// [`ErrorKind::Quota`]: cmis_core::ErrorKind::Quota
    pub(super) async fn check_publishing_limit(
        &self,
        s: Session<'_>,
        target: &Target,
    ) -> Result<()> {
        let req = ApiRequest::get(self.client.url(
            self.host(),
            &format!("{}/content_publishing_limit", target.account.account),
        ))
        .query("fields", "quota_usage,config");
        let v = self.client.read(s, &req).await?;
        let entry = v.pointer("/data/0");
        let used = entry.and_then(|e| e.get("quota_usage")).and_then(as_i64);
        let total = entry
            .and_then(|e| e.pointer("/config/quota_total"))
            .and_then(as_i64);
        if let (Some(used), Some(total)) = (used, total)
            && used >= total
        {
            return Err(Error::quota(format!(
                "the account has published {used} of its {total} API posts in the last 24 hours"
            ))
            .with_platform(Platform::Instagram));
        }
        Ok(())
    }

    fn pending(&self, state: &IgState, stage: &str) -> Result<Outcome> {
        let cp = state
            .checkpoint(stage)?
            .with_resume_after(self.client.poll_policy().max_interval);
        Ok(Outcome::Pending(cp))
    }

    /// Runs (or continues) the state machine from `state`.
    pub(super) async fn run(
        &self,
        s: Session<'_>,
        target: &Target,
        mut state: IgState,
        ctx: &PublishContext,
    ) -> Result<Outcome> {
        if let Some(media_id) = state.media_id.clone() {
            return Ok(Outcome::Published(self.receipt(s, target, media_id).await));
        }
        if state.container.is_none() {
            if state.kind == IgKind::Carousel {
                let post = state.post.clone();
                for media in post.media.iter().skip(state.children.len()) {
                    let id = self
                        .create_item(s, target, media, IgKind::Carousel, true, &post)
                        .await?;
                    if matches!(media.source, MediaSource::Url(_)) {
                        state.uploaded.insert(id.clone());
                    }
                    state.children.push(id);
                    ctx.save_checkpoint(&state.checkpoint("child_created")?)
                        .await?;
                }
                for (id, media) in state.children.clone().iter().zip(&post.media) {
                    if !state.uploaded.contains(id) {
                        self.upload(s, id, media).await?;
                        state.uploaded.insert(id.clone());
                        ctx.save_checkpoint(&state.checkpoint("child_uploaded")?)
                            .await?;
                    }
                }
                match self.poll(s, &state.children).await? {
                    Polled::Finished => {}
                    Polled::StillProcessing => {
                        ctx.save_checkpoint(&state.checkpoint("children_processing")?)
                            .await?;
                        return self.pending(&state, "children_processing");
                    }
                    Polled::Published => {
                        return Err(Error::internal(
                            "a carousel child reports PUBLISHED, which Instagram never does",
                        ));
                    }
                }
                let id = self
                    .create_carousel(s, target, &state.children, &post)
                    .await?;
                state.uploaded.insert(id.clone());
                state.container = Some(id);
            } else {
                let Some(media) = state.post.media.first() else {
                    return Err(Error::internal("Instagram post without media"));
                };
                let id = self
                    .create_item(s, target, media, state.kind, false, &state.post)
                    .await?;
                if matches!(media.source, MediaSource::Url(_)) {
                    state.uploaded.insert(id.clone());
                }
                state.container = Some(id);
            }
            ctx.save_checkpoint(&state.checkpoint("container_created")?)
                .await?;
        }
        let Some(container) = state.container.clone() else {
            return Err(Error::internal("no container to publish"));
        };
        if !state.uploaded.contains(&container) {
            let Some(media) = state.post.media.first() else {
                return Err(Error::internal("Instagram post without media"));
            };
            self.upload(s, &container, media).await?;
            state.uploaded.insert(container.clone());
            ctx.save_checkpoint(&state.checkpoint("container_uploaded")?)
                .await?;
        }
        match self.poll(s, std::slice::from_ref(&container)).await? {
            Polled::Finished => {}
            Polled::StillProcessing => {
                ctx.save_checkpoint(&state.checkpoint("container_processing")?)
                    .await?;
                return self.pending(&state, "container_processing");
            }
            Polled::Published => {
                // Published by an earlier attempt whose response was lost: never publish again.
                return Err(Error::unknown_outcome(format!(
                    "container {container} is already PUBLISHED but its media id was not \
                     recorded; it is not published again: check the account"
                ))
                .with_platform(Platform::Instagram));
            }
        }
        ctx.save_checkpoint(&state.checkpoint("publishing")?)
            .await?;
        let req = ApiRequest::post(self.media_url(target, "media_publish"))
            .form(vec![("creation_id".to_owned(), container.clone())]);
        let published: IdResponse = match self.client.call_as(s, &req).await {
            Ok(p) => p,
            // 9007/2207027: not ready yet; nothing was published, keep polling later.
            Err(err) if err.platform_subcode() == Some("2207027") => {
                return self.pending(&state, "container_processing");
            }
            Err(err) => return Err(err),
        };
        state.media_id = Some(published.id.clone());
        if let Err(err) = ctx.save_checkpoint(&state.checkpoint("published")?).await {
            // The post is live; failing now would invite a second publish.
            tracing::warn!(kind = %err.kind(), "published, but the checkpoint could not be saved");
        }
        Ok(Outcome::Published(
            self.receipt(s, target, published.id).await,
        ))
    }

    /// A receipt for `media_id`, with the permalink when the lookup works
    /// (`GET /{media-id}?fields=permalink`, best effort).
    pub(super) async fn receipt(
        &self,
        s: Session<'_>,
        target: &Target,
        media_id: String,
    ) -> Receipt {
        let url = self.client.url(self.host(), &media_id);
        crate::containers::receipt(&self.client, s, target, media_id, url, "permalink").await
    }
}
