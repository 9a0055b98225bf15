//! Positioned reads over a file or a byte slice, so that one parser serves both and a file is
//! never read whole.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

use cmis_core::{Error, Result};

/// The most bytes a probe reads into memory at once (a `moov` box of a long video can be several
/// megabytes; anything above this is refused rather than allocated).
pub(crate) const MAX_READ: u64 = 128 * 1024 * 1024;

/// Something that can be read at an offset.
pub(crate) trait ReadAt {
    /// Its length in bytes.
    fn size(&self) -> u64;
    /// Fills as much of `buf` as there is at `offset`; returns how many bytes were read.
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<usize>;
}

impl ReadAt for &[u8] {
    fn size(&self) -> u64 {
        self.len() as u64
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let Ok(start) = usize::try_from(offset) else {
            return Ok(0);
        };
        let Some(rest) = self.get(start..) else {
            return Ok(0);
        };
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        Ok(n)
    }
}

/// A file with its size fixed when opened.
pub(crate) struct FileSource {
    pub(crate) file: File,
    pub(crate) size: u64,
}

impl ReadAt for FileSource {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        if offset >= self.size {
            return Ok(0);
        }
        self.file.seek(SeekFrom::Start(offset))?;
        let mut filled = 0;
        while filled < buf.len() {
            match self.file.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(filled)
    }
}

/// Reads up to `len` bytes at `offset` (fewer at the end of the input).
pub(crate) fn read_up_to(src: &mut dyn ReadAt, offset: u64, len: u64) -> Result<Vec<u8>> {
    let available = src.size().saturating_sub(offset).min(len);
    if available > MAX_READ {
        return Err(Error::unsupported(format!(
            "a header of {available} bytes is larger than the {MAX_READ} bytes cmis reads to probe"
        )));
    }
    let n = usize::try_from(available)
        .map_err(|_| Error::unsupported("header too large for this platform"))?;
    let mut buf = vec![0; n];
    let got = src.read_at(offset, &mut buf).map_err(read_error)?;
    buf.truncate(got);
    Ok(buf)
}

/// Reads exactly `len` bytes at `offset`, or fails with a "truncated" error naming `what`.
pub(crate) fn read_exact(
    src: &mut dyn ReadAt,
    offset: u64,
    len: u64,
    what: &str,
) -> Result<Vec<u8>> {
    let buf = read_up_to(src, offset, len)?;
    if (buf.len() as u64) < len {
        return Err(Error::invalid_input(format!(
            "truncated: {what} needs {len} bytes at offset {offset} but the file ends at {}",
            src.size()
        )));
    }
    Ok(buf)
}

fn read_error(e: io::Error) -> Error {
    Error::internal(format!("read failed: {e}")).with_source(e)
}
