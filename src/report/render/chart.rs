//! The 12-week history chart, as inline SVG for the HTML page.

use super::{html_escape, short_week, tonnes_human};
use crate::domain::quantity::Kg;
use crate::report::model::HistoryWeek;

/// The smallest "round" step ≥ `raw` kg, from 1, 1.2, 1.5, 2, 2.5, 3, 4, 5,
/// 6, 8 × 10ⁿ kg (whole kilograms only).
fn round_step_at_least(raw: i64) -> i64 {
    const MANTISSAS: [i64; 10] = [10, 12, 15, 20, 25, 30, 40, 50, 60, 80];
    let raw = raw.max(1);
    let mut pow: i64 = 1;
    loop {
        for m in MANTISSAS {
            let scaled = m * pow;
            if scaled % 10 == 0 && scaled / 10 >= raw {
                return scaled / 10;
            }
        }
        match pow.checked_mul(10) {
            Some(next) if next <= i64::MAX / 100 => pow = next,
            _ => return raw,
        }
    }
}

fn ceil_div(a: i64, b: i64) -> i64 {
    if b <= 0 || a <= 0 {
        0
    } else {
        (a + b - 1) / b
    }
}

/// Gridlines above and below zero needed for `[min, max]` with about five
/// intervals.
fn intervals(min: i64, max: i64) -> (i64, i64) {
    let range = max.saturating_sub(min);
    if range == 0 {
        return (0, 0);
    }
    let step = round_step_at_least(ceil_div(range, 5));
    (ceil_div(max, step), ceil_div(min.saturating_neg(), step))
}

/// The step of an axis that spans `above` intervals above zero and `below`
/// under it and must hold `[min, max]`. All-zero data gets 1 t steps.
fn fit_step(min: i64, max: i64, above: i64, below: i64) -> i64 {
    if min == 0 && max == 0 {
        return 1000;
    }
    let need_up = if above > 0 { ceil_div(max, above) } else { 0 };
    let need_down = if below > 0 {
        ceil_div(min.saturating_neg(), below)
    } else {
        0
    };
    round_step_at_least(need_up.max(need_down))
}

/// Two aligned axes: weekly tonnes on the left, cumulative shortfall on the
/// right; both share the same gridlines (`above` over zero, `below` under).
struct Axes {
    above: i64,
    below: i64,
    left_step: i64,
    right_step: i64,
}

fn axes(history: &[HistoryWeek]) -> Axes {
    let weekly = history
        .iter()
        .flat_map(|h| [h.requirement, h.planned, h.delivered]);
    let (l_min, l_max) = weekly.fold((0, 0), |(lo, hi), v| (v.min(lo), v.max(hi)));
    let (r_min, r_max) = history.iter().fold((0, 0), |(lo, hi), h| {
        (
            h.cumulative_shortfall.min(lo),
            h.cumulative_shortfall.max(hi),
        )
    });
    let (l_up, l_down) = intervals(l_min, l_max);
    let (r_up, r_down) = intervals(r_min, r_max);
    let mut above = l_up.max(r_up);
    let below = l_down.max(r_down);
    if above + below == 0 {
        above = 5;
    }
    Axes {
        above,
        below,
        left_step: fit_step(l_min, l_max, above, below),
        right_step: fit_step(r_min, r_max, above, below),
    }
}

/// Server-rendered SVG of the history weeks: grouped bars (requirement,
/// planned, delivered) against the left axis, and the cumulative shortfall
/// as a line against the right axis. Every week is a `<g class="week">`.
pub fn history_svg(history: &[HistoryWeek]) -> String {
    const W: f64 = 1000.0;
    const H: f64 = 400.0;
    const LEFT: f64 = 84.0;
    const RIGHT: f64 = 96.0;
    const TOP: f64 = 52.0;
    const BOTTOM: f64 = 44.0;
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let ax = axes(history);
    let n_int = (ax.above + ax.below) as f64;
    let unit = plot_h / n_int;
    let zero_y = TOP + unit * ax.above as f64;
    let y_left = |kg: Kg| zero_y - kg as f64 / ax.left_step as f64 * unit;
    let y_right = |kg: Kg| zero_y - kg as f64 / ax.right_step as f64 * unit;

    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {H}\" role=\"img\" \
         aria-labelledby=\"chart-title\" font-family=\"DejaVu Sans, Arial, sans-serif\" font-size=\"12\">\
         <title id=\"chart-title\">Requirement, planned and delivered tonnes per week, and cumulative shortfall, last {} weeks</title>",
        history.len()
    );
    // Gridlines and tick labels of both axes.
    for i in -ax.below..=ax.above {
        let y = zero_y - i as f64 * unit;
        let stroke = if i == 0 { "#59636e" } else { "#e3e7eb" };
        s.push_str(&format!(
            "<line x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"{stroke}\" stroke-width=\"1\"/>",
            LEFT + plot_w
        ));
        s.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#3d444d\">{}</text>",
            LEFT - 6.0,
            y + 4.0,
            tonnes_human(ax.left_step * i)
        ));
        s.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"start\" fill=\"#c62828\">{}</text>",
            LEFT + plot_w + 6.0,
            y + 4.0,
            tonnes_human(ax.right_step * i)
        ));
    }
    // Axis titles.
    s.push_str(&format!(
        "<text transform=\"translate(16 {:.1}) rotate(-90)\" text-anchor=\"middle\" fill=\"#3d444d\">Tonnes per week</text>",
        TOP + plot_h / 2.0
    ));
    s.push_str(&format!(
        "<text transform=\"translate({:.1} {:.1}) rotate(90)\" text-anchor=\"middle\" fill=\"#c62828\">Cumulative shortfall against requirement</text>",
        W - 12.0,
        TOP + plot_h / 2.0
    ));
    // Legend.
    let legend = [
        ("#b3bac2", "Requirement"),
        ("#5b9bd5", "Planned"),
        ("#1a7f37", "Delivered"),
    ];
    let mut lx = LEFT;
    for (color, label) in legend {
        s.push_str(&format!(
            "<rect x=\"{lx:.1}\" y=\"14\" width=\"14\" height=\"14\" fill=\"{color}\"/>\
             <text x=\"{:.1}\" y=\"25\" fill=\"#1b1f24\">{label}</text>",
            lx + 20.0
        ));
        lx += 40.0 + 8.0 * label.len() as f64;
    }
    s.push_str(&format!(
        "<line x1=\"{lx:.1}\" x2=\"{:.1}\" y1=\"21\" y2=\"21\" stroke=\"#c62828\" stroke-width=\"2.5\"/>\
         <circle cx=\"{:.1}\" cy=\"21\" r=\"3.5\" fill=\"#c62828\"/>\
         <text x=\"{:.1}\" y=\"25\" fill=\"#1b1f24\">Cumulative shortfall (right axis)</text>",
        lx + 24.0,
        lx + 12.0,
        lx + 30.0
    ));

    // Bars, one group per week.
    let n = history.len().max(1) as f64;
    let group_w = plot_w / n;
    let bar_w = group_w * 0.22;
    let gap = group_w * 0.03;
    let first_x = group_w * 0.5 - (3.0 * bar_w + 2.0 * gap) / 2.0;
    let mut points = Vec::with_capacity(history.len());
    for (i, h) in history.iter().enumerate() {
        let gx = LEFT + group_w * i as f64;
        let label = short_week(&h.week);
        s.push_str(&format!(
            "<g class=\"week\" data-week=\"{}\">",
            html_escape(&h.week)
        ));
        for (j, (kg, color, what)) in [
            (h.requirement, "#b3bac2", "requirement"),
            (h.planned, "#5b9bd5", "planned"),
            (h.delivered, "#1a7f37", "delivered"),
        ]
        .into_iter()
        .enumerate()
        {
            let x = gx + first_x + j as f64 * (bar_w + gap);
            let y = y_left(kg);
            let (top, height) = if y < zero_y {
                (y, zero_y - y)
            } else {
                (zero_y, y - zero_y)
            };
            s.push_str(&format!(
                "<rect x=\"{x:.1}\" y=\"{top:.1}\" width=\"{bar_w:.1}\" height=\"{height:.1}\" fill=\"{color}\">\
                 <title>{} {what}: {}</title></rect>",
                html_escape(label),
                tonnes_human(kg)
            ));
        }
        s.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#3d444d\">{}</text></g>",
            gx + group_w / 2.0,
            TOP + plot_h + 18.0,
            html_escape(label)
        ));
        points.push((
            gx + group_w / 2.0,
            y_right(h.cumulative_shortfall),
            h.cumulative_shortfall,
            label,
        ));
    }
    // Cumulative shortfall line on top of the bars.
    if !points.is_empty() {
        let coords: Vec<String> = points
            .iter()
            .map(|(x, y, _, _)| format!("{x:.1},{y:.1}"))
            .collect();
        s.push_str(&format!(
            "<polyline class=\"cumulative\" points=\"{}\" fill=\"none\" stroke=\"#c62828\" stroke-width=\"2.5\" stroke-linejoin=\"round\"/>",
            coords.join(" ")
        ));
        for (x, y, kg, label) in &points {
            s.push_str(&format!(
                "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3.5\" fill=\"#c62828\"><title>{} cumulative shortfall: {}</title></circle>",
                html_escape(label),
                tonnes_human(*kg)
            ));
        }
        if let Some((x, y, kg, _)) = points.last() {
            s.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#c62828\" font-weight=\"bold\" stroke=\"#fff\" stroke-width=\"4\" paint-order=\"stroke\">{}</text>",
                x - 6.0,
                y - 8.0,
                tonnes_human(*kg)
            ));
        }
    }
    let all_zero = history.iter().all(|h| {
        h.requirement == 0 && h.planned == 0 && h.delivered == 0 && h.cumulative_shortfall == 0
    });
    if history.is_empty() || all_zero {
        let note = if history.is_empty() {
            "No weeks to show yet."
        } else {
            "Nothing was required, planned or delivered in these weeks."
        };
        s.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#59636e\" font-size=\"14\">{note}</text>",
            LEFT + plot_w / 2.0,
            TOP + plot_h / 2.0
        ));
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::super::fixture::fixture;
    use super::*;

    #[test]
    fn chart_scales_sensibly_when_all_zero_or_empty() {
        let zero: Vec<HistoryWeek> = (20..32)
            .map(|w| HistoryWeek {
                week: format!("2023-W{w}"),
                requirement: 0,
                planned: 0,
                delivered: 0,
                cumulative_shortfall: 0,
            })
            .collect();
        let svg = history_svg(&zero);
        assert_eq!(svg.matches("<g class=\"week\"").count(), 12);
        assert!(svg.contains(">5 t</text>"));
        assert!(svg.contains("Nothing was required, planned or delivered"));
        assert!(!svg.contains("NaN") && !svg.contains("inf"));

        let empty = history_svg(&[]);
        assert!(empty.contains("No weeks to show yet."));
        assert!(!empty.contains("NaN") && !empty.contains("inf"));
    }

    #[test]
    fn chart_axes_are_aligned_and_hold_the_data() {
        let r = fixture();
        let ax = axes(&r.history);
        let max_weekly = 2_800_000;
        let max_cumulative = 32_920_505;
        assert!(ax.left_step * ax.above >= max_weekly);
        assert!(ax.right_step * ax.above >= max_cumulative);
        assert_eq!(ax.below, 0);
        // Negative cumulative shortfall (over-delivery) extends both axes down.
        let mut h = r.history;
        h[0].cumulative_shortfall = -500_000;
        let ax = axes(&h);
        assert!(ax.below >= 1);
        assert!(ax.right_step * ax.below >= 500_000);
    }

    #[test]
    fn round_steps() {
        for (raw, want) in [
            (0, 1),
            (1, 1),
            (7, 8),
            (9, 10),
            (11, 12),
            (560_000, 600_000),
            (6_584_101, 8_000_000),
        ] {
            assert_eq!(round_step_at_least(raw), want, "{raw}");
        }
    }
}
