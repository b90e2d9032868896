//! `/api/v1/ledger` (admin): verifying every convoy's chain, and the evidence export as a
//! streamed JSON Lines body (`app::evidence`).

use std::io::Write;

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{web, HttpResponse};
use tokio::sync::mpsc;

use crate::app::auth::Principal;
use crate::app::error::AppError;
use crate::app::evidence::{self, export};
use crate::app::state::AppState;
use crate::views::evidence::Verification;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/ledger/verify", web::get().to(verify))
        .route("/ledger/export", web::get().to(export_ledger));
}

#[utoipa::path(get, path = "/api/v1/ledger/verify", operation_id = "ledger_verify", tag = "ledger",
    responses((status = 200, description = "what every chain and every published revision's recorded heads gave; `ok` is false when anything no longer matches", body = Verification),
    (status = 403, description = "not an admin")),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(token = %who.token_id))]
pub async fn verify(state: web::Data<AppState>, who: Principal) -> Result<HttpResponse, AppError> {
    who.require_admin()?;
    let v = state.db(move |c| evidence::verify_as(c, &who)).await?;
    Ok(HttpResponse::Ok().json(v))
}

/// A `Write` that hands the export to the response body in chunks of about 64 KiB, and
/// fails once the client has gone (so the export stops reading).
struct ChannelWriter {
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    buf: Vec<u8>,
}

const CHUNK: usize = 64 * 1024;

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx.blocking_send(Ok(chunk)).map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away")
        })
    }
}

#[utoipa::path(get, path = "/api/v1/ledger/export", operation_id = "ledger_export", tag = "ledger",
    responses((status = 200, description = "the whole ledger as JSON Lines (application/x-ndjson), streamed: header, reference data, published revisions' chain heads, each convoy followed by its events with their hashes and its claims with theirs, and an end record with the counts and the claims digest; `aidflow verify --file` checks it", content_type = "application/x-ndjson", body = String),
    (status = 403, description = "not an admin")),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(token = %who.token_id))]
pub async fn export_ledger(
    state: web::Data<AppState>,
    who: Principal,
) -> Result<HttpResponse, AppError> {
    who.require_admin()?;
    // The connection is taken before answering, so a busy pool is a 503, not a cut body.
    let pool = state.pool.clone();
    let mut conn = web::block(move || pool.get())
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("blocking task failed: {e}")))??;
    let instance = export::Instance::new(state.backend.as_str(), state.tz.name());
    let share = state.dispute;
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(8);
    let span = tracing::Span::current();
    actix_web::rt::task::spawn_blocking(move || {
        span.in_scope(|| {
            let mut out = ChannelWriter {
                tx: tx.clone(),
                buf: Vec::with_capacity(CHUNK),
            };
            match export::export(&mut conn, &mut out, &instance, share) {
                Ok(counts) => tracing::info!(
                    convoys = counts.convoys,
                    events = counts.events,
                    snapshots = counts.snapshots,
                    claims = counts.claims,
                    "ledger exported"
                ),
                Err(e) if tx.is_closed() => {
                    tracing::info!(error = %e, "ledger export stopped: the client went away");
                }
                Err(e) => {
                    // The body is cut short: the missing end record tells the reader.
                    tracing::error!(error = ?e, "ledger export failed");
                    let _ = tx.blocking_send(Err(std::io::Error::other("the export failed")));
                }
            }
        });
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let name = format!(
        "aidflow-ledger-{}.jsonl",
        chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
    );
    Ok(HttpResponse::Ok()
        .content_type("application/x-ndjson")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .streaming(body))
}
