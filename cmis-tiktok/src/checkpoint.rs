//! What a TikTok checkpoint holds: the `publish_id` (so a resume never calls init again) and,
//! while a file is being uploaded, the upload session.

use std::path::PathBuf;

use cmis_core::{Checkpoint, Platform, PrivacyLevel, Result};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The stage just before init is sent: no publish exists yet, unless init's answer was lost.
pub(crate) const STAGE_INITIATING: &str = "initiating";
/// The stage while chunks are still to be sent.
pub(crate) const STAGE_UPLOADING: &str = "uploading";
/// The stage once TikTok has everything and is processing.
pub(crate) const STAGE_PROCESSING: &str = "processing";

/// Direct Post or the creator's inbox (draft).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Mode {
    Direct,
    Inbox,
}

/// Video or photo post.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum MediaType {
    Video,
    Photo,
}

/// A `FILE_UPLOAD` in progress.
///
/// `upload_url` carries TikTok's one-hour `upload_token`: it only lets its holder send bytes to
/// this one publish until it expires, and without it an interrupted upload cannot be finished.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct UploadSession {
    pub(crate) upload_url: String,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) expires_at: OffsetDateTime,
    /// The file being uploaded; `None` for bytes held in memory (which cannot be resumed).
    pub(crate) path: Option<PathBuf>,
    pub(crate) total_size: u64,
    pub(crate) chunk_size: u64,
    pub(crate) chunk_count: u64,
    pub(crate) content_type: String,
    /// The first byte TikTok has not acknowledged yet.
    pub(crate) next_offset: u64,
}

/// The data of a TikTok [`Checkpoint`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct State {
    pub(crate) publish_id: String,
    pub(crate) mode: Mode,
    pub(crate) media: MediaType,
    #[serde(default)]
    pub(crate) privacy_level: Option<PrivacyLevel>,
    #[serde(default)]
    pub(crate) creator_username: Option<String>,
    #[serde(default)]
    pub(crate) upload: Option<UploadSession>,
}

impl State {
    pub(crate) fn checkpoint(&self, stage: &str) -> Result<Checkpoint> {
        Checkpoint::new(Platform::TikTok, stage, self)
    }

    /// Only public Direct Posts ever get a public post id; waiting for one makes sense only then.
    pub(crate) fn expects_public_id(&self) -> bool {
        self.mode == Mode::Direct && self.privacy_level == Some(PrivacyLevel::PublicToEveryone)
    }
}

/// The data of an [`STAGE_INITIATING`] checkpoint, saved right before init: when init's answer
/// is lost there is no `publish_id` to ask about, and this is what reconciliation can look for
/// instead (a public Direct Post with this caption, created in the call's window).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Initiating {
    /// When init was about to be sent, on the client's clock.
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) started_at: OffsetDateTime,
    pub(crate) mode: Mode,
    pub(crate) media: MediaType,
    #[serde(default)]
    pub(crate) privacy_level: Option<PrivacyLevel>,
    #[serde(default)]
    pub(crate) creator_username: Option<String>,
    /// The caption TikTok shows: `post_info.title` of a video, `post_info.description` of a
    /// photo post.
    #[serde(default)]
    pub(crate) caption: String,
    /// Whether we send the bytes (`FILE_UPLOAD`): such a publish cannot go live before its
    /// first chunk, so an init whose answer was lost published nothing. Read as `false` (TikTok
    /// pulls the media and may publish by itself) when absent.
    #[serde(default)]
    pub(crate) file_upload: bool,
    /// The URLs a [`PullHost`](crate::PullHost) issued for this init, sealed if its answer is
    /// lost.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) pulled: Vec<url::Url>,
}

impl Initiating {
    pub(crate) fn checkpoint(&self) -> Result<Checkpoint> {
        Checkpoint::new(Platform::TikTok, STAGE_INITIATING, self)
    }
}
