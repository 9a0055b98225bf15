//! Parameter values as the Graph API documents them: lists and times.
//!
//! - **Lists** (`children`, `attached_media`): the IG User Media reference writes
//!   `children=<ID_1>,<ID_2>`; Graph also takes a JSON array, `children=["a","b"]` (what
//!   Meta's SDKs send, since they write every list parameter as JSON), with ids as strings or
//!   numbers; the request reader has already turned `name[0]=…` and `name[]=…` keys into that
//!   JSON form.
//! - **Times** (`scheduled_publish_time`): the Page Posts guide takes "a UNIX timestamp, an
//!   ISO 8601 timestamp, or a string parsable by PHP's strtotime()"; here Unix seconds and ISO
//!   8601 dates and date-times (with `Z`, `+hhmm` or `+hh:mm`, or none for UTC).

use serde_json::Value;

use super::{GraphError, Params, invalid_param, parse_time};

/// The items of list parameter `name`: a JSON array, or comma-separated values (each item that
/// is a JSON object is parsed as one). `None` when the parameter is absent.
pub(crate) fn list_param(p: &Params, name: &str) -> Result<Option<Vec<Value>>, GraphError> {
    let Some(raw) = p.get(name) else {
        return Ok(None);
    };
    let raw = raw.trim();
    if raw.starts_with('[') {
        return match serde_json::from_str::<Value>(raw) {
            Ok(Value::Array(items)) => Ok(Some(items)),
            _ => Err(invalid_param(format!(
                "{name} must be a JSON array or a comma-separated list"
            ))),
        };
    }
    if raw.starts_with('{') {
        // One object, as a list of one (`attached_media={"media_fbid":"1"}`).
        return serde_json::from_str::<Value>(raw)
            .map(|v| Some(vec![v]))
            .map_err(|_| invalid_param(format!("{name} is not valid JSON")));
    }
    Ok(Some(
        raw.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| Value::String(s.to_owned()))
            .collect(),
    ))
}

/// An id in a list: a string or a number.
pub(crate) fn id_of(item: &Value) -> Option<String> {
    match item {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The ids of list parameter `name` (empty when absent).
pub(crate) fn id_list(p: &Params, name: &str) -> Result<Vec<String>, GraphError> {
    list_param(p, name)?
        .unwrap_or_default()
        .iter()
        .map(|item| {
            id_of(item).ok_or_else(|| invalid_param(format!("{name} must list ids, not {item}")))
        })
        .collect()
}

/// A `scheduled_publish_time`: Unix seconds or ISO 8601.
pub(crate) fn schedule_time(raw: &str) -> Result<i64, GraphError> {
    parse_time(raw).ok_or_else(|| {
        invalid_param(format!(
            "scheduled_publish_time must be a Unix timestamp or an ISO 8601 time, not \"{raw}\""
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn lists_come_as_json_arrays_or_commas() {
        for raw in ["a,b", " a , b ", r#"["a","b"]"#, "[\"a\", \"b\"]"] {
            let p = params(&[("children", raw)]);
            assert_eq!(id_list(&p, "children").unwrap(), ["a", "b"], "{raw}");
        }
        let p = params(&[("children", "[17889, 17890]")]);
        assert_eq!(id_list(&p, "children").unwrap(), ["17889", "17890"]);
        assert!(id_list(&params(&[]), "children").unwrap().is_empty());
        assert!(id_list(&params(&[("children", "[1,")]), "children").is_err());
        assert!(id_list(&params(&[("children", "[{}]")]), "children").is_err());
        let p = params(&[("attached_media", r#"{"media_fbid":"9"}"#)]);
        let items = list_param(&p, "attached_media").unwrap().unwrap();
        assert_eq!(items[0]["media_fbid"], "9");
    }

    #[test]
    fn scheduled_times_are_unix_or_iso_8601() {
        assert_eq!(schedule_time("1767225600").unwrap(), 1_767_225_600);
        assert_eq!(
            schedule_time("2026-01-01T00:00:00Z").unwrap(),
            1_767_225_600
        );
        assert_eq!(
            schedule_time("2026-01-01T01:00:00+01:00").unwrap(),
            1_767_225_600
        );
        assert!(schedule_time("tomorrow-ish").is_err());
    }
}
