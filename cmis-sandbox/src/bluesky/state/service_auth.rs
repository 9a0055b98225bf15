//! `com.atproto.server.describeServer` and `com.atproto.server.getServiceAuth`, and the check a
//! service (the fake video service) makes of a service token.
//!
//! Sources: the lexicons `com/atproto/server/describeServer.json` (`did` and
//! `availableUserDomains` required) and `getServiceAuth.json` (`aud` required, `exp` "Defaults to
//! 60 seconds in the future. The service may enforce certain time bounds on tokens depending on
//! the requested scope", `lxm` binds the token to one method, error `BadExpiration`), and
//! docs.bsky.app "Service Auth" (the payload: `iss` the user's DID, `aud` the service's DID,
//! `exp`). The bounds the fake enforces (not in the past, at most an hour ahead, a minute for a
//! token bound to no method) and the 401 error names of a refused token are the fake's choice.

use super::*;

/// How far ahead `exp` may be.
const MAX_LIFETIME_SECS: i64 = 3600;
/// How far ahead `exp` may be for a token bound to no method (`lxm` absent).
const MAX_UNBOUND_LIFETIME_SECS: i64 = 60;
/// `exp` when the caller gives none ("Defaults to 60 seconds in the future").
const DEFAULT_LIFETIME_SECS: i64 = 60;

/// A service token the PDS signed. The fake verifies tokens by looking them up, as it does its
/// session JWTs.
#[derive(Debug)]
pub(super) struct ServiceToken {
    iss: String,
    aud: String,
    lxm: Option<String>,
    exp: i64,
}

fn bad_expiration(message: &str) -> XrpcError {
    xrpc(400, "BadExpiration", message)
}

/// A 401 for a service token the callee refuses.
fn refused(error: &'static str, message: impl Into<String>) -> XrpcError {
    xrpc(401, error, message)
}

/// Whether `s` looks like an NSID: at least three dot-separated segments of letters, digits and
/// hyphens.
fn is_nsid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() >= 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

impl BlueskyState {
    /// `com.atproto.server.describeServer`.
    pub(crate) fn describe_server(&self) -> Value {
        json!({
            "did": self.config.service_did,
            "availableUserDomains": self.config.handle_domains,
            "inviteCodeRequired": false,
        })
    }

    /// `com.atproto.server.getServiceAuth` for the account `did` authenticated.
    pub(crate) fn get_service_auth(
        &self,
        did: &str,
        params: &HashMap<String, String>,
    ) -> Result<Value, XrpcError> {
        let aud = params
            .get("aud")
            .ok_or_else(|| invalid("Params must have the property \"aud\""))?;
        if !aud.starts_with("did:") || aud.len() < 8 {
            return Err(invalid("aud must be a valid did"));
        }
        let lxm = params.get("lxm").cloned();
        if let Some(l) = lxm.as_deref().filter(|l| !is_nsid(l)) {
            return Err(invalid(format!("lxm must be a valid nsid (got \"{l}\")")));
        }
        let now = self.now_ms() / 1000;
        let exp = match params.get("exp") {
            Some(raw) => raw
                .parse::<i64>()
                .map_err(|_| invalid("exp must be an integer"))?,
            None => now + DEFAULT_LIFETIME_SECS,
        };
        if exp <= now {
            return Err(bad_expiration("expiration is in past"));
        }
        if exp - now > MAX_LIFETIME_SECS {
            return Err(bad_expiration(
                "cannot request a token with an expiration more than an hour in the future",
            ));
        }
        if lxm.is_none() && exp - now > MAX_UNBOUND_LIFETIME_SECS {
            return Err(bad_expiration(
                "cannot request a method-less token with an expiration more than a minute in the future",
            ));
        }
        let jti = hex::encode((0..16).map(|_| fastrand::u8(..)).collect::<Vec<u8>>());
        let mut claims = json!({"iat": now, "iss": did, "aud": aud, "exp": exp, "jti": jti});
        if let Some(l) = &lxm {
            claims["lxm"] = Value::from(l.as_str());
        }
        let token = jwt(&json!({"typ": "JWT", "alg": "ES256K"}), &claims);
        self.lock().service_tokens.insert(
            token.clone(),
            ServiceToken {
                iss: did.to_owned(),
                aud: aud.clone(),
                lxm,
                exp,
            },
        );
        Ok(json!({"token": token}))
    }

    /// Checks a service token presented to the service `aud` for the method `lxm`; returns the
    /// issuer's DID. Every refusal is a 401.
    pub(crate) fn verify_service_token(
        &self,
        token: Option<&str>,
        aud: &str,
        lxm: &str,
    ) -> Result<String, XrpcError> {
        let token = token.ok_or_else(|| refused("AuthMissing", "Authentication Required"))?;
        let inner = self.lock();
        // A session JWT, or a token this PDS never signed, fails the signature check.
        let Some(t) = inner.service_tokens.get(token) else {
            return Err(refused(
                "BadJwtSignature",
                "jwt signature does not match jwt issuer",
            ));
        };
        if self.now_ms() / 1000 >= t.exp {
            return Err(refused("JwtExpired", "jwt expired"));
        }
        if t.aud != aud {
            return Err(refused(
                "BadJwtAudience",
                format!("jwt audience does not match service did (expected {aud})"),
            ));
        }
        if t.lxm.as_deref() != Some(lxm) {
            return Err(refused(
                "BadJwtLexiconMethod",
                format!("bad jwt lexicon method (\"lxm\"): expected {lxm}"),
            ));
        }
        Ok(t.iss.clone())
    }

    /// Expires a service token now (an injected `ExpiredToken`).
    pub(crate) fn expire_service_token(&self, token: &str) {
        let now = self.now_ms() / 1000;
        if let Some(t) = self.lock().service_tokens.get_mut(token) {
            t.exp = t.exp.min(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_nsid;

    #[test]
    fn nsids() {
        assert!(is_nsid("com.atproto.repo.uploadBlob"));
        assert!(is_nsid("app.bsky.video.getUploadLimits"));
        assert!(!is_nsid("uploadBlob"));
        assert!(!is_nsid("com..uploadBlob"));
        assert!(!is_nsid("com.atproto.repo/uploadBlob"));
    }
}
