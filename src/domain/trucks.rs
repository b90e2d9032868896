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
    /// Whether the convoy went on from the checkpoint (at the destination: delivered
    /// there), whatever the counts.
    pub went_on: bool,
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
                went_on: s.went_on,
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

/// One step as it is kept on the convoy's row (`convoys.truck_steps`): the counts and
/// whether the convoy went on, without the checkpoint, which is the route's stop at the
/// same position (routes never change their stops).
type KeptStep = (Option<i32>, Option<i32>, Option<i32>, Option<i32>, bool);

/// A convoy's steps as kept beside its figures, so that the weekly report reads them
/// instead of every event: a compact JSON array, one `[arrived, passed, held,
/// turned_back, went_on]` per stop in route order. Numbers and booleans only.
pub fn encode_steps(steps: &[TruckStep]) -> String {
    let kept: Vec<KeptStep> = steps
        .iter()
        .map(|s| (s.arrived, s.passed, s.held, s.turned_back, s.went_on))
        .collect();
    serde_json::to_string(&kept).unwrap_or_default()
}

/// The steps [`encode_steps`] kept, given back their checkpoints (`route`, codes in travel
/// order). `None` when the text is not such a list or its length is not the route's, so
/// that the caller counts from the events instead.
pub fn decode_steps(route: &[String], kept: &str) -> Option<Vec<TruckStep>> {
    let kept: Vec<KeptStep> = serde_json::from_str(kept).ok()?;
    (kept.len() == route.len()).then(|| {
        route
            .iter()
            .zip(kept)
            .map(
                |(code, (arrived, passed, held, turned_back, went_on))| TruckStep {
                    checkpoint: code.clone(),
                    arrived,
                    passed,
                    held,
                    turned_back,
                    went_on,
                },
            )
            .collect()
    })
}

/// The trucks of several convoys added up, as the weekly report counts them for a route
/// or the whole week. Counts that are not known are not guessed: the convoys they
/// belong to are counted apart.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TruckTally {
    /// The planned trucks of the convoys that gave a number.
    pub planned: i64,
    /// Convoys that gave no planned number; their trucks are in no `planned`.
    pub convoys_without_planned: i64,
    /// Trucks that arrived at the destination so far ([`arrived`]; none of a convoy
    /// that has not got there).
    pub arrived: i64,
    /// Convoys delivered at the destination with no count and no plan saying how many
    /// trucks arrived; their trucks are in no `arrived`.
    pub convoys_arrived_uncounted: i64,
}

impl TruckTally {
    /// Adds one convoy that planned `planned` trucks, whose steps are `steps` (from
    /// [`along`]).
    pub fn add(&mut self, planned: Option<i32>, steps: &[TruckStep]) {
        match planned {
            Some(n) => self.planned += i64::from(n),
            None => self.convoys_without_planned += 1,
        }
        match (arrived(steps), steps.last().is_some_and(|s| s.went_on)) {
            (Some(n), _) => self.arrived += i64::from(n),
            (None, true) => self.convoys_arrived_uncounted += 1,
            (None, false) => {}
        }
    }

    /// Adds another tally to this one.
    pub fn merge(&mut self, other: &TruckTally) {
        self.planned += other.planned;
        self.convoys_without_planned += other.convoys_without_planned;
        self.arrived += other.arrived;
        self.convoys_arrived_uncounted += other.convoys_arrived_uncounted;
    }
}

/// The trucks at one checkpoint added up over several convoys: the counts known (given
/// or carried forward), nothing for a convoy whose count there is not known.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointTally {
    pub arrived: i64,
    pub passed: i64,
    pub held: i64,
    pub turned_back: i64,
}

impl CheckpointTally {
    /// Adds one convoy's step at this checkpoint; false (and nothing added) when the
    /// step knows no count.
    pub fn add(&mut self, s: &TruckStep) -> bool {
        let counts = [s.arrived, s.passed, s.held, s.turned_back];
        if counts.iter().all(Option::is_none) {
            return false;
        }
        let n = |c: Option<i32>| c.map_or(0, i64::from);
        self.arrived += n(s.arrived);
        self.passed += n(s.passed);
        self.held += n(s.held);
        self.turned_back += n(s.turned_back);
        true
    }
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

    /// A tally case: its name, the convoys (planned trucks and events), the tally wanted.
    type TallyCase = (
        &'static str,
        Vec<(Option<i32>, Vec<TruckEvent>)>,
        TruckTally,
    );

    #[test]
    fn a_tally_adds_planned_and_arrived_and_counts_the_unknown_apart() {
        let tally = |convoys: &[(Option<i32>, Vec<TruckEvent>)]| {
            let mut t = TruckTally::default();
            for (planned, events) in convoys {
                t.add(*planned, &along(&route(), *planned, events));
            }
            t
        };
        let delivered = |passed: Option<i32>| {
            vec![
                ev(Departed, None, 1, NONE),
                ev(Delivered, None, 2, (passed, None, None)),
            ]
        };
        let held = vec![ev(Held, Some("KORNIDZOR"), 1, NONE)];
        let at_destination = vec![ev(Arrived, Some("STEPANAKERT"), 1, NONE)];
        let t = |planned, without, arrived, uncounted| TruckTally {
            planned,
            convoys_without_planned: without,
            arrived,
            convoys_arrived_uncounted: uncounted,
        };
        let cases: Vec<TallyCase> = vec![
            ("no convoy", vec![], t(0, 0, 0, 0)),
            (
                "held: planned, none arrived",
                vec![(Some(19), held.clone())],
                t(19, 0, 0, 0),
            ),
            (
                "delivered without a count: all planned",
                vec![(Some(4), delivered(None))],
                t(4, 0, 4, 0),
            ),
            (
                "delivered with a count",
                vec![(Some(4), delivered(Some(3)))],
                t(4, 0, 3, 0),
            ),
            (
                "at the destination, not yet delivered: none arrived yet",
                vec![(Some(4), at_destination)],
                t(4, 0, 0, 0),
            ),
            (
                "no plan: counted apart, and its arrival is uncounted",
                vec![(None, delivered(None)), (Some(19), held)],
                t(19, 1, 0, 1),
            ),
            (
                "no plan but a count on delivery",
                vec![(None, delivered(Some(2)))],
                t(0, 1, 2, 0),
            ),
        ];
        for (name, convoys, want) in cases {
            assert_eq!(tally(&convoys), want, "{name}");
        }
        let mut a = t(19, 1, 3, 0);
        a.merge(&t(4, 0, 4, 1));
        assert_eq!(a, t(23, 1, 7, 1));
    }

    #[test]
    fn a_checkpoint_tally_adds_the_known_counts_only() {
        let steps = along(
            &route(),
            Some(19),
            &[ev(Held, Some("KORNIDZOR"), 2, (Some(3), Some(16), None))],
        );
        let unknown = along(&route(), None, &[ev(Held, Some("KORNIDZOR"), 2, NONE)]);
        let mut at = CheckpointTally::default();
        assert!(at.add(&steps[1]));
        assert!(!at.add(&unknown[1]), "no count known there");
        assert!(at.add(&steps[1]));
        assert_eq!(
            at,
            CheckpointTally {
                arrived: 38,
                passed: 6,
                held: 32,
                turned_back: 0
            }
        );
        assert!(!CheckpointTally::default().add(&steps[2]));
    }

    #[test]
    fn kept_steps_are_compact_and_read_back_only_for_their_route() {
        let steps = along(
            &route(),
            Some(19),
            &[ev(Held, Some("KORNIDZOR"), 2, (Some(3), Some(16), None))],
        );
        let kept = encode_steps(&steps);
        assert_eq!(
            kept,
            "[[19,19,null,null,true],[19,3,16,null,false],[null,null,null,null,false],[null,null,null,null,false]]"
        );
        assert_eq!(decode_steps(&route(), &kept), Some(steps));
        let cases: [(&str, &str); 4] = [
            ("a route of another length", "[[19,19,null,null,true]]"),
            ("not JSON", "19,19"),
            ("a count that is not a number", "[[\"19\",19,null,null,true],[19,3,16,null,false],[null,null,null,null,false],[null,null,null,null,false]]"),
            ("empty", ""),
        ];
        for (name, text) in cases {
            assert_eq!(decode_steps(&route(), text), None, "{name}");
        }
        assert_eq!(decode_steps(&[], "[]"), Some(vec![]));
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
        fn kept_steps_read_back_as_they_were(
            planned in prop::option::of(1..=MAX_TRUCKS),
            events in prop::collection::vec(arb_event(), 0..8),
        ) {
            let steps = along(&route(), planned, &events);
            prop_assert_eq!(decode_steps(&route(), &encode_steps(&steps)), Some(steps));
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
