//! `/api/v1/alerts`: stall alerts, their acknowledgement and resolution.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::extract::ApiQuery;
use crate::app::auth::{Principal, Role};
use crate::app::error::AppError;
use crate::app::state::AppState;
use crate::db::now_micros;
use crate::domain::alerts::Rule;
use crate::store::alerts::{self as store, Alert, AlertFilter};
use crate::store::reference;
use crate::store::reference::Names;

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
    let limit = crate::api::page_limit(q.limit)?;
    if let Some(s) = &q.state {
        if !["open", "acknowledged", "resolved"].contains(&s.as_str()) {
            return Err(AppError::field(
                "state",
                format!("{s:?} is not a state; use open, acknowledged or resolved"),
            ));
        }
    }
    if let Some(r) = &q.rule {
        if Rule::parse(r).is_none() {
            let all: Vec<&str> = Rule::ALL.iter().map(|r| r.as_str()).collect();
            return Err(AppError::field(
                "rule",
                format!("{r:?} is not a rule; use one of {}", all.join(", ")),
            ));
        }
    }
    let before = crate::api::time_cursor(q.cursor.as_deref())?;
    let page = state
        .db(move |c| {
            let mut f = AlertFilter {
                state: q.state.clone(),
                rule: q.rule.clone(),
                before,
                ..Default::default()
            };
            if let Some(code) = &q.route {
                f.route_id = Some(
                    reference::find_route(c, code)?
                        .ok_or_else(|| {
                            AppError::field("route", format!("route {code} does not exist"))
                        })?
                        .row
                        .id,
                );
            }
            if let Some(slug) = &q.organization {
                f.organization_id = Some(
                    reference::find_organization(c, slug)?
                        .ok_or_else(|| {
                            AppError::field(
                                "organization",
                                format!("organization {slug} does not exist"),
                            )
                        })?
                        .id,
                );
            }
            let mut rows = store::list_alerts(c, &f, limit)?;
            let next_cursor = if rows.len() as i64 > limit {
                rows.truncate(limit as usize);
                rows.last().map(|r| format!("{}_{}", r.opened_at, r.id))
            } else {
                None
            };
            let names = Names::load(c)?;
            let items = rows
                .iter()
                .map(|r| store::to_alert(c, r, &names))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(AlertPage { items, next_cursor })
        })
        .await?;
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
    let alert = state
        .db(move |c| {
            let row = store::get_alert(c, &id)?;
            let names = Names::load(c)?;
            Ok(store::to_alert(c, &row, &names)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(alert))
}

/// Admins act on any alert; editors on their own organization's convoy alerts.
fn may_act(who: &Principal, row: &store::AlertRow) -> Result<(), AppError> {
    match (who.role, &row.organization_id) {
        (Role::Admin, _) => Ok(()),
        (Role::Editor, Some(org)) if who.organization_id.as_deref() == Some(org.as_str()) => Ok(()),
        (Role::Editor, _) => Err(AppError::Forbidden(format!(
            "token '{}' may act only on alerts about its own organization's convoys; route alerts need an admin",
            who.name
        ))),
        (Role::Viewer, _) => Err(AppError::Forbidden(format!("token '{}' is a viewer token and cannot change alerts", who.name))),
    }
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
        .db(move |c| {
            let row = store::get_alert(c, &id)?;
            may_act(&who, &row)?;
            let by = who.name.clone();
            let row = if resolve {
                store::resolve(c, &id, &by, note, now_micros())?
            } else {
                store::acknowledge(c, &id, &by, note, now_micros())?
            };
            let names = Names::load(c)?;
            Ok(store::to_alert(c, &row, &names)?)
        })
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
    act(state, who, id.into_inner(), note_of(&body)?, false).await
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
    act(state, who, id.into_inner(), note_of(&body)?, true).await
}
