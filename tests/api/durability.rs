//! Durability under SIGKILL: the real `aidflow serve` binary, killed several times while
//! concurrent clients post convoys and events with ids of their own choosing, restarted
//! each time on the same database and port. Clients retry every unanswered request with
//! the same id and body, as a phone on a bad connection does. Afterwards every
//! acknowledged event is stored exactly once, with the cargo that was sent, and each
//! convoy's `delivered` is the sum of its stored deliveries.
//!
//! The ledger accepts the writes in whatever order the kills leave them: each convoy gets
//! one `departed` and then many partial `delivered` events, small enough never to deliver
//! the whole manifest.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use crate::helpers::{postgres_available, Backend, TestDb};

/// Clients posting at once, convoys per client, kills, and the time the whole run may take.
const CLIENTS: usize = 8;
const CONVOYS_PER_CLIENT: usize = 3;
const KILLS: usize = 4;
const RUN_LIMIT: Duration = Duration::from_secs(60);
/// Each convoy carries 1000 t of flour; deliveries stop well before that (the convoy would
/// close itself and refuse further deliveries).
const MANIFEST_KG: u64 = 1_000_000;
const MAX_DELIVERIES_PER_CONVOY: u64 = 400;
const MAX_DELIVERY_KG: u64 = 2_000;

/// One `aidflow serve` child process on a fixed port.
struct Server {
    child: Option<Child>,
    /// Kept open so that the server's standard output never breaks.
    _stdout: Option<ChildStdout>,
    port: u16,
    db_url: String,
    log: PathBuf,
}

impl Server {
    fn start(db_url: &str, port: u16, log: &Path) -> Server {
        let mut server = Server {
            child: None,
            _stdout: None,
            port,
            db_url: db_url.to_string(),
            log: log.to_path_buf(),
        };
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("server log file");
        let mut child = Command::new(env!("CARGO_BIN_EXE_aidflow"))
            .arg("serve")
            .env(
                "AIDFLOW_CONFIG_DIR",
                concat!(env!("CARGO_MANIFEST_DIR"), "/config"),
            )
            .env_remove("AIDFLOW_ENV")
            .env_remove("RUST_LOG")
            .env("AIDFLOW__LOG__FORMAT", "json")
            .env("AIDFLOW__LOG__LEVEL", "warn")
            .env("AIDFLOW__DATABASE__URL", &self.db_url)
            .env("AIDFLOW__SERVER__PORT", self.port.to_string())
            .env("AIDFLOW__SERVER__WORKERS", "2")
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("start aidflow serve");
        self._stdout = child.stdout.take();
        self.child = Some(child);
    }

    /// The first admin token, printed alone on standard output on the first start.
    fn read_token(&mut self) -> String {
        use std::io::{BufRead, BufReader};
        let stdout = self._stdout.take().expect("stdout of the first start");
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        reader.read_line(&mut line).expect("read the admin token");
        self._stdout = Some(reader.into_inner());
        let token = line.trim().to_string();
        assert!(token.starts_with("afw_"), "the admin token: {line:?}");
        token
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill(); // SIGKILL on Unix
            let _ = child.wait();
        }
        self._stdout = None;
    }

    fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    async fn wait_ready(&mut self, client: &reqwest::Client) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let url = format!("http://127.0.0.1:{}/health/ready", self.port);
        loop {
            if let Ok(r) = client.get(&url).send().await {
                if r.status().as_u16() == 200 {
                    return;
                }
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("aidflow serve exited with {status}: {}", self.log_text());
            }
            assert!(
                Instant::now() < deadline,
                "aidflow serve never became ready: {}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn tonnes(kg: u64) -> String {
    format!("{}.{:03}", kg / 1000, kg % 1000)
}

/// `"12.345"` → 12345 kg (answers carry three decimals).
fn kg(tonnes: &str) -> u64 {
    let (whole, frac) = tonnes.split_once('.').unwrap_or((tonnes, "0"));
    let frac = format!("{frac:0<3}");
    whole.parse::<u64>().unwrap() * 1000 + frac[..3].parse::<u64>().unwrap()
}

/// What the clients saw, added up over all of them.
#[derive(Default)]
struct Tally {
    created: AtomicU64,
    replayed: AtomicU64,
    failed_attempts: AtomicU64,
}

/// A write sent until the server acknowledges it (201, or 200 for a replay), always with
/// the same body. Connection failures and 503 are retried; any other answer fails the test.
async fn send_until_acknowledged(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    path: &str,
    body: &Value,
    tally: &Tally,
    deadline: Instant,
) -> (u16, Value) {
    loop {
        assert!(
            Instant::now() < deadline,
            "{path} was not acknowledged in time"
        );
        let sent = client
            .post(format!("{base}{path}"))
            .bearer_auth(token)
            .json(body)
            .timeout(Duration::from_secs(10))
            .send()
            .await;
        let reply = match sent {
            Ok(r) => {
                let status = r.status().as_u16();
                match r.text().await {
                    Ok(text) => Some((status, text)),
                    Err(_) => None, // killed while answering: not acknowledged
                }
            }
            Err(_) => None,
        };
        match reply {
            Some((201, text)) => {
                tally.created.fetch_add(1, Ordering::Relaxed);
                return (201, serde_json::from_str(&text).unwrap());
            }
            Some((200, text)) => {
                tally.replayed.fetch_add(1, Ordering::Relaxed);
                return (200, serde_json::from_str(&text).unwrap());
            }
            Some((503, _)) | None => {
                tally.failed_attempts.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Some((status, text)) => panic!("{path}: {status} {text} for {body}"),
        }
    }
}

/// The events one client had acknowledged: event id → (convoy id, kind, cargo kg).
type Acknowledged = HashMap<String, (String, String, u64)>;

/// One client: creates its convoys, departs them, then delivers small amounts round-robin
/// until told to stop; every tenth request sends an acknowledged event again.
async fn client_run(
    n: usize,
    base: String,
    token: String,
    stop: Arc<AtomicBool>,
    tally: Arc<Tally>,
    deadline: Instant,
) -> (Vec<String>, Acknowledged) {
    let client = reqwest::Client::new();
    let mut rng = StdRng::seed_from_u64(11_000 + n as u64);
    let mut convoys = Vec::new();
    let mut acked = Acknowledged::new();
    for i in 0..CONVOYS_PER_CLIENT {
        let id = uuid::Uuid::new_v4().to_string();
        let body = json!({
            "id": id, "organization": "arm-gov", "reference": format!("DUR-{n}-{i}"), "route": "lachin",
            "planned_departure": "2024-03-01T08:00:00+04:00", "trucks": 20,
            "manifest": [{"commodity": "flour", "tonnes": tonnes(MANIFEST_KG)}]
        });
        let (_, convoy) = send_until_acknowledged(
            &client,
            &base,
            &token,
            "/api/v1/convoys",
            &body,
            &tally,
            deadline,
        )
        .await;
        assert_eq!(convoy["id"], id.as_str());
        let event_id = uuid::Uuid::new_v4().to_string();
        let departed =
            json!({"id": event_id, "kind": "departed", "observed_at": "2024-03-01T08:30:00+04:00"});
        let path = format!("/api/v1/convoys/{id}/events");
        let (_, stored) =
            send_until_acknowledged(&client, &base, &token, &path, &departed, &tally, deadline)
                .await;
        assert_eq!(stored["id"], event_id.as_str());
        acked.insert(event_id, (id.clone(), "departed".into(), 0));
        convoys.push(id);
    }
    let mut deliveries = vec![0u64; convoys.len()];
    let mut sent: Vec<(String, Value)> = Vec::new();
    let mut next = 0;
    while !stop.load(Ordering::Relaxed) {
        let c = next % convoys.len();
        next += 1;
        if next % 10 == 0 && !sent.is_empty() {
            // An answer that was lost on the way: the phone sends the same event again.
            let (path, body) = &sent[rng.gen_range(0..sent.len())];
            let (status, stored) =
                send_until_acknowledged(&client, &base, &token, path, body, &tally, deadline).await;
            assert_eq!(status, 200, "a replay is answered 200: {stored}");
            assert_eq!(stored["id"], body["id"]);
            continue;
        }
        if deliveries[c] >= MAX_DELIVERIES_PER_CONVOY {
            continue;
        }
        deliveries[c] += 1;
        let kg = rng.gen_range(1..=MAX_DELIVERY_KG);
        let minute = deliveries[c];
        let event_id = uuid::Uuid::new_v4().to_string();
        let body = json!({
            "id": event_id, "kind": "delivered",
            "observed_at": format!("2024-03-02T{:02}:{:02}:00+04:00", minute / 60, minute % 60),
            "cargo": [{"commodity": "flour", "tonnes": tonnes(kg)}],
            "note": format!("unloading {minute} by client {n}")
        });
        let path = format!("/api/v1/convoys/{}/events", convoys[c]);
        let (_, stored) =
            send_until_acknowledged(&client, &base, &token, &path, &body, &tally, deadline).await;
        assert_eq!(stored["id"], event_id.as_str());
        assert_eq!(stored["cargo"][0]["tonnes"], tonnes(kg).as_str());
        acked.insert(event_id, (convoys[c].clone(), "delivered".into(), kg));
        sent.push((path, body));
    }
    (convoys, acked)
}

async fn acknowledged_events_survive_sigkill_exactly_once(backend: Backend) {
    let started = Instant::now();
    let deadline = started + RUN_LIMIT;
    let db = TestDb::create(backend);
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let probe = reqwest::Client::new();
    let mut server = Server::start(db.url(), port, &dir.path().join("serve.log"));
    let token = server.read_token();
    server.wait_ready(&probe).await;

    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Tally::default());
    let clients: Vec<_> = (0..CLIENTS)
        .map(|n| {
            tokio::spawn(client_run(
                n,
                base.clone(),
                token.clone(),
                stop.clone(),
                tally.clone(),
                deadline,
            ))
        })
        .collect();

    let mut rng = StdRng::seed_from_u64(12);
    for _ in 0..KILLS {
        tokio::time::sleep(Duration::from_millis(rng.gen_range(700..1500))).await;
        server.restart();
        server.wait_ready(&probe).await;
    }
    // Some load on the last instance before the clients stop.
    tokio::time::sleep(Duration::from_millis(700)).await;
    stop.store(true, Ordering::Relaxed);

    let mut convoys = Vec::new();
    let mut acked = Acknowledged::new();
    for handle in clients {
        let (c, a) = handle.await.expect("client task");
        convoys.extend(c);
        acked.extend(a);
    }
    let created = tally.created.load(Ordering::Relaxed);
    let replayed = tally.replayed.load(Ordering::Relaxed);
    let failed = tally.failed_attempts.load(Ordering::Relaxed);
    assert!(
        failed >= KILLS as u64,
        "the kills interrupted the clients ({failed} failed attempts)"
    );

    // Every acknowledged event stored exactly once, with its cargo; nothing else stored.
    let mut seen = HashSet::new();
    for convoy in &convoys {
        let events = probe
            .get(format!("{base}/api/v1/convoys/{convoy}/events"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(events.status().as_u16(), 200);
        let events: Value = events.json().await.unwrap();
        let mut delivered_kg = 0;
        for e in events.as_array().unwrap() {
            let id = e["id"].as_str().unwrap().to_string();
            assert!(seen.insert(id.clone()), "event {id} is stored twice");
            let (acked_convoy, kind, cargo_kg) = acked
                .get(&id)
                .unwrap_or_else(|| panic!("event {id} is stored but was never acknowledged"));
            assert_eq!(acked_convoy, convoy);
            assert_eq!(e["kind"], kind.as_str());
            assert_eq!(e["voided"], false);
            if kind == "delivered" {
                let lines = e["cargo"].as_array().unwrap();
                assert_eq!(lines.len(), 1, "{e}");
                assert_eq!(kg(lines[0]["tonnes"].as_str().unwrap()), *cargo_kg);
                delivered_kg += cargo_kg;
            }
        }
        let acked_kg: u64 = acked
            .values()
            .filter(|(c, _, _)| c == convoy)
            .map(|(_, _, kg)| kg)
            .sum();
        assert_eq!(delivered_kg, acked_kg);
        let c: Value = probe
            .get(format!("{base}/api/v1/convoys/{convoy}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            c["totals"]["delivered"],
            tonnes(delivered_kg).as_str(),
            "{convoy}: delivered is the sum of its stored deliveries"
        );
        assert_eq!(c["status"], "in_transit", "{c}");
    }
    assert_eq!(
        seen.len(),
        acked.len(),
        "every acknowledged event is stored"
    );
    server.kill();
    eprintln!(
        "durability on {backend:?}: {} events and {} convoys acknowledged ({created} created, {replayed} replays) through {KILLS} SIGKILLs, {failed} failed attempts retried, in {:.1} s",
        acked.len(),
        convoys.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(started.elapsed() < RUN_LIMIT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_events_survive_sigkill_exactly_once_on_sqlite() {
    acknowledged_events_survive_sigkill_exactly_once(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_events_survive_sigkill_exactly_once_on_postgres() {
    if postgres_available() {
        acknowledged_events_survive_sigkill_exactly_once(Backend::Postgres).await;
    }
}
