//! Page videos through the Resumable Upload API, and Reels through `video_reels`.
//!
//! Reference: `docs/meta-graph-api.md` §1 "Video" and "Reels". Uploads send
//! `Authorization: OAuth <token>` (not Bearer), as Meta's upload endpoints require.

use std::time::Duration;

use bytes::Bytes;
use cmis_core::{
    Error, Media, MediaSource, Post, Progress, PublishContext, Receipt, Result, Target,
};
use serde::Deserialize;
use serde_json::Value;

use super::feed::Creating;
use super::{Creates, FacebookPagePublisher, FbState, checkpoint, scheduling, unix};
use crate::client::{ApiRequest, Host, IdResponse, Session, de_id, segment};
use crate::error::as_i64;
use crate::media::{file_name, load, sniff_media};

/// Upload attempts after which a failing resumable upload gives up.
const UPLOAD_ATTEMPTS: u32 = 4;

#[derive(Debug, Deserialize)]
pub(crate) struct Handle {
    pub(crate) h: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ReelStart {
    #[serde(deserialize_with = "de_id")]
    pub(crate) video_id: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Success {
    #[serde(default)]
    pub(crate) success: bool,
}

fn first_media(post: &Post) -> Result<&Media> {
    post.media
        .first()
        .ok_or_else(|| Error::internal("video post without media"))
}

fn no_permalink(mut r: Receipt) -> Receipt {
    // Meta's docs give no permalink form for video ids; none is better than a guessed one.
    r.permalink = None;
    r
}

impl FacebookPagePublisher {
    /// `POST|GET {graph}/{ver}/upload:<S>`; a session id may carry its own query (`?sig=`).
    fn session_request(&self, session: &str, post: bool) -> Result<ApiRequest> {
        let (path, query) = session.split_once('?').unwrap_or((session, ""));
        segment(path, "upload session")?;
        let url = self.client.url(Host::Graph, path);
        let mut req = if post {
            ApiRequest::post(url)
        } else {
            ApiRequest::get(url)
        };
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            req = req.query(&k, v.into_owned());
        }
        Ok(req.oauth())
    }

    /// The offset the server holds for `session` (`GET /upload:<S>` → `file_offset`).
    async fn server_offset(&self, s: Session<'_>, session: &str) -> Result<u64> {
        let v = self
            .client
            .read(s, &self.session_request(session, false)?)
            .await?;
        v.get("file_offset")
            .and_then(as_i64)
            .and_then(|o| u64::try_from(o).ok())
            .ok_or_else(|| Error::transient("the upload session did not report its file_offset"))
    }

    /// Sends the bytes from `offset` on; after a failure, asks the server where it stands and
    /// resumes from there.
    async fn upload_bytes(
        &self,
        s: Session<'_>,
        session: &str,
        data: &Bytes,
        mut offset: u64,
        ctx: &PublishContext,
    ) -> Result<String> {
        let total = u64::try_from(data.len()).unwrap_or(u64::MAX);
        let mut attempt = 0;
        loop {
            let start = usize::try_from(offset).unwrap_or(usize::MAX);
            let Some(body) = data.get(start..) else {
                return Err(Error::internal(format!(
                    "the server reports offset {offset} beyond the file's {total} bytes"
                )));
            };
            // Re-sending bytes at an offset is idempotent: failures are retried from the
            // server-reported offset.
            let req = self
                .session_request(session, true)?
                .header("file_offset", offset.to_string())
                .raw(
                    "application/octet-stream",
                    data.slice(start..start + body.len()),
                )
                .idempotent();
            match self.client.call_as::<Handle>(s, &req).await {
                Ok(h) => {
                    ctx.report_progress(Progress::new(0, total, total));
                    return Ok(h.h);
                }
                Err(err) if err.is_retryable() && attempt + 1 < UPLOAD_ATTEMPTS => {
                    attempt += 1;
                    let wait = err
                        .retry_after()
                        .unwrap_or(Duration::from_secs(u64::from(attempt)));
                    tracing::debug!(attempt, kind = %err.kind(), "upload failed; resuming from the server's offset");
                    tokio::time::sleep(wait).await;
                    offset = self.server_offset(s, session).await?;
                    ctx.report_progress(Progress::new(0, offset, total));
                }
                Err(err) => return Err(err),
            }
        }
    }

    /// A Page video: by URL (`file_url`), or by file through an upload session.
    pub(super) async fn video(
        &self,
        s: Session<'_>,
        target: &Target,
        post: &Post,
        ctx: &PublishContext,
    ) -> Result<Receipt> {
        let media = first_media(post)?;
        if let MediaSource::Url(u) = &media.source {
            let mut fields = vec![("file_url".to_owned(), u.to_string())];
            fields.extend(self.video_fields(post));
            let ready = FbState::Ready { post: post.clone() };
            let creating = Creating {
                endpoint: "/videos",
                creates: Creates::Video,
                ids: Vec::new(),
            };
            let created: IdResponse = self
                .guarded(
                    ctx,
                    &ready,
                    creating,
                    self.client
                        .call_as(s, &ApiRequest::post(self.videos_url(target)).form(fields)),
                )
                .await?;
            return Ok(no_permalink(self.receipt(
                target,
                created.id,
                post.options.facebook.scheduled_publish_time.is_some(),
            )));
        }
        let app_id = self.client.app_id().ok_or_else(|| {
            Error::invalid_input(
                "uploading a video file needs the app id (MetaClient::builder().app_id(..))",
            )
        })?;
        let sniffed = sniff_media(media).await?;
        let data = load(media).await?;
        let req = ApiRequest::post(self.client.url(Host::Graph, &format!("{app_id}/uploads")))
            .query("file_name", file_name(media, sniffed))
            .query("file_length", data.len().to_string())
            .query("file_type", sniffed.mime);
        let session: IdResponse = self.client.call_as(s, &req).await?;
        ctx.save_checkpoint(&checkpoint(
            "upload_session",
            &FbState::Video {
                post: post.clone(),
                session: session.id.clone(),
                handle: None,
            },
        )?)
        .await?;
        self.upload_and_publish(s, target, post, session.id, None, Some(data), ctx)
            .await
    }

    /// Continues a video from its upload session (and handle, when the bytes are in).
    pub(super) async fn video_from(
        &self,
        s: Session<'_>,
        target: &Target,
        post: &Post,
        session: String,
        handle: Option<String>,
        ctx: &PublishContext,
    ) -> Result<Receipt> {
        self.upload_and_publish(s, target, post, session, handle, None, ctx)
            .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn upload_and_publish(
        &self,
        s: Session<'_>,
        target: &Target,
        post: &Post,
        session: String,
        handle: Option<String>,
        fresh: Option<Bytes>,
        ctx: &PublishContext,
    ) -> Result<Receipt> {
        let handle = match handle {
            Some(h) => h,
            None => {
                let (data, offset) = match fresh {
                    Some(d) => (d, 0),
                    None => {
                        let data = load(first_media(post)?).await?;
                        let offset = self.server_offset(s, &session).await?;
                        (data, offset)
                    }
                };
                let h = self.upload_bytes(s, &session, &data, offset, ctx).await?;
                ctx.save_checkpoint(&checkpoint(
                    "video_uploaded",
                    &FbState::Video {
                        post: post.clone(),
                        session: session.clone(),
                        handle: Some(h.clone()),
                    },
                )?)
                .await?;
                h
            }
        };
        let mut fields = vec![("fbuploader_video_file_chunk".to_owned(), handle.clone())];
        fields.extend(self.video_fields(post));
        let state = FbState::Video {
            post: post.clone(),
            session,
            handle: Some(handle),
        };
        let creating = Creating {
            endpoint: "/videos",
            creates: Creates::Video,
            ids: Vec::new(),
        };
        let created: IdResponse = self
            .guarded(
                ctx,
                &state,
                creating,
                self.client
                    .call_as(s, &ApiRequest::post(self.videos_url(target)).form(fields)),
            )
            .await?;
        Ok(no_permalink(self.receipt(
            target,
            created.id,
            post.options.facebook.scheduled_publish_time.is_some(),
        )))
    }

    fn videos_url(&self, target: &Target) -> String {
        self.client.url(
            Host::GraphVideo,
            &format!("{}/videos", target.account.account),
        )
    }

    fn video_fields(&self, post: &Post) -> Vec<(String, String)> {
        let mut fields = Vec::new();
        if let Some(title) = post.options.facebook.video_title.as_deref() {
            fields.push(("title".to_owned(), title.to_owned()));
        }
        if let Some(text) = post.text.as_deref().filter(|t| !t.is_empty()) {
            fields.push(("description".to_owned(), text.to_owned()));
        }
        fields.extend(scheduling(post));
        fields
    }

    fn reels_url(&self, target: &Target) -> String {
        self.client.url(
            Host::Graph,
            &format!("{}/video_reels", target.account.account),
        )
    }

    /// A Reel: `start`, upload to rupload, `finish`.
    pub(super) async fn reel(
        &self,
        s: Session<'_>,
        target: &Target,
        post: &Post,
        ctx: &PublishContext,
    ) -> Result<Receipt> {
        let req = ApiRequest::post(self.reels_url(target))
            .form(vec![("upload_phase".to_owned(), "start".to_owned())]);
        let start: ReelStart = self.client.call_as(s, &req).await?;
        ctx.save_checkpoint(&checkpoint(
            "reel_started",
            &FbState::Reel {
                post: post.clone(),
                video_id: start.video_id.clone(),
                uploaded: false,
            },
        )?)
        .await?;
        self.reel_from(s, target, post, start.video_id, false, ctx)
            .await
    }

    /// Continues a Reel from its `video_id`.
    pub(super) async fn reel_from(
        &self,
        s: Session<'_>,
        target: &Target,
        post: &Post,
        video_id: String,
        uploaded: bool,
        ctx: &PublishContext,
    ) -> Result<Receipt> {
        segment(&video_id, "video id")?;
        if !uploaded {
            let media = first_media(post)?;
            // The upload URL is built from the configured rupload host, never taken from the
            // response, so the token only ever goes to a host the caller chose.
            let url = self.client.unversioned_url(
                Host::Rupload,
                &format!("video-upload/{}/{video_id}", self.client.graph_version()),
            );
            let req = match &media.source {
                MediaSource::Url(u) => ApiRequest::post(url).header("file_url", u.to_string()),
                _ => {
                    let data = load(media).await?;
                    ApiRequest::post(url)
                        .header("offset", "0")
                        .header("file_size", data.len().to_string())
                        .raw("application/octet-stream", data)
                }
            }
            .oauth()
            .idempotent();
            let done: Value = self.client.read(s, &req).await?;
            if done.get("success").and_then(Value::as_bool) != Some(true) {
                return Err(
                    Error::rejected(format!("the Reel upload was not accepted: {done}"))
                        .with_platform(cmis_core::Platform::Facebook),
                );
            }
            ctx.save_checkpoint(&checkpoint(
                "reel_uploaded",
                &FbState::Reel {
                    post: post.clone(),
                    video_id: video_id.clone(),
                    uploaded: true,
                },
            )?)
            .await?;
        }
        let mut fields = vec![
            ("upload_phase".to_owned(), "finish".to_owned()),
            ("video_id".to_owned(), video_id.clone()),
        ];
        let scheduled = post.options.facebook.scheduled_publish_time;
        match scheduled {
            Some(at) => {
                fields.push(("video_state".to_owned(), "SCHEDULED".to_owned()));
                fields.push(("scheduled_publish_time".to_owned(), unix(at)));
            }
            None => fields.push(("video_state".to_owned(), "PUBLISHED".to_owned())),
        }
        if let Some(text) = post.text.as_deref().filter(|t| !t.is_empty()) {
            fields.push(("description".to_owned(), text.to_owned()));
        }
        let state = FbState::Reel {
            post: post.clone(),
            video_id: video_id.clone(),
            uploaded: true,
        };
        let creating = Creating {
            endpoint: "video_reels finish",
            creates: Creates::Reel,
            ids: vec![video_id.clone()],
        };
        let done: Success = self
            .guarded(
                ctx,
                &state,
                creating,
                self.client
                    .call_as(s, &ApiRequest::post(self.reels_url(target)).form(fields)),
            )
            .await?;
        if !done.success {
            return Err(Error::unknown_outcome(
                "video_reels finish answered without success:true; reconcile before retrying",
            )
            .with_platform(cmis_core::Platform::Facebook));
        }
        Ok(no_permalink(self.receipt(
            target,
            video_id,
            scheduled.is_some(),
        )))
    }
}
