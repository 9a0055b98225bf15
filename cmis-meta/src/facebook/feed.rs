//! Page feed posts: text and link posts and multi-photo posts through `POST /{page-id}/feed`.

use cmis_core::{Error, ErrorKind, Post, PublishContext, Receipt, Result, Target};

use super::{FacebookPagePublisher, FbState, STAGE_SENDING, checkpoint, unix};
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

/// Runs a creating call whose outcome may be unknown: the checkpoint says "sending" first (so a
/// crash never leads to a second post), and is put back when the call provably did nothing.
pub(super) async fn guarded<T>(
    ctx: &PublishContext,
    before: Option<(&str, &FbState)>,
    endpoint: &str,
    call: impl Future<Output = Result<T>>,
) -> Result<T> {
    ctx.save_checkpoint(&checkpoint(
        STAGE_SENDING,
        &FbState::Sending {
            endpoint: endpoint.to_owned(),
        },
    )?)
    .await?;
    let result = call.await;
    if let (Err(err), Some((stage, state))) = (&result, before)
        && err.kind() != ErrorKind::UnknownOutcome
        && let Err(save) = ctx.save_checkpoint(&checkpoint(stage, state)?).await
    {
        tracing::warn!(kind = %save.kind(), "checkpoint could not be restored after a refused call");
    }
    result
}

impl FacebookPagePublisher {
    /// A text or link post: one `POST /{page-id}/feed`, never repeated.
    pub(super) async fn text_post(
        &self,
        s: Session<'_>,
        target: &Target,
        post: &Post,
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
        let created: IdResponse = self
            .client
            .call_as(s, &ApiRequest::post(url).form(fields))
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
        let state = FbState::MultiPhoto {
            post: post.clone(),
            photo_ids,
        };
        let created: IdResponse = guarded(
            ctx,
            Some(("photos", &state)),
            "/feed",
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
