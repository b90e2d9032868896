//! The event write path. Events arrive one per POST from many devices at once, or a
//! thousand at a time in a sync batch; either way they are applied in groups:
//!
//! - [`apply`] applies a group inside the caller's write transaction with a fixed handful
//!   of statements (lock and load the convoys, append the events, rewrite what changed),
//!   instead of some thirty per event;
//! - [`Committer`] gathers the single-event POSTs that arrive while the previous group is
//!   being committed into the next group, so concurrent writers share one commit. A POST
//!   is answered only after the commit that holds its event, so an acknowledged event is
//!   durable.
//!
//! Each event is still judged on its own, in arrival order: it is refused (and nothing of
//! it written) if it is invalid or would make its convoy's ledger impossible, exactly as
//! when written alone; the other events of the group are unaffected.

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};

use diesel::Connection;
use tokio::sync::{mpsc, oneshot};

use crate::app::auth::Principal;
use crate::app::error::AppError;
use crate::app::input::{
    build_event_with, commodity_index, CommodityIndex, EventContext, NewEvent,
};
use crate::app::lru::Bounded;
use crate::app::metrics::Metrics;
use crate::app::notices::{self, Written};
use crate::db::{now_micros, write_tx, DbConn, Pool};
use crate::domain::chain;
use crate::domain::ledger::{self, Ledger};
use crate::domain::trucks;
use crate::store::chain::event_record;
use crate::store::convoys::{self as store, Codes, ConvoyState, Rewrite, StoredEvent};
use crate::store::group::{self, GroupLookup};
use crate::store::reference;
use crate::store::{body_hash, replay_conflict, resolve_id, tokens, Created};
use crate::views::convoys::{event_out, Event};

/// One event to record: who sends it, for which convoy, and the request body.
#[derive(Debug, Clone)]
pub struct EventWrite {
    pub who: Principal,
    pub convoy_id: String,
    pub body: NewEvent,
}

/// What one event's request is answered: created (201), replayed (200), or its error.
pub type EventAnswer = Result<Created<Event>, AppError>;

/// The most events one group commit takes.
const MAX_GROUP: usize = 1000;

/// How many events (and cargo lines) the convoy cache holds at most: some 10 MiB, room
/// for the convoys on the road in a busy region.
const CACHED_EVENTS: usize = 10_000;

/// A group written but not yet committed: the answers, and the convoys' new states for
/// the cache once the commit has succeeded.
pub struct Applied {
    pub answers: Vec<EventAnswer>,
    states: Vec<ConvoyState>,
}

/// Applies each write alone, as a group of one in a savepoint of its own: the way back
/// when a group cannot be applied as one (`failure` says why, if it failed rather than
/// declined). The same code judges every event, whatever the group's size.
fn apply_each(
    c: &mut DbConn,
    writes: &[EventWrite],
    cache: &StateCache,
    failure: Option<&AppError>,
) -> Vec<EventAnswer> {
    if let Some(e) = failure {
        tracing::warn!(error = %e, events = writes.len(), "a grouped event write failed; applying its events one at a time");
    }
    writes
        .iter()
        .map(|w| {
            let one = std::slice::from_ref(w);
            let mut result = c.transaction(|c| apply_group(c, one, cache));
            if matches!(result, Err(AppError::Conflict(_))) {
                // Another writer stored the same id meanwhile: judged again, the event is
                // now answered as a replay (or a conflict with its own message).
                result = c.transaction(|c| apply_group(c, one, cache));
            }
            match result {
                Ok(Some(mut applied)) => {
                    // Not kept in the cache: the caller's transaction may still be undone.
                    applied
                        .answers
                        .pop()
                        .unwrap_or_else(|| Err(AppError::internal("a group of one gave no answer")))
                }
                Ok(None) => Err(AppError::internal("a group of one was declined")),
                Err(e) => Err(e),
            }
        })
        .collect()
}

/// One run of an [`in_write_tx`] closure: whether its groups of events are applied in
/// savepoints.
///
/// The first run applies each group straight in the transaction. On PostgreSQL that is
/// two round trips and a subtransaction fewer per group, and on SQLite no copy of the
/// pages the group changes. Should a group then fail, the transaction cannot be committed
/// (on PostgreSQL it is aborted; on SQLite part of the group may be written): it is undone
/// whole and run once more with every group in a savepoint of its own.
pub struct Attempt {
    guarded: bool,
    failed: Cell<bool>,
}

/// Applies `writes` inside the caller's write transaction and answers each in order.
///
/// In a guarded attempt the group is applied in a savepoint. Should that fail as a whole
/// (a database error, or the same event id twice in one group), it is undone and each
/// event is applied alone in a savepoint of its own, so one bad event still never blocks
/// the others. In the first attempt a group with the same event id twice (found before
/// anything is written) is applied that way too; any other failure marks the attempt for
/// [`in_write_tx`] to undo and run again guarded. A deadlock or serialization failure is
/// returned as is, for the caller to retry the transaction.
#[tracing::instrument(skip_all, fields(events = writes.len(), guarded = attempt.guarded))]
pub fn apply(
    c: &mut DbConn,
    attempt: &Attempt,
    writes: &[EventWrite],
    cache: &StateCache,
) -> Result<Applied, AppError> {
    if writes.is_empty() {
        return Ok(Applied {
            answers: Vec::new(),
            states: Vec::new(),
        });
    }
    if !attempt.guarded {
        return match apply_group(c, writes, cache) {
            Ok(Some(applied)) => Ok(applied),
            // Declined before anything was written: each event alone, in its savepoint.
            Ok(None) => Ok(Applied {
                answers: apply_each(c, writes, cache, None),
                states: Vec::new(),
            }),
            Err(e @ (AppError::Unavailable(_) | AppError::Storage(_))) => Err(e),
            Err(e) => {
                attempt.failed.set(true);
                Err(e)
            }
        };
    }
    match c.transaction(|c| apply_group(c, writes, cache)) {
        Ok(Some(applied)) => Ok(applied),
        // Retried whole by the caller; a storage fault would fail each event alike.
        Err(e @ (AppError::Unavailable(_) | AppError::Storage(_))) => Err(e),
        other => Ok(Applied {
            answers: apply_each(c, writes, cache, other.as_ref().err()),
            states: Vec::new(),
        }),
    }
}

/// Convoys as this process last wrote them: their events, manifest and derived rows, so
/// that a busy convoy's history is not read again for every group. An entry is used only
/// when its `ledger_version` equals the one just read under the convoy's lock — every
/// event write, by any process, moves that version — so it can never stand in for a
/// ledger that changed since. Bounded by the number of events held.
pub struct StateCache {
    states: Bounded<ConvoyState>,
    reference: Mutex<Option<Arc<Reference>>>,
}

/// The reference data events are checked against, kept while its fingerprint — counts
/// and latest `updated_at` of checkpoints, commodities, routes and their stops — is
/// unchanged: one small query per group instead of a handful.
pub struct Reference {
    fingerprint: String,
    codes: Codes,
    commodities: CommodityIndex,
    routes: HashMap<String, (reference::Route, ledger::Route)>,
}

fn weight(s: &ConvoyState) -> usize {
    1 + s.events.len() + s.events.iter().map(|e| e.lines.len()).sum::<usize>()
}

impl StateCache {
    pub fn new(max_events: usize) -> StateCache {
        StateCache {
            states: Bounded::new(max_events, weight),
            reference: Mutex::default(),
        }
    }

    /// The current reference data, whose `fingerprint` has just been read: the kept copy
    /// if its fingerprint matches.
    fn reference(&self, c: &mut DbConn, fingerprint: String) -> Result<Arc<Reference>, AppError> {
        let mut kept = self.reference.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(r) = kept.as_ref().filter(|r| r.fingerprint == fingerprint) {
            return Ok(r.clone());
        }
        let codes = Codes::load(c)?;
        let commodities = commodity_index(c)?;
        let routes = reference::list_routes(c, None, i64::from(i32::MAX))?
            .items
            .into_iter()
            .map(|route| {
                let in_order = ledger::Route::new(
                    route
                        .stops
                        .iter()
                        .map(|s| codes.checkpoint(&s.checkpoint.id)),
                );
                (route.row.id.clone(), (route, in_order))
            })
            .collect();
        let fresh = Arc::new(Reference {
            fingerprint,
            codes,
            commodities,
            routes,
        });
        *kept = Some(fresh.clone());
        Ok(fresh)
    }

    /// Takes the convoy's entry if it is current for `row` (the row read under lock).
    fn take(&self, row: &store::ConvoyRow) -> Option<ConvoyState> {
        let state = self.states.take(&row.id)?;
        (state.row.ledger_version == row.ledger_version).then(|| ConvoyState {
            row: row.clone(),
            ..state
        })
    }

    /// Keeps the convoys' states as just committed; least recently written go first.
    fn put(&self, states: Vec<ConvoyState>) {
        self.states
            .put(states.into_iter().map(|s| (s.row.id.clone(), s)));
    }
}

/// How far an event of the group has got.
enum Slot {
    Answered(AppError),
    /// Its id is already stored with the same body: answered with the stored event.
    Replay,
    /// Valid on its own; waiting for its convoy's ledger.
    Pending,
    Created,
}

/// The group in one go; `None` when it has to be applied one event at a time.
fn apply_group(
    c: &mut DbConn,
    writes: &[EventWrite],
    cache: &StateCache,
) -> Result<Option<Applied>, AppError> {
    let ids: Vec<String> = writes.iter().map(|w| resolve_id(w.body.id)).collect();
    let mut distinct = HashSet::new();
    if !ids.iter().all(|id| distinct.insert(id.as_str())) {
        return Ok(None);
    }
    // Locks first (PostgreSQL), then everything read under them.
    let convoy_ids: Vec<&str> = writes.iter().map(|w| w.convoy_id.as_str()).collect();
    let mut states: HashMap<String, ConvoyState> = HashMap::new();
    let mut to_load = Vec::new();
    for row in store::lock_convoys(c, &convoy_ids)? {
        match cache.take(&row) {
            Some(state) => {
                states.insert(row.id.clone(), state);
            }
            None => to_load.push(row),
        }
    }
    states.extend(store::load_states(c, to_load)?);
    let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let mut token_ids: Vec<&str> = writes.iter().map(|w| w.who.token_id.as_str()).collect();
    token_ids.sort_unstable();
    token_ids.dedup();
    // Replays, live tokens and the reference data's fingerprint in one statement. Tokens
    // may be cached by the HTTP layer: a revocation still stops writes at once.
    let GroupLookup {
        existing,
        live_tokens: live,
        fingerprint,
    } = group::lookup(c, &id_refs, &token_ids)?;
    let refs = cache.reference(c, fingerprint)?;
    let (codes, commodities, routes) = (&refs.codes, &refs.commodities, &refs.routes);
    if let Some(s) = states
        .values()
        .find(|s| !routes.contains_key(&s.row.route_id))
    {
        return Err(AppError::Internal(anyhow::anyhow!(
            "route {} of convoy {} is not in the reference data",
            s.row.route_id,
            s.row.id
        )));
    }

    // Each event on its own: replay, missing convoy, revoked token, invalid fields.
    let mut slots: Vec<Slot> = Vec::with_capacity(writes.len());
    let mut pending: BTreeMap<String, Vec<(usize, store::NewEvent)>> = BTreeMap::new();
    for (i, w) in writes.iter().enumerate() {
        let id = &ids[i];
        // A viewer may make no write: that is its answer, whatever else is wrong.
        if let Err(forbidden) = w.who.require_writer() {
            slots.push(Slot::Answered(forbidden));
            continue;
        }
        if let Some(stored) = existing.get(id) {
            slots.push(
                if stored.body_sha256 == body_hash(&w.body) && stored.convoy_id == w.convoy_id {
                    Slot::Replay
                } else {
                    Slot::Answered(replay_conflict("event", id).into())
                },
            );
            continue;
        }
        let Some(state) = states.get(&w.convoy_id) else {
            slots.push(Slot::Answered(AppError::NotFound(format!(
                "convoy {} does not exist",
                w.convoy_id
            ))));
            continue;
        };
        if w.who.has_token() && !live.contains(&w.who.token_id) {
            slots.push(Slot::Answered(AppError::Unauthorized(
                "the bearer token is unknown or revoked; ask an admin for a valid token".into(),
            )));
            continue;
        }
        let ctx = EventContext {
            route: &routes[&state.row.route_id].0,
            manifest: &state.manifest,
            commodities,
        };
        match build_event_with(&ctx, &w.who, &state.row, &w.body, id.clone()) {
            Ok(new) => {
                pending
                    .entry(w.convoy_id.clone())
                    .or_default()
                    .push((i, new));
                slots.push(Slot::Pending);
            }
            Err(e) => slots.push(Slot::Answered(e)),
        }
    }

    // Then each convoy's ledger with its new events.
    let now = now_micros();
    let mut rewrites = Vec::new();
    let mut touched: Vec<(&str, usize, Ledger)> = Vec::new();
    let (mut new_rows, mut new_lines) = (Vec::new(), Vec::new());
    for (convoy_id, items) in &pending {
        let Some(state) = states.get_mut(convoy_id) else {
            continue;
        };
        let before = state.events.len();
        let route = &routes[&state.row.route_id].1;
        let manifest = store::domain_manifest(&state.manifest, codes);
        let (results, ledger) = settle(state, items, route, &manifest, codes, now)?;
        for (i, result) in results {
            slots[i] = match result {
                Ok(()) => Slot::Created,
                Err(e) => Slot::Answered(e),
            };
        }
        let Some(ledger) = ledger else {
            continue;
        };
        // The chain goes on from the head read under the convoy's lock (a cached state
        // carries that row too), in seq order, computed here: no query of its own.
        let mut head = state.row.chain_head.clone();
        let added = &mut state.events[before..];
        for e in added.iter_mut() {
            head = head.map(|prev| chain::event_link(&prev, &event_record(&e.row, &e.lines)));
            e.row.chain_sha256 = head.clone();
            new_rows.push(e.row.clone());
            new_lines.extend(e.lines.iter().cloned());
        }
        let mut after = store::with_ledger(&state.row, &ledger, codes);
        after.ledger_version += added.len() as i64;
        after.chain_head = head;
        // The trucks along the route after these events, kept for the weekly report.
        after.truck_steps = Some(trucks::encode_steps(&store::trucks_along(
            route,
            after.trucks,
            &state.events,
            codes,
        )));
        let new = store::derived_rows(convoy_id, &ledger, codes)?;
        rewrites.push(Rewrite {
            new: new.clone(),
            old: std::mem::replace(&mut state.derived, new),
            before: std::mem::replace(&mut state.row, after.clone()),
            after,
        });
        touched.push((convoy_id, before, ledger));
    }
    store::insert_events(c, &new_rows, &new_lines)?;
    store::write_convoys(c, &rewrites)?;
    let mut names: HashMap<String, String> = writes
        .iter()
        .map(|w| (w.who.token_id.clone(), w.who.name.clone()))
        .collect();
    // Their notifications, in the same transaction, frozen as they are now.
    let written: Vec<Written<'_>> = touched
        .iter()
        .filter_map(|(id, before, ledger)| {
            let state = states.get(*id)?;
            Some(Written {
                state,
                ledger,
                added: state.events.get(*before..).unwrap_or_default(),
                route: &routes.get(&state.row.route_id)?.0.row.code,
            })
        })
        .collect();
    notices::announce(c, &written, codes, &names)?;

    // Answers, from what was just written.
    if slots.iter().any(|s| matches!(s, Slot::Replay)) {
        names.extend(tokens::names(c)?);
    }
    // One pass over the group's convoys finds every event to answer with, however
    // many events the group and the convoys hold.
    let wanted: HashSet<&str> = writes
        .iter()
        .zip(&ids)
        .zip(&slots)
        .filter(|(_, slot)| matches!(slot, Slot::Replay | Slot::Created))
        .map(|((_, id), _)| id.as_str())
        .collect();
    let found: HashMap<&str, &StoredEvent> = if wanted.is_empty() {
        HashMap::new()
    } else {
        let convoys: HashSet<&str> = writes.iter().map(|w| w.convoy_id.as_str()).collect();
        convoys
            .iter()
            .filter_map(|id| states.get(*id))
            .flat_map(|s| s.events.iter())
            .filter(|e| wanted.contains(e.row.id.as_str()))
            .map(|e| (e.row.id.as_str(), e))
            .collect()
    };
    let stored_event = |w: &EventWrite, id: &str| -> Result<Event, AppError> {
        found
            .get(id)
            .filter(|e| e.row.convoy_id == w.convoy_id)
            .map(|e| event_out(e, codes, &names))
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("event {id} vanished")))
    };
    let mut answers = Vec::with_capacity(writes.len());
    for ((w, id), slot) in writes.iter().zip(&ids).zip(slots) {
        answers.push(match slot {
            Slot::Answered(e) => Err(e),
            Slot::Replay => stored_event(w, id).map(Created::Replayed),
            Slot::Created => stored_event(w, id).map(Created::New),
            Slot::Pending => Err(AppError::Internal(anyhow::anyhow!(
                "event {id} was left undecided"
            ))),
        });
    }
    Ok(Some(Applied {
        answers,
        states: states.into_values().collect(),
    }))
}

/// Each new event's outcome by its index in the group, and the convoy's ledger with the
/// events that were accepted (`None` if none was).
type Settled = (Vec<(usize, Result<(), AppError>)>, Option<Ledger>);

/// Adds a convoy's new events to its state and evaluates its ledger.
///
/// Usually the new events were observed after everything the convoy has, correct
/// nothing, and fit: then the kept evaluation is extended by them alone, and the cost of
/// an event does not grow with the convoy's history. Otherwise the whole ledger is
/// evaluated with all of them; and if it refuses them together, they are taken again one
/// at a time in arrival order, so that exactly the events that do not fit are refused,
/// each with the reason it would get on its own.
fn settle(
    state: &mut ConvoyState,
    items: &[(usize, store::NewEvent)],
    route: &ledger::Route,
    manifest: &ledger::Manifest,
    codes: &Codes,
    now: i64,
) -> Result<Settled, AppError> {
    if let Some(settled) = settle_appended(state, items, codes, now)? {
        return Ok(settled);
    }
    let original = state.events.clone();
    let mut results = Vec::with_capacity(items.len());
    let mut added = 0;
    for (i, new) in items {
        let r = add(state, new, added, now);
        added += i64::from(r.is_ok());
        results.push((*i, r));
    }
    if added == 0 {
        return Ok((results, None));
    }
    let all = domain_events(&state.events, codes)?;
    if let Ok((ledger, evaluated)) = ledger::evaluate_resumable(route, manifest, &all) {
        state.evaluated = Some(evaluated);
        return Ok((results, Some(ledger)));
    }
    state.events = original;
    let (mut results, mut added, mut last) = (Vec::with_capacity(items.len()), 0, None);
    for (i, new) in items {
        let before = state.events.clone();
        if let Err(e) = add(state, new, added, now) {
            results.push((*i, Err(e)));
            continue;
        }
        let all = domain_events(&state.events, codes)?;
        match ledger::evaluate_resumable(route, manifest, &all) {
            Ok((ledger, evaluated)) => {
                added += 1;
                last = Some(ledger);
                state.evaluated = Some(evaluated);
                results.push((*i, Ok(())));
            }
            Err(e) => {
                state.events = before;
                results.push((*i, Err(ledger_refusal(&e, &new.id))));
            }
        }
    }
    Ok((results, last))
}

/// The common case of [`settle`]: events that correct nothing, appended to a convoy whose
/// evaluation is kept, observed after its latest event and accepted together. `None`
/// (and the state as it was) when that is not the case.
fn settle_appended(
    state: &mut ConvoyState,
    items: &[(usize, store::NewEvent)],
    codes: &Codes,
    now: i64,
) -> Result<Option<Settled>, AppError> {
    if items.is_empty() || items.iter().any(|(_, new)| new.corrects.is_some()) {
        return Ok(None);
    }
    let Some(kept) = state.evaluated.take() else {
        return Ok(None);
    };
    let before = state.events.len();
    let mut results = Vec::with_capacity(items.len());
    for (added, (i, new)) in (0..).zip(items) {
        // Correcting nothing, an event is always added; the ledger decides below.
        results.push((*i, add(state, new, added, now)));
    }
    let appended = domain_events(&state.events[before..], codes)?;
    match kept.extend(&appended) {
        Some(Ok((ledger, evaluated))) => {
            state.evaluated = Some(evaluated);
            Ok(Some((results, Some(ledger))))
        }
        _ => {
            state.events.truncate(before);
            state.evaluated = Some(kept);
            Ok(None)
        }
    }
}

/// Appends one new event to the convoy's events (the `added`-th of this group), after the
/// checks on what it corrects.
fn add(
    state: &mut ConvoyState,
    new: &store::NewEvent,
    added: i64,
    now: i64,
) -> Result<(), AppError> {
    if let Some(target) = &new.corrects {
        let corrected = state
            .events
            .iter()
            .find(|e| &e.row.id == target)
            .ok_or_else(|| {
                AppError::field(
                    "corrects",
                    format!("event {target} is not an event of this convoy"),
                )
            })?;
        if let Some(by) = &corrected.voided_by {
            return Err(AppError::Conflict(format!(
                "event {target} was already corrected by event {by}; to change it again, correct event {by}",
                by = by.id
            )));
        }
    }
    let (row, lines) = store::event_rows(new, state.row.ledger_version + 1 + added, now);
    if let Some(target) = &new.corrects {
        for e in state.events.iter_mut().filter(|e| &e.row.id == target) {
            e.voided_by = Some(row.clone());
        }
    }
    state.events.push(StoredEvent {
        row,
        lines,
        voided_by: None,
    });
    Ok(())
}

/// The answer when adding event `new_id` would make the convoy's ledger impossible.
fn ledger_refusal(e: &ledger::LedgerError, new_id: &str) -> AppError {
    let which = if e.event_id.to_string() == new_id {
        "this event".to_string()
    } else {
        format!("it would make event {} impossible", e.event_id)
    };
    AppError::Unprocessable(format!("{} ({which}); nothing was recorded", e.message))
}

fn domain_events(
    events: &[StoredEvent],
    codes: &Codes,
) -> Result<Vec<ledger::LedgerEvent>, AppError> {
    events
        .iter()
        .map(|e| store::domain_event(e, codes).map_err(AppError::from))
        .collect()
}

struct Job {
    write: EventWrite,
    reply: oneshot::Sender<EventAnswer>,
}

/// Group commit for single-event POSTs: one writer thread takes every request that is
/// waiting, applies them together in one transaction and answers each after the commit.
/// Under load the groups grow by themselves; a lone request is a group of one and waits
/// for nothing.
#[derive(Clone)]
pub struct Committer {
    queue: mpsc::UnboundedSender<Job>,
    /// Shared with sync batches, which write events through [`apply`] too.
    pub cache: Arc<StateCache>,
    threads: WriterThreads,
}

/// The writer threads of a [`Committer`], to be joined once every handle to it is gone.
#[derive(Clone, Default)]
pub struct WriterThreads(Arc<Mutex<Vec<std::thread::JoinHandle<()>>>>);

impl WriterThreads {
    /// Waits up to `timeout` for the writers to finish (they do once the last
    /// [`Committer`] is dropped, after answering what they hold) and joins them. Returns
    /// how many were still running.
    pub fn join(&self, timeout: std::time::Duration) -> usize {
        let deadline = std::time::Instant::now() + timeout;
        let mut threads = std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()));
        while threads.iter().any(|t| !t.is_finished()) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let (done, running): (Vec<_>, Vec<_>) = threads.drain(..).partition(|t| t.is_finished());
        for t in done {
            let _ = t.join();
        }
        running.len()
    }
}

impl Committer {
    /// Starts `writers` writer threads; they stop when the last `Committer` handle is
    /// dropped. While one writer waits for its commit, the next takes the requests that
    /// came meanwhile: on PostgreSQL several writers keep the database busy. On SQLite, which
    /// has one writer at a time anyway, one is right.
    pub fn start(pool: Pool, metrics: Metrics, writers: usize) -> std::io::Result<Committer> {
        let (queue, jobs) = mpsc::unbounded_channel();
        let jobs = Arc::new(Mutex::new(jobs));
        let cache = Arc::new(StateCache::new(CACHED_EVENTS));
        let threads = WriterThreads::default();
        for n in 0..writers.max(1) {
            let (pool, metrics, cache, jobs) =
                (pool.clone(), metrics.clone(), cache.clone(), jobs.clone());
            let handle = std::thread::Builder::new()
                .name(format!("aidflow-writer-{n}"))
                .spawn(move || run(pool, metrics, &cache, &jobs))?;
            threads
                .0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(handle);
        }
        Ok(Committer {
            queue,
            cache,
            threads,
        })
    }

    /// The writer threads, for joining at shutdown.
    pub fn threads(&self) -> WriterThreads {
        self.threads.clone()
    }

    /// Records one event and answers it once it is committed.
    pub async fn submit(&self, write: EventWrite) -> EventAnswer {
        let stopped = || {
            AppError::Unavailable("the event writer is shutting down; send the event again".into())
        };
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Job { write, reply })
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

fn run(
    pool: Pool,
    metrics: Metrics,
    cache: &StateCache,
    jobs: &Mutex<mpsc::UnboundedReceiver<Job>>,
) {
    loop {
        let group = {
            let mut jobs = jobs.lock().unwrap_or_else(|e| e.into_inner());
            let Some(first) = jobs.blocking_recv() else {
                return;
            };
            let mut group = vec![first];
            while group.len() < MAX_GROUP {
                match jobs.try_recv() {
                    Ok(job) => group.push(job),
                    Err(_) => break,
                }
            }
            group
        };
        let (writes, replies): (Vec<EventWrite>, Vec<_>) =
            group.into_iter().map(|j| (j.write, j.reply)).unzip();
        let started = std::time::Instant::now();
        let answers = commit(&pool, cache, &writes);
        metrics.event_groups.observe(writes.len() as f64);
        metrics
            .event_group_seconds
            .observe(started.elapsed().as_secs_f64());
        for (reply, answer) in replies.into_iter().zip(answers) {
            // The client may have gone; its event is committed all the same.
            let _ = reply.send(answer);
        }
    }
}

/// Runs `f` — writes that end in an [`Applied`] group of events — in a write
/// transaction, and remembers the group's convoys once it has committed. A deadlock or
/// serialization failure undoes the transaction whole (PostgreSQL, two writers taking the
/// same convoys in another order): it is run again, up to three times in all. A group
/// that failed in the first [`Attempt`], outside a savepoint, has it run again guarded.
pub fn in_write_tx<T>(
    c: &mut DbConn,
    cache: &StateCache,
    mut f: impl FnMut(&mut DbConn, &Attempt) -> Result<(T, Applied), AppError>,
) -> Result<T, AppError> {
    let mut attempts = 0;
    let mut guarded = false;
    loop {
        attempts += 1;
        let run = Attempt {
            guarded,
            failed: Cell::new(false),
        };
        let result = write_tx(c, |c| {
            let result = f(c, &run);
            // A group that failed outside a savepoint: whatever `f` made of it, the
            // transaction is undone, never committed half-written.
            if run.failed.get() {
                return Err(result.err().unwrap_or_else(|| {
                    AppError::internal("a failed event group was not passed on")
                }));
            }
            result
        });
        match result {
            Err(e) if run.failed.get() && !guarded => {
                tracing::debug!(error = %e, "an event group failed outside a savepoint; its transaction runs again with savepoints");
                guarded = true;
                attempts -= 1;
            }
            Err(AppError::Unavailable(_)) if attempts < 3 => continue,
            Err(e) => return Err(e),
            Ok((value, applied)) => {
                cache.put(applied.states);
                return Ok(value);
            }
        }
    }
}

/// Applies one group in its own transaction, never panicking.
fn commit(pool: &Pool, cache: &StateCache, writes: &[EventWrite]) -> Vec<EventAnswer> {
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
        let mut conn = pool.get()?;
        in_write_tx(&mut conn, cache, |c, attempt| {
            let mut applied = apply(c, attempt, writes, cache)?;
            Ok((std::mem::take(&mut applied.answers), applied))
        })
    }));
    let failed = |e: AppError| -> Vec<EventAnswer> {
        // Retryable answers and storage faults (logged once per episode by the server)
        // go to each client as they are; anything else is a bug, logged here.
        let retry = matches!(e, AppError::Unavailable(_) | AppError::Storage(_));
        if !retry {
            tracing::error!(error = ?e, events = writes.len(), "an event group could not be written");
        }
        writes
            .iter()
            .map(|_| {
                Err(match &e {
                    AppError::Unavailable(m) => AppError::Unavailable(m.clone()),
                    AppError::Storage(m) => AppError::Storage(m.clone()),
                    _ => AppError::Internal(anyhow::anyhow!("event group failed: {e:?}")),
                })
            })
            .collect()
    };
    match result {
        Ok(Ok(answers)) => answers,
        Ok(Err(e)) => failed(e),
        Err(_) => failed(AppError::Internal(anyhow::anyhow!(
            "the event writer panicked"
        ))),
    }
}
