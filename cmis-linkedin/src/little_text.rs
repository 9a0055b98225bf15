//! LinkedIn's "little text" format, in which a post's `commentary` is written
//! (`docs/linkedin-api.md` §3).
//!
//! LinkedIn parses commentary for elements (mentions, hashtags, templates) and **silently cuts
//! the post at the first reserved character that is not escaped**: it answers 201 and keeps only
//! the text before a stray `(`. [`escape`] turns plain text into commentary that arrives whole:
//!
//! - every reserved character, ``\ | { } @ [ ] ( ) < > # * _ ~``, gets a backslash, in one
//!   left-to-right pass (a backslash is escaped like the others, so nothing is escaped twice);
//! - a mention written as LinkedIn spells it, `@[Name](urn:li:person:…)` or
//!   `@[Name](urn:li:organization:…)`, stays a mention;
//! - a hashtag template, `{hashtag|#|word}`, stays a template;
//! - `#word` at the start of a word stays a clickable hashtag; any other `#` is text;
//! - URLs get no special treatment: `_` in a URL is escaped like any other.
//!
//! Comments are not little text: never pass a comment through [`escape`].
//!
//! ```
//! # mod cmis { pub mod linkedin { pub use cmis_linkedin::*; } }
//! use cmis::linkedin::little_text::escape;
//! assert_eq!(escape("Va al repo (durable)"), r"Va al repo \(durable\)");
//! assert_eq!(
//!     escape("Thanks @[Acme](urn:li:organization:1234) #rustlang"),
//!     "Thanks @[Acme](urn:li:organization:1234) #rustlang"
//! );
//! ```

/// The characters little text reserves for its elements.
pub const RESERVED: &[char] = &[
    '\\', '|', '{', '}', '@', '[', ']', '(', ')', '<', '>', '#', '*', '_', '~',
];

/// Whether `c` is reserved.
pub fn is_reserved(c: char) -> bool {
    RESERVED.contains(&c)
}

/// Escapes `text` as commentary (see the [module](self) for the rules).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut rest = text;
    let mut after_space = true;
    while let Some(c) = rest.chars().next() {
        if let Some(len) = element_at(rest, after_space) {
            out.push_str(&rest[..len]);
            after_space = false;
            rest = &rest[len..];
            continue;
        }
        if is_reserved(c) {
            out.push('\\');
        }
        out.push(c);
        after_space = c.is_whitespace();
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Reverses [`escape`]: the text a reader sees (elements kept as written).
pub fn unescape(commentary: &str) -> String {
    let mut out = String::with_capacity(commentary.len());
    let mut chars = commentary.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(next) => out.push(next),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The byte length of the element (mention, hashtag template or hashtag) that starts `s`, if
/// one does. `after_space` says whether `s` starts a word.
pub fn element_at(s: &str, after_space: bool) -> Option<usize> {
    mention_at(s)
        .or_else(|| template_at(s))
        .or_else(|| after_space.then(|| hashtag_at(s)).flatten())
}

/// `@[Name](urn:li:person:ID)` or `@[Name](urn:li:organization:ID)`.
fn mention_at(s: &str) -> Option<usize> {
    let inner = s.strip_prefix("@[")?;
    let name_end = inner.find(']')?;
    let name = &inner[..name_end];
    if name.trim().is_empty() || name.contains(['[', '\\', '\n', '(', ')']) {
        return None;
    }
    let target = inner[name_end..].strip_prefix("](")?;
    let urn_end = target.find(')')?;
    let urn = &target[..urn_end];
    let id = urn
        .strip_prefix("urn:li:person:")
        .or_else(|| urn.strip_prefix("urn:li:organization:"))?;
    if id.is_empty()
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return None;
    }
    Some(2 + name_end + 2 + urn_end + 1)
}

/// `{hashtag|#|word}` (or with the full-width `＃`).
fn template_at(s: &str) -> Option<usize> {
    let inner = s
        .strip_prefix("{hashtag|#|")
        .or_else(|| s.strip_prefix("{hashtag|＃|"))?;
    let end = inner.find('}')?;
    let word = &inner[..end];
    if word.is_empty() || !word.chars().all(is_hashtag_char) {
        return None;
    }
    Some(s.len() - inner.len() + end + 1)
}

/// `#word`: a `#` followed by letters or digits.
fn hashtag_at(s: &str) -> Option<usize> {
    let word = s.strip_prefix('#')?;
    let len: usize = word
        .chars()
        .take_while(|c| is_hashtag_char(*c))
        .map(char::len_utf8)
        .sum();
    (len > 0).then_some(1 + len)
}

fn is_hashtag_char(c: char) -> bool {
    c.is_alphanumeric()
}

/// The length LinkedIn counts against the 3 000 limit: UTF-16 units of the escaped text (the
/// conservative reading: LinkedIn does not say, and the escapes are part of what it receives).
pub fn wire_len(commentary: &str) -> usize {
    commentary.encode_utf16().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_are_recognised_only_when_whole() {
        assert_eq!(mention_at("@[Eddy](urn:li:person:1234) hi"), Some(27));
        assert_eq!(mention_at("@[Eddy](https://example.com)"), None);
        assert_eq!(mention_at("@[](urn:li:person:1)"), None);
        assert_eq!(mention_at("@[Eddy](urn:li:person:)"), None);
        assert_eq!(template_at("{hashtag|#|Rust} x"), Some(16));
        assert_eq!(template_at("{hashtag|#|}"), None);
        assert_eq!(hashtag_at("#rust_lang"), Some(5));
        assert_eq!(hashtag_at("# 5"), None);
        assert_eq!(hashtag_at("#"), None);
    }

    #[test]
    fn a_lone_backslash_at_the_end_unescapes_to_itself() {
        assert_eq!(unescape("a\\"), "a\\");
        assert_eq!(unescape(&escape("a\\")), "a\\");
    }
}
