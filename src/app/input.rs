//! What clients send to record convoys and events, and its validation: cargo lines into
//! exact kilograms, event fields against the convoy's route and manifest. Every path in —
//! a POST, a sync batch, a CSV row, the demo — validates here, so each rule and each
//! message is written once.

use std::collections::HashMap;

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use crate::app::auth::Principal;
use crate::app::error::AppError;
use crate::app::validate::{self, Checker};
use crate::db::DbConn;
use crate::domain::ledger::{EventKind, Reason};
use crate::domain::quantity::{self, Unit};
use crate::domain::trucks::{TruckCounts, MAX_TRUCKS};
use crate::store::convoys::{self as store, ConvoyRow, NewLine};
use crate::store::{body_hash, reference};

/// A decimal written as a JSON string ("360.5") or a JSON number (360.5), kept as the text
/// the client sent so it is parsed exactly, never through floating point: serde_json's
/// `arbitrary_precision` hands numbers over as their text, so `1.0000000000000001` stays
/// that (and is refused for its decimals) instead of becoming 1.0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(value_type = String, example = "360.5")]
pub struct DecimalText(pub String);

impl<'de> Deserialize<'de> for DecimalText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(DecimalTextVisitor)
    }
}

struct DecimalTextVisitor;

impl<'de> serde::de::Visitor<'de> for DecimalTextVisitor {
    type Value = DecimalText;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a decimal number as a string, like \"360.5\"")
    }

    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<DecimalText, E> {
        Ok(DecimalText(s.to_string()))
    }

    fn visit_string<E: serde::de::Error>(self, s: String) -> Result<DecimalText, E> {
        Ok(DecimalText(s))
    }

    fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<DecimalText, E> {
        Ok(DecimalText(n.to_string()))
    }

    fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<DecimalText, E> {
        Ok(DecimalText(n.to_string()))
    }

    /// Only a deserializer that has already rounded the number gives a float: refused, as
    /// its exact value is lost.
    fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<DecimalText, E> {
        Err(E::custom(format!(
            "{n} arrived as a floating-point number; send the decimal as a string, like \"360.5\""
        )))
    }

    /// A JSON number under `arbitrary_precision`: serde_json's number, with its text.
    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<DecimalText, A::Error> {
        // Any other object is not a decimal at all.
        let number =
            serde_json::Number::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                .map_err(|_: A::Error| {
                    serde::de::Error::invalid_type(serde::de::Unexpected::Map, &self)
                })?;
        Ok(DecimalText(number.to_string()))
    }
}

/// One cargo line: `tonnes`, or `quantity` with `unit` (t, kg or L).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineInput {
    #[schema(example = "flour", pattern = "^[a-z0-9_-]{1,64}$")]
    pub commodity: String,
    /// Metric tonnes as a decimal string, up to 3 decimals and at most 10,000 t.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "300", pattern = "^([0-9]{1,4}(\\.[0-9]{1,3})?|10000(\\.0{1,3})?)$")]
    pub tonnes: Option<DecimalText>,
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "2000")]
    pub quantity: Option<DecimalText>,
    /// t, kg or L (litres need the commodity's density).
    #[serde(default)]
    #[schema(example = "L", pattern = "^(t|kg|L)$")]
    pub unit: Option<String>,
    /// Why less left or arrived than entered: denied_at_checkpoint, confiscated, damaged,
    /// spoiled, stolen, short_loaded, rejected_on_receipt, other.
    #[serde(default)]
    #[schema(
        pattern = "^(denied_at_checkpoint|confiscated|damaged|spoiled|stolen|short_loaded|rejected_on_receipt|other)$"
    )]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewConvoy {
    /// Optional client-chosen UUID; sending the same request again returns the stored convoy.
    #[serde(default, skip_serializing)]
    pub id: Option<uuid::Uuid>,
    /// Organization slug; editors may omit it (their own) and may not name another.
    #[serde(default)]
    #[schema(example = "arm-gov", pattern = "^[a-z0-9_-]{1,64}$")]
    pub organization: Option<String>,
    /// Unique within the organization.
    #[schema(
        example = "AM-2023-07-26",
        min_length = 1,
        max_length = 64,
        pattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$"
    )]
    pub reference: String,
    #[schema(example = "lachin", pattern = "^[a-z0-9_-]{1,64}$")]
    pub route: String,
    /// RFC 3339 with offset.
    #[schema(
        example = "2023-07-26T08:00:00+04:00",
        pattern = "^(199[0-9]|20[0-9]{2})-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,6})?(Z|[+-](0[0-9]|1[0-3]):[0-5][0-9])$"
    )]
    pub planned_departure: String,
    /// RFC 3339 with offset; default: planned departure plus the route's leg hours.
    #[serde(default)]
    #[schema(
        example = "2023-07-26T20:00:00+04:00",
        pattern = "^(199[0-9]|20[0-9]{2})-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,6})?(Z|[+-](0[0-9]|1[0-3]):[0-5][0-9])$"
    )]
    pub expected_arrival: Option<String>,
    #[serde(default)]
    #[schema(example = 19, minimum = 1, maximum = 1000)]
    pub trucks: Option<i32>,
    #[schema(min_items = 1, example = json!([{"commodity": "flour", "tonnes": "300"}, {"commodity": "food", "quantity": "60000", "unit": "kg"}]))]
    pub manifest: Vec<LineInput>,
    #[serde(default)]
    #[schema(
        max_length = 2000,
        pattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$"
    )]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEvent {
    /// Optional client-chosen UUID; a retry with the same id is never counted twice.
    #[serde(default, skip_serializing)]
    pub id: Option<uuid::Uuid>,
    /// departed, arrived, held, cleared, turned_back, delivered, closed or cancelled.
    #[schema(
        example = "cleared",
        pattern = "^(departed|arrived|held|cleared|turned_back|delivered|closed|cancelled)$"
    )]
    pub kind: String,
    /// Checkpoint code on the convoy's route; default: the origin for departed, the
    /// destination for delivered, the last seen checkpoint otherwise.
    #[serde(default)]
    #[schema(example = "HAKARI", pattern = "^[A-Z0-9_-]{1,32}$")]
    pub checkpoint: Option<String>,
    /// When it happened, RFC 3339 with offset.
    #[schema(
        example = "2023-07-27T10:15:00+04:00",
        pattern = "^(199[0-9]|20[0-9]{2})-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,6})?(Z|[+-](0[0-9]|1[0-3]):[0-5][0-9])$"
    )]
    pub observed_at: String,
    /// On departed (what was loaded), cleared (what left) and delivered (what was received).
    #[serde(default)]
    pub cargo: Vec<LineInput>,
    /// On closed: why what is still in transit is written off (default other).
    #[serde(default)]
    #[schema(
        pattern = "^(denied_at_checkpoint|confiscated|damaged|spoiled|stolen|short_loaded|rejected_on_receipt|other)$"
    )]
    pub reason: Option<String>,
    #[serde(default)]
    #[schema(
        max_length = 2000,
        pattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$"
    )]
    pub note: Option<String>,
    /// The id of an earlier event of this convoy that this one corrects (voids).
    #[serde(default)]
    pub corrects: Option<uuid::Uuid>,
    /// Trucks that went on from the checkpoint (on delivered: that arrived), 0–1000 and
    /// at most the convoy's trucks. Absent: the count carries forward.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = 17, minimum = 0, maximum = 1000)]
    pub trucks_passed: Option<i64>,
    /// Trucks held at the checkpoint, 0–1000 and at most the convoy's trucks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = 2, minimum = 0, maximum = 1000)]
    pub trucks_held: Option<i64>,
    /// Trucks turned back at the checkpoint, 0–1000 and at most the convoy's trucks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = 0, minimum = 0, maximum = 1000)]
    pub trucks_turned_back: Option<i64>,
}

/// Commodities by code, for turning lines into kilograms.
pub type CommodityIndex = HashMap<String, reference::Commodity>;

pub fn commodity_index(conn: &mut DbConn) -> Result<CommodityIndex, AppError> {
    let page = reference::list_commodities(conn, None, 10_000)?;
    Ok(page
        .items
        .into_iter()
        .map(|c| (c.code.clone(), c))
        .collect())
}

/// Validates one cargo line into kilograms, recording errors under `field`.
pub fn parse_line(
    check: &mut Checker,
    field: &str,
    line: &LineInput,
    commodities: &CommodityIndex,
) -> Option<NewLine> {
    let commodity = match commodities.get(&line.commodity) {
        Some(c) => Some(c),
        None => {
            check.push(
                format!("{field}.commodity"),
                format!("commodity {} does not exist", line.commodity),
            );
            None
        }
    };
    let reason = match line.reason.as_deref() {
        None => Some(None),
        Some(r) => match Reason::parse(r) {
            Some(r) => Some(Some(r)),
            None => {
                check.push(
                    format!("{field}.reason"),
                    format!("{r:?} is not a reason code; use one of {}", reason_list()),
                );
                None
            }
        },
    };
    let amount = match (&line.tonnes, &line.quantity, &line.unit) {
        (Some(t), None, None) => quantity::parse_tonnes(&t.0)
            .map(|kg| (kg, t.0.trim().to_string(), "t".to_string()))
            .map_err(|e| (format!("{field}.tonnes"), e.to_string())),
        (None, Some(q), Some(u)) => match Unit::parse(u) {
            None => Err((
                format!("{field}.unit"),
                format!("{u:?} is not a unit; use t, kg or L"),
            )),
            Some(unit) => {
                let density = commodity
                    .and_then(|c| c.density_mg_per_l)
                    .map(validate::density_kg_per_l);
                match (unit, density, commodity) {
                    (Unit::Litres, None, Some(c)) => Err((
                        format!("{field}.unit"),
                        format!("commodity {} has no density, so it cannot be given in litres; give tonnes or kg, or set its density_kg_per_l", c.code),
                    )),
                    _ => quantity::to_kg(&q.0, unit, density)
                        .map(|kg| (kg, q.0.trim().to_string(), unit.symbol().to_string()))
                        .map_err(|e| (format!("{field}.quantity"), e.to_string())),
                }
            }
        },
        (None, Some(_), None) => Err((
            format!("{field}.unit"),
            "give the unit of quantity: t, kg or L".to_string(),
        )),
        (None, None, _) => Err((
            format!("{field}.tonnes"),
            "give tonnes, or quantity with unit".to_string(),
        )),
        _ => Err((
            field.to_string(),
            "give either tonnes, or quantity with unit, not both".to_string(),
        )),
    };
    let amount = match amount {
        Ok(a) => Some(a),
        Err((f, m)) => {
            check.push(f, m);
            None
        }
    };
    match (commodity, reason, amount) {
        (Some(c), Some(reason), Some((kg, quantity, unit))) => Some(NewLine {
            commodity_id: c.id.clone(),
            kg,
            quantity,
            unit,
            reason,
        }),
        _ => None,
    }
}

pub fn reason_list() -> String {
    Reason::ALL
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn optional_note(check: &mut Checker, note: &Option<String>) -> Option<String> {
    match note.as_deref().map(str::trim) {
        Some(n) if n.chars().count() > 2000 => {
            check.push("note", "must be at most 2000 characters");
            None
        }
        Some("") | None => None,
        Some(n) => Some(n.to_string()),
    }
}

/// What validating an event needs besides the request: the convoy's route and manifest,
/// and the commodity catalogue.
pub struct EventContext<'a> {
    pub route: &'a reference::Route,
    pub manifest: &'a [store::ManifestLineRow],
    pub commodities: &'a CommodityIndex,
}

/// Validates a new event of a convoy for `who`, from data already loaded.
pub fn build_event_with(
    ctx: &EventContext<'_>,
    who: &Principal,
    convoy: &ConvoyRow,
    body: &NewEvent,
    id: String,
) -> Result<store::NewEvent, AppError> {
    who.require_write_for(
        &convoy.organization_id,
        &format!("convoy {} of another organization", convoy.reference),
    )?;
    let mut check = Checker::new();
    let kind = EventKind::parse(&body.kind);
    if kind.is_none() {
        check.push("kind", format!("{:?} is not an event kind; use departed, arrived, held, cleared, turned_back, delivered, closed or cancelled", body.kind));
    }
    let route = ctx.route;
    let checkpoint_id = match &body.checkpoint {
        None => None,
        Some(code) => match route.stops.iter().find(|s| &s.checkpoint.code == code) {
            Some(stop) => Some(stop.checkpoint.id.clone()),
            None => {
                let path: Vec<&str> = route
                    .stops
                    .iter()
                    .map(|s| s.checkpoint.code.as_str())
                    .collect();
                check.push(
                    "checkpoint",
                    format!(
                        "{code} is not on route {} ({})",
                        route.row.code,
                        path.join(" → ")
                    ),
                );
                None
            }
        },
    };
    let observed = check.take(
        "observed_at",
        crate::domain::time::parse_time(&body.observed_at),
    );
    if let Some((at, _)) = observed {
        if at > crate::db::now_micros() + 86_400_000_000 {
            check.push(
                "observed_at",
                "is more than a day in the future; check the device's clock and time zone",
            );
        }
    }
    let reason = match body.reason.as_deref() {
        None => None,
        Some(r) => match (Reason::parse(r), kind) {
            (Some(reason), Some(EventKind::Closed)) => Some(reason),
            (Some(_), _) => {
                check.push("reason", "only closed events take a reason; put reasons for missing cargo on the cargo lines");
                None
            }
            (None, _) => {
                check.push(
                    "reason",
                    format!("{r:?} is not a reason code; use one of {}", reason_list()),
                );
                None
            }
        },
    };
    let mut lines = Vec::new();
    for (i, line) in body.cargo.iter().enumerate() {
        let field = format!("cargo[{i}]");
        if let Some(parsed) = parse_line(&mut check, &field, line, ctx.commodities) {
            if !ctx
                .manifest
                .iter()
                .any(|m| m.commodity_id == parsed.commodity_id)
            {
                check.push(
                    format!("{field}.commodity"),
                    format!("{} is not on this convoy's manifest", line.commodity),
                );
            }
            lines.push(parsed);
        }
    }
    let note = optional_note(&mut check, &body.note);
    let trucks = truck_counts(&mut check, body, kind, convoy.trucks);
    check.finish()?;
    let (kind, observed) = match (kind, observed) {
        (Some(k), Some(o)) => (k, o),
        _ => return Err(AppError::field("body", "invalid event")),
    };
    Ok(store::NewEvent {
        id,
        convoy_id: convoy.id.clone(),
        kind,
        checkpoint_id,
        observed_at: observed,
        reason,
        note,
        corrects: body.corrects.map(|c| c.to_string()),
        lines,
        trucks,
        body_sha256: body_hash(body),
        recorded_by: who.token_id.clone(),
    })
}

/// The event's truck counts: whole numbers from 0 to [`MAX_TRUCKS`], none above the
/// convoy's planned trucks, and none on an event that is at no checkpoint.
fn truck_counts(
    check: &mut Checker,
    body: &NewEvent,
    kind: Option<EventKind>,
    planned: Option<i32>,
) -> TruckCounts {
    let mut one = |field: &str, value: Option<i64>| -> Option<i32> {
        let n = value?;
        if !(0..=i64::from(MAX_TRUCKS)).contains(&n) {
            check.push(
                field,
                format!("must be a whole number of trucks from 0 to {MAX_TRUCKS}"),
            );
            return None;
        }
        if let Some(kind @ (EventKind::Cancelled | EventKind::Closed)) = kind {
            check.push(
                field,
                format!(
                    "{kind} events count no trucks; give the count on the event at the checkpoint"
                ),
            );
            return None;
        }
        match planned {
            Some(p) if n > i64::from(p) => {
                check.push(
                    field,
                    format!("{n} is more than the convoy's {p} trucks; correct the count, or the convoy's trucks"),
                );
                None
            }
            _ => i32::try_from(n).ok(),
        }
    };
    TruckCounts {
        passed: one("trucks_passed", body.trucks_passed),
        held: one("trucks_held", body.trucks_held),
        turned_back: one("trucks_turned_back", body.trucks_turned_back),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str) -> Result<DecimalText, String> {
        serde_json::from_str::<DecimalText>(json).map_err(|e| e.to_string())
    }

    #[test]
    fn decimals_are_kept_as_the_text_sent_whether_string_or_number() {
        for (json, text) in [
            (r#""360.5""#, "360.5"),
            ("360.5", "360.5"),
            ("1.0000000000000001", "1.0000000000000001"),
            ("9999.99999999999999", "9999.99999999999999"),
            ("99999999999999999999", "99999999999999999999"),
            ("-0.000", "-0.000"),
            ("300", "300"),
            ("1e3", "1e+3"),
        ] {
            assert_eq!(read(json), Ok(DecimalText(text.into())), "{json}");
        }
    }

    #[test]
    fn other_json_types_are_refused_asking_for_a_string() {
        for json in ["true", "null", "[1]", r#"{"t": 1}"#] {
            let message = read(json).unwrap_err();
            assert!(
                message.contains(r#"a decimal number as a string, like "360.5""#),
                "{json}: {message}"
            );
        }
    }

    #[test]
    fn numbers_inside_a_line_reach_validation_unrounded() {
        let line: LineInput =
            serde_json::from_str(r#"{"commodity": "flour", "tonnes": 1.0000000000000001}"#)
                .unwrap();
        assert_eq!(line.tonnes, Some(DecimalText("1.0000000000000001".into())));
        let value: serde_json::Value = serde_json::from_str(
            r#"{"commodity": "flour", "quantity": 9999.99999999999999, "unit": "t"}"#,
        )
        .unwrap();
        let line: LineInput = serde_json::from_value(value).unwrap();
        assert_eq!(
            line.quantity,
            Some(DecimalText("9999.99999999999999".into()))
        );
    }
}
