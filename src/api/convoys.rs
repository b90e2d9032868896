//! `/api/v1/convoys` and `/api/v1/convoys/{id}/events`: plans, checkpoint events, the
//! waterfall and the shortfall of each convoy.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, SecondsFormat, TimeZone};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::extract::{ApiJson, ApiQuery};
use crate::api::validate::{self, Checker};
use crate::api::{created, rfc3339};
use crate::auth::{Principal, Role};
use crate::db::DbConn;
use crate::domain::ledger::{EventKind, Figures, Reason, Status};
use crate::domain::quantity::{self, format_tonnes, Kg, Unit};
use crate::error::AppError;
use crate::state::AppState;
use crate::store::convoys::{self as store, ConvoyDetail, ConvoyRow, NewLine, StoredEvent};
use crate::store::{body_hash, reference, resolve_id, Created};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/convoys")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(web::resource("/convoys/{id}").route(web::get().to(get)))
    .service(
        web::resource("/convoys/{id}/events")
            .route(web::get().to(list_events))
            .route(web::post().to(create_event)),
    );
}

// ------------------------------------------------------------------ input

/// A decimal written as a JSON string ("360.5") or, leniently, a JSON number (360.5);
/// kept as text so it is parsed exactly, never through floating point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(value_type = String, example = "360.5")]
pub struct DecimalText(pub String);

impl<'de> Deserialize<'de> for DecimalText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Number(serde_json::Number),
        }
        match Raw::deserialize(d) {
            Ok(Raw::Text(s)) => Ok(DecimalText(s)),
            Ok(Raw::Number(n)) => Ok(DecimalText(n.to_string())),
            Err(_) => Err(serde::de::Error::custom(
                "expected a decimal number as a string, like \"360.5\"",
            )),
        }
    }
}

/// One cargo line: `tonnes`, or `quantity` with `unit` (t, kg or L).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineInput {
    #[schema(example = "flour")]
    pub commodity: String,
    #[serde(default)]
    pub tonnes: Option<DecimalText>,
    #[serde(default)]
    pub quantity: Option<DecimalText>,
    /// t, kg or L (litres need the commodity's density).
    #[serde(default)]
    #[schema(example = "L")]
    pub unit: Option<String>,
    /// Why less left or arrived than entered: denied_at_checkpoint, confiscated, damaged,
    /// spoiled, stolen, short_loaded, rejected_on_receipt, other.
    #[serde(default)]
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
    #[schema(example = "arm-gov")]
    pub organization: Option<String>,
    /// Unique within the organization.
    #[schema(example = "AM-2023-07-26")]
    pub reference: String,
    #[schema(example = "lachin")]
    pub route: String,
    /// RFC 3339 with offset.
    #[schema(example = "2023-07-26T08:00:00+04:00")]
    pub planned_departure: String,
    /// RFC 3339 with offset; default: planned departure plus the route's leg hours.
    #[serde(default)]
    #[schema(example = "2023-07-26T20:00:00+04:00")]
    pub expected_arrival: Option<String>,
    #[serde(default)]
    #[schema(example = 19)]
    pub trucks: Option<i32>,
    pub manifest: Vec<LineInput>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEvent {
    /// Optional client-chosen UUID; a retry with the same id is never counted twice.
    #[serde(default, skip_serializing)]
    pub id: Option<uuid::Uuid>,
    /// departed, arrived, held, cleared, turned_back, delivered, closed or cancelled.
    #[schema(example = "cleared")]
    pub kind: String,
    /// Checkpoint code on the convoy's route; default: the origin for departed, the
    /// destination for delivered, the last seen checkpoint otherwise.
    #[serde(default)]
    #[schema(example = "HAKARI")]
    pub checkpoint: Option<String>,
    /// When it happened, RFC 3339 with offset.
    #[schema(example = "2023-07-27T10:15:00+04:00")]
    pub observed_at: String,
    /// On departed (what was loaded), cleared (what left) and delivered (what was received).
    #[serde(default)]
    pub cargo: Vec<LineInput>,
    /// On closed: why what is still in transit is written off (default other).
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    /// The id of an earlier event of this convoy that this one corrects (voids).
    #[serde(default)]
    pub corrects: Option<uuid::Uuid>,
}

/// Parses an RFC 3339 time that must carry its offset; returns (UTC µs, offset seconds).
pub fn parse_time(s: &str) -> Result<(i64, i32), String> {
    let t = DateTime::parse_from_rfc3339(s.trim()).map_err(|e| {
        format!("{s:?} is not an RFC 3339 time with an offset ({e}); write it like 2023-07-26T08:00:00+04:00")
    })?;
    Ok((t.timestamp_micros(), t.offset().local_minus_utc()))
}

/// Formats a stored instant in the offset it was given with.
pub fn format_time(us: i64, offset_seconds: i32) -> String {
    let utc = crate::db::from_micros(us);
    match FixedOffset::east_opt(offset_seconds) {
        Some(off) => utc
            .with_timezone(&off)
            .to_rfc3339_opts(SecondsFormat::AutoSi, true),
        None => utc.to_rfc3339_opts(SecondsFormat::AutoSi, true),
    }
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

fn reason_list() -> String {
    Reason::ALL
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn optional_note(check: &mut Checker, note: &Option<String>) -> Option<String> {
    match note.as_deref().map(str::trim) {
        Some(n) if n.chars().count() > 2000 => {
            check.push("note", "must be at most 2000 characters");
            None
        }
        Some("") | None => None,
        Some(n) => Some(n.to_string()),
    }
}

/// Validates a new convoy for `who`; resolves its organization, route and manifest.
pub fn build_convoy(
    conn: &mut DbConn,
    who: &Principal,
    body: &NewConvoy,
    id: String,
) -> Result<store::NewConvoy, AppError> {
    let mut check = Checker::new();
    let organization = match (&body.organization, who.role, &who.organization_id) {
        (Some(slug), _, _) => reference::find_organization(conn, slug)?.or_else(|| {
            check.push(
                "organization",
                format!("organization {slug} does not exist"),
            );
            None
        }),
        (None, Role::Editor, Some(own)) => reference::find_organization(conn, own)?,
        (None, _, _) => {
            check.push(
                "organization",
                "give the organization slug that owns the convoy",
            );
            None
        }
    };
    let reference_text = body.reference.trim();
    if reference_text.is_empty() || reference_text.chars().count() > 64 {
        check.push(
            "reference",
            "must be 1–64 characters, unique within the organization",
        );
    }
    let route = reference::find_route(conn, &body.route)?;
    if route.is_none() {
        check.push("route", format!("route {} does not exist", body.route));
    }
    let departure = check.take("planned_departure", parse_time(&body.planned_departure));
    let arrival = match &body.expected_arrival {
        Some(a) => check.take("expected_arrival", parse_time(a)),
        None => match (departure, &route) {
            (Some((at, offset)), Some(r)) => {
                let minutes: i64 = r.stops.iter().map(|s| i64::from(s.leg_minutes)).sum();
                Some((at + minutes * 60_000_000, offset))
            }
            _ => None,
        },
    };
    if let (Some(d), Some(a)) = (departure, arrival) {
        if a.0 < d.0 {
            check.push("expected_arrival", "must not be before planned_departure");
        }
    }
    if let Some(t) = body.trucks {
        if !(1..=1000).contains(&t) {
            check.push("trucks", "must be between 1 and 1000");
        }
    }
    if body.manifest.is_empty() {
        check.push(
            "manifest",
            "give at least one line: what the convoy is planned to carry",
        );
    }
    let commodities = commodity_index(conn)?;
    let mut manifest = Vec::new();
    for (i, line) in body.manifest.iter().enumerate() {
        let field = format!("manifest[{i}]");
        if line.reason.is_some() {
            check.push(
                format!("{field}.reason"),
                "manifest lines take no reason: they are the plan",
            );
        }
        if body.manifest[..i]
            .iter()
            .any(|l| l.commodity == line.commodity)
        {
            check.push(
                format!("{field}.commodity"),
                format!(
                    "{} appears twice; give one line per commodity",
                    line.commodity
                ),
            );
        }
        if let Some(parsed) = parse_line(&mut check, &field, line, &commodities) {
            if parsed.kg == 0 {
                check.push(
                    format!("{field}.tonnes"),
                    "a planned quantity must be more than 0",
                );
            }
            manifest.push(parsed);
        }
    }
    let note = optional_note(&mut check, &body.note);
    check.finish()?;
    let (organization, route, departure, arrival) = match (organization, route, departure, arrival)
    {
        (Some(o), Some(r), Some(d), Some(a)) => (o, r, d, a),
        _ => return Err(AppError::field("body", "invalid convoy")),
    };
    who.require_write_for(
        &organization.id,
        &format!("organization {}", organization.slug),
    )?;
    Ok(store::NewConvoy {
        id,
        organization_id: organization.id,
        reference: reference_text.to_string(),
        route_id: route.row.id,
        trucks: body.trucks,
        planned_departure: departure,
        expected_arrival: arrival,
        note,
        manifest,
        body_sha256: body_hash(body),
        created_by: who.token_id.clone(),
    })
}

/// Validates a new event of a convoy for `who`.
pub fn build_event(
    conn: &mut DbConn,
    who: &Principal,
    convoy: &ConvoyRow,
    body: &NewEvent,
    id: String,
) -> Result<store::NewEvent, AppError> {
    let route = reference::get_route(conn, &convoy.route_id)?;
    let manifest = store::load_manifest(conn, &convoy.id)?;
    let commodities = commodity_index(conn)?;
    let ctx = EventContext {
        route: &route,
        manifest: &manifest,
        commodities: &commodities,
    };
    build_event_with(&ctx, who, convoy, body, id)
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
    let observed = check.take("observed_at", parse_time(&body.observed_at));
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
        body_sha256: body_hash(body),
        recorded_by: who.token_id.clone(),
    })
}

// ------------------------------------------------------------------ output

/// Tonnes as a decimal string with three decimals.
fn t(kg: Kg) -> String {
    format_tonnes(kg)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LineOut {
    pub commodity: String,
    #[schema(example = "280.000")]
    pub tonnes: String,
    /// The quantity and unit as the client sent them.
    pub quantity: String,
    pub unit: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VoidedBy {
    pub event: String,
    pub recorded_by: String,
    pub recorded_at: String,
    pub note: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Event {
    pub id: String,
    pub convoy: String,
    /// Recording order within the convoy.
    pub seq: i64,
    pub kind: String,
    pub checkpoint: Option<String>,
    pub observed_at: String,
    pub recorded_at: String,
    /// Name of the token that recorded it.
    pub recorded_by: String,
    pub cargo: Vec<LineOut>,
    pub reason: Option<String>,
    pub note: Option<String>,
    pub corrects: Option<String>,
    /// Voided by a later correction: still shown, no longer counted.
    pub voided: bool,
    pub voided_by: Option<VoidedBy>,
}

/// Token names for display; an unknown id is shown as is.
pub fn token_names(conn: &mut DbConn) -> Result<HashMap<String, String>, AppError> {
    Ok(crate::store::tokens::list_tokens(conn)?
        .into_iter()
        .map(|t| (t.id, t.name))
        .collect())
}

fn name_of(names: &HashMap<String, String>, id: &str) -> String {
    names.get(id).cloned().unwrap_or_else(|| id.to_string())
}

pub fn event_out(e: &StoredEvent, codes: &store::Codes, names: &HashMap<String, String>) -> Event {
    Event {
        id: e.row.id.clone(),
        convoy: e.row.convoy_id.clone(),
        seq: e.row.seq,
        kind: e.row.kind.clone(),
        checkpoint: e
            .row
            .checkpoint_id
            .as_deref()
            .map(|id| codes.checkpoint(id)),
        observed_at: format_time(e.row.observed_at, e.row.observed_offset),
        recorded_at: rfc3339(e.row.recorded_at),
        recorded_by: name_of(names, &e.row.recorded_by),
        cargo: e
            .lines
            .iter()
            .map(|l| LineOut {
                commodity: codes.commodity(&l.commodity_id),
                tonnes: t(l.kg),
                quantity: l.quantity.clone(),
                unit: l.unit.clone(),
                reason: l.reason.clone(),
            })
            .collect(),
        reason: e.row.reason.clone(),
        note: e.row.note.clone(),
        corrects: e.row.corrects.clone(),
        voided: e.voided_by.is_some(),
        voided_by: e.voided_by.as_ref().map(|v| VoidedBy {
            event: v.id.clone(),
            recorded_by: name_of(names, &v.recorded_by),
            recorded_at: rfc3339(v.recorded_at),
            note: v.note.clone(),
        }),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckpointTonnes {
    pub checkpoint: String,
    pub tonnes: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LossTonnes {
    pub checkpoint: String,
    pub reason: String,
    pub tonnes: String,
}

/// Where the planned tonnes went. `planned = delivered + short_loaded + denied + lost +
/// rejected_on_receipt + outstanding + cancelled`, exactly.
#[derive(Debug, Serialize, ToSchema)]
pub struct FiguresOut {
    pub planned: String,
    pub loaded: String,
    pub delivered: String,
    /// planned − delivered − cancelled.
    pub shortfall: String,
    pub short_loaded: String,
    pub denied: String,
    pub lost: String,
    pub rejected_on_receipt: String,
    pub outstanding: String,
    pub cancelled: String,
    pub denied_by_checkpoint: Vec<CheckpointTonnes>,
    pub lost_by: Vec<LossTonnes>,
}

pub fn figures_out(f: &Figures) -> FiguresOut {
    FiguresOut {
        planned: t(f.planned),
        loaded: t(f.loaded),
        delivered: t(f.delivered),
        shortfall: t(f.planned - f.delivered - f.cancelled),
        short_loaded: t(f.short_loaded),
        denied: t(f.denied),
        lost: t(f.lost),
        rejected_on_receipt: t(f.rejected),
        outstanding: t(f.outstanding),
        cancelled: t(f.cancelled),
        denied_by_checkpoint: f
            .denied_by_checkpoint
            .iter()
            .map(|(cp, kg)| CheckpointTonnes {
                checkpoint: cp.clone(),
                tonnes: t(*kg),
            })
            .collect(),
        lost_by: f
            .lost_by
            .iter()
            .map(|((cp, reason), kg)| LossTonnes {
                checkpoint: cp.clone(),
                reason: reason.as_str().to_string(),
                tonnes: t(*kg),
            })
            .collect(),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WaterfallStepOut {
    pub checkpoint: String,
    /// Tonnes that reached the checkpoint; null until the convoy got there.
    pub entered: Option<String>,
    /// Tonnes that went on from it; null until the convoy passed it.
    pub left: Option<String>,
    pub denied: String,
    pub lost: Vec<LossTonnes>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommodityOut {
    pub commodity: String,
    pub figures: FiguresOut,
    pub waterfall: Vec<WaterfallStepOut>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ManifestLineOut {
    pub commodity: String,
    pub tonnes: String,
    pub quantity: String,
    pub unit: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConvoySummary {
    pub id: String,
    pub organization: String,
    pub reference: String,
    pub route: String,
    pub trucks: Option<i32>,
    pub planned_departure: String,
    pub expected_arrival: String,
    /// planned, in_transit, held, delivered, short_delivered, turned_back or cancelled.
    pub status: String,
    pub last_checkpoint: Option<String>,
    pub last_seen_at: Option<String>,
    pub planned: String,
    pub delivered: String,
    pub shortfall: String,
    pub outstanding: String,
    pub note: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Convoy {
    #[serde(flatten)]
    pub summary: ConvoySummary,
    pub manifest: Vec<ManifestLineOut>,
    /// Totals over all commodities, with the shortfall split.
    pub totals: FiguresOut,
    /// Per commodity: figures and the waterfall along the route.
    pub commodities: Vec<CommodityOut>,
    /// Every event, voided ones included and marked, in recording order.
    pub events: Vec<Event>,
    pub created_at: String,
    pub created_by: String,
}

fn summary(
    row: &ConvoyRow,
    organization: &str,
    route: &str,
    codes: &store::Codes,
) -> ConvoySummary {
    ConvoySummary {
        id: row.id.clone(),
        organization: organization.to_string(),
        reference: row.reference.clone(),
        route: route.to_string(),
        trucks: row.trucks,
        planned_departure: format_time(row.planned_departure, row.planned_departure_offset),
        expected_arrival: format_time(row.expected_arrival, row.expected_arrival_offset),
        status: row.status.clone(),
        last_checkpoint: row
            .last_checkpoint_id
            .as_deref()
            .map(|id| codes.checkpoint(id)),
        last_seen_at: row.last_seen_at.map(rfc3339),
        planned: t(row.planned_kg),
        delivered: t(row.delivered_kg),
        shortfall: t(row.planned_kg - row.delivered_kg - row.cancelled_kg),
        outstanding: t(row.outstanding_kg),
        note: row.note.clone(),
    }
}

pub fn convoy_out(d: &ConvoyDetail, names: &HashMap<String, String>) -> Convoy {
    Convoy {
        summary: summary(&d.row, &d.organization, &d.route_code, &d.codes),
        manifest: d
            .manifest
            .iter()
            .map(|l| ManifestLineOut {
                commodity: d.codes.commodity(&l.commodity_id),
                tonnes: t(l.kg),
                quantity: l.quantity.clone(),
                unit: l.unit.clone(),
            })
            .collect(),
        totals: figures_out(&d.ledger.totals),
        commodities: d
            .ledger
            .commodities
            .iter()
            .map(|c| CommodityOut {
                commodity: c.commodity.clone(),
                figures: figures_out(&c.figures),
                waterfall: c
                    .waterfall
                    .iter()
                    .map(|s| WaterfallStepOut {
                        checkpoint: s.checkpoint.clone(),
                        entered: s.entered.map(t),
                        left: s.left.map(t),
                        denied: t(s.denied),
                        lost: s
                            .lost
                            .iter()
                            .map(|(r, kg)| LossTonnes {
                                checkpoint: s.checkpoint.clone(),
                                reason: r.as_str().to_string(),
                                tonnes: t(*kg),
                            })
                            .collect(),
                    })
                    .collect(),
            })
            .collect(),
        events: d
            .events
            .iter()
            .map(|e| event_out(e, &d.codes, names))
            .collect(),
        created_at: rfc3339(d.row.created_at),
        created_by: name_of(names, &d.row.created_by),
    }
}

// ------------------------------------------------------------------ handlers

#[utoipa::path(post, operation_id = "convoys_create", path = "/api/v1/convoys", tag = "convoys", request_body = NewConvoy,
    responses((status = 201, body = Convoy), (status = 200, description = "replayed create: the stored convoy", body = Convoy),
    (status = 403, description = "another organization's convoy"), (status = 409, description = "same id with another body, or reference taken"),
    (status = 422, description = "invalid fields")), security(("bearer" = [])))]
pub async fn create(
    state: web::Data<AppState>,
    who: Principal,
    body: ApiJson<NewConvoy>,
) -> Result<HttpResponse, AppError> {
    let body = body.0;
    let result = state
        .db(move |c| {
            let id = resolve_id(body.id);
            if let Some(done) = replay_convoy(c, &id, &body)? {
                return Ok(done);
            }
            let new = build_convoy(c, &who, &body, id)?;
            let created = store::create_convoy(c, new)?;
            let names = token_names(c)?;
            let detail = store::load_detail(c, &created.get().id)?;
            Ok(created.map(|_| convoy_out(&detail, &names)))
        })
        .await?;
    let location = format!("/api/v1/convoys/{}", result.get().summary.id);
    Ok(created(result, location))
}

/// A create whose id is already stored is answered from the stored record before any
/// validation that could have changed since (a replay must not fail).
fn replay_convoy(
    c: &mut DbConn,
    id: &str,
    body: &NewConvoy,
) -> Result<Option<Created<Convoy>>, AppError> {
    match store::find_convoy(c, id)? {
        None => Ok(None),
        Some(row) if row.body_sha256 == body_hash(body) => {
            let names = token_names(c)?;
            Ok(Some(Created::Replayed(convoy_out(&store::load_detail(c, id)?, &names))))
        }
        Some(_) => Err(AppError::Conflict(format!(
            "convoy {id} already exists with a different body; a retry must send exactly the same body, a new convoy needs a new id"
        ))),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ConvoyListParams {
    /// Organization slug.
    pub organization: Option<String>,
    /// Route code.
    pub route: Option<String>,
    pub status: Option<String>,
    /// Expected arrival on or after this local date (YYYY-MM-DD).
    pub due_from: Option<String>,
    /// Expected arrival on or before this local date (YYYY-MM-DD).
    pub due_to: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConvoyPage {
    pub items: Vec<ConvoySummary>,
    pub next_cursor: Option<String>,
}

/// Local midnight of a date in the deployment's zone, as UTC µs.
pub fn local_midnight(tz: chrono_tz::Tz, date: NaiveDate) -> i64 {
    let naive = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|t| t.timestamp_micros())
        .unwrap_or_else(|| naive.and_utc().timestamp_micros())
}

pub fn parse_date(field: &str, s: &str) -> Result<NaiveDate, AppError> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
        AppError::field(
            field,
            format!("{s:?} is not a date; write it as YYYY-MM-DD"),
        )
    })
}

#[utoipa::path(get, operation_id = "convoys_list", path = "/api/v1/convoys", tag = "convoys", params(ConvoyListParams),
    responses((status = 200, body = ConvoyPage)), security(("bearer" = [])))]
pub async fn list(
    state: web::Data<AppState>,
    _who: Principal,
    q: ApiQuery<ConvoyListParams>,
) -> Result<HttpResponse, AppError> {
    let q = q.0;
    let limit = crate::api::page_limit(q.limit)?;
    if let Some(s) = &q.status {
        if ![
            Status::Planned,
            Status::InTransit,
            Status::Held,
            Status::Delivered,
            Status::ShortDelivered,
            Status::TurnedBack,
            Status::Cancelled,
        ]
        .iter()
        .any(|st| st.as_str() == s)
        {
            return Err(AppError::field("status", format!("{s:?} is not a status; use planned, in_transit, held, delivered, short_delivered, turned_back or cancelled")));
        }
    }
    let tz = state.tz;
    let due_from = q
        .due_from
        .as_deref()
        .map(|d| parse_date("due_from", d))
        .transpose()?
        .map(|d| local_midnight(tz, d));
    let due_to = q
        .due_to
        .as_deref()
        .map(|d| parse_date("due_to", d))
        .transpose()?
        .map(|d| local_midnight(tz, d + Duration::days(1)));
    let after = crate::api::time_cursor(q.cursor.as_deref())?;
    let page = state
        .db(move |c| {
            let mut filter = store::ConvoyFilter {
                status: q.status.clone(),
                due_from,
                due_to,
                after,
                ..Default::default()
            };
            if let Some(slug) = &q.organization {
                filter.organization_id = Some(
                    reference::find_organization(c, slug)?
                        .ok_or_else(|| {
                            AppError::field(
                                "organization",
                                format!("organization {slug} does not exist"),
                            )
                        })?
                        .id,
                );
            }
            if let Some(code) = &q.route {
                filter.route_id = Some(
                    reference::find_route(c, code)?
                        .ok_or_else(|| {
                            AppError::field("route", format!("route {code} does not exist"))
                        })?
                        .row
                        .id,
                );
            }
            let mut rows = store::list_convoys(c, &filter, limit)?;
            let next_cursor = if rows.len() as i64 > limit {
                rows.truncate(limit as usize);
                rows.last()
                    .map(|r| format!("{}_{}", r.expected_arrival, r.id))
            } else {
                None
            };
            let codes = store::Codes::load(c)?;
            let orgs: HashMap<String, String> = reference::list_organizations(c, None, 10_000)?
                .items
                .into_iter()
                .map(|o| (o.id, o.slug))
                .collect();
            let routes: HashMap<String, String> = reference::list_routes(c, None, 10_000)?
                .items
                .into_iter()
                .map(|r| (r.row.id, r.row.code))
                .collect();
            let items = rows
                .iter()
                .map(|r| {
                    summary(
                        r,
                        &name_of(&orgs, &r.organization_id),
                        &name_of(&routes, &r.route_id),
                        &codes,
                    )
                })
                .collect();
            Ok(ConvoyPage { items, next_cursor })
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

#[utoipa::path(get, operation_id = "convoys_get", path = "/api/v1/convoys/{id}", tag = "convoys", params(("id" = String, Path)),
    responses((status = 200, body = Convoy), (status = 404, description = "no such convoy")), security(("bearer" = [])))]
pub async fn get(
    state: web::Data<AppState>,
    _who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let convoy = state
        .db(move |c| {
            let names = token_names(c)?;
            Ok(convoy_out(&store::load_detail(c, &id)?, &names))
        })
        .await?;
    Ok(HttpResponse::Ok().json(convoy))
}

#[utoipa::path(get, operation_id = "convoys_list_events", path = "/api/v1/convoys/{id}/events", tag = "convoys", params(("id" = String, Path)),
    responses((status = 200, description = "every event in recording order, voided ones marked", body = Vec<Event>),
    (status = 404, description = "no such convoy")), security(("bearer" = [])))]
pub async fn list_events(
    state: web::Data<AppState>,
    _who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let events = state
        .db(move |c| {
            let stored = store::list_events(c, &id)?;
            let codes = store::Codes::load(c)?;
            let names = token_names(c)?;
            Ok(stored
                .iter()
                .map(|e| event_out(e, &codes, &names))
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(events))
}

/// Records one event (idempotent under its id); the answer for the HTTP API and sync.
pub fn record_event(
    c: &mut DbConn,
    who: &Principal,
    convoy_id: &str,
    body: &NewEvent,
) -> Result<Created<Event>, AppError> {
    let id = resolve_id(body.id);
    let created = match store::find_event(c, &id)? {
        Some(row) if row.body_sha256 == body_hash(body) && row.convoy_id == convoy_id => Created::Replayed(row),
        Some(_) => {
            return Err(AppError::Conflict(format!(
                "event {id} already exists with a different body; a retry must send exactly the same body, a new event needs a new id"
            )))
        }
        None => {
            let convoy = store::get_convoy(c, convoy_id)?;
            let new = build_event(c, who, &convoy, body, id)?;
            let lines = new.lines.clone();
            match store::record_event(c, new)? {
                // The usual case answers from what was just written, without re-reading
                // the convoy's events.
                Created::New(row) => {
                    let lines = lines
                        .into_iter()
                        .enumerate()
                        .map(|(i, l)| store::EventLineRow {
                            event_id: row.id.clone(),
                            line_no: i as i32,
                            commodity_id: l.commodity_id,
                            kg: l.kg,
                            quantity: l.quantity,
                            unit: l.unit,
                            reason: l.reason.map(|r| r.as_str().to_string()),
                        })
                        .collect();
                    let codes = store::Codes::load(c)?;
                    let names = HashMap::from([(who.token_id.clone(), who.name.clone())]);
                    let stored = StoredEvent { row, lines, voided_by: None };
                    return Ok(Created::New(event_out(&stored, &codes, &names)));
                }
                replayed => replayed,
            }
        }
    };
    let event_id = created.get().id.clone();
    let stored = store::list_events(c, convoy_id)?;
    let codes = store::Codes::load(c)?;
    let names = token_names(c)?;
    let event = stored
        .iter()
        .find(|e| e.row.id == event_id)
        .map(|e| event_out(e, &codes, &names))
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("event {event_id} vanished")))?;
    Ok(created.map(|_| event))
}

#[utoipa::path(post, operation_id = "convoys_create_event", path = "/api/v1/convoys/{id}/events", tag = "convoys", params(("id" = String, Path)), request_body = NewEvent,
    responses((status = 201, body = Event), (status = 200, description = "replayed: the stored event, counted once", body = Event),
    (status = 403, description = "another organization's convoy"), (status = 404, description = "no such convoy"),
    (status = 409, description = "same id with another body, or the corrected event was already corrected"),
    (status = 422, description = "invalid fields, or the ledger would become impossible (the detail names the event)")),
    security(("bearer" = [])))]
pub async fn create_event(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    body: ApiJson<NewEvent>,
) -> Result<HttpResponse, AppError> {
    let write = crate::ingest::EventWrite {
        who,
        convoy_id: id.into_inner(),
        body: body.0,
    };
    let result = state.writer.submit(write).await?;
    let location = format!("/api/v1/convoys/{}/events", result.get().convoy);
    Ok(created(result, location))
}
