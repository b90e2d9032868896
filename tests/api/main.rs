//! Black-box tests over HTTP: each runs against a real server on SQLite and on PostgreSQL.
//! A failed step panics the test, so the helpers unwrap freely.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod helpers;

mod alerts;
mod auth;
mod claims;
mod cli_exit;
mod convoys;
mod csv_import;
mod durability;
mod event_hooks;
mod faults;
mod hardening;
mod health;
mod ingest;
mod intakes;
mod ledger_chain;
mod ledger_io;
mod methods;
mod openapi;
mod receiver;
mod reference;
mod reports;
mod startup;
mod trucks;
mod validation;
mod web;
