use serde_json::json;

use crate::api_test;
use crate::helpers::TestApp;

api_test!(
    unknown_route_is_a_404_problem,
    wrong_method_is_a_405_problem,
    malformed_json_is_a_400_problem_with_the_position,
    unknown_field_is_rejected_naming_the_field,
    wrong_type_names_the_nested_field_path,
    missing_field_is_named,
    every_invalid_field_is_listed_and_nothing_is_written,
    body_over_the_limit_is_413,
    non_json_content_type_is_415,
    bad_query_parameter_is_named,
);

async fn unknown_route_is_a_404_problem(app: TestApp) {
    let reply = app.get("/api/v1/convoyz").await;
    let body = reply.problem(404);
    assert!(body["detail"].as_str().unwrap().contains("/api/v1/convoyz"));
}

async fn wrong_method_is_a_405_problem(app: TestApp) {
    let reply = app
        .send(
            app.client
                .put(app.url("/api/v1/routes"))
                .bearer_auth(&app.admin_token)
                .json(&json!({})),
        )
        .await;
    let body = reply.problem(405);
    assert!(body["detail"].as_str().unwrap().contains("PUT"));
}

async fn malformed_json_is_a_400_problem_with_the_position(app: TestApp) {
    let reply = app
        .send(
            app.client
                .post(app.url("/api/v1/commodities"))
                .bearer_auth(&app.admin_token)
                .header("content-type", "application/json")
                .body(r#"{"code": "rice", "name": "#),
        )
        .await;
    let body = reply.problem(400);
    assert!(
        body["detail"].as_str().unwrap().contains("line 1 column"),
        "{}",
        body["detail"]
    );
}

async fn unknown_field_is_rejected_naming_the_field(app: TestApp) {
    let reply = app
        .post(
            "/api/v1/commodities",
            &json!({"code": "rice", "name": "Rice", "colour": "white"}),
        )
        .await;
    reply.problem(422);
    assert_eq!(reply.error_fields(), ["colour"]);
    let nested = app
        .post("/api/v1/routes", &json!({"code": "r", "name": "R", "checkpoints": [{"checkpoint": "GORIS"}, {"checkpoint": "HAKARI", "leg_hours": "1", "speed": 3}]}))
        .await;
    nested.problem(422);
    assert_eq!(nested.error_fields(), ["checkpoints[1].speed"]);
}

async fn wrong_type_names_the_nested_field_path(app: TestApp) {
    let reply = app
        .post("/api/v1/routes", &json!({"code": "r", "name": "R", "checkpoints": [{"checkpoint": "GORIS"}, {"checkpoint": "HAKARI", "leg_hours": true}]}))
        .await;
    reply.problem(422);
    assert_eq!(reply.error_fields(), ["checkpoints[1].leg_hours"]);
}

async fn missing_field_is_named(app: TestApp) {
    let reply = app
        .post("/api/v1/checkpoints", &json!({"code": "LACHIN"}))
        .await;
    reply.problem(422);
    assert_eq!(reply.error_fields(), ["name"]);
}

async fn every_invalid_field_is_listed_and_nothing_is_written(app: TestApp) {
    let reply = app
        .post(
            "/api/v1/checkpoints",
            &json!({"code": "lachin town", "name": " ", "lat": 123.0, "max_dwell": "soon"}),
        )
        .await;
    reply.problem(422);
    assert_eq!(reply.error_fields(), ["code", "name", "lat", "max_dwell"]);
    let list = app.get("/api/v1/checkpoints").await.json();
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        7,
        "only the seeded checkpoints"
    );
}

async fn body_over_the_limit_is_413(app: TestApp) {
    let big = "x".repeat(3 * 1024 * 1024);
    let reply = app
        .post("/api/v1/commodities", &json!({"code": "rice", "name": big}))
        .await;
    let body = reply.problem(413);
    assert!(body["detail"]
        .as_str()
        .unwrap()
        .contains("body_limit_bytes"));
}

async fn non_json_content_type_is_415(app: TestApp) {
    let reply = app
        .send(
            app.client
                .post(app.url("/api/v1/commodities"))
                .bearer_auth(&app.admin_token)
                .header("content-type", "text/plain")
                .body("code=rice"),
        )
        .await;
    reply.problem(415);
}

async fn bad_query_parameter_is_named(app: TestApp) {
    let reply = app.get("/api/v1/checkpoints?limit=lots").await;
    reply.problem(422);
    assert_eq!(reply.error_fields(), ["limit"]);
    let range = app.get("/api/v1/checkpoints?limit=0").await;
    range.problem(422);
    assert_eq!(range.error_fields(), ["limit"]);
    let unknown = app.get("/api/v1/checkpoints?colour=red").await;
    unknown.problem(422);
}
