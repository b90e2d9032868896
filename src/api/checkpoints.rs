//! `/api/v1/checkpoints`: named places on routes, each with how long a convoy may wait there.

use actix_web::{web, HttpResponse};

use crate::api::extract::ApiJson;
use crate::api::{created, ListParams, Page};
use crate::app::auth::Principal;
use crate::app::error::AppError;
use crate::app::reference::checkpoints::*;
use crate::app::state::AppState;
use crate::app::validate::{self, Checker};
use crate::store::reference;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/checkpoints")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(
        web::resource("/checkpoints/{key}")
            .route(web::get().to(get))
            .route(web::patch().to(update))
            .route(web::delete().to(delete)),
    );
}

#[utoipa::path(get, operation_id = "checkpoints_list", path = "/api/v1/checkpoints", tag = "reference data", params(ListParams),
    responses((status = 200, body = Page<Checkpoint>)), security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn list(
    state: web::Data<AppState>,
    _who: Principal,
    q: crate::api::extract::ApiQuery<ListParams>,
) -> Result<HttpResponse, AppError> {
    let limit = q.limit()?;
    let cursor = q.cursor.clone();
    let page = state
        .db(move |c| Ok(reference::list_checkpoints(c, cursor.as_deref(), limit)?))
        .await?;
    Ok(HttpResponse::Ok().json(Page::from_store(page, Checkpoint::from)))
}

#[utoipa::path(post, operation_id = "checkpoints_create", path = "/api/v1/checkpoints", tag = "reference data", request_body = NewCheckpoint,
    responses((status = 201, body = Checkpoint), (status = 200, description = "replayed create", body = Checkpoint),
    (status = 409, description = "same id with another body, or code taken"), (status = 422, description = "invalid fields")),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(token = %who.token_id))]
pub async fn create(
    state: web::Data<AppState>,
    who: Principal,
    body: ApiJson<NewCheckpoint>,
) -> Result<HttpResponse, AppError> {
    who.require_admin()?;
    let record = build(&body.0)?;
    let result = state
        .db(move |c| Ok(reference::create_checkpoint(c, record)?))
        .await?;
    let location = format!("/api/v1/checkpoints/{}", result.get().code);
    Ok(created(result.map(Checkpoint::from), location))
}

#[utoipa::path(get, operation_id = "checkpoints_get", path = "/api/v1/checkpoints/{key}", tag = "reference data",
    params(("key" = String, Path, description = "code or id")),
    responses((status = 200, body = Checkpoint), (status = 404, description = "no such checkpoint")), security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(key = %key))]
pub async fn get(
    state: web::Data<AppState>,
    _who: Principal,
    key: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let key = key.into_inner();
    let cp = state
        .db(move |c| Ok(reference::get_checkpoint(c, &key)?))
        .await?;
    Ok(HttpResponse::Ok().json(Checkpoint::from(cp)))
}

#[utoipa::path(patch, operation_id = "checkpoints_update", path = "/api/v1/checkpoints/{key}", tag = "reference data", request_body = CheckpointChanges,
    params(("key" = String, Path, description = "code or id")),
    responses((status = 200, body = Checkpoint)), security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(key = %key, token = %who.token_id))]
pub async fn update(
    state: web::Data<AppState>,
    who: Principal,
    key: web::Path<String>,
    body: ApiJson<CheckpointChanges>,
) -> Result<HttpResponse, AppError> {
    who.require_admin()?;
    let body = body.0;
    let mut check = Checker::new();
    let changes = reference::CheckpointChanges {
        name: body
            .name
            .as_deref()
            .and_then(|n| check.take("name", validate::name(n))),
        lat: body
            .lat
            .and_then(|v| check.take("lat", validate::latitude(v)))
            .map(Some),
        lon: body
            .lon
            .and_then(|v| check.take("lon", validate::longitude(v)))
            .map(Some),
        max_dwell_minutes: body
            .max_dwell
            .as_deref()
            .and_then(|d| check.take("max_dwell", validate::duration_minutes(d))),
    };
    check.finish()?;
    let key = key.into_inner();
    let cp = state
        .db(move |c| Ok(reference::update_checkpoint(c, &key, changes)?))
        .await?;
    Ok(HttpResponse::Ok().json(Checkpoint::from(cp)))
}

#[utoipa::path(delete, operation_id = "checkpoints_delete", path = "/api/v1/checkpoints/{key}", tag = "reference data",
    params(("key" = String, Path, description = "code or id")),
    responses((status = 204), (status = 409, description = "still on a route")), security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(key = %key, token = %who.token_id))]
pub async fn delete(
    state: web::Data<AppState>,
    who: Principal,
    key: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    who.require_admin()?;
    let key = key.into_inner();
    state
        .db(move |c| Ok(reference::delete_checkpoint(c, &key)?))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
