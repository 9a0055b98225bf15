//! What a platform gave back: receipts for finished posts, checkpoints for unfinished ones.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use url::Url;

use crate::{AccountId, Error, Platform, PostId, Result};

/// What state a post is in on the platform when its receipt was issued.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ReceiptState {
    /// Live on the platform.
    #[default]
    Published,
    /// Accepted by the platform, which will publish it itself at a later time (Facebook native
    /// scheduling).
    ScheduledOnPlatform,
    /// Delivered to the creator's inbox as a draft (TikTok `SEND_TO_USER_INBOX`).
    SentToInbox,
}

/// Proof that a platform accepted a post: the id the *platform* returned, never one cmis made up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Receipt {
    /// The platform.
    pub platform: Platform,
    /// The account the post was published as.
    pub account: AccountId,
    /// The platform's id for the post.
    pub post_id: PostId,
    /// A public link to the post, when the platform gave one.
    #[serde(default)]
    pub permalink: Option<Url>,
    /// When cmis saw the platform confirm the post.
    #[serde(with = "time::serde::rfc3339")]
    pub published_at: OffsetDateTime,
    /// Live, scheduled on the platform, or a draft.
    #[serde(default)]
    pub state: ReceiptState,
}

impl Receipt {
    /// A receipt for `post_id`, published now.
    pub fn new(platform: Platform, account: AccountId, post_id: PostId) -> Self {
        Self {
            platform,
            account,
            post_id,
            permalink: None,
            published_at: OffsetDateTime::now_utc(),
            state: ReceiptState::Published,
        }
    }

    /// Sets the permalink.
    #[must_use]
    pub fn with_permalink(mut self, permalink: Url) -> Self {
        self.permalink = Some(permalink);
        self
    }

    /// Sets when the platform confirmed the post.
    #[must_use]
    pub fn with_published_at(mut self, at: OffsetDateTime) -> Self {
        self.published_at = at;
        self
    }

    /// Sets the state.
    #[must_use]
    pub fn with_state(mut self, state: ReceiptState) -> Self {
        self.state = state;
        self
    }
}

/// Resumable, platform-specific state of a publish in progress: a created container, an upload
/// session, a TikTok `publish_id`.
///
/// Connectors hand a checkpoint to the [`CheckpointSink`](crate::CheckpointSink) **before** each
/// next mutating call, so that after a crash [`Publisher::resume`](crate::Publisher::resume)
/// continues from it instead of creating a second post. Its data is JSON, so a scheduler can store
/// it without knowing the platform.
///
/// ```
/// # mod cmis { pub use cmis_core::*; }
/// use cmis::{Checkpoint, Platform};
/// #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
/// struct Container { id: String }
///
/// let cp = Checkpoint::new(Platform::Instagram, "container_created", &Container { id: "17889".into() })?;
/// let back: Container = cp.decode()?;
/// assert_eq!(back.id, "17889");
/// # Ok::<(), cmis::Error>(())
/// ```
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Checkpoint {
    /// The platform whose connector wrote the checkpoint.
    pub platform: Platform,
    /// The step reached, such as `container_created` or `uploading`.
    pub stage: String,
    /// When the checkpoint was written.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// How long to wait before resuming, when the platform is still processing.
    #[serde(default)]
    pub resume_after: Option<Duration>,
    data: serde_json::Value,
}

impl std::fmt::Debug for Checkpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The data may hold a short-lived upload capability: keep it out of logs.
        f.debug_struct("Checkpoint")
            .field("platform", &self.platform)
            .field("stage", &self.stage)
            .field("created_at", &self.created_at)
            .field("resume_after", &self.resume_after)
            .finish_non_exhaustive()
    }
}

impl Checkpoint {
    /// A checkpoint at `stage` holding `data`.
    pub fn new<T: Serialize>(
        platform: Platform,
        stage: impl Into<String>,
        data: &T,
    ) -> Result<Self> {
        let data = serde_json::to_value(data)
            .map_err(|e| Error::internal(format!("checkpoint data cannot be serialised: {e}")))?;
        Ok(Self {
            platform,
            stage: stage.into(),
            created_at: OffsetDateTime::now_utc(),
            resume_after: None,
            data,
        })
    }

    /// Sets how long to wait before resuming.
    #[must_use]
    pub fn with_resume_after(mut self, after: Duration) -> Self {
        self.resume_after = Some(after);
        self
    }

    /// Decodes the platform-specific data.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T> {
        T::deserialize(&self.data).map_err(|e| {
            Error::internal(format!(
                "{} checkpoint at stage {:?} cannot be decoded: {e}",
                self.platform, self.stage
            ))
        })
    }

    /// The data as a JSON string, for storage.
    ///
    /// Checkpoints never hold an access or refresh token, but they may hold a short-lived upload
    /// capability that resuming needs (TikTok's one-hour `upload_url` carries an
    /// `upload_token`): store them with the job, and do not log them. `Debug` shows only the
    /// platform and stage.
    pub fn data_json(&self) -> String {
        self.data.to_string()
    }
}

/// What a publish or resume call achieved.
///
/// Deliberately exhaustive: a post is either confirmed by the platform or still in progress, and
/// code that handles both must not silently ignore a third.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The platform confirmed the post and returned its id.
    Published(Receipt),
    /// The platform is still processing; call [`Publisher::resume`](crate::Publisher::resume)
    /// with this checkpoint later.
    Pending(Checkpoint),
}

impl Outcome {
    /// The receipt, if published.
    pub fn receipt(&self) -> Option<&Receipt> {
        match self {
            Self::Published(r) => Some(r),
            Self::Pending(_) => None,
        }
    }
}

/// What a read-only check found about a publish whose outcome was unknown.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Reconciliation {
    /// The post exists on the platform.
    Published(Receipt),
    /// The platform is still processing it; resume from this checkpoint.
    Pending(Checkpoint),
    /// The platform proves that nothing was published: it is safe to publish again.
    NotPublished,
    /// The platform cannot tell (no read-only way to check); a person must look.
    Unknown,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoint_round_trips_and_large_ids_stay_exact() {
        #[derive(Serialize, Deserialize)]
        struct Data {
            publish_id: String,
        }
        let cp = Checkpoint::new(
            Platform::TikTok,
            "initialised",
            &Data {
                publish_id: "v_pub_file~v2-1.7293648259123456789".into(),
            },
        )
        .unwrap()
        .with_resume_after(Duration::from_secs(5));
        let json = serde_json::to_string(&cp).unwrap();
        let back: Checkpoint = serde_json::from_str(&json).unwrap();
        assert_eq!(back, cp);
        assert_eq!(
            back.decode::<Data>().unwrap().publish_id,
            "v_pub_file~v2-1.7293648259123456789"
        );
    }

    #[test]
    fn decoding_the_wrong_shape_is_an_internal_error() {
        let cp = Checkpoint::new(Platform::Facebook, "x", &42).unwrap();
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Other {
            id: String,
        }
        assert_eq!(
            cp.decode::<Other>().unwrap_err().kind(),
            crate::ErrorKind::Internal
        );
    }
}
