//! The data model: platforms, accounts, posts, media, receipts, checkpoints and credentials.

mod credential;
mod ids;
mod media;
mod metrics;
mod options;
mod platform;
mod post;
mod receipt;
mod target;

pub use credential::Credential;
pub use ids::{AccountId, PostId, PostKey, TenantId};
pub use media::{Media, MediaSource};
pub use metrics::{
    AccountSignals, MediaKind, MetricValue, OnlineDay, PostMetrics, RecentPost, RefusedMetric,
};
pub use options::{LinkedInOptions, LinkedInVisibility, YouTubeOptions, YouTubePrivacy};
pub use platform::{Platform, Surface};
pub use post::{
    BlueskyOptions, FacebookOptions, InstagramOptions, PlatformOptions, Post, PrivacyLevel,
    ReplyControl, ThreadsOptions, TikTokOptions,
};
pub use receipt::{Checkpoint, Outcome, Receipt, ReceiptState, Reconciliation};
pub use target::{AccountRef, Target};
