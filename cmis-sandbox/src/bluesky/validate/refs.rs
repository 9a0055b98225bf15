//! String formats that strong refs and link cards use (`at-uri`, `cid`, `uri`, as
//! `@atproto/syntax` defines them, with `lex-schema`'s `Invalid <format> (got …)` messages), and
//! `com.atproto.repo.strongRef` itself.

use serde_json::Value;

use super::{Issue, POST, at, describe, object, required, string};
use crate::bluesky::ids::is_record_key;

/// The longest AT URI the syntax allows (8 KB).
const AT_URI_MAX: usize = 8 * 1024;

/// `com.atproto.repo.strongRef`: a record's URI and the CID of the version meant, with the JSON
/// path it was found at (for messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StrongRef {
    pub(crate) path: String,
    pub(crate) uri: String,
    pub(crate) cid: String,
}

/// The parts of an AT URI: `at://<authority>[/<collection>[/<rkey>]]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AtUri<'a> {
    pub(crate) authority: &'a str,
    pub(crate) collection: Option<&'a str>,
    pub(crate) rkey: Option<&'a str>,
}

/// A DID (`did:<method>:<id>`), loosely: the method lowercase letters, the id non-empty
/// `A-Za-z0-9._:%-`, not ending in `:`.
fn is_did(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("did:") else {
        return false;
    };
    let Some((method, id)) = rest.split_once(':') else {
        return false;
    };
    !method.is_empty()
        && method.bytes().all(|b| b.is_ascii_lowercase())
        && !id.is_empty()
        && !id.ends_with(':')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._:%-".contains(&b))
}

/// A handle: at least two dot-separated labels of `A-Za-z0-9-`, none starting or ending with `-`.
fn is_handle(s: &str) -> bool {
    let labels: Vec<&str> = s.split('.').collect();
    s.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            (1..=63).contains(&l.len())
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// An NSID such as `app.bsky.feed.post`: at least three dot-separated segments.
fn is_nsid(s: &str) -> bool {
    let segments: Vec<&str> = s.split('.').collect();
    s.len() <= 317
        && segments.len() >= 3
        && segments
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

/// Parses an AT URI in the form lexicons use: no query, no fragment, at most a collection and a
/// record key after the authority.
pub(crate) fn parse_at_uri(s: &str) -> Option<AtUri<'_>> {
    if s.len() > AT_URI_MAX {
        return None;
    }
    let rest = s.strip_prefix("at://")?;
    let mut parts = rest.split('/');
    let authority = parts.next().filter(|a| is_did(a) || is_handle(a))?;
    let collection = match parts.next() {
        None => None,
        Some(c) if is_nsid(c) => Some(c),
        Some(_) => return None,
    };
    let rkey = match parts.next() {
        None => None,
        Some(k) if is_record_key(k) => Some(k),
        Some(_) => return None,
    };
    if parts.next().is_some() {
        return None;
    }
    Some(AtUri {
        authority,
        collection,
        rkey,
    })
}

/// A CID string, loosely: a CIDv1 in multibase base32 (`b` then `a-z2-7`) or a CIDv0 (`Qm…`,
/// 46 base58 characters).
pub(crate) fn is_cid(s: &str) -> bool {
    const BASE58: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    if let Some(v1) = s.strip_prefix('b') {
        v1.len() >= 8
            && v1
                .bytes()
                .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
    } else {
        s.len() == 46 && s.starts_with("Qm") && s.bytes().all(|b| BASE58.contains(&b))
    }
}

/// The lexicon `uri` format (`@atproto/syntax` `isValidUri`: `^\w+:(?:\/\/)?[^\s/][^\s]*$`).
pub(crate) fn is_uri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    !scheme.is_empty()
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && rest.chars().next().is_some_and(|c| c != '/')
        && !rest.chars().any(char::is_whitespace)
}

fn invalid_format(path: &str, format: &str, value: &str) -> Issue {
    at(
        path,
        format!("Invalid {format} (got {})", describe(&Value::from(value))),
    )
}

/// A string in the `uri` format.
pub(crate) fn uri<'a>(v: &'a Value, path: &str) -> Result<&'a str, Issue> {
    let s = string(v, path)?;
    if is_uri(s) {
        Ok(s)
    } else {
        Err(invalid_format(path, "uri", s))
    }
}

/// A `com.atproto.repo.strongRef` at `path`. With `post_only` (reply refs, a fake addition that
/// follows the docs' meaning of a reply) the URI must name an `app.bsky.feed.post` record.
pub(crate) fn strong_ref(v: &Value, path: &str, post_only: bool) -> Result<StrongRef, Issue> {
    let o = object(v, path)?;
    let uri_path = format!("{path}.uri");
    let cid_path = format!("{path}.cid");
    let uri = string(required(o, "uri", path)?, &uri_path)?;
    let cid = string(required(o, "cid", path)?, &cid_path)?;
    let Some(parsed) = parse_at_uri(uri) else {
        return Err(invalid_format(&uri_path, "at-uri", uri));
    };
    if !is_cid(cid) {
        return Err(invalid_format(&cid_path, "CID string", cid));
    }
    if post_only && (parsed.collection != Some(POST) || parsed.rkey.is_none()) {
        return Err(at(
            &uri_path,
            format!(
                "A reply must reference an {POST} record (got {})",
                describe(&Value::from(uri))
            ),
        ));
    }
    Ok(StrongRef {
        path: path.to_owned(),
        uri: uri.to_owned(),
        cid: cid.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const CID: &str = "bafyreig2fjxi3rptqdgylg7e5hmjl6mcke7rn2b6cugzlqq3i4zu6rq52q";

    #[test]
    fn at_uris_name_an_authority_a_collection_and_a_key() {
        let full = "at://did:plc:u5cwb2mwiv2bfq53cjufe6yn/app.bsky.feed.post/3k43tv4rft22g";
        assert_eq!(
            parse_at_uri(full),
            Some(AtUri {
                authority: "did:plc:u5cwb2mwiv2bfq53cjufe6yn",
                collection: Some(POST),
                rkey: Some("3k43tv4rft22g"),
            })
        );
        assert!(parse_at_uri("at://atproto.com/app.bsky.feed.post/3k43tv4rft22g").is_some());
        assert!(parse_at_uri("at://did:web:example.com").is_some());
        for bad in [
            "https://bsky.app/profile/x/post/3k43tv4rft22g",
            "at://",
            "at://nodots/app.bsky.feed.post/x",
            "at://did:plc:abc/post/3k43tv4rft22g",
            "at://did:plc:abc/app.bsky.feed.post/a/b",
            "at://did:plc:abc/app.bsky.feed.post/..",
        ] {
            assert!(parse_at_uri(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn cids_and_uris() {
        assert!(is_cid(CID));
        assert!(is_cid("QmPZ9gcCEpqKTo6aq61g2nXGUhM4iCL3ewB6LDXZCtioEB"));
        assert!(!is_cid(""));
        assert!(!is_cid("bafy REI"));
        assert!(!is_cid("not-a-cid"));
        assert!(is_uri("https://example.com/a?b=c"));
        assert!(is_uri("mailto:someone@example.com"));
        assert!(!is_uri("example.com"));
        assert!(!is_uri("https:///x"));
        assert!(!is_uri("https://exa mple.com"));
    }

    #[test]
    fn strong_refs_need_both_keys_in_their_formats() {
        let uri = "at://did:plc:abc/app.bsky.feed.post/3k43tv4rft22g";
        let ok = strong_ref(&json!({"uri": uri, "cid": CID}), "$.r", true).unwrap();
        assert_eq!((ok.uri.as_str(), ok.cid.as_str()), (uri, CID));
        assert_eq!(
            strong_ref(&json!({"uri": uri}), "$.r", true).unwrap_err(),
            "Missing required key \"cid\" at $.r"
        );
        assert_eq!(
            strong_ref(&json!({"uri": uri, "cid": "x"}), "$.r", true).unwrap_err(),
            "Invalid CID string (got \"x\") at $.r.cid"
        );
        assert_eq!(
            strong_ref(&json!({"uri": "https://x.y", "cid": CID}), "$.r", false).unwrap_err(),
            "Invalid at-uri (got \"https://x.y\") at $.r.uri"
        );
        let list = "at://did:plc:abc/app.bsky.graph.list/3k43tv4rft22g";
        assert!(strong_ref(&json!({"uri": list, "cid": CID}), "$.r", false).is_ok());
        assert!(
            strong_ref(&json!({"uri": list, "cid": CID}), "$.r", true)
                .unwrap_err()
                .starts_with("A reply must reference an app.bsky.feed.post record")
        );
    }
}
