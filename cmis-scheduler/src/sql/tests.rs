//! Statement texts: every placeholder numbered, none skipped, one style per text.

use std::collections::BTreeSet;

use super::Statements;

/// The placeholder numbers in `sql` written with `mark` (`$` or `?`).
fn placeholders(sql: &str, mark: char) -> BTreeSet<usize> {
    let mut found = BTreeSet::new();
    let mut quoted = false;
    for (at, c) in sql.char_indices() {
        if c == '\'' {
            quoted = !quoted;
        }
        if quoted || c != mark {
            continue;
        }
        let digits: String = sql[at + 1..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        // A bare mark (`?` with no number) is numbered 0: never part of 1..=n.
        found.insert(digits.parse().unwrap_or(0));
    }
    found
}

/// Checks one statement: its placeholders are `mark`s numbered 1..=n without a gap, and it
/// uses no other style.
fn check(name: &str, sql: &str, mark: char) {
    let other = if mark == '$' { '?' } else { '$' };
    assert!(
        placeholders(sql, other).is_empty(),
        "{name} mixes placeholder styles: {sql}"
    );
    let numbers = placeholders(sql, mark);
    let expected: BTreeSet<usize> = (1..=numbers.len()).collect();
    assert_eq!(
        numbers, expected,
        "{name} skips a placeholder number: {sql}"
    );
}

fn check_statements(dialect: &str, sql: &Statements, mark: char) {
    for (name, text) in [
        ("insert_job", sql.insert_job),
        ("get_job", sql.get_job),
        ("lock_active", sql.lock_active),
        ("list_jobs", sql.list_jobs),
        ("user_write", sql.user_write),
    ] {
        assert!(!text.trim().is_empty(), "{dialect} has no text for {name}");
        check(&format!("{dialect}.{name}"), text, mark);
    }
}

#[test]
fn shared_statements_number_every_placeholder() {
    let shared = super::credentials::STATEMENTS
        .iter()
        .chain(super::jobs::STATEMENTS);
    let mut n = 0;
    for (name, sql) in shared {
        check(name, sql, '$');
        n += 1;
    }
    assert_eq!(n, 15, "every shared statement is listed");
}

#[cfg(feature = "sqlite")]
#[test]
fn sqlite_statements_number_every_placeholder() {
    use crate::sql::Dialect;
    check_statements("sqlite", &crate::SqliteStore::SQL, '?');
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_statements_number_every_placeholder() {
    use crate::sql::Dialect;
    check_statements("postgres", &crate::PgStore::SQL, '$');
}

#[test]
fn the_checks_can_fail() {
    assert_eq!(
        placeholders("a = $1 AND b = $3", '$'),
        BTreeSet::from([1, 3])
    );
    assert!(placeholders("x = '$1'", '$').is_empty());
    let gap = std::panic::catch_unwind(|| check("gap", "a = $1 AND b = $3", '$'));
    assert!(gap.is_err());
    let mixed = std::panic::catch_unwind(|| check("mixed", "a = $1 AND b = ?2", '$'));
    assert!(mixed.is_err());
    let bare = std::panic::catch_unwind(|| check("bare", "a = ?1 AND b = ?", '?'));
    assert!(bare.is_err());
}
