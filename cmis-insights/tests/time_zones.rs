//! Local slots follow the account's clocks, daylight saving included, and a bad zone name is
//! an error, never a panic.

use cmis_insights::{Account, ErrorKind, Slot, Zone};
use time::macros::datetime;
use time::{Duration, OffsetDateTime, Weekday};

fn slot(day: Weekday, hour: u8) -> Slot {
    Slot::at(day, hour).unwrap()
}

#[test]
fn six_pm_in_paris_is_one_slot_in_summer_and_in_winter() {
    let paris = Zone::named("Europe/Paris").unwrap();
    // Tuesday 14 July 2026, 18:00 CEST (UTC+2), and Tuesday 12 January 2027, 18:00 CET (UTC+1).
    let july = paris.slot_of(datetime!(2026-07-14 16:00 UTC)).unwrap();
    let january = paris.slot_of(datetime!(2027-01-12 17:00 UTC)).unwrap();
    assert_eq!(july, slot(Weekday::Tuesday, 18));
    assert_eq!(january, july);
    // The offset a post is stamped with does not matter, only the instant.
    let stamped_in_tokyo = datetime!(2026-07-15 01:00 +9);
    assert_eq!(paris.slot_of(stamped_in_tokyo).unwrap(), july);
    // A fixed offset would have put the January post an hour off.
    assert_ne!(
        Slot::at(
            Weekday::Tuesday,
            datetime!(2027-01-12 17:00 UTC)
                .to_offset(time::macros::offset!(+2))
                .hour()
        ),
        Some(january)
    );
}

#[test]
fn new_york_keeps_its_slots_across_both_changes() {
    let ny = Zone::named("America/New_York").unwrap();
    // Friday 9:00 local: EST (UTC−5) in February, EDT (UTC−4) in April and November's first
    // Friday, EST again in December.
    for instant in [
        datetime!(2026-02-06 14:00 UTC),
        datetime!(2026-04-03 13:00 UTC),
        datetime!(2026-10-30 13:00 UTC),
        datetime!(2026-12-04 14:00 UTC),
    ] {
        assert_eq!(
            ny.slot_of(instant).unwrap(),
            slot(Weekday::Friday, 9),
            "{instant}"
        );
    }
}

#[test]
fn the_spring_forward_gap_is_handled() {
    let paris = Zone::named("Europe/Paris").unwrap();
    // On Sunday 29 March 2026 Paris clocks go from 02:00 CET straight to 03:00 CEST (01:00 UTC).
    // A post stamped with the wall-clock time that never happened, 02:30 at the winter offset,
    // is the instant 01:30 UTC, which Paris clocks showed as 03:30.
    let in_the_gap = datetime!(2026-03-29 02:30 +1);
    assert_eq!(paris.slot_of(in_the_gap).unwrap(), slot(Weekday::Sunday, 3));
    assert_eq!(
        paris.to_local(in_the_gap).unwrap(),
        datetime!(2026-03-29 03:30 +2)
    );
    // Minute by minute through the night, no instant lands in Sunday 02:00.
    let mut t = datetime!(2026-03-28 23:00 UTC);
    let mut seen = Vec::new();
    while t < datetime!(2026-03-29 03:00 UTC) {
        let s = paris.slot_of(t).unwrap();
        if seen.last() != Some(&s) {
            seen.push(s);
        }
        t += Duration::MINUTE;
    }
    assert_eq!(
        seen,
        [
            slot(Weekday::Sunday, 0),
            slot(Weekday::Sunday, 1),
            slot(Weekday::Sunday, 3),
            slot(Weekday::Sunday, 4),
        ]
    );
    // Asked when Sunday 02:00 next comes, the answer skips the night it does not exist.
    let next = paris
        .next_start(slot(Weekday::Sunday, 2), datetime!(2026-03-28 00:00 UTC))
        .unwrap();
    assert_eq!(next, datetime!(2026-04-05 00:00 UTC));
}

#[test]
fn the_fall_back_fold_maps_both_hours_to_one_slot() {
    let paris = Zone::named("Europe/Paris").unwrap();
    // On Sunday 25 October 2026 Paris shows 02:00–03:00 twice: first CEST, then CET.
    let first = datetime!(2026-10-25 00:30 UTC);
    let second = datetime!(2026-10-25 01:30 UTC);
    assert_eq!(paris.slot_of(first).unwrap(), slot(Weekday::Sunday, 2));
    assert_eq!(paris.slot_of(second).unwrap(), slot(Weekday::Sunday, 2));
    let next = paris
        .next_start(slot(Weekday::Sunday, 2), datetime!(2026-10-24 00:00 UTC))
        .unwrap();
    assert_eq!(next, datetime!(2026-10-25 00:00 UTC));
}

#[test]
fn an_unknown_zone_is_a_typed_error() {
    for name in [
        "Europe/Parsi",
        "",
        "CEST",
        "../../etc/passwd",
        &"x".repeat(10_000),
        "Europe/Paris\0",
    ] {
        let err = Account::new("acme", name).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnknownTimeZone, "{name:?}");
        assert!(err.to_string().len() < 200, "the name is echoed, truncated");
    }
    // Case does not matter; the database's spelling is kept.
    assert_eq!(
        Zone::named("america/sao_paulo").unwrap().name(),
        "America/Sao_Paulo"
    );
}

#[test]
fn instants_at_the_ends_of_time_do_not_panic() {
    let sydney = Zone::named("Australia/Sydney").unwrap();
    for instant in [
        OffsetDateTime::UNIX_EPOCH,
        datetime!(-9999-01-01 00:00 UTC),
        datetime!(9999-12-31 23:59:59 UTC),
    ] {
        // An answer or an error, whichever; never a panic.
        let _ = sydney.slot_of(instant);
        let _ = sydney.next_start(slot(Weekday::Monday, 9), instant);
    }
}
