//! Runnable examples of cmis, and the pieces they share. Each example is a file beside this one;
//! run one from the repository root with `cargo run --example NAME`:
//!
//! - `quickstart`: sandbox platforms, SQLite, offline captions, the scheduler and the real
//!   connectors, end to end and offline.
//! - `publish`: one post to Facebook, Instagram, TikTok or Bluesky, through the real API or any server
//!   that speaks it (such as `cargo run -p cmis-sandbox`).
//! - `schedule`: the scheduler driven from a shell, on SQLite or PostgreSQL.
//! - `refresh-tokens`: the token-refresh sweep, once.
//! - `generate`: captions and hashtags from the AI providers whose keys are set, then offline.

pub mod cli;
pub mod connectors;
pub mod db;
pub mod prometheus;
pub mod publish_args;
pub mod schedule_args;
