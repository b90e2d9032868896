//! `/api/v1/webhooks` (admin): receivers of `alert.opened`, `alert.resolved` and
//! `report.published`, and their delivery log.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::extract::ApiJson;
use crate::api::{created, rfc3339};
use crate::app::auth::Principal;
use crate::app::error::AppError;
use crate::app::state::AppState;
use crate::app::validate::Checker;
use crate::db::{now_micros, DbConn};
use crate::store::webhooks::{self as store, WebhookRow, EVENT_TYPES};
use crate::store::{body_hash, reference, resolve_id, Created};

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

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    #[serde(default, skip_serializing)]
    pub id: Option<uuid::Uuid>,
    /// http:// or https:// URL that receives a JSON POST.
    #[schema(
        example = "https://hooks.example.org/aidflow",
        min_length = 10,
        pattern = "^\\s*https?://"
    )]
    pub url: String,
    /// Shared secret for the `X-Aidflow-Signature` HMAC; at least 16 characters.
    #[schema(min_length = 16)]
    pub secret: String,
    /// Any of alert.opened, alert.resolved, report.published.
    #[schema(min_items = 1)]
    pub events: Vec<String>,
    /// Only notifications about this organization's convoys (slug); reports and route
    /// alerts concern everyone and are not sent to a filtered webhook.
    #[serde(default)]
    #[schema(pattern = "^[a-z0-9_-]{1,64}$")]
    pub organization: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Webhook {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub organization: Option<String>,
    pub created_at: String,
}

fn to_api(c: &mut DbConn, w: WebhookRow) -> Result<Webhook, AppError> {
    let organization = match &w.organization_id {
        Some(id) => Some(reference::get_organization(c, id)?.slug),
        None => None,
    };
    Ok(Webhook {
        events: w.event_list(),
        id: w.id,
        url: w.url,
        organization,
        created_at: rfc3339(w.created_at),
    })
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
    let mut check = Checker::new();
    let url = body.url.trim().to_string();
    if !(url.starts_with("http://") || url.starts_with("https://"))
        || url.len() < 10
        || reqwest::Url::parse(&url).is_err()
    {
        check.push("url", "give an http:// or https:// URL");
    }
    if body.secret.chars().count() < 16 {
        check.push(
            "secret",
            "must be at least 16 characters: it signs every delivery",
        );
    }
    if body.events.is_empty() {
        check.push(
            "events",
            format!("give at least one of {}", EVENT_TYPES.join(", ")),
        );
    }
    for (i, e) in body.events.iter().enumerate() {
        if !EVENT_TYPES.contains(&e.as_str()) {
            check.push(
                format!("events[{i}]"),
                format!("{e:?} is not an event type; use {}", EVENT_TYPES.join(", ")),
            );
        }
    }
    check.finish()?;
    let id = resolve_id(body.id);
    let hash = body_hash(&body);
    let by = who.token_id.clone();
    let result = state
        .db(move |c| {
            let organization_id = match &body.organization {
                Some(slug) => Some(
                    reference::find_organization(c, slug)?
                        .ok_or_else(|| {
                            AppError::field(
                                "organization",
                                format!("organization {slug} does not exist"),
                            )
                        })?
                        .id,
                ),
                None => None,
            };
            let mut events = body.events.clone();
            events.sort();
            events.dedup();
            let row = WebhookRow {
                id,
                url,
                secret: body.secret.clone(),
                events: events.join(","),
                organization_id,
                body_sha256: hash,
                created_by: by,
                created_at: now_micros(),
                deleted_at: None,
            };
            let created = store::create_webhook(c, row)?;
            let is_new = created.is_new();
            let out = to_api(c, created.into_inner())?;
            Ok(if is_new {
                Created::New(out)
            } else {
                Created::Replayed(out)
            })
        })
        .await?;
    let location = format!("/api/v1/webhooks/{}/deliveries", result.get().id);
    Ok(created(result, location))
}

#[utoipa::path(get, path = "/api/v1/webhooks", operation_id = "webhooks_list", tag = "alerts",
    responses((status = 200, description = "live webhooks (secrets never shown)", body = Vec<Webhook>)), security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(token = %who.token_id))]
pub async fn list(state: web::Data<AppState>, who: Principal) -> Result<HttpResponse, AppError> {
    who.require_admin()?;
    let list = state
        .db(|c| {
            let rows = store::list_webhooks(c)?;
            rows.into_iter()
                .map(|w| to_api(c, w))
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
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
