//! An account's IANA time zone, and what its clocks showed when a post went out.

use std::fmt;

use time::{OffsetDateTime, UtcOffset};
use tz::TimeZoneRef;

use crate::error::{Error, Result};
use crate::slot::{HOURS_PER_WEEK, Slot};

/// The version of the bundled IANA time zone database, e.g. `2026b`.
pub const TZDATA_VERSION: &str = tzdb_data::VERSION;

/// A time zone of the bundled IANA database, such as `Europe/Paris`: the rules, daylight saving
/// included, that turn a post's instant into its local [`Slot`].
///
/// ```
/// use cmis_insights::{Slot, Zone};
/// use time::Weekday;
/// use time::macros::datetime;
///
/// let paris = Zone::named("Europe/Paris")?;
/// // 16:00 UTC is 18:00 in Paris in July (UTC+2) ...
/// let july = paris.slot_of(datetime!(2026-07-14 16:00 UTC))?;
/// // ... and 17:00 UTC is 18:00 in Paris in January (UTC+1).
/// let january = paris.slot_of(datetime!(2027-01-12 17:00 UTC))?;
/// assert_eq!(july, Slot::at(Weekday::Tuesday, 18).unwrap());
/// assert_eq!(january, july);
/// # Ok::<(), cmis_insights::Error>(())
/// ```
#[derive(Clone, Copy)]
pub struct Zone {
    name: &'static str,
    tz: &'static TimeZoneRef<'static>,
}

impl Zone {
    /// The zone called `name` in the IANA database (case-insensitive, e.g. `Europe/Paris`,
    /// `America/New_York`, `UTC`).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownTimeZone`](crate::ErrorKind::UnknownTimeZone) when no zone has that
    /// name.
    pub fn named(name: &str) -> Result<Self> {
        tzdb_data::find_tz(name.as_bytes())
            .and_then(|tz| {
                // The database's own spelling, whatever case the caller used.
                let canonical = tzdb_data::TZ_NAMES
                    .iter()
                    .find(|n| n.eq_ignore_ascii_case(name))?;
                Some(Self {
                    name: canonical,
                    tz,
                })
            })
            .ok_or_else(|| Error::unknown_time_zone(name))
    }

    /// The zone's IANA name, as the database spells it.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The zone's offset from UTC at `instant`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::OutOfRange`](crate::ErrorKind::OutOfRange) for an instant the rules do not
    /// cover.
    pub fn offset_at(&self, instant: OffsetDateTime) -> Result<UtcOffset> {
        let kind = self
            .tz
            .find_local_time_type(instant.unix_timestamp())
            .map_err(|_| Error::out_of_range(self.name))?;
        UtcOffset::from_whole_seconds(kind.ut_offset()).map_err(|_| Error::out_of_range(self.name))
    }

    /// `instant` as the zone's clocks showed it.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::OutOfRange`](crate::ErrorKind::OutOfRange) for an instant the rules or the
    /// `time` crate do not cover.
    pub fn to_local(&self, instant: OffsetDateTime) -> Result<OffsetDateTime> {
        let offset = self.offset_at(instant)?;
        instant
            .checked_to_offset(offset)
            .ok_or_else(|| Error::out_of_range(self.name))
    }

    /// The local hour of the week at `instant`. The instant's own offset does not matter: a
    /// post stamped `02:30 +01:00` on the night Paris moves to summer time (02:00 to 03:00) went
    /// out at 01:30 UTC, which Paris clocks showed as 03:30, so its slot is Sunday 03:00.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::OutOfRange`](crate::ErrorKind::OutOfRange) as for [`Zone::to_local`].
    pub fn slot_of(&self, instant: OffsetDateTime) -> Result<Slot> {
        let local = self.to_local(instant)?;
        Slot::at(local.weekday(), local.hour()).ok_or_else(|| Error::out_of_range(self.name))
    }

    /// The first instant at or after `after` at which the zone's clocks show the start of
    /// `slot` (minute 0), for turning a recommended slot into a time to publish.
    ///
    /// When the clocks show a slot's start twice (the hour repeated when summer time ends), the
    /// first is returned. When they skip it (the hour lost when summer time starts, such as
    /// Sunday 02:00 in Paris on the last Sunday of March), that week has no such slot and the
    /// answer is a week later.
    ///
    /// ```
    /// use cmis_insights::{Slot, Zone};
    /// use time::Weekday;
    /// use time::macros::datetime;
    ///
    /// let paris = Zone::named("Europe/Paris")?;
    /// let two_am = Slot::at(Weekday::Sunday, 2).unwrap();
    /// // Paris skips 02:00–03:00 on 2026-03-29: the next Sunday 02:00 is on 2026-04-05.
    /// let next = paris.next_start(two_am, datetime!(2026-03-28 12:00 UTC))?;
    /// assert_eq!(next, datetime!(2026-04-05 00:00 UTC));
    /// # Ok::<(), cmis_insights::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::OutOfRange`](crate::ErrorKind::OutOfRange) near the ends of the range the
    /// rules cover, or for a zone whose offset then is not a whole number of quarter hours.
    pub fn next_start(&self, slot: Slot, after: OffsetDateTime) -> Result<OffsetDateTime> {
        // Every offset in use since 1972 is a whole number of quarter hours, so local minute 0
        // always falls on a UTC quarter hour: step through those.
        const STEP: i64 = 15 * 60;
        let after = after.to_offset(UtcOffset::UTC);
        let ts = after.unix_timestamp();
        let first = ts + (STEP - ts.rem_euclid(STEP)) % STEP;
        let first = if first == ts && after.nanosecond() > 0 {
            first + STEP
        } else {
            first
        };
        // Two weeks and a day: a skipped slot recurs within two weeks.
        let steps = (2 * HOURS_PER_WEEK as i64 + 24) * 4;
        for i in 0..steps {
            let candidate = OffsetDateTime::from_unix_timestamp(first + i * STEP)
                .map_err(|_| Error::out_of_range(self.name))?;
            let local = self.to_local(candidate)?;
            if local.minute() == 0 && Slot::at(local.weekday(), local.hour()) == Some(slot) {
                return Ok(candidate);
            }
        }
        Err(Error::out_of_range(self.name))
    }
}

impl fmt::Debug for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Zone").field(&self.name).finish()
    }
}

impl PartialEq for Zone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Zone {}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;
    use time::{Duration, Weekday};

    #[test]
    fn the_repeated_hour_gives_its_first_instant() {
        let paris = Zone::named("europe/paris").unwrap();
        assert_eq!(paris.name(), "Europe/Paris");
        let two_am = Slot::at(Weekday::Sunday, 2).unwrap();
        // 2026-10-25: 03:00 CEST back to 02:00 CET; 02:00 CEST is 00:00 UTC.
        let next = paris
            .next_start(two_am, datetime!(2026-10-24 12:00 UTC))
            .unwrap();
        assert_eq!(next, datetime!(2026-10-25 00:00 UTC));
    }

    #[test]
    fn next_start_is_at_or_after_and_on_the_slot() {
        let ny = Zone::named("America/New_York").unwrap();
        let slot = Slot::at(Weekday::Friday, 9).unwrap();
        let after = datetime!(2026-03-06 14:00 UTC); // Friday 09:00 EST exactly
        assert_eq!(ny.next_start(slot, after).unwrap(), after);
        let later = ny.next_start(slot, after + Duration::SECOND).unwrap();
        assert_eq!(later, datetime!(2026-03-13 13:00 UTC)); // a week on, now EDT
        assert_eq!(ny.slot_of(later).unwrap(), slot);
    }
}
