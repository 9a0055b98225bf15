//! What a YouTube checkpoint holds.
//!
//! | stage | when | data |
//! |---|---|---|
//! | `upload_session` | saved after the session is started and **before any byte is sent** | [`UploadSession`] |
//! | `processing` | saved once YouTube answered the last byte with the video | [`Processing`] |
//!
//! No checkpoint means no video: YouTube creates the video only when a session receives its
//! last byte, and that happens only after `upload_session` is saved.

use std::path::PathBuf;

use cmis_core::{Checkpoint, Error, Platform, Result};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::metadata::VideoMeta;

/// The stage of a started upload session.
pub(crate) const STAGE_UPLOAD_SESSION: &str = "upload_session";
/// The stage of an uploaded video that YouTube is processing.
pub(crate) const STAGE_PROCESSING: &str = "processing";

/// A resumable upload session (`upload_session`).
///
/// `session_uri` is the upload capability Google returned in `Location` (it carries the
/// `upload_id`): it lets its holder send this video's bytes, nothing else. Checkpoints are kept
/// out of logs (`Checkpoint`'s `Debug` shows no data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct UploadSession {
    pub(crate) session_uri: String,
    pub(crate) total_size: u64,
    /// The video file; `None` for bytes held in memory, which a restarted process no longer
    /// has: such a session can be probed but not continued.
    #[serde(default)]
    pub(crate) path: Option<PathBuf>,
    pub(crate) content_type: String,
    /// The video's index in the post's media (for progress).
    #[serde(default)]
    pub(crate) media_index: usize,
    /// The custom thumbnail's file, when it is one (a thumbnail in memory is not kept).
    #[serde(default)]
    pub(crate) thumbnail: Option<PathBuf>,
    pub(crate) meta: VideoMeta,
    /// Published to the reel surface: a Short (its permalink is `/shorts/ID`).
    #[serde(default)]
    pub(crate) short: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) started_at: OffsetDateTime,
}

/// An uploaded video being processed (`processing`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Processing {
    pub(crate) video_id: String,
    /// The privacy asked for (to notice a project that YouTube locks to private).
    pub(crate) privacy: String,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub(crate) publish_at: Option<OffsetDateTime>,
    #[serde(default)]
    pub(crate) short: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) uploaded_at: OffsetDateTime,
}

impl UploadSession {
    pub(crate) fn checkpoint(&self) -> Result<Checkpoint> {
        Checkpoint::new(Platform::YouTube, STAGE_UPLOAD_SESSION, self)
    }
}

impl Processing {
    pub(crate) fn checkpoint(&self) -> Result<Checkpoint> {
        Checkpoint::new(Platform::YouTube, STAGE_PROCESSING, self)
    }
}

/// A checkpoint this crate wrote.
pub(crate) enum Stage {
    Upload(UploadSession),
    Processing(Processing),
}

/// Decodes `checkpoint`; another platform's, an unknown stage or a broken one is
/// [`InvalidInput`](cmis_core::ErrorKind::InvalidInput).
pub(crate) fn decode(checkpoint: &Checkpoint) -> Result<Stage> {
    if checkpoint.platform != Platform::YouTube {
        return Err(Error::invalid_input(format!(
            "a {} checkpoint cannot be resumed by the YouTube publisher",
            checkpoint.platform
        )));
    }
    let bad = |e: Error| {
        Error::invalid_input(format!(
            "the YouTube checkpoint at stage {:?} cannot be read: {}",
            checkpoint.stage,
            e.message()
        ))
    };
    match checkpoint.stage.as_str() {
        STAGE_UPLOAD_SESSION => Ok(Stage::Upload(checkpoint.decode().map_err(bad)?)),
        STAGE_PROCESSING => Ok(Stage::Processing(checkpoint.decode().map_err(bad)?)),
        other => Err(Error::invalid_input(format!(
            "unknown YouTube checkpoint stage {other:?}"
        ))),
    }
}
