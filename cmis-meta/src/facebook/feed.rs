//! Page feed posts: text and link posts and multi-photo posts through `POST /{page-id}/feed`.

use cmis_core::{Error, ErrorKind, Post, PublishContext, Receipt, Result, Target};

use super::{Creates, FacebookPagePublisher, FbState, STAGE_SENDING, checkpoint, unix};
use crate::client::{ApiRequest, Host, IdResponse, Session};

/// `published=false` and `scheduled_publish_time` when the post is natively scheduled.
pub(super) fn scheduling(post: &Post) -> Vec<(String, String)> {
    match post.options.facebook.scheduled_publish_time {
        Some(at) => vec![
            ("published".into(), "false".into()),
            ("scheduled_publish_time".into(), unix(at)),
        ],
        None => Vec::new(),
    }
}

/// A creating call about to be sent: where it goes and what it makes.
pub(super) struct Creating<'a> {
    pub(super) endpoint: &'a str,
    pub(super) creates: Creates,
    /// Ids the created post will point at (photos of a multi-photo post, a Reel's video id).
    pub(super) ids: Vec<String>,
}

impl FacebookPagePublisher {
    /// Runs a creating call whose outcome may be unknown. The checkpoint says "sending" first,
    /// with the time the call starts, what it creates and `before` (so a crash never leads to a
    /// second post, and reconcile knows the call's window and where to resume); `before` is put
    /// back when the call provably did nothing.
    pub(super) async fn guarded<T>(
        &self,
        ctx: &PublishContext,
        before: &FbState,
        creating: Creating<'_>,
        call: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        ctx.save_checkpoint(&checkpoint(
            STAGE_SENDING,
            &FbState::Sending {
                endpoint: creating.endpoint.to_owned(),
                started_at: Some(self.client.clock().now()),
                creates: Some(creating.creates),
                ids: creating.ids,
                retry: Some(Box::new(before.clone())),
            },
        )?)
        .await?;
        let result = call.await;
        if let Err(err) = &result
            && err.kind() != ErrorKind::UnknownOutcome
            && let Err(save) = ctx
                .save_checkpoint(&checkpoint(before.stage(), before)?)
                .await
        {
            tracing::warn!(kind = %save.kind(), "checkpoint could not be restored after a refused call");
        }
        result
    }
}

impl FacebookPagePublisher {
    /// A text or link post: one `POST /{page-id}/feed`, never repeated.
    pub(super) async fn text_post(
        &self,
        s: Session<'_>,
        target: &Target,
        post: &Post,
        ctx: &PublishContext,
    ) -> Result<Receipt> {
        let mut fields = Vec::new();
        if let Some(text) = post.text.as_deref().filter(|t| !t.is_empty()) {
            fields.push(("message".into(), text.to_owned()));
        }
        if let Some(link) = &post.link {
            fields.push(("link".into(), link.to_string()));
        }
        fields.extend(scheduling(post));
        let url = self
            .client
            .url(Host::Graph, &format!("{}/feed", target.account.account));
        let ready = FbState::Ready { post: post.clone() };
        let creating = Creating {
            endpoint: "/feed",
            creates: Creates::Feed,
            ids: Vec::new(),
        };
        let created: IdResponse = self
            .guarded(
                ctx,
                &ready,
                creating,
                self.client.call_as(s, &ApiRequest::post(url).form(fields)),
            )
            .await?;
        Ok(self.receipt(
            target,
            created.id,
            post.options.facebook.scheduled_publish_time.is_some(),
        ))
    }

    /// A multi-photo post: each photo uploaded unpublished (checkpointed one by one), then one
    /// feed post with `attached_media`.
    pub(super) async fn multi_photo(
        &self,
        s: Session<'_>,
        target: &Target,
        post: Post,
        mut photo_ids: Vec<String>,
        ctx: &PublishContext,
    ) -> Result<Receipt> {
        for media in post.media.iter().skip(photo_ids.len()) {
            let fields = vec![("published".to_owned(), "false".to_owned())];
            let photo = self.upload_photo(s, target, media, fields).await?;
            photo_ids.push(photo.id);
            ctx.save_checkpoint(&checkpoint(
                "photos",
                &FbState::MultiPhoto {
                    post: post.clone(),
                    photo_ids: photo_ids.clone(),
                },
            )?)
            .await?;
        }
        if photo_ids.len() != post.media.len() {
            return Err(Error::internal(
                "the checkpoint holds more photos than the post",
            ));
        }
        let attached: Vec<serde_json::Value> = photo_ids
            .iter()
            .map(|id| serde_json::json!({ "media_fbid": id }))
            .collect();
        let mut fields = Vec::new();
        if let Some(text) = post.text.as_deref().filter(|t| !t.is_empty()) {
            fields.push(("message".to_owned(), text.to_owned()));
        }
        fields.push((
            "attached_media".to_owned(),
            serde_json::Value::Array(attached).to_string(),
        ));
        fields.extend(scheduling(&post));
        let url = self
            .client
            .url(Host::Graph, &format!("{}/feed", target.account.account));
        let creating = Creating {
            endpoint: "/feed",
            creates: Creates::Photos,
            ids: photo_ids.clone(),
        };
        let state = FbState::MultiPhoto {
            post: post.clone(),
            photo_ids,
        };
        let created: IdResponse = self
            .guarded(
                ctx,
                &state,
                creating,
                self.client.call_as(s, &ApiRequest::post(url).form(fields)),
            )
            .await?;
        Ok(self.receipt(
            target,
            created.id,
            post.options.facebook.scheduled_publish_time.is_some(),
        ))
    }
}
