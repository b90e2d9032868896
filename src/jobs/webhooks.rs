//! The webhook sender: claims due deliveries, posts them concurrently (so a receiver that
//! hangs or fails delays no other), and records each attempt with its outcome.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::app::error::AppError;
use crate::app::state::AppState;
use crate::store::webhooks::{self, Claimed, Outcome};

/// Deliveries claimed per pass.
const BATCH: i64 = 100;

/// The signature header value: `t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`.
pub fn signature(secret: &str, unix: i64, body: &str) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(format!("{unix}.{body}").as_bytes());
    format!("t={unix},v1={}", hex::encode(mac.finalize().into_bytes()))
}

#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct SendSummary {
    pub delivered: usize,
    pub retrying: usize,
    pub failed: usize,
}

async fn send(client: &reqwest::Client, c: &Claimed, timeout: Duration) -> Outcome {
    let started = Utc::now();
    let clock = Instant::now();
    let unix = started.timestamp();
    let result = client
        .post(&c.url)
        .timeout(timeout)
        .header("Content-Type", "application/json")
        .header("X-Aidflow-Event", &c.delivery.event_type)
        .header("X-Aidflow-Delivery", &c.delivery.id)
        .header(
            "X-Aidflow-Signature",
            signature(&c.secret, unix, &c.payload),
        )
        .body(c.payload.clone())
        .send()
        .await;
    let duration_ms = clock.elapsed().as_millis() as i64;
    match result {
        Ok(res) => {
            let status = i32::from(res.status().as_u16());
            let ok = res.status().is_success();
            Outcome {
                started_at: started.timestamp_micros(),
                duration_ms,
                status_code: Some(status),
                error: (!ok).then(|| format!("the receiver answered HTTP {status}")),
            }
        }
        Err(e) => Outcome {
            started_at: started.timestamp_micros(),
            duration_ms,
            status_code: None,
            error: Some(if e.is_timeout() {
                format!("no answer within {} s", timeout.as_secs())
            } else {
                format!("could not reach the receiver: {e}")
            }),
        },
    }
}

/// One pass at `now`: every due delivery is attempted once.
#[tracing::instrument(skip_all, fields(%now))]
pub async fn send_due(state: &AppState, now: DateTime<Utc>) -> Result<SendSummary, AppError> {
    let cfg = state.settings.webhooks.clone();
    let timeout = Duration::from_secs(cfg.timeout_seconds);
    let now_us = now.timestamp_micros();
    // The lease outlasts the attempt, so another instance cannot send it meanwhile.
    let lease = (cfg.timeout_seconds as i64 + 30) * 1_000_000;
    let claimed = state
        .db(move |c| Ok(webhooks::claim_due(c, now_us, lease, BATCH)?))
        .await?;
    let client = state.http.clone();
    let sends = claimed.into_iter().map(|c| {
        let client = client.clone();
        async move {
            let outcome = send(&client, &c, timeout).await;
            (c, outcome)
        }
    });
    let results = futures_util::future::join_all(sends).await;
    let mut summary = SendSummary::default();
    for (c, outcome) in results {
        let exponent = u32::try_from(c.delivery.attempts.clamp(0, 20)).unwrap_or(20);
        let backoff = (cfg.backoff_base_seconds as i64)
            .saturating_mul(1_i64 << exponent)
            .saturating_mul(1_000_000);
        let max = cfg.max_attempts;
        if let Some(e) = &outcome.error {
            tracing::warn!(delivery = %c.delivery.id, url = %c.url, attempt = c.delivery.attempts + 1, error = %e, "webhook delivery attempt failed");
        }
        let state_after = state
            .db(move |db| {
                Ok(webhooks::record_attempt(
                    db,
                    &c.delivery,
                    &outcome,
                    now_us,
                    backoff,
                    max,
                )?)
            })
            .await?;
        match state_after.as_str() {
            "delivered" => summary.delivered += 1,
            "failed" => summary.failed += 1,
            _ => summary.retrying += 1,
        }
    }
    Ok(summary)
}
