//! What each kind of event does to the convoy: cancel, depart, move through and clear
//! checkpoints, deliver, turn back or close. Every handler either changes the state
//! or returns the message of the [`LedgerError`](super::LedgerError) it causes.

use chrono::{DateTime, Utc};

use super::engine::{ts, Departure, Engine, Terminal};
use super::{Delivery, EventKind, LedgerEvent, Reason};
use crate::domain::quantity::{format_tonnes, Kg};

impl Engine {
    pub(super) fn cancel(&mut self, event: &LedgerEvent) -> Result<(), String> {
        if let Some(departure) = self.departure {
            let seen = match departure {
                Departure::Explicit(cp, at) => {
                    format!("it departed from {} on {}", self.code(cp), ts(at))
                }
                Departure::Implied(kind, at) => {
                    format!("the {kind} event on {} shows it was moving", ts(at))
                }
            };
            return Err(format!(
                "a convoy can be cancelled only before it departs ({seen}); log closed to write off what it still carries"
            ));
        }
        Engine::no_cargo(event, "cancelling calls off the whole plan")?;
        for c in &mut self.commodities {
            c.cancelled = c.planned;
            c.loaded = 0;
            c.carried = 0;
        }
        self.terminal = Some(Terminal::Cancelled(event.observed_at));
        Ok(())
    }

    pub(super) fn depart(
        &mut self,
        event: &LedgerEvent,
        named: Option<usize>,
    ) -> Result<(), String> {
        match self.departure {
            Some(Departure::Explicit(cp, at)) => {
                return Err(format!(
                    "the convoy already departed from {} on {}; a convoy departs only once: void the duplicate",
                    self.code(cp),
                    ts(at)
                ))
            }
            Some(Departure::Implied(kind, at)) => {
                return Err(format!(
                    "the convoy was already moving before this departed event (the {kind} event on {}); log departed before any other movement, or correct its time",
                    ts(at)
                ))
            }
            None => {}
        }
        let checkpoint = named.unwrap_or(0);
        if checkpoint == self.destination() {
            return Err(format!(
                "a convoy cannot depart from its destination {}; name the checkpoint it left from",
                self.code(checkpoint)
            ));
        }
        let lines = self.lines(event)?;
        for &(index, kg, reason) in &lines {
            let c = &self.commodities[index];
            if let Some(reason) = reason.filter(|r| *r != Reason::ShortLoaded) {
                return Err(format!(
                    "{reason} cannot explain a departed line for {}: less loaded than planned is short_loaded; log losses on the checkpoint where they happen",
                    c.code
                ));
            }
            if kg > c.planned {
                return Err(format!(
                    "loaded {} t of {} but the manifest plans {} t",
                    format_tonnes(kg),
                    c.code,
                    format_tonnes(c.planned)
                ));
            }
        }
        for (index, kg, _) in lines {
            let c = &mut self.commodities[index];
            c.loaded = kg;
            c.short_loaded = c.planned - kg;
            c.carried = kg;
        }
        for c in &mut self.commodities {
            c.left[0] = Some(c.loaded);
        }
        self.departure = Some(Departure::Explicit(checkpoint, event.observed_at));
        self.position = Some(0);
        self.move_to(checkpoint, event.observed_at)
    }

    /// A movement before any `departed`: the convoy left the origin with
    /// everything planned ("no kind needs another before it").
    pub(super) fn imply_departure(&mut self, kind: EventKind, at: DateTime<Utc>) {
        for c in &mut self.commodities {
            c.left[0] = Some(c.loaded);
        }
        self.departure = Some(Departure::Implied(kind, at));
        self.position = Some(0);
    }

    pub(super) fn movement(
        &mut self,
        event: &LedgerEvent,
        named: Option<usize>,
    ) -> Result<(), String> {
        let current = self.position.unwrap_or(0);
        let at = event.observed_at;
        match event.kind {
            EventKind::Arrived | EventKind::Held => {
                Engine::no_cargo(event, "log what left on cleared")?;
                self.move_to(named.unwrap_or(current), at)
            }
            EventKind::Cleared => self.clear(event, named.unwrap_or(current)),
            EventKind::TurnedBack => {
                Engine::no_cargo(
                    event,
                    "everything still carried is counted as denied where it was turned back",
                )?;
                let cp = named.unwrap_or(current);
                self.move_to(cp, at)?;
                for c in &mut self.commodities {
                    let rest = c.carried;
                    c.write_off(cp, Reason::DeniedAtCheckpoint, rest);
                }
                self.terminal = Some(Terminal::TurnedBack(cp, at));
                Ok(())
            }
            EventKind::Delivered => self.deliver(event, named),
            EventKind::Closed => {
                Engine::no_cargo(
                    event,
                    "closing writes off whatever is still carried; log a last delivered first if some arrived",
                )?;
                let reason = event.reason.unwrap_or(Reason::Other);
                if matches!(reason, Reason::ShortLoaded | Reason::RejectedOnReceipt) {
                    return Err(format!(
                        "{reason} cannot close a convoy: short_loaded belongs on departed and rejected_on_receipt on a delivered line; use another reason"
                    ));
                }
                let cp = named.unwrap_or(current);
                self.move_to(cp, at)?;
                for c in &mut self.commodities {
                    let rest = c.carried;
                    c.write_off(cp, reason, rest);
                }
                self.terminal = Some(Terminal::Closed(cp, at));
                Ok(())
            }
            // Handled by `apply` before dispatching here.
            EventKind::Departed | EventKind::Cancelled => Ok(()),
        }
    }

    fn clear(&mut self, event: &LedgerEvent, cp: usize) -> Result<(), String> {
        if cp == self.destination() {
            return Err(format!(
                "cleared is not logged at the destination {}; log delivered at the destination",
                self.code(cp)
            ));
        }
        let lines = self.lines(event)?;
        self.move_to(cp, event.observed_at)?;
        let code = self.code(cp);
        for (index, kg, reason) in lines {
            let c = &mut self.commodities[index];
            if let Some(r @ (Reason::ShortLoaded | Reason::RejectedOnReceipt)) = reason {
                return Err(format!(
                    "{r} cannot explain cargo missing at {code}: short_loaded belongs on departed and rejected_on_receipt on delivered; give one of denied_at_checkpoint, confiscated, damaged, spoiled, stolen, other"
                ));
            }
            if kg > c.carried {
                return Err(format!(
                    "cleared {} t of {} at {code} but only {} t entered",
                    format_tonnes(kg),
                    c.code,
                    format_tonnes(c.carried)
                ));
            }
            let missing = c.carried - kg;
            if missing > 0 {
                let reason = reason.ok_or_else(|| {
                    format!(
                        "{} t of {} less left {code} than entered; give a reason code (denied_at_checkpoint, confiscated, damaged, spoiled, stolen, other)",
                        format_tonnes(missing),
                        c.code
                    )
                })?;
                c.write_off(cp, reason, missing);
            }
        }
        for c in &mut self.commodities {
            c.left[cp] = Some(c.carried);
        }
        Ok(())
    }

    fn deliver(&mut self, event: &LedgerEvent, named: Option<usize>) -> Result<(), String> {
        let destination = self.destination();
        if let Some(cp) = named.filter(|cp| *cp != destination) {
            return Err(format!(
                "delivered is logged only at the destination {}, not at {}: delivery happens at the destination; log cleared at {} instead",
                self.code(destination),
                self.code(cp),
                self.code(cp)
            ));
        }
        let lines = self.lines(event)?;
        self.move_to(destination, event.observed_at)?;
        let code = self.code(destination);
        let mut listed = vec![false; self.commodities.len()];
        let before: Vec<Kg> = self.commodities.iter().map(|c| c.delivered).collect();
        for (index, kg, reason) in lines {
            listed[index] = true;
            let c = &mut self.commodities[index];
            if reason == Some(Reason::ShortLoaded) {
                return Err(format!(
                    "short_loaded cannot explain a delivered line for {}: it belongs on departed; use rejected_on_receipt or a loss reason",
                    c.code
                ));
            }
            if kg > c.carried {
                return Err(format!(
                    "delivered {} t of {} at {code} but only {} t was still to be delivered",
                    format_tonnes(kg),
                    c.code,
                    format_tonnes(c.carried)
                ));
            }
            c.carried -= kg;
            c.delivered += kg;
            if let Some(reason) = reason {
                let rest = c.carried;
                if reason == Reason::RejectedOnReceipt {
                    c.carried = 0;
                    c.rejected += rest;
                } else {
                    c.write_off(destination, reason, rest);
                }
            }
        }
        for (c, listed) in self.commodities.iter_mut().zip(listed) {
            if !listed {
                c.delivered += c.carried;
                c.carried = 0;
            }
        }
        for (c, before) in self.commodities.iter().zip(before) {
            if c.delivered > before {
                self.deliveries.push(Delivery {
                    event_id: event.id,
                    observed_at: event.observed_at,
                    commodity: c.code.to_string(),
                    kg: c.delivered - before,
                });
            }
        }
        Ok(())
    }
}
