-- Form intakes: KoboToolbox REST services and ODK Collect phones that write events for one
-- organization. The secret is stored only as its SHA-256, like a token's.
CREATE TABLE intakes (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL UNIQUE,
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    secret_hash TEXT NOT NULL,
    secret_hint TEXT NOT NULL,
    -- JSON: aidflow field -> the form's field path (the shipped form needs none)
    mapping TEXT NOT NULL,
    body_sha256 TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Every submission received, whether it became an event or not: its original payload,
-- what became of it, and the event it produced. One row per intake and instance id, so a
-- resent submission is stored once.
CREATE TABLE intake_submissions (
    id TEXT PRIMARY KEY NOT NULL,
    intake_id TEXT NOT NULL REFERENCES intakes(id),
    instance_id TEXT NOT NULL,
    -- the instance id this one replaces after an edit (meta/deprecatedID)
    deprecated_id TEXT,
    -- kobo or odk
    channel TEXT NOT NULL,
    content_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    -- stored (it became an event) or failed (it is waiting to be replayed)
    state TEXT NOT NULL CHECK (state IN ('stored', 'failed')),
    reason TEXT,
    convoy_id TEXT,
    event_id TEXT,
    attempts INTEGER NOT NULL,
    received_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (intake_id, instance_id)
);
CREATE INDEX intake_submissions_event ON intake_submissions (event_id);
CREATE INDEX intake_submissions_state ON intake_submissions (intake_id, state, received_at);
