//! [`TikTokInsights`]: a video's lifetime counters through the Display API (`video/query`),
//! the creator's recent public videos (`video/list`), and the `publish_id` → video id mapping.
//!
//! Reference: `docs/insights.md` §3. TikTok gives current lifetime counters only: views,
//! likes, comments and shares. No reach, no saves, no audience-online signal. Ids are 19-digit
//! integers and are kept as text.

use std::sync::Arc;

use async_trait::async_trait;
use cmis_core::{
    AccountRef, Clock, Error, InsightsReader, MediaKind, MetricValue, Platform, PostId,
    PostMetrics, PublishContext, RecentPost, Result, SystemClock, TokenSession,
};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::TikTokClient;
use crate::client::Endpoint;
use crate::publish::require_scope;
use crate::reconcile::SCOPE_VIDEO_LIST;

/// The counters `video/query` is asked for (video object reference), besides `id` and
/// `create_time`.
pub(crate) const COUNTERS: [&str; 4] = ["view_count", "like_count", "comment_count", "share_count"];

/// Listing pages read at most when back-filling (20 videos each).
const MAX_PAGES: usize = 10;

/// Reads TikTok video metrics with the creator's token (scope `video.list`: a token whose
/// granted scopes are known and lack it is a `Permission` error before any call).
///
/// A post id may be a video id, or the `publish_id` a publish returned: that one is mapped to
/// the video id TikTok gives once the post is public and moderated
/// (`publicaly_available_post_id`; see [`resolve_publish_id`](Self::resolve_publish_id)).
///
/// ```no_run
/// # mod cmis { pub use cmis_core::*; pub mod media { pub use cmis_media::*; } pub mod tiktok { pub use cmis_tiktok::*; } }
/// # async fn demo(ctx: cmis::PublishContext) -> cmis::Result<()> {
/// use cmis::{InsightsReader, MediaKind, Platform, PostId, TenantId};
/// use cmis::tiktok::{TikTokClient, TikTokInsights};
/// let insights = TikTokInsights::new(TikTokClient::builder().build()?);
/// let creator = TenantId::new("acme").account(Platform::TikTok, "723f24d7-open-id");
/// let m = insights
///     .post_metrics(&creator, &PostId::new("7439182734619283746"), MediaKind::Video, &ctx)
///     .await?;
/// println!("{:?} views, {:?} likes", m.views, m.likes);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct TikTokInsights {
    client: TikTokClient,
    clock: Arc<dyn Clock>,
}

impl TikTokInsights {
    /// A reader using `client`.
    pub fn new(client: TikTokClient) -> Self {
        Self {
            client,
            clock: Arc::new(SystemClock),
        }
    }

    /// The clock that stamps [`PostMetrics::collected_at`] (default the system clock).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The public video id of publish `publish_id`, once TikTok has made the post public
    /// (`POST /v2/post/publish/status/fetch/`, `publicaly_available_post_id`); `None` while it
    /// is not (processing, moderation, private, a draft). Persist the answer: TikTok's other
    /// endpoints know only the video id.
    pub async fn resolve_publish_id(
        &self,
        account: &AccountRef,
        publish_id: &str,
        ctx: &PublishContext,
    ) -> Result<Option<PostId>> {
        check_account(account)?;
        if publish_id.trim().is_empty() {
            return Err(Error::invalid_input("publish_id is empty"));
        }
        let s = TokenSession::new(ctx.tokens().as_ref(), account);
        let status = s
            .run(|token| async move { self.client.fetch_status(&token, publish_id).await })
            .await?;
        Ok(status.public_post_id().map(PostId::new))
    }
}

fn check_account(account: &AccountRef) -> Result<()> {
    if account.platform != Platform::TikTok || account.account.as_str().trim().is_empty() {
        return Err(Error::invalid_input(format!(
            "account {} on {} is not a TikTok creator",
            account.account, account.platform
        )));
    }
    Ok(())
}

/// A video id: the digits TikTok gives (never a float).
fn is_video_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 20 && id.bytes().all(|b| b.is_ascii_digit())
}

/// An id as text, whether TikTok sent a string or a number.
fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl TikTokClient {
    /// `POST /v2/video/query/` for up to 20 ids, with the counters.
    pub(crate) async fn query_videos(
        &self,
        access_token: &cmis_core::SecretString,
        ids: &[&str],
    ) -> Result<Vec<Value>> {
        let body = json!({ "filters": { "video_ids": ids } });
        let data: Value = self
            .call(Endpoint::VideoQuery, access_token, Some(&body))
            .await?;
        Ok(data
            .get("videos")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default())
    }
}

/// The metrics of video `id` from its `video/query` object.
fn metrics_of(account: &AccountRef, id: &str, video: &Value, now: OffsetDateTime) -> PostMetrics {
    let mut m = PostMetrics::new(Platform::TikTok, account.account.clone(), id, now);
    for name in COUNTERS {
        if let Some(n) = video.get(name).and_then(Value::as_u64) {
            m.raw.insert(name.to_owned(), MetricValue::Int(n));
        }
    }
    m.views = m.raw_total("view_count");
    m.likes = m.raw_total("like_count");
    m.comments = m.raw_total("comment_count");
    m.shares = m.raw_total("share_count");
    m
}

#[async_trait]
impl InsightsReader for TikTokInsights {
    #[tracing::instrument(skip_all, fields(platform = "tiktok", account = %account.account, post = %post))]
    async fn post_metrics(
        &self,
        account: &AccountRef,
        post: &PostId,
        kind: MediaKind,
        ctx: &PublishContext,
    ) -> Result<PostMetrics> {
        check_account(account)?;
        if post.as_str().trim().is_empty() {
            return Err(Error::invalid_input("the post id is empty"));
        }
        if matches!(
            kind,
            MediaKind::Story | MediaKind::Reel | MediaKind::Carousel
        ) {
            return Err(Error::invalid_input(format!(
                "TikTok has no {kind:?} posts; read a video"
            )));
        }
        let id = if is_video_id(post.as_str()) {
            post.as_str().to_owned()
        } else {
            match self.resolve_publish_id(account, post.as_str(), ctx).await? {
                Some(id) => id.into_string(),
                None => {
                    return Err(Error::transient(format!(
                        "publish {post} has no public video id yet (TikTok gives one after \
                         processing and moderation, never for a private post or a draft)"
                    ))
                    .with_platform(Platform::TikTok));
                }
            }
        };
        let s = TokenSession::new(ctx.tokens().as_ref(), account);
        require_scope(&s, &[SCOPE_VIDEO_LIST], "reading a video's counters").await?;
        let ids = [id.as_str()];
        let videos = s
            .run(|token| async move { self.client.query_videos(&token, &ids).await })
            .await?;
        let video = videos
            .iter()
            .find(|v| v.get("id").and_then(id_text).as_deref() == Some(id.as_str()));
        match video {
            Some(v) => Ok(metrics_of(account, &id, v, self.clock.now())),
            None => Err(Error::rejected(format!(
                "video {id} is not among the creator's public videos (private, deleted or not \
                 yet moderated)"
            ))
            .with_platform(Platform::TikTok)),
        }
    }

    #[tracing::instrument(skip_all, fields(platform = "tiktok", account = %account.account))]
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
        let s = TokenSession::new(ctx.tokens().as_ref(), account);
        require_scope(&s, &[SCOPE_VIDEO_LIST], "listing videos").await?;
        let mut out = Vec::new();
        let mut cursor = None;
        for _ in 0..MAX_PAGES {
            let page = s
                .run(|token| async move { self.client.list_videos(&token, cursor).await })
                .await?;
            let mut older = false;
            for v in &page.videos {
                let Some(id) = v.get("id").and_then(id_text) else {
                    continue;
                };
                let at = v
                    .get("create_time")
                    .and_then(Value::as_i64)
                    .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok());
                if at.is_some_and(|t| t < since) {
                    older = true;
                    continue;
                }
                out.push(RecentPost::new(id, at, MediaKind::Video));
                if out.len() == limit {
                    return Ok(out);
                }
            }
            match page.cursor {
                Some(c) if page.has_more && !older && Some(c) != cursor => cursor = Some(c),
                _ => break,
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn video_ids_are_digits_and_publish_ids_are_not() {
        assert!(is_video_id("7439182734619283746"));
        assert!(!is_video_id("v_pub_url~v2-1.7321889"));
        assert!(!is_video_id(""));
        let big = serde_json::from_str::<Value>("7439182734619283746").unwrap();
        assert_eq!(id_text(&big).as_deref(), Some("7439182734619283746"));
    }
}
