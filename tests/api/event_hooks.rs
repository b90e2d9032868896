//! `convoy.event_recorded` and `convoy.event_voided`: every stored event, by any path in,
//! reaches its subscribers once, with the payload frozen at the change.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::api_test;
use crate::convoys::{convoy, create_convoy, event, ok_event, CONVOY};
use crate::helpers::TestApp;
use crate::receiver::{Behaviour, Hit, Receiver};

const SECRET: &str = "kornidzor-signing-secret";
const RECORDED: &str = "convoy.event_recorded";
const VOIDED: &str = "convoy.event_voided";

api_test!(
    each_stored_event_is_delivered_once_with_its_figures_and_a_replay_delivers_nothing,
    a_correction_delivers_event_voided_naming_the_voided_event_and_the_reason,
    a_retry_carries_the_payload_of_the_change_not_the_convoy_as_it_is_now,
    sync_batch_events_are_delivered_and_a_resent_batch_delivers_nothing,
);

async fn webhook(app: &TestApp, url: &str, events: &[&str], organization: Option<&str>) {
    let reply = app
        .post(
            "/api/v1/webhooks",
            &json!({"url": url, "secret": SECRET, "events": events, "organization": organization}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(reply.json()["events"], json!(events));
}

async fn send(app: &TestApp, now: &str) -> aidflow::jobs::webhooks::SendSummary {
    let now: DateTime<Utc> = DateTime::parse_from_rfc3339(now).unwrap().into();
    aidflow::jobs::webhooks::send_due(&app.state, now)
        .await
        .expect("send")
}

async fn outbox(app: &TestApp, kind: &'static str) -> usize {
    app.state
        .db(move |c| Ok(aidflow::store::webhooks::outbox_of_type(c, kind)?))
        .await
        .unwrap()
        .len()
}

/// The hit whose payload carries this event (under `key`).
fn hit_for<'a>(hits: &'a [Hit], key: &str, id: &Value) -> &'a Hit {
    let found: Vec<&Hit> = hits.iter().filter(|h| &h.json()[key]["id"] == id).collect();
    assert_eq!(found.len(), 1, "one delivery for {key} {id}: {hits:?}");
    found[0]
}

async fn each_stored_event_is_delivered_once_with_its_figures_and_a_replay_delivers_nothing(
    app: TestApp,
) {
    let receiver = Receiver::start(Behaviour::Ok);
    let icrc_only = Receiver::start(Behaviour::Ok);
    webhook(&app, &receiver.url, &[RECORDED], None).await;
    webhook(&app, &icrc_only.url, &[RECORDED], Some("icrc")).await;
    create_convoy(&app).await;
    let departed = json!({"id": "e0000000-0000-4000-8000-0000000000d1", "kind": "departed",
        "observed_at": "2023-07-26T08:10:00+04:00"});
    let first = ok_event(&app, departed.clone()).await;
    let replay = event(&app, departed).await;
    assert_eq!(replay.status, 200, "{}", replay.text);
    let cleared = ok_event(&app, json!({"kind": "cleared", "checkpoint": "HAKARI", "observed_at": "2023-07-27T10:15:00+04:00",
        "cargo": [{"commodity": "flour", "tonnes": "280", "reason": "denied_at_checkpoint"}], "note": "two trucks refused"})).await;

    let sent = send(&app, "2023-07-27T12:00:00Z").await;
    assert_eq!((sent.delivered, sent.retrying, sent.failed), (2, 0, 0));
    let hits = receiver.of(RECORDED);
    assert_eq!(hits.len(), 2, "one per stored event, none for the replay");
    assert!(hits.iter().all(|h| h.signed_with(SECRET)));
    assert!(icrc_only.hits().is_empty(), "another organization's events");
    assert_eq!(outbox(&app, RECORDED).await, 2);

    let one = hit_for(&hits, "event", &first["id"]).json();
    assert_eq!(one["type"], RECORDED);
    assert_eq!(one["event"], first, "the event as the API answered it");
    let c = &one["convoy"];
    assert_eq!(c["id"], CONVOY);
    assert_eq!(c["reference"], "AM-2023-07-26");
    assert_eq!(c["organization"], "arm-gov");
    assert_eq!(c["route"], "lachin");
    assert_eq!(c["trucks"], 19);
    assert_eq!(c["status"], "in_transit");
    assert_eq!(c["last_checkpoint"], "GORIS");
    assert_eq!(
        (&c["planned"], &c["delivered"], &c["outstanding"]),
        (&json!("360.000"), &json!("0.000"), &json!("360.000"))
    );
    assert_eq!(c["totals"]["loaded"], "360.000");
    assert_eq!(c["totals"]["denied"], "0.000");
    assert_eq!(
        one["text"],
        "aidflow: AM-2023-07-26 departed (observed 2023-07-26T08:10:00+04:00); 0.000 of 360.000 t delivered, status in_transit"
    );

    let two = hit_for(&hits, "event", &cleared["id"]).json();
    assert_eq!(two["event"], cleared);
    assert_eq!(two["convoy"]["last_checkpoint"], "HAKARI");
    assert_eq!(two["convoy"]["outstanding"], "340.000");
    assert_eq!(two["convoy"]["totals"]["denied"], "20.000");
    assert_eq!(
        two["convoy"]["totals"]["denied_by_checkpoint"],
        json!([{"checkpoint": "HAKARI", "tonnes": "20.000"}])
    );
    assert_ne!(one["id"], two["id"], "one notification per event");

    let later = send(&app, "2023-07-28T12:00:00Z").await;
    assert_eq!((later.delivered, later.retrying), (0, 0));
    assert_eq!(receiver.hits().len(), 2, "nothing sent twice");
}

async fn a_correction_delivers_event_voided_naming_the_voided_event_and_the_reason(app: TestApp) {
    let receiver = Receiver::start(Behaviour::Ok);
    webhook(&app, &receiver.url, &[VOIDED], None).await;
    create_convoy(&app).await;
    let wrong = ok_event(&app, json!({"kind": "cleared", "checkpoint": "HAKARI", "observed_at": "2023-07-27T10:15:00+04:00",
        "cargo": [{"commodity": "flour", "tonnes": "28", "reason": "denied_at_checkpoint"}], "note": "typo: 28 for 280"})).await;
    let fix = ok_event(&app, json!({"kind": "cleared", "checkpoint": "HAKARI", "observed_at": "2023-07-27T10:15:00+04:00",
        "cargo": [{"commodity": "flour", "tonnes": "280", "reason": "denied_at_checkpoint"}],
        "corrects": wrong["id"], "note": "corrected: 280 t left"})).await;
    // Nobody listens to convoy.event_recorded: nothing of it is written.
    assert_eq!(outbox(&app, RECORDED).await, 0);

    assert_eq!(send(&app, "2023-07-27T12:00:00Z").await.delivered, 1);
    let hits = receiver.hits();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].event, VOIDED);
    assert!(hits[0].signed_with(SECRET));
    let body = hits[0].json();
    assert_eq!(body["type"], VOIDED);
    assert_eq!(body["voided_event"]["id"], wrong["id"]);
    assert_eq!(body["voided_event"]["voided"], true);
    assert_eq!(body["voided_event"]["voided_by"]["event"], fix["id"]);
    assert_eq!(body["voided_event"]["note"], "typo: 28 for 280");
    assert_eq!(body["voided_event"]["cargo"][0]["tonnes"], "28.000");
    assert_eq!(body["reason"], "corrected: 280 t left");
    assert_eq!(body["correcting_event"], fix);
    assert_eq!(body["convoy"]["totals"]["denied"], "20.000");
    assert_eq!(body["convoy"]["outstanding"], "340.000");
    let listed = app
        .get(&format!("/api/v1/convoys/{CONVOY}/events"))
        .await
        .json();
    assert_eq!(body["voided_event"], listed[0], "as the API shows it");
    assert_eq!(
        body["text"],
        format!(
            "aidflow: AM-2023-07-26: event {} (cleared at HAKARI, observed 2023-07-27T10:15:00+04:00) was voided by event {}: corrected: 280 t left",
            wrong["id"].as_str().unwrap(),
            fix["id"].as_str().unwrap()
        )
    );
}

async fn a_retry_carries_the_payload_of_the_change_not_the_convoy_as_it_is_now(app: TestApp) {
    let receiver = Receiver::start(Behaviour::FailFirst(1));
    webhook(&app, &receiver.url, &[RECORDED], None).await;
    create_convoy(&app).await;
    let departed = ok_event(
        &app,
        json!({"kind": "departed", "observed_at": "2023-07-26T08:10:00+04:00"}),
    )
    .await;
    let first = send(&app, "2023-07-26T09:00:00Z").await;
    assert_eq!((first.delivered, first.retrying), (0, 1));
    // The convoy changes before the retry.
    let delivered = ok_event(
        &app,
        json!({"kind": "delivered", "observed_at": "2023-07-26T18:00:00+04:00"}),
    )
    .await;
    assert_eq!(convoy(&app).await["status"], "delivered");
    let second = send(&app, "2023-07-26T10:00:00Z").await;
    assert_eq!((second.delivered, second.retrying), (2, 0), "{second:?}");

    let hits = receiver.of(RECORDED);
    assert_eq!(hits.len(), 3);
    let tries: Vec<&Hit> = hits
        .iter()
        .filter(|h| h.json()["event"]["id"] == departed["id"])
        .collect();
    assert_eq!(tries.len(), 2, "the failed attempt and its retry");
    assert_eq!(tries[0].body, tries[1].body, "the same bytes on the retry");
    assert_eq!(tries[0].delivery, tries[1].delivery);
    let retried = tries[1].json();
    assert_eq!(retried["convoy"]["status"], "in_transit");
    assert_eq!(retried["convoy"]["delivered"], "0.000");
    assert_eq!(retried["event"], departed);
    let now = hit_for(&hits, "event", &delivered["id"]).json();
    assert_eq!(now["convoy"]["status"], "delivered");
    assert_eq!(now["convoy"]["delivered"], "360.000");
}

async fn sync_batch_events_are_delivered_and_a_resent_batch_delivers_nothing(app: TestApp) {
    let receiver = Receiver::start(Behaviour::Ok);
    webhook(&app, &receiver.url, &[RECORDED, VOIDED], None).await;
    let id = "c0000000-0000-4000-8000-0000000000a1";
    let batch = json!({
        "device": "kornidzor-phone",
        "convoys": [{"id": id, "organization": "icrc", "reference": "ICRC-7", "route": "lachin",
            "planned_departure": "2023-09-18T08:00:00+04:00", "manifest": [{"commodity": "flour", "tonnes": "23"}]}],
        "events": [
            {"id": "e0000000-0000-4000-8000-0000000000a1", "convoy": id, "kind": "departed",
             "observed_at": "2023-09-18T08:20:00+04:00"},
            {"id": "e0000000-0000-4000-8000-0000000000a2", "convoy": id, "kind": "delivered",
             "observed_at": "2023-09-18T13:30:00+04:00", "cargo": [{"commodity": "flour", "tonnes": "22.5", "reason": "damaged"}]},
            {"id": "e0000000-0000-4000-8000-0000000000a3", "convoy": id, "kind": "cleared",
             "checkpoint": "HAKARI", "observed_at": "2023-09-18T10:00:00+04:00", "cargo": [{"commodity": "flour", "tonnes": "30"}]}
        ]
    });
    let reply = app.post("/api/v1/sync", &batch).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        reply.json()["counts"],
        json!({"created": 3, "replayed": 0, "failed": 1})
    );
    assert_eq!(send(&app, "2023-09-18T12:00:00Z").await.delivered, 2);
    let again = app.post("/api/v1/sync", &batch).await.json();
    assert_eq!(
        again["counts"],
        json!({"created": 0, "replayed": 3, "failed": 1})
    );
    assert_eq!(send(&app, "2023-09-18T12:05:00Z").await.delivered, 0);

    let hits = receiver.of(RECORDED);
    assert_eq!(hits.len(), 2, "the refused event is not announced");
    assert!(receiver.of(VOIDED).is_empty());
    let listed = app
        .get(&format!("/api/v1/convoys/{id}/events"))
        .await
        .json();
    for stored in listed.as_array().unwrap() {
        let body = hit_for(&hits, "event", &stored["id"]).json();
        assert_eq!(&body["event"], stored);
        assert_eq!(body["convoy"]["organization"], "icrc");
        assert_eq!(body["convoy"]["reference"], "ICRC-7");
        // Stored together in one batch: the figures once the batch was applied.
        assert_eq!(body["convoy"]["status"], "short_delivered");
        assert_eq!(body["convoy"]["delivered"], "22.500");
        assert_eq!(body["convoy"]["totals"]["lost"], "0.500");
    }
}
