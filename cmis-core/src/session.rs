//! [`TokenSession`]: the one rule every connector follows when a platform rejects a token.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};

use secrecy::{ExposeSecret, SecretString};

use crate::{AccessToken, AccountRef, ErrorKind, Result, TokenProvider};

/// One account's tokens for one operation (a publish, a resume, a reconciliation), and the one
/// rule every cmis connector follows when the platform rejects a token:
///
/// 1. the rejected token is [invalidated](TokenProvider::invalidate);
/// 2. a new token is asked for, which refreshes it where the platform can refresh (a
///    [`RefreshingTokenProvider`](crate::RefreshingTokenProvider) with a refresher for the
///    platform);
/// 3. the call is made once more with the new token;
/// 4. when no new token comes, or the new token is rejected too, the call fails with
///    [`ErrorKind::Auth`](crate::ErrorKind::Auth): the account must be re-authorised. The
///    error is the platform's own word: its refusal of the refresh when the refresh reached it
///    (`invalid_grant`), else its rejection of the token (with its code and trace id). A
///    renewal that fails for another reason (a refresh endpoint that is down) returns that
///    error instead, so the caller can retry later.
///
/// A session renews at most once, however many of its calls see a rejection, so a revoked
/// grant costs one refresh, not one per poll. A connector marks the errors that mean "this
/// token is no good" with [`Error::token_rejected`](crate::Error::token_rejected); every other
/// error passes through untouched. Retrying after a rejection is safe even for a mutation: a
/// platform that refused the token did not act on the request.
///
/// Each [`run`](Self::run) asks the provider for the current token, so a long operation (a
/// large upload, minutes of status polling) picks up a token refreshed ahead of its expiry.
///
/// ```
/// # mod cmis { pub use cmis_core::*; }
/// use cmis::{AccountRef, Error, ExposeSecret, Platform, SecretString, StaticTokenProvider};
/// use cmis::{TenantId, TokenSession};
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
/// let tokens = StaticTokenProvider::new(SecretString::from("page-token"));
/// let account = TenantId::new("acme").account(Platform::Facebook, "1234");
/// let session = TokenSession::new(&tokens, &account);
///
/// // A call that succeeds runs once.
/// let id = session
///     .run(|token| async move {
///         assert_eq!(token.expose_secret(), "page-token");
///         Ok::<_, Error>("post-1".to_owned())
///     })
///     .await?;
/// assert_eq!(id, "post-1");
///
/// // A rejected token with no way to renew it: the platform's `Auth` error, after one call.
/// let mut calls = 0;
/// let err = session
///     .run(|_token| {
///         calls += 1;
///         async { Err::<(), _>(Error::auth("token expired").token_rejected()) }
///     })
///     .await
///     .unwrap_err();
/// assert_eq!(err.kind(), cmis::ErrorKind::Auth);
/// assert_eq!(calls, 1);
/// # Ok(()) }
/// ```
pub struct TokenSession<'a> {
    tokens: &'a dyn TokenProvider,
    account: &'a AccountRef,
    renewed: AtomicBool,
}

impl std::fmt::Debug for TokenSession<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSession")
            .field("account", self.account)
            .field("renewed", &self.renewed.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl<'a> TokenSession<'a> {
    /// A session for `account`'s tokens from `tokens`. Nothing is fetched yet.
    pub fn new(tokens: &'a dyn TokenProvider, account: &'a AccountRef) -> Self {
        Self {
            tokens,
            account,
            renewed: AtomicBool::new(false),
        }
    }

    /// The account the session is for.
    pub fn account(&self) -> &'a AccountRef {
        self.account
    }

    /// The current token, with its expiry and scopes (to check a scope before a call).
    pub async fn token(&self) -> Result<AccessToken> {
        self.tokens.access_token(self.account).await
    }

    /// Runs `call` with the current token, following the session's rule on a rejected token:
    /// at most one more run, with a renewed token.
    pub async fn run<T, F, Fut>(&self, mut call: F) -> Result<T>
    where
        F: FnMut(SecretString) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let token = self.token().await?;
        let rejection = match call(token.secret.clone()).await {
            Err(err) if err.is_token_rejected() => err,
            other => return other,
        };
        self.tokens.invalidate(self.account, &token).await;
        if self.renewed.swap(true, Ordering::SeqCst) {
            tracing::debug!(account = %self.account, "token rejected again; not renewing twice");
            return Err(rejection);
        }
        tracing::debug!(account = %self.account, "token rejected; renewing it once");
        // A provider that cannot renew the token says why. The platform's own word is the best
        // evidence: its refusal of the refresh (`invalid_grant`) when the refresh reached it,
        // else its rejection of the token (a provider with no refresher, a Page token). A
        // renewal that failed for another reason (a refresh endpoint that is down) is returned
        // as it is, so that the caller retries later.
        let renewed = match self.token().await {
            Ok(renewed) => renewed,
            Err(err) if err.kind() == ErrorKind::Auth && err.platform_code().is_none() => {
                return Err(rejection);
            }
            Err(err) => return Err(err),
        };
        if renewed.secret.expose_secret() == token.secret.expose_secret() {
            return Err(rejection);
        }
        let result = call(renewed.secret.clone()).await;
        if let Err(err) = &result
            && err.is_token_rejected()
        {
            self.tokens.invalidate(self.account, &renewed).await;
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::Mutex;

    use async_trait::async_trait;

    use super::*;
    use crate::{Error, ErrorKind, Platform, TenantId};

    /// Hands out a queue of tokens: each invalidation moves to the next; an empty queue is the
    /// platform refusing to refresh.
    struct Rotating {
        tokens: Mutex<VecDeque<&'static str>>,
        invalidated: Mutex<Vec<String>>,
        when_empty: fn() -> Error,
    }

    impl Rotating {
        fn new(tokens: &[&'static str]) -> Self {
            Self {
                tokens: Mutex::new(tokens.iter().copied().collect()),
                invalidated: Mutex::new(Vec::new()),
                // What a `RefreshingTokenProvider` says when it has no way to refresh.
                when_empty: || {
                    Error::auth("tiktok:a must be re-authorised: no refresher")
                        .with_platform(Platform::TikTok)
                },
            }
        }
    }

    #[async_trait]
    impl TokenProvider for Rotating {
        async fn access_token(&self, _account: &AccountRef) -> Result<AccessToken> {
            let tokens = self.tokens.lock().unwrap();
            let Some(token) = tokens.front() else {
                return Err((self.when_empty)());
            };
            Ok(AccessToken {
                secret: SecretString::from(*token),
                version: 0,
                expires_at: None,
                scopes: Default::default(),
            })
        }

        async fn invalidate(&self, _account: &AccountRef, rejected: &AccessToken) {
            self.invalidated
                .lock()
                .unwrap()
                .push(rejected.secret.expose_secret().to_owned());
            let mut tokens = self.tokens.lock().unwrap();
            if tokens.front() == Some(&rejected.secret.expose_secret()) {
                tokens.pop_front();
            }
        }
    }

    fn account() -> AccountRef {
        TenantId::new("t").account(Platform::TikTok, "a")
    }

    /// Runs a call that rejects every token in `rejects`, recording the tokens it was given.
    async fn run(
        session: &TokenSession<'_>,
        rejects: &[&str],
        seen: &Mutex<Vec<String>>,
    ) -> Result<String> {
        session
            .run(|token| {
                let token = token.expose_secret().to_owned();
                seen.lock().unwrap().push(token.clone());
                let rejected = rejects.contains(&token.as_str());
                async move {
                    if rejected {
                        Err(Error::auth("invalid token").token_rejected())
                    } else {
                        Ok(token)
                    }
                }
            })
            .await
    }

    #[tokio::test]
    async fn a_rejected_token_is_renewed_once_and_the_call_retried() {
        let tokens = Rotating::new(&["old", "new"]);
        let account = account();
        let session = TokenSession::new(&tokens, &account);
        let seen = Mutex::new(Vec::new());
        assert_eq!(run(&session, &["old"], &seen).await.unwrap(), "new");
        assert_eq!(*seen.lock().unwrap(), ["old", "new"]);
        assert_eq!(*tokens.invalidated.lock().unwrap(), ["old"]);
    }

    #[tokio::test]
    async fn a_second_rejection_is_auth_and_the_session_never_renews_again() {
        let tokens = Rotating::new(&["old", "new", "newer", "newest"]);
        let account = account();
        let session = TokenSession::new(&tokens, &account);
        let seen = Mutex::new(Vec::new());
        let err = run(&session, &["old", "new"], &seen).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Auth);
        assert!(err.is_token_rejected());
        assert_eq!(*seen.lock().unwrap(), ["old", "new"]);
        // A later call in the same operation that is rejected does not renew a second time,
        // although the provider would have a fresh token.
        seen.lock().unwrap().clear();
        let err = run(&session, &["newer"], &seen).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Auth);
        assert_eq!(*seen.lock().unwrap(), ["newer"]);
    }

    #[tokio::test]
    async fn an_account_to_re_authorise_fails_with_the_platforms_rejection() {
        let tokens = Rotating::new(&["only"]);
        let account = account();
        let session = TokenSession::new(&tokens, &account);
        let seen = Mutex::new(Vec::new());
        let err = run(&session, &["only"], &seen).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Auth);
        assert_eq!(err.message(), "invalid token");
        assert_eq!(*seen.lock().unwrap(), ["only"]);
    }

    #[tokio::test]
    async fn a_refresh_the_platform_refused_is_the_platforms_refusal() {
        let mut tokens = Rotating::new(&["only"]);
        tokens.when_empty = || {
            Error::auth("the refresh token was revoked")
                .with_platform(Platform::TikTok)
                .with_platform_code("invalid_grant")
        };
        let account = account();
        let session = TokenSession::new(&tokens, &account);
        let seen = Mutex::new(Vec::new());
        let err = run(&session, &["only"], &seen).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Auth);
        assert_eq!(err.platform_code(), Some("invalid_grant"));
    }

    #[tokio::test]
    async fn a_refresh_that_fails_for_now_is_the_providers_error() {
        let mut tokens = Rotating::new(&["only"]);
        tokens.when_empty = || Error::transient("the refresh failed");
        let account = account();
        let session = TokenSession::new(&tokens, &account);
        let seen = Mutex::new(Vec::new());
        let err = run(&session, &["only"], &seen).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Transient);
        assert_eq!(err.message(), "the refresh failed");
    }

    #[tokio::test]
    async fn the_same_token_again_is_not_retried() {
        let tokens = crate::StaticTokenProvider::new(SecretString::from("fixed"));
        let account = account();
        let session = TokenSession::new(&tokens, &account);
        let seen = Mutex::new(Vec::new());
        let err = run(&session, &["fixed"], &seen).await.unwrap_err();
        assert_eq!(err.message(), "invalid token");
        assert_eq!(*seen.lock().unwrap(), ["fixed"]);
    }

    #[tokio::test]
    async fn other_errors_pass_through_without_a_renewal() {
        let tokens = Rotating::new(&["old", "new"]);
        let account = account();
        let session = TokenSession::new(&tokens, &account);
        let err = session
            .run(|_| async { Err::<(), _>(Error::auth("missing permission")) })
            .await
            .unwrap_err();
        assert!(!err.is_token_rejected());
        assert!(tokens.invalidated.lock().unwrap().is_empty());
    }
}
