//! Checks that keep reference data in use from being deleted or changed under the records
//! that point to it.

use crate::db::DbConn;
use crate::error::AppError;
use crate::store::convoys;
use crate::store::reference::{Commodity, Organization, RouteRow};

pub fn ensure_organization_unreferenced(
    conn: &mut DbConn,
    org: &Organization,
) -> Result<(), AppError> {
    match convoys::organization_in_use(conn, &org.id)? {
        0 => Ok(()),
        n => Err(AppError::Conflict(format!(
            "organization {} owns {n} convoy(s) and cannot be deleted",
            org.slug
        ))),
    }
}

pub fn ensure_commodity_unreferenced(
    conn: &mut DbConn,
    commodity: &Commodity,
) -> Result<(), AppError> {
    match convoys::commodity_in_use(conn, &commodity.id)? {
        0 => Ok(()),
        n => Err(AppError::Conflict(format!(
            "commodity {} is on {n} convoy manifest line(s) and cannot be deleted",
            commodity.code
        ))),
    }
}

/// A density converts litres already recorded into kilograms; changing it would not
/// change those kilograms, so it is refused once cargo of the commodity is recorded.
pub fn ensure_commodity_density_changeable(
    conn: &mut DbConn,
    commodity: &Commodity,
) -> Result<(), AppError> {
    match convoys::commodity_in_use(conn, &commodity.id)? {
        0 => Ok(()),
        n => Err(AppError::Conflict(format!(
            "commodity {} is on {n} convoy manifest line(s); its density cannot change under recorded cargo — create a new commodity instead",
            commodity.code
        ))),
    }
}

pub fn ensure_route_unreferenced(
    conn: &mut DbConn,
    route: &RouteRow,
    why: &str,
) -> Result<(), AppError> {
    match convoys::route_in_use(conn, &route.id)? {
        0 => Ok(()),
        n => Err(AppError::Conflict(format!(
            "route {} is used by {n} convoy(s) and cannot be {why}",
            route.code
        ))),
    }
}
