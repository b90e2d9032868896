//! `/api/v1/organizations`: the NGOs and agencies that own convoys and tokens.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::extract::ApiJson;
use crate::api::validate::{self, Checker};
use crate::api::{created, rfc3339, ListParams, Page};
use crate::auth::Principal;
use crate::db::now_micros;
use crate::error::AppError;
use crate::state::AppState;
use crate::store::{self, body_hash, reference};

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

#[derive(Debug, Serialize, ToSchema)]
pub struct Organization {
    pub id: String,
    #[schema(example = "icrc")]
    pub slug: String,
    pub name: String,
    pub created_at: String,
    pub updated_at: String,
}

impl From<reference::Organization> for Organization {
    fn from(o: reference::Organization) -> Self {
        Organization {
            id: o.id,
            slug: o.slug,
            name: o.name,
            created_at: rfc3339(o.created_at),
            updated_at: rfc3339(o.updated_at),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrganization {
    /// Optional client-chosen UUID: sending the same request again returns the stored record.
    #[serde(default, skip_serializing)]
    pub id: Option<uuid::Uuid>,
    #[schema(example = "icrc")]
    pub slug: String,
    #[schema(example = "International Committee of the Red Cross")]
    pub name: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizationChanges {
    pub name: Option<String>,
}

/// Validates a new organization into the stored record.
pub fn build(body: &NewOrganization) -> Result<reference::Organization, AppError> {
    let mut check = Checker::new();
    let slug = check.take("slug", validate::lower_code(&body.slug));
    let name = check.take("name", validate::name(&body.name));
    check.finish()?;
    let now = now_micros();
    Ok(reference::Organization {
        id: store::resolve_id(body.id),
        slug: slug.unwrap_or_default(),
        name: name.unwrap_or_default(),
        body_sha256: body_hash(body),
        created_at: now,
        updated_at: now,
    })
}

#[utoipa::path(get, operation_id = "organizations_list", path = "/api/v1/organizations", tag = "reference data", params(ListParams),
    responses((status = 200, body = Page<Organization>)), security(("bearer" = [])))]
pub async fn list(
    state: web::Data<AppState>,
    _who: Principal,
    q: crate::api::extract::ApiQuery<ListParams>,
) -> Result<HttpResponse, AppError> {
    let limit = q.limit()?;
    let cursor = q.cursor.clone();
    let page = state
        .db(move |c| reference::list_organizations(c, cursor.as_deref(), limit))
        .await?;
    Ok(HttpResponse::Ok().json(Page::from_store(page, Organization::from)))
}

#[utoipa::path(post, operation_id = "organizations_create", path = "/api/v1/organizations", tag = "reference data", request_body = NewOrganization,
    responses((status = 201, body = Organization), (status = 200, description = "replayed create", body = Organization),
    (status = 409, description = "same id with another body, or slug taken"), (status = 422, description = "invalid fields")),
    security(("bearer" = [])))]
pub async fn create(
    state: web::Data<AppState>,
    who: Principal,
    body: ApiJson<NewOrganization>,
) -> Result<HttpResponse, AppError> {
    who.require_admin()?;
    let record = build(&body.0)?;
    let result = state
        .db(move |c| reference::create_organization(c, record))
        .await?;
    let location = format!("/api/v1/organizations/{}", result.get().slug);
    Ok(created(result.map(Organization::from), location))
}

#[utoipa::path(get, operation_id = "organizations_get", path = "/api/v1/organizations/{key}", tag = "reference data",
    params(("key" = String, Path, description = "slug or id")),
    responses((status = 200, body = Organization), (status = 404, description = "no such organization")),
    security(("bearer" = [])))]
pub async fn get(
    state: web::Data<AppState>,
    _who: Principal,
    key: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let key = key.into_inner();
    let org = state
        .db(move |c| reference::get_organization(c, &key))
        .await?;
    Ok(HttpResponse::Ok().json(Organization::from(org)))
}

#[utoipa::path(patch, operation_id = "organizations_update", path = "/api/v1/organizations/{key}", tag = "reference data", request_body = OrganizationChanges,
    params(("key" = String, Path, description = "slug or id")),
    responses((status = 200, body = Organization)), security(("bearer" = [])))]
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
        .db(move |c| reference::update_organization(c, &key, name))
        .await?;
    Ok(HttpResponse::Ok().json(Organization::from(org)))
}

#[utoipa::path(delete, operation_id = "organizations_delete", path = "/api/v1/organizations/{key}", tag = "reference data",
    params(("key" = String, Path, description = "slug or id")),
    responses((status = 204), (status = 409, description = "still referenced")), security(("bearer" = [])))]
pub async fn delete(
    state: web::Data<AppState>,
    who: Principal,
    key: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    who.require_admin()?;
    let key = key.into_inner();
    state
        .db(move |c| reference::delete_organization(c, &key))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
