//! aidflow: tracks humanitarian aid through a corridor — planned versus delivered tonnage
//! per convoy and checkpoint, the shortfall and where it happened.

pub mod api;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod ingest;
pub mod jobs;
pub mod metrics;
pub mod report;
pub mod seed;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
