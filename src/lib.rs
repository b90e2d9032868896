//! aidflow: tracks humanitarian aid through a corridor — planned versus delivered tonnage
//! per convoy and checkpoint, the shortfall and where it happened.
//!
//! Layers, each using only those below it (docs/ARCHITECTURE.md has the map):
//! `domain` (pure rules) ← `db` (connections, schema, backend differences) ← `store`
//! (queries) ← `views` (output shapes) ← `app` and `report` (use cases) ← `api`, `jobs`,
//! `cli`, `startup` (the edges).

pub mod api;
pub mod app;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod jobs;
pub mod report;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod views;
pub mod web;
