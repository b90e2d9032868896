//! Bearer tokens (admin): issue one (its secret shown once), list, read and revoke them.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::auth::Role;
use crate::app::error::AppError;
use crate::app::validate::{self, Checker};
use crate::db::DbConn;
use crate::domain::time::rfc3339;
use crate::store::{self, body_hash, reference, tokens, Created};

#[derive(Debug, Serialize, ToSchema)]
pub struct Token {
    pub id: String,
    pub name: String,
    pub role: Role,
    /// Organization slug (required for editors).
    pub organization: Option<String>,
    /// The first characters of the secret, to tell tokens apart.
    pub hint: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
    /// The secret, present only in the response that created the token. Store it now:
    /// it cannot be shown again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    #[serde(default, skip_serializing)]
    pub id: Option<uuid::Uuid>,
    #[schema(
        example = "kornidzor-field-phone",
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$"
    )]
    pub name: String,
    pub role: Role,
    /// Organization slug; required for editors, optional otherwise.
    #[serde(default)]
    #[schema(pattern = "^[a-z0-9_-]{1,64}$")]
    pub organization: Option<String>,
}

pub fn to_api(
    conn: &mut DbConn,
    t: tokens::Token,
    secret: Option<String>,
) -> Result<Token, AppError> {
    let organization = match &t.organization_id {
        Some(id) => Some(reference::get_organization(conn, id)?.slug),
        None => None,
    };
    Ok(Token {
        role: Role::parse(&t.role).unwrap_or(Role::Viewer),
        id: t.id,
        name: t.name,
        organization,
        hint: t.hint,
        created_at: rfc3339(t.created_at),
        revoked_at: t.revoked_at.map(rfc3339),
        token: secret,
    })
}

/// Checks a new token's fields before any query; the name it will carry.
pub fn check(body: &NewToken) -> Result<String, AppError> {
    let mut check = Checker::new();
    let name = check.take("name", validate::name(&body.name));
    if body.role == Role::Editor && body.organization.is_none() {
        check.push(
            "organization",
            "an editor token needs the organization whose convoys it may write",
        );
    }
    check.finish()?;
    Ok(name.unwrap_or_default())
}

/// Issues a token under its client id; a replay answers the stored token without its
/// secret, which was shown once.
#[tracing::instrument(skip_all, fields(token = ?body.id, role = ?body.role))]
pub fn issue(c: &mut DbConn, body: &NewToken) -> Result<Created<Token>, AppError> {
    let name = check(body)?;
    let organization_id = match &body.organization {
        Some(slug) => Some(crate::app::reference::organization_id(c, slug)?),
        None => None,
    };
    let created = tokens::create_token(
        c,
        store::resolve_id(body.id),
        name,
        body.role,
        organization_id,
        body_hash(body),
    )?;
    let is_new = created.is_new();
    let issued = created.into_inner();
    let token = to_api(c, issued.token, issued.secret)?;
    Ok(if is_new {
        Created::New(token)
    } else {
        Created::Replayed(token)
    })
}

/// Every token, without secrets.
pub fn list(c: &mut DbConn) -> Result<Vec<Token>, AppError> {
    tokens::list_tokens(c)?
        .into_iter()
        .map(|t| to_api(c, t, None))
        .collect()
}

/// One token, without its secret.
pub fn get(c: &mut DbConn, id: &str) -> Result<Token, AppError> {
    let t = tokens::get_token(c, id)?;
    to_api(c, t, None)
}

/// Revokes a token; it stops working at once.
#[tracing::instrument(skip(c))]
pub fn revoke(c: &mut DbConn, id: &str) -> Result<Token, AppError> {
    let t = tokens::revoke_token(c, id)?;
    to_api(c, t, None)
}
