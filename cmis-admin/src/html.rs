//! HTML by hand: every value goes through [`esc`], the layout is one function, the stylesheet
//! is embedded, and every answer carries the security headers.

use std::fmt::Write as _;

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use time::OffsetDateTime;
use time::macros::format_description;

use crate::auth::Viewer;
pub(crate) use crate::plain::{esc, status};

const CSS: &str = include_str!("../assets/admin.css");

/// No script, no inline style, nothing from another origin; forms post only to the dashboard;
/// no framing.
pub(crate) const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// `s` escaped for a URL's query value.
pub(crate) fn url_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// An instant as `2026-06-01 12:00 UTC`.
pub(crate) fn when(t: OffsetDateTime) -> String {
    let fmt = format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    t.to_offset(time::UtcOffset::UTC)
        .format(&fmt)
        .unwrap_or_else(|_| t.to_string())
}

/// A duration as `3 d 4 h`, `5 h 10 min`, `12 min` or `40 s` (negative: `-` first).
pub(crate) fn span(d: time::Duration) -> String {
    let sign = if d.is_negative() { "-" } else { "" };
    let s = d.whole_seconds().unsigned_abs();
    let (days, hours, mins) = (s / 86_400, (s % 86_400) / 3_600, (s % 3_600) / 60);
    if days > 0 {
        format!("{sign}{days} d {hours} h")
    } else if hours > 0 {
        format!("{sign}{hours} h {mins} min")
    } else if mins > 0 {
        format!("{sign}{mins} min")
    } else {
        format!("{sign}{s} s")
    }
}

/// A state's badge.
pub(crate) fn badge(state: &str) -> String {
    format!(
        "<span class=\"badge s-{0}\">{1}</span>",
        esc(state),
        esc(&state.replace('_', " "))
    )
}

/// A whole page: header, navigation (the current section marked), a flash message from the
/// `done` parameter, and `body`.
pub(crate) fn layout(v: &Viewer, section: &str, title: &str, body: &str) -> Response {
    let mut nav = String::new();
    for (path, name) in [
        ("/", "Overview"),
        ("/jobs", "Jobs"),
        ("/accounts", "Accounts"),
        ("/audit", "Audit"),
    ] {
        let current = if name == section {
            " aria-current=\"page\""
        } else {
            ""
        };
        let _ = write!(
            nav,
            "<a href=\"{}\"{current}>{name}</a>",
            esc(&v.link(path))
        );
    }
    let who = match v.principal.scope.tenant_id() {
        Some(t) => format!("{} · tenant {}", esc(&v.principal.actor), esc(t.as_str())),
        None => format!("{} · all tenants", esc(&v.principal.actor)),
    };
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · {product}</title><link rel=\"stylesheet\" href=\"{css}\"></head>\
         <body><header><strong class=\"brand\">{product}</strong><nav>{nav}</nav>\
         <span class=\"who\">{who}</span></header><main><h1>{title}</h1>{body}</main></body></html>",
        title = esc(title),
        product = esc(&v.shared.title),
        css = esc(&v.link("/assets/admin.css")),
    );
    Html(html).into_response()
}

/// 404 for anything the dashboard does not serve (and for another tenant's job).
pub(crate) async fn not_found() -> Response {
    status(StatusCode::NOT_FOUND, "Not found", "There is nothing here.")
}

/// The embedded stylesheet.
pub(crate) async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        CSS,
    )
        .into_response()
}

/// The security headers of every answer: the CSP, no sniffing, no referrer, no framing, and no
/// caching of pages (they show live data of one principal).
pub(crate) async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, k: header::HeaderName, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(h, header::CONTENT_SECURITY_POLICY, CSP);
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::REFERRER_POLICY, "no-referrer");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, header::CACHE_CONTROL, "no-store");
    }
    response
}

/// A hidden CSRF field for a form of `v`.
pub(crate) fn csrf_field(v: &Viewer) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        esc(&v.csrf)
    )
}

/// A horizontal bar chart as inline SVG: `(label, value, class)` rows.
pub(crate) fn bars(rows: &[(String, u64, &str)]) -> String {
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1);
    let row_h = 22;
    let height = row_h * rows.len().max(1);
    let mut svg = format!(
        "<svg class=\"bars\" viewBox=\"0 0 400 {height}\" role=\"img\" aria-label=\"chart\" \
         preserveAspectRatio=\"xMinYMin meet\">"
    );
    for (i, (label, value, class)) in rows.iter().enumerate() {
        let y = i * row_h;
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let w = ((*value as f64 / max as f64) * 230.0).round() as u64;
        let _ = write!(
            svg,
            "<text x=\"0\" y=\"{ty}\" class=\"lbl\">{l}</text>\
             <rect x=\"120\" y=\"{ry}\" width=\"{w}\" height=\"16\" class=\"{c}\"><title>{l}: {value}</title></rect>\
             <text x=\"{vx}\" y=\"{ty}\" class=\"val\">{value}</text>",
            ty = y + 15,
            ry = y + 3,
            l = esc(label),
            c = esc(class),
            vx = 126 + w,
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A column chart as inline SVG: one column per value, labels under the first and last.
pub(crate) fn columns(values: &[u64], first: &str, last: &str, caption: &str) -> String {
    let max = values.iter().copied().max().unwrap_or(0).max(1);
    let n = values.len().max(1);
    let w = 400 / n;
    let mut svg = format!(
        "<svg class=\"cols\" viewBox=\"0 0 400 120\" role=\"img\" aria-label=\"{}\">",
        esc(caption)
    );
    for (i, v) in values.iter().enumerate() {
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let h = ((*v as f64 / max as f64) * 96.0).round() as u64;
        let _ = write!(
            svg,
            "<rect x=\"{x}\" y=\"{y}\" width=\"{bw}\" height=\"{h}\" class=\"bar\"><title>{v}</title></rect>",
            x = i * w,
            y = 100 - h,
            bw = w.saturating_sub(2).max(1),
        );
    }
    let _ = write!(
        svg,
        "<text x=\"0\" y=\"116\" class=\"lbl\">{}</text><text x=\"400\" y=\"116\" class=\"lbl end\">{}</text></svg>",
        esc(first),
        esc(last)
    );
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_text_and_attributes() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(url_value("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
    }

    #[test]
    fn spans_read_as_people_say_them() {
        assert_eq!(span(time::Duration::seconds(40)), "40 s");
        assert_eq!(span(time::Duration::minutes(12)), "12 min");
        assert_eq!(span(time::Duration::minutes(310)), "5 h 10 min");
        assert_eq!(span(time::Duration::hours(76)), "3 d 4 h");
        assert_eq!(span(time::Duration::hours(-2)), "-2 h 0 min");
    }
}
