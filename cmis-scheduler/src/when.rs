//! Local times in IANA time zones: what a wall-clock time in a zone means as an instant, and
//! what an instant shows on the zone's clocks.
//!
//! The store schedules instants ([`OffsetDateTime`]); users think in local time. Twice a year
//! in most zones a local time is not one instant: when clocks jump forward (a *gap*) some local
//! times never happen, and when they go back (a *fold*) some happen twice. [`Zone::resolve`]
//! says which case a time is, [`Zone::instant`] picks the usual answer, and
//! [`Zone::instant_with`] lets the caller choose.
//!
//! The time zone rules are the IANA database bundled into the program ([`TZDATA_VERSION`]), so
//! results do not depend on the machine's `/usr/share/zoneinfo` and are the same everywhere.

use std::fmt;
use std::str::FromStr;

use cmis_core::{Error, Result};
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};
use tz::TimeZoneRef;
use tz::datetime::{DateTime, FoundDateTimeKind};

/// The version of the bundled IANA time zone database, e.g. `2026b`.
pub const TZDATA_VERSION: &str = tzdb_data::VERSION;

/// Longest zone name echoed back in an error.
const MAX_ECHOED_NAME: usize = 64;

/// A time zone of the IANA database, such as `Europe/Paris` or `America/New_York`.
///
/// ```
/// # mod cmis { pub use cmis_core::*; pub mod scheduler { pub use cmis_scheduler::*; } }
/// use cmis::scheduler::Zone;
/// use time::macros::{datetime, offset};
///
/// let paris = Zone::named("Europe/Paris")?;
/// // 9:00 on a summer morning in Paris is 7:00 UTC.
/// let at = paris.instant(datetime!(2026-07-14 09:00))?;
/// assert_eq!(at, datetime!(2026-07-14 07:00 UTC));
/// assert_eq!(at.offset(), offset!(+2));
/// // And back: what the clocks in Paris show at that instant.
/// assert_eq!(paris.to_local(datetime!(2026-07-14 07:00 UTC))?, datetime!(2026-07-14 09:00 +2));
/// // Pass the instant to `ScheduleStore::schedule`.
/// # Ok::<(), cmis::Error>(())
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
    /// [`ErrorKind::InvalidInput`](cmis_core::ErrorKind::InvalidInput) when no zone has that
    /// name (abbreviations such as `CET` or `EST` are not zones, except the few the database
    /// itself keeps for compatibility).
    pub fn named(name: &str) -> Result<Self> {
        let found = tzdb_data::find_tz(name.as_bytes()).and_then(|tz| {
            // The database's own spelling, whatever case the caller used.
            let canonical = tzdb_data::TZ_NAMES
                .iter()
                .find(|n| n.eq_ignore_ascii_case(name))?;
            Some(Self {
                name: canonical,
                tz,
            })
        });
        found.ok_or_else(|| {
            let shown: String = name.chars().take(MAX_ECHOED_NAME).collect();
            Error::invalid_input(format!(
                "unknown time zone {shown:?}: use an IANA name such as \"Europe/Paris\" or \"America/New_York\""
            ))
        })
    }

    /// The zone's IANA name, as the database spells it.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The zone's offset from UTC at `instant`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](cmis_core::ErrorKind::InvalidInput) for an instant outside
    /// the range the rules cover.
    pub fn offset_at(&self, instant: OffsetDateTime) -> Result<UtcOffset> {
        let kind = self
            .tz
            .find_local_time_type(instant.unix_timestamp())
            .map_err(|_| out_of_range(self.name))?;
        offset(kind.ut_offset(), self.name)
    }

    /// The same instant as the zone's clocks show it: `.date()` and `.time()` of the result are
    /// the local date and time, `.offset()` the zone's offset then.
    ///
    /// ```
    /// # mod cmis { pub use cmis_core::*; pub mod scheduler { pub use cmis_scheduler::*; } }
    /// use cmis::scheduler::Zone;
    /// use time::macros::datetime;
    ///
    /// let new_york = Zone::named("America/New_York")?;
    /// let local = new_york.to_local(datetime!(2026-11-01 05:30 UTC))?;
    /// assert_eq!((local.date(), local.time()), (datetime!(2026-11-01 01:30).date(), datetime!(2026-11-01 01:30).time()));
    /// assert_eq!(local.offset().whole_hours(), -4); // still daylight time: the first 01:30
    /// # Ok::<(), cmis::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](cmis_core::ErrorKind::InvalidInput) for an instant outside
    /// the range the rules or the `time` crate cover.
    pub fn to_local(&self, instant: OffsetDateTime) -> Result<OffsetDateTime> {
        let offset = self.offset_at(instant)?;
        instant
            .checked_to_offset(offset)
            .ok_or_else(|| out_of_range(self.name))
    }

    /// What the wall-clock time `local` means in this zone: one instant, two (a fold), or none
    /// (a gap).
    ///
    /// ```
    /// # mod cmis { pub use cmis_core::*; pub mod scheduler { pub use cmis_scheduler::*; } }
    /// use cmis::scheduler::{LocalTime, Zone};
    /// use time::macros::datetime;
    ///
    /// let paris = Zone::named("Europe/Paris")?;
    /// // On 2026-03-29 the clocks in Paris go from 02:00 straight to 03:00.
    /// assert_eq!(
    ///     paris.resolve(datetime!(2026-03-29 02:30))?,
    ///     LocalTime::Gap {
    ///         earlier: datetime!(2026-03-29 01:30 +1),
    ///         later: datetime!(2026-03-29 03:30 +2),
    ///     }
    /// );
    /// // On 2026-10-25 they go from 03:00 back to 02:00: 02:30 happens twice.
    /// assert_eq!(
    ///     paris.resolve(datetime!(2026-10-25 02:30))?,
    ///     LocalTime::Fold {
    ///         earlier: datetime!(2026-10-25 02:30 +2),
    ///         later: datetime!(2026-10-25 02:30 +1),
    ///     }
    /// );
    /// # Ok::<(), cmis::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](cmis_core::ErrorKind::InvalidInput) for a time outside the
    /// range the rules cover.
    pub fn resolve(&self, local: PrimitiveDateTime) -> Result<LocalTime> {
        Ok(self.find(local)?.0)
    }

    /// The instant the wall-clock time `local` means here, by the usual rule
    /// ([`Disambiguation::Compatible`], as in RFC 5545, JavaScript's Temporal and most
    /// calendars): a time that happens twice is the **earlier** instant, and a time the clocks
    /// skip is moved **forward** by the length of the gap (02:30 on the night the clocks jump
    /// from 02:00 to 03:00 is 03:30). A post scheduled for a skipped time thus still goes out,
    /// as soon as the clock time exists plus the same distance, instead of failing. Use
    /// [`instant_with`](Self::instant_with) and [`Disambiguation::Reject`] to refuse such times.
    ///
    /// ```
    /// # mod cmis { pub use cmis_core::*; pub mod scheduler { pub use cmis_scheduler::*; } }
    /// use cmis::scheduler::Zone;
    /// use time::macros::datetime;
    ///
    /// let paris = Zone::named("Europe/Paris")?;
    /// assert_eq!(paris.instant(datetime!(2026-03-29 02:30))?, datetime!(2026-03-29 03:30 +2));
    /// assert_eq!(paris.instant(datetime!(2026-10-25 02:30))?, datetime!(2026-10-25 02:30 +2));
    /// # Ok::<(), cmis::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](cmis_core::ErrorKind::InvalidInput) for a time outside the
    /// range the rules cover.
    pub fn instant(&self, local: PrimitiveDateTime) -> Result<OffsetDateTime> {
        self.instant_with(local, Disambiguation::Compatible)
    }

    /// The instant the wall-clock time `local` means here, with gaps and folds settled by
    /// `rule`.
    ///
    /// ```
    /// # mod cmis { pub use cmis_core::*; pub mod scheduler { pub use cmis_scheduler::*; } }
    /// use cmis::ErrorKind;
    /// use cmis::scheduler::{Disambiguation, Zone};
    /// use time::macros::datetime;
    ///
    /// let new_york = Zone::named("America/New_York")?;
    /// let twice = datetime!(2026-11-01 01:30);
    /// assert_eq!(new_york.instant_with(twice, Disambiguation::Earlier)?, datetime!(2026-11-01 01:30 -4));
    /// assert_eq!(new_york.instant_with(twice, Disambiguation::Later)?, datetime!(2026-11-01 01:30 -5));
    /// let err = new_york.instant_with(twice, Disambiguation::Reject).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidInput);
    /// # Ok::<(), cmis::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](cmis_core::ErrorKind::InvalidInput) for a gap or a fold under
    /// [`Disambiguation::Reject`] (the message says which, and how the clocks change), and for
    /// a time outside the range the rules cover.
    pub fn instant_with(
        &self,
        local: PrimitiveDateTime,
        rule: Disambiguation,
    ) -> Result<OffsetDateTime> {
        let (meaning, jump) = self.find(local)?;
        match (meaning, rule) {
            (LocalTime::Unique(at), _) => Ok(at),
            (
                LocalTime::Fold { earlier, .. },
                Disambiguation::Compatible | Disambiguation::Earlier,
            )
            | (LocalTime::Gap { earlier, .. }, Disambiguation::Earlier) => Ok(earlier),
            (LocalTime::Fold { later, .. }, Disambiguation::Later)
            | (LocalTime::Gap { later, .. }, Disambiguation::Compatible | Disambiguation::Later) => {
                Ok(later)
            }
            (LocalTime::Fold { earlier, later }, Disambiguation::Reject) => {
                Err(Error::invalid_input(format!(
                    "{} happens twice in {}: first at UTC offset {}, again at {} after the clocks \
                     go back; choose Disambiguation::Earlier or Later",
                    show(local),
                    self.name,
                    show_offset(earlier.offset()),
                    show_offset(later.offset()),
                )))
            }
            (LocalTime::Gap { earlier, later }, Disambiguation::Reject) => {
                let clocks = jump.map_or_else(String::new, |(from, to)| {
                    format!(" jump from {} to {}", show_time(from), show_time(to))
                });
                Err(Error::invalid_input(format!(
                    "{} does not exist in {}: the clocks{clocks} (UTC offset {} to {}); \
                     choose Disambiguation::Compatible to move it forward to {}",
                    show(local),
                    self.name,
                    show_offset(earlier.offset()),
                    show_offset(later.offset()),
                    show_time(later),
                )))
            }
        }
    }

    /// What `local` means, and for a gap the instant the clocks jump, as they show it before
    /// and after the jump.
    fn find(
        &self,
        local: PrimitiveDateTime,
    ) -> Result<(LocalTime, Option<(OffsetDateTime, OffsetDateTime)>)> {
        // A local time has at most two meanings (a gap or a fold); room for more costs nothing.
        let mut found = [None; 4];
        let list = DateTime::find_n(
            &mut found,
            local.year(),
            u8::from(local.month()),
            local.day(),
            local.hour(),
            local.minute(),
            local.second(),
            local.nanosecond(),
            *self.tz,
        )
        .map_err(|_| out_of_range(self.name))?;
        let count = list.count();
        let kinds: Vec<FoundDateTimeKind> = list.data().iter().flatten().copied().collect();
        if count != kinds.len() {
            return Err(Error::internal(format!(
                "{count} meanings of one local time in {}",
                self.name
            )));
        }
        match kinds.as_slice() {
            [FoundDateTimeKind::Normal(one)] => {
                Ok((LocalTime::Unique(self.instant_of(one)?), None))
            }
            [
                FoundDateTimeKind::Normal(first),
                FoundDateTimeKind::Normal(second),
            ] => {
                let (a, b) = (self.instant_of(first)?, self.instant_of(second)?);
                let fold = LocalTime::Fold {
                    earlier: a.min(b),
                    later: a.max(b),
                };
                Ok((fold, None))
            }
            [
                FoundDateTimeKind::Skipped {
                    before_transition,
                    after_transition,
                },
            ] => {
                // Read with the offset after the jump, the time lands before the jump; read
                // with the offset before it, after: each the gap's length from the time asked.
                let before = before_transition.local_time_type().ut_offset();
                let after = after_transition.local_time_type().ut_offset();
                let (a, b) = (
                    self.read_with(local, after)?,
                    self.read_with(local, before)?,
                );
                let gap = LocalTime::Gap {
                    earlier: a.min(b),
                    later: a.max(b),
                };
                let jump = (
                    self.instant_of(before_transition)?,
                    self.instant_of(after_transition)?,
                );
                Ok((gap, Some(jump)))
            }
            [] => Err(out_of_range(self.name)),
            _ => Err(Error::internal(format!(
                "a local time in {} resolved to an unexpected shape",
                self.name
            ))),
        }
    }

    /// `found` as an instant at its own offset.
    fn instant_of(&self, found: &DateTime) -> Result<OffsetDateTime> {
        let offset = offset(found.local_time_type().ut_offset(), self.name)?;
        OffsetDateTime::from_unix_timestamp(found.unix_time())
            .and_then(|t| t.replace_nanosecond(found.nanoseconds()))
            .map_err(|_| out_of_range(self.name))?
            .checked_to_offset(offset)
            .ok_or_else(|| out_of_range(self.name))
    }

    /// `local` read at a UTC offset of `seconds`, shown at the zone's offset at that instant.
    fn read_with(&self, local: PrimitiveDateTime, seconds: i32) -> Result<OffsetDateTime> {
        let at = local
            .assume_utc()
            .checked_sub(time::Duration::seconds(i64::from(seconds)))
            .ok_or_else(|| out_of_range(self.name))?;
        self.to_local(at)
    }
}

/// What a wall-clock time means in a [`Zone`] (see [`Zone::resolve`]). Every instant is shown
/// at the zone's offset at that instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LocalTime {
    /// The time happens once.
    Unique(OffsetDateTime),
    /// The clocks went back over this time, so it happens twice.
    Fold {
        /// The first time it happens (at the offset before the change).
        earlier: OffsetDateTime,
        /// The second time (at the offset after the change).
        later: OffsetDateTime,
    },
    /// The clocks jumped over this time, so it never happens. The two readings of it, at the
    /// offset in force after the jump and before it, fall either side of the jump, each the
    /// gap's length from the time asked for.
    Gap {
        /// The time moved back by the gap's length (shown in the offset before the jump).
        earlier: OffsetDateTime,
        /// The time moved forward by the gap's length (shown in the offset after the jump).
        later: OffsetDateTime,
    },
}

/// How [`Zone::instant_with`] settles a wall-clock time that happens twice or never.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Disambiguation {
    /// A fold is its earlier instant, a gap is moved forward by its length (RFC 5545,
    /// Temporal's `compatible`); what [`Zone::instant`] does.
    #[default]
    Compatible,
    /// The earlier instant for a fold; for a gap, the time moved back by the gap's length.
    Earlier,
    /// The later instant for a fold; for a gap, the time moved forward by the gap's length.
    Later,
    /// Neither: a fold or a gap is an
    /// [`ErrorKind::InvalidInput`](cmis_core::ErrorKind::InvalidInput) error.
    Reject,
}

impl fmt::Debug for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Zone").field(&self.name).finish()
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

impl PartialEq for Zone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Zone {}

impl FromStr for Zone {
    type Err = Error;

    fn from_str(name: &str) -> Result<Self> {
        Self::named(name)
    }
}

fn offset(seconds: i32, zone: &str) -> Result<UtcOffset> {
    UtcOffset::from_whole_seconds(seconds)
        .map_err(|_| Error::internal(format!("{zone} has an offset of {seconds} s")))
}

fn out_of_range(zone: &str) -> Error {
    Error::invalid_input(format!(
        "the time is outside the range the {zone} rules cover"
    ))
}

/// `+01:00` (seconds only when present).
fn show_offset(offset: UtcOffset) -> String {
    let (h, m, s) = offset.as_hms();
    let sign = if offset.is_negative() { '-' } else { '+' };
    let mut out = format!("{sign}{:02}:{:02}", h.unsigned_abs(), m.unsigned_abs());
    if s != 0 {
        out.push_str(&format!(":{:02}", s.unsigned_abs()));
    }
    out
}

/// The wall-clock time of `at` to the minute, `02:00`.
fn show_time(at: OffsetDateTime) -> String {
    format!("{:02}:{:02}", at.hour(), at.minute())
}

/// `2026-03-29 02:30` (seconds and fractions only when present).
fn show(local: PrimitiveDateTime) -> String {
    let (h, m, s, ns) = local.as_hms_nano();
    let mut out = format!("{} {h:02}:{m:02}", local.date());
    if s != 0 || ns != 0 {
        out.push_str(&format!(":{s:02}"));
    }
    if ns != 0 {
        out.push_str(&format!(".{ns:09}"));
    }
    out
}
