//! HTTP handlers: parse, authorize, call the store, map to JSON.

pub mod alerts;
pub mod checkpoints;
pub mod commodities;
pub mod convoys;
pub mod extract;
pub mod health;
pub mod imports;
pub mod openapi;
pub mod organizations;
pub mod reports;
pub mod requirements;
pub mod routes;
pub mod shortfalls;
pub mod sync;
pub mod tokens;
pub mod validate;
pub mod webhooks;

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use chrono::SecondsFormat;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::AppError;
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
            .configure(sync::configure)
            .configure(shortfalls::configure)
            .configure(imports::configure)
            .configure(requirements::configure)
            .configure(reports::configure)
            .configure(alerts::configure)
            .configure(webhooks::configure),
    );
}

/// Cursor pagination for lists: `limit` (1–500, default 100) and the `next_cursor` of the
/// previous page.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

impl ListParams {
    pub fn limit(&self) -> Result<i64, AppError> {
        page_limit(self.limit)
    }
}

/// A list's `limit`: 1–500, default 100.
pub fn page_limit(limit: Option<i64>) -> Result<i64, AppError> {
    match limit {
        None => Ok(100),
        Some(n) if (1..=500).contains(&n) => Ok(n),
        Some(_) => Err(AppError::field("limit", "must be between 1 and 500")),
    }
}

/// A `<micros>_<id>` cursor of lists ordered by a time and an id.
pub fn time_cursor(cursor: Option<&str>) -> Result<Option<(i64, String)>, AppError> {
    cursor
        .map(|c| {
            c.split_once('_')
                .and_then(|(at, id)| at.parse::<i64>().ok().map(|at| (at, id.to_string())))
                .ok_or_else(|| AppError::field("cursor", "is not a cursor from a previous page"))
        })
        .transpose()
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    pub fn from_store<S>(page: crate::store::reference::Page<S>, f: impl Fn(S) -> T) -> Page<T> {
        Page {
            items: page.items.into_iter().map(f).collect(),
            next_cursor: page.next_cursor,
        }
    }
}

/// 201 with a Location for a new record, 200 for a replayed create.
pub fn created<T: Serialize>(created: Created<T>, location: String) -> HttpResponse {
    match created {
        Created::New(body) => HttpResponse::Created()
            .insert_header((header::LOCATION, location))
            .json(body),
        Created::Replayed(body) => HttpResponse::Ok().json(body),
    }
}

/// An instant stored as microseconds, as RFC 3339 in UTC.
pub fn rfc3339(us: i64) -> String {
    crate::db::from_micros(us).to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Path errors become problem+json naming the parameter.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default()
        .error_handler(|err, _| AppError::field("path", err.to_string()).into())
}
