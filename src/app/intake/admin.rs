//! Setting up intakes (admin, API and CLI) and reading their logs.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::auth::{generate_secret, hash_secret, hint, Principal};
use crate::app::error::AppError;
use crate::app::intake::mapping::Mapping;
use crate::app::validate::{self, Checker};
use crate::db::{now_micros, DbConn};
use crate::domain::time::rfc3339;
use crate::store::intakes::{self, IntakeRow, SubmissionRow};
use crate::store::{body_hash, reference, Created};

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIntake {
    #[serde(default, skip_serializing)]
    pub id: Option<uuid::Uuid>,
    /// The intake's name in its URLs and as the ODK Collect username:
    /// `kornidzor-kobo`.
    #[schema(example = "kornidzor-kobo", pattern = "^[a-z0-9_-]{1,64}$")]
    pub name: String,
    /// The organization whose convoys its submissions are about (slug).
    #[schema(example = "arm-gov", pattern = "^[a-z0-9_-]{1,64}$")]
    pub organization: String,
    /// Which form field holds each aidflow field; omitted fields keep the shipped form's
    /// names, so the shipped form needs none.
    #[serde(default)]
    pub mapping: Option<Mapping>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Intake {
    pub id: String,
    pub name: String,
    pub organization: String,
    pub mapping: Mapping,
    /// The first characters of the secret, to tell intakes apart.
    pub secret_hint: String,
    /// Where KoboToolbox's REST service posts (basic auth with the intake's name and
    /// secret, or the header `X-Aidflow-Intake-Secret`).
    pub kobo_url: String,
    /// The server URL to give ODK Collect (username: the intake's name; password: its
    /// secret).
    pub odk_url: String,
    pub created_at: String,
    /// The secret, only in the answer that created the intake. Store it now: it cannot
    /// be shown again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

pub fn intake_out(
    c: &mut DbConn,
    row: &IntakeRow,
    secret: Option<String>,
) -> Result<Intake, AppError> {
    let organization = reference::get_organization(c, &row.organization_id)?.slug;
    Ok(Intake {
        id: row.id.clone(),
        name: row.name.clone(),
        organization,
        mapping: serde_json::from_str(&row.mapping).unwrap_or_default(),
        secret_hint: row.secret_hint.clone(),
        kobo_url: format!("/api/v1/intake/kobo/{}", row.name),
        odk_url: format!("/intake/odk/{}", row.name),
        created_at: rfc3339(row.created_at),
        secret,
    })
}

/// Creates an intake (admins only); its secret is in the answer, once.
#[tracing::instrument(skip_all, fields(token = %who.token_id))]
pub fn create(
    c: &mut DbConn,
    who: &Principal,
    body: &NewIntake,
) -> Result<Created<Intake>, AppError> {
    who.require_admin()?;
    let mut check = Checker::new();
    let name = check.take("name", validate::lower_code(&body.name));
    let mapping = body.mapping.clone().unwrap_or_default();
    for (field, path) in mapping.paths() {
        if path.trim().is_empty() || path.chars().count() > 200 {
            check.push(
                format!("mapping.{field}"),
                "give the form field's path, 1–200 characters (like group/question)",
            );
        }
    }
    check.finish()?;
    let name = name.unwrap_or_default();
    let organization_id = crate::app::reference::organization_id(c, &body.organization)?;
    let id = crate::store::resolve_id(body.id);
    let secret = generate_secret();
    let row = IntakeRow {
        id,
        name,
        organization_id,
        secret_hash: hash_secret(&secret),
        secret_hint: hint(&secret),
        mapping: serde_json::to_string(&mapping).map_err(|e| AppError::Internal(e.into()))?,
        body_sha256: body_hash(body),
        created_by: who.token_id.clone(),
        created_at: now_micros(),
    };
    Ok(match intakes::create_intake(c, row)? {
        Created::New(row) => Created::New(intake_out(c, &row, Some(secret))?),
        Created::Replayed(row) => Created::Replayed(intake_out(c, &row, None)?),
    })
}

pub fn list(c: &mut DbConn) -> Result<Vec<Intake>, AppError> {
    let rows = intakes::list_intakes(c)?;
    rows.iter().map(|r| intake_out(c, r, None)).collect()
}

pub fn get(c: &mut DbConn, key: &str) -> Result<Intake, AppError> {
    let row = intakes::get_intake(c, key)?;
    intake_out(c, &row, None)
}

/// One entry of an intake's log: a submission as received, and what became of it.
#[derive(Debug, Serialize, ToSchema)]
pub struct LogEntry {
    pub id: String,
    pub intake: String,
    /// The submission's `meta/instanceID`.
    pub instance_id: String,
    /// The instance id this submission replaced after an edit.
    pub deprecated_id: Option<String>,
    /// kobo or odk.
    pub channel: String,
    /// stored (it became the event `event`) or failed (see `reason`; replay it once the
    /// form or the data is fixed).
    pub state: String,
    pub reason: Option<String>,
    pub convoy: Option<String>,
    pub event: Option<String>,
    pub attempts: i32,
    pub received_at: String,
    pub updated_at: String,
    pub content_type: String,
    /// The submission exactly as it was received.
    pub payload: String,
}

pub fn entry_out(intake: &str, r: SubmissionRow) -> LogEntry {
    LogEntry {
        id: r.id,
        intake: intake.to_string(),
        instance_id: r.instance_id,
        deprecated_id: r.deprecated_id,
        channel: r.channel,
        state: r.state,
        reason: r.reason,
        convoy: r.convoy_id,
        event: r.event_id,
        attempts: r.attempts,
        received_at: rfc3339(r.received_at),
        updated_at: rfc3339(r.updated_at),
        content_type: r.content_type,
        payload: r.payload,
    }
}

pub struct LogPage {
    pub items: Vec<LogEntry>,
    pub next_cursor: Option<String>,
}

/// An intake's log, newest first; `state` keeps one state (stored or failed).
pub fn log(
    c: &mut DbConn,
    key: &str,
    state: Option<&str>,
    limit: Option<i64>,
    cursor: Option<&str>,
) -> Result<LogPage, AppError> {
    let limit = validate::page_limit(limit)?;
    if let Some(s) = state {
        if !["stored", "failed"].contains(&s) {
            return Err(AppError::field(
                "state",
                format!("{s:?} is not a state; use stored or failed"),
            ));
        }
    }
    let before = validate::time_cursor(cursor)?;
    let intake = intakes::get_intake(c, key)?;
    let mut rows = intakes::list_submissions(c, &intake.id, state, before, limit)?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| format!("{}_{}", r.received_at, r.id))
    } else {
        None
    };
    Ok(LogPage {
        items: rows
            .into_iter()
            .map(|r| entry_out(&intake.name, r))
            .collect(),
        next_cursor,
    })
}
