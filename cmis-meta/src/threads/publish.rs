//! The Threads publish state machine (`docs/threads-api.md` §2, §7.6): children → poll → parent
//! → poll → `threads_publish` once → permalink (best effort). Every created id is checkpointed
//! before the next mutating call; `threads_publish` is preceded by a read of the container, so a
//! container an earlier attempt published is never published again.

use std::time::Duration;

use cmis_core::{
    Error, ErrorKind, Media, MediaSource, Outcome, Platform, Post, PublishContext, Receipt, Result,
    Target,
};
use serde::Deserialize;

use super::reconcile::Lookup;
use super::{ThKind, ThState, ThreadsPublisher};
use crate::client::{ApiRequest, IdResponse, Session, segment};
use crate::containers::{Polled, Seen, poll_all};
use crate::error::as_i64;

/// A container's `status` and `error_message` (§2.2).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Status {
    #[serde(default)]
    pub(crate) status: String,
    #[serde(default)]
    pub(crate) error_message: Option<String>,
}

/// `threads_publish` refused a container it cannot see yet: nothing was published (§2.2).
const NOT_READY_SUBCODE: &str = "4279009";

/// How many "Media Not Found" answers a container gets before the publish fails: one peer saw
/// an expired token answered this way (trypost#230), and a container lives 24 hours.
const MAX_NOT_FOUND: u32 = 10;

impl ThreadsPublisher {
    /// Reads `threads_publishing_limit` and refuses with
    /// [`ErrorKind::Quota`](cmis_core::ErrorKind::Quota) when the rolling 24-hour allowance is
    /// used up: 250 posts, or 1 000 replies for a reply (§3).
    pub(super) async fn check_publishing_limit(
        &self,
        s: Session<'_>,
        target: &Target,
        post: &Post,
    ) -> Result<()> {
        let reply = post.options.threads.reply_to_id.is_some();
        let (fields, used_key, config_key, what) = if reply {
            (
                "reply_quota_usage,reply_config",
                "reply_quota_usage",
                "/reply_config/quota_total",
                "replies",
            )
        } else {
            (
                "quota_usage,config",
                "quota_usage",
                "/config/quota_total",
                "posts",
            )
        };
        let url = self.client.url(&format!(
            "{}/threads_publishing_limit",
            target.account.account
        ));
        let req = ApiRequest::get(url).query("fields", fields);
        let v = self.client.meta().read(s, &req).await?;
        let entry = v.pointer("/data/0");
        let used = entry.and_then(|e| e.get(used_key)).and_then(as_i64);
        let total = entry.and_then(|e| e.pointer(config_key)).and_then(as_i64);
        if let (Some(used), Some(total)) = (used, total)
            && used >= total
        {
            return Err(Error::quota(format!(
                "the profile has published {used} of its {total} API {what} in the last 24 hours"
            ))
            .with_platform(Platform::Threads));
        }
        Ok(())
    }

    fn container_url(&self, target: &Target) -> String {
        self.client
            .url(&format!("{}/threads", target.account.account))
    }

    /// The fields of the options every top-level container carries.
    fn post_fields(post: &Post, f: &mut Vec<(String, String)>) {
        if let Some(text) = post.text.as_deref().filter(|t| !t.is_empty()) {
            f.push(("text".into(), text.to_owned()));
        }
        let opts = &post.options.threads;
        if let Some(control) = &opts.reply_control {
            f.push(("reply_control".into(), control.as_str().to_owned()));
        }
        if let Some(tag) = &opts.topic_tag {
            f.push(("topic_tag".into(), tag.clone()));
        }
        if let Some(id) = &opts.reply_to_id {
            f.push(("reply_to_id".into(), id.clone()));
        }
        if let Some(id) = &opts.quote_post_id {
            f.push(("quote_post_id".into(), id.clone()));
        }
    }

    /// The fields of one image or video: its URL and alt text.
    fn media_fields(media: &Media, kind: ThKind, f: &mut Vec<(String, String)>) -> Result<()> {
        let MediaSource::Url(url) = &media.source else {
            return Err(Error::internal("a Threads media item is not a URL"));
        };
        f.push(("media_type".into(), kind.create_name().to_owned()));
        let key = if kind == ThKind::Video {
            "video_url"
        } else {
            "image_url"
        };
        f.push((key.into(), url.to_string()));
        if let Some(alt) = media.alt_text.as_deref().filter(|a| !a.is_empty()) {
            f.push(("alt_text".into(), alt.to_owned()));
        }
        Ok(())
    }

    async fn create(
        &self,
        s: Session<'_>,
        target: &Target,
        f: Vec<(String, String)>,
    ) -> Result<String> {
        let req = ApiRequest::post(self.container_url(target)).form(f);
        let created: IdResponse = self.client.meta().call_as(s, &req).await?;
        segment(&created.id, "container id")?;
        Ok(created.id)
    }

    /// Creates the container to publish for a text, image or video post.
    async fn create_single(
        &self,
        s: Session<'_>,
        target: &Target,
        state: &ThState,
    ) -> Result<String> {
        let mut f = Vec::new();
        match state.post.media.first() {
            None => {
                f.push(("media_type".into(), "TEXT".into()));
                Self::post_fields(&state.post, &mut f);
                if let Some(link) = &state.post.link {
                    f.push(("link_attachment".into(), link.to_string()));
                }
            }
            Some(media) => {
                Self::media_fields(media, state.kind, &mut f)?;
                Self::post_fields(&state.post, &mut f);
            }
        }
        self.create(s, target, f).await
    }

    /// `GET /{container-id}?fields=status,error_message`.
    pub(super) async fn status(&self, s: Session<'_>, container: &str) -> Result<Status> {
        segment(container, "container id")?;
        let req =
            ApiRequest::get(self.client.url(container)).query("fields", "status,error_message");
        self.client.meta().read_as(s, &req).await
    }

    /// Polls `containers` with bounded backoff until all are `FINISHED`, one is `PUBLISHED`, or
    /// the budget runs out. `ERROR` and `EXPIRED` end it with an error.
    async fn poll(&self, s: Session<'_>, containers: &[String]) -> Result<Polled> {
        let policy = self.client.meta().poll_policy();
        poll_all(policy, containers, |id| async move {
            let st = self.status(s, &id).await?;
            Ok(match st.status.as_str() {
                "FINISHED" => Seen::Finished,
                "PUBLISHED" => Seen::Published,
                "ERROR" => {
                    let why = st.error_message.unwrap_or_else(|| "UNKNOWN".to_owned());
                    Seen::Failed(
                        Error::rejected(format!(
                            "Threads could not process container {id}: {why}; check the media \
                             (format, size, and that the URL is public)"
                        ))
                        .with_platform(Platform::Threads)
                        .with_platform_subcode(why),
                    )
                }
                "EXPIRED" => Seen::Failed(
                    Error::rejected(format!(
                        "Threads container {id} expired (containers live 24 h); publish the \
                         post again to create a new one"
                    ))
                    .with_platform(Platform::Threads),
                ),
                // IN_PROGRESS, or a status this version does not know: keep polling.
                _ => Seen::Working,
            })
        })
        .await
    }

    fn pending(&self, state: &ThState, stage: &str, after: Duration) -> Result<Outcome> {
        Ok(Outcome::Pending(
            state.checkpoint(stage)?.with_resume_after(after),
        ))
    }

    /// Creates whatever is missing up to the container to publish, checkpointing each id.
    /// `Ok(None)` means the children are still processing and a pending outcome was saved.
    async fn ensure_container(
        &self,
        s: Session<'_>,
        target: &Target,
        state: &mut ThState,
        ctx: &PublishContext,
    ) -> Result<Option<String>> {
        if let Some(c) = &state.container {
            return Ok(Some(c.clone()));
        }
        let id = if state.kind == ThKind::Carousel {
            let media = state.post.media.clone();
            for (i, m) in media.iter().enumerate().skip(state.children.len()) {
                let kind = state.child_kinds.get(i).copied().unwrap_or(ThKind::Image);
                let mut f = Vec::new();
                Self::media_fields(m, kind, &mut f)?;
                f.push(("is_carousel_item".into(), "true".into()));
                let child = self.create(s, target, f).await?;
                state.children.push(child);
                ctx.save_checkpoint(&state.checkpoint("child_created")?)
                    .await?;
            }
            match self.poll(s, &state.children).await? {
                Polled::Finished => {}
                Polled::StillProcessing => {
                    ctx.save_checkpoint(&state.checkpoint("children_processing")?)
                        .await?;
                    return Ok(None);
                }
                Polled::Published => {
                    return Err(Error::internal(
                        "a carousel child reports PUBLISHED, which Threads never does",
                    ));
                }
            }
            let mut f = vec![
                ("media_type".to_owned(), "CAROUSEL".to_owned()),
                ("children".to_owned(), state.children.join(",")),
            ];
            Self::post_fields(&state.post, &mut f);
            self.create(s, target, f).await?
        } else {
            self.create_single(s, target, state).await?
        };
        state.container = Some(id.clone());
        state.container_created_at = Some(self.client.meta().clock().now());
        ctx.save_checkpoint(&state.checkpoint("container_created")?)
            .await?;
        Ok(Some(id))
    }

    /// Waits out the rest of the publish delay of a container created at `created`.
    async fn wait_publish_delay(&self, state: &ThState) {
        let Some(created) = state.container_created_at else {
            return;
        };
        let age = self.client.meta().clock().now() - created;
        let left = self
            .publish_delay
            .saturating_sub(Duration::try_from(age).unwrap_or_default());
        if !left.is_zero() {
            tokio::time::sleep(left).await;
        }
    }

    /// Runs (or continues) the state machine from `state`.
    pub(super) async fn run(
        &self,
        s: Session<'_>,
        target: &Target,
        mut state: ThState,
        ctx: &PublishContext,
    ) -> Result<Outcome> {
        let poll_max = self.client.meta().poll_policy().max_interval;
        if let Some(media_id) = state.media_id.clone() {
            return Ok(Outcome::Published(self.receipt(s, target, media_id).await));
        }
        let resumed = state.container.is_some();
        let Some(container) = self.ensure_container(s, target, &mut state, ctx).await? else {
            return self.pending(&state, "children_processing", poll_max);
        };
        self.wait_publish_delay(&state).await;
        // Read before every publish: a container an earlier attempt published is not
        // published again (§5).
        match self.poll(s, std::slice::from_ref(&container)).await? {
            Polled::Finished => {}
            Polled::StillProcessing => {
                ctx.save_checkpoint(&state.checkpoint("container_processing")?)
                    .await?;
                return self.pending(&state, "container_processing", poll_max);
            }
            Polled::Published => {
                return Err(Error::unknown_outcome(format!(
                    "container {container} is already PUBLISHED but its media id was not \
                     recorded; it is not published again: reconcile to find the post"
                ))
                .with_platform(Platform::Threads));
            }
        }
        if let Some(sent) = state.publish_sent_at {
            // An earlier publish got no definite answer and the status may lag behind it: the
            // profile's posts decide before the container is sent again.
            let why = "threads_publish was sent without a definite answer and the container \
                       still reads FINISHED;";
            match self.look_for(target, sent, &state, ctx, why).await? {
                Lookup::Found(receipt) => {
                    state.media_id = Some(receipt.post_id.as_str().to_owned());
                    self.save_published(&state, ctx).await;
                    return Ok(Outcome::Published(receipt));
                }
                Lookup::Undecided(err) => return Err(err),
                Lookup::Absent => {}
            }
        }
        if resumed {
            // Hours may have passed since the quota was read.
            self.check_publishing_limit(s, target, &state.post).await?;
        }
        state.publish_sent_at = Some(self.client.meta().clock().now());
        ctx.save_checkpoint(&state.checkpoint("publishing")?)
            .await?;
        let req = ApiRequest::post(
            self.client
                .url(&format!("{}/threads_publish", target.account.account)),
        )
        .form(vec![("creation_id".to_owned(), container.clone())]);
        let published: IdResponse = match self.client.meta().call_as(s, &req).await {
            Ok(p) => p,
            // 24/4279009 "Media Not Found": not visible yet, nothing was published.
            Err(err) if err.platform_subcode() == Some(NOT_READY_SUBCODE) => {
                state.publish_sent_at = None;
                state.not_found += 1;
                if state.not_found >= MAX_NOT_FOUND {
                    return Err(Error::rejected(format!(
                        "Threads answered \"Media Not Found\" {} times for container \
                         {container}; nothing was published (an expired token has been seen \
                         answering this way: check the profile's connection)",
                        state.not_found
                    ))
                    .with_platform(Platform::Threads));
                }
                tracing::info!("Threads does not see the container yet; publishing later");
                return self.pending(&state, "container_processing", poll_max);
            }
            Err(err) if err.kind() == ErrorKind::UnknownOutcome => return Err(err),
            // A definite refusal; but Meta has been seen publishing posts it refused
            // (postiz-app#1681), so a PUBLISHED container turns it into an unknown outcome.
            Err(err) => {
                let published = self
                    .status(s, &container)
                    .await
                    .is_ok_and(|st| st.status == "PUBLISHED");
                if published {
                    return Err(Error::unknown_outcome(format!(
                        "threads_publish was refused ({}), yet container {container} reads \
                         PUBLISHED: reconcile to find the post",
                        err.message()
                    ))
                    .with_platform(Platform::Threads));
                }
                return Err(err);
            }
        };
        state.media_id = Some(published.id.clone());
        self.save_published(&state, ctx).await;
        Ok(Outcome::Published(
            self.receipt(s, target, published.id).await,
        ))
    }

    /// Saves the published media id; a failure is logged, never returned: the post is live and
    /// failing now would invite a second publish.
    async fn save_published(&self, state: &ThState, ctx: &PublishContext) {
        let saved = match state.checkpoint("published") {
            Ok(cp) => ctx.save_checkpoint(&cp).await,
            Err(e) => Err(e),
        };
        if let Err(err) = saved {
            tracing::warn!(kind = %err.kind(), "published, but the checkpoint could not be saved");
        }
    }

    /// A receipt for `media_id`, with the permalink when the lookup works
    /// (`GET /{media-id}?fields=id,permalink`, best effort).
    pub(super) async fn receipt(
        &self,
        s: Session<'_>,
        target: &Target,
        media_id: String,
    ) -> Receipt {
        let url = self.client.url(&media_id);
        crate::containers::receipt(self.client.meta(), s, target, media_id, url, "id,permalink")
            .await
    }
}
