//! The shapes of convoys and events in answers — the API, the command line, the jobs and
//! the pages all show the same figures the same way.

use std::collections::HashMap;

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::ledger::Figures;
use crate::domain::quantity::{format_tonnes, Kg};
use crate::domain::time::{format_time, rfc3339};
use crate::store::convoys::{self as store, ConvoyDetail, ConvoyRow, StoredEvent};
use crate::views::claims::ConvoyClaims;
use crate::views::name_of;

/// Tonnes as a decimal string with three decimals.
pub fn t(kg: Kg) -> String {
    format_tonnes(kg)
}

#[derive(Debug, Clone, Serialize, ToSchema)]
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

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VoidedBy {
    pub event: String,
    pub recorded_by: String,
    pub recorded_at: String,
    pub note: Option<String>,
}

/// Where an event came from when a form intake made it: the intake and the submission's
/// instance id (its entry is in the intake's log).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventSource {
    pub intake: String,
    pub instance_id: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
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
    /// The form intake and submission that made it (KoboToolbox, ODK Collect); absent for
    /// events sent to the API directly.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<EventSource>,
    /// Trucks that went on from the checkpoint (on delivered: that arrived); present only
    /// when the event gives the count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trucks_passed: Option<i32>,
    /// Trucks held at the checkpoint, when the event gives the count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trucks_held: Option<i32>,
    /// Trucks turned back at the checkpoint, when the event gives the count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trucks_turned_back: Option<i32>,
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
        source: None,
        trucks_passed: e.row.trucks_passed,
        trucks_held: e.row.trucks_held,
        trucks_turned_back: e.row.trucks_turned_back,
    }
}

/// Fills in where each event came from (`sources`: event id → (intake, instance id)).
pub fn with_sources(events: &mut [Event], sources: &HashMap<String, (String, String)>) {
    for e in events {
        e.source = sources.get(&e.id).map(|(intake, instance)| EventSource {
            intake: intake.clone(),
            instance_id: instance.clone(),
        });
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

/// The trucks at one checkpoint of the convoy's route, counts carried forward from the
/// events (null where nothing is known).
#[derive(Debug, Serialize, ToSchema)]
pub struct TruckStepOut {
    pub checkpoint: String,
    /// Trucks that reached the checkpoint (at the origin: the planned trucks, once the
    /// convoy set off).
    pub arrived: Option<i32>,
    /// Trucks that went on from it; at the destination, the trucks that arrived there.
    pub passed: Option<i32>,
    pub held: Option<i32>,
    pub turned_back: Option<i32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Convoy {
    #[serde(flatten)]
    pub summary: ConvoySummary,
    /// Trucks that arrived at the destination (null until known).
    pub trucks_arrived: Option<i32>,
    /// Per checkpoint along the route: trucks arrived, passed, held and turned back.
    pub trucks_by_checkpoint: Vec<TruckStepOut>,
    pub manifest: Vec<ManifestLineOut>,
    /// Totals over all commodities, with the shortfall split.
    pub totals: FiguresOut,
    /// Per commodity: figures and the waterfall along the route.
    pub commodities: Vec<CommodityOut>,
    /// Every event, voided ones included and marked, in recording order.
    pub events: Vec<Event>,
    pub created_at: String,
    pub created_by: String,
    /// What sources published about the convoy, beside the logged figure, with their
    /// spread and whether they are disputed. In `GET /convoys/{id}` only (also
    /// `GET /convoys/{id}/claims`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claims: Option<ConvoyClaims>,
}

pub fn summary(
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
    convoy_part(d, names, 0..d.events.len())
}

/// The convoy with only the events at `shown` (indexes into its events in recording
/// order); its figures and trucks are still those of all its events. A long timeline's
/// page builds views of the events it shows, not of thousands.
pub fn convoy_part(
    d: &ConvoyDetail,
    names: &HashMap<String, String>,
    shown: std::ops::Range<usize>,
) -> Convoy {
    let trucks = store::trucks_along(&d.route, d.row.trucks, &d.events, &d.codes);
    Convoy {
        summary: summary(&d.row, &d.organization, &d.route_code, &d.codes),
        trucks_arrived: crate::domain::trucks::arrived(&trucks),
        trucks_by_checkpoint: trucks
            .into_iter()
            .map(|s| TruckStepOut {
                checkpoint: s.checkpoint,
                arrived: s.arrived,
                passed: s.passed,
                held: s.held,
                turned_back: s.turned_back,
            })
            .collect(),
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
        events: d.events[shown]
            .iter()
            .map(|e| event_out(e, &d.codes, names))
            .collect(),
        created_at: rfc3339(d.row.created_at),
        created_by: name_of(names, &d.row.created_by),
        claims: None,
    }
}
