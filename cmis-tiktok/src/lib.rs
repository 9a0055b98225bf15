//! # cmis-tiktok
//!
//! Publishes to TikTok through the Content Posting API (v2), end to end:
//!
//! - **OAuth** ([`TikTokClient::authorize_url`], [`Pkce`] with TikTok's hex SHA-256 challenge,
//!   [`TikTokClient::exchange_code`], [`TikTokClient::revoke`]) and [`TikTokRefresher`], which
//!   lets `cmis::RefreshingTokenProvider` rotate refresh tokens safely, with lifetimes from
//!   `expires_in` (never a hard-coded 24 h).
//! - **The creator-info gate** ([`TikTokClient::creator_info`], [`CreatorInfo`]): the privacy
//!   level must be one the creator is offered (there is no default), interactions the creator
//!   disabled stay disabled, branded content is never `SELF_ONLY`, and violations are
//!   `InvalidInput` before anything is uploaded.
//! - **Media preflight** before any call: TikTok's rules from `cmis-media` (container, codec,
//!   frame rate, dimensions, size; JPEG/WebP photos, at most 35) on the files' headers, and the
//!   video's duration against the creator's `max_video_post_duration_sec` (MP4/MOV; WebM
//!   durations are not read, so they are left to TikTok).
//! - **[`TikTokPublisher`]**, a `cmis::Publisher`: Direct Post and inbox (draft) videos by
//!   chunked `FILE_UPLOAD` or `PULL_FROM_URL`, photo posts, status polling with backoff and a
//!   budget ([`PollPolicy`](cmis_core::PollPolicy), [`default_poll`]), checkpoints holding the `publish_id` from right after init so that
//!   a resume never creates a second post, and cancel.
//! - **[`TikTokInsights`]**, a `cmis::InsightsReader`: a video's lifetime views, likes,
//!   comments and shares (Display API `video/query`), the creator's recent public videos, and
//!   a `publish_id` mapped to its public video id once TikTok gives one; ids kept as text.
//! - **TikTok's error codes** read from every response body, even on HTTP 200, and mapped to
//!   `cmis::ErrorKind`, with TikTok's `log_id` kept as the error's trace id.
//! - **Per-token rate limits** ([`RateLimits`]: init 6, creator info 20, status 30 per minute)
//!   kept on the client side.
//!
//! ## Example
//!
//! ```no_run
//! # mod cmis { pub use cmis_core::*; pub mod media { pub use cmis_media::*; } pub mod tiktok { pub use cmis_tiktok::*; } }
//! # async fn demo() -> cmis::Result<()> {
//! use std::sync::Arc;
//! use cmis::{
//!     AccountRef, Credential, CredentialStore, Media, MemoryCredentialStore, Outcome, Platform,
//!     Post, PrivacyLevel, PublishContext, Publisher, RefreshingTokenProvider, SecretString,
//!     Target, TikTokOptions, TenantId,
//! };
//! use cmis::tiktok::{TikTokClient, TikTokPublisher, TikTokRefresher};
//!
//! let client = TikTokClient::builder()
//!     .client_key("aw1234567890")
//!     .client_secret(SecretString::from("client-secret"))
//!     .build()?;
//!
//! // The creator's tokens, refreshed (and rotated) by TikTok's refresh_token grant.
//! let store = Arc::new(MemoryCredentialStore::new());
//! let account = AccountRef::new(TenantId::new("acme"), Platform::TikTok, "open-id-of-the-creator");
//! store
//!     .put_credential(
//!         Credential::new(account.clone(), SecretString::from("act.access"))
//!             .with_refresh_token(SecretString::from("rft.refresh")),
//!     )
//!     .await?;
//! let tokens = RefreshingTokenProvider::builder(store)
//!     .refresher(Arc::new(TikTokRefresher::new(client.clone())))
//!     .build();
//! let ctx = PublishContext::new(Arc::new(tokens));
//!
//! // The privacy level is the user's choice among creator info's options: there is no default.
//! let post = Post::new()
//!     .with_text("Our autumn menu is here #food")
//!     .with_media(Media::path("menu.mp4"))
//!     .with_tiktok(TikTokOptions::new().with_privacy_level(PrivacyLevel::SelfOnly));
//! let publisher = TikTokPublisher::new(client);
//! match publisher.publish(&Target::feed(account), &post, &ctx).await? {
//!     Outcome::Published(receipt) => println!("published {}", receipt.post_id),
//!     Outcome::Pending(checkpoint) => println!("still processing; resume with {checkpoint:?}"),
//! }
//! # Ok(()) }
//! ```
//!
//! ## Connecting a creator
//!
//! Send the creator to TikTok's consent page with a PKCE challenge and an unguessable state;
//! TikTok redirects back with a code, which becomes the creator's tokens. Store them and the
//! [`TikTokRefresher`] keeps them fresh from then on.
//!
//! ```no_run
//! # mod cmis { pub use cmis_core::*; pub mod media { pub use cmis_media::*; } pub mod tiktok { pub use cmis_tiktok::*; } }
//! # async fn demo(client: cmis::tiktok::TikTokClient, store: &dyn cmis::CredentialStore,
//! #               code_from_callback: &str) -> cmis::Result<()> {
//! use cmis::TenantId;
//! use cmis::tiktok::{AuthorizeRequest, Pkce};
//!
//! const CALLBACK: &str = "https://app.example.com/tiktok/callback";
//! let pkce = Pkce::generate()?; // keep it (server-side) until the callback
//! let consent = client.authorize_url(
//!     &AuthorizeRequest::new(CALLBACK, ["user.info.basic", "video.publish"], "unguessable-state")
//!         .with_pkce(pkce.clone()),
//! )?;
//! // ... redirect the creator to `consent`; TikTok calls CALLBACK?code=...&state=... ...
//! let requested_at = cmis::time::OffsetDateTime::now_utc();
//! let grant = client.exchange_code(code_from_callback, CALLBACK, Some(&pkce)).await?;
//! store.put_credential(grant.to_credential(TenantId::new("acme"), requested_at)).await?;
//! # let _ = consent; Ok(()) }
//! ```
//!
//! ## Features
//!
//! `cmis-tiktok` has no optional features.

#![cfg_attr(docsrs, feature(doc_cfg))]
mod checkpoint;
mod client;
mod creator_info;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod insights;
mod limits;
mod oauth;
mod plan;
mod publish;
mod pull;
mod reconcile;
mod request;
mod status;
mod upload;

pub use client::{DEFAULT_API_BASE_URL, DEFAULT_AUTHORIZE_URL, TikTokClient, TikTokClientBuilder};
pub use creator_info::CreatorInfo;
pub use insights::TikTokInsights;
pub use limits::RateLimits;
pub use oauth::{AuthorizeRequest, Pkce, TikTokRefresher, TokenGrant};
pub use publish::TikTokPublisher;
pub use pull::{PullHost, Sealed};
pub use status::{PublishState, PublishStatus, default_poll};
