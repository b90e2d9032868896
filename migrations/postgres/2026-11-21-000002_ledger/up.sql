-- The convoy ledger. Events are append-only: a correction is a new event whose
-- `corrects` names the event it voids. Quantities are integer kilograms; the original
-- quantity and unit the client sent are kept beside them.

CREATE TABLE convoys (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    reference TEXT NOT NULL,
    route_id TEXT NOT NULL REFERENCES routes(id),
    trucks INTEGER,
    planned_departure BIGINT NOT NULL,
    planned_departure_offset INTEGER NOT NULL,
    expected_arrival BIGINT NOT NULL,
    expected_arrival_offset INTEGER NOT NULL,
    note TEXT,
    -- Derived from the ledger, rewritten in the same transaction as every event.
    status TEXT NOT NULL,
    last_checkpoint_id TEXT REFERENCES checkpoints(id),
    last_seen_at BIGINT,
    planned_kg BIGINT NOT NULL,
    loaded_kg BIGINT NOT NULL,
    delivered_kg BIGINT NOT NULL,
    short_loaded_kg BIGINT NOT NULL,
    denied_kg BIGINT NOT NULL,
    lost_kg BIGINT NOT NULL,
    rejected_kg BIGINT NOT NULL,
    outstanding_kg BIGINT NOT NULL,
    cancelled_kg BIGINT NOT NULL,
    -- Bumped by every event write: the row lock that serializes writers of one convoy,
    -- and the source of the events' recording sequence.
    ledger_version BIGINT NOT NULL,
    body_sha256 TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (organization_id, reference)
);
CREATE INDEX convoys_expected_arrival ON convoys (expected_arrival, id);
CREATE INDEX convoys_route ON convoys (route_id, expected_arrival);
CREATE INDEX convoys_status ON convoys (status);

CREATE TABLE manifest_lines (
    convoy_id TEXT NOT NULL REFERENCES convoys(id),
    line_no INTEGER NOT NULL,
    commodity_id TEXT NOT NULL REFERENCES commodities(id),
    kg BIGINT NOT NULL CHECK (kg >= 0),
    quantity TEXT NOT NULL,
    unit TEXT NOT NULL,
    PRIMARY KEY (convoy_id, line_no),
    UNIQUE (convoy_id, commodity_id)
);
CREATE INDEX manifest_lines_commodity ON manifest_lines (commodity_id);

CREATE TABLE events (
    id TEXT PRIMARY KEY NOT NULL,
    convoy_id TEXT NOT NULL REFERENCES convoys(id),
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    checkpoint_id TEXT REFERENCES checkpoints(id),
    observed_at BIGINT NOT NULL,
    observed_offset INTEGER NOT NULL,
    recorded_at BIGINT NOT NULL,
    recorded_by TEXT NOT NULL,
    reason TEXT,
    note TEXT,
    corrects TEXT UNIQUE REFERENCES events(id),
    body_sha256 TEXT NOT NULL,
    UNIQUE (convoy_id, seq)
);
CREATE INDEX events_convoy_observed ON events (convoy_id, observed_at);
CREATE INDEX events_checkpoint ON events (checkpoint_id);

CREATE TABLE event_lines (
    event_id TEXT NOT NULL REFERENCES events(id),
    line_no INTEGER NOT NULL,
    commodity_id TEXT NOT NULL REFERENCES commodities(id),
    kg BIGINT NOT NULL CHECK (kg >= 0),
    quantity TEXT NOT NULL,
    unit TEXT NOT NULL,
    reason TEXT,
    PRIMARY KEY (event_id, line_no)
);

-- Per-convoy, per-commodity figures from the last evaluation of the ledger, so that
-- shortfalls and reports aggregate without replaying events.
CREATE TABLE convoy_figures (
    convoy_id TEXT NOT NULL REFERENCES convoys(id),
    commodity_id TEXT NOT NULL REFERENCES commodities(id),
    planned_kg BIGINT NOT NULL,
    loaded_kg BIGINT NOT NULL,
    delivered_kg BIGINT NOT NULL,
    short_loaded_kg BIGINT NOT NULL,
    denied_kg BIGINT NOT NULL,
    lost_kg BIGINT NOT NULL,
    rejected_kg BIGINT NOT NULL,
    outstanding_kg BIGINT NOT NULL,
    cancelled_kg BIGINT NOT NULL,
    PRIMARY KEY (convoy_id, commodity_id)
);

-- Where cargo was denied or lost: one row per convoy, commodity, checkpoint and reason.
CREATE TABLE convoy_losses (
    convoy_id TEXT NOT NULL REFERENCES convoys(id),
    commodity_id TEXT NOT NULL REFERENCES commodities(id),
    checkpoint_id TEXT NOT NULL REFERENCES checkpoints(id),
    reason TEXT NOT NULL,
    kg BIGINT NOT NULL,
    PRIMARY KEY (convoy_id, commodity_id, checkpoint_id, reason)
);
CREATE INDEX convoy_losses_checkpoint ON convoy_losses (checkpoint_id);
