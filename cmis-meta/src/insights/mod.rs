//! [`MetaInsights`]: post metrics for Facebook Pages and Instagram, the accounts' recent posts,
//! and Instagram's `online_followers`.
//!
//! Reference: `docs/insights.md` §1 (Facebook) and §2 (Instagram). Metric names come from the
//! [registry](crate::METRICS), which never sends a retired metric; a metric Meta refuses anyway
//! (code 100) is asked for alone and reported in [`PostMetrics::refused`].

mod fetch;
mod listing;
pub(crate) mod registry;

use std::collections::BTreeMap;

use async_trait::async_trait;
use cmis_core::{
    AccountRef, AccountSignals, Error, InsightsReader, MediaKind, MetricValue, Platform, PostId,
    PostMetrics, PublishContext, RecentPost, Result, TokenSession,
};
use serde_json::Value;
use time::OffsetDateTime;

use crate::client::{MetaClient, Session, segment};
use crate::instagram::InstagramLogin;
use crate::request::Host;
use fetch::read_insights;
use registry::{MetricSurface, metrics_for};

/// The fields of a Page post that carry its counts without insights (`docs/insights.md` §1,
/// brightbean `providers/facebook.py`).
const POST_COUNT_FIELDS: &str =
    "shares,comments.limit(0).summary(true),reactions.limit(0).summary(true)";

/// Reads post metrics from Facebook Pages and Instagram professional accounts, with the
/// account's token from the context (a Page token for a Page, the Instagram account's token).
///
/// ```no_run
/// # mod cmis { pub use cmis_core::*; pub mod media { pub use cmis_media::*; } pub mod meta { pub use cmis_meta::*; } }
/// # async fn demo(ctx: cmis::PublishContext) -> cmis::Result<()> {
/// use cmis::{InsightsReader, MediaKind, Platform, PostId, TenantId};
/// use cmis::meta::{MetaClient, MetaInsights};
/// let insights = MetaInsights::new(MetaClient::builder().build()?);
/// let ig = TenantId::new("acme").account(Platform::Instagram, "17841400000000001");
/// let m = insights
///     .post_metrics(&ig, &PostId::new("17900000000000001"), MediaKind::Reel, &ctx)
///     .await?;
/// println!("{:?} views; refused: {:?}", m.views, m.refused);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct MetaInsights {
    client: MetaClient,
    login: InstagramLogin,
}

impl MetaInsights {
    /// A reader using `client`, for Instagram accounts connected with Facebook Login.
    pub fn new(client: MetaClient) -> Self {
        Self {
            client,
            login: InstagramLogin::Facebook,
        }
    }

    /// How Instagram accounts were connected (which host their calls go to).
    #[must_use]
    pub fn with_instagram_login(mut self, login: InstagramLogin) -> Self {
        self.login = login;
        self
    }

    fn ig_host(&self) -> Host {
        match self.login {
            InstagramLogin::Facebook => Host::Graph,
            InstagramLogin::Instagram => Host::InstagramGraph,
        }
    }

    fn host(&self, account: &AccountRef) -> Host {
        match account.platform {
            Platform::Instagram => self.ig_host(),
            _ => Host::Graph,
        }
    }

    fn now(&self) -> OffsetDateTime {
        self.client.clock().now()
    }
}

/// Checks the account before any call: a Facebook Page or an Instagram account, with an id.
fn check_account(account: &AccountRef) -> Result<()> {
    if !matches!(account.platform, Platform::Facebook | Platform::Instagram) {
        return Err(Error::invalid_input(format!(
            "account {} is on {}, not on Facebook or Instagram",
            account.account, account.platform
        )));
    }
    segment(account.account.as_str(), "account id")?;
    Ok(())
}

/// Where a post's metrics are read, decided before any call.
fn surface(platform: Platform, kind: MediaKind) -> Result<MetricSurface> {
    match (platform, kind) {
        (Platform::Facebook, MediaKind::Post | MediaKind::Image | MediaKind::Carousel) => {
            Ok(MetricSurface::FacebookPost)
        }
        (Platform::Facebook, MediaKind::Reel | MediaKind::Video) => {
            Ok(MetricSurface::FacebookVideo)
        }
        (Platform::Instagram, MediaKind::Post | MediaKind::Image | MediaKind::Video) => {
            Ok(MetricSurface::InstagramFeed)
        }
        (Platform::Instagram, MediaKind::Carousel) => Ok(MetricSurface::InstagramCarousel),
        (Platform::Instagram, MediaKind::Reel) => Ok(MetricSurface::InstagramReel),
        (Platform::Instagram, MediaKind::Story) => Ok(MetricSurface::InstagramStory),
        (Platform::Facebook, MediaKind::Story) => Err(Error::unsupported(
            "Facebook Page stories have no insights cmis can read",
        )),
        (_, k) => Err(Error::invalid_input(format!(
            "cannot tell which metrics a post of kind {k:?} on {platform} has"
        ))),
    }
}

fn int(raw: &BTreeMap<String, MetricValue>, name: &str) -> Option<u64> {
    raw.get(name).and_then(MetricValue::total)
}

/// `v[a][b]…` as a count.
fn count(v: &Value, path: &[&str]) -> Option<u64> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_u64()
}

#[async_trait]
impl InsightsReader for MetaInsights {
    #[tracing::instrument(skip_all, fields(platform = %account.platform, account = %account.account, post = %post))]
    async fn post_metrics(
        &self,
        account: &AccountRef,
        post: &PostId,
        kind: MediaKind,
        ctx: &PublishContext,
    ) -> Result<PostMetrics> {
        check_account(account)?;
        let id = segment(post.as_str(), "post id")?;
        let surface = surface(account.platform, kind)?;
        let now = self.now();
        let metrics = metrics_for(surface, now);
        let tokens = TokenSession::new(ctx.tokens().as_ref(), account);
        let s = Session::new(&tokens);
        let host = self.host(account);
        let mut m = PostMetrics::new(account.platform, account.account.clone(), post.clone(), now);
        match surface {
            MetricSurface::FacebookPost => {
                let url = self.client.url(host, &format!("{id}/insights"));
                let read =
                    read_insights(&self.client, s, &url, &metrics, &[("period", "lifetime")])
                        .await?;
                let req = crate::client::ApiRequest::get(self.client.url(host, id))
                    .query("fields", POST_COUNT_FIELDS);
                let counts = self.client.read(s, &req).await?;
                m.views = int(&read.raw, "post_media_view");
                m.reach = int(&read.raw, "post_total_media_view_unique");
                m.likes = count(&counts, &["reactions", "summary", "total_count"])
                    .or_else(|| int(&read.raw, "post_reactions_by_type_total"));
                m.comments = count(&counts, &["comments", "summary", "total_count"]);
                m.shares = count(&counts, &["shares", "count"]);
                (m.raw, m.refused) = (read.raw, read.refused);
            }
            MetricSurface::FacebookVideo => {
                // Reels have no `/insights` edge (TryPost #320).
                let url = self.client.url(host, &format!("{id}/video_insights"));
                let read = read_insights(&self.client, s, &url, &metrics, &[]).await?;
                m.views = int(&read.raw, "blue_reels_play_count");
                m.likes = int(&read.raw, "post_video_likes_by_reaction_type");
                (m.raw, m.refused) = (read.raw, read.refused);
            }
            _ => {
                let url = self.client.url(host, &format!("{id}/insights"));
                let read = read_insights(&self.client, s, &url, &metrics, &[]).await?;
                m.views = int(&read.raw, "views");
                m.reach = int(&read.raw, "reach");
                m.likes = int(&read.raw, "likes");
                m.comments = int(&read.raw, "comments");
                m.shares = int(&read.raw, "shares");
                m.saves = int(&read.raw, "saved");
                (m.raw, m.refused) = (read.raw, read.refused);
            }
        }
        Ok(m)
    }

    #[tracing::instrument(skip_all, fields(platform = %account.platform, account = %account.account))]
    async fn recent_posts(
        &self,
        account: &AccountRef,
        since: OffsetDateTime,
        limit: usize,
        ctx: &PublishContext,
    ) -> Result<Vec<RecentPost>> {
        check_account(account)?;
        if limit == 0 {
            return Err(Error::invalid_input("a limit of 0 posts lists nothing"));
        }
        let tokens = TokenSession::new(ctx.tokens().as_ref(), account);
        let s = Session::new(&tokens);
        listing::recent(&self.client, s, self.host(account), since, limit).await
    }

    #[tracing::instrument(skip_all, fields(platform = %account.platform, account = %account.account))]
    async fn account_signals(
        &self,
        account: &AccountRef,
        since: OffsetDateTime,
        until: OffsetDateTime,
        ctx: &PublishContext,
    ) -> Result<AccountSignals> {
        check_account(account)?;
        if account.platform != Platform::Instagram {
            return Err(Error::unsupported(
                "Facebook Pages have no followers-online-by-hour metric (docs/insights.md §1)",
            ));
        }
        if since >= until {
            return Err(Error::invalid_input(format!(
                "since ({since}) must be before until ({until})"
            )));
        }
        let tokens = TokenSession::new(ctx.tokens().as_ref(), account);
        let s = Session::new(&tokens);
        let days = listing::online_followers(&self.client, s, self.ig_host(), since, until).await?;
        Ok(AccountSignals::new(
            account.account.clone(),
            self.now(),
            days,
        ))
    }
}
