//! A fake of Bluesky's video service (`video.bsky.app`) over XRPC, on its own port beside the
//! fake PDS whose accounts, service tokens, clock and repositories it shares:
//! `app.bsky.video.uploadVideo` (a service token the PDS issued for the uploader's DID with
//! `aud` = the PDS's DID and `lxm` = `com.atproto.repo.uploadBlob`, `Content-Type: video/mp4`,
//! the raw MP4), `getJobStatus` (public) and `getUploadLimits` (a token for this service with
//! `lxm` = `app.bsky.video.getUploadLimits`).
//!
//! Sources: the lexicons `app/bsky/video/uploadVideo.json`, `getJobStatus.json` (both answer
//! `{"jobStatus": …}`), `defs.json` (`jobStatus`: `jobId`, `did`, `state`, `progress`, `blob`,
//! `error`, `failureCode`, `message`) and `getUploadLimits.json`; docs.bsky.app "Uploading Video"
//! (the flow, and the dedup note: a video processed before gives `already_exists` "and it will
//! return the BlobRef of the previously processed video"); the project's `docs/bluesky-api.md`
//! §5.3. The tutorial's snippet reads the upload's answer as a bare `jobStatus`; the fake answers
//! with the lexicon's `{"jobStatus": …}` wrapper, as the API reference shows it.
//!
//! Constructed where the sources say nothing: the daily caps' defaults (25 videos, 10 GB), the
//! state timeline (`JOB_STATE_CREATED` for the first tenth of the processing time, then
//! `JOB_STATE_ENCODING` with `progress` 0–99, then `JOB_STATE_COMPLETED`), job ids, the refusals'
//! error names and messages, and the `already_exists` job's shape (`JOB_STATE_FAILED` with
//! `error` and `message` both `already_exists`, and the blob). The fake does not re-encode: the
//! blob it stores in the account's repository has the source's CID and size.

mod routes;
mod state;

use std::sync::Arc;
use std::time::Duration;

use crate::fault::Fault;

pub(crate) use routes::router;
pub(crate) use state::VideoState;

/// The XRPC methods of the fake video service, for fault injection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BlueskyVideoEndpoint {
    /// `POST /xrpc/app.bsky.video.uploadVideo`.
    UploadVideo,
    /// `GET /xrpc/app.bsky.video.getJobStatus`.
    GetJobStatus,
    /// `GET /xrpc/app.bsky.video.getUploadLimits`.
    GetUploadLimits,
}

impl BlueskyVideoEndpoint {
    /// Every endpoint.
    pub const ALL: [BlueskyVideoEndpoint; 3] =
        [Self::UploadVideo, Self::GetJobStatus, Self::GetUploadLimits];
}

/// How the fake video service behaves.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BlueskyVideoConfig {
    /// The service's DID: the `aud` of the tokens `getUploadLimits` accepts
    /// (`did:web:video.sandbox.bsky.test`; Bluesky's is `did:web:video.bsky.app`).
    pub service_did: String,
    /// How long a job takes from upload to `JOB_STATE_COMPLETED` on the fake's clock (2 s).
    pub processing_time: Duration,
    /// The largest upload accepted (300 000 000 bytes: the video lexicon's "May be up to 300mb,
    /// formerly limited to 100mb", and Bluesky's 10-minute / 300 MB announcement, brief §5.3); a
    /// larger one is refused with `VideoTooLarge`.
    pub max_video_bytes: u64,
    /// Videos per account per rolling 24 hours (25: Bluesky documents a daily cap but no number).
    pub daily_videos: u32,
    /// Bytes per account per rolling 24 hours (10 GB, also not documented).
    pub daily_bytes: u64,
}

impl Default for BlueskyVideoConfig {
    fn default() -> Self {
        Self {
            service_did: "did:web:video.sandbox.bsky.test".into(),
            processing_time: Duration::from_secs(2),
            max_video_bytes: 300_000_000,
            daily_videos: 25,
            daily_bytes: 10_000_000_000,
        }
    }
}

/// Why a job fails: the `failureCode` known values of `app.bsky.video.defs#jobStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BlueskyVideoFailure {
    /// `validation_failure`.
    Validation,
    /// `encoding_failure`.
    Encoding,
    /// `pds_upload_failure`.
    PdsUpload,
    /// `pds_upload_unsupported_blob_size`.
    PdsUploadUnsupportedBlobSize,
    /// `generic_failure`.
    Generic,
}

impl BlueskyVideoFailure {
    /// The wire code, such as `encoding_failure`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Validation => "validation_failure",
            Self::Encoding => "encoding_failure",
            Self::PdsUpload => "pds_upload_failure",
            Self::PdsUploadUnsupportedBlobSize => "pds_upload_unsupported_blob_size",
            Self::Generic => "generic_failure",
        }
    }

    fn message(self) -> &'static str {
        match self {
            Self::Validation => "Video failed validation",
            Self::Encoding => "Video failed to encode",
            Self::PdsUpload => "Failed to upload the processed video to the PDS",
            Self::PdsUploadUnsupportedBlobSize => "The PDS does not accept a video of this size",
            Self::Generic => "Video processing failed",
        }
    }
}

/// A processing job of the fake video service, as it stands now.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BlueskyVideoJob {
    /// `jobId`.
    pub job_id: String,
    /// The uploader's DID.
    pub did: String,
    /// The `name` query parameter of the upload, if any.
    pub name: Option<String>,
    /// `state`: `JOB_STATE_CREATED`, `JOB_STATE_ENCODING`, `JOB_STATE_COMPLETED` or
    /// `JOB_STATE_FAILED`.
    pub state: String,
    /// `progress` (0–100) while encoding.
    pub progress: Option<u8>,
    /// The upload's size in bytes.
    pub size: u64,
    /// The CID of the uploaded bytes (`bafkrei…`), which dedup compares.
    pub source_cid: String,
    /// The CID of the blob in the account's repository, once there is one (also on an
    /// `already_exists` job).
    pub blob_cid: Option<String>,
    /// `error`: a failure code, or `already_exists`.
    pub error: Option<String>,
}

/// A handle on the fake video service: inspect jobs, make the next one fail, inject faults.
///
/// ```no_run
/// # mod cmis { pub use cmis_core::*; pub mod sandbox { pub use cmis_sandbox::*; } }
/// # async fn demo() -> Result<(), cmis::Error> {
/// use std::time::Duration;
///
/// use cmis::sandbox::{BlueskyVideoEndpoint, BlueskyVideoFailure, Fault, Sandbox};
///
/// let sandbox = Sandbox::start().await?;
/// let video = sandbox.bluesky_video();
/// // Point a Bluesky client at `sandbox.bluesky().url()` and `video.url()`. The next upload's
/// // job fails to encode, and the first status poll after it answers 500.
/// video.fail_next_video(BlueskyVideoFailure::Encoding);
/// video.inject(BlueskyVideoEndpoint::GetJobStatus, Fault::ServerError, 1);
/// // ... upload, then let processing finish and look:
/// video.advance_clock(Duration::from_secs(3));
/// let jobs = video.jobs();
/// # let _ = jobs;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct BlueskyVideoSandbox {
    pub(crate) state: Arc<VideoState>,
}

impl BlueskyVideoSandbox {
    /// The service's base URL, such as `http://127.0.0.1:41235`; XRPC methods are under
    /// `/xrpc/`.
    pub fn url(&self) -> String {
        self.state.base_url()
    }

    /// The service's DID (the `aud` of `getUploadLimits` tokens).
    pub fn service_did(&self) -> String {
        self.state.config().service_did.clone()
    }

    /// Every job, oldest first, as it stands now. Jobs whose processing time has passed are
    /// completed first, which writes their blobs into the PDS.
    pub fn jobs(&self) -> Vec<BlueskyVideoJob> {
        self.state.jobs()
    }

    /// The job with this id, as it stands now.
    pub fn job(&self, job_id: &str) -> Option<BlueskyVideoJob> {
        self.jobs().into_iter().find(|j| j.job_id == job_id)
    }

    /// Makes the next upload's job end in `JOB_STATE_FAILED` with this failure code (and no
    /// blob) once its processing time has passed. Calls queue up.
    pub fn fail_next_video(&self, failure: BlueskyVideoFailure) {
        self.state.fail_next(failure);
    }

    /// Moves the clock forward. The clock is the fake PDS's
    /// ([`BlueskySandbox::advance_clock`](crate::BlueskySandbox::advance_clock)): service
    /// tokens, jobs and the daily caps all see the time pass.
    pub fn advance_clock(&self, by: Duration) {
        self.state.advance_clock(by);
    }

    /// Makes the next `times` calls to `endpoint` fail with `fault`. On `uploadVideo`, the faults
    /// that act first ([`Fault::acts_first`]) create the job before failing, and
    /// [`Fault::SlowProcessing`] lengthens that upload's job.
    pub fn inject(&self, endpoint: BlueskyVideoEndpoint, fault: Fault, times: u32) {
        self.state.faults.push(endpoint, fault, times);
    }

    /// Makes a fraction `rate` of calls to `endpoints` fail with one of `faults`, chosen by a
    /// generator seeded with `seed` (reproducible).
    pub fn set_fault_rate(
        &self,
        rate: f64,
        seed: u64,
        faults: Vec<Fault>,
        endpoints: Vec<BlueskyVideoEndpoint>,
    ) {
        self.state.faults.set_random(rate, seed, faults, endpoints);
    }

    /// Removes every queued and random fault.
    pub fn clear_faults(&self) {
        self.state.faults.clear();
    }
}
