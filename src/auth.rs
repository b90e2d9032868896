//! Bearer tokens: 256 random bits, shown once, stored as SHA-256, compared in constant time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::dev::Payload;
use actix_web::http::{header, Method};
use actix_web::{web, FromRequest, HttpRequest};
use diesel::prelude::*;
use futures_util::future::LocalBoxFuture;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use utoipa::ToSchema;

use crate::db::schema::tokens;
use crate::db::DbConn;
use crate::error::AppError;
use crate::state::AppState;

/// Prefix that makes aidflow tokens recognisable (and findable by secret scanners).
pub const TOKEN_PREFIX: &str = "afw_";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including reference data and tokens.
    Admin,
    /// Writes for its own organization's convoys; reads everything.
    Editor,
    /// Reads everything.
    Viewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Editor => "editor",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "editor" => Some(Role::Editor),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }
}

/// A fresh secret: the prefix and 32 random bytes from the OS-seeded CSPRNG, in hex.
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("{TOKEN_PREFIX}{}", hex::encode(bytes))
}

/// The stored form of a secret. A fast hash is right here: the secret has 256 bits of
/// entropy, so there is nothing to brute-force.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The part of a secret that may be shown in listings.
pub fn hint(secret: &str) -> String {
    secret.chars().take(TOKEN_PREFIX.len() + 6).collect()
}

/// Who is calling, established from the bearer token.
#[derive(Debug, Clone)]
pub struct Principal {
    pub token_id: String,
    pub name: String,
    pub role: Role,
    pub organization_id: Option<String>,
}

impl Principal {
    pub fn require_admin(&self) -> Result<(), AppError> {
        if self.role == Role::Admin {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!(
                "this needs an admin token; token '{}' has role {}",
                self.name,
                self.role.as_str()
            )))
        }
    }

    /// Admins write anything; editors write only for their own organization.
    pub fn require_write_for(&self, organization_id: &str, what: &str) -> Result<(), AppError> {
        match self.role {
            Role::Admin => Ok(()),
            Role::Editor if self.organization_id.as_deref() == Some(organization_id) => Ok(()),
            Role::Editor => Err(AppError::Forbidden(format!(
                "token '{}' may write only for its own organization, not {what}",
                self.name
            ))),
            Role::Viewer => Err(AppError::Forbidden(format!(
                "token '{}' is a viewer token and cannot write",
                self.name
            ))),
        }
    }
}

#[derive(Queryable)]
struct TokenRow {
    id: String,
    name: String,
    role: String,
    organization_id: Option<String>,
    token_hash: String,
}

/// Finds the live token with this secret.
pub fn authenticate(conn: &mut DbConn, secret: &str) -> Result<Option<Principal>, AppError> {
    let hash = hash_secret(secret);
    let row: Option<TokenRow> = tokens::table
        .filter(tokens::token_hash.eq(&hash))
        .filter(tokens::revoked_at.is_null())
        .select((
            tokens::id,
            tokens::name,
            tokens::role,
            tokens::organization_id,
            tokens::token_hash,
        ))
        .first(conn)
        .optional()?;
    Ok(row.and_then(|row| {
        // The index lookup already matched; the constant-time check guards against any
        // collation or padding surprise turning a near-match into a match.
        let same: bool = row.token_hash.as_bytes().ct_eq(hash.as_bytes()).into();
        let role = Role::parse(&row.role)?;
        same.then_some(Principal {
            token_id: row.id,
            name: row.name,
            role,
            organization_id: row.organization_id,
        })
    }))
}

/// Tokens checked recently, by the hash of their secret, so that most requests need no
/// database lookup. Entries expire after `ttl`; revoking a token through this instance
/// clears the cache at once.
#[derive(Clone)]
pub struct TokenCache {
    ttl: Duration,
    entries: Arc<Mutex<HashMap<String, (Principal, Instant)>>>,
}

impl TokenCache {
    pub fn new(ttl: Duration) -> TokenCache {
        TokenCache {
            ttl,
            entries: Arc::default(),
        }
    }

    fn get(&self, hash: &str) -> Option<Principal> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(hash)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(p, _)| p.clone())
    }

    fn put(&self, hash: String, principal: Principal) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        // Expired entries go when the cache grows; a deployment has tens of tokens.
        if entries.len() >= 1024 {
            let ttl = self.ttl;
            entries.retain(|_, (_, at)| at.elapsed() < ttl);
        }
        entries.insert(hash, (principal, Instant::now()));
    }

    /// Forgets every token (after a revocation).
    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

impl FromRequest for Principal {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let secret = bearer(req);
        // The cache serves reads, and event writes, which check revocation again in their
        // own transaction; every other write looks the token up.
        let cacheable = matches!(*req.method(), Method::GET | Method::HEAD)
            || (req.method() == Method::POST
                && req.match_pattern().as_deref() == Some("/api/v1/convoys/{id}/events"));
        Box::pin(async move {
            let state = state.ok_or_else(|| AppError::Internal(anyhow::anyhow!("no app state")))?;
            let secret = secret?;
            let hash = hash_secret(&secret);
            if let Some(known) = cacheable.then(|| state.tokens.get(&hash)).flatten() {
                return Ok(known);
            }
            let found = state.db(move |conn| authenticate(conn, &secret)).await?;
            if let Some(p) = &found {
                state.tokens.put(hash, p.clone());
            }
            found.ok_or_else(|| {
                AppError::Unauthorized(
                    "the bearer token is unknown or revoked; ask an admin for a valid token".into(),
                )
            })
        })
    }
}

fn bearer(req: &HttpRequest) -> Result<String, AppError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| {
            AppError::Unauthorized(
                "send a token in the Authorization header: 'Authorization: Bearer <token>'".into(),
            )
        })?
        .to_str()
        .map_err(|_| AppError::Unauthorized("the Authorization header is not valid text".into()))?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            AppError::Unauthorized("the Authorization header must be 'Bearer <token>'".into())
        })?;
    Ok(token.to_string())
}
