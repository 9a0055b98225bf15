//! The `InsightsReader` trait: reading how published posts perform.

use std::fmt;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::{
    AccountRef, AccountSignals, Error, MediaKind, PostId, PostMetrics, PublishContext, RecentPost,
    Result,
};

/// Reads a platform's counters for published posts. Implemented by the connectors
/// (`cmis::meta::MetaInsights`, `cmis::tiktok::TikTokInsights`) beside their publishers, with
/// the same clients and the same tokens (the context's [`TokenProvider`](crate::TokenProvider),
/// through a [`TokenSession`](crate::TokenSession)).
///
/// The contract:
/// - Input that can never work (an account of another platform, an id that is not one, a kind
///   the platform has no metrics for, a `limit` of 0) is an
///   [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) or
///   [`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported) error before any network call.
/// - A counter the platform did not give is `None`, never `0`.
/// - A metric the platform refuses is listed in [`PostMetrics::refused`]; the others are still
///   returned. A missing permission is an
///   [`ErrorKind::Permission`](crate::ErrorKind::Permission) error.
/// - Counters are lifetime values at [`PostMetrics::collected_at`]: store snapshots to see them
///   grow.
///
/// # Example: reading and back-filling
///
/// ```no_run
/// # mod cmis { pub use cmis_core::*; }
/// use cmis::{InsightsReader, MediaKind, PublishContext, TenantId, Platform};
/// # async fn demo(reader: &dyn InsightsReader, ctx: &PublishContext) -> cmis::Result<()> {
/// let account = TenantId::new("acme").account(Platform::Instagram, "17841400000000001");
/// let since = cmis::time::OffsetDateTime::now_utc() - cmis::time::Duration::days(30);
/// for post in reader.recent_posts(&account, since, 50, ctx).await? {
///     let m = reader.post_metrics(&account, &post.post_id, post.kind, ctx).await?;
///     println!("{}: {:?} views, refused {:?}", m.post_id, m.views, m.refused);
/// }
/// # Ok(()) }
/// ```
#[async_trait]
pub trait InsightsReader: Send + Sync + fmt::Debug {
    /// The lifetime metrics of post `post` of `account`, chosen for `kind`.
    async fn post_metrics(
        &self,
        account: &AccountRef,
        post: &PostId,
        kind: MediaKind,
        ctx: &PublishContext,
    ) -> Result<PostMetrics>;

    /// Up to `limit` posts of `account` published at or after `since`, newest first, to
    /// back-fill the metrics of posts published before cmis was reading them.
    async fn recent_posts(
        &self,
        account: &AccountRef,
        since: OffsetDateTime,
        limit: usize,
        ctx: &PublishContext,
    ) -> Result<Vec<RecentPost>>;

    /// When the account's audience is online, between `since` and `until`. The default, for
    /// platforms without such a signal, is [`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported).
    async fn account_signals(
        &self,
        account: &AccountRef,
        since: OffsetDateTime,
        until: OffsetDateTime,
        ctx: &PublishContext,
    ) -> Result<AccountSignals> {
        let _ = (since, until, ctx);
        Err(Error::unsupported(format!(
            "{} has no audience-online signal",
            account.platform
        )))
    }
}
