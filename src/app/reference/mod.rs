//! Reference data — organizations, checkpoints, commodities, routes: what clients send,
//! its validation, and how answers show it. The seed and the admin API both go through
//! these.

pub mod checkpoints;
pub mod commodities;
pub mod organizations;
pub mod routes;

use crate::app::error::AppError;
use crate::db::DbConn;
use crate::store::reference;

/// The id of the organization a client names by slug; an unknown slug is an error on the
/// `organization` field, so the client learns which value to correct.
pub fn organization_id(c: &mut DbConn, slug: &str) -> Result<String, AppError> {
    Ok(reference::find_organization(c, slug)?
        .ok_or_else(|| {
            AppError::field(
                "organization",
                format!("organization {slug} does not exist"),
            )
        })?
        .id)
}

/// The id of the route a client names by code; an unknown code is an error on the
/// `route` field.
pub fn route_id(c: &mut DbConn, code: &str) -> Result<String, AppError> {
    Ok(reference::find_route(c, code)?
        .ok_or_else(|| AppError::field("route", format!("route {code} does not exist")))?
        .row
        .id)
}
