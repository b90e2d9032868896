//! Assembles a weekly report from the rollups (a few rows per week), the week's own
//! convoys and the requirements — never by replaying the ledger.
//!
//! [`build`] reads as the list of its steps; each step is a small function below, in
//! the order the report is put together (which is also the order of its queries).

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use chrono_tz::Tz;
use rust_decimal::Decimal;

use crate::app::error::AppError;
use crate::db::{from_micros, DbConn};
use crate::domain::claims::{discrepancy, logged_figure, Share};
use crate::domain::ledger::Status;
use crate::domain::quantity::Kg;
use crate::domain::week::{self, IsoWeek};
use crate::report::model::{
    AlertLine, Breakdown, CheckpointBreakdown, ClaimLine, ConvoyLine, Cumulative, DetailLine,
    DisputedConvoy, HistoryWeek, ReasonKg, Scope, WeekFigures, WeeklyReport,
};
use crate::report::render;
use crate::report::trucks::{week_trucks, WeekTrucks};
use crate::store::convoys::{self as convoys_store, Codes, ConvoyDue, ConvoyFilter};
use crate::store::reference::Names;
use crate::store::reports::{self, RequirementRow};
use crate::store::rollups::Sums;

/// Weeks of history drawn in the chart.
pub const HISTORY_WEEKS: usize = 12;
/// At most this many convoys are listed in a report (the figures count them all).
pub const MAX_LISTED: i64 = 1000;

/// The report's filters, as the client gave them (route code, organization slug).
#[derive(Debug, Clone, Default)]
pub struct ScopeFilter {
    pub route: Option<String>,
    pub organization: Option<String>,
}

/// Looks up `id` in one of the name maps; an unknown id reads as empty.
fn named(map: &HashMap<String, String>, id: &str) -> String {
    map.get(id).cloned().unwrap_or_default()
}

/// A route's code, name, origin and destination.
fn route_of(names: &Names, id: &str) -> (String, String, String, String) {
    let (origin, destination) = names.route_ends.get(id).cloned().unwrap_or_default();
    (
        named(&names.routes, id),
        named(&names.route_names, id),
        origin,
        destination,
    )
}

fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// The requirement (kg) of the general (all-cargo) requirements in scope over a week.
fn week_requirement(
    reqs: &[RequirementRow],
    w: IsoWeek,
    route_id: Option<&str>,
    commodity_id: Option<&str>,
) -> Kg {
    reqs.iter()
        .filter(|r| route_id.is_none_or(|id| r.route_id == id))
        .filter(|r| r.commodity_id.as_deref() == commodity_id)
        .filter_map(|r| week::required_kg(w, date(&r.from_date)?, date(&r.to_date)?, r.kg_per_day))
        .sum()
}

fn range_requirement(reqs: &[RequirementRow], start: NaiveDate, end: NaiveDate) -> Kg {
    reqs.iter()
        .filter(|r| r.commodity_id.is_none())
        .filter_map(|r| {
            week::required_kg_between(
                start,
                end,
                date(&r.from_date)?,
                date(&r.to_date)?,
                r.kg_per_day,
            )
        })
        .sum()
}

fn percent(part: Kg, whole: Kg) -> Option<Decimal> {
    (whole > 0)
        .then(|| (Decimal::from(part) * Decimal::from(100) / Decimal::from(whole)).round_dp(1))
}

fn local_date(us: i64, tz: Tz) -> NaiveDate {
    from_micros(us).with_timezone(&tz).date_naive()
}

fn rfc(us: i64, tz: Tz) -> String {
    from_micros(us)
        .with_timezone(&tz)
        .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// "lachin" → "the Lachin route".
fn route_label(code: &str) -> String {
    let mut chars = code.chars();
    let first = chars
        .next()
        .map(|c| c.to_uppercase().collect::<String>())
        .unwrap_or_default();
    format!("the {first}{} route", chars.as_str())
}

/// The headline figures of week `w` alone, for the whole corridor: the requirement and
/// the week's rollup totals, without the breakdowns, history or convoy lists of
/// [`build`] (the overview shows these figures on every refresh). The same figures as
/// `build(…).totals`.
pub fn week_totals(c: &mut DbConn, w: IsoWeek) -> Result<WeekFigures, AppError> {
    let scope = resolve_scope(c, &ScopeFilter::default())?;
    let reqs = requirements_in_scope(c, &scope)?;
    let rows = reports::rollup_rows(c, &[w.key()], &scope)?;
    let mut totals = Sums::default();
    for (_, s) in &rows {
        totals.add(s, 1);
    }
    Ok(week_figures(&reqs, w, &totals))
}

/// Builds the report of week `w` in time zone `tz`; claims that differ by more than
/// `share` are disputed.
pub fn build(
    c: &mut DbConn,
    tz: Tz,
    share: Share,
    w: IsoWeek,
    filter: &ScopeFilter,
) -> Result<WeeklyReport, AppError> {
    let names = Names::load(c)?;
    let scope = resolve_scope(c, filter)?;
    let reqs = requirements_in_scope(c, &scope)?;
    let history_weeks = w.last_n(HISTORY_WEEKS);
    let sums = RollupSums::load(c, w, &history_weeks, &scope)?;

    // Figures and breakdowns of the week.
    let totals = week_figures(&reqs, w, &sums.totals);
    let mut by_route = route_breakdown(&names, &reqs, w, &sums.by_route);
    let by_organization = organization_breakdown(&names, &sums.by_organization);
    let by_commodity = commodity_breakdown(&names, &reqs, w, &sums.by_commodity);
    let by_route_organization_commodity = detail_lines(&names, &sums.lines);

    // Cumulative figures since tracking began, and the chart's history.
    let since = tracking_since(c, w, &reqs, &scope)?;
    let (history, running) =
        chart_history(c, w, &history_weeks, &reqs, &scope, &sums.per_week, since)?;
    let cumulative = cumulative_figures(&reqs, w, since, &running);

    // The week's convoys, where their cargo stopped, and what is stalled.
    let (start, end) = w.bounds(tz);
    let (start, end) = (start.timestamp_micros(), end.timestamp_micros());
    let week_convoys = convoys_due(c, &scope, start, end)?;
    let stalled_rows = stalled_convoys(c, &scope, end)?;
    let codes = &names.codes;
    let convoys: Vec<ConvoyLine> = week_convoys
        .iter()
        .take(MAX_LISTED as usize)
        .map(|r| convoy_line(&names, codes, tz, r))
        .collect();
    let stalled: Vec<ConvoyLine> = stalled_rows
        .iter()
        .map(|r| convoy_line(&names, codes, tz, r))
        .collect();
    let trucks = week_trucks(c, &names, &week_convoys)?;
    routes_with_trucks(&mut by_route, &names, &trucks);
    let by_checkpoint = checkpoint_breakdown(c, &names, &week_convoys, &trucks)?;

    let alerts = alert_lines(c, &names, &scope, tz, start, end)?;
    let disputed = disputed_convoys(c, &names, tz, share, &week_convoys)?;

    let summary = render::summarize(
        w.week(),
        route_label_of(&names, filter, &week_convoys).as_deref(),
        totals.planned,
        totals.delivered,
        &held_groups(codes, tz, &week_convoys),
    );

    Ok(WeeklyReport {
        week: w.key(),
        timezone: tz.name().to_string(),
        starts: w.monday(),
        ends: w.sunday(),
        scope: Scope {
            route: filter.route.clone(),
            organization: filter.organization.clone(),
        },
        totals,
        trucks: Some(trucks.total),
        cumulative,
        by_commodity,
        by_organization,
        by_route,
        by_checkpoint,
        by_route_organization_commodity: Some(by_route_organization_commodity),
        convoys,
        stalled,
        alerts,
        disputed,
        history,
        summary,
    })
}

/// The ids of the client's route code and organization slug; one that does not exist
/// is a field error, so the client learns which filter to correct.
fn resolve_scope(c: &mut DbConn, filter: &ScopeFilter) -> Result<reports::Scope, AppError> {
    let mut scope = reports::Scope::default();
    if let Some(code) = &filter.route {
        scope.route_id = Some(crate::app::reference::route_id(c, code)?);
    }
    if let Some(slug) = &filter.organization {
        scope.organization_id = Some(crate::app::reference::organization_id(c, slug)?);
    }
    Ok(scope)
}

/// The requirements that apply to the scope. Requirements are per route, not per
/// organization, so a report of one organization has none.
fn requirements_in_scope(
    c: &mut DbConn,
    scope: &reports::Scope,
) -> Result<Vec<RequirementRow>, AppError> {
    Ok(if scope.organization_id.is_some() {
        Vec::new()
    } else {
        reports::list_requirements(c, scope.route_id.as_deref(), None, 100_000)?
    })
}

/// The rollups of the history weeks, added up once for every figure drawn from them.
struct RollupSums {
    /// The report week, all of the scope.
    totals: Sums,
    /// The report week, per route, organization and commodity id.
    by_route: BTreeMap<String, Sums>,
    by_organization: BTreeMap<String, Sums>,
    by_commodity: BTreeMap<String, Sums>,
    /// The report week, per rollup row: (route, organization, commodity) ids.
    lines: BTreeMap<(String, String, String), Sums>,
    /// Every history week (the report week included), by week key.
    per_week: BTreeMap<String, Sums>,
}

impl RollupSums {
    fn load(
        c: &mut DbConn,
        w: IsoWeek,
        history_weeks: &[IsoWeek],
        scope: &reports::Scope,
    ) -> Result<RollupSums, AppError> {
        let keys: Vec<String> = history_weeks.iter().map(|h| h.key()).collect();
        let rows = reports::rollup_rows(c, &keys, scope)?;
        let this_week = w.key();
        let mut sums = RollupSums {
            totals: Sums::default(),
            by_route: BTreeMap::new(),
            by_organization: BTreeMap::new(),
            by_commodity: BTreeMap::new(),
            lines: BTreeMap::new(),
            per_week: BTreeMap::new(),
        };
        for (k, s) in &rows {
            sums.per_week.entry(k.week.clone()).or_default().add(s, 1);
            if k.week == this_week {
                sums.totals.add(s, 1);
                sums.by_route
                    .entry(k.route_id.clone())
                    .or_default()
                    .add(s, 1);
                sums.by_organization
                    .entry(k.organization_id.clone())
                    .or_default()
                    .add(s, 1);
                sums.by_commodity
                    .entry(k.commodity_id.clone())
                    .or_default()
                    .add(s, 1);
                sums.lines
                    .entry((
                        k.route_id.clone(),
                        k.organization_id.clone(),
                        k.commodity_id.clone(),
                    ))
                    .or_default()
                    .add(s, 1);
            }
        }
        Ok(sums)
    }
}

/// The headline figures of the week: its rollup totals against the requirement.
fn week_figures(reqs: &[RequirementRow], w: IsoWeek, totals: &Sums) -> WeekFigures {
    let requirement = week_requirement(reqs, w, None, None);
    WeekFigures {
        requirement,
        planned: totals.planned_kg,
        delivered: totals.delivered_kg,
        delivered_during_week: totals.delivered_during_kg,
        shortfall_against_plan: totals.planned_kg - totals.delivered_kg,
        shortfall_against_requirement: (requirement - totals.delivered_during_kg).max(0),
        coverage_percent: percent(totals.delivered_during_kg, requirement),
        short_loaded: totals.short_loaded_kg,
        denied: totals.denied_kg,
        lost: totals.lost_kg,
        rejected: totals.rejected_kg,
        outstanding: totals.outstanding_kg,
        cancelled: totals.cancelled_kg,
    }
}

/// One line of a breakdown from the sums of its key.
fn breakdown(key: String, name: String, requirement: Option<Kg>, s: &Sums) -> Breakdown {
    Breakdown {
        key,
        name,
        requirement,
        planned: s.planned_kg,
        delivered: s.delivered_kg,
        delivered_during_week: s.delivered_during_kg,
        shortfall: s.planned_kg - s.delivered_kg,
        denied: s.denied_kg,
        lost: s.lost_kg,
        trucks: None,
    }
}

/// The week by route, sorted by code, each with its requirement.
fn route_breakdown(
    names: &Names,
    reqs: &[RequirementRow],
    w: IsoWeek,
    by_route: &BTreeMap<String, Sums>,
) -> Vec<Breakdown> {
    let mut rows: Vec<Breakdown> = by_route
        .iter()
        .map(|(id, s)| {
            let (code, name, _, _) = route_of(names, id);
            breakdown(
                code,
                name,
                Some(week_requirement(reqs, w, Some(id), None)),
                s,
            )
        })
        .collect();
    // Routes with a requirement but no convoy still show their need.
    let mut required_routes: Vec<&str> = reqs
        .iter()
        .filter(|r| r.commodity_id.is_none())
        .map(|r| r.route_id.as_str())
        .collect();
    required_routes.dedup();
    for id in required_routes {
        let need = week_requirement(reqs, w, Some(id), None);
        if need > 0 && !by_route.contains_key(id) {
            let (code, name, _, _) = route_of(names, id);
            rows.push(breakdown(code, name, Some(need), &Sums::default()));
        }
    }
    rows.sort_by(|a, b| a.key.cmp(&b.key));
    rows
}

/// Gives each route row the trucks of the week's convoys on it, adding a row (without
/// tonnes or requirement) for a route whose convoys the rollups have no tonnes of, so that
/// the route rows' trucks always add up to the week's.
fn routes_with_trucks(rows: &mut Vec<Breakdown>, names: &Names, trucks: &WeekTrucks) {
    for (code, t) in &trucks.by_route {
        if !rows.iter().any(|b| &b.key == code) {
            let name = names
                .routes
                .iter()
                .find(|(_, c)| *c == code)
                .map(|(id, _)| named(&names.route_names, id))
                .unwrap_or_default();
            let mut row = breakdown(code.clone(), name, Some(0), &Sums::default());
            row.trucks = Some(*t);
            rows.push(row);
        }
    }
    for b in rows.iter_mut() {
        b.trucks = Some(trucks.by_route.get(&b.key).copied().unwrap_or_default());
    }
    rows.sort_by(|a, b| a.key.cmp(&b.key));
}

/// The week by organization, sorted by slug; organizations have no requirement.
fn organization_breakdown(names: &Names, by_org: &BTreeMap<String, Sums>) -> Vec<Breakdown> {
    let mut rows: Vec<Breakdown> = by_org
        .iter()
        .map(|(id, s)| {
            let (slug, name) = (
                named(&names.organizations, id),
                named(&names.organization_names, id),
            );
            breakdown(slug, name, None, s)
        })
        .collect();
    rows.sort_by(|a, b| a.key.cmp(&b.key));
    rows
}

/// The week by commodity, sorted by code; a commodity has a requirement only where one
/// is defined for it.
fn commodity_breakdown(
    names: &Names,
    reqs: &[RequirementRow],
    w: IsoWeek,
    by_commodity: &BTreeMap<String, Sums>,
) -> Vec<Breakdown> {
    let mut rows: Vec<Breakdown> = by_commodity
        .iter()
        .map(|(id, s)| {
            let (code, name) = (
                named(&names.codes.commodities, id),
                named(&names.commodity_names, id),
            );
            let need = reqs
                .iter()
                .any(|r| r.commodity_id.as_deref() == Some(id))
                .then(|| week_requirement(reqs, w, None, Some(id)));
            breakdown(code, name, need, s)
        })
        .collect();
    rows.sort_by(|a, b| a.key.cmp(&b.key));
    rows
}

/// The week by route × organization × commodity, one line per rollup key, sorted by
/// route code, organization slug and commodity code. The lines are the same sums the
/// totals and breakdowns add up, so every figure of them is a sum of these lines.
fn detail_lines(
    names: &Names,
    lines: &BTreeMap<(String, String, String), Sums>,
) -> Vec<DetailLine> {
    let mut rows: Vec<DetailLine> = lines
        .iter()
        .map(|((route_id, org_id, commodity_id), s)| {
            let (route, route_name, origin, destination) = route_of(names, route_id);
            DetailLine {
                route,
                route_name,
                origin,
                destination,
                organization: named(&names.organizations, org_id),
                organization_name: named(&names.organization_names, org_id),
                commodity: named(&names.codes.commodities, commodity_id),
                commodity_name: named(&names.commodity_names, commodity_id),
                planned: s.planned_kg,
                delivered: s.delivered_kg,
                delivered_during_week: s.delivered_during_kg,
                shortfall: s.planned_kg - s.delivered_kg,
                denied: s.denied_kg,
                lost: s.lost_kg,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        (&a.route, &a.organization, &a.commodity).cmp(&(&b.route, &b.organization, &b.commodity))
    });
    rows
}

/// When tracking began: the first requirement or the first week with data, if that is
/// not after this week.
fn tracking_since(
    c: &mut DbConn,
    w: IsoWeek,
    reqs: &[RequirementRow],
    scope: &reports::Scope,
) -> Result<Option<NaiveDate>, AppError> {
    let first_req = reqs
        .iter()
        .filter(|r| r.commodity_id.is_none())
        .filter_map(|r| date(&r.from_date))
        .min();
    let first_rollup = reports::first_week(c, scope)?
        .and_then(|k| IsoWeek::parse(&k).ok())
        .map(IsoWeek::monday);
    Ok([first_req, first_rollup]
        .into_iter()
        .flatten()
        .min()
        .filter(|d| *d <= w.sunday()))
}

/// The chart's weeks, and the running sums of everything up to the end of the last of
/// them (the report week), which the cumulative figures are drawn from.
fn chart_history(
    c: &mut DbConn,
    w: IsoWeek,
    history_weeks: &[IsoWeek],
    reqs: &[RequirementRow],
    scope: &reports::Scope,
    per_week: &BTreeMap<String, Sums>,
    since: Option<NaiveDate>,
) -> Result<(Vec<HistoryWeek>, Sums), AppError> {
    let oldest = history_weeks.first().copied().unwrap_or(w);
    let mut running = reports::sums_before(c, &oldest.key(), scope)?;
    let mut history = Vec::with_capacity(history_weeks.len());
    for h in history_weeks {
        if let Some(s) = per_week.get(&h.key()) {
            running.add(s, 1);
        }
        let s = per_week.get(&h.key()).cloned().unwrap_or_default();
        let cum_req = since
            .map(|start| range_requirement(reqs, start, h.sunday()))
            .unwrap_or(0);
        history.push(HistoryWeek {
            week: h.key(),
            requirement: week_requirement(reqs, *h, None, None),
            planned: s.planned_kg,
            delivered: s.delivered_during_kg,
            cumulative_shortfall: (cum_req - running.delivered_during_kg).max(0),
        });
    }
    Ok((history, running))
}

/// The figures since tracking began, up to the end of the week.
fn cumulative_figures(
    reqs: &[RequirementRow],
    w: IsoWeek,
    since: Option<NaiveDate>,
    running: &Sums,
) -> Cumulative {
    let requirement = since
        .map(|start| range_requirement(reqs, start, w.sunday()))
        .unwrap_or(0);
    Cumulative {
        since,
        requirement,
        planned: running.planned_kg,
        delivered: running.delivered_during_kg,
        shortfall_against_requirement: (requirement - running.delivered_during_kg).max(0),
        shortfall_against_plan: running.planned_kg - running.delivered_kg,
    }
}

/// The convoy list's filter for the scope, before any of its own conditions.
fn convoy_filter(scope: &reports::Scope) -> ConvoyFilter {
    ConvoyFilter {
        organization_id: scope.organization_id.clone(),
        route_id: scope.route_id.clone(),
        ..ConvoyFilter::default()
    }
}

/// The convoys expected to arrive in `[start, end)` (one more than listed when there
/// are more than [`MAX_LISTED`]; the figures count them all).
fn convoys_due(
    c: &mut DbConn,
    scope: &reports::Scope,
    start: i64,
    end: i64,
) -> Result<Vec<ConvoyDue>, AppError> {
    Ok(convoys_store::list_due(
        c,
        &ConvoyFilter {
            due_from: Some(start),
            due_to: Some(end),
            ..convoy_filter(scope)
        },
        MAX_LISTED,
    )?)
}

/// The convoys held or in transit at the end of the week, whatever week they were due,
/// by expected arrival.
fn stalled_convoys(
    c: &mut DbConn,
    scope: &reports::Scope,
    end: i64,
) -> Result<Vec<ConvoyDue>, AppError> {
    let mut rows = Vec::new();
    for status in ["held", "in_transit"] {
        rows.extend(convoys_store::list_due(
            c,
            &ConvoyFilter {
                status: Some(status.into()),
                due_to: Some(end),
                ..convoy_filter(scope)
            },
            MAX_LISTED,
        )?);
    }
    rows.sort_by_key(|r| (r.expected_arrival, r.id.clone()));
    Ok(rows)
}

/// One convoy as the report lists it, with codes for ids and times in `tz`.
fn convoy_line(names: &Names, codes: &Codes, tz: Tz, r: &ConvoyDue) -> ConvoyLine {
    let (route, _, origin, destination) = route_of(names, &r.route_id);
    ConvoyLine {
        id: r.id.clone(),
        reference: r.reference.clone(),
        organization: named(&names.organizations, &r.organization_id),
        route,
        origin,
        destination,
        trucks: r.trucks,
        expected_arrival: rfc(r.expected_arrival, tz),
        status: r.status.clone(),
        last_checkpoint: r
            .last_checkpoint_id
            .as_deref()
            .map(|id| codes.checkpoint(id)),
        last_seen_at: r.last_seen_at.map(|t| rfc(t, tz)),
        planned: r.planned_kg,
        delivered: r.delivered_kg,
        outstanding: r.outstanding_kg,
        held_since: (r.status == "held")
            .then(|| r.last_seen_at.map(|t| rfc(t, tz)))
            .flatten(),
    }
}

/// Where the cargo of the week's convoys stopped, by checkpoint code: denied and lost
/// (by reason) there, and on board of those of them held there now; and their trucks
/// there. A checkpoint is listed when cargo stopped there or some truck count is known.
fn checkpoint_breakdown(
    c: &mut DbConn,
    names: &Names,
    week_convoys: &[ConvoyDue],
    trucks: &WeekTrucks,
) -> Result<Vec<CheckpointBreakdown>, AppError> {
    let ids: Vec<String> = week_convoys.iter().map(|r| r.id.clone()).collect();
    let losses = convoys_store::losses_of(c, &ids)?;
    let mut by_checkpoint: BTreeMap<String, (Kg, BTreeMap<String, Kg>, Kg)> = BTreeMap::new();
    for l in losses {
        let entry = by_checkpoint.entry(l.checkpoint_id.clone()).or_default();
        if l.reason == "denied_at_checkpoint" {
            entry.0 += l.kg;
        } else {
            *entry.1.entry(l.reason.clone()).or_default() += l.kg;
        }
    }
    for r in week_convoys.iter().filter(|r| r.status == "held") {
        by_checkpoint
            .entry(r.last_checkpoint_id.clone().unwrap_or_default())
            .or_default()
            .2 += r.outstanding_kg;
    }
    by_checkpoint.remove("");
    for code in trucks.by_checkpoint.keys() {
        if let Some(id) = names.codes.checkpoint_id(code) {
            by_checkpoint.entry(id).or_default();
        }
    }
    let mut rows: Vec<CheckpointBreakdown> = by_checkpoint
        .into_iter()
        .map(|(id, (denied, lost, held_now))| {
            let (code, name) = (
                named(&names.codes.checkpoints, &id),
                named(&names.checkpoint_names, &id),
            );
            CheckpointBreakdown {
                trucks: Some(trucks.by_checkpoint.get(&code).copied().unwrap_or_default()),
                checkpoint: code,
                name,
                denied,
                lost_total: lost.values().sum(),
                lost: lost
                    .into_iter()
                    .map(|(reason, kg)| ReasonKg { reason, kg })
                    .collect(),
                held_now,
            }
        })
        .collect();
    rows.sort_by(|a, b| a.checkpoint.cmp(&b.checkpoint));
    Ok(rows)
}

/// The alerts opened in `[start, end)` that concern the scope.
fn alert_lines(
    c: &mut DbConn,
    names: &Names,
    scope: &reports::Scope,
    tz: Tz,
    start: i64,
    end: i64,
) -> Result<Vec<AlertLine>, AppError> {
    let mut lines = Vec::new();
    for a in crate::store::alerts::opened_between(c, start, end)? {
        let in_scope = scope
            .route_id
            .as_ref()
            .is_none_or(|r| a.route_id.as_ref() == Some(r))
            && scope
                .organization_id
                .as_ref()
                .is_none_or(|o| a.organization_id.as_ref() == Some(o));
        if in_scope {
            let shown = crate::store::alerts::to_alert(c, &a, names)?;
            lines.push(AlertLine {
                id: shown.id,
                rule: shown.rule,
                severity: shown.severity,
                subject: shown.subject_label,
                opened_at: rfc(a.opened_at, tz),
                message: shown.message,
            });
        }
    }
    Ok(lines)
}

/// The week's convoys whose claims are disputed beyond `share`, in the order of the
/// convoy list, each with all its claims. The claims are only read: the ledger's figures
/// are the convoy's own.
fn disputed_convoys(
    c: &mut DbConn,
    names: &Names,
    tz: Tz,
    share: Share,
    week_convoys: &[ConvoyDue],
) -> Result<Vec<DisputedConvoy>, AppError> {
    let ids: Vec<String> = week_convoys
        .iter()
        .take(MAX_LISTED as usize)
        .map(|r| r.id.clone())
        .collect();
    let mut by_convoy: HashMap<String, Vec<crate::store::claims::ClaimRow>> = HashMap::new();
    for claim in crate::store::claims::claims_of(c, &ids)? {
        by_convoy
            .entry(claim.convoy_id.clone())
            .or_default()
            .push(claim);
    }
    let mut lines = Vec::new();
    for r in week_convoys.iter().take(MAX_LISTED as usize) {
        let Some(claims) = by_convoy.get(&r.id) else {
            continue;
        };
        let status = Status::parse(&r.status).unwrap_or(Status::Planned);
        let (basis, logged) = logged_figure(status, r.planned_kg, r.loaded_kg);
        let kgs: Vec<Kg> = claims.iter().map(|cl| cl.kg).collect();
        let Some(d) = discrepancy(logged, &kgs, share).filter(|d| d.disputed) else {
            continue;
        };
        lines.push(DisputedConvoy {
            id: r.id.clone(),
            reference: r.reference.clone(),
            organization: named(&names.organizations, &r.organization_id),
            organization_name: named(&names.organization_names, &r.organization_id),
            route: named(&names.routes, &r.route_id),
            logged_figure: basis.as_str().to_string(),
            logged,
            claims: claims
                .iter()
                .map(|cl| ClaimLine {
                    source: cl.source.clone(),
                    url: cl.url.clone(),
                    published_at: rfc(cl.published_at, tz),
                    tonnes: cl.kg,
                    trucks: cl.trucks,
                })
                .collect(),
            lowest: d.lowest,
            highest: d.highest,
            spread_percent: d.spread_percent,
            threshold_percent: share.percent(),
        });
    }
    Ok(lines)
}

/// The route the summary names: the filtered one, else the only route of the week's
/// convoys; `None` (the corridor) when they used several or there were none.
fn route_label_of(
    names: &Names,
    filter: &ScopeFilter,
    week_convoys: &[ConvoyDue],
) -> Option<String> {
    match &filter.route {
        Some(code) => Some(route_label(code)),
        None => {
            let mut routes: Vec<&str> = week_convoys.iter().map(|r| r.route_id.as_str()).collect();
            routes.sort();
            routes.dedup();
            match routes.as_slice() {
                [only] => names.routes.get(*only).map(|code| route_label(code)),
                _ => None,
            }
        }
    }
}

/// The cargo of the week's convoys held now, for the summary: (kilograms on board,
/// checkpoint code, local date the earliest of them was last seen there), by
/// checkpoint id.
fn held_groups(codes: &Codes, tz: Tz, week_convoys: &[ConvoyDue]) -> Vec<(Kg, String, NaiveDate)> {
    let mut held: BTreeMap<String, (Kg, i64)> = BTreeMap::new();
    for r in week_convoys.iter().filter(|r| r.status == "held") {
        if let Some(cp) = &r.last_checkpoint_id {
            let e = held.entry(cp.clone()).or_insert((0, i64::MAX));
            e.0 += r.outstanding_kg;
            e.1 = e.1.min(r.last_seen_at.unwrap_or(r.expected_arrival));
        }
    }
    held.iter()
        .map(|(cp, (kg, since))| (*kg, codes.checkpoint(cp), local_date(*since, tz)))
        .collect()
}
