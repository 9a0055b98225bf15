//! The `app.bsky.feed.post` lexicon (and the embeds, strong refs and facets it refers to), checked
//! the way the reference PDS checks it, with its messages (`@atproto/lex-schema`: "grapheme too
//! big (maximum 300, got 301) at $.record.text"). Embeds are in `validate/embed.rs`, string
//! formats and strong refs in `validate/refs.rs`.
//!
//! Deliberate additions, which the lexicon does not state and a real PDS does not check, but which
//! make a connector's mistakes visible:
//! - facet ranges must lie inside the text, on character boundaries, without overlapping
//!   (renderers drop such facets);
//! - reply refs must name `app.bsky.feed.post` records, and `recordWithMedia`'s media may not be
//!   a record embed;
//! - strong refs to records on this PDS are checked against them (`state/repo/refs.rs`).
//!
//! Validation returns what the repository checks next: the strong refs, and the size limit each
//! blob's place in the lexicon puts on it.

mod embed;
mod refs;

use serde_json::{Map, Value};
use unicode_segmentation::UnicodeSegmentation;

use super::ids::is_datetime;

pub(crate) use refs::{StrongRef, parse_at_uri};

pub(crate) const POST: &str = "app.bsky.feed.post";
const TEXT_MAX_BYTES: usize = 3000;
const TEXT_MAX_GRAPHEMES: usize = 300;
const MAX_LANGS: usize = 3;
const MAX_TAGS: usize = 8;
const TAG_MAX_BYTES: usize = 640;
const TAG_MAX_GRAPHEMES: usize = 64;

/// A validation failure: the issue and the JSON path where it is.
type Issue = String;

/// The size limit the lexicon puts on a blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BlobLimit {
    /// An image of `app.bsky.embed.images`: [`crate::BlueskyConfig::image_max_bytes`].
    Image,
    /// A fixed `maxSize`, in bytes.
    Bytes(u64),
}

/// `reply.root` and `reply.parent`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReplyRefs {
    pub(crate) root: StrongRef,
    pub(crate) parent: StrongRef,
}

/// What a valid post refers to, for the repository to check.
#[derive(Debug, Default)]
pub(crate) struct Checked {
    /// The post's `reply`, if it is one.
    pub(crate) reply: Option<ReplyRefs>,
    /// The records its embed quotes (`app.bsky.embed.record`, alone or with media).
    pub(crate) quotes: Vec<StrongRef>,
    /// Each blob the lexicon limits, by CID.
    pub(crate) blob_limits: Vec<(String, BlobLimit)>,
}

fn at(path: &str, issue: impl std::fmt::Display) -> Issue {
    format!("{issue} at {path}")
}

fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => Value::String(s.chars().take(255).collect()).to_string(),
        Value::Array(_) => "array".into(),
        Value::Object(_) => "object".into(),
        other => other.to_string(),
    }
}

fn object<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>, Issue> {
    v.as_object().ok_or_else(|| {
        at(
            path,
            format!("Expected object value type (got {})", describe(v)),
        )
    })
}

fn required<'a>(o: &'a Map<String, Value>, key: &str, path: &str) -> Result<&'a Value, Issue> {
    o.get(key)
        .ok_or_else(|| at(path, format!("Missing required key \"{key}\"")))
}

fn string<'a>(v: &'a Value, path: &str) -> Result<&'a str, Issue> {
    v.as_str().ok_or_else(|| {
        at(
            path,
            format!("Expected string value type (got {})", describe(v)),
        )
    })
}

fn array<'a>(v: &'a Value, path: &str, max: Option<usize>) -> Result<&'a Vec<Value>, Issue> {
    let items = v.as_array().ok_or_else(|| {
        at(
            path,
            format!("Expected array value type (got {})", describe(v)),
        )
    })?;
    match max {
        Some(max) if items.len() > max => Err(at(
            path,
            format!("array too big (maximum {max}, got {})", items.len()),
        )),
        _ => Ok(items),
    }
}

fn integer(v: &Value, path: &str, minimum: i64) -> Result<i64, Issue> {
    let n = v.as_i64().ok_or_else(|| {
        at(
            path,
            format!("Expected integer value type (got {})", describe(v)),
        )
    })?;
    if n < minimum {
        return Err(at(
            path,
            format!("integer too small (minimum {minimum}, got {n})"),
        ));
    }
    Ok(n)
}

/// The lexicon's string limits: UTF-8 bytes (`maxLength`) first, then graphemes.
fn limited_string<'a>(
    v: &'a Value,
    path: &str,
    max_bytes: usize,
    max_graphemes: usize,
) -> Result<&'a str, Issue> {
    let s = string(v, path)?;
    if s.len() > max_bytes {
        return Err(at(
            path,
            format!("string too big (maximum {max_bytes}, got {})", s.len()),
        ));
    }
    let graphemes = s.graphemes(true).count();
    if graphemes > max_graphemes {
        return Err(at(
            path,
            format!("grapheme too big (maximum {max_graphemes}, got {graphemes})"),
        ));
    }
    Ok(s)
}

/// Checks a blob ref's shape (`{"$type":"blob","ref":{"$link"},"mimeType","size"}`) and its
/// `accept` pattern (`image/*` or an exact type); returns its CID.
fn blob(v: &Value, path: &str, accept: &str) -> Result<String, Issue> {
    let link = v.pointer("/ref/$link").and_then(Value::as_str);
    let shaped = v.get("$type").and_then(Value::as_str) == Some("blob")
        && v.get("size").and_then(Value::as_u64).is_some();
    let (Some(mime), Some(link)) = (
        v.get("mimeType").and_then(Value::as_str).filter(|_| shaped),
        link,
    ) else {
        return Err(at(
            path,
            format!("Expected blob value type (got {})", describe(v)),
        ));
    };
    let accepted = match accept.strip_suffix('*') {
        Some(prefix) => mime.starts_with(prefix),
        None => mime == accept,
    };
    if !accepted {
        return Err(at(
            &format!("{path}.mimeType"),
            format!("Expected one of \"{accept}\" (got \"{mime}\")"),
        ));
    }
    Ok(link.to_owned())
}

/// Validates a post record; the error is the message without the `Invalid … record: ` prefix.
pub(crate) fn post(record: &Value) -> Result<Checked, Issue> {
    let mut out = Checked::default();
    let root = "$.record";
    let r = object(record, root)?;
    let text = required(r, "text", root)?;
    let created_at = required(r, "createdAt", root)?;
    let text = limited_string(text, "$.record.text", TEXT_MAX_BYTES, TEXT_MAX_GRAPHEMES)?;
    if let Some(facets) = r.get("facets") {
        self::facets(facets, text)?;
    }
    if let Some(reply) = r.get("reply") {
        let path = "$.record.reply";
        let reply = object(reply, path)?;
        let strong = |key: &str| {
            refs::strong_ref(required(reply, key, path)?, &format!("{path}.{key}"), true)
        };
        out.reply = Some(ReplyRefs {
            root: strong("root")?,
            parent: strong("parent")?,
        });
    }
    if let Some(embed) = r.get("embed") {
        embed::embed(embed, &mut out)?;
    }
    if let Some(langs) = r.get("langs") {
        for (i, lang) in array(langs, "$.record.langs", Some(MAX_LANGS))?
            .iter()
            .enumerate()
        {
            string(lang, &format!("$.record.langs[{i}]"))?;
        }
    }
    if let Some(tags) = r.get("tags") {
        for (i, tag) in array(tags, "$.record.tags", Some(MAX_TAGS))?
            .iter()
            .enumerate()
        {
            let path = format!("$.record.tags[{i}]");
            limited_string(tag, &path, TAG_MAX_BYTES, TAG_MAX_GRAPHEMES)?;
        }
    }
    let created_at = string(created_at, "$.record.createdAt")?;
    if !is_datetime(created_at) {
        return Err(at(
            "$.record.createdAt",
            format!(
                "Invalid datetime (got {})",
                describe(&Value::from(created_at))
            ),
        ));
    }
    Ok(out)
}

/// `app.bsky.richtext.facet`: `index {byteStart, byteEnd}` (UTF-8 byte offsets, end exclusive)
/// and `features`; then the fake's range checks.
fn facets(facets: &Value, text: &str) -> Result<(), Issue> {
    let mut ranges: Vec<(i64, i64, usize)> = Vec::new();
    for (i, facet) in array(facets, "$.record.facets", None)?.iter().enumerate() {
        let path = format!("$.record.facets[{i}]");
        let f = object(facet, &path)?;
        let index_path = format!("{path}.index");
        let index = object(required(f, "index", &path)?, &index_path)?;
        let start = integer(
            required(index, "byteStart", &index_path)?,
            &format!("{index_path}.byteStart"),
            0,
        )?;
        let end = integer(
            required(index, "byteEnd", &index_path)?,
            &format!("{index_path}.byteEnd"),
            0,
        )?;
        let features_path = format!("{path}.features");
        for (j, feature) in array(required(f, "features", &path)?, &features_path, None)?
            .iter()
            .enumerate()
        {
            let feature_path = format!("{features_path}[{j}]");
            let feature = object(feature, &feature_path)?;
            string(
                required(feature, "$type", &feature_path)?,
                &format!("{feature_path}.$type"),
            )?;
        }
        if start >= end {
            return Err(at(
                &index_path,
                format!("facet range is empty or reversed (byteStart {start}, byteEnd {end})"),
            ));
        }
        let len = text.len();
        let (Ok(s), Ok(e)) = (usize::try_from(start), usize::try_from(end)) else {
            return Err(at(&index_path, "facet offsets out of range"));
        };
        if e > len {
            return Err(at(
                &index_path,
                format!("facet byteEnd {end} is past the end of the text ({len} UTF-8 bytes)"),
            ));
        }
        for (name, offset) in [("byteStart", s), ("byteEnd", e)] {
            if !text.is_char_boundary(offset) {
                return Err(at(
                    &index_path,
                    format!("facet {name} {offset} is not on a UTF-8 character boundary"),
                ));
            }
        }
        ranges.push((start, end, i));
    }
    ranges.sort_unstable();
    for pair in ranges.windows(2) {
        let ((_, prev_end, prev), (start, _, i)) = (pair[0], pair[1]);
        if start < prev_end {
            return Err(at(
                &format!("$.record.facets[{i}].index"),
                format!("facet overlaps facets[{prev}]"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn with_text(text: &str) -> Value {
        json!({"$type": POST, "text": text, "createdAt": "2026-11-03T10:15:00.000Z"})
    }

    #[test]
    fn text_is_limited_in_graphemes_and_in_bytes() {
        assert!(post(&with_text(&"a".repeat(300))).is_ok());
        let err = post(&with_text(&"a".repeat(301))).unwrap_err();
        assert_eq!(
            err,
            "grapheme too big (maximum 300, got 301) at $.record.text"
        );
        // 300 family emoji are 300 graphemes but 7 500 bytes: the byte limit speaks first.
        let family = "👨‍👩‍👧‍👦".repeat(300);
        assert_eq!(
            post(&with_text(&family)).unwrap_err(),
            "string too big (maximum 3000, got 7500) at $.record.text"
        );
        // 120 of them: 3 000 bytes, 120 graphemes, accepted although 840 chars.
        assert!(post(&with_text(&"👨‍👩‍👧‍👦".repeat(120))).is_ok());
        assert!(post(&with_text("")).is_ok());
    }

    #[test]
    fn facets_must_sit_inside_the_text_on_boundaries_without_overlap() {
        let facet = |s: i64, e: i64| json!({"index": {"byteStart": s, "byteEnd": e}, "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "x"}]});
        let with = |facets: Value| {
            let mut r = with_text("héllo #rust");
            r["facets"] = facets;
            post(&r)
        };
        assert!(with(json!([facet(7, 12)])).is_ok());
        assert!(
            with(json!([facet(7, 13)]))
                .unwrap_err()
                .contains("past the end")
        );
        assert!(with(json!([facet(2, 4)])).unwrap_err().contains("boundary"));
        assert!(with(json!([facet(4, 4)])).unwrap_err().contains("empty"));
        assert!(
            with(json!([facet(0, 6), facet(5, 8)]))
                .unwrap_err()
                .contains("overlaps facets[0]")
        );
        assert!(with(json!([facet(6, 12), facet(0, 6)])).is_ok());
    }

    #[test]
    fn required_keys_and_datetime() {
        let err = post(&json!({"text": "x"})).unwrap_err();
        assert_eq!(err, "Missing required key \"createdAt\" at $.record");
        let err = post(&json!({"text": "x", "createdAt": "yesterday"})).unwrap_err();
        assert!(err.starts_with("Invalid datetime"), "{err}");
    }
}
