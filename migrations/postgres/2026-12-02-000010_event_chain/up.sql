-- The tamper-evident ledger: one SHA-256 chain per convoy (docs/src/evidence.md).
-- The columns start empty; right after the migrations run, aidflow computes the chains
-- of every convoy that has none, in Rust (store::chain::fill_missing), since SQLite has
-- no SHA-256 in SQL. Both backends do it the same way.

-- The link of each event: SHA-256(link before || canonical event).
ALTER TABLE events ADD COLUMN chain_sha256 TEXT;
-- Events whose link is still to be computed: empty once it is, so the check at each start
-- costs nothing however long the ledger.
CREATE INDEX events_chain_missing ON events (convoy_id) WHERE chain_sha256 IS NULL;
-- The first link of the convoy's chain (over the convoy and its manifest), and its head
-- (the last event's link), updated with the convoy's other ledger columns.
ALTER TABLE convoys ADD COLUMN chain_genesis TEXT;
ALTER TABLE convoys ADD COLUMN chain_head TEXT;
-- The chain heads a published revision was computed from: a JSON object convoy id →
-- {"seq", "sha256"}, and the root digest over them.
ALTER TABLE report_snapshots ADD COLUMN chain_heads TEXT;
ALTER TABLE report_snapshots ADD COLUMN chain_root TEXT;
