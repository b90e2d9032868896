//! Alerts and webhooks, driven by an injected clock (never by sleeping), on both backends;
//! and two `aidflow serve` processes on one PostgreSQL database.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::api_test;
use crate::helpers::{postgres_available, spawn_app_with, Backend, TestApp, TestDb};
use crate::receiver::{Behaviour, Receiver};

const SECRET: &str = "kornidzor-signing-secret";

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("time")
        .with_timezone(&Utc)
}

async fn webhook(app: &TestApp, url: &str, events: &[&str]) -> String {
    let reply = app
        .post(
            "/api/v1/webhooks",
            &json!({"url": url, "secret": SECRET, "events": events}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    reply.json()["id"].as_str().unwrap().to_string()
}

async fn alerts(app: &TestApp, query: &str) -> Vec<Value> {
    let reply = app.get(&format!("/api/v1/alerts{query}")).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json()["items"].as_array().unwrap().clone()
}

async fn load_demo(app: &TestApp) {
    app.state.db(aidflow::app::demo::load).await.expect("demo");
}

async fn send(app: &TestApp, now: &str) -> aidflow::jobs::webhooks::SendSummary {
    aidflow::jobs::webhooks::send_due(&app.state, at(now))
        .await
        .expect("send")
}

async fn evaluate(app: &TestApp, now: &str) -> aidflow::store::alerts::Changes {
    let t = app.state.settings.thresholds().unwrap();
    let tz = app.state.tz;
    let now = at(now);
    app.state
        .db(move |c| aidflow::jobs::alerts::evaluate(c, now, tz, &t))
        .await
        .expect("evaluate")
}

api_test!(
    demo_inside_the_kornidzor_hold_opens_held_and_coverage_alerts_delivered_once_and_resolved,
    alert_lifecycle_acknowledge_resolve_and_reopen,
    webhook_retries_after_500s_with_backoff_and_a_hanging_receiver_delays_no_one,
    a_claimed_delivery_is_sent_once_after_the_sender_restarts,
    alert_and_webhook_input_is_validated,
    another_organizations_editor_with_a_bad_note_is_refused_for_the_token_first,
);

/// A bad note body on an alert about another organization's convoy: 403 before the 422.
async fn another_organizations_editor_with_a_bad_note_is_refused_for_the_token_first(app: TestApp) {
    load_demo(&app).await;
    let july = aidflow::app::demo::july_convoy_id().to_string();
    aidflow::jobs::run_once(&app.state, at("2023-08-10T12:00:00+04:00")).await;
    let open = alerts(&app, "?state=open").await;
    let held = open
        .iter()
        .find(|a| a["rule"] == "convoy_held" && a["subject"] == july)
        .expect("the demo's held convoy alert");
    let path = format!(
        "/api/v1/alerts/{}/acknowledge",
        held["id"].as_str().unwrap()
    );
    let icrc = app.token("editor", Some("icrc")).await;
    let arm = app.token("editor", Some("arm-gov")).await;
    let send = |token: &str| {
        app.client
            .post(app.url(&path))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(r#"{"note": 5}"#)
    };
    let reply = app.send(send(&icrc)).await;
    reply.problem(403);
    let reply = app.send(send(&arm)).await;
    reply.problem(422);
    let still = alerts(&app, "?state=open").await;
    assert!(
        still.iter().any(|a| a["id"] == held["id"]),
        "the alert stays open: {still:?}"
    );
}

async fn demo_inside_the_kornidzor_hold_opens_held_and_coverage_alerts_delivered_once_and_resolved(
    app: TestApp,
) {
    let receiver = Receiver::start(Behaviour::Ok);
    let hook = webhook(&app, &receiver.url, &["alert.opened", "alert.resolved"]).await;
    load_demo(&app).await;
    let july = aidflow::app::demo::july_convoy_id().to_string();
    aidflow::jobs::run_once(&app.state, at("2023-08-10T12:00:00+04:00")).await;
    let open = alerts(&app, "?state=open").await;
    let held: Vec<&Value> = open
        .iter()
        .filter(|a| a["rule"] == "convoy_held" && a["subject"] == july)
        .collect();
    assert_eq!(held.len(), 1, "{open:?}");
    assert_eq!(
        held[0]["message"],
        "AM-2023-07-26 held at KORNIDZOR for 15 d 1 h; 360.000 t on board (allowed 12 h)"
    );
    assert_eq!(held[0]["severity"], "critical");
    assert_eq!(held[0]["organization"], "arm-gov");
    assert_eq!(held[0]["subject_label"], "AM-2023-07-26");
    let coverage: Vec<&Value> = open
        .iter()
        .filter(|a| a["rule"] == "coverage_low")
        .collect();
    assert_eq!(coverage.len(), 1);
    assert_eq!(coverage[0]["subject"], "lachin");
    assert!(coverage[0]["message"]
        .as_str()
        .unwrap()
        .contains("0.000 t delivered in the last 7 days against 2800.000 t required"));

    // A second pass a minute later changes nothing and sends nothing twice.
    aidflow::jobs::run_once(&app.state, at("2023-08-10T12:01:00+04:00")).await;
    assert_eq!(alerts(&app, "?state=open").await.len(), open.len());
    let opened = receiver.of("alert.opened");
    assert_eq!(opened.len(), open.len(), "each alert exactly once");
    let held_hit: Vec<_> = opened
        .iter()
        .filter(|h| h.json()["alert"]["id"] == held[0]["id"])
        .collect();
    assert_eq!(held_hit.len(), 1);
    assert!(
        held_hit[0].signed_with(SECRET),
        "valid signature: {}",
        held_hit[0].signature
    );
    assert!(!held_hit[0].signed_with("another secret"));
    let body = held_hit[0].json();
    assert_eq!(body["type"], "alert.opened");
    assert!(
        body["text"].as_str().unwrap().contains("held at KORNIDZOR"),
        "Slack-compatible text: {body}"
    );
    assert_eq!(
        receiver
            .of("alert.opened")
            .iter()
            .filter(|h| h.json()["alert"]["rule"] == "coverage_low")
            .count(),
        1
    );

    // The convoy's next event ends the hold; the next pass resolves the alert.
    let next = app
        .post(
            &format!("/api/v1/convoys/{july}/events"),
            &json!({"kind": "turned_back", "checkpoint": "KORNIDZOR",
        "observed_at": "2023-08-10T12:30:00+04:00", "note": "sent back to Goris"}),
        )
        .await;
    assert_eq!(next.status, 201, "{}", next.text);
    aidflow::jobs::run_once(&app.state, at("2023-08-10T12:35:00+04:00")).await;
    let resolved = app
        .get(&format!(
            "/api/v1/alerts/{}",
            held[0]["id"].as_str().unwrap()
        ))
        .await
        .json();
    assert_eq!(resolved["state"], "resolved");
    assert_eq!(resolved["resolved_by"], Value::Null, "resolved by itself");
    let resolved_hits = receiver.of("alert.resolved");
    assert_eq!(
        resolved_hits
            .iter()
            .filter(|h| h.json()["alert"]["id"] == held[0]["id"])
            .count(),
        1
    );
    assert!(resolved_hits.iter().all(|h| h.signed_with(SECRET)));
    let deliveries = app
        .get(&format!("/api/v1/webhooks/{hook}/deliveries"))
        .await
        .json();
    assert!(
        deliveries
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["state"] == "delivered"),
        "{deliveries}"
    );
    let metrics = app.send(app.client.get(app.url("/metrics"))).await.text;
    assert!(
        metrics.contains("aidflow_alerts_open{rule=\"coverage_low\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("aidflow_outbox_backlog 0"), "{metrics}");
    let week = app.get("/api/v1/reports/weekly/2023-W32").await.json();
    assert!(
        week["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["rule"] == "convoy_held"),
        "alerts opened in the week: {}",
        week["alerts"]
    );
}

async fn alert_lifecycle_acknowledge_resolve_and_reopen(app: TestApp) {
    let convoy = app.post("/api/v1/convoys", &json!({"organization": "icrc", "reference": "ICRC-LATE", "route": "lachin",
        "planned_departure": "2023-09-18T08:00:00+04:00", "manifest": [{"commodity": "flour", "tonnes": "23"}]})).await.json();
    let id = convoy["id"].as_str().unwrap().to_string();
    assert!(
        evaluate(&app, "2023-09-18T09:59:00+04:00")
            .await
            .opened
            .is_empty(),
        "within the 2 h grace"
    );
    let changes = evaluate(&app, "2023-09-18T10:01:00+04:00").await;
    assert_eq!(changes.opened.len(), 1);
    let alert = alerts(&app, "?rule=departure_missed&state=open").await;
    assert_eq!(alert.len(), 1);
    assert_eq!(alert[0]["subject"], id);
    let alert_id = alert[0]["id"].as_str().unwrap().to_string();
    assert!(
        alert[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("ICRC-LATE has not departed"),
        "{}",
        alert[0]["message"]
    );

    let other = app.token("editor", Some("arm-gov")).await;
    let viewer = app.token("viewer", None).await;
    let own = app.token("editor", Some("icrc")).await;
    app.post_as(
        &other,
        &format!("/api/v1/alerts/{alert_id}/acknowledge"),
        &json!({}),
    )
    .await
    .problem(403);
    app.post_as(
        &viewer,
        &format!("/api/v1/alerts/{alert_id}/acknowledge"),
        &json!({}),
    )
    .await
    .problem(403);
    let ack = app
        .post_as(
            &own,
            &format!("/api/v1/alerts/{alert_id}/acknowledge"),
            &json!({"note": "driver delayed at Goris"}),
        )
        .await;
    assert_eq!(ack.status, 200, "{}", ack.text);
    assert_eq!(ack.json()["state"], "acknowledged");
    assert_eq!(ack.json()["acknowledge_note"], "driver delayed at Goris");
    assert_eq!(
        evaluate(&app, "2023-09-18T10:30:00+04:00")
            .await
            .opened
            .len(),
        0,
        "still the same alert"
    );

    let resolved = app
        .post(
            &format!("/api/v1/alerts/{alert_id}/resolve"),
            &json!({"note": "checked by phone"}),
        )
        .await
        .json();
    assert_eq!(resolved["state"], "resolved");
    assert_eq!(resolved["resolved_by"], "first-admin");
    app.post(&format!("/api/v1/alerts/{alert_id}/resolve"), &json!({}))
        .await
        .problem(409);
    // The condition still holds: a new occurrence is a new alert.
    let again = evaluate(&app, "2023-09-18T11:00:00+04:00").await;
    assert_eq!(again.opened.len(), 1);
    assert_ne!(again.opened[0], alert_id);
    // Departure clears it: resolved automatically.
    let dep = app
        .post(
            &format!("/api/v1/convoys/{id}/events"),
            &json!({"kind": "departed", "observed_at": "2023-09-18T11:10:00+04:00"}),
        )
        .await;
    assert_eq!(dep.status, 201, "{}", dep.text);
    let cleared = evaluate(&app, "2023-09-18T11:15:00+04:00").await;
    assert_eq!(cleared.resolved, again.opened);
    assert_eq!(alerts(&app, "?state=open").await.len(), 0);
    assert_eq!(
        alerts(&app, "?state=resolved&rule=departure_missed")
            .await
            .len(),
        2
    );
    assert_eq!(alerts(&app, "?organization=icrc").await.len(), 2);
    assert_eq!(aidflow_outbox(&app, "alert.opened").await, 2);
    assert_eq!(aidflow_outbox(&app, "alert.resolved").await, 2);
}

async fn aidflow_outbox(app: &TestApp, kind: &'static str) -> usize {
    app.state
        .db(move |c| Ok(aidflow::store::webhooks::outbox_of_type(c, kind)?))
        .await
        .unwrap()
        .len()
}

async fn missed_departure(app: &TestApp) {
    app.post("/api/v1/convoys", &json!({"organization": "icrc", "reference": "ICRC-R", "route": "lachin",
        "planned_departure": "2023-09-18T08:00:00+04:00", "manifest": [{"commodity": "flour", "tonnes": "1"}]})).await;
    assert_eq!(
        evaluate(app, "2023-09-18T12:00:00+04:00")
            .await
            .opened
            .len(),
        1
    );
}

async fn webhook_retries_after_500s_with_backoff_and_a_hanging_receiver_delays_no_one(
    app: TestApp,
) {
    let app = spawn_app_with(
        app.backend,
        &[
            ("webhooks.timeout_seconds", "3"),
            ("webhooks.max_attempts", "3"),
            ("webhooks.backoff_base_seconds", "10"),
        ],
    )
    .await
    .expect("app");
    let flaky = Receiver::start(Behaviour::FailFirst(2));
    let hanging = Receiver::start(Behaviour::Hang(Duration::from_secs(6)));
    let good = Receiver::start(Behaviour::Ok);
    let flaky_id = webhook(&app, &flaky.url, &["alert.opened"]).await;
    let hanging_id = webhook(&app, &hanging.url, &["alert.opened"]).await;
    webhook(&app, &good.url, &["alert.opened"]).await;
    missed_departure(&app).await;

    let started = Instant::now();
    let first = send(&app, "2023-09-18T12:00:00Z").await;
    assert_eq!((first.delivered, first.retrying), (1, 2), "{first:?}");
    let good_at = good.hits()[0].at.duration_since(started);
    assert!(
        good_at < Duration::from_secs(2),
        "the good receiver was not held up by the hanging one: {good_at:?}"
    );
    assert_eq!(flaky.hits().len(), 1);
    // Not due yet: the backoff is 10 s.
    let early = send(&app, "2023-09-18T12:00:05Z").await;
    assert_eq!((early.delivered, early.retrying, early.failed), (0, 0, 0));
    let second = send(&app, "2023-09-18T12:00:11Z").await;
    assert_eq!(
        (second.delivered, second.retrying, second.failed),
        (0, 2, 0)
    );
    // Third attempt: flaky answers 200 now; the hanging receiver has used its 3 attempts.
    let third = send(&app, "2023-09-18T12:00:40Z").await;
    assert_eq!((third.delivered, third.failed), (1, 1), "{third:?}");
    let log = app
        .get(&format!("/api/v1/webhooks/{flaky_id}/deliveries"))
        .await
        .json();
    let d = &log[0];
    assert_eq!(d["state"], "delivered");
    let statuses: Vec<i64> = d["log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status_code"].as_i64().unwrap())
        .collect();
    assert_eq!(statuses, [500, 500, 200]);
    assert_eq!(flaky.hits().len(), 3);
    assert!(flaky.hits().iter().all(|h| h.signed_with(SECRET)));
    assert_eq!(
        flaky
            .hits()
            .iter()
            .map(|h| h.delivery.clone())
            .collect::<std::collections::HashSet<_>>()
            .len(),
        1,
        "retries carry the same delivery id"
    );
    let hung = app
        .get(&format!("/api/v1/webhooks/{hanging_id}/deliveries"))
        .await
        .json();
    assert_eq!(hung[0]["state"], "failed");
    assert_eq!(hung[0]["attempts"], 3);
    assert_eq!(hung[0]["log"][0]["error"], "no answer within 3 s");
    let delivery = hung[0]["id"].as_str().unwrap();
    let again = app
        .post(
            &format!("/api/v1/webhooks/{hanging_id}/deliveries/{delivery}/redeliver"),
            &json!({}),
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.json()["state"], "pending");
    let metrics = app.send(app.client.get(app.url("/metrics"))).await.text;
    assert!(
        metrics.contains("aidflow_webhook_deliveries{state=\"delivered\"} 2"),
        "{metrics}"
    );
    assert!(metrics.contains("aidflow_outbox_backlog 1"), "{metrics}");
}

async fn a_claimed_delivery_is_sent_once_after_the_sender_restarts(app: TestApp) {
    let receiver = Receiver::start(Behaviour::Ok);
    webhook(&app, &receiver.url, &["alert.opened"]).await;
    missed_departure(&app).await;
    // A sender claims the delivery and dies before sending (the lease is 40 s).
    let now = at("2023-09-18T12:00:00Z").timestamp_micros();
    let claimed = app
        .state
        .db(move |c| Ok(aidflow::store::webhooks::claim_due(c, now, 40_000_000, 10)?))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    // A restarted sender leaves it alone while the lease holds, then sends it once.
    assert_eq!(send(&app, "2023-09-18T12:00:10Z").await.delivered, 0);
    assert_eq!(send(&app, "2023-09-18T12:00:41Z").await.delivered, 1);
    assert_eq!(send(&app, "2023-09-18T12:05:00Z").await.delivered, 0);
    assert_eq!(receiver.hits().len(), 1, "no duplicate");
}

async fn alert_and_webhook_input_is_validated(app: TestApp) {
    let bad = app
        .post(
            "/api/v1/webhooks",
            &json!({"url": "ftp://x", "secret": "short", "events": ["alert.closed"]}),
        )
        .await;
    bad.problem(422);
    assert_eq!(bad.error_fields(), ["url", "secret", "events[0]"]);
    let editor = app.token("editor", Some("icrc")).await;
    app.post_as(
        &editor,
        "/api/v1/webhooks",
        &json!({"url": "http://127.0.0.1:9/x", "secret": SECRET, "events": ["alert.opened"]}),
    )
    .await
    .problem(403);
    app.get("/api/v1/alerts?state=sleeping").await.problem(422);
    app.get("/api/v1/alerts?rule=convoy_sunk")
        .await
        .problem(422);
    app.get("/api/v1/alerts/00000000-0000-4000-8000-000000000000")
        .await
        .problem(404);
    let id = webhook(&app, "http://127.0.0.1:9/x", &["report.published"]).await;
    assert_eq!(
        app.get("/api/v1/webhooks")
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(
        !app.get("/api/v1/webhooks").await.text.contains(SECRET),
        "secrets are never shown"
    );
    assert_eq!(
        app.delete(&format!("/api/v1/webhooks/{id}")).await.status,
        204
    );
    assert_eq!(
        app.get("/api/v1/webhooks")
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

/// Two `aidflow serve` processes with their jobs running every second on one PostgreSQL
/// database: each alert opens once, and the receiver gets each notification once.
#[actix_web::test]
async fn two_instances_on_one_postgres_database_open_and_deliver_each_alert_once() {
    if !postgres_available() {
        return;
    }
    let db = TestDb::create(Backend::Postgres);
    let receiver = Receiver::start(Behaviour::Ok);
    let start = |port: u16| {
        std::process::Command::new(env!("CARGO_BIN_EXE_aidflow"))
            .arg("serve")
            .env(
                "AIDFLOW_CONFIG_DIR",
                concat!(env!("CARGO_MANIFEST_DIR"), "/config"),
            )
            .env("AIDFLOW__DATABASE__URL", db.url())
            .env("AIDFLOW__SERVER__PORT", port.to_string())
            .env("AIDFLOW__JOBS__ENABLED", "true")
            .env("AIDFLOW__JOBS__INTERVAL_SECONDS", "1")
            .env("AIDFLOW__LOG__LEVEL", "warn")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start aidflow serve")
    };
    let free = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    let (pa, pb) = (free(), free());
    let mut a = start(pa);
    let mut token = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(a.stdout.take().unwrap()),
        &mut token,
    )
    .unwrap();
    let token = token.trim().to_string();
    let mut b = start(pb);
    let client = reqwest::Client::new();
    for port in [pa, pb] {
        let deadline = Instant::now() + Duration::from_secs(20);
        while client
            .get(format!("http://127.0.0.1:{port}/health/ready"))
            .send()
            .await
            .is_err()
        {
            assert!(
                Instant::now() < deadline,
                "instance on {port} never became ready"
            );
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let post = |path: &str, body: Value| {
        client
            .post(format!("http://127.0.0.1:{pa}{path}"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    assert_eq!(
        post(
            "/api/v1/webhooks",
            json!({"url": receiver.url, "secret": SECRET, "events": ["alert.opened"]})
        )
        .await
        .unwrap()
        .status(),
        201
    );
    let departure = (Utc::now() - chrono::Duration::hours(3)).to_rfc3339();
    let convoy = post(
        "/api/v1/convoys",
        json!({"organization": "icrc", "reference": "TWO", "route": "lachin",
        "planned_departure": departure, "manifest": [{"commodity": "flour", "tonnes": "5"}]}),
    )
    .await
    .unwrap();
    assert_eq!(convoy.status(), 201);
    let deadline = Instant::now() + Duration::from_secs(30);
    while receiver.of("alert.opened").is_empty() && Instant::now() < deadline {
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    }
    // Both instances keep evaluating and sending for a few more passes.
    actix_web::rt::time::sleep(Duration::from_secs(4)).await;
    let list: Value = client
        .get(format!(
            "http://127.0.0.1:{pb}/api/v1/alerts?rule=departure_missed"
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let _ = a.kill();
    let _ = b.kill();
    let _ = a.wait();
    let _ = b.wait();
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        1,
        "one alert: {list}"
    );
    let hits = receiver.of("alert.opened");
    assert_eq!(
        hits.len(),
        1,
        "one notification: {:?}",
        hits.iter().map(|h| h.body.clone()).collect::<Vec<_>>()
    );
    assert!(hits[0].signed_with(SECRET));
}
