//! Output shapes shared by the HTTP API, the command line and the jobs: how a convoy, an
//! event, its figures and times look in every answer.

pub mod claims;
pub mod convoys;
pub mod evidence;

use std::collections::HashMap;

use serde::Serialize;
use utoipa::ToSchema;

pub use crate::domain::time::{format_time, rfc3339};

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// A display name by id; an id without a name is shown as is.
pub fn name_of(names: &HashMap<String, String>, id: &str) -> String {
    names.get(id).cloned().unwrap_or_else(|| id.to_string())
}

impl<T> Page<T> {
    pub fn from_store<S>(page: crate::store::reference::Page<S>, f: impl Fn(S) -> T) -> Page<T> {
        Page {
            items: page.items.into_iter().map(f).collect(),
            next_cursor: page.next_cursor,
        }
    }
}
