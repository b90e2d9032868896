//! The grouped write path: concurrent event POSTs share commits, sync batches are applied
//! together, and each event is still judged on its own.

use serde_json::{json, Value};

use crate::api_test;
use crate::convoys::{convoy, create_convoy, event, ok_event, CONVOY};
use crate::helpers::{sql, Backend, TestApp};

api_test!(
    concurrent_events_of_one_convoy_are_each_counted_once_in_order,
    concurrent_events_of_many_convoys_are_all_recorded,
    an_event_sent_twice_in_one_sync_batch_is_recorded_once,
    an_event_the_database_refuses_leaves_the_rest_of_its_group_written_once,
    a_token_revoked_elsewhere_cannot_write_even_while_cached,
    two_instances_writing_one_convoy_each_see_the_others_events,
    reference_data_added_between_events_is_seen_at_once,
);

async fn reference_data_added_between_events_is_seen_at_once(app: TestApp) {
    create_convoy(&app).await;
    // The writer has read the reference data for this event…
    ok_event(
        &app,
        json!({"kind": "departed", "observed_at": "2023-07-26T08:10:00+04:00"}),
    )
    .await;
    // …then a checkpoint, a commodity and a route through them are added.
    let created = [
        app.post("/api/v1/checkpoints", &json!({"code": "LACHIN", "name": "Lachin town", "max_dwell": "3h"})).await,
        app.post("/api/v1/commodities", &json!({"code": "rice", "name": "Rice"})).await,
        app.post("/api/v1/routes", &json!({"code": "north", "name": "North", "checkpoints": [
            {"checkpoint": "GORIS"}, {"checkpoint": "LACHIN", "leg_hours": "2"}, {"checkpoint": "STEPANAKERT", "leg_hours": 1.5}]})).await,
        app.post("/api/v1/convoys", &json!({"id": "5a0c0b1e-2023-4726-8000-00000000a001", "organization": "icrc",
            "reference": "NORTH-1", "route": "north", "planned_departure": "2023-07-27T08:00:00+04:00",
            "manifest": [{"commodity": "rice", "tonnes": "12.5"}]})).await,
    ];
    for r in &created {
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let path = "/api/v1/convoys/5a0c0b1e-2023-4726-8000-00000000a001/events";
    let held = app
        .post(path, &json!({"kind": "held", "checkpoint": "LACHIN", "observed_at": "2023-07-27T10:30:00+04:00"}))
        .await;
    assert_eq!(held.status, 201, "{}", held.text);
    let delivered = app
        .post(
            path,
            &json!({"kind": "delivered", "observed_at": "2023-07-27T13:00:00+04:00",
            "cargo": [{"commodity": "rice", "tonnes": "12"}]}),
        )
        .await;
    assert_eq!(delivered.status, 201, "{}", delivered.text);
    let c = app
        .get("/api/v1/convoys/5a0c0b1e-2023-4726-8000-00000000a001")
        .await
        .json();
    assert_eq!(c["totals"]["delivered"], "12.000");
    assert_eq!(c["totals"]["planned"], "12.500");
}

async fn two_instances_writing_one_convoy_each_see_the_others_events(app: TestApp) {
    let other = app.second_instance();
    create_convoy(&app).await;
    // The instances take turns; each keeps the convoy's ledger in memory after writing it,
    // and must notice that the other wrote since.
    ok_event(
        &app,
        json!({"kind": "departed", "observed_at": "2023-07-26T08:10:00+04:00",
        "cargo": [{"commodity": "flour", "tonnes": "290", "reason": "short_loaded"}]}),
    )
    .await;
    ok_event(&other, json!({"kind": "cleared", "checkpoint": "HAKARI", "observed_at": "2023-07-26T11:00:00+04:00"})).await;
    ok_event(
        &app,
        json!({"kind": "delivered", "observed_at": "2023-07-26T14:00:00+04:00",
        "cargo": [{"commodity": "flour", "tonnes": "100"}, {"commodity": "food", "tonnes": "0"}]}),
    )
    .await;
    let last = ok_event(
        &other,
        json!({"kind": "delivered", "observed_at": "2023-07-27T09:00:00+04:00",
        "cargo": [{"commodity": "flour", "tonnes": "150", "reason": "rejected_on_receipt"}]}),
    )
    .await;
    assert_eq!(last["seq"], 4);
    // A fifth event on the first instance would make the ledger impossible only if it
    // knew of the second delivery: the convoy is finished.
    let refused = event(
        &app,
        json!({"kind": "delivered", "observed_at": "2023-07-27T10:00:00+04:00",
        "cargo": [{"commodity": "flour", "tonnes": "1"}]}),
    )
    .await;
    refused.problem(422);
    for instance in [&app, &other] {
        let c = convoy(instance).await;
        assert_eq!(c["status"], "short_delivered");
        assert_eq!(c["totals"]["delivered"], "310.000");
        assert_eq!(c["totals"]["rejected_on_receipt"], "40.000");
        assert_eq!(c["totals"]["short_loaded"], "10.000");
        assert_eq!(c["totals"]["outstanding"], "0.000");
        assert_eq!(c["totals"]["shortfall"], "50.000");
        let seqs: Vec<i64> = c["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["seq"].as_i64().unwrap())
            .collect();
        assert_eq!(seqs, [1, 2, 3, 4]);
    }
}

async fn concurrent_events_of_one_convoy_are_each_counted_once_in_order(app: TestApp) {
    create_convoy(&app).await;
    ok_event(
        &app,
        json!({"kind": "departed", "observed_at": "2023-07-26T08:10:00+04:00",
        "cargo": [{"commodity": "flour", "tonnes": "290", "reason": "short_loaded"}]}),
    )
    .await;
    ok_event(&app, json!({"kind": "cleared", "checkpoint": "HAKARI", "observed_at": "2023-07-26T11:00:00+04:00"})).await;
    // 30 holds, one partial delivery and one impossible clearance, all at once.
    let mut bodies: Vec<Value> = (0..30)
        .map(|m| json!({"kind": "held", "checkpoint": "KORNIDZOR", "observed_at": format!("2023-07-26T08:{:02}:00+04:00", 11 + m)}))
        .collect();
    bodies.push(
        json!({"kind": "delivered", "observed_at": "2023-07-26T14:00:00+04:00",
        "cargo": [{"commodity": "flour", "tonnes": "100"}, {"commodity": "food", "tonnes": "0"}]}),
    );
    bodies.push(json!({"kind": "cleared", "checkpoint": "HAKARI", "observed_at": "2023-07-26T12:00:00+04:00",
        "cargo": [{"commodity": "flour", "tonnes": "400"}]}));
    let replies = futures_util::future::join_all(bodies.into_iter().map(|b| event(&app, b))).await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        31,
        "{statuses:?}"
    );
    let refused = replies[31].problem(422);
    assert!(
        refused["detail"].as_str().unwrap().contains("but only"),
        "{refused}"
    );

    let c = convoy(&app).await;
    assert_eq!(c["totals"]["delivered"], "100.000");
    assert_eq!(c["totals"]["outstanding"], "250.000");
    assert_eq!(c["totals"]["short_loaded"], "10.000");
    assert_eq!(c["totals"]["planned"], "360.000");
    let events = app
        .get(&format!("/api/v1/convoys/{CONVOY}/events"))
        .await
        .json();
    let mut seqs: Vec<i64> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=33).collect::<Vec<i64>>());
    // The answers carry the seq each event was stored under.
    let mut answered: Vec<i64> = replies[..31]
        .iter()
        .map(|r| r.json()["seq"].as_i64().unwrap())
        .collect();
    answered.sort_unstable();
    assert_eq!(answered, (3..=33).collect::<Vec<i64>>());
}

async fn concurrent_events_of_many_convoys_are_all_recorded(app: TestApp) {
    let ids: Vec<String> = (0..12)
        .map(|i| format!("5a0c0b1e-2023-4726-8000-0000000010{i:02}"))
        .collect();
    for (i, id) in ids.iter().enumerate() {
        let mut body = crate::convoys::convoy_body(id);
        body["reference"] = json!(format!("MANY-{i}"));
        let r = app.post("/api/v1/convoys", &body).await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    // Each convoy departs with 300 t of flour and 60 t of food, then is delivered in full.
    let departures = ids.iter().map(|id| {
        app.post_owned(
            format!("/api/v1/convoys/{id}/events"),
            json!({"kind": "departed", "observed_at": "2023-07-26T08:10:00+04:00"}),
        )
    });
    let replies = futures_util::future::join_all(departures).await;
    assert!(replies.iter().all(|r| r.status == 201), "{replies:?}");
    let deliveries = ids.iter().map(|id| {
        app.post_owned(
            format!("/api/v1/convoys/{id}/events"),
            json!({"kind": "delivered", "observed_at": "2023-07-26T18:00:00+04:00"}),
        )
    });
    let replies = futures_util::future::join_all(deliveries).await;
    assert!(replies.iter().all(|r| r.status == 201), "{replies:?}");
    for id in &ids {
        let c = app.get(&format!("/api/v1/convoys/{id}")).await.json();
        assert_eq!(c["status"], "delivered", "{c}");
        assert_eq!(c["totals"]["delivered"], "360.000");
        assert_eq!(c["totals"]["outstanding"], "0.000");
    }
    // The weekly rollups moved by every convoy exactly once: 12 × 360 t in 2023-W30.
    let report = app.get("/api/v1/reports/weekly/2023-W30").await.json();
    assert_eq!(report["totals"]["planned"], "4320.000", "{report}");
    assert_eq!(report["totals"]["delivered"], "4320.000", "{report}");
    assert_eq!(report["totals"]["delivered_during_week"], "4320.000");
}

async fn an_event_sent_twice_in_one_sync_batch_is_recorded_once(app: TestApp) {
    create_convoy(&app).await;
    let departed = json!({"id": "e0000000-0000-4000-8000-00000000d001", "convoy": CONVOY, "kind": "departed",
        "observed_at": "2023-07-26T08:10:00+04:00"});
    let mut changed = departed.clone();
    changed["observed_at"] = json!("2023-07-26T08:20:00+04:00");
    let batch = json!({"events": [departed.clone(), departed, changed]});
    let r = app.post("/api/v1/sync", &batch).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = r.json();
    let statuses: Vec<&str> = r["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["created", "replayed", "error"]);
    assert_eq!(r["events"][2]["http_status"], 409);
    let c = convoy(&app).await;
    assert_eq!(c["events"].as_array().unwrap().len(), 1);
    assert_eq!(c["status"], "in_transit");
}

/// The event id a test trigger makes the database refuse.
const REFUSED: &str = "e0000000-0000-4000-8000-00000000d0ff";

/// A trigger that refuses to store the event [`REFUSED`]: a failure the server cannot
/// foresee, in the middle of a group's insert.
fn refusing_trigger(backend: Backend) -> Vec<String> {
    match backend {
        Backend::Sqlite => vec![format!(
            "CREATE TRIGGER refuse_one BEFORE INSERT ON events WHEN NEW.id = '{REFUSED}' \
             BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END"
        )],
        Backend::Postgres => vec![
            format!(
                "CREATE FUNCTION refuse_one() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                 IF NEW.id = '{REFUSED}' THEN RAISE EXCEPTION 'refused by a test trigger'; \
                 END IF; RETURN NEW; END $$"
            ),
            "CREATE TRIGGER refuse_one BEFORE INSERT ON events FOR EACH ROW \
             EXECUTE FUNCTION refuse_one()"
                .into(),
        ],
    }
}

async fn an_event_the_database_refuses_leaves_the_rest_of_its_group_written_once(app: TestApp) {
    create_convoy(&app).await;
    let other = "5a0c0b1e-2023-4726-8000-0000000020ff";
    let mut body = crate::convoys::convoy_body(other);
    body["reference"] = json!("OTHER-1");
    assert_eq!(app.post("/api/v1/convoys", &body).await.status, 201);
    sql(&app, refusing_trigger(app.backend)).await;
    // One group: the first convoy departs and arrives, the other's departure is refused
    // by the database half-way through the group's insert.
    let events = json!([
        {"id": "e0000000-0000-4000-8000-00000000d0a1", "convoy": CONVOY, "kind": "departed",
         "observed_at": "2023-07-26T08:10:00+04:00"},
        {"id": REFUSED, "convoy": other, "kind": "departed",
         "observed_at": "2023-07-26T08:15:00+04:00"},
        {"id": "e0000000-0000-4000-8000-00000000d0a2", "convoy": CONVOY, "kind": "delivered",
         "observed_at": "2023-07-26T18:00:00+04:00"},
    ]);
    let statuses = |r: &Value| -> Vec<String> {
        r["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["status"].as_str().unwrap().to_string())
            .collect()
    };
    let r = app.post("/api/v1/sync", &json!({"events": events})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = r.json();
    assert_eq!(statuses(&r), ["created", "error", "created"], "{r}");
    assert_eq!(r["events"][1]["http_status"], 500, "{r}");
    let c = convoy(&app).await;
    assert_eq!(c["events"].as_array().unwrap().len(), 2, "{c}");
    assert_eq!(c["status"], "delivered");
    assert_eq!(c["totals"]["delivered"], "360.000");
    let o = app.get(&format!("/api/v1/convoys/{other}")).await.json();
    assert_eq!(o["events"].as_array().unwrap().len(), 0, "{o}");
    // The same batch again once the database accepts it: the two stored events are
    // replays, the refused one is stored now, and nothing is counted twice.
    sql(
        &app,
        vec![
            "DROP TRIGGER refuse_one".to_string()
                + if app.backend == Backend::Postgres {
                    " ON events"
                } else {
                    ""
                },
        ],
    )
    .await;
    let r = app
        .post("/api/v1/sync", &json!({"events": events}))
        .await
        .json();
    assert_eq!(statuses(&r), ["replayed", "created", "replayed"], "{r}");
    let c = convoy(&app).await;
    assert_eq!(c["events"].as_array().unwrap().len(), 2, "{c}");
    assert_eq!(c["totals"]["delivered"], "360.000");
    let o = app.get(&format!("/api/v1/convoys/{other}")).await.json();
    assert_eq!(o["events"].as_array().unwrap().len(), 1, "{o}");
    assert_eq!(o["status"], "in_transit");
    let report = app.get("/api/v1/reports/weekly/2023-W30").await.json();
    assert_eq!(report["totals"]["delivered"], "360.000", "{report}");
}

async fn a_token_revoked_elsewhere_cannot_write_even_while_cached(app: TestApp) {
    create_convoy(&app).await;
    let editor = app.token("editor", Some("arm-gov")).await;
    // A read puts the token in this instance's cache.
    assert_eq!(app.get_as(&editor, "/api/v1/convoys").await.status, 200);
    // Another instance (or the CLI) revokes it in the shared database.
    let listed = app.get("/api/v1/tokens").await.json();
    let id = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["role"] == "editor")
        .map(|t| t["id"].as_str().unwrap().to_string())
        .unwrap();
    let pool = app.state.pool.clone();
    actix_web::web::block(move || {
        let mut conn = pool.get().unwrap();
        aidflow::store::tokens::revoke_token(&mut conn, &id).unwrap();
    })
    .await
    .unwrap();
    let path = format!("/api/v1/convoys/{CONVOY}/events");
    let refused = app
        .post_as(
            &editor,
            &path,
            &json!({"kind": "departed", "observed_at": "2023-07-26T08:10:00+04:00"}),
        )
        .await;
    refused.problem(401);
    let synced = app
        .post_as(
            &editor,
            "/api/v1/sync",
            &json!({"events": [{"id": "e0000000-0000-4000-8000-00000000d002", "convoy": CONVOY,
            "kind": "departed", "observed_at": "2023-07-26T08:10:00+04:00"}]}),
        )
        .await;
    // Other writes, sync batches included, never rely on the cache.
    synced.problem(401);
    let mut body = crate::convoys::convoy_body("5a0c0b1e-2023-4726-8000-00000000b001");
    body["reference"] = json!("AM-REVOKED");
    app.post_as(&editor, "/api/v1/convoys", &body)
        .await
        .problem(401);
    let c = convoy(&app).await;
    assert_eq!(c["events"].as_array().unwrap().len(), 0);
}
