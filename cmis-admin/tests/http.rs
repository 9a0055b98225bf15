//! The dashboard over HTTP (issue 17's must-shows): no router without an Authorizer, a change
//! without its CSRF token is refused, another tenant's job is 404, and no page ever holds a
//! secret; plus the headers every page carries.

#[path = "support/seed.rs"]
mod seed;

use std::sync::Arc;

use cmis_admin::AdminRouter;
use cmis_core::{ErrorKind, TenantId};
use cmis_scheduler::admin::Admin;
use cmis_scheduler::{JobState, MemoryScheduleStore, ScheduleStore};
use reqwest::StatusCode;

fn client() -> reqwest::Client {
    cmis_http::client_builder().unwrap().build().unwrap()
}

/// GET `path` as `user`: status, headers, body.
async fn get(
    addr: std::net::SocketAddr,
    path: &str,
    user: &str,
) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let r = client()
        .get(format!("http://{addr}/admin{path}"))
        .header("x-test-user", user)
        .send()
        .await
        .unwrap();
    let (status, headers) = (r.status(), r.headers().clone());
    (status, headers, r.text().await.unwrap())
}

async fn post(
    addr: std::net::SocketAddr,
    path: &str,
    user: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    client()
        .post(format!("http://{addr}/admin{path}"))
        .header("x-test-user", user)
        .form(form)
        .send()
        .await
        .unwrap()
}

/// The CSRF token in a page's forms.
fn csrf(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .expect("a form with a CSRF token")
        + 19;
    html[at..].split('"').next().unwrap().to_owned()
}

#[test]
fn without_an_authorizer_there_is_no_router() {
    let admin = Admin::new(Arc::new(MemoryScheduleStore::new()));
    let err = AdminRouter::builder(admin).build().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("Authorizer"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_needs_the_viewers_csrf_token() {
    let seeded = seed::seeded().await;
    let addr = seed::serve(&seeded).await;
    let path = format!("/jobs/{}/retry", seeded.failed);
    // No token, a made-up token, and another principal's token: all 403, nothing changed.
    assert_eq!(
        post(addr, &path, "alice", &[]).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(addr, &path, "alice", &[("csrf", "00ff")])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let (_, _, ops_page) = get(addr, &format!("/jobs/{}", seeded.failed), "ops").await;
    let ops_token = csrf(&ops_page);
    assert_eq!(
        post(addr, &path, "alice", &[("csrf", &ops_token)])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let acme = TenantId::new("acme");
    let job = seeded
        .store
        .get(&acme, seeded.failed)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        job.state,
        JobState::Failed,
        "a refused form changes nothing"
    );

    // A read-only viewer sees no form and may not post one.
    let (_, _, viewer_page) = get(addr, &format!("/jobs/{}", seeded.failed), "viewer").await;
    assert!(
        !viewer_page.contains("<form method=\"post\""),
        "no change form for a read-only viewer"
    );

    // The page's own token works: 303 to the job's page, which shows the new state.
    let (_, _, page) = get(addr, &format!("/jobs/{}", seeded.failed), "alice").await;
    let r = post(addr, &path, "alice", &[("csrf", &csrf(&page))]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(
        location,
        format!("/admin/jobs/{}?done=retried", seeded.failed),
        "links follow the mount path"
    );
    let job = seeded
        .store
        .get(&acme, seeded.failed)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.state, JobState::Scheduled);
    let trail = seeded
        .store
        .audit_trail(&acme, Some(seeded.failed))
        .await
        .unwrap();
    let admin = trail
        .iter()
        .find(|r| r.action == "job.admin")
        .expect("the change is audited");
    assert_eq!(admin.detail["actor"], "alice@acme");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_tenants_job_is_not_found() {
    let seeded = seed::seeded().await;
    let addr = seed::serve(&seeded).await;
    let other = seeded.other_tenant;
    let (status, _, body) = get(addr, &format!("/jobs/{other}"), "alice").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!body.contains("globex"), "a 404 says nothing of the job");
    // Its own tenant and the operator see it.
    assert_eq!(
        get(addr, &format!("/jobs/{other}"), "globex").await.0,
        StatusCode::OK
    );
    assert_eq!(
        get(addr, &format!("/jobs/{other}"), "ops").await.0,
        StatusCode::OK
    );
    // A change to it with a valid token of alice's is a 404 too, and changes nothing.
    let (_, _, page) = get(addr, &format!("/jobs/{}", seeded.failed), "alice").await;
    let r = post(
        addr,
        &format!("/jobs/{other}/cancel"),
        "alice",
        &[("csrf", &csrf(&page))],
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let job = seeded
        .store
        .get(&TenantId::new("globex"), other)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.state, JobState::Failed);
    // Lists never show it.
    let (_, _, jobs) = get(addr, "/jobs?state=failed", "alice").await;
    assert!(!jobs.contains("globex") && !jobs.contains(&format!("#{other}<")));
    // Someone the authorizer refuses sees nothing at all.
    let (status, _, body) = get(addr, "", "nobody").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(!body.contains("acme"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_page_holds_a_secret_and_every_page_is_locked_down() {
    let seeded = seed::seeded().await;
    let addr = seed::serve(&seeded).await;
    let mut paths: Vec<String> = [
        "",
        "/jobs",
        "/jobs?state=failed",
        "/accounts",
        "/audit",
        "/audit?tenant=acme",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    for id in [seeded.failed, seeded.published, seeded.reauth] {
        paths.push(format!("/jobs/{id}"));
    }
    for user in ["alice", "ops"] {
        for path in &paths {
            let (status, headers, body) = get(addr, path, user).await;
            assert_eq!(status, StatusCode::OK, "{user} {path}");
            for secret in [seed::ACCESS_SECRET, seed::REFRESH_SECRET] {
                assert!(!body.contains(secret), "{user} {path} shows a token");
            }
            assert!(!body.contains("<script"), "{path}: no script");
            let csp = headers["content-security-policy"].to_str().unwrap();
            assert!(
                csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
                "{csp}"
            );
            assert_eq!(headers["x-content-type-options"], "nosniff");
            assert_eq!(headers["cache-control"], "no-store");
            // Every asset is the dashboard's own.
            assert!(
                !body.contains("http://") && !body.contains("//cdn"),
                "{path}"
            );
        }
    }
    let (status, headers, css) = get(addr, "/assets/admin.css", "alice").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert!(css.contains("@media"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_show_what_an_operator_asks_first() {
    let seeded = seed::seeded().await;
    let addr = seed::serve(&seeded).await;
    let (_, _, overview) = get(addr, "", "alice").await;
    assert!(
        overview.contains("tt-acme"),
        "the account needing re-authorisation is on the overview"
    );
    assert!(overview.contains("Re-authorise now"));
    assert!(
        overview.contains("Re-authorise within 3 days"),
        "Instagram's data access ends in 3 days"
    );
    let (_, _, failed) = get(addr, "/jobs?state=failed", "alice").await;
    assert!(failed.contains("aspect ratio") && !failed.contains("We launched"));
    let (_, _, job) = get(addr, &format!("/jobs/{}", seeded.failed), "alice").await;
    assert!(job.contains("What to do:"), "advice on the error");
    let (_, _, published) = get(addr, &format!("/jobs/{}", seeded.published), "alice").await;
    assert!(
        published.contains("https://www.facebook.com/1001/posts/42")
            && published.contains("1001_42")
    );
    let (_, _, accounts) = get(addr, "/accounts", "alice").await;
    assert!(accounts.contains("quota until"), "the Instagram hold");
    let (_, _, audit) = get(addr, "/audit", "alice").await;
    assert!(audit.contains("hash chain is intact"));
    // A filter the store refuses is a 400 page, not a panic.
    let long = "x".repeat(300);
    assert_eq!(
        get(addr, &format!("/jobs?q={long}"), "alice").await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        get(addr, "/jobs?state=bogus", "alice").await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        get(addr, "/jobs/not-a-number", "alice").await.0,
        StatusCode::BAD_REQUEST
    );
}
