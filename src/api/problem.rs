//! The application error rendered as RFC 9457 `application/problem+json`: the only place
//! errors meet HTTP.
//!
//! Handlers return `Result<_, AppError>`; every other error response (unknown route, wrong
//! method, anything actix produces itself) is rewritten into the same shape by
//! [`problem_fallback`], so clients parse one format for every failure.

use actix_web::dev::ServiceResponse;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::error::AppError;
use crate::domain::FieldError;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URN naming the kind of problem, stable for clients to branch on.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Present for validation problems: every invalid field, not just the first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// The problem type and title of each error: stable for clients to branch on.
fn kind(e: &AppError) -> (&'static str, &'static str) {
    match e {
        AppError::Malformed(_) => ("malformed-request", "Malformed request"),
        AppError::Validation { .. } => ("validation", "Invalid input"),
        AppError::Unprocessable(_) => (
            "ledger-conflict",
            "The request conflicts with the recorded data",
        ),
        AppError::Unauthorized(_) => ("unauthorized", "Authentication required"),
        AppError::Forbidden(_) => ("forbidden", "Not allowed"),
        AppError::NotFound(_) => ("not-found", "Not found"),
        AppError::Conflict(_) => ("conflict", "Conflict"),
        AppError::PayloadTooLarge(_) => ("payload-too-large", "Request body too large"),
        AppError::UnsupportedMediaType(_) => ("unsupported-media-type", "Unsupported media type"),
        AppError::Unavailable(_) => ("unavailable", "Service unavailable"),
        AppError::Storage(_) => ("storage-unavailable", "Storage unavailable"),
        AppError::Internal(_) => ("internal", "Internal error"),
    }
}

/// The problem document an error renders as, for per-item answers in batches. An internal
/// error is logged here, once, with the request's span (and so its request id).
pub fn to_problem(e: &AppError) -> Problem {
    let (kind, title) = kind(e);
    if let AppError::Internal(cause) = e {
        tracing::error!(error = ?cause, "an item of the request failed with an internal error");
    }
    Problem {
        kind: format!("urn:aidflow:problem:{kind}"),
        title: title.to_string(),
        status: e.status_code().as_u16(),
        detail: match e {
            AppError::Internal(_) => {
                "An unexpected error occurred; it has been logged.".to_string()
            }
            other => other.to_string(),
        },
        errors: match e {
            AppError::Validation { errors, .. } => errors.clone(),
            _ => Vec::new(),
        },
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::Malformed(_) => StatusCode::BAD_REQUEST,
            AppError::Validation { .. } | AppError::Unprocessable(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Unavailable(_) | AppError::Storage(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let (kind, title) = kind(self);
        let detail = match self {
            AppError::Internal(cause) => {
                tracing::error!(error = ?cause, "request failed with an internal error");
                "An unexpected error occurred. It has been logged with this request's X-Request-Id; please report it.".to_string()
            }
            other => other.to_string(),
        };
        let errors = match self {
            AppError::Validation { errors, .. } => errors.clone(),
            _ => Vec::new(),
        };
        let mut response = problem_response(status, kind, title, detail, errors);
        if let Some(seconds) = retry_after(self) {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static(seconds));
        }
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"aidflow\""),
            );
        }
        response
    }
}

/// Seconds a client should wait before sending the request again: a collision or a lost
/// connection clears at once; storage that refuses writes needs an operator, so clients
/// (phones syncing, scripts) back off for longer.
fn retry_after(e: &AppError) -> Option<&'static str> {
    match e {
        AppError::Unavailable(_) => Some("1"),
        AppError::Storage(_) => Some("30"),
        _ => None,
    }
}

/// Builds a problem+json response.
pub fn problem_response(
    status: StatusCode,
    kind: &str,
    title: &str,
    detail: String,
    errors: Vec<FieldError>,
) -> HttpResponse {
    let problem = Problem {
        kind: format!("urn:aidflow:problem:{kind}"),
        title: title.to_string(),
        status: status.as_u16(),
        detail,
        errors,
    };
    HttpResponse::build(status)
        .content_type(PROBLEM_JSON)
        .json(problem)
}

/// Rewrites any error response that is not already problem+json (unknown routes, wrong
/// methods, errors raised by actix itself) into a problem document.
pub fn problem_fallback<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    // The browser app answers its errors as pages and OpenRosa as XML: they stay as they are.
    let is_page = res.headers().get(header::CONTENT_TYPE).is_some_and(|v| {
        v.as_bytes().starts_with(b"text/html") || v.as_bytes().starts_with(b"text/xml")
    });
    if is_problem || is_page {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let method = res.request().method().to_string();
    let path = res.request().path().to_string();
    let cause = res.response().error().map(|e| e.to_string());
    // actix's own 405 lists the resource's methods in `Allow`: keep it (405s for routes
    // registered one by one come from `api::methods` with theirs).
    let allow = res
        .headers()
        .get(header::ALLOW)
        .cloned()
        .filter(|_| status == StatusCode::METHOD_NOT_ALLOWED);
    let allowed = allow
        .as_ref()
        .and_then(|a| a.to_str().ok())
        .map(|a| format!("it takes {a}"))
        .unwrap_or_else(|| "see /api/v1/openapi.json for the methods it accepts".into());
    let (kind, title, detail) = match status {
        StatusCode::NOT_FOUND => (
            "not-found",
            "Not found",
            format!("there is no resource at {path}; the API lives under /api/v1 (see /api/v1/openapi.json)"),
        ),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method-not-allowed",
            "Method not allowed",
            format!("{method} is not allowed on {path}; {allowed}"),
        ),
        _ => (
            "http",
            status.canonical_reason().unwrap_or("Error"),
            cause.unwrap_or_else(|| status.to_string()),
        ),
    };
    let (req, _) = res.into_parts();
    let mut response = problem_response(status, kind, title, detail, Vec::new());
    if let Some(allow) = allow {
        response.headers_mut().insert(header::ALLOW, allow);
    }
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, response).map_into_right_body::<B>(),
    ))
}
