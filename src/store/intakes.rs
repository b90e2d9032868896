//! Form intakes and the submissions they received (the intake log).

use std::collections::HashMap;

use diesel::prelude::*;

use crate::db::schema::{intake_submissions, intakes};
use crate::db::{write_tx, DbConn};
use crate::store::{create_once, Created, StoreError};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = intakes)]
pub struct IntakeRow {
    pub id: String,
    pub name: String,
    pub organization_id: String,
    pub secret_hash: String,
    pub secret_hint: String,
    pub mapping: String,
    pub body_sha256: String,
    pub created_by: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = intake_submissions)]
pub struct SubmissionRow {
    pub id: String,
    pub intake_id: String,
    pub instance_id: String,
    pub deprecated_id: Option<String>,
    pub channel: String,
    pub content_type: String,
    pub payload: String,
    pub state: String,
    pub reason: Option<String>,
    pub convoy_id: Option<String>,
    pub event_id: Option<String>,
    pub attempts: i32,
    pub received_at: i64,
    pub updated_at: i64,
}

pub fn create_intake(conn: &mut DbConn, row: IntakeRow) -> Result<Created<IntakeRow>, StoreError> {
    let (id, hash) = (row.id.clone(), row.body_sha256.clone());
    create_once(
        conn,
        "intake",
        &id,
        &hash,
        |c| {
            Ok(find_by_id(c, &id)?.map(|r| {
                let h = r.body_sha256.clone();
                (r, h)
            }))
        },
        |c| {
            diesel::insert_into(intakes::table)
                .values(&row)
                .execute(c)?;
            Ok(row)
        },
    )
}

fn find_by_id(conn: &mut DbConn, id: &str) -> Result<Option<IntakeRow>, StoreError> {
    Ok(intakes::table
        .find(id)
        .select(IntakeRow::as_select())
        .first(conn)
        .optional()?)
}

/// The intake named `key` (its name, or its id).
pub fn find_intake(conn: &mut DbConn, key: &str) -> Result<Option<IntakeRow>, StoreError> {
    Ok(intakes::table
        .filter(intakes::name.eq(key).or(intakes::id.eq(key)))
        .select(IntakeRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn get_intake(conn: &mut DbConn, key: &str) -> Result<IntakeRow, StoreError> {
    find_intake(conn, key)?
        .ok_or_else(|| StoreError::NotFound(format!("intake {key} does not exist")))
}

pub fn list_intakes(conn: &mut DbConn) -> Result<Vec<IntakeRow>, StoreError> {
    Ok(intakes::table
        .order(intakes::name.asc())
        .select(IntakeRow::as_select())
        .load(conn)?)
}

pub fn find_submission(
    conn: &mut DbConn,
    intake_id: &str,
    instance_id: &str,
) -> Result<Option<SubmissionRow>, StoreError> {
    Ok(intake_submissions::table
        .filter(intake_submissions::intake_id.eq(intake_id))
        .filter(intake_submissions::instance_id.eq(instance_id))
        .select(SubmissionRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn get_submission(
    conn: &mut DbConn,
    intake_id: &str,
    id: &str,
) -> Result<SubmissionRow, StoreError> {
    intake_submissions::table
        .filter(intake_submissions::intake_id.eq(intake_id))
        .filter(intake_submissions::id.eq(id))
        .select(SubmissionRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("the intake log has no entry {id}")))
}

/// Records a submission the first time its instance id is seen; `false` when it was
/// already there (a resent submission).
pub fn insert_submission(conn: &mut DbConn, row: &SubmissionRow) -> Result<bool, StoreError> {
    let inserted = write_tx(conn, |c| {
        if find_submission(c, &row.intake_id, &row.instance_id)?.is_some() {
            return Ok(false);
        }
        diesel::insert_into(intake_submissions::table)
            .values(row)
            .execute(c)?;
        Ok(true)
    });
    match inserted {
        // The same submission arrived twice at once and the other insert won.
        Err(StoreError::Conflict(_)) => Ok(false),
        other => other,
    }
}

/// What became of a submission after an attempt to turn it into an event.
pub struct Outcome<'a> {
    pub state: &'a str,
    pub reason: Option<String>,
    pub convoy_id: Option<String>,
    pub event_id: Option<String>,
    pub at: i64,
}

pub fn record_outcome(conn: &mut DbConn, id: &str, o: Outcome<'_>) -> Result<(), StoreError> {
    diesel::update(intake_submissions::table.find(id))
        .set((
            intake_submissions::state.eq(o.state),
            intake_submissions::reason.eq(o.reason),
            intake_submissions::convoy_id.eq(o.convoy_id),
            intake_submissions::event_id.eq(o.event_id),
            intake_submissions::attempts.eq(intake_submissions::attempts + 1),
            intake_submissions::updated_at.eq(o.at),
        ))
        .execute(conn)?;
    Ok(())
}

/// An intake's log, newest first, optionally only one state; one page.
pub fn list_submissions(
    conn: &mut DbConn,
    intake_id: &str,
    state: Option<&str>,
    before: Option<(i64, String)>,
    limit: i64,
) -> Result<Vec<SubmissionRow>, StoreError> {
    let mut q = intake_submissions::table
        .filter(intake_submissions::intake_id.eq(intake_id))
        .select(SubmissionRow::as_select())
        .into_boxed();
    if let Some(s) = state {
        q = q.filter(intake_submissions::state.eq(s.to_string()));
    }
    if let Some((at, id)) = before {
        q = q.filter(
            intake_submissions::received_at
                .lt(at)
                .or(intake_submissions::received_at
                    .eq(at)
                    .and(intake_submissions::id.lt(id))),
        );
    }
    Ok(q.order((
        intake_submissions::received_at.desc(),
        intake_submissions::id.desc(),
    ))
    .limit(limit + 1)
    .load(conn)?)
}

/// Where each of these events came from: (intake name, instance id) by event id.
pub fn sources_of(
    conn: &mut DbConn,
    event_ids: &[&str],
) -> Result<HashMap<String, (String, String)>, StoreError> {
    let mut out = HashMap::new();
    for chunk in event_ids.chunks(500) {
        let rows: Vec<(Option<String>, String, String)> = intake_submissions::table
            .inner_join(intakes::table)
            .filter(intake_submissions::event_id.eq_any(chunk))
            .select((
                intake_submissions::event_id,
                intakes::name,
                intake_submissions::instance_id,
            ))
            .load(conn)?;
        for (event, intake, instance) in rows {
            if let Some(event) = event {
                out.insert(event, (intake, instance));
            }
        }
    }
    Ok(out)
}
