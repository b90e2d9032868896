//! ISO 8601 weeks, seen from a deployment's time zone.
//!
//! Weekly shortfall reports are keyed by ISO week ("2023-W31"): weeks start
//! on Monday, and week 1 of an ISO year is the week holding that year's first
//! Thursday, so 1 January can belong to week 52 or 53 of the year before and
//! 29–31 December to week 1 of the next. Which week an instant falls in
//! depends on the deployment's time zone ([`DEFAULT_TIME_ZONE`] is
//! Asia/Yerevan): the week is that of the instant's *local* date.
//!
//! Supported ISO years are [`MIN_YEAR`]`..=`[`MAX_YEAR`] (0001–9999), the
//! years the four-digit `YYYY-Www` key can spell.

use std::fmt;
use std::str::FromStr;

use chrono::{
    DateTime, Datelike, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta,
    TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::quantity::Kg;

/// Time zone of a deployment that does not name one.
pub const DEFAULT_TIME_ZONE: Tz = chrono_tz::Asia::Yerevan;

/// Day of the week on which weekly reports are published unless configured otherwise.
pub const DEFAULT_PUBLICATION_WEEKDAY: Weekday = Weekday::Mon;

/// Earliest supported ISO year.
pub const MIN_YEAR: i32 = 1;

/// Latest supported ISO year.
pub const MAX_YEAR: i32 = 9999;

/// What a malformed week key is told to look like.
const EXPECTED_FORMAT: &str = "use YYYY-Www, like 2023-W31";

/// An ISO 8601 week: an ISO year and a week number within it.
///
/// Always valid: the year lies in [`MIN_YEAR`]`..=`[`MAX_YEAR`] and the week
/// in `1..=`[`weeks_in_year`]`(year)`. Ordering is chronological.
///
/// Serialized as `{"year": 2023, "week": 31}`; deserializing validates the
/// same way as [`IsoWeek::new`]. Use [`IsoWeek::key`] for the text form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "IsoWeekFields")]
pub struct IsoWeek {
    year: i32,
    week: u32,
}

/// The unvalidated shape [`IsoWeek`] is deserialized from.
#[derive(Deserialize)]
struct IsoWeekFields {
    year: i32,
    week: u32,
}

impl TryFrom<IsoWeekFields> for IsoWeek {
    type Error = WeekError;

    fn try_from(fields: IsoWeekFields) -> Result<Self, Self::Error> {
        IsoWeek::new(fields.year, fields.week)
    }
}

/// Why a week could not be built or parsed. The messages are meant for users.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum WeekError {
    /// The text is not of the form `YYYY-Www`.
    #[error("invalid ISO week {input:?}: {EXPECTED_FORMAT}")]
    InvalidFormat {
        /// The text as given.
        input: String,
    },
    /// The year is outside [`MIN_YEAR`]`..=`[`MAX_YEAR`].
    #[error("ISO year {year} is not supported: use a year from 0001 to 9999, like 2023-W31")]
    YearOutOfRange {
        /// The year as given.
        year: i32,
    },
    /// The week number is 0 or past the last week of its year.
    #[error("{year:04}-W{week:02} does not exist: ISO year {year:04} has weeks 01 to {weeks_in_year:02}")]
    WeekOutOfRange {
        /// The ISO year as given.
        year: i32,
        /// The week number as given.
        week: u32,
        /// How many weeks that year has (52 or 53).
        weeks_in_year: u32,
    },
}

impl IsoWeek {
    /// The first supported week, 0001-W01 (Monday 0001-01-01 to Sunday 0001-01-07).
    pub const MIN: IsoWeek = IsoWeek {
        year: MIN_YEAR,
        week: 1,
    };

    /// The last supported week, 9999-W52.
    pub const MAX: IsoWeek = IsoWeek {
        year: MAX_YEAR,
        week: weeks_in_year(MAX_YEAR),
    };

    /// Week `week` of ISO year `year`.
    ///
    /// Fails unless `year` is in [`MIN_YEAR`]`..=`[`MAX_YEAR`] and `week` in
    /// `1..=`[`weeks_in_year`]`(year)`.
    pub fn new(year: i32, week: u32) -> Result<IsoWeek, WeekError> {
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
            return Err(WeekError::YearOutOfRange { year });
        }
        let weeks = weeks_in_year(year);
        if !(1..=weeks).contains(&week) {
            return Err(WeekError::WeekOutOfRange {
                year,
                week,
                weeks_in_year: weeks,
            });
        }
        Ok(IsoWeek { year, week })
    }

    /// Parses a week key of exactly the form `YYYY-Www`, such as `2023-W31`
    /// (a lowercase `w` is accepted too). No surrounding spaces, signs or
    /// one-digit weeks.
    pub fn parse(s: &str) -> Result<IsoWeek, WeekError> {
        let b = s.as_bytes();
        let well_formed = b.len() == 8
            && b[..4].iter().all(u8::is_ascii_digit)
            && b[4] == b'-'
            && (b[5] == b'W' || b[5] == b'w')
            && b[6..].iter().all(u8::is_ascii_digit);
        if !well_formed {
            return Err(WeekError::InvalidFormat {
                input: s.to_owned(),
            });
        }
        let number = |digits: &[u8]| {
            digits
                .iter()
                .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'))
        };
        // At most four digits, so the year fits an i32 without loss.
        IsoWeek::new(number(&b[..4]) as i32, number(&b[6..]))
    }

    /// The ISO year (which differs from the calendar year for some days
    /// around 1 January).
    pub fn year(self) -> i32 {
        self.year
    }

    /// The week number within the ISO year, from 1.
    pub fn week(self) -> u32 {
        self.week
    }

    /// The week a calendar date belongs to.
    ///
    /// Dates whose ISO year is outside [`MIN_YEAR`]`..=`[`MAX_YEAR`] give
    /// [`IsoWeek::MIN`] or [`IsoWeek::MAX`], the nearest supported week.
    pub fn of_date(d: NaiveDate) -> IsoWeek {
        let iso = d.iso_week();
        if iso.year() < MIN_YEAR {
            IsoWeek::MIN
        } else if iso.year() > MAX_YEAR {
            IsoWeek::MAX
        } else {
            IsoWeek {
                year: iso.year(),
                week: iso.week(),
            }
        }
    }

    /// The week holding the local date of `instant` in `tz`.
    pub fn containing(instant: DateTime<Utc>, tz: Tz) -> IsoWeek {
        let utc = instant.naive_utc();
        let offset = tz.offset_from_utc_datetime(&utc).fix();
        match utc.checked_add_offset(offset) {
            Some(local) => IsoWeek::of_date(local.date()),
            // A local time past the end of chrono's range (within 15 hours of
            // it; chrono's `date_naive` would panic): clamp like `of_date`.
            None if offset.local_minus_utc() > 0 => IsoWeek::MAX,
            None => IsoWeek::MIN,
        }
    }

    /// The week's Monday (a local date).
    pub fn monday(self) -> NaiveDate {
        // Valid by construction: every week of years 0001..=9999 exists in chrono.
        NaiveDate::from_isoywd_opt(self.year, self.week, Weekday::Mon).unwrap_or(NaiveDate::MIN)
    }

    /// The week's Sunday (a local date).
    pub fn sunday(self) -> NaiveDate {
        add_days(self.monday(), 6)
    }

    /// The week's seven dates, Monday first.
    pub fn days(self) -> [NaiveDate; 7] {
        let monday = self.monday();
        std::array::from_fn(|i| add_days(monday, i as i64))
    }

    /// The week as the half-open interval of instants
    /// `[local Monday 00:00, next local Monday 00:00)` in `tz`.
    ///
    /// If local midnight falls in a gap (clocks jump forward at 00:00), the
    /// bound is the earliest local time that exists after it, i.e. the
    /// moment of the jump; if midnight occurs twice (clocks fall back), the
    /// earlier occurrence. Consecutive weeks therefore tile time exactly:
    /// `w.bounds(tz).1 == w.next().bounds(tz).0`. A week is 168 hours long
    /// except across an offset change: 167 or 169 hours for a DST change,
    /// 144 hours for Pacific/Apia's 2011-W52, which skipped 30 December.
    pub fn bounds(self, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        let monday = self.monday();
        (
            local_day_start(monday, tz),
            local_day_start(add_days(monday, 7), tz),
        )
    }

    /// The following week, across year ends (…-W52 or …-W53 to the next
    /// year's W01). [`IsoWeek::MAX`] has no successor and is returned as is;
    /// see [`IsoWeek::checked_next`].
    pub fn next(self) -> IsoWeek {
        self.checked_next().unwrap_or(self)
    }

    /// The preceding week, across year starts (W01 to the previous year's
    /// W52 or W53). [`IsoWeek::MIN`] has no predecessor and is returned as
    /// is; see [`IsoWeek::checked_prev`].
    pub fn prev(self) -> IsoWeek {
        self.checked_prev().unwrap_or(self)
    }

    /// The following week, or `None` after [`IsoWeek::MAX`].
    pub fn checked_next(self) -> Option<IsoWeek> {
        if self.week < weeks_in_year(self.year) {
            Some(IsoWeek {
                year: self.year,
                week: self.week + 1,
            })
        } else if self.year < MAX_YEAR {
            Some(IsoWeek {
                year: self.year + 1,
                week: 1,
            })
        } else {
            None
        }
    }

    /// The preceding week, or `None` before [`IsoWeek::MIN`].
    pub fn checked_prev(self) -> Option<IsoWeek> {
        if self.week > 1 {
            Some(IsoWeek {
                year: self.year,
                week: self.week - 1,
            })
        } else if self.year > MIN_YEAR {
            Some(IsoWeek {
                year: self.year - 1,
                week: weeks_in_year(self.year - 1),
            })
        } else {
            None
        }
    }

    /// The `n` weeks ending with (and including) this one, oldest first.
    ///
    /// Empty for `n == 0`; shorter than `n` only if it would reach before
    /// [`IsoWeek::MIN`].
    pub fn last_n(self, n: usize) -> Vec<IsoWeek> {
        let count = n.min(self.weeks_since_min() + 1);
        let mut weeks = Vec::with_capacity(count);
        let mut week = self;
        for _ in 0..count {
            weeks.push(week);
            week = week.prev();
        }
        weeks.reverse();
        weeks
    }

    /// The week's key, `YYYY-Www` with a zero-padded week (`2023-W31`); the
    /// same text as `Display`, and what [`IsoWeek::parse`] reads.
    pub fn key(self) -> String {
        self.to_string()
    }

    /// How many weeks lie between [`IsoWeek::MIN`] and this week.
    fn weeks_since_min(self) -> usize {
        let days = self.monday() - IsoWeek::MIN.monday();
        usize::try_from(days.num_days() / 7).unwrap_or(0)
    }
}

impl fmt::Display for IsoWeek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-W{:02}", self.year, self.week)
    }
}

impl FromStr for IsoWeek {
    type Err = WeekError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IsoWeek::parse(s)
    }
}

/// The number of ISO weeks in ISO year `iso_year`: 53 when the year starts
/// on a Thursday, or is a leap year starting on a Wednesday; otherwise 52.
/// Defined for every `i32` (proleptic Gregorian calendar).
pub const fn weeks_in_year(iso_year: i32) -> u32 {
    // Weekday of 31 December of year `y`, 0 = Sunday … 6 = Saturday.
    const fn dec31(y: i64) -> i64 {
        (y + y.div_euclid(4) - y.div_euclid(100) + y.div_euclid(400)).rem_euclid(7)
    }
    let y = iso_year as i64;
    if dec31(y) == 4 || dec31(y - 1) == 3 {
        53
    } else {
        52
    }
}

/// The number of days of `week` that fall within `[from, to]` (inclusive
/// local dates): 0 to 7, and 0 when `from > to`.
pub fn overlap_days(week: IsoWeek, from: NaiveDate, to: NaiveDate) -> u32 {
    // At most 7, so the cast is lossless.
    inclusive_overlap(week.monday(), week.sunday(), from, to) as u32
}

/// The requirement in kg for `week`, for a requirement of `kg_per_day`
/// running over `[from, to]` (inclusive local dates): the days of the week
/// within the range × `kg_per_day`.
///
/// `None` only if the product overflows `i64`, which needs
/// `|kg_per_day| > i64::MAX / 7` (about 1.3 × 10^18); it cannot happen for
/// any `|kg_per_day| ≤ 10^12`. `kg_per_day` is not otherwise checked.
pub fn required_kg(week: IsoWeek, from: NaiveDate, to: NaiveDate, kg_per_day: Kg) -> Option<Kg> {
    i64::from(overlap_days(week, from, to)).checked_mul(kg_per_day)
}

/// The requirement in kg over the inclusive date range `[start, end]` (for
/// cumulative figures and trailing 7-day windows), for a requirement of
/// `kg_per_day` running over `[from, to]`: the days in both ranges ×
/// `kg_per_day`. An empty range (`start > end` or `from > to`) gives 0.
///
/// `None` only if the product overflows `i64`. With `|kg_per_day| ≤ 10^12`
/// that needs more than 9,223,372 overlapping days (about 25,000 years).
pub fn required_kg_between(
    start: NaiveDate,
    end: NaiveDate,
    from: NaiveDate,
    to: NaiveDate,
    kg_per_day: Kg,
) -> Option<Kg> {
    inclusive_overlap(start, end, from, to).checked_mul(kg_per_day)
}

/// The week just completed at `now` in `tz`: the week before the one
/// containing `now`. This is what a Monday publisher publishes.
pub fn previous_week(now: DateTime<Utc>, tz: Tz) -> IsoWeek {
    IsoWeek::containing(now, tz).prev()
}

/// Whether `now` is at or after the publication moment of the week
/// containing it (in `tz`): `weekday` of that week at `hour`:`minute` local
/// time ([`DEFAULT_PUBLICATION_WEEKDAY`] is Monday).
///
/// So with Monday 09:00 this is false from Monday 00:00 to 08:59:59 and true
/// for the rest of the week. A publication time in a DST gap is moved to
/// the end of the gap; one that occurs twice counts from its first
/// occurrence. `hour` and `minute` are expected in `0..24` and `0..60`;
/// larger values are read as that many hours and minutes after the
/// weekday's midnight (24:00 is the next midnight).
pub fn publication_due(
    now: DateTime<Utc>,
    tz: Tz,
    weekday: Weekday,
    hour: u32,
    minute: u32,
) -> bool {
    let week = IsoWeek::containing(now, tz);
    let minutes = i64::from(weekday.num_days_from_monday()) * 24 * 60
        + i64::from(hour) * 60
        + i64::from(minute);
    let local = TimeDelta::try_minutes(minutes).and_then(|offset| {
        week.monday()
            .and_time(NaiveTime::MIN)
            .checked_add_signed(offset)
    });
    match local {
        Some(local) => now >= local_to_utc(local, tz),
        // A moment past the end of chrono's range is never reached.
        None => false,
    }
}

/// How many days `[a_start, a_end]` and `[b_start, b_end]` (inclusive) share.
fn inclusive_overlap(
    a_start: NaiveDate,
    a_end: NaiveDate,
    b_start: NaiveDate,
    b_end: NaiveDate,
) -> i64 {
    let start = a_start.max(b_start);
    let end = a_end.min(b_end);
    if start > end {
        0
    } else {
        (end - start).num_days() + 1
    }
}

/// `date` shifted by `days`.
///
/// Only used on dates of supported weeks (years 0001..=10000), far inside
/// chrono's range of about ±262,000 years, so the shift cannot fail; the
/// fallback merely keeps the code free of panics.
fn add_days(date: NaiveDate, days: i64) -> NaiveDate {
    TimeDelta::try_days(days)
        .and_then(|delta| date.checked_add_signed(delta))
        .unwrap_or(date)
}

/// The instant local midnight starts `date` in `tz` (see [`local_to_utc`]).
fn local_day_start(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    local_to_utc(date.and_time(NaiveTime::MIN), tz)
}

/// The instant the local time `local` occurs in `tz`: the earlier one if it
/// occurs twice, and the end of the gap (the earliest local time after it
/// that exists) if it does not occur at all.
fn local_to_utc(local: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(a, b) => a.min(b).with_timezone(&Utc),
        LocalResult::None => end_of_gap(local, tz),
    }
}

/// The longest gap searched for, in minutes. The longest gaps in the tz
/// database are whole skipped days (Pacific/Apia on 2011-12-30, Pacific/
/// Kwajalein in 1993); twice that leaves a margin.
const MAX_GAP_MINUTES: i64 = 48 * 60;

/// The instant at which the gap holding the nonexistent local time `local`
/// ends, i.e. the transition whose forward jump skipped `local`.
fn end_of_gap(local: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
    let local_at = |instant: DateTime<Utc>| instant.with_timezone(&tz).naive_local();
    for minutes in 1..=MAX_GAP_MINUTES {
        let Some(candidate) = local.checked_add_signed(TimeDelta::minutes(minutes)) else {
            break;
        };
        if let Some(found) = tz.from_local_datetime(&candidate).earliest() {
            let found = found.with_timezone(&Utc);
            // The jump happened within the minute before `found`: before it
            // local time is still short of `local`, from it on it is past.
            // Transitions fall on whole seconds.
            return (1..60)
                .rev()
                .filter_map(|s| found.checked_sub_signed(TimeDelta::seconds(s)))
                .find(|&instant| local_at(instant) > local)
                .unwrap_or(found);
        }
    }
    // Not reached with the tz database, whose gaps are all far shorter than
    // MAX_GAP_MINUTES: apply the offset in force at the UTC instant that
    // reads like `local`.
    let offset = i64::from(tz.offset_from_utc_datetime(&local).fix().local_minus_utc());
    let utc = local.and_utc();
    utc.checked_sub_signed(TimeDelta::seconds(offset))
        .unwrap_or(utc)
}

/// When the weekly publication happens (deployment-local).
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub weekday: chrono::Weekday,
    pub hour: u32,
    pub minute: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{Africa, America, Asia, Australia, Europe, Pacific, UTC};
    use proptest::prelude::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn wk(s: &str) -> IsoWeek {
        IsoWeek::parse(s).unwrap()
    }

    #[test]
    fn instants_near_local_midnight() {
        let yerevan = DEFAULT_TIME_ZONE;
        // (instant, zone, week of the instant's local date)
        let cases = [
            ("2023-07-30T19:59:59Z", yerevan, "2023-W30"), // Sun 23:59:59 +04
            ("2023-07-30T20:00:00Z", yerevan, "2023-W31"), // Mon 00:00:00 +04
            ("2023-07-30T19:59:59Z", UTC, "2023-W30"),
            ("2023-07-30T20:00:00Z", UTC, "2023-W30"), // still Sunday in UTC
            ("2023-07-30T23:59:59Z", yerevan, "2023-W31"),
            ("2023-07-30T23:59:59Z", UTC, "2023-W30"),
            ("2023-07-31T00:00:00Z", yerevan, "2023-W31"),
            ("2023-07-31T00:00:00Z", UTC, "2023-W31"),
            // Across a year end the two even disagree on the ISO year.
            ("2023-01-01T19:59:59Z", yerevan, "2022-W52"),
            ("2023-01-01T20:00:00Z", yerevan, "2023-W01"),
            ("2023-01-01T20:00:00Z", UTC, "2022-W52"),
        ];
        for (instant, tz, expected) in cases {
            assert_eq!(
                IsoWeek::containing(utc(instant), tz),
                wk(expected),
                "{instant} in {tz}"
            );
        }
        assert_eq!(
            wk("2023-W31").bounds(yerevan),
            (utc("2023-07-30T20:00:00Z"), utc("2023-08-06T20:00:00Z"))
        );
        assert_eq!(
            wk("2023-W31").bounds(UTC),
            (utc("2023-07-31T00:00:00Z"), utc("2023-08-07T00:00:00Z"))
        );
    }

    #[test]
    fn previous_week_is_the_one_just_completed() {
        let yerevan = DEFAULT_TIME_ZONE;
        let cases = [
            ("2023-07-30T19:59:59Z", yerevan, "2023-W29"),
            ("2023-07-30T20:00:00Z", yerevan, "2023-W30"),
            ("2023-07-30T20:00:00Z", UTC, "2023-W29"),
            ("2021-01-04T00:00:00Z", yerevan, "2020-W53"), // Mon 04:00 +04
            ("2021-01-03T20:00:00Z", yerevan, "2020-W53"), // Mon 00:00 +04
            ("2021-01-03T19:59:59Z", yerevan, "2020-W52"),
        ];
        for (now, tz, expected) in cases {
            assert_eq!(previous_week(utc(now), tz), wk(expected), "{now} in {tz}");
        }
    }

    #[test]
    fn publication_moment() {
        let yerevan = DEFAULT_TIME_ZONE;
        let mon = DEFAULT_PUBLICATION_WEEKDAY;
        // (now, zone, weekday, hour, minute, due)
        let cases = [
            // Monday 09:00 in Yerevan is 05:00Z.
            ("2023-07-30T20:00:00Z", yerevan, mon, 9, 0, false), // Mon 00:00
            ("2023-07-31T04:59:59Z", yerevan, mon, 9, 0, false),
            ("2023-07-31T05:00:00Z", yerevan, mon, 9, 0, true),
            ("2023-08-02T10:00:00Z", yerevan, mon, 9, 0, true),
            ("2023-07-30T19:59:59Z", yerevan, mon, 9, 0, true), // Sunday: W30's was due
            ("2023-07-31T05:00:00Z", UTC, mon, 9, 0, false),
            ("2023-07-31T09:00:00Z", UTC, mon, 9, 0, true),
            // Wednesday 12:30 +04 is 08:30Z.
            ("2023-08-02T08:29:59Z", yerevan, Weekday::Wed, 12, 30, false),
            ("2023-08-02T08:30:00Z", yerevan, Weekday::Wed, 12, 30, true),
            // Monday 24:00 is Tuesday 00:00.
            ("2023-07-31T19:59:59Z", yerevan, mon, 24, 0, false),
            ("2023-07-31T20:00:00Z", yerevan, mon, 24, 0, true),
            // Sunday 24:00 is the next week's Monday: never due.
            ("2023-08-06T19:59:59Z", yerevan, Weekday::Sun, 24, 0, false),
            // In a DST gap (02:30 on 2023-03-12 does not exist in New York):
            // due from the end of the gap, 03:00 EDT = 07:00Z.
            (
                "2023-03-12T06:59:59Z",
                America::New_York,
                Weekday::Sun,
                2,
                30,
                false,
            ),
            (
                "2023-03-12T07:00:00Z",
                America::New_York,
                Weekday::Sun,
                2,
                30,
                true,
            ),
            // Twice (01:30 on 2023-11-05 is 05:30Z EDT and 06:30Z EST): the first.
            (
                "2023-11-05T05:29:59Z",
                America::New_York,
                Weekday::Sun,
                1,
                30,
                false,
            ),
            (
                "2023-11-05T05:30:00Z",
                America::New_York,
                Weekday::Sun,
                1,
                30,
                true,
            ),
            // Absurd values are far ahead, not a panic.
            (
                "2023-07-31T05:00:00Z",
                yerevan,
                mon,
                u32::MAX,
                u32::MAX,
                false,
            ),
        ];
        for (now, tz, weekday, hour, minute, due) in cases {
            assert_eq!(
                publication_due(utc(now), tz, weekday, hour, minute),
                due,
                "{now} in {tz}, {weekday:?} {hour}:{minute}"
            );
        }
    }

    #[test]
    fn years_with_53_weeks() {
        for year in [2009, 2015, 2020, 2026] {
            assert_eq!(weeks_in_year(year), 53, "{year}");
            let last = IsoWeek::new(year, 53).unwrap();
            let first_of_next = IsoWeek::new(year + 1, 1).unwrap();
            assert_eq!(last.next(), first_of_next);
            assert_eq!(first_of_next.prev(), last);
        }
        assert_eq!(wk("2020-W53").next(), wk("2021-W01"));
        assert_eq!(wk("2021-W01").prev(), wk("2020-W53"));
        assert_eq!(wk("2023-W52").next(), wk("2024-W01"));
        assert_eq!(wk("2024-W01").prev(), wk("2023-W52"));
        assert_eq!(wk("2023-W30").next(), wk("2023-W31"));
        let no_w53 = WeekError::WeekOutOfRange {
            year: 2021,
            week: 53,
            weeks_in_year: 52,
        };
        assert_eq!(IsoWeek::new(2021, 53), Err(no_w53.clone()));
        assert_eq!(IsoWeek::parse("2021-W53"), Err(no_w53));
    }

    #[test]
    fn weeks_in_year_matches_chrono() {
        let has_week_53 = |y| NaiveDate::from_isoywd_opt(y, 53, Weekday::Mon).is_some();
        for year in 2000..=2030 {
            assert_eq!(weeks_in_year(year) == 53, has_week_53(year), "{year}");
        }
        let long: Vec<i32> = (2000..=2030).filter(|&y| weeks_in_year(y) == 53).collect();
        assert_eq!(long, [2004, 2009, 2015, 2020, 2026]);
        // The formula is proleptic and holds far outside the supported range.
        for year in -5_000..=12_000 {
            assert_eq!(weeks_in_year(year) == 53, has_week_53(year), "{year}");
        }
        for year in [i32::MIN, i32::MIN + 1, -1, 0, i32::MAX - 1, i32::MAX] {
            assert!(matches!(weeks_in_year(year), 52 | 53), "{year}");
        }
    }

    #[test]
    fn week_of_new_year() {
        let cases = [
            (date(2023, 1, 1), "2022-W52"), // a Sunday
            (date(2023, 1, 2), "2023-W01"),
            (date(2024, 1, 1), "2024-W01"), // a Monday
            (date(2021, 1, 1), "2020-W53"),
            (date(2021, 1, 3), "2020-W53"),
            (date(2021, 1, 4), "2021-W01"),
            (date(2025, 12, 28), "2025-W52"),
            (date(2025, 12, 29), "2026-W01"),
            (date(2026, 12, 31), "2026-W53"),
            (date(2027, 1, 3), "2026-W53"),
            (date(2016, 1, 3), "2015-W53"),
            (date(2010, 1, 3), "2009-W53"),
        ];
        for (d, expected) in cases {
            assert_eq!(IsoWeek::of_date(d), wk(expected), "{d}");
        }
        assert_eq!(wk("2026-W01").monday(), date(2025, 12, 29));
        assert_eq!(wk("2020-W53").sunday(), date(2021, 1, 3));
    }

    #[test]
    fn week_bounds_in_other_zones() {
        // (zone, week, start, length in hours)
        let cases = [
            (America::New_York, "2023-W10", "2023-03-06T05:00:00Z", 167), // DST from Sun 12 Mar
            (America::New_York, "2023-W31", "2023-07-31T04:00:00Z", 168),
            (America::New_York, "2023-W44", "2023-10-30T04:00:00Z", 169), // DST until Sun 5 Nov
            (Europe::Paris, "2023-W12", "2023-03-19T23:00:00Z", 167),     // DST from Sun 26 Mar
            (Europe::Paris, "2023-W31", "2023-07-30T22:00:00Z", 168),
            (Europe::Paris, "2023-W43", "2023-10-22T22:00:00Z", 169), // DST until Sun 29 Oct
            (Asia::Yerevan, "2023-W31", "2023-07-30T20:00:00Z", 168),
            (Pacific::Kiritimati, "2023-W31", "2023-07-30T10:00:00Z", 168), // UTC+14
            (Pacific::Pago_Pago, "2023-W31", "2023-07-31T11:00:00Z", 168),  // UTC−11
            // Monday 00:00 in a gap: Tehran jumped from 00:00 +0330 to 01:00
            // +0430 on Mon 2021-03-22, so the week starts at 01:00 local.
            (Asia::Tehran, "2021-W12", "2021-03-21T20:30:00Z", 167),
            (Asia::Tehran, "2021-W11", "2021-03-14T20:30:00Z", 168),
            (Africa::Casablanca, "2009-W23", "2009-06-01T00:00:00Z", 167),
            // Monday 00:00 twice: Jerusalem fell back from 01:00 IDT to
            // 00:00 IST on Mon 2001-09-24; the week starts at the first.
            (Asia::Jerusalem, "2001-W39", "2001-09-23T21:00:00Z", 169),
            // Samoa skipped Friday 2011-12-30 when it crossed the date line.
            (Pacific::Apia, "2011-W52", "2011-12-26T10:00:00Z", 144),
        ];
        for (tz, week, start, hours) in cases {
            let week = wk(week);
            let (from, until) = week.bounds(tz);
            assert_eq!(from, utc(start), "{week} in {tz}");
            assert_eq!(until - from, TimeDelta::hours(hours), "{week} in {tz}");
            assert_eq!(until, week.next().bounds(tz).0, "{week} in {tz}");
            assert_eq!(IsoWeek::containing(from, tz), week, "{week} in {tz}");
            assert_eq!(
                IsoWeek::containing(from - TimeDelta::nanoseconds(1), tz),
                week.prev(),
                "{week} in {tz}"
            );
        }
        // The end of a gap is found to the second: Abidjan moved from LMT
        // (−00:16:08) to GMT at midnight on Monday 1912-01-01.
        let (from, _) = wk("1912-W01").bounds(Africa::Abidjan);
        assert_eq!(from, utc("1912-01-01T00:16:08Z"));
        assert_eq!(
            from.with_timezone(&Africa::Abidjan).naive_local(),
            date(1912, 1, 1).and_hms_opt(0, 16, 8).unwrap()
        );
    }

    #[test]
    fn same_instant_in_different_weeks_across_the_date_line() {
        // Monday 00:00 in Kiritimati, Saturday 23:00 in Pago Pago.
        let t = utc("2023-07-30T10:00:00Z");
        assert_eq!(IsoWeek::containing(t, Pacific::Kiritimati), wk("2023-W31"));
        assert_eq!(IsoWeek::containing(t, Pacific::Pago_Pago), wk("2023-W30"));
        assert_eq!(IsoWeek::containing(t, UTC), wk("2023-W30"));
        let before = t - TimeDelta::seconds(1);
        assert_eq!(
            IsoWeek::containing(before, Pacific::Kiritimati),
            wk("2023-W30")
        );
        // At a year end the ISO years differ too.
        let t = utc("2024-12-29T10:00:00Z");
        assert_eq!(IsoWeek::containing(t, Pacific::Kiritimati), wk("2025-W01"));
        assert_eq!(IsoWeek::containing(t, Pacific::Pago_Pago), wk("2024-W52"));
        assert_eq!(previous_week(t, Pacific::Kiritimati), wk("2024-W52"));
        assert_eq!(previous_week(t, Pacific::Pago_Pago), wk("2024-W51"));
    }

    #[test]
    fn parse_and_format_round_trip() {
        let cases = [
            ("2023-W31", 2023, 31),
            ("2023-w31", 2023, 31),
            ("2023-W05", 2023, 5),
            ("2020-W53", 2020, 53),
            ("2024-W01", 2024, 1),
            ("0001-W01", 1, 1),
            ("0999-W10", 999, 10),
            ("9999-W52", 9999, 52),
        ];
        for (text, year, week) in cases {
            let w = IsoWeek::parse(text).unwrap();
            assert_eq!((w.year(), w.week()), (year, week), "{text}");
            assert_eq!(text.parse::<IsoWeek>(), Ok(w));
            assert_eq!(IsoWeek::new(year, week), Ok(w));
            assert_eq!(w.key(), text.to_uppercase());
            assert_eq!(w.to_string(), w.key());
            assert_eq!(IsoWeek::parse(&w.key()), Ok(w));
        }
    }

    #[test]
    fn parse_errors() {
        let format = |s: &str| WeekError::InvalidFormat {
            input: s.to_owned(),
        };
        let range = |year, week, weeks_in_year| WeekError::WeekOutOfRange {
            year,
            week,
            weeks_in_year,
        };
        let cases = [
            ("2023-W54", range(2023, 54, 52)),
            ("2023-W53", range(2023, 53, 52)),
            ("2020-W54", range(2020, 54, 53)),
            ("2023-W00", range(2023, 0, 52)),
            ("2023-W99", range(2023, 99, 52)),
            ("0000-W01", WeekError::YearOutOfRange { year: 0 }),
            ("2023-31", format("2023-31")),
            ("2023W31", format("2023W31")),
            ("", format("")),
            ("2023-W3", format("2023-W3")),
            ("2023-W031", format("2023-W031")),
            ("23-W31", format("23-W31")),
            ("+2023-W31", format("+2023-W31")),
            (" 2023-W31", format(" 2023-W31")),
            ("2023-W31 ", format("2023-W31 ")),
            ("2023-X31", format("2023-X31")),
            ("2023_W31", format("2023_W31")),
            ("2023-W3a", format("2023-W3a")),
            ("2023-W-1", format("2023-W-1")),
            ("2023-W31-1", format("2023-W31-1")),
            ("２０２３-W31", format("２０２３-W31")),
            ("2023-W３", format("2023-W３")),
        ];
        for (text, error) in cases {
            assert_eq!(IsoWeek::parse(text), Err(error.clone()), "{text:?}");
            assert_eq!(text.parse::<IsoWeek>(), Err(error), "{text:?}");
        }
        let message = |s: &str| IsoWeek::parse(s).unwrap_err().to_string();
        assert_eq!(
            message("2023-31"),
            r#"invalid ISO week "2023-31": use YYYY-Www, like 2023-W31"#
        );
        assert_eq!(
            message(""),
            r#"invalid ISO week "": use YYYY-Www, like 2023-W31"#
        );
        assert_eq!(
            message("2023-W54"),
            "2023-W54 does not exist: ISO year 2023 has weeks 01 to 52"
        );
        assert_eq!(
            message("2023-W00"),
            "2023-W00 does not exist: ISO year 2023 has weeks 01 to 52"
        );
        assert_eq!(
            message("0000-W01"),
            "ISO year 0 is not supported: use a year from 0001 to 9999, like 2023-W31"
        );
    }

    #[test]
    fn ordering_is_chronological() {
        let mut weeks = ["2021-W01", "2020-W53", "2023-W31", "2023-W05", "0999-W52"].map(wk);
        weeks.sort();
        assert_eq!(
            weeks,
            ["0999-W52", "2020-W53", "2021-W01", "2023-W05", "2023-W31"].map(wk)
        );
    }

    #[test]
    fn last_n_weeks() {
        assert_eq!(
            wk("2021-W02").last_n(4),
            ["2020-W52", "2020-W53", "2021-W01", "2021-W02"].map(wk)
        );
        assert_eq!(wk("2023-W31").last_n(1), [wk("2023-W31")]);
        assert!(wk("2023-W31").last_n(0).is_empty());
        let year = wk("2023-W52").last_n(52);
        assert_eq!(year.first(), Some(&wk("2023-W01")));
        // Stops at the first supported week instead of allocating `n`.
        assert_eq!(
            IsoWeek::MIN.next().last_n(usize::MAX),
            [IsoWeek::MIN, IsoWeek::MIN.next()]
        );
    }

    #[test]
    fn supported_range_edges() {
        assert_eq!(IsoWeek::MIN.key(), "0001-W01");
        assert_eq!(IsoWeek::MIN.monday(), date(1, 1, 1));
        assert_eq!(IsoWeek::MAX.key(), "9999-W52");
        assert_eq!(IsoWeek::MAX.sunday(), date(10000, 1, 2));
        assert_eq!(IsoWeek::MAX.checked_next(), None);
        assert_eq!(IsoWeek::MAX.next(), IsoWeek::MAX);
        assert_eq!(IsoWeek::MIN.checked_prev(), None);
        assert_eq!(IsoWeek::MIN.prev(), IsoWeek::MIN);
        assert_eq!(
            IsoWeek::MAX.bounds(UTC),
            (utc("9999-12-27T00:00:00Z"), utc("+10000-01-03T00:00:00Z"))
        );
        for year in [i32::MIN, -1, 0, 10_000, i32::MAX] {
            assert_eq!(
                IsoWeek::new(year, 1),
                Err(WeekError::YearOutOfRange { year })
            );
        }
        // Dates outside the supported years clamp to the nearest week.
        assert_eq!(IsoWeek::of_date(date(0, 12, 31)), IsoWeek::MIN);
        assert_eq!(IsoWeek::of_date(NaiveDate::MIN), IsoWeek::MIN);
        assert_eq!(IsoWeek::of_date(date(10000, 1, 3)), IsoWeek::MAX);
        assert_eq!(IsoWeek::of_date(NaiveDate::MAX), IsoWeek::MAX);
        assert_eq!(
            IsoWeek::containing(DateTime::<Utc>::MAX_UTC, Pacific::Kiritimati),
            IsoWeek::MAX
        );
        assert_eq!(
            IsoWeek::containing(DateTime::<Utc>::MIN_UTC, Pacific::Pago_Pago),
            IsoWeek::MIN
        );
        // A publication time at the very end of chrono's range, where
        // converting the local time to UTC overflows, is never due.
        let to_last_day = (NaiveDate::MAX - IsoWeek::MAX.monday()).num_days();
        let hour = u32::try_from(to_last_day * 24 + 23).unwrap();
        let now = utc("9999-12-28T00:00:00Z");
        for tz in [UTC, Pacific::Kiritimati, Pacific::Pago_Pago] {
            assert!(!publication_due(now, tz, Weekday::Mon, hour, 59), "{tz}");
            assert!(!publication_due(now, tz, Weekday::Sun, hour, 59), "{tz}");
        }
        assert!(!publication_due(
            DateTime::<Utc>::MAX_UTC,
            UTC,
            Weekday::Sun,
            u32::MAX,
            u32::MAX
        ));
    }

    #[test]
    fn every_supported_week_agrees_with_chrono() {
        let mut week = IsoWeek::MIN;
        let mut count = 0;
        loop {
            let monday = NaiveDate::from_isoywd_opt(week.year(), week.week(), Weekday::Mon);
            assert_eq!(Some(week.monday()), monday, "{week}");
            assert_eq!(IsoWeek::of_date(week.monday()), week);
            assert_eq!(IsoWeek::of_date(week.sunday()), week);
            assert_eq!(week.weeks_since_min(), count);
            count += 1;
            match week.checked_next() {
                Some(next) => {
                    assert_eq!(next.monday(), add_days(week.monday(), 7), "{week}");
                    week = next;
                }
                None => break,
            }
        }
        assert_eq!(week, IsoWeek::MAX);
        let expected: usize = (MIN_YEAR..=MAX_YEAR)
            .map(|y| weeks_in_year(y) as usize)
            .sum();
        assert_eq!(count, expected);
    }

    #[test]
    fn requirement_of_400_tonnes_a_day() {
        let (from, to) = (date(2023, 7, 1), date(2023, 9, 30));
        let kg_per_day: Kg = 400_000;
        // (week, days of it within [from, to])
        let cases = [
            ("2023-W25", 0),
            ("2023-W26", 2), // Sat 1 and Sun 2 July
            ("2023-W27", 7),
            ("2023-W31", 7),
            ("2023-W35", 7), // 28 Aug – 3 Sep, across a month end
            ("2023-W39", 6), // Mon 25 – Sat 30 September
            ("2023-W40", 0),
            ("2024-W31", 0),
        ];
        for (week, days) in cases {
            let week = wk(week);
            assert_eq!(overlap_days(week, from, to), days, "{week}");
            assert_eq!(
                required_kg(week, from, to, kg_per_day),
                Some(i64::from(days) * kg_per_day),
                "{week}"
            );
        }
        assert_eq!(
            required_kg(wk("2023-W31"), from, to, kg_per_day),
            Some(2_800_000)
        );
        assert_eq!(
            required_kg(wk("2023-W26"), from, to, kg_per_day),
            Some(800_000)
        );
        assert_eq!(
            required_kg(wk("2023-W39"), from, to, kg_per_day),
            Some(2_400_000)
        );
        assert_eq!(wk("2023-W26").days()[5..], [from, date(2023, 7, 2)]);
        // W26..=W39 cover the 92 days exactly.
        let total: Kg = wk("2023-W39")
            .last_n(14)
            .into_iter()
            .map(|w| required_kg(w, from, to, kg_per_day).unwrap())
            .sum();
        assert_eq!(total, 92 * 400_000);
        // An empty or inverted requirement needs nothing.
        assert_eq!(overlap_days(wk("2023-W31"), to, from), 0);
        assert_eq!(required_kg(wk("2023-W31"), to, from, kg_per_day), Some(0));
        assert_eq!(required_kg(wk("2023-W31"), from, to, 0), Some(0));
        // A one-day requirement.
        let day = date(2023, 8, 2);
        assert_eq!(overlap_days(wk("2023-W31"), day, day), 1);
    }

    #[test]
    fn requirement_between_dates() {
        let (from, to) = (date(2023, 7, 1), date(2023, 9, 30));
        let kg_per_day: Kg = 400_000;
        // (start, end, days within [from, to])
        let cases = [
            (from, to, 92),
            (date(2023, 1, 1), date(2023, 12, 31), 92),
            (date(2023, 7, 1), date(2023, 8, 6), 37), // cumulative to the end of W31
            (date(2023, 6, 27), date(2023, 7, 3), 3), // trailing 7 days
            (date(2023, 7, 25), date(2023, 7, 31), 7),
            (date(2023, 9, 28), date(2023, 10, 4), 3),
            (date(2023, 10, 1), date(2023, 10, 7), 0),
            (date(2023, 8, 1), date(2023, 8, 1), 1),
            (date(2023, 8, 2), date(2023, 8, 1), 0), // start after end
        ];
        for (start, end, days) in cases {
            assert_eq!(
                required_kg_between(start, end, from, to, kg_per_day),
                Some(days * kg_per_day),
                "{start}..={end}"
            );
        }
        assert_eq!(required_kg_between(from, to, to, from, kg_per_day), Some(0));
    }

    #[test]
    fn requirement_overflow_is_none_not_saturated() {
        let (from, to) = (date(2023, 7, 1), date(2023, 9, 30));
        let tera: Kg = 1_000_000_000_000;
        assert_eq!(required_kg(wk("2023-W31"), from, to, tera), Some(7 * tera));
        assert_eq!(
            required_kg(wk("2023-W31"), from, to, -tera),
            Some(-7 * tera)
        );
        assert_eq!(
            required_kg(wk("2023-W31"), from, to, i64::MAX / 7),
            Some(i64::MAX / 7 * 7)
        );
        assert_eq!(
            required_kg(wk("2023-W31"), from, to, i64::MAX / 7 + 1),
            None
        );
        assert_eq!(
            required_kg(wk("2023-W26"), from, to, i64::MAX / 2),
            Some(i64::MAX / 2 * 2)
        );
        assert_eq!(required_kg(wk("2023-W26"), from, to, i64::MAX), None);
        assert_eq!(required_kg(wk("2023-W25"), from, to, i64::MAX), Some(0));
        let (min, max) = (NaiveDate::MIN, NaiveDate::MAX);
        assert_eq!(required_kg_between(min, max, min, max, tera), None);
        assert_eq!(
            required_kg_between(min, max, from, to, tera),
            Some(92 * tera)
        );
    }

    #[test]
    fn deserializing_validates() {
        use serde::de::value::{Error, MapDeserializer};
        let from_fields = |year: i64, week: i64| {
            let fields = [("year", year), ("week", week)].into_iter();
            IsoWeek::deserialize(MapDeserializer::<_, Error>::new(fields))
        };
        assert_eq!(from_fields(2023, 31).unwrap(), wk("2023-W31"));
        assert_eq!(from_fields(2020, 53).unwrap(), wk("2020-W53"));
        assert_eq!(
            from_fields(2021, 53).unwrap_err().to_string(),
            "2021-W53 does not exist: ISO year 2021 has weeks 01 to 52"
        );
        assert!(from_fields(2023, 0).is_err());
        assert!(from_fields(0, 1).is_err());
        assert!(from_fields(2023, -1).is_err());
    }

    /// Zones for the property tests: the default, UTC, both sides of the
    /// date line, DST in either hemisphere, half-hour offsets and DST steps,
    /// midnight transitions (Tehran, Santiago, Havana) and Samoa's skipped day.
    const ZONES: [Tz; 10] = [
        Asia::Yerevan,
        UTC,
        America::New_York,
        Europe::Paris,
        Pacific::Kiritimati,
        Pacific::Pago_Pago,
        Asia::Tehran,
        Australia::Lord_Howe,
        America::Santiago,
        Pacific::Apia,
    ];

    fn zone() -> impl Strategy<Value = Tz> {
        prop::sample::select(ZONES.to_vec())
    }

    /// Instants from 1900 to 2100, to the second.
    fn instant() -> impl Strategy<Value = DateTime<Utc>> {
        (-2_208_988_800i64..4_102_444_800).prop_map(|s| DateTime::from_timestamp(s, 0).unwrap())
    }

    fn week_in(years: std::ops::RangeInclusive<i32>) -> impl Strategy<Value = IsoWeek> {
        years.prop_flat_map(|year| {
            (1..=weeks_in_year(year)).prop_map(move |week| IsoWeek::new(year, week).unwrap())
        })
    }

    fn any_week() -> impl Strategy<Value = IsoWeek> {
        week_in(MIN_YEAR..=MAX_YEAR)
    }

    /// Dates from 1900 to about 2100.
    fn a_date() -> impl Strategy<Value = NaiveDate> {
        (0i64..73_000).prop_map(|n| add_days(date(1900, 1, 1), n))
    }

    proptest! {
        #[test]
        fn containing_week_bounds_the_instant(t in instant(), tz in zone()) {
            let week = IsoWeek::containing(t, tz);
            let (from, until) = week.bounds(tz);
            prop_assert!(from <= t && t < until, "{} in {}: {} not in [{}, {})", week, tz, t, from, until);
        }

        #[test]
        fn weeks_tile_time(week in week_in(1900..=2100), tz in zone()) {
            let (from, until) = week.bounds(tz);
            prop_assert_eq!(until, week.next().bounds(tz).0);
            prop_assert_eq!(IsoWeek::containing(from, tz), week);
            prop_assert_eq!(IsoWeek::containing(until - TimeDelta::nanoseconds(1), tz), week);
            let hours = (until - from).num_minutes() as f64 / 60.0;
            if !(tz == Pacific::Apia && week == wk("2011-W52")) {
                prop_assert!((167.0..=169.0).contains(&hours), "{} in {}: {} hours", week, tz, hours);
            }
        }

        #[test]
        fn next_and_prev_are_inverse(week in any_week()) {
            if week != IsoWeek::MAX {
                prop_assert!(week.next() > week);
                prop_assert_eq!(week.next().prev(), week);
                prop_assert_eq!(week.next().monday(), add_days(week.monday(), 7));
            }
            if week != IsoWeek::MIN {
                prop_assert!(week.prev() < week);
                prop_assert_eq!(week.prev().next(), week);
            }
        }

        #[test]
        fn key_round_trips(week in any_week()) {
            let key = week.key();
            prop_assert_eq!(key.len(), 8);
            prop_assert_eq!(IsoWeek::parse(&key), Ok(week));
            prop_assert_eq!(IsoWeek::parse(&key.to_lowercase()), Ok(week));
        }

        #[test]
        fn days_run_monday_to_sunday(week in any_week()) {
            let days = week.days();
            prop_assert_eq!(days[0], week.monday());
            prop_assert_eq!(days[6], week.sunday());
            for (i, day) in days.iter().enumerate() {
                prop_assert_eq!(day.weekday().num_days_from_monday() as usize, i);
                prop_assert_eq!(IsoWeek::of_date(*day), week);
                if i > 0 {
                    prop_assert_eq!(days[i - 1].succ_opt(), Some(*day));
                }
            }
        }

        #[test]
        fn overlap_days_add_up_to_the_range(from in a_date(), len in -10i64..=800, kg_per_day in 0i64..=1_000_000_000_000) {
            let to = add_days(from, len);
            let range_days = (len + 1).max(0);
            // One week either side of the range contributes nothing.
            let first = IsoWeek::of_date(from.min(to)).prev();
            let last = IsoWeek::of_date(from.max(to)).next();
            let (mut days, mut kg, mut week) = (0i64, 0i64, first);
            while week <= last {
                days += i64::from(overlap_days(week, from, to));
                kg += required_kg(week, from, to, kg_per_day).unwrap();
                week = week.next();
            }
            prop_assert_eq!(days, range_days);
            prop_assert_eq!(kg, range_days * kg_per_day);
            prop_assert_eq!(required_kg_between(from, to, from, to, kg_per_day), Some(kg));
            prop_assert_eq!(required_kg_between(first.monday(), last.sunday(), from, to, kg_per_day), Some(kg));
        }

        #[test]
        fn publication_at_the_week_edges(t in instant(), tz in zone()) {
            // Monday 00:00 is the start of the week: always passed.
            prop_assert!(publication_due(t, tz, Weekday::Mon, 0, 0));
            // Sunday 24:00 is the start of the next week: never reached.
            prop_assert!(!publication_due(t, tz, Weekday::Sun, 24, 0));
            prop_assert_eq!(previous_week(t, tz).next(), IsoWeek::containing(t, tz));
        }
    }
}
