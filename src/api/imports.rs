//! `POST /api/v1/imports/events`: a CSV file of events (the use case is `app::imports`).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::api::extract::body_error;
use crate::app::auth::Principal;
use crate::app::error::AppError;
use crate::app::imports::{import_events, ImportSummary};
use crate::app::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/imports/events", web::post().to(import));
}

#[utoipa::path(post, operation_id = "imports_import", path = "/api/v1/imports/events", tag = "convoys",
    request_body(content = String, content_type = "text/csv", description = "events, one cargo line per row; see the README for the columns"),
    responses((status = 201, description = "every row recorded", body = ImportSummary),
    (status = 200, description = "nothing new: every event was recorded before", body = ImportSummary),
    (status = 422, description = "the problems, by line and column; nothing was written")), security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(token = %who.token_id))]
pub async fn import(
    state: web::Data<AppState>,
    who: Principal,
    req: HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, AppError> {
    // A token that may not write learns that before anything about the file.
    who.require_writer()?;
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if !(content_type.starts_with("text/csv") || content_type.starts_with("application/csv")) {
        return Err(AppError::UnsupportedMediaType(
            "send the file as Content-Type: text/csv".into(),
        ));
    }
    let limit = state.settings.server.body_limit_bytes;
    let bytes = body.to_bytes_limited(limit).await.map_err(|_| {
        AppError::PayloadTooLarge("the file is larger than the server accepts (setting server.body_limit_bytes); split it".into())
    })?.map_err(body_error)?;
    let cache = state.writer.cache.clone();
    let summary = state
        .db(move |c| import_events(c, &who, &bytes, &cache))
        .await?;
    let status = if summary.created > 0 {
        actix_web::http::StatusCode::CREATED
    } else {
        actix_web::http::StatusCode::OK
    };
    Ok(HttpResponse::build(status).json(summary))
}
