//! The tamper-evident ledger: every convoy's hash chain, `GET /api/v1/ledger/verify`, the
//! heads published revisions record, chains computed for existing databases, and the
//! evidence export (with the claims, each with its hash) that re-verifies on its own.

use std::process::Command;

use serde_json::{json, Value};

use crate::api_test;
use crate::helpers::{sql, stored, Backend, TestApp};

api_test!(
    an_untouched_ledger_verifies_clean_with_exact_counts,
    a_cargo_line_changed_by_sql_is_named_by_verify_and_no_other_event,
    a_whole_chain_rewritten_consistently_is_caught_by_a_published_revision,
    existing_databases_get_their_chains_computed_when_started,
    the_export_re_verifies_on_its_own_and_an_edited_line_is_named,
    claims_are_exported_with_their_hashes_and_an_edited_or_removed_claim_is_named,
);

/// Week 30 of 2023: the 360 t convoy held at KORNIDZOR (its hold logged twice, the
/// second correcting the first), and an ICRC convoy of 100 t flour, 20 t denied at HAKARI
/// and 80 t delivered. Returns (the held convoy, the ICRC convoy, the ICRC clearance).
async fn scenario(app: &TestApp) -> (String, String, String) {
    let a = app.post_ok("/api/v1/convoys", json!({"organization": "arm-gov", "reference": "AM-2023-07-26", "route": "lachin",
        "planned_departure": "2023-07-26T08:00:00+04:00", "expected_arrival": "2023-07-26T20:00:00+04:00", "trucks": 19,
        "manifest": [{"commodity": "flour", "tonnes": "300"}, {"commodity": "food", "tonnes": "60"}]})).await;
    let a = a["id"].as_str().unwrap().to_string();
    let held = app.post_ok(&format!("/api/v1/convoys/{a}/events"), json!({"kind": "held", "checkpoint": "KORNIDZOR", "observed_at": "2023-07-26T11:00:00+04:00"})).await;
    app.post_ok(&format!("/api/v1/convoys/{a}/events"), json!({"kind": "held", "checkpoint": "KORNIDZOR", "observed_at": "2023-07-26T11:30:00+04:00",
        "corrects": held["id"], "note": "the hold began at 11:30"})).await;
    let b = app.post_ok("/api/v1/convoys", json!({"organization": "icrc", "reference": "ICRC-2023-07-25", "route": "lachin",
        "planned_departure": "2023-07-25T08:00:00+04:00", "expected_arrival": "2023-07-25T16:00:00+04:00",
        "manifest": [{"commodity": "flour", "tonnes": "100"}]})).await;
    let b = b["id"].as_str().unwrap().to_string();
    let cleared = app.post_ok(&format!("/api/v1/convoys/{b}/events"), json!({"kind": "cleared", "checkpoint": "HAKARI", "observed_at": "2023-07-25T10:00:00+04:00",
        "cargo": [{"commodity": "flour", "tonnes": "80", "reason": "denied_at_checkpoint"}]})).await;
    app.post_ok(
        &format!("/api/v1/convoys/{b}/events"),
        json!({"kind": "delivered", "observed_at": "2023-07-25T15:00:00+04:00"}),
    )
    .await;
    (a, b, cleared["id"].as_str().unwrap().to_string())
}

async fn verify(app: &TestApp) -> Value {
    let reply = app.get("/api/v1/ledger/verify").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json()
}

async fn an_untouched_ledger_verifies_clean_with_exact_counts(app: TestApp) {
    scenario(&app).await;
    let v = verify(&app).await;
    assert_eq!(
        v,
        json!({"ok": true, "convoys_checked": 2, "events_checked": 4, "claims_checked": 0, "snapshots_checked": 0,
            "mismatch_count": 0, "first_mismatch": null, "mismatches": [], "snapshots": []})
    );
    for role in ["viewer", "editor"] {
        let org = (role == "editor").then_some("icrc");
        let token = app.token(role, org).await;
        app.get_as(&token, "/api/v1/ledger/verify")
            .await
            .problem(403);
        app.get_as(&token, "/api/v1/ledger/export")
            .await
            .problem(403);
    }
}

async fn a_cargo_line_changed_by_sql_is_named_by_verify_and_no_other_event(app: TestApp) {
    let (_, b, cleared) = scenario(&app).await;
    let before = stored(
        &app,
        format!("SELECT chain_sha256 AS v FROM events WHERE id = '{cleared}'"),
    )
    .await;
    sql(
        &app,
        vec![format!(
            "UPDATE event_lines SET kg = 70000 WHERE event_id = '{cleared}'"
        )],
    )
    .await;
    let v = verify(&app).await;
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(v["convoys_checked"], 2);
    assert_eq!(v["events_checked"], 4);
    assert_eq!(v["mismatch_count"], 1, "only that event: {v}");
    let m = &v["first_mismatch"];
    assert_eq!(m["kind"], "event");
    assert_eq!(m["convoy_id"], b.as_str());
    assert_eq!(m["seq"], 1);
    assert_eq!(m["event_id"], cleared.as_str());
    assert_eq!(m["stored"], before.as_str());
    assert_ne!(m["recomputed"], before.as_str());
    assert_eq!(v["mismatches"].as_array().unwrap().len(), 1);
    assert_eq!(v["snapshots"], json!([]));

    // A truck count written in by SQL is named the same way.
    sql(
        &app,
        vec![format!(
            "UPDATE events SET trucks_held = 5 WHERE convoy_id = '{b}' AND seq = 2"
        )],
    )
    .await;
    let v = verify(&app).await;
    assert_eq!(v["mismatch_count"], 2, "{v}");
    assert_eq!(v["mismatches"][1]["convoy_id"], b.as_str());
    assert_eq!(v["mismatches"][1]["seq"], 2);
}

async fn a_whole_chain_rewritten_consistently_is_caught_by_a_published_revision(app: TestApp) {
    let (a, b, cleared) = scenario(&app).await;
    let published = app
        .post("/api/v1/reports/weekly/2023-W30/publish", &json!({}))
        .await;
    assert_eq!(published.status, 201, "{}", published.text);
    let head_b = stored(
        &app,
        format!("SELECT chain_head AS v FROM convoys WHERE id = '{b}'"),
    )
    .await;
    let head_a = stored(
        &app,
        format!("SELECT chain_head AS v FROM convoys WHERE id = '{a}'"),
    )
    .await;
    let p = published.json();
    assert_eq!(
        p["chain_heads"],
        json!({a.clone(): {"seq": 2, "sha256": head_a}, b.clone(): {"seq": 2, "sha256": head_b}})
    );
    let root = p["chain_root"].as_str().unwrap().to_string();
    assert_eq!(root.len(), 64);
    // The revision listing shows the same heads and root.
    let listed = app.get("/api/v1/reports/weekly").await.json();
    assert_eq!(listed[0]["revisions"][0]["chain_root"], root.as_str());
    assert_eq!(listed[0]["revisions"][0]["chain_heads"], p["chain_heads"]);
    assert_eq!(verify(&app).await["snapshots_checked"], 1);

    // Someone with database access changes a cargo line and recomputes the whole chain
    // after it, consistently, with aidflow's own code.
    sql(
        &app,
        vec![
            format!("UPDATE event_lines SET kg = 70000 WHERE event_id = '{cleared}'"),
            format!("UPDATE events SET chain_sha256 = NULL WHERE convoy_id = '{b}'"),
        ],
    )
    .await;
    let filled = app
        .state
        .db(|c| Ok(aidflow::store::chain::fill_missing(c).unwrap()))
        .await
        .unwrap();
    assert_eq!((filled.convoys, filled.events), (1, 2));
    let v = verify(&app).await;
    assert_eq!(
        v["mismatch_count"], 0,
        "the chains agree with themselves: {v}"
    );
    assert_eq!(v["ok"], false, "{v}");
    let snaps = v["snapshots"].as_array().unwrap();
    assert_eq!(snaps.len(), 1, "{v}");
    let s = &snaps[0];
    assert_eq!(s["week"], "2023-W30");
    assert_eq!(s["revision"], 1);
    assert_eq!(s["chain_root"], root.as_str());
    assert_eq!(s["convoys"], 1);
    assert_eq!(s["convoy_id"], b.as_str());
    assert_eq!(s["seq"], 2);
    assert_eq!(s["recorded"], head_b.as_str());
    assert_ne!(s["recomputed"], head_b.as_str());
}

async fn existing_databases_get_their_chains_computed_when_started(app: TestApp) {
    let (_, b, _) = scenario(&app).await;
    let head = stored(
        &app,
        format!("SELECT chain_head AS v FROM convoys WHERE id = '{b}'"),
    )
    .await;
    // A database as migration 2026-12-02-000010_event_chain leaves it, before the chains
    // are computed.
    sql(
        &app,
        vec![
            "UPDATE events SET chain_sha256 = NULL".into(),
            "UPDATE convoys SET chain_genesis = NULL, chain_head = NULL".into(),
        ],
    )
    .await;
    let v = verify(&app).await;
    assert_eq!(v["ok"], false);
    assert_eq!(v["first_mismatch"]["stored"], Value::Null, "{v}");
    // Starting (as `aidflow serve` and `aidflow migrate` do) computes them.
    let second = app.second_instance();
    let v = verify(&second).await;
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(
        (v["convoys_checked"].clone(), v["events_checked"].clone()),
        (json!(2), json!(4))
    );
    let again = stored(
        &app,
        format!("SELECT chain_head AS v FROM convoys WHERE id = '{b}'"),
    )
    .await;
    assert_eq!(again, head, "the same content gives the same chain");
    // And the chain goes on from there.
    second.post_ok("/api/v1/convoys", json!({"organization": "icrc", "reference": "ICRC-2", "route": "lachin",
        "planned_departure": "2023-07-27T08:00:00+04:00", "expected_arrival": "2023-07-27T16:00:00+04:00",
        "manifest": [{"commodity": "flour", "tonnes": "10"}]})).await;
    let v = verify(&app).await;
    assert_eq!(
        (v["ok"].clone(), v["convoys_checked"].clone()),
        (json!(true), json!(3))
    );
}

fn verify_text(text: &str) -> aidflow::views::evidence::Verification {
    aidflow::app::evidence::file::verify_file(std::io::Cursor::new(text.as_bytes())).unwrap()
}

async fn the_export_re_verifies_on_its_own_and_an_edited_line_is_named(app: TestApp) {
    let (_, b, cleared) = scenario(&app).await;
    let published = app
        .post("/api/v1/reports/weekly/2023-W30/publish", &json!({}))
        .await;
    assert_eq!(published.status, 201);
    let reply = app.get("/api/v1/ledger/export").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/x-ndjson"));
    assert!(reply
        .header("content-disposition")
        .is_some_and(|d| d.starts_with("attachment; filename=\"aidflow-ledger-")));
    let text = reply.text;
    let records: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<&str> = records
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds[0], "header");
    assert_eq!(records[0]["format"], "aidflow-ledger");
    assert_eq!(records[0]["version"], 2);
    assert_eq!(records[0]["dispute_percent"], "2");
    assert_eq!(*kinds.last().unwrap(), "end");
    assert_eq!(
        records.last().unwrap(),
        &json!({"type": "end", "convoys": 2, "events": 4, "snapshots": 1, "claims": 0,
            "claims_sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"})
    );
    for (kind, n) in [("convoy", 2), ("event", 4), ("snapshot", 1), ("route", 2)] {
        assert_eq!(kinds.iter().filter(|k| **k == kind).count(), n, "{kind}");
    }
    let correction = records
        .iter()
        .find(|r| r["type"] == "event" && r["corrects"].is_string())
        .expect("the correction");
    assert_eq!(correction["note"], "the hold began at 11:30");
    let icrc = records
        .iter()
        .find(|r| r["type"] == "convoy" && r["id"] == b.as_str())
        .unwrap();
    assert_eq!(icrc["figures"]["delivered_kg"], 80000);
    assert_eq!(icrc["figures"]["denied_kg"], 20000);
    assert_eq!(icrc["figures"]["status"], "short_delivered");

    let v = verify_text(&text);
    assert!(v.ok, "{v:?}");
    assert_eq!(
        (v.convoys_checked, v.events_checked, v.snapshots_checked),
        (2, 4, 1)
    );

    // One line edited: the clearance's 80 t become 70 t.
    let at = records
        .iter()
        .position(|r| r["type"] == "event" && r["id"] == cleared.as_str())
        .unwrap();
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut edited = lines.clone();
    assert!(edited[at].contains("\"kg\":80000"), "{}", edited[at]);
    edited[at] = edited[at].replace("\"kg\":80000", "\"kg\":70000");
    let v = verify_text(&(edited.join("\n") + "\n"));
    assert!(!v.ok);
    let first = v.first_mismatch.clone().unwrap();
    assert_eq!(first.kind, "event");
    assert_eq!(first.line, Some(at as u64 + 1), "{first:?}");
    assert_eq!(first.event_id.as_deref(), Some(cleared.as_str()));
    assert!(
        first.message.starts_with(&format!("line {}: ", at + 1)),
        "{}",
        first.message
    );
    // Its figures no longer add up to those stated, and the revision's heads differ.
    assert!(v.mismatches.iter().any(|m| m.kind == "figures"), "{v:?}");
    assert_eq!(v.snapshots.len(), 1);

    // A file cut short says so.
    let cut = lines[..lines.len() - 1].join("\n");
    let v = verify_text(&cut);
    assert!(!v.ok);
    assert!(
        v.first_mismatch.unwrap().message.contains("cut short"),
        "the end record is missing"
    );

    // The command line reads the same file, and says where it no longer matches.
    if app.backend == Backend::Sqlite {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("ledger.jsonl");
        let bad = dir.path().join("edited.jsonl");
        std::fs::write(&good, &text).unwrap();
        std::fs::write(&bad, edited.join("\n") + "\n").unwrap();
        let (ok, _, err) = run(aidflow(dir.path()).args(["verify", "--file"]).arg(&good));
        assert!(ok, "{err}");
        assert!(err.contains("ok: every chain matches"), "{err}");
        let (ok, _, err) = run(aidflow(dir.path()).args(["verify", "--file"]).arg(&bad));
        assert!(!ok, "{err}");
        assert!(err.contains(&format!("line {}: ", at + 1)), "{err}");
    }
}

/// The three figures published about the 26 July convoy (360, 400 and 361 t), the first
/// two with every field, Hetq's with none of the optional ones. Returns their ids.
async fn lachin_claims(app: &TestApp, convoy: &str) -> Vec<String> {
    let path = format!("/api/v1/convoys/{convoy}/claims");
    let mut ids = Vec::new();
    for (i, body) in [
        json!({"source": "Prime Minister, via ArmRadio", "url": "https://example.org/news/pm", "published_at": "2023-07-26T12:00:00+04:00",
            "tonnes": "360", "trucks": 19, "quote": "19 trucks, 360 tonnes of “humanitarian” aid"}),
        json!({"source": "ArmRadio", "url": "https://example.org/news/400", "published_at": "2023-07-26T14:00:00+04:00",
            "tonnes": "400.0", "trucks": 19, "quote": "400 tonnes"}),
        json!({"source": "Hetq", "published_at": "2023-07-26T18:00:00Z", "tonnes": "361"}),
    ]
    .into_iter()
    .enumerate()
    {
        let id = format!("5c000000-0000-4000-8000-00000000000{}", i + 1);
        let mut body = body;
        body["id"] = json!(id);
        app.post_ok(&path, body).await;
        ids.push(id);
    }
    ids
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

async fn claims_are_exported_with_their_hashes_and_an_edited_or_removed_claim_is_named(
    app: TestApp,
) {
    let (a, b, _) = scenario(&app).await;
    let ids = lachin_claims(&app, &a).await;
    let text = app.get("/api/v1/ledger/export").await.text;
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    let records: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let at = |pred: &dyn Fn(&Value) -> bool| records.iter().position(pred).unwrap();
    let claims: Vec<usize> = (0..records.len())
        .filter(|i| records[*i]["type"] == "claim")
        .collect();
    assert_eq!(claims.len(), 3);
    // In publication order, right after the convoy's events.
    let convoy_a = at(&|r| r["type"] == "convoy" && r["id"] == a.as_str());
    assert_eq!(claims, vec![convoy_a + 3, convoy_a + 4, convoy_a + 5]);
    assert_eq!(records[convoy_a + 2]["type"], "event");

    // Every stored field, exactly.
    for (i, id) in ids.iter().enumerate() {
        let r = &records[claims[i]];
        let row =
            |col: &str| format!("SELECT CAST({col} AS TEXT) AS v FROM claims WHERE id = '{id}'");
        assert_eq!(
            r["created_by"],
            stored(&app, row("created_by")).await.as_str()
        );
        assert_eq!(
            r["created_at"].to_string(),
            stored(&app, row("created_at")).await
        );
        assert_eq!(
            r["body_sha256"],
            stored(&app, row("body_sha256")).await.as_str()
        );
        // Its hash is SHA-256 over the line without `type` and `sha256`: the canonical
        // form, keys in order, null keys left out.
        let line = &lines[claims[i]];
        let sha = r["sha256"].as_str().unwrap();
        let canonical = line
            .strip_prefix("{\"type\":\"claim\",")
            .and_then(|l| l.strip_suffix(&format!(",\"sha256\":\"{sha}\"}}")))
            .unwrap_or_else(|| panic!("{line}"));
        assert_eq!(sha256_hex(format!("{{{canonical}}}").as_bytes()), sha);
    }
    let common = |i: usize| {
        let r = &records[claims[i]];
        (
            r["created_by"].clone(),
            r["created_at"].clone(),
            r["body_sha256"].clone(),
            r["sha256"].clone(),
        )
    };
    let (by, created, body, sha) = common(0);
    assert_eq!(
        records[claims[0]],
        json!({"type": "claim", "id": ids[0], "convoy_id": a, "source": "Prime Minister, via ArmRadio",
            "url": "https://example.org/news/pm", "published_at": 1690358400000000i64, "published_offset": 14400,
            "kg": 360000, "quantity": "360", "unit": "t", "trucks": 19,
            "quote": "19 trucks, 360 tonnes of “humanitarian” aid",
            "body_sha256": body, "created_by": by, "created_at": created, "sha256": sha})
    );
    let (by, created, body, sha) = common(1);
    assert_eq!(
        records[claims[1]],
        json!({"type": "claim", "id": ids[1], "convoy_id": a, "source": "ArmRadio",
            "url": "https://example.org/news/400", "published_at": 1690365600000000i64, "published_offset": 14400,
            "kg": 400000, "quantity": "400.0", "unit": "t", "trucks": 19, "quote": "400 tonnes",
            "body_sha256": body, "created_by": by, "created_at": created, "sha256": sha})
    );
    let (by, created, body, sha) = common(2);
    assert_eq!(
        records[claims[2]],
        json!({"type": "claim", "id": ids[2], "convoy_id": a, "source": "Hetq",
            "published_at": 1690394400000000i64, "published_offset": 0,
            "kg": 361000, "quantity": "361", "unit": "t",
            "body_sha256": body, "created_by": by, "created_at": created, "sha256": sha})
    );

    // Each convoy states its dispute at the header's threshold: 360, 400 and 361 t are
    // 11.1 % apart; the other convoy has no claim.
    assert_eq!(records[0]["dispute_percent"], "2");
    assert_eq!(
        records[convoy_a]["dispute"],
        json!({"claims": 3, "logged_figure": "loaded", "logged_kg": 360000, "lowest_kg": 360000,
            "highest_kg": 400000, "spread_percent": "11.1", "disputed": true})
    );
    let convoy_b = at(&|r| r["type"] == "convoy" && r["id"] == b.as_str());
    assert_eq!(
        records[convoy_b]["dispute"],
        json!({"claims": 0, "logged_figure": "loaded", "logged_kg": 100000, "lowest_kg": null,
            "highest_kg": null, "spread_percent": null, "disputed": false})
    );
    // The claims never moved the chain: the heads and figures are those of the events.
    assert_eq!(records[convoy_a]["figures"]["loaded_kg"], 360000);
    let head = stored(
        &app,
        format!("SELECT chain_head AS v FROM convoys WHERE id = '{a}'"),
    )
    .await;
    assert_eq!(records[convoy_a]["chain_head"], head.as_str());
    assert_eq!(records[convoy_a + 2]["chain_sha256"], head.as_str());

    // The end record's digest is over the three hashes, in file order.
    let joined: String = claims
        .iter()
        .map(|i| records[*i]["sha256"].as_str().unwrap())
        .collect();
    assert_eq!(
        records.last().unwrap(),
        &json!({"type": "end", "convoys": 2, "events": 4, "snapshots": 0, "claims": 3,
            "claims_sha256": sha256_hex(joined.as_bytes())})
    );

    let v = verify_text(&text);
    assert!(v.ok, "{v:?}");
    assert_eq!(
        (v.convoys_checked, v.events_checked, v.claims_checked),
        (2, 4, 3)
    );
    let db = verify(&app).await;
    assert_eq!(
        (db["ok"].clone(), db["claims_checked"].clone()),
        (json!(true), json!(3))
    );

    // ArmRadio's 400 t become 390 t in the file: that line is named first, then the
    // convoy whose stated dispute no longer follows, and the digest.
    let mut edited = lines.clone();
    let armradio = claims[1];
    assert!(edited[armradio].contains("\"kg\":400000"));
    edited[armradio] = edited[armradio].replace("\"kg\":400000", "\"kg\":390000");
    let v = verify_text(&(edited.join("\n") + "\n"));
    assert!(!v.ok);
    let first = v.first_mismatch.clone().unwrap();
    assert_eq!(first.kind, "claim");
    assert_eq!(first.line, Some(armradio as u64 + 1));
    assert_eq!(first.claim_id.as_deref(), Some(ids[1].as_str()));
    assert_eq!(first.convoy_id.as_deref(), Some(a.as_str()));
    assert_eq!(
        first.stored.as_deref(),
        records[armradio]["sha256"].as_str()
    );
    assert!(
        first.message.starts_with(&format!(
            "line {}: convoy {a}, claim {} (ArmRadio): its content gives ",
            armradio + 1,
            ids[1]
        )),
        "{}",
        first.message
    );
    let kinds: Vec<(&str, Option<u64>)> = v
        .mismatches
        .iter()
        .map(|m| (m.kind.as_str(), m.line))
        .collect();
    let end_line = lines.len() as u64;
    assert_eq!(
        kinds,
        vec![
            ("claim", Some(armradio as u64 + 1)),
            ("dispute", Some(convoy_a as u64 + 1)),
            ("claims", Some(end_line)),
        ],
        "{v:?}"
    );
    assert!(v.mismatches[1].message.contains("spread 11.1 %, disputed, but its claims in the file give 3 claim(s) against 360000 kg loaded, spread 8.3 %, disputed"), "{}", v.mismatches[1].message);

    // Hetq's line removed: its convoy's claim count, the end record's count and the
    // digest all say so.
    let mut removed = lines.clone();
    removed.remove(claims[2]);
    let v = verify_text(&(removed.join("\n") + "\n"));
    assert!(!v.ok);
    let kinds: Vec<(&str, Option<u64>)> = v
        .mismatches
        .iter()
        .map(|m| (m.kind.as_str(), m.line))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("dispute", Some(convoy_a as u64 + 1)),
            ("record", Some(end_line - 1)),
            ("claims", Some(end_line - 1)),
        ],
        "{v:?}"
    );
    assert!(
        v.mismatches[0]
            .message
            .contains("its claims in the file give 2 claim(s)"),
        "{}",
        v.mismatches[0].message
    );
    assert!(
        v.mismatches[1]
            .message
            .contains("3 claims, but the file holds 2, 4, 0 and 2"),
        "{}",
        v.mismatches[1].message
    );

    // A claim moved before every convoy is named: it no longer follows its convoy.
    let mut moved = lines.clone();
    let hetq = moved.remove(claims[2]);
    moved.insert(1, hetq);
    let v = verify_text(&(moved.join("\n") + "\n"));
    let m = v
        .mismatches
        .iter()
        .find(|m| m.kind == "claim")
        .expect("the moved claim");
    assert_eq!(m.line, Some(2));
    assert!(m.message.contains("follows no convoy"), "{}", m.message);

    // The command line names the edited claim's line too.
    if app.backend == Backend::Sqlite {
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("edited.jsonl");
        std::fs::write(&bad, edited.join("\n") + "\n").unwrap();
        let (ok, _, err) = run(aidflow(dir.path()).args(["verify", "--file"]).arg(&bad));
        assert!(!ok, "{err}");
        assert!(
            err.contains(&format!("line {}: convoy {a}, claim", armradio + 1)),
            "{err}"
        );
        assert!(err.contains("3 claim(s)"), "{err}");
    }
}

/// The binary, with a database setting it never opens (`verify --file` reads no database).
fn aidflow(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_aidflow"));
    cmd.env(
        "AIDFLOW_CONFIG_DIR",
        concat!(env!("CARGO_MANIFEST_DIR"), "/config"),
    )
    .env(
        "AIDFLOW__DATABASE__URL",
        format!("sqlite://{}", dir.join("unused.db").display()),
    )
    .env("AIDFLOW__LOG__FORMAT", "json")
    .env_remove("AIDFLOW_ENV")
    .env_remove("RUST_LOG");
    cmd
}

fn run(cmd: &mut Command) -> (bool, String, String) {
    let out = cmd.output().expect("run aidflow");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
