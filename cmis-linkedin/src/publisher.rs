//! [`LinkedInPublisher`] itself: its client and settings. What it does is in `publish` (the
//! post), `media` (uploads) and `validate`; they all build on this module.

use std::time::Duration;

use cmis_core::PollPolicy;

use crate::LinkedInClient;

/// How media are polled by default: 1 s, growing to 10 s.
const DEFAULT_MEDIA_POLL: PollPolicy = PollPolicy::new(
    Duration::from_secs(1),
    Duration::from_secs(10),
    Duration::from_secs(120),
);

/// How long after a create was first sent re-sending it is safe by default: 5 minutes.
///
/// LinkedIn has no idempotency key; it refuses the same text from the same author for about
/// ten minutes with `DUPLICATE_POST` naming the first post (ugc-post-api: "Wait 10 minutes for
/// the duplicate restriction to expire"). Within this window a create whose answer was lost is
/// sent again, and the refusal says where the first one is; after it, cmis looks the post up
/// instead (organizations), or reports that it cannot tell (members, whose posts only approved
/// apps may list).
pub const DEFAULT_DUPLICATE_WINDOW: Duration = Duration::from_secs(5 * 60);

/// Publishes posts to LinkedIn members and organization pages through the Posts API.
///
/// - **Text** is escaped as little text ([`little_text::escape`](crate::little_text::escape)):
///   mentions written `@[Name](urn:li:organization:…)` and `#hashtags` stay live, every other
///   reserved character is escaped, so LinkedIn never cuts the post short. The 3 000 limit is
///   counted on the escaped text.
/// - **Media**: one image, 2–20 images (`multiImage`), one video (uploaded in the parts LinkedIn
///   names, finalized with their ETags, polled until available), or one document (PDF, PPT(X),
///   DOC(X)). A post's [`link`](cmis_core::Post::link) becomes an article card, its thumbnail
///   the post's one image (LinkedIn scrapes nothing).
/// - **Never two posts.** The post is checkpointed with the time it is first sent. A create
///   whose answer was lost is re-sent only within [`DEFAULT_DUPLICATE_WINDOW`], where LinkedIn
///   answers `DUPLICATE_POST` naming the first post, which is then checked and reported; later,
///   an organization's posts are listed instead.
///
/// ```no_run
/// # mod cmis { pub use cmis_core::*; pub mod linkedin { pub use cmis_linkedin::*; } }
/// # async fn demo() -> cmis::Result<()> {
/// use cmis::linkedin::{LinkedInClient, LinkedInPublisher};
/// use cmis::{Platform, Post, PublishContext, Publisher, SecretString, Target, TenantId};
///
/// let publisher = LinkedInPublisher::new(LinkedInClient::builder().build()?);
/// let target = Target::feed(
///     TenantId::new("acme").account(Platform::LinkedIn, "urn:li:organization:2414183"),
/// );
/// let ctx = PublishContext::with_token(SecretString::from("access token"));
/// let post = Post::new().with_text("Doors open at 9 (bring a friend) #launch");
/// let outcome = publisher.publish(&target, &post, &ctx).await?;
/// println!("{:?}", outcome.receipt().map(|r| &r.post_id));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct LinkedInPublisher {
    pub(crate) client: LinkedInClient,
    media_poll: PollPolicy,
    duplicate_window: Duration,
}

impl LinkedInPublisher {
    /// A publisher calling `client`.
    pub fn new(client: LinkedInClient) -> Self {
        Self {
            client,
            media_poll: DEFAULT_MEDIA_POLL,
            duplicate_window: DEFAULT_DUPLICATE_WINDOW,
        }
    }

    /// How media are polled until available (default: 1 s growing to 10 s, for 2 minutes per
    /// call for a video, after which the publish is pending and resumes from the video).
    #[must_use]
    pub fn with_media_poll(mut self, poll: PollPolicy) -> Self {
        self.media_poll = poll;
        self
    }

    /// How long after the first send a lost create may be sent again (see
    /// [`DEFAULT_DUPLICATE_WINDOW`]; never set it above LinkedIn's ten minutes).
    #[must_use]
    pub fn with_duplicate_window(mut self, window: Duration) -> Self {
        self.duplicate_window = window.min(Duration::from_secs(9 * 60));
        self
    }

    pub(crate) fn media_poll(&self) -> PollPolicy {
        self.media_poll
    }

    pub(crate) fn duplicate_window(&self) -> Duration {
        self.duplicate_window
    }

    /// The client.
    pub fn client(&self) -> &LinkedInClient {
        &self.client
    }
}
