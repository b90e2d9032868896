//! `GET /api/v1/shortfalls`: the shortfall of the convoys expected in a date range,
//! grouped as asked (the use case is `app::shortfalls`).

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::api::extract::ApiQuery;
use crate::app::auth::Principal;
use crate::app::error::AppError;
use crate::app::shortfalls::{self, Query, ShortfallReport};
use crate::app::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/shortfalls", web::get().to(get));
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ShortfallParams {
    /// First local date of expected arrival (YYYY-MM-DD, inclusive).
    #[param(pattern = "^(199[0-9]|20[0-9]{2})-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$")]
    pub from: String,
    /// Last local date of expected arrival (YYYY-MM-DD, inclusive).
    #[param(pattern = "^(199[0-9]|20[0-9]{2})-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$")]
    pub to: String,
    /// convoy, checkpoint, commodity, organization, route or reason (default route).
    #[param(pattern = "^(convoy|checkpoint|commodity|organization|route|reason)$")]
    pub group_by: Option<String>,
    /// Only this organization's convoys (slug).
    #[param(pattern = "^[a-z0-9_-]{1,64}$")]
    pub organization: Option<String>,
    /// Only this route's convoys (code).
    #[param(pattern = "^[a-z0-9_-]{1,64}$")]
    pub route: Option<String>,
}

#[utoipa::path(get, operation_id = "shortfalls_get", path = "/api/v1/shortfalls", tag = "shortfalls", params(ShortfallParams),
    responses((status = 200, body = ShortfallReport), (status = 422, description = "bad dates or grouping")), security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn get(
    state: web::Data<AppState>,
    _who: Principal,
    q: ApiQuery<ShortfallParams>,
) -> Result<HttpResponse, AppError> {
    let q = q.0;
    let query = Query {
        from: q.from,
        to: q.to,
        group_by: q.group_by,
        organization: q.organization,
        route: q.route,
    };
    let tz = state.tz;
    // Bad dates or groupings are answered before the database is asked anything.
    shortfalls::check(tz, &query)?;
    let report: ShortfallReport = state
        .db(move |c| shortfalls::summary(c, tz, &query))
        .await?;
    Ok(HttpResponse::Ok().json(report))
}
