-- Weekly reports: requirements, receipts by observed time, weekly rollups maintained in
-- every ledger write transaction, published snapshots, and the notification outbox.

CREATE TABLE requirements (
    id TEXT PRIMARY KEY NOT NULL,
    route_id TEXT NOT NULL REFERENCES routes(id),
    commodity_id TEXT REFERENCES commodities(id),
    -- inclusive local dates, YYYY-MM-DD
    from_date TEXT NOT NULL,
    to_date TEXT NOT NULL,
    kg_per_day BIGINT NOT NULL CHECK (kg_per_day > 0),
    note TEXT,
    body_sha256 TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX requirements_route ON requirements (route_id);

-- What each delivered event brought in, per commodity (derived from the ledger).
CREATE TABLE deliveries (
    event_id TEXT NOT NULL REFERENCES events(id),
    commodity_id TEXT NOT NULL REFERENCES commodities(id),
    convoy_id TEXT NOT NULL REFERENCES convoys(id),
    observed_at BIGINT NOT NULL,
    kg BIGINT NOT NULL,
    PRIMARY KEY (event_id, commodity_id)
);
CREATE INDEX deliveries_convoy ON deliveries (convoy_id);
CREATE INDEX deliveries_observed ON deliveries (observed_at);

-- Sums per ISO week (in the time zone of rollup_state), route, organization and
-- commodity. planned..cancelled are those of the convoys expected to arrive in the week;
-- delivered_during_kg is what was received in the week, whatever the convoy.
CREATE TABLE week_rollups (
    week TEXT NOT NULL,
    route_id TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    commodity_id TEXT NOT NULL,
    planned_kg BIGINT NOT NULL,
    loaded_kg BIGINT NOT NULL,
    delivered_kg BIGINT NOT NULL,
    delivered_during_kg BIGINT NOT NULL,
    short_loaded_kg BIGINT NOT NULL,
    denied_kg BIGINT NOT NULL,
    lost_kg BIGINT NOT NULL,
    rejected_kg BIGINT NOT NULL,
    outstanding_kg BIGINT NOT NULL,
    cancelled_kg BIGINT NOT NULL,
    PRIMARY KEY (week, route_id, organization_id, commodity_id)
);

-- The time zone the rollups were computed in; a change of zone rebuilds them.
CREATE TABLE rollup_state (
    id INTEGER PRIMARY KEY NOT NULL,
    timezone TEXT NOT NULL
);

-- Weeks whose figures changed after they were published: the publisher makes a new
-- revision if the report's content changed.
CREATE TABLE report_dirty (
    week TEXT PRIMARY KEY NOT NULL,
    marked_at BIGINT NOT NULL
);

CREATE TABLE report_snapshots (
    week TEXT NOT NULL,
    revision INTEGER NOT NULL,
    timezone TEXT NOT NULL,
    -- SHA-256 of `body`, the canonical JSON of the report
    sha256 TEXT NOT NULL,
    body TEXT NOT NULL,
    -- the report in kilograms, to render the snapshot in every format
    model TEXT NOT NULL,
    published_at BIGINT NOT NULL,
    published_by TEXT NOT NULL,
    PRIMARY KEY (week, revision)
);

-- Notifications written in the same transaction as what they announce.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY NOT NULL,
    event_type TEXT NOT NULL,
    subject TEXT NOT NULL,
    -- the organization concerned (a convoy's), for webhooks that filter on it
    organization_id TEXT,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX outbox_created ON outbox (created_at);
