//! `/api/v1/tokens` (admin): issue, list and revoke bearer tokens (the use cases are in
//! `app::tokens`).

use actix_web::{web, HttpResponse};

use crate::api::created;
use crate::api::extract::ApiJson;
use crate::app::auth::Principal;
use crate::app::error::AppError;
use crate::app::state::AppState;
use crate::app::tokens::{self, NewToken, Token};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/tokens")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(
        web::resource("/tokens/{id}")
            .route(web::get().to(get))
            .route(web::delete().to(revoke)),
    );
}

#[utoipa::path(post, operation_id = "tokens_create", path = "/api/v1/tokens", tag = "tokens", request_body = NewToken,
    responses((status = 201, description = "the new token, with its secret shown this once", body = Token),
    (status = 200, description = "replayed create: the stored token, without its secret", body = Token),
    (status = 422, description = "invalid fields")), security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(token = %who.token_id))]
pub async fn create(
    state: web::Data<AppState>,
    who: Principal,
    body: ApiJson<NewToken>,
) -> Result<HttpResponse, AppError> {
    who.require_admin()?;
    let body = body.0;
    tokens::check(&body)?;
    let issued = state.db(move |c| tokens::issue(c, &body)).await?;
    if issued.is_new() {
        tracing::info!(token_id = %issued.get().id, role = ?issued.get().role, by = %who.name, "token created");
    }
    let location = format!("/api/v1/tokens/{}", issued.get().id);
    Ok(created(issued, location))
}

#[utoipa::path(get, operation_id = "tokens_list", path = "/api/v1/tokens", tag = "tokens",
    responses((status = 200, description = "every token, without secrets", body = Vec<Token>)), security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(token = %who.token_id))]
pub async fn list(state: web::Data<AppState>, who: Principal) -> Result<HttpResponse, AppError> {
    who.require_admin()?;
    let list = state.db(tokens::list).await?;
    Ok(HttpResponse::Ok().json(list))
}

#[utoipa::path(get, operation_id = "tokens_get", path = "/api/v1/tokens/{id}", tag = "tokens", params(("id" = String, Path)),
    responses((status = 200, body = Token), (status = 404, description = "no such token")), security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(id = %id, token = %who.token_id))]
pub async fn get(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    who.require_admin()?;
    let id = id.into_inner();
    let token = state.db(move |c| tokens::get(c, &id)).await?;
    Ok(HttpResponse::Ok().json(token))
}

#[utoipa::path(delete, operation_id = "tokens_revoke", path = "/api/v1/tokens/{id}", tag = "tokens", params(("id" = String, Path)),
    responses((status = 200, description = "the revoked token; it stops working at once", body = Token),
    (status = 404, description = "no such token")), security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(id = %id, token = %who.token_id))]
pub async fn revoke(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    who.require_admin()?;
    let id = id.into_inner();
    let token = state.db(move |c| tokens::revoke(c, &id)).await?;
    state.tokens.clear();
    tracing::info!(token_id = %token.id, by = %who.name, "token revoked");
    Ok(HttpResponse::Ok().json(token))
}
