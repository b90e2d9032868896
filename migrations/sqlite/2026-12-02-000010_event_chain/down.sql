ALTER TABLE report_snapshots DROP COLUMN chain_root;
ALTER TABLE report_snapshots DROP COLUMN chain_heads;
ALTER TABLE convoys DROP COLUMN chain_head;
ALTER TABLE convoys DROP COLUMN chain_genesis;
DROP INDEX events_chain_missing;
ALTER TABLE events DROP COLUMN chain_sha256;
