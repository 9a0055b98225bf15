//! Video through Bluesky's video service (`docs/bluesky-api.md` §5.3): a service token from the
//! PDS, `uploadVideo` to the service, `getJobStatus` until the job holds a blob, then the
//! `app.bsky.embed.video` record written like any other.
//!
//! The job id is checkpointed as soon as the service answers, so a resume polls the same job
//! instead of uploading again; the service deduplicates the same bytes anyway, answering with
//! the blob of the earlier job, whatever that job's state (the tutorial's "dedup trap").

use std::time::Duration;

use cmis_core::{Error, Media, MediaSource, Platform, Result, SecretString, TokenSession};
use cmis_http::Call;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::client::{Body, Tweaks};
use crate::publisher::BlueskyPublisher;

/// The checkpoint stage written once the video service has taken the upload.
pub(crate) const VIDEO_PROCESSING: &str = "video_processing";

/// How long the service token asked for lives: 30 minutes, as the tutorial asks (the default is
/// 60 s, too short for a large upload).
const SERVICE_TOKEN_LIFETIME: i64 = 30 * 60;

/// How long a job may process, across resumes, before the post fails: the service's own
/// processing takes minutes; an hour means it is stuck.
const MAX_PROCESSING: Duration = Duration::from_secs(60 * 60);

/// The shortest wait between two polls, whatever the policy says (no busy loop).
const MIN_POLL: Duration = Duration::from_millis(10);

/// Upload time allowed per byte beyond the client's timeout: 1 s per 256 KB (a slow 2 Mbit/s).
const UPLOAD_BYTES_PER_SECOND: u64 = 256 * 1024;

/// What a checkpoint holds while the video service works: the record without its embed, the
/// job, and the embed's other parts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct VideoWait {
    pub(crate) repo: String,
    pub(crate) record: Value,
    pub(crate) job_id: String,
    /// `app.bsky.embed.video` without its `video` blob (alt text, aspect ratio).
    pub(crate) embed: Value,
    /// The quoted post's strong reference, if any.
    #[serde(default)]
    pub(crate) quote: Option<Value>,
    /// When the video service took the upload (for [`MAX_PROCESSING`]).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub(crate) uploaded_at: Option<OffsetDateTime>,
}

/// `app.bsky.video.defs#jobStatus`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct JobStatus {
    #[serde(default)]
    job_id: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    blob: Option<Value>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// `{"jobStatus": {…}}` as the lexicon says, or a bare job status as the tutorial reads it.
#[derive(Deserialize)]
#[serde(untagged)]
enum JobAnswer {
    Wrapped {
        #[serde(rename = "jobStatus")]
        job_status: JobStatus,
    },
    Bare(JobStatus),
}

impl JobAnswer {
    fn into_status(self) -> JobStatus {
        match self {
            Self::Wrapped { job_status } => job_status,
            Self::Bare(s) => s,
        }
    }
}

/// How a job stands.
pub(crate) enum Job {
    /// The video is a blob in the account's repository.
    Ready(Value),
    /// Still working.
    Working,
}

impl JobStatus {
    /// A blob means done, whatever the state says (a deduplicated upload reports an error
    /// beside the earlier job's blob); a failure without one is the service refusing the video.
    fn settle(self) -> Result<Job> {
        if let Some(blob) = self.blob.filter(|b| b.is_object()) {
            return Ok(Job::Ready(blob));
        }
        if self.state == "JOB_STATE_FAILED" {
            let code = self.error.unwrap_or_else(|| "generic_failure".to_owned());
            let detail = self.message.map(|m| format!(": {m}")).unwrap_or_default();
            return Err(Error::rejected(format!(
                "Bluesky's video service could not process the video ({code}{detail})"
            ))
            .with_platform(Platform::Bluesky)
            .with_platform_code(code));
        }
        // CREATED, ENCODING, …, and states this version does not know: in progress.
        Ok(Job::Working)
    }
}

/// The video's bytes and file name.
async fn load(media: &Media) -> Result<(String, Vec<u8>)> {
    match &media.source {
        MediaSource::Path(path) => Ok((
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "video.mp4".to_owned()),
            tokio::fs::read(path).await.map_err(|e| {
                Error::invalid_input(format!("{} cannot be read: {e}", path.display()))
            })?,
        )),
        MediaSource::Bytes { name, data } => Ok((
            name.clone().unwrap_or_else(|| "video.mp4".to_owned()),
            data.to_vec(),
        )),
        _ => Err(Error::unsupported(
            "Bluesky does not fetch media from a URL: give the file or its bytes",
        )),
    }
}

impl BlueskyPublisher {
    /// Uploads `media` to the video service for `did` and returns the job and the embed's
    /// parts (alt text, aspect ratio).
    pub(crate) async fn upload_video(
        &self,
        did: &str,
        media: &Media,
        session: &TokenSession<'_>,
    ) -> Result<(JobStatus, Value)> {
        let (name, data) = load(media).await?;
        let info = cmis_media::probe_bytes(&name, &data)?;
        let mut embed = json!({"$type": "app.bsky.embed.video"});
        if let Some(alt) = media.alt_text.as_deref().filter(|a| !a.is_empty()) {
            embed["alt"] = json!(alt);
        }
        if let (Some(w), Some(h)) = (info.width, info.height)
            && w > 0
            && h > 0
        {
            embed["aspectRatio"] = json!({"width": w, "height": h});
        }
        let token = self.service_token(session).await?;
        let size = u64::try_from(data.len()).unwrap_or(u64::MAX);
        let tweaks = Tweaks {
            timeout: Some(
                Duration::from_secs(120) + Duration::from_secs(size / UPLOAD_BYTES_PER_SECOND),
            ),
            // A deduplicated upload may come back with an error status and the earlier job.
            accept_error_body: Some(names_a_job),
        };
        let answer: JobAnswer = self
            .client()
            .video_xrpc(
                "app.bsky.video.uploadVideo",
                &[("did", did), ("name", name.as_str())],
                Body::Bytes {
                    data,
                    mime: "video/mp4",
                },
                Some(&token),
                // The service deduplicates the same bytes: repeating the upload after a lost
                // answer finds the earlier job's blob, it never makes a second post.
                Call::Read,
                tweaks,
            )
            .await
            .map_err(service_auth_refused)?;
        Ok((answer.into_status(), embed))
    }

    /// A service token for the video service to write the blob into the account's repository:
    /// `getServiceAuth` with the PDS's own DID as audience (`describeServer`).
    async fn service_token(&self, session: &TokenSession<'_>) -> Result<SecretString> {
        #[derive(Deserialize)]
        struct Described {
            did: String,
        }
        #[derive(Deserialize)]
        struct Token {
            token: String,
        }
        let server: Described = self
            .client()
            .xrpc(
                "com.atproto.server.describeServer",
                &[],
                Body::Query,
                None,
                Call::Read,
            )
            .await?;
        let exp = (OffsetDateTime::now_utc().unix_timestamp() + SERVICE_TOKEN_LIFETIME).to_string();
        let token: Token = session
            .run(|access| {
                let (aud, exp) = (&server.did, &exp);
                async move {
                    self.client()
                        .xrpc(
                            "com.atproto.server.getServiceAuth",
                            &[
                                ("aud", aud.as_str()),
                                ("lxm", "com.atproto.repo.uploadBlob"),
                                ("exp", exp.as_str()),
                            ],
                            Body::Query,
                            Some(&access),
                            Call::Read,
                        )
                        .await
                }
            })
            .await?;
        Ok(SecretString::from(token.token))
    }

    /// `getJobStatus` (public). A transient failure reads as "still working": the next poll
    /// asks again.
    async fn job_status(&self, job_id: &str) -> Result<Option<JobStatus>> {
        let answer = self
            .client()
            .video_xrpc::<JobAnswer>(
                "app.bsky.video.getJobStatus",
                &[("jobId", job_id)],
                Body::Query,
                None,
                Call::Read,
                Tweaks::default(),
            )
            .await;
        match answer {
            Ok(a) => Ok(Some(a.into_status())),
            Err(e) if e.kind() == cmis_core::ErrorKind::Transient => {
                tracing::debug!(kind = %e.kind(), "getJobStatus failed; polling on");
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Polls the job from `first` (the upload's answer, when there is one) with the video poll
    /// policy until it holds a blob, fails, or the budget runs out (`Working`). A job still
    /// working [`MAX_PROCESSING`] after `uploaded_at` fails the post.
    pub(crate) async fn wait_video(
        &self,
        job_id: &str,
        first: Option<JobStatus>,
        uploaded_at: Option<OffsetDateTime>,
    ) -> Result<Job> {
        let policy = self.video_poll();
        let mut waited = Duration::ZERO;
        let mut round = 0;
        let mut status = match first {
            Some(s) => Some(s),
            None => self.job_status(job_id).await?,
        };
        loop {
            if let Some(s) = status
                && let Job::Ready(blob) = s.settle()?
            {
                return Ok(Job::Ready(blob));
            }
            let delay = policy.delay(round).max(MIN_POLL);
            if waited + delay > policy.budget {
                let limit = time::Duration::try_from(MAX_PROCESSING).unwrap_or(time::Duration::MAX);
                if uploaded_at.is_some_and(|at| OffsetDateTime::now_utc() - at > limit) {
                    return Err(Error::rejected(format!(
                        "Bluesky's video service is still processing job {job_id} after an \
                         hour; nothing was posted"
                    ))
                    .with_platform(Platform::Bluesky));
                }
                return Ok(Job::Working);
            }
            tokio::time::sleep(delay).await;
            waited += delay;
            round += 1;
            status = self.job_status(job_id).await?;
        }
    }
}

/// Whether a non-2xx `uploadVideo` body names a job (the dedup answer): then it is read as the
/// answer, and its blob used.
fn names_a_job(body: &[u8]) -> bool {
    serde_json::from_slice::<JobAnswer>(body)
        .map(JobAnswer::into_status)
        .is_ok_and(|s| !s.job_id.is_empty() || s.blob.is_some())
}

/// The video service refusing its service token is not the account's token being refused:
/// the next attempt asks the PDS for a new one. (Left as `Auth`, it would park a healthy
/// account as needing re-authorisation.)
fn service_auth_refused(e: Error) -> Error {
    if e.kind() == cmis_core::ErrorKind::Auth {
        Error::transient(format!(
            "Bluesky's video service refused the service token ({}); a new one is asked for on \
             the next attempt",
            e.message()
        ))
        .with_platform(Platform::Bluesky)
    } else {
        e
    }
}

/// The job id of an upload's answer. An answer without one says why in `error`: an account
/// whose email is not confirmed, a daily limit, a refused video.
pub(crate) fn job_id(status: &JobStatus) -> Result<String> {
    if !status.job_id.is_empty() {
        return Ok(status.job_id.clone());
    }
    let Some(code) = status.error.as_deref() else {
        return Err(
            Error::transient("the video service answered without a job id")
                .with_platform(Platform::Bluesky),
        );
    };
    let detail = status
        .message
        .as_deref()
        .map(|m| format!(": {m}"))
        .unwrap_or_default();
    let message = format!("Bluesky's video service refused the upload ({code}{detail})");
    let err = if code.to_ascii_lowercase().contains("limit") {
        Error::quota(message)
    } else {
        Error::rejected(message)
    };
    Err(err
        .with_platform(Platform::Bluesky)
        .with_platform_code(code))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(v: Value) -> JobStatus {
        serde_json::from_value::<JobAnswer>(v)
            .unwrap()
            .into_status()
    }

    #[test]
    fn both_answer_shapes_are_read() {
        let wrapped = status(
            json!({"jobStatus": {"jobId": "j1", "did": "did:plc:a", "state": "JOB_STATE_CREATED"}}),
        );
        let bare = status(
            json!({"jobId": "j2", "did": "did:plc:a", "state": "JOB_STATE_ENCODING", "progress": 40}),
        );
        assert_eq!(wrapped.job_id, "j1");
        assert_eq!(bare.job_id, "j2");
        assert!(matches!(bare.settle(), Ok(Job::Working)));
    }

    #[test]
    fn a_blob_wins_over_a_failed_state_and_a_failure_without_one_is_refused() {
        let blob =
            json!({"$type": "blob", "ref": {"$link": "bafk"}, "mimeType": "video/mp4", "size": 9});
        let dedup = status(
            json!({"jobId": "j", "did": "d", "state": "JOB_STATE_FAILED", "error": "already_exists", "blob": blob}),
        );
        assert!(matches!(dedup.settle(), Ok(Job::Ready(b)) if b == blob));
        let failed = status(
            json!({"jobId": "j", "did": "d", "state": "JOB_STATE_FAILED", "error": "encoding_failure"}),
        );
        let err = failed.settle().err().unwrap();
        assert_eq!(err.kind(), cmis_core::ErrorKind::Rejected);
        assert_eq!(err.platform_code(), Some("encoding_failure"));
        let unknown = status(json!({"jobId": "j", "did": "d", "state": "JOB_STATE_SOMETHING_NEW"}));
        assert!(matches!(unknown.settle(), Ok(Job::Working)));
    }
}
