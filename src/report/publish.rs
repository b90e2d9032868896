//! Publication: a frozen snapshot of a week's report with the SHA-256 of its canonical
//! JSON. A week whose figures change after publication gets a new revision; old
//! revisions stay readable. Several instances publish each revision once.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sha2::{Digest, Sha256};

use crate::app::error::AppError;
use crate::db::{now_micros, write_tx, DbConn};
use crate::domain::claims::Share;
use crate::domain::week::{self, IsoWeek};
use crate::report::build::{build, ScopeFilter};
use crate::report::render;
use crate::store::chain;
use crate::store::reports::{self, SnapshotRow};

/// The outcome of a publication request.
pub struct Published {
    pub snapshot: SnapshotRow,
    /// False when the latest revision already had exactly this content.
    pub new_revision: bool,
}

/// Publishes week `w` now: a new revision if its content differs from the latest one.
pub fn publish(
    c: &mut DbConn,
    tz: Tz,
    share: Share,
    w: IsoWeek,
    by: &str,
) -> Result<Published, AppError> {
    let key = w.key();
    let result = write_tx(c, |c| {
        let report = build(c, tz, share, w, &ScopeFilter::default())?;
        let body = render::canonical_json(&report);
        let sha256 = hex::encode(Sha256::digest(body.as_bytes()));
        let latest = reports::latest_snapshot(c, &key)?;
        reports::clear_dirty(c, &key)?;
        if let Some(latest) = latest.as_ref().filter(|l| l.sha256 == sha256) {
            return Ok(Published {
                snapshot: latest.clone(),
                new_revision: false,
            });
        }
        let model = serde_json::to_string(&report).map_err(|e| AppError::Internal(e.into()))?;
        // The chains the figures were computed from, so that a later rewrite of any of
        // them shows (`aidflow verify`).
        let (start, end) = w.bounds(tz);
        let heads = chain::week_heads(c, start.timestamp_micros(), end.timestamp_micros())?;
        let chain_root = chain::root_of(&heads);
        let chain_heads =
            serde_json::to_string(&heads).map_err(|e| AppError::Internal(e.into()))?;
        let row = SnapshotRow {
            week: key.clone(),
            revision: latest.map(|l| l.revision + 1).unwrap_or(1),
            timezone: tz.name().to_string(),
            sha256,
            body,
            model,
            published_at: now_micros(),
            published_by: by.to_string(),
            chain_heads: Some(chain_heads),
            chain_root: Some(chain_root),
        };
        reports::insert_snapshot(c, &row)?;
        let data = serde_json::json!({
            "week": row.week, "revision": row.revision, "sha256": row.sha256,
            "chain_root": row.chain_root,
            "summary": report.summary,
            "url": format!("/api/v1/reports/weekly/{}?revision={}", row.week, row.revision),
        });
        let text = format!(
            "aidflow: weekly report {} published (revision {}). {}",
            row.week, row.revision, report.summary
        );
        crate::store::webhooks::enqueue(
            c,
            "report.published",
            &row.week,
            None,
            "report",
            data,
            &text,
        )?;
        tracing::info!(week = %row.week, revision = row.revision, sha256 = %row.sha256, by, "weekly report published");
        Ok(Published {
            snapshot: row,
            new_revision: true,
        })
    });
    match result {
        // Another instance inserted this revision first: it is published once.
        Err(AppError::Conflict(_)) => {
            let snapshot = reports::latest_snapshot(c, &key)?
                .ok_or_else(|| AppError::Internal(anyhow::anyhow!("snapshot of {key} vanished")))?;
            Ok(Published {
                snapshot,
                new_revision: false,
            })
        }
        other => other,
    }
}

pub use crate::domain::week::Schedule;

/// One pass of the publisher: publishes the week just ended once its publication time
/// has passed, and re-publishes weeks whose figures changed after publication. Returns
/// the (week, revision) of every new revision.
pub fn tick(
    c: &mut DbConn,
    tz: Tz,
    share: Share,
    now: DateTime<Utc>,
    schedule: Schedule,
) -> Result<Vec<(String, i32)>, AppError> {
    let mut made = Vec::new();
    let previous = week::previous_week(now, tz);
    if week::publication_due(now, tz, schedule.weekday, schedule.hour, schedule.minute)
        && reports::latest_snapshot(c, &previous.key())?.is_none()
    {
        let p = publish(c, tz, share, previous, "scheduler")?;
        if p.new_revision {
            made.push((p.snapshot.week, p.snapshot.revision));
        }
    }
    for key in reports::dirty_weeks(c)? {
        let Ok(w) = IsoWeek::parse(&key) else {
            reports::clear_dirty(c, &key)?;
            continue;
        };
        let p = publish(c, tz, share, w, "scheduler (late data)")?;
        if p.new_revision {
            made.push((p.snapshot.week, p.snapshot.revision));
        }
    }
    Ok(made)
}
