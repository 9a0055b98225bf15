//! # cmis-tiktok
//!
//! Publishes to TikTok through the Content Posting API: OAuth with rotating refresh tokens, the
//! creator-info gate, chunked uploads, status polling, and TikTok's error codes.
//!
//! **Status:** not implemented yet (tracked by the cmis-tiktok issue). This crate exports nothing
//! so far; nothing in it pretends to work.
