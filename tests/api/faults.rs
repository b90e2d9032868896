//! Storage that refuses writes — here every pooled connection made read-only, as a
//! read-only SQLite file or a PostgreSQL standby refuses writes (`SQLITE_READONLY`,
//! SQLSTATE 25006) — is a 503 with `Retry-After` and its own problem type, `/health/ready`
//! is 503 until a write succeeds again, and the data written before is intact. (The same
//! classification of a real `SQLITE_FULL` is tested in `store::error`.)

use aidflow::db::DbConn;
use diesel::connection::SimpleConnection;
use serde_json::{json, Value};

use crate::api_test;
use crate::convoys::{convoy, convoy_body, create_convoy, event, ok_event, CONVOY};
use crate::helpers::{Reply, TestApp};

api_test!(storage_that_refuses_writes_is_503_until_a_write_succeeds_again);

/// Makes every connection of the server's pool refuse writes (or accept them again).
async fn refuse_writes(app: &TestApp, on: bool) {
    let pool = app.state.pool.clone();
    tokio::task::spawn_blocking(move || {
        let all: Vec<_> = (0..pool.max_size()).map(|_| pool.get().unwrap()).collect();
        for mut c in all {
            match &mut *c {
                DbConn::Sqlite(c) => c.batch_execute(if on {
                    "PRAGMA query_only = ON"
                } else {
                    "PRAGMA query_only = OFF"
                }),
                DbConn::Pg(c) => c.batch_execute(if on {
                    "SET default_transaction_read_only = on"
                } else {
                    "SET default_transaction_read_only = off"
                }),
            }
            .unwrap();
        }
    })
    .await
    .unwrap();
}

fn assert_storage_unavailable(reply: &Reply) {
    let problem = reply.problem(503);
    assert_eq!(
        problem["type"], "urn:aidflow:problem:storage-unavailable",
        "{problem}"
    );
    assert_eq!(problem["title"], "Storage unavailable");
    assert_eq!(reply.header("retry-after"), Some("30"));
}

fn held_at(minute: i64) -> Value {
    let start = chrono::DateTime::parse_from_rfc3339("2023-07-26T10:00:00+04:00").unwrap();
    json!({"id": uuid::Uuid::new_v4(), "kind": "held", "checkpoint": "KORNIDZOR",
           "observed_at": (start + chrono::Duration::minutes(minute)).to_rfc3339()})
}

/// The same as a sync item, which names its convoy.
fn synced(minute: i64) -> Value {
    let mut item = held_at(minute);
    item["convoy"] = json!(CONVOY);
    item
}

async fn storage_that_refuses_writes_is_503_until_a_write_succeeds_again(app: TestApp) {
    create_convoy(&app).await;
    ok_event(&app, json!({"kind": "departed", "checkpoint": "GORIS", "observed_at": "2023-07-26T08:10:00+04:00"})).await;
    let before = convoy(&app).await;
    assert_eq!(app.get("/health/ready").await.status, 200);

    refuse_writes(&app, true).await;
    // A single event (through the event writers), a convoy, a 200-event sync batch.
    assert_storage_unavailable(&event(&app, held_at(0)).await);
    let mut second = convoy_body("5a0c0b1e-2023-4726-8000-000000000727");
    second["reference"] = json!("AM-2023-07-27");
    assert_storage_unavailable(&app.post("/api/v1/convoys", &second).await);
    let batch: Vec<Value> = (1..=200).map(synced).collect();
    let sync = app.post("/api/v1/sync", &json!({"events": batch})).await;
    assert_storage_unavailable(&sync);
    let ready = app.get("/health/ready").await;
    assert_storage_unavailable(&ready);
    // Reads still work, and show what was stored before.
    assert_eq!(convoy(&app).await, before);
    assert_storage_unavailable(&app.get("/health/ready").await);

    refuse_writes(&app, false).await;
    let ok = event(&app, held_at(0)).await;
    assert_eq!(ok.status, 201, "{}", ok.text);
    let ready = app.get("/health/ready").await;
    assert_eq!(ready.status, 200, "{}", ready.text);
    let sync = app.post("/api/v1/sync", &json!({"events": batch})).await;
    assert_eq!(sync.status, 200, "{}", sync.text);
    assert_eq!(
        sync.json()["counts"],
        json!({"created": 200, "replayed": 0, "failed": 0})
    );
    let after = convoy(&app).await;
    assert_eq!(after["events"].as_array().unwrap().len(), 1 + 1 + 200);
    assert_eq!(
        after["events"][0], before["events"][0],
        "the event stored before is intact"
    );
}

api_test!(ready_comes_back_by_itself_once_the_storage_takes_writes);

/// An instance a load balancer took out gets no writes: its readiness check tries one.
async fn ready_comes_back_by_itself_once_the_storage_takes_writes(app: TestApp) {
    create_convoy(&app).await;
    refuse_writes(&app, true).await;
    assert_storage_unavailable(&event(&app, held_at(0)).await);
    assert_storage_unavailable(&app.get("/health/ready").await);
    refuse_writes(&app, false).await;
    let ready = app.get("/health/ready").await;
    assert_eq!(ready.status, 200, "{}", ready.text);
    assert_eq!(convoy(&app).await["events"].as_array().unwrap().len(), 0);
}
