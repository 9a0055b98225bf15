//! A job's page: what it publishes where, its state, receipt and permalink, last error and what
//! to do, checkpoint stage, timeline, and the changes its state allows.

use std::fmt::Write as _;

use axum::extract::{Path, Query};
use axum::response::Response;
use cmis_scheduler::{JobId, JobState, UserAction};
use serde::Deserialize;

use super::{cut, failure};
use crate::auth::Viewer;
use crate::html::{badge, csrf_field, esc, layout, when};

/// `?done=` after a change.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Done {
    #[serde(default)]
    pub(crate) done: String,
}

/// The message of a change's outcome code (only known codes are shown: a link cannot put
/// words on the page).
pub(crate) fn flash(code: &str) -> Option<String> {
    let fixed = match code {
        "retried" => "Retried: the job runs again now.",
        "reconciling" => "The platform is being checked now; nothing is sent twice.",
        "cancelled" => "Cancelled: it will never publish.",
        "rescheduled" => "Rescheduled.",
        "refused" => "Refused: the job's state does not allow that change now.",
        _ => {
            let (applied, refused) = code.strip_prefix("bulk-")?.split_once('-')?;
            let (applied, refused): (u32, u32) = (applied.parse().ok()?, refused.parse().ok()?);
            return Some(format!(
                "{applied} job(s) changed, {refused} refused by their state."
            ));
        }
    };
    Some(fixed.to_owned())
}

/// `GET /jobs/{id}`.
pub(crate) async fn page(v: Viewer, Path(id): Path<i64>, Query(d): Query<Done>) -> Response {
    let timeline = match v
        .shared
        .admin
        .timeline(&v.principal.scope, JobId::new(id))
        .await
    {
        Ok(Some(t)) => t,
        Ok(None) => return crate::html::not_found().await,
        Err(e) => return failure(&e),
    };
    let j = &timeline.job;
    let mut facts = String::new();
    let mut fact = |k: &str, val: String| {
        let _ = write!(facts, "<dt>{k}</dt><dd>{val}</dd>");
    };
    fact("State", badge(j.state.as_str()));
    fact("Tenant", esc(j.tenant.as_str()));
    fact(
        "Target",
        format!(
            "{} {} · {}",
            esc(j.target.account.platform.as_str()),
            esc(j.target.account.account.as_str()),
            esc(j.target.surface.as_str())
        ),
    );
    fact("Post", esc(j.post_key.as_str()));
    fact("Scheduled for", esc(&when(j.scheduled_for)));
    if let Some(r) = j.run_at {
        fact("Runs next", esc(&when(r)));
    }
    fact("Attempts", j.attempts.to_string());
    if let Some(cp) = &j.checkpoint {
        // The stage only: a checkpoint's data may hold a short-lived upload capability.
        fact(
            "Checkpoint",
            format!("{} at {}", esc(&cp.stage), esc(&when(cp.created_at))),
        );
    }
    if let Some(r) = &j.receipt {
        fact(
            "Platform post id",
            format!("<code>{}</code>", esc(r.post_id.as_str())),
        );
        if let Some(link) = &r.permalink {
            fact(
                "Permalink",
                format!(
                    "<a href=\"{0}\" rel=\"noopener noreferrer\">{0}</a>",
                    esc(link.as_str())
                ),
            );
        }
        fact("Published at", esc(&when(r.published_at)));
    }
    let error = match &j.last_error {
        Some(e) => format!(
            "<section class=\"error\"><h2>Last error</h2><p><span class=\"kind\">{}</span> {}</p>{}</section>",
            esc(e.kind.as_str()),
            esc(&e.message),
            timeline
                .advice
                .map(|a| format!(
                    "<p class=\"advice\"><strong>What to do:</strong> {}</p>",
                    esc(a)
                ))
                .unwrap_or_default()
        ),
        None => String::new(),
    };
    let text = format!(
        "<blockquote class=\"text\">{}</blockquote>",
        esc(&cut(j.post.text_or_empty(), 2000))
    );
    let mut rows = String::new();
    for r in &timeline.records {
        let detail: Vec<String> = r
            .detail
            .iter()
            .map(|(k, val)| format!("{}={}", esc(k), esc(val)))
            .collect();
        let _ = write!(
            rows,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
            esc(&when(r.at)),
            esc(&r.action),
            detail.join(" ")
        );
    }
    let flash = flash(&d.done)
        .map(|m| format!("<p class=\"flash\" role=\"status\">{}</p>", esc(&m)))
        .unwrap_or_default();
    let body = format!(
        "{flash}<dl class=\"facts\">{facts}</dl>{text}{error}{actions}<h2>Timeline</h2>\
         <div class=\"scroll\"><table class=\"timeline\"><thead><tr><th>When</th><th>What</th>\
         <th>Detail</th></tr></thead><tbody>{rows}</tbody></table></div>",
        actions = actions(&v, j.id, j.state),
    );
    layout(&v, "Jobs", &format!("Job #{}", j.id), &body)
}

/// The change buttons the job's state allows.
fn actions(v: &Viewer, id: JobId, state: JobState) -> String {
    if !v.principal.can_change {
        return String::new();
    }
    let form = |path: &str, label: &str, class: &str, extra: &str| {
        format!(
            "<form method=\"post\" action=\"{}\">{}{extra}<button class=\"{class}\" id=\"{path}\">{label}</button></form>",
            esc(&v.link(&format!("/jobs/{id}/{path}"))),
            csrf_field(v)
        )
    };
    let mut out = String::new();
    if state.accepts(UserAction::RetryNow) {
        out.push_str(&form("retry", "Retry now", "", ""));
    }
    if state.accepts(UserAction::Reschedule) {
        out.push_str(&form(
            "reschedule",
            "Reschedule",
            "",
            "<label>New time (UTC)<input type=\"datetime-local\" name=\"at\" required></label>",
        ));
    }
    if state.accepts(UserAction::Cancel) {
        out.push_str(&form("cancel", "Cancel", "danger", ""));
    }
    if out.is_empty() {
        return out;
    }
    format!("<section class=\"actions\"><h2>Change</h2>{out}</section>")
}
