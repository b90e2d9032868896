//! A form submission arriving: the intake's secret checked, the submission kept in the
//! log first, then turned into one event through the one event write path. A submission
//! already stored is answered as a replay; one that cannot become an event stays in the
//! log with its reason, for a replay once the form or the data is fixed.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::app::auth::{hash_secret, Principal};
use crate::app::error::AppError;
use crate::app::events::{self, EventWrite, StateCache};
use crate::app::input::NewEvent;
use crate::app::intake::mapping::{self, Mapping};
use crate::db::{now_micros, DbConn};
use crate::store::convoys::find_convoy_by_reference;
use crate::store::intakes::{self, IntakeRow, Outcome, SubmissionRow};
use crate::store::{reference, Created};

/// How a submission arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// A KoboToolbox REST service: JSON.
    Kobo,
    /// ODK Collect over OpenRosa: instance XML.
    Odk,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Kobo => "kobo",
            Channel::Odk => "odk",
        }
    }
}

/// The intake `name`, if `secret` is its secret (and `user`, when the sender gave one, its
/// name). Anything else is 401, with nothing written.
pub fn authenticate(
    c: &mut DbConn,
    name: &str,
    user: Option<&str>,
    secret: &str,
) -> Result<IntakeRow, AppError> {
    let refused = || {
        AppError::Unauthorized(format!(
            "the intake {name} does not exist or this is not its secret; use the intake's name as the username and its secret as the password (or the X-Aidflow-Intake-Secret header)"
        ))
    };
    let row = intakes::find_intake(c, name)?.ok_or_else(refused)?;
    let same: bool = row
        .secret_hash
        .as_bytes()
        .ct_eq(hash_secret(secret.trim()).as_bytes())
        .into();
    if !same || user.is_some_and(|u| u != row.name) {
        return Err(refused());
    }
    Ok(row)
}

/// What became of a submission.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// It is the event `event` of convoy `convoy` (`replayed`: it was already).
    Stored {
        entry: String,
        convoy: String,
        event: String,
        replayed: bool,
    },
    /// It could not become an event; it is kept in the log as entry `entry`.
    Kept { entry: String, reason: String },
}

/// A submission as the sender sent it, and as a flat object (see `mapping`).
pub struct Received<'a> {
    pub channel: Channel,
    pub content_type: &'a str,
    pub payload: &'a str,
    pub flat: Map<String, Value>,
}

fn mapping_of(intake: &IntakeRow) -> Mapping {
    serde_json::from_str(&intake.mapping).unwrap_or_default()
}

/// The submission's instance id: `meta/instanceID` (by the mapping), else Kobo's `_uuid`,
/// else the hash of the payload, so that even a submission without one is kept once.
fn instance_of(flat: &Map<String, Value>, m: &Mapping, payload: &str) -> String {
    mapping::read(flat, m)
        .instance_id
        .or_else(|| {
            flat.get("_uuid")
                .and_then(Value::as_str)
                .map(|u| format!("uuid:{u}"))
        })
        .unwrap_or_else(|| format!("sha256:{}", hex::encode(Sha256::digest(payload.as_bytes()))))
}

/// Receives one submission for `intake`.
#[tracing::instrument(skip_all, fields(intake = %intake.name, channel = r.channel.as_str()))]
pub fn receive(
    c: &mut DbConn,
    cache: &StateCache,
    intake: &IntakeRow,
    r: Received<'_>,
) -> Result<Answer, AppError> {
    let m = mapping_of(intake);
    let instance = instance_of(&r.flat, &m, r.payload);
    let now = now_micros();
    let row = SubmissionRow {
        id: uuid::Uuid::new_v4().to_string(),
        intake_id: intake.id.clone(),
        instance_id: instance.clone(),
        deprecated_id: mapping::read(&r.flat, &m).deprecated_id,
        channel: r.channel.as_str().into(),
        content_type: r.content_type.chars().take(200).collect(),
        payload: r.payload.to_string(),
        state: "failed".into(),
        reason: Some("received, not yet turned into an event".into()),
        convoy_id: None,
        event_id: None,
        attempts: 0,
        received_at: now,
        updated_at: now,
    };
    let new = intakes::insert_submission(c, &row)?;
    let entry = intakes::find_submission(c, &intake.id, &instance)?
        .ok_or_else(|| AppError::internal("a submission just kept is not in the log"))?;
    if !new {
        tracing::info!(instance = %instance, state = %entry.state, "a submission was received again");
    }
    if let Some(done) = already_stored(&entry) {
        return Ok(done);
    }
    process(c, cache, intake, &entry, r.flat)
}

/// The answer for an entry that became an event before: a replay of that event.
fn already_stored(entry: &SubmissionRow) -> Option<Answer> {
    (entry.state == "stored").then(|| Answer::Stored {
        entry: entry.id.clone(),
        convoy: entry.convoy_id.clone().unwrap_or_default(),
        event: entry.event_id.clone().unwrap_or_default(),
        replayed: true,
    })
}

/// Tries again to turn a kept submission into an event (after the form, the mapping or
/// the data was fixed). A stored one is answered as it is.
#[tracing::instrument(skip_all, fields(intake = %intake.name, entry = %entry_id))]
pub fn replay(
    c: &mut DbConn,
    cache: &StateCache,
    intake: &IntakeRow,
    entry_id: &str,
) -> Result<Answer, AppError> {
    let entry = intakes::get_submission(c, &intake.id, entry_id)?;
    if let Some(done) = already_stored(&entry) {
        return Ok(done);
    }
    let flat = match flat_of(&entry) {
        Ok(flat) => flat,
        Err(reason) => return keep(c, &entry, reason, None),
    };
    process(c, cache, intake, &entry, flat)
}

/// A kept payload read again, as it was read when it arrived.
pub fn flat_of(entry: &SubmissionRow) -> Result<Map<String, Value>, String> {
    match entry.channel.as_str() {
        "odk" => mapping::flatten_instance(&entry.payload, &["cargo"]).map(|(_, flat)| flat),
        _ => match serde_json::from_str::<Value>(&entry.payload) {
            Ok(Value::Object(flat)) => Ok(flat),
            _ => Err("the submission is not a JSON object".into()),
        },
    }
}

fn keep(
    c: &mut DbConn,
    entry: &SubmissionRow,
    reason: String,
    convoy: Option<String>,
) -> Result<Answer, AppError> {
    intakes::record_outcome(
        c,
        &entry.id,
        Outcome {
            state: "failed",
            reason: Some(reason.clone()),
            convoy_id: convoy,
            event_id: None,
            at: now_micros(),
        },
    )?;
    tracing::warn!(entry = %entry.id, reason = %reason, "a submission could not become an event; it is kept in the intake log");
    Ok(Answer::Kept {
        entry: entry.id.clone(),
        reason,
    })
}

/// The event id a submission gets: the same for the same intake and instance id, so that
/// a submission sent again, or replayed, is never counted twice.
fn event_id_of(intake: &IntakeRow, instance: &str) -> uuid::Uuid {
    const NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6f1c_2a4e_8d3b_4f5a_9c7e_1b2d_3e4f_5a6b);
    uuid::Uuid::new_v5(&NAMESPACE, format!("{}/{instance}", intake.id).as_bytes())
}

/// Why a submission cannot be an event, and the convoy it was about if that is known.
type Unfit = (String, Option<String>);

/// The convoy and event a submission stands for, or why it cannot be one.
fn to_event(
    c: &mut DbConn,
    intake: &IntakeRow,
    entry: &SubmissionRow,
    flat: &Map<String, Value>,
) -> Result<Result<(String, NewEvent), Unfit>, AppError> {
    let m = mapping_of(intake);
    let s = mapping::read(flat, &m);
    let missing = mapping::missing(&s, &m);
    if !missing.is_empty() {
        return Ok(Err((listed(&missing), None)));
    }
    let reference = s.convoy_reference.clone().unwrap_or_default();
    let Some(convoy) = find_convoy_by_reference(c, &intake.organization_id, &reference)? else {
        let org = reference::get_organization(c, &intake.organization_id)?.slug;
        return Ok(Err((
            format!("organization {org} has no convoy with reference {reference:?}; create the convoy (or correct the reference), then replay this entry"),
            None,
        )));
    };
    // An edited submission (Kobo: meta/deprecatedID) corrects the event its earlier version
    // made; an earlier version that made none leaves this one a new event.
    let corrects = match &s.deprecated_id {
        Some(old) => intakes::find_submission(c, &intake.id, old)?
            .filter(|o| o.state == "stored" && o.convoy_id.as_deref() == Some(convoy.id.as_str()))
            .and_then(|o| o.event_id),
        None => None,
    };
    let mut body = s.event.clone();
    body.insert(
        "id".into(),
        Value::String(event_id_of(intake, &entry.instance_id).to_string()),
    );
    if let Some(target) = corrects {
        body.insert("corrects".into(), Value::String(target));
    }
    match serde_json::from_value::<NewEvent>(Value::Object(body)) {
        Ok(event) => Ok(Ok((convoy.id, event))),
        Err(e) => Ok(Err((
            format!("the submission's answers do not make an event: {e}"),
            Some(convoy.id),
        ))),
    }
}

/// Field errors as one line a coordinator can act on: `field: message; field: message`.
fn listed(errors: &[crate::domain::FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Whether an error is the submission's own (kept in the log) rather than the server's
/// (answered so the sender retries).
fn is_the_submissions(e: &AppError) -> bool {
    matches!(
        e,
        AppError::Validation { .. }
            | AppError::Unprocessable(_)
            | AppError::NotFound(_)
            | AppError::Conflict(_)
            | AppError::Forbidden(_)
            | AppError::Malformed(_)
    )
}

fn reason_of(e: &AppError) -> String {
    match e {
        AppError::Validation { errors, .. } if !errors.is_empty() => listed(errors),
        other => other.to_string(),
    }
}

fn process(
    c: &mut DbConn,
    cache: &StateCache,
    intake: &IntakeRow,
    entry: &SubmissionRow,
    flat: Map<String, Value>,
) -> Result<Answer, AppError> {
    let (convoy, event) = match to_event(c, intake, entry, &flat)? {
        Ok(found) => found,
        Err((reason, convoy)) => return keep(c, entry, reason, convoy),
    };
    let write = EventWrite {
        who: Principal::intake(&intake.name, &intake.organization_id),
        convoy_id: convoy.clone(),
        body: event,
    };
    let answer = events::in_write_tx(c, cache, |c, attempt| {
        let mut applied = events::apply(c, attempt, std::slice::from_ref(&write), cache)?;
        let answer = applied
            .answers
            .pop()
            .unwrap_or_else(|| Err(AppError::internal("a group of one gave no answer")));
        let outcome = match &answer {
            Ok(Created::New(e) | Created::Replayed(e)) => Outcome {
                state: "stored",
                reason: None,
                convoy_id: Some(convoy.clone()),
                event_id: Some(e.id.clone()),
                at: now_micros(),
            },
            Err(e) if is_the_submissions(e) => Outcome {
                state: "failed",
                reason: Some(reason_of(e)),
                convoy_id: Some(convoy.clone()),
                event_id: None,
                at: now_micros(),
            },
            // The server's own trouble: nothing is recorded, the sender retries.
            Err(_) => return Ok((answer, applied)),
        };
        intakes::record_outcome(c, &entry.id, outcome)?;
        Ok((answer, applied))
    })?;
    match answer {
        Ok(created) => {
            // Replayed: the same submission was being stored at the same moment.
            let replayed = matches!(created, Created::Replayed(_));
            Ok(Answer::Stored {
                entry: entry.id.clone(),
                convoy,
                event: created.into_inner().id,
                replayed,
            })
        }
        Err(e) if is_the_submissions(&e) => {
            let reason = reason_of(&e);
            tracing::warn!(entry = %entry.id, reason = %reason, "a submission could not become an event; it is kept in the intake log");
            Ok(Answer::Kept {
                entry: entry.id.clone(),
                reason,
            })
        }
        Err(e) => Err(e),
    }
}
