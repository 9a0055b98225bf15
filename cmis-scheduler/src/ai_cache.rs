//! What the database stores share as cmis-ai's [`CacheStore`](cmis_ai::CacheStore): the entry
//! lifetime, the size cap and the stored form of an answer.
//!
//! The cache key is a SHA-256 over the normalised request with its tenant in it, so one tenant's
//! request can never hit another tenant's answer; the key itself is all a row is found by.

use std::time::Duration;

use cmis_core::{Error, Generated, Result};
use time::OffsetDateTime;

use crate::stored::micros;

/// How long a stored answer serves lookups unless the builder says otherwise (24 h, the same as
/// the generator's in-memory cache).
pub const DEFAULT_AI_CACHE_TTL: Duration = Duration::from_secs(24 * 3600);

/// The largest stored answer, as JSON (1 MiB). Larger ones are refused with
/// [`ErrorKind::InvalidInput`](cmis_core::ErrorKind::InvalidInput) and the generator carries on
/// without persisting them.
pub const MAX_AI_CACHE_ENTRY_BYTES: usize = 1 << 20;

/// Expired rows one write deletes at most, so that a write after a long pause stays short.
pub(crate) const PURGE_BATCH: i64 = 256;

/// The stored form of `value` and its size in bytes.
pub(crate) fn encode(value: &Generated) -> Result<(String, i64)> {
    let text = serde_json::to_string(value).map_err(|e| {
        Error::internal("a generated answer could not be serialised").with_source(e)
    })?;
    if text.len() > MAX_AI_CACHE_ENTRY_BYTES {
        return Err(Error::invalid_input(format!(
            "a cached answer is limited to {MAX_AI_CACHE_ENTRY_BYTES} bytes of JSON, this one has {}",
            text.len()
        )));
    }
    let size = i64::try_from(text.len()).unwrap_or(i64::MAX);
    Ok((text, size))
}

/// The answer stored as `text`.
pub(crate) fn decode(text: &str) -> Result<Generated> {
    serde_json::from_str(text)
        .map_err(|e| Error::internal("a cached answer could not be read back").with_source(e))
}

/// When an entry written at `now` stops serving, in microseconds (saturating).
pub(crate) fn expires_at(now: OffsetDateTime, ttl: Duration) -> i64 {
    micros(now).saturating_add(crate::stored::duration_micros(ttl))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cmis_core::{ErrorKind, Provenance};

    #[test]
    fn an_answer_round_trips_and_oversized_ones_are_refused() {
        let mut value = Generated::new(
            "Fresh bread",
            vec!["#Bakery".into()],
            Provenance::new("openai", "gpt-4o-mini"),
        );
        let (text, size) = encode(&value).unwrap();
        assert_eq!(size, i64::try_from(text.len()).unwrap());
        assert_eq!(decode(&text).unwrap(), value);
        value.text = "x".repeat(MAX_AI_CACHE_ENTRY_BYTES);
        assert_eq!(encode(&value).unwrap_err().kind(), ErrorKind::InvalidInput);
        assert_eq!(decode("{").unwrap_err().kind(), ErrorKind::Internal);
    }

    #[test]
    fn expiry_saturates() {
        let now = OffsetDateTime::UNIX_EPOCH;
        assert_eq!(expires_at(now, Duration::from_secs(2)), 2_000_000);
        assert_eq!(expires_at(now, Duration::MAX), i64::MAX);
    }
}
