//! The formats a weekly report is served in, and writing a report in one of them.
//! The API and the command line name formats the same way, so both read them here.

use crate::report::model::WeeklyReport;
use crate::report::render;

/// A format a report can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    /// HXL-tagged CSV, the wide table: the CSV's rows with hashtags.
    Hxl,
    /// HXL-tagged CSV, the tidy long form: one row per route × organization × commodity.
    HxlLong,
    Html,
}

impl Format {
    /// Every format's name, as the messages list them.
    pub const NAMES: &'static str = "json, csv, hxl, hxl-long or html";

    /// The format of a name as clients write it (`format=json`, `--format hxl-long`);
    /// `None` for anything else, so each caller can say how to fix it.
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "json" => Some(Format::Json),
            "csv" => Some(Format::Csv),
            "hxl" => Some(Format::Hxl),
            "hxl-long" => Some(Format::HxlLong),
            "html" => Some(Format::Html),
            _ => None,
        }
    }

    /// The media type of a body in this format. HXL is served as CSV, which is what it
    /// is: spreadsheet tools open it as such.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Csv | Format::Hxl | Format::HxlLong => "text/csv; charset=utf-8",
            Format::Html => "text/html; charset=utf-8",
        }
    }

    /// The file name extension of a download in this format; `hxl.csv` so that an HXL
    /// file still opens as CSV, and `long.hxl.csv` for the long form.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Hxl => "hxl.csv",
            Format::HxlLong => "long.hxl.csv",
            Format::Html => "html",
        }
    }
}

/// Renders a report in a format: (content type, body). `None` when the report lacks
/// what the format needs: the long form of a revision published before the report kept
/// its route × organization × commodity lines.
pub fn render_as(report: &WeeklyReport, format: Format) -> Option<(&'static str, String)> {
    let body = match format {
        Format::Json => render::to_json(report).to_string(),
        Format::Csv => render::to_csv(report),
        Format::Hxl => render::to_hxl_csv(report),
        Format::HxlLong => render::to_hxl_long(report)?,
        Format::Html => render::to_html(report),
    };
    Some((format.content_type(), body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_name_parses_and_nothing_else() {
        for name in Format::NAMES.replace(" or ", ", ").split(", ") {
            assert!(Format::parse(name).is_some(), "{name}");
        }
        for bad in ["xml", "HXL", "hxl_long", "long", ""] {
            assert_eq!(Format::parse(bad), None, "{bad}");
        }
        assert_eq!(Format::HxlLong.extension(), "long.hxl.csv");
        assert!(Format::HxlLong.content_type().starts_with("text/csv"));
    }
}
