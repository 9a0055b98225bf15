//! LinkedIn connector for cmis: publishes to members and organization pages through the Posts
//! API (`/rest/posts`), with the `LinkedIn-Version` a setting.
//!
//! - **OAuth.** [`LinkedInClient::authorize_url`], [`LinkedInClient::exchange_code`], and
//!   [`LinkedInRefresher`] for apps approved for programmatic refresh. Every lifetime is read
//!   from LinkedIn's answers; the refresh token's expiry (never reset by a refresh) is the
//!   date the member must authorise again.
//! - **Text that arrives whole.** Commentary is little text: [`little_text::escape`] escapes
//!   every reserved character, keeping mentions and hashtags, so LinkedIn never cuts a post at
//!   a stray `(`. The 3 000 limit is counted on the escaped text.
//! - **Media.** Images (one `PUT` each), multi-image posts (2–20), videos (the parts
//!   LinkedIn's upload instructions name, finalized with their ETags, polled until available)
//!   and documents; a post's link becomes an article card with the post's image as thumbnail.
//! - **Never two posts.** LinkedIn has no idempotency key; [`LinkedInPublisher`] checkpoints
//!   the post with when it was first sent, re-sends a lost create only while LinkedIn's
//!   duplicate check would name the first post (`DUPLICATE_POST`), and otherwise lists the
//!   page's posts, or says it cannot tell.
//! - **Versions retire.** A retired `LinkedIn-Version` (HTTP 426) is an
//!   [`Unsupported`](cmis_core::ErrorKind::Unsupported) error naming the setting to change;
//!   [`ApiVersion::sunset_warning`] warns 60 days ahead.
//!
//! Comments ([`LinkedInPublisher::comment`]) are plain text, never escaped. Not written yet: polls,
//! reshares and deleting posts.
//!
//! ```no_run
//! # mod cmis { pub use cmis_core::*; pub mod linkedin { pub use cmis_linkedin::*; } }
//! # async fn demo() -> cmis::Result<()> {
//! use std::sync::Arc;
//! use cmis::linkedin::{DEFAULT_SCOPES, LinkedInClient, LinkedInPublisher, LinkedInRefresher};
//! use cmis::{
//!     CredentialStore, MemoryCredentialStore, Platform, Post, PublishContext, Publisher,
//!     RefreshingTokenProvider, SecretString, Target, TenantId,
//! };
//!
//! let client = LinkedInClient::builder()
//!     .client_id("861hhm46p48to2")
//!     .client_secret(SecretString::from("app secret"))
//!     .build()?;
//! // Send the member to `authorize_url`, then exchange the code LinkedIn returns.
//! let _url = client.authorize_url("https://app.example.com/li/callback", "st4te", DEFAULT_SCOPES)?;
//! let tokens = client.exchange_code("code-from-callback", "https://app.example.com/li/callback").await?;
//! let author = format!("urn:li:person:{}", client.member_id(&tokens.access_token).await?);
//! let account = TenantId::new("acme").account(Platform::LinkedIn, author);
//! let store = Arc::new(MemoryCredentialStore::new());
//! store.put_credential(tokens.credential(account.clone())).await?;
//! let tokens = RefreshingTokenProvider::builder(store)
//!     .refresher(Arc::new(LinkedInRefresher::new(client.clone())))
//!     .build();
//! let ctx = PublishContext::new(Arc::new(tokens));
//! LinkedInPublisher::new(client)
//!     .publish(&Target::feed(account), &Post::new().with_text("Hello (from cmis)"), &ctx)
//!     .await?;
//! # Ok(()) }
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

mod client;
mod comment;
mod error;
pub mod little_text;
mod media;
mod oauth;
mod publish;
mod publisher;
mod validate;
mod version;

pub use client::{
    DEFAULT_API_URL, DEFAULT_AUTHORIZE_URL, DEFAULT_TOKEN_URL, LinkedInClient,
    LinkedInClientBuilder, WEB_URL,
};
pub use oauth::{DEFAULT_SCOPES, LinkedInRefresher, LinkedInTokens};
pub use publish::{POST_READY, VIDEO_PROCESSING};
pub use publisher::{DEFAULT_DUPLICATE_WINDOW, LinkedInPublisher};
pub use validate::{MAX_COMMENTARY, MAX_IMAGE_PIXELS, MAX_IMAGES};
pub use version::{ApiVersion, DEFAULT_VERSION, SUNSET_WARNING};
