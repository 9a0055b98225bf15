//! Media given by URL: downloaded through [`MediaFetcher`](cmis_http::MediaFetcher) (the URL policy, the size
//! cap, redirects re-checked) to a temporary file, then probed like a local file.

use std::path::{Path, PathBuf};

use cmis_core::url::Url;
use cmis_core::{Error, Result};
use cmis_http::MediaFetcher;
use tokio::io::AsyncWriteExt;

use crate::probe::{MediaInfo, probe_file};

/// A media file downloaded by [`fetch_to_file`], in a directory of its own under the system's
/// temporary directory. The file and its directory are removed when this is dropped.
#[derive(Debug)]
pub struct FetchedFile {
    dir: PathBuf,
    path: PathBuf,
    size: u64,
    content_type: Option<String>,
}

impl FetchedFile {
    /// Where the bytes are. Valid until this value is dropped.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The number of bytes downloaded.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The `Content-Type` the server announced (the real format comes from the bytes).
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }
}

impl Drop for FetchedFile {
    fn drop(&mut self) {
        // Best effort: a temporary file left behind is not worth a panic.
        let _ = std::fs::remove_file(&self.path);
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// The file name a URL suggests, reduced to safe characters, for messages and the temporary
/// file's name; `media` when the URL suggests none.
fn file_name(url: &Url) -> String {
    let last = url
        .path_segments()
        .and_then(|mut s| s.next_back())
        .unwrap_or_default();
    let name: String = last
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .take(100)
        .collect();
    if name.is_empty() || name.starts_with('.') {
        "media".to_owned()
    } else {
        name
    }
}

fn io_error(what: &str, e: &std::io::Error) -> Error {
    Error::internal(format!("the downloaded media could not be {what}: {e}"))
}

/// A new, private directory under the temporary directory.
async fn private_dir() -> Result<PathBuf> {
    let base = std::env::temp_dir();
    for _ in 0..16 {
        let dir = base.join(format!("cmis-media-{:016x}", fastrand::u64(..)));
        let mut builder = tokio::fs::DirBuilder::new();
        #[cfg(unix)]
        builder.mode(0o700);
        match builder.create(&dir).await {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io_error("stored", &e)),
        }
    }
    Err(Error::internal(
        "no unused temporary directory name was found for the downloaded media",
    ))
}

/// Downloads `url` through `fetcher` into a temporary file, one chunk at a time: the policy of
/// the fetcher decides which hosts may be reached (public `https` only unless it allows more),
/// and its size cap ends the download as soon as the body passes it.
///
/// Errors: those of [`MediaFetcher::open`] (a refused address is
/// [`InvalidInput`](cmis_core::ErrorKind::InvalidInput) naming its class), and
/// [`Internal`](cmis_core::ErrorKind::Internal) when the temporary file cannot be written.
/// Nothing is left on disk after an error.
///
/// ```no_run
/// # mod cmis { pub use cmis_core::*; pub mod media { pub use cmis_media::*; } }
/// # async fn demo() -> cmis::Result<()> {
/// use cmis::media::{MediaFetcher, UrlPolicy, fetch_to_file};
/// let fetcher = MediaFetcher::builder().policy(UrlPolicy::default()).build()?;
/// let file = fetch_to_file(&fetcher, &"https://cdn.example.com/reel.mp4".parse().unwrap()).await?;
/// println!("{} bytes at {}", file.size(), file.path().display());
/// # Ok(()) }
/// ```
pub async fn fetch_to_file(fetcher: &MediaFetcher, url: &Url) -> Result<FetchedFile> {
    let mut download = fetcher.open(url).await?;
    let dir = private_dir().await?;
    let mut fetched = FetchedFile {
        path: dir.join(file_name(download.url())),
        dir,
        size: 0,
        content_type: download.content_type().map(str::to_owned),
    };
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&fetched.path)
        .await
        .map_err(|e| io_error("stored", &e))?;
    while let Some(chunk) = download.chunk().await? {
        file.write_all(&chunk)
            .await
            .map_err(|e| io_error("written", &e))?;
    }
    file.flush().await.map_err(|e| io_error("written", &e))?;
    fetched.size = download.received();
    Ok(fetched)
}

/// Downloads `url` with [`fetch_to_file`] and probes it like [`probe_file`]: the format from the
/// bytes, headers only. The file is removed afterwards. Messages name the file by the URL's last
/// path segment, never by its query.
///
/// ```no_run
/// # mod cmis { pub use cmis_core::*; pub mod media { pub use cmis_media::*; } }
/// # async fn demo() -> cmis::Result<()> {
/// use cmis::media::{AddressClass, MediaFetcher, UrlPolicy, probe_url};
/// // A local test server: loopback and plain http must be allowed explicitly.
/// let policy = UrlPolicy::default().allow_http(true).allow(AddressClass::Loopback);
/// let fetcher = MediaFetcher::builder().policy(policy).max_bytes(50 << 20).build()?;
/// let info = probe_url(&fetcher, &"http://127.0.0.1:8080/clip.mp4".parse().unwrap()).await?;
/// println!("{} {:?}", info.format, info.duration);
/// # Ok(()) }
/// ```
pub async fn probe_url(fetcher: &MediaFetcher, url: &Url) -> Result<MediaInfo> {
    let fetched = fetch_to_file(fetcher, url).await?;
    let path = fetched.path.clone();
    let info = tokio::task::spawn_blocking(move || probe_file(&path))
        .await
        .map_err(|e| Error::internal(format!("probe task failed: {e}")))?;
    drop(fetched);
    info
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_come_from_the_last_segment_only() {
        let name = |u: &str| file_name(&u.parse().unwrap());
        assert_eq!(
            name("https://cdn.example.com/a/b/clip.mp4?sig=SECRET"),
            "clip.mp4"
        );
        assert_eq!(name("https://cdn.example.com/"), "media");
        assert_eq!(
            name("https://cdn.example.com/..%2f..%2fetc%2fpasswd"),
            "media"
        );
        assert_eq!(name("https://cdn.example.com/a%20b.jpg"), "a20b.jpg");
    }
}
