//! The ledger as evidence: verifying every convoy's chain in the database ([`verify`]),
//! exporting the whole ledger and its claims as JSON Lines (`export`), and verifying such
//! a file on its own (`file`). The chain itself is `domain::chain`, a claim's hash
//! `domain::claim_hash`; docs/src/evidence.md says what a verification proves and what it
//! does not.

pub mod export;
pub mod file;

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::app::auth::Principal;
use crate::app::error::AppError;
use crate::db::{read_snapshot, DbConn};
use crate::domain::chain::Walk;
use crate::domain::claims::{discrepancy, format_percent, logged_figure, Share};
use crate::domain::ledger::{Ledger, Status};
use crate::domain::quantity::Kg;
use crate::store::chain::{self, convoy_record, event_record, Head};
use crate::store::rows::ConvoyRow;
use crate::store::{claims, reports};
use crate::views::evidence::{Mismatch, SnapshotMismatch, Verification};

/// How many convoys a pass over the ledger reads at a time.
const PAGE: i64 = 200;

/// The figures of a convoy as stored (an export states them) and as its events give them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatedFigures {
    pub status: String,
    pub planned_kg: i64,
    pub loaded_kg: i64,
    pub delivered_kg: i64,
    pub short_loaded_kg: i64,
    pub denied_kg: i64,
    pub lost_kg: i64,
    pub rejected_kg: i64,
    pub outstanding_kg: i64,
    pub cancelled_kg: i64,
}

impl StatedFigures {
    pub fn of_row(r: &ConvoyRow) -> StatedFigures {
        StatedFigures {
            status: r.status.clone(),
            planned_kg: r.planned_kg,
            loaded_kg: r.loaded_kg,
            delivered_kg: r.delivered_kg,
            short_loaded_kg: r.short_loaded_kg,
            denied_kg: r.denied_kg,
            lost_kg: r.lost_kg,
            rejected_kg: r.rejected_kg,
            outstanding_kg: r.outstanding_kg,
            cancelled_kg: r.cancelled_kg,
        }
    }

    pub fn of_ledger(l: &Ledger) -> StatedFigures {
        let t = &l.totals;
        StatedFigures {
            status: l.status.as_str().to_string(),
            planned_kg: t.planned,
            loaded_kg: t.loaded,
            delivered_kg: t.delivered,
            short_loaded_kg: t.short_loaded,
            denied_kg: t.denied,
            lost_kg: t.lost,
            rejected_kg: t.rejected,
            outstanding_kg: t.outstanding,
            cancelled_kg: t.cancelled,
        }
    }
}

/// What a convoy's claims say against its logged figure, as an export states it on the
/// convoy's record (`dispute`) and as `verify --file` recomputes it from the claims that
/// follow: the same rule as the API's (`domain::claims`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatedDispute {
    /// How many claims the convoy has.
    pub claims: u64,
    /// `planned` or `loaded`, and that figure.
    pub logged_figure: String,
    pub logged_kg: i64,
    /// Over the logged figure and every claim; null without claims.
    pub lowest_kg: Option<i64>,
    pub highest_kg: Option<i64>,
    /// One decimal, as the API writes it; null without claims, or when the lowest figure
    /// is 0 and the highest is not.
    pub spread_percent: Option<String>,
    pub disputed: bool,
}

impl StatedDispute {
    /// The dispute of a convoy with this status and these figures, over its claims' kg.
    pub fn of(status: &str, planned: Kg, loaded: Kg, claims: &[Kg], share: Share) -> Self {
        let status = Status::parse(status).unwrap_or(Status::Planned);
        let (basis, logged) = logged_figure(status, planned, loaded);
        let d = discrepancy(logged, claims, share);
        StatedDispute {
            claims: claims.len() as u64,
            logged_figure: basis.as_str().to_string(),
            logged_kg: logged,
            lowest_kg: d.as_ref().map(|d| d.lowest),
            highest_kg: d.as_ref().map(|d| d.highest),
            spread_percent: d
                .as_ref()
                .and_then(|d| d.spread_percent)
                .map(format_percent),
            disputed: d.is_some_and(|d| d.disputed),
        }
    }

    /// In words, for a mismatch: `3 claim(s) against 360000 kg loaded, spread 11.1 %,
    /// disputed`.
    pub fn describe(&self) -> String {
        format!(
            "{} claim(s) against {} kg {}, spread {}, {}",
            self.claims,
            self.logged_kg,
            self.logged_figure,
            self.spread_percent
                .as_deref()
                .map(|p| format!("{p} %"))
                .unwrap_or_else(|| "none".into()),
            if self.disputed {
                "disputed"
            } else {
                "not disputed"
            }
        )
    }
}

/// A published revision's recorded heads, parsed.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub week: String,
    pub revision: i32,
    pub sha256: String,
    pub chain_root: Option<String>,
    pub heads: BTreeMap<String, Head>,
}

/// Compares the heads that published revisions recorded with the chains recomputed now,
/// convoy by convoy as a pass reaches them.
pub struct SnapshotCheck {
    recorded: Vec<Recorded>,
    /// Convoy id → (revision index, recorded head), for the convoys not reached yet.
    wanted: HashMap<String, Vec<(usize, Head)>>,
    /// Per revision: how many heads differ, the first, and whether its root is off.
    found: Vec<Found>,
}

#[derive(Default)]
struct Found {
    differing: u64,
    first: Option<(String, i64, String, Option<String>)>,
    root_off: bool,
}

impl SnapshotCheck {
    pub fn new(recorded: Vec<Recorded>) -> SnapshotCheck {
        let mut wanted: HashMap<String, Vec<(usize, Head)>> = HashMap::new();
        let mut found = Vec::with_capacity(recorded.len());
        for (i, r) in recorded.iter().enumerate() {
            for (convoy, head) in &r.heads {
                wanted
                    .entry(convoy.clone())
                    .or_default()
                    .push((i, head.clone()));
            }
            found.push(Found {
                root_off: r.chain_root.as_deref() != Some(chain::root_of(&r.heads).as_str()),
                ..Found::default()
            });
        }
        SnapshotCheck {
            recorded,
            wanted,
            found,
        }
    }

    pub fn len(&self) -> u64 {
        self.recorded.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.recorded.is_empty()
    }

    /// Checks the heads recorded for this convoy against its recomputed chain.
    pub fn convoy(&mut self, convoy_id: &str, walk: &Walk) {
        for (i, head) in self.wanted.remove(convoy_id).unwrap_or_default() {
            let now = walk.recomputed_at(head.seq);
            if now != Some(head.sha256.as_str()) {
                self.differ(i, convoy_id, head, now.map(str::to_string));
            }
        }
    }

    fn differ(&mut self, i: usize, convoy_id: &str, head: Head, now: Option<String>) {
        if let Some(f) = self.found.get_mut(i) {
            f.differing += 1;
            let earlier = f
                .first
                .as_ref()
                .is_some_and(|(c, ..)| c.as_str() < convoy_id);
            if !earlier {
                f.first = Some((convoy_id.to_string(), head.seq, head.sha256, now));
            }
        }
    }

    /// The revisions that no longer match, once every convoy was reached (a recorded
    /// convoy that was never reached is gone).
    pub fn finish(mut self) -> Vec<SnapshotMismatch> {
        let gone: Vec<(String, Vec<(usize, Head)>)> = self.wanted.drain().collect();
        for (convoy, heads) in gone {
            for (i, head) in heads {
                self.differ(i, &convoy, head, None);
            }
        }
        self.recorded
            .into_iter()
            .zip(self.found)
            .filter(|(_, f)| f.differing > 0 || f.root_off)
            .map(|(r, f)| {
                let (convoy_id, seq, recorded, recomputed) = match f.first {
                    Some((c, s, h, n)) => (Some(c), Some(s), Some(h), n),
                    None => (None, None, None, None),
                };
                let message = match &convoy_id {
                    Some(c) => format!(
                        "{} revision {}: the chain heads it recorded no longer match for {} convoy(s); first convoy {c} at event {}: recorded {}, now {}",
                        r.week,
                        r.revision,
                        f.differing,
                        seq.unwrap_or_default(),
                        recorded.clone().unwrap_or_default(),
                        recomputed.clone().unwrap_or_else(|| "no such event".into())
                    ),
                    None => format!(
                        "{} revision {}: its recorded chain heads do not give its recorded root digest",
                        r.week, r.revision
                    ),
                };
                SnapshotMismatch {
                    week: r.week,
                    revision: r.revision,
                    sha256: r.sha256,
                    chain_root: r.chain_root,
                    convoys: f.differing,
                    convoy_id,
                    seq,
                    recorded,
                    recomputed,
                    message,
                }
            })
            .collect()
    }
}

/// The recorded heads of every revision published since chains.
fn recorded(c: &mut DbConn) -> Result<Vec<Recorded>, AppError> {
    reports::recorded_heads(c)?
        .into_iter()
        .map(|r| {
            let heads =
                serde_json::from_str(r.chain_heads.as_deref().unwrap_or("{}")).map_err(|e| {
                    AppError::Internal(anyhow::anyhow!(
                        "the chain heads of {} revision {}: {e}",
                        r.week,
                        r.revision
                    ))
                })?;
            Ok(Recorded {
                week: r.week,
                revision: r.revision,
                sha256: r.sha256,
                chain_root: r.chain_root,
                heads,
            })
        })
        .collect()
}

/// `GET /api/v1/ledger/verify` (admin).
pub fn verify_as(c: &mut DbConn, who: &Principal) -> Result<Verification, AppError> {
    who.require_admin()?;
    verify(c)
}

/// Recomputes every convoy's chain from its stored content, and compares the heads every
/// published revision recorded: a few convoys at a time, in one consistent read, so
/// memory stays flat however long the ledger.
#[tracing::instrument(skip_all)]
pub fn verify(c: &mut DbConn) -> Result<Verification, AppError> {
    let v = read_snapshot(c, |c| {
        let mut check = SnapshotCheck::new(recorded(c)?);
        // Claims are outside the chains and the database keeps no hash of them: they are
        // counted here, and hashed when exported.
        let mut v = Verification {
            snapshots_checked: check.len(),
            claims_checked: u64::try_from(claims::count_claims(c)?).unwrap_or_default(),
            ..Verification::default()
        };
        let mut after: Option<String> = None;
        loop {
            let ids = chain::convoy_page(c, after.as_deref(), PAGE)?;
            let Some(last) = ids.last().cloned() else {
                break;
            };
            for cc in chain::load_chains(c, &ids)? {
                let record = convoy_record(&cc.convoy, &cc.manifest);
                let mut walk = Walk::start(&record, cc.convoy.chain_genesis.as_deref());
                for (row, lines) in &cc.events {
                    walk.step(&event_record(row, lines), row.chain_sha256.as_deref(), None);
                }
                let walk = walk.finish(Some(cc.convoy.chain_head.as_deref()));
                v.convoys_checked += 1;
                v.events_checked += walk.events;
                for f in &walk.faults {
                    v.add(Mismatch::from_fault(f, None));
                }
                check.convoy(&cc.convoy.id, &walk);
            }
            after = Some(last);
        }
        v.snapshots = check.finish();
        Ok::<_, AppError>(v.settle())
    })?;
    if v.ok {
        tracing::info!(
            convoys = v.convoys_checked,
            events = v.events_checked,
            "ledger verified: every chain matches"
        );
    } else {
        tracing::warn!(
            mismatches = v.mismatch_count,
            snapshots = v.snapshots.len(),
            first = v.first_mismatch.as_ref().map(|m| m.message.as_str()),
            "ledger verification found mismatches"
        );
    }
    Ok(v)
}
