-- Reference data and access tokens.
-- Ids are client-chosen or server-made UUIDs as text; instants are microseconds since the
-- Unix epoch (BIGINT), identical on SQLite and PostgreSQL. body_sha256 is the hash of the
-- canonical create request, so a replayed create can be told from a conflicting one.

CREATE TABLE organizations (
    id TEXT PRIMARY KEY NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    body_sha256 TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE checkpoints (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    lat DOUBLE PRECISION,
    lon DOUBLE PRECISION,
    max_dwell_minutes INTEGER NOT NULL CHECK (max_dwell_minutes > 0),
    body_sha256 TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE commodities (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    -- density in milligrams per litre (0.92 kg/L = 920000), exact
    density_mg_per_l BIGINT CHECK (density_mg_per_l IS NULL OR density_mg_per_l > 0),
    body_sha256 TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE routes (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    body_sha256 TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- The ordered checkpoints of a route; leg_minutes is the expected time from the previous one.
CREATE TABLE route_checkpoints (
    route_id TEXT NOT NULL REFERENCES routes(id),
    position INTEGER NOT NULL CHECK (position >= 0),
    checkpoint_id TEXT NOT NULL REFERENCES checkpoints(id),
    leg_minutes INTEGER NOT NULL CHECK (leg_minutes >= 0),
    PRIMARY KEY (route_id, position)
);
CREATE INDEX route_checkpoints_checkpoint ON route_checkpoints (checkpoint_id);

CREATE TABLE tokens (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'viewer')),
    organization_id TEXT REFERENCES organizations(id),
    -- SHA-256 of the secret; the secret itself is never stored
    token_hash TEXT NOT NULL UNIQUE,
    -- the first characters of the secret, so people can tell their tokens apart
    hint TEXT NOT NULL,
    body_sha256 TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX tokens_organization ON tokens (organization_id);
