//! Browser sessions: the hash of a cookie's secret, the token it stands for, its CSRF
//! token. A session is live while it has not expired and its token is not revoked.

use diesel::prelude::*;

use crate::db::schema::{tokens, web_sessions};
use crate::db::DbConn;
use crate::store::tokens::LiveToken;
use crate::store::StoreError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = web_sessions)]
pub struct SessionRow {
    pub id_hash: String,
    pub token_id: String,
    pub csrf: String,
    pub created_at: i64,
    pub expires_at: i64,
}

pub fn insert(conn: &mut DbConn, row: &SessionRow) -> Result<(), StoreError> {
    diesel::insert_into(web_sessions::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// The live session with this hash and its token: `None` when there is none, it has
/// expired, or its token was revoked.
pub fn find_live(
    conn: &mut DbConn,
    id_hash: &str,
    now: i64,
) -> Result<Option<(SessionRow, LiveToken)>, StoreError> {
    Ok(web_sessions::table
        .inner_join(tokens::table)
        .filter(web_sessions::id_hash.eq(id_hash))
        .filter(web_sessions::expires_at.gt(now))
        .filter(tokens::revoked_at.is_null())
        .select((
            SessionRow::as_select(),
            (
                tokens::id,
                tokens::name,
                tokens::role,
                tokens::organization_id,
                tokens::token_hash,
            ),
        ))
        .first(conn)
        .optional()?)
}

pub fn delete(conn: &mut DbConn, id_hash: &str) -> Result<(), StoreError> {
    diesel::delete(web_sessions::table.filter(web_sessions::id_hash.eq(id_hash))).execute(conn)?;
    Ok(())
}

/// Forgets sessions that expired before `now` (done at each sign-in: a deployment has
/// few people, so the table stays small without a job).
pub fn delete_expired(conn: &mut DbConn, now: i64) -> Result<usize, StoreError> {
    Ok(
        diesel::delete(web_sessions::table.filter(web_sessions::expires_at.le(now)))
            .execute(conn)?,
    )
}
