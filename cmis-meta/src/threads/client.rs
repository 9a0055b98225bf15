//! [`ThreadsClient`]: a [`MetaClient`] on the Threads host and version, with the Threads app's
//! own id and secret.

use std::sync::Arc;
use std::time::Duration;

use cmis_core::{Clock, PollPolicy, RateLimit, Result, RetryPolicy, SecretString};

use crate::client::{Host, MetaClient, MetaClientBuilder};

/// Meta's Threads host. `graph.threads.com` answers too (`docs/threads-api.md` §0).
pub const DEFAULT_THREADS_URL: &str = "https://graph.threads.net";

/// The Threads API version: v1.0 is the only one, with no sunset schedule (§0).
pub const DEFAULT_THREADS_VERSION: &str = "v1.0";

/// A client for the Threads API. Cheap to clone; `Debug` never shows the app secret.
///
/// Give it the **Threads** app id and secret: an app with the Threads use case has its own pair,
/// and the Facebook one fails the connection with error 4476002 (`docs/threads-api.md` §1).
///
/// ```
/// # mod cmis { pub use cmis_core::*; pub mod meta { pub use cmis_meta::*; } }
/// # fn demo() -> cmis::Result<()> {
/// use cmis::SecretString;
/// use cmis::meta::ThreadsClient;
/// let client = ThreadsClient::builder()
///     .app_id("threads-app-id")
///     .app_secret(SecretString::from("threads-app-secret"))
///     .build()?;
/// assert_eq!(client.version(), "v1.0");
/// # Ok(()) }
/// # demo().unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct ThreadsClient {
    meta: MetaClient,
}

/// Builds a [`ThreadsClient`]; see [`ThreadsClient::builder`].
#[derive(Debug)]
pub struct ThreadsClientBuilder {
    meta: MetaClientBuilder,
}

impl ThreadsClientBuilder {
    /// The Threads host (default [`DEFAULT_THREADS_URL`]); the library appends `/v1.0/…`.
    #[must_use]
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.meta = self.meta.graph_url(url);
        self
    }

    /// The API version (default [`DEFAULT_THREADS_VERSION`]).
    #[must_use]
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.meta = self.meta.graph_version(version);
        self
    }

    /// The Threads app id (needed for the code exchange).
    #[must_use]
    pub fn app_id(mut self, app_id: impl Into<String>) -> Self {
        self.meta = self.meta.app_id(app_id);
        self
    }

    /// The Threads app secret (needed for the code and long-lived exchanges).
    #[must_use]
    pub fn app_secret(mut self, secret: SecretString) -> Self {
        self.meta = self.meta.app_secret(secret);
        self
    }

    /// The client-side budget per profile (default 120 calls per minute).
    #[must_use]
    pub fn rate_limit(mut self, rate: RateLimit) -> Self {
        self.meta = self.meta.rate_limit(rate);
        self
    }

    /// The longest a profile waits in-process when its usage is near the limit (default 60 s).
    #[must_use]
    pub fn max_throttle_wait(mut self, wait: Duration) -> Self {
        self.meta = self.meta.max_throttle_wait(wait);
        self
    }

    /// The retry policy of read-only calls. Mutations are never retried.
    #[must_use]
    pub fn read_retry(mut self, policy: RetryPolicy) -> Self {
        self.meta = self.meta.read_retry(policy);
        self
    }

    /// How containers are polled (default [`PollPolicy::default`]: 5 s, doubling to 60 s, for
    /// 5 minutes; Meta: "once per minute, for no more than 5 minutes").
    #[must_use]
    pub fn poll_policy(mut self, poll: PollPolicy) -> Self {
        self.meta = self.meta.poll_policy(poll);
        self
    }

    /// The wall clock used for token ages, reconciliation windows and receipts.
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.meta = self.meta.clock(clock);
        self
    }

    /// The overall timeout of one HTTP request (default 120 s).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.meta = self.meta.timeout(timeout);
        self
    }

    /// Builds the client; a malformed URL or version is an
    /// [`ErrorKind::InvalidInput`](cmis_core::ErrorKind::InvalidInput) error.
    pub fn build(self) -> Result<ThreadsClient> {
        Ok(ThreadsClient {
            meta: self.meta.build()?,
        })
    }
}

impl ThreadsClient {
    /// Starts building a client for [`DEFAULT_THREADS_URL`] and [`DEFAULT_THREADS_VERSION`].
    pub fn builder() -> ThreadsClientBuilder {
        ThreadsClientBuilder {
            meta: MetaClient::builder()
                .graph_url(DEFAULT_THREADS_URL)
                .graph_version(DEFAULT_THREADS_VERSION),
        }
    }

    /// The API version in use.
    pub fn version(&self) -> &str {
        self.meta.graph_version()
    }

    /// The Threads app id, if configured.
    pub fn app_id(&self) -> Option<&str> {
        self.meta.app_id()
    }

    pub(crate) fn meta(&self) -> &MetaClient {
        &self.meta
    }

    /// `{host}/{version}/{path}`.
    pub(crate) fn url(&self, path: &str) -> String {
        self.meta.url(Host::Graph, path)
    }

    /// `{host}/{path}`: the token endpoints are unversioned.
    pub(crate) fn unversioned_url(&self, path: &str) -> String {
        self.meta.unversioned_url(Host::Graph, path)
    }
}
