//! Alert records: one open (or acknowledged) alert per rule and subject, opened and
//! resolved by the evaluator, each change announced through the outbox in the same
//! transaction.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::schema::{alerts, convoys};
use crate::db::{write_tx, DbConn};
use crate::domain::alerts::Finding;
use crate::store::reference::Names;
use crate::store::webhooks::enqueue;
use crate::store::StoreError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = alerts)]
pub struct AlertRow {
    pub id: String,
    pub rule: String,
    pub subject_kind: String,
    pub subject: String,
    pub route_id: Option<String>,
    pub organization_id: Option<String>,
    pub severity: String,
    pub state: String,
    pub message: String,
    pub opened_at: i64,
    pub last_evaluated_at: i64,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<i64>,
    pub acknowledge_note: Option<String>,
    pub resolved_at: Option<i64>,
    pub resolved_by: Option<String>,
    pub resolve_note: Option<String>,
}

/// An alert as the API and webhooks show it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Alert {
    pub id: String,
    /// departure_missed, convoy_held, convoy_stalled, convoy_overdue, corridor_dry or coverage_low.
    pub rule: String,
    /// open, acknowledged or resolved.
    pub state: String,
    /// info, warning or critical.
    pub severity: String,
    /// `convoy` or `route`.
    pub subject_kind: String,
    /// The convoy's id or the route's code.
    pub subject: String,
    /// The convoy's reference or the route's name.
    pub subject_label: String,
    pub route: Option<String>,
    pub organization: Option<String>,
    pub message: String,
    pub opened_at: String,
    pub last_evaluated_at: String,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<String>,
    pub acknowledge_note: Option<String>,
    pub resolved_at: Option<String>,
    /// Who resolved it; null when it resolved itself because the condition cleared.
    pub resolved_by: Option<String>,
    pub resolve_note: Option<String>,
}

pub fn to_alert(conn: &mut DbConn, a: &AlertRow, names: &Names) -> Result<Alert, StoreError> {
    let label = if a.subject_kind == "convoy" {
        convoys::table
            .find(&a.subject)
            .select(convoys::reference)
            .first::<String>(conn)
            .optional()?
            .unwrap_or_else(|| a.subject.clone())
    } else {
        a.route_id
            .as_ref()
            .and_then(|id| names.route_names.get(id))
            .cloned()
            .unwrap_or_else(|| a.subject.clone())
    };
    let t = crate::domain::time::rfc3339;
    Ok(Alert {
        id: a.id.clone(),
        rule: a.rule.clone(),
        state: a.state.clone(),
        severity: a.severity.clone(),
        subject_kind: a.subject_kind.clone(),
        subject: a.subject.clone(),
        subject_label: label,
        route: a
            .route_id
            .as_ref()
            .and_then(|id| names.routes.get(id))
            .cloned(),
        organization: a
            .organization_id
            .as_ref()
            .and_then(|id| names.organizations.get(id))
            .cloned(),
        message: a.message.clone(),
        opened_at: t(a.opened_at),
        last_evaluated_at: t(a.last_evaluated_at),
        acknowledged_by: a.acknowledged_by.clone(),
        acknowledged_at: a.acknowledged_at.map(t),
        acknowledge_note: a.acknowledge_note.clone(),
        resolved_at: a.resolved_at.map(t),
        resolved_by: a.resolved_by.clone(),
        resolve_note: a.resolve_note.clone(),
    })
}

fn announce(conn: &mut DbConn, event_type: &'static str, a: &AlertRow) -> Result<(), StoreError> {
    let names = Names::load(conn)?;
    let alert = to_alert(conn, a, &names)?;
    let verb = if event_type == "alert.opened" {
        "opened"
    } else {
        "resolved"
    };
    let text = format!(
        "aidflow: {} alert {verb} [{}]: {}",
        a.rule, a.severity, a.message
    );
    let data = serde_json::to_value(&alert).map_err(|e| StoreError::Internal(e.into()))?;
    enqueue(
        conn,
        event_type,
        &a.id,
        a.organization_id.as_deref(),
        "alert",
        data,
        &text,
    )?;
    Ok(())
}

pub fn active_alerts(conn: &mut DbConn) -> Result<Vec<AlertRow>, StoreError> {
    Ok(alerts::table
        .filter(alerts::state.ne("resolved"))
        .select(AlertRow::as_select())
        .load(conn)?)
}

/// The route and organization an alert's subject belongs to.
pub type SubjectOwners = HashMap<String, (Option<String>, Option<String>)>;

/// What one evaluation pass changed.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Changes {
    pub opened: Vec<String>,
    pub resolved: Vec<String>,
    pub still_open: usize,
}

/// Opens an alert for each new finding, refreshes those still true, and resolves those
/// whose condition cleared — each change with its notification, in one transaction.
pub fn apply_findings(
    conn: &mut DbConn,
    now: i64,
    findings: &[Finding],
    owners: &SubjectOwners,
) -> Result<Changes, StoreError> {
    write_tx(conn, |c| {
        let mut changes = Changes::default();
        let active = active_alerts(c)?;
        let mut seen: HashSet<String> = HashSet::new();
        for f in findings {
            let rule = f.rule.as_str();
            match active
                .iter()
                .find(|a| a.rule == rule && a.subject == f.subject)
            {
                Some(a) => {
                    seen.insert(a.id.clone());
                    diesel::update(alerts::table.find(&a.id))
                        .set((
                            alerts::last_evaluated_at.eq(now),
                            alerts::message.eq(&f.message),
                            alerts::severity.eq(f.severity.as_str()),
                        ))
                        .execute(c)?;
                    changes.still_open += 1;
                }
                None => {
                    let (route_id, organization_id) =
                        owners.get(&f.subject).cloned().unwrap_or((None, None));
                    let row = AlertRow {
                        id: uuid::Uuid::new_v4().to_string(),
                        rule: rule.to_string(),
                        subject_kind: f.subject_kind.as_str().to_string(),
                        subject: f.subject.clone(),
                        route_id,
                        organization_id,
                        severity: f.severity.as_str().to_string(),
                        state: "open".into(),
                        message: f.message.clone(),
                        opened_at: now,
                        last_evaluated_at: now,
                        acknowledged_by: None,
                        acknowledged_at: None,
                        acknowledge_note: None,
                        resolved_at: None,
                        resolved_by: None,
                        resolve_note: None,
                    };
                    // Another instance evaluating at the same moment may open it first:
                    // the unique index refuses the second, and the savepoint keeps this
                    // transaction going.
                    let opened = c.transaction::<(), StoreError, _>(|c| {
                        diesel::insert_into(alerts::table).values(&row).execute(c)?;
                        announce(c, "alert.opened", &row)
                    });
                    match opened {
                        Ok(()) => changes.opened.push(row.id),
                        Err(StoreError::Conflict(_)) => {}
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        for a in active.iter().filter(|a| !seen.contains(&a.id)) {
            let n = diesel::update(
                alerts::table
                    .find(&a.id)
                    .filter(alerts::state.ne("resolved")),
            )
            .set((
                alerts::state.eq("resolved"),
                alerts::resolved_at.eq(Some(now)),
                alerts::last_evaluated_at.eq(now),
            ))
            .execute(c)?;
            if n == 1 {
                let mut resolved = a.clone();
                resolved.state = "resolved".into();
                resolved.resolved_at = Some(now);
                resolved.last_evaluated_at = now;
                announce(c, "alert.resolved", &resolved)?;
                changes.resolved.push(a.id.clone());
            }
        }
        Ok(changes)
    })
}

pub fn get_alert(conn: &mut DbConn, id: &str) -> Result<AlertRow, StoreError> {
    find_alert(conn, id)?.ok_or_else(|| StoreError::NotFound(format!("alert {id} does not exist")))
}

pub fn find_alert(conn: &mut DbConn, id: &str) -> Result<Option<AlertRow>, StoreError> {
    Ok(alerts::table
        .find(id)
        .select(AlertRow::as_select())
        .first(conn)
        .optional()?)
}

#[derive(Debug, Default, Clone)]
pub struct AlertFilter {
    pub state: Option<String>,
    pub rule: Option<String>,
    pub route_id: Option<String>,
    pub organization_id: Option<String>,
    /// (opened_at, id) of the last alert of the previous page.
    pub before: Option<(i64, String)>,
}

/// Alerts, newest first.
pub fn list_alerts(
    conn: &mut DbConn,
    f: &AlertFilter,
    limit: i64,
) -> Result<Vec<AlertRow>, StoreError> {
    let mut q = alerts::table.select(AlertRow::as_select()).into_boxed();
    if let Some(v) = &f.state {
        q = q.filter(alerts::state.eq(v.clone()));
    }
    if let Some(v) = &f.rule {
        q = q.filter(alerts::rule.eq(v.clone()));
    }
    if let Some(v) = &f.route_id {
        q = q.filter(alerts::route_id.eq(v.clone()));
    }
    if let Some(v) = &f.organization_id {
        q = q.filter(alerts::organization_id.eq(v.clone()));
    }
    if let Some((at, id)) = &f.before {
        q = q.filter(
            alerts::opened_at
                .lt(*at)
                .or(alerts::opened_at.eq(*at).and(alerts::id.gt(id.clone()))),
        );
    }
    Ok(q.order((alerts::opened_at.desc(), alerts::id.asc()))
        .limit(limit + 1)
        .load(conn)?)
}

/// Alerts opened in [from, to) (for the weekly report).
pub fn opened_between(conn: &mut DbConn, from: i64, to: i64) -> Result<Vec<AlertRow>, StoreError> {
    Ok(alerts::table
        .filter(alerts::opened_at.ge(from))
        .filter(alerts::opened_at.lt(to))
        .order((alerts::opened_at.asc(), alerts::id.asc()))
        .select(AlertRow::as_select())
        .load(conn)?)
}

pub fn acknowledge(
    conn: &mut DbConn,
    id: &str,
    by: &str,
    note: Option<String>,
    now: i64,
) -> Result<AlertRow, StoreError> {
    write_tx(conn, |c| {
        let a = get_alert(c, id)?;
        if a.state == "resolved" {
            return Err(StoreError::Conflict(format!(
                "alert {id} is already resolved"
            )));
        }
        diesel::update(alerts::table.find(id))
            .set((
                alerts::state.eq("acknowledged"),
                alerts::acknowledged_by.eq(Some(by)),
                alerts::acknowledged_at.eq(Some(now)),
                alerts::acknowledge_note.eq(note),
            ))
            .execute(c)?;
        get_alert(c, id)
    })
}

/// Resolves an alert by hand. If its condition still holds, the next evaluation opens
/// a new alert: acknowledge is the way to say "we know".
pub fn resolve(
    conn: &mut DbConn,
    id: &str,
    by: &str,
    note: Option<String>,
    now: i64,
) -> Result<AlertRow, StoreError> {
    write_tx(conn, |c| {
        let a = get_alert(c, id)?;
        if a.state == "resolved" {
            return Err(StoreError::Conflict(format!(
                "alert {id} is already resolved"
            )));
        }
        diesel::update(alerts::table.find(id))
            .set((
                alerts::state.eq("resolved"),
                alerts::resolved_at.eq(Some(now)),
                alerts::resolved_by.eq(Some(by)),
                alerts::resolve_note.eq(note),
            ))
            .execute(c)?;
        let row = get_alert(c, id)?;
        announce(c, "alert.resolved", &row)?;
        Ok(row)
    })
}

/// Open (or acknowledged) alerts per rule, for /metrics.
pub fn active_counts(conn: &mut DbConn) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(alerts::table
        .filter(alerts::state.ne("resolved"))
        .group_by(alerts::rule)
        .select((alerts::rule, diesel::dsl::count_star()))
        .load(conn)?)
}
