//! Trucks counted at checkpoints beside the tonnes: given on events (POST, sync, CSV),
//! carried forward along the route, shown on the convoy and in the weekly report.

use serde_json::{json, Value};

use crate::api_test;
use crate::convoys::{convoy, create_convoy, event, ok_event, CONVOY};
use crate::helpers::TestApp;
use crate::helpers::{sql, stored};

api_test!(
    truck_counts_are_stored_and_carried_forward_per_checkpoint,
    truck_counts_out_of_range_or_above_the_convoys_trucks_are_422_naming_the_field,
    sync_and_csv_import_carry_truck_counts,
    the_weekly_report_counts_trucks_planned_and_arrived_by_route_and_checkpoint,
    the_weekly_report_csv_hxl_html_and_week_page_show_the_trucks,
    the_weekly_report_counts_the_same_from_kept_steps_or_from_the_events,
);

/// (checkpoint, arrived, passed, held, turned_back) per checkpoint.
fn steps(c: &Value) -> Vec<(String, Value, Value, Value, Value)> {
    c["trucks_by_checkpoint"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["checkpoint"].as_str().unwrap().to_string(),
                s["arrived"].clone(),
                s["passed"].clone(),
                s["held"].clone(),
                s["turned_back"].clone(),
            )
        })
        .collect()
}

fn row(cp: &str, a: Value, p: Value, h: Value, t: Value) -> (String, Value, Value, Value, Value) {
    (cp.to_string(), a, p, h, t)
}

async fn truck_counts_are_stored_and_carried_forward_per_checkpoint(app: TestApp) {
    create_convoy(&app).await;
    let n = Value::Null;
    let c = convoy(&app).await;
    assert_eq!(c["trucks"], 19);
    assert_eq!(c["trucks_arrived"], n);
    ok_event(
        &app,
        json!({"kind": "departed", "observed_at": "2023-07-26T08:10:00+04:00"}),
    )
    .await;
    let held = ok_event(&app, json!({"kind": "held", "checkpoint": "KORNIDZOR", "observed_at": "2023-07-26T11:00:00+04:00",
        "trucks_passed": 3, "trucks_held": 16})).await;
    assert_eq!(
        (&held["trucks_passed"], &held["trucks_held"]),
        (&json!(3), &json!(16))
    );
    assert!(
        held.get("trucks_turned_back").is_none(),
        "absent when not given: {held}"
    );
    // A clearance without counts keeps the 3; two of them are turned back at HAKARI.
    ok_event(&app, json!({"kind": "cleared", "checkpoint": "KORNIDZOR", "observed_at": "2023-07-26T12:00:00+04:00"})).await;
    ok_event(&app, json!({"kind": "turned_back", "checkpoint": "HAKARI", "observed_at": "2023-07-26T13:00:00+04:00",
        "trucks_turned_back": 3})).await;
    let c = convoy(&app).await;
    assert_eq!(
        steps(&c),
        vec![
            row("GORIS", json!(19), json!(19), n.clone(), n.clone()),
            row("KORNIDZOR", json!(19), json!(3), json!(16), n.clone()),
            row("HAKARI", json!(3), n.clone(), n.clone(), json!(3)),
            row("SHUSHA", n.clone(), n.clone(), n.clone(), n.clone()),
            row("STEPANAKERT", n.clone(), n.clone(), n.clone(), n.clone()),
        ]
    );
    assert_eq!(c["trucks_arrived"], n);
    let events = app
        .get(&format!("/api/v1/convoys/{CONVOY}/events"))
        .await
        .json();
    assert_eq!(events[1]["trucks_held"], 16);
    assert_eq!(events[3]["trucks_turned_back"], 3);

    // The same body again is a replay, with or without the counts in another order.
    let body = json!({"id": "e0000000-0000-4000-8000-0000000000b1", "kind": "arrived", "checkpoint": "STEPANAKERT",
        "observed_at": "2023-07-27T13:00:00+04:00", "trucks_passed": 1});
    let second = app.post("/api/v1/convoys", &json!({
        "id": "5a0c0b1e-2023-4726-8000-0000000007b1", "organization": "arm-gov", "reference": "AM-T", "route": "lachin",
        "planned_departure": "2023-07-26T08:00:00+04:00", "trucks": 4,
        "manifest": [{"commodity": "flour", "tonnes": "40"}]})).await;
    assert_eq!(second.status, 201, "{}", second.text);
    let path = "/api/v1/convoys/5a0c0b1e-2023-4726-8000-0000000007b1/events";
    assert_eq!(app.post(path, &body).await.status, 201);
    assert_eq!(app.post(path, &body).await.status, 200);
    let mut changed = body.clone();
    changed["trucks_passed"] = json!(2);
    app.post(path, &changed).await.problem(409);
    let done = app.post(path, &json!({"kind": "delivered", "observed_at": "2023-07-27T14:00:00+04:00", "trucks_passed": 4})).await;
    assert_eq!(done.status, 201, "{}", done.text);
    let c = app
        .get("/api/v1/convoys/5a0c0b1e-2023-4726-8000-0000000007b1")
        .await
        .json();
    assert_eq!(c["trucks_arrived"], 4);
    assert_eq!(
        c["trucks_by_checkpoint"][4],
        json!({"checkpoint": "STEPANAKERT", "arrived": 4, "passed": 4, "held": null, "turned_back": null})
    );
}

async fn truck_counts_out_of_range_or_above_the_convoys_trucks_are_422_naming_the_field(
    app: TestApp,
) {
    create_convoy(&app).await;
    let bad = event(&app, json!({"kind": "held", "checkpoint": "KORNIDZOR", "observed_at": "2023-07-26T11:00:00+04:00",
        "trucks_passed": 20, "trucks_held": -1, "trucks_turned_back": 1001})).await;
    let p = bad.problem(422);
    assert_eq!(
        bad.error_fields(),
        ["trucks_passed", "trucks_held", "trucks_turned_back"],
        "{p}"
    );
    let messages: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        messages,
        [
            "20 is more than the convoy's 19 trucks; correct the count, or the convoy's trucks",
            "must be a whole number of trucks from 0 to 1000",
            "must be a whole number of trucks from 0 to 1000",
        ]
    );
    let fraction = event(&app, json!({"kind": "cleared", "observed_at": "2023-07-26T11:00:00+04:00", "trucks_passed": 2.5})).await;
    fraction.problem(422);
    assert_eq!(fraction.error_fields(), ["trucks_passed"]);
    let text = event(&app, json!({"kind": "cleared", "observed_at": "2023-07-26T11:00:00+04:00", "trucks_passed": "2"})).await;
    text.problem(422);
    assert_eq!(text.error_fields(), ["trucks_passed"]);
    let closed = event(
        &app,
        json!({"kind": "closed", "observed_at": "2023-07-26T11:00:00+04:00", "trucks_held": 2}),
    )
    .await;
    closed.problem(422);
    assert_eq!(closed.error_fields(), ["trucks_held"]);
    assert_eq!(
        convoy(&app).await["events"],
        json!([]),
        "nothing was recorded"
    );
}

async fn sync_and_csv_import_carry_truck_counts(app: TestApp) {
    let id = "c0000000-0000-4000-8000-0000000000c1";
    let batch = json!({
        "convoys": [{"id": id, "organization": "icrc", "reference": "ICRC-T", "route": "lachin", "trucks": 2,
            "planned_departure": "2023-09-18T08:00:00+04:00", "manifest": [{"commodity": "flour", "tonnes": "23"}]}],
        "events": [
            {"id": "e0000000-0000-4000-8000-0000000000c1", "convoy": id, "kind": "held", "checkpoint": "HAKARI",
             "observed_at": "2023-09-18T10:00:00+04:00", "trucks_held": 1, "trucks_passed": 1},
            {"id": "e0000000-0000-4000-8000-0000000000c2", "convoy": id, "kind": "cleared", "checkpoint": "SHUSHA",
             "observed_at": "2023-09-18T11:00:00+04:00", "trucks_passed": 3}
        ]
    });
    let r = app.post("/api/v1/sync", &batch).await.json();
    assert_eq!(r["events"][0]["status"], "created", "{r}");
    assert_eq!(r["events"][1]["http_status"], 422);
    assert_eq!(
        r["events"][1]["error"]["errors"][0]["field"],
        "trucks_passed"
    );
    let csv = "convoy,kind,checkpoint,observed_at,trucks_passed\n\
        c0000000-0000-4000-8000-0000000000c1,delivered,,2023-09-18T13:00:00+04:00,1\n";
    let reply = app
        .send(
            app.client
                .post(app.url("/api/v1/imports/events"))
                .bearer_auth(&app.admin_token)
                .header("content-type", "text/csv")
                .body(csv),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let c = app.get(&format!("/api/v1/convoys/{id}")).await.json();
    assert_eq!(c["trucks_arrived"], 1);
    assert_eq!(
        c["trucks_by_checkpoint"][2],
        json!({"checkpoint": "HAKARI", "arrived": 2, "passed": 1, "held": 1, "turned_back": null})
    );
    let bad = "convoy,kind,observed_at,trucks_held\nc0000000-0000-4000-8000-0000000000c1,held,2023-09-18T12:00:00+04:00,two\n";
    let reply = app
        .send(
            app.client
                .post(app.url("/api/v1/imports/events"))
                .bearer_auth(&app.admin_token)
                .header("content-type", "text/csv")
                .body(bad),
        )
        .await;
    let p = reply.problem(422);
    assert!(p.to_string().contains("trucks_held"), "{p}");
}

/// Week 30 of 2023 with trucks:
/// - AM-2023-07-26 (Lachin, 19 trucks): 3 let through KORNIDZOR, 16 held there, the 3
///   delivered. A clearance logged with 1 truck is corrected to 3 (the wrong one is
///   observed later, so only the voiding keeps it out);
/// - ICRC-AGHDAM (Aghdam road, 4 trucks): held at ASKERAN, 3 held and 1 turned back;
/// - ICRC-NOPLAN (Lachin, no planned number): delivered, no count given;
/// - AM-CANCELLED (Lachin, 5 trucks, due in the week): cancelled, counts for nothing;
/// - AM-NEXT (Lachin, 2 trucks): due the week after.
async fn truck_week(app: &TestApp) {
    create_convoy(app).await;
    ok_event(
        app,
        json!({"kind": "departed", "observed_at": "2023-07-26T08:10:00+04:00"}),
    )
    .await;
    ok_event(app, json!({"kind": "held", "checkpoint": "KORNIDZOR", "observed_at": "2023-07-26T11:00:00+04:00",
        "trucks_passed": 3, "trucks_held": 16})).await;
    let wrong = ok_event(app, json!({"kind": "cleared", "checkpoint": "KORNIDZOR", "observed_at": "2023-07-26T12:30:00+04:00",
        "trucks_passed": 1})).await;
    ok_event(app, json!({"kind": "cleared", "checkpoint": "KORNIDZOR", "observed_at": "2023-07-26T12:00:00+04:00",
        "trucks_passed": 3, "corrects": wrong["id"]})).await;
    ok_event(
        app,
        json!({"kind": "delivered", "observed_at": "2023-07-26T15:00:00+04:00"}),
    )
    .await;

    let convoy = |reference: &str, route: &str, trucks: Value, due: &str| {
        json!({"organization": "icrc", "reference": reference, "route": route, "trucks": trucks,
            "planned_departure": format!("{due}T08:00:00+04:00"), "expected_arrival": format!("{due}T18:00:00+04:00"),
            "manifest": [{"commodity": "flour", "tonnes": "40"}]})
    };
    let events = |c: &Value| format!("/api/v1/convoys/{}/events", c["id"].as_str().unwrap());
    let aghdam = app
        .post_created(
            "/api/v1/convoys",
            convoy("ICRC-AGHDAM", "aghdam", json!(4), "2023-07-27"),
        )
        .await;
    app.post_created(
        &events(&aghdam),
        json!({"kind": "departed", "observed_at": "2023-07-27T08:00:00+04:00"}),
    )
    .await;
    app.post_created(
        &events(&aghdam),
        json!({"kind": "held", "checkpoint": "ASKERAN", "observed_at": "2023-07-27T09:00:00+04:00",
        "trucks_held": 3, "trucks_turned_back": 1}),
    )
    .await;
    let noplan = app
        .post_created(
            "/api/v1/convoys",
            convoy("ICRC-NOPLAN", "lachin", Value::Null, "2023-07-25"),
        )
        .await;
    app.post_created(&events(&noplan), json!({"kind": "cleared", "checkpoint": "HAKARI", "observed_at": "2023-07-25T10:00:00+04:00"})).await;
    app.post_created(
        &events(&noplan),
        json!({"kind": "delivered", "observed_at": "2023-07-25T15:00:00+04:00"}),
    )
    .await;
    let cancelled = app
        .post_created(
            "/api/v1/convoys",
            convoy("AM-CANCELLED", "lachin", json!(5), "2023-07-28"),
        )
        .await;
    app.post_created(
        &events(&cancelled),
        json!({"kind": "cancelled", "observed_at": "2023-07-27T08:00:00+04:00"}),
    )
    .await;
    let next = app
        .post_created(
            "/api/v1/convoys",
            convoy("AM-NEXT", "lachin", json!(2), "2023-08-01"),
        )
        .await;
    app.post_created(
        &events(&next),
        json!({"kind": "departed", "observed_at": "2023-08-01T08:00:00+04:00"}),
    )
    .await;
}

/// The truck fields of a totals or route object.
fn tally(v: &Value) -> [Value; 4] {
    [
        v["trucks_planned"].clone(),
        v["convoys_without_planned_trucks"].clone(),
        v["trucks_arrived"].clone(),
        v["convoys_arrived_uncounted"].clone(),
    ]
}

/// (checkpoint, arrived, passed, held, turned back) of each `by_checkpoint` row.
fn at_checkpoints(r: &Value) -> Vec<(String, i64, i64, i64, i64)> {
    r["by_checkpoint"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let n = |k: &str| c[k].as_i64().unwrap_or_else(|| panic!("{k} in {c}"));
            (
                c["checkpoint"].as_str().unwrap().to_string(),
                n("trucks_arrived"),
                n("trucks_passed"),
                n("trucks_held"),
                n("trucks_turned_back"),
            )
        })
        .collect()
}

async fn the_weekly_report_counts_trucks_planned_and_arrived_by_route_and_checkpoint(app: TestApp) {
    truck_week(&app).await;
    let reply = app.get("/api/v1/reports/weekly/2023-W30").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let r = reply.json();
    // 19 + 4 planned (the cancelled convoy's 5 and next week's 2 are not counted), and
    // one convoy without a planned number; 3 arrived, and that convoy's arrival uncounted.
    assert_eq!(
        tally(&r["totals"]),
        [json!(23), json!(1), json!(3), json!(1)]
    );
    let routes: Vec<(&str, [Value; 4])> = r["by_route"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["key"].as_str().unwrap(), tally(b)))
        .collect();
    assert_eq!(
        routes,
        [
            ("aghdam", [json!(4), json!(0), json!(0), json!(0)]),
            ("lachin", [json!(19), json!(1), json!(3), json!(1)]),
        ]
    );
    assert_eq!(
        r["by_organization"][0].get("trucks_planned"),
        None,
        "trucks by route and checkpoint, not by organization"
    );
    let cp = |code: &str, a, p, h, t| (code.to_string(), a, p, h, t);
    assert_eq!(
        at_checkpoints(&r),
        [
            cp("AGHDAM", 4, 4, 0, 0),
            cp("ASKERAN", 4, 0, 3, 1),
            cp("GORIS", 19, 19, 0, 0),
            cp("HAKARI", 3, 3, 0, 0),
            cp("KORNIDZOR", 19, 3, 16, 0),
            cp("SHUSHA", 3, 3, 0, 0),
            cp("STEPANAKERT", 3, 3, 0, 0),
        ]
    );
    let askeran = &r["by_checkpoint"][1];
    assert_eq!(
        (&askeran["denied"], &askeran["held_now"]),
        (&json!("0.000"), &json!("40.000")),
        "the tonnes beside the trucks"
    );

    // The week after counts its own convoy only.
    let next = app.get("/api/v1/reports/weekly/2023-W31").await.json();
    assert_eq!(
        tally(&next["totals"]),
        [json!(2), json!(0), json!(0), json!(0)]
    );
    assert_eq!(at_checkpoints(&next), [cp("GORIS", 2, 2, 0, 0)]);
    // Scoped to an organization, only its convoys.
    let icrc = app
        .get("/api/v1/reports/weekly/2023-W30?organization=icrc")
        .await
        .json();
    assert_eq!(
        tally(&icrc["totals"]),
        [json!(4), json!(1), json!(0), json!(1)]
    );
}

/// The report's truck figures, whole: totals, routes and checkpoints.
async fn week_truck_figures(app: &TestApp) -> Value {
    let reply = app.get("/api/v1/reports/weekly/2023-W30").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let r = reply.json();
    json!({
        "totals": tally(&r["totals"]),
        "routes": r["by_route"].as_array().unwrap().iter().map(tally).collect::<Vec<_>>(),
        "checkpoints": r["by_checkpoint"],
    })
}

/// The write path keeps each convoy's trucks along its route on its row, and the report
/// reads them there; a convoy without them (stored before that column, or with a value
/// that does not fit its route) is counted from its events, to the same figures.
async fn the_weekly_report_counts_the_same_from_kept_steps_or_from_the_events(app: TestApp) {
    truck_week(&app).await;
    let kept = stored(
        &app,
        format!("SELECT truck_steps AS v FROM convoys WHERE id = '{CONVOY}'"),
    )
    .await;
    assert_eq!(
        kept,
        "[[19,19,null,null,true],[19,3,16,null,true],[3,3,null,null,true],[3,3,null,null,true],[3,3,null,null,true]]",
        "GORIS, KORNIDZOR, HAKARI, SHUSHA, STEPANAKERT after the corrected clearance"
    );
    let from_kept = week_truck_figures(&app).await;
    assert_eq!(from_kept["totals"], json!([23, 1, 3, 1]), "{from_kept}");

    sql(&app, vec!["UPDATE convoys SET truck_steps = NULL".into()]).await;
    assert_eq!(week_truck_figures(&app).await, from_kept, "from the events");
    // Starting (as `aidflow serve` and `aidflow migrate` do) keeps them again.
    let second = app.second_instance();
    assert_eq!(week_truck_figures(&second).await, from_kept);
    let filled = stored(
        &app,
        format!("SELECT truck_steps AS v FROM convoys WHERE id = '{CONVOY}'"),
    )
    .await;
    assert_eq!(filled, kept, "the same events give the same steps");
    let missing = stored(
        &app,
        "SELECT CAST(COUNT(*) AS TEXT) AS v FROM convoys WHERE truck_steps IS NULL".into(),
    )
    .await;
    assert_eq!(missing, "0");
    sql(
        &app,
        vec!["UPDATE convoys SET truck_steps = '[[1,1,null,null,true]]'".into()],
    )
    .await;
    assert_eq!(
        week_truck_figures(&app).await,
        from_kept,
        "a kept value of another route's length is not read"
    );

    // The next event keeps its convoy's steps again (AM-NEXT, departed, now at KORNIDZOR).
    let next = stored(
        &app,
        "SELECT id AS v FROM convoys WHERE reference = 'AM-NEXT'".into(),
    )
    .await;
    app.post_created(
        &format!("/api/v1/convoys/{next}/events"),
        json!({"kind": "arrived", "checkpoint": "KORNIDZOR", "observed_at": "2023-08-01T09:00:00+04:00"}),
    )
    .await;
    let again = stored(
        &app,
        format!("SELECT truck_steps AS v FROM convoys WHERE id = '{next}'"),
    )
    .await;
    assert_eq!(
        again,
        "[[2,2,null,null,true],[2,null,null,null,false],[null,null,null,null,false],[null,null,null,null,false],[null,null,null,null,false]]"
    );
    assert_eq!(week_truck_figures(&app).await, from_kept);
}

async fn the_weekly_report_csv_hxl_html_and_week_page_show_the_trucks(app: TestApp) {
    truck_week(&app).await;
    // CSV: the last seven columns are the trucks, on total, route and checkpoint rows.
    let csv = app.get("/api/v1/reports/weekly/2023-W30?format=csv").await;
    assert_eq!(csv.status, 200, "{}", csv.text);
    let mut lines = csv.text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(
        header[18..],
        [
            "trucks_planned",
            "convoys_without_planned_trucks",
            "trucks_arrived",
            "convoys_arrived_uncounted",
            "trucks_passed",
            "trucks_held",
            "trucks_turned_back"
        ]
    );
    let trucks: Vec<String> = lines
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            format!("{} {} {}", cells[1], cells[2], cells[18..].join(","))
        })
        .collect();
    assert_eq!(
        trucks,
        [
            "total total 23,1,3,1,,,",
            "route aghdam 4,0,0,0,,,",
            "route lachin 19,1,3,1,,,",
            "organization arm-gov ,,,,,,",
            "organization icrc ,,,,,,",
            "commodity flour ,,,,,,",
            "commodity food ,,,,,,",
            "checkpoint AGHDAM ,,4,,4,0,0",
            "checkpoint ASKERAN ,,4,,0,3,1",
            "checkpoint GORIS ,,19,,19,0,0",
            "checkpoint HAKARI ,,3,,3,0,0",
            "checkpoint KORNIDZOR ,,19,,3,16,0",
            "checkpoint SHUSHA ,,3,,3,0,0",
            "checkpoint STEPANAKERT ,,3,,3,0,0",
            "convoy ICRC-NOPLAN ,,,,,,",
            "convoy AM-2023-07-26 ,,,,,,",
            "convoy ICRC-AGHDAM ,,,,,,",
            "convoy AM-CANCELLED ,,,,,,",
        ]
    );

    // HXL: the same columns, tagged; the long form has no truck column.
    let hxl = app
        .get("/api/v1/reports/weekly/2023-W30?format=hxl")
        .await
        .text;
    let tags: Vec<&str> = hxl.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(
        tags[18..25],
        [
            "#indicator+num+trucks+planned",
            "#indicator+num+convoys+trucks_unplanned",
            "#indicator+num+trucks+arrived",
            "#indicator+num+convoys+trucks_uncounted",
            "#indicator+num+trucks+passed",
            "#indicator+num+trucks+held",
            "#indicator+num+trucks+turned_back"
        ]
    );
    assert!(hxl
        .lines()
        .any(|l| l.starts_with("2023-W30,checkpoint,KORNIDZOR,")
            && l.ends_with(",,,19,,3,16,0,2023-07-24,,")));
    let long = app
        .get("/api/v1/reports/weekly/2023-W30?format=hxl-long")
        .await
        .text;
    assert!(!long.contains("truck"), "{long}");

    // The printable page.
    let html = app
        .get("/api/v1/reports/weekly/2023-W30?format=html")
        .await
        .text;
    for shown in [
        "<tr><th scope=\"row\">Trucks planned</th><td class=\"num\">23 (and 1 convoy without a number)</td></tr>",
        "<tr><th scope=\"row\">Trucks arrived, to date</th><td class=\"num\">3 (and 1 convoy not counted)</td></tr>",
        "<td class=\"num\">19<span class=\"key\">1 convoy without a number</span></td><td class=\"num\">3<span class=\"key\">1 convoy not counted</span></td></tr>",
        "<td class=\"num\">19</td><td class=\"num\">3</td><td class=\"num\">16</td><td class=\"num\">0</td></tr>",
    ] {
        assert!(html.contains(shown), "{shown}: {html}");
    }

    // The browser's week page.
    let browser = crate::web::sign_in(&app, &app.admin_token).await;
    let page = browser.get("/reports/weekly/2023-W30").await;
    assert_eq!(page.status, 200, "{}", page.text);
    for shown in [
        r#"<dt>Trucks planned</dt><dd data-figure="trucks_planned">23 (convoys without a planned number: 1)</dd>"#,
        r#"<dt>Trucks arrived</dt><dd data-figure="trucks_arrived">3 (convoys arrived, not counted: 1)</dd>"#,
        r#"<td class="num" data-figure="trucks_planned">4</td><td class="num" data-figure="trucks_arrived">0</td></tr>"#,
        r#"<td class="num" data-figure="trucks_planned">19 (convoys without a planned number: 1)</td><td class="num" data-figure="trucks_arrived">3 (convoys arrived, not counted: 1)</td></tr>"#,
        r#"<tr data-checkpoint="ASKERAN"><td>ASKERAN</td><td class="num">0.000 t</td><td class="num">0.000 t</td><td class="num">40.000 t</td><td class="num">4</td><td class="num">0</td><td class="num">3</td><td class="num">1</td></tr>"#,
    ] {
        assert!(page.text.contains(shown), "{shown}: {}", page.text);
    }
}
