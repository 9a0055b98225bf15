//! atproto's identifier formats: CIDs in base32, TIDs, record keys, datetimes, and the JWTs of
//! legacy sessions. Pure functions, so they are unit-tested here.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// RFC 4648 base32, lowercase: the multibase `b` alphabet of CIDs.
const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
/// The sortable base32 alphabet of TIDs (`packages/common-web/src/tid.ts`).
const BASE32_SORTABLE: &[u8; 32] = b"234567abcdefghijklmnopqrstuvwxyz";
/// The multicodec of raw bytes (blobs) and of DAG-CBOR (records, commits).
const RAW: u8 = 0x55;
const DAG_CBOR: u8 = 0x71;

fn index(v: u64) -> usize {
    usize::try_from(v & 31).unwrap_or(0)
}

fn base32_lower(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let mut buffer: u64 = 0;
    let mut bits = 0u32;
    for &b in bytes {
        buffer = (buffer << 8) | u64::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(BASE32[index(buffer >> bits)]));
        }
    }
    if bits > 0 {
        out.push(char::from(BASE32[index(buffer << (5 - bits))]));
    }
    out
}

/// A CIDv1 with a sha2-256 multihash of `data`, as multibase base32.
fn cid(codec: u8, data: &[u8]) -> String {
    let mut bytes = vec![0x01, codec, 0x12, 0x20];
    bytes.extend_from_slice(&Sha256::digest(data));
    format!("b{}", base32_lower(&bytes))
}

/// A blob's CID (`bafkrei…`): the raw codec over the bytes' SHA-256, as the PDS computes it, so
/// the same bytes always give the same CID.
pub(crate) fn blob_cid(bytes: &[u8]) -> String {
    cid(RAW, bytes)
}

/// A record's or commit's CID (`bafyrei…`). The PDS hashes the DAG-CBOR encoding; the fake hashes
/// the JSON text (with sorted keys), which is as stable: the same record gives the same CID.
pub(crate) fn record_cid(canonical: &[u8]) -> String {
    cid(DAG_CBOR, canonical)
}

/// A TID: 53 bits of microseconds since the Unix epoch and a 10-bit clock id, as 13 sortable
/// base32 characters.
pub(crate) fn tid(micros: u64, clock_id: u16) -> String {
    let value = ((micros & ((1 << 53) - 1)) << 10) | (u64::from(clock_id) & 0x3ff);
    (0..13)
        .rev()
        .map(|i| char::from(BASE32_SORTABLE[index(value >> (i * 5))]))
        .collect()
}

/// Whether `s` is a TID: 13 sortable-base32 characters, the first among the first 16 (the top bit
/// is zero).
pub(crate) fn is_tid(s: &str) -> bool {
    let bytes = s.as_bytes();
    bytes.len() == 13
        && BASE32_SORTABLE[..16].contains(&bytes[0])
        && bytes.iter().all(|b| BASE32_SORTABLE.contains(b))
}

/// Whether `s` is a record key (`packages/syntax/src/recordkey.ts`): 1 to 512 characters of
/// `A-Za-z0-9._:~-`, and neither `.` nor `..`.
pub(crate) fn is_record_key(s: &str) -> bool {
    (1..=512).contains(&s.len())
        && s != "."
        && s != ".."
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._:~-".contains(&b))
}

/// Whether `s` is an atproto datetime (RFC 3339 and ISO 8601 both): `YYYY-MM-DDTHH:MM:SS`, an
/// optional fraction, and `Z` or a `±HH:MM` offset other than `-00:00`.
pub(crate) fn is_datetime(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        b.get(range)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
    };
    if b.len() < 20
        || !digits(0..4)
        || b[4] != b'-'
        || !digits(5..7)
        || b[7] != b'-'
        || !digits(8..10)
        || b[10] != b'T'
        || !digits(11..13)
        || b[13] != b':'
        || !digits(14..16)
        || b[16] != b':'
        || !digits(17..19)
    {
        return false;
    }
    let mut rest = &s[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let n = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        rest = &fraction[n..];
    }
    match rest.as_bytes() {
        b"Z" => true,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            [h1, h2, m1, m2].iter().all(|d| d.is_ascii_digit())
                && !(*sign == b'-' && rest == "-00:00")
        }
        _ => false,
    }
}

/// A JWT in compact form: base64url (no padding) header, payload and signature. The signature
/// is random bytes: the fake verifies tokens by looking them up, not by cryptography.
pub(crate) fn jwt(header: &Value, payload: &Value) -> String {
    let signature: Vec<u8> = (0..32).map(|_| fastrand::u8(..)).collect();
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload.to_string()),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

/// A refresh token id, like the reference PDS's `getRefreshTokenId()`: padded base64 of 32
/// random bytes.
pub(crate) fn refresh_token_id() -> String {
    let bytes: Vec<u8> = (0..32).map(|_| fastrand::u8(..)).collect();
    STANDARD.encode(bytes)
}

/// A size as Bluesky's `BlobTooLarge` message writes it: decimal units, up to two decimals
/// ("1.47MB", "976.56KB").
pub(crate) fn pretty_bytes(n: u64) -> String {
    let (unit, name) = match n {
        1_000_000_000.. => (1_000_000_000, "GB"),
        1_000_000.. => (1_000_000, "MB"),
        1_000.. => (1_000, "KB"),
        _ => return format!("{n}B"),
    };
    let hundredths = (u128::from(n) * 100 + unit / 2) / unit;
    let (whole, fraction) = (hundredths / 100, hundredths % 100);
    let fraction = format!("{fraction:02}");
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        format!("{whole}{name}")
    } else {
        format!("{whole}.{fraction}{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_cids_are_raw_sha256_cidv1() {
        let cid = blob_cid(b"hello");
        assert!(cid.starts_with("bafkrei"), "{cid}");
        // 1 + ceil(36 * 8 / 5) characters.
        assert_eq!(cid.len(), 59);
        assert_eq!(cid, blob_cid(b"hello"));
        assert_ne!(cid, blob_cid(b"hello!"));
        // The CID of the empty input, as any IPFS tool computes it.
        assert_eq!(
            blob_cid(b""),
            "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
        );
        assert!(record_cid(b"{}").starts_with("bafyrei"));
    }

    #[test]
    fn tids_round_trip_the_documented_shape() {
        let t = tid(1_796_371_200_000_000, 7);
        assert!(is_tid(&t), "{t}");
        assert!(tid(1, 0) < tid(2, 0));
        assert!(is_tid("3l7xqkz2abc2a"));
        assert!(!is_tid("3l7xqkz2abc2"));
        assert!(
            !is_tid("kl7xqkz2abc2a"),
            "first character past the first 16"
        );
        assert!(!is_tid("3l7xqkz2abc1a"), "1 is not in the alphabet");
        assert!(!is_tid("3L7XQKZ2ABC2A"));
    }

    #[test]
    fn record_keys_and_datetimes() {
        assert!(is_record_key("self"));
        assert!(is_record_key("3l7xqkz2abc2a"));
        assert!(!is_record_key(".."));
        assert!(!is_record_key("a/b"));
        assert!(!is_record_key(""));
        assert!(is_datetime("2026-11-03T10:15:00.000Z"));
        assert!(is_datetime("2026-11-03T10:15:00+01:00"));
        assert!(!is_datetime("2026-11-03T10:15:00"));
        assert!(!is_datetime("2026-11-03 10:15:00Z"));
        assert!(!is_datetime("2026-11-03T10:15:00-00:00"));
        assert!(!is_datetime("2026-11-03T10:15:00.Z"));
    }

    #[test]
    fn sizes_read_like_blueskys_messages() {
        assert_eq!(pretty_bytes(976_560), "976.56KB");
        assert_eq!(pretty_bytes(1_470_000), "1.47MB");
        assert_eq!(pretty_bytes(2_000_000), "2MB");
        assert_eq!(pretty_bytes(999), "999B");
    }

    #[test]
    fn jwts_have_three_base64url_parts() {
        let t = jwt(
            &serde_json::json!({"typ": "at+jwt"}),
            &serde_json::json!({"sub": "did:plc:x"}),
        );
        let parts: Vec<&str> = t.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert!(parts.iter().all(|p| !p.contains('=') && !p.contains('+')));
        let payload = URL_SAFE_NO_PAD.decode(parts[1]).unwrap();
        assert_eq!(payload, br#"{"sub":"did:plc:x"}"#);
    }
}
