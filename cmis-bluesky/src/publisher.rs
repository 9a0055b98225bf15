//! [`BlueskyPublisher`] itself: its client and settings. What it does is in `publish`
//! (records), `embed` (replies, quotes, cards) and `video`; they all build on this module, so
//! none of them depends on another's definitions in a cycle.

use std::time::Duration;

use cmis_core::PollPolicy;

use crate::BlueskyClient;

/// The post collection.
pub const POST_COLLECTION: &str = "app.bsky.feed.post";

/// How videos are polled by default: 1 s, growing to 5 s, for 2 minutes per call.
const DEFAULT_VIDEO_POLL: PollPolicy = PollPolicy::new(
    Duration::from_secs(1),
    Duration::from_secs(5),
    Duration::from_secs(120),
);

/// Publishes posts to Bluesky: text with links, mentions and hashtags as facets, up to four
/// images with their alt text and aspect ratio, a link card from the post's
/// [`link`](cmis_core::Post::link), and replies and quotes
/// ([`BlueskyOptions`](cmis_core::BlueskyOptions)), whose strong references are read before the
/// record is checkpointed.
///
/// A video (one MP4, alone) goes through Bluesky's video service: uploaded with a service
/// token, its job checkpointed and polled until it holds a blob
/// ([`with_video_poll`](Self::with_video_poll)), then written as `app.bsky.embed.video`.
///
/// ```no_run
/// # mod cmis { pub use cmis_core::*; pub mod bluesky { pub use cmis_bluesky::*; } }
/// # async fn demo() -> cmis::Result<()> {
/// use cmis::bluesky::{BlueskyClient, BlueskyPublisher};
/// use cmis::{Platform, Post, PublishContext, Publisher, SecretString, Target, TenantId};
///
/// let client = BlueskyClient::builder().build()?;
/// // Sign in once with an app password; store the session and refresh it from then on.
/// let session = client
///     .create_session("alice.bsky.social", &SecretString::from("xxxx-xxxx-xxxx-xxxx"))
///     .await?;
/// let publisher = BlueskyPublisher::new(client);
/// let target = Target::feed(TenantId::new("acme").account(Platform::Bluesky, session.did.clone()));
/// let ctx = PublishContext::with_token(session.access_jwt.clone());
/// let post = Post::new().with_text("Doors open at 9 https://example.com #launch");
/// let outcome = publisher.publish(&target, &post, &ctx).await?;
/// println!("{:?}", outcome.receipt().map(|r| &r.post_id));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct BlueskyPublisher {
    pub(crate) client: BlueskyClient,
    video_poll: PollPolicy,
}

impl BlueskyPublisher {
    /// A publisher calling `client`'s PDS.
    pub fn new(client: BlueskyClient) -> Self {
        Self {
            client,
            video_poll: DEFAULT_VIDEO_POLL,
        }
    }

    /// How a video's processing job is polled (default: 1 s, growing to 5 s, for 2 minutes per
    /// call; then the publish is pending and resumes from the job).
    #[must_use]
    pub fn with_video_poll(mut self, poll: PollPolicy) -> Self {
        self.video_poll = poll;
        self
    }

    pub(crate) fn video_poll(&self) -> PollPolicy {
        self.video_poll
    }

    /// The client.
    pub fn client(&self) -> &BlueskyClient {
        &self.client
    }
}
