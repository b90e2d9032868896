//! Requirements: the planned flow a route needs (the humanitarian need or the pre-crisis
//! baseline), in tonnes per day over an inclusive range of local dates.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::auth::Principal;
use crate::app::convoys::parse_date;
use crate::app::error::AppError;
use crate::app::input::DecimalText;
use crate::app::validate::Checker;
use crate::db::{now_micros, DbConn};
use crate::domain::quantity::{self, format_tonnes};
use crate::domain::time::rfc3339;
use crate::store::reports::{self, RequirementRow};
use crate::store::{body_hash, reference, resolve_id};
use crate::views::Page;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRequirement {
    #[serde(default, skip_serializing)]
    pub id: Option<uuid::Uuid>,
    #[schema(example = "lachin", pattern = "^[a-z0-9_-]{1,64}$")]
    pub route: String,
    /// A commodity code, or null for all cargo.
    #[serde(default)]
    #[schema(pattern = "^[a-z0-9_-]{1,64}$")]
    pub commodity: Option<String>,
    /// First day, local date YYYY-MM-DD (inclusive).
    #[schema(
        example = "2023-07-01",
        pattern = "^(199[0-9]|20[0-9]{2})-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$"
    )]
    pub from: String,
    /// Last day, local date YYYY-MM-DD (inclusive).
    #[schema(
        example = "2023-09-30",
        pattern = "^(199[0-9]|20[0-9]{2})-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$"
    )]
    pub to: String,
    #[schema(value_type = String, example = "400", pattern = "^(0*[1-9][0-9]{0,3}(\\.[0-9]{1,3})?|0*\\.(00[1-9]|0[1-9][0-9]?|[1-9][0-9]{0,2})|10000(\\.0{1,3})?)$")]
    pub tonnes_per_day: DecimalText,
    #[serde(default)]
    #[schema(
        max_length = 2000,
        pattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$"
    )]
    pub note: Option<String>,
}

/// A requirement as answers show it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Requirement {
    pub id: String,
    pub route: String,
    pub commodity: Option<String>,
    pub from: String,
    pub to: String,
    #[schema(example = "400.000")]
    pub tonnes_per_day: String,
    pub note: Option<String>,
    pub created_at: String,
}

fn to_api(c: &mut DbConn, r: RequirementRow) -> Result<Requirement, AppError> {
    let route = reference::get_route(c, &r.route_id)?.row.code;
    let commodity = match &r.commodity_id {
        Some(id) => Some(reference::get_commodity(c, id)?.code),
        None => None,
    };
    Ok(Requirement {
        id: r.id,
        route,
        commodity,
        from: r.from_date,
        to: r.to_date,
        tonnes_per_day: format_tonnes(r.kg_per_day),
        note: r.note,
        created_at: rfc3339(r.created_at),
    })
}

fn build(
    c: &mut DbConn,
    who: &Principal,
    body: &NewRequirement,
) -> Result<RequirementRow, AppError> {
    let mut check = Checker::new();
    let route = reference::find_route(c, &body.route)?;
    if route.is_none() {
        check.push("route", format!("route {} does not exist", body.route));
    }
    let commodity = match &body.commodity {
        Some(code) => match reference::find_commodity(c, code)? {
            Some(co) => Some(co.id),
            None => {
                check.push("commodity", format!("commodity {code} does not exist"));
                None
            }
        },
        None => None,
    };
    let from = parse_date("from", &body.from)
        .map_err(|e| check.push("from", e.to_string()))
        .ok();
    let to = parse_date("to", &body.to)
        .map_err(|e| check.push("to", e.to_string()))
        .ok();
    if let (Some(f), Some(t)) = (from, to) {
        if t < f {
            check.push("to", "must not be before from");
        }
    }
    let kg = check.take(
        "tonnes_per_day",
        quantity::parse_tonnes(&body.tonnes_per_day.0).map_err(|e| e.to_string()),
    );
    if kg == Some(0) {
        check.push("tonnes_per_day", "must be more than 0");
    }
    check.finish()?;
    Ok(RequirementRow {
        id: resolve_id(body.id),
        route_id: route.map(|r| r.row.id).unwrap_or_default(),
        commodity_id: commodity,
        from_date: body.from.trim().to_string(),
        to_date: body.to.trim().to_string(),
        kg_per_day: kg.unwrap_or_default(),
        note: body.note.clone().filter(|n| !n.trim().is_empty()),
        body_sha256: body_hash(body),
        created_by: who.token_id.clone(),
        created_at: now_micros(),
    })
}

/// Validates and stores a requirement (idempotent under its id).
#[tracing::instrument(skip_all, fields(token = %who.token_id, requirement = ?body.id, route = %body.route))]
pub fn record(
    c: &mut DbConn,
    who: &Principal,
    body: &NewRequirement,
) -> Result<crate::store::Created<Requirement>, AppError> {
    let row = build(c, who, body)?;
    let created = reports::create_requirement(c, row)?;
    let is_new = created.is_new();
    let out = to_api(c, created.into_inner())?;
    Ok(if is_new {
        crate::store::Created::New(out)
    } else {
        crate::store::Created::Replayed(out)
    })
}

/// One page of requirements, optionally of one route.
#[tracing::instrument(skip(c))]
pub fn list(
    c: &mut DbConn,
    route: Option<&str>,
    cursor: Option<&str>,
    limit: i64,
) -> Result<Page<Requirement>, AppError> {
    let route_id = match route {
        Some(code) => Some(crate::app::reference::route_id(c, code)?),
        None => None,
    };
    let mut rows = reports::list_requirements(c, route_id.as_deref(), cursor, limit + 1)?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| r.id.clone())
    } else {
        None
    };
    let items = rows
        .into_iter()
        .map(|r| to_api(c, r))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page { items, next_cursor })
}
