//! Convoys: create one (idempotent under its client id), read one, list them.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{Duration, NaiveDate, TimeZone};

use crate::app::auth::{Principal, Role};
use crate::app::error::AppError;
use crate::app::input::{commodity_index, optional_note, parse_line, NewConvoy};
use crate::app::lru::Bounded;
use crate::app::validate::Checker;
use crate::db::DbConn;
use crate::domain::claims::Share;
use crate::domain::ledger::Status;
use crate::store::convoys as store;
use crate::store::{body_hash, reference, replay_conflict, resolve_id, Created};
use crate::views::convoys::{
    convoy_out, convoy_part, event_out, summary, Convoy, ConvoySummary, Event,
};
use crate::views::name_of;

/// Validates a new convoy for `who`; resolves its organization, route and manifest.
pub fn build_convoy(
    conn: &mut DbConn,
    who: &Principal,
    body: &NewConvoy,
    id: String,
) -> Result<store::NewConvoy, AppError> {
    // Who may write for which organization comes before anything else about the body.
    who.require_writer()?;
    let mut check = Checker::new();
    let organization = match (&body.organization, who.role, &who.organization_id) {
        (Some(slug), _, _) => reference::find_organization(conn, slug)?.or_else(|| {
            check.push(
                "organization",
                format!("organization {slug} does not exist"),
            );
            None
        }),
        (None, Role::Editor, Some(own)) => reference::find_organization(conn, own)?,
        (None, _, _) => {
            check.push(
                "organization",
                "give the organization slug that owns the convoy",
            );
            None
        }
    };
    if let Some(org) = &organization {
        who.require_write_for(&org.id, &format!("organization {}", org.slug))?;
    }
    let reference_text = body.reference.trim();
    if reference_text.is_empty() || reference_text.chars().count() > 64 {
        check.push(
            "reference",
            "must be 1–64 characters, unique within the organization",
        );
    }
    let route = reference::find_route(conn, &body.route)?;
    if route.is_none() {
        check.push("route", format!("route {} does not exist", body.route));
    }
    let departure = check.take(
        "planned_departure",
        crate::domain::time::parse_time(&body.planned_departure),
    );
    let arrival = match &body.expected_arrival {
        Some(a) => check.take("expected_arrival", crate::domain::time::parse_time(a)),
        None => match (departure, &route) {
            (Some((at, offset)), Some(r)) => {
                let minutes: i64 = r.stops.iter().map(|s| i64::from(s.leg_minutes)).sum();
                Some((at + minutes * 60_000_000, offset))
            }
            _ => None,
        },
    };
    if let (Some(d), Some(a)) = (departure, arrival) {
        if a.0 < d.0 {
            check.push("expected_arrival", "must not be before planned_departure");
        }
    }
    if let Some(t) = body.trucks {
        if !(1..=1000).contains(&t) {
            check.push("trucks", "must be between 1 and 1000");
        }
    }
    if body.manifest.is_empty() {
        check.push(
            "manifest",
            "give at least one line: what the convoy is planned to carry",
        );
    }
    let commodities = commodity_index(conn)?;
    let mut manifest = Vec::new();
    for (i, line) in body.manifest.iter().enumerate() {
        let field = format!("manifest[{i}]");
        if line.reason.is_some() {
            check.push(
                format!("{field}.reason"),
                "manifest lines take no reason: they are the plan",
            );
        }
        if body.manifest[..i]
            .iter()
            .any(|l| l.commodity == line.commodity)
        {
            check.push(
                format!("{field}.commodity"),
                format!(
                    "{} appears twice; give one line per commodity",
                    line.commodity
                ),
            );
        }
        if let Some(parsed) = parse_line(&mut check, &field, line, &commodities) {
            if parsed.kg == 0 {
                check.push(
                    format!("{field}.tonnes"),
                    "a planned quantity must be more than 0",
                );
            }
            manifest.push(parsed);
        }
    }
    let note = optional_note(&mut check, &body.note);
    check.finish()?;
    let (organization, route, departure, arrival) = match (organization, route, departure, arrival)
    {
        (Some(o), Some(r), Some(d), Some(a)) => (o, r, d, a),
        _ => return Err(AppError::field("body", "invalid convoy")),
    };
    Ok(store::NewConvoy {
        id,
        organization_id: organization.id,
        reference: reference_text.to_string(),
        route_id: route.row.id,
        trucks: body.trucks,
        planned_departure: departure,
        expected_arrival: arrival,
        note,
        manifest,
        body_sha256: body_hash(body),
        created_by: who.token_id.clone(),
    })
}

/// Creates a convoy under its client id; a replay answers the stored convoy.
#[tracing::instrument(skip_all, fields(convoy = ?body.id, reference = %body.reference))]
pub fn create(
    c: &mut DbConn,
    who: &Principal,
    body: &NewConvoy,
) -> Result<Created<Convoy>, AppError> {
    who.require_writer()?;
    let id = resolve_id(body.id);
    if let Some(done) = replay(c, &id, body)? {
        return Ok(done);
    }
    let new = build_convoy(c, who, body, id)?;
    let created = store::create_convoy(c, new)?;
    let names = crate::store::tokens::names(c)?;
    let detail = store::load_detail(c, &created.get().id)?;
    Ok(created.map(|_| convoy_out(&detail, &names)))
}

/// Refuses `who` if it may not write for the convoy `id` (an unknown convoy passes: its
/// 404 comes with the request's own answer).
pub fn check_may_write_convoy(c: &mut DbConn, who: &Principal, id: &str) -> Result<(), AppError> {
    match store::find_convoy(c, id)? {
        Some(row) => who.require_write_for(
            &row.organization_id,
            &format!("convoy {} of another organization", row.reference),
        ),
        None => Ok(()),
    }
}

/// Refuses `who` if it may not create convoys for the organization `slug` (an unknown
/// organization passes: the body's own error names it).
pub fn check_may_write_for(c: &mut DbConn, who: &Principal, slug: &str) -> Result<(), AppError> {
    match reference::find_organization(c, slug)? {
        Some(org) => who.require_write_for(&org.id, &format!("organization {}", org.slug)),
        None => Ok(()),
    }
}

/// Creates a convoy from a sync batch, where the client id is required.
#[tracing::instrument(skip_all, fields(convoy = ?body.id, reference = %body.reference))]
pub fn create_synced(
    c: &mut DbConn,
    who: &Principal,
    body: &NewConvoy,
) -> Result<Created<()>, AppError> {
    who.require_writer()?;
    let Some(id) = body.id else {
        return Err(missing_sync_id());
    };
    let id = id.to_string();
    if replay_of(c, &id, body)?.is_some() {
        return Ok(Created::Replayed(()));
    }
    let new = build_convoy(c, who, body, id)?;
    Ok(store::create_convoy(c, new)?.map(|_| ()))
}

/// Every item in a sync batch needs its client id.
pub fn missing_sync_id() -> AppError {
    AppError::field("id", "every item in a sync batch needs its client-chosen UUID id, so a resent batch is not counted twice")
}

/// The stored convoy under this id, if its body is the same; a 409 if it differs.
fn replay_of(
    c: &mut DbConn,
    id: &str,
    body: &NewConvoy,
) -> Result<Option<store::ConvoyRow>, AppError> {
    match store::find_convoy(c, id)? {
        None => Ok(None),
        Some(row) if row.body_sha256 == body_hash(body) => Ok(Some(row)),
        Some(_) => Err(replay_conflict("convoy", id).into()),
    }
}

/// A create whose id is already stored is answered from the stored record before any
/// validation that could have changed since (a replay must not fail).
fn replay(c: &mut DbConn, id: &str, body: &NewConvoy) -> Result<Option<Created<Convoy>>, AppError> {
    if replay_of(c, id, body)?.is_none() {
        return Ok(None);
    }
    let names = crate::store::tokens::names(c)?;
    Ok(Some(Created::Replayed(convoy_out(
        &store::load_detail(c, id)?,
        &names,
    ))))
}

/// One convoy with its figures, events and claims (compared at `share`).
#[tracing::instrument(skip(c))]
pub fn get(c: &mut DbConn, id: &str, share: Share) -> Result<Convoy, AppError> {
    let detail = store::load_detail(c, id)?;
    viewed(c, &detail, 0..detail.events.len(), share)
}

/// The convoy's view with the events at `shown`, marked with their sources, and its
/// claims compared at `share`.
fn viewed(
    c: &mut DbConn,
    detail: &store::ConvoyDetail,
    shown: std::ops::Range<usize>,
    share: Share,
) -> Result<Convoy, AppError> {
    let names = crate::store::tokens::names(c)?;
    let mut convoy = convoy_part(detail, &names, shown);
    add_sources(c, &mut convoy.events)?;
    convoy.claims = Some(crate::app::claims::of_convoy(c, &detail.row, share)?);
    Ok(convoy)
}

/// Which of a convoy's events one page of its timeline shows, among all of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// Indexes into the convoy's events in recording order.
    pub shown: std::ops::Range<usize>,
    /// How many events come before and after the shown ones.
    pub earlier: usize,
    pub later: usize,
    /// The `before` that shows the page of earlier events.
    pub earlier_before: Option<i64>,
    /// The `before` that shows the page of later events; none when that page is the latest.
    pub later_before: Option<i64>,
}

/// The `size` events (by `seqs`, ascending) recorded before `before`: the latest when it is
/// none or past the end.
pub fn window(seqs: &[i64], before: Option<i64>, size: usize) -> Window {
    let end = before
        .map(|b| seqs.partition_point(|s| *s < b))
        .unwrap_or(seqs.len());
    let start = end.saturating_sub(size);
    Window {
        shown: start..end,
        earlier: start,
        later: seqs.len() - end,
        earlier_before: (start > 0).then(|| seqs[start]),
        later_before: seqs.get(end + size).copied(),
    }
}

/// One page of a convoy's timeline: the convoy with only the events `window` picks from
/// its seqs, built and marked with their sources; its figures are those of all events.
pub struct ConvoyPart {
    pub convoy: Convoy,
    pub window: Window,
    /// The seq of each event a shown event corrects, by id.
    pub corrected_seqs: HashMap<String, i64>,
}

/// Long convoys as their pages last read them: their events and evaluated ledger, so that
/// paging through a convoy with thousands of events does not read and evaluate all of
/// them for every page. An entry stands only while the convoy's row still has the
/// `ledger_version` and `updated_at` it was read with (every event written, by any
/// process, moves both) and the reference data its codes came from is unchanged
/// ([`crate::db::reference_fingerprint`]). Bounded by the number of events held.
pub struct DetailCache {
    /// By convoy id: the reference fingerprint its codes came from, and the detail.
    details: Bounded<(String, Arc<store::ConvoyDetail>)>,
}

fn detail_weight((_, detail): &(String, Arc<store::ConvoyDetail>)) -> usize {
    detail.events.len()
}

impl DetailCache {
    pub fn new(max_events: usize) -> DetailCache {
        DetailCache {
            details: Bounded::new(max_events, detail_weight),
        }
    }

    /// The kept detail of `row`'s convoy, if it is current for `row` and `fingerprint`.
    fn get(&self, row: &store::ConvoyRow, fingerprint: &str) -> Option<Arc<store::ConvoyDetail>> {
        self.details
            .get(&row.id, |(kept_fingerprint, detail)| {
                let current = detail.row.ledger_version == row.ledger_version
                    && detail.row.updated_at == row.updated_at
                    && kept_fingerprint == fingerprint;
                current.then(|| detail.clone())
            })
            .flatten()
    }

    fn put(&self, fingerprint: String, detail: Arc<store::ConvoyDetail>) {
        self.details
            .put([(detail.row.id.clone(), (fingerprint, detail))]);
    }
}

/// The convoy's detail: the kept one of `cache` while it is current, else read and
/// evaluated now (and kept when its events do not fit on one page of `size`).
fn detail_of(
    c: &mut DbConn,
    cache: &DetailCache,
    id: &str,
    size: usize,
) -> Result<Arc<store::ConvoyDetail>, AppError> {
    let row = store::get_convoy(c, id)?;
    // Each event takes the next seq, so `ledger_version` is the number of events: a
    // convoy that fits on one page is never kept, and needs neither the cache nor the
    // fingerprint read.
    if row.ledger_version <= size as i64 {
        return Ok(Arc::new(store::load_detail_of(c, row)?));
    }
    let fingerprint = crate::db::reference_fingerprint(c)?;
    if let Some(kept) = cache.get(&row, &fingerprint) {
        return Ok(kept);
    }
    let detail = Arc::new(store::load_detail_of(c, row)?);
    if detail.events.len() > size {
        cache.put(fingerprint, detail.clone());
    }
    Ok(detail)
}

/// A convoy for its page: like [`get`], but views only the `size` events recorded before
/// `before`, so a convoy with thousands of events costs little more than its figures.
/// A long convoy's events and ledger come from `cache` while they are current.
#[tracing::instrument(skip(c, cache))]
pub fn get_part(
    c: &mut DbConn,
    cache: &DetailCache,
    id: &str,
    share: Share,
    before: Option<i64>,
    size: usize,
) -> Result<ConvoyPart, AppError> {
    let detail = detail_of(c, cache, id, size)?;
    let seqs: Vec<i64> = detail.events.iter().map(|e| e.row.seq).collect();
    let window = window(&seqs, before, size);
    let shown = &detail.events[window.shown.clone()];
    let corrected: HashSet<&str> = shown
        .iter()
        .filter_map(|e| e.row.corrects.as_deref())
        .collect();
    let corrected_seqs = detail
        .events
        .iter()
        .filter(|e| corrected.contains(e.row.id.as_str()))
        .map(|e| (e.row.id.clone(), e.row.seq))
        .collect();
    let convoy = viewed(c, &detail, window.shown.clone(), share)?;
    Ok(ConvoyPart {
        convoy,
        window,
        corrected_seqs,
    })
}

/// Marks the events a form intake made with their intake and instance id.
fn add_sources(c: &mut DbConn, events: &mut [Event]) -> Result<(), AppError> {
    let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
    let sources = crate::store::intakes::sources_of(c, &ids)?;
    crate::views::convoys::with_sources(events, &sources);
    Ok(())
}

/// A convoy's events in recording order, voided ones marked.
#[tracing::instrument(skip(c))]
pub fn events(c: &mut DbConn, id: &str) -> Result<Vec<Event>, AppError> {
    let stored = store::list_events(c, id)?;
    let codes = store::Codes::load(c)?;
    let names = crate::store::tokens::names(c)?;
    let mut events: Vec<Event> = stored
        .iter()
        .map(|e| event_out(e, &codes, &names))
        .collect();
    add_sources(c, &mut events)?;
    Ok(events)
}

/// What a convoy list is filtered by, as the client wrote it.
#[derive(Debug, Default)]
pub struct ListFilter {
    pub organization: Option<String>,
    pub route: Option<String>,
    pub status: Option<String>,
    pub due_from: Option<String>,
    pub due_to: Option<String>,
    /// Part of the reference to search for, in any case.
    pub reference: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// A page of convoy summaries.
pub struct ConvoyList {
    pub items: Vec<ConvoySummary>,
    pub next_cursor: Option<String>,
}

/// Checks a list's filters before any query: status, dates, limit and cursor.
pub fn check_filter(
    tz: chrono_tz::Tz,
    q: &ListFilter,
) -> Result<(store::ConvoyFilter, i64), AppError> {
    let limit = crate::app::validate::page_limit(q.limit)?;
    if let Some(s) = &q.status {
        const STATUSES: [Status; 7] = [
            Status::Planned,
            Status::InTransit,
            Status::Held,
            Status::Delivered,
            Status::ShortDelivered,
            Status::TurnedBack,
            Status::Cancelled,
        ];
        if !STATUSES.iter().any(|st| st.as_str() == s) {
            return Err(AppError::field("status", format!("{s:?} is not a status; use planned, in_transit, held, delivered, short_delivered, turned_back or cancelled")));
        }
    }
    let due_from = q
        .due_from
        .as_deref()
        .map(|d| parse_date("due_from", d))
        .transpose()?
        .map(|d| local_midnight(tz, d));
    let due_to = q
        .due_to
        .as_deref()
        .map(|d| parse_date("due_to", d))
        .transpose()?
        .map(|d| local_midnight(tz, d + Duration::days(1)));
    let after = crate::app::validate::time_cursor(q.cursor.as_deref())?;
    let reference = q
        .reference
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if let Some(r) = reference {
        if r.chars().count() > 64 {
            return Err(AppError::field(
                "reference",
                "search for at most 64 characters of a reference",
            ));
        }
    }
    Ok((
        store::ConvoyFilter {
            status: q.status.clone(),
            due_from,
            due_to,
            reference: reference.map(str::to_string),
            after,
            ..Default::default()
        },
        limit,
    ))
}

/// Convoys by expected arrival, filtered, one page.
#[tracing::instrument(skip(c, tz))]
pub fn list(c: &mut DbConn, tz: chrono_tz::Tz, q: &ListFilter) -> Result<ConvoyList, AppError> {
    let (mut filter, limit) = check_filter(tz, q)?;
    if let Some(slug) = &q.organization {
        filter.organization_id = Some(crate::app::reference::organization_id(c, slug)?);
    }
    if let Some(code) = &q.route {
        filter.route_id = Some(crate::app::reference::route_id(c, code)?);
    }
    let mut rows = store::list_convoys(c, &filter, limit)?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last()
            .map(|r| format!("{}_{}", r.expected_arrival, r.id))
    } else {
        None
    };
    let names = reference::Names::load(c)?;
    let items = rows
        .iter()
        .map(|r| {
            summary(
                r,
                &name_of(&names.organizations, &r.organization_id),
                &name_of(&names.routes, &r.route_id),
                &names.codes,
            )
        })
        .collect();
    Ok(ConvoyList { items, next_cursor })
}

/// Local midnight of a date in the deployment's zone, as UTC µs.
pub fn local_midnight(tz: chrono_tz::Tz, date: NaiveDate) -> i64 {
    let naive = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|t| t.timestamp_micros())
        .unwrap_or_else(|| naive.and_utc().timestamp_micros())
}

/// A `YYYY-MM-DD` date in a query or body field.
pub fn parse_date(field: &str, s: &str) -> Result<NaiveDate, AppError> {
    let date = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
        AppError::field(
            field,
            format!("{s:?} is not a date; write it as YYYY-MM-DD"),
        )
    })?;
    crate::domain::time::check_date(date).map_err(|e| AppError::field(field, e))?;
    Ok(date)
}

/// How many convoys of some statuses stand at one place, with the tonnes they still carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    /// The route's code.
    pub route: String,
    /// The code of the last checkpoint passed or reached; none before departure.
    pub checkpoint: Option<String>,
    pub status: String,
    pub convoys: i64,
    pub outstanding_kg: crate::domain::quantity::Kg,
}

/// The convoys of these statuses counted by route, last checkpoint and status: one grouped
/// read, however many convoys there are (the overview's counts and tonnes waiting).
#[tracing::instrument(skip(c))]
pub fn standing(c: &mut DbConn, statuses: &[&str]) -> Result<Vec<Standing>, AppError> {
    let rows = store::standing(c, statuses)?;
    let names = reference::Names::load(c)?;
    Ok(rows
        .into_iter()
        .map(|r| Standing {
            route: name_of(&names.routes, &r.route_id),
            checkpoint: r
                .last_checkpoint_id
                .as_ref()
                .map(|id| name_of(&names.codes.checkpoints, id)),
            status: r.status,
            convoys: r.convoys,
            outstanding_kg: r.outstanding_kg,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timeline_window_shows_the_events_before_its_seq() {
        let seqs: Vec<i64> = (1..=250).collect();
        // (before, size, shown, earlier_before, later_before)
        type Case = (
            Option<i64>,
            usize,
            std::ops::Range<usize>,
            Option<i64>,
            Option<i64>,
        );
        let cases: [Case; 8] = [
            (None, 100, 150..250, Some(151), None),
            (Some(151), 100, 50..150, Some(51), None),
            (Some(51), 100, 0..50, None, Some(151)),
            (Some(31), 100, 0..30, None, Some(131)),
            (Some(1), 100, 0..0, None, Some(101)),
            (Some(9_999), 100, 150..250, Some(151), None),
            (Some(-5), 100, 0..0, None, Some(101)),
            (None, 300, 0..250, None, None),
        ];
        for (before, size, shown, earlier_before, later_before) in cases {
            let w = window(&seqs, before, size);
            assert_eq!(w.shown, shown, "before {before:?}");
            assert_eq!(w.earlier, shown.start, "before {before:?}");
            assert_eq!(w.later, 250 - shown.end, "before {before:?}");
            assert_eq!(w.earlier_before, earlier_before, "before {before:?}");
            assert_eq!(w.later_before, later_before, "before {before:?}");
        }
        assert_eq!(
            window(&[], None, 100),
            Window {
                shown: 0..0,
                earlier: 0,
                later: 0,
                earlier_before: None,
                later_before: None
            }
        );
        // Seqs with gaps between them change nothing.
        let gaps = [3, 8, 20, 41];
        assert_eq!(window(&gaps, Some(20), 1).shown, 1..2);
        assert_eq!(window(&gaps, Some(20), 1).earlier_before, Some(8));
        assert_eq!(window(&gaps, Some(20), 1).later_before, Some(41));
    }
}
