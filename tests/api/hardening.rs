//! Hostile and careless input (issue 11): control characters, numbers that floating point
//! would round, ids in any case, years out of range, the bearer scheme's spelling, and
//! writes a token may not make — each answered alike on SQLite and PostgreSQL.

use serde_json::{json, Value};

use crate::api_test;
use crate::convoys::{convoy_body, create_convoy, CONVOY};
use crate::helpers::{Reply, TestApp};

api_test!(
    control_characters_in_json_text_are_422_naming_the_field,
    tab_line_feed_and_carriage_return_are_kept_in_notes,
    control_characters_in_query_values_are_422_and_in_paths_404,
    csv_cells_with_control_characters_are_422_by_line_and_column,
    decimals_sent_as_json_numbers_are_read_exactly_never_rounded,
    uppercase_uuids_in_paths_address_the_same_resources,
    client_times_outside_1990_to_2100_are_422_naming_the_field,
    bearer_scheme_is_case_insensitive_with_any_run_of_blanks,
    a_viewers_write_is_403_whatever_else_is_wrong_with_it,
    an_editors_write_for_another_organization_is_403_before_its_field_errors,
    an_editors_body_of_the_wrong_shape_for_another_organization_is_403,
    sync_items_and_csv_rows_a_token_may_not_write_are_403,
);

/// The first (and here only) error's field and message.
fn only_error(reply: &Reply) -> (String, String) {
    let body = reply.problem(422);
    let errors = body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{}", reply.text);
    (
        errors[0]["field"].as_str().unwrap().to_string(),
        errors[0]["message"].as_str().unwrap().to_string(),
    )
}

fn assert_control_refused(reply: &Reply, field: &str) {
    let (named, message) = only_error(reply);
    assert_eq!(named, field, "{}", reply.text);
    assert!(message.contains("control character U+"), "{message}");
}

async fn convoy_count(app: &TestApp) -> usize {
    let list = app.get("/api/v1/convoys").await;
    assert_eq!(list.status, 200, "{}", list.text);
    list.json()["items"].as_array().unwrap().len()
}

async fn import_csv_as(app: &TestApp, token: &str, body: &str) -> Reply {
    app.send(
        app.client
            .post(app.url("/api/v1/imports/events"))
            .bearer_auth(token)
            .header("content-type", "text/csv")
            .body(body.to_string()),
    )
    .await
}

async fn control_characters_in_json_text_are_422_naming_the_field(app: TestApp) {
    let mut convoy = convoy_body(CONVOY);
    convoy["reference"] = json!("AM\u{0}2023");
    assert_control_refused(&app.post("/api/v1/convoys", &convoy).await, "reference");
    let mut convoy = convoy_body(CONVOY);
    convoy["manifest"][1]["commodity"] = json!("fo\u{0}od");
    assert_control_refused(
        &app.post("/api/v1/convoys", &convoy).await,
        "manifest[1].commodity",
    );
    let mut convoy = convoy_body(CONVOY);
    convoy["note"] = json!("escape \u{1b}[31m red");
    assert_control_refused(&app.post("/api/v1/convoys", &convoy).await, "note");
    assert_eq!(convoy_count(&app).await, 0, "nothing was written");

    create_convoy(&app).await;
    let event = json!({"kind": "departed", "observed_at": "2023-07-26T08:10:00+04:00", "note": "bell\u{7}"});
    assert_control_refused(
        &app.post(&format!("/api/v1/convoys/{CONVOY}/events"), &event)
            .await,
        "note",
    );
    let writes: [(&str, Value, &str); 9] = [
        (
            "/api/v1/organizations",
            json!({"slug": "unhcr", "name": "UN\u{0}HCR"}),
            "name",
        ),
        (
            "/api/v1/tokens",
            json!({"name": "phone\u{0}", "role": "viewer"}),
            "name",
        ),
        (
            "/api/v1/commodities",
            json!({"code": "rice", "name": "Ri\u{7f}ce"}),
            "name",
        ),
        (
            "/api/v1/checkpoints",
            json!({"code": "X1", "name": "X\u{85}"}),
            "name",
        ),
        (
            "/api/v1/routes",
            json!({"code": "r2", "name": "R\u{0}", "checkpoints": [{"checkpoint": "GORIS"}, {"checkpoint": "HAKARI", "leg_hours": "1"}]}),
            "name",
        ),
        (
            "/api/v1/routes",
            json!({"code": "r2", "name": "R", "checkpoints": [{"checkpoint": "GORIS"}, {"checkpoint": "HAK\u{0}ARI", "leg_hours": "1"}]}),
            "checkpoints[1].checkpoint",
        ),
        (
            "/api/v1/webhooks",
            json!({"url": "http://127.0.0.1:9/\u{0}", "secret": "a-secret-of-enough-length-0123456789", "events": ["alert.opened"]}),
            "url",
        ),
        (
            "/api/v1/requirements",
            json!({"route": "lachin", "from": "2023-07-01", "to": "2023-07-31", "tonnes_per_day": "400", "note": "\u{0}"}),
            "note",
        ),
        (
            "/api/v1/alerts/00000000-0000-4000-8000-000000000000/acknowledge",
            json!({"note": "seen\u{0}"}),
            "note",
        ),
    ];
    for (path, body, field) in writes {
        assert_control_refused(&app.post(path, &body).await, field);
    }
    let events = app
        .get(&format!("/api/v1/convoys/{CONVOY}/events"))
        .await
        .json();
    assert_eq!(events.as_array().unwrap().len(), 0, "nothing was written");
}

async fn tab_line_feed_and_carriage_return_are_kept_in_notes(app: TestApp) {
    create_convoy(&app).await;
    let note = "loaded at dawn\r\nseal\t4471\nok";
    let event =
        json!({"kind": "departed", "observed_at": "2023-07-26T08:10:00+04:00", "note": note});
    let reply = app
        .post(&format!("/api/v1/convoys/{CONVOY}/events"), &event)
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(reply.json()["note"], note);
}

async fn control_characters_in_query_values_are_422_and_in_paths_404(app: TestApp) {
    create_convoy(&app).await;
    for (query, field) in [
        ("/api/v1/convoys?organization=arm%00gov", "organization"),
        ("/api/v1/convoys?cursor=%00", "cursor"),
        ("/api/v1/alerts?cursor=1_%1F", "cursor"),
        ("/api/v1/checkpoints?cursor=%7F", "cursor"),
        (
            "/api/v1/reports/weekly/2023-W30?organization=%1B",
            "organization",
        ),
    ] {
        assert_control_refused(&app.get(query).await, field);
    }
    for path in [
        "/api/v1/alerts/%00",
        "/api/v1/convoys/%00/events",
        "/api/v1/organizations/arm%01gov",
        "/api/v1/checkpoints/HAKARI%00",
        "/api/v1/reports/weekly/2023-W30%00",
    ] {
        let reply = app.get(path).await;
        reply.problem(404);
    }
    let post = app
        .post(
            "/api/v1/convoys/%00/events",
            &json!({"kind": "departed", "observed_at": "2023-07-26T08:10:00+04:00"}),
        )
        .await;
    post.problem(404);
}

async fn csv_cells_with_control_characters_are_422_by_line_and_column(app: TestApp) {
    create_convoy(&app).await;
    let csv = "organization,convoy,kind,checkpoint,observed_at,commodity,tonnes,note\n\
arm-gov,AM-2023-07-26,departed,GORIS,2023-07-26T08:10:00+04:00,,,fine\n\
arm-gov,AM-2023-07-26,held,KORNIDZOR,2023-07-26T10:00:00+04:00,,,bad\u{0}note\n\
arm-gov,AM-2023-07-26,cleared,KORNIDZOR,2023-07-26T12:00:00+04:00,flo\u{1}ur,300,\n";
    let reply = import_csv_as(&app, &app.admin_token, csv).await;
    reply.problem(422);
    assert_eq!(reply.error_fields(), ["line 3, note", "line 4, commodity"]);
    let events = app
        .get(&format!("/api/v1/convoys/{CONVOY}/events"))
        .await
        .json();
    assert_eq!(events.as_array().unwrap().len(), 0, "nothing was written");
}

/// A body with a number written exactly as given (`json!` would go through f64).
async fn post_raw(app: &TestApp, path: &str, body: String) -> Reply {
    app.send(
        app.client
            .post(app.url(path))
            .bearer_auth(&app.admin_token)
            .header("content-type", "application/json")
            .body(body),
    )
    .await
}

fn convoy_with_tonnes(tonnes: &str) -> String {
    format!(
        r#"{{"id": "{CONVOY}", "organization": "arm-gov", "reference": "AM-1", "route": "lachin",
        "planned_departure": "2023-07-26T08:00:00+04:00", "manifest": [{{"commodity": "flour", "tonnes": {tonnes}}}]}}"#
    )
}

async fn decimals_sent_as_json_numbers_are_read_exactly_never_rounded(app: TestApp) {
    for (tonnes, quoted) in [
        ("1.0000000000000001", "1.0000000000000001"),
        ("9999.99999999999999", "9999.99999999999999"),
        ("99999999999999999999", "99999999999999999999"),
        // serde_json keeps a number's digits but writes an exponent with its sign.
        ("1e3", "1e+3"),
    ] {
        let reply = post_raw(&app, "/api/v1/convoys", convoy_with_tonnes(tonnes)).await;
        let (field, message) = only_error(&reply);
        assert_eq!(field, "manifest[0].tonnes", "{tonnes}: {}", reply.text);
        assert!(
            message.contains(quoted),
            "{tonnes}: the message quotes the value as sent: {message}"
        );
    }
    assert_eq!(convoy_count(&app).await, 0);
    let ok = post_raw(&app, "/api/v1/convoys", convoy_with_tonnes("300.125")).await;
    assert_eq!(ok.status, 201, "{}", ok.text);
    assert_eq!(ok.json()["planned"], "300.125");

    let route = |hours: &str| {
        format!(
            r#"{{"code": "r2", "name": "R2", "checkpoints": [{{"checkpoint": "GORIS"}}, {{"checkpoint": "HAKARI", "leg_hours": {hours}}}]}}"#
        )
    };
    let reply = post_raw(&app, "/api/v1/routes", route("1.0000000000000001")).await;
    let (field, message) = only_error(&reply);
    assert_eq!(field, "checkpoints[1].leg_hours");
    assert!(message.contains("1.0000000000000001"), "{message}");
    let reply = post_raw(&app, "/api/v1/routes", route("1.25")).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(reply.json()["checkpoints"][1]["leg_hours"], "1.25");

    let commodity = |density: &str| {
        format!(r#"{{"code": "oil2", "name": "Oil", "density_kg_per_l": {density}}}"#)
    };
    let reply = post_raw(&app, "/api/v1/commodities", commodity("0.9200000000000001")).await;
    let (field, _) = only_error(&reply);
    assert_eq!(field, "density_kg_per_l");
    let reply = post_raw(&app, "/api/v1/commodities", commodity("0.92")).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(reply.json()["density_kg_per_l"], "0.92");

    let requirement = r#"{"route": "lachin", "from": "2023-07-01", "to": "2023-07-31", "tonnes_per_day": 400.0000000000000001}"#;
    let reply = post_raw(&app, "/api/v1/requirements", requirement.to_string()).await;
    let (field, message) = only_error(&reply);
    assert_eq!(field, "tonnes_per_day");
    assert!(message.contains("400.0000000000000001"), "{message}");
}

async fn uppercase_uuids_in_paths_address_the_same_resources(app: TestApp) {
    create_convoy(&app).await;
    let upper = CONVOY.to_uppercase();
    let got = app.get(&format!("/api/v1/convoys/{upper}")).await;
    assert_eq!(got.status, 200, "{}", got.text);
    assert_eq!(got.json()["id"], CONVOY);
    let event = json!({"kind": "departed", "observed_at": "2023-07-26T08:10:00+04:00"});
    let posted = app
        .post(&format!("/api/v1/convoys/{upper}/events"), &event)
        .await;
    assert_eq!(posted.status, 201, "{}", posted.text);
    assert_eq!(
        posted.header("location"),
        Some(&*format!("/api/v1/convoys/{CONVOY}/events"))
    );
    let events = app.get(&format!("/api/v1/convoys/{upper}/events")).await;
    assert_eq!(events.status, 200, "{}", events.text);
    assert_eq!(events.json().as_array().unwrap().len(), 1);

    let org = app.get("/api/v1/organizations/arm-gov").await.json();
    let org_id = org["id"].as_str().unwrap().to_uppercase();
    let by_id = app.get(&format!("/api/v1/organizations/{org_id}")).await;
    assert_eq!(by_id.status, 200, "{}", by_id.text);
    assert_eq!(by_id.json()["slug"], "arm-gov");
    let cp = app.get("/api/v1/checkpoints/HAKARI").await.json();
    let cp_id = cp["id"].as_str().unwrap().to_uppercase();
    let by_id = app.get(&format!("/api/v1/checkpoints/{cp_id}")).await;
    assert_eq!(by_id.status, 200, "{}", by_id.text);
    assert_eq!(by_id.json()["code"], "HAKARI");

    let hook = app
        .post(
            "/api/v1/webhooks",
            &json!({"url": "http://127.0.0.1:9/x", "secret": "a-secret-of-enough-length-0123456789", "events": ["alert.opened"]}),
        )
        .await;
    assert_eq!(hook.status, 201, "{}", hook.text);
    let hook_id = hook.json()["id"].as_str().unwrap().to_uppercase();
    let deliveries = app
        .get(&format!("/api/v1/webhooks/{hook_id}/deliveries"))
        .await;
    assert_eq!(deliveries.status, 200, "{}", deliveries.text);
    let deleted = app.delete(&format!("/api/v1/webhooks/{hook_id}")).await;
    assert_eq!(deleted.status, 204, "{}", deleted.text);

    let token = app
        .post(
            "/api/v1/tokens",
            &json!({"name": "phone", "role": "viewer"}),
        )
        .await
        .json();
    let token_id = token["id"].as_str().unwrap().to_uppercase();
    let got = app.get(&format!("/api/v1/tokens/{token_id}")).await;
    assert_eq!(got.status, 200, "{}", got.text);
    let revoked = app.delete(&format!("/api/v1/tokens/{token_id}")).await;
    assert_eq!(revoked.status, 200, "{}", revoked.text);
    assert!(revoked.json()["revoked_at"].is_string());
    let secret = token["token"].as_str().unwrap();
    app.get_as(secret, "/api/v1/convoys").await.problem(401);

    let missing = "00000000-0000-4000-8000-00000000ABCD";
    let reply = app.get(&format!("/api/v1/alerts/{missing}")).await;
    reply.problem(404);
}

async fn client_times_outside_1990_to_2100_are_422_naming_the_field(app: TestApp) {
    for (field, value) in [
        ("planned_departure", "0000-01-01T00:00:00Z"),
        ("planned_departure", "1989-12-31T23:59:59+00:00"),
        ("expected_arrival", "9999-12-31T23:59:59Z"),
        ("expected_arrival", "2101-01-01T00:00:00Z"),
    ] {
        let mut body = convoy_body(CONVOY);
        body[field] = json!(value);
        let reply = app.post("/api/v1/convoys", &body).await;
        let (named, message) = only_error(&reply);
        assert_eq!(named, field, "{value}: {}", reply.text);
        assert!(message.contains("1990-01-01 to 2100-12-31"), "{message}");
    }
    let mut early = convoy_body(CONVOY);
    early["planned_departure"] = json!("1990-01-01T00:00:00+04:00");
    early["expected_arrival"] = json!("1990-01-01T12:00:00+04:00");
    let reply = app.post("/api/v1/convoys", &early).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(
        reply.json()["planned_departure"],
        "1990-01-01T00:00:00+04:00"
    );

    let event = json!({"kind": "departed", "observed_at": "0000-01-01T00:00:00Z"});
    let reply = app
        .post(&format!("/api/v1/convoys/{CONVOY}/events"), &event)
        .await;
    assert_eq!(only_error(&reply).0, "observed_at");
    let batch = json!({"events": [{"id": "e0000000-0000-4000-8000-00000000d001", "convoy": CONVOY,
        "kind": "departed", "observed_at": "1000-01-01T00:00:00Z"}]});
    let reply = app.post("/api/v1/sync", &batch).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        reply.json()["events"][0]["http_status"],
        422,
        "{}",
        reply.text
    );

    for (field, from, to) in [
        ("from", "1899-01-01", "2023-07-31"),
        ("to", "2023-07-01", "2200-01-01"),
    ] {
        let reply = app
            .post(
                "/api/v1/requirements",
                &json!({"route": "lachin", "from": from, "to": to, "tonnes_per_day": "400"}),
            )
            .await;
        assert_eq!(only_error(&reply).0, field, "{}", reply.text);
    }
    for week in ["1989-W52", "2101-W01", "9999-W01"] {
        let reply = app.get(&format!("/api/v1/reports/weekly/{week}")).await;
        assert_eq!(only_error(&reply).0, "week", "{week}: {}", reply.text);
    }
    let reply = app
        .get("/api/v1/shortfalls?from=0001-01-01&to=2023-07-31")
        .await;
    assert_eq!(only_error(&reply).0, "from", "{}", reply.text);
}

async fn bearer_scheme_is_case_insensitive_with_any_run_of_blanks(app: TestApp) {
    let token = &app.admin_token;
    for scheme in [
        "Bearer ",
        "bearer ",
        "BEARER ",
        "Bearer\t",
        "Bearer   ",
        "bEaReR \t ",
    ] {
        let reply = app
            .send(
                app.client
                    .get(app.url("/api/v1/convoys"))
                    .header("authorization", format!("{scheme}{token}")),
            )
            .await;
        assert_eq!(reply.status, 200, "{scheme:?}: {}", reply.text);
    }
    for value in [
        format!("Basic {token}"),
        format!("Bearer{token}"),
        "Bearer".to_string(),
    ] {
        let reply = app
            .send(
                app.client
                    .get(app.url("/api/v1/convoys"))
                    .header("authorization", value),
            )
            .await;
        reply.problem(401);
    }
}

async fn a_viewers_write_is_403_whatever_else_is_wrong_with_it(app: TestApp) {
    let viewer = app.token("viewer", None).await;
    let raw = |path: &str, content_type: &str, body: &str| {
        app.client
            .post(app.url(path))
            .bearer_auth(&viewer)
            .header("content-type", content_type.to_string())
            .body(body.to_string())
    };
    for (path, content_type, body) in [
        ("/api/v1/convoys", "application/json", r#"{"reference": "#),
        (
            "/api/v1/convoys",
            "application/json",
            r#"{"colour": "red"}"#,
        ),
        ("/api/v1/convoys", "text/plain", "hello"),
        ("/api/v1/commodities", "application/json", r#"{"code": 1}"#),
        ("/api/v1/sync", "application/json", r#"{"events": 3}"#),
        ("/api/v1/imports/events", "application/json", "{}"),
        (
            "/api/v1/alerts/00000000-0000-4000-8000-000000000000/acknowledge",
            "application/json",
            r#"{"note": 5}"#,
        ),
    ] {
        let reply = app.send(raw(path, content_type, body)).await;
        let problem = reply.problem(403);
        assert!(
            problem["detail"].as_str().unwrap().contains("viewer"),
            "{path} {body}: {}",
            reply.text
        );
    }
    let mut invalid = convoy_body(CONVOY);
    invalid["manifest"][0]["tonnes"] = json!("-3");
    invalid["planned_departure"] = json!("yesterday");
    app.post_as(&viewer, "/api/v1/convoys", &invalid)
        .await
        .problem(403);
    let event = json!({"kind": "sleeping", "observed_at": "soon"});
    app.post_as(
        &viewer,
        "/api/v1/convoys/00000000-0000-4000-8000-000000000000/events",
        &event,
    )
    .await
    .problem(403);
    // Without a token at all, a broken body is a 401.
    let reply = app
        .send(
            app.client
                .post(app.url("/api/v1/convoys"))
                .header("content-type", "application/json")
                .body("{"),
        )
        .await;
    reply.problem(401);
    assert_eq!(convoy_count(&app).await, 0);
}

async fn an_editors_write_for_another_organization_is_403_before_its_field_errors(app: TestApp) {
    let icrc = app.token("editor", Some("icrc")).await;
    let mut body = convoy_body(CONVOY);
    body["manifest"][0]["tonnes"] = json!("-3");
    body["planned_departure"] = json!("yesterday");
    body["route"] = json!("nowhere");
    let reply = app.post_as(&icrc, "/api/v1/convoys", &body).await;
    let problem = reply.problem(403);
    assert!(
        problem["detail"].as_str().unwrap().contains("arm-gov"),
        "{}",
        reply.text
    );
    // An admin's path: an editor's broken body is refused for the token first.
    let reply = app
        .send(
            app.client
                .post(app.url("/api/v1/commodities"))
                .bearer_auth(&icrc)
                .header("content-type", "application/json")
                .body(r#"{"code": 1}"#),
        )
        .await;
    reply.problem(403);
    // The same editor's own mistakes are still 422, naming the fields.
    body["organization"] = json!("icrc");
    let reply = app.post_as(&icrc, "/api/v1/convoys", &body).await;
    reply.problem(422);
    assert_eq!(
        reply.error_fields(),
        ["route", "planned_departure", "manifest[0].tonnes"]
    );
}

/// Bodies whose types are wrong (they cannot even be read as an event or a convoy) from an
/// editor of another organization: the write is refused for the token first.
async fn an_editors_body_of_the_wrong_shape_for_another_organization_is_403(app: TestApp) {
    create_convoy(&app).await; // arm-gov's convoy
    let icrc = app.token("editor", Some("icrc")).await;
    let arm = app.token("editor", Some("arm-gov")).await;
    let send = |token: &str, path: &str, body: &str| {
        app.client
            .post(app.url(path))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body.to_string())
    };
    let events = format!("/api/v1/convoys/{CONVOY}/events");
    let broken_event = r#"{"kind": "departed", "observed_at": 5, "cargo": "flour"}"#;
    let reply = app.send(send(&icrc, &events, broken_event)).await;
    let problem = reply.problem(403);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("another organization"),
        "{}",
        reply.text
    );
    // The convoy's own organization gets the body's error.
    let reply = app.send(send(&arm, &events, broken_event)).await;
    reply.problem(422);

    let broken_convoy = r#"{"organization": "arm-gov", "reference": "X-1", "route": "lachin", "planned_departure": "2023-07-26T08:00:00+04:00", "trucks": "nineteen", "manifest": []}"#;
    let reply = app
        .send(send(&icrc, "/api/v1/convoys", broken_convoy))
        .await;
    let problem = reply.problem(403);
    assert!(
        problem["detail"].as_str().unwrap().contains("arm-gov"),
        "{}",
        reply.text
    );
    let reply = app.send(send(&arm, "/api/v1/convoys", broken_convoy)).await;
    reply.problem(422);
    // Nothing was written.
    let reply = app.get(&events).await;
    assert_eq!(reply.json().as_array().unwrap().len(), 0, "{}", reply.text);
}

async fn sync_items_and_csv_rows_a_token_may_not_write_are_403(app: TestApp) {
    create_convoy(&app).await;
    let viewer = app.token("viewer", None).await;
    let icrc = app.token("editor", Some("icrc")).await;
    let mut convoy = convoy_body("5a0c0b1e-2023-4726-8000-000000000222");
    convoy.as_object_mut().unwrap().remove("id");
    let batch = json!({
        "convoys": [convoy],
        "events": [
            {"convoy": CONVOY, "kind": "departed", "observed_at": "2023-07-26T08:10:00+04:00"},
            {"id": "e0000000-0000-4000-8000-00000000d002", "convoy": CONVOY, "kind": "sleeping", "observed_at": "soon"},
            {"id": "e0000000-0000-4000-8000-00000000d003", "convoy": "00000000-0000-4000-8000-000000000000", "kind": "departed", "observed_at": "2023-07-26T08:10:00+04:00"}
        ]
    });
    let reply = app.post_as(&viewer, "/api/v1/sync", &batch).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let answers = reply.json();
    let statuses: Vec<&Value> = answers["convoys"]
        .as_array()
        .unwrap()
        .iter()
        .chain(answers["events"].as_array().unwrap())
        .map(|a| &a["http_status"])
        .collect();
    assert_eq!(statuses, [&json!(403); 4], "{}", reply.text);

    let mut convoy = convoy_body("5a0c0b1e-2023-4726-8000-000000000333");
    convoy["planned_departure"] = json!("yesterday");
    let batch = json!({
        "convoys": [convoy],
        "events": [{"id": "e0000000-0000-4000-8000-00000000d004", "convoy": CONVOY, "kind": "sleeping", "observed_at": "soon"}]
    });
    let reply = app.post_as(&icrc, "/api/v1/sync", &batch).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let answers = reply.json();
    assert_eq!(answers["convoys"][0]["http_status"], 403, "{}", reply.text);
    assert_eq!(answers["events"][0]["http_status"], 403, "{}", reply.text);

    let csv = "organization,convoy,kind,checkpoint,observed_at,commodity,tonnes\n\
arm-gov,AM-2023-07-26,departed,GORIS,2023-07-26T08:10:00+04:00,,\n\
arm-gov,AM-2023-07-26,cleared,HAKARI,yesterday,flour,-3\n";
    for token in [&viewer, &icrc] {
        let reply = import_csv_as(&app, token, csv).await;
        let problem = reply.problem(403);
        assert!(problem.get("errors").is_none(), "{}", reply.text);
    }
    let bad = "organization,convoy,kind,observed_at\narm-gov,AM-2023-07-26,sleeping,soon\n";
    let reply = import_csv_as(&app, &viewer, bad).await;
    reply.problem(403);
    let events = app
        .get(&format!("/api/v1/convoys/{CONVOY}/events"))
        .await
        .json();
    assert_eq!(events.as_array().unwrap().len(), 0, "nothing was written");
}
