//! OAuth 2.0 for LinkedIn (`docs/linkedin-api.md` §1): the authorization URL, the code exchange,
//! programmatic refresh, and the member's id from `userinfo`.
//!
//! Access tokens last 60 days. Only apps LinkedIn approved for programmatic refresh get a
//! refresh token, which lasts 365 days **from the first authorization**: refreshing gives a new
//! access token but never resets the refresh token's clock, so the member must authorise again
//! before it runs out. [`LinkedInRefresher`] reads every lifetime from the answer and stores
//! whatever refresh token comes back; [`Credential::refresh_expires_at`] is the hard
//! re-authorisation date to show users.

use std::collections::BTreeSet;
use std::time::Duration;

use async_trait::async_trait;
use cmis_core::{
    AccountRef, Credential, Error, ErrorKind, ExposeSecret, Platform, RefreshedToken, Result,
    SecretString, TokenRefresher,
};
use cmis_http::Call;
use serde::Deserialize;
use time::OffsetDateTime;
use url::Url;

use crate::LinkedInClient;
use crate::client::Raw;

/// The scopes cmis asks for by default: sign-in (`openid profile email`), posting as the member
/// (`w_member_social`), and reading and posting as the member's pages
/// (`r_organization_social w_organization_social`).
pub const DEFAULT_SCOPES: &[&str] = &[
    "openid",
    "profile",
    "email",
    "w_member_social",
    "r_organization_social",
    "w_organization_social",
];

/// What the token endpoint answered: the tokens and their lifetimes, read from the answer.
/// `Debug` shows no token.
#[derive(Clone)]
#[non_exhaustive]
pub struct LinkedInTokens {
    /// The access token.
    pub access_token: SecretString,
    /// Its lifetime (`expires_in`; 60 days so far, never assumed).
    pub expires_in: Duration,
    /// The refresh token, for apps approved for programmatic refresh.
    pub refresh_token: Option<SecretString>,
    /// What is left of the refresh token's life (`refresh_token_expires_in`).
    pub refresh_expires_in: Option<Duration>,
    /// The granted scopes (LinkedIn separates them with commas; spaces are read too).
    pub scopes: BTreeSet<String>,
    /// When the request was sent: lifetimes count from here, so they are never overestimated.
    pub requested_at: OffsetDateTime,
}

impl std::fmt::Debug for LinkedInTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkedInTokens")
            .field("expires_in", &self.expires_in)
            .field("refresh_token", &self.refresh_token.is_some())
            .field("refresh_expires_in", &self.refresh_expires_in)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

impl LinkedInTokens {
    /// The credential for `account` (an author URN as the account id), with every expiry
    /// computed from when the request was sent.
    pub fn credential(&self, account: AccountRef) -> Credential {
        let mut c = Credential::new(account, self.access_token.clone())
            .with_access_expires_at(cmis_core::after(self.requested_at, self.expires_in))
            .with_issued_at(self.requested_at)
            .with_scopes(self.scopes.iter().cloned());
        if let Some(rt) = &self.refresh_token {
            c = c.with_refresh_token(rt.clone());
        }
        if let Some(d) = self.refresh_expires_in {
            c = c.with_refresh_expires_at(cmis_core::after(self.requested_at, d));
        }
        c
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: u64,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    refresh_token_expires_in: Option<u64>,
    #[serde(default)]
    scope: Option<String>,
}

impl LinkedInClient {
    /// The URL to send the member to: `response_type=code`, the app's `client_id`,
    /// `redirect_uri`, `state` and the space-separated `scope` (the member must grant all of
    /// them; LinkedIn cannot grant a subset).
    ///
    /// ```
    /// # mod cmis { pub use cmis_core::*; pub mod linkedin { pub use cmis_linkedin::*; } }
    /// # fn demo() -> cmis::Result<()> {
    /// use cmis::linkedin::{DEFAULT_SCOPES, LinkedInClient};
    /// let client = LinkedInClient::builder().client_id("861hhm46p48to2").build()?;
    /// let url = client.authorize_url("https://app.example.com/li/callback", "st4te", DEFAULT_SCOPES)?;
    /// assert!(url.as_str().contains("response_type=code"));
    /// # Ok(()) }
    /// ```
    pub fn authorize_url(&self, redirect_uri: &str, state: &str, scopes: &[&str]) -> Result<Url> {
        if scopes.is_empty() {
            return Err(Error::invalid_input(
                "a LinkedIn authorization needs scopes",
            ));
        }
        if state.is_empty() {
            return Err(Error::invalid_input(
                "a LinkedIn authorization needs a state (an unguessable value checked on return)",
            ));
        }
        let mut url = self.authorize_base().clone();
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", self.client_id()?)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("state", state)
            .append_pair("scope", &scopes.join(" "));
        Ok(url)
    }

    /// Exchanges an authorization `code` for tokens.
    pub async fn exchange_code(&self, code: &str, redirect_uri: &str) -> Result<LinkedInTokens> {
        if code.trim().is_empty() {
            return Err(Error::invalid_input("the authorization code is empty"));
        }
        let secret = self.client_secret()?;
        self.token_call(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("client_id", self.client_id()?),
            ("client_secret", secret.expose_secret()),
        ])
        .await
    }

    /// Refreshes with `refresh_token` (apps approved for programmatic refresh only).
    pub async fn refresh(&self, refresh_token: &SecretString) -> Result<LinkedInTokens> {
        let secret = self.client_secret()?;
        self.token_call(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose_secret()),
            ("client_id", self.client_id()?),
            ("client_secret", secret.expose_secret()),
        ])
        .await
    }

    async fn token_call(&self, form: &[(&str, &str)]) -> Result<LinkedInTokens> {
        let requested_at = OffsetDateTime::now_utc();
        let request = self.http().post(self.token_url().clone()).form(form);
        // A token call changes nothing a retry could double: a lost refresh answer at worst
        // leaves the old tokens, which still work.
        let response = cmis_http::send(request, Call::Read).await?;
        let status = response.status().as_u16();
        let body = cmis_http::read_answer(
            response,
            Call::Read,
            "the LinkedIn token call",
            cmis_http::MAX_OAUTH_RESPONSE_BYTES,
        )
        .await?;
        if !(200..300).contains(&status) {
            let raw = Raw {
                status,
                id: None,
                body,
            };
            let err = self.error(&raw, Call::Read, "token call");
            // Any refusal by the token endpoint means the grant is dead: re-authorise.
            return Err(
                if (400..500).contains(&status) && err.kind() != ErrorKind::RateLimited {
                    err.with_kind(ErrorKind::Auth)
                } else {
                    err
                },
            );
        }
        let answer: TokenAnswer = serde_json::from_slice(&body).map_err(|e| {
            Error::transient(format!("LinkedIn's token answer cannot be read: {e}"))
                .with_platform(Platform::LinkedIn)
        })?;
        Ok(LinkedInTokens {
            access_token: SecretString::from(answer.access_token),
            expires_in: Duration::from_secs(answer.expires_in),
            refresh_token: answer
                .refresh_token
                .filter(|t| !t.is_empty())
                .map(SecretString::from),
            refresh_expires_in: answer.refresh_token_expires_in.map(Duration::from_secs),
            scopes: answer
                .scope
                .unwrap_or_default()
                .split([',', ' '])
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            requested_at,
        })
    }

    /// The signed-in member's id (`sub` from `/v2/userinfo`, scope `openid`): the author URN is
    /// `urn:li:person:{id}`.
    pub async fn member_id(&self, token: &SecretString) -> Result<String> {
        #[derive(Deserialize)]
        struct UserInfo {
            sub: String,
        }
        let raw = self.userinfo(token).await?;
        let info: UserInfo = self.decode(raw, Call::Read, "userinfo")?;
        Ok(info.sub)
    }
}

/// Refreshes LinkedIn credentials for a
/// [`RefreshingTokenProvider`](cmis_core::RefreshingTokenProvider). A credential without a
/// refresh token (an app not approved for programmatic refresh) or whose refresh token LinkedIn
/// refuses is [`Auth`](ErrorKind::Auth): the member must authorise again.
#[derive(Debug, Clone)]
pub struct LinkedInRefresher {
    client: LinkedInClient,
}

impl LinkedInRefresher {
    /// A refresher calling `client`'s token endpoint (it needs the client id and secret).
    pub fn new(client: LinkedInClient) -> Self {
        Self { client }
    }
}

#[async_trait]
impl TokenRefresher for LinkedInRefresher {
    fn platform(&self) -> Platform {
        Platform::LinkedIn
    }

    async fn refresh(&self, current: &Credential) -> Result<RefreshedToken> {
        let Some(refresh_token) = &current.refresh_token else {
            return Err(Error::auth(format!(
                "{} has no LinkedIn refresh token (LinkedIn gives them only to apps approved for \
                 programmatic refresh): the member must authorise again",
                current.account
            ))
            .with_platform(Platform::LinkedIn));
        };
        let tokens = self.client.refresh(refresh_token).await.map_err(|err| {
            if err.kind() == ErrorKind::UnknownOutcome {
                err.with_kind(ErrorKind::Transient)
            } else {
                err
            }
        })?;
        let mut refreshed =
            RefreshedToken::new(tokens.access_token).with_expires_in(tokens.expires_in);
        if let Some(rt) = tokens.refresh_token {
            refreshed = refreshed.with_refresh_token(rt);
        }
        if let Some(d) = tokens.refresh_expires_in {
            refreshed = refreshed.with_refresh_expires_in(d);
        }
        if !tokens.scopes.is_empty() {
            refreshed = refreshed.with_scopes(tokens.scopes);
        }
        Ok(refreshed)
    }
}
