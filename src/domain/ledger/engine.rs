//! The evaluation engine: the running state of a convoy while its events are applied
//! in order, the checks every event goes through, and moving the convoy along its
//! route. What each kind of event does is in `events`; turning the final state into a
//! [`Ledger`](super::Ledger) is in `figures`.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, SecondsFormat, Utc};
use uuid::Uuid;

use super::{Delivery, EventKind, LedgerError, LedgerEvent, Manifest, Reason, Route};
use crate::domain::quantity::{format_tonnes, Kg};

/// Rejects routes and manifests the waterfall cannot be computed for.
pub(super) fn validate_setup(route: &Route, manifest: &Manifest) -> Result<(), LedgerError> {
    let setup_error = |message: String| LedgerError {
        event_id: Uuid::nil(),
        message,
    };
    if route.checkpoints.len() < 2 {
        return Err(setup_error(format!(
            "the route ({}) needs at least an origin and a destination",
            route.describe()
        )));
    }
    let mut seen = BTreeSet::new();
    for code in &route.checkpoints {
        if code.is_empty() {
            return Err(setup_error("the route has an empty checkpoint code".into()));
        }
        if !seen.insert(code.as_str()) {
            return Err(setup_error(format!(
                "checkpoint {code} appears twice on the route ({}); positions along the route would be ambiguous",
                route.describe()
            )));
        }
    }
    let mut total: Kg = 0;
    for (commodity, planned) in &manifest.0 {
        if *planned < 0 {
            return Err(setup_error(format!(
                "the manifest plans {} t of {commodity}; planned quantities must not be negative",
                format_tonnes(*planned)
            )));
        }
        total = total.checked_add(*planned).ok_or_else(|| {
            setup_error("the manifest total is too large to add up exactly".into())
        })?;
    }
    Ok(())
}

/// Formats a timestamp the way messages show it: RFC 3339 in UTC with `Z`.
pub(super) fn ts(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// The running state of one commodity.
#[derive(Debug, Clone)]
pub(super) struct CommodityState {
    pub(super) code: String,
    pub(super) planned: Kg,
    pub(super) loaded: Kg,
    pub(super) carried: Kg,
    pub(super) short_loaded: Kg,
    pub(super) delivered: Kg,
    pub(super) rejected: Kg,
    pub(super) cancelled: Kg,
    pub(super) denied: BTreeMap<usize, Kg>,
    pub(super) lost: BTreeMap<(usize, Reason), Kg>,
    pub(super) entered: Vec<Option<Kg>>,
    pub(super) left: Vec<Option<Kg>>,
}

impl CommodityState {
    /// Moves `kg` of the carried amount to the denied or lost bucket at
    /// `checkpoint`, according to `reason`.
    ///
    /// `denied_at_checkpoint` always counts as denied, wherever it is
    /// given, so "lost" never contains a denial and reports can compare the
    /// two cleanly.
    pub(super) fn write_off(&mut self, checkpoint: usize, reason: Reason, kg: Kg) {
        if kg <= 0 {
            return;
        }
        self.carried -= kg;
        if reason == Reason::DeniedAtCheckpoint {
            *self.denied.entry(checkpoint).or_insert(0) += kg;
        } else {
            *self.lost.entry((checkpoint, reason)).or_insert(0) += kg;
        }
    }
}

/// How the convoy's departure became known.
#[derive(Debug, Clone, Copy)]
pub(super) enum Departure {
    /// A `departed` event at this checkpoint and time.
    Explicit(usize, DateTime<Utc>),
    /// Implied by an earlier movement event of this kind and time.
    Implied(EventKind, DateTime<Utc>),
}

/// Why no further event is possible.
#[derive(Debug, Clone, Copy)]
pub(super) enum Terminal {
    TurnedBack(usize, DateTime<Utc>),
    Closed(usize, DateTime<Utc>),
    Cancelled(DateTime<Utc>),
    /// Departed and nothing is left carried: everything is accounted for.
    Completed(usize, DateTime<Utc>),
}

impl Terminal {
    pub(super) fn at(self) -> DateTime<Utc> {
        match self {
            Terminal::TurnedBack(_, at)
            | Terminal::Closed(_, at)
            | Terminal::Cancelled(at)
            | Terminal::Completed(_, at) => at,
        }
    }
}

/// A cargo line checked against the manifest: commodity index, kg, reason.
pub(super) type Line = (usize, Kg, Option<Reason>);

/// Owns its route, so that an engine can be kept with its convoy and resumed when later
/// events arrive (see [`super::Evaluated`]).
#[derive(Debug, Clone)]
pub(super) struct Engine {
    pub(super) route: Route,
    pub(super) commodities: Vec<CommodityState>,
    pub(super) departure: Option<Departure>,
    pub(super) position: Option<usize>,
    pub(super) last_seen_at: Option<DateTime<Utc>>,
    pub(super) last_kind: Option<EventKind>,
    pub(super) terminal: Option<Terminal>,
    pub(super) deliveries: Vec<Delivery>,
}

impl Engine {
    pub(super) fn new(route: &Route, manifest: &Manifest) -> Engine {
        let n = route.checkpoints.len();
        let commodities = manifest
            .0
            .iter()
            .map(|(code, &planned)| {
                let mut entered = vec![None; n];
                entered[0] = Some(planned);
                CommodityState {
                    code: code.clone(),
                    planned,
                    loaded: planned,
                    carried: planned,
                    short_loaded: 0,
                    delivered: 0,
                    rejected: 0,
                    cancelled: 0,
                    denied: BTreeMap::new(),
                    lost: BTreeMap::new(),
                    entered,
                    left: vec![None; n],
                }
            })
            .collect();
        Engine {
            route: route.clone(),
            commodities,
            departure: None,
            position: None,
            last_seen_at: None,
            last_kind: None,
            terminal: None,
            deliveries: Vec::new(),
        }
    }

    pub(super) fn code(&self, index: usize) -> String {
        self.route.checkpoints[index].clone()
    }

    pub(super) fn destination(&self) -> usize {
        self.route.checkpoints.len() - 1
    }

    /// Applies one event; the error is the message for [`LedgerError`].
    pub(super) fn apply(&mut self, event: &LedgerEvent) -> Result<(), String> {
        if let Some(terminal) = self.terminal {
            return Err(self.terminal_message(terminal));
        }
        if event.reason.is_some() && !matches!(event.kind, EventKind::Closed | EventKind::Cancelled)
        {
            return Err(format!(
                "{} events take no event-level reason; put the reason on the cargo line whose shortfall it explains",
                event.kind
            ));
        }
        let named = match &event.checkpoint {
            Some(code) => Some(self.route.index_of(code).ok_or_else(|| {
                format!(
                    "checkpoint {code} is not on this convoy's route ({}); correct the checkpoint code",
                    self.route.describe()
                )
            })?),
            None => None,
        };
        match event.kind {
            EventKind::Cancelled => self.cancel(event),
            EventKind::Departed => self.depart(event, named),
            kind => {
                if self.departure.is_none() {
                    self.imply_departure(kind, event.observed_at);
                }
                self.movement(event, named)
            }
        }?;
        self.last_kind = Some(event.kind);
        if self.terminal.is_none() && self.departure.is_some() {
            if let Some(position) = self.position {
                if self.commodities.iter().all(|c| c.carried == 0) {
                    self.terminal = Some(Terminal::Completed(position, event.observed_at));
                }
            }
        }
        Ok(())
    }

    fn terminal_message(&self, terminal: Terminal) -> String {
        match terminal {
            Terminal::TurnedBack(cp, at) => format!(
                "the convoy was turned back at {} on {}; no event can follow",
                self.code(cp),
                ts(at)
            ),
            Terminal::Closed(cp, at) => format!(
                "the convoy was closed at {} on {}; no event can follow",
                self.code(cp),
                ts(at)
            ),
            Terminal::Cancelled(at) => {
                format!(
                    "the convoy was cancelled on {}; no event can follow",
                    ts(at)
                )
            }
            Terminal::Completed(cp, at) => format!(
                "all of the convoy's cargo was accounted for at {} on {}; no event can follow",
                self.code(cp),
                ts(at)
            ),
        }
    }

    /// Checks cargo lines against the manifest: known commodity, one line
    /// per commodity, non-negative.
    pub(super) fn lines(&self, event: &LedgerEvent) -> Result<Vec<Line>, String> {
        let mut out: Vec<Line> = Vec::with_capacity(event.cargo.len());
        for line in &event.cargo {
            let index = self
                .commodities
                .iter()
                .position(|c| c.code == line.commodity)
                .ok_or_else(|| {
                    let known: Vec<&str> =
                        self.commodities.iter().map(|c| c.code.as_str()).collect();
                    format!(
                        "{} is not on this convoy's manifest ({}); correct the commodity code",
                        line.commodity,
                        known.join(", ")
                    )
                })?;
            if out.iter().any(|(i, _, _)| *i == index) {
                return Err(format!(
                    "{} appears on more than one cargo line of this event; give one line per commodity",
                    line.commodity
                ));
            }
            if line.kg < 0 {
                return Err(format!(
                    "the cargo line for {} is {} t; quantities must not be negative",
                    line.commodity,
                    format_tonnes(line.kg)
                ));
            }
            out.push((index, line.kg, line.reason));
        }
        Ok(out)
    }

    pub(super) fn no_cargo(event: &LedgerEvent, hint: &str) -> Result<(), String> {
        if event.cargo.is_empty() {
            Ok(())
        } else {
            Err(format!("{} events carry no cargo; {hint}", event.kind))
        }
    }

    /// Moves the convoy forward to `to`, carrying amounts unchanged through
    /// skipped checkpoints. Going backwards is an error: a convoy does not
    /// drive the corridor in reverse, so it points at a wrong time or code.
    pub(super) fn move_to(&mut self, to: usize, at: DateTime<Utc>) -> Result<(), String> {
        let from = self.position.unwrap_or(0);
        if to < from {
            let seen = self
                .last_seen_at
                .map(|t| format!(" on {}", ts(t)))
                .unwrap_or_default();
            return Err(format!(
                "{} comes before {} on the route, but the convoy was already seen at {}{seen}; events must follow the route in observed order: check this event's checkpoint and time",
                self.code(to),
                self.code(from),
                self.code(from)
            ));
        }
        if to > from {
            for c in &mut self.commodities {
                c.left[from] = Some(c.carried);
                for k in from + 1..to {
                    c.entered[k] = Some(c.carried);
                    c.left[k] = Some(c.carried);
                }
                c.entered[to] = Some(c.carried);
            }
        }
        self.position = Some(to);
        self.last_seen_at = Some(at);
        Ok(())
    }
}
