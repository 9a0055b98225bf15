//! Publishes a 1 GiB video from disk through `YouTubePublisher` (resumable upload, chunk by
//! chunk) and checks that peak memory stays under 2 × chunk + 32 MiB (issue 20).
//!
//! The video is a sparse file in the temporary directory, removed afterwards (also on error):
//! a small valid MP4 (`cmis_media::sample::mp4`, 1080×1920, 60 s) followed by one `free` box
//! that covers the rest of the file, so the publisher's probe accepts it and reads only its
//! headers. The API is an in-process fake of the resumable protocol (`docs/youtube-api.md` §3)
//! on 127.0.0.1: it starts a session (`200` + `Location`), checks that every chunk's
//! `Content-Range` continues where the last one ended, streams each chunk's body and discards
//! it frame by frame (counting the bytes, never holding a chunk), answers `308` with
//! `Range: bytes=0-LAST` until the last chunk and `201` with the `youtube#video` then, and
//! answers the processing poll with `processed`, so the publish ends at once.
//!
//! Peak memory is the kernel's high-water mark of the resident set, `VmHWM` in
//! `/proc/self/status` (Linux only), of the whole process: the fake's share (hyper's read
//! buffer, a frame at a time) is included and must fit the limit too.
//!
//! ```text
//! cargo run --release -p cmis-benches --bin youtube-upload-memory [-- FILE_BYTES [CHUNK_BYTES]]
//! ```
//!
//! CHUNK_BYTES must be a multiple of 262 144 (256 KiB), as YouTube requires. The last line is
//! `file_bytes=… chunk_bytes=… peak_rss_bytes=… limit_bytes=… seconds=…` (seconds: the publish
//! call, from the session start to the receipt); the exit status is non-zero when the peak is
//! over the limit, or when the publish does not end with a receipt for the video the fake made.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use axum::Router;
use axum::body::{Body, HttpBody};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use cmis_core::{
    Media, Outcome, Platform, Post, PublishContext, Publisher, SecretString, Target, TenantId,
};
use cmis_youtube::{CHUNK_GRANULARITY, DEFAULT_CHUNK_SIZE, YouTubeClient, YouTubePublisher};

const GIB: u64 = 1024 * 1024 * 1024;
const SLACK: u64 = 32 * 1024 * 1024;
/// The id the fake gives the video (11 characters, like a real one).
const VIDEO_ID: &str = "cmisBench01";
const UPLOAD_ID: &str = "bench-session-1";

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

/// Writes a sparse `size`-byte MP4 at `path`: the sample movie, then a `free` box to the end
/// (a 32-bit size up to 4 GiB, a 64-bit one beyond).
fn write_video(path: &Path, size: u64) -> Result<(), String> {
    let mut head = cmis_media::sample::mp4(1080, 1920, 60, 30);
    let at = head.len() as u64;
    let free = size
        .checked_sub(at)
        .filter(|rest| *rest >= 16)
        .ok_or_else(|| format!("{size} bytes is too small: the MP4 header alone is {at}"))?;
    match u32::try_from(free) {
        Ok(small) => {
            head.extend(small.to_be_bytes());
            head.extend(b"free");
        }
        Err(_) => {
            head.extend(1u32.to_be_bytes());
            head.extend(b"free");
            head.extend(free.to_be_bytes());
        }
    }
    let mut file =
        std::fs::File::create(path).map_err(|e| format!("create {}: {e}", path.display()))?;
    file.write_all(&head)
        .map_err(|e| format!("write {}: {e}", path.display()))?;
    // Sparse: the length is set without writing, so the rest reads back as zeros from no disk
    // blocks.
    file.set_len(size).map_err(|e| format!("set_len: {e}"))?;
    Ok(())
}

/// What the fake has seen. Locked briefly, never across an await.
#[derive(Default)]
struct Seen {
    /// `X-Upload-Content-Length` of the session.
    total: Option<u64>,
    /// Bytes held: the next chunk must start here.
    received: u64,
    chunks: u64,
    largest_chunk: u64,
    /// The largest body frame the fake was handed (what it held at once).
    largest_frame: u64,
    completed: bool,
    /// The first protocol violation, if any: the run fails with it.
    error: Option<String>,
}

struct Fake {
    base: String,
    seen: Mutex<Seen>,
}

impl Fake {
    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records `why` (the first one wins) and answers 400 in Google's envelope.
    fn refuse(&self, why: String) -> Response {
        eprintln!("fake YouTube: {why}");
        let mut seen = self.seen();
        let body = serde_json::json!({"error": {
            "code": 400,
            "message": why,
            "errors": [{"domain": "global", "reason": "badRequest", "message": why}],
        }});
        seen.error.get_or_insert(why);
        (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
    }
}

fn video_json(status: &str) -> serde_json::Value {
    serde_json::json!({
        "kind": "youtube#video",
        "id": VIDEO_ID,
        "status": {"uploadStatus": status, "privacyStatus": "public"},
    })
}

fn has_query(uri: &Uri, pair: &str) -> bool {
    uri.query().is_some_and(|q| q.split('&').any(|p| p == pair))
}

/// Step 1: `POST /upload/youtube/v3/videos?uploadType=resumable&part=…` → `200` + `Location`.
async fn start(State(fake): State<Arc<Fake>>, uri: Uri, headers: HeaderMap) -> Response {
    if !has_query(&uri, "uploadType=resumable") {
        return fake.refuse(format!(
            "a session start without uploadType=resumable: {uri}"
        ));
    }
    let Some(total) = headers
        .get("x-upload-content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
    else {
        return fake.refuse("a session start without X-Upload-Content-Length".into());
    };
    {
        let mut seen = fake.seen();
        if seen.total.is_some() {
            drop(seen);
            return fake.refuse("a second upload session was started".into());
        }
        seen.total = Some(total);
    }
    let location = format!(
        "{}/upload/youtube/v3/videos?uploadType=resumable&upload_id={UPLOAD_ID}&part=snippet,status",
        fake.base
    );
    (StatusCode::OK, [(header::LOCATION, location)]).into_response()
}

/// `bytes FIRST-LAST/TOTAL`, or `bytes */TOTAL` (a probe, `None`).
fn content_range(headers: &HeaderMap) -> Option<(Option<(u64, u64)>, u64)> {
    let value = headers.get(header::CONTENT_RANGE)?.to_str().ok()?;
    let (span, total) = value.strip_prefix("bytes ")?.split_once('/')?;
    let total = total.parse().ok()?;
    if span == "*" {
        return Some((None, total));
    }
    let (first, last) = span.split_once('-')?;
    Some((Some((first.parse().ok()?, last.parse().ok()?)), total))
}

/// The answer to a session that holds `received` of `total` bytes.
fn session_answer(received: u64, total: u64) -> Response {
    if received == total {
        return (StatusCode::CREATED, axum::Json(video_json("uploaded"))).into_response();
    }
    if received == 0 {
        return StatusCode::PERMANENT_REDIRECT.into_response();
    }
    (
        StatusCode::PERMANENT_REDIRECT,
        [(header::RANGE, format!("bytes=0-{}", received - 1))],
    )
        .into_response()
}

/// Steps 2–4: `PUT session` with a chunk (`Content-Range: bytes a-b/N`) or a probe.
async fn chunk(
    State(fake): State<Arc<Fake>>,
    uri: Uri,
    headers: HeaderMap,
    mut body: Body,
) -> Response {
    if !has_query(&uri, &format!("upload_id={UPLOAD_ID}")) {
        return fake.refuse(format!("a PUT to an unknown session: {uri}"));
    }
    let Some((span, total)) = content_range(&headers) else {
        return fake.refuse(format!(
            "a PUT with an unreadable Content-Range: {:?}",
            headers.get(header::CONTENT_RANGE)
        ));
    };
    let (received, expected_total) = {
        let seen = fake.seen();
        (seen.received, seen.total)
    };
    if expected_total != Some(total) {
        return fake.refuse(format!(
            "Content-Range total {total}, but the session was started for {expected_total:?}"
        ));
    }
    let Some((first, last)) = span else {
        return session_answer(received, total);
    };
    if first != received || last < first || last >= total {
        return fake.refuse(format!(
            "Content-Range bytes {first}-{last}/{total} does not continue from byte {received}"
        ));
    }
    let len = last - first + 1;
    if last + 1 < total && len % CHUNK_GRANULARITY != 0 {
        return fake.refuse(format!(
            "a chunk of {len} bytes that is not the last is not a multiple of 256 KiB"
        ));
    }
    // Stream the chunk and discard it, one frame at a time.
    let mut counted = 0u64;
    let mut largest_frame = 0u64;
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let frame = match frame {
            Ok(frame) => frame,
            Err(e) => return fake.refuse(format!("the chunk's body broke off: {e}")),
        };
        if let Some(data) = frame.data_ref() {
            counted += data.len() as u64;
            largest_frame = largest_frame.max(data.len() as u64);
        }
    }
    if counted != len {
        return fake.refuse(format!(
            "Content-Range bytes {first}-{last}/{total} announced {len} bytes; the body held {counted}"
        ));
    }
    let mut seen = fake.seen();
    seen.received = last + 1;
    seen.chunks += 1;
    seen.largest_chunk = seen.largest_chunk.max(len);
    seen.largest_frame = seen.largest_frame.max(largest_frame);
    seen.completed = seen.received == total;
    session_answer(seen.received, total)
}

/// `GET /youtube/v3/videos?part=status,processingDetails&id=ID`: processed at once.
async fn videos(State(fake): State<Arc<Fake>>, uri: Uri) -> Response {
    let completed = fake.seen().completed;
    let items = if completed && has_query(&uri, &format!("id={VIDEO_ID}")) {
        let mut video = video_json("processed");
        video["processingDetails"] = serde_json::json!({"processingStatus": "succeeded"});
        vec![video]
    } else {
        Vec::new()
    };
    axum::Json(serde_json::json!({"kind": "youtube#videoListResponse", "items": items}))
        .into_response()
}

async fn unexpected(State(fake): State<Arc<Fake>>, uri: Uri) -> Response {
    fake.refuse(format!("an unexpected call: {uri}"))
}

struct Measured {
    seconds: f64,
    peak: u64,
}

async fn run(path: &Path, file_bytes: u64, chunk_bytes: u64) -> Result<Measured, String> {
    write_video(path, file_bytes)?;

    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .map_err(|e| format!("bind: {e}"))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("local_addr: {e}"))?;
    let fake = Arc::new(Fake {
        base: format!("http://{addr}"),
        seen: Mutex::new(Seen::default()),
    });
    let app = Router::new()
        .route("/upload/youtube/v3/videos", post(start).put(chunk))
        .route("/youtube/v3/videos", get(videos))
        .fallback(unexpected)
        .with_state(Arc::clone(&fake));
    let server = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            eprintln!("fake YouTube stopped: {e}");
        }
    });

    let client = YouTubeClient::builder()
        .api_url(fake.base.clone())
        .build()
        .map_err(|e| e.to_string())?;
    let publisher = YouTubePublisher::new(client)
        .with_chunk_size(chunk_bytes)
        .map_err(|e| e.to_string())?;
    let target = Target::feed(TenantId::new("bench").account(Platform::YouTube, "UCbench"));
    let post = Post::new()
        .with_text("Bench\none gigabyte")
        .with_media(Media::path(path));
    let ctx = PublishContext::with_token(SecretString::from("bench"));

    let started = Instant::now();
    let outcome = publisher.publish(&target, &post, &ctx).await;
    let seconds = started.elapsed().as_secs_f64();
    let peak = peak_rss_bytes()?;
    server.abort();

    let seen = fake.seen();
    if let Some(why) = &seen.error {
        return Err(format!("the fake refused a request: {why}"));
    }
    let outcome = outcome.map_err(|e| format!("the publish failed: {e}"))?;
    let receipt = match &outcome {
        Outcome::Published(receipt) => receipt,
        other => return Err(format!("the publish did not end published: {other:?}")),
    };
    if receipt.post_id.as_str() != VIDEO_ID {
        return Err(format!(
            "the receipt names video {:?}, not {VIDEO_ID:?}, the one the fake made",
            receipt.post_id.as_str()
        ));
    }
    if !seen.completed || seen.received != file_bytes {
        return Err(format!(
            "the fake holds {} of {file_bytes} bytes",
            seen.received
        ));
    }
    eprintln!(
        "{} chunks uploaded, the largest {} bytes; the fake held at most {} bytes of a body at once",
        seen.chunks, seen.largest_chunk, seen.largest_frame
    );
    Ok(Measured { seconds, peak })
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
    let path = std::env::temp_dir().join(format!(
        "cmis-youtube-upload-memory-{}.mp4",
        std::process::id()
    ));
    let guard = TempFile(path.clone());
    let result = runtime.block_on(run(&path, file_bytes, chunk_bytes));
    drop(guard);
    let Measured { seconds, peak } = match result {
        Ok(measured) => measured,
        Err(e) => {
            eprintln!("youtube-upload-memory failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    let limit = 2 * chunk_bytes + SLACK;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "file_bytes={file_bytes} chunk_bytes={chunk_bytes} peak_rss_bytes={peak} limit_bytes={limit} seconds={seconds:.3}"
    );
    if peak < limit {
        ExitCode::SUCCESS
    } else {
        eprintln!("peak RSS {peak} bytes is not under the limit {limit} bytes");
        ExitCode::FAILURE
    }
}
