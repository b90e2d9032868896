//! From the engine's final state to the [`Ledger`](super::Ledger): each commodity's
//! figures and waterfall, the totals and the status.

use super::engine::{Engine, Terminal};
use super::{CommodityLedger, EventKind, Figures, Ledger, Reason, Status, WaterfallStep};

impl Engine {
    fn status(&self, totals: &Figures) -> Status {
        let finished = match self.terminal {
            Some(Terminal::Cancelled(_)) => return Status::Cancelled,
            Some(Terminal::TurnedBack(..)) => return Status::TurnedBack,
            Some(Terminal::Closed(..) | Terminal::Completed(..)) => true,
            None => false,
        };
        if self.departure.is_none() {
            Status::Planned
        } else if finished {
            if totals.delivered == totals.planned {
                Status::Delivered
            } else {
                Status::ShortDelivered
            }
        } else if self.last_kind == Some(EventKind::Held) {
            Status::Held
        } else {
            Status::InTransit
        }
    }

    pub(super) fn finish(self) -> Ledger {
        let codes = &self.route.checkpoints;
        let mut totals = Figures::default();
        let commodities: Vec<CommodityLedger> = self
            .commodities
            .iter()
            .map(|c| {
                let figures = Figures {
                    planned: c.planned,
                    loaded: c.loaded,
                    delivered: c.delivered,
                    short_loaded: c.short_loaded,
                    denied: c.denied.values().sum(),
                    lost: c.lost.values().sum(),
                    rejected: c.rejected,
                    outstanding: c.carried,
                    cancelled: c.cancelled,
                    denied_by_checkpoint: c
                        .denied
                        .iter()
                        .map(|(&cp, &kg)| (codes[cp].clone(), kg))
                        .collect(),
                    lost_by: c
                        .lost
                        .iter()
                        .map(|(&(cp, reason), &kg)| ((codes[cp].clone(), reason), kg))
                        .collect(),
                };
                add_figures(&mut totals, &figures);
                let waterfall = codes
                    .iter()
                    .enumerate()
                    .map(|(i, code)| WaterfallStep {
                        checkpoint: code.clone(),
                        entered: c.entered[i],
                        left: c.left[i],
                        denied: c.denied.get(&i).copied().unwrap_or(0),
                        // All reasons of checkpoint `i`: `DeniedAtCheckpoint`
                        // and `Other` are the first and last variants.
                        lost: c
                            .lost
                            .range((i, Reason::DeniedAtCheckpoint)..=(i, Reason::Other))
                            .map(|(&(_, reason), &kg)| (reason, kg))
                            .collect(),
                    })
                    .collect();
                CommodityLedger {
                    commodity: c.code.to_string(),
                    figures,
                    waterfall,
                }
            })
            .collect();
        Ledger {
            status: self.status(&totals),
            last_checkpoint: self.position.map(|cp| codes[cp].clone()),
            last_seen_at: self.last_seen_at,
            commodities,
            totals,
            completed_at: self.terminal.map(Terminal::at),
            deliveries: self.deliveries,
        }
    }
}

/// Adds one commodity's figures into the totals. Cannot overflow: every
/// bucket is part of `planned`, whose total `validate_setup` checked.
pub(super) fn add_figures(totals: &mut Figures, f: &Figures) {
    totals.planned += f.planned;
    totals.loaded += f.loaded;
    totals.delivered += f.delivered;
    totals.short_loaded += f.short_loaded;
    totals.denied += f.denied;
    totals.lost += f.lost;
    totals.rejected += f.rejected;
    totals.outstanding += f.outstanding;
    totals.cancelled += f.cancelled;
    for (code, kg) in &f.denied_by_checkpoint {
        *totals.denied_by_checkpoint.entry(code.clone()).or_insert(0) += kg;
    }
    for (key, kg) in &f.lost_by {
        *totals.lost_by.entry(key.clone()).or_insert(0) += kg;
    }
}
