//! The weekly shortfall report (SPEC §4), as plain data.
//!
//! Every quantity is an integer number of kilograms (`Kg`). These structs
//! derive `Serialize`/`Deserialize` for internal use (the model stored beside a
//! published snapshot, tests); the published formats are written by the renderers,
//! which turn kilograms into tonne strings with three decimals. The model names
//! none of its readers, so it depends on nothing in the report but quantities.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::quantity::Kg;
use crate::domain::trucks::{CheckpointTally, TruckTally};

/// One ISO week of the report, in the deployment's time zone.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct WeeklyReport {
    /// ISO week, e.g. `2023-W31`.
    pub week: String,
    /// IANA time zone the week is cut in, e.g. `Asia/Yerevan`.
    pub timezone: String,
    /// Local Monday.
    pub starts: NaiveDate,
    /// Local Sunday.
    pub ends: NaiveDate,
    /// Filters applied to the report.
    pub scope: Scope,
    pub totals: WeekFigures,
    /// The trucks of the week's convoys (those due in the week, cancelled ones left
    /// out): planned, and arrived at the destination so far. `None` only in the models
    /// of revisions published before reports counted trucks.
    #[serde(default)]
    pub trucks: Option<TruckTally>,
    pub cumulative: Cumulative,
    pub by_commodity: Vec<Breakdown>,
    pub by_organization: Vec<Breakdown>,
    pub by_route: Vec<Breakdown>,
    pub by_checkpoint: Vec<CheckpointBreakdown>,
    /// The week by route × organization × commodity, the finest cut of the rollups: the
    /// totals and the three breakdowns above are sums of these lines. `None` only in the
    /// models of revisions published before the report kept them (their frozen figures
    /// cannot be cut again).
    #[serde(default)]
    pub by_route_organization_commodity: Option<Vec<DetailLine>>,
    /// Convoys whose expected arrival falls in the week.
    pub convoys: Vec<ConvoyLine>,
    /// Convoys held/stalled at the end of the week (any arrival week).
    pub stalled: Vec<ConvoyLine>,
    /// Alerts opened in the week (may be empty).
    pub alerts: Vec<AlertLine>,
    /// The convoys due in the week whose claims are disputed: they differ from each
    /// other or from the logged figure by more than the threshold. Empty in the models of
    /// revisions published before reports listed them.
    #[serde(default)]
    pub disputed: Vec<DisputedConvoy>,
    /// The last 12 weeks ending with this one, oldest first.
    pub history: Vec<HistoryWeek>,
    /// Plain-language summary sentence, e.g. "In week 31, 0 of 360 t planned for the
    /// Lachin route arrived; 360 t held at KORNIDZOR since 26 July."
    pub summary: String,
}

/// Filters applied to the report; `None` means "all".
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub struct Scope {
    pub route: Option<String>,
    pub organization: Option<String>,
}

/// Headline figures of the week.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub struct WeekFigures {
    pub requirement: Kg,
    /// Manifests of the convoys whose expected arrival falls in the week.
    pub planned: Kg,
    /// Delivered for this week's convoys, up to now.
    pub delivered: Kg,
    /// All deliveries observed in the week, whatever convoy.
    pub delivered_during_week: Kg,
    /// `planned - delivered`.
    pub shortfall_against_plan: Kg,
    /// `max(0, requirement - delivered_during_week)`.
    pub shortfall_against_requirement: Kg,
    /// `delivered_during_week / requirement × 100`, one decimal; `None` when
    /// the requirement is 0.
    pub coverage_percent: Option<Decimal>,
    pub short_loaded: Kg,
    pub denied: Kg,
    pub lost: Kg,
    pub rejected: Kg,
    pub outstanding: Kg,
    pub cancelled: Kg,
}

/// Figures since tracking began, up to the end of the week.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub struct Cumulative {
    pub since: Option<NaiveDate>,
    pub requirement: Kg,
    pub planned: Kg,
    pub delivered: Kg,
    pub shortfall_against_requirement: Kg,
    pub shortfall_against_plan: Kg,
}

/// One key of a breakdown by commodity, organization or route.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Breakdown {
    pub key: String,
    pub name: String,
    /// `None` where requirements are not defined for this dimension
    /// (e.g. organizations).
    pub requirement: Option<Kg>,
    pub planned: Kg,
    pub delivered: Kg,
    pub delivered_during_week: Kg,
    /// Shortfall against plan (`planned - delivered`).
    pub shortfall: Kg,
    pub denied: Kg,
    pub lost: Kg,
    /// Route rows: the trucks of the week's convoys on the route (they add up to
    /// [`WeeklyReport::trucks`]). `None` on organization and commodity rows, and in the
    /// models of revisions published before reports counted trucks.
    #[serde(default)]
    pub trucks: Option<TruckTally>,
}

/// One route × organization × commodity of the week, with codes and names, so that a
/// line reads on its own. Every figure adds up across lines without double counting.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct DetailLine {
    /// Route code.
    pub route: String,
    pub route_name: String,
    /// The route's first and last checkpoint codes.
    pub origin: String,
    pub destination: String,
    /// Organization slug.
    pub organization: String,
    pub organization_name: String,
    /// Commodity code.
    pub commodity: String,
    pub commodity_name: String,
    pub planned: Kg,
    pub delivered: Kg,
    pub delivered_during_week: Kg,
    /// Shortfall against plan (`planned - delivered`).
    pub shortfall: Kg,
    pub denied: Kg,
    pub lost: Kg,
}

/// Denied and lost cargo attributed to one checkpoint.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct CheckpointBreakdown {
    pub checkpoint: String,
    pub name: String,
    pub denied: Kg,
    /// Lost cargo by reason code.
    pub lost: Vec<ReasonKg>,
    pub lost_total: Kg,
    /// On board of convoys held there now.
    pub held_now: Kg,
    /// The trucks of the week's convoys that reached, passed, were held at and were
    /// turned back from the checkpoint, as far as counts are known. The same trucks pass
    /// several checkpoints: these add up across convoys, never across checkpoints.
    /// `None` only in the models of revisions published before reports counted trucks.
    #[serde(default)]
    pub trucks: Option<CheckpointTally>,
}

/// A quantity attributed to a reason code.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ReasonKg {
    pub reason: String,
    pub kg: Kg,
}

/// One convoy, as listed in the report.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ConvoyLine {
    pub id: String,
    pub reference: String,
    pub organization: String,
    pub route: String,
    pub origin: String,
    pub destination: String,
    pub trucks: Option<i32>,
    /// RFC 3339.
    pub expected_arrival: String,
    pub status: String,
    pub last_checkpoint: Option<String>,
    /// RFC 3339.
    pub last_seen_at: Option<String>,
    pub planned: Kg,
    pub delivered: Kg,
    pub outstanding: Kg,
    /// RFC 3339.
    pub held_since: Option<String>,
}

/// An alert opened in the week.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct AlertLine {
    pub id: String,
    pub rule: String,
    pub severity: String,
    pub subject: String,
    /// RFC 3339.
    pub opened_at: String,
    pub message: String,
}

/// One week of the 12-week history chart.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct HistoryWeek {
    pub week: String,
    pub requirement: Kg,
    pub planned: Kg,
    pub delivered: Kg,
    /// Cumulative requirement − cumulative delivered-during since tracking
    /// began, at the end of that week (may be negative).
    pub cumulative_shortfall: Kg,
}

/// A convoy due in the week whose claims are disputed, with every claim about it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct DisputedConvoy {
    pub id: String,
    pub reference: String,
    /// Organization slug and name.
    pub organization: String,
    pub organization_name: String,
    pub route: String,
    /// Which logged figure the claims were compared to: `planned` or `loaded`.
    pub logged_figure: String,
    pub logged: Kg,
    /// By publication time.
    pub claims: Vec<ClaimLine>,
    /// The lowest and highest of the figures compared (the logged one and the claims).
    pub lowest: Kg,
    pub highest: Kg,
    /// `(highest − lowest) / lowest × 100`, one decimal; `None` when the lowest is 0.
    pub spread_percent: Option<Decimal>,
    /// The threshold the spread was more than.
    pub threshold_percent: Decimal,
}

/// What one source published about a convoy.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ClaimLine {
    pub source: String,
    pub url: Option<String>,
    /// RFC 3339.
    pub published_at: String,
    pub tonnes: Kg,
    pub trucks: Option<i32>,
}
