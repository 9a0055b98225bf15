//! Local times in IANA zones: normal times on both sides of a change, gaps and folds in Europe,
//! America and a half-hour change in Australia, the reverse direction, unknown names, and a
//! round trip over every quarter hour of 2026.

use cmis_core::ErrorKind;
use cmis_scheduler::{Disambiguation, LocalTime, TZDATA_VERSION, Zone};
use time::macros::datetime;
use time::{Duration, OffsetDateTime, PrimitiveDateTime};

fn zone(name: &str) -> Zone {
    Zone::named(name).unwrap()
}

/// The instant `local` means when it is unique.
fn unique(z: &Zone, local: PrimitiveDateTime) -> OffsetDateTime {
    match z.resolve(local).unwrap() {
        LocalTime::Unique(at) => at,
        other => panic!("{local} in {z}: {other:?}"),
    }
}

#[test]
fn the_bundled_database_is_named() {
    assert!(TZDATA_VERSION.starts_with("20"), "{TZDATA_VERSION}");
}

#[test]
fn paris_on_both_sides_of_the_spring_change() {
    let paris = zone("Europe/Paris");
    // The day before, winter time; the day of, after the jump, summer time.
    let before = unique(&paris, datetime!(2026-03-28 12:00));
    assert_eq!(before, datetime!(2026-03-28 11:00 UTC));
    assert_eq!(before, datetime!(2026-03-28 12:00 +1));
    assert_eq!(
        unique(&paris, datetime!(2026-03-29 12:00)),
        datetime!(2026-03-29 10:00 UTC)
    );
    // The last second before the jump and the first minute after it.
    assert_eq!(
        unique(&paris, datetime!(2026-03-29 01:59:59)),
        datetime!(2026-03-29 00:59:59 UTC)
    );
    assert_eq!(
        unique(&paris, datetime!(2026-03-29 03:00)),
        datetime!(2026-03-29 01:00 UTC)
    );
    assert_eq!(
        unique(&paris, datetime!(2026-03-29 03:00)).offset(),
        time::macros::offset!(+2)
    );
}

#[test]
fn paris_gap_moves_forward_by_default_and_can_be_refused() {
    let paris = zone("Europe/Paris");
    let skipped = datetime!(2026-03-29 02:30);
    assert_eq!(
        paris.resolve(skipped).unwrap(),
        LocalTime::Gap {
            earlier: datetime!(2026-03-29 01:30 +1),
            later: datetime!(2026-03-29 03:30 +2),
        }
    );
    // Compatible: forward by the gap's length, to 03:30 summer time (01:30 UTC).
    assert_eq!(
        paris.instant(skipped).unwrap(),
        datetime!(2026-03-29 01:30 UTC)
    );
    assert_eq!(
        paris.instant_with(skipped, Disambiguation::Later).unwrap(),
        datetime!(2026-03-29 03:30 +2)
    );
    assert_eq!(
        paris
            .instant_with(skipped, Disambiguation::Earlier)
            .unwrap(),
        datetime!(2026-03-29 00:30 UTC)
    );
    let err = paris
        .instant_with(skipped, Disambiguation::Reject)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(
        err.message(),
        "2026-03-29 02:30 does not exist in Europe/Paris: the clocks jump from 02:00 to 03:00 \
         (UTC offset +01:00 to +02:00); choose Disambiguation::Compatible to move it forward to 03:30"
    );
    // The first instant of the gap is skipped too; the jump's end is not.
    assert!(matches!(
        paris.resolve(datetime!(2026-03-29 02:00)).unwrap(),
        LocalTime::Gap { .. }
    ));
}

#[test]
fn paris_fold_is_the_earlier_instant_by_default() {
    let paris = zone("Europe/Paris");
    let twice = datetime!(2026-10-25 02:30);
    assert_eq!(
        paris.resolve(twice).unwrap(),
        LocalTime::Fold {
            earlier: datetime!(2026-10-25 02:30 +2),
            later: datetime!(2026-10-25 02:30 +1),
        }
    );
    assert_eq!(
        paris.instant(twice).unwrap(),
        datetime!(2026-10-25 00:30 UTC)
    );
    assert_eq!(
        paris.instant_with(twice, Disambiguation::Later).unwrap(),
        datetime!(2026-10-25 01:30 UTC)
    );
    let err = paris
        .instant_with(twice, Disambiguation::Reject)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(
        err.message().contains("happens twice in Europe/Paris"),
        "{err}"
    );
    // Either side of the fold: unique, summer time before, winter time after.
    assert_eq!(
        unique(&paris, datetime!(2026-10-25 01:59)),
        datetime!(2026-10-24 23:59 UTC)
    );
    assert_eq!(
        unique(&paris, datetime!(2026-10-25 03:00)),
        datetime!(2026-10-25 02:00 UTC)
    );
    assert_eq!(
        unique(&paris, datetime!(2026-10-26 12:00)),
        datetime!(2026-10-26 11:00 UTC)
    );
}

#[test]
fn new_york_gap_and_fold() {
    let ny = zone("America/New_York");
    // Spring: 02:00 EST jumps to 03:00 EDT on 2026-03-08.
    assert_eq!(
        unique(&ny, datetime!(2026-03-07 12:00)),
        datetime!(2026-03-07 17:00 UTC)
    );
    assert_eq!(
        unique(&ny, datetime!(2026-03-08 12:00)),
        datetime!(2026-03-08 16:00 UTC)
    );
    assert_eq!(
        ny.resolve(datetime!(2026-03-08 02:30)).unwrap(),
        LocalTime::Gap {
            earlier: datetime!(2026-03-08 01:30 -5),
            later: datetime!(2026-03-08 03:30 -4),
        }
    );
    assert_eq!(
        ny.instant(datetime!(2026-03-08 02:30)).unwrap(),
        datetime!(2026-03-08 07:30 UTC)
    );
    // Autumn: 02:00 EDT goes back to 01:00 EST on 2026-11-01.
    assert_eq!(
        ny.resolve(datetime!(2026-11-01 01:30)).unwrap(),
        LocalTime::Fold {
            earlier: datetime!(2026-11-01 05:30 UTC).to_offset(time::macros::offset!(-4)),
            later: datetime!(2026-11-01 06:30 UTC).to_offset(time::macros::offset!(-5)),
        }
    );
    assert_eq!(
        ny.instant(datetime!(2026-11-01 01:30)).unwrap(),
        datetime!(2026-11-01 05:30 UTC)
    );
    assert_eq!(
        unique(&ny, datetime!(2026-10-31 12:00)),
        datetime!(2026-10-31 16:00 UTC)
    );
    assert_eq!(
        unique(&ny, datetime!(2026-11-01 12:00)),
        datetime!(2026-11-01 17:00 UTC)
    );
    let err = ny
        .instant_with(datetime!(2026-03-08 02:00), Disambiguation::Reject)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.message().contains("jump from 02:00 to 03:00"), "{err}");
}

#[test]
fn lord_howe_moves_its_clocks_by_half_an_hour() {
    // Australia/Lord_Howe: +10:30 in winter, +11:00 in summer; 2026-10-04 02:00 -> 02:30.
    let lh = zone("Australia/Lord_Howe");
    assert_eq!(
        lh.resolve(datetime!(2026-10-04 02:15)).unwrap(),
        LocalTime::Gap {
            earlier: datetime!(2026-10-04 01:45 +10:30),
            later: datetime!(2026-10-04 02:45 +11),
        }
    );
    // 2026-04-05 02:00 +11 -> 01:30 +10:30: 01:45 happens twice.
    assert_eq!(
        lh.resolve(datetime!(2026-04-05 01:45)).unwrap(),
        LocalTime::Fold {
            earlier: datetime!(2026-04-05 01:45 +11),
            later: datetime!(2026-04-05 01:45 +10:30),
        }
    );
}

#[test]
fn instants_back_to_local_time_either_side_of_changes() {
    let paris = zone("Europe/Paris");
    let local = |z: &Zone, at: OffsetDateTime| z.to_local(at).unwrap();
    assert_eq!(
        local(&paris, datetime!(2026-03-29 00:59:59 UTC)),
        datetime!(2026-03-29 01:59:59 +1)
    );
    assert_eq!(
        local(&paris, datetime!(2026-03-29 01:00 UTC)),
        datetime!(2026-03-29 03:00 +2)
    );
    // The fold, seen from the instants: the same wall time twice, at two offsets.
    let first = local(&paris, datetime!(2026-10-25 00:30 UTC));
    let second = local(&paris, datetime!(2026-10-25 01:30 UTC));
    assert_eq!((first.hour(), first.minute()), (2, 30));
    assert_eq!((second.hour(), second.minute()), (2, 30));
    assert_eq!(first.offset().whole_hours(), 2);
    assert_eq!(second.offset().whole_hours(), 1);
    let ny = zone("America/New_York");
    assert_eq!(
        local(&ny, datetime!(2026-03-08 06:59 UTC)),
        datetime!(2026-03-08 01:59 -5)
    );
    assert_eq!(
        local(&ny, datetime!(2026-03-08 07:00 UTC)),
        datetime!(2026-03-08 03:00 -4)
    );
    assert_eq!(
        ny.offset_at(datetime!(2026-11-01 06:00 UTC)).unwrap(),
        time::macros::offset!(-5)
    );
    // An input at any offset names the same instant.
    assert_eq!(
        local(&ny, datetime!(2026-07-01 14:00 +2)),
        datetime!(2026-07-01 08:00 -4)
    );
}

#[test]
fn unknown_zone_names_are_invalid_input() {
    for name in [
        "",
        "Europe/Pariss",
        "Mars/Olympus_Mons",
        "Europe/Paris ",
        "../../etc/passwd",
    ] {
        let err = Zone::named(name).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{name:?}");
        assert!(err.message().contains("unknown time zone"), "{err}");
    }
    let long = "x".repeat(10_000);
    let err = Zone::named(&long).unwrap_err();
    assert!(err.message().len() < 300, "the name is not echoed whole");
    assert_eq!(
        "Nowhere/Land".parse::<Zone>().unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
}

#[test]
fn names_are_case_insensitive_and_come_back_canonical() {
    let z = zone("europe/PARIS");
    assert_eq!(z.name(), "Europe/Paris");
    assert_eq!(z, zone("Europe/Paris"));
    assert_eq!(z.to_string(), "Europe/Paris");
    assert_eq!(format!("{z:?}"), "Zone(\"Europe/Paris\")");
    assert_eq!(
        zone("UTC").instant(datetime!(2026-03-29 02:30)).unwrap(),
        datetime!(2026-03-29 02:30 UTC)
    );
}

#[test]
fn every_quarter_hour_of_2026_round_trips() {
    for name in [
        "Europe/Paris",
        "America/New_York",
        "Australia/Lord_Howe",
        "Asia/Tokyo",
    ] {
        let z = zone(name);
        let (mut gaps_seen, mut folds_seen) = (0, 0);
        let mut at = datetime!(2026-01-01 00:00 UTC);
        while at < datetime!(2027-01-01 00:00 UTC) {
            let shown = z.to_local(at).unwrap();
            assert_eq!(shown, at, "the same instant");
            let wall = PrimitiveDateTime::new(shown.date(), shown.time());
            match z.resolve(wall).unwrap() {
                LocalTime::Unique(back) => assert_eq!(back, at),
                LocalTime::Fold { earlier, later } => {
                    assert!(earlier == at || later == at, "{name} {at}");
                    let back = earlier.offset().whole_seconds() - later.offset().whole_seconds();
                    assert_eq!(later - earlier, Duration::seconds(i64::from(back)));
                    folds_seen += 1;
                }
                LocalTime::Gap { .. } => panic!("{name}: {wall} was shown at {at} but is a gap"),
                other => panic!("{other:?}"),
            }
            // The wall time a quarter hour on, as a user would type it, never fails.
            let next = wall + Duration::minutes(15);
            match z.resolve(next).unwrap() {
                LocalTime::Gap { earlier, later } => {
                    assert!(earlier < later);
                    assert_eq!(z.instant(next).unwrap(), later);
                    gaps_seen += 1;
                }
                LocalTime::Fold { earlier, .. } => assert_eq!(z.instant(next).unwrap(), earlier),
                LocalTime::Unique(t) => assert_eq!(z.instant(next).unwrap(), t),
                other => panic!("{other:?}"),
            }
            at += Duration::minutes(15);
        }
        let changes = name != "Asia/Tokyo";
        assert_eq!(gaps_seen > 0, changes, "{name} gaps");
        assert_eq!(folds_seen > 0, changes, "{name} folds");
    }
}
