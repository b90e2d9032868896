//! `/api/v1/organizations`: the NGOs and agencies that own convoys and tokens.

use actix_web::{web, HttpResponse};

use crate::api::extract::ApiJson;
use crate::api::{created, ListParams, Page};
use crate::app::auth::Principal;
use crate::app::error::AppError;
use crate::app::reference::organizations::*;
use crate::app::state::AppState;
use crate::app::validate::{self, Checker};
use crate::store::reference;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/organizations")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(
        web::resource("/organizations/{key}")
            .route(web::get().to(get))
            .route(web::patch().to(update))
            .route(web::delete().to(delete)),
    );
}

#[utoipa::path(get, operation_id = "organizations_list", path = "/api/v1/organizations", tag = "reference data", params(ListParams),
    responses((status = 200, body = Page<Organization>)), security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn list(
    state: web::Data<AppState>,
    _who: Principal,
    q: crate::api::extract::ApiQuery<ListParams>,
) -> Result<HttpResponse, AppError> {
    let limit = q.limit()?;
    let cursor = q.cursor.clone();
    let page = state
        .db(move |c| Ok(reference::list_organizations(c, cursor.as_deref(), limit)?))
        .await?;
    Ok(HttpResponse::Ok().json(Page::from_store(page, Organization::from)))
}

#[utoipa::path(post, operation_id = "organizations_create", path = "/api/v1/organizations", tag = "reference data", request_body = NewOrganization,
    responses((status = 201, body = Organization), (status = 200, description = "replayed create", body = Organization),
    (status = 409, description = "same id with another body, or slug taken"), (status = 422, description = "invalid fields")),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(token = %who.token_id))]
pub async fn create(
    state: web::Data<AppState>,
    who: Principal,
    body: ApiJson<NewOrganization>,
) -> Result<HttpResponse, AppError> {
    who.require_admin()?;
    let record = build(&body.0)?;
    let result = state
        .db(move |c| Ok(reference::create_organization(c, record)?))
        .await?;
    let location = format!("/api/v1/organizations/{}", result.get().slug);
    Ok(created(result.map(Organization::from), location))
}

#[utoipa::path(get, operation_id = "organizations_get", path = "/api/v1/organizations/{key}", tag = "reference data",
    params(("key" = String, Path, description = "slug or id")),
    responses((status = 200, body = Organization), (status = 404, description = "no such organization")),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(key = %key))]
pub async fn get(
    state: web::Data<AppState>,
    _who: Principal,
    key: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let key = key.into_inner();
    let org = state
        .db(move |c| Ok(reference::get_organization(c, &key)?))
        .await?;
    Ok(HttpResponse::Ok().json(Organization::from(org)))
}

#[utoipa::path(patch, operation_id = "organizations_update", path = "/api/v1/organizations/{key}", tag = "reference data", request_body = OrganizationChanges,
    params(("key" = String, Path, description = "slug or id")),
    responses((status = 200, body = Organization)), security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(key = %key, token = %who.token_id))]
pub async fn update(
    state: web::Data<AppState>,
    who: Principal,
    key: web::Path<String>,
    body: ApiJson<OrganizationChanges>,
) -> Result<HttpResponse, AppError> {
    who.require_admin()?;
    let mut check = Checker::new();
    let name = body
        .0
        .name
        .as_deref()
        .and_then(|n| check.take("name", validate::name(n)));
    check.finish()?;
    let key = key.into_inner();
    let org = state
        .db(move |c| Ok(reference::update_organization(c, &key, name)?))
        .await?;
    Ok(HttpResponse::Ok().json(Organization::from(org)))
}

#[utoipa::path(delete, operation_id = "organizations_delete", path = "/api/v1/organizations/{key}", tag = "reference data",
    params(("key" = String, Path, description = "slug or id")),
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
        .db(move |c| Ok(reference::delete_organization(c, &key)?))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
