//! `POST /api/v1/sync`: a batch of convoys and events from a device that was offline.
//! Each item is answered on its own — created, replayed or its error — so one bad item
//! never blocks the others, and a retried batch changes nothing.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::convoys::{self, LineInput, NewConvoy, NewEvent};
use crate::api::extract::ApiJson;
use crate::auth::Principal;
use crate::db::DbConn;
use crate::error::{AppError, Problem};
use crate::ingest::{self, Applied, EventWrite, StateCache};
use crate::state::AppState;
use crate::store::convoys as store;
use crate::store::{body_hash, Created};

/// The most items (convoys plus events) one batch may carry.
pub const MAX_ITEMS: usize = 1000;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/sync", web::post().to(sync));
}

/// An event in a batch: the fields of `POST /convoys/{id}/events` plus the convoy's id.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncEvent {
    pub id: Option<uuid::Uuid>,
    /// The id of the convoy (created earlier, or in this batch).
    pub convoy: uuid::Uuid,
    pub kind: String,
    #[serde(default)]
    pub checkpoint: Option<String>,
    pub observed_at: String,
    #[serde(default)]
    pub cargo: Vec<LineInput>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub corrects: Option<uuid::Uuid>,
}

impl SyncEvent {
    fn into_event(self) -> (uuid::Uuid, NewEvent) {
        (
            self.convoy,
            NewEvent {
                id: self.id,
                kind: self.kind,
                checkpoint: self.checkpoint,
                observed_at: self.observed_at,
                cargo: self.cargo,
                reason: self.reason,
                note: self.note,
                corrects: self.corrects,
            },
        )
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncBatch {
    /// A name for the device, for the logs.
    #[serde(default)]
    pub device: Option<String>,
    /// Every item needs its client id, so that resending the batch is safe.
    #[serde(default)]
    pub convoys: Vec<NewConvoy>,
    #[serde(default)]
    pub events: Vec<SyncEvent>,
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
    r: Result<Created<T>, AppError>,
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
            let problem = e.to_problem();
            ItemResult {
                id,
                status: ItemStatus::Error,
                http_status: problem.status,
                error: Some(problem),
            }
        }
    }
}

fn missing_id<T>() -> Result<Created<T>, AppError> {
    Err(AppError::field("id", "every item in a sync batch needs its client-chosen UUID id, so a resent batch is not counted twice"))
}

fn sync_convoy(c: &mut DbConn, who: &Principal, body: &NewConvoy) -> Result<Created<()>, AppError> {
    let Some(id) = body.id else {
        return missing_id();
    };
    let id = id.to_string();
    match store::find_convoy(c, &id)? {
        Some(row) if row.body_sha256 == body_hash(body) => Ok(Created::Replayed(())),
        Some(_) => Err(AppError::Conflict(format!(
            "convoy {id} already exists with a different body"
        ))),
        None => {
            let new = convoys::build_convoy(c, who, body, id)?;
            Ok(store::create_convoy(c, new)?.map(|_| ()))
        }
    }
}

/// Applies a batch for `who` in one transaction, each item in a savepoint of its own:
/// a failed item is undone alone, and the batch costs one commit, not a thousand. The
/// answer is sent only after that commit, so every item reported created is durable.
pub fn apply(
    c: &mut DbConn,
    who: &Principal,
    batch: SyncBatch,
    cache: &StateCache,
) -> Result<SyncResult, AppError> {
    // Two batches touching the same convoys in another order can deadlock on PostgreSQL,
    // which undoes one of them whole: that one is simply applied again.
    let mut attempt = 0;
    loop {
        attempt += 1;
        match crate::db::write_tx(c, |c| apply_items(c, who, &batch, cache)) {
            Err(AppError::Unavailable(_)) if attempt < 3 => continue,
            other => {
                return other.map(|(result, applied)| {
                    applied.committed(cache);
                    result
                })
            }
        }
    }
}

fn apply_items(
    c: &mut DbConn,
    who: &Principal,
    batch: &SyncBatch,
    cache: &StateCache,
) -> Result<(SyncResult, Applied), AppError> {
    let mut counts = SyncCounts::default();
    let convoys = batch
        .convoys
        .iter()
        .map(|body| {
            answer(
                body.id.map(|i| i.to_string()),
                sync_convoy(c, who, body),
                &mut counts,
            )
        })
        .collect();
    // The events go through the grouped write path together: a few statements for the
    // whole batch, each event still judged on its own.
    let writes: Vec<EventWrite> = batch
        .events
        .iter()
        .filter(|e| e.id.is_some())
        .map(|e| {
            let (convoy, body) = e.clone().into_event();
            EventWrite {
                who: who.clone(),
                convoy_id: convoy.to_string(),
                body,
            }
        })
        .collect();
    let mut applied = ingest::apply(c, &writes, cache)?;
    let mut written = std::mem::take(&mut applied.answers).into_iter();
    let events = batch
        .events
        .iter()
        .map(|e| {
            let result = match e.id {
                None => missing_id(),
                Some(_) => written
                    .next()
                    .unwrap_or_else(|| {
                        Err(AppError::Internal(anyhow::anyhow!("sync answer missing")))
                    })
                    .map(|r| r.map(|_| ())),
            };
            answer(e.id.map(|i| i.to_string()), result, &mut counts)
        })
        .collect();
    Ok((
        SyncResult {
            convoys,
            events,
            counts,
        },
        applied,
    ))
}

#[utoipa::path(post, operation_id = "sync_sync", path = "/api/v1/sync", tag = "convoys", request_body = SyncBatch,
    responses((status = 200, description = "one answer per item: created, replayed, or its error", body = SyncResult),
    (status = 422, description = "more than 1000 items")), security(("bearer" = [])))]
pub async fn sync(
    state: web::Data<AppState>,
    who: Principal,
    body: ApiJson<SyncBatch>,
) -> Result<HttpResponse, AppError> {
    let batch = body.0;
    let items = batch.convoys.len() + batch.events.len();
    if items > MAX_ITEMS {
        return Err(AppError::field("events", format!("a batch carries at most {MAX_ITEMS} items (convoys plus events); this one has {items}: split it")));
    }
    let device = batch.device.clone().unwrap_or_default();
    let cache = state.writer.cache.clone();
    let result = state.db(move |c| apply(c, &who, batch, &cache)).await?;
    tracing::info!(device = %device, created = result.counts.created, replayed = result.counts.replayed, failed = result.counts.failed, "sync batch applied");
    Ok(HttpResponse::Ok().json(result))
}
