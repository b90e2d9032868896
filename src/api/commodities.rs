//! `/api/v1/commodities`: what convoys carry; a density lets cargo be entered in litres.

use actix_web::{web, HttpResponse};

use crate::api::extract::ApiJson;
use crate::api::{created, ListParams, Page};
use crate::app::auth::Principal;
use crate::app::error::AppError;
use crate::app::reference::commodities::*;
use crate::app::state::AppState;
use crate::app::validate::{self, Checker};
use crate::store::reference;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/commodities")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(
        web::resource("/commodities/{key}")
            .route(web::get().to(get))
            .route(web::patch().to(update))
            .route(web::delete().to(delete)),
    );
}

#[utoipa::path(get, operation_id = "commodities_list", path = "/api/v1/commodities", tag = "reference data", params(ListParams),
    responses((status = 200, body = Page<Commodity>)), security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn list(
    state: web::Data<AppState>,
    _who: Principal,
    q: crate::api::extract::ApiQuery<ListParams>,
) -> Result<HttpResponse, AppError> {
    let limit = q.limit()?;
    let cursor = q.cursor.clone();
    let page = state
        .db(move |c| Ok(reference::list_commodities(c, cursor.as_deref(), limit)?))
        .await?;
    Ok(HttpResponse::Ok().json(Page::from_store(page, Commodity::from)))
}

#[utoipa::path(post, operation_id = "commodities_create", path = "/api/v1/commodities", tag = "reference data", request_body = NewCommodity,
    responses((status = 201, body = Commodity), (status = 200, description = "replayed create", body = Commodity),
    (status = 409, description = "same id with another body, or code taken"), (status = 422, description = "invalid fields")),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(token = %who.token_id))]
pub async fn create(
    state: web::Data<AppState>,
    who: Principal,
    body: ApiJson<NewCommodity>,
) -> Result<HttpResponse, AppError> {
    who.require_admin()?;
    let record = build(&body.0)?;
    let result = state
        .db(move |c| Ok(reference::create_commodity(c, record)?))
        .await?;
    let location = format!("/api/v1/commodities/{}", result.get().code);
    Ok(created(result.map(Commodity::from), location))
}

#[utoipa::path(get, operation_id = "commodities_get", path = "/api/v1/commodities/{key}", tag = "reference data",
    params(("key" = String, Path, description = "code or id")),
    responses((status = 200, body = Commodity), (status = 404, description = "no such commodity")), security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(key = %key))]
pub async fn get(
    state: web::Data<AppState>,
    _who: Principal,
    key: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let key = key.into_inner();
    let co = state
        .db(move |c| Ok(reference::get_commodity(c, &key)?))
        .await?;
    Ok(HttpResponse::Ok().json(Commodity::from(co)))
}

#[utoipa::path(patch, operation_id = "commodities_update", path = "/api/v1/commodities/{key}", tag = "reference data", request_body = CommodityChanges,
    params(("key" = String, Path, description = "code or id")),
    responses((status = 200, body = Commodity), (status = 409, description = "density in use by recorded cargo")), security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(key = %key, token = %who.token_id))]
pub async fn update(
    state: web::Data<AppState>,
    who: Principal,
    key: web::Path<String>,
    body: ApiJson<CommodityChanges>,
) -> Result<HttpResponse, AppError> {
    who.require_admin()?;
    let body = body.0;
    let mut check = Checker::new();
    let changes = reference::CommodityChanges {
        name: body
            .name
            .as_deref()
            .and_then(|n| check.take("name", validate::name(n))),
        density_mg_per_l: body
            .density_kg_per_l
            .as_ref()
            .and_then(|d| check.take("density_kg_per_l", validate::density_mg_per_l(&d.0)))
            .map(Some),
    };
    check.finish()?;
    let key = key.into_inner();
    let co = state
        .db(move |c| Ok(reference::update_commodity(c, &key, changes)?))
        .await?;
    Ok(HttpResponse::Ok().json(Commodity::from(co)))
}

#[utoipa::path(delete, operation_id = "commodities_delete", path = "/api/v1/commodities/{key}", tag = "reference data",
    params(("key" = String, Path, description = "code or id")),
    responses((status = 204), (status = 409, description = "still referenced")), security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(key = %key, token = %who.token_id))]
pub async fn delete(
    state: web::Data<AppState>,
    who: Principal,
    key: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    who.require_admin()?;
    let key = key.into_inner();
    state
        .db(move |c| Ok(reference::delete_commodity(c, &key)?))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
