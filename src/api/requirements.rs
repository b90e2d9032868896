//! `/api/v1/requirements`: the planned flow a route needs (the use case is
//! `app::requirements`).

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::api::extract::{ApiJson, ApiQuery};
use crate::api::{created, Page};
use crate::app::auth::Principal;
use crate::app::error::AppError;
use crate::app::requirements::{self, NewRequirement, Requirement};
use crate::app::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/requirements")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    );
}

#[utoipa::path(post, path = "/api/v1/requirements", operation_id = "requirements_create", tag = "reports", request_body = NewRequirement,
    responses((status = 201, body = Requirement), (status = 200, description = "replayed create", body = Requirement),
    (status = 409, description = "same id with another body"), (status = 422, description = "invalid fields")), security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(token = %who.token_id))]
pub async fn create(
    state: web::Data<AppState>,
    who: Principal,
    body: ApiJson<NewRequirement>,
) -> Result<HttpResponse, AppError> {
    who.require_admin()?;
    let body = body.0;
    let result = state
        .db(move |c| requirements::record(c, &who, &body))
        .await?;
    let location = format!("/api/v1/requirements?route={}", result.get().route);
    Ok(created(result, location))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RequirementParams {
    /// Only this route's requirements.
    #[param(pattern = "^[a-z0-9_-]{1,64}$")]
    pub route: Option<String>,
    /// Items per page, 1–500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    #[param(pattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$")]
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/requirements", operation_id = "requirements_list", tag = "reports", params(RequirementParams),
    responses((status = 200, body = Page<Requirement>)), security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn list(
    state: web::Data<AppState>,
    _who: Principal,
    q: ApiQuery<RequirementParams>,
) -> Result<HttpResponse, AppError> {
    let q = q.0;
    let limit = crate::api::page_limit(q.limit)?;
    let page = state
        .db(move |c| requirements::list(c, q.route.as_deref(), q.cursor.as_deref(), limit))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}
