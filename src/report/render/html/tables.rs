//! The tables of the HTML page's sections: breakdowns, checkpoints, convoys due,
//! stalled convoys, disputed figures and alerts, and the cells they are made of.

use crate::domain::quantity::Kg;
use crate::report::model::{AlertLine, Breakdown, CheckpointBreakdown, ConvoyLine, DisputedConvoy};
use crate::report::render::{
    group_thousands, html_escape, human_time, humanize_code, percent_string, tonnes_human,
};

fn th(label: &str) -> String {
    format!("<th>{}</th>", html_escape(label))
}

fn th_num(label: &str) -> String {
    format!("<th class=\"num\">{}</th>", html_escape(label))
}

fn td(text: &str) -> String {
    format!("<td>{}</td>", html_escape(text))
}

fn td_t(kg: Kg) -> String {
    format!("<td class=\"num\">{}</td>", tonnes_human(kg))
}

fn td_n(n: i64) -> String {
    format!(
        "<td class=\"num\">{}</td>",
        group_thousands(n.unsigned_abs())
    )
}

/// A truck figure, with the convoys it leaves out beneath it when there are any:
/// `19` / `21 (1 convoy without a number)`.
fn td_trucks(n: i64, left_out: i64, why: &str) -> String {
    let count = group_thousands(n.unsigned_abs());
    match left_out {
        0 => format!("<td class=\"num\">{count}</td>"),
        1 => format!("<td class=\"num\">{count}<span class=\"key\">1 convoy {why}</span></td>"),
        k => format!("<td class=\"num\">{count}<span class=\"key\">{k} convoys {why}</span></td>"),
    }
}

fn td_opt_t(kg: Option<Kg>) -> String {
    match kg {
        Some(kg) => td_t(kg),
        None => "<td class=\"num\">—</td>".to_string(),
    }
}

fn badge(code: &str) -> String {
    let class: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    format!(
        "<span class=\"badge {class}\">{}</span>",
        html_escape(&humanize_code(code))
    )
}

/// A table with a header row and body rows (each already `<td>` cells);
/// `empty` is shown in one spanning cell when there are no rows.
fn table(class: &str, headers: &[String], rows: &[String], empty: &str) -> String {
    let mut out = format!("<table class=\"{class}\"><thead><tr>");
    for h in headers {
        out.push_str(h);
    }
    out.push_str("</tr></thead><tbody>");
    if rows.is_empty() {
        out.push_str(&format!(
            "<tr><td class=\"empty\" colspan=\"{}\">{}</td></tr>",
            headers.len(),
            html_escape(empty)
        ));
    }
    for row in rows {
        out.push_str("<tr>");
        out.push_str(row);
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    out
}

fn name_cell(name: &str, key: &str) -> String {
    if key.is_empty() || key == name {
        td(name)
    } else {
        format!(
            "<td>{}<span class=\"key\">{}</span></td>",
            html_escape(name),
            html_escape(key)
        )
    }
}

pub(super) fn breakdown_html(title: &str, label: &str, items: &[Breakdown]) -> String {
    let mut headers = vec![
        th(label),
        th_num("Requirement"),
        th_num("Planned"),
        th_num("Delivered"),
        th_num("Delivered during week"),
        th_num("Shortfall vs plan"),
        th_num("Denied"),
        th_num("Lost"),
    ];
    // Route rows count trucks; organization and commodity rows do not.
    let trucks = items.iter().any(|b| b.trucks.is_some());
    if trucks {
        headers.extend([th_num("Trucks planned"), th_num("Trucks arrived")]);
    }
    let rows: Vec<String> = items
        .iter()
        .map(|b| {
            let mut cells = vec![
                name_cell(&b.name, &b.key),
                td_opt_t(b.requirement),
                td_t(b.planned),
                td_t(b.delivered),
                td_t(b.delivered_during_week),
                td_t(b.shortfall),
                td_t(b.denied),
                td_t(b.lost),
            ];
            if trucks {
                let t = b.trucks.unwrap_or_default();
                cells.push(td_trucks(
                    t.planned,
                    t.convoys_without_planned,
                    "without a number",
                ));
                cells.push(td_trucks(
                    t.arrived,
                    t.convoys_arrived_uncounted,
                    "not counted",
                ));
            }
            cells.concat()
        })
        .collect();
    format!(
        "<section><h2>{}</h2>{}</section>",
        html_escape(title),
        table("breakdown", &headers, &rows, "Nothing in this week.")
    )
}

pub(super) fn checkpoint_html(items: &[CheckpointBreakdown]) -> String {
    let mut headers = vec![
        th("Checkpoint"),
        th_num("Denied"),
        th("Lost, by reason"),
        th_num("Lost in total"),
        th_num("Held there now"),
    ];
    let trucks = items.iter().any(|c| c.trucks.is_some());
    if trucks {
        headers.extend([
            th_num("Trucks arrived"),
            th_num("Trucks passed"),
            th_num("Trucks held"),
            th_num("Trucks turned back"),
        ]);
    }
    let rows: Vec<String> = items
        .iter()
        .map(|c| {
            let reasons = if c.lost.is_empty() {
                "—".to_string()
            } else {
                c.lost
                    .iter()
                    .map(|r| {
                        format!(
                            "{}: {}",
                            html_escape(&humanize_code(&r.reason)),
                            tonnes_human(r.kg)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("<br>")
            };
            let mut cells = vec![
                name_cell(&c.name, &c.checkpoint),
                td_t(c.denied),
                format!("<td>{reasons}</td>"),
                td_t(c.lost_total),
                td_t(c.held_now),
            ];
            if trucks {
                let t = c.trucks.unwrap_or_default();
                cells.extend([
                    td_n(t.arrived),
                    td_n(t.passed),
                    td_n(t.held),
                    td_n(t.turned_back),
                ]);
            }
            cells.concat()
        })
        .collect();
    format!(
        "<section><h2>By checkpoint</h2>{}</section>",
        table(
            "list",
            &headers,
            &rows,
            "No cargo was denied, lost or held at a checkpoint, and no truck was counted at one."
        )
    )
}

fn route_cell(c: &ConvoyLine) -> String {
    format!(
        "<td>{} → {}<span class=\"key\">{}</span></td>",
        html_escape(&c.origin),
        html_escape(&c.destination),
        html_escape(&c.route)
    )
}

fn reference_cell(c: &ConvoyLine) -> String {
    let trucks = match c.trucks {
        Some(1) => "1 truck".to_string(),
        Some(n) => format!("{n} trucks"),
        None => String::new(),
    };
    format!(
        "<td class=\"ref\">{}<span class=\"key\">{}</span></td>",
        html_escape(&c.reference),
        html_escape(&trucks)
    )
}

fn last_seen(c: &ConvoyLine) -> String {
    match (&c.last_checkpoint, &c.last_seen_at) {
        (Some(cp), Some(at)) => format!(
            "<td>{}<span class=\"key\">{}</span></td>",
            html_escape(cp),
            html_escape(&human_time(at))
        ),
        (Some(cp), None) => td(cp),
        (None, Some(at)) => td(&human_time(at)),
        (None, None) => td("—"),
    }
}

pub(super) fn convoys_html(items: &[ConvoyLine]) -> String {
    let headers = vec![
        th("Convoy"),
        th("Organization"),
        th("Route"),
        th("Expected arrival"),
        th("Status"),
        th("Last seen"),
        th_num("Planned"),
        th_num("Delivered"),
        th_num("Outstanding"),
    ];
    let rows: Vec<String> = items
        .iter()
        .map(|c| {
            [
                reference_cell(c),
                td(&c.organization),
                route_cell(c),
                td(&human_time(&c.expected_arrival)),
                format!("<td>{}</td>", badge(&c.status)),
                last_seen(c),
                td_t(c.planned),
                td_t(c.delivered),
                td_t(c.outstanding),
            ]
            .concat()
        })
        .collect();
    format!(
        "<section><h2>Convoys due this week</h2>{}</section>",
        table(
            "list",
            &headers,
            &rows,
            "No convoy was due to arrive in this week."
        )
    )
}

pub(super) fn stalled_html(items: &[ConvoyLine]) -> String {
    let headers = vec![
        th("Convoy"),
        th("Organization"),
        th("Route"),
        th("Status"),
        th("Held at"),
        th("Held since"),
        th("Expected arrival"),
        th_num("On board"),
    ];
    let rows: Vec<String> = items
        .iter()
        .map(|c| {
            [
                reference_cell(c),
                td(&c.organization),
                route_cell(c),
                format!("<td>{}</td>", badge(&c.status)),
                td(c.last_checkpoint.as_deref().unwrap_or("—")),
                td(&c.held_since.as_deref().map_or("—".to_string(), human_time)),
                td(&human_time(&c.expected_arrival)),
                td_t(c.outstanding),
            ]
            .concat()
        })
        .collect();
    format!(
        "<section><h2>Stalled convoys at the end of the week</h2>{}</section>",
        table(
            "list",
            &headers,
            &rows,
            "No convoy was held or stalled at the end of the week."
        )
    )
}

/// The convoys whose sources disagree: the ledger's figure, each claim, the spread.
pub(super) fn disputed_html(items: &[DisputedConvoy]) -> String {
    let headers = vec![
        th("Convoy"),
        th("Organization"),
        th_num("Logged"),
        th("Claims (source: tonnes, published)"),
        th_num("Spread"),
    ];
    let rows: Vec<String> = items
        .iter()
        .map(|d| {
            let claims: Vec<String> = d
                .claims
                .iter()
                .map(|c| {
                    format!(
                        "<li>{}: {} <span class=\"key\">{}</span></li>",
                        html_escape(&c.source),
                        tonnes_human(c.tonnes),
                        html_escape(&human_time(&c.published_at))
                    )
                })
                .collect();
            let spread = d
                .spread_percent
                .map_or("—".to_string(), |p| format!("{} %", percent_string(p)));
            [
                format!("<td class=\"ref\">{}</td>", html_escape(&d.reference)),
                td(&d.organization_name),
                format!(
                    "<td class=\"num\">{}<span class=\"key\">{}</span></td>",
                    tonnes_human(d.logged),
                    html_escape(&d.logged_figure)
                ),
                format!("<td><ul class=\"claims\">{}</ul></td>", claims.concat()),
                format!("<td class=\"num\">{}</td>", html_escape(&spread)),
            ]
            .concat()
        })
        .collect();
    let threshold = items
        .first()
        .map(|d| format!(" (by more than {} %)", d.threshold_percent.normalize()))
        .unwrap_or_default();
    format!(
        "<section><h2>Disputed figures</h2><p class=\"meta\">Convoys due this week whose sources disagree with each other or with the logged figure{}. Claims never change the ledger's figures.</p>{}</section>",
        html_escape(&threshold),
        table(
            "list",
            &headers,
            &rows,
            "No convoy due this week has disputed figures."
        )
    )
}

pub(super) fn alerts_html(items: &[AlertLine]) -> String {
    if items.is_empty() {
        return "<section><h2>Alerts opened this week</h2><p class=\"empty\">No alerts were opened in this week.</p></section>".to_string();
    }
    let headers = vec![
        th("Opened"),
        th("Severity"),
        th("Rule"),
        th("Subject"),
        th("Message"),
    ];
    let rows: Vec<String> = items
        .iter()
        .map(|a| {
            [
                td(&human_time(&a.opened_at)),
                format!("<td>{}</td>", badge(&a.severity)),
                td(&humanize_code(&a.rule)),
                td(&a.subject),
                td(&a.message),
            ]
            .concat()
        })
        .collect();
    format!(
        "<section><h2>Alerts opened this week</h2>{}</section>",
        table("list", &headers, &rows, "")
    )
}
