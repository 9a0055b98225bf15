//! [`YouTubeClient`]: the Data API (`/youtube/v3/...`), the upload endpoints
//! (`/upload/youtube/v3/...`) and Google's OAuth endpoints.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use cmis_core::{Error, ExposeSecret, Platform, Result, SecretString};
use cmis_http::{Call, reqwest};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;
use url::Url;

use crate::error::classify;

/// Where the Data API and the upload endpoints live.
pub const DEFAULT_API_URL: &str = "https://www.googleapis.com";
/// Google's OAuth token endpoint.
pub const DEFAULT_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";
/// Google's OAuth consent page.
pub const DEFAULT_AUTHORIZE_URL: &str = "https://accounts.google.com/o/oauth2/v2/auth";

/// A client for the YouTube Data API v3 and Google's OAuth endpoints. Cheap to clone; `Debug`
/// shows no secret.
///
/// ```no_run
/// # mod cmis { pub use cmis_core::*; pub mod youtube { pub use cmis_youtube::*; } }
/// # fn demo() -> cmis::Result<()> {
/// use cmis::SecretString;
/// use cmis::youtube::YouTubeClient;
///
/// let client = YouTubeClient::builder()
///     .client_id("1234567890-abc.apps.googleusercontent.com")
///     .client_secret(SecretString::from("GOCSPX-..."))
///     .build()?;
/// # let _ = client; Ok(()) }
/// ```
#[derive(Clone)]
pub struct YouTubeClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) api: Url,
    pub(crate) token: Url,
    pub(crate) authorize: Url,
    pub(crate) client_id: Option<String>,
    pub(crate) client_secret: Option<SecretString>,
}

impl fmt::Debug for YouTubeClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("YouTubeClient")
            .field("api_url", &self.inner.api.as_str())
            .field("token_url", &self.inner.token.as_str())
            .field("authorize_url", &self.inner.authorize.as_str())
            .field("client_id", &self.inner.client_id)
            .field("client_secret", &self.inner.client_secret.is_some())
            .finish_non_exhaustive()
    }
}

/// Builds a [`YouTubeClient`].
#[derive(Default)]
pub struct YouTubeClientBuilder {
    api_url: Option<String>,
    token_url: Option<String>,
    authorize_url: Option<String>,
    client_id: Option<String>,
    client_secret: Option<SecretString>,
    timeout: Option<Duration>,
}

impl fmt::Debug for YouTubeClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("YouTubeClientBuilder")
            .field("api_url", &self.api_url)
            .field("token_url", &self.token_url)
            .field("authorize_url", &self.authorize_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.is_some())
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl YouTubeClientBuilder {
    /// The API host, [`DEFAULT_API_URL`] by default: `/youtube/v3/...` and
    /// `/upload/youtube/v3/...` are called under it.
    #[must_use]
    pub fn api_url(mut self, url: impl Into<String>) -> Self {
        self.api_url = Some(url.into());
        self
    }

    /// The OAuth token endpoint, [`DEFAULT_TOKEN_URL`] by default.
    #[must_use]
    pub fn token_url(mut self, url: impl Into<String>) -> Self {
        self.token_url = Some(url.into());
        self
    }

    /// The OAuth consent page, [`DEFAULT_AUTHORIZE_URL`] by default.
    #[must_use]
    pub fn authorize_url(mut self, url: impl Into<String>) -> Self {
        self.authorize_url = Some(url.into());
        self
    }

    /// The OAuth client id (needed for OAuth calls only).
    #[must_use]
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = Some(id.into());
        self
    }

    /// The OAuth client secret (needed for OAuth calls only).
    #[must_use]
    pub fn client_secret(mut self, secret: SecretString) -> Self {
        self.client_secret = Some(secret);
        self
    }

    /// The overall timeout of one request (120 s by default). An upload chunk gets more: two
    /// minutes plus a second per 256 KiB.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Builds the client. A URL that does not parse, or is not http(s), is
    /// [`InvalidInput`](cmis_core::ErrorKind::InvalidInput).
    pub fn build(self) -> Result<YouTubeClient> {
        let api = parse_url("API", self.api_url.as_deref().unwrap_or(DEFAULT_API_URL))?;
        let token = parse_url(
            "token",
            self.token_url.as_deref().unwrap_or(DEFAULT_TOKEN_URL),
        )?;
        let authorize = parse_url(
            "authorize",
            self.authorize_url
                .as_deref()
                .unwrap_or(DEFAULT_AUTHORIZE_URL),
        )?;
        let mut http = cmis_http::client_builder()?;
        if let Some(timeout) = self.timeout {
            http = http.timeout(timeout);
        }
        let http = http.build().map_err(cmis_http::build_error)?;
        let client_id = self.client_id.filter(|s| !s.trim().is_empty());
        Ok(YouTubeClient {
            inner: Arc::new(Inner {
                http,
                api,
                token,
                authorize,
                client_id,
                client_secret: self.client_secret,
            }),
        })
    }
}

/// Parses an http(s) URL (`what` names it in the error), without a trailing slash.
fn parse_url(what: &str, raw: &str) -> Result<Url> {
    let trimmed = raw.trim().trim_end_matches('/');
    let url = Url::parse(trimmed).map_err(|e| {
        Error::invalid_input(format!("YouTube {what} URL {trimmed:?} is invalid: {e}"))
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(Error::invalid_input(format!(
            "YouTube {what} URL {trimmed:?} must be an http(s) URL"
        )));
    }
    Ok(url)
}

/// A channel the token can upload to (`channels.list?mine=true`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Channel {
    /// The channel id (`UC…`): the account id of a YouTube [`AccountRef`](cmis_core::AccountRef).
    pub id: String,
    /// The channel's title.
    pub title: String,
    /// The playlist holding the channel's uploads (`contentDetails.relatedPlaylists.uploads`),
    /// read when reconciling a lost upload.
    pub uploads_playlist_id: Option<String>,
}

#[derive(Deserialize)]
struct ChannelList {
    #[serde(default)]
    items: Vec<ChannelItem>,
}

#[derive(Deserialize)]
struct ChannelItem {
    id: String,
    #[serde(default)]
    snippet: Option<ChannelSnippet>,
    #[serde(default, rename = "contentDetails")]
    content_details: Option<ContentDetails>,
}

#[derive(Deserialize)]
struct ChannelSnippet {
    #[serde(default)]
    title: String,
}

#[derive(Deserialize)]
struct ContentDetails {
    #[serde(default, rename = "relatedPlaylists")]
    related: Option<RelatedPlaylists>,
}

#[derive(Deserialize)]
struct RelatedPlaylists {
    #[serde(default)]
    uploads: Option<String>,
}

impl YouTubeClient {
    /// Starts building a client.
    pub fn builder() -> YouTubeClientBuilder {
        YouTubeClientBuilder::default()
    }

    /// The API host.
    pub fn api_url(&self) -> &Url {
        &self.inner.api
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    /// `path` (starting with `/`) under the API host.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.inner.api.as_str().trim_end_matches('/'))
    }

    /// The channel `access_token` uploads to: `GET /youtube/v3/channels?part=snippet,
    /// contentDetails&mine=true` (1 quota unit; needs `youtube.readonly` or `youtube`). Its
    /// id is the account id to store the credential under.
    ///
    /// A Google account without a YouTube channel is
    /// [`Auth`](cmis_core::ErrorKind::Auth) with a user message: the user must create one.
    pub async fn channels_mine(&self, access_token: &SecretString) -> Result<Channel> {
        let list: ChannelList = self
            .get_json(
                "/youtube/v3/channels",
                &[("part", "snippet,contentDetails"), ("mine", "true")],
                access_token,
            )
            .await?;
        let item = list.items.into_iter().next().ok_or_else(|| {
            Error::auth("channels.list (mine) returned no channel")
                .with_platform(Platform::YouTube)
                .with_platform_code("youtubeSignupRequired")
                .with_user_message(crate::error::NO_CHANNEL)
        })?;
        Ok(Channel {
            id: item.id,
            title: item.snippet.map(|s| s.title).unwrap_or_default(),
            uploads_playlist_id: item
                .content_details
                .and_then(|c| c.related)
                .and_then(|r| r.uploads),
        })
    }

    /// A read of the Data API: GET `path` with `query` and the bearer token.
    pub(crate) async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
        token: &SecretString,
    ) -> Result<T> {
        let request = self
            .http()
            .get(self.url(path))
            .query(query)
            .bearer_auth(token.expose_secret());
        let response = cmis_http::send(request, Call::Read).await?;
        let status = response.status().as_u16();
        let retry_after = cmis_http::retry_after(response.headers());
        let what = format!("GET {path}");
        let body = cmis_http::read_answer(
            response,
            Call::Read,
            &what,
            cmis_http::MAX_API_RESPONSE_BYTES,
        )
        .await?;
        if !(200..300).contains(&status) {
            return Err(classify(
                status,
                &body,
                retry_after,
                Call::Read,
                &what,
                OffsetDateTime::now_utc(),
            ));
        }
        serde_json::from_slice(&body).map_err(|e| {
            Error::transient(format!(
                "YouTube answered {what} with JSON cmis cannot read: {e}"
            ))
            .with_platform(Platform::YouTube)
        })
    }
}
