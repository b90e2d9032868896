use serde_json::Value;

use crate::api_test;
use crate::helpers::{Backend, TestApp};

api_test!(
    liveness_and_readiness_answer_ok_with_the_backend,
    every_response_carries_a_request_id,
    metrics_count_requests_by_route_and_show_the_pool,
    openapi_document_is_valid_and_lists_every_endpoint,
);

async fn liveness_and_readiness_answer_ok_with_the_backend(app: TestApp) {
    let live = app.send(app.client.get(app.url("/health/live"))).await;
    assert_eq!(live.status, 200);
    assert_eq!(live.json()["status"], "ok");
    let ready = app.send(app.client.get(app.url("/health/ready"))).await;
    assert_eq!(ready.status, 200, "{}", ready.text);
    let expected = match app.backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    assert_eq!(ready.json()["database"], expected);
}

async fn every_response_carries_a_request_id(app: TestApp) {
    let ok = app.get("/api/v1/routes").await;
    let missing = app
        .send(app.client.get(app.url("/api/v1/nothing-here")))
        .await;
    let a = ok
        .header("x-request-id")
        .expect("request id on success")
        .to_string();
    let b = missing
        .header("x-request-id")
        .expect("request id on error")
        .to_string();
    assert_eq!(a.len(), 36, "a UUID: {a}");
    assert_ne!(a, b, "one id per request");
}

async fn metrics_count_requests_by_route_and_show_the_pool(app: TestApp) {
    assert_eq!(app.get("/api/v1/checkpoints/HAKARI").await.status, 200);
    assert_eq!(app.get("/api/v1/checkpoints/NOWHERE").await.status, 404);
    let metrics = app.send(app.client.get(app.url("/metrics"))).await;
    assert_eq!(metrics.status, 200);
    assert!(metrics
        .header("content-type")
        .unwrap_or_default()
        .starts_with("text/plain"));
    let text = metrics.text;
    assert!(
        text.contains(r#"aidflow_http_requests_total{method="GET",route="/api/v1/checkpoints/{key}",status="200"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"aidflow_http_requests_total{method="GET",route="/api/v1/checkpoints/{key}",status="404"} 1"#),
        "{text}"
    );
    assert!(
        text.contains("aidflow_http_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(
        text.contains(r#"aidflow_db_pool_connections{state="max"} 4"#),
        "{text}"
    );
}

/// Every `$ref` in the document points at a schema that exists.
fn check_refs(value: &Value, doc: &Value, at: &str) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                let (kind, name) = r
                    .strip_prefix("#/components/")
                    .and_then(|r| r.split_once('/'))
                    .unwrap_or_else(|| panic!("unexpected $ref {r} at {at}"));
                assert!(
                    doc["components"][kind][name].is_object(),
                    "$ref {r} at {at} resolves to nothing"
                );
            }
            for (k, v) in map {
                check_refs(v, doc, &format!("{at}/{k}"));
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                check_refs(v, doc, &format!("{at}/{i}"));
            }
        }
        _ => {}
    }
}

async fn openapi_document_is_valid_and_lists_every_endpoint(app: TestApp) {
    let reply = app
        .send(app.client.get(app.url("/api/v1/openapi.json")))
        .await;
    assert_eq!(reply.status, 200);
    let doc = reply.json();
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["info"]["title"], "aidflow");
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    for (path, methods) in [
        ("/api/v1/organizations", &["get", "post"][..]),
        (
            "/api/v1/organizations/{key}",
            &["get", "patch", "delete"][..],
        ),
        ("/api/v1/checkpoints", &["get", "post"][..]),
        ("/api/v1/checkpoints/{key}", &["get", "patch", "delete"][..]),
        ("/api/v1/commodities", &["get", "post"][..]),
        ("/api/v1/commodities/{key}", &["get", "patch", "delete"][..]),
        ("/api/v1/routes", &["get", "post"][..]),
        ("/api/v1/routes/{key}", &["get", "patch", "delete"][..]),
        ("/api/v1/tokens", &["get", "post"][..]),
        ("/api/v1/tokens/{id}", &["get", "delete"][..]),
        ("/health/live", &["get"][..]),
        ("/health/ready", &["get"][..]),
        ("/metrics", &["get"][..]),
    ] {
        for m in methods {
            let op = &doc["paths"][path][m];
            assert!(
                op.is_object(),
                "{m} {path} is missing from the OpenAPI document"
            );
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{m} {path} has no responses"
            );
        }
    }
    check_refs(&doc, &doc, "#");
}
