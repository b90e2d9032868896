//! `POST /api/v1/sync`: a batch of convoys and events from a device that was offline,
//! answered item by item (the use case is `app::sync`).

use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::extract::ApiJson;
use crate::api::problem::{to_problem, Problem};
use crate::app::auth::Principal;
use crate::app::error::AppError;
use crate::app::state::AppState;
use crate::app::sync::{self, SyncBatch};
use crate::store::Created;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/sync", web::post().to(sync));
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    Created,
    Replayed,
    Error,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ItemResult {
    /// The item's id (null if it had none).
    pub id: Option<String>,
    pub status: ItemStatus,
    /// The HTTP status the item would have had on its own.
    pub http_status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Problem>,
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct SyncCounts {
    pub created: usize,
    pub replayed: usize,
    pub failed: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SyncResult {
    pub convoys: Vec<ItemResult>,
    pub events: Vec<ItemResult>,
    pub counts: SyncCounts,
}

fn answer<T>(
    id: Option<String>,
    r: &Result<Created<T>, AppError>,
    counts: &mut SyncCounts,
) -> ItemResult {
    match r {
        Ok(Created::New(_)) => {
            counts.created += 1;
            ItemResult {
                id,
                status: ItemStatus::Created,
                http_status: 201,
                error: None,
            }
        }
        Ok(Created::Replayed(_)) => {
            counts.replayed += 1;
            ItemResult {
                id,
                status: ItemStatus::Replayed,
                http_status: 200,
                error: None,
            }
        }
        Err(e) => {
            counts.failed += 1;
            let problem = to_problem(e);
            ItemResult {
                id,
                status: ItemStatus::Error,
                http_status: problem.status,
                error: Some(problem),
            }
        }
    }
}

#[utoipa::path(post, operation_id = "sync_sync", path = "/api/v1/sync", tag = "convoys", request_body = SyncBatch,
    responses((status = 200, description = "one answer per item: created, replayed, or its error", body = SyncResult),
    (status = 422, description = "more than 1000 items")), security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(token = %who.token_id))]
pub async fn sync(
    state: web::Data<AppState>,
    who: Principal,
    body: ApiJson<SyncBatch>,
) -> Result<HttpResponse, AppError> {
    let batch = body.0;
    sync::check_size(&batch)?;
    let device = batch.device.clone().unwrap_or_default();
    let cache = state.writer.cache.clone();
    let (outcomes, batch) = state
        .db(move |c| sync::apply(c, &who, &batch, &cache).map(|o| (o, batch)))
        .await?;
    let mut counts = SyncCounts::default();
    let convoys = batch
        .convoys
        .iter()
        .zip(&outcomes.convoys)
        .map(|(item, r)| answer(item.id.map(|i| i.to_string()), r, &mut counts))
        .collect();
    let events = batch
        .events
        .iter()
        .zip(&outcomes.events)
        .map(|(item, r)| answer(item.id.map(|i| i.to_string()), r, &mut counts))
        .collect();
    let result = SyncResult {
        convoys,
        events,
        counts,
    };
    tracing::info!(device = %device, created = result.counts.created, replayed = result.counts.replayed, failed = result.counts.failed, "sync batch applied");
    Ok(HttpResponse::Ok().json(result))
}
