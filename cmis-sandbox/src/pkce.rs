//! TikTok's PKCE quirk: the challenge is the hex SHA-256 of the verifier.

use sha2::{Digest, Sha256};

/// The lowercase hex SHA-256 of `verifier`.
pub(crate) fn hex_sha256(verifier: &str) -> String {
    hex::encode(Sha256::digest(verifier.as_bytes()))
}
