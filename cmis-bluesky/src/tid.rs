//! Record keys: TIDs, chosen by cmis before the write so that the write is idempotent.
//!
//! A TID is 13 characters of base32-sortable text (`234567abcdefghijklmnopqrstuvwxyz`) holding
//! 64 bits: a zero top bit, 53 bits of microseconds since the Unix epoch, and a 10-bit clock id
//! (docs/bluesky-api.md §3, `packages/common-web/src/tid.ts`). A post written with a key of our
//! choosing can be looked up by that key after an unknown outcome, and a second write at the
//! same key is refused by the repository, never stored twice.

use std::fmt;

use cmis_core::{Error, Result};
use time::OffsetDateTime;

const ALPHABET: &[u8; 32] = b"234567abcdefghijklmnopqrstuvwxyz";

/// The length of a TID.
pub const TID_LEN: usize = 13;

/// A record key in TID form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tid(String);

impl Tid {
    /// A TID for `at` with `clock_id` (its low 10 bits are used).
    pub fn from_parts(at: OffsetDateTime, clock_id: u16) -> Self {
        let micros =
            u64::try_from((at.unix_timestamp_nanos() / 1_000).clamp(0, (1_i128 << 53) - 1))
                .unwrap_or(0);
        let value = (micros << 10) | u64::from(clock_id & 0x3ff);
        let mut out = [0u8; TID_LEN];
        for (i, slot) in out.iter_mut().enumerate() {
            let shift = 5 * (TID_LEN - 1 - i);
            *slot = ALPHABET[((value >> shift) & 31) as usize];
        }
        Self(out.iter().map(|&b| char::from(b)).collect())
    }

    /// A TID for now, with a random clock id. Within a process the time part never repeats
    /// or goes back (the reference implementation's rule), so two posts of one process never
    /// share a key; two processes choosing one in the same microsecond collide once in 1 024,
    /// and the repository then refuses the second write, which is found to be not ours when it
    /// is checked.
    pub fn now() -> Result<Self> {
        use std::sync::atomic::{AtomicI64, Ordering};
        static LAST: AtomicI64 = AtomicI64::new(0);
        let mut id = [0u8; 2];
        getrandom::fill(&mut id)
            .map_err(|e| Error::internal(format!("no randomness for a record key: {e}")))?;
        let now = i64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000)
            .unwrap_or(i64::MAX);
        let mut last = LAST.load(Ordering::Relaxed);
        let micros = loop {
            let next = now.max(last.saturating_add(1));
            match LAST.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => break next,
                Err(seen) => last = seen,
            }
        };
        let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        Ok(Self::from_parts(at, u16::from_le_bytes(id)))
    }

    /// Parses a stored TID, checking its form.
    pub fn parse(text: &str) -> Result<Self> {
        let bytes = text.as_bytes();
        let valid = bytes.len() == TID_LEN
            && bytes.iter().all(|b| ALPHABET.contains(b))
            // The first character is one of the first 16 (the specification's pattern).
            && ALPHABET[..16].contains(&bytes[0]);
        if !valid {
            return Err(Error::invalid_input(format!(
                "{text:?} is not a Bluesky record key (a 13-character TID)"
            )));
        }
        Ok(Self(text.to_owned()))
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Tid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_encode_as_the_reference_does() {
        // Zero is all '2's; the largest 63-bit value starts with 'j' (the 16th character).
        assert_eq!(
            Tid::from_parts(OffsetDateTime::UNIX_EPOCH, 0).as_str(),
            "2222222222222"
        );
        let t = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let tid = Tid::from_parts(t, 0);
        assert_eq!(tid.as_str().len(), TID_LEN);
        assert_eq!(Tid::parse(tid.as_str()).unwrap(), tid);
        // 1_700_000_000 s in µs, shifted by 10, written in base32-sortable.
        let value = 1_700_000_000_000_000_u64 << 10;
        let mut expected = String::new();
        for i in 0..TID_LEN {
            expected.push(char::from(
                ALPHABET[((value >> (5 * (12 - i))) & 31) as usize],
            ));
        }
        assert_eq!(tid.as_str(), expected);
    }

    #[test]
    fn later_times_sort_later() {
        let a = Tid::from_parts(
            OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap(),
            1023,
        );
        let b = Tid::from_parts(
            OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap()
                + time::Duration::microseconds(1),
            0,
        );
        assert!(a < b);
        assert!(Tid::now().unwrap().as_str() > a.as_str());
    }

    #[test]
    fn one_process_never_repeats_a_key() {
        let keys: std::collections::BTreeSet<String> = (0..10_000)
            .map(|_| Tid::now().unwrap().to_string())
            .collect();
        assert_eq!(keys.len(), 10_000);
    }

    #[test]
    fn parse_refuses_what_is_not_a_tid() {
        for bad in [
            "",
            "3l7xqkz2abc2",
            "3l7xqkz2abc2a1",
            "3L7XQKZ2ABC2A",
            "zzzzzzzzzzzzz",
            "3l7xqkz2abc0a",
        ] {
            assert!(Tid::parse(bad).is_err(), "{bad}");
        }
        assert!(Tid::parse("3l7xqkz2abc2a").is_ok());
    }
}
