//! Keyphrase extraction with RAKE (Rose et al., 2010), written for cmis: no model, no network,
//! deterministic.
//!
//! The text is split into candidate phrases at stopwords and punctuation; each word scores
//! `degree / frequency` over the candidates; a phrase scores the sum of its words. Ties keep the
//! order of first appearance, so the same brief always gives the same phrases.

use std::collections::HashMap;

/// English function words that end a candidate phrase. A short list on purpose: RAKE needs the
/// words that glue content together, not an exhaustive lexicon.
const STOPWORDS: &[&str] = &[
    "a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any",
    "are", "as", "at", "be", "because", "been", "before", "being", "below", "between", "both",
    "but", "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "even",
    "every", "few", "for", "from", "further", "get", "got", "had", "has", "have", "having", "he",
    "her", "here", "hers", "him", "his", "how", "i", "if", "in", "into", "is", "it", "its", "just",
    "let", "me", "more", "most", "my", "new", "no", "nor", "not", "now", "of", "off", "on", "once",
    "only", "or", "other", "our", "ours", "out", "over", "own", "same", "she", "should", "so",
    "some", "such", "than", "that", "the", "their", "them", "then", "there", "these", "they",
    "this", "those", "through", "to", "too", "under", "until", "up", "us", "very", "was", "we",
    "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with",
    "would", "you", "your", "yours",
];

/// The most words one keyphrase may have.
const MAX_PHRASE_WORDS: usize = 3;

fn is_stopword(word: &str) -> bool {
    STOPWORDS.binary_search(&word).is_ok()
}

/// A phrase found by [`keyphrases`], with the words as they appear in the text.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Keyphrase {
    /// The words of the phrase, in their original spelling.
    pub words: Vec<String>,
    /// The RAKE score (higher is more important).
    pub score: f64,
}

impl Keyphrase {
    /// The words joined by spaces.
    pub fn text(&self) -> String {
        self.words.join(" ")
    }
}

/// The `n` best keyphrases of `text`, best first.
///
/// ```
/// # mod cmis { pub use cmis_core::*; pub mod ai { pub use cmis_ai::*; } }
/// use cmis::ai::keyphrases;
/// let phrases = keyphrases("Pumpkin soup is back, with fresh sourdough bread.", 3);
/// assert_eq!(phrases[0].text(), "fresh sourdough bread");
/// ```
pub fn keyphrases(text: &str, n: usize) -> Vec<Keyphrase> {
    let candidates = candidates(text);
    let mut frequency: HashMap<String, f64> = HashMap::new();
    let mut degree: HashMap<String, f64> = HashMap::new();
    for phrase in &candidates {
        let co = phrase.len() as f64 - 1.0;
        for word in phrase {
            let key = word.to_lowercase();
            *frequency.entry(key.clone()).or_default() += 1.0;
            *degree.entry(key).or_default() += 1.0 + co;
        }
    }
    let word_score = |w: &str| {
        let key = w.to_lowercase();
        let f = frequency.get(&key).copied().unwrap_or(1.0);
        degree.get(&key).copied().unwrap_or(0.0) / f
    };
    let mut seen = HashMap::new();
    let mut scored: Vec<(usize, Keyphrase)> = Vec::new();
    for phrase in candidates {
        let key = phrase.join(" ").to_lowercase();
        if seen.insert(key, ()).is_some() {
            continue;
        }
        let score = phrase.iter().map(|w| word_score(w)).sum();
        scored.push((
            scored.len(),
            Keyphrase {
                words: phrase,
                score,
            },
        ));
    }
    scored.sort_by(|(ia, a), (ib, b)| b.score.total_cmp(&a.score).then(ia.cmp(ib)));
    scored.into_iter().take(n).map(|(_, k)| k).collect()
}

/// Candidate phrases: runs of content words between stopwords and punctuation, at most
/// [`MAX_PHRASE_WORDS`] long (longer runs are split), skipping pure numbers and one-letter words.
fn candidates(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut current: Vec<String> = Vec::new();
    let mut flush = |current: &mut Vec<String>| {
        for chunk in current.chunks(MAX_PHRASE_WORDS) {
            out.push(chunk.to_vec());
        }
        current.clear();
    };
    let mut word = String::new();
    for c in text.chars().chain(std::iter::once('.')) {
        if c.is_alphanumeric() || c == '\'' || c == '’' {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            let cleaned = word.trim_matches(|c| c == '\'' || c == '’').to_owned();
            word.clear();
            let lower = cleaned.to_lowercase();
            let useless = cleaned.chars().count() < 2
                || cleaned.chars().all(|c| c.is_numeric())
                || is_stopword(&lower)
                || lower.ends_with("'s") && is_stopword(lower.trim_end_matches("'s"));
            if useless {
                flush(&mut current);
            } else {
                current.push(cleaned);
            }
        }
        // Whitespace and hyphens join words; any other punctuation ends a phrase.
        if !(c.is_whitespace() || c == '-') {
            flush(&mut current);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stopwords_are_sorted_for_binary_search() {
        assert!(STOPWORDS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn deterministic_and_split_at_stopwords() {
        let text = "Join us for the grand opening of our bakery in Lisbon. Free coffee for the first 50 guests!";
        let a = keyphrases(text, 5);
        let b = keyphrases(text, 5);
        assert_eq!(a, b);
        let texts: Vec<_> = a.iter().map(Keyphrase::text).collect();
        assert!(texts.contains(&"grand opening".to_owned()), "{texts:?}");
        assert!(
            texts
                .iter()
                .all(|t| !t.split(' ').any(|w| w == "the" || w == "of"))
        );
        assert_eq!(
            texts.first().map(String::as_str),
            Some("grand opening"),
            "{texts:?}"
        );
    }

    #[test]
    fn empty_text_has_no_phrases() {
        assert!(keyphrases("", 3).is_empty());
        assert!(keyphrases("the and of 42", 3).is_empty());
    }
}
