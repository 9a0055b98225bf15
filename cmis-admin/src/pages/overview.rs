//! The overview: jobs by state and platform, publishes and lateness over the last day, and
//! the accounts that need a person.

use std::fmt::Write as _;

use axum::response::Response;
use cmis_scheduler::JobState;
use cmis_scheduler::admin::{JobQuery, TimeRange};
use time::Duration;

use super::accounts::risk_list;
use super::failure;
use crate::auth::Viewer;
use crate::html::{bars, columns, esc, layout, span};

/// How far ahead an account's deadline makes it "at risk" on the overview.
pub(crate) const AT_RISK_WITHIN: Duration = Duration::days(7);

/// `GET /`.
pub(crate) async fn page(v: Viewer) -> Response {
    let scope = &v.principal.scope;
    let admin = &v.shared.admin;
    let now = v.shared.clock.now();
    let counts = match admin.counts(scope).await {
        Ok(c) => c,
        Err(e) => return failure(&e),
    };
    let day = JobQuery::new()
        .state(JobState::Published)
        .finished(TimeRange::since(now - Duration::days(1)))
        .with_limit(JobQuery::MAX_LIMIT);
    let published = match admin.jobs(scope, &day).await {
        Ok(p) => p,
        Err(e) => return failure(&e),
    };
    let accounts = match admin.accounts_at_risk(scope, now).await {
        Ok(a) => a,
        Err(e) => return failure(&e),
    };

    let mut tiles = String::new();
    // The queue: jobs that run by themselves (those that wait for a person have their tiles).
    let active = [
        JobState::Scheduled,
        JobState::Publishing,
        JobState::Pending,
        JobState::RetryScheduled,
    ];
    let queue: u64 = active.iter().map(|s| counts.state(*s)).sum();
    for (label, n, class, link) in [
        (
            "Waiting to publish",
            queue,
            "",
            "/jobs?state=scheduled,publishing,pending,retry_scheduled",
        ),
        (
            "Published",
            counts.state(JobState::Published),
            "ok",
            "/jobs?state=published",
        ),
        (
            "Failed",
            counts.state(JobState::Failed),
            "bad",
            "/jobs?state=failed",
        ),
        (
            "Unknown outcome",
            counts.state(JobState::UnknownOutcome),
            "warn",
            "/jobs?state=unknown_outcome",
        ),
        (
            "Awaiting re-authorisation",
            counts.state(JobState::AwaitingReauth),
            "warn",
            "/jobs?state=awaiting_reauth",
        ),
    ] {
        let _ = write!(
            tiles,
            "<a class=\"tile {class}\" href=\"{}\"><span class=\"n\">{n}</span><span>{label}</span></a>",
            esc(&v.link(link))
        );
    }

    let by_state: Vec<(String, u64, &str)> = JobState::ALL
        .iter()
        .map(|s| (s.as_str().replace('_', " "), counts.state(*s), s.as_str()))
        .filter(|r| r.1 > 0)
        .collect();
    let by_platform: Vec<(String, u64, &str)> = counts
        .platforms()
        .into_iter()
        .map(|p| (p.as_str().to_owned(), counts.platform(p), "bar"))
        .collect();

    // Publishes per hour over the last 24 hours, and how late they went out.
    let mut hours = [0u64; 24];
    let mut late: Vec<Duration> = Vec::new();
    for j in &published.jobs {
        let ago = now - j.updated_at;
        let h = usize::try_from(ago.whole_hours()).unwrap_or(usize::MAX);
        if h < 24 {
            hours[23 - h] += 1;
        }
        late.push(j.updated_at - j.scheduled_for);
    }
    late.sort();
    let pct = |p: usize| late.get((late.len().saturating_sub(1)) * p / 100).copied();
    let lateness = match (pct(50), pct(95), late.last()) {
        (Some(p50), Some(p95), Some(max)) => format!(
            "<p class=\"lateness\">Lateness over the last day: median {}, p95 {}, worst {} \
             (publishes: {}{})</p>",
            esc(&span(p50)),
            esc(&span(p95)),
            esc(&span(*max)),
            late.len(),
            if published.next.is_some() {
                ", the latest 500"
            } else {
                ""
            }
        ),
        _ => "<p class=\"lateness\">Nothing published in the last day.</p>".to_owned(),
    };

    let at_risk = risk_list(&v, &accounts, now, AT_RISK_WITHIN);
    let body = format!(
        "<section class=\"tiles\">{tiles}</section>\
         <div class=\"grid\"><section><h2>Jobs by state</h2>{}</section>\
         <section><h2>Jobs by platform</h2>{}</section>\
         <section><h2>Published per hour, last 24 h</h2>{}{lateness}</section>\
         <section><h2>Accounts that need a person</h2>{at_risk}</section></div>",
        bars(&by_state),
        bars(&by_platform),
        columns(&hours, "24 h ago", "now", "publishes per hour"),
    );
    layout(&v, "Overview", "Overview", &body)
}
