//! The weekly shortfall report: its model, how it is built from the rollups, its
//! renderings (JSON, CSV, HXL, HTML) and its publication.

pub mod build;
pub mod model;
pub mod publish;
pub mod render;
