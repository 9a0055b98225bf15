//! PKCE challenges: TikTok's quirk (the hex SHA-256 of the verifier) and RFC 7636's S256.

use base64::Engine;
use sha2::{Digest, Sha256};

/// The lowercase hex SHA-256 of `verifier`.
pub(crate) fn hex_sha256(verifier: &str) -> String {
    hex::encode(Sha256::digest(verifier.as_bytes()))
}

/// RFC 7636 S256: the unpadded base64url SHA-256 of `verifier`.
pub(crate) fn s256(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn s256_is_rfc_7636_appendix_b() {
        assert_eq!(
            super::s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
