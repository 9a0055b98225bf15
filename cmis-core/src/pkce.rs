//! PKCE code verifiers (RFC 7636 §4.1), shared by the connectors whose platforms take them.
//!
//! Each platform computes the challenge its own way (RFC 7636's base64url SHA-256 for Google;
//! TikTok wants the hex SHA-256), so the connectors keep their own `Pkce` types; the verifier,
//! its alphabet and its randomness are here, once.
//!
//! ```
//! # mod cmis { pub use cmis_core::*; }
//! use cmis::ExposeSecret;
//! let verifier = cmis::pkce::random_verifier()?;
//! assert_eq!(verifier.expose_secret().len(), 64);
//! cmis::pkce::check_verifier(verifier.expose_secret())?;
//! assert!(cmis::pkce::check_verifier("too short").is_err());
//! # Ok::<(), cmis::Error>(())
//! ```

use secrecy::SecretString;

use crate::{Error, Result};

/// The characters a verifier may use: RFC 7636's "unreserved" set.
pub const UNRESERVED: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";

/// The length of a verifier made by [`random_verifier`].
pub const VERIFIER_LEN: usize = 64;

/// A fresh verifier of [`VERIFIER_LEN`] unreserved characters from the operating system's
/// random number generator; each character equally likely (rejection sampling).
pub fn random_verifier() -> Result<SecretString> {
    let limit = UNRESERVED.len() * (256 / UNRESERVED.len());
    let mut verifier = String::with_capacity(VERIFIER_LEN);
    while verifier.len() < VERIFIER_LEN {
        let mut raw = [0u8; 64];
        getrandom::fill(&mut raw)
            .map_err(|e| Error::internal(format!("no randomness for the PKCE verifier: {e}")))?;
        for b in raw.map(usize::from) {
            if b < limit
                && verifier.len() < VERIFIER_LEN
                && let Some(&c) = UNRESERVED.get(b % UNRESERVED.len())
            {
                verifier.push(char::from(c));
            }
        }
    }
    Ok(SecretString::from(verifier))
}

/// Checks a verifier given by the caller: 43 to 128 characters of `A-Z a-z 0-9 - . _ ~`.
pub fn check_verifier(verifier: &str) -> Result<()> {
    if !(43..=128).contains(&verifier.len()) || !verifier.bytes().all(|b| UNRESERVED.contains(&b)) {
        return Err(Error::invalid_input(
            "a PKCE code_verifier is 43 to 128 characters of A-Z a-z 0-9 - . _ ~",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn random_verifiers_are_valid_and_differ() {
        let a = random_verifier().unwrap();
        let b = random_verifier().unwrap();
        check_verifier(a.expose_secret()).unwrap();
        assert_ne!(a.expose_secret(), b.expose_secret());
        assert!(check_verifier(&"a".repeat(129)).is_err());
        assert!(check_verifier(&format!("{}+", "a".repeat(43))).is_err());
        check_verifier(&"a".repeat(43)).unwrap();
    }
}
