//! Form intakes over HTTP on both backends: KoboToolbox REST-service pushes (recorded
//! shapes: flat keys, repeat groups as arrays, meta/instanceID, meta/deprecatedID after
//! an edit) and an ODK Collect OpenRosa exchange (HEAD, multipart POST of instance XML).

use base64::Engine;
use serde_json::{json, Value};

use crate::api_test;
use crate::helpers::{Reply, TestApp};

api_test!(
    a_kobo_submission_with_two_cargo_lines_becomes_one_event_with_two_lines,
    a_kobo_submission_sent_three_times_is_stored_once,
    an_edited_kobo_submission_becomes_a_correction,
    a_submission_for_an_unknown_convoy_is_kept_in_the_log_and_replays_once_the_convoy_exists,
    an_odk_collect_exchange_stores_the_event_and_answers_openrosa_xml,
    wrong_credentials_are_401_and_write_nothing,
    another_form_maps_its_own_field_names,
    intakes_are_admin_only_and_their_secrets_are_shown_once,
);

struct Intake {
    name: String,
    secret: String,
}

async fn intake(app: &TestApp, name: &str, mapping: Option<Value>) -> Intake {
    let mut body = json!({"name": name, "organization": "icrc"});
    if let Some(m) = mapping {
        body["mapping"] = m;
    }
    let reply = app.post("/api/v1/intakes", &body).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let made = reply.json();
    assert_eq!(made["kobo_url"], format!("/api/v1/intake/kobo/{name}"));
    Intake {
        name: name.into(),
        secret: made["secret"].as_str().unwrap().to_string(),
    }
}

/// An ICRC convoy on the Lachin route with food and medicine, arrived at KORNIDZOR.
async fn convoy(app: &TestApp, reference: &str) -> String {
    let id = uuid::Uuid::new_v4().to_string();
    let made = app
        .post(
            "/api/v1/convoys",
            &json!({"id": id, "organization": "icrc", "reference": reference, "route": "lachin",
                "planned_departure": "2023-09-18T08:00:00+04:00", "expected_arrival": "2023-09-18T14:00:00+04:00",
                "manifest": [{"commodity": "food", "tonnes": "20"}, {"commodity": "medical", "tonnes": "3"}]}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.text);
    for body in [
        json!({"kind": "departed", "checkpoint": "GORIS", "observed_at": "2023-09-18T08:10:00+04:00"}),
        json!({"kind": "arrived", "checkpoint": "KORNIDZOR", "observed_at": "2023-09-18T08:40:00+04:00"}),
    ] {
        let r = app
            .post(&format!("/api/v1/convoys/{id}/events"), &body)
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    id
}

/// A KoboToolbox REST-service body as Kobo sends it for the shipped form.
fn kobo_body(reference: &str, instance: &str, food: &str) -> Value {
    json!({
        "_id": 41_234_567, "_uuid": instance.trim_start_matches("uuid:"), "formhub/uuid": "9f0b1c2d3e4f",
        "start": "2023-09-18T09:02:11.482+04:00", "end": "2023-09-18T09:05:40.117+04:00",
        "convoy_reference": reference, "event_kind": "cleared", "route": "lachin", "checkpoint": "KORNIDZOR",
        "observed_at": "2023-09-18T09:00:00.000+04:00", "trucks": "2", "cargo_changed": "yes",
        "cargo": [
            {"cargo/commodity": "food", "cargo/quantity": food, "cargo/unit": "t", "cargo/reason": "damaged"},
            {"cargo/commodity": "medical", "cargo/quantity": "2500", "cargo/unit": "kg", "cargo/reason": "confiscated"}
        ],
        "note": "Two pallets of flour wet; 500 kg of medicine taken at the post.",
        "location": "39.5135 46.4069 1250 5",
        "meta/instanceID": instance, "meta/instanceName": format!("{reference} cleared"),
        "_xform_id_string": "aHc9kDw3r7WqPZ4bXG2mUy", "__version__": "vJt5b3Q8kSxqS6", "_status": "submitted_via_web",
        "_submission_time": "2023-09-18T05:05:44", "_geolocation": [39.5135, 46.4069], "_attachments": [],
        "_submitted_by": "kornidzor-team", "_tags": [], "_notes": [], "_validation_status": {}
    })
}

async fn push(app: &TestApp, i: &Intake, body: &Value) -> Reply {
    app.send(
        app.client
            .post(app.url(&format!("/api/v1/intake/kobo/{}", i.name)))
            .basic_auth(&i.name, Some(&i.secret))
            .json(body),
    )
    .await
}

async fn events(app: &TestApp, convoy: &str) -> Vec<Value> {
    app.get(&format!("/api/v1/convoys/{convoy}/events"))
        .await
        .json()
        .as_array()
        .unwrap()
        .clone()
}

async fn log(app: &TestApp, i: &Intake) -> Vec<Value> {
    let page = app.get(&format!("/api/v1/intakes/{}/log", i.name)).await;
    assert_eq!(page.status, 200, "{}", page.text);
    page.json()["items"].as_array().unwrap().clone()
}

async fn a_kobo_submission_with_two_cargo_lines_becomes_one_event_with_two_lines(app: TestApp) {
    let i = intake(&app, "kornidzor-kobo", None).await;
    let id = convoy(&app, "ICRC-K-1").await;
    let reply = push(
        &app,
        &i,
        &kobo_body(
            "ICRC-K-1",
            "uuid:7e1c5a0e-0b8f-4d7e-9a43-1f2b3c4d5e6f",
            "18",
        ),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let answer = reply.json();
    assert_eq!(answer["status"], "stored");
    assert_eq!(answer["convoy"], id.as_str());
    let all = events(&app, &id).await;
    assert_eq!(all.len(), 3);
    let e = &all[2];
    assert_eq!(e["id"], answer["event"]);
    assert_eq!(
        (e["kind"].as_str(), e["checkpoint"].as_str()),
        (Some("cleared"), Some("KORNIDZOR"))
    );
    assert_eq!(e["observed_at"], "2023-09-18T09:00:00+04:00");
    assert_eq!(e["recorded_by"], "intake:kornidzor-kobo");
    assert_eq!(
        e["source"],
        json!({"intake": "kornidzor-kobo", "instance_id": "uuid:7e1c5a0e-0b8f-4d7e-9a43-1f2b3c4d5e6f"})
    );
    let lines: Vec<(String, String, String)> = e["cargo"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["commodity"].as_str().unwrap().into(),
                l["tonnes"].as_str().unwrap().into(),
                l["reason"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            (
                "food".to_string(),
                "18.000".to_string(),
                "damaged".to_string()
            ),
            ("medical".into(), "2.500".into(), "confiscated".into())
        ]
    );
    let c = app.get(&format!("/api/v1/convoys/{id}")).await.json();
    assert_eq!(
        (c["outstanding"].as_str(), c["totals"]["lost"].as_str()),
        (Some("20.500"), Some("2.500"))
    );
    let entries = log(&app, &i).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["state"], "stored");
    assert_eq!(entries[0]["event"], answer["event"]);
    assert_eq!(entries[0]["channel"], "kobo");
    let kept: Value = serde_json::from_str(entries[0]["payload"].as_str().unwrap()).unwrap();
    assert_eq!(
        kept["_submitted_by"], "kornidzor-team",
        "the original payload is kept"
    );
}

async fn a_kobo_submission_sent_three_times_is_stored_once(app: TestApp) {
    let i = intake(&app, "kobo", None).await;
    let id = convoy(&app, "ICRC-K-2").await;
    let body = kobo_body(
        "ICRC-K-2",
        "uuid:11111111-2222-4333-8444-555555555555",
        "19",
    );
    let statuses: Vec<u16> = futures_util::future::join_all((0..3).map(|_| push(&app, &i, &body)))
        .await
        .into_iter()
        .map(|r| r.status)
        .collect();
    let mut sorted = statuses.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, [200, 200, 201], "{statuses:?}");
    let again = push(&app, &i, &body).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.json()["replayed"], true);
    assert_eq!(
        events(&app, &id).await.len(),
        3,
        "one event for the submission"
    );
    assert_eq!(log(&app, &i).await.len(), 1, "one log entry");
    let c = app.get(&format!("/api/v1/convoys/{id}")).await.json();
    assert_eq!(
        c["totals"]["lost"], "1.500",
        "counted once: 1 t of food and 0.5 t of medicine"
    );
}

async fn an_edited_kobo_submission_becomes_a_correction(app: TestApp) {
    let i = intake(&app, "kobo", None).await;
    let id = convoy(&app, "ICRC-K-3").await;
    let first = push(
        &app,
        &i,
        &kobo_body(
            "ICRC-K-3",
            "uuid:aaaaaaaa-0000-4000-8000-000000000001",
            "15",
        ),
    )
    .await;
    assert_eq!(first.status, 201, "{}", first.text);
    let original = first.json()["event"].as_str().unwrap().to_string();
    // Kobo's edit: a new instanceID, the old one as meta/deprecatedID, the same rootUuid.
    let mut edited = kobo_body(
        "ICRC-K-3",
        "uuid:aaaaaaaa-0000-4000-8000-000000000002",
        "19.5",
    );
    edited["meta/deprecatedID"] = json!("uuid:aaaaaaaa-0000-4000-8000-000000000001");
    edited["meta/rootUuid"] = json!("uuid:aaaaaaaa-0000-4000-8000-000000000001");
    let second = push(&app, &i, &edited).await;
    assert_eq!(second.status, 201, "{}", second.text);
    let all = events(&app, &id).await;
    assert_eq!(all.len(), 4);
    let old = all.iter().find(|e| e["id"] == original.as_str()).unwrap();
    assert_eq!(old["voided"], true, "the first version is voided");
    let fix = &all[3];
    assert_eq!(fix["corrects"], original.as_str());
    assert_eq!(fix["cargo"][0]["tonnes"], "19.500");
    let c = app.get(&format!("/api/v1/convoys/{id}")).await.json();
    assert_eq!(
        c["outstanding"], "22.000",
        "only the corrected figures count: 19.5 t of food and 2.5 t of medicine on board"
    );
}

async fn a_submission_for_an_unknown_convoy_is_kept_in_the_log_and_replays_once_the_convoy_exists(
    app: TestApp,
) {
    let i = intake(&app, "kobo", None).await;
    let body = kobo_body(
        "ICRC-LATE",
        "uuid:bbbbbbbb-0000-4000-8000-000000000001",
        "18",
    );
    let reply = push(&app, &i, &body).await;
    assert_eq!(
        reply.status, 202,
        "kept, so Kobo does not resend it: {}",
        reply.text
    );
    let answer = reply.json();
    assert_eq!(answer["status"], "kept");
    assert!(
        answer["reason"]
            .as_str()
            .unwrap()
            .contains("has no convoy with reference \"ICRC-LATE\""),
        "{answer}"
    );
    let failed = app
        .get(&format!("/api/v1/intakes/{}/log?state=failed", i.name))
        .await
        .json();
    let entry = failed["items"][0].clone();
    assert_eq!(entry["state"], "failed");
    assert_eq!(
        entry["instance_id"],
        "uuid:bbbbbbbb-0000-4000-8000-000000000001"
    );
    let entry_id = entry["id"].as_str().unwrap().to_string();
    // Resending it keeps one entry.
    assert_eq!(push(&app, &i, &body).await.status, 202);
    assert_eq!(log(&app, &i).await.len(), 1);

    let still = app
        .post(
            &format!("/api/v1/intakes/{}/log/{entry_id}/replay", i.name),
            &json!({}),
        )
        .await;
    assert_eq!(still.status, 202, "{}", still.text);
    let id = convoy(&app, "ICRC-LATE").await;
    let replayed = app
        .post(
            &format!("/api/v1/intakes/{}/log/{entry_id}/replay", i.name),
            &json!({}),
        )
        .await;
    assert_eq!(replayed.status, 201, "{}", replayed.text);
    let event = replayed.json()["event"].as_str().unwrap().to_string();
    let all = events(&app, &id).await;
    assert_eq!(all.len(), 3);
    assert_eq!(all[2]["id"], event.as_str());
    let twice = app
        .post(
            &format!("/api/v1/intakes/{}/log/{entry_id}/replay", i.name),
            &json!({}),
        )
        .await;
    assert_eq!(twice.status, 200, "a stored entry replays as it is");
    assert_eq!(events(&app, &id).await.len(), 3);
    let entries = log(&app, &i).await;
    // Tried on arrival, on the resend, on the first replay and the second: four attempts.
    assert_eq!(
        (
            entries[0]["state"].as_str(),
            entries[0]["attempts"].as_i64()
        ),
        (Some("stored"), Some(4))
    );
    // A resend after it was stored is a replay too.
    let resent = push(&app, &i, &body).await;
    assert_eq!(resent.status, 200);
    assert_eq!(resent.json()["event"], event.as_str());
}

fn instance_xml(reference: &str, instance: &str) -> String {
    format!(
        r#"<?xml version='1.0' ?><data id="aidflow_checkpoint" version="2026120101" xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms"><start>2023-09-18T10:58:12.201+04:00</start><end>2023-09-18T11:01:40.932+04:00</end><convoy_reference>{reference}</convoy_reference><event_kind>held</event_kind><route>lachin</route><checkpoint>KORNIDZOR</checkpoint><observed_at>2023-09-18T11:00:00.000+04:00</observed_at><trucks>2</trucks><cargo_changed>no</cargo_changed><note>Stopped for inspection &amp; papers.</note><location>39.5135 46.4069 1250.0 5.0</location><meta><instanceID>{instance}</instanceID><instanceName>{reference} held</instanceName></meta></data>"#
    )
}

fn multipart(xml: &str) -> (String, Vec<u8>) {
    let boundary = "----odkcollectboundary7f3a";
    let mut body = Vec::new();
    body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"xml_submission_file\"; filename=\"ICRC-K-5_2023-09-18_11-01-40.xml\"\r\nContent-Type: text/xml\r\n\r\n").as_bytes());
    body.extend_from_slice(xml.as_bytes());
    body.extend_from_slice(format!("\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"p.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n\u{1}\u{2}\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn an_odk_collect_exchange_stores_the_event_and_answers_openrosa_xml(app: TestApp) {
    let i = intake(&app, "kornidzor-odk", None).await;
    let id = convoy(&app, "ICRC-K-5").await;
    let base = format!("/intake/odk/{}", i.name);
    let list = app
        .send(
            app.client
                .get(app.url(&format!("{base}/formList")))
                .basic_auth(&i.name, Some(&i.secret))
                .header("X-OpenRosa-Version", "1.0"),
        )
        .await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(list.header("x-openrosa-version"), Some("1.0"));
    assert!(list.text.contains("<formID>aidflow_checkpoint</formID>"));
    assert!(list.text.contains(&format!(
        "{}{base}/forms/aidflow_checkpoint.xml</downloadUrl>",
        app.address
    )));
    let form = app
        .send(
            app.client
                .get(app.url(&format!("{base}/forms/aidflow_checkpoint.xml")))
                .basic_auth(&i.name, Some(&i.secret)),
        )
        .await;
    assert_eq!(form.status, 200);
    assert!(form
        .text
        .contains(r#"<data id="aidflow_checkpoint" version="2026120101">"#));

    // Collect's HEAD first: without credentials a challenge, with them the size it may send.
    let challenge = app
        .send(app.client.head(app.url(&format!("{base}/submission"))))
        .await;
    assert_eq!(challenge.status, 401);
    assert!(challenge
        .header("www-authenticate")
        .unwrap()
        .starts_with("Basic realm=\"aidflow intake kornidzor-odk\""));
    let head = app
        .send(
            app.client
                .head(app.url(&format!("{base}/submission")))
                .basic_auth(&i.name, Some(&i.secret))
                .header("X-OpenRosa-Version", "1.0"),
        )
        .await;
    assert_eq!(head.status, 204);
    assert_eq!(head.header("x-openrosa-version"), Some("1.0"));
    assert!(
        head.header("x-openrosa-accept-content-length")
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 1_000_000
    );

    let (content_type, body) = multipart(&instance_xml(
        "ICRC-K-5",
        "uuid:cccccccc-0000-4000-8000-000000000001",
    ));
    let post = || {
        app.client
            .post(app.url(&format!("{base}/submission")))
            .basic_auth(&i.name, Some(&i.secret))
            .header("X-OpenRosa-Version", "1.0")
            .header("Content-Type", content_type.clone())
            .body(body.clone())
    };
    let sent = app.send(post()).await;
    assert_eq!(sent.status, 201, "{}", sent.text);
    assert_eq!(sent.header("content-type"), Some("text/xml; charset=utf-8"));
    assert_eq!(sent.header("x-openrosa-version"), Some("1.0"));
    assert!(sent.text.starts_with(r#"<OpenRosaResponse xmlns="http://openrosa.org/http/response"><message nature="submit_success">"#), "{}", sent.text);
    let again = app.send(post()).await;
    assert_eq!(
        again.status, 201,
        "a form Collect sends again is answered as sent"
    );
    let all = events(&app, &id).await;
    assert_eq!(all.len(), 3, "stored once");
    let e = &all[2];
    assert_eq!(
        (e["kind"].as_str(), e["checkpoint"].as_str()),
        (Some("held"), Some("KORNIDZOR"))
    );
    assert_eq!(e["note"], "Stopped for inspection & papers.");
    assert_eq!(
        e["source"]["instance_id"],
        "uuid:cccccccc-0000-4000-8000-000000000001"
    );
    let entries = log(&app, &i).await;
    assert_eq!(
        (entries.len(), entries[0]["channel"].as_str()),
        (1, Some("odk"))
    );
    assert!(
        entries[0]["payload"].as_str().unwrap().starts_with("<?xml"),
        "the instance XML is kept"
    );

    let broken = app
        .send(
            app.client
                .post(app.url(&format!("{base}/submission")))
                .basic_auth(&i.name, Some(&i.secret))
                .header("Content-Type", content_type.clone())
                .body(multipart("<data><convoy_reference>x</data>").1),
        )
        .await;
    assert_eq!(broken.status, 400);
    assert!(broken.text.contains("nature=\"error\""), "{}", broken.text);
}

async fn wrong_credentials_are_401_and_write_nothing(app: TestApp) {
    let i = intake(&app, "kobo", None).await;
    let id = convoy(&app, "ICRC-K-6").await;
    let body = kobo_body(
        "ICRC-K-6",
        "uuid:dddddddd-0000-4000-8000-000000000001",
        "18",
    );
    let url = app.url("/api/v1/intake/kobo/kobo");
    let wrong = [
        app.client.post(&url).json(&body),
        app.client
            .post(&url)
            .basic_auth("kobo", Some("afw_wrong"))
            .json(&body),
        app.client
            .post(&url)
            .basic_auth("someone-else", Some(&i.secret))
            .json(&body),
        app.client
            .post(&url)
            .header("X-Aidflow-Intake-Secret", "nope")
            .json(&body),
        app.client
            .post(&url)
            .bearer_auth(&app.admin_token)
            .json(&body),
        app.client
            .post(app.url("/api/v1/intake/kobo/no-such-intake"))
            .basic_auth("no-such-intake", Some(&i.secret))
            .json(&body),
    ];
    for req in wrong {
        let reply = app.send(req).await;
        assert_eq!(reply.status, 401, "{}", reply.text);
        assert!(reply
            .header("www-authenticate")
            .unwrap()
            .starts_with("Basic realm="));
    }
    let (ct, mp) = multipart(&instance_xml(
        "ICRC-K-6",
        "uuid:dddddddd-0000-4000-8000-000000000002",
    ));
    let odk = app
        .send(
            app.client
                .post(app.url("/intake/odk/kobo/submission"))
                .basic_auth("kobo", Some("wrong"))
                .header("Content-Type", ct)
                .body(mp),
        )
        .await;
    assert_eq!(odk.status, 401);
    assert_eq!(odk.header("x-openrosa-version"), Some("1.0"));
    assert_eq!(events(&app, &id).await.len(), 2, "nothing was written");
    assert!(log(&app, &i).await.is_empty(), "nothing was logged");
    // The header secret is the other way in.
    let by_header = app
        .send(
            app.client
                .post(&url)
                .header("X-Aidflow-Intake-Secret", &i.secret)
                .json(&body),
        )
        .await;
    assert_eq!(by_header.status, 201, "{}", by_header.text);
}

async fn another_form_maps_its_own_field_names(app: TestApp) {
    let mapping = json!({"convoy_reference": "trip/ref", "kind": "trip/what", "checkpoint": "trip/where",
        "observed_at": "trip/when", "cargo": "goods", "commodity": "goods/item", "quantity": "goods/amount",
        "unit": "goods/unit", "reason": "goods/why", "note": "remarks"});
    let i = intake(&app, "partner-form", Some(mapping)).await;
    let id = convoy(&app, "ICRC-K-7").await;
    let body = json!({"trip/ref": "ICRC-K-7", "trip/what": "cleared", "trip/where": "KORNIDZOR",
        "trip/when": "2023-09-18T09:30:00+04:00", "goods": [{"goods/item": "food", "goods/amount": "19500", "goods/unit": "kg", "goods/why": "spoiled"}],
        "remarks": "partner form", "meta/instanceID": "uuid:eeeeeeee-0000-4000-8000-000000000001"});
    let reply = push(&app, &i, &body).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let all = events(&app, &id).await;
    assert_eq!(all[2]["cargo"][0]["tonnes"], "19.500");
    assert_eq!(all[2]["note"], "partner form");
    // A submission of the shipped form does not fit this mapping: kept, with the fields named.
    let shipped = push(
        &app,
        &i,
        &kobo_body(
            "ICRC-K-7",
            "uuid:eeeeeeee-0000-4000-8000-000000000002",
            "18",
        ),
    )
    .await;
    assert_eq!(shipped.status, 202);
    let reason = shipped.json()["reason"].as_str().unwrap().to_string();
    assert!(
        reason.contains("trip/ref") && reason.contains("trip/when"),
        "{reason}"
    );
}

async fn intakes_are_admin_only_and_their_secrets_are_shown_once(app: TestApp) {
    let editor = app.token("editor", Some("icrc")).await;
    let refused = app
        .post_as(
            &editor,
            "/api/v1/intakes",
            &json!({"name": "x", "organization": "icrc"}),
        )
        .await;
    assert_eq!(refused.status, 403);
    let i = intake(&app, "kobo", None).await;
    assert!(i.secret.starts_with("afw_"));
    let listed = app.get("/api/v1/intakes").await;
    assert!(!listed.text.contains(&i.secret), "secrets are never listed");
    assert_eq!(listed.json()[0]["odk_url"], "/intake/odk/kobo");
    let taken = app
        .post(
            "/api/v1/intakes",
            &json!({"name": "kobo", "organization": "icrc"}),
        )
        .await;
    assert_eq!(taken.status, 409, "{}", taken.text);
    let bad = app
        .post(
            "/api/v1/intakes",
            &json!({"name": "Kobo Intake", "organization": "nobody", "mapping": {"kind": ""}}),
        )
        .await;
    assert_eq!(bad.status, 422);
    let fields = bad.error_fields();
    assert!(
        fields.contains(&"name".to_string()) && fields.contains(&"mapping.kind".to_string()),
        "{fields:?}"
    );
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("kobo:{}", i.secret));
    let as_intake = app
        .send(
            app.client
                .get(app.url("/api/v1/intakes"))
                .header("Authorization", format!("Basic {basic}")),
        )
        .await;
    assert_eq!(as_intake.status, 401, "an intake's secret is no API token");
}
