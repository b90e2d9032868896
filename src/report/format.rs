//! The formats a weekly report is served in, and writing a report in one of them.
//! The API and the command line name formats the same way, so both read them here.

use crate::report::model::WeeklyReport;
use crate::report::render;

/// A format a report can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    Hxl,
    Html,
}

impl Format {
    /// The format of a name as clients write it (`format=json`, `--format hxl`);
    /// `None` for anything else, so each caller can say how to fix it.
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "json" => Some(Format::Json),
            "csv" => Some(Format::Csv),
            "hxl" => Some(Format::Hxl),
            "html" => Some(Format::Html),
            _ => None,
        }
    }

    /// The media type of a body in this format. HXL is served as CSV, which is what it
    /// is: spreadsheet tools open it as such.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Csv | Format::Hxl => "text/csv; charset=utf-8",
            Format::Html => "text/html; charset=utf-8",
        }
    }

    /// The file name extension of a download in this format; `hxl.csv` so that an HXL
    /// file still opens as CSV.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Hxl => "hxl.csv",
            Format::Html => "html",
        }
    }
}

/// Renders a report in a format: (content type, body).
pub fn render_as(report: &WeeklyReport, format: Format) -> (&'static str, String) {
    let body = match format {
        Format::Json => render::to_json(report).to_string(),
        Format::Csv => render::to_csv(report),
        Format::Hxl => render::to_hxl_csv(report),
        Format::Html => render::to_html(report),
    };
    (format.content_type(), body)
}
