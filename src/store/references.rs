//! Checks that keep reference data in use from being deleted or changed under the records
//! that point to it.

use crate::db::DbConn;
use crate::error::AppError;
use crate::store::convoys;
use crate::store::reference::{Commodity, Organization, RouteRow};

/// Ok when nothing uses the record; otherwise a 409 saying how many records do.
fn unused(count: i64, message: impl FnOnce(i64) -> String) -> Result<(), AppError> {
    match count {
        0 => Ok(()),
        n => Err(AppError::Conflict(message(n))),
    }
}

pub fn ensure_organization_unreferenced(
    conn: &mut DbConn,
    org: &Organization,
) -> Result<(), AppError> {
    unused(convoys::organization_in_use(conn, &org.id)?, |n| {
        format!(
            "organization {} owns {n} convoy(s) and cannot be deleted",
            org.slug
        )
    })
}

pub fn ensure_commodity_unreferenced(
    conn: &mut DbConn,
    commodity: &Commodity,
) -> Result<(), AppError> {
    unused(convoys::commodity_in_use(conn, &commodity.id)?, |n| {
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
) -> Result<(), AppError> {
    unused(convoys::commodity_in_use(conn, &commodity.id)?, |n| {
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
) -> Result<(), AppError> {
    unused(convoys::route_in_use(conn, &route.id)?, |n| {
        format!(
            "route {} is used by {n} convoy(s) and cannot be {why}",
            route.code
        )
    })
}
