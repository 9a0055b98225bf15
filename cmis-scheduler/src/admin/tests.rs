use cmis_core::ErrorKind;
use time::macros::datetime;

use super::health::TokenHealth;
use super::*;

#[test]
fn a_token_needs_a_person_by_its_earliest_hard_deadline() {
    let t = |d: u8| datetime!(2026-06-01 00:00 UTC) + time::Duration::days(i64::from(d));
    let mut h = TokenHealth {
        access_expires_at: Some(t(1)),
        refreshable: true,
        refresh_expires_at: Some(t(30)),
        data_access_expires_at: Some(t(90)),
        scopes: Vec::new(),
    };
    // A refreshable access token expiring tomorrow needs no one: the refresh token does.
    assert_eq!(h.reauthorise_by(), Some(t(30)));
    h.data_access_expires_at = Some(t(5));
    assert_eq!(h.reauthorise_by(), Some(t(5)));
    h.refreshable = false;
    h.data_access_expires_at = None;
    assert_eq!(
        h.reauthorise_by(),
        Some(t(1)),
        "no refresh token: the access token's end"
    );
    h.access_expires_at = None;
    assert_eq!(h.reauthorise_by(), None);
}

#[test]
fn advice_names_what_a_person_does() {
    assert!(advice(ErrorKind::Auth, JobState::AwaitingReauth).starts_with("Re-authorise"));
    assert!(
        advice(ErrorKind::UnknownOutcome, JobState::UnknownOutcome).contains("never sent twice")
    );
    assert!(advice(ErrorKind::Transient, JobState::Missed).contains("reschedule"));
    assert!(advice(ErrorKind::Permission, JobState::Failed).contains("permission"));
}

#[test]
fn a_page_knows_whether_another_follows() {
    assert_eq!(JobQuery::new().page_size(), JobQuery::DEFAULT_LIMIT);
    assert_eq!(JobQuery::new().with_limit(0).page_size(), 1);
    assert_eq!(
        JobQuery::new().with_limit(u32::MAX).page_size(),
        JobQuery::MAX_LIMIT
    );
    let page = JobPage::cut(Vec::new(), 3);
    assert_eq!(page.next, None);
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
#[test]
fn like_patterns_take_wildcards_literally() {
    assert_eq!(sql::like_pattern("50%_a\\B"), "%50\\%\\_a\\\\b%");
}

#[test]
fn a_time_range_includes_its_start_and_excludes_its_end() {
    let a = datetime!(2026-06-01 00:00 UTC);
    let b = datetime!(2026-06-02 00:00 UTC);
    let r = TimeRange::between(a, b);
    assert!(r.contains(a) && !r.contains(b));
    assert!(TimeRange::default().is_open());
    assert!(TimeRange::since(b).contains(b) && !TimeRange::until(a).contains(a));
}
