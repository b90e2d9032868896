//! What every handler and job shares: the pool, the settings, the metrics.

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
    pub metrics: Metrics,
    /// Client for webhook deliveries.
    pub http: reqwest::Client,
    /// Group commit for event POSTs.
    pub writer: crate::app::events::Committer,
    /// Recently checked tokens.
    pub tokens: crate::app::auth::TokenCache,
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
        actix_web::web::block(move || {
            span.in_scope(|| {
                let mut conn = pool.get()?;
                f(&mut conn)
            })
        })
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("blocking task failed: {e}")))?
    }
}
