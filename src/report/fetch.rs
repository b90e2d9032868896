//! Fetching a week's report, for the API and the command line alike: built now from
//! the live figures, or a published revision exactly as it was frozen.

use chrono_tz::Tz;

use crate::app::error::AppError;
use crate::db::DbConn;
use crate::domain::claims::Share;
use crate::domain::week::IsoWeek;
use crate::report::build::{build, ScopeFilter};
use crate::report::format::{render_as, Format};
use crate::report::model::WeeklyReport;
use crate::store::reports::{self, SnapshotRow};

/// The week of a request, e.g. `2023-W31`; a bad week is a field error on `week`, so
/// that it reads the same wherever the week came from.
pub fn parse_week(s: &str) -> Result<IsoWeek, AppError> {
    let week = IsoWeek::parse(s).map_err(|e| AppError::field("week", e.to_string()))?;
    crate::domain::time::check_year(week.year()).map_err(|e| AppError::field("week", e))?;
    Ok(week)
}

/// Which figures of a week to fetch.
#[derive(Debug, Clone)]
pub enum Source {
    /// Built now, within these filters.
    Live(ScopeFilter),
    /// This published revision. A revision covers the whole corridor, so it takes no
    /// filters: the type keeps callers from asking for a filtered snapshot.
    Published(i32),
}

/// A week's report as fetched, before it is written in a format.
#[derive(Debug, Clone)]
pub enum Fetched {
    /// Built now from the current figures (boxed: a report is several times the size of
    /// a snapshot row, which is mostly pointers to its text).
    Live(Box<WeeklyReport>),
    /// A published revision: its canonical JSON and the model it was rendered from.
    Published(SnapshotRow),
}

/// Fetches the report of week `w` (time zone `tz`, claims disputed beyond `share`) from
/// `source`. `Ok(None)` means
/// the week has no such published revision; each caller words that for its users.
pub fn fetch(
    c: &mut DbConn,
    tz: Tz,
    share: Share,
    w: IsoWeek,
    source: &Source,
) -> Result<Option<Fetched>, AppError> {
    Ok(match source {
        Source::Live(filter) => Some(Fetched::Live(Box::new(build(c, tz, share, w, filter)?))),
        Source::Published(revision) => {
            reports::snapshot(c, &w.key(), *revision)?.map(Fetched::Published)
        }
    })
}

impl Fetched {
    /// The revision number and SHA-256 of a published report; `None` for live figures.
    pub fn revision(&self) -> Option<(i32, &str)> {
        match self {
            Fetched::Live(_) => None,
            Fetched::Published(snap) => Some((snap.revision, &snap.sha256)),
        }
    }

    /// The report in `format`: (content type, body). A revision's JSON is its stored
    /// canonical bytes, so that a client can check them against the published SHA-256;
    /// its other formats are rendered from the model stored with it.
    ///
    /// Fails when that stored model does not parse (a bug), and with `NotFound` for the
    /// long form of a revision published before the report kept its route ×
    /// organization × commodity lines: frozen figures cannot be cut again.
    pub fn render(&self, format: Format) -> Result<(&'static str, String), AppError> {
        let rendered = match self {
            Fetched::Live(report) => render_as(report, format),
            Fetched::Published(snap) if format == Format::Json => {
                Some((format.content_type(), snap.body.clone()))
            }
            Fetched::Published(snap) => {
                let report: WeeklyReport =
                    serde_json::from_str(&snap.model).map_err(|e| AppError::Internal(e.into()))?;
                render_as(&report, format)
            }
        };
        rendered.ok_or_else(|| match self {
            Fetched::Published(snap) => AppError::NotFound(format!(
                "revision {} of {} was published before reports kept their figures by route, \
                 organization and commodity, so it has no long form; use format=hxl for this \
                 revision, or the live report",
                snap.revision, snap.week
            )),
            Fetched::Live(_) => AppError::internal("a live report without its detail lines"),
        })
    }
}
