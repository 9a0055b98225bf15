//! LinkedIn's "little text" commentary format, as the fake reads it (brief §3; fixture
//! `little_text_cases.json`).
//!
//! The reserved characters are ``| { } @ [ ] ( ) < > # \ * _ ~``. A reserved character is
//! plain text only when backslash-escaped, or when it is part of an element:
//!
//! - a mention `@[Name](urn:li:person:ID)` or `@[Name](urn:li:organization:ID)`;
//! - a hashtag `#word` where `#` starts a word (start of text or after whitespace);
//! - a hashtag template `{hashtag|#|word}` (or with the full-width `＃`).
//!
//! LinkedIn answers 201 and silently **cuts the commentary at the first reserved character that
//! is neither escaped nor part of an element** (brief §3, "Failure mode is silent"). The fake
//! does the same: [`parse`] returns what survives, both as little text (what a read returns)
//! and rendered (escapes decoded, mentions shown as their names, hashtags as `#word`).

/// The reserved characters (brief §3).
const RESERVED: &[char] = &[
    '|', '{', '}', '@', '[', ']', '(', ')', '<', '>', '#', '\\', '*', '_', '~',
];

/// What LinkedIn keeps of a commentary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Parsed {
    /// The little text up to the cut (the whole input when nothing was cut).
    pub(crate) kept: String,
    /// What members see: escapes decoded, mentions as their names, hashtags as `#word`.
    pub(crate) rendered: String,
    /// The byte offset in the input of the character the text was cut at, if it was cut.
    pub(crate) cut_at: Option<usize>,
}

fn is_reserved(c: char) -> bool {
    RESERVED.contains(&c)
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric()
}

/// A mention at the start of `s` (which begins with `@`): its length in bytes and its name.
fn mention(s: &str) -> Option<(usize, &str)> {
    let rest = s.strip_prefix("@[")?;
    let name_end = rest.find(']')?;
    let name = &rest[..name_end];
    if name.is_empty() || name.contains(['[', '(', ')', '\n']) {
        return None;
    }
    let after = rest[name_end..].strip_prefix("](")?;
    let close = after.find(')')?;
    let urn = &after[..close];
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
    let len = 2 + name_end + 2 + close + 1;
    Some((len, name))
}

/// A hashtag template at the start of `s` (which begins with `{`): its length and its word.
fn template(s: &str) -> Option<(usize, &str)> {
    let rest = s.strip_prefix("{hashtag|")?;
    let rest = rest
        .strip_prefix("#|")
        .or_else(|| rest.strip_prefix("＃|"))?;
    let close = rest.find('}')?;
    let word = &rest[..close];
    if word.is_empty() || !word.chars().all(is_word) {
        return None;
    }
    Some((s.len() - rest.len() + close + 1, word))
}

/// Reads `input` as little text.
pub(crate) fn parse(input: &str) -> Parsed {
    let mut rendered = String::with_capacity(input.len());
    let mut i = 0;
    let mut prev: Option<char> = None;
    while let Some(c) = input[i..].chars().next() {
        let here = &input[i..];
        if !is_reserved(c) {
            rendered.push(c);
            prev = Some(c);
            i += c.len_utf8();
            continue;
        }
        let element = match c {
            '\\' => {
                let next = here[1..].chars().next().filter(|&n| is_reserved(n));
                next.map(|n| {
                    rendered.push(n);
                    1 + n.len_utf8()
                })
            }
            '@' => mention(here).map(|(len, name)| {
                rendered.push_str(name);
                len
            }),
            '#' if prev.is_none_or(char::is_whitespace) => {
                let word: usize = here[1..]
                    .chars()
                    .take_while(|&w| is_word(w))
                    .map(char::len_utf8)
                    .sum();
                (word > 0).then(|| {
                    rendered.push_str(&here[..=word]);
                    1 + word
                })
            }
            '{' => template(here).map(|(len, word)| {
                rendered.push('#');
                rendered.push_str(word);
                len
            }),
            _ => None,
        };
        match element {
            Some(len) => {
                prev = input[..i + len].chars().next_back();
                i += len;
            }
            None => {
                return Parsed {
                    kept: input[..i].to_owned(),
                    rendered,
                    cut_at: Some(i),
                };
            }
        }
    }
    Parsed {
        kept: input.to_owned(),
        rendered,
        cut_at: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(s: &str) -> (String, bool) {
        let p = parse(s);
        (p.rendered, p.cut_at.is_some())
    }

    #[test]
    fn an_unescaped_parenthesis_cuts_the_text() {
        let p = parse("Va al repo (durable)");
        assert_eq!(p.kept, "Va al repo ");
        assert_eq!(p.rendered, "Va al repo ");
        assert_eq!(p.cut_at, Some(11));
    }

    #[test]
    fn escapes_are_decoded() {
        assert_eq!(
            rendered(r"Escaped little text \(see §3\)"),
            ("Escaped little text (see §3)".into(), false)
        );
        assert_eq!(rendered(r"path\\to"), (r"path\to".into(), false));
        assert_eq!(rendered(r"\\\#"), (r"\#".into(), false));
        // A backslash before a character that needs no escape is itself unescaped.
        assert_eq!(rendered(r"a\b"), ("a".into(), true));
        assert_eq!(rendered("end\\"), ("end".into(), true));
    }

    #[test]
    fn elements_survive() {
        assert_eq!(
            rendered("Hello @[Acme Corp](urn:li:organization:1234)!"),
            ("Hello Acme Corp!".into(), false)
        );
        assert_eq!(
            rendered("Shipping #rustlang \\(finally\\)"),
            ("Shipping #rustlang (finally)".into(), false)
        );
        assert_eq!(
            rendered("on {hashtag|#|Technology} and"),
            ("on #Technology and".into(), false)
        );
        assert_eq!(rendered("#hashtag"), ("#hashtag".into(), false));
    }

    #[test]
    fn broken_elements_cut() {
        assert_eq!(
            rendered("@[not a mention](https://example.com)"),
            (String::new(), true)
        );
        assert_eq!(rendered("I write C#"), ("I write C".into(), true));
        assert_eq!(rendered("issue # 5"), ("issue ".into(), true));
        assert_eq!(rendered("mail me@example.com"), ("mail me".into(), true));
        assert_eq!(rendered("{hashtag|#|}"), (String::new(), true));
        assert_eq!(rendered("snake_case"), ("snake".into(), true));
    }
}
