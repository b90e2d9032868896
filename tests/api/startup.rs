//! The binary itself: first start, bad configuration, migrate, token create.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::{postgres_available, Backend, TestDb};

fn aidflow() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_aidflow"));
    cmd.env(
        "AIDFLOW_CONFIG_DIR",
        concat!(env!("CARGO_MANIFEST_DIR"), "/config"),
    )
    .env("AIDFLOW__LOG__FORMAT", "json")
    .env_remove("AIDFLOW_ENV")
    .env_remove("RUST_LOG");
    cmd
}

/// Runs the binary to completion; returns (success, stdout, stderr).
fn run(cmd: &mut Command) -> (bool, String, String) {
    let out = cmd.output().expect("run aidflow");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `aidflow serve` on an empty database prints the admin token alone on stdout, and the
/// service answers ready with it.
async fn first_serve_prints_an_admin_token_and_becomes_ready(backend: Backend) {
    let db = TestDb::create(backend);
    let port = free_port();
    let mut child = aidflow()
        .arg("serve")
        .env("AIDFLOW__DATABASE__URL", db.url())
        .env("AIDFLOW__SERVER__PORT", port.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start aidflow serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("read token");
    let token = line.trim().to_string();
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    let ready = loop {
        match client
            .get(format!("http://127.0.0.1:{port}/health/ready"))
            .send()
            .await
        {
            Ok(r) => break r.status().as_u16(),
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("never became ready: {e}"),
        }
    };
    let routes = client
        .get(format!("http://127.0.0.1:{port}/api/v1/routes/lachin"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        token.starts_with("afw_") && token.len() == 68,
        "token alone on stdout: {line:?}"
    );
    assert_eq!(ready, 200);
    assert_eq!(routes, 200, "the printed token is an admin token");
}

#[actix_web::test]
async fn first_serve_on_sqlite_prints_an_admin_token_and_becomes_ready() {
    first_serve_prints_an_admin_token_and_becomes_ready(Backend::Sqlite).await;
}

#[actix_web::test]
async fn first_serve_on_postgres_prints_an_admin_token_and_becomes_ready() {
    if postgres_available() {
        first_serve_prints_an_admin_token_and_becomes_ready(Backend::Postgres).await;
    }
}

#[test]
fn bad_port_setting_stops_startup_naming_the_setting() {
    let (ok, _, err) = run(aidflow()
        .arg("migrate")
        .env("AIDFLOW__SERVER__PORT", "eighty"));
    assert!(!ok);
    assert!(err.contains("server.port"), "{err}");
}

#[test]
fn unsupported_database_scheme_is_named() {
    let (ok, _, err) = run(aidflow().arg("migrate").env(
        "AIDFLOW__DATABASE__URL",
        "mysql://root:secret@localhost/aid",
    ));
    assert!(!ok);
    assert!(
        err.contains("database.url") && err.contains("\"mysql\""),
        "{err}"
    );
    assert!(
        !err.contains("secret"),
        "passwords are never printed: {err}"
    );
}

#[test]
fn unreachable_postgres_is_named() {
    let (ok, _, err) = run(aidflow().arg("migrate").env(
        "AIDFLOW__DATABASE__URL",
        "postgres://aid:pw@127.0.0.1:9/aidflow",
    ));
    assert!(!ok);
    assert!(
        err.contains("cannot connect to PostgreSQL at postgres://aid:***@127.0.0.1:9/aidflow"),
        "{err}"
    );
    assert!(!err.contains("Invalid connection url"), "{err}");
}

#[test]
fn unknown_time_zone_is_named() {
    let (ok, _, err) = run(aidflow()
        .arg("migrate")
        .env("AIDFLOW__APP__TIMEZONE", "Mars/Olympus"));
    assert!(!ok);
    assert!(
        err.contains("app.timezone") && err.contains("Mars/Olympus"),
        "{err}"
    );
}

#[test]
fn missing_environment_overlay_is_named() {
    let (ok, _, err) = run(aidflow().arg("migrate").env("AIDFLOW_ENV", "staging"));
    assert!(!ok);
    assert!(
        err.contains("AIDFLOW_ENV=staging") && err.contains("staging.toml"),
        "{err}"
    );
}

#[test]
fn migrate_then_token_create_prints_the_token_alone() {
    let db = TestDb::create(Backend::Sqlite);
    let (ok, _, err) = run(aidflow()
        .arg("migrate")
        .env("AIDFLOW__DATABASE__URL", db.url()));
    assert!(ok, "{err}");
    assert!(
        err.contains("migration(s)") && err.contains("20261121000001"),
        "{err}"
    );
    let (ok, _, err) = run(aidflow()
        .arg("migrate")
        .env("AIDFLOW__DATABASE__URL", db.url()));
    assert!(ok && err.contains("up to date"), "{err}");
    let (ok, out, err) = run(aidflow()
        .args([
            "token",
            "create",
            "--role",
            "editor",
            "--name",
            "goris-tablet",
            "--organization",
            "arm-gov",
        ])
        .env("AIDFLOW__DATABASE__URL", db.url()));
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "only the token on stdout: {out:?}");
    assert!(lines[0].starts_with("afw_") && lines[0].len() == 68);
    let (ok, _, err) = run(aidflow()
        .args(["token", "create", "--role", "editor", "--name", "x"])
        .env("AIDFLOW__DATABASE__URL", db.url()));
    assert!(!ok && err.contains("--organization"), "{err}");
    let (ok, out, _) = run(aidflow()
        .args(["token", "list"])
        .env("AIDFLOW__DATABASE__URL", db.url()));
    assert!(
        ok && out.contains("goris-tablet") && !out.contains(lines[0]),
        "{out}"
    );
}

#[test]
fn misspelt_log_level_is_named() {
    let (ok, _, err) = run(aidflow()
        .arg("migrate")
        .env("AIDFLOW__LOG__LEVEL", "verbose"));
    assert!(!ok);
    assert!(
        err.contains("log.level") && err.contains("verbose"),
        "{err}"
    );
}

#[test]
fn invalid_seed_file_leaves_the_database_empty_and_names_the_record() {
    let db = TestDb::create(Backend::Sqlite);
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("seed.toml");
    std::fs::write(&seed, "[[organizations]]\nslug = \"unhcr\"\nname = \"UNHCR\"\n\n[[checkpoints]]\ncode = \"bad code\"\nname = \"Bad\"\n").unwrap();
    let (ok, _, err) = run(aidflow()
        .arg("demo")
        .env("AIDFLOW__DATABASE__URL", db.url())
        .env("AIDFLOW__SEED__FILE", seed.to_str().unwrap()));
    assert!(!ok);
    assert!(err.contains("seed checkpoint bad code"), "{err}");
    // The next start with the built-in seed loads it whole.
    let (ok, _, err) = run(aidflow()
        .arg("demo")
        .env("AIDFLOW__DATABASE__URL", db.url()));
    assert!(ok, "{err}");
    assert!(err.contains("AM-2023-07-26    held"), "{err}");
}

#[test]
fn cli_import_records_a_csv_once_and_lists_errors_by_line() {
    let db = TestDb::create(Backend::Sqlite);
    let (ok, _, err) = run(aidflow()
        .arg("demo")
        .env("AIDFLOW__DATABASE__URL", db.url()));
    assert!(ok, "{err}");
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("kornidzor.csv");
    std::fs::write(
        &good,
        "organization,convoy,kind,checkpoint,observed_at,note\n\
         arm-gov,AM-2023-07-26,turned_back,KORNIDZOR,2023-09-20T10:00:00+04:00,sent back after the September offensive\n",
    )
    .unwrap();
    let (ok, _, err) = run(aidflow()
        .args(["import", "events"])
        .arg(&good)
        .env("AIDFLOW__DATABASE__URL", db.url()));
    assert!(ok, "{err}");
    assert!(
        err.contains("1 row(s), 1 event(s): 1 recorded, 0 already recorded before"),
        "{err}"
    );
    let (ok, _, err) = run(aidflow()
        .args(["import", "events"])
        .arg(&good)
        .env("AIDFLOW__DATABASE__URL", db.url()));
    assert!(
        ok && err.contains("0 recorded, 1 already recorded before"),
        "{err}"
    );
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "organization,convoy,kind,observed_at\narm-gov,AM-2023-07-26,parked,2023-09-21T10:00:00+04:00\n").unwrap();
    let (ok, _, err) = run(aidflow()
        .args(["import", "events"])
        .arg(&bad)
        .env("AIDFLOW__DATABASE__URL", db.url()));
    assert!(!ok);
    assert!(err.contains("line 2, kind"), "{err}");
    assert!(err.contains("nothing was imported"), "{err}");
}

#[test]
fn cli_writes_weekly_reports_and_publishes_them() {
    let db = TestDb::create(Backend::Sqlite);
    let (ok, _, err) = run(aidflow()
        .arg("demo")
        .env("AIDFLOW__DATABASE__URL", db.url()));
    assert!(ok, "{err}");
    let (ok, out, err) = run(aidflow()
        .args(["report", "weekly", "2023-W38", "--format", "csv"])
        .env("AIDFLOW__DATABASE__URL", db.url()));
    assert!(ok, "{err}");
    let total = out.lines().nth(1).unwrap_or_default();
    assert!(
        total.starts_with("2023-W38,total,total,")
            && total.contains(",2800.000,92.495,92.495,92.495,0.000,"),
        "{out}"
    );
    let (ok, out, err) = run(aidflow()
        .args(["report", "weekly", "2023-W38", "--format", "hxl-long"])
        .env("AIDFLOW__DATABASE__URL", db.url()));
    assert!(ok, "{err}");
    let rows: Vec<&str> = out.lines().collect();
    assert_eq!(
        rows.len(),
        2 + 4,
        "flour, salt, sunflower oil and yeast: {out}"
    );
    assert!(
        rows[1].starts_with("#meta+week,#date+start,#x_route+code,"),
        "{out}"
    );
    assert!(
        rows[2].ends_with(",icrc,International Committee of the Red Cross,flour,Wheat flour,89.000,89.000,89.000,0.000,0.000,0.000"),
        "{out}"
    );
    let (ok, _, err) = run(aidflow()
        .args(["report", "weekly", "2023-W38", "--format", "xml"])
        .env("AIDFLOW__DATABASE__URL", db.url()));
    assert!(
        !ok && err.contains("use json, csv, hxl, hxl-long or html"),
        "{err}"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("w30.html");
    let (ok, _, err) = run(aidflow()
        .args(["report", "weekly", "2023-W30", "--format", "html", "--out"])
        .arg(&file)
        .env("AIDFLOW__DATABASE__URL", db.url()));
    assert!(ok, "{err}");
    let html = std::fs::read_to_string(&file).unwrap();
    assert!(html.contains("In week 30, 0 of 360 t planned for the Lachin route arrived; 360 t held at KORNIDZOR since 26 July."), "{html}");
    let (ok, _, err) = run(aidflow()
        .args(["report", "publish", "--week", "2023-W30"])
        .env("AIDFLOW__DATABASE__URL", db.url()));
    assert!(ok && err.contains("published 2023-W30 revision 1"), "{err}");
    let (ok, _, err) = run(aidflow()
        .args(["report", "publish", "--week", "2023-W30"])
        .env("AIDFLOW__DATABASE__URL", db.url()));
    assert!(ok && err.contains("unchanged since revision 1"), "{err}");
    let (ok, out, err) = run(aidflow()
        .args(["report", "weekly", "2023-W30", "--revision", "1"])
        .env("AIDFLOW__DATABASE__URL", db.url()));
    assert!(ok && out.contains("\"week\":\"2023-W30\""), "{out}{err}");
    let (ok, _, err) = run(aidflow()
        .args(["report", "weekly", "2023-W99"])
        .env("AIDFLOW__DATABASE__URL", db.url()));
    assert!(!ok && err.contains("2023-W99"), "{err}");
}

/// `aidflow export ledger` writes the evidence file of a database, and the file verifies
/// on its own; an edited line is named.
fn cli_exports_the_ledger_and_the_file_verifies_alone(backend: Backend) {
    let db = TestDb::create(backend);
    let (ok, _, err) = run(aidflow()
        .arg("demo")
        .env("AIDFLOW__DATABASE__URL", db.url()));
    assert!(ok, "{err}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ledger.jsonl");
    let (ok, _, err) = run(aidflow()
        .args(["export", "ledger", "--output"])
        .arg(&file)
        .env("AIDFLOW__DATABASE__URL", db.url()));
    assert!(ok, "{err}");
    assert!(
        err.contains("exported 12 convoy(s), 27 event(s), 3 claim(s) and 0 published revision(s)"),
        "{err}"
    );
    let text = std::fs::read_to_string(&file).unwrap();
    let kinds: Vec<String> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["type"].as_str().unwrap_or("?").to_string()
        })
        .collect();
    assert_eq!(kinds.first().map(String::as_str), Some("header"), "{text}");
    assert_eq!(kinds.last().map(String::as_str), Some("end"));
    assert_eq!(kinds.iter().filter(|k| *k == "event").count(), 27);
    assert_eq!(kinds.iter().filter(|k| *k == "claim").count(), 3);
    // The file alone: no database.
    let (ok, _, err) = run(aidflow().args(["verify", "--file"]).arg(&file));
    assert!(ok, "{err}");
    let (ok, _, err) = run(aidflow()
        .arg("verify")
        .env("AIDFLOW__DATABASE__URL", db.url()));
    assert!(ok && err.contains("ok: every chain matches"), "{err}");
    // One event's observed time changed in the file, by a microsecond.
    let n = kinds.iter().position(|k| k == "event").unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut event: serde_json::Value = serde_json::from_str(&lines[n]).unwrap();
    event["observed_at"] = serde_json::json!(event["observed_at"].as_i64().unwrap() + 1);
    lines[n] = event.to_string();
    let bad = dir.path().join("edited.jsonl");
    std::fs::write(&bad, lines.join("\n") + "\n").unwrap();
    let (ok, out, err) = run(aidflow().args(["verify", "--file"]).arg(&bad));
    assert!(!ok, "{out}{err}");
    assert!(
        format!("{out}{err}").contains(&format!("line {}", n + 1)),
        "names line {}: {out}{err}",
        n + 1
    );
}

#[test]
fn cli_exports_the_ledger_on_sqlite_and_the_file_verifies_alone() {
    cli_exports_the_ledger_and_the_file_verifies_alone(Backend::Sqlite);
}

#[test]
fn cli_exports_the_ledger_on_postgres_and_the_file_verifies_alone() {
    if postgres_available() {
        cli_exports_the_ledger_and_the_file_verifies_alone(Backend::Postgres);
    }
}
