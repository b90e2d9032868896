//! The browser app over HTTP, on both backends: sign-in sessions, CSRF and same-origin
//! checks, roles, the pages' figures, languages and assets. The pages in a real browser
//! are tested by tests/browser (Playwright in Chromium).

use serde_json::{json, Value};

use crate::api_test;
use crate::helpers::{Reply, TestApp};

/// The demo's convoy of 26 July 2023, held at KORNIDZOR with 360 t.
const JULY: &str = "23c77e4a-4e96-584c-949f-0eb0f4741fa3";

async fn load_demo(app: &TestApp) {
    app.state.db(aidflow::app::demo::load).await.expect("demo");
}

fn plain_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A browser: a session cookie once signed in, and the page's CSRF token.
pub(crate) struct Browser<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    cookie: String,
}

async fn read(res: reqwest::Response) -> Reply {
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap();
    Reply {
        status,
        headers,
        text,
    }
}

async fn sign_in_reply(app: &TestApp, token: &str, extra: &[(&str, &str)]) -> Reply {
    let mut req = plain_client()
        .post(app.url("/sign-in"))
        .form(&[("token", token), ("next", "/convoys")]);
    if !extra.iter().any(|(k, _)| *k == "Origin") {
        req = req.header("Origin", &app.address);
    }
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    read(req.send().await.unwrap()).await
}

pub(crate) async fn sign_in<'a>(app: &'a TestApp, token: &str) -> Browser<'a> {
    let reply = sign_in_reply(app, token, &[]).await;
    assert_eq!(reply.status, 303, "{}", reply.text);
    let set = reply.header("set-cookie").unwrap().to_string();
    let cookie = set.split(';').next().unwrap().to_string();
    assert!(cookie.starts_with("aidflow_session="), "{set}");
    Browser {
        app,
        client: plain_client(),
        cookie,
    }
}

impl Browser<'_> {
    pub(crate) async fn get(&self, path: &str) -> Reply {
        self.get_with(path, &[]).await
    }

    async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        let mut req = self
            .client
            .get(self.app.url(path))
            .header("Cookie", &self.cookie);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        read(req.send().await.unwrap()).await
    }

    /// The CSRF token of the session, as a page carries it.
    async fn csrf(&self) -> String {
        let page = self.get("/alerts").await;
        assert_eq!(page.status, 200, "{}", page.text);
        let at = page.text.find("name=\"csrf-token\" content=\"").unwrap() + 27;
        page.text[at..at + 64].to_string()
    }

    async fn post_form(
        &self,
        path: &str,
        form: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut req = self
            .client
            .post(self.app.url(path))
            .header("Cookie", &self.cookie)
            .form(form);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        read(req.send().await.unwrap()).await
    }

    async fn post_json(&self, path: &str, body: &Value, headers: &[(&str, &str)]) -> Reply {
        let mut req = self
            .client
            .post(self.app.url(path))
            .header("Cookie", &self.cookie)
            .json(body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        read(req.send().await.unwrap()).await
    }
}

api_test!(
    signing_in_exchanges_a_token_for_an_http_only_strict_session_cookie,
    the_cookie_is_secure_over_https,
    pages_without_a_session_send_people_to_sign_in_and_back,
    revoking_the_token_ends_its_sessions,
    signing_out_ends_the_session,
    form_posts_need_the_same_origin_and_the_sessions_csrf_token,
    a_viewer_sees_no_write_controls_and_its_forged_post_is_403,
    an_editor_acts_only_on_its_own_organizations_alerts,
    the_api_takes_the_session_cookie_and_needs_the_csrf_header_for_writes,
    the_overview_shows_the_held_convoy_and_changes_when_an_event_is_logged,
    the_overview_lists_twenty_convoys_a_status_and_counts_the_rest,
    the_convoy_page_shows_exact_figures_and_voided_events_struck_through,
    a_long_timeline_shows_its_latest_hundred_events_and_links_to_the_rest,
    the_convoy_list_filters_and_searches_by_reference,
    the_week_page_shows_its_figures_downloads_and_what_changed_between_revisions,
    pages_speak_the_browsers_language_and_the_pseudo_locale_shows_every_string_translated,
    assets_are_embedded_with_etags,
    the_convoy_page_lists_the_demo_claims_beside_the_logged_figure_and_flags_them,
);

async fn signing_in_exchanges_a_token_for_an_http_only_strict_session_cookie(app: TestApp) {
    let bad = sign_in_reply(&app, "afw_not-a-token", &[]).await;
    assert_eq!(bad.status, 401);
    assert!(
        bad.text.contains("This token is unknown or revoked"),
        "{}",
        bad.text
    );
    assert!(bad.header("set-cookie").is_none());

    let ok = sign_in_reply(&app, &app.admin_token, &[]).await;
    assert_eq!(ok.status, 303);
    assert_eq!(ok.header("location"), Some("/convoys"));
    let cookie = ok.header("set-cookie").unwrap();
    for part in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(part), "{cookie} lacks {part}");
    }
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP on loopback: {cookie}"
    );
    assert!(
        !cookie.contains(&app.admin_token),
        "the cookie is not the token"
    );

    // A sign-in form sent from another site is refused (login CSRF).
    let forged = sign_in_reply(&app, &app.admin_token, &[("Origin", "http://evil.example")]).await;
    assert_eq!(forged.status, 403);
    assert!(forged.header("set-cookie").is_none());
}

async fn the_cookie_is_secure_over_https(app: TestApp) {
    let behind_proxy =
        sign_in_reply(&app, &app.admin_token, &[("X-Forwarded-Proto", "https")]).await;
    assert_eq!(behind_proxy.status, 303);
    assert!(behind_proxy
        .header("set-cookie")
        .unwrap()
        .contains("Secure"));
}

async fn pages_without_a_session_send_people_to_sign_in_and_back(app: TestApp) {
    for path in [
        "/",
        "/convoys",
        "/alerts",
        "/reports",
        "/field/",
        "/overview/live",
    ] {
        let reply = read(plain_client().get(app.url(path)).send().await.unwrap()).await;
        assert_eq!(reply.status, 303, "{path}");
        let to = reply.header("location").unwrap();
        assert!(to.starts_with("/sign-in?next=%2F"), "{path} → {to}");
    }
    let form = read(
        plain_client()
            .get(app.url("/sign-in?next=/alerts"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(form.status, 200);
    assert!(form
        .text
        .contains(r#"<input id="token" name="token" type="password""#));
    assert!(form.text.contains(r#"name="next" value="/alerts""#));
    // Only paths on this site may follow the sign-in.
    let away = read(
        plain_client()
            .get(app.url("/sign-in?next=//evil.example"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(away.text.contains(r#"name="next" value="/""#));
    // A cookie that stands for no session is the same as none.
    let stale = read(
        plain_client()
            .get(app.url("/"))
            .header("Cookie", "aidflow_session=0000")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(stale.status, 303);
}

async fn revoking_the_token_ends_its_sessions(app: TestApp) {
    let token = app.token("viewer", None).await;
    let browser = sign_in(&app, &token).await;
    assert_eq!(browser.get("/").await.status, 200);
    assert_eq!(browser.get("/api/v1/convoys").await.status, 200);
    let tokens = app.get("/api/v1/tokens").await.json();
    let id = tokens
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["role"] == "viewer")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        app.delete(&format!("/api/v1/tokens/{id}")).await.status,
        200
    );
    assert_eq!(
        browser.get("/").await.status,
        303,
        "the page asks to sign in again"
    );
    let api = browser.get("/api/v1/convoys").await;
    assert_eq!(api.status, 401);
    assert!(api.problem(401)["detail"]
        .as_str()
        .unwrap()
        .contains("sign in again"));
}

async fn signing_out_ends_the_session(app: TestApp) {
    let browser = sign_in(&app, &app.admin_token).await;
    let csrf = browser.csrf().await;
    let origin = app.address.clone();
    let without = browser
        .post_form("/sign-out", &[], &[("Origin", &origin)])
        .await;
    assert_eq!(without.status, 403, "sign-out needs the CSRF token too");
    let out = browser
        .post_form("/sign-out", &[("csrf", &csrf)], &[("Origin", &origin)])
        .await;
    assert_eq!(out.status, 303);
    assert_eq!(out.header("location"), Some("/sign-in"));
    assert!(out
        .header("set-cookie")
        .unwrap()
        .contains("aidflow_session=;"));
    assert_eq!(browser.get("/").await.status, 303);
}

/// The first open alert of the demo (evaluated at a time inside the KORNIDZOR hold).
async fn open_alert(app: &TestApp) -> Value {
    load_demo(app).await;
    let t = app.state.settings.thresholds().unwrap();
    let tz = app.state.tz;
    let now = chrono::DateTime::parse_from_rfc3339("2023-07-27T12:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    app.state
        .db(move |c| aidflow::jobs::alerts::evaluate(c, now, tz, &t))
        .await
        .unwrap();
    let open = app.get("/api/v1/alerts?state=open").await.json();
    open["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["subject"] == JULY)
        .expect("an open alert on the July convoy")
        .clone()
}

async fn form_posts_need_the_same_origin_and_the_sessions_csrf_token(app: TestApp) {
    let alert = open_alert(&app).await;
    let id = alert["id"].as_str().unwrap();
    let path = format!("/alerts/{id}/acknowledge");
    let browser = sign_in(&app, &app.admin_token).await;
    let csrf = browser.csrf().await;
    let origin = app.address.clone();
    let note = [
        ("csrf", csrf.as_str()),
        ("note", "Seen; calling the ICRC liaison"),
    ];

    let no_token = browser
        .post_form(&path, &[("note", "x")], &[("Origin", &origin)])
        .await;
    assert_eq!(no_token.status, 403);
    assert!(
        no_token.text.contains("security token does not match"),
        "{}",
        no_token.text
    );
    let wrong = browser
        .post_form(
            &path,
            &[("csrf", &"0".repeat(64)), ("note", "x")],
            &[("Origin", &origin)],
        )
        .await;
    assert_eq!(wrong.status, 403);
    let cross_site = browser
        .post_form(&path, &note, &[("Origin", "http://evil.example")])
        .await;
    assert_eq!(cross_site.status, 403);
    assert!(cross_site.text.contains("sent from another site"));
    let fetch_site = browser
        .post_form(
            &path,
            &note,
            &[("Origin", &origin), ("Sec-Fetch-Site", "cross-site")],
        )
        .await;
    assert_eq!(fetch_site.status, 403);
    assert_eq!(
        app.get(&format!("/api/v1/alerts/{id}")).await.json()["state"],
        "open",
        "nothing was written"
    );

    let done = browser
        .post_form(&path, &note, &[("Origin", &origin)])
        .await;
    assert_eq!(done.status, 303, "{}", done.text);
    assert_eq!(
        done.header("location"),
        Some(format!("/alerts?state=acknowledged#alert-{id}").as_str())
    );
    let stored = app.get(&format!("/api/v1/alerts/{id}")).await.json();
    assert_eq!(stored["state"], "acknowledged");
    assert_eq!(stored["acknowledge_note"], "Seen; calling the ICRC liaison");
    let page = browser.get("/alerts?state=acknowledged").await;
    assert!(page
        .text
        .contains(&format!(r#"data-alert="{id}" data-state="acknowledged""#)));
    assert!(page.text.contains("Seen; calling the ICRC liaison"));
}

async fn a_viewer_sees_no_write_controls_and_its_forged_post_is_403(app: TestApp) {
    let alert = open_alert(&app).await;
    let id = alert["id"].as_str().unwrap();
    let token = app.token("viewer", None).await;
    let browser = sign_in(&app, &token).await;
    let page = browser.get("/alerts").await;
    assert!(
        page.text.contains(&format!(r#"data-alert="{id}""#)),
        "viewers read alerts"
    );
    assert!(!page.text.contains("class=\"acknowledge\""));
    assert!(!page.text.contains("class=\"resolve\""));
    let csrf = browser.csrf().await;
    let origin = app.address.clone();
    let forged = browser
        .post_form(
            &format!("/alerts/{id}/resolve"),
            &[("csrf", &csrf), ("note", "x")],
            &[("Origin", &origin)],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert!(forged.text.contains("viewer"), "{}", forged.text);
    assert_eq!(
        app.get(&format!("/api/v1/alerts/{id}")).await.json()["state"],
        "open"
    );
}

async fn an_editor_acts_only_on_its_own_organizations_alerts(app: TestApp) {
    let alert = open_alert(&app).await;
    let id = alert["id"].as_str().unwrap();
    let owner = alert["organization"].as_str().unwrap().to_string();
    let other = app.token("editor", Some("icrc")).await;
    assert_ne!(owner, "icrc");
    let browser = sign_in(&app, &other).await;
    let page = browser.get("/alerts").await;
    assert!(!page.text.contains(&format!("/alerts/{id}/acknowledge")));
    let csrf = browser.csrf().await;
    let origin = app.address.clone();
    let refused = browser
        .post_form(
            &format!("/alerts/{id}/acknowledge"),
            &[("csrf", &csrf)],
            &[("Origin", &origin)],
        )
        .await;
    assert_eq!(refused.status, 403);
    let mine = app.token("editor", Some(&owner)).await;
    let browser = sign_in(&app, &mine).await;
    assert!(browser
        .get("/alerts")
        .await
        .text
        .contains(&format!("/alerts/{id}/acknowledge")));
}

async fn the_api_takes_the_session_cookie_and_needs_the_csrf_header_for_writes(app: TestApp) {
    load_demo(&app).await;
    let token = app.token("editor", Some("arm-gov")).await;
    let browser = sign_in(&app, &token).await;
    let read = browser.get(&format!("/api/v1/convoys/{JULY}")).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.json()["outstanding"], "360.000");
    let event = uuid::Uuid::new_v4().to_string();
    let batch = json!({"device": "test phone", "events": [{"id": event, "convoy": JULY, "kind": "cleared",
        "checkpoint": "KORNIDZOR", "observed_at": "2023-09-01T09:00:00+04:00"}]});
    let csrf = browser.csrf().await;
    let origin = app.address.clone();
    let no_header = browser
        .post_json("/api/v1/sync", &batch, &[("Origin", &origin)])
        .await;
    assert_eq!(no_header.status, 403);
    assert!(no_header.problem(403)["detail"]
        .as_str()
        .unwrap()
        .contains("X-CSRF-Token"));
    let elsewhere = browser
        .post_json(
            "/api/v1/sync",
            &batch,
            &[("Origin", "http://evil.example"), ("X-CSRF-Token", &csrf)],
        )
        .await;
    assert_eq!(elsewhere.status, 403);
    let headers = [("Origin", origin.as_str()), ("X-CSRF-Token", csrf.as_str())];
    let sent = browser.post_json("/api/v1/sync", &batch, &headers).await;
    assert_eq!(sent.status, 200, "{}", sent.text);
    assert_eq!(sent.json()["events"][0]["status"], "created");
    let again = browser.post_json("/api/v1/sync", &batch, &headers).await;
    assert_eq!(again.json()["events"][0]["status"], "replayed");
    let events = app
        .get(&format!("/api/v1/convoys/{JULY}/events"))
        .await
        .json();
    let stored = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["id"] == event.as_str())
        .count();
    assert_eq!(stored, 1, "a resent entry is stored once");
    let last = events.as_array().unwrap().last().unwrap();
    assert_eq!(last["recorded_by"], "editor-token", "{last}");
}

async fn the_overview_shows_the_held_convoy_and_changes_when_an_event_is_logged(app: TestApp) {
    load_demo(&app).await;
    let browser = sign_in(&app, &app.admin_token).await;
    let page = browser.get("/").await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let row_at = page
        .text
        .find(&format!(r#"<tr data-convoy="{JULY}" data-status="held">"#))
        .expect("the held convoy's row");
    let row = &page.text[row_at..row_at + page.text[row_at..].find("</tr>").unwrap()];
    for shown in [
        "AM-2023-07-26",
        "held",
        "KORNIDZOR",
        "2023-07-26 11:00 +04:00",
        "360.000 t",
    ] {
        assert!(row.contains(shown), "the row lacks {shown}: {row}");
    }
    assert!(page.text.contains(&format!(
        r#"<g class="convoy held" data-convoy="{JULY}" data-status="held">"#
    )));
    assert!(page
        .text
        .contains(r#"<tr data-checkpoint="KORNIDZOR"><td>KORNIDZOR"#));
    assert!(page.text.contains(r#"id="live" data-refresh-seconds="5""#));

    let cleared = app
        .post(
            &format!("/api/v1/convoys/{JULY}/events"),
            &json!({"kind": "cleared", "checkpoint": "KORNIDZOR", "observed_at": "2023-09-01T09:00:00+04:00"}),
        )
        .await;
    assert_eq!(cleared.status, 201, "{}", cleared.text);
    let live = browser.get("/overview/live").await;
    assert_eq!(live.status, 200);
    assert!(
        !live.text.contains("<html"),
        "the fragment is the figures alone"
    );
    assert!(
        live.text.contains(&format!(
            r#"<tr data-convoy="{JULY}" data-status="in_transit">"#
        )),
        "{}",
        live.text
    );
}

async fn the_overview_lists_twenty_convoys_a_status_and_counts_the_rest(app: TestApp) {
    // 23 convoys of 10 t held at KORNIDZOR, and one of 5 t delivered now.
    for i in 0..24 {
        let id = uuid::Uuid::new_v4().to_string();
        let made = app
            .post(
                "/api/v1/convoys",
                &json!({"id": id, "organization": "icrc", "reference": format!("ICRC-MANY-{i:02}"), "route": "lachin",
                    "planned_departure": "2023-07-01T08:00:00+04:00", "expected_arrival": format!("2023-07-{:02}T14:00:00+04:00", i + 1),
                    "manifest": [{"commodity": "food", "tonnes": if i == 23 { "5" } else { "10" }}]}),
            )
            .await;
        assert_eq!(made.status, 201, "{}", made.text);
        let event = if i == 23 {
            json!({"kind": "delivered", "checkpoint": "STEPANAKERT", "observed_at": chrono::Utc::now().to_rfc3339()})
        } else {
            json!({"kind": "held", "checkpoint": "KORNIDZOR", "observed_at": "2023-07-26T11:00:00+04:00"})
        };
        let logged = app
            .post(&format!("/api/v1/convoys/{id}/events"), &event)
            .await;
        assert_eq!(logged.status, 201, "{}", logged.text);
    }
    let browser = sign_in(&app, &app.admin_token).await;
    let page = browser.get("/").await;
    assert_eq!(page.status, 200);
    let rows = page.text.matches(r#"data-status="held">"#).count();
    assert_eq!(rows, 20 + 4, "20 rows and 4 markers: {}", page.text);
    assert_eq!(
        page.text.matches(r#"<tr data-convoy="#).count(),
        20,
        "only the first 20 held convoys are listed"
    );
    assert!(page.text.contains("ICRC-MANY-00") && page.text.contains("ICRC-MANY-19"));
    assert!(!page.text.contains("ICRC-MANY-20"), "due last, not listed");
    assert!(
        page.text.contains(
            r#"<p class="more" data-more="held"><a href="/convoys?status=held">Listed: 20 of the 23 convoys held. See all of them</a></p>"#
        ),
        "{}",
        page.text
    );
    assert!(
        page.text.contains(">+19 more here</text>"),
        "23 held at KORNIDZOR, 4 drawn"
    );
    assert!(
        page.text.contains(
            r#"<tr data-checkpoint="KORNIDZOR"><td>KORNIDZOR <small>Kornidzor</small></td><td class="num">23</td><td class="num">230.000 t</td></tr>"#
        ),
        "every held convoy counts in the tonnes waiting: {}",
        page.text
    );
    // The week's figures are the weekly report's.
    let week_at = page.text.find(r#"<a href="/reports/weekly/"#).unwrap() + 25;
    let week = &page.text[week_at..week_at + 8];
    let report = app.get(&format!("/api/v1/reports/weekly/{week}")).await;
    assert_eq!(report.status, 200, "{}", report.text);
    let totals = &report.json()["totals"];
    assert_eq!(totals["delivered_during_week"], "5.000");
    assert!(page
        .text
        .contains(r#"<dd data-figure="delivered">5.000 t</dd>"#));
    assert!(page.text.contains(&format!(
        r#"<dd data-figure="requirement">{} t</dd>"#,
        totals["requirement"].as_str().unwrap()
    )));
}

async fn a_long_timeline_shows_its_latest_hundred_events_and_links_to_the_rest(app: TestApp) {
    let convoy = uuid::Uuid::new_v4().to_string();
    let made = app
        .post(
            "/api/v1/convoys",
            &json!({"id": convoy, "organization": "icrc", "reference": "ICRC-LONG-1", "route": "lachin",
                "planned_departure": "2023-07-01T08:00:00+04:00", "expected_arrival": "2023-07-30T14:00:00+04:00",
                "manifest": [{"commodity": "food", "tonnes": "10"}]}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.text);
    let events: Vec<Value> = (0..130)
        .map(|i| {
            json!({"id": uuid::Uuid::new_v4().to_string(), "convoy": convoy, "kind": "held", "checkpoint": "KORNIDZOR",
                "observed_at": format!("2023-07-{:02}T{:02}:00:00+04:00", 2 + i / 24, i % 24)})
        })
        .collect();
    let synced = app.post("/api/v1/sync", &json!({ "events": events })).await;
    assert_eq!(synced.status, 200, "{}", synced.text);
    let created = synced.json()["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["status"] == "created")
        .count();
    assert_eq!(
        created,
        130,
        "{}",
        &synced.text[..synced.text.len().min(600)]
    );
    let browser = sign_in(&app, &app.admin_token).await;
    let shown = |text: &str| -> Vec<i64> {
        text.split("<strong>#")
            .skip(1)
            .map(|s| s.split(' ').next().unwrap().parse().unwrap())
            .collect()
    };

    let latest = browser.get(&format!("/convoys/{convoy}")).await;
    assert_eq!(latest.status, 200);
    assert_eq!(shown(&latest.text), (31..=130).collect::<Vec<i64>>());
    assert!(latest.text.contains(&format!(
        r##"<a rel="prev" href="/convoys/{convoy}?before=31#timeline">Show earlier events (30 before these)</a>"##
    )));
    assert!(
        !latest.text.contains(r#"rel="next""#),
        "nothing after the latest"
    );
    // The figures are the whole ledger's, whichever events are shown.
    assert!(latest
        .text
        .contains(r#"<dd data-figure="outstanding">10.000 t</dd>"#));

    let earliest = browser.get(&format!("/convoys/{convoy}?before=31")).await;
    assert_eq!(earliest.status, 200);
    assert_eq!(shown(&earliest.text), (1..=30).collect::<Vec<i64>>());
    assert!(!earliest.text.contains(r#"rel="prev""#));
    assert!(earliest.text.contains(&format!(
        r##"<a rel="next" href="/convoys/{convoy}#timeline">Show later events (100 after these)</a>"##
    )));
    assert!(earliest
        .text
        .contains(r#"<dd data-figure="outstanding">10.000 t</dd>"#));

    let middle = browser.get(&format!("/convoys/{convoy}?before=120")).await;
    assert_eq!(shown(&middle.text), (20..=119).collect::<Vec<i64>>());
    assert!(middle.text.contains(&format!(
        r##"href="/convoys/{convoy}?before=20#timeline">Show earlier events (19 before these)"##
    )));
    assert!(middle.text.contains(&format!(
        r##"<a rel="next" href="/convoys/{convoy}#timeline">Show later events (11 after these)"##
    )));
    // A `before` that is not a number shows the latest events.
    let edited = browser.get(&format!("/convoys/{convoy}?before=soon")).await;
    assert_eq!(edited.status, 200);
    assert_eq!(shown(&edited.text), (31..=130).collect::<Vec<i64>>());

    // A long convoy's page keeps its events between views; an event written since shows
    // at once, on every page of it, with the figures it changes.
    let delivered = app
        .post(
            &format!("/api/v1/convoys/{convoy}/events"),
            &json!({"kind": "delivered", "checkpoint": "STEPANAKERT", "observed_at": "2023-07-08T10:00:00+04:00"}),
        )
        .await;
    assert_eq!(delivered.status, 201, "{}", delivered.text);
    let after = browser.get(&format!("/convoys/{convoy}")).await;
    assert_eq!(shown(&after.text), (32..=131).collect::<Vec<i64>>());
    for (figure, tonnes) in [("outstanding", "0.000 t"), ("delivered", "10.000 t")] {
        assert!(
            after
                .text
                .contains(&format!(r#"<dd data-figure="{figure}">{tonnes}</dd>"#)),
            "{figure} {tonnes}"
        );
    }
    let earliest = browser.get(&format!("/convoys/{convoy}?before=31")).await;
    assert!(earliest.text.contains(&format!(
        r##"<a rel="next" href="/convoys/{convoy}?before=131#timeline">Show later events (101 after these)</a>"##
    )));
    assert!(earliest
        .text
        .contains(r#"<dd data-figure="delivered">10.000 t</dd>"#));
}

async fn the_convoy_page_shows_exact_figures_and_voided_events_struck_through(app: TestApp) {
    let convoy = uuid::Uuid::new_v4().to_string();
    let made = app
        .post(
            "/api/v1/convoys",
            &json!({"id": convoy, "organization": "icrc", "reference": "ICRC-TEST-1", "route": "lachin",
                "planned_departure": "2023-09-18T08:00:00+04:00", "expected_arrival": "2023-09-18T14:00:00+04:00",
                "manifest": [{"commodity": "food", "tonnes": "1234.5"}, {"commodity": "medical", "quantity": "500", "unit": "kg"}]}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.text);
    let events = format!("/api/v1/convoys/{convoy}/events");
    let wrong = uuid::Uuid::new_v4().to_string();
    for body in [
        json!({"kind": "departed", "checkpoint": "GORIS", "observed_at": "2023-09-18T08:10:00+04:00"}),
        json!({"id": wrong, "kind": "cleared", "checkpoint": "KORNIDZOR", "observed_at": "2023-09-18T09:00:00+04:00",
            "cargo": [{"commodity": "food", "tonnes": "1200", "reason": "damaged"}]}),
        json!({"kind": "cleared", "checkpoint": "KORNIDZOR", "observed_at": "2023-09-18T09:00:00+04:00", "corrects": wrong,
            "cargo": [{"commodity": "food", "tonnes": "1230", "reason": "damaged"}], "note": "misread the scale"}),
    ] {
        let r = app.post(&events, &body).await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let browser = sign_in(&app, &app.admin_token).await;
    let page = browser.get(&format!("/convoys/{convoy}")).await;
    assert_eq!(page.status, 200, "{}", page.text);
    for (figure, tonnes) in [
        ("planned", "1,235.000 t"),
        ("loaded", "1,235.000 t"),
        ("lost", "4.500 t"),
        ("outstanding", "1,230.500 t"),
        ("delivered", "0.000 t"),
    ] {
        assert!(
            page.text
                .contains(&format!(r#"data-figure="{figure}">{tonnes}</dd>"#)),
            "{figure} {tonnes}"
        );
    }
    let voided_at = page
        .text
        .find(&format!(r#"<li data-event="{wrong}" class="voided">"#))
        .expect("the voided event");
    let voided = &page.text[voided_at..voided_at + page.text[voided_at..].find("</li>").unwrap()];
    assert!(voided.contains("<del>"), "{voided}");
    assert!(voided.contains("food: 1,200.000 t (damaged)"), "{voided}");
    assert!(
        voided.contains("misread the scale"),
        "the correction's reason beside it: {voided}"
    );
    assert!(page.text.contains("Corrects event #2"));
    assert!(page
        .text
        .contains(r#"<svg class="waterfall" data-commodity="food""#));
    assert!(
        page.text.contains(r#"<rect class="drop damaged""#),
        "the loss coloured by its reason"
    );
    let missing = browser
        .get(&format!("/convoys/{}", uuid::Uuid::new_v4()))
        .await;
    assert_eq!(missing.status, 404);
    assert!(
        missing
            .header("content-type")
            .unwrap()
            .starts_with("text/html"),
        "a page, not problem+json"
    );
}

async fn the_convoy_list_filters_and_searches_by_reference(app: TestApp) {
    load_demo(&app).await;
    let browser = sign_in(&app, &app.admin_token).await;
    let all = browser.get("/convoys").await;
    let rows = all.text.matches("<tr data-convoy=").count();
    assert!(rows >= 5, "{rows} rows");
    let found = browser.get("/convoys?q=am-2023-07").await;
    assert_eq!(
        found.text.matches("<tr data-convoy=").count(),
        1,
        "{}",
        found.text
    );
    assert!(found
        .text
        .contains(&format!(r#"<tr data-convoy="{JULY}">"#)));
    let held = browser.get("/convoys?status=held&route=lachin").await;
    assert!(held.text.matches("<tr data-convoy=").count() >= 1);
    assert!(!held.text.contains("ICRC-2023-09-18"));
    let literal = browser.get("/convoys?q=%25").await;
    assert_eq!(
        literal.text.matches("<tr data-convoy=").count(),
        0,
        "% is a character, not a wildcard"
    );
    let bad = browser.get("/convoys?due_from=2023-13-40").await;
    assert_eq!(bad.status, 200);
    assert!(
        bad.text.contains(r#"<p class="error" role="alert">"#),
        "{}",
        bad.text
    );
    let page = browser
        .get("/api/v1/convoys?reference=AM-2023-07")
        .await
        .json();
    assert_eq!(
        page["items"].as_array().unwrap().len(),
        1,
        "the API searches the same way"
    );
}

async fn the_week_page_shows_its_figures_downloads_and_what_changed_between_revisions(
    app: TestApp,
) {
    load_demo(&app).await;
    let first = app
        .post("/api/v1/reports/weekly/2023-W30/publish", &json!({}))
        .await;
    assert_eq!(first.status, 201, "{}", first.text);
    let sha1 = first.json()["sha256"].as_str().unwrap().to_string();
    let late = app
        .post(
            &format!("/api/v1/convoys/{JULY}/events"),
            &json!({"kind": "delivered", "observed_at": "2023-07-29T18:00:00+04:00"}),
        )
        .await;
    assert_eq!(late.status, 201, "{}", late.text);
    let second = app
        .post("/api/v1/reports/weekly/2023-W30/publish", &json!({}))
        .await;
    assert_eq!(second.json()["revision"], 2, "{}", second.text);
    let browser = sign_in(&app, &app.admin_token).await;
    let page = browser.get("/reports/weekly/2023-W30?from=1&to=2").await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains(r#"id="week-figures""#));
    assert!(page.text.contains(&sha1), "the revision's SHA-256");
    for link in [
        "format=json",
        "format=csv",
        "format=hxl",
        "format=hxl-long",
        "format=html",
    ] {
        assert!(
            page.text
                .contains(&format!("/api/v1/reports/weekly/2023-W30?{link}")),
            "{link}"
        );
    }
    assert!(page.text.contains("<svg"), "the 12-week chart");
    let changes_at = page
        .text
        .find(r#"<table id="changes""#)
        .expect("the changes");
    let changes = &page.text[changes_at..];
    assert!(
        changes.contains("<td>Delivered in the week</td>"),
        "{changes}"
    );
    assert!(changes.contains("+360.000 t"), "{changes}");
    let download = browser
        .get("/api/v1/reports/weekly/2023-W30?revision=1&format=json")
        .await;
    assert_eq!(
        download.header("x-aidflow-sha256"),
        Some(sha1.as_str()),
        "downloads work with the session"
    );
    let picked = browser.get("/reports?week=2023-W31").await;
    assert_eq!(picked.status, 303);
    assert_eq!(picked.header("location"), Some("/reports/weekly/2023-W31"));
    let bad = browser.get("/reports/weekly/2023-W99").await;
    assert_eq!(bad.status, 422);
    assert!(bad.text.contains("week"), "{}", bad.text);
}

async fn pages_speak_the_browsers_language_and_the_pseudo_locale_shows_every_string_translated(
    app: TestApp,
) {
    let browser = sign_in(&app, &app.admin_token).await;
    let english = browser.get("/").await;
    assert!(english.text.contains(r#"<html lang="en">"#));
    assert!(english.text.contains("<h1>The corridor now</h1>"));
    let asked = browser
        .get_with("/", &[("Accept-Language", "qps, en;q=0.5")])
        .await;
    assert!(asked.text.contains(r#"<html lang="qps">"#));
    assert!(
        asked.text.contains("<h1>[Thé çöŕŕîdöŕ ñöw]</h1>"),
        "{}",
        asked.text
    );
    let chosen = browser.get("/alerts?lang=qps").await;
    assert!(chosen.text.contains("[Àléŕtš]"));
    let field = browser.get("/field/?lang=qps").await;
    assert!(field.text.contains(r#"id="field-texts""#));
}

async fn assets_are_embedded_with_etags(app: TestApp) {
    let client = plain_client();
    let css = read(client.get(app.url("/static/app.css")).send().await.unwrap()).await;
    assert_eq!(css.status, 200);
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    let etag = css.header("etag").unwrap().to_string();
    let again = read(
        client
            .get(app.url("/static/app.css"))
            .header("If-None-Match", &etag)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(again.status, 304);
    assert!(again.text.is_empty());
    let sw = read(client.get(app.url("/field/sw.js")).send().await.unwrap()).await;
    assert_eq!(sw.status, 200);
    assert!(
        !sw.text.contains("__ASSET_VERSION__"),
        "the cache is named after the assets' version"
    );
    let missing = read(
        client
            .get(app.url("/static/nothing.js"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(missing.status, 404);
    // Nothing on any page comes from another host.
    let browser = sign_in(&app, &app.admin_token).await;
    for path in ["/", "/convoys", "/alerts", "/reports", "/field/"] {
        let page = browser.get(path).await;
        assert!(
            !page.text.contains("src=\"http") && !page.text.contains("href=\"http"),
            "{path} loads from elsewhere"
        );
        assert!(page
            .header("content-security-policy")
            .unwrap()
            .contains("default-src 'self'"));
    }
}

async fn the_convoy_page_lists_the_demo_claims_beside_the_logged_figure_and_flags_them(
    app: TestApp,
) {
    load_demo(&app).await;
    // Loading the demo again adds nothing: its claims have ids of their own.
    load_demo(&app).await;
    let browser = sign_in(&app, &app.admin_token).await;
    let page = browser.get(&format!("/convoys/{JULY}")).await;
    assert_eq!(page.status, 200, "{}", page.text);
    let at = page
        .text
        .find("<h2 id=\"claims-h\">")
        .expect("the claims section");
    let section = &page.text[at..at + page.text[at..].find("</table>").unwrap()];
    assert!(section.contains("What sources published"), "{section}");
    assert!(
        section.contains("data-disputed=\"true\" data-spread=\"11.1\""),
        "{section}"
    );
    assert!(
        section.contains("The figures are 11.1 % apart, more than 2 %."),
        "{section}"
    );
    assert!(section.contains("Logged in aidflow (Loaded)"), "{section}");
    assert_eq!(
        section.matches("<tr class=\"claim\">").count(),
        3,
        "{section}"
    );
    for shown in [
        "Prime Minister of Armenia, via ArmRadio",
        "ArmRadio",
        "Hetq",
        "360.000 t",
        "400.000 t",
        "361.000 t",
    ] {
        assert!(section.contains(shown), "{shown}: {section}");
    }
    // The pseudo-locale has every string of the section.
    let qps = browser.get(&format!("/convoys/{JULY}?lang=qps")).await;
    assert!(!qps.text.contains("convoy.claims"), "{}", qps.text);
}
