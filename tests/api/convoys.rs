use serde_json::{json, Value};

use crate::api_test;
use crate::helpers::TestApp;

/// The 26 July 2023 convoy: 19 trucks, 360 t (300 t flour, 60 t food).
pub fn convoy_body(id: &str) -> Value {
    json!({
        "id": id, "organization": "arm-gov", "reference": "AM-2023-07-26", "route": "lachin",
        "planned_departure": "2023-07-26T08:00:00+04:00", "expected_arrival": "2023-07-26T20:00:00+04:00",
        "trucks": 19,
        "manifest": [{"commodity": "flour", "tonnes": "300"}, {"commodity": "food", "quantity": "60000", "unit": "kg"}]
    })
}

pub const CONVOY: &str = "5a0c0b1e-2023-4726-8000-000000000726";

pub async fn create_convoy(app: &TestApp) -> Value {
    let reply = app.post("/api/v1/convoys", &convoy_body(CONVOY)).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    reply.json()
}

pub async fn event(app: &TestApp, body: Value) -> crate::helpers::Reply {
    app.post(&format!("/api/v1/convoys/{CONVOY}/events"), &body)
        .await
}

pub async fn ok_event(app: &TestApp, body: Value) -> Value {
    let reply = event(app, body).await;
    assert!(reply.status == 201, "{}", reply.text);
    reply.json()
}

pub async fn convoy(app: &TestApp) -> Value {
    let reply = app.get(&format!("/api/v1/convoys/{CONVOY}")).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json()
}

fn step<'a>(c: &'a Value, commodity: &str, checkpoint: &str) -> &'a Value {
    c["commodities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["commodity"] == commodity)
        .unwrap()["waterfall"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["checkpoint"] == checkpoint)
        .unwrap()
}

api_test!(
    convoy_is_created_with_exact_manifest_and_planned_status,
    convoy_create_replays_and_conflicts,
    convoy_validation_names_every_bad_field,
    litres_convert_through_the_commodity_density,
    expected_arrival_defaults_from_route_leg_hours,
    held_at_kornidzor_keeps_360_t_outstanding,
    denial_at_hakari_needs_a_reason_and_is_attributed_there,
    clearing_more_than_entered_is_422_naming_the_amounts,
    carry_forward_then_partial_deliveries_and_rejection,
    turned_back_denies_everything_and_nothing_may_follow,
    out_of_order_events_are_evaluated_in_observed_order,
    late_earlier_event_that_breaks_a_later_one_is_refused,
    correction_voids_the_earlier_event_and_changes_figures_exactly,
    event_replayed_with_same_id_is_not_counted_twice,
    twenty_clients_sending_the_same_event_store_it_once,
    editor_writes_only_its_own_organizations_convoys,
    events_list_marks_voided_events,
    convoys_are_listed_with_filters_and_cursor,
    cancelled_convoy_is_reported_apart,
    closed_convoy_writes_off_what_is_in_transit,
    referenced_route_and_commodity_cannot_be_deleted,
);

async fn convoy_is_created_with_exact_manifest_and_planned_status(app: TestApp) {
    let c = create_convoy(&app).await;
    assert_eq!(c["id"], CONVOY);
    assert_eq!(c["status"], "planned");
    assert_eq!(c["organization"], "arm-gov");
    assert_eq!(c["route"], "lachin");
    assert_eq!(c["trucks"], 19);
    assert_eq!(c["planned_departure"], "2023-07-26T08:00:00+04:00");
    assert_eq!(
        c["manifest"],
        json!([
            {"commodity": "flour", "tonnes": "300.000", "quantity": "300", "unit": "t"},
            {"commodity": "food", "tonnes": "60.000", "quantity": "60000", "unit": "kg"}
        ])
    );
    assert_eq!(c["totals"]["planned"], "360.000");
    assert_eq!(c["totals"]["outstanding"], "360.000");
    assert_eq!(c["totals"]["delivered"], "0.000");
    assert_eq!(c["totals"]["shortfall"], "360.000");
}

async fn convoy_create_replays_and_conflicts(app: TestApp) {
    let first = create_convoy(&app).await;
    let again = app.post("/api/v1/convoys", &convoy_body(CONVOY)).await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.json(), first);
    let mut changed = convoy_body(CONVOY);
    changed["trucks"] = json!(20);
    app.post("/api/v1/convoys", &changed).await.problem(409);
    let other_id = convoy_body("5a0c0b1e-2023-4726-8000-000000000999");
    let dup_ref = app.post("/api/v1/convoys", &other_id).await;
    let body = dup_ref.problem(409);
    assert!(body["detail"].as_str().unwrap().contains("AM-2023-07-26"));
}

async fn convoy_validation_names_every_bad_field(app: TestApp) {
    let reply = app
        .post(
            "/api/v1/convoys",
            &json!({
            "organization": "nobody", "reference": "", "route": "moon",
            "planned_departure": "2023-07-26 08:00", "trucks": 0,
            "manifest": [
                {"commodity": "flour", "tonnes": "-5"},
                {"commodity": "caviar", "tonnes": "1"},
                {"commodity": "food", "tonnes": "10001"},
                {"commodity": "medical", "tonnes": "1.0005"},
                {"commodity": "sunflower_oil", "quantity": "10"},
                {"commodity": "hygiene", "tonnes": "1", "quantity": "1000", "unit": "kg"}
            ]}),
        )
        .await;
    reply.problem(422);
    assert_eq!(
        reply.error_fields(),
        [
            "organization",
            "reference",
            "route",
            "planned_departure",
            "trucks",
            "manifest[0].tonnes",
            "manifest[1].commodity",
            "manifest[2].tonnes",
            "manifest[3].tonnes",
            "manifest[4].unit",
            "manifest[5]"
        ]
    );
    let list = app.get("/api/v1/convoys").await.json();
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        0,
        "nothing written"
    );
}

async fn litres_convert_through_the_commodity_density(app: TestApp) {
    let reply = app
        .post("/api/v1/convoys", &json!({
            "organization": "icrc", "reference": "ICRC-2023-09-23", "route": "lachin",
            "planned_departure": "2023-09-23T07:00:00+04:00",
            "manifest": [{"commodity": "flour", "tonnes": "66"}, {"commodity": "salt", "quantity": "2700", "unit": "kg"},
                         {"commodity": "yeast", "quantity": "450", "unit": "kg"}, {"commodity": "sunflower_oil", "quantity": "375", "unit": "L"}]}))
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let c = reply.json();
    assert_eq!(
        c["manifest"][3],
        json!({"commodity": "sunflower_oil", "tonnes": "0.345", "quantity": "375", "unit": "L"})
    );
    assert_eq!(c["totals"]["planned"], "69.495");
    let inexact = app
        .post("/api/v1/convoys", &json!({
            "organization": "icrc", "reference": "X", "route": "lachin", "planned_departure": "2023-09-23T07:00:00+04:00",
            "manifest": [{"commodity": "sunflower_oil", "quantity": "2001", "unit": "L"}, {"commodity": "flour", "quantity": "10", "unit": "L"}]}))
        .await;
    inexact.problem(422);
    assert_eq!(
        inexact.error_fields(),
        ["manifest[0].quantity", "manifest[1].unit"]
    );
}

async fn expected_arrival_defaults_from_route_leg_hours(app: TestApp) {
    let mut body = convoy_body(CONVOY);
    body.as_object_mut().unwrap().remove("expected_arrival");
    let reply = app.post("/api/v1/convoys", &body).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(
        reply.json()["expected_arrival"],
        "2023-07-26T11:30:00+04:00",
        "3.5 h of legs on the Lachin route"
    );
}

async fn held_at_kornidzor_keeps_360_t_outstanding(app: TestApp) {
    create_convoy(&app).await;
    ok_event(&app, json!({"kind": "departed", "checkpoint": "GORIS", "observed_at": "2023-07-26T08:10:00+04:00"})).await;
    ok_event(&app, json!({"kind": "arrived", "checkpoint": "KORNIDZOR", "observed_at": "2023-07-26T09:00:00+04:00"})).await;
    let held = ok_event(&app, json!({"kind": "held", "checkpoint": "KORNIDZOR", "observed_at": "2023-07-26T10:00:00+04:00", "note": "Hakari checkpoint refuses passage"})).await;
    assert_eq!(held["kind"], "held");
    assert_eq!(held["recorded_by"], "first-admin");
    let c = convoy(&app).await;
    assert_eq!(c["status"], "held");
    assert_eq!(c["last_checkpoint"], "KORNIDZOR");
    assert_eq!(c["last_seen_at"], "2023-07-26T06:00:00Z");
    assert_eq!(c["totals"]["loaded"], "360.000");
    assert_eq!(c["totals"]["outstanding"], "360.000");
    assert_eq!(c["totals"]["shortfall"], "360.000");
    assert_eq!(c["totals"]["denied"], "0.000");
    let k = step(&c, "flour", "KORNIDZOR");
    assert_eq!(k["entered"], "300.000");
    assert_eq!(k["left"], Value::Null);
    assert_eq!(step(&c, "flour", "HAKARI")["entered"], Value::Null);
}

async fn denial_at_hakari_needs_a_reason_and_is_attributed_there(app: TestApp) {
    create_convoy(&app).await;
    ok_event(
        &app,
        json!({"kind": "departed", "observed_at": "2023-07-26T08:10:00+04:00"}),
    )
    .await;
    let no_reason = event(&app, json!({"kind": "cleared", "checkpoint": "HAKARI", "observed_at": "2023-07-27T10:15:00+04:00",
        "cargo": [{"commodity": "flour", "tonnes": "280"}]})).await;
    let body = no_reason.problem(422);
    assert!(
        body["detail"].as_str().unwrap().contains("reason"),
        "{}",
        body["detail"]
    );
    ok_event(&app, json!({"kind": "cleared", "checkpoint": "HAKARI", "observed_at": "2023-07-27T10:15:00+04:00",
        "cargo": [{"commodity": "flour", "tonnes": "280", "reason": "denied_at_checkpoint"}], "note": "two trucks refused"})).await;
    let c = convoy(&app).await;
    assert_eq!(c["status"], "in_transit");
    assert_eq!(c["totals"]["denied"], "20.000");
    assert_eq!(
        c["totals"]["denied_by_checkpoint"],
        json!([{"checkpoint": "HAKARI", "tonnes": "20.000"}])
    );
    assert_eq!(c["totals"]["outstanding"], "340.000");
    let h = step(&c, "flour", "HAKARI");
    assert_eq!(
        (
            h["entered"].as_str(),
            h["left"].as_str(),
            h["denied"].as_str()
        ),
        (Some("300.000"), Some("280.000"), Some("20.000"))
    );
    ok_event(
        &app,
        json!({"kind": "delivered", "observed_at": "2023-07-27T13:00:00+04:00"}),
    )
    .await;
    let c = convoy(&app).await;
    assert_eq!(c["status"], "short_delivered");
    assert_eq!(c["totals"]["delivered"], "340.000");
    assert_eq!(c["totals"]["shortfall"], "20.000");
    assert_eq!(c["totals"]["outstanding"], "0.000");
}

async fn clearing_more_than_entered_is_422_naming_the_amounts(app: TestApp) {
    create_convoy(&app).await;
    ok_event(&app, json!({"kind": "cleared", "checkpoint": "KORNIDZOR", "observed_at": "2023-07-26T09:00:00+04:00",
        "cargo": [{"commodity": "flour", "tonnes": "18", "reason": "confiscated"}]})).await;
    let reply = event(&app, json!({"kind": "cleared", "checkpoint": "HAKARI", "observed_at": "2023-07-26T10:00:00+04:00",
        "cargo": [{"commodity": "flour", "tonnes": "20"}]})).await;
    let body = reply.problem(422);
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("cleared 20.000 t of flour at HAKARI but only 18.000 t entered"),
        "{}",
        body["detail"]
    );
    let c = convoy(&app).await;
    assert_eq!(c["events"].as_array().unwrap().len(), 1, "nothing written");
    assert_eq!(c["totals"]["lost"], "282.000");
    assert_eq!(
        c["totals"]["lost_by"],
        json!([{"checkpoint": "KORNIDZOR", "reason": "confiscated", "tonnes": "282.000"}])
    );
}

async fn carry_forward_then_partial_deliveries_and_rejection(app: TestApp) {
    create_convoy(&app).await;
    ok_event(
        &app,
        json!({"kind": "departed", "observed_at": "2023-07-26T08:10:00+04:00",
        "cargo": [{"commodity": "flour", "tonnes": "290", "reason": "short_loaded"}]}),
    )
    .await;
    ok_event(&app, json!({"kind": "cleared", "checkpoint": "HAKARI", "observed_at": "2023-07-26T11:00:00+04:00"})).await;
    ok_event(
        &app,
        json!({"kind": "delivered", "observed_at": "2023-07-26T14:00:00+04:00",
        "cargo": [{"commodity": "flour", "tonnes": "100"}, {"commodity": "food", "tonnes": "0"}]}),
    )
    .await;
    let c = convoy(&app).await;
    assert_eq!(c["status"], "in_transit");
    assert_eq!(c["totals"]["delivered"], "100.000");
    assert_eq!(c["totals"]["outstanding"], "250.000");
    assert_eq!(c["totals"]["short_loaded"], "10.000");
    ok_event(
        &app,
        json!({"kind": "delivered", "observed_at": "2023-07-27T09:00:00+04:00",
        "cargo": [{"commodity": "flour", "tonnes": "150", "reason": "rejected_on_receipt"}]}),
    )
    .await;
    let c = convoy(&app).await;
    assert_eq!(c["status"], "short_delivered");
    assert_eq!(c["totals"]["delivered"], "310.000");
    assert_eq!(c["totals"]["rejected_on_receipt"], "40.000");
    assert_eq!(c["totals"]["short_loaded"], "10.000");
    assert_eq!(c["totals"]["outstanding"], "0.000");
    assert_eq!(c["totals"]["shortfall"], "50.000");
}

async fn turned_back_denies_everything_and_nothing_may_follow(app: TestApp) {
    create_convoy(&app).await;
    ok_event(&app, json!({"kind": "turned_back", "checkpoint": "HAKARI", "observed_at": "2023-07-27T12:00:00+04:00"})).await;
    let c = convoy(&app).await;
    assert_eq!(c["status"], "turned_back");
    assert_eq!(c["totals"]["denied"], "360.000");
    assert_eq!(
        c["totals"]["denied_by_checkpoint"],
        json!([{"checkpoint": "HAKARI", "tonnes": "360.000"}])
    );
    let after = event(&app, json!({"kind": "arrived", "checkpoint": "SHUSHA", "observed_at": "2023-07-27T15:00:00+04:00"})).await;
    let body = after.problem(422);
    assert!(
        body["detail"].as_str().unwrap().contains("turned back"),
        "{}",
        body["detail"]
    );
}

async fn out_of_order_events_are_evaluated_in_observed_order(app: TestApp) {
    create_convoy(&app).await;
    ok_event(&app, json!({"kind": "cleared", "checkpoint": "HAKARI", "observed_at": "2023-07-27T10:15:00+04:00"})).await;
    ok_event(&app, json!({"kind": "arrived", "checkpoint": "HAKARI", "observed_at": "2023-07-27T08:00:00+04:00"})).await;
    ok_event(
        &app,
        json!({"kind": "departed", "observed_at": "2023-07-26T08:00:00+04:00"}),
    )
    .await;
    let c = convoy(&app).await;
    assert_eq!(c["status"], "in_transit");
    assert_eq!(c["last_checkpoint"], "HAKARI");
    assert_eq!(c["last_seen_at"], "2023-07-27T06:15:00Z");
    let seqs: Vec<i64> = c["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, [1, 2, 3], "events are listed in recording order");
}

async fn late_earlier_event_that_breaks_a_later_one_is_refused(app: TestApp) {
    create_convoy(&app).await;
    let later = ok_event(&app, json!({"kind": "cleared", "checkpoint": "SHUSHA", "observed_at": "2023-07-27T12:00:00+04:00",
        "cargo": [{"commodity": "flour", "tonnes": "300"}]})).await;
    let reply = event(&app, json!({"kind": "cleared", "checkpoint": "HAKARI", "observed_at": "2023-07-27T10:00:00+04:00",
        "cargo": [{"commodity": "flour", "tonnes": "250", "reason": "denied_at_checkpoint"}]})).await;
    let body = reply.problem(422);
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains(later["id"].as_str().unwrap()),
        "names the later event: {detail}"
    );
    assert!(
        detail.contains("cleared 300.000 t of flour at SHUSHA but only 250.000 t entered"),
        "{detail}"
    );
}

async fn correction_voids_the_earlier_event_and_changes_figures_exactly(app: TestApp) {
    create_convoy(&app).await;
    let wrong = ok_event(&app, json!({"kind": "cleared", "checkpoint": "HAKARI", "observed_at": "2023-07-27T10:15:00+04:00",
        "cargo": [{"commodity": "flour", "tonnes": "28", "reason": "denied_at_checkpoint"}], "note": "typo: 28 for 280"})).await;
    assert_eq!(convoy(&app).await["totals"]["denied"], "272.000");
    let fix = ok_event(&app, json!({"kind": "cleared", "checkpoint": "HAKARI", "observed_at": "2023-07-27T10:15:00+04:00",
        "cargo": [{"commodity": "flour", "tonnes": "280", "reason": "denied_at_checkpoint"}], "corrects": wrong["id"], "note": "corrected: 280 t left"})).await;
    let c = convoy(&app).await;
    assert_eq!(c["totals"]["denied"], "20.000");
    assert_eq!(c["totals"]["outstanding"], "340.000");
    let events = c["events"].as_array().unwrap();
    assert_eq!(events.len(), 2, "the voided event stays visible");
    assert_eq!(events[0]["voided"], true);
    assert_eq!(events[0]["voided_by"]["event"], fix["id"]);
    assert_eq!(events[0]["voided_by"]["note"], "corrected: 280 t left");
    assert_eq!(events[1]["corrects"], wrong["id"]);
    let twice = event(&app, json!({"kind": "cleared", "checkpoint": "HAKARI", "observed_at": "2023-07-27T10:15:00+04:00", "corrects": wrong["id"]})).await;
    twice.problem(409);
    let unknown = event(&app, json!({"kind": "held", "observed_at": "2023-07-27T10:15:00+04:00", "corrects": "00000000-0000-4000-8000-00000000dead"})).await;
    unknown.problem(422);
    assert_eq!(unknown.error_fields(), ["corrects"]);
}

async fn event_replayed_with_same_id_is_not_counted_twice(app: TestApp) {
    create_convoy(&app).await;
    let body = json!({"id": "e0000000-0000-4000-8000-000000000001", "kind": "delivered", "observed_at": "2023-07-26T18:00:00+04:00",
        "cargo": [{"commodity": "flour", "tonnes": "100"}]});
    let first = event(&app, body.clone()).await;
    assert_eq!(first.status, 201, "{}", first.text);
    let again = event(&app, body.clone()).await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.json(), first.json());
    let c = convoy(&app).await;
    assert_eq!(
        c["totals"]["delivered"], "160.000",
        "100 t flour + all 60 t food, once"
    );
    let mut changed = body.clone();
    changed["cargo"][0]["tonnes"] = json!("90");
    event(&app, changed).await.problem(409);
}

async fn twenty_clients_sending_the_same_event_store_it_once(app: TestApp) {
    create_convoy(&app).await;
    let body = json!({"id": "e0000000-0000-4000-8000-000000000020", "kind": "departed", "observed_at": "2023-07-26T08:10:00+04:00",
        "cargo": [{"commodity": "flour", "tonnes": "299", "reason": "short_loaded"}]});
    let sends = (0..20).map(|_| event(&app, body.clone()));
    let replies = futures_util::future::join_all(sends).await;
    let created = replies.iter().filter(|r| r.status == 201).count();
    let replayed = replies.iter().filter(|r| r.status == 200).count();
    assert_eq!(
        (created, replayed),
        (1, 19),
        "{:?}",
        replies
            .iter()
            .map(|r| (r.status, r.text.clone()))
            .collect::<Vec<_>>()
    );
    let c = convoy(&app).await;
    assert_eq!(c["events"].as_array().unwrap().len(), 1);
    assert_eq!(c["totals"]["short_loaded"], "1.000");
}

async fn editor_writes_only_its_own_organizations_convoys(app: TestApp) {
    let arm = app.token("editor", Some("arm-gov")).await;
    let icrc = app.token("editor", Some("icrc")).await;
    let viewer = app.token("viewer", None).await;
    let mut body = convoy_body(CONVOY);
    body.as_object_mut().unwrap().remove("organization");
    let reply = app.post_as(&arm, "/api/v1/convoys", &body).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(
        reply.json()["organization"],
        "arm-gov",
        "an editor's convoy defaults to its organization"
    );
    let mut other = convoy_body("5a0c0b1e-2023-4726-8000-000000000111");
    other["organization"] = json!("arm-gov");
    app.post_as(&icrc, "/api/v1/convoys", &other)
        .await
        .problem(403);
    let ev = json!({"kind": "departed", "observed_at": "2023-07-26T08:10:00+04:00"});
    app.post_as(&icrc, &format!("/api/v1/convoys/{CONVOY}/events"), &ev)
        .await
        .problem(403);
    app.post_as(&viewer, &format!("/api/v1/convoys/{CONVOY}/events"), &ev)
        .await
        .problem(403);
    let ok = app
        .post_as(&arm, &format!("/api/v1/convoys/{CONVOY}/events"), &ev)
        .await;
    assert_eq!(ok.status, 201, "{}", ok.text);
    assert_eq!(
        app.get_as(&icrc, &format!("/api/v1/convoys/{CONVOY}"))
            .await
            .status,
        200,
        "reads are corridor-wide"
    );
    assert_eq!(convoy(&app).await["events"].as_array().unwrap().len(), 1);
}

async fn events_list_marks_voided_events(app: TestApp) {
    create_convoy(&app).await;
    let a = ok_event(&app, json!({"kind": "held", "checkpoint": "KORNIDZOR", "observed_at": "2023-07-26T10:00:00+04:00"})).await;
    ok_event(&app, json!({"kind": "held", "checkpoint": "HAKARI", "observed_at": "2023-07-26T10:00:00+04:00", "corrects": a["id"]})).await;
    let list = app
        .get(&format!("/api/v1/convoys/{CONVOY}/events"))
        .await
        .json();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(
        (list[0]["voided"].as_bool(), list[1]["voided"].as_bool()),
        (Some(true), Some(false))
    );
    assert_eq!(convoy(&app).await["last_checkpoint"], "HAKARI");
    app.get("/api/v1/convoys/00000000-0000-4000-8000-000000000000/events")
        .await
        .problem(404);
}

async fn convoys_are_listed_with_filters_and_cursor(app: TestApp) {
    create_convoy(&app).await;
    for (i, (org, route, day)) in [
        ("icrc", "lachin", "2023-09-18"),
        ("icrc", "lachin", "2023-09-23"),
        ("rus-red-cross", "aghdam", "2023-09-12"),
    ]
    .iter()
    .enumerate()
    {
        let reply = app.post("/api/v1/convoys", &json!({"organization": org, "reference": format!("R{i}"), "route": route,
            "planned_departure": format!("{day}T07:00:00+04:00"), "manifest": [{"commodity": "flour", "tonnes": "15"}]})).await;
        assert_eq!(reply.status, 201, "{}", reply.text);
    }
    let all = app.get("/api/v1/convoys").await.json();
    let refs: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["reference"].as_str().unwrap())
        .collect();
    assert_eq!(
        refs,
        ["AM-2023-07-26", "R2", "R0", "R1"],
        "ordered by expected arrival"
    );
    let icrc = app.get("/api/v1/convoys?organization=icrc").await.json();
    assert_eq!(icrc["items"].as_array().unwrap().len(), 2);
    let aghdam = app.get("/api/v1/convoys?route=aghdam").await.json();
    assert_eq!(aghdam["items"][0]["reference"], "R2");
    let sept = app
        .get("/api/v1/convoys?due_from=2023-09-13&due_to=2023-09-18")
        .await
        .json();
    let refs: Vec<&str> = sept["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["reference"].as_str().unwrap())
        .collect();
    assert_eq!(refs, ["R0"]);
    let planned = app
        .get("/api/v1/convoys?status=planned&limit=2")
        .await
        .json();
    assert_eq!(planned["items"].as_array().unwrap().len(), 2);
    let cursor = planned["next_cursor"].as_str().unwrap();
    let rest = app
        .get(&format!(
            "/api/v1/convoys?status=planned&limit=2&cursor={cursor}"
        ))
        .await
        .json();
    let refs: Vec<&str> = rest["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["reference"].as_str().unwrap())
        .collect();
    assert_eq!(refs, ["R0", "R1"]);
    assert_eq!(rest["next_cursor"], Value::Null);
    app.get("/api/v1/convoys?status=lost").await.problem(422);
    app.get("/api/v1/convoys?due_from=yesterday")
        .await
        .problem(422);
}

async fn cancelled_convoy_is_reported_apart(app: TestApp) {
    create_convoy(&app).await;
    ok_event(&app, json!({"kind": "cancelled", "observed_at": "2023-07-25T12:00:00+04:00", "note": "permission refused"})).await;
    let c = convoy(&app).await;
    assert_eq!(c["status"], "cancelled");
    assert_eq!(c["totals"]["cancelled"], "360.000");
    assert_eq!(c["totals"]["shortfall"], "0.000");
    let late = event(
        &app,
        json!({"kind": "departed", "observed_at": "2023-07-26T08:00:00+04:00"}),
    )
    .await;
    late.problem(422);
}

async fn closed_convoy_writes_off_what_is_in_transit(app: TestApp) {
    create_convoy(&app).await;
    ok_event(&app, json!({"kind": "held", "checkpoint": "KORNIDZOR", "observed_at": "2023-07-26T10:00:00+04:00"})).await;
    ok_event(&app, json!({"kind": "closed", "observed_at": "2023-09-20T10:00:00+04:00", "reason": "spoiled", "note": "flour spoiled after eight weeks"})).await;
    let c = convoy(&app).await;
    assert_eq!(c["status"], "short_delivered");
    assert_eq!(c["totals"]["lost"], "360.000");
    assert_eq!(
        c["totals"]["lost_by"],
        json!([{"checkpoint": "KORNIDZOR", "reason": "spoiled", "tonnes": "360.000"}])
    );
    let bad = event(
        &app,
        json!({"kind": "held", "observed_at": "2023-07-26T10:00:00+04:00", "reason": "stolen"}),
    )
    .await;
    bad.problem(422);
    assert_eq!(bad.error_fields(), ["reason"]);
}

async fn referenced_route_and_commodity_cannot_be_deleted(app: TestApp) {
    create_convoy(&app).await;
    app.delete("/api/v1/routes/lachin").await.problem(409);
    app.delete("/api/v1/commodities/flour").await.problem(409);
    app.delete("/api/v1/organizations/arm-gov")
        .await
        .problem(409);
    app.patch("/api/v1/routes/lachin", &json!({"checkpoints": [{"checkpoint": "GORIS"}, {"checkpoint": "STEPANAKERT", "leg_hours": "3"}]})).await.problem(409);
    assert_eq!(
        app.patch("/api/v1/routes/lachin", &json!({"name": "Lachin road"}))
            .await
            .status,
        200
    );
}
