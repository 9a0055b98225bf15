//! The sealed form of a credential: everything but the account and the expiry the refresh sweep
//! queries on is encrypted.

use std::collections::BTreeSet;

use cmis_core::{AccountRef, Credential, Error, ExposeSecret, Result, SecretString};
use serde::{Deserialize, Serialize};

use crate::crypto::TokenKey;
use crate::stored::{from_micros, micros};

#[derive(Serialize, Deserialize)]
struct Sealed {
    access_token: String,
    refresh_token: Option<String>,
    refresh_expires_at: Option<i64>,
    data_access_expires_at: Option<i64>,
    issued_at: Option<i64>,
    scopes: BTreeSet<String>,
}

/// The associated data a credential's ciphertext is bound to.
fn aad(account: &AccountRef) -> Vec<u8> {
    format!(
        "cmis-credential\0{}\0{}\0{}",
        account.tenant, account.platform, account.account
    )
    .into_bytes()
}

/// Encrypts the secret parts of `credential`.
pub(crate) fn seal(key: &TokenKey, credential: &Credential) -> Result<Vec<u8>> {
    let sealed = Sealed {
        access_token: credential.access_token.expose_secret().to_owned(),
        refresh_token: credential
            .refresh_token
            .as_ref()
            .map(|t| t.expose_secret().to_owned()),
        refresh_expires_at: credential.refresh_expires_at.map(micros),
        data_access_expires_at: credential.data_access_expires_at.map(micros),
        issued_at: credential.issued_at.map(micros),
        scopes: credential.scopes.clone(),
    };
    let plain = serde_json::to_vec(&sealed)
        .map_err(|e| Error::internal(format!("a credential cannot be encoded: {e}")))?;
    key.seal(&aad(&credential.account), &plain)
}

/// Decrypts a stored credential.
pub(crate) fn open(
    key: &TokenKey,
    account: AccountRef,
    version: i64,
    access_expires_at: Option<i64>,
    sealed: &[u8],
) -> Result<Credential> {
    let plain = key.open(&aad(&account), sealed)?;
    let s: Sealed = serde_json::from_slice(&plain)
        .map_err(|_| Error::internal("a stored credential cannot be decoded"))?;
    let mut c = Credential::new(account, SecretString::from(s.access_token));
    c.refresh_token = s.refresh_token.map(SecretString::from);
    c.access_expires_at = access_expires_at.map(from_micros).transpose()?;
    c.refresh_expires_at = s.refresh_expires_at.map(from_micros).transpose()?;
    c.data_access_expires_at = s.data_access_expires_at.map(from_micros).transpose()?;
    c.issued_at = s.issued_at.map(from_micros).transpose()?;
    c.scopes = s.scopes;
    c.version = u64::try_from(version).unwrap_or(0);
    Ok(c)
}
