//! Prometheus metrics: requests by route and status, latency, and the pool's state.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};

#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool: IntGaugeVec,
    alerts_open: IntGaugeVec,
    deliveries: IntGaugeVec,
    outbox_backlog: prometheus::IntGauge,
    /// Events per group commit, and how long each group took to write and commit.
    pub event_groups: prometheus::Histogram,
    pub event_group_seconds: prometheus::Histogram,
}

impl Metrics {
    pub fn new() -> anyhow::Result<Metrics> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "aidflow_http_requests_total",
                "HTTP requests by route pattern, method and status",
            ),
            &["method", "route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "aidflow_http_request_duration_seconds",
                "HTTP request latency by route pattern",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["method", "route"],
        )?;
        let pool = IntGaugeVec::new(
            Opts::new(
                "aidflow_db_pool_connections",
                "Database pool connections by state (idle, in_use, max)",
            ),
            &["state"],
        )?;
        let alerts_open = IntGaugeVec::new(
            Opts::new(
                "aidflow_alerts_open",
                "Open or acknowledged alerts by rule (the whole deployment)",
            ),
            &["rule"],
        )?;
        let deliveries = IntGaugeVec::new(
            Opts::new(
                "aidflow_webhook_deliveries",
                "Webhook deliveries by outcome: delivered, failed, pending",
            ),
            &["state"],
        )?;
        let outbox_backlog = prometheus::IntGauge::new(
            "aidflow_outbox_backlog",
            "Webhook deliveries still to be made (pending, including those waiting to retry)",
        )?;
        let event_groups = prometheus::Histogram::with_opts(
            HistogramOpts::new(
                "aidflow_event_group_size",
                "Events written per commit by the event writer (concurrent POSTs share commits)",
            )
            .buckets(vec![
                1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 1000.0,
            ]),
        )?;
        let event_group_seconds = prometheus::Histogram::with_opts(
            HistogramOpts::new(
                "aidflow_event_group_duration_seconds",
                "Time to write and commit one group of events",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
            ]),
        )?;
        registry.register(Box::new(event_groups.clone()))?;
        registry.register(Box::new(event_group_seconds.clone()))?;
        registry.register(Box::new(alerts_open.clone()))?;
        registry.register(Box::new(deliveries.clone()))?;
        registry.register(Box::new(outbox_backlog.clone()))?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(pool.clone()))?;
        Ok(Metrics {
            registry,
            requests,
            latency,
            pool,
            alerts_open,
            deliveries,
            outbox_backlog,
            event_groups,
            event_group_seconds,
        })
    }

    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        self.latency
            .with_label_values(&[method, route])
            .observe(seconds);
    }

    /// Sets the deployment-wide gauges read from the database at scrape time.
    pub fn set_backlog(&self, alerts: &[(String, i64)], deliveries: &[(String, i64)]) {
        self.alerts_open.reset();
        for rule in crate::domain::alerts::Rule::ALL {
            let n = alerts
                .iter()
                .find(|(r, _)| r == rule.as_str())
                .map(|(_, n)| *n)
                .unwrap_or(0);
            self.alerts_open.with_label_values(&[rule.as_str()]).set(n);
        }
        for state in ["delivered", "failed", "pending"] {
            let n = deliveries
                .iter()
                .find(|(s, _)| s == state)
                .map(|(_, n)| *n)
                .unwrap_or(0);
            self.deliveries.with_label_values(&[state]).set(n);
            if state == "pending" {
                self.outbox_backlog.set(n);
            }
        }
    }

    /// The exposition text, with the pool's state read at scrape time.
    pub fn render(&self, pool: &crate::db::Pool) -> String {
        let max = pool.max_size();
        let pool = pool.state();
        let in_use = pool.connections.saturating_sub(pool.idle_connections);
        self.pool
            .with_label_values(&["idle"])
            .set(i64::from(pool.idle_connections));
        self.pool
            .with_label_values(&["in_use"])
            .set(i64::from(in_use));
        self.pool.with_label_values(&["max"]).set(i64::from(max));
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::error!(error = %e, "encoding metrics failed");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}
