//! The report as JSON: the API's body, and the canonical bytes whose SHA-256
//! identifies a published snapshot.

use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::percent_string;
use crate::domain::quantity::{format_tonnes, Kg};
use crate::domain::trucks::{CheckpointTally, TruckTally};
use crate::report::model::{
    AlertLine, Breakdown, CheckpointBreakdown, ConvoyLine, DisputedConvoy, HistoryWeek,
    WeekFigures, WeeklyReport,
};

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

/// The week's headline figures, with its trucks when the report counted them.
fn figures_json(f: &WeekFigures, trucks: Option<&TruckTally>) -> Value {
    let mut fields = vec![
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
    ];
    fields.extend(trucks.map(truck_fields).unwrap_or_default());
    object(fields)
}

/// The fields of a truck tally, as the week's totals and the route rows carry them.
fn truck_fields(t: &TruckTally) -> Vec<(&'static str, Value)> {
    vec![
        ("trucks_planned", Value::from(t.planned)),
        (
            "convoys_without_planned_trucks",
            Value::from(t.convoys_without_planned),
        ),
        ("trucks_arrived", Value::from(t.arrived)),
        (
            "convoys_arrived_uncounted",
            Value::from(t.convoys_arrived_uncounted),
        ),
    ]
}

/// The fields of a checkpoint's truck tally.
fn checkpoint_truck_fields(t: &CheckpointTally) -> Vec<(&'static str, Value)> {
    vec![
        ("trucks_arrived", Value::from(t.arrived)),
        ("trucks_passed", Value::from(t.passed)),
        ("trucks_held", Value::from(t.held)),
        ("trucks_turned_back", Value::from(t.turned_back)),
    ]
}

fn breakdown_json(b: &Breakdown) -> Value {
    let mut fields = vec![
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
    ];
    fields.extend(b.trucks.as_ref().map(truck_fields).unwrap_or_default());
    object(fields)
}

fn checkpoint_json(c: &CheckpointBreakdown) -> Value {
    let mut fields = vec![
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
    ];
    fields.extend(
        c.trucks
            .as_ref()
            .map(checkpoint_truck_fields)
            .unwrap_or_default(),
    );
    object(fields)
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

fn disputed_json(d: &DisputedConvoy) -> Value {
    object(vec![
        ("id", str_value(&d.id)),
        ("reference", str_value(&d.reference)),
        ("organization", str_value(&d.organization)),
        ("organization_name", str_value(&d.organization_name)),
        ("route", str_value(&d.route)),
        ("logged_figure", str_value(&d.logged_figure)),
        ("logged", tonnes_value(d.logged)),
        (
            "claims",
            Value::Array(
                d.claims
                    .iter()
                    .map(|c| {
                        object(vec![
                            ("source", str_value(&c.source)),
                            ("url", opt_str_value(c.url.as_deref())),
                            ("published_at", str_value(&c.published_at)),
                            ("tonnes", tonnes_value(c.tonnes)),
                            ("trucks", c.trucks.map_or(Value::Null, Value::from)),
                        ])
                    })
                    .collect(),
            ),
        ),
        ("lowest", tonnes_value(d.lowest)),
        ("highest", tonnes_value(d.highest)),
        (
            "spread_percent",
            d.spread_percent
                .map_or(Value::Null, |p| Value::String(percent_string(p))),
        ),
        (
            "threshold_percent",
            Value::String(d.threshold_percent.normalize().to_string()),
        ),
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
/// as `"tonnes"` because it no longer holds kilograms. Trucks are integers, written
/// flat beside the tonnes: `totals` and the `by_route` rows carry `trucks_planned`,
/// `convoys_without_planned_trucks`, `trucks_arrived` and `convoys_arrived_uncounted`
/// (from [`WeeklyReport::trucks`] and [`Breakdown::trucks`]), the `by_checkpoint` rows
/// `trucks_arrived`, `trucks_passed`, `trucks_held` and `trucks_turned_back`.
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
        ("totals", figures_json(&r.totals, r.trucks.as_ref())),
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
        ("disputed", array(&r.disputed, disputed_json)),
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

#[cfg(test)]
mod tests {
    use super::super::fixture::fixture;
    use super::*;

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
        assert_eq!(v["disputed"][0]["reference"], "ARM-0726");
        assert_eq!(v["disputed"][0]["logged"], "360.000");
        assert_eq!(v["disputed"][0]["claims"][1]["tonnes"], "400.000");
        assert_eq!(v["disputed"][0]["spread_percent"], "11.1");
        assert_eq!(v["disputed"][0]["threshold_percent"], "2");
        assert_eq!(v["totals"]["trucks_planned"], 21);
        assert_eq!(v["totals"]["convoys_without_planned_trucks"], 1);
        assert_eq!(v["totals"]["trucks_arrived"], 2);
        assert_eq!(v["totals"]["convoys_arrived_uncounted"], 0);
        assert_eq!(v["by_route"][0]["trucks_planned"], 21);
        assert_eq!(v["by_route"][1]["trucks_arrived"], 0);
        assert_eq!(
            v["by_organization"][0].get("trucks_planned"),
            None,
            "trucks by route, not by organization"
        );
        assert_eq!(
            (
                &v["by_checkpoint"][0]["trucks_arrived"],
                &v["by_checkpoint"][0]["trucks_passed"],
                &v["by_checkpoint"][0]["trucks_held"],
                &v["by_checkpoint"][0]["trucks_turned_back"]
            ),
            (
                &Value::from(21),
                &Value::from(2),
                &Value::from(19),
                &Value::from(0)
            )
        );

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
        // A model published before reports counted trucks has no truck fields.
        none.trucks = None;
        none.by_route.iter_mut().for_each(|b| b.trucks = None);
        none.by_checkpoint.iter_mut().for_each(|c| c.trucks = None);
        let old = to_json(&none);
        assert_eq!(old["totals"].get("trucks_planned"), None);
        assert_eq!(old["by_route"][0].get("trucks_arrived"), None);
        assert_eq!(old["by_checkpoint"][0].get("trucks_held"), None);
    }
}
