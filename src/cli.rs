//! The `aidflow` command line.

use std::io::Write;

use anyhow::{anyhow, Context};
use clap::{Parser, Subcommand};

use crate::app::auth::Role;
use crate::config::Settings;
use crate::db;
use crate::startup::{open_command_database, Application};
use crate::store::tokens;

#[derive(Debug, Parser)]
#[command(
    name = "aidflow",
    version,
    about = "Track humanitarian aid through a corridor: planned vs delivered tonnage, shortfalls and where they happened"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service (migrates the database first; on an empty database, loads the
    /// seed and prints a first admin token).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Import events from a CSV file (all rows or none; see README for the columns).
    Import {
        #[command(subcommand)]
        what: ImportCommand,
    },
    /// Load a Lachin 2023 scenario from public figures into the database.
    Demo,
    /// Stall alerts.
    Alerts {
        #[command(subcommand)]
        action: AlertCommand,
    },
    /// Weekly shortfall reports.
    Report {
        #[command(subcommand)]
        action: ReportCommand,
    },
    /// Print the OpenAPI 3 document (the same as GET /api/v1/openapi.json).
    Openapi,
    /// Manage bearer tokens.
    Token {
        #[command(subcommand)]
        action: TokenCommand,
    },
    /// Form intakes (KoboToolbox, ODK Collect) and their logs.
    Intake {
        #[command(subcommand)]
        action: IntakeCommand,
    },
    /// Recompute every convoy's hash chain and compare the chain heads published
    /// revisions recorded (or check an export file on its own); exits with status 1 when
    /// anything no longer matches.
    Verify {
        /// An export file (`aidflow export ledger`) to verify from its own records alone,
        /// without the database.
        #[arg(long)]
        file: Option<std::path::PathBuf>,
        /// Print the whole answer as JSON (as GET /api/v1/ledger/verify gives it).
        #[arg(long)]
        json: bool,
    },
    /// Evidence exports.
    Export {
        #[command(subcommand)]
        what: ExportCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// The whole ledger as JSON Lines: reference data, published revisions' chain heads,
    /// every convoy and event with its hashes (the same file as GET /api/v1/ledger/export).
    Ledger {
        /// Write to this file instead of standard output.
        #[arg(long)]
        output: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum IntakeCommand {
    /// Create an intake and print its secret, alone on stdout.
    Create {
        /// The intake's name in its URLs and as the ODK username, e.g. "kornidzor-kobo".
        #[arg(long)]
        name: String,
        /// The organization whose convoys its submissions are about (slug).
        #[arg(long)]
        organization: String,
        /// A JSON file mapping aidflow fields to the form's field paths (the shipped form
        /// needs none).
        #[arg(long)]
        mapping: Option<std::path::PathBuf>,
    },
    /// List intakes (never their secrets).
    List,
    /// Show an intake's log, newest first.
    Log {
        name: String,
        /// Only entries in this state: stored or failed.
        #[arg(long)]
        state: Option<String>,
    },
    /// Try the failed entries of an intake's log again (or one entry by id).
    Replay {
        name: String,
        /// One entry's id; without it, every failed entry.
        entry: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AlertCommand {
    /// Run one evaluation pass: open alerts whose condition holds, resolve those that
    /// cleared. Notifications go out through the webhook sender of `aidflow serve`.
    Evaluate {
        /// The time to evaluate at (RFC 3339 with offset); default now.
        #[arg(long)]
        now: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Write a week's report (live figures, or a published revision).
    Weekly {
        /// ISO week, like 2023-W31.
        week: String,
        /// json, csv, hxl, hxl-long or html.
        #[arg(long, default_value = "json")]
        format: String,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
        /// Only this route (code).
        #[arg(long)]
        route: Option<String>,
        /// Only this organization (slug).
        #[arg(long)]
        organization: Option<String>,
        /// A published revision instead of the live figures.
        #[arg(long)]
        revision: Option<i32>,
    },
    /// Publish a week now (a new revision if its figures changed).
    Publish {
        /// ISO week, like 2023-W31.
        #[arg(long)]
        week: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Events, one cargo line per row.
    Events {
        /// The CSV file.
        file: std::path::PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print its secret, alone on stdout.
    Create {
        /// admin, editor or viewer.
        #[arg(long)]
        role: String,
        /// A name that says who or what uses it, e.g. "kornidzor-phone".
        #[arg(long)]
        name: String,
        /// Organization slug (required for editors).
        #[arg(long)]
        organization: Option<String>,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by id; it stops working at once.
    Revoke { id: String },
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Openapi = cli.command {
        println!("{}", crate::startup::openapi_document()?);
        return Ok(());
    }
    let settings = Settings::load()?;
    crate::telemetry::init(&settings.log);
    match cli.command {
        Command::Serve => serve(settings),
        Command::Migrate => migrate(&settings),
        Command::Openapi => Ok(()),
        Command::Token { action } => token(&settings, action),
        Command::Intake { action } => intake(&settings, action),
        Command::Import {
            what: ImportCommand::Events { file },
        } => import_events(&settings, &file),
        Command::Demo => demo(&settings),
        Command::Report { action } => report(&settings, action),
        Command::Alerts {
            action: AlertCommand::Evaluate { now },
        } => evaluate_alerts(&settings, now.as_deref()),
        Command::Verify { file, json } => verify(&settings, file.as_deref(), json),
        Command::Export {
            what: ExportCommand::Ledger { output },
        } => export_ledger(&settings, output.as_deref()),
    }
}

/// `aidflow verify`: the database's chains, or an export file's.
fn verify(settings: &Settings, file: Option<&std::path::Path>, json: bool) -> anyhow::Result<()> {
    use crate::app::evidence;
    let v = match file {
        Some(path) => {
            let f = std::fs::File::open(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            evidence::file::verify_file(std::io::BufReader::new(f))
                .with_context(|| format!("reading {}", path.display()))?
        }
        None => {
            // Migrations only: computing missing chains first (as a start does) would
            // hide that they are missing.
            let (mut conn, _) = db::open_connection(&settings.database.url, |c| {
                db::run_migrations(c).map(|_| ())
            })?;
            evidence::verify(&mut conn).context("verifying the ledger")?
        }
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&v)?);
    }
    let mut err = std::io::stderr().lock();
    for line in v.summary() {
        let _ = writeln!(err, "aidflow: {line}");
    }
    if v.ok {
        Ok(())
    } else {
        let what = match file {
            Some(path) => path.display().to_string(),
            None => "the ledger".into(),
        };
        Err(anyhow!(
            "{what} does not match its chains: {}",
            v.first_mismatch
                .as_ref()
                .map(|m| m.message.clone())
                .or_else(|| v.snapshots.first().map(|s| s.message.clone()))
                .unwrap_or_default()
        ))
    }
}

/// `aidflow export ledger`: the evidence export, to a file or standard output.
fn export_ledger(settings: &Settings, output: Option<&std::path::Path>) -> anyhow::Result<()> {
    use crate::app::evidence::export;
    let (db, _) = open_command_database(settings, false)?;
    let (mut conn, tz, share) = (db.conn, db.tz, db.dispute);
    let instance = export::Instance::new(conn.backend().as_str(), tz.name());
    let counts = match output {
        Some(path) => {
            let f = std::fs::File::create(path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            let mut out = std::io::BufWriter::new(f);
            let counts = export::export(&mut conn, &mut out, &instance, share)
                .with_context(|| format!("exporting the ledger to {}", path.display()))?;
            out.flush()
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!(
                "aidflow: exported {} convoy(s), {} event(s), {} claim(s) and {} published revision(s) to {}",
                counts.convoys,
                counts.events,
                counts.claims,
                counts.snapshots,
                path.display()
            );
            counts
        }
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let counts = export::export(&mut conn, &mut out, &instance, share)
                .context("exporting the ledger")?;
            out.flush()?;
            counts
        }
    };
    tracing::debug!(
        convoys = counts.convoys,
        events = counts.events,
        "ledger exported"
    );
    Ok(())
}

fn serve(settings: Settings) -> anyhow::Result<()> {
    let (stopped, writers) = actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings)?;
        if let Some(token) = &app.first_admin_token {
            announce_first_token(token, app.port());
        }
        let writers = app.state.writer.threads();
        let stopped = app
            .run_until_stopped()
            .await
            .context("the HTTP server stopped with an error");
        anyhow::Ok((stopped, writers))
    })?;
    // The runtime has gone, and with it the jobs and the last handles to the event
    // writers: they finish what they hold and end. Joining them, and so dropping the pool
    // they share, leaves no thread inside libpq when the process exits.
    let running = writers.join(std::time::Duration::from_secs(10));
    if running > 0 {
        tracing::warn!(
            running,
            "event writers did not stop within 10 s of shutdown"
        );
    }
    stopped
}

/// The first admin token goes to stdout alone (so scripts can capture it); the
/// explanation goes to stderr.
fn announce_first_token(token: &str, port: u16) {
    eprintln!(
        "\naidflow: this database had no tokens, so an admin token was created.\n\
         It is printed once, on the next line of standard output; store it now (it is kept only as a hash).\n\
         Try: curl -H 'Authorization: Bearer <token>' http://127.0.0.1:{port}/api/v1/routes\n"
    );
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{token}");
    let _ = out.flush();
}

fn migrate(settings: &Settings) -> anyhow::Result<()> {
    let url = db::DatabaseUrl::parse(&settings.database.url)?;
    let mut conn = url.connect()?;
    let applied = db::with_startup_lock(&mut conn, crate::startup::migrate)?;
    if applied.is_empty() {
        eprintln!("aidflow: {} is up to date", url.display);
    } else {
        eprintln!(
            "aidflow: applied {} migration(s) to {}: {}",
            applied.len(),
            url.display,
            applied.join(", ")
        );
    }
    Ok(())
}

fn token(settings: &Settings, action: TokenCommand) -> anyhow::Result<()> {
    let (db, _) = open_command_database(settings, false)?;
    let mut conn = db.conn;
    match action {
        TokenCommand::Create {
            role,
            name,
            organization,
        } => {
            let role = Role::parse(&role).ok_or_else(|| {
                anyhow!("--role {role:?} is not a role; use admin, editor or viewer")
            })?;
            if role == Role::Editor && organization.is_none() {
                return Err(anyhow!("an editor token needs --organization SLUG, the organization whose convoys it may write"));
            }
            // The same use case as POST /api/v1/tokens: the same checks of the name and
            // the organization, the secret stored only as a hash.
            let body = crate::app::tokens::NewToken {
                id: None,
                name,
                role,
                organization,
            };
            let issued = crate::app::tokens::issue(&mut conn, &body)
                .context("creating the token")?
                .into_inner();
            let secret = issued
                .token
                .ok_or_else(|| anyhow!("the token was not created"))?;
            eprintln!(
                "aidflow: created {} token {} ({}); the secret is shown once:",
                role.as_str(),
                issued.name,
                issued.id
            );
            println!("{secret}");
        }
        TokenCommand::List => {
            for t in tokens::list_tokens(&mut conn)? {
                let status = if t.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                println!("{}\t{}\t{}\t{}…\t{}", t.id, t.role, t.name, t.hint, status);
            }
        }
        TokenCommand::Revoke { id } => {
            let t = tokens::revoke_token(&mut conn, &id)?;
            eprintln!("aidflow: token {} ({}) is revoked", t.id, t.name);
        }
    }
    Ok(())
}

fn intake(settings: &Settings, action: IntakeCommand) -> anyhow::Result<()> {
    use crate::app::intake::{admin, receive};
    let (db, _) = open_command_database(settings, false)?;
    let mut conn = db.conn;
    let who = crate::app::auth::Principal::command_line();
    match action {
        IntakeCommand::Create {
            name,
            organization,
            mapping,
        } => {
            let mapping = match mapping {
                Some(path) => {
                    let text = std::fs::read_to_string(&path)
                        .with_context(|| format!("cannot read {}", path.display()))?;
                    Some(serde_json::from_str(&text).with_context(|| {
                        format!("{} is not a mapping (a JSON object of aidflow field → form field path)", path.display())
                    })?)
                }
                None => None,
            };
            // The same use case as POST /api/v1/intakes.
            let body = admin::NewIntake {
                id: None,
                name,
                organization,
                mapping,
            };
            let made = admin::create(&mut conn, &who, &body)
                .context("creating the intake")?
                .into_inner();
            let secret = made
                .secret
                .ok_or_else(|| anyhow!("the intake was not created"))?;
            eprintln!(
                "aidflow: created intake {} for {}; KoboToolbox posts to {}, ODK Collect's server URL is {} (username {}); the secret is shown once:",
                made.name, made.organization, made.kobo_url, made.odk_url, made.name
            );
            println!("{secret}");
        }
        IntakeCommand::List => {
            for i in admin::list(&mut conn)? {
                println!(
                    "{}\t{}\t{}\t{}…",
                    i.id, i.name, i.organization, i.secret_hint
                );
            }
        }
        IntakeCommand::Log { name, state } => {
            let page = admin::log(&mut conn, &name, state.as_deref(), Some(500), None)?;
            for e in page.items {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    e.id,
                    e.received_at,
                    e.instance_id,
                    e.state,
                    e.event.unwrap_or_default(),
                    e.reason.unwrap_or_default()
                );
            }
        }
        IntakeCommand::Replay { name, entry } => {
            let intake = crate::store::intakes::get_intake(&mut conn, &name)?;
            let cache = crate::app::events::StateCache::new(0);
            let ids: Vec<String> = match entry {
                Some(id) => vec![id],
                None => admin::log(&mut conn, &name, Some("failed"), Some(500), None)?
                    .items
                    .into_iter()
                    .map(|e| e.id)
                    .collect(),
            };
            let (mut stored, mut kept) = (0, 0);
            for id in ids {
                match receive::replay(&mut conn, &cache, &intake, &id)? {
                    receive::Answer::Stored { event, .. } => {
                        stored += 1;
                        eprintln!("aidflow: {id}: stored as event {event}");
                    }
                    receive::Answer::Kept { reason, .. } => {
                        kept += 1;
                        eprintln!("aidflow: {id}: still failed: {reason}");
                    }
                }
            }
            eprintln!("aidflow: replayed intake {name}: {stored} stored, {kept} still failed");
        }
    }
    Ok(())
}

fn import_events(settings: &Settings, file: &std::path::Path) -> anyhow::Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let (db, _) = open_command_database(settings, false)?;
    let mut conn = db.conn;
    match crate::app::imports::import_events(
        &mut conn,
        &crate::app::demo::cli_principal(),
        &bytes,
        &crate::app::events::StateCache::new(0),
    ) {
        Ok(s) => {
            eprintln!(
                "aidflow: imported {}: {} row(s), {} event(s): {} recorded, {} already recorded before",
                file.display(), s.rows, s.events, s.created, s.replayed
            );
            Ok(())
        }
        Err(crate::app::error::AppError::Validation { detail, errors }) => {
            for e in &errors {
                eprintln!("{}: {}: {}", file.display(), e.field, e.message);
            }
            Err(anyhow!("{detail}"))
        }
        Err(e) => Err(anyhow::Error::from(e).context(format!("importing {}", file.display()))),
    }
}

fn demo(settings: &Settings) -> anyhow::Result<()> {
    let (db, first_token) = open_command_database(settings, true)?;
    let mut conn = db.conn;
    let lines = crate::app::demo::load(&mut conn).context("loading the demo")?;
    eprintln!("aidflow: loaded the Lachin 2023 demo (figures from public sources; many are claims by parties to the conflict, see each convoy's note):");
    for l in &lines {
        eprintln!("  {l}");
    }
    eprintln!(
        "The 26 July 2023 convoy is /api/v1/convoys/{}",
        crate::app::demo::july_convoy_id()
    );
    if let Some(token) = first_token {
        eprintln!("This database had no tokens; an admin token was created and is printed once on standard output:");
        println!("{token}");
    }
    Ok(())
}

fn report(settings: &Settings, action: ReportCommand) -> anyhow::Result<()> {
    use crate::report::build::ScopeFilter;
    use crate::report::fetch::{fetch, parse_week, Source};
    use crate::report::format::Format;
    let (db, _) = open_command_database(settings, false)?;
    let (mut conn, tz, share) = (db.conn, db.tz, db.dispute);
    match action {
        ReportCommand::Weekly {
            week,
            format,
            out,
            route,
            organization,
            revision,
        } => {
            let w = parse_week(&week).map_err(|e| anyhow!("{e}"))?;
            let format = Format::parse(&format).ok_or_else(|| {
                anyhow!("--format {format:?} is not a format; use {}", Format::NAMES)
            })?;
            let source = match revision {
                // A revision covers the whole corridor: --route and --organization do not
                // apply to it.
                Some(r) => Source::Published(r),
                None => Source::Live(ScopeFilter {
                    route,
                    organization,
                }),
            };
            let fetched = match fetch(&mut conn, tz, share, w, &source) {
                Ok(Some(fetched)) => fetched,
                // Only a published revision can be missing.
                Ok(None) => {
                    return Err(anyhow!(
                        "week {} has no published revision {}",
                        w.key(),
                        revision.unwrap_or_default()
                    ))
                }
                // The messages of before: a live report's error by its text alone, a
                // snapshot read error with its cause (they differ only for internal errors).
                Err(e) if revision.is_none() => return Err(anyhow!("{e}")),
                Err(e) => return Err(e.into()),
            };
            let body = fetched.render(format)?.1;
            match out {
                Some(path) => {
                    std::fs::write(&path, body)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    eprintln!(
                        "aidflow: wrote the {} report to {}",
                        w.key(),
                        path.display()
                    );
                }
                None => print!("{body}"),
            }
        }
        ReportCommand::Publish { week } => {
            let w = parse_week(&week).map_err(|e| anyhow!("{e}"))?;
            let p = crate::report::publish::publish(&mut conn, tz, share, w, "command line")
                .map_err(|e| anyhow!("{e}"))?;
            let s = p.snapshot;
            if p.new_revision {
                eprintln!(
                    "aidflow: published {} revision {} (sha256 {})",
                    s.week, s.revision, s.sha256
                );
            } else {
                eprintln!(
                    "aidflow: {} is unchanged since revision {} (sha256 {})",
                    s.week, s.revision, s.sha256
                );
            }
        }
    }
    Ok(())
}

fn evaluate_alerts(settings: &Settings, now: Option<&str>) -> anyhow::Result<()> {
    let now = match now {
        Some(s) => crate::domain::time::parse_time(s)
            .map(|(at, _)| crate::domain::time::from_micros(at))
            .map_err(|e| anyhow!("--now: {e}"))?,
        None => chrono::Utc::now(),
    };
    let thresholds = settings.thresholds()?;
    let (db, _) = open_command_database(settings, false)?;
    let (mut conn, tz) = (db.conn, db.tz);
    let changes = crate::jobs::alerts::evaluate(&mut conn, now, tz, &thresholds)
        .map_err(|e| anyhow!("{e}"))?;
    let names = crate::store::reference::Names::load(&mut conn)?;
    for (verb, ids) in [("opened", &changes.opened), ("resolved", &changes.resolved)] {
        for id in ids {
            let row = crate::store::alerts::get_alert(&mut conn, id)?;
            let a = crate::store::alerts::to_alert(&mut conn, &row, &names)?;
            println!(
                "{verb}\t{}\t{}\t{}\t{}",
                a.id, a.rule, a.severity, a.message
            );
        }
    }
    eprintln!(
        "aidflow: alerts evaluated at {}: {} opened, {} resolved, {} still open",
        now.to_rfc3339(),
        changes.opened.len(),
        changes.resolved.len(),
        changes.still_open
    );
    Ok(())
}
