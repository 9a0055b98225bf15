//! [`MediaFetcher`]: downloads media given by URL through a [`UrlPolicy`], streaming, with a
//! size cap.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use cmis_core::url::Url;
use cmis_core::{Error, Result};
use reqwest::dns::Resolve;
use reqwest::{StatusCode, header};

use crate::policy::{GuardedResolver, UrlPolicy, refused_in};
use crate::{Call, classify};

/// The default size cap: 1 GiB.
pub const DEFAULT_MAX_MEDIA_BYTES: u64 = 1 << 30;
/// The default number of redirects followed: 5.
pub const DEFAULT_MAX_REDIRECTS: u32 = 5;
/// The default overall timeout of one download: 10 minutes.
pub const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// Downloads media by URL without letting the URL reach what it should not:
///
/// - every URL, and every redirect target, is checked against the [`UrlPolicy`] before it is
///   requested ([`UrlPolicy::check_url`]), and named hosts connect only to the addresses the
///   policy's [`GuardedResolver`] allowed;
/// - no credentials are ever sent: no `Authorization` header, no cookies, no proxy;
/// - the body is read chunk by chunk and refused as soon as it passes the size cap (and at once
///   when `Content-Length` already says it would).
///
/// Errors never contain the URL's path or query, which may hold signed tokens.
///
/// ```no_run
/// # mod cmis { pub use cmis_core::*; pub mod media { pub use cmis_http::{AddressClass, MediaFetcher, MediaFetcherBuilder, UrlPolicy}; } }
/// # async fn demo() -> cmis::Result<()> {
/// use cmis::media::{MediaFetcher, UrlPolicy};
/// let fetcher = MediaFetcher::builder()
///     .policy(UrlPolicy::default())
///     .max_bytes(300 * 1024 * 1024)
///     .build()?;
/// let mut download = fetcher.open(&"https://cdn.example.com/reel.mp4".parse().unwrap()).await?;
/// while let Some(chunk) = download.chunk().await? {
///     // write `chunk` somewhere
/// #   let _ = chunk;
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct MediaFetcher {
    client: reqwest::Client,
    policy: UrlPolicy,
    max_bytes: u64,
    max_redirects: u32,
}

impl fmt::Debug for MediaFetcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MediaFetcher")
            .field("policy", &self.policy)
            .field("max_bytes", &self.max_bytes)
            .field("max_redirects", &self.max_redirects)
            .finish_non_exhaustive()
    }
}

/// Builds a [`MediaFetcher`].
#[must_use]
pub struct MediaFetcherBuilder {
    policy: UrlPolicy,
    max_bytes: u64,
    max_redirects: u32,
    timeout: Duration,
    resolver: Option<Arc<dyn Resolve>>,
}

impl fmt::Debug for MediaFetcherBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MediaFetcherBuilder")
            .field("policy", &self.policy)
            .field("max_bytes", &self.max_bytes)
            .finish_non_exhaustive()
    }
}

impl MediaFetcherBuilder {
    /// The URL policy (default [`UrlPolicy::default`]: public `https` hosts only).
    pub fn policy(mut self, policy: UrlPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The largest body accepted (default [`DEFAULT_MAX_MEDIA_BYTES`]).
    pub fn max_bytes(mut self, max_bytes: u64) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// How many redirects are followed, each checked like the first URL (default
    /// [`DEFAULT_MAX_REDIRECTS`]; 0 refuses every redirect).
    pub fn max_redirects(mut self, max_redirects: u32) -> Self {
        self.max_redirects = max_redirects;
        self
    }

    /// The overall timeout of one download (default [`DEFAULT_FETCH_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Resolves host names with `resolver` instead of the system resolver; every address it
    /// returns is still checked against the policy.
    #[doc(hidden)]
    pub fn resolver(mut self, resolver: Arc<dyn Resolve>) -> Self {
        self.resolver = Some(resolver);
        self
    }

    /// Builds the fetcher and its HTTP client.
    pub fn build(self) -> Result<MediaFetcher> {
        let mut guard = GuardedResolver::new(self.policy.clone());
        if let Some(inner) = self.resolver {
            guard = guard.with_inner(inner);
        }
        let client = self
            .policy
            .client_builder()?
            .dns_resolver(Arc::new(guard))
            .timeout(self.timeout)
            .build()
            .map_err(crate::build_error)?;
        Ok(MediaFetcher {
            client,
            policy: self.policy,
            max_bytes: self.max_bytes,
            max_redirects: self.max_redirects,
        })
    }
}

/// The host of `url` as shown in messages (never its path or query).
fn host_of(url: &Url) -> String {
    url.host_str().unwrap_or("?").to_owned()
}

/// A transport failure, with the guard's refusal brought forward as the typed error it is.
fn transport(err: reqwest::Error) -> Error {
    match refused_in(&err) {
        Some(refused) => Error::invalid_input(refused.to_string()).with_source(refused.clone()),
        None => classify(err, Call::Read),
    }
}

impl MediaFetcher {
    /// A builder with the defaults: public `https` only, 1 GiB, 5 redirects, 10 minutes.
    pub fn builder() -> MediaFetcherBuilder {
        MediaFetcherBuilder {
            policy: UrlPolicy::default(),
            max_bytes: DEFAULT_MAX_MEDIA_BYTES,
            max_redirects: DEFAULT_MAX_REDIRECTS,
            timeout: DEFAULT_FETCH_TIMEOUT,
            resolver: None,
        }
    }

    /// The URL policy in force.
    pub fn policy(&self) -> &UrlPolicy {
        &self.policy
    }

    /// The size cap.
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// Requests `url`, following redirects (each target checked against the policy first), and
    /// returns the download once a success status arrived, before reading its body.
    ///
    /// Errors: [`InvalidInput`](cmis_core::ErrorKind::InvalidInput) for a refused URL or
    /// address (naming its [`AddressClass`](crate::AddressClass)), a 4xx answer, too many
    /// redirects or a body over the cap; [`Transient`](cmis_core::ErrorKind::Transient) for a
    /// connection failure, a timeout, 408 or 5xx; [`RateLimited`](cmis_core::ErrorKind::RateLimited)
    /// for 429.
    pub async fn open(&self, url: &Url) -> Result<MediaDownload> {
        let mut url = url.clone();
        let mut redirects = 0;
        loop {
            self.policy.check_url(&url)?;
            let host = host_of(&url);
            let response = self
                .client
                .get(url.clone())
                .send()
                .await
                .map_err(transport)?;
            let status = response.status();
            if is_followed_redirect(status) {
                if redirects >= self.max_redirects {
                    return Err(Error::invalid_input(format!(
                        "the media URL at {host} redirected more than {} times",
                        self.max_redirects
                    )));
                }
                let location = response
                    .headers()
                    .get(header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| {
                        Error::invalid_input(format!(
                            "the media URL at {host} answered HTTP {} without a usable Location",
                            status.as_u16()
                        ))
                    })?;
                url = url.join(location).map_err(|e| {
                    Error::invalid_input(format!(
                        "the media URL at {host} redirected to an invalid URL: {e}"
                    ))
                })?;
                redirects += 1;
                continue;
            }
            if !status.is_success() {
                return Err(status_error(status, &host, response.headers()));
            }
            if let Some(len) = response.content_length()
                && len > self.max_bytes
            {
                return Err(too_large(&host, self.max_bytes));
            }
            return Ok(MediaDownload {
                response,
                host,
                url,
                received: 0,
                max_bytes: self.max_bytes,
            });
        }
    }

    /// Downloads `url` whole into memory, up to the size cap. Prefer [`open`](Self::open) and
    /// [`MediaDownload::chunk`] for large media.
    pub async fn bytes(&self, url: &Url) -> Result<Vec<u8>> {
        let mut download = self.open(url).await?;
        let hint = download.content_length().unwrap_or(0).min(self.max_bytes);
        let mut out = Vec::with_capacity(usize::try_from(hint).unwrap_or(0));
        while let Some(chunk) = download.chunk().await? {
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }
}

fn is_followed_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

fn too_large(host: &str, max: u64) -> Error {
    Error::invalid_input(format!(
        "the media at {host} is larger than the {max}-byte limit"
    ))
}

fn status_error(status: StatusCode, host: &str, headers: &header::HeaderMap) -> Error {
    let message = format!("the media URL at {host} answered HTTP {}", status.as_u16());
    match status.as_u16() {
        429 => {
            let err = Error::rate_limited(message);
            match crate::retry_after(headers) {
                Some(wait) => err.with_retry_after(wait),
                None => err,
            }
        }
        408 | 500..=599 => Error::transient(message),
        _ => Error::invalid_input(message),
    }
}

/// A download in progress: a success status arrived, the body is read with
/// [`chunk`](Self::chunk). `Debug` shows the host only.
pub struct MediaDownload {
    response: reqwest::Response,
    host: String,
    url: Url,
    received: u64,
    max_bytes: u64,
}

impl fmt::Debug for MediaDownload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MediaDownload")
            .field("host", &self.host)
            .field("status", &self.response.status().as_u16())
            .field("received", &self.received)
            .finish_non_exhaustive()
    }
}

impl MediaDownload {
    /// The URL the body comes from, after redirects.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The `Content-Length` the server announced, if any.
    pub fn content_length(&self) -> Option<u64> {
        self.response.content_length()
    }

    /// The `Content-Type` the server announced, if readable. The media's real type comes from
    /// its bytes, not from this.
    pub fn content_type(&self) -> Option<&str> {
        self.response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
    }

    /// The bytes received so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// The next piece of the body, `None` at its end. Fails with
    /// [`InvalidInput`](cmis_core::ErrorKind::InvalidInput) as soon as the body passes the size
    /// cap, so at most one network chunk beyond it is ever held.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>> {
        let Some(bytes) = self.response.chunk().await.map_err(transport)? else {
            return Ok(None);
        };
        self.received = self
            .received
            .saturating_add(u64::try_from(bytes.len()).unwrap_or(u64::MAX));
        if self.received > self.max_bytes {
            return Err(too_large(&self.host, self.max_bytes));
        }
        Ok(Some(bytes))
    }
}
