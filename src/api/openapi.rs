//! The OpenAPI 3 document, generated from the handlers' annotations.

use actix_web::HttpResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::api::problem::Problem;
use crate::api::{
    alerts, checkpoints, commodities, convoys, health, imports, organizations, reports,
    requirements, routes, shortfalls, sync, tokens, webhooks,
};
use crate::domain::FieldError;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "aidflow",
        description = "Tracks humanitarian aid through a corridor: planned versus delivered tonnage per convoy and checkpoint, shortfalls and where they happened. Errors are application/problem+json (RFC 9457).",
    ),
    paths(
        health::live, health::ready, health::metrics,
        organizations::list, organizations::create, organizations::get, organizations::update, organizations::delete,
        checkpoints::list, checkpoints::create, checkpoints::get, checkpoints::update, checkpoints::delete,
        commodities::list, commodities::create, commodities::get, commodities::update, commodities::delete,
        routes::list, routes::create, routes::get, routes::update, routes::delete,
        tokens::list, tokens::create, tokens::get, tokens::revoke,
        convoys::list, convoys::create, convoys::get, convoys::list_events, convoys::create_event,
        sync::sync, imports::import, shortfalls::get,
        requirements::list, requirements::create, reports::list, reports::get, reports::publish_now,
        alerts::list, alerts::get, alerts::acknowledge, alerts::resolve,
        webhooks::list, webhooks::create, webhooks::delete, webhooks::deliveries, webhooks::redeliver,
    ),
    components(schemas(Problem, FieldError)),
    modifiers(&BearerAuth),
    tags(
        (name = "reference data", description = "Organizations, checkpoints, commodities and routes"),
        (name = "tokens", description = "Bearer tokens (admin)"),
        (name = "convoys", description = "Convoys, their checkpoint events, offline sync and CSV import"),
        (name = "shortfalls", description = "Planned versus delivered, and where the difference went"),
        (name = "reports", description = "Requirements and the weekly shortfall report"),
        (name = "alerts", description = "Stall alerts and webhook notifications"),
        (name = "operations", description = "Health and metrics"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The document as pretty JSON, for `aidflow openapi`.
pub fn document_json() -> anyhow::Result<String> {
    Ok(ApiDoc::openapi().to_pretty_json()?)
}

#[tracing::instrument(skip_all)]
pub async fn document() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
