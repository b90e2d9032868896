//! The test harness: the real server on 127.0.0.1, port 0, with a fresh database per test,
//! on SQLite and on PostgreSQL.

use std::io::Write;
use std::path::PathBuf;
use std::sync::OnceLock;

use aidflow::config::Settings;
use aidflow::startup::Application;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, RunQueryDsl};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where the PostgreSQL tests make their databases: `AIDFLOW_TEST_DATABASE_URL`, default
/// the local server. Each test creates its own database there and drops it afterwards.
pub fn postgres_admin_url() -> String {
    // Before any PostgreSQL connection of this process (see the function's doc).
    aidflow::db::init_tls_without_exit_handler();
    std::env::var("AIDFLOW_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// Whether PostgreSQL is reachable. When it is not, the PostgreSQL variants of the tests
/// are skipped, and this says so once on the terminal (not in captured test output). In
/// CI (`CI=true`) an unreachable PostgreSQL is a failure instead.
pub fn postgres_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        let url = postgres_admin_url();
        match PgConnection::establish(&url) {
            Ok(_) => true,
            Err(e) => {
                if std::env::var("CI").is_ok_and(|v| v == "true") {
                    panic!("CI=true but PostgreSQL is not reachable at {url}: {e}");
                }
                let _ = writeln!(
                    std::io::stderr(),
                    "\n*** PostgreSQL tests SKIPPED: cannot connect to {url} ({}).\n*** Start PostgreSQL or set AIDFLOW_TEST_DATABASE_URL to run them; only the SQLite suite ran.\n",
                    e.to_string().trim()
                );
                false
            }
        }
    })
}

/// A database made for one test, removed when the test ends.
pub enum TestDb {
    Sqlite {
        _dir: tempfile::TempDir,
        url: String,
    },
    Postgres {
        name: String,
        url: String,
    },
}

impl TestDb {
    pub fn create(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("tempdir");
                let path: PathBuf = dir.path().join("aidflow.db");
                let url = format!("sqlite://{}", path.display());
                TestDb::Sqlite { _dir: dir, url }
            }
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let name = format!("aidflow_test_{}", uuid::Uuid::new_v4().simple());
                let mut conn = PgConnection::establish(&admin).expect("connect to PostgreSQL");
                conn.batch_execute(&format!("CREATE DATABASE {name}"))
                    .expect("create test database");
                let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
                let url = format!("{base}/{name}");
                TestDb::Postgres { name, url }
            }
        }
    }

    pub fn url(&self) -> &str {
        match self {
            TestDb::Sqlite { url, .. } | TestDb::Postgres { url, .. } => url,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres { name, .. } = self {
            if let Ok(mut conn) = PgConnection::establish(&postgres_admin_url()) {
                let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

/// Settings as a deployment would have them, from the repo's config/ with the test overlay.
pub fn test_settings(db_url: &str, extra: &[(&str, &str)]) -> Settings {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config");
    let mut overrides = vec![("database.url", db_url)];
    overrides.extend_from_slice(extra);
    Settings::load_from(&dir, Some("test"), &overrides).expect("test settings")
}

pub struct TestApp {
    pub address: String,
    pub admin_token: String,
    pub client: reqwest::Client,
    pub backend: Backend,
    /// The running server's state, for driving jobs with an injected clock.
    pub state: aidflow::app::state::AppState,
    _db: Option<TestDb>,
    handle: actix_web::dev::ServerHandle,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop accepting and close the pool before the database is dropped.
        let handle = self.handle.clone();
        actix_web::rt::spawn(async move { handle.stop(false).await });
    }
}

/// Starts the real server on a fresh database; `None` when the backend is PostgreSQL
/// and it is not available (outside CI).
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, &[]).await
}

pub async fn spawn_app_with(backend: Backend, extra: &[(&str, &str)]) -> Option<TestApp> {
    if backend == Backend::Postgres && !postgres_available() {
        return None;
    }
    let db = TestDb::create(backend);
    Some(spawn_app_on(db, None, extra))
}

/// Starts the server on an existing test database; `admin_token` is required when the
/// database already has tokens (no first token is made then).
pub fn spawn_app_on(db: TestDb, admin_token: Option<String>, extra: &[(&str, &str)]) -> TestApp {
    let backend = match db {
        TestDb::Sqlite { .. } => Backend::Sqlite,
        TestDb::Postgres { .. } => Backend::Postgres,
    };
    let url = db.url().to_string();
    spawn_instance(&url, backend, Some(db), admin_token, extra)
}

fn spawn_instance(
    url: &str,
    backend: Backend,
    db: Option<TestDb>,
    admin_token: Option<String>,
    extra: &[(&str, &str)],
) -> TestApp {
    let settings = test_settings(url, extra);
    if std::env::var("AIDFLOW_TEST_LOG").is_ok() {
        // Logs of the server under test, for debugging: AIDFLOW_TEST_LOG=1 cargo test NAME -- --nocapture
        aidflow::telemetry::init(&aidflow::config::LogSettings {
            format: aidflow::config::LogFormat::Pretty,
            level: "info".into(),
        });
    }
    let app = Application::build(settings).expect("build the application");
    let port = app.port();
    let state = app.state.clone();
    let admin_token = app
        .first_admin_token
        .clone()
        .or(admin_token)
        .expect("an admin token");
    let server = app.into_server();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        admin_token,
        client: reqwest::Client::new(),
        backend,
        state,
        _db: db,
        handle,
    }
}

/// A response read whole: status, headers and JSON (or text) body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a problem+json error with this status; returns the document.
    pub fn problem(&self, status: u16) -> Value {
        assert_eq!(
            self.status, status,
            "expected {status}, got {}: {}",
            self.status, self.text
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "errors are problem+json: {}",
            self.text
        );
        let body = self.json();
        assert_eq!(body["status"], status);
        assert!(body["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("urn:aidflow:problem:")));
        assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()));
        body
    }

    /// The fields named in a validation problem.
    pub fn error_fields(&self) -> Vec<String> {
        self.json()["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| e["field"].as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl TestApp {
    /// Another aidflow instance on the same database, as in a deployment with several
    /// servers (the database goes when the first instance ends).
    pub fn second_instance(&self) -> TestApp {
        let url = self
            ._db
            .as_ref()
            .expect("the first instance")
            .url()
            .to_string();
        spawn_instance(
            &url,
            self.backend,
            None,
            Some(self.admin_token.clone()),
            &[],
        )
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Reply {
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.expect("body");
        Reply {
            status,
            headers,
            text,
        }
    }

    pub async fn get_as(&self, token: &str, path: &str) -> Reply {
        self.send(self.client.get(self.url(path)).bearer_auth(token))
            .await
    }

    pub async fn get_owned(&self, path: String) -> Reply {
        self.get(&path).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.get_as(&self.admin_token, path).await
    }

    pub async fn post_as(&self, token: &str, path: &str, body: &Value) -> Reply {
        self.send(
            self.client
                .post(self.url(path))
                .bearer_auth(token)
                .json(body),
        )
        .await
    }

    pub async fn post_owned(&self, path: String, body: Value) -> Reply {
        self.post(&path, &body).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.post_as(&self.admin_token, path, body).await
    }

    /// Posts as the admin and asserts the write was taken (201, or 200 for a replay);
    /// returns the answer's JSON.
    pub async fn post_ok(&self, path: &str, body: Value) -> Value {
        let reply = self.post(path, &body).await;
        assert!(
            reply.status == 201 || reply.status == 200,
            "{path}: {}",
            reply.text
        );
        reply.json()
    }

    /// Posts as the admin and asserts something new was created (201); returns its JSON.
    pub async fn post_created(&self, path: &str, body: Value) -> Value {
        let reply = self.post(path, &body).await;
        assert_eq!(reply.status, 201, "{path}: {}", reply.text);
        reply.json()
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Reply {
        self.send(
            self.client
                .patch(self.url(path))
                .bearer_auth(&self.admin_token)
                .json(body),
        )
        .await
    }

    pub async fn delete_as(&self, token: &str, path: &str) -> Reply {
        self.send(self.client.delete(self.url(path)).bearer_auth(token))
            .await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.delete_as(&self.admin_token, path).await
    }

    /// Issues a token with this role (and organization) through the API; returns the secret.
    pub async fn token(&self, role: &str, organization: Option<&str>) -> String {
        let mut body = serde_json::json!({"name": format!("{role}-token"), "role": role});
        if let Some(org) = organization {
            body["organization"] = Value::from(org);
        }
        let reply = self.post("/api/v1/tokens", &body).await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        reply.json()["token"].as_str().expect("secret").to_string()
    }
}

/// Declares an API test that runs once on SQLite and once on PostgreSQL:
/// `api_test!(name);` over `async fn name(app: TestApp)`.
#[macro_export]
macro_rules! api_test {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[actix_web::test]
            async fn sqlite() {
                let app = $crate::helpers::spawn_app($crate::helpers::Backend::Sqlite).await.expect("sqlite app");
                super::$name(app).await;
            }

            #[actix_web::test]
            async fn postgres() {
                if let Some(app) = $crate::helpers::spawn_app($crate::helpers::Backend::Postgres).await {
                    super::$name(app).await;
                }
            }
        }
    )+};
}

/// Runs raw SQL on the server's database, as someone with database access would.
pub async fn sql(app: &TestApp, statements: Vec<String>) {
    app.state
        .db(move |c| {
            for s in &statements {
                diesel::sql_query(s.as_str()).execute(c).unwrap();
            }
            Ok(())
        })
        .await
        .unwrap();
}

/// A stored text column of one row.
pub async fn stored(app: &TestApp, query: String) -> String {
    #[derive(diesel::QueryableByName)]
    struct One {
        #[diesel(sql_type = diesel::sql_types::Text)]
        v: String,
    }
    app.state
        .db(move |c| {
            Ok(diesel::sql_query(query.as_str())
                .get_result::<One>(c)
                .unwrap()
                .v)
        })
        .await
        .unwrap()
}
