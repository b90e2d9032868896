//! Weekly rollups: per ISO week, route, organization and commodity, the sums a weekly
//! report needs, kept current by adding each convoy's change in the same transaction as
//! the event that caused it — so a report reads a few rows, never the whole ledger.

use std::collections::BTreeMap;

use chrono_tz::Tz;
use diesel::prelude::*;

use crate::db::schema::{
    convoy_figures, convoys, deliveries, report_dirty, report_snapshots, rollup_state, week_rollups,
};
use crate::db::{from_micros, now_micros, DbConn};
use crate::domain::week::IsoWeek;
use crate::store::rows::{ConvoyRow, FiguresRow};
use crate::store::StoreError;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RollupKey {
    pub week: String,
    pub route_id: String,
    pub organization_id: String,
    pub commodity_id: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = week_rollups)]
pub struct Sums {
    pub planned_kg: i64,
    pub loaded_kg: i64,
    pub delivered_kg: i64,
    pub delivered_during_kg: i64,
    pub short_loaded_kg: i64,
    pub denied_kg: i64,
    pub lost_kg: i64,
    pub rejected_kg: i64,
    pub outstanding_kg: i64,
    pub cancelled_kg: i64,
}

impl Sums {
    pub fn add(&mut self, o: &Sums, sign: i64) {
        self.planned_kg += sign * o.planned_kg;
        self.loaded_kg += sign * o.loaded_kg;
        self.delivered_kg += sign * o.delivered_kg;
        self.delivered_during_kg += sign * o.delivered_during_kg;
        self.short_loaded_kg += sign * o.short_loaded_kg;
        self.denied_kg += sign * o.denied_kg;
        self.lost_kg += sign * o.lost_kg;
        self.rejected_kg += sign * o.rejected_kg;
        self.outstanding_kg += sign * o.outstanding_kg;
        self.cancelled_kg += sign * o.cancelled_kg;
    }

    fn is_zero(&self) -> bool {
        *self == Sums::default()
    }

    /// A convoy's figures for one commodity. A cancelled convoy leaves the planned
    /// figures and counts only as cancelled tonnes.
    fn of_figures(f: &FiguresRow) -> Sums {
        if f.cancelled_kg > 0 {
            return Sums {
                cancelled_kg: f.cancelled_kg,
                ..Sums::default()
            };
        }
        Sums {
            planned_kg: f.planned_kg,
            loaded_kg: f.loaded_kg,
            delivered_kg: f.delivered_kg,
            delivered_during_kg: 0,
            short_loaded_kg: f.short_loaded_kg,
            denied_kg: f.denied_kg,
            lost_kg: f.lost_kg,
            rejected_kg: f.rejected_kg,
            outstanding_kg: f.outstanding_kg,
            cancelled_kg: 0,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = deliveries)]
pub struct DeliveryRow {
    pub event_id: String,
    pub commodity_id: String,
    pub convoy_id: String,
    pub observed_at: i64,
    pub kg: i64,
}

pub type Deltas = BTreeMap<RollupKey, Sums>;

/// Adds (`sign` 1) or removes (`sign` -1) one convoy's contribution.
pub fn contribute(
    deltas: &mut Deltas,
    tz: Tz,
    convoy: &ConvoyRow,
    figures: &[FiguresRow],
    receipts: &[DeliveryRow],
    sign: i64,
) {
    let key = |week: IsoWeek, commodity_id: &str| RollupKey {
        week: week.key(),
        route_id: convoy.route_id.clone(),
        organization_id: convoy.organization_id.clone(),
        commodity_id: commodity_id.to_string(),
    };
    let arrival_week = IsoWeek::containing(from_micros(convoy.expected_arrival), tz);
    for f in figures {
        deltas
            .entry(key(arrival_week, &f.commodity_id))
            .or_default()
            .add(&Sums::of_figures(f), sign);
    }
    for r in receipts {
        let week = IsoWeek::containing(from_micros(r.observed_at), tz);
        let during = Sums {
            delivered_during_kg: r.kg,
            ..Sums::default()
        };
        deltas
            .entry(key(week, &r.commodity_id))
            .or_default()
            .add(&during, sign);
    }
}

/// Adds the deltas to the rollup rows, in key order (a consistent lock order for
/// concurrent writers), and marks published weeks whose figures changed.
pub fn apply(conn: &mut DbConn, deltas: &Deltas) -> Result<(), StoreError> {
    let mut weeks: Vec<&str> = Vec::new();
    for (k, d) in deltas.iter().filter(|(_, d)| !d.is_zero()) {
        add_row(conn, k, d)?;
        if !weeks.contains(&k.week.as_str()) {
            weeks.push(&k.week);
        }
    }
    mark_published_dirty(conn, &weeks)
}

/// Marks those of `weeks` that have a published revision as changed, so that the
/// publisher makes a new revision of them (late data, or a new claim about a convoy
/// their report lists).
pub fn mark_published_dirty(conn: &mut DbConn, weeks: &[&str]) -> Result<(), StoreError> {
    if weeks.is_empty() {
        return Ok(());
    }
    let published: Vec<String> = report_snapshots::table
        .filter(report_snapshots::week.eq_any(weeks))
        .select(report_snapshots::week)
        .distinct()
        .load(conn)?;
    let marked: Vec<String> = report_dirty::table
        .filter(report_dirty::week.eq_any(&published))
        .select(report_dirty::week)
        .load(conn)?;
    for week in published.iter().filter(|w| !marked.contains(w)) {
        diesel::insert_into(report_dirty::table)
            .values((
                report_dirty::week.eq(week),
                report_dirty::marked_at.eq(now_micros()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

fn add_row(conn: &mut DbConn, k: &RollupKey, d: &Sums) -> Result<(), StoreError> {
    let target = week_rollups::table
        .filter(week_rollups::week.eq(&k.week))
        .filter(week_rollups::route_id.eq(&k.route_id))
        .filter(week_rollups::organization_id.eq(&k.organization_id))
        .filter(week_rollups::commodity_id.eq(&k.commodity_id));
    let update = |conn: &mut DbConn| {
        diesel::update(target)
            .set((
                week_rollups::planned_kg.eq(week_rollups::planned_kg + d.planned_kg),
                week_rollups::loaded_kg.eq(week_rollups::loaded_kg + d.loaded_kg),
                week_rollups::delivered_kg.eq(week_rollups::delivered_kg + d.delivered_kg),
                week_rollups::delivered_during_kg
                    .eq(week_rollups::delivered_during_kg + d.delivered_during_kg),
                week_rollups::short_loaded_kg.eq(week_rollups::short_loaded_kg + d.short_loaded_kg),
                week_rollups::denied_kg.eq(week_rollups::denied_kg + d.denied_kg),
                week_rollups::lost_kg.eq(week_rollups::lost_kg + d.lost_kg),
                week_rollups::rejected_kg.eq(week_rollups::rejected_kg + d.rejected_kg),
                week_rollups::outstanding_kg.eq(week_rollups::outstanding_kg + d.outstanding_kg),
                week_rollups::cancelled_kg.eq(week_rollups::cancelled_kg + d.cancelled_kg),
            ))
            .execute(conn)
    };
    if update(conn)? > 0 {
        return Ok(());
    }
    let insert = |conn: &mut DbConn| {
        diesel::insert_into(week_rollups::table)
            .values((
                week_rollups::week.eq(&k.week),
                week_rollups::route_id.eq(&k.route_id),
                week_rollups::organization_id.eq(&k.organization_id),
                week_rollups::commodity_id.eq(&k.commodity_id),
                week_rollups::planned_kg.eq(d.planned_kg),
                week_rollups::loaded_kg.eq(d.loaded_kg),
                week_rollups::delivered_kg.eq(d.delivered_kg),
                week_rollups::delivered_during_kg.eq(d.delivered_during_kg),
                week_rollups::short_loaded_kg.eq(d.short_loaded_kg),
                week_rollups::denied_kg.eq(d.denied_kg),
                week_rollups::lost_kg.eq(d.lost_kg),
                week_rollups::rejected_kg.eq(d.rejected_kg),
                week_rollups::outstanding_kg.eq(d.outstanding_kg),
                week_rollups::cancelled_kg.eq(d.cancelled_kg),
            ))
            .execute(conn)
    };
    // A concurrent writer may insert the same new row first: the savepoint keeps the
    // failed insert from aborting this transaction, and the update then applies.
    match conn.transaction(|c| insert(c)) {
        Ok(_) => Ok(()),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => {
            update(conn)?;
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// The time zone the rollups were computed in, if any.
pub fn stored_timezone(conn: &mut DbConn) -> Result<Option<String>, StoreError> {
    Ok(rollup_state::table
        .find(1)
        .select(rollup_state::timezone)
        .first(conn)
        .optional()?)
}

/// Makes the rollups match `tz`: on first start records it; if the deployment's time zone
/// changed, recomputes every rollup from the stored convoy figures and receipts.
pub fn ensure_timezone(conn: &mut DbConn, tz: Tz) -> Result<bool, StoreError> {
    let wanted = tz.name().to_string();
    match stored_timezone(conn)? {
        Some(current) if current == wanted => Ok(false),
        current => {
            crate::db::write_tx(conn, |c| {
                diesel::delete(week_rollups::table).execute(c)?;
                let all: Vec<ConvoyRow> = convoys::table.select(ConvoyRow::as_select()).load(c)?;
                for chunk in all.chunks(500) {
                    let ids: Vec<&str> = chunk.iter().map(|r| r.id.as_str()).collect();
                    let figures: Vec<FiguresRow> = convoy_figures::table
                        .filter(convoy_figures::convoy_id.eq_any(&ids))
                        .select(FiguresRow::as_select())
                        .load(c)?;
                    let receipts: Vec<DeliveryRow> = deliveries::table
                        .filter(deliveries::convoy_id.eq_any(&ids))
                        .select(DeliveryRow::as_select())
                        .load(c)?;
                    let mut deltas = Deltas::new();
                    for convoy in chunk {
                        let f: Vec<FiguresRow> = figures
                            .iter()
                            .filter(|f| f.convoy_id == convoy.id)
                            .cloned()
                            .collect();
                        let r: Vec<DeliveryRow> = receipts
                            .iter()
                            .filter(|r| r.convoy_id == convoy.id)
                            .cloned()
                            .collect();
                        contribute(&mut deltas, tz, convoy, &f, &r, 1);
                    }
                    apply(c, &deltas)?;
                }
                diesel::delete(rollup_state::table).execute(c)?;
                diesel::insert_into(rollup_state::table)
                    .values((rollup_state::id.eq(1), rollup_state::timezone.eq(&wanted)))
                    .execute(c)?;
                Ok::<_, StoreError>(())
            })?;
            if let Some(previous) = current {
                tracing::warn!(from = %previous, to = %wanted, "the deployment time zone changed; weekly rollups were rebuilt");
            }
            Ok(true)
        }
    }
}

/// The rollup time zone, for writers (set at start-up by `ensure_timezone`).
pub fn timezone(conn: &mut DbConn) -> Result<Tz, StoreError> {
    let name = stored_timezone(conn)?.unwrap_or_else(|| "UTC".to_string());
    name.parse::<Tz>().map_err(|_| {
        StoreError::Internal(anyhow::anyhow!("stored rollup time zone {name} is invalid"))
    })
}
