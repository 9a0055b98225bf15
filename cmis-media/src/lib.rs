//! # cmis-media
//!
//! Knows every media file before a platform sees it: sniffs the real type from magic bytes,
//! reads image and MP4/MOV headers, checks each platform's media rules, converts what a platform
//! will not take, makes thumbnails, and plans and streams chunked uploads with progress.
//!
//! **Status:** probing ([`probe_file`], [`probe_bytes`], [`probe`]), platform rules ([`Rules`])
//! and validation ([`validate`], [`validate_with`]), the chunk planner ([`ChunkPlan`]) and the
//! chunked file reader ([`ChunkedFile`]) are implemented; conversion and thumbnails are being
//! built (tracked by the cmis-media issue).

mod chunk;
mod format;
mod probe;
mod rules;
mod stream;
mod validate;

pub use chunk::{Chunk, ChunkPlan, ChunkRules, DEFAULT_CHUNK_SIZE};
pub use format::{ColorType, Format, VideoCodec};
pub use probe::{MediaInfo, probe, probe_bytes, probe_file};
pub use rules::{
    INSTAGRAM_DEFAULT_MAX_HASHTAGS, ImageRules, ItemRules, LengthUnit, RULES_VERSION, Rules,
    TextRules, VideoRules,
};
pub use stream::ChunkedFile;
pub use validate::{validate, validate_with, violations};
