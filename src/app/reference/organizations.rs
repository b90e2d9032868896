//! `/api/v1/organizations`: the NGOs and agencies that own convoys and tokens.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::error::AppError;
use crate::app::validate::{self, Checker};
use crate::db::now_micros;
use crate::domain::time::rfc3339;
use crate::store::{self, body_hash, reference};

#[derive(Debug, Serialize, ToSchema)]
pub struct Organization {
    pub id: String,
    #[schema(example = "icrc", pattern = "^[a-z0-9_-]{1,64}$")]
    pub slug: String,
    pub name: String,
    pub created_at: String,
    pub updated_at: String,
}

impl From<reference::Organization> for Organization {
    fn from(o: reference::Organization) -> Self {
        Organization {
            id: o.id,
            slug: o.slug,
            name: o.name,
            created_at: rfc3339(o.created_at),
            updated_at: rfc3339(o.updated_at),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrganization {
    /// Optional client-chosen UUID: sending the same request again returns the stored record.
    #[serde(default, skip_serializing)]
    pub id: Option<uuid::Uuid>,
    #[schema(example = "icrc")]
    #[schema(pattern = "^[a-z0-9_-]{1,64}$")]
    pub slug: String,
    #[schema(
        example = "International Committee of the Red Cross",
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$"
    )]
    pub name: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizationChanges {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$"
    )]
    pub name: Option<String>,
}

/// Validates a new organization into the stored record.
pub fn build(body: &NewOrganization) -> Result<reference::Organization, AppError> {
    let mut check = Checker::new();
    let slug = check.take("slug", validate::lower_code(&body.slug));
    let name = check.take("name", validate::name(&body.name));
    check.finish()?;
    let now = now_micros();
    Ok(reference::Organization {
        id: store::resolve_id(body.id),
        slug: slug.unwrap_or_default(),
        name: name.unwrap_or_default(),
        body_sha256: body_hash(body),
        created_at: now,
        updated_at: now,
    })
}
