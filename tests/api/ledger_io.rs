//! Offline sync, CSV import, shortfall summaries and the demo.

use serde_json::{json, Value};

use crate::api_test;
use crate::convoys::{convoy, create_convoy, ok_event, CONVOY};
use crate::helpers::{postgres_available, spawn_app_on, Backend, TestApp, TestDb};

api_test!(
    sync_answers_each_item_and_a_retried_batch_changes_nothing,
    sync_refuses_more_than_1000_items,
    sync_of_1000_events_records_them_all,
    sync_of_many_cargo_lines_reads_back_each_line_exactly,
    csv_import_records_every_row_and_replays_the_same_file,
    csv_import_with_errors_lists_them_by_line_and_writes_nothing,
    shortfalls_group_by_every_dimension_with_exact_tonnes,
);

fn sync_batch() -> Value {
    json!({
        "device": "kornidzor-phone",
        "convoys": [
            {"id": "c0000000-0000-4000-8000-000000000001", "organization": "icrc", "reference": "ICRC-1", "route": "lachin",
             "planned_departure": "2023-09-18T08:00:00+04:00", "manifest": [{"commodity": "flour", "tonnes": "23"}]},
            {"id": "c0000000-0000-4000-8000-000000000002", "organization": "icrc", "reference": "ICRC-2", "route": "nowhere",
             "planned_departure": "2023-09-18T08:00:00+04:00", "manifest": [{"commodity": "flour", "tonnes": "1"}]}
        ],
        "events": [
            {"id": "e0000000-0000-4000-8000-000000000001", "convoy": "c0000000-0000-4000-8000-000000000001", "kind": "departed",
             "observed_at": "2023-09-18T08:20:00+04:00"},
            {"id": "e0000000-0000-4000-8000-000000000002", "convoy": "c0000000-0000-4000-8000-000000000001", "kind": "cleared",
             "checkpoint": "HAKARI", "observed_at": "2023-09-18T10:00:00+04:00", "cargo": [{"commodity": "flour", "tonnes": "30"}]},
            {"id": "e0000000-0000-4000-8000-000000000003", "convoy": "c0000000-0000-4000-8000-000000000001", "kind": "delivered",
             "observed_at": "2023-09-18T13:30:00+04:00", "cargo": [{"commodity": "flour", "tonnes": "22.5", "reason": "damaged"}]},
            {"convoy": "c0000000-0000-4000-8000-000000000001", "kind": "held", "observed_at": "2023-09-18T09:00:00+04:00"}
        ]
    })
}

async fn sync_answers_each_item_and_a_retried_batch_changes_nothing(app: TestApp) {
    let first = app.post("/api/v1/sync", &sync_batch()).await;
    assert_eq!(first.status, 200, "{}", first.text);
    let r = first.json();
    let statuses = |items: &Value| {
        items
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["status"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(statuses(&r["convoys"]), ["created", "error"]);
    assert_eq!(r["convoys"][1]["http_status"], 422);
    assert_eq!(r["convoys"][1]["error"]["errors"][0]["field"], "route");
    assert_eq!(
        statuses(&r["events"]),
        ["created", "error", "created", "error"]
    );
    assert!(r["events"][1]["error"]["detail"]
        .as_str()
        .unwrap()
        .contains("cleared 30.000 t of flour at HAKARI but only 23.000 t entered"));
    assert_eq!(r["events"][3]["error"]["errors"][0]["field"], "id");
    assert_eq!(
        r["counts"],
        json!({"created": 3, "replayed": 0, "failed": 3})
    );
    let c = app
        .get("/api/v1/convoys/c0000000-0000-4000-8000-000000000001")
        .await
        .json();
    assert_eq!(c["status"], "short_delivered");
    assert_eq!(c["totals"]["delivered"], "22.500");
    assert_eq!(c["totals"]["lost"], "0.500");

    let again = app.post("/api/v1/sync", &sync_batch()).await.json();
    assert_eq!(statuses(&again["convoys"]), ["replayed", "error"]);
    assert_eq!(
        statuses(&again["events"]),
        ["replayed", "error", "replayed", "error"]
    );
    assert_eq!(
        again["counts"],
        json!({"created": 0, "replayed": 3, "failed": 3})
    );
    let c2 = app
        .get("/api/v1/convoys/c0000000-0000-4000-8000-000000000001")
        .await
        .json();
    assert_eq!(c2["totals"], c["totals"]);
    assert_eq!(c2["events"].as_array().unwrap().len(), 2);
}

async fn sync_refuses_more_than_1000_items(app: TestApp) {
    let events: Vec<Value> = (0..1001)
        .map(|i| json!({"id": uuid::Uuid::new_v4(), "convoy": CONVOY, "kind": "held", "observed_at": format!("2023-07-26T10:00:{:02}+04:00", i % 60)}))
        .collect();
    let reply = app.post("/api/v1/sync", &json!({"events": events})).await;
    reply.problem(422);
    assert_eq!(reply.error_fields(), ["events"]);
}

/// Posts a sync batch and checks that it created all its `items`, naming the first
/// item refused if not.
async fn sync_creating_all(app: &TestApp, batch: &Value, items: usize) {
    let reply = app.post("/api/v1/sync", batch).await;
    assert_eq!(
        reply.status,
        200,
        "{}",
        &reply.text[..reply.text.len().min(500)]
    );
    let answer = reply.json();
    let refused = ["convoys", "events"]
        .iter()
        .filter_map(|k| answer[*k].as_array())
        .flatten()
        .find(|item| item["status"] != "created");
    assert_eq!(
        answer["counts"],
        json!({"created": items, "replayed": 0, "failed": 0}),
        "first item not created: {refused:?}"
    );
}

async fn sync_of_1000_events_records_them_all(app: TestApp) {
    create_convoy(&app).await;
    let start = chrono::DateTime::parse_from_rfc3339("2023-07-26T10:00:00+04:00").unwrap();
    let events: Vec<Value> = (0..1000)
        .map(|i| json!({"id": uuid::Uuid::new_v4(), "convoy": CONVOY, "kind": "held", "checkpoint": "KORNIDZOR",
                        "observed_at": (start + chrono::Duration::minutes(i)).to_rfc3339()}))
        .collect();
    sync_creating_all(&app, &json!({"events": events}), 1000).await;
    let c = convoy(&app).await;
    assert_eq!(c["status"], "held");
    assert_eq!(c["events"].as_array().unwrap().len(), 1000);
    assert_eq!(
        c["last_seen_at"], "2023-07-26T22:39:00Z",
        "10:00+04:00 plus 999 minutes"
    );
}

/// 60 convoys and their departures and deliveries in one batch: 120 events and 120 cargo
/// lines, enough for PostgreSQL to take them with `COPY` (from 50 rows); each line must
/// read back with its exact quantity, unit and reason, as a lone event's does.
async fn sync_of_many_cargo_lines_reads_back_each_line_exactly(app: TestApp) {
    let id = |i: usize| format!("c1000000-0000-4000-8000-{i:012}");
    let convoys: Vec<Value> = (0..60)
        .map(|i| json!({"id": id(i), "organization": "icrc", "reference": format!("ICRC-COPY-{i}"), "route": "lachin",
                        "planned_departure": "2023-09-18T08:00:00+04:00",
                        "manifest": [{"commodity": "flour", "tonnes": "20"}, {"commodity": "sunflower_oil", "quantity": "2000", "unit": "L"}]}))
        .collect();
    let events: Vec<Value> = (0..60)
        .flat_map(|i| [
            json!({"id": uuid::Uuid::new_v4(), "convoy": id(i), "kind": "departed", "observed_at": "2023-09-18T08:20:00+04:00"}),
            json!({"id": uuid::Uuid::new_v4(), "convoy": id(i), "kind": "delivered", "observed_at": "2023-09-18T13:30:00+04:00",
                   "cargo": [{"commodity": "flour", "tonnes": format!("19.{i:03}"), "reason": "damaged"},
                             {"commodity": "sunflower_oil", "quantity": "1500", "unit": "L", "reason": "stolen"}]}),
        ])
        .collect();
    sync_creating_all(&app, &json!({"convoys": convoys, "events": events}), 180).await;
    for i in [0, 7, 59] {
        let c = app.get(&format!("/api/v1/convoys/{}", id(i))).await.json();
        assert_eq!(c["status"], "short_delivered", "convoy {i}");
        let delivered = &c["events"][1];
        assert_eq!(delivered["kind"], "delivered");
        assert_eq!(delivered["cargo"][0]["commodity"], "flour");
        assert_eq!(delivered["cargo"][0]["tonnes"], format!("19.{i:03}"));
        assert_eq!(delivered["cargo"][0]["reason"], "damaged");
        assert_eq!(delivered["cargo"][1]["commodity"], "sunflower_oil");
        assert_eq!(delivered["cargo"][1]["quantity"], "1500");
        assert_eq!(delivered["cargo"][1]["unit"], "L");
        assert_eq!(delivered["cargo"][1]["reason"], "stolen");
    }
}

const CSV: &str = "organization,convoy,kind,checkpoint,observed_at,commodity,tonnes,quantity,unit,reason,note\n\
arm-gov,AM-2023-07-26,departed,GORIS,2023-07-26T08:10:00+04:00,,,,,,\n\
arm-gov,AM-2023-07-26,cleared,HAKARI,2023-07-27T10:15:00+04:00,flour,280,,,denied_at_checkpoint,paper form 12\n\
arm-gov,AM-2023-07-26,cleared,HAKARI,2023-07-27T10:15:00+04:00,food,,59500,kg,confiscated,paper form 12\n\
arm-gov,AM-2023-07-26,delivered,STEPANAKERT,2023-07-27T14:00:00+04:00,,,,,,\n";

async fn import_csv(app: &TestApp, body: &str) -> crate::helpers::Reply {
    app.send(
        app.client
            .post(app.url("/api/v1/imports/events"))
            .bearer_auth(&app.admin_token)
            .header("content-type", "text/csv")
            .body(body.to_string()),
    )
    .await
}

async fn csv_import_records_every_row_and_replays_the_same_file(app: TestApp) {
    create_convoy(&app).await;
    let reply = import_csv(&app, CSV).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(
        reply.json(),
        json!({"rows": 4, "events": 3, "created": 3, "replayed": 0})
    );
    let c = convoy(&app).await;
    assert_eq!(c["status"], "short_delivered");
    assert_eq!(c["totals"]["delivered"], "339.500");
    assert_eq!(c["totals"]["denied"], "20.000");
    assert_eq!(
        c["totals"]["lost_by"],
        json!([{"checkpoint": "HAKARI", "reason": "confiscated", "tonnes": "0.500"}])
    );
    let cleared = c["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "cleared")
        .unwrap()
        .clone();
    assert_eq!(
        cleared["cargo"].as_array().unwrap().len(),
        2,
        "two rows, one event"
    );
    assert_eq!(cleared["note"], "paper form 12");
    let again = import_csv(&app, CSV).await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(
        again.json(),
        json!({"rows": 4, "events": 3, "created": 0, "replayed": 3})
    );
    assert_eq!(
        convoy(&app).await["totals"],
        c["totals"],
        "importing the same file twice counts nothing twice"
    );
}

async fn csv_import_with_errors_lists_them_by_line_and_writes_nothing(app: TestApp) {
    create_convoy(&app).await;
    let bad = "organization,convoy,kind,checkpoint,observed_at,commodity,tonnes\n\
arm-gov,AM-2023-07-26,departed,GORIS,2023-07-26T08:10:00+04:00,,\n\
arm-gov,AM-2099,held,KORNIDZOR,2023-07-26T10:00:00+04:00,,\n\
arm-gov,AM-2023-07-26,cleared,HAKARI,yesterday,flour,-3\n\
arm-gov,AM-2023-07-26,cleared,SHUSHA,2023-07-27T10:00:00+04:00,flour,400\n";
    let reply = import_csv(&app, bad).await;
    reply.problem(422);
    let fields = reply.error_fields();
    assert!(fields.contains(&"line 3, convoy".to_string()), "{fields:?}");
    let reply2 = import_csv(
        &app,
        &bad.replace(
            "arm-gov,AM-2099,held,KORNIDZOR,2023-07-26T10:00:00+04:00,,\n",
            "",
        ),
    )
    .await;
    reply2.problem(422);
    assert_eq!(
        reply2.error_fields(),
        ["line 3, observed_at", "line 3, tonnes", "line 4, event"]
    );
    assert!(reply2.json()["errors"][2]["message"]
        .as_str()
        .unwrap()
        .contains("cleared 400.000 t of flour at SHUSHA but only 300.000 t entered"));
    assert_eq!(
        convoy(&app).await["events"].as_array().unwrap().len(),
        0,
        "nothing written"
    );
    let header = import_csv(&app, "convoy,kind,when\nA,held,now\n").await;
    header.problem(422);
    assert_eq!(
        header.error_fields(),
        ["line 1, when", "line 1, observed_at"]
    );
    let json_body = app.post("/api/v1/imports/events", &json!({})).await;
    json_body.problem(415);
}

async fn shortfalls_group_by_every_dimension_with_exact_tonnes(app: TestApp) {
    create_convoy(&app).await;
    ok_event(&app, json!({"kind": "cleared", "checkpoint": "HAKARI", "observed_at": "2023-07-27T10:15:00+04:00",
        "cargo": [{"commodity": "flour", "tonnes": "280", "reason": "denied_at_checkpoint"}, {"commodity": "food", "tonnes": "59", "reason": "stolen"}]})).await;
    ok_event(&app, json!({"kind": "delivered", "observed_at": "2023-07-27T14:00:00+04:00", "cargo": [{"commodity": "flour", "tonnes": "200"}]})).await;
    let icrc = app.post("/api/v1/convoys", &json!({"organization": "icrc", "reference": "ICRC-7", "route": "aghdam",
        "planned_departure": "2023-07-28T08:00:00+04:00", "manifest": [{"commodity": "flour", "tonnes": "10"}]})).await.json();
    app.post(
        &format!("/api/v1/convoys/{}/events", icrc["id"].as_str().unwrap()),
        &json!({"kind": "cancelled", "observed_at": "2023-07-27T08:00:00+04:00"}),
    )
    .await;
    let get = |group: &'static str| {
        app.get_owned(format!(
            "/api/v1/shortfalls?from=2023-07-24&to=2023-07-30&group_by={group}"
        ))
    };
    let by_route = get("route").await.json();
    assert_eq!(by_route["convoys"], 2);
    assert_eq!(by_route["totals"]["planned"], "360.000");
    assert_eq!(by_route["totals"]["delivered"], "259.000");
    assert_eq!(by_route["totals"]["shortfall"], "101.000");
    assert_eq!(by_route["totals"]["denied"], "20.000");
    assert_eq!(by_route["totals"]["lost"], "1.000");
    assert_eq!(by_route["totals"]["outstanding"], "80.000");
    assert_eq!(by_route["totals"]["cancelled"], "10.000");
    let keys = |v: &Value| {
        v["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["key"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(&by_route), ["aghdam", "lachin"]);
    assert_eq!(by_route["groups"][0]["cancelled"], "10.000");
    assert_eq!(by_route["groups"][0]["planned"], "0.000");
    let by_commodity = get("commodity").await.json();
    assert_eq!(keys(&by_commodity), ["flour", "food"]);
    assert_eq!(by_commodity["groups"][0]["delivered"], "200.000");
    assert_eq!(by_commodity["groups"][0]["outstanding"], "80.000");
    assert_eq!(by_commodity["groups"][1]["delivered"], "59.000");
    let by_checkpoint = get("checkpoint").await.json();
    assert_eq!(keys(&by_checkpoint), ["HAKARI"]);
    assert_eq!(by_checkpoint["groups"][0]["denied"], "20.000");
    assert_eq!(by_checkpoint["groups"][0]["lost"], "1.000");
    assert_eq!(by_checkpoint["groups"][0]["planned"], Value::Null);
    let by_reason = get("reason").await.json();
    assert_eq!(
        keys(&by_reason),
        ["denied_at_checkpoint", "outstanding", "stolen"]
    );
    assert_eq!(by_reason["groups"][1]["outstanding"], "80.000");
    let by_org = get("organization").await.json();
    assert_eq!(keys(&by_org), ["arm-gov", "icrc"]);
    let by_convoy = get("convoy").await.json();
    assert_eq!(by_convoy["groups"].as_array().unwrap().len(), 2);
    let outside = app
        .get("/api/v1/shortfalls?from=2023-08-01&to=2023-08-31")
        .await
        .json();
    assert_eq!(outside["convoys"], 0);
    assert_eq!(outside["totals"]["planned"], "0.000");
    let bad = app
        .get("/api/v1/shortfalls?from=2023-08-01&to=2023-07-01&group_by=moon")
        .await;
    bad.problem(422);
    app.get("/api/v1/shortfalls?to=2023-07-01")
        .await
        .problem(422);
}

/// `aidflow demo`, then the README's walk-through: the 360 t convoy stands held at
/// KORNIDZOR with its 360 t outstanding.
async fn demo_shows_the_360_t_convoy_held_at_kornidzor(backend: Backend) {
    let db = TestDb::create(backend);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_aidflow"))
        .arg("demo")
        .env(
            "AIDFLOW_CONFIG_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/config"),
        )
        .env("AIDFLOW__DATABASE__URL", db.url())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        token.starts_with("afw_"),
        "the demo prints the first admin token: {token:?}"
    );
    let app = spawn_app_on(db, Some(token), &[]);
    let id = aidflow::app::demo::july_convoy_id();
    let c = app.get(&format!("/api/v1/convoys/{id}")).await.json();
    assert_eq!(c["reference"], "AM-2023-07-26");
    assert_eq!(c["trucks"], 19);
    assert_eq!(c["status"], "held");
    assert_eq!(c["last_checkpoint"], "KORNIDZOR");
    assert_eq!(c["totals"]["planned"], "360.000");
    assert_eq!(c["totals"]["outstanding"], "360.000");
    assert_eq!(c["totals"]["delivered"], "0.000");
    let held = app.get("/api/v1/convoys?status=held").await.json();
    let refs: Vec<&str> = held["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["reference"].as_str().unwrap())
        .collect();
    assert_eq!(refs, ["AM-2023-07-26", "FR-2023-08-05"]);
    let sept = app
        .get("/api/v1/shortfalls?from=2023-09-01&to=2023-09-30&group_by=commodity")
        .await
        .json();
    assert_eq!(
        sept["totals"]["delivered"], "107.495",
        "15 t + 23 t + 69.495 t"
    );
    let baseline = app
        .get("/api/v1/shortfalls?from=2022-12-05&to=2022-12-11")
        .await
        .json();
    assert_eq!(
        baseline["totals"]["delivered"], "2800.000",
        "400 t a day for a week"
    );
}

#[actix_web::test]
async fn demo_on_sqlite_shows_the_360_t_convoy_held_at_kornidzor() {
    demo_shows_the_360_t_convoy_held_at_kornidzor(Backend::Sqlite).await;
}

#[actix_web::test]
async fn demo_on_postgres_shows_the_360_t_convoy_held_at_kornidzor() {
    if postgres_available() {
        demo_shows_the_360_t_convoy_held_at_kornidzor(Backend::Postgres).await;
    }
}
