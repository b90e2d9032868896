//! Trucks along a route, counted beside the tonnes: at each checkpoint, how many trucks
//! reached it, went on from it (`passed`; at the destination, those that arrived), were
//! held there and were turned back from it.
//!
//! Field logs rarely give every count, so counts carry forward as cargo does:
//!
//! - a count given at a checkpoint holds there until a later event at that checkpoint
//!   (in observed order) gives another; an event there with no count keeps it;
//! - a checkpoint the convoy went on from (a `departed` or `cleared` there, a `delivered`
//!   at the destination, or any event further along) without a `passed` count passed every
//!   truck that reached it; the trucks that reach a checkpoint are those that passed the
//!   one before, and at the origin the convoy's planned trucks;
//! - a `held` (or `turned_back`) there without a count held (or turned back) every truck
//!   that reached it.
//!
//! Voided events count for nothing, exactly as in the ledger.

use serde::{Deserialize, Serialize};

use crate::domain::ledger::EventKind;

/// The most trucks one count may give (and one convoy may plan).
pub const MAX_TRUCKS: i32 = 1000;

/// The truck counts one event gives; `None` where it gives none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TruckCounts {
    pub passed: Option<i32>,
    pub held: Option<i32>,
    pub turned_back: Option<i32>,
}

impl TruckCounts {
    pub fn is_empty(&self) -> bool {
        self.passed.is_none() && self.held.is_none() && self.turned_back.is_none()
    }
}

/// One event as the truck count sees it.
#[derive(Debug, Clone)]
pub struct TruckEvent {
    pub kind: EventKind,
    /// The checkpoint code it names, if any (as in the ledger: none means the origin for
    /// `departed`, the destination for `delivered`, and where the convoy was otherwise).
    pub checkpoint: Option<String>,
    /// Observed instant (any monotonic unit) and recording order, which sort the events.
    pub observed_at: i64,
    pub seq: i64,
    pub voided: bool,
    pub counts: TruckCounts,
}

/// The trucks at one checkpoint of the route; `None` where nothing is known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TruckStep {
    pub checkpoint: String,
    /// Trucks that reached the checkpoint (at the origin: the planned trucks, once the
    /// convoy set off).
    pub arrived: Option<i32>,
    pub passed: Option<i32>,
    pub held: Option<i32>,
    pub turned_back: Option<i32>,
}

/// What the events say about one checkpoint.
#[derive(Debug, Clone, Copy, Default)]
struct Seen {
    given: TruckCounts,
    reached: bool,
    went_on: bool,
    held: bool,
    turned_back: bool,
}

/// The trucks at each checkpoint of `route` (codes in travel order) for a convoy that
/// planned `planned` trucks, from its events in any order (see the module's rules).
pub fn along(route: &[String], planned: Option<i32>, events: &[TruckEvent]) -> Vec<TruckStep> {
    let last = route.len().saturating_sub(1);
    let mut seen = vec![Seen::default(); route.len()];
    let mut live: Vec<&TruckEvent> = events.iter().filter(|e| !e.voided).collect();
    live.sort_by_key(|e| (e.observed_at, e.seq));
    let mut current = 0;
    for e in live {
        if matches!(e.kind, EventKind::Cancelled | EventKind::Closed) {
            continue;
        }
        let named = e
            .checkpoint
            .as_deref()
            .and_then(|code| route.iter().position(|c| c == code));
        let at = match (named, e.kind) {
            (Some(p), _) => p,
            (None, EventKind::Departed) => 0,
            (None, EventKind::Delivered) => last,
            (None, _) => current,
        };
        current = at;
        for (i, s) in seen.iter_mut().enumerate().take(at + 1) {
            s.reached = true;
            if i < at {
                s.went_on = true;
            }
        }
        let Some(s) = seen.get_mut(at) else {
            continue;
        };
        match e.kind {
            EventKind::Departed | EventKind::Cleared | EventKind::Delivered => s.went_on = true,
            EventKind::Held => s.held = true,
            EventKind::TurnedBack => s.turned_back = true,
            _ => {}
        }
        let c = e.counts;
        s.given = TruckCounts {
            passed: c.passed.or(s.given.passed),
            held: c.held.or(s.given.held),
            turned_back: c.turned_back.or(s.given.turned_back),
        };
    }
    let mut reaching = planned;
    route
        .iter()
        .zip(seen)
        .map(|(code, s)| {
            let arrived = s.reached.then_some(reaching).flatten();
            let or_all = |given: Option<i32>, all: bool| given.or(all.then_some(arrived).flatten());
            let step = TruckStep {
                checkpoint: code.clone(),
                arrived,
                passed: or_all(s.given.passed, s.went_on),
                held: or_all(s.given.held, s.held),
                turned_back: or_all(s.given.turned_back, s.turned_back),
            };
            reaching = step.passed;
            step
        })
        .collect()
}

/// The trucks that arrived at the destination (the last step's `passed`).
pub fn arrived(steps: &[TruckStep]) -> Option<i32> {
    steps.last().and_then(|s| s.passed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use EventKind::*;

    fn route() -> Vec<String> {
        ["GORIS", "KORNIDZOR", "HAKARI", "STEPANAKERT"]
            .map(String::from)
            .to_vec()
    }

    fn ev(
        kind: EventKind,
        cp: Option<&str>,
        at: i64,
        counts: (Option<i32>, Option<i32>, Option<i32>),
    ) -> TruckEvent {
        TruckEvent {
            kind,
            checkpoint: cp.map(String::from),
            observed_at: at,
            seq: at,
            voided: false,
            counts: TruckCounts {
                passed: counts.0,
                held: counts.1,
                turned_back: counts.2,
            },
        }
    }

    const NONE: (Option<i32>, Option<i32>, Option<i32>) = (None, None, None);

    /// (arrived, passed, held, turned_back) per checkpoint, in route order.
    type Row = (Option<i32>, Option<i32>, Option<i32>, Option<i32>);

    fn rows(planned: Option<i32>, events: &[TruckEvent]) -> Vec<Row> {
        along(&route(), planned, events)
            .into_iter()
            .map(|s| (s.arrived, s.passed, s.held, s.turned_back))
            .collect()
    }

    const N: Row = (None, None, None, None);

    /// A table case: its name, the planned trucks, the events and the rows wanted.
    type Case = (&'static str, Option<i32>, Vec<TruckEvent>, Vec<Row>);

    #[test]
    fn counts_carry_forward_along_the_route() {
        let cases: Vec<Case> = vec![
            ("nothing happened yet", Some(19), vec![], vec![N, N, N, N]),
            (
                "departed: every planned truck passed the origin",
                Some(19),
                vec![ev(Departed, None, 1, NONE)],
                vec![(Some(19), Some(19), None, None), N, N, N],
            ),
            (
                "held at KORNIDZOR without a count: all 19 held",
                Some(19),
                vec![
                    ev(Departed, None, 1, NONE),
                    ev(Held, Some("KORNIDZOR"), 2, NONE),
                ],
                vec![
                    (Some(19), Some(19), None, None),
                    (Some(19), None, Some(19), None),
                    N,
                    N,
                ],
            ),
            (
                "3 passed, 16 held; the later clearance without a count keeps 3",
                Some(19),
                vec![
                    ev(Held, Some("KORNIDZOR"), 2, (Some(3), Some(16), None)),
                    ev(Cleared, Some("KORNIDZOR"), 3, NONE),
                    ev(Delivered, None, 4, NONE),
                ],
                vec![
                    (Some(19), Some(19), None, None),
                    (Some(19), Some(3), Some(16), None),
                    (Some(3), Some(3), None, None),
                    (Some(3), Some(3), None, None),
                ],
            ),
            (
                "turned back at HAKARI: 2 of 17 sent back, the count given later wins",
                Some(19),
                vec![
                    ev(Cleared, Some("KORNIDZOR"), 2, (Some(17), None, None)),
                    ev(Held, Some("HAKARI"), 3, (None, None, Some(5))),
                    ev(TurnedBack, Some("HAKARI"), 4, (None, None, Some(2))),
                ],
                vec![
                    (Some(19), Some(19), None, None),
                    (Some(19), Some(17), None, None),
                    (Some(17), None, Some(17), Some(2)),
                    N,
                ],
            ),
            (
                "turned back without a count: every truck that reached it",
                Some(4),
                vec![ev(TurnedBack, Some("KORNIDZOR"), 2, NONE)],
                vec![
                    (Some(4), Some(4), None, None),
                    (Some(4), None, None, Some(4)),
                    N,
                    N,
                ],
            ),
            (
                "no planned trucks: only the counts given, carried on",
                None,
                vec![
                    ev(Departed, None, 1, NONE),
                    ev(Cleared, Some("HAKARI"), 2, (Some(12), None, None)),
                    ev(Delivered, None, 3, NONE),
                ],
                vec![
                    N,
                    N,
                    (None, Some(12), None, None),
                    (Some(12), Some(12), None, None),
                ],
            ),
            (
                "an event without a checkpoint is where the convoy was",
                Some(6),
                vec![
                    ev(Arrived, Some("HAKARI"), 1, NONE),
                    ev(Held, None, 2, (None, Some(6), None)),
                ],
                vec![
                    (Some(6), Some(6), None, None),
                    (Some(6), Some(6), None, None),
                    (Some(6), None, Some(6), None),
                    N,
                ],
            ),
            (
                "observed order, not arrival order",
                Some(5),
                vec![
                    ev(Cleared, Some("KORNIDZOR"), 9, (Some(4), None, None)),
                    ev(Cleared, Some("KORNIDZOR"), 5, (Some(1), None, None)),
                ],
                vec![
                    (Some(5), Some(5), None, None),
                    (Some(5), Some(4), None, None),
                    N,
                    N,
                ],
            ),
            (
                "cancelled and closed give no counts",
                Some(5),
                vec![ev(Cancelled, None, 1, (Some(3), None, None))],
                vec![N, N, N, N],
            ),
        ];
        for (name, planned, events, want) in cases {
            assert_eq!(rows(planned, &events), want, "{name}");
        }
    }

    #[test]
    fn a_voided_count_counts_for_nothing() {
        let mut wrong = ev(Cleared, Some("KORNIDZOR"), 2, (Some(1), None, None));
        wrong.voided = true;
        let fixed = ev(Cleared, Some("KORNIDZOR"), 2, (Some(18), None, None));
        let steps = along(
            &route(),
            Some(19),
            &[wrong, fixed, ev(Delivered, None, 3, NONE)],
        );
        assert_eq!(steps[1].passed, Some(18));
        assert_eq!(arrived(&steps), Some(18));
    }

    fn arb_event() -> impl Strategy<Value = TruckEvent> {
        let kinds = prop::sample::select(vec![
            Departed, Arrived, Held, Cleared, TurnedBack, Delivered,
        ]);
        let cp = prop::option::of(prop::sample::select(route()));
        let count = || prop::option::of(0..=MAX_TRUCKS);
        (
            kinds,
            cp,
            0..20i64,
            any::<bool>(),
            count(),
            count(),
            count(),
        )
            .prop_map(
                |(kind, checkpoint, at, voided, passed, held, turned_back)| TruckEvent {
                    kind,
                    checkpoint,
                    observed_at: at,
                    seq: at,
                    voided,
                    counts: TruckCounts {
                        passed,
                        held,
                        turned_back,
                    },
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn input_order_does_not_matter(
            planned in prop::option::of(1..=MAX_TRUCKS),
            events in prop::collection::vec(arb_event(), 0..8),
        ) {
            // Distinct recording order, so that ties sort alike.
            let number = |v: &mut Vec<TruckEvent>| for (i, e) in v.iter_mut().enumerate() { e.seq = e.observed_at * 100 + i as i64; };
            let mut forward = events;
            number(&mut forward);
            let mut backward = forward.clone();
            backward.reverse();
            prop_assert_eq!(along(&route(), planned, &forward), along(&route(), planned, &backward));
        }

        #[test]
        fn voiding_equals_removing_and_counts_stay_in_range(
            planned in prop::option::of(1..=MAX_TRUCKS),
            events in prop::collection::vec(arb_event(), 0..8),
        ) {
            let live: Vec<TruckEvent> = events.iter().filter(|e| !e.voided).cloned().collect();
            let steps = along(&route(), planned, &events);
            prop_assert_eq!(&steps, &along(&route(), planned, &live));
            prop_assert_eq!(steps.len(), route().len());
            for s in &steps {
                for n in [s.arrived, s.passed, s.held, s.turned_back].into_iter().flatten() {
                    prop_assert!((0..=MAX_TRUCKS).contains(&n));
                }
            }
            // Without any count given, nothing exceeds the plan and nothing grows downstream.
            if live.iter().all(|e| e.counts.is_empty()) {
                let mut before = planned;
                for s in &steps {
                    if let (Some(a), Some(b)) = (s.arrived, before) { prop_assert!(a <= b); }
                    if let Some(p) = s.passed { prop_assert_eq!(Some(p), s.arrived); }
                    before = s.passed.or(before);
                }
            }
        }
    }
}
