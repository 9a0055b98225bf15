//! The audit trail, page by page, with the result of its hash-chain check.

use std::fmt::Write as _;

use axum::extract::Query;
use axum::response::Response;
use cmis_core::TenantId;
use serde::Deserialize;

use super::failure;
use crate::auth::Viewer;
use crate::html::{esc, layout, url_value, when};

/// The page's parameters.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Params {
    /// The tenant (an all-tenants principal chooses one).
    #[serde(default)]
    tenant: String,
    /// The cursor.
    #[serde(default)]
    after: Option<u64>,
}

/// `GET /audit`.
pub(crate) async fn page(v: Viewer, Query(p): Query<Params>) -> Response {
    let tenant = match v.principal.scope.tenant_id() {
        Some(t) => t.clone(),
        None if !p.tenant.is_empty() => TenantId::new(p.tenant.clone()),
        None => {
            let tenants = match v.shared.admin.store().tenants().await {
                Ok(t) => t,
                Err(e) => return failure(&e),
            };
            let mut list = String::new();
            for t in tenants {
                let _ = write!(
                    list,
                    "<li><a href=\"{}\">{}</a></li>",
                    esc(&v.link(&format!("/audit?tenant={}", url_value(t.as_str())))),
                    esc(t.as_str())
                );
            }
            return layout(
                &v,
                "Audit",
                "Audit",
                &format!("<p>Choose a tenant:</p><ul>{list}</ul>"),
            );
        }
    };
    let store = v.shared.admin.store();
    let verdict = match store.verify_audit(&tenant).await {
        Ok(r) if r.problems.is_empty() => format!(
            "<p class=\"verified ok\" role=\"status\">The trail's hash chain is intact ({} records checked).</p>",
            r.records
        ),
        Ok(r) => {
            let mut items = String::new();
            for problem in r.problems.iter().take(20) {
                let _ = write!(items, "<li>{}</li>", esc(&problem.to_string()));
            }
            format!(
                "<div class=\"verified bad\" role=\"alert\"><p>The trail was changed behind the \
                 store's back ({} problem(s)):</p><ul>{items}</ul></div>",
                r.problems.len()
            )
        }
        Err(e) if e.kind() == cmis_core::ErrorKind::Unsupported => {
            "<p class=\"verified\">This store keeps no hash chain to check.</p>".to_owned()
        }
        Err(e) => return failure(&e),
    };
    let trail = match store.audit_page(&tenant, None, p.after, 100).await {
        Ok(t) => t,
        Err(e) => return failure(&e),
    };
    let mut rows = String::new();
    for r in &trail.records {
        let account = r
            .account
            .as_ref()
            .map(|a| format!("{} {}", a.platform.as_str(), a.account.as_str()))
            .unwrap_or_default();
        let detail: Vec<String> = r
            .detail
            .iter()
            .map(|(k, val)| format!("{k}={val}"))
            .collect();
        let _ = write!(
            rows,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&when(r.at)),
            esc(&r.action),
            esc(&account),
            esc(r.subject.as_deref().unwrap_or("")),
            esc(&detail.join(" "))
        );
    }
    let more = trail.next.map_or_else(String::new, |n| {
        format!(
            "<p class=\"pager\"><a href=\"{}\">Later records →</a></p>",
            esc(&v.link(&format!(
                "/audit?tenant={}&after={n}",
                url_value(tenant.as_str())
            )))
        )
    });
    let body = format!(
        "{verdict}<div class=\"scroll\"><table class=\"audit\"><thead><tr><th>When</th><th>What</th>\
         <th>Account</th><th>Subject</th><th>Detail</th></tr></thead><tbody>{rows}</tbody></table></div>{more}"
    );
    layout(&v, "Audit", &format!("Audit · {}", tenant.as_str()), &body)
}
