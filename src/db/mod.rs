//! Database access: one connection type over SQLite (the embedded default) and PostgreSQL
//! (deployments with several instances), an r2d2 pool, embedded migrations, and write
//! transactions that behave the same on both.

pub mod schema;

use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel::{Connection, PgConnection, RunQueryDsl, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Serializes start-up (migrations, seed) across instances that start at the same time on
/// one PostgreSQL database (an arbitrary constant, "aidflow" in ASCII).
const STARTUP_LOCK_KEY: i64 = 0x0061_6964_666c_6f77;

/// Initializes OpenSSL (which the built-in libpq uses for TLS) before the first
/// PostgreSQL connection, without the exit handler OpenSSL otherwise registers: that
/// handler frees OpenSSL's state when the process exits, while pool and writer threads may
/// still hold TLS connections (libpq's default `sslmode=prefer` uses TLS whenever the
/// server offers it), and the process then crashed with SIGSEGV after its work was done.
/// Only the first initialization chooses, so every PostgreSQL connect calls this first
/// (as do the tests' own connections). Safe to call any number of times.
pub fn init_tls_without_exit_handler() {
    openssl_sys::init();
}

/// A connection to either backend. Queries written with diesel's DSL run on both; the few
/// places that need backend-specific SQL match on the variant.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

pub type Pool = r2d2::Pool<Manager>;
pub type PooledConn = r2d2::PooledConnection<Manager>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A parsed `database.url`: which backend, and what to hand its driver.
#[derive(Debug, Clone)]
pub struct DatabaseUrl {
    pub backend: Backend,
    /// For SQLite the file path; for PostgreSQL the URL itself.
    target: String,
    /// The URL with any password replaced, safe for logs and error messages.
    pub display: String,
}

impl DatabaseUrl {
    /// Chooses the backend from the URL scheme. Anything else is refused with a message
    /// naming the setting, rather than being mistaken for an SQLite file name.
    pub fn parse(url: &str) -> anyhow::Result<DatabaseUrl> {
        let url = url.trim();
        if let Some(rest) = url
            .strip_prefix("postgres://")
            .or_else(|| url.strip_prefix("postgresql://"))
        {
            if rest.is_empty() {
                bail!("setting database.url = {url:?} names no PostgreSQL server; use postgres://USER@HOST:PORT/DATABASE");
            }
            return Ok(DatabaseUrl {
                backend: Backend::Postgres,
                target: url.to_string(),
                display: redact_password(url),
            });
        }
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                bail!("setting database.url = {url:?} names no SQLite file; use sqlite://data/aidflow.db");
            }
            return Ok(DatabaseUrl {
                backend: Backend::Sqlite,
                target: path.to_string(),
                display: url.to_string(),
            });
        }
        let scheme = url.split_once("://").map(|(s, _)| s).unwrap_or(url);
        bail!(
            "setting database.url (AIDFLOW__DATABASE__URL) = {:?} has an unsupported scheme {scheme:?}; \
             use sqlite://PATH for the embedded database or postgres://USER@HOST:PORT/DATABASE",
            redact_password(url)
        )
    }

    /// Opens one connection, configured for aidflow's needs.
    pub fn connect(&self) -> anyhow::Result<DbConn> {
        match self.backend {
            Backend::Postgres => {
                init_tls_without_exit_handler();
                let mut conn = PgConnection::establish(&self.target).map_err(|e| {
                    anyhow!(
                        "cannot connect to PostgreSQL at {} (setting database.url): {}",
                        self.display,
                        e.to_string().trim()
                    )
                })?;
                // diesel prepares each statement once per connection. After a few runs
                // PostgreSQL may switch such a statement to a generic plan, and keep it:
                // one made while a table was still small (a sequential scan) then stays
                // as the table grows into millions of rows, and lookups by lists of ids
                // (`id = ANY($1)`) become scans. Planning each execution for its actual
                // values costs a fraction of a millisecond and keeps the index plans.
                conn.batch_execute("SET plan_cache_mode = force_custom_plan")
                    .with_context(|| {
                        format!(
                            "cannot configure the PostgreSQL session at {}",
                            self.display
                        )
                    })?;
                Ok(DbConn::Pg(conn))
            }
            Backend::Sqlite => {
                if let Some(parent) = Path::new(&self.target).parent() {
                    if !parent.as_os_str().is_empty() && !parent.exists() {
                        std::fs::create_dir_all(parent).with_context(|| {
                            format!(
                                "cannot create the directory {} for the SQLite database (setting database.url)",
                                parent.display()
                            )
                        })?;
                    }
                }
                let mut conn = SqliteConnection::establish(&self.target).map_err(|e| {
                    anyhow!(
                        "cannot open the SQLite database {} (setting database.url): {e}",
                        self.target
                    )
                })?;
                // WAL lets readers run beside the writer; busy_timeout makes writers wait
                // for each other instead of failing; synchronous=FULL keeps every
                // acknowledged write through a power cut. temp_store=MEMORY keeps the
                // savepoint sub-journal (the pages a group of events changes, copied so
                // the group can be undone alone) in memory instead of a temporary file:
                // 7–13 % less server CPU per sync batch, some 8 MiB more at the peak
                // (docs/src/performance.md). It holds nothing that must survive a crash.
                conn.batch_execute(
                    "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000; \
                     PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; \
                     PRAGMA temp_store = MEMORY;",
                )
                .with_context(|| format!("cannot configure the SQLite database {}", self.target))?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }
}

/// Replaces the password in `scheme://user:password@host` with `***`.
fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

/// r2d2 manager that always opens the backend the URL names (diesel's generic manager
/// would try each backend in turn and could create an SQLite file named like a URL).
#[derive(Debug, Clone)]
pub struct Manager {
    url: DatabaseUrl,
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConn, Self::Error> {
        self.url.connect().map_err(|e| {
            diesel::r2d2::Error::ConnectionError(diesel::ConnectionError::BadConnection(
                e.to_string(),
            ))
        })
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), Self::Error> {
        conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        std::thread::panicking() || conn.is_broken()
    }
}

/// Opens the database named by `url`, then holds the start-up lock while `prepare` runs
/// (migrations, seed, first token), and builds the pool. Errors name the database.
pub fn open<T>(
    url: &str,
    pool_size: u32,
    connect_timeout: Duration,
    prepare: impl FnOnce(&mut DbConn) -> anyhow::Result<T>,
) -> anyhow::Result<(Pool, Backend, T)> {
    let url = DatabaseUrl::parse(url)?;
    let mut conn = url.connect()?;
    let prepared = with_startup_lock(&mut conn, prepare)
        .with_context(|| format!("preparing the database {}", url.display))?;
    let backend = url.backend;
    let pool = r2d2::Pool::builder()
        .max_size(pool_size)
        .min_idle(Some(1))
        .connection_timeout(connect_timeout)
        .build(Manager { url })
        .context("building the database connection pool")?;
    Ok((pool, backend, prepared))
}

/// Opens one connection to the database named by `url` and runs `prepare` under the
/// start-up lock, as [`open`] does, without a pool (for one-off commands).
pub fn open_connection<T>(
    url: &str,
    prepare: impl FnOnce(&mut DbConn) -> anyhow::Result<T>,
) -> anyhow::Result<(DbConn, T)> {
    let url = DatabaseUrl::parse(url)?;
    let mut conn = url.connect()?;
    let prepared = with_startup_lock(&mut conn, prepare)
        .with_context(|| format!("preparing the database {}", url.display))?;
    Ok((conn, prepared))
}

/// Runs `f` while no other aidflow instance is starting on the same database. On
/// PostgreSQL that is a session advisory lock; an SQLite file has one process at a time
/// in practice, and its write transactions serialize anyway.
pub fn with_startup_lock<T>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    if let DbConn::Pg(c) = conn {
        c.batch_execute(&format!("SELECT pg_advisory_lock({STARTUP_LOCK_KEY})"))?;
    }
    let result = f(conn);
    if let DbConn::Pg(c) = conn {
        c.batch_execute(&format!("SELECT pg_advisory_unlock({STARTUP_LOCK_KEY})"))?;
    }
    result
}

/// Applies every pending migration; returns the names of those applied.
pub fn run_migrations(conn: &mut DbConn) -> anyhow::Result<Vec<String>> {
    let applied = match conn {
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(names),
        DbConn::Pg(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS).map(names),
    };
    applied.map_err(|e| anyhow!("migration failed: {e}"))
}

fn names(versions: Vec<diesel::migration::MigrationVersion<'_>>) -> Vec<String> {
    versions.iter().map(|v| v.to_string()).collect()
}

impl DbConn {
    pub fn backend(&self) -> Backend {
        match self {
            DbConn::Pg(_) => Backend::Postgres,
            DbConn::Sqlite(_) => Backend::Sqlite,
        }
    }
}

/// Runs `f` in a write transaction (a savepoint when called inside one). On SQLite it is `BEGIN IMMEDIATE`, which takes the
/// write lock up front so concurrent writers queue (busy_timeout) instead of failing with
/// "database is locked" when a read transaction tries to upgrade.
pub fn write_tx<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    // Inside a caller's transaction (a sync batch), this is a savepoint: the caller's
    // transaction already holds the write lock.
    let nested = <DbConn as Connection>::TransactionManager::transaction_manager_status_mut(conn)
        .transaction_depth()
        .map_err(E::from)?
        .is_some();
    if nested {
        return conn.transaction(f);
    }
    match conn {
        DbConn::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?,
        DbConn::Pg(c) => AnsiTransactionManager::begin_transaction(c)?,
    }
    match f(conn) {
        Ok(value) => match <DbConn as Connection>::TransactionManager::commit_transaction(conn) {
            Ok(()) => Ok(value),
            Err(e) => {
                let _ = <DbConn as Connection>::TransactionManager::rollback_transaction(conn);
                Err(e.into())
            }
        },
        Err(e) => {
            <DbConn as Connection>::TransactionManager::rollback_transaction(conn)?;
            Err(e)
        }
    }
}

/// Runs `f` in a read-only transaction that sees one consistent state of the database
/// from its first read to its last, whatever commits meanwhile: PostgreSQL's `REPEATABLE
/// READ`, and on SQLite (WAL) a deferred transaction, whose reads all see the database as
/// it was at the first. For passes over the whole ledger (verify, export) that must not
/// see half of a group commit.
pub fn read_snapshot<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    conn.transaction(|c| {
        if let DbConn::Pg(pg) = c {
            pg.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
        }
        f(c)
    })
}

/// A write that changes nothing (the rollup time zone set to itself), in a write
/// transaction: whether the storage accepts writes again after refusing one.
pub fn probe_write(conn: &mut DbConn) -> diesel::QueryResult<()> {
    const PROBE: &str = "UPDATE rollup_state SET timezone = timezone WHERE id = 1";
    write_tx(conn, |c| {
        match c {
            DbConn::Pg(pg) => diesel::sql_query(PROBE).execute(pg)?,
            DbConn::Sqlite(lite) => diesel::sql_query(PROBE).execute(lite)?,
        };
        Ok(())
    })
}

/// Current time as microseconds since the Unix epoch: how aidflow stores instants, the
/// same exact integer on both backends.
pub fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

pub use crate::domain::time::from_micros;

/// Inserts many rows in multi-row statements (`insert_many!(conn, table, rows)`, inside
/// a function returning a diesel-convertible error). diesel's MultiConnection has no batch
/// insert, so this matches on the backend; 200 rows per statement stays far below both
/// backends' bind-parameter limits.
macro_rules! insert_many_rows {
    ($conn:expr, $table:expr, $rows:expr) => {
        for chunk in $rows.chunks(200) {
            match &mut *$conn {
                $crate::db::DbConn::Pg(c) => {
                    diesel::insert_into($table).values(chunk).execute(c)?
                }
                $crate::db::DbConn::Sqlite(c) => {
                    diesel::insert_into($table).values(chunk).execute(c)?
                }
            };
        }
    };
}
pub(crate) use insert_many_rows as insert_many;

/// Inserts many rows as [`insert_many!`] does, except that PostgreSQL takes them with
/// `COPY … FROM STDIN` (binary) from [`COPY_FROM_ROWS`] rows on: one statement with
/// nothing to parse or plan, whatever the number of rows (the 1000 event rows of a sync
/// batch took 47 ms as five 200-row `INSERT`s). Fewer rows go in `INSERT`s, which cost
/// one round trip to COPY's two. The rows' type must insert every column
/// (`treat_none_as_default_value = false`).
macro_rules! copy_many_rows {
    ($conn:expr, $table:expr, $rows:expr) => {
        match &mut *$conn {
            $crate::db::DbConn::Pg(c) if $rows.len() >= $crate::db::COPY_FROM_ROWS => {
                diesel::copy_from($table)
                    .from_insertable(&$rows[..])
                    .execute(c)?;
            }
            _ => $crate::db::insert_many!($conn, $table, $rows),
        }
    };
}
pub(crate) use copy_many_rows as copy_many;

/// From how many rows [`copy_many!`] uses `COPY` on PostgreSQL.
pub const COPY_FROM_ROWS: usize = 50;

/// Loads a query's rows locked for update (`load_for_update!(conn, query)`, inside a
/// function returning a diesel-convertible error). PostgreSQL takes row locks; SQLite has
/// none and needs none, since its write transaction already excludes every other writer.
macro_rules! load_for_update_rows {
    ($conn:expr, $query:expr) => {
        match &mut *$conn {
            $crate::db::DbConn::Pg(c) => $query.for_update().load(c)?,
            $crate::db::DbConn::Sqlite(c) => $query.load(c)?,
        }
    };
}
pub(crate) use load_for_update_rows as load_for_update;

#[derive(diesel::QueryableByName)]
struct Fingerprint {
    #[diesel(sql_type = diesel::sql_types::Text)]
    fingerprint: String,
}

/// Counts and latest `updated_at` of checkpoints, commodities, routes and their stops, in
/// one short text: it changes whenever reference data does, so a copy kept in memory can
/// be checked with one small query.
pub const FINGERPRINT_EXPR: &str = "(\
    CAST((SELECT COUNT(*) FROM checkpoints) AS TEXT) || ':' || \
    CAST(COALESCE((SELECT MAX(updated_at) FROM checkpoints), 0) AS TEXT) || ':' || \
    CAST((SELECT COUNT(*) FROM commodities) AS TEXT) || ':' || \
    CAST(COALESCE((SELECT MAX(updated_at) FROM commodities), 0) AS TEXT) || ':' || \
    CAST((SELECT COUNT(*) FROM routes) AS TEXT) || ':' || \
    CAST(COALESCE((SELECT MAX(updated_at) FROM routes), 0) AS TEXT) || ':' || \
    CAST((SELECT COUNT(*) FROM route_checkpoints) AS TEXT))";

/// The reference data's fingerprint (see [`FINGERPRINT_EXPR`]).
pub fn reference_fingerprint(conn: &mut DbConn) -> diesel::QueryResult<String> {
    let query = diesel::sql_query(format!("SELECT {FINGERPRINT_EXPR} AS fingerprint"));
    Ok(match conn {
        DbConn::Pg(pg) => query.get_result::<Fingerprint>(pg)?,
        DbConn::Sqlite(lite) => query.get_result::<Fingerprint>(lite)?,
    }
    .fingerprint)
}
