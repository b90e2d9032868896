//! `aidflow demo`: a Lachin 2023 scenario from public figures, so a new user sees
//! meaningful numbers at once. Many figures come from parties to the conflict: each
//! convoy's note names its source, and they are claims, not verified facts. The 26 July
//! 2023 convoy also carries the three figures sources gave for it, as claims.

use serde_json::{json, Value};
use uuid::Uuid;

use crate::app::auth::Principal;
use crate::app::claims::{self, NewClaim};
use crate::app::convoys;
use crate::app::error::AppError;
use crate::app::events::{self, EventWrite, StateCache};
use crate::app::input::{NewConvoy, NewEvent};
use crate::app::requirements::{self, NewRequirement};
use crate::db::DbConn;
use crate::store::convoys as store;

/// Demo ids derive from the convoy reference, so running the demo twice changes nothing.
const DEMO_NAMESPACE: Uuid = Uuid::from_u128(0x6d2f_9b1e_4c3a_4f5d_8e7b_1a2c_3d4e_5f60);

fn id(name: &str) -> Uuid {
    Uuid::new_v5(&DEMO_NAMESPACE, name.as_bytes())
}

/// The identity the command line records under.
pub fn cli_principal() -> Principal {
    Principal::command_line()
}

struct DemoConvoy {
    body: Value,
    events: Vec<Value>,
}

fn convoy(
    org: &str,
    reference: &str,
    route: &str,
    (departure, arrival): (&str, &str),
    trucks: i32,
    manifest: Value,
    note: &str,
) -> Value {
    json!({"id": id(reference), "organization": org, "reference": reference, "route": route, "planned_departure": departure,
           "expected_arrival": arrival, "trucks": trucks, "manifest": manifest, "note": note})
}

fn ev(
    reference: &str,
    n: u32,
    kind: &str,
    checkpoint: Option<&str>,
    at: &str,
    note: Option<&str>,
) -> Value {
    json!({"id": id(&format!("{reference}#{n}")), "kind": kind, "checkpoint": checkpoint, "observed_at": at, "note": note})
}

fn scenario() -> Vec<DemoConvoy> {
    let mut all = Vec::new();
    // Before the blockade (from 12 December 2022): about 400 t a day entered.
    for day in 5..=11 {
        let r = format!("AM-2022-12-{day:02}");
        all.push(DemoConvoy {
            body: convoy("arm-gov", &r, "lachin", (&format!("2022-12-{day:02}T07:00:00+04:00"), &format!("2022-12-{day:02}T12:00:00+04:00")), 20,
                json!([{"commodity": "food", "tonnes": "360"}, {"commodity": "medical", "tonnes": "40"}]),
                "Daily supply before the blockade: about 400 t of food and medicine a day entered from Armenia (Artsakh Human Rights Defender, quoted by news.am, 2022-12-21). A claim, not verified."),
            events: vec![
                ev(&r, 1, "departed", Some("GORIS"), &format!("2022-12-{day:02}T07:15:00+04:00"), None),
                ev(&r, 2, "delivered", Some("STEPANAKERT"), &format!("2022-12-{day:02}T11:40:00+04:00"), None),
            ],
        });
    }
    let r = "AM-2023-07-26";
    all.push(DemoConvoy {
        body: convoy("arm-gov", r, "lachin", ("2023-07-26T08:00:00+04:00", "2023-07-26T20:00:00+04:00"), 19,
            json!([{"commodity": "food", "tonnes": "360"}]),
            "Armenian government convoy: 19 trucks, reported as 360 t (the prime minister, via ArmRadio), 400 t (ArmRadio) and 361 t (Hetq); 360 t used here. It did not pass the Hakari checkpoint."),
        events: vec![
            ev(r, 1, "departed", Some("GORIS"), "2023-07-26T08:30:00+04:00", None),
            ev(r, 2, "arrived", Some("KORNIDZOR"), "2023-07-26T10:30:00+04:00", None),
            ev(r, 3, "held", Some("KORNIDZOR"), "2023-07-26T11:00:00+04:00",
                Some("Not allowed through the Hakari checkpoint; by 10 August 22 trucks had waited 16 days at Kornidzor.")),
        ],
    });
    let r = "FR-2023-08-05";
    all.push(DemoConvoy {
        body: convoy("fr-gov", r, "lachin", ("2023-08-05T08:00:00+04:00", "2023-08-05T20:00:00+04:00"), 1,
            json!([{"commodity": "food", "tonnes": "20"}]),
            "A French truck of more than 20 t joined the convoy waiting at Kornidzor (reported by 10 August 2023); 20 t used here, date approximate."),
        events: vec![
            ev(r, 1, "departed", Some("GORIS"), "2023-08-05T08:30:00+04:00", None),
            ev(r, 2, "held", Some("KORNIDZOR"), "2023-08-05T11:00:00+04:00", Some("Joined the trucks waiting at Kornidzor.")),
        ],
    });
    let r = "RRC-2023-09-12";
    all.push(DemoConvoy {
        body: convoy(
            "rus-red-cross",
            r,
            "aghdam",
            ("2023-09-12T08:00:00+04:00", "2023-09-12T14:00:00+04:00"),
            1,
            json!([{"commodity": "food", "tonnes": "15"}]),
            "One Russian Red Cross truck, 15 t, via the Aghdam road (12 September 2023).",
        ),
        events: vec![
            ev(
                r,
                1,
                "departed",
                Some("AGHDAM"),
                "2023-09-12T09:00:00+04:00",
                None,
            ),
            ev(
                r,
                2,
                "delivered",
                Some("STEPANAKERT"),
                "2023-09-12T13:00:00+04:00",
                None,
            ),
        ],
    });
    let r = "ICRC-2023-09-18";
    all.push(DemoConvoy {
        body: convoy("icrc", r, "lachin", ("2023-09-18T08:00:00+04:00", "2023-09-18T16:00:00+04:00"), 2,
            json!([{"commodity": "flour", "tonnes": "23"}]),
            "Two ICRC trucks via Lachin (18 September 2023); one carried 23 t of flour, the other's load was not reported."),
        events: vec![
            ev(r, 1, "departed", Some("GORIS"), "2023-09-18T08:20:00+04:00", None),
            ev(r, 2, "cleared", Some("HAKARI"), "2023-09-18T10:00:00+04:00", None),
            ev(r, 3, "delivered", Some("STEPANAKERT"), "2023-09-18T13:30:00+04:00", None),
        ],
    });
    let r = "ICRC-2023-09-23";
    all.push(DemoConvoy {
        body: convoy("icrc", r, "lachin", ("2023-09-23T07:00:00+04:00", "2023-09-23T16:00:00+04:00"), 5,
            json!([{"commodity": "flour", "tonnes": "66"}, {"commodity": "salt", "quantity": "2700", "unit": "kg"},
                   {"commodity": "yeast", "quantity": "450", "unit": "kg"}, {"commodity": "sunflower_oil", "quantity": "375", "unit": "L"}]),
            "ICRC convoy of about 70 t (23 September 2023): 66 t of flour, 2,700 kg of salt, 450 kg of dried yeast, 375 L of sunflower oil; 17 wounded evacuated on the way back."),
        events: vec![
            ev(r, 1, "departed", Some("GORIS"), "2023-09-23T07:10:00+04:00", None),
            ev(r, 2, "cleared", Some("HAKARI"), "2023-09-23T09:00:00+04:00", None),
            ev(r, 3, "delivered", Some("STEPANAKERT"), "2023-09-23T12:30:00+04:00", None),
        ],
    });
    all
}

/// What sources published about a demo convoy: the three figures given for the 26 July
/// 2023 convoy (360 t from the prime minister via ArmRadio, 400 t from ArmRadio, 361 t
/// from Hetq). No link is recorded, as none is in the demo's sources; the
/// times are approximate and the quotes are summaries, not the sources' words.
fn claims_of(reference: &str) -> Vec<Value> {
    if reference != "AM-2023-07-26" {
        return Vec::new();
    }
    let claim = |n: u32, source: &str, at: &str, tonnes: &str, quote: &str| {
        json!({"id": id(&format!("{reference}#claim{n}")), "source": source, "url": null,
               "published_at": at, "tonnes": tonnes, "trucks": null, "quote": quote})
    };
    vec![
        claim(1, "Prime Minister of Armenia, via ArmRadio", "2023-07-26T12:00:00+04:00", "360",
            "Summary, not verbatim: the prime minister gave the convoy's cargo as 360 t of humanitarian aid (as carried by ArmRadio; time approximate)."),
        claim(2, "ArmRadio", "2023-07-26T14:00:00+04:00", "400",
            "Summary, not verbatim: ArmRadio reported the convoy as carrying 400 t (time approximate)."),
        claim(3, "Hetq", "2023-07-26T18:00:00+04:00", "361",
            "Summary, not verbatim: Hetq reported 361 t for the convoy (time approximate)."),
    ]
}

fn parse<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, AppError> {
    serde_json::from_value(v).map_err(|e| AppError::Internal(anyhow::anyhow!("demo data: {e}")))
}

/// Loads the scenario; returns one line per convoy describing where it stands.
#[tracing::instrument(skip_all)]
pub fn load(c: &mut DbConn) -> Result<Vec<String>, AppError> {
    let who = cli_principal();
    let cache = StateCache::new(0);
    let mut lines = Vec::new();
    let baseline: NewRequirement = parse(json!({
        "id": id("requirement:lachin:baseline"), "route": "lachin", "commodity": null,
        "from": "2022-12-01", "to": "2023-09-30", "tonnes_per_day": "400",
        "note": "Pre-blockade baseline: about 400 t of food and medicine a day (Artsakh Human Rights Defender, quoted by news.am, 2022-12-21)."
    }))?;
    requirements::record(c, &who, &baseline)?;
    lines.push("requirement: lachin route, 400 t a day from 2022-12-01 to 2023-09-30 (the pre-blockade baseline)".to_string());
    for demo in scenario() {
        let body: NewConvoy = parse(demo.body)?;
        let convoy_id = convoys::create(c, &who, &body)?.into_inner().summary.id;
        let writes = demo
            .events
            .into_iter()
            .map(|e| {
                Ok(EventWrite {
                    who: who.clone(),
                    convoy_id: convoy_id.clone(),
                    body: parse::<NewEvent>(e)?,
                })
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        events::in_write_tx(c, &cache, |c, attempt| {
            let mut applied = events::apply(c, attempt, &writes, &cache)?;
            for answer in std::mem::take(&mut applied.answers) {
                answer?;
            }
            Ok(((), applied))
        })?;
        let row = store::get_convoy(c, &convoy_id)?;
        let codes = store::Codes::load(c)?;
        for body in claims_of(&body.reference) {
            let claim: NewClaim = parse(body)?;
            claims::create(c, &who, &convoy_id, &claim)?;
        }
        lines.push(format!(
            "{:<16} {:<15} planned {:>9} t  delivered {:>9} t  outstanding {:>9} t{}",
            row.reference,
            row.status,
            crate::domain::quantity::format_tonnes(row.planned_kg),
            crate::domain::quantity::format_tonnes(row.delivered_kg),
            crate::domain::quantity::format_tonnes(row.outstanding_kg),
            row.last_checkpoint_id
                .map(|id| format!("  (last seen at {})", codes.checkpoint(&id)))
                .unwrap_or_default(),
        ));
    }
    Ok(lines)
}

/// The id of the 26 July 2023 convoy, for the README's walk-through.
pub fn july_convoy_id() -> Uuid {
    id("AM-2023-07-26")
}
