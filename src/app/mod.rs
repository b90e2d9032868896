//! The use cases: what a person or a device can ask of aidflow — record events (one
//! implementation for POSTs, sync, CSV imports and the demo), create convoys, sync a batch,
//! import a file, seed reference data — with their input types and validation. The HTTP
//! API, the command line and the jobs call these; nothing here knows about HTTP.

pub mod alerts;
pub mod auth;
pub mod claims;
pub mod convoys;
pub mod demo;
pub mod error;
pub mod events;
pub mod evidence;
pub mod imports;
pub mod input;
pub mod intake;
pub mod lru;
pub mod metrics;
pub mod notices;
pub mod reference;
pub mod requirements;
pub mod seed;
pub mod sessions;
pub mod shortfalls;
pub mod state;
pub mod sync;
pub mod tokens;
pub mod validate;
pub mod webhooks;

pub use error::AppError;
