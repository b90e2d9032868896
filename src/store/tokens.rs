//! Access tokens. The secret is returned once, at creation; only its hash is stored.

use diesel::prelude::*;

use crate::auth::{generate_secret, hash_secret, hint, Role};
use crate::db::schema::tokens;
use crate::db::{now_micros, write_tx, DbConn};
use crate::error::AppError;
use crate::store::{create_once, Created};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = tokens)]
pub struct Token {
    pub id: String,
    pub name: String,
    pub role: String,
    pub organization_id: Option<String>,
    pub token_hash: String,
    pub hint: String,
    pub body_sha256: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// A token just made, with its secret (`None` when a create request was replayed: the
/// secret was shown once and cannot be shown again).
pub struct IssuedToken {
    pub token: Token,
    pub secret: Option<String>,
}

pub fn find_token(conn: &mut DbConn, id: &str) -> Result<Option<Token>, AppError> {
    Ok(tokens::table
        .find(id)
        .select(Token::as_select())
        .first(conn)
        .optional()?)
}

/// Which of these tokens exist and are not revoked.
pub fn live_ids(
    conn: &mut DbConn,
    ids: &[&str],
) -> Result<std::collections::HashSet<String>, AppError> {
    Ok(tokens::table
        .filter(tokens::id.eq_any(ids))
        .filter(tokens::revoked_at.is_null())
        .select(tokens::id)
        .load::<String>(conn)?
        .into_iter()
        .collect())
}

pub fn get_token(conn: &mut DbConn, id: &str) -> Result<Token, AppError> {
    find_token(conn, id)?.ok_or_else(|| AppError::NotFound(format!("token {id} does not exist")))
}

pub fn create_token(
    conn: &mut DbConn,
    id: String,
    name: String,
    role: Role,
    organization_id: Option<String>,
    body_sha256: String,
) -> Result<Created<IssuedToken>, AppError> {
    let secret = generate_secret();
    let token = Token {
        id: id.clone(),
        name,
        role: role.as_str().to_string(),
        organization_id,
        token_hash: hash_secret(&secret),
        hint: hint(&secret),
        body_sha256: body_sha256.clone(),
        created_at: now_micros(),
        revoked_at: None,
    };
    create_once(
        conn,
        "token",
        &id,
        &body_sha256,
        |c| {
            Ok(find_token(c, &id)?.map(|t| {
                let h = t.body_sha256.clone();
                (
                    IssuedToken {
                        token: t,
                        secret: None,
                    },
                    h,
                )
            }))
        },
        |c| {
            diesel::insert_into(tokens::table)
                .values(&token)
                .execute(c)?;
            Ok(IssuedToken {
                token,
                secret: Some(secret),
            })
        },
    )
}

pub fn list_tokens(conn: &mut DbConn) -> Result<Vec<Token>, AppError> {
    Ok(tokens::table
        .select(Token::as_select())
        .order((tokens::created_at.asc(), tokens::id.asc()))
        .load(conn)?)
}

/// Revokes a token; revoking twice is harmless and keeps the first time.
pub fn revoke_token(conn: &mut DbConn, id: &str) -> Result<Token, AppError> {
    write_tx(conn, |c| {
        let token = get_token(c, id)?;
        if token.revoked_at.is_none() {
            diesel::update(tokens::table.find(id))
                .set(tokens::revoked_at.eq(Some(now_micros())))
                .execute(c)?;
        }
        get_token(c, id)
    })
}

pub fn count_tokens(conn: &mut DbConn) -> Result<i64, AppError> {
    Ok(tokens::table.count().get_result(conn)?)
}

/// The id of the admin token made on first start; fixed, so that several instances
/// starting together on an empty database make only one.
pub const BOOTSTRAP_TOKEN_ID: &str = "00000000-0000-4000-8000-000000000001";

/// Makes the first admin token if the database has no token at all. Returns the secret
/// when one was made.
pub fn bootstrap_admin(conn: &mut DbConn) -> Result<Option<String>, AppError> {
    if count_tokens(conn)? > 0 {
        return Ok(None);
    }
    let created = create_token(
        conn,
        BOOTSTRAP_TOKEN_ID.to_string(),
        "first-admin".to_string(),
        Role::Admin,
        None,
        "bootstrap".to_string(),
    )?;
    Ok(match created {
        Created::New(issued) => issued.secret,
        Created::Replayed(_) => None,
    })
}
