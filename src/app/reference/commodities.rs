//! `/api/v1/commodities`: what convoys carry; a density lets cargo be entered in litres.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::error::AppError;
use crate::app::input::DecimalText;
use crate::app::validate::{self, Checker};
use crate::db::now_micros;
use crate::domain::time::rfc3339;
use crate::store::{self, body_hash, reference};

#[derive(Debug, Serialize, ToSchema)]
pub struct Commodity {
    pub id: String,
    #[schema(example = "sunflower_oil")]
    pub code: String,
    pub name: String,
    /// kg per litre, as a decimal string; null when cargo cannot be given in litres.
    #[schema(value_type = Option<String>, example = "0.92")]
    pub density_kg_per_l: Option<rust_decimal::Decimal>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<reference::Commodity> for Commodity {
    fn from(c: reference::Commodity) -> Self {
        Commodity {
            id: c.id,
            code: c.code,
            name: c.name,
            density_kg_per_l: c.density_mg_per_l.map(validate::density_kg_per_l),
            created_at: rfc3339(c.created_at),
            updated_at: rfc3339(c.updated_at),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCommodity {
    #[serde(default, skip_serializing)]
    pub id: Option<uuid::Uuid>,
    #[schema(example = "sunflower_oil", pattern = "^[a-z0-9_-]{1,64}$")]
    pub code: String,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$"
    )]
    pub name: String,
    /// kg per litre as a decimal string, e.g. "0.92": more than 0, at most 5, up to 6
    /// decimals (a JSON number is read exactly too).
    #[serde(default)]
    #[schema(
        value_type = Option<String>,
        example = "0.92",
        pattern = "^(0\\.[0-9]{0,5}[1-9]|[1-4](\\.[0-9]{1,6})?|5(\\.0{1,6})?)$"
    )]
    pub density_kg_per_l: Option<DecimalText>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommodityChanges {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$"
    )]
    pub name: Option<String>,
    #[schema(
        value_type = Option<String>,
        example = "0.92",
        pattern = "^(0\\.[0-9]{0,5}[1-9]|[1-4](\\.[0-9]{1,6})?|5(\\.0{1,6})?)$"
    )]
    pub density_kg_per_l: Option<DecimalText>,
}

pub fn build(body: &NewCommodity) -> Result<reference::Commodity, AppError> {
    let mut check = Checker::new();
    let code = check.take("code", validate::lower_code(&body.code));
    let name = check.take("name", validate::name(&body.name));
    let density = body
        .density_kg_per_l
        .as_ref()
        .and_then(|d| check.take("density_kg_per_l", validate::density_mg_per_l(&d.0)));
    check.finish()?;
    let now = now_micros();
    Ok(reference::Commodity {
        id: store::resolve_id(body.id),
        code: code.unwrap_or_default(),
        name: name.unwrap_or_default(),
        density_mg_per_l: density,
        body_sha256: body_hash(body),
        created_at: now,
        updated_at: now,
    })
}
