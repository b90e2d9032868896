//! Reference data — organizations, checkpoints, commodities, routes: what clients send,
//! its validation, and how answers show it. The seed and the admin API both go through
//! these.

pub mod checkpoints;
pub mod commodities;
pub mod organizations;
pub mod routes;
