//! The OpenAPI 3 document, generated from the handlers' annotations.

use actix_web::HttpResponse;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::response::{ResponseBuilder, ResponsesBuilder};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, HeaderBuilder, ObjectBuilder, Ref, RefOr, Type};
use utoipa::{Modify, OpenApi};

use crate::api::problem::Problem;
use crate::api::{
    alerts, checkpoints, claims, commodities, convoys, health, imports, intakes, ledger,
    organizations, reports, requirements, routes, shortfalls, sync, tokens, webhooks,
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
        claims::create, claims::list,
        sync::sync, imports::import, shortfalls::get,
        requirements::list, requirements::create, reports::list, reports::get, reports::publish_now,
        alerts::list, alerts::get, alerts::acknowledge, alerts::resolve,
        webhooks::list, webhooks::create, webhooks::delete, webhooks::deliveries, webhooks::redeliver,
        intakes::create, intakes::list, intakes::get, intakes::log, intakes::replay, intakes::kobo,
        ledger::verify, ledger::export_ledger,
    ),
    components(schemas(Problem, FieldError)),
    modifiers(&BearerAuth, &CommonResponses),
    tags(
        (name = "reference data", description = "Organizations, checkpoints, commodities and routes"),
        (name = "tokens", description = "Bearer tokens (admin)"),
        (name = "convoys", description = "Convoys, their checkpoint events, the claims sources published about them, offline sync and CSV import"),
        (name = "shortfalls", description = "Planned versus delivered, and where the difference went"),
        (name = "reports", description = "Requirements and the weekly shortfall report"),
        (name = "alerts", description = "Stall alerts and webhook notifications"),
        (name = "operations", description = "Health and metrics"),
        (name = "ledger", description = "The tamper-evident ledger (admin): verifying every convoy's hash chain, and the evidence export"),
        (name = "form intakes", description = "KoboToolbox and ODK Collect submissions: intakes (admin), their logs, and the KoboToolbox push (ODK Collect's OpenRosa endpoints are at /intake/odk/{intake}/)"),
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
        // Form intakes: the intake's name and secret, or the secret in a header.
        components.add_security_scheme(
            "intake_basic",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Basic).build()),
        );
        components.add_security_scheme(
            "intake_secret",
            SecurityScheme::ApiKey(utoipa::openapi::security::ApiKey::Header(
                utoipa::openapi::security::ApiKeyValue::new("X-Aidflow-Intake-Secret"),
            )),
        );
    }
}

/// The error answers that every operation can give, by what it takes: a token (401, 403),
/// an id or code in its path (404), query parameters or a body (422), a body (400, 413,
/// 415), the database (503). Each is a problem document, declared once under
/// `components/responses` and referenced from every operation it applies to; an answer an
/// operation already documents keeps its own description.
struct CommonResponses;

/// (status, component name, description) of the shared error answers.
const COMMON: [(&str, &str, &str); 8] = [
    ("400", "Malformed", "The body is not JSON, or is empty (`malformed-request`)."),
    ("401", "Unauthorized", "No usable bearer token (`unauthorized`)."),
    ("403", "Forbidden", "The token's role or organization may not do this (`forbidden`)."),
    ("404", "NotFound", "No such record (`not-found`)."),
    ("413", "PayloadTooLarge", "The body is larger than `server.body_limit_bytes` (`payload-too-large`)."),
    ("415", "UnsupportedMediaType", "The body is not sent with the media type this operation takes (`unsupported-media-type`)."),
    ("422", "Invalid", "Invalid, missing or unknown fields or query parameters, each named in `errors` (`validation`), or, for convoy events, a ledger that would become impossible (`ledger-conflict`)."),
    ("503", "Unavailable", "The database cannot be reached or refuses writes right now; retry after `Retry-After` seconds (`unavailable`)."),
];

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for (status, name, description) in COMMON {
            let mut response = ResponseBuilder::new().description(description).content(
                crate::api::problem::PROBLEM_JSON,
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            );
            if status == "503" {
                response = response.header(
                    "Retry-After",
                    HeaderBuilder::new()
                        .schema(ObjectBuilder::new().schema_type(Type::Integer))
                        .description(Some("Seconds to wait before retrying."))
                        .build(),
                );
            }
            components
                .responses
                .insert(name.to_string(), RefOr::T(response.build()));
        }
        for (path, item) in openapi.paths.paths.iter_mut() {
            let ops = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in ops.into_iter().flatten() {
                add_common_responses(path, op);
            }
        }
    }
}

fn add_common_responses(path: &str, op: &mut Operation) {
    let params = op.parameters.as_deref().unwrap_or_default();
    let has_path_param = params
        .iter()
        .any(|p| matches!(p.parameter_in, ParameterIn::Path));
    let has_query = params
        .iter()
        .any(|p| matches!(p.parameter_in, ParameterIn::Query));
    let has_body = op.request_body.is_some();
    let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
    // /health/live and /metrics answer without the database; /health/ready documents 503.
    let uses_database = path.starts_with("/api/");
    let applies = |status: &str| match status {
        "400" | "413" | "415" => has_body,
        "401" | "403" => secured,
        "404" => has_path_param,
        "422" => has_body || has_query || has_path_param,
        "503" => uses_database,
        _ => false,
    };
    let responses = std::mem::replace(&mut op.responses, ResponsesBuilder::new().build());
    let mut all = responses.responses;
    for (status, name, _) in COMMON {
        if applies(status) && !all.contains_key(status) {
            all.insert(
                status.to_string(),
                RefOr::Ref(Ref::new(format!("#/components/responses/{name}"))),
            );
        }
    }
    op.responses.responses = all;
    op.responses.extensions = responses.extensions;
}

/// The document as pretty JSON, for `aidflow openapi`.
pub fn document_json() -> anyhow::Result<String> {
    Ok(ApiDoc::openapi().to_pretty_json()?)
}

#[tracing::instrument(skip_all)]
pub async fn document() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
