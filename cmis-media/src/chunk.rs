//! Chunk planning for chunked uploads, with TikTok's rules as the reference.
//!
//! TikTok's media transfer guide: `total_chunk_count = floor(video_size / chunk_size)`; every
//! chunk is 5 MB to 64 MB except the last, which absorbs the trailing bytes (up to 128 MB); files
//! under 5 MB go as one chunk with `chunk_size = video_size`; files over 64 MB must be split; 1 to
//! 1000 chunks, uploaded in order. "MB" is ambiguous on TikTok's page, so cmis stays inside the
//! window that works whichever way it is read: chunk sizes in `[5 MiB, 64 000 000]` bytes.

use std::fmt;

use cmis_core::{Error, Result};

/// The rules a chunk plan must satisfy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChunkRules {
    /// The smallest chunk (except a single chunk holding the whole file).
    pub min_chunk: u64,
    /// The largest chunk, except the last.
    pub max_chunk: u64,
    /// The largest last chunk (which absorbs the remainder).
    pub max_last_chunk: u64,
    /// The most chunks.
    pub max_chunks: u64,
}

impl ChunkRules {
    /// TikTok's `FILE_UPLOAD` rules, in the safe window `[5 MiB, 64 000 000]`.
    pub const TIKTOK: ChunkRules = ChunkRules {
        min_chunk: 5 * 1024 * 1024,
        max_chunk: 64_000_000,
        max_last_chunk: 128_000_000,
        max_chunks: 1000,
    };
}

/// One chunk of a plan: bytes `offset .. offset + len` of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Chunk {
    /// 0-based position in the plan.
    pub index: u64,
    /// The first byte's offset in the file.
    pub offset: u64,
    /// The chunk's length in bytes (never zero).
    pub len: u64,
    /// The file's total size.
    pub total: u64,
}

impl Chunk {
    /// The offset of the chunk's last byte.
    pub fn last_byte(&self) -> u64 {
        self.offset + self.len - 1
    }

    /// The `Content-Range` header value: `bytes {first}-{last}/{total}`.
    pub fn content_range(&self) -> String {
        format!("bytes {}-{}/{}", self.offset, self.last_byte(), self.total)
    }
}

/// How a file of `total_size` bytes is cut into chunks.
///
/// ```
/// # mod cmis { pub use cmis_core::*; pub mod media { pub use cmis_media::*; } }
/// use cmis::media::ChunkPlan;
/// // TikTok's own example: 50 000 123 bytes at 10 000 000 per chunk is 5 PUTs, the last 10 000 123 bytes.
/// let plan = ChunkPlan::with_chunk_size(50_000_123, 10_000_000)?;
/// assert_eq!(plan.chunk_count(), 5);
/// let last = plan.chunks().last().unwrap();
/// assert_eq!(last.len, 10_000_123);
/// assert_eq!(last.content_range(), "bytes 40000000-50000122/50000123");
/// # Ok::<(), cmis::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkPlan {
    total_size: u64,
    chunk_size: u64,
    chunk_count: u64,
}

/// The chunk size [`ChunkPlan::tiktok`] uses for files too large for one chunk: 10 MiB keeps
/// memory low and each retried chunk small.
pub const DEFAULT_CHUNK_SIZE: u64 = 10 * 1024 * 1024;

impl ChunkPlan {
    /// TikTok's plan for a file of `total_size` bytes: one chunk up to 64 000 000 bytes (the only
    /// shape TikTok has accepted reliably since multi-chunk inits started failing in 2026), else
    /// [`DEFAULT_CHUNK_SIZE`] chunks.
    pub fn tiktok(total_size: u64) -> Result<Self> {
        if total_size <= ChunkRules::TIKTOK.max_chunk {
            Self::with_chunk_size(total_size, total_size.max(1))
        } else {
            Self::with_chunk_size(total_size, DEFAULT_CHUNK_SIZE)
        }
    }

    /// A plan with chunks of `chunk_size` under TikTok's rules. A file smaller than 5 MiB is
    /// always one chunk whatever `chunk_size` says.
    pub fn with_chunk_size(total_size: u64, chunk_size: u64) -> Result<Self> {
        Self::with_rules(total_size, chunk_size, &ChunkRules::TIKTOK)
    }

    /// A plan with chunks of `chunk_size` under `rules`, or an
    /// [`InvalidInput`](cmis_core::ErrorKind::InvalidInput) error naming the rule it would break.
    pub fn with_rules(total_size: u64, chunk_size: u64, rules: &ChunkRules) -> Result<Self> {
        if total_size == 0 {
            return Err(Error::invalid_input(
                "cannot upload an empty file (0 bytes)",
            ));
        }
        if total_size < rules.min_chunk {
            return Ok(Self {
                total_size,
                chunk_size: total_size,
                chunk_count: 1,
            });
        }
        if chunk_size < rules.min_chunk || chunk_size > rules.max_chunk {
            return Err(Error::invalid_input(format!(
                "chunk size {chunk_size} bytes is outside the allowed {}..={} bytes",
                rules.min_chunk, rules.max_chunk
            )));
        }
        let chunk_size = chunk_size.min(total_size);
        let chunk_count = total_size / chunk_size;
        let last = total_size - (chunk_count - 1) * chunk_size;
        if chunk_count > rules.max_chunks {
            return Err(Error::invalid_input(format!(
                "{total_size} bytes in chunks of {chunk_size} would need {chunk_count} chunks; at most {} are allowed",
                rules.max_chunks
            )));
        }
        if last > rules.max_last_chunk {
            return Err(Error::invalid_input(format!(
                "the last chunk would be {last} bytes; at most {} are allowed",
                rules.max_last_chunk
            )));
        }
        Ok(Self {
            total_size,
            chunk_size,
            chunk_count,
        })
    }

    /// The file's size.
    pub fn total_size(&self) -> u64 {
        self.total_size
    }

    /// The size of every chunk but the last (TikTok's `chunk_size`).
    pub fn chunk_size(&self) -> u64 {
        self.chunk_size
    }

    /// The number of chunks (TikTok's `total_chunk_count`).
    pub fn chunk_count(&self) -> u64 {
        self.chunk_count
    }

    /// Chunk `index`, if the plan has it.
    pub fn chunk(&self, index: u64) -> Option<Chunk> {
        if index >= self.chunk_count {
            return None;
        }
        let offset = index * self.chunk_size;
        let len = if index + 1 == self.chunk_count {
            self.total_size - offset
        } else {
            self.chunk_size
        };
        Some(Chunk {
            index,
            offset,
            len,
            total: self.total_size,
        })
    }

    /// The chunk holding byte `offset` (for resuming from the offset a server reports).
    pub fn chunk_at(&self, offset: u64) -> Option<Chunk> {
        if offset >= self.total_size {
            return None;
        }
        self.chunk((offset / self.chunk_size).min(self.chunk_count - 1))
    }

    /// Every chunk, in upload order.
    pub fn chunks(&self) -> impl Iterator<Item = Chunk> + '_ {
        (0..self.chunk_count).filter_map(|i| self.chunk(i))
    }
}

impl fmt::Display for ChunkPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} bytes in {} chunk(s) of {} bytes",
            self.total_size, self.chunk_count, self.chunk_size
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_files_are_one_chunk() {
        let plan = ChunkPlan::with_chunk_size(1, 10_000_000).unwrap();
        assert_eq!((plan.chunk_count(), plan.chunk_size()), (1, 1));
        let plan = ChunkPlan::tiktok(5 * 1024 * 1024 - 1).unwrap();
        assert_eq!(plan.chunk_count(), 1);
        assert_eq!(
            plan.chunk(0).unwrap().content_range(),
            "bytes 0-5242878/5242879"
        );
    }

    #[test]
    fn up_to_64_000_000_bytes_tiktok_uses_one_chunk() {
        let plan = ChunkPlan::tiktok(64_000_000).unwrap();
        assert_eq!((plan.chunk_count(), plan.chunk_size()), (1, 64_000_000));
        let plan = ChunkPlan::tiktok(64_000_001).unwrap();
        assert_eq!(plan.chunk_size(), DEFAULT_CHUNK_SIZE);
        assert_eq!(plan.chunk_count(), 64_000_001 / DEFAULT_CHUNK_SIZE);
    }

    #[test]
    fn out_of_window_chunk_sizes_are_refused() {
        for bad in [5 * 1024 * 1024 - 1, 64_000_001] {
            let err = ChunkPlan::with_chunk_size(500_000_000, bad).unwrap_err();
            assert_eq!(err.kind(), cmis_core::ErrorKind::InvalidInput);
        }
        assert!(ChunkPlan::tiktok(0).is_err());
    }

    #[test]
    fn too_many_chunks_are_refused() {
        let chunk = 5 * 1024 * 1024;
        assert!(ChunkPlan::with_chunk_size(chunk * 1000, chunk).is_ok());
        assert!(ChunkPlan::with_chunk_size(chunk * 1001, chunk).is_err());
    }

    #[test]
    fn resume_finds_the_chunk_holding_an_offset() {
        let plan = ChunkPlan::with_chunk_size(50_000_123, 10_000_000).unwrap();
        assert_eq!(plan.chunk_at(0).unwrap().index, 0);
        assert_eq!(plan.chunk_at(20_000_000).unwrap().index, 2);
        assert_eq!(plan.chunk_at(50_000_000).unwrap().index, 4);
        assert_eq!(plan.chunk_at(50_000_123), None);
    }
}
