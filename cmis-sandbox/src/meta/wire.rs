//! How the fake Meta reads a request's parameters, as the Graph API takes them.
//!
//! - **Where**: the query string and the body alike (the Graph API overview: "parameters can be
//!   sent in the query string or in the body"); a body parameter wins over a query parameter of
//!   the same name.
//! - **Bodies**: `application/x-www-form-urlencoded`, `multipart/form-data` (a file field named
//!   `source` is the photo's bytes) and `application/json`, which Meta's own SDKs send (the Node
//!   Business SDK posts every body as JSON: `{"message":"hi","published":false}`). A JSON body's
//!   strings are taken as they are, numbers and booleans as their text (`false`, `1767225600`),
//!   arrays and objects as their JSON text, which is the form Graph documents for list and object
//!   parameters (`children=["a","b"]`, `attached_media=[{"media_fbid":"1"}]`).
//! - **Indexed keys**: `attached_media[0]={"media_fbid":"1"}&attached_media[1]=...` (the form of
//!   the Page Posts guide's multi-photo example) and `children[]=a&children[]=b` are gathered
//!   into one JSON array under the bare name, in index order; items that are JSON objects stay
//!   objects.
//!
//! A body that says it is JSON but is not a JSON object, or a form with a malformed escape, is
//! refused with code 100.

use std::collections::{BTreeMap, HashMap};

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{HeaderMap, header};
use serde_json::Value;

use super::state::{GraphError, Params, graph_error};

/// A request's parameters, its headers, and the size of a multipart `source` file, if any.
#[derive(Debug)]
pub(super) struct Incoming {
    pub(super) headers: HeaderMap,
    pub(super) params: Params,
    pub(super) source: Option<usize>,
}

fn bad_body(what: &str) -> GraphError {
    graph_error(400, 100, None, format!("(#100) {what}"))
}

/// Reads the query string and the body of `request` into parameters.
pub(super) async fn read(request: Request) -> Result<Incoming, GraphError> {
    let headers = request.headers().clone();
    let query = request.uri().query().unwrap_or("").to_owned();
    let mut pairs =
        form_pairs(query.as_bytes()).ok_or_else(|| bad_body("Malformed query string"))?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut source = None;
    if content_type.starts_with("multipart/form-data") {
        let mut multipart = Multipart::from_request(request, &())
            .await
            .map_err(|_| bad_body("Malformed multipart body"))?;
        while let Ok(Some(field)) = multipart.next_field().await {
            let name = field.name().unwrap_or("").to_owned();
            let is_file = field.file_name().is_some();
            let data = field
                .bytes()
                .await
                .map_err(|_| bad_body("Malformed multipart body"))?;
            if name == "source" && is_file {
                source = Some(data.len());
            } else if let Ok(text) = String::from_utf8(data.to_vec()) {
                pairs.push((name, text));
            }
        }
    } else {
        let body = Bytes::from_request(request, &())
            .await
            .map_err(|_| bad_body("The request body could not be read"))?;
        if content_type.starts_with("application/json") {
            pairs.extend(json_pairs(&body)?);
        } else if !body.is_empty() {
            pairs.extend(form_pairs(&body).ok_or_else(|| bad_body("Malformed form body"))?);
        }
    }
    Ok(Incoming {
        headers,
        params: gather(pairs),
        source,
    })
}

/// A JSON body's members as parameters (strings as they are, anything else as its JSON text;
/// `null` is left out). An empty body is no parameters.
fn json_pairs(body: &[u8]) -> Result<Vec<(String, String)>, GraphError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    let value: Value =
        serde_json::from_slice(body).map_err(|_| bad_body("The request body is not valid JSON"))?;
    let Value::Object(members) = value else {
        return Err(bad_body("A JSON request body must be an object"));
    };
    Ok(members
        .into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s,
                other => other.to_string(),
            };
            (k, text)
        })
        .collect())
}

/// `a=1&b=2` as pairs, in order; `None` when not UTF-8 or an escape is malformed.
fn form_pairs(raw: &[u8]) -> Option<Vec<(String, String)>> {
    let text = std::str::from_utf8(raw).ok()?;
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Some((decode(k)?, decode(v)?))
        })
        .collect()
}

/// Decodes one form component: `+` is a space, `%XX` a byte.
fn decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                out.push(u8::from_str_radix(s.get(i + 1..i + 3)?, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Splits `name[3]` into `("name", Some(3))` and `name[]` into `("name", None)`.
fn indexed(key: &str) -> Option<(&str, Option<u64>)> {
    let (name, rest) = key.split_once('[')?;
    let index = rest.strip_suffix(']')?;
    if name.is_empty() {
        return None;
    }
    if index.is_empty() {
        return Some((name, None));
    }
    index.parse().ok().map(|i| (name, Some(i)))
}

/// Pairs into parameters: later pairs win, and indexed keys become one JSON array.
fn gather(pairs: Vec<(String, String)>) -> Params {
    let mut params = HashMap::new();
    let mut lists: BTreeMap<String, Vec<(u64, Value)>> = BTreeMap::new();
    for (key, value) in pairs {
        match indexed(&key) {
            Some((name, index)) => {
                let items = lists.entry(name.to_owned()).or_default();
                let at = index.unwrap_or(u64::try_from(items.len()).unwrap_or(u64::MAX));
                let item = match serde_json::from_str::<Value>(&value) {
                    Ok(v @ Value::Object(_)) => v,
                    _ => Value::String(value),
                };
                items.retain(|(i, _)| *i != at);
                items.push((at, item));
            }
            None => {
                params.insert(key, value);
            }
        }
    }
    for (name, mut items) in lists {
        items.sort_by_key(|(i, _)| *i);
        let array = Value::Array(items.into_iter().map(|(_, v)| v).collect());
        params.insert(name, array.to_string());
    }
    params
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_bodies_keep_strings_and_write_the_rest_as_json() {
        let pairs =
            json_pairs(br#"{"message":"hi","published":false,"children":["1","2"],"n":null}"#)
                .unwrap();
        let p = gather(pairs);
        assert_eq!(p["message"], "hi");
        assert_eq!(p["published"], "false");
        assert_eq!(p["children"], r#"["1","2"]"#);
        assert!(!p.contains_key("n"));
        assert!(json_pairs(b"[1]").is_err());
        assert!(json_pairs(b"{").is_err());
        assert!(json_pairs(b"  ").unwrap().is_empty());
    }

    #[test]
    fn indexed_keys_gather_into_one_array_in_index_order() {
        let pairs = form_pairs(
            b"attached_media%5B1%5D=%7B%22media_fbid%22%3A%222%22%7D&attached_media[0]={\"media_fbid\":\"1\"}&message=a+b",
        )
        .unwrap();
        let p = gather(pairs);
        assert_eq!(
            p["attached_media"],
            r#"[{"media_fbid":"1"},{"media_fbid":"2"}]"#
        );
        assert_eq!(p["message"], "a b");
        let p = gather(form_pairs(b"children[]=7&children[]=8").unwrap());
        assert_eq!(p["children"], r#"["7","8"]"#);
        assert!(form_pairs(b"a=%zz").is_none());
    }
}
