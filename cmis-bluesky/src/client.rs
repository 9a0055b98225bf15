//! [`BlueskyClient`]: XRPC calls to one PDS (or an entryway such as `https://bsky.social`).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use cmis_core::{Error, ExposeSecret, Result, SecretString};
use cmis_http::{Call, reqwest};
use serde::de::DeserializeOwned;
use serde_json::Value;
use time::OffsetDateTime;
use url::Url;

use crate::error::{Envelope, classify, rate_limit_wait};

/// The entryway for accounts Bluesky hosts: it serves their XRPC calls and passes them to the
/// account's own PDS. A self-hosted account needs its own PDS URL.
pub const DEFAULT_PDS_URL: &str = "https://bsky.social";

/// Bluesky's video service, which transcodes a video and stores it in the account's repository
/// as a blob (`docs/bluesky-api.md` §5.3).
pub const DEFAULT_VIDEO_SERVICE_URL: &str = "https://video.bsky.app";

/// The public web app, where a post's permalink points.
pub const WEB_APP_URL: &str = "https://bsky.app";

/// A client for the XRPC endpoints of one PDS. Cheap to clone; `Debug` shows no secret.
///
/// ```no_run
/// # mod cmis { pub use cmis_core::*; pub mod bluesky { pub use cmis_bluesky::*; } }
/// # fn demo() -> cmis::Result<()> {
/// use cmis::bluesky::BlueskyClient;
///
/// // Accounts hosted by Bluesky; a self-hosted account gives its PDS's URL instead.
/// let client = BlueskyClient::builder().pds_url("https://bsky.social").build()?;
/// # let _ = client; Ok(()) }
/// ```
#[derive(Clone)]
pub struct BlueskyClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    pds: Url,
    web: Url,
    video: Url,
}

impl fmt::Debug for BlueskyClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlueskyClient")
            .field("pds_url", &self.inner.pds.as_str())
            .field("video_service_url", &self.inner.video.as_str())
            .finish_non_exhaustive()
    }
}

/// Builds a [`BlueskyClient`].
#[derive(Debug, Default)]
pub struct BlueskyClientBuilder {
    pds_url: Option<String>,
    web_url: Option<String>,
    video_url: Option<String>,
    timeout: Option<Duration>,
    policy: Option<cmis_http::UrlPolicy>,
}

impl BlueskyClientBuilder {
    /// The PDS (or entryway) to call, [`DEFAULT_PDS_URL`] by default.
    #[must_use]
    pub fn pds_url(mut self, url: impl Into<String>) -> Self {
        self.pds_url = Some(url.into());
        self
    }

    /// The web app permalinks point at, [`WEB_APP_URL`] by default.
    #[must_use]
    pub fn web_url(mut self, url: impl Into<String>) -> Self {
        self.web_url = Some(url.into());
        self
    }

    /// The video service, [`DEFAULT_VIDEO_SERVICE_URL`] by default.
    ///
    /// Video needs the client on the account's own PDS, not on the `bsky.social` entryway: the
    /// service token's audience is the DID the PDS gives in `describeServer`. An account found
    /// with [`IdentityResolver`](crate::IdentityResolver) has it.
    #[must_use]
    pub fn video_service_url(mut self, url: impl Into<String>) -> Self {
        self.video_url = Some(url.into());
        self
    }

    /// The overall timeout of one request (120 s by default; a video upload may need more).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Connects only to addresses `policy` allows, checking each address the PDS's name
    /// resolves to. Use it with a PDS found from a DID document (which anyone can write), with
    /// the same policy as the [`IdentityResolver`](crate::IdentityResolver); a PDS you
    /// configured yourself needs none.
    #[must_use]
    pub fn url_policy(mut self, policy: cmis_http::UrlPolicy) -> Self {
        self.policy = Some(policy);
        self
    }

    /// Builds the client. A URL that does not parse, or is not http(s), is
    /// [`InvalidInput`](cmis_core::ErrorKind::InvalidInput).
    pub fn build(self) -> Result<BlueskyClient> {
        let pds = parse_base("PDS", self.pds_url.as_deref().unwrap_or(DEFAULT_PDS_URL))?;
        let web = parse_base("web app", self.web_url.as_deref().unwrap_or(WEB_APP_URL))?;
        let video = parse_base(
            "video service",
            self.video_url
                .as_deref()
                .unwrap_or(DEFAULT_VIDEO_SERVICE_URL),
        )?;
        let mut http = match &self.policy {
            Some(policy) => {
                policy.check_url(&pds)?;
                policy.client_builder()?
            }
            None => cmis_http::client_builder()?,
        };
        if let Some(timeout) = self.timeout {
            http = http.timeout(timeout);
        }
        let http = http.build().map_err(cmis_http::build_error)?;
        Ok(BlueskyClient {
            inner: Arc::new(Inner {
                http,
                pds,
                web,
                video,
            }),
        })
    }
}

/// Parses a base URL (`what` names it in the error): http(s), no trailing slash.
pub(crate) fn parse_base(what: &str, raw: &str) -> Result<Url> {
    let trimmed = raw.trim().trim_end_matches('/');
    let url = Url::parse(trimmed).map_err(|e| {
        Error::invalid_input(format!("Bluesky {what} URL {trimmed:?} is invalid: {e}"))
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(Error::invalid_input(format!(
            "Bluesky {what} URL {trimmed:?} must be an http(s) URL"
        )));
    }
    Ok(url)
}

/// How one call differs from the others.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Tweaks {
    /// The request's own timeout (a large upload needs more than the client's).
    pub(crate) timeout: Option<Duration>,
    /// A non-2xx answer whose body this accepts is read as the answer (the video service
    /// answers a deduplicated upload with an error status and the earlier job).
    pub(crate) accept_error_body: Option<fn(&[u8]) -> bool>,
}

/// An XRPC call's kind and body: a query (GET) or a procedure (POST).
pub(crate) enum Body<'a> {
    /// A query: GET, parameters in the query string.
    Query,
    /// A procedure with a JSON body.
    Json(&'a Value),
    /// A procedure with raw bytes of a MIME type (a blob).
    Bytes { data: Vec<u8>, mime: &'a str },
}

impl BlueskyClient {
    /// Starts building a client.
    pub fn builder() -> BlueskyClientBuilder {
        BlueskyClientBuilder::default()
    }

    /// The PDS this client calls.
    pub fn pds_url(&self) -> &Url {
        &self.inner.pds
    }

    /// The permalink of the post `rkey` of `repo` (a DID or handle).
    pub fn permalink(&self, repo: &str, rkey: &str) -> Option<Url> {
        let base = self.inner.web.as_str().trim_end_matches('/');
        Url::parse(&format!("{base}/profile/{repo}/post/{rkey}")).ok()
    }

    /// Calls the XRPC method `nsid` on the PDS: a query (GET with `query`) or a procedure (POST
    /// with `body`), with `token` as the bearer when given.
    pub(crate) async fn xrpc<T: DeserializeOwned>(
        &self,
        nsid: &str,
        query: &[(&str, &str)],
        body: Body<'_>,
        token: Option<&SecretString>,
        call: Call,
    ) -> Result<T> {
        let tweaks = Tweaks::default();
        self.xrpc_at(&self.inner.pds, nsid, query, body, token, call, tweaks)
            .await
    }

    /// [`xrpc`](Self::xrpc) on the video service, with `tweaks`.
    pub(crate) async fn video_xrpc<T: DeserializeOwned>(
        &self,
        nsid: &str,
        query: &[(&str, &str)],
        body: Body<'_>,
        token: Option<&SecretString>,
        call: Call,
        tweaks: Tweaks,
    ) -> Result<T> {
        self.xrpc_at(&self.inner.video, nsid, query, body, token, call, tweaks)
            .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn xrpc_at<T: DeserializeOwned>(
        &self,
        host: &Url,
        nsid: &str,
        query: &[(&str, &str)],
        body: Body<'_>,
        token: Option<&SecretString>,
        call: Call,
        tweaks: Tweaks,
    ) -> Result<T> {
        let base = host.as_str().trim_end_matches('/');
        let url = format!("{base}/xrpc/{nsid}");
        let mut request = match &body {
            Body::Query => self.inner.http.get(url),
            Body::Json(_) | Body::Bytes { .. } => self.inner.http.post(url),
        };
        if !query.is_empty() {
            request = request.query(query);
        }
        if let Some(token) = token {
            request = request.bearer_auth(token.expose_secret());
        }
        if let Some(timeout) = tweaks.timeout {
            request = request.timeout(timeout);
        }
        request = match body {
            Body::Query => request,
            Body::Json(v) => {
                let bytes = serde_json::to_vec(v)
                    .map_err(|e| Error::internal(format!("request body cannot be encoded: {e}")))?;
                request
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(bytes)
            }
            Body::Bytes { data, mime } => request
                .header(reqwest::header::CONTENT_TYPE, mime)
                .body(data),
        };
        tracing::debug!(nsid, "calling Bluesky");
        let response = cmis_http::send(request, call).await?;
        let status = response.status().as_u16();
        let reset = response
            .headers()
            .get("ratelimit-reset")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let retry_after = cmis_http::retry_after(response.headers());
        let what = format!("the call {nsid}");
        let body = cmis_http::read_answer(response, call, &what, cmis_http::MAX_API_RESPONSE_BYTES)
            .await?;
        let accepted = tweaks.accept_error_body.is_some_and(|accept| accept(&body));
        if !(200..300).contains(&status) && !accepted {
            let wait = rate_limit_wait(reset.as_deref(), retry_after, OffsetDateTime::now_utc());
            return Err(classify(status, &Envelope::parse(&body), wait, call, nsid));
        }
        serde_json::from_slice(&body).map_err(|e| {
            let err = format!("Bluesky answered {nsid} with JSON cmis cannot read: {e}");
            match call {
                // The write was accepted; only its answer is unreadable.
                Call::Mutation => Error::unknown_outcome(err),
                Call::Read => Error::transient(err),
            }
        })
    }
}
