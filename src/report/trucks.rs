//! Trucks in the weekly report: the week's convoys' planned trucks and the trucks that
//! arrived, for the week, per route and per checkpoint, each convoy's counts carried
//! along its route by `domain::trucks::along`.
//!
//! [`tally`] is pure; [`week_trucks`] reads each convoy's steps as the write path kept
//! them on its row (`convoys.truck_steps`), and only for a convoy that has none yet (one
//! from before that column, with no event since) loads its events' truck columns, all such
//! convoys in a few batched queries.

use std::collections::BTreeMap;

use crate::app::error::AppError;
use crate::db::DbConn;
use crate::domain::trucks::{along, decode_steps, CheckpointTally, TruckStep, TruckTally};
use crate::store::convoys::{self as convoys_store, ConvoyDue};
use crate::store::reference::Names;

/// One convoy as the truck count sees it.
#[derive(Debug, Clone)]
pub struct ConvoyTrucks<'a> {
    /// Route code.
    pub route: &'a str,
    pub planned: Option<i32>,
    /// Its trucks at each stop of the route, in travel order (`domain::trucks::along`).
    pub steps: Vec<TruckStep>,
}

/// The trucks of the week's convoys.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WeekTrucks {
    pub total: TruckTally,
    /// By route code; the routes add up to `total`.
    pub by_route: BTreeMap<String, TruckTally>,
    /// By checkpoint code, where some count is known. The same trucks pass several
    /// checkpoints, so these do not add up to anything.
    pub by_checkpoint: BTreeMap<String, CheckpointTally>,
}

/// Adds up the trucks of `convoys`.
pub fn tally<'a>(convoys: impl IntoIterator<Item = ConvoyTrucks<'a>>) -> WeekTrucks {
    let mut out = WeekTrucks::default();
    for c in convoys {
        let mut one = TruckTally::default();
        one.add(c.planned, &c.steps);
        out.total.merge(&one);
        out.by_route
            .entry(c.route.to_string())
            .or_default()
            .merge(&one);
        for s in &c.steps {
            let mut at = CheckpointTally::default();
            if at.add(s) {
                let sum = out.by_checkpoint.entry(s.checkpoint.clone()).or_default();
                sum.arrived += at.arrived;
                sum.passed += at.passed;
                sum.held += at.held;
                sum.turned_back += at.turned_back;
            }
        }
    }
    out
}

/// The trucks of the week's convoys (`week_convoys`, as the report reads them). A
/// cancelled convoy counts for nothing, as its tonnes leave the planned figures.
pub fn week_trucks(
    c: &mut DbConn,
    names: &Names,
    week_convoys: &[ConvoyDue],
) -> Result<WeekTrucks, AppError> {
    let no_stops: Vec<String> = Vec::new();
    let stops = |r: &ConvoyDue| {
        names
            .route_stops
            .get(&r.route_id)
            .map_or(no_stops.as_slice(), Vec::as_slice)
    };
    let counted: Vec<&ConvoyDue> = week_convoys
        .iter()
        .filter(|r| r.status != "cancelled")
        .collect();
    let kept: Vec<Option<Vec<TruckStep>>> = counted
        .iter()
        .map(|r| {
            r.truck_steps
                .as_deref()
                .and_then(|k| decode_steps(stops(r), k))
        })
        .collect();
    let missing: Vec<String> = counted
        .iter()
        .zip(&kept)
        .filter(|(_, k)| k.is_none())
        .map(|(r, _)| r.id.clone())
        .collect();
    let mut events = if missing.is_empty() {
        Default::default()
    } else {
        convoys_store::truck_events_of(c, &missing, &names.codes)?
    };
    Ok(tally(counted.iter().zip(kept).map(|(r, kept)| {
        let steps = kept.unwrap_or_else(|| {
            along(
                stops(r),
                r.trucks,
                &events.remove(&r.id).unwrap_or_default(),
            )
        });
        ConvoyTrucks {
            route: names.routes.get(&r.route_id).map_or("", String::as_str),
            planned: r.trucks,
            steps,
        }
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ledger::EventKind::{self, *};
    use crate::domain::trucks::{TruckCounts, TruckEvent};

    fn lachin() -> Vec<String> {
        ["GORIS", "KORNIDZOR", "HAKARI", "STEPANAKERT"]
            .map(String::from)
            .to_vec()
    }

    fn aghdam() -> Vec<String> {
        ["AGHDAM", "ASKERAN", "STEPANAKERT"]
            .map(String::from)
            .to_vec()
    }

    fn ev(
        kind: EventKind,
        cp: Option<&str>,
        at: i64,
        passed: Option<i32>,
        held: Option<i32>,
    ) -> TruckEvent {
        TruckEvent {
            kind,
            checkpoint: cp.map(String::from),
            observed_at: at,
            seq: at,
            voided: false,
            counts: TruckCounts {
                passed,
                held,
                turned_back: None,
            },
        }
    }

    /// A convoy on `route` (stops `stops`) that planned `planned` trucks, after `events`.
    fn convoy<'a>(
        route: &'a str,
        stops: &[String],
        planned: Option<i32>,
        events: &[TruckEvent],
    ) -> ConvoyTrucks<'a> {
        ConvoyTrucks {
            route,
            planned,
            steps: along(stops, planned, events),
        }
    }

    /// Planned, convoys without a planned number, arrived, convoys arrived uncounted.
    fn t(planned: i64, without: i64, arrived: i64, uncounted: i64) -> TruckTally {
        TruckTally {
            planned,
            convoys_without_planned: without,
            arrived,
            convoys_arrived_uncounted: uncounted,
        }
    }

    #[test]
    fn the_week_adds_up_by_route_and_counts_at_each_checkpoint() {
        let (l, a) = (lachin(), aghdam());
        // 19 trucks held at KORNIDZOR, 3 let through and delivered; 2 trucks delivered
        // on the Aghdam road; a convoy without a planned number delivered there too.
        let held = vec![
            ev(Held, Some("KORNIDZOR"), 1, Some(3), Some(16)),
            ev(Delivered, None, 2, None, None),
        ];
        let small = vec![ev(Delivered, None, 1, None, None)];
        let convoys = [
            convoy("lachin", &l, Some(19), &held),
            convoy("aghdam", &a, Some(2), &small),
            convoy("aghdam", &a, None, &small),
            convoy("lachin", &l, Some(5), &[]),
        ];
        let w = tally(convoys);
        assert_eq!(w.total, t(26, 1, 5, 1));
        assert_eq!(w.by_route["lachin"], t(24, 0, 3, 0));
        assert_eq!(w.by_route["aghdam"], t(2, 1, 2, 1));
        let mut sum = TruckTally::default();
        w.by_route.values().for_each(|t| sum.merge(t));
        assert_eq!(sum, w.total, "the routes add up to the week");
        let cp = |code: &str| {
            let t = w.by_checkpoint[code];
            (t.arrived, t.passed, t.held, t.turned_back)
        };
        assert_eq!(cp("GORIS"), (19, 19, 0, 0));
        assert_eq!(cp("KORNIDZOR"), (19, 3, 16, 0));
        assert_eq!(cp("HAKARI"), (3, 3, 0, 0));
        assert_eq!(cp("STEPANAKERT"), (5, 5, 0, 0), "3 by Lachin, 2 by Aghdam");
        assert_eq!(cp("AGHDAM"), (2, 2, 0, 0));
        assert_eq!(
            w.by_checkpoint.len(),
            6,
            "no count known for the convoy that has not left"
        );
    }

    #[test]
    fn no_convoy_no_trucks() {
        assert_eq!(tally([]), WeekTrucks::default());
    }
}
