//! Shortfall summaries: planned, loaded and delivered tonnes and the shortfall split, for
//! the convoys expected in a date range, grouped as asked.

use std::collections::{BTreeMap, HashMap};

use chrono::Duration;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::convoys::{local_midnight, parse_date};
use crate::app::error::AppError;
use crate::db::DbConn;
use crate::domain::quantity::{format_tonnes, Kg};
use crate::store::reference::{Codes, Names};
use crate::store::shortfalls;

/// What a summary is asked for, as the client wrote it.
#[derive(Debug, Clone)]
pub struct Query {
    pub from: String,
    pub to: String,
    pub group_by: Option<String>,
    pub organization: Option<String>,
    pub route: Option<String>,
}

/// The checked grouping and the range of expected arrivals, in UTC µs.
pub struct Checked {
    group_by: String,
    from: i64,
    to: i64,
}

/// Exact kilogram sums; rendered as tonnes.
#[derive(Debug, Default, Clone, Copy)]
struct Sums {
    planned: Kg,
    loaded: Kg,
    delivered: Kg,
    short_loaded: Kg,
    denied: Kg,
    lost: Kg,
    rejected: Kg,
    outstanding: Kg,
    cancelled: Kg,
}

impl Sums {
    fn add(&mut self, f: &crate::store::rows::FiguresRow) {
        // A cancelled convoy leaves the planned figures; its tonnes are reported apart.
        if f.cancelled_kg > 0 {
            self.cancelled += f.cancelled_kg;
            return;
        }
        self.planned += f.planned_kg;
        self.loaded += f.loaded_kg;
        self.delivered += f.delivered_kg;
        self.short_loaded += f.short_loaded_kg;
        self.denied += f.denied_kg;
        self.lost += f.lost_kg;
        self.rejected += f.rejected_kg;
        self.outstanding += f.outstanding_kg;
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShortfallRow {
    /// The group: a convoy id, checkpoint code, commodity code, organization slug, route
    /// code or reason code.
    pub key: String,
    /// The convoy's reference, for group_by=convoy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Null where it means nothing (checkpoint and reason groups).
    pub planned: Option<String>,
    pub loaded: Option<String>,
    pub delivered: Option<String>,
    /// planned − delivered (denied + lost + rejected for checkpoint and reason groups).
    pub shortfall: String,
    pub short_loaded: String,
    pub denied: String,
    pub lost: String,
    pub rejected_on_receipt: String,
    pub outstanding: String,
    pub cancelled: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShortfallReport {
    pub from: String,
    pub to: String,
    pub group_by: String,
    pub convoys: usize,
    pub totals: ShortfallRow,
    pub groups: Vec<ShortfallRow>,
}

fn row(key: String, s: &Sums, flows: bool) -> ShortfallRow {
    let t = |kg: Kg| format_tonnes(kg);
    let shortfall = if flows {
        s.planned - s.delivered
    } else {
        s.short_loaded + s.denied + s.lost + s.rejected + s.outstanding
    };
    ShortfallRow {
        key,
        reference: None,
        status: None,
        planned: flows.then(|| t(s.planned)),
        loaded: flows.then(|| t(s.loaded)),
        delivered: flows.then(|| t(s.delivered)),
        shortfall: t(shortfall),
        short_loaded: t(s.short_loaded),
        denied: t(s.denied),
        lost: t(s.lost),
        rejected_on_receipt: t(s.rejected),
        outstanding: t(s.outstanding),
        cancelled: t(s.cancelled),
    }
}

const GROUPINGS: [&str; 6] = [
    "convoy",
    "checkpoint",
    "commodity",
    "organization",
    "route",
    "reason",
];

/// Checks the grouping and dates before any query.
pub fn check(tz: chrono_tz::Tz, q: &Query) -> Result<Checked, AppError> {
    let group_by = q.group_by.clone().unwrap_or_else(|| "route".to_string());
    if !GROUPINGS.contains(&group_by.as_str()) {
        return Err(AppError::field(
            "group_by",
            format!(
                "{group_by:?} is not a grouping; use one of {}",
                GROUPINGS.join(", ")
            ),
        ));
    }
    let from_date = parse_date("from", &q.from)?;
    let to_date = parse_date("to", &q.to)?;
    if to_date < from_date {
        return Err(AppError::field("to", "must not be before from"));
    }
    let (from, to) = (
        local_midnight(tz, from_date),
        local_midnight(tz, to_date + Duration::days(1)),
    );
    Ok(Checked { group_by, from, to })
}

/// The summary for `q`.
#[tracing::instrument(skip(c, tz))]
pub fn summary(c: &mut DbConn, tz: chrono_tz::Tz, q: &Query) -> Result<ShortfallReport, AppError> {
    let Checked { group_by, from, to } = check(tz, q)?;
    let organization_id = match &q.organization {
        Some(slug) => Some(crate::app::reference::organization_id(c, slug)?),
        None => None,
    };
    let route_id = match &q.route {
        Some(code) => Some(crate::app::reference::route_id(c, code)?),
        None => None,
    };
    let data = shortfalls::load(c, from, to, organization_id.as_deref(), route_id.as_deref())?;
    let names = Names::load(c)?;
    Ok(summarize(
        &data,
        &group_by,
        &names.codes,
        &names.organizations,
        &names.routes,
        (&q.from, &q.to),
    ))
}

fn summarize(
    data: &shortfalls::ShortfallData,
    group_by: &str,
    codes: &Codes,
    orgs: &HashMap<String, String>,
    routes: &HashMap<String, String>,
    (from, to): (&str, &str),
) -> ShortfallReport {
    let convoy_of: HashMap<&str, &shortfalls::ConvoyKey> =
        data.convoys.iter().map(|k| (k.id.as_str(), k)).collect();
    let mut totals = Sums::default();
    for f in &data.figures {
        totals.add(f);
    }
    let mut groups: BTreeMap<String, Sums> = BTreeMap::new();
    let flows = !matches!(group_by, "checkpoint" | "reason");
    if flows {
        for f in &data.figures {
            let Some(k) = convoy_of.get(f.convoy_id.as_str()) else {
                continue;
            };
            let key = match group_by {
                "convoy" => k.id.clone(),
                "commodity" => codes.commodity(&f.commodity_id),
                "organization" => orgs.get(&k.organization_id).cloned().unwrap_or_default(),
                _ => routes.get(&k.route_id).cloned().unwrap_or_default(),
            };
            groups.entry(key).or_default().add(f);
        }
    } else {
        for l in &data.losses {
            let key = if group_by == "checkpoint" {
                codes.checkpoint(&l.checkpoint_id)
            } else {
                l.reason.clone()
            };
            let s = groups.entry(key).or_default();
            if l.reason == "denied_at_checkpoint" {
                s.denied += l.kg;
            } else {
                s.lost += l.kg;
            }
        }
        if group_by == "reason" {
            let mut add = |reason: &str, kg: Kg, field: fn(&mut Sums) -> &mut Kg| {
                if kg > 0 {
                    *field(groups.entry(reason.to_string()).or_default()) += kg;
                }
            };
            add("short_loaded", totals.short_loaded, |s| &mut s.short_loaded);
            add("rejected_on_receipt", totals.rejected, |s| &mut s.rejected);
            add("outstanding", totals.outstanding, |s| &mut s.outstanding);
        }
    }
    let mut rows: Vec<ShortfallRow> = groups
        .iter()
        .map(|(k, s)| row(k.clone(), s, flows))
        .collect();
    if group_by == "convoy" {
        for r in &mut rows {
            if let Some(k) = convoy_of.get(r.key.as_str()) {
                r.reference = Some(k.reference.clone());
                r.status = Some(k.status.clone());
            }
        }
    }
    ShortfallReport {
        from: from.to_string(),
        to: to.to_string(),
        group_by: group_by.to_string(),
        convoys: data.convoys.len(),
        totals: row("total".to_string(), &totals, true),
        groups: rows,
    }
}
