//! `/api/v1/routes`: ordered checkpoints from origin to destination, with the expected
//! hours of each leg.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::error::AppError;
use crate::app::input::DecimalText;
use crate::app::validate::{self, Checker};
use crate::db::now_micros;
use crate::domain::time::rfc3339;
use crate::store::{self, body_hash, reference};

#[derive(Debug, Serialize, ToSchema)]
pub struct RouteStop {
    pub position: i32,
    #[schema(example = "KORNIDZOR", pattern = "^[A-Z0-9_-]{1,32}$")]
    pub checkpoint: String,
    pub name: String,
    /// Expected hours from the previous checkpoint (0 for the origin).
    #[schema(value_type = String, example = "0.5")]
    pub leg_hours: Decimal,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Route {
    pub id: String,
    #[schema(example = "lachin")]
    pub code: String,
    pub name: String,
    pub origin: String,
    pub destination: String,
    pub checkpoints: Vec<RouteStop>,
    /// Expected hours from origin to destination.
    #[schema(value_type = String, example = "3.5")]
    pub total_hours: Decimal,
    pub created_at: String,
    pub updated_at: String,
}

impl From<reference::Route> for Route {
    fn from(r: reference::Route) -> Self {
        let total: i32 = r.stops.iter().map(|s| s.leg_minutes).sum();
        let code_at = |i: Option<&reference::RouteStop>| {
            i.map(|s| s.checkpoint.code.clone()).unwrap_or_default()
        };
        Route {
            id: r.row.id,
            code: r.row.code,
            name: r.row.name,
            origin: code_at(r.stops.first()),
            destination: code_at(r.stops.last()),
            total_hours: validate::minutes_to_hours(total),
            checkpoints: r
                .stops
                .into_iter()
                .map(|s| RouteStop {
                    position: s.position,
                    checkpoint: s.checkpoint.code,
                    name: s.checkpoint.name,
                    leg_hours: validate::minutes_to_hours(s.leg_minutes),
                })
                .collect(),
            created_at: rfc3339(r.row.created_at),
            updated_at: rfc3339(r.row.updated_at),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStop {
    #[schema(example = "KORNIDZOR")]
    pub checkpoint: String,
    /// Hours from the previous checkpoint, as a number or decimal string (read exactly);
    /// omit for the origin.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "0.5", pattern = "^([0-9]{1,2}|[1-6][0-9]{2}|70[0-9]|71[0-9])(\\.(0|00|25|5|50|75))?$|^720(\\.0{1,2})?$")]
    pub leg_hours: Option<DecimalText>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRoute {
    #[serde(default, skip_serializing)]
    pub id: Option<uuid::Uuid>,
    #[schema(example = "lachin", pattern = "^[a-z0-9_-]{1,64}$")]
    pub code: String,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$"
    )]
    pub name: String,
    /// From origin to destination; at least two, each checkpoint once.
    #[schema(min_items = 2, example = json!([{"checkpoint": "GORIS"}, {"checkpoint": "STEPANAKERT", "leg_hours": "3"}]))]
    pub checkpoints: Vec<NewStop>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteChanges {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$"
    )]
    pub name: Option<String>,
    #[schema(min_items = 2, example = json!([{"checkpoint": "GORIS"}, {"checkpoint": "STEPANAKERT", "leg_hours": "3"}]))]
    pub checkpoints: Option<Vec<NewStop>>,
}

/// Validates the stops: at least two, no checkpoint twice, leg hours on every leg.
pub fn check_stops(check: &mut Checker, stops: &[NewStop]) -> Vec<reference::NewStop> {
    if stops.len() < 2 {
        check.push(
            "checkpoints",
            "a route needs at least two checkpoints, origin and destination",
        );
    }
    let mut out = Vec::with_capacity(stops.len());
    for (i, stop) in stops.iter().enumerate() {
        if stops[..i].iter().any(|s| s.checkpoint == stop.checkpoint) {
            check.push(
                format!("checkpoints[{i}].checkpoint"),
                format!("{} appears twice on the route", stop.checkpoint),
            );
        }
        let field = format!("checkpoints[{i}].leg_hours");
        let hours = match &stop.leg_hours {
            None => Some(None),
            Some(text) => check.take(&field, validate::hours(&text.0)).map(Some),
        };
        let minutes = match (i, hours) {
            (_, None) => None,
            (0, Some(None)) => Some(0),
            (0, Some(Some(h))) if h.is_zero() => Some(0),
            (0, Some(Some(_))) => {
                check.push(
                    "checkpoints[0].leg_hours",
                    "the origin has no leg before it; omit leg_hours or give 0",
                );
                None
            }
            (_, Some(None)) => {
                check.push(
                    field,
                    "give the expected hours from the previous checkpoint",
                );
                None
            }
            (_, Some(Some(h))) => check.take(&field, validate::hours_to_minutes(h)),
        };
        out.push(reference::NewStop {
            checkpoint: stop.checkpoint.clone(),
            leg_minutes: minutes.unwrap_or_default(),
        });
    }
    out
}

/// Validates a new route into its stored row and stops.
pub fn build(body: &NewRoute) -> Result<(reference::RouteRow, Vec<reference::NewStop>), AppError> {
    let mut check = Checker::new();
    let code = check.take("code", validate::lower_code(&body.code));
    let name = check.take("name", validate::name(&body.name));
    let stops = check_stops(&mut check, &body.checkpoints);
    check.finish()?;
    let now = now_micros();
    let row = reference::RouteRow {
        id: store::resolve_id(body.id),
        code: code.unwrap_or_default(),
        name: name.unwrap_or_default(),
        body_sha256: body_hash(body),
        created_at: now,
        updated_at: now,
    };
    Ok((row, stops))
}
