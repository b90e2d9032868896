//! `/api/v1/convoys` and `/api/v1/convoys/{id}/events`: plans, checkpoint events, the
//! waterfall and the shortfall of each convoy. Handlers only: the rules are in
//! `app::convoys`, `app::input` and `app::events`.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::created;
use crate::api::extract::{ApiJson, ApiQuery};
use crate::app::auth::Principal;
use crate::app::convoys::{self, ListFilter};
use crate::app::error::AppError;
use crate::app::events::EventWrite;
use crate::app::input::{NewConvoy, NewEvent};
use crate::app::state::AppState;
use crate::views::convoys::{Convoy, ConvoySummary, Event};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/convoys")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(web::resource("/convoys/{id}").route(web::get().to(get)))
    .service(
        web::resource("/convoys/{id}/events")
            .route(web::get().to(list_events))
            .route(web::post().to(create_event)),
    );
}

#[utoipa::path(post, operation_id = "convoys_create", path = "/api/v1/convoys", tag = "convoys", request_body = NewConvoy,
    responses((status = 201, body = Convoy), (status = 200, description = "replayed create: the stored convoy", body = Convoy),
    (status = 403, description = "another organization's convoy"), (status = 409, description = "same id with another body, or reference taken"),
    (status = 422, description = "invalid fields")), security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(token = %who.token_id))]
pub async fn create(
    state: web::Data<AppState>,
    who: Principal,
    body: ApiJson<NewConvoy>,
) -> Result<HttpResponse, AppError> {
    let body = body.0;
    let result = state.db(move |c| convoys::create(c, &who, &body)).await?;
    let location = format!("/api/v1/convoys/{}", result.get().summary.id);
    Ok(created(result, location))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ConvoyListParams {
    /// Organization slug.
    #[param(pattern = "^[a-z0-9_-]{1,64}$")]
    pub organization: Option<String>,
    /// Route code.
    #[param(pattern = "^[a-z0-9_-]{1,64}$")]
    pub route: Option<String>,
    #[param(
        pattern = "^(planned|in_transit|held|delivered|short_delivered|turned_back|cancelled)$"
    )]
    pub status: Option<String>,
    /// Expected arrival on or after this local date (YYYY-MM-DD).
    #[param(pattern = "^(199[0-9]|20[0-9]{2})-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$")]
    pub due_from: Option<String>,
    /// Expected arrival on or before this local date (YYYY-MM-DD).
    #[param(pattern = "^(199[0-9]|20[0-9]{2})-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$")]
    pub due_to: Option<String>,
    /// Part of the reference, in any case (`arm-2023`).
    #[param(
        max_length = 64,
        pattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$"
    )]
    pub reference: Option<String>,
    /// Items per page, 1–500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    #[param(pattern = "^-?[0-9]{1,19}_[0-9a-f-]{1,36}$")]
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConvoyPage {
    pub items: Vec<ConvoySummary>,
    pub next_cursor: Option<String>,
}

#[utoipa::path(get, operation_id = "convoys_list", path = "/api/v1/convoys", tag = "convoys", params(ConvoyListParams),
    responses((status = 200, body = ConvoyPage)), security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn list(
    state: web::Data<AppState>,
    _who: Principal,
    q: ApiQuery<ConvoyListParams>,
) -> Result<HttpResponse, AppError> {
    let q = q.0;
    let filter = ListFilter {
        organization: q.organization,
        route: q.route,
        status: q.status,
        due_from: q.due_from,
        due_to: q.due_to,
        reference: q.reference,
        limit: q.limit,
        cursor: q.cursor,
    };
    let tz = state.tz;
    // Bad filters are answered before the database is asked anything.
    convoys::check_filter(tz, &filter)?;
    let page = state.db(move |c| convoys::list(c, tz, &filter)).await?;
    Ok(HttpResponse::Ok().json(ConvoyPage {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}

#[utoipa::path(get, operation_id = "convoys_get", path = "/api/v1/convoys/{id}", tag = "convoys", params(("id" = String, Path)),
    responses((status = 200, description = "the convoy with its figures, events and claims (`claims`: what sources published, beside the logged figure)", body = Convoy), (status = 404, description = "no such convoy")), security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(convoy = %id))]
pub async fn get(
    state: web::Data<AppState>,
    _who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let share = state.dispute;
    let convoy = state.db(move |c| convoys::get(c, &id, share)).await?;
    Ok(HttpResponse::Ok().json(convoy))
}

#[utoipa::path(get, operation_id = "convoys_list_events", path = "/api/v1/convoys/{id}/events", tag = "convoys", params(("id" = String, Path)),
    responses((status = 200, description = "every event in recording order, voided ones marked", body = Vec<Event>),
    (status = 404, description = "no such convoy")), security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(convoy = %id))]
pub async fn list_events(
    state: web::Data<AppState>,
    _who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let events = state.db(move |c| convoys::events(c, &id)).await?;
    Ok(HttpResponse::Ok().json(events))
}

#[utoipa::path(post, operation_id = "convoys_create_event", path = "/api/v1/convoys/{id}/events", tag = "convoys", params(("id" = String, Path)), request_body = NewEvent,
    responses((status = 201, body = Event), (status = 200, description = "replayed: the stored event, counted once", body = Event),
    (status = 403, description = "another organization's convoy"), (status = 404, description = "no such convoy"),
    (status = 409, description = "same id with another body, or the corrected event was already corrected"),
    (status = 422, description = "invalid fields, or the ledger would become impossible (the detail names the event)")),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(convoy = %id, event = ?body.0.id))]
pub async fn create_event(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    body: ApiJson<NewEvent>,
) -> Result<HttpResponse, AppError> {
    let write = EventWrite {
        who,
        convoy_id: id.into_inner(),
        body: body.0,
    };
    let result = state.writer.submit(write).await?;
    let location = format!("/api/v1/convoys/{}/events", result.get().convoy);
    Ok(created(result, location))
}
