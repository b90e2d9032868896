//! CSV import of events typed from paper forms, for `POST /api/v1/imports/events` and
//! `aidflow import events FILE.csv`. The whole file is checked first; nothing is written
//! unless every row is valid, and errors are listed by line and column.
//!
//! Columns (header row required, any order, names case-insensitive):
//! `organization, convoy, event_id, kind, checkpoint, observed_at, commodity, tonnes,
//! quantity, unit, reason, event_reason, note, corrects`. `convoy` is the convoy's
//! reference (or id); `organization` may be left out by editors (their own). Rows that
//! share an `event_id` — or, without one, the same convoy, kind, checkpoint, time,
//! event_reason, note and corrects — are one event with one cargo line per row. An event
//! without `event_id` gets an id derived from its content, so importing the same file
//! twice counts nothing twice.

use std::collections::HashMap;

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::app::auth::{Principal, Role};
use crate::app::error::AppError;
use crate::app::events::{self, EventWrite, StateCache};
use crate::app::input::{DecimalText, LineInput, NewEvent};
use crate::db::DbConn;
use crate::domain::text::forbidden_message;
use crate::domain::FieldError;
use crate::store::convoys as store;
use crate::store::reference;

pub const COLUMNS: [&str; 17] = [
    "organization",
    "convoy",
    "event_id",
    "kind",
    "checkpoint",
    "observed_at",
    "commodity",
    "tonnes",
    "quantity",
    "unit",
    "reason",
    "event_reason",
    "note",
    "corrects",
    "trucks_passed",
    "trucks_held",
    "trucks_turned_back",
];

/// The truck count columns: optional, and part of a row's event only when filled in.
const TRUCK_COLUMNS: [&str; 3] = ["trucks_passed", "trucks_held", "trucks_turned_back"];

/// Namespace for ids derived from row content (a fixed random UUID).
const IMPORT_NAMESPACE: Uuid = Uuid::from_u128(0x3f0e_51c2_8a4d_4b6e_9c1a_7d2e_5f60_a1b2);

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportSummary {
    /// Data rows read.
    pub rows: usize,
    /// Events they form.
    pub events: usize,
    pub created: usize,
    /// Already recorded (the same file, or the same events, sent before).
    pub replayed: usize,
}

struct Row {
    line: u64,
    cells: HashMap<&'static str, String>,
}

impl Row {
    fn get(&self, column: &str) -> Option<&str> {
        self.cells
            .get(column)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

struct Group {
    key: String,
    rows: Vec<Row>,
}

fn at(line: u64, column: &str, message: impl Into<String>) -> FieldError {
    FieldError::new(format!("line {line}, {column}"), message)
}

/// Reads the CSV into rows, checking the header: every data row of the file becomes one
/// row, or the file is refused naming the line and column.
fn read_rows(bytes: &[u8]) -> Result<Vec<Row>, AppError> {
    // The csv crate ends a quoted field that is never closed at the end of the file,
    // without an error: one stray quote would swallow every row after it into one cell.
    // So the quoting is checked first, by the same rules the reader applies.
    if let Some((line, field)) = unclosed_quote(bytes) {
        // In the header the unclosed name itself runs to the end of the file.
        let column = Some(line)
            .filter(|&l| l > 1)
            .and_then(|_| first_line_fields(bytes).get(field).cloned())
            .unwrap_or_else(|| format!("column {}", field + 1));
        return Err(AppError::invalid(vec![at(
            line,
            &column,
            "a quoted value opens here and is never closed; close it with \" \
             (write a quote inside a quoted value as \"\")",
        )]));
    }
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|e| AppError::Malformed(format!("the CSV header cannot be read: {e}")))?
        .clone();
    let mut columns: Vec<&'static str> = Vec::new();
    let mut errors = Vec::new();
    for h in headers.iter() {
        let name = h.to_ascii_lowercase();
        match COLUMNS.iter().find(|c| **c == name) {
            Some(c) if columns.contains(c) => errors.push(at(
                1,
                h,
                "this column appears more than once; keep one (which value would count is not clear)",
            )),
            Some(c) => columns.push(c),
            None => errors.push(at(
                1,
                h,
                format!("unknown column; the columns are {}", COLUMNS.join(", ")),
            )),
        }
    }
    for required in ["convoy", "kind", "observed_at"] {
        if !columns.contains(&required) {
            errors.push(at(1, required, "this column is required"));
        }
    }
    if !errors.is_empty() {
        return Err(AppError::invalid(errors));
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            AppError::invalid(vec![at(line, "row", format!("cannot be read: {e}"))])
        })?;
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let cells = columns
            .iter()
            .zip(record.iter())
            .map(|(c, v)| (*c, v.to_string()))
            .collect();
        rows.push(Row { line, cells });
    }
    if rows.is_empty() {
        return Err(AppError::invalid(vec![at(
            2,
            "row",
            "the file has a header but no rows",
        )]));
    }
    Ok(rows)
}

/// Refuses cells holding control characters (other than tab and line breaks), by line
/// and column, before anything is looked up.
fn check_text(rows: &[Row]) -> Result<(), AppError> {
    let errors: Vec<FieldError> = rows
        .iter()
        .flat_map(|row| {
            COLUMNS.iter().filter_map(move |column| {
                let cell = row.cells.get(column)?;
                forbidden_message(cell).map(|m| at(row.line, column, m))
            })
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::invalid(errors))
    }
}

/// Where a quoted value opens and is never closed, as (line, field index of its record),
/// by the rules of the csv crate's reader: a value is quoted only when its first byte is
/// `"`; inside it `""` is a quote and a lone `"` closes it (what follows up to the next
/// comma or line end belongs to the same value); records end at `\n`, `\r` or `\r\n`.
/// Scanning the bytes once with that state is exact, where comparing record counts to
/// line counts would be fooled by values that legitimately span lines.
fn unclosed_quote(bytes: &[u8]) -> Option<(u64, usize)> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let (mut line, mut field) = (1u64, 0usize);
    let mut opened: Option<(u64, usize)> = None;
    let mut at_field_start = true;
    let mut iter = bytes.iter().peekable();
    while let Some(&b) = iter.next() {
        if opened.is_some() {
            match b {
                b'"' if iter.peek() == Some(&&b'"') => {
                    iter.next();
                }
                b'"' => opened = None,
                b'\n' => line += 1,
                b'\r' if iter.peek() != Some(&&b'\n') => line += 1,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' if at_field_start => {
                opened = Some((line, field));
                at_field_start = false;
            }
            b',' => {
                field += 1;
                at_field_start = true;
            }
            b'\n' | b'\r' => {
                if b == b'\n' || iter.peek() != Some(&&b'\n') {
                    line += 1;
                }
                field = 0;
                at_field_start = true;
            }
            _ => at_field_start = false,
        }
    }
    opened
}

/// The header's names as written (for naming a column before the header is checked).
fn first_line_fields(bytes: &[u8]) -> Vec<String> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(bytes)
        .records()
        .next()
        .and_then(Result::ok)
        .map(|r| r.iter().map(str::to_string).collect())
        .unwrap_or_default()
}

/// Groups rows into events, in order of first appearance.
fn group(rows: Vec<Row>) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    let mut by_key: HashMap<String, usize> = HashMap::new();
    for row in rows {
        let key = match row.get("event_id") {
            Some(id) => format!("id:{id}"),
            None => truck_key(
                &row,
                [
                    "organization",
                    "convoy",
                    "kind",
                    "checkpoint",
                    "observed_at",
                    "event_reason",
                    "note",
                    "corrects",
                ]
                .iter()
                .map(|c| row.get(c).unwrap_or(""))
                .collect::<Vec<_>>()
                .join("\u{1f}"),
            ),
        };
        match by_key.get(&key).and_then(|&i| groups.get_mut(i)) {
            Some(g) => g.rows.push(row),
            None => {
                by_key.insert(key.clone(), groups.len());
                groups.push(Group {
                    key,
                    rows: vec![row],
                });
            }
        }
    }
    groups
}

/// A group key with the row's truck counts, when it has any: a file without them keys
/// (and derives its event ids) exactly as before the columns existed.
fn truck_key(row: &Row, key: String) -> String {
    if TRUCK_COLUMNS.iter().all(|c| row.get(c).is_none()) {
        return key;
    }
    let counts: Vec<&str> = TRUCK_COLUMNS
        .iter()
        .map(|c| row.get(c).unwrap_or(""))
        .collect();
    format!("{key}\u{1f}trucks:{}", counts.join("\u{1f}"))
}

/// A truck count column as a whole number, or its error.
fn truck_count(row: &Row, column: &str, errors: &mut Vec<FieldError>) -> Option<i64> {
    let value = row.get(column)?;
    match value.trim().parse::<i64>() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.push(at(
                row.line,
                column,
                format!("{value:?} is not a whole number of trucks"),
            ));
            None
        }
    }
}

/// The event body a group of rows stands for, with its id.
fn event_body(g: &Group, errors: &mut Vec<FieldError>) -> Option<NewEvent> {
    let first = &g.rows[0];
    let id = match first.get("event_id") {
        Some(s) => match Uuid::parse_str(s) {
            Ok(id) => id,
            Err(_) => {
                errors.push(at(first.line, "event_id", format!("{s:?} is not a UUID")));
                return None;
            }
        },
        None => {
            let lines: Vec<String> = g
                .rows
                .iter()
                .map(|r| {
                    ["commodity", "tonnes", "quantity", "unit", "reason"]
                        .iter()
                        .map(|c| r.get(c).unwrap_or(""))
                        .collect::<Vec<_>>()
                        .join("\u{1f}")
                })
                .collect();
            Uuid::new_v5(
                &IMPORT_NAMESPACE,
                format!("{}\u{1e}{}", g.key, lines.join("\u{1e}")).as_bytes(),
            )
        }
    };
    let corrects = match first.get("corrects") {
        Some(s) => match Uuid::parse_str(s) {
            Ok(id) => Some(id),
            Err(_) => {
                errors.push(at(first.line, "corrects", format!("{s:?} is not a UUID")));
                return None;
            }
        },
        None => None,
    };
    let cargo = g
        .rows
        .iter()
        .filter(|r| r.get("commodity").is_some())
        .map(|r| LineInput {
            commodity: r.get("commodity").unwrap_or_default().to_string(),
            tonnes: r.get("tonnes").map(|v| DecimalText(v.to_string())),
            quantity: r.get("quantity").map(|v| DecimalText(v.to_string())),
            unit: r.get("unit").map(str::to_string),
            reason: r.get("reason").map(str::to_string),
        })
        .collect();
    Some(NewEvent {
        id: Some(id),
        kind: first.get("kind").unwrap_or_default().to_string(),
        checkpoint: first.get("checkpoint").map(str::to_string),
        observed_at: first.get("observed_at").unwrap_or_default().to_string(),
        cargo,
        reason: first.get("event_reason").map(str::to_string),
        note: first.get("note").map(str::to_string),
        corrects,
        trucks_passed: truck_count(first, "trucks_passed", errors),
        trucks_held: truck_count(first, "trucks_held", errors),
        trucks_turned_back: truck_count(first, "trucks_turned_back", errors),
    })
}

fn find_convoy(c: &mut DbConn, who: &Principal, row: &Row) -> Result<store::ConvoyRow, FieldError> {
    let convoy = row.get("convoy").unwrap_or_default();
    let mut lookup = || -> Result<Option<store::ConvoyRow>, AppError> {
        if let Ok(id) = Uuid::parse_str(convoy) {
            return Ok(store::find_convoy(c, &id.to_string())?);
        }
        let org_id = match (row.get("organization"), who.role, &who.organization_id) {
            (Some(slug), _, _) => match reference::find_organization(c, slug)? {
                Some(o) => o.id,
                None => {
                    return Err(AppError::field(
                        "organization",
                        format!("organization {slug} does not exist"),
                    ))
                }
            },
            (None, Role::Editor, Some(own)) => own.clone(),
            (None, _, _) => {
                return Err(AppError::field(
                    "organization",
                    "give the organization slug, or the convoy's id in the convoy column",
                ))
            }
        };
        Ok(store::find_convoy_by_reference(c, &org_id, convoy)?)
    };
    match lookup() {
        Ok(Some(row)) => Ok(row),
        Ok(None) => Err(at(
            row.line,
            "convoy",
            format!("no convoy {convoy} exists for this organization; create it first"),
        )),
        Err(AppError::Validation { errors, .. }) => {
            let e = errors
                .into_iter()
                .next()
                .unwrap_or_else(|| FieldError::new("convoy", "invalid"));
            Err(at(row.line, &e.field, e.message))
        }
        Err(e) => Err(at(row.line, "convoy", e.to_string())),
    }
}

/// Maps an error about one event to the lines and columns of its rows.
fn locate(g: &Group, e: AppError) -> Vec<FieldError> {
    let first = g.rows[0].line;
    let cargo_rows: Vec<u64> = g
        .rows
        .iter()
        .filter(|r| r.get("commodity").is_some())
        .map(|r| r.line)
        .collect();
    match e {
        AppError::Validation { errors, .. } => errors
            .into_iter()
            .map(|fe| {
                if let Some(rest) = fe.field.strip_prefix("cargo[") {
                    let (index, column) = rest.split_once(']').unwrap_or((rest, ""));
                    let line = index
                        .parse::<usize>()
                        .ok()
                        .and_then(|i| cargo_rows.get(i).copied())
                        .unwrap_or(first);
                    let column = column.trim_start_matches('.');
                    at(
                        line,
                        if column.is_empty() {
                            "commodity"
                        } else {
                            column
                        },
                        fe.message,
                    )
                } else if fe.field == "reason" {
                    at(first, "event_reason", fe.message)
                } else {
                    at(first, &fe.field, fe.message)
                }
            })
            .collect(),
        other => vec![at(first, "event", other.to_string())],
    }
}

/// Validates and records every event of the file in one transaction, or nothing. The
/// events go through the one event write path as one group, so a file costs what a sync
/// batch of the same events costs.
#[tracing::instrument(skip_all, fields(token = %who.token_id, bytes = bytes.len()))]
pub fn import_events(
    c: &mut DbConn,
    who: &Principal,
    bytes: &[u8],
    cache: &StateCache,
) -> Result<ImportSummary, AppError> {
    who.require_writer()?;
    let rows = read_rows(bytes)?;
    check_text(&rows)?;
    let row_count = rows.len();
    let groups = group(rows);
    let mut errors = Vec::new();
    let mut prepared = Vec::new();
    // Most files are about a few convoys: each is looked up once.
    let mut convoys: HashMap<(Option<String>, String), Result<store::ConvoyRow, FieldError>> =
        HashMap::new();
    for g in &groups {
        let first = &g.rows[0];
        let key = (
            first.get("organization").map(str::to_string),
            first.get("convoy").unwrap_or_default().to_string(),
        );
        let convoy = match convoys.get(&key) {
            Some(Ok(row)) => Ok(row.clone()),
            // A missing convoy is reported on each of its lines.
            Some(Err(_)) | None => {
                let found = find_convoy(c, who, first);
                convoys.insert(key, found.clone());
                found
            }
        };
        // A row for a convoy the token may not write for is a 403 for the whole file,
        // whatever else is wrong in it.
        if let Ok(row) = &convoy {
            who.require_write_for(
                &row.organization_id,
                &format!(
                    "convoy {} of another organization (line {})",
                    row.reference, first.line
                ),
            )?;
        }
        let body = event_body(g, &mut errors);
        match (convoy, body) {
            (Ok(convoy), Some(body)) => prepared.push((g, convoy, body)),
            (Err(e), _) => errors.push(e),
            _ => {}
        }
    }
    if !errors.is_empty() {
        return Err(AppError::invalid(errors));
    }
    let events = prepared.len();
    let writes: Vec<EventWrite> = prepared
        .iter()
        .map(|(_, convoy, body)| EventWrite {
            who: who.clone(),
            convoy_id: convoy.id.clone(),
            body: body.clone(),
        })
        .collect();
    events::in_write_tx(c, cache, |c, attempt| {
        let mut applied = events::apply(c, attempt, &writes, cache)?;
        let (mut created, mut replayed) = (0, 0);
        let mut errors = Vec::new();
        for ((g, _, body), answer) in prepared.iter().zip(std::mem::take(&mut applied.answers)) {
            match answer {
                Ok(crate::store::Created::New(_)) => created += 1,
                Ok(crate::store::Created::Replayed(_)) => replayed += 1,
                Err(AppError::Conflict(m)) if m.contains("different body") => errors.push(at(
                    g.rows[0].line,
                    "event_id",
                    format!(
                        "event {} was recorded before with other values",
                        body.id.map(|i| i.to_string()).unwrap_or_default()
                    ),
                )),
                Err(e) => errors.extend(locate(g, e)),
            }
        }
        if errors.is_empty() {
            Ok((
                ImportSummary {
                    rows: row_count,
                    events,
                    created,
                    replayed,
                },
                applied,
            ))
        } else {
            // Undoes the whole file: nothing of it is kept.
            Err(AppError::Validation {
                detail: format!("{} problem(s) in the file; nothing was imported — fix them and send the whole file again", errors.len()),
                errors,
            })
        }
    })
}
