//! `/api/v1/convoys/{id}/claims`: what sources published about a convoy, beside the
//! logged figures. Handlers only: the rules are in `app::claims`.

use actix_web::{web, HttpResponse};

use crate::api::created;
use crate::api::extract::ApiJson;
use crate::app::auth::Principal;
use crate::app::claims::{self, NewClaim};
use crate::app::error::AppError;
use crate::app::state::AppState;
use crate::views::claims::{Claim, ConvoyClaims};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/convoys/{id}/claims")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    );
}

#[utoipa::path(post, operation_id = "convoys_create_claim", path = "/api/v1/convoys/{id}/claims", tag = "convoys", params(("id" = String, Path)), request_body = NewClaim,
    responses((status = 201, description = "recorded; the ledger's figures are unchanged", body = Claim), (status = 200, description = "replayed create: the stored claim", body = Claim),
    (status = 403, description = "a viewer token, or another organization's convoy"), (status = 404, description = "no such convoy"),
    (status = 409, description = "same id with another body, or stored for another convoy"),
    (status = 422, description = "invalid fields, each named")), security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(convoy = %id, claim = ?body.0.id))]
pub async fn create(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    body: ApiJson<NewClaim>,
) -> Result<HttpResponse, AppError> {
    let (convoy_id, body) = (id.into_inner(), body.0);
    let result = state
        .db(move |c| claims::create(c, &who, &convoy_id, &body))
        .await?;
    let location = format!("/api/v1/convoys/{}/claims", result.get().convoy);
    Ok(created(result, location))
}

#[utoipa::path(get, operation_id = "convoys_list_claims", path = "/api/v1/convoys/{id}/claims", tag = "convoys", params(("id" = String, Path)),
    responses((status = 200, description = "the claims by publication time, beside the logged figure, with their spread and whether they are disputed", body = ConvoyClaims),
    (status = 404, description = "no such convoy")), security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(convoy = %id))]
pub async fn list(
    state: web::Data<AppState>,
    _who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let (id, share) = (id.into_inner(), state.dispute);
    let out = state.db(move |c| claims::list(c, &id, share)).await?;
    Ok(HttpResponse::Ok().json(out))
}
