//! [`MetaClient`]: one reqwest client, the Graph hosts and version, and the call path every
//! request takes (throttle, token, send, usage headers, error classification).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use cmis_core::{
    AccountRef, Clock, Error, ErrorKind, ExposeSecret, KeyedRateLimiter, Platform, PollPolicy,
    RateLimit, Result, RetryPolicy, SecretString, SystemClock,
};
use cmis_http::Call;
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

use crate::error::{GraphError, classify};
pub(crate) use crate::request::{
    ApiRequest, AuthScheme, Body, Host, IdResponse, Session, de_id, de_opt_id, segment,
};
use crate::usage::{DEFAULT_THROTTLE_WAIT, Usage};

/// The Graph API version cmis speaks unless told otherwise.
///
/// `docs/meta-graph-api.md` §0 (Graph API changelog, updated Oct 29, 2026): v25.0 was released
/// Feb 18, 2026 and is available until **Jul 29, 2028**; v20.0 expired Sep 24, 2026 and broke
/// peers that hard-code it (Postiz). The doc recommends v25.0 as the default; newer versions
/// (v26.0, v27.0) can be chosen with [`MetaClientBuilder::graph_version`].
pub const DEFAULT_GRAPH_VERSION: &str = "v25.0";

/// Meta's Graph host (Facebook Pages, and Instagram with Facebook Login).
pub const DEFAULT_GRAPH_URL: &str = "https://graph.facebook.com";
/// Meta's video host, where `/{page-id}/videos` is published (`docs/meta-graph-api.md` §1).
pub const DEFAULT_GRAPH_VIDEO_URL: &str = "https://graph-video.facebook.com";
/// Meta's resumable-upload host for Reels and Instagram uploads.
pub const DEFAULT_RUPLOAD_URL: &str = "https://rupload.facebook.com";
/// The Graph host of Instagram accounts connected with Instagram Login.
pub const DEFAULT_INSTAGRAM_GRAPH_URL: &str = "https://graph.instagram.com";

/// A client for the Meta Graph API. Cheap to clone (one shared reqwest client inside); `Debug`
/// never shows the app secret.
///
/// ```no_run
/// # mod cmis { pub use cmis_core::*; pub mod media { pub use cmis_media::*; } pub mod meta { pub use cmis_meta::*; } }
/// # fn demo() -> cmis::Result<()> {
/// use cmis::SecretString;
/// use cmis::meta::MetaClient;
/// let client = MetaClient::builder()
///     .app_id("1234567890")
///     .app_secret(SecretString::from("app-secret"))
///     .build()?;
/// assert_eq!(client.graph_version(), "v25.0");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct MetaClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    graph_url: Url,
    graph_video_url: Url,
    rupload_url: Url,
    instagram_graph_url: Url,
    version: String,
    app_id: Option<String>,
    app_secret: Option<SecretString>,
    accounts: KeyedRateLimiter<String>,
    app: KeyedRateLimiter<()>,
    max_throttle_wait: Duration,
    read_retry: RetryPolicy,
    poll: PollPolicy,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for MetaClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("MetaClient")
            .field("graph_url", &i.graph_url.as_str())
            .field("graph_video_url", &i.graph_video_url.as_str())
            .field("rupload_url", &i.rupload_url.as_str())
            .field("instagram_graph_url", &i.instagram_graph_url.as_str())
            .field("version", &i.version)
            .field("app_id", &i.app_id)
            .field("app_secret", &i.app_secret.as_ref().map(|_| "<redacted>"))
            .field("poll", &i.poll)
            .finish_non_exhaustive()
    }
}

/// Builds a [`MetaClient`]; see [`MetaClient::builder`].
pub struct MetaClientBuilder {
    graph_url: String,
    graph_video_url: Option<String>,
    rupload_url: Option<String>,
    instagram_graph_url: String,
    version: String,
    app_id: Option<String>,
    app_secret: Option<SecretString>,
    rate: Option<RateLimit>,
    max_throttle_wait: Duration,
    read_retry: RetryPolicy,
    poll: PollPolicy,
    clock: Arc<dyn Clock>,
    timeout: Option<Duration>,
}

impl fmt::Debug for MetaClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetaClientBuilder")
            .field("graph_url", &self.graph_url)
            .field("version", &self.version)
            .field("app_id", &self.app_id)
            .field(
                "app_secret",
                &self.app_secret.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

impl MetaClientBuilder {
    /// The Graph host (default `https://graph.facebook.com`). Also the default of the video and
    /// rupload hosts when those are not set, so one local server can stand in for all three.
    #[must_use]
    pub fn graph_url(mut self, url: impl Into<String>) -> Self {
        self.graph_url = url.into();
        self
    }

    /// The video host (default `https://graph-video.facebook.com`, or the Graph host when that
    /// was overridden).
    #[must_use]
    pub fn graph_video_url(mut self, url: impl Into<String>) -> Self {
        self.graph_video_url = Some(url.into());
        self
    }

    /// The resumable-upload host (default `https://rupload.facebook.com`, or the Graph host when
    /// that was overridden).
    #[must_use]
    pub fn rupload_url(mut self, url: impl Into<String>) -> Self {
        self.rupload_url = Some(url.into());
        self
    }

    /// The Graph host for Instagram Login accounts (default `https://graph.instagram.com`).
    #[must_use]
    pub fn instagram_graph_url(mut self, url: impl Into<String>) -> Self {
        self.instagram_graph_url = url.into();
        self
    }

    /// The Graph API version, such as `v25.0` (default [`DEFAULT_GRAPH_VERSION`]).
    #[must_use]
    pub fn graph_version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }

    /// The app id (needed for video uploads, token exchange and `debug_token`).
    #[must_use]
    pub fn app_id(mut self, app_id: impl Into<String>) -> Self {
        self.app_id = Some(app_id.into());
        self
    }

    /// The app secret (needed for token exchange and `debug_token`).
    #[must_use]
    pub fn app_secret(mut self, secret: SecretString) -> Self {
        self.app_secret = Some(secret);
        self
    }

    /// The client-side budget per account (default 120 calls per minute).
    #[must_use]
    pub fn rate_limit(mut self, rate: RateLimit) -> Self {
        self.rate = Some(rate);
        self
    }

    /// The longest an account waits in-process when its usage is near the limit (default 60 s);
    /// a longer pause fails the call with [`ErrorKind::RateLimited`] and a retry-after instead.
    #[must_use]
    pub fn max_throttle_wait(mut self, wait: Duration) -> Self {
        self.max_throttle_wait = wait;
        self
    }

    /// The retry policy of read-only calls (default: [`RetryPolicy::default`]). Mutations are
    /// never retried.
    #[must_use]
    pub fn read_retry(mut self, policy: RetryPolicy) -> Self {
        self.read_retry = policy;
        self
    }

    /// How containers and videos are polled (default [`PollPolicy::default`]: 5 s, doubling to
    /// 60 s, for 5 minutes, from Meta's guide).
    #[must_use]
    pub fn poll_policy(mut self, poll: PollPolicy) -> Self {
        self.poll = poll;
        self
    }

    /// The wall clock used for scheduling windows and receipts (default the system clock).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The overall timeout of one HTTP request (default 120 s; uploads of large files may need
    /// more).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Builds the client; a malformed URL or version is an [`ErrorKind::InvalidInput`] error.
    pub fn build(self) -> Result<MetaClient> {
        let graph_url = parse_base(&self.graph_url, "graph_url")?;
        let default_or_graph = |set: Option<String>, meta_default: &str, what: &str| match set {
            Some(u) => parse_base(&u, what),
            None if self.graph_url == DEFAULT_GRAPH_URL => parse_base(meta_default, what),
            None => Ok(graph_url.clone()),
        };
        let graph_video_url = default_or_graph(
            self.graph_video_url.clone(),
            DEFAULT_GRAPH_VIDEO_URL,
            "graph_video_url",
        )?;
        let rupload_url =
            default_or_graph(self.rupload_url.clone(), DEFAULT_RUPLOAD_URL, "rupload_url")?;
        let instagram_graph_url = parse_base(&self.instagram_graph_url, "instagram_graph_url")?;
        let version = self.version.trim().to_owned();
        let valid_version = version.strip_prefix('v').is_some_and(|rest| {
            !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit() || c == '.')
        });
        if !valid_version {
            return Err(Error::invalid_input(format!(
                "Graph API version {version:?} is not of the form v25.0"
            )));
        }
        if let Some(id) = &self.app_id {
            segment(id, "app id")?;
        }
        let mut http = cmis_http::client_builder()?;
        if let Some(t) = self.timeout {
            http = http.timeout(t);
        }
        let http = http.build().map_err(cmis_http::build_error)?;
        let rate = match self.rate {
            Some(r) => r,
            None => RateLimit::per_minute(120)?,
        };
        Ok(MetaClient {
            inner: Arc::new(Inner {
                http,
                graph_url,
                graph_video_url,
                rupload_url,
                instagram_graph_url,
                version,
                app_id: self.app_id,
                app_secret: self.app_secret,
                accounts: KeyedRateLimiter::new(rate),
                // The app-wide limiter only carries pauses from `X-App-Usage`.
                app: KeyedRateLimiter::new(RateLimit::per_second(10_000)?),
                max_throttle_wait: self.max_throttle_wait,
                read_retry: self.read_retry,
                poll: self.poll,
                clock: self.clock,
            }),
        })
    }
}

fn parse_base(raw: &str, what: &str) -> Result<Url> {
    let url = Url::parse(raw.trim())
        .map_err(|e| Error::invalid_input(format!("{what} {raw:?} is not a valid URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.query().is_some() {
        return Err(Error::invalid_input(format!(
            "{what} {raw:?} must be an http(s) URL without a query"
        )));
    }
    Ok(url)
}

impl MetaClient {
    /// Starts building a client with Meta's hosts and [`DEFAULT_GRAPH_VERSION`].
    pub fn builder() -> MetaClientBuilder {
        MetaClientBuilder {
            graph_url: DEFAULT_GRAPH_URL.to_owned(),
            graph_video_url: None,
            rupload_url: None,
            instagram_graph_url: DEFAULT_INSTAGRAM_GRAPH_URL.to_owned(),
            version: DEFAULT_GRAPH_VERSION.to_owned(),
            app_id: None,
            app_secret: None,
            rate: None,
            max_throttle_wait: Duration::from_secs(60),
            read_retry: RetryPolicy::default(),
            poll: PollPolicy::default(),
            clock: Arc::new(SystemClock),
            timeout: None,
        }
    }

    /// The Graph API version in use.
    pub fn graph_version(&self) -> &str {
        &self.inner.version
    }

    /// The app id, if configured.
    pub fn app_id(&self) -> Option<&str> {
        self.inner.app_id.as_deref()
    }

    pub(crate) fn app_secret(&self) -> Option<&SecretString> {
        self.inner.app_secret.as_ref()
    }

    pub(crate) fn poll_policy(&self) -> PollPolicy {
        self.inner.poll
    }

    pub(crate) fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// `{host}/{version}/{path}`.
    pub(crate) fn url(&self, host: Host, path: &str) -> String {
        let base = match host {
            Host::Graph => &self.inner.graph_url,
            Host::GraphVideo => &self.inner.graph_video_url,
            Host::Rupload => &self.inner.rupload_url,
            Host::InstagramGraph => &self.inner.instagram_graph_url,
        };
        format!(
            "{}/{}/{}",
            base.as_str().trim_end_matches('/'),
            self.inner.version,
            path
        )
    }

    /// `{host}/{path}` without a version (Instagram Login's `refresh_access_token`, rupload).
    pub(crate) fn unversioned_url(&self, host: Host, path: &str) -> String {
        let base = match host {
            Host::Graph => &self.inner.graph_url,
            Host::GraphVideo => &self.inner.graph_video_url,
            Host::Rupload => &self.inner.rupload_url,
            Host::InstagramGraph => &self.inner.instagram_graph_url,
        };
        format!("{}/{}", base.as_str().trim_end_matches('/'), path)
    }

    /// Sends `req` with the account's token. A rejected token (190, 102, a bare 401) is renewed
    /// once per session and the call repeated once ([`TokenSession`]); after that the call fails
    /// with [`ErrorKind::Auth`]: no retry storm.
    pub(crate) async fn call(&self, s: Session<'_>, req: &ApiRequest) -> Result<Value> {
        let key = &throttle_key(s.account());
        let platform = s.account().platform;
        s.tokens
            .run(|token| async move { self.exchange(req, Some(&token), key, platform).await })
            .await
    }

    /// [`call`](Self::call) for reads, retried with the read policy.
    pub(crate) async fn read(&self, s: Session<'_>, req: &ApiRequest) -> Result<Value> {
        self.inner.read_retry.run(|_| self.call(s, req)).await
    }

    /// Decodes a call's JSON into `T`.
    pub(crate) async fn call_as<T: DeserializeOwned>(
        &self,
        s: Session<'_>,
        req: &ApiRequest,
    ) -> Result<T> {
        let v = self.call(s, req).await?;
        decode(v, req.call, s.account().platform)
    }

    /// Decodes a read's JSON into `T`.
    pub(crate) async fn read_as<T: DeserializeOwned>(
        &self,
        s: Session<'_>,
        req: &ApiRequest,
    ) -> Result<T> {
        let v = self.read(s, req).await?;
        decode(v, req.call, s.account().platform)
    }

    /// Sends `req` with `token` (or none): throttle, send, usage headers, classification.
    pub(crate) async fn exchange(
        &self,
        req: &ApiRequest,
        token: Option<&SecretString>,
        key: &str,
        platform: Platform,
    ) -> Result<Value> {
        self.wait_for_budget(key, platform).await?;
        let mut rb = self
            .inner
            .http
            .request(req.method.clone(), &req.url)
            .header(http::header::ACCEPT, "application/json");
        if !req.query.is_empty() {
            rb = rb.query(&req.query);
        }
        if let Some(t) = token {
            let scheme = match req.auth {
                AuthScheme::Bearer => "Bearer",
                AuthScheme::OAuth => "OAuth",
            };
            let mut value = http::HeaderValue::from_str(&format!("{scheme} {}", t.expose_secret()))
                .map_err(|_| {
                    Error::auth("the access token holds characters not allowed in a header")
                })?;
            value.set_sensitive(true);
            rb = rb.header(http::header::AUTHORIZATION, value);
        }
        for (name, value) in &req.headers {
            rb = rb.header(*name, value);
        }
        rb = match &req.body {
            Body::Empty => rb,
            Body::Form(fields) => rb.form(fields),
            Body::Raw {
                content_type,
                bytes,
            } => rb
                .header(http::header::CONTENT_TYPE, content_type)
                .body(bytes.clone()),
        };
        let response = cmis_http::send(rb, req.call).await?;
        let status = response.status().as_u16();
        let usage = Usage::parse(response.headers());
        let header_wait = cmis_http::retry_after(response.headers());
        self.apply_usage(key, &usage);
        let what = format!("the Graph API call {} …/{}", req.method, edge(&req.url));
        let body = cmis_http::read_answer(response, req.call, &what, req.max_answer).await?;
        let retry_after = usage.regain.or(header_wait);
        self.finish(key, status, &body, req.call, platform, retry_after)
    }

    /// What a call answered once its body is read: the JSON, or the classified error. A rate
    /// limit pauses the account first (Meta: once limited, stop calling; further calls extend
    /// the block).
    pub(crate) fn finish(
        &self,
        key: &str,
        status: u16,
        body: &[u8],
        call: Call,
        platform: Platform,
        retry_after: Option<Duration>,
    ) -> Result<Value> {
        let mut err = match read_response(status, body, call, platform, retry_after) {
            Ok(v) => return Ok(v),
            Err(err) => err,
        };
        if err.kind() == ErrorKind::RateLimited {
            let wait = err.retry_after().unwrap_or(DEFAULT_THROTTLE_WAIT);
            self.inner.accounts.pause(&key.to_owned(), wait);
            if err.retry_after().is_none() {
                err = err.with_retry_after(wait);
            }
        }
        tracing::debug!(status, kind = %err.kind(), code = ?err.platform_code(), "graph call failed");
        Err(err)
    }

    /// Slows the app and the account down as the usage headers ask.
    pub(crate) fn apply_usage(&self, key: &str, usage: &Usage) {
        if let Some(p) = usage.app_pause() {
            tracing::info!(percent = ?usage.app_percent, pause_s = p.as_secs(), "app usage high; pausing");
            self.inner.app.pause(&(), p);
        }
        if let Some(p) = usage.account_pause() {
            tracing::info!(percent = ?usage.account_percent, pause_s = p.as_secs(), "account usage high; pausing");
            self.inner.accounts.pause(&key.to_owned(), p);
        }
    }

    /// Waits for the account's budget, or fails at once with a retry-after when the wait is
    /// longer than the in-process limit (Meta: calls while limited extend the block).
    async fn wait_for_budget(&self, key: &str, platform: Platform) -> Result<()> {
        let key = key.to_owned();
        loop {
            let wait = match (self.inner.app.check(&()), self.inner.accounts.check(&key)) {
                (Ok(()), Ok(())) => return Ok(()),
                (a, b) => a.err().max(b.err()).unwrap_or_default(),
            };
            if wait > self.inner.max_throttle_wait {
                return Err(Error::rate_limited(
                    "Meta usage is at or near its limit for this account; not calling until it recovers",
                )
                .with_platform(platform)
                .with_retry_after(wait));
            }
            tokio::time::sleep(wait).await;
        }
    }
}

/// Reads a Graph response: the JSON of a success (`Null` for an empty body), or the error its
/// envelope or status describes. `retry_after` is what the usage headers or `Retry-After` said.
/// A 2xx carrying an error envelope is an error too.
pub(crate) fn read_response(
    status: u16,
    body: &[u8],
    call: Call,
    platform: Platform,
    retry_after: Option<Duration>,
) -> Result<Value> {
    let ok = (200..300).contains(&status);
    if ok && GraphError::parse(body).is_none() {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        return serde_json::from_slice(body)
            .map_err(|e| unreadable(call, platform, &format!("the response is not JSON: {e}")));
    }
    Err(classify(status, body, call, platform, retry_after))
}

/// The last path segment of a Graph URL when it names an edge or endpoint (`feed`,
/// `media_publish`, `access_token`), `{id}` when it is an id: enough to tell calls apart in a
/// message without putting the URL in it.
fn edge(url: &str) -> &str {
    let path = url.split(['?', '#']).next().unwrap_or_default();
    let last = path.rsplit('/').next().unwrap_or_default();
    if !last.is_empty() && last.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
        last
    } else {
        "{id}"
    }
}

fn throttle_key(account: &AccountRef) -> String {
    format!("{}:{}", account.platform, account.account)
}

fn unreadable(call: Call, platform: Platform, what: &str) -> Error {
    match call {
        Call::Read => Error::transient(format!("Graph API read failed: {what}")),
        Call::Mutation => Error::unknown_outcome(format!(
            "the Graph API accepted a mutating call but {what}; it may have acted on it"
        )),
    }
    .with_platform(platform)
}

pub(crate) fn decode<T: DeserializeOwned>(v: Value, call: Call, platform: Platform) -> Result<T> {
    serde_json::from_value(v).map_err(|e| {
        unreadable(
            call,
            platform,
            &format!("the response has an unexpected shape: {e}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn an_edge_names_the_call_and_never_an_id() {
        assert_eq!(
            edge("https://graph.facebook.com/v24.0/123/feed?fields=id"),
            "feed"
        );
        assert_eq!(
            edge("http://127.0.0.1:1/v24.0/oauth/access_token"),
            "access_token"
        );
        assert_eq!(
            edge("https://graph.facebook.com/v24.0/17841400000000001"),
            "{id}"
        );
        assert_eq!(
            edge("https://rupload.facebook.com/video-upload/v24.0/upload:MTph"),
            "{id}"
        );
        assert_eq!(edge("https://graph.facebook.com/"), "{id}");
    }

    proptest! {
        #[test]
        fn poll_delays_grow_and_stay_bounded(first in 1u64..120, max in 1u64..600, n in 0u32..64) {
            let p = PollPolicy::new(Duration::from_secs(first), Duration::from_secs(max), Duration::from_secs(300));
            prop_assert!(p.delay(n) <= Duration::from_secs(max));
            prop_assert!(p.delay(n) <= p.delay(n + 1));
        }

        #[test]
        fn only_safe_ids_become_path_segments(id in ".{0,40}") {
            if segment(&id, "id").is_ok() {
                prop_assert!(!id.is_empty());
                prop_assert!(!id.contains(['/', '?', '#', '%', '&', ' ']));
            }
        }
    }
}
