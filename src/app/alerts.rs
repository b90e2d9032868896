//! Alerts: list and read them, acknowledge or resolve one — for those allowed.

use crate::app::auth::{Principal, Role};
use crate::app::error::AppError;
use crate::db::{now_micros, DbConn};
use crate::domain::alerts::Rule;
use crate::store::alerts::{self as store, Alert, AlertFilter};
use crate::store::reference::Names;

/// What an alert list is filtered by, as the client wrote it.
#[derive(Debug, Default)]
pub struct ListFilter {
    pub state: Option<String>,
    pub rule: Option<String>,
    pub route: Option<String>,
    pub organization: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// A page of alerts, newest first.
pub struct AlertList {
    pub items: Vec<Alert>,
    pub next_cursor: Option<String>,
}

/// Checks a list's filters before any query: limit, state, rule and cursor.
pub fn check_filter(q: &ListFilter) -> Result<(AlertFilter, i64), AppError> {
    let limit = crate::app::validate::page_limit(q.limit)?;
    if let Some(s) = &q.state {
        if !["open", "acknowledged", "resolved"].contains(&s.as_str()) {
            return Err(AppError::field(
                "state",
                format!("{s:?} is not a state; use open, acknowledged or resolved"),
            ));
        }
    }
    if let Some(r) = &q.rule {
        if Rule::parse(r).is_none() {
            let all: Vec<&str> = Rule::ALL.iter().map(|r| r.as_str()).collect();
            return Err(AppError::field(
                "rule",
                format!("{r:?} is not a rule; use one of {}", all.join(", ")),
            ));
        }
    }
    let before = crate::app::validate::time_cursor(q.cursor.as_deref())?;
    Ok((
        AlertFilter {
            state: q.state.clone(),
            rule: q.rule.clone(),
            before,
            ..Default::default()
        },
        limit,
    ))
}

/// Alerts, filtered, one page.
#[tracing::instrument(skip(c))]
pub fn list(c: &mut DbConn, q: &ListFilter) -> Result<AlertList, AppError> {
    let (mut f, limit) = check_filter(q)?;
    if let Some(code) = &q.route {
        f.route_id = Some(crate::app::reference::route_id(c, code)?);
    }
    if let Some(slug) = &q.organization {
        f.organization_id = Some(crate::app::reference::organization_id(c, slug)?);
    }
    let mut rows = store::list_alerts(c, &f, limit)?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| format!("{}_{}", r.opened_at, r.id))
    } else {
        None
    };
    let names = Names::load(c)?;
    let items = rows
        .iter()
        .map(|r| store::to_alert(c, r, &names))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(AlertList { items, next_cursor })
}

/// One alert.
#[tracing::instrument(skip(c))]
pub fn get(c: &mut DbConn, id: &str) -> Result<Alert, AppError> {
    let row = store::get_alert(c, id)?;
    let names = Names::load(c)?;
    Ok(store::to_alert(c, &row, &names)?)
}

/// Admins act on any alert; editors on their own organization's convoy alerts.
fn may_act(who: &Principal, row: &store::AlertRow) -> Result<(), AppError> {
    match (who.role, &row.organization_id) {
        (Role::Admin, _) => Ok(()),
        (Role::Editor, Some(org)) if who.organization_id.as_deref() == Some(org.as_str()) => Ok(()),
        (Role::Editor, _) => Err(AppError::Forbidden(format!(
            "token '{}' may act only on alerts about its own organization's convoys; route alerts need an admin",
            who.name
        ))),
        (Role::Viewer, _) => Err(AppError::Forbidden(format!("token '{}' is a viewer token and cannot change alerts", who.name))),
    }
}

/// Refuses `who` if it may not act on alert `id` (an unknown alert passes: its 404 comes
/// with the request's own answer).
pub fn check_may_act(c: &mut DbConn, who: &Principal, id: &str) -> Result<(), AppError> {
    match store::find_alert(c, id)? {
        Some(row) => may_act(who, &row),
        None => Ok(()),
    }
}

/// A note for an alert, as people and pages send it: trimmed, empty means none, at most
/// 2000 characters, no control characters other than tab and line breaks.
pub fn check_note(note: Option<String>) -> Result<Option<String>, AppError> {
    let Some(note) = note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    if note.chars().count() > 2000 {
        return Err(AppError::field("note", "must be at most 2000 characters"));
    }
    if let Some(message) = crate::domain::text::forbidden_message(&note) {
        return Err(AppError::field("note", message));
    }
    Ok(Some(note))
}

/// Acknowledges an alert (`resolve` false) or resolves it, with an optional note.
#[tracing::instrument(skip(c, who, note), fields(token = %who.token_id))]
pub fn act(
    c: &mut DbConn,
    who: &Principal,
    id: &str,
    note: Option<String>,
    resolve: bool,
) -> Result<Alert, AppError> {
    let row = store::get_alert(c, id)?;
    may_act(who, &row)?;
    let note = check_note(note)?;
    let by = who.name.clone();
    let row = if resolve {
        store::resolve(c, id, &by, note, now_micros())?
    } else {
        store::acknowledge(c, id, &by, note, now_micros())?
    };
    let names = Names::load(c)?;
    Ok(store::to_alert(c, &row, &names)?)
}
