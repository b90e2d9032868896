//! `/api/v1/commodities`: what convoys carry; a density lets cargo be entered in litres.

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

#[derive(Debug, Serialize, ToSchema)]
pub struct Commodity {
    pub id: String,
    #[schema(example = "sunflower_oil")]
    pub code: String,
    pub name: String,
    /// kg per litre, as a decimal string; null when cargo cannot be given in litres.
    #[schema(value_type = Option<String>, example = "0.92")]
    pub density_kg_per_l: Option<rust_decimal::Decimal>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<reference::Commodity> for Commodity {
    fn from(c: reference::Commodity) -> Self {
        Commodity {
            id: c.id,
            code: c.code,
            name: c.name,
            density_kg_per_l: c.density_mg_per_l.map(validate::density_kg_per_l),
            created_at: rfc3339(c.created_at),
            updated_at: rfc3339(c.updated_at),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCommodity {
    #[serde(default, skip_serializing)]
    pub id: Option<uuid::Uuid>,
    #[schema(example = "sunflower_oil")]
    pub code: String,
    pub name: String,
    /// kg per litre as a decimal string, e.g. "0.92".
    #[serde(default)]
    pub density_kg_per_l: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommodityChanges {
    pub name: Option<String>,
    pub density_kg_per_l: Option<String>,
}

pub fn build(body: &NewCommodity) -> Result<reference::Commodity, AppError> {
    let mut check = Checker::new();
    let code = check.take("code", validate::lower_code(&body.code));
    let name = check.take("name", validate::name(&body.name));
    let density = body
        .density_kg_per_l
        .as_deref()
        .and_then(|d| check.take("density_kg_per_l", validate::density_mg_per_l(d)));
    check.finish()?;
    let now = now_micros();
    Ok(reference::Commodity {
        id: store::resolve_id(body.id),
        code: code.unwrap_or_default(),
        name: name.unwrap_or_default(),
        density_mg_per_l: density,
        body_sha256: body_hash(body),
        created_at: now,
        updated_at: now,
    })
}

#[utoipa::path(get, operation_id = "commodities_list", path = "/api/v1/commodities", tag = "reference data", params(ListParams),
    responses((status = 200, body = Page<Commodity>)), security(("bearer" = [])))]
pub async fn list(
    state: web::Data<AppState>,
    _who: Principal,
    q: crate::api::extract::ApiQuery<ListParams>,
) -> Result<HttpResponse, AppError> {
    let limit = q.limit()?;
    let cursor = q.cursor.clone();
    let page = state
        .db(move |c| reference::list_commodities(c, cursor.as_deref(), limit))
        .await?;
    Ok(HttpResponse::Ok().json(Page::from_store(page, Commodity::from)))
}

#[utoipa::path(post, operation_id = "commodities_create", path = "/api/v1/commodities", tag = "reference data", request_body = NewCommodity,
    responses((status = 201, body = Commodity), (status = 200, description = "replayed create", body = Commodity),
    (status = 409, description = "same id with another body, or code taken"), (status = 422, description = "invalid fields")),
    security(("bearer" = [])))]
pub async fn create(
    state: web::Data<AppState>,
    who: Principal,
    body: ApiJson<NewCommodity>,
) -> Result<HttpResponse, AppError> {
    who.require_admin()?;
    let record = build(&body.0)?;
    let result = state
        .db(move |c| reference::create_commodity(c, record))
        .await?;
    let location = format!("/api/v1/commodities/{}", result.get().code);
    Ok(created(result.map(Commodity::from), location))
}

#[utoipa::path(get, operation_id = "commodities_get", path = "/api/v1/commodities/{key}", tag = "reference data",
    params(("key" = String, Path, description = "code or id")),
    responses((status = 200, body = Commodity), (status = 404, description = "no such commodity")), security(("bearer" = [])))]
pub async fn get(
    state: web::Data<AppState>,
    _who: Principal,
    key: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let key = key.into_inner();
    let co = state.db(move |c| reference::get_commodity(c, &key)).await?;
    Ok(HttpResponse::Ok().json(Commodity::from(co)))
}

#[utoipa::path(patch, operation_id = "commodities_update", path = "/api/v1/commodities/{key}", tag = "reference data", request_body = CommodityChanges,
    params(("key" = String, Path, description = "code or id")),
    responses((status = 200, body = Commodity), (status = 409, description = "density in use by recorded cargo")), security(("bearer" = [])))]
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
            .as_deref()
            .and_then(|d| check.take("density_kg_per_l", validate::density_mg_per_l(d)))
            .map(Some),
    };
    check.finish()?;
    let key = key.into_inner();
    let co = state
        .db(move |c| reference::update_commodity(c, &key, changes))
        .await?;
    Ok(HttpResponse::Ok().json(Commodity::from(co)))
}

#[utoipa::path(delete, operation_id = "commodities_delete", path = "/api/v1/commodities/{key}", tag = "reference data",
    params(("key" = String, Path, description = "code or id")),
    responses((status = 204), (status = 409, description = "still referenced")), security(("bearer" = [])))]
pub async fn delete(
    state: web::Data<AppState>,
    who: Principal,
    key: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    who.require_admin()?;
    let key = key.into_inner();
    state
        .db(move |c| reference::delete_commodity(c, &key))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
