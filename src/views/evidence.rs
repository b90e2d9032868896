//! What a verification of the ledger's chains answers, from the database
//! (`GET /api/v1/ledger/verify`, `aidflow verify`) or from an export file
//! (`aidflow verify --file`).

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::chain::Fault;

/// How many mismatches an answer lists (all are counted).
pub const LISTED: usize = 100;

/// The outcome of recomputing every chain.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Verification {
    /// True when every chain, every recorded snapshot head (and, for a file, every
    /// convoy's figures, every claim's hash and dispute, the claims digest and the record
    /// counts) matched.
    pub ok: bool,
    pub convoys_checked: u64,
    pub events_checked: u64,
    /// Claims: in a file, each one's hash recomputed and its convoy checked; in the
    /// database only counted (claims are outside the chains, and no hash of them is
    /// stored: an export hashes them).
    pub claims_checked: u64,
    /// Published revisions whose recorded chain heads were checked (revisions published
    /// before chains record none).
    pub snapshots_checked: u64,
    /// How many things did not match, in all.
    pub mismatch_count: u64,
    /// The first thing that did not match, in convoy id and seq order.
    pub first_mismatch: Option<Mismatch>,
    /// The first mismatches, up to 100, in the same order.
    pub mismatches: Vec<Mismatch>,
    /// Published revisions whose recorded heads no longer match the chains.
    pub snapshots: Vec<SnapshotMismatch>,
}

/// One thing that does not match.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Mismatch {
    /// `event` (its stored content no longer gives its hash), `convoy` (its record or
    /// manifest no longer gives its genesis), `sequence` (an event missing or numbered
    /// twice), `prev` (an export's stated link before an event is not the one before it),
    /// `head` (the convoy's head is not its last link), `figures` (a file's stated
    /// figures differ from those its events give), `claim` (a file's claim no longer
    /// gives its hash, or does not follow its convoy), `dispute` (a convoy's stated claim
    /// count, spread or flag differ from what its claims in the file give), `claims` (the
    /// end record's claims digest differs from the file's claims), or `record` (a file's
    /// line is not a record it should be).
    pub kind: String,
    pub convoy_id: Option<String>,
    pub seq: Option<i64>,
    pub event_id: Option<String>,
    pub claim_id: Option<String>,
    /// The hash stored (or stated in the file).
    pub stored: Option<String>,
    /// The hash recomputed from the content.
    pub recomputed: Option<String>,
    /// The line of the export file (1-based), when verifying a file.
    pub line: Option<u64>,
    pub message: String,
}

impl Mismatch {
    /// A chain fault, at `line` of a file if it came from one.
    pub fn from_fault(f: &Fault, line: Option<u64>) -> Mismatch {
        let (kind, convoy_id, seq, event_id, stored, recomputed) = match f {
            Fault::Convoy {
                convoy_id,
                stored,
                recomputed,
            } => (
                "convoy",
                convoy_id,
                Some(0),
                None,
                stored.clone(),
                Some(recomputed.clone()),
            ),
            Fault::Event {
                convoy_id,
                seq,
                event_id,
                stored,
                recomputed,
            } => (
                "event",
                convoy_id,
                Some(*seq),
                Some(event_id.clone()),
                stored.clone(),
                Some(recomputed.clone()),
            ),
            Fault::Sequence {
                convoy_id,
                seq,
                event_id,
                ..
            } => (
                "sequence",
                convoy_id,
                Some(*seq),
                Some(event_id.clone()),
                None,
                None,
            ),
            Fault::Prev {
                convoy_id,
                seq,
                event_id,
                stated,
                expected,
            } => (
                "prev",
                convoy_id,
                Some(*seq),
                Some(event_id.clone()),
                Some(stated.clone()),
                Some(expected.clone()),
            ),
            Fault::Head {
                convoy_id,
                stored,
                expected,
            } => (
                "head",
                convoy_id,
                None,
                None,
                stored.clone(),
                Some(expected.clone()),
            ),
        };
        Mismatch {
            kind: kind.into(),
            convoy_id: Some(convoy_id.clone()),
            seq,
            event_id,
            claim_id: None,
            stored,
            recomputed,
            line,
            message: match line {
                Some(n) => format!("line {n}: {}", f.message()),
                None => f.message(),
            },
        }
    }
}

/// A published revision whose recorded chain heads no longer match.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SnapshotMismatch {
    pub week: String,
    pub revision: i32,
    /// The revision's published SHA-256 and recorded root digest.
    pub sha256: String,
    pub chain_root: Option<String>,
    /// How many of its convoys' heads no longer match.
    pub convoys: u64,
    /// The first of them (by convoy id), with the head recorded and the link recomputed
    /// at the same seq now (`null` when the convoy or that event is gone).
    pub convoy_id: Option<String>,
    pub seq: Option<i64>,
    pub recorded: Option<String>,
    pub recomputed: Option<String>,
    pub message: String,
}

impl Verification {
    /// Counts a mismatch, keeping the first ones.
    pub fn add(&mut self, m: Mismatch) {
        self.mismatch_count += 1;
        if self.first_mismatch.is_none() {
            self.first_mismatch = Some(m.clone());
        }
        if self.mismatches.len() < LISTED {
            self.mismatches.push(m);
        }
    }

    /// Sets `ok` from what was found.
    pub fn settle(mut self) -> Verification {
        self.ok = self.mismatch_count == 0 && self.snapshots.is_empty();
        self
    }

    /// The lines `aidflow verify` prints.
    pub fn summary(&self) -> Vec<String> {
        let mut out = vec![format!(
            "{} convoy(s), {} event(s), {} claim(s), {} published revision(s) checked",
            self.convoys_checked, self.events_checked, self.claims_checked, self.snapshots_checked
        )];
        if let Some(m) = &self.first_mismatch {
            out.push(format!("first mismatch: {}", m.message));
            if self.mismatch_count > 1 {
                out.push(format!("{} mismatches in all", self.mismatch_count));
            }
        }
        for s in &self.snapshots {
            out.push(format!("published revision: {}", s.message));
        }
        out.push(if self.ok {
            "ok: every chain matches".into()
        } else {
            "NOT OK: the ledger does not match its chains".into()
        });
        out
    }
}
