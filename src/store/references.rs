//! Checks that keep referenced reference data from being deleted or changed under the
//! records that use it. Each new aggregate that points at reference data adds its check here.

use crate::db::DbConn;
use crate::error::AppError;
use crate::store::reference::{Commodity, Organization, RouteRow};

pub fn ensure_organization_unreferenced(
    _conn: &mut DbConn,
    _org: &Organization,
) -> Result<(), AppError> {
    Ok(())
}

pub fn ensure_commodity_unreferenced(
    _conn: &mut DbConn,
    _commodity: &Commodity,
) -> Result<(), AppError> {
    Ok(())
}

pub fn ensure_commodity_density_changeable(
    _conn: &mut DbConn,
    _commodity: &Commodity,
) -> Result<(), AppError> {
    Ok(())
}

pub fn ensure_route_unreferenced(
    _conn: &mut DbConn,
    _route: &RouteRow,
    _why: &str,
) -> Result<(), AppError> {
    Ok(())
}
