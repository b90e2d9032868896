//! `/api/v1/tokens` (admin): issue, list and revoke bearer tokens.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::extract::ApiJson;
use crate::api::{created, rfc3339};
use crate::app::auth::{Principal, Role};
use crate::app::error::AppError;
use crate::app::state::AppState;
use crate::app::validate::{self, Checker};
use crate::db::DbConn;
use crate::store::{self, body_hash, reference, tokens};

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

#[derive(Debug, Serialize, ToSchema)]
pub struct Token {
    pub id: String,
    pub name: String,
    pub role: Role,
    /// Organization slug (required for editors).
    pub organization: Option<String>,
    /// The first characters of the secret, to tell tokens apart.
    pub hint: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
    /// The secret, present only in the response that created the token. Store it now:
    /// it cannot be shown again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    #[serde(default, skip_serializing)]
    pub id: Option<uuid::Uuid>,
    #[schema(
        example = "kornidzor-field-phone",
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$"
    )]
    pub name: String,
    pub role: Role,
    /// Organization slug; required for editors, optional otherwise.
    #[serde(default)]
    #[schema(pattern = "^[a-z0-9_-]{1,64}$")]
    pub organization: Option<String>,
}

fn to_api(conn: &mut DbConn, t: tokens::Token, secret: Option<String>) -> Result<Token, AppError> {
    let organization = match &t.organization_id {
        Some(id) => Some(reference::get_organization(conn, id)?.slug),
        None => None,
    };
    Ok(Token {
        role: Role::parse(&t.role).unwrap_or(Role::Viewer),
        id: t.id,
        name: t.name,
        organization,
        hint: t.hint,
        created_at: rfc3339(t.created_at),
        revoked_at: t.revoked_at.map(rfc3339),
        token: secret,
    })
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
    let mut check = Checker::new();
    let name = check.take("name", validate::name(&body.name));
    if body.role == Role::Editor && body.organization.is_none() {
        check.push(
            "organization",
            "an editor token needs the organization whose convoys it may write",
        );
    }
    check.finish()?;
    let id = store::resolve_id(body.id);
    let hash = body_hash(&body);
    let issued = state
        .db(move |c| {
            let organization_id = match &body.organization {
                Some(slug) => Some(
                    reference::find_organization(c, slug)?
                        .ok_or_else(|| {
                            AppError::field(
                                "organization",
                                format!("organization {slug} does not exist"),
                            )
                        })?
                        .id,
                ),
                None => None,
            };
            let created = tokens::create_token(
                c,
                id,
                name.unwrap_or_default(),
                body.role,
                organization_id,
                hash,
            )?;
            let is_new = created.is_new();
            let issued = created.into_inner();
            let token = to_api(c, issued.token, issued.secret)?;
            Ok(if is_new {
                store::Created::New(token)
            } else {
                store::Created::Replayed(token)
            })
        })
        .await?;
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
    let list = state
        .db(|c| {
            let rows = tokens::list_tokens(c)?;
            rows.into_iter()
                .map(|t| to_api(c, t, None))
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
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
    let token = state
        .db(move |c| {
            let t = tokens::get_token(c, &id)?;
            to_api(c, t, None)
        })
        .await?;
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
    let token = state
        .db(move |c| {
            let t = tokens::revoke_token(c, &id)?;
            to_api(c, t, None)
        })
        .await?;
    state.tokens.clear();
    tracing::info!(token_id = %token.id, by = %who.name, "token revoked");
    Ok(HttpResponse::Ok().json(token))
}
