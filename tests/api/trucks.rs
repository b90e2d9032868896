//! Trucks counted at checkpoints beside the tonnes: given on events (POST, sync, CSV),
//! carried forward along the route, shown on the convoy.

use serde_json::{json, Value};

use crate::api_test;
use crate::convoys::{convoy, create_convoy, event, ok_event, CONVOY};
use crate::helpers::TestApp;

api_test!(
    truck_counts_are_stored_and_carried_forward_per_checkpoint,
    truck_counts_out_of_range_or_above_the_convoys_trucks_are_422_naming_the_field,
    sync_and_csv_import_carry_truck_counts,
);

/// (checkpoint, arrived, passed, held, turned_back) per checkpoint.
fn steps(c: &Value) -> Vec<(String, Value, Value, Value, Value)> {
    c["trucks_by_checkpoint"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["checkpoint"].as_str().unwrap().to_string(),
                s["arrived"].clone(),
                s["passed"].clone(),
                s["held"].clone(),
                s["turned_back"].clone(),
            )
        })
        .collect()
}

fn row(cp: &str, a: Value, p: Value, h: Value, t: Value) -> (String, Value, Value, Value, Value) {
    (cp.to_string(), a, p, h, t)
}

async fn truck_counts_are_stored_and_carried_forward_per_checkpoint(app: TestApp) {
    create_convoy(&app).await;
    let n = Value::Null;
    let c = convoy(&app).await;
    assert_eq!(c["trucks"], 19);
    assert_eq!(c["trucks_arrived"], n);
    ok_event(
        &app,
        json!({"kind": "departed", "observed_at": "2023-07-26T08:10:00+04:00"}),
    )
    .await;
    let held = ok_event(&app, json!({"kind": "held", "checkpoint": "KORNIDZOR", "observed_at": "2023-07-26T11:00:00+04:00",
        "trucks_passed": 3, "trucks_held": 16})).await;
    assert_eq!(
        (&held["trucks_passed"], &held["trucks_held"]),
        (&json!(3), &json!(16))
    );
    assert!(
        held.get("trucks_turned_back").is_none(),
        "absent when not given: {held}"
    );
    // A clearance without counts keeps the 3; two of them are turned back at HAKARI.
    ok_event(&app, json!({"kind": "cleared", "checkpoint": "KORNIDZOR", "observed_at": "2023-07-26T12:00:00+04:00"})).await;
    ok_event(&app, json!({"kind": "turned_back", "checkpoint": "HAKARI", "observed_at": "2023-07-26T13:00:00+04:00",
        "trucks_turned_back": 3})).await;
    let c = convoy(&app).await;
    assert_eq!(
        steps(&c),
        vec![
            row("GORIS", json!(19), json!(19), n.clone(), n.clone()),
            row("KORNIDZOR", json!(19), json!(3), json!(16), n.clone()),
            row("HAKARI", json!(3), n.clone(), n.clone(), json!(3)),
            row("SHUSHA", n.clone(), n.clone(), n.clone(), n.clone()),
            row("STEPANAKERT", n.clone(), n.clone(), n.clone(), n.clone()),
        ]
    );
    assert_eq!(c["trucks_arrived"], n);
    let events = app
        .get(&format!("/api/v1/convoys/{CONVOY}/events"))
        .await
        .json();
    assert_eq!(events[1]["trucks_held"], 16);
    assert_eq!(events[3]["trucks_turned_back"], 3);

    // The same body again is a replay, with or without the counts in another order.
    let body = json!({"id": "e0000000-0000-4000-8000-0000000000b1", "kind": "arrived", "checkpoint": "STEPANAKERT",
        "observed_at": "2023-07-27T13:00:00+04:00", "trucks_passed": 1});
    let second = app.post("/api/v1/convoys", &json!({
        "id": "5a0c0b1e-2023-4726-8000-0000000007b1", "organization": "arm-gov", "reference": "AM-T", "route": "lachin",
        "planned_departure": "2023-07-26T08:00:00+04:00", "trucks": 4,
        "manifest": [{"commodity": "flour", "tonnes": "40"}]})).await;
    assert_eq!(second.status, 201, "{}", second.text);
    let path = "/api/v1/convoys/5a0c0b1e-2023-4726-8000-0000000007b1/events";
    assert_eq!(app.post(path, &body).await.status, 201);
    assert_eq!(app.post(path, &body).await.status, 200);
    let mut changed = body.clone();
    changed["trucks_passed"] = json!(2);
    app.post(path, &changed).await.problem(409);
    let done = app.post(path, &json!({"kind": "delivered", "observed_at": "2023-07-27T14:00:00+04:00", "trucks_passed": 4})).await;
    assert_eq!(done.status, 201, "{}", done.text);
    let c = app
        .get("/api/v1/convoys/5a0c0b1e-2023-4726-8000-0000000007b1")
        .await
        .json();
    assert_eq!(c["trucks_arrived"], 4);
    assert_eq!(
        c["trucks_by_checkpoint"][4],
        json!({"checkpoint": "STEPANAKERT", "arrived": 4, "passed": 4, "held": null, "turned_back": null})
    );
}

async fn truck_counts_out_of_range_or_above_the_convoys_trucks_are_422_naming_the_field(
    app: TestApp,
) {
    create_convoy(&app).await;
    let bad = event(&app, json!({"kind": "held", "checkpoint": "KORNIDZOR", "observed_at": "2023-07-26T11:00:00+04:00",
        "trucks_passed": 20, "trucks_held": -1, "trucks_turned_back": 1001})).await;
    let p = bad.problem(422);
    assert_eq!(
        bad.error_fields(),
        ["trucks_passed", "trucks_held", "trucks_turned_back"],
        "{p}"
    );
    let messages: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        messages,
        [
            "20 is more than the convoy's 19 trucks; correct the count, or the convoy's trucks",
            "must be a whole number of trucks from 0 to 1000",
            "must be a whole number of trucks from 0 to 1000",
        ]
    );
    let fraction = event(&app, json!({"kind": "cleared", "observed_at": "2023-07-26T11:00:00+04:00", "trucks_passed": 2.5})).await;
    fraction.problem(422);
    assert_eq!(fraction.error_fields(), ["trucks_passed"]);
    let text = event(&app, json!({"kind": "cleared", "observed_at": "2023-07-26T11:00:00+04:00", "trucks_passed": "2"})).await;
    text.problem(422);
    assert_eq!(text.error_fields(), ["trucks_passed"]);
    let closed = event(
        &app,
        json!({"kind": "closed", "observed_at": "2023-07-26T11:00:00+04:00", "trucks_held": 2}),
    )
    .await;
    closed.problem(422);
    assert_eq!(closed.error_fields(), ["trucks_held"]);
    assert_eq!(
        convoy(&app).await["events"],
        json!([]),
        "nothing was recorded"
    );
}

async fn sync_and_csv_import_carry_truck_counts(app: TestApp) {
    let id = "c0000000-0000-4000-8000-0000000000c1";
    let batch = json!({
        "convoys": [{"id": id, "organization": "icrc", "reference": "ICRC-T", "route": "lachin", "trucks": 2,
            "planned_departure": "2023-09-18T08:00:00+04:00", "manifest": [{"commodity": "flour", "tonnes": "23"}]}],
        "events": [
            {"id": "e0000000-0000-4000-8000-0000000000c1", "convoy": id, "kind": "held", "checkpoint": "HAKARI",
             "observed_at": "2023-09-18T10:00:00+04:00", "trucks_held": 1, "trucks_passed": 1},
            {"id": "e0000000-0000-4000-8000-0000000000c2", "convoy": id, "kind": "cleared", "checkpoint": "SHUSHA",
             "observed_at": "2023-09-18T11:00:00+04:00", "trucks_passed": 3}
        ]
    });
    let r = app.post("/api/v1/sync", &batch).await.json();
    assert_eq!(r["events"][0]["status"], "created", "{r}");
    assert_eq!(r["events"][1]["http_status"], 422);
    assert_eq!(
        r["events"][1]["error"]["errors"][0]["field"],
        "trucks_passed"
    );
    let csv = "convoy,kind,checkpoint,observed_at,trucks_passed\n\
        c0000000-0000-4000-8000-0000000000c1,delivered,,2023-09-18T13:00:00+04:00,1\n";
    let reply = app
        .send(
            app.client
                .post(app.url("/api/v1/imports/events"))
                .bearer_auth(&app.admin_token)
                .header("content-type", "text/csv")
                .body(csv),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let c = app.get(&format!("/api/v1/convoys/{id}")).await.json();
    assert_eq!(c["trucks_arrived"], 1);
    assert_eq!(
        c["trucks_by_checkpoint"][2],
        json!({"checkpoint": "HAKARI", "arrived": 2, "passed": 1, "held": 1, "turned_back": null})
    );
    let bad = "convoy,kind,observed_at,trucks_held\nc0000000-0000-4000-8000-0000000000c1,held,2023-09-18T12:00:00+04:00,two\n";
    let reply = app
        .send(
            app.client
                .post(app.url("/api/v1/imports/events"))
                .bearer_auth(&app.admin_token)
                .header("content-type", "text/csv")
                .body(bad),
        )
        .await;
    let p = reply.problem(422);
    assert!(p.to_string().contains("trucks_held"), "{p}");
}
