//! The store's own error: what a query can tell its caller besides rows. Database errors
//! are classified here once — a unique key taken is a conflict, a deadlock or a lost
//! connection is worth retrying, anything else is a bug — so every layer above sees the
//! same meaning on both backends.

use crate::domain::field::{self, FieldError};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A unique value taken, a record still referenced, a replay with another body.
    #[error("{0}")]
    Conflict(String),
    /// Values the store refuses to write (checked against what is stored).
    #[error("{detail}")]
    Validation {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// The database cannot serve the request right now; the same request can be sent again.
    #[error("{0}")]
    Unavailable(String),
    /// A query failed for a reason no caller can fix, or stored data is not what it should
    /// be: a bug, logged with its cause.
    #[error("{0:#}")]
    Internal(anyhow::Error),
}

impl StoreError {
    /// A refusal of one field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> StoreError {
        StoreError::invalid(vec![FieldError::new(field, message)])
    }

    /// A refusal listing every invalid field.
    pub fn invalid(errors: Vec<FieldError>) -> StoreError {
        StoreError::Validation {
            detail: field::summary(&errors),
            errors,
        }
    }

    /// Stored data that breaks an invariant the write path keeps.
    pub fn corrupt(message: impl std::fmt::Display) -> StoreError {
        StoreError::Internal(anyhow::anyhow!("{message}"))
    }
}

impl From<diesel::result::Error> for StoreError {
    fn from(e: diesel::result::Error) -> StoreError {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => StoreError::NotFound("the requested record does not exist".into()),
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                StoreError::Conflict(format!(
                    "a record with the same unique value already exists ({})",
                    info.message()
                ))
            }
            Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => StoreError::Conflict(
                "the record is referenced by other records, or refers to one that does not exist"
                    .into(),
            ),
            // Concurrent writers on PostgreSQL: the transaction was rolled back whole and
            // the same request can simply be sent again.
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
                StoreError::Unavailable(
                    "the request collided with a concurrent write and was undone; send it again"
                        .into(),
                )
            }
            Error::DatabaseError(_, ref info) if info.message().contains("deadlock detected") => {
                StoreError::Unavailable(
                    "the request collided with a concurrent write and was undone; send it again"
                        .into(),
                )
            }
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => {
                StoreError::Unavailable(
                    "the database connection was lost; retry the request".into(),
                )
            }
            other => StoreError::Internal(anyhow::Error::new(other).context("database query")),
        }
    }
}

impl From<diesel::r2d2::PoolError> for StoreError {
    fn from(e: diesel::r2d2::PoolError) -> StoreError {
        tracing::warn!(error = %e, "no database connection available");
        StoreError::Unavailable(
            "the database is not reachable right now; retry the request shortly".into(),
        )
    }
}
