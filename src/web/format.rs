//! How pages show quantities and times: tonnes with thousands separators, times in the
//! deployment's zone with their offset, waits in days and hours.

use chrono::{DateTime, TimeZone};

use crate::domain::quantity::{format_tonnes_grouped, Kg};
use crate::web::i18n::Texts;

/// `1,234.500 t`.
pub fn tonnes(kg: Kg) -> String {
    format!("{} t", format_tonnes_grouped(kg))
}

/// A tonnes string from the API's views (`"360.000"`) shown like [`tonnes`].
pub fn tonnes_text(api: &str) -> String {
    crate::domain::quantity::parse_tonnes(api)
        .map(tonnes)
        .unwrap_or_else(|_| format!("{api} t"))
}

/// An instant in the deployment's zone with its offset: `2023-07-26 14:00 +04:00`.
pub fn local_time(us: i64, tz: chrono_tz::Tz) -> String {
    let utc = crate::domain::time::from_micros(us);
    tz.from_utc_datetime(&utc.naive_utc())
        .format("%Y-%m-%d %H:%M %:z")
        .to_string()
}

/// An RFC 3339 time from the views shown like [`local_time`] (as given when it does not
/// parse).
pub fn local_time_text(rfc3339: &str, tz: chrono_tz::Tz) -> String {
    DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| local_time(t.timestamp_micros(), tz))
        .unwrap_or_else(|_| rfc3339.to_string())
}

/// The instant of an RFC 3339 time from the views, in µs.
pub fn micros_of(rfc3339: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(rfc3339)
        .ok()
        .map(|t| t.timestamp_micros())
}

/// How long since `since` (µs) at `now` (µs): `493 d 5 h`, `5 h 12 min`, `12 min`.
pub fn waited(since: i64, now: i64, t: &Texts) -> String {
    let minutes = (now - since).max(0) / 60_000_000;
    let (d, h, m) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    let (day, hour, min) = (
        t.get("units.days"),
        t.get("units.hours"),
        t.get("units.minutes"),
    );
    if d > 0 {
        format!("{d} {day} {h} {hour}")
    } else if h > 0 {
        format!("{h} {hour} {m} {min}")
    } else {
        format!("{m} {min}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_shown_in_the_deployments_zone_with_their_offset() {
        let t = DateTime::parse_from_rfc3339("2023-07-26T10:00:00Z").unwrap();
        assert_eq!(
            local_time(t.timestamp_micros(), chrono_tz::Asia::Yerevan),
            "2023-07-26 14:00 +04:00"
        );
        assert_eq!(
            local_time_text("2023-07-26T12:00:00+02:00", chrono_tz::UTC),
            "2023-07-26 10:00 +00:00"
        );
        assert_eq!(local_time_text("not a time", chrono_tz::UTC), "not a time");
    }

    #[test]
    fn waits_read_in_days_and_hours() {
        let en = crate::web::i18n::texts("en").unwrap();
        let h = 3_600_000_000;
        assert_eq!(waited(0, 12 * 60_000_000, en), "12 min");
        assert_eq!(waited(0, 5 * h + 12 * 60_000_000, en), "5 h 12 min");
        assert_eq!(waited(0, 49 * h, en), "2 d 1 h");
        assert_eq!(waited(10, 0, en), "0 min");
    }

    #[test]
    fn tonnes_read_with_separators() {
        assert_eq!(tonnes(360_000), "360.000 t");
        assert_eq!(tonnes_text("1234.5"), "1,234.500 t");
    }
}
