//! The application error, rendered as RFC 9457 `application/problem+json`.
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

pub const PROBLEM_JSON: &str = "application/problem+json";

/// One invalid input field: a JSON path such as `manifest[1].tonnes` and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

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

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400: the body is not JSON (or CSV) at all.
    #[error("{0}")]
    Malformed(String),
    /// 422: well-formed input with invalid fields.
    #[error("{detail}")]
    Validation {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// 422: valid fields that conflict with what is recorded (an impossible ledger).
    #[error("{0}")]
    Unprocessable(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 503: the database cannot be reached right now; the client should retry.
    #[error("{0}")]
    Unavailable(String),
    /// 500: a bug. The cause is logged with the request id, never sent to the client.
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    /// A validation error on one field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> AppError {
        AppError::invalid(vec![FieldError::new(field, message)])
    }

    /// A validation error listing every invalid field.
    pub fn invalid(errors: Vec<FieldError>) -> AppError {
        let detail = match errors.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            _ => format!("{} fields are invalid", errors.len()),
        };
        AppError::Validation { detail, errors }
    }

    fn kind(&self) -> (&'static str, &'static str) {
        match self {
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
            AppError::UnsupportedMediaType(_) => {
                ("unsupported-media-type", "Unsupported media type")
            }
            AppError::Unavailable(_) => ("unavailable", "Service unavailable"),
            AppError::Internal(_) => ("internal", "Internal error"),
        }
    }
}

impl AppError {
    /// The problem document this error renders as (for per-item answers in batches).
    pub fn to_problem(&self) -> Problem {
        let (kind, title) = self.kind();
        Problem {
            kind: format!("urn:aidflow:problem:{kind}"),
            title: title.to_string(),
            status: self.status_code().as_u16(),
            detail: match self {
                AppError::Internal(_) => {
                    "An unexpected error occurred; it has been logged.".to_string()
                }
                other => other.to_string(),
            },
            errors: match self {
                AppError::Validation { errors, .. } => errors.clone(),
                _ => Vec::new(),
            },
        }
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
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let (kind, title) = self.kind();
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
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"aidflow\""),
            );
        }
        response
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

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> AppError {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => AppError::NotFound("the requested record does not exist".into()),
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                AppError::Conflict(format!(
                    "a record with the same unique value already exists ({})",
                    info.message()
                ))
            }
            Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => AppError::Conflict(
                "the record is referenced by other records, or refers to one that does not exist"
                    .into(),
            ),
            // Concurrent writers on PostgreSQL: the transaction was rolled back whole and
            // the same request can simply be sent again.
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
                AppError::Unavailable(
                    "the request collided with a concurrent write and was undone; send it again"
                        .into(),
                )
            }
            Error::DatabaseError(_, ref info) if info.message().contains("deadlock detected") => {
                AppError::Unavailable(
                    "the request collided with a concurrent write and was undone; send it again"
                        .into(),
                )
            }
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => {
                AppError::Unavailable("the database connection was lost; retry the request".into())
            }
            other => AppError::Internal(anyhow::Error::new(other).context("database query")),
        }
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(e: diesel::r2d2::PoolError) -> AppError {
        tracing::warn!(error = %e, "no database connection available");
        AppError::Unavailable(
            "the database is not reachable right now; retry the request shortly".into(),
        )
    }
}

/// Rewrites any error response that is not already problem+json (unknown routes, wrong
/// methods, errors raised by actix itself) into a problem document.
pub fn problem_fallback<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let method = res.request().method().to_string();
    let path = res.request().path().to_string();
    let cause = res.response().error().map(|e| e.to_string());
    let (kind, title, detail) = match status {
        StatusCode::NOT_FOUND => (
            "not-found",
            "Not found",
            format!("there is no resource at {path}; the API lives under /api/v1 (see /api/v1/openapi.json)"),
        ),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method-not-allowed",
            "Method not allowed",
            format!("{method} is not allowed on {path}; see /api/v1/openapi.json for the methods it accepts"),
        ),
        _ => (
            "http",
            status.canonical_reason().unwrap_or("Error"),
            cause.unwrap_or_else(|| status.to_string()),
        ),
    };
    let (req, _) = res.into_parts();
    let response = problem_response(status, kind, title, detail, Vec::new());
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, response).map_into_right_body::<B>(),
    ))
}
