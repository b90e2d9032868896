//! Pure renderers for the weekly shortfall report (SPEC §4), one file per format:
//! `json` (the API's JSON and the canonical bytes a snapshot is hashed over), `csv`
//! (CSV), `hxl` (HXL-tagged CSV, wide and long), `html` (the printable page) with its
//! inline SVG `chart`, and the plain-language `summary` sentence. This file holds only
//! what several of them share: numbers, dates and escaping for people.
//!
//! Every function here is pure: same report in, same bytes out. Nothing reads
//! the clock, the environment or the file system.
//!
//! Units: the model holds integer kilograms. Machine formats (JSON, CSV, HXL)
//! write tonnes with exactly three decimals (`format_tonnes`, `"360.500"`);
//! the HTML page writes tonnes for people (`tonnes_human`, `"2,800 t"`).

use chrono::{DateTime, Datelike, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};

use crate::domain::quantity::Kg;

mod chart;
mod csv;
mod html;
mod hxl;
mod json;
mod summary;

pub use chart::history_svg;
pub use csv::{to_csv, CSV_HEADER};
pub use html::to_html;
pub use hxl::{
    to_hxl_csv, to_hxl_long, HXL_EXTRA_HEADER, HXL_LONG_HEADER, HXL_LONG_TAGS, HXL_TAGS,
};
pub use json::{canonical_json, to_json};
pub use summary::summarize;

// Numbers and dates for people (HTML, chart, summary), and the one figure format of
// the JSON that is not a tonnage (percentages).

/// Groups the digits of a non-negative integer with commas: `2800` → `2,800`.
pub fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Tonnes for people, without the unit: thousands separators, up to three
/// decimals with trailing zeros trimmed. `2_800_000` → `2,800`,
/// `69_495` → `69.495`, `500` → `0.5`, `0` → `0`.
pub fn tonnes_number(kg: Kg) -> String {
    let sign = if kg < 0 { "-" } else { "" };
    let abs = kg.unsigned_abs();
    let whole = group_thousands(abs / 1000);
    let frac = abs % 1000;
    if frac == 0 {
        format!("{sign}{whole}")
    } else {
        let frac = format!("{frac:03}");
        format!("{sign}{whole}.{}", frac.trim_end_matches('0'))
    }
}

/// Tonnes for people, with the unit: `"2,800 t"`, `"360 t"`, `"69.495 t"`.
pub fn tonnes_human(kg: Kg) -> String {
    format!("{} t", tonnes_number(kg))
}

/// A percentage as a decimal string with exactly one decimal, rounded half
/// away from zero: `12.5`, `100.0`, `33.3`.
pub fn percent_string(p: Decimal) -> String {
    let rounded = p.round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero);
    format!("{rounded:.1}")
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// English month name for 1..=12; an empty string otherwise.
fn month_name(month: u32) -> &'static str {
    usize::try_from(month)
        .ok()
        .and_then(|m| m.checked_sub(1))
        .and_then(|i| MONTHS.get(i))
        .copied()
        .unwrap_or("")
}

/// `26 July 2023`.
fn long_date(d: NaiveDate) -> String {
    format!("{} {} {}", d.day(), month_name(d.month()), d.year())
}

/// `24–30 July 2023`, `31 July – 6 August 2023`,
/// `25 December 2023 – 1 January 2024`.
pub fn date_range(starts: NaiveDate, ends: NaiveDate) -> String {
    if starts.year() != ends.year() {
        format!("{} – {}", long_date(starts), long_date(ends))
    } else if starts.month() != ends.month() {
        format!(
            "{} {} – {} {} {}",
            starts.day(),
            month_name(starts.month()),
            ends.day(),
            month_name(ends.month()),
            ends.year()
        )
    } else {
        format!(
            "{}–{} {} {}",
            starts.day(),
            ends.day(),
            month_name(ends.month()),
            ends.year()
        )
    }
}

/// An RFC 3339 time for people, in the offset it was written with:
/// `26 Jul 2023, 14:05 (+04:00)`. Unparseable input is shown as given.
fn human_time(rfc3339: &str) -> String {
    match DateTime::parse_from_rfc3339(rfc3339) {
        Ok(t) => t.format("%-d %b %Y, %H:%M (%:z)").to_string(),
        Err(_) => rfc3339.to_string(),
    }
}

/// `denied_at_checkpoint` → `denied at checkpoint`.
fn humanize_code(code: &str) -> String {
    code.replace('_', " ")
}

/// `2023-W31` → `W31`; anything else is returned unchanged.
fn short_week(week: &str) -> &str {
    match week.find("-W") {
        Some(i) => &week[i + 1..],
        None => week,
    }
}

/// Escapes text for HTML element content and double- or single-quoted
/// attribute values.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod fixture;

#[cfg(test)]
mod tests {
    use super::fixture::{date, fixture};
    use super::*;
    use crate::domain::quantity::format_tonnes;

    fn target_dir() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target")
    }

    #[test]
    fn format_tonnes_has_three_decimals() {
        for (kg, want) in [
            (360_500, "360.500"),
            (-1_500, "-1.500"),
            (1, "0.001"),
            (0, "0.000"),
            (2_800_000, "2800.000"),
            (i64::MIN, "-9223372036854775.808"),
        ] {
            assert_eq!(format_tonnes(kg), want, "{kg} kg");
        }
    }

    #[test]
    fn tonnes_human_table() {
        for (kg, want) in [
            (2_800_000, "2,800 t"),
            (360_000, "360 t"),
            (69_495, "69.495 t"),
            (360_500, "360.5 t"),
            (500, "0.5 t"),
            (1, "0.001 t"),
            (999, "0.999 t"),
            (0, "0 t"),
            (-1_500, "-1.5 t"),
            (1_000_000_000, "1,000,000 t"),
            (1_234_567_890, "1,234,567.89 t"),
            (100_010, "100.01 t"),
        ] {
            assert_eq!(tonnes_human(kg), want, "{kg} kg");
        }
    }

    #[test]
    fn percent_string_table() {
        for (p, want) in [
            (Decimal::new(125, 1), "12.5"),
            (Decimal::new(1225, 2), "12.3"),
            (Decimal::new(2482, 3), "2.5"),
            (Decimal::new(100, 0), "100.0"),
            (Decimal::ZERO, "0.0"),
            (Decimal::new(33333, 3), "33.3"),
        ] {
            assert_eq!(percent_string(p), want, "{p}");
        }
    }

    #[test]
    fn date_range_table() {
        for (a, b, want) in [
            (date(2023, 7, 24), date(2023, 7, 30), "24–30 July 2023"),
            (
                date(2023, 7, 31),
                date(2023, 8, 6),
                "31 July – 6 August 2023",
            ),
            (
                date(2024, 12, 30),
                date(2025, 1, 5),
                "30 December 2024 – 5 January 2025",
            ),
        ] {
            assert_eq!(date_range(a, b), want);
        }
    }

    /// Writes the fixture in every format under target/ for manual checks
    /// (libhxl, headless Chromium).
    #[test]
    fn write_fixture_files() {
        let r = fixture();
        let dir = target_dir();
        std::fs::create_dir_all(&dir).expect("target dir");
        std::fs::write(dir.join("fixture.hxl.csv"), to_hxl_csv(&r)).expect("write hxl");
        let long = to_hxl_long(&r).expect("the fixture has its lines");
        std::fs::write(dir.join("fixture.long.hxl.csv"), long).expect("write long hxl");
        std::fs::write(dir.join("fixture.csv"), to_csv(&r)).expect("write csv");
        std::fs::write(dir.join("fixture.html"), to_html(&r)).expect("write html");
        let json = serde_json::to_string_pretty(&to_json(&r)).expect("json");
        std::fs::write(dir.join("fixture.json"), json).expect("write json");

        // A quiet week: nothing required, planned or delivered, no alerts.
        let mut quiet = r;
        for h in &mut quiet.history {
            h.requirement = 0;
            h.planned = 0;
            h.delivered = 0;
            h.cumulative_shortfall = 0;
        }
        quiet.alerts.clear();
        quiet.convoys.clear();
        quiet.stalled.clear();
        std::fs::write(dir.join("fixture-quiet.html"), to_html(&quiet)).expect("write html");
    }
}
