//! OAuth: the token endpoint (codes and rotating refresh tokens), revoke and authorize.

use super::*;

impl TikTokState {
    /// The app's client key and secret, which both OAuth endpoints check first.
    fn check_client(&self, form: &HashMap<String, String>) -> Result<(), OAuthError> {
        let config = self.config();
        let field = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
        if field("client_key") != config.client_key
            || field("client_secret") != config.client_secret
        {
            return Err(oauth(
                401,
                "invalid_client",
                "Client key or secret is invalid.",
            ));
        }
        Ok(())
    }

    /// The token endpoint: both grants, with the client checked first.
    pub(crate) fn token_grant(&self, form: &HashMap<String, String>) -> Result<Value, OAuthError> {
        self.check_client(form)?;
        let field = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
        let mut inner = self.lock();
        let now = Instant::now();
        let (open_id, scopes) = match field("grant_type") {
            "refresh_token" => {
                let presented = field("refresh_token");
                let Some(info) = inner.refresh.get_mut(presented) else {
                    return Err(oauth(
                        400,
                        "invalid_grant",
                        "Refresh token is invalid or expired.",
                    ));
                };
                if info.replaced || info.expires_at <= now {
                    return Err(oauth(
                        400,
                        "invalid_grant",
                        "Refresh token is invalid or expired.",
                    ));
                }
                info.replaced = true;
                inner.refreshes += 1;
                let info = &inner.refresh[presented];
                (info.open_id.clone(), info.scopes.clone())
            }
            "authorization_code" => {
                let Some(code) = inner.codes.remove(field("code")) else {
                    return Err(oauth(
                        400,
                        "invalid_grant",
                        "Authorization code is invalid or expired.",
                    ));
                };
                if code.expires_at <= now {
                    return Err(oauth(
                        400,
                        "invalid_grant",
                        "Authorization code is invalid or expired.",
                    ));
                }
                // invalid_grant: the grant "does not match the redirection URI used in the
                // authorization request" (OAuth Error Handling page).
                if code.redirect_uri != field("redirect_uri") {
                    return Err(oauth(
                        400,
                        "invalid_grant",
                        "Redirect URI does not match the one the code was issued for.",
                    ));
                }
                if let Some(challenge) = &code.challenge
                    && crate::pkce::hex_sha256(field("code_verifier")) != *challenge
                {
                    return Err(oauth(
                        400,
                        "invalid_request",
                        "Code verifier or code challenge is invalid.",
                    ));
                }
                (code.open_id, code.scopes)
            }
            "" => return Err(oauth(400, "invalid_request", "grant_type is required.")),
            _ => {
                return Err(oauth(
                    400,
                    "unsupported_grant_type",
                    "Grant type is not supported.",
                ));
            }
        };
        let issued = self.issue_locked(&mut inner, &open_id, scopes);
        use cmis_core::ExposeSecret;
        Ok(json!({
            "open_id": issued.open_id,
            "scope": issued.scopes.join(","),
            "access_token": issued.access_token.expose_secret(),
            "expires_in": issued.expires_in.as_secs(),
            "refresh_token": issued.refresh_token.expose_secret(),
            "refresh_expires_in": issued.refresh_expires_in.as_secs(),
            "token_type": "Bearer",
        }))
    }

    /// Revoke "disconnects your app from the user's TikTok account": every access and refresh
    /// token of that user stops working, and a publish still processing fails with
    /// `auth_removed` ("the user removed the developer's access").
    pub(crate) fn revoke(&self, form: &HashMap<String, String>) -> Result<Value, OAuthError> {
        self.check_client(form)?;
        let field = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
        let processing = self.config().processing_time;
        let mut inner = self.lock();
        let Some(open_id) = inner.access.get(field("token")).map(|a| a.open_id.clone()) else {
            return Ok(json!({}));
        };
        for a in inner.access.values_mut().filter(|a| a.open_id == open_id) {
            a.revoked = true;
        }
        for r in inner.refresh.values_mut().filter(|r| r.open_id == open_id) {
            r.replaced = true;
        }
        let now = Instant::now();
        for r in inner.publishes.iter_mut().filter(|r| r.open_id == open_id) {
            if status_of(r, processing, now).0.starts_with("PROCESSING") {
                r.auth_removed = true;
            }
        }
        Ok(json!({}))
    }

    /// Checks the bearer token and scope; returns the `open_id`.
    pub(crate) fn authorize(
        &self,
        bearer: Option<&str>,
        scope_any: &[&str],
    ) -> Result<(String, BTreeSet<String>), ApiError> {
        let inner = self.lock();
        let Some(info) = bearer.and_then(|t| inner.access.get(t)) else {
            return Err(api(
                401,
                "access_token_invalid",
                "The access token is invalid or not found in the request.",
            ));
        };
        if info.revoked || info.expires_at <= Instant::now() {
            return Err(api(
                401,
                "access_token_invalid",
                "The access token is invalid or not found in the request.",
            ));
        }
        if !scope_any.iter().any(|s| info.scopes.contains(*s)) {
            return Err(api(
                401,
                "scope_not_authorized",
                "The user did not authorize the scope required for completing this request.",
            ));
        }
        Ok((info.open_id.clone(), info.scopes.clone()))
    }
}
