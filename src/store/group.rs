//! What a group of event writes reads besides its convoys, in one statement: which of its
//! event ids are already stored (replays), which of its tokens are live, and the reference
//! data's fingerprint. On PostgreSQL every statement is a round trip, and an ingest group
//! averages some ten events, so three reads folded into one count.

use std::collections::{HashMap, HashSet};

use diesel::sql_types::{Nullable, Text};
use diesel::RunQueryDsl;

use crate::db::{DbConn, FINGERPRINT_EXPR};
use crate::store::StoreError;

/// An event already stored under an id the group carries: enough to tell a replay (same
/// body, same convoy) from a conflict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredId {
    pub body_sha256: String,
    pub convoy_id: String,
}

/// What [`lookup`] found.
#[derive(Debug)]
pub struct GroupLookup {
    /// The stored events among the ids asked for, by id.
    pub existing: HashMap<String, StoredId>,
    /// The tokens asked for that exist and are not revoked.
    pub live_tokens: HashSet<String>,
    /// The reference data's fingerprint ([`crate::db::reference_fingerprint`]).
    pub fingerprint: String,
}

#[derive(diesel::QueryableByName)]
struct Row {
    #[diesel(sql_type = Text)]
    part: String,
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Nullable<Text>)]
    body_sha256: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    convoy_id: Option<String>,
}

/// The statement for `events` event ids and `tokens` token ids, with the backend's
/// placeholder for the n-th bind parameter (0-based).
fn statement(events: usize, tokens: usize, placeholder: impl Fn(usize) -> String) -> String {
    let list = |from: usize, n: usize| {
        if n == 0 {
            // `IN (NULL)` matches nothing, and is valid SQL on both backends.
            "NULL".to_string()
        } else {
            (from..from + n)
                .map(&placeholder)
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    format!(
        "SELECT 'f' AS part, {FINGERPRINT_EXPR} AS id, NULL AS body_sha256, NULL AS convoy_id \
         UNION ALL SELECT 'e', id, body_sha256, convoy_id FROM events WHERE id IN ({}) \
         UNION ALL SELECT 't', id, NULL, NULL FROM tokens WHERE revoked_at IS NULL AND id IN ({})",
        list(0, events),
        list(events, tokens)
    )
}

/// Reads, in one statement, the stored events among `event_ids`, the live tokens among
/// `token_ids` and the reference data's fingerprint.
pub fn lookup(
    conn: &mut DbConn,
    event_ids: &[&str],
    token_ids: &[&str],
) -> Result<GroupLookup, StoreError> {
    let binds = event_ids.iter().chain(token_ids);
    let rows: Vec<Row> = match conn {
        DbConn::Pg(pg) => {
            let sql = statement(event_ids.len(), token_ids.len(), |i| format!("${}", i + 1));
            let mut query = diesel::sql_query(sql).into_boxed::<diesel::pg::Pg>();
            for id in binds {
                query = query.bind::<Text, _>(*id);
            }
            query.load(pg)?
        }
        DbConn::Sqlite(lite) => {
            let sql = statement(event_ids.len(), token_ids.len(), |_| "?".to_string());
            let mut query = diesel::sql_query(sql).into_boxed::<diesel::sqlite::Sqlite>();
            for id in binds {
                query = query.bind::<Text, _>(*id);
            }
            query.load(lite)?
        }
    };
    let mut found = GroupLookup {
        existing: HashMap::new(),
        live_tokens: HashSet::new(),
        fingerprint: String::new(),
    };
    for row in rows {
        match row.part.as_str() {
            "f" => found.fingerprint = row.id,
            "e" => {
                found.existing.insert(
                    row.id,
                    StoredId {
                        body_sha256: row.body_sha256.unwrap_or_default(),
                        convoy_id: row.convoy_id.unwrap_or_default(),
                    },
                );
            }
            _ => {
                found.live_tokens.insert(row.id);
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::statement;

    #[test]
    fn the_statement_numbers_event_ids_then_token_ids() {
        let sql = statement(2, 1, |i| format!("${}", i + 1));
        assert!(sql.contains("FROM events WHERE id IN ($1, $2)"), "{sql}");
        assert!(sql.contains("revoked_at IS NULL AND id IN ($3)"), "{sql}");
    }

    #[test]
    fn an_empty_list_matches_nothing() {
        let sql = statement(0, 0, |_| "?".to_string());
        assert!(sql.contains("FROM events WHERE id IN (NULL)"), "{sql}");
        assert!(sql.contains("AND id IN (NULL)"), "{sql}");
    }
}
