//! The init request bodies, and the local preparation of a video before init.

use std::time::Duration;

use cmis_core::{Error, Post, Result};
use cmis_media::{ChunkPlan, ChunkedFile};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use url::Url;

use crate::checkpoint::UploadSession;
use crate::client::Endpoint;
use crate::creator_info::Interactions;
use crate::plan::{MAX_VIDEO_BYTES, Plan, VideoSource};
use crate::upload::{ChunkSource, video_content_type};

/// A video ready for init: its upload plan (for `FILE_UPLOAD`) or its URL (`PULL_FROM_URL`).
#[derive(Debug)]
pub(crate) struct PreparedVideo {
    pub(crate) duration: Option<Duration>,
    pub(crate) upload: Option<PreparedUpload>,
    pub(crate) pull_url: Option<Url>,
}

#[derive(Debug)]
pub(crate) struct PreparedUpload {
    pub(crate) source: ChunkSource,
    pub(crate) plan: ChunkPlan,
    pub(crate) content_type: &'static str,
    pub(crate) path: Option<std::path::PathBuf>,
}

impl PreparedUpload {
    pub(crate) fn session(&self, upload_url: String, expires_at: OffsetDateTime) -> UploadSession {
        UploadSession {
            upload_url,
            expires_at,
            path: self.path.clone(),
            total_size: self.plan.total_size(),
            chunk_size: self.plan.chunk_size(),
            chunk_count: self.plan.chunk_count(),
            content_type: self.content_type.to_owned(),
            next_offset: 0,
        }
    }
}

fn unknown_type(name: &str) -> Error {
    Error::invalid_input(format!(
        "{name} is not an MP4, MOV or WebM video (the formats TikTok accepts)"
    ))
}

impl PreparedVideo {
    /// Opens and sniffs the video, and plans its chunks. No network call.
    pub(crate) async fn prepare(
        source: &VideoSource,
        declared_mime: Option<&str>,
        chunk_size: Option<u64>,
    ) -> Result<Self> {
        let (source, sniffed, path) = match source {
            VideoSource::Pull(url) => {
                return Ok(Self {
                    duration: None,
                    upload: None,
                    pull_url: Some(url.clone()),
                });
            }
            VideoSource::File(path) => {
                let sniffed = cmis_media::sniff_file(path).await?;
                let file = ChunkedFile::open(path).await?;
                (ChunkSource::File(file), sniffed, Some(path.clone()))
            }
            VideoSource::Memory(bytes) => (
                ChunkSource::Memory(bytes.clone()),
                cmis_media::Format::sniff(bytes),
                None,
            ),
        };
        let name = path
            .as_ref()
            .map_or_else(|| "the video".to_owned(), |p| p.display().to_string());
        let content_type =
            video_content_type(sniffed, declared_mime).ok_or_else(|| unknown_type(&name))?;
        let size = source.size();
        if size > MAX_VIDEO_BYTES {
            return Err(Error::invalid_input(format!(
                "{name} is {size} bytes; TikTok takes videos up to 4 GB"
            )));
        }
        let plan = match chunk_size {
            Some(chunk) => ChunkPlan::with_chunk_size(size, chunk)?,
            None => ChunkPlan::tiktok(size)?,
        };
        let duration = match &path {
            Some(p) => video_duration(p).await,
            None => None,
        };
        Ok(Self {
            duration,
            upload: Some(PreparedUpload {
                source,
                plan,
                content_type,
                path,
            }),
            pull_url: None,
        })
    }

    fn source_info(&self) -> Value {
        match (&self.upload, &self.pull_url) {
            (Some(u), _) => json!({
                "source": "FILE_UPLOAD",
                "video_size": u.plan.total_size(),
                "chunk_size": u.plan.chunk_size(),
                "total_chunk_count": u.plan.chunk_count(),
            }),
            (None, Some(url)) => json!({ "source": "PULL_FROM_URL", "video_url": url.as_str() }),
            (None, None) => Value::Null,
        }
    }
}

/// The video's duration, when cmis-media can read it from the file's headers (MP4/MOV; not
/// WebM). A file it cannot probe is left to TikTok's own checks rather than refused here.
async fn video_duration(path: &std::path::Path) -> Option<Duration> {
    match cmis_media::probe(&cmis_core::Media::path(path)).await {
        Ok(info) => info.duration,
        Err(err) => {
            tracing::warn!(kind = %err.kind(), "video could not be probed; its duration is not checked: {err}");
            None
        }
    }
}

/// The init endpoint and JSON body for `post`.
pub(crate) fn init_body(
    post: &Post,
    plan: &Plan,
    video: Option<&PreparedVideo>,
    interactions: Option<Interactions>,
) -> Result<(Endpoint, Value)> {
    let opts = &post.options.tiktok;
    match (plan, video, interactions) {
        // Inbox (draft) video: TikTok takes the source only.
        (Plan::Video { .. }, Some(video), None) => Ok((
            Endpoint::InboxVideoInit,
            json!({ "source_info": video.source_info() }),
        )),
        (Plan::Video { .. }, Some(video), Some(i)) => {
            let mut post_info = Map::new();
            post_info.insert("title".into(), json!(post.text_or_empty()));
            post_info.insert("privacy_level".into(), json!(opts.privacy_level));
            post_info.insert("disable_duet".into(), json!(i.disable_duet));
            post_info.insert("disable_comment".into(), json!(i.disable_comment));
            post_info.insert("disable_stitch".into(), json!(i.disable_stitch));
            if let Some(ms) = opts.video_cover_timestamp_ms {
                post_info.insert("video_cover_timestamp_ms".into(), json!(ms));
            }
            post_info.insert(
                "brand_content_toggle".into(),
                json!(opts.brand_content_toggle),
            );
            post_info.insert(
                "brand_organic_toggle".into(),
                json!(opts.brand_organic_toggle),
            );
            post_info.insert("is_aigc".into(), json!(opts.is_aigc));
            Ok((
                Endpoint::VideoInit,
                json!({ "post_info": post_info, "source_info": video.source_info() }),
            ))
        }
        (Plan::Photos { urls, cover_index }, _, interactions) => {
            let mut post_info = Map::new();
            if let Some(title) = &opts.photo_title {
                post_info.insert("title".into(), json!(title));
            }
            post_info.insert("description".into(), json!(post.text_or_empty()));
            let post_mode = match interactions {
                Some(i) => {
                    post_info.insert("disable_comment".into(), json!(i.disable_comment));
                    post_info.insert("privacy_level".into(), json!(opts.privacy_level));
                    post_info.insert("auto_add_music".into(), json!(opts.auto_add_music));
                    post_info.insert(
                        "brand_content_toggle".into(),
                        json!(opts.brand_content_toggle),
                    );
                    post_info.insert(
                        "brand_organic_toggle".into(),
                        json!(opts.brand_organic_toggle),
                    );
                    "DIRECT_POST"
                }
                None => "MEDIA_UPLOAD",
            };
            let images: Vec<&str> = urls.iter().map(Url::as_str).collect();
            let mut body = json!({
                "media_type": "PHOTO",
                "post_mode": post_mode,
                "post_info": post_info,
                "source_info": {
                    "source": "PULL_FROM_URL",
                    "photo_cover_index": cover_index,
                    "photo_images": images,
                },
            });
            if opts.is_aigc
                && let Some(obj) = body.as_object_mut()
            {
                obj.insert("is_aigc".into(), json!(true));
            }
            Ok((Endpoint::ContentInit, body))
        }
        (Plan::Video { .. }, None, _) => Err(Error::internal("a video post was not prepared")),
    }
}
