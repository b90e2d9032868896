//! Notifications about the ledger: `convoy.event_recorded` for every event stored, and
//! `convoy.event_voided` for every event a correction voids. They are written by the event
//! write path inside its transaction, so a notification exists exactly when its event
//! does, and its payload is frozen then: a retry sends what was true at the change, not
//! what the convoy has become since.
//!
//! The write path is the hot path, so this costs one query per group when no webhook
//! listens (the live webhooks), and otherwise a few more per group (organization slugs,
//! token names for voided events, the multi-row inserts), never one per event.

use std::collections::HashMap;

use serde::Serialize;

use crate::app::error::AppError;
use crate::db::DbConn;
use crate::domain::ledger::Ledger;
use crate::store::convoys::{Codes, ConvoyState, StoredEvent};
use crate::store::webhooks::{self as outbox, Notice, EVENT_RECORDED, EVENT_VOIDED};
use crate::store::{reference, tokens};
use crate::views::convoys::{event_out, figures_out, summary, ConvoySummary, Event, FiguresOut};

/// A convoy as a group left it: its state and ledger after the group, the events the group
/// added (in recording order) and its route's code.
pub struct Written<'a> {
    pub state: &'a ConvoyState,
    pub ledger: &'a Ledger,
    pub added: &'a [StoredEvent],
    pub route: &'a str,
}

/// The convoy in a notification: its summary as the API shows it, and the totals with the
/// shortfall split, once the event was stored.
#[derive(Debug, Serialize)]
struct ConvoyNow {
    #[serde(flatten)]
    summary: ConvoySummary,
    totals: FiguresOut,
}

/// Writes the notifications of a group's new events (see the module's docs). `names` maps
/// the group's token ids to their names.
pub fn announce(
    c: &mut DbConn,
    written: &[Written<'_>],
    codes: &Codes,
    names: &HashMap<String, String>,
) -> Result<(), AppError> {
    if written.iter().all(|w| w.added.is_empty()) {
        return Ok(());
    }
    let hooks = outbox::live_webhooks(c)?;
    let listens = |kind: &str, org: &str| hooks.iter().any(|h| h.wants(kind, Some(org)));
    let heard: Vec<&Written<'_>> = written
        .iter()
        .filter(|w| {
            let org = w.state.row.organization_id.as_str();
            !w.added.is_empty() && (listens(EVENT_RECORDED, org) || listens(EVENT_VOIDED, org))
        })
        .collect();
    if heard.is_empty() {
        return Ok(());
    }
    let org_ids: Vec<&str> = heard
        .iter()
        .map(|w| w.state.row.organization_id.as_str())
        .collect();
    let slugs = reference::organization_slugs(c, &org_ids)?;
    let voids = heard
        .iter()
        .any(|w| w.added.iter().any(|e| e.row.corrects.is_some()));
    let mut names = names.clone();
    if voids {
        // The voided events may have been recorded by any token.
        names.extend(tokens::names(c)?);
    }
    let mut notices = Vec::new();
    for w in heard {
        let org = w.state.row.organization_id.as_str();
        let slug = slugs.get(org).map_or(org, String::as_str);
        let convoy = ConvoyNow {
            summary: summary(&w.state.row, slug, w.route, codes),
            totals: figures_out(&w.ledger.totals),
        };
        for e in w.added {
            let event = event_out(e, codes, &names);
            if listens(EVENT_RECORDED, org) {
                notices.push(recorded_notice(org, &convoy, &event)?);
            }
            if listens(EVENT_VOIDED, org) {
                if let Some(voided) = voided_by(w.state, e) {
                    let voided = event_out(voided, codes, &names);
                    notices.push(voided_notice(org, &convoy, &voided, &event)?);
                }
            }
        }
    }
    outbox::write_notices(c, &hooks, notices, false)?;
    Ok(())
}

/// The event that `e` corrects, if any.
fn voided_by<'a>(state: &'a ConvoyState, e: &StoredEvent) -> Option<&'a StoredEvent> {
    let target = e.row.corrects.as_deref()?;
    state.events.iter().find(|v| v.row.id == target)
}

fn to_json<T: Serialize>(value: &T) -> Result<serde_json::Value, AppError> {
    serde_json::to_value(value).map_err(|e| AppError::Internal(e.into()))
}

/// Where and what: `cleared at KORNIDZOR`, `delivered at STEPANAKERT`.
fn what(e: &Event) -> String {
    match &e.checkpoint {
        Some(cp) => format!("{} at {cp}", e.kind),
        None => e.kind.clone(),
    }
}

fn recorded_notice(org: &str, convoy: &ConvoyNow, event: &Event) -> Result<Notice, AppError> {
    let text = format!(
        "aidflow: {} {} (observed {}); {} of {} t delivered, status {}",
        convoy.summary.reference,
        what(event),
        event.observed_at,
        convoy.summary.delivered,
        convoy.summary.planned,
        convoy.summary.status,
    );
    let mut fields = serde_json::Map::new();
    fields.insert("convoy".into(), to_json(convoy)?);
    fields.insert("event".into(), to_json(event)?);
    fields.insert("text".into(), text.into());
    Ok(Notice {
        event_type: EVENT_RECORDED,
        subject: event.id.clone(),
        organization_id: Some(org.to_string()),
        fields,
    })
}

fn voided_notice(
    org: &str,
    convoy: &ConvoyNow,
    voided: &Event,
    correcting: &Event,
) -> Result<Notice, AppError> {
    let reason = correcting.note.clone();
    let text = format!(
        "aidflow: {}: event {} ({}, observed {}) was voided by event {}{}",
        convoy.summary.reference,
        voided.id,
        what(voided),
        voided.observed_at,
        correcting.id,
        reason
            .as_deref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default(),
    );
    let mut fields = serde_json::Map::new();
    fields.insert("convoy".into(), to_json(convoy)?);
    fields.insert("voided_event".into(), to_json(voided)?);
    fields.insert("correcting_event".into(), to_json(correcting)?);
    fields.insert("reason".into(), reason.into());
    fields.insert("text".into(), text.into());
    Ok(Notice {
        event_type: EVENT_VOIDED,
        subject: voided.id.clone(),
        organization_id: Some(org.to_string()),
        fields,
    })
}
