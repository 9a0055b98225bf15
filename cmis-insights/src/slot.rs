//! Hours of the week in an account's local time ([`Slot`]) and the runs of them that are
//! estimated and recommended ([`Window`]).

use std::fmt;

use time::Weekday;

/// Hours in a week: the number of [`Slot`]s.
pub const HOURS_PER_WEEK: usize = 168;

/// One local hour of the week: slot 0 is Monday 00:00–01:00, slot 167 Sunday 23:00–24:00.
///
/// A post's slot is the hour its account's clocks showed when it went out
/// ([`Zone::slot_of`](crate::Zone::slot_of)), so 18:00 in Paris is the same slot in July and in
/// January.
///
/// ```
/// use cmis_insights::Slot;
/// use time::Weekday;
///
/// let slot = Slot::at(Weekday::Tuesday, 18).unwrap();
/// assert_eq!(slot.index(), 24 + 18);
/// assert_eq!(slot.to_string(), "Tuesday 18:00");
/// assert_eq!(Slot::new(0).unwrap().weekday(), Weekday::Monday);
/// assert!(Slot::new(168).is_none());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slot(u8);

impl Slot {
    /// The slot with this index (0..168), or `None` past the end of the week.
    pub fn new(index: usize) -> Option<Self> {
        u8::try_from(index)
            .ok()
            .filter(|&i| usize::from(i) < HOURS_PER_WEEK)
            .map(Self)
    }

    /// The slot starting at `hour`:00 (0..24) on `weekday`, or `None` for an hour past 23.
    pub fn at(weekday: Weekday, hour: u8) -> Option<Self> {
        if hour >= 24 {
            return None;
        }
        Self::new(usize::from(weekday.number_days_from_monday()) * 24 + usize::from(hour))
    }

    /// The slot `index` hours after Monday 00:00, wrapping round the week.
    pub(crate) fn wrapping(index: usize) -> Self {
        // The remainder is below 168, so it fits.
        #[allow(clippy::cast_possible_truncation)]
        Self((index % HOURS_PER_WEEK) as u8)
    }

    /// Every slot of the week, from Monday 00:00.
    pub fn all() -> impl Iterator<Item = Self> {
        (0..HOURS_PER_WEEK).filter_map(Self::new)
    }

    /// The slot's index: hours since Monday 00:00.
    pub fn index(self) -> usize {
        usize::from(self.0)
    }

    /// The day of the week.
    pub fn weekday(self) -> Weekday {
        Weekday::Monday.nth_next(self.0 / 24)
    }

    /// The local hour the slot starts at (0..24).
    pub fn hour(self) -> u8 {
        self.0 % 24
    }
}

impl fmt::Display for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {:02}:00", self.weekday(), self.hour())
    }
}

/// A run of consecutive [`Slot`]s: the unit the recommender estimates and recommends, 4
/// hours wide by default (168 hourly slots are too sparse for the 30 to 200 posts an account
/// usually has). A window may start at any hour and runs on past midnight, and past the end of
/// the week into Monday.
///
/// ```
/// use cmis_insights::{Slot, Window};
/// use time::Weekday;
///
/// let six_pm = Slot::at(Weekday::Tuesday, 18).unwrap();
/// let evening = Window::starting(six_pm, 4).unwrap();
/// assert!(evening.contains(Slot::at(Weekday::Tuesday, 21).unwrap()));
/// assert!(!evening.contains(Slot::at(Weekday::Tuesday, 22).unwrap()));
/// assert_eq!(evening.to_string(), "Tuesday 18:00–22:00");
/// let late = Window::starting(Slot::at(Weekday::Sunday, 22).unwrap(), 4).unwrap();
/// assert!(late.contains(Slot::at(Weekday::Monday, 1).unwrap()));
/// assert_eq!(late.to_string(), "Sunday 22:00–02:00");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Window {
    start: Slot,
    hours: u8,
}

impl Window {
    /// The window of `hours` (1 to 24) from `start`; `None` for another width.
    pub fn starting(start: Slot, hours: u8) -> Option<Self> {
        (1..=24).contains(&hours).then_some(Self { start, hours })
    }

    /// The window `hours` wide, aligned to local midnight, that holds `slot`; `None` unless
    /// `hours` divides 24.
    pub fn containing(slot: Slot, hours: u8) -> Option<Self> {
        if hours == 0 || 24 % hours != 0 {
            return None;
        }
        Some(Self {
            start: Slot(slot.0 - slot.0 % hours),
            hours,
        })
    }

    /// The one-hour window of `slot`.
    pub(crate) fn single(slot: Slot) -> Self {
        Self {
            start: slot,
            hours: 1,
        }
    }

    /// How many windows of `hours` (which divides 24) aligned to midnight a week has.
    pub(crate) fn per_week(hours: u8) -> usize {
        HOURS_PER_WEEK / usize::from(hours.max(1))
    }

    /// How many of them a day has.
    pub(crate) fn per_day(hours: u8) -> usize {
        24 / usize::from(hours.max(1))
    }

    /// The first slot of the window.
    pub fn start(self) -> Slot {
        self.start
    }

    /// How many hours the window spans.
    pub fn hours(self) -> u8 {
        self.hours
    }

    /// Whether `slot` is one of the window's hours.
    pub fn contains(self, slot: Slot) -> bool {
        self.offset_of(slot) < usize::from(self.hours)
    }

    /// Whether the two windows share an hour.
    pub fn overlaps(self, other: Self) -> bool {
        self.contains(other.start) || other.contains(self.start)
    }

    /// The window's slots, in order.
    pub fn slots(self) -> impl Iterator<Item = Slot> {
        let start = self.start.index();
        (0..usize::from(self.hours)).map(move |i| Slot::wrapping(start + i))
    }

    /// Hours from the window's start to `slot`, going forward round the week.
    fn offset_of(self, slot: Slot) -> usize {
        (slot.index() + HOURS_PER_WEEK - self.start.index()) % HOURS_PER_WEEK
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A window ending at midnight ends at 24:00; one running past it, at the next day's hour.
        let end = u16::from(self.start.hour()) + u16::from(self.hours);
        let end = if end > 24 { end - 24 } else { end };
        write!(f, "{}–{end:02}:00", self.start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_slot_round_trips_through_weekday_and_hour() {
        for slot in Slot::all() {
            assert_eq!(Slot::at(slot.weekday(), slot.hour()), Some(slot));
        }
        assert_eq!(Slot::all().count(), HOURS_PER_WEEK);
        assert_eq!(Slot::new(167).unwrap().to_string(), "Sunday 23:00");
    }

    #[test]
    fn windows_wrap_and_overlap() {
        let at = |i| Slot::new(i).unwrap();
        let w = Window::starting(at(166), 4).unwrap();
        let hours: Vec<usize> = w.slots().map(Slot::index).collect();
        assert_eq!(hours, [166, 167, 0, 1]);
        assert!(w.contains(at(1)) && !w.contains(at(2)) && !w.contains(at(165)));
        assert!(w.overlaps(Window::starting(at(1), 4).unwrap()));
        assert!(!w.overlaps(Window::starting(at(2), 4).unwrap()));
        assert!(Window::starting(at(0), 25).is_none());
        assert!(Window::starting(at(0), 0).is_none());
        assert_eq!(Window::containing(at(19), 4), Window::starting(at(16), 4));
        assert!(Window::containing(at(5), 5).is_none());
        assert_eq!(
            Window::starting(at(20), 4).unwrap().to_string(),
            "Monday 20:00–24:00"
        );
        assert_eq!(
            Window::starting(at(0), 24).unwrap().to_string(),
            "Monday 00:00–24:00"
        );
        assert_eq!(
            Window::starting(at(21), 4).unwrap().to_string(),
            "Monday 21:00–01:00"
        );
    }
}
