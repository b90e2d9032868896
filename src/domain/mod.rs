//! Pure types and rules — quantities, the ledger's waterfall, status and shortfall. No I/O:
//! everything here is tested without a database.

pub mod alerts;
pub mod ledger;
pub mod quantity;
pub mod week;
