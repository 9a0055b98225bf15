//! The smallest answers: escaping, and a bare page for errors and for someone the dashboard
//! does not serve (nothing of the store, no navigation).

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

/// `s` escaped for HTML text and attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A page for someone the dashboard does not serve (no navigation, nothing of the store).
pub(crate) fn bare(title: &str, message: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t}</title></head><body><main><h1>{t}</h1><p>{m}</p></main></body></html>",
        t = esc(title),
        m = esc(message)
    ))
}

/// An error answer with a short page.
pub(crate) fn status(code: StatusCode, title: &str, message: &str) -> Response {
    (code, bare(title, message)).into_response()
}
