//! The application error: what a use case answers when it cannot do what was asked. It
//! knows nothing of HTTP; `api::problem` renders it as problem+json and the command line
//! prints it with its whole cause chain.

use crate::domain::field::{self, FieldError};
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The body is not JSON (or CSV) at all.
    #[error("{0}")]
    Malformed(String),
    /// Well-formed input with invalid fields.
    #[error("{detail}")]
    Validation {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// Valid fields that conflict with what is recorded (an impossible ledger).
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
    /// The database cannot be reached right now, or a write collided with another and was
    /// undone: the client should retry.
    #[error("{0}")]
    Unavailable(String),
    /// The storage refuses writes (disk full, read-only, I/O error): an outage an operator
    /// must end; the client should retry later.
    #[error("{0}")]
    Storage(String),
    /// A bug. The cause is logged, never sent to the client.
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
        AppError::Validation {
            detail: field::summary(&errors),
            errors,
        }
    }

    /// A bug with its explanation.
    pub fn internal(message: impl std::fmt::Display) -> AppError {
        AppError::Internal(anyhow::anyhow!("{message}"))
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> AppError {
        match e {
            StoreError::NotFound(m) => AppError::NotFound(m),
            StoreError::Conflict(m) => AppError::Conflict(m),
            StoreError::Validation { detail, errors } => AppError::Validation { detail, errors },
            StoreError::Unavailable(m) => AppError::Unavailable(m),
            StoreError::Storage(m) => AppError::Storage(m),
            StoreError::Internal(cause) => AppError::Internal(cause),
        }
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> AppError {
        StoreError::from(e).into()
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(e: diesel::r2d2::PoolError) -> AppError {
        StoreError::from(e).into()
    }
}
