//! `/api/v1/checkpoints`: named places on routes, each with how long a convoy may wait there.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::error::AppError;
use crate::app::validate::{self, Checker};
use crate::db::now_micros;
use crate::domain::time::rfc3339;
use crate::store::{self, body_hash, reference};

#[derive(Debug, Serialize, ToSchema)]
pub struct Checkpoint {
    pub id: String,
    #[schema(example = "HAKARI")]
    pub code: String,
    pub name: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// How long a convoy may wait here before it is alarming, e.g. "6h".
    #[schema(example = "6h")]
    pub max_dwell: String,
    pub max_dwell_minutes: i32,
    pub created_at: String,
    pub updated_at: String,
}

impl From<reference::Checkpoint> for Checkpoint {
    fn from(c: reference::Checkpoint) -> Self {
        Checkpoint {
            id: c.id,
            code: c.code,
            name: c.name,
            lat: c.lat,
            lon: c.lon,
            max_dwell: validate::format_minutes(c.max_dwell_minutes),
            max_dwell_minutes: c.max_dwell_minutes,
            created_at: rfc3339(c.created_at),
            updated_at: rfc3339(c.updated_at),
        }
    }
}

/// The wait allowed at a checkpoint when a create request does not say.
pub const DEFAULT_MAX_DWELL: &str = "12h";

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCheckpoint {
    #[serde(default, skip_serializing)]
    pub id: Option<uuid::Uuid>,
    #[schema(example = "HAKARI", pattern = "^[A-Z0-9_-]{1,32}$")]
    pub code: String,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$"
    )]
    pub name: String,
    #[serde(default)]
    #[schema(minimum = -90, maximum = 90)]
    pub lat: Option<f64>,
    #[serde(default)]
    #[schema(minimum = -180, maximum = 180)]
    pub lon: Option<f64>,
    /// A duration like "6h", "90m" or "1d 12h" (more than 0, at most a year, whole
    /// minutes); default 12h.
    #[serde(default)]
    #[schema(
        example = "12h",
        pattern = "^(([1-9][0-9]?|[12][0-9]{2}|3[0-5][0-9]|36[0-5])d|([1-9][0-9]{0,2}|[1-7][0-9]{3})h|([1-9][0-9]{0,4}|[1-4][0-9]{5})m)$"
    )]
    pub max_dwell: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckpointChanges {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$"
    )]
    pub name: Option<String>,
    #[schema(minimum = -90, maximum = 90)]
    pub lat: Option<f64>,
    #[schema(minimum = -180, maximum = 180)]
    pub lon: Option<f64>,
    /// A duration like "6h", "90m" or "1d 12h".
    #[schema(
        example = "6h",
        pattern = "^(([1-9][0-9]?|[12][0-9]{2}|3[0-5][0-9]|36[0-5])d|([1-9][0-9]{0,2}|[1-7][0-9]{3})h|([1-9][0-9]{0,4}|[1-4][0-9]{5})m)$"
    )]
    pub max_dwell: Option<String>,
}

pub fn build(body: &NewCheckpoint) -> Result<reference::Checkpoint, AppError> {
    let mut check = Checker::new();
    let code = check.take("code", validate::upper_code(&body.code));
    let name = check.take("name", validate::name(&body.name));
    let lat = body
        .lat
        .and_then(|v| check.take("lat", validate::latitude(v)));
    let lon = body
        .lon
        .and_then(|v| check.take("lon", validate::longitude(v)));
    let dwell = check.take(
        "max_dwell",
        validate::duration_minutes(body.max_dwell.as_deref().unwrap_or(DEFAULT_MAX_DWELL)),
    );
    check.finish()?;
    let now = now_micros();
    Ok(reference::Checkpoint {
        id: store::resolve_id(body.id),
        code: code.unwrap_or_default(),
        name: name.unwrap_or_default(),
        lat,
        lon,
        max_dwell_minutes: dwell.unwrap_or_default(),
        body_sha256: body_hash(body),
        created_at: now,
        updated_at: now,
    })
}
