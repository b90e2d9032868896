//! The plain-language summary sentence at the top of every report.

use chrono::{Datelike, NaiveDate};

use super::{month_name, tonnes_human, tonnes_number};
use crate::domain::quantity::Kg;

/// The plain-language summary at the top of the report.
///
/// `held` lists groups of cargo held now: (kilograms on board, checkpoint
/// label, local date the hold began). Example:
/// `"In week 31, 0 of 360 t planned for the Lachin route arrived; 360 t held
/// at KORNIDZOR since 26 July."` With `route_label` `None` the sentence says
/// "planned for the corridor"; without held groups it ends after "arrived.".
pub fn summarize(
    week_number: u32,
    route_label: Option<&str>,
    planned: Kg,
    delivered: Kg,
    held: &[(Kg, String, NaiveDate)],
) -> String {
    let target = route_label.unwrap_or("the corridor");
    let mut out = format!(
        "In week {week_number}, {} of {} planned for {target} arrived",
        tonnes_number(delivered),
        tonnes_human(planned)
    );
    let groups: Vec<String> = held
        .iter()
        .map(|(kg, checkpoint, since)| {
            format!(
                "{} held at {checkpoint} since {} {}",
                tonnes_human(*kg),
                since.day(),
                month_name(since.month())
            )
        })
        .collect();
    if !groups.is_empty() {
        out.push_str("; ");
        out.push_str(&groups.join("; "));
    }
    out.push('.');
    out
}

#[cfg(test)]
mod tests {
    use super::super::fixture::date;
    use super::*;

    struct SummaryCase {
        week: u32,
        route: Option<&'static str>,
        planned: Kg,
        delivered: Kg,
        held: Vec<(Kg, String, NaiveDate)>,
        want: &'static str,
    }

    #[test]
    fn summarize_table() {
        let kornidzor = (360_000, "KORNIDZOR".to_string(), date(2023, 7, 26));
        let hakari = (24_500, "HAKARI".to_string(), date(2023, 8, 3));
        let cases = vec![
            SummaryCase {
                week: 31,
                route: Some("the Lachin route"),
                planned: 360_000,
                delivered: 0,
                held: vec![kornidzor.clone()],
                want: "In week 31, 0 of 360 t planned for the Lachin route arrived; 360 t held at KORNIDZOR since 26 July.",
            },
            SummaryCase {
                week: 31,
                route: None,
                planned: 360_000,
                delivered: 0,
                held: vec![kornidzor.clone()],
                want: "In week 31, 0 of 360 t planned for the corridor arrived; 360 t held at KORNIDZOR since 26 July.",
            },
            SummaryCase {
                week: 32,
                route: None,
                planned: 2_800_000,
                delivered: 69_495,
                held: vec![kornidzor, hakari],
                want: "In week 32, 69.495 of 2,800 t planned for the corridor arrived; 360 t held at KORNIDZOR since 26 July; 24.5 t held at HAKARI since 3 August.",
            },
            SummaryCase {
                week: 5,
                route: Some("the Aghdam road"),
                planned: 1_500,
                delivered: 1_500,
                held: vec![],
                want: "In week 5, 1.5 of 1.5 t planned for the Aghdam road arrived.",
            },
        ];
        for c in cases {
            assert_eq!(
                summarize(c.week, c.route, c.planned, c.delivered, &c.held),
                c.want
            );
        }
    }
}
