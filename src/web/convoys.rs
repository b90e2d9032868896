//! Convoys: the list with its filters and search (`/convoys`), and one convoy's page
//! (`/convoys/{id}`): its timeline, the waterfall of each commodity, the shortfall
//! split, and what sources published about it beside the logged figure. The figures are
//! the API's own views.

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::app::convoys::{self, ListFilter};
use crate::app::state::AppState;
use crate::domain::quantity::{parse_tonnes, Kg};
use crate::store::reference;
use crate::views::claims::ConvoyClaims;
use crate::views::convoys::{CommodityOut, Convoy, ConvoySummary, Event, FiguresOut};
use crate::web::format::{local_time_text, tonnes, tonnes_text};
use crate::web::i18n::Texts;
use crate::web::page::{ok, Base, Visitor, WebError};

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    organization: String,
    #[serde(default)]
    route: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    due_from: String,
    #[serde(default)]
    due_to: String,
    #[serde(default)]
    q: String,
    cursor: Option<String>,
    #[allow(dead_code)]
    lang: Option<String>,
}

fn some(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

pub struct Row {
    pub s: ConvoySummary,
    pub status_label: String,
    pub planned: String,
    pub delivered: String,
    pub outstanding: String,
    pub due: String,
}

pub struct Choice {
    pub value: String,
    pub label: String,
}

#[derive(Template)]
#[template(path = "convoys.html")]
struct ListPage {
    base: Base,
    t: &'static Texts,
    q: ListQuery,
    rows: Vec<Row>,
    organizations: Vec<Choice>,
    routes: Vec<Choice>,
    statuses: Vec<Choice>,
    next: Option<String>,
    error: Option<String>,
}

const STATUSES: [&str; 7] = [
    "planned",
    "in_transit",
    "held",
    "delivered",
    "short_delivered",
    "turned_back",
    "cancelled",
];

#[tracing::instrument(skip_all)]
pub async fn list(
    state: web::Data<AppState>,
    visitor: Visitor,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, WebError> {
    let t = visitor.t;
    let q = q.into_inner();
    let tz = state.tz;
    let filter = ListFilter {
        organization: some(&q.organization),
        route: some(&q.route),
        status: some(&q.status),
        due_from: some(&q.due_from),
        due_to: some(&q.due_to),
        reference: some(&q.q),
        limit: Some(50),
        cursor: q.cursor.clone(),
    };
    let (result, organizations, routes) = state
        .db(move |c| {
            let orgs = reference::list_organizations(c, None, 500)?.items;
            let routes = reference::list_routes(c, None, 500)?.items;
            Ok((convoys::list(c, tz, &filter), orgs, routes))
        })
        .await
        .map_err(|e| WebError::new(e, t))?;
    // A bad filter is shown above the form, for the person to correct.
    let (page, error) = match result {
        Ok(page) => (Some(page), None),
        Err(e @ crate::app::error::AppError::Validation { .. }) => (None, Some(e.to_string())),
        Err(e) => return Err(WebError::new(e, t)),
    };
    let (items, next_cursor) = page.map_or((Vec::new(), None), |p| (p.items, p.next_cursor));
    let next = next_cursor.map(|cursor| {
        let mut pairs = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("organization", &q.organization),
            ("route", &q.route),
            ("status", &q.status),
            ("due_from", &q.due_from),
            ("due_to", &q.due_to),
            ("q", &q.q),
        ] {
            if !v.is_empty() {
                pairs.append_pair(k, v);
            }
        }
        pairs.append_pair("cursor", &cursor);
        format!("/convoys?{}", pairs.finish())
    });
    let rows = items
        .into_iter()
        .map(|s| Row {
            status_label: t.get(&format!("status.{}", s.status)).to_string(),
            planned: tonnes_text(&s.planned),
            delivered: tonnes_text(&s.delivered),
            outstanding: tonnes_text(&s.outstanding),
            due: local_time_text(&s.expected_arrival, tz),
            s,
        })
        .collect();
    ok(&ListPage {
        base: visitor.base("convoys"),
        t,
        organizations: organizations
            .into_iter()
            .map(|o| Choice {
                value: o.slug,
                label: o.name,
            })
            .collect(),
        routes: routes
            .into_iter()
            .map(|r| Choice {
                value: r.row.code,
                label: r.row.name,
            })
            .collect(),
        statuses: STATUSES
            .iter()
            .map(|s| Choice {
                value: s.to_string(),
                label: t.get(&format!("status.{s}")).to_string(),
            })
            .collect(),
        q,
        rows,
        next,
        error,
    })
}

/// One bar of a waterfall chart: what was there at this step, and above it what was
/// taken off here, by reason.
pub struct Bar {
    pub label: String,
    pub x: i64,
    pub y: i64,
    pub height: i64,
    pub value: String,
    pub drops: Vec<Drop>,
}

pub struct Drop {
    pub reason: String,
    pub label: String,
    pub y: i64,
    pub height: i64,
    pub tonnes: String,
}

pub struct Waterfall {
    pub commodity: String,
    pub width: i64,
    pub bars: Vec<Bar>,
    pub reasons: Vec<(String, String)>,
}

const CHART_HEIGHT: i64 = 180;
const CHART_TOP: i64 = 20;
const BAR_STEP: i64 = 110;

fn kg(s: &str) -> Kg {
    parse_tonnes(s).unwrap_or(0)
}

/// One step of a waterfall before it is drawn: its label, the tonnes there, and what was
/// taken off at it by reason.
type Step = (String, Kg, Vec<(String, Kg)>);

/// The waterfall of one commodity: planned → loaded → after each checkpoint it reached →
/// delivered, each loss drawn where it happened and coloured by its reason.
fn waterfall(c: &CommodityOut, t: &Texts) -> Waterfall {
    let f = &c.figures;
    let mut steps: Vec<Step> = vec![
        (t.get("convoy.planned").into(), kg(&f.planned), Vec::new()),
        (
            t.get("convoy.loaded").into(),
            kg(&f.loaded),
            vec![("short_loaded".into(), kg(&f.short_loaded))],
        ),
    ];
    for s in &c.waterfall {
        let Some(value) = s.left.as_deref().or(s.entered.as_deref()) else {
            continue;
        };
        let mut drops = vec![("denied_at_checkpoint".to_string(), kg(&s.denied))];
        drops.extend(s.lost.iter().map(|l| (l.reason.clone(), kg(&l.tonnes))));
        steps.push((s.checkpoint.clone(), kg(value), drops));
    }
    steps.push((
        t.get("convoy.delivered").into(),
        kg(&f.delivered),
        vec![("rejected_on_receipt".into(), kg(&f.rejected_on_receipt))],
    ));
    let top = steps
        .iter()
        .map(|(_, v, d)| v + d.iter().map(|(_, k)| k).sum::<Kg>())
        .max()
        .unwrap_or(0)
        .max(1);
    let scale = |v: Kg| (i128::from(v) * i128::from(CHART_HEIGHT) / i128::from(top)) as i64;
    let mut reasons = Vec::new();
    let bars = steps
        .into_iter()
        .enumerate()
        .map(|(i, (label, value, drops))| {
            let height = scale(value);
            let mut y = CHART_TOP + CHART_HEIGHT - height;
            let drops = drops
                .into_iter()
                .filter(|(_, k)| *k > 0)
                .map(|(reason, k)| {
                    let h = scale(k).max(2);
                    y -= h;
                    let label = t.get(&format!("reason.{reason}")).to_string();
                    if !reasons.iter().any(|(r, _)| *r == reason) {
                        reasons.push((reason.clone(), label.clone()));
                    }
                    Drop {
                        reason,
                        label,
                        y,
                        height: h,
                        tonnes: tonnes(k),
                    }
                })
                .collect();
            Bar {
                label,
                x: 20 + BAR_STEP * i as i64,
                y: CHART_TOP + CHART_HEIGHT - height,
                height,
                value: tonnes(value),
                drops,
            }
        })
        .collect::<Vec<_>>();
    Waterfall {
        commodity: c.commodity.clone(),
        width: 40 + BAR_STEP * bars.len() as i64,
        bars,
        reasons,
    }
}

pub struct Figure {
    pub key: &'static str,
    pub label: String,
    pub tonnes: String,
}

/// The shortfall split: where the planned tonnes went.
fn split(f: &FiguresOut, t: &Texts) -> Vec<Figure> {
    [
        ("planned", &f.planned),
        ("loaded", &f.loaded),
        ("delivered", &f.delivered),
        ("shortfall", &f.shortfall),
        ("short_loaded", &f.short_loaded),
        ("denied", &f.denied),
        ("lost", &f.lost),
        ("rejected_on_receipt", &f.rejected_on_receipt),
        ("outstanding", &f.outstanding),
        ("cancelled", &f.cancelled),
    ]
    .into_iter()
    .map(|(key, v)| Figure {
        key,
        label: t.get(&format!("convoy.{key}")).to_string(),
        tonnes: tonnes_text(v),
    })
    .collect()
}

pub struct TimelineEvent {
    pub e: Event,
    pub kind_label: String,
    pub observed: String,
    pub recorded: String,
    pub cargo: Vec<String>,
    pub voided_at: String,
    /// The seq of the event this one corrects.
    pub corrects_seq: Option<i64>,
}

/// Events on one page of a convoy's timeline: the latest ones first shown, earlier ones a
/// link away, so a convoy with thousands of events stays a page to read.
const TIMELINE_PAGE: usize = 100;

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    /// Show the events recorded before this one (its `seq`); the latest without it.
    before: Option<String>,
    #[allow(dead_code)]
    lang: Option<String>,
}

/// A link to another part of a long timeline.
pub struct TimelineLink {
    /// The `before` parameter, none for the latest events.
    pub before: Option<i64>,
    pub text: String,
}

/// The links to the earlier and later parts of a long timeline.
fn timeline_links(w: &convoys::Window, t: &Texts) -> (Option<TimelineLink>, Option<TimelineLink>) {
    let count = |n: usize| crate::report::render::group_thousands(n as u64);
    let earlier = (w.earlier > 0).then(|| TimelineLink {
        before: w.earlier_before,
        text: t.fill("convoy.earlier_events", &[("count", &count(w.earlier))]),
    });
    let later = (w.later > 0).then(|| TimelineLink {
        before: w.later_before,
        text: t.fill("convoy.later_events", &[("count", &count(w.later))]),
    });
    (earlier, later)
}

/// One claim as the page lists it.
pub struct ClaimLine {
    pub source: String,
    pub url: Option<String>,
    pub published: String,
    pub tonnes: String,
    pub trucks: String,
    pub quote: Option<String>,
}

/// The claims beside the logged figure, and the sentence that flags them.
pub struct Claims {
    pub disputed: bool,
    pub spread: String,
    /// "Loaded" or "Planned", with its tonnes.
    pub logged_label: String,
    pub logged: String,
    pub verdict: String,
    pub lines: Vec<ClaimLine>,
}

fn claims_view(c: &ConvoyClaims, t: &Texts, tz: chrono_tz::Tz) -> Claims {
    let threshold = c.threshold_percent.as_str();
    let spread = c.spread_percent.clone().unwrap_or_default();
    let verdict = match (c.claims.is_empty(), c.disputed, c.spread_percent.is_some()) {
        (true, _, _) => t.get("convoy.claims_none").to_string(),
        (false, true, true) => t.fill(
            "convoy.claims_disputed",
            &[("spread", &spread), ("threshold", threshold)],
        ),
        (false, true, false) => t.fill("convoy.claims_disputed_zero", &[("threshold", threshold)]),
        (false, false, _) => t.fill(
            "convoy.claims_agree",
            &[("spread", &spread), ("threshold", threshold)],
        ),
    };
    Claims {
        disputed: c.disputed,
        spread,
        logged_label: t.get(&format!("convoy.{}", c.logged_figure)).to_string(),
        logged: tonnes_text(&c.logged),
        verdict,
        lines: c
            .claims
            .iter()
            .map(|cl| ClaimLine {
                source: cl.source.clone(),
                url: cl.url.clone(),
                published: local_time_text(&cl.published_at, tz),
                tonnes: tonnes_text(&cl.tonnes),
                trucks: cl.trucks.map_or("—".to_string(), |n| n.to_string()),
                quote: cl.quote.clone(),
            })
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "convoy.html")]
struct ConvoyPage {
    base: Base,
    t: &'static Texts,
    c: Convoy,
    status_label: String,
    planned_departure: String,
    expected_arrival: String,
    totals: Vec<Figure>,
    charts: Vec<Waterfall>,
    timeline: Vec<TimelineEvent>,
    earlier: Option<TimelineLink>,
    later: Option<TimelineLink>,
    manifest: Vec<(String, String, String)>,
    claims: Option<Claims>,
}

#[tracing::instrument(skip_all, fields(convoy = %id))]
pub async fn page(
    state: web::Data<AppState>,
    visitor: Visitor,
    id: web::Path<String>,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, WebError> {
    let t = visitor.t;
    let (tz, share) = (state.tz, state.dispute);
    let id = id.into_inner();
    // A `before` that is not a number (an edited link) shows the latest events.
    let before = q
        .before
        .as_deref()
        .and_then(|b| b.trim().parse::<i64>().ok());
    let pages = state.pages.clone();
    let part = state
        .db(move |c| convoys::get_part(c, &pages, &id, share, before, TIMELINE_PAGE))
        .await
        .map_err(|e| WebError::new(e, t))?;
    let (earlier, later) = timeline_links(&part.window, t);
    let (c, seqs) = (part.convoy, part.corrected_seqs);
    let timeline = c
        .events
        .iter()
        .map(|e| TimelineEvent {
            kind_label: t.get(&format!("kind.{}", e.kind)).to_string(),
            observed: local_time_text(&e.observed_at, tz),
            recorded: local_time_text(&e.recorded_at, tz),
            cargo: e
                .cargo
                .iter()
                .map(|l| {
                    let reason = l
                        .reason
                        .as_deref()
                        .map(|r| format!(" ({})", t.get(&format!("reason.{r}"))))
                        .unwrap_or_default();
                    format!("{}: {}{reason}", l.commodity, tonnes_text(&l.tonnes))
                })
                .collect(),
            voided_at: e
                .voided_by
                .as_ref()
                .map(|v| local_time_text(&v.recorded_at, tz))
                .unwrap_or_default(),
            corrects_seq: e.corrects.as_ref().and_then(|id| seqs.get(id).copied()),
            e: e.clone(),
        })
        .collect();
    ok(&ConvoyPage {
        base: visitor.base("convoys"),
        t,
        status_label: t.get(&format!("status.{}", c.summary.status)).to_string(),
        planned_departure: local_time_text(&c.summary.planned_departure, tz),
        expected_arrival: local_time_text(&c.summary.expected_arrival, tz),
        totals: split(&c.totals, t),
        charts: c.commodities.iter().map(|x| waterfall(x, t)).collect(),
        manifest: c
            .manifest
            .iter()
            .map(|l| {
                (
                    l.commodity.clone(),
                    tonnes_text(&l.tonnes),
                    format!("{} {}", l.quantity, l.unit),
                )
            })
            .collect(),
        timeline,
        earlier,
        later,
        claims: c.claims.as_ref().map(|cl| claims_view(cl, t, tz)),
        c,
    })
}
