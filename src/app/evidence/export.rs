//! The evidence export: the whole ledger as JSON Lines, one record per line, written as
//! it is read (a few convoys at a time, in one consistent read), so that a third party
//! can recompute every chain and every convoy's figures from the file alone
//! (`aidflow verify --file`). The records, in order: `header`; the reference data
//! (`organization`, `checkpoint`, `commodity`, `route` with its checkpoints); every
//! published revision that recorded chain heads (`snapshot`); each convoy (`convoy`,
//! with its manifest, chain, stated figures and stated dispute) followed by its events
//! (`event`, with lines, the link before and its own link; a correction is an event with
//! `corrects`) and its claims (`claim`, each with its own hash, outside the chain); and
//! `end` with the counts and the digest over every claim's hash. docs/src/evidence.md
//! describes every field.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;

use serde::Serialize;

use crate::app::error::AppError;
use crate::app::evidence::{StatedDispute, StatedFigures};
use crate::db::{read_snapshot, DbConn};
use crate::domain::chain::{ConvoyRecord, EventRecord};
use crate::domain::claim_hash::{claim_sha256, ClaimRecord, ClaimsDigest};
use crate::domain::claims::Share;
use crate::domain::time::rfc3339;
use crate::store::chain::{self, convoy_record, event_record, Head};
use crate::store::claims::{claim_record, claims_of, ClaimRow};
use crate::store::{reference, reports};

/// The export format's name and version, in its header. Version 2 added claims.
pub const FORMAT: &str = "aidflow-ledger";
pub const VERSION: u32 = 2;

/// Who made the export, for its header.
#[derive(Debug, Clone, Serialize)]
pub struct Instance {
    pub software: &'static str,
    pub version: &'static str,
    pub backend: &'static str,
    pub timezone: String,
}

impl Instance {
    pub fn new(backend: &'static str, timezone: &str) -> Instance {
        Instance {
            software: "aidflow",
            version: env!("CARGO_PKG_VERSION"),
            backend,
            timezone: timezone.to_string(),
        }
    }
}

/// How many records of each kind an export holds (its `end` record).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Counts {
    pub convoys: u64,
    pub events: u64,
    pub snapshots: u64,
    pub claims: u64,
}

/// The last record: the counts, and the digest over every claim's hash in file order
/// (`domain::claim_hash`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct End {
    #[serde(flatten)]
    pub counts: Counts,
    pub claims_sha256: String,
}

#[derive(Serialize)]
struct Tagged<'a, T: Serialize> {
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(flatten)]
    body: T,
}

#[derive(Serialize)]
struct Header<'a> {
    format: &'a str,
    version: u32,
    exported_at: String,
    instance: &'a Instance,
    chain: &'a str,
    claims: &'a str,
    /// The setting `claims.dispute_percent` the convoys' `dispute` was computed with.
    dispute_percent: String,
}

#[derive(Serialize)]
struct Organization<'a> {
    id: &'a str,
    slug: &'a str,
    name: &'a str,
}

#[derive(Serialize)]
struct Checkpoint<'a> {
    id: &'a str,
    code: &'a str,
    name: &'a str,
    lat: Option<f64>,
    lon: Option<f64>,
    max_dwell_minutes: i32,
}

#[derive(Serialize)]
struct Commodity<'a> {
    id: &'a str,
    code: &'a str,
    name: &'a str,
    density_mg_per_l: Option<i64>,
}

#[derive(Serialize)]
struct Route<'a> {
    id: &'a str,
    code: &'a str,
    name: &'a str,
    /// In travel order.
    checkpoints: Vec<Stop<'a>>,
}

#[derive(Serialize)]
struct Stop<'a> {
    checkpoint_id: &'a str,
    leg_minutes: i32,
}

#[derive(Serialize)]
struct Snapshot<'a> {
    week: &'a str,
    revision: i32,
    sha256: &'a str,
    chain_root: Option<&'a str>,
    chain_heads: &'a BTreeMap<String, Head>,
}

#[derive(Serialize)]
struct Convoy<'a> {
    #[serde(flatten)]
    record: &'a ConvoyRecord,
    chain_genesis: Option<&'a str>,
    chain_head: Option<&'a str>,
    figures: StatedFigures,
    dispute: StatedDispute,
}

#[derive(Serialize)]
struct Claim<'a> {
    #[serde(flatten)]
    record: &'a ClaimRecord,
    sha256: &'a str,
}

#[derive(Serialize)]
struct Event<'a> {
    #[serde(flatten)]
    record: &'a EventRecord,
    prev_sha256: Option<&'a str>,
    chain_sha256: Option<&'a str>,
}

fn line<T: Serialize>(out: &mut dyn Write, kind: &str, body: T) -> Result<(), AppError> {
    serde_json::to_writer(&mut *out, &Tagged { kind, body })
        .map_err(|e| AppError::Internal(anyhow::anyhow!("writing the export: {e}")))?;
    out.write_all(b"\n")
        .map_err(|e| AppError::Internal(anyhow::anyhow!("writing the export: {e}")))
}

/// How many convoys the export reads at a time.
const PAGE: i64 = 200;

/// Writes the whole ledger and its claims to `out` as JSON Lines; `share` is the
/// threshold the convoys' disputes are computed with.
#[tracing::instrument(skip_all)]
pub fn export(
    c: &mut DbConn,
    out: &mut dyn Write,
    instance: &Instance,
    share: Share,
) -> Result<Counts, AppError> {
    read_snapshot(c, |c| {
        let mut counts = Counts::default();
        let mut digest = ClaimsDigest::new();
        line(
            out,
            "header",
            Header {
                format: FORMAT,
                version: VERSION,
                exported_at: rfc3339(crate::db::now_micros()),
                instance,
                chain: "one SHA-256 chain per convoy: genesis = SHA-256(64 zeros || canonical convoy), link = SHA-256(hex link before || canonical event)",
                claims: "outside the chains: each claim's sha256 = SHA-256(canonical claim); the end record's claims_sha256 = SHA-256(hex sha256 of every claim, joined in file order)",
                dispute_percent: share.percent().to_string(),
            },
        )?;
        reference_data(c, out)?;
        for r in reports::recorded_heads(c)? {
            let heads: BTreeMap<String, Head> =
                serde_json::from_str(r.chain_heads.as_deref().unwrap_or("{}"))
                    .map_err(|e| AppError::Internal(e.into()))?;
            line(
                out,
                "snapshot",
                Snapshot {
                    week: &r.week,
                    revision: r.revision,
                    sha256: &r.sha256,
                    chain_root: r.chain_root.as_deref(),
                    chain_heads: &heads,
                },
            )?;
            counts.snapshots += 1;
        }
        let mut after: Option<String> = None;
        loop {
            let ids = chain::convoy_page(c, after.as_deref(), PAGE)?;
            let Some(last) = ids.last().cloned() else {
                break;
            };
            let mut claims: HashMap<String, Vec<ClaimRow>> = HashMap::new();
            for r in claims_of(c, &ids)? {
                claims.entry(r.convoy_id.clone()).or_default().push(r);
            }
            for cc in chain::load_chains(c, &ids)? {
                let record = convoy_record(&cc.convoy, &cc.manifest);
                let theirs = claims.remove(&cc.convoy.id).unwrap_or_default();
                let kgs: Vec<i64> = theirs.iter().map(|r| r.kg).collect();
                let row = &cc.convoy;
                line(
                    out,
                    "convoy",
                    Convoy {
                        record: &record,
                        chain_genesis: row.chain_genesis.as_deref(),
                        chain_head: row.chain_head.as_deref(),
                        figures: StatedFigures::of_row(row),
                        dispute: StatedDispute::of(
                            &row.status,
                            row.planned_kg,
                            row.loaded_kg,
                            &kgs,
                            share,
                        ),
                    },
                )?;
                counts.convoys += 1;
                let mut prev = cc.convoy.chain_genesis.as_deref();
                for (row, lines) in &cc.events {
                    line(
                        out,
                        "event",
                        Event {
                            record: &event_record(row, lines),
                            prev_sha256: prev,
                            chain_sha256: row.chain_sha256.as_deref(),
                        },
                    )?;
                    prev = row.chain_sha256.as_deref();
                    counts.events += 1;
                }
                for r in &theirs {
                    let record = claim_record(r);
                    let sha256 = claim_sha256(&record);
                    digest.push(&sha256);
                    line(
                        out,
                        "claim",
                        Claim {
                            record: &record,
                            sha256: &sha256,
                        },
                    )?;
                    counts.claims += 1;
                }
            }
            after = Some(last);
        }
        line(
            out,
            "end",
            End {
                counts,
                claims_sha256: digest.finish(),
            },
        )?;
        out.flush()
            .map_err(|e| AppError::Internal(anyhow::anyhow!("writing the export: {e}")))?;
        Ok(counts)
    })
}

/// Organizations, checkpoints, commodities and routes with their checkpoints in order.
fn reference_data(c: &mut DbConn, out: &mut dyn Write) -> Result<(), AppError> {
    let all = i64::from(i32::MAX);
    for o in reference::list_organizations(c, None, all)?.items {
        line(
            out,
            "organization",
            Organization {
                id: &o.id,
                slug: &o.slug,
                name: &o.name,
            },
        )?;
    }
    for p in reference::list_checkpoints(c, None, all)?.items {
        line(
            out,
            "checkpoint",
            Checkpoint {
                id: &p.id,
                code: &p.code,
                name: &p.name,
                lat: p.lat,
                lon: p.lon,
                max_dwell_minutes: p.max_dwell_minutes,
            },
        )?;
    }
    for m in reference::list_commodities(c, None, all)?.items {
        line(
            out,
            "commodity",
            Commodity {
                id: &m.id,
                code: &m.code,
                name: &m.name,
                density_mg_per_l: m.density_mg_per_l,
            },
        )?;
    }
    for r in reference::list_routes(c, None, all)?.items {
        line(
            out,
            "route",
            Route {
                id: &r.row.id,
                code: &r.row.code,
                name: &r.row.name,
                checkpoints: r
                    .stops
                    .iter()
                    .map(|s| Stop {
                        checkpoint_id: &s.checkpoint.id,
                        leg_minutes: s.leg_minutes,
                    })
                    .collect(),
            },
        )?;
    }
    Ok(())
}
