//! The corridor at a glance (`/`): each route as a line of its checkpoints with the
//! convoys on it, the tonnes waiting at each checkpoint, this week's deliveries against
//! the requirement, and the open alerts. `/overview/live` is the same figures alone, for
//! the page to refresh itself.

use std::collections::BTreeMap;

use actix_web::{web, HttpResponse};
use askama::Template;

use crate::app::alerts;
use crate::app::convoys::{self, ListFilter};
use crate::app::error::AppError;
use crate::app::state::AppState;
use crate::db::{now_micros, DbConn};
use crate::domain::quantity::Kg;
use crate::domain::week::IsoWeek;
use crate::report::build::{build, ScopeFilter};
use crate::store::alerts::Alert;
use crate::store::reference;
use crate::views::convoys::ConvoySummary;
use crate::web::format::{local_time_text, micros_of, tonnes, waited};
use crate::web::i18n::Texts;
use crate::web::page::{ok, Base, Visitor, WebError};

/// Convoys still on their way: the ones drawn on the routes.
const ACTIVE: [&str; 3] = ["held", "in_transit", "planned"];

/// Width of a route's drawing, in SVG units, and the margin at each end.
const WIDTH: i64 = 960;
const MARGIN: i64 = 70;

pub struct Stop {
    pub code: String,
    pub name: String,
    pub x: i64,
    pub label_y: i64,
    pub waiting: Option<String>,
}

pub struct Marker {
    pub id: String,
    pub reference: String,
    pub status: String,
    pub x: i64,
    pub y: i64,
    pub title: String,
}

pub struct RouteLine {
    pub code: String,
    pub name: String,
    pub title: String,
    pub height: i64,
    pub line_y: i64,
    pub x_end: i64,
    pub stops: Vec<Stop>,
    pub markers: Vec<Marker>,
}

pub struct ConvoyNow {
    pub id: String,
    pub reference: String,
    pub organization: String,
    pub route: String,
    pub status: String,
    pub status_label: String,
    pub at: String,
    pub since: String,
    pub waited: String,
    pub on_board: String,
}

pub struct Waiting {
    pub checkpoint: String,
    pub name: String,
    pub tonnes: String,
    pub convoys: usize,
}

pub struct WeekNow {
    pub week: String,
    pub heading: String,
    pub requirement: String,
    pub delivered: String,
    pub coverage: Option<String>,
    pub shortfall: String,
}

/// Everything `/overview/live` shows.
pub struct Live {
    pub refresh_seconds: u64,
    pub updated: String,
    pub routes: Vec<RouteLine>,
    pub convoys: Vec<ConvoyNow>,
    pub waiting: Vec<Waiting>,
    pub week: WeekNow,
    /// Each open alert with its rule's name.
    pub alerts: Vec<(String, Alert)>,
}

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    base: Base,
    t: &'static Texts,
    live: Live,
}

#[derive(Template)]
#[template(path = "overview_live.html")]
struct LivePart {
    t: &'static Texts,
    live: Live,
}

fn active_convoys(c: &mut DbConn, tz: chrono_tz::Tz) -> Result<Vec<ConvoySummary>, AppError> {
    let mut all = Vec::new();
    for status in ACTIVE {
        let filter = ListFilter {
            status: Some(status.into()),
            limit: Some(500),
            ..Default::default()
        };
        all.extend(convoys::list(c, tz, &filter)?.items);
    }
    Ok(all)
}

fn kg_of(api_tonnes: &str) -> Kg {
    crate::domain::quantity::parse_tonnes(api_tonnes).unwrap_or(0)
}

/// Lays out one route: its stops spaced evenly, each convoy at its last checkpoint (at the
/// start when it has not left), convoys at one stop stacked above the line.
fn route_line(
    route: &reference::Route,
    convoys: &[&ConvoySummary],
    waiting: &BTreeMap<String, Kg>,
    t: &Texts,
) -> RouteLine {
    let n = route.stops.len().max(2) as i64;
    let step = (WIDTH - 2 * MARGIN) / (n - 1);
    let x_of = |i: usize| MARGIN + step * i as i64;
    let mut per_stop: BTreeMap<usize, i64> = BTreeMap::new();
    let mut markers = Vec::new();
    for cv in convoys {
        let at = cv
            .last_checkpoint
            .as_deref()
            .and_then(|cp| route.stops.iter().position(|s| s.checkpoint.code == cp))
            .unwrap_or(0);
        let slot = per_stop.entry(at).or_insert(0);
        markers.push(Marker {
            id: cv.id.clone(),
            reference: cv.reference.clone(),
            status: cv.status.clone(),
            x: x_of(at),
            y: *slot,
            title: t.fill(
                "overview.marker_title",
                &[
                    ("reference", &cv.reference),
                    ("status", t.get(&format!("status.{}", cv.status))),
                    ("tonnes", &crate::web::format::tonnes_text(&cv.outstanding)),
                ],
            ),
        });
        *slot += 1;
    }
    let tallest = per_stop.values().copied().max().unwrap_or(0);
    let line_y = 30 + 26 * tallest.max(1);
    for m in &mut markers {
        m.y = line_y - 26 * (m.y + 1);
    }
    let stops = route
        .stops
        .iter()
        .enumerate()
        .map(|(i, s)| Stop {
            code: s.checkpoint.code.clone(),
            name: s.checkpoint.name.clone(),
            x: x_of(i),
            label_y: line_y + 28,
            waiting: waiting
                .get(&s.checkpoint.code)
                .filter(|kg| **kg > 0)
                .map(|kg| tonnes(*kg)),
        })
        .collect();
    RouteLine {
        code: route.row.code.clone(),
        name: route.row.name.clone(),
        title: t.fill("overview.route_title", &[("route", &route.row.name)]),
        height: line_y + 66,
        line_y,
        x_end: x_of(route.stops.len().saturating_sub(1)),
        stops,
        markers,
    }
}

/// Reads the corridor now.
fn live(c: &mut DbConn, state: &AppState, t: &'static Texts) -> Result<Live, AppError> {
    let tz = state.tz;
    let now = now_micros();
    let convoys = active_convoys(c, tz)?;
    let routes = reference::list_routes(c, None, 500)?.items;
    let checkpoint_names: BTreeMap<&str, &str> = routes
        .iter()
        .flat_map(|r| r.stops.iter())
        .map(|s| (s.checkpoint.code.as_str(), s.checkpoint.name.as_str()))
        .collect();
    // Tonnes on board of convoys held at a checkpoint now, by checkpoint. A convoy in
    // transit is on its way (cleared, or arrived and moving on), not waiting.
    let mut waiting_kg: BTreeMap<String, Kg> = BTreeMap::new();
    let mut waiting_n: BTreeMap<String, usize> = BTreeMap::new();
    for cv in convoys.iter().filter(|c| c.status == "held") {
        if let Some(cp) = &cv.last_checkpoint {
            *waiting_kg.entry(cp.clone()).or_default() += kg_of(&cv.outstanding);
            *waiting_n.entry(cp.clone()).or_default() += 1;
        }
    }
    let lines = routes
        .iter()
        .map(|r| {
            let on: Vec<&ConvoySummary> =
                convoys.iter().filter(|c| c.route == r.row.code).collect();
            route_line(r, &on, &waiting_kg, t)
        })
        .collect();
    let rows = convoys
        .iter()
        .map(|cv| ConvoyNow {
            id: cv.id.clone(),
            reference: cv.reference.clone(),
            organization: cv.organization.clone(),
            route: cv.route.clone(),
            status: cv.status.clone(),
            status_label: t.get(&format!("status.{}", cv.status)).to_string(),
            at: cv.last_checkpoint.clone().unwrap_or_default(),
            since: cv
                .last_seen_at
                .as_deref()
                .map(|s| local_time_text(s, tz))
                .unwrap_or_default(),
            waited: cv
                .last_seen_at
                .as_deref()
                .and_then(micros_of)
                .map(|since| waited(since, now, t))
                .unwrap_or_default(),
            on_board: crate::web::format::tonnes_text(&cv.outstanding),
        })
        .collect();
    let waiting = waiting_kg
        .iter()
        .map(|(cp, kg)| Waiting {
            checkpoint: cp.clone(),
            name: checkpoint_names
                .get(cp.as_str())
                .copied()
                .unwrap_or(cp)
                .to_string(),
            tonnes: tonnes(*kg),
            convoys: waiting_n.get(cp).copied().unwrap_or(0),
        })
        .collect();
    let week = IsoWeek::containing(chrono::Utc::now(), tz);
    let report = build(c, tz, state.dispute, week, &ScopeFilter::default())?;
    let totals = &report.totals;
    let open = alerts::list(
        c,
        &alerts::ListFilter {
            state: Some("open".into()),
            limit: Some(50),
            ..Default::default()
        },
    )?;
    Ok(Live {
        refresh_seconds: state.settings.web.overview_refresh_seconds,
        updated: crate::web::format::local_time(now, tz),
        routes: lines,
        convoys: rows,
        waiting,
        week: WeekNow {
            week: report.week.clone(),
            heading: t.fill("overview.this_week", &[("week", &report.week)]),
            requirement: tonnes(totals.requirement),
            delivered: tonnes(totals.delivered_during_week),
            coverage: totals
                .coverage_percent
                .map(|p| format!("{} %", crate::report::render::percent_string(p))),
            shortfall: tonnes(totals.shortfall_against_requirement),
        },
        alerts: open
            .items
            .into_iter()
            .map(|a| (t.get(&format!("rule.{}", a.rule)).to_string(), a))
            .collect(),
    })
}

#[tracing::instrument(skip_all)]
pub async fn page(state: web::Data<AppState>, visitor: Visitor) -> Result<HttpResponse, WebError> {
    let t = visitor.t;
    let s = state.clone();
    let live = state
        .db(move |c| live(c, &s, t))
        .await
        .map_err(|e| WebError::new(e, t))?;
    ok(&OverviewPage {
        base: visitor.base("overview"),
        t,
        live,
    })
}

#[tracing::instrument(skip_all)]
pub async fn live_part(
    state: web::Data<AppState>,
    visitor: Visitor,
) -> Result<HttpResponse, WebError> {
    let t = visitor.t;
    let s = state.clone();
    let live = state
        .db(move |c| live(c, &s, t))
        .await
        .map_err(|e| WebError::new(e, t))?;
    ok(&LivePart { t, live })
}
