//! # cmis-meta
//!
//! Publishes to Facebook Pages, Instagram professional accounts and Threads profiles through
//! the Meta Graph API's real wire protocol (references: `docs/meta-graph-api.md`,
//! `docs/threads-api.md`):
//!
//! - [`FacebookPagePublisher`]: text and link posts, photos by URL or file, multi-photo posts,
//!   videos through the Resumable Upload API, Reels, and native scheduling (10 min – 30 days).
//! - [`InstagramPublisher`]: images, carousels (2–10), Reels and stories through containers
//!   polled with bounded backoff, `media_publish` sent once, permalink best effort; the
//!   `content_publishing_limit` is read first. Facebook Login and Instagram Login hosts.
//! - [`ThreadsPublisher`]: text posts (500 UTF-8 bytes, at most 5 links, a link attachment),
//!   images, videos and carousels (2–20) by public URL, replies, quotes, reply control and topic
//!   tags, on `graph.threads.net` with the Threads app's own id and secret ([`ThreadsClient`]);
//!   `threads_publishing_limit` read first, the container re-read before every
//!   `threads_publish`; tokens in [`threads`] (`th_exchange_token`, `th_refresh_token`).
//! - [`MetaInsights`]: post metrics (Page posts, Reels, Instagram feed, carousels, Reels and
//!   stories), recent posts for back-filling, Instagram `online_followers`; metric names from a
//!   dated [registry](METRICS) that never sends a retired metric, and a metric Meta refuses
//!   (code 100) asked for alone and reported instead of losing the others.
//! - Every step that creates something is handed to the checkpoint sink before the next
//!   mutating call, so `resume` continues without creating a second post; a 5xx or timeout on a
//!   creating call is [`ErrorKind::UnknownOutcome`](cmis_core::ErrorKind::UnknownOutcome) and is
//!   never re-sent.
//! - Errors: the Graph envelope mapped to [`ErrorKind`](cmis_core::ErrorKind), keeping `fbtrace_id` and
//!   `error_user_msg`; `X-App-Usage`, `X-Business-Use-Case-Usage` and `X-Page-Usage` parsed on
//!   every response to slow an account down before it hits 100 %.
//! - Tokens ([`tokens`]): long-lived exchange, Page tokens, `debug_token`, Instagram Login
//!   refresh, and re-authorisation deadlines for tokens that cannot be refreshed.
//!
//! ## Example
//!
//! ```no_run
//! # mod cmis { pub use cmis_core::*; pub mod media { pub use cmis_media::*; } pub mod meta { pub use cmis_meta::*; } }
//! # async fn demo() -> cmis::Result<()> {
//! use std::sync::Arc;
//! use cmis::{
//!     AccountRef, Credential, CredentialStore, MemoryCredentialStore, Platform, Post,
//!     PublishContext, Publisher, RefreshingTokenProvider, SecretString, Target, TenantId,
//! };
//! use cmis::meta::{FacebookPagePublisher, MetaClient};
//!
//! let client = MetaClient::builder().build()?;
//! let store = Arc::new(MemoryCredentialStore::new());
//! let page = AccountRef::new(TenantId::new("acme"), Platform::Facebook, "1234567890");
//! store.put_credential(Credential::new(page.clone(), SecretString::from("page-token"))).await?;
//! let ctx = PublishContext::new(Arc::new(RefreshingTokenProvider::builder(store).build()));
//!
//! let publisher = FacebookPagePublisher::new(client);
//! let outcome = publisher
//!     .publish(&Target::feed(page), &Post::new().with_text("Doors open at 9"), &ctx)
//!     .await?;
//! println!("{:?}", outcome.receipt().map(|r| &r.post_id));
//! # Ok(()) }
//! ```
//!
//! ## Connecting a Page
//!
//! Facebook Login gives a short-lived user token. Exchange it for a long-lived one, then take
//! the Page tokens of the Pages the user may publish on; a Page token derived this way does not
//! expire, and is what [`FacebookPagePublisher`] publishes with.
//!
//! ```no_run
//! # mod cmis { pub use cmis_core::*; pub mod media { pub use cmis_media::*; } pub mod meta { pub use cmis_meta::*; } }
//! # async fn demo(store: &dyn cmis::CredentialStore) -> cmis::Result<()> {
//! use cmis::meta::{MetaClient, exchange_for_long_lived, page_tokens};
//! use cmis::{Credential, Platform, SecretString, TenantId};
//!
//! let client = MetaClient::builder()
//!     .app_id("1234567890")
//!     .app_secret(SecretString::from("app-secret"))
//!     .build()?;
//! let user = exchange_for_long_lived(&client, &SecretString::from("EAAB-short-lived")).await?;
//! for page in page_tokens(&client, &user.access_token).await? {
//!     if page.can_publish() {
//!         let account = TenantId::new("acme").account(Platform::Facebook, page.id.as_str());
//!         store.put_credential(Credential::new(account, page.access_token)).await?;
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! ## Limits
//!
//! - Local files are uploaded as one request body held in memory, up to [`MAX_UPLOAD_BYTES`];
//!   give larger videos as public URLs.
//! - Instagram Login accounts take media by public URL only (rupload is for Facebook Login).
//! - Facebook Page stories are not published ([`ErrorKind::Unsupported`](cmis_core::ErrorKind::Unsupported)).
//! - [`Publisher::reconcile`](cmis_core::Publisher::reconcile) finds a post whose creating
//!   call's response was lost among the account's recent posts, by exact text and creation time
//!   inside the call's window ([`ReconcilePolicy`]), or by a stored id. What it cannot settle
//!   (two candidates, a photo without text, a natively scheduled post, a window not yet closed)
//!   is an [`ErrorKind::UnknownOutcome`](cmis_core::ErrorKind::UnknownOutcome) error whose
//!   message says why.
//!
//! ## Features
//!
//! `cmis-meta` has no optional features.

#![cfg_attr(docsrs, feature(doc_cfg))]
mod client;
mod containers;
mod error;
mod facebook;
#[doc(hidden)]
pub mod fuzzing;
mod insights;
mod instagram;
mod media;
mod reconcile;
mod request;
pub mod threads;
pub mod tokens;
mod usage;

pub use client::{
    DEFAULT_GRAPH_URL, DEFAULT_GRAPH_VERSION, DEFAULT_GRAPH_VIDEO_URL, DEFAULT_INSTAGRAM_GRAPH_URL,
    DEFAULT_RUPLOAD_URL, MetaClient, MetaClientBuilder,
};
pub use facebook::{FacebookPagePublisher, SCHEDULE_MAX_LEAD, SCHEDULE_MIN_LEAD};
pub use insights::MetaInsights;
pub use insights::registry::{
    METRIC_REGISTRY_VERSION, METRICS, MetricRule, MetricSurface, metrics_for,
};
pub use instagram::{InstagramLogin, InstagramPublisher};
pub use media::MAX_UPLOAD_BYTES;
pub use reconcile::ReconcilePolicy;
pub use threads::{
    DEFAULT_THREADS_URL, DEFAULT_THREADS_VERSION, ThreadsClient, ThreadsClientBuilder,
    ThreadsPublisher, ThreadsTokenRefresher,
};
pub use tokens::{
    FacebookTokenRefresher, InstagramLoginRefresher, PageToken, TokenInfo, check_reauth_deadline,
    debug_token, exchange_for_long_lived, notify_reauth_deadline, page_tokens,
};
