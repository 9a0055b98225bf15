//! Platform-aware post-processing: captions that fit, hashtags that work.

use std::collections::HashSet;

use cmis_core::GenerationTask;

use crate::limits::{LengthUnit, PlatformRules};
use crate::prompt::Draft;

/// The longest hashtag cmis keeps; longer ones are unreadable and often not linked.
const MAX_HASHTAG_CHARS: usize = 50;

/// Fits `text` into `max` units, cutting at a sentence end when that keeps at least half of the
/// budget, otherwise at a word boundary (with `…`), otherwise at a character boundary.
///
/// ```
/// # mod cmis { pub use cmis_core::*; pub mod ai { pub use cmis_ai::*; } }
/// use cmis::ai::{LengthUnit, fit_caption};
/// let text = "Fresh bread daily. Come early for croissants and coffee.";
/// assert_eq!(fit_caption(text, 30, LengthUnit::Chars), "Fresh bread daily.");
/// assert_eq!(fit_caption(text, 40, LengthUnit::Chars), "Fresh bread daily. Come early for…");
/// ```
pub fn fit_caption(text: &str, max: usize, unit: LengthUnit) -> String {
    let text = text.trim();
    if unit.len(text) <= max {
        return text.to_owned();
    }
    // The byte index after the longest prefix that fits `budget` units.
    let prefix_end = |budget: usize| {
        let mut used = 0;
        let mut end = 0;
        for (i, c) in text.char_indices() {
            used += unit.char_len(c);
            if used > budget {
                break;
            }
            end = i + c.len_utf8();
        }
        end
    };
    let head = text.get(..prefix_end(max)).unwrap_or_default();
    if let Some(cut) = last_sentence_end(head)
        && unit.len(head.get(..cut).unwrap_or_default()) * 2 >= max
    {
        return head.get(..cut).unwrap_or_default().trim_end().to_owned();
    }
    // Room for the ellipsis.
    let head = text
        .get(..prefix_end(max.saturating_sub(1)))
        .unwrap_or_default();
    let next_is_space = text
        .get(head.len()..)
        .and_then(|rest| rest.chars().next())
        .is_none_or(char::is_whitespace);
    let word_cut = if next_is_space {
        Some(head.len())
    } else {
        head.rfind(char::is_whitespace)
    };
    let cut = match word_cut {
        Some(cut) if cut > 0 => cut,
        _ => head.len(),
    };
    let kept = head
        .get(..cut)
        .unwrap_or_default()
        .trim_end_matches(|c: char| c.is_whitespace() || c == ',' || c == ';' || c == ':');
    if max == 0 {
        return String::new();
    }
    format!("{kept}…")
}

/// The byte index just after the last sentence end (`.`, `!`, `?` or a line break) in `text`.
fn last_sentence_end(text: &str) -> Option<usize> {
    let mut best = None;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let ends = match c {
            '\n' => true,
            '.' | '!' | '?' | '…' => chars.peek().is_none_or(|(_, n)| n.is_whitespace()),
            _ => false,
        };
        if ends && i > 0 {
            best = Some(i + c.len_utf8());
        }
    }
    best
}

/// Normalises one hashtag to `#CamelCase`: words joined with their first letter upper-cased,
/// only letters, digits and `_` kept. Returns `None` when nothing usable is left or the tag is
/// all digits (platforms do not link those).
///
/// ```
/// # mod cmis { pub use cmis_core::*; pub mod ai { pub use cmis_ai::*; } }
/// use cmis::ai::normalize_hashtag;
/// assert_eq!(normalize_hashtag("autumn menu").as_deref(), Some("#AutumnMenu"));
/// assert_eq!(normalize_hashtag("#café-culture!").as_deref(), Some("#CaféCulture"));
/// assert_eq!(normalize_hashtag("#2026"), None);
/// ```
pub fn normalize_hashtag(raw: &str) -> Option<String> {
    let mut tag = String::from("#");
    for word in raw.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            tag.extend(first.to_uppercase());
            tag.extend(chars);
        }
    }
    let body: String = tag.chars().skip(1).take(MAX_HASHTAG_CHARS).collect();
    if body.is_empty() || body.chars().all(|c| c.is_ascii_digit() || c == '_') {
        return None;
    }
    Some(format!("#{body}"))
}

/// Normalises, de-duplicates (case-insensitively) and caps a list of hashtags, keeping order.
pub fn normalize_hashtags<I, S>(raw: I, cap: usize) -> Vec<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for tag in raw
        .into_iter()
        .filter_map(|r| normalize_hashtag(r.as_ref()))
    {
        if out.len() >= cap {
            break;
        }
        if seen.insert(tag.to_lowercase()) {
            out.push(tag);
        }
    }
    out
}

/// The separator between a caption and its hashtag block.
pub(crate) const HASHTAG_SEPARATOR: &str = "\n\n";

/// How many units the hashtag block takes when appended to a caption.
pub(crate) fn hashtag_block_len(hashtags: &[String], unit: LengthUnit) -> usize {
    if hashtags.is_empty() {
        return 0;
    }
    unit.len(HASHTAG_SEPARATOR) + unit.len(&hashtags.join(" "))
}

/// Fits a caption so that it and its hashtag block together stay within the platform limit;
/// drops hashtags from the end when even an empty caption would not leave room for them.
pub(crate) fn fit_with_hashtags(
    text: &str,
    hashtags: &mut Vec<String>,
    rules: &PlatformRules,
) -> String {
    while !hashtags.is_empty() && hashtag_block_len(hashtags, rules.unit) * 2 > rules.max_caption {
        hashtags.pop();
    }
    let budget = rules
        .max_caption
        .saturating_sub(hashtag_block_len(hashtags, rules.unit));
    fit_caption(text, budget, rules.unit)
}

/// Post-processes drafts for the platform: hashtags normalised and capped, captions fitted
/// together with their hashtag block.
pub(crate) fn finish(
    task: GenerationTask,
    drafts: Vec<Draft>,
    rules: &PlatformRules,
) -> (Vec<String>, Vec<String>) {
    let mut raw_tags = Vec::new();
    let mut texts = Vec::new();
    for draft in drafts {
        let (text, inline) = split_trailing_hashtags(&draft.text);
        raw_tags.extend(draft.hashtags);
        raw_tags.extend(inline);
        texts.push(text);
    }
    let mut hashtags = normalize_hashtags(raw_tags, rules.max_hashtags);
    if task == GenerationTask::Hashtags {
        let line = hashtags.join(" ");
        return (vec![line], hashtags);
    }
    let first = texts.first().cloned().unwrap_or_default();
    // Fitting drops hashtags that leave no room; every variant then shares the final set.
    let _ = fit_with_hashtags(&first, &mut hashtags, rules);
    let variants = texts
        .iter()
        .map(|t| fit_with_hashtags(t, &mut hashtags, rules))
        .collect();
    (variants, hashtags)
}

/// Moves hashtags a model appended to the end of a caption into the hashtag list.
fn split_trailing_hashtags(text: &str) -> (String, Vec<String>) {
    let mut cut = text.trim_end().len();
    let mut tags = Vec::new();
    loop {
        let head = text.get(..cut).unwrap_or_default().trim_end();
        let start = head.rfind(char::is_whitespace).map_or(0, |i| {
            i + head
                .get(i..)
                .and_then(|s| s.chars().next())
                .map_or(1, char::len_utf8)
        });
        let token = head.get(start..).unwrap_or_default();
        if token.len() > 1 && token.starts_with('#') {
            tags.push(token.to_owned());
            cut = start;
            if start == 0 {
                break;
            }
        } else {
            cut = head.len();
            break;
        }
    }
    tags.reverse();
    (
        text.get(..cut).unwrap_or_default().trim_end().to_owned(),
        tags,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_counts_emoji_twice() {
        // 4 emoji outside the BMP = 8 UTF-16 units.
        let text = "😀😀😀😀";
        assert_eq!(fit_caption(text, 8, LengthUnit::Utf16), text);
        let cut = fit_caption(text, 7, LengthUnit::Utf16);
        assert!(LengthUnit::Utf16.len(&cut) <= 7, "{cut}");
    }

    #[test]
    fn duplicates_and_junk_are_removed() {
        let tags = normalize_hashtags(
            [
                "#Autumn",
                "autumn",
                "fall menu",
                "!!!",
                "#FallMenu",
                "2026",
                "x",
            ],
            10,
        );
        assert_eq!(tags, vec!["#Autumn", "#FallMenu", "#X"]);
        assert_eq!(normalize_hashtags(["a", "b", "c"], 2), vec!["#A", "#B"]);
    }

    #[test]
    fn block_and_caption_fit_together() {
        let rules = PlatformRules::new(40, LengthUnit::Chars, 5);
        let mut tags = vec!["#Bread".to_owned(), "#Coffee".to_owned()];
        let text = fit_with_hashtags(
            "Fresh bread every morning and coffee all day long.",
            &mut tags,
            &rules,
        );
        assert_eq!(tags.len(), 2);
        assert!(text.chars().count() + hashtag_block_len(&tags, rules.unit) <= 40);
    }

    proptest::proptest! {
        #[test]
        fn fitted_caption_never_exceeds_the_limit(text in "\\PC{0,300}", max in 0usize..200, utf16 in proptest::bool::ANY) {
            let unit = if utf16 { LengthUnit::Utf16 } else { LengthUnit::Chars };
            let out = fit_caption(&text, max, unit);
            proptest::prop_assert!(unit.len(&out) <= max);
            if unit.len(text.trim()) <= max {
                proptest::prop_assert_eq!(out, text.trim());
            }
        }
    }

    #[test]
    fn trailing_hashtags_move_to_the_list() {
        let (text, tags) = split_trailing_hashtags("Fresh bread today!\n\n#Bakery #fresh");
        assert_eq!(text, "Fresh bread today!");
        assert_eq!(tags, vec!["#Bakery", "#fresh"]);
        let (text, tags) = split_trailing_hashtags("We love #bread a lot");
        assert_eq!(text, "We love #bread a lot");
        assert!(tags.is_empty());
    }

    #[test]
    fn finish_caps_and_fits() {
        let rules = PlatformRules::new(60, LengthUnit::Chars, 2);
        let drafts = vec![Draft::new(
            "A very long caption about sourdough bread that keeps going on and on. #extra",
            vec!["sourdough".into(), "bread".into(), "more".into()],
        )];
        let (texts, tags) = finish(GenerationTask::Caption, drafts, &rules);
        assert_eq!(tags, vec!["#Sourdough", "#Bread"]);
        let first = texts.first().unwrap();
        let block = hashtag_block_len(&tags, LengthUnit::Chars);
        assert!(first.chars().count() + block <= 60, "{first}");
    }
}
