//! Typed settings: the built-in defaults, then `config/default.toml`, then the overlay
//! `config/<AIDFLOW_ENV>.toml`, then `AIDFLOW__SECTION__KEY` environment variables.
//!
//! A bad setting stops start-up with a message that names the setting and the variable
//! that overrides it, so an operator knows exactly what to fix.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use config::{Config, Environment, File, FileFormat};
use serde::Deserialize;

/// The defaults compiled into the binary, so `aidflow` runs from any directory.
const BUILTIN_DEFAULTS: &str = include_str!("../config/default.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub app: AppSettings,
    pub log: LogSettings,
    pub seed: SeedSettings,
    pub reports: ReportSettings,
    pub jobs: JobSettings,
    pub alerts: AlertSettings,
    pub webhooks: WebhookSettings,
    pub auth: AuthSettings,
    pub web: WebSettings,
    pub claims: ClaimSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertSettings {
    pub departure_grace: String,
    pub overdue_grace: String,
    pub stalled_default: String,
    pub stalled_minimum: String,
    pub corridor_dry: String,
    pub coverage_low_percent: u32,
}

/// When what sources published about a convoy is flagged as disputed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimSettings {
    /// A percentage (`2`, `2.5`): claims that differ from each other or from the logged
    /// figure by more than this share are disputed.
    pub dispute_percent: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    pub timeout_seconds: u64,
    pub max_attempts: i32,
    pub backoff_base_seconds: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportSettings {
    pub publish_weekday: String,
    pub publish_time: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobSettings {
    pub enabled: bool,
    pub interval_seconds: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    pub token_cache_seconds: u64,
}

/// When the browser session cookie carries `Secure`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SecureCookies {
    /// When the request came over HTTPS (directly, or `X-Forwarded-Proto: https` from a
    /// proxy on this machine).
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebSettings {
    /// How long a browser session lasts after sign-in, in hours.
    pub session_hours: u64,
    pub secure_cookies: SecureCookies,
    /// The language of pages when the browser asks for none that aidflow has.
    pub default_locale: String,
    /// How often the corridor overview refreshes itself, in seconds.
    pub overview_refresh_seconds: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub body_limit_bytes: usize,
    pub workers: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    pub url: String,
    pub pool_size: u32,
    pub connect_timeout_seconds: u64,
    pub event_writers: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppSettings {
    pub timezone: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
    pub level: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedSettings {
    pub enabled: bool,
    pub file: String,
}

impl Settings {
    /// Loads settings from `AIDFLOW_CONFIG_DIR` (default `config`), the overlay named by
    /// `AIDFLOW_ENV`, and the process environment.
    pub fn load() -> anyhow::Result<Settings> {
        let dir = std::env::var("AIDFLOW_CONFIG_DIR").unwrap_or_else(|_| "config".into());
        let env = std::env::var("AIDFLOW_ENV").ok();
        Self::load_from(Path::new(&dir), env.as_deref(), &[])
    }

    /// Loads settings like [`Settings::load`], with explicit overrides applied last
    /// (`("database.url", "sqlite://…")`); the test harness uses this.
    pub fn load_from(
        dir: &Path,
        env: Option<&str>,
        overrides: &[(&str, &str)],
    ) -> anyhow::Result<Settings> {
        let mut builder = Config::builder()
            .add_source(File::from_str(BUILTIN_DEFAULTS, FileFormat::Toml))
            .add_source(File::from(dir.join("default.toml")).required(false));
        if let Some(env) = env.filter(|e| !e.is_empty()) {
            let overlay: PathBuf = dir.join(format!("{env}.toml"));
            if !overlay.exists() {
                bail!(
                    "AIDFLOW_ENV={env} but {} does not exist; create it or unset AIDFLOW_ENV",
                    overlay.display()
                );
            }
            builder = builder.add_source(File::from(overlay));
        }
        builder = builder.add_source(
            Environment::with_prefix("AIDFLOW")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true),
        );
        for (key, value) in overrides {
            builder = builder
                .set_override(*key, *value)
                .with_context(|| format!("invalid override for setting {key}"))?;
        }
        let settings: Settings = builder
            .build()
            .and_then(|c| c.try_deserialize())
            .map_err(|e| anyhow::anyhow!("invalid configuration: {e} (settings are read from {}/default.toml, the AIDFLOW_ENV overlay and AIDFLOW__SECTION__KEY variables)", dir.display()))?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks what serde cannot: values that parse but make no sense.
    fn validate(&self) -> anyhow::Result<()> {
        self.timezone()?;
        self.publication()?;
        self.thresholds()?;
        self.dispute_share()?;
        if self.webhooks.max_attempts < 1 || self.webhooks.timeout_seconds == 0 {
            bail!("settings webhooks.max_attempts and webhooks.timeout_seconds must be at least 1");
        }
        if self.web.session_hours == 0 || self.web.overview_refresh_seconds == 0 {
            bail!("settings web.session_hours and web.overview_refresh_seconds must be at least 1");
        }
        if self.jobs.interval_seconds == 0 {
            bail!("setting jobs.interval_seconds (AIDFLOW__JOBS__INTERVAL_SECONDS) must be at least 1");
        }
        if self.database.url.trim().is_empty() {
            bail!("setting database.url (AIDFLOW__DATABASE__URL) is empty; give sqlite://PATH or postgres://USER@HOST/DB");
        }
        if self.database.pool_size == 0 {
            bail!("setting database.pool_size (AIDFLOW__DATABASE__POOL_SIZE) must be at least 1");
        }
        if self.server.body_limit_bytes < 1024 {
            bail!("setting server.body_limit_bytes (AIDFLOW__SERVER__BODY_LIMIT_BYTES) must be at least 1024");
        }
        if self.server.host.trim().is_empty() {
            bail!("setting server.host (AIDFLOW__SERVER__HOST) is empty; use 127.0.0.1 or 0.0.0.0");
        }
        if !valid_log_filter(&self.log.level) {
            bail!(
                "setting log.level (AIDFLOW__LOG__LEVEL) = {:?} is not a valid level or filter; use error, warn, info, debug or trace",
                self.log.level
            );
        }
        Ok(())
    }

    /// The alert thresholds, parsed.
    pub fn thresholds(&self) -> anyhow::Result<crate::domain::alerts::Thresholds> {
        let a = &self.alerts;
        let d = |key: &str, v: &str| -> anyhow::Result<chrono::Duration> {
            let parsed = humantime::parse_duration(v).map_err(|e| {
                anyhow::anyhow!(
                    "setting alerts.{key} (AIDFLOW__ALERTS__{}) = {v:?} is not a duration ({e}); write it like \"6h\" or \"90m\"",
                    key.to_uppercase()
                )
            })?;
            chrono::Duration::from_std(parsed)
                .map_err(|_| anyhow::anyhow!("setting alerts.{key} is too long"))
        };
        Ok(crate::domain::alerts::Thresholds {
            departure_grace: d("departure_grace", &a.departure_grace)?,
            overdue_grace: d("overdue_grace", &a.overdue_grace)?,
            stalled_default: d("stalled_default", &a.stalled_default)?,
            stalled_minimum: d("stalled_minimum", &a.stalled_minimum)?,
            corridor_dry: d("corridor_dry", &a.corridor_dry)?,
            coverage_low_percent: a.coverage_low_percent,
        })
    }

    /// The share beyond which claims are disputed (`claims.dispute_percent`), parsed.
    pub fn dispute_share(&self) -> anyhow::Result<crate::domain::claims::Share> {
        crate::domain::claims::Share::parse_percent(&self.claims.dispute_percent).map_err(|e| {
            anyhow::anyhow!(
                "setting claims.dispute_percent (AIDFLOW__CLAIMS__DISPUTE_PERCENT): {e}"
            )
        })
    }

    /// When the weekly report is published, parsed.
    pub fn publication(&self) -> anyhow::Result<crate::domain::week::Schedule> {
        let weekday = self.reports.publish_weekday.parse::<chrono::Weekday>().map_err(|_| {
            anyhow::anyhow!(
                "setting reports.publish_weekday (AIDFLOW__REPORTS__PUBLISH_WEEKDAY) = {:?} is not a weekday; use monday … sunday",
                self.reports.publish_weekday
            )
        })?;
        let time = chrono::NaiveTime::parse_from_str(&self.reports.publish_time, "%H:%M").map_err(|_| {
            anyhow::anyhow!(
                "setting reports.publish_time (AIDFLOW__REPORTS__PUBLISH_TIME) = {:?} is not a time; use HH:MM, like 06:00",
                self.reports.publish_time
            )
        })?;
        use chrono::Timelike;
        Ok(crate::domain::week::Schedule {
            weekday,
            hour: time.hour(),
            minute: time.minute(),
        })
    }

    /// The deployment's time zone, parsed.
    pub fn timezone(&self) -> anyhow::Result<chrono_tz::Tz> {
        self.app.timezone.parse::<chrono_tz::Tz>().map_err(|_| {
            anyhow::anyhow!(
                "setting app.timezone (AIDFLOW__APP__TIMEZONE) = {:?} is not an IANA time zone name such as Asia/Yerevan or Europe/Paris",
                self.app.timezone
            )
        })
    }
}

/// A level (`info`) or comma-separated directives with levels (`info,aidflow=debug`).
/// EnvFilter alone would take a misspelt level such as "verbose" as a target name and
/// silently log nothing.
fn valid_log_filter(filter: &str) -> bool {
    const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];
    let directives_ok = filter.split(',').map(str::trim).all(|d| {
        let level = d.rsplit_once('=').map(|(_, l)| l).unwrap_or(d);
        LEVELS.contains(&level.to_ascii_lowercase().as_str())
    });
    directives_ok
        && filter
            .parse::<tracing_subscriber::filter::EnvFilter>()
            .is_ok()
}
