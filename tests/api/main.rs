//! Black-box tests over HTTP: each runs against a real server on SQLite and on PostgreSQL.

mod helpers;

mod alerts;
mod auth;
mod convoys;
mod health;
mod ingest;
mod ledger_io;
mod receiver;
mod reference;
mod reports;
mod startup;
mod validation;
