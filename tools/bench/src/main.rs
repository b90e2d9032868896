//! `aidflow-bench`: measures aidflow against its own database on this machine, in one run.
//!
//! For each backend (SQLite, then PostgreSQL) it starts `aidflow serve` (release build),
//! and measures, each beside the same database's raw rate at the same concurrency:
//! - ingest: event POSTs from 64 concurrent connections vs single-row INSERT+COMMIT;
//! - sync: 1000-event batches vs 1000-row batched inserts;
//! - CSV import: a 3,000-row file for one convoy in one request, per event beside a sync
//!   batch's cost per event;
//! - a long convoy: 1,000 events POSTed one at a time to one fresh convoy, the latency of
//!   the last 50 against the first 50;
//! - reports: weekly report latency with N events of generated history vs a raw GROUP BY;
//! - pages: the browser pages (overview, a typical and the longest convoy, a week) with N
//!   events of history, signed in with a session cookie, p99 against the 30 ms target;
//! - pages also the convoy list with filters, as the browser (`/convoys?status=held&route=…`)
//!   and as the API (`GET /api/v1/convoys?status=held&route=…`) asks for it;
//! - field: the field app's first load (its page and assets), gzip bytes on the wire
//!   against the 150 KB target;
//! - office: the field-office figure, a second server on a fresh SQLite database pinned
//!   to one core (`taskset -c 0`), event POSTs from 16 connections, beside the raw
//!   single-row rate of SQLite on that same core with 16 writers;
//! - memory: the server's RSS when idle and at its peak in each phase.
//!
//! It prints a table, then every target of issue 15 with its figure, raw baseline, ratio
//! and whether it is met, and writes the figures and targets as JSON. Run it through
//! `scripts/bench`.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::web::Bytes;
use anyhow::{anyhow, bail, Context};
use chrono::{DateTime, TimeZone, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::{PgConnection, SqliteConnection};
use serde_json::{json, Value};

use aidflow::db::schema::{
    checkpoints, commodities, convoy_figures, convoys, deliveries, event_lines, events,
    manifest_lines, organizations, rollup_state, routes, week_rollups,
};
use aidflow::domain::ledger::EventKind;
use aidflow::domain::trucks::{self, TruckCounts, TruckEvent};
use aidflow::domain::week::IsoWeek;
use aidflow::store::convoys::{ConvoyRow, EventLineRow, EventRow, FiguresRow, ManifestLineRow};
use aidflow::store::rollups::DeliveryRow;

const CONCURRENCY: usize = 64;
/// The field office's connections, and the core its server is pinned to.
const OFFICE_CONNECTIONS: usize = 16;
const OFFICE_CORE: &str = "0";
/// The core the load generator moves to during the office phase, off the server's.
const OFFICE_CLIENT_CORE: &str = "1";
/// The route of the history and of the benchmark's own convoys.
const ROUTE: &str = "lachin";
/// Rows of the CSV file imported in one request.
const IMPORT_ROWS: usize = 3000;
/// Events POSTed one at a time to one convoy, and how many at each end are compared.
const LONG_CONVOY_EVENTS: usize = 1000;
const LONG_CONVOY_WINDOW: usize = 50;
// The targets of issue 15 (performance).
/// Ingest against the raw single-row insert+commit rate, at 64 connections.
const INGEST_RATIO_TARGET: f64 = 1.0;
/// The field office against the raw rate on its one core: an aim, reported only.
const OFFICE_RATIO_AIM: f64 = 1.0;
/// One 1000-event sync batch, p99.
const SYNC_P99_TARGET_MS: f64 = 60.0;
/// Sync against raw 1000-row batched inserts.
const SYNC_RATIO_TARGET: f64 = 0.25;
/// A long convoy's last 50 events against its first 50 (median latency).
const LONG_CONVOY_RATIO_TARGET: f64 = 2.0;
/// The CSV import of `IMPORT_ROWS` rows for one convoy, in seconds (strictly below).
const IMPORT_TARGET_S: f64 = 1.0;
/// The weekly report's p99 at each history.
const REPORT_TARGET_P99_MS: f64 = 30.0;
/// Each browser page and the API's convoy list: server time p99, at each history.
const PAGE_TARGET_P99_MS: f64 = 30.0;
/// The server's RSS when idle, and at the peak of every phase.
const RSS_IDLE_TARGET_MIB: f64 = 30.0;
const RSS_PEAK_TARGET_MIB: f64 = 100.0;
/// The field app's first load, compressed, in KB (1 KB = 1000 bytes).
const FIELD_TARGET_KB: f64 = 150.0;
/// The field app's first load: its page, its stylesheets and script, its service worker.
const FIELD_FILES: [&str; 5] = [
    "/field/",
    "/static/app.css",
    "/static/field.css",
    "/static/field.js",
    "/field/sw.js",
];
/// The phases, in the order they run; `--phases` picks some of them.
const PHASES: [&str; 8] = [
    "ingest",
    "sync",
    "import",
    "long-convoy",
    "reports",
    "pages",
    "field",
    "office",
];

struct Options {
    quick: bool,
    ingest_seconds: u64,
    sync_events: usize,
    histories: Vec<usize>,
    report_requests: usize,
    page_requests: usize,
    phases: Vec<String>,
    backends: Vec<String>,
    out: String,
    pg_admin: String,
}

fn options() -> anyhow::Result<Options> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // --quick picks small settings (a run of a few minutes); options beside it win.
    let quick = args.iter().any(|a| a == "--quick");
    let mut o = Options {
        quick,
        ingest_seconds: if quick { 3 } else { 15 },
        sync_events: if quick { 5_000 } else { 100_000 },
        histories: if quick {
            vec![100_000]
        } else {
            vec![1_000_000, 10_000_000]
        },
        report_requests: 100,
        page_requests: if quick { 50 } else { 200 },
        phases: PHASES.iter().map(|p| p.to_string()).collect(),
        backends: vec!["sqlite".into(), "postgres".into()],
        out: "bench-results/bench.json".into(),
        pg_admin: std::env::var("AIDFLOW_BENCH_PG")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into()),
    };
    let mut i = 0;
    while i < args.len() {
        if args[i] == "--quick" {
            i += 1;
            continue;
        }
        let value = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--ingest-seconds" => o.ingest_seconds = value.parse()?,
            "--sync-events" => o.sync_events = value.parse()?,
            "--history" => {
                o.histories = value
                    .split(',')
                    .map(|v| v.parse())
                    .collect::<Result<_, _>>()?;
            }
            "--report-requests" => o.report_requests = value.parse()?,
            "--page-requests" => o.page_requests = value.parse()?,
            "--phases" => {
                o.phases = value.split(',').map(str::to_string).collect();
                if let Some(p) = o.phases.iter().find(|p| !PHASES.contains(&p.as_str())) {
                    bail!("unknown phase {p}; the phases are {}", PHASES.join(","));
                }
            }
            "--backends" => o.backends = value.split(',').map(str::to_string).collect(),
            "--out" => o.out = value,
            other => bail!("unknown option {other}; see scripts/bench --help"),
        }
        i += 2;
    }
    Ok(o)
}

impl Options {
    fn runs(&self, phase: &str) -> bool {
        self.phases.iter().any(|p| p == phase)
    }
}

// ------------------------------------------------------------------ the server

struct Server {
    child: Child,
    base: String,
    token: String,
}

impl Server {
    /// `aidflow serve` on `db_url`, run through `prefix` if it is not empty (e.g.
    /// `taskset -c 0`, which execs the server in its own process: the pid stays the
    /// server's).
    fn start(db_url: &str, prefix: &[&str]) -> anyhow::Result<Server> {
        let bin = std::env::current_exe()?.with_file_name("aidflow");
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let mut command = match prefix.split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(&bin);
                c
            }
            None => Command::new(&bin),
        };
        let mut child = command
            .arg("serve")
            .env("AIDFLOW__DATABASE__URL", db_url)
            .env("AIDFLOW__SERVER__PORT", port.to_string())
            .env("AIDFLOW__SERVER__HOST", "127.0.0.1")
            .env("AIDFLOW__JOBS__ENABLED", "false")
            .env("AIDFLOW__LOG__LEVEL", "warn")
            .env("AIDFLOW__DATABASE__POOL_SIZE", "16")
            .stdout(Stdio::piped())
            // AIDFLOW_BENCH_SERVER_LOG=FILE keeps the server's warnings, for diagnosis.
            .stderr(match std::env::var("AIDFLOW_BENCH_SERVER_LOG") {
                Ok(path) => Stdio::from(std::fs::File::create(path)?),
                Err(_) => Stdio::null(),
            })
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?)
            .read_line(&mut line)?;
        let token = line.trim().to_string();
        if !token.starts_with("afw_") {
            bail!("aidflow serve printed no admin token (is the database empty?)");
        }
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                bail!("aidflow serve did not start listening");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(Server { child, base, token })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// RSS of a process in MiB, from /proc.
fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// Samples a process's RSS every 20 ms and keeps the peak.
struct Sampler {
    stop: Arc<AtomicBool>,
    peak_kib: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Sampler {
    fn start(pid: u32) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let peak_kib = Arc::new(AtomicU64::new(0));
        let (s, p) = (stop.clone(), peak_kib.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                p.fetch_max((rss_mib(pid) * 1024.0) as u64, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        Sampler {
            stop,
            peak_kib,
            thread: Some(thread),
        }
    }

    fn finish(mut self) -> f64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.peak_kib.load(Ordering::Relaxed) as f64 / 1024.0
    }
}

// ------------------------------------------------------------------ HTTP load

fn percentile(sorted_ms: &[f64], p: f64) -> f64 {
    if sorted_ms.is_empty() {
        return 0.0;
    }
    let i = ((p / 100.0) * (sorted_ms.len() - 1) as f64).round() as usize;
    sorted_ms[i.min(sorted_ms.len() - 1)]
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(|a, b| a.total_cmp(b));
    v
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(CONCURRENCY)
        .build()
        .unwrap_or_default()
}

async fn post(
    c: &reqwest::Client,
    s: &Server,
    path: &str,
    body: &Value,
) -> anyhow::Result<(u16, Value)> {
    let res = c
        .post(format!("{}{path}", s.base))
        .bearer_auth(&s.token)
        .json(body)
        .send()
        .await?;
    let status = res.status().as_u16();
    let value = res.json::<Value>().await.unwrap_or(Value::Null);
    Ok((status, value))
}

/// Creates `n` convoys on the benchmark's route, 1000 per sync batch.
async fn make_convoys(
    c: &reqwest::Client,
    s: &Server,
    n: usize,
    tag: &str,
) -> anyhow::Result<Vec<String>> {
    let ids: Vec<String> = (0..n).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    for (b, chunk) in ids.chunks(1000).enumerate() {
        let convoys: Vec<Value> = chunk
            .iter()
            .enumerate()
            .map(|(i, id)| json!({
                "id": id, "organization": "icrc", "reference": format!("BENCH-{tag}-{b}-{i}"), "route": ROUTE,
                "planned_departure": "2024-01-01T08:00:00+04:00",
                "manifest": [{"commodity": "flour", "tonnes": "20"}, {"commodity": "food", "tonnes": "5"}]
            }))
            .collect();
        let (status, body) = post(
            c,
            s,
            "/api/v1/sync",
            &json!({"device": "bench", "convoys": convoys}),
        )
        .await?;
        if status != 200 || body["counts"]["created"] != chunk.len() {
            bail!("creating convoys answered {status}: {}", body["counts"]);
        }
    }
    Ok(ids)
}

/// Mean events per group commit so far, from the server's own metrics.
async fn events_per_commit(s: &Server) -> anyhow::Result<f64> {
    let text = client()
        .get(format!("{}/metrics", s.base))
        .send()
        .await?
        .text()
        .await?;
    let value = |name: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0.0)
    };
    let (sum, count) = (
        value("aidflow_event_group_size_sum "),
        value("aidflow_event_group_size_count "),
    );
    Ok(if count > 0.0 { sum / count } else { 0.0 })
}

fn held_event(minute: usize) -> Value {
    let at = Utc
        .with_ymd_and_hms(2024, 1, 1, 6, 0, 0)
        .single()
        .unwrap_or_default()
        + chrono::Duration::minutes(minute as i64);
    json!({"id": uuid::Uuid::new_v4(), "kind": "held", "checkpoint": "KORNIDZOR", "observed_at": at.to_rfc3339()})
}

struct Rate {
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    count: usize,
}

/// `connections` devices (64 for ingest, 16 for the field office), each posting events
/// for its own convoys as fast as answers come back.
async fn ingest(s: &Server, seconds: u64, connections: usize) -> anyhow::Result<Rate> {
    let c = client();
    // Each device logs for 20 convoys in turn, so convoys carry a realistic few dozen
    // events rather than thousands.
    let all = make_convoys(&c, s, connections * 20, "ingest").await?;
    let convoys: Vec<Vec<String>> = all.chunks(20).map(|c| c.to_vec()).collect();
    let latencies: Rc<RefCell<Vec<f64>>> = Rc::default();
    let failures: Rc<RefCell<usize>> = Rc::default();
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for mine in convoys {
        let (c, lat, fail) = (c.clone(), latencies.clone(), failures.clone());
        let (base, token) = (s.base.clone(), s.token.clone());
        tasks.push(actix_web::rt::spawn(async move {
            let mut minute = 0;
            while Instant::now() < deadline {
                minute += 1;
                let path = format!("/api/v1/convoys/{}/events", mine[minute % mine.len()]);
                let t = Instant::now();
                let res = c
                    .post(format!("{base}{path}"))
                    .bearer_auth(&token)
                    .json(&held_event(minute))
                    .send()
                    .await;
                match res {
                    Ok(r) if r.status().as_u16() == 201 => {
                        lat.borrow_mut().push(t.elapsed().as_secs_f64() * 1000.0);
                    }
                    _ => *fail.borrow_mut() += 1,
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let lat = sorted(latencies.borrow().clone());
    if *failures.borrow() > 0 {
        eprintln!("  ingest: {} requests failed", failures.borrow());
    }
    Ok(Rate {
        per_second: lat.len() as f64 / elapsed,
        p50_ms: percentile(&lat, 50.0),
        p99_ms: percentile(&lat, 99.0),
        count: lat.len(),
    })
}

/// Batches of 1000 events, sent one after another, each from a device that logged 100
/// convoys' journeys: 10 events per convoy, every batch new convoys.
async fn sync(s: &Server, total: usize) -> anyhow::Result<Rate> {
    let c = client();
    let convoys = make_convoys(&c, s, total.div_ceil(10).max(100), "sync").await?;
    let mut lat = Vec::new();
    let start = Instant::now();
    let mut sent = 0;
    let mut minute = 0;
    while sent < total {
        minute += 1;
        let events: Vec<Value> = (0..1000)
            .map(|i| {
                let mut e = held_event(minute * 10 + i % 10);
                e["convoy"] = json!(convoys[((minute - 1) * 100 + i / 10) % convoys.len()]);
                e
            })
            .collect();
        let t = Instant::now();
        let (status, body) = post(
            &c,
            s,
            "/api/v1/sync",
            &json!({"device": "bench", "events": events}),
        )
        .await?;
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
        if status != 200 || body["counts"]["created"] != 1000 {
            bail!("a sync batch answered {status}: {}", body["counts"]);
        }
        sent += 1000;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let lat = sorted(lat);
    Ok(Rate {
        per_second: sent as f64 / elapsed,
        p50_ms: percentile(&lat, 50.0),
        p99_ms: percentile(&lat, 99.0),
        count: sent,
    })
}

async fn report_latency(s: &Server, weeks: &[IsoWeek], requests: usize) -> anyhow::Result<Rate> {
    let c = client();
    let mut lat = Vec::new();
    for i in 0..requests {
        let w = weeks[(i * 7919) % weeks.len()];
        let t = Instant::now();
        let res = c
            .get(format!("{}/api/v1/reports/weekly/{}", s.base, w.key()))
            .bearer_auth(&s.token)
            .send()
            .await?;
        let status = res.status().as_u16();
        let _ = res.bytes().await?;
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
        if status != 200 {
            bail!("weekly report {} answered {status}", w.key());
        }
    }
    let total: f64 = lat.iter().sum::<f64>() / 1000.0;
    let lat = sorted(lat);
    Ok(Rate {
        per_second: requests as f64 / total,
        p50_ms: percentile(&lat, 50.0),
        p99_ms: percentile(&lat, 99.0),
        count: requests,
    })
}

// ------------------------------------------------------------------ browser pages

/// The browser's client: it does not follow redirects (the sign-in's 303 carries the
/// session cookie), and reqwest is built without its gzip feature, so a compressed body
/// is received as it came over the wire. Like a browser it keeps its connection open
/// between requests; `fresh` opens a new connection for each request instead.
fn browser(fresh: bool) -> reqwest::Client {
    let b = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
    let b = if fresh {
        b.pool_max_idle_per_host(0)
    } else {
        b
    };
    b.build().unwrap_or_default()
}

/// `value` for an `application/x-www-form-urlencoded` body.
fn form_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Signs in with the admin token as the sign-in form does: the session cookie, as
/// `name=value` for a `Cookie` header.
async fn sign_in(c: &reqwest::Client, s: &Server) -> anyhow::Result<String> {
    let res = c
        .post(format!("{}/sign-in", s.base))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!("token={}&next=/", form_encode(&s.token)))
        .send()
        .await?;
    let status = res.status().as_u16();
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("aidflow_session="))
        .and_then(|v| v.split(';').next())
        .map(str::to_string);
    match (status, cookie) {
        (303, Some(cookie)) => Ok(cookie),
        (status, _) => bail!("signing in answered {status} without a session cookie"),
    }
}

/// One answer as received: status, `Content-Type`, `Content-Encoding` and the body's
/// bytes on the wire.
struct Answer {
    status: u16,
    content_type: Option<String>,
    encoding: Option<String>,
    wire: reqwest::Result<Bytes>,
}

async fn receive(req: reqwest::RequestBuilder, gzip: bool) -> anyhow::Result<Answer> {
    let req = if gzip {
        req.header("Accept-Encoding", "gzip")
    } else {
        req
    };
    let res = req.send().await?;
    let status = res.status().as_u16();
    let header = |name: &str| {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let (content_type, encoding) = (header("content-type"), header("content-encoding"));
    let wire = res.bytes().await;
    Ok(Answer {
        status,
        content_type,
        encoding,
        wire,
    })
}

async fn get_as_browser(
    c: &reqwest::Client,
    s: &Server,
    path: &str,
    cookie: &str,
    gzip: bool,
) -> anyhow::Result<Answer> {
    receive(
        c.get(format!("{}{path}", s.base)).header("Cookie", cookie),
        gzip,
    )
    .await
}

/// The body of a gzip answer, decompressed with actix's own decoder (the benchmark adds
/// no dependency for it).
async fn gunzip(wire: Bytes) -> anyhow::Result<Bytes> {
    let payload: actix_web::dev::Payload = actix_web::dev::Payload::from(wire);
    let decoder =
        actix_web::dev::Decompress::new(payload, actix_web::http::header::ContentEncoding::Gzip);
    actix_web::body::to_bytes(actix_web::body::BodyStream::new(decoder))
        .await
        .map_err(|e| anyhow!("the gzip body does not decompress: {e}"))
}

/// How many of something an answer must show.
#[derive(Clone, Copy)]
enum Expect {
    Any,
    Exactly(usize),
    AtLeast(usize),
}

/// A page to measure: where it is, who asks for it, what its answer must contain, and
/// what else to count in it.
struct Page {
    key: &'static str,
    path: String,
    /// Asked for by an API client (the bearer token; a 200 JSON object) rather than by
    /// the signed-in browser (the session cookie; 200 gzip HTML).
    api: bool,
    /// What every answer must contain: for a browser page a piece of its HTML, for the
    /// API a key of its JSON object.
    marker: &'static str,
    /// `(what, pattern, expected)`: e.g. the convoy's events on its timeline, counted as
    /// the pattern's occurrences in the HTML; for the API, the length of the array under
    /// the key `pattern`.
    count: Option<(&'static str, &'static str, Expect)>,
}

impl Page {
    fn html(key: &'static str, path: String, marker: &'static str) -> Page {
        Page {
            key,
            path,
            api: false,
            marker,
            count: None,
        }
    }

    fn counting(self, what: &'static str, pattern: &'static str, expect: Expect) -> Page {
        Page {
            count: Some((what, pattern, expect)),
            ..self
        }
    }

    async fn ask(&self, c: &reqwest::Client, s: &Server, cookie: &str) -> anyhow::Result<Answer> {
        if self.api {
            receive(
                c.get(format!("{}{}", s.base, self.path))
                    .bearer_auth(&s.token),
                true,
            )
            .await
        } else {
            get_as_browser(c, s, &self.path, cookie, true).await
        }
    }

    /// Checks one answer: 200, and for a browser page gzip and the marker in its HTML,
    /// for the API a JSON object with the marker's key. Its bytes on the wire and its body.
    async fn check(&self, a: Answer) -> anyhow::Result<(usize, Bytes)> {
        let wire = a.wire?;
        if a.status != 200 {
            bail!("{} answered {}", self.path, a.status);
        }
        let gzip = a.encoding.as_deref() == Some("gzip");
        if !self.api && !gzip {
            bail!(
                "{} came back with Content-Encoding {:?}, not gzip",
                self.path,
                a.encoding
            );
        }
        let body = if gzip {
            gunzip(wire.clone()).await?
        } else {
            wire.clone()
        };
        let found = if self.api {
            if !a
                .content_type
                .as_deref()
                .is_some_and(|t| t.starts_with("application/json"))
            {
                bail!(
                    "{} answered with Content-Type {:?}, not JSON",
                    self.path,
                    a.content_type
                );
            }
            serde_json::from_slice::<Value>(&body)
                .ok()
                .is_some_and(|v| v.get(self.marker).is_some())
        } else {
            String::from_utf8_lossy(&body).contains(self.marker)
        };
        if !found {
            bail!("{} answered 200 without {}", self.path, self.marker);
        }
        Ok((wire.len(), body))
    }

    /// What it counts in a checked body, checked against what it expects.
    fn counted(&self, body: &[u8]) -> anyhow::Result<Option<(&'static str, usize)>> {
        let Some((what, pattern, expect)) = self.count else {
            return Ok(None);
        };
        let n = if self.api {
            serde_json::from_slice::<Value>(body)
                .ok()
                .and_then(|v| v.get(pattern).and_then(Value::as_array).map(Vec::len))
                .unwrap_or(0)
        } else {
            String::from_utf8_lossy(body).matches(pattern).count()
        };
        match expect {
            Expect::Exactly(e) if e != n => bail!("{} shows {n} {what}, not {e}", self.path),
            Expect::AtLeast(e) if n < e => {
                bail!("{} shows {n} {what}, not at least {e}", self.path)
            }
            _ => Ok(Some((what, n))),
        }
    }
}

struct PageRate {
    rate: Rate,
    wire_bytes: usize,
    body_bytes: usize,
    counted: Option<(&'static str, usize)>,
}

/// `requests` GETs of `page`, one after another, as a signed-in browser (or the API
/// client) asking for gzip; the latency of each until its last byte. One request before
/// them warms the caches and is not counted. Every answer is checked (200, the page's
/// marker; gzip for a browser page).
async fn page_latency(
    c: &reqwest::Client,
    s: &Server,
    cookie: &str,
    page: &Page,
    requests: usize,
) -> anyhow::Result<PageRate> {
    let first = page.ask(c, s, cookie).await?;
    let (wire_bytes, body) = page.check(first).await?;
    let counted = page.counted(&body)?;
    let mut lat = Vec::with_capacity(requests);
    for _ in 0..requests {
        let t = Instant::now();
        let a = page.ask(c, s, cookie).await?;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        page.check(a).await?;
        lat.push(ms);
    }
    let total: f64 = lat.iter().sum::<f64>() / 1000.0;
    let lat = sorted(lat);
    Ok(PageRate {
        rate: Rate {
            per_second: requests as f64 / total.max(1e-9),
            p50_ms: percentile(&lat, 50.0),
            p99_ms: percentile(&lat, 99.0),
            count: requests,
        },
        wire_bytes,
        body_bytes: body.len(),
        counted,
    })
}

/// The events one page of a convoy's timeline shows (`TIMELINE_PAGE` in src/web/convoys.rs).
const TIMELINE_PAGE: usize = 100;

/// The measured pages: their JSON keys and labels, in the order they are printed.
const PAGE_LABELS: [(&str, &str); 7] = [
    ("overview", "overview /"),
    ("convoy_typical", "convoy page, typical"),
    ("convoy_longest", "convoy page, longest, latest"),
    ("convoy_longest_earliest", "convoy page, longest, earliest"),
    ("week", "week page"),
    ("convoy_list", "convoy list, held on route"),
    ("api_convoy_list", "API convoy list, held on route"),
];

/// The convoy list's filter: held convoys on the history's route.
fn held_filter() -> String {
    format!("status=held&route={ROUTE}")
}

/// Makes sure the filtered convoy list has a row: if no convoy on the route is held
/// (the ingest and sync phases leave many held; without them there may be none), one
/// new convoy is held at KORNIDZOR.
async fn ensure_held(s: &Server) -> anyhow::Result<()> {
    let c = client();
    let list: Value = c
        .get(format!(
            "{}/api/v1/convoys?{}&limit=1",
            s.base,
            held_filter()
        ))
        .bearer_auth(&s.token)
        .send()
        .await?
        .json()
        .await?;
    if list["items"]
        .as_array()
        .is_some_and(|items| !items.is_empty())
    {
        return Ok(());
    }
    let convoy = make_convoys(&c, s, 1, "held")
        .await?
        .pop()
        .ok_or_else(|| anyhow!("no convoy to hold"))?;
    let (status, body) = post(
        &c,
        s,
        &format!("/api/v1/convoys/{convoy}/events"),
        &held_event(1),
    )
    .await?;
    if status != 201 {
        bail!("holding a convoy answered {status}: {body}");
    }
    Ok(())
}

/// The pages measured with a history: the overview, a typical convoy of the history, the
/// longest convoy of the run (if there is one), the week of the typical convoy, and the
/// convoy list filtered to the held convoys of the route, as the browser and as the API
/// asks for it. Each is measured as a client asks for it (one connection kept open), then
/// again with a new connection for each request: a gap between the two is the
/// connection's, not the server's work (the gzip answer's last segment held back by
/// Nagle's algorithm until the client's delayed ACK, 40 ms on Linux, when the server does
/// not set TCP_NODELAY).
async fn pages(
    s: &Server,
    history: &History,
    longest: Option<&(String, usize)>,
    requests: usize,
) -> anyhow::Result<BTreeMap<String, Value>> {
    let (c, fresh_c) = (browser(false), browser(true));
    let cookie = sign_in(&c, s).await?;
    ensure_held(s).await?;
    let (typical, week) = history
        .typical
        .clone()
        .ok_or_else(|| anyhow!("the history has no convoy"))?;
    let timeline = |key, path, events| {
        Page::html(key, path, "id=\"timeline\"").counting(
            "events",
            "<li data-event=",
            Expect::Exactly(events),
        )
    };
    let mut list = vec![
        Page::html("overview", "/".into(), "id=\"live\"").counting(
            "convoys",
            "<tr data-convoy=",
            Expect::Any,
        ),
        timeline(
            "convoy_typical",
            format!("/convoys/{typical}"),
            HISTORY_CONVOY_EVENTS,
        ),
    ];
    if let Some((id, events)) = longest {
        // A long timeline is shown a page at a time: its latest events, then the earliest.
        let shown = (*events).min(TIMELINE_PAGE);
        list.push(timeline("convoy_longest", format!("/convoys/{id}"), shown));
        list.push(timeline(
            "convoy_longest_earliest",
            format!("/convoys/{id}?before={}", TIMELINE_PAGE + 1),
            shown,
        ));
    }
    list.push(Page::html(
        "week",
        format!("/reports/weekly/{}", week.key()),
        "id=\"week-figures\"",
    ));
    list.push(
        Page::html(
            "convoy_list",
            format!("/convoys?{}", held_filter()),
            "id=\"convoy-list\"",
        )
        .counting("convoys", "<tr data-convoy=", Expect::AtLeast(1)),
    );
    list.push(
        Page {
            api: true,
            ..Page::html(
                "api_convoy_list",
                format!("/api/v1/convoys?{}", held_filter()),
                "items",
            )
        }
        .counting("convoys", "items", Expect::AtLeast(1)),
    );
    let mut out = BTreeMap::new();
    for page in &list {
        let r = page_latency(&c, s, &cookie, page, requests).await?;
        let fresh = page_latency(&fresh_c, s, &cookie, page, requests).await?;
        let mut v = rate_json(&r.rate);
        v["new_connection_p50_ms"] = json!(round(fresh.rate.p50_ms, 2));
        v["new_connection_p99_ms"] = json!(round(fresh.rate.p99_ms, 2));
        v["path"] = json!(page.path);
        v["p99_to_target"] = json!(round(r.rate.p99_ms / PAGE_TARGET_P99_MS, 3));
        v["wire_bytes"] = json!(r.wire_bytes);
        v[if page.api { "json_bytes" } else { "html_bytes" }] = json!(r.body_bytes);
        if let Some((what, n)) = r.counted {
            v[what] = json!(n);
        }
        out.insert(page.key.to_string(), v);
    }
    Ok(out)
}

/// The field app's first load: each of its files GET with `Accept-Encoding: gzip` (the
/// body's bytes as received, before any decompression) and again without (its size).
async fn field_first_load(s: &Server) -> anyhow::Result<Value> {
    let c = browser(false);
    let cookie = sign_in(&c, s).await?;
    let (mut wire_total, mut plain_total) = (0, 0);
    let mut files = Vec::new();
    for path in FIELD_FILES {
        let a = get_as_browser(&c, s, path, &cookie, true).await?;
        let wire = a.wire?;
        if a.status != 200 {
            bail!("{path} answered {}", a.status);
        }
        if a.encoding.as_deref() != Some("gzip") {
            bail!(
                "{path} came back with Content-Encoding {:?}, not gzip",
                a.encoding
            );
        }
        let unpacked = gunzip(wire.clone()).await?;
        let p = get_as_browser(&c, s, path, &cookie, false).await?;
        let plain = p.wire?;
        if p.status != 200 || p.encoding.is_some() {
            bail!(
                "{path} without Accept-Encoding answered {} with Content-Encoding {:?}",
                p.status,
                p.encoding
            );
        }
        // The page carries the session's CSRF token, so only the assets must match byte
        // for byte.
        if path != "/field/" && unpacked != plain {
            bail!("{path}: the gzip body does not decompress to the plain one");
        }
        wire_total += wire.len();
        plain_total += plain.len();
        files.push(json!({"path": path, "wire_bytes": wire.len(), "bytes": plain.len()}));
    }
    let kb = |b: usize| (b as f64 / 10.0).round() / 100.0;
    Ok(json!({
        "files": files,
        "wire_kb": kb(wire_total),
        "uncompressed_kb": kb(plain_total),
        "target_kb": FIELD_TARGET_KB,
        "wire_to_target": ((wire_total as f64 / 1000.0 / FIELD_TARGET_KB) * 1000.0).round() / 1000.0,
    }))
}

// ------------------------------------------------------------------ one long convoy

/// The `n`-th event of a long-running convoy: departed at the origin with the manifest
/// loaded, then `held` and `cleared` (everything carried on) in turn at KORNIDZOR, a
/// minute apart. The ledger accepts any number of them.
struct LongEvent {
    id: uuid::Uuid,
    kind: &'static str,
    checkpoint: &'static str,
    observed_at: String,
    cargo: &'static [(&'static str, &'static str)],
}

const LOADED: &[(&str, &str)] = &[("flour", "20"), ("food", "5")];

fn long_event(n: usize) -> LongEvent {
    let at = Utc
        .with_ymd_and_hms(2024, 1, 1, 4, 0, 0)
        .single()
        .unwrap_or_default()
        + chrono::Duration::minutes(n as i64);
    let (kind, checkpoint, cargo) = match n {
        0 => ("departed", "GORIS", LOADED),
        n if n % 2 == 1 => ("held", "KORNIDZOR", &[][..]),
        _ => ("cleared", "KORNIDZOR", LOADED),
    };
    LongEvent {
        id: uuid::Uuid::new_v4(),
        kind,
        checkpoint,
        observed_at: at.to_rfc3339(),
        cargo,
    }
}

impl LongEvent {
    fn json(&self) -> Value {
        let cargo: Vec<Value> = self
            .cargo
            .iter()
            .map(|(commodity, tonnes)| json!({"commodity": commodity, "tonnes": tonnes}))
            .collect();
        json!({"id": self.id, "kind": self.kind, "checkpoint": self.checkpoint,
            "observed_at": self.observed_at, "cargo": cargo})
    }

    /// Its CSV rows: one per cargo line, or one without cargo.
    fn csv_rows(&self, convoy: &str) -> Vec<String> {
        let row = |commodity: &str, tonnes: &str| {
            format!(
                "{convoy},{},{},{},{},{commodity},{tonnes}",
                self.id, self.kind, self.checkpoint, self.observed_at
            )
        };
        if self.cargo.is_empty() {
            vec![row("", "")]
        } else {
            self.cargo.iter().map(|(c, t)| row(c, t)).collect()
        }
    }
}

struct Import {
    rows: usize,
    events: usize,
    seconds: f64,
    convoy: String,
}

/// One CSV file of `IMPORT_ROWS` rows for one fresh convoy, in one
/// `POST /api/v1/imports/events`; the wall time of that request.
async fn csv_import(s: &Server) -> anyhow::Result<Import> {
    let c = client();
    let convoy = make_convoys(&c, s, 1, "import")
        .await?
        .pop()
        .ok_or_else(|| anyhow!("no convoy for the import"))?;
    let mut rows = vec!["convoy,event_id,kind,checkpoint,observed_at,commodity,tonnes".to_string()];
    let mut events = 0;
    while rows.len() - 1 < IMPORT_ROWS {
        let more = long_event(events).csv_rows(&convoy);
        if rows.len() - 1 + more.len() > IMPORT_ROWS {
            break;
        }
        rows.extend(more);
        events += 1;
    }
    let file = rows.join("\n") + "\n";
    let t = Instant::now();
    let res = c
        .post(format!("{}/api/v1/imports/events", s.base))
        .bearer_auth(&s.token)
        .header("Content-Type", "text/csv")
        .body(file)
        .send()
        .await?;
    let status = res.status().as_u16();
    let body = res.json::<Value>().await.unwrap_or(Value::Null);
    let seconds = t.elapsed().as_secs_f64();
    if status != 201 || body["created"] != events {
        let text = body.to_string();
        bail!(
            "the CSV import answered {status}: {}",
            text.chars().take(600).collect::<String>()
        );
    }
    Ok(Import {
        rows: rows.len() - 1,
        events,
        seconds,
        convoy,
    })
}

struct LongConvoy {
    first_ms: f64,
    last_ms: f64,
    convoy: String,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// `LONG_CONVOY_EVENTS` events POSTed one after another, by one client, to one fresh
/// convoy; the median latency of the first and of the last `LONG_CONVOY_WINDOW`.
async fn long_convoy(s: &Server) -> anyhow::Result<LongConvoy> {
    let c = client();
    let convoy = make_convoys(&c, s, 1, "long")
        .await?
        .pop()
        .ok_or_else(|| anyhow!("no convoy for the long convoy"))?;
    let path = format!("/api/v1/convoys/{convoy}/events");
    let mut lat = Vec::with_capacity(LONG_CONVOY_EVENTS);
    for n in 0..LONG_CONVOY_EVENTS {
        let event = long_event(n).json();
        let t = Instant::now();
        let (status, body) = post(&c, s, &path, &event).await?;
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
        if status != 201 {
            bail!(
                "event {} of the long convoy answered {status}: {}",
                n + 1,
                body.get("detail").unwrap_or(&body)
            );
        }
    }
    let first = lat.get(..LONG_CONVOY_WINDOW).unwrap_or(&lat).to_vec();
    let last = lat
        .get(lat.len().saturating_sub(LONG_CONVOY_WINDOW)..)
        .unwrap_or(&lat)
        .to_vec();
    Ok(LongConvoy {
        first_ms: median(first),
        last_ms: median(last),
        convoy,
    })
}

// ------------------------------------------------------------------ raw baselines

const RAW_TABLE: &str = "CREATE TABLE IF NOT EXISTS bench_raw (id TEXT PRIMARY KEY, convoy TEXT NOT NULL, observed_at BIGINT NOT NULL, payload TEXT NOT NULL)";

/// Single-row INSERT + COMMIT from `threads` threads (64 for ingest) on SQLite, with
/// aidflow's pragmas.
fn raw_sqlite_single(path: &str, seconds: u64, threads: usize) -> anyhow::Result<f64> {
    let mut setup = SqliteConnection::establish(path)?;
    setup.batch_execute(&format!("PRAGMA journal_mode = WAL; {RAW_TABLE};"))?;
    let count = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let threads: Vec<_> = (0..threads)
        .map(|t| {
            let (count, path) = (count.clone(), path.to_string());
            std::thread::spawn(move || -> anyhow::Result<()> {
                let mut c = SqliteConnection::establish(&path)?;
                c.batch_execute("PRAGMA busy_timeout = 60000; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")?;
                let mut i = 0u64;
                while Instant::now() < deadline {
                    i += 1;
                    let sql = format!(
                        "BEGIN IMMEDIATE; INSERT INTO bench_raw VALUES ('{t}-{i}-{}', 'c{t}', {i}, '{{\"kind\":\"held\"}}'); COMMIT;",
                        uuid::Uuid::new_v4()
                    );
                    match c.batch_execute(&sql) {
                        Ok(()) => {
                            count.fetch_add(1, Ordering::Relaxed);
                        }
                        // A writer that waited out busy_timeout behind the others tries again,
                        // as aidflow's own writers would.
                        Err(e) if e.to_string().contains("locked") => {
                            let _ = c.batch_execute("ROLLBACK");
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
                Ok(())
            })
        })
        .collect();
    for t in threads {
        t.join()
            .map_err(|_| anyhow!("raw insert thread panicked"))??;
    }
    Ok(count.load(Ordering::Relaxed) as f64 / seconds as f64)
}

/// The same with pgbench: 64 clients, one INSERT per transaction.
fn raw_pg_single(url: &str, seconds: u64) -> anyhow::Result<f64> {
    let mut setup = PgConnection::establish(url)?;
    setup.batch_execute(RAW_TABLE)?;
    let dir = tempfile_dir()?;
    let script = format!("{dir}/insert.sql");
    std::fs::write(&script, "INSERT INTO bench_raw VALUES (gen_random_uuid()::text, 'c' || :client_id, 0, '{\"kind\":\"held\"}');\n")?;
    let out = Command::new("pgbench")
        .args([
            "-n",
            "-c",
            &CONCURRENCY.to_string(),
            "-j",
            "2",
            "-T",
            &seconds.to_string(),
            "-f",
            &script,
            url,
        ])
        .output()
        .context("running pgbench (install postgresql-client)")?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find(|l| l.starts_with("tps = "))
        .and_then(|l| l.split_whitespace().nth(2))
        .and_then(|v| v.parse::<f64>().ok())
        .ok_or_else(|| {
            anyhow!(
                "pgbench printed no tps: {text}{}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
}

fn tempfile_dir() -> anyhow::Result<String> {
    let dir = std::env::temp_dir().join(format!("aidflow-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir.display().to_string())
}

/// 1000-row transactions, 100 of them, on one connection.
fn raw_batched<C: Connection>(conn: &mut C, batches: usize) -> anyhow::Result<f64> {
    conn.batch_execute(RAW_TABLE)?;
    let start = Instant::now();
    for b in 0..batches {
        let values: Vec<String> = (0..1000)
            .map(|i| {
                format!(
                    "('b{b}-{i}-{}', 'c{}', {i}, '{{\"kind\":\"held\"}}')",
                    uuid::Uuid::new_v4(),
                    i % 100
                )
            })
            .collect();
        conn.batch_execute(&format!(
            "BEGIN; INSERT INTO bench_raw VALUES {}; COMMIT;",
            values.join(",")
        ))?;
    }
    Ok((batches * 1000) as f64 / start.elapsed().as_secs_f64())
}

// ------------------------------------------------------------------ the field office

/// The hidden subcommand that measures the raw SQLite rate in a process of its own, so
/// that it can run pinned to the office's core:
/// `aidflow-bench raw-sqlite-single PATH SECONDS THREADS` prints the commits per second.
const RAW_SUBCOMMAND: &str = "raw-sqlite-single";

fn raw_subcommand(args: &[String]) -> anyhow::Result<()> {
    let [path, seconds, threads] = args else {
        bail!("usage: aidflow-bench {RAW_SUBCOMMAND} PATH SECONDS THREADS");
    };
    let rate = raw_sqlite_single(path, seconds.parse()?, threads.parse()?)?;
    println!("{rate}");
    Ok(())
}

/// `taskset` with `args`; its standard output, or why it failed.
fn taskset(args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new("taskset").args(args).output().context(
        "the office phase pins processes to a core with taskset (util-linux), which is not \
         installed: install util-linux, or leave the phase out with --phases",
    )?;
    if !out.status.success() {
        bail!(
            "taskset {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The CPUs a process may run on, as taskset lists them (`0`, `0,1`, `0-1`).
fn cpus_of(pid: u32) -> anyhow::Result<String> {
    let text = taskset(&["-c", "-p", &pid.to_string()])?;
    text.rsplit_once(": ")
        .map(|(_, list)| list.trim().to_string())
        .ok_or_else(|| anyhow!("taskset -c -p {pid} printed {text:?}"))
}

/// While it lives, every thread of the benchmark (the load generator) runs on
/// `OFFICE_CLIENT_CORE`, off the server's core; dropped, it gives back the CPUs the
/// benchmark had. Where that core does not exist, the benchmark stays where it was and
/// shares the server's core.
struct OffServerCore {
    before: String,
    moved: bool,
}

impl OffServerCore {
    fn enter() -> anyhow::Result<OffServerCore> {
        let pid = std::process::id().to_string();
        let before = cpus_of(std::process::id())?;
        let moved = taskset(&["-a", "-c", "-p", OFFICE_CLIENT_CORE, &pid]).is_ok();
        if !moved {
            eprintln!(
                "  office: no core {OFFICE_CLIENT_CORE} to move the load generator to; it shares core {OFFICE_CORE} with the server"
            );
        }
        Ok(OffServerCore { before, moved })
    }

    fn cpus(&self) -> &str {
        if self.moved {
            OFFICE_CLIENT_CORE
        } else {
            &self.before
        }
    }
}

impl Drop for OffServerCore {
    fn drop(&mut self) {
        if self.moved {
            let pid = std::process::id().to_string();
            if let Err(e) = taskset(&["-a", "-c", "-p", &self.before, &pid]) {
                eprintln!("  office: could not give the benchmark its CPUs back: {e}");
            }
        }
    }
}

/// The raw single-row rate of SQLite on the office's core: this program again, as
/// `taskset -c OFFICE_CORE aidflow-bench raw-sqlite-single …`.
fn raw_sqlite_single_pinned(path: &str, seconds: u64, threads: usize) -> anyhow::Result<f64> {
    let exe = std::env::current_exe()?.display().to_string();
    let (seconds, threads) = (seconds.to_string(), threads.to_string());
    let text = taskset(&[
        "-c",
        OFFICE_CORE,
        &exe,
        RAW_SUBCOMMAND,
        path,
        &seconds,
        &threads,
    ])?;
    text.parse()
        .with_context(|| format!("{RAW_SUBCOMMAND} printed {text:?}"))
}

/// The field-office figure: a second server on a fresh SQLite database, pinned to one
/// core, takes event POSTs from `OFFICE_CONNECTIONS` connections for the ingest seconds
/// (the ingest phase's load, from a load generator on another core); then the raw
/// single-row rate of SQLite on that core with as many writers. The figures, and the
/// server's RSS peak.
fn office(o: &Options, dir: &str) -> anyhow::Result<(Value, f64)> {
    let (path, raw_path) = (format!("{dir}/office.db"), format!("{dir}/office-raw.db"));
    for p in [&path, &raw_path] {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{p}{suffix}"));
        }
    }
    let client = OffServerCore::enter()?;
    let server = Server::start(&format!("sqlite://{path}"), &["taskset", "-c", OFFICE_CORE])?;
    let server_cpus = cpus_of(server.pid())?;
    let (rate, peak) = with_peak(server.pid(), || {
        actix_web::rt::System::new().block_on(ingest(&server, o.ingest_seconds, OFFICE_CONNECTIONS))
    })?;
    let per_commit = actix_web::rt::System::new().block_on(events_per_commit(&server))?;
    drop(server);
    let raw = raw_sqlite_single_pinned(&raw_path, o.ingest_seconds, OFFICE_CONNECTIONS)?;
    let figures = json!({
        "connections": OFFICE_CONNECTIONS,
        "server_cpus": server_cpus,
        "load_generator_cpus": client.cpus(),
        "raw_cpus": OFFICE_CORE,
        "ingest": rate_json(&rate),
        "events_per_commit": round(per_commit, 1),
        "raw_single_insert_per_second": raw.round(),
        "ratio": round(rate.per_second / raw, 3),
        "aim_ratio": OFFICE_RATIO_AIM,
    });
    Ok((figures, peak))
}

// ------------------------------------------------------------------ history

/// Events of each generated convoy: departed, arrived and cleared at the three
/// checkpoints on the way, arrived and delivered.
const HISTORY_CONVOY_EVENTS: usize = 9;

/// What the generated history covers.
struct History {
    weeks: Vec<IsoWeek>,
    /// A convoy from the middle of it (9 events, like every generated convoy) and the
    /// week it arrived in.
    typical: Option<(String, IsoWeek)>,
}

/// Writes `n_events` of history straight into the database: convoys of 9 events each
/// (a manifest of 2 lines, departed with both, arrivals and clearances at each
/// checkpoint, delivered with both), over three years, with their figures, receipts and
/// weekly rollups, as the service itself would have stored them (so their pages show). One body for both connection types.
macro_rules! history_for {
    ($name:ident, $conn:ty) => {
        fn $name(conn: &mut $conn, n_events: usize, generation: usize) -> anyhow::Result<History> {
            let cps: BTreeMap<String, String> = checkpoints::table
                .select((checkpoints::code, checkpoints::id))
                .load::<(String, String)>(conn)?
                .into_iter()
                .collect();
            let cos: BTreeMap<String, String> = commodities::table
                .select((commodities::code, commodities::id))
                .load::<(String, String)>(conn)?
                .into_iter()
                .collect();
            let route: String = routes::table
                .filter(routes::code.eq(ROUTE))
                .select(routes::id)
                .first(conn)?;
            let orgs: Vec<String> = organizations::table
                .select(organizations::id)
                .order(organizations::slug.asc())
                .load(conn)?;
            let tz: chrono_tz::Tz = rollup_state::table
                .select(rollup_state::timezone)
                .first::<String>(conn)
                .optional()?
                .and_then(|z| z.parse().ok())
                .unwrap_or(chrono_tz::Asia::Yerevan);
            let stops = ["GORIS", "KORNIDZOR", "HAKARI", "SHUSHA", "STEPANAKERT"];
            let stop_codes: Vec<String> = stops.map(String::from).to_vec();
            let cp_codes: BTreeMap<String, String> = cps
                .iter()
                .map(|(code, id)| (id.clone(), code.clone()))
                .collect();
            let (flour, food) = (cos["flour"].clone(), cos["food"].clone());
            let n_convoys = (n_events / HISTORY_CONVOY_EVENTS).max(1);
            let start: DateTime<Utc> = Utc
                .with_ymd_and_hms(2021, 1, 4, 4, 0, 0)
                .single()
                .unwrap_or_default();
            // 155 weeks, ending before the benchmark's own convoys (2024-W01).
            let span_minutes: i64 = 155 * 7 * 24 * 60;
            let mut rollups: BTreeMap<(String, String, String), [i64; 3]> = BTreeMap::new();
            let mut weeks = std::collections::BTreeSet::new();
            let mut typical = None;
            let chunk = 2000;
            let mut i = 0;
            while i < n_convoys {
                let end = (i + chunk).min(n_convoys);
                let (mut cv, mut ev, mut lines, mut figs, mut dels, mut manifest) = (
                    Vec::new(),
                    Vec::new(),
                    Vec::new(),
                    Vec::new(),
                    Vec::new(),
                    Vec::new(),
                );
                for k in i..end {
                    let id = uuid::Uuid::new_v4().to_string();
                    let org = orgs[k % orgs.len()].clone();
                    let depart = start
                        + chrono::Duration::minutes(span_minutes * k as i64 / n_convoys as i64);
                    let arrive = depart + chrono::Duration::hours(4);
                    let (fkg, okg) = (20_000 + (k % 7) as i64 * 1000, 5_000);
                    let week = IsoWeek::containing(arrive, tz);
                    weeks.insert(week);
                    if k == n_convoys / 2 {
                        typical = Some((id.clone(), week));
                    }
                    cv.push(ConvoyRow {
                        id: id.clone(),
                        organization_id: org.clone(),
                        reference: format!("H{generation}-{k}"),
                        route_id: route.clone(),
                        trucks: Some(2),
                        planned_departure: depart.timestamp_micros(),
                        planned_departure_offset: 14400,
                        expected_arrival: arrive.timestamp_micros(),
                        expected_arrival_offset: 14400,
                        note: None,
                        status: "delivered".into(),
                        last_checkpoint_id: Some(cps["STEPANAKERT"].clone()),
                        last_seen_at: Some(arrive.timestamp_micros()),
                        planned_kg: fkg + okg,
                        loaded_kg: fkg + okg,
                        delivered_kg: fkg + okg,
                        short_loaded_kg: 0,
                        denied_kg: 0,
                        lost_kg: 0,
                        rejected_kg: 0,
                        outstanding_kg: 0,
                        cancelled_kg: 0,
                        ledger_version: 10,
                        body_sha256: "bench".into(),
                        created_by: "bench".into(),
                        created_at: depart.timestamp_micros(),
                        updated_at: arrive.timestamp_micros(),
                        // Computed below, once the manifest and events are made.
                        chain_genesis: None,
                        chain_head: None,
                        truck_steps: None,
                    });
                    manifest.push(ManifestLineRow {
                        convoy_id: id.clone(),
                        line_no: 0,
                        commodity_id: flour.clone(),
                        kg: fkg,
                        quantity: (fkg / 1000).to_string(),
                        unit: "t".into(),
                    });
                    manifest.push(ManifestLineRow {
                        convoy_id: id.clone(),
                        line_no: 1,
                        commodity_id: food.clone(),
                        kg: okg,
                        quantity: okg.to_string(),
                        unit: "kg".into(),
                    });
                    let mut seq = 0;
                    let mut event = |kind: &str, cp: &str, at: DateTime<Utc>| {
                        seq += 1;
                        let eid = uuid::Uuid::new_v4().to_string();
                        ev.push(EventRow {
                            id: eid.clone(),
                            convoy_id: id.clone(),
                            seq,
                            kind: kind.into(),
                            checkpoint_id: Some(cps[cp].clone()),
                            observed_at: at.timestamp_micros(),
                            observed_offset: 14400,
                            recorded_at: at.timestamp_micros(),
                            recorded_by: "bench".into(),
                            reason: None,
                            note: None,
                            corrects: None,
                            body_sha256: "bench".into(),
                            chain_sha256: None,
                            trucks_passed: None,
                            trucks_held: None,
                            trucks_turned_back: None,
                        });
                        eid
                    };
                    let departed = event("departed", "GORIS", depart);
                    for (s, cp) in stops.iter().enumerate().skip(1).take(3) {
                        event(
                            "arrived",
                            cp,
                            depart + chrono::Duration::minutes(40 * s as i64),
                        );
                        event(
                            "cleared",
                            cp,
                            depart + chrono::Duration::minutes(40 * s as i64 + 20),
                        );
                    }
                    event(
                        "arrived",
                        "STEPANAKERT",
                        arrive - chrono::Duration::minutes(10),
                    );
                    let delivered = event("delivered", "STEPANAKERT", arrive);
                    for (eid, no) in [(departed.clone(), 0), (delivered.clone(), 2)] {
                        lines.push(EventLineRow {
                            event_id: eid.clone(),
                            line_no: no,
                            commodity_id: flour.clone(),
                            kg: fkg,
                            quantity: (fkg / 1000).to_string(),
                            unit: "t".into(),
                            reason: None,
                        });
                        lines.push(EventLineRow {
                            event_id: eid,
                            line_no: no + 1,
                            commodity_id: food.clone(),
                            kg: okg,
                            quantity: okg.to_string(),
                            unit: "kg".into(),
                            reason: None,
                        });
                    }
                    // The convoy's chain, as the server computes it (domain::chain).
                    if let Some(row) = cv.last_mut() {
                        let convoy_manifest = &manifest[manifest.len() - 2..];
                        let mut head = aidflow::domain::chain::genesis(
                            &aidflow::store::chain::convoy_record(row, convoy_manifest),
                        );
                        row.chain_genesis = Some(head.clone());
                        let first = ev.len() - seq as usize;
                        for e in &mut ev[first..] {
                            // This convoy's four lines are the last ones made.
                            let own: Vec<EventLineRow> = lines[lines.len() - 4..]
                                .iter()
                                .filter(|l| l.event_id == e.id)
                                .cloned()
                                .collect();
                            head = aidflow::domain::chain::event_link(
                                &head,
                                &aidflow::store::chain::event_record(e, &own),
                            );
                            e.chain_sha256 = Some(head.clone());
                        }
                        row.chain_head = Some(head);
                        // Its trucks along the route, as the write path keeps them.
                        let truck_events: Vec<TruckEvent> = ev[first..]
                            .iter()
                            .filter_map(|e| {
                                Some(TruckEvent {
                                    kind: EventKind::parse(&e.kind)?,
                                    checkpoint: e
                                        .checkpoint_id
                                        .as_ref()
                                        .and_then(|cp| cp_codes.get(cp).cloned()),
                                    observed_at: e.observed_at,
                                    seq: e.seq,
                                    voided: false,
                                    counts: TruckCounts::default(),
                                })
                            })
                            .collect();
                        row.truck_steps = Some(trucks::encode_steps(&trucks::along(
                            &stop_codes,
                            row.trucks,
                            &truck_events,
                        )));
                    }
                    for (co, kg) in [(&flour, fkg), (&food, okg)] {
                        figs.push(FiguresRow {
                            convoy_id: id.clone(),
                            commodity_id: co.clone(),
                            planned_kg: kg,
                            loaded_kg: kg,
                            delivered_kg: kg,
                            short_loaded_kg: 0,
                            denied_kg: 0,
                            lost_kg: 0,
                            rejected_kg: 0,
                            outstanding_kg: 0,
                            cancelled_kg: 0,
                        });
                        dels.push(DeliveryRow {
                            event_id: delivered.clone(),
                            commodity_id: co.clone(),
                            convoy_id: id.clone(),
                            observed_at: arrive.timestamp_micros(),
                            kg,
                        });
                        let r = rollups
                            .entry((week.key(), org.clone(), co.clone()))
                            .or_default();
                        r[0] += kg;
                        r[1] += kg;
                        r[2] += kg;
                    }
                }
                conn.transaction::<_, diesel::result::Error, _>(|c| {
                    for part in cv.chunks(500) {
                        diesel::insert_into(convoys::table)
                            .values(part)
                            .execute(c)?;
                    }
                    for part in manifest.chunks(1000) {
                        diesel::insert_into(manifest_lines::table)
                            .values(part)
                            .execute(c)?;
                    }
                    for part in ev.chunks(1000) {
                        diesel::insert_into(events::table).values(part).execute(c)?;
                    }
                    for part in lines.chunks(1000) {
                        diesel::insert_into(event_lines::table)
                            .values(part)
                            .execute(c)?;
                    }
                    for part in figs.chunks(1000) {
                        diesel::insert_into(convoy_figures::table)
                            .values(part)
                            .execute(c)?;
                    }
                    for part in dels.chunks(1000) {
                        diesel::insert_into(deliveries::table)
                            .values(part)
                            .execute(c)?;
                    }
                    Ok(())
                })?;
                i = end;
            }
            let rows: Vec<_> = rollups
                .into_iter()
                .map(|((week, org, co), [planned, delivered, during])| {
                    (
                        week_rollups::week.eq(week),
                        week_rollups::route_id.eq(route.clone()),
                        week_rollups::organization_id.eq(org),
                        week_rollups::commodity_id.eq(co),
                        week_rollups::planned_kg.eq(planned),
                        week_rollups::loaded_kg.eq(planned),
                        week_rollups::delivered_kg.eq(delivered),
                        week_rollups::delivered_during_kg.eq(during),
                        week_rollups::short_loaded_kg.eq(0i64),
                        week_rollups::denied_kg.eq(0i64),
                        week_rollups::lost_kg.eq(0i64),
                        week_rollups::rejected_kg.eq(0i64),
                        week_rollups::outstanding_kg.eq(0i64),
                        week_rollups::cancelled_kg.eq(0i64),
                    )
                })
                .collect();
            for row in rows {
                use diesel::upsert::excluded;
                use week_rollups::dsl as w;
                diesel::insert_into(week_rollups::table)
                    .values(row)
                    .on_conflict((w::week, w::route_id, w::organization_id, w::commodity_id))
                    .do_update()
                    .set((
                        w::planned_kg.eq(w::planned_kg + excluded(w::planned_kg)),
                        w::loaded_kg.eq(w::loaded_kg + excluded(w::loaded_kg)),
                        w::delivered_kg.eq(w::delivered_kg + excluded(w::delivered_kg)),
                        w::delivered_during_kg
                            .eq(w::delivered_during_kg + excluded(w::delivered_during_kg)),
                    ))
                    .execute(conn)?;
            }
            Ok(History {
                weeks: weeks.into_iter().collect(),
                typical,
            })
        }
    };
}

history_for!(history_sqlite, SqliteConnection);
history_for!(history_pg, PgConnection);

/// The naive report: every delivered line of the ledger up to the week's end, grouped.
const RAW_GROUP_BY: &str = "SELECT c.route_id, c.organization_id, l.commodity_id, CAST(SUM(l.kg) AS BIGINT) \
     FROM events e JOIN event_lines l ON l.event_id = e.id JOIN convoys c ON c.id = e.convoy_id \
     WHERE e.kind = 'delivered' AND e.observed_at < {end} GROUP BY c.route_id, c.organization_id, l.commodity_id";

fn raw_group_by_ms<C: Connection + SimpleConnection>(
    conn: &mut C,
    weeks: &[IsoWeek],
    runs: usize,
) -> anyhow::Result<Rate> {
    let mut lat = Vec::new();
    for i in 0..runs {
        let w = weeks[(i * 7919) % weeks.len()];
        let end = w.bounds(chrono_tz::Asia::Yerevan).1.timestamp_micros();
        let t = Instant::now();
        conn.batch_execute(&RAW_GROUP_BY.replace("{end}", &end.to_string()))?;
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let lat = sorted(lat);
    Ok(Rate {
        per_second: 0.0,
        p50_ms: percentile(&lat, 50.0),
        p99_ms: percentile(&lat, 99.0),
        count: runs,
    })
}

// ------------------------------------------------------------------ the run

struct Figures(BTreeMap<String, Value>);

impl Figures {
    fn set(&mut self, key: &str, v: Value) {
        self.0.insert(key.to_string(), v);
    }
}

fn round(x: f64, digits: i32) -> f64 {
    let m = 10f64.powi(digits);
    (x * m).round() / m
}

/// Runs `work` while sampling the server's RSS: its result, and the peak in MiB.
fn with_peak<T>(pid: u32, work: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<(T, f64)> {
    let sampler = Sampler::start(pid);
    let result = work();
    let peak = sampler.finish();
    Ok((result?, peak))
}

fn rate_json(r: &Rate) -> Value {
    json!({"per_second": (r.per_second * 10.0).round() / 10.0, "p50_ms": (r.p50_ms * 100.0).round() / 100.0, "p99_ms": (r.p99_ms * 100.0).round() / 100.0, "count": r.count})
}

fn run_backend(backend: &str, o: &Options) -> anyhow::Result<Figures> {
    let mut f = Figures(BTreeMap::new());
    let dir = tempfile_dir()?;
    let (url, raw_url) = match backend {
        "sqlite" => {
            let path = format!("{dir}/aidflow-{backend}.db");
            let _ = std::fs::remove_file(&path);
            (format!("sqlite://{path}"), format!("{dir}/raw.db"))
        }
        _ => {
            let mut admin = PgConnection::establish(&o.pg_admin)
                .context("connecting to PostgreSQL (AIDFLOW_BENCH_PG)")?;
            for db in ["aidflow_bench", "aidflow_bench_raw"] {
                admin.batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))?;
                admin.batch_execute(&format!("CREATE DATABASE {db}"))?;
            }
            let base = o
                .pg_admin
                .rsplit_once('/')
                .map(|(b, _)| b.to_string())
                .unwrap_or_default();
            (
                format!("{base}/aidflow_bench"),
                format!("{base}/aidflow_bench_raw"),
            )
        }
    };
    let _ = std::fs::remove_file(&raw_url);
    let server = Server::start(&url, &[])?;
    std::thread::sleep(Duration::from_millis(500));
    f.set("rss_idle_mib", json!(rss_mib(server.pid())));

    if o.runs("ingest") {
        eprintln!(
            "[{backend}] ingest: {} s of event POSTs from {CONCURRENCY} connections",
            o.ingest_seconds
        );
        let (ingest, peak) = with_peak(server.pid(), || {
            actix_web::rt::System::new().block_on(ingest(&server, o.ingest_seconds, CONCURRENCY))
        })?;
        f.set("rss_peak_ingest_mib", json!(peak));
        let per_commit = actix_web::rt::System::new().block_on(events_per_commit(&server))?;
        f.set(
            "ingest_events_per_commit",
            json!((per_commit * 10.0).round() / 10.0),
        );
        let raw = if backend == "sqlite" {
            raw_sqlite_single(&raw_url, o.ingest_seconds, CONCURRENCY)?
        } else {
            raw_pg_single(&raw_url, o.ingest_seconds)?
        };
        f.set("ingest", rate_json(&ingest));
        f.set("raw_single_insert_per_second", json!(raw.round()));
        f.set(
            "ingest_ratio",
            json!(((ingest.per_second / raw) * 1000.0).round() / 1000.0),
        );
    }

    let mut sync_p50_ms = None;
    if o.runs("sync") {
        eprintln!(
            "[{backend}] sync: {} events in batches of 1000",
            o.sync_events
        );
        let (sync, peak) = with_peak(server.pid(), || {
            actix_web::rt::System::new().block_on(sync(&server, o.sync_events))
        })?;
        f.set("rss_peak_sync_mib", json!(peak));
        let raw_batched_rate = if backend == "sqlite" {
            raw_batched(&mut SqliteConnection::establish(&raw_url)?, 100)?
        } else {
            raw_batched(&mut PgConnection::establish(&raw_url)?, 100)?
        };
        f.set("sync", rate_json(&sync));
        f.set(
            "raw_batched_insert_per_second",
            json!(raw_batched_rate.round()),
        );
        f.set(
            "sync_ratio",
            json!(((sync.per_second / raw_batched_rate) * 1000.0).round() / 1000.0),
        );
        sync_p50_ms = Some(sync.p50_ms);
    }

    // The convoy with the most events so far, for the pages phase: the CSV import's.
    let mut longest: Option<(String, usize)> = None;
    if o.runs("import") {
        eprintln!("[{backend}] CSV import: {IMPORT_ROWS} rows for one convoy in one request");
        let (import, peak) = with_peak(server.pid(), || {
            actix_web::rt::System::new().block_on(csv_import(&server))
        })?;
        f.set("rss_peak_import_mib", json!(peak));
        let import_us = import.seconds * 1e6 / import.events.max(1) as f64;
        let mut figures = json!({
            "rows": import.rows,
            "events": import.events,
            "seconds": (import.seconds * 1000.0).round() / 1000.0,
            "us_per_event": (import_us * 10.0).round() / 10.0,
        });
        // A sync batch's cost per event: the median batch of 1000 events, in µs per event.
        if let Some(p50) = sync_p50_ms {
            let sync_us = p50 * 1000.0 / 1000.0;
            figures["sync_us_per_event"] = json!((sync_us * 10.0).round() / 10.0);
            figures["ratio_to_sync"] =
                json!(((import_us / sync_us.max(0.001)) * 100.0).round() / 100.0);
        }
        f.set("csv_import", figures);
        longest = Some((import.convoy, import.events));
    }

    if o.runs("long-convoy") {
        eprintln!(
            "[{backend}] long convoy: {LONG_CONVOY_EVENTS} events POSTed one at a time to one convoy"
        );
        let (long, peak) = with_peak(server.pid(), || {
            actix_web::rt::System::new().block_on(long_convoy(&server))
        })?;
        f.set("rss_peak_long_convoy_mib", json!(peak));
        f.set(
            "long_convoy",
            json!({
                "events": LONG_CONVOY_EVENTS,
                "window": LONG_CONVOY_WINDOW,
                "first_median_ms": (long.first_ms * 100.0).round() / 100.0,
                "last_median_ms": (long.last_ms * 100.0).round() / 100.0,
                "ratio": ((long.last_ms / long.first_ms.max(0.001)) * 100.0).round() / 100.0,
            }),
        );
        if longest
            .as_ref()
            .is_none_or(|(_, n)| *n < LONG_CONVOY_EVENTS)
        {
            longest = Some((long.convoy, LONG_CONVOY_EVENTS));
        }
    }

    let mut generated = 0;
    let with_history = o.runs("reports") || o.runs("pages");
    let histories: &[usize] = if with_history { &o.histories } else { &[] };
    for &n in histories {
        eprintln!("[{backend}] history: generating up to {n} events");
        let t = Instant::now();
        let history = if backend == "sqlite" {
            let path = url.trim_start_matches("sqlite://");
            let mut c = SqliteConnection::establish(path)?;
            c.batch_execute("PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL;")?;
            history_sqlite(&mut c, n - generated, generated)?
        } else {
            let mut c = PgConnection::establish(&url)?;
            let history = history_pg(&mut c, n - generated, generated)?;
            // The planner's statistics, as autovacuum keeps them on a server where the
            // history grew over months (without them PostgreSQL plans a convoy's event
            // lines as a hash join over all of them; autovacuum may be off, or not have
            // come round yet, on the benchmark's server).
            c.batch_execute("ANALYZE")?;
            history
        };
        generated = n;
        eprintln!(
            "[{backend}]   generated in {:.0} s",
            t.elapsed().as_secs_f64()
        );
        if o.runs("reports") {
            eprintln!("[{backend}]   measuring reports");
            let (reports, peak) = with_peak(server.pid(), || {
                actix_web::rt::System::new().block_on(report_latency(
                    &server,
                    &history.weeks,
                    o.report_requests,
                ))
            })?;
            let raw = if backend == "sqlite" {
                raw_group_by_ms(
                    &mut SqliteConnection::establish(url.trim_start_matches("sqlite://"))?,
                    &history.weeks,
                    5,
                )?
            } else {
                raw_group_by_ms(&mut PgConnection::establish(&url)?, &history.weeks, 5)?
            };
            let key = format!("reports_{n}");
            f.set(
                &key,
                json!({
                    "report": rate_json(&reports),
                    "raw_group_by": rate_json(&raw),
                    "speedup_p50": ((raw.p50_ms / reports.p50_ms.max(0.001)) * 10.0).round() / 10.0,
                    "rss_peak_mib": peak,
                }),
            );
        }
        if o.runs("pages") {
            // Without the import and long-convoy phases, one import gives the run its
            // long convoy (2,000 events).
            if longest.is_none() {
                let import = actix_web::rt::System::new().block_on(csv_import(&server))?;
                longest = Some((import.convoy, import.events));
            }
            eprintln!(
                "[{backend}]   measuring pages: {} GETs of each, one after another",
                o.page_requests
            );
            let (figures, peak) = with_peak(server.pid(), || {
                actix_web::rt::System::new().block_on(pages(
                    &server,
                    &history,
                    longest.as_ref(),
                    o.page_requests,
                ))
            })?;
            let mut v = json!(figures);
            v["rss_peak_mib"] = json!(peak);
            v["target_p99_ms"] = json!(PAGE_TARGET_P99_MS);
            f.set(&format!("pages_{n}"), v);
        }
    }
    if o.runs("field") {
        eprintln!("[{backend}] field app: first load with Accept-Encoding: gzip");
        let (field, peak) = with_peak(server.pid(), || {
            actix_web::rt::System::new().block_on(field_first_load(&server))
        })?;
        f.set("field_first_load", field);
        f.set("rss_peak_field_mib", json!(peak));
    }
    f.set("rss_end_mib", json!(rss_mib(server.pid())));
    drop(server);
    if o.runs("office") && backend == "sqlite" {
        eprintln!(
            "[{backend}] office: {} s of event POSTs from {OFFICE_CONNECTIONS} connections to a server on core {OFFICE_CORE}",
            o.ingest_seconds
        );
        let (office, peak) = office(o, &dir)?;
        f.set("office", office);
        f.set("rss_peak_office_mib", json!(peak));
    }
    if backend == "sqlite" {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(f)
}

/// The figure at `path` in a backend's figures (`["ingest", "p99_ms"]`), if it is there.
fn at<'a>(f: &'a Figures, path: &[&str]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    rest.iter().try_fold(f.0.get(*first)?, |v, p| v.get(*p))
}

fn num(f: &Figures, path: &[&str]) -> Option<f64> {
    at(f, path).and_then(Value::as_f64)
}

/// The keys of the figures measured at each history (`reports_100000`), over both backends.
fn history_keys(all: &BTreeMap<String, Figures>, prefix: &str) -> Vec<String> {
    all.values()
        .flat_map(|f| f.0.keys())
        .filter(|k| k.starts_with(prefix))
        .cloned()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// The RSS peak of each phase: its name and where its figure is (the history phases have
/// one per history, under their own key).
fn rss_peaks(f: &Figures) -> Vec<(String, Vec<String>)> {
    let mut peaks: Vec<(String, Vec<String>)> = [
        ("ingest", "rss_peak_ingest_mib"),
        ("sync", "rss_peak_sync_mib"),
        ("import", "rss_peak_import_mib"),
        ("long convoy", "rss_peak_long_convoy_mib"),
    ]
    .iter()
    .map(|(phase, key)| (phase.to_string(), vec![key.to_string()]))
    .collect();
    for (prefix, phase) in [("reports_", "reports"), ("pages_", "pages")] {
        for k in f.0.keys().filter(|k| k.starts_with(prefix)) {
            let n = k.trim_start_matches(prefix);
            peaks.push((
                format!("{phase} at {n}"),
                vec![k.clone(), "rss_peak_mib".into()],
            ));
        }
    }
    peaks.push(("field".into(), vec!["rss_peak_field_mib".into()]));
    peaks.push(("office".into(), vec!["rss_peak_office_mib".into()]));
    peaks
}

fn print_table(all: &BTreeMap<String, Figures>) {
    let get = |f: &Figures, path: &[&str]| -> String {
        match at(f, path) {
            None | Some(Value::Null) => "—".into(),
            Some(Value::Number(n)) => format!("{:.2}", n.as_f64().unwrap_or(0.0))
                .trim_end_matches('0')
                .trim_end_matches('.')
                .to_string(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        }
    };
    println!("\n{:<70} {:>14} {:>14}", "figure", "sqlite", "postgres");
    let empty = Figures(BTreeMap::new());
    let (s, p) = (
        all.get("sqlite").unwrap_or(&empty),
        all.get("postgres").unwrap_or(&empty),
    );
    let row = |label: &str, path: &[&str]| {
        println!("{:<70} {:>14} {:>14}", label, get(s, path), get(p, path));
    };
    row(
        "ingest: events/s (64 connections)",
        &["ingest", "per_second"],
    );
    row("ingest: p50 ms", &["ingest", "p50_ms"]);
    row("ingest: p99 ms", &["ingest", "p99_ms"]);
    row(
        "raw single-row insert+commit/s (64 connections)",
        &["raw_single_insert_per_second"],
    );
    row(
        &format!("ingest / raw (target ≥ {INGEST_RATIO_TARGET:.1})"),
        &["ingest_ratio"],
    );
    row(
        "ingest: events per commit (mean)",
        &["ingest_events_per_commit"],
    );
    row("sync: events/s (batches of 1000)", &["sync", "per_second"]);
    row("sync: batch p50 ms", &["sync", "p50_ms"]);
    row(
        &format!("sync: batch p99 ms (target ≤ {SYNC_P99_TARGET_MS})"),
        &["sync", "p99_ms"],
    );
    row(
        "raw batched insert rows/s",
        &["raw_batched_insert_per_second"],
    );
    row(
        &format!("sync / raw batched (target ≥ {SYNC_RATIO_TARGET})"),
        &["sync_ratio"],
    );
    row(
        "CSV import: rows in one file (one convoy)",
        &["csv_import", "rows"],
    );
    row("CSV import: events in it", &["csv_import", "events"]);
    row(
        &format!("CSV import: s for the request (target < {IMPORT_TARGET_S})"),
        &["csv_import", "seconds"],
    );
    row("CSV import: µs per event", &["csv_import", "us_per_event"]);
    row(
        "sync: µs per event (batch p50 / 1000)",
        &["csv_import", "sync_us_per_event"],
    );
    row(
        "CSV import / sync, per event",
        &["csv_import", "ratio_to_sync"],
    );
    row(
        "long convoy: events 1–50, median ms",
        &["long_convoy", "first_median_ms"],
    );
    row(
        "long convoy: events 951–1000, median ms",
        &["long_convoy", "last_median_ms"],
    );
    row(
        &format!("long convoy: last / first (target ≤ {LONG_CONVOY_RATIO_TARGET:.1})"),
        &["long_convoy", "ratio"],
    );
    for k in history_keys(all, "reports_") {
        let n = k.trim_start_matches("reports_");
        row(
            &format!("report p50 ms, {n} events"),
            &[&k, "report", "p50_ms"],
        );
        row(
            &format!("report p99 ms, {n} events (target ≤ {REPORT_TARGET_P99_MS})"),
            &[&k, "report", "p99_ms"],
        );
        row(
            &format!("raw GROUP BY p50 ms, {n} events"),
            &[&k, "raw_group_by", "p50_ms"],
        );
        row(
            "speed-up vs raw GROUP BY (target ≥ 10)",
            &[&k, "speedup_p50"],
        );
        row(
            &format!("RSS peak MiB, reports at {n} (target ≤ {RSS_PEAK_TARGET_MIB})"),
            &[&k, "rss_peak_mib"],
        );
    }
    for k in history_keys(all, "pages_") {
        let n = k.trim_start_matches("pages_");
        for (page, label) in PAGE_LABELS {
            row(
                &format!("{label}: p50 ms, {n} events"),
                &[&k, page, "p50_ms"],
            );
            row(
                &format!("{label}: p99 ms, {n} events (target ≤ {PAGE_TARGET_P99_MS})"),
                &[&k, page, "p99_ms"],
            );
            row(
                &format!("{label}: p99 ms, new connection each"),
                &[&k, page, "new_connection_p99_ms"],
            );
        }
        row("overview: convoys listed", &[&k, "overview", "convoys"]);
        row(
            "convoy page, longest: events on its timeline page",
            &[&k, "convoy_longest", "events"],
        );
        row(
            "convoy list, held on route: rows shown",
            &[&k, "convoy_list", "convoys"],
        );
        row(
            "API convoy list, held on route: items",
            &[&k, "api_convoy_list", "convoys"],
        );
        row("overview: HTML bytes", &[&k, "overview", "html_bytes"]);
        row(
            &format!("RSS peak MiB, pages at {n} (target ≤ {RSS_PEAK_TARGET_MIB})"),
            &[&k, "rss_peak_mib"],
        );
    }
    row(
        &format!("field app first load, KB gzip (target ≤ {FIELD_TARGET_KB})"),
        &["field_first_load", "wire_kb"],
    );
    row(
        "field app first load, KB uncompressed",
        &["field_first_load", "uncompressed_kb"],
    );
    row(
        &format!("field app first load, gzip KB / {FIELD_TARGET_KB}"),
        &["field_first_load", "wire_to_target"],
    );
    row(
        &format!(
            "office: events/s ({OFFICE_CONNECTIONS} connections, server on core {OFFICE_CORE})"
        ),
        &["office", "ingest", "per_second"],
    );
    row("office: p50 ms", &["office", "ingest", "p50_ms"]);
    row("office: p99 ms", &["office", "ingest", "p99_ms"]);
    row(
        "office: events per commit (mean)",
        &["office", "events_per_commit"],
    );
    row(
        &format!(
            "raw single-row insert+commit/s (core {OFFICE_CORE}, {OFFICE_CONNECTIONS} writers)"
        ),
        &["office", "raw_single_insert_per_second"],
    );
    row(
        &format!("office / raw (aim ≥ {OFFICE_RATIO_AIM:.1}; no target)"),
        &["office", "ratio"],
    );
    row(
        "office: the load generator's CPUs",
        &["office", "load_generator_cpus"],
    );
    row(
        &format!("RSS idle MiB (target ≤ {RSS_IDLE_TARGET_MIB})"),
        &["rss_idle_mib"],
    );
    // The history phases' peaks are in their sections above.
    for (phase, key) in rss_peaks(&empty) {
        row(
            &format!("RSS peak MiB, {phase} (target ≤ {RSS_PEAK_TARGET_MIB})"),
            &key.iter().map(String::as_str).collect::<Vec<_>>(),
        );
    }
}

// ------------------------------------------------------------------ the targets

/// A bound a figure (or its ratio to its raw baseline) must keep to.
#[derive(Clone, Copy)]
enum Bound {
    AtLeast(f64),
    AtMost(f64),
    Below(f64),
}

impl Bound {
    fn holds(self, x: f64) -> bool {
        match self {
            Bound::AtLeast(b) => x >= b,
            Bound::AtMost(b) => x <= b,
            Bound::Below(b) => x < b,
        }
    }

    fn text(self, on_ratio: bool, unit: &str) -> String {
        let (sign, b) = match self {
            Bound::AtLeast(b) => ("≥", b),
            Bound::AtMost(b) => ("≤", b),
            Bound::Below(b) => ("<", b),
        };
        if on_ratio {
            // A ratio keeps its decimal point: "≥ 1.0", "≥ 0.25".
            let b = if b.fract() == 0.0 {
                format!("{b:.1}")
            } else {
                b.to_string()
            };
            format!("ratio {sign} {b}")
        } else {
            format!("{sign} {b} {unit}")
        }
    }
}

/// One target of issue 15, beside the figure it applies to and that figure's raw
/// baseline (the same database's own rate, or the figure's own first measurement).
struct Goal {
    figure: String,
    unit: &'static str,
    value: f64,
    raw: Option<f64>,
    /// The bound applies to value / raw rather than to the value.
    on_ratio: bool,
    bound: Bound,
    /// An aim the issue sets no target for: reported beside the targets.
    aim: bool,
}

impl Goal {
    fn new(
        figure: impl Into<String>,
        unit: &'static str,
        value: Option<f64>,
        raw: Option<f64>,
        bound: Bound,
    ) -> Option<Goal> {
        Some(Goal {
            figure: figure.into(),
            unit,
            value: value?,
            raw,
            on_ratio: false,
            bound,
            aim: false,
        })
    }

    /// A bound on value / raw: there only if the raw baseline is.
    fn ratio(
        figure: impl Into<String>,
        unit: &'static str,
        value: Option<f64>,
        raw: Option<f64>,
        bound: Bound,
    ) -> Option<Goal> {
        raw?;
        Goal::new(figure, unit, value, raw, bound).map(|g| Goal {
            on_ratio: true,
            ..g
        })
    }

    fn ratio_value(&self) -> Option<f64> {
        self.raw.filter(|r| *r > 0.0).map(|r| self.value / r)
    }

    fn met(&self) -> bool {
        match (self.on_ratio, self.ratio_value()) {
            (true, Some(r)) => self.bound.holds(r),
            (true, None) => false,
            (false, _) => self.bound.holds(self.value),
        }
    }

    fn json(&self, backend: &str) -> Value {
        json!({
            "backend": backend,
            "figure": self.figure,
            "unit": self.unit,
            "value": round(self.value, 3),
            "raw": self.raw.map(|r| round(r, 3)),
            "ratio": self.ratio_value().map(|r| round(r, 3)),
            "applies_to": if self.on_ratio { "ratio" } else { "value" },
            "target": self.bound.text(self.on_ratio, self.unit),
            "aim": self.aim,
            "met": self.met(),
        })
    }
}

/// The targets of issue 15 for one backend's figures, those whose phase ran.
fn goals(f: &Figures) -> Vec<Goal> {
    let mut g: Vec<Goal> = Vec::new();
    g.extend(Goal::ratio(
        format!("ingest events/s, {CONCURRENCY} connections"),
        "/s",
        num(f, &["ingest", "per_second"]),
        num(f, &["raw_single_insert_per_second"]),
        Bound::AtLeast(INGEST_RATIO_TARGET),
    ));
    g.extend(
        Goal::ratio(
            format!("office events/s, {OFFICE_CONNECTIONS} conn., core {OFFICE_CORE}"),
            "/s",
            num(f, &["office", "ingest", "per_second"]),
            num(f, &["office", "raw_single_insert_per_second"]),
            Bound::AtLeast(OFFICE_RATIO_AIM),
        )
        .map(|g| Goal { aim: true, ..g }),
    );
    g.extend(Goal::new(
        "sync: 1000-event batch p99",
        "ms",
        num(f, &["sync", "p99_ms"]),
        None,
        Bound::AtMost(SYNC_P99_TARGET_MS),
    ));
    g.extend(Goal::ratio(
        "sync events/s vs raw batched insert",
        "/s",
        num(f, &["sync", "per_second"]),
        num(f, &["raw_batched_insert_per_second"]),
        Bound::AtLeast(SYNC_RATIO_TARGET),
    ));
    g.extend(Goal::ratio(
        "long convoy: last 50 vs first 50, median",
        "ms",
        num(f, &["long_convoy", "last_median_ms"]),
        num(f, &["long_convoy", "first_median_ms"]),
        Bound::AtMost(LONG_CONVOY_RATIO_TARGET),
    ));
    g.extend(Goal::new(
        format!("CSV import, {IMPORT_ROWS} rows for one convoy"),
        "s",
        num(f, &["csv_import", "seconds"]),
        None,
        Bound::Below(IMPORT_TARGET_S),
    ));
    for k in f.0.keys().filter(|k| k.starts_with("reports_")) {
        let n = k.trim_start_matches("reports_");
        // Beside it the raw GROUP BY's p99 (of its few runs).
        g.extend(Goal::new(
            format!("weekly report p99, {n} events"),
            "ms",
            num(f, &[k, "report", "p99_ms"]),
            num(f, &[k, "raw_group_by", "p99_ms"]),
            Bound::AtMost(REPORT_TARGET_P99_MS),
        ));
    }
    for k in f.0.keys().filter(|k| k.starts_with("pages_")) {
        let n = k.trim_start_matches("pages_");
        for (page, label) in PAGE_LABELS {
            g.extend(Goal::new(
                format!("{label} p99, {n} events"),
                "ms",
                num(f, &[k, page, "p99_ms"]),
                None,
                Bound::AtMost(PAGE_TARGET_P99_MS),
            ));
        }
    }
    g.extend(Goal::new(
        "RSS idle",
        "MiB",
        num(f, &["rss_idle_mib"]),
        None,
        Bound::AtMost(RSS_IDLE_TARGET_MIB),
    ));
    for (phase, key) in rss_peaks(f) {
        let key: Vec<&str> = key.iter().map(String::as_str).collect();
        g.extend(Goal::new(
            format!("RSS peak, {phase}"),
            "MiB",
            num(f, &key),
            None,
            Bound::AtMost(RSS_PEAK_TARGET_MIB),
        ));
    }
    g
}

/// A figure for the summary: to about four significant digits.
fn short(x: f64) -> String {
    match x.abs() {
        a if a >= 1000.0 => format!("{x:.0}"),
        a if a >= 10.0 => format!("{x:.1}"),
        _ => format!("{x:.2}"),
    }
}

/// Prints every target beside its figure, raw baseline and ratio, the backends in the
/// order they ran; the targets as JSON.
fn print_targets(all: &BTreeMap<String, Figures>, backends: &[String]) -> Value {
    println!(
        "\ntargets (issue 15): ratio = figure / raw baseline\n{:<9}{:<52} {:>10} {:>10} {:>8}  {:<16} result",
        "backend", "figure", "value", "raw", "ratio", "target"
    );
    let (mut rows, mut met, mut of) = (Vec::new(), 0, 0);
    for (backend, f) in backends.iter().filter_map(|b| Some((b, all.get(b)?))) {
        for goal in goals(f) {
            let result = match (goal.met(), goal.aim) {
                (true, false) => "met",
                (false, false) => "NOT met",
                (true, true) => "met (aim only)",
                (false, true) => "NOT met (aim only)",
            };
            if !goal.aim {
                of += 1;
                met += usize::from(goal.met());
            }
            println!(
                "{:<9}{:<52} {:>10} {:>10} {:>8}  {:<16} {result}",
                backend,
                goal.figure,
                format!("{} {}", short(goal.value), goal.unit),
                goal.raw.map_or("—".into(), short),
                goal.ratio_value().map_or("—".into(), |r| format!("{r:.3}")),
                goal.bound.text(goal.on_ratio, goal.unit),
            );
            rows.push(goal.json(backend));
        }
    }
    println!("{met} of {of} targets met");
    json!({"met": met, "of": of, "figures": rows})
}

/// The machine's load averages (1, 5 and 15 minutes), from /proc: the machine is shared,
/// and a run made while others compile is slower throughout.
fn load_average() -> Vec<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .filter_map(|v| v.parse().ok())
        .collect()
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(RAW_SUBCOMMAND) {
        return raw_subcommand(&args[1..]);
    }
    let o = options()?;
    if o.runs("office") && !o.backends.iter().any(|b| b == "sqlite") {
        eprintln!(
            "the office phase runs on SQLite only: without the sqlite backend it is left out"
        );
    }
    let load_at_start = load_average();
    let mut all = BTreeMap::new();
    for backend in &o.backends {
        all.insert(
            backend.clone(),
            run_backend(backend, &o).with_context(|| format!("benchmark on {backend}"))?,
        );
    }
    print_table(&all);
    let targets = print_targets(&all, &o.backends);
    println!(
        "\nload average (1, 5, 15 min) at the start {load_at_start:?}, at the end {:?} ({} cores)",
        load_average(),
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
    let json: BTreeMap<&String, &BTreeMap<String, Value>> =
        all.iter().map(|(k, v)| (k, &v.0)).collect();
    // The commit measured, and what in the work tree differed from it.
    let git = |args: &[&str]| -> String {
        Command::new("git")
            .args(args)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    };
    let doc = json!({
        "commit": git(&["rev-parse", "--short", "HEAD"]),
        "work_tree_changes": git(&["status", "--porcelain"]).lines().collect::<Vec<_>>(),
        "machine": {"cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0), "load_average_at_start": load_at_start, "load_average_at_end": load_average()},
        "options": {"quick": o.quick, "concurrency": CONCURRENCY, "ingest_seconds": o.ingest_seconds, "sync_events": o.sync_events, "histories": o.histories, "report_requests": o.report_requests, "page_requests": o.page_requests, "phases": o.phases, "import_rows": IMPORT_ROWS, "long_convoy_events": LONG_CONVOY_EVENTS, "office_connections": OFFICE_CONNECTIONS, "office_core": OFFICE_CORE},
        "results": json,
        "targets": targets,
    });
    if let Some(parent) = std::path::Path::new(&o.out).parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&o.out, serde_json::to_string_pretty(&doc)?)?;
    println!("\nfigures written to {}", o.out);
    Ok(())
}
