//! Runnable examples of cmis, and the pieces they share. Each example is a file beside this one;
//! run one from the repository root with `cargo run --example NAME`:
//!
//! - `quickstart`: the model, the token provider and the retry policy, offline.

pub mod cli;
pub mod publish_args;
