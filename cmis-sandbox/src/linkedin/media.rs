//! Images, documents and videos (brief §4): initialize, upload, finalize (videos), status.

use serde_json::{Value, json};

use super::state::{Caller, Inner, LiError, LinkedInState, access_denied, invalid, not_found};

/// How long upload URLs stay valid, for `uploadUrlExpiresAt` (chosen: a day; not enforced).
const UPLOAD_URL_LIFETIME_MS: i64 = 24 * 3600 * 1000;

/// The "part index" of a video's thumbnail upload URL.
const THUMBNAIL: usize = usize::MAX;

/// The kind of a medium.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Image,
    Document,
    Video,
}

impl Kind {
    pub(crate) fn from_path(resource: &str) -> Option<Kind> {
        match resource {
            "images" => Some(Kind::Image),
            "documents" => Some(Kind::Document),
            "videos" => Some(Kind::Video),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Image => "image",
            Kind::Document => "document",
            Kind::Video => "video",
        }
    }

    /// The id prefixes of the docs' samples: `C4E10AQ…`, `C5F10AQ…`, `C5505AQ…`.
    fn prefix(self) -> &'static str {
        match self {
            Kind::Image => "C4E10AQ",
            Kind::Document => "C5F10AQ",
            Kind::Video => "C5505AQ",
        }
    }
}

/// One video part: its inclusive byte range and the ETag of its last upload.
#[derive(Debug, Clone)]
pub(crate) struct Part {
    first: u64,
    last: u64,
    etag: Option<String>,
}

/// A medium.
#[derive(Debug, Clone)]
pub(crate) struct Media {
    urn: String,
    kind: Kind,
    owner: String,
    /// An image's or document's bytes arrived (a video: finalized).
    uploaded: bool,
    parts: Vec<Part>,
    /// Status reads left that answer `PROCESSING`.
    reads_left: u32,
    failure: Option<String>,
}

/// Whether a post may use a medium.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Readiness {
    Available,
    Waiting,
    Failed,
    Unknown,
}

fn random_id(n: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    (0..n)
        .map(|_| char::from(ALPHABET[fastrand::usize(..ALPHABET.len())]))
        .collect()
}

impl Media {
    fn status(&self) -> &'static str {
        if self.failure.is_some() {
            "PROCESSING_FAILED"
        } else if !self.uploaded {
            "WAITING_UPLOAD"
        } else if self.reads_left > 0 {
            "PROCESSING"
        } else {
            "AVAILABLE"
        }
    }
}

/// What an upload `PUT` did.
#[derive(Debug)]
pub(crate) enum Uploaded {
    /// An image or document: 201 (constructed; peers report 200 or 201).
    Whole,
    /// A video part: 200 with this `ETag` (fixture `video_part_upload_responses.json`).
    Part(String),
}

impl LinkedInState {
    pub(crate) fn readiness(&self, inner: &Inner, urn: &str, kinds: &[&str]) -> Readiness {
        match inner.media.get(urn) {
            Some(_) if !kinds.iter().any(|k| urn.starts_with(k)) => Readiness::Unknown,
            Some(m) => match m.status() {
                "AVAILABLE" => Readiness::Available,
                "PROCESSING_FAILED" => Readiness::Failed,
                _ => Readiness::Waiting,
            },
            None => Readiness::Unknown,
        }
    }

    pub(crate) fn media_status(&self, urn: &str) -> Option<String> {
        self.lock().media.get(urn).map(|m| m.status().to_owned())
    }

    pub(crate) fn fail_media(&self, urn: &str, reason: &str) {
        if let Some(m) = self.lock().media.get_mut(urn) {
            m.failure = Some(reason.to_owned());
        }
    }

    /// `POST /rest/{images|documents|videos}?action=initializeUpload` with
    /// `{"initializeUploadRequest":{"owner", "fileSizeBytes" (videos), …}}`. The owner must be
    /// the caller or an organization it administers (403 otherwise, constructed message).
    pub(crate) fn initialize(
        &self,
        caller: &Caller,
        kind: Kind,
        body: &Value,
    ) -> Result<Value, LiError> {
        let req = body.get("initializeUploadRequest").unwrap_or(&Value::Null);
        let owner = req.get("owner").and_then(Value::as_str).unwrap_or("");
        if owner.is_empty() {
            return Err(invalid(
                "initializeUploadRequest/owner",
                "initializeUploadRequest.owner is required",
            ));
        }
        let base = self.base_url();
        let now = self.now_ms();
        let mut inner = self.lock();
        if !Self::may_act_as(&inner, &caller.person, owner) {
            return Err(access_denied(&format!("{}s.CREATE", kind.name())));
        }
        let id = format!("{}{}", kind.prefix(), random_id(12));
        let urn = format!("urn:li:{}:{id}", kind.name());
        let expires = now + UPLOAD_URL_LIFETIME_MS;
        let mut media = Media {
            urn: urn.clone(),
            kind,
            owner: owner.to_owned(),
            uploaded: false,
            parts: Vec::new(),
            reads_left: 0,
            failure: None,
        };
        let answer = if kind == Kind::Video {
            let size = req
                .get("fileSizeBytes")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            if size == 0 {
                return Err(invalid(
                    "initializeUploadRequest/fileSizeBytes",
                    "initializeUploadRequest.fileSizeBytes must be a positive number",
                ));
            }
            let part_size = self.config().video_part_size.max(1);
            let mut instructions = Vec::new();
            let mut first = 0;
            while first < size {
                let last = (first + part_size).min(size) - 1;
                let t = random_id(32);
                let url = format!("{base}/dms-uploads/{id}/uploadedVideo?sau={t}");
                inner
                    .uploads
                    .insert(t, (urn.clone(), Some(media.parts.len())));
                instructions.push(json!({"uploadUrl": url, "lastByte": last, "firstByte": first}));
                media.parts.push(Part {
                    first,
                    last,
                    etag: None,
                });
                first = last + 1;
            }
            let mut value = json!({
                "uploadUrlsExpireAt": expires,
                "video": urn,
                "uploadInstructions": instructions,
                "uploadToken": "",
            });
            if req.get("uploadThumbnail").and_then(Value::as_bool) == Some(true) {
                let t = random_id(32);
                inner
                    .uploads
                    .insert(t.clone(), (urn.clone(), Some(THUMBNAIL)));
                value["thumbnailUploadUrl"] =
                    json!(format!("{base}/dms-uploads/{id}/uploadedThumbnail?sau={t}"));
            }
            value
        } else {
            let t = random_id(14);
            let path = if kind == Kind::Image {
                "uploaded-image"
            } else {
                "ads-uploadedDocument"
            };
            let url = format!(
                "{base}/dms-uploads/{id}/{path}/0?ca=vector_ads&cn=uploads&sync=0&v=beta&ut={t}"
            );
            inner.uploads.insert(t, (urn.clone(), None));
            json!({"uploadUrlExpiresAt": expires, "uploadUrl": url, kind.name(): urn})
        };
        inner.media.insert(urn, media);
        Ok(json!({ "value": answer }))
    }

    /// A `PUT` of an upload URL, found by its `ut` (images, documents) or `sau` (video parts)
    /// value. A whole image or document in one request (a later `PUT` replaces it); a video
    /// part of exactly its instruction's size (400 otherwise, constructed).
    pub(crate) fn upload(&self, upload_token: &str, len: u64) -> Result<Uploaded, LiError> {
        let image_reads = self.config().image_processing_reads;
        let mut inner = self.lock();
        let (urn, part) = inner
            .uploads
            .get(upload_token)
            .cloned()
            .ok_or_else(not_found)?;
        let media = inner.media.get_mut(&urn).ok_or_else(not_found)?;
        match part {
            // The thumbnail (`uploadThumbnail: true`): accepted, not checked.
            Some(THUMBNAIL) => Ok(Uploaded::Whole),
            None => {
                if len == 0 {
                    return Err(invalid("", "The upload body is empty"));
                }
                media.uploaded = true;
                media.reads_left = image_reads;
                Ok(Uploaded::Whole)
            }
            Some(i) => {
                let p = &mut media.parts[i];
                let want = p.last - p.first + 1;
                if len != want {
                    return Err(invalid(
                        "",
                        &format!(
                            "Part {} covers bytes {}-{} and must be {want} bytes; got {len}",
                            i + 1,
                            p.first,
                            p.last
                        ),
                    ));
                }
                let etag = format!("/ambry-video/signedId/{}.bin", random_id(40));
                p.etag = Some(etag.clone());
                Ok(Uploaded::Part(etag))
            }
        }
    }

    /// `POST /rest/videos?action=finalizeUpload` with `{"finalizeUploadRequest":{"video",
    /// "uploadToken", "uploadedPartIds"}}`: every part uploaded, and the ids equal to the parts'
    /// ETags in instruction order (400 otherwise, constructed). The video then processes for
    /// `video_processing_reads` status reads. Finalizing a finalized video again with the same
    /// ids answers 200 again (a retry after a lost answer).
    pub(crate) fn finalize(&self, caller: &Caller, body: &Value) -> Result<(), LiError> {
        let req = body.get("finalizeUploadRequest").unwrap_or(&Value::Null);
        let urn = req.get("video").and_then(Value::as_str).unwrap_or("");
        if req.get("uploadToken").and_then(Value::as_str).is_none() {
            return Err(invalid(
                "finalizeUploadRequest/uploadToken",
                "finalizeUploadRequest.uploadToken is required (the initialize answer's, even \"\")",
            ));
        }
        let ids: Option<Vec<&str>> = req
            .get("uploadedPartIds")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect());
        let reads = self.config().video_processing_reads;
        let mut inner = self.lock();
        let slow = std::mem::take(&mut inner.pending_slow_reads);
        let owner_ok = inner
            .media
            .get(urn)
            .filter(|m| m.kind == Kind::Video)
            .map(|m| m.owner.clone());
        let Some(owner) = owner_ok else {
            return Err(invalid(
                "finalizeUploadRequest/video",
                &format!("Unknown video {urn}"),
            ));
        };
        if !Self::may_act_as(&inner, &caller.person, &owner) {
            return Err(access_denied("videos.ACTION-finalizeUpload"));
        }
        let media = inner.media.get_mut(urn).ok_or_else(not_found)?;
        let etags: Vec<Option<&str>> = media.parts.iter().map(|p| p.etag.as_deref()).collect();
        if let Some(missing) = etags.iter().position(Option::is_none) {
            return Err(invalid(
                "finalizeUploadRequest/uploadedPartIds",
                &format!("Part {} of {} was never uploaded", missing + 1, etags.len()),
            ));
        }
        let expected: Vec<&str> = etags.into_iter().flatten().collect();
        if ids.as_deref() != Some(expected.as_slice()) {
            return Err(invalid(
                "finalizeUploadRequest/uploadedPartIds",
                "uploadedPartIds must be the parts' ETags, in the order of uploadInstructions",
            ));
        }
        if !media.uploaded {
            media.uploaded = true;
            media.reads_left = reads.saturating_add(slow);
        }
        Ok(())
    }

    /// `GET /rest/{images|documents|videos}/{urn}`: the status, counting a read. Member tokens
    /// cannot read images and documents (brief §4.1): 403 `image_read_forbidden_member` (with
    /// `document` for documents).
    pub(crate) fn media_read(
        &self,
        caller: &Caller,
        kind: Kind,
        urn: &str,
    ) -> Result<Value, LiError> {
        let base = self.base_url();
        let now = self.now_ms();
        let mut inner = self.lock();
        let media = inner
            .media
            .get_mut(urn)
            .filter(|m| m.kind == kind)
            .ok_or_else(super::state::not_found)?;
        if kind != Kind::Video && !caller.has("r_organization_social") {
            return Err(super::state::rest(
                403,
                json!({"message": format!("Accessing this {} resource is forbidden. Please check your permissions for this resource", kind.name()), "status": 403}),
            ));
        }
        let status = media.status();
        if status == "PROCESSING" {
            media.reads_left -= 1;
        }
        let mut v = json!({"owner": media.owner, "status": status, "id": media.urn});
        match status {
            "AVAILABLE" => {
                v["downloadUrl"] = json!(format!("{base}/dms/{}/{}", kind.name(), media.urn));
                v["downloadUrlExpiresAt"] = json!(now + UPLOAD_URL_LIFETIME_MS);
                if kind == Kind::Video {
                    // Fixture `video_status_available.json`: the fake does not decode video,
                    // so duration and aspect ratio are the fixture's chosen values.
                    v["duration"] = json!(12.5);
                    v["thumbnail"] =
                        json!(format!("{base}/dms/image/{}/videocover-high", media.urn));
                    v["aspectRatioWidth"] = json!(16.0);
                    v["aspectRatioHeight"] = json!(9.0);
                }
            }
            "PROCESSING_FAILED" => {
                v["processingFailureReason"] = json!(media.failure);
            }
            _ => {}
        }
        Ok(v)
    }

    pub(crate) fn slow_next_video(&self, reads: u32) {
        let mut inner = self.lock();
        inner.pending_slow_reads = inner.pending_slow_reads.saturating_add(reads);
    }
}
