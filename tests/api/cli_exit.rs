//! One-off commands exit cleanly every time: they start no server threads and close their
//! database before exit (on PostgreSQL, libpq threads still running at exit crashed
//! `token create` with SIGSEGV about one run in eight, after it printed the token).

use std::process::Command;
use std::time::Instant;

use crate::helpers::{postgres_available, Backend, TestDb};

fn token_create(url: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_aidflow"))
        .args(["token", "create", "--role", "viewer", "--name", "t"])
        .env(
            "AIDFLOW_CONFIG_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/config"),
        )
        .env("AIDFLOW__DATABASE__URL", url)
        .env("AIDFLOW__LOG__LEVEL", "warn")
        .env_remove("AIDFLOW_ENV")
        .env_remove("RUST_LOG")
        .output()
        .expect("run aidflow")
}

/// `TOKEN=$(aidflow token create …)` in a `set -e` script works every time.
fn token_create_exits_0_two_hundred_times_in_a_row(backend: Backend) {
    let db = TestDb::create(backend);
    let started = Instant::now();
    let mut failures = Vec::new();
    for run in 0..200 {
        let out = token_create(db.url());
        let stdout = String::from_utf8_lossy(&out.stdout);
        let token = stdout.trim();
        if !(out.status.success() && token.starts_with("afw_") && token.len() == 68) {
            failures.push(format!(
                "run {run}: {:?}, stdout {stdout:?}, stderr {:?}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of 200 runs failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        started.elapsed().as_secs() < 120,
        "200 runs took {:?}",
        started.elapsed()
    );
}

#[test]
fn token_create_on_postgres_exits_0_two_hundred_times_in_a_row() {
    if postgres_available() {
        token_create_exits_0_two_hundred_times_in_a_row(Backend::Postgres);
    }
}

#[test]
fn token_create_on_sqlite_exits_0_two_hundred_times_in_a_row() {
    token_create_exits_0_two_hundred_times_in_a_row(Backend::Sqlite);
}
