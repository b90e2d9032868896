//! Alert rules (SPEC §5): which conditions hold at an instant.
//!
//! This module is pure: the caller derives [`ConvoyFacts`] and [`RouteFacts`] from the
//! ledger as of `now` (an injectable clock) and [`evaluate`] returns every condition that
//! holds, in a deterministic order. Opening, acknowledging and resolving alerts (one open
//! alert per rule and subject) is the caller's business.
//!
//! Every threshold is strict: a rule fires only once the elapsed time is *longer* than
//! its threshold, never when it is exactly equal. Elapsed times are computed with
//! `DateTime - DateTime`, which cannot overflow, so no input makes evaluation panic.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use super::ledger::{EventKind, Status};
use super::quantity::{format_tonnes, Kg};

/// An alert rule. Declaration order is the order of [`evaluate`]'s output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    DepartureMissed,
    ConvoyHeld,
    ConvoyStalled,
    ConvoyOverdue,
    CorridorDry,
    CoverageLow,
}

impl Rule {
    /// Every rule, in declaration (output) order.
    pub const ALL: [Rule; 6] = [
        Rule::DepartureMissed,
        Rule::ConvoyHeld,
        Rule::ConvoyStalled,
        Rule::ConvoyOverdue,
        Rule::CorridorDry,
        Rule::CoverageLow,
    ];

    /// The wire name, e.g. `"convoy_held"` (same as the serde form).
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::DepartureMissed => "departure_missed",
            Rule::ConvoyHeld => "convoy_held",
            Rule::ConvoyStalled => "convoy_stalled",
            Rule::ConvoyOverdue => "convoy_overdue",
            Rule::CorridorDry => "corridor_dry",
            Rule::CoverageLow => "coverage_low",
        }
    }

    /// Inverse of [`Rule::as_str`]; exact, case-sensitive match.
    pub fn parse(s: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|rule| rule.as_str() == s)
    }

    /// The severity every finding of this rule carries.
    pub fn severity(self) -> Severity {
        match self {
            Rule::DepartureMissed | Rule::ConvoyStalled | Rule::ConvoyOverdue => Severity::Warning,
            Rule::ConvoyHeld | Rule::CorridorDry | Rule::CoverageLow => Severity::Critical,
        }
    }

    /// What this rule's subject is: a convoy (id) or a route (code).
    pub fn subject_kind(self) -> SubjectKind {
        match self {
            Rule::DepartureMissed
            | Rule::ConvoyHeld
            | Rule::ConvoyStalled
            | Rule::ConvoyOverdue => SubjectKind::Convoy,
            Rule::CorridorDry | Rule::CoverageLow => SubjectKind::Route,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    Convoy,
    Route,
}

impl SubjectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::Convoy => "convoy",
            SubjectKind::Route => "route",
        }
    }
}

/// Tunable limits of the rules. Checkpoint dwell limits come from the checkpoints
/// themselves ([`Waiting::max_dwell`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// How long after its planned departure a convoy with no event is reported.
    pub departure_grace: Duration,
    /// How long after its expected arrival a non-terminal convoy is reported.
    pub overdue_grace: Duration,
    /// Silence allowed on a leg with no expected time.
    pub stalled_default: Duration,
    /// Silence always allowed, however short the leg is expected to be.
    pub stalled_minimum: Duration,
    /// How long a route with active convoys may go without a delivery.
    pub corridor_dry: Duration,
    /// Trailing 7-day delivered tonnes below this percentage of the requirement alert.
    pub coverage_low_percent: u32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            departure_grace: Duration::hours(2),
            overdue_grace: Duration::hours(6),
            stalled_default: Duration::hours(12),
            stalled_minimum: Duration::hours(1),
            corridor_dry: Duration::hours(24),
            coverage_low_percent: 50,
        }
    }
}

/// A checkpoint a convoy is waiting at (arrived or held there and not cleared since).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub checkpoint: String,
    pub since: DateTime<Utc>,
    pub max_dwell: Duration,
}

/// The last non-voided event of a convoy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastEvent {
    pub kind: EventKind,
    pub checkpoint: Option<String>,
    pub at: DateTime<Utc>,
}

/// What the rules need to know about one convoy as of `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvoyFacts {
    pub id: String,
    pub reference: String,
    pub route: String,
    /// The ledger's status as of `now`.
    pub status: Status,
    pub planned_departure: DateTime<Utc>,
    pub expected_arrival: DateTime<Utc>,
    /// Last non-voided event observed at or before `now`.
    pub last_event: Option<LastEvent>,
    pub waiting: Option<Waiting>,
    /// Expected time of the leg after the last checkpoint passed; `None` if unknown.
    pub next_leg: Option<Duration>,
    /// Outstanding cargo (for a planned convoy: what is waiting to load).
    pub on_board_kg: Kg,
}

/// What the rules need to know about one route as of `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteFacts {
    pub code: String,
    pub name: String,
    /// Convoys planned or moving (in_transit/held) as of `now`.
    pub active_convoys: usize,
    /// The last delivery on the route at or before `now`, or if none the earliest planned
    /// departure of its active convoys; `None` → no `corridor_dry`.
    pub quiet_since: Option<DateTime<Utc>>,
    /// Delivered in the 7 days up to `now`.
    pub trailing_delivered_kg: Kg,
    /// Required over the same 7 days (0 → no `coverage_low`).
    pub trailing_required_kg: Kg,
}

/// One condition that holds at `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: Rule,
    pub subject_kind: SubjectKind,
    /// Convoy id or route code.
    pub subject: String,
    pub severity: Severity,
    pub message: String,
}

impl Finding {
    fn new(rule: Rule, subject: &str, message: String) -> Finding {
        Finding {
            rule,
            subject_kind: rule.subject_kind(),
            subject: subject.to_owned(),
            severity: rule.severity(),
            message,
        }
    }
}

/// Every condition that holds at `now`, in a deterministic order (by rule, then subject).
///
/// Ties (the same subject given twice) are broken by severity and message, so the output
/// does not depend on the order of `convoys` and `routes`.
pub fn evaluate(
    now: DateTime<Utc>,
    convoys: &[ConvoyFacts],
    routes: &[RouteFacts],
    t: &Thresholds,
) -> Vec<Finding> {
    let mut findings: Vec<Finding> = Vec::new();
    for c in convoys {
        findings.extend(departure_missed(now, c, t));
        findings.extend(convoy_held(now, c));
        findings.extend(convoy_stalled(now, c, t));
        findings.extend(convoy_overdue(now, c, t));
    }
    for r in routes {
        findings.extend(corridor_dry(now, r, t));
        findings.extend(coverage_low(r, t));
    }
    findings.sort_by(|a, b| {
        (a.rule, &a.subject, a.severity, &a.message)
            .cmp(&(b.rule, &b.subject, b.severity, &b.message))
    });
    findings
}

/// "16 d 4 h", "3 h 20 min", "45 min", "0 min": whole days, hours and minutes (truncated),
/// showing the largest two non-zero units (so 1 d 0 h 5 min is "1 d 5 min").
/// Anything under a minute, and any negative duration, is "0 min".
pub fn human_duration(d: Duration) -> String {
    let minutes = d.num_minutes();
    if minutes <= 0 {
        return "0 min".to_owned();
    }
    let units = [
        (minutes / (24 * 60), "d"),
        (minutes / 60 % 24, "h"),
        (minutes % 60, "min"),
    ];
    units
        .iter()
        .filter(|(value, _)| *value > 0)
        .take(2)
        .map(|(value, unit)| format!("{value} {unit}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn is_terminal(status: Status) -> bool {
    match status {
        Status::Planned | Status::InTransit | Status::Held => false,
        Status::Delivered | Status::ShortDelivered | Status::TurnedBack | Status::Cancelled => true,
    }
}

fn event_word(kind: EventKind) -> &'static str {
    match kind {
        EventKind::Departed => "departed",
        EventKind::Arrived => "arrived",
        EventKind::Held => "held",
        EventKind::Cleared => "cleared",
        EventKind::TurnedBack => "turned back",
        EventKind::Delivered => "delivered",
        EventKind::Closed => "closed",
        EventKind::Cancelled => "cancelled",
    }
}

fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn departure_missed(now: DateTime<Utc>, c: &ConvoyFacts, t: &Thresholds) -> Option<Finding> {
    if c.status != Status::Planned || c.last_event.is_some() {
        return None;
    }
    let late = now.signed_duration_since(c.planned_departure);
    if late <= t.departure_grace {
        return None;
    }
    let message = format!(
        "{} has not departed: planned for {}, {} ago; {} t waiting to load",
        c.reference,
        timestamp(c.planned_departure),
        human_duration(late),
        format_tonnes(c.on_board_kg),
    );
    Some(Finding::new(Rule::DepartureMissed, &c.id, message))
}

fn convoy_held(now: DateTime<Utc>, c: &ConvoyFacts) -> Option<Finding> {
    if is_terminal(c.status) {
        return None;
    }
    let waiting = c.waiting.as_ref()?;
    let dwell = now.signed_duration_since(waiting.since);
    if dwell <= waiting.max_dwell {
        return None;
    }
    let message = format!(
        "{} held at {} for {}; {} t on board (allowed {})",
        c.reference,
        waiting.checkpoint,
        human_duration(dwell),
        format_tonnes(c.on_board_kg),
        human_duration(waiting.max_dwell),
    );
    Some(Finding::new(Rule::ConvoyHeld, &c.id, message))
}

fn convoy_stalled(now: DateTime<Utc>, c: &ConvoyFacts, t: &Thresholds) -> Option<Finding> {
    if c.status != Status::InTransit || c.waiting.is_some() {
        return None;
    }
    let last = c.last_event.as_ref()?;
    let expected = c
        .next_leg
        .unwrap_or(t.stalled_default)
        .max(t.stalled_minimum);
    let silent = now.signed_duration_since(last.at);
    if silent <= expected {
        return None;
    }
    let message = format!(
        "{} has not reported for {} since {} (leg expected to take {}); {} t on board",
        c.reference,
        human_duration(silent),
        last.checkpoint.as_deref().unwrap_or("departure"),
        human_duration(expected),
        format_tonnes(c.on_board_kg),
    );
    Some(Finding::new(Rule::ConvoyStalled, &c.id, message))
}

fn convoy_overdue(now: DateTime<Utc>, c: &ConvoyFacts, t: &Thresholds) -> Option<Finding> {
    if is_terminal(c.status) {
        return None;
    }
    let late = now.signed_duration_since(c.expected_arrival);
    if late <= t.overdue_grace {
        return None;
    }
    let last_seen = match &c.last_event {
        None => "no event recorded".to_owned(),
        Some(LastEvent {
            kind,
            checkpoint: Some(checkpoint),
            at,
        }) => format!(
            "last seen at {checkpoint} ({} {})",
            event_word(*kind),
            timestamp(*at)
        ),
        Some(LastEvent {
            kind,
            checkpoint: None,
            at,
        }) => format!("last event: {} {}", event_word(*kind), timestamp(*at)),
    };
    let message = format!(
        "{} is overdue by {}: expected {}, {}; {} t on board",
        c.reference,
        human_duration(late),
        timestamp(c.expected_arrival),
        last_seen,
        format_tonnes(c.on_board_kg),
    );
    Some(Finding::new(Rule::ConvoyOverdue, &c.id, message))
}

fn corridor_dry(now: DateTime<Utc>, r: &RouteFacts, t: &Thresholds) -> Option<Finding> {
    if r.active_convoys == 0 {
        return None;
    }
    let quiet = now.signed_duration_since(r.quiet_since?);
    if quiet <= t.corridor_dry {
        return None;
    }
    let convoys = if r.active_convoys == 1 {
        "convoy is"
    } else {
        "convoys are"
    };
    let message = format!(
        "{}: nothing delivered for {} while {} {} planned or moving",
        r.name,
        human_duration(quiet),
        r.active_convoys,
        convoys,
    );
    Some(Finding::new(Rule::CorridorDry, &r.code, message))
}

fn coverage_low(r: &RouteFacts, t: &Thresholds) -> Option<Finding> {
    let delivered = r.trailing_delivered_kg;
    let required = r.trailing_required_kg;
    if required <= 0 {
        return None;
    }
    // Exact in i128: |i64| * 100 and i64 * u32 cannot overflow it.
    let below =
        i128::from(delivered) * 100 < i128::from(required) * i128::from(t.coverage_low_percent);
    if !below {
        return None;
    }
    let message = format!(
        "{}: {} t delivered in the last 7 days against {} t required ({} %, below {} %)",
        r.name,
        format_tonnes(delivered),
        format_tonnes(required),
        coverage_percent(delivered, required),
        t.coverage_low_percent,
    );
    Some(Finding::new(Rule::CoverageLow, &r.code, message))
}

/// `delivered / required` as a percentage with one decimal, rounded half away from zero.
///
/// The quotient is carried to 28 significant digits, far closer than any quotient of two
/// i64 values can come to a rounding midpoint without being on it, so the result is the
/// exactly rounded value.
fn coverage_percent(delivered: Kg, required: Kg) -> String {
    let percent = Decimal::from(delivered)
        .checked_mul(Decimal::ONE_HUNDRED)
        .and_then(|scaled| scaled.checked_div(Decimal::from(required)));
    match percent {
        Some(p) => {
            let rounded = p.round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero);
            // Avoid "-0.0" for tiny negative quotients.
            let rounded = if rounded.is_zero() {
                Decimal::ZERO
            } else {
                rounded
            };
            format!("{rounded:.1}")
        }
        None => "n/a".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("valid timestamp")
            .with_timezone(&Utc)
    }

    fn base() -> DateTime<Utc> {
        at("2023-08-10T08:00:00Z")
    }

    fn secs(n: i64) -> Duration {
        Duration::seconds(n)
    }

    /// An in-transit convoy with nothing alarming about it at `base()`.
    fn convoy(id: &str) -> ConvoyFacts {
        ConvoyFacts {
            id: id.to_owned(),
            reference: format!("REF-{id}"),
            route: "lachin".to_owned(),
            status: Status::InTransit,
            planned_departure: base() - Duration::hours(1),
            expected_arrival: base() + Duration::days(1),
            last_event: Some(LastEvent {
                kind: EventKind::Departed,
                checkpoint: Some("GORIS".to_owned()),
                at: base() - Duration::hours(1),
            }),
            waiting: None,
            next_leg: Some(Duration::hours(3)),
            on_board_kg: 360_000,
        }
    }

    fn lachin_route() -> RouteFacts {
        RouteFacts {
            code: "lachin".to_owned(),
            name: "Lachin corridor (Goris to Stepanakert)".to_owned(),
            active_convoys: 0,
            quiet_since: None,
            trailing_delivered_kg: 0,
            trailing_required_kg: 0,
        }
    }

    fn rules_for(findings: &[Finding], subject: &str) -> Vec<Rule> {
        findings
            .iter()
            .filter(|f| f.subject == subject)
            .map(|f| f.rule)
            .collect()
    }

    fn fires(now: DateTime<Utc>, c: &ConvoyFacts, rule: Rule) -> bool {
        evaluate(now, std::slice::from_ref(c), &[], &Thresholds::default())
            .iter()
            .any(|f| f.rule == rule)
    }

    /// Offsets around a threshold: just below, exactly at, just above.
    const BOUNDARY: [(i64, bool); 3] = [(-1, false), (0, false), (1, true)];

    // ---- names -----------------------------------------------------------------------

    #[test]
    fn rule_names_round_trip() {
        let names: Vec<&str> = Rule::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(
            names,
            [
                "departure_missed",
                "convoy_held",
                "convoy_stalled",
                "convoy_overdue",
                "corridor_dry",
                "coverage_low"
            ]
        );
        for rule in Rule::ALL {
            assert_eq!(Rule::parse(rule.as_str()), Some(rule));
        }
        assert_eq!(Rule::parse("Convoy_Held"), None);
        assert_eq!(Rule::parse(""), None);
        let mut sorted = Rule::ALL;
        sorted.sort();
        assert_eq!(sorted, Rule::ALL);
    }

    #[test]
    fn severity_and_subject_names() {
        assert_eq!(Severity::Info.as_str(), "info");
        assert_eq!(Severity::Warning.as_str(), "warning");
        assert_eq!(Severity::Critical.as_str(), "critical");
        assert!(Severity::Info < Severity::Warning && Severity::Warning < Severity::Critical);
        assert_eq!(SubjectKind::Convoy.as_str(), "convoy");
        assert_eq!(SubjectKind::Route.as_str(), "route");
        let expected = [
            (
                Rule::DepartureMissed,
                Severity::Warning,
                SubjectKind::Convoy,
            ),
            (Rule::ConvoyHeld, Severity::Critical, SubjectKind::Convoy),
            (Rule::ConvoyStalled, Severity::Warning, SubjectKind::Convoy),
            (Rule::ConvoyOverdue, Severity::Warning, SubjectKind::Convoy),
            (Rule::CorridorDry, Severity::Critical, SubjectKind::Route),
            (Rule::CoverageLow, Severity::Critical, SubjectKind::Route),
        ];
        for (rule, severity, kind) in expected {
            assert_eq!(rule.severity(), severity, "{rule:?}");
            assert_eq!(rule.subject_kind(), kind, "{rule:?}");
        }
    }

    #[test]
    fn default_thresholds() {
        let t = Thresholds::default();
        assert_eq!(t.departure_grace, Duration::hours(2));
        assert_eq!(t.overdue_grace, Duration::hours(6));
        assert_eq!(t.stalled_default, Duration::hours(12));
        assert_eq!(t.stalled_minimum, Duration::hours(1));
        assert_eq!(t.corridor_dry, Duration::hours(24));
        assert_eq!(t.coverage_low_percent, 50);
    }

    // ---- human_duration --------------------------------------------------------------

    #[test]
    fn human_duration_table() {
        let cases = [
            (secs(0), "0 min"),
            (secs(59), "0 min"),
            (secs(60), "1 min"),
            (Duration::minutes(45), "45 min"),
            (Duration::minutes(3 * 60 + 20), "3 h 20 min"),
            (Duration::hours(6), "6 h"),
            (Duration::days(1), "1 d"),
            (Duration::days(1) + Duration::minutes(5), "1 d 5 min"),
            (Duration::days(16) + Duration::hours(4), "16 d 4 h"),
            (
                Duration::days(16) + Duration::hours(4) + Duration::minutes(59),
                "16 d 4 h",
            ),
            (Duration::days(400) + Duration::hours(23), "400 d 23 h"),
            (secs(-1), "0 min"),
            (Duration::days(-3), "0 min"),
            (Duration::MIN, "0 min"),
        ];
        for (d, expected) in cases {
            assert_eq!(human_duration(d), expected, "{d:?}");
        }
        // Never panics at the extremes.
        assert!(human_duration(Duration::MAX).ends_with(" h"));
    }

    // ---- boundaries ------------------------------------------------------------------

    #[test]
    fn departure_missed_boundary() {
        let mut c = convoy("c1");
        c.status = Status::Planned;
        c.last_event = None;
        c.expected_arrival = base() + Duration::days(10);
        let grace = Thresholds::default().departure_grace;
        for (offset, expected) in BOUNDARY {
            let now = c.planned_departure + grace + secs(offset);
            assert_eq!(fires(now, &c, Rule::DepartureMissed), expected, "{offset}");
        }
        // Any event, or any other status, means it departed (or will never).
        let now = c.planned_departure + Duration::days(1);
        assert!(fires(now, &c, Rule::DepartureMissed));
        let mut with_event = c.clone();
        with_event.last_event = Some(LastEvent {
            kind: EventKind::Departed,
            checkpoint: None,
            at: c.planned_departure,
        });
        assert!(!fires(now, &with_event, Rule::DepartureMissed));
        for status in [Status::InTransit, Status::Held, Status::Cancelled] {
            let mut other = c.clone();
            other.status = status;
            assert!(!fires(now, &other, Rule::DepartureMissed), "{status:?}");
        }
    }

    #[test]
    fn convoy_held_boundary() {
        let mut c = convoy("c1");
        c.status = Status::Held;
        let since = base() - Duration::days(2);
        c.waiting = Some(Waiting {
            checkpoint: "KORNIDZOR".to_owned(),
            since,
            max_dwell: Duration::hours(12),
        });
        c.expected_arrival = base() + Duration::days(30);
        for (offset, expected) in BOUNDARY {
            let now = since + Duration::hours(12) + secs(offset);
            assert_eq!(fires(now, &c, Rule::ConvoyHeld), expected, "{offset}");
        }
        // Waiting after "arrived" (status in_transit) counts too; no waiting never fires.
        let now = since + Duration::days(1);
        let mut arrived = c.clone();
        arrived.status = Status::InTransit;
        assert!(fires(now, &arrived, Rule::ConvoyHeld));
        let mut moving = c;
        moving.waiting = None;
        assert!(!fires(now, &moving, Rule::ConvoyHeld));
    }

    #[test]
    fn convoy_stalled_boundary() {
        let t = Thresholds::default();
        let last_at = base() - Duration::days(1);
        // (next_leg, effective allowance)
        let legs = [
            (Some(Duration::hours(3)), Duration::hours(3)),
            (None, t.stalled_default),
            (Some(Duration::minutes(20)), t.stalled_minimum),
            (Some(Duration::zero()), t.stalled_minimum),
            (Some(Duration::hours(30)), Duration::hours(30)),
        ];
        for (next_leg, allowed) in legs {
            let mut c = convoy("c1");
            c.expected_arrival = base() + Duration::days(30);
            c.next_leg = next_leg;
            c.last_event = Some(LastEvent {
                kind: EventKind::Cleared,
                checkpoint: Some("KORNIDZOR".to_owned()),
                at: last_at,
            });
            for (offset, expected) in BOUNDARY {
                let now = last_at + allowed + secs(offset);
                assert_eq!(
                    fires(now, &c, Rule::ConvoyStalled),
                    expected,
                    "{next_leg:?} {offset}"
                );
            }
            // Only in transit, not waiting, with an event.
            let now = last_at + allowed + Duration::hours(1);
            let mut held = c.clone();
            held.status = Status::Held;
            assert!(!fires(now, &held, Rule::ConvoyStalled));
            let mut waiting = c.clone();
            waiting.waiting = Some(Waiting {
                checkpoint: "KORNIDZOR".to_owned(),
                since: last_at,
                max_dwell: Duration::days(1000),
            });
            assert!(!fires(now, &waiting, Rule::ConvoyStalled));
            let mut silent = c.clone();
            silent.last_event = None;
            assert!(!fires(now, &silent, Rule::ConvoyStalled));
        }
    }

    #[test]
    fn convoy_overdue_boundary() {
        let grace = Thresholds::default().overdue_grace;
        for status in [Status::Planned, Status::InTransit, Status::Held] {
            let mut c = convoy("c1");
            c.status = status;
            c.expected_arrival = base();
            for (offset, expected) in BOUNDARY {
                let now = c.expected_arrival + grace + secs(offset);
                assert_eq!(
                    fires(now, &c, Rule::ConvoyOverdue),
                    expected,
                    "{status:?} {offset}"
                );
            }
        }
    }

    #[test]
    fn corridor_dry_boundary() {
        let t = Thresholds::default();
        let mut r = lachin_route();
        r.active_convoys = 1;
        let since = base() - Duration::days(3);
        r.quiet_since = Some(since);
        let fires_at = |r: &RouteFacts, now| {
            evaluate(now, &[], std::slice::from_ref(r), &t)
                .iter()
                .any(|f| f.rule == Rule::CorridorDry)
        };
        for (offset, expected) in BOUNDARY {
            assert_eq!(
                fires_at(&r, since + t.corridor_dry + secs(offset)),
                expected
            );
        }
        let late = since + Duration::days(2);
        assert!(fires_at(&r, late));
        let mut idle = r.clone();
        idle.active_convoys = 0;
        assert!(!fires_at(&idle, late));
        let mut unknown = r;
        unknown.quiet_since = None;
        assert!(!fires_at(&unknown, late));
    }

    #[test]
    fn coverage_low_boundary() {
        // required 1000 kg at 50 %: the threshold is exactly 500 kg.
        let t = Thresholds::default();
        let cases = [
            (499, 1000, true),
            (500, 1000, false),
            (501, 1000, false),
            (0, 1000, true),
            (0, 0, false),
            (0, -5, false),
            (-1, 1000, true),
            (1, 3, true), // 33.3 %
            (2, 3, false),
        ];
        for (delivered, required, expected) in cases {
            let mut r = lachin_route();
            r.trailing_delivered_kg = delivered;
            r.trailing_required_kg = required;
            let found = evaluate(base(), &[], &[r], &t)
                .iter()
                .any(|f| f.rule == Rule::CoverageLow);
            assert_eq!(found, expected, "{delivered}/{required}");
        }
        // Percent 0 never fires, 100 fires on anything short.
        let mut r = lachin_route();
        r.trailing_delivered_kg = 999;
        r.trailing_required_kg = 1000;
        let zero = Thresholds {
            coverage_low_percent: 0,
            ..t
        };
        assert!(evaluate(base(), &[], std::slice::from_ref(&r), &zero).is_empty());
        let full = Thresholds {
            coverage_low_percent: 100,
            ..t
        };
        assert_eq!(evaluate(base(), &[], &[r], &full).len(), 1);
    }

    #[test]
    fn coverage_percent_rounds_half_away_from_zero() {
        let cases = [
            (0, 2_800_000, "0.0"),
            (1, 2000, "0.1"), // 0.05 → 0.1
            (1, 2001, "0.0"), // 0.04997…
            (1, 1999, "0.1"), // 0.05002…
            (1, 3, "33.3"),
            (2, 3, "66.7"),
            (-1, 2000, "-0.1"), // -0.05 → -0.1
            (-1, 3000, "0.0"),  // -0.033… → no "-0.0"
            (1000, 1000, "100.0"),
            (i64::MAX, 1, "922337203685477580700.0"),
        ];
        for (delivered, required, expected) in cases {
            assert_eq!(
                coverage_percent(delivered, required),
                expected,
                "{delivered}/{required}"
            );
        }
    }

    // ---- terminal statuses -----------------------------------------------------------

    #[test]
    fn terminal_statuses_raise_no_convoy_rule() {
        let terminal = [
            Status::Delivered,
            Status::ShortDelivered,
            Status::TurnedBack,
            Status::Cancelled,
        ];
        // A convoy that would trip every convoy rule if it were not terminal.
        let mut c = convoy("c1");
        c.last_event = None;
        c.waiting = Some(Waiting {
            checkpoint: "KORNIDZOR".to_owned(),
            since: base() - Duration::days(20),
            max_dwell: Duration::hours(1),
        });
        c.planned_departure = base() - Duration::days(30);
        c.expected_arrival = base() - Duration::days(29);
        let now = base();
        for status in [Status::Planned, Status::Held] {
            c.status = status;
            assert!(
                !evaluate(now, std::slice::from_ref(&c), &[], &Thresholds::default()).is_empty()
            );
        }
        for status in terminal {
            c.status = status;
            for last_event in [
                None,
                Some(LastEvent {
                    kind: EventKind::Held,
                    checkpoint: None,
                    at: base() - Duration::days(20),
                }),
            ] {
                c.last_event = last_event;
                let found = evaluate(now, std::slice::from_ref(&c), &[], &Thresholds::default());
                assert!(found.is_empty(), "{status:?}: {found:?}");
            }
        }
    }

    // ---- messages --------------------------------------------------------------------

    fn am_convoy() -> ConvoyFacts {
        ConvoyFacts {
            id: "cv-1".to_owned(),
            reference: "AM-2023-07-26".to_owned(),
            route: "lachin".to_owned(),
            status: Status::Held,
            planned_departure: at("2023-07-26T04:00:00Z"),
            expected_arrival: at("2023-07-26T16:00:00Z"),
            last_event: Some(LastEvent {
                kind: EventKind::Held,
                checkpoint: Some("KORNIDZOR".to_owned()),
                at: at("2023-07-26T07:00:00Z"),
            }),
            waiting: Some(Waiting {
                checkpoint: "KORNIDZOR".to_owned(),
                since: at("2023-07-26T07:00:00Z"),
                max_dwell: Duration::hours(12),
            }),
            next_leg: Some(Duration::hours(2)),
            on_board_kg: 360_000,
        }
    }

    fn message_of(findings: &[Finding], rule: Rule) -> String {
        findings
            .iter()
            .find(|f| f.rule == rule)
            .map(|f| f.message.clone())
            .unwrap_or_default()
    }

    #[test]
    fn convoy_messages() {
        let t = Thresholds::default();

        let mut planned = am_convoy();
        planned.status = Status::Planned;
        planned.last_event = None;
        planned.waiting = None;
        let f = evaluate(at("2023-07-26T10:00:00Z"), &[planned], &[], &t);
        assert_eq!(
            message_of(&f, Rule::DepartureMissed),
            "AM-2023-07-26 has not departed: planned for 2023-07-26T04:00:00Z, 6 h ago; \
             360.000 t waiting to load"
        );

        let f = evaluate(at("2023-08-11T11:00:00Z"), &[am_convoy()], &[], &t);
        assert_eq!(
            message_of(&f, Rule::ConvoyHeld),
            "AM-2023-07-26 held at KORNIDZOR for 16 d 4 h; 360.000 t on board (allowed 12 h)"
        );
        assert_eq!(
            message_of(&f, Rule::ConvoyOverdue),
            "AM-2023-07-26 is overdue by 15 d 19 h: expected 2023-07-26T16:00:00Z, \
             last seen at KORNIDZOR (held 2023-07-26T07:00:00Z); 360.000 t on board"
        );

        let mut moving = am_convoy();
        moving.status = Status::InTransit;
        moving.waiting = None;
        moving.last_event = Some(LastEvent {
            kind: EventKind::Cleared,
            checkpoint: Some("KORNIDZOR".to_owned()),
            at: at("2023-07-26T09:00:00Z"),
        });
        let f = evaluate(at("2023-07-26T12:20:00Z"), &[moving.clone()], &[], &t);
        assert_eq!(
            message_of(&f, Rule::ConvoyStalled),
            "AM-2023-07-26 has not reported for 3 h 20 min since KORNIDZOR \
             (leg expected to take 2 h); 360.000 t on board"
        );
        moving.last_event = Some(LastEvent {
            kind: EventKind::Departed,
            checkpoint: None,
            at: at("2023-07-26T04:00:00Z"),
        });
        moving.next_leg = None;
        let f = evaluate(at("2023-07-26T16:45:00Z"), &[moving.clone()], &[], &t);
        assert_eq!(
            message_of(&f, Rule::ConvoyStalled),
            "AM-2023-07-26 has not reported for 12 h 45 min since departure \
             (leg expected to take 12 h); 360.000 t on board"
        );
        let f = evaluate(at("2023-07-27T16:00:00Z"), &[moving.clone()], &[], &t);
        assert_eq!(
            message_of(&f, Rule::ConvoyOverdue),
            "AM-2023-07-26 is overdue by 1 d: expected 2023-07-26T16:00:00Z, \
             last event: departed 2023-07-26T04:00:00Z; 360.000 t on board"
        );
        moving.status = Status::Planned;
        moving.last_event = None;
        let f = evaluate(at("2023-07-27T16:00:00Z"), &[moving], &[], &t);
        assert_eq!(
            message_of(&f, Rule::ConvoyOverdue),
            "AM-2023-07-26 is overdue by 1 d: expected 2023-07-26T16:00:00Z, \
             no event recorded; 360.000 t on board"
        );
    }

    #[test]
    fn route_messages() {
        let t = Thresholds::default();
        let mut r = lachin_route();
        r.active_convoys = 2;
        r.quiet_since = Some(at("2023-01-01T00:00:00Z"));
        r.trailing_required_kg = 2_800_000;
        let now = at("2023-01-01T00:00:00Z") + Duration::days(230) + Duration::hours(2);
        let f = evaluate(now, &[], std::slice::from_ref(&r), &t);
        assert_eq!(
            message_of(&f, Rule::CorridorDry),
            "Lachin corridor (Goris to Stepanakert): nothing delivered for 230 d 2 h \
             while 2 convoys are planned or moving"
        );
        assert_eq!(
            message_of(&f, Rule::CoverageLow),
            "Lachin corridor (Goris to Stepanakert): 0.000 t delivered in the last 7 days \
             against 2800.000 t required (0.0 %, below 50 %)"
        );
        r.active_convoys = 1;
        r.trailing_delivered_kg = 1_234_567;
        let f = evaluate(now, &[], &[r], &t);
        assert_eq!(
            message_of(&f, Rule::CorridorDry),
            "Lachin corridor (Goris to Stepanakert): nothing delivered for 230 d 2 h \
             while 1 convoy is planned or moving"
        );
        assert_eq!(
            message_of(&f, Rule::CoverageLow),
            "Lachin corridor (Goris to Stepanakert): 1234.567 t delivered in the last 7 days \
             against 2800.000 t required (44.1 %, below 50 %)"
        );
    }

    // ---- scenario --------------------------------------------------------------------

    #[test]
    fn lachin_scenario() {
        let now = at("2023-08-10T08:00:00Z");
        let mut route = lachin_route();
        route.trailing_required_kg = 2_800_000;
        let findings = evaluate(now, &[am_convoy()], &[route], &Thresholds::default());
        let summary: Vec<(Rule, SubjectKind, &str, Severity)> = findings
            .iter()
            .map(|f| (f.rule, f.subject_kind, f.subject.as_str(), f.severity))
            .collect();
        assert_eq!(
            summary,
            [
                (
                    Rule::ConvoyHeld,
                    SubjectKind::Convoy,
                    "cv-1",
                    Severity::Critical
                ),
                (
                    Rule::ConvoyOverdue,
                    SubjectKind::Convoy,
                    "cv-1",
                    Severity::Warning
                ),
                (
                    Rule::CoverageLow,
                    SubjectKind::Route,
                    "lachin",
                    Severity::Critical
                ),
            ]
        );
        assert_eq!(
            findings[0].message,
            "AM-2023-07-26 held at KORNIDZOR for 15 d 1 h; 360.000 t on board (allowed 12 h)"
        );
        assert_eq!(
            findings[1].message,
            "AM-2023-07-26 is overdue by 14 d 16 h: expected 2023-07-26T16:00:00Z, \
             last seen at KORNIDZOR (held 2023-07-26T07:00:00Z); 360.000 t on board"
        );
        assert_eq!(
            findings[2].message,
            "Lachin corridor (Goris to Stepanakert): 0.000 t delivered in the last 7 days \
             against 2800.000 t required (0.0 %, below 50 %)"
        );
    }

    #[test]
    fn output_is_sorted_by_rule_then_subject() {
        let mut a = convoy("b-convoy");
        a.expected_arrival = base() - Duration::days(2);
        a.last_event = Some(LastEvent {
            kind: EventKind::Cleared,
            checkpoint: Some("KORNIDZOR".to_owned()),
            at: base() - Duration::days(2),
        });
        let mut b = a.clone();
        b.id = "a-convoy".to_owned();
        b.status = Status::Planned;
        b.last_event = None;
        b.planned_departure = base() - Duration::days(3);
        let mut r = lachin_route();
        r.trailing_required_kg = 1;
        let found = evaluate(base(), &[a, b], &[r], &Thresholds::default());
        let order: Vec<(Rule, &str)> = found.iter().map(|f| (f.rule, f.subject.as_str())).collect();
        assert_eq!(
            order,
            [
                (Rule::DepartureMissed, "a-convoy"),
                (Rule::ConvoyStalled, "b-convoy"),
                (Rule::ConvoyOverdue, "a-convoy"),
                (Rule::ConvoyOverdue, "b-convoy"),
                (Rule::CoverageLow, "lachin"),
            ]
        );
        assert_eq!(rules_for(&found, "a-convoy").len(), 2);
    }

    #[test]
    fn extreme_inputs_do_not_panic() {
        let t = Thresholds {
            departure_grace: Duration::MAX,
            overdue_grace: Duration::MIN,
            stalled_default: Duration::MAX,
            stalled_minimum: Duration::MIN,
            corridor_dry: Duration::MIN,
            coverage_low_percent: u32::MAX,
        };
        let mut c = convoy("c1");
        c.planned_departure = DateTime::<Utc>::MIN_UTC;
        c.expected_arrival = DateTime::<Utc>::MAX_UTC;
        c.on_board_kg = i64::MIN;
        c.next_leg = None;
        c.waiting = Some(Waiting {
            checkpoint: String::new(),
            since: DateTime::<Utc>::MIN_UTC,
            max_dwell: Duration::MIN,
        });
        let mut r = lachin_route();
        r.active_convoys = usize::MAX;
        r.quiet_since = Some(DateTime::<Utc>::MIN_UTC);
        r.trailing_delivered_kg = i64::MIN;
        r.trailing_required_kg = i64::MAX;
        for now in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
            let _ = evaluate(now, std::slice::from_ref(&c), std::slice::from_ref(&r), &t);
        }
    }

    // ---- properties ------------------------------------------------------------------

    fn status_strategy() -> impl Strategy<Value = Status> {
        prop_oneof![
            Just(Status::Planned),
            Just(Status::InTransit),
            Just(Status::Held),
            Just(Status::Delivered),
            Just(Status::ShortDelivered),
            Just(Status::TurnedBack),
            Just(Status::Cancelled),
        ]
    }

    fn terminal_strategy() -> impl Strategy<Value = Status> {
        prop_oneof![
            Just(Status::Delivered),
            Just(Status::ShortDelivered),
            Just(Status::TurnedBack),
            Just(Status::Cancelled),
        ]
    }

    fn kind_strategy() -> impl Strategy<Value = EventKind> {
        prop_oneof![
            Just(EventKind::Departed),
            Just(EventKind::Arrived),
            Just(EventKind::Held),
            Just(EventKind::Cleared),
            Just(EventKind::TurnedBack),
            Just(EventKind::Delivered),
            Just(EventKind::Closed),
            Just(EventKind::Cancelled),
        ]
    }

    fn minutes_from_base(m: i64) -> DateTime<Utc> {
        base() + Duration::minutes(m)
    }

    prop_compose! {
        fn convoy_strategy(status: BoxedStrategy<Status>)(
            id in 0u8..8,
            status in status,
            departure in -6000i64..3000,
            trip in 0i64..6000,
            last_event in proptest::option::of(
                (kind_strategy(), proptest::option::of("[A-Z]{3,6}"), -6000i64..=0)),
            waiting in proptest::option::of(("[A-Z]{3,6}", -6000i64..=0, -60i64..3000)),
            next_leg in proptest::option::of(-60i64..3000),
            on_board_kg in 0i64..1_000_000_000,
        ) -> ConvoyFacts {
            ConvoyFacts {
                id: format!("c{id}"),
                reference: format!("REF-{id}"),
                route: "r".to_owned(),
                status,
                planned_departure: minutes_from_base(departure),
                expected_arrival: minutes_from_base(departure + trip),
                last_event: last_event.map(|(kind, checkpoint, at)| LastEvent {
                    kind,
                    checkpoint,
                    at: minutes_from_base(at),
                }),
                waiting: waiting.map(|(checkpoint, since, dwell)| Waiting {
                    checkpoint,
                    since: minutes_from_base(since),
                    max_dwell: Duration::minutes(dwell),
                }),
                next_leg: next_leg.map(Duration::minutes),
                on_board_kg,
            }
        }
    }

    prop_compose! {
        fn route_strategy()(
            code in 0u8..5,
            active_convoys in 0usize..4,
            quiet in proptest::option::of(-6000i64..600),
            delivered in 0i64..10_000_000,
            required in -10i64..10_000_000,
        ) -> RouteFacts {
            RouteFacts {
                code: format!("r{code}"),
                name: format!("Route {code}"),
                active_convoys,
                quiet_since: quiet.map(minutes_from_base),
                trailing_delivered_kg: delivered,
                trailing_required_kg: required,
            }
        }
    }

    prop_compose! {
        fn thresholds_strategy()(
            departure in 0i64..600,
            overdue in 0i64..1200,
            stalled_default in 0i64..1500,
            stalled_minimum in 0i64..300,
            dry in 0i64..3000,
            percent in 0u32..=150,
        ) -> Thresholds {
            Thresholds {
                departure_grace: Duration::minutes(departure),
                overdue_grace: Duration::minutes(overdue),
                stalled_default: Duration::minutes(stalled_default),
                stalled_minimum: Duration::minutes(stalled_minimum),
                corridor_dry: Duration::minutes(dry),
                coverage_low_percent: percent,
            }
        }
    }

    /// Exact reference: `100 * delivered / required` rounded half away from zero to tenths.
    fn reference_percent(delivered: i64, required: i64) -> String {
        let n = i128::from(delivered) * 1000;
        let d = i128::from(required);
        let (q, r) = (n / d, n % d);
        let tenths = if 2 * r.abs() >= d { q + n.signum() } else { q };
        let sign = if tenths < 0 { "-" } else { "" };
        format!("{sign}{}.{}", tenths.abs() / 10, tenths.abs() % 10)
    }

    proptest! {
        #[test]
        fn evaluate_is_deterministic_sorted_and_order_independent(
            convoys in proptest::collection::vec(convoy_strategy(status_strategy().boxed()), 0..8),
            routes in proptest::collection::vec(route_strategy(), 0..5),
            t in thresholds_strategy(),
            now_offset in -3000i64..6000,
        ) {
            let now = minutes_from_base(now_offset);
            let first = evaluate(now, &convoys, &routes, &t);
            prop_assert_eq!(&first, &evaluate(now, &convoys, &routes, &t));
            for pair in first.windows(2) {
                prop_assert!((pair[0].rule, &pair[0].subject) <= (pair[1].rule, &pair[1].subject));
            }
            for f in &first {
                prop_assert_eq!(f.severity, f.rule.severity());
                prop_assert_eq!(f.subject_kind, f.rule.subject_kind());
                prop_assert!(!f.message.is_empty());
            }
            let mut rev_convoys = convoys;
            rev_convoys.reverse();
            let mut rev_routes = routes;
            rev_routes.reverse();
            prop_assert_eq!(&first, &evaluate(now, &rev_convoys, &rev_routes, &t));
        }

        #[test]
        fn terminal_convoys_raise_nothing(
            convoys in proptest::collection::vec(convoy_strategy(terminal_strategy().boxed()), 0..8),
            t in thresholds_strategy(),
            now_offset in -3000i64..60_000,
        ) {
            let found = evaluate(minutes_from_base(now_offset), &convoys, &[], &t);
            prop_assert!(found.is_empty(), "{:?}", found);
        }

        #[test]
        fn overdue_and_departure_missed_are_monotonic_in_time(
            c in convoy_strategy(status_strategy().boxed()),
            t in thresholds_strategy(),
            now_offset in -3000i64..6000,
            later_by in 0i64..100_000,
        ) {
            let now = minutes_from_base(now_offset);
            let later = now + Duration::minutes(later_by);
            let before = evaluate(now, std::slice::from_ref(&c), &[], &t);
            let after = evaluate(later, std::slice::from_ref(&c), &[], &t);
            for rule in [Rule::ConvoyOverdue, Rule::DepartureMissed] {
                if before.iter().any(|f| f.rule == rule) {
                    prop_assert!(after.iter().any(|f| f.rule == rule), "{:?} vanished", rule);
                }
            }
        }

        #[test]
        fn coverage_low_iff_below_percent(
            delivered in 0i64..=i64::MAX,
            required in prop_oneof![-10i64..=10, 1i64..=i64::MAX, 1i64..10_000_000],
            small_delivered in 0i64..10_000_000,
            use_small in any::<bool>(),
            percent in prop_oneof![0u32..=200, any::<u32>()],
        ) {
            let delivered = if use_small { small_delivered } else { delivered };
            let mut r = lachin_route();
            r.trailing_delivered_kg = delivered;
            r.trailing_required_kg = required;
            let t = Thresholds { coverage_low_percent: percent, ..Thresholds::default() };
            let found = evaluate(base(), &[], &[r], &t);
            let expected = required > 0
                && i128::from(delivered) * 100 < i128::from(required) * i128::from(percent);
            prop_assert_eq!(found.iter().any(|f| f.rule == Rule::CoverageLow), expected);
            if required > 0 {
                prop_assert_eq!(
                    coverage_percent(delivered, required),
                    reference_percent(delivered, required)
                );
            }
            if let Some(f) = found.first() {
                let pct = format!("({} %, below {} %)", reference_percent(delivered, required), percent);
                prop_assert!(f.message.ends_with(&pct), "{}", f.message);
            }
        }
    }
}
