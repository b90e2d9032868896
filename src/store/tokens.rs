//! Access tokens. The secret is returned once, at creation; only its hash is stored.

use diesel::prelude::*;

use crate::db::schema::tokens;
use crate::db::{now_micros, write_tx, DbConn};
use crate::domain::access::{generate_secret, hash_secret, hint, Role};
use crate::store::StoreError;
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

pub fn find_token(conn: &mut DbConn, id: &str) -> Result<Option<Token>, StoreError> {
    Ok(tokens::table
        .find(id)
        .select(Token::as_select())
        .first(conn)
        .optional()?)
}

pub fn get_token(conn: &mut DbConn, id: &str) -> Result<Token, StoreError> {
    find_token(conn, id)?.ok_or_else(|| StoreError::NotFound(format!("token {id} does not exist")))
}

pub fn create_token(
    conn: &mut DbConn,
    id: String,
    name: String,
    role: Role,
    organization_id: Option<String>,
    body_sha256: String,
) -> Result<Created<IssuedToken>, StoreError> {
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

pub fn list_tokens(conn: &mut DbConn) -> Result<Vec<Token>, StoreError> {
    Ok(tokens::table
        .select(Token::as_select())
        .order((tokens::created_at.asc(), tokens::id.asc()))
        .load(conn)?)
}

/// Token names by id, for showing who recorded what.
pub fn names(conn: &mut DbConn) -> Result<std::collections::HashMap<String, String>, StoreError> {
    let rows: Vec<(String, String)> = tokens::table
        .select((tokens::id, tokens::name))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// Revokes a token; revoking twice is harmless and keeps the first time.
pub fn revoke_token(conn: &mut DbConn, id: &str) -> Result<Token, StoreError> {
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

pub fn count_tokens(conn: &mut DbConn) -> Result<i64, StoreError> {
    Ok(tokens::table.count().get_result(conn)?)
}

/// The id of the admin token made on first start; fixed, so that several instances
/// starting together on an empty database make only one.
pub const BOOTSTRAP_TOKEN_ID: &str = "00000000-0000-4000-8000-000000000001";

/// Makes the first admin token if the database has no token at all. Returns the secret
/// when one was made.
pub fn bootstrap_admin(conn: &mut DbConn) -> Result<Option<String>, StoreError> {
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

/// A live token's identity and hash, as stored.
#[derive(Queryable)]
pub struct LiveToken {
    pub id: String,
    pub name: String,
    pub role: String,
    pub organization_id: Option<String>,
    pub token_hash: String,
}

/// The token with this hash, unless revoked.
pub fn find_live_by_hash(conn: &mut DbConn, hash: &str) -> Result<Option<LiveToken>, StoreError> {
    Ok(tokens::table
        .filter(tokens::token_hash.eq(hash))
        .filter(tokens::revoked_at.is_null())
        .select((
            tokens::id,
            tokens::name,
            tokens::role,
            tokens::organization_id,
            tokens::token_hash,
        ))
        .first(conn)
        .optional()?)
}
