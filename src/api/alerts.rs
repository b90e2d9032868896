//! `/api/v1/alerts`: stall alerts, their acknowledgement and resolution (the use cases are
//! in `app::alerts`).

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::extract::ApiQuery;
use crate::app::alerts::{self, ListFilter};
use crate::app::auth::Principal;
use crate::app::error::AppError;
use crate::app::state::AppState;
use crate::store::alerts::Alert;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/alerts", web::get().to(list))
        .route("/alerts/{id}", web::get().to(get))
        .route("/alerts/{id}/acknowledge", web::post().to(acknowledge))
        .route("/alerts/{id}/resolve", web::post().to(resolve));
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AlertParams {
    /// open, acknowledged or resolved.
    #[param(pattern = "^(open|acknowledged|resolved)$")]
    pub state: Option<String>,
    #[param(
        pattern = "^(departure_missed|convoy_held|convoy_stalled|convoy_overdue|corridor_dry|coverage_low)$"
    )]
    pub rule: Option<String>,
    /// Route code.
    #[param(pattern = "^[a-z0-9_-]{1,64}$")]
    pub route: Option<String>,
    /// Organization slug.
    #[param(pattern = "^[a-z0-9_-]{1,64}$")]
    pub organization: Option<String>,
    /// Items per page, 1–500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    #[param(pattern = "^-?[0-9]{1,19}_[0-9a-f-]{1,36}$")]
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AlertPage {
    pub items: Vec<Alert>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertNote {
    /// Why, for the record.
    #[serde(default)]
    #[schema(
        max_length = 2000,
        pattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$"
    )]
    pub note: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/alerts", operation_id = "alerts_list", tag = "alerts", params(AlertParams),
    responses((status = 200, body = AlertPage)), security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn list(
    state: web::Data<AppState>,
    _who: Principal,
    q: ApiQuery<AlertParams>,
) -> Result<HttpResponse, AppError> {
    let q = q.0;
    let filter = ListFilter {
        state: q.state,
        rule: q.rule,
        route: q.route,
        organization: q.organization,
        limit: q.limit,
        cursor: q.cursor,
    };
    // Bad filters are answered before the database is asked anything.
    alerts::check_filter(&filter)?;
    let list = state.db(move |c| alerts::list(c, &filter)).await?;
    let page = AlertPage {
        items: list.items,
        next_cursor: list.next_cursor,
    };
    Ok(HttpResponse::Ok().json(page))
}

#[utoipa::path(get, path = "/api/v1/alerts/{id}", operation_id = "alerts_get", tag = "alerts", params(("id" = String, Path)),
    responses((status = 200, body = Alert), (status = 404, description = "no such alert")), security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn get(
    state: web::Data<AppState>,
    _who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let alert = state.db(move |c| alerts::get(c, &id)).await?;
    Ok(HttpResponse::Ok().json(alert))
}

#[tracing::instrument(skip_all, fields(token = %who.token_id))]
async fn act(
    state: web::Data<AppState>,
    who: Principal,
    id: String,
    note: Option<String>,
    resolve: bool,
) -> Result<HttpResponse, AppError> {
    let alert = state
        .db(move |c| alerts::act(c, &who, &id, note, resolve))
        .await?;
    Ok(HttpResponse::Ok().json(alert))
}

/// The optional `{"note": …}` body: an empty body or JSON `null` is no note, a bad one is
/// an error like anywhere else.
fn note_of(body: &web::Bytes) -> Result<Option<String>, AppError> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(None);
    }
    let parsed: Option<AlertNote> = crate::api::extract::parse_json(body)?;
    let Some(parsed) = parsed else {
        return Ok(None);
    };
    Ok(parsed
        .note
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty()))
}

/// The note of a body; when the body is bad, a token that may not act on the alert is
/// told that first, whatever else is wrong with the body.
async fn note_or_refusal(
    state: &web::Data<AppState>,
    who: &Principal,
    id: &str,
    body: &web::Bytes,
) -> Result<Option<String>, AppError> {
    match note_of(body) {
        Ok(note) => Ok(note),
        Err(e) => {
            let (who, id) = (who.clone(), id.to_string());
            state
                .db(move |c| alerts::check_may_act(c, &who, &id))
                .await?;
            Err(e)
        }
    }
}

#[utoipa::path(post, path = "/api/v1/alerts/{id}/acknowledge", operation_id = "alerts_acknowledge", tag = "alerts", params(("id" = String, Path)),
    request_body(content = Option<AlertNote>, description = "optional: a note for the record; send no body, {} or {\"note\": …}"), responses((status = 200, body = Alert), (status = 403, description = "not your organization's alert"),
    (status = 409, description = "already resolved"), (status = 422, description = "a bad note body")), security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(id = %id, token = %who.token_id))]
pub async fn acknowledge(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    who.require_writer()?;
    let id = id.into_inner();
    let note = note_or_refusal(&state, &who, &id, &body).await?;
    act(state, who, id, note, false).await
}

#[utoipa::path(post, path = "/api/v1/alerts/{id}/resolve", operation_id = "alerts_resolve", tag = "alerts", params(("id" = String, Path)),
    request_body(content = Option<AlertNote>, description = "optional: a note for the record; send no body, {} or {\"note\": …}"), responses((status = 200, body = Alert), (status = 403, description = "not your organization's alert"),
    (status = 409, description = "already resolved"), (status = 422, description = "a bad note body")), security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(id = %id, token = %who.token_id))]
pub async fn resolve(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    who.require_writer()?;
    let id = id.into_inner();
    let note = note_or_refusal(&state, &who, &id, &body).await?;
    act(state, who, id, note, true).await
}
