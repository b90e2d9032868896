//! The report as a flat table: CSV. The HXL exports (`hxl.rs`) write the same rows
//! with hashtags, and share the row list and the CSV writer here.

use crate::domain::quantity::{format_tonnes, Kg};
use crate::domain::trucks::{CheckpointTally, TruckTally};
use crate::report::model::{Breakdown, WeeklyReport};

/// The CSV header, shared by [`to_csv`] and [`super::to_hxl_csv`].
pub const CSV_HEADER: [&str; 25] = [
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
    "source",
    "published",
    "logged_t",
    "claimed_t",
    "spread_percent",
    "trucks_planned",
    "convoys_without_planned_trucks",
    "trucks_arrived",
    "convoys_arrived_uncounted",
    "trucks_passed",
    "trucks_held",
    "trucks_turned_back",
];

/// One row of the flat export. `None` quantities are written as empty cells
/// (not applicable), never as 0.
#[derive(Default)]
pub(super) struct FlatRow {
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
    /// Claim rows: who published the figure, and the local date they did.
    source: String,
    published: String,
    /// Disputed rows: the ledger's figure the claims were compared to, and their spread.
    logged: Option<Kg>,
    spread: String,
    /// Claim rows: the figure claimed.
    claimed: Option<Kg>,
    /// Total and route rows: the trucks of the week's convoys.
    trucks: Option<TruckTally>,
    /// Checkpoint rows: the trucks there.
    checkpoint_trucks: Option<CheckpointTally>,
    /// HXL only: organization name (organization and convoy rows).
    pub(super) org: String,
    /// HXL only: commodity name (commodity rows).
    pub(super) item: String,
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
        trucks: b.trucks,
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
/// 7. `disputed` — one per convoy due in the week whose claims are disputed: key =
///    reference, name = organization, `logged_t` (the ledger's figure the claims are
///    compared to) and `spread_percent`.
/// 8. `claim` — right after its `disputed` row, one per claim of that convoy: key =
///    reference, name = organization, `source`, `published` (local date) and
///    `claimed_t`.
///
/// The last two fill only their own columns, and each figure appears once: the
/// columns of the other rows add up as before.
///
/// Trucks (whole numbers) are on the total and route rows — `trucks_planned`,
/// `convoys_without_planned_trucks`, `trucks_arrived` (at the destination) and
/// `convoys_arrived_uncounted`; the route rows add up to the total row — and on the
/// checkpoint rows — `trucks_arrived` (reached the checkpoint), `trucks_passed`,
/// `trucks_held`, `trucks_turned_back`, which never add up across checkpoints (the same
/// trucks pass several). No other row has a truck cell.
///
/// Empty cells mean "not applicable" (e.g. requirements by organization).
pub(super) fn flat_rows(r: &WeeklyReport) -> Vec<FlatRow> {
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
        trucks: r.trucks,
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
            checkpoint_trucks: c.trucks,
            ..FlatRow::default()
        });
    }
    for c in &r.convoys {
        // The convoy names its organization by slug; HXL's organization column holds
        // names, as on the organization rows.
        let org = r
            .by_organization
            .iter()
            .find(|b| b.key == c.organization)
            .map_or(&c.organization, |b| &b.name);
        rows.push(FlatRow {
            dimension: "convoy",
            key: c.reference.clone(),
            name: c.organization.clone(),
            origin: c.origin.clone(),
            destination: c.destination.clone(),
            planned: Some(c.planned),
            delivered: Some(c.delivered),
            shortfall: Some(c.planned - c.delivered),
            org: org.clone(),
            ..FlatRow::default()
        });
    }
    for d in &r.disputed {
        rows.push(FlatRow {
            dimension: "disputed",
            key: d.reference.clone(),
            name: d.organization.clone(),
            logged: Some(d.logged),
            spread: d
                .spread_percent
                .map(super::percent_string)
                .unwrap_or_default(),
            org: d.organization_name.clone(),
            ..FlatRow::default()
        });
        for c in &d.claims {
            rows.push(FlatRow {
                dimension: "claim",
                key: d.reference.clone(),
                name: d.organization.clone(),
                source: c.source.clone(),
                published: c.published_at.chars().take(10).collect(),
                claimed: Some(c.tonnes),
                org: d.organization_name.clone(),
                ..FlatRow::default()
            });
        }
    }
    rows
}

pub(super) fn cell(kg: Option<Kg>) -> String {
    kg.map(format_tonnes).unwrap_or_default()
}

/// A count of trucks or convoys; empty where the row has none.
fn count(n: Option<i64>) -> String {
    n.map(|n| n.to_string()).unwrap_or_default()
}

pub(super) fn flat_record(week: &str, row: &FlatRow) -> Vec<String> {
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
        row.source.clone(),
        row.published.clone(),
        cell(row.logged),
        cell(row.claimed),
        row.spread.clone(),
        count(row.trucks.map(|t| t.planned)),
        count(row.trucks.map(|t| t.convoys_without_planned)),
        count(
            row.trucks
                .map(|t| t.arrived)
                .or(row.checkpoint_trucks.map(|t| t.arrived)),
        ),
        count(row.trucks.map(|t| t.convoys_arrived_uncounted)),
        count(row.checkpoint_trucks.map(|t| t.passed)),
        count(row.checkpoint_trucks.map(|t| t.held)),
        count(row.checkpoint_trucks.map(|t| t.turned_back)),
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
pub(super) fn csv_or_empty(records: &[Vec<String>]) -> String {
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
/// 7. `disputed` and 8. `claim` — the convoys due in the week whose claims are
///    disputed (logged figure and spread), each followed by its claims (source,
///    published date, tonnes claimed).
///
/// Trucks: on the total and route rows (planned, arrived at the destination, and the
/// convoys either leaves out) and on the checkpoint rows (arrived there, passed, held,
/// turned back); see [`flat_rows`].
pub fn to_csv(r: &WeeklyReport) -> String {
    let mut records = vec![CSV_HEADER.iter().map(|s| s.to_string()).collect()];
    records.extend(flat_rows(r).iter().map(|row| flat_record(&r.week, row)));
    csv_or_empty(&records)
}

#[cfg(test)]
mod tests {
    use super::super::fixture::fixture;
    use super::*;

    #[test]
    fn csv_header_and_rows() {
        let csv = to_csv(&fixture());
        let lines: Vec<&str> = csv.split("\r\n").collect();
        let want = [
            "week,dimension,key,name,origin,destination,requirement_t,planned_t,delivered_t,delivered_during_week_t,shortfall_t,denied_t,lost_t,source,published,logged_t,claimed_t,spread_percent,trucks_planned,convoys_without_planned_trucks,trucks_arrived,convoys_arrived_uncounted,trucks_passed,trucks_held,trucks_turned_back",
            "2023-W31,total,total,All convoys in scope,,,2800.000,384.500,18.005,69.495,366.495,4.995,1.500,,,,,,21,1,2,0,,,",
            "2023-W31,route,lachin,Lachin corridor,Goris,Stepanakert,2800.000,384.500,18.005,69.495,366.495,4.995,1.500,,,,,,21,1,2,0,,,",
            "2023-W31,route,aghdam,Aghdam road,,,0.000,0.000,0.000,0.000,0.000,0.000,0.000,,,,,,0,0,0,0,,,",
            "2023-W31,organization,gov-am,Government of Armenia,,,,360.000,0.000,51.490,360.000,0.000,0.000,,,,,,,,,,,,",
            "2023-W31,organization,icrc,ICRC & partners,,,,24.500,18.005,18.005,6.495,4.995,1.500,,,,,,,,,,,,",
            "2023-W31,commodity,flour,Wheat flour,,,,240.000,0.000,40.000,240.000,0.000,0.000,,,,,,,,,,,,",
            "2023-W31,commodity,baby_food,Baby food,,,,60.000,0.000,11.490,60.000,0.000,0.000,,,,,,,,,,,,",
            "2023-W31,commodity,medical,Medical supplies,,,,84.500,18.005,18.005,66.495,4.995,1.500,,,,,,,,,,,,",
            "2023-W31,checkpoint,KORNIDZOR,Kornidzor,,,,,,,,4.995,0.000,,,,,,,,21,,2,19,0",
            "2023-W31,checkpoint,HAKARI,Hakari bridge,,,,,,,,0.000,1.500,,,,,,,,2,,2,0,0",
            "2023-W31,convoy,ARM-0726,Government of Armenia,Goris,Stepanakert,,360.000,0.000,,360.000,,,,,,,,,,,,,,",
            "2023-W31,convoy,<script>alert(1)</script>,ICRC & partners,Goris,Stepanakert,,24.500,18.005,,6.495,,,,,,,,,,,,,,",
            "2023-W31,disputed,ARM-0726,gov-am,,,,,,,,,,,,360.000,,11.1,,,,,,,",
            "2023-W31,claim,ARM-0726,gov-am,,,,,,,,,,\"Prime minister, via ArmRadio\",2023-07-26,,360.000,,,,,,,,",
            "2023-W31,claim,ARM-0726,gov-am,,,,,,,,,,ArmRadio,2023-07-26,,400.000,,,,,,,,",
            "2023-W31,claim,ARM-0726,gov-am,,,,,,,,,,Hetq <b>,2023-07-27,,361.000,,,,,,,,",
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
}
