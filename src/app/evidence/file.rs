//! Verifying an export file on its own (`aidflow verify --file`): every convoy's chain
//! recomputed from the records alone, every convoy's figures recomputed from its events
//! with the same ledger code the server uses, every claim's hash, each convoy's dispute
//! recomputed from its claims at the header's threshold, the heads each published
//! revision recorded, the claims digest and the record counts. Read line by line, one
//! convoy at a time.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::BufRead;

use serde_json::Value;
use uuid::Uuid;

use crate::app::evidence::export::{Counts, End, FORMAT, VERSION};
use crate::app::evidence::{Recorded, SnapshotCheck, StatedDispute, StatedFigures};
use crate::domain::chain::{ConvoyRecord, EventRecord, Walk};
use crate::domain::claim_hash::{claim_sha256, ClaimRecord, ClaimsDigest};
use crate::domain::claims::Share;
use crate::domain::ledger::{self, EventKind, Reason};
use crate::domain::time::from_micros;
use crate::store::chain::Head;
use crate::views::evidence::{Mismatch, Verification};

/// A convoy being read: its record, its events so far, where each came from.
struct Current {
    record: ConvoyRecord,
    line: u64,
    head: Option<String>,
    figures: Option<StatedFigures>,
    dispute: Option<StatedDispute>,
    walk: Walk,
    events: Vec<EventRecord>,
    lines: HashMap<String, u64>,
    /// The kg of its claims in the file.
    claims: Vec<i64>,
}

struct Reader {
    v: Verification,
    routes: HashMap<String, Vec<String>>,
    recorded: Vec<Recorded>,
    check: Option<SnapshotCheck>,
    current: Option<Current>,
    counts: Counts,
    header: bool,
    /// The header's `dispute_percent`.
    share: Share,
    /// Over the claims' hashes recomputed from their content, in file order.
    digest: ClaimsDigest,
    end: Option<(u64, End)>,
}

fn record(line: u64, message: String) -> Mismatch {
    Mismatch {
        kind: "record".into(),
        convoy_id: None,
        seq: None,
        event_id: None,
        claim_id: None,
        stored: None,
        recomputed: None,
        line: Some(line),
        message: format!("line {line}: {message}"),
    }
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

/// Reads an export and answers what matched. Only reading the file can fail; every
/// problem in it is a mismatch, named by its line.
pub fn verify_file(input: impl BufRead) -> std::io::Result<Verification> {
    let mut r = Reader {
        v: Verification::default(),
        routes: HashMap::new(),
        recorded: Vec::new(),
        check: None,
        current: None,
        counts: Counts::default(),
        header: false,
        share: Share::DEFAULT,
        digest: ClaimsDigest::new(),
        end: None,
    };
    let mut n = 0u64;
    for text_line in input.lines() {
        let text_line = text_line?;
        n += 1;
        if text_line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(&text_line) {
            Ok(value) => r.record(n, &value),
            Err(e) => r.v.add(record(n, format!("not a JSON record ({e})"))),
        }
    }
    r.close_convoy();
    if !r.header {
        r.v.add(record(1, format!("the file has no {FORMAT} header")));
    }
    let digest = std::mem::take(&mut r.digest).finish();
    match r.end.take() {
        None => r.v.add(record(
            n,
            "the file ends without its end record: it was cut short".into(),
        )),
        Some((line, end)) => r.end_record(line, end, digest),
    }
    let check = r
        .check
        .take()
        .unwrap_or_else(|| SnapshotCheck::new(std::mem::take(&mut r.recorded)));
    r.v.snapshots_checked = check.len();
    r.v.snapshots = check.finish();
    Ok(r.v.settle())
}

impl Reader {
    fn record(&mut self, n: u64, v: &Value) {
        if let Some((end, _)) = self.end {
            self.v.add(record(
                n,
                format!("a record after the end record of line {end}"),
            ));
            return;
        }
        let kind = v.get("type").and_then(Value::as_str).unwrap_or("");
        if !self.header && kind != "header" {
            self.v
                .add(record(n, "the first record is not the header".into()));
            self.header = true;
        }
        match kind {
            "header" => self.header(n, v),
            "organization" | "checkpoint" | "commodity" => {}
            "route" => {
                let stops = v
                    .get("checkpoints")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(|s| text(s, "checkpoint_id")).collect());
                match (text(v, "id"), stops) {
                    (Some(id), Some(stops)) => {
                        self.routes.insert(id, stops);
                    }
                    _ => self
                        .v
                        .add(record(n, "a route without id or checkpoints".into())),
                }
            }
            "snapshot" => self.snapshot(n, v),
            "convoy" => self.convoy(n, v),
            "event" => self.event(n, v),
            "claim" => self.claim(n, v),
            "end" => {
                self.close_convoy();
                match serde_json::from_value::<End>(v.clone()) {
                    Ok(c) => self.end = Some((n, c)),
                    Err(e) => self.v.add(record(
                        n,
                        format!("an end record without counts or claims digest ({e})"),
                    )),
                }
            }
            other => self.v.add(record(
                n,
                format!("{other:?} is not a record type of this format"),
            )),
        }
    }

    fn header(&mut self, n: u64, v: &Value) {
        self.header = true;
        let format = text(v, "format");
        let version = v.get("version").and_then(Value::as_u64);
        if format.as_deref() != Some(FORMAT) || version != Some(u64::from(VERSION)) {
            self.v.add(record(
                n,
                format!(
                    "the header says format {format:?} version {version:?}; this verifier reads {FORMAT} version {VERSION}"
                ),
            ));
        }
        let percent = text(v, "dispute_percent");
        match percent.as_deref().map(Share::parse_percent) {
            Some(Ok(share)) => self.share = share,
            _ => self.v.add(record(
                n,
                format!(
                    "the header's dispute_percent {percent:?} is not a threshold; disputes are checked at the default {} %",
                    Share::DEFAULT.percent()
                ),
            )),
        }
    }

    /// The end record's counts and claims digest against the file's.
    fn end_record(&mut self, line: u64, end: End, digest: String) {
        let (stated, held) = (end.counts, self.counts);
        if stated != held {
            self.v.add(record(
                line,
                format!(
                    "the end record counts {} convoys, {} events, {} snapshots and {} claims, but the file holds {}, {}, {} and {}",
                    stated.convoys, stated.events, stated.snapshots, stated.claims,
                    held.convoys, held.events, held.snapshots, held.claims
                ),
            ));
        }
        if end.claims_sha256 != digest {
            self.v.add(Mismatch {
                kind: "claims".into(),
                stored: Some(end.claims_sha256.clone()),
                recomputed: Some(digest.clone()),
                message: format!(
                    "line {line}: the end record's claims digest is {}, but the file's claims give {digest}: a claim was removed, added, moved or changed",
                    end.claims_sha256
                ),
                ..record(line, String::new())
            });
        }
    }

    /// A claim: its hash from its content, and that it follows its own convoy.
    fn claim(&mut self, n: u64, v: &Value) {
        self.counts.claims += 1;
        let rec = match serde_json::from_value::<ClaimRecord>(v.clone()) {
            Ok(rec) => rec,
            Err(e) => {
                self.v.add(record(
                    n,
                    format!("a claim record that cannot be read ({e})"),
                ));
                return;
            }
        };
        self.v.claims_checked += 1;
        let recomputed = claim_sha256(&rec);
        self.digest.push(&recomputed);
        let stated = text(v, "sha256");
        let claim_mismatch = |message: String| Mismatch {
            kind: "claim".into(),
            convoy_id: Some(rec.convoy_id.clone()),
            claim_id: Some(rec.id.clone()),
            ..record(n, message)
        };
        if stated.as_deref() != Some(recomputed.as_str()) {
            self.v.add(Mismatch {
                stored: stated.clone(),
                recomputed: Some(recomputed.clone()),
                ..claim_mismatch(format!(
                    "convoy {}, claim {} ({}): its content gives {recomputed}, but {} is stated",
                    rec.convoy_id,
                    rec.id,
                    rec.source,
                    stated.as_deref().unwrap_or("none")
                ))
            });
        }
        match self.current.as_mut() {
            Some(cur) if cur.record.id == rec.convoy_id => cur.claims.push(rec.kg),
            cur => {
                let after = cur.map_or_else(
                    || "no convoy".to_string(),
                    |c| format!("convoy {}", c.record.id),
                );
                self.v.add(claim_mismatch(format!(
                    "claim {} is about convoy {}, but follows {after}: a claim comes right after its own convoy's record and events",
                    rec.id, rec.convoy_id
                )));
            }
        }
    }

    fn snapshot(&mut self, n: u64, v: &Value) {
        if self.check.is_some() {
            self.v
                .add(record(n, "a snapshot record after the convoys".into()));
            return;
        }
        let heads = v
            .get("chain_heads")
            .cloned()
            .map(serde_json::from_value::<BTreeMap<String, Head>>);
        match (
            text(v, "week"),
            v.get("revision").and_then(Value::as_i64),
            heads,
        ) {
            (Some(week), Some(revision), Some(Ok(heads))) => {
                self.counts.snapshots += 1;
                self.recorded.push(Recorded {
                    week,
                    revision: i32::try_from(revision).unwrap_or_default(),
                    sha256: text(v, "sha256").unwrap_or_default(),
                    chain_root: text(v, "chain_root"),
                    heads,
                });
            }
            _ => self.v.add(record(
                n,
                "a snapshot without week, revision or chain heads".into(),
            )),
        }
    }

    fn convoy(&mut self, n: u64, v: &Value) {
        self.close_convoy();
        if self.check.is_none() {
            self.check = Some(SnapshotCheck::new(std::mem::take(&mut self.recorded)));
        }
        self.counts.convoys += 1;
        let record_of = serde_json::from_value::<ConvoyRecord>(v.clone());
        let Ok(rec) = record_of else {
            let e = record_of.err().map(|e| e.to_string()).unwrap_or_default();
            self.v.add(record(
                n,
                format!("a convoy record that cannot be read ({e})"),
            ));
            return;
        };
        let genesis = text(v, "chain_genesis");
        self.current = Some(Current {
            walk: Walk::start(&rec, genesis.as_deref()),
            record: rec,
            line: n,
            head: text(v, "chain_head"),
            figures: v
                .get("figures")
                .cloned()
                .and_then(|f| serde_json::from_value(f).ok()),
            dispute: v
                .get("dispute")
                .cloned()
                .and_then(|d| serde_json::from_value(d).ok()),
            events: Vec::new(),
            lines: HashMap::new(),
            claims: Vec::new(),
        });
    }

    fn event(&mut self, n: u64, v: &Value) {
        self.counts.events += 1;
        let parsed = serde_json::from_value::<EventRecord>(v.clone());
        let Some(cur) = self.current.as_mut() else {
            self.v.add(record(n, "an event before any convoy".into()));
            return;
        };
        let e = match parsed {
            Ok(e) => e,
            Err(err) => {
                self.v.add(record(
                    n,
                    format!("an event record that cannot be read ({err})"),
                ));
                return;
            }
        };
        if e.convoy_id != cur.record.id {
            self.v.add(record(
                n,
                format!(
                    "event {} of convoy {} among the events of convoy {}",
                    e.id, e.convoy_id, cur.record.id
                ),
            ));
            return;
        }
        let (stored, prev) = (text(v, "chain_sha256"), text(v, "prev_sha256"));
        cur.walk
            .step(&e, stored.as_deref(), Some(prev.as_deref().unwrap_or("")));
        cur.lines.insert(e.id.clone(), n);
        cur.events.push(e);
    }

    /// Ends the convoy being read: its chain, head, figures and recorded heads.
    fn close_convoy(&mut self) {
        let Some(cur) = self.current.take() else {
            return;
        };
        let walk = cur.walk.finish(Some(cur.head.as_deref()));
        self.v.convoys_checked += 1;
        self.v.events_checked += walk.events;
        for f in &walk.faults {
            let line = match f {
                crate::domain::chain::Fault::Event { event_id, .. }
                | crate::domain::chain::Fault::Sequence { event_id, .. }
                | crate::domain::chain::Fault::Prev { event_id, .. } => {
                    cur.lines.get(event_id).copied()
                }
                _ => Some(cur.line),
            };
            self.v.add(Mismatch::from_fault(f, line));
        }
        if let Some(check) = self.check.as_mut() {
            check.convoy(&cur.record.id, &walk);
        }
        let recomputed = figures(&cur.record, &cur.events, &self.routes);
        // The logged figure the claims are compared to, from the events when they give
        // one (a wrong stated figure is named on its own below).
        if let Some(f) = recomputed.as_ref().ok().or(cur.figures.as_ref()) {
            let expected = StatedDispute::of(
                &f.status,
                f.planned_kg,
                f.loaded_kg,
                &cur.claims,
                self.share,
            );
            if cur.dispute.as_ref() != Some(&expected) {
                let stated = cur.dispute.as_ref();
                self.v.add(Mismatch {
                    kind: "dispute".into(),
                    convoy_id: Some(cur.record.id.clone()),
                    stored: stated.and_then(|s| serde_json::to_string(s).ok()),
                    recomputed: serde_json::to_string(&expected).ok(),
                    ..record(
                        cur.line,
                        format!(
                            "convoy {} states {}, but its claims in the file give {} (at the header's {} %)",
                            cur.record.id,
                            stated.map_or_else(|| "no dispute".into(), StatedDispute::describe),
                            expected.describe(),
                            self.share.percent()
                        ),
                    )
                });
            }
        }
        let (stated, line, id) = (cur.figures, cur.line, cur.record.id);
        match (stated, recomputed) {
            (Some(s), Ok(r)) if s == r => {}
            (s, r) => self.v.add(Mismatch {
                kind: "figures".into(),
                convoy_id: Some(id.clone()),
                seq: None,
                event_id: None,
                claim_id: None,
                stored: s.as_ref().and_then(|s| serde_json::to_string(s).ok()),
                recomputed: r.as_ref().ok().and_then(|r| serde_json::to_string(r).ok()),
                line: Some(line),
                message: match r {
                    Ok(r) => format!(
                        "line {line}: convoy {id} states figures {}, but its events give {}",
                        s.and_then(|s| serde_json::to_string(&s).ok())
                            .unwrap_or_else(|| "none".into()),
                        serde_json::to_string(&r).unwrap_or_default()
                    ),
                    Err(e) => {
                        format!("line {line}: convoy {id}: its figures cannot be recomputed: {e}")
                    }
                },
            }),
        }
    }
}

/// A convoy's figures from its manifest and events, by the ledger's own rules (ids stand
/// for the codes: the ledger only compares them).
fn figures(
    convoy: &ConvoyRecord,
    events: &[EventRecord],
    routes: &HashMap<String, Vec<String>>,
) -> Result<StatedFigures, String> {
    let stops = routes
        .get(&convoy.route_id)
        .ok_or_else(|| format!("its route {} is not in the file", convoy.route_id))?;
    let route = ledger::Route::new(stops.iter().cloned());
    let manifest = ledger::Manifest(
        convoy
            .manifest
            .iter()
            .map(|l| (l.commodity_id.clone(), l.kg))
            .collect(),
    );
    let voided: HashSet<&str> = events
        .iter()
        .filter_map(|e| e.corrects.as_deref())
        .collect();
    let reason = |r: &Option<String>| -> Result<Option<Reason>, String> {
        r.as_deref()
            .map(|s| Reason::parse(s).ok_or_else(|| format!("{s:?} is not a reason")))
            .transpose()
    };
    let mut all = Vec::with_capacity(events.len());
    for e in events {
        all.push(ledger::LedgerEvent {
            id: Uuid::parse_str(&e.id).map_err(|err| format!("event id {}: {err}", e.id))?,
            kind: EventKind::parse(&e.kind)
                .ok_or_else(|| format!("event {}: {:?} is not a kind", e.id, e.kind))?,
            checkpoint: e.checkpoint_id.clone(),
            observed_at: from_micros(e.observed_at),
            seq: e.seq,
            cargo: e
                .lines
                .iter()
                .map(|l| {
                    Ok(ledger::CargoLine {
                        commodity: l.commodity_id.clone(),
                        kg: l.kg,
                        reason: reason(&l.reason)?,
                    })
                })
                .collect::<Result<_, String>>()?,
            reason: reason(&e.reason)?,
            voided: voided.contains(e.id.as_str()),
        });
    }
    ledger::evaluate(&route, &manifest, &all)
        .map(|l| StatedFigures::of_ledger(&l))
        .map_err(|e| e.message)
}
