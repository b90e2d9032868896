//! Convoys and their append-only event ledger.
//!
//! The queries of the event write path (`app::events`): lock and load convoys, append
//! events, rewrite the derived figures that changed — all inside the caller's write
//! transaction — and the reads of convoys, their events and figures.

use std::collections::{BTreeMap, HashMap};

use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::{
    convoy_figures, convoy_losses, convoys, deliveries, event_lines, events, manifest_lines,
    organizations, route_checkpoints, routes,
};
use crate::db::{copy_many, from_micros, insert_many, load_for_update, now_micros, DbConn};
use crate::domain::ledger::{self, EventKind, Ledger, LedgerEvent, Reason};
use crate::domain::quantity::Kg;
use crate::domain::trucks::{TruckCounts, TruckEvent, TruckStep};
use crate::store::chain;
pub use crate::store::reference::Codes;
use crate::store::rollups::{self, DeliveryRow};
use crate::store::StoreError;
use crate::store::{create_once, Created};

pub use crate::store::rows::{
    ConvoyDue, ConvoyRow, EventLineRow, EventRow, FiguresRow, LossRow, ManifestLineRow,
};

/// A manifest or cargo line as validated by the API: kilograms plus what the client sent.
#[derive(Debug, Clone)]
pub struct NewLine {
    pub commodity_id: String,
    pub kg: Kg,
    pub quantity: String,
    pub unit: String,
    pub reason: Option<Reason>,
}

#[derive(Debug, Clone)]
pub struct NewConvoy {
    pub id: String,
    pub organization_id: String,
    pub reference: String,
    pub route_id: String,
    pub trucks: Option<i32>,
    pub planned_departure: (i64, i32),
    pub expected_arrival: (i64, i32),
    pub note: Option<String>,
    pub manifest: Vec<NewLine>,
    pub body_sha256: String,
    pub created_by: String,
}

#[derive(Debug, Clone)]
pub struct NewEvent {
    pub id: String,
    pub convoy_id: String,
    pub kind: EventKind,
    pub checkpoint_id: Option<String>,
    pub observed_at: (i64, i32),
    pub reason: Option<Reason>,
    pub note: Option<String>,
    pub corrects: Option<String>,
    pub lines: Vec<NewLine>,
    pub trucks: TruckCounts,
    pub body_sha256: String,
    pub recorded_by: String,
}

/// Everything about one convoy: its row, manifest, events with their lines, and the
/// ledger evaluated from them.
#[derive(Debug, Clone)]
pub struct ConvoyDetail {
    pub row: ConvoyRow,
    pub organization: String,
    pub route_code: String,
    pub route: ledger::Route,
    pub manifest: Vec<ManifestLineRow>,
    pub events: Vec<StoredEvent>,
    pub ledger: Ledger,
    pub codes: Codes,
}

#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub row: EventRow,
    pub lines: Vec<EventLineRow>,
    /// The event that voided this one, if any.
    pub voided_by: Option<EventRow>,
}

pub fn find_convoy(conn: &mut DbConn, id: &str) -> Result<Option<ConvoyRow>, StoreError> {
    Ok(convoys::table
        .find(id)
        .select(ConvoyRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn get_convoy(conn: &mut DbConn, id: &str) -> Result<ConvoyRow, StoreError> {
    find_convoy(conn, id)?
        .ok_or_else(|| StoreError::NotFound(format!("convoy {id} does not exist")))
}

pub fn find_convoy_by_reference(
    conn: &mut DbConn,
    organization_id: &str,
    reference: &str,
) -> Result<Option<ConvoyRow>, StoreError> {
    Ok(convoys::table
        .filter(convoys::organization_id.eq(organization_id))
        .filter(convoys::reference.eq(reference))
        .select(ConvoyRow::as_select())
        .first(conn)
        .optional()?)
}

/// The route's checkpoint codes in order.
pub fn route_codes(
    conn: &mut DbConn,
    route_id: &str,
    codes: &Codes,
) -> Result<ledger::Route, StoreError> {
    let ids: Vec<String> = route_checkpoints::table
        .filter(route_checkpoints::route_id.eq(route_id))
        .order(route_checkpoints::position.asc())
        .select(route_checkpoints::checkpoint_id)
        .load(conn)?;
    Ok(ledger::Route::new(
        ids.iter().map(|id| codes.checkpoint(id)),
    ))
}

/// A convoy's manifest lines, in order.
pub fn load_manifest(
    conn: &mut DbConn,
    convoy_id: &str,
) -> Result<Vec<ManifestLineRow>, StoreError> {
    Ok(manifest_lines::table
        .filter(manifest_lines::convoy_id.eq(convoy_id))
        .order(manifest_lines::line_no.asc())
        .select(ManifestLineRow::as_select())
        .load(conn)?)
}

pub fn domain_manifest(lines: &[ManifestLineRow], codes: &Codes) -> ledger::Manifest {
    ledger::Manifest(
        lines
            .iter()
            .map(|l| (codes.commodity(&l.commodity_id), l.kg))
            .collect::<BTreeMap<_, _>>(),
    )
}

/// The convoy's events in recording order, with lines and who voided them.
fn load_events(conn: &mut DbConn, convoy_id: &str) -> Result<Vec<StoredEvent>, StoreError> {
    Ok(load_events_of(conn, &[convoy_id])?
        .remove(convoy_id)
        .unwrap_or_default())
}

/// The events of several convoys, each list in recording order.
fn load_events_of(
    conn: &mut DbConn,
    convoy_ids: &[&str],
) -> Result<HashMap<String, Vec<StoredEvent>>, StoreError> {
    let mut out: HashMap<String, Vec<StoredEvent>> = HashMap::new();
    for chunk in convoy_ids.chunks(500) {
        let rows: Vec<EventRow> = events::table
            .filter(events::convoy_id.eq_any(chunk))
            .order((events::convoy_id.asc(), events::seq.asc()))
            .select(EventRow::as_select())
            .load(conn)?;
        let lines: Vec<EventLineRow> = event_lines::table
            .inner_join(events::table)
            .filter(events::convoy_id.eq_any(chunk))
            .order((event_lines::event_id.asc(), event_lines::line_no.asc()))
            .select(EventLineRow::as_select())
            .load(conn)?;
        let mut by_event: HashMap<String, Vec<EventLineRow>> = HashMap::new();
        for l in lines {
            by_event.entry(l.event_id.clone()).or_default().push(l);
        }
        let voiders: HashMap<String, EventRow> = rows
            .iter()
            .filter_map(|r| r.corrects.clone().map(|target| (target, r.clone())))
            .collect();
        for row in rows {
            out.entry(row.convoy_id.clone())
                .or_default()
                .push(StoredEvent {
                    lines: by_event.remove(&row.id).unwrap_or_default(),
                    voided_by: voiders.get(&row.id).cloned(),
                    row,
                });
        }
    }
    Ok(out)
}

/// What the batched write path needs of one convoy: everything its ledger is made of,
/// and the derived rows stored from it.
#[derive(Debug, Clone)]
pub struct ConvoyState {
    pub row: ConvoyRow,
    pub manifest: Vec<ManifestLineRow>,
    pub events: Vec<StoredEvent>,
    pub derived: Derived,
    /// The ledger evaluated through `events`, once the write path has evaluated it: later
    /// events extend it instead of replaying every event (`None` when just loaded).
    pub evaluated: Option<ledger::Evaluated>,
}

/// The rows of these convoys (the ones that exist), for writing. On PostgreSQL the rows
/// are locked, in id order so that two writers never deadlock, and what is read after
/// this is read under the locks; on SQLite the write transaction already excludes other
/// writers.
pub fn lock_convoys(conn: &mut DbConn, convoy_ids: &[&str]) -> Result<Vec<ConvoyRow>, StoreError> {
    let mut ids: Vec<&str> = convoy_ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let mut rows: Vec<ConvoyRow> = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let q = convoys::table
            .filter(convoys::id.eq_any(chunk))
            .order(convoys::id.asc());
        rows.extend(load_for_update!(conn, q.select(ConvoyRow::as_select())));
    }
    Ok(rows)
}

/// Loads the manifests, events and derived rows of these (locked) convoys.
pub fn load_states(
    conn: &mut DbConn,
    rows: Vec<ConvoyRow>,
) -> Result<HashMap<String, ConvoyState>, StoreError> {
    let found: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let mut manifests: HashMap<String, Vec<ManifestLineRow>> = HashMap::new();
    for chunk in found.chunks(500) {
        let lines: Vec<ManifestLineRow> = manifest_lines::table
            .filter(manifest_lines::convoy_id.eq_any(chunk))
            .order((
                manifest_lines::convoy_id.asc(),
                manifest_lines::line_no.asc(),
            ))
            .select(ManifestLineRow::as_select())
            .load(conn)?;
        for l in lines {
            manifests.entry(l.convoy_id.clone()).or_default().push(l);
        }
    }
    let mut events = load_events_of(conn, &found)?;
    let mut derived = load_derived(conn, &found)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let id = row.id.clone();
            let state = ConvoyState {
                manifest: manifests.remove(&id).unwrap_or_default(),
                events: events.remove(&id).unwrap_or_default(),
                derived: derived.remove(&id).unwrap_or_default(),
                evaluated: None,
                row,
            };
            (id, state)
        })
        .collect())
}

/// Appends events and their lines: multi-row statements, or `COPY` for many rows on
/// PostgreSQL.
pub fn insert_events(
    conn: &mut DbConn,
    rows: &[EventRow],
    lines: &[EventLineRow],
) -> Result<(), StoreError> {
    copy_many!(conn, events::table, rows);
    copy_many!(conn, event_lines::table, lines);
    Ok(())
}

fn parse_reason(s: &Option<String>) -> Option<Reason> {
    s.as_deref().and_then(Reason::parse)
}

/// A stored event as the ledger sees it.
pub fn domain_event(e: &StoredEvent, codes: &Codes) -> Result<LedgerEvent, StoreError> {
    Ok(LedgerEvent {
        id: Uuid::parse_str(&e.row.id).map_err(|err| {
            StoreError::Internal(anyhow::anyhow!("stored event id {}: {err}", e.row.id))
        })?,
        kind: EventKind::parse(&e.row.kind).ok_or_else(|| {
            StoreError::Internal(anyhow::anyhow!("stored event kind {}", e.row.kind))
        })?,
        checkpoint: e
            .row
            .checkpoint_id
            .as_deref()
            .map(|id| codes.checkpoint(id)),
        observed_at: from_micros(e.row.observed_at),
        seq: e.row.seq,
        cargo: e
            .lines
            .iter()
            .map(|l| ledger::CargoLine {
                commodity: codes.commodity(&l.commodity_id),
                kg: l.kg,
                reason: parse_reason(&l.reason),
            })
            .collect(),
        reason: parse_reason(&e.row.reason),
        voided: e.voided_by.is_some(),
    })
}

/// A stored event as the truck count sees it.
pub fn truck_event(e: &StoredEvent, codes: &Codes) -> Option<TruckEvent> {
    Some(TruckEvent {
        kind: EventKind::parse(&e.row.kind)?,
        checkpoint: e
            .row
            .checkpoint_id
            .as_deref()
            .map(|id| codes.checkpoint(id)),
        observed_at: e.row.observed_at,
        seq: e.row.seq,
        voided: e.voided_by.is_some(),
        counts: TruckCounts {
            passed: e.row.trucks_passed,
            held: e.row.trucks_held,
            turned_back: e.row.trucks_turned_back,
        },
    })
}

/// The trucks at each checkpoint of a convoy's route, from its events.
pub fn trucks_along(
    route: &ledger::Route,
    planned: Option<i32>,
    events: &[StoredEvent],
    codes: &Codes,
) -> Vec<TruckStep> {
    let events: Vec<TruckEvent> = events
        .iter()
        .filter_map(|e| truck_event(e, codes))
        .collect();
    crate::domain::trucks::along(&route.checkpoints, planned, &events)
}

/// The columns of an event that the truck count reads.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = events)]
struct TruckColumns {
    id: String,
    convoy_id: String,
    kind: String,
    checkpoint_id: Option<String>,
    observed_at: i64,
    seq: i64,
    corrects: Option<String>,
    trucks_passed: Option<i32>,
    trucks_held: Option<i32>,
    trucks_turned_back: Option<i32>,
}

/// The events of several convoys as the truck count sees them, by convoy id: only the
/// columns it needs, in one query per 500 convoys (the weekly report reads every convoy
/// due in the week at once). An event another one corrects is voided.
pub fn truck_events_of(
    conn: &mut DbConn,
    convoy_ids: &[String],
    codes: &Codes,
) -> Result<HashMap<String, Vec<TruckEvent>>, StoreError> {
    let mut out: HashMap<String, Vec<TruckEvent>> = HashMap::new();
    for chunk in convoy_ids.chunks(500) {
        let rows: Vec<TruckColumns> = events::table
            .filter(events::convoy_id.eq_any(chunk))
            .select(TruckColumns::as_select())
            .load(conn)?;
        // A correction names an earlier event of its own convoy, so of this chunk.
        let voided: std::collections::HashSet<String> =
            rows.iter().filter_map(|r| r.corrects.clone()).collect();
        for r in rows {
            let Some(kind) = EventKind::parse(&r.kind) else {
                continue;
            };
            out.entry(r.convoy_id).or_default().push(TruckEvent {
                kind,
                checkpoint: r.checkpoint_id.as_deref().map(|cp| codes.checkpoint(cp)),
                observed_at: r.observed_at,
                seq: r.seq,
                voided: voided.contains(&r.id),
                counts: TruckCounts {
                    passed: r.trucks_passed,
                    held: r.trucks_held,
                    turned_back: r.trucks_turned_back,
                },
            });
        }
    }
    Ok(out)
}

/// How many convoys one transaction of [`fill_truck_steps`] computes.
const TRUCK_FILL_BATCH: i64 = 500;

/// Keeps the trucks along the route (`convoys.truck_steps`) of every convoy that has none:
/// those stored before migration `2026-12-02-000012_convoy_truck_steps`, and those created
/// since without an event. Run right after the migrations, in batches of convoys in their
/// own write transactions, in id order; the write path keeps the value from then on.
/// Returns how many convoys it filled.
pub fn fill_truck_steps(conn: &mut DbConn) -> Result<u64, StoreError> {
    let mut filled = 0;
    let mut after: Option<String> = None;
    // The routes' stops and the codes, read once and only if some convoy needs them.
    let mut names: Option<crate::store::reference::Names> = None;
    loop {
        let mut q = convoys::table
            .filter(convoys::truck_steps.is_null())
            .select((convoys::id, convoys::route_id, convoys::trucks))
            .order(convoys::id.asc())
            .limit(TRUCK_FILL_BATCH)
            .into_boxed();
        if let Some(a) = &after {
            q = q.filter(convoys::id.gt(a.clone()));
        }
        let batch: Vec<(String, String, Option<i32>)> = q.load(conn)?;
        let Some((last, _, _)) = batch.last().cloned() else {
            break;
        };
        let known = match names.take() {
            Some(n) => n,
            None => crate::store::reference::Names::load(conn)?,
        };
        filled += crate::db::write_tx(conn, |c| {
            let ids: Vec<String> = batch.iter().map(|(id, _, _)| id.clone()).collect();
            let mut events = truck_events_of(c, &ids, &known.codes)?;
            for (id, route_id, planned) in &batch {
                let route = known
                    .route_stops
                    .get(route_id)
                    .map_or(&[][..], Vec::as_slice);
                let steps = crate::domain::trucks::along(
                    route,
                    *planned,
                    &events.remove(id).unwrap_or_default(),
                );
                // Only if still missing: a server writing beside this start keeps the
                // value itself, from every event, and that one stands.
                diesel::update(
                    convoys::table
                        .find(id)
                        .filter(convoys::truck_steps.is_null()),
                )
                .set(convoys::truck_steps.eq(crate::domain::trucks::encode_steps(&steps)))
                .execute(c)?;
            }
            Ok::<u64, StoreError>(batch.len() as u64)
        })?;
        names = Some(known);
        after = Some(last);
    }
    Ok(filled)
}

/// Loads a convoy with everything needed to show it.
pub fn load_detail(conn: &mut DbConn, id: &str) -> Result<ConvoyDetail, StoreError> {
    let row = get_convoy(conn, id)?;
    load_detail_of(conn, row)
}

/// [`load_detail`] for a convoy whose row the caller has just read.
pub fn load_detail_of(conn: &mut DbConn, row: ConvoyRow) -> Result<ConvoyDetail, StoreError> {
    let codes = Codes::load(conn)?;
    let organization: String = organizations::table
        .find(&row.organization_id)
        .select(organizations::slug)
        .first(conn)?;
    let route_code: String = routes::table
        .find(&row.route_id)
        .select(routes::code)
        .first(conn)?;
    let route = route_codes(conn, &row.route_id, &codes)?;
    let manifest = load_manifest(conn, &row.id)?;
    let events = load_events(conn, &row.id)?;
    let domain_events = events
        .iter()
        .map(|e| domain_event(e, &codes))
        .collect::<Result<Vec<_>, _>>()?;
    let ledger = ledger::evaluate(&route, &domain_manifest(&manifest, &codes), &domain_events)
        .map_err(|e| {
            StoreError::Internal(anyhow::anyhow!(
                "stored ledger of convoy {} is inconsistent: {e}",
                row.id
            ))
        })?;
    Ok(ConvoyDetail {
        row,
        organization,
        route_code,
        route,
        manifest,
        events,
        ledger,
        codes,
    })
}

/// A convoy's figure tables and receipts as an evaluated ledger gives them.
#[derive(Debug, Clone, Default)]
pub struct Derived {
    pub figures: Vec<FiguresRow>,
    pub losses: Vec<LossRow>,
    pub receipts: Vec<DeliveryRow>,
}

impl Derived {
    /// Whether both hold the same rows, whatever their order.
    fn same_as(&self, other: &Derived) -> bool {
        let figures_key = |f: &FiguresRow| {
            (
                f.commodity_id.clone(),
                [
                    f.planned_kg,
                    f.loaded_kg,
                    f.delivered_kg,
                    f.short_loaded_kg,
                    f.denied_kg,
                    f.lost_kg,
                    f.rejected_kg,
                    f.outstanding_kg,
                    f.cancelled_kg,
                ],
            )
        };
        let loss_key = |l: &LossRow| {
            (
                l.commodity_id.clone(),
                l.checkpoint_id.clone(),
                l.reason.clone(),
                l.kg,
            )
        };
        let receipt_key = |r: &DeliveryRow| {
            (
                r.event_id.clone(),
                r.commodity_id.clone(),
                r.observed_at,
                r.kg,
            )
        };
        same(&self.figures, &other.figures, figures_key)
            && same(&self.losses, &other.losses, loss_key)
            && same(&self.receipts, &other.receipts, receipt_key)
    }
}

/// The rows an evaluated ledger stores for a convoy.
pub fn derived_rows(
    convoy_id: &str,
    ledger: &Ledger,
    codes: &Codes,
) -> Result<Derived, StoreError> {
    let unknown =
        |what: &str, code: &str| StoreError::Internal(anyhow::anyhow!("unknown {what} {code}"));
    let mut out = Derived::default();
    for c in &ledger.commodities {
        let commodity_id = codes
            .commodity_id(&c.commodity)
            .ok_or_else(|| unknown("commodity", &c.commodity))?;
        let f = &c.figures;
        out.figures.push(FiguresRow {
            convoy_id: convoy_id.to_string(),
            commodity_id: commodity_id.clone(),
            planned_kg: f.planned,
            loaded_kg: f.loaded,
            delivered_kg: f.delivered,
            short_loaded_kg: f.short_loaded,
            denied_kg: f.denied,
            lost_kg: f.lost,
            rejected_kg: f.rejected,
            outstanding_kg: f.outstanding,
            cancelled_kg: f.cancelled,
        });
        let denied = f
            .denied_by_checkpoint
            .iter()
            .map(|(cp, kg)| (cp.as_str(), "denied_at_checkpoint", *kg));
        let lost = f
            .lost_by
            .iter()
            .map(|((cp, reason), kg)| (cp.as_str(), reason.as_str(), *kg));
        for (checkpoint, reason, kg) in denied.chain(lost) {
            out.losses.push(LossRow {
                convoy_id: convoy_id.to_string(),
                commodity_id: commodity_id.clone(),
                checkpoint_id: codes
                    .checkpoint_id(checkpoint)
                    .ok_or_else(|| unknown("checkpoint", checkpoint))?,
                reason: reason.to_string(),
                kg,
            });
        }
    }
    for d in &ledger.deliveries {
        out.receipts.push(DeliveryRow {
            event_id: d.event_id.to_string(),
            commodity_id: codes
                .commodity_id(&d.commodity)
                .ok_or_else(|| unknown("commodity", &d.commodity))?,
            convoy_id: convoy_id.to_string(),
            observed_at: d.observed_at.timestamp_micros(),
            kg: d.kg,
        });
    }
    Ok(out)
}

/// The convoy row with the ledger's status and totals.
pub fn with_ledger(convoy: &ConvoyRow, ledger: &Ledger, codes: &Codes) -> ConvoyRow {
    let t = &ledger.totals;
    ConvoyRow {
        status: ledger.status.as_str().to_string(),
        last_checkpoint_id: ledger
            .last_checkpoint
            .as_deref()
            .and_then(|c| codes.checkpoint_id(c)),
        last_seen_at: ledger.last_seen_at.map(|t| t.timestamp_micros()),
        planned_kg: t.planned,
        loaded_kg: t.loaded,
        delivered_kg: t.delivered,
        short_loaded_kg: t.short_loaded,
        denied_kg: t.denied,
        lost_kg: t.lost,
        rejected_kg: t.rejected,
        outstanding_kg: t.outstanding,
        cancelled_kg: t.cancelled,
        updated_at: now_micros(),
        ..convoy.clone()
    }
}

/// A convoy's stored derived rows.
fn load_derived(
    conn: &mut DbConn,
    convoy_ids: &[&str],
) -> Result<HashMap<String, Derived>, StoreError> {
    let mut out: HashMap<String, Derived> = HashMap::new();
    for chunk in convoy_ids.chunks(500) {
        let figures: Vec<FiguresRow> = convoy_figures::table
            .filter(convoy_figures::convoy_id.eq_any(chunk))
            .select(FiguresRow::as_select())
            .load(conn)?;
        let losses: Vec<LossRow> = convoy_losses::table
            .filter(convoy_losses::convoy_id.eq_any(chunk))
            .select(LossRow::as_select())
            .load(conn)?;
        let receipts: Vec<DeliveryRow> = deliveries::table
            .filter(deliveries::convoy_id.eq_any(chunk))
            .select(DeliveryRow::as_select())
            .load(conn)?;
        for f in figures {
            out.entry(f.convoy_id.clone()).or_default().figures.push(f);
        }
        for l in losses {
            out.entry(l.convoy_id.clone()).or_default().losses.push(l);
        }
        for r in receipts {
            out.entry(r.convoy_id.clone()).or_default().receipts.push(r);
        }
    }
    Ok(out)
}

/// Rewrites the convoy's derived columns, figure tables and receipts from an evaluated
/// ledger, and moves the weekly rollups by the difference. Most events (arrivals, holds,
/// clearances without loss) leave the figures as they were: then only the convoy's
/// status row is written.
fn write_derived(
    conn: &mut DbConn,
    convoy: &ConvoyRow,
    ledger: &Ledger,
    codes: &Codes,
) -> Result<(), StoreError> {
    let updated = with_ledger(convoy, ledger, codes);
    let new = derived_rows(&convoy.id, ledger, codes)?;
    let old = load_derived(conn, &[convoy.id.as_str()])?
        .remove(&convoy.id)
        .unwrap_or_default();
    write_convoys(
        conn,
        &[Rewrite {
            before: convoy.clone(),
            after: updated,
            old,
            new,
        }],
    )
}

/// One convoy's change: its row and derived rows before and after.
pub struct Rewrite {
    pub before: ConvoyRow,
    pub after: ConvoyRow,
    pub old: Derived,
    pub new: Derived,
}

/// Writes the convoys' new status rows, replaces the figure tables and receipts of those
/// whose figures changed, and moves the weekly rollups by the difference — a handful of
/// statements however many convoys change.
pub fn write_convoys(conn: &mut DbConn, changes: &[Rewrite]) -> Result<(), StoreError> {
    update_convoy_rows(conn, changes)?;
    let changed: Vec<&Rewrite> = changes.iter().filter(|c| !c.old.same_as(&c.new)).collect();
    if changed.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = changed.iter().map(|c| c.before.id.as_str()).collect();
    for chunk in ids.chunks(500) {
        diesel::delete(convoy_figures::table.filter(convoy_figures::convoy_id.eq_any(chunk)))
            .execute(conn)?;
        diesel::delete(convoy_losses::table.filter(convoy_losses::convoy_id.eq_any(chunk)))
            .execute(conn)?;
        diesel::delete(deliveries::table.filter(deliveries::convoy_id.eq_any(chunk)))
            .execute(conn)?;
    }
    let figures: Vec<FiguresRow> = changed.iter().flat_map(|c| c.new.figures.clone()).collect();
    let losses: Vec<LossRow> = changed.iter().flat_map(|c| c.new.losses.clone()).collect();
    let receipts: Vec<DeliveryRow> = changed
        .iter()
        .flat_map(|c| c.new.receipts.clone())
        .collect();
    insert_many!(conn, convoy_figures::table, figures);
    insert_many!(conn, convoy_losses::table, losses);
    insert_many!(conn, deliveries::table, receipts);
    let tz = rollups::timezone(conn)?;
    let mut deltas = rollups::Deltas::new();
    for c in &changed {
        // The rollup keys come from the convoy's route, organization and arrival, which
        // events never change.
        rollups::contribute(
            &mut deltas,
            tz,
            &c.before,
            &c.old.figures,
            &c.old.receipts,
            -1,
        );
        rollups::contribute(
            &mut deltas,
            tz,
            &c.after,
            &c.new.figures,
            &c.new.receipts,
            1,
        );
    }
    rollups::apply(conn, &deltas)
}

/// The statement that sets the ledger columns of many convoys at once, with `{values}`
/// standing for its rows.
const UPDATE_CONVOYS_SQL: &str = include_str!("update_convoys.sql");

/// Sets the ledger columns of many convoys (their rows after the change) in one statement.
fn update_convoy_rows(conn: &mut DbConn, changes: &[Rewrite]) -> Result<(), StoreError> {
    for chunk in changes.chunks(500) {
        let values: Vec<String> = chunk
            .iter()
            .map(|Rewrite { after: r, .. }| {
                format!(
                    "({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})",
                    sql_text(&r.id),
                    sql_text(&r.status),
                    r.last_checkpoint_id
                        .as_deref()
                        .map_or("NULL".into(), sql_text),
                    r.last_seen_at.map_or("NULL".into(), |v| v.to_string()),
                    r.planned_kg,
                    r.loaded_kg,
                    r.delivered_kg,
                    r.short_loaded_kg,
                    r.denied_kg,
                    r.lost_kg,
                    r.rejected_kg,
                    r.outstanding_kg,
                    r.cancelled_kg,
                    r.ledger_version,
                    r.updated_at,
                    r.chain_head.as_deref().map_or("NULL".into(), sql_text),
                    r.truck_steps.as_deref().map_or("NULL".into(), sql_text),
                )
            })
            .collect();
        let sql = UPDATE_CONVOYS_SQL.replace("{values}", &values.join(", "));
        diesel::sql_query(sql).execute(conn)?;
    }
    Ok(())
}

/// An SQL string literal. Only for values aidflow made itself (ids, status codes); client
/// text always goes through bind parameters.
fn sql_text(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Whether two lists hold the same rows, whatever their order.
fn same<T, K: Ord>(a: &[T], b: &[T], key: impl Fn(&T) -> K) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut ka: Vec<K> = a.iter().map(&key).collect();
    let mut kb: Vec<K> = b.iter().map(&key).collect();
    ka.sort();
    kb.sort();
    ka == kb
}

/// Creates a convoy at most once under its id.
pub fn create_convoy(conn: &mut DbConn, new: NewConvoy) -> Result<Created<ConvoyRow>, StoreError> {
    let (id, hash) = (new.id.clone(), new.body_sha256.clone());
    create_once(
        conn,
        "convoy",
        &id,
        &hash,
        |c| {
            Ok(find_convoy(c, &id)?.map(|r| {
                let h = r.body_sha256.clone();
                (r, h)
            }))
        },
        |c| insert_convoy(c, &new),
    )
}

fn insert_convoy(conn: &mut DbConn, new: &NewConvoy) -> Result<ConvoyRow, StoreError> {
    if find_convoy_by_reference(conn, &new.organization_id, &new.reference)?.is_some() {
        return Err(StoreError::Conflict(format!(
            "this organization already has a convoy with reference {}; references are unique per organization",
            new.reference
        )));
    }
    let now = now_micros();
    let row = ConvoyRow {
        id: new.id.clone(),
        organization_id: new.organization_id.clone(),
        reference: new.reference.clone(),
        route_id: new.route_id.clone(),
        trucks: new.trucks,
        planned_departure: new.planned_departure.0,
        planned_departure_offset: new.planned_departure.1,
        expected_arrival: new.expected_arrival.0,
        expected_arrival_offset: new.expected_arrival.1,
        note: new.note.clone(),
        status: ledger::Status::Planned.as_str().to_string(),
        last_checkpoint_id: None,
        last_seen_at: None,
        planned_kg: 0,
        loaded_kg: 0,
        delivered_kg: 0,
        short_loaded_kg: 0,
        denied_kg: 0,
        lost_kg: 0,
        rejected_kg: 0,
        outstanding_kg: 0,
        cancelled_kg: 0,
        ledger_version: 0,
        body_sha256: new.body_sha256.clone(),
        created_by: new.created_by.clone(),
        created_at: now,
        updated_at: now,
        chain_genesis: None,
        chain_head: None,
        // No event yet: the weekly report counts from the events (none) until one comes.
        truck_steps: None,
    };
    let manifest_rows: Vec<ManifestLineRow> = new
        .manifest
        .iter()
        .enumerate()
        .map(|(i, line)| ManifestLineRow {
            convoy_id: row.id.clone(),
            line_no: i as i32,
            commodity_id: line.commodity_id.clone(),
            kg: line.kg,
            quantity: line.quantity.clone(),
            unit: line.unit.clone(),
        })
        .collect();
    // The chain starts here, over the convoy and its manifest; events extend it.
    let genesis = crate::domain::chain::genesis(&chain::convoy_record(&row, &manifest_rows));
    let row = ConvoyRow {
        chain_genesis: Some(genesis.clone()),
        chain_head: Some(genesis),
        ..row
    };
    diesel::insert_into(convoys::table)
        .values(&row)
        .execute(conn)?;
    for line in manifest_rows {
        diesel::insert_into(manifest_lines::table)
            .values(line)
            .execute(conn)?;
    }
    let codes = Codes::load(conn)?;
    let route = route_codes(conn, &row.route_id, &codes)?;
    let manifest = domain_manifest(&load_manifest(conn, &row.id)?, &codes);
    let ledger = ledger::evaluate(&route, &manifest, &[])
        .map_err(|e| StoreError::field("manifest", e.message))?;
    write_derived(conn, &row, &ledger, &codes)?;
    get_convoy(conn, &row.id)
}

pub fn find_event(conn: &mut DbConn, id: &str) -> Result<Option<EventRow>, StoreError> {
    Ok(events::table
        .find(id)
        .select(EventRow::as_select())
        .first(conn)
        .optional()?)
}

/// The rows that store a new event as the convoy's `seq`-th.
pub fn event_rows(new: &NewEvent, seq: i64, recorded_at: i64) -> (EventRow, Vec<EventLineRow>) {
    let row = EventRow {
        id: new.id.clone(),
        convoy_id: new.convoy_id.clone(),
        seq,
        kind: new.kind.as_str().to_string(),
        checkpoint_id: new.checkpoint_id.clone(),
        observed_at: new.observed_at.0,
        observed_offset: new.observed_at.1,
        recorded_at,
        recorded_by: new.recorded_by.clone(),
        reason: new.reason.map(|r| r.as_str().to_string()),
        note: new.note.clone(),
        corrects: new.corrects.clone(),
        body_sha256: new.body_sha256.clone(),
        // Linked once the event is accepted (`app::events`), after the convoy's head.
        chain_sha256: None,
        trucks_passed: new.trucks.passed,
        trucks_held: new.trucks.held,
        trucks_turned_back: new.trucks.turned_back,
    };
    let lines = new
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| EventLineRow {
            event_id: row.id.clone(),
            line_no: i as i32,
            commodity_id: l.commodity_id.clone(),
            kg: l.kg,
            quantity: l.quantity.clone(),
            unit: l.unit.clone(),
            reason: l.reason.map(|r| r.as_str().to_string()),
        })
        .collect();
    (row, lines)
}

/// Filters for the convoy list.
#[derive(Debug, Default, Clone)]
pub struct ConvoyFilter {
    pub organization_id: Option<String>,
    pub route_id: Option<String>,
    pub status: Option<String>,
    pub due_from: Option<i64>,
    pub due_to: Option<i64>,
    /// Part of the reference, in any case.
    pub reference: Option<String>,
    /// (expected_arrival, id) of the last row of the previous page.
    pub after: Option<(i64, String)>,
}

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

/// Convoys ordered by expected arrival; one more than `limit` tells there is a next page.
pub fn list_convoys(
    conn: &mut DbConn,
    f: &ConvoyFilter,
    limit: i64,
) -> Result<Vec<ConvoyRow>, StoreError> {
    Ok(filtered(f)
        .select(ConvoyRow::as_select())
        .order((convoys::expected_arrival.asc(), convoys::id.asc()))
        .limit(limit + 1)
        .load(conn)?)
}

/// As [`list_convoys`], with only the columns the weekly report reads.
pub fn list_due(
    conn: &mut DbConn,
    f: &ConvoyFilter,
    limit: i64,
) -> Result<Vec<ConvoyDue>, StoreError> {
    Ok(filtered(f)
        .select(ConvoyDue::as_select())
        .order((convoys::expected_arrival.asc(), convoys::id.asc()))
        .limit(limit + 1)
        .load(conn)?)
}

type Backend = <DbConn as Connection>::Backend;

/// The convoys that pass filter `f`, unordered, every column.
fn filtered(f: &ConvoyFilter) -> convoys::BoxedQuery<'static, Backend> {
    let mut q = convoys::table.into_boxed();
    if let Some(v) = &f.organization_id {
        q = q.filter(convoys::organization_id.eq(v.clone()));
    }
    if let Some(v) = &f.route_id {
        q = q.filter(convoys::route_id.eq(v.clone()));
    }
    if let Some(v) = &f.status {
        q = q.filter(convoys::status.eq(v.clone()));
    }
    if let Some(v) = f.due_from {
        q = q.filter(convoys::expected_arrival.ge(v));
    }
    if let Some(v) = f.due_to {
        q = q.filter(convoys::expected_arrival.lt(v));
    }
    if let Some(part) = &f.reference {
        let escaped: String = part
            .to_lowercase()
            .chars()
            .flat_map(|c| match c {
                '%' | '_' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        q = q.filter(
            lower(convoys::reference)
                .like(format!("%{escaped}%"))
                .escape('\\'),
        );
    }
    if let Some((at, id)) = &f.after {
        q = q.filter(
            convoys::expected_arrival
                .gt(*at)
                .or(convoys::expected_arrival
                    .eq(*at)
                    .and(convoys::id.gt(id.clone()))),
        );
    }
    q
}

/// Events of a convoy, with lines and voiding, in recording order.
pub fn list_events(conn: &mut DbConn, convoy_id: &str) -> Result<Vec<StoredEvent>, StoreError> {
    get_convoy(conn, convoy_id)?;
    load_events(conn, convoy_id)
}

/// Where the cargo of these convoys was denied or lost.
pub fn losses_of(conn: &mut DbConn, convoy_ids: &[String]) -> Result<Vec<LossRow>, StoreError> {
    let mut out = Vec::new();
    for chunk in convoy_ids.chunks(500) {
        out.extend(
            convoy_losses::table
                .filter(convoy_losses::convoy_id.eq_any(chunk))
                .select(LossRow::as_select())
                .load(conn)?,
        );
    }
    Ok(out)
}

/// Convoys with one of these statuses, or seen after `after_us` (their status as of an
/// earlier time may differ): what the alert evaluator looks at.
pub fn with_status_or_seen_after(
    conn: &mut DbConn,
    statuses: &[&str],
    after_us: i64,
) -> Result<Vec<ConvoyRow>, StoreError> {
    Ok(convoys::table
        .filter(
            convoys::status
                .eq_any(statuses)
                .or(convoys::last_seen_at.gt(after_us)),
        )
        .select(ConvoyRow::as_select())
        .load(conn)?)
}

/// When anything was last delivered on a route, up to `until_us`.
pub fn last_delivery_on_route(
    conn: &mut DbConn,
    route_id: &str,
    until_us: i64,
) -> Result<Option<i64>, StoreError> {
    Ok(deliveries::table
        .inner_join(convoys::table)
        .filter(convoys::route_id.eq(route_id))
        .filter(deliveries::observed_at.le(until_us))
        .select(deliveries::observed_at)
        .order(deliveries::observed_at.desc())
        .first(conn)
        .optional()?)
}

/// The kilograms of each delivery on a route observed in `(from_us, until_us]`.
pub fn delivered_on_route_between(
    conn: &mut DbConn,
    route_id: &str,
    from_us: i64,
    until_us: i64,
) -> Result<Vec<i64>, StoreError> {
    Ok(deliveries::table
        .inner_join(convoys::table)
        .filter(convoys::route_id.eq(route_id))
        .filter(deliveries::observed_at.gt(from_us))
        .filter(deliveries::observed_at.le(until_us))
        .select(deliveries::kg)
        .load(conn)?)
}

/// How many convoys of some statuses stand at each place, with the tonnes they still
/// carry: per route, last checkpoint (none before departure) and status.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct StandingCount {
    pub route_id: String,
    pub last_checkpoint_id: Option<String>,
    pub status: String,
    pub convoys: i64,
    pub outstanding_kg: Kg,
}

/// Counts the convoys of these statuses by route, last checkpoint and status: one grouped
/// read, whatever the number of convoys.
pub fn standing(conn: &mut DbConn, statuses: &[&str]) -> Result<Vec<StandingCount>, StoreError> {
    use diesel::dsl::{count_star, sql};
    use diesel::sql_types::BigInt;
    Ok(convoys::table
        .filter(convoys::status.eq_any(statuses.iter().map(|s| s.to_string())))
        .group_by((
            convoys::route_id,
            convoys::last_checkpoint_id,
            convoys::status,
        ))
        .select((
            convoys::route_id,
            convoys::last_checkpoint_id,
            convoys::status,
            count_star(),
            sql::<BigInt>("CAST(COALESCE(SUM(outstanding_kg), 0) AS BIGINT)"),
        ))
        .order((
            convoys::route_id.asc(),
            convoys::last_checkpoint_id.asc(),
            convoys::status.asc(),
        ))
        .load(conn)?)
}
