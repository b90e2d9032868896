//! Table-driven and unit tests of the ledger: every case names its events and the exact
//! figures, waterfall or error message they must give.

use chrono::{TimeDelta, TimeZone};
use EventKind::*;

use super::figures::add_figures;
use super::*;
use crate::domain::quantity::format_tonnes;

pub(super) const FLOUR: &str = "flour";
pub(super) const OIL: &str = "sunflower_oil";
pub(super) const GORIS: &str = "GORIS";
pub(super) const KORNIDZOR: &str = "KORNIDZOR";
pub(super) const HAKARI: &str = "HAKARI";
pub(super) const SHUSHA: &str = "SHUSHA";
pub(super) const STEPANAKERT: &str = "STEPANAKERT";

pub(super) fn route() -> Route {
    Route::new([GORIS, KORNIDZOR, HAKARI, SHUSHA, STEPANAKERT])
}

fn manifest_of(flour: Kg, oil: Kg) -> Manifest {
    Manifest(BTreeMap::from([
        (FLOUR.to_string(), flour),
        (OIL.to_string(), oil),
    ]))
}

/// The fixture manifest: 300 t of flour and 1.84 t of sunflower oil.
pub(super) fn manifest() -> Manifest {
    manifest_of(300_000, 1_840)
}

/// The 360 t convoy: the same two commodities, 360 t in total.
fn manifest_360() -> Manifest {
    manifest_of(358_160, 1_840)
}

/// 2023-07-27T00:00:00Z plus `minute` minutes.
pub(super) fn at(minute: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2023, 7, 27, 0, 0, 0).unwrap() + TimeDelta::minutes(minute)
}

fn id(seq: i64) -> Uuid {
    Uuid::from_u128(seq as u128)
}

/// An event whose id is derived from its seq, so error cases can name it.
fn ev(seq: i64, kind: EventKind, checkpoint: Option<&str>, minute: i64) -> LedgerEvent {
    LedgerEvent {
        id: id(seq),
        kind,
        checkpoint: checkpoint.map(str::to_string),
        observed_at: at(minute),
        seq,
        cargo: Vec::new(),
        reason: None,
        voided: false,
    }
}

impl LedgerEvent {
    fn line(mut self, commodity: &str, kg: Kg, reason: Option<Reason>) -> Self {
        self.cargo.push(CargoLine {
            commodity: commodity.to_string(),
            kg,
            reason,
        });
        self
    }

    fn because(mut self, reason: Reason) -> Self {
        self.reason = Some(reason);
        self
    }

    fn void(mut self) -> Self {
        self.voided = true;
        self
    }
}

/// Expected figures, built from the plan by moving kilograms out of
/// `outstanding` into buckets, so every expectation balances by
/// construction and the test states only what happened.
#[derive(Clone, Debug)]
struct Want(Figures);

fn want(planned: Kg) -> Want {
    Want(Figures {
        planned,
        loaded: planned,
        outstanding: planned,
        ..Figures::default()
    })
}

impl Want {
    fn delivered(mut self, kg: Kg) -> Self {
        self.0.delivered += kg;
        self.0.outstanding -= kg;
        self
    }
    fn short_loaded(mut self, kg: Kg) -> Self {
        self.0.short_loaded += kg;
        self.0.loaded -= kg;
        self.0.outstanding -= kg;
        self
    }
    fn denied(mut self, checkpoint: &str, kg: Kg) -> Self {
        self.0.denied += kg;
        *self
            .0
            .denied_by_checkpoint
            .entry(checkpoint.to_string())
            .or_insert(0) += kg;
        self.0.outstanding -= kg;
        self
    }
    fn lost(mut self, checkpoint: &str, reason: Reason, kg: Kg) -> Self {
        self.0.lost += kg;
        *self
            .0
            .lost_by
            .entry((checkpoint.to_string(), reason))
            .or_insert(0) += kg;
        self.0.outstanding -= kg;
        self
    }
    fn rejected(mut self, kg: Kg) -> Self {
        self.0.rejected += kg;
        self.0.outstanding -= kg;
        self
    }
    fn cancelled(mut self) -> Self {
        self.0.cancelled = self.0.planned;
        self.0.loaded = 0;
        self.0.outstanding = 0;
        self
    }
}

struct Outcome {
    status: Status,
    last: Option<&'static str>,
    flour: Want,
    oil: Want,
    completed: Option<i64>,
}

enum Expect {
    Ok(Box<Outcome>),
    Err { seq: i64, message: String },
}

struct Case {
    name: &'static str,
    manifest: Manifest,
    events: Vec<LedgerEvent>,
    expect: Expect,
}

/// An expected `Ok` case; `(flour, oil)` are the expected figures.
fn ok(
    name: &'static str,
    manifest: Manifest,
    events: Vec<LedgerEvent>,
    status: Status,
    last: Option<&'static str>,
    (flour, oil): (Want, Want),
    completed: Option<i64>,
) -> Case {
    Case {
        name,
        manifest,
        events,
        expect: Expect::Ok(Box::new(Outcome {
            status,
            last,
            flour,
            oil,
            completed,
        })),
    }
}

fn err(name: &'static str, events: Vec<LedgerEvent>, seq: i64, message: &str) -> Case {
    Case {
        name,
        manifest: manifest(),
        events,
        expect: Expect::Err {
            seq,
            message: message.to_string(),
        },
    }
}

fn ok_cases() -> Vec<Case> {
    use Reason::*;
    use Status as S;
    let (f, o) = (want(300_000), want(1_840));
    let (f360, o360) = (want(358_160), want(1_840));
    vec![
        ok(
            "no events: planned",
            manifest(),
            vec![],
            S::Planned,
            None,
            (f.clone(), o.clone()),
            None,
        ),
        ok(
            "the 360 t convoy held at KORNIDZOR",
            manifest_360(),
            vec![ev(1, Departed, None, 60), ev(2, Held, Some(KORNIDZOR), 120)],
            S::Held,
            Some(KORNIDZOR),
            (f360.clone(), o360.clone()),
            None,
        ),
        ok(
            "held without departed implies departure with the plan loaded",
            manifest_360(),
            vec![ev(1, Held, Some(KORNIDZOR), 120)],
            S::Held,
            Some(KORNIDZOR),
            (f360.clone(), o360.clone()),
            None,
        ),
        ok(
            "arrived after held is in transit again",
            manifest(),
            vec![
                ev(1, Held, Some(KORNIDZOR), 60),
                ev(2, Arrived, Some(KORNIDZOR), 90),
            ],
            S::InTransit,
            Some(KORNIDZOR),
            (f.clone(), o.clone()),
            None,
        ),
        ok(
            "turned back at KORNIDZOR denies all 360 t there",
            manifest_360(),
            vec![
                ev(1, Departed, None, 60),
                ev(2, Held, Some(KORNIDZOR), 120),
                ev(3, TurnedBack, Some(KORNIDZOR), 375),
            ],
            S::TurnedBack,
            Some(KORNIDZOR),
            (
                f360.clone().denied(KORNIDZOR, 358_160),
                o360.clone().denied(KORNIDZOR, 1_840),
            ),
            Some(375),
        ),
        ok(
            "turned back defaults to the current position",
            manifest_360(),
            vec![
                ev(1, Held, Some(KORNIDZOR), 120),
                ev(2, TurnedBack, None, 375),
            ],
            S::TurnedBack,
            Some(KORNIDZOR),
            (
                f360.denied(KORNIDZOR, 358_160),
                o360.denied(KORNIDZOR, 1_840),
            ),
            Some(375),
        ),
        ok(
            "cleared HAKARI with 280 t of flour denied the rest, then delivered",
            manifest(),
            vec![
                ev(1, Departed, None, 60),
                ev(2, Cleared, Some(HAKARI), 180).line(FLOUR, 280_000, Some(DeniedAtCheckpoint)),
                ev(3, Delivered, None, 600),
            ],
            S::ShortDelivered,
            Some(STEPANAKERT),
            (
                f.clone().denied(HAKARI, 20_000).delivered(280_000),
                o.clone().delivered(1_840),
            ),
            Some(600),
        ),
        ok(
            "full delivery along the route",
            manifest(),
            vec![
                ev(1, Departed, Some(GORIS), 60),
                ev(2, Arrived, Some(KORNIDZOR), 120),
                ev(3, Cleared, Some(KORNIDZOR), 130),
                ev(4, Delivered, Some(STEPANAKERT), 600),
            ],
            S::Delivered,
            Some(STEPANAKERT),
            (f.clone().delivered(300_000), o.clone().delivered(1_840)),
            Some(600),
        ),
        ok(
            "delivered alone implies departure",
            manifest(),
            vec![ev(1, Delivered, None, 600)],
            S::Delivered,
            Some(STEPANAKERT),
            (f.clone().delivered(300_000), o.clone().delivered(1_840)),
            Some(600),
        ),
        ok(
            "short loaded without a reason",
            manifest(),
            vec![
                ev(1, Departed, None, 60).line(FLOUR, 290_000, None),
                ev(2, Delivered, None, 600),
            ],
            S::ShortDelivered,
            Some(STEPANAKERT),
            (
                f.clone().short_loaded(10_000).delivered(290_000),
                o.clone().delivered(1_840),
            ),
            Some(600),
        ),
        ok(
            "short loaded with reason short_loaded",
            manifest(),
            vec![ev(1, Departed, None, 60).line(FLOUR, 290_000, Some(ShortLoaded))],
            S::InTransit,
            Some(GORIS),
            (f.clone().short_loaded(10_000), o.clone()),
            None,
        ),
        ok(
            "departed with nothing loaded is complete at once",
            manifest(),
            vec![ev(1, Departed, None, 60)
                .line(FLOUR, 0, None)
                .line(OIL, 0, Some(ShortLoaded))],
            S::ShortDelivered,
            Some(GORIS),
            (
                f.clone().short_loaded(300_000),
                o.clone().short_loaded(1_840),
            ),
            Some(60),
        ),
        ok(
            "departed from a named checkpoint after the origin",
            manifest(),
            vec![ev(1, Departed, Some(KORNIDZOR), 60)],
            S::InTransit,
            Some(KORNIDZOR),
            (f.clone(), o.clone()),
            None,
        ),
        ok(
            "two partial deliveries leave the rest outstanding",
            manifest(),
            vec![
                ev(1, Departed, None, 60),
                ev(2, Delivered, None, 600).line(FLOUR, 100_000, None),
                ev(3, Delivered, None, 660).line(FLOUR, 150_000, None),
            ],
            S::InTransit,
            Some(STEPANAKERT),
            (f.clone().delivered(250_000), o.clone().delivered(1_840)),
            None,
        ),
        ok(
            "a last delivery without lines receives the rest",
            manifest(),
            vec![
                ev(1, Departed, None, 60),
                ev(2, Delivered, None, 600).line(FLOUR, 100_000, None),
                ev(3, Delivered, None, 660).line(FLOUR, 150_000, None),
                ev(4, Delivered, None, 720),
            ],
            S::Delivered,
            Some(STEPANAKERT),
            (f.clone().delivered(300_000), o.clone().delivered(1_840)),
            Some(720),
        ),
        ok(
            "held at the destination between deliveries",
            manifest(),
            vec![
                ev(1, Delivered, None, 600).line(FLOUR, 100_000, None),
                ev(2, Held, None, 630),
            ],
            S::Held,
            Some(STEPANAKERT),
            (f.clone().delivered(100_000), o.clone().delivered(1_840)),
            None,
        ),
        ok(
            "delivered with rejected_on_receipt rejects the rest",
            manifest(),
            vec![
                ev(1, Departed, None, 60),
                ev(2, Delivered, None, 600).line(FLOUR, 250_000, Some(RejectedOnReceipt)),
            ],
            S::ShortDelivered,
            Some(STEPANAKERT),
            (
                f.clone().delivered(250_000).rejected(50_000),
                o.clone().delivered(1_840),
            ),
            Some(600),
        ),
        ok(
            "delivered with a loss reason writes the rest off at the destination",
            manifest(),
            vec![ev(1, Delivered, None, 600).line(OIL, 1_000, Some(Spoiled))],
            S::ShortDelivered,
            Some(STEPANAKERT),
            (
                f.clone().delivered(300_000),
                o.clone().delivered(1_000).lost(STEPANAKERT, Spoiled, 840),
            ),
            Some(600),
        ),
        ok(
            "delivered with denied_at_checkpoint counts as denied at the destination",
            manifest(),
            vec![ev(1, Delivered, None, 600).line(FLOUR, 200_000, Some(DeniedAtCheckpoint))],
            S::ShortDelivered,
            Some(STEPANAKERT),
            (
                f.clone().delivered(200_000).denied(STEPANAKERT, 100_000),
                o.clone().delivered(1_840),
            ),
            Some(600),
        ),
        ok(
            "a delivered line with a reason and nothing missing",
            manifest(),
            vec![ev(1, Delivered, None, 600).line(FLOUR, 300_000, Some(Damaged))],
            S::Delivered,
            Some(STEPANAKERT),
            (f.clone().delivered(300_000), o.clone().delivered(1_840)),
            Some(600),
        ),
        ok(
            "cleared with a loss reason",
            manifest(),
            vec![
                ev(1, Departed, None, 60),
                ev(2, Cleared, Some(SHUSHA), 300).line(OIL, 1_500, Some(Confiscated)),
            ],
            S::InTransit,
            Some(SHUSHA),
            (f.clone(), o.clone().lost(SHUSHA, Confiscated, 340)),
            None,
        ),
        ok(
            "cleared without lines carries everything forward",
            manifest(),
            vec![ev(1, Cleared, Some(KORNIDZOR), 120)],
            S::InTransit,
            Some(KORNIDZOR),
            (f.clone(), o.clone()),
            None,
        ),
        ok(
            "closed writes off at the last seen checkpoint with its reason",
            manifest(),
            vec![
                ev(1, Departed, None, 60),
                ev(2, Cleared, Some(KORNIDZOR), 120),
                ev(3, Closed, None, 900).because(Stolen),
            ],
            S::ShortDelivered,
            Some(KORNIDZOR),
            (
                f.clone().lost(KORNIDZOR, Stolen, 300_000),
                o.clone().lost(KORNIDZOR, Stolen, 1_840),
            ),
            Some(900),
        ),
        ok(
            "closed without a reason writes off as other",
            manifest(),
            vec![
                ev(1, Departed, None, 60),
                ev(2, Held, Some(HAKARI), 200),
                ev(3, Closed, None, 900),
            ],
            S::ShortDelivered,
            Some(HAKARI),
            (
                f.clone().lost(HAKARI, Other, 300_000),
                o.clone().lost(HAKARI, Other, 1_840),
            ),
            Some(900),
        ),
        ok(
            "closed before any movement writes off at the origin",
            manifest(),
            vec![ev(1, Closed, None, 900).because(Damaged)],
            S::ShortDelivered,
            Some(GORIS),
            (
                f.clone().lost(GORIS, Damaged, 300_000),
                o.clone().lost(GORIS, Damaged, 1_840),
            ),
            Some(900),
        ),
        ok(
            "closed after a partial delivery writes off at the destination",
            manifest(),
            vec![
                ev(1, Delivered, None, 600).line(FLOUR, 200_000, None),
                ev(2, Closed, None, 900).because(Other),
            ],
            S::ShortDelivered,
            Some(STEPANAKERT),
            (
                f.clone()
                    .delivered(200_000)
                    .lost(STEPANAKERT, Other, 100_000),
                o.clone().delivered(1_840),
            ),
            Some(900),
        ),
        ok(
            "closed with denied_at_checkpoint counts as denied",
            manifest(),
            vec![
                ev(1, Held, Some(HAKARI), 200),
                ev(2, Closed, None, 900).because(DeniedAtCheckpoint),
            ],
            S::ShortDelivered,
            Some(HAKARI),
            (
                f.clone().denied(HAKARI, 300_000),
                o.clone().denied(HAKARI, 1_840),
            ),
            Some(900),
        ),
        ok(
            "cancelled before departure",
            manifest(),
            vec![ev(1, Cancelled, None, 30)],
            S::Cancelled,
            None,
            (f.clone().cancelled(), o.clone().cancelled()),
            Some(30),
        ),
        ok(
            "a reason on cancelled is ignored",
            manifest(),
            vec![ev(1, Cancelled, None, 30).because(Other)],
            S::Cancelled,
            None,
            (f.clone().cancelled(), o.clone().cancelled()),
            Some(30),
        ),
        ok(
            "repeated events at one checkpoint",
            manifest(),
            vec![
                ev(1, Held, Some(KORNIDZOR), 60),
                ev(2, Held, Some(KORNIDZOR), 120),
                ev(3, Arrived, Some(KORNIDZOR), 130),
                ev(4, Cleared, Some(KORNIDZOR), 140).line(FLOUR, 299_000, Some(Damaged)),
                ev(5, Cleared, None, 150).line(FLOUR, 298_000, Some(DeniedAtCheckpoint)),
                ev(6, Held, Some(KORNIDZOR), 160),
            ],
            S::Held,
            Some(KORNIDZOR),
            (
                f.clone()
                    .lost(KORNIDZOR, Damaged, 1_000)
                    .denied(KORNIDZOR, 1_000),
                o.clone(),
            ),
            None,
        ),
        ok(
            "voided events are skipped",
            manifest(),
            vec![
                ev(1, Departed, None, 60),
                ev(2, TurnedBack, Some(HAKARI), 200).void(),
                ev(3, Delivered, None, 600),
            ],
            S::Delivered,
            Some(STEPANAKERT),
            (f.clone().delivered(300_000), o.clone().delivered(1_840)),
            Some(600),
        ),
        ok(
            "a voided event cannot make the ledger inconsistent",
            manifest(),
            vec![
                ev(1, Departed, None, 60),
                ev(2, Departed, None, 70).line(FLOUR, 999_999, None).void(),
            ],
            S::InTransit,
            Some(GORIS),
            (f.clone(), o.clone()),
            None,
        ),
        ok(
            "equal observed times are ordered by seq (held last)",
            manifest(),
            vec![
                ev(2, Held, Some(KORNIDZOR), 60),
                ev(1, Arrived, Some(KORNIDZOR), 60),
            ],
            S::Held,
            Some(KORNIDZOR),
            (f.clone(), o.clone()),
            None,
        ),
        ok(
            "equal observed times are ordered by seq (arrived last)",
            manifest(),
            vec![
                ev(1, Held, Some(KORNIDZOR), 60),
                ev(2, Arrived, Some(KORNIDZOR), 60),
            ],
            S::InTransit,
            Some(KORNIDZOR),
            (f.clone(), o.clone()),
            None,
        ),
        ok(
            "turned back further on after a loss",
            manifest(),
            vec![
                ev(1, Cleared, Some(KORNIDZOR), 120).line(OIL, 1_800, Some(Stolen)),
                ev(2, TurnedBack, Some(HAKARI), 200),
            ],
            S::TurnedBack,
            Some(HAKARI),
            (
                f.clone().denied(HAKARI, 300_000),
                o.clone().lost(KORNIDZOR, Stolen, 40).denied(HAKARI, 1_800),
            ),
            Some(200),
        ),
        ok(
            "everything denied at a checkpoint completes the convoy",
            manifest(),
            vec![ev(1, Cleared, Some(HAKARI), 200)
                .line(FLOUR, 0, Some(DeniedAtCheckpoint))
                .line(OIL, 0, Some(DeniedAtCheckpoint))],
            S::ShortDelivered,
            Some(HAKARI),
            (f.denied(HAKARI, 300_000), o.denied(HAKARI, 1_840)),
            Some(200),
        ),
    ]
}

fn err_cases() -> Vec<Case> {
    use Reason::*;
    vec![
        err(
            "loaded more than planned",
            vec![ev(1, Departed, None, 60).line(FLOUR, 310_000, None)],
            1,
            "loaded 310.000 t of flour but the manifest plans 300.000 t",
        ),
        err(
            "a departed line with a reason other than short_loaded",
            vec![ev(1, Departed, None, 60).line(FLOUR, 290_000, Some(Stolen))],
            1,
            "stolen cannot explain a departed line for flour: less loaded than planned is short_loaded; log losses on the checkpoint where they happen",
        ),
        err(
            "a commodity not on the manifest",
            vec![ev(1, Departed, None, 60).line("rice", 1_000, None)],
            1,
            "rice is not on this convoy's manifest (flour, sunflower_oil); correct the commodity code",
        ),
        err(
            "two lines for one commodity",
            vec![ev(1, Cleared, Some(HAKARI), 60)
                .line(FLOUR, 1_000, Some(Stolen))
                .line(FLOUR, 2_000, Some(Stolen))],
            1,
            "flour appears on more than one cargo line of this event; give one line per commodity",
        ),
        err(
            "a negative line",
            vec![ev(1, Delivered, None, 60).line(OIL, -1_500, None)],
            1,
            "the cargo line for sunflower_oil is -1.500 t; quantities must not be negative",
        ),
        err(
            "a second departed",
            vec![ev(1, Departed, None, 60), ev(2, Departed, None, 90)],
            2,
            "the convoy already departed from GORIS on 2023-07-27T01:00:00Z; a convoy departs only once: void the duplicate",
        ),
        err(
            "departed after a movement that implied it",
            vec![ev(1, Held, Some(KORNIDZOR), 60), ev(2, Departed, None, 90)],
            2,
            "the convoy was already moving before this departed event (the held event on 2023-07-27T01:00:00Z); log departed before any other movement, or correct its time",
        ),
        err(
            "departed from the destination",
            vec![ev(1, Departed, Some(STEPANAKERT), 60)],
            1,
            "a convoy cannot depart from its destination STEPANAKERT; name the checkpoint it left from",
        ),
        err(
            "arrived with cargo",
            vec![ev(1, Arrived, Some(KORNIDZOR), 60).line(FLOUR, 1, None)],
            1,
            "arrived events carry no cargo; log what left on cleared",
        ),
        err(
            "held with cargo",
            vec![ev(1, Held, Some(KORNIDZOR), 60).line(FLOUR, 1, None)],
            1,
            "held events carry no cargo; log what left on cleared",
        ),
        err(
            "cleared more than entered",
            vec![
                ev(1, Cleared, Some(KORNIDZOR), 120).line(FLOUR, 18_000, Some(DeniedAtCheckpoint)),
                ev(2, Cleared, Some(HAKARI), 200).line(FLOUR, 20_000, None),
            ],
            2,
            "cleared 20.000 t of flour at HAKARI but only 18.000 t entered",
        ),
        err(
            "cleared less without a reason",
            vec![ev(1, Cleared, Some(HAKARI), 200).line(FLOUR, 299_500, None)],
            1,
            "0.500 t of flour less left HAKARI than entered; give a reason code (denied_at_checkpoint, confiscated, damaged, spoiled, stolen, other)",
        ),
        err(
            "short_loaded at a checkpoint",
            vec![ev(1, Cleared, Some(HAKARI), 200).line(FLOUR, 299_500, Some(ShortLoaded))],
            1,
            "short_loaded cannot explain cargo missing at HAKARI: short_loaded belongs on departed and rejected_on_receipt on delivered; give one of denied_at_checkpoint, confiscated, damaged, spoiled, stolen, other",
        ),
        err(
            "rejected_on_receipt at a checkpoint",
            vec![ev(1, Cleared, Some(SHUSHA), 200).line(OIL, 1_840, Some(RejectedOnReceipt))],
            1,
            "rejected_on_receipt cannot explain cargo missing at SHUSHA: short_loaded belongs on departed and rejected_on_receipt on delivered; give one of denied_at_checkpoint, confiscated, damaged, spoiled, stolen, other",
        ),
        err(
            "cleared at the destination",
            vec![ev(1, Cleared, Some(STEPANAKERT), 600)],
            1,
            "cleared is not logged at the destination STEPANAKERT; log delivered at the destination",
        ),
        err(
            "going backwards along the route",
            vec![ev(1, Arrived, Some(HAKARI), 200), ev(2, Held, Some(KORNIDZOR), 300)],
            2,
            "KORNIDZOR comes before HAKARI on the route, but the convoy was already seen at HAKARI on 2023-07-27T03:20:00Z; events must follow the route in observed order: check this event's checkpoint and time",
        ),
        err(
            "a checkpoint not on the route",
            vec![ev(1, Arrived, Some("LACHIN"), 200)],
            1,
            "checkpoint LACHIN is not on this convoy's route (GORIS → KORNIDZOR → HAKARI → SHUSHA → STEPANAKERT); correct the checkpoint code",
        ),
        err(
            "turned back with cargo",
            vec![ev(1, TurnedBack, Some(HAKARI), 200).line(FLOUR, 1, None)],
            1,
            "turned_back events carry no cargo; everything still carried is counted as denied where it was turned back",
        ),
        err(
            "delivered away from the destination",
            vec![ev(1, Delivered, Some(SHUSHA), 600)],
            1,
            "delivered is logged only at the destination STEPANAKERT, not at SHUSHA: delivery happens at the destination; log cleared at SHUSHA instead",
        ),
        err(
            "delivered more than is still carried",
            vec![
                ev(1, Delivered, None, 600).line(FLOUR, 200_000, None),
                ev(2, Delivered, None, 660).line(FLOUR, 150_000, None),
            ],
            2,
            "delivered 150.000 t of flour at STEPANAKERT but only 100.000 t was still to be delivered",
        ),
        err(
            "short_loaded on delivered",
            vec![ev(1, Delivered, None, 600).line(FLOUR, 200_000, Some(ShortLoaded))],
            1,
            "short_loaded cannot explain a delivered line for flour: it belongs on departed; use rejected_on_receipt or a loss reason",
        ),
        err(
            "closed with cargo",
            vec![ev(1, Closed, None, 900).line(FLOUR, 1, None)],
            1,
            "closed events carry no cargo; closing writes off whatever is still carried; log a last delivered first if some arrived",
        ),
        err(
            "closed with short_loaded",
            vec![ev(1, Closed, None, 900).because(ShortLoaded)],
            1,
            "short_loaded cannot close a convoy: short_loaded belongs on departed and rejected_on_receipt on a delivered line; use another reason",
        ),
        err(
            "an event-level reason on a held event",
            vec![ev(1, Held, Some(HAKARI), 200).because(Stolen)],
            1,
            "held events take no event-level reason; put the reason on the cargo line whose shortfall it explains",
        ),
        err(
            "cancelled after departure",
            vec![ev(1, Departed, None, 60), ev(2, Cancelled, None, 90)],
            2,
            "a convoy can be cancelled only before it departs (it departed from GORIS on 2023-07-27T01:00:00Z); log closed to write off what it still carries",
        ),
        err(
            "cancelled after an implied departure",
            vec![ev(1, Held, Some(KORNIDZOR), 60), ev(2, Cancelled, None, 90)],
            2,
            "a convoy can be cancelled only before it departs (the held event on 2023-07-27T01:00:00Z shows it was moving); log closed to write off what it still carries",
        ),
        err(
            "cancelled with cargo",
            vec![ev(1, Cancelled, None, 30).line(FLOUR, 1, None)],
            1,
            "cancelled events carry no cargo; cancelling calls off the whole plan",
        ),
        err(
            "an event after turned back",
            vec![ev(1, TurnedBack, Some(HAKARI), 375), ev(2, Delivered, None, 600)],
            2,
            "the convoy was turned back at HAKARI on 2023-07-27T06:15:00Z; no event can follow",
        ),
        err(
            "an event after closed",
            vec![ev(1, Closed, Some(SHUSHA), 375), ev(2, Arrived, Some(SHUSHA), 600)],
            2,
            "the convoy was closed at SHUSHA on 2023-07-27T06:15:00Z; no event can follow",
        ),
        err(
            "an event after cancelled",
            vec![ev(1, Cancelled, None, 30), ev(2, Departed, None, 60)],
            2,
            "the convoy was cancelled on 2023-07-27T00:30:00Z; no event can follow",
        ),
        err(
            "a delivered without lines after completion",
            vec![ev(1, Delivered, None, 600), ev(2, Delivered, None, 660)],
            2,
            "all of the convoy's cargo was accounted for at STEPANAKERT on 2023-07-27T10:00:00Z; no event can follow",
        ),
        err(
            "an earlier turned_back recorded later makes the delivery impossible",
            vec![
                ev(1, Departed, None, 60),
                ev(2, Delivered, None, 600),
                ev(3, TurnedBack, Some(HAKARI), 375),
            ],
            2,
            "the convoy was turned back at HAKARI on 2023-07-27T06:15:00Z; no event can follow",
        ),
        err(
            "an earlier arrival further on recorded later makes a hold impossible",
            vec![ev(1, Held, Some(HAKARI), 300), ev(2, Arrived, Some(SHUSHA), 240)],
            1,
            "HAKARI comes before SHUSHA on the route, but the convoy was already seen at SHUSHA on 2023-07-27T04:00:00Z; events must follow the route in observed order: check this event's checkpoint and time",
        ),
    ]
}

fn sum(figures: &[&Figures]) -> Figures {
    let mut totals = Figures::default();
    for f in figures {
        add_figures(&mut totals, f);
    }
    totals
}

fn run_case(case: &Case, events: &[LedgerEvent]) {
    let got = evaluate(&route(), &case.manifest, events);
    match (&case.expect, got) {
        (Expect::Ok(outcome), Ok(ledger)) => {
            let Outcome {
                status,
                last,
                flour,
                oil,
                completed,
            } = outcome.as_ref();
            assert_eq!(ledger.status, *status, "{}: status", case.name);
            assert_eq!(
                ledger.last_checkpoint.as_deref(),
                *last,
                "{}: last checkpoint",
                case.name
            );
            assert_eq!(
                ledger.completed_at,
                completed.map(at),
                "{}: completed",
                case.name
            );
            let names: Vec<&str> = ledger
                .commodities
                .iter()
                .map(|c| c.commodity.as_str())
                .collect();
            assert_eq!(names, [FLOUR, OIL], "{}", case.name);
            assert_eq!(
                ledger.commodities[0].figures, flour.0,
                "{}: flour",
                case.name
            );
            assert_eq!(ledger.commodities[1].figures, oil.0, "{}: oil", case.name);
            assert_eq!(
                ledger.totals,
                sum(&[&flour.0, &oil.0]),
                "{}: totals",
                case.name
            );
            check_invariants(&route(), &case.manifest, &ledger);
        }
        (Expect::Err { seq, message }, Err(e)) => {
            assert_eq!(e.message, *message, "{}", case.name);
            assert_eq!(e.event_id, id(*seq), "{}: event", case.name);
            assert_eq!(e.to_string(), *message);
        }
        (Expect::Ok(_), Err(e)) => panic!("{}: unexpected error {e:?}", case.name),
        (Expect::Err { .. }, Ok(l)) => panic!("{}: expected an error, got {l:?}", case.name),
    }
}

#[test]
fn table_ok_cases() {
    for case in ok_cases() {
        run_case(&case, &case.events);
    }
}

#[test]
fn table_error_cases() {
    for case in err_cases() {
        run_case(&case, &case.events);
    }
}

/// Every table case gives the same result with its events reversed,
/// because evaluation sorts by observed time, not by input order.
#[test]
fn table_cases_ignore_input_order() {
    for case in ok_cases().into_iter().chain(err_cases()) {
        let mut reversed = case.events.clone();
        reversed.reverse();
        run_case(&case, &reversed);
    }
}

fn permutations(events: &[LedgerEvent]) -> Vec<Vec<LedgerEvent>> {
    if events.len() <= 1 {
        return vec![events.to_vec()];
    }
    let mut out = Vec::new();
    for i in 0..events.len() {
        let mut rest = events.to_vec();
        let first = rest.remove(i);
        for mut tail in permutations(&rest) {
            tail.insert(0, first.clone());
            out.push(tail);
        }
    }
    out
}

#[test]
fn every_input_order_gives_the_same_ledger() {
    let events = vec![
        ev(1, Departed, None, 60).line(FLOUR, 295_000, None),
        ev(2, Held, Some(KORNIDZOR), 120),
        ev(3, Cleared, Some(HAKARI), 200).line(FLOUR, 280_000, Some(Reason::DeniedAtCheckpoint)),
        ev(4, Delivered, None, 600).line(OIL, 1_800, None),
        ev(5, Delivered, None, 660),
    ];
    let expected = evaluate(&route(), &manifest(), &events).unwrap();
    assert_eq!(expected.status, Status::ShortDelivered);
    assert_eq!(expected.totals.delivered, 281_840);
    assert_eq!(expected.totals.short_loaded, 5_000);
    assert_eq!(expected.totals.denied, 15_000);
    let orders = permutations(&events);
    assert_eq!(orders.len(), 120);
    for order in orders {
        assert_eq!(
            evaluate(&route(), &manifest(), &order),
            Ok(expected.clone())
        );
    }
}

#[test]
fn held_360_t_convoy_has_360_t_outstanding() {
    let ledger = evaluate(
        &route(),
        &manifest_360(),
        &[ev(1, Departed, None, 60), ev(2, Held, Some(KORNIDZOR), 120)],
    )
    .unwrap();
    assert_eq!(ledger.status, Status::Held);
    assert_eq!(ledger.totals.outstanding, 360_000);
    assert_eq!(format_tonnes(ledger.totals.outstanding), "360.000");
    assert_eq!(ledger.last_seen_at, Some(at(120)));
}

#[test]
fn waterfall_follows_the_cargo() {
    use Reason::*;
    let events = vec![
        ev(1, Departed, None, 60).line(FLOUR, 295_000, None),
        ev(2, Cleared, Some(HAKARI), 200).line(FLOUR, 280_000, Some(DeniedAtCheckpoint)),
        ev(3, Cleared, Some(SHUSHA), 300).line(FLOUR, 279_000, Some(Damaged)),
        ev(4, Delivered, None, 600).line(FLOUR, 270_000, Some(RejectedOnReceipt)),
    ];
    let ledger = evaluate(&route(), &manifest(), &events).unwrap();
    let flour = &ledger.commodities[0];
    let step = |checkpoint: &str, entered, left, denied, lost: Vec<(Reason, Kg)>| WaterfallStep {
        checkpoint: checkpoint.to_string(),
        entered,
        left,
        denied,
        lost,
    };
    assert_eq!(
        flour.waterfall,
        vec![
            step(GORIS, Some(300_000), Some(295_000), 0, vec![]),
            step(KORNIDZOR, Some(295_000), Some(295_000), 0, vec![]),
            step(HAKARI, Some(295_000), Some(280_000), 15_000, vec![]),
            step(
                SHUSHA,
                Some(280_000),
                Some(279_000),
                0,
                vec![(Damaged, 1_000)]
            ),
            step(STEPANAKERT, Some(279_000), None, 0, vec![]),
        ]
    );
    assert_eq!(flour.figures.delivered, 270_000);
    assert_eq!(flour.figures.rejected, 9_000);
    let oil = &ledger.commodities[1];
    assert!(oil
        .waterfall
        .iter()
        .all(|s| s.denied == 0 && s.lost.is_empty()));
    assert_eq!(oil.waterfall[4].entered, Some(1_840));
}

#[test]
fn waterfall_before_departure_and_while_moving() {
    let planned = evaluate(&route(), &manifest(), &[]).unwrap();
    let steps = &planned.commodities[0].waterfall;
    assert_eq!(steps.len(), 5);
    assert_eq!((steps[0].entered, steps[0].left), (Some(300_000), None));
    assert!(steps[1..]
        .iter()
        .all(|s| s.entered.is_none() && s.left.is_none()));

    let held = evaluate(&route(), &manifest(), &[ev(1, Held, Some(HAKARI), 200)]).unwrap();
    let steps = &held.commodities[0].waterfall;
    let pairs: Vec<(Option<Kg>, Option<Kg>)> = steps.iter().map(|s| (s.entered, s.left)).collect();
    assert_eq!(
        pairs,
        vec![
            (Some(300_000), Some(300_000)),
            (Some(300_000), Some(300_000)),
            (Some(300_000), None),
            (None, None),
            (None, None),
        ]
    );

    let turned = evaluate(
        &route(),
        &manifest(),
        &[ev(1, TurnedBack, Some(KORNIDZOR), 200)],
    )
    .unwrap();
    let step = &turned.commodities[0].waterfall[1];
    assert_eq!(
        (step.entered, step.left, step.denied),
        (Some(300_000), None, 300_000)
    );
}

#[test]
fn invalid_setup_is_reported_without_an_event() {
    let cases: Vec<(Route, Manifest, &str)> = vec![
        (
            Route::new([GORIS]),
            manifest(),
            "the route (GORIS) needs at least an origin and a destination",
        ),
        (
            Route::new([GORIS, HAKARI, GORIS]),
            manifest(),
            "checkpoint GORIS appears twice on the route (GORIS → HAKARI → GORIS); positions along the route would be ambiguous",
        ),
        (
            Route::new([GORIS, ""]),
            manifest(),
            "the route has an empty checkpoint code",
        ),
        (
            route(),
            manifest_of(-1_000, 1_840),
            "the manifest plans -1.000 t of flour; planned quantities must not be negative",
        ),
        (
            route(),
            manifest_of(i64::MAX, 1_840),
            "the manifest total is too large to add up exactly",
        ),
    ];
    for (route, manifest, message) in cases {
        let got = evaluate(&route, &manifest, &[ev(1, Departed, None, 60)]);
        assert_eq!(
            got,
            Err(LedgerError {
                event_id: Uuid::nil(),
                message: message.to_string()
            })
        );
    }
}

#[test]
fn names_round_trip() {
    let kinds = [
        (Departed, "departed"),
        (Arrived, "arrived"),
        (Held, "held"),
        (Cleared, "cleared"),
        (TurnedBack, "turned_back"),
        (Delivered, "delivered"),
        (Closed, "closed"),
        (Cancelled, "cancelled"),
    ];
    for (kind, name) in kinds {
        assert_eq!(kind.as_str(), name);
        assert_eq!(EventKind::parse(name), Some(kind));
        assert_eq!(kind.to_string(), name);
    }
    let reasons = [
        (Reason::DeniedAtCheckpoint, "denied_at_checkpoint"),
        (Reason::Confiscated, "confiscated"),
        (Reason::Damaged, "damaged"),
        (Reason::Spoiled, "spoiled"),
        (Reason::Stolen, "stolen"),
        (Reason::ShortLoaded, "short_loaded"),
        (Reason::RejectedOnReceipt, "rejected_on_receipt"),
        (Reason::Other, "other"),
    ];
    for (reason, name) in reasons {
        assert_eq!(reason.as_str(), name);
        assert_eq!(Reason::parse(name), Some(reason));
        assert_eq!(reason.to_string(), name);
    }
    assert_eq!(Reason::ALL.len(), reasons.len());
    assert_eq!(EventKind::ALL.len(), kinds.len());
    for (parse_input, _) in [("TurnedBack", 0), ("turned-back", 0), ("", 0)] {
        assert_eq!(EventKind::parse(parse_input), None);
        assert_eq!(Reason::parse(parse_input), None);
    }
    let statuses = [
        (Status::Planned, "planned"),
        (Status::InTransit, "in_transit"),
        (Status::Held, "held"),
        (Status::Delivered, "delivered"),
        (Status::ShortDelivered, "short_delivered"),
        (Status::TurnedBack, "turned_back"),
        (Status::Cancelled, "cancelled"),
    ];
    for (status, name) in statuses {
        assert_eq!(status.as_str(), name);
        assert_eq!(status.to_string(), name);
    }
}

/// Everything that must hold on every `Ok` ledger.
pub(super) fn check_invariants(route: &Route, manifest: &Manifest, ledger: &Ledger) {
    for c in &ledger.commodities {
        let received: Kg = ledger
            .deliveries
            .iter()
            .filter(|d| d.commodity == c.commodity)
            .map(|d| d.kg)
            .sum();
        assert_eq!(
            received, c.figures.delivered,
            "{}: the receipts add up to what was delivered",
            c.commodity
        );
    }
    assert!(ledger.deliveries.iter().all(|d| d.kg > 0));
    let balanced = |f: &Figures, what: &str| {
        assert_eq!(
            f.planned,
            f.delivered
                + f.short_loaded
                + f.denied
                + f.lost
                + f.rejected
                + f.outstanding
                + f.cancelled,
            "{what}: planned must equal the sum of the buckets: {f:?}"
        );
        assert_eq!(
            f.loaded,
            f.planned - f.short_loaded - f.cancelled,
            "{what}: loaded"
        );
        assert_eq!(
            f.denied,
            f.denied_by_checkpoint.values().sum::<Kg>(),
            "{what}: denied"
        );
        assert_eq!(f.lost, f.lost_by.values().sum::<Kg>(), "{what}: lost");
        for v in [
            f.planned,
            f.loaded,
            f.delivered,
            f.short_loaded,
            f.denied,
            f.lost,
            f.rejected,
            f.outstanding,
            f.cancelled,
        ] {
            assert!(v >= 0, "{what}: negative bucket in {f:?}");
        }
        assert!(f.denied_by_checkpoint.values().all(|kg| *kg > 0), "{what}");
        assert!(f.lost_by.values().all(|kg| *kg > 0), "{what}");
        assert!(
            f.lost_by
                .keys()
                .all(|(cp, r)| route.checkpoints.contains(cp)
                    && !matches!(
                        r,
                        Reason::DeniedAtCheckpoint
                            | Reason::ShortLoaded
                            | Reason::RejectedOnReceipt
                    )),
            "{what}: lost_by keys {f:?}"
        );
        assert!(f
            .denied_by_checkpoint
            .keys()
            .all(|cp| route.checkpoints.contains(cp)));
    };
    assert_eq!(ledger.commodities.len(), manifest.0.len());
    for (c, (code, planned)) in ledger.commodities.iter().zip(&manifest.0) {
        assert_eq!(&c.commodity, code);
        assert_eq!(c.figures.planned, *planned);
        balanced(&c.figures, code);
        assert_eq!(c.waterfall.len(), route.checkpoints.len());
        for (step, code) in c.waterfall.iter().zip(&route.checkpoints) {
            assert_eq!(&step.checkpoint, code);
            assert_eq!(
                step.denied,
                c.figures
                    .denied_by_checkpoint
                    .get(code)
                    .copied()
                    .unwrap_or(0)
            );
            for (reason, kg) in &step.lost {
                assert_eq!(c.figures.lost_by.get(&(code.clone(), *reason)), Some(kg));
            }
        }
        assert_eq!(
            c.waterfall.iter().map(|s| s.denied).sum::<Kg>(),
            c.figures.denied
        );
        assert_eq!(
            c.waterfall
                .iter()
                .flat_map(|s| s.lost.iter().map(|(_, kg)| *kg))
                .sum::<Kg>(),
            c.figures.lost
        );
        assert_eq!(c.waterfall[0].entered, Some(c.figures.planned));
        assert_eq!(c.waterfall[route.checkpoints.len() - 1].left, None);
    }
    balanced(&ledger.totals, "totals");
    let figures: Vec<&Figures> = ledger.commodities.iter().map(|c| &c.figures).collect();
    assert_eq!(ledger.totals, sum(&figures));
    let t = &ledger.totals;
    match ledger.status {
        Status::Planned => {
            assert_eq!(t.outstanding, t.planned);
            assert_eq!(ledger.completed_at, None);
            assert_eq!(ledger.last_checkpoint, None);
        }
        Status::InTransit | Status::Held => {
            assert!(t.outstanding > 0);
            assert_eq!(ledger.completed_at, None);
            assert!(ledger.last_checkpoint.is_some());
        }
        Status::Delivered => {
            assert_eq!(t.delivered, t.planned);
            assert!(ledger.completed_at.is_some());
        }
        Status::ShortDelivered | Status::TurnedBack => {
            assert_eq!(t.outstanding, 0);
            assert!(ledger.completed_at.is_some());
        }
        Status::Cancelled => {
            assert_eq!(t.cancelled, t.planned);
            assert!(ledger.completed_at.is_some());
        }
    }
}
