//! # cmis-core
//!
//! The foundation of [cmis](https://github.com/cmis-rs/cmis), a set of crates that publish social
//! posts to Facebook Pages, Instagram and TikTok for real. This crate holds what every other cmis
//! crate shares:
//!
//! - **The model**: [`Post`], [`Media`], [`Target`] and [`AccountRef`], [`Receipt`],
//!   [`Checkpoint`], [`Credential`], and the [`Platform`] and [`Surface`] enums.
//! - **The traits** the crates plug into each other with: [`Publisher`] (one per platform
//!   connector), [`InsightsReader`] (reading how posts perform: [`PostMetrics`]),
//!   [`TokenProvider`] and [`TokenRefresher`], [`ContentGenerator`],
//!   [`CredentialStore`], [`AuditSink`], [`Notifier`], [`CheckpointSink`].
//! - **The error taxonomy**: one [`Error`] with an [`ErrorKind`] that says what to do.
//! - **Policies**: [`RetryPolicy`] (full-jitter backoff, Retry-After honoured, never retrying an
//!   unknown outcome) and [`KeyedRateLimiter`].
//! - **[`RefreshingTokenProvider`]**: tokens refreshed ahead of expiry, single-flight per account,
//!   rotated refresh tokens persisted before use.
//! - **In-memory and `tracing` implementations** of the stores and sinks, for tests and small
//!   programs.
//!
//! ## Example
//!
//! ```
//! # mod cmis { pub use cmis_core::*; }
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), cmis::Error> {
//! use std::sync::Arc;
//! use cmis::{
//!     AccountRef, Credential, CredentialStore, Media, MemoryCredentialStore, Platform, Post,
//!     PublishContext, RefreshingTokenProvider, SecretString, Target, TenantId,
//! };
//!
//! // Where tokens live (cmis-scheduler has SQLite and PostgreSQL stores, encrypted at rest).
//! let store = Arc::new(MemoryCredentialStore::new());
//! let page = AccountRef::new(TenantId::new("acme"), Platform::Facebook, "1234567890");
//! store.put_credential(Credential::new(page.clone(), SecretString::from("page-access-token"))).await?;
//!
//! // What to publish, and where.
//! let post = Post::new().with_text("Doors open at 9 🎉").with_media(Media::path("poster.jpg"));
//! let target = Target::feed(page);
//!
//! // What a connector needs besides the post. A connector's `publish(&target, &post, &ctx)`
//! // returns `Outcome::Published(receipt)` only when the platform returned an id.
//! let tokens = RefreshingTokenProvider::builder(store).build();
//! let ctx = PublishContext::new(Arc::new(tokens));
//! # let _ = (post, target, ctx);
//! # Ok(()) }
//! ```
//!
//! ## Features
//!
//! `cmis-core` has no optional features.

#![cfg_attr(docsrs, feature(doc_cfg))]
mod clock;
mod error;
mod memory;
mod model;
pub mod pkce;
mod poll;
mod ratelimit;
pub mod reconcile;
mod refreshing;
mod retry;
mod session;
mod traits;

pub use clock::{Clock, SystemClock, TokioClock, after};
pub use error::{Error, ErrorKind, Result, UnknownErrorKind, Violation};
pub use memory::{
    MemoryAuditSink, MemoryCheckpointSink, MemoryCredentialStore, MemoryNotifier, TracingAuditSink,
    TracingNotifier,
};
pub use model::*;
pub use poll::PollPolicy;
pub use ratelimit::{KeyedRateLimiter, RateLimit};
pub use refreshing::{
    DEFAULT_REFRESH_MARGIN, RefreshingTokenProvider, RefreshingTokenProviderBuilder,
};
pub use retry::RetryPolicy;
pub use session::TokenSession;
pub use traits::*;

/// Secrets: tokens are [`SecretString`]s, read with [`ExposeSecret`] only where they are sent.
pub use secrecy::{ExposeSecret, SecretString};

/// The attribute for implementing cmis's async traits (`Publisher`, `TokenProvider`,
/// `CredentialStore`, …) in your own code: `#[cmis::async_trait]`, the same version cmis uses.
pub use async_trait::async_trait;

/// Re-exported so that users name the same types as cmis does.
pub use {bytes, mime, time, url};
