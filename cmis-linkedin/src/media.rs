//! Media for posts (`docs/linkedin-api.md` §4): images and documents in one `PUT` each, videos
//! in the 4 MiB parts LinkedIn's upload instructions name, finalized with the parts' ETags in
//! order, then polled until `AVAILABLE`.
//!
//! Uploading makes nothing visible: a media item no post uses is never shown, so every step
//! here may be repeated. Only the post's create is guarded (see `publish`).

use std::time::Duration;

use bytes::Bytes;
use cmis_core::{
    Error, ErrorKind, Media, MediaSource, Platform, Progress, PublishContext, Result, TokenSession,
};
use cmis_http::{Call, reqwest::Method};
use cmis_media::ChunkedFile;
use serde::Deserialize;
use serde_json::json;

use crate::client::encode_urn;
use crate::publisher::LinkedInPublisher;

/// The shortest wait between two status reads.
const MIN_POLL: Duration = Duration::from_millis(50);

/// How many times a part's `PUT` is tried before the upload gives up (parts are idempotent).
const PART_ATTEMPTS: u32 = 3;

/// What a media item is, for LinkedIn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Image,
    Video,
    Document,
}

impl Kind {
    fn collection(self) -> &'static str {
        match self {
            Self::Image => "images",
            Self::Video => "videos",
            Self::Document => "documents",
        }
    }
}

/// The documents LinkedIn takes (PDF, PPT, PPTX, DOC, DOCX), by file name.
pub(crate) const DOCUMENT_EXTENSIONS: &[&str] = &["pdf", "ppt", "pptx", "doc", "docx"];

/// The largest document: 100 MB.
pub(crate) const MAX_DOCUMENT_BYTES: u64 = 100_000_000;

/// Whether `media` is a document: a PDF by its first bytes, or a file named like one.
pub(crate) async fn is_document(media: &Media) -> Result<bool> {
    let named = |name: &str| {
        std::path::Path::new(name)
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| {
                DOCUMENT_EXTENSIONS
                    .iter()
                    .any(|d| e.eq_ignore_ascii_case(d))
            })
    };
    Ok(match &media.source {
        MediaSource::Path(path) => {
            named(&path.to_string_lossy()) || starts_like_pdf(&head_of(path).await?)
        }
        MediaSource::Bytes { name, data } => {
            name.as_deref().is_some_and(named) || starts_like_pdf(data)
        }
        _ => false,
    })
}

fn starts_like_pdf(head: &[u8]) -> bool {
    head.starts_with(b"%PDF-")
}

async fn head_of(path: &std::path::Path) -> Result<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(|e| Error::invalid_input(format!("{} cannot be read: {e}", path.display())))?;
    let mut head = vec![0; 8];
    let n = file
        .read(&mut head)
        .await
        .map_err(|e| Error::invalid_input(format!("{} cannot be read: {e}", path.display())))?;
    head.truncate(n);
    Ok(head)
}

/// The whole content of an image or a document, and its name for messages.
pub(crate) async fn read_whole(media: &Media, max: u64) -> Result<(String, Bytes)> {
    let (name, data) = match &media.source {
        MediaSource::Path(path) => {
            let len = tokio::fs::metadata(path)
                .await
                .map_err(|e| {
                    Error::invalid_input(format!("{} cannot be read: {e}", path.display()))
                })?
                .len();
            if len > max {
                return Err(Error::invalid_input(format!(
                    "{} is {len} bytes; LinkedIn takes at most {max}",
                    path.display()
                )));
            }
            let data = tokio::fs::read(path).await.map_err(|e| {
                Error::invalid_input(format!("{} cannot be read: {e}", path.display()))
            })?;
            (path.display().to_string(), Bytes::from(data))
        }
        MediaSource::Bytes { name, data } => (media_name(name.as_deref()), data.clone()),
        MediaSource::Url(_) => return Err(url_unsupported()),
        _ => return Err(Error::unsupported("this kind of media source")),
    };
    Ok((name, data))
}

fn media_name(name: Option<&str>) -> String {
    name.unwrap_or("media").to_owned()
}

/// LinkedIn does not fetch media from a URL.
pub(crate) fn url_unsupported() -> Error {
    Error::unsupported(
        "LinkedIn does not fetch media from a URL: give the file or its bytes (cmis uploads them)",
    )
    .with_platform(Platform::LinkedIn)
}

#[derive(Debug, Deserialize)]
struct Initialized<T> {
    value: T,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SingleUpload {
    upload_url: String,
    #[serde(default)]
    image: Option<String>,
    #[serde(default)]
    document: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct VideoUpload {
    video: String,
    #[serde(default)]
    upload_instructions: Vec<Instruction>,
    #[serde(default)]
    upload_token: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Instruction {
    upload_url: String,
    first_byte: u64,
    last_byte: u64,
}

/// A media item's processing state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Status {
    Available,
    Working,
    Failed(String),
    /// The token may not read it (member tokens cannot read images or documents).
    Unreadable,
}

/// Where bytes for a video come from.
enum Source {
    File(ChunkedFile),
    Memory(Bytes),
}

impl Source {
    fn size(&self) -> u64 {
        match self {
            Self::File(f) => f.size(),
            Self::Memory(b) => u64::try_from(b.len()).unwrap_or(u64::MAX),
        }
    }

    async fn range(&mut self, first: u64, last: u64) -> Result<Bytes> {
        let len = last + 1 - first;
        match self {
            Self::File(f) => f.read_range(first, len).await,
            Self::Memory(b) => {
                let (s, e) = (usize::try_from(first), usize::try_from(last + 1));
                match (s, e) {
                    (Ok(s), Ok(e)) if e <= b.len() => Ok(b.slice(s..e)),
                    _ => Err(Error::invalid_input(format!(
                        "bytes {first}-{last} are outside the {} bytes given",
                        b.len()
                    ))),
                }
            }
        }
    }
}

impl LinkedInPublisher {
    /// Uploads an image or a document owned by `owner`; returns its URN.
    pub(crate) async fn upload_single(
        &self,
        kind: Kind,
        owner: &str,
        media: &Media,
        session: &TokenSession<'_>,
    ) -> Result<String> {
        let max = match kind {
            Kind::Document => MAX_DOCUMENT_BYTES,
            _ => 5_000_000,
        };
        let (_, data) = read_whole(media, max).await?;
        let body = json!({"initializeUploadRequest": {"owner": owner}});
        let path = format!("{}?action=initializeUpload", kind.collection());
        let init: Initialized<SingleUpload> = session
            .run(|token| {
                let body = &body;
                let path = path.clone();
                async move {
                    self.client
                        .rest(Method::POST, &path, &[], Some(body), &token, Call::Read)
                        .await
                }
            })
            .await?;
        let urn = match kind {
            Kind::Document => init.value.document,
            _ => init.value.image,
        }
        .ok_or_else(|| {
            Error::transient(format!(
                "LinkedIn answered the {} upload without a URN",
                kind.collection()
            ))
            .with_platform(Platform::LinkedIn)
        })?;
        let content_type = match kind {
            Kind::Document => "application/pdf",
            _ => "application/octet-stream",
        };
        session
            .run(|token| {
                let data = data.clone();
                let url = init.value.upload_url.clone();
                async move {
                    // One PUT for the whole file: several PUTs to this URL keep only the last.
                    self.client
                        .put_upload(&url, data, content_type, Some(&token))
                        .await
                }
            })
            .await?;
        Ok(urn)
    }

    /// Uploads a video owned by `owner` part by part and finalizes it; returns its URN. The
    /// file is read one part at a time.
    pub(crate) async fn upload_video(
        &self,
        owner: &str,
        media: &Media,
        index: usize,
        session: &TokenSession<'_>,
        ctx: &PublishContext,
    ) -> Result<String> {
        let mut source = match &media.source {
            MediaSource::Path(path) => Source::File(ChunkedFile::open(path).await?),
            MediaSource::Bytes { data, .. } => Source::Memory(data.clone()),
            MediaSource::Url(_) => return Err(url_unsupported()),
            _ => return Err(Error::unsupported("this kind of media source")),
        };
        let size = source.size();
        let body = json!({"initializeUploadRequest": {
            "owner": owner,
            "fileSizeBytes": size,
            "uploadCaptions": false,
            "uploadThumbnail": false,
        }});
        let init: Initialized<VideoUpload> = session
            .run(|token| {
                let body = &body;
                async move {
                    self.client
                        .rest(
                            Method::POST,
                            "videos?action=initializeUpload",
                            &[],
                            Some(body),
                            &token,
                            Call::Read,
                        )
                        .await
                }
            })
            .await?;
        let init = init.value;
        check_instructions(&init.upload_instructions, size)?;
        let mut etags = Vec::with_capacity(init.upload_instructions.len());
        for part in &init.upload_instructions {
            let data = source.range(part.first_byte, part.last_byte).await?;
            let etag = self.put_part(&part.upload_url, data).await?;
            etags.push(etag);
            ctx.report_progress(Progress::new(index, part.last_byte + 1, size));
        }
        let finalize = json!({"finalizeUploadRequest": {
            "video": init.video,
            "uploadToken": init.upload_token,
            "uploadedPartIds": etags,
        }});
        session
            .run(|token| {
                let body = &finalize;
                async move {
                    self.client
                        .rest::<serde_json::Value>(
                            Method::POST,
                            "videos?action=finalizeUpload",
                            &[],
                            Some(body),
                            &token,
                            Call::Read,
                        )
                        .await
                }
            })
            .await?;
        Ok(init.video)
    }

    /// `PUT`s one part (no `Authorization`: the URL carries it); returns its ETag.
    async fn put_part(&self, url: &str, data: Bytes) -> Result<String> {
        let mut attempt = 1;
        loop {
            match self
                .client
                .put_upload(url, data.clone(), "application/octet-stream", None)
                .await
            {
                Ok(Some(etag)) if !etag.is_empty() => return Ok(etag),
                Ok(_) => {
                    return Err(Error::transient(
                        "LinkedIn accepted a video part without an ETag; the video cannot be \
                         finalized",
                    )
                    .with_platform(Platform::LinkedIn));
                }
                Err(e) if e.kind() == ErrorKind::Transient && attempt < PART_ATTEMPTS => {
                    tracing::debug!(attempt, error = %e, "video part failed; sending it again");
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// `GET /rest/{images|videos|documents}/{urn}`: the item's state.
    pub(crate) async fn status(
        &self,
        kind: Kind,
        urn: &str,
        session: &TokenSession<'_>,
    ) -> Result<Status> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Read {
            #[serde(default)]
            status: String,
            #[serde(default)]
            processing_failure_reason: Option<String>,
        }
        let path = format!("{}/{}", kind.collection(), encode_urn(urn));
        let read = session
            .run(|token| {
                let path = path.clone();
                async move {
                    self.client
                        .rest::<Read>(Method::GET, &path, &[], None, &token, Call::Read)
                        .await
                }
            })
            .await;
        match read {
            Ok(r) => Ok(match r.status.as_str() {
                "AVAILABLE" => Status::Available,
                "PROCESSING_FAILED" | "FAILED" => Status::Failed(
                    r.processing_failure_reason
                        .unwrap_or_else(|| "no reason given".to_owned()),
                ),
                _ => Status::Working,
            }),
            Err(e) if e.kind() == ErrorKind::Permission => Ok(Status::Unreadable),
            Err(e) => Err(e),
        }
    }

    /// Polls `urn` until it is available, for at most `budget`: `Ok(true)` when available (or
    /// unreadable with this token), `Ok(false)` when still working, an error when it failed.
    pub(crate) async fn wait_available(
        &self,
        kind: Kind,
        urn: &str,
        budget: Duration,
        session: &TokenSession<'_>,
    ) -> Result<bool> {
        let policy = self.media_poll();
        let mut waited = Duration::ZERO;
        let mut round = 0;
        loop {
            match self.status(kind, urn, session).await? {
                Status::Available | Status::Unreadable => return Ok(true),
                Status::Failed(reason) => {
                    return Err(Error::rejected(format!(
                        "LinkedIn could not process {urn}: {reason}"
                    ))
                    .with_platform(Platform::LinkedIn)
                    .with_platform_code("PROCESSING_FAILED"));
                }
                Status::Working => {}
            }
            let delay = policy.delay(round).max(MIN_POLL);
            if waited + delay > budget {
                return Ok(false);
            }
            tokio::time::sleep(delay).await;
            waited += delay;
            round += 1;
        }
    }
}

/// The instructions must cover the file exactly, in order, without gaps or overlaps.
fn check_instructions(parts: &[Instruction], size: u64) -> Result<()> {
    let mut next = 0;
    for part in parts {
        if part.first_byte != next || part.last_byte < part.first_byte || part.last_byte >= size {
            return Err(Error::transient(format!(
                "LinkedIn's upload instructions do not cover the {size}-byte video in order \
                 (a part runs {}-{}, expected to start at {next})",
                part.first_byte, part.last_byte
            ))
            .with_platform(Platform::LinkedIn));
        }
        next = part.last_byte + 1;
    }
    if next != size {
        return Err(Error::transient(format!(
            "LinkedIn's upload instructions cover {next} of the video's {size} bytes"
        ))
        .with_platform(Platform::LinkedIn));
    }
    Ok(())
}
