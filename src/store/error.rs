//! The store's own error: what a query can tell its caller besides rows. Database errors
//! are classified here once — a unique key taken is a conflict, a deadlock or a lost
//! connection is worth retrying, storage that refuses writes (disk full, read-only, I/O
//! error) is an outage for an operator, anything else is a bug — so every layer above
//! sees the same meaning on both backends.

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
    /// The storage refuses writes — disk full, database read-only, I/O error — until an
    /// operator frees space or repairs it; nothing of the request was written.
    #[error("{0}")]
    Storage(String),
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
            Error::DatabaseError(kind, ref info) if storage_fault(&kind, info.message()) => {
                StoreError::Storage(format!(
                    "the database cannot store data right now ({}); nothing was written, send the request again later",
                    info.message().trim()
                ))
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

/// Whether a database error is the storage refusing writes rather than a bug.
///
/// diesel gives a kind for few errors and otherwise the server's message; so these are
/// recognized by kind where there is one and by message where not:
/// - SQLite: `SQLITE_FULL` "database or disk is full", `SQLITE_READONLY` "attempt to
///   write a readonly database" (also with `PRAGMA query_only`), `SQLITE_IOERR` "disk
///   I/O error".
/// - PostgreSQL: 25006 read_only_sql_transaction (a kind of its own: a standby, or
///   `default_transaction_read_only`), and, by their message since diesel does not expose
///   the SQLSTATE, class 53 insufficient resources (53100 disk full "could not extend
///   file …: No space left on device", 53200 "out of memory") and 58030 io_error ("could
///   not write to file", "could not read block"). These English texts are PostgreSQL's
///   with `lc_messages` left at its default; a server translating its messages still has
///   25006 recognized, the others then answer as internal errors.
fn storage_fault(kind: &diesel::result::DatabaseErrorKind, message: &str) -> bool {
    use diesel::result::DatabaseErrorKind;
    if matches!(kind, DatabaseErrorKind::ReadOnlyTransaction) {
        return true;
    }
    let message = message.to_ascii_lowercase();
    [
        "database or disk is full",
        "attempt to write a readonly database",
        "disk i/o error",
        "no space left on device",
        "could not extend file",
        "could not write to file",
        "could not write block",
        "could not read block",
        "could not fsync",
        "out of memory",
        "disk quota exceeded",
        "read-only file system",
    ]
    .iter()
    .any(|m| message.contains(m))
}

impl From<diesel::r2d2::PoolError> for StoreError {
    fn from(e: diesel::r2d2::PoolError) -> StoreError {
        tracing::warn!(error = %e, "no database connection available");
        StoreError::Unavailable(
            "the database is not reachable right now; retry the request shortly".into(),
        )
    }
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::{Connection, RunQueryDsl, SqliteConnection};

    use super::StoreError;

    /// A real `SQLITE_FULL`: the database may not grow past its few pages, as on a full
    /// disk.
    #[test]
    fn a_full_sqlite_database_is_a_storage_fault() {
        let mut c = SqliteConnection::establish(":memory:").unwrap();
        c.batch_execute("CREATE TABLE t (v TEXT); PRAGMA max_page_count = 3;")
            .unwrap();
        let e = (0..1000)
            .find_map(|_| {
                diesel::sql_query("INSERT INTO t VALUES (printf('%.500c', 'x'))")
                    .execute(&mut c)
                    .err()
            })
            .unwrap();
        assert!(e.to_string().contains("database or disk is full"), "{e}");
        match StoreError::from(e) {
            StoreError::Storage(m) => assert!(m.contains("database or disk is full"), "{m}"),
            other => panic!("not a storage fault: {other:?}"),
        }
    }

    /// A real `SQLITE_READONLY`.
    #[test]
    fn a_read_only_sqlite_database_is_a_storage_fault() {
        let mut c = SqliteConnection::establish(":memory:").unwrap();
        c.batch_execute("CREATE TABLE t (v TEXT); PRAGMA query_only = ON;")
            .unwrap();
        let e = diesel::sql_query("INSERT INTO t VALUES ('x')")
            .execute(&mut c)
            .unwrap_err();
        assert!(matches!(StoreError::from(e), StoreError::Storage(_)));
    }

    /// Other errors stay what they were.
    #[test]
    fn a_syntax_error_is_not_a_storage_fault() {
        let mut c = SqliteConnection::establish(":memory:").unwrap();
        let e = diesel::sql_query("SELEC 1").execute(&mut c).unwrap_err();
        assert!(matches!(StoreError::from(e), StoreError::Internal(_)));
    }
}
