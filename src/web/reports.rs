//! Weekly reports in the browser: the weeks (`/reports`), and one week's figures with its
//! 12-week chart, downloads, published revisions and what changed between two of them
//! (`/reports/weekly/{week}`). The figures are the report's own model.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::app::error::AppError;
use crate::app::state::AppState;
use crate::domain::quantity::Kg;
use crate::domain::trucks::{CheckpointTally, TruckTally};
use crate::domain::week::IsoWeek;
use crate::report::build::{build, ScopeFilter};
use crate::report::fetch::parse_week;
use crate::report::model::WeeklyReport;
use crate::report::render::history_svg;
use crate::store::reports::{self, SnapshotHeader};
use crate::web::format::{local_time, tonnes};
use crate::web::i18n::Texts;
use crate::web::page::{ok, Base, Visitor, WebError};

#[derive(Debug, Deserialize)]
pub struct IndexQuery {
    week: Option<String>,
    #[allow(dead_code)]
    lang: Option<String>,
}

pub struct Revision {
    pub week: String,
    pub revision: i32,
    pub sha256: String,
    pub published_at: String,
    pub published_by: String,
}

fn revision(h: &SnapshotHeader, tz: chrono_tz::Tz) -> Revision {
    Revision {
        week: h.week.clone(),
        revision: h.revision,
        sha256: h.sha256.clone(),
        published_at: local_time(h.published_at, tz),
        published_by: h.published_by.clone(),
    }
}

#[derive(Template)]
#[template(path = "reports.html")]
struct IndexPage {
    base: Base,
    t: &'static Texts,
    this_week: String,
    revisions: Vec<Revision>,
}

/// The weeks: a picker (which goes to the week's page) and every published revision.
#[tracing::instrument(skip_all)]
pub async fn index(
    state: web::Data<AppState>,
    visitor: Visitor,
    q: web::Query<IndexQuery>,
) -> Result<HttpResponse, WebError> {
    let t = visitor.t;
    let tz = state.tz;
    if let Some(week) = q.week.as_deref().map(str::trim).filter(|w| !w.is_empty()) {
        let week = parse_week(week).map_err(|e| WebError::new(e, t))?;
        return Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, format!("/reports/weekly/{}", week.key())))
            .finish());
    }
    let headers = state
        .db(|c| Ok(reports::list_snapshots(c, None)?))
        .await
        .map_err(|e| WebError::new(e, t))?;
    ok(&IndexPage {
        base: visitor.base("reports"),
        t,
        this_week: IsoWeek::containing(chrono::Utc::now(), tz).key(),
        revisions: headers.iter().map(|h| revision(h, tz)).collect(),
    })
}

#[derive(Debug, Deserialize)]
pub struct WeekQuery {
    /// Compare revision `from` with revision `to`.
    from: Option<i32>,
    to: Option<i32>,
    #[allow(dead_code)]
    lang: Option<String>,
}

pub struct Line {
    pub key: String,
    pub name: String,
    pub requirement: String,
    pub planned: String,
    pub delivered: String,
    pub shortfall: String,
    pub denied: String,
    pub lost: String,
    /// Route rows: trucks planned and arrived, each with the convoys it leaves out.
    pub trucks_planned: String,
    pub trucks_arrived: String,
}

/// One checkpoint of the week: tonnes denied, lost and held there now, and its trucks.
pub struct CheckpointLine {
    pub checkpoint: String,
    pub denied: String,
    pub lost: String,
    pub held_now: String,
    pub trucks_arrived: String,
    pub trucks_passed: String,
    pub trucks_held: String,
    pub trucks_turned_back: String,
}

pub struct Change {
    pub what: String,
    pub from: String,
    pub to: String,
    pub change: String,
}

#[derive(Template)]
#[template(path = "week.html")]
struct WeekPage {
    base: Base,
    t: &'static Texts,
    r: WeeklyReport,
    headline: Vec<(&'static str, String, String)>,
    by_route: Vec<Line>,
    by_commodity: Vec<Line>,
    by_checkpoint: Vec<CheckpointLine>,
    /// The week's trucks planned and arrived: (figure key, label, value).
    trucks: Vec<(&'static str, String, String)>,
    chart: String,
    previous: String,
    next: String,
    revisions: Vec<Revision>,
    compare: Option<(i32, i32, Vec<Change>)>,
}

/// A count of trucks, with the convoys it leaves out when there are any:
/// `21 (convoys without a number: 1)`.
fn trucks_text(n: i64, left_out: i64, key: &str, t: &Texts) -> String {
    if left_out == 0 {
        n.to_string()
    } else {
        format!("{n} ({})", t.fill(key, &[("n", &left_out.to_string())]))
    }
}

/// The trucks planned and arrived of a tally, as shown.
fn trucks_pair(tally: &TruckTally, t: &Texts) -> (String, String) {
    (
        trucks_text(
            tally.planned,
            tally.convoys_without_planned,
            "week.convoys_without_planned",
            t,
        ),
        trucks_text(
            tally.arrived,
            tally.convoys_arrived_uncounted,
            "week.convoys_arrived_uncounted",
            t,
        ),
    )
}

fn lines(items: &[crate::report::model::Breakdown], t: &Texts) -> Vec<Line> {
    items
        .iter()
        .map(|b| {
            let (trucks_planned, trucks_arrived) = b
                .trucks
                .as_ref()
                .map(|x| trucks_pair(x, t))
                .unwrap_or_default();
            Line {
                key: b.key.clone(),
                name: b.name.clone(),
                requirement: b.requirement.map(tonnes).unwrap_or_default(),
                planned: tonnes(b.planned),
                delivered: tonnes(b.delivered_during_week),
                shortfall: tonnes(b.shortfall),
                denied: tonnes(b.denied),
                lost: tonnes(b.lost),
                trucks_planned,
                trucks_arrived,
            }
        })
        .collect()
}

fn checkpoint_lines(items: &[crate::report::model::CheckpointBreakdown]) -> Vec<CheckpointLine> {
    items
        .iter()
        .map(|b| {
            let n = |f: fn(&CheckpointTally) -> i64| {
                b.trucks
                    .as_ref()
                    .map(|x| f(x).to_string())
                    .unwrap_or_default()
            };
            CheckpointLine {
                checkpoint: b.checkpoint.clone(),
                denied: tonnes(b.denied),
                lost: tonnes(b.lost_total),
                held_now: tonnes(b.held_now),
                trucks_arrived: n(|x| x.arrived),
                trucks_passed: n(|x| x.passed),
                trucks_held: n(|x| x.held),
                trucks_turned_back: n(|x| x.turned_back),
            }
        })
        .collect()
}

fn signed(kg: Kg) -> String {
    if kg > 0 {
        format!("+{}", tonnes(kg))
    } else {
        tonnes(kg)
    }
}

/// What changed between two revisions of a week, in tonnes: each headline figure and
/// each route's delivered and shortfall that differ.
fn changes(a: &WeeklyReport, b: &WeeklyReport, t: &Texts) -> Vec<Change> {
    let mut out = Vec::new();
    let mut push = |what: String, x: Kg, y: Kg| {
        if x != y {
            out.push(Change {
                what,
                from: tonnes(x),
                to: tonnes(y),
                change: signed(y - x),
            });
        }
    };
    for (key, x, y) in headline_pairs(a, b) {
        push(t.get(&format!("week.{key}")).to_string(), x, y);
    }
    for rb in &b.by_route {
        let ra = a.by_route.iter().find(|r| r.key == rb.key);
        let (d, s) = ra.map_or((0, 0), |r| (r.delivered_during_week, r.shortfall));
        push(
            format!("{} — {}", rb.name, t.get("week.delivered_during_week")),
            d,
            rb.delivered_during_week,
        );
        push(
            format!("{} — {}", rb.name, t.get("week.shortfall_against_plan")),
            s,
            rb.shortfall,
        );
    }
    out
}

fn headline_pairs(a: &WeeklyReport, b: &WeeklyReport) -> Vec<(&'static str, Kg, Kg)> {
    let (x, y) = (&a.totals, &b.totals);
    vec![
        ("requirement", x.requirement, y.requirement),
        ("planned", x.planned, y.planned),
        (
            "delivered_during_week",
            x.delivered_during_week,
            y.delivered_during_week,
        ),
        (
            "shortfall_against_requirement",
            x.shortfall_against_requirement,
            y.shortfall_against_requirement,
        ),
        (
            "shortfall_against_plan",
            x.shortfall_against_plan,
            y.shortfall_against_plan,
        ),
        ("denied", x.denied, y.denied),
        ("lost", x.lost, y.lost),
        ("outstanding", x.outstanding, y.outstanding),
    ]
}

fn model_of(row: &reports::SnapshotRow) -> Result<WeeklyReport, AppError> {
    serde_json::from_str(&row.model).map_err(|e| {
        AppError::Internal(anyhow::anyhow!(
            "revision {} of {} does not parse: {e}",
            row.revision,
            row.week
        ))
    })
}

#[tracing::instrument(skip_all, fields(week = %week))]
pub async fn week(
    state: web::Data<AppState>,
    visitor: Visitor,
    week: web::Path<String>,
    q: web::Query<WeekQuery>,
) -> Result<HttpResponse, WebError> {
    let t = visitor.t;
    let (tz, share) = (state.tz, state.dispute);
    let w = parse_week(&week).map_err(|e| WebError::new(e, t))?;
    let compare = q.from.zip(q.to);
    let (r, headers, compared) = state
        .db(move |c| {
            let r = build(c, tz, share, w, &ScopeFilter::default())?;
            let headers: Vec<SnapshotHeader> = reports::list_snapshots(c, Some(&w.key()))?;
            let compared = match compare {
                Some((from, to)) => {
                    let missing = |n: i32| {
                        AppError::NotFound(format!(
                            "week {} has no published revision {n}",
                            w.key()
                        ))
                    };
                    let a = reports::snapshot(c, &w.key(), from)?.ok_or_else(|| missing(from))?;
                    let b = reports::snapshot(c, &w.key(), to)?.ok_or_else(|| missing(to))?;
                    Some((from, to, model_of(&a)?, model_of(&b)?))
                }
                None => None,
            };
            Ok((r, headers, compared))
        })
        .await
        .map_err(|e| WebError::new(e, t))?;
    // The headline figures are the ones compared between revisions, in the same order.
    let headline = headline_pairs(&r, &r)
        .into_iter()
        .map(|(key, kg, _)| (key, t.get(&format!("week.{key}")).to_string(), tonnes(kg)))
        .collect();
    let shift = |days: i64| IsoWeek::of_date(w.monday() + chrono::Duration::days(days)).key();
    ok(&WeekPage {
        base: visitor.base("reports"),
        t,
        headline,
        by_route: lines(&r.by_route, t),
        by_commodity: lines(&r.by_commodity, t),
        by_checkpoint: checkpoint_lines(&r.by_checkpoint),
        trucks: r
            .trucks
            .as_ref()
            .map(|x| {
                let (planned, arrived) = trucks_pair(x, t);
                vec![
                    (
                        "trucks_planned",
                        t.get("week.trucks_planned").to_string(),
                        planned,
                    ),
                    (
                        "trucks_arrived",
                        t.get("week.trucks_arrived").to_string(),
                        arrived,
                    ),
                ]
            })
            .unwrap_or_default(),
        chart: history_svg(&r.history),
        previous: shift(-7),
        next: shift(7),
        revisions: headers.iter().map(|h| revision(h, tz)).collect(),
        compare: compared.map(|(from, to, a, b)| (from, to, changes(&a, &b, t))),
        r,
    })
}
