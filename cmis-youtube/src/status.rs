//! Reading what YouTube holds: a video's processing status (`videos.list`), the channel's
//! recent uploads (`playlistItems.list`, for reconciling a lost upload), and the custom
//! thumbnail (`thumbnails.set`, best effort).

use std::time::Duration;

use cmis_core::reconcile::{CallWindow, Candidates, candidates, normalise_text};
use cmis_core::{
    Error, ErrorKind, ExposeSecret, Media, MediaSource, Platform, Result, TokenSession,
};
use cmis_http::Call;
use cmis_http::reqwest::header;
use serde::Deserialize;
use time::OffsetDateTime;

use crate::checkpoint::{Processing, UploadSession};
use crate::error::classify;
use crate::publisher::YouTubePublisher;

/// The shortest wait between two polls, whatever the policy says (no busy loop).
const MIN_POLL: Duration = Duration::from_millis(10);

/// How far YouTube's clock may be from ours when matching an upload's `publishedAt`.
const CLOCK_SKEW: Duration = Duration::from_secs(5 * 60);

/// A `youtube#video` resource, as much of it as cmis reads.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct VideoResource {
    #[serde(default)]
    pub(crate) kind: String,
    #[serde(default)]
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) status: Option<VideoStatus>,
    #[serde(default, rename = "processingDetails")]
    pub(crate) processing: Option<ProcessingDetails>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct VideoStatus {
    #[serde(default)]
    pub(crate) upload_status: Option<String>,
    #[serde(default)]
    pub(crate) privacy_status: Option<String>,
    #[serde(default)]
    pub(crate) publish_at: Option<String>,
    #[serde(default)]
    pub(crate) failure_reason: Option<String>,
    #[serde(default)]
    pub(crate) rejection_reason: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProcessingDetails {
    #[serde(default)]
    pub(crate) processing_status: Option<String>,
    #[serde(default)]
    pub(crate) processing_failure_reason: Option<String>,
}

#[derive(Deserialize)]
struct VideoList {
    #[serde(default)]
    items: Vec<VideoResource>,
}

/// Where a video stands.
#[derive(Debug)]
pub(crate) enum Processed {
    /// Processed: playable.
    Done(Box<VideoResource>),
    /// Still uploading or processing (or not listed yet).
    Working,
}

impl VideoResource {
    /// `processed` is done; `failed`, `rejected` and `deleted` (or a failed processing) are
    /// YouTube refusing the video; anything else is still in progress. `uploadStatus` decides
    /// first.
    pub(crate) fn settle(self) -> Result<Processed> {
        let status = self.status.clone().unwrap_or_default();
        let processing = self.processing.clone().unwrap_or_default();
        let refused = |what: &str, reason: Option<String>| {
            let reason = reason.unwrap_or_else(|| "unspecified".to_owned());
            Err(
                Error::rejected(format!("YouTube {what} video {} ({reason})", self.id))
                    .with_platform(Platform::YouTube)
                    .with_platform_code(reason),
            )
        };
        match status.upload_status.as_deref() {
            Some("processed") => Ok(Processed::Done(Box::new(self))),
            Some("failed") => refused("could not process", status.failure_reason),
            Some("rejected") => refused("rejected", status.rejection_reason),
            Some("deleted") => refused("deleted", Some("deleted".to_owned())),
            _ => match processing.processing_status.as_deref() {
                Some("failed") => {
                    refused("could not process", processing.processing_failure_reason)
                }
                Some("terminated") => refused("stopped processing", Some("terminated".to_owned())),
                _ => Ok(Processed::Working),
            },
        }
    }
}

#[derive(Deserialize)]
struct PlaylistItems {
    #[serde(default)]
    items: Vec<PlaylistItem>,
}

#[derive(Debug, Deserialize)]
struct PlaylistItem {
    #[serde(default)]
    snippet: PlaylistSnippet,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PlaylistSnippet {
    #[serde(default)]
    title: String,
    #[serde(default, with = "time::serde::rfc3339::option")]
    published_at: Option<OffsetDateTime>,
    #[serde(default)]
    resource_id: ResourceId,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResourceId {
    #[serde(default)]
    video_id: String,
}

/// What the uploads listing says about a session that expired.
#[derive(Debug)]
pub(crate) enum Listed {
    /// One video with the title, uploaded after the session started: the session's.
    One(String),
    /// None: the session made no video.
    None,
    /// Several: which one cannot be told.
    Many(usize),
}

impl YouTubePublisher {
    /// `videos.list?part=status,processingDetails&id=ID` (1 unit); `None` when the video is not
    /// listed (yet).
    pub(crate) async fn video(
        &self,
        tokens: &TokenSession<'_>,
        video_id: &str,
    ) -> Result<Option<VideoResource>> {
        let list: VideoList = tokens
            .run(|token| async move {
                self.client
                    .get_json(
                        "/youtube/v3/videos",
                        &[("part", "status,processingDetails"), ("id", video_id)],
                        &token,
                    )
                    .await
            })
            .await?;
        Ok(list.items.into_iter().find(|v| v.id == video_id))
    }

    /// Polls the video with the poll policy until it is processed (`Some`), refused (an error),
    /// or the budget runs out (`None`). A poll that fails transiently counts as "still working".
    pub(crate) async fn wait_processed(
        &self,
        tokens: &TokenSession<'_>,
        p: &Processing,
    ) -> Result<Option<VideoResource>> {
        let mut waited = Duration::ZERO;
        let mut round = 0;
        loop {
            match self.video(tokens, &p.video_id).await {
                Ok(Some(video)) => {
                    if let Processed::Done(video) = video.settle()? {
                        return Ok(Some(*video));
                    }
                }
                Ok(None) => {
                    tracing::debug!(video = %p.video_id, "the video is not listed yet");
                }
                Err(e) if e.is_retryable() => {
                    tracing::debug!(kind = %e.kind(), "videos.list failed; polling on");
                }
                Err(e) => return Err(e),
            }
            let delay = self.poll.delay(round).max(MIN_POLL);
            if waited + delay > self.poll.budget {
                return Ok(None);
            }
            tokio::time::sleep(delay).await;
            waited += delay;
            round += 1;
        }
    }

    /// The channel's ten most recent uploads, matched against an expired session's title and
    /// start (3 units: channels.list, then playlistItems.list; search.list is avoided, its
    /// bucket holds 100 calls a day).
    pub(crate) async fn find_in_uploads(
        &self,
        tokens: &TokenSession<'_>,
        up: &UploadSession,
    ) -> Result<Listed> {
        let channel = tokens
            .run(|token| async move { self.client.channels_mine(&token).await })
            .await?;
        let Some(playlist) = channel.uploads_playlist_id else {
            return Err(cmis_core::reconcile::undecided(
                Platform::YouTube,
                "the channel has no uploads playlist to look in",
            ));
        };
        let items: PlaylistItems = tokens
            .run(|token| {
                let playlist = playlist.clone();
                async move {
                    self.client
                        .get_json(
                            "/youtube/v3/playlistItems",
                            &[
                                ("part", "snippet"),
                                ("playlistId", playlist.as_str()),
                                ("maxResults", "10"),
                            ],
                            &token,
                        )
                        .await
                }
            })
            .await?;
        let now = self.clock.now();
        let span = Duration::try_from(now - up.started_at).unwrap_or(Duration::ZERO) + CLOCK_SKEW;
        let window = CallWindow::around(up.started_at, CLOCK_SKEW, span);
        let title = normalise_text(&up.meta.title);
        let found = candidates(
            &items.items,
            |i| normalise_text(&i.snippet.title) == title,
            |i| i.snippet.published_at.is_some_and(|at| window.contains(at)),
        );
        Ok(match found {
            Candidates::One(item) if !item.snippet.resource_id.video_id.is_empty() => {
                Listed::One(item.snippet.resource_id.video_id.clone())
            }
            Candidates::One(_) => Listed::Many(1),
            Candidates::Many(all) => Listed::Many(all.len()),
            Candidates::OnlyOutside(_) | Candidates::None => Listed::None,
        })
    }

    /// Sets `image` as the video's custom thumbnail, best effort: any failure is logged and
    /// ignored (the video exists; a refused thumbnail must never make the post fail and be
    /// published again). YouTube accepts and ignores a thumbnail for a Short.
    pub(crate) async fn set_thumbnail(
        &self,
        tokens: &TokenSession<'_>,
        video_id: &str,
        image: Thumbnail,
    ) {
        if let Err(err) = self.try_thumbnail(tokens, video_id, image).await {
            tracing::warn!(
                video = video_id,
                kind = %err.kind(),
                code = err.platform_code().unwrap_or(""),
                error = %err,
                "the custom thumbnail was not set; the video is published without it"
            );
        }
    }

    async fn try_thumbnail(
        &self,
        tokens: &TokenSession<'_>,
        video_id: &str,
        image: Thumbnail,
    ) -> Result<()> {
        let data = match image {
            Thumbnail::Path(path) => tokio::fs::read(&path).await.map_err(|e| {
                Error::invalid_input(format!("{} cannot be read: {e}", path.display()))
            })?,
            Thumbnail::Bytes(b) => b.to_vec(),
        };
        let mime = match cmis_media::Format::sniff(&data) {
            Some(f @ (cmis_media::Format::Jpeg | cmis_media::Format::Png)) => f.mime(),
            _ => "application/octet-stream",
        };
        let url = self.client.url("/upload/youtube/v3/thumbnails/set");
        let what = "thumbnails.set";
        let now = self.clock.now();
        tokens
            .run(|token| {
                let request = self
                    .client
                    .http()
                    .post(&url)
                    .query(&[("videoId", video_id)])
                    .bearer_auth(token.expose_secret())
                    .header(header::CONTENT_TYPE, mime)
                    .body(data.clone());
                async move {
                    let response = cmis_http::send(request, Call::Read).await?;
                    let status = response.status().as_u16();
                    let retry_after = cmis_http::retry_after(response.headers());
                    let body = cmis_http::read_answer(
                        response,
                        Call::Read,
                        what,
                        cmis_http::MAX_API_RESPONSE_BYTES,
                    )
                    .await?;
                    if (200..300).contains(&status) {
                        Ok(())
                    } else {
                        Err(classify(status, &body, retry_after, Call::Read, what, now))
                    }
                }
            })
            .await
    }
}

/// A custom thumbnail to set.
#[derive(Debug)]
pub(crate) enum Thumbnail {
    Path(std::path::PathBuf),
    Bytes(bytes::Bytes),
}

impl Thumbnail {
    pub(crate) fn of(media: &Media) -> Option<Self> {
        match &media.source {
            MediaSource::Path(p) => Some(Self::Path(p.clone())),
            MediaSource::Bytes { data, .. } => Some(Self::Bytes(data.clone())),
            _ => None,
        }
    }
}

/// Whether `err` says the token cannot read videos (a token holding `youtube.upload` only).
pub(crate) fn cannot_read(err: &Error) -> bool {
    err.kind() == ErrorKind::Permission
}
