//! Convoys and their append-only event ledger.
//!
//! Every event write re-evaluates the convoy's whole ledger (a convoy has tens of events)
//! inside the write transaction, refuses the event if the ledger would become
//! inconsistent, and rewrites the convoy's derived figures in the same transaction.

use std::collections::{BTreeMap, HashMap};

use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::{
    checkpoints, commodities, convoy_figures, convoy_losses, convoys, deliveries, event_lines,
    events, manifest_lines, organizations, route_checkpoints, routes,
};
use crate::db::{from_micros, now_micros, DbConn};
use crate::domain::ledger::{self, EventKind, Ledger, LedgerEvent, Reason};
use crate::domain::quantity::Kg;
use crate::error::AppError;
use crate::store::rollups::{self, DeliveryRow};
use crate::store::{create_once, Created};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = convoys)]
pub struct ConvoyRow {
    pub id: String,
    pub organization_id: String,
    pub reference: String,
    pub route_id: String,
    pub trucks: Option<i32>,
    pub planned_departure: i64,
    pub planned_departure_offset: i32,
    pub expected_arrival: i64,
    pub expected_arrival_offset: i32,
    pub note: Option<String>,
    pub status: String,
    pub last_checkpoint_id: Option<String>,
    pub last_seen_at: Option<i64>,
    pub planned_kg: i64,
    pub loaded_kg: i64,
    pub delivered_kg: i64,
    pub short_loaded_kg: i64,
    pub denied_kg: i64,
    pub lost_kg: i64,
    pub rejected_kg: i64,
    pub outstanding_kg: i64,
    pub cancelled_kg: i64,
    pub ledger_version: i64,
    pub body_sha256: String,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = manifest_lines)]
pub struct ManifestLineRow {
    pub convoy_id: String,
    pub line_no: i32,
    pub commodity_id: String,
    pub kg: i64,
    pub quantity: String,
    pub unit: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = events)]
pub struct EventRow {
    pub id: String,
    pub convoy_id: String,
    pub seq: i64,
    pub kind: String,
    pub checkpoint_id: Option<String>,
    pub observed_at: i64,
    pub observed_offset: i32,
    pub recorded_at: i64,
    pub recorded_by: String,
    pub reason: Option<String>,
    pub note: Option<String>,
    pub corrects: Option<String>,
    pub body_sha256: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = event_lines)]
pub struct EventLineRow {
    pub event_id: String,
    pub line_no: i32,
    pub commodity_id: String,
    pub kg: i64,
    pub quantity: String,
    pub unit: String,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = convoy_figures)]
pub struct FiguresRow {
    pub convoy_id: String,
    pub commodity_id: String,
    pub planned_kg: i64,
    pub loaded_kg: i64,
    pub delivered_kg: i64,
    pub short_loaded_kg: i64,
    pub denied_kg: i64,
    pub lost_kg: i64,
    pub rejected_kg: i64,
    pub outstanding_kg: i64,
    pub cancelled_kg: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = convoy_losses)]
pub struct LossRow {
    pub convoy_id: String,
    pub commodity_id: String,
    pub checkpoint_id: String,
    pub reason: String,
    pub kg: i64,
}

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
    pub body_sha256: String,
    pub recorded_by: String,
}

/// The codes the domain speaks, for the ids the database stores.
#[derive(Debug, Default, Clone)]
pub struct Codes {
    pub checkpoints: HashMap<String, String>,
    pub commodities: HashMap<String, String>,
}

impl Codes {
    pub fn load(conn: &mut DbConn) -> Result<Codes, AppError> {
        let cps: Vec<(String, String)> = checkpoints::table
            .select((checkpoints::id, checkpoints::code))
            .load(conn)?;
        let cos: Vec<(String, String)> = commodities::table
            .select((commodities::id, commodities::code))
            .load(conn)?;
        Ok(Codes {
            checkpoints: cps.into_iter().collect(),
            commodities: cos.into_iter().collect(),
        })
    }

    pub fn checkpoint(&self, id: &str) -> String {
        self.checkpoints
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }

    pub fn commodity(&self, id: &str) -> String {
        self.commodities
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }

    fn checkpoint_id(&self, code: &str) -> Option<String> {
        self.checkpoints
            .iter()
            .find(|(_, c)| c.as_str() == code)
            .map(|(id, _)| id.clone())
    }

    fn commodity_id(&self, code: &str) -> Option<String> {
        self.commodities
            .iter()
            .find(|(_, c)| c.as_str() == code)
            .map(|(id, _)| id.clone())
    }
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

pub fn find_convoy(conn: &mut DbConn, id: &str) -> Result<Option<ConvoyRow>, AppError> {
    Ok(convoys::table
        .find(id)
        .select(ConvoyRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn get_convoy(conn: &mut DbConn, id: &str) -> Result<ConvoyRow, AppError> {
    find_convoy(conn, id)?.ok_or_else(|| AppError::NotFound(format!("convoy {id} does not exist")))
}

pub fn find_convoy_by_reference(
    conn: &mut DbConn,
    organization_id: &str,
    reference: &str,
) -> Result<Option<ConvoyRow>, AppError> {
    Ok(convoys::table
        .filter(convoys::organization_id.eq(organization_id))
        .filter(convoys::reference.eq(reference))
        .select(ConvoyRow::as_select())
        .first(conn)
        .optional()?)
}

/// The route's checkpoint codes in order.
fn route_codes(
    conn: &mut DbConn,
    route_id: &str,
    codes: &Codes,
) -> Result<ledger::Route, AppError> {
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
pub fn load_manifest(conn: &mut DbConn, convoy_id: &str) -> Result<Vec<ManifestLineRow>, AppError> {
    Ok(manifest_lines::table
        .filter(manifest_lines::convoy_id.eq(convoy_id))
        .order(manifest_lines::line_no.asc())
        .select(ManifestLineRow::as_select())
        .load(conn)?)
}

fn domain_manifest(lines: &[ManifestLineRow], codes: &Codes) -> ledger::Manifest {
    ledger::Manifest(
        lines
            .iter()
            .map(|l| (codes.commodity(&l.commodity_id), l.kg))
            .collect::<BTreeMap<_, _>>(),
    )
}

/// The convoy's events in recording order, with lines and who voided them.
fn load_events(conn: &mut DbConn, convoy_id: &str) -> Result<Vec<StoredEvent>, AppError> {
    let rows: Vec<EventRow> = events::table
        .filter(events::convoy_id.eq(convoy_id))
        .order(events::seq.asc())
        .select(EventRow::as_select())
        .load(conn)?;
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let lines: Vec<EventLineRow> = event_lines::table
        .filter(event_lines::event_id.eq_any(&ids))
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
    Ok(rows
        .into_iter()
        .map(|row| StoredEvent {
            lines: by_event.remove(&row.id).unwrap_or_default(),
            voided_by: voiders.get(&row.id).cloned(),
            row,
        })
        .collect())
}

fn parse_reason(s: &Option<String>) -> Option<Reason> {
    s.as_deref().and_then(Reason::parse)
}

/// A stored event as the ledger sees it.
pub fn domain_event(e: &StoredEvent, codes: &Codes) -> Result<LedgerEvent, AppError> {
    Ok(LedgerEvent {
        id: Uuid::parse_str(&e.row.id).map_err(|err| {
            AppError::Internal(anyhow::anyhow!("stored event id {}: {err}", e.row.id))
        })?,
        kind: EventKind::parse(&e.row.kind).ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!("stored event kind {}", e.row.kind))
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

/// Loads a convoy with everything needed to show it.
pub fn load_detail(conn: &mut DbConn, id: &str) -> Result<ConvoyDetail, AppError> {
    let row = get_convoy(conn, id)?;
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
            AppError::Internal(anyhow::anyhow!(
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

/// Rewrites the convoy's derived columns, figure tables and receipts from an evaluated
/// ledger, and moves the weekly rollups by the difference. Most events (arrivals, holds,
/// clearances without loss) leave the figures as they were: then only the convoy's
/// status row is written.
fn write_derived(
    conn: &mut DbConn,
    convoy: &ConvoyRow,
    ledger: &Ledger,
    codes: &Codes,
) -> Result<(), AppError> {
    let convoy_id = convoy.id.as_str();
    let t = &ledger.totals;
    diesel::update(convoys::table.find(convoy_id))
        .set((
            convoys::status.eq(ledger.status.as_str()),
            convoys::last_checkpoint_id.eq(ledger
                .last_checkpoint
                .as_deref()
                .and_then(|c| codes.checkpoint_id(c))),
            convoys::last_seen_at.eq(ledger.last_seen_at.map(|t| t.timestamp_micros())),
            convoys::planned_kg.eq(t.planned),
            convoys::loaded_kg.eq(t.loaded),
            convoys::delivered_kg.eq(t.delivered),
            convoys::short_loaded_kg.eq(t.short_loaded),
            convoys::denied_kg.eq(t.denied),
            convoys::lost_kg.eq(t.lost),
            convoys::rejected_kg.eq(t.rejected),
            convoys::outstanding_kg.eq(t.outstanding),
            convoys::cancelled_kg.eq(t.cancelled),
            convoys::updated_at.eq(now_micros()),
        ))
        .execute(conn)?;

    let unknown =
        |what: &str, code: &str| AppError::Internal(anyhow::anyhow!("unknown {what} {code}"));
    let mut new_figures = Vec::with_capacity(ledger.commodities.len());
    let mut new_losses = Vec::new();
    for c in &ledger.commodities {
        let commodity_id = codes
            .commodity_id(&c.commodity)
            .ok_or_else(|| unknown("commodity", &c.commodity))?;
        let f = &c.figures;
        new_figures.push(FiguresRow {
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
            new_losses.push(LossRow {
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
    let mut new_receipts = Vec::with_capacity(ledger.deliveries.len());
    for d in &ledger.deliveries {
        new_receipts.push(DeliveryRow {
            event_id: d.event_id.to_string(),
            commodity_id: codes
                .commodity_id(&d.commodity)
                .ok_or_else(|| unknown("commodity", &d.commodity))?,
            convoy_id: convoy_id.to_string(),
            observed_at: d.observed_at.timestamp_micros(),
            kg: d.kg,
        });
    }

    let old_figures: Vec<FiguresRow> = convoy_figures::table
        .filter(convoy_figures::convoy_id.eq(convoy_id))
        .select(FiguresRow::as_select())
        .load(conn)?;
    let old_receipts: Vec<DeliveryRow> = deliveries::table
        .filter(deliveries::convoy_id.eq(convoy_id))
        .select(DeliveryRow::as_select())
        .load(conn)?;
    let old_losses: Vec<LossRow> = convoy_losses::table
        .filter(convoy_losses::convoy_id.eq(convoy_id))
        .select(LossRow::as_select())
        .load(conn)?;
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
    let unchanged = same(&old_figures, &new_figures, figures_key)
        && same(&old_losses, &new_losses, loss_key)
        && same(&old_receipts, &new_receipts, receipt_key);
    if unchanged {
        return Ok(());
    }
    diesel::delete(convoy_figures::table.filter(convoy_figures::convoy_id.eq(convoy_id)))
        .execute(conn)?;
    diesel::delete(convoy_losses::table.filter(convoy_losses::convoy_id.eq(convoy_id)))
        .execute(conn)?;
    diesel::delete(deliveries::table.filter(deliveries::convoy_id.eq(convoy_id))).execute(conn)?;
    for row in &new_figures {
        diesel::insert_into(convoy_figures::table)
            .values(row)
            .execute(conn)?;
    }
    for row in &new_losses {
        diesel::insert_into(convoy_losses::table)
            .values(row)
            .execute(conn)?;
    }
    for row in &new_receipts {
        diesel::insert_into(deliveries::table)
            .values(row)
            .execute(conn)?;
    }
    let tz = rollups::timezone(conn)?;
    let mut deltas = rollups::Deltas::new();
    rollups::contribute(&mut deltas, tz, convoy, &old_figures, &old_receipts, -1);
    rollups::contribute(&mut deltas, tz, convoy, &new_figures, &new_receipts, 1);
    rollups::apply(conn, &deltas)
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
pub fn create_convoy(conn: &mut DbConn, new: NewConvoy) -> Result<Created<ConvoyRow>, AppError> {
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

fn insert_convoy(conn: &mut DbConn, new: &NewConvoy) -> Result<ConvoyRow, AppError> {
    if find_convoy_by_reference(conn, &new.organization_id, &new.reference)?.is_some() {
        return Err(AppError::Conflict(format!(
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
    };
    diesel::insert_into(convoys::table)
        .values(&row)
        .execute(conn)?;
    for (i, line) in new.manifest.iter().enumerate() {
        diesel::insert_into(manifest_lines::table)
            .values(ManifestLineRow {
                convoy_id: row.id.clone(),
                line_no: i as i32,
                commodity_id: line.commodity_id.clone(),
                kg: line.kg,
                quantity: line.quantity.clone(),
                unit: line.unit.clone(),
            })
            .execute(conn)?;
    }
    let codes = Codes::load(conn)?;
    let route = route_codes(conn, &row.route_id, &codes)?;
    let manifest = domain_manifest(&load_manifest(conn, &row.id)?, &codes);
    let ledger = ledger::evaluate(&route, &manifest, &[])
        .map_err(|e| AppError::field("manifest", e.message))?;
    write_derived(conn, &row, &ledger, &codes)?;
    get_convoy(conn, &row.id)
}

pub fn find_event(conn: &mut DbConn, id: &str) -> Result<Option<EventRow>, AppError> {
    Ok(events::table
        .find(id)
        .select(EventRow::as_select())
        .first(conn)
        .optional()?)
}

/// Records an event at most once under its id (its own transaction).
pub fn record_event(conn: &mut DbConn, new: NewEvent) -> Result<Created<EventRow>, AppError> {
    let (id, hash) = (new.id.clone(), new.body_sha256.clone());
    create_once(
        conn,
        "event",
        &id,
        &hash,
        |c| {
            Ok(find_event(c, &id)?.map(|r| {
                let h = r.body_sha256.clone();
                (r, h)
            }))
        },
        |c| insert_event(c, &new),
    )
}

/// Appends an event inside the caller's write transaction: locks the convoy, checks the
/// correction target, re-evaluates the ledger with the event, and writes it with the
/// convoy's new figures. Fails without writing if the ledger would be inconsistent.
pub fn insert_event(conn: &mut DbConn, new: &NewEvent) -> Result<EventRow, AppError> {
    // The update takes the convoy's row lock on PostgreSQL, so writers of one convoy
    // evaluate its ledger one at a time; on SQLite the write transaction already does.
    let bumped = diesel::update(convoys::table.find(&new.convoy_id))
        .set(convoys::ledger_version.eq(convoys::ledger_version + 1))
        .execute(conn)?;
    if bumped == 0 {
        return Err(AppError::NotFound(format!(
            "convoy {} does not exist",
            new.convoy_id
        )));
    }
    // A concurrent request with the same id may have committed while this one waited for
    // the lock: report the duplicate so the caller answers it as a replay.
    if find_event(conn, &new.id)?.is_some() {
        return Err(AppError::Conflict(format!(
            "event {} was recorded concurrently",
            new.id
        )));
    }
    let convoy = get_convoy(conn, &new.convoy_id)?;
    if let Some(target) = &new.corrects {
        let target_row = find_event(conn, target)?
            .filter(|t| t.convoy_id == new.convoy_id)
            .ok_or_else(|| {
                AppError::field(
                    "corrects",
                    format!("event {target} is not an event of this convoy"),
                )
            })?;
        let already: Option<String> = events::table
            .filter(events::corrects.eq(&target_row.id))
            .select(events::id)
            .first(conn)
            .optional()?;
        if let Some(by) = already {
            return Err(AppError::Conflict(format!(
                "event {target} was already corrected by event {by}; to change it again, correct event {by}"
            )));
        }
    }
    let codes = Codes::load(conn)?;
    let route = route_codes(conn, &convoy.route_id, &codes)?;
    let manifest = domain_manifest(&load_manifest(conn, &convoy.id)?, &codes);
    let mut stored = load_events(conn, &convoy.id)?;
    let now = now_micros();
    let row = EventRow {
        id: new.id.clone(),
        convoy_id: convoy.id.clone(),
        seq: convoy.ledger_version,
        kind: new.kind.as_str().to_string(),
        checkpoint_id: new.checkpoint_id.clone(),
        observed_at: new.observed_at.0,
        observed_offset: new.observed_at.1,
        recorded_at: now,
        recorded_by: new.recorded_by.clone(),
        reason: new.reason.map(|r| r.as_str().to_string()),
        note: new.note.clone(),
        corrects: new.corrects.clone(),
        body_sha256: new.body_sha256.clone(),
    };
    let lines: Vec<EventLineRow> = new
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
    if let Some(target) = &new.corrects {
        for e in stored.iter_mut().filter(|e| &e.row.id == target) {
            e.voided_by = Some(row.clone());
        }
    }
    stored.push(StoredEvent {
        row: row.clone(),
        lines: lines.clone(),
        voided_by: None,
    });
    let domain_events = stored
        .iter()
        .map(|e| domain_event(e, &codes))
        .collect::<Result<Vec<_>, _>>()?;
    let ledger = ledger::evaluate(&route, &manifest, &domain_events).map_err(|e| {
        let which = if e.event_id.to_string() == row.id {
            "this event".to_string()
        } else {
            format!("it would make event {} impossible", e.event_id)
        };
        AppError::Unprocessable(format!("{} ({which}); nothing was recorded", e.message))
    })?;
    diesel::insert_into(events::table)
        .values(&row)
        .execute(conn)?;
    for line in &lines {
        diesel::insert_into(event_lines::table)
            .values(line)
            .execute(conn)?;
    }
    write_derived(conn, &convoy, &ledger, &codes)?;
    Ok(row)
}

/// Filters for the convoy list.
#[derive(Debug, Default, Clone)]
pub struct ConvoyFilter {
    pub organization_id: Option<String>,
    pub route_id: Option<String>,
    pub status: Option<String>,
    pub due_from: Option<i64>,
    pub due_to: Option<i64>,
    /// (expected_arrival, id) of the last row of the previous page.
    pub after: Option<(i64, String)>,
}

/// Convoys ordered by expected arrival; one more than `limit` tells there is a next page.
pub fn list_convoys(
    conn: &mut DbConn,
    f: &ConvoyFilter,
    limit: i64,
) -> Result<Vec<ConvoyRow>, AppError> {
    let mut q = convoys::table.select(ConvoyRow::as_select()).into_boxed();
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
    if let Some((at, id)) = &f.after {
        q = q.filter(
            convoys::expected_arrival
                .gt(*at)
                .or(convoys::expected_arrival
                    .eq(*at)
                    .and(convoys::id.gt(id.clone()))),
        );
    }
    Ok(
        q.order((convoys::expected_arrival.asc(), convoys::id.asc()))
            .limit(limit + 1)
            .load(conn)?,
    )
}

/// Events of a convoy, with lines and voiding, in recording order.
pub fn list_events(conn: &mut DbConn, convoy_id: &str) -> Result<Vec<StoredEvent>, AppError> {
    get_convoy(conn, convoy_id)?;
    load_events(conn, convoy_id)
}

/// Whether any convoy uses this route, organization or commodity (reference data that
/// is in use cannot be deleted).
pub fn route_in_use(conn: &mut DbConn, route_id: &str) -> Result<i64, AppError> {
    Ok(convoys::table
        .filter(convoys::route_id.eq(route_id))
        .count()
        .get_result(conn)?)
}

pub fn organization_in_use(conn: &mut DbConn, organization_id: &str) -> Result<i64, AppError> {
    Ok(convoys::table
        .filter(convoys::organization_id.eq(organization_id))
        .count()
        .get_result(conn)?)
}

pub fn commodity_in_use(conn: &mut DbConn, commodity_id: &str) -> Result<i64, AppError> {
    Ok(manifest_lines::table
        .filter(manifest_lines::commodity_id.eq(commodity_id))
        .count()
        .get_result(conn)?)
}

/// Where the cargo of these convoys was denied or lost.
pub fn losses_of(conn: &mut DbConn, convoy_ids: &[String]) -> Result<Vec<LossRow>, AppError> {
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
