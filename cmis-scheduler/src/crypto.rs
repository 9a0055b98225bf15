//! Tokens at rest: XChaCha20-Poly1305 with a key the embedding program supplies, bound to the
//! row it belongs to (tenant, platform, account) so a sealed token cannot be moved to another row.

use std::fmt;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use cmis_core::{Error, Result};

/// The format byte in front of every sealed value, so that a later format can be told apart.
const FORMAT_V1: u8 = 1;
const NONCE_LEN: usize = 24;

/// The 256-bit key credentials are encrypted with. `Debug` never shows it.
///
/// Keep it outside the database (an environment secret, a KMS): whoever holds both can read the
/// tokens.
///
/// ```
/// # mod cmis { pub use cmis_core::*; pub mod scheduler { pub use cmis_scheduler::*; } }
/// use cmis::scheduler::TokenKey;
/// let key = TokenKey::from_bytes([7; 32]);
/// assert_eq!(format!("{key:?}"), "TokenKey(<redacted>)");
/// ```
#[derive(Clone)]
pub struct TokenKey {
    cipher: XChaCha20Poly1305,
}

impl TokenKey {
    /// A key from 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new(&bytes.into()),
        }
    }

    /// A new random key, from the operating system's generator, that lives only in this
    /// process: for an in-memory database or a test. A database that outlives the process needs
    /// a key kept elsewhere: make one with [`generate_hex`](Self::generate_hex) once.
    pub fn generate() -> Self {
        Self {
            cipher: XChaCha20Poly1305::new(&random_bytes::<32>().into()),
        }
    }

    /// A new random key as 64 hexadecimal digits, to keep in a secret store (an environment
    /// secret, a KMS) and load with [`from_hex`](Self::from_hex) at every start.
    ///
    /// ```
    /// # mod cmis { pub use cmis_core::*; pub mod scheduler { pub use cmis_scheduler::*; } }
    /// use cmis::scheduler::TokenKey;
    /// use cmis::ExposeSecret;
    /// let hex = TokenKey::generate_hex();
    /// assert_eq!(hex.expose_secret().len(), 64);
    /// let key = TokenKey::from_hex(hex.expose_secret())?;
    /// # let _ = key;
    /// # Ok::<(), cmis::Error>(())
    /// ```
    pub fn generate_hex() -> cmis_core::SecretString {
        cmis_core::SecretString::from(hex::encode(random_bytes::<32>()))
    }

    /// A key from 64 hexadecimal digits (either case; surrounding whitespace, such as the
    /// newline of a key file, is ignored). The error never repeats the input.
    pub fn from_hex(hex: &str) -> Result<Self> {
        let mut bytes = [0u8; 32];
        let hex = hex.trim();
        if hex.len() != 64 {
            return Err(Error::invalid_input(format!(
                "an encryption key in hex must be 64 hexadecimal digits (32 bytes), not {} characters",
                hex.chars().count()
            )));
        }
        hex::decode_to_slice(hex, &mut bytes).map_err(|_| {
            Error::invalid_input(
                "an encryption key in hex must hold only the digits 0-9 and a-f (or A-F)",
            )
        })?;
        Ok(Self::from_bytes(bytes))
    }

    /// A key from a slice, which must be exactly 32 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| {
            Error::invalid_input(format!(
                "an encryption key must be 32 bytes long, not {}",
                bytes.len()
            ))
        })?;
        Ok(Self::from_bytes(bytes))
    }

    /// Encrypts `plaintext`, bound to `aad`: format byte, random 192-bit nonce, ciphertext.
    pub(crate) fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| {
            Error::internal(format!(
                "a credential could not be encrypted: the operating system's random generator failed: {e}"
            ))
        })?;
        let ct = self
            .cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| Error::internal("a credential could not be encrypted"))?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ct.len());
        out.push(FORMAT_V1);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Decrypts what [`seal`](Self::seal) produced for the same `aad`.
    pub(crate) fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>> {
        let (format, rest) = sealed
            .split_first()
            .ok_or_else(|| Error::internal("a stored credential is empty"))?;
        if *format != FORMAT_V1 || rest.len() < NONCE_LEN {
            return Err(Error::internal("a stored credential has an unknown format"));
        }
        let (nonce, ct) = rest.split_at(NONCE_LEN);
        let nonce = XNonce::try_from(nonce)
            .map_err(|_| Error::internal("a stored credential has an unknown format"))?;
        self.cipher
            .decrypt(&nonce, Payload { msg: ct, aad })
            .map_err(|_| {
                Error::internal(
                    "a stored credential cannot be decrypted: wrong key, or the row was tampered with",
                )
            })
    }
}

/// `N` bytes from the operating system's generator, for a new key. A machine whose generator
/// fails cannot make a key at all; as with the standard library's hash seeds, that panics.
fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes)
        .unwrap_or_else(|e| panic!("the operating system's random generator failed: {e}"));
    bytes
}

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hex_key_reads_back_and_bad_hex_is_refused_without_echoing_it() {
        use cmis_core::ExposeSecret;
        let hex = TokenKey::generate_hex();
        let key = TokenKey::from_hex(hex.expose_secret()).unwrap();
        let again =
            TokenKey::from_hex(&format!("{}\n", hex.expose_secret().to_uppercase())).unwrap();
        let sealed = key.seal(b"row", b"token").unwrap();
        assert_eq!(again.open(b"row", &sealed).unwrap(), b"token");
        assert_ne!(
            TokenKey::generate_hex().expose_secret(),
            hex.expose_secret()
        );

        let short = TokenKey::from_hex("abcd").unwrap_err();
        assert_eq!(short.kind(), cmis_core::ErrorKind::InvalidInput);
        assert!(short.to_string().contains("not 4 characters"), "{short}");
        let secretish = "zz".repeat(32);
        let bad = TokenKey::from_hex(&secretish).unwrap_err();
        assert!(!bad.to_string().contains(&secretish), "{bad}");

        let ephemeral = TokenKey::generate();
        let sealed = ephemeral.seal(b"row", b"token").unwrap();
        assert!(key.open(b"row", &sealed).is_err());
    }

    #[test]
    fn sealed_values_open_only_with_the_same_key_and_row() {
        let key = TokenKey::from_bytes([1; 32]);
        let sealed = key.seal(b"t/facebook/1", b"act.SECRET").unwrap();
        assert!(!sealed.windows(10).any(|w| w == b"act.SECRET"));
        assert_eq!(key.open(b"t/facebook/1", &sealed).unwrap(), b"act.SECRET");
        assert!(key.open(b"t/facebook/2", &sealed).is_err());
        assert!(
            TokenKey::from_bytes([2; 32])
                .open(b"t/facebook/1", &sealed)
                .is_err()
        );
        // Two seals of the same value differ (fresh nonce each time).
        assert_ne!(sealed, key.seal(b"t/facebook/1", b"act.SECRET").unwrap());
        assert_eq!(
            TokenKey::from_slice(&[0; 31]).unwrap_err().kind(),
            cmis_core::ErrorKind::InvalidInput
        );
    }
}
