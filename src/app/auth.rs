//! Who is calling: the principal a bearer token stands for, what it may write, and the
//! cache of recently checked tokens.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use subtle::ConstantTimeEq;

use crate::app::error::AppError;
use crate::db::DbConn;
pub use crate::domain::access::{generate_secret, hash_secret, hint, Role, TOKEN_PREFIX};
use crate::store::tokens;

/// Who is calling, established from the bearer token.
#[derive(Debug, Clone)]
pub struct Principal {
    pub token_id: String,
    pub name: String,
    pub role: Role,
    pub organization_id: Option<String>,
}

/// The identity the command line records under: the operator at the machine, who holds
/// no token (and so cannot have one revoked).
pub const COMMAND_LINE: &str = "aidflow-cli";

/// How events made by a form intake record who made them: `intake:<name>`.
pub const INTAKE_PREFIX: &str = "intake:";

impl Principal {
    /// The command line's principal, an admin.
    pub fn command_line() -> Principal {
        Principal {
            token_id: COMMAND_LINE.into(),
            name: "command line".into(),
            role: Role::Admin,
            organization_id: None,
        }
    }

    /// The principal a form intake writes as: an editor of its organization, recorded as
    /// `intake:<name>`.
    pub fn intake(name: &str, organization_id: &str) -> Principal {
        Principal {
            token_id: format!("{INTAKE_PREFIX}{name}"),
            name: format!("intake {name}"),
            role: Role::Editor,
            organization_id: Some(organization_id.to_string()),
        }
    }

    /// Whether this principal stands for a bearer token, whose revocation stops its writes
    /// (the command line and form intakes hold none).
    pub fn has_token(&self) -> bool {
        self.token_id != COMMAND_LINE && !self.token_id.starts_with(INTAKE_PREFIX)
    }

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

    /// Refuses a token that may make no write at all (a viewer), before anything else about
    /// the write is looked at.
    pub fn require_writer(&self) -> Result<(), AppError> {
        match self.role {
            Role::Admin | Role::Editor => Ok(()),
            Role::Viewer => Err(AppError::Forbidden(format!(
                "token '{}' is a viewer token and cannot write",
                self.name
            ))),
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

/// Finds the live token with this secret.
pub fn authenticate(conn: &mut DbConn, secret: &str) -> Result<Option<Principal>, AppError> {
    let hash = hash_secret(secret);
    let row = tokens::find_live_by_hash(conn, &hash)?;
    Ok(row.and_then(|row| {
        // The index lookup already matched; the constant-time check guards against any
        // collation or padding surprise turning a near-match into a match.
        let same: bool = row.token_hash.as_bytes().ct_eq(hash.as_bytes()).into();
        if same {
            principal_of(row)
        } else {
            None
        }
    }))
}

/// The principal a stored token stands for (`None` for a role this build does not know).
pub fn principal_of(row: tokens::LiveToken) -> Option<Principal> {
    Some(Principal {
        role: Role::parse(&row.role)?,
        token_id: row.id,
        name: row.name,
        organization_id: row.organization_id,
    })
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

    pub fn get(&self, hash: &str) -> Option<Principal> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(hash)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(p, _)| p.clone())
    }

    pub fn put(&self, hash: String, principal: Principal) {
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
