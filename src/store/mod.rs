//! Diesel queries, one module per aggregate. Functions take `&mut DbConn` and return
//! `Result<_, StoreError>`; handlers run them through `AppState::db`.

pub mod alerts;
pub mod chain;
pub mod claims;
pub mod convoys;
pub mod error;
pub mod group;
pub mod intakes;
pub mod reference;
pub mod reports;
pub mod rollups;
pub mod rows;
pub mod sessions;
pub mod shortfalls;
pub mod tokens;
pub mod webhooks;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::db::{write_tx, DbConn};
pub use error::StoreError;

/// The outcome of an idempotent create: a new record (201) or the stored one for a
/// replayed request (200).
#[derive(Debug)]
pub enum Created<T> {
    New(T),
    Replayed(T),
}

impl<T> Created<T> {
    pub fn into_inner(self) -> T {
        match self {
            Created::New(t) | Created::Replayed(t) => t,
        }
    }
    pub fn get(&self) -> &T {
        match self {
            Created::New(t) | Created::Replayed(t) => t,
        }
    }
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Created<U> {
        match self {
            Created::New(t) => Created::New(f(t)),
            Created::Replayed(t) => Created::Replayed(f(t)),
        }
    }
    pub fn is_new(&self) -> bool {
        matches!(self, Created::New(_))
    }
}

/// SHA-256 of a request's canonical JSON (its fields in declaration order, without the
/// client id), so a replay with different spacing still counts as the same request.
pub fn body_hash<T: Serialize>(body: &T) -> String {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    hex::encode(Sha256::digest(bytes))
}

/// Creates a record under a client-chosen id at most once.
///
/// `find` looks the id up and returns the stored record with its request hash; `insert`
/// writes it. A replay with the same hash returns the stored record, one with another hash
/// is a 409. Two clients racing with the same id: the loser's insert fails on the primary
/// key, and the re-read outside the failed transaction turns that into a replay.
pub fn create_once<T>(
    conn: &mut DbConn,
    what: &str,
    id: &str,
    hash: &str,
    find: impl Fn(&mut DbConn) -> Result<Option<(T, String)>, StoreError>,
    insert: impl FnOnce(&mut DbConn) -> Result<T, StoreError>,
) -> Result<Created<T>, StoreError> {
    let replay = |found: Option<(T, String)>| -> Option<Result<Created<T>, StoreError>> {
        found.map(|(record, stored_hash)| {
            if stored_hash == hash {
                Ok(Created::Replayed(record))
            } else {
                Err(replay_conflict(what, id))
            }
        })
    };
    let result = write_tx(conn, |c| {
        if let Some(done) = replay(find(c)?) {
            return done;
        }
        insert(c).map(Created::New)
    });
    match result {
        Err(StoreError::Conflict(msg)) => match replay(find(conn)?) {
            Some(done) => done,
            None => Err(StoreError::Conflict(msg)),
        },
        other => other,
    }
}

/// The answer to a create whose client id is stored with another body: the one wording of
/// it, for every kind of record.
pub fn replay_conflict(what: &str, id: &str) -> StoreError {
    StoreError::Conflict(format!(
        "{what} {id} already exists with a different body; a retry must send exactly the same body, a new {what} needs a new id"
    ))
}

/// A client-supplied id must be a UUID; none means the server makes one.
pub fn resolve_id(id: Option<uuid::Uuid>) -> String {
    id.unwrap_or_else(uuid::Uuid::new_v4).to_string()
}
