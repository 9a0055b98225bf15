//! `FILE_UPLOAD`: sequential chunk `PUT`s to the upload URL with exact `Content-Range`.

use bytes::Bytes;
use cmis_core::{Clock, Error, ErrorKind, Platform, Result, RetryPolicy};
use cmis_http::Call;
use cmis_http::reqwest::{self, header};
use cmis_media::{Chunk, ChunkPlan, ChunkedFile, Format};

use crate::checkpoint::UploadSession;

/// Where chunk bytes come from. A file is read one chunk at a time.
#[derive(Debug)]
pub(crate) enum ChunkSource {
    File(ChunkedFile),
    Memory(Bytes),
}

impl ChunkSource {
    pub(crate) fn size(&self) -> u64 {
        match self {
            Self::File(f) => f.size(),
            Self::Memory(b) => u64::try_from(b.len()).unwrap_or(u64::MAX),
        }
    }

    async fn read(&mut self, chunk: &Chunk) -> Result<Bytes> {
        match self {
            Self::File(f) => f.read_chunk(chunk).await,
            Self::Memory(b) => {
                let start = usize::try_from(chunk.offset).ok();
                let end = usize::try_from(chunk.offset + chunk.len).ok();
                match (start, end) {
                    (Some(s), Some(e)) if e <= b.len() => Ok(b.slice(s..e)),
                    _ => Err(Error::internal(format!(
                        "chunk {} is outside the {} bytes in memory",
                        chunk.content_range(),
                        b.len()
                    ))),
                }
            }
        }
    }
}

/// The upload `Content-Type` TikTok accepts (MP4, QuickTime or WebM): the format sniffed from
/// the video's first bytes (`cmis_media::sniff_file`), or, when the bytes say nothing known, a
/// declared MIME type of those three. Anything else (an image, Matroska) is `None`.
pub(crate) fn video_content_type(
    sniffed: Option<Format>,
    declared: Option<&str>,
) -> Option<&'static str> {
    let accepted =
        |f: Format| matches!(f, Format::Mp4 | Format::Mov | Format::Webm).then(|| f.mime());
    match sniffed {
        Some(format) => accepted(format),
        None => declared.and_then(Format::from_mime).and_then(accepted),
    }
}

/// What one step of the upload achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// More chunks to send; `session.next_offset` moved (or was corrected by the server).
    Continue,
    /// TikTok has every byte.
    Done,
}

/// The error for an upload URL past its one-hour life. TikTok offers no way to renew it, and a
/// new init would create a second publish, so this is reported instead of worked around.
pub(crate) fn upload_expired(publish_id: &str) -> Error {
    Error::unsupported(format!(
        "the upload URL of TikTok publish {publish_id} has expired (TikTok allows one hour) before \
         the file was fully uploaded; TikTok cannot continue it. Cancel it and publish again, \
         which creates a new publish"
    ))
    .with_platform(Platform::TikTok)
}

/// Parses the server's `Content-Range: bytes 0-{LAST}/{TOTAL}` into the next offset to send.
pub(crate) fn next_offset_from(headers: &header::HeaderMap, total: u64) -> Option<u64> {
    let value = headers.get(header::CONTENT_RANGE)?.to_str().ok()?;
    let range = value.trim().strip_prefix("bytes ")?;
    let (span, size) = range.split_once('/')?;
    if size.trim() != "*" && size.trim().parse::<u64>().ok()? != total {
        return None;
    }
    let (_, last) = span.split_once('-')?;
    // HTTP ranges name the last byte received, inclusive.
    last.trim().parse::<u64>().ok()?.checked_add(1)
}

/// A chunk of up to 128 MB on a slow uplink outlasts a normal request timeout: allow two
/// minutes plus one second per 256 KiB.
fn chunk_timeout(len: u64) -> std::time::Duration {
    std::time::Duration::from_secs(120 + len / (256 * 1024))
}

/// Sends the chunk holding `session.next_offset`, retrying that chunk (and only it) on a 5xx or a
/// transport failure, as TikTok's guide says.
pub(crate) async fn put_next_chunk(
    http: &reqwest::Client,
    retry: &RetryPolicy,
    clock: &dyn Clock,
    session: &mut UploadSession,
    source: &mut ChunkSource,
    publish_id: &str,
) -> Result<Step> {
    let plan = ChunkPlan::with_chunk_size(session.total_size, session.chunk_size)?;
    if plan.chunk_count() != session.chunk_count {
        return Err(Error::internal(format!(
            "the upload plan of publish {publish_id} changed: {plan}"
        )));
    }
    let Some(chunk) = plan.chunk_at(session.next_offset) else {
        return Ok(Step::Done);
    };
    let bytes = source.read(&chunk).await?;
    let mut attempt = 1;
    loop {
        if clock.now() >= session.expires_at {
            return Err(upload_expired(publish_id));
        }
        let request = http
            .put(&session.upload_url)
            .header(header::CONTENT_TYPE, &session.content_type)
            .header(header::CONTENT_RANGE, chunk.content_range())
            .header(header::CONTENT_LENGTH, chunk.len)
            .timeout(chunk_timeout(chunk.len))
            .body(bytes.clone());
        let err = match cmis_http::send(request, Call::Read).await {
            Ok(response) => {
                let status = response.status().as_u16();
                let is_last = chunk.index + 1 == plan.chunk_count();
                match status {
                    201 => {
                        session.next_offset = session.total_size;
                        return Ok(Step::Done);
                    }
                    200 | 204 | 206 => {
                        session.next_offset = chunk.offset + chunk.len;
                        return Ok(if is_last && status != 206 {
                            Step::Done
                        } else {
                            Step::Continue
                        });
                    }
                    416 => {
                        let Some(next) = next_offset_from(response.headers(), session.total_size)
                        else {
                            return Err(Error::internal(format!(
                                "TikTok refused chunk {} of publish {publish_id} as out of order \
                                 (416) without a readable Content-Range",
                                chunk.content_range()
                            ))
                            .with_platform(Platform::TikTok));
                        };
                        tracing::info!(
                            publish_id,
                            next,
                            "TikTok reported its upload progress; resuming there"
                        );
                        session.next_offset = next.min(session.total_size);
                        return Ok(if next >= session.total_size {
                            Step::Done
                        } else {
                            Step::Continue
                        });
                    }
                    403 => return Err(upload_expired(publish_id)),
                    404 => {
                        return Err(Error::unsupported(format!(
                            "TikTok has no upload task for publish {publish_id} (404): it expired \
                             or was cancelled; publish again"
                        ))
                        .with_platform(Platform::TikTok));
                    }
                    429 => Error::rate_limited(format!(
                        "TikTok throttled the upload of publish {publish_id}"
                    ))
                    .with_platform(Platform::TikTok),
                    s if s >= 500 => Error::transient(format!(
                        "TikTok answered HTTP {s} to chunk {} of publish {publish_id}",
                        chunk.content_range()
                    ))
                    .with_platform(Platform::TikTok),
                    s => {
                        return Err(Error::internal(format!(
                            "TikTok refused chunk {} of publish {publish_id} with HTTP {s} (bad \
                             headers or a length mismatch: did the file change?)",
                            chunk.content_range()
                        ))
                        .with_platform(Platform::TikTok));
                    }
                }
            }
            Err(e) => e,
        };
        match retry.delay_after(attempt, &err) {
            Some(delay) => {
                tracing::debug!(
                    publish_id,
                    attempt,
                    chunk = chunk.index,
                    "retrying the same chunk"
                );
                tokio::time::sleep(delay).await;
                attempt += 1;
            }
            None => {
                let kind = if err.kind() == ErrorKind::UnknownOutcome {
                    ErrorKind::Transient
                } else {
                    err.kind()
                };
                return Err(err.with_kind(kind));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_come_from_the_bytes() {
        let sniff = |head: &[u8]| Format::sniff(head);
        let mp4 = sniff(b"\0\0\0\x18ftypisom\0\0\0\0");
        let mov = sniff(b"\0\0\0\x14ftypqt  \0\0\0\0");
        let webm = sniff(b"\x1a\x45\xdf\xa3\x9f\x42\x82\x84webm");
        let mkv = sniff(b"\x1a\x45\xdf\xa3\x9f\x42\x82\x88matroska");
        let heic = sniff(b"\0\0\0\x18ftypheic\0\0\0\0");
        assert_eq!(video_content_type(mp4, None), Some("video/mp4"));
        assert_eq!(video_content_type(mov, None), Some("video/quicktime"));
        assert_eq!(video_content_type(webm, None), Some("video/webm"));
        // What TikTok does not take, whatever the caller declared.
        assert_eq!(video_content_type(mkv, Some("video/webm")), None);
        assert_eq!(video_content_type(heic, Some("video/mp4")), None);
        // The bytes win over a declared type; a declared type serves only unknown bytes.
        assert_eq!(
            video_content_type(mov, Some("video/mp4")),
            Some("video/quicktime")
        );
        assert_eq!(video_content_type(sniff(b"hello"), None), None);
        assert_eq!(
            video_content_type(None, Some("video/webm")),
            Some("video/webm")
        );
        assert_eq!(video_content_type(None, Some("image/png")), None);
    }

    #[test]
    fn server_ranges_name_the_last_byte() {
        let mut h = header::HeaderMap::new();
        h.insert(
            header::CONTENT_RANGE,
            header::HeaderValue::from_static("bytes 0-9999999/50000123"),
        );
        assert_eq!(next_offset_from(&h, 50_000_123), Some(10_000_000));
        assert_eq!(next_offset_from(&h, 7), None);
    }
}
