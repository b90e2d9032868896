//! The alert evaluator: gathers the facts of every active convoy and route as of `now`
//! (events observed later are ignored, so a pass at a past time sees the past), runs the
//! pure rules, and records what changed.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use crate::app::error::AppError;
use crate::db::{from_micros, DbConn};
use crate::domain::alerts::{self, ConvoyFacts, LastEvent, RouteFacts, Thresholds, Waiting};
use crate::domain::ledger::{self, EventKind, Status};
use crate::domain::week;
use crate::store::alerts::{apply_findings, Changes, SubjectOwners};
use crate::store::convoys::{self as convoys_store, ConvoyRow};
use crate::store::{reference, reports};

const ACTIVE: [&str; 3] = ["planned", "in_transit", "held"];

/// One evaluation pass at `now`.
#[tracing::instrument(skip_all, fields(%now))]
pub fn evaluate(
    c: &mut DbConn,
    now: DateTime<Utc>,
    tz: Tz,
    t: &Thresholds,
) -> Result<Changes, AppError> {
    let now_us = now.timestamp_micros();
    // Convoys active now, and those whose later events might make them active as of `now`.
    let rows: Vec<ConvoyRow> = convoys_store::with_status_or_seen_after(c, &ACTIVE, now_us)?;
    let routes = reference::list_routes(c, None, 100_000)?.items;
    let checkpoints: HashMap<String, i32> = reference::list_checkpoints(c, None, 100_000)?
        .items
        .into_iter()
        .map(|cp| (cp.code, cp.max_dwell_minutes))
        .collect();
    let mut facts = Vec::new();
    let mut owners: SubjectOwners = HashMap::new();
    for row in rows
        .iter()
        .filter(|r| r.created_at <= now_us || r.planned_departure <= now_us)
    {
        let detail = convoys_store::load_detail(c, &row.id)?;
        let mut events: Vec<ledger::LedgerEvent> = Vec::new();
        for e in &detail.events {
            if e.row.observed_at <= now_us {
                let mut de = convoys_store::domain_event(e, &detail.codes)?;
                // A correction recorded for an event observed later is not known yet.
                de.voided = e
                    .voided_by
                    .as_ref()
                    .is_some_and(|v| v.observed_at <= now_us);
                events.push(de);
            }
        }
        let manifest = ledger::Manifest(
            detail
                .manifest
                .iter()
                .map(|l| (detail.codes.commodity(&l.commodity_id), l.kg))
                .collect(),
        );
        let Ok(as_of) = ledger::evaluate(&detail.route, &manifest, &events) else {
            continue;
        };
        if !matches!(
            as_of.status,
            Status::Planned | Status::InTransit | Status::Held
        ) {
            continue;
        }
        let mut live: Vec<&ledger::LedgerEvent> = events.iter().filter(|e| !e.voided).collect();
        live.sort_by_key(|e| (e.observed_at, e.seq));
        let last = live.last().map(|e| LastEvent {
            kind: e.kind,
            checkpoint: e
                .checkpoint
                .clone()
                .or_else(|| as_of.last_checkpoint.clone()),
            at: e.observed_at,
        });
        let waiting = last
            .as_ref()
            .filter(|l| matches!(l.kind, EventKind::Arrived | EventKind::Held))
            .and_then(|l| {
                let at = l.checkpoint.clone()?;
                let since = live
                    .iter()
                    .rev()
                    .take_while(|e| {
                        matches!(e.kind, EventKind::Arrived | EventKind::Held)
                            && e.checkpoint
                                .clone()
                                .or_else(|| as_of.last_checkpoint.clone())
                                .as_deref()
                                == Some(at.as_str())
                    })
                    .last()
                    .map(|e| e.observed_at)?;
                let dwell = checkpoints.get(&at).copied().unwrap_or(12 * 60);
                Some(Waiting {
                    checkpoint: at,
                    since,
                    max_dwell: Duration::minutes(i64::from(dwell)),
                })
            });
        let route = routes.iter().find(|r| r.row.id == row.route_id);
        let next_leg = route.and_then(|r| {
            let here = as_of.last_checkpoint.as_deref()?;
            let i = r.stops.iter().position(|s| s.checkpoint.code == here)?;
            r.stops
                .get(i + 1)
                .map(|s| Duration::minutes(i64::from(s.leg_minutes)))
        });
        owners.insert(
            row.id.clone(),
            (
                Some(row.route_id.clone()),
                Some(row.organization_id.clone()),
            ),
        );
        facts.push(ConvoyFacts {
            id: row.id.clone(),
            reference: row.reference.clone(),
            route: route.map(|r| r.row.code.clone()).unwrap_or_default(),
            status: as_of.status,
            planned_departure: from_micros(row.planned_departure),
            expected_arrival: from_micros(row.expected_arrival),
            last_event: last,
            waiting,
            next_leg,
            on_board_kg: as_of.totals.outstanding,
        });
    }
    let requirements = reports::list_requirements(c, None, None, 100_000)?;
    let today = now.with_timezone(&tz).date_naive();
    let window_start = today - chrono::Days::new(6);
    let mut route_facts = Vec::new();
    for r in &routes {
        let active: Vec<&ConvoyFacts> = facts
            .iter()
            .filter(|f| {
                owners
                    .get(&f.id)
                    .is_some_and(|o| o.0.as_deref() == Some(r.row.id.as_str()))
            })
            .collect();
        let last_delivery = convoys_store::last_delivery_on_route(c, &r.row.id, now_us)?;
        let quiet_since = last_delivery.map(from_micros).or_else(|| {
            active
                .iter()
                .map(|f| f.planned_departure)
                .filter(|d| *d <= now)
                .min()
        });
        let trailing = convoys_store::delivered_on_route_between(
            c,
            &r.row.id,
            (now - Duration::days(7)).timestamp_micros(),
            now_us,
        )?;
        let required: i64 = requirements
            .iter()
            .filter(|q| q.route_id == r.row.id && q.commodity_id.is_none())
            .filter_map(|q| {
                let from = chrono::NaiveDate::parse_from_str(&q.from_date, "%Y-%m-%d").ok()?;
                let to = chrono::NaiveDate::parse_from_str(&q.to_date, "%Y-%m-%d").ok()?;
                week::required_kg_between(window_start, today, from, to, q.kg_per_day)
            })
            .sum();
        owners.insert(r.row.code.clone(), (Some(r.row.id.clone()), None));
        route_facts.push(RouteFacts {
            code: r.row.code.clone(),
            name: r.row.name.clone(),
            active_convoys: active.len(),
            quiet_since,
            trailing_delivered_kg: trailing.iter().sum(),
            trailing_required_kg: required,
        });
    }
    let findings = alerts::evaluate(now, &facts, &route_facts, t);
    Ok(apply_findings(c, now_us, &findings, &owners)?)
}
