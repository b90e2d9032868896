//! The tamper-evident chain of a convoy: the canonical bytes of a convoy and of each of
//! its events, and the SHA-256 chain over them.
//!
//! One chain per convoy, in `seq` order. Its first link (`genesis`) covers the convoy
//! record with its manifest; each event's link covers the event and the link before it:
//!
//! ```text
//! genesis = SHA-256(ZERO || canonical(convoy))
//! link_n  = SHA-256(hex(link_{n-1}) || canonical(event n))
//! ```
//!
//! where `ZERO` is 64 ASCII `0`s, `hex` is 64 lowercase hexadecimal ASCII digits, and `||`
//! is concatenation of bytes. The convoy's head is the link of its last event (the
//! genesis when it has none).
//!
//! A canonical form is compact JSON (no spaces or newlines) of one object whose keys come
//! in the order the structs below declare them, as `serde_json` writes it: strings in
//! UTF-8 with only `"`, `\` and control characters escaped (`\n`, `\r`, `\t`, `\b`, `\f`,
//! otherwise `\u00xx` in lowercase hex), integers in decimal. **A key whose value is null
//! is left out**, so a nullable column added later changes no hash of an event stored
//! before it. The manual (`docs/src/evidence.md`) gives the forms byte by byte.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The link before a convoy's genesis.
pub const ZERO: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A convoy as its chain covers it: every stored column that events never change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConvoyRecord {
    pub id: String,
    pub organization_id: String,
    pub reference: String,
    pub route_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trucks: Option<i32>,
    /// Microseconds since the Unix epoch, and the offset (seconds east of UTC) given.
    pub planned_departure: i64,
    pub planned_departure_offset: i32,
    pub expected_arrival: i64,
    pub expected_arrival_offset: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub body_sha256: String,
    pub created_by: String,
    pub created_at: i64,
    /// In line order.
    pub manifest: Vec<ManifestRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestRecord {
    pub commodity_id: String,
    pub kg: i64,
    /// The quantity and unit the client sent (`"360.5"`, `"t"`).
    pub quantity: String,
    pub unit: String,
}

/// An event as its chain covers it: every stored column, and its cargo lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRecord {
    pub id: String,
    pub convoy_id: String,
    pub seq: i64,
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint_id: Option<String>,
    /// Microseconds since the Unix epoch, and the offset (seconds east of UTC) given.
    pub observed_at: i64,
    pub observed_offset: i32,
    pub recorded_at: i64,
    pub recorded_by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrects: Option<String>,
    /// Trucks counted at the checkpoint (`domain::trucks`), each left out when not given,
    /// so events written before trucks were counted keep their hashes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trucks_passed: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trucks_held: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trucks_turned_back: Option<i32>,
    pub body_sha256: String,
    /// In line order.
    pub lines: Vec<LineRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineRecord {
    pub commodity_id: String,
    pub kg: i64,
    pub quantity: String,
    pub unit: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Compact JSON of a record, keys in declaration order, null keys left out.
pub(crate) fn canonical<T: Serialize>(record: &T) -> Vec<u8> {
    // Serializing plain strings and integers cannot fail.
    serde_json::to_vec(record).unwrap_or_default()
}

/// The canonical bytes of a convoy.
pub fn canonical_convoy(c: &ConvoyRecord) -> Vec<u8> {
    canonical(c)
}

/// The canonical bytes of an event.
pub fn canonical_event(e: &EventRecord) -> Vec<u8> {
    canonical(e)
}

/// `SHA-256(prev || canonical)`, in lowercase hex; `prev` is the hex of the link before.
pub fn link(prev: &str, canonical: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(canonical);
    hex::encode(h.finalize())
}

/// The first link of a convoy's chain.
pub fn genesis(c: &ConvoyRecord) -> String {
    link(ZERO, &canonical_convoy(c))
}

/// The link of an event after `prev`.
pub fn event_link(prev: &str, e: &EventRecord) -> String {
    link(prev, &canonical_event(e))
}

/// One digest over many convoys' heads: SHA-256 of the lines `convoy_id seq head\n`,
/// sorted by convoy id (how a snapshot records the chains it was computed from).
pub fn root_digest<'a>(heads: impl IntoIterator<Item = (&'a str, i64, &'a str)>) -> String {
    let mut lines: Vec<String> = heads
        .into_iter()
        .map(|(id, seq, head)| format!("{id} {seq} {head}\n"))
        .collect();
    lines.sort();
    let mut h = Sha256::new();
    for l in &lines {
        h.update(l.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Something about a convoy's chain that does not match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// The convoy record or its manifest no longer gives the stored genesis.
    Convoy {
        convoy_id: String,
        stored: Option<String>,
        recomputed: String,
    },
    /// The event's content no longer gives its stored link (after the stored link
    /// before it).
    Event {
        convoy_id: String,
        seq: i64,
        event_id: String,
        stored: Option<String>,
        recomputed: String,
    },
    /// The event is not the next in sequence: one was removed, or numbered twice.
    Sequence {
        convoy_id: String,
        seq: i64,
        event_id: String,
        expected_seq: i64,
    },
    /// The link before the event, as stated (an export states it), is not the stored
    /// link of the event before it.
    Prev {
        convoy_id: String,
        seq: i64,
        event_id: String,
        stated: String,
        expected: String,
    },
    /// The convoy's head is not its last event's link (an event was removed, or the head
    /// rewritten).
    Head {
        convoy_id: String,
        stored: Option<String>,
        expected: String,
    },
}

impl Fault {
    /// One sentence for people and logs.
    pub fn message(&self) -> String {
        let shown = |s: &Option<String>| s.clone().unwrap_or_else(|| "none".into());
        match self {
            Fault::Convoy {
                convoy_id,
                stored,
                recomputed,
            } => format!(
                "convoy {convoy_id}: its record or manifest gives genesis {recomputed}, but {} is stored",
                shown(stored)
            ),
            Fault::Event {
                convoy_id,
                seq,
                event_id,
                stored,
                recomputed,
            } => format!(
                "convoy {convoy_id}, event {seq} ({event_id}): its content gives {recomputed}, but {} is stored",
                shown(stored)
            ),
            Fault::Sequence {
                convoy_id,
                seq,
                event_id,
                expected_seq,
            } => format!(
                "convoy {convoy_id}, event {event_id} is numbered {seq} where {expected_seq} comes next"
            ),
            Fault::Prev {
                convoy_id,
                seq,
                event_id,
                stated,
                expected,
            } => format!(
                "convoy {convoy_id}, event {seq} ({event_id}) follows {stated}, but the link before it is {expected}"
            ),
            Fault::Head {
                convoy_id,
                stored,
                expected,
            } => format!(
                "convoy {convoy_id}: its head is {}, but its last link is {expected}",
                shown(stored)
            ),
        }
    }
}

/// Walks one convoy's chain: fed the convoy, then its events in `seq` order with the
/// links stored for them, it recomputes every link from content alone and notes each
/// fault. A fault is judged against the stored link before it, so a changed event is
/// named alone, not every event after it.
#[derive(Debug)]
pub struct Walk {
    convoy_id: String,
    /// The stored link of the previous step (the recomputed one where none is stored).
    stored_prev: String,
    /// The link recomputed from content alone, from the genesis.
    recomputed_prev: String,
    next_seq: i64,
    /// Each step's recomputed link, by seq (0 the genesis).
    pub recomputed: Vec<(i64, String)>,
    pub faults: Vec<Fault>,
    pub events: u64,
}

impl Walk {
    /// Starts at the convoy record; `stored_genesis` is the genesis kept for it.
    pub fn start(convoy: &ConvoyRecord, stored_genesis: Option<&str>) -> Walk {
        let recomputed = genesis(convoy);
        let mut faults = Vec::new();
        if stored_genesis != Some(recomputed.as_str()) {
            faults.push(Fault::Convoy {
                convoy_id: convoy.id.clone(),
                stored: stored_genesis.map(str::to_string),
                recomputed: recomputed.clone(),
            });
        }
        Walk {
            convoy_id: convoy.id.clone(),
            stored_prev: stored_genesis.unwrap_or(&recomputed).to_string(),
            recomputed_prev: recomputed.clone(),
            next_seq: 1,
            recomputed: vec![(0, recomputed)],
            faults,
            events: 0,
        }
    }

    /// The next event with its stored link, and the link before it if the source states
    /// one (an export does; the database keeps it only as the previous event's link).
    pub fn step(&mut self, e: &EventRecord, stored: Option<&str>, stated_prev: Option<&str>) {
        self.events += 1;
        if e.seq != self.next_seq {
            self.faults.push(Fault::Sequence {
                convoy_id: self.convoy_id.clone(),
                seq: e.seq,
                event_id: e.id.clone(),
                expected_seq: self.next_seq,
            });
        }
        if let Some(stated) = stated_prev.filter(|s| *s != self.stored_prev) {
            self.faults.push(Fault::Prev {
                convoy_id: self.convoy_id.clone(),
                seq: e.seq,
                event_id: e.id.clone(),
                stated: stated.to_string(),
                expected: self.stored_prev.clone(),
            });
        }
        let canonical = canonical_event(e);
        let against_stored = link(&self.stored_prev, &canonical);
        if stored != Some(against_stored.as_str()) {
            self.faults.push(Fault::Event {
                convoy_id: self.convoy_id.clone(),
                seq: e.seq,
                event_id: e.id.clone(),
                stored: stored.map(str::to_string),
                recomputed: against_stored.clone(),
            });
        }
        self.recomputed_prev = link(&self.recomputed_prev, &canonical);
        self.recomputed.push((e.seq, self.recomputed_prev.clone()));
        self.stored_prev = stored.map_or(against_stored, str::to_string);
        self.next_seq = e.seq.max(self.next_seq) + 1;
    }

    /// Ends at the convoy's stored head (`None` to skip that check, when the source keeps
    /// no head apart from the last link).
    pub fn finish(mut self, stored_head: Option<Option<&str>>) -> Walk {
        if let Some(head) = stored_head {
            if head != Some(self.stored_prev.as_str()) {
                self.faults.push(Fault::Head {
                    convoy_id: self.convoy_id.clone(),
                    stored: head.map(str::to_string),
                    expected: self.stored_prev.clone(),
                });
            }
        }
        self
    }

    /// The head recomputed from content alone.
    pub fn recomputed_head(&self) -> (i64, &str) {
        self.recomputed
            .last()
            .map_or((0, self.recomputed_prev.as_str()), |(s, h)| {
                (*s, h.as_str())
            })
    }

    /// The recomputed link at `seq`, if the chain has one.
    pub fn recomputed_at(&self, seq: i64) -> Option<&str> {
        self.recomputed
            .iter()
            .find(|(s, _)| *s == seq)
            .map(|(_, h)| h.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn convoy() -> ConvoyRecord {
        ConvoyRecord {
            id: "c1".into(),
            organization_id: "o1".into(),
            reference: "ARM-2023-07-26".into(),
            route_id: "r1".into(),
            trucks: Some(19),
            planned_departure: 1_690_344_000_000_000,
            planned_departure_offset: 14_400,
            expected_arrival: 1_690_372_800_000_000,
            expected_arrival_offset: 14_400,
            note: None,
            body_sha256: "b".into(),
            created_by: "t1".into(),
            created_at: 1_690_300_000_000_000,
            manifest: vec![ManifestRecord {
                commodity_id: "flour".into(),
                kg: 360_000,
                quantity: "360".into(),
                unit: "t".into(),
            }],
        }
    }

    fn event(seq: i64) -> EventRecord {
        EventRecord {
            id: format!("e{seq}"),
            convoy_id: "c1".into(),
            seq,
            kind: "departed".into(),
            checkpoint_id: Some("goris".into()),
            observed_at: 1_690_344_000_000_000,
            observed_offset: 14_400,
            recorded_at: 1_690_344_100_000_000,
            recorded_by: "t1".into(),
            reason: None,
            note: Some("line \"one\"\nline two".into()),
            corrects: None,
            trucks_passed: None,
            trucks_held: None,
            trucks_turned_back: None,
            body_sha256: "h".into(),
            lines: vec![LineRecord {
                commodity_id: "flour".into(),
                kg: 359_500,
                quantity: "359.5".into(),
                unit: "t".into(),
                reason: Some("short_loaded".into()),
            }],
        }
    }

    #[test]
    fn canonical_forms_are_compact_json_in_declared_order_without_nulls() {
        assert_eq!(
            String::from_utf8(canonical_event(&event(1))).unwrap(),
            r#"{"id":"e1","convoy_id":"c1","seq":1,"kind":"departed","checkpoint_id":"goris","observed_at":1690344000000000,"observed_offset":14400,"recorded_at":1690344100000000,"recorded_by":"t1","note":"line \"one\"\nline two","body_sha256":"h","lines":[{"commodity_id":"flour","kg":359500,"quantity":"359.5","unit":"t","reason":"short_loaded"}]}"#
        );
        assert_eq!(
            String::from_utf8(canonical_convoy(&convoy())).unwrap(),
            r#"{"id":"c1","organization_id":"o1","reference":"ARM-2023-07-26","route_id":"r1","trucks":19,"planned_departure":1690344000000000,"planned_departure_offset":14400,"expected_arrival":1690372800000000,"expected_arrival_offset":14400,"body_sha256":"b","created_by":"t1","created_at":1690300000000000,"manifest":[{"commodity_id":"flour","kg":360000,"quantity":"360","unit":"t"}]}"#
        );
    }

    #[test]
    fn known_vectors() {
        // SHA-256 of the 64 zeros alone, as any sha256sum gives it.
        assert_eq!(
            link(ZERO, b""),
            "60e05bd1b195af2f94112fa7197a5c88289058840ce7c6df9693756bc6250f55"
        );
        // printf '%s%s' "$ZERO" '{"id":"c1",…}' | sha256sum, over the canonical form
        // above; the event's link as Python's json.dumps(separators=(",", ":"),
        // ensure_ascii=False) and hashlib give it.
        let g = genesis(&convoy());
        assert_eq!(
            g,
            "d78bf681e9c5d4596ea4c64311f01c87d5ade7a1327b030fb6d8be2fb78eccc3"
        );
        assert_eq!(
            event_link(&g, &event(1)),
            "5af36aa1b6af216a218dd0e5571a3d9249ddc62466f2722b724129bdaf011b91"
        );
        assert_eq!(
            root_digest([("b", 2, "y"), ("a", 1, "x")]),
            hex::encode(Sha256::digest(b"a 1 x\nb 2 y\n"))
        );
    }

    #[test]
    fn a_null_field_is_left_out_so_a_later_column_keeps_old_hashes() {
        let mut e = event(1);
        e.note = None;
        let text = String::from_utf8(canonical_event(&e)).unwrap();
        assert!(!text.contains("note"), "{text}");
        // A record read back from JSON with an unknown field absent hashes the same.
        let back: EventRecord = serde_json::from_slice(&canonical_event(&e)).unwrap();
        assert_eq!(canonical_event(&back), canonical_event(&e));
    }

    #[test]
    fn every_field_change_changes_the_link() {
        let base = event(1);
        let h = event_link(ZERO, &base);
        let changes: Vec<fn(&mut EventRecord)> = vec![
            |e| e.id.push('x'),
            |e| e.convoy_id.push('x'),
            |e| e.seq += 1,
            |e| e.kind = "cleared".into(),
            |e| e.checkpoint_id = None,
            |e| e.observed_at += 1,
            |e| e.observed_offset = 0,
            |e| e.recorded_at += 1,
            |e| e.recorded_by.push('x'),
            |e| e.reason = Some("other".into()),
            |e| e.note = None,
            |e| e.corrects = Some("e0".into()),
            |e| e.trucks_passed = Some(3),
            |e| e.trucks_held = Some(16),
            |e| e.trucks_turned_back = Some(0),
            |e| e.body_sha256.push('x'),
            |e| e.lines[0].commodity_id.push('x'),
            |e| e.lines[0].kg += 1,
            |e| e.lines[0].quantity.push('0'),
            |e| e.lines[0].unit = "kg".into(),
            |e| e.lines[0].reason = None,
            |e| e.lines.push(e.lines[0].clone()),
            |e| e.lines.clear(),
        ];
        for (i, change) in changes.iter().enumerate() {
            let mut e = base.clone();
            change(&mut e);
            assert_ne!(event_link(ZERO, &e), h, "change {i}");
        }
        assert_ne!(event_link(&"1".repeat(64), &base), h, "the link before");
        let mut c = convoy();
        c.manifest[0].kg -= 1;
        assert_ne!(genesis(&c), genesis(&convoy()));
    }

    fn walk(events: &[EventRecord], stored: &[String]) -> Walk {
        let g = genesis(&convoy());
        let mut w = Walk::start(&convoy(), Some(&g));
        for (e, s) in events.iter().zip(stored) {
            w.step(e, Some(s), None);
        }
        let head = stored.last().cloned().unwrap_or(g);
        w.finish(Some(Some(&head)))
    }

    fn chain(events: &[EventRecord]) -> Vec<String> {
        let mut prev = genesis(&convoy());
        events
            .iter()
            .map(|e| {
                prev = event_link(&prev, e);
                prev.clone()
            })
            .collect()
    }

    #[test]
    fn a_changed_event_is_named_alone() {
        let events: Vec<EventRecord> = (1..=4).map(event).collect();
        let stored = chain(&events);
        assert!(walk(&events, &stored).faults.is_empty());
        let mut tampered = events;
        tampered[1].lines[0].kg = 1;
        let w = walk(&tampered, &stored);
        assert_eq!(w.faults.len(), 1, "{:?}", w.faults);
        assert!(matches!(&w.faults[0], Fault::Event { seq: 2, .. }));
        // Recomputed from content alone, the head differs from the stored one.
        assert_ne!(w.recomputed_head().1, stored[3]);
    }

    #[test]
    fn a_removed_event_breaks_the_sequence() {
        let events: Vec<EventRecord> = (1..=3).map(event).collect();
        let stored = chain(&events);
        let w = walk(
            &[events[0].clone(), events[2].clone()],
            &[stored[0].clone(), stored[2].clone()],
        );
        assert!(w.faults.iter().any(|f| matches!(
            f,
            Fault::Sequence {
                seq: 3,
                expected_seq: 2,
                ..
            }
        )));
    }

    proptest! {
        #[test]
        fn a_chain_recomputed_from_its_own_links_is_clean_and_any_kg_change_is_found(
            kgs in proptest::collection::vec(0i64..1_000_000, 1..12),
            which in any::<proptest::sample::Index>(),
            delta in 1i64..1000,
        ) {
            let events: Vec<EventRecord> = kgs.iter().enumerate().map(|(i, kg)| {
                let mut e = event(i as i64 + 1);
                e.lines[0].kg = *kg;
                e
            }).collect();
            let stored = chain(&events);
            prop_assert!(walk(&events, &stored).faults.is_empty());
            let i = which.index(events.len());
            let mut tampered = events;
            tampered[i].lines[0].kg += delta;
            let w = walk(&tampered, &stored);
            prop_assert_eq!(w.faults.len(), 1);
            let is_event_i = matches!(&w.faults[0], Fault::Event { seq, .. } if *seq == i as i64 + 1);
            prop_assert!(is_event_i);
        }
    }
}
