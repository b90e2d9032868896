//! The weekly shortfall report: its model, how it is built from the rollups, its
//! renderings (JSON, CSV, HXL, HTML) and the formats they are served in, fetching a
//! week's report live or as published, and its publication.

pub mod build;
pub mod fetch;
pub mod format;
pub mod model;
pub mod publish;
pub mod render;
pub mod trucks;
