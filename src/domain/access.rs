//! Roles and token secrets: 256 random bits, shown once, stored as SHA-256.

use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

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
