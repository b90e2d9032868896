//! The report the renderers' tests share: week 31 of 2023 on the Lachin corridor.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::summarize;
use crate::domain::quantity::Kg;
use crate::domain::trucks::{CheckpointTally, TruckTally};
use crate::report::model::{
    AlertLine, Breakdown, CheckpointBreakdown, ClaimLine, ConvoyLine, Cumulative, DetailLine,
    DisputedConvoy, HistoryWeek, ReasonKg, Scope, WeekFigures, WeeklyReport,
};

pub(super) fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

/// ARM-0726's three figures: 360, 400 and 361 t, 11.1 % apart.
fn disputed_arm() -> DisputedConvoy {
    let claim = |source: &str, at: &str, tonnes: Kg| ClaimLine {
        source: source.into(),
        url: None,
        published_at: at.into(),
        tonnes,
        trucks: Some(19),
    };
    DisputedConvoy {
        id: "c-0726".into(),
        reference: "ARM-0726".into(),
        organization: "gov-am".into(),
        organization_name: "Government of Armenia".into(),
        route: "lachin".into(),
        logged_figure: "loaded".into(),
        logged: 360_000,
        claims: vec![
            claim(
                "Prime minister, via ArmRadio",
                "2023-07-26T13:00:00+04:00",
                360_000,
            ),
            claim("ArmRadio", "2023-07-26T15:00:00+04:00", 400_000),
            claim("Hetq <b>", "2023-07-27T09:00:00+04:00", 361_000),
        ],
        lowest: 360_000,
        highest: 400_000,
        spread_percent: Some(Decimal::new(111, 1)),
        threshold_percent: Decimal::from(2),
    }
}

fn convoy_arm() -> ConvoyLine {
    ConvoyLine {
        id: "c-0726".into(),
        reference: "ARM-0726".into(),
        organization: "Government of Armenia".into(),
        route: "lachin".into(),
        origin: "Goris".into(),
        destination: "Stepanakert".into(),
        trucks: Some(19),
        expected_arrival: "2023-07-26T18:00:00+04:00".into(),
        status: "held".into(),
        last_checkpoint: Some("KORNIDZOR".into()),
        last_seen_at: Some("2023-07-26T10:30:00+04:00".into()),
        planned: 360_000,
        delivered: 0,
        outstanding: 360_000,
        held_since: Some("2023-07-26T10:30:00+04:00".into()),
    }
}

fn breakdown(key: &str, name: &str, requirement: Option<Kg>, figures: [Kg; 6]) -> Breakdown {
    let [planned, delivered, delivered_during_week, shortfall, denied, lost] = figures;
    Breakdown {
        key: key.into(),
        name: name.into(),
        requirement,
        planned,
        delivered,
        delivered_during_week,
        shortfall,
        denied,
        lost,
        trucks: None,
    }
}

/// Planned, convoys without a planned number, arrived, convoys arrived uncounted.
fn trucks(planned: i64, without: i64, arrived: i64, uncounted: i64) -> Option<TruckTally> {
    Some(TruckTally {
        planned,
        convoys_without_planned: without,
        arrived,
        convoys_arrived_uncounted: uncounted,
    })
}

/// Arrived, passed, held and turned back at a checkpoint.
fn at(arrived: i64, passed: i64, held: i64, turned_back: i64) -> Option<CheckpointTally> {
    Some(CheckpointTally {
        arrived,
        passed,
        held,
        turned_back,
    })
}

/// One Lachin line of the week: organization (slug, name), commodity (code, name), then
/// planned, delivered, delivered during the week, shortfall, denied and lost.
fn line(org: (&str, &str), commodity: (&str, &str), figures: [Kg; 6]) -> DetailLine {
    let [planned, delivered, delivered_during_week, shortfall, denied, lost] = figures;
    DetailLine {
        route: "lachin".into(),
        route_name: "Lachin corridor".into(),
        origin: "GORIS".into(),
        destination: "STEPANAKERT".into(),
        organization: org.0.into(),
        organization_name: org.1.into(),
        commodity: commodity.0.into(),
        commodity_name: commodity.1.into(),
        planned,
        delivered,
        delivered_during_week,
        shortfall,
        denied,
        lost,
    }
}

/// The week's lines, which add up to its totals and breakdowns.
fn lines() -> Vec<DetailLine> {
    let gov = ("gov-am", "Government of Armenia");
    let icrc = ("icrc", "ICRC & partners");
    let medical = ("medical", "Medical supplies");
    vec![
        line(
            gov,
            ("baby_food", "Baby food"),
            [60_000, 0, 11_490, 60_000, 0, 0],
        ),
        line(
            gov,
            ("flour", "Wheat flour"),
            [240_000, 0, 40_000, 240_000, 0, 0],
        ),
        line(gov, medical, [60_000, 0, 0, 60_000, 0, 0]),
        line(icrc, medical, [24_500, 18_005, 18_005, 6_495, 4_995, 1_500]),
    ]
}

/// Week 31 of 2023 on the Lachin corridor: the 19-truck, 360 t convoy
/// held at Kornidzor, plus a small medical convoy whose reference tries
/// to inject a script.
pub(super) fn fixture() -> WeeklyReport {
    let weekly: [(u32, Kg, Kg); 12] = [
        (20, 180_000, 150_000),
        (21, 160_000, 140_000),
        (22, 150_000, 120_000),
        (23, 140_000, 110_000),
        (24, 120_000, 60_000),
        (25, 40_000, 0),
        (26, 20_000, 0),
        (27, 0, 0),
        (28, 30_000, 12_000),
        (29, 25_000, 18_000),
        (30, 40_000, 51_490),
        (31, 384_500, 18_005),
    ];
    let mut cumulative_shortfall = 0;
    let history: Vec<HistoryWeek> = weekly
        .iter()
        .map(|&(w, planned, delivered)| {
            cumulative_shortfall += 2_800_000 - delivered;
            HistoryWeek {
                week: format!("2023-W{w}"),
                requirement: 2_800_000,
                planned,
                delivered,
                cumulative_shortfall,
            }
        })
        .collect();
    let medical = ConvoyLine {
        id: "c-0727".into(),
        reference: "<script>alert(1)</script>".into(),
        organization: "ICRC & partners".into(),
        route: "lachin".into(),
        origin: "Goris".into(),
        destination: "Stepanakert".into(),
        trucks: Some(2),
        expected_arrival: "2023-07-27T12:00:00+04:00".into(),
        status: "short_delivered".into(),
        last_checkpoint: Some("STEPANAKERT".into()),
        last_seen_at: Some("2023-07-27T15:45:00+04:00".into()),
        planned: 24_500,
        delivered: 18_005,
        outstanding: 0,
        held_since: None,
    };
    WeeklyReport {
        week: "2023-W31".into(),
        timezone: "Asia/Yerevan".into(),
        starts: date(2023, 7, 24),
        ends: date(2023, 7, 30),
        scope: Scope::default(),
        totals: WeekFigures {
            requirement: 2_800_000,
            planned: 384_500,
            delivered: 18_005,
            delivered_during_week: 69_495,
            shortfall_against_plan: 366_495,
            shortfall_against_requirement: 2_730_505,
            coverage_percent: Some(Decimal::new(25, 1)),
            short_loaded: 0,
            denied: 4_995,
            lost: 1_500,
            rejected: 0,
            outstanding: 360_000,
            cancelled: 12_000,
        },
        // ARM-0726's 19 trucks held at KORNIDZOR, the medical convoy's 2 delivered; a
        // third convoy gave no planned number and has not arrived.
        trucks: trucks(21, 1, 2, 0),
        cumulative: Cumulative {
            since: Some(date(2023, 5, 15)),
            requirement: 33_600_000,
            planned: 1_289_500,
            delivered: 679_495,
            shortfall_against_requirement: 32_920_505,
            shortfall_against_plan: 610_005,
        },
        by_commodity: vec![
            breakdown(
                "flour",
                "Wheat flour",
                None,
                [240_000, 0, 40_000, 240_000, 0, 0],
            ),
            breakdown(
                "baby_food",
                "Baby food",
                None,
                [60_000, 0, 11_490, 60_000, 0, 0],
            ),
            breakdown(
                "medical",
                "Medical supplies",
                None,
                [84_500, 18_005, 18_005, 66_495, 4_995, 1_500],
            ),
        ],
        by_organization: vec![
            breakdown(
                "gov-am",
                "Government of Armenia",
                None,
                [360_000, 0, 51_490, 360_000, 0, 0],
            ),
            breakdown(
                "icrc",
                "ICRC & partners",
                None,
                [24_500, 18_005, 18_005, 6_495, 4_995, 1_500],
            ),
        ],
        by_route: vec![
            Breakdown {
                trucks: trucks(21, 1, 2, 0),
                ..breakdown(
                    "lachin",
                    "Lachin corridor",
                    Some(2_800_000),
                    [384_500, 18_005, 69_495, 366_495, 4_995, 1_500],
                )
            },
            Breakdown {
                trucks: trucks(0, 0, 0, 0),
                ..breakdown("aghdam", "Aghdam road", Some(0), [0, 0, 0, 0, 0, 0])
            },
        ],
        by_checkpoint: vec![
            CheckpointBreakdown {
                checkpoint: "KORNIDZOR".into(),
                name: "Kornidzor".into(),
                denied: 4_995,
                lost: vec![],
                lost_total: 0,
                held_now: 360_000,
                trucks: at(21, 2, 19, 0),
            },
            CheckpointBreakdown {
                checkpoint: "HAKARI".into(),
                name: "Hakari bridge".into(),
                denied: 0,
                lost: vec![
                    ReasonKg {
                        reason: "damaged".into(),
                        kg: 1_000,
                    },
                    ReasonKg {
                        reason: "stolen".into(),
                        kg: 500,
                    },
                ],
                lost_total: 1_500,
                held_now: 0,
                trucks: at(2, 2, 0, 0),
            },
        ],
        by_route_organization_commodity: Some(lines()),
        convoys: vec![convoy_arm(), medical],
        stalled: vec![convoy_arm()],
        alerts: vec![AlertLine {
            id: "a-1".into(),
            rule: "held_too_long".into(),
            severity: "critical".into(),
            subject: "ARM-0726 at KORNIDZOR".into(),
            opened_at: "2023-07-26T14:30:00+04:00".into(),
            message: "Held 4 h at KORNIDZOR, over its 4 h maximum dwell.".into(),
        }],
        disputed: vec![disputed_arm()],
        history,
        summary: summarize(
            31,
            Some("the Lachin route"),
            384_500,
            18_005,
            &[(360_000, "KORNIDZOR".into(), date(2023, 7, 26))],
        ),
    }
}
