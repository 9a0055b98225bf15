//! [`YouTubePublisher`] itself: its client and settings. What it does is in `publish`
//! (the `Publisher` implementation), `upload` (the resumable protocol) and `status`
//! (processing and the uploads listing).

use std::sync::Arc;
use std::time::Duration;

use cmis_core::{Clock, Error, PollPolicy, Result, RetryPolicy, SystemClock};

use crate::YouTubeClient;

/// Upload chunks must be multiples of 256 KiB (except the last).
pub const CHUNK_GRANULARITY: u64 = 262_144;

/// The default chunk: 8 MiB (32 × 256 KiB), as Postiz and post-for-me use.
pub const DEFAULT_CHUNK_SIZE: u64 = 8 * 1024 * 1024;

/// How processing is polled by default: 5 s, doubling to 30 s, for 2 minutes per call.
const DEFAULT_POLL: PollPolicy = PollPolicy::new(
    Duration::from_secs(5),
    Duration::from_secs(30),
    Duration::from_secs(120),
);

/// Publishes videos to a YouTube channel through the Data API v3 (surfaces
/// [`Feed`](cmis_core::Surface::Feed), a video, and [`Reel`](cmis_core::Surface::Reel), a
/// Short: YouTube has no Shorts flag, so the reel surface checks that the video is vertical or
/// square and at most 3 minutes, which makes YouTube classify it as one).
///
/// - **Metadata first.** The title is [`YouTubeOptions::title`](cmis_core::YouTubeOptions) or
///   the text's first line (≤ 100 characters), the rest of the text is the description
///   (≤ 5 000 UTF-8 bytes); neither may hold `<` or `>`; tags ≤ 500 characters;
///   `publish_at` only with privacy `private`, in the future. All checked before any call.
/// - **Resumable upload that never doubles.** The session URI is checkpointed (stage
///   `upload_session`) before the first byte; chunks (8 MiB by default, multiples of 256 KiB)
///   are read from disk one at a time. After any failed chunk the session is probed
///   (`Content-Range: bytes */N`) and the upload continues from the server's offset in the
///   same session; a completed session answers with its video, so nothing is uploaded twice.
///   A session that expired (404/410) after its last byte may have gone out is settled by the
///   channel's uploads listing before a new session may start.
/// - **Thumbnail, best effort.** A second medium, an image, is set as the custom thumbnail once
///   the video exists. A refusal (an unverified channel: 403 `youtube.thumbnail`), a rate limit
///   or an outage is logged and never fails the publish: the video is already there.
/// - **Processing.** The video is polled (`videos.list`, 1 unit) until processed; a failed or
///   rejected video is [`Rejected`](cmis_core::ErrorKind::Rejected) with YouTube's reason;
///   still processing when the poll budget runs out is `Outcome::Pending`.
/// - **Unaudited projects.** Google locks every upload of a project that has not passed the
///   YouTube API audit to private. The API has no flag for it: when a video asked to be public
///   or unlisted comes back private without `publishAt`, a warning is logged
///   (`tracing::warn`); the publish still succeeds, since the video exists.
///
/// ```no_run
/// # mod cmis { pub use cmis_core::*; pub mod youtube { pub use cmis_youtube::*; } }
/// # async fn demo() -> cmis::Result<()> {
/// use cmis::youtube::{YouTubeClient, YouTubePublisher};
/// use cmis::{Media, Platform, Post, PublishContext, Publisher, SecretString, Target, TenantId};
///
/// let publisher = YouTubePublisher::new(YouTubeClient::builder().build()?);
/// let target = Target::feed(TenantId::new("acme").account(Platform::YouTube, "UCxxxxxxxx"));
/// let ctx = PublishContext::with_token(SecretString::from("ya29...."));
/// let post = Post::new()
///     .with_text("Launch day\nEverything we shipped this year.")
///     .with_media(Media::path("launch.mp4"));
/// let outcome = publisher.publish(&target, &post, &ctx).await?;
/// # let _ = outcome; Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct YouTubePublisher {
    pub(crate) client: YouTubeClient,
    pub(crate) chunk_size: u64,
    pub(crate) retry: RetryPolicy,
    pub(crate) poll: PollPolicy,
    pub(crate) clock: Arc<dyn Clock>,
}

impl YouTubePublisher {
    /// A publisher calling `client`.
    pub fn new(client: YouTubeClient) -> Self {
        Self {
            client,
            chunk_size: DEFAULT_CHUNK_SIZE,
            retry: RetryPolicy::default()
                .with_max_attempts(5)
                .with_base(Duration::from_secs(1))
                .with_cap(Duration::from_secs(60)),
            poll: DEFAULT_POLL,
            clock: Arc::new(SystemClock),
        }
    }

    /// Sets the upload chunk size: a positive multiple of 262 144 bytes (256 KiB), or
    /// [`InvalidInput`](cmis_core::ErrorKind::InvalidInput). Memory holds about one chunk.
    pub fn with_chunk_size(mut self, bytes: u64) -> Result<Self> {
        if bytes == 0 || !bytes.is_multiple_of(CHUNK_GRANULARITY) {
            return Err(Error::invalid_input(format!(
                "a YouTube upload chunk must be a positive multiple of {CHUNK_GRANULARITY} bytes \
                 (256 KiB); {bytes} is not"
            )));
        }
        self.chunk_size = bytes;
        Ok(self)
    }

    /// How failed chunks are retried within one call: each failure is followed, after the
    /// policy's backoff, by a probe of the session; the count restarts when the upload moves
    /// on. Out of attempts, the publish fails as
    /// [`Transient`](cmis_core::ErrorKind::Transient) and keeps its checkpoint, from which
    /// `resume` probes the same session. Default: 5 attempts, backoff from 1 s up to 60 s.
    #[must_use]
    pub fn with_upload_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// How processing is polled (default: 5 s, doubling to 30 s, for 2 minutes per call; then
    /// the publish is pending and resumes by polling again).
    #[must_use]
    pub fn with_poll(mut self, poll: PollPolicy) -> Self {
        self.poll = poll;
        self
    }

    /// The clock that decides whether `publish_at` is in the future, when a daily quota resets
    /// and when an upload started (the system clock by default).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The client.
    pub fn client(&self) -> &YouTubeClient {
        &self.client
    }

    /// The upload chunk size.
    pub fn chunk_size(&self) -> u64 {
        self.chunk_size
    }
}
