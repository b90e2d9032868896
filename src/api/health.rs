//! Liveness, readiness (checks the database, and that its storage takes writes), Prometheus
//! metrics and the middleware that counts requests and follows storage faults.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};
use diesel::connection::SimpleConnection;
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::problem::Problem;
use crate::app::error::AppError;
use crate::app::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/health/live", web::get().to(live))
        .route("/health/ready", web::get().to(ready))
        .route("/metrics", web::get().to(metrics));
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
    /// `sqlite` or `postgres` (readiness only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<&'static str>,
    pub version: &'static str,
}

#[utoipa::path(get, operation_id = "health_live", path = "/health/live", tag = "operations", responses((status = 200, body = Health)))]
#[tracing::instrument(skip_all)]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok",
        database: None,
        version: env!("CARGO_PKG_VERSION"),
    })
}

#[utoipa::path(get, operation_id = "health_ready", path = "/health/ready", tag = "operations",
    responses((status = 200, body = Health), (status = 503, description = "the database cannot be reached, or its storage refuses writes (disk full, read-only, I/O error)", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
pub async fn ready(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    if state.storage.is_degraded() {
        // Not ready while the storage refuses writes; a write that changes nothing tells
        // when it accepts them again, so an instance a load balancer took out comes back.
        state.db(|c| Ok(crate::db::probe_write(c)?)).await?;
        state.storage.recovered();
    }
    state
        .db(|c| {
            c.batch_execute("SELECT 1").map_err(|e| {
                tracing::warn!(error = %e, "readiness check failed");
                AppError::Unavailable("the database does not answer".into())
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(Health {
        status: "ok",
        database: Some(state.backend.as_str()),
        version: env!("CARGO_PKG_VERSION"),
    }))
}

#[utoipa::path(get, operation_id = "health_metrics", path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain")))]
#[tracing::instrument(skip_all)]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let counts = state
        .db(|c| {
            Ok((
                crate::store::alerts::active_counts(c)?,
                crate::store::webhooks::delivery_counts(c)?,
            ))
        })
        .await;
    match counts {
        Ok((alerts, deliveries)) => state.metrics.set_backlog(&alerts, &deliveries),
        Err(e) => tracing::warn!(error = %e, "metrics: cannot read alert and delivery counts"),
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render(&state.pool))
}

/// Middleware: counts each request under its route pattern (`/api/v1/convoys/{id}`), not
/// its raw path, so the number of series stays bounded.
#[tracing::instrument(skip_all)]
pub async fn track(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let start = Instant::now();
    let (metrics, storage) = req
        .app_data::<web::Data<AppState>>()
        .map(|s| (s.metrics.clone(), s.storage.clone()))
        .unzip();
    let method = req.method().to_string();
    let res = next.call(req).await?;
    if let Some(storage) = storage {
        // Storage faults raised anywhere (the event writers too) mark the episode; a
        // write request that succeeds ends it.
        match res
            .response()
            .error()
            .and_then(|e| e.as_error::<AppError>())
        {
            Some(AppError::Storage(cause)) => storage.fault(cause),
            _ if res.status().is_success() && !matches!(method.as_str(), "GET" | "HEAD") => {
                storage.recovered();
            }
            _ => {}
        }
    }
    if let Some(metrics) = metrics {
        let route = res
            .request()
            .match_pattern()
            .unwrap_or_else(|| "unmatched".to_string());
        metrics.observe(
            &method,
            &route,
            res.status().as_u16(),
            start.elapsed().as_secs_f64(),
        );
    }
    Ok(res)
}
