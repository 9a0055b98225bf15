//! Bluesky connector for cmis: publishes posts to an account's repository over the AT Protocol.
//!
//! - **Sessions from an app password.** [`BlueskyClient::create_session`] signs in once;
//!   [`BlueskyRefresher`] refreshes the session from then on with the rotated refresh token,
//!   which a [`RefreshingTokenProvider`](cmis_core::RefreshingTokenProvider) stores before the
//!   new access token is used. Lifetimes are read from the tokens, never assumed.
//! - **Posts that cannot be doubled.** [`BlueskyPublisher`] chooses the record key (a
//!   [`Tid`]) and checkpoints the record before writing it; after an unknown outcome it reads
//!   the record at that key (`getRecord`) and writes only if it is not there, at the same key.
//! - **Rich text by the rules.** Links, mentions (resolved to DIDs) and hashtags become facets
//!   placed by UTF-8 byte offsets ([`richtext::detect`]); the text is held to 300 graphemes
//!   and 3 000 bytes before any call; images go up as blobs with alt text and aspect ratio.
//! - **Link cards, replies and quotes.** A post's link becomes `app.bsky.embed.external`;
//!   [`BlueskyOptions`](cmis_core::BlueskyOptions) makes it a reply (the thread's root taken
//!   from the parent) or a quote (`app.bsky.embed.record`, or `recordWithMedia` with images),
//!   the strong references read with `getRecord` before the record is checkpointed.
//! - **Video.** One MP4 goes to Bluesky's video service ([`DEFAULT_VIDEO_SERVICE_URL`]) with a
//!   service token from `getServiceAuth`; the job is checkpointed and polled until it holds a
//!   blob (a deduplicated upload's blob counts, whatever its state), then the record is written
//!   like any other.
//!
//! Not written yet: OAuth (sessions come from app passwords), galleries of more than four
//! images, and the multipart video upload of very large files. An account's PDS is found from
//! its handle or DID with [`IdentityResolver`] (or given: `https://bsky.social` serves the
//! accounts Bluesky hosts).
//!
//! ```no_run
//! # mod cmis { pub use cmis_core::*; pub mod bluesky { pub use cmis_bluesky::*; } }
//! # async fn demo() -> cmis::Result<()> {
//! use std::sync::Arc;
//! use cmis::bluesky::{BlueskyClient, BlueskyPublisher, BlueskyRefresher};
//! use cmis::{
//!     CredentialStore, MemoryCredentialStore, Platform, Post, PublishContext, Publisher,
//!     RefreshingTokenProvider, SecretString, Target, TenantId,
//! };
//!
//! let client = BlueskyClient::builder().pds_url("https://bsky.social").build()?;
//! let tenant = TenantId::new("acme");
//! let session = client
//!     .create_session("alice.bsky.social", &SecretString::from("xxxx-xxxx-xxxx-xxxx"))
//!     .await?;
//! let store = Arc::new(MemoryCredentialStore::new());
//! store.put_credential(session.credential(&tenant)).await?;
//! let tokens = RefreshingTokenProvider::builder(store)
//!     .refresher(Arc::new(BlueskyRefresher::new(client.clone())))
//!     .build();
//! let ctx = PublishContext::new(Arc::new(tokens));
//! let target = Target::feed(tenant.account(Platform::Bluesky, session.did.clone()));
//! BlueskyPublisher::new(client)
//!     .publish(&target, &Post::new().with_text("Hello from cmis #rust"), &ctx)
//!     .await?;
//! # Ok(()) }
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

mod client;
mod embed;
mod error;
mod identity;
mod publish;
mod publisher;
pub mod richtext;
mod session;
mod tid;
mod video;

pub use client::{
    BlueskyClient, BlueskyClientBuilder, DEFAULT_PDS_URL, DEFAULT_VIDEO_SERVICE_URL, WEB_APP_URL,
};
pub use identity::{
    DEFAULT_PLC_DIRECTORY_URL, IDENTITY_TTL, Identity, IdentityResolver, IdentityResolverBuilder,
};
pub use publisher::{BlueskyPublisher, POST_COLLECTION};
pub use session::{BlueskyRefresher, Session};
pub use tid::{TID_LEN, Tid};
