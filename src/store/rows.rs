//! The stored rows of convoys, their manifests, events, cargo lines and derived figures:
//! what the convoy queries and the weekly rollups both read.

use diesel::prelude::*;

use crate::db::schema::{
    convoy_figures, convoy_losses, convoys, event_lines, events, manifest_lines,
};

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
    /// The first link of the convoy's chain (`domain::chain::genesis`).
    pub chain_genesis: Option<String>,
    /// The link of its last event (the genesis before any); `None` until computed.
    pub chain_head: Option<String>,
    /// Its trucks at each stop after its events (`domain::trucks::encode_steps`), kept by
    /// the write path for the weekly report; `None` until its first event since then.
    pub truck_steps: Option<String>,
}

/// The columns of a convoy that the weekly report reads for the week's convoys and the
/// stalled ones: about half of [`ConvoyRow`]'s, and none of its long text (note, hashes,
/// author), since a week at scale lists a thousand of them.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = convoys)]
pub struct ConvoyDue {
    pub id: String,
    pub organization_id: String,
    pub reference: String,
    pub route_id: String,
    pub trucks: Option<i32>,
    pub expected_arrival: i64,
    pub status: String,
    pub last_checkpoint_id: Option<String>,
    pub last_seen_at: Option<i64>,
    pub planned_kg: i64,
    pub loaded_kg: i64,
    pub delivered_kg: i64,
    pub outstanding_kg: i64,
    /// As [`ConvoyRow::truck_steps`].
    pub truck_steps: Option<String>,
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
#[diesel(table_name = events, treat_none_as_default_value = false)]
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
    /// SHA-256 of the link before and the event's canonical content (`domain::chain`).
    pub chain_sha256: Option<String>,
    /// Trucks that went on from the checkpoint (at the destination: that arrived).
    pub trucks_passed: Option<i32>,
    /// Trucks held at the checkpoint.
    pub trucks_held: Option<i32>,
    /// Trucks sent back from the checkpoint.
    pub trucks_turned_back: Option<i32>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = event_lines, treat_none_as_default_value = false)]
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
