//! [`TikTokClient`]: the HTTP client for TikTok's v2 API and OAuth endpoints.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use cmis_core::{Error, ExposeSecret, Result, SecretString};
use cmis_http::Call;
use cmis_http::reqwest;
use serde::de::DeserializeOwned;
use url::Url;

use crate::error::parse_envelope;
use crate::limits::{Budget, Limiters, RateLimits};

/// TikTok's API host, which also serves the OAuth token endpoint.
pub const DEFAULT_API_BASE_URL: &str = "https://open.tiktokapis.com";

/// TikTok's authorisation page (Login Kit for web).
pub const DEFAULT_AUTHORIZE_URL: &str = "https://www.tiktok.com/v2/auth/authorize/";

/// One v2 endpoint: its path, whether it changes anything, and which rate budget it spends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    CreatorInfo,
    VideoInit,
    InboxVideoInit,
    ContentInit,
    Status,
    Cancel,
    /// The Display API's `video/list` with the fields reconciliation reads.
    VideoList,
    /// The Display API's `video/query` with the counters insights read.
    VideoQuery,
}

impl Endpoint {
    fn path(self) -> &'static str {
        match self {
            Self::CreatorInfo => "/v2/post/publish/creator_info/query/",
            Self::VideoInit => "/v2/post/publish/video/init/",
            Self::InboxVideoInit => "/v2/post/publish/inbox/video/init/",
            Self::ContentInit => "/v2/post/publish/content/init/",
            Self::Status => "/v2/post/publish/status/fetch/",
            Self::Cancel => "/v2/post/publish/cancel/",
            Self::VideoList => {
                "/v2/video/list/?fields=id,create_time,title,video_description,share_url"
            }
            Self::VideoQuery => {
                "/v2/video/query/?fields=id,create_time,view_count,like_count,comment_count,share_count"
            }
        }
    }

    fn call(self) -> Call {
        match self {
            Self::CreatorInfo | Self::Status | Self::VideoList | Self::VideoQuery => Call::Read,
            Self::VideoInit | Self::InboxVideoInit | Self::ContentInit | Self::Cancel => {
                Call::Mutation
            }
        }
    }

    fn budget(self) -> Budget {
        match self {
            Self::CreatorInfo => Budget::CreatorInfo,
            Self::VideoInit | Self::InboxVideoInit | Self::ContentInit => Budget::Init,
            Self::Status => Budget::Status,
            // 600 per minute: reconciliation reads a few pages at most, rarely.
            Self::Cancel | Self::VideoList | Self::VideoQuery => Budget::None,
        }
    }
}

/// A client for TikTok's Content Posting API and its OAuth endpoints. Cheap to clone; `Debug`
/// shows no secret.
///
/// ```no_run
/// # mod cmis { pub use cmis_core::*; pub mod media { pub use cmis_media::*; } pub mod tiktok { pub use cmis_tiktok::*; } }
/// # fn demo() -> cmis::Result<()> {
/// use cmis::SecretString;
/// use cmis::tiktok::TikTokClient;
///
/// let client = TikTokClient::builder()
///     .client_key("aw1234567890")
///     .client_secret(SecretString::from("client-secret"))
///     .build()?;
/// # let _ = client; Ok(()) }
/// ```
#[derive(Clone)]
pub struct TikTokClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) api_base: Url,
    pub(crate) authorize_url: Url,
    pub(crate) client_key: Option<String>,
    pub(crate) client_secret: Option<SecretString>,
    pub(crate) limiters: Limiters,
}

impl fmt::Debug for TikTokClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TikTokClient")
            .field("api_base_url", &self.inner.api_base.as_str())
            .field("client_key", &self.inner.client_key)
            .field(
                "client_secret",
                &self.inner.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("limiters", &self.inner.limiters)
            .finish()
    }
}

/// Builds a [`TikTokClient`].
#[derive(Default)]
pub struct TikTokClientBuilder {
    client_key: Option<String>,
    client_secret: Option<SecretString>,
    api_base_url: Option<String>,
    authorize_url: Option<String>,
    timeout: Option<Duration>,
    rate_limits: Option<RateLimits>,
}

impl fmt::Debug for TikTokClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TikTokClientBuilder")
            .field("client_key", &self.client_key)
            .field("api_base_url", &self.api_base_url)
            .finish_non_exhaustive()
    }
}

impl TikTokClientBuilder {
    /// The app's client key (TikTok's name for the OAuth client id). Needed for OAuth calls and
    /// token refresh only; publishing needs just an access token.
    #[must_use]
    pub fn client_key(mut self, key: impl Into<String>) -> Self {
        self.client_key = Some(key.into());
        self
    }

    /// The app's client secret.
    #[must_use]
    pub fn client_secret(mut self, secret: SecretString) -> Self {
        self.client_secret = Some(secret);
        self
    }

    /// The API base URL, `https://open.tiktokapis.com` by default. The OAuth token and revoke
    /// endpoints live under it too (`/v2/oauth/token/`), so one override points everything at a
    /// test server or the cmis sandbox.
    #[must_use]
    pub fn api_base_url(mut self, url: impl Into<String>) -> Self {
        self.api_base_url = Some(url.into());
        self
    }

    /// The authorisation page, `https://www.tiktok.com/v2/auth/authorize/` by default.
    #[must_use]
    pub fn authorize_url(mut self, url: impl Into<String>) -> Self {
        self.authorize_url = Some(url.into());
        self
    }

    /// The overall timeout of one request (120 s by default; chunk uploads of 64 MB need it).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The client-side rate limits ([`RateLimits::default`] keeps to TikTok's documented ones).
    #[must_use]
    pub fn rate_limits(mut self, limits: RateLimits) -> Self {
        self.rate_limits = Some(limits);
        self
    }

    /// Builds the client. A base URL that does not parse is
    /// [`InvalidInput`](cmis_core::ErrorKind::InvalidInput).
    pub fn build(self) -> Result<TikTokClient> {
        let api_base = parse_base(self.api_base_url.as_deref().unwrap_or(DEFAULT_API_BASE_URL))?;
        let authorize_url = Url::parse(
            self.authorize_url
                .as_deref()
                .unwrap_or(DEFAULT_AUTHORIZE_URL),
        )
        .map_err(|e| Error::invalid_input(format!("TikTok authorize URL is invalid: {e}")))?;
        if let Some(key) = &self.client_key
            && key.trim().is_empty()
        {
            return Err(Error::invalid_input("TikTok client_key is empty"));
        }
        let mut http = cmis_http::client_builder()?;
        if let Some(timeout) = self.timeout {
            http = http.timeout(timeout);
        }
        let http = http.build().map_err(cmis_http::build_error)?;
        Ok(TikTokClient {
            inner: Arc::new(Inner {
                http,
                api_base,
                authorize_url,
                client_key: self.client_key,
                client_secret: self.client_secret,
                limiters: Limiters::new(self.rate_limits.unwrap_or_default()),
            }),
        })
    }
}

fn parse_base(raw: &str) -> Result<Url> {
    let trimmed = raw.trim().trim_end_matches('/');
    let url = Url::parse(trimmed).map_err(|e| {
        Error::invalid_input(format!("TikTok API base URL {trimmed:?} is invalid: {e}"))
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(Error::invalid_input(format!(
            "TikTok API base URL {trimmed:?} must be an http(s) URL"
        )));
    }
    Ok(url)
}

impl TikTokClient {
    /// Starts building a client.
    pub fn builder() -> TikTokClientBuilder {
        TikTokClientBuilder::default()
    }

    /// The API base URL.
    pub fn api_base_url(&self) -> &Url {
        &self.inner.api_base
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!(
            "{}{path}",
            self.inner.api_base.as_str().trim_end_matches('/')
        )
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    /// Calls a v2 endpoint with `token` and an optional JSON `body`, after the endpoint's rate
    /// budget allows it, and returns the envelope's `data`.
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        endpoint: Endpoint,
        token: &SecretString,
        body: Option<&serde_json::Value>,
    ) -> Result<T> {
        self.inner
            .limiters
            .acquire(endpoint.budget(), token)
            .await?;
        let call = endpoint.call();
        let mut request = self
            .inner
            .http
            .post(self.url(endpoint.path()))
            .bearer_auth(token.expose_secret())
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/json; charset=UTF-8",
            );
        if let Some(body) = body {
            let bytes = serde_json::to_vec(body)
                .map_err(|e| Error::internal(format!("request body cannot be encoded: {e}")))?;
            request = request.body(bytes);
        }
        tracing::debug!(endpoint = endpoint.path(), "calling TikTok");
        let response = cmis_http::send(request, call).await?;
        let status = response.status().as_u16();
        let retry_after = cmis_http::retry_after(response.headers());
        let what = format!("the TikTok call {}", endpoint.path());
        let body = cmis_http::read_answer(response, call, &what, cmis_http::MAX_API_RESPONSE_BYTES)
            .await?;
        parse_envelope(status, retry_after, &body, call)
    }
}
