//! The jobs page: filters, newest first, keyset pages, and bulk actions on the filter.

use axum::extract::Query;
use axum::response::Response;
use cmis_core::{ErrorKind, Platform, PostKey};
use cmis_scheduler::admin::JobQuery;
use cmis_scheduler::{JobId, JobState};
use serde::Deserialize;

use super::{failure, job_table};
use crate::auth::Viewer;
use crate::html::{csrf_field, esc, layout, url_value};

/// The filter, as the form sends it (every field optional; an empty field is no filter).
#[derive(Debug, Default, Clone, Deserialize)]
pub(crate) struct Filter {
    #[serde(default)]
    pub(crate) state: String,
    #[serde(default)]
    pub(crate) platform: String,
    #[serde(default)]
    pub(crate) account: String,
    #[serde(default)]
    pub(crate) kind: String,
    #[serde(default)]
    pub(crate) q: String,
    #[serde(default)]
    pub(crate) post: String,
    #[serde(default)]
    pub(crate) before: String,
    #[serde(default)]
    pub(crate) done: String,
}

impl Filter {
    /// The store's query for this filter, or what is wrong with it.
    pub(crate) fn query(&self) -> Result<JobQuery, String> {
        let mut q = JobQuery::new();
        // One state from the form; several, comma-separated, from a link.
        for state in self.state.split(',').filter(|s| !s.is_empty()) {
            q = q.state(
                state
                    .parse::<JobState>()
                    .map_err(|_| format!("no state {state:?}"))?,
            );
        }
        if !self.platform.is_empty() {
            let p: Platform = self
                .platform
                .parse()
                .map_err(|_| format!("no platform {:?}", self.platform))?;
            q = q.platform(p);
        }
        if !self.account.trim().is_empty() {
            q = q.account(self.account.trim());
        }
        if !self.kind.is_empty() {
            let k: ErrorKind = self
                .kind
                .parse()
                .map_err(|_| format!("no error kind {:?}", self.kind))?;
            q = q.error_kind(k);
        }
        if !self.q.trim().is_empty() {
            q = q.error_text(self.q.trim());
        }
        if !self.post.trim().is_empty() {
            q = q.post(PostKey::new(self.post.trim()));
        }
        if !self.before.is_empty() {
            let id: i64 = self
                .before
                .parse()
                .map_err(|_| "a bad page cursor".to_owned())?;
            q = q.before(JobId::new(id));
        }
        Ok(q)
    }

    /// The filter's parameters (the cursor left out), for links and hidden fields.
    pub(crate) fn pairs(&self) -> Vec<(&'static str, &str)> {
        [
            ("state", self.state.as_str()),
            ("platform", self.platform.as_str()),
            ("account", self.account.as_str()),
            ("kind", self.kind.as_str()),
            ("q", self.q.as_str()),
            ("post", self.post.as_str()),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .collect()
    }
}

fn select(name: &str, label: &str, options: &[&str], current: &str) -> String {
    let mut s = format!("<label>{label}<select name=\"{name}\"><option value=\"\">any</option>");
    for o in options {
        let sel = if *o == current { " selected" } else { "" };
        s.push_str(&format!(
            "<option value=\"{0}\"{sel}>{1}</option>",
            esc(o),
            esc(&o.replace('_', " "))
        ));
    }
    s.push_str("</select></label>");
    s
}

/// `GET /jobs`.
pub(crate) async fn page(v: Viewer, Query(f): Query<Filter>) -> Response {
    let query = match f.query() {
        Ok(q) => q,
        Err(e) => {
            return crate::html::status(axum::http::StatusCode::BAD_REQUEST, "Bad filter", &e);
        }
    };
    let result = match v.shared.admin.jobs(&v.principal.scope, &query).await {
        Ok(r) => r,
        Err(e) => return failure(&e),
    };
    let states: Vec<&str> = JobState::ALL.iter().map(|s| s.as_str()).collect();
    let platforms: Vec<&str> = Platform::ALL.iter().map(|p| p.as_str()).collect();
    let kinds: Vec<&str> = ErrorKind::ALL.iter().map(|k| k.as_str()).collect();
    let form = format!(
        "<form method=\"get\" action=\"{action}\" class=\"filters\" role=\"search\">{state}{platform}\
         <label>Account<input name=\"account\" value=\"{account}\"></label>{kind}\
         <label>Error text<input name=\"q\" value=\"{q}\"></label>\
         <label>Post<input name=\"post\" value=\"{post}\"></label>\
         <button type=\"submit\" id=\"apply\">Filter</button></form>",
        action = esc(&v.link("/jobs")),
        state = select("state", "State", &states, &f.state),
        platform = select("platform", "Platform", &platforms, &f.platform),
        account = esc(&f.account),
        kind = select("kind", "Error kind", &kinds, &f.kind),
        q = esc(&f.q),
        post = esc(&f.post),
    );
    let params: String = f
        .pairs()
        .iter()
        .map(|(k, val)| format!("&{k}={}", url_value(val)))
        .collect();
    let more = match result.next {
        Some(next) => format!(
            "<p class=\"pager\"><a id=\"older\" href=\"{}\">Older jobs →</a></p>",
            esc(&v.link(&format!("/jobs?before={next}{params}")))
        ),
        None => String::new(),
    };
    let flash = if f.done.is_empty() {
        String::new()
    } else {
        format!("<p class=\"flash\" role=\"status\">{}</p>", esc(&f.done))
    };
    let bulk = if v.principal.can_change && !result.jobs.is_empty() {
        let hidden: String = f
            .pairs()
            .iter()
            .map(|(k, val)| {
                format!(
                    "<input type=\"hidden\" name=\"{k}\" value=\"{}\">",
                    esc(val)
                )
            })
            .collect();
        format!(
            "<form method=\"post\" action=\"{action}\" class=\"bulk\">{csrf}{hidden}\
             <span>Every job of this filter (up to 1 000):</span>\
             <button name=\"action\" value=\"retry\">Retry</button>\
             <button name=\"action\" value=\"cancel\" class=\"danger\">Cancel</button></form>",
            action = esc(&v.link("/bulk")),
            csrf = csrf_field(&v),
        )
    } else {
        String::new()
    };
    let body = format!("{flash}{form}{}{more}{bulk}", job_table(&v, &result.jobs));
    layout(&v, "Jobs", "Jobs", &body)
}
