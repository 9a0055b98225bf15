//! # cmis-meta
//!
//! Publishes to Facebook Pages and Instagram professional accounts through the Meta Graph API's
//! real wire protocol, with checkpoints, error classification, usage-header throttling and token
//! exchange and refresh.
//!
//! **Status:** not implemented yet (tracked by the cmis-meta issue). This crate exports nothing
//! so far; nothing in it pretends to work.
