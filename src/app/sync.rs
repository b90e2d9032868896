//! A batch from a device that was offline: convoys and events, each answered on its own
//! — created, replayed or its error — so one bad item never blocks the others, and a
//! resent batch changes nothing.

use serde::Deserialize;
use utoipa::ToSchema;

use crate::app::auth::Principal;
use crate::app::convoys::{create_synced, missing_sync_id};
use crate::app::error::AppError;
use crate::app::events::{self, EventWrite, StateCache};
use crate::app::input::{LineInput, NewConvoy, NewEvent};
use crate::db::DbConn;
use crate::store::Created;

/// The most items (convoys plus events) one batch may carry.
pub const MAX_ITEMS: usize = 1000;

/// An event in a batch: the fields of `POST /convoys/{id}/events` plus the convoy's id.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncEvent {
    pub id: Option<uuid::Uuid>,
    /// The id of the convoy (created earlier, or in this batch).
    pub convoy: uuid::Uuid,
    #[schema(pattern = "^(departed|arrived|held|cleared|turned_back|delivered|closed|cancelled)$")]
    pub kind: String,
    #[serde(default)]
    #[schema(pattern = "^[A-Z0-9_-]{1,32}$")]
    pub checkpoint: Option<String>,
    #[schema(
        pattern = "^(199[0-9]|20[0-9]{2})-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,6})?(Z|[+-](0[0-9]|1[0-3]):[0-5][0-9])$"
    )]
    pub observed_at: String,
    #[serde(default)]
    pub cargo: Vec<LineInput>,
    #[serde(default)]
    #[schema(
        pattern = "^(denied_at_checkpoint|confiscated|damaged|spoiled|stolen|short_loaded|rejected_on_receipt|other)$"
    )]
    pub reason: Option<String>,
    #[serde(default)]
    #[schema(
        max_length = 2000,
        pattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$"
    )]
    pub note: Option<String>,
    #[serde(default)]
    pub corrects: Option<uuid::Uuid>,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1000)]
    pub trucks_passed: Option<i64>,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1000)]
    pub trucks_held: Option<i64>,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1000)]
    pub trucks_turned_back: Option<i64>,
}

impl SyncEvent {
    pub fn into_event(self) -> (uuid::Uuid, NewEvent) {
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
                trucks_passed: self.trucks_passed,
                trucks_held: self.trucks_held,
                trucks_turned_back: self.trucks_turned_back,
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

/// Each item's outcome, in the batch's order.
pub struct Outcomes {
    pub convoys: Vec<Result<Created<()>, AppError>>,
    pub events: Vec<Result<Created<()>, AppError>>,
}

/// Refuses a batch that is too large before anything is read.
pub fn check_size(batch: &SyncBatch) -> Result<(), AppError> {
    let items = batch.convoys.len() + batch.events.len();
    if items > MAX_ITEMS {
        return Err(AppError::field("events", format!("a batch carries at most {MAX_ITEMS} items (convoys plus events); this one has {items}: split it")));
    }
    Ok(())
}

/// Applies a batch for `who` in one transaction, each convoy in a savepoint of its own
/// and the events through the one event write path: a failed item is undone alone, and
/// the batch costs one commit, not a thousand. The answer is given only after that
/// commit, so every item reported created is durable.
#[tracing::instrument(skip_all, fields(token = %who.token_id, device = ?batch.device, convoys = batch.convoys.len(), events = batch.events.len()))]
pub fn apply(
    c: &mut DbConn,
    who: &Principal,
    batch: &SyncBatch,
    cache: &StateCache,
) -> Result<Outcomes, AppError> {
    check_size(batch)?;
    events::in_write_tx(c, cache, |c, attempt| {
        let convoys: Vec<_> = batch
            .convoys
            .iter()
            .map(|body| {
                use diesel::Connection;
                c.transaction(|c| create_synced(c, who, body))
            })
            .collect();
        // Storage that refuses writes fails the batch as a whole (503), not item by item.
        if let Some(Err(AppError::Storage(m))) = convoys
            .iter()
            .find(|r| matches!(r, Err(AppError::Storage(_))))
        {
            return Err(AppError::Storage(m.clone()));
        }
        // The events go through the grouped write path together: a few statements for
        // the whole batch, each event still judged on its own.
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
        let mut applied = events::apply(c, attempt, &writes, cache)?;
        let mut written = std::mem::take(&mut applied.answers).into_iter();
        let events = batch
            .events
            .iter()
            .map(|e| match e.id {
                None => who.require_writer().and(Err(missing_sync_id())),
                Some(_) => written
                    .next()
                    .unwrap_or_else(|| Err(AppError::internal("sync answer missing")))
                    .map(|r| r.map(|_| ())),
            })
            .collect();
        Ok((Outcomes { convoys, events }, applied))
    })
}
