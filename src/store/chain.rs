//! The stored side of the convoy chains (`domain::chain`): rows as chain records, convoys
//! read with everything their chain covers, page by page, the chains computed for
//! databases that had none, and the heads a published week records.

use std::collections::{BTreeMap, HashMap};

use diesel::prelude::*;

use crate::db::schema::{convoys, deliveries, event_lines, events, manifest_lines};
use crate::db::{write_tx, DbConn};
use crate::domain::chain::{self, ConvoyRecord, EventRecord, LineRecord, ManifestRecord};
use crate::store::rows::{ConvoyRow, EventLineRow, EventRow, ManifestLineRow};
use crate::store::StoreError;

/// A convoy's row as its chain covers it.
pub fn convoy_record(row: &ConvoyRow, manifest: &[ManifestLineRow]) -> ConvoyRecord {
    ConvoyRecord {
        id: row.id.clone(),
        organization_id: row.organization_id.clone(),
        reference: row.reference.clone(),
        route_id: row.route_id.clone(),
        trucks: row.trucks,
        planned_departure: row.planned_departure,
        planned_departure_offset: row.planned_departure_offset,
        expected_arrival: row.expected_arrival,
        expected_arrival_offset: row.expected_arrival_offset,
        note: row.note.clone(),
        body_sha256: row.body_sha256.clone(),
        created_by: row.created_by.clone(),
        created_at: row.created_at,
        manifest: manifest
            .iter()
            .map(|l| ManifestRecord {
                commodity_id: l.commodity_id.clone(),
                kg: l.kg,
                quantity: l.quantity.clone(),
                unit: l.unit.clone(),
            })
            .collect(),
    }
}

/// An event's row and lines (in line order) as its chain covers them.
pub fn event_record(row: &EventRow, lines: &[EventLineRow]) -> EventRecord {
    EventRecord {
        id: row.id.clone(),
        convoy_id: row.convoy_id.clone(),
        seq: row.seq,
        kind: row.kind.clone(),
        checkpoint_id: row.checkpoint_id.clone(),
        observed_at: row.observed_at,
        observed_offset: row.observed_offset,
        recorded_at: row.recorded_at,
        recorded_by: row.recorded_by.clone(),
        reason: row.reason.clone(),
        note: row.note.clone(),
        corrects: row.corrects.clone(),
        trucks_passed: row.trucks_passed,
        trucks_held: row.trucks_held,
        trucks_turned_back: row.trucks_turned_back,
        body_sha256: row.body_sha256.clone(),
        lines: lines
            .iter()
            .map(|l| LineRecord {
                commodity_id: l.commodity_id.clone(),
                kg: l.kg,
                quantity: l.quantity.clone(),
                unit: l.unit.clone(),
                reason: l.reason.clone(),
            })
            .collect(),
    }
}

/// One convoy with everything its chain covers: its row, manifest, and events in `seq`
/// order with their lines.
#[derive(Debug, Clone)]
pub struct ConvoyChain {
    pub convoy: ConvoyRow,
    pub manifest: Vec<ManifestLineRow>,
    pub events: Vec<(EventRow, Vec<EventLineRow>)>,
}

/// The ids of up to `limit` convoys after `after`, in id order: how every pass over all
/// convoys reads them, a page at a time, so that memory stays flat.
pub fn convoy_page(
    conn: &mut DbConn,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<String>, StoreError> {
    let mut q = convoys::table
        .select(convoys::id)
        .order(convoys::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(a) = after {
        q = q.filter(convoys::id.gt(a.to_string()));
    }
    Ok(q.load(conn)?)
}

/// These convoys (those that exist) with their manifests, events and lines, in id order.
pub fn load_chains(conn: &mut DbConn, ids: &[String]) -> Result<Vec<ConvoyChain>, StoreError> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let rows: Vec<ConvoyRow> = convoys::table
            .filter(convoys::id.eq_any(chunk))
            .order(convoys::id.asc())
            .select(ConvoyRow::as_select())
            .load(conn)?;
        let mut manifests: HashMap<String, Vec<ManifestLineRow>> = HashMap::new();
        for l in manifest_lines::table
            .filter(manifest_lines::convoy_id.eq_any(chunk))
            .order((
                manifest_lines::convoy_id.asc(),
                manifest_lines::line_no.asc(),
            ))
            .select(ManifestLineRow::as_select())
            .load::<ManifestLineRow>(conn)?
        {
            manifests.entry(l.convoy_id.clone()).or_default().push(l);
        }
        let event_rows: Vec<EventRow> = events::table
            .filter(events::convoy_id.eq_any(chunk))
            .order((events::convoy_id.asc(), events::seq.asc()))
            .select(EventRow::as_select())
            .load(conn)?;
        let mut lines: HashMap<String, Vec<EventLineRow>> = HashMap::new();
        for l in event_lines::table
            .inner_join(events::table)
            .filter(events::convoy_id.eq_any(chunk))
            .order((event_lines::event_id.asc(), event_lines::line_no.asc()))
            .select(EventLineRow::as_select())
            .load::<EventLineRow>(conn)?
        {
            lines.entry(l.event_id.clone()).or_default().push(l);
        }
        let mut by_convoy: HashMap<String, Vec<(EventRow, Vec<EventLineRow>)>> = HashMap::new();
        for e in event_rows {
            let l = lines.remove(&e.id).unwrap_or_default();
            by_convoy
                .entry(e.convoy_id.clone())
                .or_default()
                .push((e, l));
        }
        for convoy in rows {
            out.push(ConvoyChain {
                manifest: manifests.remove(&convoy.id).unwrap_or_default(),
                events: by_convoy.remove(&convoy.id).unwrap_or_default(),
                convoy,
            });
        }
    }
    Ok(out)
}

/// What [`fill_missing`] computed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Filled {
    pub convoys: u64,
    pub events: u64,
}

/// How many convoys one transaction of [`fill_missing`] computes.
const FILL_BATCH: i64 = 200;

/// Computes the chains of every convoy that lacks one (its genesis, its head, or the link
/// of any of its events): the part of migration `2026-12-02-000010_event_chain` that SQL
/// cannot do, run right after the migrations. Convoy batches in their own write
/// transactions, in id order; idempotent, since a convoy with a whole chain is never
/// touched again. The chain is computed from the stored content as it is now.
pub fn fill_missing(conn: &mut DbConn) -> Result<Filled, StoreError> {
    let mut filled = Filled::default();
    let mut after: Option<String> = None;
    loop {
        let missing_links = events::table
            .filter(events::chain_sha256.is_null())
            .select(events::convoy_id);
        let mut q = convoys::table
            .filter(
                convoys::chain_head
                    .is_null()
                    .or(convoys::chain_genesis.is_null())
                    .or(convoys::id.eq_any(missing_links)),
            )
            .select(convoys::id)
            .order(convoys::id.asc())
            .limit(FILL_BATCH)
            .into_boxed();
        if let Some(a) = &after {
            q = q.filter(convoys::id.gt(a.clone()));
        }
        let ids: Vec<String> = q.load(conn)?;
        let Some(last) = ids.last().cloned() else {
            break;
        };
        let batch = write_tx(conn, |c| fill(c, &ids))?;
        filled.convoys += batch.convoys;
        filled.events += batch.events;
        tracing::info!(
            convoys = filled.convoys,
            events = filled.events,
            "computed the ledger chains of convoys that had none (migration 2026-12-02-000010_event_chain)"
        );
        after = Some(last);
    }
    Ok(filled)
}

fn fill(c: &mut DbConn, ids: &[String]) -> Result<Filled, StoreError> {
    let mut filled = Filled::default();
    for chain_of in load_chains(c, ids)? {
        let genesis = chain::genesis(&convoy_record(&chain_of.convoy, &chain_of.manifest));
        let mut head = genesis.clone();
        for (row, lines) in &chain_of.events {
            head = chain::event_link(&head, &event_record(row, lines));
            if row.chain_sha256.as_deref() != Some(head.as_str()) {
                diesel::update(events::table.find(&row.id))
                    .set(events::chain_sha256.eq(&head))
                    .execute(c)?;
            }
            filled.events += 1;
        }
        diesel::update(convoys::table.find(&chain_of.convoy.id))
            .set((
                convoys::chain_genesis.eq(&genesis),
                convoys::chain_head.eq(&head),
            ))
            .execute(c)?;
        filled.convoys += 1;
    }
    Ok(filled)
}

/// A convoy's chain head as a snapshot records it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Head {
    /// The seq of the convoy's last event (0 before any).
    pub seq: i64,
    pub sha256: String,
}

/// The chain heads of the convoys a week's report counts: those expected to arrive in
/// `[start_us, end_us)` and those with a delivery observed then, by convoy id.
pub fn week_heads(
    conn: &mut DbConn,
    start_us: i64,
    end_us: i64,
) -> Result<BTreeMap<String, Head>, StoreError> {
    let delivered = deliveries::table
        .filter(deliveries::observed_at.ge(start_us))
        .filter(deliveries::observed_at.lt(end_us))
        .select(deliveries::convoy_id);
    let rows: Vec<(String, i64, Option<String>)> = convoys::table
        .filter(
            convoys::expected_arrival
                .ge(start_us)
                .and(convoys::expected_arrival.lt(end_us))
                .or(convoys::id.eq_any(delivered)),
        )
        .select((convoys::id, convoys::ledger_version, convoys::chain_head))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, seq, head)| head.map(|sha256| (id, Head { seq, sha256 })))
        .collect())
}

/// The root digest over recorded heads.
pub fn root_of(heads: &BTreeMap<String, Head>) -> String {
    chain::root_digest(
        heads
            .iter()
            .map(|(id, h)| (id.as_str(), h.seq, h.sha256.as_str())),
    )
}
