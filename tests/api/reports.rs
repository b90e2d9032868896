//! Requirements, weekly reports in every format, ISO weeks, and publication.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::api_test;
use crate::helpers::{spawn_app_with, TestApp};

api_test!(
    requirements_are_created_listed_and_validated,
    weekly_report_json_has_exact_figures_for_a_known_week,
    weekly_report_csv_hxl_and_html_carry_the_same_figures,
    hxl_long_form_has_one_row_per_route_organization_and_commodity,
    hxl_long_form_of_a_revision_is_frozen_and_old_revisions_say_they_have_none,
    deliveries_count_in_the_local_week_they_were_observed,
    iso_years_with_53_weeks_and_the_week_of_1_january,
    publishing_freezes_a_snapshot_and_late_data_makes_revision_2,
    the_scheduler_publishes_the_previous_week_once_after_monday_0600,
    concurrent_publications_make_one_revision,
);

/// Week 30 of 2023 (24–30 July, Asia/Yerevan): 400 t/day needed on the Lachin route;
/// the 360 t convoy held at KORNIDZOR; an ICRC convoy of 100 t flour, 20 t denied at
/// HAKARI and 80 t delivered on 25 July.
async fn scenario(app: &TestApp) -> (String, String) {
    app.post_ok("/api/v1/requirements", json!({"route": "lachin", "commodity": null, "from": "2023-07-01", "to": "2023-09-30", "tonnes_per_day": "400"})).await;
    let a = app.post_ok("/api/v1/convoys", json!({"organization": "arm-gov", "reference": "AM-2023-07-26", "route": "lachin",
        "planned_departure": "2023-07-26T08:00:00+04:00", "expected_arrival": "2023-07-26T20:00:00+04:00", "trucks": 19,
        "manifest": [{"commodity": "flour", "tonnes": "300"}, {"commodity": "food", "tonnes": "60"}]})).await;
    let a = a["id"].as_str().unwrap().to_string();
    app.post_ok(&format!("/api/v1/convoys/{a}/events"), json!({"kind": "held", "checkpoint": "KORNIDZOR", "observed_at": "2023-07-26T11:00:00+04:00"})).await;
    let b = app.post_ok("/api/v1/convoys", json!({"organization": "icrc", "reference": "ICRC-2023-07-25", "route": "lachin",
        "planned_departure": "2023-07-25T08:00:00+04:00", "expected_arrival": "2023-07-25T16:00:00+04:00",
        "manifest": [{"commodity": "flour", "tonnes": "100"}]})).await;
    let b = b["id"].as_str().unwrap().to_string();
    app.post_ok(&format!("/api/v1/convoys/{b}/events"), json!({"kind": "cleared", "checkpoint": "HAKARI", "observed_at": "2023-07-25T10:00:00+04:00",
        "cargo": [{"commodity": "flour", "tonnes": "80", "reason": "denied_at_checkpoint"}]})).await;
    app.post_ok(
        &format!("/api/v1/convoys/{b}/events"),
        json!({"kind": "delivered", "observed_at": "2023-07-25T15:00:00+04:00"}),
    )
    .await;
    (a, b)
}

async fn requirements_are_created_listed_and_validated(app: TestApp) {
    let body = json!({"id": "4e000000-0000-4000-8000-000000000001", "route": "lachin", "commodity": null, "from": "2023-07-01", "to": "2023-09-30", "tonnes_per_day": "400"});
    let first = app.post("/api/v1/requirements", &body).await;
    assert_eq!(first.status, 201, "{}", first.text);
    assert_eq!(first.json()["tonnes_per_day"], "400.000");
    assert_eq!(first.json()["from"], "2023-07-01");
    assert_eq!(app.post("/api/v1/requirements", &body).await.status, 200);
    let list = app.get("/api/v1/requirements?route=lachin").await.json();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let bad = app.post("/api/v1/requirements", &json!({"route": "moon", "commodity": "caviar", "from": "2023-09-30", "to": "2023-07-01", "tonnes_per_day": "-4"})).await;
    bad.problem(422);
    assert_eq!(
        bad.error_fields(),
        ["route", "commodity", "to", "tonnes_per_day"]
    );
    let viewer = app.token("viewer", None).await;
    app.post_as(&viewer, "/api/v1/requirements", &body)
        .await
        .problem(403);
}

async fn weekly_report_json_has_exact_figures_for_a_known_week(app: TestApp) {
    scenario(&app).await;
    let reply = app.get("/api/v1/reports/weekly/2023-W30").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(reply
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    let r = reply.json();
    assert_eq!(r["week"], "2023-W30");
    assert_eq!(
        (r["starts"].as_str(), r["ends"].as_str()),
        (Some("2023-07-24"), Some("2023-07-30"))
    );
    assert_eq!(r["timezone"], "Asia/Yerevan");
    let t = &r["totals"];
    assert_eq!(t["requirement"], "2800.000");
    assert_eq!(t["planned"], "460.000");
    assert_eq!(t["delivered"], "80.000");
    assert_eq!(t["delivered_during_week"], "80.000");
    assert_eq!(t["shortfall_against_plan"], "380.000");
    assert_eq!(t["shortfall_against_requirement"], "2720.000");
    assert_eq!(t["coverage_percent"], "2.9");
    assert_eq!(t["denied"], "20.000");
    assert_eq!(t["outstanding"], "360.000");
    assert_eq!(r["cumulative"]["since"], "2023-07-01");
    assert_eq!(
        r["cumulative"]["requirement"], "12000.000",
        "30 days of July up to the 30th"
    );
    assert_eq!(r["cumulative"]["delivered"], "80.000");
    assert_eq!(
        r["cumulative"]["shortfall_against_requirement"],
        "11920.000"
    );
    let route = &r["by_route"][0];
    assert_eq!(
        (
            route["key"].as_str(),
            route["requirement"].as_str(),
            route["planned"].as_str()
        ),
        (Some("lachin"), Some("2800.000"), Some("460.000"))
    );
    let orgs: Vec<(&str, &str)> = r["by_organization"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["key"].as_str().unwrap(), o["planned"].as_str().unwrap()))
        .collect();
    assert_eq!(orgs, [("arm-gov", "360.000"), ("icrc", "100.000")]);
    let commodities: Vec<(&str, &str)> = r["by_commodity"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["key"].as_str().unwrap(), o["delivered"].as_str().unwrap()))
        .collect();
    assert_eq!(commodities, [("flour", "80.000"), ("food", "0.000")]);
    let checkpoints: Vec<(&str, &str, &str)> = r["by_checkpoint"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["checkpoint"].as_str().unwrap(),
                c["denied"].as_str().unwrap(),
                c["held_now"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        checkpoints,
        [
            ("GORIS", "0.000", "0.000"),
            ("HAKARI", "20.000", "0.000"),
            ("KORNIDZOR", "0.000", "360.000")
        ],
        "GORIS for the 19 trucks that passed it"
    );
    let convoys: Vec<(&str, &str)> = r["convoys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["reference"].as_str().unwrap(),
                c["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        convoys,
        [
            ("ICRC-2023-07-25", "short_delivered"),
            ("AM-2023-07-26", "held")
        ]
    );
    assert_eq!(r["stalled"][0]["reference"], "AM-2023-07-26");
    assert_eq!(r["alerts"], json!([]));
    assert_eq!(r["history"].as_array().unwrap().len(), 12);
    assert_eq!(r["history"][11]["week"], "2023-W30");
    assert_eq!(r["history"][11]["requirement"], "2800.000");
    assert_eq!(r["history"][10]["week"], "2023-W29");
    assert_eq!(r["history"][11]["cumulative_shortfall"], "11920.000");
    assert_eq!(r["summary"], "In week 30, 80 of 460 t planned for the Lachin route arrived; 360 t held at KORNIDZOR since 26 July.");
    let scoped = app
        .get("/api/v1/reports/weekly/2023-W30?organization=icrc")
        .await
        .json();
    assert_eq!(scoped["totals"]["planned"], "100.000");
    assert_eq!(
        scoped["totals"]["requirement"], "0.000",
        "requirements are per route, not per organization"
    );
    app.get("/api/v1/reports/weekly/2023-W99")
        .await
        .problem(422);
    app.get("/api/v1/reports/weekly/2023-W30?format=pdf")
        .await
        .problem(422);
}

async fn weekly_report_csv_hxl_and_html_carry_the_same_figures(app: TestApp) {
    scenario(&app).await;
    let csv = app.get("/api/v1/reports/weekly/2023-W30?format=csv").await;
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let lines: Vec<&str> = csv.text.lines().collect();
    assert_eq!(lines[0], "week,dimension,key,name,origin,destination,requirement_t,planned_t,delivered_t,delivered_during_week_t,shortfall_t,denied_t,lost_t,source,published,logged_t,claimed_t,spread_percent,trucks_planned,convoys_without_planned_trucks,trucks_arrived,convoys_arrived_uncounted,trucks_passed,trucks_held,trucks_turned_back");
    assert!(
        lines[1].starts_with("2023-W30,total,total,"),
        "{}",
        lines[1]
    );
    assert!(
        lines[1].contains(",2800.000,460.000,80.000,80.000,380.000,20.000,0.000"),
        "{}",
        lines[1]
    );
    let negotiated = app
        .send(
            app.client
                .get(app.url("/api/v1/reports/weekly/2023-W30"))
                .bearer_auth(&app.admin_token)
                .header("accept", "text/csv"),
        )
        .await;
    assert_eq!(negotiated.text, csv.text);

    let hxl = app.get("/api/v1/reports/weekly/2023-W30?format=hxl").await;
    assert!(hxl.header("content-type").unwrap().starts_with("text/csv"));
    assert_eq!(
        hxl.header("content-disposition"),
        Some("inline; filename=\"aidflow-2023-W30.hxl.csv\"")
    );
    let lines: Vec<&str> = hxl.text.lines().collect();
    assert_eq!(lines[0], WIDE_HEADER);
    assert_eq!(lines[1], WIDE_TAGS);
    let tags: Vec<&str> = lines[1].split(',').collect();
    for wanted in [
        "#date+start",
        "#org+name",
        "#loc+origin+code",
        "#loc+dest+code",
        "#item+name",
        "#indicator+num+delivered+t",
        "#indicator+num+planned+t",
    ] {
        assert!(tags.contains(&wanted), "{wanted} in {tags:?}");
    }
    assert!(
        !tags.iter().any(|t| t.starts_with("#value")),
        "tonnes are not the monetary #value: {tags:?}"
    );
    assert!(
        lines[2].contains(
            ",2800.000,460.000,80.000,80.000,380.000,20.000,0.000,,,,,,19,1,0,1,,,,2023-07-24,"
        ),
        "{}",
        lines[2]
    );

    let html = app
        .send(
            app.client
                .get(app.url("/api/v1/reports/weekly/2023-W30"))
                .bearer_auth(&app.admin_token)
                .header("accept", "text/html"),
        )
        .await;
    assert!(html
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    assert!(html.text.contains("<svg"), "a server-rendered chart");
    assert!(html.text.contains("In week 30, 80 of 460 t planned for the Lachin route arrived; 360 t held at KORNIDZOR since 26 July."));
    assert!(html.text.contains("2,800 t"), "thousands separators");
    for external in [
        "<script",
        "<link",
        "src=\"http",
        "href=\"http",
        "url(http",
        "@import",
    ] {
        assert!(
            !html.text.contains(external),
            "self-contained, but found {external}"
        );
    }
}

const WIDE_HEADER: &str = "week,dimension,key,name,origin,destination,requirement_t,planned_t,delivered_t,delivered_during_week_t,shortfall_t,denied_t,lost_t,source,published,logged_t,claimed_t,spread_percent,trucks_planned,convoys_without_planned_trucks,trucks_arrived,convoys_arrived_uncounted,trucks_passed,trucks_held,trucks_turned_back,date,org,item";
const WIDE_TAGS: &str = "#meta+week,#meta+dimension,#meta+key,#meta+name,#loc+origin+code,#loc+dest+code,#indicator+num+requirement+t,#indicator+num+planned+t,#indicator+num+delivered+t,#indicator+num+delivered_during_week+t,#indicator+num+shortfall+t,#indicator+num+denied+t,#indicator+num+lost+t,#meta+source,#date+reported,#indicator+num+logged+t,#indicator+num+claimed+t,#indicator+num+spread+pct,#indicator+num+trucks+planned,#indicator+num+convoys+trucks_unplanned,#indicator+num+trucks+arrived,#indicator+num+convoys+trucks_uncounted,#indicator+num+trucks+passed,#indicator+num+trucks+held,#indicator+num+trucks+turned_back,#date+start,#org+name,#item+name";
const LONG_HEADER: &str = "week,date,route,route_name,origin,destination,organization,organization_name,commodity,commodity_name,planned_t,delivered_t,delivered_during_week_t,shortfall_t,denied_t,lost_t";
const LONG_TAGS: &str = "#meta+week,#date+start,#x_route+code,#x_route+name,#loc+origin+code,#loc+dest+code,#org+code,#org+name,#item+code,#item+name,#indicator+num+planned+t,#indicator+num+delivered+t,#indicator+num+delivered_during_week+t,#indicator+num+shortfall+t,#indicator+num+denied+t,#indicator+num+lost+t";

/// The long form of the scenario's week 30: one row per route, organization and
/// commodity, in code order.
fn scenario_long_form() -> String {
    let lachin =
        "2023-W30,2023-07-24,lachin,Lachin corridor (Goris to Stepanakert),GORIS,STEPANAKERT";
    let arm = "arm-gov,Government of the Republic of Armenia";
    let icrc = "icrc,International Committee of the Red Cross";
    [
        LONG_HEADER.to_string(),
        LONG_TAGS.to_string(),
        format!("{lachin},{arm},flour,Wheat flour,300.000,0.000,0.000,300.000,0.000,0.000"),
        format!("{lachin},{arm},food,Food parcels (mixed),60.000,0.000,0.000,60.000,0.000,0.000"),
        format!("{lachin},{icrc},flour,Wheat flour,100.000,80.000,80.000,20.000,20.000,0.000"),
        String::new(),
    ]
    .join("\r\n")
}

/// The sum of one column of tonnes over the data rows of an HXL body, in kilograms.
fn column_kg(body: &str, tag: &str, keep: impl Fn(&[&str]) -> bool) -> i64 {
    let mut lines = body.lines();
    let _header = lines.next();
    let tags: Vec<&str> = lines.next().unwrap().split(',').collect();
    let at = tags.iter().position(|t| *t == tag).expect(tag);
    lines
        .map(|l| l.split(',').collect::<Vec<&str>>())
        .filter(|cells| keep(cells))
        .map(|cells| {
            let text = cells[at].replace('.', "");
            text.parse::<i64>().unwrap_or(0)
        })
        .sum()
}

async fn hxl_long_form_has_one_row_per_route_organization_and_commodity(app: TestApp) {
    scenario(&app).await;
    let long = app
        .get("/api/v1/reports/weekly/2023-W30?format=hxl-long")
        .await;
    assert_eq!(long.status, 200, "{}", long.text);
    assert!(long.header("content-type").unwrap().starts_with("text/csv"));
    assert_eq!(
        long.header("content-disposition"),
        Some("inline; filename=\"aidflow-2023-W30.long.hxl.csv\"")
    );
    assert_eq!(long.text, scenario_long_form());

    // Summing the long form counts nothing twice: every figure adds up to the wide
    // export's total row.
    let wide = app
        .get("/api/v1/reports/weekly/2023-W30?format=hxl")
        .await
        .text;
    let is_total = |cells: &[&str]| cells[1] == "total";
    for figure in [
        "planned",
        "delivered",
        "delivered_during_week",
        "shortfall",
        "denied",
        "lost",
    ] {
        let tag = format!("#indicator+num+{figure}+t");
        assert_eq!(
            column_kg(&long.text, &tag, |_| true),
            column_kg(&wide, &tag, is_total),
            "{figure}"
        );
    }
    assert_eq!(
        column_kg(&long.text, "#indicator+num+delivered_during_week+t", |_| {
            true
        }),
        80_000
    );

    // The filters apply as to every format.
    let icrc = app
        .get("/api/v1/reports/weekly/2023-W30?format=hxl-long&organization=icrc")
        .await
        .text;
    let rows: Vec<&str> = icrc.lines().skip(2).collect();
    assert_eq!(
        rows,
        ["2023-W30,2023-07-24,lachin,Lachin corridor (Goris to Stepanakert),GORIS,STEPANAKERT,icrc,International Committee of the Red Cross,flour,Wheat flour,100.000,80.000,80.000,20.000,20.000,0.000"]
    );
    // A week without convoys has the header and the hashtags, and no row.
    let empty = app
        .get("/api/v1/reports/weekly/2023-W20?format=hxl-long")
        .await
        .text;
    assert_eq!(empty, format!("{LONG_HEADER}\r\n{LONG_TAGS}\r\n"));
    let bad = app
        .get("/api/v1/reports/weekly/2023-W30?format=hxl_long")
        .await;
    let problem = bad.problem(422);
    assert_eq!(bad.error_fields(), ["format"]);
    assert!(
        problem
            .to_string()
            .contains("use json, csv, hxl, hxl-long or html"),
        "{problem}"
    );
}

async fn hxl_long_form_of_a_revision_is_frozen_and_old_revisions_say_they_have_none(app: TestApp) {
    let (held, _) = scenario(&app).await;
    let first = app
        .post("/api/v1/reports/weekly/2023-W30/publish", &json!({}))
        .await;
    assert_eq!(first.status, 201, "{}", first.text);
    app.post_ok(
        &format!("/api/v1/convoys/{held}/events"),
        json!({"kind": "delivered", "observed_at": "2023-07-29T18:00:00+04:00"}),
    )
    .await;
    let rev1 = app
        .get("/api/v1/reports/weekly/2023-W30?revision=1&format=hxl-long")
        .await;
    assert_eq!(rev1.status, 200, "{}", rev1.text);
    assert_eq!(rev1.text, scenario_long_form(), "the figures as published");
    assert_eq!(
        rev1.header("content-disposition"),
        Some("inline; filename=\"aidflow-2023-W30-r1.long.hxl.csv\"")
    );
    assert_eq!(rev1.header("x-aidflow-revision"), Some("1"));
    let live = app
        .get("/api/v1/reports/weekly/2023-W30?format=hxl-long")
        .await
        .text;
    assert!(
        live.contains(",arm-gov,Government of the Republic of Armenia,flour,Wheat flour,300.000,300.000,300.000,0.000,0.000,0.000"),
        "{live}"
    );

    // A revision published before reports kept their route × organization × commodity
    // lines: its stored model has no such field.
    app.state
        .db(|c| {
            let snap = aidflow::store::reports::snapshot(c, "2023-W30", 1)?.unwrap();
            let mut model: Value = serde_json::from_str(&snap.model).unwrap();
            model
                .as_object_mut()
                .unwrap()
                .remove("by_route_organization_commodity")
                .unwrap();
            let sql = format!(
                "UPDATE report_snapshots SET model = '{}' WHERE week = '2023-W30' AND revision = 1",
                model.to_string().replace('\'', "''")
            );
            use diesel::RunQueryDsl;
            diesel::sql_query(sql).execute(c).unwrap();
            Ok(())
        })
        .await
        .unwrap();
    let old = app
        .get("/api/v1/reports/weekly/2023-W30?revision=1&format=hxl-long")
        .await;
    let problem = old.problem(404);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("revision 1 of 2023-W30 was published before reports kept their figures by route, organization and commodity"),
        "{problem}"
    );
    let wide = app
        .get("/api/v1/reports/weekly/2023-W30?revision=1&format=hxl")
        .await;
    assert_eq!(wide.status, 200, "its other formats still render");
    assert!(wide.text.contains(
        ",2800.000,460.000,80.000,80.000,380.000,20.000,0.000,,,,,,19,1,0,1,,,,2023-07-24,"
    ));

    // A revision published before reports counted trucks: its model has no truck
    // fields. Its JSON is its stored bytes, still matching its SHA-256, and its other
    // formats leave the truck cells empty (not 0: nothing was counted).
    app.state
        .db(|c| {
            let snap = aidflow::store::reports::snapshot(c, "2023-W30", 1)?.unwrap();
            let mut model: Value = serde_json::from_str(&snap.model).unwrap();
            model.as_object_mut().unwrap().remove("trucks").unwrap();
            for list in ["by_route", "by_checkpoint"] {
                for row in model[list].as_array_mut().unwrap() {
                    row.as_object_mut().unwrap().remove("trucks").unwrap();
                }
            }
            let sql = format!(
                "UPDATE report_snapshots SET model = '{}' WHERE week = '2023-W30' AND revision = 1",
                model.to_string().replace('\'', "''")
            );
            use diesel::RunQueryDsl;
            diesel::sql_query(sql).execute(c).unwrap();
            Ok(())
        })
        .await
        .unwrap();
    let json = app
        .get("/api/v1/reports/weekly/2023-W30?revision=1&format=json")
        .await;
    assert_eq!(
        Some(sha(&json.text).as_str()),
        json.header("x-aidflow-sha256")
    );
    let csv = app
        .get("/api/v1/reports/weekly/2023-W30?revision=1&format=csv")
        .await;
    assert_eq!(csv.status, 200, "{}", csv.text);
    let total = csv.text.lines().nth(1).unwrap();
    assert!(
        total.ends_with(",2800.000,460.000,80.000,80.000,380.000,20.000,0.000,,,,,,,,,,,,"),
        "{total}"
    );
}

async fn deliveries_count_in_the_local_week_they_were_observed(app: TestApp) {
    let c = app.post_ok("/api/v1/convoys", json!({"organization": "icrc", "reference": "MID", "route": "lachin",
        "planned_departure": "2023-07-30T08:00:00+04:00", "expected_arrival": "2023-07-30T23:00:00+04:00",
        "manifest": [{"commodity": "flour", "tonnes": "10"}, {"commodity": "salt", "tonnes": "1"}]})).await;
    let id = c["id"].as_str().unwrap().to_string();
    // 23:59 on Sunday in Yerevan is week 30; one minute later, Monday 00:00, is week 31.
    app.post_ok(&format!("/api/v1/convoys/{id}/events"), json!({"kind": "delivered", "observed_at": "2023-07-30T23:59:00+04:00", "cargo": [{"commodity": "flour", "tonnes": "4"}, {"commodity": "salt", "tonnes": "0"}]})).await;
    app.post_ok(
        &format!("/api/v1/convoys/{id}/events"),
        json!({"kind": "delivered", "observed_at": "2023-07-31T00:00:00+04:00"}),
    )
    .await;
    let w30 = app.get("/api/v1/reports/weekly/2023-W30").await.json();
    let w31 = app.get("/api/v1/reports/weekly/2023-W31").await.json();
    assert_eq!(w30["totals"]["delivered_during_week"], "4.000");
    assert_eq!(w31["totals"]["delivered_during_week"], "7.000");
    assert_eq!(w30["totals"]["planned"], "11.000");
    assert_eq!(
        w30["totals"]["delivered"], "11.000",
        "the convoy's own week counts all it delivered"
    );
    assert_eq!(w31["totals"]["planned"], "0.000");

    // The same events in a deployment on UTC: Monday 00:00 in Yerevan is Sunday 20:00 UTC.
    let utc = spawn_app_with(app.backend, &[("app.timezone", "UTC")])
        .await
        .expect("second app");
    let c = utc.post_ok("/api/v1/convoys", json!({"organization": "icrc", "reference": "MID", "route": "lachin",
        "planned_departure": "2023-07-30T08:00:00+04:00", "expected_arrival": "2023-07-30T23:00:00+04:00",
        "manifest": [{"commodity": "flour", "tonnes": "10"}, {"commodity": "salt", "tonnes": "1"}]})).await;
    let id = c["id"].as_str().unwrap().to_string();
    utc.post_ok(&format!("/api/v1/convoys/{id}/events"), json!({"kind": "delivered", "observed_at": "2023-07-30T23:59:00+04:00", "cargo": [{"commodity": "flour", "tonnes": "4"}, {"commodity": "salt", "tonnes": "0"}]})).await;
    utc.post_ok(
        &format!("/api/v1/convoys/{id}/events"),
        json!({"kind": "delivered", "observed_at": "2023-07-31T00:00:00+04:00"}),
    )
    .await;
    let w30 = utc.get("/api/v1/reports/weekly/2023-W30").await.json();
    assert_eq!(w30["timezone"], "UTC");
    assert_eq!(w30["totals"]["delivered_during_week"], "11.000");
    let w31 = utc.get("/api/v1/reports/weekly/2023-W31").await.json();
    assert_eq!(w31["totals"]["delivered_during_week"], "0.000");
}

async fn iso_years_with_53_weeks_and_the_week_of_1_january(app: TestApp) {
    app.post_ok("/api/v1/requirements", json!({"route": "aghdam", "from": "2020-12-01", "to": "2021-01-31", "tonnes_per_day": "10"})).await;
    // 1 January 2021 is a Friday of 2020-W53.
    app.post_ok("/api/v1/convoys", json!({"organization": "rus-red-cross", "reference": "NY", "route": "aghdam",
        "planned_departure": "2021-01-01T08:00:00+04:00", "expected_arrival": "2021-01-01T12:00:00+04:00",
        "manifest": [{"commodity": "food", "tonnes": "15"}]})).await;
    let w53 = app.get("/api/v1/reports/weekly/2020-W53").await.json();
    assert_eq!(
        (w53["starts"].as_str(), w53["ends"].as_str()),
        (Some("2020-12-28"), Some("2021-01-03"))
    );
    assert_eq!(w53["totals"]["planned"], "15.000");
    assert_eq!(w53["totals"]["requirement"], "70.000");
    assert_eq!(w53["history"][10]["week"], "2020-W52");
    let next = app.get("/api/v1/reports/weekly/2021-W01").await.json();
    assert_eq!(next["starts"], "2021-01-04");
    assert_eq!(next["totals"]["planned"], "0.000");
    assert_eq!(next["history"][10]["week"], "2020-W53");
    let bad = app.get("/api/v1/reports/weekly/2021-W53").await;
    bad.problem(422);
    assert_eq!(bad.error_fields(), ["week"]);
    // 1 January 2023 is a Sunday: it belongs to 2022-W52.
    app.post_ok("/api/v1/convoys", json!({"organization": "rus-red-cross", "reference": "NY23", "route": "aghdam",
        "planned_departure": "2023-01-01T08:00:00+04:00", "expected_arrival": "2023-01-01T12:00:00+04:00",
        "manifest": [{"commodity": "food", "tonnes": "5"}]})).await;
    assert_eq!(
        app.get("/api/v1/reports/weekly/2022-W52").await.json()["totals"]["planned"],
        "5.000"
    );
    assert_eq!(
        app.get("/api/v1/reports/weekly/2023-W01").await.json()["totals"]["planned"],
        "0.000"
    );
}

fn sha(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

async fn publishing_freezes_a_snapshot_and_late_data_makes_revision_2(app: TestApp) {
    let (held, _) = scenario(&app).await;
    let first = app
        .post("/api/v1/reports/weekly/2023-W30/publish", &json!({}))
        .await;
    assert_eq!(first.status, 201, "{}", first.text);
    let rev1 = first.json();
    assert_eq!(rev1["revision"], 1);
    let again = app
        .post("/api/v1/reports/weekly/2023-W30/publish", &json!({}))
        .await;
    assert_eq!(again.status, 200, "unchanged figures: no new revision");
    assert_eq!(again.json()["sha256"], rev1["sha256"]);
    let body1 = app.get("/api/v1/reports/weekly/2023-W30?revision=1").await;
    assert_eq!(body1.header("x-aidflow-sha256"), rev1["sha256"].as_str());
    assert_eq!(
        sha(&body1.text),
        rev1["sha256"].as_str().unwrap(),
        "the hash is of the served bytes"
    );
    assert_eq!(body1.json()["totals"]["delivered_during_week"], "80.000");

    // Late data: the held convoy's cargo turns out to have arrived on 29 July.
    app.post_ok(
        &format!("/api/v1/convoys/{held}/events"),
        json!({"kind": "delivered", "observed_at": "2023-07-29T18:00:00+04:00"}),
    )
    .await;
    let now: DateTime<Utc> = "2023-08-02T10:00:00Z".parse().unwrap();
    aidflow::jobs::run_once(&app.state, now).await;
    let list = app.get("/api/v1/reports/weekly").await.json();
    let week = list
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["week"] == "2023-W30")
        .unwrap();
    let revisions = week["revisions"].as_array().unwrap();
    assert_eq!(revisions.len(), 2, "{list}");
    assert_ne!(revisions[1]["sha256"], revisions[0]["sha256"]);
    let body2 = app.get("/api/v1/reports/weekly/2023-W30?revision=2").await;
    assert_eq!(body2.json()["totals"]["delivered_during_week"], "440.000");
    assert_eq!(sha(&body2.text), revisions[1]["sha256"].as_str().unwrap());
    let reread1 = app.get("/api/v1/reports/weekly/2023-W30?revision=1").await;
    assert_eq!(
        reread1.text, body1.text,
        "revision 1 reads exactly as before"
    );
    let html1 = app
        .get("/api/v1/reports/weekly/2023-W30?revision=1&format=html")
        .await;
    assert!(
        html1.text.contains("In week 30, 80 of 460 t planned"),
        "snapshots render in every format"
    );
    app.get("/api/v1/reports/weekly/2023-W30?revision=3")
        .await
        .problem(404);
    let published = aidflow_outbox(&app, "report.published").await;
    assert_eq!(published, 2, "one report.published record per revision");
}

async fn aidflow_outbox(app: &TestApp, kind: &'static str) -> usize {
    app.state
        .db(move |c| Ok(aidflow::store::webhooks::outbox_of_type(c, kind)?))
        .await
        .unwrap()
        .len()
}

async fn the_scheduler_publishes_the_previous_week_once_after_monday_0600(app: TestApp) {
    scenario(&app).await;
    // Monday 31 July 2023, 05:59 in Yerevan: not yet.
    aidflow::jobs::run_once(&app.state, "2023-07-31T01:59:00Z".parse().unwrap()).await;
    assert_eq!(app.get("/api/v1/reports/weekly").await.json(), json!([]));
    // 06:00: week 30 is published, once.
    aidflow::jobs::run_once(&app.state, "2023-07-31T02:00:00Z".parse().unwrap()).await;
    aidflow::jobs::run_once(&app.state, "2023-07-31T03:00:00Z".parse().unwrap()).await;
    let list = app.get("/api/v1/reports/weekly").await.json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["week"], "2023-W30");
    assert_eq!(list[0]["revisions"].as_array().unwrap().len(), 1);
    assert_eq!(list[0]["revisions"][0]["published_by"], "scheduler");
}

async fn concurrent_publications_make_one_revision(app: TestApp) {
    scenario(&app).await;
    let empty = json!({});
    let sends = (0..6).map(|_| app.post("/api/v1/reports/weekly/2023-W30/publish", &empty));
    let replies = futures_util::future::join_all(sends).await;
    let created = replies.iter().filter(|r| r.status == 201).count();
    let unchanged = replies.iter().filter(|r| r.status == 200).count();
    assert_eq!(
        (created, unchanged),
        (1, 5),
        "{:?}",
        replies
            .iter()
            .map(|r| (r.status, r.text.clone()))
            .collect::<Vec<_>>()
    );
    let list = app.get("/api/v1/reports/weekly").await.json();
    assert_eq!(list[0]["revisions"].as_array().unwrap().len(), 1);
}
