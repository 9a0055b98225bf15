//! # cmis-media
//!
//! Knows every media file before a platform sees it: sniffs the real type from magic bytes,
//! reads image and MP4/MOV headers, checks each platform's media rules, converts what a platform
//! will not take, makes thumbnails, and plans and streams chunked uploads with progress.
//!
//! **Status:** not implemented yet (tracked by the cmis-media issue). This crate exports nothing
//! so far; nothing in it pretends to work.
