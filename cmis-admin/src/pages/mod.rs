//! The dashboard's pages (GET only: nothing here changes anything).

pub(crate) mod accounts;
pub(crate) mod audit;
pub(crate) mod job;
pub(crate) mod jobs;
pub(crate) mod overview;

use axum::http::StatusCode;
use axum::response::Response;
use cmis_core::Error;
use cmis_scheduler::Job;

use crate::auth::Viewer;
use crate::html::{badge, esc, status, when};

/// A store error as a page: its kind and message (errors never hold a secret), 500 or 400.
pub(crate) fn failure(e: &Error) -> Response {
    tracing::warn!(kind = %e.kind(), "dashboard: {e}");
    let code = if e.kind() == cmis_core::ErrorKind::InvalidInput {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    };
    status(code, "Something went wrong", &e.to_string())
}

/// The first `n` characters of `s`, with `…` when cut.
pub(crate) fn cut(s: &str, n: usize) -> String {
    let mut out: String = s.chars().take(n).collect();
    if s.chars().count() > n {
        out.push('…');
    }
    out
}

/// A table of jobs, each linking to its page.
pub(crate) fn job_table(v: &Viewer, jobs: &[Job]) -> String {
    if jobs.is_empty() {
        return "<p class=\"empty\">No job matches.</p>".to_owned();
    }
    let all = v.principal.scope.tenant_id().is_none();
    let mut rows = String::new();
    for j in jobs {
        let error = j
            .last_error
            .as_ref()
            .map(|e| {
                format!(
                    "<span class=\"kind\">{}</span> {}",
                    esc(e.kind.as_str()),
                    esc(&cut(&e.message, 80))
                )
            })
            .unwrap_or_default();
        let tenant = if all {
            format!("<td>{}</td>", esc(j.tenant.as_str()))
        } else {
            String::new()
        };
        rows.push_str(&format!(
            "<tr><td><a href=\"{link}\">#{id}</a></td>{tenant}<td>{state}</td><td>{platform}</td>\
             <td>{account}</td><td>{post}</td><td>{at}</td><td class=\"err\">{error}</td></tr>",
            link = esc(&v.link(&format!("/jobs/{}", j.id))),
            id = j.id,
            state = badge(j.state.as_str()),
            platform = esc(j.target.account.platform.as_str()),
            account = esc(j.target.account.account.as_str()),
            post = esc(&cut(j.post.text_or_empty(), 48)),
            at = esc(&when(j.scheduled_for)),
        ));
    }
    let tenant_head = if all { "<th>Tenant</th>" } else { "" };
    format!(
        "<div class=\"scroll\"><table class=\"jobs\"><thead><tr><th>Job</th>{tenant_head}<th>State</th>\
         <th>Platform</th><th>Account</th><th>Post</th><th>Scheduled</th><th>Last error</th></tr></thead>\
         <tbody>{rows}</tbody></table></div>"
    )
}
