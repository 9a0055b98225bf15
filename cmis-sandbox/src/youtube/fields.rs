//! Google's `fields` parameter, the partial response (YouTube getting-started, "Partial
//! resources"; Google's "Performance tips"): a comma-separated selection of properties, where
//! `a/b` selects `b` inside `a`, `a(b,c)` selects `b` and `c` inside `a`, and `*` selects every
//! property. A selection inside an array applies to each element, so `items(id,status)` keeps
//! `id` and `status` of every item. Properties the selection does not name are left out.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::state::{YtError, google};

/// One selected property and, when it selects inside it, what.
#[derive(Debug, Clone)]
struct Field {
    name: String,
    sub: Option<Vec<Field>>,
}

#[derive(Debug)]
struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn list(&mut self) -> Option<Vec<Field>> {
        let mut out = vec![self.field()?];
        while self.peek() == Some(b',') {
            self.i += 1;
            out.push(self.field()?);
        }
        Some(out)
    }

    fn field(&mut self) -> Option<Field> {
        let start = self.i;
        while let Some(c) = self.peek() {
            if matches!(c, b',' | b'(' | b')' | b'/') {
                break;
            }
            self.i += 1;
        }
        let name = std::str::from_utf8(self.s.get(start..self.i)?)
            .ok()?
            .trim()
            .to_owned();
        if name.is_empty() {
            return None;
        }
        let sub = match self.peek() {
            Some(b'/') => {
                self.i += 1;
                Some(vec![self.field()?])
            }
            Some(b'(') => {
                self.i += 1;
                let list = self.list()?;
                if self.peek() != Some(b')') {
                    return None;
                }
                self.i += 1;
                Some(list)
            }
            _ => None,
        };
        Some(Field { name, sub })
    }
}

fn parse(s: &str) -> Option<Vec<Field>> {
    let mut p = Parser {
        s: s.as_bytes(),
        i: 0,
    };
    let list = p.list()?;
    (p.i == s.len()).then_some(list)
}

/// Puts `new` into `out` under `key`, merging with what an earlier selection put there
/// (`items/id,items/status`).
fn merge(out: &mut Map<String, Value>, key: &str, new: Value) {
    if let Some(old) = out.get_mut(key) {
        match (old, new) {
            (Value::Object(o), Value::Object(n)) => {
                for (k, v) in n {
                    merge(o, &k, v);
                }
            }
            (Value::Array(o), Value::Array(n)) if o.len() == n.len() => {
                for (o, n) in o.iter_mut().zip(n) {
                    if let (Value::Object(o), Value::Object(n)) = (o, n) {
                        for (k, v) in n {
                            merge(o, &k, v);
                        }
                    }
                }
            }
            (old, new) => *old = new,
        }
        return;
    }
    out.insert(key.to_owned(), new);
}

fn apply(v: &Value, fields: &[Field]) -> Value {
    match v {
        Value::Array(items) => Value::Array(items.iter().map(|e| apply(e, fields)).collect()),
        Value::Object(o) => {
            let mut out = Map::new();
            for f in fields {
                let pick = |val: &Value| {
                    f.sub
                        .as_ref()
                        .map_or_else(|| val.clone(), |s| apply(val, s))
                };
                if f.name == "*" {
                    for (k, val) in o {
                        merge(&mut out, k, pick(val));
                    }
                } else if let Some(val) = o.get(&f.name) {
                    merge(&mut out, &f.name, pick(val));
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// `v` as the `fields` query parameter selects it (all of it without one). A selection that
/// does not parse gets 400 `invalidParameter` (constructed body; Google's wording is "Invalid
/// field selection").
pub(crate) fn select(q: &HashMap<String, String>, v: Value) -> Result<Value, YtError> {
    let Some(spec) = q.get("fields").map(|f| f.trim()).filter(|f| !f.is_empty()) else {
        return Ok(v);
    };
    let fields = parse(spec).ok_or_else(|| {
        google(
            400,
            "global",
            "invalidParameter",
            &format!("Invalid field selection {spec}"),
            Some(("fields", "parameter")),
        )
    })?;
    Ok(apply(&v, &fields))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn sel(spec: &str, v: Value) -> Value {
        apply(&v, &parse(spec).unwrap())
    }

    #[test]
    fn selections_follow_googles_syntax() {
        let v = json!({"kind":"k","etag":"e","items":[{"id":"a","status":{"uploadStatus":"processed","privacyStatus":"private"},"snippet":{"title":"t"}}]});
        assert_eq!(
            sel("items(id,status/uploadStatus)", v.clone()),
            json!({"items":[{"id":"a","status":{"uploadStatus":"processed"}}]})
        );
        assert_eq!(
            sel("items/id,items/snippet", v.clone()),
            json!({"items":[{"id":"a","snippet":{"title":"t"}}]})
        );
        assert_eq!(sel("kind,etag", v.clone()), json!({"kind":"k","etag":"e"}));
        assert_eq!(sel("items/*/title", v)["items"][0]["snippet"]["title"], "t");
        assert!(parse("items(id").is_none());
        assert!(parse("items,,id").is_none());
    }
}
