//! The shapes of claims in answers: one claim, and a convoy's claims beside the figure
//! the ledger logged, with their spread and whether they are disputed. The API, the
//! convoy page and the command line show the same.

use std::collections::HashMap;

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::claims::{discrepancy, format_percent, logged_figure, Share};
use crate::domain::ledger::Status;
use crate::domain::quantity::format_tonnes as t;
use crate::domain::time::{format_time, rfc3339};
use crate::store::claims::ClaimRow;
use crate::store::convoys::ConvoyRow;
use crate::views::name_of;

/// What one source published about a convoy.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Claim {
    pub id: String,
    pub convoy: String,
    #[schema(example = "ArmRadio")]
    pub source: String,
    pub url: Option<String>,
    /// RFC 3339, in the offset it was given with.
    #[schema(example = "2023-07-26T12:00:00+04:00")]
    pub published_at: String,
    /// The claimed tonnes, three decimals.
    #[schema(example = "400.000")]
    pub tonnes: String,
    /// The quantity and unit as the client sent them.
    pub quantity: String,
    pub unit: String,
    pub trucks: Option<i32>,
    pub quote: Option<String>,
    pub created_at: String,
    /// Name of the token that recorded it.
    pub created_by: String,
}

/// A convoy's claims beside the ledger's figure. Claims never change the ledger: the
/// figures here are read from it, and compared.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConvoyClaims {
    pub convoy: String,
    /// Which logged figure the claims are compared to: `loaded` once the convoy has
    /// departed, `planned` before (and for a convoy cancelled before departure).
    #[schema(example = "loaded")]
    pub logged_figure: String,
    /// That figure in tonnes.
    #[schema(example = "360.000")]
    pub logged: String,
    /// By publication time.
    pub claims: Vec<Claim>,
    /// The lowest and highest of the figures compared (the logged one and every claim);
    /// null without claims.
    pub lowest: Option<String>,
    pub highest: Option<String>,
    /// (highest − lowest) / lowest × 100, one decimal; null without claims, or when the
    /// lowest figure is 0 and the highest is not.
    #[schema(example = "11.1")]
    pub spread_percent: Option<String>,
    /// The setting `claims.dispute_percent`.
    #[schema(example = "2")]
    pub threshold_percent: String,
    /// The exact spread is more than the threshold.
    pub disputed: bool,
}

pub fn claim_out(r: &ClaimRow, names: &HashMap<String, String>) -> Claim {
    Claim {
        id: r.id.clone(),
        convoy: r.convoy_id.clone(),
        source: r.source.clone(),
        url: r.url.clone(),
        published_at: format_time(r.published_at, r.published_offset),
        tonnes: t(r.kg),
        quantity: r.quantity.clone(),
        unit: r.unit.clone(),
        trucks: r.trucks,
        quote: r.quote.clone(),
        created_at: rfc3339(r.created_at),
        created_by: name_of(names, &r.created_by),
    }
}

/// The claims of `convoy` (all of them its own) against its logged figure.
pub fn convoy_claims(
    convoy: &ConvoyRow,
    claims: &[ClaimRow],
    names: &HashMap<String, String>,
    share: Share,
) -> ConvoyClaims {
    let status = Status::parse(&convoy.status).unwrap_or(Status::Planned);
    let (basis, logged) = logged_figure(status, convoy.planned_kg, convoy.loaded_kg);
    let kgs: Vec<i64> = claims.iter().map(|c| c.kg).collect();
    let d = discrepancy(logged, &kgs, share);
    ConvoyClaims {
        convoy: convoy.id.clone(),
        logged_figure: basis.as_str().to_string(),
        logged: t(logged),
        claims: claims.iter().map(|c| claim_out(c, names)).collect(),
        lowest: d.as_ref().map(|d| t(d.lowest)),
        highest: d.as_ref().map(|d| t(d.highest)),
        spread_percent: d
            .as_ref()
            .and_then(|d| d.spread_percent)
            .map(format_percent),
        threshold_percent: share.percent().to_string(),
        disputed: d.is_some_and(|d| d.disputed),
    }
}
