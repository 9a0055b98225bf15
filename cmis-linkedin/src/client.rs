//! [`LinkedInClient`]: the `/rest/` API with its version headers, the OAuth endpoints, and the
//! pre-signed upload URLs media go to.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use cmis_core::{Error, ExposeSecret, Result, SecretString};
use cmis_http::{Call, reqwest};
use serde::de::DeserializeOwned;
use serde_json::Value;
use time::OffsetDateTime;
use url::Url;

use crate::error::{Envelope, classify};
use crate::{ApiVersion, DEFAULT_VERSION};

/// LinkedIn's API host; the Posts, Images, Videos and Documents APIs are under `/rest/`.
pub const DEFAULT_API_URL: &str = "https://api.linkedin.com";

/// LinkedIn's token endpoint (code exchange and refresh).
pub const DEFAULT_TOKEN_URL: &str = "https://www.linkedin.com/oauth/v2/accessToken";

/// LinkedIn's authorization page.
pub const DEFAULT_AUTHORIZE_URL: &str = "https://www.linkedin.com/oauth/v2/authorization";

/// Where a post's permalink points: `{WEB_URL}/feed/update/{urn}`.
pub const WEB_URL: &str = "https://www.linkedin.com";

/// A client for LinkedIn's REST API and OAuth endpoints. Cheap to clone; `Debug` shows no
/// secret.
///
/// ```no_run
/// # mod cmis { pub use cmis_core::*; pub mod linkedin { pub use cmis_linkedin::*; } }
/// # fn demo() -> cmis::Result<()> {
/// use cmis::linkedin::LinkedInClient;
/// use cmis::SecretString;
///
/// let client = LinkedInClient::builder()
///     .client_id("861hhm46p48to2")
///     .client_secret(SecretString::from("app secret"))
///     .version("202604".parse()?)
///     .build()?;
/// # let _ = client; Ok(()) }
/// ```
#[derive(Clone)]
pub struct LinkedInClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    api: Url,
    token: Url,
    authorize: Url,
    client_id: Option<String>,
    client_secret: Option<SecretString>,
    version: ApiVersion,
}

impl fmt::Debug for LinkedInClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LinkedInClient")
            .field("api_url", &self.inner.api.as_str())
            .field("token_url", &self.inner.token.as_str())
            .field("client_id", &self.inner.client_id)
            .field("version", &self.inner.version)
            .finish_non_exhaustive()
    }
}

/// Builds a [`LinkedInClient`].
#[derive(Debug, Default)]
pub struct LinkedInClientBuilder {
    api_url: Option<String>,
    token_url: Option<String>,
    authorize_url: Option<String>,
    client_id: Option<String>,
    client_secret: Option<SecretString>,
    version: Option<ApiVersion>,
    timeout: Option<Duration>,
}

impl LinkedInClientBuilder {
    /// The API host, [`DEFAULT_API_URL`] by default (`/rest/…` is appended).
    #[must_use]
    pub fn api_url(mut self, url: impl Into<String>) -> Self {
        self.api_url = Some(url.into());
        self
    }

    /// The token endpoint, [`DEFAULT_TOKEN_URL`] by default.
    #[must_use]
    pub fn token_url(mut self, url: impl Into<String>) -> Self {
        self.token_url = Some(url.into());
        self
    }

    /// The authorization page, [`DEFAULT_AUTHORIZE_URL`] by default.
    #[must_use]
    pub fn authorize_url(mut self, url: impl Into<String>) -> Self {
        self.authorize_url = Some(url.into());
        self
    }

    /// The app's client id (needed for OAuth, not for publishing).
    #[must_use]
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = Some(id.into());
        self
    }

    /// The app's client secret (needed for OAuth, not for publishing).
    #[must_use]
    pub fn client_secret(mut self, secret: SecretString) -> Self {
        self.client_secret = Some(secret);
        self
    }

    /// The `LinkedIn-Version` sent on every call, [`DEFAULT_VERSION`] by default.
    #[must_use]
    pub fn version(mut self, version: ApiVersion) -> Self {
        self.version = Some(version);
        self
    }

    /// The overall timeout of one request (120 s by default; a large video part may need more).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Builds the client. A URL that does not parse, or is not http(s), is
    /// [`InvalidInput`](cmis_core::ErrorKind::InvalidInput).
    pub fn build(self) -> Result<LinkedInClient> {
        let api = parse_url("API", self.api_url.as_deref().unwrap_or(DEFAULT_API_URL))?;
        let token = parse_url(
            "token",
            self.token_url.as_deref().unwrap_or(DEFAULT_TOKEN_URL),
        )?;
        let authorize = parse_url(
            "authorization",
            self.authorize_url
                .as_deref()
                .unwrap_or(DEFAULT_AUTHORIZE_URL),
        )?;
        let mut http = cmis_http::client_builder()?;
        if let Some(timeout) = self.timeout {
            http = http.timeout(timeout);
        }
        Ok(LinkedInClient {
            inner: Arc::new(Inner {
                http: http.build().map_err(cmis_http::build_error)?,
                api,
                token,
                authorize,
                client_id: self.client_id,
                client_secret: self.client_secret,
                version: self.version.unwrap_or(DEFAULT_VERSION),
            }),
        })
    }
}

fn parse_url(what: &str, raw: &str) -> Result<Url> {
    let trimmed = raw.trim().trim_end_matches('/');
    let url = Url::parse(trimmed).map_err(|e| {
        Error::invalid_input(format!("LinkedIn {what} URL {trimmed:?} is invalid: {e}"))
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(Error::invalid_input(format!(
            "LinkedIn {what} URL {trimmed:?} must be an http(s) URL"
        )));
    }
    Ok(url)
}

/// A `/rest/` answer, whatever its status.
#[derive(Debug)]
pub(crate) struct Raw {
    pub(crate) status: u16,
    /// `x-restli-id`: the id of what a create made.
    pub(crate) id: Option<String>,
    pub(crate) body: Vec<u8>,
}

impl Raw {
    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Percent-encodes a URN for a path segment (`urn:li:share:1` → `urn%3Ali%3Ashare%3A1`).
pub(crate) fn encode_urn(urn: &str) -> String {
    url::form_urlencoded::byte_serialize(urn.as_bytes()).collect()
}

impl LinkedInClient {
    /// Starts building a client.
    pub fn builder() -> LinkedInClientBuilder {
        LinkedInClientBuilder::default()
    }

    /// The `LinkedIn-Version` this client sends.
    pub fn version(&self) -> ApiVersion {
        self.inner.version
    }

    /// The permalink of the post `urn`.
    pub fn permalink(urn: &str) -> Option<Url> {
        Url::parse(&format!("{WEB_URL}/feed/update/{urn}")).ok()
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    pub(crate) fn token_url(&self) -> &Url {
        &self.inner.token
    }

    pub(crate) fn authorize_base(&self) -> &Url {
        &self.inner.authorize
    }

    pub(crate) fn client_id(&self) -> Result<&str> {
        self.inner.client_id.as_deref().ok_or_else(|| {
            Error::invalid_input(
                "the LinkedIn client id is not set (LinkedInClientBuilder::client_id)",
            )
        })
    }

    pub(crate) fn client_secret(&self) -> Result<&SecretString> {
        self.inner.client_secret.as_ref().ok_or_else(|| {
            Error::invalid_input(
                "the LinkedIn client secret is not set (LinkedInClientBuilder::client_secret)",
            )
        })
    }

    /// Calls `/rest/{path}` and returns the answer whatever its status.
    pub(crate) async fn rest_raw(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
        token: &SecretString,
        call: Call,
    ) -> Result<Raw> {
        let base = self.inner.api.as_str().trim_end_matches('/');
        let mut request = self
            .inner
            .http
            .request(method, format!("{base}/rest/{path}"))
            .bearer_auth(token.expose_secret())
            .header("LinkedIn-Version", self.inner.version.to_string())
            .header("X-Restli-Protocol-Version", "2.0.0");
        if !query.is_empty() {
            request = request.query(query);
        }
        if let Some(body) = body {
            let bytes = serde_json::to_vec(body)
                .map_err(|e| Error::internal(format!("request body cannot be encoded: {e}")))?;
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(bytes);
        }
        let endpoint = endpoint_name(path);
        tracing::debug!(endpoint, "calling LinkedIn");
        let response = cmis_http::send(request, call).await?;
        let status = response.status().as_u16();
        let id = response
            .headers()
            .get("x-restli-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let what = format!("the LinkedIn call {endpoint}");
        let body = cmis_http::read_answer(response, call, &what, cmis_http::MAX_API_RESPONSE_BYTES)
            .await?;
        Ok(Raw { status, id, body })
    }

    /// Calls `/rest/{path}`; a non-2xx answer is a classified error, a 2xx answer's JSON body is
    /// decoded (an empty body as `null`).
    pub(crate) async fn rest<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
        token: &SecretString,
        call: Call,
    ) -> Result<T> {
        let raw = self
            .rest_raw(method, path, query, body, token, call)
            .await?;
        self.decode(raw, call, path)
    }

    /// Turns an answer into its decoded body or its classified error.
    pub(crate) fn decode<T: DeserializeOwned>(
        &self,
        raw: Raw,
        call: Call,
        path: &str,
    ) -> Result<T> {
        let endpoint = endpoint_name(path);
        if !raw.is_success() {
            return Err(self.error(&raw, call, &endpoint));
        }
        let body: &[u8] = if raw.body.is_empty() {
            b"null"
        } else {
            &raw.body
        };
        serde_json::from_slice(body).map_err(|e| {
            let err = format!("LinkedIn answered {endpoint} with JSON cmis cannot read: {e}");
            match call {
                Call::Mutation => Error::unknown_outcome(err),
                Call::Read => Error::transient(err),
            }
        })
    }

    pub(crate) fn error(&self, raw: &Raw, call: Call, what: &str) -> Error {
        classify(
            raw.status,
            &Envelope::parse(&raw.body),
            self.inner.version,
            call,
            what,
            OffsetDateTime::now_utc(),
        )
    }

    /// `GET /v2/userinfo` (OpenID Connect; not versioned, so no `LinkedIn-Version`).
    pub(crate) async fn userinfo(&self, token: &SecretString) -> Result<Raw> {
        let base = self.inner.api.as_str().trim_end_matches('/');
        let request = self
            .inner
            .http
            .get(format!("{base}/v2/userinfo"))
            .bearer_auth(token.expose_secret());
        let response = cmis_http::send(request, Call::Read).await?;
        let status = response.status().as_u16();
        let body = cmis_http::read_answer(
            response,
            Call::Read,
            "the LinkedIn call userinfo",
            cmis_http::MAX_API_RESPONSE_BYTES,
        )
        .await?;
        Ok(Raw {
            status,
            id: None,
            body,
        })
    }

    /// `PUT`s `data` to a pre-signed upload URL LinkedIn gave; returns the answer's `ETag`
    /// (quotes removed). `token` is sent only where LinkedIn wants it (images and documents;
    /// video parts are authorised by the URL itself).
    pub(crate) async fn put_upload(
        &self,
        url: &str,
        data: Bytes,
        content_type: &str,
        token: Option<&SecretString>,
    ) -> Result<Option<String>> {
        let url = parse_upload_url(url)?;
        let mut request = self
            .inner
            .http
            .put(url)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(data);
        if let Some(token) = token {
            request = request.bearer_auth(token.expose_secret());
        }
        // Re-sending the same bytes to the same URL replaces them: safe to repeat.
        let response = cmis_http::send(request, Call::Read).await?;
        let status = response.status().as_u16();
        let etag = response
            .headers()
            .get(reqwest::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().trim_matches('"').to_owned());
        let body = cmis_http::read_answer(
            response,
            Call::Read,
            "the LinkedIn media upload",
            cmis_http::MAX_API_RESPONSE_BYTES,
        )
        .await?;
        if !(200..300).contains(&status) {
            let raw = Raw {
                status,
                id: None,
                body,
            };
            return Err(self.error(&raw, Call::Read, "media upload"));
        }
        Ok(etag)
    }
}

/// An upload URL from LinkedIn's answer: http(s) only.
fn parse_upload_url(raw: &str) -> Result<Url> {
    let url = Url::parse(raw).map_err(|e| {
        Error::transient(format!("LinkedIn gave an upload URL cmis cannot read: {e}"))
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::transient(
            "LinkedIn gave an upload URL that is not http(s)",
        ));
    }
    Ok(url)
}

/// The endpoint's name for logs and errors: the path without URNs or query.
fn endpoint_name(path: &str) -> String {
    path.split('/')
        .map(|seg| if seg.starts_with("urn") { "{urn}" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}
