//! Instants as aidflow keeps them — microseconds since the Unix epoch, an exact integer on
//! both backends — and their RFC 3339 text.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, SecondsFormat, Utc};

/// The first year of times, dates and weeks a client may give: older records than this
/// are not aid convoys aidflow tracks, and a year like 0000 is a device's clock or a typo.
pub const FIRST_YEAR: i32 = 1990;
/// The last year a client may give; every instant kept is then written as RFC 3339 (a
/// four-digit year), and a year like 9999 is refused instead of stored.
pub const LAST_YEAR: i32 = 2100;

/// Refuses a year outside [`FIRST_YEAR`]`..=`[`LAST_YEAR`].
pub fn check_year(year: i32) -> Result<(), String> {
    if (FIRST_YEAR..=LAST_YEAR).contains(&year) {
        Ok(())
    } else {
        Err(format!(
            "year {year} is outside the range aidflow accepts: give a time from {FIRST_YEAR}-01-01 to {LAST_YEAR}-12-31"
        ))
    }
}

/// Refuses a date outside 1990-01-01..=2100-12-31.
pub fn check_date(date: NaiveDate) -> Result<(), String> {
    check_year(date.year())
}

/// Converts stored microseconds back to a UTC time.
pub fn from_micros(us: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(us).unwrap_or_default()
}

/// An instant stored as microseconds, as RFC 3339 in UTC.
pub fn rfc3339(us: i64) -> String {
    from_micros(us).to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Formats a stored instant in the offset it was given with.
pub fn format_time(us: i64, offset_seconds: i32) -> String {
    let utc = from_micros(us);
    match FixedOffset::east_opt(offset_seconds) {
        Some(off) => utc
            .with_timezone(&off)
            .to_rfc3339_opts(SecondsFormat::AutoSi, true),
        None => utc.to_rfc3339_opts(SecondsFormat::AutoSi, true),
    }
}

/// Parses an RFC 3339 time that must carry its offset; returns (UTC µs, offset seconds).
pub fn parse_time(s: &str) -> Result<(i64, i32), String> {
    let t = DateTime::parse_from_rfc3339(s.trim()).map_err(|e| {
        format!("{s:?} is not an RFC 3339 time with an offset ({e}); write it like 2023-07-26T08:00:00+04:00")
    })?;
    check_year(t.year()).map_err(|e| format!("{s:?}: {e}"))?;
    Ok((t.timestamp_micros(), t.offset().local_minus_utc()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_times_are_accepted_from_1990_to_2100_only() {
        for ok in [
            "1990-01-01T00:00:00+00:00",
            "2023-07-26T08:00:00+04:00",
            "2100-12-31T23:59:59+00:00",
            "1990-01-01T00:30:00+01:00",
        ] {
            assert!(parse_time(ok).is_ok(), "{ok}");
        }
        for refused in [
            "0000-01-01T00:00:00Z",
            "1989-12-31T23:59:59+00:00",
            "2101-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
        ] {
            let message = parse_time(refused).unwrap_err();
            assert!(
                message.contains("1990-01-01 to 2100-12-31"),
                "{refused}: {message}"
            );
        }
    }

    #[test]
    fn every_kept_instant_is_written_with_a_four_digit_year() {
        let (first, _) = parse_time("1990-01-01T00:00:00+14:00").unwrap();
        let (last, _) = parse_time("2100-12-31T23:59:59.999999-12:00").unwrap();
        assert_eq!(rfc3339(first), "1989-12-31T10:00:00Z");
        assert_eq!(rfc3339(last), "2101-01-01T11:59:59.999999Z");
        assert!(check_date(NaiveDate::from_ymd_opt(1989, 12, 31).unwrap()).is_err());
        assert!(check_date(NaiveDate::from_ymd_opt(2100, 12, 31).unwrap()).is_ok());
    }
}
