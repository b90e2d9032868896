//! The report in the Humanitarian Exchange Language (HXL): CSV with a row of hashtags
//! under the header, in two shapes.
//!
//! - [`to_hxl_csv`], the wide export: the rows of the CSV (a total, then one row per
//!   route, organization, commodity, checkpoint and convoy, then the disputed convoys
//!   and their claims), with three more columns.
//!   Its rows overlap: summing a column over the whole file counts each tonne several
//!   times, so a reader picks one `#meta+dimension` first. Trucks are here only:
//!   `#indicator+num+trucks+planned` and `+arrived` on the total and route rows (the
//!   route rows add up to the total), with the convoys they leave out
//!   (`#indicator+num+convoys+…`), and `+arrived`, `+passed`, `+held`, `+turned_back` on
//!   the checkpoint rows, which never add up across checkpoints.
//! - [`to_hxl_long`], the tidy long form: one row per week × route × organization ×
//!   commodity and nothing else, so that any column sums and pivots without double
//!   counting. Claims are not in it: they are what sources said, not cargo, and
//!   several claims about one convoy are not to be added up. Nor are trucks: a convoy's
//!   trucks carry several commodities, so a truck column on per-commodity rows would
//!   count each truck once per commodity.
//!
//! Tonnes are quantities, so they are `#indicator+num` (the dictionary's `#value` is a
//! monetary value, paired with `#currency`), refined by what the figure is (`+planned`,
//! `+delivered`, …) and its unit, `+t`. The route has no standard hashtag (`#loc` is a
//! point location; the route's ends are `#loc+origin` and `#loc+dest`), so the long form
//! names it with the extension tag `#x_route`. docs/src/weekly-reports.md explains every
//! tag, and `schemas/` holds the libhxl schemas CI checks both shapes against.

use super::csv::{cell, csv_or_empty, flat_record, flat_rows, CSV_HEADER};
use crate::report::model::{DetailLine, WeeklyReport};

/// Extra columns of the wide HXL file, after the CSV columns.
pub const HXL_EXTRA_HEADER: [&str; 3] = ["date", "org", "item"];

/// The wide file's hashtag row: one tag per column of `CSV_HEADER` then
/// `HXL_EXTRA_HEADER`.
pub const HXL_TAGS: [&str; 28] = [
    "#meta+week",
    "#meta+dimension",
    "#meta+key",
    "#meta+name",
    "#loc+origin+code",
    "#loc+dest+code",
    "#indicator+num+requirement+t",
    "#indicator+num+planned+t",
    "#indicator+num+delivered+t",
    "#indicator+num+delivered_during_week+t",
    "#indicator+num+shortfall+t",
    "#indicator+num+denied+t",
    "#indicator+num+lost+t",
    "#meta+source",
    "#date+reported",
    "#indicator+num+logged+t",
    "#indicator+num+claimed+t",
    "#indicator+num+spread+pct",
    "#indicator+num+trucks+planned",
    "#indicator+num+convoys+trucks_unplanned",
    "#indicator+num+trucks+arrived",
    "#indicator+num+convoys+trucks_uncounted",
    "#indicator+num+trucks+passed",
    "#indicator+num+trucks+held",
    "#indicator+num+trucks+turned_back",
    "#date+start",
    "#org+name",
    "#item+name",
];

/// The long form's header.
pub const HXL_LONG_HEADER: [&str; 16] = [
    "week",
    "date",
    "route",
    "route_name",
    "origin",
    "destination",
    "organization",
    "organization_name",
    "commodity",
    "commodity_name",
    "planned_t",
    "delivered_t",
    "delivered_during_week_t",
    "shortfall_t",
    "denied_t",
    "lost_t",
];

/// The long form's hashtag row, one tag per column of `HXL_LONG_HEADER`. The figures
/// carry the same tags as in the wide file.
pub const HXL_LONG_TAGS: [&str; 16] = [
    "#meta+week",
    "#date+start",
    "#x_route+code",
    "#x_route+name",
    "#loc+origin+code",
    "#loc+dest+code",
    "#org+code",
    "#org+name",
    "#item+code",
    "#item+name",
    "#indicator+num+planned+t",
    "#indicator+num+delivered+t",
    "#indicator+num+delivered_during_week+t",
    "#indicator+num+shortfall+t",
    "#indicator+num+denied+t",
    "#indicator+num+lost+t",
];

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// The week's Monday, `YYYY-MM-DD`: the `#date+start` of every row.
fn monday(r: &WeeklyReport) -> String {
    r.starts.format("%Y-%m-%d").to_string()
}

/// The report as wide HXL-tagged CSV: the rows of [`super::to_csv`], the same columns
/// followed by `date` (the week's Monday), `org` (the organization's name, on
/// organization and convoy rows) and `item` (the commodity's name, on commodity rows),
/// with the hashtag row [`HXL_TAGS`] directly under the header.
pub fn to_hxl_csv(r: &WeeklyReport) -> String {
    let header: Vec<String> = strings(&CSV_HEADER)
        .into_iter()
        .chain(strings(&HXL_EXTRA_HEADER))
        .collect();
    let monday = monday(r);
    let mut records = vec![header, strings(&HXL_TAGS)];
    for row in flat_rows(r) {
        let mut record = flat_record(&r.week, &row);
        record.push(monday.clone());
        record.push(row.org.clone());
        record.push(row.item.clone());
        records.push(record);
    }
    csv_or_empty(&records)
}

fn long_record(week: &str, monday: &str, l: &DetailLine) -> Vec<String> {
    vec![
        week.to_string(),
        monday.to_string(),
        l.route.clone(),
        l.route_name.clone(),
        l.origin.clone(),
        l.destination.clone(),
        l.organization.clone(),
        l.organization_name.clone(),
        l.commodity.clone(),
        l.commodity_name.clone(),
        cell(Some(l.planned)),
        cell(Some(l.delivered)),
        cell(Some(l.delivered_during_week)),
        cell(Some(l.shortfall)),
        cell(Some(l.denied)),
        cell(Some(l.lost)),
    ]
}

/// The report as the tidy long form: [`HXL_LONG_HEADER`], the hashtag row
/// [`HXL_LONG_TAGS`], then one row per line of `by_route_organization_commodity` (route
/// code, organization slug, commodity code order). Every cell is filled; tonnes have
/// three decimals. There are no total or requirement rows: requirements are set per
/// route, not per organization and commodity, and stay in the wide file's route rows.
///
/// `None` when the report has no such lines: the model of a revision published before
/// the report kept them.
pub fn to_hxl_long(r: &WeeklyReport) -> Option<String> {
    let lines = r.by_route_organization_commodity.as_ref()?;
    let monday = monday(r);
    let mut records = vec![strings(&HXL_LONG_HEADER), strings(&HXL_LONG_TAGS)];
    records.extend(lines.iter().map(|l| long_record(&r.week, &monday, l)));
    Some(csv_or_empty(&records))
}

#[cfg(test)]
mod tests {
    use super::super::fixture::fixture;
    use super::*;

    /// Every tag is `#name` plus `+attribute`s of lowercase letters, digits and
    /// underscores, as HXL requires, and tonnes are never the monetary `#value`.
    fn assert_well_formed(tags: &[&str]) {
        for tag in tags {
            let mut parts = tag.trim_start_matches('#').split('+');
            assert!(tag.starts_with('#'), "{tag}");
            assert!(
                parts.all(|p| !p.is_empty()
                    && p.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')),
                "{tag}"
            );
            assert!(!tag.starts_with("#value"), "{tag}");
            if tag.ends_with("+t") || tag.ends_with("+pct") {
                assert!(tag.starts_with("#indicator+num+"), "{tag}");
            }
        }
    }

    #[test]
    fn hxl_has_tag_row_and_extra_columns() {
        let mut r = fixture();
        // As built, a convoy names its organization by slug.
        r.convoys[0].organization = "gov-am".into();
        let hxl = to_hxl_csv(&r);
        let lines: Vec<&str> = hxl.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert_eq!(
            lines[0],
            "week,dimension,key,name,origin,destination,requirement_t,planned_t,delivered_t,delivered_during_week_t,shortfall_t,denied_t,lost_t,source,published,logged_t,claimed_t,spread_percent,trucks_planned,convoys_without_planned_trucks,trucks_arrived,convoys_arrived_uncounted,trucks_passed,trucks_held,trucks_turned_back,date,org,item"
        );
        assert_eq!(
            lines[1],
            "#meta+week,#meta+dimension,#meta+key,#meta+name,#loc+origin+code,#loc+dest+code,#indicator+num+requirement+t,#indicator+num+planned+t,#indicator+num+delivered+t,#indicator+num+delivered_during_week+t,#indicator+num+shortfall+t,#indicator+num+denied+t,#indicator+num+lost+t,#meta+source,#date+reported,#indicator+num+logged+t,#indicator+num+claimed+t,#indicator+num+spread+pct,#indicator+num+trucks+planned,#indicator+num+convoys+trucks_unplanned,#indicator+num+trucks+arrived,#indicator+num+convoys+trucks_uncounted,#indicator+num+trucks+passed,#indicator+num+trucks+held,#indicator+num+trucks+turned_back,#date+start,#org+name,#item+name"
        );
        assert_eq!(lines.len(), 2 + 12 + 4);
        assert!(lines.contains(
            &"2023-W31,organization,icrc,ICRC & partners,,,,24.500,18.005,18.005,6.495,4.995,1.500,,,,,,,,,,,,,2023-07-24,ICRC & partners,"
        ));
        assert!(lines.contains(
            &"2023-W31,commodity,flour,Wheat flour,,,,240.000,0.000,40.000,240.000,0.000,0.000,,,,,,,,,,,,,2023-07-24,,Wheat flour"
        ));
        assert!(
            lines.contains(
                &"2023-W31,convoy,ARM-0726,gov-am,Goris,Stepanakert,,360.000,0.000,,360.000,,,,,,,,,,,,,,,2023-07-24,Government of Armenia,"
            ),
            "the organization column holds names on convoy rows too"
        );
        assert!(lines.contains(
            &"2023-W31,disputed,ARM-0726,gov-am,,,,,,,,,,,,360.000,,11.1,,,,,,,,2023-07-24,Government of Armenia,"
        ));
        assert!(lines.contains(
            &"2023-W31,claim,ARM-0726,gov-am,,,,,,,,,,ArmRadio,2023-07-26,,400.000,,,,,,,,,2023-07-24,Government of Armenia,"
        ));
        for tag in [
            "#date",
            "#org",
            "#loc+origin",
            "#loc+dest",
            "#item+name",
            "#indicator+num",
        ] {
            assert!(lines[1].split(',').any(|t| t.starts_with(tag)), "{tag}");
        }
        assert!(lines.contains(
            &"2023-W31,route,lachin,Lachin corridor,Goris,Stepanakert,2800.000,384.500,18.005,69.495,366.495,4.995,1.500,,,,,,21,1,2,0,,,,2023-07-24,,"
        ));
        assert!(lines.contains(
            &"2023-W31,checkpoint,KORNIDZOR,Kornidzor,,,,,,,,4.995,0.000,,,,,,,,21,,2,19,0,2023-07-24,,"
        ));
        assert_well_formed(&HXL_TAGS);
        assert_eq!(HXL_TAGS.len(), CSV_HEADER.len() + HXL_EXTRA_HEADER.len());
    }

    #[test]
    fn long_form_has_one_row_per_route_organization_and_commodity() {
        let r = fixture();
        let hxl = to_hxl_long(&r).expect("the fixture has its lines");
        let lines: Vec<&str> = hxl.split("\r\n").collect();
        let want = [
            "week,date,route,route_name,origin,destination,organization,organization_name,commodity,commodity_name,planned_t,delivered_t,delivered_during_week_t,shortfall_t,denied_t,lost_t",
            "#meta+week,#date+start,#x_route+code,#x_route+name,#loc+origin+code,#loc+dest+code,#org+code,#org+name,#item+code,#item+name,#indicator+num+planned+t,#indicator+num+delivered+t,#indicator+num+delivered_during_week+t,#indicator+num+shortfall+t,#indicator+num+denied+t,#indicator+num+lost+t",
            "2023-W31,2023-07-24,lachin,Lachin corridor,GORIS,STEPANAKERT,gov-am,Government of Armenia,baby_food,Baby food,60.000,0.000,11.490,60.000,0.000,0.000",
            "2023-W31,2023-07-24,lachin,Lachin corridor,GORIS,STEPANAKERT,gov-am,Government of Armenia,flour,Wheat flour,240.000,0.000,40.000,240.000,0.000,0.000",
            "2023-W31,2023-07-24,lachin,Lachin corridor,GORIS,STEPANAKERT,gov-am,Government of Armenia,medical,Medical supplies,60.000,0.000,0.000,60.000,0.000,0.000",
            "2023-W31,2023-07-24,lachin,Lachin corridor,GORIS,STEPANAKERT,icrc,ICRC & partners,medical,Medical supplies,24.500,18.005,18.005,6.495,4.995,1.500",
            "",
        ];
        assert_eq!(lines, want);
        assert_well_formed(&HXL_LONG_TAGS);
        assert_eq!(HXL_LONG_TAGS.len(), HXL_LONG_HEADER.len());
    }

    #[test]
    fn long_form_lines_add_up_to_the_totals_and_breakdowns() {
        let r = fixture();
        let lines = r
            .by_route_organization_commodity
            .clone()
            .unwrap_or_default();
        let sum = |f: fn(&DetailLine) -> i64| lines.iter().map(f).sum::<i64>();
        let t = &r.totals;
        assert_eq!(
            (
                sum(|l| l.planned),
                sum(|l| l.delivered),
                sum(|l| l.delivered_during_week),
                sum(|l| l.shortfall),
                sum(|l| l.denied),
                sum(|l| l.lost),
            ),
            (
                t.planned,
                t.delivered,
                t.delivered_during_week,
                t.shortfall_against_plan,
                t.denied,
                t.lost
            )
        );
        for b in &r.by_organization {
            let planned: i64 = lines
                .iter()
                .filter(|l| l.organization == b.key)
                .map(|l| l.planned)
                .sum();
            assert_eq!(planned, b.planned, "{}", b.key);
        }
        for b in &r.by_commodity {
            let during: i64 = lines
                .iter()
                .filter(|l| l.commodity == b.key)
                .map(|l| l.delivered_during_week)
                .sum();
            assert_eq!(during, b.delivered_during_week, "{}", b.key);
        }
    }

    #[test]
    fn long_form_has_no_truck_column() {
        let hxl = to_hxl_long(&fixture()).unwrap_or_default();
        assert!(!hxl.contains("truck"), "{hxl}");
        assert!(HXL_LONG_TAGS.iter().all(|t| !t.contains("trucks")));
    }

    #[test]
    fn long_form_quotes_awkward_text() {
        let mut r = fixture();
        if let Some(lines) = r.by_route_organization_commodity.as_mut() {
            lines[0].organization_name = "A,\"B\"".into();
        }
        let hxl = to_hxl_long(&r).unwrap_or_default();
        assert!(hxl.contains(",gov-am,\"A,\"\"B\"\"\",baby_food,"), "{hxl}");
    }

    #[test]
    fn a_revision_published_before_the_lines_existed_has_no_long_form() {
        let mut r = fixture();
        r.by_route_organization_commodity = None;
        assert_eq!(to_hxl_long(&r), None);
        let mut old = serde_json::to_value(fixture()).expect("model as JSON");
        old.as_object_mut()
            .map(|o| o.remove("by_route_organization_commodity"));
        let parsed: WeeklyReport = serde_json::from_value(old).expect("an old model parses");
        assert_eq!(parsed.by_route_organization_commodity, None);
    }
}
