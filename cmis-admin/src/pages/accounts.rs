//! The accounts page: token health, holds, recent failures; and the overview's "at risk" list.

use std::fmt::Write as _;

use axum::response::Response;
use cmis_scheduler::admin::AccountHealth;
use time::{Duration, OffsetDateTime};

use super::failure;
use crate::auth::Viewer;
use crate::html::{esc, layout, span, url_value, when};

/// What a person must do for `h`, in words, and how urgent it is (a CSS class).
pub(crate) fn verdict(h: &AccountHealth, now: OffsetDateTime) -> (String, &'static str) {
    if let Some(reason) = &h.reauth_reason {
        return (format!("Re-authorise now: {reason}"), "bad");
    }
    match h.reauthorise_by {
        Some(by) => {
            let left = by - now;
            let days = left.whole_days();
            let text = if days >= 1 {
                format!(
                    "Re-authorise within {days} day{}",
                    if days == 1 { "" } else { "s" }
                )
            } else {
                format!("Re-authorise within {}", span(left))
            };
            (
                text,
                if left <= Duration::days(7) {
                    "warn"
                } else {
                    "ok"
                },
            )
        }
        None => ("Healthy".to_owned(), "ok"),
    }
}

/// The accounts that need a person within `within`, as a list (or a line saying none does).
pub(crate) fn risk_list(
    v: &Viewer,
    accounts: &[AccountHealth],
    now: OffsetDateTime,
    within: Duration,
) -> String {
    let mut items = String::new();
    for h in accounts.iter().filter(|h| h.at_risk(now, within)) {
        let (text, class) = verdict(h, now);
        let a = &h.account;
        let _ = write!(
            items,
            "<li class=\"{class}\"><a href=\"{}\">{} {}</a> — {}</li>",
            esc(&v.link(&format!(
                "/jobs?platform={}&account={}",
                url_value(a.platform.as_str()),
                url_value(a.account.as_str())
            ))),
            esc(a.platform.as_str()),
            esc(a.account.as_str()),
            esc(&text)
        );
    }
    if items.is_empty() {
        "<p class=\"empty\">No account needs a person this week.</p>".to_owned()
    } else {
        format!("<ul class=\"risk\">{items}</ul>")
    }
}

/// `GET /accounts`.
pub(crate) async fn page(v: Viewer) -> Response {
    let now = v.shared.clock.now();
    let accounts = match v.shared.admin.accounts(&v.principal.scope, now).await {
        Ok(a) => a,
        Err(e) => return failure(&e),
    };
    if accounts.is_empty() {
        return layout(
            &v,
            "Accounts",
            "Accounts",
            "<p class=\"empty\">No account yet.</p>",
        );
    }
    let all = v.principal.scope.tenant_id().is_none();
    let mut rows = String::new();
    for h in &accounts {
        let (text, class) = verdict(h, now);
        let a = &h.account;
        let token = match &h.token {
            None => "no token stored".to_owned(),
            Some(t) => {
                let expiry = t.access_expires_at.map_or_else(
                    || "does not expire".to_owned(),
                    |e| format!("expires {}", when(e)),
                );
                let refresh = match (t.refreshable, t.refresh_expires_at) {
                    (true, Some(e)) => format!("refreshable until {}", when(e)),
                    (true, None) => "refreshable".to_owned(),
                    (false, _) => "not refreshable".to_owned(),
                };
                let data = t
                    .data_access_expires_at
                    .map(|e| format!(", data access until {}", when(e)))
                    .unwrap_or_default();
                format!("{expiry}, {refresh}{data}")
            }
        };
        let refresh = h.activity.last_refresh.as_ref().map_or_else(
            || "—".to_owned(),
            |r| {
                let outcome = if r.ok {
                    "ok".to_owned()
                } else {
                    format!("failed ({})", r.error_kind.as_deref().unwrap_or("?"))
                };
                format!("{} {outcome}", when(r.at))
            },
        );
        let hold = h.activity.hold.map_or_else(
            || "—".to_owned(),
            |hd| {
                format!(
                    "{} until {}",
                    hd.kind.as_str().replace('_', " "),
                    when(hd.until)
                )
            },
        );
        let rate = h
            .failure_rate()
            .map_or_else(|| "—".to_owned(), |r| format!("{:.0} %", r * 100.0));
        let last = h
            .activity
            .last_published_at
            .map_or_else(|| "never".to_owned(), when);
        let tenant = if all {
            format!("<td>{}</td>", esc(a.tenant.as_str()))
        } else {
            String::new()
        };
        let _ = write!(
            rows,
            "<tr class=\"{class}\">{tenant}<td>{} {}</td><td class=\"verdict\">{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{} of {} ({})</td></tr>",
            esc(a.platform.as_str()),
            esc(a.account.as_str()),
            esc(&text),
            esc(&token),
            esc(&refresh),
            esc(&hold),
            esc(&last),
            h.activity.failed,
            h.activity.failed + h.activity.published,
            esc(&rate),
        );
    }
    let tenant_head = if all { "<th>Tenant</th>" } else { "" };
    let body = format!(
        "<div class=\"scroll\"><table class=\"accounts\"><thead><tr>{tenant_head}<th>Account</th>\
         <th>Needs</th><th>Token</th><th>Last refresh</th><th>Hold</th><th>Last publish</th>\
         <th>Failed, 7 days</th></tr></thead><tbody>{rows}</tbody></table></div>"
    );
    layout(&v, "Accounts", "Accounts", &body)
}
