//! Background jobs of `aidflow serve`. Each pass is a plain function of the database and
//! a given time (tested with an injected clock); the loop here only calls it on a timer.

pub mod alerts;
pub mod webhooks;

use std::time::Duration;

use crate::app::state::AppState;
use crate::report::publish;

/// Starts the jobs on the actix runtime when `jobs.enabled` is set.
pub fn spawn(state: AppState) {
    if !state.settings.jobs.enabled {
        return;
    }
    let every = Duration::from_secs(state.settings.jobs.interval_seconds);
    actix_web::rt::spawn(async move {
        let mut timer = actix_web::rt::time::interval(every);
        loop {
            timer.tick().await;
            run_once(&state, chrono::Utc::now()).await;
        }
    });
}

/// One pass of every job at `now`; failures are logged and retried on the next pass.
#[tracing::instrument(skip_all, fields(%now))]
pub async fn run_once(state: &AppState, now: chrono::DateTime<chrono::Utc>) {
    let (tz, share) = (state.tz, state.dispute);
    let schedule = match state.settings.publication() {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "report schedule is invalid");
            return;
        }
    };
    match state
        .db(move |c| publish::tick(c, tz, share, now, schedule))
        .await
    {
        Ok(made) if !made.is_empty() => {
            tracing::info!(revisions = ?made, "report publisher made new revisions");
        }
        Ok(_) => {}
        Err(e) => {
            tracing::warn!(error = %chain(&e), "report publisher pass failed; it will run again");
        }
    }
    match state.settings.thresholds() {
        Ok(t) => match state.db(move |c| alerts::evaluate(c, now, tz, &t)).await {
            Ok(ch) if !ch.opened.is_empty() || !ch.resolved.is_empty() => {
                tracing::info!(
                    opened = ch.opened.len(),
                    resolved = ch.resolved.len(),
                    "alerts changed"
                );
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %chain(&e), "alert evaluation failed; it will run again");
            }
        },
        Err(e) => tracing::error!(error = format!("{e:#}"), "alert thresholds are invalid"),
    }
    if let Err(e) = webhooks::send_due(state, now).await {
        tracing::warn!(error = %chain(&e), "webhook sender pass failed; it will run again");
    }
}

/// An error with its whole cause chain ("internal error: database query: disk I/O error"),
/// so a job's log line says what failed, not only that something did.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
