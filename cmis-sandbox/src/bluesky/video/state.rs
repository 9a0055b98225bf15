//! The fake video service's jobs and rules, apart from HTTP. Jobs are settled lazily: when a job
//! is looked at after its processing time, it completes (its blob is written into the PDS,
//! stamped with the time processing ended) or fails.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use serde_json::{Value, json};

use super::{BlueskyVideoConfig, BlueskyVideoEndpoint, BlueskyVideoFailure, BlueskyVideoJob};
use crate::bluesky::BlueskyState;
use crate::bluesky::ids::blob_cid;
use crate::bluesky::state::{XrpcError, invalid, xrpc};
use crate::fault::Faults;

/// The method a PDS service token must be bound to for `uploadVideo` (the tutorial's `lxm`).
pub(super) const UPLOAD_LXM: &str = "com.atproto.repo.uploadBlob";
/// The method a token for `getUploadLimits` must be bound to.
const LIMITS_LXM: &str = "app.bsky.video.getUploadLimits";
const DAY_MS: i64 = 86_400_000;
/// The `error` (and `message`) of a job for a video processed before (docs.bsky.app).
const ALREADY_EXISTS: &str = "already_exists";

#[derive(Debug)]
enum Outcome {
    Processing,
    Completed(Value),
    Failed {
        code: &'static str,
        message: String,
    },
    /// The same bytes were processed before for this DID: the earlier blob.
    AlreadyExists(Value),
}

#[derive(Debug)]
struct Job {
    id: String,
    did: String,
    name: Option<String>,
    source_cid: String,
    size: u64,
    created_ms: i64,
    done_ms: i64,
    failure: Option<BlueskyVideoFailure>,
    outcome: Outcome,
}

impl Job {
    /// Whether the job counts against the daily caps (a dedup does not).
    fn counts(&self) -> bool {
        !matches!(self.outcome, Outcome::AlreadyExists(_))
    }

    /// `state` and `progress` now.
    fn state(&self, now: i64) -> (&'static str, Option<u8>) {
        match self.outcome {
            Outcome::Completed(_) => ("JOB_STATE_COMPLETED", None),
            Outcome::Failed { .. } | Outcome::AlreadyExists(_) => ("JOB_STATE_FAILED", None),
            Outcome::Processing => {
                let total = (self.done_ms - self.created_ms).max(1);
                let elapsed = (now - self.created_ms).clamp(0, total);
                let created = total / 10;
                if elapsed < created || elapsed == 0 {
                    return ("JOB_STATE_CREATED", None);
                }
                let percent = (elapsed - created) * 100 / (total - created).max(1);
                let progress = u8::try_from(percent.clamp(0, 99)).unwrap_or(99);
                ("JOB_STATE_ENCODING", Some(progress))
            }
        }
    }

    fn blob(&self) -> Option<&Value> {
        match &self.outcome {
            Outcome::Completed(b) | Outcome::AlreadyExists(b) => Some(b),
            _ => None,
        }
    }

    /// `app.bsky.video.defs#jobStatus`.
    fn status(&self, now: i64) -> Value {
        let (state, progress) = self.state(now);
        let mut s = json!({"jobId": self.id, "did": self.did, "state": state});
        if let Some(p) = progress {
            s["progress"] = Value::from(p);
        }
        if let Some(blob) = self.blob() {
            s["blob"] = blob.clone();
        }
        match &self.outcome {
            Outcome::Failed { code, message } => {
                s["error"] = Value::from(*code);
                s["failureCode"] = Value::from(*code);
                s["message"] = Value::from(message.as_str());
            }
            Outcome::AlreadyExists(_) => {
                s["error"] = Value::from(ALREADY_EXISTS);
                s["message"] = Value::from(ALREADY_EXISTS);
            }
            _ => {}
        }
        s
    }

    fn public(&self, now: i64) -> BlueskyVideoJob {
        let (state, progress) = self.state(now);
        BlueskyVideoJob {
            job_id: self.id.clone(),
            did: self.did.clone(),
            name: self.name.clone(),
            state: state.to_owned(),
            progress,
            size: self.size,
            source_cid: self.source_cid.clone(),
            blob_cid: self
                .blob()
                .and_then(|b| b.pointer("/ref/$link"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            error: match &self.outcome {
                Outcome::Failed { code, .. } => Some((*code).to_owned()),
                Outcome::AlreadyExists(_) => Some(ALREADY_EXISTS.to_owned()),
                _ => None,
            },
        }
    }
}

#[derive(Debug, Default)]
struct Inner {
    jobs: Vec<Job>,
    fail_next: VecDeque<BlueskyVideoFailure>,
}

/// The fake video service's state. It holds the PDS's, whose clock, service tokens and
/// repositories it uses.
#[derive(Debug)]
pub(crate) struct VideoState {
    config: BlueskyVideoConfig,
    pds: Arc<BlueskyState>,
    base_url: OnceLock<String>,
    inner: Mutex<Inner>,
    pub(crate) faults: Faults<BlueskyVideoEndpoint>,
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

/// Whether `bytes` look like an ISO base media file (MP4): an `ftyp` box type at bytes 4..8.
pub(super) fn is_mp4(bytes: &[u8]) -> bool {
    bytes.get(4..8) == Some(b"ftyp".as_slice())
}

fn job_id() -> String {
    hex::encode((0..16).map(|_| fastrand::u8(..)).collect::<Vec<u8>>())
}

impl VideoState {
    pub(crate) fn new(config: BlueskyVideoConfig, pds: Arc<BlueskyState>) -> Self {
        Self {
            config,
            pds,
            base_url: OnceLock::new(),
            inner: Mutex::new(Inner::default()),
            faults: Faults::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn config(&self) -> &BlueskyVideoConfig {
        &self.config
    }

    pub(crate) fn pds(&self) -> &BlueskyState {
        &self.pds
    }

    pub(crate) fn set_base_url(&self, url: String) {
        let _ = self.base_url.set(url);
    }

    pub(crate) fn base_url(&self) -> String {
        self.base_url.get().cloned().unwrap_or_default()
    }

    pub(crate) fn advance_clock(&self, by: Duration) {
        self.pds.advance_clock(by);
    }

    pub(crate) fn fail_next(&self, failure: BlueskyVideoFailure) {
        self.lock().fail_next.push_back(failure);
    }

    /// Completes or fails every job whose processing time has passed. Lock order: the video
    /// service's, then the PDS's.
    fn settle(&self, inner: &mut Inner, now: i64) {
        for job in inner.jobs.iter_mut() {
            if !matches!(job.outcome, Outcome::Processing) || now < job.done_ms {
                continue;
            }
            job.outcome = match job.failure {
                Some(f) => Outcome::Failed {
                    code: f.code(),
                    message: f.message().to_owned(),
                },
                None => match self.pds.store_video_blob(
                    &job.did,
                    &job.source_cid,
                    job.size,
                    job.done_ms,
                ) {
                    Ok(blob) => Outcome::Completed(blob),
                    Err(e) => Outcome::Failed {
                        code: BlueskyVideoFailure::PdsUpload.code(),
                        message: e.message,
                    },
                },
            };
        }
    }

    /// Videos and bytes `did` uploaded in the 24 hours before `now`.
    fn usage(inner: &Inner, did: &str, now: i64) -> (u64, u64) {
        inner
            .jobs
            .iter()
            .filter(|j| j.did == did && j.counts() && j.created_ms > now - DAY_MS)
            .fold((0, 0), |(n, bytes), j| (n + 1, bytes + j.size))
    }

    /// The DID a service token for `uploadVideo` speaks for: issued by the PDS for the DID of the
    /// `did` parameter, to the PDS (`aud`), for `com.atproto.repo.uploadBlob`.
    pub(crate) fn authorize_upload(
        &self,
        token: Option<&str>,
        params: &HashMap<String, String>,
    ) -> Result<String, XrpcError> {
        let pds_did = self.pds.config().service_did;
        let iss = self.pds.verify_service_token(token, &pds_did, UPLOAD_LXM)?;
        let did = params
            .get("did")
            .ok_or_else(|| invalid("Params must have the property \"did\""))?;
        if *did != iss {
            return Err(xrpc(
                401,
                "BadJwtIssuer",
                format!("jwt issuer {iss} does not match the did parameter {did}"),
            ));
        }
        Ok(iss)
    }

    /// `app.bsky.video.uploadVideo` for `did`, whose token was checked; `slow` lengthens the job
    /// (an injected [`Fault::SlowProcessing`](crate::Fault::SlowProcessing)).
    pub(crate) fn upload(
        &self,
        did: &str,
        name: Option<String>,
        bytes: &[u8],
        slow: Duration,
    ) -> Result<Value, XrpcError> {
        if !is_mp4(bytes) {
            return Err(invalid(
                "Unsupported video format: the upload is not an MP4 file (no ftyp box)",
            ));
        }
        let now = self.pds.now_ms();
        let cid = blob_cid(bytes);
        let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        let mut inner = self.lock();
        self.settle(&mut inner, now);
        let earlier = inner.jobs.iter().rev().find(|j| {
            j.did == did && j.source_cid == cid && !matches!(j.outcome, Outcome::Failed { .. })
        });
        if let Some(job) = earlier {
            if matches!(job.outcome, Outcome::Processing) {
                // The same video is still being processed: its job answers.
                return Ok(json!({"jobStatus": job.status(now)}));
            }
            // Processed before: the blob is written again (which keeps it from expiring).
            if let Ok(blob) = self.pds.store_video_blob(did, &cid, size, now) {
                let job = Job {
                    id: job_id(),
                    did: did.to_owned(),
                    name,
                    source_cid: cid,
                    size,
                    created_ms: now,
                    done_ms: now,
                    failure: None,
                    outcome: Outcome::AlreadyExists(blob),
                };
                let status = job.status(now);
                inner.jobs.push(job);
                return Ok(json!({"jobStatus": status}));
            }
        }
        let (videos, used) = Self::usage(&inner, did, now);
        if videos >= u64::from(self.config.daily_videos)
            || used.saturating_add(size) > self.config.daily_bytes
        {
            return Err(xrpc(
                400,
                "DailyLimitExceeded",
                "You have reached your daily video upload limit",
            ));
        }
        let failure = inner.fail_next.pop_front();
        let job = Job {
            id: job_id(),
            did: did.to_owned(),
            name,
            source_cid: cid,
            size,
            created_ms: now,
            done_ms: now
                .saturating_add(millis(self.config.processing_time))
                .saturating_add(millis(slow)),
            failure,
            outcome: Outcome::Processing,
        };
        let status = job.status(now);
        inner.jobs.push(job);
        Ok(json!({"jobStatus": status}))
    }

    /// `app.bsky.video.getJobStatus`.
    pub(crate) fn job_status(&self, params: &HashMap<String, String>) -> Result<Value, XrpcError> {
        let id = params
            .get("jobId")
            .ok_or_else(|| invalid("Params must have the property \"jobId\""))?;
        let now = self.pds.now_ms();
        let mut inner = self.lock();
        self.settle(&mut inner, now);
        match inner.jobs.iter().find(|j| j.id == *id) {
            Some(job) => Ok(json!({"jobStatus": job.status(now)})),
            None => Err(invalid(format!("Job not found: {id}"))),
        }
    }

    /// `app.bsky.video.getUploadLimits` for the holder of a token to this service.
    pub(crate) fn upload_limits(&self, token: Option<&str>) -> Result<Value, XrpcError> {
        let did = self
            .pds
            .verify_service_token(token, &self.config.service_did, LIMITS_LXM)?;
        let now = self.pds.now_ms();
        let mut inner = self.lock();
        self.settle(&mut inner, now);
        let (videos, bytes) = Self::usage(&inner, &did, now);
        let videos_left = u64::from(self.config.daily_videos).saturating_sub(videos);
        let bytes_left = self.config.daily_bytes.saturating_sub(bytes);
        let mut body = json!({
            "canUpload": videos_left > 0 && bytes_left > 0,
            "remainingDailyVideos": videos_left,
            "remainingDailyBytes": bytes_left,
        });
        if videos_left == 0 || bytes_left == 0 {
            body["message"] = Value::from("You have reached your daily video upload limit");
            body["error"] = Value::from("DailyLimitExceeded");
        }
        Ok(body)
    }

    pub(crate) fn jobs(&self) -> Vec<BlueskyVideoJob> {
        let now = self.pds.now_ms();
        let mut inner = self.lock();
        self.settle(&mut inner, now);
        inner.jobs.iter().map(|j| j.public(now)).collect()
    }
}

/// The control API's hooks.
impl VideoState {
    /// Forgets jobs, queued failures and faults (the PDS resets its own clock).
    pub(crate) fn reset(&self) {
        *self.lock() = Inner::default();
        self.faults.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(created_ms: i64, done_ms: i64) -> Job {
        Job {
            id: "j".into(),
            did: "did:plc:x".into(),
            name: None,
            source_cid: "bafkrei".into(),
            size: 1,
            created_ms,
            done_ms,
            failure: None,
            outcome: Outcome::Processing,
        }
    }

    #[test]
    fn a_job_is_created_then_encodes_with_progress() {
        let j = job(1000, 3000);
        assert_eq!(j.state(1000), ("JOB_STATE_CREATED", None));
        assert_eq!(j.state(1100), ("JOB_STATE_CREATED", None));
        assert_eq!(j.state(1200), ("JOB_STATE_ENCODING", Some(0)));
        assert_eq!(j.state(2100), ("JOB_STATE_ENCODING", Some(50)));
        assert_eq!(j.state(2999), ("JOB_STATE_ENCODING", Some(99)));
        // A job with no processing time is created, then settles on the next look.
        assert_eq!(job(5, 5).state(5), ("JOB_STATE_CREATED", None));
    }

    #[test]
    fn mp4s_are_sniffed_by_their_ftyp_box() {
        assert!(is_mp4(b"\0\0\0\x18ftypisom\0\0\x02\0"));
        assert!(!is_mp4(b"\x89PNG\r\n\x1a\n"));
        assert!(!is_mp4(b"ftyp"));
    }
}
