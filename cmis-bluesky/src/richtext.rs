//! Rich-text facets: links, mentions and hashtags found in plain text, placed by UTF-8 byte
//! offsets as the AT Protocol requires (docs/bluesky-api.md §4).
//!
//! Rust's `str` indices are byte offsets already, so a facet's `start..end` slices the text
//! exactly; no character or UTF-16 count is ever involved.

use serde_json::{Value, json};
use unicode_segmentation::UnicodeSegmentation;

/// The longest hashtag, in graphemes (`app.bsky.richtext.facet#tag`).
pub const MAX_TAG_GRAPHEMES: usize = 64;

/// What a span of text is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Feature {
    /// A link to this complete URI.
    Link(String),
    /// A mention of this handle (without `@`), to be resolved to a DID before posting.
    Mention(String),
    /// A hashtag, without `#`.
    Tag(String),
}

/// A span of the text (`start..end`, UTF-8 byte offsets, end exclusive) and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// The first byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// What the span is.
    pub feature: Feature,
}

/// Finds the links (`http://`, `https://`), mentions (`@handle.example`) and hashtags
/// (`#rust`) in `text`, in order and never overlapping.
///
/// Trailing punctuation is not part of a link (`see https://example.com.` links
/// `https://example.com`), nor a closing parenthesis the link did not open.
///
/// ```
/// # mod cmis { pub mod bluesky { pub use cmis_bluesky::*; } }
/// use cmis::bluesky::richtext::{Feature, detect};
/// let text = "🎉 https://example.com #rust";
/// let spans = detect(text);
/// // The emoji is 4 bytes and the space 1: the link starts at byte 5.
/// assert_eq!((spans[0].start, spans[0].end), (5, 24));
/// assert_eq!(&text[spans[0].start..spans[0].end], "https://example.com");
/// assert_eq!(spans[1].feature, Feature::Tag("rust".into()));
/// ```
pub fn detect(text: &str) -> Vec<Span> {
    let mut spans = Vec::new();
    let mut at = 0;
    while at < text.len() {
        let rest = &text[at..];
        let boundary = at == 0 || text[..at].chars().next_back().is_some_and(is_boundary);
        let found = if boundary {
            link(text, at)
                .or_else(|| mention(text, at))
                .or_else(|| tag(text, at))
        } else {
            None
        };
        match found {
            Some(span) => {
                at = span.end;
                spans.push(span);
            }
            None => at += rest.chars().next().map_or(1, char::len_utf8),
        }
    }
    spans
}

/// Whether `c` may come right before a link, mention or tag.
fn is_boundary(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | '[' | '{' | '"' | '\'' | '“' | '‘')
}

/// The run of non-whitespace text from `at`.
fn word(text: &str, at: usize) -> &str {
    let rest = &text[at..];
    let len = rest.find(char::is_whitespace).unwrap_or(rest.len());
    &rest[..len]
}

fn link(text: &str, at: usize) -> Option<Span> {
    let word = word(text, at);
    let lower = word.get(..8).unwrap_or(word).to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) {
        return None;
    }
    let mut end = word.len();
    loop {
        let last = word[..end].chars().next_back()?;
        let opened = word[..end].matches('(').count();
        let closed = word[..end].matches(')').count();
        let trim = matches!(
            last,
            '.' | ',' | ';' | ':' | '!' | '?' | '"' | '\'' | '”' | '’' | ']'
        ) || (last == ')' && closed > opened);
        if !trim {
            break;
        }
        end -= last.len_utf8();
    }
    let uri = &word[..end];
    // A scheme with nothing after it is not a link.
    if uri.len() <= "https://".len() || uri.ends_with("://") {
        return None;
    }
    Some(Span {
        start: at,
        end: at + end,
        feature: Feature::Link(uri.to_owned()),
    })
}

fn mention(text: &str, at: usize) -> Option<Span> {
    let word = word(text, at).strip_prefix('@')?;
    let len = word
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
        .unwrap_or(word.len());
    let handle = word[..len].trim_end_matches(['.', '-']);
    // A handle is a domain name: at least two labels, none empty.
    let labels: Vec<&str> = handle.split('.').collect();
    if labels.len() < 2 || labels.iter().any(|l| l.is_empty()) {
        return None;
    }
    Some(Span {
        start: at,
        end: at + 1 + handle.len(),
        feature: Feature::Mention(handle.to_ascii_lowercase()),
    })
}

fn tag(text: &str, at: usize) -> Option<Span> {
    let rest = &text[at..];
    let hash = rest.chars().next().filter(|c| matches!(c, '#' | '＃'))?;
    let word = &word(text, at)[hash.len_utf8()..];
    let name = word.trim_end_matches(|c: char| c.is_ascii_punctuation());
    // A tag holds something besides digits, and is at most 64 graphemes.
    if name.is_empty()
        || name.chars().all(|c| c.is_ascii_digit())
        || name.starts_with('\u{fe0f}')
        || name.graphemes(true).count() > MAX_TAG_GRAPHEMES
    {
        return None;
    }
    Some(Span {
        start: at,
        end: at + hash.len_utf8() + name.len(),
        feature: Feature::Tag(name.to_owned()),
    })
}

/// The facet JSON for one span whose mention (if any) is resolved to `did`.
pub(crate) fn facet_json(span: &Span, did: Option<&str>) -> Option<Value> {
    let feature = match (&span.feature, did) {
        (Feature::Link(uri), _) => json!({"$type": "app.bsky.richtext.facet#link", "uri": uri}),
        (Feature::Tag(tag), _) => json!({"$type": "app.bsky.richtext.facet#tag", "tag": tag}),
        (Feature::Mention(_), Some(did)) => {
            json!({"$type": "app.bsky.richtext.facet#mention", "did": did})
        }
        (Feature::Mention(_), None) => return None,
    };
    Some(json!({
        "index": {"byteStart": span.start, "byteEnd": span.end},
        "features": [feature],
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn features(text: &str) -> Vec<(String, Feature)> {
        detect(text)
            .into_iter()
            .map(|s| (text[s.start..s.end].to_owned(), s.feature))
            .collect()
    }

    #[test]
    fn the_documented_example_gets_the_documented_offsets() {
        // docs/bluesky-api.md §3: byteStart 6..25 for the link, 26..31 for the tag.
        let spans = detect("Hello https://example.com #rust");
        assert_eq!((spans[0].start, spans[0].end), (6, 25));
        assert_eq!((spans[1].start, spans[1].end), (26, 31));
    }

    #[test]
    fn offsets_count_bytes_not_characters() {
        // "é" is 2 bytes, "🎉" 4, "👩‍👩‍👧" 18: a character or UTF-16 count would be off.
        let text = "é🎉👩‍👩‍👧 https://a.example/x";
        let span = &detect(text)[0];
        assert_eq!(span.start, 2 + 4 + 18 + 1);
        assert_eq!(&text[span.start..span.end], "https://a.example/x");
    }

    #[test]
    fn trailing_punctuation_is_not_part_of_a_link() {
        let got = features(
            "see https://example.com/a. and (https://example.com/b) or https://en.wikipedia.org/wiki/Rust_(language)!",
        );
        let links: Vec<&str> = got.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(
            links,
            [
                "https://example.com/a",
                "https://example.com/b",
                "https://en.wikipedia.org/wiki/Rust_(language)"
            ]
        );
    }

    #[test]
    fn mentions_and_tags() {
        let got = features("hi @alice.bsky.social, #rust #2026 #🦀 email@x.com @nodot #");
        assert_eq!(
            got,
            [
                (
                    "@alice.bsky.social".to_owned(),
                    Feature::Mention("alice.bsky.social".into())
                ),
                ("#rust".to_owned(), Feature::Tag("rust".into())),
                ("#🦀".to_owned(), Feature::Tag("🦀".into())),
            ]
        );
    }

    #[test]
    fn a_tag_over_64_graphemes_is_plain_text() {
        let long = format!("#{}", "a".repeat(65));
        assert!(detect(&long).is_empty());
        let ok = format!("#{}", "a".repeat(64));
        assert_eq!(detect(&ok).len(), 1);
    }

    #[test]
    fn an_unresolved_mention_becomes_no_facet() {
        let span = &detect("@bob.example.com")[0];
        assert!(facet_json(span, None).is_none());
        let facet = facet_json(span, Some("did:plc:bob")).unwrap();
        assert_eq!(facet["features"][0]["did"], "did:plc:bob");
        assert_eq!(facet["index"]["byteEnd"], 16);
    }

    proptest::proptest! {
        #[test]
        fn spans_are_in_order_on_char_boundaries_and_never_overlap(text in "\\PC{0,80}") {
            let spans = detect(&text);
            let mut last = 0;
            for s in &spans {
                proptest::prop_assert!(s.start >= last && s.start < s.end && s.end <= text.len());
                proptest::prop_assert!(text.is_char_boundary(s.start) && text.is_char_boundary(s.end));
                last = s.end;
            }
        }
    }
}
