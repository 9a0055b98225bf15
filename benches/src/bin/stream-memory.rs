//! Streams a 1 GiB file through `cmis_media::ChunkedFile` chunk by chunk and checks that peak
//! memory stays under 2 × chunk + 32 MiB, as an upload of a large video must.
//!
//! The file is created sparse in the temporary directory (so the run needs no free disk space to
//! speak of) and removed afterwards. Peak memory is the kernel's high-water mark of the resident
//! set, `VmHWM` in `/proc/self/status` (Linux only).
//!
//! ```text
//! cargo run --release -p cmis-benches --bin stream-memory [-- FILE_BYTES [CHUNK_BYTES]]
//! ```
//!
//! The last line is `file_bytes=… chunk_bytes=… peak_rss_bytes=… limit_bytes=…`; the exit status
//! is non-zero when the peak is over the limit.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use cmis_core::Progress;
use cmis_media::{ChunkPlan, ChunkedFile, DEFAULT_CHUNK_SIZE};

const GIB: u64 = 1024 * 1024 * 1024;
const SLACK: u64 = 32 * 1024 * 1024;

fn peak_rss_bytes() -> Result<u64, String> {
    let status = std::fs::read_to_string("/proc/self/status")
        .map_err(|e| format!("cannot read /proc/self/status: {e}"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .ok_or("no VmHWM line in /proc/self/status")?;
    let kib: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .map_err(|e| format!("bad VmHWM line {line:?}: {e}"))?;
    Ok(kib * 1024)
}

struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

async fn run(file_bytes: u64, chunk_bytes: u64) -> Result<(u64, u64, u64), String> {
    let path = std::env::temp_dir().join(format!("cmis-stream-memory-{}.bin", std::process::id()));
    let file =
        std::fs::File::create(&path).map_err(|e| format!("create {}: {e}", path.display()))?;
    let _guard = TempFile(path.clone());
    // Sparse: the length is set without writing, so reading returns zeros from no disk blocks.
    file.set_len(file_bytes)
        .map_err(|e| format!("set_len: {e}"))?;
    drop(file);

    let sent = Arc::new(AtomicU64::new(0));
    let sink = {
        let sent = Arc::clone(&sent);
        move |p: &Progress| sent.store(p.bytes_sent, Ordering::Relaxed)
    };
    let mut reader = ChunkedFile::open(&path)
        .await
        .map_err(|e| e.to_string())?
        .with_progress(0, Arc::new(sink));
    let plan = ChunkPlan::with_chunk_size(reader.size(), chunk_bytes).map_err(|e| e.to_string())?;
    let mut checksum = 0u64;
    let mut largest = 0u64;
    for chunk in plan.chunks() {
        let bytes = reader.read_chunk(&chunk).await.map_err(|e| e.to_string())?;
        // Touch every page so the chunk is really resident, as an upload would.
        checksum = bytes
            .iter()
            .step_by(4096)
            .fold(checksum, |acc, &b| acc.wrapping_add(u64::from(b)));
        largest = largest.max(bytes.len() as u64);
        reader.chunk_sent(&chunk);
    }
    if sent.load(Ordering::Relaxed) != file_bytes {
        return Err(format!(
            "progress reported {} of {file_bytes} bytes",
            sent.load(Ordering::Relaxed)
        ));
    }
    if checksum != 0 {
        return Err("a sparse file read back non-zero bytes".into());
    }
    Ok((plan.chunk_count(), largest, peak_rss_bytes()?))
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let file_bytes = args.next().and_then(|a| a.parse().ok()).unwrap_or(GIB);
    let chunk_bytes = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(DEFAULT_CHUNK_SIZE);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start tokio: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (chunks, largest, peak) = match runtime.block_on(run(file_bytes, chunk_bytes)) {
        Ok(result) => result,
        Err(e) => {
            eprintln!("stream-memory failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    let limit = 2 * chunk_bytes + SLACK;
    eprintln!(
        "{chunks} chunks, the largest (the last, which absorbs the remainder) {largest} bytes"
    );
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "file_bytes={file_bytes} chunk_bytes={chunk_bytes} peak_rss_bytes={peak} limit_bytes={limit}"
    );
    if peak < limit {
        ExitCode::SUCCESS
    } else {
        eprintln!("peak RSS {peak} bytes is not under the limit {limit} bytes");
        ExitCode::FAILURE
    }
}
