//! [`BlueskyPublisher`]: posts written at a record key chosen and checkpointed before the write,
//! so that no retry, resume or reconciliation can post twice (docs/bluesky-api.md §7).
//!
//! The flow: resolve the text's mentions, upload the images, choose a TID, checkpoint the whole
//! record under it, then `createRecord` at that key. After an unknown outcome, `getRecord` at
//! the key says whether the post exists; if it does not, the same record is written at the same
//! key, which the repository refuses to hold twice.

use async_trait::async_trait;
use cmis_core::{
    Capabilities, Checkpoint, Error, ErrorKind, Media, MediaSource, Outcome, Platform, Post,
    PostId, PublishContext, Publisher, Receipt, Reconciliation, Result, Surface, Target,
    TokenSession,
};
use cmis_http::Call;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::client::Body;
use crate::embed::Refs;
use crate::publisher::{BlueskyPublisher, POST_COLLECTION};
use crate::richtext::{Feature, detect, facet_json};
use crate::tid::Tid;
use crate::video::{Job, JobStatus, VIDEO_PROCESSING, VideoWait, job_id};

/// The checkpoint stage written before `createRecord`.
const RECORD_READY: &str = "record_ready";

/// What a checkpoint holds: everything needed to write the same record at the same key.
#[derive(Debug, Serialize, Deserialize)]
struct Ready {
    repo: String,
    rkey: String,
    record: Value,
}

impl BlueskyPublisher {
    fn receipt(&self, target: &Target, uri: &str, ready: &Ready) -> Receipt {
        let mut receipt = Receipt::new(
            Platform::Bluesky,
            target.account.account.clone(),
            PostId::new(uri),
        );
        if let Some(link) = self.client.permalink(&ready.repo, &ready.rkey) {
            receipt = receipt.with_permalink(link);
        }
        receipt
    }

    /// Checks what this connector cannot write yet, before any call.
    fn supported(post: &Post) -> Result<()> {
        crate::embed::check(post)?;
        for media in &post.media {
            if matches!(media.source, MediaSource::Url(_)) {
                return Err(Error::unsupported(
                    "Bluesky does not fetch media from a URL: give the file or its bytes",
                ));
            }
        }
        Ok(())
    }

    /// Resolves the mentions in `text` to DIDs; a handle that does not resolve stays plain text.
    async fn facets(&self, text: &str) -> Result<Vec<Value>> {
        let mut facets = Vec::new();
        for span in detect(text) {
            let did = match &span.feature {
                Feature::Mention(handle) => self.resolve_handle(handle).await?,
                _ => None,
            };
            facets.extend(facet_json(&span, did.as_deref()));
        }
        Ok(facets)
    }

    /// `com.atproto.identity.resolveHandle`: `None` when the handle does not exist.
    pub async fn resolve_handle(&self, handle: &str) -> Result<Option<String>> {
        #[derive(Deserialize)]
        struct Resolved {
            did: String,
        }
        match self
            .client
            .xrpc::<Resolved>(
                "com.atproto.identity.resolveHandle",
                &[("handle", handle)],
                Body::Query,
                None,
                Call::Read,
            )
            .await
        {
            Ok(r) => Ok(Some(r.did)),
            Err(e) if e.kind() == ErrorKind::Rejected => {
                tracing::debug!(handle, "mention not resolved; left as text");
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Uploads the post's images and returns the `app.bsky.embed.images` embed, if any.
    async fn images(&self, post: &Post, session: &TokenSession<'_>) -> Result<Option<Value>> {
        let mut images = Vec::new();
        for (i, media) in post.media.iter().enumerate() {
            let (name, data) = match &media.source {
                MediaSource::Path(path) => (
                    path.display().to_string(),
                    tokio::fs::read(path).await.map_err(|e| {
                        Error::invalid_input(format!("{} cannot be read: {e}", path.display()))
                    })?,
                ),
                MediaSource::Bytes { name, data } => (
                    name.clone().unwrap_or_else(|| format!("image {}", i + 1)),
                    data.to_vec(),
                ),
                MediaSource::Url(_) => return Err(Error::unsupported("media from a URL")),
                _ => return Err(Error::unsupported("this kind of media source")),
            };
            let info = cmis_media::probe_bytes(&name, &data)?;
            if info.duration.is_some() || !info.format.is_image() {
                return Err(Error::unsupported(
                    "a Bluesky post carries one video, or up to four images, not both",
                ));
            }
            let mime = info.format.mime();
            let blob: Value = session
                .run(|token| {
                    let data = data.clone();
                    async move {
                        let answer: Value = self
                            .client
                            .xrpc(
                                "com.atproto.repo.uploadBlob",
                                &[],
                                Body::Bytes { data, mime },
                                Some(&token),
                                // An unreferenced blob is deleted within minutes, and the same
                                // bytes give the same reference: repeating it is harmless.
                                Call::Read,
                            )
                            .await?;
                        Ok(answer)
                    }
                })
                .await?;
            let blob = blob.get("blob").cloned().ok_or_else(|| {
                Error::transient("Bluesky answered uploadBlob without a blob")
                    .with_platform(Platform::Bluesky)
            })?;
            let mut image = json!({
                "alt": media.alt_text.clone().unwrap_or_default(),
                "image": blob,
            });
            if let (Some(width), Some(height)) = (info.width, info.height)
                && width > 0
                && height > 0
            {
                image["aspectRatio"] = json!({"width": width, "height": height});
            }
            images.push(image);
        }
        Ok((!images.is_empty())
            .then(|| json!({"$type": "app.bsky.embed.images", "images": images})))
    }

    /// The post's video, if it has one (sniffed from the bytes).
    async fn video_of(post: &Post) -> Result<Option<&Media>> {
        for media in &post.media {
            if cmis_media::sniff(media)
                .await?
                .is_some_and(|f| f.is_video())
            {
                return Ok(Some(media));
            }
        }
        Ok(None)
    }

    /// The account's DID: the account id when it is one, else its handle resolved.
    async fn did_of(&self, target: &Target) -> Result<String> {
        let account = target.account.account.as_str();
        if account.starts_with("did:") {
            return Ok(account.to_owned());
        }
        self.resolve_handle(account).await?.ok_or_else(|| {
            Error::invalid_input(format!("the handle {account} does not resolve to a DID"))
        })
    }

    /// Uploads the video, checkpoints its job, and goes on as [`finish_video`](Self::finish_video).
    async fn publish_video(
        &self,
        target: &Target,
        post: &Post,
        video: &Media,
        facets: Vec<Value>,
        refs: Refs,
        ctx: &PublishContext,
    ) -> Result<Outcome> {
        let session = TokenSession::new(ctx.tokens().as_ref(), &target.account);
        let did = self.did_of(target).await?;
        let (status, embed) = self.upload_video(&did, video, &session).await?;
        let mut record = json!({
            "$type": POST_COLLECTION,
            "text": post.text_or_empty(),
        });
        if !facets.is_empty() {
            record["facets"] = Value::Array(facets);
        }
        if let Some(reply) = refs.reply {
            record["reply"] = reply;
        }
        let wait = VideoWait {
            repo: target.account.account.as_str().to_owned(),
            record,
            job_id: job_id(&status)?,
            embed,
            quote: refs.quote,
            uploaded_at: Some(OffsetDateTime::now_utc()),
        };
        ctx.save_checkpoint(&Checkpoint::new(
            Platform::Bluesky,
            VIDEO_PROCESSING,
            &wait,
        )?)
        .await?;
        self.finish_video(target, wait, Some(status), ctx).await
    }

    /// Waits for the video's blob, then writes the record like any other: key checkpointed
    /// first. Still processing after the poll budget: pending, resumed from the same job.
    async fn finish_video(
        &self,
        target: &Target,
        wait: VideoWait,
        first: Option<JobStatus>,
        ctx: &PublishContext,
    ) -> Result<Outcome> {
        let blob = match self
            .wait_video(&wait.job_id, first, wait.uploaded_at)
            .await?
        {
            Job::Ready(blob) => blob,
            Job::Working => {
                let cp = Checkpoint::new(Platform::Bluesky, VIDEO_PROCESSING, &wait)?
                    .with_resume_after(self.video_poll().max_interval);
                return Ok(Outcome::Pending(cp));
            }
        };
        let mut embed = wait.embed;
        embed["video"] = blob;
        let mut record = wait.record;
        record["createdAt"] = json!(
            OffsetDateTime::now_utc()
                .format(&Rfc3339)
                .map_err(|e| Error::internal(format!("the time cannot be written: {e}")))?
        );
        if let Some(embed) = crate::embed::combine(Some(embed), wait.quote) {
            record["embed"] = embed;
        }
        let ready = Ready {
            repo: wait.repo,
            rkey: Tid::now()?.to_string(),
            record,
        };
        ctx.save_checkpoint(&Checkpoint::new(Platform::Bluesky, RECORD_READY, &ready)?)
            .await?;
        self.create(target, &ready, ctx)
            .await
            .map_err(blob_gone_means_upload_again)
    }

    /// Writes the checkpointed record at its key.
    async fn create(
        &self,
        target: &Target,
        ready: &Ready,
        ctx: &PublishContext,
    ) -> Result<Outcome> {
        #[derive(Deserialize)]
        struct Created {
            uri: String,
        }
        let session = TokenSession::new(ctx.tokens().as_ref(), &target.account);
        let body = json!({
            "repo": ready.repo,
            "collection": POST_COLLECTION,
            "rkey": ready.rkey,
            "record": ready.record,
        });
        let created: Created = session
            .run(|token| {
                let body = &body;
                async move {
                    self.client
                        .xrpc(
                            "com.atproto.repo.createRecord",
                            &[],
                            Body::Json(body),
                            Some(&token),
                            Call::Mutation,
                        )
                        .await
                }
            })
            .await?;
        Ok(Outcome::Published(self.receipt(
            target,
            &created.uri,
            ready,
        )))
    }

    /// `getRecord` at the checkpoint's key: whether our record is there, another, or none.
    async fn find(&self, target: &Target, ready: &Ready, ctx: &PublishContext) -> Result<Found> {
        #[derive(Deserialize)]
        struct Stored {
            uri: String,
            #[serde(default)]
            value: Value,
        }
        let session = TokenSession::new(ctx.tokens().as_ref(), &target.account);
        let found = session
            .run(|token| async move {
                self.client
                    .xrpc::<Stored>(
                        "com.atproto.repo.getRecord",
                        &[
                            ("repo", ready.repo.as_str()),
                            ("collection", POST_COLLECTION),
                            ("rkey", ready.rkey.as_str()),
                        ],
                        Body::Query,
                        Some(&token),
                        Call::Read,
                    )
                    .await
            })
            .await;
        match found {
            // Ours when it says what we wrote when we wrote it; another post (a key another
            // process chose in the same microsecond) never counts as this one.
            Ok(f)
                if f.value.get("createdAt") == ready.record.get("createdAt")
                    && f.value.get("text") == ready.record.get("text") =>
            {
                Ok(Found::Ours(f.uri))
            }
            Ok(f) => {
                tracing::warn!(uri = %f.uri, "the record key holds another post");
                Ok(Found::Other)
            }
            Err(e) if e.platform_code() == Some("RecordNotFound") => Ok(Found::Missing),
            Err(e) => Err(e),
        }
    }
}

/// What the record key holds.
enum Found {
    /// Our record, at this URI.
    Ours(String),
    /// Another post: our write was refused, so nothing of ours is there.
    Other,
    /// Nothing.
    Missing,
}

/// The key holds another post: ours was refused there, so publishing again under a new key
/// cannot make a second post.
fn key_taken() -> Error {
    Error::transient("the record key is taken by another post; publishing again under a new key")
        .with_platform(Platform::Bluesky)
        .discarding_checkpoint()
}

fn ready_from(checkpoint: &Checkpoint) -> Result<Ready> {
    if checkpoint.platform != Platform::Bluesky || checkpoint.stage != RECORD_READY {
        return Err(Error::invalid_input(format!(
            "a {} checkpoint at stage {:?} is not a Bluesky record checkpoint",
            checkpoint.platform, checkpoint.stage
        )));
    }
    let ready: Ready = checkpoint.decode()?;
    Tid::parse(&ready.rkey)?;
    Ok(ready)
}

#[async_trait]
impl Publisher for BlueskyPublisher {
    fn platform(&self) -> Platform {
        Platform::Bluesky
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::new(vec![Surface::Feed], 4, true)
    }

    async fn validate(&self, target: &Target, post: &Post) -> Result<()> {
        if target.platform() != Platform::Bluesky {
            return Err(Error::invalid_input(format!(
                "the Bluesky publisher cannot publish to {}",
                target.platform()
            )));
        }
        Self::supported(post)?;
        let videos = Self::video_of(post).await?;
        if videos.is_some() && post.media.len() > 1 {
            return Err(Error::invalid_input(
                "a Bluesky post carries one video, or up to four images, not both",
            ));
        }
        if videos.is_some() && post.link.is_some() {
            return Err(Error::invalid_input(
                "a Bluesky post carries a video or a link card, not both: put the link in the \
                 text, where it becomes a link facet",
            ));
        }
        let carries_something =
            !post.media.is_empty() || post.link.is_some() || post.options.bluesky.quote.is_some();
        if post.text_or_empty().trim().is_empty() && !carries_something {
            return Err(Error::invalid_input(
                "a Bluesky post needs text or an image",
            ));
        }
        cmis_media::validate_async(Platform::Bluesky, target.surface, post).await
    }

    async fn publish(&self, target: &Target, post: &Post, ctx: &PublishContext) -> Result<Outcome> {
        self.validate(target, post).await?;
        let text = post.text_or_empty();
        let session = TokenSession::new(ctx.tokens().as_ref(), &target.account);
        let facets = self.facets(text).await?;
        let refs = self.refs(post, &session).await?;
        if let Some(video) = Self::video_of(post).await? {
            return self
                .publish_video(target, post, video, facets, refs, ctx)
                .await;
        }
        let media = match self.images(post, &session).await? {
            Some(images) => Some(images),
            None => crate::embed::external(post),
        };
        let embed = crate::embed::combine(media, refs.quote);
        let created_at = OffsetDateTime::now_utc()
            .format(&Rfc3339)
            .map_err(|e| Error::internal(format!("the time cannot be written: {e}")))?;
        let mut record = json!({
            "$type": POST_COLLECTION,
            "text": text,
            "createdAt": created_at,
        });
        if !facets.is_empty() {
            record["facets"] = Value::Array(facets);
        }
        if let Some(embed) = embed {
            record["embed"] = embed;
        }
        if let Some(reply) = refs.reply {
            record["reply"] = reply;
        }
        let ready = Ready {
            repo: target.account.account.as_str().to_owned(),
            rkey: Tid::now()?.to_string(),
            record,
        };
        // The key is stored before the write: whatever happens to the answer, the post can be
        // found at it, and a second write there is refused.
        let checkpoint = Checkpoint::new(Platform::Bluesky, RECORD_READY, &ready)?;
        ctx.save_checkpoint(&checkpoint).await?;
        self.create(target, &ready, ctx).await
    }

    /// Looks the record up at its key first; writes it there only when it is not found.
    async fn resume(
        &self,
        target: &Target,
        checkpoint: &Checkpoint,
        ctx: &PublishContext,
    ) -> Result<Outcome> {
        if checkpoint.platform == Platform::Bluesky && checkpoint.stage == VIDEO_PROCESSING {
            let wait: VideoWait = checkpoint.decode()?;
            return self.finish_video(target, wait, None, ctx).await;
        }
        let ready = ready_from(checkpoint)?;
        match self.find(target, &ready, ctx).await? {
            Found::Ours(uri) => return Ok(Outcome::Published(self.receipt(target, &uri, &ready))),
            Found::Other => return Err(key_taken()),
            Found::Missing => {}
        }
        self.create(target, &ready, ctx)
            .await
            .map_err(blob_gone_means_upload_again)
    }

    /// Reads the record at the checkpoint's key. Found: published. Not found: the checkpoint is
    /// handed back to resume from, which writes at the same key, so a write still in flight
    /// from a lost worker can never make a second post.
    async fn reconcile(
        &self,
        target: &Target,
        _post: &Post,
        checkpoint: Option<&Checkpoint>,
        ctx: &PublishContext,
    ) -> Result<Reconciliation> {
        let Some(checkpoint) = checkpoint else {
            // No key was stored, so no write was sent: the write follows the checkpoint.
            return Ok(Reconciliation::NotPublished);
        };
        if checkpoint.platform == Platform::Bluesky && checkpoint.stage == VIDEO_PROCESSING {
            // The record is checkpointed again, under its key, before it is written: at this
            // stage no write was sent. Resuming polls the same job.
            return Ok(Reconciliation::Pending(checkpoint.clone()));
        }
        let ready = ready_from(checkpoint)?;
        Ok(match self.find(target, &ready, ctx).await? {
            Found::Ours(uri) => Reconciliation::Published(self.receipt(target, &uri, &ready)),
            // Another post holds the key: ours was refused, nothing of ours exists.
            Found::Other => Reconciliation::NotPublished,
            Found::Missing => Reconciliation::Pending(checkpoint.clone()),
        })
    }
}

/// The media uploaded for a record are deleted when no record takes them in time: a refusal
/// naming a missing blob starts over (new upload, new key; this key holds nothing).
fn blob_gone_means_upload_again(e: Error) -> Error {
    if e.kind() == ErrorKind::Rejected && mentions_missing_blob(&e) {
        Error::transient(format!("{}; uploading the media again", e.message()))
            .with_platform(Platform::Bluesky)
            .discarding_checkpoint()
    } else {
        e
    }
}

fn mentions_missing_blob(e: &Error) -> bool {
    let m = e.message().to_ascii_lowercase();
    e.platform_code() == Some("BlobNotFound")
        || (m.contains("blob") && (m.contains("not found") || m.contains("could not find")))
}
