//! Claims: what sources published about a convoy, stored beside the ledger and never
//! read by it. Written once under a client id, read per convoy, and as the records the
//! evidence export hashes.

use diesel::prelude::*;

use crate::db::schema::claims;
use crate::db::DbConn;
use crate::domain::claim_hash::ClaimRecord;
use crate::store::{create_once, Created, StoreError};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = claims, treat_none_as_default_value = false)]
pub struct ClaimRow {
    pub id: String,
    pub convoy_id: String,
    pub source: String,
    pub url: Option<String>,
    pub published_at: i64,
    pub published_offset: i32,
    pub kg: i64,
    /// The quantity and unit as the client sent them (`"360"`, `t`).
    pub quantity: String,
    pub unit: String,
    pub trucks: Option<i32>,
    pub quote: Option<String>,
    pub body_sha256: String,
    pub created_by: String,
    pub created_at: i64,
}

pub fn find_claim(conn: &mut DbConn, id: &str) -> Result<Option<ClaimRow>, StoreError> {
    Ok(claims::table
        .find(id)
        .select(ClaimRow::as_select())
        .first(conn)
        .optional()?)
}

/// Stores a claim once under its id. The same id stored for another convoy, or with
/// another body, is a 409. `also` runs in the same transaction after the insert (marking
/// a published week whose report lists the convoy).
pub fn create_claim(
    conn: &mut DbConn,
    row: ClaimRow,
    also: impl FnOnce(&mut DbConn) -> Result<(), StoreError>,
) -> Result<Created<ClaimRow>, StoreError> {
    let (id, hash, convoy) = (
        row.id.clone(),
        row.body_sha256.clone(),
        row.convoy_id.clone(),
    );
    create_once(
        conn,
        "claim",
        &id,
        &hash,
        |c| {
            Ok(find_claim(c, &id)?.map(|r| {
                // A claim is answered as a replay only on its own convoy's path.
                let h = if r.convoy_id == convoy {
                    r.body_sha256.clone()
                } else {
                    format!("another convoy: {}", r.convoy_id)
                };
                (r, h)
            }))
        },
        |c| {
            diesel::insert_into(claims::table).values(&row).execute(c)?;
            also(c)?;
            Ok(row)
        },
    )
}

/// The claims of some convoys, each convoy's by publication time, then id.
pub fn claims_of(conn: &mut DbConn, convoy_ids: &[String]) -> Result<Vec<ClaimRow>, StoreError> {
    if convoy_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut rows = Vec::new();
    // Bounded IN lists, as every backend accepts them.
    for chunk in convoy_ids.chunks(500) {
        rows.extend(
            claims::table
                .filter(claims::convoy_id.eq_any(chunk))
                .select(ClaimRow::as_select())
                .load(conn)?,
        );
    }
    rows.sort_by(|a, b| {
        (&a.convoy_id, a.published_at, &a.id).cmp(&(&b.convoy_id, b.published_at, &b.id))
    });
    Ok(rows)
}

/// How many claims are stored.
pub fn count_claims(conn: &mut DbConn) -> Result<i64, StoreError> {
    Ok(claims::table.count().get_result(conn)?)
}

/// A claim's row as its hash covers it (`domain::claim_hash`).
pub fn claim_record(r: &ClaimRow) -> ClaimRecord {
    ClaimRecord {
        id: r.id.clone(),
        convoy_id: r.convoy_id.clone(),
        source: r.source.clone(),
        url: r.url.clone(),
        published_at: r.published_at,
        published_offset: r.published_offset,
        kg: r.kg,
        quantity: r.quantity.clone(),
        unit: r.unit.clone(),
        trucks: r.trucks,
        quote: r.quote.clone(),
        body_sha256: r.body_sha256.clone(),
        created_by: r.created_by.clone(),
        created_at: r.created_at,
    }
}
