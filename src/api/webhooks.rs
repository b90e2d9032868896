//! `/api/v1/webhooks` (admin): receivers of `alert.opened`, `alert.resolved`,
//! `report.published`, `convoy.event_recorded` and `convoy.event_voided`, and their
//! delivery log.

use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::extract::ApiJson;
use crate::api::{created, rfc3339};
use crate::app::auth::Principal;
use crate::app::error::AppError;
use crate::app::state::AppState;
use crate::app::webhooks::{self, NewWebhook, Webhook};
use crate::store::webhooks as store;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/webhooks", web::get().to(list))
        .route("/webhooks", web::post().to(create))
        .route("/webhooks/{id}", web::delete().to(delete))
        .route("/webhooks/{id}/deliveries", web::get().to(deliveries))
        .route(
            "/webhooks/{id}/deliveries/{delivery}/redeliver",
            web::post().to(redeliver),
        );
}

#[utoipa::path(post, path = "/api/v1/webhooks", operation_id = "webhooks_create", tag = "alerts", request_body = NewWebhook,
    responses((status = 201, body = Webhook), (status = 200, description = "replayed create", body = Webhook), (status = 422, description = "invalid fields")),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(token = %who.token_id))]
pub async fn create(
    state: web::Data<AppState>,
    who: Principal,
    body: ApiJson<NewWebhook>,
) -> Result<HttpResponse, AppError> {
    who.require_admin()?;
    let body = body.0;
    webhooks::check(&body)?;
    let result = state.db(move |c| webhooks::create(c, &who, &body)).await?;
    let location = format!("/api/v1/webhooks/{}/deliveries", result.get().id);
    Ok(created(result, location))
}

#[utoipa::path(get, path = "/api/v1/webhooks", operation_id = "webhooks_list", tag = "alerts",
    responses((status = 200, description = "live webhooks (secrets never shown)", body = Vec<Webhook>)), security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(token = %who.token_id))]
pub async fn list(state: web::Data<AppState>, who: Principal) -> Result<HttpResponse, AppError> {
    who.require_admin()?;
    let list = state.db(webhooks::list).await?;
    Ok(HttpResponse::Ok().json(list))
}

#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", operation_id = "webhooks_delete", tag = "alerts", params(("id" = String, Path)),
    responses((status = 204), (status = 404, description = "no such webhook")), security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(id = %id, token = %who.token_id))]
pub async fn delete(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    who.require_admin()?;
    let id = id.into_inner();
    state
        .db(move |c| Ok(store::delete_webhook(c, &id)?))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Attempt {
    pub attempt: i32,
    pub started_at: String,
    pub duration_ms: i64,
    pub status_code: Option<i32>,
    pub error: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Delivery {
    pub id: String,
    /// The notification's id (the `id` in the body), the same for every webhook.
    pub event_id: String,
    #[schema(value_type = crate::app::webhooks::WebhookEventType)]
    pub event_type: String,
    /// pending, delivered or failed.
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: Option<String>,
    pub delivered_at: Option<String>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: String,
    pub log: Vec<Attempt>,
}

fn delivery_out(d: store::DeliveryRow, attempts: Vec<store::AttemptRow>) -> Delivery {
    Delivery {
        next_attempt_at: (d.state == "pending").then(|| rfc3339(d.next_attempt_at)),
        id: d.id,
        event_id: d.outbox_id,
        event_type: d.event_type,
        state: d.state,
        attempts: d.attempts,
        delivered_at: d.delivered_at.map(rfc3339),
        last_status: d.last_status,
        last_error: d.last_error,
        created_at: rfc3339(d.created_at),
        log: attempts
            .into_iter()
            .map(|a| Attempt {
                attempt: a.attempt,
                started_at: rfc3339(a.started_at),
                duration_ms: a.duration_ms,
                status_code: a.status_code,
                error: a.error,
            })
            .collect(),
    }
}

#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", operation_id = "webhooks_deliveries", tag = "alerts", params(("id" = String, Path)),
    responses((status = 200, description = "the latest 500 deliveries with every attempt", body = Vec<Delivery>)), security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(id = %id, token = %who.token_id))]
pub async fn deliveries(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    who.require_admin()?;
    let id = id.into_inner();
    let list = state
        .db(move |c| {
            store::get_webhook(c, &id)?;
            Ok(store::deliveries_of(c, &id, 500)?
                .into_iter()
                .map(|(d, a)| delivery_out(d, a))
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

#[utoipa::path(post, path = "/api/v1/webhooks/{id}/deliveries/{delivery}/redeliver", operation_id = "webhooks_redeliver", tag = "alerts",
    params(("id" = String, Path), ("delivery" = String, Path)),
    responses((status = 200, description = "due again now", body = Delivery), (status = 404, description = "no such delivery")), security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(token = %who.token_id))]
pub async fn redeliver(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    who.require_admin()?;
    let (id, delivery) = path.into_inner();
    let d = state
        .db(move |c| Ok(store::redeliver(c, &id, &delivery)?))
        .await?;
    Ok(HttpResponse::Ok().json(delivery_out(d, Vec::new())))
}
