//! The convoy ledger: from field observations to a waterfall of where the
//! cargo went.
//!
//! Field teams log *events* (departed, held, cleared, delivered, …) as they
//! observe them, often late and out of order. The ledger is never stored;
//! it is recomputed by [`evaluate`] from the full, current set of events.
//! That makes corrections trivial (void an event, log another) and means the
//! same events always give the same figures, whatever order they were
//! recorded in.
//!
//! Every kilogram of the plan is accounted for in exactly one bucket
//! (delivered, short-loaded, denied, lost, rejected, outstanding or
//! cancelled), so `planned` always equals the sum of the buckets: a report
//! that does not add up would be useless for advocacy about a blockade.
//!
//! This module is pure: no I/O, no clock, no randomness.
//!
//! This file holds the public types and [`evaluate`]; the evaluation itself is in
//! `engine` (the running state and the checks every event goes through), `events`
//! (what each kind of event does) and `figures` (from the final state to the
//! [`Ledger`]). Tests are in `tests` (table-driven) and `proptests` (properties).

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::ser::SerializeSeq;
use serde::{Deserialize, Serialize, Serializer};
use thiserror::Error;
use uuid::Uuid;

use super::quantity::Kg;

use self::engine::{validate_setup, Engine};

mod engine;
mod events;
mod figures;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

/// What a field observation says happened to the convoy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// Left the origin (or a named checkpoint) with the loaded cargo.
    Departed,
    /// Reached a checkpoint.
    Arrived,
    /// Stopped and kept waiting at a checkpoint.
    Held,
    /// Allowed through a checkpoint; cargo lines say what left it.
    Cleared,
    /// Refused passage; everything still carried is denied there.
    TurnedBack,
    /// Unloaded at the destination; may happen in several parts.
    Delivered,
    /// Written off: nothing more will arrive.
    Closed,
    /// Called off before departure.
    Cancelled,
}

impl EventKind {
    /// Every kind, in declaration order; for pickers and exhaustive tests.
    pub const ALL: [EventKind; 8] = [
        EventKind::Departed,
        EventKind::Arrived,
        EventKind::Held,
        EventKind::Cleared,
        EventKind::TurnedBack,
        EventKind::Delivered,
        EventKind::Closed,
        EventKind::Cancelled,
    ];

    /// The stable snake_case name used in storage and APIs.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Departed => "departed",
            EventKind::Arrived => "arrived",
            EventKind::Held => "held",
            EventKind::Cleared => "cleared",
            EventKind::TurnedBack => "turned_back",
            EventKind::Delivered => "delivered",
            EventKind::Closed => "closed",
            EventKind::Cancelled => "cancelled",
        }
    }

    /// Inverse of [`EventKind::as_str`]; exact match only, so a typo is
    /// reported rather than guessed.
    pub fn parse(s: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether the event is about the convoy moving (everything except
    /// `cancelled`). Any movement implies the convoy has departed.
    pub fn is_movement(self) -> bool {
        self != EventKind::Cancelled
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why cargo did not reach the beneficiaries. Reports group shortfalls by
/// reason, so the set is small and fixed; `other` is the escape hatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Refused passage at a checkpoint (counted as *denied*, not lost).
    DeniedAtCheckpoint,
    /// Taken by authorities.
    Confiscated,
    /// Physically damaged.
    Damaged,
    /// Perished (heat, delay).
    Spoiled,
    /// Stolen.
    Stolen,
    /// Less loaded at the origin than planned; only valid on `departed`.
    ShortLoaded,
    /// Refused by the receiver; only valid on `delivered`.
    RejectedOnReceipt,
    /// Anything else.
    Other,
}

impl Reason {
    /// Every reason, in declaration order.
    pub const ALL: [Reason; 8] = [
        Reason::DeniedAtCheckpoint,
        Reason::Confiscated,
        Reason::Damaged,
        Reason::Spoiled,
        Reason::Stolen,
        Reason::ShortLoaded,
        Reason::RejectedOnReceipt,
        Reason::Other,
    ];

    /// The stable snake_case name used in storage, APIs and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::DeniedAtCheckpoint => "denied_at_checkpoint",
            Reason::Confiscated => "confiscated",
            Reason::Damaged => "damaged",
            Reason::Spoiled => "spoiled",
            Reason::Stolen => "stolen",
            Reason::ShortLoaded => "short_loaded",
            Reason::RejectedOnReceipt => "rejected_on_receipt",
            Reason::Other => "other",
        }
    }

    /// Inverse of [`Reason::as_str`]; exact match only.
    pub fn parse(s: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One commodity's quantity on an event, with the reason for any shortfall
/// it reveals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CargoLine {
    /// Commodity code, as on the manifest.
    pub commodity: String,
    /// Whole kilograms (see [`super::quantity`]).
    pub kg: Kg,
    /// Why less than expected, when it is less.
    pub reason: Option<Reason>,
}

/// One field observation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEvent {
    /// Identity, reported back in [`LedgerError`] so the UI can point at it.
    pub id: Uuid,
    /// What happened.
    pub kind: EventKind,
    /// Checkpoint code; `None` means the natural default: the origin for
    /// `departed`, the destination for `delivered`, the convoy's current
    /// position otherwise.
    pub checkpoint: Option<String>,
    /// When it happened in the field (not when it was recorded): the
    /// ledger follows the real order of events.
    pub observed_at: DateTime<Utc>,
    /// Server recording order; breaks ties between equal `observed_at`.
    pub seq: i64,
    /// Quantities; meaning depends on `kind`.
    pub cargo: Vec<CargoLine>,
    /// Only for `closed` (why the rest is written off); ignored on
    /// `cancelled`; an error on other kinds, where reasons go on lines.
    pub reason: Option<Reason>,
    /// Voided by a later correction; skipped entirely, so voiding is
    /// exactly the same as never having recorded the event.
    pub voided: bool,
}

/// The planned corridor: checkpoint codes in travel order, origin first,
/// destination last, at least two, all distinct.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    /// Ordered checkpoint codes.
    pub checkpoints: Vec<String>,
}

impl Route {
    /// Builds a route from codes in travel order.
    ///
    /// Infallible on purpose: [`evaluate`] checks validity and reports a bad
    /// route as a [`LedgerError`] with a nil event id, so routes loaded from
    /// storage and routes built in code go through one validation path.
    pub fn new<I, S>(checkpoints: I) -> Route
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Route {
            checkpoints: checkpoints.into_iter().map(Into::into).collect(),
        }
    }

    fn index_of(&self, code: &str) -> Option<usize> {
        self.checkpoints.iter().position(|c| c == code)
    }

    fn describe(&self) -> String {
        self.checkpoints.join(" → ")
    }
}

/// Planned kilograms per commodity code. A `BTreeMap` so that output order
/// is stable and the same for every report.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Manifest(pub BTreeMap<String, Kg>);

/// The events cannot all be true at once.
///
/// `event_id` is the first event, in observed order, at which the ledger
/// became inconsistent. That may be an event that was fine until an
/// earlier-observed event was recorded after it: the fix may be on either,
/// so the message names both sides where it can. A nil id means the route
/// or manifest itself is invalid, not any event.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize)]
#[error("{message}")]
pub struct LedgerError {
    /// The conflicting event (nil for route/manifest problems).
    pub event_id: Uuid,
    /// A human explanation with tonnes, checkpoint and commodity codes.
    pub message: String,
}

/// Where the convoy stands, for dashboards and filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// No movement yet.
    Planned,
    /// Departed and not finished; the last event was not `held`.
    InTransit,
    /// The last event was `held`.
    Held,
    /// Finished (all accounted for, or closed) with everything delivered.
    Delivered,
    /// Finished with less delivered than planned.
    ShortDelivered,
    /// Refused passage; terminal.
    TurnedBack,
    /// Called off before departure; terminal.
    Cancelled,
}

impl Status {
    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Planned => "planned",
            Status::InTransit => "in_transit",
            Status::Held => "held",
            Status::Delivered => "delivered",
            Status::ShortDelivered => "short_delivered",
            Status::TurnedBack => "turned_back",
            Status::Cancelled => "cancelled",
        }
    }

    /// The status of a stable name, as stored.
    pub fn parse(s: &str) -> Option<Status> {
        [
            Status::Planned,
            Status::InTransit,
            Status::Held,
            Status::Delivered,
            Status::ShortDelivered,
            Status::TurnedBack,
            Status::Cancelled,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The evaluated state of one convoy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ledger {
    /// Overall status.
    pub status: Status,
    /// Checkpoint of the last event in observed order that has a position
    /// (every movement event has one, explicit or defaulted).
    pub last_checkpoint: Option<String>,
    /// When that event was observed.
    pub last_seen_at: Option<DateTime<Utc>>,
    /// One entry per manifest commodity, in manifest order.
    pub commodities: Vec<CommodityLedger>,
    /// Sum over all commodities.
    pub totals: Figures,
    /// When the convoy became terminal or complete, if it has.
    pub completed_at: Option<DateTime<Utc>>,
    /// Every receipt, in observed order.
    pub deliveries: Vec<Delivery>,
}

/// One receipt at the destination: what a `delivered` event brought in for one
/// commodity. Reports attribute deliveries to the week in which they were observed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivery {
    /// The `delivered` event.
    pub event_id: Uuid,
    /// When it was observed.
    pub observed_at: DateTime<Utc>,
    /// Commodity code.
    pub commodity: String,
    /// Kilograms received (never zero).
    pub kg: Kg,
}

/// Figures and waterfall of one commodity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommodityLedger {
    /// Commodity code.
    pub commodity: String,
    /// Bucketed totals.
    pub figures: Figures,
    /// One step per route checkpoint, in route order.
    pub waterfall: Vec<WaterfallStep>,
}

/// What happened to one commodity at one checkpoint.
///
/// `entered`/`left` are `None` until the convoy has reached/passed the
/// checkpoint (a skipped checkpoint is passed with the amounts unchanged).
/// At the origin `entered` is always the planned amount and `left` is what
/// was loaded once departed (less anything a `cleared` at the origin
/// removed). At the destination `left` is always `None` and `entered` is
/// what arrived there. A terminal event (turned back, closed) does not set
/// `left`: the convoy never passed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaterfallStep {
    /// Checkpoint code.
    pub checkpoint: String,
    /// Amount that reached the checkpoint.
    pub entered: Option<Kg>,
    /// Amount that went on from it.
    pub left: Option<Kg>,
    /// Denied at this checkpoint.
    pub denied: Kg,
    /// Lost at this checkpoint, by reason (reason order, no zero entries).
    pub lost: Vec<(Reason, Kg)>,
}

/// Where the planned kilograms went.
///
/// Always `planned == delivered + short_loaded + denied + lost + rejected +
/// outstanding + cancelled` and `loaded == planned - short_loaded -
/// cancelled`; the maps break `denied` and `lost` down and sum to them. Maps
/// hold no zero entries.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Figures {
    /// From the manifest.
    pub planned: Kg,
    /// Loaded at departure; equals planned before departure, 0 if cancelled.
    pub loaded: Kg,
    /// Received at the destination.
    pub delivered: Kg,
    /// Planned but not loaded.
    pub short_loaded: Kg,
    /// Refused passage at checkpoints.
    pub denied: Kg,
    /// Confiscated, damaged, spoiled, stolen or otherwise lost.
    pub lost: Kg,
    /// Refused by the receiver.
    pub rejected: Kg,
    /// Still carried; the convoy may yet deliver it.
    pub outstanding: Kg,
    /// Called off before departure.
    pub cancelled: Kg,
    /// Denied per checkpoint code.
    pub denied_by_checkpoint: BTreeMap<String, Kg>,
    /// Lost per (checkpoint code, reason). Serialised as a list of
    /// `{checkpoint, reason, kg}` because JSON object keys must be strings.
    #[serde(serialize_with = "serialize_lost_by")]
    pub lost_by: BTreeMap<(String, Reason), Kg>,
}

fn serialize_lost_by<S: Serializer>(
    map: &BTreeMap<(String, Reason), Kg>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Entry<'a> {
        checkpoint: &'a str,
        reason: Reason,
        kg: Kg,
    }
    let mut seq = serializer.serialize_seq(Some(map.len()))?;
    for ((checkpoint, reason), kg) in map {
        seq.serialize_element(&Entry {
            checkpoint,
            reason: *reason,
            kg: *kg,
        })?;
    }
    seq.end()
}

/// Evaluates the ledger of one convoy.
///
/// Non-voided events are applied in (observed_at, seq, id) order, so the
/// input order never matters; the id only decides between events that
/// share both time and seq, which keeps the result deterministic even for
/// such duplicates. The first event that contradicts what came before
/// yields a [`LedgerError`] naming it.
pub fn evaluate(
    route: &Route,
    manifest: &Manifest,
    events: &[LedgerEvent],
) -> Result<Ledger, LedgerError> {
    run(route, manifest, events).map(|(engine, _)| engine.finish())
}

/// The order events are applied in: observed time, then recording order, then id.
type SortKey = (DateTime<Utc>, i64, Uuid);

fn sort_key(e: &LedgerEvent) -> SortKey {
    (e.observed_at, e.seq, e.id)
}

/// Applies the non-voided events in order; the engine after the last, and its key.
fn run(
    route: &Route,
    manifest: &Manifest,
    events: &[LedgerEvent],
) -> Result<(Engine, Option<SortKey>), LedgerError> {
    validate_setup(route, manifest)?;
    let mut ordered: Vec<&LedgerEvent> = events.iter().filter(|e| !e.voided).collect();
    ordered.sort_by_key(|e| sort_key(e));
    let mut engine = Engine::new(route, manifest);
    apply_in_order(&mut engine, &ordered)?;
    Ok((engine, ordered.last().map(|e| sort_key(e))))
}

fn apply_in_order(engine: &mut Engine, ordered: &[&LedgerEvent]) -> Result<(), LedgerError> {
    for event in ordered {
        engine.apply(event).map_err(|message| LedgerError {
            event_id: event.id,
            message,
        })?;
    }
    Ok(())
}

/// A convoy's ledger evaluated through its latest event, kept so that events observed
/// after that one are applied without replaying the earlier ones: a field log grows one
/// event at a time, and the thousandth event of a convoy should cost what the first did.
///
/// Applying events that all sort after the latest one gives exactly what [`evaluate`]
/// gives for the whole list — the order of application is the same — so this is a
/// shortcut, never a second rule (the property tests check it).
#[derive(Debug, Clone)]
pub struct Evaluated {
    engine: Engine,
    last: Option<SortKey>,
}

/// [`evaluate`], keeping the state for [`Evaluated::extend`].
pub fn evaluate_resumable(
    route: &Route,
    manifest: &Manifest,
    events: &[LedgerEvent],
) -> Result<(Ledger, Evaluated), LedgerError> {
    let (engine, last) = run(route, manifest, events)?;
    Ok((engine.clone().finish(), Evaluated { engine, last }))
}

impl Evaluated {
    /// The ledger with `events` added, when every one of them sorts after the latest
    /// event applied so far and none is voided; `None` otherwise, and the caller
    /// evaluates the whole list instead. (Events that void earlier ones are not for this
    /// either: the caller knows which events correct others.)
    pub fn extend(
        &self,
        events: &[LedgerEvent],
    ) -> Option<Result<(Ledger, Evaluated), LedgerError>> {
        if events.iter().any(|e| e.voided) {
            return None;
        }
        let mut ordered: Vec<&LedgerEvent> = events.iter().collect();
        ordered.sort_by_key(|e| sort_key(e));
        let first = ordered.first().map(|e| sort_key(e))?;
        if self.last.is_some_and(|last| first <= last) {
            return None;
        }
        let mut engine = self.engine.clone();
        Some(apply_in_order(&mut engine, &ordered).map(|()| {
            let last = ordered.last().map(|e| sort_key(e));
            (engine.clone().finish(), Evaluated { engine, last })
        }))
    }
}
