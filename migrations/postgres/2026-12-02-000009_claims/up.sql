-- Claims: what a source published about a convoy (tonnes, trucks, a link, a quote). They
-- sit beside the ledger and never change its figures. Tonnes are kept as aidflow keeps
-- every quantity: integer kilograms, with the quantity and unit as the client sent them.
CREATE TABLE claims (
    id TEXT PRIMARY KEY NOT NULL,
    convoy_id TEXT NOT NULL REFERENCES convoys(id),
    source TEXT NOT NULL,
    url TEXT,
    published_at BIGINT NOT NULL,
    published_offset INTEGER NOT NULL,
    kg BIGINT NOT NULL CHECK (kg >= 0),
    quantity TEXT NOT NULL,
    unit TEXT NOT NULL,
    trucks INTEGER CHECK (trucks >= 0),
    quote TEXT,
    body_sha256 TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX claims_convoy ON claims (convoy_id, published_at);
