//! `GET /api/v1/shortfalls`: planned, loaded and delivered tonnes and the shortfall split,
//! for the convoys expected in a date range, grouped as asked.

use std::collections::{BTreeMap, HashMap};

use actix_web::{web, HttpResponse};
use chrono::Duration;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::extract::ApiQuery;
use crate::app::auth::Principal;
use crate::app::convoys::{local_midnight, parse_date};
use crate::app::error::AppError;
use crate::app::state::AppState;
use crate::domain::quantity::{format_tonnes, Kg};
use crate::store::convoys::Codes;
use crate::store::{reference, shortfalls};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/shortfalls", web::get().to(get));
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ShortfallParams {
    /// First local date of expected arrival (YYYY-MM-DD, inclusive).
    pub from: String,
    /// Last local date of expected arrival (YYYY-MM-DD, inclusive).
    pub to: String,
    /// convoy, checkpoint, commodity, organization, route or reason (default route).
    pub group_by: Option<String>,
    /// Only this organization's convoys (slug).
    pub organization: Option<String>,
    /// Only this route's convoys (code).
    pub route: Option<String>,
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
    fn add(&mut self, f: &crate::store::convoys::FiguresRow) {
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

#[utoipa::path(get, operation_id = "shortfalls_get", path = "/api/v1/shortfalls", tag = "shortfalls", params(ShortfallParams),
    responses((status = 200, body = ShortfallReport), (status = 422, description = "bad dates or grouping")), security(("bearer" = [])))]
pub async fn get(
    state: web::Data<AppState>,
    _who: Principal,
    q: ApiQuery<ShortfallParams>,
) -> Result<HttpResponse, AppError> {
    let q = q.0;
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
    let tz = state.tz;
    let (from, to) = (
        local_midnight(tz, from_date),
        local_midnight(tz, to_date + Duration::days(1)),
    );
    let report = state
        .db(move |c| {
            let organization_id = match &q.organization {
                Some(slug) => Some(
                    reference::find_organization(c, slug)?
                        .ok_or_else(|| {
                            AppError::field(
                                "organization",
                                format!("organization {slug} does not exist"),
                            )
                        })?
                        .id,
                ),
                None => None,
            };
            let route_id = match &q.route {
                Some(code) => Some(
                    reference::find_route(c, code)?
                        .ok_or_else(|| {
                            AppError::field("route", format!("route {code} does not exist"))
                        })?
                        .row
                        .id,
                ),
                None => None,
            };
            let data =
                shortfalls::load(c, from, to, organization_id.as_deref(), route_id.as_deref())?;
            let codes = Codes::load(c)?;
            let orgs: HashMap<String, String> = reference::list_organizations(c, None, 10_000)?
                .items
                .into_iter()
                .map(|o| (o.id, o.slug))
                .collect();
            let routes: HashMap<String, String> = reference::list_routes(c, None, 10_000)?
                .items
                .into_iter()
                .map(|r| (r.row.id, r.row.code))
                .collect();
            Ok(summarize(
                &data,
                &group_by,
                &codes,
                &orgs,
                &routes,
                (&q.from, &q.to),
            ))
        })
        .await?;
    Ok(HttpResponse::Ok().json(report))
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
