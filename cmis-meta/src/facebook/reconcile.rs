//! Reconciling a Facebook publish whose creating call's outcome was lost: the Page's
//! `published_posts` read over the call's window, or a Reel's status by its video id.

use std::time::Duration;

use cmis_core::{
    Checkpoint, Platform, Post, PostId, PublishContext, Receipt, ReceiptState, Reconciliation,
    Result, Target,
};
use serde_json::Value;
use time::OffsetDateTime;
use url::Url;

use super::{Creates, FacebookPagePublisher, FbState, checkpoint};
use crate::client::{ApiRequest, Host, Session, segment};
use crate::reconcile::{
    Found, Listed, Window, decide, id_of, list_since, normalise, parse_time, undecided,
    undecided_until,
};

/// The fields read for each post (Page Post reference; `attachments` is a field expansion).
pub(crate) const POST_FIELDS: &str =
    "id,message,created_time,permalink_url,attachments{media_type,target,subattachments}";

/// How far back a reconcile without a checkpoint looks for a post with the same text.
const NO_CHECKPOINT_LOOKBACK: Duration = Duration::from_secs(24 * 60 * 60);

fn undecided_fb(reason: impl Into<String>) -> cmis_core::Error {
    undecided(Platform::Facebook, reason)
}

/// One post of `published_posts`.
pub(crate) fn parse_post(v: &Value) -> Option<Listed> {
    let id = id_of(v.get("id")?)?;
    let mut attached = Vec::new();
    let mut media_type = None;
    if let Some(items) = v.pointer("/attachments/data").and_then(Value::as_array) {
        for a in items {
            if media_type.is_none() {
                media_type = a
                    .get("media_type")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
            }
            if let Some(t) = a.pointer("/target/id").and_then(id_of) {
                attached.push(t);
            }
            if let Some(subs) = a.pointer("/subattachments/data").and_then(Value::as_array) {
                attached.extend(
                    subs.iter()
                        .filter_map(|x| x.pointer("/target/id").and_then(id_of)),
                );
            }
        }
    }
    Some(Listed {
        id,
        text: v.get("message").and_then(Value::as_str).map(str::to_owned),
        created: v
            .get("created_time")
            .and_then(Value::as_str)
            .and_then(parse_time),
        media_type,
        attached,
        permalink: v
            .get("permalink_url")
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

/// Whether a listed post is of the kind `creates` makes.
fn fits(creates: Creates, p: &Listed) -> bool {
    let mt = p.media_type.as_deref();
    match creates {
        Creates::Feed => !matches!(mt, Some("photo" | "video" | "album")),
        Creates::Photo => mt == Some("photo"),
        Creates::Video => mt == Some("video"),
        // Matched by their stored ids only.
        Creates::Photos | Creates::Reel => false,
    }
}

impl FacebookPagePublisher {
    fn listed_receipt(&self, target: &Target, p: &Listed) -> Receipt {
        let mut r = self.receipt(target, p.id.clone(), false);
        if let Some(link) = p.permalink.as_deref().and_then(|l| Url::parse(l).ok()) {
            r = r.with_permalink(link);
        }
        if let Some(at) = p.created {
            r = r.with_published_at(at);
        }
        r.with_state(ReceiptState::Published)
    }

    async fn list_posts(
        &self,
        s: Session<'_>,
        target: &Target,
        since: OffsetDateTime,
    ) -> Result<(Vec<Listed>, bool)> {
        let url = self.client.url(
            Host::Graph,
            &format!("{}/published_posts", target.account.account),
        );
        list_since(
            &self.client,
            s,
            &url,
            POST_FIELDS,
            since,
            &self.reconcile,
            parse_post,
        )
        .await
    }

    pub(super) async fn find_lost(
        &self,
        target: &Target,
        post: &Post,
        cp: Option<&Checkpoint>,
        ctx: &PublishContext,
    ) -> Result<Reconciliation> {
        let tokens = Self::tokens(target, ctx);
        let s = Session::new(&tokens);
        segment(target.account.account.as_str(), "Page id")?;
        let Some(cp) = cp else {
            return self.without_checkpoint(s, target, post).await;
        };
        let state: FbState = cp.decode()?;
        let FbState::Sending {
            endpoint,
            started_at,
            creates,
            ids,
            retry,
        } = state
        else {
            // Every creating call is preceded by a "sending" checkpoint, and the state before it
            // comes back only when the call was refused: none was sent, or none created anything.
            return Ok(Reconciliation::NotPublished);
        };
        let Some(creates) = creates else {
            return Err(undecided_fb(format!(
                "the checkpoint of the call to {endpoint} predates reconciling and does not say \
                 what it creates"
            )));
        };
        if post.options.facebook.scheduled_publish_time.is_some() {
            return Err(undecided_fb(
                "a natively scheduled post is not listed among the Page's published posts",
            ));
        }
        let window = self.reconcile.window(started_at.unwrap_or(cp.created_at));
        if creates == Creates::Reel {
            return self.reel_status(s, target, &ids).await;
        }
        let since = window.start - self.reconcile.lookback;
        let (listed, complete) = self.list_posts(s, target, since).await?;
        let now = self.client.clock().now();
        if creates == Creates::Photos
            && let Some(found) = by_ids(&listed, &ids)
        {
            return match found {
                Ok(p) => Ok(Reconciliation::Published(self.listed_receipt(target, p))),
                Err(reason) => Err(undecided_fb(reason)),
            };
        }
        let found = decide(
            &listed,
            complete,
            post.text_or_empty(),
            window,
            now,
            self.reconcile.settle,
            |p| fits(creates, p),
        );
        match found {
            Found::Ours(p) => Ok(Reconciliation::Published(self.listed_receipt(target, &p))),
            Found::Unknown(reason) => Err(undecided_fb(reason)),
            Found::NotYet { reason, at } => {
                Err(undecided_until(Platform::Facebook, reason, at, now))
            }
            Found::Absent if creates == Creates::Video => Err(undecided_fb(
                "no matching video post, but a video is listed only once Meta has processed it: \
                 absence is not proven",
            )),
            Found::Absent => self.not_published(ctx, retry.as_deref(), window).await,
        }
    }

    /// Nothing was created: put back the state to resume from, so that publishing again starts
    /// before the lost call instead of refusing at "sending".
    async fn not_published(
        &self,
        ctx: &PublishContext,
        retry: Option<&FbState>,
        window: Window,
    ) -> Result<Reconciliation> {
        let Some(state) = retry else {
            return Err(undecided_fb(
                "the checkpoint does not say where to resume, so publishing again is not offered",
            ));
        };
        if let Err(err) = ctx
            .save_checkpoint(&checkpoint(state.stage(), state)?)
            .await
        {
            return Err(undecided_fb(format!(
                "no post was created between {} and {}, but the checkpoint to resume from could \
                 not be saved: {err}",
                window.start, window.end
            )));
        }
        Ok(Reconciliation::NotPublished)
    }

    /// No checkpoint: every call that creates a post is preceded by one, so none was sent. A
    /// post with the same text in the last day (from an older version, or a caller that keeps
    /// no checkpoints) still stops the answer.
    async fn without_checkpoint(
        &self,
        s: Session<'_>,
        target: &Target,
        post: &Post,
    ) -> Result<Reconciliation> {
        let text = normalise(post.text_or_empty());
        if text.is_empty() {
            return Err(undecided_fb(
                "no checkpoint, and the post has no text to look for among the Page's posts",
            ));
        }
        let since = self.client.clock().now() - NO_CHECKPOINT_LOOKBACK;
        let (listed, complete) = self.list_posts(s, target, since).await?;
        let same = listed
            .iter()
            .find(|p| p.text.as_deref().map(normalise) == Some(text.clone()));
        match (same, complete) {
            (Some(p), _) => Err(undecided_fb(format!(
                "no checkpoint records when the call was made, and post {} has the same text: \
                 it cannot be told whether it is this publish's",
                p.id
            ))),
            (None, false) => Err(undecided_fb(
                "no checkpoint, and the Page's posts of the last day could not all be read",
            )),
            (None, true) => Ok(Reconciliation::NotPublished),
        }
    }

    /// A Reel by its stored video id: `GET /{video-id}?fields=status`.
    async fn reel_status(
        &self,
        s: Session<'_>,
        target: &Target,
        ids: &[String],
    ) -> Result<Reconciliation> {
        let Some(video_id) = ids.first() else {
            return Err(undecided_fb("the Reel's video id was not stored"));
        };
        segment(video_id, "video id")?;
        let req = ApiRequest::get(self.client.url(Host::Graph, video_id)).query("fields", "status");
        let v = self.client.read(s, &req).await?;
        let status = |p: &str| v.pointer(p).and_then(Value::as_str);
        match (
            status("/status/video_status"),
            status("/status/publishing_phase/status"),
        ) {
            (_, Some("complete")) => {
                let mut r = Receipt::new(
                    Platform::Facebook,
                    target.account.account.clone(),
                    PostId::new(video_id.clone()),
                )
                .with_published_at(self.client.clock().now());
                r.permalink = None;
                Ok(Reconciliation::Published(r))
            }
            (Some("error"), _) | (_, Some("error")) => Err(undecided_fb(format!(
                "Meta reports an error for Reel {video_id}: {}",
                v.get("status").unwrap_or(&Value::Null)
            ))),
            (video, publishing) => Err(undecided_fb(format!(
                "Reel {video_id} is not published yet (video_status {}, publishing {})",
                video.unwrap_or("absent"),
                publishing.unwrap_or("absent")
            ))),
        }
    }
}

/// The post whose attachments are the stored photos: `None` when no post points at them.
fn by_ids<'a>(listed: &'a [Listed], ids: &[String]) -> Option<Result<&'a Listed, String>> {
    if ids.is_empty() {
        return None;
    }
    let hits: Vec<&Listed> = listed
        .iter()
        .filter(|p| ids.iter().any(|id| p.attached.contains(id)))
        .collect();
    match hits.as_slice() {
        [] => None,
        [one] => Some(Ok(one)),
        many => Some(Err(format!(
            "ambiguous: {} posts point at the stored photos: {}",
            many.len(),
            many.iter()
                .map(|p| p.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}
