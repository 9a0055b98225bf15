//! The changes (POST only): each needs the viewer's CSRF token and the right to change, goes
//! through the store's own operation (audited, refused where the job's state does not allow
//! it), and answers with a redirect to the page that shows the result.

use axum::extract::{Form, Path};
use axum::http::StatusCode;
use axum::http::header::LOCATION;
use axum::response::{IntoResponse, Response};
use cmis_core::ErrorKind;
use cmis_scheduler::JobId;
use cmis_scheduler::admin::{Admin, BulkAction};
use serde::Deserialize;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::auth::Viewer;
use crate::html::{status, url_value};
use crate::pages::failure;
use crate::pages::jobs::Filter;

/// A change's form: the CSRF token, and the new time of a reschedule.
#[derive(Debug, Deserialize)]
pub(crate) struct ChangeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    at: String,
}

/// A bulk change's form: the CSRF token, the action, and the jobs page's filter.
#[derive(Debug, Deserialize)]
pub(crate) struct BulkForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    action: String,
    #[serde(flatten)]
    filter: Filter,
}

/// A 403 answer unless the viewer may change jobs and sent their own CSRF token.
fn refused(v: &Viewer, csrf: &str) -> Option<Response> {
    if !v.csrf_ok(csrf) {
        return Some(status(
            StatusCode::FORBIDDEN,
            "Refused",
            "This form is stale or came from another site: reload the page and try again.",
        ));
    }
    if !v.principal.can_change {
        return Some(status(
            StatusCode::FORBIDDEN,
            "Refused",
            "You may look but not change jobs.",
        ));
    }
    None
}

fn see_other(location: String) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, location)]).into_response()
}

/// Runs one change on job `id` of the viewer's scope and redirects to its page.
async fn change(v: Viewer, id: i64, csrf: &str, action: BulkAction) -> Response {
    if let Some(r) = refused(&v, csrf) {
        return r;
    }
    let admin: &Admin = &v.shared.admin;
    let job = match admin
        .store()
        .find_job(&v.principal.scope, JobId::new(id))
        .await
    {
        Ok(Some(j)) => j,
        Ok(None) => return crate::html::not_found().await,
        Err(e) => return failure(&e),
    };
    let reconciles = job.state == cmis_scheduler::JobState::UnknownOutcome;
    let code = match admin.change(&job, action, &v.principal.actor).await {
        Ok(true) => match action {
            BulkAction::Retry if reconciles => "reconciling",
            BulkAction::Retry => "retried",
            BulkAction::Cancel => "cancelled",
            BulkAction::Reschedule(_) => "rescheduled",
            _ => "refused",
        },
        Ok(false) => "refused",
        Err(e) => return failure(&e),
    };
    see_other(v.link(&format!("/jobs/{id}?done={code}")))
}

/// `POST /jobs/{id}/retry`.
pub(crate) async fn retry(v: Viewer, Path(id): Path<i64>, Form(f): Form<ChangeForm>) -> Response {
    change(v, id, &f.csrf, BulkAction::Retry).await
}

/// `POST /jobs/{id}/cancel`.
pub(crate) async fn cancel(v: Viewer, Path(id): Path<i64>, Form(f): Form<ChangeForm>) -> Response {
    change(v, id, &f.csrf, BulkAction::Cancel).await
}

/// `POST /jobs/{id}/reschedule` with `at` as `YYYY-MM-DDTHH:MM` (UTC).
pub(crate) async fn reschedule(
    v: Viewer,
    Path(id): Path<i64>,
    Form(f): Form<ChangeForm>,
) -> Response {
    if let Some(r) = refused(&v, &f.csrf) {
        return r;
    }
    let Some(at) = parse_local(&f.at) else {
        return status(
            StatusCode::BAD_REQUEST,
            "Bad time",
            "The new time must be a date and time such as 2026-06-01T18:30 (UTC).",
        );
    };
    change(v, id, &f.csrf, BulkAction::Reschedule(at)).await
}

/// `POST /bulk`: the action on every job of the filter, up to [`Admin::MAX_BULK`].
pub(crate) async fn bulk(v: Viewer, Form(f): Form<BulkForm>) -> Response {
    if let Some(r) = refused(&v, &f.csrf) {
        return r;
    }
    let action = match f.action.as_str() {
        "retry" => BulkAction::Retry,
        "cancel" => BulkAction::Cancel,
        _ => {
            return status(
                StatusCode::BAD_REQUEST,
                "Bad action",
                "Choose retry or cancel.",
            );
        }
    };
    let mut filter = f.filter;
    filter.before.clear();
    let query = match filter.query() {
        Ok(q) => q,
        Err(e) => return status(StatusCode::BAD_REQUEST, "Bad filter", &e),
    };
    let out = match v
        .shared
        .admin
        .bulk(
            &v.principal.scope,
            &query,
            action,
            Admin::MAX_BULK,
            &v.principal.actor,
        )
        .await
    {
        Ok(o) => o,
        Err(e) if e.kind() == ErrorKind::InvalidInput => {
            return status(StatusCode::BAD_REQUEST, "Bad filter", &e.to_string());
        }
        Err(e) => return failure(&e),
    };
    let params: String = filter
        .pairs()
        .iter()
        .map(|(k, val)| format!("&{k}={}", url_value(val)))
        .collect();
    see_other(v.link(&format!(
        "/jobs?done=bulk-{}-{}{params}",
        out.applied.len(),
        out.refused.len()
    )))
}

/// A `datetime-local` value (`YYYY-MM-DDTHH:MM`, seconds optional) as a UTC instant.
fn parse_local(s: &str) -> Option<OffsetDateTime> {
    let minutes = format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let seconds = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    PrimitiveDateTime::parse(s.trim(), &minutes)
        .or_else(|_| PrimitiveDateTime::parse(s.trim(), &seconds))
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_datetime_local_value_is_read_as_utc() {
        let t = parse_local("2026-06-01T18:30").unwrap();
        assert_eq!(t, time::macros::datetime!(2026-06-01 18:30 UTC));
        assert!(parse_local("2026-06-01T18:30:15").is_some());
        assert!(parse_local("tomorrow").is_none());
        assert!(parse_local("2026-13-01T18:30").is_none());
    }
}
