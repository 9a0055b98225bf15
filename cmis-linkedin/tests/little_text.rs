//! The little-text escaper against every documented case, and as a property: what it writes
//! reads back as what was typed, and no reserved character is left bare outside an element.

mod common;

use cmis_linkedin::little_text::{element_at, escape, is_reserved, unescape};
use proptest::prelude::*;

#[test]
fn every_documented_case_is_escaped_as_listed() {
    let cases = common::fixture("little_text_cases.json");
    let cases = cases.as_array().unwrap();
    assert!(cases.len() >= 40);
    for case in cases {
        let input = case["input"].as_str().unwrap();
        let want = case["escaped"].as_str().unwrap();
        assert_eq!(escape(input), want, "case {}", case["name"]);
    }
}

/// Whether every reserved character in `commentary` is escaped or inside an element.
fn no_bare_reserved(commentary: &str) -> bool {
    let mut rest = commentary;
    let mut after_space = true;
    while let Some(c) = rest.chars().next() {
        if c == '\\' {
            let mut it = rest.chars();
            it.next();
            match it.next() {
                Some(next) => {
                    rest = &rest[1 + next.len_utf8()..];
                    after_space = false;
                    continue;
                }
                None => return false,
            }
        }
        if let Some(len) = element_at(rest, after_space) {
            rest = &rest[len..];
            after_space = false;
            continue;
        }
        if is_reserved(c) {
            return false;
        }
        after_space = c.is_whitespace();
        rest = &rest[c.len_utf8()..];
    }
    true
}

proptest! {
    #[test]
    fn escaping_round_trips_and_leaves_nothing_bare(
        text in r"[a-z #@\[\]()<>{}|\\*_~:.\n→✅]{0,60}"
    ) {
        let escaped = escape(&text);
        prop_assert_eq!(unescape(&escaped), text);
        prop_assert!(no_bare_reserved(&escaped), "{escaped:?}");
    }

    #[test]
    fn mentions_survive_in_any_text(prefix in "[a-z ()]{0,10}", name in "[A-Za-z][A-Za-z ]{0,11}") {
        let mention = format!("@[{name}](urn:li:organization:2414183)");
        let escaped = escape(&format!("{prefix} {mention}"));
        prop_assert!(escaped.contains(&mention), "{escaped:?}");
    }
}
