//! `/api/v1/checkpoints`: named places on routes, each with how long a convoy may wait there.

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

#[derive(Debug, Serialize, ToSchema)]
pub struct Checkpoint {
    pub id: String,
    #[schema(example = "HAKARI")]
    pub code: String,
    pub name: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// How long a convoy may wait here before it is alarming, e.g. "6h".
    #[schema(example = "6h")]
    pub max_dwell: String,
    pub max_dwell_minutes: i32,
    pub created_at: String,
    pub updated_at: String,
}

impl From<reference::Checkpoint> for Checkpoint {
    fn from(c: reference::Checkpoint) -> Self {
        Checkpoint {
            id: c.id,
            code: c.code,
            name: c.name,
            lat: c.lat,
            lon: c.lon,
            max_dwell: validate::format_minutes(c.max_dwell_minutes),
            max_dwell_minutes: c.max_dwell_minutes,
            created_at: rfc3339(c.created_at),
            updated_at: rfc3339(c.updated_at),
        }
    }
}

/// The wait allowed at a checkpoint when a create request does not say.
pub const DEFAULT_MAX_DWELL: &str = "12h";

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCheckpoint {
    #[serde(default, skip_serializing)]
    pub id: Option<uuid::Uuid>,
    #[schema(example = "HAKARI")]
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub lon: Option<f64>,
    /// A duration like "6h", "90m" or "1d 12h"; default 12h.
    #[serde(default)]
    pub max_dwell: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckpointChanges {
    pub name: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub max_dwell: Option<String>,
}

pub fn build(body: &NewCheckpoint) -> Result<reference::Checkpoint, AppError> {
    let mut check = Checker::new();
    let code = check.take("code", validate::upper_code(&body.code));
    let name = check.take("name", validate::name(&body.name));
    let lat = body
        .lat
        .and_then(|v| check.take("lat", validate::latitude(v)));
    let lon = body
        .lon
        .and_then(|v| check.take("lon", validate::longitude(v)));
    let dwell = check.take(
        "max_dwell",
        validate::duration_minutes(body.max_dwell.as_deref().unwrap_or(DEFAULT_MAX_DWELL)),
    );
    check.finish()?;
    let now = now_micros();
    Ok(reference::Checkpoint {
        id: store::resolve_id(body.id),
        code: code.unwrap_or_default(),
        name: name.unwrap_or_default(),
        lat,
        lon,
        max_dwell_minutes: dwell.unwrap_or_default(),
        body_sha256: body_hash(body),
        created_at: now,
        updated_at: now,
    })
}

#[utoipa::path(get, operation_id = "checkpoints_list", path = "/api/v1/checkpoints", tag = "reference data", params(ListParams),
    responses((status = 200, body = Page<Checkpoint>)), security(("bearer" = [])))]
pub async fn list(
    state: web::Data<AppState>,
    _who: Principal,
    q: crate::api::extract::ApiQuery<ListParams>,
) -> Result<HttpResponse, AppError> {
    let limit = q.limit()?;
    let cursor = q.cursor.clone();
    let page = state
        .db(move |c| reference::list_checkpoints(c, cursor.as_deref(), limit))
        .await?;
    Ok(HttpResponse::Ok().json(Page::from_store(page, Checkpoint::from)))
}

#[utoipa::path(post, operation_id = "checkpoints_create", path = "/api/v1/checkpoints", tag = "reference data", request_body = NewCheckpoint,
    responses((status = 201, body = Checkpoint), (status = 200, description = "replayed create", body = Checkpoint),
    (status = 409, description = "same id with another body, or code taken"), (status = 422, description = "invalid fields")),
    security(("bearer" = [])))]
pub async fn create(
    state: web::Data<AppState>,
    who: Principal,
    body: ApiJson<NewCheckpoint>,
) -> Result<HttpResponse, AppError> {
    who.require_admin()?;
    let record = build(&body.0)?;
    let result = state
        .db(move |c| reference::create_checkpoint(c, record))
        .await?;
    let location = format!("/api/v1/checkpoints/{}", result.get().code);
    Ok(created(result.map(Checkpoint::from), location))
}

#[utoipa::path(get, operation_id = "checkpoints_get", path = "/api/v1/checkpoints/{key}", tag = "reference data",
    params(("key" = String, Path, description = "code or id")),
    responses((status = 200, body = Checkpoint), (status = 404, description = "no such checkpoint")), security(("bearer" = [])))]
pub async fn get(
    state: web::Data<AppState>,
    _who: Principal,
    key: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let key = key.into_inner();
    let cp = state
        .db(move |c| reference::get_checkpoint(c, &key))
        .await?;
    Ok(HttpResponse::Ok().json(Checkpoint::from(cp)))
}

#[utoipa::path(patch, operation_id = "checkpoints_update", path = "/api/v1/checkpoints/{key}", tag = "reference data", request_body = CheckpointChanges,
    params(("key" = String, Path, description = "code or id")),
    responses((status = 200, body = Checkpoint)), security(("bearer" = [])))]
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
        .db(move |c| reference::update_checkpoint(c, &key, changes))
        .await?;
    Ok(HttpResponse::Ok().json(Checkpoint::from(cp)))
}

#[utoipa::path(delete, operation_id = "checkpoints_delete", path = "/api/v1/checkpoints/{key}", tag = "reference data",
    params(("key" = String, Path, description = "code or id")),
    responses((status = 204), (status = 409, description = "still on a route")), security(("bearer" = [])))]
pub async fn delete(
    state: web::Data<AppState>,
    who: Principal,
    key: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    who.require_admin()?;
    let key = key.into_inner();
    state
        .db(move |c| reference::delete_checkpoint(c, &key))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
