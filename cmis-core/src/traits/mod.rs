//! The traits other crates implement and plug into each other.

mod audit;
mod generate;
mod insights;
mod notify;
mod publisher;
mod store;
mod token;

pub use audit::{AuditRecord, AuditSink};
pub use generate::{
    CacheMode, ContentGenerator, GenerateRequest, Generated, GenerationTask, Provenance, Usage,
};
pub use insights::InsightsReader;
pub use notify::{Notification, NotificationKind, Notifier};
pub use publisher::{
    Capabilities, CheckpointSink, DiscardCheckpoints, Progress, ProgressSink, PublishContext,
    Publisher, unsaved_after_mutation,
};
pub use store::{CasOutcome, CredentialStore};
pub use token::{AccessToken, RefreshedToken, StaticTokenProvider, TokenProvider, TokenRefresher};
