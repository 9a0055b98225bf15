//! # cmis
//!
//! Publish to Facebook Pages, Instagram, Threads, TikTok, Bluesky, LinkedIn and YouTube **for real** from any Rust program: compose a
//! post once, check it against each platform's rules, upload its media, publish it through the
//! platforms' real APIs, keep the tokens fresh, write the copy with AI that is cached and falls
//! back across providers, and schedule it all durably.
//!
//! This is the facade: one dependency that re-exports the cmis crates behind features.
//!
//! ## The five-minute tour
//!
//! **1. A post is composed once.** [`Post`] holds the text, the [`Media`] (a local path, bytes
//! or a URL) and options only some platforms read, such as TikTok's privacy level — which has no
//! default, because TikTok requires the user to choose.
//!
//! ```
//! use cmis::{Media, Post, PrivacyLevel, TikTokOptions};
//! let post = Post::new()
//!     .with_text("Autumn menu is here 🍂")
//!     .with_media(Media::path("menu.mp4"))
//!     .with_tiktok(TikTokOptions::new().with_privacy_level(PrivacyLevel::PublicToEveryone));
//! # let _ = post;
//! ```
//!
//! **2. It goes to a [`Target`]**: an account ([`AccountRef`]: tenant, platform, account id) and
//! a [`Surface`] (feed, reel, story).
//!
//! **3. A [`Publisher`] publishes it** — one per platform, in [`meta`], [`tiktok`], [`bluesky`],
//! [`linkedin`] and [`youtube`]. Its
//! `validate` refuses a post that the platform would refuse, before any network call, listing
//! every broken rule ([`Error::violation_list`]). Its `publish` returns
//! [`Outcome::Published`] with a [`Receipt`] only when the platform returned an id, or
//! [`Outcome::Pending`] with a [`Checkpoint`] while the platform is still processing. Every
//! created container, upload session or publish id is handed to the [`PublishContext`]'s
//! checkpoint sink *before* the next mutating call, so a crash resumes instead of posting twice.
//!
//! **4. Tokens stay fresh.** The [`RefreshingTokenProvider`] refreshes ahead of expiry, once per
//! account however many callers ask, and stores a rotated refresh token before using the new
//! access token. A token that cannot be refreshed turns into a re-authorisation
//! [`Notification`], not a silent failure.
//!
//! **5. Failures say what to do.** Every error has an [`ErrorKind`]: fix the input, re-authorise,
//! wait ([`Error::retry_after`]), change the content, or — for [`ErrorKind::UnknownOutcome`] —
//! reconcile, because the platform may have acted. [`RetryPolicy`] retries only what is safe.
//!
//! **6. Scheduling is durable** ([`scheduler`]): jobs in SQLite (embedded) or PostgreSQL (many
//! workers on many machines), claimed with leases and fencing tokens, retried with backoff,
//! parked for re-authorisation, marked missed when too late, every transition audited.
//!
//! **7. AI copy** ([`ai`]): OpenAI-compatible, Anthropic and Gemini behind a cache, a fallback
//! router with circuit breakers and a cost ledger, ending in an offline generator that needs no
//! network and no key.
//!
//! **8. Try it offline** (`cmis::sandbox`, feature `sandbox`): local fakes of the Meta Graph API,
//! the Threads API, TikTok's Content Posting API, a Bluesky PDS, LinkedIn and YouTube, written
//! from the platforms'
//! documentation, with fault injection.
//!
//! ## Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `media` | yes (via the platform features) | [`media`]: probing, rules, conversion, chunked streaming |
//! | `meta` | yes | [`meta`]: Facebook Pages, Instagram and Threads |
//! | `tiktok` | yes | [`tiktok`]: TikTok |
//! | `bluesky` | yes | [`bluesky`]: Bluesky |
//! | `linkedin` | yes | [`linkedin`]: LinkedIn members and pages |
//! | `youtube` | yes | [`youtube`]: YouTube |
//! | `ai` | yes | [`ai`]: content generation |
//! | `scheduler` | yes | [`scheduler`]: durable scheduling |
//! | `sqlite` | yes | the scheduler's SQLite backend |
//! | `postgres` | no | the scheduler's PostgreSQL backend |
//! | `sandbox` | no | `cmis::sandbox`: local fake platforms |

#![cfg_attr(docsrs, feature(doc_cfg))]
#[doc(inline)]
pub use cmis_core::*;

/// Media probing, platform media rules, conversion, thumbnails and chunked streaming.
#[cfg(feature = "media")]
#[doc(inline)]
pub use cmis_media as media;

/// Facebook Pages and Instagram over the Meta Graph API.
#[cfg(feature = "meta")]
#[doc(inline)]
pub use cmis_meta as meta;

/// TikTok's Content Posting API.
#[cfg(feature = "tiktok")]
#[doc(inline)]
pub use cmis_tiktok as tiktok;

/// Bluesky over the AT Protocol.
#[cfg(feature = "bluesky")]
#[doc(inline)]
pub use cmis_bluesky as bluesky;

/// LinkedIn members and organization pages through the Posts API.
#[cfg(feature = "linkedin")]
#[doc(inline)]
pub use cmis_linkedin as linkedin;

/// YouTube through the YouTube Data API v3.
#[cfg(feature = "youtube")]
#[doc(inline)]
pub use cmis_youtube as youtube;

/// AI content generation: providers, cache, fallback, offline generator.
#[cfg(feature = "ai")]
#[doc(inline)]
pub use cmis_ai as ai;

/// Durable scheduled publishing.
#[cfg(feature = "scheduler")]
#[doc(inline)]
pub use cmis_scheduler as scheduler;

/// Local fake platforms for tests and demos.
#[cfg(feature = "sandbox")]
#[doc(inline)]
pub use cmis_sandbox as sandbox;

/// The README's Rust examples, compiled as doctests so that they cannot go stale.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
