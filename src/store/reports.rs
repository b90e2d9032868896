//! Requirements, the rollup reads a weekly report makes, published snapshots and the
//! notification outbox.

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use crate::db::schema::{report_dirty, report_snapshots, requirements, week_rollups};
use crate::db::DbConn;
use crate::store::rollups::{RollupKey, Sums};
use crate::store::StoreError;
use crate::store::{create_once, Created};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = requirements)]
pub struct RequirementRow {
    pub id: String,
    pub route_id: String,
    pub commodity_id: Option<String>,
    pub from_date: String,
    pub to_date: String,
    pub kg_per_day: i64,
    pub note: Option<String>,
    pub body_sha256: String,
    pub created_by: String,
    pub created_at: i64,
}

pub fn find_requirement(conn: &mut DbConn, id: &str) -> Result<Option<RequirementRow>, StoreError> {
    Ok(requirements::table
        .find(id)
        .select(RequirementRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn create_requirement(
    conn: &mut DbConn,
    row: RequirementRow,
) -> Result<Created<RequirementRow>, StoreError> {
    let (id, hash) = (row.id.clone(), row.body_sha256.clone());
    create_once(
        conn,
        "requirement",
        &id,
        &hash,
        |c| {
            Ok(find_requirement(c, &id)?.map(|r| {
                let h = r.body_sha256.clone();
                (r, h)
            }))
        },
        |c| {
            diesel::insert_into(requirements::table)
                .values(&row)
                .execute(c)?;
            Ok(row)
        },
    )
}

/// Requirements, optionally of one route, ordered by id after `cursor`.
pub fn list_requirements(
    conn: &mut DbConn,
    route_id: Option<&str>,
    cursor: Option<&str>,
    limit: i64,
) -> Result<Vec<RequirementRow>, StoreError> {
    let mut q = requirements::table
        .select(RequirementRow::as_select())
        .order(requirements::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(r) = route_id {
        q = q.filter(requirements::route_id.eq(r.to_string()));
    }
    if let Some(c) = cursor {
        q = q.filter(requirements::id.gt(c.to_string()));
    }
    Ok(q.load(conn)?)
}

/// A report's scope: all routes and organizations, or one of each.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub route_id: Option<String>,
    pub organization_id: Option<String>,
}

/// The rollup rows of some weeks, within the scope.
pub fn rollup_rows(
    conn: &mut DbConn,
    weeks: &[String],
    scope: &Scope,
) -> Result<Vec<(RollupKey, Sums)>, StoreError> {
    let mut q = week_rollups::table
        .filter(week_rollups::week.eq_any(weeks))
        .select((
            week_rollups::week,
            week_rollups::route_id,
            week_rollups::organization_id,
            week_rollups::commodity_id,
            Sums::as_select(),
        ))
        .into_boxed();
    if let Some(r) = &scope.route_id {
        q = q.filter(week_rollups::route_id.eq(r.clone()));
    }
    if let Some(o) = &scope.organization_id {
        q = q.filter(week_rollups::organization_id.eq(o.clone()));
    }
    let rows: Vec<(String, String, String, String, Sums)> = q.load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(week, route_id, organization_id, commodity_id, s)| {
            (
                RollupKey {
                    week,
                    route_id,
                    organization_id,
                    commodity_id,
                },
                s,
            )
        })
        .collect())
}

/// Sums of every rollup row of the weeks before `week` (an index range read; SUM runs in
/// the database and returns one row).
pub fn sums_before(conn: &mut DbConn, week: &str, scope: &Scope) -> Result<Sums, StoreError> {
    let mut q = week_rollups::table
        .filter(week_rollups::week.lt(week.to_string()))
        .select((
            sql::<BigInt>("CAST(COALESCE(SUM(planned_kg), 0) AS BIGINT)"),
            sql::<BigInt>("CAST(COALESCE(SUM(loaded_kg), 0) AS BIGINT)"),
            sql::<BigInt>("CAST(COALESCE(SUM(delivered_kg), 0) AS BIGINT)"),
            sql::<BigInt>("CAST(COALESCE(SUM(delivered_during_kg), 0) AS BIGINT)"),
            sql::<BigInt>("CAST(COALESCE(SUM(short_loaded_kg), 0) AS BIGINT)"),
            sql::<BigInt>("CAST(COALESCE(SUM(denied_kg), 0) AS BIGINT)"),
            sql::<BigInt>("CAST(COALESCE(SUM(lost_kg), 0) AS BIGINT)"),
            sql::<BigInt>("CAST(COALESCE(SUM(rejected_kg), 0) AS BIGINT)"),
            sql::<BigInt>("CAST(COALESCE(SUM(outstanding_kg), 0) AS BIGINT)"),
            sql::<BigInt>("CAST(COALESCE(SUM(cancelled_kg), 0) AS BIGINT)"),
        ))
        .into_boxed();
    if let Some(r) = &scope.route_id {
        q = q.filter(week_rollups::route_id.eq(r.clone()));
    }
    if let Some(o) = &scope.organization_id {
        q = q.filter(week_rollups::organization_id.eq(o.clone()));
    }
    let t: (i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) = q.first(conn)?;
    Ok(Sums {
        planned_kg: t.0,
        loaded_kg: t.1,
        delivered_kg: t.2,
        delivered_during_kg: t.3,
        short_loaded_kg: t.4,
        denied_kg: t.5,
        lost_kg: t.6,
        rejected_kg: t.7,
        outstanding_kg: t.8,
        cancelled_kg: t.9,
    })
}

/// The first week with any rollup, within the scope: when tracking began.
pub fn first_week(conn: &mut DbConn, scope: &Scope) -> Result<Option<String>, StoreError> {
    let mut q = week_rollups::table
        .select(week_rollups::week)
        .order(week_rollups::week.asc())
        .into_boxed();
    if let Some(r) = &scope.route_id {
        q = q.filter(week_rollups::route_id.eq(r.clone()));
    }
    if let Some(o) = &scope.organization_id {
        q = q.filter(week_rollups::organization_id.eq(o.clone()));
    }
    Ok(q.first(conn).optional()?)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = report_snapshots)]
pub struct SnapshotRow {
    pub week: String,
    pub revision: i32,
    pub timezone: String,
    pub sha256: String,
    pub body: String,
    pub model: String,
    pub published_at: i64,
    pub published_by: String,
    /// The chain heads it was computed from: JSON, convoy id → `store::chain::Head`
    /// (`None` for revisions published before chains).
    pub chain_heads: Option<String>,
    /// `domain::chain::root_digest` over those heads.
    pub chain_root: Option<String>,
}

pub fn latest_snapshot(conn: &mut DbConn, week: &str) -> Result<Option<SnapshotRow>, StoreError> {
    Ok(report_snapshots::table
        .filter(report_snapshots::week.eq(week))
        .order(report_snapshots::revision.desc())
        .select(SnapshotRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn snapshot(
    conn: &mut DbConn,
    week: &str,
    revision: i32,
) -> Result<Option<SnapshotRow>, StoreError> {
    Ok(report_snapshots::table
        .find((week, revision))
        .select(SnapshotRow::as_select())
        .first(conn)
        .optional()?)
}

/// A published revision without its body.
#[derive(Debug, Clone, Queryable)]
pub struct SnapshotHeader {
    pub week: String,
    pub revision: i32,
    pub timezone: String,
    pub sha256: String,
    pub published_at: i64,
    pub published_by: String,
    pub chain_heads: Option<String>,
    pub chain_root: Option<String>,
}

/// Every snapshot's header (without bodies), newest week first; only those of `week`
/// when one is given.
pub fn list_snapshots(
    conn: &mut DbConn,
    week: Option<&str>,
) -> Result<Vec<SnapshotHeader>, StoreError> {
    let mut q = report_snapshots::table.into_boxed();
    if let Some(week) = week {
        q = q.filter(report_snapshots::week.eq(week.to_string()));
    }
    Ok(q.order((
        report_snapshots::week.desc(),
        report_snapshots::revision.asc(),
    ))
    .select((
        report_snapshots::week,
        report_snapshots::revision,
        report_snapshots::timezone,
        report_snapshots::sha256,
        report_snapshots::published_at,
        report_snapshots::published_by,
        report_snapshots::chain_heads,
        report_snapshots::chain_root,
    ))
    .load(conn)?)
}

pub fn insert_snapshot(conn: &mut DbConn, row: &SnapshotRow) -> Result<(), StoreError> {
    diesel::insert_into(report_snapshots::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn dirty_weeks(conn: &mut DbConn) -> Result<Vec<String>, StoreError> {
    Ok(report_dirty::table
        .select(report_dirty::week)
        .order(report_dirty::week.asc())
        .load(conn)?)
}

pub fn clear_dirty(conn: &mut DbConn, week: &str) -> Result<(), StoreError> {
    diesel::delete(report_dirty::table.find(week)).execute(conn)?;
    Ok(())
}

/// A published revision's recorded chain heads.
#[derive(Debug, Clone, Queryable)]
pub struct RecordedHeads {
    pub week: String,
    pub revision: i32,
    pub sha256: String,
    pub chain_heads: Option<String>,
    pub chain_root: Option<String>,
}

/// The chain heads every revision recorded (those published since chains), in week and
/// revision order.
pub fn recorded_heads(conn: &mut DbConn) -> Result<Vec<RecordedHeads>, StoreError> {
    Ok(report_snapshots::table
        .filter(report_snapshots::chain_heads.is_not_null())
        .order((
            report_snapshots::week.asc(),
            report_snapshots::revision.asc(),
        ))
        .select((
            report_snapshots::week,
            report_snapshots::revision,
            report_snapshots::sha256,
            report_snapshots::chain_heads,
            report_snapshots::chain_root,
        ))
        .load(conn)?)
}
