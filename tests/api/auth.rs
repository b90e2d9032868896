use serde_json::json;

use crate::api_test;
use crate::helpers::TestApp;

api_test!(
    missing_or_malformed_token_is_401_with_a_bearer_challenge,
    unknown_token_is_401,
    revoked_token_stops_working_at_once,
    viewer_reads_everything_but_writes_nothing,
    editor_cannot_write_reference_data_or_manage_tokens,
    admin_creates_tokens_and_sees_them_listed_without_secrets,
    editor_token_needs_an_organization,
);

async fn missing_or_malformed_token_is_401_with_a_bearer_challenge(app: TestApp) {
    let none = app.send(app.client.get(app.url("/api/v1/routes"))).await;
    let body = none.problem(401);
    assert!(body["detail"]
        .as_str()
        .unwrap()
        .contains("Authorization: Bearer"));
    assert_eq!(
        none.header("www-authenticate"),
        Some("Bearer realm=\"aidflow\"")
    );
    let basic = app
        .send(
            app.client
                .get(app.url("/api/v1/routes"))
                .header("Authorization", "Basic dXNlcjpwdw=="),
        )
        .await;
    basic.problem(401);
}

async fn unknown_token_is_401(app: TestApp) {
    let forged = format!("afw_{}", "0".repeat(64));
    app.get_as(&forged, "/api/v1/routes").await.problem(401);
}

async fn revoked_token_stops_working_at_once(app: TestApp) {
    let viewer = app.token("viewer", None).await;
    assert_eq!(app.get_as(&viewer, "/api/v1/routes").await.status, 200);
    let list = app.get("/api/v1/tokens").await.json();
    let id = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["role"] == "viewer")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let revoked = app.delete(&format!("/api/v1/tokens/{id}")).await;
    assert_eq!(revoked.status, 200, "{}", revoked.text);
    assert!(revoked.json()["revoked_at"].is_string());
    app.get_as(&viewer, "/api/v1/routes").await.problem(401);
}

async fn viewer_reads_everything_but_writes_nothing(app: TestApp) {
    let viewer = app.token("viewer", None).await;
    for path in [
        "/api/v1/routes",
        "/api/v1/checkpoints",
        "/api/v1/commodities",
        "/api/v1/organizations",
        "/api/v1/routes/lachin",
    ] {
        assert_eq!(app.get_as(&viewer, path).await.status, 200, "{path}");
    }
    let write = app
        .post_as(
            &viewer,
            "/api/v1/commodities",
            &json!({"code": "rice", "name": "Rice"}),
        )
        .await;
    write.problem(403);
    app.delete_as(&viewer, "/api/v1/commodities/flour")
        .await
        .problem(403);
    app.get_as(&viewer, "/api/v1/tokens").await.problem(403);
    // nothing was written
    app.get("/api/v1/commodities/rice").await.problem(404);
}

async fn editor_cannot_write_reference_data_or_manage_tokens(app: TestApp) {
    let editor = app.token("editor", Some("icrc")).await;
    assert_eq!(app.get_as(&editor, "/api/v1/routes").await.status, 200);
    app.post_as(
        &editor,
        "/api/v1/checkpoints",
        &json!({"code": "LACHIN", "name": "Lachin town"}),
    )
    .await
    .problem(403);
    app.post_as(
        &editor,
        "/api/v1/tokens",
        &json!({"name": "x", "role": "admin"}),
    )
    .await
    .problem(403);
    app.get_as(&editor, "/api/v1/tokens").await.problem(403);
}

async fn admin_creates_tokens_and_sees_them_listed_without_secrets(app: TestApp) {
    let reply = app
        .post(
            "/api/v1/tokens",
            &json!({"name": "kornidzor-phone", "role": "editor", "organization": "arm-gov"}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let created = reply.json();
    let secret = created["token"].as_str().unwrap();
    assert!(secret.starts_with("afw_"));
    assert_eq!(secret.len(), 4 + 64, "256 random bits in hex");
    assert_eq!(created["organization"], "arm-gov");
    assert_eq!(created["role"], "editor");
    let list = app.get("/api/v1/tokens").await;
    assert_eq!(list.status, 200);
    assert!(!list.text.contains(secret), "the list never shows secrets");
    let tokens = list.json();
    assert_eq!(
        tokens.as_array().unwrap().len(),
        2,
        "the first admin token and this one"
    );
    assert!(tokens
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t.get("token").is_none()));
    assert_eq!(app.get_as(secret, "/api/v1/routes").await.status, 200);
}

async fn editor_token_needs_an_organization(app: TestApp) {
    let reply = app
        .post("/api/v1/tokens", &json!({"name": "x", "role": "editor"}))
        .await;
    reply.problem(422);
    assert_eq!(reply.error_fields(), ["organization"]);
    let unknown = app
        .post(
            "/api/v1/tokens",
            &json!({"name": "x", "role": "editor", "organization": "nobody"}),
        )
        .await;
    unknown.problem(422);
    assert_eq!(unknown.error_fields(), ["organization"]);
    let bad_role = app
        .post("/api/v1/tokens", &json!({"name": "x", "role": "root"}))
        .await;
    bad_role.problem(422);
    assert_eq!(bad_role.error_fields(), ["role"]);
}
