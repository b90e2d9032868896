//! The OpenAPI document tells the truth: every error an operation can answer is documented
//! on it, and the constraints the server checks on a field are stated in its schema. Each
//! statement of the document is checked against what the running server answers.

use serde_json::{json, Value};

use crate::api_test;
use crate::helpers::TestApp;

api_test!(
    every_operation_documents_the_errors_it_can_answer,
    documented_bounds_and_patterns_are_the_ones_the_server_enforces,
    acknowledge_and_resolve_take_an_optional_body,
);

const METHODS: [&str; 5] = ["get", "put", "post", "patch", "delete"];

async fn document(app: &TestApp) -> Value {
    let reply = app
        .send(app.client.get(app.url("/api/v1/openapi.json")))
        .await;
    assert_eq!(reply.status, 200);
    reply.json()
}

/// The response an operation documents for `status`, with `$ref`s into
/// `components/responses` followed.
fn response<'a>(doc: &'a Value, op: &'a Value, status: &str) -> Option<&'a Value> {
    let r = op["responses"].get(status)?;
    match r["$ref"].as_str() {
        Some(to) => {
            let name = to.strip_prefix("#/components/responses/")?;
            doc["components"]["responses"].get(name)
        }
        None => Some(r),
    }
}

async fn every_operation_documents_the_errors_it_can_answer(app: TestApp) {
    let doc = document(&app).await;
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in METHODS {
            let Some(op) = item.get(m) else { continue };
            operations += 1;
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let has = |place: &str| params.iter().any(|p| p["in"] == place);
            let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
            let body = op.get("requestBody").is_some();
            let mut expected = Vec::new();
            if secured {
                expected.extend(["401", "403"]);
            }
            if has("path") {
                expected.push("404");
            }
            if body || has("query") || has("path") {
                expected.push("422");
            }
            if body {
                expected.extend(["400", "413", "415"]);
            }
            if path.starts_with("/api/") {
                expected.push("503");
            }
            for status in expected {
                let r = response(&doc, op, status)
                    .unwrap_or_else(|| panic!("{m} {path} does not document {status}"));
                assert!(r["description"].is_string(), "{m} {path} {status}");
            }
        }
    }
    assert_eq!(operations, 59);
    // The shared answers are problem documents; 503 says when to retry.
    for name in ["Unauthorized", "NotFound", "Invalid", "Unavailable"] {
        let r = &doc["components"]["responses"][name];
        assert_eq!(
            r["content"]["application/problem+json"]["schema"]["$ref"],
            "#/components/schemas/Problem",
            "{name}"
        );
    }
    assert!(doc["components"]["responses"]["Unavailable"]["headers"]["Retry-After"].is_object());

    // And the server answers them where the document says.
    app.send(app.client.get(app.url("/api/v1/convoys")))
        .await
        .problem(401);
    app.get("/api/v1/convoys/00000000-0000-4000-8000-000000000000")
        .await
        .problem(404);
    app.send(
        app.client
            .post(app.url("/api/v1/organizations"))
            .bearer_auth(&app.admin_token)
            .header("content-type", "application/json")
            .body("{\"slug\":"),
    )
    .await
    .problem(400);
    app.send(
        app.client
            .post(app.url("/api/v1/organizations"))
            .bearer_auth(&app.admin_token)
            .header("content-type", "text/plain")
            .body("unhcr"),
    )
    .await
    .problem(415);
    let viewer = app.token("viewer", None).await;
    app.post_as(
        &viewer,
        "/api/v1/organizations",
        &json!({"slug": "unhcr", "name": "UNHCR"}),
    )
    .await
    .problem(403);
}

async fn documented_bounds_and_patterns_are_the_ones_the_server_enforces(app: TestApp) {
    let doc = document(&app).await;
    // A list below a record needs the record: the intake log, of intake `kobo`.
    let made = app
        .post(
            "/api/v1/intakes",
            &json!({"name": "kobo", "organization": "icrc"}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.text);
    // limit is 1–500 on every list that takes it.
    let mut lists = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(params) = item["get"]["parameters"].as_array() else {
            continue;
        };
        if let Some(limit) = params.iter().find(|p| p["name"] == "limit") {
            lists += 1;
            assert_eq!(limit["schema"]["minimum"], 1, "{path}");
            assert_eq!(limit["schema"]["maximum"], 500, "{path}");
            for (value, status) in [("0", 422), ("501", 422), ("1", 200), ("500", 200)] {
                let reply = app
                    .get(&format!(
                        "{}?limit={value}",
                        path.replace("{intake}", "kobo")
                    ))
                    .await;
                assert_eq!(reply.status, status, "{path}?limit={value}: {}", reply.text);
            }
        }
    }
    assert_eq!(lists, 8, "every paginated list");

    let schemas = &doc["components"]["schemas"];
    let org = &schemas["NewOrganization"]["properties"];
    assert_eq!(org["name"]["minLength"], 1);
    assert_eq!(org["name"]["maxLength"], 200);
    assert_eq!(org["slug"]["pattern"], "^[a-z0-9_-]{1,64}$");
    assert_eq!(
        schemas["NewCheckpoint"]["properties"]["code"]["pattern"],
        "^[A-Z0-9_-]{1,32}$"
    );
    assert_eq!(
        schemas["NewCheckpoint"]["properties"]["lat"]["minimum"],
        -90.0
    );
    assert_eq!(
        schemas["NewConvoy"]["properties"]["trucks"]["maximum"],
        1000
    );
    assert_eq!(
        schemas["NewConvoy"]["properties"]["reference"]["maxLength"],
        64
    );
    // What the schema refuses, the server refuses; what it allows at the edge, the server takes.
    let name_pattern = org["name"]["pattern"].as_str().unwrap();
    for name in ["", "   "] {
        assert!(!matches_name(name), "{name:?} is refused by {name_pattern}");
        let reply = app
            .post(
                "/api/v1/organizations",
                &json!({"slug": "unhcr", "name": name}),
            )
            .await;
        reply.problem(422);
        assert_eq!(reply.error_fields(), ["name"]);
    }
    let long = "x".repeat(201);
    let reply = app
        .post(
            "/api/v1/organizations",
            &json!({"slug": "unhcr", "name": long}),
        )
        .await;
    assert_eq!(reply.error_fields(), ["name"]);
    let edge = "x".repeat(200);
    let reply = app
        .post(
            "/api/v1/organizations",
            &json!({"slug": "unhcr", "name": edge}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let reply = app
        .post(
            "/api/v1/organizations",
            &json!({"slug": "UNHCR", "name": "UNHCR"}),
        )
        .await;
    assert_eq!(reply.error_fields(), ["slug"]);
    let reply = app
        .post(
            "/api/v1/convoys",
            &json!({"organization": "icrc", "reference": "R-1001", "route": "lachin",
            "planned_departure": "2023-09-18T08:00:00+04:00", "trucks": 1001,
            "manifest": [{"commodity": "flour", "tonnes": "23"}]}),
        )
        .await;
    assert_eq!(reply.error_fields(), ["trucks"]);
}

/// The name rule as the document's pattern states it: no control characters but tab and
/// newline, and at least one character that is not white space.
fn matches_name(s: &str) -> bool {
    let allowed = |c: char| !c.is_control() || c == '\t' || c == '\n';
    s.chars().all(allowed) && s.chars().any(|c| !c.is_whitespace())
}

async fn acknowledge_and_resolve_take_an_optional_body(app: TestApp) {
    let doc = document(&app).await;
    for action in ["acknowledge", "resolve"] {
        let body = &doc["paths"][format!("/api/v1/alerts/{{id}}/{action}")]["post"]["requestBody"];
        assert!(body.is_object(), "{action} documents its body");
        assert_ne!(body["required"], true, "the {action} body is optional");
    }
    let reply = app.post("/api/v1/convoys", &json!({"organization": "icrc", "reference": "ICRC-LATE", "route": "lachin",
        "planned_departure": "2023-09-18T08:00:00+04:00", "manifest": [{"commodity": "flour", "tonnes": "23"}]})).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let t = app.state.settings.thresholds().unwrap();
    let tz = app.state.tz;
    let now = chrono::DateTime::parse_from_rfc3339("2023-09-18T10:01:00+04:00")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let changes = app
        .state
        .db(move |c| aidflow::jobs::alerts::evaluate(c, now, tz, &t))
        .await
        .unwrap();
    assert_eq!(changes.opened.len(), 1);
    let alerts = app.get("/api/v1/alerts?state=open").await.json();
    let id = alerts["items"][0]["id"].as_str().unwrap().to_string();
    // JSON null, as a generated client sends for an absent optional body, is no note.
    let ack = app
        .send(
            app.client
                .post(app.url(&format!("/api/v1/alerts/{id}/acknowledge")))
                .bearer_auth(&app.admin_token)
                .header("content-type", "application/json")
                .body("null"),
        )
        .await;
    assert_eq!(ack.status, 200, "{}", ack.text);
    assert_eq!(ack.json()["state"], "acknowledged");
    assert_eq!(ack.json()["acknowledge_note"], Value::Null);
    // No body at all.
    let resolved = app
        .send(
            app.client
                .post(app.url(&format!("/api/v1/alerts/{id}/resolve")))
                .bearer_auth(&app.admin_token),
        )
        .await;
    assert_eq!(resolved.status, 200, "{}", resolved.text);
    assert_eq!(resolved.json()["state"], "resolved");
}
