//! Sessions from an app password: `createSession` once, then `refreshSession` with the rotated
//! refresh token, stored before the new access token is used (docs/bluesky-api.md §1).
//!
//! Token lifetimes come from the tokens themselves (their `exp` and `iat` claims), never from
//! a figure written here: the answers carry no `expires_in`.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use cmis_core::{
    AccountRef, Credential, Error, ErrorKind, Platform, RefreshedToken, Result, SecretString,
    TenantId, TokenRefresher,
};
use cmis_http::Call;
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;

use crate::BlueskyClient;
use crate::client::Body;

/// What `createSession` and `refreshSession` return.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Wire {
    access_jwt: String,
    refresh_jwt: String,
    handle: String,
    did: String,
    #[serde(default)]
    active: Option<bool>,
    #[serde(default)]
    status: Option<String>,
}

/// A session on a PDS: the account's DID and handle and its token pair.
#[derive(Clone)]
#[non_exhaustive]
pub struct Session {
    /// The account's DID, its permanent id (handles change).
    pub did: String,
    /// The account's handle when the session was made.
    pub handle: String,
    /// The access token (`accessJwt`).
    pub access_jwt: SecretString,
    /// The refresh token (`refreshJwt`); each refresh replaces it.
    pub refresh_jwt: SecretString,
    /// When the access token expires, from its `exp` claim.
    pub access_expires_at: Option<OffsetDateTime>,
    /// When the refresh token expires, from its `exp` claim.
    pub refresh_expires_at: Option<OffsetDateTime>,
    /// When the access token was issued, from its `iat` claim.
    pub issued_at: Option<OffsetDateTime>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("did", &self.did)
            .field("handle", &self.handle)
            .field("access_expires_at", &self.access_expires_at)
            .field("refresh_expires_at", &self.refresh_expires_at)
            .finish_non_exhaustive()
    }
}

impl Session {
    fn from_wire(wire: Wire) -> Result<Self> {
        if wire.active == Some(false) {
            let status = wire.status.as_deref().unwrap_or("inactive");
            return Err(Error::permission(format!(
                "the Bluesky account {} is not active ({status})",
                wire.did
            ))
            .with_platform(Platform::Bluesky)
            .with_platform_code(status));
        }
        let access = claims(&wire.access_jwt);
        let refresh = claims(&wire.refresh_jwt);
        Ok(Self {
            did: wire.did,
            handle: wire.handle,
            access_expires_at: access.as_ref().and_then(|c| at(c.exp)),
            refresh_expires_at: refresh.as_ref().and_then(|c| at(c.exp)),
            issued_at: access.as_ref().and_then(|c| at(c.iat)),
            access_jwt: SecretString::from(wire.access_jwt),
            refresh_jwt: SecretString::from(wire.refresh_jwt),
        })
    }

    /// The session as a credential of `tenant`'s account, keyed by the DID.
    pub fn credential(&self, tenant: &TenantId) -> Credential {
        let mut c = Credential::new(
            AccountRef::new(tenant.clone(), Platform::Bluesky, self.did.clone()),
            self.access_jwt.clone(),
        )
        .with_refresh_token(self.refresh_jwt.clone());
        c.access_expires_at = self.access_expires_at;
        c.refresh_expires_at = self.refresh_expires_at;
        c.issued_at = self.issued_at;
        c
    }

    fn lifetime(
        issued: Option<OffsetDateTime>,
        expires: Option<OffsetDateTime>,
    ) -> Option<Duration> {
        let secs = (expires? - issued?).whole_seconds();
        u64::try_from(secs).ok().map(Duration::from_secs)
    }
}

/// The claims cmis reads from a token: only when it was issued and when it expires. The token
/// is the server's; cmis does not (and cannot) check its signature.
#[derive(Deserialize)]
struct Claims {
    #[serde(default)]
    exp: Option<i64>,
    #[serde(default)]
    iat: Option<i64>,
}

fn claims(jwt: &str) -> Option<Claims> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn at(secs: Option<i64>) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(secs?).ok()
}

impl BlueskyClient {
    /// Signs in with `identifier` (a handle, DID or email) and an app password
    /// (`com.atproto.server.createSession`).
    ///
    /// Bluesky allows 30 of these per 5 minutes and 300 per day per account: make one when an
    /// account is connected, store the session ([`Session::credential`]) and refresh it from
    /// then on ([`BlueskyRefresher`]). An account password on an account with email sign-in
    /// codes is refused with an [`Auth`](ErrorKind::Auth) error that says to use an app password.
    pub async fn create_session(
        &self,
        identifier: &str,
        app_password: &SecretString,
    ) -> Result<Session> {
        use cmis_core::ExposeSecret;
        if identifier.trim().is_empty() {
            return Err(Error::invalid_input(
                "a Bluesky identifier (handle or DID) is needed",
            ));
        }
        let body =
            json!({"identifier": identifier.trim(), "password": app_password.expose_secret()});
        let wire: Wire = self
            .xrpc(
                "com.atproto.server.createSession",
                &[],
                Body::Json(&body),
                None,
                Call::Read,
            )
            .await?;
        Session::from_wire(wire)
    }

    /// Exchanges `refresh_jwt` for a new session (`com.atproto.server.refreshSession`). The
    /// answer's refresh token replaces the one sent, which stops working two hours later: store
    /// it before anything else.
    pub async fn refresh_session(&self, refresh_jwt: &SecretString) -> Result<Session> {
        let wire: Wire = self
            .xrpc(
                "com.atproto.server.refreshSession",
                &[],
                Body::Json(&json!({})),
                Some(refresh_jwt),
                Call::Read,
            )
            .await
            .map_err(|e| {
                if e.kind() == ErrorKind::Auth {
                    e.with_user_message("the Bluesky session has ended: sign in again")
                } else {
                    e
                }
            })?;
        Session::from_wire(wire)
    }
}

/// Refreshes Bluesky sessions for a
/// [`RefreshingTokenProvider`](cmis_core::RefreshingTokenProvider), which stores the rotated
/// refresh token (compare-and-set) before the new access token is used, and serialises
/// refreshes per account across processes.
///
/// With [`with_app_password`](Self::with_app_password), a session whose refresh token is no
/// longer accepted (after 90 days, or a rotation lost) is replaced by a new sign-in, once per
/// refresh; without, the account must be connected again.
#[derive(Clone)]
pub struct BlueskyRefresher {
    client: BlueskyClient,
    app_password: Option<SecretString>,
}

impl fmt::Debug for BlueskyRefresher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlueskyRefresher")
            .field("client", &self.client)
            .field(
                "app_password",
                &self.app_password.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl BlueskyRefresher {
    /// A refresher calling `client`'s PDS.
    pub fn new(client: BlueskyClient) -> Self {
        Self {
            client,
            app_password: None,
        }
    }

    /// Signs in again with `password` when a refresh token is refused.
    #[must_use]
    pub fn with_app_password(mut self, password: SecretString) -> Self {
        self.app_password = Some(password);
        self
    }
}

impl BlueskyRefresher {
    /// A new session for `current`'s account from the app password.
    async fn sign_in(&self, current: &Credential, password: &SecretString) -> Result<Session> {
        self.client
            .create_session(current.account.account.as_str(), password)
            .await
    }
}

#[async_trait]
impl TokenRefresher for BlueskyRefresher {
    fn platform(&self) -> Platform {
        Platform::Bluesky
    }

    async fn refresh(&self, current: &Credential) -> Result<RefreshedToken> {
        let session = match (&current.refresh_token, &self.app_password) {
            (Some(refresh), password) => {
                match (self.client.refresh_session(refresh).await, password) {
                    (Ok(session), _) => session,
                    (Err(e), Some(password)) if e.kind() == ErrorKind::Auth => {
                        tracing::info!(account = %current.account, "Bluesky refresh refused; signing in again");
                        self.sign_in(current, password).await?
                    }
                    (Err(e), _) => return Err(e),
                }
            }
            (None, Some(password)) => self.sign_in(current, password).await?,
            (None, None) => {
                return Err(Error::auth(format!(
                    "the Bluesky account {} has no refresh token: sign in again",
                    current.account
                ))
                .with_platform(Platform::Bluesky));
            }
        };
        if session.did != current.account.account.as_str()
            && session.handle != current.account.account.as_str()
        {
            return Err(Error::auth(format!(
                "the Bluesky session is for {} ({}), not {}",
                session.did, session.handle, current.account.account
            ))
            .with_platform(Platform::Bluesky));
        }
        let mut refreshed = RefreshedToken::new(session.access_jwt.clone())
            .with_refresh_token(session.refresh_jwt.clone());
        if let Some(life) = Session::lifetime(session.issued_at, session.access_expires_at) {
            refreshed = refreshed.with_expires_in(life);
        }
        if let Some(life) = Session::lifetime(session.issued_at, session.refresh_expires_at) {
            refreshed = refreshed.with_refresh_expires_in(life);
        }
        Ok(refreshed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_are_read_from_the_token_and_garbage_reads_as_unknown() {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"sub":"did:plc:x","iat":1796371200,"exp":1796378400}"#);
        let c = claims(&format!("e30.{payload}.sig")).unwrap();
        assert_eq!((c.iat, c.exp), (Some(1_796_371_200), Some(1_796_378_400)));
        assert!(claims("not-a-jwt").is_none());
        assert!(claims("a.!!!.c").is_none());
        assert_eq!(
            Session::lifetime(at(c.iat), at(c.exp)),
            Some(Duration::from_secs(7200))
        );
        assert_eq!(Session::lifetime(at(c.exp), at(c.iat)), None);
    }
}
