//! The stored per-convoy figures that shortfall summaries add up.

use diesel::prelude::*;

use crate::db::schema::{convoy_figures, convoy_losses, convoys};
use crate::db::DbConn;
use crate::store::convoys::{FiguresRow, LossRow};
use crate::store::StoreError;

/// The convoy fields a summary groups by.
#[derive(Debug, Clone, Queryable)]
pub struct ConvoyKey {
    pub id: String,
    pub reference: String,
    pub organization_id: String,
    pub route_id: String,
    pub status: String,
}

pub struct ShortfallData {
    pub convoys: Vec<ConvoyKey>,
    pub figures: Vec<FiguresRow>,
    pub losses: Vec<LossRow>,
}

/// Figures and losses of the convoys expected to arrive in [from, to) (UTC µs).
pub fn load(
    conn: &mut DbConn,
    from: i64,
    to: i64,
    organization_id: Option<&str>,
    route_id: Option<&str>,
) -> Result<ShortfallData, StoreError> {
    let mut q = convoys::table
        .filter(convoys::expected_arrival.ge(from))
        .filter(convoys::expected_arrival.lt(to))
        .select((
            convoys::id,
            convoys::reference,
            convoys::organization_id,
            convoys::route_id,
            convoys::status,
        ))
        .order((convoys::expected_arrival.asc(), convoys::id.asc()))
        .into_boxed();
    if let Some(o) = organization_id {
        q = q.filter(convoys::organization_id.eq(o.to_string()));
    }
    if let Some(r) = route_id {
        q = q.filter(convoys::route_id.eq(r.to_string()));
    }
    let keys: Vec<ConvoyKey> = q.load(conn)?;
    let ids: Vec<&str> = keys.iter().map(|k| k.id.as_str()).collect();
    let mut figures = Vec::new();
    let mut losses = Vec::new();
    // Bounded IN lists keep SQLite under its bound-parameter limit.
    for chunk in ids.chunks(500) {
        figures.extend(
            convoy_figures::table
                .filter(convoy_figures::convoy_id.eq_any(chunk))
                .select(FiguresRow::as_select())
                .load(conn)?,
        );
        losses.extend(
            convoy_losses::table
                .filter(convoy_losses::convoy_id.eq_any(chunk))
                .select(LossRow::as_select())
                .load(conn)?,
        );
    }
    Ok(ShortfallData {
        convoys: keys,
        figures,
        losses,
    })
}
