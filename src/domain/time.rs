//! Instants as aidflow keeps them — microseconds since the Unix epoch, an exact integer on
//! both backends — and their RFC 3339 text.

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};

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
    Ok((t.timestamp_micros(), t.offset().local_minus_utc()))
}
