//! Claims: what sources published about a convoy, beside the logged figures — created
//! idempotently by whoever may write the convoy, validated field by field, compared with
//! the ledger (the Lachin 360 / 400 / 361 t are 11.1 % apart), listed in the weekly
//! report, and never changing the ledger's figures.

use serde_json::{json, Value};

use crate::api_test;
use crate::helpers::{spawn_app_with, TestApp};

api_test!(
    a_claim_is_created_replayed_and_a_changed_body_is_a_conflict,
    who_may_write_a_claim_is_who_may_write_the_convoy,
    each_invalid_field_of_a_claim_is_named,
    the_lachin_figures_are_eleven_percent_apart_and_disputed,
    the_threshold_is_a_setting,
    claims_never_change_the_ledger_figures,
    the_weekly_report_lists_the_disputed_convoy_in_every_format,
    a_claim_about_a_published_week_makes_a_new_revision,
);

/// The Armenian government convoy of 26 July 2023, held at KORNIDZOR with 360 t: due
/// in week 2023-W30.
async fn july_convoy(app: &TestApp) -> String {
    let c = app.post_ok("/api/v1/convoys", json!({"organization": "arm-gov", "reference": "AM-2023-07-26", "route": "lachin",
        "planned_departure": "2023-07-26T08:00:00+04:00", "expected_arrival": "2023-07-26T20:00:00+04:00", "trucks": 19,
        "manifest": [{"commodity": "flour", "tonnes": "300"}, {"commodity": "food", "tonnes": "60"}]})).await;
    let id = c["id"].as_str().unwrap().to_string();
    app.post_ok(&format!("/api/v1/convoys/{id}/events"), json!({"kind": "departed", "checkpoint": "GORIS", "observed_at": "2023-07-26T08:30:00+04:00"})).await;
    app.post_ok(&format!("/api/v1/convoys/{id}/events"), json!({"kind": "held", "checkpoint": "KORNIDZOR", "observed_at": "2023-07-26T11:00:00+04:00"})).await;
    id
}

fn claim(source: &str, tonnes: &str) -> Value {
    json!({"source": source, "url": "https://example.org/news/1", "published_at": "2023-07-26T12:00:00+04:00",
           "tonnes": tonnes, "trucks": 19, "quote": "19 trucks with humanitarian aid"})
}

/// The three figures published about the July convoy.
async fn lachin_claims(app: &TestApp, convoy: &str) {
    let path = format!("/api/v1/convoys/{convoy}/claims");
    for (source, tonnes, at) in [
        (
            "Prime Minister, via ArmRadio",
            "360",
            "2023-07-26T12:00:00+04:00",
        ),
        ("ArmRadio", "400", "2023-07-26T14:00:00+04:00"),
        ("Hetq", "361", "2023-07-26T18:00:00+04:00"),
    ] {
        let mut body = claim(source, tonnes);
        body["published_at"] = json!(at);
        let reply = app.post(&path, &body).await;
        assert_eq!(reply.status, 201, "{}", reply.text);
    }
}

async fn a_claim_is_created_replayed_and_a_changed_body_is_a_conflict(app: TestApp) {
    let convoy = july_convoy(&app).await;
    let path = format!("/api/v1/convoys/{convoy}/claims");
    let mut body = claim("ArmRadio", "400");
    body["id"] = json!("5c000000-0000-4000-8000-000000000001");
    let first = app.post(&path, &body).await;
    assert_eq!(first.status, 201, "{}", first.text);
    assert_eq!(first.header("location"), Some(path.as_str()));
    let c = first.json();
    assert_eq!(c["id"], "5c000000-0000-4000-8000-000000000001");
    assert_eq!(c["convoy"], convoy.as_str());
    assert_eq!(c["source"], "ArmRadio");
    assert_eq!(c["url"], "https://example.org/news/1");
    assert_eq!(c["published_at"], "2023-07-26T12:00:00+04:00");
    assert_eq!(
        (&c["tonnes"], &c["quantity"], &c["unit"]),
        (&json!("400.000"), &json!("400"), &json!("t"))
    );
    assert_eq!(c["trucks"], 19);
    assert_eq!(c["quote"], "19 trucks with humanitarian aid");

    // The same request again: the stored claim, counted once.
    let again = app.post(&path, &body).await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.json(), c);
    let listed = app.get(&path).await.json();
    assert_eq!(listed["claims"].as_array().unwrap().len(), 1);
    assert_eq!(listed["claims"][0], c);

    // The same id with another body, or on another convoy's path: 409.
    let mut changed = body.clone();
    changed["tonnes"] = json!("401");
    let conflict = app.post(&path, &changed).await.problem(409);
    assert!(conflict["detail"].as_str().unwrap().contains(
        "claim 5c000000-0000-4000-8000-000000000001 already exists with a different body"
    ));
    let other = app.post_ok("/api/v1/convoys", json!({"organization": "icrc", "reference": "ICRC-1", "route": "lachin",
        "planned_departure": "2023-07-25T08:00:00+04:00", "manifest": [{"commodity": "flour", "tonnes": "10"}]})).await;
    let other = other["id"].as_str().unwrap();
    app.post(&format!("/api/v1/convoys/{other}/claims"), &body)
        .await
        .problem(409);
    assert_eq!(
        app.get(&path).await.json()["claims"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // A claim without an id is a new claim each time; the id must be a UUID.
    let mut bad_id = claim("Hetq", "361");
    bad_id["id"] = json!("not-a-uuid");
    let reply = app.post(&path, &bad_id).await;
    reply.problem(422);
    assert_eq!(reply.error_fields(), vec!["id"]);

    // An unknown convoy is a 404.
    app.post(
        "/api/v1/convoys/00000000-0000-4000-8000-000000000000/claims",
        &claim("Hetq", "361"),
    )
    .await
    .problem(404);
    app.get("/api/v1/convoys/00000000-0000-4000-8000-000000000000/claims")
        .await
        .problem(404);
}

async fn who_may_write_a_claim_is_who_may_write_the_convoy(app: TestApp) {
    let convoy = july_convoy(&app).await;
    let path = format!("/api/v1/convoys/{convoy}/claims");
    let viewer = app.token("viewer", None).await;
    let icrc = app.token("editor", Some("icrc")).await;
    let arm = app.token("editor", Some("arm-gov")).await;
    // Who may write is answered before the body is looked at.
    let invalid = json!({"source": "", "published_at": "soon", "tonnes": "-1"});
    for (token, body) in [
        (&viewer, claim("ArmRadio", "400")),
        (&viewer, invalid.clone()),
        (&icrc, claim("ArmRadio", "400")),
        (&icrc, invalid.clone()),
    ] {
        app.post_as(token, &path, &body).await.problem(403);
    }
    let own = app.post_as(&arm, &path, &claim("ArmRadio", "400")).await;
    assert_eq!(own.status, 201, "{}", own.text);
    assert_eq!(own.json()["created_by"], "editor-token");
    let admin = app.post(&path, &claim("Hetq", "361")).await;
    assert_eq!(admin.status, 201, "{}", admin.text);
    // An editor of the convoy's organization still gets field errors.
    let reply = app.post_as(&arm, &path, &invalid).await;
    reply.problem(422);
    // Reads are corridor-wide.
    let listed = app.get_as(&viewer, &path).await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(listed.json()["claims"].as_array().unwrap().len(), 2);
    assert_eq!(
        app.get_as(&icrc, &format!("/api/v1/convoys/{convoy}"))
            .await
            .json()["claims"]["claims"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

async fn each_invalid_field_of_a_claim_is_named(app: TestApp) {
    let convoy = july_convoy(&app).await;
    let path = format!("/api/v1/convoys/{convoy}/claims");
    let long = |n: usize| "x".repeat(n);
    let url_of = |n: usize| format!("https://example.org/{}", "a".repeat(n - 20));
    let cases: Vec<(&str, Value)> = vec![
        ("source", json!("")),
        ("source", json!("   ")),
        ("source", json!(long(201))),
        ("url", json!("ftp://example.org/file")),
        ("url", json!("example.org/news")),
        ("url", json!("https://")),
        ("url", json!("https://exa mple.org/")),
        ("url", json!("")),
        ("url", json!(" https://example.org/news/1")),
        ("url", json!(url_of(2001))),
        ("published_at", json!("yesterday")),
        ("published_at", json!("2023-07-26T12:00:00")),
        ("published_at", json!("1989-12-31T12:00:00+04:00")),
        ("published_at", json!("2099-01-01T00:00:00Z")),
        ("tonnes", json!("-1")),
        ("tonnes", json!("1.0005")),
        ("tonnes", json!("10000.001")),
        ("tonnes", json!("many")),
        ("tonnes", json!(true)),
        ("trucks", json!(-1)),
        ("trucks", json!(1001)),
        ("quote", json!(long(2001))),
    ];
    for (field, value) in cases {
        let mut body = claim("ArmRadio", "400");
        body[field] = value.clone();
        let reply = app.post(&path, &body).await;
        let problem = reply.problem(422);
        assert_eq!(
            reply.error_fields(),
            vec![field.to_string()],
            "{field} = {value}: {problem}"
        );
    }
    // The bounds themselves are accepted.
    let mut edge = claim(&long(200), "10000");
    edge["url"] = json!(url_of(2000));
    edge["quote"] = json!(long(2000));
    edge["trucks"] = json!(0);
    let ok = app.post(&path, &edge).await;
    assert_eq!(ok.status, 201, "{}", ok.text);
    let zero = app.post(&path, &claim("Hetq", "0")).await;
    assert_eq!(zero.status, 201, "{}", zero.text);
    assert_eq!(zero.json()["tonnes"], "0.000");
    // Every bad field at once; a missing field and an unknown one are named too.
    let all = app
        .post(
            &path,
            &json!({"source": "", "url": "mailto:a@b", "published_at": "x", "tonnes": "-2", "trucks": 5000, "quote": long(3000)}),
        )
        .await;
    all.problem(422);
    assert_eq!(
        all.error_fields(),
        vec!["source", "url", "published_at", "tonnes", "trucks", "quote"]
    );
    let missing = app
        .post(
            &path,
            &json!({"source": "Hetq", "published_at": "2023-07-26T12:00:00+04:00"}),
        )
        .await;
    missing.problem(422);
    assert_eq!(missing.error_fields(), vec!["tonnes"]);
    let mut unknown = claim("Hetq", "361");
    unknown["kg"] = json!(361000);
    let reply = app.post(&path, &unknown).await;
    reply.problem(422);
    assert_eq!(reply.error_fields(), vec!["kg"]);
    let mut control = claim("Hetq\u{0}", "361");
    control["quote"] = json!("fine");
    let reply = app.post(&path, &control).await;
    reply.problem(422);
    assert_eq!(reply.error_fields(), vec!["source"]);
}

async fn the_lachin_figures_are_eleven_percent_apart_and_disputed(app: TestApp) {
    let convoy = july_convoy(&app).await;
    let path = format!("/api/v1/convoys/{convoy}/claims");
    let none = app.get(&path).await.json();
    assert_eq!(
        none,
        json!({"convoy": convoy, "logged_figure": "loaded", "logged": "360.000", "claims": [],
               "lowest": null, "highest": null, "spread_percent": null, "threshold_percent": "2", "disputed": false})
    );
    // One claim within 2 %: 360 against 361 t is 0.3 % apart.
    let mut hetq = claim("Hetq", "361");
    hetq["published_at"] = json!("2023-07-26T18:00:00+04:00");
    app.post_ok(&path, hetq).await;
    let one = app.get(&path).await.json();
    assert_eq!(
        (
            &one["spread_percent"],
            &one["disputed"],
            &one["lowest"],
            &one["highest"]
        ),
        (
            &json!("0.3"),
            &json!(false),
            &json!("360.000"),
            &json!("361.000")
        )
    );
    // The other two: (400 − 360) / 360 = 11.1 %.
    for (source, tonnes, at) in [
        ("ArmRadio", "400", "2023-07-26T14:00:00+04:00"),
        (
            "Prime Minister, via ArmRadio",
            "360",
            "2023-07-26T12:00:00+04:00",
        ),
    ] {
        let mut body = claim(source, tonnes);
        body["published_at"] = json!(at);
        app.post_ok(&path, body).await;
    }
    let all = app.get(&path).await.json();
    assert_eq!(all["logged_figure"], "loaded");
    assert_eq!(all["logged"], "360.000");
    assert_eq!(all["lowest"], "360.000");
    assert_eq!(all["highest"], "400.000");
    assert_eq!(all["spread_percent"], "11.1");
    assert_eq!(all["threshold_percent"], "2");
    assert_eq!(all["disputed"], true);
    let listed: Vec<(&str, &str)> = all["claims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["source"].as_str().unwrap(), c["tonnes"].as_str().unwrap()))
        .collect();
    assert_eq!(
        listed,
        vec![
            ("Prime Minister, via ArmRadio", "360.000"),
            ("ArmRadio", "400.000"),
            ("Hetq", "361.000")
        ],
        "by publication time"
    );
    // The convoy's own answer carries the same claims.
    let convoy_json = app.get(&format!("/api/v1/convoys/{convoy}")).await.json();
    assert_eq!(convoy_json["claims"], all);

    // Before departure the claims are compared to the planned figure.
    let planned = app.post_ok("/api/v1/convoys", json!({"organization": "fr-gov", "reference": "FR-1", "route": "lachin",
        "planned_departure": "2023-08-05T08:00:00+04:00", "manifest": [{"commodity": "food", "tonnes": "20"}]})).await;
    let planned = planned["id"].as_str().unwrap();
    app.post_ok(
        &format!("/api/v1/convoys/{planned}/claims"),
        claim("Le Monde", "21"),
    )
    .await;
    let fr = app
        .get(&format!("/api/v1/convoys/{planned}/claims"))
        .await
        .json();
    assert_eq!(
        (
            &fr["logged_figure"],
            &fr["logged"],
            &fr["spread_percent"],
            &fr["disputed"]
        ),
        (
            &json!("planned"),
            &json!("20.000"),
            &json!("5.0"),
            &json!(true)
        )
    );
}

async fn the_threshold_is_a_setting(app: TestApp) {
    let wide = spawn_app_with(app.backend, &[("claims.dispute_percent", "12.5")])
        .await
        .expect("second app");
    let convoy = july_convoy(&wide).await;
    lachin_claims(&wide, &convoy).await;
    let c = wide
        .get(&format!("/api/v1/convoys/{convoy}/claims"))
        .await
        .json();
    assert_eq!(
        (
            &c["spread_percent"],
            &c["threshold_percent"],
            &c["disputed"]
        ),
        (&json!("11.1"), &json!("12.5"), &json!(false))
    );
    let report = wide.get("/api/v1/reports/weekly/2023-W30").await.json();
    assert_eq!(report["disputed"], json!([]));
    // A threshold that is not a percentage with at most two decimals stops start-up.
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config");
    for bad in ["2.005", "-1", "1001", "two"] {
        let err = aidflow::config::Settings::load_from(
            &dir,
            Some("test"),
            &[("claims.dispute_percent", bad)],
        )
        .unwrap_err();
        assert!(
            format!("{err:#}")
                .contains("setting claims.dispute_percent (AIDFLOW__CLAIMS__DISPUTE_PERCENT)"),
            "{bad}: {err:#}"
        );
    }
}

/// The convoy's answer without its claims, the week's report without its disputed list,
/// and the shortfall summary: every figure the ledger gives.
async fn ledger_figures(app: &TestApp, convoy: &str) -> (Value, Value, Value) {
    let mut c = app.get(&format!("/api/v1/convoys/{convoy}")).await.json();
    c.as_object_mut().unwrap().remove("claims");
    let mut r = app.get("/api/v1/reports/weekly/2023-W30").await.json();
    r.as_object_mut().unwrap().remove("disputed");
    let s = app
        .get("/api/v1/shortfalls?from=2023-07-01&to=2023-07-31&group_by=convoy")
        .await;
    assert_eq!(s.status, 200, "{}", s.text);
    (c, r, s.json())
}

async fn claims_never_change_the_ledger_figures(app: TestApp) {
    let convoy = july_convoy(&app).await;
    let before = ledger_figures(&app, &convoy).await;
    let csv_before = app
        .get("/api/v1/reports/weekly/2023-W30?format=csv")
        .await
        .text;
    lachin_claims(&app, &convoy).await;
    let after = ledger_figures(&app, &convoy).await;
    assert_eq!(after, before);
    assert_eq!(after.0["totals"]["planned"], "360.000");
    assert_eq!(after.0["totals"]["loaded"], "360.000");
    assert_eq!(after.0["outstanding"], "360.000");
    assert_eq!(after.1["totals"]["planned"], "360.000");
    // The CSV's ledger rows are the same; the claims only add rows of their own.
    let csv_after = app
        .get("/api/v1/reports/weekly/2023-W30?format=csv")
        .await
        .text;
    let ledger_rows = |csv: &str| -> Vec<String> {
        csv.lines()
            .filter(|l| !l.contains(",disputed,") && !l.contains(",claim,"))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(ledger_rows(&csv_after), ledger_rows(&csv_before));
    assert_ne!(csv_after, csv_before);
}

async fn the_weekly_report_lists_the_disputed_convoy_in_every_format(app: TestApp) {
    let convoy = july_convoy(&app).await;
    // A convoy of the same week with claims that agree is not listed.
    let icrc = app.post_ok("/api/v1/convoys", json!({"organization": "icrc", "reference": "ICRC-2023-07-25", "route": "lachin",
        "planned_departure": "2023-07-25T08:00:00+04:00", "expected_arrival": "2023-07-25T16:00:00+04:00",
        "manifest": [{"commodity": "flour", "tonnes": "100"}]})).await;
    let icrc = icrc["id"].as_str().unwrap();
    app.post_ok(
        &format!("/api/v1/convoys/{icrc}/claims"),
        claim("ICRC", "100"),
    )
    .await;
    lachin_claims(&app, &convoy).await;

    let r = app.get("/api/v1/reports/weekly/2023-W30").await.json();
    let disputed = r["disputed"].as_array().unwrap();
    assert_eq!(disputed.len(), 1, "{}", r["disputed"]);
    let d = &disputed[0];
    assert_eq!(d["id"], convoy.as_str());
    assert_eq!(d["reference"], "AM-2023-07-26");
    assert_eq!(d["organization"], "arm-gov");
    assert_eq!(d["route"], "lachin");
    assert_eq!(d["logged_figure"], "loaded");
    assert_eq!(d["logged"], "360.000");
    assert_eq!(d["spread_percent"], "11.1");
    assert_eq!(d["threshold_percent"], "2");
    let claims: Vec<(&str, &str, &str)> = d["claims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["source"].as_str().unwrap(),
                c["tonnes"].as_str().unwrap(),
                c["published_at"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        claims,
        vec![
            (
                "Prime Minister, via ArmRadio",
                "360.000",
                "2023-07-26T12:00:00+04:00"
            ),
            ("ArmRadio", "400.000", "2023-07-26T14:00:00+04:00"),
            ("Hetq", "361.000", "2023-07-26T18:00:00+04:00"),
        ]
    );
    // Other weeks list nothing.
    let w31 = app.get("/api/v1/reports/weekly/2023-W31").await.json();
    assert_eq!(w31["disputed"], json!([]));

    let csv = app
        .get("/api/v1/reports/weekly/2023-W30?format=csv")
        .await
        .text
        .replace("\r\n", "\n");
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].ends_with(",lost_t,source,published,logged_t,claimed_t,spread_percent,trucks_planned,convoys_without_planned_trucks,trucks_arrived,convoys_arrived_uncounted,trucks_passed,trucks_held,trucks_turned_back"));
    let tail: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.contains(",disputed,") || l.contains(",claim,"))
        .collect();
    assert_eq!(
        tail,
        vec![
            "2023-W30,disputed,AM-2023-07-26,arm-gov,,,,,,,,,,,,360.000,,11.1,,,,,,,",
            "2023-W30,claim,AM-2023-07-26,arm-gov,,,,,,,,,,\"Prime Minister, via ArmRadio\",2023-07-26,,360.000,,,,,,,,",
            "2023-W30,claim,AM-2023-07-26,arm-gov,,,,,,,,,,ArmRadio,2023-07-26,,400.000,,,,,,,,",
            "2023-W30,claim,AM-2023-07-26,arm-gov,,,,,,,,,,Hetq,2023-07-26,,361.000,,,,,,,,",
        ]
    );
    assert_eq!(lines.last(), tail.last(), "the claims come last");
    // The total row is the ledger's, as before.
    assert!(lines.contains(
        &"2023-W30,total,total,All convoys in scope,,,0.000,460.000,0.000,0.000,460.000,0.000,0.000,,,,,,19,1,0,0,,,"
    ));

    let hxl = app
        .get("/api/v1/reports/weekly/2023-W30?format=hxl")
        .await
        .text;
    let tags = hxl.lines().nth(1).unwrap();
    assert!(tags.contains(",#meta+source,#date+reported,#indicator+num+logged+t,#indicator+num+claimed+t,#indicator+num+spread+pct,"));
    assert!(hxl.contains(
        "2023-W30,disputed,AM-2023-07-26,arm-gov,,,,,,,,,,,,360.000,,11.1,,,,,,,,2023-07-24,"
    ));
    // The tidy long form holds cargo only: no claim is summed with it.
    let long = app
        .get("/api/v1/reports/weekly/2023-W30?format=hxl-long")
        .await
        .text;
    assert!(!long.contains("ArmRadio") && !long.contains("disputed"));

    let html = app
        .get("/api/v1/reports/weekly/2023-W30?format=html")
        .await
        .text;
    let at = html.find("<h2>Disputed figures</h2>").expect("the section");
    let section = &html[at..at + html[at..].find("</section>").unwrap()];
    for shown in [
        "AM-2023-07-26",
        "ArmRadio: 400 t",
        "Hetq: 361 t",
        ">11.1 %<",
    ] {
        assert!(section.contains(shown), "{shown}: {section}");
    }
}

async fn a_claim_about_a_published_week_makes_a_new_revision(app: TestApp) {
    let convoy = july_convoy(&app).await;
    let first = app
        .post("/api/v1/reports/weekly/2023-W30/publish", &json!({}))
        .await;
    assert!(first.status == 200 || first.status == 201, "{}", first.text);
    let r1 = app
        .get("/api/v1/reports/weekly/2023-W30?revision=1")
        .await
        .json();
    assert_eq!(r1["disputed"], json!([]));
    lachin_claims(&app, &convoy).await;
    // The publisher makes revision 2, which lists the disputed convoy; revision 1 stays.
    aidflow::jobs::run_once(&app.state, "2026-01-01T00:00:00Z".parse().unwrap()).await;
    let r2 = app.get("/api/v1/reports/weekly/2023-W30?revision=2").await;
    assert_eq!(r2.status, 200, "{}", r2.text);
    let r2 = r2.json();
    assert_eq!(r2["disputed"][0]["reference"], "AM-2023-07-26");
    assert_eq!(r2["disputed"][0]["spread_percent"], "11.1");
    assert_eq!(
        r2["totals"], r1["totals"],
        "the figures are the ledger's, unchanged"
    );
    let again = app
        .get("/api/v1/reports/weekly/2023-W30?revision=1")
        .await
        .json();
    assert_eq!(again, r1);
}
