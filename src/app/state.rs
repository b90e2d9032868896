//! What every handler and job shares: the pool, the settings, the metrics.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::app::error::AppError;
use crate::app::metrics::Metrics;
use crate::config::Settings;
use crate::db::{Backend, DbConn, Pool};

#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    pub backend: Backend,
    pub settings: Arc<Settings>,
    pub tz: chrono_tz::Tz,
    /// The share beyond which a convoy's claims are disputed (`claims.dispute_percent`).
    pub dispute: crate::domain::claims::Share,
    pub metrics: Metrics,
    /// Client for webhook deliveries.
    pub http: reqwest::Client,
    /// Group commit for event POSTs.
    pub writer: crate::app::events::Committer,
    /// Recently checked tokens.
    pub tokens: crate::app::auth::TokenCache,
    /// Long convoys as their pages last read them.
    pub pages: Arc<crate::app::convoys::DetailCache>,
    /// Whether the storage refused a write that has not been followed by one it accepted.
    pub storage: StorageHealth,
}

/// The "storage degraded" flag of one server: set when the database refuses a write for
/// want of storage (disk full, read-only, I/O error), cleared by the next write it
/// accepts. `/health/ready` answers 503 while it is set, and the episode is logged once at
/// its start and once at its end, however many requests fail in between.
#[derive(Clone, Default)]
pub struct StorageHealth {
    degraded: Arc<AtomicBool>,
}

impl StorageHealth {
    /// A write failed for want of storage.
    pub fn fault(&self, cause: &str) {
        if !self.degraded.swap(true, Ordering::SeqCst) {
            tracing::error!(
                cause,
                "the database refuses writes (disk full, read-only or I/O error): writes answer 503 \
                 and /health/ready is 503 until a write succeeds again"
            );
        }
    }

    /// A write succeeded.
    pub fn recovered(&self) {
        if self.degraded.swap(false, Ordering::SeqCst) {
            tracing::warn!("the database accepts writes again; /health/ready is 200");
        }
    }

    pub fn is_degraded(&self) -> bool {
        self.degraded.load(Ordering::SeqCst)
    }

    /// Notes what a piece of database work said about the storage.
    pub fn observe<T>(&self, result: &Result<T, AppError>) {
        if let Err(AppError::Storage(cause)) = result {
            self.fault(cause);
        }
    }
}

impl AppState {
    /// Runs blocking diesel work on actix's blocking pool, taking the pooled connection
    /// inside the closure so a slow database never stalls the async workers. The
    /// request's tracing span follows the work onto the blocking thread.
    pub async fn db<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        let span = tracing::Span::current();
        let result = actix_web::web::block(move || {
            span.in_scope(|| {
                let mut conn = pool.get()?;
                f(&mut conn)
            })
        })
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("blocking task failed: {e}")))?;
        self.storage.observe(&result);
        result
    }
}
