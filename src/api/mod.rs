//! HTTP handlers: parse, authorize, call the store, map to JSON.

pub mod alerts;
pub mod checkpoints;
pub mod claims;
pub mod commodities;
pub mod convoys;
pub mod extract;
pub mod health;
pub mod imports;
pub mod intakes;
pub mod ledger;
pub mod methods;
pub mod openapi;
pub mod openrosa;
pub mod organizations;
pub mod problem;
pub mod reports;
pub mod requirements;
pub mod routes;
pub mod shortfalls;
pub mod sync;
pub mod tokens;
pub mod webhooks;

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use crate::app::error::AppError;
use crate::store::Created;

/// Registers every route under `/api/v1`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1")
            .route("/openapi.json", web::get().to(openapi::document))
            .configure(organizations::configure)
            .configure(checkpoints::configure)
            .configure(commodities::configure)
            .configure(routes::configure)
            .configure(tokens::configure)
            .configure(convoys::configure)
            .configure(claims::configure)
            .configure(sync::configure)
            .configure(shortfalls::configure)
            .configure(imports::configure)
            .configure(intakes::configure)
            .configure(requirements::configure)
            .configure(reports::configure)
            .configure(alerts::configure)
            .configure(webhooks::configure)
            .configure(ledger::configure),
    );
}

/// Cursor pagination for lists: `limit` (1–500, default 100) and the `next_cursor` of the
/// previous page.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Items per page, 1–500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    #[param(pattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$")]
    pub cursor: Option<String>,
}

impl ListParams {
    pub fn limit(&self) -> Result<i64, AppError> {
        page_limit(self.limit)
    }
}

pub use crate::app::validate::{page_limit, time_cursor};
pub use crate::views::Page;

/// 201 with a Location for a new record, 200 for a replayed create.
pub fn created<T: Serialize>(created: Created<T>, location: String) -> HttpResponse {
    match created {
        Created::New(body) => HttpResponse::Created()
            .insert_header((header::LOCATION, location))
            .json(body),
        Created::Replayed(body) => HttpResponse::Ok().json(body),
    }
}

pub use crate::domain::time::rfc3339;

/// Path errors become problem+json naming the parameter.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default()
        .error_handler(|err, _| AppError::field("path", err.to_string()).into())
}
