//! The resumable upload protocol (`docs/youtube-api.md` §3): start a session, send chunks,
//! probe the session after any failure, and continue from the server's offset in the same
//! session.

use std::time::Duration;

use bytes::Bytes;
use cmis_core::{
    Error, ErrorKind, ExposeSecret, Platform, Progress, PublishContext, Result, SecretString,
    TokenSession,
};
use cmis_http::reqwest::{self, header};
use cmis_http::{Call, MAX_API_RESPONSE_BYTES};
use cmis_media::ChunkedFile;
use url::Url;

use crate::checkpoint::UploadSession;
use crate::error::classify;
use crate::metadata::VideoMeta;
use crate::publisher::YouTubePublisher;
use crate::status::VideoResource;

/// Where chunk bytes come from: a file read one range at a time, or bytes in memory.
#[derive(Debug)]
pub(crate) enum Source {
    File(ChunkedFile),
    Memory(Bytes),
    /// The bytes are gone (a restart of an in-memory upload, a deleted or changed file): a
    /// session can still be probed, and its video found, but not continued.
    Missing {
        total: u64,
        why: String,
    },
}

impl Source {
    pub(crate) fn size(&self) -> u64 {
        match self {
            Self::File(f) => f.size(),
            Self::Memory(b) => u64::try_from(b.len()).unwrap_or(u64::MAX),
            Self::Missing { total, .. } => *total,
        }
    }

    async fn read(&mut self, offset: u64, len: u64) -> Result<Bytes> {
        match self {
            Self::File(f) => f.read_range(offset, len).await,
            Self::Memory(b) => {
                let start = usize::try_from(offset).ok();
                let end = offset
                    .checked_add(len)
                    .and_then(|e| usize::try_from(e).ok());
                match (start, end) {
                    (Some(s), Some(e)) if s <= e && e <= b.len() => Ok(b.slice(s..e)),
                    _ => Err(Error::internal(format!(
                        "bytes {offset}+{len} are outside the {} bytes in memory",
                        b.len()
                    ))),
                }
            }
            // Read only after the session said it lacks these bytes: without them it never
            // completes, so nothing of it can appear, and publishing again is safe.
            Self::Missing { why, .. } => Err(Error::transient(format!(
                "the upload cannot be continued: {why}; the session is abandoned (it holds no \
                 video) and the next attempt starts a new one"
            ))
            .with_platform(Platform::YouTube)
            .discarding_checkpoint()),
        }
    }
}

/// What a chunk or a probe was answered.
#[derive(Debug)]
pub(crate) enum Answer {
    /// `308`: the server holds bytes `0..next`.
    Incomplete(u64),
    /// `200`/`201` with the video: the upload is complete and the video exists.
    Done(Box<VideoResource>),
    /// `404`/`410`: the session has expired.
    Gone,
}

/// How an upload ended.
#[derive(Debug)]
pub(crate) enum UploadEnd {
    /// The video exists.
    Video(Box<VideoResource>),
    /// The session expired. `last_byte_maybe_sent`: a request carrying the last byte went out
    /// and its answer was lost (or it is unknown, after a restart), so the session may have
    /// completed before it expired.
    Gone { last_byte_maybe_sent: bool },
}

/// A chunk on a slow uplink outlasts a normal timeout: two minutes plus a second per 256 KiB.
fn chunk_timeout(len: u64) -> Duration {
    Duration::from_secs(120 + len / 262_144)
}

/// The next offset from a 308's `Range: bytes=0-N` (N + 1); no `Range` means nothing is
/// stored yet (0). A range the server could not hold is `None`.
pub(crate) fn next_offset(headers: &header::HeaderMap, total: u64) -> Option<u64> {
    let Some(value) = headers.get(header::RANGE) else {
        return Some(0);
    };
    let value = value.to_str().ok()?.trim();
    let span = value.strip_prefix("bytes=")?;
    let (first, last) = span.split_once('-')?;
    if first.trim() != "0" {
        return None;
    }
    let next = last.trim().parse::<u64>().ok()?.checked_add(1)?;
    (next <= total).then_some(next)
}

impl YouTubePublisher {
    /// Whether the bearer token may go to `uri`: only to the API's own origin. The session URI
    /// is itself the upload capability; a token never goes to a host Google's answer named.
    fn sends_token_to(&self, uri: &Url) -> bool {
        let api = self.client.api_url();
        uri.scheme() == api.scheme()
            && uri.host_str() == api.host_str()
            && uri.port_or_known_default() == api.port_or_known_default()
    }

    fn session_url(&self, session_uri: &str) -> Result<Url> {
        let base = self.client.api_url();
        base.join(session_uri).map_err(|e| {
            Error::internal(format!("the upload session URI cannot be read: {e}"))
                .with_platform(Platform::YouTube)
        })
    }

    /// Step 1: starts a resumable session for `size` bytes of `mime` with `meta`, and returns
    /// its URI (`Location`). A session holds nothing until its last byte arrives, so any
    /// failure here is retryable ([`Transient`](ErrorKind::Transient) for a 5xx or a lost
    /// answer).
    pub(crate) async fn start_session(
        &self,
        tokens: &TokenSession<'_>,
        meta: &VideoMeta,
        size: u64,
        mime: &str,
    ) -> Result<String> {
        let body = serde_json::to_vec(&meta.resource())
            .map_err(|e| Error::internal(format!("the video resource cannot be encoded: {e}")))?;
        let mut query = vec![("uploadType", "resumable"), ("part", "snippet,status")];
        if meta.notify_subscribers == Some(false) {
            query.push(("notifySubscribers", "false"));
        }
        let what = "videos.insert (resumable session)";
        let url = self.client.url("/upload/youtube/v3/videos");
        let now = self.clock.now();
        tokens
            .run(|token| {
                let request = self
                    .client
                    .http()
                    .post(&url)
                    .query(&query)
                    .bearer_auth(token.expose_secret())
                    .header(header::CONTENT_TYPE, "application/json; charset=UTF-8")
                    .header("X-Upload-Content-Length", size.to_string())
                    .header("X-Upload-Content-Type", mime)
                    .body(body.clone());
                async move {
                    // Starting a session creates nothing: a lost answer is retryable.
                    let response = cmis_http::send(request, Call::Read).await?;
                    let status = response.status().as_u16();
                    let location = response
                        .headers()
                        .get(header::LOCATION)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    let retry_after = cmis_http::retry_after(response.headers());
                    let body =
                        cmis_http::read_answer(response, Call::Read, what, MAX_API_RESPONSE_BYTES)
                            .await?;
                    if !(200..300).contains(&status) {
                        return Err(classify(status, &body, retry_after, Call::Read, what, now));
                    }
                    location.filter(|l| !l.is_empty()).ok_or_else(|| {
                        Error::transient("YouTube started an upload session without a Location")
                            .with_platform(Platform::YouTube)
                    })
                }
            })
            .await
    }

    /// Sends one PUT to the session: `bytes` at `offset`, or a probe when `bytes` is `None`.
    async fn put(
        &self,
        tokens: &TokenSession<'_>,
        up: &UploadSession,
        offset: u64,
        bytes: Option<Bytes>,
    ) -> Result<Answer> {
        let url = self.session_url(&up.session_uri)?;
        let with_token = self.sends_token_to(&url);
        let total = up.total_size;
        let what = if bytes.is_some() {
            "an upload chunk"
        } else {
            "an upload session probe"
        };
        let now = self.clock.now();
        let send = |token: Option<SecretString>| {
            let mut request = self.client.http().put(url.clone());
            if let Some(token) = &token {
                request = request.bearer_auth(token.expose_secret());
            }
            request = match &bytes {
                Some(bytes) => {
                    let len = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
                    let last = offset.saturating_add(len).saturating_sub(1);
                    request
                        .header(header::CONTENT_TYPE, &up.content_type)
                        .header(
                            header::CONTENT_RANGE,
                            format!("bytes {offset}-{last}/{total}"),
                        )
                        .header(header::CONTENT_LENGTH, len)
                        .timeout(chunk_timeout(len))
                        .body(bytes.clone())
                }
                None => request
                    .header(header::CONTENT_RANGE, format!("bytes */{total}"))
                    .header(header::CONTENT_LENGTH, 0)
                    .body(Vec::new()),
            };
            async move {
                // Re-sending a range, or probing, is idempotent: a read.
                let response = cmis_http::send(request, Call::Read).await?;
                read_session_answer(response, total, what, now).await
            }
        };
        if with_token {
            tokens.run(|token| send(Some(token))).await
        } else {
            send(None).await
        }
    }

    /// Step 3: asks the session what it holds (`Content-Range: bytes */N`).
    pub(crate) async fn probe(
        &self,
        tokens: &TokenSession<'_>,
        up: &UploadSession,
    ) -> Result<Answer> {
        self.put(tokens, up, 0, None).await
    }

    /// After failure number `attempt` (1-based): waits and returns `Ok` when the policy allows
    /// another attempt; else the error to return. A retryable failure out of attempts becomes
    /// [`Transient`](ErrorKind::Transient): the checkpoint stays, and `resume` probes the same
    /// session.
    async fn after_failure(&self, attempt: &mut u32, err: Error) -> Result<()> {
        if !err.is_retryable() {
            return Err(err);
        }
        match self.retry.delay_after(*attempt, &err) {
            Some(delay) => {
                tracing::debug!(attempt = *attempt, kind = %err.kind(), "upload failed; probing the session");
                tokio::time::sleep(delay).await;
                *attempt += 1;
                Ok(())
            }
            None if err.kind() == ErrorKind::RateLimited => Err(err),
            None => Err(Error::transient(format!(
                "the YouTube upload was interrupted ({err}); its session is kept, and resuming \
                 continues it from the bytes YouTube holds"
            ))
            .with_platform(Platform::YouTube)
            .with_source(err)),
        }
    }

    /// Steps 2 and 3: sends the chunks from `offset` (or from what a probe reports, when
    /// `None`), probing the session after every failure and continuing from the server's
    /// offset, until YouTube answers with the video or the session is gone.
    pub(crate) async fn send_chunks(
        &self,
        tokens: &TokenSession<'_>,
        up: &UploadSession,
        source: &mut Source,
        mut offset: Option<u64>,
        ctx: &PublishContext,
    ) -> Result<UploadEnd> {
        let total = up.total_size;
        if source.size() != total {
            return Err(Error::invalid_input(format!(
                "the video is {} bytes, but its upload session was started for {total}: it changed",
                source.size()
            )));
        }
        // Unknown after a restart: the last byte may have gone out before the crash.
        let mut last_byte_maybe_sent = offset.is_none();
        let mut attempt = 1;
        loop {
            let at = match offset {
                Some(at) => at,
                None => match self.probe(tokens, up).await {
                    Ok(Answer::Incomplete(at)) => {
                        tracing::debug!(at, total, "the session holds bytes up to here");
                        ctx.report_progress(Progress::new(up.media_index, at, total));
                        at
                    }
                    Ok(Answer::Done(video)) => return Ok(UploadEnd::Video(video)),
                    Ok(Answer::Gone) => {
                        return Ok(UploadEnd::Gone {
                            last_byte_maybe_sent,
                        });
                    }
                    Err(err) => {
                        self.after_failure(&mut attempt, err).await?;
                        continue;
                    }
                },
            };
            if at >= total {
                // Every byte held, but no video: ask again.
                offset = None;
                let err = Error::transient(
                    "YouTube holds every byte but has not answered with the video",
                )
                .with_platform(Platform::YouTube);
                self.after_failure(&mut attempt, err).await?;
                continue;
            }
            let len = self.chunk_size.min(total - at);
            let bytes = source.read(at, len).await?;
            let is_last = at + len == total;
            match self.put(tokens, up, at, Some(bytes)).await {
                Ok(Answer::Incomplete(next)) => {
                    ctx.report_progress(Progress::new(up.media_index, next, total));
                    if next > at {
                        attempt = 1;
                    } else {
                        // Nothing of the chunk was kept: a failure, so a server that never
                        // keeps anything ends the loop when the attempts run out.
                        let err = Error::transient(format!(
                            "YouTube kept none of the bytes from {at} on; sending them again"
                        ))
                        .with_platform(Platform::YouTube);
                        self.after_failure(&mut attempt, err).await?;
                    }
                    offset = Some(next);
                }
                Ok(Answer::Done(video)) => {
                    ctx.report_progress(Progress::new(up.media_index, total, total));
                    return Ok(UploadEnd::Video(video));
                }
                Ok(Answer::Gone) => {
                    return Ok(UploadEnd::Gone {
                        last_byte_maybe_sent,
                    });
                }
                Err(err) => {
                    if is_last {
                        last_byte_maybe_sent = true;
                    }
                    self.after_failure(&mut attempt, err).await?;
                    offset = None;
                }
            }
        }
    }
}

/// Reads a session's answer to a chunk or a probe.
async fn read_session_answer(
    response: reqwest::Response,
    total: u64,
    what: &str,
    now: time::OffsetDateTime,
) -> Result<Answer> {
    let status = response.status().as_u16();
    match status {
        308 => {
            let next = next_offset(response.headers(), total).ok_or_else(|| {
                Error::internal("YouTube answered an upload with a Range it cannot hold")
                    .with_platform(Platform::YouTube)
            })?;
            Ok(Answer::Incomplete(next))
        }
        404 | 410 => Ok(Answer::Gone),
        200 | 201 => {
            let body =
                cmis_http::read_answer(response, Call::Mutation, what, MAX_API_RESPONSE_BYTES)
                    .await?;
            let video: VideoResource = serde_json::from_slice(&body).map_err(|e| {
                // The video exists, but its id is unreadable: a probe gets the same answer.
                Error::unknown_outcome(format!(
                    "YouTube completed the upload with an answer cmis cannot read: {e}"
                ))
                .with_platform(Platform::YouTube)
            })?;
            if video.id.is_empty() || !(video.kind.is_empty() || video.kind == "youtube#video") {
                return Err(Error::unknown_outcome(format!(
                    "YouTube completed the upload with a {:?} answer and no video id",
                    video.kind
                ))
                .with_platform(Platform::YouTube));
            }
            Ok(Answer::Done(Box::new(video)))
        }
        _ => {
            let retry_after = cmis_http::retry_after(response.headers());
            let body =
                cmis_http::read_answer(response, Call::Read, what, MAX_API_RESPONSE_BYTES).await?;
            Err(classify(status, &body, retry_after, Call::Read, what, now))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(v: Option<&'static str>) -> header::HeaderMap {
        let mut h = header::HeaderMap::new();
        if let Some(v) = v {
            h.insert(header::RANGE, header::HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn a_308_range_names_the_last_byte_held() {
        assert_eq!(
            next_offset(&range(Some("bytes=0-524287")), 1_000_000),
            Some(524_288)
        );
        assert_eq!(next_offset(&range(None), 1_000_000), Some(0));
        assert_eq!(
            next_offset(&range(Some("bytes=0-999999")), 1_000_000),
            Some(1_000_000)
        );
        assert_eq!(
            next_offset(&range(Some("bytes=0-1000000")), 1_000_000),
            None
        );
        assert_eq!(next_offset(&range(Some("bytes=5-9")), 1_000_000), None);
        assert_eq!(next_offset(&range(Some("garbage")), 1_000_000), None);
    }
}
