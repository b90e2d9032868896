//! Pure types and rules — quantities, the ledger's waterfall, status and shortfall, weeks,
//! alert rules, times, claims against the ledger. No I/O: everything here is tested without a database.

pub mod access;
pub mod alerts;
pub mod chain;
pub mod claim_hash;
pub mod claims;
pub mod field;
pub mod ledger;
pub mod quantity;
pub mod text;
pub mod time;
pub mod trucks;
pub mod week;

pub use field::FieldError;
