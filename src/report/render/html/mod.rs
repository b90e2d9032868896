//! The report as a printable, self-contained HTML page.

mod tables;

use self::tables::{
    alerts_html, breakdown_html, checkpoint_html, convoys_html, disputed_html, stalled_html,
};
use super::chart::history_svg;
use super::{
    date_range, group_thousands, html_escape, long_date, percent_string, short_week, tonnes_human,
};
use crate::report::model::WeeklyReport;

const CSS: &str = r#"
:root { --ink: #1b1f24; --muted: #59636e; --line: #d8dee4; --head: #f3f5f7;
  --req: #b3bac2; --plan: #5b9bd5; --deliv: #1a7f37; --short: #c62828; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0; color: var(--ink); background: #fff;
  font: 14px/1.45 "DejaVu Sans", "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 32px 32px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
.meta { color: var(--muted); margin: 0 0 16px; }
.summary { margin: 16px 0 20px; padding: 14px 18px; border: 1px solid #f0b4b4;
  border-left: 6px solid var(--short); background: #fff5f5; font-size: 18px; font-weight: 600; }
.summary p { margin: 0; }
.cols { display: grid; grid-template-columns: 1fr 1fr; gap: 28px; }
.cols h2 { margin-top: 8px; }
table { width: 100%; border-collapse: collapse; font-size: 13px; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
thead th { background: var(--head); font-weight: 600; border-bottom: 1px solid #b9c1c9; }
th.num, td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
tr.strong th, tr.strong td { font-weight: 700; }
tr.total td { font-weight: 700; border-top: 2px solid #b9c1c9; }
td.ref { min-width: 8.5em; }
table.breakdown th:first-child, table.breakdown td:first-child { width: 24%; }
.key { display: block; color: var(--muted); font-size: 11px; }
.empty { color: var(--muted); font-style: italic; }
.badge { display: inline-block; padding: 0 6px; border-radius: 9px; font-size: 12px;
  white-space: nowrap; background: #eef1f4; border: 1px solid #d0d7de; }
.badge.held, .badge.turned_back, .badge.critical { background: #fde8e8; border-color: #f0b4b4; color: #8a1c1c; }
.badge.short_delivered, .badge.warning { background: #fff4dc; border-color: #efd48f; color: #6b4e00; }
.badge.delivered { background: #e6f4ea; border-color: #a8d5b5; color: #0f5323; }
.badge.in_transit { background: #e8f1fb; border-color: #b3cfee; color: #174a7c; }
figure { margin: 0; }
figure svg { display: block; width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 12px; margin-top: 4px; }
footer { margin-top: 32px; padding-top: 8px; border-top: 1px solid var(--line); color: var(--muted); font-size: 12px; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { font-size: 10pt; }
  main { max-width: none; padding: 0; }
  h2 { break-after: avoid; page-break-after: avoid; }
  table { page-break-inside: auto; }
  thead { display: table-header-group; }
  tr, th, td { break-inside: avoid; page-break-inside: avoid; }
  .summary, figure, .headline { break-inside: avoid; page-break-inside: avoid; }
  .cols { gap: 16px; }
}
"#;
fn headline_html(r: &WeeklyReport) -> String {
    let t = &r.totals;
    let coverage = match t.coverage_percent {
        Some(p) => format!("{} %", percent_string(p)),
        None => "— (no requirement)".to_string(),
    };
    let line = |label: &str, value: String, strong: bool| {
        format!(
            "<tr{}><th scope=\"row\">{}</th><td class=\"num\">{}</td></tr>",
            if strong { " class=\"strong\"" } else { "" },
            html_escape(label),
            html_escape(&value)
        )
    };
    let mut out =
        String::from("<section class=\"cols headline\"><div><h2>The week</h2><table><tbody>");
    for row in [
        line("Requirement", tonnes_human(t.requirement), false),
        line(
            "Planned (convoys due this week)",
            tonnes_human(t.planned),
            false,
        ),
        line(
            "Delivered for this week’s convoys, to date",
            tonnes_human(t.delivered),
            false,
        ),
        line(
            "Delivered during the week (any convoy)",
            tonnes_human(t.delivered_during_week),
            false,
        ),
        line(
            "Shortfall against plan",
            tonnes_human(t.shortfall_against_plan),
            true,
        ),
        line(
            "Shortfall against requirement",
            tonnes_human(t.shortfall_against_requirement),
            true,
        ),
        line("Coverage of requirement", coverage, true),
    ] {
        out.push_str(&row);
    }
    if let Some(trucks) = &r.trucks {
        let left_out = |n: i64, why: &str| match n {
            0 => String::new(),
            1 => format!(" (and 1 convoy {why})"),
            n => format!(" (and {n} convoys {why})"),
        };
        out.push_str(&line(
            "Trucks planned",
            format!(
                "{}{}",
                group_thousands(trucks.planned.unsigned_abs()),
                left_out(trucks.convoys_without_planned, "without a number")
            ),
            false,
        ));
        out.push_str(&line(
            "Trucks arrived, to date",
            format!(
                "{}{}",
                group_thousands(trucks.arrived.unsigned_abs()),
                left_out(trucks.convoys_arrived_uncounted, "not counted")
            ),
            false,
        ));
    }
    out.push_str("</tbody></table></div><div><h2>Where the planned tonnes went</h2><table><tbody>");
    for row in [
        line(
            "Short-loaded at departure",
            tonnes_human(t.short_loaded),
            false,
        ),
        line("Denied at checkpoints", tonnes_human(t.denied), false),
        line("Lost on the way", tonnes_human(t.lost), false),
        line("Rejected on receipt", tonnes_human(t.rejected), false),
        line("Still outstanding", tonnes_human(t.outstanding), true),
        line(
            "Cancelled (reported apart, not in planned)",
            tonnes_human(t.cancelled),
            false,
        ),
    ] {
        out.push_str(&row);
    }
    let c = &r.cumulative;
    let since = match c.since {
        Some(d) => format!("Since tracking began ({})", long_date(d)),
        None => "Since tracking began".to_string(),
    };
    out.push_str(&format!(
        "</tbody></table><h2>{}</h2><table><tbody>",
        html_escape(&since)
    ));
    for row in [
        line("Requirement", tonnes_human(c.requirement), false),
        line("Planned", tonnes_human(c.planned), false),
        line("Delivered", tonnes_human(c.delivered), false),
        line(
            "Shortfall against requirement",
            tonnes_human(c.shortfall_against_requirement),
            true,
        ),
        line(
            "Shortfall against plan",
            tonnes_human(c.shortfall_against_plan),
            false,
        ),
    ] {
        out.push_str(&row);
    }
    out.push_str("</tbody></table></div></section>");
    out
}

/// The printable, self-contained HTML page of the report (inline CSS and
/// SVG, no scripts, no external assets). All text from the report is
/// escaped.
pub fn to_html(r: &WeeklyReport) -> String {
    let title = format!(
        "aidflow — weekly shortfall report, {} ({})",
        r.week,
        date_range(r.starts, r.ends)
    );
    let scope = format!(
        "Route: {} · Organization: {} · Week from Monday {} to Sunday {}, local time ({}).",
        r.scope.route.as_deref().unwrap_or("all routes"),
        r.scope
            .organization
            .as_deref()
            .unwrap_or("all organizations"),
        long_date(r.starts),
        long_date(r.ends),
        r.timezone
    );
    let first = r.history.first().map(|h| short_week(&h.week)).unwrap_or("");
    let last = r.history.last().map(|h| short_week(&h.week)).unwrap_or("");
    let caption = format!(
        "Weeks {first}–{last}. Bars: tonnes per week (left axis). Line: cumulative \
         requirement minus cumulative tonnes delivered since tracking began (right axis)."
    );

    let mut out = String::with_capacity(32 * 1024);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str(&format!("<title>{}</title>\n", html_escape(&title)));
    out.push_str(&format!("<style>{CSS}</style>\n</head>\n<body>\n<main>\n"));
    out.push_str(&format!(
        "<header><h1>{}</h1><p class=\"meta\">{}</p></header>\n",
        html_escape(&title),
        html_escape(&scope)
    ));
    out.push_str(&format!(
        "<section class=\"summary\"><p>{}</p></section>\n",
        html_escape(&r.summary)
    ));
    out.push_str(&headline_html(r));
    out.push('\n');
    out.push_str(&format!(
        "<section><h2>The last {} weeks</h2><figure class=\"chart\">{}<figcaption>{}</figcaption></figure></section>\n",
        r.history.len(),
        history_svg(&r.history),
        html_escape(&caption)
    ));
    out.push_str(&breakdown_html("By route", "Route", &r.by_route));
    out.push('\n');
    out.push_str(&breakdown_html(
        "By organization",
        "Organization",
        &r.by_organization,
    ));
    out.push('\n');
    out.push_str(&breakdown_html(
        "By commodity",
        "Commodity",
        &r.by_commodity,
    ));
    out.push('\n');
    out.push_str(&checkpoint_html(&r.by_checkpoint));
    out.push('\n');
    out.push_str(&convoys_html(&r.convoys));
    out.push('\n');
    out.push_str(&stalled_html(&r.stalled));
    out.push('\n');
    out.push_str(&disputed_html(&r.disputed));
    out.push('\n');
    out.push_str(&alerts_html(&r.alerts));
    out.push('\n');
    out.push_str(
        "<footer>Generated by aidflow. Figures are exact to the kilogram; sources and every \
         event behind them are in the ledger.</footer>\n</main>\n</body>\n</html>\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::super::fixture::fixture;
    use super::*;

    #[test]
    fn html_has_summary_chart_and_escapes_text() {
        let r = fixture();
        let html = to_html(&r);
        assert!(html.contains(
            "<title>aidflow — weekly shortfall report, 2023-W31 (24–30 July 2023)</title>"
        ));
        assert!(html.contains(
            "<section class=\"summary\"><p>In week 31, 18.005 of 384.5 t planned for the Lachin route arrived; 360 t held at KORNIDZOR since 26 July.</p></section>"
        ));
        assert_eq!(html.matches("<svg ").count(), 1);
        assert_eq!(html.matches("<g class=\"week\"").count(), 12);
        assert!(html.contains(">W20</text>") && html.contains(">W31</text>"));
        assert!(html.contains("<polyline class=\"cumulative\""));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!html.contains("<script"));
        assert!(html.contains("ICRC &amp; partners"));
        assert!(html.contains(">2,800 t<"));
        assert!(html.contains("@media print"));
        assert!(!html.contains("http://") || html.matches("http://").count() == 1); // SVG namespace only
        assert!(!html.contains("https://"));
        assert!(html.contains("Generated by aidflow. Figures are exact to the kilogram; sources and every event behind them are in the ledger."));
        assert!(!html.contains("NaN") && !html.contains("inf\""));
    }

    #[test]
    fn html_lists_disputed_figures_with_each_claim_and_the_spread() {
        let html = to_html(&fixture());
        let at = html.find("<h2>Disputed figures</h2>").expect("the section");
        let section = &html[at..];
        let section = &section[..section.find("</section>").unwrap_or(section.len())];
        for shown in [
            "by more than 2 %",
            ">ARM-0726<",
            ">360 t<span class=\"key\">loaded</span>",
            "Prime minister, via ArmRadio: 360 t",
            "ArmRadio: 400 t",
            "Hetq &lt;b&gt;: 361 t",
            ">11.1 %<",
        ] {
            assert!(section.contains(shown), "{shown}: {section}");
        }
        let mut none = fixture();
        none.disputed.clear();
        assert!(to_html(&none).contains("No convoy due this week has disputed figures."));
    }

    #[test]
    fn html_shows_trucks_planned_and_arrived_by_route_and_checkpoint() {
        let html = to_html(&fixture());
        assert!(html.contains(
            "<tr><th scope=\"row\">Trucks planned</th><td class=\"num\">21 (and 1 convoy without a number)</td></tr>"
        ));
        assert!(html.contains(
            "<tr><th scope=\"row\">Trucks arrived, to date</th><td class=\"num\">2</td></tr>"
        ));
        let section = |title: &str| {
            let at = html.find(&format!("<h2>{title}</h2>")).expect(title);
            let rest = &html[at..];
            rest[..rest.find("</section>").unwrap_or(rest.len())].to_string()
        };
        let routes = section("By route");
        assert!(routes.contains(
            "<th class=\"num\">Trucks planned</th><th class=\"num\">Trucks arrived</th>"
        ));
        assert!(routes.contains(
            "<td class=\"num\">21<span class=\"key\">1 convoy without a number</span></td><td class=\"num\">2</td></tr>"
        ));
        assert!(!section("By organization").contains("Trucks"));
        let checkpoints = section("By checkpoint");
        assert!(checkpoints.contains("<th class=\"num\">Trucks turned back</th>"));
        assert!(checkpoints.contains(
            "<td class=\"num\">21</td><td class=\"num\">2</td><td class=\"num\">19</td><td class=\"num\">0</td></tr>"
        ));
    }

    #[test]
    fn html_says_when_no_alerts() {
        let mut r = fixture();
        r.alerts.clear();
        assert!(to_html(&r).contains("No alerts were opened in this week."));
        assert!(!to_html(&fixture()).contains("No alerts were opened in this week."));
    }
}
