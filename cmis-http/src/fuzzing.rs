//! The input framing shared by the connectors' fuzz entry points (`cmis_meta::fuzzing`,
//! `cmis_tiktok::fuzzing`). Not part of the API: no semver promise covers this module.
//!
//! A fuzz input is `<selector byte><header lines>\n\n<body>`: each connector reads the selector's
//! bits as it likes (status, read or mutation, which parser), header lines are `name: value`,
//! and without a blank line the whole rest is the body. Corpus files stay readable this way.

use http::{HeaderMap, HeaderName, HeaderValue};

/// One framed input.
#[derive(Debug)]
pub struct Framed<'a> {
    /// The first byte (0 for an empty input).
    pub selector: u8,
    /// The header lines that parsed as a header; the others are dropped.
    pub headers: HeaderMap,
    /// What follows the first blank line (or everything after the selector).
    pub body: &'a [u8],
}

/// Splits `data` into selector, headers and body. Never fails.
pub fn frame(data: &[u8]) -> Framed<'_> {
    let (selector, rest) = data.split_first().map_or((0, data), |(s, r)| (*s, r));
    let (head, body) = match rest.windows(2).position(|w| w == b"\n\n") {
        Some(i) => {
            let (head, body) = rest.split_at(i);
            (head, body.get(2..).unwrap_or_default())
        }
        None => (&[][..], rest),
    };
    let mut headers = HeaderMap::new();
    for line in head.split(|b| *b == b'\n') {
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let (name, value) = line.split_at(colon);
        let value = value.get(1..).unwrap_or_default().trim_ascii();
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.trim_ascii()),
            HeaderValue::from_bytes(value),
        ) {
            headers.append(name, value);
        }
    }
    Framed {
        selector,
        headers,
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_selector_headers_and_body() {
        let f = frame(b"\x13retry-after: 120\nbad header\nx-app-usage: {}\n\n{\"a\":1}\n\nrest");
        assert_eq!(f.selector, 0x13);
        assert_eq!(f.headers.len(), 2);
        assert_eq!(f.headers["retry-after"], "120");
        assert_eq!(f.body, b"{\"a\":1}\n\nrest");
        let f = frame(b"\x01{}");
        assert!(f.headers.is_empty());
        assert_eq!(f.body, b"{}");
        assert_eq!(frame(b"").selector, 0);
    }
}
