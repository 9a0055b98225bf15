//! # cmis-media
//!
//! Knows every media file before a platform sees it: sniffs the real type from magic bytes,
//! reads image and MP4/MOV headers, checks each platform's media rules, converts what a platform
//! will not take, makes thumbnails, and plans and streams chunked uploads with progress.
//!
//! **Status:** the chunk planner ([`ChunkPlan`]) and chunked file reader ([`ChunkedFile`]) are implemented; probing, rules, conversion and
//! streaming are being built (tracked by the cmis-media issue).

mod chunk;
mod stream;

pub use chunk::{Chunk, ChunkPlan, ChunkRules, DEFAULT_CHUNK_SIZE};
pub use stream::ChunkedFile;
