//! Reading a file chunk by chunk, without loading the file into memory.

use std::fmt;
use std::io::SeekFrom;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use cmis_core::{Error, Progress, ProgressSink, Result};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::{Chunk, ChunkPlan};

/// A file opened for chunked upload: its size is fixed when opened, and each chunk is read on
/// demand, so memory holds one chunk at a time.
///
/// ```no_run
/// # mod cmis { pub use cmis_core::*; pub mod media { pub use cmis_media::*; } }
/// # async fn demo() -> cmis::Result<()> {
/// use cmis::media::{ChunkPlan, ChunkedFile};
/// let mut file = ChunkedFile::open("video.mp4").await?;
/// let plan = ChunkPlan::tiktok(file.size())?;
/// for chunk in plan.chunks() {
///     let bytes = file.read_chunk(&chunk).await?;
///     // PUT `bytes` with `Content-Range: chunk.content_range()`.
///     # let _ = bytes;
/// }
/// # Ok(()) }
/// ```
///
/// With [`with_progress`](Self::with_progress), the uploader calls
/// [`chunk_sent`](Self::chunk_sent) after the platform accepted each chunk, and the caller's
/// [`ProgressSink`] hears `(bytes sent, total)`.
pub struct ChunkedFile {
    path: PathBuf,
    file: tokio::fs::File,
    size: u64,
    progress: Option<(usize, Arc<dyn ProgressSink>)>,
}

impl fmt::Debug for ChunkedFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChunkedFile")
            .field("path", &self.path)
            .field("size", &self.size)
            .field("progress", &self.progress.as_ref().map(|(index, _)| index))
            .finish_non_exhaustive()
    }
}

impl ChunkedFile {
    /// Opens `path` for reading and records its size.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let file = tokio::fs::File::open(&path)
            .await
            .map_err(|e| io_error(&path, "cannot be opened", e))?;
        let meta = file
            .metadata()
            .await
            .map_err(|e| io_error(&path, "cannot be read", e))?;
        if !meta.is_file() {
            return Err(Error::invalid_input(format!(
                "{} is not a regular file",
                path.display()
            )));
        }
        Ok(Self {
            path,
            file,
            size: meta.len(),
            progress: None,
        })
    }

    /// Reports progress to `sink` as item `media_index` of the post (see [`Progress`]).
    #[must_use]
    pub fn with_progress(mut self, media_index: usize, sink: Arc<dyn ProgressSink>) -> Self {
        self.progress = Some((media_index, sink));
        self
    }

    /// Records that `chunk` was accepted by the platform: reports the bytes sent so far (the end
    /// of the chunk, so a resumed upload reports from where it resumed) and the total.
    pub fn chunk_sent(&self, chunk: &Chunk) {
        self.sent_up_to(chunk.offset.saturating_add(chunk.len));
    }

    /// Records that the platform holds the file's first `end` bytes (the offset a resumable
    /// upload's server reported, or the end of the range just accepted).
    pub fn sent_up_to(&self, end: u64) {
        if let Some((index, sink)) = &self.progress {
            sink.progress(&Progress::new(*index, end.min(self.size), self.size));
        }
    }

    /// The file's size when it was opened.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// TikTok's chunk plan for this file.
    pub fn tiktok_plan(&self) -> Result<ChunkPlan> {
        ChunkPlan::tiktok(self.size)
    }

    /// Reads exactly the bytes of `chunk`. A file that shrank since it was opened is an
    /// [`InvalidInput`](cmis_core::ErrorKind::InvalidInput) error.
    pub async fn read_chunk(&mut self, chunk: &Chunk) -> Result<Bytes> {
        if chunk.total != self.size {
            return Err(Error::invalid_input(format!(
                "chunk {} does not fit {} ({} bytes)",
                chunk.content_range(),
                self.path.display(),
                self.size
            )));
        }
        self.read_range(chunk.offset, chunk.len).await
    }

    /// Reads exactly `len` bytes from `offset`: for a protocol whose server says where to go on
    /// (YouTube's resumable upload answers with the bytes it holds), or whose upload
    /// instructions name byte ranges (LinkedIn's video parts).
    ///
    /// A range past the end of the file is an
    /// [`InvalidInput`](cmis_core::ErrorKind::InvalidInput) error.
    pub async fn read_range(&mut self, offset: u64, len: u64) -> Result<Bytes> {
        if offset.checked_add(len).is_none_or(|end| end > self.size) {
            return Err(Error::invalid_input(format!(
                "bytes {offset}..{} are outside {} ({} bytes)",
                offset.saturating_add(len),
                self.path.display(),
                self.size
            )));
        }
        let len = usize::try_from(len)
            .map_err(|_| Error::invalid_input(format!("a read of {len} bytes is too large")))?;
        self.file
            .seek(SeekFrom::Start(offset))
            .await
            .map_err(|e| io_error(&self.path, "cannot be read", e))?;
        let mut buf = BytesMut::zeroed(len);
        self.file.read_exact(&mut buf).await.map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                Error::invalid_input(format!(
                    "{} changed while it was being uploaded (shorter than {} bytes)",
                    self.path.display(),
                    self.size
                ))
            } else {
                io_error(&self.path, "cannot be read", e)
            }
        })?;
        Ok(buf.freeze())
    }
}

fn io_error(path: &Path, what: &str, e: std::io::Error) -> Error {
    let kind = if e.kind() == std::io::ErrorKind::NotFound {
        cmis_core::ErrorKind::InvalidInput
    } else {
        cmis_core::ErrorKind::Internal
    };
    Error::new(kind, format!("{} {what}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn chunks_reassemble_the_file() {
        let dir = std::env::temp_dir().join(format!("cmis-media-stream-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("data.bin");
        let data: Vec<u8> = (0..12_000_003u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let mut file = ChunkedFile::open(&path).await.unwrap();
        let plan = ChunkPlan::with_chunk_size(file.size(), 5 * 1024 * 1024).unwrap();
        let mut joined = Vec::new();
        for chunk in plan.chunks() {
            joined.extend_from_slice(&file.read_chunk(&chunk).await.unwrap());
        }
        assert_eq!(joined, data);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn progress_reports_every_accepted_chunk() {
        use std::sync::Mutex;
        let dir = std::env::temp_dir().join(format!("cmis-media-progress-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("data.bin");
        let size = 11 * 1024 * 1024 + 5;
        std::fs::File::create(&path).unwrap().set_len(size).unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = {
            let seen = Arc::clone(&seen);
            move |p: &Progress| {
                seen.lock()
                    .unwrap()
                    .push((p.media_index, p.bytes_sent, p.total_bytes))
            }
        };
        let mut file = ChunkedFile::open(&path)
            .await
            .unwrap()
            .with_progress(2, Arc::new(sink));
        let plan = ChunkPlan::with_chunk_size(file.size(), 5 * 1024 * 1024).unwrap();
        for chunk in plan.chunks() {
            let bytes = file.read_chunk(&chunk).await.unwrap();
            assert_eq!(bytes.len() as u64, chunk.len);
            file.chunk_sent(&chunk);
        }
        assert_eq!(
            *seen.lock().unwrap(),
            vec![(2, 5 * 1024 * 1024, size), (2, size, size)]
        );
        assert!(format!("{file:?}").contains("progress: Some(2)"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_missing_file_is_invalid_input() {
        let err = ChunkedFile::open("/nonexistent/cmis/video.mp4")
            .await
            .unwrap_err();
        assert_eq!(err.kind(), cmis_core::ErrorKind::InvalidInput);
    }
}
