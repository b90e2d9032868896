use serde_json::{json, Value};

use crate::api_test;
use crate::helpers::TestApp;

api_test!(
    lachin_corridor_is_seeded_on_first_start,
    create_with_client_id_replays_and_conflicts,
    twenty_clients_creating_the_same_record_store_it_once,
    duplicate_code_is_409,
    route_with_unknown_checkpoint_names_the_stop,
    commodity_density_is_exact,
    updates_change_only_what_is_sent,
    referenced_checkpoint_and_organization_cannot_be_deleted,
    unreferenced_records_can_be_deleted,
    lists_page_with_a_cursor,
);

async fn lachin_corridor_is_seeded_on_first_start(app: TestApp) {
    let route = app.get("/api/v1/routes/lachin").await;
    assert_eq!(route.status, 200, "{}", route.text);
    let route = route.json();
    let codes: Vec<&str> = route["checkpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["checkpoint"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        ["GORIS", "KORNIDZOR", "HAKARI", "SHUSHA", "STEPANAKERT"]
    );
    assert_eq!(route["origin"], "GORIS");
    assert_eq!(route["destination"], "STEPANAKERT");
    assert_eq!(route["total_hours"], "3.5");
    let aghdam = app.get("/api/v1/routes/aghdam").await.json();
    let codes: Vec<&str> = aghdam["checkpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["checkpoint"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["AGHDAM", "ASKERAN", "STEPANAKERT"]);
    let oil = app.get("/api/v1/commodities/sunflower_oil").await.json();
    assert_eq!(oil["density_kg_per_l"], "0.92");
    let hakari = app.get("/api/v1/checkpoints/HAKARI").await.json();
    assert_eq!(hakari["max_dwell"], "6h");
    assert_eq!(hakari["max_dwell_minutes"], 360);
    let orgs = app.get("/api/v1/organizations").await.json();
    let slugs: Vec<&str> = orgs["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["arm-gov", "fr-gov", "icrc", "rus-red-cross"]);
}

async fn create_with_client_id_replays_and_conflicts(app: TestApp) {
    let id = "7f1c2a4e-1111-4222-8333-444455556666";
    let body = json!({"id": id, "code": "LACHIN", "name": "Lachin town", "max_dwell": "3h"});
    let first = app.post("/api/v1/checkpoints", &body).await;
    assert_eq!(first.status, 201, "{}", first.text);
    assert_eq!(first.header("location"), Some("/api/v1/checkpoints/LACHIN"));
    assert_eq!(first.json()["id"], id);
    let again = app.post("/api/v1/checkpoints", &body).await;
    assert_eq!(again.status, 200, "same id, same body: the stored record");
    assert_eq!(again.json(), first.json());
    let changed = app
        .post(
            "/api/v1/checkpoints",
            &json!({"id": id, "code": "LACHIN", "name": "Lachin", "max_dwell": "3h"}),
        )
        .await;
    changed.problem(409);
    let list = app.get("/api/v1/checkpoints").await.json();
    assert_eq!(list["items"].as_array().unwrap().len(), 8, "stored once");
}

async fn twenty_clients_creating_the_same_record_store_it_once(app: TestApp) {
    let body =
        json!({"id": "0b7e3f4a-9c1d-4e2f-8a3b-5c6d7e8f9a0b", "code": "rice", "name": "Rice"});
    let sends = (0..20).map(|_| app.post("/api/v1/commodities", &body));
    let replies = futures_util::future::join_all(sends).await;
    let mut statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    statuses.sort();
    assert_eq!(statuses[0], 200, "{statuses:?}");
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        19,
        "{statuses:?}"
    );
    let list = app.get("/api/v1/commodities?limit=100").await.json();
    assert_eq!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["code"] == "rice")
            .count(),
        1
    );
}

async fn duplicate_code_is_409(app: TestApp) {
    let reply = app
        .post(
            "/api/v1/checkpoints",
            &json!({"code": "HAKARI", "name": "Another Hakari"}),
        )
        .await;
    let body = reply.problem(409);
    assert!(body["detail"].as_str().unwrap().contains("HAKARI"));
}

async fn route_with_unknown_checkpoint_names_the_stop(app: TestApp) {
    let reply = app
        .post("/api/v1/routes", &json!({"code": "north", "name": "North", "checkpoints": [
            {"checkpoint": "GORIS"}, {"checkpoint": "NOWHERE", "leg_hours": "2"}, {"checkpoint": "STEPANAKERT", "leg_hours": 1.5}]}))
        .await;
    reply.problem(422);
    assert_eq!(reply.error_fields(), ["checkpoints[1].checkpoint"]);
    let short = app
        .post(
            "/api/v1/routes",
            &json!({"code": "north", "name": "North", "checkpoints": [{"checkpoint": "GORIS"}]}),
        )
        .await;
    short.problem(422);
    assert_eq!(short.error_fields(), ["checkpoints"]);
    let no_hours = app
        .post("/api/v1/routes", &json!({"code": "north", "name": "North", "checkpoints": [{"checkpoint": "GORIS"}, {"checkpoint": "HAKARI"}]}))
        .await;
    no_hours.problem(422);
    assert_eq!(no_hours.error_fields(), ["checkpoints[1].leg_hours"]);
    let ok = app
        .post("/api/v1/routes", &json!({"code": "north", "name": "North", "checkpoints": [
            {"checkpoint": "GORIS"}, {"checkpoint": "HAKARI", "leg_hours": "2"}, {"checkpoint": "STEPANAKERT", "leg_hours": 1.5}]}))
        .await;
    assert_eq!(ok.status, 201, "{}", ok.text);
    assert_eq!(ok.json()["total_hours"], "3.5");
    assert_eq!(ok.json()["checkpoints"][2]["leg_hours"], "1.5");
}

async fn commodity_density_is_exact(app: TestApp) {
    let reply = app
        .post(
            "/api/v1/commodities",
            &json!({"code": "milk", "name": "Milk", "density_kg_per_l": "1.033"}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(reply.json()["density_kg_per_l"], "1.033");
    let bad = app
        .post(
            "/api/v1/commodities",
            &json!({"code": "cream", "name": "Cream", "density_kg_per_l": "-1"}),
        )
        .await;
    bad.problem(422);
    assert_eq!(bad.error_fields(), ["density_kg_per_l"]);
}

async fn updates_change_only_what_is_sent(app: TestApp) {
    let reply = app
        .patch("/api/v1/checkpoints/HAKARI", &json!({"max_dwell": "2h"}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let cp = reply.json();
    assert_eq!(cp["max_dwell_minutes"], 120);
    assert_eq!(cp["name"], "Hakari bridge checkpoint");
    let route = app
        .patch("/api/v1/routes/lachin", &json!({"name": "Lachin road"}))
        .await
        .json();
    assert_eq!(route["name"], "Lachin road");
    assert_eq!(route["checkpoints"].as_array().unwrap().len(), 5);
    let org = app
        .patch("/api/v1/organizations/icrc", &json!({"name": "ICRC"}))
        .await
        .json();
    assert_eq!(org["name"], "ICRC");
    let missing = app
        .patch("/api/v1/commodities/caviar", &json!({"name": "Caviar"}))
        .await;
    missing.problem(404);
}

async fn referenced_checkpoint_and_organization_cannot_be_deleted(app: TestApp) {
    let reply = app.delete("/api/v1/checkpoints/HAKARI").await;
    let body = reply.problem(409);
    assert!(
        body["detail"].as_str().unwrap().contains("lachin"),
        "{}",
        body["detail"]
    );
    assert_eq!(app.get("/api/v1/checkpoints/HAKARI").await.status, 200);
    app.token("editor", Some("icrc")).await;
    app.delete("/api/v1/organizations/icrc").await.problem(409);
    assert_eq!(app.get("/api/v1/organizations/icrc").await.status, 200);
}

async fn unreferenced_records_can_be_deleted(app: TestApp) {
    assert_eq!(app.delete("/api/v1/commodities/hygiene").await.status, 204);
    app.get("/api/v1/commodities/hygiene").await.problem(404);
    assert_eq!(app.delete("/api/v1/routes/aghdam").await.status, 204);
    assert_eq!(app.delete("/api/v1/checkpoints/ASKERAN").await.status, 204);
    assert_eq!(app.delete("/api/v1/organizations/fr-gov").await.status, 204);
}

async fn lists_page_with_a_cursor(app: TestApp) {
    let mut seen: Vec<String> = Vec::new();
    let mut path = "/api/v1/commodities?limit=3".to_string();
    loop {
        let page = app.get(&path).await.json();
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 3);
        seen.extend(
            items
                .iter()
                .map(|c| c["code"].as_str().unwrap().to_string()),
        );
        match &page["next_cursor"] {
            Value::String(c) => path = format!("/api/v1/commodities?limit=3&cursor={c}"),
            _ => break,
        }
    }
    assert_eq!(seen.len(), 10);
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(
        seen, sorted,
        "pages are in code order, without gaps or repeats"
    );
}
