//! # cmis-scheduler
//!
//! Durable scheduled publishing for [cmis](https://github.com/cmis-rs/cmis): a post is scheduled
//! once per target, a worker claims it when due, publishes it through the platform's
//! [`Publisher`](cmis_core::Publisher), and records the outcome, exactly once and with an audit
//! trail, on SQLite (embedded, the default) or PostgreSQL (many workers on many machines).
//!
//! ## The state machine
//!
//! ```text
//! scheduled ─claim─▶ publishing ─▶ published
//!     ▲                 │  ├─▶ retry_scheduled (retryable, attempts left; backoff) ─┐
//!     └──── reschedule  │  ├─▶ pending (platform processing; resume later) ─────────┤
//!                       │  ├─▶ unknown_outcome (reconcile via read-only calls) ─────┤
//!                       │  ├─▶ failed (permanent; notify)  └─▶ missed (too late)    │
//!                       └─▶ awaiting_reauth (token refused; no attempt spent)       │
//!                                      claimed again when due ◀─────────────────────┘
//! ```
//!
//! - A publish from the start spends one of the job's attempts ([`JobState::claim_spends_attempt`]);
//!   a snooze, a wait for re-authorisation and a rate limit give it back, so a throttled account
//!   never fails a post: only the staleness deadline ends its wait (`missed`). Which user
//!   changes apply in which state is [`JobState::accepts`].
//! - Claims come in batches, each job with a lease (owner, expiry) and a new fencing token;
//!   every later write about the job is fenced on both, so a worker that lost its lease changes
//!   nothing.
//! - No database transaction is held across a platform call; the call's start is recorded first,
//!   so a crash during it leaves the job in `unknown_outcome` (reconciled, never resent blindly).
//! - Every transition writes an audit record in the same transaction.
//! - Every tenant-facing call is scoped by a [`TenantId`](cmis_core::TenantId).
//!
//! ## Example
//!
//! ```no_run
//! # mod cmis { pub use cmis_core::*; pub mod scheduler { pub use cmis_scheduler::*; } }
//! # async fn f() -> cmis::Result<()> {
//! use cmis::{AccountRef, Platform, Post, PostKey, Target, TenantId};
//! use cmis::scheduler::{JobFilter, JobState, ScheduleStore, SqliteStore};
//!
//! let store = SqliteStore::builder().path("cmis.db").build().await?;
//! let tenant = TenantId::new("acme");
//! let page = AccountRef::new(TenantId::new("acme"), Platform::Facebook, "1234567890");
//! let at = time::OffsetDateTime::now_utc() + time::Duration::hours(2);
//! let jobs = store
//!     .schedule(&tenant, &PostKey::new("post-1"), &Post::new().with_text("Hello"), &[Target::feed(page)], at)
//!     .await?;
//! let waiting = store.list(&tenant, &JobFilter::state(JobState::Scheduled)).await?;
//! assert_eq!(waiting.len(), jobs.len());
//! # Ok(()) }
//! ```
//!
//! ## What is here
//!
//! - [`ScheduleStore`]: the store contract, implemented by [`SqliteStore`], `PgStore` and
//!   [`MemoryScheduleStore`] (tests; follows tokio's paused clock exactly). One conformance suite
//!   (`tests/conformance`) runs against every database backend; its job cases run against the
//!   memory store too.
//! - The database stores also implement [`CredentialStore`](cmis_core::CredentialStore)
//!   (tokens sealed with XChaCha20-Poly1305 under a caller-supplied [`TokenKey`], bound to their
//!   row; compare-and-set on the version) and [`AuditSink`](cmis_core::AuditSink).
//! - [`Scheduler`]: claims due jobs in batches, publishes through each platform's
//!   [`Publisher`](cmis_core::Publisher), writes outcomes in batches, keeps leases alive,
//!   notifies, and stops gracefully; one process per database is the elected leader that rescues
//!   expired leases, sweeps token refreshes and moves finished jobs to history.
//! - [`WebhookNotifier`]: notifications as signed JSON POSTs (Standard Webhooks), checked by
//!   [`verify_webhook`].
//! - [`Zone`]: local times in IANA time zones as instants and back, with gaps and folds settled
//!   explicitly ([`Disambiguation`]), on a bundled time zone database.
//! - With the `ai` feature, the database stores are also cmis-ai's `CacheStore`: the AI
//!   generator's persistent second-level cache (table `ai_cache`, entries kept
//!   `DEFAULT_AI_CACHE_TTL` unless the builder's `ai_cache_ttl` says otherwise).
//!
//! ## Features
//!
//! - `sqlite` (default): [`SqliteStore`], on a bundled SQLite.
//! - `postgres`: `PgStore`, on PostgreSQL (TLS through rustls), with `LISTEN/NOTIFY` wake-ups.
//! - `ai`: [`SqliteStore`] and `PgStore` implement `cmis::ai::CacheStore`.

#![cfg_attr(docsrs, feature(doc_cfg))]
// Without a database backend (the memory store only, as cmis-admin depends on it), the code the
// SQL stores share is unused.
#![cfg_attr(
    not(any(feature = "sqlite", feature = "postgres")),
    allow(dead_code, unused_imports, unused_macros)
)]
pub mod admin;
#[cfg(feature = "ai")]
mod ai_cache;
mod audit_chain;
mod backend;
mod credential_codec;
mod crypto;
mod events;
mod job;
mod memory;
mod outbox;
#[cfg(feature = "postgres")]
mod postgres;
mod rows;
mod scheduler;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql;
#[cfg(feature = "sqlite")]
mod sqlite;
mod state;
mod store;
mod stored;
mod transitions;
mod upgrade;
mod webhook;
mod when;

#[cfg(feature = "ai")]
pub use ai_cache::{DEFAULT_AI_CACHE_TTL, MAX_AI_CACHE_ENTRY_BYTES};
pub use audit_chain::{AuditProblem, AuditVerification};
pub use crypto::TokenKey;
pub use events::{EVENT_BUFFER, Event, JobEvent, TokenEvent};
pub use job::{
    Change, ClaimedJob, Completion, Job, JobError, JobFilter, JobId, JobState, Lease, NewPost,
    Phase, UserAction,
};
pub use memory::MemoryScheduleStore;
pub use outbox::{Delivered, Delivery, DeliveryPolicy};
#[cfg(feature = "postgres")]
pub use postgres::{PgStore, PgStoreBuilder};
pub use scheduler::{
    JobCheckpointSink, JobProgress, MAINTENANCE_LEADER, OutboxNotifier, Scheduler, SchedulerBuilder,
};
#[cfg(feature = "sqlite")]
pub use sqlite::{SqliteStore, SqliteStoreBuilder};
pub use store::{AuditPage, Rejected, ScheduleStore};
pub use stored::MAX_CHECKPOINT_BYTES;
pub use upgrade::{CMIS_VERSION, PROCESS_STALE_AFTER, ProcessRecord};
pub use webhook::{
    WEBHOOK_ID_HEADER, WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TIMESTAMP_HEADER, WebhookNotifier,
    WebhookNotifierBuilder, WebhookSecret, fuzz_verify, verify_webhook,
};
pub use when::{Disambiguation, LocalTime, TZDATA_VERSION, Zone};
