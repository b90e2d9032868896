//! Builds the HTTP server: database, state, middleware, routes.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::Server;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::{from_fn, ErrorHandlers, Next};
use actix_web::{web, App, HttpMessage, HttpServer};
use anyhow::Context;
use tracing_actix_web::{RequestId, TracingLogger};

use crate::api;
use crate::api::problem::problem_fallback;
use crate::app::metrics::Metrics;
use crate::app::state::AppState;
use crate::config::Settings;
use crate::db::{self, DbConn};
use crate::store::tokens;

/// The OpenAPI document of the HTTP API this binary serves (`aidflow openapi`).
pub fn openapi_document() -> anyhow::Result<String> {
    api::openapi::document_json()
}

/// A built server, bound but not yet running.
pub struct Application {
    port: u16,
    server: Server,
    /// The admin token made on first start of an empty database, if this start made it.
    pub first_admin_token: Option<String>,
    pub state: AppState,
}

/// A database opened for a one-off command (`token`, `import`, `demo`, `report`,
/// `alerts evaluate`): one plain connection and the deployment's time zone. No pool, no
/// event writers, no other thread: the process exits with nothing of libpq or OpenSSL
/// still running (exit handlers racing such threads crashed `token create` on
/// PostgreSQL). The command drops it, closing the connection, before it returns.
pub struct CommandDb {
    pub conn: DbConn,
    pub tz: chrono_tz::Tz,
    pub dispute: crate::domain::claims::Share,
}

/// Opens the database for a one-off command: migrations and the seed applied, and (when
/// `bootstrap` is set) the first admin token made if there is none.
pub fn open_command_database(
    settings: &Settings,
    bootstrap: bool,
) -> anyhow::Result<(CommandDb, Option<String>)> {
    let tz = settings.timezone()?;
    let (conn, first_token) =
        db::open_connection(&settings.database.url, prepare(settings, tz, bootstrap))?;
    let dispute = settings.dispute_share()?;
    Ok((CommandDb { conn, tz, dispute }, first_token))
}

/// Applies the pending migrations, then computes the ledger chains that migration
/// `2026-12-02-000010_event_chain` leaves to Rust (SQLite has no SHA-256 in SQL): every
/// convoy without a whole chain gets one, in batches (`store::chain::fill_missing`); and
/// every convoy without its trucks along the route gets them, in batches
/// (`store::convoys::fill_truck_steps`).
/// Returns the names of the migrations applied.
pub fn migrate(conn: &mut DbConn) -> anyhow::Result<Vec<String>> {
    let applied = db::run_migrations(conn)?;
    let filled = crate::store::chain::fill_missing(conn)
        .map_err(|e| anyhow::anyhow!("computing the ledger chains: {e}"))?;
    if filled.convoys > 0 {
        tracing::info!(
            convoys = filled.convoys,
            events = filled.events,
            "computed the ledger chains of existing convoys"
        );
    }
    let trucks = crate::store::convoys::fill_truck_steps(conn)
        .map_err(|e| anyhow::anyhow!("counting the trucks along existing convoys' routes: {e}"))?;
    if trucks > 0 {
        tracing::info!(
            convoys = trucks,
            "kept the trucks along the route of convoys that had none (migration 2026-12-02-000012_convoy_truck_steps)"
        );
    }
    Ok(applied)
}

/// What every start does under the start-up lock: migrations, the seed, the rollups' time
/// zone (rebuilt only by the server), the first admin token when `bootstrap` is set.
fn prepare(
    settings: &Settings,
    tz: chrono_tz::Tz,
    bootstrap: bool,
) -> impl FnOnce(&mut DbConn) -> anyhow::Result<Option<String>> {
    let seed = settings.seed.clone();
    move |conn: &mut DbConn| {
        let applied = migrate(conn)?;
        if !applied.is_empty() {
            tracing::info!(migrations = ?applied, "applied database migrations");
        }
        crate::app::seed::apply_if_empty(conn, &seed)?;
        if bootstrap {
            crate::store::rollups::ensure_timezone(conn, tz)
                .map_err(|e| anyhow::anyhow!("preparing the weekly rollups: {e}"))?;
        } else {
            // One-off commands must not rebuild the rollups a running server reads.
            let stored =
                crate::store::rollups::stored_timezone(conn).map_err(|e| anyhow::anyhow!("{e}"))?;
            if let Some(stored) = stored.filter(|s| s != tz.name()) {
                anyhow::bail!(
                    "the database's weekly figures are kept in time zone {stored}, but setting app.timezone is {}; \
                     use the deployment's zone, or restart `aidflow serve` with the new zone to rebuild them",
                    tz.name()
                );
            }
        }
        if bootstrap {
            tokens::bootstrap_admin(conn)
                .map_err(|e| anyhow::anyhow!("creating the first admin token: {e}"))
        } else {
            Ok(None)
        }
    }
}

/// How many events the convoy pages keep read and evaluated (about 1 KiB each).
const PAGE_CACHE_EVENTS: usize = 10_000;

/// Opens the database for the server: migrations, the seed and the first admin token,
/// then the pool and the event writer threads.
fn open_database(settings: &Settings) -> anyhow::Result<(AppState, Option<String>)> {
    let tz = settings.timezone()?;
    let (pool, backend, first_token) = db::open(
        &settings.database.url,
        settings.database.pool_size,
        Duration::from_secs(settings.database.connect_timeout_seconds),
        prepare(settings, tz, true),
    )?;
    let metrics = Metrics::new()?;
    let state = AppState {
        pool: pool.clone(),
        backend,
        settings: Arc::new(settings.clone()),
        tz,
        dispute: settings.dispute_share()?,
        metrics: metrics.clone(),
        http: reqwest::Client::builder()
            .user_agent(concat!("aidflow/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("building the webhook HTTP client")?,
        writer: crate::app::events::Committer::start(
            pool,
            metrics,
            match (settings.database.event_writers, backend) {
                (0, crate::db::Backend::Postgres) => 3,
                (0, crate::db::Backend::Sqlite) => 1,
                (n, _) => n,
            },
        )
        .context("starting the event writer thread")?,
        tokens: crate::app::auth::TokenCache::new(std::time::Duration::from_secs(
            settings.auth.token_cache_seconds,
        )),
        pages: Arc::new(crate::app::convoys::DetailCache::new(PAGE_CACHE_EVENTS)),
        storage: Default::default(),
    };
    Ok((state, first_token))
}

impl Application {
    pub fn build(settings: Settings) -> anyhow::Result<Application> {
        let (state, first_admin_token) = open_database(&settings)?;
        let address = format!("{}:{}", settings.server.host, settings.server.port);
        let listener = TcpListener::bind(&address).with_context(|| {
            format!("cannot listen on {address} (settings server.host and server.port, AIDFLOW__SERVER__PORT)")
        })?;
        let port = listener.local_addr()?.port();
        let server = run(listener, state.clone(), &settings)?;
        crate::jobs::spawn(state.clone());
        tracing::info!(address = %format!("http://{}:{port}", settings.server.host), database = state.backend.as_str(), "aidflow is listening");
        Ok(Application {
            port,
            server,
            first_admin_token,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }

    /// The server future and a handle, for callers that run it in the background.
    pub fn into_server(self) -> Server {
        self.server
    }
}

fn run(listener: TcpListener, state: AppState, settings: &Settings) -> anyhow::Result<Server> {
    let body_limit = settings.server.body_limit_bytes;
    let data = web::Data::new(state);
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(web::PayloadConfig::new(body_limit))
            .app_data(api::path_config())
            .wrap(from_fn(crate::api::extract::normalize_path))
            // Answers are compressed for clients that ask (browsers do; the field app's first
            // load must stay small on a slow connection).
            .wrap(actix_web::middleware::Compress::default())
            .wrap(ErrorHandlers::new().default_handler(problem_fallback))
            .wrap(from_fn(crate::api::health::track))
            .wrap(from_fn(echo_request_id))
            .wrap(TracingLogger::default())
            .configure(api::health::configure)
            .configure(api::configure)
            .configure(api::openrosa::configure)
            .configure(crate::web::configure)
            .default_service(web::to(api::methods::unmatched))
    })
    .on_connect(no_delay)
    .listen(listener)?;
    if settings.server.workers > 0 {
        server = server.workers(settings.server.workers);
    }
    Ok(server.run())
}

/// Turns Nagle's algorithm off on each accepted connection. A compressed answer leaves in
/// two writes (its head, then its body); with Nagle on, the second waited for the
/// client's delayed acknowledgement of the first, some 40 ms on every page.
fn no_delay(conn: &dyn std::any::Any, _: &mut actix_web::dev::Extensions) {
    if let Some(tcp) = conn.downcast_ref::<actix_web::rt::net::TcpStream>() {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY on a connection");
        }
    }
}

/// Puts the request id that tracing-actix-web gave this request into `X-Request-Id`, so
/// a user can quote it and an operator can find the request's logs.
async fn echo_request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = req.extensions().get::<RequestId>().map(|id| id.to_string());
    let mut res = next.call(req).await?;
    if let Some(id) = id.and_then(|id| HeaderValue::from_str(&id).ok()) {
        res.headers_mut()
            .insert(HeaderName::from_static("x-request-id"), id);
    }
    Ok(res)
}
