//! Organizations, checkpoints, commodities and routes: the reference data that convoys,
//! events and reports point to.

use diesel::prelude::*;

use std::collections::HashMap;

use crate::db::schema::{
    checkpoints, commodities, convoys, manifest_lines, organizations, route_checkpoints, routes,
    tokens,
};
use crate::db::{now_micros, write_tx, DbConn};
use crate::store::StoreError;
use crate::store::{create_once, Created};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = organizations)]
pub struct Organization {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub body_sha256: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = checkpoints)]
pub struct Checkpoint {
    pub id: String,
    pub code: String,
    pub name: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub max_dwell_minutes: i32,
    pub body_sha256: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = commodities)]
pub struct Commodity {
    pub id: String,
    pub code: String,
    pub name: String,
    pub density_mg_per_l: Option<i64>,
    pub body_sha256: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = routes)]
pub struct RouteRow {
    pub id: String,
    pub code: String,
    pub name: String,
    pub body_sha256: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = route_checkpoints)]
pub struct RouteCheckpointRow {
    pub route_id: String,
    pub position: i32,
    pub checkpoint_id: String,
    pub leg_minutes: i32,
}

/// One stop of a route with its checkpoint resolved.
#[derive(Debug, Clone)]
pub struct RouteStop {
    pub position: i32,
    pub checkpoint: Checkpoint,
    pub leg_minutes: i32,
}

#[derive(Debug, Clone)]
pub struct Route {
    pub row: RouteRow,
    pub stops: Vec<RouteStop>,
}

/// A page of records ordered by their code, and the cursor for the next one.
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

fn page<T>(mut items: Vec<T>, limit: i64, key: impl Fn(&T) -> String) -> Page<T> {
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(&key)
    } else {
        None
    };
    Page { items, next_cursor }
}

/// Whether a path segment is a record id (UUID) rather than a code or slug.
fn is_uuid(key: &str) -> bool {
    uuid::Uuid::parse_str(key).is_ok()
}

// ---------------------------------------------------------------- organizations

pub fn find_organization(conn: &mut DbConn, key: &str) -> Result<Option<Organization>, StoreError> {
    let q = organizations::table.select(Organization::as_select());
    let found = if is_uuid(key) {
        q.filter(organizations::id.eq(key)).first(conn).optional()?
    } else {
        q.filter(organizations::slug.eq(key))
            .first(conn)
            .optional()?
    };
    Ok(found)
}

pub fn get_organization(conn: &mut DbConn, key: &str) -> Result<Organization, StoreError> {
    find_organization(conn, key)?
        .ok_or_else(|| StoreError::NotFound(format!("organization {key} does not exist")))
}

/// The slugs of these organizations, by id, in one query.
pub fn organization_slugs(
    conn: &mut DbConn,
    ids: &[&str],
) -> Result<HashMap<String, String>, StoreError> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<(String, String)> = organizations::table
            .filter(organizations::id.eq_any(chunk))
            .select((organizations::id, organizations::slug))
            .load(conn)?;
        out.extend(rows);
    }
    Ok(out)
}

pub fn list_organizations(
    conn: &mut DbConn,
    cursor: Option<&str>,
    limit: i64,
) -> Result<Page<Organization>, StoreError> {
    let mut q = organizations::table
        .select(Organization::as_select())
        .order(organizations::slug.asc())
        .limit(limit + 1)
        .into_boxed();
    if let Some(c) = cursor {
        q = q.filter(organizations::slug.gt(c.to_string()));
    }
    Ok(page(q.load(conn)?, limit, |o| o.slug.clone()))
}

pub fn create_organization(
    conn: &mut DbConn,
    new: Organization,
) -> Result<Created<Organization>, StoreError> {
    let (id, hash) = (new.id.clone(), new.body_sha256.clone());
    create_once(
        conn,
        "organization",
        &id,
        &hash,
        |c| {
            Ok(find_organization(c, &id)?.map(|o| {
                let h = o.body_sha256.clone();
                (o, h)
            }))
        },
        |c| {
            if find_organization(c, &new.slug)?.is_some() {
                return Err(StoreError::Conflict(format!(
                    "organization slug {} is already taken",
                    new.slug
                )));
            }
            diesel::insert_into(organizations::table)
                .values(&new)
                .execute(c)?;
            Ok(new)
        },
    )
}

pub fn update_organization(
    conn: &mut DbConn,
    key: &str,
    name: Option<String>,
) -> Result<Organization, StoreError> {
    write_tx(conn, |c| {
        let org = get_organization(c, key)?;
        if let Some(name) = name {
            diesel::update(organizations::table.find(&org.id))
                .set((
                    organizations::name.eq(name),
                    organizations::updated_at.eq(now_micros()),
                ))
                .execute(c)?;
        }
        get_organization(c, &org.id)
    })
}

pub fn delete_organization(conn: &mut DbConn, key: &str) -> Result<(), StoreError> {
    write_tx(conn, |c| {
        let org = get_organization(c, key)?;
        let token_count: i64 = tokens::table
            .filter(tokens::organization_id.eq(&org.id))
            .count()
            .get_result(c)?;
        if token_count > 0 {
            return Err(StoreError::Conflict(format!(
                "organization {} is referenced by {token_count} token(s) and cannot be deleted",
                org.slug
            )));
        }
        ensure_organization_unreferenced(c, &org)?;
        diesel::delete(organizations::table.find(&org.id)).execute(c)?;
        Ok(())
    })
}

// ---------------------------------------------------------------- checkpoints

pub fn find_checkpoint(conn: &mut DbConn, key: &str) -> Result<Option<Checkpoint>, StoreError> {
    let q = checkpoints::table.select(Checkpoint::as_select());
    let found = if is_uuid(key) {
        q.filter(checkpoints::id.eq(key)).first(conn).optional()?
    } else {
        q.filter(checkpoints::code.eq(key)).first(conn).optional()?
    };
    Ok(found)
}

pub fn get_checkpoint(conn: &mut DbConn, key: &str) -> Result<Checkpoint, StoreError> {
    find_checkpoint(conn, key)?
        .ok_or_else(|| StoreError::NotFound(format!("checkpoint {key} does not exist")))
}

pub fn list_checkpoints(
    conn: &mut DbConn,
    cursor: Option<&str>,
    limit: i64,
) -> Result<Page<Checkpoint>, StoreError> {
    let mut q = checkpoints::table
        .select(Checkpoint::as_select())
        .order(checkpoints::code.asc())
        .limit(limit + 1)
        .into_boxed();
    if let Some(c) = cursor {
        q = q.filter(checkpoints::code.gt(c.to_string()));
    }
    Ok(page(q.load(conn)?, limit, |o| o.code.clone()))
}

pub fn create_checkpoint(
    conn: &mut DbConn,
    new: Checkpoint,
) -> Result<Created<Checkpoint>, StoreError> {
    let (id, hash) = (new.id.clone(), new.body_sha256.clone());
    create_once(
        conn,
        "checkpoint",
        &id,
        &hash,
        |c| {
            Ok(find_checkpoint(c, &id)?.map(|o| {
                let h = o.body_sha256.clone();
                (o, h)
            }))
        },
        |c| {
            if find_checkpoint(c, &new.code)?.is_some() {
                return Err(StoreError::Conflict(format!(
                    "checkpoint code {} is already taken",
                    new.code
                )));
            }
            diesel::insert_into(checkpoints::table)
                .values(&new)
                .execute(c)?;
            Ok(new)
        },
    )
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = checkpoints)]
pub struct CheckpointChanges {
    pub name: Option<String>,
    pub lat: Option<Option<f64>>,
    pub lon: Option<Option<f64>>,
    pub max_dwell_minutes: Option<i32>,
}

pub fn update_checkpoint(
    conn: &mut DbConn,
    key: &str,
    changes: CheckpointChanges,
) -> Result<Checkpoint, StoreError> {
    write_tx(conn, |c| {
        let cp = get_checkpoint(c, key)?;
        diesel::update(checkpoints::table.find(&cp.id))
            .set((&changes, checkpoints::updated_at.eq(now_micros())))
            .execute(c)?;
        get_checkpoint(c, &cp.id)
    })
}

pub fn delete_checkpoint(conn: &mut DbConn, key: &str) -> Result<(), StoreError> {
    write_tx(conn, |c| {
        let cp = get_checkpoint(c, key)?;
        let used_by: Vec<String> = route_checkpoints::table
            .inner_join(routes::table)
            .filter(route_checkpoints::checkpoint_id.eq(&cp.id))
            .select(routes::code)
            .distinct()
            .load(c)?;
        if !used_by.is_empty() {
            return Err(StoreError::Conflict(format!(
                "checkpoint {} is on route(s) {} and cannot be deleted",
                cp.code,
                used_by.join(", ")
            )));
        }
        diesel::delete(checkpoints::table.find(&cp.id)).execute(c)?;
        Ok(())
    })
}

// ---------------------------------------------------------------- commodities

pub fn find_commodity(conn: &mut DbConn, key: &str) -> Result<Option<Commodity>, StoreError> {
    let q = commodities::table.select(Commodity::as_select());
    let found = if is_uuid(key) {
        q.filter(commodities::id.eq(key)).first(conn).optional()?
    } else {
        q.filter(commodities::code.eq(key)).first(conn).optional()?
    };
    Ok(found)
}

pub fn get_commodity(conn: &mut DbConn, key: &str) -> Result<Commodity, StoreError> {
    find_commodity(conn, key)?
        .ok_or_else(|| StoreError::NotFound(format!("commodity {key} does not exist")))
}

pub fn list_commodities(
    conn: &mut DbConn,
    cursor: Option<&str>,
    limit: i64,
) -> Result<Page<Commodity>, StoreError> {
    let mut q = commodities::table
        .select(Commodity::as_select())
        .order(commodities::code.asc())
        .limit(limit + 1)
        .into_boxed();
    if let Some(c) = cursor {
        q = q.filter(commodities::code.gt(c.to_string()));
    }
    Ok(page(q.load(conn)?, limit, |o| o.code.clone()))
}

pub fn create_commodity(
    conn: &mut DbConn,
    new: Commodity,
) -> Result<Created<Commodity>, StoreError> {
    let (id, hash) = (new.id.clone(), new.body_sha256.clone());
    create_once(
        conn,
        "commodity",
        &id,
        &hash,
        |c| {
            Ok(find_commodity(c, &id)?.map(|o| {
                let h = o.body_sha256.clone();
                (o, h)
            }))
        },
        |c| {
            if find_commodity(c, &new.code)?.is_some() {
                return Err(StoreError::Conflict(format!(
                    "commodity code {} is already taken",
                    new.code
                )));
            }
            diesel::insert_into(commodities::table)
                .values(&new)
                .execute(c)?;
            Ok(new)
        },
    )
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = commodities)]
pub struct CommodityChanges {
    pub name: Option<String>,
    pub density_mg_per_l: Option<Option<i64>>,
}

pub fn update_commodity(
    conn: &mut DbConn,
    key: &str,
    changes: CommodityChanges,
) -> Result<Commodity, StoreError> {
    write_tx(conn, |c| {
        let co = get_commodity(c, key)?;
        if changes.density_mg_per_l.is_some() {
            ensure_commodity_density_changeable(c, &co)?;
        }
        diesel::update(commodities::table.find(&co.id))
            .set((&changes, commodities::updated_at.eq(now_micros())))
            .execute(c)?;
        get_commodity(c, &co.id)
    })
}

pub fn delete_commodity(conn: &mut DbConn, key: &str) -> Result<(), StoreError> {
    write_tx(conn, |c| {
        let co = get_commodity(c, key)?;
        ensure_commodity_unreferenced(c, &co)?;
        diesel::delete(commodities::table.find(&co.id)).execute(c)?;
        Ok(())
    })
}

// ---------------------------------------------------------------- routes

fn load_stops(conn: &mut DbConn, route_id: &str) -> Result<Vec<RouteStop>, StoreError> {
    let rows: Vec<(RouteCheckpointRow, Checkpoint)> = route_checkpoints::table
        .inner_join(checkpoints::table)
        .filter(route_checkpoints::route_id.eq(route_id))
        .order(route_checkpoints::position.asc())
        .select((RouteCheckpointRow::as_select(), Checkpoint::as_select()))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(rc, checkpoint)| RouteStop {
            position: rc.position,
            checkpoint,
            leg_minutes: rc.leg_minutes,
        })
        .collect())
}

pub fn find_route(conn: &mut DbConn, key: &str) -> Result<Option<Route>, StoreError> {
    let q = routes::table.select(RouteRow::as_select());
    let row = if is_uuid(key) {
        q.filter(routes::id.eq(key)).first(conn).optional()?
    } else {
        q.filter(routes::code.eq(key)).first(conn).optional()?
    };
    match row {
        Some(row) => {
            let stops = load_stops(conn, &row.id)?;
            Ok(Some(Route { row, stops }))
        }
        None => Ok(None),
    }
}

pub fn get_route(conn: &mut DbConn, key: &str) -> Result<Route, StoreError> {
    find_route(conn, key)?
        .ok_or_else(|| StoreError::NotFound(format!("route {key} does not exist")))
}

pub fn list_routes(
    conn: &mut DbConn,
    cursor: Option<&str>,
    limit: i64,
) -> Result<Page<Route>, StoreError> {
    let mut q = routes::table
        .select(RouteRow::as_select())
        .order(routes::code.asc())
        .limit(limit + 1)
        .into_boxed();
    if let Some(c) = cursor {
        q = q.filter(routes::code.gt(c.to_string()));
    }
    let rows = page(q.load(conn)?, limit, |r| r.code.clone());
    let mut items = Vec::with_capacity(rows.items.len());
    for row in rows.items {
        let stops = load_stops(conn, &row.id)?;
        items.push(Route { row, stops });
    }
    Ok(Page {
        items,
        next_cursor: rows.next_cursor,
    })
}

/// A route's stops as given by a client: checkpoint codes and leg minutes.
pub struct NewStop {
    pub checkpoint: String,
    pub leg_minutes: i32,
}

/// Resolves checkpoint codes, reporting unknown ones by their index in the request.
fn resolve_stops(conn: &mut DbConn, stops: &[NewStop]) -> Result<Vec<(String, i32)>, StoreError> {
    let mut resolved = Vec::with_capacity(stops.len());
    let mut errors = Vec::new();
    for (i, stop) in stops.iter().enumerate() {
        match find_checkpoint(conn, &stop.checkpoint)? {
            Some(cp) => resolved.push((cp.id, stop.leg_minutes)),
            None => errors.push(crate::domain::FieldError::new(
                format!("checkpoints[{i}].checkpoint"),
                format!(
                    "checkpoint {} does not exist; create it first with POST /api/v1/checkpoints",
                    stop.checkpoint
                ),
            )),
        }
    }
    if errors.is_empty() {
        Ok(resolved)
    } else {
        Err(StoreError::invalid(errors))
    }
}

fn insert_stops(
    conn: &mut DbConn,
    route_id: &str,
    stops: &[(String, i32)],
) -> Result<(), StoreError> {
    for (position, (checkpoint_id, leg_minutes)) in stops.iter().enumerate() {
        diesel::insert_into(route_checkpoints::table)
            .values(RouteCheckpointRow {
                route_id: route_id.to_string(),
                position: position as i32,
                checkpoint_id: checkpoint_id.clone(),
                leg_minutes: *leg_minutes,
            })
            .execute(conn)?;
    }
    Ok(())
}

pub fn create_route(
    conn: &mut DbConn,
    row: RouteRow,
    stops: Vec<NewStop>,
) -> Result<Created<Route>, StoreError> {
    let (id, hash) = (row.id.clone(), row.body_sha256.clone());
    create_once(
        conn,
        "route",
        &id,
        &hash,
        |c| {
            Ok(find_route(c, &id)?.map(|r| {
                let h = r.row.body_sha256.clone();
                (r, h)
            }))
        },
        |c| {
            if find_route(c, &row.code)?.is_some() {
                return Err(StoreError::Conflict(format!(
                    "route code {} is already taken",
                    row.code
                )));
            }
            let resolved = resolve_stops(c, &stops)?;
            diesel::insert_into(routes::table).values(&row).execute(c)?;
            insert_stops(c, &row.id, &resolved)?;
            get_route(c, &row.id)
        },
    )
}

pub fn update_route(
    conn: &mut DbConn,
    key: &str,
    name: Option<String>,
    stops: Option<Vec<NewStop>>,
) -> Result<Route, StoreError> {
    write_tx(conn, |c| {
        let route = get_route(c, key)?;
        if let Some(name) = name {
            diesel::update(routes::table.find(&route.row.id))
                .set(routes::name.eq(name))
                .execute(c)?;
        }
        if let Some(stops) = stops {
            let resolved = resolve_stops(c, &stops)?;
            let same_checkpoints = resolved.len() == route.stops.len()
                && resolved
                    .iter()
                    .zip(&route.stops)
                    .all(|((id, _), s)| *id == s.checkpoint.id);
            if !same_checkpoints {
                ensure_route_unreferenced(c, &route.row, "given other checkpoints")?;
            }
            diesel::delete(
                route_checkpoints::table.filter(route_checkpoints::route_id.eq(&route.row.id)),
            )
            .execute(c)?;
            insert_stops(c, &route.row.id, &resolved)?;
        }
        diesel::update(routes::table.find(&route.row.id))
            .set(routes::updated_at.eq(now_micros()))
            .execute(c)?;
        get_route(c, &route.row.id)
    })
}

pub fn delete_route(conn: &mut DbConn, key: &str) -> Result<(), StoreError> {
    write_tx(conn, |c| {
        let route = get_route(c, key)?;
        ensure_route_unreferenced(c, &route.row, "deleted")?;
        diesel::delete(
            route_checkpoints::table.filter(route_checkpoints::route_id.eq(&route.row.id)),
        )
        .execute(c)?;
        diesel::delete(routes::table.find(&route.row.id)).execute(c)?;
        Ok(())
    })
}

// ------------------------------------------------------------- names for display

/// The codes the domain speaks, for the ids the database stores.
#[derive(Debug, Default, Clone)]
pub struct Codes {
    pub checkpoints: HashMap<String, String>,
    pub commodities: HashMap<String, String>,
}

impl Codes {
    pub fn load(conn: &mut DbConn) -> Result<Codes, StoreError> {
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

    pub fn checkpoint_id(&self, code: &str) -> Option<String> {
        self.checkpoints
            .iter()
            .find(|(_, c)| c.as_str() == code)
            .map(|(id, _)| id.clone())
    }

    pub fn commodity_id(&self, code: &str) -> Option<String> {
        self.commodities
            .iter()
            .find(|(_, c)| c.as_str() == code)
            .map(|(id, _)| id.clone())
    }
}

/// The names answers show for reference ids — organization slugs and names, route codes,
/// names and ends, checkpoint and commodity codes and names — loaded together, whole: the
/// one loader every view and report uses.
pub struct Names {
    /// Organization id → slug.
    pub organizations: HashMap<String, String>,
    /// Organization id → name.
    pub organization_names: HashMap<String, String>,
    /// Route id → code.
    pub routes: HashMap<String, String>,
    /// Route id → name.
    pub route_names: HashMap<String, String>,
    /// Route id → (origin, destination) checkpoint codes.
    pub route_ends: HashMap<String, (String, String)>,
    /// Route id → its checkpoint codes in travel order.
    pub route_stops: HashMap<String, Vec<String>>,
    /// Checkpoint id → name.
    pub checkpoint_names: HashMap<String, String>,
    /// Commodity id → name.
    pub commodity_names: HashMap<String, String>,
    /// Checkpoint and commodity id → code.
    pub codes: Codes,
}

impl Names {
    pub fn load(conn: &mut DbConn) -> Result<Names, StoreError> {
        let orgs: Vec<(String, String, String)> = organizations::table
            .select((organizations::id, organizations::slug, organizations::name))
            .load(conn)?;
        let route_rows: Vec<(String, String, String)> = routes::table
            .select((routes::id, routes::code, routes::name))
            .load(conn)?;
        let cps: Vec<(String, String, String)> = checkpoints::table
            .select((checkpoints::id, checkpoints::code, checkpoints::name))
            .load(conn)?;
        let cos: Vec<(String, String, String)> = commodities::table
            .select((commodities::id, commodities::code, commodities::name))
            .load(conn)?;
        let stops: Vec<(String, String)> = route_checkpoints::table
            .order((
                route_checkpoints::route_id.asc(),
                route_checkpoints::position.asc(),
            ))
            .select((
                route_checkpoints::route_id,
                route_checkpoints::checkpoint_id,
            ))
            .load(conn)?;
        let codes = Codes {
            checkpoints: cps
                .iter()
                .map(|(id, code, _)| (id.clone(), code.clone()))
                .collect(),
            commodities: cos
                .iter()
                .map(|(id, code, _)| (id.clone(), code.clone()))
                .collect(),
        };
        let mut route_ends: HashMap<String, (String, String)> = HashMap::new();
        let mut route_stops: HashMap<String, Vec<String>> = HashMap::new();
        for (route, checkpoint) in &stops {
            let code = codes.checkpoint(checkpoint);
            route_stops
                .entry(route.clone())
                .or_default()
                .push(code.clone());
            route_ends
                .entry(route.clone())
                .and_modify(|ends| ends.1.clone_from(&code))
                .or_insert_with(|| (code.clone(), code));
        }
        let pairs = |rows: &[(String, String, String)], name: bool| -> HashMap<String, String> {
            rows.iter()
                .map(|(id, code, n)| (id.clone(), if name { n.clone() } else { code.clone() }))
                .collect()
        };
        Ok(Names {
            organizations: pairs(&orgs, false),
            organization_names: pairs(&orgs, true),
            routes: pairs(&route_rows, false),
            route_names: pairs(&route_rows, true),
            route_ends,
            route_stops,
            checkpoint_names: pairs(&cps, true),
            commodity_names: pairs(&cos, true),
            codes,
        })
    }
}

// ------------------------------------------------------------- in use

/// Whether any convoy uses this route, organization or commodity (reference data that
/// is in use cannot be deleted).
pub fn route_in_use(conn: &mut DbConn, route_id: &str) -> Result<i64, StoreError> {
    Ok(convoys::table
        .filter(convoys::route_id.eq(route_id))
        .count()
        .get_result(conn)?)
}

pub fn organization_in_use(conn: &mut DbConn, organization_id: &str) -> Result<i64, StoreError> {
    Ok(convoys::table
        .filter(convoys::organization_id.eq(organization_id))
        .count()
        .get_result(conn)?)
}

pub fn commodity_in_use(conn: &mut DbConn, commodity_id: &str) -> Result<i64, StoreError> {
    Ok(manifest_lines::table
        .filter(manifest_lines::commodity_id.eq(commodity_id))
        .count()
        .get_result(conn)?)
}

/// Ok when nothing uses the record; otherwise a 409 saying how many records do.
fn unused(count: i64, message: impl FnOnce(i64) -> String) -> Result<(), StoreError> {
    match count {
        0 => Ok(()),
        n => Err(StoreError::Conflict(message(n))),
    }
}

pub fn ensure_organization_unreferenced(
    conn: &mut DbConn,
    org: &Organization,
) -> Result<(), StoreError> {
    unused(organization_in_use(conn, &org.id)?, |n| {
        format!(
            "organization {} owns {n} convoy(s) and cannot be deleted",
            org.slug
        )
    })
}

pub fn ensure_commodity_unreferenced(
    conn: &mut DbConn,
    commodity: &Commodity,
) -> Result<(), StoreError> {
    unused(commodity_in_use(conn, &commodity.id)?, |n| {
        format!(
            "commodity {} is on {n} convoy manifest line(s) and cannot be deleted",
            commodity.code
        )
    })
}

/// A density converts litres already recorded into kilograms; changing it would not
/// change those kilograms, so it is refused once cargo of the commodity is recorded.
pub fn ensure_commodity_density_changeable(
    conn: &mut DbConn,
    commodity: &Commodity,
) -> Result<(), StoreError> {
    unused(commodity_in_use(conn, &commodity.id)?, |n| {
        format!(
            "commodity {} is on {n} convoy manifest line(s); its density cannot change under recorded cargo — create a new commodity instead",
            commodity.code
        )
    })
}

pub fn ensure_route_unreferenced(
    conn: &mut DbConn,
    route: &RouteRow,
    why: &str,
) -> Result<(), StoreError> {
    unused(route_in_use(conn, &route.id)?, |n| {
        format!(
            "route {} is used by {n} convoy(s) and cannot be {why}",
            route.code
        )
    })
}
