//! Pure renderers for the weekly shortfall report (SPEC §4): JSON, CSV,
//! HXL-tagged CSV and a printable HTML page with an inline SVG chart.
//!
//! Every function here is pure: same report in, same bytes out. Nothing reads
//! the clock, the environment or the file system.
//!
//! Units: the model holds integer kilograms. Machine formats (JSON, CSV, HXL)
//! write tonnes with exactly three decimals (`format_tonnes`, `"360.500"`);
//! the HTML page writes tonnes for people (`tonnes_human`, `"2,800 t"`).

use chrono::{DateTime, Datelike, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{Map, Value};

use super::model::{
    AlertLine, Breakdown, CheckpointBreakdown, ConvoyLine, HistoryWeek, WeekFigures, WeeklyReport,
};
use crate::domain::quantity::{format_tonnes, Kg};

// ---------------------------------------------------------------------------
// Numbers and dates for people
// ---------------------------------------------------------------------------

/// Groups the digits of a non-negative integer with commas: `2800` → `2,800`.
fn group_thousands(n: u64) -> String {
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

// ---------------------------------------------------------------------------
// Summary sentence
// ---------------------------------------------------------------------------

/// The plain-language summary at the top of the report.
///
/// `held` lists groups of cargo held now: (kilograms on board, checkpoint
/// label, local date the hold began). Example:
/// `"In week 31, 0 of 360 t planned for the Lachin route arrived; 360 t held
/// at KORNIDZOR since 26 July."` With `route_label` `None` the sentence says
/// "planned for the corridor"; without held groups it ends after "arrived.".
pub fn summarize(
    week_number: u32,
    route_label: Option<&str>,
    planned: Kg,
    delivered: Kg,
    held: &[(Kg, String, NaiveDate)],
) -> String {
    let target = route_label.unwrap_or("the corridor");
    let mut out = format!(
        "In week {week_number}, {} of {} planned for {target} arrived",
        tonnes_number(delivered),
        tonnes_human(planned)
    );
    let groups: Vec<String> = held
        .iter()
        .map(|(kg, checkpoint, since)| {
            format!(
                "{} held at {checkpoint} since {} {}",
                tonnes_human(*kg),
                since.day(),
                month_name(since.month())
            )
        })
        .collect();
    if !groups.is_empty() {
        out.push_str("; ");
        out.push_str(&groups.join("; "));
    }
    out.push('.');
    out
}

// ---------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------

fn tonnes_value(kg: Kg) -> Value {
    Value::String(format_tonnes(kg))
}

fn opt_tonnes_value(kg: Option<Kg>) -> Value {
    kg.map_or(Value::Null, tonnes_value)
}

fn str_value(s: &str) -> Value {
    Value::String(s.to_string())
}

fn opt_str_value(s: Option<&str>) -> Value {
    s.map_or(Value::Null, str_value)
}

fn date_value(d: NaiveDate) -> Value {
    Value::String(d.format("%Y-%m-%d").to_string())
}

/// Builds an object from fields listed in struct order.
fn object(fields: Vec<(&str, Value)>) -> Value {
    let mut map = Map::new();
    for (key, value) in fields {
        map.insert(key.to_string(), value);
    }
    Value::Object(map)
}

fn figures_json(f: &WeekFigures) -> Value {
    object(vec![
        ("requirement", tonnes_value(f.requirement)),
        ("planned", tonnes_value(f.planned)),
        ("delivered", tonnes_value(f.delivered)),
        (
            "delivered_during_week",
            tonnes_value(f.delivered_during_week),
        ),
        (
            "shortfall_against_plan",
            tonnes_value(f.shortfall_against_plan),
        ),
        (
            "shortfall_against_requirement",
            tonnes_value(f.shortfall_against_requirement),
        ),
        (
            "coverage_percent",
            f.coverage_percent
                .map_or(Value::Null, |p| Value::String(percent_string(p))),
        ),
        ("short_loaded", tonnes_value(f.short_loaded)),
        ("denied", tonnes_value(f.denied)),
        ("lost", tonnes_value(f.lost)),
        ("rejected", tonnes_value(f.rejected)),
        ("outstanding", tonnes_value(f.outstanding)),
        ("cancelled", tonnes_value(f.cancelled)),
    ])
}

fn breakdown_json(b: &Breakdown) -> Value {
    object(vec![
        ("key", str_value(&b.key)),
        ("name", str_value(&b.name)),
        ("requirement", opt_tonnes_value(b.requirement)),
        ("planned", tonnes_value(b.planned)),
        ("delivered", tonnes_value(b.delivered)),
        (
            "delivered_during_week",
            tonnes_value(b.delivered_during_week),
        ),
        ("shortfall", tonnes_value(b.shortfall)),
        ("denied", tonnes_value(b.denied)),
        ("lost", tonnes_value(b.lost)),
    ])
}

fn checkpoint_json(c: &CheckpointBreakdown) -> Value {
    object(vec![
        ("checkpoint", str_value(&c.checkpoint)),
        ("name", str_value(&c.name)),
        ("denied", tonnes_value(c.denied)),
        (
            "lost",
            Value::Array(
                c.lost
                    .iter()
                    .map(|r| {
                        object(vec![
                            ("reason", str_value(&r.reason)),
                            ("tonnes", tonnes_value(r.kg)),
                        ])
                    })
                    .collect(),
            ),
        ),
        ("lost_total", tonnes_value(c.lost_total)),
        ("held_now", tonnes_value(c.held_now)),
    ])
}

fn convoy_json(c: &ConvoyLine) -> Value {
    object(vec![
        ("id", str_value(&c.id)),
        ("reference", str_value(&c.reference)),
        ("organization", str_value(&c.organization)),
        ("route", str_value(&c.route)),
        ("origin", str_value(&c.origin)),
        ("destination", str_value(&c.destination)),
        ("trucks", c.trucks.map_or(Value::Null, Value::from)),
        ("expected_arrival", str_value(&c.expected_arrival)),
        ("status", str_value(&c.status)),
        (
            "last_checkpoint",
            opt_str_value(c.last_checkpoint.as_deref()),
        ),
        ("last_seen_at", opt_str_value(c.last_seen_at.as_deref())),
        ("planned", tonnes_value(c.planned)),
        ("delivered", tonnes_value(c.delivered)),
        ("outstanding", tonnes_value(c.outstanding)),
        ("held_since", opt_str_value(c.held_since.as_deref())),
    ])
}

fn alert_json(a: &AlertLine) -> Value {
    object(vec![
        ("id", str_value(&a.id)),
        ("rule", str_value(&a.rule)),
        ("severity", str_value(&a.severity)),
        ("subject", str_value(&a.subject)),
        ("opened_at", str_value(&a.opened_at)),
        ("message", str_value(&a.message)),
    ])
}

fn history_json(h: &HistoryWeek) -> Value {
    object(vec![
        ("week", str_value(&h.week)),
        ("requirement", tonnes_value(h.requirement)),
        ("planned", tonnes_value(h.planned)),
        ("delivered", tonnes_value(h.delivered)),
        ("cumulative_shortfall", tonnes_value(h.cumulative_shortfall)),
    ])
}

fn array<T>(items: &[T], f: fn(&T) -> Value) -> Value {
    Value::Array(items.iter().map(f).collect())
}

/// The report as JSON, for the API.
///
/// Field names follow the model; every kilogram field is written as a tonnes
/// string with exactly three decimals (`"360.000"`), optional ones as `null`;
/// `coverage_percent` is a string with one decimal (`"12.5"`) or `null`;
/// dates are `YYYY-MM-DD`. The one renamed field is `ReasonKg::kg`, written
/// as `"tonnes"` because it no longer holds kilograms.
///
/// Key order: fields are inserted in struct order. Without serde_json's
/// `preserve_order` feature (not enabled here) a `Value` object is a
/// `BTreeMap`, so it serializes with keys sorted, which is deterministic;
/// with the feature it would keep struct order, also deterministic. Because
/// Cargo feature unification could switch that feature on from another
/// crate, the bytes to hash for a snapshot come from [`canonical_json`],
/// which sorts keys itself and does not depend on the feature.
pub fn to_json(r: &WeeklyReport) -> Value {
    let t = &r.cumulative;
    object(vec![
        ("week", str_value(&r.week)),
        ("timezone", str_value(&r.timezone)),
        ("starts", date_value(r.starts)),
        ("ends", date_value(r.ends)),
        (
            "scope",
            object(vec![
                ("route", opt_str_value(r.scope.route.as_deref())),
                (
                    "organization",
                    opt_str_value(r.scope.organization.as_deref()),
                ),
            ]),
        ),
        ("totals", figures_json(&r.totals)),
        (
            "cumulative",
            object(vec![
                ("since", t.since.map_or(Value::Null, date_value)),
                ("requirement", tonnes_value(t.requirement)),
                ("planned", tonnes_value(t.planned)),
                ("delivered", tonnes_value(t.delivered)),
                (
                    "shortfall_against_requirement",
                    tonnes_value(t.shortfall_against_requirement),
                ),
                (
                    "shortfall_against_plan",
                    tonnes_value(t.shortfall_against_plan),
                ),
            ]),
        ),
        ("by_commodity", array(&r.by_commodity, breakdown_json)),
        ("by_organization", array(&r.by_organization, breakdown_json)),
        ("by_route", array(&r.by_route, breakdown_json)),
        ("by_checkpoint", array(&r.by_checkpoint, checkpoint_json)),
        ("convoys", array(&r.convoys, convoy_json)),
        ("stalled", array(&r.stalled, convoy_json)),
        ("alerts", array(&r.alerts, alert_json)),
        ("history", array(&r.history, history_json)),
        ("summary", str_value(&r.summary)),
    ])
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(value, out);
            }
            out.push('}');
        }
        // Scalars: serde_json's compact form (strings escaped per RFC 8259).
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// Canonical JSON of the report, the bytes whose SHA-256 identifies a
/// published snapshot: the value of [`to_json`], compact (no whitespace),
/// object keys sorted by byte order at every level, UTF-8. Independent of
/// serde_json's `preserve_order` feature.
pub fn canonical_json(r: &WeeklyReport) -> String {
    let mut out = String::new();
    write_canonical(&to_json(r), &mut out);
    out
}

// ---------------------------------------------------------------------------
// CSV and HXL
// ---------------------------------------------------------------------------

/// The CSV header, shared by [`to_csv`] and [`to_hxl_csv`].
pub const CSV_HEADER: [&str; 13] = [
    "week",
    "dimension",
    "key",
    "name",
    "origin",
    "destination",
    "requirement_t",
    "planned_t",
    "delivered_t",
    "delivered_during_week_t",
    "shortfall_t",
    "denied_t",
    "lost_t",
];

/// Extra columns of the HXL file, after the CSV columns.
pub const HXL_EXTRA_HEADER: [&str; 3] = ["date", "org", "item"];

/// The HXL hashtag row: one tag per column of `CSV_HEADER` then
/// `HXL_EXTRA_HEADER`.
pub const HXL_TAGS: [&str; 16] = [
    "#meta+week",
    "#meta+dimension",
    "#meta+key",
    "#meta+name",
    "#loc+origin",
    "#loc+dest",
    "#value+requirement+t",
    "#value+planned+t",
    "#value+delivered+t",
    "#value+delivered_during_week+t",
    "#value+shortfall+t",
    "#value+denied+t",
    "#value+lost+t",
    "#date",
    "#org",
    "#item+name",
];

/// One row of the flat export. `None` quantities are written as empty cells
/// (not applicable), never as 0.
#[derive(Default)]
struct FlatRow {
    dimension: &'static str,
    key: String,
    name: String,
    origin: String,
    destination: String,
    requirement: Option<Kg>,
    planned: Option<Kg>,
    delivered: Option<Kg>,
    delivered_during_week: Option<Kg>,
    shortfall: Option<Kg>,
    denied: Option<Kg>,
    lost: Option<Kg>,
    /// HXL only: organization name (organization and convoy rows).
    org: String,
    /// HXL only: commodity name (commodity rows).
    item: String,
}

fn breakdown_row(dimension: &'static str, b: &Breakdown) -> FlatRow {
    FlatRow {
        dimension,
        key: b.key.clone(),
        name: b.name.clone(),
        requirement: b.requirement,
        planned: Some(b.planned),
        delivered: Some(b.delivered),
        delivered_during_week: Some(b.delivered_during_week),
        shortfall: Some(b.shortfall),
        denied: Some(b.denied),
        lost: Some(b.lost),
        ..FlatRow::default()
    }
}

/// The rows of the flat export, in this order:
///
/// 1. `total` — key `total`, name `All convoys in scope`; shortfall is the
///    shortfall against plan (as in the breakdowns).
/// 2. `route` — one per `by_route`; origin/destination are taken from the
///    first listed convoy (week's, then stalled) on that route, else empty.
/// 3. `organization` — one per `by_organization`.
/// 4. `commodity` — one per `by_commodity`.
/// 5. `checkpoint` — one per `by_checkpoint`; only `denied_t` and `lost_t`
///    (the lost total) are filled.
/// 6. `convoy` — one per convoy due in the week (`convoys`, not `stalled`):
///    key = reference, name = organization, origin/destination of its route,
///    planned, delivered and shortfall = planned − delivered.
///
/// Empty cells mean "not applicable" (e.g. requirements by organization).
fn flat_rows(r: &WeeklyReport) -> Vec<FlatRow> {
    let mut rows = Vec::new();
    let t = &r.totals;
    rows.push(FlatRow {
        dimension: "total",
        key: "total".to_string(),
        name: "All convoys in scope".to_string(),
        requirement: Some(t.requirement),
        planned: Some(t.planned),
        delivered: Some(t.delivered),
        delivered_during_week: Some(t.delivered_during_week),
        shortfall: Some(t.shortfall_against_plan),
        denied: Some(t.denied),
        lost: Some(t.lost),
        ..FlatRow::default()
    });
    for b in &r.by_route {
        let mut row = breakdown_row("route", b);
        if let Some(c) = r
            .convoys
            .iter()
            .chain(r.stalled.iter())
            .find(|c| c.route == b.key)
        {
            row.origin = c.origin.clone();
            row.destination = c.destination.clone();
        }
        rows.push(row);
    }
    for b in &r.by_organization {
        let mut row = breakdown_row("organization", b);
        row.org = b.name.clone();
        rows.push(row);
    }
    for b in &r.by_commodity {
        let mut row = breakdown_row("commodity", b);
        row.item = b.name.clone();
        rows.push(row);
    }
    for c in &r.by_checkpoint {
        rows.push(FlatRow {
            dimension: "checkpoint",
            key: c.checkpoint.clone(),
            name: c.name.clone(),
            denied: Some(c.denied),
            lost: Some(c.lost_total),
            ..FlatRow::default()
        });
    }
    for c in &r.convoys {
        rows.push(FlatRow {
            dimension: "convoy",
            key: c.reference.clone(),
            name: c.organization.clone(),
            origin: c.origin.clone(),
            destination: c.destination.clone(),
            planned: Some(c.planned),
            delivered: Some(c.delivered),
            shortfall: Some(c.planned - c.delivered),
            org: c.organization.clone(),
            ..FlatRow::default()
        });
    }
    rows
}

fn cell(kg: Option<Kg>) -> String {
    kg.map(format_tonnes).unwrap_or_default()
}

fn flat_record(week: &str, row: &FlatRow) -> Vec<String> {
    vec![
        week.to_string(),
        row.dimension.to_string(),
        row.key.clone(),
        row.name.clone(),
        row.origin.clone(),
        row.destination.clone(),
        cell(row.requirement),
        cell(row.planned),
        cell(row.delivered),
        cell(row.delivered_during_week),
        cell(row.shortfall),
        cell(row.denied),
        cell(row.lost),
    ]
}

fn write_csv(records: &[Vec<String>]) -> Result<String, csv::Error> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    for record in records {
        writer.write_record(record)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Writing to memory cannot fail; should the csv crate report an error
/// anyway, the result is an empty string rather than a partial file.
fn csv_or_empty(records: &[Vec<String>]) -> String {
    write_csv(records).unwrap_or_default()
}

/// The report as CSV (RFC 4180: CRLF line ends, fields quoted when needed).
///
/// Header: [`CSV_HEADER`]. Rows: see the list below. Tonnes are written with
/// exactly three decimals and no thousands separators; empty cells mean "not
/// applicable".
///
/// 1. `total` — key `total`; shortfall = shortfall against plan.
/// 2. `route`, 3. `organization`, 4. `commodity` — one row per breakdown
///    key; route rows take origin/destination from a convoy on that route.
/// 5. `checkpoint` — denied and lost (total) only.
/// 6. `convoy` — one row per convoy due in the week: key = reference,
///    name = organization, origin/destination from its route, planned,
///    delivered, shortfall = planned − delivered.
pub fn to_csv(r: &WeeklyReport) -> String {
    let mut records = vec![CSV_HEADER.iter().map(|s| s.to_string()).collect()];
    records.extend(flat_rows(r).iter().map(|row| flat_record(&r.week, row)));
    csv_or_empty(&records)
}

/// The report as HXL-tagged CSV: the rows of [`to_csv`], the same columns
/// followed by `date` (the week's Monday, `YYYY-MM-DD`), `org` (filled on
/// organization and convoy rows) and `item` (filled on commodity rows), with
/// the hashtag row [`HXL_TAGS`] directly under the header.
pub fn to_hxl_csv(r: &WeeklyReport) -> String {
    let header: Vec<String> = CSV_HEADER
        .iter()
        .chain(HXL_EXTRA_HEADER.iter())
        .map(|s| s.to_string())
        .collect();
    let tags: Vec<String> = HXL_TAGS.iter().map(|s| s.to_string()).collect();
    let monday = r.starts.format("%Y-%m-%d").to_string();
    let mut records = vec![header, tags];
    for row in flat_rows(r) {
        let mut record = flat_record(&r.week, &row);
        record.push(monday.clone());
        record.push(row.org.clone());
        record.push(row.item.clone());
        records.push(record);
    }
    csv_or_empty(&records)
}

// ---------------------------------------------------------------------------
// HTML
// ---------------------------------------------------------------------------

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

const CSS: &str = r#"
:root { --ink: #1b1f24; --muted: #59636e; --line: #d8dee4; --head: #f3f5f7;
  --req: #b3bac2; --plan: #5b9bd5; --deliv: #1a7f37; --short: #c62828; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0; color: var(--ink); background: #fff;
  font: 14px/1.45 "DejaVu Sans", "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 32px 32px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
.meta { color: var(--muted); margin: 0 0 16px; }
.summary { margin: 16px 0 20px; padding: 14px 18px; border: 1px solid #f0b4b4;
  border-left: 6px solid var(--short); background: #fff5f5; font-size: 18px; font-weight: 600; }
.summary p { margin: 0; }
.cols { display: grid; grid-template-columns: 1fr 1fr; gap: 28px; }
.cols h2 { margin-top: 8px; }
table { width: 100%; border-collapse: collapse; font-size: 13px; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
thead th { background: var(--head); font-weight: 600; border-bottom: 1px solid #b9c1c9; }
th.num, td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
tr.strong th, tr.strong td { font-weight: 700; }
tr.total td { font-weight: 700; border-top: 2px solid #b9c1c9; }
td.ref { min-width: 8.5em; }
table.breakdown th:first-child, table.breakdown td:first-child { width: 24%; }
.key { display: block; color: var(--muted); font-size: 11px; }
.empty { color: var(--muted); font-style: italic; }
.badge { display: inline-block; padding: 0 6px; border-radius: 9px; font-size: 12px;
  white-space: nowrap; background: #eef1f4; border: 1px solid #d0d7de; }
.badge.held, .badge.turned_back, .badge.critical { background: #fde8e8; border-color: #f0b4b4; color: #8a1c1c; }
.badge.short_delivered, .badge.warning { background: #fff4dc; border-color: #efd48f; color: #6b4e00; }
.badge.delivered { background: #e6f4ea; border-color: #a8d5b5; color: #0f5323; }
.badge.in_transit { background: #e8f1fb; border-color: #b3cfee; color: #174a7c; }
figure { margin: 0; }
figure svg { display: block; width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 12px; margin-top: 4px; }
footer { margin-top: 32px; padding-top: 8px; border-top: 1px solid var(--line); color: var(--muted); font-size: 12px; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { font-size: 10pt; }
  main { max-width: none; padding: 0; }
  h2 { break-after: avoid; page-break-after: avoid; }
  table { page-break-inside: auto; }
  thead { display: table-header-group; }
  tr, th, td { break-inside: avoid; page-break-inside: avoid; }
  .summary, figure, .headline { break-inside: avoid; page-break-inside: avoid; }
  .cols { gap: 16px; }
}
"#;

fn th(label: &str) -> String {
    format!("<th>{}</th>", html_escape(label))
}

fn th_num(label: &str) -> String {
    format!("<th class=\"num\">{}</th>", html_escape(label))
}

fn td(text: &str) -> String {
    format!("<td>{}</td>", html_escape(text))
}

fn td_t(kg: Kg) -> String {
    format!("<td class=\"num\">{}</td>", tonnes_human(kg))
}

fn td_opt_t(kg: Option<Kg>) -> String {
    match kg {
        Some(kg) => td_t(kg),
        None => "<td class=\"num\">—</td>".to_string(),
    }
}

fn badge(code: &str) -> String {
    let class: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    format!(
        "<span class=\"badge {class}\">{}</span>",
        html_escape(&humanize_code(code))
    )
}

/// A table with a header row and body rows (each already `<td>` cells);
/// `empty` is shown in one spanning cell when there are no rows.
fn table(class: &str, headers: &[String], rows: &[String], empty: &str) -> String {
    let mut out = format!("<table class=\"{class}\"><thead><tr>");
    for h in headers {
        out.push_str(h);
    }
    out.push_str("</tr></thead><tbody>");
    if rows.is_empty() {
        out.push_str(&format!(
            "<tr><td class=\"empty\" colspan=\"{}\">{}</td></tr>",
            headers.len(),
            html_escape(empty)
        ));
    }
    for row in rows {
        out.push_str("<tr>");
        out.push_str(row);
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    out
}

fn name_cell(name: &str, key: &str) -> String {
    if key.is_empty() || key == name {
        td(name)
    } else {
        format!(
            "<td>{}<span class=\"key\">{}</span></td>",
            html_escape(name),
            html_escape(key)
        )
    }
}

fn headline_html(r: &WeeklyReport) -> String {
    let t = &r.totals;
    let coverage = match t.coverage_percent {
        Some(p) => format!("{} %", percent_string(p)),
        None => "— (no requirement)".to_string(),
    };
    let line = |label: &str, value: String, strong: bool| {
        format!(
            "<tr{}><th scope=\"row\">{}</th><td class=\"num\">{}</td></tr>",
            if strong { " class=\"strong\"" } else { "" },
            html_escape(label),
            html_escape(&value)
        )
    };
    let mut out =
        String::from("<section class=\"cols headline\"><div><h2>The week</h2><table><tbody>");
    for row in [
        line("Requirement", tonnes_human(t.requirement), false),
        line(
            "Planned (convoys due this week)",
            tonnes_human(t.planned),
            false,
        ),
        line(
            "Delivered for this week’s convoys, to date",
            tonnes_human(t.delivered),
            false,
        ),
        line(
            "Delivered during the week (any convoy)",
            tonnes_human(t.delivered_during_week),
            false,
        ),
        line(
            "Shortfall against plan",
            tonnes_human(t.shortfall_against_plan),
            true,
        ),
        line(
            "Shortfall against requirement",
            tonnes_human(t.shortfall_against_requirement),
            true,
        ),
        line("Coverage of requirement", coverage, true),
    ] {
        out.push_str(&row);
    }
    out.push_str("</tbody></table></div><div><h2>Where the planned tonnes went</h2><table><tbody>");
    for row in [
        line(
            "Short-loaded at departure",
            tonnes_human(t.short_loaded),
            false,
        ),
        line("Denied at checkpoints", tonnes_human(t.denied), false),
        line("Lost on the way", tonnes_human(t.lost), false),
        line("Rejected on receipt", tonnes_human(t.rejected), false),
        line("Still outstanding", tonnes_human(t.outstanding), true),
        line(
            "Cancelled (reported apart, not in planned)",
            tonnes_human(t.cancelled),
            false,
        ),
    ] {
        out.push_str(&row);
    }
    let c = &r.cumulative;
    let since = match c.since {
        Some(d) => format!("Since tracking began ({})", long_date(d)),
        None => "Since tracking began".to_string(),
    };
    out.push_str(&format!(
        "</tbody></table><h2>{}</h2><table><tbody>",
        html_escape(&since)
    ));
    for row in [
        line("Requirement", tonnes_human(c.requirement), false),
        line("Planned", tonnes_human(c.planned), false),
        line("Delivered", tonnes_human(c.delivered), false),
        line(
            "Shortfall against requirement",
            tonnes_human(c.shortfall_against_requirement),
            true,
        ),
        line(
            "Shortfall against plan",
            tonnes_human(c.shortfall_against_plan),
            false,
        ),
    ] {
        out.push_str(&row);
    }
    out.push_str("</tbody></table></div></section>");
    out
}

fn breakdown_html(title: &str, label: &str, items: &[Breakdown]) -> String {
    let headers = vec![
        th(label),
        th_num("Requirement"),
        th_num("Planned"),
        th_num("Delivered"),
        th_num("Delivered during week"),
        th_num("Shortfall vs plan"),
        th_num("Denied"),
        th_num("Lost"),
    ];
    let rows: Vec<String> = items
        .iter()
        .map(|b| {
            [
                name_cell(&b.name, &b.key),
                td_opt_t(b.requirement),
                td_t(b.planned),
                td_t(b.delivered),
                td_t(b.delivered_during_week),
                td_t(b.shortfall),
                td_t(b.denied),
                td_t(b.lost),
            ]
            .concat()
        })
        .collect();
    format!(
        "<section><h2>{}</h2>{}</section>",
        html_escape(title),
        table("breakdown", &headers, &rows, "Nothing in this week.")
    )
}

fn checkpoint_html(items: &[CheckpointBreakdown]) -> String {
    let headers = vec![
        th("Checkpoint"),
        th_num("Denied"),
        th("Lost, by reason"),
        th_num("Lost in total"),
        th_num("Held there now"),
    ];
    let rows: Vec<String> = items
        .iter()
        .map(|c| {
            let reasons = if c.lost.is_empty() {
                "—".to_string()
            } else {
                c.lost
                    .iter()
                    .map(|r| {
                        format!(
                            "{}: {}",
                            html_escape(&humanize_code(&r.reason)),
                            tonnes_human(r.kg)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("<br>")
            };
            [
                name_cell(&c.name, &c.checkpoint),
                td_t(c.denied),
                format!("<td>{reasons}</td>"),
                td_t(c.lost_total),
                td_t(c.held_now),
            ]
            .concat()
        })
        .collect();
    format!(
        "<section><h2>By checkpoint</h2>{}</section>",
        table(
            "list",
            &headers,
            &rows,
            "No cargo was denied, lost or held at a checkpoint."
        )
    )
}

fn route_cell(c: &ConvoyLine) -> String {
    format!(
        "<td>{} → {}<span class=\"key\">{}</span></td>",
        html_escape(&c.origin),
        html_escape(&c.destination),
        html_escape(&c.route)
    )
}

fn reference_cell(c: &ConvoyLine) -> String {
    let trucks = match c.trucks {
        Some(1) => "1 truck".to_string(),
        Some(n) => format!("{n} trucks"),
        None => String::new(),
    };
    format!(
        "<td class=\"ref\">{}<span class=\"key\">{}</span></td>",
        html_escape(&c.reference),
        html_escape(&trucks)
    )
}

fn last_seen(c: &ConvoyLine) -> String {
    match (&c.last_checkpoint, &c.last_seen_at) {
        (Some(cp), Some(at)) => format!(
            "<td>{}<span class=\"key\">{}</span></td>",
            html_escape(cp),
            html_escape(&human_time(at))
        ),
        (Some(cp), None) => td(cp),
        (None, Some(at)) => td(&human_time(at)),
        (None, None) => td("—"),
    }
}

fn convoys_html(items: &[ConvoyLine]) -> String {
    let headers = vec![
        th("Convoy"),
        th("Organization"),
        th("Route"),
        th("Expected arrival"),
        th("Status"),
        th("Last seen"),
        th_num("Planned"),
        th_num("Delivered"),
        th_num("Outstanding"),
    ];
    let rows: Vec<String> = items
        .iter()
        .map(|c| {
            [
                reference_cell(c),
                td(&c.organization),
                route_cell(c),
                td(&human_time(&c.expected_arrival)),
                format!("<td>{}</td>", badge(&c.status)),
                last_seen(c),
                td_t(c.planned),
                td_t(c.delivered),
                td_t(c.outstanding),
            ]
            .concat()
        })
        .collect();
    format!(
        "<section><h2>Convoys due this week</h2>{}</section>",
        table(
            "list",
            &headers,
            &rows,
            "No convoy was due to arrive in this week."
        )
    )
}

fn stalled_html(items: &[ConvoyLine]) -> String {
    let headers = vec![
        th("Convoy"),
        th("Organization"),
        th("Route"),
        th("Status"),
        th("Held at"),
        th("Held since"),
        th("Expected arrival"),
        th_num("On board"),
    ];
    let rows: Vec<String> = items
        .iter()
        .map(|c| {
            [
                reference_cell(c),
                td(&c.organization),
                route_cell(c),
                format!("<td>{}</td>", badge(&c.status)),
                td(c.last_checkpoint.as_deref().unwrap_or("—")),
                td(&c.held_since.as_deref().map_or("—".to_string(), human_time)),
                td(&human_time(&c.expected_arrival)),
                td_t(c.outstanding),
            ]
            .concat()
        })
        .collect();
    format!(
        "<section><h2>Stalled convoys at the end of the week</h2>{}</section>",
        table(
            "list",
            &headers,
            &rows,
            "No convoy was held or stalled at the end of the week."
        )
    )
}

fn alerts_html(items: &[AlertLine]) -> String {
    if items.is_empty() {
        return "<section><h2>Alerts opened this week</h2><p class=\"empty\">No alerts were opened in this week.</p></section>".to_string();
    }
    let headers = vec![
        th("Opened"),
        th("Severity"),
        th("Rule"),
        th("Subject"),
        th("Message"),
    ];
    let rows: Vec<String> = items
        .iter()
        .map(|a| {
            [
                td(&human_time(&a.opened_at)),
                format!("<td>{}</td>", badge(&a.severity)),
                td(&humanize_code(&a.rule)),
                td(&a.subject),
                td(&a.message),
            ]
            .concat()
        })
        .collect();
    format!(
        "<section><h2>Alerts opened this week</h2>{}</section>",
        table("list", &headers, &rows, "")
    )
}

// ---------------------------------------------------------------------------
// SVG chart
// ---------------------------------------------------------------------------

/// The smallest "round" step ≥ `raw` kg, from 1, 1.2, 1.5, 2, 2.5, 3, 4, 5,
/// 6, 8 × 10ⁿ kg (whole kilograms only).
fn round_step_at_least(raw: i64) -> i64 {
    const MANTISSAS: [i64; 10] = [10, 12, 15, 20, 25, 30, 40, 50, 60, 80];
    let raw = raw.max(1);
    let mut pow: i64 = 1;
    loop {
        for m in MANTISSAS {
            let scaled = m * pow;
            if scaled % 10 == 0 && scaled / 10 >= raw {
                return scaled / 10;
            }
        }
        match pow.checked_mul(10) {
            Some(next) if next <= i64::MAX / 100 => pow = next,
            _ => return raw,
        }
    }
}

fn ceil_div(a: i64, b: i64) -> i64 {
    if b <= 0 || a <= 0 {
        0
    } else {
        (a + b - 1) / b
    }
}

/// Gridlines above and below zero needed for `[min, max]` with about five
/// intervals.
fn intervals(min: i64, max: i64) -> (i64, i64) {
    let range = max.saturating_sub(min);
    if range == 0 {
        return (0, 0);
    }
    let step = round_step_at_least(ceil_div(range, 5));
    (ceil_div(max, step), ceil_div(min.saturating_neg(), step))
}

/// The step of an axis that spans `above` intervals above zero and `below`
/// under it and must hold `[min, max]`. All-zero data gets 1 t steps.
fn fit_step(min: i64, max: i64, above: i64, below: i64) -> i64 {
    if min == 0 && max == 0 {
        return 1000;
    }
    let need_up = if above > 0 { ceil_div(max, above) } else { 0 };
    let need_down = if below > 0 {
        ceil_div(min.saturating_neg(), below)
    } else {
        0
    };
    round_step_at_least(need_up.max(need_down))
}

/// Two aligned axes: weekly tonnes on the left, cumulative shortfall on the
/// right; both share the same gridlines (`above` over zero, `below` under).
struct Axes {
    above: i64,
    below: i64,
    left_step: i64,
    right_step: i64,
}

fn axes(history: &[HistoryWeek]) -> Axes {
    let weekly = history
        .iter()
        .flat_map(|h| [h.requirement, h.planned, h.delivered]);
    let (l_min, l_max) = weekly.fold((0, 0), |(lo, hi), v| (v.min(lo), v.max(hi)));
    let (r_min, r_max) = history.iter().fold((0, 0), |(lo, hi), h| {
        (
            h.cumulative_shortfall.min(lo),
            h.cumulative_shortfall.max(hi),
        )
    });
    let (l_up, l_down) = intervals(l_min, l_max);
    let (r_up, r_down) = intervals(r_min, r_max);
    let mut above = l_up.max(r_up);
    let below = l_down.max(r_down);
    if above + below == 0 {
        above = 5;
    }
    Axes {
        above,
        below,
        left_step: fit_step(l_min, l_max, above, below),
        right_step: fit_step(r_min, r_max, above, below),
    }
}

/// Server-rendered SVG of the history weeks: grouped bars (requirement,
/// planned, delivered) against the left axis, and the cumulative shortfall
/// as a line against the right axis. Every week is a `<g class="week">`.
pub fn history_svg(history: &[HistoryWeek]) -> String {
    const W: f64 = 1000.0;
    const H: f64 = 400.0;
    const LEFT: f64 = 84.0;
    const RIGHT: f64 = 96.0;
    const TOP: f64 = 52.0;
    const BOTTOM: f64 = 44.0;
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let ax = axes(history);
    let n_int = (ax.above + ax.below) as f64;
    let unit = plot_h / n_int;
    let zero_y = TOP + unit * ax.above as f64;
    let y_left = |kg: Kg| zero_y - kg as f64 / ax.left_step as f64 * unit;
    let y_right = |kg: Kg| zero_y - kg as f64 / ax.right_step as f64 * unit;

    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {H}\" role=\"img\" \
         aria-labelledby=\"chart-title\" font-family=\"DejaVu Sans, Arial, sans-serif\" font-size=\"12\">\
         <title id=\"chart-title\">Requirement, planned and delivered tonnes per week, and cumulative shortfall, last {} weeks</title>",
        history.len()
    );
    // Gridlines and tick labels of both axes.
    for i in -ax.below..=ax.above {
        let y = zero_y - i as f64 * unit;
        let stroke = if i == 0 { "#59636e" } else { "#e3e7eb" };
        s.push_str(&format!(
            "<line x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"{stroke}\" stroke-width=\"1\"/>",
            LEFT + plot_w
        ));
        s.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#3d444d\">{}</text>",
            LEFT - 6.0,
            y + 4.0,
            tonnes_human(ax.left_step * i)
        ));
        s.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"start\" fill=\"#c62828\">{}</text>",
            LEFT + plot_w + 6.0,
            y + 4.0,
            tonnes_human(ax.right_step * i)
        ));
    }
    // Axis titles.
    s.push_str(&format!(
        "<text transform=\"translate(16 {:.1}) rotate(-90)\" text-anchor=\"middle\" fill=\"#3d444d\">Tonnes per week</text>",
        TOP + plot_h / 2.0
    ));
    s.push_str(&format!(
        "<text transform=\"translate({:.1} {:.1}) rotate(90)\" text-anchor=\"middle\" fill=\"#c62828\">Cumulative shortfall against requirement</text>",
        W - 12.0,
        TOP + plot_h / 2.0
    ));
    // Legend.
    let legend = [
        ("#b3bac2", "Requirement"),
        ("#5b9bd5", "Planned"),
        ("#1a7f37", "Delivered"),
    ];
    let mut lx = LEFT;
    for (color, label) in legend {
        s.push_str(&format!(
            "<rect x=\"{lx:.1}\" y=\"14\" width=\"14\" height=\"14\" fill=\"{color}\"/>\
             <text x=\"{:.1}\" y=\"25\" fill=\"#1b1f24\">{label}</text>",
            lx + 20.0
        ));
        lx += 40.0 + 8.0 * label.len() as f64;
    }
    s.push_str(&format!(
        "<line x1=\"{lx:.1}\" x2=\"{:.1}\" y1=\"21\" y2=\"21\" stroke=\"#c62828\" stroke-width=\"2.5\"/>\
         <circle cx=\"{:.1}\" cy=\"21\" r=\"3.5\" fill=\"#c62828\"/>\
         <text x=\"{:.1}\" y=\"25\" fill=\"#1b1f24\">Cumulative shortfall (right axis)</text>",
        lx + 24.0,
        lx + 12.0,
        lx + 30.0
    ));

    // Bars, one group per week.
    let n = history.len().max(1) as f64;
    let group_w = plot_w / n;
    let bar_w = group_w * 0.22;
    let gap = group_w * 0.03;
    let first_x = group_w * 0.5 - (3.0 * bar_w + 2.0 * gap) / 2.0;
    let mut points = Vec::with_capacity(history.len());
    for (i, h) in history.iter().enumerate() {
        let gx = LEFT + group_w * i as f64;
        let label = short_week(&h.week);
        s.push_str(&format!(
            "<g class=\"week\" data-week=\"{}\">",
            html_escape(&h.week)
        ));
        for (j, (kg, color, what)) in [
            (h.requirement, "#b3bac2", "requirement"),
            (h.planned, "#5b9bd5", "planned"),
            (h.delivered, "#1a7f37", "delivered"),
        ]
        .into_iter()
        .enumerate()
        {
            let x = gx + first_x + j as f64 * (bar_w + gap);
            let y = y_left(kg);
            let (top, height) = if y < zero_y {
                (y, zero_y - y)
            } else {
                (zero_y, y - zero_y)
            };
            s.push_str(&format!(
                "<rect x=\"{x:.1}\" y=\"{top:.1}\" width=\"{bar_w:.1}\" height=\"{height:.1}\" fill=\"{color}\">\
                 <title>{} {what}: {}</title></rect>",
                html_escape(label),
                tonnes_human(kg)
            ));
        }
        s.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#3d444d\">{}</text></g>",
            gx + group_w / 2.0,
            TOP + plot_h + 18.0,
            html_escape(label)
        ));
        points.push((
            gx + group_w / 2.0,
            y_right(h.cumulative_shortfall),
            h.cumulative_shortfall,
            label,
        ));
    }
    // Cumulative shortfall line on top of the bars.
    if !points.is_empty() {
        let coords: Vec<String> = points
            .iter()
            .map(|(x, y, _, _)| format!("{x:.1},{y:.1}"))
            .collect();
        s.push_str(&format!(
            "<polyline class=\"cumulative\" points=\"{}\" fill=\"none\" stroke=\"#c62828\" stroke-width=\"2.5\" stroke-linejoin=\"round\"/>",
            coords.join(" ")
        ));
        for (x, y, kg, label) in &points {
            s.push_str(&format!(
                "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3.5\" fill=\"#c62828\"><title>{} cumulative shortfall: {}</title></circle>",
                html_escape(label),
                tonnes_human(*kg)
            ));
        }
        if let Some((x, y, kg, _)) = points.last() {
            s.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#c62828\" font-weight=\"bold\" stroke=\"#fff\" stroke-width=\"4\" paint-order=\"stroke\">{}</text>",
                x - 6.0,
                y - 8.0,
                tonnes_human(*kg)
            ));
        }
    }
    let all_zero = history.iter().all(|h| {
        h.requirement == 0 && h.planned == 0 && h.delivered == 0 && h.cumulative_shortfall == 0
    });
    if history.is_empty() || all_zero {
        let note = if history.is_empty() {
            "No weeks to show yet."
        } else {
            "Nothing was required, planned or delivered in these weeks."
        };
        s.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#59636e\" font-size=\"14\">{note}</text>",
            LEFT + plot_w / 2.0,
            TOP + plot_h / 2.0
        ));
    }
    s.push_str("</svg>");
    s
}

/// The printable, self-contained HTML page of the report (inline CSS and
/// SVG, no scripts, no external assets). All text from the report is
/// escaped.
pub fn to_html(r: &WeeklyReport) -> String {
    let title = format!(
        "aidflow — weekly shortfall report, {} ({})",
        r.week,
        date_range(r.starts, r.ends)
    );
    let scope = format!(
        "Route: {} · Organization: {} · Week from Monday {} to Sunday {}, local time ({}).",
        r.scope.route.as_deref().unwrap_or("all routes"),
        r.scope
            .organization
            .as_deref()
            .unwrap_or("all organizations"),
        long_date(r.starts),
        long_date(r.ends),
        r.timezone
    );
    let first = r.history.first().map(|h| short_week(&h.week)).unwrap_or("");
    let last = r.history.last().map(|h| short_week(&h.week)).unwrap_or("");
    let caption = format!(
        "Weeks {first}–{last}. Bars: tonnes per week (left axis). Line: cumulative \
         requirement minus cumulative tonnes delivered since tracking began (right axis)."
    );

    let mut out = String::with_capacity(32 * 1024);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str(&format!("<title>{}</title>\n", html_escape(&title)));
    out.push_str(&format!("<style>{CSS}</style>\n</head>\n<body>\n<main>\n"));
    out.push_str(&format!(
        "<header><h1>{}</h1><p class=\"meta\">{}</p></header>\n",
        html_escape(&title),
        html_escape(&scope)
    ));
    out.push_str(&format!(
        "<section class=\"summary\"><p>{}</p></section>\n",
        html_escape(&r.summary)
    ));
    out.push_str(&headline_html(r));
    out.push('\n');
    out.push_str(&format!(
        "<section><h2>The last {} weeks</h2><figure class=\"chart\">{}<figcaption>{}</figcaption></figure></section>\n",
        r.history.len(),
        history_svg(&r.history),
        html_escape(&caption)
    ));
    out.push_str(&breakdown_html("By route", "Route", &r.by_route));
    out.push('\n');
    out.push_str(&breakdown_html(
        "By organization",
        "Organization",
        &r.by_organization,
    ));
    out.push('\n');
    out.push_str(&breakdown_html(
        "By commodity",
        "Commodity",
        &r.by_commodity,
    ));
    out.push('\n');
    out.push_str(&checkpoint_html(&r.by_checkpoint));
    out.push('\n');
    out.push_str(&convoys_html(&r.convoys));
    out.push('\n');
    out.push_str(&stalled_html(&r.stalled));
    out.push('\n');
    out.push_str(&alerts_html(&r.alerts));
    out.push('\n');
    out.push_str(
        "<footer>Generated by aidflow. Figures are exact to the kilogram; sources and every \
         event behind them are in the ledger.</footer>\n</main>\n</body>\n</html>\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::{Cumulative, ReasonKg, Scope};

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    fn convoy_arm() -> ConvoyLine {
        ConvoyLine {
            id: "c-0726".into(),
            reference: "ARM-0726".into(),
            organization: "Government of Armenia".into(),
            route: "lachin".into(),
            origin: "Goris".into(),
            destination: "Stepanakert".into(),
            trucks: Some(19),
            expected_arrival: "2023-07-26T18:00:00+04:00".into(),
            status: "held".into(),
            last_checkpoint: Some("KORNIDZOR".into()),
            last_seen_at: Some("2023-07-26T10:30:00+04:00".into()),
            planned: 360_000,
            delivered: 0,
            outstanding: 360_000,
            held_since: Some("2023-07-26T10:30:00+04:00".into()),
        }
    }

    fn breakdown(key: &str, name: &str, requirement: Option<Kg>, figures: [Kg; 6]) -> Breakdown {
        let [planned, delivered, delivered_during_week, shortfall, denied, lost] = figures;
        Breakdown {
            key: key.into(),
            name: name.into(),
            requirement,
            planned,
            delivered,
            delivered_during_week,
            shortfall,
            denied,
            lost,
        }
    }

    /// Week 31 of 2023 on the Lachin corridor: the 19-truck, 360 t convoy
    /// held at Kornidzor, plus a small medical convoy whose reference tries
    /// to inject a script.
    fn fixture() -> WeeklyReport {
        let weekly: [(u32, Kg, Kg); 12] = [
            (20, 180_000, 150_000),
            (21, 160_000, 140_000),
            (22, 150_000, 120_000),
            (23, 140_000, 110_000),
            (24, 120_000, 60_000),
            (25, 40_000, 0),
            (26, 20_000, 0),
            (27, 0, 0),
            (28, 30_000, 12_000),
            (29, 25_000, 18_000),
            (30, 40_000, 51_490),
            (31, 384_500, 18_005),
        ];
        let mut cumulative_shortfall = 0;
        let history: Vec<HistoryWeek> = weekly
            .iter()
            .map(|&(w, planned, delivered)| {
                cumulative_shortfall += 2_800_000 - delivered;
                HistoryWeek {
                    week: format!("2023-W{w}"),
                    requirement: 2_800_000,
                    planned,
                    delivered,
                    cumulative_shortfall,
                }
            })
            .collect();
        let medical = ConvoyLine {
            id: "c-0727".into(),
            reference: "<script>alert(1)</script>".into(),
            organization: "ICRC & partners".into(),
            route: "lachin".into(),
            origin: "Goris".into(),
            destination: "Stepanakert".into(),
            trucks: Some(2),
            expected_arrival: "2023-07-27T12:00:00+04:00".into(),
            status: "short_delivered".into(),
            last_checkpoint: Some("STEPANAKERT".into()),
            last_seen_at: Some("2023-07-27T15:45:00+04:00".into()),
            planned: 24_500,
            delivered: 18_005,
            outstanding: 0,
            held_since: None,
        };
        WeeklyReport {
            week: "2023-W31".into(),
            timezone: "Asia/Yerevan".into(),
            starts: date(2023, 7, 24),
            ends: date(2023, 7, 30),
            scope: Scope::default(),
            totals: WeekFigures {
                requirement: 2_800_000,
                planned: 384_500,
                delivered: 18_005,
                delivered_during_week: 69_495,
                shortfall_against_plan: 366_495,
                shortfall_against_requirement: 2_730_505,
                coverage_percent: Some(Decimal::new(25, 1)),
                short_loaded: 0,
                denied: 4_995,
                lost: 1_500,
                rejected: 0,
                outstanding: 360_000,
                cancelled: 12_000,
            },
            cumulative: Cumulative {
                since: Some(date(2023, 5, 15)),
                requirement: 33_600_000,
                planned: 1_289_500,
                delivered: 679_495,
                shortfall_against_requirement: 32_920_505,
                shortfall_against_plan: 610_005,
            },
            by_commodity: vec![
                breakdown(
                    "flour",
                    "Wheat flour",
                    None,
                    [240_000, 0, 40_000, 240_000, 0, 0],
                ),
                breakdown(
                    "baby_food",
                    "Baby food",
                    None,
                    [60_000, 0, 11_490, 60_000, 0, 0],
                ),
                breakdown(
                    "medical",
                    "Medical supplies",
                    None,
                    [84_500, 18_005, 18_005, 66_495, 4_995, 1_500],
                ),
            ],
            by_organization: vec![
                breakdown(
                    "gov-am",
                    "Government of Armenia",
                    None,
                    [360_000, 0, 51_490, 360_000, 0, 0],
                ),
                breakdown(
                    "icrc",
                    "ICRC & partners",
                    None,
                    [24_500, 18_005, 18_005, 6_495, 4_995, 1_500],
                ),
            ],
            by_route: vec![
                breakdown(
                    "lachin",
                    "Lachin corridor",
                    Some(2_800_000),
                    [384_500, 18_005, 69_495, 366_495, 4_995, 1_500],
                ),
                breakdown("aghdam", "Aghdam road", Some(0), [0, 0, 0, 0, 0, 0]),
            ],
            by_checkpoint: vec![
                CheckpointBreakdown {
                    checkpoint: "KORNIDZOR".into(),
                    name: "Kornidzor".into(),
                    denied: 4_995,
                    lost: vec![],
                    lost_total: 0,
                    held_now: 360_000,
                },
                CheckpointBreakdown {
                    checkpoint: "HAKARI".into(),
                    name: "Hakari bridge".into(),
                    denied: 0,
                    lost: vec![
                        ReasonKg {
                            reason: "damaged".into(),
                            kg: 1_000,
                        },
                        ReasonKg {
                            reason: "stolen".into(),
                            kg: 500,
                        },
                    ],
                    lost_total: 1_500,
                    held_now: 0,
                },
            ],
            convoys: vec![convoy_arm(), medical],
            stalled: vec![convoy_arm()],
            alerts: vec![AlertLine {
                id: "a-1".into(),
                rule: "held_too_long".into(),
                severity: "critical".into(),
                subject: "ARM-0726 at KORNIDZOR".into(),
                opened_at: "2023-07-26T14:30:00+04:00".into(),
                message: "Held 4 h at KORNIDZOR, over its 4 h maximum dwell.".into(),
            }],
            history,
            summary: summarize(
                31,
                Some("the Lachin route"),
                384_500,
                18_005,
                &[(360_000, "KORNIDZOR".into(), date(2023, 7, 26))],
            ),
        }
    }

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

    struct SummaryCase {
        week: u32,
        route: Option<&'static str>,
        planned: Kg,
        delivered: Kg,
        held: Vec<(Kg, String, NaiveDate)>,
        want: &'static str,
    }

    #[test]
    fn summarize_table() {
        let kornidzor = (360_000, "KORNIDZOR".to_string(), date(2023, 7, 26));
        let hakari = (24_500, "HAKARI".to_string(), date(2023, 8, 3));
        let cases = vec![
            SummaryCase {
                week: 31,
                route: Some("the Lachin route"),
                planned: 360_000,
                delivered: 0,
                held: vec![kornidzor.clone()],
                want: "In week 31, 0 of 360 t planned for the Lachin route arrived; 360 t held at KORNIDZOR since 26 July.",
            },
            SummaryCase {
                week: 31,
                route: None,
                planned: 360_000,
                delivered: 0,
                held: vec![kornidzor.clone()],
                want: "In week 31, 0 of 360 t planned for the corridor arrived; 360 t held at KORNIDZOR since 26 July.",
            },
            SummaryCase {
                week: 32,
                route: None,
                planned: 2_800_000,
                delivered: 69_495,
                held: vec![kornidzor, hakari],
                want: "In week 32, 69.495 of 2,800 t planned for the corridor arrived; 360 t held at KORNIDZOR since 26 July; 24.5 t held at HAKARI since 3 August.",
            },
            SummaryCase {
                week: 5,
                route: Some("the Aghdam road"),
                planned: 1_500,
                delivered: 1_500,
                held: vec![],
                want: "In week 5, 1.5 of 1.5 t planned for the Aghdam road arrived.",
            },
        ];
        for c in cases {
            assert_eq!(
                summarize(c.week, c.route, c.planned, c.delivered, &c.held),
                c.want
            );
        }
    }

    #[test]
    fn csv_header_and_rows() {
        let csv = to_csv(&fixture());
        let lines: Vec<&str> = csv.split("\r\n").collect();
        let want = [
            "week,dimension,key,name,origin,destination,requirement_t,planned_t,delivered_t,delivered_during_week_t,shortfall_t,denied_t,lost_t",
            "2023-W31,total,total,All convoys in scope,,,2800.000,384.500,18.005,69.495,366.495,4.995,1.500",
            "2023-W31,route,lachin,Lachin corridor,Goris,Stepanakert,2800.000,384.500,18.005,69.495,366.495,4.995,1.500",
            "2023-W31,route,aghdam,Aghdam road,,,0.000,0.000,0.000,0.000,0.000,0.000,0.000",
            "2023-W31,organization,gov-am,Government of Armenia,,,,360.000,0.000,51.490,360.000,0.000,0.000",
            "2023-W31,organization,icrc,ICRC & partners,,,,24.500,18.005,18.005,6.495,4.995,1.500",
            "2023-W31,commodity,flour,Wheat flour,,,,240.000,0.000,40.000,240.000,0.000,0.000",
            "2023-W31,commodity,baby_food,Baby food,,,,60.000,0.000,11.490,60.000,0.000,0.000",
            "2023-W31,commodity,medical,Medical supplies,,,,84.500,18.005,18.005,66.495,4.995,1.500",
            "2023-W31,checkpoint,KORNIDZOR,Kornidzor,,,,,,,,4.995,0.000",
            "2023-W31,checkpoint,HAKARI,Hakari bridge,,,,,,,,0.000,1.500",
            "2023-W31,convoy,ARM-0726,Government of Armenia,Goris,Stepanakert,,360.000,0.000,,360.000,,",
            "2023-W31,convoy,<script>alert(1)</script>,ICRC & partners,Goris,Stepanakert,,24.500,18.005,,6.495,,",
            "",
        ];
        assert_eq!(lines, want);
    }

    #[test]
    fn csv_quotes_awkward_text() {
        let mut r = fixture();
        r.convoys[0].reference = "A,\"B\"\nC".into();
        let csv = to_csv(&r);
        assert!(csv.contains("2023-W31,convoy,\"A,\"\"B\"\"\nC\",Government of Armenia"));
    }

    #[test]
    fn hxl_has_tag_row_and_extra_columns() {
        let hxl = to_hxl_csv(&fixture());
        let lines: Vec<&str> = hxl.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert_eq!(
            lines[0],
            "week,dimension,key,name,origin,destination,requirement_t,planned_t,delivered_t,delivered_during_week_t,shortfall_t,denied_t,lost_t,date,org,item"
        );
        assert_eq!(
            lines[1],
            "#meta+week,#meta+dimension,#meta+key,#meta+name,#loc+origin,#loc+dest,#value+requirement+t,#value+planned+t,#value+delivered+t,#value+delivered_during_week+t,#value+shortfall+t,#value+denied+t,#value+lost+t,#date,#org,#item+name"
        );
        assert_eq!(lines.len(), 2 + 12);
        assert!(lines.contains(
            &"2023-W31,organization,icrc,ICRC & partners,,,,24.500,18.005,18.005,6.495,4.995,1.500,2023-07-24,ICRC & partners,"
        ));
        assert!(lines.contains(
            &"2023-W31,commodity,flour,Wheat flour,,,,240.000,0.000,40.000,240.000,0.000,0.000,2023-07-24,,Wheat flour"
        ));
        for tag in [
            "#date",
            "#org",
            "#loc+origin",
            "#loc+dest",
            "#item+name",
            "#value",
        ] {
            assert!(lines[1].split(',').any(|t| t.starts_with(tag)), "{tag}");
        }
        // Every tag is `#name` plus `+attribute`s of lowercase letters,
        // digits and underscores, as HXL requires.
        for tag in HXL_TAGS {
            let mut parts = tag.trim_start_matches('#').split('+');
            assert!(tag.starts_with('#'));
            assert!(parts.all(|p| !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')));
        }
    }

    #[test]
    fn json_writes_tonnes_strings_and_is_stable() {
        let r = fixture();
        let v = to_json(&r);
        assert_eq!(v["totals"]["planned"], "384.500");
        assert_eq!(v["convoys"][0]["planned"], "360.000");
        assert_eq!(v["totals"]["coverage_percent"], "2.5");
        assert_eq!(v["by_organization"][0]["requirement"], Value::Null);
        assert_eq!(v["by_route"][0]["requirement"], "2800.000");
        assert_eq!(v["by_checkpoint"][1]["lost"][0]["tonnes"], "1.000");
        assert_eq!(v["history"][11]["cumulative_shortfall"], "32920.505");
        assert_eq!(v["cumulative"]["since"], "2023-05-15");
        assert_eq!(v["starts"], "2023-07-24");
        assert_eq!(v["convoys"][0]["trucks"], 19);

        let a = serde_json::to_string(&to_json(&r)).expect("serializes");
        let b = serde_json::to_string(&to_json(&r)).expect("serializes");
        assert_eq!(a, b);
        assert_eq!(canonical_json(&r), canonical_json(&r));
        // Canonical form: sorted keys, compact, and the same value.
        let canonical = canonical_json(&r);
        assert!(canonical.starts_with("{\"alerts\":[{\"id\":\"a-1\","));
        let reparsed: Value = serde_json::from_str(&canonical).expect("valid JSON");
        assert_eq!(reparsed, v);

        let mut none = r;
        none.totals.coverage_percent = None;
        assert_eq!(to_json(&none)["totals"]["coverage_percent"], Value::Null);
    }

    #[test]
    fn html_has_summary_chart_and_escapes_text() {
        let r = fixture();
        let html = to_html(&r);
        assert!(html.contains(
            "<title>aidflow — weekly shortfall report, 2023-W31 (24–30 July 2023)</title>"
        ));
        assert!(html.contains(
            "<section class=\"summary\"><p>In week 31, 18.005 of 384.5 t planned for the Lachin route arrived; 360 t held at KORNIDZOR since 26 July.</p></section>"
        ));
        assert_eq!(html.matches("<svg ").count(), 1);
        assert_eq!(html.matches("<g class=\"week\"").count(), 12);
        assert!(html.contains(">W20</text>") && html.contains(">W31</text>"));
        assert!(html.contains("<polyline class=\"cumulative\""));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!html.contains("<script"));
        assert!(html.contains("ICRC &amp; partners"));
        assert!(html.contains(">2,800 t<"));
        assert!(html.contains("@media print"));
        assert!(!html.contains("http://") || html.matches("http://").count() == 1); // SVG namespace only
        assert!(!html.contains("https://"));
        assert!(html.contains("Generated by aidflow. Figures are exact to the kilogram; sources and every event behind them are in the ledger."));
        assert!(!html.contains("NaN") && !html.contains("inf\""));
    }

    #[test]
    fn html_says_when_no_alerts() {
        let mut r = fixture();
        r.alerts.clear();
        assert!(to_html(&r).contains("No alerts were opened in this week."));
        assert!(!to_html(&fixture()).contains("No alerts were opened in this week."));
    }

    #[test]
    fn chart_scales_sensibly_when_all_zero_or_empty() {
        let zero: Vec<HistoryWeek> = (20..32)
            .map(|w| HistoryWeek {
                week: format!("2023-W{w}"),
                requirement: 0,
                planned: 0,
                delivered: 0,
                cumulative_shortfall: 0,
            })
            .collect();
        let svg = history_svg(&zero);
        assert_eq!(svg.matches("<g class=\"week\"").count(), 12);
        assert!(svg.contains(">5 t</text>"));
        assert!(svg.contains("Nothing was required, planned or delivered"));
        assert!(!svg.contains("NaN") && !svg.contains("inf"));

        let empty = history_svg(&[]);
        assert!(empty.contains("No weeks to show yet."));
        assert!(!empty.contains("NaN") && !empty.contains("inf"));
    }

    #[test]
    fn chart_axes_are_aligned_and_hold_the_data() {
        let r = fixture();
        let ax = axes(&r.history);
        let max_weekly = 2_800_000;
        let max_cumulative = 32_920_505;
        assert!(ax.left_step * ax.above >= max_weekly);
        assert!(ax.right_step * ax.above >= max_cumulative);
        assert_eq!(ax.below, 0);
        // Negative cumulative shortfall (over-delivery) extends both axes down.
        let mut h = r.history;
        h[0].cumulative_shortfall = -500_000;
        let ax = axes(&h);
        assert!(ax.below >= 1);
        assert!(ax.right_step * ax.below >= 500_000);
    }

    #[test]
    fn round_steps() {
        for (raw, want) in [
            (0, 1),
            (1, 1),
            (7, 8),
            (9, 10),
            (11, 12),
            (560_000, 600_000),
            (6_584_101, 8_000_000),
        ] {
            assert_eq!(round_step_at_least(raw), want, "{raw}");
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
