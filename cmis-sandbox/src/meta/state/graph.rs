//! The Graph conventions the fake Meta's reads share: `fields` and times.
//!
//! - **Fields** (Graph API overview, field expansion): `fields=a,b{c,d}` returns those fields and
//!   the node's `id`; a field Meta does not know is refused with code 100. Without `fields`, a
//!   node or edge returns its default fields. A field may carry modifiers
//!   (`comments.limit(0).summary(true)`); only `summary(true)` changes the answer here: an
//!   edge's `summary` is served only with it.
//! - **Times** (Paginated Results, <https://developers.facebook.com/docs/graph-api/results/>):
//!   `since` and `until` are "a Unix timestamp or strtotime data value"; strtotime values are
//!   taken in their ISO 8601 form only. Graph writes times as `2019-05-17T16:24:04+0000`.

use serde_json::{Map, Value, json};

use super::{GraphError, Params, graph_error, invalid_param};

/// One requested field and its sub-selection: `attachments{media_type,target}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Field {
    pub(crate) name: String,
    pub(crate) sub: Option<Vec<Field>>,
    /// Whether the field carried the `.summary(true)` modifier (field expansion's modifiers,
    /// `comments.limit(0).summary(true)`); an edge's `summary` is served only then.
    pub(crate) summary: bool,
}

fn syntax_error(raw: &str) -> GraphError {
    invalid_param(format!("Syntax error in fields: \"{raw}\""))
}

/// Parses a `fields` value: comma-separated names, each optionally followed by `{...}`.
pub(crate) fn parse_fields(raw: &str) -> Result<Vec<Field>, GraphError> {
    let chars: Vec<char> = raw.chars().collect();
    let mut pos = 0;
    let fields = parse_list(&chars, &mut pos).ok_or_else(|| syntax_error(raw))?;
    if pos != chars.len() {
        return Err(syntax_error(raw));
    }
    Ok(fields)
}

fn parse_list(chars: &[char], pos: &mut usize) -> Option<Vec<Field>> {
    let mut out = Vec::new();
    loop {
        let start = *pos;
        while chars
            .get(*pos)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
        {
            *pos += 1;
        }
        let name: String = chars[start..*pos].iter().collect();
        if name.is_empty() {
            return None;
        }
        // Modifiers: `.limit(0)`, `.summary(true)`, … Only `summary` changes the answer here.
        let mut summary = false;
        while chars.get(*pos) == Some(&'.') {
            *pos += 1;
            let start = *pos;
            while chars
                .get(*pos)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
            {
                *pos += 1;
            }
            let modifier: String = chars[start..*pos].iter().collect();
            if modifier.is_empty() || chars.get(*pos) != Some(&'(') {
                return None;
            }
            let open = *pos + 1;
            let close = open + chars.get(open..)?.iter().position(|c| *c == ')')?;
            let arg: String = chars[open..close].iter().collect();
            summary |= modifier == "summary" && arg.trim() == "true";
            *pos = close + 1;
        }
        let sub = if chars.get(*pos) == Some(&'{') {
            *pos += 1;
            let sub = parse_list(chars, pos)?;
            if chars.get(*pos) != Some(&'}') {
                return None;
            }
            *pos += 1;
            Some(sub)
        } else {
            None
        };
        out.push(Field { name, sub, summary });
        if chars.get(*pos) == Some(&',') {
            *pos += 1;
        } else {
            return Some(out);
        }
    }
}

/// Keeps the selected fields of `value`: an edge (`{"data": [...]}`) keeps them in each item.
pub(crate) fn project(value: &Value, selection: &[Field]) -> Value {
    match value {
        Value::Object(obj) if obj.get("data").is_some_and(Value::is_array) => {
            let items = obj["data"].as_array().map_or_else(Vec::new, |items| {
                items.iter().map(|x| project(x, selection)).collect()
            });
            json!({ "data": items })
        }
        Value::Object(obj) => {
            let mut out = Map::new();
            for f in selection {
                if let Some(v) = obj.get(&f.name) {
                    let mut v = match &f.sub {
                        Some(sub) => project(v, sub),
                        None => v.clone(),
                    };
                    if let Some(edge) = v.as_object_mut().filter(|_| !f.summary) {
                        edge.remove("summary");
                    }
                    out.insert(f.name.clone(), v);
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// The selection for a node of `node_type`: the fields asked for (or the edge's default), known
/// ones only, with `id` always included.
pub(crate) fn selection(
    p: &Params,
    default: &str,
    known: &[&str],
    node_type: &str,
) -> Result<Vec<Field>, GraphError> {
    let raw = p.get("fields").map_or(default, String::as_str);
    let mut fields = parse_fields(raw)?;
    if let Some(unknown) = fields.iter().find(|f| !known.contains(&f.name.as_str())) {
        return Err(graph_error(
            400,
            100,
            None,
            format!(
                "(#100) Tried accessing nonexisting field ({}) on node type ({node_type})",
                unknown.name
            ),
        ));
    }
    if !fields.iter().any(|f| f.name == "id") {
        fields.insert(
            0,
            Field {
                name: "id".into(),
                sub: None,
                summary: false,
            },
        );
    }
    Ok(fields)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01 (H. Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// Graph's time format, as in the Page Feed sample response: `2019-05-17T16:24:04+0000`.
pub(crate) fn graph_time(unix: i64) -> String {
    let (days, secs) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+0000",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

fn number(s: &str) -> Option<i64> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// A `since`/`until` value: Unix seconds, or an ISO 8601 date or date-time (`Z`, `+hhmm` or
/// `+hh:mm`; no offset is UTC).
pub(crate) fn parse_time(raw: &str) -> Option<i64> {
    let raw = raw.trim();
    if let Some(n) = number(raw) {
        return Some(n);
    }
    let (date, rest) = raw.split_at(raw.len().min(10));
    let mut parts = date.split('-');
    let (y, m, d) = (
        number(parts.next()?)?,
        number(parts.next()?)?,
        number(parts.next()?)?,
    );
    if date.len() != 10 || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let mut secs = days_from_civil(y, m, d) * 86_400;
    if rest.is_empty() {
        return Some(secs);
    }
    let rest = rest.strip_prefix('T').or_else(|| rest.strip_prefix(' '))?;
    let (clock, offset) = rest.split_at(rest.len().min(8));
    let mut hms = clock.split(':');
    let (h, min, s) = (
        number(hms.next()?)?,
        number(hms.next()?)?,
        number(hms.next()?)?,
    );
    if clock.len() != 8 || h > 23 || min > 59 || s > 60 {
        return None;
    }
    secs += h * 3600 + min * 60 + s;
    let offset = match offset {
        "" | "Z" => 0,
        o => {
            let sign = match o.get(..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            let digits = o.get(1..)?.replace(':', "");
            if digits.len() != 4 {
                return None;
            }
            let (oh, om) = (number(&digits[..2])?, number(&digits[2..])?);
            sign * (oh * 3600 + om * 60)
        }
    };
    Some(secs - offset)
}

pub(crate) fn time_param(p: &Params, name: &str) -> Result<Option<i64>, GraphError> {
    p.get(name)
        .map(|raw| {
            parse_time(raw).ok_or_else(|| {
                invalid_param(format!(
                    "{name} must be a Unix timestamp or a strtotime value, not \"{raw}\""
                ))
            })
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_times_format_and_parse() {
        assert_eq!(graph_time(0), "1970-01-01T00:00:00+0000");
        assert_eq!(graph_time(1_558_110_244), "2019-05-17T16:24:04+0000");
        assert_eq!(graph_time(951_782_400), "2000-02-29T00:00:00+0000");
        assert_eq!(parse_time("2019-05-17T16:24:04+0000"), Some(1_558_110_244));
        assert_eq!(parse_time("2019-05-17T18:24:04+02:00"), Some(1_558_110_244));
        assert_eq!(parse_time("2019-05-17T16:24:04Z"), Some(1_558_110_244));
        assert_eq!(parse_time("2019-05-17"), Some(1_558_051_200));
        assert_eq!(parse_time("1558110244"), Some(1_558_110_244));
        for bad in [
            "",
            "soon",
            "2019-13-01",
            "2019-05-17T25:00:00",
            "2019-05-17T16:24",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
        for t in [0, 1, 86_399, 1_558_110_244, 4_102_444_800, 1_700_000_000] {
            assert_eq!(parse_time(&graph_time(t)), Some(t));
        }
    }

    #[test]
    fn fields_parse_with_nested_selections() {
        let f = parse_fields("id,attachments{media_type,target{id}},message").unwrap();
        assert_eq!(f.len(), 3);
        assert_eq!(f[1].name, "attachments");
        let sub = f[1].sub.as_ref().unwrap();
        assert_eq!(sub[1].sub.as_ref().unwrap()[0].name, "id");
        for bad in ["", "id,", "a{b", "a}b", "a{}", "a b"] {
            assert!(parse_fields(bad).is_err(), "{bad}");
        }
        let v = json!({ "id": "1", "x": 2, "attachments": { "data": [{ "media_type": "photo", "url": "u" }] } });
        let sel = parse_fields("id,attachments{media_type}").unwrap();
        assert_eq!(
            project(&v, &sel),
            json!({ "id": "1", "attachments": { "data": [{ "media_type": "photo" }] } })
        );
    }
}
