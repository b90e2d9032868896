//! `/api/v1/routes`: ordered checkpoints from origin to destination, with the expected
//! hours of each leg.

use actix_web::{web, HttpResponse};

use crate::api::extract::ApiJson;
use crate::api::{created, ListParams, Page};
use crate::app::auth::Principal;
use crate::app::error::AppError;
use crate::app::reference::routes::*;
use crate::app::state::AppState;
use crate::app::validate::{self, Checker};
use crate::store::reference;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/routes")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(
        web::resource("/routes/{key}")
            .route(web::get().to(get))
            .route(web::patch().to(update))
            .route(web::delete().to(delete)),
    );
}

#[utoipa::path(get, operation_id = "routes_list", path = "/api/v1/routes", tag = "reference data", params(ListParams),
    responses((status = 200, body = Page<Route>)), security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn list(
    state: web::Data<AppState>,
    _who: Principal,
    q: crate::api::extract::ApiQuery<ListParams>,
) -> Result<HttpResponse, AppError> {
    let limit = q.limit()?;
    let cursor = q.cursor.clone();
    let page = state
        .db(move |c| Ok(reference::list_routes(c, cursor.as_deref(), limit)?))
        .await?;
    Ok(HttpResponse::Ok().json(Page::from_store(page, Route::from)))
}

#[utoipa::path(post, operation_id = "routes_create", path = "/api/v1/routes", tag = "reference data", request_body = NewRoute,
    responses((status = 201, body = Route), (status = 200, description = "replayed create", body = Route),
    (status = 409, description = "same id with another body, or code taken"), (status = 422, description = "invalid fields")),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(token = %who.token_id))]
pub async fn create(
    state: web::Data<AppState>,
    who: Principal,
    body: ApiJson<NewRoute>,
) -> Result<HttpResponse, AppError> {
    who.require_admin()?;
    let (row, stops) = build(&body.0)?;
    let result = state
        .db(move |c| Ok(reference::create_route(c, row, stops)?))
        .await?;
    let location = format!("/api/v1/routes/{}", result.get().row.code);
    Ok(created(result.map(Route::from), location))
}

#[utoipa::path(get, operation_id = "routes_get", path = "/api/v1/routes/{key}", tag = "reference data",
    params(("key" = String, Path, description = "code or id")),
    responses((status = 200, body = Route), (status = 404, description = "no such route")), security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(key = %key))]
pub async fn get(
    state: web::Data<AppState>,
    _who: Principal,
    key: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let key = key.into_inner();
    let route = state
        .db(move |c| Ok(reference::get_route(c, &key)?))
        .await?;
    Ok(HttpResponse::Ok().json(Route::from(route)))
}

#[utoipa::path(patch, operation_id = "routes_update", path = "/api/v1/routes/{key}", tag = "reference data", request_body = RouteChanges,
    params(("key" = String, Path, description = "code or id")),
    responses((status = 200, body = Route), (status = 409, description = "checkpoints changed while convoys use the route")),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(key = %key, token = %who.token_id))]
pub async fn update(
    state: web::Data<AppState>,
    who: Principal,
    key: web::Path<String>,
    body: ApiJson<RouteChanges>,
) -> Result<HttpResponse, AppError> {
    who.require_admin()?;
    let body = body.0;
    let mut check = Checker::new();
    let name = body
        .name
        .as_deref()
        .and_then(|n| check.take("name", validate::name(n)));
    let stops = body
        .checkpoints
        .as_deref()
        .map(|s| check_stops(&mut check, s));
    check.finish()?;
    let key = key.into_inner();
    let route = state
        .db(move |c| Ok(reference::update_route(c, &key, name, stops)?))
        .await?;
    Ok(HttpResponse::Ok().json(Route::from(route)))
}

#[utoipa::path(delete, operation_id = "routes_delete", path = "/api/v1/routes/{key}", tag = "reference data",
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
        .db(move |c| Ok(reference::delete_route(c, &key)?))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
