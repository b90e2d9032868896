//! A known path asked with a method it does not take is a 405 listing its methods in
//! `Allow`, for every path of the OpenAPI document; an unknown path stays a 404.

use serde_json::Value;

use crate::api_test;
use crate::helpers::{Reply, TestApp};

api_test!(
    a_wrong_method_on_a_known_path_is_405_with_allow,
    every_documented_path_answers_its_methods_and_405_for_the_others,
);

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

async fn call(app: &TestApp, method: &str, path: &str) -> Reply {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    app.send(
        app.client
            .request(method, app.url(path))
            .bearer_auth(&app.admin_token),
    )
    .await
}

fn assert_405(reply: &Reply, allow: &str) {
    let problem = reply.problem(405);
    assert_eq!(problem["type"], "urn:aidflow:problem:method-not-allowed");
    assert_eq!(reply.header("allow"), Some(allow), "{}", reply.text);
}

async fn a_wrong_method_on_a_known_path_is_405_with_allow(app: TestApp) {
    let id = "5a0c0b1e-2023-4726-8000-000000000726";
    for (method, path, allow) in [
        // paths with only GET, registered on their own (these were 404)
        ("PUT", "/api/v1/shortfalls".to_string(), "GET"),
        ("DELETE", "/api/v1/shortfalls".to_string(), "GET"),
        ("DELETE", format!("/api/v1/alerts/{id}"), "GET"),
        ("PUT", "/health/ready".to_string(), "GET"),
        ("POST", "/metrics".to_string(), "GET"),
        ("DELETE", "/api/v1/openapi.json".to_string(), "GET"),
        ("GET", "/api/v1/sync".to_string(), "POST"),
        ("GET", format!("/api/v1/alerts/{id}/acknowledge"), "POST"),
        ("GET", "/api/v1/webhooks/x".to_string(), "DELETE"),
        // paths whose methods share one resource (these were 405 without Allow)
        ("PUT", format!("/api/v1/convoys/{id}"), "GET"),
        ("DELETE", "/api/v1/convoys".to_string(), "GET, POST"),
        (
            "PUT",
            "/api/v1/checkpoints/GORIS".to_string(),
            "GET, PATCH, DELETE",
        ),
        ("PATCH", "/api/v1/tokens/x".to_string(), "GET, DELETE"),
        ("PATCH", "/api/v1/webhooks".to_string(), "GET, POST"),
    ] {
        let reply = call(&app, method, &path).await;
        assert_405(&reply, allow);
        assert_eq!(
            reply.json()["detail"],
            format!("{method} is not allowed on {path}; it takes {allow}")
        );
    }
    let unknown = call(&app, "PUT", "/api/v1/nothing-here").await;
    unknown.problem(404);
    assert_eq!(unknown.header("allow"), None);
    // a path under a known one, one segment longer, is not known either
    call(&app, "GET", "/api/v1/shortfalls/extra")
        .await
        .problem(404);
}

/// The table behind `Allow` is the OpenAPI document: each method it lists for a path is
/// served there (not 405), and each other one is a 405 naming exactly the listed ones.
async fn every_documented_path_answers_its_methods_and_405_for_the_others(app: TestApp) {
    let doc = app.get("/api/v1/openapi.json").await.json();
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 30, "{}", paths.len());
    let mut checked = 0;
    for (template, item) in paths {
        let listed: Vec<&str> = METHODS
            .iter()
            .copied()
            .filter(|m| {
                item.get(m.to_ascii_lowercase())
                    .is_some_and(Value::is_object)
            })
            .collect();
        assert!(!listed.is_empty(), "{template}");
        let path = template
            .split('/')
            .map(|s| if s.starts_with('{') { "x" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        for method in METHODS {
            let reply = call(&app, method, &path).await;
            if listed.contains(&method) {
                assert_ne!(
                    reply.status, 405,
                    "{method} {path} is documented: {}",
                    reply.text
                );
            } else {
                assert_405(&reply, &listed.join(", "));
            }
            checked += 1;
        }
    }
    assert_eq!(checked, paths.len() * METHODS.len());
}
