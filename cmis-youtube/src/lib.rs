//! YouTube connector for cmis: publishes videos and Shorts to a channel through the YouTube
//! Data API v3.
//!
//! - **Google OAuth with PKCE.** [`YouTubeClient::authorize_url`] asks for offline access with
//!   `prompt=consent` and an S256 challenge ([`Pkce`]); [`YouTubeClient::exchange_code`] returns
//!   [`GoogleTokens`] that become a [`Credential`](cmis_core::Credential) for the channel found
//!   with [`YouTubeClient::channels_mine`]. [`GoogleTokenRefresher`] refreshes from then on and
//!   keeps the stored refresh token when Google sends none (its usual answer). A project in
//!   "Testing" gets refresh tokens that die after 7 days: see [`oauth`].
//! - **Resumable uploads that resume and never double.** [`YouTubePublisher`] checkpoints the
//!   upload session before the first byte, streams chunks from disk (8 MiB by default, memory
//!   holds one), probes the session after any failure and continues from YouTube's offset in the
//!   same session. A completed session answers with its video, so a lost final answer costs no
//!   second upload; an expired one is checked against the channel's uploads before a new
//!   session may start.
//! - **Quota-aware errors.** Google's envelope is classified by `errors[0].reason`:
//!   `quotaExceeded` (the project's daily quota) waits until midnight Pacific time
//!   ([`quota_reset_after`]), `uploadLimitExceeded` (the channel's cap) 24 hours; a channel-less
//!   account (`youtubeSignupRequired`) asks the user to create a channel instead of refreshing.
//! - **Thumbnails and processing.** A post's image becomes the custom thumbnail, best effort;
//!   the video is polled until processed, and a failed or rejected video names YouTube's reason.
//!
//! Not written yet: `videos.update` (editing a published video), playlists, captions, and a
//! budget of quota units per project (cmis reads `quotaExceeded` as authoritative).
//!
//! ```no_run
//! # mod cmis { pub use cmis_core::*; pub mod youtube { pub use cmis_youtube::*; } }
//! # async fn demo(code: &str, pkce: cmis::youtube::Pkce) -> cmis::Result<()> {
//! use std::sync::Arc;
//! use cmis::youtube::{GoogleTokenRefresher, YouTubeClient, YouTubePublisher};
//! use cmis::{
//!     CredentialStore, Media, MemoryCredentialStore, Platform, Post, PublishContext, Publisher,
//!     RefreshingTokenProvider, SecretString, Target, TenantId, YouTubeOptions, YouTubePrivacy,
//! };
//!
//! let client = YouTubeClient::builder()
//!     .client_id("1234567890-abc.apps.googleusercontent.com")
//!     .client_secret(SecretString::from("GOCSPX-..."))
//!     .build()?;
//! // After the user came back from `client.authorize_url(...)` with `code`:
//! let requested_at = cmis::time::OffsetDateTime::now_utc();
//! let tokens = client
//!     .exchange_code(code, "https://app.example/youtube/callback", Some(&pkce))
//!     .await?;
//! let channel = client.channels_mine(&tokens.access_token).await?;
//! let account = TenantId::new("acme").account(Platform::YouTube, channel.id.clone());
//! let store = Arc::new(MemoryCredentialStore::new());
//! store.put_credential(tokens.credential(account.clone(), requested_at)).await?;
//!
//! let provider = RefreshingTokenProvider::builder(store)
//!     .refresher(Arc::new(GoogleTokenRefresher::new(client.clone())))
//!     .build();
//! let ctx = PublishContext::new(Arc::new(provider));
//! let post = Post::new()
//!     .with_text("Launch day\nEverything we shipped this year.")
//!     .with_media(Media::path("launch.mp4"))
//!     .with_media(Media::path("thumbnail.jpg"))
//!     .with_youtube(YouTubeOptions::new().with_privacy(YouTubePrivacy::Unlisted));
//! let outcome = YouTubePublisher::new(client)
//!     .publish(&Target::feed(account), &post, &ctx)
//!     .await?;
//! println!("{:?}", outcome.receipt().and_then(|r| r.permalink.as_ref()));
//! # Ok(()) }
//! ```
//!
//! ## Features
//!
//! `cmis-youtube` has no optional features.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod checkpoint;
mod client;
mod error;
mod metadata;
pub mod oauth;
mod publish;
mod publisher;
mod status;
mod upload;

pub use client::{
    Channel, DEFAULT_API_URL, DEFAULT_AUTHORIZE_URL, DEFAULT_TOKEN_URL, YouTubeClient,
    YouTubeClientBuilder,
};
pub use error::quota_reset_after;
pub use metadata::{DEFAULT_CATEGORY_ID, MAX_DESCRIPTION_BYTES, MAX_TAGS_CHARS, MAX_TITLE_CHARS};
pub use oauth::{
    DEFAULT_SCOPES, GoogleTokenRefresher, GoogleTokens, Pkce, SCOPE_READONLY, SCOPE_UPLOAD,
};
pub use publisher::{CHUNK_GRANULARITY, DEFAULT_CHUNK_SIZE, YouTubePublisher};
