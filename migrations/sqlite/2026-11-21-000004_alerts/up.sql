-- Alerts and durable webhook delivery.

CREATE TABLE alerts (
    id TEXT PRIMARY KEY NOT NULL,
    rule TEXT NOT NULL,
    subject_kind TEXT NOT NULL,
    -- a convoy id or a route code
    subject TEXT NOT NULL,
    route_id TEXT REFERENCES routes(id),
    organization_id TEXT REFERENCES organizations(id),
    severity TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved')),
    message TEXT NOT NULL,
    opened_at BIGINT NOT NULL,
    last_evaluated_at BIGINT NOT NULL,
    acknowledged_by TEXT,
    acknowledged_at BIGINT,
    acknowledge_note TEXT,
    resolved_at BIGINT,
    resolved_by TEXT,
    resolve_note TEXT
);
-- One open (or acknowledged) alert per rule and subject, whatever the number of
-- instances evaluating at once.
CREATE UNIQUE INDEX alerts_one_active ON alerts (rule, subject) WHERE state <> 'resolved';
CREATE INDEX alerts_opened ON alerts (opened_at);
CREATE INDEX alerts_state ON alerts (state);

CREATE TABLE webhooks (
    id TEXT PRIMARY KEY NOT NULL,
    url TEXT NOT NULL,
    -- shared secret for the HMAC-SHA256 signature (needed in clear to sign)
    secret TEXT NOT NULL,
    -- comma-separated event types
    events TEXT NOT NULL,
    organization_id TEXT REFERENCES organizations(id),
    body_sha256 TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    deleted_at BIGINT
);

-- One row per (webhook, notification), created with the notification; the sender claims
-- due rows with a lease so that several instances never send the same one at once.
CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    webhook_id TEXT NOT NULL REFERENCES webhooks(id),
    outbox_id TEXT NOT NULL REFERENCES outbox(id),
    event_type TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    lease_until BIGINT,
    last_status INTEGER,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    delivered_at BIGINT,
    UNIQUE (webhook_id, outbox_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);

CREATE TABLE webhook_attempts (
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries(id),
    attempt INTEGER NOT NULL,
    started_at BIGINT NOT NULL,
    duration_ms BIGINT NOT NULL,
    status_code INTEGER,
    error TEXT,
    PRIMARY KEY (delivery_id, attempt)
);
