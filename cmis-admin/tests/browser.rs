//! The dashboard in a real browser (issue 17's must-show): headless Chromium, driven through
//! chromedriver, opens the overview, filters failed jobs, opens one, retries it and sees its
//! state change, sees the account that needs re-authorisation, and cannot reach another
//! tenant's job. Screenshots go to `<target>/debug/screenshots/cmis-admin/`.
//!
//! Without Chromium the test is skipped, except in CI (`CI` set), where it fails.

#[path = "support/seed.rs"]
mod seed;
#[path = "support/webdriver.rs"]
mod webdriver;

use std::path::PathBuf;
use std::time::Duration;

use cmis_core::TenantId;
use cmis_scheduler::{JobState, ScheduleStore};

const WAIT: Duration = Duration::from_secs(15);

/// `<target>/debug/screenshots/cmis-admin/NAME.png` (the test binary is in `<target>/debug/deps`).
fn shot(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let debug = exe.parent().and_then(|p| p.parent()).unwrap().to_path_buf();
    debug
        .join("screenshots")
        .join("cmis-admin")
        .join(format!("{name}.png"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_finds_a_failed_job_retries_it_and_sees_the_account_to_reauthorise() {
    let Some(chrome) = webdriver::Chrome::start_or_skip().await else {
        return;
    };
    let seeded = seed::seeded().await;
    let addr = seed::serve(&seeded).await;
    let base = format!("http://{addr}/admin");

    // The overview: counts, charts, and the accounts that need a person.
    chrome.goto(&base).await.unwrap();
    chrome.wait_for_text("h1", "Overview", WAIT).await.unwrap();
    let risk = chrome
        .wait_for("ul.risk", WAIT)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        risk.contains("tt-acme") && risk.contains("Re-authorise now"),
        "{risk}"
    );
    assert!(risk.contains("Re-authorise within 3 days"), "{risk}");
    chrome.screenshot(shot("1-overview")).await.unwrap();

    // Jobs, filtered to the failed ones through the form.
    chrome
        .find("header nav a[href$='/jobs']")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    chrome.wait_for("form.filters", WAIT).await.unwrap();
    chrome
        .find("select[name=state] option[value=failed]")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    chrome.find("#apply").await.unwrap().click().await.unwrap();
    let table = chrome
        .wait_for_text("table.jobs", "aspect ratio", WAIT)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!table.contains("We launched"), "only failed jobs: {table}");
    assert!(!table.contains("globex"), "never another tenant's: {table}");
    assert!(chrome.current_url().await.unwrap().contains("state=failed"));
    chrome.screenshot(shot("2-jobs-failed")).await.unwrap();

    // Open the failed job: its error, what to do, its timeline.
    let link = format!("table.jobs a[href$='/jobs/{}']", seeded.failed);
    chrome.find(&link).await.unwrap().click().await.unwrap();
    chrome
        .wait_for_text("h1", &format!("Job #{}", seeded.failed), WAIT)
        .await
        .unwrap();
    let error = chrome
        .find("section.error")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        error.contains("aspect ratio") && error.contains("What to do"),
        "{error}"
    );
    assert_eq!(
        chrome
            .find("dl.facts .badge")
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "failed"
    );
    chrome.screenshot(shot("3-job-failed")).await.unwrap();

    // Retry it: the page comes back with the new state, and the store agrees.
    chrome
        .find("button#retry")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    chrome
        .wait_for_text(".flash", "Retried", WAIT)
        .await
        .unwrap();
    assert_eq!(
        chrome
            .find("dl.facts .badge")
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "scheduled"
    );
    let timeline = chrome
        .find("table.timeline")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        timeline.contains("job.retry_now") && timeline.contains("actor=alice@acme"),
        "{timeline}"
    );
    let job = seeded
        .store
        .get(&TenantId::new("acme"), seeded.failed)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.state, JobState::Scheduled);
    chrome.screenshot(shot("4-job-retried")).await.unwrap();

    // Accounts: the TikTok account must be re-authorised now.
    chrome
        .find("header nav a[href$='/accounts']")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let row = chrome
        .wait_for_text("table.accounts tr.bad", "tt-acme", WAIT)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(row.contains("Re-authorise now"), "{row}");
    chrome.screenshot(shot("5-accounts")).await.unwrap();

    // Another tenant's job is not reachable, even by its URL.
    chrome
        .goto(&format!("{base}/jobs/{}", seeded.other_tenant))
        .await
        .unwrap();
    chrome.wait_for_text("h1", "Not found", WAIT).await.unwrap();
    let source = chrome.page_source().await.unwrap();
    assert!(!source.contains("globex") && !source.contains("Globex"));

    // On a phone: nothing wider than the screen.
    chrome.set_window_size(390, 844).await.unwrap();
    chrome.goto(&base).await.unwrap();
    chrome.wait_for_text("h1", "Overview", WAIT).await.unwrap();
    let fits = chrome
        .execute(
            "return document.documentElement.scrollWidth <= window.innerWidth",
            Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(
        fits,
        serde_json::Value::Bool(true),
        "the overview fits a phone"
    );
    chrome.screenshot(shot("6-overview-phone")).await.unwrap();
    chrome
        .goto(&format!("{base}/jobs/{}", seeded.reauth))
        .await
        .unwrap();
    chrome.wait_for("dl.facts", WAIT).await.unwrap();
    chrome.screenshot(shot("7-job-phone")).await.unwrap();

    // Nothing was blocked by the Content-Security-Policy and nothing failed to load (the
    // browser's own favicon request is the embedding app's, and the 404 above was asked for).
    let other_job = format!("/jobs/{} ", seeded.other_tenant);
    let errors: Vec<String> = chrome
        .console_errors()
        .await
        .unwrap()
        .into_iter()
        .filter(|e| !e.contains("favicon.ico") && !e.contains(&other_job))
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    chrome.quit().await.unwrap();
}
