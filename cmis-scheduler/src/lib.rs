//! # cmis-scheduler
//!
//! Durable scheduled publishing: a `ScheduleStore` on SQLite (embedded, the default) or
//! PostgreSQL (many workers on many machines), leases with fencing tokens, retries, dead letters,
//! reconciliation of unknown outcomes, and a token-refresh sweep.
//!
//! **Status:** not implemented yet (tracked by the cmis-scheduler issue). This crate exports
//! nothing so far; nothing in it pretends to work.
